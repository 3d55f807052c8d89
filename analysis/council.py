"""The council version of a profile: 8–12 printed pages to attach to a case for the municipal council.

Findings first, as a UNECE city profile and a U4SSC verification report present them: the summary,
the results by dimension with a band bar per category, the main gaps, the recommendations and the
investment themes, then the quality of the data. Every number comes from the same
``analysis.profile.Profile`` (and ``analysis.summary.Summary``) as the technical profile and the
resident page, so the three layers cannot diverge; nothing is computed here that the profile does
not already hold, only selected and arranged.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import invest, observations, palette, present, scoring, summary

MAIN_GAPS = 6
"""Data points shown as the main gaps (furthest below target) and as the first data to collect."""
TOP_THEMES = 5
"""Investment themes the paper describes (the profile ranks them all)."""
SOURCE_TYPES = (("published", "published U4SSC documents"), ("city-supplied", "supplied by the city"),
                ("national_statistics", "national statistics (Statistics Norway)"),
                ("simulated", "simulated (a demonstration, not a measurement)"))


@dataclass(frozen=True)
class Block:
    """A piece of HTML that renders itself in a notebook (``_repr_html_``)."""

    html: str

    def _repr_html_(self) -> str:
        return self.html


def band_bar(score: float | None, band: str) -> str:
    """A horizontal bar of a U4SSC score (0–100 %) in its band's colour, with the band edges at 33, 66 and 95 %."""
    if score is None or pd.isna(score):
        return f'<span class="u4ssc-band-bar-none">{html.escape(band)}</span>'
    width = max(0.0, min(100.0, float(score)))
    edges = "".join(f'<span style="position:absolute;left:{x}%;top:0;bottom:0;border-left:1px dashed #555"></span>'
                    for x in (33, 66, 95))
    return (f'<span class="u4ssc-band-bar" role="img" aria-label="{width:.0f} %, band {html.escape(band)}" '
            'style="display:inline-block;position:relative;width:10em;max-width:40vw;height:.9em;'
            'background:#eee;vertical-align:middle;-webkit-print-color-adjust:exact;print-color-adjust:exact">'
            f'<span style="position:absolute;left:0;top:0;bottom:0;width:{width:.1f}%;'
            f'background:{palette.band_colour(band)}"></span>{edges}</span>')


def _row_class(n_scored: int, n_simulated: int) -> str:
    simulated = bool(n_scored) and n_simulated * 2 > n_scored
    return f' class="{present.SIM_CLASS}" title="resting mostly on simulated values"' if simulated else ""


def _score_text(score: float | None) -> str:
    return "–" if score is None or pd.isna(score) else f"{present.number(score, 0)} %"


def results_by_dimension(prof: Any) -> Block:
    """Per dimension, its score and band, then each category with its score, band bar and coverage."""
    dims = prof.dimensions.assign(band=summary.group_bands(prof.dimensions))
    cats = prof.categories.assign(band=summary.group_bands(prof.categories))
    parts = []
    for d in dims.itertuples():
        parts.append(f'<section class="u4ssc-council-dimension"><h3>{html.escape(str(d.dimension))}: '
                     f"{html.escape(_score_text(d.u4ssc_score))} ({html.escape(d.band)})</h3>"
                     f"<p>Mean achievement of target {html.escape(_score_text(d.mean_achievement))}; "
                     f"peer median {html.escape(_score_text(d.peer_median))}; {int(d.n_scored)} data points "
                     f"scored, {int(d.n_simulated)} of them simulated.</p>")
        rows = []
        for c in cats[cats["dimension"] == d.dimension].itertuples():
            rows.append(f"<tr{_row_class(int(c.n_scored), int(c.n_simulated))}>"
                        f"<td>{html.escape(str(c.sub_dimension))}</td><td>{html.escape(str(c.category))}</td>"
                        f'<td style="text-align:right">{html.escape(_score_text(c.u4ssc_score))}</td>'
                        f"<td>{band_bar(c.u4ssc_score, c.band)} {html.escape(c.band)}</td>"
                        f'<td style="text-align:right">{int(c.n_scored)} of {int(c.n_in_group)}</td></tr>')
        parts.append(f'<div class="u4ssc-table-wrap" style="overflow-x:auto"><table class="{present.TABLE_CLASS}">'
                     '<thead><tr><th scope="col">Sub-dimension</th><th scope="col">Category</th>'
                     '<th scope="col">U4SSC score</th><th scope="col">Band (edges 33, 66, 95 %)</th>'
                     '<th scope="col">Data points scored</th></tr></thead><tbody>'
                     + "".join(rows) + "</tbody></table></div></section>")
    return Block("\n".join(parts))


def main_gaps(prof: Any, n: int = MAIN_GAPS) -> Block:
    """The data points furthest below target, then the first data to collect."""
    return Block(present.key_table(prof.weaknesses.head(n), "data_points",
                                   caption=f"The {n} data points furthest below target")
                 + present.key_table(prof.gaps.head(n), "data_gaps",
                                     caption=f"The first {n} of {len(prof.gaps)} data points to collect"))


