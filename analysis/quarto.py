"""The Quarto renderer of the site model: stage the pages as a Quarto website, render what changed.

The staged project lives in a persistent folder outside any folder whose name starts with a dot
(Quarto skips every input below one, renders nothing and exits 0: quarto-cli#3186): beside the site
in ``_build/quarto-<site name>``, or in the system's temporary folder when the site itself is below
a dot folder. Each staged file is kept with its SHA-256 in a manifest after a successful render;
the next run writes only what changed and renders only the changed pages (``quarto render
<page>`` for each), nothing when nothing changed, and the whole project when the configuration, the
navigation (a page added or removed, a name changed) or the Quarto version changed.

Pages are self-contained offline: the theme is built without web fonts, math is left as TeX, and
HTML outputs of the notebooks are passed to Pandoc as raw HTML blocks, because Quarto loads
require.js and jQuery from a CDN for any notebook with ``text/html`` outputs.
"""

from __future__ import annotations

import collections
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import jinja2
import nbformat
import yaml
from markupsafe import escape

from . import paths
from .site import Page, ReportError, Site, fragments

CONFIG = paths.REPORTS / "_quarto.yml"
TEMPLATES = paths.REPORTS / "templates"
ASSETS = ("u4ssc.css", "print.css", "u4ssc.scss", "favicon.svg")
TABLE_SCRIPT = "u4ssc-tables.html"
"""The sortable tables' script (templates/u4ssc-tables.js) inline, for ``include-after-body`` at any page depth."""
NAVIGATION = "_navigation.yml"
MANIFEST = "_u4ssc-rendered.json"
TIMEOUT = 3600  # seconds for one `quarto render`


def detect() -> str | None:
    """Path of a working ``quarto`` executable, or None (not on PATH, or ``quarto --version`` fails)."""
    exe = shutil.which("quarto")
    return exe if exe is not None and version(exe) else None


def version(exe: str) -> str | None:
    try:
        done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    found = done.stdout.strip()
    return found if done.returncode == 0 and found else None


def _dotted(path: Path) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in path.resolve().parts)


def staging_dir(site_dir: Path) -> Path:
    """The persistent Quarto project for ``site_dir``, never below a folder whose name starts with a dot."""
    beside = site_dir.parent / "_build" / f"quarto-{site_dir.name}"
    if not _dotted(beside):
        return beside
    key = hashlib.sha256(str(site_dir.resolve()).encode("utf-8")).hexdigest()[:12]
    elsewhere = Path(tempfile.gettempdir()) / f"u4ssc-quarto-{key}"
    if _dotted(elsewhere):
        raise ReportError(
            f"Quarto skips inputs below folders whose name starts with a dot (quarto-cli#3186): both "
            f"{beside} and {elsewhere} are below one. Set TMPDIR to a folder without a dot in its path.")
    return elsewhere


# --------------------------------------------------------------------------------------------
# Staging


def input_name(page: Page) -> str:
    """The staged source of a page (Quarto writes ``<stem>.html`` from it)."""
    return page.stem + (".ipynb" if page.notebook is not None else ".qmd")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!<>&|~^$@=-])")


def markdown_escape(text: str) -> str:
    """Backslash-escape Markdown/HTML syntax, for strings Quarto reads as Markdown (titles, captions)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def raw_html(fragment: str) -> str:
    """A Pandoc raw HTML block: passed through by Quarto exactly as it is."""
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", fragment)), default=0))
    return f"{fence}{{=html}}\n{fragment.strip()}\n{fence}"


def front_matter(page: Page) -> dict[str, Any]:
    front: dict[str, Any] = {"title": markdown_escape(page.title)}
    if page.subtitle:
        front["subtitle"] = markdown_escape(page.subtitle)
    if page.kind == "index":
        front["toc"] = False
    if page.lang != "en":
        front["lang"] = page.lang  # <html lang> and Quarto's own words (table of contents, search) in it
    return front


def _yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)


def notebook_cells(nb: Any) -> list[Any]:
    """The notebook's cells for Quarto: HTML outputs become raw HTML cells (so that Quarto adds no
    require.js or jQuery from a CDN); captions become ``fig-cap``/``fig-alt`` cell options."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        caption = cell.metadata.get("caption")
        options = ""
        if caption:
            text = json.dumps(markdown_escape(str(caption)), ensure_ascii=False)
            options = f"#| fig-cap: {text}\n#| fig-alt: {json.dumps(str(caption), ensure_ascii=False)}\n"
        pending: list[Any] = []

        def flush() -> None:
            if pending:
                cells.append(nbformat.v4.new_code_cell(options + cell.source, outputs=list(pending)))
                pending.clear()

        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html")
            if output.get("output_type") in ("display_data", "execute_result") and html is not None:
                flush()
                html = "".join(html) if isinstance(html, list) else html
                cells.append(nbformat.v4.new_markdown_cell(
                    raw_html(f'<div class="cell-output cell-output-display">\n{html}\n</div>')))
            else:
                pending.append(output)
        flush()
    return cells


