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
# title: "Tutorial: the U4SSC methodology step by step"
# subtitle: "From one published value to scores, SDG colours, trends, peer ranks and investment opportunities, with exercises"
# ---

# %% tags=["parameters"]
# Parameters (papermill replaces this cell). The pipeline injects `values`, the validated parameters
# (analysis.params, canonical form); run by hand, `values = None` takes the parameters of `municipality`.
# `solutions = True` checks the reference answer of every exercise left unanswered (the golden copy does).
municipality = "Karmøy"
values = None
output_dir = "reports/executed"
solutions = False

# %% [markdown]
# This tutorial teaches the U4SSC method by doing it on one municipality. It follows one published
# value through every step of the method, one section per step:
#
# 1. the data point; 2. its target and bounds; 3. the achievement; 4. the band and points;
# 5. category and dimension scores; 6. the SDG view; 7. the trend; 8. peers and ranking;
# 9. investment.
#
# Where the method has alternatives (normalisation in step 3, aggregation in step 5) the tutorial
# shows them side by side. Each step calls the same function of the `analysis` package that the
# profiles and the synthesis use, so you can read the code behind every number. The notebook only
# calls functions and displays their results; it writes no files.
#
# **Exercises.** Six cells ask you something. Each holds `answer = None  # your answer` and a
# check below it. Open this notebook in JupyterLab (`make lab`, then double-click
# `notebooks/tutorial.py`), write your answer, run the cell, and the check tells you whether it is
# right and why. On the website the checks show "not answered yet" with the answer folded away.
#
# **What U4SSC reports and what this project adds.** U4SSC (ITU/UNECE) defines the KPIs and their
# data points, scores each value as a percentage of a target, turns it into 1–4 points and four
# bands, and scores categories and dimensions as Σ points / (4 × data points scored). That last
# 0–100 score, `u4ssc_score` in the tables, is the one U4SSC reports. Everything else here is the
# project's addition, each from a named source: the targets themselves (U4SSC publishes none), the
# mean achievement beside the U4SSC score (SDSN's mean), the SDG colours (SDSN's rules), the trends
# (SDSN's arrows, NTNU's projection), peer ranks, the rank uncertainty and the investment ranking.
# **The overall index is this project's own construction**: U4SSC has no overall index.
#
# We start by loading the parameters (defaults, then the municipality's own file, then any
# `--set` values, validated once by `analysis.params`), exactly as a profile does, and assessing the
# whole panel once (`analysis.assess.stage`, computed by `analysis.assess.assess`). Every random step uses the `seed` parameter, so the results are the
# same on every run.

# %%
import pandas as pd
from IPython.display import HTML, Markdown, display

from analysis import (assess, compare, invest, municipalities, observations, params, present, profile, scoring, sdg,
                      tutorial, uncertainty)

values = params.given(values, municipality)
panel = municipalities.load(values["panel"])
name = municipalities.registry().entity(values["municipality"]).label
a = assess.stage(values)  # the panel assessment stage the profiles read
mix = profile.mix_row(a, name)
display(HTML(present.banner(int(mix["n_published"]), int(mix["n_city_supplied"]), int(mix["n_simulated"]), name)))
display(Markdown(f"**Run:** target set `{values['target_set']}`, simulated values "
                 f"{'included' if values['include_simulated'] else 'excluded'}, seed {values['seed']}, "
                 f"{len(a.municipalities)} municipalities in the panel."))

# %% [markdown]
# The banner matters. Only a few values of any municipality are published. The main job fills the
# other cells with **simulated** values (`analysis.simulate`) so that every method can be shown on
# a complete panel. Simulated values are not measurements. Tables mark their rows in italics with
# hatching, and nothing that rests on them is a finding about the municipality.
#
# ## Step 1: the data point
#
# U4SSC's 91 KPIs are measured as 112 data points, each with a unit, a direction (is more
# better?) and links to SDG targets (`data/raw/kpi_catalogue.csv`). These are the values printed in
# the municipality's U4SSC document, mapped to the registry's data point ids and units
# (`analysis.observations.load_published`).

# %%
published = a.observations[(a.observations["municipality"] == name) & (a.observations["source_type"] == "published")]
display(HTML(present.table_html(published[["data_point_id", "year", "value", "value_text", "unit", "status",
                                           "source_type"]].astype({"year": str}), caption=f"Published values of {name}")))

