"""The project's own bad-input suite: every case must stop with exit code 2, a message that names the file
(and the row and column where there is one), and leave every file as it was.

Each case copies ``data/raw`` and ``params`` into a temporary project, points ``analysis.paths`` at it,
corrupts one input and runs the command line in-process (``analysis.cli.main``). Cases that fail today
because of code outside this suite's scope are marked ``xfail(strict=True)`` with the reason, so they
turn into failures (to un-mark) once fixed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openpyxl import Workbook

from analysis import cli, ingest, paths, raw

RAW_FILES = tuple(sorted(raw.TABLES))
"""Every table of data/raw (the list of analysis.raw, which a test holds equal to the folder)."""
COMMAND = {**{name: "build" for name in RAW_FILES}, "targets.csv": "check-params", "investment_themes.csv": "check-params"}
"""The command that reads each raw file first: ``build`` validates every raw table (analysis.raw), ``check-params``
the names parameters refer to."""


@dataclass
class Project:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def snapshot(self) -> dict[str, str]:
        return {str(p.relative_to(self.root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(self.root.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path, monkeypatch) -> Project:
    """A copy of data/raw and params with ``analysis.paths`` pointing at it (outputs in the copy too)."""
    root = tmp_path / "project"
    shutil.copytree(paths.RAW, root / "data" / "raw")
    shutil.copytree(paths.PARAMS, root / "params")
    raw = root / "data" / "raw"
    moved = {"RAW": raw, "PARAMS": root / "params", "PROCESSED": root / "data" / "processed",
             "EXTERNAL": root / "data" / "external", "CITY_SUPPLIED": root / "data" / "external" / "city_supplied",
             "OLD_CITY_SUPPLIED": root / "data" / "processed" / "city_supplied", "REPORTS": root / "reports",
             "CATALOGUE": raw / "kpi_catalogue.csv", "MUNICIPALITIES": raw / "municipalities.csv",
             "MUNICIPALITIES_2020": raw / "norway_municipalities_2020.csv",
             "MUNICIPALITIES_2024": raw / "norway_municipalities_2024.csv",
             "MUNICIPALITY_CHANGES": raw / "norway_municipality_changes.csv",
             "PUBLISHED": raw / "published_observations.csv", "LABEL_ALIASES": raw / "label_aliases.csv",
             "UNIT_ALIASES": raw / "unit_aliases.csv", "TARGETS": raw / "targets.csv",
             "THEMES": raw / "investment_themes.csv"}
    for name, value in moved.items():
        monkeypatch.setattr(paths, name, value)
    return Project(root)


@pytest.fixture(scope="module")
def repository_inputs() -> dict[str, str]:
    """The repository's own inputs, which no case may touch."""
    files = [p for folder in (paths.RAW, paths.PARAMS, paths.CITY_SUPPLIED) if folder.exists()
             for p in sorted(folder.rglob("*")) if p.is_file()]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


# --- corrupting a CSV --------------------------------------------------------------------------------

def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def set_cell(column: str, value: str, row: int = 2) -> Callable[[str], str]:
    """Put ``value`` into ``column`` of spreadsheet row ``row`` (the header is row 1)."""
    def change(text: str) -> str:
        rows = _rows(text)
        rows[row - 1][rows[0].index(column)] = value
        return _text(rows)
    return change


def drop_column(column: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        rows = _rows(text)
        j = rows[0].index(column)
        return _text([r[:j] + r[j + 1:] for r in rows])
    return change


def rename_column(column: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        rows = _rows(text)
        rows[0][rows[0].index(column)] = new
        return _text(rows)
    return change


def duplicate_row(row: int = 2) -> Callable[[str], str]:
    def change(text: str) -> str:
        rows = _rows(text)
        return _text(rows[:row] + [rows[row - 1]] + rows[row:])
    return change


def empty(text: str) -> str:
    return ""


def header_only(text: str) -> str:
    return text.splitlines()[0] + "\n"


def semicolons(text: str) -> str:
    return _text([[";".join(r)] for r in _rows(text)]).replace('"', "")


def unbalanced_quote(text: str) -> str:
    """An opening quote in row 3 that is never closed: a reader would swallow every row after it."""
    lines = text.splitlines(keepends=True)
    lines[2] = '"' + lines[2]
    return "".join(lines)


def not_utf8(text: str) -> bytes:
    """Row 3 saved as Latin-1 (a byte that is not UTF-8)."""
    lines = text.encode("utf-8").splitlines(keepends=True)
    lines[2] = lines[2].rstrip(b"\n") + b"\xe6\xf8\xe5\n"
    return b"".join(lines)


def binary(text: str) -> bytes:
    return bytes(range(256)) * 4


def delete(text: str) -> None:
    return None


@dataclass
class Case:
    """One bad input: the file to corrupt (or write), how, the command, and what the message must name."""

    id: str
    file: str | None
    change: Callable | None
    command: list[str] = field(default_factory=list)
    expect: tuple[str, ...] = ()
    xfail: str | None = None

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.xfail)] if self.xfail else []
        return pytest.param(self, id=self.id, marks=marks)


