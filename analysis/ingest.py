"""City-supplied data: an Excel template to fill in, and validated ingest of filled workbooks or CSVs.

The template is made for values copied from a printed page: a value may be typed with its unit
(``2,74 %``), with a decimal comma or a space as thousands separator, or as ``Not Reported``; a
printed-unit column takes the unit as printed. Each value is read as the person meant or refused
naming the cell, never silently rescaled: units that mean the registry unit pass (the same
normalisation as published rows, :func:`analysis.observations.normalise_unit`), real conversions
(‰ → %) are applied and recorded in the note, cells formatted as percentages are read as shown.

Accepted rows go to ``data/external/city_supplied/<number>-<slug>.csv`` (``paths.CITY_SUPPLIED``, outside the rebuildable outputs) in the tidy observation
schema; ``data/raw`` is never written. Rows with neither value nor status are skipped (a city
fills in what it has). Workbooks are checked against size, member and row limits before openpyxl
parses them (zip bombs), and formulas are reported, never dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from analysis import budget, catalogue, cities, municipalities, observations, paths, policy, validation
from analysis.validation import FIRST_YEAR, LAST_YEAR
from analysis.errors import InputError, Problem, file_row
from analysis.files import atomic_path, csv_delimiter, read_csv, write_csv

if TYPE_CHECKING:
    import pandera.pandas as pa

SHEET = "data"
REQUIRED = ("municipality", "data_point_id", "value", "year", "source")
OPTIONAL = ("printed_unit", "unit", "status", "quality_level", "verified", "comment")
"""``unit`` is read as ``printed_unit`` (CSVs and templates written before the printed-unit column)."""
TEMPLATE_INFO = ("dimension", "category", "data_point_name", "registry_unit", "direction",
                 "core_or_advanced", "definition_short")
TEMPLATE_INPUT = ("value", "printed_unit", "status", "year", "source", "quality_level", "verified", "comment")

MAX_FILE_BYTES = 10 * 2**20
"""Largest workbook (compressed) or CSV accepted: a filled template is about 20 kB."""
MAX_UNCOMPRESSED_BYTES = 50 * 2**20
"""Largest total a workbook may unpack to (zip-bomb guard, checked from the zip directory before parsing)."""
MAX_MEMBERS = 500
"""Most files a workbook's zip may hold (a template has about 10)."""
MAX_ROWS = 50_000
"""Most data rows read (112 data points × 17 municipalities × 25 years fit)."""
MAX_COLUMNS = 64
MAX_NAME_LENGTH = 100
"""Longest municipality name (it names the output file; Norwegian names, even in three languages, are far shorter)."""
MAX_TEXT_LENGTH = 2000
"""Longest text in one cell (a source or comment)."""

NOT_REPORTED_WORDS = {"not reported", "not_reported", "nr", "ikke rapportert"}
NOT_APPLICABLE_WORDS = {"n/a", "na", "not applicable", "not_applicable", "ikke relevant", "ikke aktuelt"}
STATUS_WORDS = {**{w: "not_reported" for w in NOT_REPORTED_WORDS},
                **{w: "not_applicable" for w in NOT_APPLICABLE_WORDS},
                "reported": "reported", "rapportert": "reported", "partial": "partial", "delvis": "partial"}
"""Status words accepted in the status or the value cell (case-insensitive), English and Norwegian."""
NO_VALUE_STATUSES = ("not_reported", "not_applicable")
QUALITY_CHOICES = ("1 accurate measurements", "2 survey of inhabitants", "3 higher-level data",
                   "4 stated assumptions", "5 personal estimation", "6 unknown methodology")
"""Drop-down labels of the six U4SSC data-quality levels; the leading digit is the level."""
VERIFIED_WORDS = {"yes": True, "ja": True, "true": True, "1": True, "no": False, "nei": False, "false": False,
                  "0": False}
SPACES = ("\u00a0", "\u202f", "\u2009")
"""Non-breaking, narrow non-breaking and thin spaces, used as thousands separators."""
_NUMBER_THEN_UNIT = re.compile(r"^(?P<number>[-+]?[\d.,][\d.,\s]*)(?P<unit>.*)$")
FAR_OUT = 3.0
"""Tukey's far-out fences: a value beyond Q1 − 3·IQR or Q3 + 3·IQR of the panel is flagged."""
MIN_PANEL = 4
"""Fewest real panel values of a data point for the quartile check (else centre and spread are used)."""
FAR_SPREADS = 4.0
"""A value more than this many standard deviations from the expected centre (on the model's scale) is flagged."""


STORED = {"dtype": {"value_text": str, "note": str, "kommunenummer": str, "reported_kommunenummer": str},
          "keep_default_na": False, "na_values": [""]}
"""How stored city files are read: only an empty cell is missing, so a value text 'N/A' stays text."""


@dataclass
class IngestResult:
    """What an ingest accepted, skipped and rejected, and where accepted rows were written."""

    accepted: pd.DataFrame
    skipped_empty: int
    problems: list[Problem] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    replaced: int = 0
    """Rows of earlier ingests (same municipality, data point and year) that this ingest replaced."""
    warnings: list[Problem] = field(default_factory=list)
    """Plausibility warnings: kept in the accepted rows' notes, they do not block."""
    budget: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Accepted rows of the sheet 'budget' (analysis.budget), stored under ``<out_dir>/budget/``."""
    targets: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The municipality's own targets from the sheet 'targets' (analysis.policy), stored under ``<out_dir>/targets/``."""


# --- the template -------------------------------------------------------------------------------

