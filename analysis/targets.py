"""Targets and goalposts per data point: cited values from ``data/raw/targets.csv`` or values derived by rule.

U4SSC does not publish its target values; these are the project's own (docs/targets.md).
A target set other than ``default`` overrides only the data points it lists. A city's own set
(``source_class`` ``city``) works like a goal on NTNU's Trondheim dashboard: ``worst`` is the
"start range" scored 0, and the optional ``baseline_year`` and ``deadline`` say from which year
progress is measured and by when the target is to be reached (used by ``analysis.trends``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import catalogue, paths
from analysis.errors import InputError

if TYPE_CHECKING:
    import pandera.pandas as pa

COLUMNS = ("target_set", "data_point_id", "target", "worst", "rule", "source_class", "rationale", "source",
           "worst_rule", "worst_source")
YEAR_COLUMNS = ("baseline_year", "deadline")
"""Optional columns (whole years, may be empty); a file without them reads as all empty."""
SOURCE_CLASSES = ("u4ssc", "sdg_universal", "international", "national", "city", "peer_rule")
RULE = re.compile(r"^best_peers_mean:([1-9]\d*)$")
DEFAULT_SET = "default"
LOW_PERCENTILE, HIGH_PERCENTILE = 2.5, 97.5
"""SDSN's lower bound: the 2.5th percentile of the panel (97.5th when lower is better)."""
MIN_PERCENTILE_VALUES = 3
"""The fewest panel values a percentile worst is taken from."""
WORST_RULES = ("zero", "percentile", "reference")
"""How ``worst`` is obtained (docs/targets.md): ``zero``, the natural bound 0 of a higher-is-better ratio
scale (U4SSC's "performance as a percentage of the target"; never for lower-is-better); ``percentile``,
SDSN's 2.5th/97.5th percentile of the run's panel; ``reference``, a sourced value in ``worst``."""
GOALPOST_RULES = ("documented", "percentile")
"""Goalpost rules for the whole selection (varied by analysis.uncertainty): ``documented``, each data point's
own ``worst_rule``; ``percentile``, SDSN's percentile worst for every data point. ``zero`` for all is no
alternative (it is already the rule of every higher-is-better ratio scale and is no worst for lower-is-better
ones), nor is ``reference`` (a sourced worst exists only where a target set gives one)."""


def schema(cat: pd.DataFrame) -> "pa.DataFrameSchema":
    """The target table's pandera schema against the registry ``cat`` (every rule of docs/targets.md)."""
    import pandera.pandas as pa

    from analysis.validation import check, is_blank, known, number, one_of, row_check, text, year

    direction = cat.set_index("data_point_id")["direction"].to_dict()

    def num(s: pd.Series) -> pd.Series:
        return pd.to_numeric(s, errors="coerce")

    def has_rule(d: pd.DataFrame) -> pd.Series:
        return ~is_blank(d["rule"])

    def deadline_after_baseline(d: pd.DataFrame) -> pd.Series:
        if "baseline_year" not in d or "deadline" not in d:
            return pd.Series(True, index=d.index)
        return ~(num(d["deadline"]) <= num(d["baseline_year"])).fillna(False)

    def rule_is(d: pd.DataFrame, rule: str) -> pd.Series:
        return d["worst_rule"].eq(rule).fillna(False)

    worst = lambda d: num(d["worst"])  # noqa: E731 (text that is no number is the number check's)
    return pa.DataFrameSchema({
        "target_set": text(),
        "data_point_id": known(cat["data_point_id"], "data point id", paths.CATALOGUE.name),
        "target": number(required=False), "worst": number(required=False),
        "rule": text(required=False, checks=[check(lambda s: s.str.match(RULE.pattern),
                                                   "expected 'best_peers_mean:<k>' with k a whole number from 1")]),
        "source_class": one_of(SOURCE_CLASSES),
        "rationale": text(required=False), "source": text(required=False),
        "worst_rule": one_of(WORST_RULES), "worst_source": text(required=False),
        **{c: year(required=False, optional_column=True) for c in YEAR_COLUMNS},
    }, checks=[
        row_check(deadline_after_baseline, "the deadline must be after baseline_year", "deadline"),
        row_check(lambda d: has_rule(d) != d["target"].notna(),
                  "give either a cited target or a rule, not both or neither", "target"),
        row_check(lambda d: has_rule(d) | ~is_blank(d["source"]), "a cited target needs a source", "source"),
        row_check(lambda d: ~(rule_is(d, "zero") & d["data_point_id"].map(direction).eq("lower_is_better")),
                  "'zero' is not a worst for a lower-is-better data point (0 is its best end); use 'percentile' "
                  "or a sourced 'reference'", "worst_rule"),
        row_check(lambda d: ~(rule_is(d, "zero") & (d["worst"].isna() | (worst(d).notna() & worst(d).ne(0)))),
                  "the rule 'zero' needs worst 0", "worst"),
        row_check(lambda d: ~(rule_is(d, "percentile") & worst(d).notna()),
                  "the rule 'percentile' takes worst from the panel, leave it empty", "worst"),
        row_check(lambda d: ~(rule_is(d, "reference") & d["worst"].isna()),
                  "empty; the rule 'reference' needs a worst value", "worst"),
        row_check(lambda d: ~(rule_is(d, "reference") & is_blank(d["worst_source"])),
                  "empty; a reference worst needs its source", "worst_source"),
    ], unique=["target_set", "data_point_id"], report_duplicates="exclude_first")


