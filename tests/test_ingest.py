"""City-supplied data: the Excel template, and strict, clear, deterministic ingest of workbooks and CSVs."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from analysis import ingest, observations
from analysis.errors import InputError

HEADER = ["municipality", "data_point_id", "value", "year", "source"]


@pytest.fixture(scope="module")
def ids(cat) -> dict[str, str]:
    """One data point id per kind of unit, chosen from the registry."""
    def first(pred):
        return cat.loc[cat["unit"].map(pred), "data_point_id"].iloc[0]
    return {"pct": first(lambda u: u == "%"), "pct2": cat.loc[cat["unit"] == "%", "data_point_id"].iloc[1],
            "count": first(lambda u: u.startswith("number of")), "yes_no": first(lambda u: u == "Yes/No"),
            "per100k": first(lambda u: u.endswith("per 100 000 inhabitants"))}


def write_csv(path: Path, rows: list[list], header: list[str] = HEADER, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def leftovers(directory: Path) -> list[Path]:
    return sorted(directory.glob(".*.tmp*")) if directory.exists() else []


def fill_template(path: Path, values: dict[str, tuple]) -> dict[str, int]:
    """Fill value/year/source for the given data points; return each one's sheet row."""
    wb = load_workbook(path)
    ws = wb[ingest.SHEET]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) + 1 for name in header}
    where = {}
    for r in range(2, ws.max_row + 1):
        dp = ws.cell(r, col["data_point_id"]).value
        if dp in values:
            value, year, source = values[dp]
            ws.cell(r, col["value"], value)
            ws.cell(r, col["year"], year)
            ws.cell(r, col["source"], source)
            where[dp] = r
    wb.save(path)
    return where


# --- template -----------------------------------------------------------------------------------

def test_template_for_tromso(tmp_path, cat):
    target = tmp_path / "Tromsø.xlsx"
    assert ingest.write_template("Tromsø", target, cat) == target
    assert target.exists()
    wb = load_workbook(target)
    assert ingest.SHEET in wb.sheetnames
    ws = wb[ingest.SHEET]
    header = [c.value for c in ws[1]]
    assert set(ingest.REQUIRED) <= set(header)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(cat) == 112
    assert [r[header.index("data_point_id")] for r in rows] == list(cat["data_point_id"])
    assert {r[header.index("municipality")] for r in rows} == {"Tromsø"}
    assert {r[header.index("registry_unit")] for r in rows} == set(cat["unit"])
    assert all(r[header.index("value")] is None for r in rows)
    validations = ws.data_validations.dataValidation
    assert len(validations) > 0
    covered = " ".join(str(v.sqref) for v in validations)
    value_col = chr(ord("A") + header.index("value"))
    year_col = chr(ord("A") + header.index("year"))
    assert value_col in covered and year_col in covered
    assert leftovers(tmp_path) == []


def test_filled_template_is_ingested(tmp_path, cat, ids):
    template = ingest.write_template("Tromsø", tmp_path / "Tromsø.xlsx", cat)
    filled = {ids["pct"]: (85.5, 2023, "SSB table 1"), ids["yes_no"]: ("Yes", 2024, "kommuneplan"),
              ids["count"]: (12, 2022, "open data portal")}
    fill_template(template, filled)
    out = tmp_path / "out"
    result = ingest.ingest(template, cat=cat, out_dir=out)
    target = out / "Tromsø.csv"
    assert result.written == [target]
    assert result.problems == []
    assert result.skipped_empty == len(cat) - len(filled)
    written = pd.read_csv(target, encoding="utf-8")
    assert list(written.columns) == list(observations.COLUMNS)
    assert sorted(written["data_point_id"]) == sorted(filled)
    assert (written["municipality"] == "Tromsø").all()
    assert (written["source_type"] == "city-supplied").all()
    assert (written["status"] == "reported").all()
    units = cat.set_index("data_point_id")["unit"]
    for row in written.itertuples():
        value, year, source = filled[row.data_point_id]
        assert row.value == (1.0 if value == "Yes" else value)
        assert row.year == year
        assert row.source == source
        assert row.unit == units[row.data_point_id]
    assert observations.validate(written, target, cat) == []
    assert leftovers(out) == []


