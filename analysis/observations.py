"""One tidy observation schema for every source (published, city-supplied, simulated), with validation.

Every observation is one value of one data point for one municipality and year. Units are
checked against the registry: a mismatch is an error, never a silent conversion.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.config import config_context

from analysis import catalogue, municipalities, paths
from analysis.errors import InputError, Problem, file_row
from analysis.files import read_csv
from analysis.validation import FIRST_YEAR, LAST_YEAR, whole_year

COLUMNS = ("municipality", "kommunenummer", "reported_kommunenummer", "data_point_id", "year", "value", "value_text",
           "unit", "status", "source_type", "source", "note", "quality_level", "verified")
NUMBER_COLUMNS = ("kommunenummer", "reported_kommunenummer")
"""The municipality's number today and the number it was published under (valid in the value's year); for a
city outside Norway its city id (``SE-1280``, analysis.cities) in both, never a Norwegian number; empty for a
simulated fictional municipality (see analysis.municipalities.attribute)."""
QUALITY_COLUMNS = ("quality_level", "verified")
"""Data-quality columns, nullable: files written before they existed are read with them empty."""
STATUSES = ("reported", "not_reported", "not_applicable", "partial")
SOURCE_TYPES = ("published", "city-supplied", "national_statistics", "simulated")
SCORED_STATUSES = ("reported", "partial")
"""Statuses whose values enter scores; ``partial`` means the KPI was only partly reported, the value itself is valid."""

QUALITY_LEVELS = {
    1: "based on accurate measurements",
    2: "extrapolated from a survey of inhabitants",
    3: "extrapolated from higher-level data",
    4: "estimated on stated assumptions",
    5: "personal estimation",
    6: "unknown methodology, not traceable",
}
"""The six data-quality levels of the U4SSC Verification Manual (ITU, 2022, p. 162–163)."""
VERIFICATION_REPORT = "Verification Report"
"""Published rows from a document whose title contains this were verified by ITU (``verified = True``)."""

UNIT_CONVERSIONS = paths.RAW / "unit_conversions.csv"
"""Printed units that need a real conversion into the registry unit (factor), e.g. ‰ into %."""

YES_WORDS = {"yes": 1.0, "ja": 1.0, "true": 1.0, "1": 1.0}
NO_WORDS = {"no": 0.0, "nei": 0.0, "false": 0.0, "0": 0.0}


normalise_name = municipalities.normalise_name


def value_bounds(unit: str) -> tuple[float, float]:
    """The physically possible range of a value in this registry unit (percentages 0–100, shares 0–1, else ≥ 0)."""
    if unit == catalogue.YES_NO_UNIT:
        return (0.0, 1.0)
    if unit.startswith("%"):
        return (0.0, 100.0)
    if unit == "index (0-1)":
        return (0.0, 1.0)
    return (0.0, np.inf)


def parse_yes_no(text: object) -> float | None:
    """1.0 for yes, 0.0 for no (English or Norwegian), None if the text is neither."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    word = str(text).strip().lower()
    return YES_WORDS.get(word, NO_WORDS.get(word))


def unit_key(unit: object) -> str:
    """A unit as compared: NFC, any run of spaces (also non-breaking) as one space, dashes as '-', case-folded."""
    text = unicodedata.normalize("NFC", str(unit)).replace("\u2013", "-").replace("\u2212", "-")
    return " ".join(text.split()).casefold()


def load_unit_aliases(path: Path | None = None) -> set[tuple[str, str]]:
    """Pairs (printed unit, registry unit) that mean the same thing, the printed unit as :func:`unit_key`."""
    frame = read_csv(path or paths.UNIT_ALIASES, dtype=str)
    return {(unit_key(p), r) for p, r in zip(frame["printed_unit"], frame["registry_unit"])}


def unit_conversions_schema(cat: pd.DataFrame) -> pa.DataFrameSchema:
    """The unit conversions' pandera schema: a printed unit, a registry unit of ``cat``, a positive factor, once each."""
    from analysis.validation import check, known, number, text

    positive = check(lambda s: pd.to_numeric(s, errors="coerce").gt(0), "expected a positive factor")
    return pa.DataFrameSchema({
        "printed_unit": text(), "registry_unit": known(cat["unit"], "unit", paths.CATALOGUE.name),
        "factor": number(message="not a positive number", checks=[positive]), "note": text(required=False),
    }, unique=["printed_unit", "registry_unit"], report_duplicates="exclude_first")