def stage_page(env: jinja2.Environment, site: Site, page: Page) -> bytes:
    parts = fragments(env, site, page, "quarto")
    top = [raw_html(x) for x in (parts.views, parts.legend, parts.intro) if x]
    bottom = [raw_html(x) for x in (parts.downloads, parts.footer) if x]
    if page.notebook is not None:
        nb = nbformat.v4.new_notebook(metadata=page.notebook.metadata)
        nb.cells = [nbformat.v4.new_raw_cell("---\n" + _yaml(front_matter(page)) + "---"),
                    *[nbformat.v4.new_markdown_cell(x) for x in top],
                    *notebook_cells(page.notebook),
                    *[nbformat.v4.new_markdown_cell(x) for x in bottom]]
        for i, cell in enumerate(nb.cells):  # fixed ids (nbformat draws random ones): same page, same bytes
            cell["id"] = f"u4ssc-{i}"
        return (nbformat.writes(nb) + "\n").encode("utf-8")
    body = [*top, (page.markdown or "").strip(), *bottom]
    return ("---\n" + _yaml(front_matter(page)) + "---\n\n" + "\n\n".join(b for b in body if b) + "\n").encode("utf-8")


SIDEBAR_TITLES = {"real": "Real data only", "resident": "For residents · For innbyggere", "council": "Council papers"}
"""Titles of the sidebars of the municipalities' other views (the profiles' is the navbar item's)."""


def sidebar_text(page: Page) -> str:
    """A page's entry in its sidebar: the municipality's name (with the language of a resident page)."""
    text = page.name or page.title
    return f"{text} ({'bokmål' if page.lang == 'nb' else 'English'})" if page.kind == "resident" else text


def navigation(site: Site) -> dict[str, Any]:
    """Navbar and sidebars from the site model. Pages filed under a navbar item other than its own
    target (profiles under Municipalities, documents under Methodology) get a sidebar that holds
    that item's link: this is how Quarto marks the item active on those pages."""
    inputs = {p.out: input_name(p) for p in site.pages}

    def href(page: str, fragment: str = "") -> str:
        return inputs.get(page, page) + (f"#{fragment}" if fragment else "")

    sidebars = []
    for item in site.nav:
        members = [p for p in site.pages if p.active == item.key and p.out != item.page]
        kinds = list(dict.fromkeys(p.kind for p in members))  # one sidebar per kind of page: profiles, real views, ...
        for kind in kinds:
            own = "All municipalities" if item.key == "municipalities" else item.text
            pages = [p for p in members if p.kind == kind]
            sidebars.append({"id": item.key if kind == kinds[0] else f"{item.key}-{kind}",
                             "title": SIDEBAR_TITLES.get(kind, item.text), "style": "docked", "search": True,
                             "contents": [
                {"href": href(item.page, item.fragment), "text": own},
                # Quarto inserts sidebar text unescaped (quarto-cli#5231): escape it here.
                *[{"href": inputs[p.out], "text": str(escape(sidebar_text(p)))} for p in pages]]})
    return {"website": {
        "title": site.title,
        "navbar": {"left": [{"text": item.text, "href": href(item.page, item.fragment)} for item in site.nav]},
        "sidebar": sidebars,
    }}


