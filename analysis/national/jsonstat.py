"""JSON-stat 2.0 datasets (the format of SSB's PxWebApi v2) read into tidy frames, with their structure checked first.

The frame itself comes from ``pyjstat`` (works with pandas 3); the checks here make a malformed
or truncated document an error with a reason instead of a wrong frame.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import pandas as pd
from pyjstat import pyjstat


class JsonStatError(ValueError):
    """The document is not a well-formed JSON-stat 2.0 dataset; the message says why."""


def parse(text: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """The dataset's metadata and one row per cell: a column per dimension id (category codes) and ``value``.

    Raises :class:`JsonStatError` for text that is not JSON, not a ``dataset``, or whose ``id``,
    ``size``, ``dimension`` and ``value`` do not agree.
    """
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise JsonStatError(f"not JSON ({exc})") from exc
    check(doc)
    try:
        with warnings.catch_warnings():  # pyjstat 2.4's own Dataset.write calls its deprecated from_json_stat
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="pyjstat")
            frame = pyjstat.Dataset.read(json.dumps(doc)).write("dataframe", naming="id")
    except Exception as exc:  # pyjstat raises assorted errors on odd documents; name the cause
        raise JsonStatError(f"pyjstat could not read the dataset ({type(exc).__name__}: {exc})") from exc
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    for dim in doc["id"]:
        frame[dim] = frame[dim].astype(str)
    return doc, frame


def check(doc: object) -> None:
    """Raise :class:`JsonStatError` unless ``doc`` is a consistent JSON-stat 2.0 dataset."""
    if not isinstance(doc, dict):
        raise JsonStatError("the document is not a JSON object")
    if doc.get("class") != "dataset":
        raise JsonStatError(f"'class' is {doc.get('class')!r}, expected 'dataset'")
    ids, size, dims = doc.get("id"), doc.get("size"), doc.get("dimension")
    if not isinstance(ids, list) or not isinstance(size, list) or not isinstance(dims, dict):
        raise JsonStatError("'id', 'size' and 'dimension' are required (a list, a list and an object)")
    if len(ids) != len(size):
        raise JsonStatError(f"'id' has {len(ids)} dimensions but 'size' has {len(size)}")
    for dim, n in zip(ids, size):
        index = dims.get(dim, {}).get("category", {}).get("index") if isinstance(dims.get(dim), dict) else None
        if index is None:
            raise JsonStatError(f"dimension '{dim}' has no category index")
        if len(index) != n:
            raise JsonStatError(f"dimension '{dim}' lists {len(index)} categories but 'size' says {n}")
    values = doc.get("value")
    cells = math.prod(size)
    if isinstance(values, list):
        if len(values) != cells:
            raise JsonStatError(f"'value' holds {len(values)} numbers but the dimensions give {cells} cells")
    elif isinstance(values, dict):
        bad = [k for k in values if not str(k).isdigit() or int(k) >= cells]
        if bad:
            raise JsonStatError(f"'value' has positions outside the {cells} cells: {bad[:5]}")
    else:
        raise JsonStatError("'value' is missing (expected a list or an object)")


def categories(doc: dict[str, Any], dim: str) -> list[str]:
    """The category codes of one dimension in index order."""
    index = doc["dimension"][dim]["category"]["index"]
    if isinstance(index, list):
        return [str(c) for c in index]
    return [str(c) for c, _ in sorted(index.items(), key=lambda kv: kv[1])]


def unit(doc: dict[str, Any], metric_dim: str, code: str) -> str | None:
    """The unit base of one metric category (e.g. ``kr``), if the dataset gives it."""
    units = doc["dimension"].get(metric_dim, {}).get("category", {}).get("unit", {})
    entry = units.get(code)
    return entry.get("base") if isinstance(entry, dict) else None
