"""Investment and innovation opportunity ranking per municipality, with its stability under uncertain weights.

UNECE city profiles choose projects by hand; this module ranks the investment themes of
``data/raw/investment_themes.csv`` (one row per theme × data point it moves) for one municipality
on four documented criteria, by two MCDA methods, and says how stable the ranking is.

Criteria, per municipality m and theme t (D = the theme's data points that have a scored value for
m, ``a_i`` = capped achievement in %, ``g_i = (100 − a_i) / 100`` the gap to target in [0, 1]):

- **need** = ``sqrt(mean_{i∈D} g_i²)``, the root-mean-square gap. It is 0 exactly when every scored
  data point is at target and 1 when every one is at worst; squaring weights a data point by how
  far below target it is, so one data point at 0 % (need 0.5 over four points) counts more than
  four at 75 % (need 0.25).
- **sdg_breadth** = ``n_sdg(t) / max_s n_sdg(s)``: the number of distinct SDG targets the theme
  serves (over all its rows), divided by the largest number among the themes considered.
- **feasibility** (evidence from peers that the gap can be closed). For each data point with a gap
  (``g_i > 0``) and at least one peer value: ``reach_i`` = share of the peers with a value that
  are at target (achievement ≥ 100 %); ``close_i = clip((best_i − a_i) / (100 − a_i), 0, 1)``,
  the share of m's gap the best peer has already closed. ``f_i = (reach_i + close_i) / 2`` and
  feasibility = ``Σ g_i f_i / Σ g_i`` (gap-weighted: evidence counts most where the gap is largest).
  0 when no peer has a value on the theme's gaps. Peers follow ``params['peer_group']``
  (``all``: every other municipality of the assessment; ``county``; ``list``).
- **confidence** = ``(n_published + n_city_supplied) / |D|``: the share of the scored values that
  are observations, not simulated. A theme resting on simulated values scores 0.
- **priority** = ``params['invest']['theme_priorities'].get(t, 1.0)``, a policy multiplier.

Ranking (all criteria are benefits in [0, 1]; weights w = ``criteria_weights`` scaled to sum to 1):

- weighted sum: ``score = priority · Σ_j w_j x_j``;
- TOPSIS (Hwang & Yoon 1981; ``pymcdm.methods.TOPSIS`` with vector normalisation
  ``r_ij = x_ij / ||x_j||``, a zero column staying 0): ``C = D⁻ / (D⁺ + D⁻)``, the relative
  closeness to the ideal point, and ``topsis_score = priority · C``.

Only themes with a gap (need > 0) are alternatives. A theme whose scored data points are all at
target has no opportunity: it is ranked after every theme with a gap (status ``no gap``). A theme
with no scored data point for m is listed with status ``not scored`` and a reason, and not ranked.
Ranks are competition ranks (1 = best; ties share the best rank).

Stability (SMAA-style): weights are drawn ``draws`` times from a Dirichlet distribution centred on
w, ``α = κ · w`` with concentration ``κ = CONCENTRATION`` (20: the standard deviation of a weight of
0.4 is ``sqrt(0.4 · 0.6 / 21)`` ≈ 0.11); a criterion of weight 0 stays 0. All draws are ranked at
once (a themes × draws score matrix; ordinal ranks, ties broken by theme order). Per theme: the
probability of being in the top 3, the median rank and the 5th–95th percentile rank band.
``stable`` is true when the top-3 probability is ≥ 0.8 or ≤ 0.2.

What-if: the theme's scored data points for m are set to target (value = target, achievement
100 %, 4 points) and ``scoring.aggregate`` recomputes the dimension and overall scores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import catalogue, paths, scoring
from analysis.errors import InputError, Problem, file_row
from analysis.files import read_csv

CRITERIA = ("need", "sdg_breadth", "feasibility", "confidence")
DEFAULT_WEIGHTS = {"need": 0.4, "sdg_breadth": 0.2, "feasibility": 0.2, "confidence": 0.2}
THEME_COLUMNS = ("theme_id", "theme_name", "data_point_id", "sdg_targets", "rationale", "source")
CONCENTRATION = 20.0
"""Dirichlet concentration κ of the weight draws (α = κ · w)."""
TOP = 3
STABLE_HIGH, STABLE_LOW = 0.8, 0.2
OBSERVED = ("published", "city-supplied", "national_statistics")
AT_TARGET = 100.0 - 1e-9
LOW_BAND = 66.0  # below the U4SSC 66–95 % band: "below 66 %" in explanations
SDG_TARGET = re.compile(r"^\d{1,2}\.[0-9a-z]{1,2}$")
RANKED, NO_GAP, NOT_SCORED = "ranked", "no gap", "not scored"
_LOADED_THEMES: dict[tuple, pd.DataFrame] = {}
"""The last themes file validated (key: path, modification time, size, registry ids)."""


# ----------------------------------------------------------------------------- themes file
def load_themes(path: str | Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and validate the themes file; every bad row is named (file, row, column).

    Adds ``sdg_target_list`` (tuple of SDG targets of the row).
    """
    path = Path(path) if path is not None else paths.THEMES
    key = None
    if cat is not None:  # a validated file is kept for its next use in this process (warm notebook kernels)
        try:
            stat = path.stat()
        except OSError:
            stat = None
        if stat is not None:
            key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, tuple(cat["data_point_id"]))
            if key in _LOADED_THEMES:
                return _LOADED_THEMES[key].copy()
    frame = read_csv(path, dtype=str, keep_default_na=False)
    frame = validate_themes(frame, path, cat)
    if key is not None:
        _LOADED_THEMES.clear()
        _LOADED_THEMES[key] = frame.copy()
    return frame