def _generic_cases() -> list[Case]:
    """Damage every raw file the same ways: empty, header only, not UTF-8, binary, unbalanced quote,
    semicolon-separated, missing, a duplicated row."""
    cases = []
    for file in RAW_FILES:
        stem = file.removesuffix(".csv")
        cases += [
            Case(f"{stem}-empty", file, empty, expect=(file, "empty")),
            Case(f"{stem}-header-only", file, header_only, expect=(file,)),
            Case(f"{stem}-not-utf8", file, not_utf8, expect=(file, "row 3", "UTF-8")),
            Case(f"{stem}-binary", file, binary, expect=(file, "UTF-8")),
            Case(f"{stem}-unbalanced-quote", file, unbalanced_quote, expect=(file, "row 3", "quote")),
            Case(f"{stem}-semicolons", file, semicolons, expect=(file,)),
            Case(f"{stem}-missing", file, delete, expect=(file, "not found")),
            Case(f"{stem}-duplicate-row", file, duplicate_row(2), expect=(file, "row 3")),
        ]
    return cases


def _column_cases() -> list[Case]:
    """Damage one required column or cell of each raw file."""
    return [
        Case("catalogue-no-unit-column", "kpi_catalogue.csv", drop_column("unit"), expect=("kpi_catalogue.csv", "unit")),
        Case("catalogue-renamed-id-column", "kpi_catalogue.csv", rename_column("data_point_id", "id"),
             expect=("kpi_catalogue.csv", "data_point_id")),
        Case("catalogue-empty-unit", "kpi_catalogue.csv", set_cell("unit", "", 4),
             expect=("kpi_catalogue.csv", "row 4", "column 'unit'")),
        Case("catalogue-bad-direction", "kpi_catalogue.csv", set_cell("direction", "sideways", 5),
             expect=("kpi_catalogue.csv", "row 5", "column 'direction'")),
        Case("catalogue-bad-dimension", "kpi_catalogue.csv", set_cell("dimension", "Ekonomi", 3),
             expect=("kpi_catalogue.csv", "row 3", "column 'dimension'")),
        Case("catalogue-bad-core", "kpi_catalogue.csv", set_cell("core_or_advanced", "maybe", 6),
             expect=("kpi_catalogue.csv", "row 6", "column 'core_or_advanced'")),
        Case("catalogue-bad-sdg", "kpi_catalogue.csv", set_cell("sdg_targets", "99.z", 2),
             expect=("kpi_catalogue.csv", "row 2", "column 'sdg_targets'")),
        Case("published-no-value-column", "published_observations.csv", drop_column("value"),
             expect=("published_observations.csv", "value")),
        Case("published-value-text", "published_observations.csv", set_cell("value", "ninety", 3),
             expect=("published_observations.csv", "row 3", "column 'value'")),
        Case("published-value-inf", "published_observations.csv", set_cell("value", "inf", 3),
             expect=("published_observations.csv", "row 3", "column 'value'")),
        Case("published-value-huge", "published_observations.csv", set_cell("value", "1e308", 3),
             expect=("published_observations.csv", "row 3", "column 'value'")),
        Case("published-percent-over-100", "published_observations.csv", set_cell("value", "250", 2),
             expect=("published_observations.csv", "row 2", "column 'value'")),
        Case("published-unknown-city", "published_observations.csv", set_cell("city", "../../etc", 2),
             expect=("published_observations.csv", "row 2", "city")),
        Case("published-unknown-label", "published_observations.csv", set_cell("data_point", "No such data point", 2),
             expect=("published_observations.csv", "row 2", "data_point")),
        Case("published-bad-status", "published_observations.csv", set_cell("status", "guessed", 2),
             expect=("published_observations.csv", "row 2", "status")),
        Case("published-bad-unit", "published_observations.csv", set_cell("unit", "furlongs", 2),
             expect=("published_observations.csv", "row 2", "unit")),
        Case("published-bad-date", "published_observations.csv", set_cell("report_date", "someday", 2),
             expect=("published_observations.csv", "row 2", "report_date")),
        Case("published-no-source", "published_observations.csv", set_cell("source_url", "", 2),
             expect=("published_observations.csv", "row 2", "source_url")),
        Case("label-aliases-unknown-id", "label_aliases.csv", set_cell("data_point_id", "XX: 9", 2),
             expect=("label_aliases.csv", "row 2", "data_point_id")),
        Case("unit-aliases-unknown-unit", "unit_aliases.csv", set_cell("registry_unit", "parsecs", 2),
             expect=("unit_aliases.csv", "row 2", "registry_unit")),
        Case("municipalities-no-name-column", "municipalities.csv", drop_column("municipality"),
             expect=("municipalities.csv", "municipality")),
        Case("municipalities-empty-name", "municipalities.csv", set_cell("municipality", "", 3),
             expect=("municipalities.csv", "row 3", "column 'municipality'")),
        Case("municipalities-script-name", "municipalities.csv", set_cell("municipality", "<script>alert(1)</script>", 3),
             expect=("municipalities.csv", "row 3", "column 'municipality'")),
        Case("municipalities-long-name", "municipalities.csv", set_cell("municipality", "A" * 10_000, 3),
             expect=("municipalities.csv", "row 3", "column 'municipality'")),
        Case("municipalities-case-collision", "municipalities.csv", set_cell("municipality", "ASKER", 3),
             expect=("municipalities.csv", "row 3", "column 'municipality'")),
        Case("municipalities-path-name", "municipalities.csv", set_cell("municipality", "../Tromsø", 3),
             expect=("municipalities.csv", "row 3", "column 'municipality'")),
        Case("municipalities-bad-number", "municipalities.csv", set_cell("kommunenummer", "abc", 2),
             expect=("municipalities.csv", "row 2", "kommunenummer")),
        Case("municipalities-unknown-number", "municipalities.csv", set_cell("kommunenummer", "9999", 2),
             expect=("municipalities.csv", "row 2", "kommunenummer")),
        Case("municipalities-number-of-another-period", "municipalities.csv", set_cell("kommunenummer", "1902", 2),
             expect=("municipalities.csv", "row 2", "kommunenummer")),
        Case("registry-bad-number", "norway_municipalities_2024.csv", set_cell("kommunenummer", "12", 2),
             expect=("norway_municipalities_2024.csv", "row 2", "kommunenummer")),
        Case("registry-duplicate-name", "norway_municipalities_2024.csv", set_cell("name", "Eigersund", 2),
             expect=("norway_municipalities_2024.csv",)),
        Case("changes-bad-kind", "norway_municipality_changes.csv", set_cell("kind", "moved", 2),
             expect=("norway_municipality_changes.csv", "row 2", "kind")),
        Case("changes-bad-date", "norway_municipality_changes.csv", set_cell("change_date", "2020-06-31", 2),
             expect=("norway_municipality_changes.csv", "row 2", "change_date")),
        Case("targets-no-target-column", "targets.csv", drop_column("target"), expect=("targets.csv", "target")),
        Case("targets-text-target", "targets.csv", set_cell("target", "high", 2),
             expect=("targets.csv", "row 2", "column 'target'")),
        Case("targets-inf-target", "targets.csv", set_cell("target", "inf", 2),
             expect=("targets.csv", "row 2", "column 'target'")),
        Case("targets-unknown-id", "targets.csv", set_cell("data_point_id", "XX: 1", 2),
             expect=("targets.csv", "row 2", "column 'data_point_id'")),
        Case("targets-bad-rule", "targets.csv", set_cell("rule", "best_peers_mean:zero", 3),
             expect=("targets.csv", "row 3", "column 'rule'")),
        Case("targets-bad-deadline", "targets.csv", set_cell("deadline", "soon", 2),
             expect=("targets.csv", "row 2", "column 'deadline'")),
        Case("themes-unknown-id", "investment_themes.csv", set_cell("data_point_id", "XX: 1", 2),
             expect=("investment_themes.csv", "row 2", "column 'data_point_id'")),
        Case("themes-empty-name", "investment_themes.csv", set_cell("theme_name", "", 2),
             expect=("investment_themes.csv", "row 2", "column 'theme_name'")),
        Case("themes-bad-sdg", "investment_themes.csv", set_cell("sdg_targets", "77.7", 2),
             expect=("investment_themes.csv", "row 2", "column 'sdg_targets'")),
        *_new_schema_cases(),
    ]