def load(path: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and validate every target set (:func:`schema`, every problem at once); numbers and years typed."""
    from analysis import validation

    path = Path(path or paths.TARGETS)
    cat = catalogue.load() if cat is None else cat
    frame = validation.read_checked(path, schema(cat))
    for column in YEAR_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan
    frame["target"] = pd.to_numeric(frame["target"])
    frame["worst"] = pd.to_numeric(frame["worst"])
    for column in YEAR_COLUMNS:
        frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    return frame


def target_sets(targets: pd.DataFrame) -> list[str]:
    """The names of the available target sets."""
    return sorted(targets["target_set"].unique())


def select(targets: pd.DataFrame, target_set: str = DEFAULT_SET) -> pd.DataFrame:
    """One row per data point: the chosen set's target where it has one, else the default set's."""
    if target_set not in set(targets["target_set"]):
        raise InputError.single(paths.TARGETS.name, f"unknown target set '{target_set}'; "
                                                    f"expected one of {target_sets(targets)}", column="target_set")
    base = targets[targets["target_set"] == DEFAULT_SET].set_index("data_point_id")
    chosen = targets[targets["target_set"] == target_set].set_index("data_point_id")
    merged = pd.concat([chosen, base[~base.index.isin(chosen.index)]]).sort_index()
    return merged.reset_index()


def with_goalpost_rule(selected: pd.DataFrame, rule: str = GOALPOST_RULES[0]) -> pd.DataFrame:
    """The selection under one of :data:`GOALPOST_RULES`: as documented, or every worst from the panel's percentile."""
    if rule not in GOALPOST_RULES:
        raise ValueError(f"unknown goalpost rule '{rule}'; expected one of {list(GOALPOST_RULES)}")
    if rule == "documented":
        return selected
    return selected.assign(worst_rule="percentile", worst=np.nan)


def goalposts(selected: pd.DataFrame, panel_values: pd.DataFrame, cat: pd.DataFrame) -> pd.DataFrame:
    """Per data point the target and worst value actually used, each with how it was obtained.

    ``panel_values`` holds the peer panel's baseline values (columns data_point_id, value).
    The set's name, ``baseline_year`` and ``deadline`` are carried through for ``analysis.trends``.
    A rule ``best_peers_mean:k`` needs at least k municipalities reporting; otherwise the data point
    has no target and drops out of the scores, as U4SSC drops data points without a benchmark.
    The worst follows the row's ``worst_rule`` (:func:`percentile_worst` for ``percentile``).
    When the worst does not lie beyond the target because every panel value meets the target,
    ``all_meet_target`` is set and those values score 100 % (``scoring.score_data_points``).
    """
    info = cat.set_index("data_point_id")[["direction", "unit"]]
    gp = selected.set_index("data_point_id").join(info, how="inner")
    if "worst_rule" not in gp:  # a selection built by hand: a given worst is a reference, else the percentile
        gp["worst_rule"] = np.where(gp["worst"].notna(), "reference", "percentile")
    values_of = {dp: frame for dp, frame in panel_values.groupby("data_point_id")}
    simulated = panel_values["source_type"].eq("simulated") if "source_type" in panel_values.columns else \
        pd.Series(False, index=panel_values.index)
    n = panel_values.groupby("data_point_id").size().reindex(gp.index).fillna(0).astype(int)
    n_sim = simulated.groupby(panel_values["data_point_id"]).sum().reindex(gp.index).fillna(0).astype(int)
    k = gp["rule"].str.extract(RULE, expand=False).astype(float)
    rows = []
    for dp, row in gp.iterrows():
        panel = values_of.get(dp)
        values = panel["value"].to_numpy(dtype=float) if panel is not None else np.array([])
        sims = simulated[panel.index].to_numpy() if panel is not None else np.array([], dtype=bool)
        target, target_origin, target_sim = row["target"], "cited" if pd.notna(row["target"]) else "", 0
        if pd.notna(k[dp]):
            target, target_origin, target_sim = _peer_target(values, sims, int(k[dp]), row["direction"])
        worst, worst_origin, from_panel, all_meet = _worst(row, target, values)
        worst_sim = int(n_sim[dp]) if from_panel and pd.notna(worst) else 0
        if worst_sim:
            worst_origin += f", from {worst_sim} simulated of {int(n[dp])} values"
        rows.append((dp, target, target_origin, target_sim, worst, worst_origin, worst_sim, all_meet))
    parts = pd.DataFrame(rows, columns=["data_point_id", "target", "target_origin", "target_simulated", "worst",
                                        "worst_origin", "worst_simulated", "all_meet_target"]).set_index("data_point_id")
    out = pd.DataFrame({
        "data_point_id": gp.index,
        "direction": gp["direction"],
        "target": parts["target"].astype(float),
        "worst": parts["worst"].astype(float),
        "target_origin": parts["target_origin"],
        "goalposts_from_simulated": (parts["target_simulated"] > 0) | (parts["worst_simulated"] > 0),
        "worst_rule": gp["worst_rule"],
        "worst_origin": parts["worst_origin"].replace("", "missing"),
        "all_meet_target": parts["all_meet_target"].astype(bool),
        "source_class": gp["source_class"],
        "target_source": gp["source"],
        "n_panel": n,
        "target_set": gp["target_set"] if "target_set" in gp else DEFAULT_SET,
        "baseline_year": _year_column(gp, "baseline_year"),
        "deadline": _year_column(gp, "deadline"),
    }).reset_index(drop=True)
    out["has_goalposts"] = out["target"].notna() & (out["worst"].notna() | out["all_meet_target"])
    return out


def _peer_target(values: np.ndarray, sims: np.ndarray, k: int, direction: str) -> tuple[float, str, int]:
    """The rule ``best_peers_mean:k``: the mean of the k best values, its origin text and how many are simulated."""
    if len(values) < k:
        return np.nan, f"no target: rule needs {k} peers, {len(values)} report", 0
    order = np.argsort(values if direction == "lower_is_better" else -values, kind="mergesort")[:k]
    n_sim = int(sims[order].sum())
    note = f", {n_sim} of them simulated" if n_sim else ""
    return float(values[order].mean()), f"mean of best {k} of {len(values)} peers{note}", n_sim


def beyond(worst: float, target: float, direction: str) -> bool:
    """Whether ``worst`` lies on the bad side of ``target`` (so the goalposts span a scale)."""
    if direction == "lower_is_better":
        return worst > target
    return worst < target


def meets(values: np.ndarray, target: float, direction: str) -> np.ndarray:
    """Which values meet the target exactly or better (the band: equal to it)."""
    if direction == "lower_is_better":
        return values <= target
    if direction == "target_band":
        return values == target
    return values >= target


def percentile_worst(values: np.ndarray, target: float, direction: str) -> tuple[float, str]:
    """SDSN's worst from the panel: the 2.5th percentile (97.5th when lower is better) of at least three values.

    For a target band it is the target minus the 97.5th percentile of the distances from the target.
    If that bound is not beyond the target (at most 2.5 % of values miss it), the panel's worst
    value is used instead; if that is not beyond either, every value meets the target: NaN.
    """
    if len(values) < MIN_PERCENTILE_VALUES:
        return np.nan, f"no worst: the percentile needs {MIN_PERCENTILE_VALUES} values, {len(values)} report"
    if direction == "target_band":
        distance = np.abs(values - target)
        q, extreme = np.percentile(distance, HIGH_PERCENTILE), distance.max()
        candidates = ((target - q, f"target − {HIGH_PERCENTILE:g}th percentile of distances"),
                      (target - extreme, "target − largest distance in the panel"))
    elif direction == "lower_is_better":
        candidates = ((np.percentile(values, HIGH_PERCENTILE), f"panel {HIGH_PERCENTILE:g}th percentile"),
                      (values.max(), "panel's worst value (the percentile meets the target)"))
    else:
        candidates = ((np.percentile(values, LOW_PERCENTILE), f"panel {LOW_PERCENTILE:g}th percentile"),
                      (values.min(), "panel's worst value (the percentile meets the target)"))
    for worst, origin in candidates:
        if beyond(float(worst), target, "higher_is_better" if direction == "target_band" else direction):
            return float(worst), origin
    return np.nan, "every panel value meets the target"


def _worst(row: pd.Series, target: float, values: np.ndarray) -> tuple[float, str, bool, bool]:
    """The worst by the row's rule: value, origin, whether it came from the panel, and whether all meet the target."""
    direction, rule = row["direction"], row["worst_rule"]
    if pd.isna(target) or direction == "descriptive":
        return (np.nan, "no target", False, False) if pd.isna(target) else (np.nan, "descriptive", False, False)
    if rule == "percentile":
        worst, origin = percentile_worst(values, target, direction)
        all_meet = pd.isna(worst) and origin == "every panel value meets the target"
        return worst, origin, True, all_meet
    worst = float(row["worst"])
    origin = "natural bound 0" if rule == "zero" else "reference"
    if beyond(worst, target, "higher_is_better" if direction == "target_band" else direction) or \
            (direction == "target_band" and worst != target):
        return worst, origin, False, False
    if len(values) and meets(values, target, direction).all():
        return np.nan, "every panel value meets the target", False, True
    return np.nan, f"no spread: the {origin} worst {worst:g} is not beyond the target {target:g}", False, False


def _year_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A year column as nullable integers (all empty when the selection has no such column)."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    return pd.to_numeric(frame[column]).astype("Int64")


RULE_TABLE_START = "<!-- worst-rule table: generated by analysis.targets.rule_table, checked by tests/test_targets.py -->"
RULE_TABLE_END = "<!-- end of worst-rule table -->"


def rule_table(targets: pd.DataFrame, cat: pd.DataFrame, target_set: str = DEFAULT_SET) -> str:
    """The target and worst rule of every data point of a set as a Markdown table (for docs/targets.md)."""
    info = cat.set_index("data_point_id")[["data_point_name", "direction", "unit"]]
    rows = select(targets, target_set).set_index("data_point_id").join(info, how="inner")
    rows = rows.loc[[d for d in cat["data_point_id"] if d in rows.index]]
    lines = ["| data point | name | direction | unit | target | worst rule | worst |", "|---|---|---|---|---|---|---|"]
    for dp, r in rows.iterrows():
        target = r["rule"] if isinstance(r["rule"], str) and r["rule"] else f"{r['target']:g}"
        worst = {"zero": "0", "percentile": "from the panel"}.get(r["worst_rule"], f"{r['worst']:g}")
        lines.append(f"| `{dp}` | {r['data_point_name']} | {r['direction'].replace('_', ' ')} | {r['unit']} | "
                     f"{target} | {r['worst_rule']} | {worst} |")
    return "\n".join([RULE_TABLE_START, "", *lines, "", RULE_TABLE_END])
