"""The cross-city synthesis: coverage, comparisons, rank uncertainty and joint opportunities, computed in one place.

Rank uncertainty follows analysis.uncertainty: the rank bands and Sobol indices vary the
construction choices under which the same municipalities are ranked (the data choice stays at
its nominal option, ``include_simulated``), and the comparison "published values only versus with
simulated values" is its own table (``data_sensitivity``), among the municipalities rankable under
both. :func:`ranking_note` and :func:`data_sensitivity_note` phrase what those tables rest on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import compare, invest, municipalities, params, paths, profile, uncertainty
from analysis.assess import Assessment, stage
from analysis.errors import InputError
from analysis.files import write_text

GROUPING_KEY = "synthesis.grouping"


@dataclass
class Synthesis:
    """Every table the synthesis notebook shows; figures are drawn from these by analysis.compare."""

    assessment: Assessment
    provenance: dict[str, Any]
    groups: pd.Series
    overlap: pd.DataFrame
    group_tests: pd.DataFrame
    dimension_tests: pd.DataFrame
    first_round: pd.DataFrame
    """Mann–Whitney of dimension scores: the first round of 12 municipalities against the later ones."""
    correlations: pd.DataFrame
    bootstrap: pd.DataFrame
    clusters: compare.Clusters
    rank_bands: pd.DataFrame
    draw_log: pd.DataFrame
    sobol: pd.DataFrame
    data_sensitivity: pd.DataFrame
    top_opportunities: pd.DataFrame
    joint_programmes: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def grouping_columns(panel: pd.DataFrame) -> list[str]:
    """Columns of the municipality panel that ``synthesis.grouping`` may name (the one rule: municipalities.GROUPINGS)."""
    return [c for c in municipalities.GROUPINGS if c in panel.columns]


def groups_of(panel: pd.DataFrame, grouping: str) -> pd.Series:
    """Municipality → group label from the panel column ``grouping``; InputError naming the key if it is unknown."""
    allowed = grouping_columns(panel)
    if grouping not in allowed:
        raise InputError.single("merged parameters", f"unknown grouping column '{grouping}'; expected one of "
                                                     f"{allowed} (columns of the municipality attributes)",
                                column=GROUPING_KEY, label="key")
    return panel.set_index("municipality")[grouping].rename("group")


def build(values: dict[str, Any] | None = None, output_dir: Path | None = None,
          sobol_base: int = 128) -> Synthesis:
    """Run every cross-city comparison under validated parameters (default: params/defaults.yaml); write tables."""
    values = params.given(values)
    panel = municipalities.load(values["panel"])
    groups = groups_of(panel, values["synthesis"]["grouping"])
    a = stage(values)
    seed = int(values["seed"])
    draws = int(values["synthesis"]["draws"])
    inputs = uncertainty.prepare(values)
    bands, log = uncertainty.monte_carlo_ranks(inputs, draws=draws, seed=seed)
    syn = Synthesis(
        assessment=a, provenance=profile.provenance(a, None), groups=groups,
        overlap=compare.overlap(a.scored),
        group_tests=compare.group_tests(a.scored, groups),
        dimension_tests=compare.dimension_group_tests(a.levels["dimension"], groups),
        first_round=compare.two_group_test(a.levels["dimension"],
                                           panel.set_index("municipality")["in_first_round_of_12"],
                                           unit="dimension", value="mean_achievement"),
        correlations=compare.correlations(a.scored),
        bootstrap=compare.bootstrap_dimension_ci(a.scored, a.catalogue, seed=seed, municipalities=a.municipalities),
        clusters=compare.cluster_profiles(a.scored, a.catalogue),
        rank_bands=bands, draw_log=log,
        sobol=uncertainty.sobol_indices(inputs, n_base=sobol_base, seed=seed),
        data_sensitivity=uncertainty.data_sensitivity(inputs, draws=draws, seed=seed),
        top_opportunities=invest.synthesis_table(a, panel=panel),
        joint_programmes=invest.joint_programmes(a, panel=panel),
    )
    syn.tables = {"overlap": syn.overlap, "group_tests": syn.group_tests, "dimension_tests": syn.dimension_tests,
                  "first_round": syn.first_round,
                  "correlations": syn.correlations, "bootstrap": syn.bootstrap, "rank_bands": bands,
                  "draw_log": log, "sobol": syn.sobol, "data_sensitivity": syn.data_sensitivity,
                  "top_opportunities": syn.top_opportunities, "joint_programmes": syn.joint_programmes}
    if output_dir is not None:
        from analysis.present import export_tables
        out = paths.from_root(output_dir)
        export_tables(syn.tables, out / "tables" / "synthesis")
        write_text(out / "synthesis.provenance.json",
                   json.dumps(syn.provenance, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return syn


def ranking_note(bands: pd.DataFrame, log: pd.DataFrame) -> str:
    """One paragraph (Markdown) on what the rank bands rest on: the data option, the set ranked, who is left out."""
    n_total, n_ranked = len(bands), int(bands["n_ranked"].iloc[0]) if len(bands) else 0
    options = list(dict.fromkeys(log["data"]))
    data = (f"data `{options[0]}` in every draw" if len(options) == 1
            else "data varied over " + ", ".join(f"`{d}`" for d in options))
    varied = [c for c in uncertainty.DISCRETE if log[c].nunique() > 1]
    if (log[[c for c in log.columns if c.startswith("w_")]].nunique() > 1).any():
        varied.append("dimension weights")
    text = (f"{len(log)} draws, {data}; varied: {', '.join(varied) or 'nothing'}. Every draw ranks the same "
            f"{n_ranked} of {n_total} municipalities (those with an index under every varied choice).")
    if n_ranked < 2:
        return text + (" **No ranking can be made:** at least two municipalities need an index under every "
                       "choice; the table gives the reason for each.")
    left_out = bands[~bands["ranked"]]
    if len(left_out):
        reasons = left_out.groupby("reason")["municipality"].agg(lambda s: ", ".join(s))
        text += " Not ranked: " + "; ".join(f"{names} ({reason})" for reason, names in reasons.items()) + "."
    return text


def data_sensitivity_note(table: pd.DataFrame) -> str:
    """One paragraph (Markdown) on the published-only comparison: how many can be ranked, how many are compared."""
    n_total = len(table)
    n_published = int(table["index_published_only"].sum())
    n_compared = int(table["compared"].sum())
    text = (f"From published values alone, {n_published} of {n_total} municipalities have an index under the "
            f"nominal choices, and {n_compared} under every varied choice (min-max and rank normalisation "
            f"need at least two municipalities with distinct values per data point).")
    if n_compared < 2:
        return text + (" **No comparison can be made:** at least two municipalities must be rankable both with "
                       "and without simulated values.")
    changed = table[table["compared"] & table["rank_change"].ne(0) & table["rank_change"].notna()]
    return text + (f" The ranks below are among those {n_compared} only, with simulated values and without "
                   f"(a different ranking from the rank bands whenever those rank other municipalities); "
                   f"{len(changed)} of them change rank under the nominal choices.")
