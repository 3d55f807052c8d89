"""Self-checks for the tutorial's exercises: each compares a student's answer with the package's own result.

A check returns a ``Check`` that says right or wrong and why, shown as a coloured box in a
notebook (``_repr_html_``) and as one line in plain text. An unanswered exercise (``answer is
None``) says how to answer and keeps the reference answer folded away; with ``solutions=True``
(the golden notebook) the reference answer is checked instead, so the notebook stays deterministic
and proves that every exercise can be solved.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis import scoring

U4SSC_SCORE = "u4ssc_score"
SCORES = {
    "u4ssc_score": "Σ points / (4 × data points scored), the score U4SSC reports for a category or dimension",
    "mean_achievement": "the mean achievement of target, this project's continuous score beside it (SDSN's mean)",
    "index": "the overall index, this project's weighted mean of the three dimensions; U4SSC has no overall index",
}
"""The 0–100 scores the tutorial shows and where each comes from."""


@dataclass(frozen=True)
class Check:
    """The verdict on one answer: ``right`` is None while the exercise is unanswered."""

    exercise: str
    answer: Any
    expected: Any
    right: bool | None
    because: str
    reference: bool = False
    """True when the answer checked is the reference answer (``solutions=True``), not the student's."""

    def __bool__(self) -> bool:
        return bool(self.right)

    @property
    def verdict(self) -> str:
        if self.right is None:
            return "Not answered yet"
        return "Right" if self.right else "Wrong"

    def __str__(self) -> str:
        if self.right is None:
            return f"{self.exercise}: not answered yet. Set `answer` and run the cell again."
        who = "reference answer" if self.reference else "your answer"
        return f"{self.exercise}: {self.verdict.lower()} ({who} {_show(self.answer)}), because {self.because}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {None: "#f3f3f3", True: "#e3f4e1", False: "#fbe3e1"}[self.right]
        title = html.escape(f"{self.exercise}: {self.verdict}")
        if self.right is None:
            body = ("Set <code>answer</code> in this exercise's cell and run it (open <code>notebooks/tutorial.py</code> "
                    "in JupyterLab: <code>make lab</code>)."
                    f"<details><summary>Show the answer</summary>{html.escape(_show(self.expected))}: "
                    f"{html.escape(self.because)}</details>")
        else:
            who = "Reference answer" if self.reference else "Your answer"
            body = f"{who}: <code>{html.escape(_show(self.answer))}</code>. Because {html.escape(self.because)}"
        return (f'<div class="u4ssc-check" style="background:{colour};padding:.5rem .8rem;border-radius:4px">'
                f"<strong>{title}</strong><br>{body}</div>")


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)


def _resolve(answer: Any, expected: Any, solutions: bool) -> tuple[Any, bool]:
    """The answer to check: the student's, or the reference answer when unanswered and ``solutions``."""
    if answer is None and solutions:
        return expected, True
    return answer, False


def _unanswered(exercise: str, expected: Any, because: str) -> Check:
    return Check(exercise, None, expected, None, because)


def _number(answer: Any) -> float | None:
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def normalise_band(answer: Any) -> str | None:
    """A band written loosely ("66-95", "66–95 %", 3 for three points) as the U4SSC label, or None."""
    if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool) and 1 <= int(answer) <= 4:
        return scoring.BAND_LABELS[int(answer) - 1]
    if not isinstance(answer, str):
        return None
    text = re.sub(r"[\s%]", "", answer).replace("-", "–")
    for label in scoring.BAND_LABELS:
        if text == re.sub(r"[\s%]", "", label):
            return label
    return None


