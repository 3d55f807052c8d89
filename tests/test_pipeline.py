"""End-to-end: the profile notebook executed with papermill for two municipalities into a temporary folder."""

from __future__ import annotations

import json

import nbformat
import pytest

from analysis import pipeline
from analysis.errors import InputError
from analysis.cli import main


@pytest.mark.slow
def test_two_profiles_execute_with_provenance(tmp_path):
    for name, overrides in (("Tromsø", []), ("Karmøy", ["include_simulated=false"])):
        target = pipeline.executed_path("profile", name, tmp_path)
        pipeline.execute("profile", {"municipality": name, "overrides": overrides, "output_dir": str(tmp_path)},
                         target)
        nb = nbformat.read(target, as_version=4)
        assert nb.metadata["papermill"]["parameters"]["municipality"] == name
        prov = json.loads((tmp_path / "profiles" / f"{name}.provenance.json").read_text(encoding="utf-8"))
        assert prov["municipality"] == name
        assert prov["parameters"]["include_simulated"] is (overrides == [])
        assert len(prov["data_sha256"]) == 64 and prov["code_version"]
        assert (tmp_path / "tables" / name / "baseline.csv").exists()
        assert (tmp_path / "tables" / name / "tables.xlsx").exists()
    karmoy = json.loads((tmp_path / "profiles" / "Karmøy.provenance.json").read_text(encoding="utf-8"))
    assert karmoy["n_simulated"] == 0 and karmoy["n_published"] > 0
    assert not list(tmp_path.rglob(".*.tmp*")), "no temporary files are left behind"


def test_unknown_municipality_fails_before_any_notebook_starts(tmp_path, capsys):
    code = main(["execute", "profile", "--municipality", "Atlantis", "--output", str(tmp_path / "p" / "x.ipynb")])
    assert code == 2
    assert "unknown municipality 'Atlantis'" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_bad_override_names_the_key(tmp_path):
    with pytest.raises(InputError, match="weights.enviroment"):
        from analysis import params
        params.load("Ålesund", ["weights.enviroment=2"])
