"""SDSN trend arrows and the projected year of the same linear model, on observations constructed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import trends

DEADLINE = 2030


@pytest.fixture(scope="module")
def complete():
    from analysis import assess, params
    return assess.assess(params.load())


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


# --- projected year: the same linear model as the arrow ---------------------------------------

def test_projected_year_linear():
    # 50 -> 60 over two years is +5 a year; 80 is reached after (80 - 60) / 5 = 4 more years
    row = trend_of([("H", 2018, 50.0), ("H", 2020, 60.0)], gp=GP.assign(target=[80.0, 10.0, 1.0, np.nan]))
    assert row["observed_gain"] == pytest.approx(5.0)
    assert row["projected_year"] == 2024
    assert row["trend"] == trends.ON_TRACK


def test_projected_year_rounds_up_to_a_whole_year():
    # +5 a year, 21 to go: 4.2 years, so the target is reached in the fifth year, 2025
    row = trend_of([("H", 2018, 49.0), ("H", 2020, 59.0)], gp=GP.assign(target=[80.0, 10.0, 1.0, np.nan]))
    assert row["projected_year"] == 2025


def test_projected_year_lower_is_better():
    # 100 -> 80 over two years falls 10 a year; 50 is reached after 3 more years
    row = trend_of([("L", 2018, 100.0), ("L", 2020, 80.0)], dp="L", gp=GP.assign(target=[100.0, 50.0, 1.0, np.nan]))
    assert row["projected_year"] == 2023


def test_projected_year_from_zero():
    # linear 0 -> 20 over two years reaches 100 after 8 more years
    row = trend_of([("H", 2018, 0.0), ("H", 2020, 20.0)])
    assert row["projected_year"] == 2028


@pytest.mark.parametrize("dp, first, last", [("H", 60.5, 50.0), ("H", 50.0, 50.0), ("L", 30.0, 40.0)])
def test_no_projection_when_moving_the_wrong_way(dp, first, last):
    row = trend_of([(dp, 2018, first), (dp, 2020, last)], dp=dp)
    assert np.isnan(row["projected_year"])


def test_projected_year_function_directly():
    out = trends.projected_year(pd.Series([50.0, 50.0, 90.0]), pd.Series([60.0, 40.0, 100.0]),
                                pd.Series([80.0, 80.0, 80.0]), pd.Series([2018] * 3), pd.Series([2020] * 3),
                                pd.Series(["higher_is_better"] * 3))
    assert out[0] == 2024 and np.isnan(out[1]) and out[2] == 2020


@settings(max_examples=100, deadline=None)
@given(first=st.floats(0, 200), last=st.floats(0, 200), target=st.floats(1, 200),
       first_year=st.integers(2010, 2019), deadline=st.integers(2015, 2040),
       lower=st.booleans())
def test_arrow_and_projected_year_never_contradict(first, last, target, first_year, deadline, lower):
    # on track exactly when the projected year is no later than the deadline (or the year after the
    # last value when the deadline has passed); decreasing never has a projected year
    dp = "L" if lower else "H"
    gp = GP.assign(target=[target, target, 1.0, np.nan])
    row = trend_of([(dp, first_year, first), (dp, 2020, last)], dp=dp, gp=gp, deadline=deadline)
    limit = max(deadline, 2021)
    if row["trend"] == trends.ON_TRACK:
        assert row["projected_year"] <= limit
    elif row["trend"] in (trends.MODERATE, trends.STAGNATING):
        assert np.isnan(row["projected_year"]) or row["projected_year"] > limit
    elif row["trend"] == trends.DECREASING:
        assert np.isnan(row["projected_year"]) and row["observed_gain"] < 0
    else:
        assert row["trend"] == trends.REACHED and row["projected_year"] == 2020


# --- tolerance at the target ---------------------------------------------------------------------

def test_value_within_tolerance_of_its_target_is_reached_not_decreasing():
    # target 100, worst 0: 1 % of the span is 1; 99.5 after 100.5 would be "decreasing" without it
    gp = GP.assign(worst=[0.0, 100.0, np.nan, np.nan])
    row = trend_of([("H", 2018, 100.5), ("H", 2020, 99.5)], gp=gp)
    assert row["trend"] == trends.REACHED and row["required_gain"] == 0.0 and row["projected_year"] == 2020
    below = trend_of([("H", 2018, 100.5), ("H", 2020, 98.5)], gp=gp)
    assert below["trend"] == trends.DECREASING
    # lower is better, target 10, worst 100: tolerance 0.9, so 10.8 is reached and 11 is not
    assert trend_of([("L", 2018, 9.0), ("L", 2020, 10.8)], dp="L", gp=gp)["trend"] == trends.REACHED
    assert trend_of([("L", 2018, 9.0), ("L", 2020, 11.0)], dp="L", gp=gp)["trend"] == trends.DECREASING


def test_tolerance_without_worst_is_a_share_of_the_target_and_can_be_zero():
    rows = [("H", 2018, 100.5), ("H", 2020, 99.5)]
    assert trend_of(rows)["trend"] == trends.REACHED          # 1 % of 100 = 1
    strict = trends.trends(obs(rows), GP, DEADLINE, tolerance=0.0).set_index("data_point_id").loc["H"]
    assert strict["trend"] == trends.DECREASING
    with pytest.raises(ValueError, match="tolerance"):
        trends.trends(obs(rows), GP, DEADLINE, tolerance=-0.1)


def test_target_tolerance_function():
    out = trends.target_tolerance(pd.Series([100.0, 10.0, 0.0, 50.0]), pd.Series([0.0, 110.0, np.nan, 50.0]), 0.05)
    assert out.tolist() == pytest.approx([5.0, 5.0, 0.0, 2.5])


# --- real and simulated years ---------------------------------------------------------------------

def mixed(rows_real, rows_sim, municipality="Oslo"):
    return pd.concat([obs(rows_real, municipality), obs(rows_sim, municipality, source_type="simulated")],
                     ignore_index=True)


def test_real_years_only_where_there_are_two():
    # real 2016 and 2020, simulated 2018 (and a simulated 2020 beside the real one): the real years decide
    frame = mixed([("H", 2016, 40.0), ("H", 2020, 60.0)], [("H", 2018, 10.0), ("H", 2020, 99.0)])
    row = trends.trends(frame, GP).set_index("data_point_id").loc["H"]
    assert (row["first_year"], row["last_value"], row["n_years"]) == (2016, 60.0, 2)
    assert row["observed_gain"] == pytest.approx(5.0)
    assert not row["rests_on_simulated_year"] and row["simulated_years"] == "" and not row["rests_on_simulated"]


def test_trend_resting_on_a_simulated_year_is_marked():
    # the case: simulated 290 (2018) to a real 246 (2021) is marked, never silently mixed
    frame = mixed([("H", 2021, 46.0)], [("H", 2018, 90.0), ("H", 2019, 80.0)])
    row = trends.trends(frame, GP).set_index("data_point_id").loc["H"]
    assert row["rests_on_simulated_year"] and row["simulated_years"] == "2018, 2019"
    assert row["rests_on_simulated"] and row["trend"] == trends.DECREASING
    from analysis import present
    assert present.rests_on_simulated(trends.trends(frame, GP)).all()


def test_one_real_year_alone_rests_on_nothing_simulated():
    row = trends.trends(mixed([("H", 2020, 60.0)], []), GP).iloc[0]
    assert row["trend"] == trends.NO_TREND and not row["rests_on_simulated_year"]


def test_goalposts_from_simulated_values_mark_the_trend_but_not_the_years():
    gp = GP.assign(goalposts_from_simulated=[True, False, False, False])
    row = trend_of([("H", 2018, 40.0), ("H", 2020, 60.0)], gp=gp)
    assert row["rests_on_simulated"] and not row["rests_on_simulated_year"]


def test_main_job_trends_are_consistent_and_marked(complete):
    # the demonstration panel: every trend with a simulated year is marked, arrows agree with the projection
    t = complete.trends
    sim_years = t["simulated_years"].ne("") & t["n_years"].ge(2)
    assert (t["rests_on_simulated_year"] == sim_years).all()
    on = t[t["trend"] == trends.ON_TRACK]
    assert (on["projected_year"] <= np.maximum(on["deadline"], on["last_year"] + 1)).all()
    off = t[t["trend"].isin([trends.MODERATE, trends.STAGNATING, trends.DECREASING])]
    assert not (off["projected_year"] <= np.maximum(off["deadline"], off["last_year"] + 1)).any()


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
    # the projection runs from the baseline too: 40 more at 5 a year is 8 years
    assert row["projected_year"] == 2028
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
