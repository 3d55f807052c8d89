"""The mapping from U4SSC data points to national statistics tables (``data/raw/national_statistics_map.csv``), validated.

Each entry names a provider, a table, the region dimension, the content code and any other
dimension selections, the transformation to the U4SSC unit and a verification status:
``verified`` only where the query and its answer were checked against a real recorded
response, ``unverified`` otherwise. An entry whose codes are not known is kept with empty
selections: it documents where a value could come from, and the fetch skips it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis import catalogue, paths

if TYPE_CHECKING:
    import pandera.pandas as pa

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


def _selections_valid(s: pd.Series) -> pd.Series:
    """True where a cell reads as selections (:func:`parse_selections`)."""
    def ok(text: object) -> bool:
        try:
            parse_selections(text)
        except ValueError:
            return False
        return True
    return s.map(ok).astype(bool)


def schema(cat: pd.DataFrame) -> "pa.DataFrameSchema":
    """The mapping's pandera schema: unique entry ids, a registry data point and unit for each value entry, known
    roles, transformations and verification states, a denominator entry for ``per_population``, its evidence."""
    import pandera.pandas as pa

    from analysis.validation import check, is_blank, number, one_of, row_check, text

    units = dict(zip(cat["data_point_id"], cat["unit"]))

    def is_value(d: pd.DataFrame) -> pd.Series:
        return d["role"].eq("value").fillna(False)

    columns = {c: text(required=False) for c in COLUMNS}
    return pa.DataFrameSchema({
        **columns,
        "entry_id": text(message="empty; every entry needs an id"),
        "role": one_of(ROLES),
        "provider": text(message="empty; name the provider (e.g. ssb)"),
        "transformation": one_of(TRANSFORMATIONS),
        "factor": number(required=False, message="not a number"),
        "verification": one_of(VERIFICATION),
        "other_selections": text(required=False, checks=[check(_selections_valid, "expected DIMENSION=code[,code...], "
                                                                                  "several separated by ';'")]),
    }, checks=[
        row_check(lambda d: ~is_value(d) | d["data_point_id"].isin(list(units)),
                  f"unknown data point id; a value entry needs a data point id of {paths.CATALOGUE.name}",
                  "data_point_id"),
        row_check(lambda d: is_value(d) | d["data_point_id"].isna(),
                  "a denominator or context entry gives no data point; leave it empty", "data_point_id"),
        row_check(lambda d: ~is_value(d) | ~d["data_point_id"].isin(list(units)) |
                  d["u4ssc_unit"].eq(d["data_point_id"].map(units)).fillna(False),
                  f"not the registry unit of the entry's data point (see {paths.CATALOGUE.name})", "u4ssc_unit"),
        row_check(lambda d: d["transformation"].ne("per_population").fillna(True) | d["denominator"].isin(set(d["entry_id"])),
                  "expected the entry_id of a denominator entry of this file", "denominator"),
        row_check(lambda d: ~(is_blank(d["evidence"]) & is_blank(d["note"])),
                  "empty; say where the table id comes from (or why there is none) in evidence or note", "evidence"),
    ], unique=["entry_id"], report_duplicates="exclude_first")


def load(path: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The validated mapping (:func:`schema`), empty cells as ''; every problem (file, row, column) at once."""
    from analysis import validation

    path = Path(path or MAP)
    cat = catalogue.load() if cat is None else cat
    key = (catalogue.links_key(cat), tuple(cat["unit"].astype(str)))  # what the schema reads of the catalogue
    return validation.once(path, key, lambda: validation.read_checked(path, schema(cat), empty=""))


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
