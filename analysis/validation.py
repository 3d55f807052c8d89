"""One validation engine for every table: pandera schemas whose failures become file/row/column problems.

Each table's schema lives with its concept (``catalogue``, ``targets``, ``invest``, ``observations``…)
and is checked through :func:`problems`: lazily, so every failure is reported at once, with the row
number a person sees in the file, the column, the check's message and the offending value.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from analysis.errors import InputError, Problem, file_row

if TYPE_CHECKING:  # pandas and pandera are imported where frames are checked, so the year bounds stay cheap to import
    import pandas as pd
    import pandera.pandas as pa

FIRST_YEAR, LAST_YEAR = 1900, 2100
"""The years any input may refer to (one constant for every table and parameter)."""


def whole_year(s: pd.Series) -> pd.Series:
    """True where a value is a whole year from FIRST_YEAR to LAST_YEAR (missing values are left to nullability)."""
    import pandas as pd
    year = pd.to_numeric(s, errors="coerce")
    return s.isna() | (year.between(FIRST_YEAR, LAST_YEAR) & year.eq(year.round()))


_FRAME_CHECK_COLUMNS: dict[str, str] = {}
"""Message of a frame-wide check → the column its problems are reported under."""


def check(fn, message: str, **kwargs) -> pa.Check:
    """A column check whose ``error`` text is the message shown to the person who wrote the file."""
    import pandera.pandas as pa
    return pa.Check(fn, error=message, **kwargs)


def row_check(fn, message: str, column: str) -> pa.Check:
    """A check over whole rows (several columns) whose failures are reported under ``column``."""
    import pandera.pandas as pa
    _FRAME_CHECK_COLUMNS[message] = column
    return pa.Check(fn, error=message)


def problems(frame: pd.DataFrame, schema: pa.DataFrameSchema, file: str | Path,
             row_numbers: pd.Series | None = None) -> list[Problem]:
    """Every failure of ``schema`` on ``frame`` as problems naming file, row, column and the value found."""
    import pandas as pd
    import pandera.pandas as pa
    from pandera.config import config_context
    file = str(file)
    missing = [c for c, col in schema.columns.items() if col.required and c not in frame.columns]
    if missing:
        return [Problem(file, None, None, f"missing columns {missing}; expected {list(schema.columns)}")]
    with config_context(validation_enabled=True, validation_depth="SCHEMA_AND_DATA"):
        try:
            schema.validate(frame, lazy=True)
            return []
        except pa.errors.SchemaErrors as err:
            cases = err.failure_cases
    out = []
    for case in cases.itertuples(index=False):
        index = case.index
        row = None
        if index is not None and not (isinstance(index, float) and pd.isna(index)):
            row = int(row_numbers[index]) if row_numbers is not None else file_row(int(index))
        check_text = str(case.check)
        column = None if case.column in (None, "") else str(case.column)
        if case.schema_context == "DataFrameSchema" and check_text in _FRAME_CHECK_COLUMNS:
            if column != _FRAME_CHECK_COLUMNS[check_text]:
                continue  # a row-wide check lists the row once per column: keep the column it is about
        elif case.schema_context == "DataFrameSchema" and "uniqueness" not in check_text:
            column = None
        if check_text == "not_nullable":
            message = "empty; a value is required"
        elif check_text in ("field_uniqueness", "multiple_fields_uniqueness"):
            message = f"duplicate value '{case.failure_case}'; values must be unique"
        else:
            found = "" if case.failure_case is None or pd.isna(case.failure_case) else f" (found '{case.failure_case}')"
            message = f"{check_text}{found}"
        out.append(Problem(file, row, column, message))
    return sorted(set(out), key=lambda p: (p.row or 0, p.column or "", p.message))


def validate(frame: pd.DataFrame, schema: pa.DataFrameSchema, file: str | Path,
             row_numbers: pd.Series | None = None) -> pd.DataFrame:
    """``frame`` if it passes ``schema``, else InputError with every problem."""
    found = problems(frame, schema, file, row_numbers)
    if found:
        raise InputError(found)
    return frame
