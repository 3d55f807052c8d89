"""Trends per data point where a municipality has several years: one linear model for the arrow and the projected year.

The model (docs/methodology.md, "Trends"): the observed yearly gain is the straight line from the
series' first to its last value, ``(last − first) / (last_year − first_year)``, oriented so that a
gain is an improvement. SDSN's arrow compares it with the yearly gain needed to reach the target
by the deadline: on track, moderately improving (more than half of it), stagnating (0 to half),
decreasing (below 0). The projected year is the year the target is reached at the *same* yearly
gain, ``last_year + ceil(gap / observed gain)``, so the two never contradict each other: a trend is
"on track" exactly when its projected year is no later than the deadline (or, when the deadline
has passed, than the year after the last value). NTNU's dashboard projects with compound growth
instead; that model is not used because it disagrees with the linear arrow (90 rows of the main
job did) and is undefined at 0.

Target reached: a last value within ``tolerance`` of its target (a share of the goalpost span
``|target − worst|``, or of ``|target|`` where there is no worst bound) counts as reached, never as
"decreasing".

Real and simulated years are never mixed silently: a series with at least two real (published,
city-supplied or national-statistics) years uses its real years only; otherwise its simulated
years are used too, and ``rests_on_simulated_year`` is set with the simulated years listed in
``simulated_years``. ``rests_on_simulated`` adds goalposts derived from simulated values, and tables
mark those rows (analysis.present). With one year there is no trend.

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
TOLERANCE = 0.01
"""Default tolerance at the target: 1 % of the goalpost span (or of the target where there is no worst bound)."""
SIMULATED = "simulated"


def trends(observations_frame: pd.DataFrame, goalposts: pd.DataFrame, deadline: int = 2030,
           tolerance: float = TOLERANCE) -> pd.DataFrame:
    """One row per municipality and data point with a target: observed and required yearly gain, arrow, projection.

    ``deadline`` is the run's parameter; a data point whose target set gives its own deadline uses that one
    (column ``deadline`` holds the year used, ``deadline_from`` says where it came from). ``series_from``
    says whether the series starts at the target set's baseline year or at the first observed year.
    ``rests_on_simulated_year`` / ``simulated_years`` say whether and which simulated years the trend uses.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be at least 0, got {tolerance}")
    obs = _one_kind_of_year(observations.scored(observations_frame))
    wanted = ["data_point_id", "direction", "target", "worst", "goalposts_from_simulated"]
    gp = goalposts.loc[goalposts["target"].notna() & goalposts["direction"].isin(
        ["higher_is_better", "lower_is_better"])].reindex(columns=wanted)
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
    simulated_years = obs[obs["is_simulated"]].groupby(keys)["year"].agg(
        lambda s: ", ".join(str(int(y)) for y in sorted(set(s))))
    out = pd.DataFrame({
        "first_year": first["year"], "last_year": last["year"], "n_years": g["year"].nunique(),
        "first_value": first["value"], "last_value": last["value"],
        "target": last["target"], "direction": last["direction"],
        "series_from": np.where(first["from_baseline"], FROM_BASELINE, FROM_FIRST),
        "own_deadline": last["deadline"], "worst": last["worst"],
        "simulated_years": simulated_years.reindex(first.index).astype(object).fillna(""),
        "goalposts_from_simulated": last["goalposts_from_simulated"].astype("boolean").fillna(False).astype(bool),
    }).reset_index()
    own = out.pop("own_deadline")
    out["deadline"] = own.fillna(deadline).astype(int)
    out["deadline_from"] = np.where(own.notna(), FROM_TARGET_SET, FROM_PARAMETER)
    sign = np.where(out["direction"].eq("lower_is_better"), -1.0, 1.0)
    span = (out["last_year"] - out["first_year"]).astype(float)
    gap = sign * (out["target"] - out["last_value"])  # still to gain, in the good direction
    reached = gap <= target_tolerance(out.pop("target"), out.pop("worst"), tolerance)
    years_left = np.maximum(out["deadline"] - out["last_year"], 1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = sign * (out["last_value"] - out["first_value"]) / span
        required = gap / years_left
        years_needed = np.ceil(gap / observed)
    trending = (span > 0) & ~reached
    projected = np.where(trending & (observed > 0), out["last_year"] + years_needed, np.nan)
    out["observed_gain"] = np.where(span > 0, observed, np.nan)
    out["required_gain"] = np.where(reached, 0.0, required)
    out["projected_year"] = np.where(reached, out["last_year"].astype(float), projected)
    on_track = projected <= out["last_year"] + years_left  # NaN compares False
    status = np.select(
        [reached, out["n_years"] < 2, on_track, observed > required / 2, observed >= 0],
        [REACHED, NO_TREND, ON_TRACK, MODERATE, STAGNATING], default=DECREASING)
    out["trend"] = status
    out["arrow"] = out["trend"].map(ARROWS)
    out["rests_on_simulated_year"] = out["simulated_years"].ne("") & out["n_years"].ge(2)
    out["rests_on_simulated"] = out["rests_on_simulated_year"] | out.pop("goalposts_from_simulated")
    return out[["municipality", "data_point_id", "first_year", "last_year", "n_years", "first_value", "last_value",
                "direction", "series_from", "deadline", "deadline_from", "observed_gain", "required_gain",
                "trend", "arrow", "projected_year", "rests_on_simulated_year", "simulated_years",
                "rests_on_simulated"]]


def target_tolerance(target: pd.Series, worst: pd.Series, tolerance: float = TOLERANCE) -> np.ndarray:
    """How close to its target a value must be to count as reached: a share of |target − worst|, else of |target|."""
    t, w = np.asarray(target, dtype=float), np.asarray(worst, dtype=float)
    span = np.abs(t - w)
    scale = np.where(np.isfinite(span) & (span > 0), span, np.abs(t))
    return tolerance * np.nan_to_num(scale, nan=0.0)


def _one_kind_of_year(obs: pd.DataFrame) -> pd.DataFrame:
    """Rows a trend may use: the real years where a series has two or more, otherwise real and simulated years.

    Within a year a real value always wins over a simulated one. Adds ``is_simulated``.
    """
    obs = obs.assign(is_simulated=obs["source_type"].eq(SIMULATED))
    keys = ["municipality", "data_point_id"]
    real_in_year = (~obs["is_simulated"]).groupby([obs[k] for k in [*keys, "year"]]).transform("any")
    obs = obs[~(obs["is_simulated"] & real_in_year)]
    real_years = obs["year"].where(~obs["is_simulated"]).groupby([obs[k] for k in keys]).transform("nunique")
    return obs[~(obs["is_simulated"] & (real_years >= 2))]


def projected_year(first: pd.Series, last: pd.Series, target: pd.Series, first_year: pd.Series,
                   last_year: pd.Series, direction: pd.Series) -> np.ndarray:
    """Year the target is reached at the observed linear yearly gain (NaN if never at that rate).

    The same model as the arrow of :func:`trends` (without its tolerance; a value at or past the
    target gives its last year).
    """
    x0, x1, t = (np.asarray(a, dtype=float) for a in (first, last, target))
    y0, y1 = np.asarray(first_year, dtype=float), np.asarray(last_year, dtype=float)
    sign = np.where(np.asarray(direction) == "lower_is_better", -1.0, 1.0)
    gap = sign * (t - x1)
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = sign * (x1 - x0) / (y1 - y0)
        years = y1 + np.ceil(gap / gain)
    return np.where(gap <= 0, y1, np.where((y1 > y0) & (gain > 0), years, np.nan))
