"""Publish the executed notebooks as a website for reviewers: Quarto where it is installed, nbconvert otherwise.

The pipeline executes the parameterised notebooks with papermill into ``reports/executed``::

    executed/profiles/<stem>.ipynb   (+ <stem>.provenance.json, which names the municipality)
    executed/synthesis.ipynb         (+ synthesis.provenance.json; may be missing)
    executed/tutorial.ipynb          (+ tutorial.provenance.json; may be missing)
    executed/tables/<stem>/*.csv|*.xlsx

:func:`render_site` reads them into one site model (:mod:`analysis.site`) and draws it with one of
two thin renderers, :func:`render_nbconvert` or :func:`analysis.quarto.render`, into the same
structure::

    index.html  methodology.html  synthesis.html  tutorial.html  docs/<name>.html
    profiles/<stem>.html  tables/<stem>/...  render.json

Nothing is executed again. The site is built in a temporary folder beside ``site_dir`` and swapped
in at the end, under a lock, so an interrupted run leaves the previous site (or none) rather than
half a site.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from . import paths, quarto, site as site_model
from .site import ReportError, Site

RENDERERS = ("auto", "quarto", "nbconvert")
TEMPLATES = site_model.TEMPLATES
DEFAULT_EXECUTED = paths.REPORTS / "executed"
DEFAULT_SITE = paths.REPORTS / "site"
DEFAULT_METHODOLOGY = paths.ROOT / "docs" / "methodology.md"
detect_quarto = quarto.detect


class QuartoNotFoundError(ReportError):
    """``renderer='quarto'`` was asked for but no working ``quarto`` is on PATH."""


# --------------------------------------------------------------------------------------------
# The nbconvert renderer


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
    text = re.sub(r"[^\w\s.-]", "", site_model.nfc(text).casefold())
    text = re.sub(r"\s+", "-", text.strip())
    return text.lstrip("0123456789.-_") or "section"


MISSING_ALT = re.compile(r"<img(?![^>]*\balt=)[^>]*>")
"""An image without alternative text (every figure of the project has its own, ``present.described``)."""


def _exporter():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class SiteExporter(HTMLExporter):
        """nbconvert's HTML exporter without its closing BeautifulSoup pass, which re-parses the whole page to give
        images without alternative text a placeholder and Lab-template cells a tabindex. The project's figures all
        have their own alternative text (checked in :func:`_notebook_html`) and the classic-based template has no
        Lab cells, while the pass took three quarters of a profile page's conversion (inline SVG figures)."""

        def from_notebook_node(self, nb, resources=None, **kw):
            lang = nb.metadata.get("language_info", {})
            self.register_filter("highlight_code", self.filters.get("highlight_code", Highlight2HTML(
                pygments_lexer=lang.get("pygments_lexer", lang.get("name")), parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return SiteExporter(
        template_name="u4ssc",
        extra_template_basedirs=[str(TEMPLATES / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="¶",
    )


def _notebook_html(exporter: Any, page: site_model.Page) -> Markup:
    nb = page.notebook
    for cell in nb.cells:  # a figure's caption doubles as its images' alternative text
        if cell.get("metadata", {}).get("caption") and not cell.metadata.get("alt"):
            cell.metadata["alt"] = str(cell.metadata["caption"])
    try:
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": page.title}})
    except Exception as exc:
        raise ReportError(f"{page.source}: nbconvert failed: {exc}") from exc
    missing = MISSING_ALT.search(body)
    if missing:
        raise ReportError(f"{page.source}: an image has no alternative text: {missing.group(0)[:120]}")
    return Markup(body)


_WORKER_EXPORTER: list[Any] = []


def _page_body(page: site_model.Page) -> str:
    """(In a worker process) one notebook page's body, with the worker's exporter."""
    if not _WORKER_EXPORTER:
        _WORKER_EXPORTER.append(_exporter())
    return str(_notebook_html(_WORKER_EXPORTER[0], page))


def notebook_bodies(site: Site, jobs: int = 1) -> dict[str, Markup]:
    """The nbconvert body of every notebook page (by output path), in ``jobs`` processes.

    nbconvert takes about 0.07 s per profile page (0.45 s before :func:`_exporter` dropped its
    BeautifulSoup pass), so a site of all Norway's 357 profiles is converted in parallel; each page
    is converted on its own, so the pages are the same whatever ``jobs`` is.
    """
    pages = [p for p in site.pages if p.notebook is not None]
    if jobs <= 1 or len(pages) < 2 * jobs or os.name == "nt":
        exporter = _exporter()
        return {p.out: _notebook_html(exporter, p) for p in pages}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        bodies = list(pool.map(_page_body, pages, chunksize=max(1, len(pages) // (8 * jobs))))
    return {p.out: Markup(body) for p, body in zip(pages, bodies)}


def render_nbconvert(site: Site, env: jinja2.Environment, out: Path, jobs: int = 1) -> None:
    """Every page of ``site`` through nbconvert (notebooks, in ``jobs`` processes) or mistune (documents), in
    ``page.html.j2``."""
    bodies = notebook_bodies(site, jobs)
    (out / "assets").mkdir(parents=True, exist_ok=True)
    for asset in ("u4ssc.css", "print.css", "u4ssc-tables.js", "favicon.svg"):
        shutil.copy2(TEMPLATES / asset, out / "assets" / asset)
    layout = env.get_template("page.html.j2")
    for page in site.pages:
        if page.notebook is not None:
            body = bodies[page.out]
        elif page.markdown is not None:
            body = markdown_to_html(page.markdown)
        else:
            body = Markup("")
        html = layout.render(site=site, page=page, root=page.root, body=body,
                             parts=site_model.fragments(env, site, page, "nbconvert"))
        target = out / page.out
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Atomic output


@contextlib.contextmanager
def _lock(site_dir: Path) -> Iterator[None]:
    """One render per site at a time (and so never two `quarto render` of one project at once)."""
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


def _copy_downloads(site: Site, out: Path) -> list[str]:
    for d in site.downloads:
        (out / d.out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(d.source, out / d.out)
    return sorted(d.out for d in site.downloads)


# --------------------------------------------------------------------------------------------
# Entry point


def render_site(executed_dir: str | Path | None = None, site_dir: str | Path | None = None,
                renderer: str = "auto", *, methodology: str | Path | None = None, jobs: int = 1) -> dict[str, Any]:
    """Render every executed notebook under ``executed_dir`` into the website ``site_dir``.

    ``renderer``: ``"quarto"`` (fails with :class:`QuartoNotFoundError` if Quarto is absent),
    ``"nbconvert"`` (the fallback), or ``"auto"`` (Quarto when :func:`detect_quarto` finds it).
    ``methodology``: the Markdown page to publish (default ``docs/methodology.md``); ``jobs``: processes
    the nbconvert renderer converts notebooks in.

    Returns what was rendered (also written to ``render.json``): ``renderer``, ``site_dir``,
    ``pages`` (paths relative to the site), ``municipalities`` (name → page), ``missing``
    (notebooks rendered as placeholders), ``downloads``, ``quarto`` (the executable or None),
    ``quarto_version``, ``quarto_rendered`` (inputs Quarto rendered this time), ``seconds``.
    """
    started = time.monotonic()
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {RENDERERS}, not {renderer!r}")
    executed_dir = Path(executed_dir) if executed_dir is not None else DEFAULT_EXECUTED
    site_dir = Path(site_dir if site_dir is not None else DEFAULT_SITE).absolute()
    methodology = Path(methodology) if methodology is not None else DEFAULT_METHODOLOGY

    exe = detect_quarto() if renderer in ("auto", "quarto") else None
    if renderer == "quarto" and exe is None:
        raise QuartoNotFoundError(
            "renderer='quarto' needs the `quarto` command on PATH (with `quarto --version` working); "
            "none was found. Install Quarto (see docs/reports.md) or use renderer='nbconvert' / 'auto'."
        )
    chosen = "quarto" if exe else "nbconvert"
    site = site_model.build(executed_dir, methodology)
    env = site_model.environment()
    generated_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()

    site_dir.parent.mkdir(parents=True, exist_ok=True)
    with _lock(site_dir):
        _remove_leftovers(site_dir)
        tmp = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.tmp-", dir=site_dir.parent))
        try:
            quarto_run = quarto.render(exe, site, env, site_dir, tmp) if exe else None
            if not exe:
                render_nbconvert(site, env, tmp, jobs)
            result = {
                "renderer": chosen,
                "site_dir": str(site_dir),
                "executed_dir": str(executed_dir),
                "index": "index.html",
                "pages": sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*.html")),
                "municipalities": {p.name: p.out for p in site.profiles},
                "missing": site.missing,
                "downloads": _copy_downloads(site, tmp),
                "quarto": exe,
                "quarto_version": quarto.version(exe) if exe else None,
                "quarto_full_render": quarto_run["full"] if quarto_run else None,
                "quarto_rendered": quarto_run["rendered"] if quarto_run else None,
                "generated_at": generated_at,
                "seconds": round(time.monotonic() - started, 3),
            }
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
