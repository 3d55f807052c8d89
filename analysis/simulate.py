"""Simulated observations, always labelled as such: seeded, plausible, never mistaken for data.

Simulated rows use the tidy observation schema (:data:`analysis.observations.COLUMNS`) with
``source_type = "simulated"``, ``status = "reported"``, ``source = "simulated by analysis.simulate
(seed=N)"`` and a ``note`` that says the value is simulated and how it was drawn. They exist so
that the methods can be shown and tested on full panels (all 112 data points, several years, up to
thousands of fictional municipalities); they are never evidence about a real municipality.
:func:`select` is the one switch that lets simulated rows into an analysis.

How a value is drawn
--------------------
For each data point a distribution on a latent scale is chosen from its registry unit and range
(:func:`analysis.observations.value_bounds`):

* bounded units (``%`` variants 0–100, ``index (0-1)``): **logit-normal** — the value is
  ``lo + (hi - lo) * expit(mu + s * z)``, so it can never leave its range;
* unbounded non-negative units (rates per 100 000, minutes, µg/m3, ratios, counts ...):
  **log-normal** — ``exp(mu + s * z)``, ``exp(mu)`` being the centre (median);
* ``Yes/No``: a **threshold** on the latent ``z`` — 1 when ``z`` exceeds the quantile that gives
  the assumed probability of "Yes", else 0;
* compositional groups (:data:`COMPOSITIONS`: solid-waste treatment shares, transport mode
  shares): a **Dirichlet** draw per municipality, rounded to 2 decimals with the rounding
  remainder put into the largest share, so each municipality-year sums to exactly 100.

``mu`` and ``s`` come from a centre and a spread in the data point's own unit:

* **calibrated** where published (or city-supplied) Norwegian values exist (the ``calibration``
  frame): with two or more values, centre = their median; spread = their range divided by the
  expected range of ``n`` normal draws (Tippett's ``d_n``: 1.128 for 2 values, 1.693 for 3 ...),
  or the documented default spread when all values are equal. A ``Yes/No`` probability is
  ``(yeses + 1) / (n + 2)`` (Laplace's rule, so one "No" does not make "Yes" impossible);
* **shrunk** when a data point has a **single** published value ``x``: one municipality's figure
  is weak evidence about all of them, and can be an artefact (Ålesund's 0.00 % cultural
  expenditure reflects national funding of its institutions; Karmøy's 0.00 % ICT monitoring of
  drainage). The centre is the weighted mean ``w * x + (1 - w) * prior`` in the data point's own
  unit, with ``w = n / (n + k)`` for ``n = 1`` published value and a prior worth
  :data:`PRIOR_PSEUDO_COUNT` ``k = 1`` value, i.e. **halfway between the published value and the
  documented default** (:data:`DEFAULT_PRIORS`); the spread is the default spread. The mean is
  taken in the unit, not on the logit/log scale, because a published 0 or 100 % has no finite
  logit or log: its latent position would be set by the clipping constants below
  (:data:`LOGIT_EDGE` would put Karmøy's 0 % and the 10 % default's latent midpoint at 0.7 %,
  still next to 0), whereas the unit mean gives 5 %. Yes/No data points keep Laplace's rule;
* **assumed** otherwise: :data:`DEFAULT_PRIORS` (one entry per data point, with a one-line
  rationale each, for Norway around 2020), falling back on :data:`UNIT_PRIORS` for a data point
  the registry gains later.

The spread is turned into a latent ``s`` by the delta method (``spread / ((hi - lo) p (1 - p))``
on the logit scale, ``sqrt(log(1 + (spread / centre)^2))`` on the log scale), kept within
[:data:`MIN_LATENT_SD`, :data:`MAX_LATENT_SD`]. Centres at a bound are pulled inside it
(a logit centre to [0.05 %, 99.95 %] of the range, a log centre to at least :data:`LOG_FLOOR`):
a median of 100 % (basic water supply) or 0 (shared vehicles) still gives values at or next to it.

Correlation between data points
-------------------------------
Each municipality draws :data:`FACTORS` (``economy_ict``: digital, research-intensive economy;
``social``: social cohesion and welfare), independent standard normals. A data point's latent
``z = loadings · factors + sqrt(1 - |loadings|^2) * own noise`` (:data:`LOADINGS`; a data point
without loadings is independent). Unemployment and youth unemployment load (-0.5, -0.75) on
both, giving a latent correlation of about 0.8; ICT coverage, R&D, patents and ICT employment
rise with ``economy_ict``; poverty, inequality, violent crime fall with ``social``.

Years
-----
The latent ``z`` is the level in :data:`REFERENCE_YEAR` (2020, the year of the published
reports, so calibration describes that year). Each municipality and data point gets a slope,
normal with mean :data:`TREND_MEAN` latent standard deviations a year in the data point's good
direction (0 for ``descriptive`` and ``target_band``) and standard deviation :data:`TREND_SD`,
plus independent yearly noise :data:`YEAR_NOISE`. ``Yes/No`` slopes are non-negative and have no
yearly noise (a plan, once adopted, is kept), so a Yes/No series switches at most once, to Yes.
Compositional groups drift the same way on the log-share scale (:data:`COMPOSITION_TREND`).

Demonstration panels
--------------------
:func:`demonstration_panel` keeps every published row of the requested municipalities
unchanged, whatever its status and whatever its year (the ``years`` argument decides only which
cells are simulated), and simulates only the cells without one. A published ``not_reported`` row is kept and its cell is
not simulated: the municipality said it has no value, and a simulated number would contradict
what it published. The simulated years of a data point a municipality published are anchored on
the published value (the latent series passes through it in the published year), so a panel of
2018–2020 moves plausibly into the published 2020 value; in a compositional group the anchored
share is held and the other shares fill the rest of 100 %.

Everything is drawn from one ``numpy.random.default_rng(seed)``: the same arguments and seed give
an identical frame. Values are rounded to 2 decimals; ``value_text`` is the value with 2 decimals
(``Yes``/``No`` for Yes/No data points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import norm

from analysis import catalogue, observations
from analysis.validation import FIRST_YEAR, LAST_YEAR

SOURCE_TYPE = "simulated"
STATUS = "reported"
REFERENCE_YEAR = 2020
"""Year whose cross-section the centres and spreads describe (the published reports are from 2020)."""

FACTORS = ("economy_ict", "social")
TREND_MEAN = 0.05
"""Mean yearly drift, in latent standard deviations, towards the good direction."""
TREND_SD = 0.05
"""Spread of the yearly drift between municipalities, in latent standard deviations."""
YEAR_NOISE = 0.10
"""Year-to-year noise, in latent standard deviations."""
COMPOSITION_TREND = 0.03
"""Mean yearly change of a share's log in its good direction (e.g. recycling up, landfill down)."""
COMPOSITION_TREND_SD = 0.02
COMPOSITION_NOISE = 0.05
MIN_LATENT_SD = 0.01
MAX_LATENT_SD = 1.5
LOGIT_EDGE = 0.0005
"""A logit centre is kept within [0.05 %, 99.95 %] of its range."""
ANCHOR_EDGE = 1e-6
"""A logit anchor is kept within [0.0001 %, 99.9999 %] of its range (finer, to follow tiny published values)."""
LOG_FLOOR = 0.01
"""A log-normal centre or anchor of 0 becomes 0.01, so that its log is defined."""
BINARY_ANCHOR_MARGIN = 0.5
"""Latent distance from the Yes/No threshold at which an anchored series is placed."""
DECIMALS = 2
PRIOR_PSEUDO_COUNT = 1
"""``k``: the documented default counts as this many published values when a data point has a single one."""

