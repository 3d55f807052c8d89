"""The cross-city synthesis: coverage, comparisons, rank uncertainty and joint opportunities, computed in one place."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import compare, invest, municipalities, params, profile, targets, uncertainty
from analysis.assess import Assessment, assess
from analysis.files import write_text


@dataclass
class Synthesis:
    """Every table the synthesis notebook shows; figures are drawn from these by analysis.compare."""

    assessment: Assessment
    provenance: dict[str, Any]
    groups: pd.Series
    overlap: pd.DataFrame
    group_tests: pd.DataFrame
    dimension_tests: pd.DataFrame
    correlations: pd.DataFrame
    bootstrap: pd.DataFrame
    clusters: compare.Clusters
    rank_bands: pd.DataFrame
    draw_log: pd.DataFrame
    sobol: pd.DataFrame
    top_opportunities: pd.DataFrame
    joint_programmes: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def build(overrides: list[str] | tuple[str, ...] = (), output_dir: Path | None = None,
          sobol_base: int = 128) -> Synthesis:
    """Assess the panel under the parameters and run every cross-city comparison; write tables and provenance."""
    panel = municipalities.load()
    values = params.load(None, list(overrides), known_municipalities=list(panel["municipality"]),
                         known_target_sets=targets.target_sets(targets.load()))
    a = assess(values, panel=panel)
    seed = int(values["seed"])
    grouping = values["synthesis"]["grouping"]
    groups = panel.set_index("municipality")[grouping] if grouping in panel.columns else \
        pd.Series("all", index=panel["municipality"])
    inputs = uncertainty.prepare(values)
    bands, log = uncertainty.monte_carlo_ranks(inputs, draws=int(values["synthesis"]["draws"]), seed=seed)
    syn = Synthesis(
        assessment=a, provenance=profile.provenance(a, None), groups=groups,
        overlap=compare.overlap(a.scored),
        group_tests=compare.group_tests(a.scored, groups),
        dimension_tests=compare.dimension_group_tests(a.levels["dimension"], groups),
        correlations=compare.correlations(a.scored),
        bootstrap=compare.bootstrap_dimension_ci(a.scored, a.catalogue, seed=seed, municipalities=a.municipalities),
        clusters=compare.cluster_profiles(a.scored, a.catalogue),
        rank_bands=bands, draw_log=log,
        sobol=uncertainty.sobol_indices(inputs, n_base=sobol_base, seed=seed),
        top_opportunities=invest.synthesis_table(a, panel=panel),
        joint_programmes=invest.joint_programmes(a, panel=panel),
    )
    syn.tables = {"overlap": syn.overlap, "group_tests": syn.group_tests, "dimension_tests": syn.dimension_tests,
                  "correlations": syn.correlations, "bootstrap": syn.bootstrap, "rank_bands": bands,
                  "draw_log": log, "sobol": syn.sobol, "top_opportunities": syn.top_opportunities,
                  "joint_programmes": syn.joint_programmes}
    if output_dir is not None:
        from analysis.present import export_tables
        out = Path(output_dir)
        export_tables(syn.tables, out / "tables" / "synthesis")
        write_text(out / "synthesis.provenance.json",
                   json.dumps(syn.provenance, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return syn
