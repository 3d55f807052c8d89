"""Published-only runs work for every municipality, including one with no value at all (Giske)."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from analysis import assess, invest, params, pipeline, profile


@pytest.fixture(scope="module")
def published_only():
    return assess.assess(params.load("Giske", ["include_simulated=false"]))


def test_no_real_value_for_giske(published_only):
    assert published_only.scored[published_only.scored["municipality"] == "Giske"].empty


def test_what_if_is_empty_and_explained_when_nothing_is_scored(published_only):
    out = invest.what_if(published_only, "Giske")
    assert out.empty
    assert list(out.columns) == list(invest.WHAT_IF_COLUMNS)
    assert "no theme has a scored data point" in out.attrs["reason"]
    assert "data-collection plan" in out.attrs["reason"]


def test_what_if_explains_when_every_theme_is_at_target(published_only):
    ranked = pd.DataFrame({"theme_id": ["a", "b"], "status": [invest.NO_GAP, invest.NOT_SCORED]})
    out = invest.what_if(published_only, "Giske", ranked=ranked)
    assert out.empty and "already at its target" in out.attrs["reason"]


@pytest.mark.slow
def test_published_only_profile_of_a_municipality_without_data_runs_end_to_end(tmp_path):
    target = pipeline.executed_path("profile", "Giske", tmp_path)
    pipeline.execute("profile", pipeline.profile_parameters("Giske", {"include_simulated": False}, target), target)
    nb = nbformat.read(target, as_version=4)
    assert nb.metadata["papermill"]["exception"] is not True
    shown = "\n".join(str(o.get("data", {}).get("text/markdown", "")) + str(o.get("data", {}).get("text/html", ""))
                      for c in nb.cells for o in c.get("outputs", []))
    assert "Giske has a published, city-supplied or national statistics value for 0 of the 112 data points" in shown
    assert "No what-if for Giske" in shown
    tables = tmp_path / "tables" / "1532-giske"
    gaps = pd.read_csv(tables / "data_gaps.csv")
    assert len(gaps) == 112 and list(gaps["priority"]) == list(range(1, 113))  # the whole plan is shown
    assert f"<td>{gaps['data_point_id'].iloc[0]}</td>" in shown  # the plan heads with its first data point
    assert pd.read_csv(tables / "what_if.csv").empty
    dims = pd.read_csv(tables / "dimensions.csv")
    assert dims["mean_achievement"].isna().all()


def test_coverage_note_counts_real_and_scored_values(published_only):
    prof = profile.build(params.load("Giske", ["include_simulated=false"]))
    assert prof.coverage_note.startswith("Giske has a published, city-supplied or national statistics value for 0 of the 112")
    assert prof.what_if_note.startswith("No what-if for Giske")
    karmoy = profile.build(params.load("Karmøy", ["include_simulated=false"]))
    n_real = 112 - len(karmoy.gaps)
    assert n_real > 0 and f"value for {n_real} of the 112" in karmoy.coverage_note