TIPPETT_D = {2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970,
             10: 3.078}
"""Expected range of n standard normal draws: spread = range / d_n."""


@dataclass(frozen=True)
class Prior:
    """An assumed centre (median) and spread (standard deviation) in the registry unit.

    For ``Yes/No`` data points ``centre`` is the probability of "Yes" and ``spread`` is unused.
    """

    centre: float
    spread: float
    rationale: str


P = Prior
DEFAULT_PRIORS: dict[str, Prior] = {
    # Economy / ICT
    "EC: ICT: ICT: 1C": P(97, 2, "about 98 % of Norwegian households have internet access (SSB ICT use survey)"),
    "EC: ICT: ICT: 2C": P(85, 8, "fixed broadband is near-universal in towns, lower in rural municipalities"),
    "EC: ICT: ICT: 3C": P(100_000, 10_000, "about one mobile broadband subscription per inhabitant"),
    "EC: ICT: ICT: 4C/3G": P(99, 1.5, "3G covers almost all of the Norwegian population"),
    "EC: ICT: ICT: 4C/4G": P(98, 2, "4G covered over 99 % of the population nationally by 2020"),
    "EC: ICT: ICT: 5C": P(50, 40, "public Wi-Fi hotspots: tens per municipality, varying with size"),
    "EC: ICT: WS: 1C": P(30, 20, "smart water meters are being introduced unevenly"),
    "EC: ICT: WS: 2A": P(30, 20, "ICT monitoring of the water network is partial in most municipalities"),
    "EC: ICT: D: 1A": P(10, 10, "ICT monitoring of storm-water systems is rare"),
    "EC: ICT: ES: 1C": P(97, 3, "smart electricity meters (AMS) were rolled out nationally by 2019"),
    "EC: ICT: ES: 2A": P(85, 10, "grid operators monitor most of the supply with ICT"),
    "EC: ICT: ES: 3A": P(1, 1, "demand response is still marginal"),
    "EC: ICT: T: 1C": P(60, 25, "real-time stop information in towns, less in rural areas"),
    "EC: ICT: T: 2C": P(20, 15, "traffic monitoring covers main roads only"),
    "EC: ICT: T: 3A": P(30, 20, "adaptive intersection control in larger towns only"),
    "EC: ICT: PS: 1A/PCT": P(50, 30, "open-data publication varies widely between municipalities"),
    "EC: ICT: PS: 1A/NUM": P(50, 50, "tens of open datasets, skewed by a few active municipalities"),
    "EC: ICT: PS: 2A": P(60, 30, "tens of municipal services offered online"),
    "EC: ICT: PS: 3A": P(80, 15, "public procurement above thresholds is electronic (Doffin)"),
    # Economy / Productivity
    "EC: P: IN: 1C": P(1.5, 1.0, "R&D is about 2 % of GDP nationally, concentrated in university towns"),
    "EC: P: IN: 2C": P(20, 15, "patent applications per 100 000 are low outside research hubs"),
    "EC: P: IN: 3A": P(99, 0.5, "almost all Norwegian enterprises are small or medium-sized"),
    "EC: P: EM: 1C": P(2.5, 0.8, "registered unemployment (NAV) was about 2–3 % around 2019–2020"),
    "EC: P: EM: 2C": P(4.0, 1.5, "youth unemployment runs at about 1.5–2 times the overall rate"),
    "EC: P: EM: 3A": P(4, 2, "tourism employs a few per cent, more in coastal and mountain municipalities"),
    "EC: P: EM: 4A": P(3, 1.5, "ICT sector employment is a few per cent, higher in cities"),
    # Economy / Infrastructure
    "EC: I: WS: 1C": P(99.5, 0.5, "basic water supply is near-universal"),
    "EC: I: WS: 2C": P(99, 1.5, "potable water supply is near-universal"),
    "EC: I: WS: 3C": P(30, 8, "Norwegian water networks lose about 30 % to leakage"),
    "EC: I: WS: 4C": P(85, 8, "most households are on public sewers, rural ones on private systems"),
    "EC: I: WS: 5C": P(99.5, 0.5, "household sanitation is near-universal"),
    "EC: I: WA: 1C": P(99, 1, "municipal waste collection is near-universal"),
    "EC: I: ES: 1C": P(1.5, 0.7, "one or two supply interruptions per customer and year"),
    "EC: I: ES: 2C": P(120, 60, "about two hours of interruption per customer and year, more in storms"),
    "EC: I: ES: 3C": P(99.5, 0.5, "access to electricity is near-universal"),
    "EC: I: T: 1C": P(500, 300, "public transport network length varies with settlement pattern"),
    "EC: I: T: 2A": P(80, 10, "most residents live near a stop in towns, fewer in rural areas"),
    "EC: I: T: 3C": P(50, 30, "cycle paths: tens of km per 100 000 inhabitants"),
    "EC: I: T: 4A/PRIVATE": P(60, 8, "see COMPOSITIONS: car share of trips about 60 % (national travel survey)"),
    "EC: I: T: 4A/PUBLIC": P(10, 4, "see COMPOSITIONS: public transport about 10 % of trips"),
    "EC: I: T: 4A/WALKING": P(22, 5, "see COMPOSITIONS: walking about 22 % of trips"),
    "EC: I: T: 4A/CYCLING": P(5, 3, "see COMPOSITIONS: cycling about 5 % of trips"),
    "EC: I: T: 4A/PARA": P(3, 2, "see COMPOSITIONS: taxi and other modes a few per cent"),
    "EC: I: T: 5A": P(1.15, 0.08, "peak travel takes about 15 % longer than free flow in small cities"),
    "EC: I: T: 6A": P(50, 80, "city bikes exist in a few cities only; most municipalities have few or none"),
    "EC: I: T: 7A": P(20, 20, "car sharing is small outside the largest cities"),
    "EC: I: T: 8A": P(10, 5, "electric cars were about 10 % of the Norwegian car fleet in 2020"),
    "EC: I: B: 1A": P(15, 10, "a minority of public buildings are certified sustainable"),
    "EC: I: B: 2A": P(60, 25, "building management systems are common in newer public buildings"),
    "EC: I: UP: 1A": P(5, 3, "pedestrian infrastructure covers a few per cent of municipal area"),
    "EC: I: UP: 2A/COMPACT": P(0.8, 0, "the Planning and Building Act's guidelines ask for compact development"),
    "EC: I: UP: 2A/CONNECTED": P(0.8, 0, "master plans usually address connectivity"),
    "EC: I: UP: 2A/INTEGRATED": P(0.75, 0, "mixed land use is a common planning aim"),
    "EC: I: UP: 2A/INCLUSIVE": P(0.7, 0, "social inclusion is often, not always, a stated plan principle"),
    "EC: I: UP: 2A/RESILIENT": P(0.7, 0, "climate adaptation is required in planning since 2018 guidelines"),
    # Environment
    "EN: EN: AQ: 1C/PM2.5": P(6, 2, "annual PM2.5 means in Norwegian towns are about 4–9 µg/m3"),
    "EN: EN: AQ: 1C/PM10": P(12, 3, "annual PM10 means are about 8–16 µg/m3"),
    "EN: EN: AQ: 1C/NO2": P(15, 6, "annual NO2 means are about 10–25 µg/m3, higher near main roads"),
    "EN: EN: AQ: 1C/SO2": P(2, 1.5, "SO2 is low except near some industry"),
    "EN: EN: AQ: 1C/O3": P(55, 8, "ozone means are about 50–60 µg/m3"),
    "EN: EN: AQ: 2C": P(4, 1.5, "municipal territorial emissions are about 3–6 t CO2e per capita"),
    "EN: EN: WS: 1C": P(99, 1, "almost all drinking water meets quality standards"),
    "EN: EN: WS: 2C": P(180, 40, "household water use is about 180 litres per person and day"),
    "EN: EN: WS: 3C": P(5, 3, "Norway withdraws a small share of its available fresh water"),
    "EN: EN: WS: 4C/PRIMARY": P(95, 5, "nearly all collected wastewater gets at least primary treatment"),
    "EN: EN: WS: 4C/SECONDARY": P(50, 30, "secondary treatment is required inland, less on the coast"),
    "EN: EN: WS: 4C/TERTIARY": P(30, 25, "tertiary (phosphorus) treatment mainly in sensitive areas"),
    "EN: EN: WA: 1C/LANDFILL": P(3, 2, "see COMPOSITIONS: landfill of biodegradable waste is banned (2009)"),
    "EN: EN: WA: 1C/BURNT": P(0.1, 0.1, "see COMPOSITIONS: open burning is essentially absent"),
    "EN: EN: WA: 1C/INCINERATED": P(50, 8, "see COMPOSITIONS: about half of household waste is incinerated with energy recovery"),
    "EN: EN: WA: 1C/OPEN_DUMP": P(0.05, 0.05, "see COMPOSITIONS: open dumping is essentially absent"),
    "EN: EN: WA: 1C/RECYCLED": P(40, 8, "see COMPOSITIONS: about 40 % of household waste goes to material recovery"),
    "EN: EN: WA: 1C/OTHER": P(6.85, 3, "see COMPOSITIONS: the rest of 100 %"),
    "EN: EN: EQ: 1C": P(99.5, 0.5, "antenna sites are almost always within EMF exposure limits"),
    "EN: EN: EQ: 2A": P(10, 5, "about a tenth of residents are exposed to road noise above limits"),
    "EN: EN: PSN: 1C": P(300, 200, "green areas vary widely with settlement density"),
    "EN: EN: PSN: 2A": P(85, 10, "most Norwegians live near green areas"),
    "EN: EN: PSN: 3A": P(10, 8, "protected areas cover about a tenth of land, unevenly"),
    "EN: EN: PSN: 4A": P(1_000_000, 500_000, "about 10 m2 of recreational facilities per inhabitant"),
    "EN: E: E: 1C": P(60, 15, "renewables are about 60 % of final energy use (hydro electricity)"),
    "EN: E: E: 2C": P(15_000, 7_000, "electricity use per inhabitant: ~8 MWh households, ~24 MWh with industry"),
    "EN: E: E: 3C": P(10, 4, "non-electric residential heating is small (electric heating dominates)"),
    "EN: E: E: 4A": P(180, 40, "public buildings use about 150–220 kWh/m2 a year"),
    # Society and Culture
    "SC: EH: ED: 1C": P(98, 2, "pupils almost all have their own device (1:1 programmes)"),
    "SC: EH: ED: 2C": P(98, 1.5, "school enrolment is near-universal"),
    "SC: EH: ED: 3C": P(30_000, 8_000, "about a third of adults have higher education"),
    "SC: EH: ED: 4C": P(99, 0.5, "adult literacy is near-universal"),
    "SC: EH: ED: 5A": P(98, 2, "electronic health records are standard"),
    "SC: EH: H: 1C": P(82.5, 1.2, "life expectancy at birth is about 83 years"),
    "SC: EH: H: 2C": P(3, 3, "maternal mortality is a few per 100 000 live births"),
    "SC: EH: H: 3C": P(450, 120, "about 500 physicians per 100 000 inhabitants nationally"),
    "SC: EH: H: 4A": P(300, 150, "hospital beds depend on whether the municipality hosts a hospital"),
    "SC: EH: H: 5A": P(99.8, 0.3, "public health insurance covers all residents"),
    "SC: EH: C: 1C": P(2, 1.5, "a few per cent of the municipal budget goes to culture"),
    "SC: EH: C: 2A": P(50, 30, "tens of cultural institutions per 100 000 inhabitants"),
    "SC: SH: HO: 1C": P(0.05, 0.05, "there are essentially no informal settlements"),
    "SC: SH: HO: 2A": P(25, 5, "households spend about a quarter of income on housing"),
    "SC: SH: SI: 1C": P(0.7, 0.05, "women earn about 70–75 % of men's income (gross income)"),
    "SC: SH: SI: 2C": P(0.25, 0.03, "Gini coefficient of household income is about 0.25"),
    "SC: SH: SI: 3C": P(10, 3, "about 10 % live in persistent low-income households"),
    "SC: SH: SI: 4C": P(65, 5, "turnout at the 2019 local elections was 64.7 %"),
    "SC: SH: SI: 5A": P(95, 3, "kindergarten coverage for ages 1–5 is above 90 %"),
    "SC: SH: SA: 1C": P(0.2, 0.5, "natural-disaster deaths are rare"),
    "SC: SH: SA: 2C": P(0.01, 0.01, "disaster losses are a tiny share of GDP"),
    "SC: SH: SA: 3A": P(0.5, 0, "resilience plans exist, but few follow the Sendai framework"),
    "SC: SH: SA: 4A": P(2, 2, "a few per cent live in flood, landslide or avalanche zones"),
    "SC: SH: SA: 5A": P(12, 4, "emergency response takes about 10–15 minutes, longer in rural areas"),
    "SC: SH: SA: 6C": P(150, 40, "about 180 police officers per 100 000 inhabitants nationally"),
    "SC: SH: SA: 7C": P(80, 30, "fire services: tens of FTE per 100 000 inhabitants"),
    "SC: SH: SA: 8C": P(600, 200, "reported violent crime is several hundred per 100 000"),
    "SC: SH: SA: 9C": P(2, 1.5, "about 2 road deaths per 100 000 inhabitants a year"),
    "SC: SH: FS: 1A": P(20, 15, "a minority of food is produced locally"),
}
"""Assumed centre and spread per data point (Norway, around 2020), used where nothing is published."""

