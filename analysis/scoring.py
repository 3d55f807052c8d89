"""Achievement against target, U4SSC points and bands, and aggregation to category, sub-dimension and dimension.

Conventions (docs/methodology.md):
- Achievement is the goalpost form used by SDSN and NTNU's Trondheim dashboard,
  ``100 · (x − worst) / (target − worst)``, which is U4SSC's "performance as a percentage of the
  target" when worst = 0 and handles lower-is-better data points with the same formula.
  A target band (best at a value) uses the distance from the target instead. Achievement is
  capped to [0, 100]; the uncapped value is kept as ``achievement_raw``.
- Points: 1 below 33 %, 2 from 33 %, 3 from 66 %, 4 from 95 % (U4SSC).
- Group score: Σ points / (4 × data points scored), U4SSC's rule; beside it the mean achievement
  (a continuous 0–100 score, SDSN's arithmetic mean) and the coverage of the group. A group score
  needs :data:`MIN_COVERAGE` of its data points, else it is "insufficient data"; the overall index
  needs a sufficient score in every dimension.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

TARGET_TOLERANCE = 0.01
"""A value within 1 % of the goalpost span |target − worst| of its target (1 % of |target| when there is no
worst) counts as at target and scores 100 %: a rounding in the source cannot put a met target below 100."""
BAND_EDGES = (33.0, 66.0, 95.0)
BAND_LABELS = ("0–33 %", "33–66 %", "66–95 %", "95–100 %")
NO_DATA = "no data"
INSUFFICIENT = "insufficient data"
MIN_COVERAGE = 0.5
"""A group score needs at least half of its group's scoreable data points (docs/methodology.md, section 6).