def load_unit_conversions(path: Path | None = None, cat: pd.DataFrame | None = None) -> dict[tuple[str, str], float]:
    """(printed unit as :func:`unit_key`, registry unit) -> factor that turns a printed value into the registry unit."""
    from analysis.validation import read_checked

    cat = catalogue.load() if cat is None else cat
    frame = read_checked(Path(path or UNIT_CONVERSIONS), unit_conversions_schema(cat))
    return {(unit_key(p), r): float(f) for p, r, f in zip(frame["printed_unit"], frame["registry_unit"], frame["factor"])}


@dataclass(frozen=True)
class UnitReading:
    """How a printed unit relates to the registry unit: the same (factor 1, maybe an alias) or converted."""

    registry_unit: str
    factor: float
    how: str
    """'registry', 'alias' or 'conversion'."""


def normalise_unit(printed: object, registry_unit: str, aliases: set[tuple[str, str]],
                   conversions: dict[tuple[str, str], float]) -> UnitReading | None:
    """The one reading of a printed unit for every source: the registry unit itself, an alias, a conversion, or None.

    ``aliases`` and ``conversions`` as from :func:`load_unit_aliases` and :func:`load_unit_conversions`.
    """
    key = unit_key(printed)
    if key == unit_key(registry_unit):
        return UnitReading(registry_unit, 1.0, "registry")
    if (key, registry_unit) in aliases:
        return UnitReading(registry_unit, 1.0, "alias")
    if (key, registry_unit) in conversions:
        return UnitReading(registry_unit, conversions[(key, registry_unit)], "conversion")
    return None


def convert(value: float, factor: float) -> float:
    """``value × factor`` in decimal arithmetic, so that 27.4 ‰ is 2.74 %, not 2.7400000000000002."""
    return float(Decimal(repr(float(value))) * Decimal(repr(float(factor))))


def conversion_note(printed_value: float, printed_unit: str, reading: UnitReading) -> str:
    """The note kept with a converted value: what was printed, the factor and the result."""
    return (f"converted from {printed_value:g} {printed_unit} to {printed_value * reading.factor:g} "
            f"{reading.registry_unit} (× {reading.factor:g}, {UNIT_CONVERSIONS.name})")


# --- validation: a pandera schema over the frame with the registry merged in ---------------------

_REGISTRY = ("registry_unit", "lower", "upper")
"""Columns merged in from the registry before validation: the data point's unit and its value bounds."""
_KEY = ["municipality", "data_point_id", "year"]
_CHECKED = ("municipality", "data_point_id", "year", "value", "unit", "status", "source_type", *QUALITY_COLUMNS)
"""The columns the schema checks (value_text, source and note are free text)."""


def _not_blank(s: pd.Series) -> pd.Series:
    # strip each distinct name once, not every row (a scale panel repeats each name ~500 times)
    codes, names = pd.factorize(s)
    ok = np.append([str(n).strip() != "" for n in names], False)  # code -1 (missing) -> False
    return pd.Series(ok[codes], index=s.index)


def _is_number(s: pd.Series) -> pd.Series:
    return s.isna() | pd.to_numeric(s, errors="coerce").notna()


def _quality_level(s: pd.Series) -> pd.Series:
    level = pd.to_numeric(s, errors="coerce")
    return s.isna() | (level.isin(list(QUALITY_LEVELS)) & level.eq(np.floor(level)))


def _is_bool(s: pd.Series) -> pd.Series:
    return s.isna() | s.map(lambda v: isinstance(v, (bool, np.bool_)) or str(v) in ("True", "False"))


def _unit_matches_registry(df: pd.DataFrame) -> pd.Series:
    return df["registry_unit"].isna() | df["unit"].eq(df["registry_unit"])


def _value_given_when_scored(df: pd.DataFrame) -> pd.Series:
    return ~(df["status"].isin(SCORED_STATUSES) & df["value"].isna())


def _value_in_bounds(df: pd.DataFrame) -> pd.Series:
    value = pd.to_numeric(df["value"], errors="coerce")
    return value.isna() | df["registry_unit"].isna() | ((df["lower"] <= value) & (value <= df["upper"]))


