"""Publish the executed notebooks as a website for reviewers: Quarto where it is installed, nbconvert otherwise.

The pipeline executes the parameterised notebooks with papermill into ``reports/executed``::

    executed/profiles/<Municipality>.ipynb   (+ <Municipality>.provenance.json)
    executed/synthesis.ipynb                 (+ synthesis.provenance.json; may be missing)
    executed/tutorial.ipynb                  (+ tutorial.provenance.json; may be missing)
    executed/tables/<Municipality>/*.csv|*.xlsx

:func:`render_site` turns them into one site with the same structure whichever renderer runs::

    index.html  methodology.html  synthesis.html  tutorial.html
    profiles/<Municipality>.html  tables/<Municipality>/...  assets/u4ssc.css  render.json

Both renderers drop the front-matter cell (its title becomes the page title), the ``parameters``,
``injected-parameters`` and ``remove-cell`` cells, hide code inputs and end every page with a
provenance footer that names the renderer. Nothing is executed again. The site is built in a
temporary folder beside ``site_dir`` and swapped in at the end, so an interrupted run leaves the
previous site (or none) rather than half a site.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import fcntl
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import nbformat
import yaml
from markupsafe import Markup

from . import paths

RENDERERS = ("auto", "quarto", "nbconvert")
SITE_TITLE = "U4SSC KPIs: Norwegian municipalities"
TEMPLATES = paths.REPORTS / "templates"
QUARTO_CONFIG = paths.REPORTS / "_quarto.yml"
DEFAULT_EXECUTED = paths.REPORTS / "executed"
DEFAULT_SITE = paths.REPORTS / "site"
DEFAULT_METHODOLOGY = paths.ROOT / "docs" / "methodology.md"
REMOVE_CELL_TAGS = frozenset({"parameters", "injected-parameters", "remove-cell"})
DOWNLOAD_SUFFIXES = (".csv", ".xlsx")
QUARTO_TIMEOUT = 3600  # seconds for the single `quarto render`

NAV = (
    ("home", "Home", "index.html"),
    ("municipalities", "Municipalities", "index.html#municipalities"),
    ("synthesis", "Synthesis", "synthesis.html"),
    ("tutorial", "Tutorial", "tutorial.html"),
    ("methodology", "Methodology", "methodology.html"),
)

# Provenance keys shown in the footer, in this order, with their labels; any other key follows.
PROVENANCE_FIELDS = (
    ("municipality", "Municipality"),
    ("data_sha256", "Data (SHA-256)"),
    ("code_version", "Code version"),
    ("executed_at", "Executed at"),
    ("n_published", "Published values"),
    ("n_city_supplied", "City-supplied values"),
    ("n_simulated", "Simulated values"),
    ("mostly_simulated", "Mostly simulated"),
)

LEGEND = Markup(
    '<p class="u4ssc-legend"><strong>Legend:</strong> <span class="u4ssc-sim">simulated value</span> '
    "cells are italic on a hatched, tinted background; they stand in for missing data. "
    "All other values are published or supplied by the city.</p>"
)


class ReportError(RuntimeError):
    """The site could not be rendered (bad input, or the renderer failed)."""


class QuartoNotFoundError(ReportError):
    """``renderer='quarto'`` was asked for but no working ``quarto`` is on PATH."""


@dataclass
class Source:
    """One page made from an executed notebook (or a placeholder where the notebook is missing)."""

    kind: str  # "profile", "synthesis" or "tutorial"
    slug: str  # file stem, NFC: also the output file's stem
    path: Path | None  # None: placeholder
    name: str  # display name
    front: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] | None = None
    provenance_path: Path | None = None
    note: str | None = None  # why a placeholder has no notebook (from failed.json), shown on its page

    @property
    def out(self) -> str:
        """Output path relative to the site root (unquoted, for the file system)."""
        return f"profiles/{self.slug}.html" if self.kind == "profile" else f"{self.slug}.html"

    @property
    def href(self) -> str:
        """Link from the site root, percent-encoded."""
        return quote(self.out)

    @property
    def title(self) -> str:
        title = self.front.get("title")
        title = str(title) if title not in (None, "") else self.name
        if self.kind == "profile" and nfc(self.name).casefold() not in nfc(title).casefold():
            title = f"{self.name}: {title}"  # 17 pages must not share one generic title
        return title

    @property
    def subtitle(self) -> str | None:
        sub = self.front.get("subtitle")
        return str(sub) if sub not in (None, "") else None


# --------------------------------------------------------------------------------------------
# Quarto detection


def detect_quarto() -> str | None:
    """Path of a working ``quarto`` executable, or None (not on PATH, or ``quarto --version`` fails)."""
    exe = shutil.which("quarto")
    if exe is None:
        return None
    return exe if _quarto_version(exe) else None


def _quarto_version(exe: str) -> str | None:
    try:
        done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    version = done.stdout.strip()
    return version if done.returncode == 0 and version else None


# --------------------------------------------------------------------------------------------
# Reading the executed notebooks


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_NORWEGIAN_LAST = {"æ": "{", "ø": "|", "å": "}"}  # sort after z, in this order


def norwegian_key(name: str) -> tuple[str, str]:
    """Sort key for Norwegian names: ... Y, Z, Æ, Ø, Å; case and other accents ignored."""
    out = []
    for ch in nfc(name).casefold():
        out.append(_NORWEGIAN_LAST.get(ch) or unicodedata.normalize("NFKD", ch)[0])
    return "".join(out), name


def parse_front_matter(cell: Any) -> dict[str, Any] | None:
    """YAML front matter of a raw cell (``---`` ... ``---``), or None when the cell is not one."""
    if cell is None or cell.get("cell_type") != "raw":
        return None
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    match = re.match(r"\s*---[ \t]*\r?\n(.*?)(?:\r?\n)?---[ \t]*(?:\r?\n|$)", source, re.S)
    if match is None:
        return None
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ReportError(f"front matter is not valid YAML: {exc}") from exc
    return data if isinstance(data, dict) else {}


def clean_notebook(nb: Any) -> tuple[Any, dict[str, Any]]:
    """A copy of ``nb`` without its front-matter cell and without parameter and ``remove-cell`` cells.

    Returns the copy and the front matter (``{}`` when the first cell is not front matter).
    ``remove-output`` clears a cell's outputs. Code inputs stay: each renderer hides them.
    """
    nb = copy.deepcopy(nb)
    front: dict[str, Any] = {}
    cells = list(nb.cells)
    if cells:
        parsed = parse_front_matter(cells[0])
        if parsed is not None:
            front = parsed
            cells = cells[1:]
    kept = []
    for cell in cells:
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        if tags & REMOVE_CELL_TAGS:
            continue
        if "remove-output" in tags and cell.get("cell_type") == "code":
            cell["outputs"] = []
        kept.append(cell)
    nb.cells = kept
    return nb, front


def load_provenance(notebook: Path) -> tuple[dict[str, Any] | None, Path]:
    """The ``<name>.provenance.json`` beside a notebook (None when missing) and its path."""
    path = notebook.with_name(notebook.stem + ".provenance.json")
    if not path.is_file():
        return None, path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: cannot read provenance: {exc}") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{path}: provenance must be a JSON object, found {type(data).__name__}")
    return data, path


def _read_source(kind: str, path: Path) -> Source:
    slug = nfc(path.stem)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds of error for a bad file
        raise ReportError(f"{path}: cannot read notebook: {exc}") from exc
    front = parse_front_matter(nb.cells[0] if nb.cells else None) or {}
    provenance, prov_path = load_provenance(path)
    name = slug
    if kind == "profile" and provenance and isinstance(provenance.get("municipality"), str):
        name = nfc(provenance["municipality"])
    elif kind != "profile":
        name = {"synthesis": "Cross-city synthesis", "tutorial": "Tutorial"}[kind]
    return Source(kind, slug, path, name, front, provenance, prov_path)


def discover(executed_dir: Path) -> list[Source]:
    """Profiles (Norwegian alphabetical order), then the synthesis and the tutorial (placeholders if missing)."""
    profiles_dir = executed_dir / "profiles"
    profiles = []
    if profiles_dir.is_dir():
        for path in profiles_dir.glob("*.ipynb"):
            if path.is_file() and not path.name.startswith("."):
                profiles.append(_read_source("profile", path))
    slugs = [p.slug for p in profiles]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise ReportError(f"{profiles_dir}: several notebooks normalise to the same name: {duplicates}")
    failed = read_failed(executed_dir)
    for entry in failed:
        slug = nfc(Path(str(entry.get("notebook", ""))).stem)
        if entry.get("kind") == "profile" and entry.get("municipality") and slug and slug not in slugs:
            name = nfc(str(entry["municipality"]))
            profiles.append(Source("profile", slug, None, name, {"title": name}, note=_failed_note(entry)))
    profiles.sort(key=lambda s: norwegian_key(s.name))
    others = []
    for kind, title in (("synthesis", "Cross-city synthesis"), ("tutorial", "Tutorial")):
        path = executed_dir / f"{kind}.ipynb"
        if path.is_file():
            others.append(_read_source(kind, path))
        else:
            note = next((_failed_note(e) for e in failed if e.get("kind") == kind), None)
            others.append(Source(kind, kind, None, title, {"title": title}, note=note))
    return profiles + others


def read_failed(executed_dir: Path) -> list[dict[str, Any]]:
    """The notebooks the last build failed to execute (``failed.json``, written by ``pipeline.write_failed``)."""
    path = executed_dir / "failed.json"
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8")).get("failed", [])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise ReportError(f"{path}: cannot read the list of failed notebooks: {exc}") from exc
    return [e for e in entries if isinstance(e, dict)]


def _failed_note(entry: dict[str, Any]) -> str:
    what = f"The profile of {entry['municipality']}" if entry.get("kind") == "profile" else f"The {entry.get('kind')}"
    return f"{what} failed in this build; the log is {entry.get('log') or 'not available'}."


def placeholder_html(source: Source) -> Markup:
    """The body of a page whose notebook is missing: why (it failed, with its log) or that it was not executed."""
    if source.note:
        return Markup('<p class="u4ssc-placeholder u4ssc-failed">{}</p>').format(source.note)
    return Markup('<p class="u4ssc-placeholder">This page is not part of this build: '
                  "<code>{}</code> was not executed.</p>").format(f"{source.slug}.ipynb")


@dataclass
class Download:
    name: str
    out: str  # relative to the site root, unquoted
    size: str

    @property
    def href(self) -> str:
        return quote(self.out)


def _human_size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def collect_downloads(executed_dir: Path) -> dict[str, list[tuple[Path, Download]]]:
    """Tables written by the notebooks, by municipality (NFC folder name)."""
    found: dict[str, list[tuple[Path, Download]]] = {}
    tables = executed_dir / "tables"
    if not tables.is_dir():
        return found
    for folder in sorted(p for p in tables.iterdir() if p.is_dir()):
        slug = nfc(folder.name)
        files = sorted(
            (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in DOWNLOAD_SUFFIXES),
            key=lambda p: norwegian_key(p.name),
        )
        found[slug] = [
            (p, Download(nfc(p.name), f"tables/{slug}/{nfc(p.name)}", _human_size(p.stat().st_size)))
            for p in files
        ]
    return found


# --------------------------------------------------------------------------------------------
# HTML pieces shared by both renderers (all autoescaped)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def footer_html(env: jinja2.Environment, source: Source | None, renderer: str, generated_at: str,
                provenance: dict[str, Any] | None = None, expected: str | None = None) -> Markup:
    """The provenance footer of one page (escaped)."""
    if source is not None:
        provenance = source.provenance
        expected = source.provenance_path.name if source.provenance_path else None
    fields, parameters = [], []
    if provenance is not None:
        known = {key for key, _ in PROVENANCE_FIELDS} | {"parameters", "renderer"}
        for key, label in PROVENANCE_FIELDS:
            if key in provenance and not (key == "municipality" and provenance[key] is None):
                fields.append((label, _display(provenance[key])))
        for key in sorted(k for k in provenance if k not in known):
            fields.append((str(key), _display(provenance[key])))
        params = provenance.get("parameters")
        if isinstance(params, dict):
            parameters = [(str(k), _display(v)) for k, v in params.items()]
        elif params is not None:
            fields.append(("Parameters", _display(params)))
    return Markup(env.get_template("footer.html.j2").render(
        provenance=provenance, expected=expected, fields=fields, parameters=parameters,
        renderer=renderer, generated_at=generated_at,
    ))


def _count(provenance: dict[str, Any] | None, key: str) -> str:
    if not provenance or provenance.get(key) is None:
        return "—"
    return str(provenance[key])


def index_body(env: jinja2.Environment, sources: list[Source], downloads: dict[str, list], root: str = "") -> Markup:
    rows = []
    for s in sources:
        if s.kind != "profile":
            continue
        prov = s.provenance
        mostly = None if prov is None or prov.get("mostly_simulated") is None else bool(prov["mostly_simulated"])
        rows.append({
            "name": s.name, "href": s.href, "mostly_simulated": mostly,
            "n_published": _count(prov, "n_published"), "n_city_supplied": _count(prov, "n_city_supplied"),
            "n_simulated": _count(prov, "n_simulated"), "n_downloads": len(downloads.get(s.slug, [])),
        })
    missing = [s.kind for s in sources if s.kind != "profile" and s.path is None]
    return Markup(env.get_template("index.html.j2").render(
        rows=rows, root=root, missing=missing, n_mostly=sum(1 for r in rows if r["mostly_simulated"]),
    ))


def read_methodology(path: Path | None, default: str = "Methodology") -> tuple[str, str]:
    """Title and Markdown body of the methodology page (a placeholder when the file is missing)."""
    if path is None or not path.is_file():
        return "Methodology", (
            "The methodology document (`docs/methodology.md`) was not found when this site was built."
        )
    text = path.read_text(encoding="utf-8")
    title = default
    match = re.match(r"\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", text, re.S)
    if match:
        meta = yaml.safe_load(match.group(1)) or {}
        text = text[match.end():]
        if isinstance(meta, dict) and meta.get("title"):
            title = str(meta["title"])
    heading = re.match(r"\s*#[ \t]+(.+?)[ \t#]*\r?\n", text)
    if heading:
        title = heading.group(1).strip()
        text = text[heading.end():]
    return title, text


def markdown_to_html(text: str) -> Markup:
    """Project documentation (trusted, written by the developers) to HTML with mistune."""
    import mistune
    from mistune.toc import add_toc_hook

    render = mistune.create_markdown(
        escape=False, plugins=["table", "strikethrough", "footnotes", "url", "def_list"]
    )
    add_toc_hook(render, min_level=1, max_level=6, heading_id=lambda token, index: heading_id(token["text"]))
    return Markup(render(text))


def heading_id(text: str) -> str:
    """Pandoc's (and so Quarto's) identifier for a heading: ``## Data sources`` -> ``data-sources``."""
    text = re.sub(r"[^\w\s.-]", "", nfc(text).casefold())
    text = re.sub(r"\s+", "-", text.strip())
    return text.lstrip("0123456789.-_") or "section"