def test_csv_input(tmp_path, cat, ids):
    nfd = unicodedata.normalize("NFD", "Tromsø")
    path = write_csv(tmp_path / "in.csv", [[nfd, ids["pct"], "97,5", "2023", "SSB"],
                                          [nfd, ids["per100k"], "95 424", "2023", "Nkom"],
                                          [nfd, ids["pct2"], "", "", ""]])
    out = tmp_path / "out"
    result = ingest.ingest(path, cat=cat, out_dir=out)
    assert result.skipped_empty == 1
    assert [p.name for p in out.iterdir()] == ["Tromsø.csv"]  # NFC file name
    written = pd.read_csv(out / "Tromsø.csv", encoding="utf-8").set_index("data_point_id")
    assert written.loc[ids["pct"], "value"] == 97.5
    assert written.loc[ids["per100k"], "value"] == 95424
    assert (written["source_type"] == "city-supplied").all()


def test_status_and_comment_columns_are_kept(tmp_path, cat, ids):
    path = write_csv(tmp_path / "in.csv", [["Bodø", ids["pct"], "40", "2023", "SSB", "partial", "only centre"]],
                     header=HEADER + ["status", "comment"])
    ingest.ingest(path, cat=cat, out_dir=tmp_path / "out")
    row = pd.read_csv(tmp_path / "out" / "Bodø.csv", encoding="utf-8").iloc[0]
    assert (row["status"], row["note"]) == ("partial", "only centre")


# --- bad input ----------------------------------------------------------------------------------

def _rows(ids, **change):
    """Two valid rows; ``change`` maps 'r<index>_<column>' to a new cell text."""
    rows = [["Bodø", ids["pct"], "50", "2023", "SSB"], ["Bodø", ids["count"], "7", "2023", "SSB"]]
    for key, text in change.items():
        r, column = key.split("_", 1)
        rows[int(r[1:])][HEADER.index(column)] = text
    return rows


def _csv(**change):
    return lambda tmp, ids: write_csv(tmp / "bad.csv", _rows(ids, **change))


def _duplicate(tmp, ids):
    return write_csv(tmp / "bad.csv", _rows(ids) + [_rows(ids)[0]])


def _wrong_unit(tmp, ids):
    rows = [r + [u] for r, u in zip(_rows(ids), ["kg", ""])]
    return write_csv(tmp / "bad.csv", rows, header=HEADER + ["unit"])


def _empty(tmp, ids):
    path = tmp / "bad.csv"
    path.write_bytes(b"")
    return path


def _header_only(tmp, ids):
    return write_csv(tmp / "bad.csv", [])


def _wrong_sheet(tmp, ids):
    wb = Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(HEADER)
    wb.active.append(_rows(ids)[0])
    wb.save(tmp / "bad.xlsx")
    return tmp / "bad.xlsx"


def _latin1(tmp, ids):
    return write_csv(tmp / "bad.csv", [["Bærum", ids["pct"], "50", "2023", "SSB"]], encoding="latin-1")


def _extension(tmp, ids):
    return write_csv(tmp / "bad.ods", _rows(ids))


def _blank_line_then_bad_row(tmp, ids):
    path = tmp / "bad.csv"
    path.write_text(f"{','.join(HEADER)}\nBodø,{ids['pct']},50,2023,SSB\n\nBodø,{ids['pct2']},120,2023,SSB\n",
                    encoding="utf-8")
    return path