UNIT_PRIORS: dict[str, Prior] = {
    catalogue.YES_NO_UNIT: P(0.5, 0, "no knowledge: Yes and No equally likely"),
    "index (0-1)": P(0.3, 0.1, "an index of inequality-like type, moderate"),
    "ratio": P(1.0, 0.2, "a ratio near parity"),
    "%": P(50, 25, "no knowledge: a wide spread around the middle of the range"),
}
"""Fallbacks by unit for a data point without a default; any other unit uses :data:`GENERIC_PRIOR`."""
GENERIC_PRIOR = P(1.0, 1.0, "no documented assumption: a wide log-normal around 1")
del P

COMPOSITIONS: dict[str, dict[str, float]] = {
    "solid waste treatment": {
        "EN: EN: WA: 1C/LANDFILL": 3.0, "EN: EN: WA: 1C/BURNT": 0.1,
        "EN: EN: WA: 1C/INCINERATED": 50.0, "EN: EN: WA: 1C/OPEN_DUMP": 0.05,
        "EN: EN: WA: 1C/RECYCLED": 40.0, "EN: EN: WA: 1C/OTHER": 6.85,
    },
    "transport mode share": {
        "EC: I: T: 4A/PRIVATE": 60.0, "EC: I: T: 4A/PUBLIC": 10.0, "EC: I: T: 4A/WALKING": 22.0,
        "EC: I: T: 4A/CYCLING": 5.0, "EC: I: T: 4A/PARA": 3.0,
    },
}
"""Groups of data points that sum to 100 %, with their assumed mean shares (each sums to 100).

A member's published median replaces its assumed share; the other members are rescaled to fill
the rest of 100 %.
"""
COMPOSITION_CONCENTRATION = {"solid waste treatment": 60.0, "transport mode share": 80.0}
"""Dirichlet concentration (sum of alphas): higher means municipalities differ less."""

