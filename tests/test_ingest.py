"""City-supplied data: the Excel template, and strict, clear, deterministic ingest of workbooks and CSVs."""

from __future__ import annotations

import csv
import re
import zipfile
from decimal import Decimal
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
    target = out / "5501-tromso.csv"
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
    assert [p.name for p in out.iterdir()] == ["5501-tromso.csv"]  # named by number and slug
    written = pd.read_csv(out / "5501-tromso.csv", encoding="utf-8").set_index("data_point_id")
    assert written.loc[ids["pct"], "value"] == 97.5
    assert written.loc[ids["per100k"], "value"] == 95424
    assert (written["source_type"] == "city-supplied").all()


def test_status_and_comment_columns_are_kept(tmp_path, cat, ids):
    path = write_csv(tmp_path / "in.csv", [["Bodø", ids["pct"], "96", "2023", "SSB", "partial", "only centre"]],
                     header=HEADER + ["status", "comment"])
    ingest.ingest(path, cat=cat, out_dir=tmp_path / "out")
    row = pd.read_csv(tmp_path / "out" / "1804-bodo.csv", encoding="utf-8").iloc[0]
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
    written = pd.read_csv(out / "1804-bodo.csv", encoding="utf-8")
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
    before = (out / "1804-bodo.csv").read_bytes()
    with pytest.raises(InputError):
        ingest.ingest(write_csv(tmp_path / "bad.csv", _rows(ids, r0_value="120")), cat=cat, out_dir=out)
    assert leftovers(out) == []
    assert [p.name for p in out.iterdir()] == ["1804-bodo.csv"]
    assert (out / "1804-bodo.csv").read_bytes() == before  # a rejected file never overwrites accepted data


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


def test_csv_saved_by_a_spreadsheet_in_a_norwegian_locale(tmp_path, cat, ids):
    """Semicolons between fields and decimal commas, as a spreadsheet in a Norwegian locale saves a CSV: read as the
    comma-separated file with the same cells, and a broken quote is still found in its row."""
    rows = [["Bodø", ids["pct"], "97,5", "2023", "SSB; tabell 12345"],
            ["Bodø", ids["per100k"], "95 424", "2023", "Nkom"]]
    semicolon = tmp_path / "semikolon.csv"
    semicolon.write_text(";".join(HEADER) + "\n" + "".join(
        ";".join(f'"{c}"' if ";" in c else c for c in row) + "\n" for row in rows), encoding="utf-8-sig")
    comma = write_csv(tmp_path / "komma.csv", rows)
    a = ingest.ingest(semicolon, cat=cat, out_dir=tmp_path / "a").accepted
    b = ingest.ingest(comma, cat=cat, out_dir=tmp_path / "b").accepted
    assert len(a) == 2 and a["value"].tolist() == [97.5, 95424.0] and a["source"].iloc[0] == "SSB; tabell 12345"
    pd.testing.assert_frame_equal(a.drop(columns="ingested_from", errors="ignore").reset_index(drop=True),
                                  b.drop(columns="ingested_from", errors="ignore").reset_index(drop=True))
    broken = tmp_path / "brutt.csv"
    broken.write_text(";".join(HEADER) + "\nBodø;" + ids["pct"] + ';50;2023;"SSB\nBodø;x;1;2023;s\n',
                      encoding="utf-8")
    with pytest.raises(InputError) as info:
        ingest.ingest(broken, cat=cat, out_dir=tmp_path / "c")
    assert "row 2" in str(info.value) and "never closed" in str(info.value)
    assert not (tmp_path / "c").exists()


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
    stored = pd.read_csv(out / "3201-baerum.csv")
    assert result.replaced == 1
    assert len(stored) == 3
    cell = stored[(stored["data_point_id"] == "EC: ICT: ICT: 2C") & (stored["year"] == 2022)]
    assert cell["value"].item() == 55 and cell["source"].item() == "b"
    assert stored.loc[stored["data_point_id"] == "EC: ICT: ICT: 1C", "value"].item() == 90