# (make the file, expected row, expected column); row None for faults of the whole file
BAD = [
    pytest.param(_csv(r1_data_point_id="EC: XX: 99"), 3, "data_point_id", id="unknown-id"),
    pytest.param(_csv(r0_value="120"), 2, "value", id="percent-120"),
    pytest.param(_csv(r1_value="-4"), 3, "value", id="negative-count"),
    pytest.param(_wrong_unit, 2, "unit", id="wrong-unit"),
    pytest.param(_csv(r1_value="lots"), 3, "value", id="not-a-number"),
    pytest.param(_duplicate, 4, "data_point_id", id="duplicate-row"),
    pytest.param(_csv(r0_year=""), 2, "year", id="missing-year"),
    pytest.param(_csv(r0_year="last year"), 2, "year", id="year-not-a-number"),
    pytest.param(_csv(r1_source=""), 3, "source", id="missing-source"),
    pytest.param(_latin1, 2, None, id="latin-1-encoding"),
    pytest.param(_blank_line_then_bad_row, 4, "value", id="row-number-after-blank-line"),
    pytest.param(_empty, None, None, id="empty-file"),
    pytest.param(_header_only, None, None, id="header-only"),
    pytest.param(_wrong_sheet, None, None, id="wrong-sheet"),
    pytest.param(_extension, None, None, id="unsupported-extension"),
]


@pytest.mark.parametrize(("make", "row", "column"), BAD)
def test_bad_input_is_rejected_clearly_and_nothing_written(tmp_path, cat, ids, make, row, column):
    path = make(tmp_path, ids)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError) as info:
        ingest.ingest(path, cat=cat, out_dir=out)
    message = str(info.value)
    assert str(path) in message
    if row is not None:
        assert f"row {row}" in message
        assert any(p.row == row for p in info.value.problems)
    if column is not None:
        assert f"column '{column}'" in message
        assert any(p.row == row and p.column == column for p in info.value.problems)
    assert list(out.iterdir()) == []


def test_wrong_sheet_message_names_the_sheet(tmp_path, cat, ids):
    with pytest.raises(InputError, match="'data'"):
        ingest.ingest(_wrong_sheet(tmp_path, ids), cat=cat, out_dir=tmp_path / "out")


def test_bad_value_in_workbook_names_the_sheet_row(tmp_path, cat, ids):
    template = ingest.write_template("Tromsø", tmp_path / "Tromsø.xlsx", cat)
    where = fill_template(template, {ids["pct"]: (120, 2023, "SSB"), ids["count"]: (3, 2023, "SSB")})
    with pytest.raises(InputError) as info:
        ingest.ingest(template, cat=cat, out_dir=tmp_path / "out")
    assert [(p.row, p.column) for p in info.value.problems] == [(where[ids["pct"]], "value")]
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_every_problem_is_reported(tmp_path, cat, ids):
    path = write_csv(tmp_path / "bad.csv", _rows(ids, r0_value="120", r1_value="lots"))
    with pytest.raises(InputError) as info:
        ingest.ingest(path, cat=cat, out_dir=tmp_path / "out")
    assert {(p.row, p.column) for p in info.value.problems} == {(2, "value"), (3, "value")}


def test_accept_partial_writes_only_valid_rows(tmp_path, cat, ids):
    rows = [["Bodø", ids["pct"], "50", "2023", "SSB"], ["Bodø", ids["pct2"], "120", "2023", "SSB"],
            ["Bodø", ids["count"], "7", "2023", "SSB"], ["Bodø", "EC: XX: 99", "1", "2023", "SSB"]]
    path = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "out"
    result = ingest.ingest(path, cat=cat, out_dir=out, accept_partial=True)
    assert {(p.row, p.column) for p in result.problems} == {(3, "value"), (5, "data_point_id")}
    written = pd.read_csv(out / "Bodø.csv", encoding="utf-8")
    assert sorted(written["data_point_id"]) == sorted([ids["pct"], ids["count"]])
    assert len(result.accepted) == 2
    assert leftovers(out) == []


# --- determinism and atomic writes --------------------------------------------------------------

def test_ingest_twice_is_byte_identical(tmp_path, cat, ids):
    template = ingest.write_template("Tromsø", tmp_path / "Tromsø.xlsx", cat)
    fill_template(template, {ids["pct"]: (33.3333333333, 2023, "SSB"), ids["count"]: (5, 2021, "x"),
                             ids["yes_no"]: ("No", 2020, "y")})
    first = ingest.ingest(template, cat=cat, out_dir=tmp_path / "a").written[0].read_bytes()
    second_path = ingest.ingest(template, cat=cat, out_dir=tmp_path / "a").written[0]
    assert second_path.read_bytes() == first
    assert ingest.ingest(template, cat=cat, out_dir=tmp_path / "b").written[0].read_bytes() == first
    assert leftovers(tmp_path / "a") == [] and leftovers(tmp_path / "b") == []


