"""SDG dashboard colours: SDSN's two-worst rule, the 'more than a third red' rule, and grey for no data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import catalogue, sdg

RED, ORANGE, YELLOW, GREEN = 0, 1, 2, 3


@pytest.mark.parametrize("levels, expected", [
    ([GREEN, GREEN], GREEN),
    ([GREEN, GREEN, GREEN, GREEN], GREEN),
    ([RED, RED], RED),
    ([RED, RED, GREEN, GREEN, GREEN, GREEN, GREEN], RED),  # both worst red
    ([RED, GREEN, GREEN, GREEN], ORANGE),  # two worst red + green: one red lifted to orange
    ([GREEN, RED, GREEN, GREEN], ORANGE),  # order does not matter
    ([RED, YELLOW, GREEN, GREEN], ORANGE),
    ([YELLOW, GREEN], YELLOW),
    ([YELLOW, GREEN, GREEN, GREEN], YELLOW),
    ([ORANGE, YELLOW, GREEN], ORANGE),
    ([ORANGE, ORANGE, GREEN], ORANGE),
    ([YELLOW, YELLOW], YELLOW),
])
def test_two_worst_rule(levels, expected):
    assert sdg.goal_level(levels) == expected


@pytest.mark.parametrize("level", [RED, ORANGE, YELLOW, GREEN])
def test_one_data_point_takes_its_colour(level):
    assert sdg.goal_level([level]) == level


@pytest.mark.parametrize("levels, expected", [
    ([RED, GREEN], RED),  # 1 of 2 red: more than a third
    ([RED, GREEN, GREEN], ORANGE),  # exactly a third: not more, the two-worst rule applies
    ([RED, GREEN, GREEN, GREEN], ORANGE),  # a quarter
])
def test_more_than_a_third_red_is_red(levels, expected):
    assert sdg.goal_level(levels) == expected


def test_goal_level_needs_data():
    with pytest.raises(ValueError):
        sdg.goal_level([])


def test_colour_of_points():
    assert list(sdg.colour([1, 2, 3, 4, np.nan])) == ["red", "orange", "yellow", "green", "grey"]


def _scored(rows: list[tuple[str, str, float, float]], source_type: str = "published") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["municipality", "data_point_id", "points", "achievement"])
    return frame.assign(source_type=source_type)


@pytest.mark.parametrize("levels, expected", [
    ([RED], RED), ([RED, GREEN], RED), ([RED, ORANGE, GREEN], ORANGE), ([RED, RED, GREEN, GREEN], RED),
    ([GREEN, YELLOW, RED, GREEN, GREEN], GREEN),
])
def test_goal_takes_the_lower_median_of_its_targets(levels, expected):
    assert sdg.median_level(levels) == expected


def _links(cat) -> pd.DataFrame:
    return catalogue.sdg_links(cat).drop_duplicates(["data_point_id", "sdg_target"])


def test_dashboard_shows_all_17_goals_grey_without_data(cat):
    links = _links(cat)
    ids = links.loc[links["sdg_target"] == "8.5", "data_point_id"].tolist()
    scored = _scored([("Oslo", ids[0], 4.0, 100.0), ("Oslo", ids[1], 4.0, 96.0), ("Bergen", ids[0], np.nan, np.nan)])
    dash = sdg.goal_dashboard(scored, cat, ["Oslo", "Bergen", "Tomby"])
    assert len(dash) == 3 * 17 and sorted(dash["sdg_goal"].unique()) == list(range(1, 18))
    n_linked = links.drop_duplicates(["data_point_id", "sdg_goal"]).groupby("sdg_goal").size()
    for _, row in dash.iterrows():
        assert row["n_linked"] == n_linked.get(row["sdg_goal"], 0)
    oslo = dash[dash["municipality"] == "Oslo"].set_index("sdg_goal")
    assert oslo.loc[8, "colour"] == "green" and oslo.loc[8, "n_scored"] == 2
    assert oslo.loc[8, "mean_achievement"] == pytest.approx(98.0) and oslo.loc[8, "n_targets_scored"] == 1
    goals_of_scored = set(links.loc[links["data_point_id"].isin(ids[:2]), "sdg_goal"])
    others = oslo.drop(index=list(goals_of_scored))
    assert (others["colour"] == "grey").all() and (others["n_scored"] == 0).all()
    assert (dash.loc[dash["municipality"] != "Oslo", "colour"] == "grey").all()
    assert oslo.loc[5, "n_linked"] == 0 and oslo.loc[5, "colour"] == "grey"  # no data point links to goal 5


def test_target_colour_by_two_worst_rule_then_goal_by_median(cat):
    links = _links(cat)
    on = {t: links.loc[links["sdg_target"] == t, "data_point_id"].tolist() for t in ("11.2", "11.6", "11.7")}
    only = {t: [d for d in ids if set(links.loc[links["data_point_id"] == d, "sdg_target"]) == {t}]
            for t, ids in on.items()}
    t2, t6, t7 = only["11.2"], only["11.6"], only["11.7"]
    # 11.2: red, green, green, green -> orange (one red of four is not more than a third; red lifted);
    # 11.6: red, red -> red; 11.7: green -> green. Goal 11: lower median of red, orange, green = orange.
    rows = [("Oslo", t2[0], 1.0, 10.0), ("Oslo", t2[1], 4.0, 100.0), ("Oslo", t2[2], 4.0, 99.0),
            ("Oslo", t2[3], 4.0, 97.0), ("Oslo", t6[0], 1.0, 5.0), ("Oslo", t6[1], 1.0, 20.0),
            ("Oslo", t7[0], 4.0, 100.0)]
    scored = _scored(rows)
    targets = sdg.target_dashboard(scored, cat, ["Oslo"]).set_index("sdg_target")
    assert targets.loc["11.2", "colour"] == "orange" and targets.loc["11.2", "worst_data_points"] == f"{t2[0]}; {t2[3]}"
    assert targets.loc["11.6", "colour"] == "red" and targets.loc["11.7", "colour"] == "green"
    assert targets.loc["11.1", "colour"] == "grey" and targets.loc["11.2", "n_linked"] == len(on["11.2"])
    goal = sdg.goal_dashboard(scored, cat, ["Oslo"]).set_index("sdg_goal").loc[11]
    assert goal["colour"] == "orange" and goal["n_targets_scored"] == 3 and goal["n_scored"] == 7
    assert goal["worst_targets"] == "11.6; 11.2"
    assert goal["mean_achievement"] == pytest.approx((10 + 100 + 99 + 97 + 5 + 20 + 100) / 7)
    simulated = sdg.goal_dashboard(_scored(rows[:1], "simulated"), cat, ["Oslo"]).set_index("sdg_goal")
    assert simulated.loc[11, "n_simulated"] == 1


def test_vectorised_dashboard_agrees_with_the_rules_on_every_target_and_goal():
    """The vectorised roll-up gives, for every municipality, target and goal, what goal_level and median_level give."""
    from analysis import assess, params

    a = assess.assess(params.load())
    links = _links(a.catalogue)
    view = a.scored[a.scored["points"].notna()].merge(links, on="data_point_id")
    targets = sdg.target_dashboard(a.scored, a.catalogue).set_index(["municipality", "sdg_target"])
    expected_targets = {}
    for (municipality, target), part in view.groupby(["municipality", "sdg_target"]):
        level = sdg.goal_level(part["points"].astype(int).to_numpy() - 1)
        assert targets.loc[(municipality, target), "colour"] == sdg.COLOURS[level], (municipality, target)
        expected_targets.setdefault((municipality, int(target.split(".")[0])), []).append(level)
    goals = a.sdg_goals.set_index(["municipality", "sdg_goal"])
    for key, levels in expected_targets.items():
        assert goals.loc[key, "colour"] == sdg.COLOURS[sdg.median_level(levels)], key
    assert len(expected_targets) == int((a.sdg_goals["colour"] != "grey").sum()) > 200
    # goal 11 (10 targets) no longer has one colour for every municipality
    assert a.sdg_goals.loc[a.sdg_goals["sdg_goal"] == 11, "colour"].nunique() > 1
