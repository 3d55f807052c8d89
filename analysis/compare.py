"""Cross-city synthesis: coverage, group tests, correlations, bootstrap intervals, clustering and figures.

Conventions (every function returns a tidy frame; nothing is computed on too few values)
---------------------------------------------------------------------------------------
- **Statistic compared**: group tests and correlations use the *uncapped* achievement
  ``achievement_raw`` (analysis/scoring.py). For a data point with goalposts it is an increasing
  affine transform of the value in the good direction (monotone for a target band), so rank-based
  tests on it are the tests on the direction-aware value, without the ties that capping at 0 and
  100 would create; "higher" always means "better". Data points without goalposts (no target, or
  descriptive) cannot be oriented and are reported with a reason.
- **Too few values**: rows where a test cannot be run are kept with ``reason`` set and the
  statistic, p and q left empty; q-values (Benjamini–Hochberg, statsmodels ``fdr_bh``) are
  computed over the rows that were tested only.
- **Simulated values** are counted in every output (``n_simulated`` / ``share_simulated``) and
  marked in every figure: a result resting on simulated cells demonstrates the method, it is not
  evidence about a municipality.
- Effect sizes: epsilon-squared ``ε² = H / (n − 1)`` for Kruskal–Wallis (Tomczak & Tomczak 2014,
  ``H / ((n² − 1)/(n + 1))``) and beside it its small-sample correction ``η²_H = (H − k + 1) / (n − k)``
  (it subtracts H's expectation under the null, k − 1, so small panels do not inflate it; negative
  values mean "no effect"); the rank-biserial correlation ``r = 2·U_a/(n_a·n_b) − 1`` for
  Mann–Whitney (+1: every value of group a above every value of group b) with a percentile
  bootstrap interval.
- **p-values on small groups** (``method`` column): Kruskal–Wallis uses its χ² approximation only
  when every group has at least :data:`ASYMPTOTIC_MIN_GROUP` (5) values, Mann–Whitney its normal
  approximation only when both groups have at least :data:`ASYMPTOTIC_MIN_GROUP`, Spearman's t
  approximation only from :data:`ASYMPTOTIC_MIN_PAIRS` (10) pairs. Below that the p-value is a
  permutation p-value (``scipy.stats.permutation_test``, :data:`N_PERMUTATIONS` resamples, seeded),
  exact (every distinct relabelling) when there are no more relabellings than resamples.
- **Findings versus demonstrations**: :func:`real_values` keeps the published, city-supplied and
  national-statistics values. Only tests on those, with at least :data:`MIN_REAL_MUNICIPALITIES`
  municipalities, are findings (``min_n``); on simulated cells the same functions demonstrate the
  method (the simulator has no county effect, so a county test on simulated cells tests a null
  that is true by construction).
- **Correlations over a pre-declared set of pairs** (:func:`declared_pairs`): pairs of data points
  of the same U4SSC category by default, not every pair, so that BH correction leaves some power.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from math import factorial, lgamma
from dataclasses import dataclass, field
from itertools import combinations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform
from statsmodels.stats.multitest import multipletests

from analysis import observations, palette, scoring

SOURCE_ORDER = ("published", "city-supplied", "national_statistics", "simulated")
SIMULATED = "simulated"
ASYMPTOTIC_MIN_GROUP = 5
"""Smallest group for which Kruskal–Wallis and Mann–Whitney use their large-sample approximations."""
ASYMPTOTIC_MIN_PAIRS = 10
"""Fewest pairs for which Spearman's rho uses its t approximation."""
N_PERMUTATIONS = 9999
"""Resamples of a permutation test (an exact test when there are no more distinct relabellings)."""
MIN_REAL_MUNICIPALITIES = 8
"""Fewest municipalities with real values for a test or correlation to count as a finding."""
SOURCE_COLOURS = {"none": "#f0f0f0", "published": "#1b7837", "city-supplied": "#2166ac",
                  "national_statistics": "#762a83", "simulated": "#d9a441"}
VALUE = "achievement_raw"
ACHIEVEMENT_UNIT = "achievement (% of target, capped 0–100)"


# --------------------------------------------------------------------------------------------
# coverage


def coverage(frame: pd.DataFrame) -> pd.DataFrame:
    """Who reports which data point from which source: one row per municipality × data point × source type.

    ``frame`` is a scored frame (``Assessment.scored``) or observations (any years; only rows with
    a value and status reported/partial count). Columns: municipality, data_point_id,
    source_type, n_years, latest_year, is_baseline (the source of the latest value, which a
    scored frame uses).
    """
    valued = observations.scored(frame) if "status" in frame else frame[frame["value"].notna()]
    rows = valued[["municipality", "data_point_id", "year", "source_type"]]
    out = (rows.groupby(["municipality", "data_point_id", "source_type"], sort=True)["year"]
           .agg(n_years="count", latest_year="max").reset_index())
    latest = out.groupby(["municipality", "data_point_id"])["latest_year"].transform("max")
    out["is_baseline"] = out["latest_year"].eq(latest)
    return out


def coverage_matrix(cov: pd.DataFrame, municipalities: Sequence[str] | None = None,
                    data_points: Sequence[str] | None = None) -> pd.DataFrame:
    """Wide municipality × data point matrix of the baseline source type ("none" where nothing is reported).

    Where two sources share the latest year, published wins over city-supplied over simulated.
    """
    base = cov[cov["is_baseline"]].copy()
    base["order"] = base["source_type"].map({s: i for i, s in enumerate(SOURCE_ORDER)})
    base = base.sort_values("order", kind="mergesort").drop_duplicates(["municipality", "data_point_id"])
    wide = base.pivot(index="municipality", columns="data_point_id", values="source_type")
    rows = list(municipalities) if municipalities is not None else sorted(wide.index)
    cols = list(data_points) if data_points is not None else sorted(wide.columns)
    wide = wide.reindex(index=rows, columns=cols).astype(object)
    return wide.where(wide.notna(), "none")