def test_no_temp_files_after_failure_or_success(tmp_path, cat, ids):
    out = tmp_path / "out"
    good = write_csv(tmp_path / "good.csv", _rows(ids))
    ingest.ingest(good, cat=cat, out_dir=out)
    before = (out / "Bodø.csv").read_bytes()
    with pytest.raises(InputError):
        ingest.ingest(write_csv(tmp_path / "bad.csv", _rows(ids, r0_value="120")), cat=cat, out_dir=out)
    assert leftovers(out) == []
    assert [p.name for p in out.iterdir()] == ["Bodø.csv"]
    assert (out / "Bodø.csv").read_bytes() == before  # a rejected file never overwrites accepted data


def test_load_city_supplied_reads_what_ingest_wrote(tmp_path, cat, ids):
    out = tmp_path / "out"
    ingest.ingest(write_csv(tmp_path / "in.csv", _rows(ids)), cat=cat, out_dir=out)
    loaded = ingest.load_city_supplied(out, cat)
    assert len(loaded) == 2 and (loaded["source_type"] == "city-supplied").all()
    assert ingest.load_city_supplied(tmp_path / "empty-dir-that-has-no-csv", cat).empty


def test_csv_saved_by_excel_with_bom(tmp_path, cat, ids):
    path = tmp_path / "in.csv"
    path.write_text(f"{','.join(HEADER)}\nBodø,{ids['pct']},50,2023,SSB\n", encoding="utf-8-sig")
    result = ingest.ingest(path, cat=cat, out_dir=tmp_path / "out")
    assert len(result.accepted) == 1


@pytest.mark.parametrize("name", ["../evil", "..", "a/b", "a\\b", ".hidden", "Bad\x07name"])
def test_municipality_name_cannot_escape_the_output_folder(tmp_path, name):
    src = tmp_path / "in.csv"
    pd.DataFrame([{"municipality": name, "data_point_id": "EC: ICT: ICT: 1C", "value": 90, "year": 2022,
                   "source": "s"}]).to_csv(src, index=False)
    out = tmp_path / "out" / "city"
    with pytest.raises(InputError) as info:
        ingest.ingest(src, out_dir=out)
    assert "column 'municipality'" in str(info.value) and "row 2" in str(info.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.csv"))
    assert not (tmp_path / "evil.csv").exists()


def test_second_ingest_merges_and_replaces_only_the_same_cells(tmp_path):
    out = tmp_path / "city"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    pd.DataFrame([
        {"municipality": "Bærum", "data_point_id": "EC: ICT: ICT: 1C", "value": 90, "year": 2022, "source": "a"},
        {"municipality": "Bærum", "data_point_id": "EC: ICT: ICT: 2C", "value": 50, "year": 2022, "source": "a"},
    ]).to_csv(first, index=False)
    pd.DataFrame([
        {"municipality": "Bærum", "data_point_id": "EC: ICT: ICT: 2C", "value": 55, "year": 2022, "source": "b"},
        {"municipality": "Bærum", "data_point_id": "EC: ICT: ICT: 2C", "value": 60, "year": 2023, "source": "b"},
    ]).to_csv(second, index=False)
    ingest.ingest(first, out_dir=out)
    result = ingest.ingest(second, out_dir=out)
    stored = pd.read_csv(out / "Bærum.csv")
    assert result.replaced == 1
    assert len(stored) == 3
    cell = stored[(stored["data_point_id"] == "EC: ICT: ICT: 2C") & (stored["year"] == 2022)]
    assert cell["value"].item() == 55 and cell["source"].item() == "b"
    assert stored.loc[stored["data_point_id"] == "EC: ICT: ICT: 1C", "value"].item() == 90