def _new_schema_cases() -> list[Case]:
    """A wrong type, an out-of-range year, an unknown code and a duplicate key for each table given a schema with
    the one engine (the generic cases add a duplicated first row to every file)."""
    def case(id_: str, file: str, column: str, value: str, row: int = 2, expected: str = "") -> Case:
        return Case(id_, file, set_cell(column, value, row),
                    expect=(file, f"row {row}", f"column '{column}'", *((expected,) if expected else ())))
    costs, precedence, national = "investment_costs.csv", "source_precedence.csv", "national_statistics_map.csv"
    found, conversions = "national_values_found.csv", "unit_conversions.csv"
    listing, addendum = "norway_municipalities_2020.csv", "published_observations_addendum.csv"
    return [
        case("targets-year-out-of-range", "targets.csv", "baseline_year", "1850", expected="1900 to 2100"),
        case("targets-unknown-worst-rule", "targets.csv", "worst_rule", "sometimes", expected="expected one of"),
        case("targets-duplicate-key", "targets.csv", "data_point_id", "EC: ICT: ICT: 1C", row=3, expected="duplicate"),
        case("themes-duplicate-key", "investment_themes.csv", "data_point_id", "EC: ICT: WS: 1C", row=3,
             expected="duplicate"),
        case("costs-unknown-class", costs, "cost_class", "cheap", expected="'cheap'"),
        case("costs-unknown-theme", costs, "theme_id", "no_such_theme", expected="unknown theme"),
        case("costs-empty-reasoning", costs, "reasoning", "", row=3, expected="empty"),
        case("costs-duplicate-key", costs, "theme_id", "water_metering_leaks", row=3, expected="duplicate"),
        case("precedence-text-number", precedence, "precedence", "one", expected="whole number"),
        case("precedence-unknown-source-type", precedence, "source_type", "rumour", expected="'rumour'"),
        case("precedence-duplicate-key", precedence, "source_type", "published", row=3, expected="duplicate"),
        case("precedence-bad-stand-in", precedence, "stand_in", "maybe", expected="'maybe'"),
        case("national-map-unknown-role", national, "role", "numerator", expected="'numerator'"),
        case("national-map-text-factor", national, "factor", "ten", expected="not a number"),
        case("national-map-unknown-data-point", national, "data_point_id", "XX: 9", row=4, expected="unknown data point"),
        case("national-map-duplicate-key", national, "entry_id", "ssb_12134_free_income", row=3, expected="duplicate"),
        case("national-values-year-out-of-range", found, "year", "2150", expected="1900 to 2100"),
        case("national-values-text-value", found, "value", "lots", expected="not a finite number"),
        case("national-values-unknown-data-point", found, "data_point_id", "XX: 9", expected="unknown data point id"),
        case("national-values-unknown-confidence", found, "confidence", "sure", expected="'sure'"),
        case("unit-conversions-negative-factor", conversions, "factor", "-1", expected="positive"),
        case("unit-conversions-text-factor", conversions, "factor", "ten", expected="not a positive number"),
        case("unit-conversions-unknown-unit", conversions, "registry_unit", "parsecs", expected="unknown unit"),
        case("registry-2020-bad-number", listing, "kommunenummer", "12", expected="four-digit"),
        case("registry-2020-bad-date", listing, "valid_from", "2020/01/01", expected="YYYY-MM-DD"),
        case("addendum-text-value", addendum, "value", "ninety", expected="not a finite number"),
        case("addendum-bad-status", addendum, "status", "guessed", expected="'guessed'"),
        case("addendum-bad-date", addendum, "report_date", "2020-13", expected="YYYY-MM"),
        case("kostra-functions-bad-code", "kostra_functions.csv", "function_code", "20", expected="three-digit"),
        case("kostra-functions-bad-check", "kostra_functions.csv", "source_checked", "maybe", expected="'maybe'"),
        case("kostra-functions-duplicate-key", "kostra_functions.csv", "function_code", "100", row=3,
             expected="duplicate"),
        case("budget-map-unknown-function", "budget_function_map.csv", "function_code", "999",
             expected="unknown function code"),
        case("budget-map-text-weight", "budget_function_map.csv", "weight", "half", expected="not a finite number"),
        case("budget-map-weight-not-one", "budget_function_map.csv", "weight", "0.5", expected="sum to 1"),
    ]


