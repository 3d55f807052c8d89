"""The U4SSC KPI registry: 91 KPIs as 112 data points, loaded and validated from ``data/raw``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.errors import InputError, Problem, file_row
from analysis.files import read_csv

N_KPIS = 91

DIRECTIONS = ("higher_is_better", "lower_is_better", "target_band", "descriptive")
"""``target_band``: best at a target value (e.g. a gender income ratio of 1); ``descriptive``: no good direction."""

LEVELS = ("core", "advanced")

# U4SSC structure: dimension -> sub-dimension -> categories (a category name can recur under
# several sub-dimensions, e.g. "Water and Sanitation" under ICT, Infrastructure and Environment).
STRUCTURE: dict[str, dict[str, tuple[str, ...]]] = {
    "Economy": {
        "ICT": ("ICT Infrastructure", "Water and Sanitation", "Drainage", "Electricity Supply",
                "Transport", "Public Sector"),
        "Productivity": ("Innovation", "Employment"),
        "Infrastructure": ("Water and Sanitation", "Waste", "Electricity Supply", "Transport",
                           "Buildings", "Urban Planning"),
    },
    "Environment": {
        "Environment": ("Air Quality", "Water and Sanitation", "Waste", "Environmental Quality",
                        "Public Space and Nature"),
        "Energy": ("Energy",),
    },
    "Society and Culture": {
        "Education, Health and Culture": ("Education", "Health", "Culture"),
        "Safety, Housing and Social Inclusion": ("Housing", "Social Inclusion", "Safety",
                                                 "Food Security"),
    },
}

DIMENSIONS = tuple(STRUCTURE)

REQUIRED_COLUMNS = (
    "kpi_code", "data_point_id", "dimension", "sub_dimension", "category", "kpi_name",
    "data_point_name", "core_or_advanced", "unit", "direction", "definition_short",
    "sdg_targets", "u4ssc_target", "target_source", "source_url", "notes", "sdg_source",
)

SDG_TARGET = re.compile(r"^(\d{1,2})\.([1-9]|[1-9]\d|[a-z])$")
"""An SDG target number such as 11.6 or 11.a (goal 1–17)."""
N_GOALS = 17
CITED_SDG = re.compile(r"(?:SDG|target|indicator)s?\s+(?:target\s+|indicator\s+)?(\d{1,2}\.[0-9a-z]{1,2})(?:\.\d+)?")
"""An SDG target or indicator named in prose ("SDG target 9.c", "indicator 17.8.1" → 17.8)."""

YES_NO_UNIT = "Yes/No"


def validate(frame: pd.DataFrame, file: str | Path = "catalogue") -> pd.DataFrame:
    """Check a registry frame and return it; raise InputError naming every bad row and column."""
    file = str(file)
    problems: list[Problem] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError.single(file, f"missing columns {missing}; expected {list(REQUIRED_COLUMNS)}")
    for column in ("kpi_code", "data_point_id", "dimension", "sub_dimension", "category",
                   "data_point_name", "core_or_advanced", "unit", "direction"):
        for i in frame.index[frame[column].isna()]:
            problems.append(Problem(file, file_row(i), column, "empty; a value is required"))
    for i in frame.index[frame["data_point_id"].duplicated(keep="first")]:
        problems.append(Problem(file, file_row(i), "data_point_id",
                                f"duplicate id '{frame.at[i, 'data_point_id']}'; ids must be unique"))
    for i, row in frame.iterrows():
        dim, sub, cat = row["dimension"], row["sub_dimension"], row["category"]
        if pd.notna(dim) and dim not in STRUCTURE:
            problems.append(Problem(file, file_row(i), "dimension",
                                    f"unknown dimension '{dim}'; expected one of {list(DIMENSIONS)}"))
        elif pd.notna(sub) and sub not in STRUCTURE.get(dim, {}):
            problems.append(Problem(file, file_row(i), "sub_dimension",
                                    f"unknown sub-dimension '{sub}' for {dim}; expected one of "
                                    f"{list(STRUCTURE[dim])}"))
        elif pd.notna(cat) and cat not in STRUCTURE.get(dim, {}).get(sub, ()):
            problems.append(Problem(file, file_row(i), "category",
                                    f"unknown category '{cat}' for {dim} / {sub}; expected one of "
                                    f"{list(STRUCTURE[dim][sub])}"))
        if pd.notna(row["direction"]) and row["direction"] not in DIRECTIONS:
            problems.append(Problem(file, file_row(i), "direction",
                                    f"'{row['direction']}' is not allowed; expected one of {list(DIRECTIONS)}"))
        problems.extend(_sdg_problems(row, file, file_row(i)))
        if pd.notna(row["core_or_advanced"]) and row["core_or_advanced"] not in LEVELS:
            problems.append(Problem(file, file_row(i), "core_or_advanced",
                                    f"'{row['core_or_advanced']}'; expected one of {list(LEVELS)}"))
    n_kpis = frame["kpi_code"].nunique()
    if n_kpis != N_KPIS:
        problems.append(Problem(file, None, "kpi_code",
                                f"{n_kpis} distinct KPIs; the U4SSC standard has exactly {N_KPIS}"))
    if problems:
        raise InputError(problems)
    return frame


def _sdg_problems(row: pd.Series, file: str, r: int) -> list[Problem]:
    """Every data point links to at least one valid SDG target, and says where the link comes from."""
    targets = split_targets(row["sdg_targets"])
    if not targets:
        return [Problem(file, r, "sdg_targets", "empty; every data point links to at least one SDG target "
                                                "(e.g. '11.6'), with its source in sdg_source")]
    found = []
    for target in targets:
        m = SDG_TARGET.match(target)
        if not m or not 1 <= int(m.group(1)) <= N_GOALS:
            found.append(Problem(file, r, "sdg_targets", f"'{target}' is not an SDG target; expected e.g. '11.6' or "
                                                         f"'11.a' with a goal from 1 to {N_GOALS}"))
    source = row["sdg_source"]
    if source is None or pd.isna(source) or not str(source).strip():
        found.append(Problem(file, r, "sdg_source", "empty; name the U4SSC page that gives the SDG link, or "
                                                    "write 'reading: …' for the project's own reading"))
    return found


def cited_sdg_targets(text: object) -> set[str]:
    """The SDG targets a piece of prose names (targets.csv rationales and sources), as target numbers."""
    if text is None or pd.isna(text):
        return set()
    return set(CITED_SDG.findall(str(text)))


def load(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the registry; adds ``sdg_target_list`` (a tuple of SDG targets per data point)."""
    path = Path(path) if path is not None else paths.CATALOGUE
    return _load_cached(path.resolve())


@lru_cache(maxsize=8)
def _load_cached(path: Path) -> pd.DataFrame:
    frame = validate(read_csv(path, dtype={"sdg_targets": "string", "kpi_code": "string"}), path)
    frame = frame.copy()
    frame["sdg_target_list"] = target_lists(frame["sdg_targets"])
    return frame


def target_lists(texts: pd.Series) -> pd.Series:
    """``split_targets`` of every cell as an object column of tuples (Series.map on Arrow strings would give lists)."""
    return pd.Series([split_targets(t) for t in texts], index=texts.index, dtype=object)


def split_targets(text: object) -> tuple[str, ...]:
    """Split '11.a;11.3' into ('11.a', '11.3'); empty for a missing value."""
    if text is None or pd.isna(text):
        return ()
    return tuple(t.strip() for t in str(text).split(";") if t.strip())


def sdg_links(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Tidy data point × SDG target links, with the goal number, for the SDG view."""
    links = catalogue[["data_point_id", "sdg_target_list"]].explode("sdg_target_list").dropna()
    links = links.rename(columns={"sdg_target_list": "sdg_target"}).astype({"sdg_target": str})
    links["sdg_goal"] = links["sdg_target"].str.split(".").str[0].astype(int)
    return links.reset_index(drop=True)
