"""Budget alignment: net operating expenditure per KOSTRA function against the municipality's gap per SDG goal.

A city gives its net operating expenditure (netto driftsutgifter, NOK) per KOSTRA function and year
in the sheet 'budget' of its template, or as a CSV with the same columns (:func:`is_budget_csv`);
:func:`read_sheet` validates either and the ingest stores it in ``data/external/city_supplied/budget/``.
The function list is ``data/raw/kostra_functions.csv``; ``data/raw/budget_function_map.csv`` maps each
function to U4SSC categories and SDG goals with weights that sum to 1 (the project's reading, cited row
by row; docs/budget.md). A goal's spending share is the spending its functions carry (amount × weight)
over the total of the budget, in %; its gap is 100 − its mean achievement of target (analysis.sdg), in
percentage points. A goal has a large gap when its gap is above the median gap of the scored goals, and
little spending when its share is at or below their median share; :func:`alignment` names the goals with
a large gap and little spending, and those with a small gap and much spending. Where a municipality
supplied no budget, the demonstration simulates one (:func:`simulate`), labelled simulated everywhere;
supplied and simulated budgets are never mixed.
"""

from __future__ import annotations

import html
import io
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from typing import TYPE_CHECKING

from analysis import catalogue, paths, validation
from analysis.errors import InputError, Problem
from analysis.files import read_csv, write_csv

if TYPE_CHECKING:
    import pandera.pandas as pa

FUNCTIONS = "kostra_functions.csv"
MAP = "budget_function_map.csv"
"""File names in ``paths.RAW`` of the function list and of the mapping."""
SHEET = "budget"
AMOUNT = "net_operating_expenditure_nok"
REQUIRED = ("municipality", "function_code", "year", AMOUNT, "source")
TEMPLATE_COLUMNS = ("municipality", "function_code", "function_name", "year", AMOUNT, "source", "comment")
STORED = ("municipality", "kommunenummer", "reported_kommunenummer", "function_code", "year", AMOUNT, "source_type",
          "source", "note", "ingested_from")
CHECKED = ("yes", "partly", "no")
MAX_ROWS = 5000
"""Most budget rows read (60 functions × 80 years fit)."""
WEIGHT_TOLERANCE = 1e-9
NO_FUNCTION = "no KOSTRA function"
"""The alignment of a goal that no function of the mapping serves (its spending share is 0 by construction)."""

ASSUMED_SHARES = {
    "Administration and governance": 0.08, "Kindergarten": 0.14, "Primary school": 0.22, "Health and care": 0.31,
    "Social services": 0.06, "Child welfare": 0.04, "Housing": 0.01, "Planning and business": 0.01,
    "Transport": 0.03, "Fire and emergency": 0.02, "Water, wastewater and waste": 0.02, "Culture and nature": 0.01,
    "Culture": 0.05,
}
"""The simulation's assumed share of each service area in a municipality's net operating expenditure.

A demonstration assumption of the project (health and care about a third, schools about a fifth,
kindergartens about a seventh; fee-financed water, wastewater and waste little net), not data.
"""
CONCENTRATION = 2000.0
"""Dirichlet concentration of the simulated shares around the assumed ones (larger: closer)."""
TOTAL_MEDIAN_NOK = 3e9
TOTAL_LOG_SD = 0.6
"""Simulated total net operating expenditure: log-normal with this median (NOK) and spread (a demonstration scale)."""


# --- the function list and the mapping ---------------------------------------------------------------

def functions_schema() -> pa.DataFrameSchema:
    """The KOSTRA function list's schema: unique three-digit codes, names in both languages, a source and its check."""
    import pandera.pandas as pa

    from analysis.validation import check, one_of, text

    code = text(checks=[check(lambda s: s.str.fullmatch(r"\d{3}").fillna(False).astype(bool),
                              "expected a three-digit KOSTRA function code")])
    return pa.DataFrameSchema({
        "function_code": code, "name_nb": text(), "name_en": text(), "service_area": text(), "source": text(),
        "source_checked": one_of(CHECKED, what="a check,"), "notes": text(required=False),
    }, unique=["function_code"], report_duplicates="exclude_first")