def write_template(municipality: str, target: Path, cat: pd.DataFrame | None = None) -> Path:
    """An Excel workbook with one row per data point for ``municipality`` to fill in, with drop-downs and checks."""
    cat = catalogue.load() if cat is None else cat
    municipality = municipalities.registry().resolve(municipality, file="command line", column="municipality",
                                                     label="argument").label  # unique, also for a city outside Norway
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    header = ["municipality", "data_point_id", *TEMPLATE_INFO, *TEMPLATE_INPUT]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    info = cat.rename(columns={"unit": "registry_unit"})
    for _, row in info.iterrows():
        ws.append([municipality, row["data_point_id"], *[row[c] for c in TEMPLATE_INFO],
                   *[None] * len(TEMPLATE_INPUT)])
    n = len(cat) + 1
    col = {name: _letter(i) for i, name in enumerate(header)}
    fill = PatternFill("solid", fgColor="FFF2CC")
    for name in TEMPLATE_INPUT:
        for r in range(2, n + 1):
            ws[f"{col[name]}{r}"].fill = fill
    for rule in _template_rules(cat, n, col):
        ws.add_data_validation(rule)
    widths = {"data_point_id": 24, "data_point_name": 40, "definition_short": 60, "registry_unit": 22,
              "printed_unit": 22, "status": 16, "source": 40, "quality_level": 24, "comment": 30}
    for name, width in widths.items():
        ws.column_dimensions[col[name]].width = width
    ws.freeze_panes = "C2"
    _about_sheet(wb.create_sheet("about"), municipality)
    _units_sheet(wb.create_sheet("units"), cat)
    budget.write_sheet(wb, municipality)
    policy.write_city_sheet(wb, municipality, cat)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return Path(target)


def _letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (A … Z, AA …)."""
    from openpyxl.utils import get_column_letter
    return get_column_letter(index + 1)


def _template_rules(cat: pd.DataFrame, n: int, col: dict[str, str]) -> list[DataValidation]:
    """Data validation of the input cells: drop-downs for status, quality and verified; ranges for value and year.

    Value ranges only warn (a value cell may also hold ``2,74 %`` or ``Not Reported``); the
    ingest is the real check.
    """
    def cells(name: str) -> str:
        return f"{col[name]}2:{col[name]}{n}"
    status = DataValidation(type="list", formula1='"' + ",".join(observations.STATUSES) + '"', allow_blank=True,
                            showErrorMessage=True, errorStyle="warning", errorTitle="status",
                            error="One of " + ", ".join(observations.STATUSES))
    status.add(cells("status"))
    quality = DataValidation(type="list", formula1='"' + ",".join(QUALITY_CHOICES) + '"', allow_blank=True,
                             showErrorMessage=True, error="A data-quality level 1–6 (see the sheet 'about')")
    quality.add(cells("quality_level"))
    verified = DataValidation(type="list", formula1='"Yes,No"', allow_blank=True, showErrorMessage=True,
                              error="Yes if a third party verified the value, else No")
    verified.add(cells("verified"))
    year = DataValidation(type="whole", operator="between", formula1=str(FIRST_YEAR), formula2=str(LAST_YEAR),
                          showErrorMessage=True, error=f"A year between {FIRST_YEAR} and {LAST_YEAR}")
    year.add(cells("year"))
    yes_no = DataValidation(type="list", formula1='"Yes,No,Not Reported,N/A"', showErrorMessage=True,
                            errorStyle="warning", error="Yes or No (or Not Reported, N/A)")
    percent = DataValidation(type="decimal", operator="between", formula1="0", formula2="100",
                             showErrorMessage=True, errorStyle="warning",
                             error="A percentage between 0 and 100 (or Not Reported, N/A)")
    share = DataValidation(type="decimal", operator="between", formula1="0", formula2="1", showErrorMessage=True,
                           errorStyle="warning", error="A number between 0 and 1 (or Not Reported, N/A)")
    nonneg = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", showErrorMessage=True,
                            errorStyle="warning", error="A number of at least 0 (or Not Reported, N/A)")
    for r, unit in enumerate(cat["unit"], start=2):
        lo, hi = observations.value_bounds(unit)
        rule = yes_no if unit == catalogue.YES_NO_UNIT else percent if hi == 100 else share if hi == 1 else nonneg
        rule.add(f"{col['value']}{r}")
    return [rule for rule in (status, quality, verified, year, yes_no, percent, share, nonneg) if rule.sqref]


def _about_sheet(about, municipality: str) -> None:
    """The sheet 'about': how to fill in each column."""
    rows = [
        ["U4SSC KPI data template"], ["municipality", municipality],
        ["how to fill in", "Give value, year and source for each data point you have; leave the rest empty."],
        ["value", "The number as printed: 2,74 or 2.74; 95 424; 2,74 % also works. Yes/No data points take Yes or "
                  "No. Write Not Reported (or NR, ikke rapportert) or N/A (not applicable) where the report says so."],
        ["printed_unit", "The unit as printed (e.g. % GDP, / 100 000 inhabitants). Units that mean the registry "
                         "unit are accepted as they are; ‰ and a share 0-1 are converted (sheet 'units'). "
                         "Leave empty when the value is in the registry unit."],
        ["status", "reported (default), not_reported, not_applicable or partial (the KPI was only partly "
                   "reported; the value itself is valid)."],
        ["year", "The year the value refers to."],
        ["source", "Where the value comes from: document and page, or table and URL."],
        ["quality_level", "Data-quality level of the U4SSC Verification Manual:"],
        *[[f"  {level}", text] for level, text in observations.QUALITY_LEVELS.items()],
        ["verified", "Yes if a third party (e.g. the ITU verifiers) verified the value, No if not."],
        ["comment", "Anything a reader should know about the value."],
        *budget.about_rows(),
        *policy.about_rows(),
    ]
    for row in rows:
        about.append(row)


def _units_sheet(sheet, cat: pd.DataFrame) -> None:
    """The sheet 'units': every registry unit with the printed units accepted for it and the conversions."""
    aliases = read_csv(paths.UNIT_ALIASES, dtype=str)
    conversions = read_csv(observations.UNIT_CONVERSIONS, dtype={"printed_unit": str, "registry_unit": str})
    sheet.append(["registry unit", "also accepted as printed (same unit)", "converted from (factor)"])
    for unit in sorted(set(cat["unit"])):
        same = aliases.loc[aliases["registry_unit"] == unit, "printed_unit"]
        conv = conversions[conversions["registry_unit"] == unit]
        sheet.append([unit, "; ".join(sorted(set(same))),
                      "; ".join(f"{p} (× {f:g})" for p, f in zip(conv["printed_unit"], conv["factor"]))])


# --- reading a workbook or CSV ------------------------------------------------------------------

@dataclass
class Table:
    """The cells of a filled template: values (as read), number formats, and the row numbers a person sees."""

    frame: pd.DataFrame
    formats: pd.DataFrame
    rows: pd.Series
    problems: list[Problem] = field(default_factory=list)
    """Cells that cannot be read at all (formulas, over-long text), found while reading."""


def check_workbook_limits(path: Path) -> None:
    """Refuse a workbook whose size, zip member count or unpacked size exceeds the limits, before parsing it."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError.single(path, f"file is {size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES / 2**20:.0f} MB")
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError.single(path, f"not a readable Excel workbook ({exc}); expected an .xlsx file") from exc
    if len(members) > MAX_MEMBERS:
        raise InputError.single(path, f"the workbook holds {len(members)} files; the limit is {MAX_MEMBERS} "
                                      "(a template holds about 10)")
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNCOMPRESSED_BYTES:
        raise InputError.single(path, f"the workbook unpacks to {unpacked / 2**20:.0f} MB; the limit is "
                                      f"{MAX_UNCOMPRESSED_BYTES / 2**20:.0f} MB (a zip bomb or far more than a "
                                      "template)")