def overlap(scored: pd.DataFrame) -> pd.DataFrame:
    """Per data point: municipalities with a value, split by source type, and with an achievement.

    Columns: data_point_id, n_published, n_city_supplied, n_national_statistics, n_simulated, n_non_simulated,
    n_total, n_scored (with goalposts, i.e. an achievement).
    """
    has = scored[scored["value"].notna()]
    counts = pd.crosstab(has["data_point_id"], has["source_type"]).reindex(columns=list(SOURCE_ORDER), fill_value=0)
    out = pd.DataFrame({"n_published": counts["published"], "n_city_supplied": counts["city-supplied"],
                        "n_national_statistics": counts["national_statistics"], "n_simulated": counts["simulated"]})
    out["n_non_simulated"] = out["n_published"] + out["n_city_supplied"] + out["n_national_statistics"]
    out["n_total"] = out["n_non_simulated"] + out["n_simulated"]
    scored_n = has[has["achievement"].notna()].groupby("data_point_id").size()
    out["n_scored"] = scored_n.reindex(out.index).fillna(0).astype(int)
    out = out.reindex(sorted(set(scored["data_point_id"]))).fillna(0).astype(int)
    return out.rename_axis("data_point_id").reset_index()


def data_point_order(cat: pd.DataFrame) -> list[str]:
    """Scoreable data points ordered by dimension, sub-dimension, category, then registry order."""
    frame = cat[cat["direction"] != "descriptive"].reset_index(drop=True)
    frame = frame.assign(position=np.arange(len(frame)))
    return frame.sort_values(["dimension", "sub_dimension", "category", "position"],
                             kind="mergesort")["data_point_id"].tolist()


def achievement_matrix(scored: pd.DataFrame, cat: pd.DataFrame, column: str = "achievement",
                       municipalities: Sequence[str] | None = None, drop_empty: bool = False) -> pd.DataFrame:
    """Municipalities × scoreable data points of ``column``, columns ordered by dimension, sub-dimension, category."""
    wide = scored.pivot_table(index="municipality", columns="data_point_id", values=column, aggfunc="first")
    rows = list(municipalities) if municipalities is not None else sorted(scored["municipality"].unique())
    out = wide.reindex(index=rows, columns=data_point_order(cat))
    return out.dropna(axis=1, how="all") if drop_empty else out


