"""Where the project keeps its data, parameters and outputs."""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
PROCESSED = ROOT / "data" / "processed"
INTERIM = ROOT / "data" / "interim"
EXTERNAL = ROOT / "data" / "external"
PARAMS = ROOT / "params"
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"

CATALOGUE = RAW / "kpi_catalogue.csv"
MUNICIPALITIES = RAW / "municipalities.csv"
MUNICIPALITIES_2020 = RAW / "norway_municipalities_2020.csv"
MUNICIPALITIES_2024 = RAW / "norway_municipalities_2024.csv"
MUNICIPALITY_CHANGES = RAW / "norway_municipality_changes.csv"
PUBLISHED = RAW / "published_observations.csv"
LABEL_ALIASES = RAW / "label_aliases.csv"
UNIT_ALIASES = RAW / "unit_aliases.csv"
TARGETS = RAW / "targets.csv"
THEMES = RAW / "investment_themes.csv"

CITY_SUPPLIED = EXTERNAL / "city_supplied"
"""Ingested city data: an input, often the only copy, so it lives outside the rebuildable ``data/processed``."""
OLD_CITY_SUPPLIED = PROCESSED / "city_supplied"
"""Where ingested city data lived before; :func:`migrate_city_supplied` moves it to ``CITY_SUPPLIED``."""


def migrate_city_supplied(old: Path | None = None, new: Path | None = None) -> list[str]:
    """Move city data from the old folder in ``data/processed`` to ``CITY_SUPPLIED``, saying so on stderr.

    A file already in the new folder is never overwritten: an identical old copy is removed, a
    different one is left where it is and named. Returns the messages printed.
    """
    old, new = Path(old or OLD_CITY_SUPPLIED), Path(new or CITY_SUPPLIED)
    if not old.is_dir():
        return []
    messages = []
    new.mkdir(parents=True, exist_ok=True)
    for file in sorted(old.iterdir()):
        if not file.is_file():
            continue
        target = new / file.name
        if not target.exists():
            shutil.move(file, target)
            messages.append(f"moved city-supplied data {file} to {target}")
        elif target.read_bytes() == file.read_bytes():
            file.unlink()
        else:
            messages.append(f"warning: {file} differs from {target} and was left in place; compare and "
                            f"keep one of them in {new}")
    if not any(old.iterdir()):
        old.rmdir()
    for message in messages:
        print(message, file=sys.stderr)
    return messages


def from_root(path: str | Path) -> Path:
    """A path as given, or relative to the repository root: outputs land in the same place wherever a notebook runs."""
    path = Path(path)
    return path if path.is_absolute() else ROOT / path