def _run(case: Case, project: Project, capsys) -> tuple[int, str]:
    if case.file is not None:
        target = project.raw / case.file
        result = case.change(target.read_text(encoding="utf-8"))
        if result is None:
            target.unlink()
        else:
            (target.write_bytes if isinstance(result, bytes) else
             lambda t: target.write_text(t, encoding="utf-8", newline=""))(result)
    command = case.command or ([COMMAND[case.file], "--out", str(project.out)] if COMMAND[case.file] == "build"
                               else [COMMAND[case.file]])
    before = project.snapshot()
    code = cli.main(command)
    err = capsys.readouterr().err
    assert code == 2, f"exit {code}: {err}"
    assert project.snapshot() == before, "a file changed although the input was rejected"
    return code, err


OBS = "analysis/observations.py (published observations and aliases)"
REGISTRY = "the municipality registry (analysis/municipalities.py)"
KNOWN_GAPS: dict[str, str] = {}
"""Cases that fail today because of code outside this suite's files, with where the fix belongs."""
EXPECT: dict[str, tuple[str, ...]] = {}
"""Cases whose message rightly names the file the damage shows up in (the aliases are applied there)."""


def _raw_cases() -> list[Case]:
    cases = _generic_cases() + _column_cases()
    for case in cases:
        case.xfail = KNOWN_GAPS.get(case.id)
        case.expect = EXPECT.get(case.id, case.expect)
    assert set(KNOWN_GAPS) <= {c.id for c in cases}
    return cases


RAW_CASES = _raw_cases()


@pytest.mark.parametrize("case", [c.param() for c in RAW_CASES])
def test_bad_raw_file(case, project, capsys, repository_inputs):
    code, err = _run(case, project, capsys)
    for text in case.expect:
        assert text in err, f"{text!r} not in {err!r}"
    assert "Traceback" not in err
    assert repository_inputs == {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in repository_inputs}


# --- ingest: city files --------------------------------------------------------------------------------

def _ids() -> dict[str, str]:
    from analysis import catalogue
    cat = catalogue.load()
    return {"percent": cat.loc[cat["unit"] == "%", "data_point_id"].iloc[0],
            "yes_no": cat.loc[cat["unit"] == catalogue.YES_NO_UNIT, "data_point_id"].iloc[0],
            "other": cat.loc[~cat["unit"].isin(["%", catalogue.YES_NO_UNIT]), "data_point_id"].iloc[0]}


HEADER = ["municipality", "data_point_id", "value", "year", "source"]


def city_csv(*rows: list[str], header: list[str] = HEADER) -> str:
    return _text([header, *rows])


def good_row(**changes: str) -> list[str]:
    row = dict(zip(HEADER, ["Bærum", _ids()["percent"], "55", "2023", "Bærum kommune, årsrapport 2023 s. 4"]))
    row.update(changes)
    return [row[c] for c in HEADER]


@dataclass
class CityCase:
    id: str
    content: Callable[[], str | bytes | None]
    name: str = "Bærum.csv"
    expect: tuple[str, ...] = ()
    xfail: str | None = None

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.xfail)] if self.xfail else []
        return pytest.param(self, id=self.id, marks=marks)


def _workbook(rows: list[list[object]], sheet: str = "data") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


