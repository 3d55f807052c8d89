"""Band colours that survive colour-vision deficiencies, and figures with real alt text and captions."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from analysis import palette, present, scoring, sdg

matplotlib.use("Agg")
BANDS = [palette.BAND_HEX[b] for b in scoring.BAND_LABELS]


def test_machado_simulation_and_cielab_against_hand_values():
    # Machado et al. (2009) deuteranopia, severity 1: pure red → the first column of the matrix
    assert palette.simulate("#FF0000", "deuteranopia") == pytest.approx([0.367322, 0.280085, 0.0])
    assert palette.simulate("#808080", "protanopia") == pytest.approx(palette.to_linear(np.full(3, 128 / 255)),
                                                                      abs=2e-3)  # rows sum to 1: greys stay grey
    assert palette.lab(np.ones(3)) == pytest.approx([100.0, 0.0, 0.0], abs=1e-3)
    assert palette.lab(np.zeros(3)) == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)


@pytest.mark.parametrize("deficiency", [None, "deuteranopia", "protanopia"])
def test_band_colours_stay_apart(deficiency):
    assert palette.min_distance(BANDS, deficiency) >= 20.0


RED_GREEN = ["#d7301f", "#fc8d59", "#fee08b", "#1a9850"]  # the SDG tiles' former red-orange-yellow-green scale


def test_the_check_fails_a_red_green_scale():
    assert palette.min_distance(RED_GREEN) >= 20.0          # distinct with normal vision
    assert palette.min_distance(RED_GREEN, "protanopia") < 10.0  # orange and green collapse


@pytest.mark.parametrize("deficiency", [None, "deuteranopia", "protanopia"])
def test_sdg_tiles_take_the_band_colours_and_stay_apart(deficiency):
    tiles = [sdg.COLOUR_HEX[c] for c in sdg.COLOURS]
    assert tiles == BANDS  # red … green are the four U4SSC bands, worst to best
    assert palette.min_distance(tiles, deficiency) >= 20.0
    assert sdg.COLOUR_HEX["grey"] == palette.BAND_HEX[scoring.NO_DATA]


def goals() -> pd.DataFrame:
    colours = ["red", "orange", "yellow", "green", "grey"] + ["orange"] * 12
    return pd.DataFrame({"municipality": "Tromsø", "sdg_goal": range(1, 18), "colour": colours,
                         "n_linked": [2, 2, 2, 2, 0] + [1] * 12, "n_scored": [2, 2, 2, 2, 0] + [1] * 12,
                         "n_simulated": [0, 0, 2, 0, 0] + [0] * 12, "n_goalposts_simulated": 0})


def test_sdg_dashboard_draws_all_17_goals_in_band_colours_with_readable_text():
    fig = present.plot_sdg_dashboard(goals(), "Tromsø")
    ax = fig.axes[0]
    tiles = [matplotlib.colors.to_hex(p.get_facecolor()).upper() for p in ax.patches]
    assert len(tiles) == 17 and tiles[:5] == [*BANDS, palette.BAND_HEX[scoring.NO_DATA]]
    assert ax.patches[2].get_hatch() == present.SIM_HATCH and not ax.patches[0].get_hatch()
    assert {f"SDG {g}" for g in range(1, 18)} <= {t.get_text() for t in ax.texts}
    assert min(t.get_fontsize() for t in ax.texts) >= 9  # 5.5 inches wide: about 8 px at 390 px
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [*scoring.BAND_LABELS, "no data or no link", "mostly simulated"]
    dark = next(t for t in ax.texts if t.get_text() == "SDG 1")  # white on the dark red tile
    assert matplotlib.colors.to_hex(dark.get_color()).upper() == "#FFFFFF"
    matplotlib.pyplot.close(fig)


def test_sdg_finding_counts_bands_and_names_the_weakest_goal():
    alt, caption = present.sdg_finding(goals(), "Tromsø")
    assert caption == ("Tromsø's 16 scored SDGs by band: 1 in 95–100 %, 1 in 66–95 %, 13 in 33–66 %, 1 in 0–33 %; "
                       "the weakest: SDG 1; 1 without a scored data point (grey).")
    assert "SDG 3 66–95 % (2 of 2 data points scored, mostly simulated)" in alt and "SDG 5 no data" in alt


def test_tile_text_contrast_meets_wcag_aa():
    assert all(palette.contrast(c, palette.text_colour(c)) >= 4.5 for c in palette.BAND_HEX.values())
    assert palette.contrast("#000000", "#FFFFFF") == pytest.approx(21.0)


def categories() -> pd.DataFrame:
    return pd.DataFrame({
        "municipality": "Bærum", "dimension": ["Economy", "Economy", "Environment"],
        "sub_dimension": ["ICT", "Infrastructure", "Energy"],
        "category": ["Water and Sanitation", "Water and Sanitation", "Energy"],
        "u4ssc_score": [25.0, 95.0, None], "n_scored": [2, 2, 0], "n_simulated": [0, 2, 0]})


def test_category_figure_uses_band_colours_legend_and_labelled_edges():
    fig = present.plot_category_achievement(categories(), "Bærum")
    ax = fig.axes[0]
    colours = [matplotlib.colors.to_hex(p.get_facecolor()).upper() for p in ax.patches[:3]]
    assert colours == [palette.BAND_HEX["0–33 %"], palette.BAND_HEX["95–100 %"], palette.BAND_HEX["no data"]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [*scoring.BAND_LABELS, "mostly simulated"]
    texts = {t.get_text() for t in ax.texts}
    assert {"33 %", "66 %", "95 %", "Economy", "Environment", "Water and Sanitation (ICT): 25 %",
            "Energy: no data"} <= texts
    assert min(t.get_fontsize() for t in ax.texts) >= 9
    matplotlib.pyplot.close(fig)


def test_figures_carry_alt_text_and_a_caption_stating_the_finding():
    alt, caption = present.category_finding(categories(), "Bærum")
    assert caption == ("Bærum's 2 scored categories by U4SSC band: 1 in 95–100 %, 0 in 66–95 %, 0 in 33–66 %, "
                       "1 in 0–33 %; the lowest is Water and Sanitation (ICT) (25 %).")
    assert "Water and Sanitation (Infrastructure) 95 % (95–100 %)" in alt and "Energy no data" in alt
    shown = present.described(present.plot_category_achievement(categories(), "Bærum"), alt, caption)
    page = shown._repr_html_()
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]{100,}" alt="Horizontal bar chart', page)
    assert "<figcaption>Bærum&#x27;s 2 scored categories" in page


def test_dimension_finding_names_best_worst_and_below_median():
    comparison = pd.DataFrame({"dimension": ["Economy", "Environment", "Society and Culture"],
                               "mean_achievement": [60.0, 80.0, 40.0], "peer_median": [50.0, 85.0, 45.0],
                               "peer_min": [10.0, 20.0, 30.0], "peer_max": [90.0, 95.0, 70.0],
                               "n_scored": [3, 3, 3], "n_simulated": [0, 0, 3]})
    alt, caption = present.dimension_finding(comparison, "Aukra")
    assert caption == ("Aukra does best in Environment (80 %) and least well in Society and Culture (40 %); "
                       "below the peer median in Environment, Society and Culture.")
    assert "Economy 60 % (peers 10 %–90 %, median 50 %)" in alt


@pytest.mark.parametrize("notebook", ["profile_Asker", "profile_Karmøy", "synthesis", "tutorial"])
def test_every_figure_of_the_golden_notebooks_has_real_alt_text(notebook):
    """A figure is an <img> with its own alternative text, or a plain image output in a cell whose caption
    becomes the image's alt text on both sites (analysis/report.py, analysis/quarto.py): never nbconvert's default."""
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).parent / "golden" / f"{notebook}.ipynb", as_version=4)
    figures = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                figures += 1
                assert len(str(cell.metadata.get("caption", ""))) >= 40, cell.source[:80]
            for alt in re.findall(r'<img[^>]*?alt="([^"]*)"', str(data.get("text/html", ""))):
                figures += 1
                assert len(alt) >= 40 and "No description" not in alt
    assert figures >= 1