def check_band(answer: Any, achievement: float, solutions: bool = False) -> Check:
    """Exercise: the U4SSC band of a data point with ``achievement`` % (``analysis.scoring.band``)."""
    expected = str(scoring.band([achievement])[0])
    points = int(scoring.points([achievement])[0])
    because = (f"{achievement:.1f} % lies in {expected}, worth {points} point{'s' if points > 1 else ''}: the "
               f"bands start at {', '.join(f'{e:g}' for e in scoring.BAND_EDGES)} % and an edge belongs to "
               "the band above it")
    answer, reference = _resolve(answer, expected, solutions)
    if answer is None:
        return _unanswered("Predict the band", expected, because)
    given = normalise_band(answer)
    if given is None:
        return Check("Predict the band", answer, expected, False,
                        f"{answer!r} is not a band; write one of {list(scoring.BAND_LABELS)}. The answer: {because}",
                        reference)
    return Check("Predict the band", answer, expected, given == expected, because, reference)


def check_category_score(answer: Any, points: Sequence[float], solutions: bool = False) -> Check:
    """Exercise: the U4SSC score of a group with these data point ``points`` (Σ points / 4n, missing dropped)."""
    scored = [float(p) for p in points if p is not None and not math.isnan(float(p))]
    expected = 100.0 * sum(scored) / (4 * len(scored))
    because = (f"({' + '.join(f'{p:.0f}' for p in scored)}) / (4 × {len(scored)}) = {expected:.1f} %; a data point "
               "without points drops out of the denominator")
    answer, reference = _resolve(answer, expected, solutions)
    if answer is None:
        return _unanswered("Score a category", expected, because)
    value = _number(answer)
    right = value is not None and abs(value - expected) <= 0.5
    if value is not None and not right and abs(value - expected * 4 / 100) < 0.05:
        because = f"that is the mean number of points; the score divides by the maximum, 4: {because}"
    return Check("Score a category", answer, expected, right, because, reference)


def check_target_change(answer: Any, value: float, direction: str, old: tuple[float, float],
                        new: tuple[float, float], solutions: bool = False) -> Check:
    """Exercise: the achievement of ``value`` after a change of target set; ``old`` and ``new`` are (target, worst).

    Computed with ``analysis.scoring.achievement`` and capped to 0–100, as the assessment does.
    """
    def raw(goalposts: tuple[float, float]) -> float:
        return float(scoring.achievement([value], [goalposts[0]], [goalposts[1]], [direction])[0])

    before, uncapped = float(np.clip(raw(old), 0.0, 100.0)), raw(new)
    expected = float(np.clip(uncapped, 0.0, 100.0))
    move = "rises" if expected > before else "falls" if expected < before else "stays"
    (t0, w0), (t1, w1) = old, new
    capped = f", capped to {expected:.1f} %" if not math.isclose(uncapped, expected) else ""
    because = (f"100 · ({value:g} − {w1:g}) / ({t1:g} − {w1:g}) = {uncapped:.1f} %{capped}: the "
               f"goalposts move from target {t0:g} and worst {w0:g} to target {t1:g} and worst {w1:g}, so the "
               f"same value {move} from {before:.1f} % to {expected:.1f} %")
    answer, reference = _resolve(answer, expected, solutions)
    if answer is None:
        return _unanswered("Change the target set", expected, because)
    given = _number(answer)
    right = given is not None and abs(given - expected) <= 0.5
    return Check("Change the target set", answer, expected, right, because, reference)


def check_minmax(answer: Any, values: Sequence[float], own: float, lower_is_better: bool,
                 solutions: bool = False) -> Check:
    """Exercise: the min-max score (0 = worst, 100 = best in the panel) of the value ``own`` among ``values``."""
    finite = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    lo, hi = min(finite), max(finite)
    best, worst = (lo, hi) if lower_is_better else (hi, lo)
    expected = 100.0 * (own - worst) / (best - worst)
    because = (f"min-max puts the panel's worst value ({worst:g}) at 0 and its best ({best:g}) at 100: "
               f"100 · ({own:g} − {worst:g}) / ({best:g} − {worst:g}) = {expected:.1f}; the targets play no part")
    answer, reference = _resolve(answer, expected, solutions)
    if answer is None:
        return _unanswered("Switch the normalisation", expected, because)
    given = _number(answer)
    right = given is not None and abs(given - expected) <= 0.5
    if given is not None and not right and abs(given - (100.0 - expected)) <= 0.5:
        because = f"the direction is reversed: {'lower' if lower_is_better else 'higher'} is better here; {because}"
    return Check("Switch the normalisation", answer, expected, right, because, reference)


