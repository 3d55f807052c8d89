"""The resident page: Bokmål and English from the catalogue, lang set, numbers per locale."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import jupytext

from analysis import i18n, resident
from analysis.summary import Result, Summary, Theme

ROOT = Path(__file__).resolve().parents[1]


def page(lang: str, n_real: int = 30, n_simulated: int = 70) -> resident.ResidentPage:
    dims = (Result("Economy", 61.0, "33–66 %", level="dimension"),
            Result("Environment", 95.0, "95–100 %", level="dimension"),
            Result("Society and Culture", None, "no data", level="dimension"))
    subs = (Result("ICT", 61.0, "33–66 %", level="sub_dimension", parent="Economy"),)
    cats = (Result("Drainage", 25.0, "0–33 %", parent="Economy/ICT"),
            Result("Transport", 97.0, "95–100 %", parent="Economy/ICT"))
    s = Summary("Tromsø", Result("overall", 74.0, "66–95 %", level="overall"), 95424, dims, subs, cats,
                strongest=(cats[1],), weakest=(cats[0],),
                themes=(Theme(1, "Waste sorting and recycling", "stable in top 3"),),
                n_real=n_real, n_simulated=n_simulated, lang=lang)
    return resident.ResidentPage(s, n_data_points=112, computed=date(2026, 12, 1))


def english_fragments() -> set[str]:
    """Literal pieces (between fields) of every catalogue text whose English differs from its Bokmål."""
    out = set()
    for entry in i18n.catalogue("messages").values():
        if entry["en"] != entry["nb"]:
            out |= {p.strip() for p in re.split(r"\{[^}]*\}", entry["en"]) if len(p.strip()) >= 8}
    for entry in i18n.catalogue("names").values():
        if entry["en"] != entry["nb"] and len(entry["en"]) >= 8:
            out.add(entry["en"])
    return out


def test_every_catalogue_key_has_a_bokmal_text():
    for name in ("messages", "names"):
        assert all(entry["nb"].strip() for entry in i18n.catalogue(name).values())


def test_norwegian_page_is_lang_nb_and_carries_no_english_catalogue_text():
    html = page("nb")._repr_html_()
    assert html.startswith('<div class="u4ssc-resident" lang="nb">')
    leaked = [f for f in english_fragments() if f in html]
    assert not leaked
    for title in ("Hva som måles", "Hvordan det går med kommunen", "Hva kommunen kan investere i",
                  "Hvor sikre tallene er", "Hvordan du kan bidra"):
        assert f"<h2>{title}</h2>" in html
    assert "Spør kommunen din hvordan du kan delta." in html
    assert "python -m analysis template Tromsø" in html and "survey-template" in html
    assert "1. desember 2026" in html


def test_numbers_are_formatted_per_locale():
    assert i18n.number(95424, "nb") == "95\u00a0424"
    assert i18n.percent(2.74, "nb", 2) == "2,74\u00a0%"
    assert i18n.number(2024, "nb") == "2024"
    nb, en = page("nb")._repr_html_(), page("en")._repr_html_()
    assert "fra 95\u00a0424 vurderte datapunkter" in nb and "74\u00a0%" in nb
    assert "from 95,424 scored data points" in en


def test_english_twin_and_the_simulated_warning():
    en = page("en")._repr_html_()
    assert 'lang="en"' in en and "<h2>What is measured</h2>" in en
    assert "u4ssc-simulated" in en  # 70 of 100 simulated
    assert "u4ssc-simulated" not in page("en", n_real=90, n_simulated=10)._repr_html_()


def test_notebook_takes_values_lang_and_output_dir():
    nb = jupytext.read(ROOT / "notebooks" / "resident.py")
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    names = set(re.findall(r"^(\w+) =", cell.source, re.M))
    assert {"values", "lang", "output_dir"} <= names
