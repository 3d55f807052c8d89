"""Numbered recommendations derived by rule from a municipality's gaps and its investment ranking.

UNECE's city profiles end with thematic recommendations, each with who acts, when and at what
cost; choosing them is done by hand there. Here four rules, applied in order, make the list
reproducible (``docs/invest.md`` states them):

1. **Invest** in each of the top themes whose need rests mostly on real values; a top theme whose
   need rests mostly on simulated values gets **verify the gap first** instead.
2. **Review** each category in the U4SSC 0–33 % band that no top theme moves, naming the
   best-ranked theme that moves it and its owner.
3. **Join** each joint programme the municipality is part of, saying whether it rests on real
   values in at least two municipalities.
4. **Plan data collection** for the core data points without a published or city-supplied value.
5. **Align with a national target** for each comparable national target the municipality's value
   does not meet (``analysis.policy``), owned by the best-ranked theme that moves the data point.

Owner = the theme's service area (``data/raw/investment_costs.csv``); horizon follows the cost
class (low: short, medium: medium, high: long term); data work is short term and low cost.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis import invest

HORIZONS = {"low": "short term (0–2 years)", "medium": "medium term (2–5 years)", "high": "long term (5+ years)"}
DATA_OWNER = "Strategy and analysis (municipal management)"
NO_OWNER = "Municipal management (no investment theme covers it)"
LOW_BAND = "0–33 %"
COLUMNS = ["number", "kind", "recommendation", "owner", "horizon", "cost_class", "rests_on", "rule", "theme_id",
           "category", "data_point_id"]
"""``theme_id``, ``category`` and ``data_point_id`` name what a recommendation is about (empty where none), so the
action plan (``analysis.action``) can follow it to financing instruments, national plans and data points."""


def _row(kind: str, text: str, owner: str, cost_class: str, rests_on: str, rule: str, theme_id: str = "",
         category: str = "", data_point_id: str = "") -> dict[str, str]:
    return {"kind": kind, "recommendation": text, "owner": owner, "horizon": HORIZONS.get(cost_class, ""),
            "cost_class": cost_class, "rests_on": rests_on, "rule": rule, "theme_id": theme_id, "category": category,
            "data_point_id": data_point_id}


def _basis(evidence: float) -> str:
    return "real values" if evidence >= invest.REAL_EVIDENCE else "simulated values"


def invest_rules(table: pd.DataFrame, municipality: str, top: int = invest.TOP) -> list[dict[str, str]]:
    """Rule 1: the top themes, as projects when their need rests on real values, else as data checks."""
    rows = []
    best = table[(table["status"] == invest.RANKED) & (table["ws_rank"] <= top)].sort_values("ws_rank")
    for r in best.itertuples():
        why = (f", chiefly for {r.driven_by}" if r.driven_by else "") + \
              (f", despite {r.held_back_by}" if r.held_back_by else "")
        if r.evidence >= invest.REAL_EVIDENCE:
            rows.append(_row("project", f"Invest in {r.theme_name} (rank {r.ws_rank}, {r.stability}){why}.",
                             r.service_area, r.cost_class, "real values", "1: top theme", r.theme_id))
        else:
            rows.append(_row("data", f"Verify the gap before investing in {r.theme_name} (rank {r.ws_rank}): "
                                     f"{100 * (1 - r.evidence):.0f} % of its need rests on simulated values; "
                                     f"collect {municipality}'s own values for its data points first.",
                             r.service_area, "low", "simulated values", "1: top theme resting on simulated values",
                             r.theme_id))
    return rows


def category_rules(a: Any, municipality: str, table: pd.DataFrame, themes: pd.DataFrame,
                   top: int = invest.TOP) -> list[dict[str, str]]:
    """Rule 2: categories in the lowest band that no top theme moves, with the best-ranked theme that does."""
    cats = a.levels["category"]
    low = cats[(cats["municipality"] == municipality) & (cats["u4ssc_band"] == LOW_BAND)]
    dp_cat = a.catalogue.set_index("data_point_id")["category"]
    moves = themes.assign(category=themes["data_point_id"].map(dp_cat))[["theme_id", "category"]].drop_duplicates()
    ranked = table[table["status"] == invest.RANKED].set_index("theme_id")
    top_ids = set(ranked.index[ranked["ws_rank"] <= top])
    rows = []
    for c in low.sort_values(["u4ssc_score", "category"]).itertuples():
        ids = [t for t in moves.loc[moves["category"] == c.category, "theme_id"] if t in ranked.index]
        if top_ids & set(ids):
            continue
        simulated = c.n_simulated > c.n_scored / 2
        basis = "simulated values" if simulated else "real values"
        head = f"Review {c.category} ({c.dimension}): U4SSC score {c.u4ssc_score:.0f} %, in the {LOW_BAND} band"
        key = category_key(c.dimension, getattr(c, "sub_dimension", ""), c.category)
        if ids:
            best = ranked.loc[ids].sort_values("ws_rank").iloc[0]
            rows.append(_row("policy", f"{head}; the best-ranked theme that moves it is {best['theme_name']} "
                                       f"(rank {best['ws_rank']}).", best["service_area"], best["cost_class"], basis,
                             "2: category in the lowest band", best.name, key))
        else:
            rows.append(_row("policy", f"{head}; no investment theme moves it.", NO_OWNER, "", basis,
                             "2: category in the lowest band", category=key))
    return rows


def joint_rules(joint: pd.DataFrame, municipality: str, table: pd.DataFrame) -> list[dict[str, str]]:
    """Rule 3: joint programmes the municipality is part of, with the basis they rest on."""
    owner = table.set_index("theme_id")[["service_area", "cost_class"]]
    rows = []
    for j in joint.itertuples():
        members = j.municipalities.split("; ")
        if municipality not in members:
            continue
        others = ", ".join(m for m in members if m != municipality)
        basis = "real values" if j.basis == "real values" else "simulated values"
        note = "" if basis == "real values" else " The shared gap rests on simulated values: confirm it first."
        rows.append(_row("joint programme", f"Join a programme on {j.theme_name} with {others}: it is in the top "
                                            f"{invest.TOP} of {j.n_municipalities} municipalities.{note}",
                         owner.at[j.theme_id, "service_area"], owner.at[j.theme_id, "cost_class"], basis,
                         "3: joint programme", j.theme_id))
    return rows


def data_rules(gaps: pd.DataFrame) -> list[dict[str, str]]:
    """Rule 4: core data points without an observed value (U4SSC's 'plan data collection' next step)."""
    core = gaps[gaps["core_or_advanced"] == "core"]
    if core.empty:
        return []
    first = "; ".join(core["data_point_name"].head(3))
    return [_row("data", f"Plan data collection for {len(core)} core data points without a published or "
                         f"city-supplied value, first {first}.", DATA_OWNER, "low", "not applicable",
                 "4: unreported core data points")]


def category_key(dimension: str, sub_dimension: str, category: str) -> str:
    """A category named in full ('Economy / Infrastructure / Transport'): category names repeat across sub-dimensions."""
    return " / ".join(p for p in (dimension, sub_dimension, category) if isinstance(p, str) and p)


def national_rules(status: pd.DataFrame, table: pd.DataFrame, themes: pd.DataFrame, cat: pd.DataFrame,
                   municipality: str) -> list[dict[str, str]]:
    """Rule 5: each comparable national target not met, owned by the best-ranked theme that moves its data point.

    Without such a theme the owner is municipal management and the cost class low (setting a goal and
    measures in the municipal plan is planning work).
    """
    from analysis import policy

    ranked = table[table["status"] == invest.RANKED].set_index("theme_id")
    info = cat.set_index("data_point_id")
    rows = []
    for t in status[status["status"] == policy.NOT_MET].itertuples():
        ids = [i for i in themes.loc[themes["data_point_id"] == t.data_point_id, "theme_id"].unique()
               if i in ranked.index]
        best = ranked.loc[ids].sort_values("ws_rank").iloc[0] if ids else None
        year = f" by {t.year}" if pd.notna(t.year) else ""
        text = (f"Close the gap to the national target for {t.data_point_name}: {municipality} has {t.value:g} "
                f"{t.registry_unit}, the target is {'at least' if t.direction == 'at_least' else 'at most'} "
                f"{t.target:g}{year} ({t.instrument}).")
        if best is not None:
            text += f" The best-ranked theme that moves it is {best['theme_name']} (rank {best['ws_rank']})."
        basis = "simulated values" if t.source_type == "simulated" else "real values"
        key = category_key(*info.loc[t.data_point_id, ["dimension", "sub_dimension", "category"]])
        rows.append(_row("policy", text, best["service_area"] if best is not None else NO_OWNER,
                         best["cost_class"] if best is not None else "low", basis, "5: national target not met",
                         best.name if best is not None else "", key, t.data_point_id))
    return rows


def recommendations(a: Any, municipality: str, table: pd.DataFrame | None = None,
                    themes: pd.DataFrame | None = None, gaps: pd.DataFrame | None = None,
                    joint: pd.DataFrame | None = None, top: int = invest.TOP,
                    national: pd.DataFrame | None = None) -> pd.DataFrame:
    """The numbered recommendations of one municipality (rules 1–5 in order).

    ``table``: its ``invest.profile_table``; ``gaps``: its ``profile.data_gaps``; ``joint``:
    ``invest.joint_programmes`` of the panel; ``national``: its ``policy.national_status`` (rule 5
    is left out without it). The others are computed when not given.
    """
    from analysis import profile

    th = invest._themes(themes, a.catalogue)
    m = invest._resolve(a, municipality)
    table = invest.profile_table(a, m, th) if table is None else table
    gaps = profile.data_gaps(a, m) if gaps is None else gaps
    joint = invest.joint_programmes(a, themes=th) if joint is None else joint
    rows = [*invest_rules(table, m, top), *category_rules(a, m, table, th, top), *joint_rules(joint, m, table),
            *data_rules(gaps),
            *(national_rules(national, table, th, a.catalogue, m) if national is not None else [])]
    out = pd.DataFrame(rows, columns=COLUMNS[1:])
    out.insert(0, "number", range(1, len(out) + 1))
    return out
