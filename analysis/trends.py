"""Trends per data point where a municipality has several years: SDSN arrows and NTNU's projected year.

SDSN compares the yearly gain needed to reach the target by the deadline with the observed
yearly gain: on track (observed ≥ required), moderately improving (more than half of it),
stagnating (0 to half), decreasing (below 0). NTNU's dashboard projects the year the target is
reached from the compound annual growth since the first year. With one year there is no trend.

A target set may give its own ``deadline`` per data point (a city's goal, as on NTNU's dashboard);
it replaces the run's ``deadline`` parameter for that data point. Where the set also gives a
``baseline_year`` and the municipality has an observation in that year (before its last year),
the observed gain and the projection run from the baseline year, not from the first year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import observations

ON_TRACK, MODERATE, STAGNATING, DECREASING = "on track", "moderately improving", "stagnating", "decreasing"
REACHED = "target reached"
NO_TREND = "no trend: one year only"
FROM_TARGET_SET, FROM_PARAMETER = "target set", "parameter"
FROM_BASELINE, FROM_FIRST = "baseline year", "first year"
ARROWS = {ON_TRACK: "↑", MODERATE: "↗", STAGNATING: "→", DECREASING: "↓", REACHED: "✓", NO_TREND: "·"}


def trends(observations_frame: pd.DataFrame, goalposts: pd.DataFrame, deadline: int = 2030) -> pd.DataFrame:
    """One row per municipality and data point with a target: observed and required yearly gain, arrow, projection.

    ``deadline`` is the run's parameter; a data point whose target set gives its own deadline uses that one
    (column ``deadline`` holds the year used, ``deadline_from`` says where it came from). ``series_from``
    says whether the series starts at the target set's baseline year or at the first observed year.
    """
    obs = observations.scored(observations_frame)
    gp = goalposts.loc[goalposts["target"].notna() & goalposts["direction"].isin(
        ["higher_is_better", "lower_is_better"]), ["data_point_id", "direction", "target"]].copy()
    for column in ("baseline_year", "deadline"):  # optional: goalposts built without a target set lack them
        gp[column] = (pd.to_numeric(goalposts.loc[gp.index, column], errors="coerce").astype(float)
                      if column in goalposts else np.nan)
    obs = obs.merge(gp, on="data_point_id", how="inner").sort_values("year", kind="mergesort")
    keys = ["municipality", "data_point_id"]
    last_year = obs.groupby(keys)["year"].transform("max")
    at_baseline = obs["baseline_year"].notna() & obs["year"].eq(obs["baseline_year"]) & (obs["year"] < last_year)
    obs["from_baseline"] = at_baseline.groupby([obs[k] for k in keys]).transform("any")
    obs = obs[~obs["from_baseline"] | (obs["year"] >= obs["baseline_year"])]
    g = obs.groupby(keys, sort=True)
    first, last = g.first(), g.last()
    out = pd.DataFrame({
        "first_year": first["year"], "last_year": last["year"], "n_years": g["year"].nunique(),
        "first_value": first["value"], "last_value": last["value"],
        "target": last["target"], "direction": last["direction"],
        "series_from": np.where(first["from_baseline"], FROM_BASELINE, FROM_FIRST),
        "own_deadline": last["deadline"],
    }).reset_index()
    own = out.pop("own_deadline")
    out["deadline"] = own.fillna(deadline).astype(int)
    out["deadline_from"] = np.where(own.notna(), FROM_TARGET_SET, FROM_PARAMETER)
    sign = np.where(out["direction"].eq("lower_is_better"), -1.0, 1.0)
    span = (out["last_year"] - out["first_year"]).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = sign * (out["last_value"] - out["first_value"]) / span
        years_left = np.maximum(out["deadline"] - out["last_year"], 1).astype(float)
        required = sign * (out["target"] - out["last_value"]) / years_left
    reached = sign * (out["last_value"] - out["target"]) >= 0
    out["observed_gain"] = np.where(span > 0, observed, np.nan)
    out["required_gain"] = np.where(reached, 0.0, required)
    status = np.select(
        [reached, out["n_years"] < 2, observed >= required, observed > required / 2, observed >= 0],
        [REACHED, NO_TREND, ON_TRACK, MODERATE, STAGNATING], default=DECREASING)
    out["trend"] = status
    out["arrow"] = out["trend"].map(ARROWS)
    out["projected_year"] = projected_year(out["first_value"], out["last_value"], out["target"],
                                           out["first_year"], out["last_year"], out["direction"])
    out.loc[reached, "projected_year"] = out.loc[reached, "last_year"].astype(float)
    return out


def projected_year(first: pd.Series, last: pd.Series, target: pd.Series, first_year: pd.Series,
                   last_year: pd.Series, direction: pd.Series) -> np.ndarray:
    """Year the target is reached at the observed compound annual growth (NaN if never at that rate).

    Compound growth needs positive values; where the first or last value is 0 the linear rate is used.
    """
    x0, x1, t = (np.asarray(a, dtype=float) for a in (first, last, target))
    y0, y1 = np.asarray(first_year, dtype=float), np.asarray(last_year, dtype=float)
    span = y1 - y0
    lower = np.asarray(direction) == "lower_is_better"
    with np.errstate(divide="ignore", invalid="ignore"):
        cagr = (x1 / x0) ** (1.0 / span) - 1.0
        compound = np.log(t / x1) / np.log1p(cagr)
        linear = (t - x1) / ((x1 - x0) / span)
    positive = (x0 > 0) & (x1 > 0) & (t > 0)
    years = np.where(positive, compound, linear)
    moving_right_way = np.where(lower, x1 < x0, x1 > x0)
    ok = (span > 0) & moving_right_way & np.isfinite(years) & (years >= 0)
    return np.where(ok, np.ceil(y1 + np.where(ok, years, 0.0)), np.nan)
