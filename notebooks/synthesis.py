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
# ## Parameters: the defaults for everyone

# %%
# NBVAL_CHECK_OUTPUT
display(Markdown(synthesis.parameter_note(syn.parameter_differences)))
if len(syn.parameter_differences):
    display(HTML(present.table_html(syn.parameter_differences, decimals=1,
                                    caption="Where a profile's own parameters differ from the synthesis")))

# %% [markdown]
# ## Coverage first
# Which municipality reports which data point, and from which source. Every comparison below rests
# on these cells; with published values alone, few data points are reported by more than one
# municipality.

# %% caption="Coverage: a grid of municipalities by data point, each cell coloured by where its baseline value comes from (none, published, city-supplied, national statistics or simulated)."
fig = compare.plot_coverage(a.observations, a.catalogue, a.municipalities)

# %%
display(HTML(present.table_html(a.mix, caption="Scored values per municipality by source type (all years)")))
display(HTML(present.table_html(syn.overlap.sort_values("n_published", ascending=False).head(15),
                                caption="Data points with the most published values")))

# %% [markdown]
# ## What the real data alone support
# Only published, city-supplied and national-statistics values count here, and a test or a
# correlation counts as a finding only with real values from at least 8 municipalities (Kruskal–Wallis
# and Mann–Whitney with permutation or exact p-values where a group has fewer than 5 values,
# Spearman over the pairs that enough municipalities report both, Benjamini–Hochberg q-values).

# %%
# NBVAL_CHECK_OUTPUT
display(Markdown(synthesis.real_data_note(syn.real_support)))
display(HTML(present.table_html(syn.real_support, caption="What the real data alone support")))
for caption, frame in (("Group tests per data point on real values", syn.real_group_tests),
                       ("Group tests per dimension on real values", syn.real_dimension_tests),
                       ("First round of 12 against the later municipalities, real values", syn.real_first_round),
                       ("Correlations on real values", syn.real_correlations)):
    tested = frame[frame["p"].notna()]
    if len(tested):
        display(HTML(present.table_html(tested.sort_values("q"), decimals=3, caption=caption)))

# %% [markdown]
# ## Demonstrations of the methods (not findings)
# **Everything from here to the rankings rests mostly on simulated values.** The simulator has no
# county effect, so a county test on simulated cells tests a null that is true by construction: a
# small p-value there is a false positive of the random-number generator, not a difference between
# municipalities. The tables show how each method works and what it would report on a complete panel.

# %% [markdown]
# ## Achievement across municipalities (demonstration)
# Achievement of target (%) per municipality and data point, ordered by dimension and category;
# simulated cells are marked.

# %% caption="Heatmap of the achievement of target (0\u2013100 %) per municipality and data point, ordered by dimension and category; a dot marks a simulated cell, a blank cell has no score."
fig = compare.plot_achievement_heatmap(a.scored, a.catalogue)

# %% caption="Per dimension, the spread of the data point achievements (%) of each municipality (of each group of the grouping parameter when the panel has more than 40): a box plot with the points drawn over it, \u00d7 for a simulated value."
fig = compare.plot_distributions(a.scored, a.catalogue, a.municipalities, groups=syn.groups,
                                 group_label=a.params["synthesis"]["grouping"])

# %% [markdown]
# ## Do groups of municipalities differ? (demonstration)
# Kruskal–Wallis per data point across the groups, with two effect sizes beside every p-value (ε²,
# and η²_H, which corrects ε²'s small-sample bias) and Benjamini–Hochberg q-values across data
# points. County groups have 1–6 municipalities, so p-values are permutation p-values (exact where
# the relabellings can be counted; column `method`). Tests that cannot be run say why.

# %%
# NBVAL_CHECK_OUTPUT
if syn.grouping_note:  # municipalities or cities outside the panel: where the group tests place them
    display(Markdown(syn.grouping_note))
display(HTML(present.table_html(syn.dimension_tests, decimals=3, caption="Dimension scores by group")))
tested = syn.group_tests[syn.group_tests["reason"].fillna("").eq("")]
display(HTML(present.table_html(tested.sort_values("q").head(10), decimals=3,
                                caption="Data points with the smallest q-values")))
display(Markdown(f"{len(tested)} of {len(syn.group_tests)} data points could be tested."))

# %% [markdown]
# The first round of twelve municipalities against those that joined later: Mann–Whitney U per
# dimension, with the rank-biserial correlation and its bootstrap interval as effect size
# (demonstration: the dimension scores rest mostly on simulated values).

# %%
display(HTML(present.table_html(syn.first_round, decimals=3)))

# %% [markdown]
# ## Correlations between data points (demonstration)
# Spearman's ρ over a pre-declared set of pairs: the data points of the same U4SSC category, not
# every pair (5 565 pairs at n = 17 leave no power after correction). Benjamini–Hochberg q-values
# over that set.

# %%
display(Markdown(f"{int(syn.correlations['p'].notna().sum())} within-category pairs tested."))
display(HTML(present.table_html(syn.correlations.sort_values("q").head(10), decimals=3)))

