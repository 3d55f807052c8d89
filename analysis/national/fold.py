"""Snapshots and transcribed national values folded into tidy observations (source type ``national_statistics``).

Each fetched number is attached to the mapping entry it answers, summed over the entry's selected
codes, transformed to the U4SSC unit (``identity``, ``scale`` or ``per_population`` with the
denominator entry's value for the same region code and year) and attributed to today's
municipality through the registry (:func:`analysis.municipalities.attribute`: a 2019 Tromsø value
published under 1902 belongs to 5501). Where several snapshots hold the same number, the most
recent retrieval wins. Every row names the table, query, URL and retrieval time (``source`` and
``note``); :func:`detail` keeps them as columns for ``data/processed/national_statistics.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import catalogue, municipalities, observations, paths
from analysis.errors import InputError
from analysis.national import mapping, snapshot

if TYPE_CHECKING:
    import pandera.pandas as pa

TRANSCRIBED = paths.RAW / "national_values_found.csv"
"""National or county statistics pages transcribed by hand (municipality number as published, source, confidence)."""
CONFIDENCE = ("high", "medium", "low")
"""How sure the transcriber is of a transcribed value."""
SOURCE_TYPE = "national_statistics"
PROVIDER_TITLES = {"ssb": "Statistics Norway (SSB)"}
PRINTED_UNITS = {"prosent": "%"}
"""Units as printed on Norwegian statistics pages → registry units (exact synonyms only)."""
DETAIL_COLUMNS = ("municipality", "kommunenummer", "reported_kommunenummer", "data_point_id", "year", "value",
                  "unit", "entry_id", "provider", "table_id", "query", "url", "retrieved_at", "snapshot",
                  "transformation", "denominator_value", "denominator_url", "verification")


def latest_values(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per fetched cell (entry, region, period, code): the most recent retrieval of it."""
    order = raw.sort_values(["retrieved_at", "snapshot"], kind="mergesort")
    return order.drop_duplicates(["entry_id", "region_code", "period", "code"], keep="last")


def _summed(values: pd.DataFrame) -> pd.DataFrame:
    """Values summed over the selected codes per entry, region code and year, with their provenance."""
    g = values.groupby(["entry_id", "region_code", "year"], sort=True)
    return g.agg(value=("value", lambda v: v.sum(min_count=len(v))), provider=("provider", "first"),
                 table_id=("table_id", "first"), url=("url", "first"), query=("query", "first"),
                 retrieved_at=("retrieved_at", "max"), snapshot=("snapshot", "max"),
                 source_unit=("source_unit", "first")).reset_index()


