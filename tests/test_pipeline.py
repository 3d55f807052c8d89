"""End-to-end: the profile notebook executed with papermill for two municipalities into a temporary folder."""

from __future__ import annotations

import json

import nbformat
import pytest

from analysis import params, paths, pipeline
from analysis.errors import InputError
from analysis.cli import main


@pytest.mark.slow
def test_two_profiles_execute_with_provenance(tmp_path):
    for name, slug, overrides in (("Tromsø", "5501-tromso", []), ("Karmøy", "1149-karmoy", ["include_simulated=false"])):
        target = pipeline.executed_path("profile", name, tmp_path)
        assert target.name == f"{slug}.ipynb"
        pipeline.execute("profile", pipeline.profile_parameters(name, params.parse_set(overrides), target), target)
        nb = nbformat.read(target, as_version=4)
        assert nb.metadata["papermill"]["parameters"]["values"]["municipality"] == slug[:4]
        prov = json.loads((tmp_path / "profiles" / f"{slug}.provenance.json").read_text(encoding="utf-8"))
        assert prov["municipality"] == name and prov["kommunenummer"] == slug[:4]
        assert prov["parameters"]["include_simulated"] is (overrides == [])
        assert len(prov["data_sha256"]) == 64 and prov["code_version"]
        assert (tmp_path / "tables" / slug / "baseline.csv").exists()
        assert (tmp_path / "tables" / slug / "tables.xlsx").exists()
    karmoy = json.loads((tmp_path / "profiles" / "1149-karmoy.provenance.json").read_text(encoding="utf-8"))
    assert karmoy["n_simulated"] == 0 and karmoy["n_published"] > 0
    assert not list(tmp_path.rglob(".*.tmp*")), "no temporary files are left behind"


def test_unknown_municipality_fails_before_any_notebook_starts(tmp_path, capsys):
    code = main(["execute", "profile", "--municipality", "Atlantis", "--output", str(tmp_path / "p" / "x.ipynb")])
    assert code == 2
    assert "unknown municipality 'Atlantis'" in capsys.readouterr().err
    assert main(["execute", "profile", "--municipality", "Herøy", "--output", str(tmp_path / "p" / "x.ipynb")]) == 2
    assert "Herøy (Nordland) 1818" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_bad_override_names_the_key(tmp_path):
    with pytest.raises(InputError, match="weights.enviroment"):
        from analysis import params
        params.load("Ålesund", ["weights.enviroment=2"])


SLUGS = {"Aukra": "1547-aukra", "Tromsø": "5501-tromso", "Giske": "1532-giske"}


def _check_profile(out, name):
    slug = SLUGS[name]
    nb = nbformat.read(out / "profiles" / f"{slug}.ipynb", as_version=4)
    assert nb.metadata["papermill"]["parameters"]["values"]["municipality"] == slug[:4]
    assert nb.metadata["papermill"]["exception"] is not True
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"][:2] == [1, 2]  # a clean kernel each time
    prov = json.loads((out / "profiles" / f"{slug}.provenance.json").read_text(encoding="utf-8"))
    assert prov["municipality"] == name
    assert len(prov["data_sha256"]) == 64 and prov["code_version"] and prov["executed_at"]
    assert (out / "tables" / slug / "baseline.csv").exists()
    assert (out / "tables" / slug / "tables.xlsx").exists()


@pytest.mark.slow
def test_snakemake_workflow_for_two_municipalities_into_a_temporary_folder(tmp_path):
    code = pipeline.snakemake(["profiles"], cores=2, config={"municipalities": ["Aukra", "Tromsø"]},
                              directory=tmp_path, quiet=True)
    assert code == 0
    out = tmp_path / "reports" / "executed"
    assert sorted(p.name for p in (out / "profiles").glob("*.ipynb")) == ["1547-aukra.ipynb", "5501-tromso.ipynb"]
    for name in ("Aukra", "Tromsø"):
        _check_profile(out, name)
        assert "executed profile" in (tmp_path / "reports" / "logs" / "profile" / f"{SLUGS[name]}.log").read_text("utf-8")
    assert not list(out.rglob(".*.tmp*")), "no temporary files are left behind"
    assert pipeline.missing_profiles(["profiles"], {"municipalities": "Aukra,Tromsø"}, tmp_path) == []


@pytest.mark.slow
def test_a_failing_municipality_does_not_stop_the_others(tmp_path, capfd):
    """Bergen is a real municipality outside the panel with no data of its own: its profile fails, Giske's is built."""
    code = pipeline.snakemake(["profiles"], cores=2, config={"municipalities": "Bergen,Giske", "out": "built"},
                              directory=tmp_path, quiet=True)
    assert code != 0
    _check_profile(tmp_path / "built", "Giske")
    assert not (tmp_path / "built" / "profiles" / "4601-bergen.ipynb").exists()
    assert "is not in the panel" in (tmp_path / "reports" / "logs" / "profile" / "4601-bergen.log").read_text("utf-8")
    assert "1 municipality failed: Bergen" in capfd.readouterr().err


def test_snakefile_config_and_names_without_pandas():
    from analysis import municipalities
    assert pipeline.municipality_slugs() == sorted(municipalities.load()["slug"])
    assert pipeline.config_municipalities({"municipalities": " Aukra, 5501 "}) == ["1547-aukra", "5501-tromso"]
    assert pipeline.config_municipalities({}) == pipeline.municipality_slugs()
    assert len(pipeline.config_municipalities({"panel": "norway"})) == 357
    assert pipeline.missing_profiles(["x/profiles/1547-aukra.ipynb"], {"out": "nowhere"}) == ["1547-aukra"]
    with pytest.raises(InputError, match="did you mean Tromsø"):
        pipeline.config_municipalities({"municipalities": "Tromso"})


def test_pipeline_module_imports_neither_pandas_nor_papermill():
    import subprocess
    import sys
    code = ("import sys, runpy; from analysis import pipeline; pipeline.municipality_slugs(); "
            "pipeline.assessment_keys(pipeline.municipality_slugs()); "
            "assert 'pandas' not in sys.modules and 'papermill' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_the_cluster_path_gives_the_local_outputs(tmp_path):
    """Snakemake's generic cluster executor with a local submit script: each profile job its own process."""
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    config = {"municipalities": "Aukra", "out": "executed", "logs": "logs"}
    assert pipeline.snakemake(["profiles"], cores=1, config=config, directory=local, quiet=True) == 0
    submit = ["--executor", "cluster-generic", "--cluster-generic-submit-cmd",
              f"bash {paths.ROOT / 'workflow' / 'local-submit.sh'}", "--jobs", "1"]
    assert pipeline.snakemake(["profiles"], cores=1, config=config, directory=cluster, quiet=True, extra=submit) == 0
    tables = sorted(p.relative_to(local) for p in (local / "executed" / "tables").rglob("*.csv"))
    assert tables and [p.relative_to(cluster) for p in sorted((cluster / "executed" / "tables").rglob("*.csv"))] == tables
    for table in tables:
        assert (cluster / table).read_bytes() == (local / table).read_bytes(), table