def _sheet_cells(path: Path, data_only: bool) -> tuple[list[str], list[list[tuple]]]:
    """Header and cells of sheet 'data' (read-only mode) as (value, number format, is formula) per cell.

    At most MAX_COLUMNS columns and MAX_ROWS data rows are read; data rows are cut to the header's
    width, so memory is bounded by the limits whatever the file declares.
    """
    try:
        wb = load_workbook(path, read_only=True, data_only=data_only)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputError.single(path, f"not a readable Excel workbook ({exc}); expected an .xlsx file") from exc
    try:
        if SHEET not in wb.sheetnames:
            raise InputError.single(path, f"no sheet named '{SHEET}'; found {wb.sheetnames}. "
                                          f"Use the sheet written by 'python -m analysis template'")
        ws = wb[SHEET]
        ws.reset_dimensions()  # a wrong <dimension> tag (some writers) must not hide cells
        first = next(ws.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS + 1), ())
        header = [str(c.value).strip() if c.value is not None else "" for c in first]
        while header and header[-1] == "":
            header.pop()
        if not header:
            raise InputError.single(path, f"sheet '{SHEET}' is empty; expected a header row and data rows")
        if len(header) > MAX_COLUMNS:
            raise InputError.single(path, f"sheet '{SHEET}' has more than {MAX_COLUMNS} columns; the limit is "
                                          f"{MAX_COLUMNS}", row=1)
        _check_header(path, header)
        rows = []
        for row in ws.iter_rows(min_row=2, max_col=len(header)):
            if len(rows) == MAX_ROWS:
                raise InputError.single(path, f"sheet '{SHEET}' has more than {MAX_ROWS} data rows; the limit is "
                                              f"{MAX_ROWS}")
            cells = [(getattr(c, "value", None), getattr(c, "number_format", None) or "General",
                      getattr(c, "data_type", None) == "f") for c in row]
            rows.append(cells + [(None, "General", False)] * (len(header) - len(cells)))
        return header, rows
    finally:
        wb.close()


def _check_header(path: Path, header: list[str]) -> None:
    """Refuse a header that names a column twice (which of the two cells would be meant?)."""
    twice = sorted({c for c in header if c and header.count(c) > 1})
    if twice:
        raise InputError.single(path, f"columns {twice} appear more than once in the header; keep one of each", row=1)


def _read_workbook(path: Path) -> Table:
    """A workbook's sheet 'data' as a Table; formulas are reported with the value the spreadsheet last showed."""
    check_workbook_limits(path)
    header, cells = _sheet_cells(path, data_only=False)
    formulas = [(r, j) for r, row in enumerate(cells) for j, (_, _, formula) in enumerate(row)
                if formula and header[j] in (*REQUIRED, *OPTIONAL)]
    cached = _sheet_cells(path, data_only=True)[1] if formulas else []
    frame = pd.DataFrame([[v for v, _, _ in row] for row in cells], columns=header, dtype=object)
    formats = pd.DataFrame([[f for _, f, _ in row] for row in cells], columns=header, dtype=object)
    problems = []
    for r, j in formulas:
        shown = cached[r][j][0] if r < len(cached) else None
        last = f" (the spreadsheet last showed {shown!r})" if shown is not None else " (no computed value saved)"
        problems.append(Problem(str(path), file_row(r), header[j],
                                f"holds the formula '{frame.iat[r, j]}'{last}; formulas are not read: enter the "
                                "value itself (copy, then Paste Special → Values)"))
        frame.iat[r, j] = None
    return Table(frame, formats, pd.Series(dtype="int64"), problems)


