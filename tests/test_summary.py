"""The executive summary: bands, rankings, themes and the real share, from small hand-built frames."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis import i18n, invest, profile, summary


def group(rows: list[tuple], keys: list[str]) -> pd.DataFrame:
    """Rows of (*keys, u4ssc_score, mean_achievement, n_scored, n_simulated) as scoring.aggregate gives them."""
    return pd.DataFrame(rows, columns=[*keys, "u4ssc_score", "mean_achievement", "n_scored", "n_simulated"])


CATS = group([
    ("Economy", "ICT", "Water and Sanitation", 25.0, 30.0, 2, 0),
    ("Economy", "Infrastructure", "Water and Sanitation", 95.0, 90.0, 2, 0),   # 95 is the lower edge of 95–100 %
    ("Economy", "Infrastructure", "Waste", 65.9, 70.0, 2, 2),                  # below 66: 33–66 %
    ("Environment", "Environment", "Air Quality", 66.0, 60.0, 2, 0),           # 66 is in 66–95 %
    ("Environment", "Energy", "Energy", 66.0, 80.0, 4, 1),                     # tie on score, higher achievement
    ("Society and Culture", "Education, Health and Culture", "Health", 32.9, 20.0, 3, 0),
    ("Society and Culture", "Education, Health and Culture", "Culture", None, None, 0, 0),  # no data
], ["dimension", "sub_dimension", "category"])
DIMS = group([("Economy", 61.0, 60.0, 6, 2), ("Environment", 66.0, 70.0, 6, 1),
              ("Society and Culture", 33.0, 20.0, 3, 0)], ["dimension"])
SUBS = group([("Economy", "ICT", 25.0, 30.0, 2, 0), ("Economy", "Infrastructure", 80.0, 80.0, 4, 2),
              ("Environment", "Environment", 66.0, 60.0, 2, 0), ("Environment", "Energy", 66.0, 80.0, 4, 1),
              ("Society and Culture", "Education, Health and Culture", 32.9, 20.0, 3, 0)],
             ["dimension", "sub_dimension"])
OVERALL = group([(55.5, 50.0, 15, 3)], [])
OPPORTUNITIES = pd.DataFrame({
    "status": [invest.RANKED, invest.RANKED, "no gap", invest.RANKED, invest.RANKED],
    "ws_rank": [2, 1, None, 4, 3],
    "theme_name": ["Waste sorting and recycling", "Smart water metering and leak reduction", "Closed theme",
                   "Fourth theme", "Digital health and education"],
    "stability": ["depends on the weights", "stable in top 3", "not scored", "stable outside top 3",
                  "depends on the method"],
})
BASELINE = pd.DataFrame({
    "achievement": [10.0, 50.0, 90.0, 100.0, None, 70.0],
    "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    "source_type": ["published", "simulated", "city-supplied", "simulated", "published", "simulated"],
})


def make(lang: str = "en") -> summary.Summary:
    return summary.summarise("Tromsø", OVERALL, DIMS, SUBS, CATS, OPPORTUNITIES, BASELINE, lang=lang)


def test_bands_follow_the_u4ssc_edges_not_a_given_column():
    s = make()
    bands = {(r.qualifier or r.name): r.band for r in s.categories}
    assert [r.band for r in s.categories] == ["0–33 %", "95–100 %", "33–66 %", "66–95 %", "66–95 %",
                                              "0–33 %", "no data"]
    assert bands["Air Quality"] == "66–95 %"
    assert [r.band for r in s.dimensions] == ["33–66 %", "66–95 %", "33–66 %"]
    assert s.overall.band == "33–66 %" and s.overall.score == 55.5


def test_strongest_and_weakest_by_score_then_achievement_without_unscored():
    s = make()
    assert [(r.name, r.qualifier) for r in s.strongest] == [
        ("Water and Sanitation", "Infrastructure"), ("Energy", ""), ("Air Quality", "")]
    assert [(r.name, r.qualifier) for r in s.weakest] == [
        ("Water and Sanitation", "ICT"), ("Health", ""), ("Waste", "")]
    assert all(r.score is not None for r in s.strongest + s.weakest)
    assert s.weakest[2].simulated and not s.weakest[0].simulated  # Waste: 2 of 2 simulated


def test_themes_are_the_top_three_ranked_in_rank_order():
    s = make()
    assert [(t.rank, t.name, t.stability) for t in s.themes] == [
        (1, "Smart water metering and leak reduction", "stable in top 3"),
        (2, "Waste sorting and recycling", "depends on the weights"),
        (3, "Digital health and education", "depends on the method")]


def test_real_share_counts_the_scored_values_only():
    s = make()
    assert (s.n_real, s.n_simulated) == (2, 3)  # the unscored published value does not count
    assert s.real_share == pytest.approx(40.0)


def test_sentences_say_the_results_in_words():
    text = " ".join(make().sentences())
    assert "Tromsø has an overall U4SSC score of 56%, in the 33–66 % band, from 15 scored data points." in text
    assert "Economy 61% (33–66 %), Environment 66% (66–95 %), and Society and Culture 33% (33–66 %)" in text
    assert "Strongest categories: Water and Sanitation (Infrastructure) 95% (95–100 %), Energy 66%" in text
    assert "1. Smart water metering and leak reduction (stable in top 3)" in text
    assert "40% of the 5 values the scores rest on are published or city-supplied (2); the other 3" in text
    assert "must not be quoted" in text  # 3 of 5 simulated


def test_norwegian_summary_is_translated_and_formatted():
    s = make("nb")
    text = " ".join(s.sentences())
    assert "Tromsø har en samlet U4SSC-skår på 56\u00a0%" in text
    assert "Vann og avløp (Infrastruktur) 95\u00a0%" in text
    assert "Smart vannmåling og lekkasjereduksjon (stabilt blant de tre øverste)" in text
    assert " og Samfunn og kultur 33\u00a0%" in text
    english = {entry["en"] for key, entry in i18n.catalogue("messages").items() if key.startswith("summary.")
               and entry["en"] != entry["nb"]}
    html = s._repr_html_()
    assert not [e for e in english if e.split("{")[0].strip() and e.split("{")[0].strip() in html]


def test_headline_is_one_line_with_the_key_facts():
    line = make().headline()
    assert "\n" not in line
    assert line == ("Tromsø: 56% overall (33–66 %); strongest Water and Sanitation (Infrastructure), weakest "
                    "Water and Sanitation (ICT); top theme Smart water metering and leak reduction; 40% real data")


def test_html_has_a_summary_section_and_a_grid_of_every_group():
    page = make()._repr_html_()
    assert page.startswith('<section class="u4ssc-summary" id="summary" lang="en">')
    tiles = re.findall(r'<div(?: class="u4ssc-sim" title="[^"]*")? style="background:(#[0-9A-F]{6})', page)
    assert len(tiles) == len(DIMS) + len(SUBS) + len(CATS)
    assert tiles[0] == "#EF8A62"  # Economy, 33–66 %
    assert page.count('class="u4ssc-sim"') == 1  # Waste (2 of 2 simulated); 2 of 4 is not over half


def test_golden_profiles_open_with_a_summary_and_describe_their_figures():
    for path in sorted((Path(__file__).parent / "golden").glob("profile_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        outputs = [o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", [])]
        summaries = [i for i, h in enumerate(outputs) if '<section class="u4ssc-summary" id="summary"' in h]
        assert len(summaries) == 1, path.name
        assert not any("<table" in h for h in outputs[:summaries[0]]), path.name  # before every table
        figures = [h for h in outputs if "<img" in h]
        assert len(figures) >= 2, path.name
        assert all(re.search(r'alt="(Horizontal bar chart|Scatter plot|Dashboard of the 17 SDGs)[^"]{40,}"', h)
                   and "<figcaption>" in h for h in figures)


def test_profile_writes_the_headline_into_its_provenance(tmp_path):
    prof = profile.build(municipality="Aukra", output_dir=tmp_path)
    written = json.loads((tmp_path / "profiles" / f"{prof.provenance['slug']}.provenance.json").read_text("utf-8"))
    assert written["headline"] == summary.from_profile(prof).headline()
    assert written["headline"].startswith("Aukra: ") and " overall (" in written["headline"]


def test_bilingual_summary_carries_the_other_language_behind_a_toggle():
    page = summary.Bilingual(make("en"), make("nb"))._repr_html_()
    toggle = re.search(r'<details lang="nb"><summary>Sammendrag på norsk \(bokmål\)</summary><ul>(.*?)</ul>'
                       r"</details>", page)
    assert toggle and "Tromsø har en samlet U4SSC-skår på 56\u00a0%" in toggle.group(1)
    assert page.index("</details>") < page.index("<figure") and page.count("<figure") == 1