# %% [markdown]
# We follow one of them: **Water Supply Loss** (`EC: I: WS: 3C`), the share of the water put into
# the network that is lost before it reaches a consumer. Lower is better.
#
# ## Step 2: target and bounds
#
# A value means little alone. U4SSC scores it against a target but does not publish its targets,
# so the project's targets are in `data/raw/targets.csv`, each with a source (see the Targets
# page). The method needs two goalposts per data point: the **target**, scored 100 %, and the
# **worst** value, scored 0 %. `analysis.targets.goalposts` takes them from the chosen target set;
# the worst value follows the data point's `worst_rule` (0 for "% of target", SDSN's percentile of
# the panel, or a sourced reference), and `target_origin` and `worst_origin` say how each was obtained.

# %%
dp = "EC: I: WS: 3C"
row = a.scored[(a.scored["municipality"] == name) & (a.scored["data_point_id"] == dp)].iloc[0]
goal = a.goalposts[a.goalposts["data_point_id"] == dp].iloc[0]
display(HTML(present.table_html(
    goal.to_frame().T[["data_point_id", "direction", "target", "worst", "target_origin", "worst_origin",
                       "source_class", "target_source"]], caption="Goalposts used (analysis.targets.goalposts)")))

# %% [markdown]
# Here the target is the national goal of less than 25 % leakage (scored 100 %). The *worst*
# value, scored 0 %, is SDSN's bound: the 97.5th percentile of the panel's values (lower is better),
# the rule named in `worst_rule` (see the Targets page). The alternative at this step is the **target set**: the
# parameter `target_set` chooses `default`, `national` (Norwegian national targets where they
# exist) or a city's own set, and a set other than `default` replaces only the data points it
# lists.
#
# ## Step 3: achievement
#
# `analysis.scoring.achievement` puts the value on a line from the worst value (0 %) to the target
# (100 %):
#
# achievement = 100 · (value − worst) / (target − worst)
#
# For a lower-is-better data point the target is below the worst value. Both differences are then
# negative, and the formula still gives "higher is better".

# %%
achieved = scoring.achievement([row["value"]], [goal["target"]], [goal["worst"]], [goal["direction"]])[0]
display(Markdown(
    f"100 · ({row['value']:g} − {goal['worst']:g}) / ({goal['target']:g} − {goal['worst']:g}) "
    f"= **{achieved:.1f} %**. {name} has closed {achieved:.1f} % of the distance between "
    f"{goal['worst']:g} % loss and the {goal['target']:g} % goal."))

# %% [markdown]
# Achievement is then capped to 0–100 %, so a value beyond its target counts as 100 % and cannot
# make up for a failing data point in an average. The uncapped value is kept as `achievement_raw`.
#
# ### Exercise 1: change the target set
#
# Fine particulate matter (PM2.5, `EN: EN: AQ: 1C/PM2.5`, µg/m³, lower is better) has a stricter
# target in the default set than in the national set. Below are both sets of goalposts and the
# municipality's value (a simulated one: this is an exercise in the method, not a finding). What
# is the achievement under the **national** set? Give a number in %.

# %%
pm = "EN: EN: AQ: 1C/PM2.5"
by_set = {ts: a if values["target_set"] == ts else assess.assess({**values, "target_set": ts}, panel=panel)
          for ts in ("default", "national")}
posts = pd.concat([run.goalposts[run.goalposts["data_point_id"] == pm].assign(target_set=ts)
                   for ts, run in by_set.items()], ignore_index=True)
value_pm = a.scored[(a.scored["municipality"] == name) & (a.scored["data_point_id"] == pm)].iloc[0]
display(HTML(present.table_html(posts[["target_set", "data_point_id", "direction", "target", "worst", "target_origin"]],
                                caption=f"PM2.5 goalposts; {name}'s value: {value_pm['value']:g} µg/m³ "
                                        f"({value_pm['source_type']})")))

# %%
# NBVAL_CHECK_OUTPUT
answer = None  # your answer: the achievement in % under the national target set
old, new = (posts.iloc[0][["target", "worst"]].astype(float), posts.iloc[1][["target", "worst"]].astype(float))
tutorial.check_target_change(answer, value_pm["value"], value_pm["direction"], tuple(old), tuple(new),
                             solutions=solutions)

