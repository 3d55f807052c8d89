"""The report site: nbconvert fallback rendered for real from tiny executed notebooks; Quarto when installed."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from analysis import report

EVIL = "<script>alert(1)</script> & Ærø"
EVIL_NOTE = '<b>bold</b> <img src=x onerror="alert(2)"> & more'
MUNICIPALITIES = ["Ålesund", "Bærum", "Tromsø", "Ærø"]  # file names; Ærø's provenance name is EVIL


def tiny_png(width: int = 24, height: int = 16) -> str:
    raw = b"".join(b"\x00" + b"\x1f\x6f\xb4" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


def executed_notebook(title: str, municipality: str | None, *, simulated: bool = True) -> nbformat.NotebookNode:
    """An executed notebook shaped as papermill leaves it (front matter, parameters, injected parameters...)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    front = f'---\ntitle: "{title}"\nsubtitle: U4SSC KPI profile\n---'
    banner = ('<div class="u4ssc-banner u4ssc-simulated">Most values on this page are simulated: '
              "read them as an illustration.</div>")
    table = ('<table class="u4ssc-table"><thead><tr><th>KPI</th><th>Value</th></tr></thead><tbody>'
             '<tr><td>EC: ICT: ICT: 1C</td><td>97.5</td></tr>'
             '<tr><td>EN: Environment: Air quality</td><td class="u4ssc-sim">12.3</td></tr></tbody></table>')
    cells = [
        nbformat.v4.new_raw_cell(front),
        nbformat.v4.new_code_cell("municipality = 'Oslo'\nSECRET_PARAMETER_DEFAULT = 1",
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(f"municipality = {municipality!r}\nINJECTED_MARKER = 2",
                                  metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_markdown_cell("## Overview\n\nThis profile summarises the KPIs."),
        nbformat.v4.new_code_cell("import pandas as pd\nSOURCE_CODE_MARKER = 3", metadata={"tags": ["remove-cell"]},
                                  outputs=[nbformat.v4.new_output("stream", name="stdout", text="REMOVED_OUTPUT\n")]),
        nbformat.v4.new_code_cell("show_table(VISIBLE_CODE_MARKER)", outputs=[
            nbformat.v4.new_output("display_data", data={"text/html": banner if simulated else "<p>Real data.</p>",
                                                         "text/plain": "banner"}),
            nbformat.v4.new_output("execute_result", data={"text/html": table, "text/plain": "table"},
                                   execution_count=2),
        ]),
        nbformat.v4.new_code_cell("plot(FIGURE_CODE_MARKER)", metadata={"caption": "Figure 1: <KPI> scores & targets"},
                                  outputs=[nbformat.v4.new_output(
                                      "display_data", data={"image/png": tiny_png(), "text/plain": "<Figure>"})]),
    ]
    nb.cells = cells
    return nb


def provenance(municipality: str | None, *, mostly: bool, **extra) -> dict:
    return {
        "municipality": municipality,
        "parameters": {"municipality": municipality, "year": 2024, "seed": 7},
        "data_sha256": "ab" * 32,
        "code_version": "v0.1.0-3-gdeadbee",
        "executed_at": "2025-11-22T13:00:00+00:00",
        "n_published": 40 if not mostly else 5,
        "n_city_supplied": 10,
        "n_simulated": 3 if not mostly else 60,
        "mostly_simulated": mostly,
        **extra,
    }


def make_executed(root: Path, *, with_tutorial: bool = False) -> Path:
    """A tree as the pipeline writes it, with 4 profiles, a synthesis, tables and one missing provenance."""
    executed = root / "executed"
    (executed / "profiles").mkdir(parents=True)
    for name in MUNICIPALITIES:
        display = EVIL if name == "Ærø" else name
        nb = executed_notebook(f"{display}: U4SSC profile", display, simulated=name != "Bærum")
        nbformat.write(nb, executed / "profiles" / f"{name}.ipynb")
        if name == "Tromsø":
            continue  # no provenance: the footer must say so
        extra = {"note": EVIL_NOTE} if name == "Ærø" else {}
        prov = provenance(display, mostly=name != "Bærum", **extra)
        (executed / "profiles" / f"{name}.provenance.json").write_text(
            json.dumps(prov, ensure_ascii=False), encoding="utf-8")
        tables = executed / "tables" / name
        tables.mkdir(parents=True)
        (tables / "kpis.csv").write_text("kpi,value\nEC-ICT-1C,97.5\n", encoding="utf-8")
        (tables / "kpis.xlsx").write_bytes(b"PK\x03\x04 not a real workbook but a file to copy")
    synthesis = executed_notebook("Cross-city synthesis", None)
    nbformat.write(synthesis, executed / "synthesis.ipynb")
    (executed / "synthesis.provenance.json").write_text(
        json.dumps(provenance(None, mostly=False)), encoding="utf-8")
    if with_tutorial:
        nbformat.write(executed_notebook("Tutorial", None), executed / "tutorial.ipynb")
    return executed


def make_methodology(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    path = docs / "methodology.md"
    path.write_text("# Methodology\n\nValues come from **three** sources; targets in [targets](targets.md#sources).\n\n"
                    "| a | b |\n|---|---|\n| 1 | 2 |\n", encoding="utf-8")
    (docs / "targets.md").write_text("# Targets\n\n## Sources\n\nBack to [the methodology](methodology.md).\n",
                                     encoding="utf-8")
    return path


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("a", "link") and a.get("href"):
            self.hrefs.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.srcs.append(a["src"])
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def parse(page: Path) -> Links:
    p = Links()
    p.feed(page.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("report")
    executed = make_executed(root)
    result = report.render_site(executed, root / "site", renderer="nbconvert", methodology=make_methodology(root))
    return root / "site", result


def test_structure_and_result(site):
    site_dir, result = site
    assert result["renderer"] == "nbconvert"
    for page in ["index.html", "methodology.html", "synthesis.html", "tutorial.html",
                 "profiles/Ålesund.html", "profiles/Bærum.html", "profiles/Tromsø.html", "profiles/Ærø.html"]:
        assert (site_dir / page).is_file(), page
        assert page in result["pages"]
    assert (site_dir / "assets" / "u4ssc.css").is_file()
    assert result["missing"] == ["tutorial.ipynb"]
    assert list(result["municipalities"]) == [EVIL, "Bærum", "Tromsø", "Ålesund"]  # Norwegian order: Å last
    assert "tables/Ålesund/kpis.csv" in result["downloads"]
    assert (site_dir / "tables" / "Ålesund" / "kpis.xlsx").is_file()
    manifest = json.loads((site_dir / "render.json").read_text(encoding="utf-8"))
    assert manifest["renderer"] == "nbconvert"
    # No temporary folders left beside the site.
    assert [p.name for p in site_dir.parent.iterdir() if p.name.startswith(".site.") and not p.name.endswith(".lock")] == []


def test_every_internal_link_resolves(site):
    site_dir, _ = site
    for page in site_dir.rglob("*.html"):
        links = parse(page)
        for ref in links.hrefs + links.srcs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("#"):
                assert parts.scheme in ("data", ""), f"{page}: external resource {ref}"
                continue
            assert "%" in ref or ref.isascii(), f"{page}: href not percent-encoded: {ref}"
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), f"{page}: broken link {ref}"


def test_index_lists_municipalities_with_counts_and_flags(site):
    site_dir, _ = site
    text = (site_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="profiles/%C3%85lesund.html"' in text
    assert 'href="profiles/B%C3%A6rum.html"' in text
    assert 'href="methodology.html"' in text
    bærum = re.search(r"<tr[^>]*>\s*<th scope=\"row\"><a href=\"profiles/B%C3%A6rum.html\">Bærum</a></th>(.*?)</tr>",
                      text, re.S)
    assert bærum, "Bærum's row"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", bærum.group(1), re.S)
    assert cells[:3] == ["40", "10", "3"]
    assert "mostly real data" in cells[3]
    ålesund = re.search(r"%C3%85lesund.html\">Ålesund</a></th>(.*?)</tr>", text, re.S).group(1)
    assert "mostly simulated" in ålesund
    tromsø = re.search(r"Troms%C3%B8.html\">Tromsø</a></th>(.*?)</tr>", text, re.S).group(1)
    assert "no provenance" in tromsø


def test_profile_drops_parameters_front_matter_and_code(site):
    site_dir, _ = site
    text = (site_dir / "profiles" / "Ålesund.html").read_text(encoding="utf-8")
    for gone in ("SECRET_PARAMETER_DEFAULT", "INJECTED_MARKER", "SOURCE_CODE_MARKER", "REMOVED_OUTPUT",
                 "VISIBLE_CODE_MARKER", "FIGURE_CODE_MARKER", "subtitle:", "---"):
        assert gone not in text, gone
    assert "<title>Ålesund: U4SSC profile · " in text
    assert "<h1>Ålesund: U4SSC profile</h1>" in text
    assert "U4SSC KPI profile" in text  # subtitle
    assert "This profile summarises the KPIs." in text  # markdown cell kept
    assert 'class="u4ssc-banner u4ssc-simulated"' in text
    assert 'class="u4ssc-sim"' in text and 'class="u4ssc-legend"' in text
    assert "data:image/png;base64," in text
    assert "<figcaption>Figure 1: &lt;KPI&gt; scores &amp; targets</figcaption>" in text
    assert 'href="../tables/%C3%85lesund/kpis.csv"' in text
    assert 'href="../assets/u4ssc.css"' in text


def test_footer_on_every_page(site):
    site_dir, _ = site
    for page in site_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert '<footer class="u4ssc-provenance">' in text, page
        assert "<dt>Renderer</dt><dd>nbconvert</dd>" in text, page
    ålesund = (site_dir / "profiles" / "Ålesund.html").read_text(encoding="utf-8")
    for expected in ("ab" * 32, "v0.1.0-3-gdeadbee", "2025-11-22T13:00:00+00:00", "<code>seed</code>", "<code>7</code>"):
        assert expected in ålesund
    tromsø = (site_dir / "profiles" / "Tromsø.html").read_text(encoding="utf-8")
    assert "No provenance record was found" in tromsø and "Tromsø.provenance.json" in tromsø
    assert "not part of this build" in (site_dir / "tutorial.html").read_text(encoding="utf-8")


def test_untrusted_strings_are_escaped(site):
    site_dir, _ = site
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Ærø"
    index = (site_dir / "index.html").read_text(encoding="utf-8")
    assert escaped in index
    page = (site_dir / "profiles" / "Ærø.html").read_text(encoding="utf-8")
    assert f"<h1>{escaped}: U4SSC profile</h1>" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=&#34;alert(2)&#34;&gt; &amp; more" in page
    for text in (index, page):
        assert "<script>" not in text
        assert "<b>bold</b>" not in text
        assert "onerror=\"alert" not in text


def test_methodology_rendered(site):
    site_dir, _ = site
    text = (site_dir / "methodology.html").read_text(encoding="utf-8")
    assert "<h1>Methodology</h1>" in text
    assert "<strong>three</strong>" in text and "<table>" in text
    assert 'href="docs/targets.html#sources"' in text  # sibling documents are published too
    targets = (site_dir / "docs" / "targets.html").read_text(encoding="utf-8")
    assert "<h1>Targets</h1>" in targets and 'href="../assets/u4ssc.css"' in targets


def test_missing_methodology_gives_placeholder(tmp_path):
    executed = tmp_path / "executed"
    (executed / "profiles").mkdir(parents=True)
    result = report.render_site(executed, tmp_path / "site", renderer="nbconvert", methodology=tmp_path / "nope.md")
    assert "was not found" in (tmp_path / "site" / "methodology.html").read_text(encoding="utf-8")
    assert result["municipalities"] == {}
    assert "No municipality profile" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_rerender_replaces_site_and_failure_keeps_old_one(tmp_path, monkeypatch):
    executed = make_executed(tmp_path, with_tutorial=True)
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "stale.html").write_text("old", encoding="utf-8")
    result = report.render_site(executed, site_dir, renderer="nbconvert", methodology=make_methodology(tmp_path))
    assert not (site_dir / "stale.html").exists()
    assert result["missing"] == []
    assert "not part of this build" not in (site_dir / "tutorial.html").read_text(encoding="utf-8")
    assert oct(site_dir.stat().st_mode & 0o777) != oct(0o700)

    before = sorted(p.relative_to(site_dir) for p in site_dir.rglob("*"))

    def boom(*args, **kwargs):
        raise RuntimeError("interrupted half way")

    monkeypatch.setattr(report, "index_body", boom)
    with pytest.raises(RuntimeError, match="half way"):
        report.render_site(executed, site_dir, renderer="nbconvert")
    assert sorted(p.relative_to(site_dir) for p in site_dir.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name] == []


def test_front_matter_and_cleaning():
    nb = executed_notebook("A title", "Bærum")
    cleaned, front = report.clean_notebook(nb)
    assert front == {"title": "A title", "subtitle": "U4SSC KPI profile"}
    assert [c.cell_type for c in cleaned.cells] == ["markdown", "code", "code"]
    assert len(nb.cells) == 7  # the input is not modified
    assert report.parse_front_matter(nbformat.v4.new_markdown_cell("---\ntitle: x\n---")) is None


def test_norwegian_order():
    names = ["Ålesund", "Oslo", "Ærø", "Bærum", "Øygarden", "Zeta", "aal"]
    assert sorted(names, key=report.norwegian_key) == ["aal", "Bærum", "Oslo", "Zeta", "Ærø", "Øygarden", "Ålesund"]


def test_bad_renderer_and_missing_input(tmp_path):
    with pytest.raises(ValueError):
        report.render_site(tmp_path, tmp_path / "site", renderer="pandoc")
    with pytest.raises(report.ReportError, match="no executed notebooks"):
        report.render_site(tmp_path / "absent", tmp_path / "site", renderer="nbconvert")


# ---- Quarto ---------------------------------------------------------------------------------

QUARTO = report.detect_quarto()


@pytest.mark.skipif(QUARTO is not None, reason="quarto is installed here: the absent-Quarto behaviour cannot be seen")
def test_quarto_absent_is_reported(tmp_path):
    assert report.detect_quarto() is None
    executed = make_executed(tmp_path)
    with pytest.raises(report.QuartoNotFoundError, match="quarto"):
        report.render_site(executed, tmp_path / "site", renderer="quarto")
    assert not (tmp_path / "site").exists()
    result = report.render_site(executed, tmp_path / "site", renderer="auto", methodology=make_methodology(tmp_path))
    assert result["renderer"] == "nbconvert" and result["quarto"] is None


def test_quarto_config_is_a_website_that_does_not_execute():
    import yaml

    config = yaml.safe_load(report.QUARTO_CONFIG.read_text(encoding="utf-8"))
    assert config["project"]["type"] == "website"
    assert config["execute"]["enabled"] is False
    assert config["format"]["html"]["echo"] is False
    texts = [item["text"] for item in config["website"]["navbar"]["left"]]
    assert texts == ["Home", "Municipalities", "Synthesis", "Tutorial", "Methodology"]
    assert "_municipalities.yml" in config["metadata-files"]


def test_quarto_staging_is_prepared(tmp_path):
    """The files handed to `quarto render` (no Quarto run here: only the staging folder is checked)."""
    import yaml

    executed = make_executed(tmp_path)
    sources = report.discover(executed)
    staging = tmp_path / "staging"
    staging.mkdir()
    report._stage_quarto(sources, staging, make_methodology(tmp_path), report.collect_downloads(executed), "now")
    assert (staging / "_quarto.yml").is_file() and (staging / "u4ssc.css").is_file()
    nb = nbformat.read(staging / "profiles" / "Ålesund.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("---\n")
    assert report.parse_front_matter(nb.cells[0])["title"] == "Ålesund: U4SSC profile"
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert not set(tags) & report.REMOVE_CELL_TAGS
    assert "<dd>quarto</dd>" in nb.cells[-1].source
    sidebar = yaml.safe_load((staging / "_municipalities.yml").read_text(encoding="utf-8"))
    section = sidebar["website"]["sidebar"]["contents"][1]
    assert [i["href"] for i in section["contents"]] == [
        "profiles/Ærø.ipynb", "profiles/Bærum.ipynb", "profiles/Tromsø.ipynb", "profiles/Ålesund.ipynb"]
    assert section["contents"][0]["text"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Ærø"  # Quarto won't escape it
    evil = nbformat.read(staging / "profiles" / "Ærø.ipynb", as_version=4)
    assert report.parse_front_matter(evil.cells[0])["title"] == r"\<script\>alert\(1\)\</script\> \& Ærø: U4SSC profile"
    assert (staging / "tutorial.ipynb").is_file()  # placeholder, so the navbar link resolves
    assert "&lt;script&gt;" in (staging / "index.qmd").read_text(encoding="utf-8")


@pytest.mark.skipif(QUARTO is None, reason="quarto is not on PATH (install it to test the Quarto site; see docs/reports.md)")
def test_render_with_real_quarto(tmp_path):
    executed = make_executed(tmp_path)
    result = report.render_site(executed, tmp_path / "site", renderer="quarto", methodology=make_methodology(tmp_path))
    site_dir = tmp_path / "site"
    assert result["renderer"] == "quarto" and result["quarto_version"]
    for page in ["index.html", "methodology.html", "synthesis.html", "tutorial.html", "profiles/Ålesund.html"]:
        assert (site_dir / page).is_file(), page
    text = (site_dir / "profiles" / "Ålesund.html").read_text(encoding="utf-8")
    assert "SECRET_PARAMETER_DEFAULT" not in text and "INJECTED_MARKER" not in text
    assert "<dd>quarto</dd>" in text
    assert "<script>alert(1)</script>" not in (site_dir / "index.html").read_text(encoding="utf-8")