# %% [markdown]
# ## Statistical audit of the framework (demonstration)
# As COINr audits a composite indicator: Cronbach's α per dimension (do its data points measure
# one thing?), each data point's correlation with its own dimension and the strongest other one
# (a negative correlation pulls against the dimension), pairs of data points of one dimension
# correlated above 0.9 (they count twice), and the dimensions against each other and the index.
# On this panel the audit shows the simulator's correlation structure, not the municipalities'.

# %%
display(HTML(present.table_html(syn.alpha, decimals=2, caption="Cronbach's alpha per dimension")))
display(HTML(present.table_html(syn.dimension_correlations, decimals=2,
                                caption="Pearson's r between dimension scores and the index")))
flagged = syn.audit_correlations[syn.audit_correlations["flag"] != ""]
display(Markdown(f"{len(syn.audit_warnings)} data points are negatively correlated with their own dimension; "
                 f"{int((flagged['flag'] == 'closer to another dimension').sum())} correlate more with another "
                 f"dimension; {len(syn.collinear)} pairs are collinear (r > 0.9)."))
display(HTML(present.table_html(flagged, decimals=2, max_rows=30, caption="Flagged data points")))

# %% [markdown]
# ## Dimension scores with bootstrap confidence intervals (demonstration)
# Mean achievement per dimension with a 95 % bootstrap interval over the dimension's data points
# (BCa where enough values exist, percentile otherwise; the method is given per row).

# %%
display(HTML(present.table_html(syn.bootstrap, decimals=1)))

# %% [markdown]
# ## Clusters of municipality profiles (demonstration)
# Average-linkage hierarchical clustering; the data points and municipalities left out for missing
# data are listed. Beyond 40 municipalities the tree shows its last 40 clusters, "(n)" for a cluster of n.

# %% caption="Dendrogram of the average-linkage hierarchical clustering of the municipalities' profiles; the height of a join is the RMS difference in achievement (percentage points)."
fig = compare.plot_dendrogram(syn.clusters)

# %% [markdown]
# ## Rankings with uncertainty
# A Monte Carlo over the construction choices gives each municipality's median rank and its
# 5th–95th percentile rank band. Varied: the target set (default or national); the **goalpost
# rule**, that is the worst bound scored 0 (each data point's documented rule, which is 0 for
# higher-is-better ratio scales and SDSN's 97.5th percentile of the panel for lower-is-better ones,
# or SDSN's 2.5th/97.5th percentile of the panel for every data point); the at-target tolerance (a
# value within 1 % of the goalpost span of its target scores 100 %, or only a value at or past the
# target does); outlier treatment; normalisation; missing-data treatment; aggregation; and the
# dimension weights ±25 %. Each goalpost rule and tolerance re-scores the same observations
# through the production scoring code. Small differences in rank are not meaningful: read
# the bands. A band only means something if every draw ranks the same municipalities, so the data
# choice stays at the nominal panel here (published values alone give an index to only a few
# municipalities, and their ranks among those few are a different ranking), and only
# municipalities with an index under every varied choice are ranked. The comparison with published values only follows in its own table.

# %%
# NBVAL_CHECK_OUTPUT
display(Markdown(synthesis.ranking_note(syn.rank_bands, syn.draw_log)))
display(HTML(present.table_html(syn.rank_bands, decimals=2)))

# %% [markdown]
# Sobol indices over the same choices (the goalpost rule and the tolerance among them) and the same
# ranked municipalities say which choice moves the ranks most (output: the mean absolute rank shift
# from the nominal ranks; S1 is a choice's own effect, ST includes its interactions).

# %% caption="Each ranked municipality's median rank with its 5th\u201395th percentile band and its nominal rank over the Monte Carlo draws (1 = highest index); hatched bands rest mostly on simulated values."
fig = compare.plot_rank_intervals(syn.rank_bands)

# %%
display(Markdown(synthesis.sobol_note(syn.sobol)))
display(present.described(compare.plot_sobol(syn.sobol), *synthesis.sobol_figure_text(syn.sobol)))
display(HTML(present.table_html(syn.sobol, decimals=3, caption="Sobol indices: which choice moves the ranks most")))

# %% [markdown]
# Leaving one data point out at a time (under the nominal choices): the data points whose removal
# moves the ranks most. The outlier treatment (COINr's rule: winsorise while |skewness| ≥ 2 and
# kurtosis ≥ 3.5, at most 5 points, else a log transform) is one of the varied choices; the second
# table lists what it does to each data point that needs it.

# %%
display(HTML(present.table_html(syn.leave_one_out.head(10), decimals=2,
                                caption="Leave one data point out: mean and largest rank shift")))
treated = syn.outlier_treatments[syn.outlier_treatments["treatment"] != "none"]
display(HTML(present.table_html(treated, decimals=2, max_rows=40,
                                caption=f"Outlier treatment: {len(treated)} of {len(syn.outlier_treatments)} "
                                        "data points treated")))

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
# for programmes run together. Here every municipality's peers follow the default peer group
# (all municipalities); a profile whose own parameters name another peer group (for example
# Ålesund's county) ranks its themes against those peers, so its top three can differ (see the
# parameter table at the top).

# %%
display(HTML(present.table_html(syn.joint_programmes)))
display(HTML(present.table_html(syn.top_opportunities, decimals=3, max_rows=60)))