def schema(ids) -> pa.DataFrameSchema:
    """The tidy observation schema for a registry with these data point ids (lazy validation reports every failure).

    It validates a frame with the registry columns :data:`_REGISTRY` merged in (see :func:`validate`).
    """
    def isin(values):
        return pa.Check.isin(list(values), ignore_na=False, error="isin")  # error: the check's key in failure cases
    return pa.DataFrameSchema(
        {
            "municipality": pa.Column(nullable=True, checks=pa.Check(_not_blank, name="not_blank", ignore_na=False)),
            "data_point_id": pa.Column(nullable=True, checks=isin(ids)),
            "year": pa.Column(nullable=False, checks=pa.Check(whole_year, name="whole_year")),
            "value": pa.Column(nullable=True, checks=pa.Check(_is_number, name="is_number", ignore_na=False)),
            "unit": pa.Column(nullable=True),
            "status": pa.Column(nullable=True, checks=isin(STATUSES)),
            "source_type": pa.Column(nullable=True, checks=isin(SOURCE_TYPES)),
            "quality_level": pa.Column(nullable=True, checks=pa.Check(_quality_level, name="level", ignore_na=False)),
            "verified": pa.Column(nullable=True, checks=pa.Check(_is_bool, name="bool", ignore_na=False)),
            **{c: pa.Column(nullable=True) for c in _REGISTRY},
        },
        checks=[
            pa.Check(_unit_matches_registry, name="unit_matches_registry", ignore_na=False),
            pa.Check(_value_given_when_scored, name="value_given_when_scored", ignore_na=False),
            pa.Check(_value_in_bounds, name="value_in_bounds", ignore_na=False),
        ],
        unique=_KEY, report_duplicates="exclude_first",
    )


def _year_text(year: object) -> str:
    try:
        return f"{float(year):.0f}"
    except (TypeError, ValueError):
        return str(year)


# 'pandera column:pandera check' ('*' for frame-wide checks) -> (problem column, message from the row's values),
# in report order within a column
_MESSAGES = {
    "municipality:not_blank": ("municipality", lambda r: "empty; a municipality name is required"),
    "data_point_id:isin": ("data_point_id", lambda r: f"unknown data point id '{r['data_point_id']}'; "
                                                           f"expected an id from {paths.CATALOGUE.name}"),
    "*:multiple_fields_uniqueness": ("data_point_id", lambda r: f"duplicate row for {r['municipality']}, "
                                                                      f"{r['data_point_id']}, {_year_text(r['year'])}"),
    "year:not_nullable": ("year", lambda r: "missing; the year the value refers to is required"),
    "year:whole_year": ("year", lambda r: f"'{r['year']}' is not a whole year from {FIRST_YEAR} to {LAST_YEAR}"),
    "*:value_given_when_scored": ("value", lambda r: f"empty but status is '{r['status']}'; "
                                                           "give a number or set status to not_reported"),
    "value:is_number": ("value", lambda r: f"'{r['value']}' is not a number"),
    "*:value_in_bounds": ("value", lambda r: f"{float(r['value']):g} is outside the possible range "
                                                   f"[{r['lower']:g}, {r['upper']:g}] for unit '{r['registry_unit']}'"),
    "*:unit_matches_registry": ("unit", lambda r: f"'{r['unit']}' does not match the registry unit "
                                                        f"'{r['registry_unit']}' of {r['data_point_id']}; "
                                                        "convert the value and use the registry unit"),
    "status:isin": ("status", lambda r: f"'{r['status']}'; expected one of {list(STATUSES)}"),
    "source_type:isin": ("source_type", lambda r: f"'{r['source_type']}'; expected one of {list(SOURCE_TYPES)}"),
    "quality_level:level": ("quality_level", lambda r: f"'{r['quality_level']}'; expected a data-quality level "
                                                       f"1–6 (U4SSC Verification Manual) or empty"),
    "verified:bool": ("verified", lambda r: f"'{r['verified']}'; expected True, False or empty"),
}
_DUPLICATE = "*:multiple_fields_uniqueness"
_ALWAYS = {"municipality:not_blank", "data_point_id:isin", _DUPLICATE}
"""Checks still reported for a row with an unknown data point id (its unit, range etc. cannot be checked)."""


