"""The municipality registry: numbers, validity periods, mergers, splits, renumbering and name resolution."""

import csv

import pandas as pd
import pytest

from analysis import municipalities, paths
from analysis.errors import InputError


@pytest.fixture(scope="module")
def reg():
    return municipalities.registry()


def test_today_has_the_357_municipalities_of_the_2024_list(reg):
    with open(paths.MUNICIPALITIES_2024, encoding="utf-8") as f:
        numbers = sorted(r["kommunenummer"] for r in csv.DictReader(f))
    assert [e.kommunenummer for e in reg.current()] == numbers
    assert len(numbers) == 357
    names = [e.name for e in reg.current()]
    assert len(set(names)) == len(names)  # labels are unique


def test_duplicate_names_are_refused_with_the_candidates(reg):
    with pytest.raises(InputError) as err:
        reg.resolve("Herøy", file="params.yaml", column="municipality")
    text = str(err.value)
    assert "params.yaml" in text and "ambiguous" in text
    assert "Herøy (Møre og Romsdal) 1515" in text and "Herøy (Nordland) 1818" in text
    assert reg.resolve("Herøy (Nordland)").kommunenummer == "1818"
    assert reg.resolve("1515").name == "Herøy (Møre og Romsdal)"


def test_names_match_case_unicode_form_and_parallel_forms(reg):
    decomposed = "A\u030alesund"  # Å as A + combining ring
    assert reg.resolve(decomposed).kommunenummer == "1508"
    assert reg.resolve("TROMSØ").kommunenummer == "5501"
    assert reg.resolve("  tromsø ").kommunenummer == "5501"
    assert reg.resolve("Trondheim").kommunenummer == "5001"  # official name 'Trondheim - Tråante'
    assert reg.resolve("Tråante").kommunenummer == "5001"
    assert reg.resolve("Oslo").name == "Oslo - Oslove"


def test_a_near_miss_gets_did_you_mean(reg):
    with pytest.raises(InputError, match=r"did you mean Tromsø \(5501\)"):
        reg.resolve("Tromso")


def test_numbers_follow_their_period(reg):
    assert reg.resolve("1902", year=2019).name == "Tromsø"
    assert reg.resolve("Tromsø", year=2019).kommunenummer == "1902"
    assert reg.resolve("Tromsø", year=2022).kommunenummer == "5401"
    with pytest.raises(InputError, match=r"1902 \(Tromsø\) was valid …–2019, not today; its successor today is 5501"):
        reg.resolve("1902")
    with pytest.raises(InputError, match="unknown municipality number '9999'"):
        reg.resolve("9999")
    assert reg.resolve("301").kommunenummer == "0301"  # a spreadsheet dropped the leading zero


def test_a_renumbering_carries_the_value_over(reg):
    m = reg.successor("1902", 2019)
    assert (m.kommunenummer, m.rule, m.clean) == ("5501", "renumber", True)
    assert reg.number_in_year("5501", 2019) == ["1902"]
    assert reg.number_in_year("5501", 2022) == ["5401"]
    assert reg.successor("3025", 2022).kommunenummer == "3203"


def test_a_merger_leaves_the_value_with_the_former_municipality(reg):
    m = reg.successor("1504", 2019)  # old Ålesund, merged with four others in 2020
    assert m.kommunenummer == "1504" and not m.clean and m.rule.startswith("merger")
    assert "a value of one part is not a value of the whole" in m.note
    # Klæbu joined Trondheim (the change table calls it a renumbering, but the name differs)
    assert reg.successor("5030", 2019).kommunenummer == "5030"
    assert reg.number_in_year("3203", 2019) == ["0220", "0627", "0628"]  # Asker, Røyken, Hurum


def test_a_split_carries_the_value_to_the_continuing_municipality_with_a_note(reg):
    m = reg.successor("1507", 2021)  # Ålesund 2020–2023, Haram left in 2024
    assert m.kommunenummer == "1508" and not m.clean and m.rule == "split: continuing municipality"
    assert "Haram 1580" in m.note
    # Snillfjord (5012) was split in 2020 into three parts, none keeping its name
    assert reg.successor("5012", 2019).kommunenummer == "5012"


def test_a_rename_keeps_the_number_and_the_former_name_still_resolves(reg):
    assert reg.resolve("Hattfjelldal").kommunenummer == "1826"
    assert reg.resolve("Hattfjelldal").name == "Aarborte - Hattfjelldal"


