"""The tables of one municipality's profile: provenance, baseline against targets and peers, gaps and strengths."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import analysis
from analysis import observations, paths, scoring, simulate
from analysis.assess import Assessment
from analysis.errors import InputError
from analysis.files import write_text
from analysis.pipeline import KERNEL_BUILDS_KEPT

BASELINE_COLUMNS = ["dimension", "category", "data_point_id", "data_point_name", "data_point_name_nb",
                    "core_or_advanced", "status", "value", "registry_unit", "value_text", "year", "target",
                    "target_origin", "worst", "worst_rule", "achievement", "band", "points", "sdg_targets", "arrow",
                    "trend", "peer_median_value", "peer_rank", "peer_n", "peer_percentile", "national_value",
                    "national_year", "source_type", "quality_level", "verified", "goalposts_from_simulated", "source",
                    "other_sources", "note"]
"""The KPI table (a superset of the verification reports' and SDSN's columns): code, names in English and
Bokmål, value, unit, year, source, data-quality level and verification, band and points, SDG targets, trend
arrow, peer median and position, and the national statistics value where one exists."""
STATUS_LABELS = {"reported": "reported", "partial": "partial", "not_reported": "not reported",
                 "not_applicable": "not applicable"}
"""How a status reads in the baseline and the data-collection plan."""


def data_sha256(files: list[Path] | None = None) -> str:
    """One hash over every input file's bytes (raw data, ingested city data, national statistics snapshots), in a fixed order."""
    if files is None:
        from analysis.national import snapshot
        files = sorted(paths.RAW.glob("*.csv")) + sorted(paths.CITY_SUPPLIED.glob("*.csv")) \
            + sorted((paths.CITY_SUPPLIED / "budget").glob("*.csv")) \
            + sorted(paths.CITY_SUPPLIED.glob("targets/*.csv")) + snapshot.files()
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode("utf-8"))
        digest.update(file.read_bytes())
    return digest.hexdigest()


