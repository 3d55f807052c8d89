"""The "progress on goals and targets" chapter of a Voluntary Local Review, filled per SDG from a profile.

Norwegian municipalities such as Asker wrote this chapter by hand from their U4SSC results. Here
each of the 17 goals gets: the data points linked to it (catalogue SDG targets) with value, year,
band, trend and national target status; the goal's dashboard colour; and the actions of the
action plan that move its data points. Simulated values are labelled in every row and in the
goal's text. Output: Word-friendly HTML (headings, paragraphs and tables only, no scripts or
styles beyond table borders) and two CSV tables, written to the profile's downloads.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.files import write_text

GOAL_NAMES = {
    1: "No poverty", 2: "Zero hunger", 3: "Good health and well-being", 4: "Quality education",
    5: "Gender equality", 6: "Clean water and sanitation", 7: "Affordable and clean energy",
    8: "Decent work and economic growth", 9: "Industry, innovation and infrastructure", 10: "Reduced inequalities",
    11: "Sustainable cities and communities", 12: "Responsible consumption and production", 13: "Climate action",
    14: "Life below water", 15: "Life on land", 16: "Peace, justice and strong institutions",
    17: "Partnerships for the goals",
}
"""The goals' short titles as the UN lists them (https://sdgs.un.org/goals)."""
HTML_FILE = "vlr_annex.html"
DATA_POINT_COLUMNS = ["sdg_goal", "goal_name", "sdg_targets", "data_point_id", "data_point_name", "value",
                      "registry_unit", "year", "band", "achievement", "trend", "national_target", "source_type"]
GOAL_COLUMNS = ["sdg_goal", "goal_name", "colour", "n_linked", "n_with_value", "n_simulated", "n_national_met",
                "n_national_not_met", "actions", "progress"]


def _goals_of(targets: tuple) -> set[int]:
    return {int(str(t).split(".")[0]) for t in targets if str(t).split(".")[0].isdigit()}


def data_point_rows(cat: pd.DataFrame, baseline: pd.DataFrame, trends: pd.DataFrame,
                    national: pd.DataFrame) -> pd.DataFrame:
    """One row per SDG goal × linked data point: the municipality's value, band, trend and national target status."""
    links = cat[["data_point_id", "sdg_targets", "sdg_target_list"]].assign(
        sdg_goal=cat["sdg_target_list"].map(lambda t: sorted(_goals_of(t)))).explode("sdg_goal").dropna(
        subset=["sdg_goal"])
    own = baseline.reindex(columns=["data_point_id", "data_point_name", "value", "registry_unit", "year", "band",
                                    "achievement", "source_type"])
    arrows = trends.reindex(columns=["data_point_id", "trend"])
    status = national.groupby("data_point_id").apply(
        lambda g: "; ".join(f"{t.status} ({t.target:g} {t.target_unit}{f', {t.year}' if pd.notna(t.year) else ''})"
                            for t in g.itertuples()), include_groups=False).rename("national_target")
    out = links.merge(own, on="data_point_id", how="left").merge(arrows, on="data_point_id", how="left")
    out = out.merge(status, left_on="data_point_id", right_index=True, how="left")
    names = cat.set_index("data_point_id")["data_point_name"]
    out["data_point_name"] = out["data_point_name"].fillna(out["data_point_id"].map(names))
    out["sdg_goal"] = out["sdg_goal"].astype(int)
    out["goal_name"] = out["sdg_goal"].map(GOAL_NAMES)
    out[["trend", "national_target"]] = out[["trend", "national_target"]].fillna("")
    out["source_type"] = out["source_type"].fillna("no value")
    return out.sort_values(["sdg_goal", "data_point_id"], kind="mergesort")[DATA_POINT_COLUMNS].reset_index(drop=True)


def goal_rows(points: pd.DataFrame, goals: pd.DataFrame, recs: pd.DataFrame, cat: pd.DataFrame,
              themes: pd.DataFrame, municipality: str) -> pd.DataFrame:
    """One row per SDG goal: its colour, counts, the numbered actions that move its data points and a progress text."""
    colour = goals.set_index("sdg_goal")["colour"] if len(goals) else pd.Series(dtype=object)
    theme_points = themes.groupby("theme_id")["data_point_id"].agg(set).to_dict()
    rows = []
    for g in range(1, 18):
        p = points[points["sdg_goal"] == g]
        ids = set(p["data_point_id"])
        acting = [str(r.number) for r in recs.itertuples()
                  if (r.data_point_id and r.data_point_id in ids) or (r.theme_id and theme_points.get(r.theme_id, set()) & ids)]
        valued = p[p["value"].notna()]
        n_sim = int(valued["source_type"].eq("simulated").sum())
        met = int(p["national_target"].str.count(r"(?<!not )\bmet\b").sum())
        not_met = int(p["national_target"].str.count(r"not met").sum())
        rows.append({"sdg_goal": g, "goal_name": GOAL_NAMES[g], "colour": colour.get(g, "grey"), "n_linked": len(p),
                     "n_with_value": len(valued), "n_simulated": n_sim, "n_national_met": met,
                     "n_national_not_met": not_met, "actions": "; ".join(acting),
                     "progress": _progress(g, p, valued, n_sim, met, not_met, acting, colour.get(g, "grey"),
                                           municipality)})
    return pd.DataFrame(rows, columns=GOAL_COLUMNS)


