"""The rendered site in a real headless Chromium (Debian's `chromium`, driven by Playwright): no broken links or
images, no console errors, nothing loaded from the internet. The Quarto site is checked in tests/test_report.py."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from analysis import browser, report

from test_report import make_executed, make_methodology  # tests/ is on sys.path (pytest rootdir conftest)

CHROMIUM = browser.find_chromium()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: `apt-get install -y chromium` "
                                                 "(or set U4SSC_CHROMIUM) to run the browser check"),
]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def render(root: Path) -> Path:
    executed = make_executed(root)
    report.render_site(executed, root / "site", renderer="nbconvert", methodology=make_methodology(root))
    return root / "site"


def test_fallback_site_passes_in_chromium(tmp_path):
    site = render(tmp_path)
    shots = tmp_path / "shots"
    result = browser.check_site(site, shots)
    assert result.ok, result.summary()
    visited = {p.path for p in result.pages}
    assert visited == {"index.html", "methodology.html", "profiles/Bærum.html", "profiles/Tromsø.html",
                       "profiles/Ærø.html", "profiles/Ålesund.html", "synthesis.html", "tutorial.html", "docs/targets.html"}
    assert "tables/Ålesund/kpis.csv" in result.resources_checked
    titles = {p.path: p.title for p in result.pages}
    assert titles["profiles/Ærø.html"].startswith("<script>alert(1)</script> & Ærø: U4SSC profile")  # shown as text
    # The index and the first profile (Norwegian order: Ærø's name sorts first), desktop and phone width.
    assert sorted(Path(s).name for s in result.screenshots) == [
        "index-1400.png", "index-390.png", "profiles__Ærø-1400.png", "profiles__Ærø-390.png"]
    for shot in result.screenshots:
        width, height = png_size(Path(shot))
        assert width == int(shot.rsplit("-", 1)[1].removesuffix(".png")) and height > 300, shot


def test_check_catches_broken_links_images_and_console_errors(tmp_path):
    site = render(tmp_path)
    (site / "profiles" / "Bærum.html").unlink()
    (site / "tables" / "Ålesund" / "kpis.csv").unlink()
    methodology = site / "methodology.html"
    text = methodology.read_text(encoding="utf-8")
    text = text.replace("</main>", '<img src="assets/missing.png" alt="gone"><a href="#nowhere">x</a>'
                                   '<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Lato">'
                                   "<script>console.error('boom from the page')</script>"
                                   "<script>undefinedFunction()</script></main>")
    methodology.write_text(text, encoding="utf-8")

    out = tmp_path / "check.json"
    assert browser.main([str(site), "--screenshots", str(tmp_path / "shots"), "--json", str(out)]) == 1
    problems = json.loads(out.read_text(encoding="utf-8"))["problems"]
    kinds = {(p["kind"], p["page"]) for p in problems}
    details = "\n".join(f"{p['page']}: {p['kind']}: {p['detail']}" for p in problems)
    assert ("http", "profiles/Bærum.html") in kinds, details  # the missing page, visited from the index
    assert ("broken-link", "profiles/Ålesund.html") in kinds, details
    assert ("broken-image", "methodology.html") in kinds, details
    assert ("missing-anchor", "methodology.html") in kinds, details
    assert re.search(r"methodology.html: console: console.error: boom from the page", details), details
    assert ("exception", "methodology.html") in kinds, details
    assert re.search(r"methodology.html: external-request: stylesheet https://fonts.googleapis.com/", details), details