_MD_LINK = re.compile(r"\]\((?P<name>[^)\s:/?#]+)\.md(?P<frag>#[^)\s]*)?\)")


def linked_docs(methodology: Path | None) -> list[Path]:
    """Markdown files beside the methodology that it links to (``[x](targets.md)``), transitively.

    They are published under ``docs/`` so the methodology's links work; links to files that do
    not exist are left alone (and the browser check reports them).
    """
    if methodology is None or not methodology.is_file():
        return []
    found: list[Path] = []
    todo = [methodology]
    while todo:
        text = todo.pop(0).read_text(encoding="utf-8")
        for match in _MD_LINK.finditer(text):
            path = methodology.parent / f"{match['name']}.md"
            if path.is_file() and path != methodology and path not in found:
                found.append(path)
                todo.append(path)
    return found


def relink_docs(text: str, folder: Path, prefix: str, suffix: str, methodology: str | None = None) -> str:
    """Point Markdown links to existing sibling ``.md`` files at their published pages.

    ``methodology``: the stem of the methodology file, published at the site root (so a linked
    document, published under ``docs/``, reaches it through ``../``).
    """
    def swap(match: re.Match) -> str:
        if not (folder / f"{match['name']}.md").is_file():
            return match.group(0)
        target = f"{prefix}{quote(match['name'])}{suffix}"
        if match["name"] == methodology:
            target = f"../methodology{suffix}"
        return f"]({target}{match['frag'] or ''})"
    return _MD_LINK.sub(swap, text)