def validate_themes(frame: pd.DataFrame, file: str | Path = "themes",
                    cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check a themes frame against the registry and return it with ``sdg_target_list``."""
    file = str(file)
    cat = catalogue.load() if cat is None else cat
    missing = [c for c in THEME_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError.single(file, f"missing columns {missing}; expected {list(THEME_COLUMNS)}")
    frame = frame.copy()
    for column in THEME_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str).str.strip()
    known = set(cat["data_point_id"])
    problems: list[Problem] = []
    for i, row in frame.iterrows():
        r = file_row(i)
        for column in ("theme_id", "theme_name", "data_point_id", "sdg_targets"):
            if not row[column]:
                problems.append(Problem(file, r, column, "empty; a value is required"))
        if row["data_point_id"] and row["data_point_id"] not in known:
            problems.append(Problem(file, r, "data_point_id",
                                    f"unknown data point '{row['data_point_id']}'; expected an id of "
                                    f"the KPI registry (data/raw/kpi_catalogue.csv), e.g. "
                                    f"'{cat['data_point_id'].iloc[0]}'"))
        for target in catalogue.split_targets(row["sdg_targets"] or None):
            if not SDG_TARGET.match(target):
                problems.append(Problem(file, r, "sdg_targets",
                                        f"'{target}' is not an SDG target; expected e.g. '6.4' or "
                                        f"'11.a', several separated by ';'"))
    for i in frame.index[frame.duplicated(["theme_id", "data_point_id"], keep="first")
                         & frame["theme_id"].ne("")]:
        problems.append(Problem(file, file_row(i), "data_point_id",
                                f"data point '{frame.at[i, 'data_point_id']}' listed twice for theme "
                                f"'{frame.at[i, 'theme_id']}'"))
    first_name = frame.groupby("theme_id")["theme_name"].transform("first")
    for i in frame.index[frame["theme_name"].ne(first_name) & frame["theme_name"].ne("")]:
        problems.append(Problem(file, file_row(i), "theme_name",
                                f"'{frame.at[i, 'theme_name']}' differs from the theme's first name "
                                f"'{first_name[i]}'; one name per theme_id"))
    if problems:
        raise InputError(problems)
    frame["sdg_target_list"] = catalogue.target_lists(frame["sdg_targets"])
    return frame


def _themes(themes: pd.DataFrame | None, cat: pd.DataFrame) -> pd.DataFrame:
    if themes is None:
        return load_themes(cat=cat)
    if "sdg_target_list" not in themes.columns:
        return validate_themes(themes, "themes", cat)
    return themes


# ----------------------------------------------------------------------------- parameters
def _invest_params(a: Any) -> dict[str, Any]:
    return dict((getattr(a, "params", None) or {}).get("invest", {}) or {})


def criteria_weights(a: Any, weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Criteria weights (order of CRITERIA) from ``weights`` or the parameters, scaled to sum to 1."""
    given = dict(DEFAULT_WEIGHTS)
    given.update(_invest_params(a).get("criteria_weights", {}) or {})
    if weights is not None:
        unknown = sorted(set(weights) - set(CRITERIA))
        if unknown:
            raise InputError.single("parameters", f"unknown criteria {unknown}; expected {list(CRITERIA)}",
                                    column="invest.criteria_weights", label="key")
        given.update(weights)
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


def _resolve(a: Any, municipality: str) -> str:
    from analysis.municipalities import resolve

    return resolve(municipality, list(a.municipalities), "arguments", "municipality", "key")


def peer_sets(a: Any, panel: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """Peers of every municipality under ``params['peer_group']`` (never the municipality itself)."""
    from analysis import municipalities

    panel = municipalities.load() if panel is None else panel
    names = list(a.municipalities)
    group = (getattr(a, "params", None) or {}).get("peer_group", {}) or {}
    return {m: [p for p in municipalities.peers(panel, m, group, names) if p != m] for m in names}


# ----------------------------------------------------------------------------- criteria
def criteria(a: Any, themes: pd.DataFrame | None = None, municipalities: list[str] | None = None,
             panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per municipality × theme: the four criteria, the priority and the counts behind them.

    Vectorised over municipalities, themes and data points (no loop over themes).
    """
    cat = a.catalogue
    th = _themes(themes, cat)
    names = list(a.municipalities) if municipalities is None else [_resolve(a, m) for m in municipalities]
    theme_ids = list(dict.fromkeys(th["theme_id"]))
    scored = a.scored[a.scored["achievement"].notna()]
    scored = scored.drop_duplicates(["municipality", "data_point_id"], keep="last")

    # achievement matrix municipality × data point over the whole assessment (peers included)
    dps = sorted(set(th["data_point_id"]))
    all_names = list(a.municipalities)
    ach = (scored.pivot(index="municipality", columns="data_point_id", values="achievement")
           .reindex(index=all_names, columns=dps))
    A = ach.to_numpy(dtype=float)
    has = ~np.isnan(A)
    reach = has & (np.nan_to_num(A, nan=-np.inf) >= AT_TARGET)
    peers = peer_sets(a, panel)
    idx = {m: k for k, m in enumerate(all_names)}
    P = np.zeros((len(all_names), len(all_names)))
    for m, ps in peers.items():
        P[idx[m], [idx[p] for p in ps]] = 1.0
    n_peer_values = P @ has                      # municipality × dp
    n_peer_reach = P @ reach
    masked = np.where(has[None, :, :] & (P[:, :, None] > 0), A[None, :, :], -np.inf)
    best = masked.max(axis=1)                    # best peer achievement per municipality × dp
    stats = pd.DataFrame({
        "municipality": np.repeat(all_names, len(dps)),
        "data_point_id": np.tile(dps, len(all_names)),
        "n_peers": np.repeat(P.sum(axis=1), len(dps)).astype(int),
        "n_peer_values": n_peer_values.ravel(),
        "n_peer_reach": n_peer_reach.ravel(),
        "best_peer": np.where(np.isfinite(best), best, np.nan).ravel(),
    })

    own = scored[scored["municipality"].isin(names)][["municipality", "data_point_id", "achievement",
                                                      "source_type"]]
    grid = (pd.DataFrame({"municipality": names}).merge(th[["theme_id", "data_point_id"]], how="cross"))
    long = grid.merge(own, on=["municipality", "data_point_id"], how="left")
    long = long.merge(stats, on=["municipality", "data_point_id"], how="left")
    ok = long["achievement"].notna()
    gap = np.where(ok, (100.0 - long["achievement"]) / 100.0, np.nan)
    gap = np.clip(gap, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        reach_share = long["n_peer_reach"] / long["n_peer_values"]
        close = np.clip((long["best_peer"] - long["achievement"]) / (100.0 - long["achievement"]), 0.0, 1.0)
    evidence = ok & (gap > 0) & (long["n_peer_values"] > 0)
    f = np.where(evidence, (reach_share + close) / 2.0, np.nan)
    long = long.assign(
        is_scored=ok, gap=gap, gap2=gap ** 2,
        below=ok & (gap > 1e-12), below66=ok & (long["achievement"] < LOW_BAND),
        w_gap=np.where(evidence, gap, 0.0),
        w_f=np.where(evidence, gap * f, 0.0),
        w_reach=np.where(evidence, gap * reach_share * long["n_peer_values"], 0.0),
        w_close=np.where(evidence, gap * close, 0.0),
        published=ok & long["source_type"].eq("published"),
        city=ok & long["source_type"].eq("city-supplied"),
        simulated=ok & ~long["source_type"].isin(OBSERVED),
    )
    g = long.groupby(["municipality", "theme_id"], sort=False)
    out = pd.DataFrame({
        "n_data_points": g.size(),
        "n_scored": g["is_scored"].sum(),
        "n_below_target": g["below"].sum(),
        "n_below_66": g["below66"].sum(),
        "mean_achievement": g["achievement"].mean(),
        "mean_gap2": g["gap2"].mean(),
        "sum_w_gap": g["w_gap"].sum(),
        "sum_w_f": g["w_f"].sum(),
        "sum_w_reach": g["w_reach"].sum(),
        "sum_w_close": g["w_close"].sum(),
        "n_published": g["published"].sum(),
        "n_city_supplied": g["city"].sum(),
        "n_simulated": g["simulated"].sum(),
        "n_peers": g["n_peers"].max(),
    }).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["need"] = np.sqrt(out["mean_gap2"])
        has_ev = out["sum_w_gap"] > 0
        out["feasibility"] = np.where(has_ev, out["sum_w_f"] / out["sum_w_gap"], 0.0)
        out["peers_reaching"] = np.where(has_ev, out["sum_w_reach"] / out["sum_w_gap"], np.nan)
        out["best_peer_closes"] = np.where(has_ev, out["sum_w_close"] / out["sum_w_gap"], np.nan)
        out["confidence"] = (out["n_published"] + out["n_city_supplied"]) / out["n_scored"]
    out["peer_evidence"] = has_ev
    sdg = th.explode("sdg_target_list").groupby("theme_id")["sdg_target_list"].nunique()
    out["n_sdg_targets"] = out["theme_id"].map(sdg).astype(int)
    out["sdg_breadth"] = out["n_sdg_targets"] / max(int(sdg.max()), 1)
    out["priority"] = out["theme_id"].map(_priorities(a, theme_ids))
    names_map = th.drop_duplicates("theme_id").set_index("theme_id")["theme_name"]
    out.insert(2, "theme_name", out["theme_id"].map(names_map))
    out["status"] = np.where(out["n_scored"] == 0, NOT_SCORED, np.where(out["need"] > 0, RANKED, NO_GAP))
    not_scored = out["status"] == NOT_SCORED
    out.loc[not_scored, ["need", "feasibility", "confidence"]] = np.nan
    for column in ("n_scored", "n_below_target", "n_below_66", "n_published", "n_city_supplied",
                   "n_simulated", "n_peers"):
        out[column] = out[column].astype(int)
    return out.drop(columns=["mean_gap2", "sum_w_gap", "sum_w_f", "sum_w_reach", "sum_w_close"])


def _own_criteria(a: Any, municipality: str, themes: pd.DataFrame | None, panel: pd.DataFrame | None,
                  crit: pd.DataFrame | None) -> pd.DataFrame:
    """``criteria`` of one (resolved) municipality: ``crit`` when given, else computed."""
    if crit is None:
        return criteria(a, themes, [municipality], panel)
    if set(crit["municipality"]) != {municipality}:
        raise ValueError(f"criteria given for {sorted(set(crit['municipality']))}, expected {municipality!r}")
    return crit.reset_index(drop=True)


# ----------------------------------------------------------------------------- MCDA
def _vector_normalisation(x: np.ndarray, cost: bool = False) -> np.ndarray:
    """``x / ||x||`` (benefit) as in pymcdm, but a zero column stays 0 instead of NaN."""
    norm = np.sqrt(np.sum(np.asarray(x, dtype=float) ** 2))
    r = x / norm if norm > 0 else np.zeros_like(x, dtype=float)
    return 1.0 - r if cost else r


def topsis(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """TOPSIS closeness ``C = D⁻ / (D⁺ + D⁻)`` of every row (all criteria benefits), by pymcdm.

    Vector normalisation; weights are scaled to sum to 1. One alternative, or alternatives that
    are all equal, get closeness 1 / 2 … (pymcdm returns NaN for 0/0; here it is 0.5).
    """
    from pymcdm.methods import TOPSIS

    X = np.asarray(matrix, dtype=float)
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        c = TOPSIS(normalization_function=_vector_normalisation)(X, w, np.ones(X.shape[1]), validation=False)
    return np.where(np.isnan(c), 0.5, c)


def topsis_many(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """TOPSIS closeness for many weight vectors at once: ``weights`` (draws × criteria) → (draws × rows)."""
    X = np.asarray(matrix, dtype=float)
    norms = np.sqrt((X ** 2).sum(axis=0))
    R = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
    W = np.atleast_2d(np.asarray(weights, dtype=float))
    W = W / W.sum(axis=1, keepdims=True)
    V = R[None, :, :] * W[:, None, :]                       # draws × rows × criteria
    pis, nis = V.max(axis=1, keepdims=True), V.min(axis=1, keepdims=True)
    dp = np.sqrt(((V - pis) ** 2).sum(axis=2))
    dm = np.sqrt(((V - nis) ** 2).sum(axis=2))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = dm / (dm + dp)
    return np.where(np.isnan(c), 0.5, c)


def _competition_rank(score: np.ndarray) -> np.ndarray:
    """1 = highest; ties share the best rank."""
    return pd.Series(score).rank(method="min", ascending=False).to_numpy().astype(int)


def _rank_frame(crit: pd.DataFrame, w: np.ndarray) -> pd.DataFrame:
    """Scores and ranks for one municipality's criteria frame."""
    out = crit.copy()
    ranked = (out["status"] == RANKED).to_numpy()
    no_gap = (out["status"] == NO_GAP).to_numpy()
    X = out.loc[ranked, list(CRITERIA)].to_numpy(dtype=float)
    prio = out.loc[ranked, "priority"].to_numpy(dtype=float)
    ws = np.full(len(out), np.nan)
    tc = np.full(len(out), np.nan)
    tcs = np.full(len(out), np.nan)
    ws_rank = np.full(len(out), np.nan)
    t_rank = np.full(len(out), np.nan)
    n = int(ranked.sum())
    if n:
        ws[ranked] = prio * (X @ w)
        tc[ranked] = topsis(X, w)
        tcs[ranked] = prio * tc[ranked]
        ws_rank[ranked] = _competition_rank(ws[ranked])
        t_rank[ranked] = _competition_rank(tcs[ranked])
    ws[no_gap] = tc[no_gap] = tcs[no_gap] = 0.0
    ws_rank[no_gap] = t_rank[no_gap] = n + 1
    out["ws_score"], out["ws_rank"] = ws, pd.array(ws_rank, dtype="Int64")
    out["topsis_closeness"], out["topsis_score"] = tc, tcs
    out["topsis_rank"] = pd.array(t_rank, dtype="Int64")
    out["n_ranked"] = n
    return out


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _explain(row: pd.Series, municipality: str, need_order: int) -> str:
    sources = [f"{row['n_published']} published", f"{row['n_city_supplied']} city-supplied",
               f"{row['n_simulated']} simulated"]
    sources = [x for x in sources if not x.startswith("0 ")]
    n = int(row["n_scored"])
    rests = f"rests on {n} scored value{'s' if n != 1 else ''}: {', '.join(sources)}" if n else "rests on no value"
    prio = f"; policy priority ×{row['priority']:g}" if row["priority"] != 1.0 else ""
    if row["status"] == NOT_SCORED:
        return (f"Not ranked: none of its {row['n_data_points']} data points has a scored value for "
                f"{municipality}.")
    if row["status"] == NO_GAP:
        return (f"Ranks last: already at target on all {row['n_scored']} scored data points "
                f"(of {row['n_data_points']}), so there is no gap to close; {rests}.")
    need = "the largest gap to target" if need_order == 1 else f"the {_ordinal(need_order)} largest gap to target"
    peers = (f"where it falls short, on average {row['peers_reaching']:.0f} of {row['n_peers']} peers already "
             f"reach the target and the best peer has closed {100 * row['best_peer_closes']:.0f} % of the gap"
             if row["peer_evidence"] else "no peer value shows the gap can be closed")
    return (f"Ranks {_ordinal(int(row['ws_rank']))} of {row['n_ranked']}: {need} "
            f"({row['n_below_66']} of {row['n_scored']} scored data points below 66 %, "
            f"mean achievement {row['mean_achievement']:.0f} %), serves {row['n_sdg_targets']} SDG targets, "
            f"{peers}; {rests}{prio}.")


def opportunities(a: Any, municipality: str, themes: pd.DataFrame | None = None,
                  weights: Mapping[str, float] | None = None, panel: pd.DataFrame | None = None,
                  crit: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every theme for ``municipality``: criteria, weighted-sum score and rank, TOPSIS closeness and rank,
    status (ranked / no gap / not scored) and a plain-language explanation; best first.

    ``crit``: the municipality's ``criteria`` when already computed (not recomputed then).
    """
    m = _resolve(a, municipality)
    w = criteria_weights(a, weights)
    crit = _own_criteria(a, m, themes, panel, crit)
    out = _rank_frame(crit, w)
    need_rank = out.loc[out["status"] == RANKED, "need"].rank(method="min", ascending=False)
    out["need_order"] = need_rank.reindex(out.index)
    out["explanation"] = [_explain(row, m, int(row["need_order"]) if pd.notna(row["need_order"]) else 0)
                          for _, row in out.iterrows()]
    order = {RANKED: 0, NO_GAP: 1, NOT_SCORED: 2}
    out = (out.assign(_s=out["status"].map(order))
           .sort_values(["_s", "ws_rank", "topsis_rank", "theme_id"], kind="mergesort", na_position="last")
           .drop(columns=["_s", "need_order"]).reset_index(drop=True))
    return out


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
    if method == "weighted_sum":
        S = (W @ X.T) * prio[None, :]
    elif method == "topsis":
        S = np.zeros((W.shape[0], X.shape[0]))
        if open_.any():
            S[:, open_] = topsis_many(X[open_], W) * prio[None, open_]
    else:
        raise ValueError(f"unknown method '{method}'; expected 'weighted_sum' or 'topsis'")
    S = np.where(open_[None, :], S, -np.inf)
    order = np.argsort(-S, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(S.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, S.shape[1] + 1)[None, :]
    return ranks


def stability(a: Any, municipality: str, themes: pd.DataFrame | None = None, draws: int | None = None,
              seed: int | None = None, method: str = "weighted_sum", concentration: float = CONCENTRATION,
              weights: Mapping[str, float] | None = None, top: int = TOP,
              panel: pd.DataFrame | None = None, crit: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rank acceptability of every scored theme under Dirichlet weight draws (seeded, vectorised).

    Columns: p_top (probability of a rank ≤ ``top``), p_rank1, rank_median, rank_p05, rank_p95,
    stable (p_top ≥ 0.8 or ≤ 0.2) and a label. Themes not scored are left out (see ``opportunities``).
    ``crit``: the municipality's ``criteria`` when already computed (not recomputed then).
    """
    m = _resolve(a, municipality)
    w = criteria_weights(a, weights)
    draws = int(draws if draws is not None else _invest_params(a).get("draws", 2000))
    seed = int(seed if seed is not None else (getattr(a, "params", None) or {}).get("seed", 0))
    crit = _own_criteria(a, m, themes, panel, crit)
    crit = crit[crit["status"] != NOT_SCORED].reset_index(drop=True)
    X = crit[list(CRITERIA)].to_numpy(dtype=float)
    open_ = (crit["status"] == RANKED).to_numpy()
    W = weight_draws(w, draws, seed, concentration)
    R = _draw_ranks(X, crit["priority"].to_numpy(dtype=float), open_, W, method)
    q = np.quantile(R, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
    p_top = (R <= top).mean(axis=0)
    stable = (p_top >= STABLE_HIGH) | (p_top <= STABLE_LOW)
    label = np.where(~stable, "uncertain", np.where(p_top >= STABLE_HIGH, f"stable in top {top}",
                                                    f"stable outside top {top}"))
    out = crit[["municipality", "theme_id", "theme_name", "status"]].assign(
        method=method, draws=draws, p_top=p_top, p_rank1=(R == 1).mean(axis=0),
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
    the default theme is then its first ranked theme, without ranking again.
    """
    m = _resolve(a, municipality)
    th = _themes(themes, a.catalogue)
    if theme_id is None:
        ranked = opportunities(a, m, th) if ranked is None else ranked
        ranked = ranked[ranked["status"] == RANKED]
        if ranked.empty:
            raise InputError.single("arguments", f"no theme has a gap to close for {m}", column="theme_id",
                                    label="key")
        theme_id = str(ranked["theme_id"].iloc[0])
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
    return out


# ----------------------------------------------------------------------------- across municipalities
def ranking_all(a: Any, themes: pd.DataFrame | None = None, panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """``opportunities`` for every municipality of the assessment, stacked (criteria computed once)."""
    th = _themes(themes, a.catalogue)
    w = criteria_weights(a)
    crit = criteria(a, th, None, panel)
    parts = [_rank_frame(c.reset_index(drop=True), w) for _, c in crit.groupby("municipality", sort=True)]
    return pd.concat(parts, ignore_index=True)


def joint_programmes(a: Any, top: int = TOP, themes: pd.DataFrame | None = None, min_municipalities: int = 2,
                     method: str = "ws", panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """Themes in the top ``top`` (weighted sum, or ``method='topsis'``) of several municipalities at once."""
    column = {"ws": "ws_rank", "topsis": "topsis_rank"}[method]
    allr = ranking_all(a, themes, panel)
    hit = allr[(allr["status"] == RANKED) & (allr[column] <= top)]
    g = hit.sort_values(["theme_id", "municipality"]).groupby(["theme_id", "theme_name"], sort=False)
    out = pd.DataFrame({
        "n_municipalities": g.size(),
        "municipalities": g["municipality"].agg("; ".join),
        "mean_rank": g[column].mean().astype(float),
        "mean_need": g["need"].mean(),
        "n_with_gap": allr[allr["status"] == RANKED].groupby("theme_id").size()
        .reindex(g.size().index.get_level_values(0)).to_numpy(),
    }).reset_index()
    out = out[out["n_municipalities"] >= min_municipalities]
    out["explanation"] = [f"In the top {top} of {r.n_municipalities} municipalities ({r.municipalities}); "
                          f"{r.n_with_gap} have a gap on it." for r in out.itertuples()]
    return out.sort_values(["n_municipalities", "mean_rank", "theme_id"], ascending=[False, True, True],
                           kind="mergesort").reset_index(drop=True)


# ----------------------------------------------------------------------------- report tables
PROFILE_COLUMNS = ["ws_rank", "theme_name", "need", "sdg_breadth", "feasibility", "confidence", "priority",
                   "ws_score", "topsis_closeness", "topsis_rank", "p_top", "rank_p05", "rank_median",
                   "rank_p95", "stability", "explanation"]


def profile_table(a: Any, municipality: str, themes: pd.DataFrame | None = None,
                  panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """The profile's opportunity table: ranking, criteria, stability band and explanation per theme."""
    th = _themes(themes, a.catalogue)
    crit = criteria(a, th, [municipality], panel)  # once, for the ranking and its stability
    opp = opportunities(a, municipality, th, panel=panel, crit=crit)
    stab = stability(a, municipality, th, panel=panel, crit=crit)
    out = opp.merge(stab[["theme_id", "p_top", "rank_p05", "rank_median", "rank_p95", "stable", "stability"]],
                    on="theme_id", how="left")
    out.loc[out["status"] == NOT_SCORED, "stability"] = "not scored"
    return out[["municipality", "theme_id", "status", *PROFILE_COLUMNS, "stable"]]


def synthesis_table(a: Any, top: int = TOP, themes: pd.DataFrame | None = None,
                    panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """The synthesis view: each municipality's top ``top`` themes (weighted sum), one row per pair."""
    allr = ranking_all(a, themes, panel)
    hit = allr[(allr["status"] == RANKED) & (allr["ws_rank"] <= top)]
    return hit[["municipality", "ws_rank", "theme_id", "theme_name", "ws_score", "topsis_rank", *CRITERIA]] \
        .sort_values(["municipality", "ws_rank", "theme_id"], kind="mergesort").reset_index(drop=True)
