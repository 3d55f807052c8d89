"""Cities outside Norway: ids, file names, resolution beside Norway's municipalities, and where they are refused."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import cities, municipalities, params, paths, profile, synthesis
from analysis.errors import InputError
from analysis.national import fetch

REGISTRY = """id,name,country,national_code,source,population,population_year,population_source,area_km2,area_source
SE-1280,Malmö,SE,1280,"Statistics Sweden (SCB), kommunkoder",,,,,
DK-101,København,DK,101,"Statistics Denmark, kommunekoder",1000,2024,test fixture (not a real figure),86.4,test fixture
SE-1281,Lund,SE,1281,"Statistics Sweden (SCB), kommunkoder",,,,,
SE-1480,Göteborg,SE,1480,"Statistics Sweden (SCB), kommunkoder",,,,,
DE-11000000,Berlin – Straße,DE,11000000,test fixture,,,,,
XK-pristina,Prishtinë,XK,,test fixture (no national code),,,,,
"""


@pytest.fixture
def registered(tmp_path, monkeypatch) -> municipalities.Registry:
    """The registry with six cities outside Norway registered in a temporary city-supplied folder."""
    folder = tmp_path / "city_supplied"
    folder.mkdir()
    (folder / cities.FILE_NAME).write_text(REGISTRY, encoding="utf-8")
    monkeypatch.setattr(paths, "CITY_SUPPLIED", folder)
    return municipalities.registry()


def test_ids_file_names_and_labels(registered):
    got = {e.kommunenummer: (e.label, e.slug, e.country) for e in registered.foreign}
    assert got == {
        "SE-1280": ("Malmö", "SE-1280-malmo", "SE"),
        "DK-101": ("København", "DK-101-kobenhavn", "DK"),
        "SE-1281": ("Lund (SE)", "SE-1281-lund", "SE"),  # Lund is also 1112 in Rogaland: the label says the country
        "SE-1480": ("Göteborg", "SE-1480-goteborg", "SE"),
        "DE-11000000": ("Berlin – Straße", "DE-11000000-berlin-strasse", "DE"),
        "XK-pristina": ("Prishtinë", "XK-pristina-prishtine", "XK"),
    }
    assert all(e.county is None and e.current and e.foreign for e in registered.foreign)


@pytest.mark.parametrize("text,expected", [("SE-1280", "SE-1280"), ("se-1280", "SE-1280"), ("SE-1280-malmo", "SE-1280"),
                                           ("Malmö", "SE-1280"), ("MALMÖ", "SE-1280"), ("Lund (SE)", "SE-1281"),
                                           ("Malmo\u0308", "SE-1280"), ("København", "DK-101"), ("Tromsø", "5501"),
                                           ("1112", "1112")])
def test_resolution_by_id_file_name_or_name(registered, text, expected):
    assert registered.resolve(text).kommunenummer == expected
    if expected[:2].isalpha():  # a city outside Norway has no history: the same entity in every year
        assert registered.resolve(text, 2019) is registered.resolve(text)


def test_a_shared_name_is_ambiguous_and_a_near_miss_gets_a_hint(registered):
    with pytest.raises(InputError, match=r"'Lund' is ambiguous: Lund 1112, Lund \(SE\) SE-1281"):
        registered.resolve("Lund")
    with pytest.raises(InputError, match=r"did you mean Malmö \(SE-1280\)"):
        registered.resolve("Malmø")
    with pytest.raises(InputError, match="must first be registered in .*cities.csv"):
        registered.resolve("Stockholm")
    with pytest.raises(InputError, match=r"kommunenummer alone \('0301'\)"):
        registered.resolve("NO-301")


def test_cities_belong_to_no_panel_and_keep_their_values(registered):
    assert len(registered.current()) == 357 and all(not e.foreign for e in municipalities.members("norway"))
    assert "SE-1280" not in set(registered.frame()["kommunenummer"])
    who = municipalities.attribute(pd.Series(["Malmö", "SE-1281"]), pd.Series([2019, 2024]), "f.csv")
    assert who[["municipality", "kommunenummer", "reported_kommunenummer", "mapping_note"]].values.tolist() == [
        ["Malmö", "SE-1280", "SE-1280", ""], ["Lund (SE)", "SE-1281", "SE-1281", ""]]


def test_the_registry_follows_its_file(registered):
    file = cities.path()
    file.write_text(REGISTRY.replace("Göteborg", "Gothenburg"), encoding="utf-8")
    assert municipalities.registry().resolve("SE-1480").name == "Gothenburg"
    file.unlink()
    assert municipalities.registry().foreign == []


@pytest.mark.parametrize("text,expected", [("5501-tromso", "5501"), ("5501", "5501"), ("SE-1280-malmo", "SE-1280"),
                                           ("SE-1280", "SE-1280"), ("XK-pristina-prishtine", "XK-pristina"),
                                           ("Aurskog-Høland", "Aurskog-Høland"), ("Ålesund", "Ålesund")])
def test_key_of_a_file_name(text, expected):
    assert cities.key_of(text) == expected


def test_facts_carry_their_sources(registered):
    assert cities.facts(registered.cities["DK-101"]) == (
        "Denmark, national code 101, population 1\u202f000 (2024; test fixture (not a real figure)), "
        "area 86.4 km² (test fixture)")
    assert cities.facts(registered.cities["XK-pristina"]) == "Kosovo"


def test_parameters_of_a_city_resolve_to_its_id_and_its_own_file(registered, tmp_path):
    own = tmp_path / "params"
    (own / "municipalities").mkdir(parents=True)
    (own / "defaults.yaml").write_bytes((paths.PARAMS / "defaults.yaml").read_bytes())
    (own / "municipalities" / "SE-1280-malmo.yaml").write_text("seed: 7\n", encoding="utf-8")
    assert params.municipality_files(own) == {"SE-1280": own / "municipalities" / "SE-1280-malmo.yaml"}
    values = params.load("Malmö", params_dir=own)
    assert (values["municipality"], values["seed"]) == ("SE-1280", 7)


def test_no_national_statistics_are_fetched_for_a_city_outside_norway(registered):
    with pytest.raises(InputError, match="Malmö .SE-1280. is a city outside Norway"):
        fetch.resolve(["Malmö"], [2022])


def test_the_profile_says_what_does_not_apply(registered):
    e = registered.resolve("Lund (SE)")
    values = params.load(overrides=["target_set=national", "peer_group.by=county"])
    note = profile.outside_norway_note(e, registered.cities[e.kommunenummer], values, ["Aukra", "Lund (SE)", "Molde"])
    assert "Lund (SE) (SE-1281; Sweden, national code 1281) is a city outside Norway" in note
    assert "the 2 other municipalities of this run (it has no county" in note
    assert "Not applicable to it: county, kommunenummer and municipality history" in note
    assert "target set `national`" in note


def test_county_group_tests_place_everyone_outside_the_panel_explicitly(registered):
    panel = pd.DataFrame({"municipality": ["Aukra", "Molde"], "county": ["Møre og Romsdal"] * 2,
                          "in_first_round_of_12": ["yes", "no"], "kommunenummer": ["1547", "1506"]})
    names = ["Aukra", "Bergen", "Malmö", "Molde"]
    groups = synthesis.groups_of(panel, "county", names)
    assert groups.to_dict() == {"Aukra": "Møre og Romsdal", "Molde": "Møre og Romsdal", "Bergen": "Vestland",
                                "Malmö": None}
    assert synthesis.groups_of(panel, "in_first_round_of_12", names).drop(["Aukra", "Molde"]).isna().all()
    note = synthesis.grouping_note(panel, "county", names)
    assert "Left out of the group tests by `county`: Malmö (SE-1280) is a city outside Norway" in note
    assert "Placed in the group tests by `county`: Bergen is outside the panel; its county comes from the registry" in note
    assert synthesis.grouping_note(panel, "county", ["Aukra", "Molde"]) == ""
