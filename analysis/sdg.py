"""The SDG view: data points rolled up to SDG targets, then targets to goals, with dashboard colours.

Colours per data point follow the U4SSC bands (SDSN's levels red < 33 %, orange 33–66 %, yellow
66–95 %, green ≥ 95 %, drawn in the colour-blind-safe band colours of ``analysis.palette``). An SDG target's colour must not let an average hide a failing indicator, so it
follows SDSN's two-worst rule over its data points: green only if its two worst data points are
green, red if both are red; otherwise the worse of the two, lifted from red to orange when only one
of them is red. As in SDSN's US city edition, it is also red when more than a third of its data
points are red. A goal's colour then comes from its targets' colours: the lower median (at least
half of its scored targets are at that colour or worse), with the two worst targets named. Applying
the two-worst rule again at goal level would make a goal with many targets red by construction (goal
11 has 10 targets and 39 data points; two red targets of ten suffice), so its colour would carry no
information. All 17 goals are shown; a goal with no linked or no scored data point is grey.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import catalogue, palette, scoring

COLOURS = ("red", "orange", "yellow", "green")
"""SDSN's dashboard levels, worst to best; the tables keep these names (one per U4SSC band)."""
COLOUR_BAND = {**dict(zip(COLOURS, scoring.BAND_LABELS)), "grey": scoring.NO_DATA}
"""The U4SSC band of each dashboard level: the tiles are drawn in the band colours (analysis.palette)."""
COLOUR_HEX = {level: palette.band_colour(band) for level, band in COLOUR_BAND.items()}
"""Tile colours: the colour-blind-safe band palette, not a red–green scale (which collapses under protanopia)."""
GOALS = tuple(range(1, catalogue.N_GOALS + 1))


def colour(points: pd.Series | np.ndarray) -> np.ndarray:
    """Dashboard colour of U4SSC points 1–4 (grey where unscored)."""
    p = np.asarray(points, dtype=float)
    names = np.array(("grey", *COLOURS), dtype=object)
    return names[np.nan_to_num(p, nan=0.0).astype(int)]


def goal_level(levels: list[int] | np.ndarray) -> int:
    """Colour level (0 red … 3 green) of an SDG target from its data points' levels.

    The two-worst rule with SDSN's "more than a third red" rule (a goal then takes :func:`median_level`
    of its targets' levels).
    """
    lv = np.sort(np.asarray(levels, dtype=int))
    if len(lv) == 0:
        raise ValueError("a goal needs at least one scored data point")
    if (lv == 0).sum() * 3 > len(lv):
        return 0
    two = lv[:2]
    if len(two) == 1 or two[0] == two[1]:
        return int(two[0])
    return max(int(two[0]), 1) if two[0] == 0 else int(two[0])


