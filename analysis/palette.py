"""Colour-blind-safe colours for the U4SSC bands, with the colour-vision simulation that checks them.

The four bands take ColorBrewer's four-class RdBu scheme (a diverging scale marked colour-blind
safe), from red (0–33 %) through light red and light blue to blue (95–100 %): the red–blue axis
survives the red–green deficiencies, so the bands stay apart where a red–green scale collapses
(``tests/test_palette.py`` simulates deuteranopia and protanopia with Machado et al.'s 2009
matrices and measures CIELAB ΔE). Text on a tile takes black or white, whichever contrasts more
(WCAG relative luminance).
"""

from __future__ import annotations

import numpy as np

from analysis import scoring

BAND_HEX: dict[str, str] = {
    scoring.BAND_LABELS[0]: "#B2182B",  # red
    scoring.BAND_LABELS[1]: "#EF8A62",  # light red
    scoring.BAND_LABELS[2]: "#67A9CF",  # light blue
    scoring.BAND_LABELS[3]: "#2166AC",  # blue
    scoring.NO_DATA: "#DDDDDD",         # light grey
    scoring.INSUFFICIENT: "#DDDDDD",    # light grey: too few data points for a score (its label says so)
}
# Machado, Oliveira and Fernandes (2009), severity 1.0, applied to linear RGB.
CVD_MATRICES: dict[str, np.ndarray] = {
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}
_D65 = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])


def band_colour(band: str) -> str:
    """The hex colour of a band label (grey for 'no data')."""
    return BAND_HEX[band]


def _srgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) / 255.0 for i in (0, 2, 4)])


def to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] to linear RGB (IEC 61966-2-1)."""
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def simulate(hex_colour: str, deficiency: str) -> np.ndarray:
    """Linear RGB of a colour as seen with ``deficiency`` (a key of CVD_MATRICES), clipped to [0, 1]."""
    return np.clip(CVD_MATRICES[deficiency] @ to_linear(_srgb(hex_colour)), 0.0, 1.0)


def lab(linear_rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear RGB colour."""
    xyz = _RGB_TO_XYZ @ linear_rgb / _D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def min_distance(colours: list[str], deficiency: str | None = None) -> float:
    """The smallest CIELAB ΔE (1976) between any two of ``colours``, optionally as seen with a deficiency."""
    seen = [lab(simulate(c, deficiency) if deficiency else to_linear(_srgb(c))) for c in colours]
    return min(float(np.linalg.norm(a - b)) for i, a in enumerate(seen) for b in seen[i + 1:])


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of a colour."""
    return float(np.array([0.2126, 0.7152, 0.0722]) @ to_linear(_srgb(hex_colour)))


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1–21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background``."""
    return "#000000" if contrast(background, "#000000") >= contrast(background, "#FFFFFF") else "#FFFFFF"
