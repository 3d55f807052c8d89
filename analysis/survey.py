"""Citizens' priorities: a survey template, its validated ingest and the aggregate that becomes ``invest.theme_priorities``.

Each respondent gives every investment theme whole points from 0 (not important) to 10 (most
important). The aggregate per theme is the mean points with a seeded percentile bootstrap
interval over respondents; the theme's priority is its mean divided by the mean over themes
(so the average priority is 1 and a theme twice as popular as the average gets ×2). UNECE's aim
of citizen engagement needs the answers in the loop: the priorities multiply every method's
score in ``analysis.invest``, and the profile shows where citizens and the analysis disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import paths, validation
from analysis.errors import InputError
from analysis.files import atomic_path, write_csv, write_text

if TYPE_CHECKING:
    import pandera.pandas as pa

RESPONDENT = "respondent"
POINTS = (0, 10)
SHEET = "answers"
RESAMPLES = 2000
LEVEL = 0.95
OUT_DIR = paths.PROCESSED / "survey"


@dataclass(frozen=True)
class Result:
    """What an ingest produced: the aggregate, the parameter values and the files written."""

    aggregate: pd.DataFrame
    priorities: dict[str, float]
    written: list[Path]


def _themes(themes: pd.DataFrame | None) -> pd.DataFrame:
    from analysis import invest

    th = invest.load_themes() if themes is None else themes
    return th.drop_duplicates("theme_id")[["theme_id", "theme_name"]].reset_index(drop=True)


# ----------------------------------------------------------------------------- template
def write_template(target: str | Path, themes: pd.DataFrame | None = None) -> Path:
    """An empty answer sheet: ``respondent`` then one column per theme id (Excel with a themes sheet, or CSV)."""
    target = Path(target)
    th = _themes(themes)
    answers = pd.DataFrame(columns=[RESPONDENT, *th["theme_id"]])
    if target.suffix.lower() == ".csv":
        return write_csv(answers, target)
    if target.suffix.lower() != ".xlsx":
        raise InputError.single(str(target), "unknown template format; expected a name ending in .xlsx or .csv",
                                label="file")
    guide = th.assign(what_to_enter=f"whole points from {POINTS[0]} (not important) to {POINTS[1]} "
                                    f"(most important) in the '{SHEET}' sheet, one row per respondent")
    with atomic_path(target) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            answers.to_excel(xl, sheet_name=SHEET, index=False)
            guide.to_excel(xl, sheet_name="themes", index=False)
    return target


# ----------------------------------------------------------------------------- ingest
def _whole_points(s: pd.Series) -> pd.Series:
    """True where an answer is whole points from POINTS[0] to POINTS[1] (a decimal comma allowed)."""
    value = pd.to_numeric(s.astype("string").str.replace(",", ".", regex=False), errors="coerce")
    return value.notna() & np.isfinite(value.astype(float)) & value.eq(value.round()) & value.between(*POINTS)


def answers_schema(themes: list[str]) -> "pa.DataFrameSchema":
    """The answer sheet's pandera schema: ``respondent`` (an id, once each) then whole points for every theme."""
    import pandera.pandas as pa

    from analysis.validation import check, text

    low, high = POINTS
    points = f"expected whole points from {low} to {high}"
    return pa.DataFrameSchema({
        RESPONDENT: text(message="empty; every respondent needs an id"),
        **{t: text(message=f"empty answer; {points}", checks=[check(_whole_points, points)]) for t in themes},
    }, strict=True, unique=[RESPONDENT], report_duplicates="exclude_first")