def load_functions(path: Path | None = None) -> pd.DataFrame:
    """The KOSTRA function list, checked against :func:`functions_schema`."""
    path = Path(path or paths.RAW / FUNCTIONS)
    return validation.once(path, (), lambda: validation.read_checked(path, functions_schema(), empty=""))


def _weights_sum_to_one(frame: pd.DataFrame) -> pd.Series:
    """True for the rows of functions whose weights sum to 1."""
    weight = pd.to_numeric(frame["weight"], errors="coerce")
    total = weight.groupby(frame["function_code"]).transform("sum")
    return (total - 1).abs() <= WEIGHT_TOLERANCE


def map_schema(codes: list[str], cat: pd.DataFrame) -> pa.DataFrameSchema:
    """The function → category and goal mapping's schema, against the function list's ``codes`` and the catalogue.

    Every function is mapped; each row has a weight in (0, 1], a basis and what it rests on; a
    function's weights sum to 1; a category is one of the catalogue and its goal one its data points
    link to. A row without category and goal says that no U4SSC category measures the function.
    """
    import pandera.pandas as pa

    from analysis.validation import check, known, number, row_check, table_check, text

    if "sdg_target_list" not in cat.columns:  # the catalogue as read from text (analysis.raw)
        cat = cat.assign(sdg_target_list=catalogue.target_lists(cat["sdg_targets"]))
    links = catalogue.sdg_links(cat).merge(cat[["data_point_id", "dimension", "category"]], on="data_point_id")
    linked = set(zip(links["dimension"], links["category"], links["sdg_goal"].astype(str)))

    def goal_is_linked(d: pd.DataFrame) -> pd.Series:
        mapped = d[["dimension", "category", "sdg_goal"]].fillna("")
        return pd.Series([not any(m) or m in linked for m in mapped.itertuples(index=False, name=None)], index=d.index)

    in_range = check(lambda s: pd.to_numeric(s, errors="coerce").between(0, 1, inclusive="right"),
                     "expected a weight in (0, 1]")
    return pa.DataFrameSchema({
        "function_code": known(codes, "function code", FUNCTIONS),
        "dimension": text(required=False), "category": text(required=False), "sdg_goal": text(required=False),
        "weight": number(checks=[in_range]),
        "basis": text(message="empty; say what the row rests on"),
        "reasoning": text(message="empty; say what the row rests on"),
        "rests_on": text(message="empty; say what the row rests on"),
    }, checks=[
        row_check(goal_is_linked, "expected a goal that a data point of the row's dimension / category links to "
                                  "(catalogue sdg_targets)", "sdg_goal"),
        row_check(_weights_sum_to_one, "the weights of this function's rows must sum to 1", "weight"),
        table_check(lambda d: set(codes) <= set(d["function_code"]), f"every function of {FUNCTIONS} must be mapped",
                    "function_code", found=lambda d: f"none for {sorted(set(codes) - set(d['function_code']))}"),
    ])


def load_map(functions: pd.DataFrame | None = None, cat: pd.DataFrame | None = None,
             path: Path | None = None) -> pd.DataFrame:
    """The function → U4SSC category and SDG goal mapping, checked against :func:`map_schema`."""
    path = Path(path or paths.RAW / MAP)
    functions = load_functions() if functions is None else functions
    cat = catalogue.load() if cat is None else cat
    codes = sorted(functions["function_code"])
    frame = validation.once(path, (tuple(codes), catalogue.links_key(cat)),
                            lambda: validation.read_checked(path, map_schema(codes, cat), empty=""))
    return frame.assign(weight=frame["weight"].astype(float),
                        sdg_goal=pd.to_numeric(frame["sdg_goal"]).astype("Int64"))


