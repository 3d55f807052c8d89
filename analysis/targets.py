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

import numpy as np
import pandas as pd

from analysis import catalogue, paths
from analysis.errors import InputError, Problem, file_row
from analysis.files import read_csv

COLUMNS = ("target_set", "data_point_id", "target", "worst", "rule", "source_class", "rationale", "source")
YEAR_COLUMNS = ("baseline_year", "deadline")
"""Optional columns (whole years, may be empty); a file without them reads as all empty."""
FIRST_YEAR, LAST_YEAR = 1900, 2100
SOURCE_CLASSES = ("u4ssc", "sdg_universal", "international", "national", "city", "peer_rule")
RULE = re.compile(r"^best_peers_mean:([1-9]\d*)$")
DEFAULT_SET = "default"
LOW_PERCENTILE, HIGH_PERCENTILE = 2.5, 97.5
"""SDSN's lower bound: the 2.5th percentile of the panel (97.5th when lower is better)."""


def load(path: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and validate every target set; rows naming a rule must leave ``target`` empty and vice versa."""
    path = Path(path or paths.TARGETS)
    cat = catalogue.load() if cat is None else cat
    text = {c: str for c in ("rule", "source", "rationale", *YEAR_COLUMNS)}
    frame = read_csv(path, dtype=text)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError.single(path, f"missing columns {missing}; expected {list(COLUMNS)}")
    for column in YEAR_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan
    problems: list[Problem] = []
    known = set(cat["data_point_id"])
    years = {column: _years(frame, column, path, problems) for column in YEAR_COLUMNS}
    order = years["baseline_year"].notna() & years["deadline"].notna() & (years["deadline"] <= years["baseline_year"])
    for i in frame.index[order]:
        problems.append(Problem(str(path), file_row(i), "deadline",
                                f"deadline {int(years['deadline'][i])} must be after baseline_year "
                                f"{int(years['baseline_year'][i])}"))
    for column in ("target", "worst"):
        bad = pd.to_numeric(frame[column], errors="coerce").isna() & frame[column].notna()
        for i in frame.index[bad]:
            problems.append(Problem(str(path), file_row(i), column, f"'{frame.at[i, column]}' is not a number"))
    for i, row in frame.iterrows():
        r = file_row(i)
        if row["data_point_id"] not in known:
            problems.append(Problem(str(path), r, "data_point_id", f"unknown data point id '{row['data_point_id']}'"))
        has_rule = isinstance(row["rule"], str) and row["rule"].strip() != ""
        if has_rule and not RULE.match(row["rule"]):
            problems.append(Problem(str(path), r, "rule", f"'{row['rule']}'; expected 'best_peers_mean:<k>'"))
        if has_rule == pd.notna(row["target"]):
            problems.append(Problem(str(path), r, "target", "give either a cited target or a rule, not both or neither"))
        if not has_rule and not (isinstance(row["source"], str) and row["source"].strip()):
            problems.append(Problem(str(path), r, "source", "a cited target needs a source"))
        if row["source_class"] not in SOURCE_CLASSES:
            problems.append(Problem(str(path), r, "source_class",
                                    f"'{row['source_class']}'; expected one of {list(SOURCE_CLASSES)}"))
    for i in frame.index[frame.duplicated(["target_set", "data_point_id"])]:
        problems.append(Problem(str(path), file_row(i), "data_point_id", "duplicate target for this set"))
    if problems:
        raise InputError(problems)
    frame["target"] = pd.to_numeric(frame["target"])
    frame["worst"] = pd.to_numeric(frame["worst"])
    for column in YEAR_COLUMNS:
        frame[column] = years[column].astype("Int64")
    return frame


def _years(frame: pd.DataFrame, column: str, path: Path, problems: list[Problem]) -> pd.Series:
    """The column as numbers; a cell that is not a whole year from 1900 to 2100 adds a problem (and reads as empty)."""
    values = pd.to_numeric(frame[column], errors="coerce")
    given = frame[column].notna() & (frame[column].astype(str).str.strip() != "")
    bad = given & ~(values.notna() & (values == values.round()) & values.between(FIRST_YEAR, LAST_YEAR))
    for i in frame.index[bad]:
        problems.append(Problem(str(path), file_row(i), column,
                                f"'{frame.at[i, column]}' is not a whole year from {FIRST_YEAR} to {LAST_YEAR}"))
    return values.where(given & ~bad)


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


def goalposts(selected: pd.DataFrame, panel_values: pd.DataFrame, cat: pd.DataFrame) -> pd.DataFrame:
    """Per data point the target and worst value actually used, each with how it was obtained.

    ``panel_values`` holds the peer panel's baseline values (columns data_point_id, value).
    The set's name, ``baseline_year`` and ``deadline`` are carried through for ``analysis.trends``.
    A rule ``best_peers_mean:k`` needs at least k municipalities reporting; otherwise the data point
    has no target and drops out of the scores, as U4SSC drops data points without a benchmark.
    An empty ``worst`` is the panel's 2.5th percentile (97.5th when lower is better), needing
    at least three values; the SDSN city editions bound their scale the same way.
    """
    info = cat.set_index("data_point_id")[["direction", "unit"]]
    gp = selected.set_index("data_point_id").join(info, how="inner")
    stats = panel_values.groupby("data_point_id")["value"]
    n = stats.size().reindex(gp.index).fillna(0).astype(int)
    lower = gp["direction"].eq("lower_is_better")
    target = gp["target"].copy()
    target_origin = pd.Series(np.where(target.notna(), "cited", ""), index=gp.index, dtype=object)
    k = gp["rule"].str.extract(RULE, expand=False).astype(float)
    simulated = panel_values["source_type"].eq("simulated") if "source_type" in panel_values.columns else \
        pd.Series(False, index=panel_values.index)
    target_simulated = pd.Series(0, index=gp.index, dtype=int)
    for dp in gp.index[k.notna()]:
        rows = panel_values["data_point_id"] == dp
        values, sims = panel_values.loc[rows, "value"].to_numpy(), simulated[rows].to_numpy()
        kk = int(k[dp])
        if len(values) >= kk:
            order = np.argsort(values if lower[dp] else -values, kind="mergesort")[:kk]
            target[dp] = values[order].mean()
            target_simulated[dp] = int(sims[order].sum())
            note = f", {target_simulated[dp]} of them simulated" if target_simulated[dp] else ""
            target_origin[dp] = f"mean of best {kk} of {len(values)} peers{note}"
        else:
            target_origin[dp] = f"no target: rule needs {kk} peers, {len(values)} report"
    worst = gp["worst"].copy()
    worst_origin = pd.Series(np.where(worst.notna(), "given", ""), index=gp.index, dtype=object)
    q_low = stats.quantile(LOW_PERCENTILE / 100).reindex(gp.index)
    q_high = stats.quantile(HIGH_PERCENTILE / 100).reindex(gp.index)
    derive = worst.isna() & (n >= 3)
    worst[derive & lower] = q_high[derive & lower]
    worst[derive & ~lower] = q_low[derive & ~lower]
    band = gp["direction"].eq("target_band") & worst.isna()
    worst[band] = 0.0  # a ratio's natural bound: distance |1 - 0| is the worst a ratio of 1 can miss by
    n_sim = simulated.groupby(panel_values["data_point_id"]).sum().reindex(gp.index).fillna(0).astype(int)
    worst_simulated = pd.Series(np.where(derive & worst.notna(), n_sim, 0), index=gp.index)
    worst_origin[derive & worst.notna()] = "panel percentile" + np.where(
        worst_simulated > 0, ", from " + worst_simulated.astype(str) + " simulated of " + n.astype(str) + " values",
        "")[derive & worst.notna()]
    worst_origin[band] = "natural bound 0"
    degenerate = target.notna() & worst.notna() & (
        (lower & (worst <= target)) | (gp["direction"].eq("higher_is_better") & (worst >= target)))
    worst[degenerate] = np.nan
    worst_origin[degenerate] = "no spread: panel worst does not differ from target"
    out = pd.DataFrame({
        "data_point_id": gp.index,
        "direction": gp["direction"],
        "target": target,
        "worst": worst,
        "target_origin": target_origin,
        "goalposts_from_simulated": (target_simulated > 0) | (worst_simulated > 0),
        "worst_origin": worst_origin.replace("", "missing"),
        "source_class": gp["source_class"],
        "target_source": gp["source"],
        "n_panel": n,
        "target_set": gp["target_set"] if "target_set" in gp else DEFAULT_SET,
        "baseline_year": _year_column(gp, "baseline_year"),
        "deadline": _year_column(gp, "deadline"),
    }).reset_index(drop=True)
    out["has_goalposts"] = out["target"].notna() & out["worst"].notna()
    return out


def _year_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A year column as nullable integers (all empty when the selection has no such column)."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    return pd.to_numeric(frame[column]).astype("Int64")