CITY_CASES = [
    CityCase("value-not-a-number", lambda: city_csv(good_row(value="abc")), expect=("row 2", "column 'value'")),
    CityCase("value-over-100-percent", lambda: city_csv(good_row(value="135")), expect=("row 2", "column 'value'")),
    CityCase("value-negative", lambda: city_csv(good_row(data_point_id=_ids()["other"], value="-4")),
             expect=("row 2", "column 'value'")),
    CityCase("value-inf", lambda: city_csv(good_row(value="inf")), expect=("row 2", "column 'value'")),
    CityCase("value-nan", lambda: city_csv(good_row(value="nan")), expect=("row 2", "column 'value'")),
    CityCase("value-huge", lambda: city_csv(good_row(data_point_id=_ids()["other"], value="1e308")),
             expect=("row 2", "column 'value'")),
    CityCase("yes-no-maybe", lambda: city_csv(good_row(data_point_id=_ids()["yes_no"], value="maybe")),
             expect=("row 2", "column 'value'")),
    CityCase("unknown-data-point", lambda: city_csv(good_row(data_point_id="XX: 1")),
             expect=("row 2", "column 'data_point_id'")),
    CityCase("year-too-early", lambda: city_csv(good_row(year="1800")), expect=("row 2", "column 'year'")),
    CityCase("year-text", lambda: city_csv(good_row(year="twenty")), expect=("row 2", "column 'year'")),
    CityCase("year-fraction", lambda: city_csv(good_row(year="2023.5")), expect=("row 2", "column 'year'")),
    CityCase("empty-source", lambda: city_csv(good_row(source="")), expect=("row 2", "column 'source'")),
    CityCase("bad-status", lambda: city_csv([*good_row(), "guessed"], header=[*HEADER, "status"]),
             expect=("row 2", "column 'status'")),
    CityCase("unit-mismatch", lambda: city_csv([*good_row(), "per mille"], header=[*HEADER, "unit"]),
             expect=("row 2", "column 'unit'")),
    CityCase("duplicate-row", lambda: city_csv(good_row(), good_row()), expect=("row 3",)),
    CityCase("path-in-name", lambda: city_csv(good_row(municipality="../../etc/passwd")),
             expect=("row 2", "column 'municipality'")),
    CityCase("control-character-in-name", lambda: city_csv(good_row(municipality="Bær\x07um")),
             expect=("row 2", "column 'municipality'")),
    CityCase("dot-name", lambda: city_csv(good_row(municipality=".hidden")), expect=("row 2", "column 'municipality'")),
    CityCase("long-name", lambda: city_csv(good_row(municipality="B" * 10_000)),
             expect=("row 2", "column 'municipality'")),
    CityCase("script-in-name", lambda: city_csv(good_row(municipality="<script>alert(1)</script>")),
             expect=("row 2", "column 'municipality'")),
    CityCase("missing-source-column", lambda: city_csv(good_row()[:4], header=HEADER[:4]), expect=("source",)),
    CityCase("header-only", lambda: city_csv(), expect=("no data rows",)),
    CityCase("empty-file", lambda: "", expect=("empty",)),
    CityCase("not-utf8", lambda: city_csv(good_row()).encode("utf-8").replace("Bærum".encode(), "Bærum".encode("latin-1")),
             expect=("row 2", "UTF-8")),
    CityCase("unbalanced-quote", lambda: city_csv(good_row(), good_row(year="2022")).replace("Bærum,", '"Bærum,', 1),
             expect=("row 2", "quote")),
    # semicolons (a Norwegian spreadsheet's CSV) are read: test_ingest.py; a tab-separated file is not a CSV here
    CityCase("tab-separated", lambda: city_csv(good_row()).replace(",", "\t"), expect=("missing columns",)),
    CityCase("unsupported-type", lambda: city_csv(good_row()), name="Bærum.txt", expect=("unsupported file type",)),
    CityCase("file-not-found", lambda: None, expect=("not found",)),
    CityCase("xlsx-no-data-sheet", lambda: _workbook([HEADER, good_row()], sheet="Ark1"), name="Bærum.xlsx",
             expect=("no sheet named 'data'",)),
    CityCase("xlsx-not-a-workbook", lambda: b"PK\x03\x04 this is not a zip", name="Bærum.xlsx",
             expect=("not a readable Excel workbook",)),
    CityCase("xlsx-text-value", lambda: _workbook([HEADER, good_row(value="lots")]), name="Bærum.xlsx",
             expect=("row 2", "column 'value'")),
    CityCase("xlsx-missing-column", lambda: _workbook([HEADER[:3], good_row()[:3]]), name="Bærum.xlsx",
             expect=("missing columns",)),
    CityCase("xlsx-formula-value", lambda: _workbook([HEADER, good_row(value="=40+15")]), name="Bærum.xlsx",
             expect=("row 2", "column 'value'", "formula")),
]


BUDGET_HEADER = ["municipality", "function_code", "year", "net_operating_expenditure_nok", "source"]


def budget_row(**changes: object) -> list[object]:
    row = dict(zip(BUDGET_HEADER, ["Bærum", 202, 2020, 1_234_567_000, "Bærum kommune, årsregnskap 2020 s. 12"]))
    row.update(changes)
    return [row[c] for c in BUDGET_HEADER]


def budget_workbook(*rows: list[object], header: list[str] = BUDGET_HEADER) -> bytes:
    """A filled template: one good value in the sheet 'data' and ``rows`` in the sheet 'budget'."""
    wb = Workbook()
    wb.active.title = "data"
    for row in ([HEADER, good_row()]):
        wb.active.append(row)
    ws = wb.create_sheet("budget")
    for row in (header, *rows):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