def _progress(goal: int, p: pd.DataFrame, valued: pd.DataFrame, n_sim: int, met: int, not_met: int,
              acting: list[str], colour: str, municipality: str) -> str:
    """The goal's paragraph: what is measured, how it stands, the trend, national targets and actions."""
    if p.empty:
        return f"No U4SSC data point is linked to SDG {goal}; {municipality} reports on it by other means."
    text = [f"{len(p)} U4SSC data points are linked to SDG {goal}; {len(valued)} have a value."]
    if len(valued):
        top = valued[valued["band"] == "95–100 %"]
        low = valued[valued["band"] == "0–33 %"]
        text.append(f"The goal's dashboard colour is {colour}: {len(top)} data points are at or near target "
                    f"(95–100 %) and {len(low)} in the lowest band (0–33 %).")
    trends = p["trend"][p["trend"] != ""]
    if len(trends):
        counts = trends.value_counts()
        text.append("Trends: " + ", ".join(f"{n} {t}" for t, n in counts.items()) + ".")
    if met or not_met:
        text.append(f"National targets: {met} met, {not_met} not met.")
    if acting:
        text.append(f"Actions in the action plan: recommendations {', '.join(acting)}.")
    if n_sim:
        text.append(f"{n_sim} of the {len(valued)} values are simulated (a demonstration, not measurements).")
    return " ".join(text)


@dataclass
class Annex:
    """The VLR chapter of one municipality: per goal a text and its data points."""

    municipality: str
    goals: pd.DataFrame
    points: pd.DataFrame
    mostly_simulated: bool = False

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"vlr_goals": self.goals, "vlr_data_points": self.points}

    def html(self) -> str:
        """The chapter as a standalone, Word-friendly HTML document (no scripts, no external files)."""
        e = html.escape
        parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
                 f"<title>Progress on goals and targets – {e(self.municipality)}</title></head><body>",
                 f"<h1>Progress on goals and targets: {e(self.municipality)}</h1>",
                 "<p>This chapter of a Voluntary Local Review is filled from the municipality's U4SSC data points "
                 "(analysis/vlr.py): for each Sustainable Development Goal the linked data points with their value, "
                 "U4SSC band, trend and national target, and the numbered actions of the action plan.</p>"]
        if self.mostly_simulated:
            parts.append("<p><strong>Most values below are simulated.</strong> They are generated to demonstrate "
                         "the method and must not be quoted as results; rows say 'simulated' in the column "
                         "'Source type'.</p>")
        heads = ["Data point", "Value", "Unit", "Year", "Band", "Trend", "National target", "Source type"]
        for g in self.goals.itertuples():
            parts.append(f"<h2>SDG {g.sdg_goal}: {e(g.goal_name)}</h2>")
            parts.append(f"<p>{e(g.progress)}</p>")
            rows = self.points[self.points["sdg_goal"] == g.sdg_goal]
            if rows.empty:
                continue
            parts.append('<table border="1" cellpadding="4" cellspacing="0"><thead><tr>'
                         + "".join(f"<th>{e(h)}</th>" for h in heads) + "</tr></thead><tbody>")
            for r in rows.itertuples():
                cells = [r.data_point_name, _fmt(r.value), r.registry_unit, _fmt(r.year), r.band, r.trend,
                         r.national_target, r.source_type]
                parts.append("<tr>" + "".join(f"<td>{e(_blank(c))}</td>" for c in cells) + "</tr>")
            parts.append("</tbody></table>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"

    def write(self, folder: Path) -> Path:
        """The HTML file in the profile's downloads folder (written whole or not at all)."""
        return write_text(Path(folder) / HTML_FILE, self.html())

    def _repr_html_(self) -> str:
        from analysis import present

        n = int((self.goals["n_with_value"] > 0).sum())
        return (f"<p>{n} of the 17 goals have data points with a value; the chapter (HTML for Word and CSV) is in "
                f"the downloads as <code>{HTML_FILE}</code>, <code>vlr_goals.csv</code> and "
                f"<code>vlr_data_points.csv</code>.</p>" + present.key_table(self.goals, "vlr_goals"))


def _fmt(x: object) -> str:
    from analysis import present
    return present.number(x)


def _blank(x: object) -> str:
    return "" if x is None or (isinstance(x, float) and pd.isna(x)) or x in ("–", "<NA>", "nan") else str(x)


def annex(municipality: str, cat: pd.DataFrame, baseline: pd.DataFrame, trends: pd.DataFrame, goals: pd.DataFrame,
          national: pd.DataFrame, recs: pd.DataFrame, themes: pd.DataFrame, mostly_simulated: bool = False) -> Annex:
    """The VLR chapter of one municipality from its profile tables, national target status and recommendations."""
    points = data_point_rows(cat, baseline, trends, national)
    return Annex(municipality, goal_rows(points, goals, recs, cat, themes, municipality), points, mostly_simulated)
