"""Uncertainty and sensitivity of the municipality ranking over the index's construction choices (COINr style).

A rank is only as firm as the choices behind it. This module re-builds the overall index under
many combinations of construction choices and reports, per municipality, the median rank and the
5th–95th percentile rank band next to the rank under the nominal choices, plus a per-draw log so a
run can be audited and repeated.

Construction choices (``CHOICES``; the first option of each is the nominal one unless the
parameters say otherwise)
-----------------------------------------------------------------------------------------
``data``
    ``with_simulated`` (complete demonstration panel, simulated cells labelled) or
    ``published_only`` (the sparse published/city-supplied panel). The nominal option follows the
    ``include_simulated`` parameter. Fixed at the nominal option in the rank bands and Sobol
    indices, and compared explicitly in :func:`data_sensitivity` (see below).
``target_set``
    ``default`` or ``national`` (analysis/targets.py; the national set overrides a few targets).
    The nominal option follows the ``target_set`` parameter.
``goalposts``
    The worst bound of every data point (``analysis.targets.GOALPOST_RULES``): ``documented``,
    each data point's own ``worst_rule`` of ``data/raw/targets.csv`` (0 for higher-is-better ratio
    scales, SDSN's percentile for lower-is-better ones, a sourced reference where a set gives one);
    ``percentile``, SDSN's 2.5th (97.5th when lower is better) percentile of the panel for every
    data point.
``tolerance``
    The share of the goalpost span within which a value counts as at target and scores 100 %:
    ``0.01`` (:data:`analysis.scoring.TARGET_TOLERANCE`) or ``0`` (only a value at or past the
    target scores 100 %).
``outliers``
    ``none`` or ``coinr``: COINr's default outlier treatment applied per data point to the oriented
    (uncapped) achievement across the municipalities, before capping and normalising
    (:func:`treat_outliers`): a data point passes when ``|skew| < 2`` or ``kurtosis < 3.5``
    (sample skewness and excess kurtosis with small-sample adjustment, as COINr's ``skew`` /
    ``kurt``); otherwise its most extreme value on the side of the skew is winsorised (set to
    the next value), one point at a time, up to 5 points, until it passes; if it still fails,
    the original values are log-transformed instead (COINr's ``log_CT_plus``,
    ``log(x − min + 0.01·(max − min))``, mirrored for negative skew), rescaled onto the data
    point's original range so that its goalposts still apply. The achievement is an increasing
    affine transform of the oriented value, so treating it treats the value.
``normalisation``
    ``goalposts``: the project's achievement ``100·(x − worst)/(target − worst)`` capped to [0, 100]
    (analysis/scoring.py); ``minmax``: ``100·(a − min)/(max − min)`` over the municipalities
    reporting the data point, ``a`` being the *uncapped* achievement, which is an increasing affine
    (or, for a target band, monotone) transform of the value in the good direction, so this is the
    direction-aware min-max of the value itself; ``rank``: the percentile rank
    ``100·(r − 1)/(n − 1)`` of the same oriented value (average ranks for ties). Min-max and rank
    need at least two distinct values; otherwise the data point carries no comparative
    information and drops out (NaN) under those options. A z-score is not offered because
    negative values cannot enter the geometric mean; the rank option is its scale-free substitute.
``missing``
    ``drop``: an unreported data point drops out of the mean (U4SSC's rule); ``impute``: it takes
    the panel median of the normalised values of that data point. Only municipalities with at
    least one normalised value are imputed: a whole profile is never invented, so a municipality
    without data stays unranked.
``aggregation``
    ``arithmetic`` or ``geometric`` mean, used at both levels (data points → dimension, dimensions
    → index, the latter weighted). The geometric mean floors values at :data:`GEOMETRIC_FLOOR`
    (1 on the 0–100 scale) so that a single 0 does not zero a whole dimension.
weights
    Dimension weights around the nominal ones (parameters ``weights``): ``uniform`` (the default,
    as JRC/COINr audits do) multiplies each nominal weight by ``U(1 − spread, 1 + spread)``,
    ``spread`` = 0.25; ``dirichlet`` draws ``w ~ Dirichlet(concentration · nominal share)`` (mean =
    nominal shares; concentration 10 gives about 43 % coefficient of variation per weight, far
    more noise than ±25 %); ``fixed`` keeps the nominal weights.

Leave one data point out (:func:`leave_one_out`): under the nominal choices, the index and the
ranks with each data point removed in turn, and how far the ranks move (COINr's
``remove_elements``).

The same production scoring: every option matrix starts from a scored frame of the production
code: ``Assessment.scored`` of :func:`analysis.assess.assess` for each (data, target set), and
:func:`analysis.assess.score` (the same goalposts and :func:`analysis.scoring.score_data_points`
that ``assess`` runs) on that assessment's baseline for each other goalpost rule and tolerance;
under the nominal choices (documented goalposts, tolerance 0.01, goalpost normalisation, no outlier
treatment, drop, arithmetic) the dimension scores and the index are those of
:func:`analysis.scoring.aggregate` and :func:`analysis.scoring.overall_index` (tested). A further
assessment-level choice is added the same way: one more entry in ``ASSESSMENT_CHOICES``.

Which municipalities are ranked: one set per analysis
------------------------------------------------------
A rank band only means something if every draw ranks the *same* municipalities: rank 3 among 4
and rank 3 among 17 are different statements. Two rules make sure of it.

1. **The data choice is not mixed into the rank bands.** Under ``published_only`` only the few
   municipalities with published values get an index (in the 2020 panel 4 of the 17 under
   goalposts, 2 under min-max or rank normalisation, which need two distinct values per data
   point). Drawing it together with ``with_simulated`` would pour ranks among 2–4 and ranks
   among 17 into the same percentiles, and the Sobol indices would mostly measure how many
   municipalities are ranked.
   :func:`monte_carlo_ranks` and :func:`sobol_indices` therefore keep ``data`` fixed at its
   nominal option unless the caller varies it explicitly, and :func:`data_sensitivity` makes the
   comparison "published only versus with simulated values" an explicit table of its own.
2. **Ranks are taken among the municipalities that have an index under every combination of the
   choices actually varied** (:func:`rankable`; with positive nominal weight on a dimension they
   report). Every draw ranks exactly this set (``n_ranked`` in the log is constant); a
   municipality outside it has no band, and ``reason`` says under which options it has no index.
   The nominal rank is the rank among the same set under the nominal choices (a choice restricted
   to options without its nominal one takes its first allowed option instead).

Ranks are competition ranks (1 = best, ties share the lowest rank); index values are rounded to
:data:`TIE_DECIMALS` decimals first, so that equal scores computed along different floating-point
paths tie.

Data sensitivity (:func:`data_sensitivity`): for the municipalities with an index under both
data options and every combination of the other varied choices, their rank among that common set
with simulated values and from published values only, under the nominal choices and as the median
over paired draws of the other choices (each draw evaluated under both data options), and the
share of draws in which the two ranks differ. The table also says, for every municipality,
whether it has an index from published values alone under the nominal choices, and why it is not
compared otherwise.

Interface (notebook use)::

    inputs = uncertainty.prepare(values)          # 4 assessment runs, 16 scored frames, ~2 s CPU
    bands, log = uncertainty.monte_carlo_ranks(inputs, draws=10_000, seed=values["seed"])
    sobol = uncertainty.sobol_indices(inputs, n_base=256, seed=values["seed"])
    by_data = uncertainty.data_sensitivity(inputs, draws=10_000, seed=values["seed"])

Vectorisation: ``prepare`` builds, for every combination of the discrete choices, the
municipality × data point matrix of normalised values (with scores from analysis.assess) and
from it the municipality × dimension scores for both aggregations. A draw then only gathers one
of these small matrices and applies its weight vector, so the draws of one combination are
computed together with numpy, in chunks of at most :data:`CHUNK` draws that stay in cache
(:func:`rank_statistics`, which keeps only each draw's rank shift and the rank counts the bands
are read from); :func:`per_draw_loop` is the plain per-draw pandas implementation used as a test
oracle and for the benchmark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis import assess as assess_module
from analysis import params as params_module
from analysis import scoring, targets

TOLERANCES = (f"{scoring.TARGET_TOLERANCE:g}", "0")
"""At-target tolerance options (a share of the goalpost span; the first is scoring's)."""
CHOICES: dict[str, tuple[str, ...]] = {
    "data": ("with_simulated", "published_only"),
    "target_set": (targets.DEFAULT_SET, "national"),
    "goalposts": targets.GOALPOST_RULES,
    "tolerance": TOLERANCES,
    "outliers": ("none", "coinr"),
    "normalisation": ("goalposts", "minmax", "rank"),
    "missing": ("drop", "impute"),
    "aggregation": ("arithmetic", "geometric"),
}
"""Discrete construction choices and their options (see the module docstring)."""
DISCRETE = tuple(CHOICES)
ASSESSMENT_CHOICES = ("data", "target_set", "goalposts", "tolerance")
"""The choices that need their own scored frame (one production scoring run each); keys of ``Inputs.scored``."""
MATRIX_CHOICES = (*ASSESSMENT_CHOICES, "outliers", "normalisation", "missing")
"""The choices that change the municipality × data point matrix (aggregation acts on it)."""
GEOMETRIC_FLOOR = 1.0
SKEW_LIMIT, KURTOSIS_LIMIT, WINSORISE_MAX = 2.0, 3.5, 5
"""COINr's default outlier rule: pass if |skew| < 2 or kurtosis < 3.5; winsorise at most 5 points, else log."""
DEFAULT_WEIGHTS = "uniform"
DEFAULT_SPREAD = 0.25
TIE_DECIMALS = 9
WeightMode = Literal["dirichlet", "uniform", "fixed"]


@dataclass(frozen=True)
class Inputs:
    """Everything the Monte Carlo needs, precomputed once per panel and parameter set.

    ``dimension_scores`` has shape (data, target_set, goalposts, tolerance, outliers, normalisation,
    missing, aggregation, municipality, dimension) following ``options``; ``scored`` keeps the tidy
    scored frames per :data:`ASSESSMENT_CHOICES` key (data, target set, goalposts, tolerance), with
    the outlier-treated achievement beside the plain one, for the per-draw oracle; ``treatments``
    says per key and data point what the outlier rule did.
    """

    municipalities: list[str]
    dimensions: list[str]
    data_points: list[str]
    dimension_of: np.ndarray
    options: dict[str, tuple[str, ...]]
    nominal: dict[str, str]
    nominal_weights: np.ndarray
    scored: dict[tuple[str, str], pd.DataFrame]
    matrices: np.ndarray
    dimension_scores: np.ndarray
    share_simulated: pd.Series
    treatments: pd.DataFrame


# --------------------------------------------------------------------------------------------
# preparation


def prepare(values: dict[str, Any], obs: pd.DataFrame | None = None,
            target_sets: Sequence[str] = CHOICES["target_set"],
            data_options: Sequence[str] = CHOICES["data"], goalpost_rules: Sequence[str] = CHOICES["goalposts"],
            tolerances: Sequence[str] = CHOICES["tolerance"], **assess_kwargs: Any) -> Inputs:
    """Run analysis.assess once per (data, target set) option, re-score per goalpost rule and tolerance, and
    precompute every option matrix.

    ``values`` are parameters from analysis.params.load; their ``include_simulated``,
    ``target_set`` and ``weights`` give the nominal choices. ``obs`` and ``assess_kwargs`` are
    passed to :func:`analysis.assess.assess`. The nominal goalpost rule and tolerance give the
    assessment's own scored frame; the others re-score its baseline with :func:`analysis.assess.score`.
    """
    scored: dict[tuple[str, ...], pd.DataFrame] = {}
    names: list[str] | None = None
    target_table = assess_kwargs.get("target_table")
    for data, target_set in product(data_options, target_sets):
        run = dict(values, include_simulated=(data == "with_simulated"), target_set=target_set)
        result = (assess_module.stage(run) if obs is None and not assess_kwargs
                  else assess_module.assess(run, obs=obs, **assess_kwargs))
        names = result.municipalities if names is None else names
        for rule, tolerance in product(goalpost_rules, tolerances):
            if (rule, tolerance) == (CHOICES["goalposts"][0], CHOICES["tolerance"][0]):
                scored[(data, target_set, rule, tolerance)] = result.scored
                continue
            if target_table is None:
                target_table = targets.load(cat=result.catalogue)
            selected = targets.select(target_table, target_set)
            scored[(data, target_set, rule, tolerance)] = assess_module.score(
                result.baseline, selected, result.catalogue, rule, float(tolerance))[1]
    nominal = {"data": "with_simulated" if values["include_simulated"] else "published_only",
               "target_set": values["target_set"]}
    return from_scored(scored, names or [], weights=params_module.dimension_weights(values), nominal=nominal)


def from_scored(scored: Mapping[tuple[str, ...], pd.DataFrame], municipalities: Sequence[str],
                weights: Mapping[str, float] | None = None, nominal: Mapping[str, str] | None = None,
                dimensions: Sequence[str] | None = None) -> Inputs:
    """Inputs from scored frames keyed by (data, target set, goalposts, tolerance), e.g. ``Assessment.scored``.

    Each frame needs municipality, data_point_id, dimension, direction, source_type, achievement
    and achievement_raw. Descriptive data points and rows without direction are left out.
    """
    keys = list(scored)
    if any(len(k) != len(ASSESSMENT_CHOICES) for k in keys):
        raise ValueError(f"scored frames must be keyed by {list(ASSESSMENT_CHOICES)}")
    key_options = {name: tuple(dict.fromkeys(k[i] for k in keys)) for i, name in enumerate(ASSESSMENT_CHOICES)}
    missing_keys = [k for k in product(*key_options.values()) if k not in scored]
    if missing_keys:
        raise ValueError(f"scored frames missing for {missing_keys}; give every combination of "
                         f"{list(ASSESSMENT_CHOICES)}")
    frames = {k: _scoreable(v) for k, v in scored.items()}
    names = list(municipalities)
    all_frames = pd.concat(frames.values(), ignore_index=True)
    dims = list(dimensions) if dimensions is not None else sorted(all_frames["dimension"].dropna().unique())
    dp_dim = all_frames.drop_duplicates("data_point_id").set_index("data_point_id")["dimension"]
    dps = sorted(dp_dim.index, key=lambda d: (dims.index(dp_dim[d]), d))
    dimension_of = np.array([dims.index(dp_dim[d]) for d in dps])
    options = {name: key_options.get(name, CHOICES[name]) for name in CHOICES}
    nominal_choice = {name: opts[0] for name, opts in options.items()}
    nominal_choice.update({k: v for k, v in (nominal or {}).items() if k in options})
    for name, choice in nominal_choice.items():
        if choice not in options[name]:
            raise ValueError(f"nominal {name} '{choice}' is not among the options {list(options[name])}")
    w = {k.casefold(): float(v) for k, v in (weights or {}).items()}
    nominal_weights = np.array([w.get(d.casefold(), 1.0) for d in dims])
    if nominal_weights.sum() <= 0:
        raise ValueError("dimension weights must not all be zero")
    shape = tuple(len(options[name]) for name in MATRIX_CHOICES)
    matrices = np.full(shape + (len(names), len(dps)), np.nan)
    treatments = []
    for at in product(*(range(len(key_options[name])) for name in ASSESSMENT_CHOICES)):
        key = tuple(key_options[name][i] for name, i in zip(ASSESSMENT_CHOICES, at))
        frames[key], how = _with_treated(frames[key])
        treatments.append(how.assign(**dict(zip(ASSESSMENT_CHOICES, key))))
        for o, outliers in enumerate(options["outliers"]):
            suffix = "" if outliers == "none" else f"_{outliers}"
            capped = _matrix(frames[key], names, dps, "achievement" + suffix)
            raw = _matrix(frames[key], names, dps, "achievement_raw" + suffix)
            for k, norm in enumerate(options["normalisation"]):
                normalised = normalise_matrix(capped, raw, norm)
                for m, treatment in enumerate(options["missing"]):
                    matrices[(*at, o, k, m)] = impute_matrix(normalised) if treatment == "impute" else normalised
    membership = np.eye(len(dims))[dimension_of]  # data point × dimension indicator
    dimension_scores = np.stack([_dimension_means(matrices, membership, agg) for agg in options["aggregation"]],
                                axis=len(MATRIX_CHOICES))
    nominal_frame = frames[tuple(nominal_choice[name] for name in ASSESSMENT_CHOICES)]
    with_score = nominal_frame[nominal_frame["achievement"].notna()]
    share = with_score["source_type"].eq("simulated").groupby(with_score["municipality"]).mean()
    return Inputs(municipalities=names, dimensions=dims, data_points=dps, dimension_of=dimension_of,
                  options=options, nominal=nominal_choice, nominal_weights=nominal_weights,
                  scored=frames, matrices=matrices, dimension_scores=dimension_scores,
                  share_simulated=share.reindex(names).rename("share_simulated"),
                  treatments=pd.concat(treatments, ignore_index=True)[TREATMENT_COLUMNS])


def _scoreable(frame: pd.DataFrame) -> pd.DataFrame:
    keep = frame["direction"].notna() & frame["direction"].ne("descriptive")
    return frame.loc[keep, ["municipality", "data_point_id", "dimension", "source_type",
                            "achievement", "achievement_raw"]].reset_index(drop=True)


TREATMENT_COLUMNS = [*ASSESSMENT_CHOICES, "data_point_id", "n", "skew", "kurtosis", "treatment", "n_winsorised",
                     "skew_after", "kurtosis_after"]


def nominal_treatments(inputs: Inputs) -> pd.DataFrame:
    """What the outlier rule does to each data point under the nominal assessment options."""
    frame = inputs.treatments
    chosen = np.logical_and.reduce([frame[name] == inputs.nominal[name] for name in ASSESSMENT_CHOICES])
    return frame[chosen].reset_index(drop=True)


def skew_kurtosis(x: np.ndarray) -> tuple[float, float]:
    """Sample skewness and excess kurtosis with the small-sample adjustment (Excel's SKEW and KURT, as COINr)."""
    n = len(x)
    if n < 4 or np.ptp(x) == 0:
        return np.nan, np.nan
    d = x - x.mean()   # the moments by hand: scipy.stats.skew(bias=False) costs 1 ms a call, prepare makes thousands
    m2, m3, m4 = (d * d).mean(), (d ** 3).mean(), (d ** 4).mean()
    skew = m3 / m2 ** 1.5 * np.sqrt(n * (n - 1)) / (n - 2)
    kurt = ((n + 1) * (m4 / m2 ** 2 - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    return float(skew), float(kurt)


def _passes(x: np.ndarray) -> bool:
    skew, kurt = skew_kurtosis(x)
    return bool(np.isnan(skew) or abs(skew) < SKEW_LIMIT or kurt < KURTOSIS_LIMIT)


def treat_outliers(x: np.ndarray) -> tuple[np.ndarray, str, int]:
    """COINr's default outlier treatment of one data point's values: (treated values, treatment, points winsorised).

    Treatment is ``none`` (passes as it is), ``winsorised`` (1–5 points) or ``log`` (see the module docstring).
    """
    x = np.asarray(x, dtype=float)
    if _passes(x):
        return x.copy(), "none", 0
    treated = x.copy()
    for k in range(1, WINSORISE_MAX + 1):
        skew, _ = skew_kurtosis(treated)
        if skew > 0:
            i = int(np.argmax(treated))
            treated[i] = np.max(np.delete(treated, i))
        else:
            i = int(np.argmin(treated))
            treated[i] = np.min(np.delete(treated, i))
        if _passes(treated):
            return treated, "winsorised", k
    return log_rescaled(x), "log", 0


def log_rescaled(x: np.ndarray) -> np.ndarray:
    """``log_CT_plus`` (``log(x − min + a)``, a = 1 % of the range; mirrored for negative skew) rescaled to x's range."""
    lo, hi = float(np.min(x)), float(np.max(x))
    a = 0.01 * (hi - lo)
    y = np.log(x - lo + a) if stats.skew(x) >= 0 else -np.log(hi + a - x)  # the sign needs no adjustment
    return lo + (hi - lo) * (y - y.min()) / (y.max() - y.min())


def _with_treated(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame with ``achievement_raw_coinr`` / ``achievement_coinr`` (treated, then capped), and what was done."""
    out = frame.copy()
    out["achievement_raw_coinr"] = out["achievement_raw"]
    rows = []
    for dp, index in out[out["achievement_raw"].notna()].groupby("data_point_id").groups.items():
        x = out.loc[index, "achievement_raw"].to_numpy(dtype=float)
        treated, how, k = treat_outliers(x)
        out.loc[index, "achievement_raw_coinr"] = treated
        before, after = skew_kurtosis(x), skew_kurtosis(treated)
        rows.append({"data_point_id": dp, "n": len(x), "skew": before[0], "kurtosis": before[1], "treatment": how,
                     "n_winsorised": k, "skew_after": after[0], "kurtosis_after": after[1]})
    out["achievement_coinr"] = np.clip(out["achievement_raw_coinr"], 0.0, 100.0)  # scoring's cap
    return out, pd.DataFrame(rows, columns=TREATMENT_COLUMNS[len(ASSESSMENT_CHOICES):])


def _matrix(frame: pd.DataFrame, names: list[str], dps: list[str], column: str) -> np.ndarray:
    wide = frame.pivot_table(index="municipality", columns="data_point_id", values=column, aggfunc="first",
                             dropna=False)
    return wide.reindex(index=names, columns=dps).to_numpy(dtype=float)


def normalise_matrix(capped: np.ndarray, raw: np.ndarray, method: str) -> np.ndarray:
    """Normalised values (0–100, higher is better) of a municipality × data point matrix, per column.

    ``capped`` is the goalpost achievement capped to [0, 100], ``raw`` the uncapped achievement.
    """
    if method == "goalposts":
        return capped.copy()
    if method == "minmax":
        with np.errstate(invalid="ignore", divide="ignore"), _quiet():
            lo, hi = np.nanmin(raw, axis=0), np.nanmax(raw, axis=0)
            span = np.where(hi > lo, hi - lo, np.nan)
            return 100.0 * (raw - lo) / span
    if method == "rank":
        ranks = stats.rankdata(raw, method="average", axis=0, nan_policy="omit")
        n = np.sum(~np.isnan(raw), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"), _quiet():
            distinct = np.nanmax(raw, axis=0) > np.nanmin(raw, axis=0)
        denominator = np.where((n >= 2) & distinct, n - 1, np.nan)
        return 100.0 * (ranks - 1.0) / denominator
    raise ValueError(f"unknown normalisation '{method}'; expected one of {list(CHOICES['normalisation'])}")


def impute_matrix(normalised: np.ndarray) -> np.ndarray:
    """Missing cells take the column (data point) median, for municipalities with at least one value."""
    present = ~np.isnan(normalised)
    with _quiet():
        median = np.nanmedian(normalised, axis=0)
    fill = ~present & present.any(axis=1, keepdims=True)
    return np.where(fill, np.broadcast_to(median, normalised.shape), normalised)


def _dimension_means(matrices: np.ndarray, membership: np.ndarray, aggregation: str) -> np.ndarray:
    """Mean per dimension over the non-missing data points, along the last axis (matmul with the indicator)."""
    present = ~np.isnan(matrices)
    count = present.astype(float) @ membership
    if aggregation == "arithmetic":
        total = np.where(present, matrices, 0.0) @ membership
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)
    logs = np.where(present, np.log(np.clip(np.where(present, matrices, 1.0), GEOMETRIC_FLOOR, None)), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.exp((logs @ membership) / count), np.nan)


class _quiet:
    """Silence numpy's all-NaN RuntimeWarnings inside a block (all-NaN columns are expected here)."""

    def __enter__(self) -> None:
        import warnings
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


# --------------------------------------------------------------------------------------------
# draws


def weight_columns(inputs: Inputs) -> list[str]:
    """The log's weight column names, one per dimension."""
    return [f"w_{d}" for d in inputs.dimensions]


def sample_design(inputs: Inputs, draws: int, seed: int, choices: Mapping[str, Sequence[str]] | None = None,
                  weights: WeightMode = DEFAULT_WEIGHTS, concentration: float = 10.0,
                  spread: float = DEFAULT_SPREAD) -> pd.DataFrame:
    """The per-draw log of choices: each discrete choice uniform over its allowed options, then weights.

    ``choices`` restricts options per choice (a one-element list fixes it); choices not named are
    sampled over all options of ``inputs``. Weights are normalised to sum to 1.
    """
    rng = np.random.default_rng(seed)
    allowed = _allowed(inputs, choices)
    log = pd.DataFrame({"draw": np.arange(draws)})
    for name in DISCRETE:
        opts = allowed[name]
        log[name] = np.asarray(opts, dtype=object)[rng.integers(0, len(opts), size=draws)]
    share = inputs.nominal_weights / inputs.nominal_weights.sum()
    if weights == "dirichlet":
        w = rng.dirichlet(concentration * np.where(share > 0, share, 1e-12), size=draws)
    elif weights == "uniform":
        w = share * rng.uniform(1.0 - spread, 1.0 + spread, size=(draws, len(share)))
    elif weights == "fixed":
        w = np.tile(share, (draws, 1))
    else:
        raise ValueError(f"unknown weights mode '{weights}'; expected dirichlet, uniform or fixed")
    w = w / w.sum(axis=1, keepdims=True)
    for column, values in zip(weight_columns(inputs), w.T):
        log[column] = values
    return log


def _allowed(inputs: Inputs, choices: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    out = dict(inputs.options)
    for name, opts in (choices or {}).items():
        if name not in out:
            raise ValueError(f"unknown construction choice '{name}'; expected one of {list(out)}")
        bad = [o for o in opts if o not in inputs.options[name]]
        if bad or not opts:
            raise ValueError(f"options {bad or opts} of '{name}' not available; expected some of {list(out[name])}")
        out[name] = tuple(opts)
    return out


def draw_index(inputs: Inputs, log: pd.DataFrame) -> np.ndarray:
    """Index value per draw × municipality for the choices in ``log`` (vectorised; NaN = no index).

    Draws are grouped by their combination of discrete options (at most a few hundred), so each
    group is two small matrix products of its weights with that combination's dimension scores.
    """
    scores, combo, weights, geometric = _draw_arrays(inputs, log)
    out = np.empty((len(log), scores.shape[1]))
    for c, rows in _groups(combo):
        out[rows] = _weighted_index(scores[c], weights[rows], bool(geometric[c]))
    return out


def _draw_arrays(inputs: Inputs, log: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per combination the dimension scores (combination × municipality × dimension), each draw's combination,
    the draws' weights and per combination whether it aggregates geometrically."""
    codes = [_codes(log[name], inputs.options[name]) for name in DISCRETE]
    if any((c < 0).any() for c in codes):
        raise ValueError("log holds options that the inputs do not have")
    shape = inputs.dimension_scores.shape
    scores = inputs.dimension_scores.reshape((-1,) + shape[len(DISCRETE):])
    combo = np.ravel_multi_index(tuple(np.asarray(c, dtype=np.intp) for c in codes), shape[:len(DISCRETE)])
    aggregation = np.unravel_index(np.arange(len(scores)), shape[:len(DISCRETE)])[DISCRETE.index("aggregation")]
    geometric = np.asarray(inputs.options["aggregation"], dtype=object)[aggregation] == "geometric"
    return scores, combo, log[weight_columns(inputs)].to_numpy(dtype=float), geometric


def _codes(column: pd.Series, options: Sequence[str]) -> np.ndarray:
    """Each entry's position in ``options`` (−1 if none): one comparison per option, faster than hashing strings."""
    codes = np.full(len(column), -1, dtype=np.intp)
    for i, option in enumerate(options):
        codes[(column == option).to_numpy(dtype=bool)] = i
    return codes


def _groups(combo: np.ndarray, chunk: int | None = None) -> list[tuple[int, np.ndarray]]:
    """The draws of each combination (ascending), in pieces of at most ``chunk`` draws."""
    order = np.argsort(combo, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(combo[order]) != 0])
    out = []
    for rows in np.split(order, starts[1:]):
        step = chunk or len(rows)
        out.extend((int(combo[rows[0]]), rows[i:i + step]) for i in range(0, len(rows), step))
    return out


def _weighted_index(scores: np.ndarray, weights: np.ndarray, geometric: bool) -> np.ndarray:
    """Weighted arithmetic or geometric mean of municipality × dimension ``scores`` for each row of ``weights``.

    Dimensions without a score drop out of a municipality's mean (its weights are renormalised);
    a municipality whose scored dimensions all have weight 0 has no index (NaN).
    """
    present = ~np.isnan(scores)
    values = np.where(present, scores, 1.0)
    values = np.log(np.clip(values, GEOMETRIC_FLOOR, None)) if geometric else values
    total_weight = weights @ present.T.astype(float)                       # rows × municipality
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (weights @ np.where(present, values, 0.0).T) / total_weight
    index = np.exp(mean) if geometric else mean
    return np.where(total_weight > 0, index, np.nan)


def rank_index(index: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """Competition ranks (1 = best) along the last axis; NaN stays NaN.

    ``among`` (boolean per municipality) restricts the ranking to those columns; the others are NaN.
    """
    if among is not None:
        index = np.where(np.asarray(among, dtype=bool), index, np.nan)
    rows = np.atleast_2d(index)
    columns = ~np.isnan(rows).all(axis=0)
    if not np.isnan(rows[:, columns]).any():   # the same set in every row: rank it without NaN handling
        out = np.full(rows.shape, np.nan)
        out[:, columns] = competition_ranks(np.round(rows[:, columns], TIE_DECIMALS))
        return out.reshape(np.shape(index))
    return stats.rankdata(-np.round(index, TIE_DECIMALS), method="min", axis=-1, nan_policy="omit")


def competition_ranks(values: np.ndarray) -> np.ndarray:
    """Competition ranks of each row, highest value first (``rankdata(-x, method="min")`` without NaN, faster).

    One argsort per row, then ties take the first position of their run; about twice as
    fast as scipy.stats.rankdata on 10 000 × 357 draws (the benchmark's scale panel).
    """
    rows = np.atleast_2d(values)
    order = np.argsort(-rows, axis=-1)  # the order within a tie does not change its rank
    ordered = np.take_along_axis(rows, order, axis=-1)
    n = rows.shape[-1]
    first = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ranks = np.maximum.accumulate(np.where(first, np.arange(1, n + 1, dtype=np.int32), 0), axis=-1)
    out = np.empty(rows.shape)
    out[np.arange(len(rows))[:, None], order] = ranks
    return out.reshape(np.shape(values))


def draw_ranks(inputs: Inputs, log: pd.DataFrame, among: Sequence[str] | None = None) -> pd.DataFrame:
    """Ranks per draw (rows, indexed by ``log['draw']``) and municipality (columns), vectorised.

    ``among`` names the municipalities to rank; by default every municipality with an index in
    that draw (so the set can differ between draws; :func:`monte_carlo_ranks` never does that).
    """
    mask = None if among is None else np.isin(inputs.municipalities, list(among))
    ranks = rank_index(draw_index(inputs, log), mask)
    return pd.DataFrame(ranks, index=pd.Index(log["draw"].to_numpy(), name="draw"), columns=inputs.municipalities)


def main_choices(inputs: Inputs, choices: Mapping[str, Sequence[str]] | None = None) -> dict[str, tuple[str, ...]]:
    """The options allowed in the rank bands: ``choices`` where given, ``data`` fixed at nominal otherwise."""
    return _allowed(inputs, {"data": [inputs.nominal["data"]], **dict(choices or {})})


def reference_choices(inputs: Inputs, allowed: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The nominal choices projected on ``allowed``: a choice whose nominal option is not allowed takes its first."""
    return {name: inputs.nominal[name] if inputs.nominal[name] in allowed[name] else allowed[name][0]
            for name in DISCRETE}


def nominal_log(inputs: Inputs, choices: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A one-row log with the nominal choices (or ``choices`` where given) and the nominal weights."""
    row: dict[str, Any] = {"draw": [0], **{k: [v] for k, v in {**inputs.nominal, **dict(choices or {})}.items()}}
    share = inputs.nominal_weights / inputs.nominal_weights.sum()
    row.update({c: [w] for c, w in zip(weight_columns(inputs), share)})
    return pd.DataFrame(row)


def _combinations(inputs: Inputs, allowed: Mapping[str, Sequence[str]]) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Every combination of the allowed discrete options, and per combination × municipality: has an index.

    A municipality has an index when it has a score in at least one dimension of positive nominal
    weight (the weight modes keep zero nominal weights at zero and positive ones positive).
    """
    combos = list(product(*(allowed[name] for name in DISCRETE)))
    codes = tuple(np.array([inputs.options[name].index(c[i]) for c in combos]) for i, name in enumerate(DISCRETE))
    scores = inputs.dimension_scores[codes]                          # combination × municipality × dimension
    positive = inputs.nominal_weights > 0
    return combos, (~np.isnan(scores) & positive).any(axis=2)


def rankable(inputs: Inputs, allowed: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Per municipality: ranked (an index under every allowed combination of options) and, if not, why.

    Columns: municipality, ranked, n_combinations_with_index, n_combinations, reason.
    """
    combos, has = _combinations(inputs, allowed)
    ranked = has.all(axis=0)
    reasons = []
    for m in range(len(inputs.municipalities)):
        reasons.append("" if ranked[m] else _why_unranked(combos, has[:, m], allowed))
    return pd.DataFrame({"municipality": inputs.municipalities, "ranked": ranked,
                         "n_combinations_with_index": has.sum(axis=0), "n_combinations": len(combos),
                         "reason": reasons})


def _why_unranked(combos: list[tuple[str, ...]], has: np.ndarray, allowed: Mapping[str, Sequence[str]]) -> str:
    """The single options, then the pairs of options, under which the municipality never has an index."""
    if not has.any():
        return "no index under any of the choices (no scoreable values)"
    varied = [i for i, name in enumerate(DISCRETE) if len(allowed[name]) > 1]

    def never(conditions: tuple[tuple[int, str], ...]) -> bool:
        return not any(h for c, h in zip(combos, has) if all(c[i] == o for i, o in conditions))

    singles = [((i, o),) for i in varied for o in allowed[DISCRETE[i]] if never(((i, o),))]
    explained = {cond[0] for cond in singles}
    pairs = [((i, o), (j, q)) for k, i in enumerate(varied) for j in varied[k + 1:]
             for o in allowed[DISCRETE[i]] for q in allowed[DISCRETE[j]]
             if (i, o) not in explained and (j, q) not in explained and never(((i, o), (j, q)))]
    causes = [" with ".join(f"{DISCRETE[i]}={o}" for i, o in cond) for cond in singles + pairs]
    if causes:
        return "no index under " + ", ".join(causes)
    return f"no index under {int((~has).sum())} of {len(combos)} combinations of the varied choices"


def _checked_index(inputs: Inputs, log: pd.DataFrame, ranked: np.ndarray) -> np.ndarray:
    index = draw_index(inputs, log)
    lost = np.isnan(index[:, ranked])
    if lost.any():
        draw = int(np.argmax(lost.any(axis=1)))
        raise RuntimeError(f"draw {int(log['draw'].iloc[draw])} has no index for a municipality that should be "
                           "ranked under every choice (a sampled weight of 0?)")
    return index


def monte_carlo_ranks(inputs: Inputs, draws: int, seed: int, choices: Mapping[str, Sequence[str]] | None = None,
                      weights: WeightMode = DEFAULT_WEIGHTS, concentration: float = 10.0,
                      spread: float = DEFAULT_SPREAD) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank bands per municipality over ``draws`` random construction choices, and the per-draw log.

    ``choices`` restricts options per choice; ``data`` is fixed at its nominal option unless given
    here (see the module docstring). Every draw ranks the same municipalities: those with an index
    under every combination of the allowed options (:func:`rankable`).
    Bands: municipality, ranked, nominal_rank (under the reference choices of
    :func:`reference_choices`), median_rank, p5_rank, p95_rank, n_ranked (size of the ranked set),
    share_simulated (of its scored values under the reference data choice) and reason (why a
    municipality is not ranked). Sorted by median rank.
    Log: draw, one column per construction choice, w_<dimension> per dimension, n_ranked and
    mean_abs_rank_shift (mean |rank − nominal rank| over the ranked municipalities).
    The same ``seed`` gives the same log and bands.
    """
    allowed = main_choices(inputs, choices)
    status = rankable(inputs, allowed)
    ranked = status["ranked"].to_numpy()
    log = sample_design(inputs, draws, seed, allowed, weights, concentration, spread)
    reference = nominal_log(inputs, reference_choices(inputs, allowed))
    nominal = rank_index(_checked_index(inputs, reference, ranked), ranked)[0]
    shift, counts = rank_statistics(inputs, log, ranked, nominal)
    log["n_ranked"] = int(ranked.sum())
    log["mean_abs_rank_shift"] = shift
    share = _share_simulated(inputs, reference.iloc[0])
    return _bands(inputs, ranked, counts, nominal, status["reason"].to_numpy(), share), log


CHUNK = 2048
"""Draws ranked at a time: a chunk's index and rank arrays (2 048 × 357 × 8 bytes, 6 MB) stay in cache."""


def rank_statistics(inputs: Inputs, log: pd.DataFrame, ranked: np.ndarray,
                    nominal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per draw the mean |rank − nominal rank| over ``ranked``, and how often each municipality takes each rank.

    The same ranks as ``rank_index(draw_index(...), ranked)`` (tested), computed a chunk of one
    combination of choices at a time and never stored whole: ``counts[m, r − 1]`` is the number of
    draws in which municipality m has rank r (zero rows for those not ranked), from which
    :func:`percentile_of_counts` gives the bands exactly.
    """
    ranked = np.asarray(ranked, dtype=bool)
    columns = np.flatnonzero(ranked)
    n = len(columns)
    scores, combo, weights, geometric = _draw_arrays(inputs, log)
    scores = scores[:, columns]
    shift = np.full(len(log), np.nan)
    counts = np.zeros((len(inputs.municipalities), max(n, 1)), dtype=np.int64)
    if n == 0:
        return shift, counts
    offset = np.arange(n) * n
    flat = np.zeros(n * n, dtype=np.int64)
    for c, rows in _groups(combo, CHUNK):
        index = _weighted_index(scores[c], weights[rows], bool(geometric[c]))
        if np.isnan(index).any():
            raise RuntimeError(f"draw {int(log['draw'].iloc[rows[np.isnan(index).any(axis=1)][0]])} has no index "
                               "for a municipality that should be ranked under every choice (a sampled weight of 0?)")
        ranks = competition_ranks(np.round(index, TIE_DECIMALS))
        shift[rows] = np.abs(ranks - nominal[columns]).mean(axis=1)
        flat += np.bincount((ranks.astype(np.int64) - 1 + offset).ravel(), minlength=n * n)
    counts[columns, :n] = flat.reshape(n, n)
    return shift, counts


def percentile_of_counts(counts: np.ndarray, q: float) -> np.ndarray:
    """Per row the ``q``-th percentile of the ranks 1, 2, … counted in ``counts`` (``np.percentile``'s linear rule).

    Rows with no counts give NaN.
    """
    n = counts.sum(axis=1)
    cum = np.cumsum(counts, axis=1)
    fraction = np.true_divide(q, 100)
    virtual = (n - 1) * fraction                       # numpy's virtual index for the linear method
    below = np.clip(np.floor(virtual), 0, np.maximum(n - 1, 0)).astype(np.int64)
    above = np.minimum(below + 1, np.maximum(n - 1, 0))
    gamma = virtual - np.floor(virtual)

    def value_at(k: np.ndarray) -> np.ndarray:     # the k-th smallest rank (0-based)
        return (cum > k[:, None]).argmax(axis=1) + 1.0

    a, b = value_at(below), value_at(above)
    diff = b - a
    out = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)   # numpy's _lerp
    return np.where(n > 0, out, np.nan)


def _share_simulated(inputs: Inputs, choice: Mapping[str, Any]) -> pd.Series:
    """Share of each municipality's scored values that are simulated, under the assessment options of ``choice``."""
    frame = inputs.scored[tuple(choice[name] for name in ASSESSMENT_CHOICES)]
    with_score = frame[frame["achievement"].notna()]
    return with_score["source_type"].eq("simulated").groupby(with_score["municipality"]).mean()


def rank_bands(inputs: Inputs, ranks: np.ndarray, nominal: np.ndarray, reasons: Sequence[str] | None = None,
               share_simulated: pd.Series | None = None) -> pd.DataFrame:
    """Summary of a draws × municipality rank array (see :func:`monte_carlo_ranks`).

    Refuses an array whose draws rank different sets of municipalities: such bands would mix
    rankings of different sizes.
    """
    present = ~np.isnan(ranks)
    if len(ranks) and (present != present[0]).any():
        raise ValueError("the draws rank different sets of municipalities; rank bands would mix rankings")
    ranked = present[0] if len(ranks) else np.zeros(len(inputs.municipalities), dtype=bool)
    n = max(int(ranked.sum()), 1)
    counts = np.zeros((len(inputs.municipalities), n), dtype=np.int64)
    for m in np.flatnonzero(ranked):
        counts[m] = np.bincount(ranks[:, m].astype(np.int64) - 1, minlength=n)
    return _bands(inputs, ranked, counts, nominal, reasons, share_simulated)


def _bands(inputs: Inputs, ranked: np.ndarray, counts: np.ndarray, nominal: np.ndarray,
           reasons: Sequence[str] | None, share_simulated: pd.Series | None) -> pd.DataFrame:
    """The bands table from per-municipality rank counts (see :func:`rank_statistics`)."""
    p5, median, p95 = (percentile_of_counts(counts, q) for q in (5, 50, 95))
    reasons = list(reasons) if reasons is not None else ["" if r else "no index" for r in ranked]
    share = inputs.share_simulated if share_simulated is None else share_simulated
    bands = pd.DataFrame({
        "municipality": inputs.municipalities,
        "ranked": ranked,
        "nominal_rank": nominal,
        "median_rank": median,
        "p5_rank": p5,
        "p95_rank": p95,
        "n_ranked": int(ranked.sum()),
        "share_simulated": share.reindex(inputs.municipalities).to_numpy(),
        "reason": reasons,
    })
    return bands.sort_values(["median_rank", "nominal_rank", "municipality"], kind="mergesort",
                             na_position="last").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# data sensitivity: published only versus with simulated values


DATA_SENSITIVITY_COLUMNS = [
    "municipality", "index_with_simulated", "index_published_only", "compared", "rank_with_simulated",
    "rank_published_only", "rank_change", "median_rank_with_simulated", "median_rank_published_only",
    "share_draws_rank_differs", "n_compared", "share_simulated", "reason"]


def data_sensitivity(inputs: Inputs, draws: int = 1000, seed: int = 0,
                     choices: Mapping[str, Sequence[str]] | None = None, weights: WeightMode = DEFAULT_WEIGHTS,
                     concentration: float = 10.0, spread: float = DEFAULT_SPREAD) -> pd.DataFrame:
    """Rank with simulated values versus published values only, among the municipalities rankable under both.

    The compared set: municipalities with an index under both data options and every combination of
    the other allowed choices (``choices``, as in :func:`monte_carlo_ranks`; a ``data`` entry is
    ignored). Ranks are among that set only. Nominal ranks use the reference choices; the medians
    use ``draws`` random draws of the other choices, each evaluated under both data options
    (paired), seeded by ``seed``. Columns (``DATA_SENSITIVITY_COLUMNS``): municipality,
    index_with_simulated / index_published_only (has an index under the reference choices with
    that data option), compared, rank_with_simulated, rank_published_only, rank_change
    (published only − with simulated; positive = worse without simulated values),
    median_rank_with_simulated, median_rank_published_only, share_draws_rank_differs, n_compared,
    share_simulated (under with_simulated) and reason (why a municipality is not compared).
    Compared municipalities first, by rank with simulated values.
    """
    data_options = tuple(inputs.options["data"])
    if set(data_options) != set(CHOICES["data"]):
        raise ValueError(f"data sensitivity needs both data options {list(CHOICES['data'])}; the inputs have "
                         f"{list(data_options)} (prepare them with both)")
    other = {k: v for k, v in (choices or {}).items() if k != "data"}
    allowed = main_choices(inputs, {**other, "data": list(CHOICES["data"])})
    status = rankable(inputs, allowed)
    compared = status["ranked"].to_numpy()
    reference = reference_choices(inputs, allowed)
    log = sample_design(inputs, draws, seed, {**allowed, "data": (reference["data"],)}, weights, concentration, spread)
    out = pd.DataFrame({"municipality": inputs.municipalities})
    ranks = {}
    for data in CHOICES["data"]:
        ref = nominal_log(inputs, {**reference, "data": data})
        index = draw_index(inputs, ref)[0]
        out[f"index_{data}"] = ~np.isnan(index)
        out[f"rank_{data}"] = rank_index(index, compared)
        ranks[data] = rank_index(_checked_index(inputs, log.assign(data=data), compared), compared)
        with _quiet():
            out[f"median_rank_{data}"] = np.nanmedian(ranks[data], axis=0)
    out["compared"] = compared
    out["rank_change"] = out["rank_published_only"] - out["rank_with_simulated"]
    differs = ranks["published_only"] != ranks["with_simulated"]
    out["share_draws_rank_differs"] = np.where(compared, differs.mean(axis=0) if draws else np.nan, np.nan)
    out["n_compared"] = int(compared.sum())
    share = _share_simulated(inputs, {**reference, "data": "with_simulated"})
    out["share_simulated"] = share.reindex(inputs.municipalities).to_numpy()
    out["reason"] = [_why_not_compared(r, p, w) for r, p, w in
                     zip(status["reason"], out["index_published_only"], out["index_with_simulated"])]
    out = out[DATA_SENSITIVITY_COLUMNS]
    return out.sort_values(["compared", "rank_with_simulated", "municipality"], ascending=[False, True, True],
                           kind="mergesort", na_position="last").reset_index(drop=True)


def _why_not_compared(reason: str, published: bool, simulated: bool) -> str:
    if not reason:
        return ""
    if not simulated and not published:
        return "no index even with simulated values"
    if not published:
        return "no index from published values alone under the nominal choices"
    return f"not rankable under every choice: {reason}"


# --------------------------------------------------------------------------------------------
# leave one data point out


LEAVE_ONE_OUT_COLUMNS = ["data_point_id", "dimension", "n_reporting", "mean_abs_rank_shift", "max_abs_rank_shift",
                         "n_rank_changed", "n_ranked"]


def leave_one_out(inputs: Inputs, choices: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Ranks with each data point removed in turn, under the nominal choices (or ``choices``), against the full index.

    Ranked are the municipalities with an index under the nominal choices and after every removal
    (no single data point carries their whole index), so every comparison ranks the same set.
    Columns (``LEAVE_ONE_OUT_COLUMNS``): data_point_id, dimension, n_reporting (municipalities with
    a value of it), mean_abs_rank_shift, max_abs_rank_shift, n_rank_changed, n_ranked; the data
    points that move the ranks most first.
    """
    reference = {**inputs.nominal, **dict(choices or {})}
    matrix = inputs.matrices[tuple(inputs.options[name].index(reference[name]) for name in MATRIX_CHOICES)]
    membership = np.eye(len(inputs.dimensions))[inputs.dimension_of]
    n_dp = len(inputs.data_points)
    without = np.repeat(membership[None], n_dp, axis=0)
    without[np.arange(n_dp), np.arange(n_dp)] = 0.0                 # removal × data point × dimension
    aggregation = reference["aggregation"]
    full_scores = _dimension_means(matrix, membership, aggregation)[None]
    removed = np.stack([_dimension_means(matrix, w, aggregation) for w in without])
    weights = (inputs.nominal_weights / inputs.nominal_weights.sum())[None, :]
    index = np.concatenate([_weighted_index(scores, weights, aggregation == "geometric")
                            for scores in np.concatenate([full_scores, removed])])
    ranked = ~np.isnan(index).any(axis=0)
    ranks = rank_index(index, ranked)
    shift = np.abs(ranks[1:] - ranks[:1])[:, ranked]
    has = ~np.isnan(matrix)
    out = pd.DataFrame({
        "data_point_id": inputs.data_points,
        "dimension": [inputs.dimensions[d] for d in inputs.dimension_of],
        "n_reporting": has.sum(axis=0),
        "mean_abs_rank_shift": shift.mean(axis=1) if ranked.any() else np.nan,
        "max_abs_rank_shift": shift.max(axis=1) if ranked.any() else np.nan,
        "n_rank_changed": (shift > 0).sum(axis=1),
        "n_ranked": int(ranked.sum()),
    }, columns=LEAVE_ONE_OUT_COLUMNS)
    return out.sort_values(["mean_abs_rank_shift", "data_point_id"], ascending=[False, True], kind="mergesort",
                           na_position="last").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# oracle


def per_draw_loop(inputs: Inputs, log: pd.DataFrame, among: Sequence[str] | None = None) -> pd.DataFrame:
    """Ranks for each draw of ``log`` computed the plain way, one draw at a time with pandas.

    Independent of the precomputed matrices: it starts from the tidy scored frames, normalises
    with groupby, imputes, aggregates with ``mean`` / ``scipy.stats.gmean`` and ranks with
    ``Series.rank`` (among ``among`` only, if given). Returns the same frame as :func:`draw_ranks`.
    """
    wcols = weight_columns(inputs)
    rows = []
    for choice in log.to_dict("records"):
        frame = inputs.scored[tuple(choice[name] for name in ASSESSMENT_CHOICES)]
        frame = frame[frame["municipality"].isin(inputs.municipalities)]
        suffix = "" if choice["outliers"] == "none" else f"_{choice['outliers']}"
        frame = frame.assign(achievement=frame["achievement" + suffix],
                             achievement_raw=frame["achievement_raw" + suffix])
        cells = _normalise_tidy(frame, choice["normalisation"])
        if choice["missing"] == "impute":
            cells = _impute_tidy(cells, inputs.municipalities)
        cells = cells.dropna(subset=["x"])
        if choice["aggregation"] == "geometric":
            dim = cells.groupby(["municipality", "dimension"])["x"].agg(
                lambda s: stats.gmean(s.clip(lower=GEOMETRIC_FLOOR)))
        else:
            dim = cells.groupby(["municipality", "dimension"])["x"].mean()
        weight = pd.Series([choice[c] for c in wcols], index=inputs.dimensions)
        index = {}
        for municipality, scores in dim.groupby(level="municipality"):
            scores = scores.droplevel("municipality")
            w = weight.reindex(scores.index)
            if w.sum() <= 0:
                continue
            if choice["aggregation"] == "geometric":
                index[municipality] = stats.gmean(scores.clip(lower=GEOMETRIC_FLOOR), weights=w)
            else:
                index[municipality] = float((scores * w).sum() / w.sum())
        series = pd.Series(index, dtype=float).reindex(inputs.municipalities)
        if among is not None:
            series = series.where(series.index.isin(list(among)))
        rows.append(series.round(TIE_DECIMALS).rank(ascending=False, method="min"))
    out = pd.DataFrame(rows, columns=inputs.municipalities)
    out.index = pd.Index(log["draw"].to_numpy(), name="draw")
    return out


def _normalise_tidy(frame: pd.DataFrame, method: str) -> pd.DataFrame:
    cells = frame[frame["achievement_raw"].notna()][["municipality", "data_point_id", "dimension"]].copy()
    raw = frame.loc[cells.index, "achievement_raw"]
    if method == "goalposts":
        cells["x"] = frame.loc[cells.index, "achievement"]
        return cells
    by = raw.groupby(cells["data_point_id"])
    if method == "minmax":
        lo, hi = by.transform("min"), by.transform("max")
        cells["x"] = (100.0 * (raw - lo) / (hi - lo)).where(hi > lo)
    elif method == "rank":
        n = by.transform("count")
        distinct = by.transform("max") > by.transform("min")
        cells["x"] = (100.0 * (by.rank(method="average") - 1.0) / (n - 1)).where(distinct & (n >= 2))
    else:
        raise ValueError(f"unknown normalisation '{method}'")
    return cells


def _impute_tidy(cells: pd.DataFrame, municipalities: list[str]) -> pd.DataFrame:
    have = cells.dropna(subset=["x"])
    dims = cells.drop_duplicates("data_point_id").set_index("data_point_id")["dimension"]
    grid = pd.MultiIndex.from_product([sorted(set(have["municipality"]) & set(municipalities)),
                                       sorted(have["data_point_id"].unique())],
                                      names=["municipality", "data_point_id"]).to_frame(index=False)
    full = grid.merge(have[["municipality", "data_point_id", "x"]], how="left",
                      on=["municipality", "data_point_id"])
    median = have.groupby("data_point_id")["x"].median()
    full["x"] = full["x"].fillna(full["data_point_id"].map(median))
    full["dimension"] = full["data_point_id"].map(dims)
    return full


# --------------------------------------------------------------------------------------------
# Sobol sensitivity


SOBOL_COLUMNS = ["factor", "S1", "S1_conf", "ST", "ST_conf", "n_evaluations", "n_ranked", "reason"]


def sobol_indices(inputs: Inputs, n_base: int = 256, seed: int = 0,
                  choices: Mapping[str, Sequence[str]] | None = None, weights: WeightMode = DEFAULT_WEIGHTS,
                  concentration: float = 10.0, spread: float = DEFAULT_SPREAD,
                  num_resamples: int = 100) -> pd.DataFrame:
    """First-order and total Sobol indices of the mean absolute rank shift per construction choice (SALib).

    The choices and the ranked set are those of :func:`monte_carlo_ranks` with the same ``choices``
    (``data`` fixed at nominal unless given), so the indices apportion the variance of the rank
    bands actually shown. Every varied discrete choice is one factor on [0, 1), mapped to option
    ``floor(u · n)``; the dimension weights form one group factor "weights" (each weight is the
    Gamma quantile of its uniform, so normalised they are Dirichlet(concentration · nominal
    share), or the nominal weight times ``U(1 − spread, 1 + spread)``). Choices fixed to one
    option are not factors. Output y per sample: mean |rank − nominal rank| over the ranked set.
    Costs ``n_base · (factors + 2)`` evaluations; ``n_base`` should be a power of two. Columns
    (``SOBOL_COLUMNS``): factor, S1, S1_conf, ST, ST_conf, n_evaluations, n_ranked, reason. When
    fewer than two municipalities are ranked, or the ranks never move, there is no variance to
    apportion: the indices are left empty and ``reason`` says why.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    allowed = main_choices(inputs, choices)
    ranked = rankable(inputs, allowed)["ranked"].to_numpy()
    varied = [name for name in DISCRETE if len(allowed[name]) > 1]
    wcols = weight_columns(inputs)
    vary_weights = weights != "fixed"
    names = varied + (wcols if vary_weights else [])
    if not names:
        raise ValueError("nothing varies: give at least one choice with two options or non-fixed weights")
    groups = varied + (["weights"] * len(wcols) if vary_weights else [])
    factors = list(dict.fromkeys(groups))
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names), "groups": groups}
    sample = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    sample = np.clip(sample, 0.0, np.nextafter(1.0, 0.0))

    def empty(reason: str) -> pd.DataFrame:
        return pd.DataFrame({"factor": factors, "S1": np.nan, "S1_conf": np.nan, "ST": np.nan, "ST_conf": np.nan,
                             "n_evaluations": len(sample), "n_ranked": int(ranked.sum()), "reason": reason},
                            columns=SOBOL_COLUMNS)

    if ranked.sum() < 2:
        return empty(f"{int(ranked.sum())} municipalities have an index under every varied choice; "
                     "at least 2 are needed for a ranking that can move")
    reference = reference_choices(inputs, allowed)
    log = pd.DataFrame({"draw": np.arange(len(sample))})
    for name in DISCRETE:
        opts = np.asarray(allowed[name], dtype=object)
        log[name] = (opts[(sample[:, names.index(name)] * len(opts)).astype(int)] if name in varied
                     else reference[name])
    share = inputs.nominal_weights / inputs.nominal_weights.sum()
    if vary_weights:
        u = sample[:, [names.index(c) for c in wcols]]
        if weights == "dirichlet":
            w = stats.gamma.ppf(u, concentration * np.where(share > 0, share, 1e-12))
        elif weights == "uniform":
            w = share * (1.0 - spread + 2.0 * spread * u)
        else:
            raise ValueError(f"unknown weights mode '{weights}'")
        w = w / w.sum(axis=1, keepdims=True)
    else:
        w = np.tile(share, (len(sample), 1))
    for column, values in zip(wcols, w.T):
        log[column] = values
    nominal = rank_index(_checked_index(inputs, nominal_log(inputs, reference), ranked), ranked)[0]
    y, _ = rank_statistics(inputs, log, ranked, nominal)
    if np.ptp(y) == 0:
        return empty("the ranks do not change in any evaluation: no variance to apportion")
    result = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=num_resamples, seed=seed)
    return pd.DataFrame({"factor": factors, "S1": result["S1"], "S1_conf": result["S1_conf"],
                         "ST": result["ST"], "ST_conf": result["ST_conf"], "n_evaluations": len(sample),
                         "n_ranked": int(ranked.sum()), "reason": ""}, columns=SOBOL_COLUMNS)
