"""Norway's municipalities keyed by their official number (kommunenummer), with validity periods and successors.

The registry is built from Statistics Norway's classification 131 as adopted in ``data/raw``:
``norway_municipalities_2020.csv`` (valid 2020–2023), ``norway_municipalities_2024.csv`` (valid from
2024) and ``norway_municipality_changes.csv`` (old number → new number at the 2020 and 2024 reforms),
so mergers, splits and renumbering are data, not errors. A municipality is named by its number; its
name is a label (unique among the municipalities of one period: duplicate names carry the county,
e.g. ``Herøy (Nordland)``). Inputs may give a number or a name; an ambiguous name is refused with the
candidates and a near miss gets "did you mean".

Where an observation published under an old number belongs today (:meth:`Registry.successor`):

* a **renumbering or renaming** (one old number, one new number, the new one having no other
  predecessor and the same name, or the change being a rename) carries the value over unchanged:
  the municipality is the same, only its number changed (Tromsø 1902 → 5401 → 5501);
* a **split** carries the value to the successor that keeps the old name (the continuing
  municipality: Ålesund 1507 → 1508 when Haram left in 2024), marked as measured within the former
  borders; the other parts get nothing;
* a **merger** of several municipalities into one leaves the value with the former municipality:
  a value of one part is not a value of the whole (old Ålesund 1504 is not the Ålesund of 2020).

Cities outside Norway have no kommunenummer: they are registered by a city-supplied file and keyed by
a city id such as ``SE-0180`` (:mod:`analysis.cities`). The registry holds them beside Norway's
municipalities (:attr:`Registry.foreign`), so every input resolves them the same way (by id, file
name or name), but they belong to no panel and to no county, and have no history.

The module reads the CSV files with the csv module (no pandas), so the workflow can resolve names
cheaply when it is parsed; only a registry file of cities outside Norway, when there is one, is
checked with pandas and pandera.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import paths
from analysis.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from analysis.cities import City

MAX_NAME_LENGTH = 100
"""Longest municipality name or number text accepted from an input (the longest official name has 34 characters)."""
_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})
_TRANSLIT_FOREIGN = str.maketrans({"ß": "ss", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "đ": "d", "Đ": "d",
                                   "ł": "l", "Ł": "l", "œ": "oe", "Œ": "oe", "ı": "i"})
"""Letters NFKD does not decompose, for the file names of cities outside Norway (Norwegian slugs stay as they were)."""
_NUMBER = re.compile(r"^\d{3,4}$")


def normalise_name(name: object) -> str:
    """NFC-normalise and trim a name so 'Ålesund' typed on any system matches."""
    return unicodedata.normalize("NFC", str(name)).strip()


def _key(name: str) -> str:
    return " ".join(normalise_name(name).casefold().split())


def base_name(name: str) -> str:
    """The name without a Sámi or Kven parallel form and without the county in parentheses ('Herøy (Nordland)' → 'Herøy')."""
    return normalise_name(re.sub(r"\s*\(.*\)\s*$", "", name).split(" - ")[0])


def slug(number: str, name: str) -> str:
    """File and URL name of a municipality: number and a lower-case ASCII form of its name ('5501-tromso')."""
    text = unicodedata.normalize("NFKD", base_name(name).translate(_TRANSLIT))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    county = re.search(r"\((.*)\)\s*$", name)
    if county:
        text += "-" + county.group(1).translate(_TRANSLIT)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return f"{number}-" + re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def city_slug(city_id: str, name: str) -> str:
    """File and URL name of a city outside Norway: its id and an ASCII form of its name ('SE-1280-malmo')."""
    text = unicodedata.normalize("NFKD", base_name(name).translate(_TRANSLIT).translate(_TRANSLIT_FOREIGN))
    text = re.sub(r"[^a-z0-9]+", "-", "".join(ch for ch in text if not unicodedata.combining(ch)).lower()).strip("-")
    return f"{city_id}-{text}" if text and text.replace("-", "") != city_id.split("-", 1)[1].lower() else city_id


@dataclass(frozen=True)
class Entity:
    """One municipality as it existed over a period of whole years (``valid_to`` None: it exists today).

    ``kommunenummer`` is the registry key: the municipality's number, or for a city outside Norway
    (``country`` not ``NO``) its city id (``SE-0180``, :mod:`analysis.cities`), never a Norwegian number.
    """

    kommunenummer: str
    name: str
    county_number: str | None
    county: str | None
    valid_from: int | None
    valid_to: int | None
    former_names: tuple[str, ...] = ()
    country: str = "NO"
    qualified: bool = False
    """The label carries the country, because a Norwegian municipality or another city has the same name."""

    @property
    def current(self) -> bool:
        return self.valid_to is None

    @property
    def foreign(self) -> bool:
        """A city outside Norway (no kommunenummer, no county, no Norwegian national statistics)."""
        return self.country != "NO"

    @property
    def slug(self) -> str:
        return city_slug(self.kommunenummer, self.name) if self.foreign else slug(self.kommunenummer, self.name)

    @property
    def label(self) -> str:
        """The name, plus number and period for a municipality that no longer exists (unique across periods), plus
        the country for a city outside Norway whose name is not unique ('Lund (SE)')."""
        if self.qualified:
            return f"{self.name} ({self.country})"
        if self.current:
            return self.name
        return f"{self.name} ({self.kommunenummer}, until {self.valid_to})"

    def valid_in(self, year: int) -> bool:
        return (self.valid_from is None or year >= self.valid_from) and (self.valid_to is None or year <= self.valid_to)

    def period(self) -> str:
        start = f"{self.valid_from}" if self.valid_from else "…"
        return f"{start}–{self.valid_to}" if self.valid_to else f"{start}–today" if self.valid_from else "today"


@dataclass(frozen=True)
class Mapping:
    """Where an observation published under one number in one year belongs today, and by which rule."""

    kommunenummer: str
    rule: str
    clean: bool
    note: str = ""


@dataclass(frozen=True)
class Change:
    old_number: str
    old_name: str
    new_number: str
    new_name: str
    year: int
    kind: str


@dataclass
class Registry:
    """Every municipality of the 2019, 2020 and 2024 classifications and the changes between them, and the
    registered cities outside Norway (``foreign``, keyed by city id; ``cities`` holds their supplied facts)."""

    entities: list[Entity]
    changes: list[Change]
    foreign: list[Entity] = field(default_factory=list)
    cities: dict[str, City] = field(default_factory=dict)
    _by_number: dict[str, list[Entity]] = field(default_factory=dict, repr=False)
    _by_id: dict[str, Entity] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for e in self.entities:
            self._by_number.setdefault(e.kommunenummer, []).append(e)
        for e in self.foreign:
            self._by_number[e.kommunenummer] = [e]
            self._by_id[e.kommunenummer.casefold()] = e
            self._by_id[e.slug.casefold()] = e

    # -- look-up -------------------------------------------------------------------------------
    def current(self) -> list[Entity]:
        """Today's municipalities, by number."""
        return sorted((e for e in self.entities if e.current), key=lambda e: e.kommunenummer)

    def entity(self, number: str, year: int | None = None) -> Entity | None:
        """The municipality with this number valid in ``year`` (today's when ``year`` is None)."""
        found = self._by_number.get(str(number).zfill(4), [])
        for e in found:
            if (e.current if year is None else e.valid_in(year)):
                return e
        return None

    def resolve(self, text: object, year: int | None = None, *, file: str = "input", row: int | None = None,
                column: str | None = "municipality", label: str = "column") -> Entity:
        """The municipality a number or name means (in ``year``, or today), or InputError naming the cell.

        Names match case- and Unicode-form-insensitively, on the whole official name, on any of its
        parallel forms ('Trondheim' for 'Trondheim - Tråante') or without the county ('Herøy' matches
        both Herøys, which is ambiguous and refused with the candidates). A near miss gets "did you mean".
        """
        def fail(message: str) -> InputError:
            return InputError.single(file, message, row=row, column=column, label=label)

        raw = normalise_name(text) if text is not None else ""
        if not raw:
            raise fail("empty; a municipality number or name is required")
        if len(raw) > MAX_NAME_LENGTH:
            raise fail(f"{len(raw)} characters; a municipality number or name has at most {MAX_NAME_LENGTH}")
        if raw.casefold() in self._by_id:  # a city outside Norway by its id or file name
            return self._by_id[raw.casefold()]
        when = f"in {year}" if year is not None else "today"
        if _NUMBER.match(raw):
            number = raw.zfill(4)
            e = self.entity(number, year)
            if e is not None:
                return e
            others = self._by_number.get(number, [])
            if others:
                e = others[-1]
                succ = self.successor(number, e.valid_to or e.valid_from or 0)
                now = self.entity(succ.kommunenummer)
                hint = f"; its successor today is {now.kommunenummer} {now.name}" if now and succ.clean or \
                    (now and succ.rule.startswith("split")) else ""
                raise fail(f"municipality number {number} ({e.name}) was valid {e.period()}, not {when}{hint}")
            raise fail(f"unknown municipality number '{raw}'; expected a kommunenummer valid {when} "
                       f"(Statistics Norway classification 131)")
        matches = self._match(raw, year)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            options = ", ".join(f"{e.label if e.foreign else e.name} {e.kommunenummer}"
                                for e in sorted(matches, key=lambda e: e.kommunenummer))
            raise fail(f"'{raw}' is ambiguous: {options}; give the number or the full name")
        elsewhere = [e for e in self.entities if _key(raw) in _names(e)]
        if elsewhere:
            e = elsewhere[-1]
            succ = self.successor(e.kommunenummer, e.valid_to or 0) if e.valid_to else None
            now = self.entity(succ.kommunenummer) if succ else None
            hint = f"; since then it is part of {now.kommunenummer} {now.name}" if now else ""
            raise fail(f"'{raw}' ({e.kommunenummer}) existed {e.period()}, not {when}{hint}")
        pool = self._pool(year)
        names = {n: e for e in pool for n in _names(e)}
        close = difflib.get_close_matches(_key(raw), list(names), n=3, cutoff=0.75)
        hint = ""
        if close:
            hint = "; did you mean " + " or ".join(dict.fromkeys(
                f"{names[c].name} ({names[c].kommunenummer})" for c in close)) + "?"
        elif re.match(r"^NO-\d{3,4}$", raw, flags=re.IGNORECASE):
            hint = f"; a Norwegian municipality is given by its kommunenummer alone ('{raw[3:].zfill(4)}')"
        else:
            from analysis import cities
            registered = ", ".join(f"{e.kommunenummer} {e.name}" for e in self.foreign) or "none"
            hint = (f"; a city outside Norway must first be registered in {cities.path()} "
                    f"(registered: {registered}; see docs/data.md)")
        raise fail(f"unknown municipality '{raw}' {when}{hint}")

    def _pool(self, year: int | None) -> list[Entity]:
        """Municipalities valid in ``year`` (today's when None) and the cities outside Norway (valid in every year)."""
        return [e for e in self.entities if (e.current if year is None else e.valid_in(year))] + self.foreign

    def _match(self, raw: str, year: int | None) -> list[Entity]:
        wanted = _key(raw)
        pool = self._pool(year)
        exact = [e for e in pool if _key(e.name) == wanted]
        if exact:
            return exact
        return [e for e in pool if wanted in _names(e)]

    # -- history -------------------------------------------------------------------------------
    def successor(self, number: str, year: int) -> Mapping:
        """Where an observation of ``number`` in ``year`` belongs today, following renumberings, splits and mergers."""
        e = self.entity(number, year)
        if e is None:
            raise InputError.single("municipality registry", f"no municipality numbered {number} in {year}",
                                    column="kommunenummer")
        notes, clean, rule = [], True, "same number"
        while not e.current:
            step = [c for c in self.changes if c.old_number == e.kommunenummer and c.year == e.valid_to + 1]
            if not step:
                return Mapping(e.kommunenummer, "no successor recorded", False, "")
            if len(step) > 1:  # split: the part keeping the name continues the municipality
                same = [c for c in step if base_name(c.new_name).casefold() == base_name(e.name).casefold()]
                if not same:
                    return Mapping(e.kommunenummer, "split without a continuing municipality", False,
                                   f"{e.name} ({e.kommunenummer}) was split in {step[0].year}; the value stays with it")
                parts = ", ".join(f"{c.new_name} {c.new_number}" for c in step)
                notes.append(f"measured within the borders of {e.name} {e.kommunenummer} ({e.period()}), "
                             f"split in {step[0].year} into {parts}")
                clean, rule, change = False, "split: continuing municipality", same[0]
            else:
                change = step[0]
                parts = [c for c in self.changes if c.new_number == change.new_number and c.year == change.year]
                same_name = base_name(change.new_name).casefold() == base_name(e.name).casefold()
                if len(parts) > 1 or not (same_name or change.kind == "rename"):
                    return Mapping(e.kommunenummer, "merger: stays with the former municipality", False,
                                   f"{e.name} ({e.kommunenummer}) was merged into {change.new_name} "
                                   f"({change.new_number}) in {change.year}; a value of one part is not a value of the whole")
                if rule == "same number":
                    rule = change.kind
                notes.append(f"published under {e.kommunenummer} {e.name} ({e.period()})")
            nxt = self.entity(change.new_number, change.year)
            if nxt is None:
                return Mapping(e.kommunenummer, "successor not in the registry", False, "")
            e = nxt
        return Mapping(e.kommunenummer, rule, clean, "; ".join(notes))

    def number_in_year(self, number: str, year: int) -> list[str]:
        """Numbers under which a municipality of today (``number``) or its territory was published in ``year``.

        One number for a renumbering (Tromsø 5501 in 2019: 1902); the parts of a merger in the years
        before it (several numbers, whose values cannot simply be added for rates or shares).
        """
        target = self.entity(number)
        if target is None:
            raise InputError.single("municipality registry", f"no municipality numbered {number} today",
                                    column="kommunenummer")
        found = []
        for e in self.entities:
            if not e.valid_in(year):
                continue
            if e.current:
                if e.kommunenummer == target.kommunenummer:
                    found.append(e.kommunenummer)
                continue
            if self._leads_to(e, target.kommunenummer):
                found.append(e.kommunenummer)
        return sorted(found)

    def _leads_to(self, e: Entity, number: str) -> bool:
        frontier = [e]
        while frontier:
            nxt = []
            for x in frontier:
                if x.kommunenummer == number and x.current:
                    return True
                if x.current:
                    continue
                for c in self.changes:
                    if c.old_number == x.kommunenummer and c.year == x.valid_to + 1:
                        y = self.entity(c.new_number, c.year)
                        if y is not None:
                            nxt.append(y)
            frontier = nxt
        return False

    def frame(self, current_only: bool = True) -> "pd.DataFrame":
        """The municipalities as a frame (kommunenummer, municipality, county_number, county, valid_from, valid_to)."""
        import pandas as pd
        rows = self.current() if current_only else self.entities
        return pd.DataFrame({
            "kommunenummer": [e.kommunenummer for e in rows],
            "municipality": [e.label for e in rows],
            "county_number": [e.county_number for e in rows],
            "county": [e.county for e in rows],
            "valid_from": pd.array([e.valid_from for e in rows], dtype="Int64"),
            "valid_to": pd.array([e.valid_to for e in rows], dtype="Int64"),
            "slug": [e.slug for e in rows],
        })