# --- real documents: units, formats, statuses, quality -------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
PCT, SUBS, WIFI, GDP, SERVICES = ("EC: ICT: ICT: 1C", "EC: ICT: ICT: 3C", "EC: ICT: ICT: 5C", "SC: SH: SA: 2C",
                                  "EC: ICT: PS: 2A")


def fill_cells(path: Path, cells: dict[str, dict], formats: dict[str, str] | None = None) -> dict[str, int]:
    """Set any input cells of the template for the given data points (year and source default); return the rows."""
    wb = load_workbook(path)
    ws = wb[ingest.SHEET]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) + 1 for name in header}
    where = {}
    for r in range(2, ws.max_row + 1):
        dp = ws.cell(r, col["data_point_id"]).value
        if dp in cells:
            for name, value in {"year": 2020, "source": "report p. 6", **cells[dp]}.items():
                ws.cell(r, col[name], value)
            if formats and dp in formats:
                ws.cell(r, col["value"]).number_format = formats[dp]
            where[dp] = r
    wb.save(path)
    return where


def ingest_cells(tmp_path, cells, formats=None, **kwargs):
    template = ingest.write_template("Giske", tmp_path / "Giske.xlsx")
    where = fill_cells(template, cells, formats)
    out = tmp_path / "out"
    return template, where, out, lambda: ingest.ingest(template, out_dir=out, reference=REFERENCE, **kwargs)


REFERENCE = pd.DataFrame(columns=list(observations.COLUMNS))
"""No panel to compare with (the plausibility check is tested on its own)."""


def rejected(run) -> list[tuple[int, str, str]]:
    with pytest.raises(InputError) as info:
        run()
    return [(p.row, p.column, p.message) for p in info.value.problems]


def test_template_has_status_printed_unit_quality_and_verified_columns(tmp_path, cat):
    ws = load_workbook(ingest.write_template("Giske", tmp_path / "t.xlsx", cat))[ingest.SHEET]
    header = [c.value for c in ws[1]]
    assert {"printed_unit", "status", "quality_level", "verified", "registry_unit"} <= set(header)
    by_column = {}
    for rule in ws.data_validations.dataValidation:
        for rng in str(rule.sqref).split():
            by_column.setdefault(re.match(r"[A-Z]+", rng)[0], []).append(rule)
    letter = {name: chr(ord("A") + header.index(name)) for name in header}
    status = [r for r in by_column[letter["status"]] if r.type == "list"]
    assert status and status[0].formula1 == '"reported,not_reported,not_applicable,partial"'
    quality = by_column[letter["quality_level"]][0]
    assert quality.type == "list" and quality.formula1.count(",") == 5
    assert by_column[letter["verified"]][0].formula1 == '"Yes,No"'
    # value checks only warn, so 'Not Reported' or '2,74 %' can be typed
    assert {r.errorStyle for r in by_column[letter["value"]]} == {"warning"}
    assert {"about", "units"} <= set(load_workbook(tmp_path / "t.xlsx").sheetnames)


@pytest.mark.parametrize(("text", "expected"), [
    ("2,74", "2.74"), ("2.74", "2.74"), ("95 424", "95424"), ("95\u00a0424", "95424"), ("95\u202f424", "95424"),
    ("1 234 567,5", "1234567.5"), ("1,234.5", "1234.5"), ("1.234,5", "1234.5"), ("1,234,567", "1234567"),
    ("0,001", "0.001"), ("12,5", "12.5"), ("1,2345", "1.2345"), ("-4", "-4"), ("100", "100"),
])
def test_numbers_as_typed(text, expected):
    assert ingest.parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize(("text", "says"), [
    ("1,234", "ambiguous"), ("12,345", "ambiguous"), ("9 54 24", "groups of three"), ("1,23,4", "not a number"),
    ("1.234,5,6", "groups of three"), ("abc", "not a number"),
])
def test_numbers_that_cannot_be_read_without_guessing(text, says):
    with pytest.raises(ingest.CellError, match=says):
        ingest.parse_decimal(text)


