"""One assessment run end to end on the real data, and the profile tables built from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import assess, build, municipalities, params, profile, scoring

LEVELS = ("category", "sub_dimension", "dimension", "overall")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return municipalities.load()


@pytest.fixture(scope="module")
def run() -> assess.Assessment:
    return assess.assess(params.load())


@pytest.fixture(scope="module")
def published_only() -> assess.Assessment:
    return assess.assess(params.load(overrides=["include_simulated=false"]))


@pytest.fixture(scope="module")
def published_obs() -> pd.DataFrame:
    obs = build.load_observations()
    return obs[obs["source_type"] == "published"]


def test_all_municipalities_in_every_level(run, panel):
    assert len(panel) == 17
    expected = set(panel["municipality"])
    assert set(run.municipalities) == expected
    for level in LEVELS:
        table = run.levels[level]
        assert set(table["municipality"]) == expected, level
        groups = table.groupby("municipality").size()
        assert groups.nunique() == 1, f"{level}: every municipality has the same groups"
    assert set(run.overall["municipality"]) == expected
    assert set(run.sdg_goals["municipality"]) == expected


def test_level_tables_are_consistent(run):
    for level in LEVELS:
        t = run.levels[level]
        scored = t[t["n_scored"] > 0]
        assert scored["u4ssc_score"].between(25, 100).all()  # Σ points / (4 n) with points 1..4
        assert (t["n_scored"] <= t["n_in_group"]).all()
        assert (list(t["u4ssc_band"]) == list(scoring.band(t["u4ssc_score"])))
    cat_level, dim_level = run.levels["category"], run.levels["dimension"]
    # n_scored adds up from categories to dimensions
    by_dim = cat_level.groupby(["municipality", "dimension"])["n_scored"].sum()
    pd.testing.assert_series_equal(by_dim, dim_level.set_index(["municipality", "dimension"])["n_scored"],
                                   check_names=False)


def test_overall_matches_dimension_mean(run):
    dims = run.levels["dimension"].dropna(subset=["mean_achievement"])
    expected = dims.groupby("municipality")["mean_achievement"].mean()  # default weights are equal
    got = run.overall.set_index("municipality")["index"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_without_simulated_rows(published_only):
    a = published_only
    assert a.params["include_simulated"] is False
    assert not (a.observations["source_type"] == "simulated").any()
    assert not (a.scored["source_type"] == "simulated").any()
    for level in LEVELS:
        assert (a.levels[level]["n_simulated"] == 0).all()
    assert (a.mix["n_simulated"] == 0).all()
    assert set(a.levels["dimension"]["municipality"]) == set(a.municipalities)


def test_published_values_unchanged(run, published_obs):
    for a_name in ("Asker", "Ålesund"):
        pub = published_obs[(published_obs["municipality"] == a_name) & published_obs["status"].isin(
            ["reported", "partial"]) & published_obs["value"].notna()]
        assert len(pub) > 5
        own = run.scored[run.scored["municipality"] == a_name].set_index("data_point_id")
        for row in pub.itertuples():
            got = own.loc[row.data_point_id]
            assert got["source_type"] == "published"
            assert got["value"] == row.value and got["year"] == row.year


def test_not_reported_cells_are_not_invented(run, published_obs):
    # a published 'not_reported' wins its cell: no simulated value appears for that data point and year
    nr = published_obs[published_obs["status"] == "not_reported"]
    if nr.empty:
        pytest.skip("no not_reported rows in the published data")
    used = run.observations.merge(nr[["municipality", "data_point_id", "year"]],
                                  on=["municipality", "data_point_id", "year"])
    assert (used["source_type"] == "published").all()


def test_deterministic(run):
    again = assess.assess(params.load())
    pd.testing.assert_frame_equal(run.scored, again.scored)
    for level in LEVELS:
        pd.testing.assert_frame_equal(run.levels[level], again.levels[level])
    pd.testing.assert_frame_equal(run.overall, again.overall)
    pd.testing.assert_frame_equal(run.sdg_goals, again.sdg_goals)
    pd.testing.assert_frame_equal(run.trends, again.trends)


def test_weights_move_the_overall_index(run):
    heavy = assess.assess(params.load(overrides=["weights.environment=2"]))
    dims = run.levels["dimension"].pivot(index="municipality", columns="dimension", values="mean_achievement")
    for name in ("Asker", "Bodø"):
        d = dims.loc[name]
        expected = (d["Economy"] + 2 * d["Environment"] + d["Society and Culture"]) / 4
        assert heavy.overall.set_index("municipality").loc[name, "index"] == pytest.approx(expected)


# --- profile ------------------------------------------------------------------------------------

def test_data_gaps_order(run):
    gaps = profile.data_gaps(run, "Asker")
    assert list(gaps["priority"]) == list(range(1, len(gaps) + 1))
    # Asker's report states Local Food Production as Not Reported: it heads the plan
    assert gaps.iloc[0][["data_point_id", "status"]].tolist() == ["SC: SH: FS: 1A", "not reported"]
    stated = (gaps["status"] == "not reported").to_numpy()
    assert not (np.diff(stated.astype(int)) > 0).any()  # no stated gap after an unstated one
    rest = gaps[~stated]
    core = (rest["core_or_advanced"] == "core").to_numpy()
    assert core.any() and (~core).any()
    assert not (np.diff(core.astype(int)) > 0).any()  # no core data point after an advanced one
    for _, part in rest.groupby("core_or_advanced"):
        assert (np.diff(part["n_sdg_targets"].to_numpy()) <= 0).all()
    # gaps are exactly the data points without a published or city-supplied value
    real = run.observations[(run.observations["municipality"] == "Asker")
                            & run.observations["source_type"].isin(["published", "city-supplied"])
                            & run.observations["value"].notna()]
    assert set(gaps["data_point_id"]) == set(run.catalogue["data_point_id"]) - set(real["data_point_id"])


def test_peers_by_county(panel):
    group = municipalities.peers(panel, "Ålesund", {"by": "county"})
    county = panel.set_index("municipality").loc["Ålesund", "county"]
    assert "Ålesund" in group and len(group) > 1
    assert set(group) == set(panel.loc[panel["county"] == county, "municipality"])
    assert set(group) == {"Ålesund", "Kristiansund", "Molde", "Aukra", "Giske", "Sula"}
    assert municipalities.peers(panel, "Ålesund", {"by": "all"}) == sorted(panel["municipality"])
    assert municipalities.peers(panel, "Ålesund", {"by": "list", "members": ["Bodø"]}) == ["Bodø", "Ålesund"]


def test_peer_ranks_direction_aware():
    scored = pd.DataFrame({
        "municipality": ["A", "B", "C", "A", "B", "C", "A", "B", "C"],
        "data_point_id": ["L"] * 3 + ["H"] * 3 + ["T"] * 3,
        "direction": ["lower_is_better"] * 3 + ["higher_is_better"] * 3 + ["target_band"] * 3,
        "value": [5.0, 1.0, 3.0, 5.0, 1.0, 3.0, 0.7, 1.1, 0.95],
        "target": [0.0] * 6 + [1.0] * 3,
    })
    ranks = profile.peer_ranks(scored, ["A", "B", "C"]).set_index(["data_point_id", "municipality"])["peer_rank"]
    assert ranks["L"].to_dict() == {"B": 1, "C": 2, "A": 3}
    assert ranks["H"].to_dict() == {"A": 1, "C": 2, "B": 3}
    assert ranks["T"].to_dict() == {"C": 1, "B": 2, "A": 3}
    only_two = profile.peer_ranks(scored, ["A", "C"]).set_index(["data_point_id", "municipality"])
    assert only_two.loc[("L", "C"), "peer_rank"] == 1 and only_two.loc[("L", "C"), "peer_n"] == 2


def test_alternating_stages_are_each_read_once(tmp_path, monkeypatch):
    """A warm kernel alternates between the default stage and a municipality's own: switching back must not read
    the default again (it cost seconds per switch for all of Norway)."""
    default = params.load()
    own = params.load("Tromsø")  # its own target set: a stage of its own
    assert assess.stage_dir(default, tmp_path) != assess.stage_dir(own, tmp_path)
    for values in (default, own):
        assess.write(assess.assess(values), assess.stage_dir(values, tmp_path))
    reads = []
    real_read = assess.read
    monkeypatch.setattr(assess, "read", lambda folder, values, *a: reads.append(folder) or real_read(folder, values, *a))
    monkeypatch.setattr(assess, "_READ", {})
    for values in (default, own, default, own, default):
        a = assess.stage(values, tmp_path)
        assert a.params == values
    assert sorted(reads) == sorted({assess.stage_dir(default, tmp_path), assess.stage_dir(own, tmp_path)})