# --------------------------------------------------------------------------------------------
# The nbconvert fallback


def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="u4ssc",
        extra_template_basedirs=[str(TEMPLATES / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="¶",
    )


def _nav(root: str) -> list[dict[str, str]]:
    return [{"key": k, "text": t, "href": h} for k, t, h in NAV]


def _write_page(env: jinja2.Environment, target: Path, *, root: str, kind: str, active: str, title: str,
                subtitle: str | None, body: Markup, footer: Markup, downloads: list[Download] = ()) -> None:
    if kind != "index" and "u4ssc-sim" in body:
        body = LEGEND + body
    page = env.get_template("page.html.j2").render(
        root=root, kind=kind, active=active, title=title, subtitle=subtitle, body=body, footer=footer,
        downloads=list(downloads), nav=_nav(root), site_title=SITE_TITLE,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")


def _render_nbconvert(sources: list[Source], out: Path, methodology: Path | None,
                      downloads: dict[str, list[tuple[Path, Download]]], generated_at: str) -> None:
    env = _environment()
    exporter = _exporter()
    (out / "assets").mkdir(parents=True, exist_ok=True)
    for asset in ("u4ssc.css", "favicon.svg"):
        shutil.copy2(TEMPLATES / asset, out / "assets" / asset)
    plain_downloads = {k: [d for _, d in v] for k, v in downloads.items()}

    for s in sources:
        root = "../" if s.kind == "profile" else ""
        if s.path is None:
            body = placeholder_html(s)
            footer = footer_html(env, None, "nbconvert", generated_at, None, f"{s.slug}.provenance.json")
        else:
            nb, front = clean_notebook(nbformat.read(s.path, as_version=4))
            s.front = front or s.front
            for cell in nb.cells:  # a figure's caption doubles as its images' alternative text
                if cell.get("metadata", {}).get("caption") and not cell.metadata.get("alt"):
                    cell.metadata["alt"] = str(cell.metadata["caption"])
            try:
                body_html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": s.title}})
            except Exception as exc:
                raise ReportError(f"{s.path}: nbconvert failed: {exc}") from exc
            body = Markup(body_html)
            footer = footer_html(env, s, "nbconvert", generated_at)
        active = "municipalities" if s.kind == "profile" else s.kind
        _write_page(env, out / s.out, root=root, kind=s.kind, active=active, title=s.title,
                    subtitle=s.subtitle, body=body, footer=footer,
                    downloads=plain_downloads.get(s.slug, []) if s.path is not None else [])

    _write_page(env, out / "index.html", root="", kind="index", active="home", title=SITE_TITLE,
                subtitle="Profiles, synthesis and tutorial of the U4SSC Key Performance Indicators",
                body=index_body(env, sources, plain_downloads),
                footer=footer_html(env, None, "nbconvert", generated_at,
                                   {"code_version": _code_version_of(sources)}, None))

    title, text = read_methodology(methodology)
    if methodology is not None and methodology.is_file():
        text = relink_docs(text, methodology.parent, "docs/", ".html")
    _write_page(env, out / "methodology.html", root="", kind="methodology", active="methodology",
                title=title, subtitle=None, body=markdown_to_html(text),
                footer=footer_html(env, None, "nbconvert", generated_at,
                                   {"source": _rel(methodology)}, None))
    for doc in linked_docs(methodology):
        title, text = read_methodology(doc, default=doc.stem.replace("_", " ").capitalize())
        _write_page(env, out / "docs" / f"{doc.stem}.html", root="../", kind="doc", active="methodology",
                    title=title, subtitle=None, body=markdown_to_html(relink_docs(text, doc.parent, "", ".html", methodology.stem)),
                    footer=footer_html(env, None, "nbconvert", generated_at, {"source": _rel(doc)}, None))


def _rel(path: Path | None) -> str:
    if path is None:
        return "—"
    try:
        return str(path.resolve().relative_to(paths.ROOT))
    except ValueError:
        return path.name


def _code_version_of(sources: list[Source]) -> str:
    versions = sorted({str(s.provenance["code_version"]) for s in sources
                       if s.provenance and s.provenance.get("code_version")})
    return ", ".join(versions) if versions else "—"


# --------------------------------------------------------------------------------------------
# The Quarto renderer


def _raw_html_cell(fragment: str) -> Any:
    # A Markdown cell holding a Pandoc raw HTML block: passed through by Quarto as it is.
    return nbformat.v4.new_markdown_cell("```{=html}\n" + fragment.strip() + "\n```")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!<>&|~^$@=-])")