# %% [markdown]
# ### The alternatives: three normalisations
#
# Achievement of target is one way to put data points with different units on one 0–100 scale
# (U4SSC's). Composite indices also use **min-max** (0 for the panel's worst value, 100 for its
# best) and **rank** normalisation (the panel rank scaled to 0–100). Neither needs a target, and
# both change when the other municipalities change. The Monte Carlo of step 8 draws among all
# three (`analysis.uncertainty.normalise_matrix`).
#
# ### Exercise 2: switch the normalisation
#
# Here are the panel's Water Supply Loss values (most of them simulated). What is the
# municipality's **min-max** score?

# %%
panel_values = a.scored[(a.scored["data_point_id"] == dp) & a.scored["value"].notna()]
display(HTML(present.table_html(panel_values[["municipality", "value", "source_type"]]
                                .sort_values("value", kind="mergesort"), caption="Water Supply Loss (%), low to high")))

# %%
# NBVAL_CHECK_OUTPUT
answer = None  # your answer: the min-max score, 0–100
tutorial.check_minmax(answer, panel_values["value"], row["value"], goal["direction"] == "lower_is_better",
                      solutions=solutions)

# %%
display(HTML(present.table_html(tutorial.normalisation_alternatives(a.scored, dp), decimals=1,
                                caption="Water Supply Loss under the three normalisations")))

# %% [markdown]
# The order of the municipalities is the same under all three; the distances between them are not,
# and a municipality can be close to its target yet low among its peers (or the reverse).
#
# ## Step 4: band and points
#
# U4SSC turns the achievement into 1–4 points: 1 below 33 %, 2 from 33 %, 3 from 66 % and 4 from
# 95 % (`analysis.scoring.points`, `analysis.scoring.band`). An edge belongs to the band above it.
#
# ### Exercise 3: predict the band
#
# Which band does Water Supply Loss's achievement from step 3 fall in? Write the band as it is
# printed, for example `"33–66 %"`.

# %%
# NBVAL_CHECK_OUTPUT
answer = None  # your answer: a band such as "33–66 %"
tutorial.check_band(answer, achieved, solutions=solutions)

# %%
display(Markdown(f"{achieved:.1f} % gives **{scoring.points([achieved])[0]:.0f} points**, band "
                 f"**{scoring.band([achieved])[0]}**."))
edges = [0.0, 32.9, 33.0, 65.9, 66.0, 94.9, 95.0, 100.0]
display(HTML(present.table_html(
    pd.DataFrame({"achievement": edges, "points": scoring.points(edges), "band": scoring.band(edges)}),
    caption="Points at the band edges", decimals=1)))

# %% [markdown]
# ## Step 5: category and dimension scores
#
# Water Supply Loss belongs to the category *Water and Sanitation* in *Economy / Infrastructure*.
# U4SSC scores a group as Σ points / (4 × number of data points scored). The 4 is the maximum
# number of points. A data point without a value or without a target drops out of the
# denominator.
#
# ### Exercise 4: score a category
#
# Here are the category's data points and their points. What is its U4SSC score in %?

# %%
key = row[["dimension", "sub_dimension", "category"]]
members = a.scored[(a.scored["municipality"] == name) & (a.scored["dimension"] == key["dimension"])
                   & (a.scored["sub_dimension"] == key["sub_dimension"]) & (a.scored["category"] == key["category"])]
display(HTML(present.table_html(members[["data_point_id", "data_point_name", "value", "target", "worst", "achievement",
                                         "points", "band", "source_type"]],
                                caption=f"{' / '.join(key)}: data points of {name}")))

# %%
# NBVAL_CHECK_OUTPUT
answer = None  # your answer: the category's U4SSC score in %
tutorial.check_category_score(answer, members["points"], solutions=solutions)

# %% [markdown]
# `analysis.scoring.aggregate` computes the score, and beside it the mean achievement (a
# continuous score) and the coverage (data points scored / data points in the group).

# %%
category = scoring.aggregate(members, a.catalogue, "category", [name])
category = category[(category["sub_dimension"] == key["sub_dimension"]) & (category["category"] == key["category"])]
display(HTML(present.table_html(category.drop(columns=["municipality", "level"]), decimals=1,
                                caption="analysis.scoring.aggregate at category level")))
