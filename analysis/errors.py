"""Errors for bad input that name the file, row, column and what was expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell (or row, or file) of an input."""

    file: str
    row: int | None
    column: str | None
    message: str
    label: str = "column"

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"{self.label} '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


class InputError(ValueError):
    """Raised when an input file is wrong; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, file: str | Path, message: str, row: int | None = None,
               column: str | None = None, label: str = "column") -> "InputError":
        return cls([Problem(str(file), row, column, message, label)])


def file_row(index: int, header_rows: int = 1) -> int:
    """Spreadsheet-style row number of a data row (0-based frame index), counting the header as row 1."""
    return int(index) + header_rows + 1