def stage(site: Site, env: jinja2.Environment) -> dict[str, bytes]:
    """Every file of the Quarto project, by path relative to it."""
    files = {"_quarto.yml": CONFIG.read_bytes(), NAVIGATION: _yaml(navigation(site)).encode("utf-8")}
    for asset in ASSETS:
        files[asset] = (TEMPLATES / asset).read_bytes()
    files[TABLE_SCRIPT] = b"<script>\n" + (TEMPLATES / "u4ssc-tables.js").read_bytes() + b"</script>\n"
    for page in site.pages:
        files[input_name(page)] = stage_page(env, site, page)
    return files


# --------------------------------------------------------------------------------------------
# Rendering


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plan(files: dict[str, bytes], previous: dict[str, str], quarto_version: str) -> tuple[bool, list[str]]:
    """Whether the whole project must be rendered, and the inputs to render."""
    digests = {name: _digest(data) for name, data in files.items()}
    inputs = [n for n in files if n.endswith((".ipynb", ".qmd"))]
    config_changed = any(digests[n] != previous.get(n) for n in files if n not in inputs)
    if (not previous or config_changed or set(digests) != set(previous) - {"quarto"}
            or previous.get("quarto") != quarto_version):
        return True, inputs
    changed = [n for n in inputs if digests[n] != previous[n]]
    # One `quarto render <file>` per changed page (it takes one input): past half the pages,
    # one render of the whole project is faster.
    return (True, inputs) if len(changed) > len(inputs) / 2 else (False, changed)


PROGRESS = re.compile(r"^\s*\[\s*\d+/\d+\]")  # Quarto's "[ 3/25] profiles/Asker.ipynb"


def plain(line: str) -> str:
    """One line of Quarto's output without the colour codes it writes even into a pipe, so that logs read as text."""
    from nbconvert.filters.ansi import strip_ansi  # imported here, as in report.py: nbconvert is slow to import

    return strip_ansi(line).rstrip()


def _run(quarto: str, args: list[str], cwd: Path) -> None:
    """``quarto render [input]`` in the project ``cwd`` (Quarto passes further arguments to Pandoc),
    showing Quarto's progress lines; a failure raises with the end of Quarto's output."""
    print(f"quarto: rendering {args[0] if args else 'the whole site'}", file=sys.stderr, flush=True)
    tail: collections.deque[str] = collections.deque(maxlen=30)
    timed_out = threading.Event()
    with subprocess.Popen([quarto, "render", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as proc:
        timer = threading.Timer(TIMEOUT, lambda: (timed_out.set(), proc.kill()))
        timer.start()
        try:
            for line in map(plain, proc.stdout):
                tail.append(line)
                if PROGRESS.match(line):
                    print(f"quarto: {line.strip()}", file=sys.stderr, flush=True)
        finally:
            timer.cancel()
        code = proc.wait()
    if timed_out.is_set():
        raise ReportError(f"quarto render did not finish within {TIMEOUT} s")
    if code != 0:
        raise ReportError(f"quarto render failed (exit {code}):\n" + "\n".join(tail))


def render(quarto: str, site: Site, env: jinja2.Environment, site_dir: Path, out: Path) -> dict[str, Any]:
    """Render ``site`` with Quarto into ``out`` (an empty folder), re-rendering only what changed.

    Returns ``{"staging", "full", "rendered"}``: the project folder, whether the whole project was
    rendered, and the inputs rendered (empty for a no-op).
    """
    staging = staging_dir(site_dir)
    files = stage(site, env)
    quarto_version = version(quarto) or "?"
    manifest = staging / MANIFEST
    previous: dict[str, str] = {}
    if manifest.is_file() and (staging / "_site" / "index.html").is_file():
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            previous = {}
    full, rendered = plan(files, previous, quarto_version)
    if full:
        shutil.rmtree(staging, ignore_errors=True)
    for name in (files if full else rendered):
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name])
    for args in [[]] if full else [[name] for name in rendered]:
        _run(quarto, args, staging)
    rendered_site = staging / "_site"
    missing = [p.out for p in site.pages if not (rendered_site / p.out).is_file()]
    if missing:
        raise ReportError(f"quarto render left out {missing} in {rendered_site} (is the project below a dot folder?)")
    digests = {name: _digest(data) for name, data in files.items()} | {"quarto": quarto_version}
    manifest.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    shutil.copytree(rendered_site, out, dirs_exist_ok=True)
    return {"staging": str(staging), "full": full, "rendered": rendered}