def test_printed_units_that_mean_the_registry_unit_are_accepted_unconverted(tmp_path):
    _, _, out, run = ingest_cells(tmp_path, {
        SUBS: {"value": "95 424", "printed_unit": "/ 100 000 inhabitants"},
        GDP: {"value": "0,001", "printed_unit": "% GDP"},
        SERVICES: {"value": 246, "printed_unit": "Services"},
        PCT: {"value": "97.00 %"},
    })
    run()
    got = pd.read_csv(out / "1532-giske.csv").set_index("data_point_id")
    assert got.loc[SUBS, ["value", "value_text", "unit"]].tolist() == [
        95424, "95 424 / 100 000 inhabitants", "subscriptions per 100 000 inhabitants"]
    assert got.loc[GDP, ["value", "value_text", "unit"]].tolist() == [0.001, "0,001 % GDP", "% of city GDP"]
    assert got.loc[SERVICES, ["value", "value_text"]].tolist() == [246, "246 Services"]
    assert got.loc[PCT, ["value", "value_text"]].tolist() == [97, "97.00 %"]
    assert got["note"].isna().all()  # nothing converted, nothing to record


def test_real_conversions_are_applied_and_recorded(tmp_path):
    _, _, out, run = ingest_cells(tmp_path, {PCT: {"value": "27,4", "printed_unit": "‰"},
                                             "EC: ICT: ICT: 2C": {"value": 0.8451, "printed_unit": "0-1"},
                                             "EC: ICT: WS: 1C": {"value": "5 ‰"}})
    accepted = run().accepted.set_index("data_point_id")["value"]
    assert accepted[PCT] == 2.74 and accepted["EC: ICT: ICT: 2C"] == 84.51  # decimal arithmetic, exactly
    got = pd.read_csv(out / "1532-giske.csv").set_index("data_point_id")
    assert got.loc[PCT, "value"] == 2.74 and got.loc[PCT, "value_text"] == "27,4 ‰"
    assert "converted from 27.4 ‰ to 2.74 %" in got.loc[PCT, "note"]
    assert "× 100" in got.loc["EC: ICT: ICT: 2C", "note"]
    assert got.loc["EC: ICT: WS: 1C", "value"] == pytest.approx(0.5)


def test_any_other_unit_is_refused_naming_the_expected_unit(tmp_path):
    _, where, _, run = ingest_cells(tmp_path, {SUBS: {"value": 95, "printed_unit": "%"},
                                               WIFI: {"value": "12 kg"}})
    problems = rejected(run)
    assert [(r, c) for r, c, _ in problems] == [(where[SUBS], "printed_unit"), (where[WIFI], "value")]
    assert "'subscriptions per 100 000 inhabitants'" in problems[0][2]
    assert "'kg'" in problems[1][2] and "'number of public Wi-Fi hotspots'" in problems[1][2]


def test_percentage_formatted_cell_is_read_as_shown(tmp_path):
    _, _, out, run = ingest_cells(tmp_path, {PCT: {"value": 0.0274}}, formats={PCT: "0.00%"})
    run()
    row = pd.read_csv(out / "1532-giske.csv").iloc[0]
    assert row["value"] == 2.74 and row["value_text"] == "2.74 %"
    assert "formatted as a percentage (stored 0.0274" in row["note"]


def test_percentage_format_on_a_count_is_refused(tmp_path):
    _, where, _, run = ingest_cells(tmp_path, {WIFI: {"value": 0.78}}, formats={WIFI: "0%"})
    [(row, column, message)] = rejected(run)
    assert (row, column) == (where[WIFI], "value")
    assert "formatted as a percentage" in message and "'number of public Wi-Fi hotspots'" in message


