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
# subtitle: "From one published value to scores, SDG colours, peer ranks, rank uncertainty and investment opportunities"
# ---

# %% tags=["parameters"]
# Parameters (papermill replaces this cell). The pipeline injects `values`, the validated parameters
# (analysis.params, canonical form); run by hand, `values = None` takes the parameters of `municipality`.
municipality = "Karmøy"
values = None
output_dir = "reports/executed"

# %% [markdown]
# This tutorial follows one municipality through every step of the analysis. Each step calls the
# same function of the `analysis` package that the profiles and the synthesis use, and the
# Methodology page names it, so you can read the code behind every number. The notebook
# only calls functions and displays their results. It computes nothing itself and writes no files.
#
# We start by loading the parameters (defaults, then the municipality's own file, then any
# `--set` values, validated once by `analysis.params`), exactly as a profile does, and assessing the
# whole panel once with `analysis.assess.assess`. Every random step uses the `seed` parameter, so the results are the
# same on every run.

# %%
import pandas as pd
from IPython.display import HTML, Markdown, display

from analysis import assess, compare, invest, municipalities, params, present, profile, scoring, sdg, uncertainty

values = params.given(values, municipality)
panel = municipalities.load(values["panel"])
name = municipalities.registry().entity(values["municipality"]).label
a = assess.assess(values, panel=panel)
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
# ## Step 1: a published observation
#
# These are the values printed in the municipality's U4SSC document, mapped to the registry's data
# point ids and units (`analysis.observations.load_published`).

# %%
published = a.observations[(a.observations["municipality"] == name) & (a.observations["source_type"] == "published")]
display(HTML(present.table_html(published[["data_point_id", "year", "value", "value_text", "unit", "status",
                                           "source_type"]].astype({"year": str}), caption=f"Published values of {name}")))

# %% [markdown]
# We follow one of them: **Water Supply Loss** (`EC: I: WS: 3C`), the share of the water put into
# the network that is lost before it reaches a consumer. Lower is better.

# %%
dp = "EC: I: WS: 3C"
row = a.scored[(a.scored["municipality"] == name) & (a.scored["data_point_id"] == dp)].iloc[0]
goal = a.goalposts[a.goalposts["data_point_id"] == dp].iloc[0]
display(HTML(present.table_html(
    goal.to_frame().T[["data_point_id", "direction", "target", "worst", "target_origin", "worst_origin",
                       "source_class", "target_source"]], caption="Goalposts used (analysis.targets.goalposts)")))

# %% [markdown]
# ## Step 2: achievement
#
# U4SSC scores each value as a percentage of a target but does not publish its targets. The
# project's targets are in `data/raw/targets.csv`, each with a source (see the Targets page). Here
# the target is the national goal of less than 25 % leakage (scored 100 %). The *worst* value,
# scored 0 %, is the natural bound of a share, 100 %.
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
# ## Step 3: points and band
#
# U4SSC turns the achievement into 1–4 points: 1 below 33 %, 2 from 33 %, 3 from 66 % and 4 from
# 95 % (`analysis.scoring.points`, `analysis.scoring.band`).

# %%
display(Markdown(f"{achieved:.1f} % gives **{scoring.points([achieved])[0]:.0f} points**, band "
                 f"**{scoring.band([achieved])[0]}**."))
edges = [0.0, 32.9, 33.0, 65.9, 66.0, 94.9, 95.0, 100.0]
display(HTML(present.table_html(
    pd.DataFrame({"achievement": edges, "points": scoring.points(edges), "band": scoring.band(edges)}),
    caption="Points at the band edges", decimals=1)))

# %% [markdown]
# ## Step 4: a category score
#
# Water Supply Loss belongs to the category *Water and Sanitation* in *Economy / Infrastructure*.
# U4SSC scores a group as Σ points / (4 × number of data points scored). The 4 is the maximum
# number of points. A data point without a value or without a target drops out of the
# denominator. `analysis.scoring.aggregate` computes this, and beside it the mean achievement (a
# continuous score) and the coverage (data points scored / data points in the group).

# %%
key = row[["dimension", "sub_dimension", "category"]]
members = a.scored[(a.scored["municipality"] == name) & (a.scored["dimension"] == key["dimension"])
                   & (a.scored["sub_dimension"] == key["sub_dimension"]) & (a.scored["category"] == key["category"])]
