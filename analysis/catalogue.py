"""The U4SSC KPI registry: 91 KPIs as 112 data points, loaded and validated from ``data/raw``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis import paths
from analysis.files import read_csv

if TYPE_CHECKING:
    import pandera.pandas as pa

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
SDG_TARGETS_EXPECTED = (f"not an SDG target; expected e.g. '11.6' or '11.a' with a goal from 1 to {N_GOALS}, "
                        "several separated by ';'")
CITED_SDG = re.compile(r"(?:SDG|target|indicator)s?\s+(?:target\s+|indicator\s+)?(\d{1,2}\.[0-9a-z]{1,2})(?:\.\d+)?")
"""An SDG target or indicator named in prose ("SDG target 9.c", "indicator 17.8.1" → 17.8)."""

YES_NO_UNIT = "Yes/No"


def sdg_targets_valid(s: pd.Series) -> pd.Series:
    """True where every ';'-separated part is an SDG target of goal 1–17 (empty cells are left to the text rule)."""
    def ok(cell: object) -> bool:
        found = [SDG_TARGET.match(t) for t in split_targets(cell)]
        return all(m is not None and 1 <= int(m.group(1)) <= N_GOALS for m in found)
    return pd.Series([ok(c) for c in s], index=s.index)


def schema() -> "pa.DataFrameSchema":
    """The registry's pandera schema: required cells, the U4SSC structure, directions, levels, SDG links, 91 KPIs."""
    import pandera.pandas as pa

    from analysis.validation import check, one_of, row_check, table_check, text

    def sub_dimension_known(d: pd.DataFrame) -> pd.Series:  # an unknown dimension is reported by its own check
        return pd.Series([dim not in STRUCTURE or pd.isna(sub) or sub in STRUCTURE[dim]
                          for dim, sub in zip(d["dimension"], d["sub_dimension"])], index=d.index)

    def category_known(d: pd.DataFrame) -> pd.Series:  # only under a known dimension and sub-dimension
        return pd.Series([sub not in STRUCTURE.get(dim, {}) or pd.isna(cat) or cat in STRUCTURE[dim][sub]
                          for dim, sub, cat in zip(d["dimension"], d["sub_dimension"], d["category"])], index=d.index)

    subs = "; ".join(f"{dim}: {', '.join(STRUCTURE[dim])}" for dim in DIMENSIONS)
    cats = "; ".join(f"{dim} / {sub}: {', '.join(c)}" for dim in DIMENSIONS for sub, c in STRUCTURE[dim].items())
    required = ("kpi_code", "data_point_name", "unit")
    return pa.DataFrameSchema({
        **{c: text(c in required) for c in REQUIRED_COLUMNS},
        "data_point_id": text(),
        "dimension": one_of(DIMENSIONS, what="a U4SSC dimension,"),
        "sub_dimension": text(),
        "category": text(),
        "core_or_advanced": one_of(LEVELS),
        "direction": one_of(DIRECTIONS),
        "sdg_targets": text(message="empty; every data point links to at least one SDG target (e.g. '11.6'), "
                                    "with its source in sdg_source",
                            checks=[check(sdg_targets_valid, SDG_TARGETS_EXPECTED)]),
        "sdg_source": text(message="empty; name the U4SSC page that gives the SDG link, or write 'reading: …' "
                                   "for the project's own reading"),
    }, checks=[
        row_check(sub_dimension_known, f"unknown sub-dimension for its dimension; expected {subs}",
                  "sub_dimension"),
        row_check(category_known, f"unknown category for its dimension and sub-dimension; "
                                                        f"expected {cats}", "category"),
        table_check(lambda d: d["kpi_code"].nunique() == N_KPIS,
                    f"the U4SSC standard has exactly {N_KPIS} distinct KPIs", "kpi_code",
                    found=lambda d: f"{d['kpi_code'].nunique()} distinct KPIs"),
    ], unique=["data_point_id"], report_duplicates="exclude_first")


def validate(frame: pd.DataFrame, file: str | Path = "catalogue") -> pd.DataFrame:
    """Check a registry frame (cells as text) and return it; raise InputError naming every bad row and column."""
    from analysis import validation
    return validation.validate(frame, schema(), file)


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
    from analysis import validation

    validation.read_checked(path, schema())
    frame = read_csv(path, dtype={"sdg_targets": "string", "kpi_code": "string"})
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


def links_key(cat: pd.DataFrame) -> tuple:
    """What a table checked against the catalogue's links depends on (a cache key): id, dimension, category and
    SDG targets of every data point."""
    return tuple(zip(cat["data_point_id"], cat["dimension"], cat["category"], cat["sdg_targets"].astype(str)))


def sdg_links(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Tidy data point × SDG target links, with the goal number, for the SDG view."""
    links = catalogue[["data_point_id", "sdg_target_list"]].explode("sdg_target_list").dropna()
    links = links.rename(columns={"sdg_target_list": "sdg_target"}).astype({"sdg_target": str})
    links["sdg_goal"] = links["sdg_target"].str.split(".").str[0].astype(int)
    return links.reset_index(drop=True)