def median_level(levels: list[int] | np.ndarray) -> int:
    """A goal's colour level from its targets' levels: the lower median (half of the targets at it or worse)."""
    lv = np.sort(np.asarray(levels, dtype=int))
    if len(lv) == 0:
        raise ValueError("a goal needs at least one scored target")
    return int(lv[(len(lv) - 1) // 2])


def data_point_view(scored: pd.DataFrame, cat: pd.DataFrame) -> pd.DataFrame:
    """Scored data points × their SDG targets, with goal numbers and colours (every data point is linked)."""
    links = catalogue.sdg_links(cat)
    out = scored.merge(links, on="data_point_id", how="inner")
    out["colour"] = colour(out["points"])
    return out


def _roll_up(items: pd.DataFrame, keys: list[str], item: str) -> pd.DataFrame:
    """Per group of ``keys``: the two-worst colour level of its items' ``level``, vectorised like :func:`goal_level`.

    ``items`` has one row per group × item with ``level`` and ``achievement`` (ties broken by the item id).
    """
    ordered = items.sort_values([*keys, "level", "achievement", item], kind="mergesort")
    g = ordered.groupby(keys, sort=True)
    first_two = ordered[g.cumcount() < 2]
    worst = first_two.sort_values([*keys, "achievement", item], kind="mergesort").groupby(keys)[item] \
        .agg(lambda ids: "; ".join(map(str, ids)))
    two = first_two.groupby(keys)["level"]
    stats = pd.DataFrame({"n": g.size(), "n_red": ordered["level"].eq(0).groupby([ordered[k] for k in keys]).sum(),
                          "l1": two.min(), "l2": two.max(), "worst": worst})
    stats["level"] = np.select(
        [stats["n_red"] * 3 > stats["n"], stats["l1"] == stats["l2"], stats["l1"] == 0],
        [0, stats["l1"], 1], default=stats["l1"]).astype(int)
    return stats


def target_dashboard(scored: pd.DataFrame, cat: pd.DataFrame, municipalities: list[str] | None = None) -> pd.DataFrame:
    """Per municipality and SDG target: colour by the two-worst rule over its scored data points, and counts."""
    links = catalogue.sdg_links(cat).drop_duplicates(["data_point_id", "sdg_target"])
    n_linked = links.groupby(["sdg_goal", "sdg_target"]).size().rename("n_linked")
    columns = ["municipality", "data_point_id", "points", "achievement", "source_type"]
    view = scored.loc[scored["points"].notna(), [c for c in columns if c in scored.columns]]
    view = view.merge(links[["data_point_id", "sdg_target", "sdg_goal"]], on="data_point_id", how="inner")
    view["level"] = view["points"].astype(int) - 1
    keys = ["municipality", "sdg_goal", "sdg_target"]
    stats = _roll_up(view, keys, "data_point_id")
    by = [view[k] for k in keys]
    stats["n_simulated"] = view["source_type"].eq("simulated").groupby(by).sum()
    stats["mean_achievement"] = view.groupby(keys)["achievement"].mean()
    names = municipalities if municipalities is not None else sorted(scored["municipality"].unique())
    full = pd.MultiIndex.from_tuples([(m, g, t) for m in names for g, t in n_linked.index], names=keys)
    out = stats.reindex(full).reset_index()
    out["n_linked"] = pd.MultiIndex.from_frame(out[["sdg_goal", "sdg_target"]]).map(n_linked.to_dict())
    out["n_scored"] = out["n"].fillna(0).astype(int)
    out["n_simulated"] = out["n_simulated"].fillna(0).astype(int)
    out["colour"] = np.where(out["n_scored"] > 0,
                             np.asarray(COLOURS, dtype=object)[out["level"].fillna(0).astype(int)], "grey")
    out["worst_data_points"] = out["worst"].fillna("")
    return out[["municipality", "sdg_goal", "sdg_target", "n_linked", "n_scored", "n_simulated", "mean_achievement",
                "level", "colour", "worst_data_points"]]


def goal_dashboard(scored: pd.DataFrame, cat: pd.DataFrame, municipalities: list[str] | None = None) -> pd.DataFrame:
    """Per municipality and each of the 17 SDG goals: colour rolled up from its targets, with counts.

    ``n_linked``/``n_scored`` count distinct data points of the goal (``n_simulated`` of them simulated,
    ``n_goalposts_simulated`` real but scored against goalposts from simulated peers); ``n_targets``/``n_targets_scored``
    its SDG targets; ``mean_achievement`` is over its distinct scored data points. The colour applies
    :func:`median_level` to the target colours of :func:`target_dashboard`; ``worst_targets`` names its
    two worst targets. A goal with no linked or no scored data point is grey.
    """
    names = municipalities if municipalities is not None else sorted(scored["municipality"].unique())
    targets = target_dashboard(scored, cat, names)
    links = catalogue.sdg_links(cat).drop_duplicates(["data_point_id", "sdg_goal"])
    n_linked = links.groupby("sdg_goal").size()
    view = scored.loc[scored["points"].notna()]
    gp_simulated = view["goalposts_from_simulated"].astype(bool) if "goalposts_from_simulated" in view else False
    view = view.assign(real_gp_simulated=~view["source_type"].eq("simulated") & gp_simulated)
    view = view.merge(links[["data_point_id", "sdg_goal"]], on="data_point_id", how="inner")
    keys = ["municipality", "sdg_goal"]
    by = [view[k] for k in keys]
    points = pd.DataFrame({"n_scored": view.groupby(keys).size(),
                           "n_simulated": view["source_type"].eq("simulated").groupby(by).sum(),
                           "n_goalposts_simulated": view["real_gp_simulated"].groupby(by).sum(),
                           "mean_achievement": view.groupby(keys)["achievement"].mean()})
    scored_targets = targets[targets["n_scored"] > 0].rename(columns={"mean_achievement": "achievement"})
    rolled = _roll_up(scored_targets, keys, "sdg_target")  # the two worst targets, named
    ordered = scored_targets.sort_values([*keys, "level", "achievement", "sdg_target"], kind="mergesort")
    position = ordered.groupby(keys).cumcount()
    median_at = (ordered.groupby(keys)["level"].transform("size") - 1) // 2
    rolled["level"] = ordered[position == median_at].set_index(keys)["level"].astype(int)
    full = pd.MultiIndex.from_product([names, GOALS], names=keys)
    out = points.join(rolled[["n", "level", "worst"]], how="outer").reindex(full).reset_index()
    out["n_linked"] = out["sdg_goal"].map(n_linked).fillna(0).astype(int)
    out["n_targets"] = out["sdg_goal"].map(targets.drop_duplicates(["sdg_goal", "sdg_target"])
                                           .groupby("sdg_goal").size()).fillna(0).astype(int)
    out["n_targets_scored"] = out["n"].fillna(0).astype(int)
    out["n_scored"] = out["n_scored"].fillna(0).astype(int)
    out["n_simulated"] = out["n_simulated"].fillna(0).astype(int)
    out["n_goalposts_simulated"] = out["n_goalposts_simulated"].fillna(0).astype(int)
    out["colour"] = np.where(out["n_targets_scored"] > 0,
                             np.asarray(COLOURS, dtype=object)[out["level"].fillna(0).astype(int)], "grey")
    out["worst_targets"] = out["worst"].fillna("")
    return out[["municipality", "sdg_goal", "n_linked", "n_scored", "n_simulated", "n_goalposts_simulated",
                "n_targets", "n_targets_scored", "mean_achievement", "colour", "worst_targets"]]
