"""A two-part action plan derived by rule from the recommendations: policy and regulatory measures, candidate projects.

UNECE's profiles and its financing guidelines close with an action plan; here it follows from
``analysis.recommend`` (docs/policy.md):

- **Part A, policy and regulatory measures**: every ``policy`` and ``data`` recommendation. Its
  lever follows the municipality's authority in the category (``data/raw/category_national_plans.csv``):
  full → a goal in the municipal master plan and a measure in its action programme; shared → the
  same plus an agreement with the co-responsible authority; limited → advocacy and cooperation with
  the authority that acts (several plans in one category: the most restricted authority). Data
  work is done through the data template and national statistics.
- **Part B, candidate projects**: every ``project`` and ``joint programme`` recommendation (one
  project per theme, naming every recommendation behind it), with its
  indicative cost class (no amounts: the project has no sourced cost figures), the financing
  instruments whose ``themes`` list the project's theme (``data/raw/financing_instruments.csv``,
  each with what it funds and its URL) and the theme's data points it should move (those of the
  municipality below the 95–100 % band, else all of them).

Owner, horizon and cost class are the recommendation's.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import paths, recommend, scoring, validation
from analysis.errors import InputError
from analysis.files import read_csv

INSTRUMENTS = paths.RAW / "financing_instruments.csv"
LEVERS = {
    "full": "a goal in the municipal master plan (community part) and a measure in its action programme and budget",
    "shared": "a goal and measure in the municipal plan, and an agreement with the co-responsible authority",
    "limited": "advocacy and cooperation with the authority that acts (the municipality lacks the authority alone)",
}
DATA_LEVER = "data collection: the U4SSC data template (python -m analysis template) and national statistics"
NO_CATEGORY_LEVER = LEVERS["full"]
TOP_BAND = scoring.BAND_LABELS[-1]
MEASURE_COLUMNS = ["measure", "recommendation_number", "kind", "action", "lever", "authority", "national_plans",
                   "owner", "horizon", "cost_class", "rests_on"]
PROJECT_COLUMNS = ["project", "recommendation_number", "theme_id", "theme_name", "owner", "horizon", "cost_class",
                   "financing", "financing_sources", "data_points", "n_data_points", "rests_on"]


def instruments_schema(theme_ids: set[str]):
    """The pandera schema of ``financing_instruments.csv``: every listed theme must exist, every row a source."""
    import pandera.pandas as pa

    check = validation.check
    nonempty = check(lambda s: s.fillna("").str.strip() != "", "empty; a value is required")
    themes = check(lambda s: s.fillna("").map(lambda t: all(x in theme_ids for x in _ids(t))),
                   f"names a theme not in investment_costs.csv; expected ids from {sorted(theme_ids)}")
    return pa.DataFrameSchema({
        "instrument_id": pa.Column(str, [nonempty], unique=True),
        **{c: pa.Column(str, [nonempty]) for c in ("name", "provider", "kind", "funds", "eligible", "themes_basis", "url")},
        "themes": pa.Column(str, [nonempty, themes]),
        "source_checked": pa.Column(str, [check(lambda s: s.isin(["yes", "secondary", "no"]),
                                                "expected yes, secondary or no")]),
    })


def _ids(text: str) -> list[str]:
    return [t.strip() for t in str(text).split(";") if t.strip()]


def load_instruments(path: Path | None = None, theme_ids: set[str] | None = None) -> pd.DataFrame:
    """The financing instruments, validated against the investment themes."""
    from analysis import invest

    path = Path(path or INSTRUMENTS)
    theme_ids = set(invest.load_costs()["theme_id"]) if theme_ids is None else theme_ids

    def read() -> pd.DataFrame:
        frame = read_csv(path, dtype=str)
        if frame.empty:
            raise InputError.single(path, "no data rows below the header")
        return validation.validate(frame, instruments_schema(theme_ids), path)

    return validation.once(path, tuple(sorted(theme_ids)), read)


def measures(recs: pd.DataFrame, plans: pd.DataFrame) -> pd.DataFrame:
    """Part A: the policy and data recommendations as measures with their lever and the national plans behind them."""
    keyed = plans.assign(key=[recommend.category_key(d, s, c) for d, s, c in
                              zip(plans["dimension"], plans["sub_dimension"], plans["category"])])
    by_key = {k: g for k, g in keyed.groupby("key")}
    rows = []
    for r in recs[recs["kind"].isin(["policy", "data"])].itertuples():
        linked = by_key.get(r.category)
        if r.kind == "data":
            lever, authority = DATA_LEVER, ""
        elif linked is None:
            lever, authority = NO_CATEGORY_LEVER, ""
        else:
            authority = max(linked["municipal_authority"], key=("full", "shared", "limited").index)
            lever = LEVERS[authority]
        rows.append({"recommendation_number": r.number, "kind": r.kind, "action": r.recommendation, "lever": lever,
                     "authority": authority,
                     "national_plans": "; ".join(linked["plan"].unique()) if linked is not None else "",
                     "owner": r.owner, "horizon": r.horizon, "cost_class": r.cost_class, "rests_on": r.rests_on})
    out = pd.DataFrame(rows, columns=MEASURE_COLUMNS[1:])
    out.insert(0, "measure", [f"A{i}" for i in range(1, len(out) + 1)])
    return out


def projects(recs: pd.DataFrame, themes: pd.DataFrame, baseline: pd.DataFrame,
             instruments: pd.DataFrame) -> pd.DataFrame:
    """Part B: the project and joint-programme recommendations with financing instruments and the data points to move."""
    names = themes.drop_duplicates("theme_id").set_index("theme_id")["theme_name"]
    band = baseline.set_index("data_point_id")["band"] if len(baseline) else pd.Series(dtype=object)
    dp_names = baseline.set_index("data_point_id")["data_point_name"] if len(baseline) else pd.Series(dtype=object)
    rows = []
    for r in recs[recs["kind"].isin(["project", "joint programme"])].itertuples():
        funds = instruments[instruments["themes"].map(lambda t: r.theme_id in _ids(t))]
        points = list(dict.fromkeys(themes.loc[themes["theme_id"] == r.theme_id, "data_point_id"]))
        behind = [p for p in points if p in band.index and band[p] not in (TOP_BAND, scoring.NO_DATA)]
        move = behind or points
        rows.append({"recommendation_number": r.number, "theme_id": r.theme_id,
                     "theme_name": names.get(r.theme_id, r.theme_id), "owner": r.owner, "horizon": r.horizon,
                     "cost_class": r.cost_class, "financing": "; ".join(funds["name"]) or "none listed",
                     "financing_sources": "; ".join(funds["url"]),
                     "data_points": "; ".join(str(dp_names.get(p, p)) for p in move), "n_data_points": len(move),
                     "rests_on": r.rests_on})
    out = pd.DataFrame(rows, columns=PROJECT_COLUMNS[1:])
    if len(out):  # a top theme that is also a joint programme is one project, named by both recommendations
        numbers = out.groupby("theme_id", sort=False)["recommendation_number"].agg(lambda n: "; ".join(map(str, n)))
        out = out.drop_duplicates("theme_id").assign(recommendation_number=lambda f: f["theme_id"].map(numbers))
    out = out.reset_index(drop=True)
    out.insert(0, "project", [f"B{i}" for i in range(1, len(out) + 1)])
    return out


@dataclass
class ActionPlan:
    """The two parts of one municipality's action plan."""

    municipality: str
    measures: pd.DataFrame
    projects: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"action_measures": self.measures, "action_projects": self.projects}

    def _repr_html_(self) -> str:
        from analysis import present

        sim = int(self.measures["rests_on"].eq("simulated values").sum() + self.projects["rests_on"].eq(
            "simulated values").sum())
        note = (f" {sim} of them rest on simulated values: confirm the gap with real data first." if sim else "")
        return "\n".join([
            f"<p>{html.escape(self.municipality)}: {len(self.measures)} policy and regulatory measures and "
            f"{len(self.projects)} candidate projects, each from a numbered recommendation.{html.escape(note)}</p>",
            present.key_table(self.measures, "action_measures", caption="Part A. Policy and regulatory measures"),
            present.key_table(self.projects, "action_projects", caption="Part B. Candidate projects"),
        ])


def plan(municipality: str, recs: pd.DataFrame, themes: pd.DataFrame, baseline: pd.DataFrame,
         plans: pd.DataFrame, instruments: pd.DataFrame | None = None) -> ActionPlan:
    """One municipality's action plan from its recommendations, the themes, its baseline and the national plans."""
    instruments = load_instruments() if instruments is None else instruments
    return ActionPlan(municipality, measures(recs, plans), projects(recs, themes, baseline, instruments))
