"""A municipality's profile page printed to PDF by headless Chromium, with the print stylesheet.

The built page (``reports/site/profiles/<kommunenummer>-<slug>.html``) is copied beside itself with
``reports/templates/print.css`` inlined (so relative links to assets and images still resolve),
printed with ``chromium --headless --print-to-pdf`` and moved into place atomically; the copy is
removed whatever happens.
"""

from __future__ import annotations

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


def print_profile(municipality: str, site: Path = SITE, output: Path | None = None,
                  chromium: str | None = None, timeout: float = 180.0) -> Path:
    """Print the profile page of ``municipality`` (a number or a name) to PDF; returns the PDF's path."""
    from analysis import browser, municipalities

    entity = municipalities.registry().resolve(municipality, file="command line", column=None, label="argument")
    page = Path(site) / "profiles" / f"{entity.slug}.html"
    if not page.is_file():
        raise InputError.single("command line", f"no profile page for {entity.name} at {page}; build the site "
                                                "first (make all)", column=None, label="argument")
    chromium = chromium or browser.find_chromium()
    if chromium is None:
        raise InputError.single("command line", "Chromium is not installed (apt-get install chromium), or set "
                                                "U4SSC_CHROMIUM", column=None, label="argument")
    output = Path(output) if output else OUT / f"{entity.slug}.pdf"
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
