"""``python -m analysis fetch <provider>``: plan, send and check every query, then write one snapshot (or nothing).

The municipalities are today's (by number or name; default: the panel); for each year the
registry gives the number(s) its territory was published under (:meth:`Registry.number_in_year`),
and only numbers whose values belong to it today (:meth:`Registry.successor`) are asked for: a
2019 value of Tromsø is asked for under 1902, a 2022 value under 5401; a municipality formed
by a merger has no number of its own before it, so those years are skipped and said so. Every
answer is checked before anything is written; one fault stops the fetch with the provider,
table and request named, leaving earlier snapshots untouched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import requests

import analysis
from analysis import catalogue, municipalities
from analysis.errors import InputError
from analysis.national import http, mapping, snapshot
from analysis.national.providers import Answer, Provider
from analysis.national.ssb import SSB

PROVIDERS: dict[str, Callable[[], Provider]] = {"ssb": SSB}
"""Providers with a client. The mapping also names nav, fhi, miljodirektoratet, nilu, nkom, nvdb and valg."""
FIRST_YEAR = 2019
"""Default first year: the year of the pre-reform municipality numbers and of the published U4SSC reports."""


def default_years(today: date | None = None) -> list[int]:
    """2019 up to two years ago: KOSTRA's final figures for a year are published in the middle of the next."""
    today = today or date.today()
    return list(range(FIRST_YEAR, today.year - 1))


@dataclass
class Result:
    """What a fetch did: the snapshot written, the queries answered, and what it skipped and why."""

    provider: str
    snapshot: Path | None
    answers: list[Answer]
    municipalities: list[municipalities.Entity]
    years: list[int]
    skipped: list[str] = field(default_factory=list)

    @property
    def n_values(self) -> int:
        return int(sum(len(a.rows) for a in self.answers))


def resolve(texts: list[str] | None, years: list[int]) -> list[municipalities.Entity]:
    """Today's municipalities meant by numbers or names; a number valid only in a requested year maps to its successor."""
    reg = municipalities.registry()
    if not texts:
        return municipalities.members()
    found = []
    for text in texts:
        try:
            e = reg.resolve(text, file="command line", column="--municipality", label="option")
        except InputError as today_error:
            found.append(_successor_in(reg, text, years, today_error))
            continue
        if e.foreign:
            raise InputError.single("command line", f"{e.label} ({e.kommunenummer}) is a city outside Norway: "
                                                    "Norwegian national statistics have no values for it",
                                    column="--municipality", label="option")
        found.append(e)
    return sorted(dict.fromkeys(found), key=lambda e: e.kommunenummer)


def _successor_in(reg: municipalities.Registry, text: str, years: list[int],
                  error: InputError) -> municipalities.Entity:
    """Today's municipality of a number or name valid in one of ``years`` (e.g. 1902 --years 2019: Tromsø), or ``error``."""
    for year in years:
        try:
            old = reg.resolve(text, year, file="command line", column="--municipality", label="option")
        except InputError:
            continue
        now = reg.entity(reg.successor(old.kommunenummer, year).kommunenummer)
        if now is not None:
            return now
    raise error


def regions(entities: list[municipalities.Entity], years: list[int]) -> tuple[dict[int, list[str]], list[str]]:
    """Per year, the region codes to ask for (numbers whose values belong to the municipalities today), and the gaps."""
    reg = municipalities.registry()
    out: dict[int, list[str]] = {}
    skipped = []
    for year in years:
        codes = []
        for e in entities:
            numbers = reg.number_in_year(e.kommunenummer, year)
            own = [n for n in numbers if reg.successor(n, year).kommunenummer == e.kommunenummer]
            if own:
                codes += own
            else:
                skipped.append(f"{e.name} {e.kommunenummer} in {year}: published under {', '.join(numbers) or 'no number'}"
                               f", whose values belong to former municipalities (a merger); not asked for")
        if codes:
            out[year] = sorted(set(codes))
    return out, skipped


def entries_for(provider: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The provider's fetchable mapping entries, and the entries it skips with the reason."""
    own = frame[frame["provider"] == provider]
    ok = mapping.fetchable(own, set(PROVIDERS))
    skipped = [f"mapping entry {r.entry_id} ({r.data_point_id or r.role}, table {r.table_id or '?'}): "
               f"{'; '.join(mapping.missing_for_fetch(pd.Series(r._asdict()), set(PROVIDERS))) or 'its denominator cannot be fetched'}"
               for r in own[~ok].itertuples(index=False)]
    return own[ok], skipped


def run(provider: str, texts: list[str] | None = None, years: list[int] | None = None,
        map_path: Path | None = None, root: Path | None = None, session: requests.Session | None = None,
        moment: datetime | None = None, progress: bool = True) -> Result:
    """Fetch every fetchable mapping entry of ``provider`` for the municipalities and years; write one snapshot."""
    cat = catalogue.load()
    frame = mapping.load(map_path, cat=cat)
    if provider not in PROVIDERS:
        named = sorted(set(frame["provider"]))
        why = "is named in the mapping but has no client yet" if provider in named else "is unknown"
        raise InputError.single("command line", f"provider '{provider}' {why}; providers with a client: "
                                f"{sorted(PROVIDERS)} (the mapping names {named})", column="provider", label="argument")
    years = sorted(set(years or default_years()))
    entities = resolve(texts, years)
    entries, skipped = entries_for(provider, frame)
    if entries.empty:
        raise InputError.single(map_path or mapping.MAP, f"no entry of provider '{provider}' can be fetched: "
                                + "; ".join(skipped))
    codes, gaps = regions(entities, years)
    skipped += gaps
    client = PROVIDERS[provider]()
    queries = client.plan(entries, codes)
    root = Path(root or snapshot.ROOT)
    session = session or http.session(root / ".cache")
    from rich.console import Console
    from rich.progress import track

    answers = [client.fetch(query, session) for query in
               track(queries, description=f"{provider}: {len(queries)} queries", disable=not progress,
                     console=Console(stderr=True), transient=True)]
    meta = {"municipalities": [{"kommunenummer": e.kommunenummer, "name": e.name} for e in entities],
            "years": years, "skipped": skipped, "code_version": analysis.__version__,
            "mapping_sha256": hashlib.sha256(Path(map_path or mapping.MAP).read_bytes()).hexdigest()}
    folder = snapshot.write(provider, answers, meta, root, moment)
    return Result(provider, folder, answers, entities, years, skipped)


def connectors(cat: pd.DataFrame | None = None, map_path: Path | None = None) -> pd.Series:
    """Per data point, the national sources the mapping names: provider, table, verification and what is missing."""
    frame = mapping.load(map_path, cat=catalogue.load() if cat is None else cat)
    values = frame[frame["role"] == "value"]
    ok = mapping.fetchable(frame, set(PROVIDERS)).reindex(values.index)
    text = []
    for (i, r), can in zip(values.iterrows(), ok):
        lack = mapping.missing_for_fetch(r, set(PROVIDERS))
        state = "fetchable" if can else "; ".join(lack) or "denominator cannot be fetched"
        table = f" table {r['table_id']}" if r["table_id"] else ""
        text.append(f"{r['provider']}{table} ({r['verification']}; {state})")
    return pd.Series(text, index=values.index).groupby(values["data_point_id"]).agg(" | ".join)
