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
