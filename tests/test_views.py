"""The views of a municipality in the site: demonstration profile, real-data view, resident pages, council paper."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from analysis import council, pipeline, quarto, report, site as site_model
from test_report import executed_notebook, make_executed, make_methodology, provenance
from test_resident import english_fragments, page as resident_page

NAME = "Ålesund"


def notebook_with(html_output: str, title: str) -> nbformat.NotebookNode:
    """An executed notebook whose one output is ``html_output`` (as the resident and council notebooks leave it)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_raw_cell(f'---\ntitle: "{title}"\n---'),
                nbformat.v4.new_code_cell("municipality = 'x'", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("page", outputs=[nbformat.v4.new_output(
                    "execute_result", data={"text/html": html_output, "text/plain": "page"}, execution_count=1)])]
    return nb


def make_views(executed: Path) -> None:
    """Ålesund's real-data view (with its tables and provenance), resident pages and council paper."""
    real = executed / "real" / "profiles"
    real.mkdir(parents=True)
    nbformat.write(executed_notebook(f"{NAME}: U4SSC profile", NAME, simulated=False), real / f"{NAME}.ipynb")
    (real / f"{NAME}.provenance.json").write_text(json.dumps(provenance(
        NAME, mostly=False, n_data_points=112, n_data_points_real=25, n_data_points_any=25)), encoding="utf-8")
    (executed / "real" / "tables" / NAME).mkdir(parents=True)
    (executed / "real" / "tables" / NAME / "baseline.csv").write_text("data_point_id,value\nX,1\n", encoding="utf-8")
    demo = executed / "profiles" / f"{NAME}.provenance.json"
    prov = json.loads(demo.read_text(encoding="utf-8"))
    demo.write_text(json.dumps({**prov, "n_data_points": 112, "n_data_points_real": 25, "n_data_points_any": 112}),
                    encoding="utf-8")
    (executed / "residents").mkdir()
    for lang in ("nb", "en"):
        nbformat.write(notebook_with(resident_page(lang)._repr_html_(), "For residents"),
                       executed / "residents" / f"{NAME}-{lang}.ipynb")
    (executed / "council").mkdir()
    nbformat.write(notebook_with("<p>Council findings.</p>", "Council paper"), executed / "council" / f"{NAME}.ipynb")


@pytest.fixture(scope="module")
def views_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("views")
    executed = make_executed(root)
    make_views(executed)
    result = report.render_site(executed, root / "site", renderer="nbconvert", methodology=make_methodology(root))
    return root / "site", result, executed, root


def read(site_dir: Path, page: str) -> str:
    return (site_dir / page).read_text(encoding="utf-8")