def _read_csv_table(path: Path) -> Table:
    """A UTF-8 CSV, comma- or semicolon-separated, as a Table (all cells text, no number formats)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError.single(path, f"file is {size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES / 2**20:.0f} MB")
    sep = csv_delimiter(path)  # ',' or the ';' of a spreadsheet saved in a Norwegian locale
    frame = read_csv(path, sep=sep, dtype=object, keep_default_na=False, na_values=[""], skip_blank_lines=False)
    with path.open(encoding="utf-8-sig", newline="") as f:  # pandas renames a repeated column 'value.1'
        _check_header(path, [h.strip() for h in next(csv.reader(f, delimiter=sep), [])])
    if len(frame) > MAX_ROWS:
        raise InputError.single(path, f"{len(frame)} data rows; the limit is {MAX_ROWS}")
    formats = pd.DataFrame("General", index=frame.index, columns=frame.columns, dtype=object)
    return Table(frame, formats, pd.Series(dtype="int64"))


def read_table(path: Path) -> Table:
    """Read a filled workbook (sheet 'data') or UTF-8 CSV; rows keep the numbers a person sees in the file."""
    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "file not found")
    if path.stat().st_size == 0:
        raise InputError.single(path, "file is empty; expected a header row and data rows")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _read_workbook(path)
    elif suffix == ".csv":
        table = _read_csv_table(path)
    else:
        raise InputError.single(path, f"unsupported file type '{suffix}'; expected .xlsx or .csv")
    blank = table.frame.isna() | table.frame.map(lambda v: isinstance(v, str) and v.strip() == "")
    keep = ~blank.all(axis=1)
    if not keep.any():
        raise InputError.single(path, "no data rows below the header")
    missing = [c for c in REQUIRED if c not in table.frame.columns]
    if missing:
        raise InputError.single(path, f"missing columns {missing}; expected at least {list(REQUIRED)}", row=1)
    rows = pd.Series([file_row(i) for i in table.frame.index], index=table.frame.index)
    return Table(table.frame[keep].reset_index(drop=True), table.formats[keep].reset_index(drop=True),
                 rows[keep].reset_index(drop=True), table.problems)


# --- reading one cell as the person meant ---------------------------------------------------------

class CellError(ValueError):
    """A cell that cannot be read as meant; the message says what was expected."""


def _text(value: object) -> str:
    """A cell as trimmed NFC text with every kind of space as a plain space ('' for empty)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = unicodedata.normalize("NFC", str(value))
    for space in SPACES:
        text = text.replace(space, " ")
    return text.strip()


def _number_text(number: Decimal) -> str:
    """A Decimal as plain text without exponent or trailing zeros ('2.74', '95424')."""
    return format(number.normalize(), "f")


def parse_decimal(text: str) -> Decimal:
    """A number typed by a person: decimal comma or point, space (or non-breaking space) as thousands separator.

    ``2,74`` and ``2.74`` are 2.74; ``95 424`` and ``95,424.5`` are read with their thousands
    separators; ``1,234`` (a comma before exactly three digits) is refused as ambiguous.
    """
    s = _text(text)
    sign = ""
    if s[:1] in "+-":
        sign, s = s[0].replace("+", ""), s[1:].strip()
    if " " in s:
        groups = s.split()
        last_int = re.split(r"[.,]", groups[-1])[0]
        if not (re.fullmatch(r"\d{1,3}", groups[0]) and all(re.fullmatch(r"\d{3}", g) for g in groups[1:-1])
                and re.fullmatch(r"\d{3}", last_int) and re.fullmatch(r"\d{3}([.,]\d+)?", groups[-1])):
            raise CellError(f"'{text}': spaces must separate groups of three digits (95 424)")
        s = "".join(groups)
        if s.count(",") + s.count(".") > 1:
            raise CellError(f"'{text}': a space is the thousands separator, so only one decimal separator may follow")
        return Decimal(sign + s.replace(",", "."))
    commas, dots = s.count(","), s.count(".")
    if not re.fullmatch(r"[\d.,]+", s) or not re.search(r"\d", s):
        raise CellError(f"'{text}' is not a number")
    if commas and dots:
        decimal_sep = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        whole, _, frac = s.rpartition(decimal_sep)
        if not re.fullmatch(rf"\d{{1,3}}(\{thousands}\d{{3}})*", whole):
            raise CellError(f"'{text}': the thousands separator '{thousands}' must separate groups of three digits")
        return Decimal(sign + whole.replace(thousands, "") + "." + frac)
    sep = "," if commas else "." if dots else ""
    count = commas or dots
    if count > 1:  # 1.234.567 or 1,234,567: thousands separators only
        if not re.fullmatch(rf"\d{{1,3}}(\{sep}\d{{3}})+", s):
            raise CellError(f"'{text}' is not a number")
        return Decimal(sign + s.replace(sep, ""))
    if sep == ",":
        whole, frac = s.split(",")
        if len(frac) == 3 and whole not in ("", "0") and len(whole) <= 3:
            raise CellError(f"'{text}' is ambiguous: a decimal comma ({whole}.{frac}) or a thousands separator "
                            f"({whole}{frac})? Write {whole}.{frac} or {whole}{frac}")
        s = s.replace(",", ".")
    try:
        return Decimal(sign + s)
    except InvalidOperation as exc:
        raise CellError(f"'{text}' is not a number") from exc


def is_percent_format(number_format: object) -> bool:
    """Whether an Excel number format shows the value × 100 with a '%' (a '%' outside quotes and escapes)."""
    fmt = re.sub(r'"[^"]*"|\\.', "", str(number_format or ""))
    return "%" in fmt