c = category.iloc[0]
points_text = " + ".join(f"{p:.0f}" for p in members["points"].dropna())
display(Markdown(f"U4SSC score = ({points_text}) / (4 × {c['n_scored']}) = {c['points_sum']:.0f} / "
                 f"{4 * c['n_scored']} = **{c['u4ssc_score']:.1f} %**, band {c['u4ssc_band']}; "
                 f"coverage {c['n_scored']} of {c['n_in_group']} data points."))

# %% [markdown]
# The same rule applies one level up: Σ points / 4n over every scored data point of the
# dimension. `n_simulated` shows how many of them are simulated.

# %%
dims = a.levels["dimension"][a.levels["dimension"]["municipality"] == name]
display(HTML(present.table_html(dims.drop(columns=["municipality", "level"]), decimals=1,
                                caption="analysis.scoring.aggregate at dimension level")))
for d in dims[dims["n_scored"] > 0].itertuples():
    display(Markdown(f"- {d.dimension}: {d.points_sum:.0f} / (4 × {d.n_scored}) = {d.u4ssc_score:.1f} % "
                     f"({d.n_simulated} of {d.n_scored} scored values simulated)"))

# %% [markdown]
# ### The alternatives: three aggregations
#
# Σ points / 4n (U4SSC) rounds every data point to its band before averaging. The arithmetic mean
# of the achievements (SDSN) keeps the distances inside a band. The geometric mean (an alternative
# of the Monte Carlo in step 8) lets weak data points pull the score down more: a 5 % cannot be
# made up by a 100 %.

# %%
display(HTML(present.table_html(tutorial.aggregation_alternatives(a.scored, name), decimals=1,
                                caption=f"{name}'s dimension scores, three ways")))

# %% [markdown]
# **The overall index** (`analysis.scoring.overall_index`) is the weighted mean of the three
# dimensions' mean achievements, with the weights of the parameter `weights` (equal by default).
# It is this project's own construction, for ranking: U4SSC reports no overall index, and a
# change of weights moves it (and the ranks of step 8) but no U4SSC score.

# %%
overall = a.overall[a.overall["municipality"] == name]
display(Markdown(f"Overall index (weights {values['weights']}): **{overall['index'].iloc[0]:.1f}**."))

# %% [markdown]
# ### Exercise 5: which score does U4SSC report?
#
# The tables above show three 0–100 scores for a group: `u4ssc_score`, `mean_achievement` and the
# overall `index`. Which one does U4SSC itself report? Give the column name.

# %%
# NBVAL_CHECK_OUTPUT
answer = None  # your answer: "u4ssc_score", "mean_achievement" or "index"
tutorial.check_u4ssc_score(answer, solutions=solutions)

# %% [markdown]
# ## Step 6: the SDG view
#
# The registry links every data point to SDG targets, and each data point gets the colour of its
# band: red, orange, yellow or green. An SDG target's colour must not let an average hide a failing
# data point. `analysis.sdg.goal_level` takes the target's data point levels (0 = red … 3 = green)
# and applies two rules:
#
# 1. If **more than a third** of the data points are red, the target is red.
# 2. Otherwise the **two worst** data points decide. If they have the same colour, the target takes
#    it. If they differ, it takes the worse colour, except that a single red among the two is
#    lifted to orange. A target with one data point takes its colour.
#
# Each goal then takes the lower median of its targets' colours (`analysis.sdg.median_level`).

# %%
examples = [[3, 3, 3], [3, 3, 2], [3, 2, 1], [3, 3, 0], [3, 3, 3, 0], [3, 0], [1]]
display(HTML(present.table_html(pd.DataFrame({
    "data point levels": [str(e) for e in examples],
    "target colour": [sdg.COLOURS[sdg.goal_level(e)] for e in examples]}), caption="analysis.sdg.goal_level")))

# %% [markdown]
# Compare `[3, 3, 0]` and `[3, 0]`. In the first, one red among three is not more than a third, so
# the two worst (red and green) decide and the red is lifted to orange. In the second, one red among
# two is more than a third, so the target is red.