def _names(e: Entity) -> set[str]:
    out = {_key(e.label)}
    for name in (e.name, *e.former_names):
        out.add(_key(name))
        out.add(_key(base_name(name)))
        for part in re.sub(r"\s*\(.*\)\s*$", "", name).split(" - "):
            out.add(_key(part))
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return [{k: normalise_name(v) for k, v in row.items()} for row in csv.DictReader(f)]


def build_registry(list_2020: Path, list_2024: Path, changes_path: Path, cities_path: Path | None = None) -> Registry:
    """The registry from the two classification lists and the change table (see the module docstring), with the
    cities outside Norway of ``cities_path`` (the registry file of :mod:`analysis.cities`) when it exists."""
    l2020 = {r["kommunenummer"]: r for r in _read(list_2020)}
    l2024 = {r["kommunenummer"]: r for r in _read(list_2024)}
    changes = [Change(r["old_number"], r["old_name"], r["new_number"], r["new_name"], int(r["change_date"][:4]),
                      r["kind"]) for r in _read(changes_path)]
    new_2020 = {c.new_number for c in changes if c.year == 2020 and c.old_number != c.new_number}
    entities = []
    for number, r in l2024.items():
        old = l2020.get(number)
        start = None if old is not None and number not in new_2020 else 2020 if old is not None else 2024
        former = (old["name"],) if old is not None and old["name"] != r["name"] else ()
        entities.append(Entity(number, r["name"], r["county_number"], r["county_name"], start, None, former))
    for number, r in l2020.items():
        if number in l2024:
            continue
        entities.append(Entity(number, r["name"], r["county_number"], r["county_name"],
                               2020 if number in new_2020 else None, 2023))
    seen = set(l2020)
    for c in changes:
        if c.year == 2020 and c.old_number not in seen:
            seen.add(c.old_number)
            entities.append(Entity(c.old_number, c.old_name, c.old_number[:2], None, None, 2019))
    entities.sort(key=lambda e: (e.kommunenummer, e.valid_from or 0))
    foreign, facts = _foreign(cities_path, entities) if cities_path is not None else ([], {})
    return Registry(entities, changes, foreign, facts)


