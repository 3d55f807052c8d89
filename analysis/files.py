"""Atomic, deterministic writing of output files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where frames are read or written, so atomic_path stays cheap to import
    import pandas as pd


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` and move it into place only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; outputs get the usual permissions
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(target: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(target)


def write_csv(frame: pd.DataFrame, target: str | Path) -> Path:
    """Write a frame as UTF-8 CSV atomically, with a fixed float format so reruns are byte-identical."""
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n", float_format="%.10g")
    return Path(target)


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
        raw.decode("utf-8")  # decode whole so the error offset is a file offset, not a buffer offset
        return pd.read_csv(path, encoding="utf-8", **kwargs)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError.single(path, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8",
                                row=line) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError.single(path, "file is empty; expected a header row and data rows") from exc
    except pd.errors.ParserError as exc:
        raise InputError.single(path, f"not a well-formed CSV: {exc}") from exc
