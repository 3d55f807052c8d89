"""The mapping from U4SSC data points to national statistics tables (``data/raw/national_statistics_map.csv``), validated.

Each entry names a provider, a table, the region dimension, the content code and any other
dimension selections, the transformation to the U4SSC unit and a verification status:
``verified`` only where the query and its answer were checked against a real recorded
response, ``unverified`` otherwise. An entry whose codes are not known is kept with empty
selections: it documents where a value could come from, and the fetch skips it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import catalogue, paths
from analysis.errors import InputError, Problem, file_row
from analysis.files import read_csv

MAP = paths.RAW / "national_statistics_map.csv"
COLUMNS = ("entry_id", "data_point_id", "role", "provider", "table_id", "table_title", "region_dimension",
           "contents_code", "other_selections", "transformation", "factor", "denominator", "source_unit",
           "u4ssc_unit", "verification", "evidence", "note")
ROLES = ("value", "denominator", "context")
"""``value``: gives a data point; ``denominator``: a population other entries divide by; ``context``: neither."""
TRANSFORMATIONS = ("identity", "scale", "per_population")
"""``identity``: the published value is in the U4SSC unit; ``scale``: times ``factor``;
``per_population``: divided by the ``denominator`` entry's value for the same region and year, times ``factor``
(``100000`` for a rate per 100 000 inhabitants). Values of several selected codes are summed first."""
VERIFICATION = ("verified", "unverified")


def parse_selections(text: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``"Kjonn=0; Nivaa=03a,04a"`` as ``(("Kjonn", ("0",)), ("Nivaa", ("03a", "04a")))``; empty text gives none."""
    if not isinstance(text, str) or not text.strip():
        return ()
    out = []
    for part in text.split(";"):
        dim, sep, codes = part.partition("=")
        if not sep or not dim.strip() or not codes.strip():
            raise ValueError(f"'{part.strip()}' is not DIMENSION=code[,code...]")
        out.append((dim.strip(), tuple(c.strip() for c in codes.split(",") if c.strip())))
    return tuple(out)


def load(path: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The validated mapping; every problem (file, row, column) is reported at once."""
    path = Path(path or MAP)
    cat = catalogue.load() if cat is None else cat
    frame = read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError.single(path, f"missing columns {missing}; expected {list(COLUMNS)}")
    units = dict(zip(cat["data_point_id"], cat["unit"]))
    problems: list[Problem] = []

    def bad(i: int, column: str, message: str) -> None:
        problems.append(Problem(str(path), file_row(i), column, message))

    ids = set(frame["entry_id"])
    for i, row in frame.iterrows():
        if not row["entry_id"].strip():
            bad(i, "entry_id", "empty; every entry needs an id")
        if (frame["entry_id"] == row["entry_id"]).sum() > 1:
            bad(i, "entry_id", f"'{row['entry_id']}' is used twice")
        if row["role"] not in ROLES:
            bad(i, "role", f"'{row['role']}'; expected one of {list(ROLES)}")
        if row["role"] == "value":
            if row["data_point_id"] not in units:
                bad(i, "data_point_id", f"unknown data point id '{row['data_point_id']}'; expected an id "
                                        f"from {paths.CATALOGUE.name}")
            elif row["u4ssc_unit"] != units[row["data_point_id"]]:
                bad(i, "u4ssc_unit", f"'{row['u4ssc_unit']}' is not the registry unit "
                                     f"'{units[row['data_point_id']]}' of {row['data_point_id']}")
        elif row["data_point_id"]:
            bad(i, "data_point_id", f"a {row['role']} entry gives no data point; leave it empty")
        if not row["provider"].strip():
            bad(i, "provider", "empty; name the provider (e.g. ssb)")
        if row["transformation"] not in TRANSFORMATIONS:
            bad(i, "transformation", f"'{row['transformation']}'; expected one of {list(TRANSFORMATIONS)}")
        if row["factor"]:
            try:
                float(row["factor"])
            except ValueError:
                bad(i, "factor", f"'{row['factor']}' is not a number")
        if row["transformation"] == "per_population" and row["denominator"] not in ids:
            bad(i, "denominator", f"'{row['denominator']}' is not an entry_id of this file")
        if row["verification"] not in VERIFICATION:
            bad(i, "verification", f"'{row['verification']}'; expected one of {list(VERIFICATION)}")
        try:
            parse_selections(row["other_selections"])
        except ValueError as exc:
            bad(i, "other_selections", str(exc))
        if not row["evidence"].strip() and not row["note"].strip():
            bad(i, "evidence", "empty; say where the table id comes from (or why there is none) in evidence or note")
    if problems:
        raise InputError(problems)
    return frame


def missing_for_fetch(row: pd.Series, known_providers: set[str]) -> list[str]:
    """What an entry lacks before it can be fetched (empty when it can be)."""
    lack = []
    if row["provider"] not in known_providers:
        lack.append(f"no client for provider '{row['provider']}'")
    if not row["table_id"]:
        lack.append("table unknown")
    elif not row["region_dimension"] or not row["contents_code"]:
        lack.append("dimension codes unknown")
    if row["transformation"] in ("scale", "per_population") and not row["factor"]:
        lack.append("factor unknown")
    return lack


def fetchable(frame: pd.DataFrame, known_providers: set[str]) -> pd.Series:
    """Entries that can be fetched: complete themselves and, for ``per_population``, with a fetchable denominator."""
    own = frame.apply(lambda r: not missing_for_fetch(r, known_providers), axis=1).astype(bool)
    ok = dict(zip(frame["entry_id"], own))
    needs = frame["transformation"].eq("per_population")
    return own & (~needs | frame["denominator"].map(lambda d: ok.get(d, False)).astype(bool))


def coverage(frame: pd.DataFrame, cat: pd.DataFrame) -> dict[str, int]:
    """How many of the registry's data points the mapping names a source for, and how many entries are verified."""
    values = frame[frame["role"] == "value"]
    return {"data_points": len(cat), "covered": int(values["data_point_id"].nunique()),
            "entries": len(frame), "verified_entries": int(frame["verification"].eq("verified").sum()),
            "verified_data_points": int(values.loc[values["verification"] == "verified", "data_point_id"].nunique())}