AMOUNT_COLUMN = "column 'net_operating_expenditure_nok'"
CITY_CASES += [CityCase(id, content, name="Bærum.xlsx", expect=("sheet 'budget'", *expect)) for id, content, expect in [
    ("budget-negative-amount", lambda: budget_workbook(budget_row(net_operating_expenditure_nok=-5000)),
     ("row 2", AMOUNT_COLUMN, "negative")),
    ("budget-text-amount", lambda: budget_workbook(budget_row(net_operating_expenditure_nok="a lot")),
     ("row 2", AMOUNT_COLUMN, "not an amount")),
    ("budget-nan-amount", lambda: budget_workbook(budget_row(net_operating_expenditure_nok="nan")),
     ("row 2", AMOUNT_COLUMN)),
    ("budget-formula-amount", lambda: budget_workbook(budget_row(net_operating_expenditure_nok="=1000+2000")),
     ("row 2", AMOUNT_COLUMN, "formula")),
    ("budget-unknown-function", lambda: budget_workbook(budget_row(function_code=999)),
     ("row 2", "column 'function_code'", "'999' is not a KOSTRA function code")),
    ("budget-function-text", lambda: budget_workbook(budget_row(function_code="skole")),
     ("row 2", "column 'function_code'")),
    ("budget-year-outside-data", lambda: budget_workbook(budget_row(year=2035)),
     ("row 2", "column 'year'", "outside the years of the data")),
    ("budget-year-text", lambda: budget_workbook(budget_row(year="i fjor")), ("row 2", "column 'year'")),
    ("budget-duplicate", lambda: budget_workbook(budget_row(), budget_row(net_operating_expenditure_nok=1)),
     ("row 3", "column 'function_code'", "already given in row 2")),
    ("budget-empty-source", lambda: budget_workbook(budget_row(source=None)), ("row 2", "column 'source'")),
    ("budget-unknown-municipality", lambda: budget_workbook(budget_row(municipality="Atlantis")),
     ("row 2", "column 'municipality'")),
    ("budget-missing-column", lambda: budget_workbook(budget_row()[:4], header=BUDGET_HEADER[:4]),
     ("missing columns", "source")),
]]


@pytest.mark.parametrize("case", [c.param() for c in CITY_CASES])
def test_bad_city_file(case, project, tmp_path, capsys, repository_inputs):
    path = tmp_path / "incoming" / case.name
    path.parent.mkdir()
    content = case.content()
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    code, err = _run(Case(case.id, None, None, ["ingest", str(path), "--out", str(project.out)]), project, capsys)
    assert case.name in err, err
    for text in case.expect:
        assert text in err, f"{text!r} not in {err!r}"
    assert not project.out.exists(), "a rejected file writes nothing"
    assert "Traceback" not in err


# --- the registry of cities outside Norway (data/external/city_supplied/cities.csv) ---------------------

CITY_HEADER = "id,name,country,national_code,source,population,population_year,population_source\n"
MALMO = "SE-1280,Malmö,SE,1280,\"Statistics Sweden (SCB), kommunkoder\",,,\n"
REGISTRY_CASES = [
    ("unknown-country-code", CITY_HEADER + "XX-1280,Malmö,XX,1280,SCB,,,\n",
     ("row 2", "column 'country'", "unknown country code", "'XX'")),
    ("lower-case-country-code", CITY_HEADER + "se-1280,Malmö,se,1280,SCB,,,\n", ("row 2", "column 'country'")),
    ("duplicate-id", CITY_HEADER + MALMO + "SE-1280,Malmø,SE,1280,SCB,,,\n",
     ("row 3", "column 'id'", "duplicate value 'SE-1280'")),
    ("id-is-a-norwegian-number", CITY_HEADER + "1103,Malmö,SE,,SCB,,,\n",
     ("row 2", "column 'id'", "Norwegian municipality number of Stavanger")),
    ("country-is-norway", CITY_HEADER + "NO-1103,Stavanger,NO,1103,SSB,,,\n",
     ("row 2", "column 'country'", "kommunenummer")),
    ("id-without-country", CITY_HEADER + "1280-malmo,Malmö,SE,,SCB,,,\n", ("row 2", "column 'id'")),
    ("id-of-another-country", CITY_HEADER + "DK-1280,Malmö,SE,,SCB,,,\n", ("row 2", "column 'id'", "country code")),
    ("id-disagrees-with-national-code", CITY_HEADER + "SE-1281,Malmö,SE,1280,SCB,,,\n",
     ("row 2", "column 'national_code'")),
    ("non-ascii-id", CITY_HEADER + "SE-malmö,Malmö,SE,,SCB,,,\n", ("row 2", "column 'id'")),
    ("same-name-twice-in-a-country", CITY_HEADER + MALMO + "SE-9999,Malmö,SE,9999,SCB,,,\n",
     ("row 3", "column 'name'")),
    ("population-without-source", CITY_HEADER + "SE-1280,Malmö,SE,1280,SCB,362133,2024,\n",
     ("row 2", "column 'population'", "source")),
    ("population-not-a-number", CITY_HEADER + "SE-1280,Malmö,SE,1280,SCB,many,2024,SCB\n",
     ("row 2", "column 'population'")),
    ("empty-source", CITY_HEADER + "SE-1280,Malmö,SE,1280,,,,\n", ("row 2", "column 'source'")),
    ("missing-name-column", "id,country,source\nSE-1280,SE,SCB\n", ("missing columns",)),
    ("misspelt-column", CITY_HEADER.replace("population_year", "populaton_year") + MALMO, ("populaton_year",)),
    ("header-missing", "", ("empty",)),
]
REGISTRY_COMMANDS = {"template": ["template", "Malmö", "-o", "{tmp}/Malmö.xlsx"],
                     "ingest": ["ingest", "{tmp}/Malmö.csv", "--out", "{out}"],
                     "build": ["build", "--out", "{out}"]}


