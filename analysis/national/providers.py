"""What every national statistics provider offers: planned queries, one answer per query, and errors that name the request.

A provider turns mapping entries (:mod:`.mapping`) for some municipalities and years into
:class:`Query` objects, sends each one and checks its answer. SSB's PxWebApi (:mod:`.ssb`) is
the one implemented. The others the mapping names fit the same shape: NAV and FHI
(Kommunehelsa) publish PxWeb-like or JSON-stat tables per municipality and year, so a query is
a table plus dimension selections; Miljødirektoratet's greenhouse-gas file is one spreadsheet
whose rows are municipalities and whose columns are years, so a query is the file and the
rows it must contain. Each answer becomes rows of :data:`ROW_COLUMNS` in a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd
import requests

from analysis.errors import InputError, Problem

ROW_COLUMNS = ("entry_id", "provider", "table_id", "region_code", "period", "year", "code", "value",
               "source_unit", "url", "query", "retrieved_at")
"""One fetched number: which mapping entry and table it answers, the region code and year it was published
under, the category code (summed over by the transformation), the value as published and where it came from."""


@dataclass(frozen=True)
class Query:
    """One request to a provider: a table, the dimension selections (codes per dimension) and the entries it answers.

    ``entries`` pairs each mapping entry with the content code that answers it.
    """

    provider: str
    table_id: str
    selections: tuple[tuple[str, tuple[str, ...]], ...]
    entries: tuple[tuple[str, str], ...]
    years: tuple[int, ...]
    url: str = ""

    def selection(self, dim: str) -> tuple[str, ...]:
        """The codes selected in one dimension (empty when the dimension is left to elimination)."""
        return dict(self.selections).get(dim, ())

    @property
    def text(self) -> str:
        """The selections as one readable line, e.g. ``Region=1902,1507; ContentsCode=Personer1; Tid=2019``."""
        return "; ".join(f"{dim}={','.join(codes)}" for dim, codes in self.selections)


@dataclass
class Answer:
    """A query's checked answer: rows of :data:`ROW_COLUMNS` and the response text kept in the snapshot."""

    query: Query
    rows: pd.DataFrame
    body: str
    retrieved_at: str
    from_cache: bool = False
    notes: list[str] = field(default_factory=list)


class FetchError(InputError):
    """A fetch failed; the message names the provider, the table and the request, and says what went wrong."""

    def __init__(self, provider: str, table_id: str, request: str, message: str):
        self.provider, self.table_id, self.request = provider, table_id, request
        super().__init__([Problem(f"{provider} table {table_id}", None, None, f"{message}; request: {request}")])


class Provider(Protocol):
    """A source of national statistics per municipality (SSB today; NAV, FHI, Miljødirektoratet fit the same shape)."""

    name: str
    """The provider's key in the mapping's ``provider`` column and under ``data/external/``."""

    def plan(self, entries: pd.DataFrame, regions: dict[int, list[str]]) -> list[Query]:
        """The queries that answer ``entries`` for the region codes valid in each year (``{year: [codes]}``)."""
        ...

    def fetch(self, query: Query, session: requests.Session) -> Answer:
        """Send one query and check its answer against it; raise :class:`FetchError` on any fault."""
        ...
