"""Run parameters: one typed, validated object from the defaults, a municipality's file and --set values.

Errors name the file that gave the offending value and the key; the notebook receives the validated
object's canonical form, never --set strings.
"""

from __future__ import annotations

import json
import math
import shutil
import unicodedata
from pathlib import Path

import pytest
import yaml

from analysis import params, paths
from analysis.errors import InputError


@pytest.fixture
def pdir(tmp_path) -> Path:
    """A copy of params/ (defaults and municipality files) to change freely."""
    target = tmp_path / "params"
    shutil.copytree(paths.PARAMS, target)
    return target


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return info.value


def keys_in(err: InputError) -> set[tuple[str, str | None]]:
    return {(Path(p.file).name if "/" in p.file else p.file, p.column) for p in err.problems}


# --- the layers ----------------------------------------------------------------------------------

def test_defaults_are_the_yaml_file_resolved():
    values = params.load()
    on_disk = yaml.safe_load((paths.PARAMS / "defaults.yaml").read_text(encoding="utf-8"))
    assert values == {**json.loads(json.dumps(on_disk)), "municipality": None}
    assert params.dimension_weights(values) == {"Economy": 1.0, "Environment": 1.0, "Society and Culture": 1.0}


def test_every_key_is_described_and_every_key_has_a_default_in_the_yaml():
    descriptions = params.field_descriptions()
    assert all(text.strip() for text in descriptions.values()), [k for k, v in descriptions.items() if not v]
    on_disk = yaml.safe_load((paths.PARAMS / "defaults.yaml").read_text(encoding="utf-8"))
    top = {k for k in descriptions if "." not in k} - {"municipality"}
    assert top == set(on_disk)


def test_municipality_file_merges_deeply_and_the_municipality_is_its_number():
    values = params.load("Ålesund")
    assert values["municipality"] == "1508"
    assert values["peer_group"] == {"by": "county", "members": []}  # by from Ålesund.yaml, members from defaults
    assert values["target_set"] == "default"
    assert params.load("Tromsø")["target_set"] == "national"  # 5501-tromso.yaml
    assert params.load("5501") == params.load("tromsø") == params.load("TROMSØ")


def test_a_municipality_without_file_gets_the_defaults():
    values = params.load("Bodø")
    assert values["municipality"] == "1804"
    assert {k: v for k, v in values.items() if k != "municipality"} == {
        k: v for k, v in params.load().items() if k != "municipality"}


def test_set_values_are_parsed_once_into_the_typed_object():
    model = params.resolve("Ålesund", params.parse_set(["weights.environment=2", "include_simulated=false",
                                                         "years=[2019, 2020]", "peer_group.members=[Bodø, 5501]",
                                                         "peer_group.by=list"]))
    assert isinstance(model, params.Parameters)
    assert model.weights.environment == 2.0 and model.include_simulated is False
    assert model.years == [2019, 2020]
    assert model.peer_group.members == ["1804", "5501"]  # names resolved to numbers


def test_parse_set_and_deep_merge():
    assert params.parse_set(["a.b.c=1", "a.b.d=x", "e=1.5"]) == {"a": {"b": {"c": 1, "d": "x"}}, "e": 1.5}
    base = {"a": {"b": 1, "c": 2}, "d": [1]}
    out = params.merge(base, {"a": {"b": 5}, "d": [2]})
    assert out == {"a": {"b": 5, "c": 2}, "d": [2]} and base == {"a": {"b": 1, "c": 2}, "d": [1]}
    assert keys_in(error_of(params.parse_set, ["seed"])) == {("--set", None)}
    assert keys_in(error_of(params.parse_set, ["weights=1", "weights.economy=2"])) == {("--set", "weights.economy")}


# --- errors name the file that gave the value, and the key ----------------------------------------

def test_unknown_keys_are_named_with_the_file_that_has_them(pdir):
    write(pdir / "defaults.yaml", (pdir / "defaults.yaml").read_text(encoding="utf-8") + "colour: red\n")
    assert keys_in(error_of(params.load, params_dir=pdir)) == {("defaults.yaml", "colour")}
    write(pdir / "municipalities" / "Bodø.yaml", "invest:\n  draw: 10\n")
    assert ("Bodø.yaml", "invest.draw") in keys_in(error_of(params.load, "Bodø", params_dir=pdir))
    assert keys_in(error_of(params.load, overrides=["synthesis.drawz=5"])) == {("--set", "synthesis.drawz")}


@pytest.mark.parametrize("text, key", [
    ("seed: -1\n", "seed"), ("seed: 1.5\n", "seed"), ("include_simulated: 'yes'\n", "include_simulated"),
    ("years: [2020, 2020]\n", None), ("years: [1800]\n", "years.0"), ("deadline: 3000\n", "deadline"),
    ("weights: {economy: -1}\n", "weights.economy"), ("weights: {economy: .inf}\n", "weights.economy"),
    ("weights: {economy: .nan}\n", "weights.economy"), ("invest: {draws: 1000000000}\n", "invest.draws"),
    ("synthesis: {draws: 5}\n", "synthesis.draws"), ("peer_group: {by: town}\n", "peer_group.by"),
    ("panel: sweden\n", "panel"),
])
def test_a_wrong_value_names_the_municipality_file_and_the_key(pdir, text, key):
    write(pdir / "municipalities" / "Bodø.yaml", text)
    err = error_of(params.load, "Bodø", params_dir=pdir)
    assert all(p.file.endswith("Bodø.yaml") or p.file == "merged parameters" for p in err.problems)
    if key is not None:
        assert ("Bodø.yaml", key) in keys_in(err)


def test_limits_say_what_they_cost():
    err = error_of(params.load, overrides=["invest.draws=1000000000"])
    assert "100000" in str(err) and "invest.draws" in str(err)
    assert "0.1 GB" in params.Invest.model_fields["draws"].description


