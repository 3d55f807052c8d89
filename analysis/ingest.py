"""City-supplied data: an Excel template to fill in, and validated ingest of filled workbooks or CSVs.

Accepted rows go to ``data/external/city_supplied/<municipality>.csv`` (``paths.CITY_SUPPLIED``) in
the tidy observation schema; ``data/raw`` is never written. Rows whose value is left empty are not observations and
are skipped (a city fills in what it has).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from analysis import catalogue, observations, paths
from analysis.errors import InputError, Problem, file_row
from analysis.files import atomic_path, read_csv, write_csv

SHEET = "data"
REQUIRED = ("municipality", "data_point_id", "value", "year", "source")
OPTIONAL = ("unit", "comment", "status")
TEMPLATE_INFO = ("dimension", "category", "data_point_name", "unit", "direction",
                 "core_or_advanced", "definition_short")


@dataclass
class IngestResult:
    """What an ingest accepted, skipped and rejected, and where accepted rows were written."""

    accepted: pd.DataFrame
    skipped_empty: int
    problems: list[Problem] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    replaced: int = 0
    """Rows of earlier ingests (same municipality, data point and year) that this ingest replaced."""


def write_template(municipality: str, target: Path, cat: pd.DataFrame | None = None) -> Path:
    """An Excel workbook with one row per data point for ``municipality`` to fill in."""
    cat = catalogue.load() if cat is None else cat
    municipality = observations.normalise_name(municipality)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    header = ["municipality", "data_point_id", *TEMPLATE_INFO, "value", "year", "source", "comment"]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for _, row in cat.iterrows():
        ws.append([municipality, row["data_point_id"], *[row[c] for c in TEMPLATE_INFO], None, None, None, None])
    n = len(cat) + 1
    col = {name: chr(ord("A") + i) for i, name in enumerate(header)}
    for name in ("value", "year", "source", "comment"):
        for r in range(2, n + 1):
            ws[f"{col[name]}{r}"].fill = fill
    year_rule = DataValidation(type="whole", operator="between", formula1="1900", formula2="2100",
                               showErrorMessage=True, error="A year between 1900 and 2100")
    year_rule.add(f"{col['year']}2:{col['year']}{n}")
    ws.add_data_validation(year_rule)
    yes_no = DataValidation(type="list", formula1='"Yes,No"', showErrorMessage=True,
                            error="Yes or No")
    percent = DataValidation(type="decimal", operator="between", formula1="0", formula2="100",
                             showErrorMessage=True, error="A percentage between 0 and 100")
    share = DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                           showErrorMessage=True, error="A number between 0 and 1")
    nonneg = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                            showErrorMessage=True, error="A number of at least 0")
    for r, unit in enumerate(cat["unit"], start=2):
        lo, hi = observations.value_bounds(unit)
        rule = yes_no if unit == catalogue.YES_NO_UNIT else percent if hi == 100 else \
            share if hi == 1 else nonneg
        rule.add(f"{col['value']}{r}")
    for rule in (yes_no, percent, share, nonneg):
        ws.add_data_validation(rule)
    widths = {"data_point_id": 24, "data_point_name": 40, "definition_short": 60, "unit": 22, "source": 40}
    for name, width in widths.items():
        ws.column_dimensions[col[name]].width = width
    ws.freeze_panes = "C2"
    about = wb.create_sheet("about")
    about.append(["U4SSC KPI data template"])
    about.append(["municipality", municipality])
    about.append(["how to fill in", "Give value, year and source for each data point you have; leave the "
                                    "rest empty. Use the unit shown. Yes/No data points take Yes or No."])
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return Path(target)


def read_table(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Read a filled workbook (sheet 'data') or UTF-8 CSV; return the frame and its file row numbers."""
    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "file not found")
    if path.stat().st_size == 0:
        raise InputError.single(path, "file is empty; expected a header row and data rows")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError) as exc:
            raise InputError.single(path, f"not a readable Excel workbook ({exc})") from exc
        if SHEET not in wb.sheetnames:
            raise InputError.single(path, f"no sheet named '{SHEET}'; found {wb.sheetnames}. "
                                          f"Use the sheet written by 'python -m analysis template'")
        rows = list(wb[SHEET].iter_rows(values_only=True))
        wb.close()
        if not rows or all(v is None for v in rows[0]):
            raise InputError.single(path, f"sheet '{SHEET}' is empty; expected a header row and data rows")
        header = [str(h).strip() if h is not None else "" for h in rows[0]]
        frame = pd.DataFrame(rows[1:], columns=header, dtype=object)
    elif suffix == ".csv":
        frame = read_csv(path, dtype=object, keep_default_na=False, na_values=[""], skip_blank_lines=False)
    else:
        raise InputError.single(path, f"unsupported file type '{suffix}'; expected .xlsx or .csv")
    frame = frame.dropna(how="all")
    if frame.empty:
        raise InputError.single(path, "no data rows below the header")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError.single(path, f"missing columns {missing}; expected at least {list(REQUIRED)}")
    rows_seen = pd.Series([file_row(i) for i in frame.index], index=frame.index)
    return frame.reset_index(drop=True), rows_seen.reset_index(drop=True)


def _to_number(text: object, unit: str) -> float | None:
    """A cell as a float (accepting '95 424', '97,5' and Yes/No for Yes/No units), or None if it is not one."""
    if isinstance(text, (int, float, np.number)) and not isinstance(text, bool):
        return float(text)
    if unit == catalogue.YES_NO_UNIT:
        return observations.parse_yes_no(text)
    s = str(text).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return None