def accepted_years() -> tuple[int, int]:
    """The years a budget may be given for: from the first year of the data (published or simulated) to the deadline."""
    from analysis import observations, params

    values = params.load(names=False)
    published = observations.load_published()["year"].dropna()
    first = min([*values["years"], *published.astype(int)])
    return int(first), int(values["deadline"])


# --- the template sheet --------------------------------------------------------------------------------

def write_sheet(wb, municipality: str, functions: pd.DataFrame | None = None) -> None:
    """Add the sheet 'budget' (one row per function to fill in, with checks) and the sheet 'functions' to ``wb``."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    functions = load_functions() if functions is None else functions
    first, last = accepted_years()
    ws = wb.create_sheet(SHEET)
    ws.append(list(TEMPLATE_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in functions.itertuples():
        ws.append([municipality, int(row.function_code), f"{row.name_nb} ({row.name_en})", None, None, None, None])
    n = len(functions) + 1
    letter = {name: chr(ord("A") + i) for i, name in enumerate(TEMPLATE_COLUMNS)}
    fill = PatternFill("solid", fgColor="FFF2CC")
    for name in ("year", AMOUNT, "source", "comment"):
        for r in range(2, n + 1):
            ws[f"{letter[name]}{r}"].fill = fill
    rows = f"2:{max(n, 2) + 500}"
    top, bottom = rows.split(":")
    code = DataValidation(type="list", formula1=f"functions!$A$2:$A${n}", showErrorMessage=True,
                          error="A KOSTRA function code from the sheet 'functions'")
    code.add(f"{letter['function_code']}{top}:{letter['function_code']}{bottom}")
    year = DataValidation(type="whole", operator="between", formula1=str(first), formula2=str(last),
                          showErrorMessage=True, error=f"A year between {first} and {last}")
    year.add(f"{letter['year']}{top}:{letter['year']}{bottom}")
    amount = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", showErrorMessage=True,
                            error="Net operating expenditure in NOK (whole kroner, not thousands), at least 0")
    amount.add(f"{letter[AMOUNT]}{top}:{letter[AMOUNT]}{bottom}")
    for rule in (code, year, amount):
        ws.add_data_validation(rule)
    for name, width in {"function_name": 60, AMOUNT: 30, "source": 40, "comment": 30}.items():
        ws.column_dimensions[letter[name]].width = width
    ws.freeze_panes = "C2"
    sheet = wb.create_sheet("functions")
    sheet.append(["function_code", "name_nb", "name_en", "service_area"])
    for row in functions.itertuples():
        sheet.append([int(row.function_code), row.name_nb, row.name_en, row.service_area])


def about_rows() -> list[list[str]]:
    """The lines of the sheet 'about' that explain the sheet 'budget'."""
    first, last = accepted_years()
    return [["budget", f"Sheet '{SHEET}': net operating expenditure (netto driftsutgifter) per KOSTRA function and "
                       f"year in NOK (whole kroner, not thousands), from {first} to {last}, with its source (budget "
                       "or accounts document and page). Copy a row for more years; leave rows you do not fill empty. "
                       "A negative net (a fee-financed service with a surplus) is refused: enter 0 and give the real "
                       "figure in the comment."]]


# --- reading the sheet ---------------------------------------------------------------------------------

def _text(value: object) -> str:
    from analysis import ingest
    return ingest._text(value)


def read_code(value: object, known: set[str]) -> str:
    """A function code cell as its three-digit code (201, '201', 201.0), or CellError."""
    from analysis.ingest import CellError

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _text(value)
    if text not in known:
        raise CellError(f"'{text}' is not a KOSTRA function code of {FUNCTIONS}; expected one of the codes in "
                        "the sheet 'functions' (e.g. 201, 202, 254)")
    return text


def read_amount(value: object) -> float:
    """A net operating expenditure cell as NOK (a number, or text like '1 234 567'), at least 0; else CellError."""
    from analysis.ingest import CellError, parse_decimal

    if isinstance(value, bool):
        raise CellError(f"{value} is not an amount in NOK")
    if isinstance(value, (int, float, np.number)):
        number = float(value)
    else:
        text = _text(value)
        try:
            number = float(parse_decimal(text))
        except CellError:
            raise CellError(f"'{text}' is not an amount in NOK; expected a number such as 1 234 567") from None
    if not math.isfinite(number):
        raise CellError(f"{number} is not a finite amount in NOK")
    if number < 0:
        raise CellError(f"{number:g} is negative; net operating expenditure here is at least 0 (a fee-financed "
                        "service with a surplus: enter 0 and give the real figure in the comment)")
    return number


def read_budget_year(value: object, first: int, last: int) -> int:
    """A year cell as a whole year within [first, last], else CellError."""
    from analysis.ingest import CellError, read_year

    year = read_year(value)
    if year is None or not float(year).is_integer():
        raise CellError(f"'{_text(value)}' is not a whole year")
    if not first <= year <= last:
        raise CellError(f"{int(year)} is outside the years of the data ({first}–{last})")
    return int(year)


def is_budget_csv(path: Path) -> bool:
    """Whether a CSV holds a budget: its header has the function code and the amount column of the sheet 'budget'."""
    import csv

    from analysis.files import csv_delimiter

    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = [_text(h) for h in next(csv.reader([f.readline()], delimiter=csv_delimiter(path)), [])]
    except UnicodeDecodeError:
        return False
    return "function_code" in header and AMOUNT in header


def _csv_cells(path: Path) -> tuple[list[str], list[list[tuple[object, bool]]]]:
    """Header and (text, False) cells of a budget CSV (UTF-8, comma or semicolon), each row as long as the header."""
    import csv

    from analysis.files import check_quoting, csv_delimiter

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.single(path, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8",
                                row=raw[: exc.start].count(b"\n") + 1) from exc
    delimiter = csv_delimiter(path)
    check_quoting(text, path, delimiter)
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = [_text(h) for h in lines[0]] if lines else []
    if len(lines) - 1 > MAX_ROWS:
        raise InputError.single(path, f"more than {MAX_ROWS} rows; the limit is {MAX_ROWS}")
    rows = []
    for row in lines[1:]:
        cells = [(value, False) for value in row[:len(header)]]
        rows.append(cells + [(None, False)] * (len(header) - len(cells)))
    return header, rows


def _cells(path: Path) -> tuple[list[str], list[list[tuple[object, bool]]]] | None:
    """Header and (value, is formula) cells of the sheet 'budget' or of a budget CSV, or None when the workbook
    has no such sheet."""
    from openpyxl import load_workbook

    if path.suffix.lower() == ".csv":
        return _csv_cells(path)

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        if SHEET not in wb.sheetnames:
            return None
        ws = wb[SHEET]
        ws.reset_dimensions()
        first = next(ws.iter_rows(min_row=1, max_row=1, max_col=len(TEMPLATE_COLUMNS) + 20), ())
        header = [_text(c.value) for c in first]
        while header and header[-1] == "":
            header.pop()
        rows = []
        for row in ws.iter_rows(min_row=2, max_col=max(len(header), 1)):
            if len(rows) == MAX_ROWS:
                raise InputError.single(f"{path}, sheet '{SHEET}'", f"more than {MAX_ROWS} rows; the limit is {MAX_ROWS}")
            cells = [(getattr(c, "value", None), getattr(c, "data_type", None) == "f") for c in row]
            rows.append(cells + [(None, False)] * (len(header) - len(cells)))
        return header, rows
    finally:
        wb.close()


def read_sheet(path: Path, functions: pd.DataFrame | None = None,
               years: tuple[int, int] | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """The filled rows of a workbook's sheet 'budget' (or of a budget CSV) as stored rows, and every problem
    (file, sheet, row, column).

    A row counts as filled when it has a year, an amount or a source; rows with none of them are
    skipped (the template lists every function). A workbook without the sheet has no budget.
    """
    from analysis import municipalities
    from analysis.ingest import CellError

    path = Path(path)
    sheet = "" if path.suffix.lower() == ".csv" else f", sheet '{SHEET}'"  # a CSV is the table itself
    where = f"{path}{sheet}"
    cells = _cells(path)
    if cells is None:
        return pd.DataFrame(columns=list(STORED)), []
    header, rows = cells
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return pd.DataFrame(columns=list(STORED)), [Problem(where, 1, None, f"missing columns {missing}; expected "
                                                                           f"{list(REQUIRED)}")]
    functions = load_functions() if functions is None else functions
    known = set(functions["function_code"])
    first, last = years or accepted_years()
    col = {name: header.index(name) for name in header if name}
    problems, records = [], []
    for n, row in enumerate(rows, start=2):
        value = {name: row[j][0] for name, j in col.items()}
        if not any(_text(value.get(c)) for c in ("year", AMOUNT, "source")):
            continue
        errors = [(name, "holds a formula; enter the value itself (copy, then Paste Special → Values)")
                  for name, j in col.items() if row[j][1] and name in TEMPLATE_COLUMNS]
        formula = {name for name, _ in errors}
        record = {"row": n}
        for name, read in (("function_code", lambda v: read_code(v, known)),
                           ("year", lambda v: read_budget_year(v, first, last)), (AMOUNT, read_amount)):
            if name in formula:
                continue
            try:
                record[name] = read(value.get(name))
            except CellError as exc:
                errors.append((name, str(exc)))
        for name in ("municipality", "source"):
            if not _text(value.get(name)):
                errors.append((name, "empty; " + ("name the municipality" if name == "municipality"
                                                  else "say where the amount comes from (document and page)")))
        record.update(municipality=_text(value.get("municipality")), source=_text(value.get("source")),
                      note=_text(value.get("comment")) or None)
        problems += [Problem(where, n, name, message) for name, message in errors]
        if not errors:
            records.append(record)
    frame = pd.DataFrame(records, columns=["row", "municipality", "function_code", "year", AMOUNT, "source", "note"])
    who, unknown = municipalities.attribute_rows(frame["municipality"], frame["year"], where, frame["row"])
    problems += unknown
    resolved = who["kommunenummer"].notna()
    attributed = ["municipality", "kommunenummer", "reported_kommunenummer"]
    frame = frame.assign(**{c: who[c] for c in attributed})[resolved]
    seen: dict[tuple, int] = {}
    duplicate = []
    for i, r in frame.iterrows():
        key = (r["kommunenummer"], r["function_code"], r["year"])
        if key in seen:
            problems.append(Problem(where, int(r["row"]), "function_code",
                                    f"function {r['function_code']} in {r['year']} is already given in row {seen[key]}; "
                                    "keep one of them"))
            duplicate.append(i)
        else:
            seen[key] = int(r["row"])
    frame = frame.drop(index=duplicate)
    frame = frame.assign(source_type="city-supplied",
                         ingested_from=[f"{path.name}{sheet}, row {r}" for r in frame["row"]])
    problems.sort(key=lambda p: (p.row or 0, TEMPLATE_COLUMNS.index(p.column) if p.column in TEMPLATE_COLUMNS else 99))
    return frame.reindex(columns=list(STORED)).reset_index(drop=True), problems


def store(accepted: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Accepted budget rows into ``out_dir/budget/<number>-<slug>.csv``; a new row replaces the same function and year."""
    from analysis import municipalities

    written = []
    for number, part in accepted.groupby("kommunenummer", sort=True):
        target = Path(out_dir) / SHEET / f"{municipalities.registry().entity(number).slug}.csv"
        if target.exists():
            old = read_csv(target, dtype={"function_code": str, "kommunenummer": str, "reported_kommunenummer": str})
            keep = ~pd.MultiIndex.from_frame(old[["function_code", "year"]]).isin(
                pd.MultiIndex.from_frame(part[["function_code", "year"]]))
            part = pd.concat([old[keep], part], ignore_index=True)
        part = part.sort_values(["year", "function_code"], kind="mergesort").reset_index(drop=True)
        written.append(write_csv(part.reindex(columns=list(STORED)), target))
    return written