LOADINGS: dict[str, tuple[float, float]] = {
    # (economy_ict, social), in the direction of the value (not of "better")
    "EC: ICT: ICT: 1C": (0.5, 0.0), "EC: ICT: ICT: 2C": (0.5, 0.0), "EC: ICT: ICT: 3C": (0.4, 0.0),
    "EC: ICT: ICT: 4C/3G": (0.5, 0.0), "EC: ICT: ICT: 4C/4G": (0.5, 0.0),
    "EC: ICT: ICT: 5C": (0.3, 0.0), "EC: ICT: WS: 1C": (0.4, 0.0), "EC: ICT: WS: 2A": (0.4, 0.0),
    "EC: ICT: D: 1A": (0.3, 0.0), "EC: ICT: ES: 1C": (0.3, 0.0), "EC: ICT: ES: 2A": (0.3, 0.0),
    "EC: ICT: T: 1C": (0.4, 0.0), "EC: ICT: T: 2C": (0.3, 0.0), "EC: ICT: T: 3A": (0.3, 0.0),
    "EC: ICT: PS: 1A/PCT": (0.4, 0.0), "EC: ICT: PS: 1A/NUM": (0.4, 0.0),
    "EC: ICT: PS: 2A": (0.4, 0.0), "EC: ICT: PS: 3A": (0.4, 0.0),
    "EC: P: IN: 1C": (0.6, 0.0), "EC: P: IN: 2C": (0.6, 0.0), "EC: P: EM: 4A": (0.6, 0.0),
    "EC: I: T: 8A": (0.5, 0.0), "SC: EH: ED: 1C": (0.3, 0.0), "SC: EH: ED: 3C": (0.5, 0.2),
    "EC: P: EM: 1C": (-0.5, -0.75), "EC: P: EM: 2C": (-0.5, -0.75),
    "SC: SH: SI: 3C": (-0.3, -0.6), "SC: SH: SI: 2C": (-0.2, -0.4), "SC: SH: SI: 1C": (0.0, 0.3),
    "SC: SH: SI: 4C": (0.2, 0.5), "SC: SH: SI: 5A": (0.0, 0.4), "SC: SH: SA: 8C": (0.0, -0.5),
    "SC: EH: H: 1C": (0.2, 0.5), "SC: SH: HO: 2A": (0.3, 0.0),
}
"""Loadings on :data:`FACTORS`; a data point not listed is independent of the others."""

