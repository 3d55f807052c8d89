"""Investment and innovation opportunity ranking per municipality, with its stability over weights and methods.

UNECE city profiles choose projects by hand; this module ranks the investment themes of
``data/raw/investment_themes.csv`` (one row per theme × data point it moves) for one municipality
on four criteria that describe an investment, by three MCDA methods, and says how stable the
ranking is. ``data/raw/investment_costs.csv`` gives each theme a cost class and the service area
that would own it. The rules are stated in ``docs/invest.md``; in short, for municipality m and
theme t (``g_i = (100 − a_i) / 100`` the gap to target of data point i, ``a_i`` the capped
achievement in %):

- a data point listed by ``k_i`` themes enters each with weight ``u_i = 1 / k_i``, and an SDG
  target served by ``n_s`` themes enters each with weight ``v_s = 1 / n_s``: over all themes,
  every data point and every SDG target counts once;
- **need** = ``Σ_i u_i g_i / U``, ``U = max_t Σ_{i∈t} u_i``: the gap the theme can close;
- **impact** = ``Σ_{s∈S(t)} v_s ĝ_s / V``, ``V = max_t Σ_{s∈S(t)} v_s``, where ``ĝ_s`` is m's mean
  gap over all its scored data points linked to SDG target s: breadth counted only where m falls short;
- **feasibility** = ``Σ u_i g_i f_i / Σ u_i g_i`` over the data points with a gap and a peer value,
  ``f_i`` = the share of m's peers (with a value) that have closed at least half of m's gap
  (``a_p ≥ a_m + (100 − a_m) / 2``);
- **cost** = 0, 0.5, 1 for the classes low, medium, high (a cost criterion: lower is better);
- **evidence** = ``Σ_{i observed} u_i g_i / Σ_i u_i g_i``, the share of the need resting on
  published or city-supplied values: shown beside the rank and usable as a filter
  (``invest.min_evidence``), never a merit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis import catalogue, paths, scoring
from analysis.errors import InputError
from analysis.files import read_csv

if TYPE_CHECKING:
    import pandera.pandas as pa

CRITERIA = ("need", "impact", "feasibility", "cost")
TYPES = np.array([1, 1, 1, -1])
"""Criterion types as pymcdm takes them: 1 benefit, −1 cost."""
DEFAULT_WEIGHTS = {"need": 0.35, "impact": 0.25, "feasibility": 0.2, "cost": 0.2}
RETIRED_CRITERIA = {"sdg_breadth": "replaced by 'impact' (SDG targets counted only where the municipality falls short)",
                    "confidence": "evidence is shown beside the rank and can filter, but is no merit"}
METHODS = ("weighted_sum", "topsis", "promethee_ii")
METHOD_LABELS = {"weighted_sum": "weighted sum", "topsis": "TOPSIS", "promethee_ii": "PROMETHEE II"}
RANK_COLUMNS = {"weighted_sum": "ws_rank", "topsis": "topsis_rank", "promethee_ii": "promethee_rank"}
SCORE_COLUMNS = {"weighted_sum": "ws_score", "topsis": "topsis_score", "promethee_ii": "promethee_score"}
THEME_COLUMNS = ("theme_id", "theme_name", "data_point_id", "sdg_targets", "rationale", "source")
COSTS = paths.RAW / "investment_costs.csv"
COST_COLUMNS = ("theme_id", "cost_class", "service_area", "basis", "reasoning", "source")
COST_CLASSES = {"low": 0.0, "medium": 0.5, "high": 1.0}
COST_BASES = ("published", "project judgement")
CONCENTRATION = 20.0
"""Dirichlet concentration κ of the weight draws (α = κ · w)."""
TOP = 3
STABLE_HIGH, STABLE_LOW = 0.8, 0.2
CLOSED_SHARE = 0.5
"""A peer has 'closed the gap' when it is at least this share of the municipality's gap above it."""
REAL_EVIDENCE = 0.5
"""A municipality's gap on a theme rests on real values when at least this share of its need is observed."""
OBSERVED = ("published", "city-supplied", "national_statistics")
AT_TARGET = 100.0 - 1e-9
RANKED, NO_GAP, NOT_SCORED, FILTERED = "ranked", "no gap", "not scored", "below evidence filter"
WHAT_IF_COLUMNS = ("municipality", "theme_id", "dimension", "u4ssc_score_before", "u4ssc_score_after",
                   "mean_achievement_before", "mean_achievement_after", "u4ssc_score_change",
                   "mean_achievement_change", "n_data_points_closed")


