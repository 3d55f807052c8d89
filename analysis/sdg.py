"""The SDG view: data points rolled up to SDG targets and goals through the registry's links, with dashboard colours.

Colours per data point follow the U4SSC bands (red < 33 %, orange 33–66 %, yellow 66–95 %,
green ≥ 95 %). A goal's colour must not let an average hide a failing indicator, so it follows
SDSN's two-worst rule: green only if its two worst data points are green, red if both are red;
otherwise the worse of the two, lifted from red to orange when only one of them is red. As in
SDSN's US city edition, a goal is also red when more than a third of its data points are red.
A goal with one scored data point takes that data point's colour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import catalogue, scoring

COLOURS = ("red", "orange", "yellow", "green")
COLOUR_HEX = {"red": "#d7301f", "orange": "#fc8d59", "yellow": "#fee08b", "green": "#1a9850", "grey": "#bdbdbd"}


def colour(points: pd.Series | np.ndarray) -> np.ndarray:
    """Dashboard colour of U4SSC points 1–4 (grey where unscored)."""
    p = np.asarray(points, dtype=float)
    names = np.array(("grey", *COLOURS), dtype=object)
    return names[np.nan_to_num(p, nan=0.0).astype(int)]


def goal_level(levels: list[int] | np.ndarray) -> int:
    """Goal colour level (0 red … 3 green) from its data points' levels by the two-worst rule."""
    lv = np.sort(np.asarray(levels, dtype=int))
    if len(lv) == 0:
        raise ValueError("a goal needs at least one scored data point")
    if (lv == 0).sum() * 3 > len(lv):
        return 0
    two = lv[:2]
    if len(two) == 1 or two[0] == two[1]:
        return int(two[0])
    return max(int(two[0]), 1) if two[0] == 0 else int(two[0])


def data_point_view(scored: pd.DataFrame, cat: pd.DataFrame) -> pd.DataFrame:
    """Scored data points × their SDG targets, with goal numbers and colours (unlinked data points drop out)."""
    links = catalogue.sdg_links(cat)
    out = scored.merge(links, on="data_point_id", how="inner")
    out["colour"] = colour(out["points"])
    return out


def goal_dashboard(scored: pd.DataFrame, cat: pd.DataFrame, municipalities: list[str] | None = None) -> pd.DataFrame:
    """Per municipality and SDG goal: colour, mean achievement, and how many linked data points are scored."""
    view = data_point_view(scored, cat)
    view = view.drop_duplicates(["municipality", "data_point_id", "sdg_goal"])
    linked = catalogue.sdg_links(cat).drop_duplicates(["data_point_id", "sdg_goal"])
    n_linked = linked.groupby("sdg_goal").size().rename("n_linked")
    rows = []
    names = municipalities if municipalities is not None else sorted(scored["municipality"].unique())
    for municipality in names:
        own = view[(view["municipality"] == municipality) & view["points"].notna()]
        for goal, n in n_linked.items():
            part = own[own["sdg_goal"] == goal]
            if part.empty:
                rows.append((municipality, goal, n, 0, np.nan, "grey", ""))
                continue
            level = goal_level(part["points"].astype(int).to_numpy() - 1)
            worst = part.sort_values(["achievement", "data_point_id"], kind="mergesort")["data_point_id"].head(2)
            rows.append((municipality, goal, n, len(part), part["achievement"].mean(), COLOURS[level],
                         "; ".join(worst)))
    return pd.DataFrame(rows, columns=["municipality", "sdg_goal", "n_linked", "n_scored",
                                       "mean_achievement", "colour", "worst_data_points"])


def band_of_goal(dashboard: pd.DataFrame) -> pd.Series:
    """The U4SSC band of each goal's mean achievement, for tables beside the colour."""
    return pd.Series(scoring.band(dashboard["mean_achievement"]), index=dashboard.index)
