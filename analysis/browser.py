"""Check the rendered report site in a real, headless Chromium: broken links, broken images, console errors.

The site is served from a local ``http.server`` on 127.0.0.1 (a free port) and visited with
Playwright driving Debian's Chromium (``executable_path``, never a browser Playwright downloads).
Starting from ``index.html`` every internal page linked is visited; on each page the check records

* JavaScript exceptions and console messages of level error (including "Failed to load resource"),
* responses with status >= 400 and requests that failed (style sheets, scripts, images, ...),
* requests leaving the site (fonts or scripts from the internet: the site must work offline);
  they are blocked and reported,
* images that did not load (``complete`` false or ``naturalWidth`` 0),
* internal links whose target is missing (pages are visited; downloads are fetched from the server),
  and ``#fragment`` links whose target id is not on the page.

Links to other hosts are listed but not followed. With ``--screenshots DIR`` the index, the first
profile, real-data view, resident page and council paper are captured 1400 px and 390 px wide
(``index-1400.png``, ``profiles__<stem>-390.png``, ``residents__<stem>-nb-1400.png``, ...).

Command line: ``python -m analysis.browser <site_dir> --screenshots <dir>`` (exit 1 on any problem).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
VIEWPORT = {"width": 1400, "height": 900}
SCREENSHOT_WIDTHS = (1400, 390)  # desktop and a phone
SCREENSHOT_FOLDERS = ("profiles/", "real/", "residents/", "council/")
"""Besides the index, the first page visited in each of these folders is captured: one profile, its
real-data view, a resident page and a council paper."""
MAX_SCREENSHOT_HEIGHT = 6000  # px; taller pages are cut
PAGE_SUFFIXES = ("", ".html", ".htm")

# What the page shows once it has loaded (absolute URLs).
PAGE_PROBE = """() => ({
  title: document.title,
  links: Array.from(document.querySelectorAll('a[href]'), a => a.href),
  images: Array.from(document.images, i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
  ids: Array.from(document.querySelectorAll('[id]'), e => e.id)
        .concat(Array.from(document.querySelectorAll('a[name]'), a => a.name)),
})"""


class BrowserError(RuntimeError):
    """Chromium or Playwright could not be started."""


@dataclass
class Problem:
    kind: str  # console, exception, http, failed-request, external-request, broken-image, broken-link, missing-anchor, navigation
    page: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


@dataclass
class PageResult:
    url: str
    path: str  # relative to the site, decoded
    title: str = ""
    seconds: float = 0.0


@dataclass
class CheckResult:
    site_dir: str
    chromium: str
    pages: list[PageResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    resources_checked: list[str] = field(default_factory=list)
    external_links: list[str] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        lines = [f"browser check of {self.site_dir} with {self.chromium}: {len(self.pages)} pages, "
                 f"{len(self.resources_checked)} downloads, {len(self.problems)} problems in {self.seconds:.1f} s"]
        lines += [f"  PROBLEM {p}" for p in self.problems]
        return "\n".join(lines)


def find_chromium() -> str | None:
    """The Chromium executable: $U4SSC_CHROMIUM, else the first of chromium, chromium-browser, google-chrome on PATH."""
    env = os.environ.get("U4SSC_CHROMIUM")
    if env:
        return shutil.which(env)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


# --------------------------------------------------------------------------------------------
# The local server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing early (the browser leaving a page, a partial read) is not a site problem.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """Serve ``site_dir`` on 127.0.0.1 at a free port; yields the base URL (ending in '/')."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------------------------
# The crawl


def _is_page(path: str) -> bool:
    return path.endswith("/") or Path(path).suffix.lower() in PAGE_SUFFIXES


def screenshot_name(rel: str, width: int) -> str:
    rel = rel or "index.html"
    if rel.endswith("/"):
        rel += "index.html"
    stem = re.sub(r"\.html?$", "", rel)
    return re.sub(r'[\\/:*?"<>|]+', "__", stem) + f"-{width}.png"


class _Recorder:
    """Collects the problems the browser reports while one page is open."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.page = ""
        self.problems: list[Problem] = []

    def add(self, kind: str, detail: str) -> None:
        self.problems.append(Problem(kind, self.page, detail))

    def route(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.origin:
            self.add("external-request", f"{route.request.resource_type} {url}")
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def console(self, message: Any) -> None:
        if message.type in ("error", "assert"):
            location = message.location.get("url", "") if message.location else ""
            self.add("console", f"console.{message.type}: {message.text} {unquote(location)}".strip())

    def page_error(self, error: Any) -> None:
        self.add("exception", str(error).splitlines()[0] if str(error) else "uncaught exception")

    def response(self, response: Any) -> None:
        if response.status >= 400:
            self.add("http", f"{response.status} {unquote(response.url)}")

    def request_failed(self, request: Any) -> None:
        failure = request.failure or ""
        if "ERR_BLOCKED_BY_CLIENT" not in failure and "ERR_ABORTED" not in failure:
            self.add("failed-request", f"{failure} {unquote(request.url)}")


def _screenshots(page: Any, rel: str, folder: Path, max_height: int) -> list[str]:
    written = []
    for width in SCREENSHOT_WIDTHS:
        page.set_viewport_size({"width": width, "height": VIEWPORT["height"]})
        page.wait_for_timeout(200)  # layout after the resize
        height = page.evaluate("() => Math.ceil(document.documentElement.scrollHeight)")
        target = folder / screenshot_name(rel, width)
        page.screenshot(path=str(target), full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": max(1, min(int(height), max_height))})
        written.append(str(target))
    page.set_viewport_size(VIEWPORT)
    return written


def check_site(site_dir: str | Path, screenshots: str | Path | None = None, *, chromium: str | None = None,
               timeout: float = 30.0, max_pages: int = 1000,
               max_height: int = MAX_SCREENSHOT_HEIGHT) -> CheckResult:
    """Visit ``index.html`` and every internal page it links to (transitively) in headless Chromium."""
    from playwright.sync_api import Error as PlaywrightError, sync_playwright

    started = time.monotonic()
    site_dir = Path(site_dir).resolve()
    if not (site_dir / "index.html").is_file():
        raise FileNotFoundError(f"{site_dir / 'index.html'}: no site to check")
    executable = chromium or find_chromium()
    if executable is None:
        raise BrowserError("Chromium is not installed (apt-get install chromium), or set U4SSC_CHROMIUM")
    shots = Path(screenshots) if screenshots is not None else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    result = CheckResult(str(site_dir), executable)

    with serve(site_dir) as base, sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_FLAGS),
                                                 headless=True, timeout=timeout * 1000)
        except PlaywrightError as exc:
            raise BrowserError(f"cannot start {executable}: {exc}") from exc
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, service_workers="block")
            recorder = _Recorder(urlsplit(base).netloc)
            context.route("**/*", recorder.route)
            page = context.new_page()
            page.on("console", recorder.console)
            page.on("pageerror", recorder.page_error)
            page.on("response", recorder.response)
            page.on("requestfailed", recorder.request_failed)
            _crawl(page, context, base, recorder, result, shots, timeout, max_pages, max_height)
        finally:
            browser.close()
    result.problems = recorder.problems
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _crawl(page: Any, context: Any, base: str, recorder: _Recorder, result: CheckResult, shots: Path | None,
           timeout: float, max_pages: int, max_height: int) -> None:
    from playwright.sync_api import Error as PlaywrightError

    origin = urlsplit(base).netloc
    queue: list[str] = [base + "index.html"]
    visited: set[str] = set()
    anchors: dict[str, set[str]] = {}
    wanted_anchors: list[tuple[str, str, str]] = []  # (page linking, target page, fragment)
    resources: dict[str, list[str]] = {}
    shot_folders: set[str | None] = set()
    while queue and len(visited) < max_pages:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        rel = unquote(urlsplit(url).path.lstrip("/"))
        recorder.page = rel
        entry = PageResult(url, rel)
        t0 = time.monotonic()
        try:
            page.goto(url, wait_until="load", timeout=timeout * 1000)
            page.wait_for_load_state("networkidle", timeout=timeout * 1000)
        except PlaywrightError as exc:
            recorder.add("navigation", f"{str(exc).splitlines()[0]} {unquote(url)}")
            continue
        probe = page.evaluate(PAGE_PROBE)
        entry.title = probe["title"]
        for image in probe["images"]:
            if not image["ok"]:
                src = image["src"]
                recorder.add("broken-image", (src[:40] + "...") if src.startswith("data:") else unquote(src) or "(no src)")
        anchors[url] = set(probe["ids"])
        for link in probe["links"]:
            target, fragment = urldefrag(link)
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https"):
                continue  # mailto:, javascript:, data:
            if parts.netloc != origin:
                if link not in result.external_links:
                    result.external_links.append(link)
                continue
            if _is_page(parts.path):
                if target not in visited and target not in queue:
                    queue.append(target)
                if fragment:
                    wanted_anchors.append((rel, target, fragment))
            else:
                resources.setdefault(target, []).append(rel)
        folder = next((f for f in SCREENSHOT_FOLDERS if rel.startswith(f)), None)
        if shots is not None and (rel == "index.html" or (folder and folder not in shot_folders)):
            shot_folders.add(folder)
            result.screenshots += _screenshots(page, rel, shots, max_height)
        entry.seconds = round(time.monotonic() - t0, 3)
        result.pages.append(entry)

    for url, linking in sorted(resources.items()):
        rel = unquote(urlsplit(url).path.lstrip("/"))
        result.resources_checked.append(rel)
        response = context.request.get(url, timeout=timeout * 1000)
        if not response.ok:
            recorder.page = linking[0]
            recorder.add("broken-link", f"{response.status} {rel}")
        response.dispose()
    for linking, target, fragment in wanted_anchors:
        # Browsers match the fragment as written, then percent-decoded (nbconvert writes ids encoded).
        if target in anchors and not {fragment, unquote(fragment)} & anchors[target]:
            recorder.page = linking
            recorder.add("missing-anchor", f"{unquote(urlsplit(target).path.lstrip('/'))}#{unquote(fragment)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.browser",
                                description="Check a rendered report site in headless Chromium.")
    p.add_argument("site_dir", type=Path)
    p.add_argument("--screenshots", type=Path, default=None,
                   help="folder for PNGs of the index, one profile, real-data view, resident page and council "
                        "paper, 1400 and 390 px wide")
    p.add_argument("--chromium", default=None, help="Chromium executable (default: found on PATH)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per page load (default %(default)s)")
    p.add_argument("--max-height", type=int, default=MAX_SCREENSHOT_HEIGHT,
                   help="cut screenshots of taller pages to this many pixels (default %(default)s)")
    p.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    args = p.parse_args(argv)
    try:
        result = check_site(args.site_dir, args.screenshots, chromium=args.chromium, timeout=args.timeout,
                            max_height=args.max_height)
    except (BrowserError, FileNotFoundError) as exc:
        print(f"browser: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    if args.json:
        args.json.write_text(json.dumps(asdict(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