def read_answers(path: str | Path, themes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and validate a filled answer sheet; every bad cell is named (file, row, column).

    Returns one row per respondent with integer points per theme. Fully empty rows are skipped.
    """
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise InputError.single(file, "file not found", label="file")
    try:
        if path.suffix.lower() == ".csv":
            from analysis.files import csv_delimiter
            raw = pd.read_csv(path, sep=csv_delimiter(path), dtype=str, keep_default_na=False, encoding="utf-8")
        elif path.suffix.lower() == ".xlsx":
            raw = pd.read_excel(path, sheet_name=SHEET, dtype=object)
        else:
            raise InputError.single(file, "unknown format; expected .xlsx or .csv", label="file")
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError.single(file, f"cannot be read as a survey answer sheet ({exc})", label="file") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    known = list(_themes(themes)["theme_id"])
    cells = raw.astype(object).where(raw.notna(), "").map(lambda v: str(v).strip())
    cells = cells[cells.ne("").any(axis=1)]  # fully empty rows are not respondents
    schema = answers_schema(known)
    header = validation.header_problems(cells, schema, file)
    if header:
        raise InputError(header)
    if cells.empty:
        raise InputError.single(file, "no respondent; expected one row per respondent", label="file")
    validation.validate(cells, schema, file)
    points = cells[known].map(lambda t: float(t.replace(",", ".")))
    ids = cells[RESPONDENT]
    if (points.to_numpy() == 0).all():
        raise InputError.single(file, "every answer is 0: no priority can be derived", label="file")
    return points.astype(int).assign(**{RESPONDENT: ids.to_numpy()})[[RESPONDENT, *known]].reset_index(drop=True)


def aggregate(answers: pd.DataFrame, seed: int, resamples: int = RESAMPLES, level: float = LEVEL) -> pd.DataFrame:
    """Per theme: respondents, mean points and its interval, the priority (mean / mean of means) and its interval,
    and the citizens' rank (1 = most points). Intervals: percentile bootstrap over respondents (scipy, seeded)."""
    from scipy import stats

    themes = [c for c in answers.columns if c != RESPONDENT]
    X = answers[themes].to_numpy(dtype=float)
    mean = X.mean(axis=0)
    out = pd.DataFrame({"theme_id": themes, "n_respondents": len(X), "mean_points": mean,
                        "priority": mean / mean.mean()})
    if len(X) >= 2:
        def means(*cols, axis=-1):
            return np.stack([c.mean(axis=axis) for c in cols], axis=0)

        def priorities(*cols, axis=-1):
            m = means(*cols, axis=axis)
            with np.errstate(divide="ignore", invalid="ignore"):
                return m / m.mean(axis=0, keepdims=True)

        for name, statistic in (("mean_points", means), ("priority", priorities)):
            ci = stats.bootstrap(tuple(X.T), statistic, paired=True, vectorized=True, method="percentile",
                                 n_resamples=resamples, confidence_level=level,
                                 rng=np.random.default_rng(seed)).confidence_interval
            out[f"{name}_low"], out[f"{name}_high"] = ci.low, ci.high
    else:  # one respondent: no interval
        for name in ("mean_points", "priority"):
            out[f"{name}_low"] = out[f"{name}_high"] = np.nan
    out["citizens_rank"] = out["mean_points"].rank(method="min", ascending=False).astype(int)
    order = ["theme_id", "citizens_rank", "n_respondents", "mean_points", "mean_points_low", "mean_points_high",
             "priority", "priority_low", "priority_high"]
    return out[order].sort_values(["citizens_rank", "theme_id"], kind="mergesort").reset_index(drop=True)


def priorities(agg: pd.DataFrame) -> dict[str, float]:
    """``invest.theme_priorities`` from an aggregate: theme id → priority, rounded to 4 decimals."""
    return {str(t): round(float(p), 4) for t, p in zip(agg["theme_id"], agg["priority"])}


def _yaml(values: dict[str, float], source: Path, sha: str, n: int, seed: int) -> str:
    lines = [f"# Citizens' priorities from the survey {source.name} (sha256 {sha}), {n} respondents,",
             "# mean points per theme divided by the mean over themes; intervals in survey_priorities.csv "
             f"(seed {seed}).",
             "# Copy into params/municipalities/<name>.yaml, or pass each value as",
             "# --set invest.theme_priorities.<theme>=<value>.",
             "invest:", "  theme_priorities:"]
    lines += [f"    {t}: {v}" for t, v in values.items()]
    return "\n".join(lines) + "\n"


def ingest(path: str | Path, out_dir: str | Path | None = None, seed: int | None = None,
           themes: pd.DataFrame | None = None) -> Result:
    """Validate a filled sheet, aggregate it and write ``survey_priorities.csv`` and ``.yaml``.

    Everything is computed before anything is written, and each file is written atomically: a bad
    sheet leaves no file behind. ``seed`` defaults to the project's parameter seed.
    """
    from analysis import params

    path = Path(path)
    answers = read_answers(path, themes)
    seed = int(params.load()["seed"] if seed is None else seed)
    agg = aggregate(answers, seed)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    agg.insert(0, "source_file", path.name)
    agg.insert(1, "source_sha256", sha)
    values = priorities(agg)
    text = _yaml(values, path, sha, len(answers), seed)
    out = Path(out_dir) if out_dir is not None else OUT_DIR
    written = [write_csv(agg, out / "survey_priorities.csv"), write_text(out / "survey_priorities.yaml", text)]
    return Result(aggregate=agg, priorities=values, written=written)


def comparison(ranked: pd.DataFrame, priorities_given: dict[str, float]) -> pd.DataFrame:
    """Citizens' rank (by priority) beside the analysis rank without priorities, and whether they disagree.

    ``ranked``: one municipality's opportunities computed with all priorities 1. They disagree when
    the ranks differ by a third of the ranked themes or more (at least 2).
    """
    ok = ranked[ranked["status"] == "ranked"][["theme_id", "theme_name", "ws_rank"]].copy()
    ok["priority"] = ok["theme_id"].map(priorities_given).fillna(1.0)
    ok["citizens_rank"] = ok["priority"].rank(method="min", ascending=False).astype(int)
    ok = ok.rename(columns={"ws_rank": "analysis_rank"})
    ok["analysis_rank"] = ok["analysis_rank"].astype(int)
    limit = max(2, int(np.ceil(len(ok) / 3)))
    diff = ok["citizens_rank"] - ok["analysis_rank"]
    ok["disagreement"] = np.select([diff <= -limit, diff >= limit],
                                   ["citizens rank it higher", "the analysis ranks it higher"], "")
    return ok.sort_values(["analysis_rank", "theme_id"], kind="mergesort").reset_index(drop=True)