def markdown_escape(text: str) -> str:
    """Backslash-escape Markdown/HTML syntax, for strings Quarto reads as Markdown (titles)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _front_matter_cell(front: dict[str, Any]) -> Any:
    # Quarto (Pandoc) reads title and subtitle as Markdown, where raw HTML passes through.
    front = {k: markdown_escape(v) if k in ("title", "subtitle") and isinstance(v, str) else v
             for k, v in front.items()}
    text = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, default_flow_style=False)
    return nbformat.v4.new_raw_cell("---\n" + text + "---")


def _stage_quarto(sources: list[Source], staging: Path, methodology: Path | None,
                  downloads: dict[str, list[tuple[Path, Download]]], generated_at: str) -> None:
    env = _environment()
    shutil.copy2(QUARTO_CONFIG, staging / "_quarto.yml")
    for asset in ("u4ssc.css", "favicon.svg"):
        shutil.copy2(TEMPLATES / asset, staging / asset)
    (staging / "profiles").mkdir()
    plain_downloads = {k: [d for _, d in v] for k, v in downloads.items()}

    for s in sources:
        if s.path is None:
            nb = nbformat.v4.new_notebook()
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            nb.cells = [_raw_html_cell(str(placeholder_html(s)))]
            front, footer = {"title": s.title}, footer_html(env, None, "quarto", generated_at, None,
                                                              f"{s.slug}.provenance.json")
        else:
            nb, front = clean_notebook(nbformat.read(s.path, as_version=4))
            s.front = front or s.front
            front = dict(front)
            front.setdefault("title", s.title)
            footer = footer_html(env, s, "quarto", generated_at)
        cells = [_front_matter_cell(front), *nb.cells]
        if s.path is not None and plain_downloads.get(s.slug):
            up = "../" if s.kind == "profile" else ""
            items = "".join(str(Markup('<li><a href="{}{}" download>{}</a> <span class="u4ssc-size">({})</span></li>')
                                .format(up, d.href, d.name, d.size)) for d in plain_downloads[s.slug])
            cells.append(_raw_html_cell(f'<section class="u4ssc-downloads" id="downloads"><h2>Downloads</h2><ul>{items}</ul></section>'))
        cells.append(_raw_html_cell(str(footer)))
        nb.cells = cells
        target = staging / ("profiles" if s.kind == "profile" else "") / f"{s.slug}.ipynb"
        nbformat.write(nb, target)

    def qmd(front: dict[str, Any], body: str) -> str:
        return "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n\n" + body + "\n"

    index = "```{=html}\n" + str(index_body(env, sources, plain_downloads)).strip() + "\n" + str(
        footer_html(env, None, "quarto", generated_at, {"code_version": _code_version_of(sources)}, None)).strip() + "\n```"
    (staging / "index.qmd").write_text(qmd({"title": SITE_TITLE, "toc": False}, index), encoding="utf-8")
    title, text = read_methodology(methodology)
    if methodology is not None and methodology.is_file():
        text = relink_docs(text, methodology.parent, "docs/", ".qmd")  # Quarto turns .qmd links into .html
    footer = footer_html(env, None, "quarto", generated_at, {"source": _rel(methodology)}, None)
    (staging / "methodology.qmd").write_text(
        qmd({"title": title}, text.rstrip() + "\n\n```{=html}\n" + str(footer).strip() + "\n```"), encoding="utf-8")
    for doc in linked_docs(methodology):
        (staging / "docs").mkdir(exist_ok=True)
        title, text = read_methodology(doc, default=doc.stem.replace("_", " ").capitalize())
        text = relink_docs(text, doc.parent, "", ".qmd", methodology.stem)
        footer = footer_html(env, None, "quarto", generated_at, {"source": _rel(doc)}, None)
        (staging / "docs" / f"{doc.stem}.qmd").write_text(
            qmd({"title": title}, text.rstrip() + "\n\n```{=html}\n" + str(footer).strip() + "\n```"), encoding="utf-8")

    sidebar = {"website": {"sidebar": {"style": "docked", "search": True, "contents": [
        {"href": "index.qmd", "text": "Home"},
        {"section": "Municipalities", "contents": [
            # Quarto inserts sidebar text into the page unescaped (quarto-cli#5231): escape it here.
            {"href": f"profiles/{s.slug}.ipynb", "text": html.escape(s.name)} for s in sources if s.kind == "profile"
        ]},
        {"href": "synthesis.ipynb", "text": "Synthesis"},
        {"href": "tutorial.ipynb", "text": "Tutorial"},
        {"href": "methodology.qmd", "text": "Methodology"},
    ]}}}
    if not sidebar["website"]["sidebar"]["contents"][1]["contents"]:
        del sidebar["website"]["sidebar"]["contents"][1]
    (staging / "_municipalities.yml").write_text(
        yaml.safe_dump(sidebar, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _render_quarto(quarto: str, sources: list[Source], site_parent: Path, name: str, methodology: Path | None,
                   downloads: dict[str, list[tuple[Path, Download]]], generated_at: str) -> Path:
    """Stage, run ``quarto render <staging>`` once, and return the rendered folder (inside ``site_parent``)."""
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.staging-", dir=site_parent))
    try:
        _stage_quarto(sources, staging, methodology, downloads, generated_at)
        try:
            done = subprocess.run([quarto, "render", str(staging)], cwd=staging, capture_output=True,
                                  text=True, timeout=QUARTO_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise ReportError(f"quarto render did not finish within {QUARTO_TIMEOUT} s") from exc
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-30:])
            raise ReportError(f"quarto render failed (exit {done.returncode}):\n{tail}")
        rendered = staging / "_site"
        if not (rendered / "index.html").is_file():
            raise ReportError(f"quarto render produced no {rendered / 'index.html'}")
        result = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=site_parent))
        result.rmdir()
        os.rename(rendered, result)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Atomic output


@contextlib.contextmanager
def _lock(site_dir: Path) -> Iterator[None]:
    """One render per site at a time (and so never two `quarto render` at once)."""
    lock_path = site_dir.parent / f".{site_dir.name}.lock"
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ReportError(f"another render of {site_dir} is running (lock {lock_path})") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(site_dir: Path) -> None:
    """Temporary folders of an interrupted earlier run (safe: we hold the lock)."""
    for kind in ("tmp", "old", "staging"):
        for path in site_dir.parent.glob(f".{site_dir.name}.{kind}-*"):
            shutil.rmtree(path, ignore_errors=True)


def _publishable(folder: Path) -> None:
    # mkdtemp makes 0700 folders: give the site the permissions an ordinary mkdir would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)


def _swap_in(new: Path, site_dir: Path) -> None:
    old = None
    if site_dir.exists() or site_dir.is_symlink():
        old = site_dir.parent / f".{site_dir.name}.old-{os.getpid()}-{time.time_ns()}"
        os.rename(site_dir, old)
    try:
        os.rename(new, site_dir)
    except OSError:
        if old is not None:
            os.rename(old, site_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Entry point


def render_site(executed_dir: str | Path | None = None, site_dir: str | Path | None = None,
                renderer: str = "auto", *, methodology: str | Path | None = None) -> dict[str, Any]:
    """Render every executed notebook under ``executed_dir`` into the website ``site_dir``.

    ``renderer``: ``"quarto"`` (fails with :class:`QuartoNotFoundError` if Quarto is absent),
    ``"nbconvert"`` (the fallback), or ``"auto"`` (Quarto when :func:`detect_quarto` finds it).
    ``methodology``: the Markdown page to publish (default ``docs/methodology.md``).

    Returns what was rendered: ``renderer``, ``site_dir``, ``pages`` (paths relative to the site),
    ``municipalities`` (name → page), ``missing`` (notebooks rendered as placeholders),
    ``downloads``, ``quarto`` (the executable or None), ``quarto_version`` and ``seconds``.
    """
    started = time.monotonic()
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {RENDERERS}, not {renderer!r}")
    executed_dir = Path(executed_dir) if executed_dir is not None else DEFAULT_EXECUTED
    site_dir = Path(site_dir) if site_dir is not None else DEFAULT_SITE
    methodology = Path(methodology) if methodology is not None else DEFAULT_METHODOLOGY
    site_dir = site_dir.absolute()

    quarto = detect_quarto() if renderer in ("auto", "quarto") else None
    if renderer == "quarto" and quarto is None:
        raise QuartoNotFoundError(
            "renderer='quarto' needs the `quarto` command on PATH (with `quarto --version` working); "
            "none was found. Install Quarto (see docs/reports.md) or use renderer='nbconvert' / 'auto'."
        )
    chosen = "quarto" if quarto else "nbconvert"
    if not executed_dir.is_dir():
        raise ReportError(f"{executed_dir}: no executed notebooks (run the pipeline first)")

    sources = discover(executed_dir)
    downloads = collect_downloads(executed_dir)
    generated_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()

    site_dir.parent.mkdir(parents=True, exist_ok=True)
    with _lock(site_dir):
        _remove_leftovers(site_dir)
        tmp = None
        try:
            if chosen == "quarto":
                tmp = _render_quarto(quarto, sources, site_dir.parent, site_dir.name, methodology,
                                     downloads, generated_at)
            else:
                tmp = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.tmp-", dir=site_dir.parent))
                _render_nbconvert(sources, tmp, methodology, downloads, generated_at)
            copied = []
            for files in downloads.values():
                for src, d in files:
                    (tmp / d.out).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, tmp / d.out)
                    copied.append(d.out)
            pages = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*.html"))
            result = {
                "renderer": chosen,
                "site_dir": str(site_dir),
                "executed_dir": str(executed_dir),
                "index": "index.html",
                "pages": pages,
                "municipalities": {s.name: s.out for s in sources if s.kind == "profile"},
                "missing": [f"{s.slug}.ipynb" for s in sources if s.path is None],
                "downloads": sorted(copied),
                "quarto": quarto,
                "quarto_version": _quarto_version(quarto) if quarto else None,
                "generated_at": generated_at,
            }
            result["seconds"] = round(time.monotonic() - started, 3)
            (tmp / "render.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n",
                                             encoding="utf-8")
            _publishable(tmp)
            _swap_in(tmp, site_dir)
            tmp = None
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.report", description=__doc__.splitlines()[0])
    p.add_argument("--executed", type=Path, default=DEFAULT_EXECUTED, help="executed notebooks (default %(default)s)")
    p.add_argument("--site", type=Path, default=DEFAULT_SITE, help="site folder to write (default %(default)s)")
    p.add_argument("--renderer", choices=RENDERERS, default="auto")
    p.add_argument("--methodology", type=Path, default=DEFAULT_METHODOLOGY)
    args = p.parse_args(argv)
    try:
        result = render_site(args.executed, args.site, args.renderer, methodology=args.methodology)
    except ReportError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    print(f"report: {len(result['pages'])} pages with {result['renderer']} in {result['seconds']} s "
          f"-> {result['site_dir']}/index.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
