"""Policy alignment: national targets met or not, a municipality's own three-level targets as bands, national plans.

Three inputs (docs/policy.md):

- ``data/raw/national_targets.csv``: Norwegian national targets per data point (law, white paper or
  plan, with wording, source and ``source_checked``). A target is compared with the municipality's
  latest value only when it is a level in the data point's terms (``comparable`` yes); a cut from a
  base year (the climate law) or a growth goal (zero growth in car traffic) is listed, not judged.
- ``data/raw/category_national_plans.csv``: the national plans that set each U4SSC category's
  direction, with the municipality's authority to act (full, shared, limited) and a note.
- a city's own targets (:func:`read_city_targets`: a CSV or the sheet 'targets' of the city template, stored
  under ``data/external/city_supplied/targets/``): per data point three levels, as Asker's scorecard gives
  them (desired, lowest acceptable, not acceptable), and goals that no data point measures.

The three levels become bands through the existing scoring functions (:func:`three_level_achievement`):
not acceptable is the ``worst`` (0 %), lowest acceptable the start of the 66–95 % band, desired the
``target`` (100 %).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import catalogue, municipalities, paths, scoring, validation
from analysis.errors import InputError, Problem, file_row
from analysis.files import csv_delimiter, read_csv, write_csv

NATIONAL_TARGETS = paths.RAW / "national_targets.csv"
CATEGORY_PLANS = paths.RAW / "category_national_plans.csv"
CITY_TARGETS = paths.CITY_SUPPLIED / "targets"
"""Ingested city targets, one file per municipality (``<number>-<slug>.csv``): an input, like city data."""

DIRECTIONS = {"at_least": "higher_is_better", "at_most": "lower_is_better", "reduce_by": None}
"""A national target's direction and the scoring direction it is compared in (None: a cut from a base year)."""
CHECKED = ("yes", "secondary", "no")
"""``source_checked``: yes = wording and number read in the cited document; secondary = confirmed in a
source quoting it (news, statistics office); no = not looked up."""
AUTHORITY = ("full", "shared", "limited")
MET, NOT_MET, NO_VALUE, NOT_COMPARABLE = "met", "not met", "no value", "not comparable"

ACCEPTABLE_AT = scoring.BAND_EDGES[1]
"""Achievement of a value at the lowest acceptable level: the start of the 66–95 % band (3 points)."""
DESIRED_BELOW = scoring.BAND_EDGES[2]
"""Achievement just below the desired level: the top of the 66–95 % band; at the desired level it is 100 %."""
LEVELS = ("desired", "lowest_acceptable", "not_acceptable")
CITY_COLUMNS = ("municipality", "data_point_id", "goal", *LEVELS, "year", "source")
CITY_REQUIRED = ("municipality", "data_point_id", "goal", *LEVELS, "source")
LEVEL_LABELS = ("not acceptable", "below acceptable", "acceptable", "desired")


# --- national targets and plans -------------------------------------------------------------------

