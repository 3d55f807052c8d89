"""Cities outside Norway: registered by a city-supplied file, each keyed by a country code and its national code.

A Norwegian municipality is keyed by its kommunenummer (``analysis.municipalities``); a city outside
Norway has none and never gets an invented one. It is registered in
``data/external/city_supplied/cities.csv`` (:func:`path`), one row per city, and keyed by its **city
id** ``<country>-<code>``: the ISO 3166-1 alpha-2 code of its country, a hyphen, and its national
statistical code where it has one (Statistics Sweden's kommunkod 0180: ``SE-0180`` Stockholm;
Statistics Denmark's kommunekode 101: ``DK-101`` København), else a short ASCII form of its name
(``XK-pristina``). The country prefix keeps national codes of different countries apart (Sweden's
0301 is not Oslo's 0301), and letters can never be read as a kommunenummer, so a city id and a
Norwegian number cannot collide. Files and URLs use the id and an ASCII form of the name
(``SE-1280-malmo``); pages show the name as written (Malmö). A name that is also a Norwegian
municipality's (Lund) is labelled with its country (``Lund (SE)``) so that every label of a run is unique.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import paths
from analysis.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

FILE_NAME = "cities.csv"
COLUMNS = ("id", "name", "country", "national_code", "source", "population", "population_year",
           "population_source", "area_km2", "area_source")
"""Columns of the registry file; those of :data:`REQUIRED` must be there and filled, the others may be left out or empty."""
REQUIRED = ("id", "name", "country", "source")
NORWAY = "NO"
MAX_NAME_LENGTH = 100
ID = re.compile(r"^(?P<country>[A-Z]{2})-(?P<code>[A-Za-z0-9]{1,40})$")
"""A city id: ISO 3166-1 alpha-2 country code, a hyphen, the national code or a short name (ASCII letters and digits)."""
ID_PREFIX = re.compile(r"^[A-Z]{2}-[A-Za-z0-9]{1,40}")
"""The start of a city id, as it opens a file name (``SE-1280-malmo``)."""


@dataclass(frozen=True)
class City:
    """One registered city outside Norway, with the facts its file supplied (each with its source)."""

    id: str
    name: str
    country: str
    national_code: str | None
    source: str
    population: int | None = None
    population_year: int | None = None
    population_source: str | None = None
    area_km2: float | None = None
    area_source: str | None = None

    @property
    def country_name(self) -> str:
        return countries()[self.country]


def path() -> Path:
    """The registry file of cities outside Norway (read at call time, so a test's folder is honoured)."""
    return paths.CITY_SUPPLIED / FILE_NAME


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → country name (the iso3166 package)."""
    import iso3166
    return {code: c.apolitical_name for code, c in iso3166.countries_by_alpha2.items()}


def key_of(text: str) -> str:
    """The registry key a file name or argument opens with: '5501-tromso' → '5501', 'SE-1280-malmo' → 'SE-1280'.

    Anything else (a name such as 'Aurskog-Høland') is returned unchanged.
    """
    text = str(text)
    found = ID_PREFIX.match(text)
    if found and (len(text) == found.end() or text[found.end()] == "-"):
        return found.group(0)
    if text[:4].isdigit():
        return text.split("-", 1)[0]
    return text


def schema(norwegian: dict[str, str]):
    """The pandera schema of the registry file; ``norwegian`` maps kommunenummer → name (an id may not be one)."""
    import pandera.pandas as pa

    from analysis.validation import check, row_check, whole_year

    known = countries()
    text = pa.Column(str, nullable=False, checks=check(lambda s: s.str.strip().ne(""), "empty; a value is required"))
    optional_text = pa.Column(str, nullable=True)
    id_form = ("expected <country>-<code>: an ISO 3166-1 alpha-2 country code, a hyphen and the national "
               "statistical code or a short ASCII name (letters and digits), e.g. SE-0180 or DK-101")

    def number(s: pd.Series) -> pd.Series:
        import pandas as pd
        return pd.to_numeric(s, errors="coerce")

    return pa.DataFrameSchema({
        "id": pa.Column(str, nullable=False, unique=True, report_duplicates="exclude_first", checks=[
            check(lambda s: s.str.fullmatch(ID.pattern) | s.str.fullmatch(r"\d{1,4}"), id_form)]),
        "name": pa.Column(str, nullable=False, checks=[
            check(lambda s: s.str.strip().ne(""), "empty; a value is required"),
            check(lambda s: s.str.len().le(MAX_NAME_LENGTH), f"longer than {MAX_NAME_LENGTH} characters"),
            check(lambda s: ~s.str.contains(r"[/\\\x00-\x1f]|^\.|\.\.", regex=True),
                  "must not contain '/', '\\', '..' or control characters or start with '.'")]),
        "country": pa.Column(str, nullable=False, checks=[
            check(lambda s: s.isin(list(known)) | s.eq(NORWAY),
                  "unknown country code; expected an ISO 3166-1 alpha-2 code in capitals, such as SE, DK or FI"),
            check(lambda s: s.ne(NORWAY),
                  "NO: a Norwegian municipality is keyed by its kommunenummer (Statistics Norway's classification "
                  "in data/raw) and needs no entry here")]),
        "national_code": pa.Column(str, nullable=True, checks=check(
            lambda s: s.str.fullmatch(r"[A-Za-z0-9]{1,40}"), "expected the national code in ASCII letters and digits")),
        "source": text,
        "population": pa.Column(str, nullable=True, checks=check(
            lambda s: number(s).ge(0) & number(s).eq(number(s).round()), "expected a whole number of inhabitants")),
        "population_year": pa.Column(str, nullable=True, checks=check(
            lambda s: whole_year(s) & number(s).notna(), "expected a whole year between 1900 and 2100")),
        "population_source": optional_text,
        "area_km2": pa.Column(str, nullable=True, checks=check(
            lambda s: number(s).gt(0), "expected the area in km² as a positive number (decimal point)")),
        "area_source": optional_text,
    }, checks=[
        row_check(lambda d: ~d["id"].str.fullmatch(ID.pattern) | d["id"].str.split("-").str[0].eq(d["country"]),
                  "the id must start with the row's country code and a hyphen (SE-0180 for country SE)", "id"),
        row_check(lambda d: d["national_code"].isna() | d["id"].eq(d["country"] + "-" + d["national_code"]),
                  "the id must be <country>-<national_code> when a national code is given", "national_code"),
        row_check(lambda d: d["population"].isna() | d["population_source"].notna(),
                  "a population needs its source in population_source (document, table or URL)", "population"),
        row_check(lambda d: d["population"].isna() | d["population_year"].notna(),
                  "a population needs the year it refers to in population_year", "population"),
        row_check(lambda d: d["area_km2"].isna() | d["area_source"].notna(),
                  "an area needs its source in area_source (document, table or URL)", "area_km2"),
        row_check(lambda d: ~d.duplicated(["country", "name"]),
                  "a second city of this name in this country; make the names differ (as Statistics Norway "
                  "does: 'Herøy (Nordland)')", "name"),
    ], strict=True)


def problems(frame: pd.DataFrame, file: Path, norwegian: dict[str, str]) -> list[Problem]:
    """Every problem of the registry frame: the schema, and ids that are Norwegian municipality numbers."""
    from analysis.validation import problems as schema_problems

    found = schema_problems(frame, schema(norwegian), file)
    if "id" in frame.columns:
        for index, value in frame["id"].items():
            text = str(value)
            if re.fullmatch(r"\d{1,4}", text):
                number = text.zfill(4)
                whose = f" of {norwegian[number]}" if number in norwegian else ""
                found.append(Problem(str(file), int(index) + 2, "id",
                                     f"'{text}' is a Norwegian municipality number{whose}: a Norwegian municipality "
                                     f"needs no entry here, and a city outside Norway is keyed <country>-<code> "
                                     f"(e.g. SE-0180), never by a Norwegian number"))
    return sorted(set(found), key=lambda p: (p.row or 0, p.column or "", p.message))


def read(file: Path, norwegian: dict[str, str]) -> list[City]:
    """The cities of the registry file (none when it does not exist), or InputError naming file, row and column."""
    file = Path(file)
    if not file.exists():
        return []
    with open(file, encoding="utf-8", newline="") as f:
        header = next(csv.reader(f), [])
    if not header:
        raise InputError.single(file, f"file is empty; expected a header row with the columns {', '.join(COLUMNS)}")
    import pandas as pd

    from analysis.files import read_csv

    frame = read_csv(file, dtype=str, keep_default_na=False, na_values=[""])
    frame = frame.astype("str")
    for column in frame.columns:
        frame[column] = frame[column].str.normalize("NFC").str.strip()
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError.single(file, f"missing columns {missing}; expected the columns {', '.join(COLUMNS)} "
                                      f"({', '.join(REQUIRED)} required)")
    for column in COLUMNS:  # optional columns may be left out of the file
        if column not in frame.columns:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="str")
    found = problems(frame, file, norwegian)
    if found:
        raise InputError(found)
    return [_city(row) for row in frame.to_dict("records")]


def _city(row: dict) -> City:
    def given(key: str) -> str | None:
        value = row.get(key)
        return None if value is None or value != value else str(value)

    population, year, area = given("population"), given("population_year"), given("area_km2")
    return City(id=row["id"], name=row["name"], country=row["country"], national_code=given("national_code"),
                source=row["source"], population=int(float(population)) if population else None,
                population_year=int(float(year)) if year else None, population_source=given("population_source"),
                area_km2=float(area) if area else None, area_source=given("area_source"))


def facts(city: City) -> str:
    """The supplied facts of a city in one phrase, each with its source ('population 362 133 (2024; SCB …)')."""
    parts = [f"{city.country_name}"]
    if city.national_code:
        parts.append(f"national code {city.national_code}")
    if city.population is not None:
        parts.append(f"population {city.population:,}".replace(",", "\u202f")
                     + f" ({city.population_year}; {city.population_source})")
    if city.area_km2 is not None:
        parts.append(f"area {city.area_km2:g} km² ({city.area_source})")
    return ", ".join(parts)
