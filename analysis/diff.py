"""What changed between two runs: the parameters that differ, then scores, bands, SDG colours and ranks, before and after.

A run folder is what ``python -m analysis run`` writes (``reports/runs/<name>-<hash>/``) or the main
job's ``reports/executed/``. Each holds ``profiles/*.provenance.json`` (the merged parameters and
the municipality) and ``tables/<profile>/*.csv``. Profiles are found by reading the provenance
files, never by their file names, so a rename of the files (``<kommunenummer>-<slug>``) changes nothing.
"""

from __future__ import annotations

import html
import json
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import paths, scoring, sdg
from analysis.errors import InputError
from analysis.files import write_text

MAIN = "main"
"""The name of the main job's folder (``reports/executed``) on the command line."""


@dataclass(frozen=True)
class Measure:
    """One compared column of one profile table: rows matched on ``key``, changes sized by ``kind``."""

    section: str
    table: str
    key: tuple[str, ...]
    column: str
    kind: str  # number | band | colour | rank
    label: str | None = None  # column naming the row beside its key (e.g. data_point_name)


MEASURES: tuple[Measure, ...] = (
    Measure("overall index", "overall", (), "index", "number"),
    Measure("dimension scores", "dimensions", ("dimension",), "mean_achievement", "number"),
    Measure("dimension scores", "dimensions", ("dimension",), "u4ssc_score", "number"),
    Measure("bands", "dimensions", ("dimension",), "u4ssc_band", "band"),
    Measure("bands", "categories", ("dimension", "sub_dimension", "category"), "u4ssc_band", "band"),
    Measure("bands", "baseline", ("data_point_id",), "band", "band", "data_point_name"),
    Measure("SDG colours", "sdg_goals", ("sdg_goal",), "colour", "colour"),
    Measure("ranks", "overall", (), "rank", "rank"),
    Measure("ranks", "overall", (), "peer_rank", "rank"),
    Measure("ranks", "baseline", ("data_point_id",), "peer_rank", "rank", "data_point_name"),
    Measure("investment ranks", "opportunities", ("theme_id",), "ws_rank", "rank", "theme_name"),
    Measure("investment ranks", "opportunities", ("theme_id",), "topsis_rank", "rank", "theme_name"),
)
SECTIONS = ("parameters", *dict.fromkeys(m.section for m in MEASURES))
"""Order of the sections in the terminal and on the page; inside a section the largest change comes first."""
COLUMNS = ["section", "municipality", "item", "measure", "before", "after", "change"]
_LEVELS = {"band": {label: i for i, label in enumerate((scoring.NO_DATA, *scoring.BAND_LABELS))},
           "colour": {"grey": 0, **{c: i + 1 for i, c in enumerate(sdg.COLOURS)}}}


@dataclass(frozen=True)
class Profile:
    """One executed profile of a run: its provenance and the folder of its tables."""

    municipality: str
    provenance: dict[str, Any]
    tables: Path


@dataclass(frozen=True)
class Run:
    """A run folder and the profiles in it, keyed by municipality name."""

    name: str
    folder: Path
    profiles: dict[str, Profile]