def recommendations(prof: Any) -> Block:
    """The profile's numbered recommendations (analysis.recommend) as a list: each with owner, horizon, cost
    class and what it rests on; those resting on simulated values marked."""
    items = []
    for r in prof.recommendations.itertuples():
        simulated = r.rests_on == "simulated values"
        mark = f' class="{present.SIM_CLASS}" title="rests on simulated values"' if simulated else ""
        facts = "; ".join(x for x in (f"owner: {r.owner}", r.horizon, f"cost {r.cost_class}" if r.cost_class else "",
                                      f"rests on {r.rests_on}") if x)
        items.append(f'<li value="{int(r.number)}"{mark}><strong>{html.escape(str(r.kind).capitalize())}.</strong> '
                     f"{html.escape(str(r.recommendation))} <small>({html.escape(facts)})</small></li>")
    if not items:
        return Block("<p>No recommendation follows from the rules: nothing is scored and no data is missing.</p>")
    return Block('<ol class="u4ssc-council-list">' + "".join(items) + "</ol>")


def themes(prof: Any, top: int = TOP_THEMES) -> Block:
    """The ``top`` ranked investment themes (the profile's cards: rank, cost class, evidence, stability and the
    one-sentence explanation); the full ranking is in the profile."""
    ranked = prof.opportunities[prof.opportunities["status"] == invest.RANKED].sort_values("ws_rank",
                                                                                          kind="mergesort")
    if ranked.empty:
        return Block("<p>No investment theme can be ranked: none has a scored gap to close. "
                     "The data-collection plan comes first.</p>")
    items = []
    for r in ranked.head(top).itertuples():
        simulated = r.evidence < invest.REAL_EVIDENCE
        mark = f' class="{present.SIM_CLASS}" title="its need rests mostly on simulated values"' if simulated else ""
        items.append(f'<li value="{int(r.ws_rank)}"{mark}><strong>{html.escape(str(r.theme_name))}</strong> '
                     f"<small>(cost {html.escape(str(r.cost_class))}; {html.escape(str(r.stability))}; "
                     f"{present.number(100 * r.evidence, 0)} % of its need on real values)</small><br>"
                     f"{html.escape(str(r.explanation))}</li>")
    rest = len(ranked) - len(items)
    more = f"<p>{rest} more themes are ranked in the full profile.</p>" if rest > 0 else ""
    return Block('<ol class="u4ssc-council-list">' + "".join(items) + "</ol>" + more)


def _count_rows(counts: list[tuple[str, int]], total: int) -> str:
    return "".join(f'<tr><td>{html.escape(label)}</td><td style="text-align:right">{n}</td>'
                   f'<td style="text-align:right">{present.number(100 * n / total, 0) if total else "–"} %</td></tr>'
                   for label, n in counts)


def quality(prof: Any) -> Block:
    """Where the values come from, their U4SSC data-quality level and verification, and what the scores rest on."""
    base = prof.baseline
    valued = base[base["value"].notna()]
    n_total = len(prof.assessment.catalogue)
    sources = [(label, int(valued["source_type"].eq(key).sum())) for key, label in SOURCE_TYPES]
    real = valued[valued["source_type"].isin(invest.OBSERVED)]
    levels = [(f"{level}: {text}", int(real["quality_level"].eq(level).sum())) for level, text in observations.QUALITY_LEVELS.items()]
    levels.append(("not stated", int(real["quality_level"].isna().sum())))
    verified = int(real["verified"].eq(True).sum())
    n_goalposts = int(base["goalposts_from_simulated"].fillna(False).astype(bool).sum())
    head = '<thead><tr><th scope="col">{}</th><th scope="col">Data points</th><th scope="col">Share</th></tr></thead>'
    return Block(
        f"<p>{html.escape(prof.coverage_note)}</p>"
        f'<table class="{present.TABLE_CLASS}"><caption>Where the {len(valued)} values of the {n_total} data points '
        f"come from</caption>{head.format('Source')}<tbody>{_count_rows(sources, len(valued))}</tbody></table>"
        f'<table class="{present.TABLE_CLASS}"><caption>Data-quality level of the {len(real)} real values '
        f"(U4SSC verification manual)</caption>{head.format('Level')}<tbody>{_count_rows(levels, len(real))}"
        f"</tbody></table>"
        f"<p>{verified} of the {len(real)} real values were verified by a third party. {n_goalposts} scored values "
        "have a target or worst derived from simulated peer values (marked † in the profile): their scores are "
        "demonstrations even where the value is real.</p>")


def data_mix(prof: Any) -> str:
    """The banner of the data mix (all years), as on the profile."""
    p = prof.provenance
    return present.banner(p["n_published"], p["n_city_supplied"], p["n_simulated"], prof.municipality,
                          p["n_national_statistics"])


def band_legend() -> str:
    """The four U4SSC bands and 'no data' in their colours."""
    return " ".join(f'<span style="background:{palette.band_colour(b)};color:{palette.text_colour(palette.band_colour(b))};'
                    f'padding:0 .4em;border-radius:3px">{html.escape(b)}</span>'
                    for b in (*scoring.BAND_LABELS, scoring.NO_DATA))
