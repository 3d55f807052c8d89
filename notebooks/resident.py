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
# title: "For residents"
# ---

# %% tags=["parameters"]
# Parameters (papermill replaces this cell): `values`, the validated parameters (analysis.params), or
# None to take those of `municipality` from params/; `lang` is "nb" (Norwegian Bokmål) or "en".
# The page writes no side outputs: the profile's tables and provenance come from the profile job.
municipality = "Tromsø"
values = None
lang = "nb"
output_dir = None

# %% tags=["remove-cell"]
from analysis import profile, resident

prof = profile.build(values, None, municipality=municipality)

# %%
# NBVAL_CHECK_OUTPUT
resident.from_profile(prof, lang)  # all text from analysis/locale/messages.csv, formatted by Babel