def _failures(work: pd.DataFrame, ids) -> pd.DataFrame:
    """Failing checks of the schema as rows (pos, key), one per frame position and check, in report order."""
    # forced on: PANDERA_VALIDATION_ENABLED / PANDERA_VALIDATION_DEPTH must not silently skip these checks
    with config_context(validation_enabled=True, validation_depth="SCHEMA_AND_DATA"):
        try:
            schema(ids).validate(work, lazy=True, inplace=True)
            return pd.DataFrame({"pos": pd.Series(dtype="int64"), "key": pd.Series(dtype=object)})
        except pa.errors.SchemaErrors as err:
            cases = err.failure_cases
    # frame-wide checks (and uniqueness) list a failing row once per column: key those by the check alone
    frame_wide = (cases["schema_context"] == "DataFrameSchema").to_numpy()
    column = np.where(frame_wide, "*", cases["column"].astype(str).to_numpy())
    out = pd.DataFrame({"pos": cases["index"].astype("int64").to_numpy(),
                        "key": column + ":" + cases["check"].astype(str).to_numpy()}).drop_duplicates()
    out = out[out["key"].isin(list(_MESSAGES))]
    known = work["registry_unit"].notna().to_numpy()[out["pos"]]
    has_year = work["year"].notna().to_numpy()[out["pos"]]
    is_dup = (out["key"] == _DUPLICATE).to_numpy()
    out = out[(known | out["key"].isin(list(_ALWAYS)).to_numpy()) & (has_year | ~is_dup)]
    column_rank = {c: n for n, c in enumerate(COLUMNS)}
    rank = {key: (column_rank[column], n) for n, (key, (column, _)) in enumerate(_MESSAGES.items())}
    out = out.assign(rank=out["key"].map(rank))
    return out.sort_values(["pos", "rank"], kind="mergesort").reset_index(drop=True)


def validate(frame: pd.DataFrame, file: str | Path, cat: pd.DataFrame | None = None,
             row_numbers: pd.Series | None = None) -> list[Problem]:
    """All problems of a tidy observation frame: ids, units, years, ranges, statuses, duplicates.

    The registry unit and value bounds of each row's data point are merged in, then the frame is
    validated by the pandera :func:`schema` (lazily, so every failure is found; all checks are
    vectorised). Problems come sorted by row, then column (in :data:`COLUMNS` order). A row with an
    unknown data point id is only checked for its municipality and for duplicates.
    ``row_numbers`` maps the frame's index to the row numbers a person sees in the file (default:
    spreadsheet rows below one header row).
    """
    cat = catalogue.load() if cat is None else cat
    file = str(file)
    missing = [c for c in COLUMNS if c not in frame.columns and c not in (*NUMBER_COLUMNS, *QUALITY_COLUMNS)]
    if missing:
        return [Problem(file, None, None, f"missing columns {missing}; expected {list(COLUMNS)}")]
    frame = with_quality_columns(frame)
    registry = cat.set_index("data_point_id")[["unit"]].rename(columns={"unit": "registry_unit"})
    bounds = [value_bounds(u) for u in registry["registry_unit"]]
    registry["lower"] = [lo for lo, _ in bounds]
    registry["upper"] = [hi for _, hi in bounds]
    work = frame.loc[:, list(_CHECKED)].reset_index(drop=True)  # positions 0..n-1 as index
    merged = registry.reindex(work["data_point_id"].to_numpy())
    for c in _REGISTRY:
        work[c] = merged[c].to_numpy()
    failures = _failures(work, registry.index)
    if failures.empty:
        return []
    positions = np.unique(failures["pos"].to_numpy())
    values = dict(zip(positions, work.iloc[positions].to_dict("records")))
    if row_numbers is None:
        row_of = {pos: file_row(pos) for pos in positions}
    else:
        row_of = {pos: int(row_numbers[frame.index[pos]]) for pos in positions}
    problems = []
    for pos, key in zip(failures["pos"], failures["key"]):
        column, message = _MESSAGES[key]
        problems.append(Problem(file, row_of[pos], column, message(values[pos])))
    return problems