@dataclass(frozen=True)
class Entry:
    """One value cell as the person meant it: a number in the printed unit, or a status word."""

    number: Decimal | None
    text: str
    unit: str | None = None
    """Unit typed in the value cell itself ('2,74 %')."""
    status: str | None = None
    percent_format: bool = False


def read_value(value: object, number_format: object, registry_unit: str) -> Entry | None:
    """A value cell read as meant (None if empty); raises CellError for what cannot be read without guessing."""
    if not _text(value):
        return None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        raise CellError(f"is a date ({value}): the spreadsheet converted what was typed; format the cell as "
                        "text or number and type the value again")
    if isinstance(value, bool):
        if registry_unit == catalogue.YES_NO_UNIT:
            return Entry(Decimal(int(value)), "Yes" if value else "No")
        raise CellError(f"{value} is not a number")
    if isinstance(value, (int, float, np.number)):
        if not math.isfinite(float(value)):
            raise CellError(f"{value} is not a finite number")
        number = Decimal(repr(float(value))) if isinstance(value, (float, np.floating)) else Decimal(int(value))
        if is_percent_format(number_format):
            shown = number * 100
            return Entry(shown, f"{_number_text(shown)} %", "%", percent_format=True)
        return Entry(number, _number_text(number))
    text = _text(value)
    if not text:
        return None
    if len(text) > MAX_TEXT_LENGTH:
        raise CellError(f"is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}")
    word = " ".join(text.split()).casefold()
    if word in STATUS_WORDS and STATUS_WORDS[word] in NO_VALUE_STATUSES:
        return Entry(None, text, status=STATUS_WORDS[word])
    if registry_unit == catalogue.YES_NO_UNIT:
        yes_no = observations.parse_yes_no(text)
        if yes_no is None:
            raise CellError(f"'{text}' is not Yes or No (or Not Reported, N/A)")
        return Entry(Decimal(int(yes_no)), text)
    match = _NUMBER_THEN_UNIT.match(text)
    if not match:
        raise CellError(f"'{text}' is not a number (or Not Reported, N/A)")
    number = parse_decimal(match["number"])
    unit = match["unit"].strip() or None
    return Entry(number, text, unit)


def read_year(value: object) -> float | None:
    """A year cell as a number (whether it is a whole year FIRST_YEAR–LAST_YEAR is checked by the schema), None if empty."""
    if isinstance(value, (dt.datetime, dt.date)):
        raise CellError(f"is a date ({value}); enter the year alone, e.g. {value.year}")
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return float(value)
    text = _text(value)
    if not text:
        return None
    try:
        return float(parse_decimal(text))
    except CellError:
        raise CellError(f"'{text}' is not a year") from None


def read_status(value: object) -> str | None:
    """A status cell as one of the statuses (words in any case, Norwegian too), None if empty."""
    text = _text(value)
    if not text:
        return None
    word = " ".join(text.replace("_", " ").split()).casefold()
    status = STATUS_WORDS.get(word, STATUS_WORDS.get(text.casefold()))
    if status is None:
        raise CellError(f"'{text}'; expected one of {list(observations.STATUSES)} (or Not Reported, N/A)")
    return status


def read_quality_level(value: object) -> int | None:
    """A data-quality level 1–6 from a number or a drop-down label ('3 higher-level data'), None if empty."""
    text = _text(value)
    if not text:
        return None
    match = re.match(r"^([1-6])(\.0)?(\s|$)", text)
    if not match:
        levels = "; ".join(f"{k} = {v}" for k, v in observations.QUALITY_LEVELS.items())
        raise CellError(f"'{text}'; expected a data-quality level 1–6 ({levels})")
    return int(match[1])


def read_verified(value: object) -> bool | None:
    """Whether a third party verified the value: Yes/No (Ja/Nei, True/False), None if empty."""
    if isinstance(value, bool):
        return value
    text = _text(value)
    if not text:
        return None
    if text.casefold() not in VERIFIED_WORDS:
        raise CellError(f"'{text}'; expected Yes or No (or empty)")
    return VERIFIED_WORDS[text.casefold()]


# --- ingest ---------------------------------------------------------------------------------------

@dataclass
class _Row:
    """One accepted-so-far input row in the tidy schema."""

    municipality: object
    data_point_id: str
    year: float | None
    value: float | None
    value_text: str
    unit: str
    status: str
    source: object
    note: str | None
    quality_level: int | None
    verified: bool | None


def _unit_factor(entry: Entry, printed_unit: str | None, unit_column: str, registry_unit: str, dp: str,
                 readings) -> tuple[float, str | None, list[tuple[str, str]]]:
    """The factor into the registry unit, the note recording a conversion, and the unit errors of one value.

    The unit may be typed in the value cell (``2,74 %``), implied by a percentage format, or given in
    the printed-unit column; where two are given they must mean the same.
    """
    def reading_of(unit: str):
        return observations.normalise_unit(unit, registry_unit, *readings)

    errors = []
    in_cell = entry.unit
    if in_cell and printed_unit and observations.unit_key(in_cell) != observations.unit_key(printed_unit):
        a, b = reading_of(in_cell), reading_of(printed_unit)
        if a is None or b is None or a.factor != b.factor:
            where = "is formatted as a percentage" if entry.percent_format else f"says '{in_cell}'"
            errors.append((unit_column, f"'{printed_unit}' disagrees with the value cell, which {where} "
                                        f"({entry.text}); make them agree"))
    printed = printed_unit or in_cell
    if not printed:
        return 1.0, None, errors
    reading = reading_of(printed)
    if reading is None and entry.percent_format and not printed_unit:
        errors.append(("value", f"the cell is formatted as a percentage ({entry.text}) but the unit of {dp} is "
                                f"'{registry_unit}'; remove the percentage format and enter the number"))
    elif reading is None:
        errors.append((unit_column if printed_unit else "value",
                       f"'{printed}' is not the registry unit '{registry_unit}' of {dp}, nor a unit that means it "
                       f"({paths.UNIT_ALIASES.name}) or converts into it ({observations.UNIT_CONVERSIONS.name}); "
                       f"enter the value in '{registry_unit}'"))
    elif reading.factor != 1:
        return reading.factor, observations.conversion_note(float(entry.number), printed, reading), errors
    return 1.0, None, errors