# ----------------------------------------------------------------------------- themes file
def load_themes(path: str | Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and validate the themes file; every bad row is named (file, row, column).

    Adds ``sdg_target_list`` (tuple of SDG targets of the row).
    """
    from analysis import validation

    path = Path(path) if path is not None else paths.THEMES

    def read() -> pd.DataFrame:
        frame = read_csv(path, dtype=str, keep_default_na=False)
        if frame.empty:
            raise InputError.single(path, "no data rows below the header")
        return validate_themes(frame, path, cat)

    if cat is None:
        return read()
    return validation.once(path, tuple(cat["data_point_id"]), read)


def themes_schema(cat: pd.DataFrame) -> "pa.DataFrameSchema":
    """The themes file's pandera schema: ids, names, registry data points and SDG targets; one name per theme."""
    import pandera.pandas as pa

    from analysis.validation import check, known, row_check, text

    def one_name(d: pd.DataFrame) -> pd.Series:
        first = d.groupby("theme_id")["theme_name"].transform("first")
        return d["theme_name"].eq(first) | d["theme_name"].eq("") | d["theme_id"].eq("")

    return pa.DataFrameSchema({
        "theme_id": text(), "theme_name": text(),
        "data_point_id": known(cat["data_point_id"], "data point id", paths.CATALOGUE.name),
        "sdg_targets": text(checks=[check(catalogue.sdg_targets_valid, catalogue.SDG_TARGETS_EXPECTED)]),
        "rationale": text(required=False), "source": text(required=False),
    }, checks=[row_check(one_name, "differs from the theme's name in its first row; one name per theme_id",
                         "theme_name")],
        unique=["theme_id", "data_point_id"], report_duplicates="exclude_first")


def validate_themes(frame: pd.DataFrame, file: str | Path = "themes",
                    cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check a themes frame against the registry (:func:`themes_schema`) and return it with ``sdg_target_list``."""
    from analysis import validation

    cat = catalogue.load() if cat is None else cat
    frame = _stripped(frame, THEME_COLUMNS)
    validation.validate(frame, themes_schema(cat), file)
    frame["sdg_target_list"] = catalogue.target_lists(frame["sdg_targets"])
    return frame


def _stripped(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """A copy with the given columns (where present) as stripped text, an empty cell as ''."""
    frame = frame.copy()
    for column in [c for c in columns if c in frame.columns]:
        frame[column] = frame[column].fillna("").astype(str).str.strip()
    return frame


def _themes(themes: pd.DataFrame | None, cat: pd.DataFrame) -> pd.DataFrame:
    if themes is None:
        return load_themes(cat=cat)
    if "sdg_target_list" not in themes.columns:
        return validate_themes(themes, "themes", cat)
    return themes


def load_costs(path: str | Path | None = None, theme_ids: list[str] | None = None) -> pd.DataFrame:
    """Read and validate the cost file (one row per theme: cost class, owner, basis, reasoning, source)."""
    from analysis import validation

    path = Path(path) if path is not None else COSTS

    def read() -> pd.DataFrame:
        frame = validation.read_text(path)
        if frame.empty:
            raise InputError.single(path, "no data rows below the header")
        return validate_costs(frame, path, theme_ids)

    return validation.once(path, None if theme_ids is None else tuple(theme_ids), read)


def costs_schema(theme_ids: list[str] | None = None) -> "pa.DataFrameSchema":
    """The cost file's pandera schema: one row per theme (of ``theme_ids`` when given), a class, an owner, a reason."""
    import pandera.pandas as pa

    from analysis.validation import check, one_of, row_check, table_check, text

    theme = text()
    checks = [row_check(lambda d: d["basis"].ne("published") | d["source"].str.match(r"https?://").fillna(False).astype(bool),
                        "a published cost class needs the URL of its source", "source")]
    if theme_ids is not None:
        theme = text(checks=[check(lambda s: s.isin(theme_ids), f"unknown theme; expected a theme_id of {paths.THEMES.name}")])
        checks.append(table_check(lambda d: set(theme_ids) <= set(d["theme_id"]),
                                  f"every theme of {paths.THEMES.name} needs a cost row", "theme_id",
                                  found=lambda d: f"none for {sorted(set(theme_ids) - set(d['theme_id']))}"))
    return pa.DataFrameSchema({
        "theme_id": theme, "cost_class": one_of(COST_CLASSES, what="a cost class,"), "service_area": text(),
        "basis": one_of(COST_BASES, what="a basis,"), "reasoning": text(), "source": text(required=False),
    }, checks=checks, unique=["theme_id"], report_duplicates="exclude_first")


def validate_costs(frame: pd.DataFrame, file: str | Path = "costs", theme_ids: list[str] | None = None) -> pd.DataFrame:
    """Every theme has one cost class, an owner and a reasoning; a 'published' class names its source."""
    from analysis import validation

    frame = _stripped(frame, COST_COLUMNS)
    validation.validate(frame, costs_schema(theme_ids), file)
    frame["cost"] = frame["cost_class"].map(COST_CLASSES)
    return frame


def _costs(costs: pd.DataFrame | None, theme_ids: list[str]) -> pd.DataFrame:
    """The cost rows of ``theme_ids``: ``costs`` when given (tests), else the validated cost file."""
    file = "costs" if costs is not None else str(COSTS)
    if costs is None:
        costs = load_costs()
    elif "cost" not in costs.columns:
        costs = validate_costs(costs, file)
    missing = [t for t in theme_ids if t not in set(costs["theme_id"])]
    if missing:
        raise InputError.single(file, f"themes {missing} have no cost row; expected one row per theme_id "
                                      f"with {list(COST_COLUMNS)}", column="theme_id")
    return costs[costs["theme_id"].isin(theme_ids)]


# ----------------------------------------------------------------------------- parameters
def _invest_params(a: Any) -> dict[str, Any]:
    return dict((getattr(a, "params", None) or {}).get("invest", {}) or {})


def criteria_weights(a: Any, weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Criteria weights (order of CRITERIA) from ``weights`` or the parameters, scaled to sum to 1.

    A criterion the parameters do not give keeps its weight of ``DEFAULT_WEIGHTS``.
    """
    given = dict(DEFAULT_WEIGHTS)
    for source, values in (("invest.criteria_weights", _invest_params(a).get("criteria_weights", {}) or {}),
                           ("weights", weights or {})):
        retired = sorted(set(values) & set(RETIRED_CRITERIA))
        unknown = sorted(set(values) - set(CRITERIA) - set(RETIRED_CRITERIA))
        if retired:
            raise InputError.single("parameters", "; ".join(f"'{c}' is no longer a criterion: {RETIRED_CRITERIA[c]}"
                                                            for c in retired) + f"; expected {list(CRITERIA)}",
                                    column=source, label="key")
        if unknown:
            raise InputError.single("parameters", f"unknown criteria {unknown}; expected {list(CRITERIA)}",
                                    column=source, label="key")
        given.update(values)
    w = np.array([float(given[c]) for c in CRITERIA])
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise InputError.single("parameters", f"criteria weights {dict(zip(CRITERIA, w.tolist()))} must be "
                                              f"non-negative with a positive sum",
                                column="invest.criteria_weights", label="key")
    return w / w.sum()


def _priorities(a: Any, theme_ids: list[str]) -> pd.Series:
    given = _invest_params(a).get("theme_priorities", {}) or {}
    unknown = sorted(set(given) - set(theme_ids))
    if unknown:
        raise InputError.single("parameters", f"unknown themes {unknown}; expected theme ids of "
                                              f"{paths.THEMES.name}: {sorted(theme_ids)}",
                                column="invest.theme_priorities", label="key")
    return pd.Series({t: float(given.get(t, 1.0)) for t in theme_ids}, name="priority")


def min_evidence(a: Any) -> float:
    """``invest.min_evidence`` (default 0: no filter): themes whose need rests less on real values are not ranked."""
    value = float(_invest_params(a).get("min_evidence", 0.0) or 0.0)
    if not 0.0 <= value <= 1.0:
        raise InputError.single("parameters", f"{value} is not a share; expected a number from 0 to 1",
                                column="invest.min_evidence", label="key")
    return value


def _resolve(a: Any, municipality: str) -> str:
    from analysis.municipalities import resolve

    return resolve(municipality, list(a.municipalities), "arguments", "municipality", "key")


def peer_sets(a: Any, panel: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """Peers of every municipality under ``params['peer_group']`` (never the municipality itself)."""
    from analysis import municipalities

    names = list(a.municipalities)
    group = (getattr(a, "params", None) or {}).get("peer_group", {}) or {}
    if (group.get("by") or "all") == "all":  # no registry needed: everyone else
        return {m: [p for p in names if p != m] for m in names}
    panel = municipalities.load() if panel is None else panel
    return {m: [p for p in municipalities.peers(panel, m, group, names) if p != m] for m in names}


# ----------------------------------------------------------------------------- shared data points and targets
def shares(themes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split weights: (theme × data point with ``u = 1 / k``, theme × SDG target with ``v = 1 / n``).

    ``k`` is the number of themes listing the data point, ``n`` the number serving the SDG target,
    so that, summed over themes, each data point and each SDG target weighs 1.
    """
    dp = themes[["theme_id", "data_point_id"]].drop_duplicates()
    dp = dp.assign(n_themes=dp.groupby("data_point_id")["theme_id"].transform("size"))
    dp["u"] = 1.0 / dp["n_themes"]
    sdg = (themes[["theme_id", "sdg_target_list"]].explode("sdg_target_list").dropna()
           .rename(columns={"sdg_target_list": "sdg_target"}).drop_duplicates())
    sdg = sdg.assign(n_themes=sdg.groupby("sdg_target")["theme_id"].transform("size"))
    sdg["v"] = 1.0 / sdg["n_themes"]
    return dp.reset_index(drop=True), sdg.reset_index(drop=True)


def _sdg_links(cat: pd.DataFrame, themes: pd.DataFrame) -> pd.DataFrame:
    """Data point × SDG target links of the registry and of the themes file together."""
    parts = [themes[["data_point_id", "sdg_target_list"]]]
    if "sdg_target_list" in cat.columns:
        parts.append(cat[["data_point_id", "sdg_target_list"]])
    links = pd.concat(parts).explode("sdg_target_list").dropna()
    return links.rename(columns={"sdg_target_list": "sdg_target"}).drop_duplicates().reset_index(drop=True)


# ----------------------------------------------------------------------------- criteria
def _peer_matrix(a: Any, names: list[str], panel: pd.DataFrame | None) -> np.ndarray:
    peers = peer_sets(a, panel)
    idx = {m: k for k, m in enumerate(names)}
    P = np.zeros((len(names), len(names)), dtype=bool)
    for m, ps in peers.items():
        P[idx[m], [idx[p] for p in ps]] = True
    return P


def _peer_closure(A: np.ndarray, P: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the municipalities ``rows``: peers with a value and peers that closed half the gap, per data point.

    ``A`` municipality × data point achievement (NaN = no value); ``P`` peer matrix. Chunked over
    municipalities so that the panel of all Norway (357) stays within memory.
    """
    has = ~np.isnan(A)
    n_values = P[rows].astype(float) @ has.astype(float)
    n_closed = np.zeros_like(n_values)
    filled = np.where(has, A, -np.inf)
    for start in range(0, len(rows), 64):
        block = rows[start:start + 64]
        own = A[block]                                           # block × dp
        threshold = own + CLOSED_SHARE * (100.0 - own)
        closed = filled[None, :, :] >= threshold[:, None, :] - 1e-9   # block × peers × dp
        n_closed[start:start + len(block)] = np.einsum("bp,bpd->bd", P[block].astype(float), closed)
    return n_values, n_closed


def criteria(a: Any, themes: pd.DataFrame | None = None, municipalities: list[str] | None = None,
             panel: pd.DataFrame | None = None, costs: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per municipality × theme: need, impact, feasibility, cost, evidence, priority and the counts behind them.

    Vectorised over municipalities, themes and data points (no loop over themes).
    """
    cat = a.catalogue
    th = _themes(themes, cat)
    names = list(a.municipalities) if municipalities is None else [_resolve(a, m) for m in municipalities]
    theme_ids = list(dict.fromkeys(th["theme_id"]))
    cost = _costs(costs, theme_ids).set_index("theme_id")
    dp_share, sdg_share = shares(th)
    scored = a.scored[a.scored["achievement"].notna()]
    scored = scored.drop_duplicates(["municipality", "data_point_id"], keep="last")

    # feasibility: achievement matrix municipality × data point over the whole assessment (peers included)
    dps = sorted(set(th["data_point_id"]))
    all_names = list(a.municipalities)
    ach = (scored.pivot(index="municipality", columns="data_point_id", values="achievement")
           .reindex(index=all_names, columns=dps))
    P = _peer_matrix(a, all_names, panel)
    rows = np.array([all_names.index(m) for m in names], dtype=int)
    n_values, n_closed = _peer_closure(ach.to_numpy(dtype=float), P, rows)
    stats = pd.DataFrame({
        "municipality": np.repeat(names, len(dps)), "data_point_id": np.tile(dps, len(names)),
        "n_peers": np.repeat(P[rows].sum(axis=1), len(dps)).astype(int),
        "n_peer_values": n_values.ravel(), "n_peer_closed": n_closed.ravel(),
    })

    own = scored[scored["municipality"].isin(names)][["municipality", "data_point_id", "achievement", "source_type"]]
    grid = pd.DataFrame({"municipality": names}).merge(dp_share[["theme_id", "data_point_id", "u"]], how="cross")
    long = grid.merge(own, on=["municipality", "data_point_id"], how="left")
    long = long.merge(stats, on=["municipality", "data_point_id"], how="left")
    ok = long["achievement"].notna()
    gap = np.clip(np.where(ok, (100.0 - long["achievement"]) / 100.0, 0.0), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = long["n_peer_closed"] / long["n_peer_values"]
    evidence = ok & (gap > 0) & (long["n_peer_values"] > 0)
    observed = ok & long["source_type"].isin(OBSERVED)
    ug = long["u"] * gap
    long = long.assign(
        is_scored=ok, ug=ug, below=ok & (gap > 1e-12),
        ug_ev=np.where(evidence, ug, 0.0), ugf=np.where(evidence, ug * f, 0.0),
        ug_observed=np.where(observed, ug, 0.0),
        published=ok & long["source_type"].eq("published"), city=ok & long["source_type"].eq("city-supplied"),
        simulated=ok & ~long["source_type"].isin(OBSERVED),
    )
    g = long.groupby(["municipality", "theme_id"], sort=False)
    out = pd.DataFrame({
        "n_data_points": g.size(), "n_scored": g["is_scored"].sum(), "n_below_target": g["below"].sum(),
        "mean_achievement": g["achievement"].mean(),
        "sum_ug": g["ug"].sum(), "sum_ug_ev": g["ug_ev"].sum(), "sum_ugf": g["ugf"].sum(),
        "sum_ug_observed": g["ug_observed"].sum(),
        "n_published": g["published"].sum(), "n_city_supplied": g["city"].sum(), "n_simulated": g["simulated"].sum(),
        "n_peers": g["n_peers"].max(),
    }).reset_index()
    u_max = float(dp_share.groupby("theme_id")["u"].sum().max())
    with np.errstate(divide="ignore", invalid="ignore"):
        out["need"] = out["sum_ug"] / u_max
        has_ev = out["sum_ug_ev"] > 0
        out["feasibility"] = np.where(has_ev, out["sum_ugf"] / out["sum_ug_ev"], 0.0)
        out["evidence"] = np.where(out["sum_ug"] > 0, out["sum_ug_observed"] / out["sum_ug"], np.nan)
    out["peer_evidence"] = has_ev

    # impact: the municipality's mean gap on each SDG target, over all its scored data points linked to it
    links = _sdg_links(cat, th)
    sdg_gap = (own.merge(links, on="data_point_id")
               .assign(gap=lambda f: np.clip((100.0 - f["achievement"]) / 100.0, 0.0, 1.0))
               .groupby(["municipality", "sdg_target"])["gap"].mean().rename("sdg_gap").reset_index())
    served = (pd.DataFrame({"municipality": names}).merge(sdg_share[["theme_id", "sdg_target", "v"]], how="cross")
              .merge(sdg_gap, on=["municipality", "sdg_target"], how="left"))
    served["v_gap"] = served["v"] * served["sdg_gap"].fillna(0.0)
    served["short"] = served["sdg_gap"].fillna(0.0) > 1e-12
    gs = served.groupby(["municipality", "theme_id"])
    impact = pd.DataFrame({"sum_v_gap": gs["v_gap"].sum(), "n_sdg_targets": gs.size(),
                           "n_sdg_short": gs["short"].sum()}).reset_index()
    out = out.merge(impact, on=["municipality", "theme_id"], how="left")
    v_max = float(sdg_share.groupby("theme_id")["v"].sum().max())
    out["impact"] = out["sum_v_gap"] / v_max

    out["cost_class"] = out["theme_id"].map(cost["cost_class"])
    out["cost"] = out["theme_id"].map(cost["cost"]).astype(float)
    out["service_area"] = out["theme_id"].map(cost["service_area"])
    out["priority"] = out["theme_id"].map(_priorities(a, theme_ids))
    names_map = th.drop_duplicates("theme_id").set_index("theme_id")["theme_name"]
    out.insert(2, "theme_name", out["theme_id"].map(names_map))
    floor = min_evidence(a)
    out["status"] = np.select([out["n_scored"] == 0, out["need"] <= 0, out["evidence"] < floor],
                              [NOT_SCORED, NO_GAP, FILTERED], RANKED)
    out.loc[out["status"] == NOT_SCORED, ["need", "impact", "feasibility"]] = np.nan
    for column in ("n_scored", "n_below_target", "n_published", "n_city_supplied", "n_simulated", "n_peers",
                   "n_sdg_targets", "n_sdg_short"):
        out[column] = out[column].astype(int)
    return out.drop(columns=["sum_ug", "sum_ug_ev", "sum_ugf", "sum_ug_observed", "sum_v_gap"])


def _own_criteria(a: Any, municipality: str, themes: pd.DataFrame | None, panel: pd.DataFrame | None,
                  crit: pd.DataFrame | None) -> pd.DataFrame:
    """``criteria`` of one (resolved) municipality: ``crit`` when given, else computed."""
    if crit is None:
        return criteria(a, themes, [municipality], panel)
    if set(crit["municipality"]) != {municipality}:
        raise ValueError(f"criteria given for {sorted(set(crit['municipality']))}, expected {municipality!r}")
    return crit.reset_index(drop=True)


# ----------------------------------------------------------------------------- MCDA methods
def _unit_normalisation(x: np.ndarray, cost: bool = False) -> np.ndarray:
    """Criteria already in [0, 1]: a benefit stays, a cost becomes ``1 − x`` (comparable weights)."""
    x = np.asarray(x, dtype=float)
    return 1.0 - x if cost else x


def _vector_normalisation(x: np.ndarray, cost: bool = False) -> np.ndarray:
    """``x / ||x||`` (benefit) or ``1 − x / ||x||`` (cost), as in pymcdm, but a zero column stays 0."""
    norm = np.sqrt(np.sum(np.asarray(x, dtype=float) ** 2))
    r = x / norm if norm > 0 else np.zeros_like(x, dtype=float)
    return 1.0 - r if cost else r


def weighted_sum(matrix: np.ndarray, weights: np.ndarray, types: np.ndarray = TYPES) -> np.ndarray:
    """``Σ_j w_j x̃_j`` with ``x̃ = x`` for a benefit and ``1 − x`` for a cost (pymcdm WSM), in [0, 1]."""
    from pymcdm.methods import WSM

    w = np.asarray(weights, dtype=float)
    return WSM(normalization_function=_unit_normalisation)(np.asarray(matrix, dtype=float), w / w.sum(),
                                                           np.asarray(types), validation=False)


def topsis(matrix: np.ndarray, weights: np.ndarray, types: np.ndarray = TYPES) -> np.ndarray:
    """TOPSIS closeness ``C = D⁻ / (D⁺ + D⁻)`` (pymcdm, vector normalisation); 0/0 (all equal) gives 1/2."""
    from pymcdm.methods import TOPSIS

    X = np.asarray(matrix, dtype=float)
    w = np.asarray(weights, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = TOPSIS(normalization_function=_vector_normalisation)(X, w / w.sum(), np.asarray(types), validation=False)
    return np.where(np.isnan(c), 0.5, c)


def promethee_ii(matrix: np.ndarray, weights: np.ndarray, types: np.ndarray = TYPES) -> np.ndarray:
    """PROMETHEE II net flow ``φ = φ⁺ − φ⁻`` with the usual preference function (pymcdm), in [−1, 1]."""
    from pymcdm.methods import PROMETHEE_II

    X = np.asarray(matrix, dtype=float)
    if X.shape[0] < 2:
        return np.zeros(X.shape[0])
    w = np.asarray(weights, dtype=float)
    return PROMETHEE_II("usual")(X, w / w.sum(), np.asarray(types), validation=False)


def method_score(method: str, matrix: np.ndarray, weights: np.ndarray, types: np.ndarray = TYPES) -> np.ndarray:
    """A method's score on a common [0, 1] scale (PROMETHEE II: ``(φ + 1) / 2``), higher is better."""
    if method == "weighted_sum":
        return weighted_sum(matrix, weights, types)
    if method == "topsis":
        return topsis(matrix, weights, types)
    if method == "promethee_ii":
        return (promethee_ii(matrix, weights, types) + 1.0) / 2.0
    raise ValueError(f"unknown method '{method}'; expected one of {list(METHODS)}")


def _benefit(X: np.ndarray, types: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(types)[None, :] < 0, 1.0 - X, X)


def scores_many(method: str, matrix: np.ndarray, weights: np.ndarray, types: np.ndarray = TYPES) -> np.ndarray:
    """A method's [0, 1] scores for many weight vectors at once: ``weights`` (draws × criteria) → (draws × rows).

    The same formulas as ``method_score`` (tests compare them draw by draw), vectorised over draws.
    """
    X = np.asarray(matrix, dtype=float)
    W = np.atleast_2d(np.asarray(weights, dtype=float))
    W = W / W.sum(axis=1, keepdims=True)
    types = np.asarray(types)
    if method == "weighted_sum":
        return W @ _benefit(X, types).T
    if method == "promethee_ii":
        n = X.shape[0]
        if n < 2:
            return np.full((W.shape[0], n), 0.5)
        d = np.sign(X[:, None, :] - X[None, :, :]) * types[None, None, :]   # rows × rows × criteria
        D = d.sum(axis=1) / (n - 1)                                          # net flow per unit weight
        return (W @ D.T + 1.0) / 2.0
    if method == "topsis":
        norms = np.sqrt((X ** 2).sum(axis=0))
        R = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
        R = np.where(types[None, :] < 0, 1.0 - R, R)
        V = R[None, :, :] * W[:, None, :]                                     # draws × rows × criteria
        pis, nis = V.max(axis=1, keepdims=True), V.min(axis=1, keepdims=True)
        dp = np.sqrt(((V - pis) ** 2).sum(axis=2))
        dm = np.sqrt(((V - nis) ** 2).sum(axis=2))
        with np.errstate(divide="ignore", invalid="ignore"):
            c = dm / (dm + dp)
        return np.where(np.isnan(c), 0.5, c)
    raise ValueError(f"unknown method '{method}'; expected one of {list(METHODS)}")


def _competition_rank(score: np.ndarray) -> np.ndarray:
    """1 = highest; ties share the best rank."""
    return pd.Series(np.round(score, 12)).rank(method="min", ascending=False).to_numpy().astype(int)


def _rank_frame(crit: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    """Every method's score (times the theme's priority) and rank for one municipality's criteria frame.

    Themes without a gap, or below the evidence filter, come after every ranked theme.
    """
    out = crit.copy()
    ranked = (out["status"] == RANKED).to_numpy()
    rest = out["status"].isin([NO_GAP, FILTERED]).to_numpy()
    X = out.loc[ranked, list(CRITERIA)].to_numpy(dtype=float)
    prio = out.loc[ranked, "priority"].to_numpy(dtype=float)
    n = int(ranked.sum())
    for method in METHODS:
        score = np.full(len(out), np.nan)
        rank = np.full(len(out), np.nan)
        if n:
            score[ranked] = prio * method_score(method, X, w)
            rank[ranked] = _competition_rank(score[ranked])
        rank[rest] = n + 1
        out[SCORE_COLUMNS[method]] = score
        out[RANK_COLUMNS[method]] = pd.array(rank, dtype="Int64")
    out["n_ranked"] = n
    out = out.join(_drivers(out, w))
    return out


def _drivers(out: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    """Per ranked theme, the criterion that lifts its weighted sum most above the average theme, and the one
    that holds it back most: contribution ``w_j (x̃_j − mean x̃_j)`` over the ranked themes."""
    ranked = out["status"] == RANKED
    drive = pd.Series(pd.NA, index=out.index, dtype=object)
    drag = pd.Series(pd.NA, index=out.index, dtype=object)
    if ranked.sum() >= 2:
        Xb = _benefit(out.loc[ranked, list(CRITERIA)].to_numpy(dtype=float), TYPES)
        C = w[None, :] * (Xb - Xb.mean(axis=0, keepdims=True))
        names = np.array(CRITERIA, dtype=object)
        drive[ranked] = np.where(C.max(axis=1) > 1e-12, names[C.argmax(axis=1)], pd.NA)
        drag[ranked] = np.where(C.min(axis=1) < -1e-12, names[C.argmin(axis=1)], pd.NA)
    return pd.DataFrame({"driver": drive, "drag": drag})


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def criterion_phrase(row: pd.Series, criterion: str, municipality: str, lifts: bool = True) -> str:
    """The words for one criterion of a theme, with its value, for the explanation and the recommendations."""
    if criterion == "need":
        return (f"its need ({row['need']:.2f}: {row['n_below_target']} of {row['n_scored']} scored data points "
                f"below target, mean achievement {row['mean_achievement']:.0f} %)")
    if criterion == "impact":
        return (f"its impact ({row['impact']:.2f}: {municipality} falls short on {row['n_sdg_short']} of the "
                f"{row['n_sdg_targets']} SDG targets it serves)")
    if criterion == "feasibility":
        return (f"peer evidence (on the gaps, {100 * row['feasibility']:.0f} % of peers have closed at least half "
                f"of {municipality}'s gap)" if row["peer_evidence"] else "the lack of peer evidence")
    return f"its cost ({row['cost_class']}, {'lower' if lifts else 'higher'} than most of the themes ranked)"


def explain(row: pd.Series, municipality: str, stability_label: str | None = None) -> str:
    """One sentence per theme: its rank under each method, what drives it, and how much of it rests on real values."""
    if row["status"] == NOT_SCORED:
        return f"Not ranked: none of its {row['n_data_points']} data points has a scored value for {municipality}."
    if row["status"] == NO_GAP:
        return (f"Ranks last: already at target on all {row['n_scored']} scored data points "
                f"(of {row['n_data_points']}), so there is no gap to close.")
    real = f"{100 * row['evidence']:.0f} % of its need rests on published or city-supplied values"
    if row["status"] == FILTERED:
        return f"Not ranked: only {real}, below the evidence filter."
    others = ", ".join(f"{METHOD_LABELS[m]} {_ordinal(int(row[RANK_COLUMNS[m]]))}" for m in METHODS[1:])
    stab = f"; {stability_label}" if stability_label else ""
    why = ""
    if isinstance(row.get("driver"), str):
        why = f", lifted by {criterion_phrase(row, row['driver'], municipality)}"
    if isinstance(row.get("drag"), str):
        why += f", held back by {criterion_phrase(row, row['drag'], municipality, lifts=False)}"
    prio = f"; priority ×{row['priority']:.2f}" if row["priority"] != 1.0 else ""
    return (f"Ranks {_ordinal(int(row['ws_rank']))} of {row['n_ranked']} ({others}{stab}){why}{prio}; {real}.")


def opportunities(a: Any, municipality: str, themes: pd.DataFrame | None = None,
                  weights: Mapping[str, float] | None = None, panel: pd.DataFrame | None = None,
                  crit: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every theme for ``municipality``: criteria, evidence, each method's score and rank, status and a
    one-sentence explanation; best first (by weighted sum).

    ``crit``: the municipality's ``criteria`` when already computed (not recomputed then).
    """
    m = _resolve(a, municipality)
    w = criteria_weights(a, weights)
    crit = _own_criteria(a, m, themes, panel, crit)
    out = _rank_frame(crit, w)
    out["explanation"] = [explain(row, m) for _, row in out.iterrows()]
    order = {RANKED: 0, FILTERED: 1, NO_GAP: 2, NOT_SCORED: 3}
    return (out.assign(_s=out["status"].map(order))
            .sort_values(["_s", "ws_rank", "topsis_rank", "theme_id"], kind="mergesort", na_position="last")
            .drop(columns=["_s"]).reset_index(drop=True))


# ----------------------------------------------------------------------------- stability
def weight_draws(w: np.ndarray, draws: int, seed: int, concentration: float = CONCENTRATION) -> np.ndarray:
    """``draws`` × criteria weights from Dirichlet(κ·w); criteria of weight 0 stay 0."""
    rng = np.random.default_rng(seed)
    w = np.asarray(w, dtype=float)
    out = np.zeros((int(draws), len(w)))
    pos = w > 0
    out[:, pos] = rng.dirichlet(concentration * w[pos] / w[pos].sum(), size=int(draws))
    return out


def _draw_ranks(X: np.ndarray, prio: np.ndarray, open_: np.ndarray, W: np.ndarray, method: str) -> np.ndarray:
    """Ordinal ranks (draws × themes), themes without a gap after all others, ties by theme order."""
    S = np.zeros((W.shape[0], X.shape[0]))
    if open_.any():
        S[:, open_] = scores_many(method, X[open_], W) * prio[None, open_]
    S = np.where(open_[None, :], S, -np.inf)
    order = np.argsort(-S, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(S.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, S.shape[1] + 1)[None, :]
    return ranks


def stability(a: Any, municipality: str, themes: pd.DataFrame | None = None, draws: int | None = None,
              seed: int | None = None, methods: tuple[str, ...] = METHODS, concentration: float = CONCENTRATION,
              weights: Mapping[str, float] | None = None, top: int = TOP,
              panel: pd.DataFrame | None = None, crit: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rank acceptability of every scored theme under Dirichlet weight draws and under every method (seeded).

    Per method: ``p_top_<method>`` (probability of a rank ≤ ``top`` over the draws). Pooled over
    methods × draws: p_top, p_rank1, rank_median, rank_p05, rank_p95. ``stable`` only when every
    method puts the theme in the top ``top`` in ≥ 80 % of its draws, or every method in ≤ 20 %;
    ``stability`` says which uncertainty moves it otherwise. Themes not scored are left out.
    """
    m = _resolve(a, municipality)
    w = criteria_weights(a, weights)
    draws = int(draws if draws is not None else _invest_params(a).get("draws", 2000))
    seed = int(seed if seed is not None else (getattr(a, "params", None) or {}).get("seed", 0))
    crit = _own_criteria(a, m, themes, panel, crit)
    crit = crit[crit["status"] != NOT_SCORED].reset_index(drop=True)
    X = crit[list(CRITERIA)].to_numpy(dtype=float)
    prio = crit["priority"].to_numpy(dtype=float)
    open_ = (crit["status"] == RANKED).to_numpy()
    W = weight_draws(w, draws, seed, concentration)
    central = _rank_frame(crit, w)
    out = crit[["municipality", "theme_id", "theme_name", "status"]].assign(draws=draws)
    ranks, high, low, central_top = [], [], [], []
    for method in methods:
        R = _draw_ranks(X, prio, open_, W, method)
        p = (R <= top).mean(axis=0)
        out[f"p_top_{method}"] = p
        ranks.append(R)
        high.append(p >= STABLE_HIGH)
        low.append(p <= STABLE_LOW)
        central_top.append((central[RANK_COLUMNS[method]].fillna(len(crit) + 1) <= top).to_numpy())
    R = np.vstack(ranks)
    q = np.quantile(R, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
    all_high, all_low = np.all(high, axis=0), np.all(low, axis=0)
    weights_stable = np.all(np.array(high) | np.array(low), axis=0)
    methods_agree = np.all(np.array(central_top) == central_top[0], axis=0)
    stable = all_high | all_low
    label = np.select([all_high, all_low, ~methods_agree & weights_stable, methods_agree & ~weights_stable],
                      [f"stable in top {top}", f"stable outside top {top}", "depends on the method",
                       "depends on the weights"], "depends on the weights and the method")
    out = out.assign(p_top=(R <= top).mean(axis=0), p_rank1=(R == 1).mean(axis=0),
                     rank_median=q[1].astype(int), rank_p05=q[0].astype(int), rank_p95=q[2].astype(int),
                     stable=stable, stability=label)
    return out.sort_values(["rank_median", "p_top", "theme_id"], ascending=[True, False, True],
                           kind="mergesort").reset_index(drop=True)


# ----------------------------------------------------------------------------- what-if
def close_gaps(scored: pd.DataFrame, municipality: str, data_points: list[str]) -> pd.DataFrame:
    """A copy of ``scored`` where the municipality's scored values on ``data_points`` are at target."""
    out = scored.copy()
    hit = (out["municipality"].eq(municipality) & out["data_point_id"].isin(data_points)
           & out["achievement"].notna())
    out.loc[hit, "value"] = out.loc[hit, "target"]
    out.loc[hit, "achievement"] = 100.0
    if "achievement_raw" in out.columns:
        out.loc[hit, "achievement_raw"] = np.maximum(out.loc[hit, "achievement_raw"].fillna(100.0), 100.0)
    out.loc[hit, "points"] = 4.0
    if "band" in out.columns:
        out.loc[hit, "band"] = scoring.band(np.array([100.0]))[0]
    return out


def what_if(a: Any, municipality: str, theme_id: str | None = None,
            themes: pd.DataFrame | None = None, ranked: pd.DataFrame | None = None) -> pd.DataFrame:
    """Dimension and overall scores before and after the theme closes its gaps (default: the top theme).

    ``ranked``: the municipality's ``opportunities`` (or ``profile_table``) when already computed;
    the default theme is then its first ranked theme, without ranking again. When no theme has a
    gap to close (no scored value at all, as in a published-only run of a municipality without
    data, or every scored value at target) the result is empty and ``attrs["reason"]`` says why.
    """
    m = _resolve(a, municipality)
    th = _themes(themes, a.catalogue)
    if theme_id is None:
        ranked = opportunities(a, m, th) if ranked is None else ranked
        open_ = ranked[ranked["status"] == RANKED]
        if open_.empty:
            out = pd.DataFrame(columns=list(WHAT_IF_COLUMNS))
            out.attrs["reason"] = _nothing_to_close(m, ranked)
            return out
        theme_id = str(open_["theme_id"].iloc[0])
    if theme_id not in set(th["theme_id"]):
        raise InputError.single("arguments", f"unknown theme '{theme_id}'; expected one of "
                                             f"{sorted(set(th['theme_id']))}", column="theme_id", label="key")
    dps = th.loc[th["theme_id"] == theme_id, "data_point_id"].tolist()
    own = a.scored[a.scored["municipality"] == m]
    after_scored = close_gaps(own, m, dps)
    rows = []
    for level in ("dimension", "overall"):
        before = scoring.aggregate(own, a.catalogue, level, [m])
        after = scoring.aggregate(after_scored, a.catalogue, level, [m])
        keys = ["municipality", *scoring.LEVELS[level]]
        both = before.merge(after, on=keys, suffixes=("_before", "_after"))
        if level == "overall":
            both["dimension"] = "Overall"
        rows.append(both)
    both = pd.concat(rows, ignore_index=True)
    out = pd.DataFrame({
        "municipality": m, "theme_id": theme_id, "dimension": both["dimension"],
        "u4ssc_score_before": both["u4ssc_score_before"], "u4ssc_score_after": both["u4ssc_score_after"],
        "mean_achievement_before": both["mean_achievement_before"],
        "mean_achievement_after": both["mean_achievement_after"],
    })
    out["u4ssc_score_change"] = out["u4ssc_score_after"] - out["u4ssc_score_before"]
    out["mean_achievement_change"] = out["mean_achievement_after"] - out["mean_achievement_before"]
    moved = own[own["data_point_id"].isin(dps) & own["achievement"].notna() & (own["achievement"] < AT_TARGET)]
    dim_of = a.catalogue.set_index("data_point_id")["dimension"]
    closed = moved["data_point_id"].map(dim_of).value_counts()
    out["n_data_points_closed"] = out["dimension"].map(closed).fillna(0).astype(int)
    out.loc[out["dimension"] == "Overall", "n_data_points_closed"] = len(moved)
    out.attrs["reason"] = ""
    return out[list(WHAT_IF_COLUMNS)]


def _nothing_to_close(municipality: str, ranked: pd.DataFrame) -> str:
    """Why no theme can be closed: no theme has a scored data point, or every scored one is at target."""
    if ranked["status"].eq(NO_GAP).any():
        return (f"No what-if for {municipality}: every scored data point of every theme is already at "
                "its target, so no theme has a gap to close.")
    return (f"No what-if for {municipality}: no theme has a scored data point (no value with goalposts), "
            "so there is no gap to close; the data-collection plan lists the values to collect first.")


# ----------------------------------------------------------------------------- across municipalities
def ranking_all(a: Any, themes: pd.DataFrame | None = None, panel: pd.DataFrame | None = None,
                costs: pd.DataFrame | None = None, crit: pd.DataFrame | None = None) -> pd.DataFrame:
    """Scores and ranks of every municipality of the assessment, stacked (criteria computed once; ``crit``: every
    municipality's :func:`criteria` when already computed)."""
    th = _themes(themes, a.catalogue)
    w = criteria_weights(a)
    crit = criteria(a, th, None, panel, costs) if crit is None else crit
    parts = [_rank_frame(c.reset_index(drop=True), w) for _, c in crit.groupby("municipality", sort=True)]
    return pd.concat(parts, ignore_index=True)


def joint_programmes(a: Any, top: int = TOP, themes: pd.DataFrame | None = None, min_municipalities: int = 2,
                     method: str = "weighted_sum", panel: pd.DataFrame | None = None,
                     costs: pd.DataFrame | None = None, ranked: pd.DataFrame | None = None) -> pd.DataFrame:
    """Themes in the top ``top`` of several municipalities at once (rank of ``method``).

    A programme rests on real values only when at least two of its municipalities have a gap whose
    need is mostly observed (evidence ≥ ``REAL_EVIDENCE``); otherwise ``basis`` says it rests on
    simulated values. ``ranked``: ``ranking_all`` when already computed.
    """
    column = RANK_COLUMNS[{"ws": "weighted_sum"}.get(method, method)]
    allr = ranking_all(a, themes, panel, costs) if ranked is None else ranked
    hit = allr[(allr["status"] == RANKED) & (allr[column] <= top)].assign(
        real=lambda f: f["evidence"] >= REAL_EVIDENCE)
    g = hit.sort_values(["theme_id", "municipality"]).groupby(["theme_id", "theme_name"], sort=False)
    out = pd.DataFrame({
        "n_municipalities": g.size(),
        "municipalities": g["municipality"].agg("; ".join),
        "n_real": g["real"].sum().astype(int),
        "mean_rank": g[column].mean().astype(float),
        "mean_need": g["need"].mean(),
        "n_with_gap": allr[allr["status"] == RANKED].groupby("theme_id").size()
        .reindex(g.size().index.get_level_values(0)).to_numpy(),
    }).reset_index()
    out = out[out["n_municipalities"] >= min_municipalities]
    out["basis"] = np.where(out["n_real"] >= 2, "real values",
                            "rests on simulated values")
    out["explanation"] = [f"In the top {top} of {r.n_municipalities} municipalities ({r.municipalities}); "
                          f"{r.n_with_gap} have a gap on it; the gap rests mostly on real values in {r.n_real} of them"
                          + ("." if r.n_real >= 2 else ", so the programme rests on simulated values.")
                          for r in out.itertuples()]
    return out.sort_values(["n_municipalities", "mean_rank", "theme_id"], ascending=[False, True, True],
                           kind="mergesort").reset_index(drop=True)


# ----------------------------------------------------------------------------- report tables
PROFILE_COLUMNS = ["ws_rank", "theme_name", "need", "impact", "feasibility", "cost_class", "evidence", "priority",
                   "ws_score", "topsis_rank", "promethee_rank", "p_top", "rank_p05", "rank_median", "rank_p95",
                   "stability", "service_area", "explanation"]
CITIZEN_COLUMNS = ["analysis_rank", "citizens_rank", "disagreement"]
"""Beside the ranking when a survey gave citizens' priorities (the profile shows them on the theme cards)."""


def profile_table(a: Any, municipality: str, themes: pd.DataFrame | None = None,
                  panel: pd.DataFrame | None = None, crit: pd.DataFrame | None = None) -> pd.DataFrame:
    """The profile's opportunity table: ranks by every method, criteria, evidence, stability and explanation.

    ``crit``: the municipality's :func:`criteria` when already computed (its rows of the panel's: a municipality's
    criteria do not depend on which others are computed with it)."""
    th = _themes(themes, a.catalogue)
    m = _resolve(a, municipality)
    crit = _own_criteria(a, m, th, panel, crit)  # once, for the ranking and its stability
    opp = opportunities(a, m, th, panel=panel, crit=crit)
    stab = stability(a, m, th, panel=panel, crit=crit)
    out = opp.merge(stab[["theme_id", "p_top", "rank_p05", "rank_median", "rank_p95", "stable", "stability"]],
                    on="theme_id", how="left")
    out.loc[out["status"] == NOT_SCORED, "stability"] = "not scored"
    out["explanation"] = [explain(row, m, row["stability"] if row["status"] == RANKED else None)
                          for _, row in out.iterrows()]
    out["driven_by"] = [criterion_phrase(row, row["driver"], m) if isinstance(row["driver"], str) else ""
                        for _, row in out.iterrows()]
    out["held_back_by"] = [criterion_phrase(row, row["drag"], m, lifts=False) if isinstance(row["drag"], str)
                           else "" for _, row in out.iterrows()]
    out = out.merge(citizens(a, m, th, crit), on="theme_id", how="left")
    return out[["municipality", "theme_id", "status", *PROFILE_COLUMNS, *CITIZEN_COLUMNS, "stable", "driver",
                "driven_by", "drag", "held_back_by"]]


def citizens(a: Any, municipality: str, themes: pd.DataFrame | None = None,
             crit: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per theme: the rank without priorities, the citizens' rank from ``theme_priorities`` and where they disagree.

    Empty columns when no priority is given (no survey).
    """
    from analysis import survey

    given = _invest_params(a).get("theme_priorities", {}) or {}
    m = _resolve(a, municipality)
    crit = _own_criteria(a, m, themes, None, crit)
    if not given:
        return pd.DataFrame({"theme_id": crit["theme_id"], "analysis_rank": pd.NA, "citizens_rank": pd.NA,
                             "disagreement": ""}).astype({"analysis_rank": "Int64", "citizens_rank": "Int64"})
    plain = opportunities(a, m, themes, crit=crit.assign(priority=1.0))
    comp = survey.comparison(plain, given)[["theme_id", *CITIZEN_COLUMNS]]
    return comp.astype({"analysis_rank": "Int64", "citizens_rank": "Int64"})


def synthesis_table(a: Any, top: int = TOP, themes: pd.DataFrame | None = None,
                    panel: pd.DataFrame | None = None, ranked: pd.DataFrame | None = None) -> pd.DataFrame:
    """The synthesis view: each municipality's top ``top`` themes (weighted sum), one row per pair."""
    allr = ranking_all(a, themes, panel) if ranked is None else ranked
    hit = allr[(allr["status"] == RANKED) & (allr["ws_rank"] <= top)]
    return hit[["municipality", "ws_rank", "theme_id", "theme_name", "ws_score", "topsis_rank", "promethee_rank",
                *CRITERIA, "evidence", "driver"]] \
        .sort_values(["municipality", "ws_rank", "theme_id"], kind="mergesort").reset_index(drop=True)
