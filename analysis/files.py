"""Atomic, deterministic writing of output files, with spreadsheet formula injection neutralised.

Every output is written to a temporary file (or folder) beside its target and renamed into place,
so an interrupted run leaves the previous version or nothing, never half a file. The temporary
names are hidden (``.<name>.<random>.tmp<suffix>`` and ``.<name>.tmpdir-<random>``), so
:func:`remove_leftovers` can clear what a killed process left behind.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where frames are read or written, so atomic_path stays cheap to import
    import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet program read a cell as a formula (OWASP, "CSV injection")."""
LEFTOVER_PATTERNS = (".*.tmp*", ".*.tmpdir-*")
"""Names of the temporary files and folders of :func:`atomic_path` and :func:`atomic_folder`."""

FIXED_TIME = datetime.datetime(2000, 1, 1)
"""The timestamp written into generated zip-based files (Excel workbooks), so equal content gives equal bytes."""


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` and move it into place only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target`` that replaces ``target`` whole only if the block succeeds.

    The old folder is renamed aside and removed after the new one is in place, so at every moment
    ``target`` is either the complete old folder or the complete new one.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmpdir-", dir=target.parent))
    old = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmpdir-", dir=target.parent))
            os.rename(target, old / target.name)
        os.rename(tmp, target)
    except BaseException:
        if old is not None and not target.exists():
            os.rename(old / target.name, target)
        raise
    finally:
        for path in (tmp, old):
            if path is not None and path.exists():
                shutil.rmtree(path, ignore_errors=True)


def remove_leftovers(folder: str | Path) -> list[Path]:
    """Remove the temporary files and folders that interrupted atomic writes left below ``folder``.

    Call it only when no other build writes below ``folder`` (the build lock is held): a live
    writer's temporary file has the same kind of name. Returns what was removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = sorted({p for pattern in LEFTOVER_PATTERNS for p in folder.rglob(pattern)}, key=lambda p: len(p.parts))
    removed = []
    for path in found:
        if not (path.exists() or path.is_symlink()):
            continue  # inside a leftover folder removed already
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def is_number_text(text: str) -> bool:
    """Whether ``text`` reads as a plain number ('-3.5', '+2', '1e-3'): such cells are data, not formulas."""
    if not text or text[0] in "\t\r" or text != text.strip():
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def needs_neutralising(value: object) -> bool:
    """Whether a cell value is text a spreadsheet program would run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not is_number_text(value)


def neutralise_cell(value: object) -> object:
    """A text cell that would start a formula, prefixed with ``'`` (OWASP); numbers and other text unchanged."""
    return "'" + value if needs_neutralising(value) else value


def line_feeds(text: str) -> str:
    """Text with its carriage returns (CR LF or a bare CR) as line feeds, as every download writes it."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _csv_cell(value: object) -> object:
    """A cell as written to CSV: formulas neutralised, and carriage returns as line feeds (the csv module
    does not quote a field holding a bare CR when rows end in LF, so a reader would split the row there)."""
    value = neutralise_cell(value)
    return line_feeds(value) if isinstance(value, str) else value


def _csv_unsafe(value: object) -> bool:
    return needs_neutralising(value) or (isinstance(value, str) and "\r" in value)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as it is written to CSV: every text cell (and column name) that would start a formula
    prefixed with ``'``, carriage returns in text as line feeds; numeric columns untouched."""
    import pandas as pd

    out = frame
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
            continue
        if column.map(_csv_unsafe).any():
            if out is frame:
                out = frame.copy()
            out.isetitem(position, column.map(_csv_cell))
    if any(_csv_unsafe(c) for c in frame.columns):
        out = out.copy() if out is frame else out
        out.columns = [_csv_cell(c) for c in frame.columns]
    return out


def fix_zip_times(path: str | Path) -> None:
    """Rewrite a zip file (an .xlsx) in place with fixed dates: entries dated ``FIXED_TIME``, and the
    document's created/modified properties (``docProps/core.xml``, set to "now" by openpyxl) too."""
    path = Path(path)
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    stamp = FIXED_TIME.timetuple()[:6]
    iso = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w") as out:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + iso + rb"\g<2>",
                              data)
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            out.writestr(fixed, data)


def write_text(target: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(target)


def write_csv(frame: pd.DataFrame, target: str | Path) -> Path:
    """Write a frame as UTF-8 CSV atomically: fixed float format (reruns are byte-identical), formulas neutralised."""
    with atomic_path(target) as tmp:
        neutralise_formulas(frame).to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n",
                                          float_format="%.10g")
    return Path(target)


def csv_delimiter(path: str | Path) -> str:
    """The delimiter of a city-supplied CSV: ',' or the ';' that a spreadsheet in a Norwegian locale saves
    (whichever its header line holds more of)."""
    with Path(path).open(encoding="utf-8-sig", errors="replace", newline="") as f:
        header = f.readline()
    return ";" if header.count(";") > header.count(",") else ","


def check_quoting(text: str, path: str | Path, delimiter: str = ",") -> None:
    """Reject a CSV whose quoting is broken, naming the row where the bad field starts.

    A quote that is never closed makes a lenient reader (pandas) take the rest of the file as one
    field, so rows would silently disappear; the csv module in strict mode finds it.
    """
    from analysis.errors import InputError

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for _ in reader:
            start = reader.line_num + 1
    except csv.Error as exc:
        reason = ("a quote opened in this row is never closed, so every row after it would be lost"
                  if "unexpected end of data" in str(exc) else f"badly quoted field ({exc})")
        raise InputError.single(path, f"{reason}; quote a field as \"text\" and write a quote inside it as \"\"",
                                row=start) from exc


def read_csv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a UTF-8 CSV, turning a decoding failure into a message that names the file."""
    import pandas as pd

    from analysis.errors import InputError

    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "file not found")
    if path.stat().st_size == 0:
        raise InputError.single(path, "file is empty; expected a header row and data rows")
    raw = path.read_bytes()
    try:
        check_quoting(raw.decode("utf-8"), path, kwargs.get("sep", ","))  # whole, so an error offset is a file offset
        return pd.read_csv(path, encoding="utf-8", **kwargs)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError.single(path, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8",
                                row=line) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError.single(path, "file is empty; expected a header row and data rows") from exc
    except pd.errors.ParserError as exc:
        raise InputError.single(path, f"not a well-formed CSV: {exc}") from exc
