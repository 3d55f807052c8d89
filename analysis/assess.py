"""One assessment run: the observations a run uses, goalposts, scores at every level, SDG view and trends.

Profiles, the synthesis, the investment ranking and the tutorial all start from ``assess``, so
a number in any report can be traced to one function here and the module it calls.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import build, catalogue, municipalities, observations, params, paths, scoring, sdg, simulate, targets, trends


@dataclass
class Assessment:
    """Everything computed for one parameter set over the whole panel (all municipalities at once)."""

    params: dict[str, Any]
    municipalities: list[str]
    catalogue: pd.DataFrame
    observations: pd.DataFrame
    baseline: pd.DataFrame
    goalposts: pd.DataFrame
    scored: pd.DataFrame
    levels: dict[str, pd.DataFrame] = field(default_factory=dict)
    overall: pd.DataFrame | None = None
    sdg_goals: pd.DataFrame | None = None
    trends: pd.DataFrame | None = None
    mix: pd.DataFrame | None = None


def run_observations(values: dict[str, Any], names: list[str], base: pd.DataFrame | None = None) -> pd.DataFrame:
    """The observations a run uses: published and city-supplied, plus simulated cells when the parameters ask."""
    base = build.load_observations() if base is None else base
    if values["include_simulated"]:
        years = sorted(set(values["years"]))
        return simulate.demonstration_panel(base, names, years, int(values["seed"]))
    return simulate.select(base, include_simulated=False)


def assess(values: dict[str, Any], obs: pd.DataFrame | None = None, cat: pd.DataFrame | None = None,
           target_table: pd.DataFrame | None = None, panel: pd.DataFrame | None = None,
           as_given: bool = False) -> Assessment:
    """Score every municipality of the panel under ``values`` (parameters as loaded by analysis.params).

    With ``as_given`` the observations ``obs`` are scored exactly as passed (for example a scale
    panel of fictional municipalities from analysis.simulate.scale_panel), without adding or
    removing simulated rows, and the panel is the municipalities they contain.
    """
    cat = catalogue.load() if cat is None else cat
    target_table = targets.load(cat=cat) if target_table is None else target_table
    if as_given:
        if obs is None:
            raise ValueError("as_given needs the observations to score")
        used = obs
        names = sorted(obs["municipality"].unique())
    else:
        panel = municipalities.load(values["panel"]) if panel is None else panel
        base = build.load_observations() if obs is None else obs
        extra = set(base["municipality"]) - set(panel["municipality"])  # city-supplied, outside the panel
        names = sorted(set(panel["municipality"]) | extra)
        used = run_observations(values, names, base)
        numbers = dict(zip(panel["municipality"], panel["kommunenummer"]))
        used["kommunenummer"] = used["kommunenummer"].fillna(used["municipality"].map(numbers)).astype("string")
    baseline = observations.latest(used)
    gp, scored = score(baseline, targets.select(target_table, values["target_set"]), cat)
    levels = {level: scoring.aggregate(scored, cat, level, names) for level in ("category", "sub_dimension",
                                                                                 "dimension", "overall")}
    overall = scoring.overall_index(levels["dimension"], params.dimension_weights(values))
    return Assessment(
        params=values, municipalities=names, catalogue=cat, observations=used, baseline=baseline,
        goalposts=gp, scored=scored, levels=levels, overall=overall,
        sdg_goals=sdg.goal_dashboard(scored, cat, names),
        trends=trends.trends(used, gp, int(values["deadline"])),
        mix=simulate.mix_counts(used),
    )


def score(baseline: pd.DataFrame, selected: pd.DataFrame, cat: pd.DataFrame,
          goalpost_rule: str = targets.GOALPOST_RULES[0],
          tolerance: float = scoring.TARGET_TOLERANCE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Goalposts and scored baseline of one target selection (the step analysis.uncertainty re-runs per rule)."""
    gp = targets.goalposts(targets.with_goalpost_rule(selected, goalpost_rule), baseline, cat)
    scored = scoring.score_data_points(baseline, gp, tolerance)
    scored = scored.merge(cat[["data_point_id", "data_point_name", "dimension", "sub_dimension", "category",
                               "core_or_advanced", "unit"]].rename(columns={"unit": "registry_unit"}),
                          on="data_point_id", how="left")
    return gp, scored