def test_attribute_maps_observations_to_todays_municipality():
    names = pd.Series(["Tromsø", "Ålesund", "Asker"])
    years = pd.Series([2019, 2020, 2020])
    out = municipalities.attribute(names, years, "obs.csv")
    assert out["kommunenummer"].tolist() == ["5501", "1508", "3203"]
    assert out["reported_kommunenummer"].tolist() == ["1902", "1507", "3025"]
    assert out["municipality"].tolist() == ["Tromsø", "Ålesund", "Asker"]
    assert "split" in out["mapping_note"][1]


def test_attribute_reports_every_bad_row_with_file_row_and_column():
    with pytest.raises(InputError) as err:
        municipalities.attribute(pd.Series(["Herøy", "Nowhere", "Bodø"]), pd.Series([2020, 2020, 2020]), "x.csv",
                                 rows=pd.Series([5, 6, 7]))
    rows = [(p.file, p.row, p.column) for p in err.value.problems]
    assert rows == [("x.csv", 5, "municipality"), ("x.csv", 6, "municipality")]


def test_attribute_rows_keeps_the_good_rows_and_names_each_bad_one_by_its_own_row():
    out, problems = municipalities.attribute_rows(pd.Series(["Nowhere", "Bodø", "Nowhere", "TROMSØ"]),
                                                  pd.Series([2020, 2020, 2021, 2024]), "b.xlsx",
                                                  rows=pd.Series([2, 3, 4, 5]))
    assert [(p.row, p.column) for p in problems] == [(2, "municipality"), (4, "municipality")]
    assert out["kommunenummer"].fillna("").tolist() == ["", "1804", "", "5501"]
    assert out["municipality"].fillna("").tolist() == ["", "Bodø", "", "Tromsø"]


def test_slugs_are_ascii_and_carry_the_number(reg):
    assert reg.resolve("Tromsø").slug == "5501-tromso"
    assert reg.resolve("Bærum").slug == "3201-baerum"
    assert reg.resolve("1818").slug == "1818-heroy-nordland"
    slugs = [e.slug for e in reg.current()]
    assert len(set(slugs)) == len(slugs)


def test_the_project_panel_is_17_numbers_and_norway_is_357():
    panel = municipalities.load()
    assert len(panel) == 17 and panel["kommunenummer"].is_unique
    assert set(panel["municipality"]) >= {"Ålesund", "Tromsø", "Bærum", "Trondheim - Tråante"}
    assert len(municipalities.load("norway")) == 357


def test_a_panel_file_with_duplicates_or_wrong_names_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "municipalities.csv"
    path.write_text("kommunenummer,municipality\n5501,Tromsø\n5501,Tromsø\n1508,Bergen\n9999,X\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        municipalities.panel_numbers(path)
    found = [(p.row, p.column) for p in err.value.problems]
    assert (3, "kommunenummer") in found and (4, "municipality") in found and (5, "kommunenummer") in found


def _copy_raw(tmp_path, monkeypatch):
    import shutil
    for name in ("MUNICIPALITIES_2020", "MUNICIPALITIES_2024", "MUNICIPALITY_CHANGES", "MUNICIPALITIES"):
        src = getattr(paths, name)
        shutil.copy(src, tmp_path / src.name)
        monkeypatch.setattr(paths, name, tmp_path / src.name)
    municipalities._registry_cached.cache_clear()
    return tmp_path


def test_the_municipality_tables_pass_their_schemas():
    municipalities.check_tables()


@pytest.mark.parametrize("file, old, new, row, column", [
    ("norway_municipalities_2024.csv", "0301,Oslo - Oslove", "301,Oslo - Oslove", 2, "kommunenummer"),
    ("norway_municipalities_2024.csv", "1101,Eigersund,11", "1101,Eigersund,1X", 3, "county_number"),
    ("norway_municipalities_2024.csv", "1101,Eigersund", "0301,Eigersund", 3, "kommunenummer"),
    ("norway_municipality_changes.csv", "0101,Halden,3001,Halden,2020-01-01,renumber",
     "0101,Halden,3001,Halden,2020-01-01,moved", 2, "kind"),
    ("norway_municipality_changes.csv", "0101,Halden,3001,Halden,2020-01-01,renumber",
     "0101,Halden,3001,Halden,2020-01-01,rename", 2, "new_number"),
    ("municipalities.csv", "1103,Stavanger,yes", "1103,Stavanger,maybe", 2, "in_first_round_of_12"),
])
def test_a_broken_municipality_table_names_file_row_and_column(tmp_path, monkeypatch, file, old, new, row, column):
    folder = _copy_raw(tmp_path, monkeypatch)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    try:
        with pytest.raises(InputError) as err:
            municipalities.check_tables()
    finally:
        municipalities._registry_cached.cache_clear()
    assert (file, row, column) in {(p.file.rsplit("/", 1)[-1], p.row, p.column) for p in err.value.problems}