# %%
goals = a.sdg_goals[a.sdg_goals["municipality"] == name]
display(HTML(present.table_html(goals.drop(columns="municipality"), decimals=1, caption=f"SDG goals of {name}")))
view = sdg.data_point_view(a.scored[a.scored["municipality"] == name], a.catalogue)
goal6 = view[view["sdg_goal"] == 6].drop_duplicates("data_point_id")
display(HTML(present.table_html(goal6[["data_point_id", "data_point_name", "achievement", "points", "colour",
                                       "source_type"]], caption="Goal 6 in detail")))

# %% [markdown]
# ## Step 7: the trend
#
# A baseline says where a municipality stands; a trend says whether it is getting there. Where a
# data point has several years, `analysis.trends.trends` compares the yearly gain still needed to
# reach the target by the deadline (parameter `deadline`) with the gain observed so far (SDSN's
# arrows), and projects the year the target is reached at that same observed yearly gain, so arrow
# and projected year never contradict each other (methodology, trends). U4SSC itself reports one year.
#
# - required gain = (target − last value) / (deadline − last year), signed so that positive is better;
# - observed gain = (last value − first value) / (last year − first year), signed the same way;
# - on track if observed ≥ required, moderately improving above half of it, stagnating from 0 to
#   half, decreasing below 0.

# %%
series = observations.scored(a.observations)
series = series[(series["municipality"] == name) & (series["data_point_id"] == dp)].sort_values("year")
display(HTML(present.table_html(series[["year", "value", "unit", "source_type"]].astype({"year": str}),
                                caption="Water Supply Loss by year")))
trend = a.trends[(a.trends["municipality"] == name) & (a.trends["data_point_id"] == dp)]
display(HTML(present.table_html(trend.drop(columns="municipality"), decimals=3, caption="analysis.trends.trends")))
t = trend.iloc[0]
display(Markdown(
    f"Required: ({goal['target']:g} − {t['last_value']:g}) / ({t['deadline']} − {t['last_year']}), with the sign for "
    f"lower is better, = {t['required_gain']:.3f} points a year. Observed: {t['observed_gain']:.3f} a year. "
    f"Trend: **{t['trend']} {t['arrow']}**."))
display(Markdown(f"The series has {series['source_type'].eq('simulated').sum()} simulated of {len(series)} values: "
                 "a trend that rests on simulated years shows the method, not the municipality."))

# %% [markdown]
# ## Step 8: peers and ranking
#
# ### Peers on one data point
#
# `analysis.municipalities.peers` sets the peer group from the parameter `peer_group` (all, same county,
# or a list). `analysis.profile.peer_ranks` ranks the peers on each data point by the value,
# taking direction into account: for Water Supply Loss the lowest loss ranks 1. The percentile is
# 100 for the best. With 17 municipalities, a difference of a few places means little. Note too
# that most of the values below are simulated.

# %%
group = municipalities.peers(panel, name, values["peer_group"])
ranks = profile.peer_ranks(a.scored, group)
ranked = ranks[ranks["data_point_id"] == dp].merge(
    a.scored[["municipality", "data_point_id", "value", "achievement", "source_type"]],
    on=["municipality", "data_point_id"]).sort_values("peer_rank", kind="mergesort")
display(HTML(present.table_html(ranked, caption=f"Water Supply Loss among {len(group)} peers (1 = best)")))

# %% [markdown]
# ### How firm is an overall rank?
#
# An overall rank depends on choices made when the index is built. The Monte Carlo in
# `analysis.uncertainty` varies them at random:
#
# - the data (with simulated values, or published only);
# - the target set;
# - the goalpost rule (each data point's documented worst bound, or SDSN's percentile of the panel
#   for every data point) and the tolerance at the target (1 % of the goalpost span, or none);
# - the normalisation (goalposts, min-max, rank);
# - missing values (drop, or impute the median);
# - the aggregation (arithmetic or geometric);
# - the outlier treatment (none, or COINr's winsorise-then-log rule);
# - the dimension weights (each nominal weight times a uniform ±25 %, as JRC audits do).
#
# It then reports the nominal rank, the median rank and the 5th–95th percentile band. Here we use
# 500 draws; the synthesis uses `synthesis.draws`.