SDSN asks 80 % of a national index's indicators, which national statistics can give; U4SSC cities
report uneven subsets of 112 data points and the published record is sparser still. At least half
is the least coverage at which the data points a score rests on are not outnumbered by those it
misses, so the score describes the group rather than the reported subset. No tuning parameter."""
LEVELS: dict[str, list[str]] = {
    "category": ["dimension", "sub_dimension", "category"],
    "sub_dimension": ["dimension", "sub_dimension"],
    "dimension": ["dimension"],
    "overall": [],
}


def achievement(values: pd.Series | np.ndarray, target: pd.Series | np.ndarray, worst: pd.Series | np.ndarray,
                direction: pd.Series | np.ndarray) -> np.ndarray:
    """Uncapped achievement in % of target for arrays aligned element by element (NaN where no goalposts)."""
    x, t, w = (np.asarray(a, dtype=float) for a in (values, target, worst))
    d = np.asarray(direction, dtype=object)
    with np.errstate(divide="ignore", invalid="ignore"):
        goalpost = 100.0 * (x - w) / (t - w)
        band = 100.0 * (1.0 - np.abs(x - t) / np.abs(t - w))
    out = np.where(d == "target_band", band, goalpost)
    return np.where(d == "descriptive", np.nan, out)


def at_target(values: pd.Series | np.ndarray, target: pd.Series | np.ndarray, worst: pd.Series | np.ndarray,
              direction: pd.Series | np.ndarray, tolerance: float = TARGET_TOLERANCE) -> np.ndarray:
    """Whether each value meets its target within ``tolerance`` of the span (False where there is no target)."""
    x, t, w = (np.asarray(a, dtype=float) for a in (values, target, worst))
    d = np.asarray(direction, dtype=object)
    span = np.where(np.isnan(w), np.abs(t), np.abs(t - w))
    tol = tolerance * span * (1 + 1e-9)  # the slack absorbs binary rounding of decimal values (1.01 − 1)
    with np.errstate(invalid="ignore"):
        met = np.select([d == "lower_is_better", d == "target_band", d == "higher_is_better"],
                        [x <= t + tol, np.abs(x - t) <= tol, x >= t - tol], default=False)
    return met & ~np.isnan(x) & ~np.isnan(t)


def points(achieved: pd.Series | np.ndarray) -> np.ndarray:
    """U4SSC points 1–4 for capped achievement in %, NaN where there is none."""
    a = np.asarray(achieved, dtype=float)
    p = 1.0 + np.searchsorted(np.asarray(BAND_EDGES), a, side="right").astype(float)
    return np.where(np.isnan(a), np.nan, p)


def band(percent: pd.Series | np.ndarray) -> np.ndarray:
    """The U4SSC band label of a percentage (a data point's achievement or a group's score)."""
    p = points(percent)
    labels = np.array((NO_DATA, *BAND_LABELS), dtype=object)
    return labels[np.nan_to_num(p, nan=0.0).astype(int)]


def score_data_points(baseline: pd.DataFrame, goalposts: pd.DataFrame,
                      tolerance: float = TARGET_TOLERANCE) -> pd.DataFrame:
    """Baseline observations with target, worst, achievement, points and band for every municipality at once.

    ``tolerance`` is the share of the goalpost span within which a value counts as at target
    (:data:`TARGET_TOLERANCE`; analysis.uncertainty varies it).

    Two separate facts about a result's origin: ``source_type`` says where the value comes from
    (only a ``simulated`` value is styled as simulated), and ``goalposts_from_simulated`` says that
    its target or worst was derived partly from simulated peer values (a smaller, separate mark).
    """
    gp = goalposts.reindex(columns=["data_point_id", "direction", "target", "worst", "target_origin", "worst_rule",
                                    "worst_origin", "source_class", "has_goalposts", "goalposts_from_simulated",
                                    "all_meet_target"])
    out = baseline.merge(gp, on="data_point_id", how="left", validate="many_to_one")
    for flag in ("goalposts_from_simulated", "all_meet_target"):
        out[flag] = out[flag].astype("boolean").fillna(False).astype(bool)
    direction = out["direction"].fillna("descriptive")
    raw = achievement(out["value"], out["target"], out["worst"], direction)
    met = at_target(out["value"], out["target"], out["worst"], direction, tolerance)
    # at target (within the tolerance) is 100 %; a data point whose every panel value meets its target has no
    # worst, and its values score 100 % instead of dropping out
    raw = np.where(met & (np.isnan(raw) | (raw < 100.0)) & (out["worst"].notna() | out["all_meet_target"]), 100.0, raw)
    out["achievement_raw"] = raw
    out["achievement"] = np.clip(raw, 0.0, 100.0)
    out["points"] = points(out["achievement"])
    out["band"] = band(out["achievement"])
    return out


def aggregate(scored: pd.DataFrame, cat: pd.DataFrame, level: str,
              municipalities: list[str] | None = None) -> pd.DataFrame:
    """Scores per municipality and group at ``level``, with coverage; unreported data points drop out.

    ``n_in_group`` counts the group's data points that can be scored (not descriptive) in the registry,
    so coverage = n_scored / n_in_group says how much of the group a score rests on. A group with
    coverage below :data:`MIN_COVERAGE` is not ``sufficient``: its scores are empty and its band reads
    "insufficient data" (``points_sum`` and the counts stay). Every municipality in ``municipalities``
    (default: those in ``scored``) gets a row for every group.
    """
    keys = LEVELS[level]
    scoreable = cat[cat["direction"] != "descriptive"]
    sizes = (scoreable.groupby(keys).size().rename("n_in_group") if keys
             else pd.Series({(): len(scoreable)}, name="n_in_group"))
    missing = [c for c in LEVELS["category"] if c not in scored.columns]
    frame = scored.merge(cat[["data_point_id", *missing]], on="data_point_id", how="left") if missing else scored
    frame = frame[frame["direction"].ne("descriptive") & frame["direction"].notna()]
    frame = frame.assign(is_scored=frame["points"].notna(),
                         is_simulated=frame["source_type"].eq("simulated") & frame["points"].notna())
    group_keys = ["municipality", *keys]
    grouped = frame.groupby(group_keys, sort=True)
    out = pd.DataFrame({
        "n_reported": grouped.size(),
        "n_scored": grouped["is_scored"].sum(),
        "n_simulated": grouped["is_simulated"].sum(),
        "points_sum": grouped["points"].sum(min_count=1),
        "mean_achievement": grouped["achievement"].mean(),
    }).reset_index()
    # every municipality × group, so groups with no data show as such instead of vanishing
    names = municipalities if municipalities is not None else scored["municipality"].unique()
    municipalities = pd.Series(sorted(set(names)), name="municipality")
    groups = sizes.reset_index() if keys else pd.DataFrame({"n_in_group": [len(scoreable)]})
    full = municipalities.to_frame().merge(groups, how="cross")
    out = full.merge(out, on=group_keys, how="left")
    for column in ("n_reported", "n_scored", "n_simulated"):
        out[column] = out[column].fillna(0).astype(int)
    out["coverage"] = out["n_scored"] / out["n_in_group"]
    out["sufficient"] = sufficient(out["n_scored"], out["n_in_group"])
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 100.0 * out["points_sum"] / (4.0 * out["n_scored"])
    out["u4ssc_score"] = np.where(out["sufficient"], score, np.nan)
    out["mean_achievement"] = out["mean_achievement"].where(out["sufficient"])
    out["u4ssc_band"] = np.where(out["sufficient"] | (out["n_scored"] == 0), band(out["u4ssc_score"]), INSUFFICIENT)
    out.insert(1, "level", level)
    return out


def sufficient(n_scored: pd.Series | np.ndarray, n_in_group: pd.Series | np.ndarray) -> np.ndarray:
    """Whether a group score rests on enough of its data points: at least one, and :data:`MIN_COVERAGE` of them."""
    n, size = np.asarray(n_scored, dtype=float), np.asarray(n_in_group, dtype=float)
    return (n > 0) & (n >= MIN_COVERAGE * size)


def overall_index(dimension_scores: pd.DataFrame, weights: Mapping[str, float] | None = None,
                  column: str = "mean_achievement") -> pd.DataFrame:
    """Weighted mean of dimension scores per municipality (equal weights by default).

    The index needs a score in every dimension (each dimension sufficient by :data:`MIN_COVERAGE`):
    with one missing it would average a different set of dimensions for different municipalities.
    Without, the index is empty, ``sufficient`` is False and ``band`` reads "insufficient data".
    """
    frame = dimension_scores[["municipality", "dimension", column]].copy()
    w = {k.casefold(): float(v) for k, v in (weights or {}).items()}
    frame["weight"] = frame["dimension"].str.casefold().map(w).fillna(1.0) if w else 1.0
    frame["weighted"] = frame[column] * frame["weight"]
    frame["has_score"] = frame[column].notna()
    grouped = frame.groupby("municipality", sort=True)
    out = pd.DataFrame({
        "index": grouped["weighted"].sum(min_count=1) / frame[frame["has_score"]].groupby("municipality")["weight"].sum(),
        "n_dimensions": grouped["has_score"].sum().astype(int),
        "n_dimensions_in_index": grouped.size(),
    }).reset_index()
    out["sufficient"] = out["n_dimensions"] == out["n_dimensions_in_index"]
    out["index"] = out["index"].where(out["sufficient"])
    out["band"] = np.where(out["sufficient"], band(out["index"]),
                           np.where(out["n_dimensions"] > 0, INSUFFICIENT, NO_DATA))
    return out.drop(columns="n_dimensions_in_index")


def strengths_and_weaknesses(scored: pd.DataFrame, municipality: str, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The municipality's best and worst data points by achievement (ties broken by data point id)."""
    own = scored[(scored["municipality"] == municipality) & scored["achievement"].notna()]
    ordered = own.sort_values(["achievement", "data_point_id"], ascending=[False, True], kind="mergesort")
    weakest = own.sort_values(["achievement", "data_point_id"], ascending=[True, True], kind="mergesort")
    return ordered.head(n).reset_index(drop=True), weakest.head(n).reset_index(drop=True)