def _read_row(cells: dict, fmt: object, units: dict[str, str], readings) -> tuple[_Row | None, list[tuple[str, str]]]:
    """One row (cells by column, the value cell's number format) read as meant, or the (column, message) of
    every cell that cannot be.

    ``readings`` are the unit aliases and conversions (:func:`analysis.observations.normalise_unit`).
    """
    errors: list[tuple[str, str]] = []
    dp = _text(cells["data_point_id"])
    registry_unit = units.get(dp)

    def attempt(column, read, *args):
        try:
            return read(cells.get(column), *args)
        except CellError as exc:
            errors.append((column, str(exc)))
            return None

    entry = attempt("value", read_value, fmt, registry_unit or "")
    status = attempt("status", read_status)
    quality = attempt("quality_level", read_quality_level)
    verified = attempt("verified", read_verified)
    unit_column = next((c for c in ("printed_unit", "unit") if _text(cells.get(c))), "printed_unit")
    printed_unit = _text(cells.get(unit_column)) or None
    for column in ("source", "comment", unit_column):
        if len(_text(cells.get(column))) > MAX_TEXT_LENGTH:
            errors.append((column, f"is {len(_text(cells.get(column)))} characters long; "
                                   f"the limit is {MAX_TEXT_LENGTH}"))
    year = attempt("year", read_year)
    if errors or entry is None and status is None:
        return None, errors

    # the status: from the status cell, or a status word in the value cell; the two must agree
    if entry is not None and entry.status and status and status != entry.status:
        errors.append(("status", f"'{status}' contradicts the value cell '{entry.text}' ({entry.status})"))
    if status in NO_VALUE_STATUSES and entry is not None and entry.number is not None:
        errors.append(("status", f"'{status}' contradicts the value {entry.text} in column 'value'; clear the "
                                 "value or set the status to reported or partial"))
    status = status or (entry.status if entry is not None and entry.status else "reported")
    number = entry.number if entry is not None else None
    notes = [_text(cells.get("comment"))] if _text(cells.get("comment")) else []
    value_text = entry.text if entry is not None else _text(cells.get("status"))

    printed = printed_unit or (entry.unit if entry is not None else None)
    if printed and number is not None and not entry.unit:
        value_text = f"{value_text} {printed}"
    factor = 1.0
    if registry_unit is not None and number is not None:
        factor, note, unit_errors = _unit_factor(entry, printed_unit, unit_column, registry_unit, dp, readings)
        notes += [note] if note else []
        errors += unit_errors
    if entry is not None and entry.percent_format:
        notes.append(f"read from a cell formatted as a percentage (stored {_number_text(number / 100)}, "
                     f"shown {entry.text})")
    if errors:
        return None, errors
    value = None if number is None else observations.convert(float(number), factor)
    return _Row(
        municipality=observations.normalise_name(cells["municipality"]) if _text(cells["municipality"]) else None,
        data_point_id=dp, year=year, value=value, value_text=value_text,
        unit=registry_unit if registry_unit is not None else (printed or ""), status=status,
        source=_text(cells["source"]) or None, note="; ".join(notes) or None,
        quality_level=quality, verified=verified), []