@functools.cache
def code_version() -> str:
    """``git describe`` of the working tree when available, else the package version: once per process, as the
    code a process runs is the code it imported (a warm kernel asked twice per profile, 9 ms each)."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=paths.ROOT, capture_output=True,
                             text=True, timeout=10, check=True)
        return f"{analysis.__version__}+{out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        return analysis.__version__


def provenance(a: Assessment, municipality: str | None) -> dict[str, Any]:
    """What a reader needs to reproduce a page: parameters, data hash, code version, date and the data mix."""
    mix = a.mix.set_index("municipality")
    columns = list(simulate.MIX_COLUMNS.values())
    if municipality is not None and municipality in mix.index:
        row = mix.loc[municipality]
        counts = {k: int(row[k]) for k in columns}
    else:
        counts = {k: int(a.mix[k].sum()) for k in columns}
    return {
        "municipality": municipality,
        "parameters": a.params,
        "data_sha256": data_sha256(),
        "code_version": code_version(),
        "executed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **counts,
        "mostly_simulated": simulate.is_mostly_simulated(sum(counts.values()) - counts["n_simulated"],
                                                         counts["n_simulated"]),
    }


def peer_ranks(scored: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    """Rank (1 = best, direction-aware on the value) and percentile of each municipality among ``group`` per data point."""
    frame = scored[scored["municipality"].isin(group) & scored["direction"].isin(
        ["higher_is_better", "lower_is_better", "target_band"])].copy()
    closeness = np.where(frame["direction"].eq("lower_is_better"), -frame["value"],
                         np.where(frame["direction"].eq("target_band"), -(frame["value"] - frame["target"]).abs(),
                                  frame["value"]))
    frame["closeness"] = closeness
    g = frame.groupby("data_point_id")["closeness"]
    frame["peer_rank"] = g.rank(ascending=False, method="min").astype("Int64")  # NA where nothing to rank on
    frame["peer_n"] = g.transform("count")
    frame["peer_percentile"] = 100.0 * g.rank(pct=True, method="average")
    return frame[["municipality", "data_point_id", "peer_rank", "peer_n", "peer_percentile"]]


def baseline_table(a: Assessment, municipality: str, group: list[str]) -> pd.DataFrame:
    """The municipality's data points with value, target, achievement, band, rank among peers, source and quality.

    Data points whose latest row says not reported (or not applicable) are listed too, without a value,
    so that what a report states as missing is visible as such.
    """
    own = a.scored[a.scored["municipality"] == municipality]
    ranks = peer_ranks(a.scored, group)
    out = own.merge(ranks, on=["municipality", "data_point_id"], how="left")
    last = observations.latest_rows(a.observations[a.observations["municipality"] == municipality])
    unscored = last[~last["data_point_id"].isin(own["data_point_id"])].merge(
        a.catalogue[["data_point_id", "data_point_name", "dimension", "sub_dimension", "category",
                     "core_or_advanced", "unit"]].rename(columns={"unit": "registry_unit"}),
        on="data_point_id", how="left")
    frames = [f for f in (out, unscored) if not f.empty]
    out = pd.concat(frames, ignore_index=True) if frames else out
    out["status"] = out["status"].map(STATUS_LABELS).fillna(out["status"])
    out["quality_level"] = pd.to_numeric(out["quality_level"]).astype("Int64")
    out["verified"] = out["verified"].astype("boolean")
    out["points"] = pd.to_numeric(out["points"]).astype("Int64")
    out["peer_n"] = pd.to_numeric(out["peer_n"]).astype("Int64")
    out = out.merge(_context(a, municipality, group), on="data_point_id", how="left")
    out = out.sort_values(["dimension", "sub_dimension", "category", "data_point_id"], kind="mergesort")
    return out.reindex(columns=BASELINE_COLUMNS).reset_index(drop=True)


def _context(a: Assessment, municipality: str, group: list[str]) -> pd.DataFrame:
    """Per data point: Bokmål name, SDG targets, trend arrow, the peers' median value and the national statistics value.

    The peer median is over the peer group's scored values (the municipality included, as in its rank);
    the national value is the municipality's latest value from national statistics, shown beside the
    chosen one even when a published value takes precedence.
    """
    from analysis import i18n

    names = i18n.catalogue("data_points")
    cat = a.catalogue[["data_point_id", "sdg_target_list"]].assign(
        data_point_name_nb=lambda f: f["data_point_id"].map(lambda i: names.get(i, {}).get("nb")),
        sdg_targets=lambda f: f["sdg_target_list"].map(lambda t: ", ".join(sorted(t, key=_target_order))))
    peers = a.scored[a.scored["municipality"].isin(group)].groupby("data_point_id")["value"].median()
    trends = a.trends.loc[a.trends["municipality"] == municipality, ["data_point_id", "arrow", "trend"]]
    own = a.observations[(a.observations["municipality"] == municipality)
                         & a.observations["source_type"].eq("national_statistics") & a.observations["value"].notna()]
    national = observations.latest(own)[["data_point_id", "value", "year"]] if not own.empty else pd.DataFrame(
        columns=["data_point_id", "value", "year"])
    national = national.rename(columns={"value": "national_value", "year": "national_year"})
    out = cat.drop(columns="sdg_target_list").assign(peer_median_value=cat["data_point_id"].map(peers))
    out = out.merge(trends, on="data_point_id", how="left").merge(national, on="data_point_id", how="left")
    return out.astype({"national_year": "Int64"})


def _target_order(target: str) -> tuple[int, int, str]:
    """SDG targets in their numbering order (9.c before 17.8, 11.2 before 11.10, numbers before letters)."""
    goal, _, part = target.partition(".")
    return (int(goal), 0, f"{int(part):03d}") if part.isdigit() else (int(goal), 1, part)


def peer_comparison(a: Assessment, municipality: str, group: list[str], level: str = "dimension") -> pd.DataFrame:
    """The municipality's group scores beside the peer median, minimum and maximum."""
    scores = a.levels[level]
    keys = [c for c in ("dimension", "sub_dimension", "category") if c in scores.columns]
    own = scores[scores["municipality"] == municipality].set_index(keys)
    peer = scores[scores["municipality"].isin(group)].groupby(keys)["mean_achievement"]
    out = own[["mean_achievement", "u4ssc_score", "u4ssc_band", "coverage", "sufficient", "n_scored",
               "n_simulated"]].join(
        pd.DataFrame({"peer_median": peer.median(), "peer_min": peer.min(), "peer_max": peer.max(),
                      "n_peers": peer.count()}))
    return out.reset_index()