def test_unit_column_that_disagrees_with_the_number_format_is_refused(tmp_path):
    _, where, _, run = ingest_cells(tmp_path, {PCT: {"value": 0.0274, "printed_unit": "‰"},
                                               SUBS: {"value": 0.95, "printed_unit": "/ 100 000 inhabitants"}},
                                    formats={PCT: "0.00%", SUBS: "0.00%"})
    problems = rejected(run)
    assert [(r, c) for r, c, _ in problems] == [(where[PCT], "printed_unit"), (where[SUBS], "printed_unit")]
    assert all("formatted as a percentage" in m for _, _, m in problems)


def test_unit_typed_in_the_value_cell_must_agree_with_the_unit_column(tmp_path):
    _, where, _, run = ingest_cells(tmp_path, {PCT: {"value": "2,74 %", "printed_unit": "‰"}})
    [(row, column, message)] = rejected(run)
    assert (row, column) == (where[PCT], "printed_unit") and "disagrees" in message


@pytest.mark.parametrize(("typed", "status"), [
    ("Not Reported", "not_reported"), ("NOT REPORTED", "not_reported"), ("NR", "not_reported"),
    ("ikke rapportert", "not_reported"), ("N/A", "not_applicable"), ("n/a", "not_applicable"),
])
def test_not_reported_in_the_value_cell(tmp_path, typed, status):
    _, _, out, run = ingest_cells(tmp_path, {PCT: {"value": typed}})
    run()
    row = pd.read_csv(out / "1532-giske.csv", **ingest.STORED).iloc[0]
    assert (row["status"], row["value_text"]) == (status, typed) and pd.isna(row["value"])


def test_not_reported_in_the_status_cell(tmp_path):
    _, _, out, run = ingest_cells(tmp_path, {PCT: {"status": "Not Reported"}, SUBS: {"status": "not_applicable"}})
    run()
    got = pd.read_csv(out / "1532-giske.csv").set_index("data_point_id")
    assert got.loc[PCT, ["status", "value_text"]].tolist() == ["not_reported", "Not Reported"]
    assert got.loc[SUBS, "status"] == "not_applicable" and got["value"].isna().all()


def test_status_that_contradicts_the_value_is_refused(tmp_path):
    _, where, out, run = ingest_cells(tmp_path, {PCT: {"value": 12, "status": "not_reported"},
                                                 SUBS: {"value": "Not Reported", "status": "reported"},
                                                 WIFI: {"status": "reported"},
                                                 GDP: {"value": 1, "status": "maybe"}})
    problems = rejected(run)
    assert [(r, c) for r, c, _ in problems] == [(where[PCT], "status"), (where[SUBS], "status"),
                                                (where[WIFI], "value"), (where[GDP], "status")]
    assert "contradicts the value 12" in problems[0][2]
    assert "contradicts the value cell 'Not Reported'" in problems[1][2]
    assert "empty but status is 'reported'" in problems[2][2]
    assert "expected one of" in problems[3][2]
    assert not out.exists()


def test_quality_level_and_verified(tmp_path):
    _, _, out, run = ingest_cells(tmp_path, {PCT: {"value": 97, "quality_level": "3 higher-level data",
                                                   "verified": "Ja"},
                                             SUBS: {"value": 95424, "quality_level": 1, "verified": "No"},
                                             WIFI: {"value": 78}})
    run()
    got = pd.read_csv(out / "1532-giske.csv").set_index("data_point_id")
    assert got.loc[PCT, ["quality_level", "verified"]].tolist() == [3, True]
    assert got.loc[SUBS, ["quality_level", "verified"]].tolist() == [1, False]
    assert got.loc[WIFI, ["quality_level", "verified"]].isna().all()
    assert observations.validate(got.reset_index(), out / "1532-giske.csv") == []


def test_bad_quality_level_and_verified_name_the_cell(tmp_path):
    _, where, _, run = ingest_cells(tmp_path, {PCT: {"value": 97, "quality_level": 7, "verified": "maybe"}})
    problems = rejected(run)
    assert [(r, c) for r, c, _ in problems] == [(where[PCT], "quality_level"), (where[PCT], "verified")]
    assert "1–6" in problems[0][2] and "accurate measurements" in problems[0][2]


