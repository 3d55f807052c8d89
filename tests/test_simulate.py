"""Simulated observations: seeded, in range, correlated where they should be, and always labelled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import catalogue, municipalities, observations, paths, simulate

YEARS = [2018, 2019, 2020]
UNEMPLOYMENT, YOUTH_UNEMPLOYMENT = "EC: P: EM: 1C", "EC: P: EM: 2C"
KEY = ["municipality", "data_point_id", "year"]


@pytest.fixture(scope="module")
def published(cat) -> pd.DataFrame:
    return observations.load_published(cat=cat)


@pytest.fixture(scope="module")
def panel_names() -> list[str]:
    return list(municipalities.load()["municipality"])


@pytest.fixture(scope="module")
def sim(cat, published) -> pd.DataFrame:
    return simulate.simulate(["Testby", "Prøvestad", "Annenby"], YEARS, seed=11, cat=cat,
                             calibration=published)


@pytest.fixture(scope="module")
def demo(cat, published, panel_names) -> pd.DataFrame:
    return simulate.demonstration_panel(published, panel_names, YEARS, seed=5, cat=cat)


@pytest.fixture(scope="module")
def big(cat) -> pd.DataFrame:
    return simulate.scale_panel(500, [2019, 2020], seed=3, cat=cat)


def out_of_bounds(frame: pd.DataFrame) -> pd.DataFrame:
    bounds = {u: observations.value_bounds(u) for u in frame["unit"].unique()}
    lo = frame["unit"].map({u: b[0] for u, b in bounds.items()})
    hi = frame["unit"].map({u: b[1] for u, b in bounds.items()})
    scored = frame["value"].notna()
    return frame[scored & ~((frame["value"] >= lo) & (frame["value"] <= hi))]


def composition_sums(frame: pd.DataFrame) -> pd.DataFrame:
    member = {dp: g for g, members in simulate.COMPOSITIONS.items() for dp in members}
    rows = frame[frame["data_point_id"].isin(member)]
    rows = rows.assign(group=rows["data_point_id"].map(member))
    return rows.groupby(["municipality", "year", "group"])["value"].agg(["sum", "count"])


# --- simulate ----------------------------------------------------------------------------------

def test_schema_and_labels(sim, cat):
    assert list(sim.columns) == list(observations.COLUMNS)
    assert len(sim) == 3 * len(cat) * len(YEARS)
    assert set(sim["data_point_id"]) == set(cat["data_point_id"])
    assert (sim["source_type"] == "simulated").all()
    assert (sim["status"] == "reported").all()
    assert (sim["source"] == "simulated by analysis.simulate (seed=11)").all()
    assert sim["note"].str.startswith("simulated value, not an observation").all()
    assert sim["value"].notna().all()
    units = sim["data_point_id"].map(cat.set_index("data_point_id")["unit"])
    assert (sim["unit"] == units).all()


def test_passes_validation_and_is_canonically_ordered(sim, cat):
    assert observations.validate(sim, "simulated", cat) == []
    pd.testing.assert_frame_equal(observations.tidy(sim), sim)


def test_same_seed_same_frame_other_seed_differs(cat, published):
    args = (["A", "B", "C", "D"], [2019, 2020])
    first = simulate.simulate(*args, seed=42, cat=cat, calibration=published)
    again = simulate.simulate(*args, seed=42, cat=cat, calibration=published)
    other = simulate.simulate(*args, seed=43, cat=cat, calibration=published)
    pd.testing.assert_frame_equal(first, again)
    assert not first["value"].equals(other["value"])
    assert (other["source"] == "simulated by analysis.simulate (seed=43)").all()


def test_values_in_bounds_and_rounded(big):
    assert out_of_bounds(big).empty
    assert np.allclose(big["value"], big["value"].round(2), atol=1e-9, rtol=0)


def test_yes_no_is_zero_or_one_with_matching_text(big, cat):
    yes_no = set(cat.loc[cat["unit"] == catalogue.YES_NO_UNIT, "data_point_id"])
    rows = big[big["data_point_id"].isin(yes_no)]
    assert len(rows) == len(yes_no) * 500 * 2
    assert set(rows["value"]) == {0.0, 1.0}
    assert (rows["value_text"].map({"Yes": 1.0, "No": 0.0}) == rows["value"]).all()


def test_yes_no_never_switches_back_to_no(cat):
    frame = simulate.simulate([f"M{i}" for i in range(200)],
                              list(range(2010, 2031)), seed=2, cat=cat)
    yes_no = frame[frame["unit"] == catalogue.YES_NO_UNIT]
    steps = yes_no.groupby(["municipality", "data_point_id"])["value"].diff().dropna()
    assert (steps >= 0).all()


def test_value_text_is_the_value_with_two_decimals(big):
    numeric = big[big["unit"] != catalogue.YES_NO_UNIT].sample(2000, random_state=0)
    assert (numeric["value_text"] == numeric["value"].map("{:.2f}".format)).all()


def test_compositions_sum_to_100(big):
    sums = composition_sums(big)
    assert len(sums) == 500 * 2 * len(simulate.COMPOSITIONS)
    assert np.allclose(sums["sum"], 100, atol=1e-3, rtol=0)
    assert (sums["count"] == sums.index.get_level_values("group").map(
        {g: len(m) for g, m in simulate.COMPOSITIONS.items()})).all()


def test_unemployment_and_youth_unemployment_positively_correlated(big):
    wide = big[big["year"] == 2020].pivot(index="municipality", columns="data_point_id",
                                          values="value")
    r = wide[UNEMPLOYMENT].corr(wide[YOUTH_UNEMPLOYMENT], method="spearman")
    assert r > 0.5
    unrelated = wide[UNEMPLOYMENT].corr(wide["EN: EN: AQ: 1C/O3"], method="spearman")
    assert abs(unrelated) < 0.2


def test_drift_follows_direction_on_average(cat):
    frame = simulate.simulate([f"M{i}" for i in range(400)], [2010, 2030], seed=9, cat=cat)
    wide = frame.pivot_table(index=["municipality", "data_point_id"], columns="year",
                             values="value")
    change = (wide[2030] - wide[2010]).groupby(level="data_point_id").median()
    direction = cat.set_index("data_point_id")["direction"]
    assert change["EN: EN: AQ: 2C"] < 0           # GHG emissions, lower is better
    assert change["EC: ICT: ICT: 2C"] > 0         # fixed broadband, higher is better
    assert change["EN: EN: WA: 1C/RECYCLED"] > 0  # compositional share, higher is better
    assert change["EC: I: T: 4A/PRIVATE"] < 0     # compositional share, lower is better
    better = [change[dp] > 0 for dp, d in direction.items()
              if d == "higher_is_better" and cat.set_index("data_point_id").at[dp, "unit"] == "%"]
    assert np.mean(better) > 0.8


def test_calibration_centres_on_published_median(cat, published):
    spec = simulate.assumptions(cat, published).set_index("data_point_id")
    police = published.loc[published["data_point_id"] == "SC: SH: SA: 6C"]
    police = observations.scored(police)["value"]
    assert spec.at["SC: SH: SA: 6C", "basis"] == "published"
    assert spec.at["SC: SH: SA: 6C", "centre"] == pytest.approx(police.median())
    assert spec.at["SC: SH: SA: 6C", "spread"] == pytest.approx(
        (police.max() - police.min()) / simulate.TIPPETT_D[len(police)])
    assert spec.at["EN: EN: AQ: 2C", "basis"] == "default"
    frame = simulate.scale_panel(400, [2020], seed=1, cat=cat, calibration=published)
    median = frame.loc[frame["data_point_id"] == "SC: SH: SA: 6C", "value"].median()
    assert median == pytest.approx(police.median(), rel=0.15)


def test_single_published_value_is_shrunk_halfway_to_the_default(cat, published):
    spec = simulate.assumptions(cat, published).set_index("data_point_id")
    single = observations.scored(published).groupby("data_point_id")["value"].agg(["count", "first"])
    single = single[single["count"] == 1]
    numeric = [dp for dp in single.index if spec.at[dp, "kind"] != "binary"]
    assert numeric
    for dp in numeric:
        prior = simulate.DEFAULT_PRIORS[dp]
        w = 1 / (1 + simulate.PRIOR_PSEUDO_COUNT)
        assert spec.at[dp, "centre"] == pytest.approx(w * single.at[dp, "first"] + (1 - w) * prior.centre)
        assert spec.at[dp, "spread"] == pytest.approx(prior.spread)
        assert spec.at[dp, "basis"] == "published"
        assert "shrunk halfway" in spec.at[dp, "rationale"]
    # Karmøy's 0.00 % ICT monitoring of drainage and Ålesund's 0.00 % cultural expenditure
    # no longer put every simulated municipality at 0 %
    assert spec.at["EC: ICT: D: 1A", "centre"] == pytest.approx(5.0)   # (0 + 10) / 2
    assert spec.at["SC: EH: C: 1C", "centre"] == pytest.approx(1.0)    # (0 + 2) / 2
    frame = simulate.scale_panel(400, [2020], seed=4, cat=cat, calibration=published)
    medians = frame.groupby("data_point_id")["value"].median()
    assert medians["EC: ICT: D: 1A"] == pytest.approx(5.0, rel=0.25)
    assert medians["SC: EH: C: 1C"] == pytest.approx(1.0, rel=0.25)
    note = frame.loc[frame["data_point_id"] == "EC: ICT: D: 1A", "note"].iloc[0]
    assert "halfway between the one published Norwegian value and a documented default" in note
    # two or more values: still the median (SC: SH: SA: 6C, test above); Yes/No: Laplace's rule
    yes_no = [dp for dp in single.index if spec.at[dp, "kind"] == "binary"]
    for dp in yes_no:
        assert spec.at[dp, "centre"] == pytest.approx((single.at[dp, "first"] + 1) / 3)


def test_every_data_point_has_a_documented_assumption(cat):
    spec = simulate.assumptions(cat)
    assert (spec["basis"] == "default").all()
    assert set(cat["data_point_id"]) <= set(simulate.DEFAULT_PRIORS)
    assert all(p.rationale.strip() for p in simulate.DEFAULT_PRIORS.values())
    for group, members in simulate.COMPOSITIONS.items():
        assert sum(members.values()) == pytest.approx(100)
        assert set(members) <= set(cat["data_point_id"]), group
    for dp, loadings in simulate.LOADINGS.items():
        assert dp in set(cat["data_point_id"])
        assert sum(x * x for x in loadings) < 1


def test_rejects_duplicate_inputs(cat):
    with pytest.raises(ValueError, match="municipalities"):
        simulate.simulate(["A", "A"], [2020], 1, cat)
    with pytest.raises(ValueError, match="years"):
        simulate.simulate(["A"], [2020, 2020], 1, cat)
    with pytest.raises(ValueError, match="empty"):
        simulate.simulate(["A", "  "], [2020], 1, cat)
    with pytest.raises(ValueError, match="1900 and 2100"):
        simulate.simulate(["A"], [1850, 2020], 1, cat)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6),
       years=st.lists(st.integers(2000, 2040), min_size=1, max_size=4, unique=True))
def test_any_seed_gives_a_valid_panel(cat, seed, n, years):
    frame = simulate.scale_panel(n, years, seed, cat)
    assert len(frame) == n * len(cat) * len(years)
    assert out_of_bounds(frame).empty
    assert not frame.duplicated(KEY).any()
    sums = composition_sums(frame)
    assert np.allclose(sums["sum"], 100, atol=1e-3, rtol=0)
    pd.testing.assert_frame_equal(frame, simulate.scale_panel(n, years, seed, cat))


# --- demonstration panel -----------------------------------------------------------------------

def test_demonstration_panel_keeps_every_published_row_unchanged(demo, published):
    kept = demo[demo["source_type"] == "published"].reset_index(drop=True)
    expected = observations.tidy(published)
    pd.testing.assert_frame_equal(kept, expected)
    assert "not_reported" in set(kept["status"])


def test_demonstration_panel_fills_every_other_cell_once(demo, published, panel_names, cat):
    assert len(demo) == len(panel_names) * len(cat) * len(YEARS)
    assert not demo.duplicated(KEY).any()
    published_cells = set(map(tuple, published[KEY].to_numpy().tolist()))
    simulated = demo[demo["source_type"] == "simulated"]
    assert not set(map(tuple, simulated[KEY].to_numpy().tolist())) & published_cells
    assert (simulated["source"] == "simulated by analysis.simulate (seed=5)").all()
    assert simulated["note"].str.contains("simulated").all()
    assert set(demo["source_type"]) == {"published", "simulated"}


def test_demonstration_panel_validates(demo, cat):
    assert observations.validate(demo, "demonstration", cat) == []
    assert out_of_bounds(demo).empty


def test_not_reported_cell_is_not_simulated(demo):
    rana_food = demo[(demo["municipality"] == "Rana - Raane") & (demo["data_point_id"] == "SC: SH: FS: 1A")
                     & (demo["year"] == 2020)]
    assert len(rana_food) == 1
    assert rana_food["status"].iloc[0] == "not_reported"
    assert rana_food["source_type"].iloc[0] == "published"
    assert pd.isna(rana_food["value"].iloc[0])


def test_compositions_with_a_published_share_still_sum_to_100(demo):
    sums = composition_sums(demo)
    assert np.allclose(sums["sum"], 100, atol=1e-3, rtol=0)
    rana = demo[(demo["municipality"] == "Rana - Raane") & (demo["data_point_id"] == "EC: I: T: 4A/PARA")]
    assert rana.set_index("year").at[2020, "source_type"] == "published"


def test_simulated_years_lead_into_the_published_value(demo, published):
    # earlier simulated years of a published cell stay near the published value (anchoring)
    police = demo[(demo["municipality"] == "Kristiansund")
                  & (demo["data_point_id"] == "SC: SH: SA: 6C")].set_index("year")["value"]
    assert police[2020] == 144.19
    assert (police[[2018, 2019]] / police[2020]).between(0.6, 1.6).all()
    resilience = demo[(demo["municipality"] == "Asker")
                      & (demo["data_point_id"] == "SC: SH: SA: 3A")]["value"]
    assert (resilience == 0).all()  # published "No" in 2020; plans are never dropped, so No before


def test_demonstration_panel_keeps_published_rows_whatever_the_years(cat, published):
    # published values are from 2020; years=[2018, 2019] must not silently drop them
    frame = simulate.demonstration_panel(published, ["Asker", "Bodø"], [2018, 2019], seed=1,
                                         cat=cat)
    asker = observations.tidy(published[published["municipality"] == "Asker"])
    assert len(asker) > 0
    kept = frame[frame["source_type"] == "published"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, asker)
    simulated = frame[frame["source_type"] == "simulated"]
    assert set(simulated["year"]) == {2018, 2019}
    assert set(simulated["municipality"]) == {"Asker", "Bodø"}
    assert len(frame) == 2 * len(cat) * 2 + len(asker)
    assert not frame.duplicated(KEY).any()
    assert observations.validate(frame, "demonstration", cat) == []
    # simulated years still lead into the kept published value (Asker's 2020 "No" for resilience)
    resilience = frame[(frame["municipality"] == "Asker") & (frame["data_point_id"] == "SC: SH: SA: 3A")]
    assert list(resilience["year"]) == [2018, 2019, 2020]
    assert (resilience["value"] == 0).all()


def test_demonstration_panel_leaves_out_other_municipalities(cat, published):
    frame = simulate.demonstration_panel(published, ["Bodø"], [2020], seed=1, cat=cat)
    assert (frame["source_type"] == "simulated").all()
    assert set(frame["municipality"]) == {"Bodø"}
    assert len(frame) == len(cat)


def test_run_observations_keeps_published_values_for_other_years(cat, published):
    from analysis import assess, params
    values = {**params.load(), "include_simulated": True, "years": [2018, 2019]}
    names = sorted(published["municipality"].unique())
    frame = assess.run_observations(values, names, published)
    kept = frame[frame["source_type"] == "published"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, observations.tidy(published))


# --- names, scale, mix, select -----------------------------------------------------------------

def test_fictional_names_are_fictional_padded_and_unique(panel_names):
    names = simulate.fictional_municipalities(5000)
    assert names[0] == "Fictional municipality 0001"
    assert names[-1] == "Fictional municipality 5000"
    assert len(set(names)) == 5000
    real = {observations.normalise_name(n).casefold() for n in panel_names}
    assert not real & {n.casefold() for n in names}
    assert simulate.fictional_municipalities(0) == []
    assert simulate.fictional_municipalities(9)[-1] == "Fictional municipality 9"
    with pytest.raises(ValueError):
        simulate.fictional_municipalities(-1)


def test_scale_panel_row_count(big, cat):
    assert len(big) == 500 * len(cat) * 2
    assert big["municipality"].nunique() == 500
    assert big["municipality"].str.startswith("Fictional municipality ").all()


def test_mix_counts_and_mostly_simulated(demo, published, sim):
    counts = simulate.mix_counts(demo).set_index("municipality")
    scored = observations.scored(published).groupby("municipality").size()
    assert (counts.loc[scored.index, "n_published"] == scored).all()
    assert (counts["n_city_supplied"] == 0).all()
    assert (counts["n_scored"] == counts[["n_published", "n_city_supplied", "n_simulated"]]
            .sum(axis=1)).all()
    assert counts.at["Bodø", "share_simulated"] == 1.0
    assert 0 < counts.at["Ålesund", "share_simulated"] < 1
    def mostly(frame, name, threshold=0.5):
        row = simulate.mix_counts(frame).set_index("municipality").loc[name]
        return simulate.is_mostly_simulated(row["n_published"] + row["n_city_supplied"], row["n_simulated"],
                                            threshold)

    assert mostly(demo, "Bodø")
    assert mostly(demo, "Ålesund", threshold=0.5)
    assert not mostly(demo, "Ålesund", threshold=0.99)
    assert not mostly(published, "Asker")
    assert not simulate.is_mostly_simulated(0, 0)
    assert not simulate.is_mostly_simulated(5, 5) and simulate.is_mostly_simulated(4, 5)
    rana = simulate.mix_counts(published[published["municipality"] == "Rana - Raane"]).iloc[0]
    assert rana["n_published"] == 1 and rana["n_simulated"] == 0


def test_mix_counts_lists_a_municipality_with_nothing_scored(published):
    not_reported = published[published["status"] == "not_reported"]
    counts = simulate.mix_counts(not_reported)
    assert (counts["n_scored"] == 0).all()
    assert counts["share_simulated"].isna().all()
    row = counts.set_index("municipality").loc["Rana - Raane"]
    assert not simulate.is_mostly_simulated(row["n_published"] + row["n_city_supplied"], row["n_simulated"])


def test_select_is_the_one_switch(demo, published):
    without = simulate.select(demo, include_simulated=False)
    assert (without["source_type"] != "simulated").all()
    pd.testing.assert_frame_equal(without, observations.tidy(published))
    everything = simulate.select(demo, include_simulated=True)
    pd.testing.assert_frame_equal(everything, demo.reset_index(drop=True))
    bad = demo.head(3).assign(source_type=["published", "made-up", "simulated"])
    with pytest.raises(ValueError, match="source_type"):
        simulate.select(bad, include_simulated=True)