def _foreign(cities_path: Path, entities: list[Entity]) -> tuple[list[Entity], dict[str, City]]:
    """The registered cities outside Norway as entities; a name shared with a Norwegian municipality or a city of
    another country is labelled with the country."""
    from analysis import cities

    found = cities.read(cities_path, {e.kommunenummer: e.name for e in entities if e.current})
    taken = {_key(base_name(e.name)) for e in entities if e.current}
    counts: dict[str, int] = {}
    for c in found:
        counts[_key(c.name)] = counts.get(_key(c.name), 0) + 1
    out = [Entity(c.id, c.name, None, None, None, None, (), c.country,
                  _key(c.name) in taken or counts[_key(c.name)] > 1) for c in found]
    return sorted(out, key=lambda e: e.kommunenummer), {c.id: c for c in found}


@lru_cache(maxsize=4)
def _registry_cached(list_2020: Path, list_2024: Path, changes: Path, cities_path: Path,
                     stamp: tuple[int, int] | None) -> Registry:
    return build_registry(list_2020, list_2024, changes, cities_path if stamp is not None else None)


def registry() -> Registry:
    """The registry from ``data/raw`` and the registry file of cities outside Norway (cached per process until
    that file changes)."""
    from analysis import cities

    file = cities.path()
    try:
        info = file.stat()
        stamp = (info.st_mtime_ns, info.st_size)
    except OSError:
        stamp = None
    return _registry_cached(paths.MUNICIPALITIES_2020, paths.MUNICIPALITIES_2024, paths.MUNICIPALITY_CHANGES,
                            file, stamp)


