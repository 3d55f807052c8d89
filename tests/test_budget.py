"""Budget alignment: the function list and mapping, the budget sheet, simulated budgets and the alignment rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis import budget, catalogue, ingest
from analysis.errors import InputError


def test_every_function_has_a_source_and_says_whether_it_was_checked():
    functions = budget.load_functions()
    assert functions["function_code"].is_unique and len(functions) >= 50
    assert functions["source_checked"].isin(budget.CHECKED).all()
    assert set(functions["service_area"]) == set(budget.ASSUMED_SHARES)
    assert {"201", "202", "254", "340", "345", "350", "353", "355", "357", "360", "370", "332", "330"} \
        <= set(functions["function_code"])


def test_mapping_weights_sum_to_one_and_goals_follow_the_catalogue():
    mapping = budget.load_map()
    assert mapping.groupby("function_code")["weight"].sum().sub(1).abs().max() < 1e-12
    assert mapping["basis"].eq("project's reading").all()
    cat = catalogue.load()
    links = catalogue.sdg_links(cat).merge(cat[["data_point_id", "category"]], on="data_point_id")
    mapped = mapping.dropna(subset=["sdg_goal"])
    for row in mapped.itertuples():
        assert row.sdg_goal in set(links.loc[links["category"] == row.category, "sdg_goal"]), row
    # the rule's examples: schools are education (goal 4), home care health (3), a split function has two rows
    assert mapping.loc[mapping["function_code"] == "202", "sdg_goal"].tolist() == [4]
    assert mapping.loc[mapping["function_code"] == "254", "sdg_goal"].tolist() == [3]
    assert sorted(mapping.loc[mapping["function_code"] == "357", "weight"]) == [0.5, 0.5]


def test_mapping_refuses_weights_not_summing_to_one_and_unlinked_goals(tmp_path):
    mapping = pd.read_csv(Path(budget.paths.RAW) / budget.MAP, dtype=str, keep_default_na=False)
    first = mapping.index[mapping["function_code"] == "202"][0]
    mapping.loc[first, "weight"] = "0.8"
    mapping.loc[mapping["function_code"] == "254", "sdg_goal"] = "14"
    bad = tmp_path / "map.csv"
    mapping.to_csv(bad, index=False)
    with pytest.raises(InputError) as info:
        budget.load_map(path=bad)
    found = {(p.row, p.column) for p in info.value.problems}
    rows_202 = [int(i) + 2 for i in mapping.index[mapping["function_code"] == "202"]]
    rows_254 = [int(i) + 2 for i in mapping.index[mapping["function_code"] == "254"]]
    assert {(r, "weight") for r in rows_202} <= found  # every row of 202 sums to 0.8 + the others, not 1
    assert {(r, "sdg_goal") for r in rows_254} <= found  # goal 14 is not a goal of 254's category
    assert {p.column for p in info.value.problems} == {"weight", "sdg_goal"}
    assert "sum to 1" in str(info.value) and "expected a goal" in str(info.value)


def test_goal_spending_splits_by_weight_and_divides_by_the_whole_budget():
    mapping = pd.DataFrame({"function_code": ["A", "B", "B", "C"], "sdg_goal": pd.array([4, 6, 12, pd.NA], "Int64"),
                            "weight": [1.0, 0.5, 0.5, 1.0]})
    spend = pd.DataFrame({"function_code": ["A", "B", "C"], budget.AMOUNT: [600.0, 200.0, 200.0]})
    out = budget.goal_spending(spend, mapping).set_index("sdg_goal")
    # A: 600 to goal 4; B: 100 to goal 6 and 100 to goal 12; C (no category) counts in the total only
    assert out.loc[4, "spending_nok"] == 600 and out.loc[6, "spending_nok"] == 100
    assert out.loc[4, "spending_share"] == pytest.approx(60.0)
    assert out.loc[12, "spending_share"] == pytest.approx(10.0)
    assert out["spending_share"].sum() == pytest.approx(80.0)
    assert len(out) == 17 and out.loc[1, "spending_nok"] == 0


def test_the_median_rule_names_both_corners():
    goals = pd.DataFrame({"sdg_goal": [1, 2, 3, 4, 5], "mean_achievement": [90.0, 80.0, 70.0, 60.0, np.nan],
                          "n_scored": [1, 1, 1, 1, 0], "n_simulated": [0, 0, 0, 0, 0]})
    spending = pd.DataFrame({"sdg_goal": [1, 2, 3, 4, 5, 6], "spending_share": [40.0, 30.0, 20.0, 0.0, 5.0, 0.0],
                             "spending_nok": 0.0, "functions": ""})
    table = budget.alignment(goals, spending, fundable={1, 2, 3, 4, 5}).set_index("sdg_goal")
    # gaps 10, 20, 30, 40 (median 25); shares 40, 30, 20, 0 (median 25); goal 5 has no gap, goal 6 no function
    assert table["gap"].loc[[1, 2, 3, 4]].tolist() == [10.0, 20.0, 30.0, 40.0]
    assert table.attrs["median_gap"] == 25 and table.attrs["median_share"] == 25
    assert table.loc[[3, 4], "alignment"].tolist() == ["large gap, little spending"] * 2
    assert table.loc[[1, 2], "alignment"].tolist() == ["small gap, much spending"] * 2
    assert table.at[5, "alignment"] == "" and table.at[6, "alignment"] == budget.NO_FUNCTION


def test_a_share_at_the_median_counts_as_little_spending():
    goals = pd.DataFrame({"sdg_goal": [1, 2, 3], "mean_achievement": [50.0, 60.0, 70.0], "n_scored": 1,
                          "n_simulated": 0})
    spending = pd.DataFrame({"sdg_goal": [1, 2, 3], "spending_share": [10.0, 10.0, 30.0], "spending_nok": 0.0,
                             "functions": ""})
    table = budget.alignment(goals, spending, fundable={1, 2, 3}).set_index("sdg_goal")
    # median gap 40: goal 1 (gap 50) is large; median share 10: goal 1's 10 is little
    assert table.at[1, "alignment"] == "large gap, little spending"
    assert table.at[3, "alignment"] == "small gap, much spending" and table.at[2, "alignment"] == ""


def test_simulated_budget_is_seeded_labelled_and_independent_of_other_municipalities():
    one = budget.simulate("Ålesund", 2020, seed=7)
    assert one.equals(budget.simulate("Ålesund", 2020, seed=7))
    assert not one[budget.AMOUNT].equals(budget.simulate("Ålesund", 2020, seed=8)[budget.AMOUNT])
    assert not one[budget.AMOUNT].equals(budget.simulate("Tromsø", 2020, seed=7)[budget.AMOUNT])
    assert one["source_type"].eq("simulated").all() and one["source"].str.contains("seed=7").all()
    assert (one[budget.AMOUNT] >= 0).all() and (one[budget.AMOUNT] % 1000 == 0).all()


def test_a_supplied_budget_is_never_mixed_with_a_simulated_one():
    supplied = pd.DataFrame({"municipality": ["Bærum"] * 3, "function_code": ["202", "202", "254"],
                             "year": [2019, 2020, 2020], budget.AMOUNT: [1.0, 2.0, 3.0],
                             "source_type": "city-supplied"})
    chosen = budget.for_municipality(supplied, "Bærum", include_simulated=True, year=2020, seed=1)
    assert chosen["year"].eq(2020).all() and chosen["source_type"].eq("city-supplied").all() and len(chosen) == 2
    other = budget.for_municipality(supplied, "Asker", include_simulated=True, year=2020, seed=1)
    assert other["source_type"].eq("simulated").all()
    assert budget.for_municipality(supplied, "Asker", include_simulated=False, year=2020, seed=1).empty


def test_alignment_result_marks_a_simulated_budget_in_table_text_and_figure():
    goals = pd.DataFrame({"sdg_goal": range(1, 18), "mean_achievement": np.linspace(20, 90, 17), "n_scored": 2,
                          "n_simulated": 0})
    result = budget.build(goals, budget.simulate("Bærum", 2020, seed=3), "Bærum")
    page = result._repr_html_()
    assert result.simulated and result.table["source_type"].eq("simulated").all()
    assert "Simulated budget for 2020" in page and 'class="u4ssc-sim"' in page
    assert page.count('<tr class="u4ssc-sim"') == 17
    assert result.figure.alt.startswith("Scatter plot of spending share")
    fig = budget.plot(result.table, "Bærum", simulated=True)
    ax = fig.axes[0]
    assert "%" in ax.get_ylabel() and "percentage points" in ax.get_xlabel() and "SIMULATED" in ax.get_title()


def test_template_has_a_budget_sheet_with_checks_and_its_rows_are_ingested(tmp_path):
    target = ingest.write_template("Bærum", tmp_path / "Bærum.xlsx")
    wb = load_workbook(target)
    ws = wb["budget"]
    assert [c.value for c in ws[1]] == list(budget.TEMPLATE_COLUMNS)
    rules = {str(dv.sqref).split(":")[0][0]: dv for dv in ws.data_validations.dataValidation}
    assert rules["B"].type == "list" and rules["B"].formula1.startswith("functions!")
    assert rules["D"].type == "whole" and (rules["D"].formula1, rules["D"].formula2) == \
        tuple(map(str, budget.accepted_years()))
    assert rules["E"].type == "decimal" and rules["E"].operator == "greaterThanOrEqual"
    ws["D3"], ws["E3"], ws["F3"] = 2020, "95 424 000", "Bærum kommune, årsregnskap 2020, s. 12"
    wb.save(target)
    result = ingest.ingest(target, out_dir=tmp_path / "out")
    assert len(result.budget) == 1 and result.accepted.empty
    stored = pd.read_csv(tmp_path / "out" / "budget" / "3201-baerum.csv", dtype={"function_code": str})
    assert stored.loc[0, "function_code"] == "110" and stored.loc[0, budget.AMOUNT] == 95_424_000
    assert stored.loc[0, "ingested_from"] == "Bærum.xlsx, sheet 'budget', row 3"
    assert stored.loc[0, "source_type"] == "city-supplied"
    loaded = budget.load_supplied(tmp_path / "out" / "budget")
    assert loaded["municipality"].tolist() == ["Bærum"]


def test_a_budget_csv_is_ingested_as_the_sheet_is(tmp_path):
    """A budget typed from a printed account into a spreadsheet and saved as CSV in a Norwegian locale
    (semicolons, decimal comma, spaces between thousands), with the template's columns; Tromsø named by name
    and by its 2023 number; a function row left empty, as the template lists every function."""
    src = tmp_path / "Tromsø budsjett.csv"
    src.write_text("municipality;function_code;function_name;year;net_operating_expenditure_nok;source;comment\n"
                   "Tromsø;202;Grunnskole;2023;1 234 567,50;Tromsø kommune, årsregnskap 2023, s. 40;\n"
                   "5401;254;Helse- og omsorgstjenester;2023;98 765 432;Tromsø kommune, årsregnskap 2023, s. 41;\n"
                   "Tromsø;110;Kontroll og revisjon;;;;\n", encoding="utf-8")
    assert budget.is_budget_csv(src)
    result = ingest.ingest(src, out_dir=tmp_path / "out")
    assert result.accepted.empty and len(result.budget) == 2
    stored = pd.read_csv(tmp_path / "out" / "budget" / "5501-tromso.csv", dtype=str)
    assert stored["function_code"].tolist() == ["202", "254"]
    assert stored["kommunenummer"].tolist() == ["5501", "5501"]  # 5401 (its number in 2023) maps to its successor
    assert stored["reported_kommunenummer"].tolist()[1] == "5401"
    assert stored[budget.AMOUNT].astype(float).tolist() == [1_234_567.5, 98_765_432.0]
    assert stored["ingested_from"].tolist() == ["Tromsø budsjett.csv, row 2", "Tromsø budsjett.csv, row 3"]
    assert set(stored["source_type"]) == {"city-supplied"}
    assert budget.load_supplied(tmp_path / "out" / "budget")["municipality"].unique().tolist() == ["Tromsø"]


def test_a_bad_budget_csv_names_row_and_column_and_writes_nothing(tmp_path):
    src = tmp_path / "budget.csv"
    src.write_text("municipality,function_code,year,net_operating_expenditure_nok,source\n"
                   "Bærum,999,2023,1000,Bærum kommune årsregnskap 2023 s. 3\n"
                   "Bærum,202,2023,-5,Bærum kommune årsregnskap 2023 s. 3\n"
                   "Herøy,202,2023,1000,Herøy årsregnskap s. 2\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        ingest.ingest(src, out_dir=tmp_path / "out")
    found = {(p.row, p.column) for p in info.value.problems}
    assert {(2, "function_code"), (3, budget.AMOUNT), (4, "municipality")} <= found
    assert all(p.file == str(src) for p in info.value.problems)
    assert "Herøy (Møre og Romsdal) 1515" in str(info.value)  # an ambiguous name gets its candidates
    assert not (tmp_path / "out").exists()
