"""A scale panel of 356 fictional municipalities (as many as Norway has) × 3 years through the whole assessment.

``observations.validate`` checks row by row and would take minutes on a scale panel, so the panel
is checked here with vectorised versions of its rules on every row, and with ``validate`` itself
on a random sample. The whole file runs in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import assess, catalogue, observations, params, scoring, simulate

N = 356
YEARS = [2018, 2019, 2020]
KEY = ["municipality", "data_point_id", "year"]


@pytest.fixture(scope="module")
def panel(cat) -> pd.DataFrame:
    return simulate.scale_panel(N, YEARS, seed=356, cat=cat)


@pytest.fixture(scope="module")
def result(panel, cat) -> assess.Assessment:
    return assess.assess(params.load(), panel, cat=cat, as_given=True)


@pytest.fixture(scope="module")
def names() -> list[str]:
    return simulate.fictional_municipalities(N)


# --- the panel is valid by construction --------------------------------------------------------

def test_panel_shape_and_names(panel, cat, names):
    assert list(panel.columns) == list(observations.COLUMNS)
    assert len(panel) == N * len(cat) * len(YEARS)
    assert sorted(panel["municipality"].unique()) == names
    assert panel["municipality"].str.fullmatch(r"Fictional municipality \d{3}").all()
    assert not panel.duplicated(KEY).any()


def test_panel_meets_every_validation_rule_vectorised(panel, cat):
    # the rules of observations.validate, on every row at once
    units = panel["data_point_id"].map(cat.set_index("data_point_id")["unit"])
    assert units.notna().all()                                   # known data point ids
    assert (panel["unit"] == units).all()                        # registry units
    assert panel["municipality"].str.strip().ne("").all()
    assert panel["year"].between(1900, 2100).all() and panel["year"].dtype == np.int64
    assert panel["status"].isin(observations.STATUSES).all()
    assert panel["source_type"].isin(observations.SOURCE_TYPES).all()
    assert panel["value"].notna().all() and np.isfinite(panel["value"]).all()
    bounds = {u: observations.value_bounds(u) for u in panel["unit"].unique()}
    lo = panel["unit"].map({u: b[0] for u, b in bounds.items()})
    hi = panel["unit"].map({u: b[1] for u, b in bounds.items()})
    assert ((panel["value"] >= lo) & (panel["value"] <= hi)).all()
    pd.testing.assert_frame_equal(observations.tidy(panel), panel)


def test_panel_sample_passes_validate(panel, cat):
    sample = panel.sample(3000, random_state=0)
    assert observations.validate(sample, "scale panel sample", cat) == []
    one = panel[panel["municipality"] == "Fictional municipality 178"]
    assert len(one) == len(cat) * len(YEARS)
    assert observations.validate(one, "scale panel, one municipality", cat) == []


def test_panel_is_labelled_simulated(panel):
    assert (panel["source_type"] == "simulated").all()
    assert (panel["source"] == simulate.source_text(356)).all()
    assert panel["note"].str.startswith("simulated value, not an observation").all()


# --- the assessment of the scale panel ----------------------------------------------------------

def test_assessment_covers_every_municipality(result, names):
    assert result.municipalities == names
    for level, table in result.levels.items():
        assert sorted(table["municipality"].unique()) == names, level
        groups = table.drop_duplicates(scoring.LEVELS[level]).shape[0] if scoring.LEVELS[level] else 1
        assert len(table) == N * groups, level
    assert sorted(result.overall["municipality"]) == names
    assert sorted(result.mix["municipality"]) == names
    assert (result.mix["share_simulated"] == 1).all()


def test_scores_within_0_and_100(result):
    achieved = result.scored["achievement"].dropna()
    assert len(achieved) > 0 and achieved.between(0, 100).all()
    for level, table in result.levels.items():
        for column in ("u4ssc_score", "mean_achievement"):
            assert table[column].notna().all(), (level, column)
            assert table[column].between(0, 100).all(), (level, column)
    assert result.overall["index"].between(0, 100).all()
    assert (result.overall["n_dimensions"] == 3).all()
    assert result.sdg_goals["mean_achievement"].dropna().between(0, 100).all()


def test_every_point_with_goalposts_is_scored(result, cat):
    gp = result.goalposts
    with_goalposts = set(gp.loc[gp["has_goalposts"].astype(bool)
                                & gp["direction"].ne("descriptive"), "data_point_id"])
    assert len(with_goalposts) > 100
    rows = result.scored[result.scored["data_point_id"].isin(with_goalposts)]
    assert len(rows) == N * len(with_goalposts)
    assert rows["points"].notna().all()
    # coverage 1 over the points that have goalposts, in every group at every level
    scoreable = cat[cat["direction"] != "descriptive"]
    for level, table in result.levels.items():
        keys = scoring.LEVELS[level]
        have = scoreable["data_point_id"].isin(with_goalposts)
        expected = (have.groupby([scoreable[k] for k in keys]).sum() if keys
                    else pd.Series({(): int(have.sum())}))
        got = table.set_index(keys)["n_scored"] if keys else table["n_scored"]
        if keys:
            assert (got == expected.reindex(got.index).to_numpy()).all(), level
        else:
            assert (got == int(expected.iloc[0])).all()
        # coverage = share of the group's scoreable points scored: 1 wherever all have goalposts
        assert np.allclose(table["coverage"], table["n_scored"] / table["n_in_group"])
        assert (table.loc[table["n_scored"] == table["n_in_group"], "coverage"] == 1).all(), level
    category = result.levels["category"]
    assert (category["coverage"] == 1).mean() > 0.9


def test_sdg_dashboard_has_every_municipality_and_goal(result, cat, names):
    goals = catalogue.sdg_links(cat).drop_duplicates(["data_point_id", "sdg_goal"])["sdg_goal"].unique()
    dash = result.sdg_goals
    assert len(dash) == N * 17  # all 17 goals, grey where no data point links
    assert not dash.duplicated(["municipality", "sdg_goal"]).any()
    assert sorted(dash["municipality"].unique()) == names
    assert set(dash["sdg_goal"]) == set(range(1, 18))
    linked = dash["sdg_goal"].isin(goals)
    assert (dash.loc[linked, "n_scored"] > 0).all()
    assert dash.loc[linked, "colour"].isin(["red", "orange", "yellow", "green"]).all()
    assert (dash.loc[~linked, "colour"] == "grey").all()


def test_names_are_all_fictional(result):
    frames = [result.scored, result.overall, result.sdg_goals, result.mix, result.baseline,
              *result.levels.values()]
    if result.trends is not None:
        frames.append(result.trends)
    for frame in frames:
        assert frame["municipality"].str.startswith("Fictional municipality ").all()