# --- panels: the sets of municipalities a run assesses ------------------------------------------

DEFAULT_PANEL = "u4ssc17"
PANELS = {
    "u4ssc17": "the 17 municipalities of the UNECE project (data/raw/municipalities.csv, reconstructed from public sources)",
    "norway": "every municipality of Norway today (Statistics Norway classification 131)",
}
"""Panels selectable with the ``panel`` parameter."""
GROUPINGS = ("county", "in_first_round_of_12")
"""Panel columns that define groups of municipalities for the synthesis's group comparisons."""
PANEL_COLUMNS = ("kommunenummer", "municipality", "in_first_round_of_12", "participation_evidence",
                 "u4ssc_documents", "source_url")


def panel_numbers(path: Path | None = None) -> list[str]:
    """The kommunenummer of the project panel file, checked against the registry (csv module only)."""
    return [e.kommunenummer for e in _panel_entities(Path(path or paths.MUNICIPALITIES))]


def _panel_entities(path: Path) -> list[Entity]:
    reg = registry()
    rows = _read(path)
    problems = []
    if rows and "kommunenummer" not in rows[0]:
        raise InputError.single(path, "missing column 'kommunenummer'; expected columns " + ", ".join(PANEL_COLUMNS))
    out, seen = [], {}
    for i, row in enumerate(rows, start=2):
        try:
            e = reg.resolve(row["kommunenummer"], file=str(path), row=i, column="kommunenummer")
        except InputError as exc:
            problems += exc.problems
            continue
        name = row.get("municipality", "")
        if name and _key(name) not in _names(e):
            from analysis.errors import Problem
            problems.append(Problem(str(path), i, "municipality",
                                    f"'{name}' is not the name of {e.kommunenummer} ({e.name})"))
        if e.kommunenummer in seen:
            from analysis.errors import Problem
            problems.append(Problem(str(path), i, "kommunenummer",
                                    f"{e.kommunenummer} {e.name} listed twice (first in row {seen[e.kommunenummer]})"))
            continue
        seen[e.kommunenummer] = i
        out.append(e)
    if problems:
        raise InputError(problems)
    return out


