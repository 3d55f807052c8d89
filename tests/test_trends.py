"""SDSN trend arrows and NTNU's projected year, on observations constructed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import trends

DEADLINE = 2030


def obs(rows: list[tuple[str, int, float]], municipality: str = "Oslo", source_type: str = "published") -> pd.DataFrame:
    return pd.DataFrame({
        "municipality": municipality,
        "data_point_id": [r[0] for r in rows],
        "year": [r[1] for r in rows],
        "value": [r[2] for r in rows],
        "status": "reported",
        "source_type": source_type,
    })


GP = pd.DataFrame({
    "data_point_id": ["H", "L", "B", "N"],
    "direction": ["higher_is_better", "lower_is_better", "target_band", "higher_is_better"],
    "target": [100.0, 10.0, 1.0, np.nan],
})


def trend_of(rows, dp="H", gp=GP, deadline=DEADLINE) -> pd.Series:
    out = trends.trends(obs(rows), gp, deadline)
    return out.set_index("data_point_id").loc[dp]


# --- arrows -------------------------------------------------------------------------------------

def test_one_year_only():
    row = trend_of([("H", 2020, 50.0)])
    assert row["trend"] == trends.NO_TREND and row["arrow"] == "·"
    assert np.isnan(row["observed_gain"]) and np.isnan(row["projected_year"])


def test_one_year_at_target_is_reached():
    row = trend_of([("H", 2020, 100.0)])
    assert row["trend"] == trends.REACHED
    assert row["projected_year"] == 2020


# target 100, last value 60 in 2020: required gain (100 - 60) / (2030 - 2020) = 4 per year
@pytest.mark.parametrize("first, expected", [
    (40.0, trends.ON_TRACK),      # +10 / yr
    (52.0, trends.ON_TRACK),      # +4 / yr: observed = required
    (54.0, trends.MODERATE),      # +3 / yr: more than half of 4
    (56.0, trends.STAGNATING),    # +2 / yr: exactly half is not more than half
    (58.0, trends.STAGNATING),    # +1 / yr
    (60.0, trends.STAGNATING),    # 0 / yr
    (62.0, trends.DECREASING),    # -1 / yr
])
def test_arrows_higher_is_better(first, expected):
    row = trend_of([("H", 2018, first), ("H", 2020, 60.0)])
    assert row["required_gain"] == pytest.approx(4.0)
    assert row["observed_gain"] == pytest.approx((60.0 - first) / 2)
    assert row["trend"] == expected
    assert row["arrow"] == trends.ARROWS[expected]


# lower is better, target 10, last value 30 in 2020: required fall (30 - 10) / 10 = 2 per year
@pytest.mark.parametrize("first, expected", [
    (50.0, trends.ON_TRACK),      # falls 10 / yr
    (33.0, trends.MODERATE),      # falls 1.5 / yr
    (31.0, trends.STAGNATING),    # falls 0.5 / yr
    (28.0, trends.DECREASING),    # rises 1 / yr
])
def test_arrows_lower_is_better(first, expected):
    row = trend_of([("L", 2018, first), ("L", 2020, 30.0)], dp="L")
    assert row["required_gain"] == pytest.approx(2.0)
    assert row["observed_gain"] == pytest.approx((first - 30.0) / 2)
    assert row["trend"] == expected


def test_lower_is_better_reached():
    row = trend_of([("L", 2018, 20.0), ("L", 2020, 9.0)], dp="L")
    assert row["trend"] == trends.REACHED and row["required_gain"] == 0.0
    assert row["projected_year"] == 2020


def test_middle_years_do_not_change_first_and_last():
    row = trend_of([("H", 2020, 60.0), ("H", 2018, 40.0), ("H", 2019, 10.0)])
    assert (row["first_year"], row["last_year"], row["n_years"]) == (2018, 2020, 3)
    assert row["observed_gain"] == pytest.approx(10.0)


def test_only_directional_data_points_with_a_target():
    out = trends.trends(obs([("B", 2018, 0.5), ("B", 2020, 0.9), ("N", 2018, 1.0), ("N", 2020, 2.0),
                             ("H", 2020, 50.0)]), GP)
    assert out["data_point_id"].tolist() == ["H"]


def test_unscored_rows_are_ignored():
    frame = obs([("H", 2018, 40.0), ("H", 2020, 60.0)])
    frame.loc[0, "status"] = "not_reported"
    row = trends.trends(frame, GP).set_index("data_point_id").loc["H"]
    assert row["trend"] == trends.NO_TREND and row["n_years"] == 1


def test_two_sources_in_one_year_are_still_one_year():
    # a published and a city-supplied value of the same year (build keeps both) are no time series
    frame = pd.concat([obs([("H", 2020, 60.0)]), obs([("H", 2020, 60.0)], source_type="city-supplied")],
                      ignore_index=True)
    row = trends.trends(frame, GP).set_index("data_point_id").loc["H"]
    assert row["trend"] == trends.NO_TREND
    assert np.isnan(row["projected_year"])


# --- projected year -----------------------------------------------------------------------------

def test_projected_year_compound_growth():
    # 50 -> 60.5 over two years is +10 % a year; 80 is reached after log(80/60.5)/log(1.1) = 2.93 years
    row = trend_of([("H", 2018, 50.0), ("H", 2020, 60.5)], gp=GP.assign(target=[80.0, 10.0, 1.0, np.nan]))
    years = math.log(80 / 60.5) / math.log(1.1)
    assert 2.9 < years < 3.0
    assert row["projected_year"] == math.ceil(2020 + years) == 2023


def test_projected_year_lower_is_better():
    # 100 -> 81 over two years is -10 % a year; 50 is reached after log(50/81)/log(0.9) = 4.58 years
    row = trend_of([("L", 2018, 100.0), ("L", 2020, 81.0)], dp="L", gp=GP.assign(target=[100.0, 50.0, 1.0, np.nan]))
    years = math.log(50 / 81) / math.log(0.9)
    assert 4.5 < years < 4.6
    assert row["projected_year"] == math.ceil(2020 + years) == 2025


def test_projected_year_linear_from_zero():
    # from 0 compound growth is undefined: linear 0 -> 20 over two years reaches 100 after 8 more years
    row = trend_of([("H", 2018, 0.0), ("H", 2020, 20.0)])
    assert row["projected_year"] == 2028


@pytest.mark.parametrize("dp, first, last", [("H", 60.5, 50.0), ("H", 50.0, 50.0), ("L", 30.0, 40.0)])
def test_no_projection_when_moving_the_wrong_way(dp, first, last):
    row = trend_of([(dp, 2018, first), (dp, 2020, last)], dp=dp)
    assert np.isnan(row["projected_year"])


def test_projected_year_function_directly():
    out = trends.projected_year(pd.Series([50.0]), pd.Series([60.5]), pd.Series([80.0]),
                                pd.Series([2018]), pd.Series([2020]), pd.Series(["higher_is_better"]))
    assert out[0] == 2023


# --- a target set's own deadline and baseline year ----------------------------------------------

def gp_with(deadline=np.nan, baseline_year=np.nan) -> pd.DataFrame:
    """GP where data point H carries a target set's deadline and baseline year (L keeps neither)."""
    return GP.assign(deadline=[deadline, np.nan, np.nan, np.nan],
                     baseline_year=[baseline_year, np.nan, np.nan, np.nan])