# %%
inputs = uncertainty.prepare(values, panel=panel)
bands, log = uncertainty.monte_carlo_ranks(inputs, draws=500, seed=int(values["seed"]))
display(HTML(present.table_html(bands, decimals=2, caption="Rank bands, 500 draws over the construction choices")))

# %% caption="Each ranked municipality's median rank with its 5th\u201395th percentile band and its nominal rank over 500 draws (1 = highest index); hatched bands rest mostly on simulated values."
fig = compare.plot_rank_intervals(bands)

# %% [markdown]
# ### Exercise 6: read a rank band
#
# From the table above, between which ranks does the municipality land in 90 % of the draws (its
# 5th and 95th percentile ranks)? Give two whole numbers, best first.

# %%
# NBVAL_CHECK_OUTPUT
answer = None  # your answer: (best rank, worst rank), e.g. (3, 9)
tutorial.check_rank_band(answer, bands, name, solutions=solutions)

# %% [markdown]
# The bands vary every construction choice except the data: ranks are only comparable among the
# same municipalities, and with published values alone only a few municipalities have an index at
# all. The comparison of published-only and with-simulated ranks is therefore its own table
# (`analysis.uncertainty.data_sensitivity`), for the municipalities that can be ranked both ways:

# %%
display(HTML(present.table_html(uncertainty.data_sensitivity(inputs, draws=500, seed=int(values["seed"])),
                                decimals=2, caption="Rank with and without simulated values")))

# %% [markdown]
# Sobol indices (`analysis.uncertainty.sobol_indices`) say which choice moves the ranks most. S1
# is the choice's own effect and ST includes its interactions with the other choices. The
# dependent variable is the mean absolute rank shift from the nominal ranks.

# %%
display(HTML(present.table_html(uncertainty.sobol_indices(inputs, n_base=64, seed=int(values["seed"])), decimals=3,
                                caption="Sobol indices (64 base samples)")))

# %% [markdown]
# ## Step 9: investment and innovation opportunities
#
# U4SSC stops at the scores. UNECE city profiles then choose projects by hand. `analysis.invest`
# ranks investment themes, each of which moves a set of data points, on four criteria:
#
# - **need**: the gaps to target the theme can close (a data point shared by several themes is split between them);
# - **impact**: the SDG targets the theme serves where the municipality falls short;
# - **feasibility**: the share of peers that have already closed at least half of the gap;
# - **cost**: the theme's cost class (low, medium, high).
#
# The themes are ranked by a weighted sum (weights `invest.criteria_weights`), TOPSIS and
# PROMETHEE II. Evidence, the share of the need resting on real rather than simulated values, is
# shown beside the rank. Each row explains its rank in words.

# %%
opp = invest.opportunities(a, name)
columns = ["ws_rank", "theme_name", "need", "impact", "feasibility", "cost_class", "evidence", "topsis_rank",
           "promethee_rank", "status"]
display(HTML(present.table_html(opp[columns], caption=f"Opportunities for {name} (analysis.invest.opportunities)")))
display(Markdown(f"**Top theme:** {opp['explanation'].iloc[0]}"))

# %% [markdown]
# Is the order firm if the criteria weights are uncertain? `analysis.invest.stability` re-ranks
# the themes under Dirichlet draws of the weights (500 draws here) and under each of the three
# methods. A theme is *stable* when every method puts it in the top 3 in at least 80 % of the draws,
# or every method in at most 20 %.

# %%
stab = invest.stability(a, name, draws=500)
display(HTML(present.table_html(stab[["theme_name", "p_top", "rank_median", "rank_p05", "rank_p95", "stability"]],
                                decimals=2, caption="Stability under uncertain criteria weights")))

# %% [markdown]
# ## Where to go next
#
# - The municipality's profile shows all these tables for every data point, and its overall index.
# - The Methodology page states every rule, and the Targets page gives every target.
# - Re-run with other parameters and see what changed, for example the published data only:
#   `python -m analysis run Karmøy --set include_simulated=false`, then
#   `python -m analysis diff Karmøy`. Most data points then have no target, because the peer rule
#   needs three municipalities with a value. This is the honest state of the real data.
# - Change the parameters cell at the top of this notebook (another `municipality`, or
#   `values = analysis.params.load(municipality, ["target_set=national"])`), run all cells, and try the exercises again.
