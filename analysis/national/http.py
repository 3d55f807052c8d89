"""HTTP for the connectors: a cached session (requests-cache) with retries and backoff (urllib3) and a rate limiter.

SSB's published limits (https://www.ssb.no/api/api-mot-statistikkbanken--brukerveiledning and
https://data.ssb.no/api/pxwebapi/v2/config): at most **30 queries per minute per IP address**
and **800 000 data cells per query**; a very long GET URL is refused (a recorded request with
839 region codes in a 4 365-character URL got HTTP 404), so requests are split into batches of
region codes. The limiter spaces network calls so no 60-second window holds more than 30;
answers served from the cache do not count.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

MAX_CALLS = 30
"""SSB: queries per minute per IP address."""
PERIOD = 60.0
MAX_CELLS = 800_000
"""SSB: data cells per query."""
TIMEOUT = (10.0, 60.0)
"""Seconds to connect and to read an answer."""
CACHE_EXPIRY = 24 * 3600
"""Seconds a cached answer is reused: a re-run the same day replays it instead of asking again."""
USER_AGENT = "u4ssc-analysis (national statistics connector; python-requests)"


class RateLimiter:
    """At most ``max_calls`` calls in any ``period`` seconds (a sliding window); ``wait`` sleeps until one is allowed."""

    def __init__(self, max_calls: int = MAX_CALLS, period: float = PERIOD,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.max_calls, self.period, self.clock, self.sleep = max_calls, period, clock, sleep
        self.calls: deque[float] = deque()

    def wait(self) -> float:
        """Block until a call is allowed, record it, and return the seconds waited."""
        now = self.clock()
        while self.calls and now - self.calls[0] >= self.period:
            self.calls.popleft()
        waited = 0.0
        if len(self.calls) >= self.max_calls:
            waited = self.period - (now - self.calls[0])
            self.sleep(waited)
            now = self.clock()
            self.calls.popleft()
        self.calls.append(now)
        return waited


def retry_policy(total: int = 3, backoff: float = 2.0) -> Retry:
    """Retry GETs on connection errors and 429/5xx with exponential backoff, honouring ``Retry-After``."""
    return Retry(total=total, connect=total, read=total, status=total, backoff_factor=backoff,
                 status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"GET"}),
                 respect_retry_after_header=True, raise_on_status=False)


def session(cache_dir: Path | None, expire_after: int = CACHE_EXPIRY, retries: Retry | None = None) -> requests.Session:
    """A ``requests`` session with retries; with ``cache_dir``, a requests-cache SQLite cache there.

    Only successful answers are cached, so an error is asked again next time.
    """
    if cache_dir is not None:
        import requests_cache

        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        s: requests.Session = requests_cache.CachedSession(
            str(Path(cache_dir) / "http_cache"), backend="sqlite", expire_after=expire_after,
            allowable_codes=(200,), allowable_methods=("GET",))
    else:
        s = requests.Session()
    adapter = HTTPAdapter(max_retries=retries or retry_policy())
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    return s


def is_cached(s: requests.Session, url: str) -> bool:
    """Whether a cached session holds an unexpired answer to ``url`` (no network call, so no rate-limit slot)."""
    cache = getattr(s, "cache", None)
    if cache is None:
        return False
    try:
        response = cache.get_response(cache.create_key(requests.Request("GET", url).prepare()))
    except Exception:  # a cache that cannot tell is treated as a miss: the limiter then waits, which is safe
        return False
    return response is not None and not response.is_expired