def load_supplied(directory: Path | None = None, functions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every stored city budget, re-checked (known codes, amounts at least 0), as one frame (empty if none)."""
    directory = Path(directory or paths.CITY_SUPPLIED / SHEET)
    functions = load_functions() if functions is None else functions
    frames = []
    for file in sorted(directory.glob("*.csv")):
        frame = read_csv(file, dtype={"function_code": str, "kommunenummer": str, "reported_kommunenummer": str})
        bad = [Problem(str(file), int(i) + 2, "function_code", f"unknown function code '{c}'")
               for i, c in frame["function_code"].items() if c not in set(functions["function_code"])]
        bad += [Problem(str(file), int(i) + 2, AMOUNT, f"'{v}' is not an amount of at least 0")
                for i, v in pd.to_numeric(frame[AMOUNT], errors="coerce").items() if not v >= 0]
        if bad:
            raise InputError(bad)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(STORED))
    return pd.concat(frames, ignore_index=True)


# --- simulated budgets ---------------------------------------------------------------------------------

def source_text(seed: int) -> str:
    """The source of a simulated budget row."""
    return f"simulated by analysis.budget (seed={seed})"


def simulate(municipality: str, year: int, seed: int, functions: pd.DataFrame | None = None) -> pd.DataFrame:
    """A seeded, labelled simulated budget of one municipality and year: a Dirichlet draw around the assumed
    shares (:data:`ASSUMED_SHARES`, split equally over an area's functions) times a log-normal total.

    The generator is seeded with the seed and a checksum of the name, so a municipality's budget does
    not depend on which others are simulated. Amounts are rounded to whole thousands of NOK.
    """
    functions = load_functions() if functions is None else functions
    rng = np.random.default_rng([int(seed), zlib.crc32(municipality.encode("utf-8"))])
    per_area = functions.groupby("service_area")["function_code"].transform("size")
    alpha = CONCENTRATION * functions["service_area"].map(ASSUMED_SHARES).to_numpy(float) / per_area.to_numpy(float)
    shares = rng.dirichlet(alpha)
    total = TOTAL_MEDIAN_NOK * math.exp(TOTAL_LOG_SD * rng.standard_normal())
    amounts = np.round(shares * total, -3)
    return pd.DataFrame({
        "municipality": municipality, "kommunenummer": pd.NA, "reported_kommunenummer": pd.NA,
        "function_code": functions["function_code"].to_numpy(), "year": int(year), AMOUNT: amounts,
        "source_type": "simulated", "source": source_text(seed),
        "note": "simulated net operating expenditure (Dirichlet around analysis.budget.ASSUMED_SHARES); "
                "not a measurement", "ingested_from": pd.NA})


def for_municipality(supplied: pd.DataFrame, municipality: str, include_simulated: bool, year: int,
                     seed: int, functions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The budget a profile shows: the municipality's latest supplied year, else a simulated one (if allowed), else none."""
    own = supplied[supplied["municipality"] == municipality]
    if not own.empty:
        return own[own["year"] == own["year"].max()].reset_index(drop=True)
    if include_simulated:
        return simulate(municipality, year, seed, functions)
    return supplied.iloc[0:0]


# --- alignment -----------------------------------------------------------------------------------------

def goal_spending(budget: pd.DataFrame, mapping: pd.DataFrame) -> pd.DataFrame:
    """Per SDG goal (1–17): the spending its functions carry (amount × weight, NOK) and its share of the total (%).

    The total is the whole budget, including functions that serve no U4SSC category, so the shares
    of the goals sum to the mapped part of the budget.
    """
    total = float(budget[AMOUNT].sum())
    parts = budget[["function_code", AMOUNT]].merge(mapping[["function_code", "sdg_goal", "weight"]],
                                                    on="function_code", how="left")
    parts = parts[parts["sdg_goal"].notna()]
    parts = parts.assign(allocated=parts[AMOUNT] * parts["weight"], sdg_goal=parts["sdg_goal"].astype(int))
    spent = parts.groupby("sdg_goal")["allocated"].sum().reindex(list(catalogue_goals()), fill_value=0.0)
    top = (parts.sort_values(["sdg_goal", "allocated", "function_code"], ascending=[True, False, True],
                             kind="mergesort").groupby("sdg_goal")["function_code"]
           .agg(lambda codes: ", ".join(list(codes)[:3])))
    out = pd.DataFrame({"sdg_goal": spent.index, "spending_nok": spent.to_numpy()})
    out["spending_share"] = 100.0 * out["spending_nok"] / total if total > 0 else np.nan
    out["functions"] = out["sdg_goal"].map(top).fillna("")
    return out


def catalogue_goals() -> range:
    """The 17 SDG goals."""
    return range(1, catalogue.N_GOALS + 1)


def alignment(goals: pd.DataFrame, spending: pd.DataFrame, fundable: set[int]) -> pd.DataFrame:
    """Spending share against gap per goal, with the goal's place by the median rule.

    ``goals`` is one municipality's rows of :func:`analysis.sdg.goal_dashboard` (mean achievement
    0–100); gap = 100 − mean achievement. The rule compares the goals that have a gap and that some
    KOSTRA function can fund (``fundable``: goals of the mapping): ``large gap`` is a gap above their
    median and ``little spending`` a share at or below their median share; ``alignment`` reads
    "large gap, little spending", "small gap, much spending", "" (the other two corners, or no gap)
    or "no KOSTRA function" (a goal no function of the mapping serves, whatever its gap).
    """
    table = spending.merge(goals[["sdg_goal", "mean_achievement", "n_scored", "n_simulated"]], on="sdg_goal",
                           how="left")
    table["gap"] = 100.0 - table["mean_achievement"]
    can_fund = table["sdg_goal"].isin(fundable)
    has_gap = table["gap"].notna() & can_fund
    median_gap = table.loc[has_gap, "gap"].median()
    median_share = table.loc[has_gap, "spending_share"].median()
    large = has_gap & (table["gap"] > median_gap)
    little = has_gap & (table["spending_share"] <= median_share)
    table["alignment"] = np.select([large & little, has_gap & ~large & ~little],
                                   ["large gap, little spending", "small gap, much spending"], default="")
    table.loc[~can_fund, "alignment"] = NO_FUNCTION
    table.attrs.update(median_gap=median_gap, median_share=median_share)
    return table[["sdg_goal", "spending_share", "gap", "alignment", "spending_nok", "functions", "mean_achievement",
                  "n_scored", "n_simulated"]]


def plot(table: pd.DataFrame, municipality: str, simulated: bool) -> plt.Figure:
    """Spending share (% of net operating expenditure) against gap (percentage points) per goal; medians dashed."""
    from analysis import palette, scoring

    shown = table[table["gap"].notna() & table["alignment"].ne(NO_FUNCTION)]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    styles = {"large gap, little spending": (palette.BAND_HEX[scoring.BAND_LABELS[0]], "^"),
              "small gap, much spending": (palette.BAND_HEX[scoring.BAND_LABELS[3]], "s"),
              "": ("#777777", "o")}
    for kind, (colour, marker) in styles.items():
        part = shown[shown["alignment"] == kind]
        ax.scatter(part["gap"], part["spending_share"], s=70, marker=marker, edgecolors=colour, linewidths=1.5,
                   facecolors="none" if simulated else colour, label=kind or "other goals")
    for row in shown.itertuples():
        ax.annotate(f"SDG {row.sdg_goal}", (row.gap, row.spending_share), textcoords="offset points", xytext=(5, 4),
                    fontsize=8)
    ax.axvline(table.attrs.get("median_gap", np.nan), color="#999999", linestyle="--", linewidth=1,
               label="medians of gap and share")
    ax.axhline(table.attrs.get("median_share", np.nan), color="#999999", linestyle="--", linewidth=1)
    ax.set_xlabel("Gap to target (percentage points: 100 − mean achievement)")
    ax.set_ylabel("Spending share (% of net operating expenditure)")
    title = f"{municipality}: budget against gap per SDG goal"
    ax.set_title(title + ("\nSIMULATED budget (demonstration, not the municipality's)" if simulated else ""), y=1.0)
    # below the axes, never over a point (and "best" searched every position: 50 ms a figure)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


@dataclass
class Alignment:
    """One municipality's budget alignment: the table per goal, the two lists, and the figure; renders itself."""

    municipality: str
    table: pd.DataFrame
    year: int | None
    source_type: str | None
    needs_more: list[int] = field(default_factory=list)
    spends_more: list[int] = field(default_factory=list)
    figure: object = None

    @property
    def simulated(self) -> bool:
        return self.source_type == "simulated"

    def sentences(self, lang: str = "en") -> list[str]:
        """The findings in words: where the budget comes from, and the goals of each list."""
        from analysis import i18n

        if self.source_type is None:
            return [i18n.message("budget.none", lang, municipality=self.municipality)]
        goals = lambda items: i18n.join([f"SDG {g}" for g in items], lang) if items else i18n.message(  # noqa: E731
            "budget.no_goal", lang)
        key = "budget.simulated" if self.simulated else "budget.supplied"
        return [i18n.message(key, lang, municipality=self.municipality, year=self.year),
                i18n.message("budget.needs_more", lang, goals=goals(self.needs_more)),
                i18n.message("budget.spends_more", lang, goals=goals(self.spends_more))]

    def _repr_html_(self) -> str:
        from analysis import present

        text = self.sentences()
        cls = f' class="{present.SIM_CLASS}"' if self.simulated else ""
        parts = [f"<p{cls}><strong>{html.escape(text[0])}</strong></p>"]
        parts += [f"<p>{html.escape(t)}</p>" for t in text[1:]]
        if self.figure is not None:
            parts.append(self.figure._repr_html_())
        if not self.table.empty:
            parts.append(present.key_table(self.table, SHEET, legend=True))
        return "\n".join(parts)


def build(goals: pd.DataFrame, budget: pd.DataFrame, municipality: str, mapping: pd.DataFrame | None = None,
          figure: bool = True) -> Alignment:
    """The alignment of one municipality's budget (one year) with its SDG goal roll-up."""
    from analysis import present

    if budget.empty:
        return Alignment(municipality, pd.DataFrame(), None, None)
    mapping = load_map() if mapping is None else mapping
    source_type = "simulated" if budget["source_type"].eq("simulated").any() else "city-supplied"
    table = alignment(goals, goal_spending(budget, mapping), set(mapping["sdg_goal"].dropna().astype(int)))
    table.insert(1, "year", int(budget["year"].iloc[0]))
    table["source_type"] = source_type
    result = Alignment(municipality, table, int(budget["year"].iloc[0]), source_type,
                       table.loc[table["alignment"] == "large gap, little spending", "sdg_goal"].tolist(),
                       table.loc[table["alignment"] == "small gap, much spending", "sdg_goal"].tolist())
    if figure:
        shown = table[table["gap"].notna() & table["alignment"].ne(NO_FUNCTION)]
        alt = ("Scatter plot of spending share (% of net operating expenditure) against gap to target (percentage "
               "points) per SDG goal: " + "; ".join(f"SDG {r.sdg_goal} gap {r.gap:.0f}, share {r.spending_share:.1f} %"
                                                   for r in shown.itertuples()) + ".")
        caption = " ".join(result.sentences())
        result.figure = present.described(plot(table, municipality, result.simulated), alt, caption)
    return result
