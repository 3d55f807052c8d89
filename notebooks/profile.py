# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# ---
# title: "Smart sustainable city profile"
# subtitle: "U4SSC Key Performance Indicators: baseline, targets, peers, SDGs and opportunities"
# ---

# %% tags=["parameters"]
# Parameters (papermill replaces this cell). The pipeline injects `values`, the validated parameters
# (analysis.params, canonical form); run by hand, `values = None` takes the parameters of `municipality`
# (a number or a name) from params/.
municipality = "Ålesund"
values = None
output_dir = "reports/executed"

# %% tags=["remove-cell"]
from IPython.display import HTML, Markdown, display

from analysis import present, profile, summary

prof = profile.build(values, output_dir or None, municipality=municipality)
p = prof.provenance

# %% [markdown]
# This profile evaluates one municipality with the U4SSC Key Performance Indicators for Smart
# Sustainable Cities (ITU/UNECE). Each value is compared with a target (`data/raw/targets.csv`;
# U4SSC does not publish its own target values), scored as a percentage of that target and placed in
# the U4SSC bands (0–33 %, 33–66 %, 66–95 %, 95–100 %). Group scores are Σ points / (4 × data points
# scored), with their coverage beside them. The methodology page explains every rule.

# %%
display(Markdown(f"## {prof.municipality}"))
display(HTML(present.banner(p["n_published"], p["n_city_supplied"], p["n_simulated"], prof.municipality,
                            p["n_national_statistics"])))
display(Markdown(
    f"**Run:** target set `{p['parameters']['target_set']}`, simulated values "
    f"{'included' if p['parameters']['include_simulated'] else 'excluded'}, seed {p['parameters']['seed']}, "
    f"dimension weights {', '.join(f'{k} {v:g}' for k, v in p['parameters']['weights'].items())}, "
    f"peer group: {', '.join(prof.peers)} ({len(prof.peers)} municipalities). "
    f"Data `{p['data_sha256'][:12]}`, code `{p['code_version']}`. "
    f"Overrides: {', '.join(f'`{o}`' for o in p['overrides']) if p['overrides'] else 'none (default parameters)'}."))
display(Markdown(f"**Coverage:** {prof.coverage_note}"))

# %%
# NBVAL_CHECK_OUTPUT
summary.bilingual(prof)  # the executive summary (analysis/summary.py), with its Norwegian text behind a toggle

# %% [markdown]
# ## Dimension scores against peers
# Mean achievement of target per dimension (a continuous 0–100 score), with the U4SSC score
# (Σ points / 4n), its band and the coverage (data points scored / data points in the dimension).
# A score needs at least half of its data points (`sufficient`); below that it reads "insufficient data".

# %%
# NBVAL_CHECK_OUTPUT
display(HTML(present.key_table(prof.dimensions, "dimensions")))

# %%
present.described(present.plot_dimension_scores(prof.dimensions, prof.municipality),
                  *present.dimension_finding(prof.dimensions, prof.municipality))

# %% [markdown]
# ## Overall index
# The weighted mean of the three dimensions' mean achievements with the weights of the parameter
# `weights`, and its rank in the panel and among the peers (1 = highest). U4SSC itself reports no
# overall index: this is the project's own construction, so it moves when the weights change.

# %%
# NBVAL_CHECK_OUTPUT
display(HTML(present.key_table(prof.overall, "overall")))

# %% [markdown]
# ## Category scores
# U4SSC category scores coloured by band (colour-blind-safe colours, band edges marked); hatched
# bars rest mostly on simulated values.

# %%
present.described(present.plot_category_achievement(prof.categories, prof.municipality),
                  *present.category_finding(prof.categories, prof.municipality))

# %% [markdown]
# ## Strengths and weaknesses
# The data points furthest above and below target, in the spirit of the U4SSC "next steps":
# focus on data points in the 0–33 % and 33–66 % bands.

# %%
display(HTML(present.key_table(prof.strengths, "data_points", caption="Strengths")))
display(HTML(present.key_table(prof.weaknesses, "data_points", caption="Weaknesses")))

# %% [markdown]
# ## SDG dashboard
# All 17 goals. Each SDG target takes its colour from its two worst data points (SDSN's rule), so an
# average cannot hide a failing indicator; each goal takes the lower median of its targets' colours
# and names its two worst targets. Grey: no data point links to the goal, or none is scored.

# %%
present.described(present.plot_sdg_dashboard(prof.sdg_goals, prof.municipality),
                  *present.sdg_finding(prof.sdg_goals, prof.municipality))

# %%
display(HTML(present.key_table(prof.sdg_goals, "sdg_goals")))