def resolve(name: str | Path, runs: Path | None = None) -> Path:
    """The folder of a run: ``main``, a path, a folder name under ``reports/runs/`` or the unique start of one."""
    runs = Path(runs or paths.REPORTS / "runs")
    text = unicodedata.normalize("NFC", str(name)).strip()
    if text == MAIN:
        return paths.REPORTS / "executed"
    for candidate in (Path(text), runs / text):
        if candidate.is_dir():
            return candidate
    matches = sorted(p for p in runs.glob(f"{text}*") if p.is_dir()) if runs.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    known = sorted(p.name for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []
    message = (f"{len(matches)} runs start with {text!r}: {[m.name for m in matches]}; give the whole name"
               if matches else f"no run {text!r}; expected '{MAIN}', a run folder or one of {known}")
    raise InputError.single("command line", message, column="run", label="argument")


def load_run(folder: Path, name: str | None = None) -> Run:
    """The profiles of a run folder, found through their provenance files."""
    folder = Path(folder)
    profiles: dict[str, Profile] = {}
    for file in sorted((folder / "profiles").glob("*.provenance.json")):
        try:
            prov = json.loads(file.read_text(encoding="utf-8"))
            municipality = unicodedata.normalize("NFC", str(prov["municipality"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError.single(file, f"not a provenance file with a 'municipality' ({exc})") from exc
        stem = file.name.removesuffix(".provenance.json")
        tables = next((p for p in (folder / "tables" / stem, folder / "tables" / municipality) if p.is_dir()),
                      folder / "tables" / stem)
        profiles[municipality] = Profile(municipality, prov, tables)
    if not profiles:
        raise InputError.single(folder / "profiles", "no executed profile (no *.provenance.json); "
                                "run `python -m analysis run <municipality>` or `python -m analysis all` first")
    return Run(name or folder.name, folder, profiles)


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested parameters as dotted keys (``weights.environment``), as ``--set`` writes them."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{dotted}."))
        else:
            out[dotted] = value
    return out


def parameter_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> pd.DataFrame:
    """The parameters whose values differ (a key present on one side only counts), sorted by key."""
    b, a = flatten(before), flatten(after)
    rows = [{"item": key, "measure": "value", "before": _text(b.get(key)), "after": _text(a.get(key))}
            for key in sorted(set(b) | set(a)) if b.get(key) != a.get(key)]
    return pd.DataFrame(rows, columns=["item", "measure", "before", "after"])


def _text(value: Any) -> str:
    if value is None:
        return "–"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)


def _read(profile: Profile, table: str) -> pd.DataFrame | None:
    path = profile.tables / f"{table}.csv"
    return pd.read_csv(path, encoding="utf-8", keep_default_na=True) if path.is_file() else None


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _size(kind: str, before: Any, after: Any) -> float:
    """How far a value moved, in the measure's own steps (points of a score, band or colour levels, places)."""
    if _missing(before) or _missing(after):
        return math.inf if _missing(before) != _missing(after) else 0.0
    if kind in _LEVELS:
        levels = _LEVELS[kind]
        return float(levels.get(str(after), 0) - levels.get(str(before), 0))
    return float(after) - float(before)


def _changed(kind: str, before: Any, after: Any) -> bool:
    if _missing(before) and _missing(after):
        return False
    if kind in ("number", "rank") and not (_missing(before) or _missing(after)):
        return not math.isclose(float(before), float(after), rel_tol=1e-9, abs_tol=1e-9)
    return str(before) != str(after)


def measure_changes(measure: Measure, before: pd.DataFrame | None, after: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of one measure whose value differs between two tables of the same profile."""
    columns = ["item", "measure", "before", "after", "change", "size"]
    frames = [f for f in (before, after) if f is not None and measure.column in f.columns]
    if len(frames) < 2:
        return pd.DataFrame(columns=columns)
    key = list(measure.key)

    def indexed(frame: pd.DataFrame) -> pd.DataFrame:
        keep = [*key, measure.column, *([measure.label] if measure.label in frame.columns else [])]
        frame = frame[keep].copy()
        frame["_key"] = frame[key].astype(str).agg(" / ".join, axis=1) if key else "all"
        return frame.drop_duplicates("_key").set_index("_key")

    b, a = indexed(before), indexed(after)
    rows = []
    for k in sorted(set(b.index) | set(a.index)):
        x = b[measure.column].get(k)
        y = a[measure.column].get(k)
        if not _changed(measure.kind, x, y):
            continue
        label_from = a if k in a.index else b
        name = label_from[measure.label].get(k) if measure.label in label_from.columns else None
        item = k if key else "overall"
        if measure.table == "sdg_goals":
            item = f"Goal {int(float(k))}"
        if isinstance(name, str) and name:
            item = f"{k} {name}"
        size = _size(measure.kind, x, y)
        rows.append({"item": item, "measure": measure.column, "before": x, "after": y,
                     "change": size if math.isfinite(size) else math.nan, "size": abs(size)})
    return pd.DataFrame(rows, columns=columns)


def compare(after: Run, before: Run) -> pd.DataFrame:
    """Every change from ``before`` to ``after`` for the municipalities profiled in both runs.

    Columns: section, municipality, item, measure, before, after, change (in the measure's own
    steps: score points, band or colour levels, rank places; empty where one side has no value).
    Sections come in the order of ``SECTIONS``; inside a section the largest change comes first.
    """
    common = sorted(set(after.profiles) & set(before.profiles))
    if not common:
        raise InputError.single(before.folder / "profiles", f"no profile of {', '.join(sorted(after.profiles))} "
                                f"to compare with; this run has {sorted(before.profiles)}")
    parts = []
    for municipality in common:
        new, old = after.profiles[municipality], before.profiles[municipality]
        params = parameter_changes(old.provenance.get("parameters", {}), new.provenance.get("parameters", {}))
        params = params.assign(section="parameters", change=math.nan, size=math.inf)
        parts.append(params.assign(municipality=municipality))
        cache: dict[tuple[str, str], pd.DataFrame | None] = {}
        for measure in MEASURES:
            for side, prof in (("before", old), ("after", new)):
                if (side, measure.table) not in cache:
                    cache[(side, measure.table)] = _read(prof, measure.table)
            changes = measure_changes(measure, cache[("before", measure.table)], cache[("after", measure.table)])
            parts.append(changes.assign(section=measure.section, municipality=municipality))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["_section"] = out["section"].map({s: i for i, s in enumerate(SECTIONS)})
    out = out.sort_values(["_section", "municipality", "size", "item", "measure"],
                          ascending=[True, True, False, True, True], kind="mergesort")
    return out[COLUMNS].reset_index(drop=True)


def page(changes: pd.DataFrame, after: Run, before: Run) -> str:
    """A standalone HTML page of the changes, one table per section (every cell escaped)."""
    from analysis.present import table_html

    title = f"What changed: {after.name} against {before.name}"
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>Before: <code>{html.escape(str(before.folder))}</code>. After: "
             f"<code>{html.escape(str(after.folder))}</code>. Municipalities: "
             f"{html.escape(', '.join(sorted(set(after.profiles) & set(before.profiles))))}. Change is in the measure's own steps: score "
             "points, band or colour levels (positive is better), rank places (positive is a lower place).</p>"]
    if changes.empty:
        parts.append("<p>Nothing changed: same parameters and the same results.</p>")
    shown = changes if changes["municipality"].nunique() > 1 else changes.drop(columns="municipality")
    shown = shown.assign(change=shown["change"].map(lambda c: "" if _missing(c) else f"{c:+.4g}"))
    for section in SECTIONS:
        rows = shown[shown["section"] == section].drop(columns="section")
        if section == "parameters":
            rows = rows.drop(columns="change")
        if len(rows):
            parts.append(f"<h2>{html.escape(section.capitalize())} ({len(rows)})</h2>")
            parts.append(table_html(rows.reset_index(drop=True), decimals=2))
        elif section == "parameters":
            parts.append("<h2>Parameters</h2><p>The same parameters.</p>")
    style = ("body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
             "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;"
             "text-align:left}caption{text-align:left;font-weight:bold}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def page_path(after: Run, before: Run) -> Path:
    """Where the page goes: in the run's folder, named after the run compared with."""
    other = MAIN if before.folder.resolve() == (paths.REPORTS / "executed").resolve() else before.name
    return after.folder / f"diff-{other}.html"


def write_page(changes: pd.DataFrame, after: Run, before: Run) -> Path:
    """Write the HTML page atomically into the run's folder and return its path."""
    return write_text(page_path(after, before), page(changes, after, before))


def terminal_table(changes: pd.DataFrame, limit: int = 25):
    """A rich table of the parameters and the largest changes (at most ``limit`` rows after the parameters)."""
    from rich.table import Table

    from analysis.present import number

    table = Table(show_lines=False)
    several = changes["municipality"].nunique() > 1
    for column in ["section", *(["municipality"] if several else []), "item", "measure", "before", "after", "change"]:
        table.add_column(column, overflow="fold")
    params = changes[changes["section"] == "parameters"]
    rest = changes[changes["section"] != "parameters"]
    shown = pd.concat([params, rest.head(limit)])
    for row in shown.itertuples(index=False):
        cells = [row.section, *([row.municipality] if several else []), str(row.item), row.measure,
                 number(row.before, 2), number(row.after, 2),
                 "" if _missing(row.change) else f"{row.change:+.4g}"]
        table.add_row(*[str(c) for c in cells])
    return table, max(len(rest) - limit, 0)