def simulated_mask(scored: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Boolean frame shaped like ``like``: True where the cell's value is simulated."""
    flag = scored.assign(sim=scored["source_type"].eq("simulated").astype(float)).pivot_table(
        index="municipality", columns="data_point_id", values="sim", aggfunc="max")
    return flag.reindex(index=like.index, columns=like.columns).fillna(0.0).astype(bool)


# --------------------------------------------------------------------------------------------
# group tests


def _group_frame(frame: pd.DataFrame, groups: pd.Series, unit: str, value: str) -> pd.DataFrame:
    labels = groups.dropna()
    data = frame[frame["municipality"].isin(labels.index)].copy()
    data["group"] = data["municipality"].map(labels)
    data["simulated"] = _simulated_share(data)
    return data[[unit, "municipality", "group", value, "simulated"]]


def _simulated_share(frame: pd.DataFrame) -> pd.Series:
    """Per row, the share of the row's value resting on simulated data (data point rows: 0 or 1)."""
    if "source_type" in frame:
        return frame["source_type"].eq("simulated").astype(float)
    if {"n_simulated", "n_scored"} <= set(frame.columns):
        return frame["n_simulated"] / frame["n_scored"].where(frame["n_scored"] > 0)
    return pd.Series(np.nan, index=frame.index)


def _n_per_group(counts: pd.Series) -> str:
    return "; ".join(f"{g}={n}" for g, n in counts.items())


def _bh(p: pd.Series) -> pd.Series:
    """Benjamini–Hochberg q-values over the non-missing p-values (statsmodels)."""
    q = pd.Series(np.nan, index=p.index)
    tested = p.notna()
    if tested.any():
        q[tested] = multipletests(p[tested].to_numpy(), method="fdr_bh")[1]
    return q


def real_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose value is real (published, city-supplied, national statistics): the basis of findings."""
    return frame[frame["source_type"].ne(SIMULATED)] if "source_type" in frame else frame[frame["n_simulated"].eq(0)]


def _permutations(sizes: Sequence[int]) -> float:
    """Number of distinct relabellings of groups of ``sizes`` (multinomial coefficient), as a float."""
    return float(np.exp(lgamma(sum(sizes) + 1) - sum(lgamma(n + 1) for n in sizes)))


def _method(n_relabellings: float) -> str:
    return "exact" if n_relabellings <= N_PERMUTATIONS else f"permutation ({N_PERMUTATIONS} resamples)"


def kruskal_h(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    """Kruskal–Wallis H with tie correction along ``axis`` (vectorised, the statistic of scipy.stats.kruskal)."""
    pooled = np.concatenate(samples, axis=axis)
    return _h_of_ranks(stats.rankdata(pooled, axis=axis), [s.shape[axis] for s in samples],
                       _tie_factor(np.concatenate([np.ravel(x) for x in samples])), axis)


def _tie_factor(values: np.ndarray) -> float:
    """Kruskal–Wallis tie correction ``1 − Σ(t³ − t)/(n³ − n)`` (the same for every relabelling)."""
    _, counts = np.unique(values, return_counts=True)
    n = len(values)
    return 1.0 - float((counts ** 3 - counts).sum()) / (n ** 3 - n)


def _h_of_ranks(ranks: np.ndarray, sizes: Sequence[int], ties: float, axis: int = -1) -> np.ndarray:
    n = ranks.shape[axis]
    edges = np.cumsum([0, *sizes])
    cumulative = np.cumsum(ranks, axis=axis)
    totals = np.take(cumulative, edges[1:] - 1, axis=axis)
    sums = np.diff(totals, axis=axis, prepend=0.0)
    h = 12.0 / (n * (n + 1)) * np.sum(sums ** 2 / np.asarray(sizes, dtype=float), axis=axis) - 3.0 * (n + 1)
    return h / ties


def kruskal_test(samples: Sequence[np.ndarray], seed: int = 0) -> tuple[float, float, str]:
    """H, p and the method: χ² approximation with every group ≥ ASYMPTOTIC_MIN_GROUP, else permutation/exact.

    The permutation test relabels the pooled ranks (relabelling values or their ranks is the same
    test; ranks make each resample a sum).
    """
    h = float(kruskal_h(*samples))
    sizes = [len(x) for x in samples]
    if min(sizes) >= ASYMPTOTIC_MIN_GROUP:
        return h, float(stats.chi2.sf(h, len(samples) - 1)), "χ² approximation"
    ties = _tie_factor(np.concatenate(samples))
    ranks = stats.rankdata(np.concatenate(samples))
    split = np.split(ranks, np.cumsum(sizes)[:-1])

    def statistic(*parts: np.ndarray, axis: int = -1) -> np.ndarray:
        return _h_of_ranks(np.concatenate(parts, axis=axis), sizes, ties, axis)

    res = stats.permutation_test(split, statistic, permutation_type="independent", vectorized=True,
                                 n_resamples=N_PERMUTATIONS, alternative="greater", rng=seed)
    return h, float(res.pvalue), _method(_permutations(sizes))


def kruskal_table(frame: pd.DataFrame, groups: pd.Series, unit: str = "data_point_id", value: str = VALUE,
                  min_per_group: int = 2, min_n: int = 0, seed: int = 0) -> pd.DataFrame:
    """Kruskal–Wallis per ``unit`` across the groups of ``groups`` (municipality → label).

    Groups with fewer than ``min_per_group`` values of a unit are left out of its test and listed
    in ``excluded_groups``; a unit with fewer than ``min_n`` values in all is not tested. Columns:
    unit, n, n_groups, n_per_group, excluded_groups, H, p, q, method, epsilon_squared,
    eta_squared_h, median_by_group, share_simulated, reason.
    """
    data = _group_frame(frame, groups, unit, value)
    rows = []
    units = sorted(frame[unit].dropna().unique())
    for key in units:
        sub = data[(data[unit] == key) & data[value].notna()]
        counts = sub.groupby("group").size().sort_index()
        kept = counts[counts >= min_per_group]
        samples = [sub.loc[sub["group"] == g, value].to_numpy() for g in kept.index]
        used = sub[sub["group"].isin(kept.index)]
        row = {unit: key, "n": int(len(used)), "n_groups": int(len(kept)), "n_per_group": _n_per_group(counts),
               "excluded_groups": ", ".join(counts.index[counts < min_per_group]),
               "H": np.nan, "p": np.nan, "method": "", "epsilon_squared": np.nan, "eta_squared_h": np.nan,
               "median_by_group": "; ".join(f"{g}={used.loc[used['group'] == g, value].median():.1f}"
                                            for g in kept.index),
               "share_simulated": float(used["simulated"].mean()) if len(used) else np.nan, "reason": ""}
        if sub.empty:
            row["reason"] = "no values (not reported, or no goalposts to orient it)"
        elif len(kept) < 2:
            row["reason"] = f"fewer than 2 groups with at least {min_per_group} values"
        elif len(used) < min_n:
            row["reason"] = f"{len(used)} municipalities (< {min_n})"
        elif np.ptp(used[value].to_numpy()) == 0:
            row["reason"] = "all values identical"
        else:
            h, p, method = kruskal_test(samples, seed)
            n, k = len(used), len(kept)
            row.update(H=h, p=p, method=method, epsilon_squared=h / (n - 1),
                       eta_squared_h=(h - k + 1) / (n - k) if n > k else np.nan)
        rows.append(row)
    out = pd.DataFrame(rows, columns=[unit, "n", "n_groups", "n_per_group", "excluded_groups", "H", "p", "method",
                                      "epsilon_squared", "eta_squared_h", "median_by_group", "share_simulated",
                                      "reason"])
    out.insert(out.columns.get_loc("p") + 1, "q", _bh(out["p"]))
    return out


def group_tests(scored: pd.DataFrame, groups: pd.Series, min_per_group: int = 2, value: str = VALUE,
                min_n: int = 0, seed: int = 0) -> pd.DataFrame:
    """Kruskal–Wallis per data point on the direction-aware achievement, with ε², η²_H, n per group and BH q."""
    return kruskal_table(scored, groups, "data_point_id", value, min_per_group, min_n, seed)


def dimension_group_tests(dimension_scores: pd.DataFrame, groups: pd.Series, min_per_group: int = 2,
                          value: str = "mean_achievement", min_n: int = 0, seed: int = 0) -> pd.DataFrame:
    """The same tests on dimension scores (``Assessment.levels['dimension']``), BH across dimensions."""
    return kruskal_table(dimension_scores, groups, "dimension", value, min_per_group, min_n, seed)


def mann_whitney_u(xa: np.ndarray, xb: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mann–Whitney's U of group a (average ranks for ties), vectorised along ``axis``."""
    ranks = stats.rankdata(np.concatenate([xa, xb], axis=axis), axis=axis)
    n_a = xa.shape[axis]
    return np.take(ranks, range(n_a), axis=axis).sum(axis=axis) - n_a * (n_a + 1) / 2.0


def _u_distance(xa: np.ndarray, xb: np.ndarray, axis: int = -1) -> np.ndarray:
    """|U − n_a·n_b/2|: large for a difference in either direction (the two-sided permutation statistic)."""
    return np.abs(mann_whitney_u(xa, xb, axis) - xa.shape[axis] * xb.shape[axis] / 2.0)


def mann_whitney_test(xa: np.ndarray, xb: np.ndarray, seed: int = 0) -> tuple[float, float, str]:
    """U of group a, two-sided p and the method: normal approximation with both groups ≥ ASYMPTOTIC_MIN_GROUP."""
    if min(len(xa), len(xb)) >= ASYMPTOTIC_MIN_GROUP:
        res = stats.mannwhitneyu(xa, xb, alternative="two-sided", method="asymptotic")
        return float(res.statistic), float(res.pvalue), "normal approximation"
    res = stats.permutation_test((xa, xb), _u_distance, permutation_type="independent", vectorized=True,
                                 n_resamples=N_PERMUTATIONS, alternative="greater", rng=seed)
    return float(mann_whitney_u(xa, xb)), float(res.pvalue), _method(_permutations([len(xa), len(xb)]))


def rank_biserial(xa: np.ndarray, xb: np.ndarray, axis: int = -1) -> np.ndarray:
    """Rank-biserial correlation ``2·U_a/(n_a·n_b) − 1`` (vectorised along ``axis``)."""
    return 2.0 * mann_whitney_u(xa, xb, axis) / (xa.shape[axis] * xb.shape[axis]) - 1.0


def two_group_test(frame: pd.DataFrame, groups: pd.Series, a: str | None = None, b: str | None = None,
                   unit: str = "data_point_id", value: str = VALUE, min_per_group: int = 2, min_n: int = 0,
                   seed: int = 0, n_resamples: int = 2000) -> pd.DataFrame:
    """Mann–Whitney U (two-sided) per ``unit`` between groups ``a`` and ``b``, with rank-biserial r, its CI and BH q.

    If ``a``/``b`` are not given, ``groups`` must hold exactly two labels (sorted: a, b). p-values
    follow the small-sample rule of the module docstring; the 95 % interval of r is a percentile
    bootstrap within each group (``n_resamples``, seeded). Columns: unit, group_a, group_b, n_a,
    n_b, U, p, q, method, rank_biserial, r_ci_low, r_ci_high, median_a, median_b,
    share_simulated, reason.
    """
    labels = sorted(groups.dropna().unique())
    if a is None or b is None:
        if len(labels) != 2:
            raise ValueError(f"groups has {len(labels)} labels {labels}; name the two to compare with a= and b=")
        a, b = labels
    for g in (a, b):
        if g not in labels:
            raise ValueError(f"group '{g}' not in groups; expected one of {labels}")
    data = _group_frame(frame, groups[groups.isin([a, b])], unit, value)
    rows = []
    for key in sorted(frame[unit].dropna().unique()):
        sub = data[(data[unit] == key) & data[value].notna()]
        xa = sub.loc[sub["group"] == a, value].to_numpy()
        xb = sub.loc[sub["group"] == b, value].to_numpy()
        row = {unit: key, "group_a": a, "group_b": b, "n_a": len(xa), "n_b": len(xb), "U": np.nan, "p": np.nan,
               "method": "", "rank_biserial": np.nan, "r_ci_low": np.nan, "r_ci_high": np.nan,
               "median_a": np.median(xa) if len(xa) else np.nan, "median_b": np.median(xb) if len(xb) else np.nan,
               "share_simulated": float(sub["simulated"].mean()) if len(sub) else np.nan, "reason": ""}
        if min(len(xa), len(xb)) < min_per_group:
            row["reason"] = f"fewer than {min_per_group} values in a group"
        elif len(xa) + len(xb) < min_n:
            row["reason"] = f"{len(xa) + len(xb)} municipalities (< {min_n})"
        elif np.ptp(np.concatenate([xa, xb])) == 0:
            row["reason"] = "all values identical"
        else:
            u, p, method = mann_whitney_test(xa, xb, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ci = stats.bootstrap((xa, xb), rank_biserial, n_resamples=n_resamples, method="percentile",
                                     vectorized=True, rng=np.random.default_rng(seed)).confidence_interval
            row.update(U=u, p=p, method=method, rank_biserial=float(rank_biserial(xa, xb)),
                       r_ci_low=float(ci.low), r_ci_high=float(ci.high))
        rows.append(row)
    out = pd.DataFrame(rows, columns=[unit, "group_a", "group_b", "n_a", "n_b", "U", "p", "method", "rank_biserial",
                                      "r_ci_low", "r_ci_high", "median_a", "median_b", "share_simulated", "reason"])
    out.insert(out.columns.get_loc("p") + 1, "q", _bh(out["p"]))
    return out


# --------------------------------------------------------------------------------------------
# correlations


PAIR_SETS = ("within_category", "all")


def declared_pairs(cat: pd.DataFrame, data_points: Sequence[str], pair_set: str = "within_category"
                   ) -> list[tuple[str, str]]:
    """The pre-declared pairs of data points to correlate (a < b): same U4SSC category, or every pair.

    Declaring the pairs before looking at the data keeps the Benjamini–Hochberg correction over a
    set small enough to have power (5 565 pairs at n = 17 have none).
    """
    dps = sorted(set(data_points))
    if pair_set == "all":
        return list(combinations(dps, 2))
    if pair_set != "within_category":
        raise ValueError(f"unknown pair set '{pair_set}'; expected one of {list(PAIR_SETS)}")
    category = cat.set_index("data_point_id")["category"]
    key = cat.set_index("data_point_id")[["dimension", "sub_dimension", "category"]].apply(tuple, axis=1)
    return [(a, b) for a, b in combinations(dps, 2) if a in category.index and b in category.index
            and key[a] == key[b]]


def pairs_with_overlap(frame: pd.DataFrame, min_n: int, value: str = VALUE) -> list[tuple[str, str]]:
    """Pairs of data points (a < b) that at least ``min_n`` municipalities report both (with a ``value``).

    A pre-declared set in the sense of :func:`declared_pairs`: it depends on who reports what, not
    on the values.
    """
    have = frame[frame[value].notna()]
    wide = pd.crosstab(have["municipality"], have["data_point_id"]).clip(upper=1)
    common = wide.T @ wide
    cols = list(common.columns)
    return [(cols[i], cols[j]) for i, j in combinations(range(len(cols)), 2) if common.iat[i, j] >= min_n]


def spearman_rho(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman's rho along ``axis`` (Pearson correlation of the average ranks; vectorised)."""
    rx, ry = stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis)
    rx = rx - rx.mean(axis=axis, keepdims=True)
    ry = ry - ry.mean(axis=axis, keepdims=True)
    return (rx * ry).sum(axis=axis) / np.sqrt((rx ** 2).sum(axis=axis) * (ry ** 2).sum(axis=axis))


def spearman_test(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[float, float, str]:
    """rho, two-sided p and the method: t approximation from ASYMPTOTIC_MIN_PAIRS pairs, else permutation/exact."""
    rho = float(spearman_rho(x, y))
    if len(x) >= ASYMPTOTIC_MIN_PAIRS:
        return rho, float(stats.spearmanr(x, y).pvalue), "t approximation"
    res = stats.permutation_test((x,), lambda u, axis=-1: spearman_rho(u, np.broadcast_to(y, u.shape), axis),
                                 permutation_type="pairings", vectorized=True, n_resamples=N_PERMUTATIONS,
                                 alternative="two-sided", rng=seed)
    return rho, float(res.pvalue), _method(float(factorial(len(x))))


def correlations(scored: pd.DataFrame, cat: pd.DataFrame | None = None, pair_set: str = "within_category",
                 min_pairs: int = 5, value: str = VALUE, seed: int = 0,
                 pairs: Sequence[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Spearman's rho over the municipalities reporting both data points of each pre-declared pair.

    The pairs are ``pairs`` if given, else :func:`declared_pairs` of ``cat`` and ``pair_set``
    (``cat`` may be omitted with ``pair_set="all"``). One row per pair (a < b). Columns:
    data_point_a, data_point_b, n, n_with_simulated (pairs in which either value is simulated),
    rho, p, q (BH over the pairs tested), method, reason, share_simulated (n_with_simulated / n).
    """
    wide = scored.pivot_table(index="municipality", columns="data_point_id", values=value, aggfunc="first")
    sim = simulated_mask(scored, wide)
    if pairs is None:
        if cat is None and pair_set != "all":
            raise ValueError("correlations need the registry (cat) to declare within-category pairs")
        pairs = declared_pairs(cat if cat is not None else pd.DataFrame(), wide.columns, pair_set)
    present = wide.notna().to_numpy()
    x, s = wide.to_numpy(dtype=float), sim.to_numpy()
    index = {c: i for i, c in enumerate(wide.columns)}
    rows = []
    for a, b in pairs:
        i, j = index.get(a), index.get(b)
        both = present[:, i] & present[:, j] if i is not None and j is not None else np.zeros(len(wide), bool)
        n = int(both.sum())
        row = {"data_point_a": a, "data_point_b": b, "n": n,
               "n_with_simulated": int((both & (s[:, i] | s[:, j])).sum()) if n else 0,
               "rho": np.nan, "p": np.nan, "method": "", "reason": ""}
        if n < min_pairs:
            row["reason"] = f"fewer than {min_pairs} municipalities report both"
        elif np.ptp(x[both, i]) == 0 or np.ptp(x[both, j]) == 0:
            row["reason"] = "no variation in one of the data points"
        else:
            rho, p, method = spearman_test(x[both, i], x[both, j], seed)
            row.update(rho=rho, p=p, method=method)
        rows.append(row)
    out = pd.DataFrame(rows, columns=["data_point_a", "data_point_b", "n", "n_with_simulated", "rho", "p", "method",
                                      "reason"])
    out.insert(out.columns.get_loc("p") + 1, "q", _bh(out["p"]))
    # lets analysis.present mark a pair resting mostly on simulated values
    out["share_simulated"] = (out["n_with_simulated"] / out["n"].where(out["n"] > 0)).astype(float)
    return out


# --------------------------------------------------------------------------------------------
# bootstrap


def bootstrap_dimension_ci(scored: pd.DataFrame, cat: pd.DataFrame, seed: int, n_resamples: int = 2000,
                           confidence_level: float = 0.95, min_bca: int = 8, min_values: int = 3,
                           municipalities: Sequence[str] | None = None) -> pd.DataFrame:
    """Bootstrap CI of the mean achievement over each municipality's scored data points in each dimension.

    The mean equals ``mean_achievement`` of analysis.scoring.aggregate. Method: BCa
    (scipy.stats.bootstrap) with at least ``min_bca`` values, else percentile; BCa falling back to
    percentile when its jackknife is degenerate. Fewer than ``min_values`` values (a bootstrap of
    two values has three possible means), or all values identical, give no interval (``reason``).
    The interval treats the scored data points as a sample of the
    dimension's data points: it expresses how much the score depends on which data points
    happen to be reported, not measurement error. Columns: municipality, dimension, n,
    n_simulated, mean, ci_low, ci_high, method, reason.
    """
    dims = sorted(cat.loc[cat["direction"] != "descriptive", "dimension"].unique())
    names = list(municipalities) if municipalities is not None else sorted(scored["municipality"].unique())
    rng = np.random.default_rng(seed)
    have = scored[scored["achievement"].notna() & scored["direction"].ne("descriptive")]
    rows = []
    for municipality in names:
        for dimension in dims:
            cell = have[(have["municipality"] == municipality) & (have["dimension"] == dimension)]
            x = cell["achievement"].to_numpy(dtype=float)
            row = {"municipality": municipality, "dimension": dimension, "n": len(x),
                   "n_simulated": int(cell["source_type"].eq("simulated").sum()),
                   "mean": float(np.mean(x)) if len(x) else np.nan, "ci_low": np.nan, "ci_high": np.nan,
                   "method": "", "reason": ""}
            if len(x) < max(min_values, 2):
                row["reason"] = (f"{len(x)} scored data points (< {max(min_values, 2)}): no interval" if len(x)
                                 else "no scored data points")
            elif np.ptp(x) == 0:
                row["reason"] = "all values identical: resampling gives no spread"
            else:
                method = "BCa" if len(x) >= min_bca else "percentile"
                low, high = _bootstrap(x, method, n_resamples, confidence_level, rng)
                if method == "BCa" and not (np.isfinite(low) and np.isfinite(high)):
                    method = "percentile (BCa degenerate)"
                    low, high = _bootstrap(x, "percentile", n_resamples, confidence_level, rng)
                row.update(ci_low=low, ci_high=high, method=method)
            rows.append(row)
    return pd.DataFrame(rows, columns=["municipality", "dimension", "n", "n_simulated", "mean", "ci_low",
                                       "ci_high", "method", "reason"])


def _bootstrap(x: np.ndarray, method: str, n_resamples: int, level: float,
               rng: np.random.Generator) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap((x,), np.mean, n_resamples=n_resamples, confidence_level=level,
                              method="BCa" if method == "BCa" else "percentile", rng=rng, vectorized=True)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


# --------------------------------------------------------------------------------------------
# clustering


@dataclass
class Clusters:
    """Result of :func:`cluster_profiles`. ``linkage`` is None when too little data remains (see ``reason``)."""

    municipalities: list[str]
    data_points: list[str]
    distances: pd.DataFrame
    linkage: np.ndarray | None
    clusters: pd.Series
    excluded: pd.DataFrame
    reason: str = ""
    settings: dict[str, float] = field(default_factory=dict)


def _rms_distance(x: np.ndarray, min_common: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise root-mean-square difference over commonly reported columns, and the number of common columns."""
    present = ~np.isnan(x)
    common = present.astype(int) @ present.T.astype(int)
    filled = np.where(present, x, 0.0)
    sq = (filled ** 2 * present) @ present.T.astype(float)
    sq = sq + sq.T - 2.0 * filled @ filled.T  # Σ over common columns of (a − b)²
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.sqrt(np.clip(sq, 0.0, None) / common)
    d[common < min_common] = np.nan
    np.fill_diagonal(d, 0.0)
    return d, common


def cluster_profiles(scored: pd.DataFrame, cat: pd.DataFrame, min_coverage: float = 0.6,
                     min_municipality_coverage: float = 0.5, min_common: int = 5, n_clusters: int = 3,
                     column: str = "achievement") -> Clusters:
    """Average-linkage clustering (scipy) of municipalities' achievement profiles, missing data handled explicitly.

    1. keep data points reported (with an achievement) by at least ``min_coverage`` of the
       municipalities; 2. drop municipalities with fewer than ``min_municipality_coverage`` of the
       kept data points; 3. distance between two municipalities = root-mean-square difference of
       achievement (percentage points) over the data points both report, requiring at least
       ``min_common`` of them; while a pair falls short, the municipality with the fewest values
       is dropped. Everything excluded is listed in ``excluded`` (item, kind, reason). With fewer
       than 3 municipalities left no tree is built and ``reason`` says why.
    """
    matrix = achievement_matrix(scored, cat, column)
    names_all = list(matrix.index)
    excluded: list[dict[str, str]] = []
    share = matrix.notna().mean(axis=0)
    for dp in matrix.columns[share < min_coverage]:
        excluded.append({"item": dp, "kind": "data point",
                         "reason": f"reported by {share[dp]:.0%} of municipalities (< {min_coverage:.0%})"})
    matrix = matrix.loc[:, share >= min_coverage]
    if matrix.shape[1]:
        own = matrix.notna().mean(axis=1)
        for m in matrix.index[own < min_municipality_coverage]:
            excluded.append({"item": m, "kind": "municipality",
                             "reason": f"reports {own[m]:.0%} of the kept data points "
                                       f"(< {min_municipality_coverage:.0%})"})
        matrix = matrix.loc[own >= min_municipality_coverage]
    while len(matrix) >= 2 and matrix.shape[1]:
        d, _ = _rms_distance(matrix.to_numpy(dtype=float), min_common)
        short = np.isnan(d)
        if not short.any():
            break
        worst = matrix.notna().sum(axis=1)[short.any(axis=1)].sort_values(kind="mergesort").index[0]
        excluded.append({"item": worst, "kind": "municipality",
                         "reason": f"shares fewer than {min_common} data points with another municipality"})
        matrix = matrix.drop(index=worst)
    names = list(matrix.index)
    excluded_frame = pd.DataFrame(excluded, columns=["item", "kind", "reason"])
    settings = {"min_coverage": min_coverage, "min_municipality_coverage": min_municipality_coverage,
                "min_common": min_common, "n_clusters": n_clusters}
    if len(names) < 3 or matrix.shape[1] == 0:
        return Clusters(names, list(matrix.columns), pd.DataFrame(index=names, columns=names, dtype=float), None,
                        pd.Series(np.nan, index=names_all, name="cluster"), excluded_frame,
                        reason=(f"no data point is reported by at least {min_coverage:.0%} of municipalities"
                                if matrix.shape[1] == 0 else
                                f"{len(names)} municipalities left after the coverage rules; at least 3 are needed"),
                        settings=settings)
    d, _ = _rms_distance(matrix.to_numpy(dtype=float), min_common)
    link = hierarchy.linkage(squareform(d, checks=False), method="average")
    labels = hierarchy.fcluster(link, t=min(n_clusters, len(names)), criterion="maxclust")
    clusters = pd.Series(labels, index=names, name="cluster").reindex(names_all)
    return Clusters(names, list(matrix.columns), pd.DataFrame(d, index=names, columns=names), link, clusters,
                    excluded_frame, settings=settings)


# --------------------------------------------------------------------------------------------
# figures


def plot_coverage(frame: pd.DataFrame, cat: pd.DataFrame, municipalities: Sequence[str] | None = None) -> Figure:
    """Heatmap of the baseline source per municipality × data point (none, published, city-supplied, simulated)."""
    cov = coverage(frame)
    wide = coverage_matrix(cov, municipalities or sorted(frame["municipality"].unique()), data_point_order(cat))
    keys = ["none", *SOURCE_ORDER]
    codes = wide.apply(lambda col: col.map({k: i for i, k in enumerate(keys)})).to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(14, 0.3 * len(wide) + 2.5))
    ax.imshow(codes, aspect="auto", interpolation="nearest", vmin=-0.5, vmax=len(keys) - 0.5,
              cmap=ListedColormap([SOURCE_COLOURS[k] for k in keys]))
    _municipality_axis(ax, wide.index)
    _data_point_axis(ax, wide.columns, cat)
    n = {k: int((wide.to_numpy() == k).sum()) for k in keys}
    ax.legend(handles=[Patch(facecolor=SOURCE_COLOURS[k], edgecolor="grey", label=f"{k.replace('_', ' ')} ({n[k]})")
                       for k in keys], loc="upper left", bbox_to_anchor=(1.01, 1.0), title="source of baseline value")
    ax.set_title("Coverage: who reports which data point, from which source")
    fig.tight_layout()
    return fig


def _municipality_axis(ax: plt.Axes, names: Sequence[str]) -> None:
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(list(names))
    ax.set_ylabel("municipality")


def _data_point_axis(ax: plt.Axes, data_points: Sequence[str], cat: pd.DataFrame) -> None:
    dim = cat.set_index("data_point_id")["dimension"].reindex(list(data_points))
    starts = [i for i in range(len(dim)) if i == 0 or dim.iloc[i] != dim.iloc[i - 1]]
    for s in starts[1:]:
        ax.axvline(s - 0.5, color="black", linewidth=1)
    ends = starts[1:] + [len(dim)]
    ax.set_xticks([(s + e - 1) / 2 for s, e in zip(starts, ends)])
    ax.set_xticklabels([f"{dim.iloc[s]}\n({e - s} data points)" for s, e in zip(starts, ends)])
    ax.set_xlabel("data point (ordered by dimension, sub-dimension, category)")


def plot_achievement_heatmap(scored: pd.DataFrame, cat: pd.DataFrame,
                             municipalities: Sequence[str] | None = None) -> Figure:
    """Achievement (0–100 %) per municipality × data point; simulated cells marked with a dot, blank = no score."""
    matrix = achievement_matrix(scored, cat, municipalities=municipalities)
    sim = simulated_mask(scored, matrix) & matrix.notna()
    fig, ax = plt.subplots(figsize=(14, 0.3 * len(matrix) + 2.5))
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#e0e0e0")
    image = ax.imshow(np.ma.masked_invalid(matrix.to_numpy(dtype=float)), aspect="auto", interpolation="nearest",
                      cmap=cmap, vmin=0, vmax=100)
    rows, cols = np.nonzero(sim.to_numpy())
    ax.scatter(cols, rows, s=3, c="black", marker="o", linewidths=0)
    _municipality_axis(ax, matrix.index)
    _data_point_axis(ax, matrix.columns, cat)
    fig.colorbar(image, ax=ax, label=ACHIEVEMENT_UNIT, fraction=0.03)
    ax.legend(handles=[Line2D([], [], marker="o", color="black", linestyle="", markersize=3,
                              label=f"simulated ({int(sim.to_numpy().sum())} cells)"),
                       Patch(facecolor="#e0e0e0", label="no score")],
              loc="lower left", bbox_to_anchor=(1.08, 0.0))
    ax.set_title("Achievement per municipality and data point")
    fig.tight_layout()
    return fig


MAX_AXIS_ITEMS = 40
"""Most municipalities a figure's axis labels readably (357 leave no label legible): beyond it the distribution
figure draws one box per group (county) and the dendrogram shows its last merges."""


def plot_distributions(scored: pd.DataFrame, cat: pd.DataFrame, municipalities: Sequence[str] | None = None,
                       groups: pd.Series | None = None, group_label: str = "group") -> Figure:
    """Per dimension, each municipality's data point achievements: box plot plus points (× = simulated).

    With more than ``MAX_AXIS_ITEMS`` municipalities and ``groups`` (municipality → group, as the group tests use),
    one box per group holds the data points of all its municipalities (one without a group, a city outside
    Norway under ``county``, is left out); the axis names the grouping and each box its number of municipalities.
    """
    names = list(municipalities) if municipalities is not None else sorted(scored["municipality"].unique())
    if groups is not None and len(names) > MAX_AXIS_ITEMS:
        box_of = groups.reindex(names).dropna().astype(str)
        counts = box_of.value_counts()
        boxes = sorted(counts.index)
        labels = [f"{b} ({counts[b]})" for b in boxes]
        xlabel = f"{group_label} (municipalities in it)"
    else:
        box_of = pd.Series(names, index=names)
        boxes = labels = names
        xlabel = "municipality"
    have = scored[scored["achievement"].notna() & scored["municipality"].isin(box_of.index)]
    have = have.assign(box=have["municipality"].map(box_of))
    dims = sorted(cat.loc[cat["direction"] != "descriptive", "dimension"].unique())
    fig, axes = plt.subplots(len(dims), 1, figsize=(12, 3.2 * len(dims)), sharex=True, squeeze=False)
    position = {b: i for i, b in enumerate(boxes)}
    for ax, dimension in zip(axes[:, 0], dims):
        sub = have[have["dimension"] == dimension]
        values = {b: cell.to_numpy() for b, cell in sub.groupby("box", sort=False)["achievement"]}
        ax.boxplot([values[b] if b in values else [np.nan] for b in boxes], positions=range(len(boxes)), widths=0.6,
                   showfliers=False)
        # one scatter per marker (not per box: 357 of them took 20 s), jittered in box order
        points = sub.assign(x=sub["box"].map(position), simulated=sub["source_type"].eq("simulated"))
        points = points.sort_values(["x", "simulated"], kind="mergesort")
        x = points["x"].to_numpy() + np.random.default_rng(0).uniform(-0.2, 0.2, len(points))
        for simulated, marker, colour in ((False, "o", "#1b7837"), (True, "x", "#b35806")):
            shown = points["simulated"].to_numpy() == simulated
            ax.scatter(x[shown], points["achievement"].to_numpy()[shown], marker=marker, s=12, color=colour,
                       alpha=0.7, linewidths=0.8)
        ax.set_title(dimension)
        ax.set_ylabel("achievement (%)")
        ax.set_ylim(-5, 105)
    last = axes[-1, 0]
    last.set_xticks(range(len(boxes)))
    last.set_xticklabels(labels, rotation=45, ha="right")
    last.set_xlabel(xlabel)
    axes[0, 0].legend(handles=[Line2D([], [], marker="o", color="#1b7837", linestyle="",
                                      label="published / city-supplied"),
                               Line2D([], [], marker="x", color="#b35806", linestyle="", label="simulated")],
                      loc="lower right", fontsize="small")
    fig.suptitle("Distribution of data point achievement (% of target, capped 0–100) per dimension")
    fig.tight_layout()
    return fig


def plot_dendrogram(result: Clusters) -> Figure:
    """Dendrogram of :func:`cluster_profiles`; when no tree could be built the figure says why. Beyond
    ``MAX_AXIS_ITEMS`` municipalities only the last merges are drawn, a leaf "(n)" standing for n municipalities."""
    fig, ax = plt.subplots(figsize=(10, 5))
    truncated = len(result.municipalities) > MAX_AXIS_ITEMS
    ax.set_title(f"Municipality profiles, average linkage over {len(result.data_points)} data points"
                 + (f"\nthe last {MAX_AXIS_ITEMS} clusters of {len(result.municipalities)} municipalities; "
                    "(n): a cluster of n" if truncated else ""))
    ax.set_ylabel("distance (RMS achievement difference, percentage points)")
    ax.set_xlabel("cluster of municipalities" if truncated else "municipality")
    if result.linkage is None:
        ax.text(0.5, 0.5, f"No clustering: {result.reason}", ha="center", va="center", wrap=True,
                transform=ax.transAxes)
        ax.set_xticks([])
        return fig
    hierarchy.dendrogram(result.linkage, labels=result.municipalities, ax=ax, leaf_rotation=45,
                         **({"truncate_mode": "lastp", "p": MAX_AXIS_ITEMS} if truncated else {}))
    if len(result.excluded):
        n_m = int((result.excluded["kind"] == "municipality").sum())
        n_d = int((result.excluded["kind"] == "data point").sum())
        ax.text(1.0, 1.0, f"excluded: {n_m} municipalities, {n_d} data points", ha="right", va="bottom",
                fontsize="small", transform=ax.transAxes)
    fig.tight_layout()
    return fig


def plot_rank_intervals(bands: pd.DataFrame, simulated_threshold: float = 0.5) -> Figure:
    """Rank bands from analysis.uncertainty.monte_carlo_ranks: 5th–95th percentile, median and nominal rank.

    Municipalities whose scored values are mostly simulated (share above ``simulated_threshold``)
    are drawn hatched and listed as "mostly simulated" in the legend.
    """
    frame = bands.dropna(subset=["median_rank"]).iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(frame) + 1.8))
    sim = frame.get("share_simulated", pd.Series(np.nan, index=frame.index)).fillna(0) > simulated_threshold
    for i, row in frame.iterrows():
        ax.barh(i, row["p95_rank"] - row["p5_rank"] + 0.0001, left=row["p5_rank"], height=0.5,
                color="#9ecae1", edgecolor="#3182bd", hatch="///" if sim[i] else None)
    ax.scatter(frame["median_rank"], frame.index, color="black", zorder=3, s=18)
    ax.scatter(frame["nominal_rank"], frame.index, color="#d62728", marker="D", zorder=4, s=18)
    ax.set_yticks(frame.index)
    ax.set_yticklabels(frame["municipality"])
    ax.set_xlim(0.5, max(float(frame[["p95_rank", "nominal_rank"]].max().max()), 1.0) + 0.5)
    ax.set_xlabel("rank (1 = best)")
    ax.set_ylabel("municipality")
    ax.set_title("Rank under uncertainty in construction choices (5th–95th percentile)")
    ax.legend(handles=[Patch(facecolor="#9ecae1", edgecolor="#3182bd", label="5th–95th percentile rank"),
                       Line2D([], [], marker="o", color="black", linestyle="", label="median rank"),
                       Line2D([], [], marker="D", color="#d62728", linestyle="", label="nominal rank"),
                       Patch(facecolor="#9ecae1", edgecolor="#3182bd", hatch="///",
                             label=f"mostly simulated (> {simulated_threshold:.0%} of values)")],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    fig.tight_layout()
    return fig


def plot_sobol(sobol: pd.DataFrame) -> Figure:
    """First-order and total Sobol index per construction choice (analysis.uncertainty.sobol_indices), with 95 % intervals.

    Choices without indices (fewer than two municipalities ranked, or ranks that never move) leave
    the figure empty with the reason written on it.
    """
    frame = sobol.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(frame) + 1.8))
    ax.set_xlabel("Sobol index (share of the variance of the mean absolute rank shift)")
    ax.set_ylabel("construction choice")
    ax.set_title("Which construction choice moves the ranks most")
    if frame[["S1", "ST"]].isna().all().all():
        ax.text(0.5, 0.5, f"No Sobol indices: {frame['reason'].iloc[0]}" if len(frame) else "No Sobol indices",
                ha="center", va="center", wrap=True, transform=ax.transAxes)
        ax.set_yticks([])
        return fig
    y = np.arange(len(frame))
    for offset, column, colour, hatch, label in ((0.18, "ST", palette.BAND_HEX[scoring.BAND_LABELS[3]], None,
                                                  "total index ST (with interactions)"),
                                                 (-0.18, "S1", palette.BAND_HEX[scoring.BAND_LABELS[2]], "///",
                                                  "first-order index S1 (own effect)")):
        ax.barh(y + offset, frame[column], height=0.34, xerr=frame[f"{column}_conf"], color=colour, hatch=hatch,
                edgecolor="black", linewidth=0.5, error_kw={"elinewidth": 0.8, "capsize": 2}, label=label)
    ax.set_yticks(y)
    ax.set_yticklabels(frame["factor"])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(min(0.0, float((frame["S1"] - frame["S1_conf"]).min())) - 0.02,
                max(1.0, float((frame["ST"] + frame["ST_conf"]).max())) + 0.02)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig

