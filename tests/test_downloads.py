"""The KPI table's columns in the downloads, the simulated flag on every table and page element resting on
simulated values, and Excel number formats, widths and styling."""

from __future__ import annotations

import re
import statistics

import openpyxl
import pandas as pd
import pytest

from analysis import labels, present, profile

SUPERSET = {  # the anchors' columns: verification reports, SDSN city editions, the issue's list
    "data_point_id", "data_point_name", "data_point_name_nb", "value", "registry_unit", "year", "source",
    "quality_level", "verified", "band", "points", "sdg_targets", "arrow", "peer_median_value", "peer_rank",
    "peer_n", "national_value", "national_year"}
RESTING_ON_SIMULATED = ("baseline", "overall", "dimensions", "categories", "sdg_goals", "trends", "opportunities",
                        "what_if", "recommendations")


@pytest.fixture(scope="module")
def alesund(tmp_path_factory):
    out = tmp_path_factory.mktemp("executed")
    return profile.build(municipality="Ålesund", output_dir=out), out / "tables" / "1508-alesund"


def test_kpi_download_has_the_superset_columns_and_a_hand_checked_row(alesund):
    prof, folder = alesund
    baseline = pd.read_csv(folder / "baseline.csv", keep_default_na=False, na_values=[""])
    assert SUPERSET <= set(baseline.columns)
    row = baseline.set_index("data_point_id").loc["SC: SH: SI: 4C"]
    # Ålesund's voter participation: 54.66 % printed in the U4SSC factsheet of June 2020 (p. 48), and
    # 60.8 % for 2019 in Møre og Romsdal's county statistics (data/raw/national_values_found.csv).
    assert (row["data_point_name"], row["data_point_name_nb"]) == ("Voter Participation", "Valgdeltakelse")
    assert row["value"] == 54.66 and row["registry_unit"] == "%" and row["source_type"] == "published"
    assert "Factsheet Ålesund" in row["source"]
    assert row["national_value"] == 60.8 and row["national_year"] == 2019
    assert row["sdg_targets"] == "11.3, 16.7"  # kpi_catalogue.csv: 11.3;16.7, in SDG order
    assert row["achievement"] == pytest.approx(100 * 54.66 / row["target"])  # higher is better, worst 0
    assert 66 <= row["achievement"] < 95 and row["band"] == "66–95 %" and row["points"] == 3
    peers = prof.assessment.scored
    values = peers[peers["municipality"].isin(prof.peers) & peers["data_point_id"].eq("SC: SH: SI: 4C")]["value"]
    assert row["peer_median_value"] == pytest.approx(statistics.median(values))
    assert row["peer_n"] == len(values) == len(prof.peers)
    assert row["peer_rank"] == 1 + int((values > 54.66).sum())  # higher is better: 1 = best
    trend = prof.trends.set_index("data_point_id").loc["SC: SH: SI: 4C"]
    assert (row["arrow"], row["trend"]) == (trend["arrow"], trend["trend"])
    assert pd.isna(row["quality_level"]) and pd.isna(row["verified"])  # the factsheet prints neither


def test_kpi_page_shows_about_ten_key_columns_and_the_rest_behind_details(alesund):
    prof, _ = alesund
    page = present.key_table(prof.baseline, "baseline")
    main, details = page.split("<details", 1)
    headers = re.findall(r'<th scope="col">([^<]*)</th>', main)
    assert headers[:2] == ["Data point", "Code"] and len(headers) <= 10
    assert "Trend arrow" in headers and "Peer median (value)" in headers and "U4SSC band (points of 4)" in headers
    assert {"Source type", "National statistics value", "SDG targets"} <= set(
        re.findall(r'<th scope="col">([^<]*)</th>', details))  # no quality level or verification: published rows
    assert 'class="u4ssc-table u4ssc-sortable"' in main  # 112 rows: sortable and searchable
    voter = next(r for r in main.split("<tr")[1:] if "Voter Participation" in r)
    rank = int(prof.baseline.set_index("data_point_id").at["SC: SH: SI: 4C", "peer_rank"])
    assert "66–95 % (3/4)" in voter and f">{rank} of {len(prof.peers)}<" in voter


