"""One tidy observation schema for every source (published, city-supplied, simulated), with validation.

Every observation is one value of one data point for one municipality and year. Units are
checked against the registry: a mismatch is an error, never a silent conversion.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import catalogue, paths
from analysis.errors import InputError, Problem, file_row
from analysis.files import read_csv

COLUMNS = ("municipality", "data_point_id", "year", "value", "value_text", "unit", "status",
           "source_type", "source", "note")
STATUSES = ("reported", "not_reported", "partial")
SOURCE_TYPES = ("published", "city-supplied", "simulated")
SCORED_STATUSES = ("reported", "partial")
"""Statuses whose values enter scores; ``partial`` means the KPI was only partly reported, the value itself is valid."""

YES_WORDS = {"yes": 1.0, "ja": 1.0, "true": 1.0, "1": 1.0}
NO_WORDS = {"no": 0.0, "nei": 0.0, "false": 0.0, "0": 0.0}


def normalise_name(name: str) -> str:
    """NFC-normalise and trim a municipality name so 'Ålesund' typed on any system matches."""
    return unicodedata.normalize("NFC", str(name)).strip()


def value_bounds(unit: str) -> tuple[float, float]:
    """The physically possible range of a value in this registry unit (percentages 0–100, shares 0–1, else ≥ 0)."""
    if unit == catalogue.YES_NO_UNIT:
        return (0.0, 1.0)
    if unit.startswith("%"):
        return (0.0, 100.0)
    if unit == "index (0-1)":
        return (0.0, 1.0)
    return (0.0, np.inf)


def parse_yes_no(text: object) -> float | None:
    """1.0 for yes, 0.0 for no (English or Norwegian), None if the text is neither."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    word = str(text).strip().lower()
    return YES_WORDS.get(word, NO_WORDS.get(word))


def load_unit_aliases(path: Path | None = None) -> set[tuple[str, str]]:
    """Pairs (printed unit, registry unit) that mean the same thing."""
    frame = read_csv(path or paths.UNIT_ALIASES, dtype=str)
    return set(zip(frame["printed_unit"], frame["registry_unit"]))


