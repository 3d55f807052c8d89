"""Policy alignment, the action plan and the VLR annex on hand-computed examples, then on a real profile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import action, catalogue, invest, policy, recommend, scoring, vlr
from analysis.errors import InputError

RECYCLED, WATER_LOSS, PM25, GHG = "EN: EN: WA: 1C/RECYCLED", "EC: I: WS: 3C", "EN: EN: AQ: 1C/PM2.5", "EN: EN: AQ: 2C"


@pytest.fixture(scope="module")
def cat() -> pd.DataFrame:
    return catalogue.load()


def test_three_levels_map_onto_the_u4ssc_bands_higher_is_better():
    # desired 20, lowest acceptable 10, not acceptable 5
    x = np.array([0.0, 5, 7.5, 10, 15, 19.99, 20, 25])
    n = len(x)
    got = policy.three_level_achievement(x, np.full(n, 20.0), np.full(n, 10.0), np.full(n, 5.0),
                                         np.full(n, "higher_is_better"))
    # 0 beyond not acceptable; halfway (7.5) 66·0.5 = 33; acceptable 66; 15 is half of 10→20: 66 + 29·0.5 = 80.5;
    # 19.99 is within 1 % of the span 10 of desired, so it counts as desired (100)
    assert got == pytest.approx([0, 0, 33, 66, 80.5, 100, 100, 100])
    assert scoring.points(got).tolist() == [1, 1, 2, 3, 3, 4, 4, 4]


def test_three_levels_lower_is_better_and_the_level_reached():
    # water loss: desired 20 %, lowest acceptable 25 %, not acceptable 35 %
    x = np.array([15.0, 20, 22.5, 25, 30, 35, 40])
    args = (np.full(7, 20.0), np.full(7, 25.0), np.full(7, 35.0), np.full(7, "lower_is_better"))
    got = policy.three_level_achievement(x, *args)
    # 22.5 is half way from 25 to 20: 66 + 14.5; 30 is half way from 35 to 25: 66 · 0.5
    assert got == pytest.approx([100, 100, 80.5, 66, 33, 0, 0])
    assert scoring.band(got).tolist() == ["95–100 %", "95–100 %", "66–95 %", "66–95 %", "33–66 %", "0–33 %", "0–33 %"]
    assert policy.level_reached(x, *args).tolist() == ["desired", "desired", "acceptable", "acceptable",
                                                       "below acceptable", "not acceptable", "not acceptable"]


def national(rows: list[tuple]) -> pd.DataFrame:
    """(target_id, data_point_id, target, direction, comparable) rows as a national targets table."""
    return pd.DataFrame([{"target_id": t, "data_point_id": d, "target": v, "unit": "u", "year": 2030, "direction": r,
                          "comparable": c, "instrument": "law", "wording": "w", "source": "s", "source_checked": "yes",
                          "note": ""} for t, d, v, r, c in rows])


def baseline(rows: list[tuple]) -> pd.DataFrame:
    """(data_point_id, value, source_type) rows as a profile baseline."""
    return pd.DataFrame([{"data_point_id": d, "data_point_name": d, "category": "c", "value": v, "registry_unit": "u",
                          "year": 2022, "source_type": s, "band": "33–66 %"} for d, v, s in rows])


def test_national_target_met_or_not_met():
    targets = national([("rec", RECYCLED, 55.0, "at_least", "yes"), ("air", PM25, 8.0, "at_most", "yes"),
                        ("air2", PM25, 7.9, "at_most", "yes"), ("ghg", GHG, 55.0, "reduce_by", "no"),
                        ("loss", WATER_LOSS, 25.0, "at_most", "yes")])
    base = baseline([(RECYCLED, 40.0, "published"), (PM25, 8.05, "simulated"), (GHG, 3.3, "published")])
    got = policy.national_status(base, targets).set_index("target_id")
    # 40 < 55; 8.05 is within 1 % of 8 (0.08); 8.05 > 7.9 + 0.079; a cut from 1990 is no level; no water-loss value
    assert got["status"].to_dict() == {"rec": "not met", "air": "met", "air2": "not met", "ghg": "not comparable",
                                       "loss": "no value"}
    assert got.at["air", "source_type"] == "simulated"


def test_the_repository_tables_load_and_cover_every_category(cat):
    n = policy.load_national_targets(cat=cat)
    assert n["target_id"].is_unique and set(n["source_checked"]) <= set(policy.CHECKED)
    assert n.loc[n["direction"] == "reduce_by", "comparable"].eq("no").all()
    plans = policy.load_category_plans(cat=cat)
    assert set(zip(cat["dimension"], cat["sub_dimension"], cat["category"])) <= set(
        zip(plans["dimension"], plans["sub_dimension"], plans["category"]))
    assert set(action.load_instruments()["kind"]) >= {"state grant", "green loan", "EU programme"}


def test_a_cut_from_a_base_year_cannot_be_marked_comparable(tmp_path, cat):
    text = policy.NATIONAL_TARGETS.read_text(encoding="utf-8").splitlines()
    text[1] = text[1].replace(",reduce_by,no,", ",reduce_by,yes,")
    path = tmp_path / "national_targets.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        policy.load_national_targets(path, cat)
    assert "row 2" in str(err.value) and "comparable" in str(err.value)


def test_own_targets_give_bands_and_unmeasured_goals(tmp_path, cat):
    path = tmp_path / "asker.csv"
    path.write_text("municipality,data_point_id,goal,desired,lowest_acceptable,not_acceptable,year,source\n"
                    f"Asker,{WATER_LOSS},Less water lost,20,25,35,2030,scorecard p. 2\n"
                    f"Asker,{RECYCLED},Recycle more,\"65,5\",55,40,,scorecard p. 3\n"
                    "Asker,,More young people in work,,,,2028,scorecard p. 4\n", encoding="utf-8")
    targets = policy.read_city_targets(path, cat)
    assert targets["kommunenummer"].unique().tolist() == ["3203"]
    assert targets.loc[1, "desired"] == 65.5  # decimal comma read as a person means it
    base = baseline([(WATER_LOSS, 30.0, "city-supplied"), (RECYCLED, 70.0, "simulated")])
    own = policy.own_target_bands(base, targets).set_index("data_point_id")
    assert own.at[WATER_LOSS, "own_achievement"] == pytest.approx(33.0)
    assert own.at[WATER_LOSS, "own_band"] == "33–66 %" and own.at[WATER_LOSS, "level_reached"] == "below acceptable"
    assert own.at[RECYCLED, "own_band"] == "95–100 %" and own.at[RECYCLED, "source_type"] == "simulated"
    assert policy.unmeasured_goals(targets)["goal"].tolist() == ["More young people in work"]
    written = policy.ingest_city_targets(path, tmp_path / "out", cat)
    assert [p.name for p in written] == ["3203-asker.csv"]
    assert len(policy.load_city_targets("3203-asker", tmp_path / "out", cat)) == 3
    semicolon = tmp_path / "asker-semikolon.csv"  # the same file as a spreadsheet in a Norwegian locale saves it
    semicolon.write_text(path.read_text(encoding="utf-8").replace(",", ";").replace('"65;5"', "65,5"),
                         encoding="utf-8-sig")
    pd.testing.assert_frame_equal(policy.read_city_targets(semicolon, cat), targets)


def ranked_table(rows: list[tuple]) -> pd.DataFrame:
    """(theme_id, rank, cost_class, service_area) rows as a ranked profile table."""
    return pd.DataFrame([{"theme_id": t, "theme_name": f"Theme {t}", "status": invest.RANKED, "ws_rank": r,
                          "cost_class": c, "service_area": s} for t, r, c, s in rows])


def test_rule_5_closes_gaps_to_national_targets_not_met(cat):
    status = pd.DataFrame([
        {"status": "not met", "data_point_id": WATER_LOSS, "data_point_name": "Water Supply Loss", "value": 30.0,
         "registry_unit": "%", "direction": "at_most", "target": 25.0, "year": 2033, "instrument": "goals",
         "source_type": "published"},
        {"status": "met", "data_point_id": PM25, "data_point_name": "PM2.5", "value": 5.0, "registry_unit": "µg/m3",
         "direction": "at_most", "target": 8.0, "year": pd.NA, "instrument": "4.6", "source_type": "published"},
        {"status": "not met", "data_point_id": RECYCLED, "data_point_name": "Recycled", "value": 40.0,
         "registry_unit": "%", "direction": "at_least", "target": 55.0, "year": 2025, "instrument": "EEA",
         "source_type": "simulated"}])
    themes = pd.DataFrame({"theme_id": ["W1", "W2"], "data_point_id": [WATER_LOSS, WATER_LOSS]})
    table = ranked_table([("W1", 4, "high", "Water"), ("W2", 2, "medium", "Water and wastewater")])
    rows = pd.DataFrame(recommend.national_rules(status, table, themes, cat, "Bærum"))
    assert len(rows) == 2  # the met target gives none
    first, second = rows.iloc[0], rows.iloc[1]
    assert first["recommendation"].startswith("Close the gap to the national target for Water Supply Loss: Bærum has "
                                              "30 %, the target is at most 25 by 2033 (goals).")
    assert (first["owner"], first["cost_class"], first["theme_id"]) == ("Water and wastewater", "medium", "W2")
    assert first["category"] == "Economy / Infrastructure / Water and Sanitation"
    assert (second["owner"], second["cost_class"], second["rests_on"]) == (recommend.NO_OWNER, "low",
                                                                          "simulated values")


def recs(rows: list[tuple]) -> pd.DataFrame:
    """(number, kind, theme_id, category) rows as numbered recommendations."""
    return pd.DataFrame([{"number": n, "kind": k, "recommendation": f"rec {n}", "owner": "o", "horizon": "h",
                          "cost_class": "low", "rests_on": "real values", "theme_id": t, "category": c,
                          "data_point_id": ""} for n, k, t, c in rows])


PLANS = pd.DataFrame({"dimension": ["E", "E", "E"], "sub_dimension": ["S", "S", "T"], "category": ["A", "A", "B"],
                      "plan": ["Plan 1", "Plan 2", "Plan 3"], "municipal_authority": ["full", "shared", "limited"]})


def test_action_plan_measures_follow_the_authority_and_projects_their_theme():
    r = recs([(1, "project", "t1", ""), (2, "policy", "t2", "E / S / A"), (3, "policy", "", "E / T / B"),
              (4, "data", "", ""), (5, "joint programme", "t1", ""), (6, "joint programme", "t3", "")])
    m = action.measures(r, PLANS)
    assert m["measure"].tolist() == ["A1", "A2", "A3"] and m["recommendation_number"].tolist() == [2, 3, 4]
    # two plans in category A (full, shared): the most restricted authority; B is limited; data work has its lever
    assert m["lever"].tolist() == [action.LEVERS["shared"], action.LEVERS["limited"], action.DATA_LEVER]
    assert m.at[0, "national_plans"] == "Plan 1; Plan 2"
    themes = pd.DataFrame({"theme_id": ["t1", "t1", "t3"], "theme_name": ["One", "One", "Three"],
                           "data_point_id": ["d1", "d2", "d3"]})
    base = pd.DataFrame({"data_point_id": ["d1", "d2", "d3"], "data_point_name": ["D one", "D two", "D three"],
                         "band": ["95–100 %", "0–33 %", "95–100 %"]})
    instruments = pd.DataFrame({"name": ["Grant", "Loan"], "url": ["u1", "u2"], "themes": ["t1; t2", "t2"]})
    p = action.projects(r, themes, base, instruments)
    assert p["project"].tolist() == ["B1", "B2"]  # t1 is one project for recommendations 1 and 5
    assert p["recommendation_number"].tolist() == ["1; 5", "6"]
    assert p.at[0, "financing"] == "Grant" and p.at[1, "financing"] == "none listed"
    assert p.at[0, "data_points"] == "D two"  # the data point below the top band; t3 has none below, so all
    assert p.at[1, "data_points"] == "D three"


def test_vlr_rows_per_goal_with_actions():
    cat = pd.DataFrame({"data_point_id": ["d1", "d2"], "data_point_name": ["D one", "D two"],
                        "sdg_targets": ["6.4;11.6", "11.2"], "sdg_target_list": [("6.4", "11.6"), ("11.2",)]})
    base = pd.DataFrame({"data_point_id": ["d1"], "data_point_name": ["D one"], "value": [3.0], "registry_unit": ["%"],
                         "year": [2022], "band": ["0–33 %"], "achievement": [10.0], "source_type": ["simulated"]})
    trends = pd.DataFrame({"data_point_id": ["d1"], "trend": ["decreasing"]})
    nat = pd.DataFrame({"data_point_id": ["d1"], "status": ["not met"], "target": [25.0], "target_unit": ["%"],
                        "year": [2033]})
    points = vlr.data_point_rows(cat, base, trends, nat)
    assert points[["sdg_goal", "data_point_id"]].values.tolist() == [[6, "d1"], [11, "d1"], [11, "d2"]]
    assert points.at[0, "national_target"] == "not met (25 %, 2033)"
    assert points.at[2, "source_type"] == "no value"
    r = recs([(1, "project", "t", ""), (2, "policy", "", "")])
    r.loc[1, "data_point_id"] = "d2"
    themes = pd.DataFrame({"theme_id": ["t"], "data_point_id": ["d1"]})
    goals = vlr.goal_rows(points, pd.DataFrame({"sdg_goal": [6], "colour": ["red"]}), r, cat, themes, "Bodø")
    assert len(goals) == 17 and goals.set_index("sdg_goal").at[6, "colour"] == "red"
    g = goals.set_index("sdg_goal")
    assert g.at[6, "actions"] == "1" and g.at[11, "actions"] == "1; 2" and g.at[1, "actions"] == ""
    assert (g.at[11, "n_national_not_met"], g.at[11, "n_simulated"]) == (1, 1)
    assert "1 of the 1 values are simulated" in g.at[11, "progress"]
    assert g.at[1, "progress"].startswith("No U4SSC data point is linked to SDG 1")
    doc = vlr.Annex("Bodø", goals, points, mostly_simulated=True).html()
    assert "<script" not in doc and "<h2>SDG 11: Sustainable cities and communities</h2>" in doc
    assert "Most values below are simulated" in doc and doc.count("<table") == 2


@pytest.fixture(scope="module")
def prof():
    from analysis import profile

    return profile.build(None, None, municipality="Ålesund")


@pytest.mark.slow
def test_a_real_profile_has_policy_action_plan_and_vlr(prof):
    nat = prof.policy.national
    assert set(nat["status"]) <= {policy.MET, policy.NOT_MET, policy.NO_VALUE, policy.NOT_COMPARABLE}
    not_met = int(nat["status"].eq(policy.NOT_MET).sum())
    assert (prof.recommendations["rule"] == "5: national target not met").sum() == not_met
    plan = prof.action_plan
    kinds = prof.recommendations["kind"]
    assert len(plan.measures) == kinds.isin(["policy", "data"]).sum()
    assert len(plan.projects) == prof.recommendations.loc[kinds.isin(["project", "joint programme"]),
                                                          "theme_id"].nunique()
    assert len(prof.vlr.goals) == 17
    for name in ("national_targets", "category_plans", "action_measures", "action_projects", "vlr_goals"):
        assert name in prof.tables
    assert "Part A. Policy and regulatory measures" in plan._repr_html_()


def _fill_targets_sheet(path, rows: dict[str, list], extra: list | None = None) -> None:
    """Fill rows of the template's sheet 'targets' as an officer would from the printed scorecard (by data point id),
    and add a goal no data point measures on a row of its own."""
    from openpyxl import load_workbook
    wb = load_workbook(path)
    ws = wb[policy.TARGETS_SHEET]
    header = [c.value for c in ws[1]]
    col = {name: i + 1 for i, name in enumerate(header)}
    for r in range(2, ws.max_row + 1):
        dp = ws.cell(r, col["data_point_id"]).value
        for name, value in zip(("goal", *policy.LEVELS, "year", "source"), rows.get(dp, [])):
            ws.cell(r, col[name], value)
    if extra:
        ws.append([extra[0], None, *extra[1:]])
    wb.save(path)


def test_own_targets_come_through_the_template_workbook(tmp_path, cat):
    from analysis import ingest
    book = ingest.write_template("Asker", tmp_path / "Asker.xlsx")
    _fill_targets_sheet(book, {WATER_LOSS: ["Less water lost", 20, "25 %", "35%", 2030, "Asker scorecard 2023, p. 2"],
                               RECYCLED: ["Recycle more", "65,5", 55, 40, None, "Asker scorecard 2023, p. 3"]},
                        extra=["Asker", "More young people in work", None, None, None, 2028, "scorecard p. 4"])
    from openpyxl import load_workbook
    wb = load_workbook(book)  # the officer types "20 %" for water loss: Excel keeps 0.2 in a percent format
    ws = wb[policy.TARGETS_SHEET]
    col = {c.value: c.column for c in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col["data_point_id"]).value == WATER_LOSS)
    ws.cell(row, col["desired"]).value, ws.cell(row, col["desired"]).number_format = 0.2, "0%"
    wb.save(book)
    result = ingest.ingest(book, out_dir=tmp_path / "out")
    assert result.accepted.empty and len(result.targets) == 3
    water = result.targets.set_index("data_point_id").loc[WATER_LOSS]
    assert water["desired"] == 20  # as the sheet shows it
    assert (water["lowest_acceptable"], water["not_acceptable"]) == (25, 35)  # typed as text with the unit, '25 %'
    stored = policy.load_city_targets("3203-asker", tmp_path / "out" / "targets", cat).set_index("goal")
    assert stored.loc["Recycle more", "desired"] == 65.5 and stored.loc["Less water lost", "year"] == 2030
    assert policy.unmeasured_goals(stored.reset_index())["goal"].tolist() == ["More young people in work"]
    assert policy.ingest_city_targets(book, tmp_path / "cli", cat)[0].name == "3203-asker.csv"  # targets-ingest too
    empty = ingest.write_template("Asker", tmp_path / "empty.xlsx")  # a sheet left empty is no error and no file
    assert ingest.ingest(empty, out_dir=tmp_path / "none").targets.empty
    assert not (tmp_path / "none" / "targets").exists()


def test_bad_targets_in_the_workbook_name_sheet_row_and_column_and_nothing_is_written(tmp_path, cat):
    from analysis import ingest
    book = ingest.write_template("Asker", tmp_path / "Asker.xlsx")
    _fill_targets_sheet(book, {WATER_LOSS: ["Less water lost", 35, 25, 20, 2030, "Asker scorecard 2023, p. 2"]})
    with pytest.raises(InputError) as info:
        ingest.ingest(book, out_dir=tmp_path / "out")
    problem = next(p for p in info.value.problems if p.column == "lowest_acceptable")
    assert problem.file == f"{book}, sheet 'targets'" and "wrong order" in problem.message
    row = next(r for r in range(2, 200) if _cell(book, r, "data_point_id") == WATER_LOSS)
    assert problem.row == row
    assert not (tmp_path / "out").exists()


def _cell(path, row: int, column: str):
    from openpyxl import load_workbook
    ws = load_workbook(path, read_only=True)[policy.TARGETS_SHEET]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    return next(ws.iter_rows(min_row=row, max_row=row, values_only=True))[header.index(column)]