display(HTML(present.table_html(members[["data_point_id", "data_point_name", "value", "target", "worst", "achievement",
                                         "points", "band", "source_type"]],
                                caption=f"{' / '.join(key)}: data points of {name}")))
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
# ## Step 5: dimension scores and the overall index
#
# The same rule applies one level up: Σ points / 4n over every scored data point of the
# dimension. `n_simulated` shows how many of them are simulated. The overall index is the weighted
# mean of the three dimensions' mean achievements (`analysis.scoring.overall_index`). The weights
# come from the parameter `weights` and are equal by default.

# %%
dims = a.levels["dimension"][a.levels["dimension"]["municipality"] == name]
display(HTML(present.table_html(dims.drop(columns=["municipality", "level"]), decimals=1,
                                caption="analysis.scoring.aggregate at dimension level")))
for d in dims[dims["n_scored"] > 0].itertuples():
    display(Markdown(f"- {d.dimension}: {d.points_sum:.0f} / (4 × {d.n_scored}) = {d.u4ssc_score:.1f} % "
                     f"({d.n_simulated} of {d.n_scored} scored values simulated)"))
overall = a.overall[a.overall["municipality"] == name]
display(Markdown(f"Overall index (weights {values['weights']}): **{overall['index'].iloc[0]:.1f}**."))

# %% [markdown]
# ## Step 6: the SDG view
#
# The registry links data points to SDG targets, and each data point gets the colour of its band:
# red, orange, yellow or green. A goal's colour must not let an average hide a failing data point.
# `analysis.sdg.goal_level` takes the data points' levels (0 = red … 3 = green) and applies two
# rules:
#
# 1. If **more than a third** of the goal's data points are red, the goal is red.
# 2. Otherwise the **two worst** data points decide. If they have the same colour, the goal takes
#    it. If they differ, the goal takes the worse colour, except that a single red among the two is
#    lifted to orange. A goal with one data point takes its colour.

# %%
examples = [[3, 3, 3], [3, 3, 2], [3, 2, 1], [3, 3, 0], [3, 3, 3, 0], [3, 0], [1]]
display(HTML(present.table_html(pd.DataFrame({
    "data point levels": [str(e) for e in examples],
    "goal colour": [sdg.COLOURS[sdg.goal_level(e)] for e in examples]}), caption="analysis.sdg.goal_level")))

# %% [markdown]
# Compare `[3, 3, 0]` and `[3, 0]`. In the first, one red among three is not more than a third, so
# the two worst (red and green) decide and the red is lifted to orange. In the second, one red among
# two is more than a third, so the goal is red.

# %%
goals = a.sdg_goals[a.sdg_goals["municipality"] == name]
display(HTML(present.table_html(goals.drop(columns="municipality"), decimals=1, caption=f"SDG goals of {name}")))
view = sdg.data_point_view(a.scored[a.scored["municipality"] == name], a.catalogue)
goal6 = view[view["sdg_goal"] == 6].drop_duplicates("data_point_id")
display(HTML(present.table_html(goal6[["data_point_id", "data_point_name", "achievement", "points", "colour",
                                       "source_type"]], caption="Goal 6 in detail")))

# %% [markdown]
# ## Step 7: peer comparison
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
# ## Step 8: how firm is a rank?
#
# An overall rank depends on choices made when the index is built. The Monte Carlo in
# `analysis.uncertainty` varies them at random:
#
# - the data (with simulated values, or published only);
# - the target set;
# - the normalisation (goalposts, min-max, rank);
# - missing values (drop, or impute the median);
# - the aggregation (arithmetic or geometric);
# - the dimension weights (Dirichlet draws around the nominal ones).
#
# It then reports the nominal rank, the median rank and the 5th–95th percentile band. Here we use
# 500 draws; the synthesis uses `synthesis.draws`.

# %%
inputs = uncertainty.prepare(values, panel=panel)
bands, log = uncertainty.monte_carlo_ranks(inputs, draws=500, seed=int(values["seed"]))
display(HTML(present.table_html(bands, decimals=2, caption="Rank bands, 500 draws over the construction choices")))
fig = compare.plot_rank_intervals(bands)

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
# - The municipality's profile shows all these tables for every data point.
# - The Methodology page states every rule, and the Targets page gives every target.
# - Re-run with other parameters, for example the published data only:
#   `python -m analysis run Karmøy --set include_simulated=false`. Most data points then have no
#   target, because the peer rule needs three municipalities with a value. This is the honest
#   state of the real data.