def test_schema_checks_quality_columns(cat):
    frame = pd.DataFrame([{"municipality": "Giske", "data_point_id": PCT, "year": 2020, "value": 50.0,
                           "value_text": "50", "unit": "%", "status": "reported", "source_type": "city-supplied",
                           "source": "s", "note": None, "quality_level": 9, "verified": "perhaps"}])
    assert [p.column for p in observations.validate(frame, "f.csv", cat)] == ["quality_level", "verified"]
    old = frame.drop(columns=["quality_level", "verified"])  # files from before the columns existed
    assert observations.validate(old, "f.csv", cat) == []
    assert list(observations.tidy(old).columns) == list(observations.COLUMNS)


def test_published_verification_report_rows_are_verified(cat):
    published = observations.load_published(cat=cat)
    report = published["source"].str.contains("Verification Report")
    assert report.any() and (~report).any()
    assert published.loc[report, "verified"].eq(True).all()
    assert published.loc[~report, "verified"].isna().all()  # the factsheet says nothing about verification
    assert published["quality_level"].isna().all()  # collected by the verifiers, never printed


def test_one_unit_normalisation_for_every_source():
    aliases, conversions = observations.load_unit_aliases(), observations.load_unit_conversions()
    read = observations.normalise_unit
    assert read("% / City GDP", "% of city GDP", aliases, conversions).how == "alias"
    assert read("% gdp", "% of city GDP", aliases, conversions).how == "alias"  # case and spacing
    assert read("Minutes", "minutes", aliases, conversions).how == "registry"
    assert read("‰", "%", aliases, conversions).factor == 0.1
    assert read("0–1", "%", aliases, conversions).factor == 100  # an en dash typed
    assert read("kg", "%", aliases, conversions) is None