def data_gaps(a: Assessment, municipality: str) -> pd.DataFrame:
    """Data points with no published, city-supplied or national statistics value, as a data-collection plan.

    Those the municipality's latest report states as not reported come first (the U4SSC "next
    steps" ask for data collection on unreported KPIs), then core before advanced, then data points
    linked to more SDG targets (SDG breadth makes a value more useful). A simulated value is a gap:
    it stands in for a number the municipality has not supplied. A data point stated as not
    applicable is no gap. ``national_source`` names the national table a connector could fill the
    gap from (``data/raw/national_statistics_map.csv``), with its verification status; empty where none is known.
    """
    from analysis.national import fetch as national

    cat = a.catalogue
    real = a.observations[(a.observations["municipality"] == municipality)
                          & ~a.observations["source_type"].eq("simulated")]
    last = observations.latest_rows(real).set_index("data_point_id")["status"] if not real.empty else pd.Series(
        dtype=object)
    has_value = observations.latest(real)["data_point_id"] if not real.empty else pd.Series(dtype=object)
    gaps = cat[~cat["data_point_id"].isin(has_value) & ~cat["data_point_id"].map(last).eq("not_applicable")].copy()
    stated = gaps["data_point_id"].map(last).eq("not_reported")
    gaps["status"] = np.where(stated, STATUS_LABELS["not_reported"], "no data")
    gaps["n_sdg_targets"] = gaps["sdg_target_list"].map(len)
    gaps["stated_first"] = np.where(stated, 0, 1)
    gaps["core_first"] = gaps["core_or_advanced"].map({"core": 0, "advanced": 1})
    gaps = gaps.sort_values(["stated_first", "core_first", "n_sdg_targets", "data_point_id"],
                            ascending=[True, True, False, True], kind="mergesort")
    gaps["priority"] = np.arange(1, len(gaps) + 1)
    gaps["national_source"] = gaps["data_point_id"].map(national.connectors(cat)).fillna("")
    return gaps[["priority", "data_point_id", "data_point_name", "status", "core_or_advanced", "n_sdg_targets",
                 "sdg_targets", "dimension", "category", "unit", "national_source"]].reset_index(drop=True)


def overall_table(a: Assessment, municipality: str, group: list[str]) -> pd.DataFrame:
    """The municipality's overall index (this project's weighted mean of dimension scores) with its ranks.

    One row: the index, the dimension weights used, the number of dimensions with data, the rank
    (1 = highest index) among the whole panel and among the peer group, and the share of the scored
    values that are simulated (which marks the row when above one half).
    """
    frame = a.overall[a.overall["index"].notna()]
    peers = frame[frame["municipality"].isin(group)]

    def rank_of(scores: pd.DataFrame) -> Any:
        ranks = scores.set_index("municipality")["index"].rank(ascending=False, method="min")
        return int(ranks[municipality]) if municipality in ranks.index else pd.NA

    own = frame[frame["municipality"] == municipality]
    scored = a.scored[(a.scored["municipality"] == municipality) & a.scored["achievement"].notna()]
    row = {
        "index": float(own["index"].iloc[0]) if len(own) else np.nan,
        "n_dimensions": int(own["n_dimensions"].iloc[0]) if len(own) else 0,
        **{f"weight_{k}": float(v) for k, v in sorted(a.params.get("weights", {}).items())},
        "rank": rank_of(frame), "n_ranked": len(frame),
        "peer_rank": rank_of(peers), "n_peers": len(peers),
        "share_simulated": float(scored["source_type"].eq("simulated").mean()) if len(scored) else np.nan,
    }
    return pd.DataFrame([row]).astype({"rank": "Int64", "peer_rank": "Int64"})


def coverage_note(prof: Profile) -> str:
    """What the profile rests on in one sentence: values scored, values missing, and where the plan is."""
    n_total = len(prof.assessment.catalogue)
    n_real = n_total - len(prof.gaps)
    n_scored = int(prof.baseline["achievement"].notna().sum())
    n_simulated = int(prof.baseline.loc[prof.baseline["achievement"].notna(), "source_type"].eq("simulated").sum())
    text = (f"{prof.municipality} has a published, city-supplied or national statistics value for {n_real} of the "
            f"{n_total} data points; "
            f"{n_scored} data points are scored ({n_simulated} of them simulated). ")
    if n_scored == 0:
        return text + ("No data point can be scored, so every score, band and SDG colour below reads "
                       "\"no data\" or \"insufficient data\"; the data-collection plan lists what to collect first.")
    return text + f"The {len(prof.gaps)} data points without a real value are listed in the data-collection plan."