def test_quality_level_and_verification_read_as_words():
    frame = pd.DataFrame({"data_point_name": ["Water Supply Loss"], "data_point_id": ["EC: I: WS: 3C"],
                          "value": [21.5], "quality_level": pd.array([2], dtype="Int64"),
                          "verified": pd.array([True], dtype="boolean"), "source_type": ["city-supplied"]})
    details = present.key_table(frame, "baseline").split("<details", 1)[1]
    assert "<td>2: extrapolated from a survey of inhabitants</td>" in details and "<td>yes</td>" in details
    nb = present.key_table(frame, "baseline", lang="nb").split("<details", 1)[1]
    assert "<td>2: fremskrevet fra en innbyggerundersøkelse</td>" in nb and "<td>ja</td>" in nb


def test_every_table_and_download_resting_on_simulated_values_carries_the_mark(alesund):
    prof, folder = alesund
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    for name in RESTING_ON_SIMULATED:
        frame = prof.tables[name]
        marked = present.rests_on_simulated(frame)
        assert marked.any(), f"{name}: Ålesund is mostly simulated, so some row must be marked"
        csv = pd.read_csv(folder / f"{name}.csv")
        assert csv[present.SIM_FLAG].tolist() == marked.tolist(), name
        sheet = book[name]
        flag_column = [c.value for c in sheet[1]].index(present.SIM_FLAG)
        for excel_row in sheet.iter_rows(min_row=2):
            assert excel_row[0].font.italic == bool(excel_row[flag_column].value), name
            assert (excel_row[0].fill.fgColor.rgb[-6:] == present.EXCEL_SIM_FILL) == bool(excel_row[flag_column].value)
    assert present.SIM_FLAG not in pd.read_csv(folder / "data_gaps.csv").columns  # gaps rest on no value at all
    kinds = {"baseline": "baseline", "overall": "overall", "dimensions": "dimensions", "sdg_goals": "sdg_goals",
             "trends": "trends", "what_if": "what_if", "recommendations": "recommendations"}
    for name, kind in kinds.items():
        assert f'class="{present.SIM_CLASS}"' in present.key_table(prof.tables[name], kind), name
    cards = present.theme_cards(prof.opportunities)
    simulated_themes = prof.opportunities.loc[prof.opportunities["evidence"] < 0.5, "theme_name"]
    assert cards.count(f'u4ssc-card {present.SIM_CLASS}') == len(simulated_themes) > 0
    fig = present.plot_sdg_dashboard(prof.sdg_goals, prof.municipality)
    assert any(p.get_hatch() == present.SIM_HATCH for p in fig.axes[0].patches)  # the SDG tiles
    present.described(fig, "", "")


def test_one_legend_per_page_not_one_per_table(alesund):
    prof, _ = alesund
    assert "u4ssc-legend" not in present.key_table(prof.dimensions, "dimensions")
    assert "u4ssc-legend" not in present.table_html(prof.baseline)
    css = (present.Path(__file__).parents[1] / "reports" / "templates" / "u4ssc.css").read_text(encoding="utf-8")
    assert "::after" not in css.split("/* ---- tables ---- */")[0]  # no second legend drawn by the style sheet


def test_excel_number_formats_widths_and_header():
    frame = pd.DataFrame({"data_point_name": ["Voter Participation", "Drainage / Storm Water System ICT Monitoring"],
                          "value": [54.66, 95424.5], "year": [2020, 2021], "achievement": [80.83, 12.3],
                          "source_type": ["published", "simulated"]})
    path = present.write_workbook({"baseline": present.flagged(frame)}, present.Path(pytest.importorskip("tempfile")
                                                                                     .mkdtemp()) / "t.xlsx")
    ws = openpyxl.load_workbook(path)["baseline"]
    assert [c.value for c in ws[1]] == [*frame.columns, present.SIM_FLAG]
    assert ws["B2"].number_format == "#,##0.00" and ws["B3"].value == 95424.5  # shown rounded, kept whole
    assert ws["C2"].number_format == "0"        # years: no thousands separator
    assert ws["D2"].number_format == "0"        # achievement: labels.csv says 0 decimals
    assert labels.decimals("achievement") == 0
    assert ws["E2"].number_format == "General"  # text
    # the stored width adds Excel's cell padding (under one character) to the width Excel shows
    assert int(ws.column_dimensions["A"].width) == len("Drainage / Storm Water System ICT Monitoring") + 2
    assert int(ws.column_dimensions["C"].width) == len("year") + 2
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:F3"
    assert ws["A1"].font.bold and not ws["A2"].font.italic and ws["A3"].font.italic
    assert ws["F3"].value is True and ws["F2"].value is False