def validate(frame: pd.DataFrame, file: str | Path, cat: pd.DataFrame | None = None,
             row_numbers: pd.Series | None = None) -> list[Problem]:
    """All problems of a tidy observation frame: ids, units, years, ranges, statuses, duplicates.

    ``row_numbers`` maps the frame's index to the row numbers a person sees in the file.
    """
    cat = catalogue.load() if cat is None else cat
    file = str(file)
    rows = row_numbers if row_numbers is not None else pd.Series(
        [file_row(i) for i in range(len(frame))], index=frame.index)
    problems: list[Problem] = []
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        return [Problem(file, None, None, f"missing columns {missing}; expected {list(COLUMNS)}")]
    units = cat.set_index("data_point_id")["unit"]
    for i, row in frame.iterrows():
        r = int(rows[i])
        dp = row["data_point_id"]
        if pd.isna(row["municipality"]) or not str(row["municipality"]).strip():
            problems.append(Problem(file, r, "municipality", "empty; a municipality name is required"))
        if dp not in units.index:
            problems.append(Problem(file, r, "data_point_id",
                                    f"unknown data point id '{dp}'; expected an id from {paths.CATALOGUE.name}"))
            continue
        if row["unit"] != units[dp]:
            problems.append(Problem(file, r, "unit", f"'{row['unit']}' does not match the registry unit "
                                                     f"'{units[dp]}' of {dp}; convert the value and use the registry unit"))
        if pd.isna(row["year"]):
            problems.append(Problem(file, r, "year", "missing; the year the value refers to is required"))
        elif not (1900 <= float(row["year"]) <= 2100) or float(row["year"]) != int(row["year"]):
            problems.append(Problem(file, r, "year", f"'{row['year']}' is not a year between 1900 and 2100"))
        if row["status"] not in STATUSES:
            problems.append(Problem(file, r, "status", f"'{row['status']}'; expected one of {list(STATUSES)}"))
        if row["source_type"] not in SOURCE_TYPES:
            problems.append(Problem(file, r, "source_type",
                                    f"'{row['source_type']}'; expected one of {list(SOURCE_TYPES)}"))
        value = row["value"]
        if row["status"] in SCORED_STATUSES and pd.isna(value):
            problems.append(Problem(file, r, "value", f"empty but status is '{row['status']}'; "
                                                      "give a number or set status to not_reported"))
        if pd.notna(value):
            lo, hi = value_bounds(units[dp])
            if not lo <= value <= hi:
                problems.append(Problem(file, r, "value", f"{value:g} is outside the possible range "
                                                          f"[{lo:g}, {hi:g}] for unit '{units[dp]}'"))
    key = ["municipality", "data_point_id", "year"]
    dup = frame.duplicated(key, keep="first") & frame["year"].notna()
    for i in frame.index[dup]:
        problems.append(Problem(file, int(rows[i]), "data_point_id",
                                f"duplicate row for {frame.at[i, 'municipality']}, "
                                f"{frame.at[i, 'data_point_id']}, {frame.at[i, 'year']:.0f}"))
    return problems


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Order columns and rows canonically so that outputs are byte-identical across runs."""
    out = frame.loc[:, list(COLUMNS)].copy()
    out["municipality"] = out["municipality"].map(normalise_name)
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    return out.sort_values(["municipality", "data_point_id", "year", "source_type"],
                           kind="mergesort").reset_index(drop=True)


def map_labels(published: pd.DataFrame, aliases: pd.DataFrame, file: str | Path) -> pd.Series:
    """Data point id for every printed label; an unmapped label is an error, never dropped."""
    by_both = {(a.label, a.category): a.data_point_id for a in aliases.itertuples()
               if isinstance(a.category, str)}
    by_label = {a.label: a.data_point_id for a in aliases.itertuples() if not isinstance(a.category, str)}
    ids, problems = [], []
    for i, row in published.iterrows():
        dp = by_both.get((row["data_point"], row["category"]), by_label.get(row["data_point"]))
        if dp is None:
            problems.append(Problem(str(file), file_row(i), "data_point",
                                    f"label '{row['data_point']}' (category '{row['category']}') has no "
                                    f"entry in {paths.LABEL_ALIASES.name}; add one"))
        ids.append(dp)
    if problems:
        raise InputError(problems)
    return pd.Series(ids, index=published.index, name="data_point_id")


def load_published(path: Path | None = None, aliases_path: Path | None = None,
                   cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published U4SSC values as tidy observations, validated against the registry."""
    path = Path(path or paths.PUBLISHED)
    cat = catalogue.load() if cat is None else cat
    raw = read_csv(path, dtype={"value_text": str, "unit": str})
    aliases = read_csv(aliases_path or paths.LABEL_ALIASES, dtype=str)
    unit_pairs = load_unit_aliases()
    ids = map_labels(raw, aliases, path)
    registry_unit = ids.map(cat.set_index("data_point_id")["unit"])

    problems: list[Problem] = []
    units, values, notes = [], [], []
    for i, row in raw.iterrows():
        reg = registry_unit[i]
        printed = row["unit"]
        note = [] if pd.isna(row["notes"]) else [str(row["notes"])]
        if pd.isna(printed):
            units.append(reg)
            if row["status"] != "not_reported":
                note.append(f"unit not printed; registry unit '{reg}' assumed")
        elif printed == reg or (printed, reg) in unit_pairs:
            units.append(reg)
        else:
            units.append(printed)  # left as printed so validation reports the mismatch
        value = row["value"]
        if reg == catalogue.YES_NO_UNIT and row["status"] != "not_reported":
            value = parse_yes_no(row["value_text"])
            if value is None:
                problems.append(Problem(str(path), file_row(i), "value_text",
                                        f"'{row['value_text']}' is not Yes or No"))
        values.append(value)
        notes.append("; ".join(note) if note else pd.NA)
    tidy_frame = pd.DataFrame({
        "municipality": raw["city"],
        "data_point_id": ids,
        "year": pd.to_datetime(raw["report_date"], format="%Y-%m").dt.year,
        "value": pd.to_numeric(pd.Series(values, index=raw.index), errors="coerce"),
        "value_text": raw["value_text"],
        "unit": units,
        "status": raw["status"],
        "source_type": "published",
        "source": raw["report"] + " — " + raw["source_url"],
        "note": notes,
    })
    problems += validate(tidy_frame, path, cat)
    if problems:
        raise InputError(problems)
    return tidy(tidy_frame)


def scored(observations: pd.DataFrame) -> pd.DataFrame:
    """The observations whose values enter scores: reported or partial, with a value."""
    keep = observations["status"].isin(SCORED_STATUSES) & observations["value"].notna()
    return observations[keep]


def latest(observations: pd.DataFrame) -> pd.DataFrame:
    """Per municipality and data point, the most recent observation if it has a scored value (the baseline).

    The latest row decides: when a municipality's latest report says a data point was not reported,
    it has no baseline, even if an earlier (or simulated) year has a value. Between rows of the same
    year, a published or city-supplied row wins over a simulated one.
    """
    rank = observations["source_type"].map({"simulated": 0, "published": 1, "city-supplied": 2})
    obs = observations.assign(_rank=rank).sort_values(["year", "_rank"], kind="mergesort")
    last = obs.groupby(["municipality", "data_point_id"], sort=True).tail(1).drop(columns="_rank")
    return scored(last).sort_values(["municipality", "data_point_id"], kind="mergesort").reset_index(drop=True)
