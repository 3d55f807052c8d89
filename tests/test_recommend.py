"""Recommendations by rule: each rule on a small hand-made table, then the numbered list for a real profile."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from analysis import invest, recommend


def table(rows: list[tuple]) -> pd.DataFrame:
    """(theme_id, rank, evidence, cost_class, service_area) rows as a profile table."""
    return pd.DataFrame([{"theme_id": t, "theme_name": f"Theme {t}", "status": invest.RANKED, "ws_rank": r,
                          "evidence": e, "cost_class": c, "service_area": s, "stability": "stable in top 3",
                          "driver": "need", "driven_by": f"its need ({t})", "drag": "cost",
                          "held_back_by": f"its cost ({c})"} for t, r, e, c, s in rows])


TABLE = table([("A", 1, 0.9, "high", "Water"), ("B", 2, 0.2, "medium", "Transport"),
               ("C", 3, 0.5, "low", "ICT"), ("D", 4, 1.0, "low", "Parks"), ("E", 5, 1.0, "medium", "Health")])


def test_rule_1_invests_in_top_themes_resting_on_real_values_and_verifies_the_others():
    rows = pd.DataFrame(recommend.invest_rules(TABLE, "Bærum"))
    assert rows["kind"].tolist() == ["project", "data", "project"]  # D (rank 4) is outside the top 3
    assert rows["owner"].tolist() == ["Water", "Transport", "ICT"]
    h = recommend.HORIZONS
    assert rows["horizon"].tolist() == [h["high"], h["low"], h["low"]]
    assert rows["rests_on"].tolist() == ["real values", "simulated values", "real values"]  # 0.5 counts as real
    assert rows.at[0, "recommendation"] == ("Invest in Theme A (rank 1, stable in top 3), chiefly for its need (A), "
                                            "despite its cost (high).")
    second = rows.at[1, "recommendation"]
    assert "80 % of its need rests on simulated values" in second and "Bærum" in second


def fake_assessment() -> SimpleNamespace:
    cats = pd.DataFrame({
        "municipality": "Bærum", "dimension": "Economy",
        "category": ["Covered", "Moved later", "Nobody", "Fine", "Simulated"],
        "u4ssc_band": ["0–33 %", "0–33 %", "0–33 %", "33–66 %", "0–33 %"],
        "u4ssc_score": [25.0, 30.0, 20.0, 50.0, 31.0], "n_scored": [2, 2, 1, 2, 3], "n_simulated": [0, 1, 0, 0, 2]})
    cat = pd.DataFrame({"data_point_id": ["d1", "d2", "d3", "d4", "d5"],
                        "category": ["Covered", "Moved later", "Nobody", "Fine", "Simulated"]})
    return SimpleNamespace(levels={"category": cats}, catalogue=cat)


def test_rule_2_reviews_low_categories_no_top_theme_moves():
    themes = pd.DataFrame({"theme_id": ["A", "E", "D"], "data_point_id": ["d1", "d2", "d5"]})
    rows = pd.DataFrame(recommend.category_rules(fake_assessment(), "Bærum", TABLE, themes))
    # lowest score first; 'Covered' is moved by top theme A; 'Fine' is not in the lowest band
    heads = [r.split(" (")[0] for r in rows["recommendation"]]
    assert heads == ["Review Nobody", "Review Moved later", "Review Simulated"]
    assert rows["owner"].tolist() == [recommend.NO_OWNER, "Health", "Parks"]
    assert rows["cost_class"].tolist() == ["", "medium", "low"]
    assert rows["rests_on"].tolist() == ["real values", "real values", "simulated values"]  # 1 of 2 is not a majority
    assert "Theme E (rank 5)" in rows.at[1, "recommendation"]


def test_rule_3_joins_programmes_with_their_basis():
    joint = pd.DataFrame({"theme_id": ["A", "B", "C"], "theme_name": ["Theme A", "Theme B", "Theme C"],
                          "municipalities": ["Bærum; Ålesund", "Asker; Bærum; Tromsø", "Asker; Tromsø"],
                          "n_municipalities": [2, 3, 2],
                          "basis": ["real values", "rests on simulated values", "real values"]})
    rows = pd.DataFrame(recommend.joint_rules(joint, "Bærum", TABLE))
    assert rows["recommendation"].str.extract(r"on (Theme \w)")[0].tolist() == ["Theme A", "Theme B"]
    assert "with Ålesund:" in rows.at[0, "recommendation"] and "with Asker, Tromsø:" in rows.at[1, "recommendation"]
    assert rows["rests_on"].tolist() == ["real values", "simulated values"]
    assert "confirm it first" in rows.at[1, "recommendation"] and "confirm" not in rows.at[0, "recommendation"]


def test_rule_4_plans_data_collection_for_core_data_points():
    gaps = pd.DataFrame({"data_point_name": ["Water loss", "Noise", "Green area", "Patents"],
                         "core_or_advanced": ["core", "advanced", "core", "core"]})
    (row,) = recommend.data_rules(gaps)
    assert row["recommendation"].startswith("Plan data collection for 3 core data points")
    assert "first Water loss; Green area; Patents." in row["recommendation"]
    assert recommend.data_rules(gaps[gaps["core_or_advanced"] == "advanced"]) == []


@pytest.fixture(scope="module")
def real():
    from analysis import assess, params

    return assess.assess(params.load("Ålesund"))


def test_numbered_recommendations_for_a_real_profile(real):
    table = invest.profile_table(real, "Karmøy")
    joint = invest.joint_programmes(real)
    rec = recommend.recommendations(real, "Karmøy", table=table, joint=joint)
    assert rec["number"].tolist() == list(range(1, len(rec) + 1))
    assert rec["owner"].str.len().gt(0).all() and rec["horizon"].str.len().gt(0).all()
    top = table[(table["status"] == invest.RANKED) & (table["ws_rank"] <= 3)]
    first = rec[rec["rule"].str.startswith("1:")]
    assert len(first) == len(top)
    for r, t in zip(first.itertuples(), top.sort_values("ws_rank").itertuples()):
        assert t.theme_name in r.recommendation
        assert r.rests_on == ("real values" if t.evidence >= 0.5 else "simulated values")
    mine = joint[joint["municipalities"].str.split("; ").map(lambda ms: "Karmøy" in ms)]
    assert (rec["kind"] == "joint programme").sum() == len(mine)
    assert rec["rule"].str.startswith("4:").sum() == 1  # rule 5 needs the national targets, not given here
    assert rec.iloc[-1]["rule"].startswith("4:")
