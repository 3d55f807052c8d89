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
# title: "Cross-city synthesis"
# subtitle: "Coverage, statistical comparisons, rank uncertainty and joint investment opportunities"
# ---

# %% tags=["parameters"]
# Parameters (papermill replaces this cell). The pipeline injects `values`, the validated parameters
# (analysis.params, canonical form); run by hand, `values = None` takes the defaults from params/.
values = None
output_dir = "reports/executed"

# %% tags=["remove-cell"]
from IPython.display import HTML, Markdown, display

from analysis import compare, present, synthesis

syn = synthesis.build(values, output_dir or None)
a = syn.assessment
p = syn.provenance

# %%
display(HTML(present.banner(p["n_published"], p["n_city_supplied"], p["n_simulated"], "All municipalities",
                            p["n_national_statistics"])))
display(Markdown(
    f"**Run:** {len(a.municipalities)} municipalities, target set `{p['parameters']['target_set']}`, "
    f"simulated values {'included' if p['parameters']['include_simulated'] else 'excluded'}, seed "
    f"{p['parameters']['seed']}, {p['parameters']['synthesis']['draws']} Monte Carlo draws, groups by "
    f"`{p['parameters']['synthesis']['grouping']}`. Data `{p['data_sha256'][:12]}`, code `{p['code_version']}`."))

# %% [markdown]
# ## Coverage first
# Which municipality reports which data point, and from which source. Every comparison below rests
# on these cells; with published values alone, few data points are reported by more than one
# municipality.

# %%
fig = compare.plot_coverage(a.observations, a.catalogue, a.municipalities)
display(HTML(present.table_html(a.mix, caption="Scored values per municipality by source type (all years)")))
display(HTML(present.table_html(syn.overlap.sort_values("n_published", ascending=False).head(15),
                                caption="Data points with the most published values")))

# %% [markdown]
# ## Achievement across municipalities
# Achievement of target (%) per municipality and data point, ordered by dimension and category;
# simulated cells are marked.

# %%
fig = compare.plot_achievement_heatmap(a.scored, a.catalogue)
fig = compare.plot_distributions(a.scored, a.catalogue, a.municipalities)

# %% [markdown]
# ## Do groups of municipalities differ?
# Kruskal–Wallis per data point across the groups, with the effect size (ε²) beside every p-value
# and Benjamini–Hochberg q-values across data points. Tests that cannot be run say why.

# %%
# NBVAL_CHECK_OUTPUT
display(HTML(present.table_html(syn.dimension_tests, decimals=3, caption="Dimension scores by group")))
tested = syn.group_tests[syn.group_tests["reason"].fillna("").eq("")]
display(HTML(present.table_html(tested.sort_values("q").head(10), decimals=3,
                                caption="Data points with the smallest q-values")))
display(Markdown(f"{len(tested)} of {len(syn.group_tests)} data points could be tested."))

# %% [markdown]
# The first round of twelve municipalities against those that joined later: Mann–Whitney U per
# dimension, with the rank-biserial correlation as effect size.

# %%
display(HTML(present.table_html(syn.first_round, decimals=3)))

# %% [markdown]
# ## Correlations between data points
# Spearman's ρ for pairs reported by enough municipalities, with Benjamini–Hochberg q-values.

# %%
display(HTML(present.table_html(syn.correlations.sort_values("q").head(10), decimals=3)))

# %% [markdown]
# ## Dimension scores with bootstrap confidence intervals
# Mean achievement per dimension with a 95 % bootstrap interval over the dimension's data points
# (BCa where enough values exist, percentile otherwise; the method is given per row).

# %%
display(HTML(present.table_html(syn.bootstrap, decimals=1)))

# %% [markdown]
# ## Clusters of municipality profiles
# Average-linkage hierarchical clustering; the data points and municipalities left out for missing
# data are listed.

# %%
fig = compare.plot_dendrogram(syn.clusters)

# %% [markdown]
# ## Rankings with uncertainty
# A Monte Carlo over the construction choices (target set, normalisation, missing-data treatment,
# aggregation, dimension weights) gives each municipality's median rank and its 5th–95th percentile
# rank band. Small differences in rank are not meaningful: read the bands. A band only means
# something if every draw ranks the same municipalities, so the data choice stays at the nominal
# panel here (published values alone give an index to only a few municipalities, and their ranks
# among those few are a different ranking), and only municipalities with an index under every
# varied choice are ranked. The comparison with published values only follows in its own table.

# %%
# NBVAL_CHECK_OUTPUT
display(Markdown(synthesis.ranking_note(syn.rank_bands, syn.draw_log)))
display(HTML(present.table_html(syn.rank_bands, decimals=2)))

# %% [markdown]
# Sobol indices over the same choices and the same ranked municipalities say which choice moves
# the ranks most (output: the mean absolute rank shift from the nominal ranks; S1 is a choice's
# own effect, ST includes its interactions).

# %%
fig = compare.plot_rank_intervals(syn.rank_bands)
display(HTML(present.table_html(syn.sobol, decimals=3, caption="Sobol indices: which choice moves the ranks most")))

# %% [markdown]
# ## Published values only versus with simulated values
# How much of a ranking rests on the simulated cells? Among the municipalities that can be ranked
# both from published values alone and with simulated values (under every varied choice), their
# rank with and without simulated values: under the nominal choices, as the median over paired
# Monte Carlo draws of the other choices, and the share of draws in which the two ranks differ.
# These ranks are among the compared municipalities only.

# %%
# NBVAL_CHECK_OUTPUT
display(Markdown(synthesis.data_sensitivity_note(syn.data_sensitivity)))
display(HTML(present.table_html(syn.data_sensitivity, decimals=2,
                                caption="Rank with and without simulated values")))

# %% [markdown]
# ## Joint investment programmes
# Opportunity themes that are in the top three of several municipalities at once are candidates
# for programmes run together.

# %%
display(HTML(present.table_html(syn.joint_programmes)))
display(HTML(present.table_html(syn.top_opportunities, decimals=3, max_rows=60)))