NOT_APPLICABLE_ABROAD = "not applicable (outside Norway)"
"""The data-collection plan's ``national_source`` for a city outside Norway: the national tables are Statistics Norway's."""


def outside_norway_note(entity: Any, city: Any, values: dict[str, Any], peers: list[str]) -> str:
    """What a profile of a city outside Norway rests on, and which of the Norwegian facts do not apply to it."""
    from analysis import cities

    others = len(peers) - 1
    peer_text = {"all": f"the {others} other municipalities of this run",
                 "county": f"the {others} other municipalities of this run (it has no county, so "
                           "`peer_group.by: county` compares it with all of them)",
                 "list": f"the {others} of its peer list (`peer_group.members`)"}[values["peer_group"]["by"]]
    text = (f" {entity.label} ({entity.kommunenummer}; {cities.facts(city)}) is a city outside Norway, registered "
            f"in `data/external/city_supplied/{cities.FILE_NAME}` (source: {city.source}). It is assessed with the "
            f"Norwegian panel `{values['panel']}` under the same targets; its peers are {peer_text}. Not applicable to it: county, kommunenummer and municipality history "
            f"(Statistics Norway's classification), and Statistics Norway's national statistics (no "
            f"national-statistics values; no national source in the data-collection plan).")
    if values["target_set"] != "default":
        text += (f" The targets of target set `{values['target_set']}` are applied to it as to the panel; a "
                 f"Norwegian national target is a Norwegian policy goal, not one of {entity.label}'s.")
    return text


def coverage_counts(baseline: pd.DataFrame, n_data_points: int) -> dict[str, int]:
    """How many data points have a real (published, city-supplied or national statistics) value, and how many any
    value (real or simulated): the two coverages the index shows beside each other."""
    valued = baseline[baseline["value"].notna()]
    real = valued[~valued["source_type"].eq("simulated")]
    return {"n_data_points": int(n_data_points), "n_data_points_real": int(real["data_point_id"].nunique()),
            "n_data_points_any": int(valued["data_point_id"].nunique())}


def mark_what_if(what_if: pd.DataFrame, dimensions: pd.DataFrame, overall: pd.DataFrame) -> pd.DataFrame:
    """The what-if table with each row's share of simulated values: its dimension's, the overall one for 'Overall'."""
    if what_if.empty or "dimension" not in what_if.columns:
        return what_if
    shares = dict(zip(dimensions["dimension"],
                      dimensions["n_simulated"] / dimensions["n_scored"].where(dimensions["n_scored"] > 0)))
    shares["Overall"] = overall["share_simulated"].iloc[0]
    out = what_if.assign(share_simulated=what_if["dimension"].map(shares).astype(float))
    out.attrs = dict(what_if.attrs)
    return out


def mix_row(a: Assessment, municipality: str) -> dict[str, Any]:
    """Counts of published, city-supplied and simulated scored values for one municipality."""
    return simulate.mix_counts(a.observations).set_index("municipality").loc[municipality].to_dict()


@dataclass
class Profile:
    """Everything one municipality's profile shows, computed by ``build`` and displayed by the notebook."""

    municipality: str
    assessment: Assessment
    peers: list[str]
    provenance: dict[str, Any]
    baseline: pd.DataFrame
    dimensions: pd.DataFrame
    overall: pd.DataFrame
    categories: pd.DataFrame
    strengths: pd.DataFrame
    weaknesses: pd.DataFrame
    sdg_goals: pd.DataFrame
    trends: pd.DataFrame
    gaps: pd.DataFrame
    opportunities: pd.DataFrame
    what_if: pd.DataFrame
    recommendations: pd.DataFrame
    what_if_note: str = ""
    coverage_note: str = ""
    budget: Any = None
    """The budget alignment (analysis.budget.Alignment)."""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    policy: Any = None
    """``policy.Alignment``: national targets met or not, own three-level targets, national plans per category."""
    action_plan: Any = None
    """``action.ActionPlan``: policy and regulatory measures, candidate projects with financing instruments."""
    vlr: Any = None
    """``vlr.Annex``: the VLR chapter on progress per SDG (HTML and CSV in the downloads)."""