# %% [markdown]
# ## Baseline: every data point against target and peers
# The KPI table: name, code, value, unit and year; the achievement of target and the U4SSC band with
# its points (drawn as the verification reports draw the benchmark); the peer group's median value and
# the municipality's rank among its peers (1 = best); the trend arrow. Behind the details toggle: the
# Norwegian name, source type, U4SSC data-quality level (1–6) and verification, the national statistics
# value where one exists, the SDG targets, the target and the rules behind it; every column is in the
# downloads. A real value whose target or worst rests on simulated peers carries †.

# %%
# NBVAL_CHECK_OUTPUT
display(HTML(present.key_table(prof.baseline, "baseline")))

# %% [markdown]
# ## Trends
# Where several years exist: SDSN's arrows (required versus observed yearly gain to the deadline)
# and the year the target is reached at the same observed yearly gain (one linear model, so an
# arrow and its projected year never disagree). A value within 1 % of the goalpost span of its
# target counts as reached. Rows resting on a simulated year are marked as simulated.

# %%
display(HTML(present.key_table(prof.trends, "trends", max_rows=40)))

# %% [markdown]
# ## Data-collection plan
# Data points with no published, city-supplied or national statistics value: those the municipality
# reported as not reported first, then core before advanced, then those linked to more SDG targets
# first. Simulated values count as gaps. `national_source` names the national table a connector
# (`python -m analysis fetch`) could fill the gap from, and whether its mapping is verified.

# %%
display(HTML(present.key_table(prof.gaps, "data_gaps", max_rows=30)))

# %% [markdown]
# ## Investment and innovation opportunities
# Investment themes ranked on need (the gaps the theme can close), impact (the SDG targets it serves
# where the municipality falls short), feasibility (peers that have closed at least half of the
# gap) and cost class, by weighted sum, TOPSIS and PROMETHEE II. A theme is stable only when both
# uncertain weights and the choice of method leave it in place. Evidence is the share of the need
# resting on published or city-supplied values; it is shown, not ranked. Where citizens' priorities
# from a survey are given (`python -m analysis survey-ingest`), their rank stands beside the
# analysis' rank without them, with the themes where they disagree. Each card says what drives the
# theme's rank and how stable it is; the full table, with every criterion and method, is in the downloads.

# %%
# NBVAL_CHECK_OUTPUT
display(HTML(present.theme_cards(prof.opportunities)))

# %% [markdown]
# What would change if the top opportunity closed its gaps to target:

# %%
if prof.what_if_note:
    display(Markdown(prof.what_if_note))
else:
    display(HTML(present.key_table(prof.what_if, "what_if")))

# %% [markdown]
# ## Policy alignment
# Norwegian national targets per data point (`data/raw/national_targets.csv`: the law, white paper or
# plan, its wording and source, and whether the source was checked), met or not met by the latest
# value; targets that are a cut from a base year or a growth goal are listed as not comparable. The
# municipality's own targets in three levels (desired, lowest acceptable, not acceptable), where it
# supplied them (`python -m analysis targets-ingest`), with the band they give; its goals that no
# data point measures; and the national plans that set each category's direction, with who acts
# where the municipality's authority is limited (docs/policy.md).

# %%
prof.policy

# %% [markdown]
# ## Recommendations
# Numbered recommendations derived by rule from the gaps and the ranking (docs/invest.md): invest
# in the top themes whose gap rests on real values, verify the others first, review the categories
# in the lowest band, join shared programmes, plan data collection, close the gaps to national
# targets. Each names an owner, a horizon and a cost class.

# %%
display(HTML(present.key_table(prof.recommendations, "recommendations")))

# %% [markdown]
# ## Budget alignment
# Net operating expenditure per KOSTRA function (the sheet 'budget' of the city template), spread
# over SDG goals by the cited mapping `data/raw/budget_function_map.csv` (docs/budget.md), against
# the gap per goal (100 − its mean achievement of target). Goals above the median gap with a share at
# or below the median share have a large gap and little spending; the reverse corner is named too.
# Without a supplied budget the demonstration simulates one, marked as such.

# %%
prof.budget

# %% [markdown]
# ## Action plan
# Derived by rule from the recommendations (docs/policy.md). Part A: policy and regulatory measures,
# each with its lever (following the municipality's authority in the category) and the national plans
# behind it. Part B: candidate projects with an indicative cost class, possible financing instruments
# (`data/raw/financing_instruments.csv`, each with what it funds and its source) and the data points
# each should move.

# %%
prof.action_plan

# %% [markdown]
# ## Voluntary Local Review annex
# The chapter "progress on goals and targets" of a Voluntary Local Review, per SDG, from the data
# points, results, trends and actions above: in the downloads as Word-friendly HTML and as CSV.

# %%
prof.vlr

# %% [markdown]
# ## Downloads
# Every table above is written as CSV and as one Excel workbook under `tables/<municipality>/`; a
# `rests_on_simulated` column flags the rows resting on simulated values, which the workbook also shows
# in italic on a tint.