def _text(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip()


def national_schema(known: set[str]):
    """The pandera schema of ``national_targets.csv``."""
    import pandera.pandas as pa

    check, row_check = validation.check, validation.row_check
    nonempty = check(lambda s: _text(s) != "", "empty; a value is required")
    return pa.DataFrameSchema({
        "target_id": pa.Column(str, [nonempty], unique=True),
        "data_point_id": pa.Column(str, [check(lambda s: s.isin(known), "unknown data point id")]),
        "target": pa.Column(float, [check(np.isfinite, "not a finite number")], coerce=True),
        "unit": pa.Column(str, [nonempty]),
        "year": pa.Column(float, [check(validation.whole_year, "not a whole year from 1900 to 2100")],
                          nullable=True, coerce=True),
        "direction": pa.Column(str, [check(lambda s: s.isin(list(DIRECTIONS)), f"expected one of {list(DIRECTIONS)}")]),
        "comparable": pa.Column(str, [check(lambda s: s.isin(["yes", "no"]), "expected yes or no")]),
        "instrument": pa.Column(str, [nonempty]),
        "instrument_type": pa.Column(str, [nonempty]),
        "wording": pa.Column(str, [nonempty]),
        "source": pa.Column(str, [nonempty]),
        "source_checked": pa.Column(str, [check(lambda s: s.isin(list(CHECKED)), f"expected one of {list(CHECKED)}")]),
        "note": pa.Column(str, nullable=True, required=False),
    }, checks=[row_check(lambda f: ~((f["direction"] == "reduce_by") & (f["comparable"] == "yes")),
                         "a cut from a base year (reduce_by) cannot be compared with a level: comparable must be no",
                         "comparable")])


def load_national_targets(path: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The national targets, validated (every problem named by file, row and column)."""
    path = Path(path or NATIONAL_TARGETS)
    cat = catalogue.load() if cat is None else cat
    ids = set(cat["data_point_id"])

    def read() -> pd.DataFrame:
        frame = read_csv(path, dtype={"target_id": str, "data_point_id": str, "unit": str, "note": str})
        if frame.empty:
            raise InputError.single(path, "no data rows below the header")
        return validation.validate(frame, national_schema(ids), path)

    frame = validation.once(path, tuple(sorted(ids)), read)
    return frame.assign(year=pd.to_numeric(frame["year"]).astype("Int64"), note=_text(frame.get("note", pd.Series(
        "", index=frame.index))))


def plans_schema(categories: set[tuple[str, str, str]]):
    """The pandera schema of ``category_national_plans.csv``."""
    import pandera.pandas as pa

    check = validation.check
    nonempty = check(lambda s: _text(s) != "", "empty; a value is required")
    known = validation.row_check(
        lambda f: pd.Series([k in categories for k in zip(f["dimension"], f["sub_dimension"], f["category"])],
                            index=f.index), "no such dimension / sub-dimension / category in the catalogue", "category")
    return pa.DataFrameSchema({
        **{c: pa.Column(str, [nonempty]) for c in ("dimension", "sub_dimension", "category", "plan", "plan_type",
                                                    "sets_direction", "authority_note", "url")},
        "municipal_authority": pa.Column(str, [check(lambda s: s.isin(list(AUTHORITY)),
                                                     f"expected one of {list(AUTHORITY)}")]),
        "source_checked": pa.Column(str, [check(lambda s: s.isin(list(CHECKED)), f"expected one of {list(CHECKED)}")]),
    }, checks=[known], unique=["dimension", "sub_dimension", "category", "plan"], report_duplicates="exclude_first")


def load_category_plans(path: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The national plans per U4SSC category, validated; every category of the catalogue must have one."""
    path = Path(path or CATEGORY_PLANS)
    cat = catalogue.load() if cat is None else cat
    groups = set(zip(cat["dimension"], cat["sub_dimension"], cat["category"]))
    frame = validation.once(path, tuple(sorted(groups)),
                            lambda: validation.validate(read_csv(path, dtype=str), plans_schema(groups), path))
    missing = sorted(groups - set(zip(frame["dimension"], frame["sub_dimension"], frame["category"])))
    if missing:
        raise InputError.single(path, f"no national plan for the categories {[' / '.join(m) for m in missing]}")
    return frame


def national_status(baseline: pd.DataFrame, national: pd.DataFrame) -> pd.DataFrame:
    """Per national target the municipality's latest value and whether it meets the target.

    ``met`` / ``not met`` by :func:`analysis.scoring.at_target` (the same 1 % tolerance as the
    scores) for comparable targets with a value; ``no value`` without one; ``not comparable`` for
    targets that are not a level in the data point's terms. ``source_type`` is the value's, so a
    simulated value is marked as simulated.
    """
    cols = ["data_point_id", "data_point_name", "category", "value", "registry_unit", "year", "source_type"]
    own = baseline.reindex(columns=cols).dropna(subset=["value"]).rename(columns={"year": "value_year"})
    out = national.merge(own, on="data_point_id", how="left")
    direction = out["direction"].map(DIRECTIONS).fillna("descriptive")
    met = scoring.at_target(out["value"], out["target"], np.full(len(out), np.nan), direction)
    comparable = out["comparable"].eq("yes")
    out["status"] = np.select([~comparable, out["value"].isna(), met], [NOT_COMPARABLE, NO_VALUE, MET], NOT_MET)
    out = out.rename(columns={"unit": "target_unit"})
    return out[["target_id", "data_point_id", "data_point_name", "category", "target", "target_unit", "year", "direction",
                "value", "registry_unit", "value_year", "status", "source_type", "instrument", "wording", "source",
                "source_checked", "note"]]


def category_plans(categories: pd.DataFrame, plans: pd.DataFrame) -> pd.DataFrame:
    """Each category's band beside the national plans that set its direction and the municipality's authority."""
    keys = ["dimension", "sub_dimension", "category"]
    own = categories.reindex(columns=[*keys, "u4ssc_score", "u4ssc_band", "n_scored", "n_simulated"])
    out = plans.merge(own, on=keys, how="left")
    return out[[*keys, "u4ssc_band", "u4ssc_score", "plan", "sets_direction", "municipal_authority", "authority_note",
                "url", "source_checked", "n_scored", "n_simulated"]]


# --- a city's own targets in three levels ----------------------------------------------------------

def three_level_achievement(values, desired, acceptable, not_acceptable, direction) -> np.ndarray:
    """Achievement in % for values scored against three levels, through ``scoring.achievement`` and ``at_target``.

    Piecewise on the U4SSC bands: not acceptable → 0 % (the worst); halfway to lowest acceptable →
    33 %; lowest acceptable → 66 %; just below desired → 95 %; desired or better (within the scores'
    tolerance) → 100 %. Beyond not acceptable it stays 0 %.
    """
    below = scoring.achievement(values, acceptable, not_acceptable, direction)  # 0 at not acceptable, 100 at acceptable
    above = scoring.achievement(values, desired, acceptable, direction)  # 0 at acceptable, 100 at desired
    desired_met = scoring.at_target(values, desired, acceptable, direction)
    out = np.where(above >= 0, ACCEPTABLE_AT + (DESIRED_BELOW - ACCEPTABLE_AT) * above / 100.0,
                   ACCEPTABLE_AT * below / 100.0)
    out = np.where(desired_met, 100.0, out)
    return np.where(np.isnan(np.asarray(values, dtype=float)), np.nan, np.clip(out, 0.0, 100.0))


def level_reached(values, desired, acceptable, not_acceptable, direction) -> np.ndarray:
    """Which of the city's levels a value reaches: desired, acceptable, below acceptable or not acceptable."""
    a = three_level_achievement(values, desired, acceptable, not_acceptable, direction)
    idx = np.select([a >= 100.0, a >= ACCEPTABLE_AT, a > 0.0], [3, 2, 1], 0)
    return np.where(np.isnan(a), "", np.array(LEVEL_LABELS, dtype=object)[idx])


def own_target_bands(baseline: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """The municipality's values against its own three levels: achievement, points, band and the level reached.

    The default band (against the project's targets) stands beside; ``source_type`` marks a simulated value.
    """
    measured = targets[targets["data_point_id"].fillna("") != ""]
    cols = ["data_point_id", "data_point_name", "value", "registry_unit", "year", "band", "source_type", "direction"]
    own = baseline.reindex(columns=[c for c in cols if c != "direction"])
    out = measured.merge(own, on="data_point_id", how="left", suffixes=("_goal", ""))
    args = (out["value"], out["desired"], out["lowest_acceptable"], out["not_acceptable"], out["direction"])
    out["own_achievement"] = three_level_achievement(*args)
    out["own_points"] = scoring.points(out["own_achievement"])
    out["own_band"] = scoring.band(out["own_achievement"])
    out["level_reached"] = level_reached(*args)
    out = out.rename(columns={"band": "default_band", "year_goal": "goal_year", "year": "value_year"})
    return out[["data_point_id", "data_point_name", "goal", "desired", "lowest_acceptable", "not_acceptable",
                "goal_year", "value", "registry_unit", "value_year", "level_reached", "own_achievement", "own_points",
                "own_band", "default_band", "source_type", "source"]].reset_index(drop=True)


def unmeasured_goals(targets: pd.DataFrame) -> pd.DataFrame:
    """The municipality's goals that no U4SSC data point measures (rows without a data point)."""
    rows = targets[targets["data_point_id"].fillna("") == ""]
    return rows[["goal", "year", "source"]].reset_index(drop=True)


def _level(text: str, unit: str | None) -> tuple[float | None, str | None]:
    """A level typed by a person (decimal comma or point, spaces as thousands separators), with the data point's
    unit after it or none ('35 %' where the unit is a percentage, as officers copy it from a scorecard): the number,
    or None and what is wrong. Another unit is refused, as a level is never converted."""
    from analysis.ingest import _NUMBER_THEN_UNIT, CellError, parse_decimal

    match = _NUMBER_THEN_UNIT.match(text)
    try:
        number = float(parse_decimal(match["number"])) if match else None
    except (CellError, ValueError, ArithmeticError):
        number = None
    if number is None:
        return None, f"'{text}' is not a number"
    typed = " ".join(match["unit"].split()).casefold()
    if not typed or unit is None:
        return (number, None) if not typed else (None, f"'{text}' is not a number")
    meant = " ".join(unit.split()).casefold()
    if typed == meant or (typed == "%" and meant.startswith("%")):
        return number, None
    return None, f"'{text}' is not a number in the data point's unit ({unit}); give the number alone"


TARGETS_SHEET = "targets"
"""The sheet of the city template (``python -m analysis template``) that holds the municipality's own targets."""


def _shown(cell) -> str:
    """A cell's text as the sheet shows it: a number in a percent format (65,5 % typed, 0.655 stored) as 65.5."""
    from decimal import Decimal

    from analysis.ingest import _number_text, _text as cell_text, is_percent_format

    value = getattr(cell, "value", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and is_percent_format(cell.number_format):
        return _number_text(Decimal(repr(value)) * 100)
    return cell_text(value)


def _sheet_frame(path: Path) -> pd.DataFrame | None:
    """The sheet 'targets' of a workbook as text cells (one row per data row), or None when it has no such sheet."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        if TARGETS_SHEET not in wb.sheetnames:
            return None
        rows = [[_shown(c) for c in row] for row in wb[TARGETS_SHEET].iter_rows()]
    finally:
        wb.close()
    header = list(rows[0]) if rows else []
    while header and header[-1] == "":
        header.pop()
    return pd.DataFrame([(r + [""] * len(header))[:len(header)] for r in rows[1:]], columns=header, dtype=str)


def read_city_targets(path: Path, cat: pd.DataFrame | None = None, required: bool = True) -> pd.DataFrame:
    """A city's targets validated: a CSV (UTF-8, comma- or semicolon-separated) or the sheet 'targets' of its filled
    workbook; every bad cell named by file (and sheet), row and column, all of them at once (InputError).

    Refused: missing columns; an unknown municipality or data point; a level that is not a number
    or is missing; levels not in the order the data point's direction needs (higher is better:
    desired > lowest acceptable > not acceptable; lower is better: the reverse); a descriptive or
    target-band data point; the same data point twice; levels on a goal without a data point; an
    empty goal or source; a year that is not a whole year 1900–2100. With ``required`` False (the
    workbook's ingest, where the sheet is optional) a workbook without the sheet, or with no row
    filled in, gives no targets instead of an error.
    """
    path = Path(path)
    cat = catalogue.load() if cat is None else cat
    if not path.exists():
        raise InputError.single(path, "file not found")
    suffix = path.suffix.lower()
    where = str(path)
    if suffix == ".csv":
        frame = read_csv(path, sep=csv_delimiter(path), dtype=str, keep_default_na=False)  # ',' or a spreadsheet's ';'
    elif suffix in (".xlsx", ".xlsm"):
        frame, where = _sheet_frame(path), f"{path}, sheet '{TARGETS_SHEET}'"
        if frame is None:
            if not required:
                return _no_targets()
            raise InputError.single(path, f"no sheet '{TARGETS_SHEET}'; write the template with "
                                          "`python -m analysis template <municipality>`")
    else:
        raise InputError.single(path, f"unsupported file type '{path.suffix}'; expected a UTF-8 .csv or the "
                                      "filled template (.xlsx)")
    if frame.empty:
        if not required:
            return _no_targets()
        raise InputError.single(where, "no data rows below the header")
    missing = [c for c in CITY_REQUIRED if c not in frame.columns]
    if missing:
        raise InputError.single(where, f"missing columns {missing}; expected {list(CITY_COLUMNS)}", row=1)
    if "year" not in frame.columns:
        frame["year"] = ""
    frame = frame.map(lambda v: v.strip() if isinstance(v, str) else v)
    filled = frame[["goal", *LEVELS, "year", "source"]].ne("").any(axis=1)  # template rows left empty are skipped
    if not filled.any():
        if not required:
            return _no_targets()
        raise InputError.single(where, "no filled rows: give a goal, its three levels and a source for at least one "
                                       "data point, or a goal without a data point")
    frame = frame[filled]
    direction = cat.set_index("data_point_id")["direction"].to_dict()
    unit = cat.set_index("data_point_id")["unit"].to_dict()
    registry = municipalities.registry()
    problems: list[Problem] = []
    rows = []
    for i, r in frame.iterrows():
        n = file_row(i)

        def bad(column: str, message: str) -> None:
            problems.append(Problem(where, n, column, message))

        entity = None
        if not r["municipality"]:
            bad("municipality", "empty; give the municipality's number or name")
        else:
            try:
                entity = registry.resolve(r["municipality"], file=where, row=n)
            except InputError as exc:
                problems.extend(exc.problems)
        for column in ("goal", "source"):
            if not r[column]:
                bad(column, "empty; a value is required")
        dp = r["data_point_id"]
        levels = dict.fromkeys(LEVELS)
        for c in LEVELS:
            if r[c]:
                levels[c], wrong = _level(r[c], unit.get(dp))
                if wrong:
                    bad(c, wrong)
        if not dp:
            for c in LEVELS:
                if r[c]:
                    bad(c, "a level needs a data point; leave the levels empty for a goal no data point measures")
        elif dp not in direction:
            bad("data_point_id", f"unknown data point id '{dp}'")
        elif direction[dp] not in ("higher_is_better", "lower_is_better"):
            bad("data_point_id", f"'{dp}' is {direction[dp].replace('_', ' ')}; three levels need a data point "
                                 "where higher or lower is better")
        else:
            for c in LEVELS:
                if not r[c]:
                    bad(c, "empty; a data point's goal needs all three levels")
            d, a, x = (levels[c] for c in LEVELS)
            if None not in (d, a, x):
                higher = direction[dp] == "higher_is_better"
                ordered = d > a > x if higher else d < a < x
                if not ordered:
                    sign = ">" if higher else "<"
                    bad("lowest_acceptable", f"levels {d:g}, {a:g}, {x:g} are in the wrong order: '{dp}' is "
                                             f"{direction[dp].replace('_', ' ')}, so desired {sign} lowest acceptable "
                                             f"{sign} not acceptable")
        year = pd.to_numeric(pd.Series([r["year"] or None]), errors="coerce")
        if r["year"] and not (year.notna().all() and validation.whole_year(year).all()):
            bad("year", f"'{r['year']}' is not a whole year from {validation.FIRST_YEAR} to {validation.LAST_YEAR}")
        rows.append({"municipality": entity.label if entity else r["municipality"],
                     "kommunenummer": entity.kommunenummer if entity else "", "data_point_id": dp, "goal": r["goal"],
                     **levels, "year": int(year.iloc[0]) if r["year"] and year.notna().all() else pd.NA,
                     "source": r["source"], "row": n})
    out = pd.DataFrame(rows)
    twice = out[(out["data_point_id"] != "") & out.duplicated(["kommunenummer", "data_point_id"], keep="first")]
    for r in twice.itertuples():
        problems.append(Problem(where, r.row, "data_point_id",
                                f"'{r.data_point_id}' appears twice for {r.municipality}; give one goal per data point"))
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.row or 0, p.column or "")))
    out["direction"] = out["data_point_id"].map(direction)
    return out.drop(columns="row").astype({"year": "Int64"})


def _no_targets() -> pd.DataFrame:
    return pd.DataFrame(columns=["municipality", "kommunenummer", "data_point_id", "goal", *LEVELS, "year", "source",
                                 "direction"]).astype({"year": "Int64"})


def ingest_city_targets(path: Path, out_dir: Path | None = None, cat: pd.DataFrame | None = None) -> list[Path]:
    """Validate a city's targets file and store it per municipality (whole or nothing: any problem writes nothing)."""
    return store_city_targets(read_city_targets(path, cat), out_dir)


def store_city_targets(frame: pd.DataFrame, out_dir: Path | None = None) -> list[Path]:
    """Validated targets (:func:`read_city_targets`) into ``out_dir/<number>-<slug>.csv``, one file per municipality
    replacing its earlier one (a city's targets are one set)."""
    out_dir = Path(out_dir or CITY_TARGETS)
    written = []
    if frame.empty:
        return written
    for number, part in frame.groupby("kommunenummer", sort=True):
        target = out_dir / f"{municipalities.registry().entity(number).slug}.csv"
        written.append(write_csv(part.drop(columns="direction"), target))
    return written


def _template_frame(municipality: str, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per scoreable data point (its name, unit and direction) with the columns to fill in left empty."""
    cat = catalogue.load() if cat is None else cat
    entity = municipalities.registry().resolve(municipality, file="command line", column="municipality", label="argument")
    rows = cat[cat["direction"].isin(["higher_is_better", "lower_is_better"])]
    return pd.DataFrame({"municipality": entity.label, "data_point_id": rows["data_point_id"], "goal": "",
                         **{c: "" for c in LEVELS}, "year": "", "source": "",
                         "data_point_name": rows["data_point_name"], "unit": rows["unit"],
                         "direction": rows["direction"].str.replace("_", " ")})


def write_city_template(municipality: str, target: Path, cat: pd.DataFrame | None = None) -> Path:
    """A CSV to fill in: one row per scoreable data point (its name, unit and direction) and the level columns."""
    return write_csv(_template_frame(municipality, cat), Path(target))


def about_rows() -> list[list[str]]:
    """The line of the template's sheet 'about' that explains the sheet 'targets'."""
    return [[TARGETS_SHEET, f"Sheet '{TARGETS_SHEET}' (optional): the municipality's own goals. Per data point a goal "
                            "in words and three levels in the data point's unit: desired, lowest acceptable and not "
                            "acceptable (as in a scorecard), with the year and the document and page they come from. "
                            "A goal that no data point measures goes on a row of its own with the levels left empty "
                            "and the data point id cleared. Leave the sheet empty if there are no such goals."]]


def write_city_sheet(wb, municipality: str, cat: pd.DataFrame | None = None) -> None:
    """Add the sheet 'targets' to a template workbook: the rows of :func:`write_city_template`, levels and year
    checked by Excel, the columns to fill in tinted."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    frame = _template_frame(municipality, cat)
    ws = wb.create_sheet(TARGETS_SHEET)
    ws.append(list(frame.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        ws.append([v if v != "" else None for v in row])
    letter = {name: chr(ord("A") + i) for i, name in enumerate(frame.columns)}
    n = len(frame) + 1
    fill = PatternFill("solid", fgColor="FFF2CC")
    for name in ("goal", *LEVELS, "year", "source"):
        for r in range(2, n + 1):
            ws[f"{letter[name]}{r}"].fill = fill
    level = DataValidation(type="decimal", showErrorMessage=True, error="A number in the data point's unit")
    for name in LEVELS:
        level.add(f"{letter[name]}2:{letter[name]}{n + 200}")
    year = DataValidation(type="whole", operator="between", formula1=str(validation.FIRST_YEAR),
                          formula2=str(validation.LAST_YEAR), showErrorMessage=True, error="The year of the goal")
    year.add(f"{letter['year']}2:{letter['year']}{n + 200}")
    for rule in (level, year):
        ws.add_data_validation(rule)
    for name, width in {"data_point_id": 24, "goal": 40, "source": 40, "data_point_name": 40, "unit": 22}.items():
        ws.column_dimensions[letter[name]].width = width
    ws.freeze_panes = "C2"


def load_city_targets(slug: str, directory: Path | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The stored targets of one municipality (``<number>-<slug>``), re-validated; empty when it gave none."""
    file = Path(directory or CITY_TARGETS) / f"{slug}.csv"
    if not file.exists():
        return pd.DataFrame(columns=["municipality", "kommunenummer", "data_point_id", "goal", *LEVELS, "year",
                                     "source", "direction"])
    return read_city_targets(file, cat)


# --- the result ------------------------------------------------------------------------------------

@dataclass
class Alignment:
    """One municipality's policy alignment: national targets, its own targets and the national plans."""

    municipality: str
    national: pd.DataFrame
    plans: pd.DataFrame
    own: pd.DataFrame
    unmeasured: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One sentence: how many national targets are met, not met, without value or not comparable."""
        c = self.counts
        own = (f" {self.municipality} gave {len(self.own)} own targets in three levels"
               f" and {len(self.unmeasured)} goals no data point measures." if len(self.own) or len(self.unmeasured)
               else f" {self.municipality} has supplied no own targets (template: python -m analysis targets-template).")
        judged = self.national[self.national["status"].isin([MET, NOT_MET])]
        sim = int(judged["source_type"].eq("simulated").sum())
        sim_text = f" ({sim} of the {len(judged)} judgements rest on simulated values)" if sim else ""
        return (f"Of {len(self.national)} national targets, {c.get(MET, 0)} are met and {c.get(NOT_MET, 0)} not met"
                f"{sim_text}; "
                f"{c.get(NO_VALUE, 0)} have no value and {c.get(NOT_COMPARABLE, 0)} are not a level the data point "
                f"can be compared with (a cut from a base year or a growth goal).{own}")

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"national_targets": self.national, "category_plans": self.plans, "own_targets": self.own,
                "unmeasured_goals": self.unmeasured}

    def _repr_html_(self) -> str:
        from analysis import present

        limited = self.plans[self.plans["municipal_authority"] == "limited"]
        parts = [f"<p>{html.escape(self.summary())}</p>",
                 present.key_table(self.national, "national_targets", caption="National targets")]
        if len(self.own):
            parts.append(present.key_table(self.own, "own_targets", caption="Own targets in three levels"))
        if len(self.unmeasured):
            parts.append(present.key_table(self.unmeasured, "unmeasured_goals",
                                           caption="Own goals that no U4SSC data point measures"))
        parts.append(f"<p>{len(limited)} of the {len(self.plans)} links below concern categories where the "
                     "municipality has limited authority to act; the note says who acts.</p>")
        parts.append(present.key_table(self.plans, "category_plans", caption="National plans per category"))
        return "\n".join(parts)


def alignment(municipality: str, baseline: pd.DataFrame, categories: pd.DataFrame,
              own_targets: pd.DataFrame | None = None, cat: pd.DataFrame | None = None,
              national: pd.DataFrame | None = None, plans: pd.DataFrame | None = None) -> Alignment:
    """The policy alignment of one municipality from its baseline table, category scores and own targets."""
    cat = catalogue.load() if cat is None else cat
    national = load_national_targets(cat=cat) if national is None else national
    plans = load_category_plans(cat=cat) if plans is None else plans
    own_targets = (pd.DataFrame(columns=["data_point_id", "goal", *LEVELS, "year", "source", "direction"])
                   if own_targets is None else own_targets)
    status = national_status(baseline, national)
    return Alignment(municipality, status, category_plans(categories, plans), own_target_bands(baseline, own_targets),
                     unmeasured_goals(own_targets), status["status"].value_counts().to_dict())
