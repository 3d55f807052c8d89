"""The cross-city synthesis: coverage, comparisons, rank uncertainty and joint opportunities, computed in one place.

Findings versus demonstrations: group tests and correlations count as findings only on real values
(published, city-supplied, national statistics; :func:`analysis.compare.real_values`) with at least
:data:`analysis.compare.MIN_REAL_MUNICIPALITIES` municipalities (the ``real_*`` tables and
:func:`real_data_support`). The same tests on the demonstration panel, whose cells are mostly
simulated, show the method only.

Parameters: the synthesis scores every municipality under the default parameters, so that all are
compared under the same rules; :func:`parameter_differences` lists the municipalities whose profile
uses other parameters (its own target set, peer group, …) and gives both results.

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

from analysis import audit, compare, invest, municipalities, params, paths, profile, uncertainty
from analysis.assess import Assessment, stage
from analysis.errors import InputError
from analysis.files import write_text

GROUPING_KEY = "synthesis.grouping"
SOBOL_BASE = 8192
"""Sobol base sample: 8 192 · (factors + 2) evaluations keep the 95 % intervals small against the indices."""
REAL_MIN_COVERAGE = 0.5
"""A real-data dimension score enters a finding only if it rests on at least half of the dimension's data points."""


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
    """Spearman over the pre-declared within-category pairs (demonstration: mostly simulated cells)."""
    real_group_tests: pd.DataFrame
    real_dimension_tests: pd.DataFrame
    real_first_round: pd.DataFrame
    real_correlations: pd.DataFrame
    """The same statistics on real values only, with at least compare.MIN_REAL_MUNICIPALITIES municipalities."""
    real_support: pd.DataFrame
    alpha: pd.DataFrame
    audit_correlations: pd.DataFrame
    audit_warnings: list[str]
    collinear: pd.DataFrame
    dimension_correlations: pd.DataFrame
    bootstrap: pd.DataFrame
    clusters: compare.Clusters
    rank_bands: pd.DataFrame
    draw_log: pd.DataFrame
    sobol: pd.DataFrame
    leave_one_out: pd.DataFrame
    outlier_treatments: pd.DataFrame
    data_sensitivity: pd.DataFrame
    top_opportunities: pd.DataFrame
    joint_programmes: pd.DataFrame
    parameter_differences: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    grouping_note: str = ""
    """Which municipalities of the run are outside the panel and how the group tests place them (empty: none)."""


def grouping_columns(panel: pd.DataFrame) -> list[str]:
    """Columns of the municipality panel that ``synthesis.grouping`` may name (the one rule: municipalities.GROUPINGS)."""
    return [c for c in municipalities.GROUPINGS if c in panel.columns]


def groups_of(panel: pd.DataFrame, grouping: str, names: list[str] | None = None) -> pd.Series:
    """Municipality → group label from the panel column ``grouping``; InputError naming the key if it is unknown.

    With ``names`` (the run's municipalities), those outside the panel are placed explicitly
    (:func:`outside_panel_group`): a Norwegian municipality by its county from the registry, a city
    outside Norway nowhere (NA: it has no county, and it is not in the project's first round or later).
    """
    allowed = grouping_columns(panel)
    if grouping not in allowed:
        raise InputError.single("merged parameters", f"unknown grouping column '{grouping}'; expected one of "
                                                     f"{allowed} (columns of the municipality attributes)",
                                column=GROUPING_KEY, label="key")
    groups = panel.set_index("municipality")[grouping].rename("group")
    if names is None:
        return groups
    outside = [n for n in names if n not in groups.index]
    extra = pd.Series([outside_panel_group(n, grouping)[0] for n in outside], index=outside, dtype=object)
    return pd.concat([groups.astype(object), extra]).rename("group")


