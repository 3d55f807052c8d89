"""``analysis.diff``: two runs with a known parameter change give exactly the changed rows the change implies."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis import diff, profile
from analysis import params as params_module
from analysis.errors import InputError
from analysis.paths import ROOT

MUNICIPALITY = "Aukra"
SLUG = "1547-aukra"  # its profile's file name
BASE = ["invest.draws=50"]  # both runs: a small stability sample keeps the test quick


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two run folders of one municipality: default weights, and Environment weighted 2."""
    root = tmp_path_factory.mktemp("runs")
    before = profile.build(params_module.load(MUNICIPALITY, BASE), root / "before")
    after = profile.build(params_module.load(MUNICIPALITY, [*BASE, "weights.environment=2"]), root / "after")
    return root, before, after


def hand_index(dimensions: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Weighted mean of the dimensions' mean achievements per municipality, dimensions without data left out."""
    frame = dimensions[dimensions["mean_achievement"].notna()]
    w = frame["dimension"].map(lambda d: weights[d])
    total = (frame["mean_achievement"] * w).groupby(frame["municipality"]).sum()
    return total / w.groupby(frame["municipality"]).sum()


def test_weight_change_changes_the_index_and_nothing_below_it(runs):
    root, before, after = runs
    changes = diff.compare(diff.load_run(root / "after"), diff.load_run(root / "before"))

    params = changes[changes["section"] == "parameters"]
    assert params["item"].tolist() == ["weights.environment"]
    assert float(params["before"].iloc[0]) == 1.0 and float(params["after"].iloc[0]) == 2.0

    # a dimension weight enters only the overall index: scores, bands, colours, data point ranks stay
    dims = before.assessment.levels["dimension"]
    assert after.assessment.levels["dimension"]["mean_achievement"].equals(dims["mean_achievement"])
    equal = {"Economy": 1.0, "Environment": 1.0, "Society and Culture": 1.0}
    heavier = {**equal, "Environment": 2.0}
    old, new = hand_index(dims, equal), hand_index(dims, heavier)

    index = changes[changes["section"] == "overall index"]
    assert len(index) == 1
    assert index["before"].iloc[0] == pytest.approx(old[MUNICIPALITY], abs=1e-6)
    assert index["after"].iloc[0] == pytest.approx(new[MUNICIPALITY], abs=1e-6)
    assert index["change"].iloc[0] == pytest.approx(new[MUNICIPALITY] - old[MUNICIPALITY], abs=1e-6)

    old_rank = old.rank(ascending=False, method="min")[MUNICIPALITY]
    new_rank = new.rank(ascending=False, method="min")[MUNICIPALITY]
    panel_rank = changes[(changes["section"] == "ranks") & (changes["measure"] == "rank")]
    if old_rank == new_rank:
        assert panel_rank.empty
    else:
        assert panel_rank[["before", "after"]].astype(float).iloc[0].tolist() == [old_rank, new_rank]
    allowed = {"parameters", "overall index", "ranks"}
    assert set(changes["section"]) <= allowed, changes[~changes["section"].isin(allowed)]
    assert set(changes.loc[changes["section"] == "ranks", "item"]) <= {"overall"}


def test_a_target_set_change_moves_exactly_the_bands_whose_goalposts_moved(tmp_path):
    before = profile.build(params_module.load(MUNICIPALITY, BASE), tmp_path / "before")
    after = profile.build(params_module.load(MUNICIPALITY, [*BASE, "target_set=national"]), tmp_path / "after")
    changes = diff.compare(diff.load_run(tmp_path / "after"), diff.load_run(tmp_path / "before"))

    def bands(prof):  # the band by hand from the achievement, U4SSC's edges 33, 66, 95
        s = prof.assessment.scored
        own = s[s["municipality"] == MUNICIPALITY].set_index("data_point_id")
        a = own["achievement"]
        label = np.select([a >= 95, a >= 66, a >= 33, a >= 0], ["95–100 %", "66–95 %", "33–66 %", "0–33 %"],
                          default="no data")
        return pd.Series(label, index=own.index), own["data_point_name"]

    (old, names), (new, _) = bands(before), bands(after)
    moved = old.index[old.ne(new.reindex(old.index))]
    expected = {f"{dp} {names[dp]}" for dp in moved}
    got = set(changes.loc[(changes["section"] == "bands") & (changes["measure"] == "band"), "item"])
    assert expected, "the national target set should move at least one band of Aukra"
    assert got == expected
    assert changes.loc[changes["section"] == "parameters", "item"].tolist() == ["target_set"]


def test_same_run_has_no_changes_and_the_page_says_so(runs):
    root, _, _ = runs
    run = diff.load_run(root / "before")
    changes = diff.compare(run, diff.load_run(root / "before"))
    assert changes.empty
    assert "Nothing changed" in diff.page(changes, run, run)


def test_profiles_are_found_through_provenance_not_file_names(runs, tmp_path):
    root, _, _ = runs
    renamed = tmp_path / "renamed"
    shutil.copytree(root / "after", renamed)
    (renamed / "profiles" / f"{SLUG}.provenance.json").rename(renamed / "profiles" / "aukra-renamed.provenance.json")
    (renamed / "tables" / SLUG).rename(renamed / "tables" / "aukra-renamed")
    original = diff.compare(diff.load_run(root / "after"), diff.load_run(root / "before"))
    again = diff.compare(diff.load_run(renamed), diff.load_run(root / "before"))
    pd.testing.assert_frame_equal(original, again)


def test_resolve_names_main_paths_prefixes_and_refuses_ambiguity(tmp_path):
    for name in ("Aukra-aaa", "Aukra-bbb", "Molde-ccc"):
        (tmp_path / name).mkdir()
    assert diff.resolve("main", tmp_path) == ROOT / "reports" / "executed"
    assert diff.resolve("Molde", tmp_path) == tmp_path / "Molde-ccc"
    assert diff.resolve("Aukra-bbb", tmp_path) == tmp_path / "Aukra-bbb"
    with pytest.raises(InputError, match="2 runs start with 'Aukra'"):
        diff.resolve("Aukra", tmp_path)
    with pytest.raises(InputError, match="no run 'Oslo'"):
        diff.resolve("Oslo", tmp_path)


def test_a_folder_without_profiles_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no executed profile"):
        diff.load_run(tmp_path)


def test_command_prints_the_table_and_writes_the_page(runs):
    root, _, _ = runs
    result = subprocess.run([sys.executable, "-m", "analysis", "diff", str(root / "after"), str(root / "before")],
                            cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 parameter(s) differ" in result.stdout
    assert "weights.environment" in result.stdout
    assert "\x1b" not in result.stdout  # not a terminal: no colour codes
    page = root / "after" / "diff-before.html"
    text = page.read_text(encoding="utf-8")
    assert "weights.environment" in text and "Overall index" in text
    prov = json.loads((root / "after" / "profiles" / f"{SLUG}.provenance.json").read_text(encoding="utf-8"))
    assert prov["overall_index"] is not None


def test_only_municipalities_in_both_runs_are_compared(runs, tmp_path):
    root, _, _ = runs
    other = tmp_path / "other"
    shutil.copytree(root / "before", other)
    prov = other / "profiles" / f"{SLUG}.provenance.json"
    data = json.loads(prov.read_text(encoding="utf-8"))
    prov.write_text(json.dumps({**data, "municipality": "Molde"}, ensure_ascii=False), encoding="utf-8")
    (other / "tables" / SLUG).rename(other / "tables" / "Molde")
    with pytest.raises(InputError, match="no profile of Aukra to compare with"):
        diff.compare(diff.load_run(root / "after"), diff.load_run(other))