def check_rank_band(answer: Any, bands: Any, municipality: str, solutions: bool = False) -> Check:
    """Exercise: a municipality's 5th–95th percentile rank band from ``monte_carlo_ranks`` (answer: (low, high))."""
    row = bands[bands["municipality"] == municipality].iloc[0]
    expected = (int(row["p5_rank"]), int(row["p95_rank"]))
    width = expected[1] - expected[0]
    because = (f"{municipality} ranks {int(row['nominal_rank'])} with the nominal choices, but in 90 % of the draws "
               f"between {expected[0]} and {expected[1]}: a band {width} place{'s' if width != 1 else ''} wide, so "
               "any municipality whose band overlaps it cannot be said to rank above or below it")
    answer, reference = _resolve(answer, expected, solutions)
    if answer is None:
        return _unanswered("Read a rank band", expected, because)
    try:
        given = tuple(int(x) for x in answer)
    except (TypeError, ValueError):
        given = None
    right = given is not None and len(given) == 2 and given == expected
    return Check("Read a rank band", answer, expected, right, because, reference)


def check_u4ssc_score(answer: Any, solutions: bool = False) -> Check:
    """Exercise: which of the tutorial's 0–100 scores U4SSC itself reports (a column name of the score tables)."""
    expected = U4SSC_SCORE
    because = "; ".join(f"{name} is {text}" for name, text in SCORES.items())
    answer, reference = _resolve(answer, expected, solutions)
    if answer is None:
        return _unanswered("Which score does U4SSC report?", expected, because)
    given = str(answer).strip().casefold().replace(" ", "_")
    return Check("Which score does U4SSC report?", answer, expected, given == expected, because, reference)


# --- the alternatives shown beside each step ------------------------------------------------------

def normalisation_alternatives(scored: pd.DataFrame, data_point_id: str) -> pd.DataFrame:
    """One data point across the panel under the three normalisations of ``analysis.uncertainty``.

    goalposts: achievement of target (U4SSC's percentage, capped); minmax: 0 for the panel's worst
    and 100 for its best value; rank: the panel rank scaled to 0–100. Only the first uses targets.
    """
    from analysis import uncertainty

    rows = scored[(scored["data_point_id"] == data_point_id) & scored["achievement_raw"].notna()]
    rows = rows.sort_values("municipality", kind="mergesort")
    capped = rows["achievement"].to_numpy(dtype=float)[:, None]
    raw = rows["achievement_raw"].to_numpy(dtype=float)[:, None]
    out = rows[["municipality", "value", "source_type"]].reset_index(drop=True)
    for method in uncertainty.CHOICES["normalisation"]:
        out[method] = uncertainty.normalise_matrix(capped, raw, method)[:, 0]
    return out.sort_values(["goalposts", "municipality"], ascending=[False, True], kind="mergesort").reset_index(drop=True)


def aggregation_alternatives(scored: pd.DataFrame, municipality: str) -> pd.DataFrame:
    """A municipality's dimension scores three ways: U4SSC's Σ points / 4n, the arithmetic and the geometric mean.

    The geometric mean (floor ``analysis.uncertainty.GEOMETRIC_FLOOR`` so a 0 % does not zero it) is
    the Monte Carlo's alternative aggregation: one weak data point pulls it down more than the mean.
    """
    from scipy import stats

    from analysis import uncertainty

    own = scored[(scored["municipality"] == municipality) & scored["points"].notna()]
    rows = []
    for dimension, group in own.groupby("dimension", sort=True):
        achieved = group["achievement"].to_numpy(dtype=float)
        rows.append({"dimension": dimension, "n_scored": len(group),
                     "u4ssc_score": 100.0 * group["points"].sum() / (4 * len(group)),
                     "arithmetic_mean": achieved.mean(),
                     "geometric_mean": stats.gmean(np.clip(achieved, uncertainty.GEOMETRIC_FLOOR, None))})
    return pd.DataFrame(rows)