def members(panel: str = DEFAULT_PANEL) -> list[Entity]:
    """The municipalities of a panel, by number (csv module only: cheap for the workflow)."""
    if panel == "u4ssc17":
        return sorted(_panel_entities(paths.MUNICIPALITIES), key=lambda e: e.kommunenummer)
    if panel == "norway":
        return registry().current()
    raise InputError.single("parameters", f"unknown panel '{panel}'; expected one of {sorted(PANELS)}",
                            column="panel", label="key")


def load(panel: str = DEFAULT_PANEL) -> pd.DataFrame:
    """A panel as a frame: kommunenummer, municipality (the name, a label), county, slug and the panel file's columns.

    The 17-municipality list is reconstructed from public sources (no single source names all 17),
    so it is configuration, not fact: see its ``participation_evidence`` column. County names and
    numbers come from the classification (2024 counties).
    """
    import pandas as pd

    from analysis import cities, validation

    reg = registry()

    def read() -> pd.DataFrame:
        frame = reg.frame()
        chosen = [e.kommunenummer for e in members(panel)]
        frame = frame[frame["kommunenummer"].isin(chosen)].reset_index(drop=True)
        extra = pd.DataFrame(_read(paths.MUNICIPALITIES)).drop(columns=["municipality"])
        extra["kommunenummer"] = extra["kommunenummer"].str.zfill(4)
        return frame.merge(extra, on="kommunenummer", how="left", validate="one_to_one")

    # once per process for the same panel file and registry (every profile of a warm kernel reads its panel)
    registry_files = tuple(validation.file_key(f) for f in (paths.MUNICIPALITIES_2020, paths.MUNICIPALITIES_2024,
                                                            paths.MUNICIPALITY_CHANGES, cities.path()))
    return validation.once(paths.MUNICIPALITIES, (panel, registry_files), read)


