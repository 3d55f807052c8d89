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


def test_goal_dashboard_grey_without_data(cat):
    links = catalogue.sdg_links(cat).drop_duplicates(["data_point_id", "sdg_goal"])
    # a goal with at least two linked data points
    goal = int(links.groupby("sdg_goal").size().sort_values(kind="mergesort").index[-1])
    ids = links.loc[links["sdg_goal"] == goal, "data_point_id"].tolist()
    a, b = ids[0], ids[1]
    scored = _scored([("Oslo", a, 4.0, 100.0), ("Oslo", b, 4.0, 96.0),
                      ("Bergen", a, np.nan, np.nan)])  # Bergen reports nothing scoreable
    dash = sdg.goal_dashboard(scored, cat, ["Oslo", "Bergen", "Tomby"])
    n_linked = links.groupby("sdg_goal").size()
    assert sorted(dash["sdg_goal"].unique()) == sorted(n_linked.index)
    assert len(dash) == 3 * len(n_linked)
    for _, row in dash.iterrows():
        assert row["n_linked"] == n_linked[row["sdg_goal"]]
    goals_of_scored = set(links.loc[links["data_point_id"].isin([a, b]), "sdg_goal"])
    oslo = dash[dash["municipality"] == "Oslo"].set_index("sdg_goal")
    assert oslo.loc[goal, "colour"] == "green"
    assert oslo.loc[goal, "n_scored"] == 2
    assert oslo.loc[goal, "mean_achievement"] == pytest.approx(98.0)
    other = oslo.drop(index=list(goals_of_scored))
    assert (other["colour"] == "grey").all() and (other["n_scored"] == 0).all()
    assert other["mean_achievement"].isna().all()
    for name in ("Bergen", "Tomby"):
        own = dash[dash["municipality"] == name]
        assert (own["colour"] == "grey").all() and (own["n_scored"] == 0).all()


def test_goal_dashboard_applies_two_worst_rule(cat):
    links = catalogue.sdg_links(cat).drop_duplicates(["data_point_id", "sdg_goal"])
    sizes = links.groupby("sdg_goal").size()
    goal = int(sizes[sizes >= 4].index[0])
    ids = links.loc[links["sdg_goal"] == goal, "data_point_id"].tolist()[:4]
    # red, green, green, green on one goal -> orange; worst data points named, worst first
    scored = _scored([("Oslo", ids[0], 1.0, 10.0), ("Oslo", ids[1], 4.0, 100.0),
                      ("Oslo", ids[2], 4.0, 99.0), ("Oslo", ids[3], 4.0, 97.0)])
    row = sdg.goal_dashboard(scored, cat, ["Oslo"]).set_index("sdg_goal").loc[goal]
    assert row["colour"] == "orange"
    assert row["worst_data_points"] == f"{ids[0]}; {ids[3]}"
    assert row["mean_achievement"] == pytest.approx((10.0 + 100.0 + 99.0 + 97.0) / 4)
    assert row["n_simulated"] == 0
    simulated = sdg.goal_dashboard(_scored([("Oslo", ids[0], 1.0, 10.0)], "simulated"), cat, ["Oslo"])
    assert simulated.set_index("sdg_goal").loc[goal, "n_simulated"] == 1


def test_vectorised_dashboard_agrees_with_goal_level_on_every_goal():
    """The vectorised dashboard gives, for every municipality and goal, the colour goal_level gives."""
    from analysis import assess, catalogue, params

    a = assess.assess(params.load())
    links = catalogue.sdg_links(a.catalogue).drop_duplicates(["data_point_id", "sdg_goal"])
    view = a.scored[a.scored["points"].notna()].merge(links, on="data_point_id")
    checked = 0
    for (municipality, goal), part in view.groupby(["municipality", "sdg_goal"]):
        expected = sdg.COLOURS[sdg.goal_level(part["points"].astype(int).to_numpy() - 1)]
        row = a.sdg_goals[(a.sdg_goals["municipality"] == municipality) & (a.sdg_goals["sdg_goal"] == goal)]
        assert row["colour"].item() == expected, (municipality, goal)
        assert row["n_scored"].item() == len(part)
        checked += 1
    assert checked == int((a.sdg_goals["colour"] != "grey").sum()) > 100
