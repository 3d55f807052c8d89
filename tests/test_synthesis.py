"""The synthesis build: a clear error for an unknown grouping, and reasons instead of numbers on a sparse panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import params, synthesis, uncertainty
from analysis.errors import InputError


def test_unknown_grouping_is_a_clear_input_error():
    with pytest.raises(InputError, match="synthesis.grouping") as info:
        synthesis.build(params.load(overrides=["synthesis.grouping=colour"]))
    message = str(info.value)
    assert "unknown synthesis.grouping 'colour'" in message and "'county'" in message
    assert info.value.problems[0].file == "--set"


def test_groups_of_reads_the_panel_column_and_lists_the_allowed_ones():
    panel = pd.DataFrame({"municipality": ["A", "B", "C"], "county": ["x", "x", "y"], "size": ["s", "l", "l"]})
    assert synthesis.groups_of(panel, "county").to_dict() == {"A": "x", "B": "x", "C": "y"}
    assert synthesis.grouping_columns(panel) == ["county"]  # only municipalities.GROUPINGS, one rule
    for bad in ("region", "municipality", "size"):
        with pytest.raises(InputError, match=r"expected one of \['county'\]"):
            synthesis.groups_of(panel, bad)


@pytest.fixture(scope="module")
def published_only() -> synthesis.Synthesis:
    return synthesis.build(params.load(overrides=["include_simulated=false", "synthesis.draws=400"]), sobol_base=32)


def test_published_only_synthesis_says_why_instead_of_numbers_on_nothing(published_only):
    syn = published_only
    bands, log = syn.rank_bands, syn.draw_log
    n = int(log["n_ranked"].iloc[0])
    assert (log["n_ranked"] == n).all() and (bands["n_ranked"] == n).all()
    assert set(log["data"]) == {"published_only"}
    unranked = bands[~bands["ranked"]]
    assert len(unranked) and (unranked["reason"] != "").all()
    assert unranked[["nominal_rank", "median_rank", "p5_rank", "p95_rank"]].isna().all().all()
    ranked = bands[bands["ranked"]]
    assert len(ranked) == n and (ranked["p95_rank"] <= n).all()
    # a municipality is ranked only if it has published values
    published = set(syn.assessment.scored.loc[syn.assessment.scored["achievement"].notna(), "municipality"])
    assert set(ranked["municipality"]) <= published
    sobol = syn.sobol
    assert "data" not in set(sobol["factor"])
    assert ((sobol["reason"] != "") | np.isfinite(sobol["ST"])).all()
    table = syn.data_sensitivity
    assert list(table.columns) == uncertainty.DATA_SENSITIVITY_COLUMNS
    assert (table.loc[~table["compared"], "reason"] != "").all()
    assert table.loc[~table["compared"], ["rank_with_simulated", "rank_published_only"]].isna().all().all()
    for frame, stat in ((syn.group_tests, "p"), (syn.dimension_tests, "p"), (syn.correlations, "rho"),
                        (syn.bootstrap, "ci_low")):
        untested = frame[frame[stat].isna()]
        assert len(untested) and (untested["reason"] != "").all()
    assert syn.clusters.linkage is None and syn.clusters.reason
    assert f"same {n} of {len(bands)}" in synthesis.ranking_note(bands, log)
    assert "published values alone" in synthesis.data_sensitivity_note(table)
    assert "data_sensitivity" in syn.tables


def test_published_only_synthesis_has_no_findings_and_says_so(published_only):
    syn = published_only
    support = syn.real_support.set_index("question")["count"]
    assert support["municipalities with at least one real scored value"] == \
        syn.assessment.scored.loc[syn.assessment.scored["achievement"].notna(), "municipality"].nunique()
    assert support["data points with real values in at least 8 municipalities"] == 0
    for frame in (syn.real_group_tests, syn.real_dimension_tests, syn.real_first_round, syn.real_correlations):
        assert frame["p"].isna().all()
    assert "No test or correlation can be run on real values alone" in synthesis.real_data_note(syn.real_support)
    for name in ("real_support", "alpha", "leave_one_out", "outlier_treatments", "parameter_differences"):
        assert name in syn.tables


def test_real_data_note_counts_findings():
    support = pd.DataFrame({"question": ["municipalities with at least one real scored value", "x",
                                         "data points with real values in at least 8 municipalities",
                                         "group tests per data point: run on real values",
                                         "group tests per data point: findings (q < 0.05)"],
                            "count": [9, 5, 3, 3, 1], "note": ""})
    assert "3 tests or correlations could be run on real values; 1 are findings" in synthesis.real_data_note(support)
    support.loc[4, "count"] = 0
    assert "none is a finding" in synthesis.real_data_note(support)


def test_parameter_differences_name_the_profiles_that_differ_and_give_both_results():
    from analysis import assess, municipalities, params
    panel = municipalities.load()
    values = params.load()
    a = assess.assess(values, panel=panel)
    table = synthesis.parameter_differences(values, a, panel).set_index("municipality")
    assert {"Tromsø", "Ålesund"} <= set(table.index)
    tromso = table.loc["Tromsø"]
    assert tromso["differs"] == "target_set: default → national"
    own = assess.assess(params.load("Tromsø"), panel=panel).overall.set_index("municipality")["index"]
    assert tromso["index_profile"] == pytest.approx(own["Tromsø"])
    assert tromso["index_synthesis"] == pytest.approx(a.overall.set_index("municipality").loc["Tromsø", "index"])
    assert tromso["index_profile"] != pytest.approx(tromso["index_synthesis"])
    assert tromso["rank_profile"] == (own > own["Tromsø"]).sum() + 1
    # themes ranked for Tromsø alone equal its rows of a ranking of every municipality under its parameters
    from analysis import invest
    full = invest.synthesis_table(assess.assess(params.load("Tromsø"), panel=panel), panel=panel)
    assert tromso["top_themes_profile"] == synthesis._top_themes(full, "Tromsø")
    assert tromso["top_themes_synthesis"] == synthesis._top_themes(invest.synthesis_table(a, panel=panel), "Tromsø")
    alesund = table.loc["Ålesund"]
    assert alesund["differs"] == "peer_group.by: all → county"
    assert alesund["index_profile"] == pytest.approx(alesund["index_synthesis"])  # same targets, other peers
    note = synthesis.parameter_note(table.reset_index())
    assert "default parameters" in note and "Tromsø" in note and "Ålesund" in note
    assert "No municipality" in synthesis.parameter_note(table.iloc[0:0].reset_index())


def test_sobol_note_reports_the_interval_against_the_index():
    sobol = pd.DataFrame({"factor": ["a", "b"], "S1": [0.5, 0.0], "S1_conf": [0.02, 0.01], "ST": [0.8, 0.01],
                          "ST_conf": [0.04, 0.01], "n_evaluations": 100, "n_ranked": 5, "reason": ""})
    assert "at most ±5% of the index" in synthesis.sobol_note(sobol)


def test_sobol_figure_text_names_every_factor_and_the_goalpost_rule():
    sobol = pd.DataFrame({"factor": ["goalposts", "normalisation"], "S1": [0.1, 0.6], "S1_conf": [0.01, 0.02],
                          "ST": [0.2, 0.8], "ST_conf": [0.01, 0.03], "n_evaluations": 100, "n_ranked": 5, "reason": ""})
    alt, caption = synthesis.sobol_figure_text(sobol)
    assert "normalisation S1 0.60, ST 0.80; goalposts S1 0.10, ST 0.20" in alt
    assert caption.startswith("normalisation moves the ranks most (total index 0.80)")
    assert "goalpost rule" in caption and "0.20" in caption
    alt, caption = synthesis.sobol_figure_text(sobol.assign(S1=np.nan, ST=np.nan, reason="no variance"))
    assert "no variance" in alt and "no variance" in caption


def test_notes_say_when_no_ranking_or_comparison_can_be_made():
    bands = pd.DataFrame({"municipality": ["A", "B"], "ranked": [True, False], "n_ranked": [1, 1],
                          "reason": ["", "no index under data=published_only"]})
    log = pd.DataFrame({"draw": [0, 1], "data": "published_only", "target_set": "default",
                        "normalisation": ["goalposts", "minmax"], "missing": "drop", "aggregation": "arithmetic",
                        "w_Economy": [0.5, 0.4], "w_Environment": [0.5, 0.6]})
    note = synthesis.ranking_note(bands, log)
    assert "No ranking can be made" in note and "varied: normalisation, dimension weights" in note
    table = pd.DataFrame({"municipality": ["A", "B"], "index_published_only": [True, False],
                          "compared": [True, False], "rank_change": [0.0, np.nan]})
    assert "No comparison can be made" in synthesis.data_sensitivity_note(table)
