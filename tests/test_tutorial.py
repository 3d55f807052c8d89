"""The tutorial's self-checks: a wrong answer fails, the right one passes, an unanswered one waits; references by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import tutorial


def assert_right(check: tutorial.Check) -> None:
    assert check.right is True and bool(check), str(check)
    assert str(check).split(": ", 1)[1].startswith("right")
    assert "Right" in check._repr_html_()


def assert_wrong(check: tutorial.Check) -> None:
    assert check.right is False and not bool(check), str(check)
    assert "wrong" in str(check) and "Wrong" in check._repr_html_()


def assert_unanswered(check: tutorial.Check, expected_text: str) -> None:
    assert check.right is None and not bool(check)
    page = check._repr_html_()
    assert "Not answered yet" in page and "<details>" in page and expected_text in page


@pytest.mark.parametrize("achievement, band", [(0.0, "0–33 %"), (32.9, "0–33 %"), (33.0, "33–66 %"),
                                               (65.9, "33–66 %"), (66.0, "66–95 %"), (86.1, "66–95 %"),
                                               (94.9, "66–95 %"), (95.0, "95–100 %"), (100.0, "95–100 %")])
def test_check_band_knows_u4ssc_edges(achievement, band):
    assert_right(tutorial.check_band(band, achievement))
    others = [b for b in ("0–33 %", "33–66 %", "66–95 %", "95–100 %") if b != band]
    for other in others:
        assert_wrong(tutorial.check_band(other, achievement))


def test_check_band_reads_loose_spellings_and_refuses_non_bands():
    assert_right(tutorial.check_band("66-95", 86.1))
    assert_right(tutorial.check_band("66–95%", 86.1))
    assert_right(tutorial.check_band(3, 86.1))  # three points
    wrong = tutorial.check_band("high", 86.1)
    assert_wrong(wrong)
    assert "not a band" in wrong.because


def test_unanswered_waits_and_solutions_check_the_reference():
    assert_unanswered(tutorial.check_band(None, 86.1), "66–95 %")
    solved = tutorial.check_band(None, 86.1, solutions=True)
    assert_right(solved)
    assert solved.reference and "Reference answer" in solved._repr_html_()
    # solutions never overrule an answer the student gave
    assert_wrong(tutorial.check_band("0–33 %", 86.1, solutions=True))


def test_check_category_score_is_points_over_four_n():
    points = [4, 4, 3, 3, 4, float("nan")]  # the missing one drops out: 18 / 20
    assert_right(tutorial.check_category_score(90, points))
    assert_right(tutorial.check_category_score(90.3, points))
    assert_wrong(tutorial.check_category_score(75, points))  # 18 / 24, counting the missing data point
    hint = tutorial.check_category_score(3.6, points)  # the mean number of points
    assert_wrong(hint)
    assert "divides by the maximum, 4" in hint.because


def test_check_target_change_caps_the_new_achievement():
    value, worst = 7.65, 10.516
    before = 100 * (value - worst) / (5 - worst)  # 51.96 %
    uncapped = 100 * (value - worst) / (8 - worst)  # 113.9 %, above the target
    assert before == pytest.approx(51.958, abs=1e-3) and uncapped > 100
    check = tutorial.check_target_change(100, value, "lower_is_better", (5, worst), (8, worst))
    assert_right(check)
    assert "rises from 52.0 % to 100.0 %" in check.because
    assert_wrong(tutorial.check_target_change(round(uncapped, 1), value, "lower_is_better", (5, worst), (8, worst)))
    assert_wrong(tutorial.check_target_change(round(before, 1), value, "lower_is_better", (5, worst), (8, worst)))
    assert_wrong(tutorial.check_target_change("a lot", value, "lower_is_better", (5, worst), (8, worst)))


def test_check_minmax_is_direction_aware():
    values = [21.0, 35.42, 56.48, float("nan")]
    expected = 100 * (56.48 - 35.42) / (56.48 - 21.0)  # lower is better: the highest value scores 0
    assert_right(tutorial.check_minmax(round(expected, 1), values, 35.42, lower_is_better=True))
    reversed_ = tutorial.check_minmax(round(100 - expected, 1), values, 35.42, lower_is_better=True)
    assert_wrong(reversed_)
    assert "direction is reversed" in reversed_.because
    assert_right(tutorial.check_minmax(round(100 - expected, 1), values, 35.42, lower_is_better=False))


def test_check_rank_band_reads_the_5th_and_95th_percentile():
    bands = pd.DataFrame({"municipality": ["Karmøy", "Aukra"], "nominal_rank": [10, 17],
                          "p5_rank": [8.0, 11.0], "p95_rank": [15.0, 17.0]})
    assert_right(tutorial.check_rank_band((8, 15), bands, "Karmøy"))
    assert_right(tutorial.check_rank_band([8, 15], bands, "Karmøy"))
    assert_wrong(tutorial.check_rank_band((15, 8), bands, "Karmøy"))
    assert_wrong(tutorial.check_rank_band((10, 10), bands, "Karmøy"))  # the nominal rank is not the band
    assert_wrong(tutorial.check_rank_band(10, bands, "Karmøy"))
    assert_unanswered(tutorial.check_rank_band(None, bands, "Karmøy"), "(8, 15)")


def test_check_u4ssc_score_names_the_score_u4ssc_reports():
    assert_right(tutorial.check_u4ssc_score("u4ssc_score"))
    assert_right(tutorial.check_u4ssc_score("U4SSC score"))
    assert_wrong(tutorial.check_u4ssc_score("mean_achievement"))
    assert_wrong(tutorial.check_u4ssc_score("index"))
    assert "U4SSC has no overall index" in tutorial.check_u4ssc_score("index").because


def test_the_verdict_page_escapes_the_answer():
    page = tutorial.check_band("<script>", 50.0)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def scored_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "municipality": ["A", "B", "C", "A", "A"],
        "data_point_id": ["x", "x", "x", "y", "z"],
        "dimension": ["Economy", "Economy", "Economy", "Economy", "Environment"],
        "value": [10.0, 20.0, 40.0, 1.0, 2.0],
        "source_type": ["published", "simulated", "simulated", "published", "published"],
        "achievement_raw": [50.0, 80.0, 120.0, 4.0, 60.0],
        "achievement": [50.0, 80.0, 100.0, 4.0, 60.0],
        "points": [2.0, 3.0, 4.0, 1.0, 2.0],
    })


def test_normalisation_alternatives_by_hand():
    out = tutorial.normalisation_alternatives(scored_frame(), "x").set_index("municipality")
    assert out["goalposts"].to_dict() == {"A": 50.0, "B": 80.0, "C": 100.0}
    # min-max on the uncapped achievement: (x - 50) / (120 - 50)
    assert out.loc["B", "minmax"] == pytest.approx(100 * 30 / 70)
    assert out.loc["C", "minmax"] == pytest.approx(100.0) and out.loc["A", "minmax"] == pytest.approx(0.0)
    assert out["rank"].to_dict() == {"A": 0.0, "B": 50.0, "C": 100.0}


def test_aggregation_alternatives_by_hand():
    out = tutorial.aggregation_alternatives(scored_frame(), "A").set_index("dimension")
    economy = out.loc["Economy"]
    assert economy["u4ssc_score"] == pytest.approx(100 * (2 + 1) / 8)
    assert economy["arithmetic_mean"] == pytest.approx((50 + 4) / 2)
    assert economy["geometric_mean"] == pytest.approx(math.sqrt(50 * 4))
    assert out.loc["Environment", "geometric_mean"] == pytest.approx(60.0)
    assert np.all(out["geometric_mean"] <= out["arithmetic_mean"] + 1e-12)
