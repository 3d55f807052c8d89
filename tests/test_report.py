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

from analysis import paths, quarto, report, site as site_model

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
        "headline": f"{municipality}: 61% overall (33–66 %)",
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
    assert cells[:4] == ["61% overall (33–66 %)", "—", "—",  # headline, coverages (not in this provenance), counts
                         '40 published, 10 city-supplied, — national statistics, <span class="u4ssc-sim">3 simulated</span>']
    assert "mostly real data" in cells[4]
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

    monkeypatch.setattr(report, "markdown_to_html", boom)
    with pytest.raises(RuntimeError, match="half way"):
        report.render_site(executed, site_dir, renderer="nbconvert")
    assert sorted(p.relative_to(site_dir) for p in site_dir.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name] == []


def test_front_matter_and_cleaning():
    nb = executed_notebook("A title", "Bærum")
    cleaned, front = site_model.clean_notebook(nb)
    assert front == {"title": "A title", "subtitle": "U4SSC KPI profile"}
    assert [c.cell_type for c in cleaned.cells] == ["markdown", "code", "code"]
    assert len(nb.cells) == 7  # the input is not modified
    assert site_model.parse_front_matter(nbformat.v4.new_markdown_cell("---\ntitle: x\n---")) is None


def test_an_image_without_alternative_text_is_refused():
    """The exporter skips nbconvert's placeholder pass, so an output image without alt text is an error naming the
    notebook, never a page with 'No description'; the figure with its caption as alt text converts."""
    nb, _ = site_model.clean_notebook(executed_notebook("A title", "Bærum"))
    page = site_model.Page(kind="profile", out="profiles/x.html", title="x", subtitle=None, active="x",
                           footer=None, notebook=nb, source=Path("executed/profiles/1219-bømlo.ipynb"))
    body = report._notebook_html(report._exporter(), page)
    assert 'alt="Figure 1: &lt;KPI&gt; scores &amp; targets"' in body and "No description" not in body
    nb.cells.append(nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": '<p>map</p><img src="map.png" class="m">', "text/plain": "map"})]))
    with pytest.raises(report.ReportError, match=r"1219-bømlo\.ipynb: an image has no alternative text: <img src"):
        report._notebook_html(report._exporter(), page)


def test_norwegian_order():
    names = ["Ålesund", "Oslo", "Ærø", "Bærum", "Øygarden", "Zeta", "aal"]
    assert sorted(names, key=site_model.norwegian_key) == ["aal", "Bærum", "Oslo", "Zeta", "Ærø", "Øygarden", "Ålesund"]


def test_bad_renderer_and_missing_input(tmp_path):
    with pytest.raises(ValueError):
        report.render_site(tmp_path, tmp_path / "site", renderer="pandoc")
    with pytest.raises(report.ReportError, match="no executed notebooks"):
        report.render_site(tmp_path / "absent", tmp_path / "site", renderer="nbconvert")


# ---- Quarto ---------------------------------------------------------------------------------

QUARTO = report.detect_quarto()
NEEDS_QUARTO = pytest.mark.skipif(QUARTO is None, reason="quarto is not on PATH: put Quarto's bin/ on PATH "
                                  "(bash ../shared/tools/quarto/install.sh; see docs/reports.md) to test the Quarto site")


@pytest.mark.skipif(QUARTO is not None, reason="quarto is installed here: the absent-Quarto behaviour cannot be seen")
def test_quarto_absent_is_reported(tmp_path):
    assert report.detect_quarto() is None
    executed = make_executed(tmp_path)
    with pytest.raises(report.QuartoNotFoundError, match="quarto"):
        report.render_site(executed, tmp_path / "site", renderer="quarto")
    assert not (tmp_path / "site").exists()
    result = report.render_site(executed, tmp_path / "site", renderer="auto", methodology=make_methodology(tmp_path))
    assert result["renderer"] == "nbconvert" and result["quarto"] is None


def test_quarto_config_is_a_website_that_works_offline():
    import yaml

    config = yaml.safe_load(quarto.CONFIG.read_text(encoding="utf-8"))
    assert config["project"]["type"] == "website"
    assert config["execute"]["enabled"] is False
    html = config["format"]["html"]
    assert html["echo"] is False and html["html-math-method"] == "plain"
    assert html["theme"][1] == "u4ssc.scss"
    assert "$web-font-path: false;" in (site_model.TEMPLATES / "u4ssc.scss").read_text(encoding="utf-8")
    assert config["metadata-files"] == [quarto.NAVIGATION]


def staged(tmp_path) -> dict[str, bytes]:
    executed = make_executed(tmp_path)
    model = site_model.build(executed, make_methodology(tmp_path))
    return quarto.stage(model, site_model.environment())


def test_quarto_staging(tmp_path):
    """The files handed to `quarto render` (no Quarto run here: only the staged project is checked)."""
    import yaml

    files = staged(tmp_path)
    assert {"_quarto.yml", "u4ssc.css", "u4ssc.scss", "index.qmd", "methodology.qmd", "docs/targets.qmd",
            "profiles/Ålesund.ipynb", "synthesis.ipynb", "tutorial.qmd"} <= set(files)
    nb = nbformat.reads(files["profiles/Ålesund.ipynb"].decode(), as_version=4)
    front = site_model.parse_front_matter(nb.cells[0])
    assert front == {"title": "Ålesund: U4SSC profile", "subtitle": "U4SSC KPI profile"}  # one title per municipality
    sources = [c.source for c in nb.cells]
    assert 'class="u4ssc-legend"' in sources[1]  # the legend first, once
    assert sum('class="u4ssc-legend"' in s for s in sources) == 1
    assert "<dd>quarto</dd>" in sources[-1] and 'id="downloads"' in sources[-2]
    assert not [o for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]  # no require.js
    assert any("```{=html}" in s and "u4ssc-sim" in s for s in sources)  # the HTML outputs, as raw blocks
    cap = "#| fig-cap: " + json.dumps(r"Figure 1: \<KPI\> scores \& targets")  # YAML reads the JSON string
    assert any(s.startswith(cap) for s in sources)
    assert not {t for c in nb.cells for t in c.metadata.get("tags", [])} & site_model.REMOVE_CELL_TAGS
    evil = nbformat.reads(files["profiles/Ærø.ipynb"].decode(), as_version=4)
    assert site_model.parse_front_matter(evil.cells[0])["title"] == r"\<script\>alert\(1\)\</script\> \& Ærø: U4SSC profile"
    index = files["index.qmd"].decode()
    assert "subtitle: Profiles, synthesis and tutorial" in index and "&lt;script&gt;" in index
    assert files["profiles/Ålesund.ipynb"] == staged(tmp_path / "again")["profiles/Ålesund.ipynb"]  # deterministic

    nav = yaml.safe_load(files[quarto.NAVIGATION])["website"]
    assert [i["text"] for i in nav["navbar"]["left"]] == ["Home", "Municipalities", "Synthesis", "Tutorial", "Methodology"]
    municipalities = nav["navbar"]["left"][1]["href"]
    sidebars = {s["id"]: s["contents"] for s in nav["sidebar"]}
    assert [i["href"] for i in sidebars["municipalities"]] == [
        municipalities, "profiles/Ærø.ipynb", "profiles/Bærum.ipynb", "profiles/Tromsø.ipynb", "profiles/Ålesund.ipynb"]
    assert sidebars["municipalities"][1]["text"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Ærø"  # Quarto won't escape it
    assert [i["href"] for i in sidebars["methodology"]] == ["methodology.qmd", "docs/targets.qmd"]


def test_quarto_staging_dir_is_never_below_a_dot_folder(tmp_path, monkeypatch):
    plain = tmp_path / "repo" / "reports" / "site"
    assert quarto.staging_dir(plain) == tmp_path / "repo" / "reports" / "_build" / "quarto-site"
    hidden = tmp_path / ".hidden" / "repo" / "reports" / "site"
    monkeypatch.setattr(quarto.tempfile, "tempdir", str(tmp_path / "tmp"))
    elsewhere = quarto.staging_dir(hidden)
    assert elsewhere.parent == tmp_path / "tmp" and not quarto._dotted(elsewhere)
    assert quarto.staging_dir(hidden) == elsewhere != quarto.staging_dir(tmp_path / ".other" / "site")
    monkeypatch.setattr(quarto.tempfile, "tempdir", str(tmp_path / ".tmp"))
    with pytest.raises(report.ReportError, match="quarto-cli#3186"):
        quarto.staging_dir(hidden)


def test_quarto_plan_renders_only_what_changed():
    files = {"_quarto.yml": b"config", "index.qmd": b"home", "a.ipynb": b"A", "b.ipynb": b"B", "c.ipynb": b"C"}
    digests = {name: quarto._digest(data) for name, data in files.items()} | {"quarto": "1.10.18"}
    assert quarto.plan(files, {}, "1.10.18") == (True, ["index.qmd", "a.ipynb", "b.ipynb", "c.ipynb"])
    assert quarto.plan(files, digests, "1.10.18") == (False, [])
    assert quarto.plan(files | {"b.ipynb": b"B2"}, digests, "1.10.18") == (False, ["b.ipynb"])
    assert quarto.plan(files | {"a.ipynb": b"A2", "b.ipynb": b"B2", "c.ipynb": b"C2"}, digests, "1.10.18")[0]
    assert quarto.plan(files | {"_quarto.yml": b"new"}, digests, "1.10.18")[0]  # navigation or config: all
    assert quarto.plan(files | {"d.ipynb": b"D"}, digests, "1.10.18")[0]  # a page added
    assert quarto.plan(files, digests, "1.11.0")[0]


def test_quarto_output_reaches_the_log_without_colour_codes(tmp_path, capsys):
    """Quarto colours its progress even into a pipe; the build's log and a failure's message are plain text."""
    fake = tmp_path / "quarto"
    fake.write_text("#!/bin/sh\n"
                    "printf '\\033[1m[ 1/2] profiles/5501-tromsø.ipynb\\033[39m\\033[22m\\n'\n"
                    "printf '\\033[31mERROR: pandoc failed\\033[39m\\n'\n"
                    "exit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    with pytest.raises(quarto.ReportError) as failure:
        quarto._run(str(fake), [], tmp_path)
    progress = capsys.readouterr().err
    assert "quarto: [ 1/2] profiles/5501-tromsø.ipynb\n" in progress
    assert "\x1b" not in progress and "\x1b" not in str(failure.value)
    assert str(failure.value).endswith("exit 3):\n[ 1/2] profiles/5501-tromsø.ipynb\nERROR: pandoc failed")


@pytest.fixture(scope="module")
def quarto_checkout(tmp_path_factory):
    """The project's code copied under a dot folder, its site rendered there by `python -m analysis report`."""
    import shutil
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("quarto")
    checkout = root / ".checkout" / "repo"
    repo = Path(report.__file__).resolve().parents[1]
    shutil.copytree(repo / "analysis", checkout / "analysis", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo / "reports" / "templates", checkout / "reports" / "templates")
    shutil.copy2(repo / "reports" / "_quarto.yml", checkout / "reports" / "_quarto.yml")
    executed = make_executed(checkout / "reports")
    make_methodology(checkout)

    def run() -> dict:
        done = subprocess.run([sys.executable, "-m", "analysis", "report", "--renderer", "quarto"], cwd=checkout,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
        result = json.loads((checkout / "reports" / "site" / "render.json").read_text(encoding="utf-8"))
        result["stderr"] = done.stderr
        return result

    yield checkout, executed, run, run()
    shutil.rmtree(quarto.staging_dir(checkout / "reports" / "site"), ignore_errors=True)  # in the system's tmp


@NEEDS_QUARTO
def test_quarto_renders_from_a_checkout_below_a_dot_folder(quarto_checkout):
    checkout, _, _, result = quarto_checkout
    site_dir = checkout / "reports" / "site"
    assert result["renderer"] == "quarto" and result["quarto_version"] and result["quarto_full_render"]
    assert "quarto: rendering the whole site" in result["stderr"]
    assert re.search(r"^quarto: \[\s*\d+/\d+\] profiles/", result["stderr"], re.M), result["stderr"]  # progress
    assert Path(result["site_dir"]) == site_dir and site_dir.parts[-4] == ".checkout"
    for page in ["index.html", "methodology.html", "docs/targets.html", "synthesis.html", "tutorial.html",
                 "profiles/Ålesund.html", "profiles/Ærø.html"]:
        assert page in result["pages"], page
    assert (site_dir / "tables" / "Ålesund" / "kpis.csv").is_file()
    titles = {m: parse(site_dir / "profiles" / f"{m}.html").title for m in MUNICIPALITIES}
    assert titles["Ålesund"].startswith("Ålesund: U4SSC profile") and len(set(titles.values())) == 4
    text = (site_dir / "profiles" / "Ålesund.html").read_text(encoding="utf-8")
    assert "SECRET_PARAMETER_DEFAULT" not in text and "INJECTED_MARKER" not in text and "<dd>quarto</dd>" in text
    assert text.count('class="u4ssc-legend"') == 1 and "<figcaption>Figure 1: &lt;KPI&gt; scores &amp; targets" in text
    assert re.search(r'class="nav-link active" href="\.\./index\.html#municipalities"', text)  # navbar state
    index = (site_dir / "index.html").read_text(encoding="utf-8")
    assert "Profiles, synthesis and tutorial of the U4SSC Key Performance Indicators" in index  # subtitle
    assert re.search(r'class="nav-link active" href="\./index\.html"', index)
    assert "<script>alert(1)</script>" not in index
    for page in site_dir.rglob("*.html"):  # nothing from the internet
        links = parse(page)
        assert not [r for r in links.srcs + links.hrefs if urlsplit(r).scheme in ("http", "https")
                    and not r.startswith("https://quarto.org")], page
    for css in site_dir.rglob("*.css"):
        assert "fonts.googleapis" not in css.read_text(encoding="utf-8"), css


@NEEDS_QUARTO
def test_quarto_rerenders_only_what_changed(quarto_checkout):
    checkout, executed, run, _ = quarto_checkout
    site_dir = checkout / "reports" / "site"
    untouched = (site_dir / "profiles" / "Tromsø.html").read_bytes()
    noop = run()
    assert noop["quarto_full_render"] is False and noop["quarto_rendered"] == []
    assert "quarto: rendering" not in noop["stderr"]
    path = executed / "profiles" / "Bærum.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].source += "\n\nCHANGED_FOR_THE_TEST"
    nbformat.write(nb, path)
    one = run()
    assert one["quarto_full_render"] is False and one["quarto_rendered"] == ["profiles/Bærum.ipynb"]
    assert "CHANGED_FOR_THE_TEST" in (site_dir / "profiles" / "Bærum.html").read_text(encoding="utf-8")
    assert (site_dir / "profiles" / "Tromsø.html").read_bytes() == untouched
    assert sorted(one["pages"]) == sorted(noop["pages"])


@NEEDS_QUARTO
@pytest.mark.browser
def test_quarto_site_passes_in_chromium_offline(quarto_checkout, tmp_path):
    from analysis import browser

    if browser.find_chromium() is None:
        pytest.skip("Chromium is not installed: `apt-get install -y chromium` to run the browser check")
    checkout = quarto_checkout[0]
    result = browser.check_site(checkout / "reports" / "site", tmp_path / "shots")
    assert result.ok, result.summary()
    assert {"index.html", "profiles/Ålesund.html", "docs/targets.html", "tutorial.html"} <= {p.path for p in result.pages}
    assert "tables/Ålesund/kpis.csv" in result.resources_checked
    assert len(result.screenshots) == 4


def test_no_notebook_markdown_cell_starts_with_a_yaml_fence():
    """Quarto reads a Markdown cell that opens with '---' as YAML front matter (a rule there broke the real render)."""
    import jupytext

    for source in sorted((paths.ROOT / "notebooks").glob("*.py")):
        nb = jupytext.read(source)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                assert not cell.source.lstrip().startswith("---"), (source.name, cell.source[:60])


def test_index_counts_cities_outside_norway_apart_from_norwegian_municipalities():
    """A city outside Norway (provenance with city_id) is not counted as a Norwegian municipality."""
    from analysis import site as site_module

    def row(name: str, abroad: bool) -> dict:
        return {"name": name, "href": f"profiles/{name}.html", "mostly_simulated": False, "n_published": 1,
                "n_city_supplied": 0, "n_national_statistics": 0, "n_simulated": 0, "n_downloads": 0, "headline": "",
                "note": "", "coverage_real": "1 of 112", "coverage_any": "1 of 112", "views": [], "abroad": abroad}

    template = site_module.environment().get_template("index.html.j2")
    both = template.render(rows=[row("Asker", False), row("Malmö (SE)", True)], missing=[], n_mostly=0, root="")
    assert "profiles of 1 Norwegian municipality and 1 city outside Norway" in " ".join(both.split())
    only = template.render(rows=[row("Asker", False), row("Bodø", False)], missing=[], n_mostly=0, root="")
    assert "profiles of 2 Norwegian municipalities assessed" in " ".join(only.split())


def test_pages_converted_in_parallel_are_the_pages_converted_one_by_one(tmp_path):
    executed = make_executed(tmp_path)  # 5 notebook pages: 2 processes share them
    site = site_model.build(executed, make_methodology(tmp_path))
    assert len([p for p in site.pages if p.notebook is not None]) >= 4
    assert report.notebook_bodies(site, jobs=2) == report.notebook_bodies(site, jobs=1)