def ingest(path: Path, cat: pd.DataFrame | None = None, out_dir: Path | None = None,
           accept_partial: bool = False, reference: pd.DataFrame | None = None) -> IngestResult:
    """Validate a filled template or CSV and write accepted rows per municipality (a CSV with the columns of the
    sheet 'budget' is a budget: :func:`_ingest_budget`).

    Strict by default: any rejected row means nothing is written and InputError is raised.
    With ``accept_partial`` the valid rows are written and the problems returned. Plausibility
    warnings (against ``reference``, default: the published and other ingested values) never block.
    """
    cat = catalogue.load() if cat is None else cat
    path = Path(path)
    if out_dir is None:
        paths.migrate_city_supplied()
    out_dir = Path(out_dir or paths.CITY_SUPPLIED)
    if budget.is_budget_csv(path):
        return _ingest_budget(path, out_dir, accept_partial)
    table = read_table(path)
    units = dict(zip(cat["data_point_id"], cat["unit"]))
    readings = (observations.load_unit_aliases(), observations.load_unit_conversions(cat=cat))
    problems = list(table.problems)
    index_of = {int(r): i for i, r in table.rows.items()}  # file row -> frame index
    bad = {index_of[p.row] for p in problems if p.row in index_of}
    records, record_index, skipped = [], [], 0
    formats = table.formats["value"].tolist()
    for i, cells in zip(table.frame.index, table.frame.to_dict("records")):
        row, errors = _read_row(cells, formats[i], units, readings)
        problems += [Problem(str(path), int(table.rows[i]), column, message) for column, message in errors]
        if errors or i in bad:
            bad.add(i)
        elif row is None:
            skipped += 1
        else:
            records.append(row)
            record_index.append(i)
    tidy_frame = pd.DataFrame([vars(r) for r in records], index=record_index,
                              columns=[f for f in _Row.__dataclass_fields__]).assign(source_type="city-supplied")
    rows = table.rows
    city = validation.problems(tidy_frame, city_rows_schema(), path, row_numbers=rows)
    problems += city
    bad |= {index_of[p.row] for p in city if p.column == "municipality"}
    tidy_frame = _attribute(tidy_frame, path, rows, problems, bad)
    bad |= {index_of[p.row] for p in city if p.row in index_of}
    good = tidy_frame.drop(index=[i for i in bad if i in tidy_frame.index])
    checks = observations.validate(good, path, cat, row_numbers=rows)
    problems += checks
    bad |= {index_of[p.row] for p in checks if p.row in index_of}
    order = {c: n for n, c in enumerate(table.frame.columns)}
    problems.sort(key=lambda p: (p.row or 0, order.get(p.column, len(order))))
    budget_rows, budget_problems = _budget_sheet(path)
    problems += budget_problems
    own_targets, target_problems = _targets_sheet(path, cat)
    problems += target_problems
    if problems and not accept_partial:
        raise InputError(problems)
    accepted = tidy_frame.drop(index=[i for i in bad if i in tidy_frame.index])
    reference = _reference(cat, out_dir) if reference is None else reference
    warnings = plausibility(accepted, reference, path, rows, cat)
    accepted = observations.tidy(_with_warnings(accepted, warnings, index_of))
    written, replaced = [], 0
    for number, part in accepted.groupby("kommunenummer", sort=True):
        target = out_dir / f"{municipalities.registry().entity(number).slug}.csv"
        merged, n = merge_with_existing(part, target, cat)
        replaced += n
        written.append(write_csv(merged, target))
    written += budget.store(budget_rows, out_dir)
    written += policy.store_city_targets(own_targets, out_dir / policy.CITY_TARGETS.name)
    return IngestResult(accepted, skipped, problems, written, replaced, warnings, budget_rows, own_targets)


def _ingest_budget(path: Path, out_dir: Path, accept_partial: bool) -> IngestResult:
    """A budget CSV (the columns of the sheet 'budget'), validated as that sheet is and stored under
    ``<out_dir>/budget/``; strict unless ``accept_partial``, as for observations."""
    rows, problems = budget.read_sheet(path)
    if problems and not accept_partial:
        raise InputError(problems)
    return IngestResult(pd.DataFrame(), 0, problems, budget.store(rows, out_dir), budget=rows)


