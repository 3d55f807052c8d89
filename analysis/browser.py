"""Check the rendered report site in a real, headless Chromium: broken links, broken images, console errors.

The site is served from a local ``http.server`` on 127.0.0.1 (a free port). Chromium is driven through
the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (NUL-separated JSON on file descriptors
3 and 4), so nothing beyond the standard library and Debian's ``chromium`` package is needed.
Starting from ``index.html`` every internal page linked is visited; on each page the check records

* JavaScript exceptions and console messages of level error (including "Failed to load resource"),
* responses with status >= 400 and requests that failed (style sheets, scripts, images, ...),
* images that did not load (``complete`` false or ``naturalWidth`` 0),
* internal links whose target is missing (pages are visited; downloads are fetched from the server),
  and ``#fragment`` links whose target id is not on the page,

and saves a full-page PNG screenshot. Links to other hosts are listed but not followed (offline).

Command line: ``python -m analysis.browser <site_dir> --screenshots <dir>`` (exit 1 on any problem).
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import http.server
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import base64
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
    "--window-size=1280,900",
)
VIEWPORT_WIDTH = 1280
MAX_SCREENSHOT_HEIGHT = 6000  # px; taller pages are cut (a 12000 px shot costs ~2 s)
PAGE_SUFFIXES = ("", ".html", ".htm")

# Collect what the page shows once it has loaded (absolute URLs).
PAGE_PROBE = """(() => ({
  title: document.title,
  links: Array.from(document.querySelectorAll('a[href]'), a => a.href),
  images: Array.from(document.images, i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
  ids: Array.from(document.querySelectorAll('[id]'), e => e.id)
        .concat(Array.from(document.querySelectorAll('a[name]'), a => a.name)),
  height: Math.ceil(Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)),
}))()"""


class BrowserError(RuntimeError):
    """Chromium could not be started or stopped answering."""


@dataclass
class Problem:
    kind: str  # console, exception, http, failed-request, broken-image, broken-link, missing-anchor, navigation
    page: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


@dataclass
class PageResult:
    url: str
    path: str  # relative to the site, decoded
    title: str = ""
    screenshot: str | None = None
    seconds: float = 0.0


@dataclass
class CheckResult:
    site_dir: str
    chromium: str
    pages: list[PageResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    resources_checked: list[str] = field(default_factory=list)
    external_links: list[str] = field(default_factory=list)
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
        return env if shutil.which(env) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


# --------------------------------------------------------------------------------------------
# A minimal DevTools Protocol client over --remote-debugging-pipe


class Chromium:
    """Headless Chromium with a fresh profile, driven over the DevTools pipe. Use as a context manager."""

    def __init__(self, executable: str, timeout: float = 30.0):
        self.executable = executable
        self.timeout = timeout
        self._next_id = 0
        self._messages: queue.Queue[dict | None] = queue.Queue()
        self._responses: dict[int, dict] = {}
        self.events: list[dict] = []
        self.stderr_lines: list[str] = []

    def __enter__(self) -> "Chromium":
        self.profile = tempfile.mkdtemp(prefix="u4ssc-chromium-")
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()

        def child_fds() -> None:  # runs in the child between fork and exec: only dup calls
            a = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
                "--remote-debugging-pipe", "about:blank"]
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, preexec_fn=child_fds, pass_fds=(3, 4))
        except OSError as exc:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise BrowserError(f"cannot start {self.executable}: {exc}") from exc
        finally:
            os.close(to_r)
            os.close(from_w)
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        try:
            self.version = self.call("Browser.getVersion")
            target = self.call("Target.createTarget", {"url": "about:blank"})
            self.session = self.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable", session=self.session)
            self.call("Emulation.setDeviceMetricsOverride", {"width": VIEWPORT_WIDTH, "height": 900,
                                                             "deviceScaleFactor": 1, "mobile": False}, session=self.session)
            self.call("Network.setCacheDisabled", {"cacheDisabled": True}, session=self.session)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self._send("Browser.close")
                except OSError:
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        finally:
            for fd in (self._to_w, self._from_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._messages.put(None)
                return
            buffer += chunk
            *complete, buffer = buffer.split(b"\0")
            for raw in complete:
                if raw:
                    self._messages.put(json.loads(raw))

    def _drain_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr_lines.append(line.decode("utf-8", "replace").rstrip())
            del self.stderr_lines[:-200]

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_w, data):]
        return self._next_id

    def _pump(self, deadline: float) -> bool:
        """Take one message (False when the deadline passed)."""
        try:
            message = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return False
        if message is None:
            tail = "\n".join(self.stderr_lines[-15:])
            raise BrowserError(f"Chromium closed the DevTools pipe (exit {self.proc.poll()}):\n{tail}")
        if "id" in message:
            self._responses[message["id"]] = message
        else:
            self.events.append(message)
        return True

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        ident = self._send(method, params, session)
        deadline = time.monotonic() + (timeout or self.timeout)
        while ident not in self._responses:
            if not self._pump(deadline):
                raise BrowserError(f"no answer to {method} within {timeout or self.timeout} s")
        response = self._responses.pop(ident)
        if "error" in response:
            raise BrowserError(f"{method}: {response['error'].get('message')}")
        return response.get("result", {})

    def wait_for(self, method: str, timeout: float) -> dict | None:
        """The first buffered or coming event ``method`` (None after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method:
                    return event
            seen = len(self.events)
            if not self._pump(deadline):
                return None

    def settle(self, quiet: float = 0.3, limit: float = 5.0) -> None:
        """Wait until nothing happened and no request was in flight for ``quiet`` seconds (at most ``limit``)."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if not self._pump(min(end, time.monotonic() + quiet)) and self.inflight() == 0:
                return

    def inflight(self) -> int:
        pending: set[str] = set()
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Network.requestWillBeSent":
                pending.add(p.get("requestId"))
            elif m in ("Network.loadingFinished", "Network.loadingFailed"):
                pending.discard(p.get("requestId"))
        return len(pending)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.session)
        if "exceptionDetails" in result:
            raise BrowserError(f"evaluation failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def screenshot(self, target: Path, height: int, max_height: int = MAX_SCREENSHOT_HEIGHT) -> None:
        height = max(1, min(int(height), max_height))
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": VIEWPORT_WIDTH, "height": height, "scale": 1},
        }, session=self.session, timeout=max(self.timeout, 60))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(shot["data"]))


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


def _screenshot_name(rel: str) -> str:
    rel = rel or "index.html"
    if rel.endswith("/"):
        rel += "index.html"
    stem = re.sub(r"\.html?$", "", rel)
    return re.sub(r'[\\/:*?"<>|]+', "__", stem) + ".png"


def _events_to_problems(events: list[dict], page: str) -> list[Problem]:
    problems = []
    urls: dict[str, str] = {}
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Network.requestWillBeSent":
            urls[p.get("requestId")] = p.get("request", {}).get("url", "")
        elif m == "Runtime.exceptionThrown":
            details = p.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            problems.append(Problem("exception", page, text.splitlines()[0] if text else "uncaught exception"))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            problems.append(Problem("console", page, f"console.{p.get('type')}: {args}"))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            problems.append(Problem("console", page, f"{entry.get('text', '')} {entry.get('url', '')}".strip()))
        elif m == "Network.responseReceived":
            response = p.get("response", {})
            if response.get("status", 0) >= 400:
                problems.append(Problem("http", page, f"{response.get('status')} {unquote(response.get('url', ''))}"))
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            url = urls.get(p.get("requestId"), "?")
            problems.append(Problem("failed-request", page, f"{p.get('errorText')} {unquote(url)}"))
    return problems


def check_site(site_dir: str | Path, screenshots: str | Path | None = None, *, chromium: str | None = None,
               timeout: float = 30.0, max_pages: int = 500,
               max_height: int = MAX_SCREENSHOT_HEIGHT) -> CheckResult:
    """Visit ``index.html`` and every internal page it links to (transitively) in headless Chromium."""
    started = time.monotonic()
    site_dir = Path(site_dir).resolve()
    if not (site_dir / "index.html").is_file():
        raise FileNotFoundError(f"{site_dir / 'index.html'}: no site to check")
    executable = chromium or find_chromium()
    if executable is None:
        raise BrowserError("Chromium is not installed (apt-get install chromium), or set U4SSC_CHROMIUM")
    shots = Path(screenshots) if screenshots is not None else None
    result = CheckResult(str(site_dir), executable)

    # Chromium is started before the server thread: its launch forks this process.
    with Chromium(executable, timeout=timeout) as browser, serve(site_dir) as base:
        origin = urlsplit(base).netloc
        queue_: list[str] = [base + "index.html"]
        visited: set[str] = set()
        anchors: dict[str, set[str]] = {}
        wanted_anchors: list[tuple[str, str, str]] = []  # (page linking, target page, fragment)
        resources: dict[str, list[str]] = {}

        while queue_ and len(visited) < max_pages:
            url = queue_.pop(0)
            if url in visited:
                continue
            visited.add(url)
            rel = unquote(urlsplit(url).path.lstrip("/"))
            page = PageResult(url, rel)
            t0 = time.monotonic()
            browser.events.clear()
            nav = browser.call("Page.navigate", {"url": url}, session=browser.session)
            if nav.get("errorText"):
                result.problems.append(Problem("navigation", rel, f"{nav['errorText']} {unquote(url)}"))
                continue
            if browser.wait_for("Page.loadEventFired", timeout) is None:
                result.problems.append(Problem("navigation", rel, f"no load event within {timeout} s"))
            browser.settle()
            probe = browser.evaluate(PAGE_PROBE) or {}
            page.title = probe.get("title", "")
            result.problems += _events_to_problems(list(browser.events), rel)
            for image in probe.get("images", []):
                if not image.get("ok"):
                    src = image.get("src", "")
                    shown = src[:40] + "..." if src.startswith("data:") else unquote(src)
                    result.problems.append(Problem("broken-image", rel, shown or "(no src)"))
            anchors[url] = set(probe.get("ids", []))
            for link in probe.get("links", []):
                target, fragment = urldefrag(link)
                parts = urlsplit(target)
                if parts.scheme not in ("http", "https"):
                    continue  # mailto:, javascript:, data:
                if parts.netloc != origin:
                    if link not in result.external_links:
                        result.external_links.append(link)
                    continue
                if _is_page(parts.path):
                    if target not in visited and target not in queue_:
                        queue_.append(target)
                    if fragment:
                        wanted_anchors.append((rel, target, fragment))
                else:
                    resources.setdefault(target, []).append(rel)
            if shots is not None:
                name = _screenshot_name(rel)
                browser.screenshot(shots / name, probe.get("height") or 900, max_height)
                page.screenshot = str(shots / name)
            page.seconds = round(time.monotonic() - t0, 3)
            result.pages.append(page)

        for url, linking in sorted(resources.items()):
            rel = unquote(urlsplit(url).path.lstrip("/"))
            result.resources_checked.append(rel)
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    response.read(1)
            except urllib.error.HTTPError as exc:
                result.problems.append(Problem("broken-link", linking[0], f"{exc.code} {rel}"))
            except OSError as exc:
                result.problems.append(Problem("broken-link", linking[0], f"{exc} {rel}"))

        for linking, target, fragment in wanted_anchors:
            # Browsers match the fragment as written, then percent-decoded (nbconvert writes ids encoded).
            if target in anchors and not {fragment, unquote(fragment)} & anchors[target]:
                rel = unquote(urlsplit(target).path.lstrip("/"))
                result.problems.append(Problem("missing-anchor", linking, f"{rel}#{unquote(fragment)}"))
    result.seconds = round(time.monotonic() - started, 3)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.browser",
                                description="Check a rendered report site in headless Chromium.")
    p.add_argument("site_dir", type=Path)
    p.add_argument("--screenshots", type=Path, default=None, help="folder for one PNG per page")
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
        from dataclasses import asdict

        args.json.write_text(json.dumps(asdict(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