# --- the assessment as a stage of the build graph ----------------------------------------------

KEYS = params.ASSESSMENT_KEYS
FRAMES = ("observations", "baseline", "goalposts", "scored", "overall", "sdg_goals", "trends", "mix")
STAGE = paths.INTERIM / "assessment"


def stage_dir(values: dict[str, Any], root: Path | None = None) -> Path:
    """Where the stage of these parameters is written (``data/interim/assessment/<key>``)."""
    return Path(root or STAGE) / params.assessment_key(values)


def fingerprint() -> str:
    """Hash of what an assessment is computed from: the processed observations, the raw tables and the modules it reads."""
    from analysis.pipeline import ASSESSMENT_INPUTS, ASSESSMENT_MODULES

    files = ([paths.PROCESSED / "observations.csv"] + [paths.RAW / name for name in ASSESSMENT_INPUTS]
             + [paths.ROOT / "analysis" / f"{m}.py" for m in ASSESSMENT_MODULES])
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode("utf-8"))
        digest.update(file.read_bytes() if file.exists() else b"<missing>")
    return digest.hexdigest()[:20]


def write(a: Assessment, folder: Path) -> Path:
    """The assessment as Parquet files plus ``meta.json`` (parameters, municipalities, fingerprint), atomically."""
    import pyarrow  # noqa: F401  (the Parquet engine; a clear ImportError if it is missing)

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        for name in FRAMES:
            getattr(a, name).to_parquet(tmp / f"{name}.parquet", index=False)
        for level, frame in a.levels.items():
            frame.to_parquet(tmp / f"level_{level}.parquet", index=False)
        meta = {"params": {k: a.params[k] for k in KEYS}, "municipalities": a.municipalities,
                "fingerprint": fingerprint(), "levels": list(a.levels)}
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                       encoding="utf-8")
        os.chmod(tmp, 0o755)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def read(folder: Path, values: dict[str, Any], cat: pd.DataFrame | None = None) -> Assessment:
    """An assessment written by :func:`write`, given the caller's parameters (which must agree on :data:`KEYS`)."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta["params"] != {k: values[k] for k in KEYS}:
        raise ValueError(f"{folder} was computed for other parameters: {meta['params']}")
    frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in FRAMES}
    levels = {level: pd.read_parquet(folder / f"level_{level}.parquet") for level in meta["levels"]}
    return Assessment(params=values, municipalities=list(meta["municipalities"]),
                      catalogue=catalogue.load() if cat is None else cat, levels=levels, **frames)


_READ: dict[tuple[str, str], Assessment] = {}
"""The stages last read in this process (a warm kernel runs many profiles of few stages)."""
STAGES_KEPT = 4
"""Stages a process keeps read: a build alternates between few, the default parameters', those of each municipality
with its own parameter file and the real-data views'. Keeping one made each switch read a stage again (3 s for all
of Norway, with its investment criteria)."""


def stage(values: dict[str, Any], root: Path | None = None) -> Assessment:
    """The panel assessment of ``values``: read from its stage when it is current, else computed and written.

    The workflow's ``assessment`` rule writes the stage before any profile runs, so every profile,
    the synthesis and the tutorial read one assessment; a stage whose inputs changed since it was
    written (its fingerprint) is computed again. A read-only checkout still works, only slower.
    """
    folder = stage_dir(values, root)
    current = fingerprint()
    if (str(folder), current) in _READ:
        return dataclasses.replace(_READ[(str(folder), current)], params=values)
    if (folder / "meta.json").exists():
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("fingerprint") == current:
            while len(_READ) >= STAGES_KEPT:
                _READ.pop(next(iter(_READ)))
            _READ[(str(folder), current)] = read(folder, values)
            return _READ[(str(folder), current)]
    a = assess(values)
    try:
        write(a, folder)
    except OSError:
        pass
    return a