def peers(panel: pd.DataFrame, municipality: str, peer_group: dict, names: list[str] | None = None) -> list[str]:
    """The peer group of a municipality (by label), itself included: all, the same county, or a given list.

    ``names`` are the municipalities of the run (default: the panel's). ``members`` of a list are
    labels or numbers. A municipality whose county is unknown (e.g. a city outside Norway) is compared with all.
    """
    names = sorted(names if names is not None else panel["municipality"])
    by = peer_group.get("by", "all")
    if by == "list":
        number_to_label = dict(zip(panel["kommunenummer"], panel["municipality"])) if "kommunenummer" in panel else {}
        listed = {number_to_label.get(m, m) for m in peer_group.get("members", [])}
        return sorted((listed & set(names)) | {municipality})
    if by == "county" and "county" in panel.columns:
        county = dict(zip(panel["municipality"], panel["county"]))
        own = county.get(municipality)
        if isinstance(own, str):
            return [m for m in names if county.get(m) == own]
    return names


def resolve(name: str, known: list[str] | pd.Series, file: str = "parameters",
            column: str = "municipality", label: str = "column") -> str:
    """The label among ``known`` that a number or name means (through the registry), or a clear error."""
    known = [normalise_name(k) for k in known]
    wanted = normalise_name(name)
    if wanted in known:
        return wanted
    by_key = {_key(k): k for k in known}
    if _key(wanted) in by_key:
        return by_key[_key(wanted)]
    e = registry().resolve(wanted, file=file, column=column, label=label)
    if e.label in known:
        return e.label
    raise InputError.single(file, f"unknown municipality '{wanted}' for this run: {e.name} ({e.kommunenummer}) "
                                  f"is not among its municipalities",
                            column=column, label=label)


def attribute(names: "pd.Series", years: "pd.Series", file: str, rows: "pd.Series | None" = None,
              column: str = "municipality") -> "pd.DataFrame":
    """The municipality each input row belongs to today: label, kommunenummer, the number valid in its year and a note.

    ``names`` are numbers or names as written in the input, ``years`` the years of the values (the
    number or name is resolved in that year's classification, and the value follows
    :meth:`Registry.successor`). ``rows`` are the row numbers a person sees in ``file``; every row
    that cannot be resolved is reported at once (InputError).
    """
    frame, problems = attribute_rows(names, years, file, rows, column)
    if problems:
        raise InputError(problems)
    return frame