class _WithoutEnglish(HTMLParser):
    """The text of a page outside elements marked ``lang="en"`` (the technical provenance footer)."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth, self.text = 0, []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        if self.depth or dict(attrs).get("lang") == "en":
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.text.append(data)


def outside_english(text: str) -> str:
    parser = _WithoutEnglish()
    parser.feed(text)
    return " ".join(parser.text)


def test_every_view_is_a_page(views_site):
    site_dir, result, _, _ = views_site
    for page in (f"profiles/{NAME}.html", f"real/{NAME}.html", f"residents/{NAME}-nb.html",
                 f"residents/{NAME}-en.html", f"council/{NAME}.html", f"real/tables/{NAME}/baseline.csv"):
        assert (site_dir / page).is_file(), page
    assert f"real/tables/{NAME}/baseline.csv" in result["downloads"]


def test_norwegian_resident_page_is_lang_nb_with_no_english_catalogue_text(views_site):
    site_dir = views_site[0]
    text = read(site_dir, f"residents/{NAME}-nb.html")
    assert text.startswith('<!DOCTYPE html>\n<html lang="nb">')
    assert f"<title>{NAME}: hvordan går det med kommunen? · " in text
    assert '<footer class="u4ssc-provenance" lang="en">' in text  # the technical footer says it is English
    shown = html.unescape(outside_english(text))
    leaked = sorted(f for f in english_fragments() if f in shown)
    assert not leaked, leaked
    assert "Visninger av Ålesund:" in shown and "Bare reelle data" in shown and "denne siden" in shown
    nav = re.search(r'<header class="u4ssc-navbar">(.*?)</header>', text, re.S).group(1)
    assert re.findall(r">([^<>]+)</a>", nav) == ["U4SSC-indikatorer: norske kommuner", "Hjem", "Kommuner",
                                                 "Sammenstilling", "Veiledning", "Metode"]
    assert '<nav aria-label="Nettsted">' in nav and 'aria-current="page" class="active">Kommuner<' in nav
    assert "Data (SHA-256)" in text and "Published values" not in text  # the resident footer: where the figures are
    english = read(site_dir, f"residents/{NAME}-en.html")
    assert english.startswith('<!DOCTYPE html>\n<html lang="en">') and "how is the municipality doing?" in english
    assert 'hreflang="nb"' in english  # the link to the Bokmål twin says its language
    assert '<nav aria-label="Site">' in english and 'class="active">Municipalities</a>' in english


def test_demonstration_and_real_data_views_are_one_click_apart_and_named_in_their_headers(views_site):
    site_dir = views_site[0]
    demo, real = read(site_dir, f"profiles/{NAME}.html"), read(site_dir, f"real/{NAME}.html")
    assert 'href="../real/%C3%85lesund.html"' in demo and 'href="../profiles/%C3%85lesund.html"' in real
    header = re.compile(r'<header class="u4ssc-title">(.*?)</header>', re.S)
    assert "Demonstration profile: published, city-supplied and national statistics values, with simulated" \
           in header.search(demo).group(1)
    assert "Real data only: published, city-supplied and national statistics values" in header.search(real).group(1)
    assert f"<h1>{NAME}: U4SSC profile, real data only</h1>" in real
    for text, current in ((demo, "Demonstration profile (real and simulated values)"), (real, "Real data only")):
        assert f'<strong aria-current="page">{current}</strong>' in text
        for target in ("residents/%C3%85lesund-nb.html", "residents/%C3%85lesund-en.html", "council/%C3%85lesund.html"):
            assert f'href="../{target}"' in text
    assert 'href="../real/tables/%C3%85lesund/baseline.csv"' in real
    assert "u4ssc-views" not in read(site_dir, "profiles/Bærum.html")  # no other view: no views bar


def test_index_shows_both_coverages_and_links_every_view(views_site):
    site_dir = views_site[0]
    text = read(site_dir, "index.html")
    row = re.search(r'<th scope="row"><a href="profiles/%C3%85lesund.html">Ålesund</a>(.*?)</tr>', text, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[1:3] == ["25 of 112 (22 %)", "112 of 112 (100 %)"]  # real value, any value
    for target in ("real/%C3%85lesund.html", "residents/%C3%85lesund-nb.html", "council/%C3%85lesund.html"):
        assert f'href="{target}"' in row


def test_council_paper_names_its_municipality_and_shows_the_profile_provenance(views_site):
    text = read(views_site[0], f"council/{NAME}.html")
    assert f"<h1>{NAME}: council paper</h1>" in text and "Council findings." in text
    assert "ab" * 32 in text  # the demonstration profile's data hash: the paper's figures are the profile's


def test_quarto_stages_lang_and_a_sidebar_per_kind_of_view(views_site):
    site_dir, _, executed, root = views_site
    model = site_model.build(executed, make_methodology(root))
    files = quarto.stage(model, site_model.environment())
    nb = nbformat.reads(files[f"residents/{NAME}-nb.ipynb"].decode("utf-8"), as_version=4)
    front = yaml.safe_load(nb.cells[0].source.strip("-\n"))
    assert front["lang"] == "nb" and front["title"].startswith(f"{NAME}: hvordan går det")
    assert "u4ssc-views" in nb.cells[1].source  # the views bar heads the page
    sidebars = yaml.safe_load(files[quarto.NAVIGATION])["website"]["sidebar"]
    ids = [s["id"] for s in sidebars]
    assert ids[:4] == ["municipalities", "municipalities-real", "municipalities-resident", "municipalities-council"]
    for bar in sidebars[:4]:
        assert bar["contents"][0]["href"] == "index.qmd#municipalities"  # each marks Municipalities as current
    resident = next(s for s in sidebars if s["id"] == "municipalities-resident")
    assert [c["text"] for c in resident["contents"][1:]] == [f"{NAME} (bokmål)", f"{NAME} (English)"]


def test_band_bar_width_and_colour_follow_the_score():
    bar = council.band_bar(42.0, "33–66 %")
    assert "width:42.0%" in bar and 'aria-label="42 %, band 33–66 %"' in bar
    assert council.palette.band_colour("33–66 %") in bar
    assert council.band_bar(130.0, "95–100 %").count("width:100.0%") == 1  # clipped to the scale
    assert council.band_bar(None, "no data") == '<span class="u4ssc-band-bar-none">no data</span>'


def test_snakefile_builds_every_view_with_its_parameters(tmp_path):
    import subprocess
    import sys
    exe = Path(sys.executable).parent / "snakemake"
    done = subprocess.run([str(exe), "views", "--snakefile", str(pipeline.SNAKEFILE), "--directory", str(tmp_path),
                           "--cores", "1", "--dry-run", "--forceall", "--config", "municipalities=Aukra",
                           "out=executed", "logs=logs"], capture_output=True, text=True, check=True)
    outputs = set(re.findall(r"output: (\S+)", done.stdout))
    assert {"executed/real/profiles/1547-aukra.ipynb", "executed/residents/1547-aukra-nb.ipynb",
            "executed/residents/1547-aukra-en.ipynb", "executed/council/1547-aukra.ipynb"} <= outputs
    real_key = pipeline.assessment_keys(["1547-aukra"], "u4ssc17", pipeline.REAL_DATA)["1547-aukra"]
    assert real_key != pipeline.assessment_keys(["1547-aukra"], "u4ssc17")["1547-aukra"]
    assert f"assessment/{real_key}/meta.json" in done.stdout
    assert "--set include_simulated=false" in pipeline.example_of(real_key, {"1547-aukra": real_key}, "u4ssc17",
                                                                   pipeline.REAL_DATA)


def test_real_data_view_rests_on_real_values_only():
    from analysis import params, profile
    prof = profile.build(params.load("Karmøy", ["include_simulated=false"]))
    assert not prof.baseline["source_type"].eq("simulated").any()
    assert not prof.baseline["goalposts_from_simulated"].fillna(False).astype(bool).any()
    counts = prof.provenance
    assert counts["n_data_points_real"] == counts["n_data_points_any"] == prof.baseline["value"].notna().sum() > 0
    demo = profile.build(params.load("Karmøy"))
    assert demo.provenance["n_data_points_real"] == counts["n_data_points_real"]  # the same real values
    assert demo.provenance["n_data_points_any"] == 112


def test_council_paper_is_drawn_from_the_profile():
    from analysis import params, profile
    prof = profile.build(params.load("Ålesund"))
    results = council.results_by_dimension(prof)._repr_html_()
    for c in prof.categories.itertuples():  # every category with its score, as the profile has it
        assert f"<td>{html.escape(c.category)}</td>" in results
    assert results.count('<section class="u4ssc-council-dimension">') == len(prof.dimensions)
    quality = council.quality(prof)._repr_html_()
    valued = prof.baseline["value"].notna().sum()
    assert f"Where the {valued} values of the 112 data points come from" in quality
    gaps = council.main_gaps(prof)._repr_html_()
    assert prof.weaknesses["data_point_name"].iloc[0] in html.unescape(gaps)
    assert f"The first {council.MAIN_GAPS} of {len(prof.gaps)} data points to collect" in gaps
