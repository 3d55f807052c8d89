"""Every table of ``data/raw`` and the pandera schema that checks it, validated together through one engine.

:data:`TABLES` is the one list: a file in ``data/raw`` without an entry is refused by :func:`problems`
(and by the test that every raw table has a schema). The loaders of each concept check the same schemas
when they read their table; :func:`check` is what ``python -m analysis build`` runs first, so every
failure of every raw table is reported at once, each with file, row, column and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import paths
from analysis.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

Tables = dict[str, "pd.DataFrame"]
"""The raw tables read as text, by file name (for schemas that refer to another table)."""


def _published(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import observations
    return observations.raw_schemas(cat)["published"]


def _alias(name: str) -> Callable[[pd.DataFrame, Tables], pa.DataFrameSchema]:
    def schema(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
        from analysis import observations
        return observations.raw_schemas(cat)[name]
    return schema


def _municipal(name: str) -> Callable[[pd.DataFrame, Tables], pa.DataFrameSchema]:
    def schema(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
        from analysis import municipalities
        return {path.name: s for path, s in municipalities.schemas().items()}[name]
    return schema


def _catalogue(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import catalogue
    return catalogue.schema()


def _targets(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import targets
    return targets.schema(cat)


def _themes(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import invest
    return invest.themes_schema(cat)


def _costs(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import invest
    themes = tables.get(paths.THEMES.name)
    ids = None if themes is None else sorted(set(themes["theme_id"].dropna().str.strip()))
    return invest.costs_schema(ids)


def _precedence(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import observations, precedence
    return precedence.schema(observations.SOURCE_TYPES)


def _national_map(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis.national import mapping
    return mapping.schema(cat)


def _transcribed(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis.national import fold
    return fold.transcribed_schema(cat)


def _conversions(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import observations
    return observations.unit_conversions_schema(cat)


def _budget_functions(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import budget
    return budget.functions_schema()


def _budget_map(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import budget
    functions = tables.get(budget.FUNCTIONS)
    codes = [] if functions is None else sorted(set(functions["function_code"].dropna().str.strip()))
    return budget.map_schema(codes, cat)


def _national_targets(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import policy
    return policy.national_schema(set(cat["data_point_id"].dropna()))


def _category_plans(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import policy
    return policy.plans_schema(set(zip(cat["dimension"], cat["sub_dimension"], cat["category"])))


def _instruments(cat: pd.DataFrame, tables: Tables) -> pa.DataFrameSchema:
    from analysis import action
    costs = tables.get("investment_costs.csv")
    return action.instruments_schema(set() if costs is None else set(costs["theme_id"].dropna().str.strip()))


TABLES: dict[str, tuple[str, Callable[[pd.DataFrame, Tables], pa.DataFrameSchema]]] = {
    "kpi_catalogue.csv": ("analysis.catalogue.schema", _catalogue),
    "targets.csv": ("analysis.targets.schema", _targets),
    "investment_themes.csv": ("analysis.invest.themes_schema", _themes),
    "investment_costs.csv": ("analysis.invest.costs_schema", _costs),
    "source_precedence.csv": ("analysis.precedence.schema", _precedence),
    "published_observations.csv": ("analysis.observations.raw_schemas: published", _published),
    "published_observations_addendum.csv": ("analysis.observations.raw_schemas: published", _published),
    "label_aliases.csv": ("analysis.observations.raw_schemas: label_aliases", _alias("label_aliases")),
    "unit_aliases.csv": ("analysis.observations.raw_schemas: unit_aliases", _alias("unit_aliases")),
    "unit_conversions.csv": ("analysis.observations.unit_conversions_schema", _conversions),
    "national_statistics_map.csv": ("analysis.national.mapping.schema", _national_map),
    "national_values_found.csv": ("analysis.national.fold.transcribed_schema", _transcribed),
    "kostra_functions.csv": ("analysis.budget.functions_schema", _budget_functions),
    "budget_function_map.csv": ("analysis.budget.map_schema", _budget_map),
    "national_targets.csv": ("analysis.policy.national_schema", _national_targets),
    "category_national_plans.csv": ("analysis.policy.plans_schema", _category_plans),
    "financing_instruments.csv": ("analysis.action.instruments_schema", _instruments),
    "municipalities.csv": ("analysis.municipalities.schemas: panel", _municipal("municipalities.csv")),
    "norway_municipalities_2020.csv": ("analysis.municipalities.schemas: listing",
                                       _municipal("norway_municipalities_2020.csv")),
    "norway_municipalities_2024.csv": ("analysis.municipalities.schemas: listing",
                                       _municipal("norway_municipalities_2024.csv")),
    "norway_municipality_changes.csv": ("analysis.municipalities.schemas: changes",
                                        _municipal("norway_municipality_changes.csv")),
}
"""File name in ``data/raw`` → (where its schema is defined, the function giving it from the registry and tables)."""


def unchecked(raw: Path | None = None) -> list[str]:
    """Files in ``data/raw`` that no schema checks (each one is a gap to close in :data:`TABLES`)."""
    raw = Path(raw or paths.RAW)
    return sorted(p.name for p in raw.iterdir() if p.is_file() and p.name not in TABLES)


def problems(raw: Path | None = None) -> list[Problem]:
    """Every problem of every raw table against its schema; the registry first, since the others refer to it."""
    from analysis import catalogue, validation

    raw = Path(raw or paths.RAW)
    found = [Problem(str(raw / name), None, None, f"no schema checks this table; add one to analysis.raw.TABLES "
                                                  f"(expected one of {sorted(TABLES)})") for name in unchecked(raw)]
    tables: Tables = {}
    for name in TABLES:
        try:
            tables[name] = validation.read_text(raw / name)
        except InputError as exc:  # not found, not UTF-8, not a CSV: the file's own problem
            found += exc.problems
    cat = tables.get(paths.CATALOGUE.name)
    if cat is None:
        return found
    first = validation.problems(cat, catalogue.schema(), raw / paths.CATALOGUE.name) if not cat.empty else \
        [Problem(str(raw / paths.CATALOGUE.name), None, None, "no data rows below the header")]
    if first:
        return found + first  # the other tables are checked against the registry: fix it first
    for name, (_, schema_of) in TABLES.items():
        if name == paths.CATALOGUE.name or name not in tables:
            continue
        if tables[name].empty:
            found.append(Problem(str(raw / name), None, None, "no data rows below the header"))
        else:
            found += validation.problems(tables[name], schema_of(cat, tables), raw / name)
    return found


def check(raw: Path | None = None) -> None:
    """Raise InputError with every problem of every raw table (nothing when all pass)."""
    found = problems(raw)
    if found:
        raise InputError(found)
