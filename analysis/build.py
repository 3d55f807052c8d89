"""Build ``data/processed`` from ``data/raw`` (plus any ingested city-supplied data), deterministically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import catalogue, ingest, municipalities, observations, paths
from analysis.files import write_csv

OBSERVATIONS = "observations.csv"


def combine(published: pd.DataFrame, city_supplied: pd.DataFrame) -> pd.DataFrame:
    """Published and city-supplied observations in one tidy frame; both are kept, each with its source type."""
    frames = [f for f in (published, city_supplied) if not f.empty]
    return observations.tidy(pd.concat(frames, ignore_index=True))


def build(out_dir: Path | None = None, city_dir: Path | None = None) -> dict[str, Path]:
    """Validate every raw input and write the processed observation table; return what was written."""
    out_dir = Path(out_dir or paths.PROCESSED)
    municipalities.check_tables()
    cat = catalogue.load()
    published = observations.load_published(cat=cat)
    city = ingest.load_city_supplied(city_dir, cat)
    obs = combine(published, city)
    return {"observations": write_csv(obs, out_dir / OBSERVATIONS)}


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