def test_set_deadline_replaces_the_parameter():
    # target 100, last value 60 in 2020: with the set's 2025, (100 − 60) / 5 = 8 a year; with the run's 2030, 4
    rows = [("H", 2018, 52.0), ("H", 2020, 60.0)]
    own = trend_of(rows, gp=gp_with(deadline=2025))
    assert own["required_gain"] == pytest.approx(8.0)
    assert (own["deadline"], own["deadline_from"]) == (2025, trends.FROM_TARGET_SET)
    assert own["trend"] == trends.STAGNATING  # observed 4 is half of 8, not more than half
    run = trend_of(rows)
    assert run["required_gain"] == pytest.approx(4.0)
    assert (run["deadline"], run["deadline_from"]) == (2030, trends.FROM_PARAMETER)
    assert run["trend"] == trends.ON_TRACK


def test_parameter_deadline_still_used_where_the_set_gives_none():
    # L has no own deadline: the run's 2040 gives (30 − 10) / 20 = 1 a year; H keeps the set's 2025
    out = trends.trends(obs([("L", 2018, 33.0), ("L", 2020, 30.0), ("H", 2020, 60.0)]),
                        gp_with(deadline=2025), 2040).set_index("data_point_id")
    assert out.loc["L", "required_gain"] == pytest.approx(1.0)
    assert (out.loc["L", "deadline"], out.loc["L", "deadline_from"]) == (2040, trends.FROM_PARAMETER)
    assert (out.loc["H", "deadline"], out.loc["H", "deadline_from"]) == (2025, trends.FROM_TARGET_SET)