def outside_panel_group(name: str, grouping: str) -> tuple[str | None, str]:
    """The group of a municipality outside the panel under ``grouping`` (None: left out) and why."""
    entity = municipalities.registry().resolve(name, file="synthesis", column="municipality")
    if entity.foreign:
        return None, (f"{entity.label} ({entity.kommunenummer}) is a city outside Norway: it has no county and is "
                      "not one of the project's municipalities")
    if grouping == "county" and entity.county:
        return entity.county, f"{entity.label} is outside the panel; its county comes from the registry"
    return None, f"{entity.label} is outside the panel, so it has no value of `{grouping}`"


def grouping_note(panel: pd.DataFrame, grouping: str, names: list[str]) -> str:
    """One paragraph (Markdown) on the run's municipalities outside the panel and how the group tests place them
    (empty when every municipality is in the panel)."""
    outside = [n for n in names if n not in set(panel["municipality"])]
    if not outside:
        return ""
    left, placed = [], []
    for name in outside:
        group, why = outside_panel_group(name, grouping)
        (left if group is None else placed).append(why)
    text = (f"**Outside the panel:** {len(outside)} of the {len(names)} municipalities of this run "
            f"({', '.join(outside)}) supplied data without being in the panel. ")
    if left:
        text += f"Left out of the group tests by `{grouping}`: " + "; ".join(left) + ". "
    if placed:
        text += f"Placed in the group tests by `{grouping}`: " + "; ".join(placed) + ". "
    return text + ("None of them is in the comparison of the first round of 12 against the later municipalities "
                   "(a comparison within the project). Rankings, bootstrap intervals and clusters take them like any "
                   "other municipality, under the same coverage rules.")


