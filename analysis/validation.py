"""One validation engine for every table: pandera schemas whose failures become file/row/column problems.

Each table's schema lives with its concept (``catalogue``, ``targets``, ``invest``, ``observations``…)
and is checked through :func:`problems`: lazily, so every failure is reported at once, with the row
number a person sees in the file, the column, what was expected and the offending value. The
building blocks below (:func:`text`, :func:`one_of`, :func:`year`, …) give every schema the same
rules and the same wording; :mod:`analysis.raw` lists which schema checks each file of ``data/raw``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.errors import InputError, Problem, file_row

if TYPE_CHECKING:  # pandas and pandera are imported where frames are checked, so the year bounds stay cheap to import
    import pandas as pd
    import pandera.pandas as pa

FIRST_YEAR, LAST_YEAR = 1900, 2100
"""The years any input may refer to (one constant for every table and parameter)."""
YEARS_EXPECTED = f"expected a whole year from {FIRST_YEAR} to {LAST_YEAR}"


def whole_year(s: pd.Series) -> pd.Series:
    """True where a value is a whole year from FIRST_YEAR to LAST_YEAR (missing values are left to nullability)."""
    import pandas as pd
    year = pd.to_numeric(s, errors="coerce")
    return s.isna() | (year.between(FIRST_YEAR, LAST_YEAR) & year.eq(year.round()))


def is_finite_number(s: pd.Series) -> pd.Series:
    """True where a value reads as a finite number (missing values are left to nullability)."""
    import numpy as np
    import pandas as pd
    number = pd.to_numeric(s, errors="coerce")
    return s.isna() | (number.notna() & np.isfinite(number.astype(float)))


def is_blank(s: pd.Series) -> pd.Series:
    """True where a cell is missing or only spaces."""
    return s.isna() | s.astype("string").str.strip().eq("")


_FRAME_CHECK_COLUMNS: dict[str, str | None] = {}
"""Message of a frame-wide check → the column its problems are reported under."""
_TABLE_FOUND: dict[str, Callable[[pd.DataFrame], str]] = {}
"""Message of a whole-table check → what the table holds instead (shown as 'found')."""


def check(fn, message: str, **kwargs) -> pa.Check:
    """A column check whose ``error`` text is the message shown to the person who wrote the file."""
    import pandera.pandas as pa
    return pa.Check(fn, error=message, **kwargs)


def row_check(fn, message: str, column: str) -> pa.Check:
    """A check over whole rows (several columns) whose failures are reported under ``column``."""
    import pandera.pandas as pa
    _FRAME_CHECK_COLUMNS[message] = column
    return pa.Check(fn, error=message, ignore_na=False)


def table_check(fn: Callable[[pd.DataFrame], bool], message: str, column: str | None = None,
                found: Callable[[pd.DataFrame], str] | None = None) -> pa.Check:
    """A check of the whole table (one True or False, e.g. a count), reported once without a row.

    ``found`` describes what the table holds instead (e.g. the count), shown after the message.
    """
    import pandera.pandas as pa
    _FRAME_CHECK_COLUMNS[message] = column
    if found is not None:
        _TABLE_FOUND[message] = found
    return pa.Check(lambda d: bool(fn(d)), error=message, ignore_na=False)


# --- columns: the same rule and wording in every schema ---------------------------------------------

def text(required: bool = True, message: str | None = None, checks: Iterable[pa.Check] = (),
         optional_column: bool = False) -> pa.Column:
    """A text column; ``required``: no empty or blank cell (``message`` says what belongs there).

    ``optional_column``: a file may lack the column (files written before it existed).
    """
    import pandera.pandas as pa
    own = list(checks)
    if required:
        own.insert(0, check(lambda s: ~is_blank(s), message or "empty; a value is required", ignore_na=False))
    # any dtype: cells are text when read by read_text
    return pa.Column(None, nullable=True, checks=own, required=not optional_column)


def one_of(values: Iterable[str], required: bool = True, what: str = "") -> pa.Column:
    """A text column whose cells are one of ``values`` (empty allowed unless ``required``)."""
    values = list(values)
    expected = check(lambda s: s.isin(values), f"expected {what + ' ' if what else ''}one of {values}")
    return text(required, f"empty; expected one of {values}", [expected])


def number(required: bool = True, message: str = "not a finite number", checks: Iterable[pa.Check] = ()) -> pa.Column:
    """A column of finite numbers written as text (empty allowed unless ``required``)."""
    return text(required, "empty; expected a number", [check(is_finite_number, message), *checks])


def year(required: bool = True, optional_column: bool = False) -> pa.Column:
    """A column of whole years from FIRST_YEAR to LAST_YEAR (empty allowed unless ``required``)."""
    return text(required, f"empty; {YEARS_EXPECTED}", [check(whole_year, YEARS_EXPECTED)], optional_column)


def url(required: bool = True) -> pa.Column:
    """A column of web addresses (http:// or https://)."""
    return text(required, "empty; expected the source's URL",
                [check(lambda s: s.str.match(r"https?://"), "expected a URL (http:// or https://)")])


def known(values: Iterable[str], what: str, where: str, required: bool = True) -> pa.Column:
    """A column whose cells must be among ``values``: the ``what`` (e.g. 'data point id') of ``where``."""
    values = set(values)
    return text(required, f"empty; expected a {what} of {where}",
                [check(lambda s: s.isin(values), f"unknown {what}; expected a {what} of {where}")])


# --- the engine ------------------------------------------------------------------------------------

SHOWN_LENGTH = 60
"""The most characters of an offending value a message repeats."""


def shown(value: object) -> str:
    """A value as repeated in a message: control characters escaped, cut after SHOWN_LENGTH characters."""
    text = "".join(ch if ord(ch) >= 32 else f"\\x{ord(ch):02x}" for ch in str(value))
    return text if len(text) <= SHOWN_LENGTH else text[:SHOWN_LENGTH] + "…"


def _duplicate_message(frame: pd.DataFrame, index: object, key: list[str]) -> str:
    values = ", ".join(f"{c} '{shown(frame.at[index, c])}'" for c in key)
    return f"duplicate row for {values}; each {' + '.join(key)} may appear once"


def _blank_as_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that are empty or only spaces as missing, so that one rule (nullability) decides on them."""
    import pandas as pd
    text = [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]
    if not text:
        return frame
    return frame.assign(**{c: frame[c].mask(is_blank(frame[c])) for c in text})


def header_problems(frame: pd.DataFrame, schema: pa.DataFrameSchema, file: str) -> list[Problem]:
    """Missing required columns, and unknown ones where the schema is strict, named in the header row (row 1).

    A file with none of the expected columns (a wrong separator, another file) is one problem.
    """
    expected = list(schema.columns)
    missing = [c for c, col in schema.columns.items() if col.required and c not in frame.columns]
    if missing and not set(expected) & set(frame.columns):
        return [Problem(file, 1, None, f"missing columns {missing}; expected {expected}")]
    out = [Problem(file, 1, c, f"missing column; expected the columns {expected}") for c in missing]
    if schema.strict is True:
        out += [Problem(file, 1, str(c), f"unknown column; expected the columns {expected}")
                for c in frame.columns if c not in schema.columns]
    return out


def problems(frame: pd.DataFrame, schema: pa.DataFrameSchema, file: str | Path,
             row_numbers: pd.Series | None = None) -> list[Problem]:
    """Every failure of ``schema`` on ``frame`` as problems naming file, row, column and the value found."""
    import pandas as pd
    import pandera.pandas as pa
    from pandera.config import config_context
    file = str(file)
    header = header_problems(frame, schema, file)
    if any(p.message.startswith("missing") for p in header):
        return header
    frame = _blank_as_missing(frame.drop(columns=[p.column for p in header]))
    with config_context(validation_enabled=True, validation_depth="SCHEMA_AND_DATA"):
        try:
            schema.validate(frame, lazy=True)
            return header
        except pa.errors.SchemaErrors as err:
            cases = err.failure_cases
    key = list(schema.unique or [])
    out = []
    for case in cases.itertuples(index=False):
        index = case.index
        has_row = index is not None and not (isinstance(index, float) and pd.isna(index))
        row = None
        if has_row:
            row = int(row_numbers[index]) if row_numbers is not None else file_row(int(index))
        check_text = str(case.check)
        column = None if case.column in (None, "") else str(case.column)
        if case.schema_context == "DataFrameSchema" and check_text in _FRAME_CHECK_COLUMNS:
            if not has_row:
                column = _FRAME_CHECK_COLUMNS[check_text]
            elif column != _FRAME_CHECK_COLUMNS[check_text]:
                continue  # a row-wide check lists the row once per column: keep the column it is about
        elif check_text == "multiple_fields_uniqueness":
            if column != key[-1]:
                continue  # a duplicate row is listed once per key column: report it once, under the last
        elif case.schema_context == "DataFrameSchema" and "uniqueness" not in check_text:
            column = None
        if check_text == "not_nullable":
            message = "empty; a value is required"
        elif check_text == "field_uniqueness":
            message = f"duplicate value '{shown(case.failure_case)}'; values must be unique"
        elif check_text == "multiple_fields_uniqueness":
            message = _duplicate_message(frame, index, key)
        else:
            found = "" if not has_row or case.failure_case is None or pd.isna(case.failure_case) \
                else f" (found '{shown(case.failure_case)}')"
            if not has_row and check_text in _TABLE_FOUND:
                found = f" (found {_TABLE_FOUND[check_text](frame)})"
            message = f"{check_text}{found}"
        out.append(Problem(file, row, column, message))
    return header + sorted(set(out), key=lambda p: (p.row or 0, p.column or "", p.message))


def validate(frame: pd.DataFrame, schema: pa.DataFrameSchema, file: str | Path,
             row_numbers: pd.Series | None = None) -> pd.DataFrame:
    """``frame`` if it passes ``schema``, else InputError with every problem."""
    found = problems(frame, schema, file, row_numbers)
    if found:
        raise InputError(found)
    return frame


def read_text(path: str | Path, empty: str | None = None) -> pd.DataFrame:
    """A CSV of ``data/raw`` (or a city's) read as text: every cell a string, an empty cell missing (or ``empty``)."""
    from analysis.files import read_csv
    if empty is not None:
        return read_csv(Path(path), dtype=str, keep_default_na=False).fillna(empty)
    return read_csv(Path(path), dtype=str, keep_default_na=False, na_values=[""])


def table_problems(path: str | Path, schema: pa.DataFrameSchema) -> list[Problem]:
    """Every problem of one CSV against its schema (a file without data rows is one problem)."""
    frame = read_text(path)
    if frame.empty:
        return [Problem(str(path), None, None, "no data rows below the header")]
    return problems(frame, schema, path)


_ONCE: dict[tuple, pd.DataFrame] = {}
ONCE_KEPT = 32
"""Checked tables kept per process (:func:`once`); the oldest goes first."""


def file_key(path: str | Path) -> tuple[str, int, int] | None:
    """A file's identity for caching: its resolved path, modification time and size (None when it cannot be read)."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size


def once(path: str | Path, inputs: tuple, load: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The table ``load`` reads and checks from ``path``, computed once per process while the file and ``inputs``
    (what its schema depends on, hashable) stay the same. Every notebook a warm kernel executes reads the same
    raw tables, and checking them again took 0.4 s a profile. A copy is returned, so a caller may change it; a
    failure is not kept, so the next call reports it again."""
    key = file_key(path)
    if key is None:
        return load()  # the loader names the missing file
    key = (*key, inputs)
    if key not in _ONCE:
        frame = load()
        while len(_ONCE) >= ONCE_KEPT:
            _ONCE.pop(next(iter(_ONCE)))
        _ONCE[key] = frame
    return _ONCE[key].copy()


def read_checked(path: str | Path, schema: pa.DataFrameSchema, empty: str | None = None) -> pd.DataFrame:
    """A CSV read as text (:func:`read_text`) and checked against its schema: the frame, or InputError with every
    problem (a file without data rows is one)."""
    frame = read_text(path, empty)
    if frame.empty:
        raise InputError.single(path, "no data rows below the header")
    return validate(frame, schema, path)