_PANEL_INVESTMENT: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
"""The panel's investment criteria and joint programmes of the last parameter sets (as many as
``assess.STAGES_KEPT``), kept in the process: every profile of a warm kernel shares them (computing them for every municipality takes seconds for all of Norway; one
municipality's criteria are its rows of them)."""


def panel_investment(a: Assessment, values: dict[str, Any], themes: pd.DataFrame,
                     panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``invest.criteria`` of every municipality and ``invest.joint_programmes`` ranked from them, with the run's
    panel (its counties decide the peers, as in the synthesis), once per assessment, investment and peer parameters
    and themes and costs files."""
    from analysis import assess as assess_module
    from analysis import invest, params, validation

    key = json.dumps([params.assessment_key(values), assess_module.fingerprint(), values["invest"],
                      values["peer_group"], validation.file_key(paths.THEMES), validation.file_key(invest.COSTS)],
                     sort_keys=True)
    if key not in _PANEL_INVESTMENT:
        while len(_PANEL_INVESTMENT) >= assess_module.STAGES_KEPT:
            _PANEL_INVESTMENT.pop(next(iter(_PANEL_INVESTMENT)))
        crit = invest.criteria(a, themes, None, panel)
        ranked = invest.ranking_all(a, themes, panel, crit=crit)
        _PANEL_INVESTMENT[key] = crit, invest.joint_programmes(a, themes=themes, panel=panel, ranked=ranked)
    return _PANEL_INVESTMENT[key]


def budget_alignment(a: Assessment, name: str, values: dict[str, Any]):
    """The municipality's budget (its latest supplied year, else simulated when allowed) against its SDG goals."""
    from analysis import budget

    functions = budget.load_functions()
    chosen = budget.for_municipality(budget.load_supplied(functions=functions), name, values["include_simulated"],
                                     max(values["years"]), values["seed"], functions)
    goals = a.sdg_goals[a.sdg_goals["municipality"] == name]
    return budget.build(goals, chosen, name)


_BUILT: dict[str, Profile] = {}
"""Profiles built in this process by parameters, data and code: the views of one municipality that a warm kernel
executes (its profile, resident pages and council paper) share one build. Views read a profile, never change it."""
BUILT_KEPT = KERNEL_BUILDS_KEPT  # the kernel pool prefers the kernel that still holds a municipality's build


def _built_key(values: dict[str, Any]) -> str:
    from analysis import assess as assess_module
    return json.dumps([values, assess_module.fingerprint(), data_sha256(), code_version()], sort_keys=True,
                      default=str)


def build(values: dict[str, Any] | None = None, output_dir: Path | None = None,
          municipality: str | None = None) -> Profile:
    """The profile of validated parameters (``_compute``), built once per process for the same parameters, data
    and code; its tables and provenance are written to ``output_dir`` when one is given."""
    from analysis import params

    values = params.given(values, municipality)
    key = _built_key(values)
    if key not in _BUILT:
        while len(_BUILT) >= BUILT_KEPT:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[key] = _compute(values)
    prof = _BUILT[key]
    if output_dir is not None:
        write_outputs(prof, paths.from_root(output_dir))
    return prof


def _compute(values: dict[str, Any]) -> Profile:
    """Assemble one municipality's profile from validated, canonical parameters (``analysis.params``).

    The panel assessment is read from its stage (``analysis.assess.stage``). Side outputs (CSV,
    Excel, provenance JSON) are written by ``build`` in the package, never scraped from cells.
    """
    from analysis import assess as assess_module
    from analysis import action, invest, params, policy, recommend, summary, vlr
    from analysis import municipalities as panel_module

    if values["municipality"] is None:
        raise InputError.single("parameters", "a profile needs a municipality", column="municipality", label="key")
    entity = panel_module.registry().entity(values["municipality"])
    panel = panel_module.load(values["panel"])
    a = assess_module.stage(values)  # carries these values as its parameters
    name = entity.label
    if name not in a.municipalities:
        raise InputError.single("parameters", f"{name} ({entity.kommunenummer}) is not in the panel "
                                              f"'{values['panel']}' and has supplied no data",
                                column="municipality", label="key")
    group = panel_module.peers(panel, name, values["peer_group"], a.municipalities)
    strengths, weaknesses = scoring.strengths_and_weaknesses(a.scored, name)
    own_trends = a.trends[a.trends["municipality"] == name].drop(columns="municipality")
    themes = invest.load_themes(cat=a.catalogue)
    crit, joint = panel_investment(a, values, themes, panel)
    opportunities = invest.profile_table(a, name, themes, panel=panel, crit=crit[crit["municipality"] == name])
    gaps = data_gaps(a, name)
    if entity.foreign:
        gaps["national_source"] = NOT_APPLICABLE_ABROAD
    baseline = baseline_table(a, name, group)
    own_categories = a.levels["category"][a.levels["category"]["municipality"] == name].reset_index(drop=True)
    aligned = policy.alignment(name, baseline, own_categories,
                               policy.load_city_targets(entity.slug, cat=a.catalogue), cat=a.catalogue)
    prof = Profile(
        municipality=name, assessment=a, peers=group, provenance=provenance(a, name),
        baseline=baseline,
        dimensions=peer_comparison(a, name, group, "dimension"),
        overall=overall_table(a, name, group),
        categories=own_categories,
        strengths=strengths, weaknesses=weaknesses,
        sdg_goals=a.sdg_goals[a.sdg_goals["municipality"] == name].reset_index(drop=True),
        trends=own_trends.reset_index(drop=True), gaps=gaps,
        opportunities=opportunities,
        what_if=invest.what_if(a, name, themes=themes, ranked=opportunities),
        recommendations=recommend.recommendations(a, name, opportunities, themes, gaps=gaps,
                                                  joint=joint, national=aligned.national),
        policy=aligned,
    )
    prof.budget = budget_alignment(a, name, values)
    prof.action_plan = action.plan(name, prof.recommendations, themes, baseline, aligned.plans)
    prof.what_if = mark_what_if(prof.what_if, prof.dimensions, prof.overall)
    prof.what_if_note = prof.what_if.attrs.get("reason", "")
    prof.coverage_note = coverage_note(prof)
    if entity.foreign:
        prof.coverage_note += outside_norway_note(entity, panel_module.registry().cities[entity.kommunenummer],
                                                  values, group)
    identity = {"city_id": entity.kommunenummer, "country": entity.country} if entity.foreign else {
        "kommunenummer": entity.kommunenummer}  # a city outside Norway has no kommunenummer
    prof.provenance.update(**identity, slug=entity.slug, overrides=params.overrides(values))
    prof.provenance.update(coverage_counts(prof.baseline, len(a.catalogue)))
    index = prof.overall["index"].iloc[0]
    prof.provenance["overall_index"] = None if pd.isna(index) else round(float(index), 6)
    prof.provenance["headline"] = summary.from_profile(prof).headline()  # the index page's line for it
    prof.vlr = vlr.annex(name, a.catalogue, baseline, prof.trends, prof.sdg_goals, aligned.national,
                         prof.recommendations, themes, prof.provenance["mostly_simulated"])
    prof.tables = {"baseline": prof.baseline, "overall": prof.overall, "dimensions": prof.dimensions,
                   "categories": prof.categories,
                   "sdg_goals": prof.sdg_goals, "trends": prof.trends, "data_gaps": prof.gaps,
                   "opportunities": prof.opportunities, "what_if": prof.what_if,
                   "recommendations": prof.recommendations, "budget_alignment": prof.budget.table,
                   **aligned.tables(), **prof.action_plan.tables(), **prof.vlr.tables()}
    return prof


def write_outputs(prof: Profile, output_dir: Path) -> None:
    """Tables as CSV and Excel under ``tables/<municipality>/`` and the provenance JSON beside the notebook."""
    from analysis.present import export_tables

    from analysis import vlr

    slug = prof.provenance["slug"]
    texts = {vlr.HTML_FILE: prof.vlr.html()} if prof.vlr is not None else {}
    export_tables(prof.tables, output_dir / "tables" / slug, texts=texts)
    write_text(output_dir / "profiles" / f"{slug}.provenance.json",
               json.dumps(prof.provenance, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