def build(values: dict[str, Any] | None = None, output_dir: Path | None = None,
          sobol_base: int = SOBOL_BASE) -> Synthesis:
    """Run every cross-city comparison under validated parameters (default: params/defaults.yaml); write tables."""
    values = params.given(values)
    panel = municipalities.load(values["panel"])
    a = stage(values)
    groups = groups_of(panel, values["synthesis"]["grouping"], a.municipalities)
    first_round = panel.set_index("municipality")["in_first_round_of_12"]
    real_run = a if not values["include_simulated"] else stage(dict(values, include_simulated=False))
    seed = int(values["seed"])
    draws = int(values["synthesis"]["draws"])
    inputs = uncertainty.prepare(values)
    bands, log = uncertainty.monte_carlo_ranks(inputs, draws=draws, seed=seed)
    real = compare.real_values(a.scored)
    minimum = compare.MIN_REAL_MUNICIPALITIES
    real_dims = real_run.levels["dimension"]
    real_dims = real_dims[real_dims["coverage"] >= REAL_MIN_COVERAGE]
    audit_corr = audit.data_point_dimension_correlations(a.scored, a.levels["dimension"])
    ranked = invest.ranking_all(a, panel=panel)  # every municipality's themes, ranked once for the three tables
    syn = Synthesis(
        assessment=a, provenance=profile.provenance(a, None), groups=groups,
        overlap=compare.overlap(a.scored),
        group_tests=compare.group_tests(a.scored, groups, seed=seed),
        dimension_tests=compare.dimension_group_tests(a.levels["dimension"], groups, seed=seed),
        first_round=compare.two_group_test(a.levels["dimension"], first_round, unit="dimension",
                                           value="mean_achievement", seed=seed),
        correlations=compare.correlations(a.scored, a.catalogue, seed=seed),
        real_group_tests=compare.group_tests(real, groups, min_n=minimum, seed=seed),
        real_dimension_tests=compare.dimension_group_tests(real_dims, groups, min_n=minimum, seed=seed),
        real_first_round=compare.two_group_test(real_dims, first_round, unit="dimension", value="mean_achievement",
                                                min_n=minimum, seed=seed),
        real_correlations=compare.correlations(real, pairs=compare.pairs_with_overlap(real, minimum),
                                               min_pairs=minimum, seed=seed),
        real_support=pd.DataFrame(),
        alpha=audit.alpha_table(a.scored), audit_correlations=audit_corr,
        audit_warnings=audit.negative_warnings(audit_corr), collinear=audit.collinear_pairs(a.scored),
        dimension_correlations=audit.dimension_correlations(a.levels["dimension"], a.overall),
        bootstrap=compare.bootstrap_dimension_ci(a.scored, a.catalogue, seed=seed, municipalities=a.municipalities),
        clusters=compare.cluster_profiles(a.scored, a.catalogue),
        rank_bands=bands, draw_log=log,
        sobol=uncertainty.sobol_indices(inputs, n_base=sobol_base, seed=seed),
        leave_one_out=uncertainty.leave_one_out(inputs),
        outlier_treatments=uncertainty.nominal_treatments(inputs),
        data_sensitivity=uncertainty.data_sensitivity(inputs, draws=draws, seed=seed),
        top_opportunities=invest.synthesis_table(a, panel=panel, ranked=ranked),
        joint_programmes=invest.joint_programmes(a, panel=panel, ranked=ranked),
        parameter_differences=parameter_differences(values, a, panel, ranked),
    )
    syn.real_support = real_data_support(syn)
    syn.grouping_note = grouping_note(panel, values["synthesis"]["grouping"], a.municipalities)
    syn.tables = {"overlap": syn.overlap, "group_tests": syn.group_tests, "dimension_tests": syn.dimension_tests,
                  "first_round": syn.first_round, "correlations": syn.correlations,
                  "real_group_tests": syn.real_group_tests, "real_dimension_tests": syn.real_dimension_tests,
                  "real_first_round": syn.real_first_round, "real_correlations": syn.real_correlations,
                  "real_support": syn.real_support, "alpha": syn.alpha, "audit_correlations": syn.audit_correlations,
                  "collinear": syn.collinear, "dimension_correlations": syn.dimension_correlations,
                  "bootstrap": syn.bootstrap, "rank_bands": bands,
                  "draw_log": log, "sobol": syn.sobol, "leave_one_out": syn.leave_one_out,
                  "outlier_treatments": syn.outlier_treatments, "data_sensitivity": syn.data_sensitivity,
                  "top_opportunities": syn.top_opportunities, "joint_programmes": syn.joint_programmes,
                  "parameter_differences": syn.parameter_differences}
    if output_dir is not None:
        from analysis.present import export_tables
        out = paths.from_root(output_dir)
        export_tables(syn.tables, out / "tables" / "synthesis")
        write_text(out / "synthesis.provenance.json",
                   json.dumps(syn.provenance, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return syn


# --------------------------------------------------------------------------------------------
# what the real data alone support


SUPPORT_COLUMNS = ["question", "count", "note"]


def _tested(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["p"].notna()]


def real_data_support(syn: Synthesis) -> pd.DataFrame:
    """What the real values alone support: how many municipalities and data points, tests and findings (q < 0.05).

    Columns: question, count, note. Everything here rests on published, city-supplied or
    national-statistics values only.
    """
    real = compare.real_values(syn.assessment.scored)
    real = real[real["achievement"].notna()]
    per_dp = real.groupby("data_point_id")["municipality"].nunique()
    minimum = compare.MIN_REAL_MUNICIPALITIES
    rows = [
        ("municipalities with at least one real scored value", real["municipality"].nunique(),
         f"of {len(syn.assessment.municipalities)}"),
        ("data points with real values in at least 2 municipalities", int((per_dp >= 2).sum()),
         f"of {syn.assessment.catalogue['data_point_id'].nunique()}"),
        (f"data points with real values in at least {minimum} municipalities", int((per_dp >= minimum).sum()),
         "the minimum for a test or correlation to count as a finding"),
    ]
    for label, frame in (("group tests per data point", syn.real_group_tests),
                         ("group tests per dimension", syn.real_dimension_tests),
                         ("first round of 12 against the later municipalities", syn.real_first_round),
                         ("correlations between data points", syn.real_correlations)):
        tested = _tested(frame)
        rows.append((f"{label}: run on real values", len(tested), f"of {len(frame)} candidates"))
        rows.append((f"{label}: findings (q < 0.05)", int((tested["q"] < 0.05).sum()), "Benjamini–Hochberg"))
    data = syn.data_sensitivity
    rows.append(("municipalities with an index from published values alone", int(data["index_published_only"].sum()),
                 "nominal choices"))
    rows.append(("municipalities rankable from published values alone under every varied choice",
                 int(data["compared"].sum()), "their ranks: table data_sensitivity"))
    return pd.DataFrame(rows, columns=SUPPORT_COLUMNS)


def real_data_note(support: pd.DataFrame) -> str:
    """One paragraph (Markdown) summarising :func:`real_data_support`."""
    count = support.set_index("question")["count"]
    findings = int(sum(v for k, v in count.items() if k.endswith("findings (q < 0.05)")))
    run = int(sum(v for k, v in count.items() if k.endswith("run on real values")))
    minimum = compare.MIN_REAL_MUNICIPALITIES
    text = (f"Real values cover {count.iloc[0]} municipalities; "
            f"{count.iloc[2]} data points have real values in at least {minimum} municipalities. ")
    if run == 0:
        return text + ("**No test or correlation can be run on real values alone**, so the real data support no "
                       "statement that municipalities or groups of them differ, or that data points move together. "
                       "Everything in the demonstration sections below rests on simulated cells.")
    if findings == 0:
        return text + (f"{run} tests or correlations could be run on real values; **none is a finding** "
                       "(q < 0.05 after Benjamini–Hochberg correction).")
    return text + f"{run} tests or correlations could be run on real values; {findings} are findings (q < 0.05)."


# --------------------------------------------------------------------------------------------
# profile parameters versus the synthesis' defaults


PARAMETER_COLUMNS = ["municipality", "differs", "index_synthesis", "index_profile", "rank_synthesis", "rank_profile",
                     "top_themes_synthesis", "top_themes_profile"]


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        out.update(_flatten(value, name + ".") if isinstance(value, dict) and value else {name: value})
    return out


def _top_themes(table: pd.DataFrame, name: str) -> str:
    own = table[table["municipality"] == name].sort_values("ws_rank", kind="mergesort")
    return ", ".join(own["theme_id"])


def parameter_differences(values: dict[str, Any], a: Assessment, panel: pd.DataFrame,
                          ranked: pd.DataFrame | None = None) -> pd.DataFrame:
    """Municipalities whose profile parameters differ from the synthesis' and what that changes.

    The synthesis scores everyone under ``values`` (the defaults plus the run's overrides); a
    profile uses its own file in params/municipalities/ as well. Per such municipality: the keys
    that differ (``key: synthesis → profile``), its index and rank among all municipalities
    under both (competition ranks, 1 = best), and its top investment themes under both (they
    differ where the peer group or the target set does). ``ranked``: ``invest.ranking_all(a)`` when already computed.
    """
    base = _flatten(values)
    synthesis_top = invest.synthesis_table(a, panel=panel, ranked=ranked)
    ranks = a.overall.assign(rank=a.overall["index"].rank(ascending=False, method="min")).set_index("municipality")
    run_overrides = params.overrides(values, params.load())  # what this synthesis run changed from the defaults
    number_of = dict(zip(panel["municipality"], panel["kommunenummer"]))
    own_files = params.municipality_files()
    rows = []
    for name in a.municipalities:
        if number_of.get(name) not in own_files:
            continue
        own = params.load(number_of[name], run_overrides)
        flat = _flatten(own)
        differs = [f"{k}: {base.get(k)} → {flat.get(k)}" for k in sorted(set(flat) | set(base))
                   if flat.get(k) != base.get(k) and k != "municipality"]
        if not differs:
            continue
        b = stage(own)
        own_ranks = b.overall.assign(rank=b.overall["index"].rank(ascending=False, method="min")
                                     ).set_index("municipality")
        own_top = invest.synthesis_table(b, panel=panel, ranked=invest.ranking_all(
            b, panel=panel, crit=invest.criteria(b, municipalities=[name], panel=panel)))  # its rows alone
        rows.append({"municipality": name, "differs": "; ".join(differs),
                     "index_synthesis": ranks["index"].get(name), "index_profile": own_ranks["index"].get(name),
                     "rank_synthesis": ranks["rank"].get(name), "rank_profile": own_ranks["rank"].get(name),
                     "top_themes_synthesis": _top_themes(synthesis_top, name),
                     "top_themes_profile": _top_themes(own_top, name)})
    return pd.DataFrame(rows, columns=PARAMETER_COLUMNS)


def parameter_note(table: pd.DataFrame) -> str:
    """One paragraph (Markdown): the synthesis uses the default parameters, and where a profile differs."""
    text = ("The synthesis scores every municipality under the **default parameters** (`params/defaults.yaml` "
            "and this run's overrides), so that all are compared under the same rules. A municipality's profile "
            "also applies its own file in `params/municipalities/`.")
    if table.empty:
        return text + " No municipality's own parameters differ from them."
    names = ", ".join(table["municipality"])
    return text + (f" For {names} they differ, so the profile's index, rank and top investment themes can "
                   "differ from those shown here; the table gives both (themes differ where the peer group "
                   "or the target set does).")


def sobol_note(sobol: pd.DataFrame) -> str:
    """One sentence (Markdown) on the size of the Sobol intervals against the indices."""
    ok = sobol[sobol["reason"].eq("")]
    if ok.empty:
        return f"No Sobol indices: {sobol['reason'].iloc[0]}" if len(sobol) else "No Sobol indices."
    main = ok[ok["ST"] >= 0.05]
    worst = (main["ST_conf"] / main["ST"]).max() if len(main) else float("nan")
    return (f"{int(ok['n_evaluations'].iloc[0])} evaluations. For the choices with a total index of at least "
            f"0.05 the 95 % interval is at most ±{worst:.0%} of the index; the first-order indices of choices "
            f"whose total index is near 0 are 0 within their interval (S1_conf).")


def sobol_figure_text(sobol: pd.DataFrame) -> tuple[str, str]:
    """Alternative text and caption of the Sobol figure (analysis.compare.plot_sobol): the indices and the finding."""
    ok = sobol[sobol["reason"].eq("")]
    if ok.empty:
        reason = sobol["reason"].iloc[0] if len(sobol) else "no construction choice varies"
        return f"Empty Sobol chart: {reason}.", f"No Sobol indices: {reason}."
    order = ok.sort_values("ST", ascending=False)
    alt = ("Horizontal bar chart of the first-order (S1) and total (ST) Sobol index per construction choice, "
           "with 95 % intervals: " + "; ".join(f"{r.factor} S1 {r.S1:.2f}, ST {r.ST:.2f}"
                                               for r in order.itertuples()) + ".")
    top = order.iloc[0]
    goalposts = ok[ok["factor"] == "goalposts"]
    rule = (f" The goalpost rule (documented worst bounds or SDSN's percentile for every data point) has a total "
            f"index of {goalposts['ST'].iloc[0]:.2f}." if len(goalposts) else "")
    caption = (f"{top['factor']} moves the ranks most (total index {top['ST']:.2f}), over "
               f"{int(ok['n_evaluations'].iloc[0])} evaluations ranking {int(ok['n_ranked'].iloc[0])} "
               f"municipalities.{rule}")
    return alt, caption


def ranking_note(bands: pd.DataFrame, log: pd.DataFrame) -> str:
    """One paragraph (Markdown) on what the rank bands rest on: the data option, the set ranked, who is left out."""
    n_total, n_ranked = len(bands), int(bands["n_ranked"].iloc[0]) if len(bands) else 0
    options = list(dict.fromkeys(log["data"]))
    data = (f"data `{options[0]}` in every draw" if len(options) == 1
            else "data varied over " + ", ".join(f"`{d}`" for d in options))
    varied = [c for c in uncertainty.DISCRETE if c in log and log[c].nunique() > 1]
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