def test_past_set_deadline_asks_for_the_whole_gap_in_one_year():
    row = trend_of([("H", 2018, 52.0), ("H", 2020, 60.0)], gp=gp_with(deadline=2018))
    assert row["required_gain"] == pytest.approx(40.0)


def test_gain_measured_from_the_baseline_year():
    # 20 (2014), 40 (2016), 60 (2020); baseline 2016: observed (60 − 40) / 4 = 5, not (60 − 20) / 6
    rows = [("H", 2014, 20.0), ("H", 2016, 40.0), ("H", 2020, 60.0)]
    row = trend_of(rows, gp=gp_with(baseline_year=2016))
    assert (row["first_year"], row["first_value"], row["n_years"]) == (2016, 40.0, 2)
    assert row["series_from"] == trends.FROM_BASELINE
    assert row["observed_gain"] == pytest.approx(5.0)
    assert row["trend"] == trends.ON_TRACK  # required (100 − 60) / 10 = 4
    # NTNU's compound growth since the baseline: 40 → 60 in 4 years, 100 after 4·ln(5/3)/ln(1.5) = 5.04 years
    years = 4 * math.log(100 / 60) / math.log(60 / 40)
    assert 5.0 < years < 5.1
    assert row["projected_year"] == math.ceil(2020 + years) == 2026
    plain = trend_of(rows)
    assert plain["series_from"] == trends.FROM_FIRST and plain["observed_gain"] == pytest.approx(40.0 / 6)


@pytest.mark.parametrize("baseline_year", [2015, 2020, 2025])
def test_baseline_year_without_an_earlier_observation_falls_back_to_the_first_year(baseline_year):
    # no value in 2015 or 2025; a baseline in the last year (2020) leaves no series to measure
    row = trend_of([("H", 2018, 52.0), ("H", 2020, 60.0)], gp=gp_with(baseline_year=baseline_year))
    assert row["series_from"] == trends.FROM_FIRST
    assert (row["first_year"], row["observed_gain"]) == (2018, pytest.approx(4.0))


def test_city_set_end_to_end_through_goalposts():
    # a city row (target 70, start 30, baseline 2015, deadline 2025) flows from targets.goalposts into trends
    from analysis import targets

    sel = pd.DataFrame({"target_set": ["Testby"], "data_point_id": ["R"], "target": [70.0], "worst": [30.0],
                        "rule": pd.Series([None], dtype=object), "source_class": ["city"], "rationale": ["t"],
                        "source": ["t"], "baseline_year": pd.array([2015], dtype="Int64"),
                        "deadline": pd.array([2025], dtype="Int64")})
    cat = pd.DataFrame({"data_point_id": ["R"], "direction": ["higher_is_better"], "unit": ["%"]})
    gp = targets.goalposts(sel, pd.DataFrame({"data_point_id": ["R"], "value": [40.0]}), cat)
    out = trends.trends(obs([("R", 2012, 20.0), ("R", 2015, 35.0), ("R", 2020, 50.0)]), gp, 2030).iloc[0]
    assert (out["deadline"], out["deadline_from"], out["series_from"]) == (2025, trends.FROM_TARGET_SET,
                                                                           trends.FROM_BASELINE)
    assert out["observed_gain"] == pytest.approx((50 - 35) / 5)   # 3 a year since 2015
    assert out["required_gain"] == pytest.approx((70 - 50) / 5)   # 4 a year to 2025 (2 a year to the run's 2030)
    assert out["trend"] == trends.MODERATE