def test_all_zero_weights_and_nan_are_refused():
    zero = ["weights.economy=0", "weights.environment=0", "weights.society_and_culture=0"]
    assert "sum to 0" in str(error_of(params.load, overrides=zero))
    assert "weights.economy" in str(error_of(params.load, overrides=["weights.economy=.nan"]))
    zero = [f"invest.criteria_weights.{c}=0" for c in ("need", "impact", "feasibility", "cost")]
    err = error_of(params.load, overrides=zero)
    assert "criteria weights sum to 0" in str(err) and err.problems[0].file == "--set"


def test_names_the_data_must_have():
    assert "unknown target set 'nowhere'" in str(error_of(params.load, overrides=["target_set=nowhere"]))
    assert "unknown theme ids ['x']" in str(error_of(params.load, overrides=["invest.theme_priorities.x=2"]))
    assert "unknown synthesis.grouping 'size'" in str(error_of(params.load, overrides=["synthesis.grouping=size"]))
    err = error_of(params.load, overrides=["invest.criteria_weights.luck=1"])
    assert "unknown criteria ['luck']" in str(err) and err.problems[0].file == "--set"


def test_unknown_or_ambiguous_municipalities_and_peers():
    assert "did you mean Tromsø (5501)" in str(error_of(params.load, "Tromso"))
    assert "ambiguous" in str(error_of(params.load, "Herøy"))
    assert "peer_group.members" in str(error_of(params.load, overrides=["peer_group.members=[Atlantis]"]))
    assert "not by --set" in str(error_of(params.load, "Bodø", ["municipality=Asker"]))


def test_the_municipality_is_never_set_in_a_file(pdir):
    write(pdir / "municipalities" / "Bodø.yaml", "municipality: Asker\n")
    assert "chosen by the command" in str(error_of(params.load, "Bodø", params_dir=pdir))


def test_bad_yaml_files(pdir):
    write(pdir / "municipalities" / "Bodø.yaml", "seed: [1,\n")
    assert "not valid YAML" in str(error_of(params.load, "Bodø", params_dir=pdir))
    write(pdir / "municipalities" / "Bodø.yaml", "- 1\n- 2\n")
    assert "mapping" in str(error_of(params.load, "Bodø", params_dir=pdir))
    write(pdir / "municipalities" / "Bodø.yaml", "")
    assert params.load("Bodø", params_dir=pdir)["municipality"] == "1804"


# --- municipality files are named by number, number-slug or name -----------------------------------

def test_municipality_files_by_number_slug_or_name_and_nfd_names(pdir):
    files = params.municipality_files(pdir)
    assert files["5501"].name == "5501-tromso.yaml" and files["1508"].name == "Ålesund.yaml"
    nfd = unicodedata.normalize("NFD", "Bærum.yaml")
    write(pdir / "municipalities" / nfd, "seed: 7\n")
    assert params.load("3201", params_dir=pdir)["seed"] == 7
    assert params.load(unicodedata.normalize("NFD", "Bærum"), params_dir=pdir)["seed"] == 7


def test_a_file_for_no_municipality_or_a_second_file_for_one_is_refused(pdir):
    write(pdir / "municipalities" / "Atlantis.yaml", "seed: 1\n")
    assert ("Atlantis.yaml", "file name") in keys_in(error_of(params.check_all, pdir))
    (pdir / "municipalities" / "Atlantis.yaml").unlink()
    write(pdir / "municipalities" / "5501.yaml", "seed: 1\n")
    assert "a second file for 5501" in str(error_of(params.check_all, pdir))


def test_check_all_real_files():
    checked = params.check_all()
    assert {p.name for p in checked} == {"defaults.yaml", "5501-tromso.yaml", "Ålesund.yaml"}


# --- one parse: what runs and notebooks receive --------------------------------------------------

def test_canonical_form_round_trips_and_hashes_resolved_values():
    model = params.resolve("Ålesund", ["weights.environment=2"])
    canonical = model.canonical()
    assert params.Parameters.model_validate(canonical).canonical() == canonical
    assert json.loads(json.dumps(canonical)) == canonical
    # the same resolved values hash the same however they were written
    assert params.digest(params.load("Ålesund", ["weights.environment=2.0"])) == params.digest(canonical)
    assert params.digest(params.load("Ålesund", ["weights.environment=3"])) != params.digest(canonical)
    assert params.assessment_key(canonical) != params.assessment_key(params.load("Ålesund"))
    assert params.assessment_key(params.load("Ålesund", ["invest.draws=500"])) == params.assessment_key(
        params.load("Ålesund"))  # the investment draws do not change the panel assessment


def test_the_notebook_receives_the_validated_values(tmp_path):
    """The executed profile's injected cell holds the canonical values, not --set strings."""
    import nbformat

    from analysis import pipeline

    model = params.resolve("Bodø", ["weights.environment=2", "target_set=national"])
    target = tmp_path / "profiles" / "1804-bodo.ipynb"
    pipeline.execute("profile", pipeline.notebook_parameters(model, target), target)
    nb = nbformat.read(target, as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(injected.source, {"null": None, "true": True, "false": False}, namespace)
    assert namespace["values"] == model.canonical()
    assert "overrides" not in namespace
    provenance = json.loads((tmp_path / "profiles" / "1804-bodo.provenance.json").read_text(encoding="utf-8"))
    assert provenance["parameters"] == model.canonical() and provenance["kommunenummer"] == "1804"
    assert not math.isnan(provenance["parameters"]["weights"]["economy"])


def test_the_keys_table_in_the_docs_is_the_models():
    doc = (paths.ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert params.keys_table() in doc