def test_date_cell_is_refused(tmp_path):
    import datetime
    _, where, _, run = ingest_cells(tmp_path, {PCT: {"value": datetime.datetime(2020, 2, 74 // 10)}})
    [(row, column, message)] = rejected(run)
    assert (row, column) == (where[PCT], "value") and "is a date" in message


# --- plausibility ------------------------------------------------------------------------------------

def test_far_outside_the_panel_warns_and_keeps_the_value(tmp_path, cat):
    # panel 10, 11, 12, 13: Q1 = 10.75, Q3 = 12.25, IQR = 1.5, far-out fences [6.25, 16.75]
    reference = pd.DataFrame([{"municipality": m, "data_point_id": PCT, "year": 2020, "value": v,
                               "status": "reported", "source_type": "published"}
                              for m, v in zip("ABCD", (10, 11, 12, 13))])
    path = write_csv(tmp_path / "in.csv", [["Giske", PCT, "50", "2020", "s"], ["Sula", PCT, "16,7", "2020", "s"],
                                           ["Aukra", PCT, "6", "2020", "s"]])
    result = ingest.ingest(path, cat=cat, out_dir=tmp_path / "out", reference=reference)
    assert [(w.row, w.column) for w in result.warnings] == [(2, "value"), (4, "value")]
    assert "[6.25, 16.75]" in result.warnings[0].message
    giske = pd.read_csv(tmp_path / "out" / "1532-giske.csv").iloc[0]
    assert giske["value"] == 50 and "plausibility warning" in giske["note"]
    assert pd.isna(pd.read_csv(tmp_path / "out" / "1531-sula.csv").iloc[0]["note"])


def test_cli_exits_0_with_warnings_and_says_so(tmp_path, cat):
    import subprocess
    import sys
    path = write_csv(tmp_path / "in.csv", [["Giske", "EC: ICT: ICT: 2C", "1", "2020", "s"]])  # panel: 84–98 %
    result = subprocess.run([sys.executable, "-m", "analysis", "ingest", str(path), "--out", str(tmp_path / "o")],
                            capture_output=True, text=True, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stdout and "warnings do not block" in result.stdout


# --- limits and hostile workbooks --------------------------------------------------------------------

def test_formula_in_a_value_cell_is_reported_not_dropped(tmp_path):
    _, where, out, run = ingest_cells(tmp_path, {PCT: {"value": "=0.5*100"}, SUBS: {"value": 95424}})
    [(row, column, message)] = rejected(run)
    assert (row, column) == (where[PCT], "value")
    assert "formula '=0.5*100'" in message and "no computed value" in message
    assert not out.exists()


def test_zip_bomb_is_refused_before_parsing(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (ingest.MAX_UNCOMPRESSED_BYTES + 1))
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(InputError, match=r"unpacks to 50 MB; the limit is 50 MB"):
        ingest.ingest(bomb, out_dir=tmp_path / "out")


def test_too_many_zip_members_and_too_large_files_are_refused(tmp_path, monkeypatch):
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w") as z:
        for k in range(ingest.MAX_MEMBERS + 1):
            z.writestr(f"m{k}", b"")
    with pytest.raises(InputError, match=f"holds {ingest.MAX_MEMBERS + 1} files; the limit is"):
        ingest.ingest(many, out_dir=tmp_path / "out")
    template = ingest.write_template("Giske", tmp_path / "Giske.xlsx")
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 1000)
    with pytest.raises(InputError, match="the limit is 0 MB"):
        ingest.ingest(template, out_dir=tmp_path / "out")


def test_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_ROWS", 50)
    with pytest.raises(InputError, match="more than 50 data rows; the limit is 50"):
        ingest.ingest(ingest.write_template("Giske", tmp_path / "Giske.xlsx"), out_dir=tmp_path / "out")
    rows = [["Giske", PCT, "1", str(1950 + k), "s"] for k in range(51)]
    with pytest.raises(InputError, match="51 data rows; the limit is 50"):
        ingest.ingest(write_csv(tmp_path / "in.csv", rows), out_dir=tmp_path / "out")


def test_municipality_name_longer_than_the_limit_is_refused(tmp_path):
    name = "Å" * (ingest.MAX_NAME_LENGTH + 1)
    path = write_csv(tmp_path / "in.csv", [[name, PCT, "1", "2020", "s"]])
    with pytest.raises(InputError) as info:
        ingest.ingest(path, out_dir=tmp_path / "out", reference=REFERENCE)
    [problem] = info.value.problems
    assert (problem.row, problem.column) == (2, "municipality")
    assert problem.message == f"a municipality name has at most {ingest.MAX_NAME_LENGTH} characters (found '{'Å' * 60}…')"
    assert len(str(problem)) < 300  # the name is not repeated in full
    with pytest.raises(InputError, match="a municipality number or name has at most 100"):
        ingest.write_template(name, tmp_path / "t.xlsx")


def test_workbook_resaved_by_libreoffice_is_read_as_entered(tmp_path):
    result = ingest.ingest(FIXTURES / "libreoffice_resaved.xlsx", out_dir=tmp_path, reference=REFERENCE)
    got = pd.read_csv(tmp_path / "1532-giske.csv").set_index("data_point_id")
    assert got.loc[PCT, ["value", "value_text", "quality_level", "verified"]].tolist() == [97, "97 %", 1, True]
    assert got.loc["EC: ICT: ICT: 2C", ["value", "value_text"]].tolist() == [84.51, "84,51 %"]
    assert got.loc[SUBS, ["value", "value_text"]].tolist() == [95424, "95 424 / 100 000 inhabitants"]
    assert got.loc[WIFI, ["value", "quality_level"]].tolist() == [78, 6]
    assert got.loc["EC: ICT: WS: 1C", ["status", "value_text"]].tolist() == ["not_reported", "Not Reported"]
    assert result.skipped_empty == 112 - 5


def test_workbook_resaved_by_libreoffice_with_bad_cells(tmp_path):
    path = FIXTURES / "libreoffice_resaved_bad.xlsx"
    with pytest.raises(InputError) as info:
        ingest.ingest(path, out_dir=tmp_path / "out", reference=REFERENCE)
    assert [(p.file, p.row, p.column) for p in info.value.problems] == [(str(path), 2, "value"),
                                                                        (str(path), 3, "status")]
    assert "last showed 97" in info.value.problems[0].message  # LibreOffice saved the computed value
    assert not (tmp_path / "out").exists()


# --- the command line on bad documents: exit 2, file, row and column named, nothing written -----------

def _template_with(cells, formats=None):
    def make(tmp):
        template = ingest.write_template("Giske", tmp / "Giske.xlsx")
        where = fill_cells(template, cells, formats)
        return template, where[next(iter(cells))]
    return make


def _bomb(tmp):
    path = tmp / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (ingest.MAX_UNCOMPRESSED_BYTES + 1))
    return path, None


def _long_name(tmp):
    return write_csv(tmp / "in.csv", [["x" * 500, PCT, "1", "2020", "s"]]), 2


def _libreoffice_bad(tmp):
    return FIXTURES / "libreoffice_resaved_bad.xlsx", 2


# (make the file -> (path, expected row), expected column, words the message must contain)
CLI_BAD = [
    pytest.param(_template_with({PCT: {"value": "=A1*100"}}), "value", "formula", id="formula"),
    pytest.param(_template_with({PCT: {"value": "1,234"}}), "value", "ambiguous", id="ambiguous-comma"),
    pytest.param(_template_with({PCT: {"value": 12, "status": "Not Reported"}}), "status", "contradicts",
                 id="not-reported-with-a-number"),
    pytest.param(_template_with({SUBS: {"value": 95, "printed_unit": "kg"}}), "printed_unit",
                 "'subscriptions per 100 000 inhabitants'", id="unknown-unit"),
    pytest.param(_template_with({WIFI: {"value": 0.5}}, {WIFI: "0.00%"}), "value", "formatted as a percentage",
                 id="percentage-format-on-a-count"),
    pytest.param(_template_with({PCT: {"value": 0.5, "printed_unit": "‰"}}, {PCT: "0.00%"}), "printed_unit",
                 "formatted as a percentage", id="unit-disagrees-with-format"),
    pytest.param(_template_with({PCT: {"value": 50, "quality_level": "good"}}), "quality_level", "1–6",
                 id="quality-level"),
    pytest.param(_bomb, None, "the limit is 50 MB", id="zip-bomb"),
    pytest.param(_long_name, "municipality", "has at most 100 characters", id="long-name"),
    pytest.param(_libreoffice_bad, "value", "formula", id="libreoffice-resaved"),
]


@pytest.mark.parametrize(("make", "column", "words"), CLI_BAD)
def test_cli_refuses_bad_documents(tmp_path, capsys, make, column, words):
    from analysis import cli
    path, row = make(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["ingest", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and words in err
    if row is not None:
        assert f"row {row}, column '{column}'" in err
    assert not out.exists()


def test_a_column_twice_in_the_header_is_refused(tmp_path):
    path = write_csv(tmp_path / "in.csv", [["Giske", PCT, "1", "2020", "s", "2"]], header=HEADER + ["value"])
    with pytest.raises(InputError, match=r"row 1: columns \['value'\] appear more than once"):
        ingest.ingest(path, out_dir=tmp_path / "out")


@pytest.mark.parametrize(("number_format", "scaled"), [
    ("0.00%", True), ("0%", True), ("#,##0.0%;[Red]-#,##0.0%", True),
    ('0.0"%"', False), ("0.0\\%", False), ("General", False), ("#,##0", False), (None, False),
])
def test_which_number_formats_show_a_percentage(number_format, scaled):
    # a quoted or escaped % is a literal sign: the cell shows its stored value, so nothing is rescaled
    assert ingest.is_percent_format(number_format) is scaled
