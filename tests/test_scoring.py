"""Achievement, U4SSC points and bands, and aggregation, checked against the U4SSC rules by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import scoring

FOUR_BANDS = ("0–33 %", "33–66 %", "66–95 %", "95–100 %")


# --- small hand-built registry and scored frames ------------------------------------------------

def mini_catalogue() -> pd.DataFrame:
    """Two dimensions; category C1 has four scoreable data points and one descriptive one."""
    rows = [
        ("A1", "Economy", "ICT", "C1", "higher_is_better"),
        ("A2", "Economy", "ICT", "C1", "higher_is_better"),
        ("A3", "Economy", "ICT", "C1", "lower_is_better"),
        ("A4", "Economy", "ICT", "C1", "higher_is_better"),
        ("A5", "Economy", "ICT", "C1", "descriptive"),
        ("B1", "Environment", "Energy", "Energy", "higher_is_better"),
        ("B2", "Environment", "Energy", "Energy", "higher_is_better"),
    ]
    return pd.DataFrame(rows, columns=["data_point_id", "dimension", "sub_dimension", "category", "direction"])


def goalposts_for(ids_directions: dict[str, tuple[str, float, float]]) -> pd.DataFrame:
    rows = [(dp, d, t, w, "cited", "given", "international", True) for dp, (d, t, w) in ids_directions.items()]
    return pd.DataFrame(rows, columns=["data_point_id", "direction", "target", "worst", "target_origin",
                                       "worst_origin", "source_class", "has_goalposts"])


def baseline(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({
        "municipality": [r[0] for r in rows],
        "data_point_id": [r[1] for r in rows],
        "year": 2020,
        "value": [r[2] for r in rows],
        "status": "reported",
        "source_type": "published",
    })


GP = goalposts_for({
    "A1": ("higher_is_better", 100.0, 0.0),
    "A2": ("higher_is_better", 100.0, 0.0),
    "A3": ("lower_is_better", 0.0, 100.0),
    "A4": ("higher_is_better", 100.0, 0.0),
    "A5": ("descriptive", np.nan, np.nan),
    "B1": ("higher_is_better", 100.0, 0.0),
    "B2": ("higher_is_better", 100.0, 0.0),
})


def worked_example() -> pd.DataFrame:
    """U4SSC's example: points 1, 3, 4, 1 in one category (A3 is lower-is-better, value 0 = target), plus a
    descriptive data point A5."""
    base = baseline([("Oslo", "A1", 10.0), ("Oslo", "A2", 80.0), ("Oslo", "A3", 0.0), ("Oslo", "A4", 20.0),
                     ("Oslo", "A5", 123.0)])
    return scoring.score_data_points(base, GP)


def one_row(level: pd.DataFrame, **where) -> pd.Series:
    mask = np.ones(len(level), dtype=bool)
    for k, v in where.items():
        mask &= level[k].eq(v).to_numpy()
    assert mask.sum() == 1, f"expected one row for {where}, got {mask.sum()}"
    return level[mask].iloc[0]


# --- the U4SSC worked example -------------------------------------------------------------------

def test_worked_example_points():
    scored = worked_example().set_index("data_point_id")
    assert scored.loc[["A1", "A2", "A3", "A4"], "points"].tolist() == [1, 3, 4, 1]
    assert scored.loc[["A1", "A2", "A3", "A4"], "achievement"].tolist() == [10.0, 80.0, 100.0, 20.0]


def test_u4ssc_worked_example_through_aggregate():
    # hand-built points 1, 3, 4, 1 (achievements 10, 80, 100, 20) -> (1+3+4+1)/16 = 56.25 %
    scored = baseline([("Oslo", dp, 0.0) for dp in ("A1", "A2", "A3", "A4")])
    scored["direction"] = ["higher_is_better", "higher_is_better", "lower_is_better", "higher_is_better"]
    scored["achievement"] = [10.0, 80.0, 100.0, 20.0]
    scored["points"] = [1.0, 3.0, 4.0, 1.0]
    out = scoring.aggregate(scored, mini_catalogue(), "category")
    row = one_row(out, municipality="Oslo", category="C1")
    assert row["u4ssc_score"] == pytest.approx(100 * 9 / 16)
    assert row["u4ssc_score"] == pytest.approx(56.25)
    assert row["u4ssc_band"] == "33–66 %"
    assert row["mean_achievement"] == pytest.approx((10 + 80 + 100 + 20) / 4)
    assert row["n_scored"] == 4
    assert row["n_in_group"] == 4  # A5 is descriptive and does not count
    assert row["coverage"] == pytest.approx(1.0)


def test_worked_example_from_values_to_category_score():
    # values 10, 80, 0 (lower is better, target 0), 20 -> points 1, 3, 4, 1; A5 is descriptive
    scored = worked_example()
    out = scoring.aggregate(scored, mini_catalogue(), "category")
    row = one_row(out, municipality="Oslo", category="C1")
    assert row["u4ssc_score"] == pytest.approx(56.25)
    assert row["u4ssc_band"] == "33–66 %"


# --- points and bands at the edges --------------------------------------------------------------

@pytest.mark.parametrize("achieved, expected_points, expected_band", [
    (0.0, 1, "0–33 %"),
    (32.99, 1, "0–33 %"),
    (33.0, 2, "33–66 %"),
    (65.99, 2, "33–66 %"),
    (66.0, 3, "66–95 %"),
    (94.99, 3, "66–95 %"),
    (95.0, 4, "95–100 %"),
    (100.0, 4, "95–100 %"),
])
def test_band_edges(achieved, expected_points, expected_band):
    assert scoring.points([achieved])[0] == expected_points
    assert scoring.band([achieved])[0] == expected_band


def test_nan_has_no_points_and_no_band():
    p = scoring.points([np.nan, 50.0])
    assert np.isnan(p[0]) and p[1] == 2
    assert scoring.band([np.nan])[0] == "no data"


# --- achievement --------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [(10.0, 100.0), (50.0, 0.0), (30.0, 50.0), (40.0, 25.0)])
def test_lower_is_better_goalposts(value, expected):
    # target 10, worst 50: value = target -> 100, value = worst -> 0, halfway -> 50
    raw = scoring.achievement([value], [10.0], [50.0], ["lower_is_better"])
    assert raw[0] == pytest.approx(expected)


def test_better_than_target_is_capped_but_raw_kept():
    base = baseline([("Oslo", "A3", 0.0), ("Oslo", "A1", 120.0)])  # A3: lower is better, below target 20
    gp = goalposts_for({"A3": ("lower_is_better", 20.0, 100.0), "A1": ("higher_is_better", 100.0, 0.0)})
    scored = scoring.score_data_points(base, gp).set_index("data_point_id")
    # (0 - 100) / (20 - 100) = 125 %; (120 - 0) / (100 - 0) = 120 %
    assert scored.loc["A3", "achievement_raw"] == pytest.approx(125.0)
    assert scored.loc["A1", "achievement_raw"] == pytest.approx(120.0)
    assert scored.loc["A3", "achievement"] == 100.0 and scored.loc["A1", "achievement"] == 100.0
    assert scored.loc["A3", "points"] == 4


def test_worse_than_worst_is_capped_at_zero():
    raw = scoring.achievement([70.0], [10.0], [50.0], ["lower_is_better"])
    assert raw[0] == pytest.approx(-50.0)
    base = baseline([("Oslo", "A3", 70.0)])
    scored = scoring.score_data_points(base, goalposts_for({"A3": ("lower_is_better", 10.0, 50.0)}))
    assert scored["achievement"].iloc[0] == 0.0 and scored["points"].iloc[0] == 1


@pytest.mark.parametrize("value, expected", [(0.64, 64.0), (1.36, 64.0), (1.0, 100.0), (0.0, 0.0)])
def test_target_band_gender_ratio(value, expected):
    # target 1.0, worst 0: 100 * (1 - |x - 1| / |1 - 0|)
    raw = scoring.achievement([value], [1.0], [0.0], ["target_band"])
    assert raw[0] == pytest.approx(expected)


def test_zero_value_is_scored_not_missing():
    base = baseline([("Oslo", "A1", 0.0), ("Oslo", "A3", 0.0)])
    gp = goalposts_for({"A1": ("higher_is_better", 100.0, 0.0), "A3": ("lower_is_better", 0.0, 100.0)})
    scored = scoring.score_data_points(base, gp).set_index("data_point_id")
    assert scored.loc["A1", "achievement"] == 0.0 and scored.loc["A1", "points"] == 1
    assert scored.loc["A1", "band"] == "0–33 %"
    assert scored.loc["A3", "achievement"] == 100.0 and scored.loc["A3", "points"] == 4


def test_missing_value_has_no_achievement():
    base = baseline([("Oslo", "A1", np.nan)])
    scored = scoring.score_data_points(base, GP)
    assert np.isnan(scored["achievement"].iloc[0]) and np.isnan(scored["points"].iloc[0])
    assert scored["band"].iloc[0] == "no data"


def test_yes_no():
    base = baseline([("Oslo", "A1", 1.0), ("Bergen", "A1", 0.0)])
    gp = goalposts_for({"A1": ("higher_is_better", 1.0, 0.0)})
    scored = scoring.score_data_points(base, gp).set_index("municipality")
    assert scored.loc["Oslo", "achievement"] == 100.0 and scored.loc["Oslo", "points"] == 4
    assert scored.loc["Bergen", "achievement"] == 0.0 and scored.loc["Bergen", "points"] == 1


def test_data_point_without_goalposts_has_no_achievement():
    base = baseline([("Oslo", "A1", 50.0)])
    gp = goalposts_for({"A1": ("higher_is_better", np.nan, 0.0)})
    scored = scoring.score_data_points(base, gp)
    assert np.isnan(scored["achievement"].iloc[0]) and scored["band"].iloc[0] == "no data"


def test_descriptive_has_no_achievement_and_is_not_aggregated():
    scored = worked_example()
    desc = scored[scored["data_point_id"] == "A5"].iloc[0]
    assert np.isnan(desc["achievement"]) and np.isnan(desc["achievement_raw"]) and np.isnan(desc["points"])
    row = one_row(scoring.aggregate(scored, mini_catalogue(), "category"), municipality="Oslo", category="C1")
    assert row["n_reported"] == 4  # A5's row is dropped, not counted as reported
    assert row["n_in_group"] == 4


# --- aggregation --------------------------------------------------------------------------------

def test_coverage_counts_scoreable_data_points():
    base = baseline([("Oslo", "A1", 50.0), ("Oslo", "A2", 50.0), ("Oslo", "A3", 50.0), ("Oslo", "A5", 1.0)])
    scored = scoring.score_data_points(base, GP)
    cat = mini_catalogue()
    row = one_row(scoring.aggregate(scored, cat, "category"), municipality="Oslo", category="C1")
    assert row["n_scored"] == 3 and row["n_in_group"] == 4
    assert row["coverage"] == pytest.approx(3 / 4)
    dim = scoring.aggregate(scored, cat, "dimension")
    env = one_row(dim, municipality="Oslo", dimension="Environment")
    assert env["n_in_group"] == 2 and env["n_scored"] == 0 and env["coverage"] == 0.0
    overall = one_row(scoring.aggregate(scored, cat, "overall"), municipality="Oslo")
    assert overall["n_in_group"] == 6 and overall["coverage"] == pytest.approx(3 / 6)
    # points 2, 2, 2 (50 % each) -> 6 / 12
    assert overall["u4ssc_score"] == pytest.approx(50.0)


def test_municipality_without_data_gets_no_data_rows():
    scored = worked_example()
    cat = mini_catalogue()
    for level in ("category", "sub_dimension", "dimension", "overall"):
        out = scoring.aggregate(scored, cat, level, municipalities=["Oslo", "Tomby"])
        empty = out[out["municipality"] == "Tomby"]
        groups = out[out["municipality"] == "Oslo"]
        assert len(empty) == len(groups) > 0
        assert (empty["u4ssc_band"] == "no data").all()
        assert empty["u4ssc_score"].isna().all() and empty["mean_achievement"].isna().all()
        assert (empty["n_scored"] == 0).all() and (empty["coverage"] == 0).all()


def test_group_without_data_shows_no_data():
    scored = worked_example()
    row = one_row(scoring.aggregate(scored, mini_catalogue(), "dimension"), municipality="Oslo",
                  dimension="Environment")
    assert row["u4ssc_band"] == "no data" and np.isnan(row["u4ssc_score"])


def test_simulated_values_are_counted():
    base = baseline([("Oslo", "B1", 50.0), ("Oslo", "B2", 100.0)])
    base.loc[1, "source_type"] = "simulated"
    scored = scoring.score_data_points(base, GP)
    row = one_row(scoring.aggregate(scored, mini_catalogue(), "dimension"), municipality="Oslo",
                  dimension="Environment")
    assert row["n_simulated"] == 1 and row["n_scored"] == 2


def test_overall_index_weights():
    dims = pd.DataFrame({"municipality": "Oslo",
                         "dimension": ["Economy", "Environment", "Society and Culture"],
                         "mean_achievement": [80.0, 40.0, 60.0]})
    equal = scoring.overall_index(dims)["index"].iloc[0]
    assert equal == pytest.approx(60.0)
    doubled = scoring.overall_index(dims, {"Environment": 2.0})["index"].iloc[0]
    assert doubled == pytest.approx((80 + 2 * 40 + 60) / 4)
    assert abs(doubled - 40.0) < abs(equal - 40.0)  # moved toward Environment's score


def test_overall_index_needs_every_dimension():
    dims = pd.DataFrame({"municipality": ["Oslo"] * 3 + ["Bergen"] * 3,
                         "dimension": ["Economy", "Environment", "Society and Culture"] * 2,
                         "mean_achievement": [80.0, np.nan, 60.0, 80.0, 20.0, 60.0]})
    out = scoring.overall_index(dims, {"Economy": 3.0}).set_index("municipality")
    assert np.isnan(out.loc["Oslo", "index"]) and not out.loc["Oslo", "sufficient"]
    assert out.loc["Oslo", "band"] == "insufficient data" and out.loc["Oslo", "n_dimensions"] == 2
    assert out.loc["Bergen", "index"] == pytest.approx((3 * 80 + 20 + 60) / 5) and out.loc["Bergen", "sufficient"]
    assert out.loc["Bergen", "band"] == "33–66 %"  # 320 / 5 = 64


def test_overall_index_without_any_dimension_is_no_data():
    dims = pd.DataFrame({"municipality": "Giske", "dimension": ["Economy", "Environment"],
                         "mean_achievement": [np.nan, np.nan]})
    out = scoring.overall_index(dims).iloc[0]
    assert np.isnan(out["index"]) and out["band"] == "no data" and out["n_dimensions"] == 0


# --- coverage rule ------------------------------------------------------------------------------

def test_sufficient_needs_half_of_the_group():
    # a group of 4 needs 2 scored, of 5 needs 3 (2.5 rounded up), of 1 needs 1; none scored is never enough
    assert scoring.sufficient([1, 2, 2, 3, 1, 0], [4, 4, 5, 5, 1, 0]).tolist() == [False, True, False, True, True,
                                                                                   False]


def test_category_below_half_coverage_is_insufficient_data():
    # C1 has 4 scoreable data points: one scored (25 %) is insufficient, two (50 %) are enough
    cat = mini_catalogue()
    one = scoring.score_data_points(baseline([("Oslo", "A1", 80.0)]), GP)
    row = one_row(scoring.aggregate(one, cat, "category"), municipality="Oslo", category="C1")
    assert not row["sufficient"] and row["u4ssc_band"] == "insufficient data"
    assert np.isnan(row["u4ssc_score"]) and np.isnan(row["mean_achievement"])
    assert row["n_scored"] == 1 and row["points_sum"] == 3  # the counts stay visible
    two = scoring.score_data_points(baseline([("Oslo", "A1", 80.0), ("Oslo", "A2", 40.0)]), GP)
    row = one_row(scoring.aggregate(two, cat, "category"), municipality="Oslo", category="C1")
    # points 3 + 2 = 5 of 8 -> 62.5 %; mean achievement (80 + 40) / 2 = 60
    assert row["sufficient"] and row["u4ssc_score"] == pytest.approx(62.5) and row["u4ssc_band"] == "33–66 %"
    assert row["mean_achievement"] == pytest.approx(60.0)


def test_strengths_and_weaknesses():
    base = baseline([("Oslo", "A1", 10.0), ("Oslo", "A2", 80.0), ("Oslo", "A4", 50.0), ("Oslo", "B1", 90.0)])
    scored = scoring.score_data_points(base, GP)
    best, worst = scoring.strengths_and_weaknesses(scored, "Oslo", n=2)
    assert best["data_point_id"].tolist() == ["B1", "A2"]
    assert worst["data_point_id"].tolist() == ["A1", "A4"]


# --- properties ---------------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(v1=finite, v2=finite, target=finite, gap=st.floats(min_value=1e-3, max_value=1e6),
       direction=st.sampled_from(["higher_is_better", "lower_is_better"]))
def test_achievement_never_decreases_when_value_improves(v1, v2, target, gap, direction):
    worst = target - gap if direction == "higher_is_better" else target + gap
    better, other = (max(v1, v2), min(v1, v2)) if direction == "higher_is_better" else (min(v1, v2), max(v1, v2))
    a = scoring.achievement([better, other], [target] * 2, [worst] * 2, [direction] * 2)
    assert a[0] >= a[1] - 1e-9 * max(1.0, abs(a[1]))
    capped = np.clip(a, 0, 100)
    assert ((capped >= 0) & (capped <= 100)).all()


@settings(max_examples=200, deadline=None)
@given(d1=st.floats(min_value=0, max_value=10), d2=st.floats(min_value=0, max_value=10),
       sign=st.sampled_from([-1.0, 1.0]))
def test_target_band_closer_is_better(d1, d2, sign):
    near, far = sorted([d1, d2])
    a = scoring.achievement([1.0 + sign * near, 1.0 - sign * far], [1.0, 1.0], [0.0, 0.0], ["target_band"] * 2)
    assert a[0] >= a[1] - 1e-9


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=30))
def test_scored_achievement_in_range_and_points_in_1_to_4(values):
    base = baseline([("Oslo", "A1", v) for v in values])
    scored = scoring.score_data_points(base, GP)
    assert scored["achievement"].between(0, 100).all()
    assert set(scored["points"]) <= {1, 2, 3, 4}
    assert set(scored["band"]) <= set(FOUR_BANDS)


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=1, max_size=4),
       nan_dp=st.sampled_from(["A1", "A2", "A3", "A4", "B1"]))
def test_unreported_rows_do_not_change_scores(values, nan_dp):
    ids = ["A1", "A2", "A3", "A4"][:len(values)]
    base = baseline([("Oslo", dp, v) for dp, v in zip(ids, values)])
    scored = scoring.score_data_points(base, GP)
    with_nan = scoring.score_data_points(pd.concat([base, baseline([("Oslo", nan_dp, np.nan)])],
                                                   ignore_index=True), GP)
    cat = mini_catalogue()
    for level in ("category", "dimension", "overall"):
        a = scoring.aggregate(scored, cat, level)
        b = scoring.aggregate(with_nan, cat, level)
        cols = ["u4ssc_score", "mean_achievement", "n_scored", "coverage", "u4ssc_band"]
        pd.testing.assert_frame_equal(a[cols], b[cols])


# --- tolerance at the target ------------------------------------------------------------------------

def test_at_target_within_one_percent_of_the_span():
    # higher, target 100, worst 0: tolerance 1 -> 99 is at target, 98.9 is not;
    # lower, target 25, worst 75: tolerance 0.5 -> 25.5 at target, 25.6 not; band target 1, worst 0: 1.01 at target
    met = scoring.at_target([99.0, 98.9, 25.5, 25.6, 1.01, 1.02], [100, 100, 25, 25, 1, 1], [0, 0, 75, 75, 0, 0],
                            ["higher_is_better"] * 2 + ["lower_is_better"] * 2 + ["target_band"] * 2)
    assert met.tolist() == [True, False, True, False, True, False]


def test_at_target_without_worst_uses_the_target_magnitude():
    met = scoring.at_target([20.2, 20.3, 0.0, 0.1], [20, 20, 0, 0], [np.nan] * 4, ["lower_is_better"] * 4)
    assert met.tolist() == [True, False, True, False]


def test_value_within_tolerance_scores_100_and_others_keep_the_formula():
    gp = pd.DataFrame({"data_point_id": ["X"], "direction": ["lower_is_better"], "target": [25.0], "worst": [75.0],
                       "has_goalposts": [True]})
    base = pd.DataFrame({"municipality": ["a", "b"], "data_point_id": "X", "year": 2020, "value": [25.4, 25.6],
                         "status": "reported", "source_type": "published"})
    a = scoring.score_data_points(base, gp).set_index("municipality")["achievement"]
    assert a["a"] == 100.0
    assert a["b"] == pytest.approx(100 * (25.6 - 75) / (25 - 75))  # 98.8
