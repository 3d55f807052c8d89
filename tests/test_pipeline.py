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


def _check_profile(out, name):
    nb = nbformat.read(out / "profiles" / f"{name}.ipynb", as_version=4)
    assert nb.metadata["papermill"]["parameters"]["municipality"] == name
    assert nb.metadata["papermill"]["exception"] is not True
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"][:2] == [1, 2]  # a clean kernel each time
    prov = json.loads((out / "profiles" / f"{name}.provenance.json").read_text(encoding="utf-8"))
    assert prov["municipality"] == name
    assert len(prov["data_sha256"]) == 64 and prov["code_version"] and prov["executed_at"]
    assert (out / "tables" / name / "baseline.csv").exists()
    assert (out / "tables" / name / "tables.xlsx").exists()


@pytest.mark.slow
def test_snakemake_workflow_for_two_municipalities_into_a_temporary_folder(tmp_path):
    code = pipeline.snakemake(["profiles"], cores=2, config={"municipalities": ["Aukra", "Tromsø"]},
                              directory=tmp_path, quiet=True)
    assert code == 0
    out = tmp_path / "reports" / "executed"
    assert sorted(p.name for p in (out / "profiles").glob("*.ipynb")) == ["Aukra.ipynb", "Tromsø.ipynb"]
    for name in ("Aukra", "Tromsø"):
        _check_profile(out, name)
        assert "executed profile" in (tmp_path / "reports" / "logs" / "profile" / f"{name}.log").read_text("utf-8")
    assert not list(out.rglob(".*.tmp*")), "no temporary files are left behind"
    assert pipeline.missing_profiles(["profiles"], {"municipalities": "Aukra,Tromsø"}, tmp_path) == []


@pytest.mark.slow
def test_a_failing_municipality_does_not_stop_the_others(tmp_path, capfd):
    code = pipeline.snakemake(["profiles"], cores=2, config={"municipalities": "Atlantis,Giske", "out": "built"},
                              directory=tmp_path, quiet=True)
    assert code != 0
    _check_profile(tmp_path / "built", "Giske")
    assert not (tmp_path / "built" / "profiles" / "Atlantis.ipynb").exists()
    assert "unknown municipality 'Atlantis'" in (tmp_path / "reports" / "logs" / "profile" / "Atlantis.log").read_text(
        "utf-8")
    assert "1 municipality failed: Atlantis" in capfd.readouterr().err


def test_snakefile_config_and_names_without_pandas():
    from analysis import municipalities
    assert pipeline.municipality_names() == sorted(municipalities.load()["municipality"])
    assert pipeline.config_municipalities({"municipalities": " Aukra, Tromsø "}) == ["Aukra", "Tromsø"]
    assert pipeline.config_municipalities({}) == pipeline.municipality_names()
    assert pipeline.missing_profiles(["x/profiles/Aukra.ipynb"], {"out": "nowhere"}) == ["Aukra"]


def test_pipeline_module_imports_neither_pandas_nor_papermill():
    import subprocess
    import sys
    code = ("import sys, runpy; from analysis import pipeline; pipeline.municipality_names(); "
            "assert 'pandas' not in sys.modules and 'papermill' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_make_clean_never_touches_city_supplied_data(tmp_path):
    """`make clean` in a copy of the project: outputs go, city data stays, an old-layout folder is moved first."""
    import shutil
    import subprocess
    import sys

    from analysis import paths
    root = tmp_path / "project"
    (root / "analysis").mkdir(parents=True)
    shutil.copy2(paths.ROOT / "Makefile", root / "Makefile")
    for name in ("__init__.py", "paths.py"):
        shutil.copy2(paths.ROOT / "analysis" / name, root / "analysis" / name)
    city = root / "data" / "external" / "city_supplied"
    city.mkdir(parents=True)
    (city / "Tromsø.csv").write_text("municipality\nTromsø\n", encoding="utf-8")
    old = root / "data" / "processed" / "city_supplied"
    old.mkdir(parents=True)
    (old / "Bærum.csv").write_text("municipality\nBærum\n", encoding="utf-8")
    (root / "data" / "processed" / "observations.csv").write_text("x\n", encoding="utf-8")
    (root / "reports" / "site").mkdir(parents=True)
    done = subprocess.run(["make", "clean", f"PYTHON={sys.executable}"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (city / "Tromsø.csv").read_text(encoding="utf-8") == "municipality\nTromsø\n"
    assert (city / "Bærum.csv").read_text(encoding="utf-8") == "municipality\nBærum\n"
    assert "moved city-supplied data" in done.stderr
    assert sorted(p.name for p in (root / "data" / "processed").iterdir()) == [".gitkeep"]
    assert not (root / "reports" / "site").exists()
