"""The website as data: pages, navigation, downloads, footers, titles and the simulated-values legend.

:func:`build` reads the executed notebooks (``reports/executed``) and the methodology and returns one
:class:`Site`. Both renderers (Quarto and nbconvert, in :mod:`analysis.report` and
:mod:`analysis.quarto`) draw every page from this model and the shared Jinja templates in
``reports/templates``, so the two sites cannot drift apart in structure, titles, order or footers.
Nothing here writes files.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import nbformat
import yaml
from markupsafe import Markup

from . import paths

INDEX_SUBTITLE = "Profiles, synthesis and tutorial of the U4SSC Key Performance Indicators"
TEMPLATES = paths.REPORTS / "templates"
REMOVE_CELL_TAGS = frozenset({"parameters", "injected-parameters", "remove-cell"})
DOWNLOAD_SUFFIXES = (".csv", ".xlsx", ".html")
SIMULATED_CLASS = "u4ssc-sim"  # cells resting on simulated values carry this class

# Navigation: key (its label is the catalogue message ``nav.<key>``), target page, fragment.
NAV = (
    ("home", "index.html", ""),
    ("municipalities", "index.html", "municipalities"),
    ("synthesis", "synthesis.html", ""),
    ("tutorial", "tutorial.html", ""),
    ("methodology", "methodology.html", ""),
)
OTHER_NOTEBOOKS = (("synthesis", "Cross-city synthesis"), ("tutorial", "Tutorial"))

# Provenance keys shown in the footer, in this order, with their labels; any other key follows.
PROVENANCE_FIELDS = (
    ("municipality", "Municipality"),
    ("kommunenummer", "Kommunenummer"),
    ("data_sha256", "Data (SHA-256)"),
    ("code_version", "Code version"),
    ("executed_at", "Executed at"),
    ("n_published", "Published values"),
    ("n_city_supplied", "City-supplied values"),
    ("n_simulated", "Simulated values"),
    ("mostly_simulated", "Mostly simulated"),
    ("n_data_points", "Data points"),
    ("n_data_points_real", "Data points with a real value"),
    ("n_data_points_any", "Data points with any value"),
)
RESIDENT_FOOTER = ("municipality", "kommunenummer", "data_sha256", "code_version", "executed_at")
"""The provenance a resident page shows (its profile's): what a reader needs to find the figures again."""


class ReportError(RuntimeError):
    """The site could not be rendered (bad input, or the renderer failed)."""


# --------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class NavItem:
    key: str
    text: str  # in English: Quarto draws one navbar for every page
    page: str  # target page, relative to the site root, unquoted
    fragment: str = ""

    @property
    def href(self) -> str:
        return quote(self.page) + (f"#{self.fragment}" if self.fragment else "")

    def label(self, lang: str) -> str:
        """The item's text in the page's language (the nbconvert site draws a navbar per page)."""
        return _message(f"nav.{self.key}", lang)


@dataclass(frozen=True)
class Download:
    name: str
    out: str  # relative to the site root, unquoted
    size: str
    source: Path

    @property
    def href(self) -> str:
        return quote(self.out)


@dataclass(frozen=True)
class Footer:
    """What a page's provenance footer shows (the renderer's name is added when it is drawn)."""

    provenance: dict[str, Any] | None
    expected: str | None = None  # the provenance file that was looked for, when it is missing
    fields: tuple[tuple[str, str], ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ViewLink:
    """One view of a municipality (its demonstration profile, real-data view, resident pages, council paper)."""

    view: str  # demonstration, real, resident.nb, resident.en, council
    text: str  # in the language of the page that shows the link
    page: str  # target page, relative to the site root, unquoted
    current: bool
    lang: str

    @property
    def href(self) -> str:
        return quote(self.page)


@dataclass
class Page:
    """One page of the site; exactly one of ``notebook``, ``markdown`` or ``placeholder`` is its body
    (``kind == "index"`` has none: its body is the municipality table)."""

    kind: str  # index, profile, synthesis, tutorial, methodology, doc
    out: str  # output file relative to the site root, unquoted (profiles/Ålesund.html)
    title: str
    subtitle: str | None
    active: str  # key of the navigation item shown as current
    footer: Footer
    name: str = ""  # a profile's municipality
    notebook: Any = None  # the cleaned executed notebook (nbformat node)
    source: Path | None = None  # the executed notebook or Markdown file
    markdown: str | None = None  # Markdown body, links already pointing at .html pages
    placeholder: str | None = None  # the notebook that was expected but not executed
    note: str | None = None  # why a placeholder has no notebook (it failed; from failed.json), shown on its page
    downloads: list[Download] = field(default_factory=list)
    legend: bool = False  # the page shows simulated values: one legend at its top
    lang: str = "en"  # the page's language (<html lang>), en or nb
    key: str = ""  # a municipality's file stem (<kommunenummer>-<slug>), shared by its views
    views: list[ViewLink] = field(default_factory=list)  # every view of its municipality, this one marked

    @property
    def href(self) -> str:
        return quote(self.out)

    @property
    def root(self) -> str:
        """Relative path from this page to the site root ("" or "../")."""
        return "../" * self.out.count("/")

    @property
    def stem(self) -> str:
        return self.out.removesuffix(".html")


@dataclass
class Site:
    title: str
    nav: tuple[NavItem, ...]
    pages: list[Page]
    index_rows: list[dict[str, Any]]
    missing: list[str]  # notebooks rendered as placeholders
    code_version: str

    def title_in(self, lang: str) -> str:
        """The site's name on a page in ``lang`` (its brand link and the end of its <title>)."""
        return _message("site.title", lang)

    @staticmethod
    def nav_label(lang: str) -> str:
        """The accessible name of the navbar in ``lang``."""
        return _message("nav.label", lang)

    @property
    def profiles(self) -> list[Page]:
        return [p for p in self.pages if p.kind == "profile"]

    def of_kind(self, kind: str) -> list[Page]:
        return [p for p in self.pages if p.kind == kind]

    @property
    def downloads(self) -> list[Download]:
        return [d for p in self.pages for d in p.downloads]


# --------------------------------------------------------------------------------------------
# Names and order


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_NORWEGIAN_LAST = {"æ": "{", "ø": "|", "å": "}"}  # sort after z, in this order


def norwegian_key(name: str) -> tuple[str, str]:
    """Sort key for Norwegian names: ... Y, Z, Æ, Ø, Å; case and other accents ignored."""
    out = []
    for ch in nfc(name).casefold():
        out.append(_NORWEGIAN_LAST.get(ch) or unicodedata.normalize("NFKD", ch)[0])
    return "".join(out), name


def profile_title(name: str, title: str | None) -> str:
    """A profile's page title names its municipality, so that 17 pages never share one title."""
    title = str(title) if title not in (None, "") else name
    return title if nfc(name).casefold() in nfc(title).casefold() else f"{name}: {title}"


# --------------------------------------------------------------------------------------------
# Reading the executed notebooks


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


def shows_simulated(nb: Any) -> bool:
    """Whether any output of the notebook marks a value as simulated."""
    return any(SIMULATED_CLASS in str(output.get("data", {}).get("text/html", ""))
               for cell in nb.cells for output in cell.get("outputs", []))


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


def _display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def make_footer(provenance: dict[str, Any] | None, expected: str | None = None) -> Footer:
    """The footer of a page from its provenance record (known keys first, in a fixed order)."""
    if provenance is None:
        return Footer(None, expected)
    fields, parameters = [], []
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
    return Footer(provenance, None, tuple(fields), tuple(parameters))


def _human_size(n: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def collect_downloads(executed_dir: Path, prefix: str = "") -> dict[str, list[Download]]:
    """Tables written by the notebooks, by folder name (NFC): ``tables/<stem>/*.csv|*.xlsx``, published
    below ``prefix`` (``real/`` for the real-data views)."""
    found: dict[str, list[Download]] = {}
    tables = executed_dir / "tables"
    if not tables.is_dir():
        return found
    for folder in sorted(p for p in tables.iterdir() if p.is_dir()):
        stem = nfc(folder.name)
        files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in DOWNLOAD_SUFFIXES),
                       key=lambda p: norwegian_key(p.name))
        found[stem] = [Download(nfc(p.name), f"{prefix}tables/{stem}/{nfc(p.name)}", _human_size(p.stat().st_size), p)
                       for p in files]
    return found


def _read_notebook(path: Path) -> Any:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds of error for a bad file
        raise ReportError(f"{path}: cannot read notebook: {exc}") from exc


def notebook_page(kind: str, path: Path, downloads: dict[str, list[Download]]) -> Page:
    """The page of one executed notebook: cleaned cells, title, footer, downloads, legend."""
    stem = nfc(path.stem)
    nb, front = clean_notebook(_read_notebook(path))
    provenance, prov_path = load_provenance(path)
    footer = make_footer(provenance, prov_path.name)
    subtitle = str(front["subtitle"]) if front.get("subtitle") not in (None, "") else None
    if kind == "profile":
        name = stem
        if provenance and isinstance(provenance.get("municipality"), str):
            name = nfc(provenance["municipality"])
        return Page("profile", f"profiles/{stem}.html", profile_title(name, front.get("title")), subtitle,
                    "municipalities", footer, name=name, notebook=nb, source=path,
                    downloads=downloads.get(stem, []), legend=shows_simulated(nb), key=stem)
    default = dict(OTHER_NOTEBOOKS)[kind]
    title = str(front["title"]) if front.get("title") not in (None, "") else default
    return Page(kind, f"{kind}.html", title, subtitle, kind, footer, notebook=nb, source=path,
                downloads=downloads.get(stem, []), legend=shows_simulated(nb))


def discover(executed_dir: Path) -> tuple[list[Page], list[Page]]:
    """Profile pages (Norwegian alphabetical order of the municipality) and the other notebook pages
    (synthesis, tutorial; a placeholder page where the notebook is missing)."""
    downloads = collect_downloads(executed_dir)
    profiles_dir = executed_dir / "profiles"
    paths_ = sorted(p for p in profiles_dir.glob("*.ipynb") if p.is_file() and not p.name.startswith(".")) \
        if profiles_dir.is_dir() else []
    stems = [nfc(p.stem) for p in paths_]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise ReportError(f"{profiles_dir}: several notebooks normalise to the same name: {duplicates}")
    profiles = [notebook_page("profile", p, downloads) for p in paths_]
    failed = read_failed(executed_dir)
    for entry in failed:  # a profile that failed in this build still gets a page saying so
        stem = nfc(Path(str(entry.get("notebook", ""))).stem)
        if entry.get("kind") == "profile" and entry.get("municipality") and stem and stem not in stems:
            name = nfc(str(entry["municipality"]))
            profiles.append(Page("profile", f"profiles/{stem}.html", name, None, "municipalities",
                                 Footer(None, f"{stem}.provenance.json"), name=name,
                                 placeholder=f"{stem}.ipynb", note=failed_note(entry), key=stem))
    profiles.sort(key=lambda p: norwegian_key(p.name))
    others = []
    for kind, title in OTHER_NOTEBOOKS:
        path = executed_dir / f"{kind}.ipynb"
        if path.is_file():
            others.append(notebook_page(kind, path, downloads))
        else:
            note = next((failed_note(e) for e in failed if e.get("kind") == kind), None)
            others.append(Page(kind, f"{kind}.html", title, None, kind,
                               Footer(None, f"{kind}.provenance.json"), placeholder=f"{kind}.ipynb", note=note))
    return profiles, others


VIEW_ORDER = ("demonstration", "real", "resident.nb", "resident.en", "council")
"""The views of a municipality in the order its pages link them."""
VIEW_FOLDERS = {"real": "real", "resident": "residents", "council": "council"}
"""Folder of each kind of view, in the executed notebooks and in the site."""


def _message(key: str, lang: str, **fields: Any) -> str:
    from analysis import i18n
    return i18n.message(key, lang, **fields)


def view_pages(executed_dir: Path, profiles: list[Page]) -> list[Page]:
    """The other views of each profiled municipality that were executed: its real-data view
    (``real/profiles/<stem>.ipynb``, with its own tables and provenance), its resident pages
    (``residents/<stem>-<lang>.ipynb``) and its council paper (``council/<stem>.ipynb``); the last two
    show the demonstration profile's provenance, whose figures they are."""
    names = {p.key: p.name for p in profiles if p.notebook is not None}
    pages: list[Page] = []
    real = executed_dir / VIEW_FOLDERS["real"]
    downloads = collect_downloads(real, "real/")
    for key, name in names.items():
        path = real / "profiles" / f"{key}.ipynb"
        if path.is_file():
            page = notebook_page("profile", path, downloads)
            pages.append(Page("real", f"real/{key}.html", _message("view.real.title", "en", title=page.title),
                              _message("view.real.subtitle", "en"), "municipalities", page.footer, name=name,
                              notebook=page.notebook, source=path, downloads=page.downloads, legend=page.legend,
                              key=key))
        provenance, _ = load_provenance(executed_dir / "profiles" / f"{key}.ipynb")
        for lang in ("nb", "en"):
            path = executed_dir / VIEW_FOLDERS["resident"] / f"{key}-{lang}.ipynb"
            if path.is_file():
                nb, _ = clean_notebook(_read_notebook(path))
                shown = {k: provenance[k] for k in RESIDENT_FOOTER if k in provenance} if provenance else None
                pages.append(Page("resident", f"residents/{key}-{lang}.html",
                                  _message("resident.title", lang, municipality=name), None, "municipalities",
                                  make_footer(shown, f"{key}.provenance.json"), name=name, notebook=nb, source=path,
                                  legend=shows_simulated(nb), lang=lang, key=key))
        path = executed_dir / VIEW_FOLDERS["council"] / f"{key}.ipynb"
        if path.is_file():
            nb, _ = clean_notebook(_read_notebook(path))
            pages.append(Page("council", f"council/{key}.html", _message("view.council.title", "en", municipality=name),
                              _message("view.council.subtitle", "en"), "municipalities",
                              make_footer(provenance, f"{key}.provenance.json"), name=name, notebook=nb, source=path,
                              legend=shows_simulated(nb), key=key))
    return pages


def _view(page: Page) -> str:
    return {"profile": "demonstration", "resident": f"resident.{page.lang}"}.get(page.kind, page.kind)


def link_views(profiles: list[Page], views: list[Page]) -> None:
    """Give every page of a municipality the links to all its views (in its own language), and name the
    demonstration profile as such in its subtitle once a real-data view stands beside it."""
    by_key: dict[str, dict[str, Page]] = {}
    for page in [*profiles, *views]:
        if page.key and page.notebook is not None:
            by_key.setdefault(page.key, {})[_view(page)] = page
    for pages in by_key.values():
        if len(pages) < 2:
            continue
        if "real" in pages and "demonstration" in pages:
            pages["demonstration"].subtitle = _message("view.demonstration.subtitle", "en")
        for page in pages.values():
            page.views = [ViewLink(v, _message(f"view.{v}", page.lang), pages[v].out, pages[v] is page,
                                   pages[v].lang) for v in VIEW_ORDER if v in pages]


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


def failed_note(entry: dict[str, Any]) -> str:
    """The sentence a failed notebook's page shows: what failed and where its log is."""
    what = f"The profile of {entry['municipality']}" if entry.get("kind") == "profile" else f"The {entry.get('kind')}"
    return f"{what} failed in this build; the log is {entry.get('log') or 'not available'}."


# --------------------------------------------------------------------------------------------
# The methodology and the documents it links to


def read_markdown(path: Path | None, default: str = "Methodology") -> tuple[str, str]:
    """Title and Markdown body of a document (a placeholder when the file is missing)."""
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


def relink_docs(text: str, folder: Path, prefix: str, methodology: str | None = None) -> str:
    """Point Markdown links to existing sibling ``.md`` files at their published ``.html`` pages.

    ``methodology``: the stem of the methodology file, published at the site root (so a linked
    document, published under ``docs/``, reaches it through ``../``).
    """
    def swap(match: re.Match) -> str:
        if not (folder / f"{match['name']}.md").is_file():
            return match.group(0)
        target = f"{prefix}{quote(match['name'])}.html"
        if match["name"] == methodology:
            target = "../methodology.html"
        return f"]({target}{match['frag'] or ''})"
    return _MD_LINK.sub(swap, text)


def source_label(path: Path | None) -> str:
    if path is None:
        return "—"
    try:
        return str(path.resolve().relative_to(paths.ROOT))
    except ValueError:
        return path.name


def document_pages(methodology: Path | None) -> list[Page]:
    """The methodology page and one page per document it links to."""
    title, text = read_markdown(methodology)
    if methodology is not None and methodology.is_file():
        text = relink_docs(text, methodology.parent, "docs/")
    pages = [Page("methodology", "methodology.html", title, None, "methodology",
                  make_footer({"source": source_label(methodology)}), source=methodology, markdown=text)]
    for doc in linked_docs(methodology):
        title, text = read_markdown(doc, default=doc.stem.replace("_", " ").capitalize())
        text = relink_docs(text, doc.parent, "", methodology.stem)
        pages.append(Page("doc", f"docs/{doc.stem}.html", title, None, "methodology",
                          make_footer({"source": source_label(doc)}), source=doc, markdown=text))
    return pages


# --------------------------------------------------------------------------------------------
# The site


def _count(provenance: dict[str, Any] | None, key: str) -> str:
    if not provenance or provenance.get(key) is None:
        return "—"
    return str(provenance[key])


def _headline(provenance: dict[str, Any] | None, name: str) -> str:
    """The profile's one-line result (``analysis.summary``), without the municipality's name it starts with."""
    text = str((provenance or {}).get("headline") or "")
    return text.removeprefix(f"{name}: ")


def _coverage(provenance: dict[str, Any] | None, key: str) -> str:
    """'25 of 112 (22 %)': data points with a value of a kind, of all data points, from a profile's provenance."""
    if not provenance or provenance.get(key) is None or not provenance.get("n_data_points"):
        return "—"
    n, total = int(provenance[key]), int(provenance["n_data_points"])
    return f"{n} of {total} ({100 * n / total:.0f} %)"


def index_rows(profiles: list[Page]) -> list[dict[str, Any]]:
    """One row of the home page's table per profile."""
    rows = []
    for p in profiles:
        prov = p.footer.provenance
        mostly = None if prov is None or prov.get("mostly_simulated") is None else bool(prov["mostly_simulated"])
        rows.append({
            "name": p.name, "href": p.href, "mostly_simulated": mostly,
            "n_published": _count(prov, "n_published"), "n_city_supplied": _count(prov, "n_city_supplied"),
            "n_national_statistics": _count(prov, "n_national_statistics"),
            "n_simulated": _count(prov, "n_simulated"), "n_downloads": len(p.downloads),
            "headline": _headline(prov, p.name), "note": p.note,
            "coverage_real": _coverage(prov, "n_data_points_real"), "coverage_any": _coverage(prov, "n_data_points_any"),
            "views": [v for v in p.views if not v.current],
            "abroad": prov is not None and "city_id" in prov,  # a city outside Norway (analysis.cities)
        })
    return rows


def build(executed_dir: Path, methodology: Path | None) -> Site:
    """The whole site from the executed notebooks and the methodology."""
    if not executed_dir.is_dir():
        raise ReportError(f"{executed_dir}: no executed notebooks (run the pipeline first)")
    profiles, others = discover(executed_dir)
    views = view_pages(executed_dir, profiles)
    link_views(profiles, views)
    versions = sorted({str(p.footer.provenance["code_version"]) for p in profiles + others
                       if p.footer.provenance and p.footer.provenance.get("code_version")})
    code_version = ", ".join(versions) if versions else "—"
    title = _message("site.title", "en")
    index = Page("index", "index.html", title, INDEX_SUBTITLE, "home",
                 make_footer({"code_version": code_version}))
    rows = index_rows(profiles)
    nav = tuple(NavItem(key, _message(f"nav.{key}", "en"), page, fragment) for key, page, fragment in NAV)
    return Site(title, nav, [index, *profiles, *views, *others, *document_pages(methodology)], rows,
                [p.placeholder for p in others if p.placeholder], code_version)


# --------------------------------------------------------------------------------------------
# HTML fragments drawn from the templates (shared by both renderers; everything autoescaped)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals["message"] = _message  # catalogue text (analysis/locale/messages.csv) in a page's language
    return env


@dataclass(frozen=True)
class Fragments:
    """The pieces of a page that do not come from a renderer: drawn once, from the templates."""

    legend: Markup
    views: Markup  # links to the other views of the page's municipality ("" when it has none)
    intro: Markup  # the index's table or a placeholder's notice ("" otherwise)
    downloads: Markup
    footer: Markup


def fragments(env: jinja2.Environment, site: Site, page: Page, renderer: str) -> Fragments:
    def draw(name: str, **context: Any) -> Markup:
        return Markup(env.get_template(name).render(site=site, page=page, root=page.root, **context).strip())

    intro = Markup("")
    if page.kind == "index":
        rows = site.index_rows
        intro = draw("index.html.j2", rows=rows, missing=[m.removesuffix(".ipynb") for m in site.missing],
                     n_mostly=sum(1 for r in rows if r["mostly_simulated"]))
    elif page.placeholder:
        intro = draw("placeholder.html.j2")
    return Fragments(
        legend=draw("legend.html.j2") if page.legend else Markup(""),
        views=draw("views.html.j2") if page.views else Markup(""),
        intro=intro,
        downloads=draw("downloads.html.j2") if page.downloads else Markup(""),
        footer=draw("footer.html.j2", footer=page.footer, renderer=renderer),
    )
