"""One assessment run: the observations a run uses, goalposts, scores at every level, SDG view and trends.

Profiles, the synthesis, the investment ranking and the tutorial all start from ``assess``, so
a number in any report can be traced to one function here and the module it calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis import build, catalogue, municipalities, observations, params, scoring, sdg, simulate, targets, trends


@dataclass
class Assessment:
    """Everything computed for one parameter set over the whole panel (all municipalities at once)."""

    params: dict[str, Any]
    municipalities: list[str]
    catalogue: pd.DataFrame
    observations: pd.DataFrame
    baseline: pd.DataFrame
    goalposts: pd.DataFrame
    scored: pd.DataFrame
    levels: dict[str, pd.DataFrame] = field(default_factory=dict)
    overall: pd.DataFrame | None = None
    sdg_goals: pd.DataFrame | None = None
    trends: pd.DataFrame | None = None
    mix: pd.DataFrame | None = None


def run_observations(values: dict[str, Any], names: list[str], base: pd.DataFrame | None = None) -> pd.DataFrame:
    """The observations a run uses: published and city-supplied, plus simulated cells when the parameters ask."""
    base = build.load_observations() if base is None else base
    if values.get("include_simulated", False):
        years = sorted(set(values["years"]))
        return simulate.demonstration_panel(base, names, years, int(values["seed"]))
    return simulate.select(base, include_simulated=False)


def assess(values: dict[str, Any], obs: pd.DataFrame | None = None, cat: pd.DataFrame | None = None,
           target_table: pd.DataFrame | None = None, panel: pd.DataFrame | None = None,
           as_given: bool = False) -> Assessment:
    """Score every municipality of the panel under ``values`` (parameters as loaded by analysis.params).

    With ``as_given`` the observations ``obs`` are scored exactly as passed (for example a scale
    panel of fictional municipalities from analysis.simulate.scale_panel), without adding or
    removing simulated rows, and the panel is the municipalities they contain.
    """
    cat = catalogue.load() if cat is None else cat
    target_table = targets.load(cat=cat) if target_table is None else target_table
    if as_given:
        if obs is None:
            raise ValueError("as_given needs the observations to score")
        used = obs
        names = sorted(obs["municipality"].unique())
    else:
        panel = municipalities.load() if panel is None else panel
        base = build.load_observations() if obs is None else obs
        extra = set(base["municipality"]) - set(panel["municipality"])  # city-supplied, outside the panel
        names = sorted(set(panel["municipality"]) | extra)
        used = run_observations(values, names, base)
    baseline = observations.latest(used)
    gp = targets.goalposts(targets.select(target_table, values.get("target_set", targets.DEFAULT_SET)),
                           baseline, cat)
    scored = scoring.score_data_points(baseline, gp)
    scored = scored.merge(cat[["data_point_id", "data_point_name", "dimension", "sub_dimension", "category",
                               "core_or_advanced", "unit"]].rename(columns={"unit": "registry_unit"}),
                          on="data_point_id", how="left")
    levels = {level: scoring.aggregate(scored, cat, level, names) for level in ("category", "sub_dimension",
                                                                                 "dimension", "overall")}
    overall = scoring.overall_index(levels["dimension"], params.dimension_weights(values))
    return Assessment(
        params=values, municipalities=names, catalogue=cat, observations=used, baseline=baseline,
        goalposts=gp, scored=scored, levels=levels, overall=overall,
        sdg_goals=sdg.goal_dashboard(scored, cat, names),
        trends=trends.trends(used, gp, int(values.get("deadline", 2030))),
        mix=simulate.mix_counts(used),
    )