def attribute_rows(names: "pd.Series", years: "pd.Series", file: str, rows: "pd.Series | None" = None,
                   column: str = "municipality") -> "tuple[pd.DataFrame, list]":
    """:func:`attribute` for readers that keep the good rows: the attribution (empty where a row cannot be resolved)
    and one problem for every such row, named by its own row number."""
    import pandas as pd

    from analysis.errors import file_row

    reg = registry()
    out = {"municipality": [], "kommunenummer": [], "reported_kommunenummer": [], "mapping_note": []}
    cache: dict[tuple[str, int], tuple[str, str, str, str]] = {}
    problems = []
    for pos, (name, year) in enumerate(zip(names, years)):
        key = (normalise_name(name), int(year))
        if key not in cache:
            row = int(rows.iloc[pos]) if rows is not None else file_row(pos)
            try:
                e = reg.resolve(key[0], key[1], file=file, row=row, column=column)
            except InputError as exc:
                problems += exc.problems
                for name_of_column in out:
                    out[name_of_column].append(None)
                continue  # not cached: a later row with the same name is reported with its own row number
            m = reg.successor(e.kommunenummer, key[1])
            now = reg.entity(m.kommunenummer) or reg.entity(m.kommunenummer, key[1])
            label = now.label if now is not None else e.label
            note = "" if m.rule == "same number" else f"{m.rule}: {m.note}" if m.note else m.rule
            cache[key] = (label, m.kommunenummer, e.kommunenummer, note)
        for name_of_column, value in zip(out, cache[key]):
            out[name_of_column].append(value)
    return pd.DataFrame(out, index=names.index), problems


# --- schemas of the municipality tables (checked by ``python -m analysis build``) ----------------

def schemas() -> dict[Path, "object"]:
    """pandera schemas of the classification lists, the change table and the panel file."""
    import pandera.pandas as pa

    from analysis.validation import check, row_check

    number = check(lambda s: s.str.fullmatch(r"\d{4}"), "expected a four-digit kommunenummer such as '0301'")
    county = check(lambda s: s.str.fullmatch(r"\d{2}"), "expected a two-digit county number such as '03'")
    text = pa.Column(str, nullable=False, checks=check(lambda s: s.str.strip().ne(""), "empty; a value is required"))
    source = pa.Column(str, nullable=False, checks=check(lambda s: s.str.strip().ne(""), "a source is required"))
    listing = pa.DataFrameSchema({
        "kommunenummer": pa.Column(str, nullable=False, unique=True, checks=number),
        "name": text, "county_number": pa.Column(str, nullable=False, checks=county), "county_name": text,
        "valid_from": pa.Column(str, nullable=False, checks=check(lambda s: s.str.fullmatch(r"\d{4}-\d{2}-\d{2}"),
                                                                  "expected a date YYYY-MM-DD")),
        "source": source,
    }, unique=["name"], report_duplicates="exclude_first")
    changes = pa.DataFrameSchema({
        "old_number": pa.Column(str, nullable=False, checks=number), "old_name": text,
        "new_number": pa.Column(str, nullable=False, checks=number), "new_name": text,
        "change_date": pa.Column(str, nullable=False, checks=check(lambda s: s.str.fullmatch(r"\d{4}-01-01"),
                                                                   "expected a reform date YYYY-01-01")),
        "kind": pa.Column(str, nullable=False, checks=check(lambda s: s.isin(["merge", "split", "renumber", "rename"]),
                                                           "expected merge, split, renumber or rename")),
        "source": source,
    }, checks=[row_check(lambda d: (d["kind"] != "rename") | (d["old_number"] == d["new_number"]),
                         "a rename keeps the number", "new_number")],
        unique=["old_number", "new_number", "change_date"], report_duplicates="exclude_first")
    panel = pa.DataFrameSchema({
        "kommunenummer": pa.Column(str, nullable=False, unique=True, checks=number),
        "municipality": text,
        "in_first_round_of_12": pa.Column(str, nullable=False, checks=check(lambda s: s.isin(["yes", "no"]),
                                                                            "expected yes or no")),
        "participation_evidence": text, "u4ssc_documents": pa.Column(str, nullable=True), "source_url": source,
    })
    return {paths.MUNICIPALITIES_2020: listing, paths.MUNICIPALITIES_2024: listing,
            paths.MUNICIPALITY_CHANGES: changes, paths.MUNICIPALITIES: panel}


def check_tables() -> None:
    """Validate the municipality tables of ``data/raw`` (every problem at once), then the panel against the registry."""
    from analysis.errors import InputError as Error
    from analysis.validation import table_problems

    found = [p for path, schema in schemas().items() for p in table_problems(path, schema)]
    if found:
        raise Error(found)
    panel_numbers()
