"""Run parameters: defaults, municipality overrides, --set values, and errors that name the file and key."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
import yaml

from analysis import municipalities, params, paths, targets
from analysis.errors import InputError

NAMES = ["Ålesund", "Tromsø", "Bodø", "Asker", "Bærum"]


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
    return {(p.file, p.column) for p in err.problems}


# --- defaults and overrides ---------------------------------------------------------------------

def test_defaults_load():
    values = params.load()
    on_disk = yaml.safe_load((paths.PARAMS / "defaults.yaml").read_text(encoding="utf-8"))
    assert values == on_disk
    assert values["target_set"] == "default" and isinstance(values["seed"], int)
    assert params.dimension_weights(values) == {"Economy": 1.0, "Environment": 1.0, "Society and Culture": 1.0}


def test_municipality_override_merges():
    values = params.load("Ålesund")
    assert values["municipality"] == "Ålesund"
    assert values["peer_group"]["by"] == "county"          # from Ålesund.yaml
    assert values["peer_group"]["members"] == []            # kept from defaults (deep merge)
    assert values["target_set"] == "default"                # untouched
    assert params.load("Tromsø")["target_set"] == "national"


def test_municipality_without_file_gets_defaults():
    values = params.load("Bodø")
    assert values["municipality"] == "Bodø"
    assert {k: v for k, v in values.items() if k != "municipality"} == params.load()


def test_set_overrides_with_yaml_types():
    values = params.load("Ålesund", overrides=["weights.environment=2", "include_simulated=false",
                                                "years=[2019, 2020]", "peer_group.by=all"])
    assert values["weights"]["environment"] == 2 and isinstance(values["weights"]["environment"], int)
    assert values["weights"]["economy"] == 1.0                # sibling kept
    assert values["include_simulated"] is False
    assert values["years"] == [2019, 2020]
    assert values["peer_group"]["by"] == "all"                 # --set wins over the municipality file
    assert params.dimension_weights(values)["Environment"] == 2.0


def test_parse_set():
    assert params.parse_set(["a.b.c=1", "a.b.d=x", "e=1.5"]) == {"a": {"b": {"c": 1, "d": "x"}}, "e": 1.5}


def test_merge_is_deep_and_does_not_mutate():
    base = {"a": {"b": 1, "c": 2}, "d": [1]}
    out = params.merge(base, {"a": {"b": 5}, "d": [2]})
    assert out == {"a": {"b": 5, "c": 2}, "d": [2]}
    assert base == {"a": {"b": 1, "c": 2}, "d": [1]}


# --- bad input ----------------------------------------------------------------------------------

def test_set_without_equals():
    err = error_of(params.load, overrides=["seed"])
    assert err.problems[0].file == "--set" and "seed" in str(err)


def test_set_dotted_key_under_a_scalar_is_an_input_error():
    # 'weights=1' makes weights a number; a later 'weights.economy=2' must be reported, not crash
    err = error_of(params.load, overrides=["weights=1", "weights.economy=2"])
    assert err.problems[0].file == "--set"


def test_unknown_top_level_key(pdir):
    path = pdir / "defaults.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "colour_scheme: blue\n", encoding="utf-8")
    err = error_of(params.load, params_dir=pdir)
    assert keys_in(err) == {(str(path), "colour_scheme")}
    assert "unknown key" in str(err) and f"key 'colour_scheme'" in str(err)


def test_unknown_nested_key(pdir):
    path = write(pdir / "municipalities" / "Ålesund.yaml", "weights:\n  enviroment: 2\n")
    err = error_of(params.load, "Ålesund", params_dir=pdir)
    assert keys_in(err) == {(str(path), "weights.enviroment")}
    assert "environment" in err.problems[0].message  # the allowed keys are listed


def test_unknown_key_in_set():
    err = error_of(params.load, overrides=["invest.criteria_weights.luck=1"])
    assert keys_in(err) == {("--set", "invest.criteria_weights.luck")}


@pytest.mark.parametrize("text, key", [
    ("seed: abc\n", "seed"),
    ("include_simulated: maybe\n", "include_simulated"),
    ("weights:\n  economy: -1\n", "weights.economy"),
    ("years: [2020, 2020]\n", "years"),
    ("peer_group:\n  by: region\n", "peer_group.by"),
])
def test_wrong_type_names_file_and_key(pdir, text, key):
    path = write(pdir / "municipalities" / "Bodø.yaml", text)
    err = error_of(params.load, "Bodø", params_dir=pdir)
    assert keys_in(err) == {(str(path), key)}
    assert str(path) in str(err) and f"key '{key}'" in str(err)


def test_wrong_type_in_set():
    err = error_of(params.load, overrides=["seed=abc"])
    assert keys_in(err) == {("--set", "seed")}


def test_unknown_municipality():
    known = list(municipalities.load()["municipality"])
    err = error_of(params.load, "Atlantis", known_municipalities=known)
    assert err.problems[0].column == "municipality" and "Atlantis" in str(err)


def test_known_municipality_resolves_to_panel_spelling():
    known = list(municipalities.load()["municipality"])
    assert params.load("ålesund", known_municipalities=known)["municipality"] == "Ålesund"


def test_lower_case_name_still_reads_the_municipality_file():
    # resolve() accepts 'ålesund' as Ålesund, so its override file must apply too
    known = list(municipalities.load()["municipality"])
    assert params.load("ålesund", known_municipalities=known)["peer_group"]["by"] == "county"


def test_unknown_peer_in_municipality_file_names_the_file(pdir):
    path = write(pdir / "municipalities" / "Ålesund.yaml", "peer_group:\n  by: list\n  members: [Atlantis]\n")
    err = error_of(params.load, "Ålesund", params_dir=pdir, known_municipalities=NAMES)
    assert "Atlantis" in str(err)
    assert keys_in(err) == {(str(path), "peer_group.members")}


def test_unknown_target_set():
    err = error_of(params.load, overrides=["target_set=martian"], known_target_sets=["default", "national"])
    assert err.problems[0].column == "target_set" and "martian" in str(err)


def test_unknown_target_set_in_municipality_file_names_the_file(pdir):
    path = write(pdir / "municipalities" / "Tromsø.yaml", "target_set: martian\n")
    err = error_of(params.load, "Tromsø", params_dir=pdir, known_target_sets=["default", "national"])
    assert keys_in(err) == {(str(path), "target_set")}


def test_invalid_yaml(pdir):
    path = write(pdir / "municipalities" / "Bodø.yaml", "weights: [economy: 1\n")
    err = error_of(params.load, "Bodø", params_dir=pdir)
    assert err.problems[0].file == str(path) and "not valid YAML" in str(err)


def test_non_mapping_yaml(pdir):
    path = write(pdir / "defaults.yaml", "- seed\n- 1\n")
    err = error_of(params.load, params_dir=pdir)
    assert err.problems[0].file == str(path) and "mapping" in str(err)


def test_empty_municipality_file_is_allowed(pdir):
    write(pdir / "municipalities" / "Bodø.yaml", "# nothing to change\n")
    assert params.load("Bodø", params_dir=pdir)["peer_group"]["by"] == "all"


def test_check_all_real_files():
    known = list(municipalities.load()["municipality"])
    sets = targets.target_sets(targets.load())
    checked = params.check_all(known_municipalities=known, known_target_sets=sets)
    assert paths.PARAMS / "defaults.yaml" in checked
    assert {p.name for p in checked} >= {"defaults.yaml", "Ålesund.yaml", "Tromsø.yaml"}


def test_check_all_unknown_municipality_file(pdir):
    path = write(pdir / "municipalities" / "Atlantis.yaml", "seed: 1\n")
    err = error_of(params.check_all, pdir, known_municipalities=NAMES)
    assert err.problems[0].file == str(path) and "Atlantis" in str(err)
    assert err.problems[0].column == "file name"


def test_check_all_bad_key_in_municipality_file(pdir):
    path = write(pdir / "municipalities" / "Bodø.yaml", "sed: 1\n")
    err = error_of(params.check_all, pdir, known_municipalities=NAMES)
    assert keys_in(err) == {(str(path), "sed")}


# --- Norwegian names ----------------------------------------------------------------------------

def test_norwegian_file_name(pdir):
    write(pdir / "municipalities" / "Tromsø.yaml", "seed: 7\n")
    values = params.load("Tromsø", params_dir=pdir, known_municipalities=NAMES)
    assert values["seed"] == 7 and values["municipality"] == "Tromsø"


def test_nfd_typed_name_resolves_to_nfc():
    nfd = unicodedata.normalize("NFD", "Ålesund")
    assert nfd != "Ålesund"
    values = params.load(nfd)
    assert values["municipality"] == "Ålesund"
    assert unicodedata.is_normalized("NFC", values["municipality"])
    assert values["peer_group"]["by"] == "county"  # Ålesund.yaml was found
    known = list(municipalities.load()["municipality"])
    assert params.load(nfd, known_municipalities=known)["municipality"] == "Ålesund"


def test_nfd_file_name_on_disk_is_read(pdir):
    # a file saved under an NFD name (e.g. copied from macOS) is the same municipality
    (pdir / "municipalities" / "Ålesund.yaml").unlink()
    write(pdir / "municipalities" / (unicodedata.normalize("NFD", "Ålesund") + ".yaml"), "seed: 11\n")
    assert params.load("Ålesund", params_dir=pdir)["seed"] == 11


def test_check_all_reads_nfd_file_name(pdir):
    (pdir / "municipalities" / "Ålesund.yaml").unlink()
    path = write(pdir / "municipalities" / (unicodedata.normalize("NFD", "Ålesund") + ".yaml"), "sed: 1\n")
    err = error_of(params.check_all, pdir, known_municipalities=NAMES)
    assert err.problems[0].file == str(path)


def test_unknown_theme_priority_and_grouping_are_named_before_any_notebook(tmp_path):
    """Theme ids and grouping columns are checked at parameter time, naming the key."""
    known = params.known_names()
    with pytest.raises(InputError, match=r"invest\.theme_priorities.*gold_mining"):
        params.load("Ålesund", ["invest.theme_priorities.gold_mining=2"], **known)
    with pytest.raises(InputError, match=r"synthesis\.grouping.*'size'"):
        params.load(None, ["synthesis.grouping=size"], known_target_sets=known["known_target_sets"],
                    known_groupings=known["known_groupings"])
    first = known["known_themes"][0]
    assert params.load("Ålesund", [f"invest.theme_priorities.{first}=2"], **known)[
        "invest"]["theme_priorities"] == {first: 2}


def test_all_zero_weights_are_rejected():
    with pytest.raises(InputError, match="weights"):
        params.load(None, ["weights.economy=0", "weights.environment=0", "weights.society_and_culture=0"])
