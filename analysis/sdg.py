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

from analysis import catalogue

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
    """Per municipality and SDG goal: colour, mean achievement, and how many linked data points are scored.

    Vectorised over all municipalities at once; the colour rule is the one of :func:`goal_level`.
    """
    links = catalogue.sdg_links(cat).drop_duplicates(["data_point_id", "sdg_goal"])
    n_linked = links.groupby("sdg_goal").size().rename("n_linked")
    view = scored.loc[scored["points"].notna(), ["municipality", "data_point_id", "points", "achievement",
                                                  "source_type"]]
    view = view.merge(links[["data_point_id", "sdg_goal"]], on="data_point_id", how="inner")
    view["level"] = view["points"].astype(int) - 1
    view = view.sort_values(["municipality", "sdg_goal", "level", "achievement", "data_point_id"], kind="mergesort")
    keys = ["municipality", "sdg_goal"]
    g = view.groupby(keys, sort=True)
    first_two = view[g.cumcount() < 2]
    worst_ids = first_two.sort_values(["municipality", "sdg_goal", "achievement", "data_point_id"], kind="mergesort") \
        .groupby(keys)["data_point_id"].agg("; ".join)
    two = first_two.groupby(keys)["level"]
    stats = pd.DataFrame({
        "n_scored": g.size(),
        "n_simulated": view["source_type"].eq("simulated").groupby([view[k] for k in keys]).sum(),
        "mean_achievement": g["achievement"].mean(),
        "n_red": view["level"].eq(0).groupby([view[k] for k in keys]).sum(),
        "l1": two.min(),  # the worst level
        "l2": two.max(),  # the second worst (equal to l1 for a goal with one scored data point)
        "worst_data_points": worst_ids,
    })
    level = np.select(
        [stats["n_red"] * 3 > stats["n_scored"], stats["l1"] == stats["l2"], stats["l1"] == 0],
        [0, stats["l1"], 1], default=stats["l1"])
    stats["colour"] = np.asarray(COLOURS, dtype=object)[level.astype(int)]
    names = municipalities if municipalities is not None else sorted(scored["municipality"].unique())
    full = pd.MultiIndex.from_product([names, n_linked.index], names=["municipality", "sdg_goal"])
    out = stats.reindex(full).reset_index()
    out["n_linked"] = out["sdg_goal"].map(n_linked)
    out["n_scored"] = out["n_scored"].fillna(0).astype(int)
    out["n_simulated"] = out["n_simulated"].fillna(0).astype(int)
    out["colour"] = out["colour"].fillna("grey")
    out["worst_data_points"] = out["worst_data_points"].fillna("")
    return out[["municipality", "sdg_goal", "n_linked", "n_scored", "n_simulated", "mean_achievement", "colour",
                "worst_data_points"]]
