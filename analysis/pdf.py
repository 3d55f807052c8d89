"""A municipality's profile page (or another of its views: the council paper, ...) printed to PDF by headless
Chromium, with the print stylesheet.

The built page (``reports/site/profiles/<kommunenummer>-<slug>.html``) is copied beside itself with
``reports/templates/print.css`` inlined (so relative links to assets and images still resolve),
printed with ``chromium --headless --print-to-pdf`` and moved into place atomically; the copy is
removed whatever happens.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from analysis import paths
from analysis.errors import InputError
from analysis.files import atomic_path

PRINT_CSS = paths.REPORTS / "templates" / "print.css"
SITE = paths.REPORTS / "site"
OUT = paths.REPORTS / "pdf"


def with_print_css(page: str, css: str) -> str:
    """The page's HTML with ``css`` as a print-only style element at the end of its head."""
    style = f'<style media="print">\n{css}\n</style>\n'
    lower = page.lower()
    at = lower.find("</head>")
    return page[:at] + style + page[at:] if at >= 0 else style + page


def chromium_command(chromium: str, page: Path, pdf: Path, profile_dir: Path) -> list[str]:
    """The headless Chromium command that prints ``page`` to ``pdf`` without header and footer lines."""
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile_dir}", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=5000", f"--print-to-pdf={pdf}", page.as_uri()]


VIEWS = {"profile": ("profiles/{slug}.html", "{slug}.pdf"), "real": ("real/{slug}.html", "{slug}-real.pdf"),
         "council": ("council/{slug}.html", "{slug}-council.pdf"),
         "resident-nb": ("residents/{slug}-nb.html", "{slug}-resident-nb.pdf"),
         "resident-en": ("residents/{slug}-en.html", "{slug}-resident-en.pdf")}
"""The pages of a municipality that print (its views in the site) and their PDF's default name."""


def page_count(pdf: bytes) -> int:
    """The number of pages of a PDF: the ``/Count`` of its page tree's root (the largest ``/Count`` of a ``/Pages``)."""
    counts = [int(m) for m in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    counts += [int(m) for m in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf)]
    return max(counts, default=0)


def print_profile(municipality: str, site: Path = SITE, output: Path | None = None,
                  chromium: str | None = None, timeout: float = 180.0, view: str = "profile") -> Path:
    """Print the page of ``municipality`` (a number or a name) to PDF, its profile or another view
    (``VIEWS``: real, council, resident-nb, resident-en); returns the PDF's path."""
    from analysis import browser, municipalities

    if view not in VIEWS:
        raise InputError.single("command line", f"unknown view '{view}'; expected one of {', '.join(VIEWS)}",
                                column="--view", label="option")
    entity = municipalities.registry().resolve(municipality, file="command line", column=None, label="argument")
    page = Path(site) / VIEWS[view][0].format(slug=entity.slug)
    if not page.is_file():
        raise InputError.single("command line", f"no {view} page for {entity.name} at {page}; build the site "
                                                "first (make all)", column=None, label="argument")
    chromium = chromium or browser.find_chromium()
    if chromium is None:
        raise InputError.single("command line", "Chromium is not installed (apt-get install chromium), or set "
                                                "U4SSC_CHROMIUM", column=None, label="argument")
    output = Path(output) if output else OUT / VIEWS[view][1].format(slug=entity.slug)
    copy = page.with_name(f".{page.stem}.print.html")
    try:
        copy.write_text(with_print_css(page.read_text(encoding="utf-8"), PRINT_CSS.read_text(encoding="utf-8")),
                        encoding="utf-8")
        with atomic_path(output) as tmp, tempfile.TemporaryDirectory(prefix="u4ssc-pdf-") as profile_dir:
            done = subprocess.run(chromium_command(chromium, copy, tmp, Path(profile_dir)), capture_output=True,
                                  text=True, timeout=timeout)
            if done.returncode != 0 or not tmp.read_bytes().startswith(b"%PDF"):
                raise RuntimeError(f"Chromium did not print {page} (exit {done.returncode}): {done.stderr[-500:]}")
    finally:
        copy.unlink(missing_ok=True)
    return output
