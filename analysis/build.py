"""Build ``data/processed`` from ``data/raw`` (plus any ingested city-supplied data), deterministically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import catalogue, ingest, municipalities, observations, paths, raw
from analysis.errors import InputError
from analysis.files import write_csv

OBSERVATIONS = "observations.csv"
NATIONAL = "national_statistics.csv"
PUBLISHED_ADDENDUM = paths.RAW / "published_observations_addendum.csv"
"""Two more published values (Ålesund factsheet prose), same columns as published_observations.csv."""


def combine(*frames: pd.DataFrame) -> pd.DataFrame:
    """Observations of every source in one tidy frame; all are kept, each with its source type."""
    kept = [f for f in frames if not f.empty]
    return observations.tidy(pd.concat(kept, ignore_index=True))


def load_published(cat: pd.DataFrame) -> pd.DataFrame:
    """The published values of both files, checked together for duplicates."""
    published = combine(observations.load_published(cat=cat),
                        observations.load_published(PUBLISHED_ADDENDUM, cat=cat))
    problems = observations.validate(published, f"{paths.PUBLISHED.name} + {PUBLISHED_ADDENDUM.name}", cat)
    if problems:
        raise InputError(problems)
    return published


def build(out_dir: Path | None = None, city_dir: Path | None = None,
          external_dir: Path | None = None) -> dict[str, Path]:
    """Validate every raw input and the national statistics snapshots; write the processed observation tables."""
    from analysis.national import fold

    out_dir = Path(out_dir or paths.PROCESSED)
    raw.check()  # every raw table against its schema, every problem at once
    municipalities.panel_numbers()
    cat = catalogue.load()
    published = load_published(cat)
    city = ingest.load_city_supplied(city_dir, cat)
    national = fold.load(external_dir, cat=cat)
    obs = combine(published, city, national)
    return {"observations": write_csv(obs, out_dir / OBSERVATIONS),
            "national statistics": write_csv(fold.detail(external_dir, cat=cat), out_dir / NATIONAL)}


def load_observations(processed: Path | None = None) -> pd.DataFrame:
    """The processed observation table, building it first if it does not exist or predates the current columns."""
    path = Path(processed or paths.PROCESSED) / OBSERVATIONS
    if path.exists():
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split(",")
        if header != list(observations.COLUMNS):
            build(path.parent)  # written by an older version of the package
    else:
        build(path.parent)
    text = {"value_text": str, "note": str, **{c: "string" for c in observations.NUMBER_COLUMNS}}
    return pd.read_csv(path, encoding="utf-8", dtype=text)