@pytest.mark.parametrize("command", sorted(REGISTRY_COMMANDS))
@pytest.mark.parametrize("name,text,expect", [pytest.param(*c, id=c[0]) for c in REGISTRY_CASES])
def test_bad_city_registry(name, text, expect, command, project, tmp_path, capsys, repository_inputs):
    registry = project.root / "data" / "external" / "city_supplied" / "cities.csv"
    registry.parent.mkdir(parents=True)
    registry.write_text(text, encoding="utf-8")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "Malmö.csv").write_text(city_csv(good_row(municipality="Malmö")), encoding="utf-8")
    argv = [a.replace("{tmp}", str(incoming)).replace("{out}", str(project.out)) for a in REGISTRY_COMMANDS[command]]
    code, err = _run(Case(name, None, None, argv), project, capsys)
    assert "cities.csv" in err
    for part in expect:
        assert part in err, f"{part!r} not in {err!r}"
    assert "Traceback" not in err
    assert not project.out.exists() and sorted(p.name for p in incoming.iterdir()) == ["Malmö.csv"], "nothing is written"


# --- parameters and the command line -------------------------------------------------------------------

PARAM_CASES = [
    ("unknown-key", "colour: blue\n", ("key 'colour'", "unknown key"), None),
    ("misspelt-nested-key", "weights:\n  enviroment: 2\n", ("weights.enviroment",), None),
    ("weight-text", "weights:\n  economy: heavy\n", ("weights.economy",), None),
    ("weight-negative", "weights:\n  economy: -1\n", ("weights.economy",), None),
    ("seed-text", "seed: abc\n", ("seed",), None),
    ("bad-target-set", "target_set: utopia\n", ("target_set", "utopia"), None),
    ("bad-peer-group", "peer_group:\n  by: friends\n", ("peer_group.by",), None),
    ("draws-too-few", "invest:\n  draws: 1\n", ("invest.draws",), None),
    ("draws-too-many", "invest:\n  draws: 1000000000\n", ("invest.draws",), None),
    ("weight-nan", "weights:\n  economy: .nan\n", ("weights.economy",), None),
    ("weight-inf", "weights:\n  economy: .inf\n", ("weights.economy",), None),
    ("all-criteria-zero", "invest:\n  criteria_weights: {need: 0, impact: 0, feasibility: 0, cost: 0}\n",
     ("invest.criteria_weights",), None),
    ("unknown-theme", "invest:\n  theme_priorities: {no_such_theme: 2}\n", ("no_such_theme",), None),
    ("bad-grouping", "synthesis:\n  grouping: shoe_size\n", ("synthesis.grouping",), None),
    ("not-yaml", "weights: [1, 2\n", ("not valid YAML",), None),
    ("not-a-mapping", "- a\n- b\n", ("mapping",), None),
    ("years-text", "years: soon\n", ("years",), None),
]


@pytest.mark.parametrize("name,text,expect", [
    pytest.param(n, t, e, id=n, marks=[pytest.mark.xfail(strict=True, reason=x)] if x else [])
    for n, t, e, x in PARAM_CASES])
def test_bad_parameter_file(name, text, expect, project, capsys, repository_inputs):
    target = project.root / "params" / "municipalities" / "Aukra.yaml"
    target.write_text(text, encoding="utf-8")
    code, err = _run(Case(name, None, None, ["check-params"]), project, capsys)
    assert "Aukra.yaml" in err
    for part in expect:
        assert part in err, f"{part!r} not in {err!r}"


CLI_CASES = [
    ("profile-without-municipality", ["execute", "profile", "--output", "{tmp}/p.ipynb"], ("--municipality",)),
    ("unknown-municipality", ["execute", "profile", "--municipality", "Atlantis", "--output", "{tmp}/p.ipynb"],
     ("unknown municipality 'Atlantis'",)),
    ("set-without-equals", ["execute", "profile", "--municipality", "Aukra", "--set", "seed", "--output",
                            "{tmp}/p.ipynb"], ("seed",)),
    ("set-unknown-key", ["execute", "profile", "--municipality", "Aukra", "--set", "weights.enviroment=2",
                         "--output", "{tmp}/p.ipynb"], ("weights.enviroment",)),
    ("set-bad-value", ["execute", "synthesis", "--set", "synthesis.draws=many", "--output", "{tmp}/s.ipynb"],
     ("synthesis.draws",)),
    ("run-unknown-municipality", ["run", "Atlantis", "--no-report"], ("Atlantis",)),
    ("run-bad-override", ["run", "Aukra", "--set", "target_set=utopia", "--no-report"], ("target_set",)),
    ("ingest-missing-file", ["ingest", "{tmp}/nothing.csv"], ("nothing.csv", "not found")),
    ("template-unregistered-city", ["template", "Stockholm", "-o", "{tmp}/Stockholm.xlsx"],
     ("unknown municipality 'Stockholm'", "must first be registered", "cities.csv")),
    ("run-unregistered-city-id", ["run", "SE-0180", "--no-report"], ("SE-0180", "must first be registered")),
    ("fetch-city-outside-norway", ["fetch", "ssb", "--municipality", "NO-0301"], ("kommunenummer alone ('0301')",)),
]


