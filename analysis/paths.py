"""Where the project keeps its data, parameters and outputs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
PROCESSED = ROOT / "data" / "processed"
INTERIM = ROOT / "data" / "interim"
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


def from_root(path: str | Path) -> Path:
    """A path as given, or relative to the repository root: outputs land in the same place wherever a notebook runs."""
    path = Path(path)
    return path if path.is_absolute() else ROOT / path