def ingest(path: Path, cat: pd.DataFrame | None = None, out_dir: Path | None = None,
           accept_partial: bool = False) -> IngestResult:
    """Validate a filled template or CSV and write accepted rows per municipality.

    Strict by default: any rejected row means nothing is written and InputError is raised.
    With ``accept_partial`` the valid rows are written and the problems returned.
    """
    cat = catalogue.load() if cat is None else cat
    path = Path(path)
    frame, rows = read_table(path)
    units = cat.set_index("data_point_id")["unit"]
    has_value = frame["value"].notna() & (frame["value"].astype(str).str.strip() != "")
    skipped = int((~has_value).sum())
    frame, rows = frame[has_value].reset_index(drop=True), rows[has_value].reset_index(drop=True)
    problems: list[Problem] = []
    values, years, unit_col, bad = [], [], [], set()
    for i, row in frame.iterrows():
        dp = str(row["data_point_id"]).strip()
        unit = units.get(dp, "")
        number = _to_number(row["value"], unit)
        if number is None and dp in units.index:
            expected = "Yes or No" if unit == catalogue.YES_NO_UNIT else "a number"
            problems.append(Problem(str(path), int(rows[i]), "value", f"'{row['value']}' is not {expected}"))
            bad.add(i)
        values.append(number)
        year = _to_number(row["year"], "") if pd.notna(row["year"]) else None
        if pd.notna(row["year"]) and year is None:
            problems.append(Problem(str(path), int(rows[i]), "year", f"'{row['year']}' is not a year"))
            bad.add(i)
        years.append(year)
        given = row.get("unit")
        unit_col.append(unit if given is None or pd.isna(given) or str(given).strip() == "" else str(given).strip())
    status = frame["status"] if "status" in frame.columns else pd.Series("reported", index=frame.index)
    tidy_frame = pd.DataFrame({
        "municipality": frame["municipality"].map(lambda m: observations.normalise_name(m) if pd.notna(m) else m),
        "data_point_id": frame["data_point_id"].map(lambda d: str(d).strip()),
        "year": pd.to_numeric(pd.Series(years, dtype="float64"), errors="coerce"),
        "value": pd.Series(values, dtype="float64"),
        "value_text": frame["value"].map(lambda v: str(v).strip()),
        "unit": unit_col,
        "status": status.fillna("reported").astype(str).str.strip(),
        "source_type": "city-supplied",
        "source": frame["source"],
        "note": frame["comment"] if "comment" in frame.columns else pd.NA,
    })
    for i in tidy_frame.index[tidy_frame["municipality"].notna()]:
        reason = check_name(tidy_frame.at[i, "municipality"])
        if reason:
            problems.append(Problem(str(path), int(rows[i]), "municipality",
                                    f"'{tidy_frame.at[i, 'municipality']}': a municipality name {reason}"))
            bad.add(i)
    for i in tidy_frame.index[tidy_frame["source"].isna()]:
        problems.append(Problem(str(path), int(rows[i]), "source", "empty; say where the value comes from"))
        bad.add(i)
    checks = observations.validate(tidy_frame.drop(index=list(bad)), path, cat, row_numbers=rows)
    problems += checks
    bad |= {int(rows[rows == p.row].index[0]) for p in checks if p.row is not None}
    if problems and not accept_partial:
        raise InputError(problems)
    accepted = observations.tidy(tidy_frame.drop(index=list(bad)))
    if out_dir is None:
        paths.migrate_city_supplied()
    out_dir = Path(out_dir or paths.CITY_SUPPLIED)
    written, replaced = [], 0
    for municipality, part in accepted.groupby("municipality", sort=True):
        target = out_dir / f"{municipality}.csv"
        merged, n = merge_with_existing(part, target, cat)
        replaced += n
        written.append(write_csv(merged, target))
    return IngestResult(accepted, skipped, problems, written, replaced)


def merge_with_existing(new: pd.DataFrame, target: Path, cat: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Earlier ingested rows of this municipality plus the new ones; a new row replaces the same data point and year."""
    if not target.exists():
        return new, 0
    old = read_csv(target, dtype={"value_text": str, "note": str})
    key = ["municipality", "data_point_id", "year"]
    old_keys = pd.MultiIndex.from_frame(old[key])
    clash = old_keys.isin(pd.MultiIndex.from_frame(new[key]))
    return observations.tidy(pd.concat([old[~clash], new], ignore_index=True)), int(clash.sum())


def check_name(name: object) -> str | None:
    """Why a municipality name cannot name a file (path separators, '..', control characters), or None."""
    text = str(name)
    if any(ch in text for ch in ("/", "\\")) or text.startswith(".") or ".." in text:
        return "must not contain '/', '\\' or '..' or start with '.'"
    if any(ord(ch) < 32 for ch in text):
        return "must not contain control characters"
    return None


def load_city_supplied(directory: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every ingested city-supplied file, re-validated, as one tidy frame (empty if there are none)."""
    if directory is None:
        paths.migrate_city_supplied()
    directory = Path(directory or paths.CITY_SUPPLIED)
    frames = []
    for file in sorted(directory.glob("*.csv")):
        frame = read_csv(file, dtype={"value_text": str, "note": str})
        problems = observations.validate(frame, file, cat)
        if problems:
            raise InputError(problems)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(observations.COLUMNS))
    return observations.tidy(pd.concat(frames, ignore_index=True))