def with_quality_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the data-quality columns added (empty) where it lacks them, e.g. a file from before they existed."""
    absent = [c for c in QUALITY_COLUMNS if c not in frame.columns]
    return frame.assign(**{c: pd.NA for c in absent}) if absent else frame


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Order columns and rows canonically so that outputs are byte-identical across runs."""
    out = with_quality_columns(frame).reindex(columns=list(COLUMNS)).copy()  # number columns may be absent
    out["municipality"] = out["municipality"].map(normalise_name)
    for column in NUMBER_COLUMNS:
        out[column] = out[column].astype("string")
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    return out.sort_values(["municipality", "data_point_id", "year", "source_type"],
                           kind="mergesort").reset_index(drop=True)


def map_labels(published: pd.DataFrame, aliases: pd.DataFrame, file: str | Path) -> pd.Series:
    """Data point id for every printed label; an unmapped label is an error, never dropped."""
    by_both = {(a.label, a.category): a.data_point_id for a in aliases.itertuples()
               if isinstance(a.category, str)}
    by_label = {a.label: a.data_point_id for a in aliases.itertuples() if not isinstance(a.category, str)}
    ids, problems = [], []
    for i, row in published.iterrows():
        dp = by_both.get((row["data_point"], row["category"]), by_label.get(row["data_point"]))
        if dp is None:
            problems.append(Problem(str(file), file_row(i), "data_point",
                                    f"label '{row['data_point']}' (category '{row['category']}') has no "
                                    f"entry in {paths.LABEL_ALIASES.name}; add one"))
        ids.append(dp)
    if problems:
        raise InputError(problems)
    return pd.Series(ids, index=published.index, name="data_point_id")


def raw_schemas(cat: pd.DataFrame) -> dict[str, pa.DataFrameSchema]:
    """pandera schemas of the published values as transcribed and of the two alias tables."""
    from analysis.validation import check

    text = pa.Column(str, nullable=False, checks=check(lambda s: s.str.strip().ne(""), "empty; a value is required"))
    number = check(lambda s: pd.to_numeric(s, errors="coerce").pipe(lambda v: s.isna() | (v.notna() & np.isfinite(v))),
                   "not a finite number")
    ids = check(lambda s: s.isin(set(cat["data_point_id"])), f"unknown data point id; expected an id of {paths.CATALOGUE.name}")
    units = check(lambda s: s.isin(set(cat["unit"])), f"not a unit of {paths.CATALOGUE.name}")
    return {
        "published": pa.DataFrameSchema({
            "city": text, "report": text, "data_point": text, "category": text,
            "report_date": pa.Column(str, nullable=False, checks=check(lambda s: s.str.fullmatch(r"(19|20)\d\d-(0[1-9]|1[0-2])"),
                                                                       "expected the report's month as YYYY-MM")),
            "value": pa.Column(str, nullable=True, checks=number), "unit": pa.Column(str, nullable=True),
            "value_text": pa.Column(str, nullable=True),
            "status": pa.Column(str, nullable=False, checks=check(lambda s: s.isin(STATUSES), f"expected one of {list(STATUSES)}")),
            "source_url": pa.Column(str, nullable=False, checks=check(lambda s: s.str.match(r"https?://"),
                                                                      "expected the page's URL (http:// or https://)")),
            "notes": pa.Column(str, nullable=True),
        }, unique=["city", "report", "data_point", "category"], report_duplicates="exclude_first"),
        "label_aliases": pa.DataFrameSchema({"label": text, "category": pa.Column(str, nullable=True),
                                             "data_point_id": pa.Column(str, nullable=False, checks=ids)},
                                            unique=["label", "category"], report_duplicates="exclude_first"),
        "unit_aliases": pa.DataFrameSchema({"printed_unit": text, "registry_unit": pa.Column(str, nullable=False, checks=units)},
                                           unique=["printed_unit", "registry_unit"], report_duplicates="exclude_first"),
    }


