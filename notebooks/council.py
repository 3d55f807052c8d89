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
# title: "Council paper"
# ---

# %% tags=["parameters"]
# Parameters (papermill replaces this cell): `values`, the validated parameters (analysis.params), or
# None to take those of `municipality` from params/. The paper writes no side outputs: the tables and
# provenance are the profile job's.
municipality = "Ålesund"
values = None
output_dir = None

# %% tags=["remove-cell"]
from analysis import council, present, profile, summary

prof = profile.build(values, None, municipality=municipality)

# %% [markdown]
# A short version of the smart sustainable city profile for the municipal council, built from the
# same figures as the full profile (the U4SSC Key Performance Indicators for Smart Sustainable
# Cities, ITU/UNECE). Each value is compared with a target and placed in one of the U4SSC bands
# (0–33 %, 33–66 %, 66–95 %, 95–100 % of the target). The full profile has every table, the
# methods and the downloads.

# %%
council.Block(council.data_mix(prof))

# %%
# NBVAL_CHECK_OUTPUT
summary.from_profile(prof)  # the same executive summary as the profile's (analysis/summary.py)

# %% [markdown]
# ## Results by dimension
# Each dimension's U4SSC score (Σ points / 4 × data points scored) and band, then its categories:
# the bar shows the score, dashed lines mark the band edges. Italic, hatched rows rest mostly on
# simulated values.

# %%
present.described(present.plot_dimension_scores(prof.dimensions, prof.municipality),
                  *present.dimension_finding(prof.dimensions, prof.municipality))

# %%
council.results_by_dimension(prof)

# %% [markdown]
# ## Main gaps
# The data points furthest below their targets, and the data points without a published,
# city-supplied or national statistics value that should be collected first (core data points and
# those linked to more SDG targets first).

# %%
council.main_gaps(prof)

# %% [markdown]
# ## Recommendations
# Derived by rule from the gaps and the investment ranking (invest in top themes whose gap rests on
# real values, verify the others first, review the categories in the lowest band, join shared
# programmes, plan data collection); each names an owner, a horizon and a cost class.

# %%
council.recommendations(prof)

# %% [markdown]
# ## Investment themes
# Themes ranked on need, impact, feasibility and cost (weighted sum; TOPSIS and PROMETHEE II check
# the order). A theme is stable only when neither uncertain weights nor the choice of method move
# it. Evidence is the share of its need resting on real values.

# %%
council.themes(prof)

# %% [markdown]
# ## Data quality
# Where the values come from, their data-quality level (the six levels of the U4SSC verification
# manual) and whether a third party verified them.

# %%
council.quality(prof)
