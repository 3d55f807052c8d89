"""Statistics Norway's PxWebApi v2: GET a table's data as JSON-stat 2.0 and check the answer against the request.

The request form is the one recorded in a real exchange (``tests/fixtures/ssb/``)::

    https://data.ssb.no/api/pxwebapi/v2/tables/12134/data?lang=no&format=json-stat2
        &valuecodes[KOKkommuneregion0000]=0301,4601,5001&valuecodes[ContentsCode]=KOSAG110000&valuecodes[Tid]=2024

A dimension the mapping does not select is left to SSB's elimination (its total). An answer is
accepted only if it has exactly the requested dimensions and codes: a missing or extra dimension
or code means the table changed, and the fetch stops with the table and the request named.
"""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import groupby
from math import prod
from urllib.parse import quote

import pandas as pd
import requests

from analysis.national import http, jsonstat
from analysis.national.mapping import parse_selections
from analysis.national.providers import ROW_COLUMNS, Answer, FetchError, Query

BASE = "https://data.ssb.no/api/pxwebapi/v2"
TIME = "Tid"
CONTENTS = "ContentsCode"
MAX_REGIONS = 100
"""Region codes per request: keeps the URL well under the length SSB refused (4 365 characters)."""


def url(table_id: str, selections: tuple[tuple[str, tuple[str, ...]], ...], lang: str = "no") -> str:
    """The GET URL of a data query in the recorded form (brackets unencoded, codes comma-separated)."""
    parts = [f"lang={lang}", "format=json-stat2"]
    parts += [f"valuecodes[{dim}]={','.join(quote(c, safe='') for c in codes)}" for dim, codes in selections]
    return f"{BASE}/tables/{quote(table_id, safe='')}/data?" + "&".join(parts)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SSB:
    """The SSB provider: plans one query per table, selection and set of region codes; rate-limited to SSB's limit."""

    name = "ssb"
    title = "Statistics Norway (SSB), PxWebApi v2"

    def __init__(self, limiter: http.RateLimiter | None = None, timeout: tuple[float, float] = http.TIMEOUT):
        self.limiter = limiter or http.RateLimiter()
        self.timeout = timeout

    def plan(self, entries: pd.DataFrame, regions: dict[int, list[str]]) -> list[Query]:
        """One query per (table, region dimension, other selections, region-code batch); years with the same codes share one."""
        queries = []
        groups = entries.sort_values(["table_id", "entry_id"], kind="mergesort").groupby(
            ["table_id", "region_dimension", "other_selections"], sort=True)
        by_codes = sorted((tuple(sorted(set(codes))), year) for year, codes in regions.items())
        for (table_id, region_dim, other), group in groups:
            contents = tuple(dict.fromkeys(group["contents_code"]))
            for codes, items in groupby(by_codes, key=lambda t: t[0]):
                years = tuple(sorted(y for _, y in items))
                # cells per region code: contents x years x other selected codes (SSB: at most 800 000 per query)
                per_region = len(contents) * len(years) * prod(len(c) for _, c in parse_selections(other))
                size = max(1, min(MAX_REGIONS, http.MAX_CELLS // per_region))
                for start in range(0, len(codes), size):
                    batch = codes[start:start + size]
                    selections = ((region_dim, batch), *parse_selections(other), (CONTENTS, contents),
                                  (TIME, tuple(str(y) for y in years)))
                    answers = tuple(zip(group["entry_id"], group["contents_code"]))
                    queries.append(Query(self.name, table_id, selections, answers, years, url(table_id, selections)))
        return queries

    def fetch(self, query: Query, session: requests.Session) -> Answer:
        """GET the query, then parse and check the answer; every fault is a :class:`FetchError` naming the request."""
        def fail(message: str) -> FetchError:
            return FetchError(self.name, query.table_id, query.url, message)

        cached = http.is_cached(session, query.url)
        if not cached:
            self.limiter.wait()
        try:
            response = session.get(query.url, timeout=self.timeout)
        except requests.exceptions.Timeout as exc:
            raise fail(f"no answer within {self.timeout[1]:g} s (timeout): {exc}") from exc
        except requests.exceptions.RetryError as exc:
            raise fail(f"gave up after retries: {exc}") from exc
        except requests.exceptions.ConnectionError as exc:
            raise fail(f"cannot reach {BASE} (no network connection?): {exc}") from exc
        except requests.exceptions.RequestException as exc:
            raise fail(f"request failed: {exc}") from exc
        if response.status_code != 200:
            raise fail(f"HTTP {response.status_code} from SSB: {_error_title(response)}")
        text = response.text
        try:
            doc, frame = jsonstat.parse(text)
        except jsonstat.JsonStatError as exc:
            raise fail(f"malformed JSON-stat answer: {exc}") from exc
        problem = mismatch(query, doc)
        if problem:
            raise fail(f"the table has changed: {problem}")
        if frame.empty or frame["value"].isna().all():
            raise fail("empty answer: the table returned no values for these municipalities and years")
        from_cache = bool(getattr(response, "from_cache", False))
        created = getattr(response, "created_at", None)  # requests-cache: when the answer was first received
        retrieved = created.astimezone(timezone.utc).isoformat(timespec="seconds") if created else _now()
        return Answer(query, rows(query, doc, frame, retrieved), text, retrieved, from_cache)


def _error_title(response: requests.Response) -> str:
    """SSB's error title (``{"type": ..., "title": "Non-existent value", "status": 400}``) or the body's start."""
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("title"):
            return str(body["title"])
    except ValueError:
        pass
    return (response.text or "").strip()[:200] or response.reason or "no body"


def mismatch(query: Query, doc: dict) -> str | None:
    """Why an answer does not fit its query (a missing or extra dimension, a missing or new code), or None."""
    ids = list(doc["id"])
    for dim, wanted in query.selections:
        if dim not in ids:
            return f"dimension '{dim}' is missing from the answer (it has {ids})"
        got = jsonstat.categories(doc, dim)
        lost = [c for c in wanted if c not in got]
        if lost:
            return f"codes {lost} of dimension '{dim}' are missing from the answer"
        new = [c for c in got if c not in wanted]
        if new:
            return f"dimension '{dim}' has new codes {new} that were not asked for"
    selected = {dim for dim, _ in query.selections}
    for dim, n in zip(ids, doc["size"]):
        if dim not in selected and n > 1:
            return f"dimension '{dim}' ({n} categories) is not in the mapping's selection"
    return None


def rows(query: Query, doc: dict, frame: pd.DataFrame, retrieved: str) -> pd.DataFrame:
    """The answer's cells as snapshot rows (:data:`ROW_COLUMNS`), one per entry, region, period and code."""
    region_dim = query.selections[0][0]
    others = [dim for dim, _ in query.selections[1:] if dim not in (CONTENTS, TIME)]
    code = pd.Series("", index=frame.index)
    if others:
        code = pd.Series([";".join(f"{d}={v}" for d, v in zip(others, vals))
                          for vals in frame[others].astype(str).itertuples(index=False)], index=frame.index)
    cells = pd.DataFrame({
        "contents": frame[CONTENTS].astype(str),
        "table_id": query.table_id, "provider": query.provider,
        "region_code": frame[region_dim].astype(str), "period": frame[TIME].astype(str),
        "year": frame[TIME].astype(str).str[:4].astype("int64"), "code": code,
        "value": frame["value"].astype("float64"),
        "source_unit": frame[CONTENTS].map(lambda c: jsonstat.unit(doc, CONTENTS, c) or ""),
        "url": query.url, "query": query.text, "retrieved_at": retrieved,
    })
    entries = pd.DataFrame(list(query.entries), columns=["entry_id", "contents"])
    out = cells.merge(entries, on="contents", how="inner", validate="many_to_many")
    return out.loc[:, list(ROW_COLUMNS)].sort_values(["entry_id", "region_code", "period", "code"],
                                                     kind="mergesort").reset_index(drop=True)