def transform(summed: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """Values of the ``value`` entries in the U4SSC unit; a missing denominator leaves the value missing."""
    spec = entries.set_index("entry_id")
    known = summed[summed["entry_id"].isin(spec.index)]
    values = known.merge(entries[["entry_id", "data_point_id", "role", "transformation", "factor", "denominator",
                                  "u4ssc_unit", "verification"]], on="entry_id", how="left")
    values = values[values["role"] == "value"].copy()
    denom = known.rename(columns={"entry_id": "denominator", "value": "denominator_value",
                                  "url": "denominator_url"})[["denominator", "region_code", "year",
                                                              "denominator_value", "denominator_url"]]
    values = values.merge(denom, on=["denominator", "region_code", "year"], how="left")
    factor = pd.to_numeric(values["factor"], errors="coerce").fillna(1.0)
    out = values["value"].astype(float)
    out = np.where(values["transformation"].eq("scale"), out * factor, out)
    per = values["transformation"].eq("per_population")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = values["value"] / values["denominator_value"].where(values["denominator_value"] > 0) * factor
    values["u4ssc_value"] = np.where(per, rate, out)
    values.loc[~per, ["denominator_value", "denominator_url"]] = np.nan
    return values


def detail(root: Path | None = None, entries: pd.DataFrame | None = None,
           cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every fetched data point value in its U4SSC unit, with today's municipality and full provenance columns."""
    cat = catalogue.load() if cat is None else cat
    raw = snapshot.read(root)
    if raw.empty:
        return pd.DataFrame(columns=list(DETAIL_COLUMNS))
    entries = mapping.load(cat=cat) if entries is None else entries
    values = transform(_summed(latest_values(raw)), entries)
    values = values[values["u4ssc_value"].notna()].reset_index(drop=True)
    if values.empty:
        return pd.DataFrame(columns=list(DETAIL_COLUMNS))
    who = municipalities.attribute(values["region_code"], values["year"], "snapshot values (data/external)")
    reg = municipalities.registry()
    today = who["kommunenummer"].map(lambda n: reg.entity(n) is not None)  # a merger part stays a former municipality
    out = pd.DataFrame({
        "municipality": who["municipality"], "kommunenummer": who["kommunenummer"],
        "reported_kommunenummer": who["reported_kommunenummer"], "mapping_note": who["mapping_note"],
        "data_point_id": values["data_point_id"], "year": values["year"].astype("int64"),
        "value": values["u4ssc_value"].astype(float), "raw_value": values["value"],
        "source_unit": values["source_unit"], "unit": values["u4ssc_unit"],
        "entry_id": values["entry_id"], "provider": values["provider"], "table_id": values["table_id"],
        "query": values["query"], "url": values["url"], "retrieved_at": values["retrieved_at"],
        "snapshot": values["snapshot"], "transformation": values["transformation"],
        "factor": values["factor"], "denominator": values["denominator"],
        "denominator_value": values["denominator_value"], "denominator_url": values["denominator_url"],
        "verification": values["verification"],
    })[today.to_numpy()]
    return out.sort_values(["municipality", "data_point_id", "year"], kind="mergesort").reset_index(drop=True)


def _note(row: pd.Series) -> str:
    parts = [f"{row['verification']} mapping {row['entry_id']}", f"query {row['query']}",
             f"retrieved {row['retrieved_at']} (snapshot {row['provider']}/{row['snapshot']})"]
    if row["transformation"] == "per_population":
        parts.append(f"{row['raw_value']:g} {row['source_unit']} per population {row['denominator_value']:g} "
                     f"({row['denominator_url']}) × {row['factor']}")
    elif row["transformation"] == "scale":
        parts.append(f"{row['raw_value']:g} {row['source_unit']} × {row['factor']}")
    if isinstance(row["mapping_note"], str) and row["mapping_note"]:
        parts.append(row["mapping_note"])
    return "; ".join(parts)


def from_snapshots(root: Path | None = None, entries: pd.DataFrame | None = None,
                   cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The snapshots' values as validated tidy observations (empty when nothing has been fetched)."""
    cat = catalogue.load() if cat is None else cat
    rows = detail(root, entries, cat)
    if rows.empty:
        return pd.DataFrame(columns=list(observations.COLUMNS))
    frame = pd.DataFrame({
        "municipality": rows["municipality"], "kommunenummer": rows["kommunenummer"],
        "reported_kommunenummer": rows["reported_kommunenummer"], "data_point_id": rows["data_point_id"],
        "year": rows["year"], "value": rows["value"],
        "value_text": [f"{v:g} {u}".strip() for v, u in zip(rows["raw_value"], rows["source_unit"])],
        "unit": rows["unit"], "status": "reported", "source_type": SOURCE_TYPE,
        "source": [f"{PROVIDER_TITLES.get(p, p)} table {t} — {u}" for p, t, u in
                   zip(rows["provider"], rows["table_id"], rows["url"])],
        "note": rows.apply(_note, axis=1),
    })
    problems = observations.validate(frame, "snapshot values (data/external)", cat)
    if problems:
        raise InputError(problems)
    return observations.tidy(frame)


def _number_year(numbers: pd.Series, years: pd.Series) -> pd.Series:
    """The year in which each published number is looked up: the value's year, or the next year if the number
    only became valid then (the 2019 elections were held for the municipalities of 2020, under their new numbers)."""
    reg = municipalities.registry()
    out = []
    for number, year in zip(numbers, years.fillna(0).astype(int)):
        if isinstance(number, str) and reg.entity(number, year) is None and reg.entity(number, year + 1) is not None:
            year += 1
        out.append(year)
    return pd.Series(out, index=years.index)


def transcribed_schema(cat: pd.DataFrame) -> "pa.DataFrameSchema":
    """The transcribed values' pandera schema: who (number as published), which data point, value, year, source."""
    import pandera.pandas as pa

    from analysis.validation import check, known, number, one_of, text, year

    return pa.DataFrameSchema({
        "municipality": text(),
        "municipality_number": text(checks=[check(lambda s: s.str.match(r"\s*\d{4}\b"),
                                                  "expected the kommunenummer as published (four digits first)")]),
        "data_point_id": known(cat["data_point_id"], "data point id", paths.CATALOGUE.name),
        "indicator_as_published": text(), "value": number(), "unit_as_published": text(), "year": year(),
        "source_name": text(), "source_url_or_repo_path": text(message="empty; expected the page's URL or repository path"),
        "retrieval_note": text(required=False), "confidence": one_of(CONFIDENCE),
    }, unique=["municipality", "data_point_id", "year"], report_duplicates="exclude_first")


def load_transcribed(path: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The hand-transcribed national and county statistics (``national_values_found.csv``) as observations."""
    from analysis.validation import read_checked

    path = Path(path or TRANSCRIBED)
    cat = catalogue.load() if cat is None else cat
    raw = read_checked(path, transcribed_schema(cat), empty="")
    # the number as published may carry an explanation: "5401 (election held for the 2020 municipality; ...)"
    number = raw["municipality_number"].str.extract(r"^\s*(\d{4})", expand=False)
    year = pd.to_numeric(raw["year"], errors="coerce")
    who = municipalities.attribute(number.fillna(raw["municipality"]), _number_year(number, year), str(path))
    notes = [f"{r['retrieval_note']} (confidence: {r['confidence']}; published under {r['municipality_number']})"
             + (f"; {m}" if m else "") for (_, r), m in zip(raw.iterrows(), who["mapping_note"].fillna(""))]
    frame = pd.DataFrame({
        "municipality": who["municipality"], "kommunenummer": who["kommunenummer"],
        "reported_kommunenummer": who["reported_kommunenummer"], "data_point_id": raw["data_point_id"],
        "year": year, "value": pd.to_numeric(raw["value"], errors="coerce"),
        "value_text": raw["value"] + " " + raw["unit_as_published"],
        "unit": raw["unit_as_published"].map(lambda u: PRINTED_UNITS.get(u, u)),
        "status": "reported", "source_type": SOURCE_TYPE,
        "source": raw["source_name"] + " — " + raw["source_url_or_repo_path"], "note": notes,
    })
    problems = observations.validate(frame, path, cat)
    if problems:
        raise InputError(problems)
    return observations.tidy(frame)


def load(root: Path | None = None, transcribed: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """All national statistics observations: fetched snapshots plus transcribed pages, both kept."""
    cat = catalogue.load() if cat is None else cat
    frames = [f for f in (from_snapshots(root, cat=cat), load_transcribed(transcribed, cat)) if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(observations.COLUMNS))
    return observations.tidy(pd.concat(frames, ignore_index=True))