_KIND_TEXT = {"logit": "logit-normal", "log": "log-normal", "binary": "latent-threshold Yes/No",
              "composition": "Dirichlet (sums to 100 %)"}


def source_text(seed: int) -> str:
    """The ``source`` of every simulated row drawn with ``seed``."""
    return f"simulated by analysis.simulate (seed={seed})"


def fictional_municipalities(n: int) -> list[str]:
    """``n`` clearly fictional names, 'Fictional municipality 1' … zero-padded to the width of ``n``."""
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    width = len(str(n))
    return [f"Fictional municipality {i:0{width}d}" for i in range(1, n + 1)]


def _kind(unit: str) -> str:
    if unit == catalogue.YES_NO_UNIT:
        return "binary"
    return "logit" if np.isfinite(observations.value_bounds(unit)[1]) else "log"


def _published_spread(values: np.ndarray) -> float:
    """Spread from a few published values: range / d_n (Tippett), sample SD beyond 10 values."""
    n = len(values)
    if n < 2:
        return np.nan
    if n > max(TIPPETT_D):
        return float(np.std(values, ddof=1))
    return float((values.max() - values.min()) / TIPPETT_D[n])


def assumptions(cat: pd.DataFrame | None = None,
                calibration: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per data point: the distribution, centre, spread and where they come from (for docs and tests).

    Columns: data_point_id, unit, direction, kind, centre, spread, basis ('published' or
    'default'), n_calibration, rationale, lo, hi, mu, s (the latent location and scale).
    Calibration uses the scored, non-simulated rows of ``calibration`` (median, range / d_n; a
    single published value is shrunk halfway towards the default, see the module docstring).
    """
    cat = catalogue.load() if cat is None else cat
    published: dict[str, np.ndarray] = {}
    if calibration is not None and not calibration.empty:
        usable = observations.scored(calibration)
        usable = usable[usable["source_type"] != SOURCE_TYPE]
        published = {dp: g["value"].to_numpy(float) for dp, g in usable.groupby("data_point_id")}
    rows = []
    for dp, unit, direction in zip(cat["data_point_id"], cat["unit"], cat["direction"]):
        kind = _kind(unit)
        prior = DEFAULT_PRIORS.get(dp, UNIT_PRIORS.get(unit, GENERIC_PRIOR))
        if unit.startswith("%") and dp not in DEFAULT_PRIORS:
            prior = UNIT_PRIORS["%"]
        values = published.get(dp, np.array([]))
        lo, hi = observations.value_bounds(unit)
        if len(values):
            if kind == "binary":
                centre, spread = (values.sum() + 1) / (len(values) + 2), 0.0
                rationale = f"Laplace's rule on {len(values)} published value(s)"
            elif len(values) == 1:
                w = 1 / (1 + PRIOR_PSEUDO_COUNT)
                centre, spread = w * float(values[0]) + (1 - w) * prior.centre, prior.spread
                rationale = (f"the one published value {values[0]:g} shrunk halfway (w = 1/(1 + "
                             f"{PRIOR_PSEUDO_COUNT})) towards the default {prior.centre:g}: "
                             f"{prior.rationale}")
            else:
                centre = float(np.median(values))
                spread = _published_spread(values)
                if not spread > 0:
                    spread = prior.spread
                rationale = f"median of {len(values)} published value(s)"
            basis = "published"
        else:
            centre, spread, basis, rationale = prior.centre, prior.spread, "default", prior.rationale
        if kind == "binary":
            mu, s = float(norm.ppf(1 - centre)), 1.0  # mu = the threshold on z
        elif kind == "logit":
            p = float(np.clip((centre - lo) / (hi - lo), LOGIT_EDGE, 1 - LOGIT_EDGE))
            mu = float(logit(p))
            s = float(np.clip(spread / ((hi - lo) * p * (1 - p)), MIN_LATENT_SD, MAX_LATENT_SD))
        else:
            c = max(centre, LOG_FLOOR)
            mu = float(np.log(c))
            s = float(np.clip(np.sqrt(np.log1p((spread / c) ** 2)), MIN_LATENT_SD, MAX_LATENT_SD))
        rows.append((dp, unit, direction, kind, centre, spread, basis, len(values), rationale,
                     lo, hi, mu, s))
    frame = pd.DataFrame(rows, columns=["data_point_id", "unit", "direction", "kind", "centre",
                                        "spread", "basis", "n_calibration", "rationale", "lo",
                                        "hi", "mu", "s"])
    member = {dp: g for g, members in COMPOSITIONS.items() for dp in members}
    frame.loc[frame["data_point_id"].isin(member), "kind"] = "composition"
    return frame


def _direction_sign(direction: pd.Series | np.ndarray) -> np.ndarray:
    d = np.asarray(direction)
    return np.where(d == "higher_is_better", 1.0, np.where(d == "lower_is_better", -1.0, 0.0))


def _latent_anchor(kind: str, a: float, lo: float, hi: float, mu: float, s: float) -> float:
    """The latent z whose value is ``a`` (for Yes/No: a margin beyond the threshold)."""
    if kind == "binary":
        return mu + (BINARY_ANCHOR_MARGIN if a >= 0.5 else -BINARY_ANCHOR_MARGIN)
    if kind == "logit":
        p = float(np.clip((a - lo) / (hi - lo), ANCHOR_EDGE, 1 - ANCHOR_EDGE))
        return (float(logit(p)) - mu) / s
    return (float(np.log(max(a, LOG_FLOOR))) - mu) / s


def _hundredths(shares: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Shares (…, K, Y) summing to 100, rounded to 2 decimals with the remainder in the largest free share."""
    cents = np.rint(shares * 100).astype(np.int64)
    remainder = 10_000 - cents.sum(axis=-2, keepdims=True)
    masked = np.where(free, shares, -np.inf)
    largest = masked.argmax(axis=-2)[..., None, :]
    np.put_along_axis(cents, largest, np.take_along_axis(cents, largest, axis=-2) + remainder,
                      axis=-2)
    return cents / 100


def _format(values: np.ndarray, binary: np.ndarray) -> np.ndarray:
    """Values (≥ 0, 2 decimals) as text '12.30', 'Yes'/'No' where ``binary``; each distinct value formatted once."""
    cents = np.rint(values * 100).astype(np.int64)
    key = np.where(binary, np.where(values >= 0.5, -2, -1), cents)
    codes, distinct = pd.factorize(key)
    text = np.array([("Yes" if c == -2 else "No") if c < 0 else f"{c // 100}.{c % 100:02d}"
                     for c in distinct.tolist()], dtype=object)
    return text[codes]


def _anchor_table(anchors: pd.DataFrame | None, names: list[str],
                  dps: np.ndarray) -> pd.DataFrame:
    """Latest scored anchor per (municipality index, data point index): columns m, d, year, value."""
    if anchors is None or anchors.empty:
        return pd.DataFrame({"m": [], "d": [], "year": [], "value": []})
    a = observations.scored(anchors)
    a = a.assign(municipality=a["municipality"].map(observations.normalise_name))
    m_index = {name: i for i, name in enumerate(names)}
    d_index = {dp: i for i, dp in enumerate(dps)}
    a = a[a["municipality"].isin(m_index) & a["data_point_id"].isin(d_index)]
    a = a.sort_values("year", kind="mergesort").groupby(
        ["municipality", "data_point_id"], sort=True).tail(1)
    return pd.DataFrame({"m": a["municipality"].map(m_index).to_numpy(int),
                         "d": a["data_point_id"].map(d_index).to_numpy(int),
                         "year": a["year"].to_numpy(int), "value": a["value"].to_numpy(float)})


def _simulate(municipalities: list[str], years: list[int], seed: int, cat: pd.DataFrame | None,
              calibration: pd.DataFrame | None, anchors: pd.DataFrame | None) -> pd.DataFrame:
    cat = catalogue.load() if cat is None else cat
    names = [observations.normalise_name(m) for m in municipalities]
    if len(set(names)) != len(names):
        raise ValueError("municipalities must be distinct")
    if len(set(years)) != len(years):
        raise ValueError("years must be distinct")
    # Valid by construction (observations.validate is a row loop, too slow for scale panels):
    # names non-empty and distinct, whole years from FIRST_YEAR to LAST_YEAR, units from the
    # registry, values clipped to value_bounds, status and source_type fixed.
    if any(not n for n in names):
        raise ValueError("municipality names must not be empty")
    bad = [y for y in years if not (float(y) == int(y) and FIRST_YEAR <= int(y) <= LAST_YEAR)]
    if bad:
        raise ValueError(f"years must be whole years between {FIRST_YEAR} and {LAST_YEAR}, got {bad}")
    names, yrs = sorted(names), np.array(sorted(int(y) for y in years), dtype=np.int64)
    spec = assumptions(cat, calibration).sort_values("data_point_id", kind="mergesort")
    spec = spec.reset_index(drop=True)
    dps = spec["data_point_id"].to_numpy()
    M, D, Y = len(names), len(dps), len(yrs)
    rng = np.random.default_rng(seed)

    kind = spec["kind"].to_numpy()
    binary = kind == "binary"
    lo, hi = spec["lo"].to_numpy(float), spec["hi"].to_numpy(float)
    mu, s = spec["mu"].to_numpy(float), spec["s"].to_numpy(float)
    sign = _direction_sign(spec["direction"])

    # Latent municipality factors and each data point's level in the reference year.
    load = np.array([LOADINGS.get(dp, (0.0, 0.0)) for dp in dps], dtype=float)
    own = np.sqrt(np.clip(1 - (load ** 2).sum(axis=1), 0, 1))
    factors = rng.standard_normal((M, len(FACTORS)))
    z = factors @ load.T + rng.standard_normal((M, D)) * own
    slope = TREND_MEAN * sign + TREND_SD * rng.standard_normal((M, D))
    slope = np.where(binary, np.abs(slope), slope)
    noise = YEAR_NOISE * rng.standard_normal((M, D, Y)) * ~binary[None, :, None]
    dt = (yrs - REFERENCE_YEAR)[None, None, :]
    zt = z[:, :, None] + slope[:, :, None] * dt + noise

    anchor = _anchor_table(anchors, names, dps)
    scalar = anchor[kind[anchor["d"].to_numpy(int)] != "composition"] if len(anchor) else anchor
    for row in scalar.itertuples(index=False):  # a few published cells, not the observations
        m, d, y0 = int(row.m), int(row.d), int(row.year)
        za = _latent_anchor(kind[d], row.value, lo[d], hi[d], mu[d], s[d])
        zt[m, d, :] = za + slope[m, d] * (yrs - y0) + noise[m, d, :] * (yrs != y0)

    with np.errstate(over="ignore"):
        values = np.where(kind[None, :, None] == "logit",
                          lo[None, :, None] + (np.where(np.isfinite(hi), hi, 1) - lo)[None, :, None]
                          * expit(mu[None, :, None] + s[None, :, None] * zt),
                          np.exp(mu[None, :, None] + s[None, :, None] * zt))
    values = np.where(binary[None, :, None], (zt > mu[None, :, None]).astype(float), values)

    d_index = {dp: i for i, dp in enumerate(dps)}
    for group in sorted(COMPOSITIONS):
        idx = np.array([d_index[dp] for dp in COMPOSITIONS[group] if dp in d_index], dtype=int)
        if len(idx) == 0:
            continue
        values[:, idx, :] = _composition(group, idx, spec, anchor, yrs, rng, M)

    values = np.clip(np.round(values, DECIMALS), lo[None, :, None], hi[None, :, None])
    values = values.reshape(-1)

    basis = np.where(spec["basis"] != "published", "centred on a documented default assumption",
                     np.where((spec["n_calibration"] == 1) & ~binary,
                              "centred halfway between the one published Norwegian value and a "
                              "documented default assumption",
                              "centred on the median of " + spec["n_calibration"].astype(str)
                              + " published Norwegian value(s)"))
    how = np.where(kind == "composition", "a yearly drift of the log shares",
                   "municipality factors and a yearly drift")
    notes = np.array([f"simulated value, not an observation: {_KIND_TEXT[k]} draw {b}, with {h} "
                      f"(analysis.simulate)" for k, b, h in zip(kind, basis, how)], dtype=object)
    notes = np.broadcast_to(notes[None, :], (M, D)).copy()
    for row in anchor.itertuples(index=False):
        notes[int(row.m), int(row.d)] += (f"; anchored on the published {int(row.year)} value "
                                          f"{row.value:g}")

    units = spec["unit"].to_numpy(dtype=object)
    frame = pd.DataFrame({
        "municipality": np.repeat(np.array(names, dtype=object), D * Y),
        **{c: pd.array([pd.NA] * (M * D * Y), dtype="string") for c in observations.NUMBER_COLUMNS},
        "data_point_id": np.tile(np.repeat(dps.astype(object), Y), M),
        "year": np.tile(yrs, M * D),
        "value": values,
        "value_text": _format(values, np.tile(np.repeat(binary, Y), M)),
        "unit": np.tile(np.repeat(units, Y), M),
        "status": STATUS,
        "source_type": SOURCE_TYPE,
        "source": source_text(seed),
        "note": np.repeat(notes.reshape(-1), Y),
    }, columns=list(observations.COLUMNS))
    return frame


def _composition(group: str, idx: np.ndarray, spec: pd.DataFrame, anchor: pd.DataFrame,
                 yrs: np.ndarray, rng: np.random.Generator, M: int) -> np.ndarray:
    """Shares (M, K, Y) of one compositional group, each municipality-year summing to exactly 100."""
    members = spec.iloc[idx]
    mean = np.array([COMPOSITIONS[group][dp] for dp in members["data_point_id"]], dtype=float)
    calibrated = (members["basis"] == "published").to_numpy()
    if calibrated.any():
        fixed = np.clip(members["centre"].to_numpy(float)[calibrated], 0.1, None)
        rest = 100 - fixed.sum()
        if rest > 0 and (~calibrated).any():
            mean[calibrated] = fixed
            mean[~calibrated] *= rest / mean[~calibrated].sum()
    alpha = COMPOSITION_CONCENTRATION[group] * mean / mean.sum()
    K, Y = len(idx), len(yrs)
    base = np.clip(rng.dirichlet(alpha, size=M), 1e-9, None)
    sign = _direction_sign(members["direction"])
    slope = COMPOSITION_TREND * sign + COMPOSITION_TREND_SD * rng.standard_normal((M, K))
    noise = COMPOSITION_NOISE * rng.standard_normal((M, K, Y))
    dt = (yrs - REFERENCE_YEAR)[None, None, :]
    log_share = np.log(base)[:, :, None] + slope[:, :, None] * dt + noise
    shares = np.exp(log_share - log_share.max(axis=1, keepdims=True))
    shares = 100 * shares / shares.sum(axis=1, keepdims=True)

    free = np.ones((M, K, Y), dtype=bool)
    position = {int(d): k for k, d in enumerate(idx)}
    mine = anchor[anchor["d"].isin(position)] if len(anchor) else anchor
    for m, rows in (mine.groupby("m") if len(mine) else []):
        m = int(m)
        held = np.zeros((K, Y))
        mask = np.zeros(K, dtype=bool)
        for row in rows.itertuples(index=False):
            k, y0 = position[int(row.d)], int(row.year)
            held[k] = np.clip(row.value * np.exp(slope[m, k] * (yrs - y0)
                                                 + noise[m, k] * (yrs != y0)), 0, 100)
            held[k, yrs == y0] = row.value
            mask[k] = True
        total = held.sum(axis=0)
        if mask.all() or (total > 100).any():
            continue  # inconsistent or complete anchors: leave the draw as it is
        others = shares[m][~mask]
        shares[m][~mask] = others * (100 - total) / others.sum(axis=0)
        shares[m][mask] = held[mask]
        free[m][mask] = False
    return _hundredths(shares, free)


def simulate(municipalities: list[str], years: list[int], seed: int,
             cat: pd.DataFrame | None = None,
             calibration: pd.DataFrame | None = None) -> pd.DataFrame:
    """Simulated tidy observations of every registry data point for each municipality and year.

    ``calibration`` (e.g. the published observations) centres each data point on its published
    median; without it, or where a data point has no published value, the documented defaults
    (:data:`DEFAULT_PRIORS`) apply. Rows come in canonical order (municipality, data point, year);
    the same arguments give an identical frame. See the module docstring for the model.
    """
    return _simulate(municipalities, years, seed, cat, calibration, anchors=None)


def demonstration_panel(published: pd.DataFrame, municipalities: list[str], years: list[int],
                        seed: int, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Published rows unchanged, every other (municipality, data point, year) cell simulated.

    A published row of any status wins its cell, ``not_reported`` included (the city said it has
    no value, so none is invented). Every published row of the requested municipalities is kept,
    whatever its year: ``years`` only decides which cells are simulated (``years=[2018, 2019]``
    gives simulated 2018–2019 plus the published 2020 rows, never a panel that silently loses
    the data). Published rows of other municipalities are left out. Simulated cells are
    calibrated on ``published`` and anchored on a municipality's own published value of the data
    point, so its simulated years lead into the published one.
    """
    names = {observations.normalise_name(m) for m in municipalities}
    pub = published[published["municipality"].map(observations.normalise_name).isin(names)]
    sim = _simulate(municipalities, years, seed, cat, calibration=published, anchors=published)
    key = ["municipality", "data_point_id", "year"]
    taken = pd.MultiIndex.from_frame(pub[key].assign(
        municipality=pub["municipality"].map(observations.normalise_name)))
    sim = sim[~pd.MultiIndex.from_frame(sim[key]).isin(taken)]
    frames = [f for f in (pub, sim) if not f.empty]
    if not frames:
        return sim.reset_index(drop=True)
    return observations.tidy(pd.concat(frames, ignore_index=True))


def scale_panel(n: int, years: list[int], seed: int, cat: pd.DataFrame | None = None,
                calibration: pd.DataFrame | None = None) -> pd.DataFrame:
    """A simulated panel of ``n`` fictional municipalities (for scale and performance tests)."""
    return simulate(fictional_municipalities(n), years, seed, cat, calibration)


MIX_COLUMNS = {"published": "n_published", "city-supplied": "n_city_supplied",
               "national_statistics": "n_national_statistics", "simulated": "n_simulated"}
"""The count column of each source type in :func:`mix_counts` and a profile's provenance."""


def mix_counts(observations_frame: pd.DataFrame) -> pd.DataFrame:
    """Per municipality: scored values by source type and the share simulated.

    Columns: municipality, n_published, n_city_supplied, n_national_statistics, n_simulated, n_scored,
    share_simulated (NaN when the municipality has no scored value). A municipality with rows but
    no scored value is listed with zeros.
    """
    frame = observations_frame
    unknown = set(frame["source_type"].dropna().unique()) - set(observations.SOURCE_TYPES)
    if unknown:
        raise ValueError(f"unknown source_type {sorted(unknown)}; expected one of "
                         f"{list(observations.SOURCE_TYPES)}")
    scored = observations.scored(frame)
    names = sorted(frame["municipality"].dropna().unique())
    types = list(observations.SOURCE_TYPES)
    # one bincount over (municipality, source type) codes: linear in rows (1.7M rows in well under 1 s)
    m = pd.Categorical(scored["municipality"], categories=names).codes.astype(np.int64)
    t = pd.Categorical(scored["source_type"], categories=types).codes.astype(np.int64)
    ok = (m >= 0) & (t >= 0)
    counts = np.bincount(m[ok] * len(types) + t[ok], minlength=len(names) * len(types))
    counts = counts.reshape(len(names), len(types)).astype(np.int64)
    out = pd.DataFrame({"municipality": np.array(names, dtype=object),
                        **{MIX_COLUMNS[s]: counts[:, types.index(s)] for s in types}})
    out["n_scored"] = out[[MIX_COLUMNS[s] for s in types]].sum(axis=1)
    out["share_simulated"] = out["n_simulated"] / out["n_scored"].where(out["n_scored"] > 0)
    return out


def is_mostly_simulated(n_real: int, n_simulated: int, threshold: float = 0.5) -> bool:
    """Whether more than ``threshold`` of a set of values is simulated: the rule behind every 'mostly simulated' label."""
    total = n_real + n_simulated
    return bool(total > 0 and n_simulated / total > threshold)


def select(observations_frame: pd.DataFrame, include_simulated: bool) -> pd.DataFrame:
    """The one switch for simulated data: all rows, or published and city-supplied rows only."""
    frame = observations_frame
    unknown = set(frame["source_type"].dropna().unique()) - set(observations.SOURCE_TYPES)
    if unknown or frame["source_type"].isna().any():
        raise ValueError(f"rows with unknown or missing source_type {sorted(unknown)}; "
                         f"expected one of {list(observations.SOURCE_TYPES)}")
    if include_simulated:
        return frame.reset_index(drop=True)
    return frame[frame["source_type"] != SOURCE_TYPE].reset_index(drop=True)