@pytest.mark.parametrize("name,argv,expect", [pytest.param(*c, id=c[0]) for c in CLI_CASES])
def test_bad_command_line(name, argv, expect, project, tmp_path, capsys, repository_inputs):
    argv = [a.replace("{tmp}", str(tmp_path / "cli")) for a in argv]
    code, err = _run(Case(name, None, None, argv), project, capsys)
    for part in expect:
        assert part in err, f"{part!r} not in {err!r}"
    assert not (tmp_path / "cli").exists(), "nothing is written"


@pytest.mark.parametrize("argv", [["all", "--cores", "0"], ["all", "--cores", "many"], ["build", "--bogus"],
                                  ["execute", "notebook", "--output", "x.ipynb"], ["no-such-command"]])
def test_usage_errors_exit_2_before_anything_runs(argv, project, capsys):
    before = project.snapshot()
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    assert "usage:" in capsys.readouterr().err
    assert project.snapshot() == before


def test_the_suite_has_at_least_100_cases():
    assert len(RAW_CASES) + len(CITY_CASES) + len(PARAM_CASES) + len(CLI_CASES) + 5 >= 100
    assert len(REGISTRY_CASES) * len(REGISTRY_COMMANDS) >= 45


# --- a city's own targets in three levels (targets-ingest) ---------------------------------------------

TARGET_HEADER = ["municipality", "data_point_id", "goal", "desired", "lowest_acceptable", "not_acceptable", "year",
                 "source"]
RECYCLED, WATER_LOSS = "EN: EN: WA: 1C/RECYCLED", "EC: I: WS: 3C"


def targets_csv(*rows: list[str]) -> str:
    return _text([TARGET_HEADER, *rows])


def target_row(**changes: str) -> list[str]:
    row = {"municipality": "Asker", "data_point_id": RECYCLED, "goal": "Recycle household waste", "desired": "65",
           "lowest_acceptable": "55", "not_acceptable": "40", "year": "2030", "source": "Asker scorecard 2024, p. 3"}
    row.update(changes)
    return [row[c] for c in TARGET_HEADER]


TARGET_CASES = [
    ("unknown-data-point", targets_csv(target_row(data_point_id="EN: EN: WA: 9Z")),
     ("row 2", "column 'data_point_id'", "unknown data point id 'EN: EN: WA: 9Z'")),
    ("wrong-order-higher-is-better", targets_csv(target_row(desired="55", lowest_acceptable="65")),
     ("row 2", "column 'lowest_acceptable'", "wrong order", "desired > lowest acceptable > not acceptable")),
    ("wrong-order-lower-is-better", targets_csv(target_row(data_point_id=WATER_LOSS, desired="35",
                                                           lowest_acceptable="25", not_acceptable="20")),
     ("row 2", "column 'lowest_acceptable'", "desired < lowest acceptable < not acceptable")),
    ("equal-levels", targets_csv(target_row(lowest_acceptable="65")), ("row 2", "wrong order")),
    ("non-numeric-level", targets_csv(target_row(desired="high")), ("row 2", "column 'desired'", "'high' is not a number")),
    ("level-in-another-unit", targets_csv(target_row(desired="65 tonnes")),
     ("row 2", "column 'desired'", "'65 tonnes' is not a number in the data point's unit (%)")),
    ("missing-level", targets_csv(target_row(not_acceptable="")),
     ("row 2", "column 'not_acceptable'", "needs all three levels")),
    ("duplicate-data-point", targets_csv(target_row(), target_row(desired="70")),
     ("row 3", "column 'data_point_id'", "appears twice")),
    ("levels-without-data-point", targets_csv(target_row(data_point_id="")),
     ("row 2", "a level needs a data point")),
    ("target-band-data-point", targets_csv(target_row(data_point_id="SC: SH: SI: 1C")),
     ("row 2", "target band", "higher or lower is better")),
    ("unknown-municipality", targets_csv(target_row(municipality="Atlantis")), ("row 2", "column 'municipality'")),
    ("empty-source", targets_csv(target_row(source="")), ("row 2", "column 'source'", "empty")),
    ("bad-year", targets_csv(target_row(year="2030.5")), ("row 2", "column 'year'", "whole year")),
    ("missing-column", _text([TARGET_HEADER[:-1], target_row()[:-1]]), ("missing columns ['source']",)),
    ("nothing-filled", targets_csv(target_row(goal="", desired="", lowest_acceptable="", not_acceptable="", year="",
                                              source="")), ("no filled rows",)),
]


@pytest.mark.parametrize("name,text,expect", [pytest.param(*c, id=c[0]) for c in TARGET_CASES])
def test_bad_city_targets_file(name, text, expect, project, tmp_path, capsys, repository_inputs):
    path = tmp_path / "incoming" / f"{name}.csv"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    code, err = _run(Case(name, None, None, ["targets-ingest", str(path), "--out", str(project.out)]), project, capsys)
    assert code == 2, err
    assert path.name in err, err
    for part in expect:
        assert part in err, f"{part!r} not in {err!r}"
    assert not project.out.exists(), "a rejected file writes nothing"