def _targets_sheet(path: Path, cat: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """The municipality's own targets from a workbook's sheet 'targets' (none for a CSV, a workbook without the
    sheet or with none filled in), and its problems; a sheet with any problem gives no targets."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return pd.DataFrame(), []
    try:
        return policy.read_city_targets(path, cat, required=False), []
    except InputError as exc:
        return pd.DataFrame(), list(exc.problems)


def _budget_sheet(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """The accepted rows and problems of a workbook's sheet 'budget' (none for a CSV or a workbook without it)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return pd.DataFrame(columns=list(budget.STORED)), []
    return budget.read_sheet(path)


def _attribute(frame: pd.DataFrame, path: Path, rows: pd.Series, problems: list[Problem], bad: set) -> pd.DataFrame:
    """Each row's municipality resolved through the registry in its year (number or name, did-you-mean on a miss):
    the label, today's number and the number the value was published under; a mapping note joins the row's note."""
    frame = frame.assign(kommunenummer=pd.Series(pd.NA, index=frame.index, dtype="string"),
                         reported_kommunenummer=pd.Series(pd.NA, index=frame.index, dtype="string"))
    todo = frame.index[frame["municipality"].notna() & frame["year"].notna() & ~frame.index.isin(list(bad))]
    who, unknown = municipalities.attribute_rows(frame.loc[todo, "municipality"],
                                                 frame.loc[todo, "year"].astype(int), str(path), rows.loc[todo])
    problems += unknown
    bad.update(who.index[who["kommunenummer"].isna()])
    done = who.index[who["kommunenummer"].notna()]
    for column in ("municipality", "kommunenummer", "reported_kommunenummer"):
        frame.loc[done, column] = who.loc[done, column]
    for i in done[who.loc[done, "mapping_note"].astype(bool).to_numpy()]:
        frame.loc[i, "note"] = "; ".join(n for n in (frame.at[i, "note"], who.at[i, "mapping_note"])
                                         if isinstance(n, str) and n)
    return frame


def _reference(cat: pd.DataFrame, out_dir: Path) -> pd.DataFrame:
    """The real values a new value is compared with: published values and every ingested city's values."""
    frames = [observations.load_published(cat=cat), load_city_supplied(out_dir, cat)]
    return pd.concat([f for f in frames if not f.empty], ignore_index=True)


def plausibility(accepted: pd.DataFrame, reference: pd.DataFrame, path: Path, rows: pd.Series,
                 cat: pd.DataFrame | None = None) -> list[Problem]:
    """Warnings for values far outside the panel's distribution of the same data point (they do not block).

    The panel is the other municipalities' real (published or city-supplied) scored values. With at
    least :data:`MIN_PANEL` of them and a spread (IQR > 0), a value beyond Tukey's far-out fences
    Q1 − 3·IQR, Q3 + 3·IQR is flagged. With fewer (the published panel has at most two values
    per data point), the distribution estimated from them and the documented assumptions
    (``analysis.simulate.assumptions``) is used: a value more than :data:`FAR_SPREADS` standard
    deviations from its centre, on the logit or log scale (:func:`_latent_z`), is flagged.
    """
    from analysis import simulate

    real = observations.scored(reference[reference["source_type"] != "simulated"])
    known = set(real["municipality"])
    checked = accepted[accepted["value"].notna() & accepted["status"].isin(observations.SCORED_STATUSES)]
    panel_of = checked["municipality"].where(checked["municipality"].isin(known), "")  # one panel for newcomers
    warnings = []
    for municipality, part in checked.groupby(panel_of, sort=True):
        panel = real[real["municipality"] != municipality]  # its own earlier values are not its panel
        expected = simulate.assumptions(cat, calibration=panel).set_index("data_point_id")
        by_point = {dp: g.to_numpy(float) for dp, g in panel.groupby("data_point_id")["value"]}
        for dp, group in part.groupby("data_point_id", sort=True):
            others, values = by_point.get(dp, np.array([])), group["value"].to_numpy(float)
            if len(others) >= MIN_PANEL:
                q1, q3 = np.percentile(others, [25, 75])
                lo, hi = q1 - FAR_OUT * (q3 - q1), q3 + FAR_OUT * (q3 - q1)
                flagged = (q3 > q1) & ((values < lo) | (values > hi))
                why = (f"far outside the panel's values of {dp} ({len(others)} values, {others.min():g}–"
                       f"{others.max():g}; far-out fences [{lo:g}, {hi:g}])")
            elif dp in expected.index and (z := _latent_z(values, expected.loc[dp])) is not None:
                flagged = np.abs(z) > FAR_SPREADS
                why = (f"more than {FAR_SPREADS:g} standard deviations from the value expected for {dp} (about "
                       f"{expected.at[dp, 'centre']:g}, from {len(others)} panel value(s) and the documented "
                       "assumptions of analysis.simulate)")
            else:
                continue
            for i in group.index[flagged]:
                warnings.append(Problem(str(path), int(rows[i]), "value",
                                        f"{group.at[i, 'value']:g} {group.at[i, 'unit']} is {why}; kept, check it"))
    return sorted(warnings, key=lambda w: w.row)


def _latent_z(value: np.ndarray, expected: pd.Series) -> np.ndarray | None:
    """How many standard deviations each value lies from the expected centre on the data point's own scale.

    The scale is that of ``analysis.simulate``: logit of the position in the range for bounded
    units, log for unbounded ones (so a count ten times the usual is as far as a tenth of it); None
    for Yes/No and compositional data points.
    """
    from scipy.special import logit

    from analysis import simulate

    if expected["kind"] == "logit":
        p = np.clip((value - expected["lo"]) / (expected["hi"] - expected["lo"]), simulate.LOGIT_EDGE,
                    1 - simulate.LOGIT_EDGE)
        return (logit(p) - expected["mu"]) / expected["s"]
    if expected["kind"] == "log":
        return (np.log(np.maximum(value, simulate.LOG_FLOOR)) - expected["mu"]) / expected["s"]
    return None


def _with_warnings(accepted: pd.DataFrame, warnings: list[Problem], index_of: dict[int, int]) -> pd.DataFrame:
    """Accepted rows with each plausibility warning appended to the row's note (the value's provenance)."""
    out = accepted.copy()
    for warning in warnings:
        i = index_of[warning.row]
        text = f"plausibility warning: {warning.message}"
        out.at[i, "note"] = text if pd.isna(out.at[i, "note"]) else f"{out.at[i, 'note']}; {text}"
    return out


def merge_with_existing(new: pd.DataFrame, target: Path, cat: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Earlier ingested rows of this municipality plus the new ones; a new row replaces the same data point and year."""
    if not target.exists():
        return new, 0
    old = read_csv(target, **STORED)
    key = ["municipality", "data_point_id", "year"]
    old_keys = pd.MultiIndex.from_frame(old[key])
    clash = old_keys.isin(pd.MultiIndex.from_frame(new[key]))
    return observations.tidy(pd.concat([old[~clash], new], ignore_index=True)), int(clash.sum())


NAME_RULES = (
    (lambda text: len(text) <= MAX_NAME_LENGTH, f"a municipality name has at most {MAX_NAME_LENGTH} characters"),
    (lambda text: not (any(ch in text for ch in ("/", "\\")) or text.startswith(".") or ".." in text),
     "a municipality name must not contain '/', '\\' or '..' or start with '.'"),
    (lambda text: not any(ord(ch) < 32 for ch in text), "a municipality name must not contain control characters"),
)
"""What a municipality name must be to name a file: (rule, message)."""


def city_rows_schema() -> "pa.DataFrameSchema":
    """What a city-supplied row needs beyond the tidy observation schema: a usable municipality name and a source."""
    import pandera.pandas as pa

    from analysis.validation import check, text

    name_checks = [check(lambda s, rule=rule: s.map(lambda v: rule(str(v))).astype(bool), message)
                   for rule, message in NAME_RULES]
    return pa.DataFrameSchema({
        "municipality": text(required=False, checks=name_checks),
        "source": text(message="empty; say where the value comes from"),
    })


def load_city_supplied(directory: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every ingested city-supplied file, re-validated, as one tidy frame (empty if there are none)."""
    if directory is None:
        paths.migrate_city_supplied()
    directory = Path(directory or paths.CITY_SUPPLIED)
    frames = []
    for file in sorted(directory.glob("*.csv")):
        if file.name == cities.FILE_NAME:  # the registry of cities outside Norway, not observations
            continue
        frame = read_csv(file, **STORED)
        problems = observations.validate(frame, file, cat)
        if problems:
            raise InputError(problems)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(observations.COLUMNS))
    return observations.tidy(pd.concat(frames, ignore_index=True))