def load_published(path: Path | None = None, aliases_path: Path | None = None,
                   cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published U4SSC values as tidy observations, validated against the registry."""
    from analysis.validation import read_checked

    path = Path(path or paths.PUBLISHED)
    cat = catalogue.load() if cat is None else cat
    schemas = raw_schemas(cat)
    read_checked(path, schemas["published"])
    aliases = read_checked(Path(aliases_path or paths.LABEL_ALIASES), schemas["label_aliases"])
    read_checked(paths.UNIT_ALIASES, schemas["unit_aliases"])
    raw = read_csv(path, dtype={"value_text": str, "unit": str})
    unit_pairs, conversions = load_unit_aliases(), load_unit_conversions(cat=cat)
    ids = map_labels(raw, aliases, path)
    registry_unit = ids.map(cat.set_index("data_point_id")["unit"])

    problems: list[Problem] = []
    units, values, notes = [], [], []
    for i, row in raw.iterrows():
        reg = registry_unit[i]
        printed = row["unit"]
        note = [] if pd.isna(row["notes"]) else [str(row["notes"])]
        reading = None if pd.isna(printed) else normalise_unit(printed, reg, unit_pairs, conversions)
        if pd.isna(printed):
            units.append(reg)
            if row["status"] != "not_reported":
                note.append(f"unit not printed; registry unit '{reg}' assumed")
        elif reading is not None:
            units.append(reg)
        else:
            units.append(printed)  # left as printed so validation reports the mismatch
        value = row["value"]
        if reg == catalogue.YES_NO_UNIT and row["status"] != "not_reported":
            value = parse_yes_no(row["value_text"])
            if value is None:
                problems.append(Problem(str(path), file_row(i), "value_text",
                                        f"'{row['value_text']}' is not Yes or No"))
        elif reading is not None and reading.factor != 1 and pd.notna(value):
            note.append(conversion_note(float(value), str(printed), reading))
            value = convert(float(value), reading.factor)
        values.append(value)
        notes.append("; ".join(note) if note else pd.NA)
    year = pd.to_datetime(raw["report_date"], format="%Y-%m").dt.year
    who = municipalities.attribute(raw["city"], year, str(path), column="city")
    for i in who.index[who["mapping_note"].fillna("").ne("")]:
        notes[i] = "; ".join(n for n in (notes[i] if isinstance(notes[i], str) else None, who.at[i, "mapping_note"]) if n)
    tidy_frame = pd.DataFrame({
        "municipality": who["municipality"],
        "kommunenummer": who["kommunenummer"],
        "reported_kommunenummer": who["reported_kommunenummer"],
        "data_point_id": ids,
        "year": year,
        "value": pd.to_numeric(pd.Series(values, index=raw.index), errors="coerce"),
        "value_text": raw["value_text"],
        "unit": units,
        "status": raw["status"],
        "source_type": "published",
        "source": raw["report"] + " — " + raw["source_url"],
        "note": notes,
        "quality_level": pd.NA,  # collected by the verifiers, never printed
        "verified": raw["report"].str.contains(VERIFICATION_REPORT, regex=False).map({True: True, False: pd.NA}),
    })
    problems += validate(tidy_frame, path, cat)
    if problems:
        raise InputError(problems)
    return tidy(tidy_frame)


def scored(observations: pd.DataFrame) -> pd.DataFrame:
    """The observations whose values enter scores: reported or partial, with a value."""
    keep = observations["status"].isin(SCORED_STATUSES) & observations["value"].notna()
    return observations[keep]


def latest_rows(observations: pd.DataFrame) -> pd.DataFrame:
    """Per municipality and data point, the most recent row whatever its status; within a year the source of
    highest precedence (``data/raw/source_precedence.csv``) wins."""
    from analysis import precedence

    table = precedence.load()
    rank = observations["source_type"].map(dict(zip(table["source_type"], -table["precedence"])))
    obs = observations.assign(_rank=rank).sort_values(["year", "_rank"], kind="mergesort")
    last = obs.groupby(["municipality", "data_point_id"], sort=True).tail(1).drop(columns="_rank")
    return last.sort_values(["municipality", "data_point_id"], kind="mergesort").reset_index(drop=True)


def latest(observations: pd.DataFrame, precedence_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per municipality and data point, the baseline value chosen by the declared source precedence.

    Each source's most recent row is its statement: when a municipality's latest report says a
    data point was not reported, that source gives no baseline, even if an earlier year has a
    value. Among the statements with a value, the source of highest precedence in
    ``data/raw/source_precedence.csv`` wins (:mod:`analysis.precedence`); a simulated row is a
    stand-in, used only where no real source has a row. Where another real source gives a
    different value, it is kept in ``other_sources`` (text) beside the chosen one.
    """
    from analysis import precedence

    chosen, others = precedence.choose(observations, precedence_table)
    out = chosen.assign(other_sources=precedence.describe(others).reindex(chosen.index))
    return out.sort_values(["municipality", "data_point_id"], kind="mergesort").reset_index(drop=True)
