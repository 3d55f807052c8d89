"""Column labels (English and Bokmål) and the key-column tables of the profile."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis import labels, present


def test_every_label_has_both_languages_and_every_key_column_a_label():
    cat = labels.catalogue()
    assert all(row["en"].strip() and row["nb"].strip() for row in cat.values())
    missing = {c for cols in labels.KEY_COLUMNS.values() for c in cols} - set(cat)
    assert not missing
    assert all(len(cols) <= 10 for cols in labels.KEY_COLUMNS.values())
    assert labels.label("mean_achievement") == "Mean achievement (% of target)"
    assert labels.label("mean_achievement", "nb") == "Gjennomsnittlig måloppnåelse (% av mål)"
    assert labels.label("not_a_column") == "not_a_column"


def test_names_come_before_codes():
    for kind in ("baseline", "data_points", "data_gaps"):
        cols = labels.KEY_COLUMNS[kind]
        assert cols.index("data_point_name") < cols.index("data_point_id")


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "data_point_id": ["EN: E: AQ: 1C", "EC: ICT: ICT: 1C"],
        "data_point_name": ["Air pollution", "Household Internet Access"],
        "value": [12.3456, 95424.0], "registry_unit": ["µg/m³", "%"], "year": [2024, 2023],
        "achievement": [66.66, 100.0], "band": ["66–95 %", "95–100 %"],
        "source_type": ["simulated", "published"], "source": ["analysis.simulate", "https://example.org/p12"],
        "peer_rank": pd.array([pd.NA, pd.NA], dtype="Int64"), "points": pd.array([3, 4], dtype="Int64"),
    })


def test_key_table_labels_rounds_and_hides_the_rest():
    page = present.key_table(frame(), "baseline")
    main, details = page.split("<details", 1)
    headers = re.findall(r'<th scope="col">([^<]*)</th>', main)
    assert headers == ["Data point", "Code", "Value", "Unit", "Year", "Achievement (% of target)",
                       "U4SSC band (points of 4)"]  # the empty rank column is left out; source type and source are details
    assert re.findall(r'<th scope="col">([^<]*)</th>', details) == ["Data point", "Source type", "Source"]
    assert "<td style=\"text-align:right\">12.35</td>" in page
    assert ">95 424<" in page and ">2024<" in page and ">67<" in page
    assert "Only in the CSV and Excel downloads: Rank among peers (1 = best)." in details
    assert "66–95 % (3/4)" in main and "95–100 % (4/4)" in main  # the band bar's text


def test_key_table_marks_simulated_rows_even_when_the_flag_column_is_not_shown():
    trends = pd.DataFrame({"data_point_id": ["A", "B", "C"], "first_year": [2020, 2020, 2021],
                           "last_value": [1.0, 2.0, 3.0], "rests_on_simulated_year": [True, False, False],
                           "goalposts_from_simulated": [False, False, True]})
    page = present.key_table(trends, "trends")
    headers = re.findall(r'<th scope="col">([^<]*)</th>', page)
    assert headers == ["Code", "First year", "Last value"]  # the flags are not shown, yet they mark the rows
    rows = re.findall(r"<tr( class=\"[^\"]*\")?[^>]*><td", page)
    assert rows == [' class="u4ssc-sim"', "", ' class="u4ssc-gp-sim"']
    assert page.count(f"<sup class=\"u4ssc-gp-sim\">{present.GP_SIM_MARK}</sup>") == 1
    assert "u4ssc-legend" not in page  # one legend per page, the page's
    assert "u4ssc-legend" in present.key_table(trends, "trends", legend=True)


def test_key_table_in_norwegian():
    page = present.key_table(frame().assign(data_point_name_nb=["Luftforurensning", "Internettilgang"]), "baseline",
                             lang="nb")
    assert '<th scope="col">Datapunkt</th>' in page and ">12,35<" in page and ">95\u00a0424<" in page
    assert "<td>Luftforurensning</td>" in page and "Air pollution" not in page  # the Bokmål name in its place
    assert "Detaljer: Kildetype, Kilde" in page and "<td>simulert (ikke en observasjon)</td>" in page


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown table kind 'nope'"):
        present.key_table(frame(), "nope")
