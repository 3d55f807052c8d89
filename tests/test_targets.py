"""Target table validation, target-set selection and goalposts (rules and panel percentiles), by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import paths, targets
from analysis.errors import InputError


@pytest.fixture(scope="module")
def real_targets(cat) -> pd.DataFrame:
    return targets.load(cat=cat)


def problems_of(path, cat):
    with pytest.raises(InputError) as info:
        targets.load(path, cat=cat)
    return info.value.problems


def only_problem(problems, column):
    found = [p for p in problems if p.column == column]
    assert len(found) == 1, [str(p) for p in problems]
    return found[0]


# --- load ---------------------------------------------------------------------------------------

def test_real_file_loads(real_targets):
    assert set(targets.COLUMNS) <= set(real_targets.columns)
    assert "default" in targets.target_sets(real_targets)
    assert real_targets["target"].dtype.kind == "f" and real_targets["worst"].dtype.kind == "f"


def set_cell(row: int, column: str, value: str):
    def change(frame):
        frame.loc[row, column] = value
        return frame
    return change


def first_cited_row(frame: pd.DataFrame) -> int:
    return int(frame.index[(frame["target"] != "") & (frame["rule"] == "")][0])


def first_rule_row(frame: pd.DataFrame) -> int:
    return int(frame.index[frame["rule"] != ""][0])


@pytest.fixture
def raw() -> pd.DataFrame:
    return pd.read_csv(paths.TARGETS, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.mark.parametrize("kind, column, value, message", [
    ("rule", "rule", "best_peers:3", "best_peers_mean:<k>"),
    ("rule", "rule", "best_peers_mean:three", "best_peers_mean:<k>"),
    ("cited", "source_class", "made_up", "expected one of"),
    ("cited", "data_point_id", "XX: Y: Z: 9Q", "unknown data point id"),
    ("cited", "target", "abc", "not a finite number"),
    ("cited", "worst", "lots", "not a finite number"),
])
def test_bad_cell_names_file_row_and_column(cat, tmp_copy, raw, kind, column, value, message):
    i = first_rule_row(raw) if kind == "rule" else first_cited_row(raw)
    path = tmp_copy(paths.TARGETS, set_cell(i, column, value))
    problem = only_problem(problems_of(path, cat), column)
    assert problem.file == str(path)
    assert problem.row == i + 2  # header is row 1
    assert message in problem.message
    assert str(path) in str(problem) and f"row {i + 2}" in str(problem) and f"column '{column}'" in str(problem)


def test_both_target_and_rule(cat, tmp_copy, raw):
    i = first_cited_row(raw)
    path = tmp_copy(paths.TARGETS, set_cell(i, "rule", "best_peers_mean:3"))
    problem = only_problem(problems_of(path, cat), "target")
    assert (problem.file, problem.row) == (str(path), i + 2)
    assert "not both or neither" in problem.message


def test_neither_target_nor_rule(cat, tmp_copy, raw):
    i = first_cited_row(raw)
    path = tmp_copy(paths.TARGETS, set_cell(i, "target", ""))
    problem = only_problem(problems_of(path, cat), "target")
    assert (problem.file, problem.row) == (str(path), i + 2)


def test_duplicate_row(cat, tmp_copy, raw):
    i = first_cited_row(raw)
    path = tmp_copy(paths.TARGETS, lambda f: pd.concat([f, f.iloc[[i]]], ignore_index=True))
    problem = only_problem(problems_of(path, cat), "data_point_id")
    assert problem.file == str(path)
    assert problem.row == len(raw) + 2  # the appended copy is the file's last row
    assert "duplicate" in problem.message


def test_cited_target_needs_source(cat, tmp_copy, raw):
    i = first_cited_row(raw)
    path = tmp_copy(paths.TARGETS, set_cell(i, "source", ""))
    problem = only_problem(problems_of(path, cat), "source")
    assert problem.row == i + 2


def test_rule_needs_at_least_one_peer(cat, tmp_copy, raw):
    # 'best_peers_mean:0' asks for the mean of no values: it cannot define a target and must be rejected
    i = first_rule_row(raw)
    path = tmp_copy(paths.TARGETS, set_cell(i, "rule", "best_peers_mean:0"))
    problem = only_problem(problems_of(path, cat), "rule")
    assert problem.row == i + 2


def test_every_problem_is_reported_at_once(cat, tmp_copy, raw):
    i, j = first_cited_row(raw), first_rule_row(raw)

    def change(frame):
        frame.loc[i, "source_class"] = "nope"
        frame.loc[j, "rule"] = "best:3"
        return frame

    problems = problems_of(tmp_copy(paths.TARGETS, change), cat)
    assert {(p.row, p.column) for p in problems} == {(i + 2, "source_class"), (j + 2, "rule")}


def test_missing_column(cat, tmp_copy):
    path = tmp_copy(paths.TARGETS, lambda f: f.drop(columns=["rationale"]))
    problems = problems_of(path, cat)
    assert problems[0].file == str(path) and "rationale" in problems[0].message


# --- select -------------------------------------------------------------------------------------

def test_select_default_is_the_default_rows(real_targets):
    sel = targets.select(real_targets)
    default = real_targets[real_targets["target_set"] == "default"]
    assert sorted(sel["data_point_id"]) == sorted(default["data_point_id"])
    assert (sel["target_set"] == "default").all()


def test_select_falls_back_to_default(real_targets):
    national = real_targets[real_targets["target_set"] == "national"]
    assert 0 < len(national) < len(real_targets[real_targets["target_set"] == "default"])
    sel = targets.select(real_targets, "national").set_index("data_point_id")
    default = real_targets[real_targets["target_set"] == "default"].set_index("data_point_id")
    assert sel.index.is_unique and set(sel.index) == set(default.index)
    for dp, row in national.set_index("data_point_id").iterrows():
        assert sel.loc[dp, "target_set"] == "national"
        assert sel.loc[dp, "target"] == row["target"]
    others = sel.index.difference(national["data_point_id"])
    assert (sel.loc[others, "target_set"] == "default").all()
    pd.testing.assert_series_equal(sel.loc[others, "target"], default.loc[others, "target"], check_names=False)


def test_select_unknown_set(real_targets):
    with pytest.raises(InputError) as info:
        targets.select(real_targets, "martian")
    assert "martian" in str(info.value) and "targets.csv" in str(info.value)
    assert info.value.problems[0].column == "target_set"


# --- goalposts ----------------------------------------------------------------------------------

def mini_cat() -> pd.DataFrame:
    rows = [("H", "higher_is_better"), ("L", "lower_is_better"), ("F", "higher_is_better"),
            ("PH", "higher_is_better"), ("PL", "lower_is_better"), ("D", "higher_is_better"),
            ("B", "target_band"), ("X", "descriptive")]
    return pd.DataFrame({"data_point_id": [r[0] for r in rows], "direction": [r[1] for r in rows],
                         "unit": "%"})


def selected(rows: list[tuple[str, float, float, str | None]]) -> pd.DataFrame:
    return pd.DataFrame({
        "target_set": "default",
        "data_point_id": [r[0] for r in rows],
        "target": [r[1] for r in rows],
        "worst": [r[2] for r in rows],
        "rule": pd.Series([r[3] for r in rows], dtype=object),
        "source_class": "peer_rule",
        "rationale": "test",
        "source": "test",
    })


PANEL = {
    "H": [12.0, 50.0, 7.0, 33.0, 41.0, 29.0],
    "L": [12.0, 50.0, 7.0, 33.0, 41.0, 29.0],
    "F": [3.0, 9.0],
    "PH": [5.0, 80.0, 61.0, 44.0, 92.0, 17.0, 70.0],
    "PL": [5.0, 80.0, 61.0, 44.0, 92.0, 17.0, 70.0],
    "D": [7.0, 7.0, 7.0, 7.0],
    "B": [0.9, 1.1],
}


def panel_frame() -> pd.DataFrame:
    return pd.DataFrame([(dp, v) for dp, vs in PANEL.items() for v in vs], columns=["data_point_id", "value"])


@pytest.fixture
def gp() -> pd.DataFrame:
    sel = selected([
        ("H", np.nan, 0.0, "best_peers_mean:3"),
        ("L", np.nan, np.nan, "best_peers_mean:3"),
        ("F", np.nan, 0.0, "best_peers_mean:3"),
        ("PH", 100.0, np.nan, None),
        ("PL", 0.0, np.nan, None),
        ("D", np.nan, np.nan, "best_peers_mean:3"),
        ("B", 1.0, np.nan, None),
    ])
    sel["worst_rule"] = np.where(sel["worst"].eq(0.0), "zero", "percentile")
    return targets.goalposts(sel, panel_frame(), mini_cat()).set_index("data_point_id")


def test_best_peers_mean_higher_is_better(gp):
    # best three of 12, 50, 7, 33, 41, 29 when higher is better: 50, 41, 33
    assert gp.loc["H", "target"] == pytest.approx((50 + 41 + 33) / 3)
    assert gp.loc["H", "target_origin"] == "mean of best 3 of 6 peers"
    assert gp.loc["H", "worst"] == 0.0 and gp.loc["H", "worst_origin"] == "natural bound 0"
    assert gp.loc["H", "worst_rule"] == "zero" and gp.loc["H", "has_goalposts"]


def test_best_peers_mean_lower_is_better_with_sdsn_worst(gp):
    # best three when lower is better: 7, 12, 29 -> 16; worst = 97.5th percentile of 7, 12, 29, 33, 41, 50:
    # position 0.975 · 5 = 4.875 between 41 and 50 -> 41 + 0.875 · 9 = 48.875
    assert gp.loc["L", "target"] == pytest.approx(16.0)
    assert gp.loc["L", "worst"] == pytest.approx(48.875)
    assert gp.loc["L", "worst_origin"] == "panel 97.5th percentile" and gp.loc["L", "has_goalposts"]


def test_rule_with_too_few_peers_gives_no_target(gp):
    assert np.isnan(gp.loc["F", "target"])
    assert gp.loc["F", "target_origin"] == "no target: rule needs 3 peers, 2 report"
    assert not gp.loc["F", "has_goalposts"]


def test_empty_worst_is_panel_percentile(gp):
    # sorted 5, 17, 44, 61, 70, 80, 92: 2.5th at position 0.15 -> 5 + 0.15 · 12 = 6.8;
    # 97.5th at position 5.85 -> 80 + 0.85 · 12 = 90.2
    assert gp.loc["PH", "worst"] == pytest.approx(6.8)
    assert gp.loc["PL", "worst"] == pytest.approx(90.2)
    assert gp.loc["PH", "worst_origin"] == "panel 2.5th percentile"
    assert gp.loc["PL", "worst_origin"] == "panel 97.5th percentile"
    assert gp.loc["PH", "target_origin"] == "cited"
    assert gp.loc["PH", "n_panel"] == 7


def test_target_everyone_meets_scores_100_instead_of_dropping(gp):
    # every peer reports 7: target = 7, and no value is worse than it
    assert gp.loc["D", "target"] == pytest.approx(7.0)
    assert np.isnan(gp.loc["D", "worst"]) and gp.loc["D", "all_meet_target"]
    assert gp.loc["D", "worst_origin"] == "every panel value meets the target"
    assert gp.loc["D", "has_goalposts"]


def test_so2_like_target_met_by_all_scores_100():
    from analysis import scoring

    sel = selected([("PL", 20.0, np.nan, None)]).assign(worst_rule="percentile")
    panel = pd.DataFrame({"data_point_id": "PL", "value": [1.0, 2.0, 3.0, 4.0]})
    out = targets.goalposts(sel, panel, mini_cat())
    assert out["all_meet_target"].iloc[0] and out["has_goalposts"].iloc[0]
    base = pd.DataFrame({"municipality": list("abcd"), "data_point_id": "PL", "year": 2020,
                         "value": [1.0, 2.0, 3.0, 4.0], "status": "reported", "source_type": "published"})
    scored = scoring.score_data_points(base, out)
    assert (scored["achievement"] == 100.0).all() and (scored["band"] == "95–100 %").all()


def test_unemployment_at_several_times_its_target_is_red_with_the_sdsn_worst():
    from analysis import scoring

    # best three of 2, 3, 4, 5, 6.8 (lower is better) -> 3; 97.5th percentile: position 3.9 -> 5 + 0.9 · 1.8 = 6.62
    sel = selected([("L", np.nan, np.nan, "best_peers_mean:3")]).assign(worst_rule="percentile")
    panel = pd.DataFrame({"data_point_id": "L", "value": [2.0, 3.0, 4.0, 5.0, 6.8]})
    out = targets.goalposts(sel, panel, mini_cat())
    assert (out["target"].iloc[0], out["worst"].iloc[0]) == (pytest.approx(3.0), pytest.approx(6.62))
    base = panel.assign(municipality=list("abcde"), year=2020, status="reported", source_type="published")
    a = scoring.score_data_points(base, out).set_index("municipality")["achievement"]
    # 5: 100 · (5 − 6.62) / (3 − 6.62) = 44.75; 6.8 (2.3 times the target) is beyond the worst: 0.
    # Against the old worst of 100 % it scored 100 · (6.8 − 100) / (3 − 100) = 96.1, green.
    assert a["d"] == pytest.approx(100 * (5 - 6.62) / (3 - 6.62))
    assert a["e"] == 0.0 and a["a"] == a["b"] == 100.0


def test_percentile_at_the_target_falls_back_to_the_panel_worst():
    # 49 values at the target 10 and one at 2: the 2.5th percentile (position 1.225) is 10, not below the
    # target, so the panel's worst value 2 bounds the scale
    sel = selected([("PH", 10.0, np.nan, None)]).assign(worst_rule="percentile")
    panel = pd.DataFrame({"data_point_id": "PH", "value": [2.0] + [10.0] * 49})
    out = targets.goalposts(sel, panel, mini_cat()).iloc[0]
    assert out["worst"] == 2.0 and out["worst_origin"].startswith("panel's worst value")


def test_percentile_needs_three_values():
    sel = selected([("PH", 100.0, np.nan, None)]).assign(worst_rule="percentile")
    out = targets.goalposts(sel, pd.DataFrame({"data_point_id": ["PH", "PH"], "value": [1.0, 2.0]}), mini_cat())
    assert np.isnan(out["worst"].iloc[0])
    assert out["worst_origin"].iloc[0] == "no worst: the percentile needs 3 values, 2 report"
    assert not out["has_goalposts"].iloc[0]


def test_target_band_worst_from_distances():
    # target 1; distances 0.1, 0.1, 0, 0.2 -> 97.5th percentile at position 2.925: 0.1 + 0.925 · 0.1 = 0.1925
    sel = selected([("B", 1.0, np.nan, None)]).assign(worst_rule="percentile")
    panel = pd.DataFrame({"data_point_id": "B", "value": [0.9, 1.1, 1.0, 0.8]})
    out = targets.goalposts(sel, panel, mini_cat()).iloc[0]
    assert out["worst"] == pytest.approx(1 - 0.1925) and out["has_goalposts"]


def test_real_file_has_a_documented_worst_rule_for_every_row(real_targets, cat):
    direction = cat.set_index("data_point_id")["direction"]
    rows = real_targets.assign(direction=real_targets["data_point_id"].map(direction))
    assert rows["worst_rule"].isin(targets.WORST_RULES).all()
    lower = rows[rows["direction"] == "lower_is_better"]
    assert (lower["worst_rule"] != "zero").all() and not (lower["worst"] == 100).any()  # never 100 % by default
    assert (rows.loc[rows["worst_rule"] == "zero", "worst"] == 0).all()
    assert rows.loc[rows["worst_rule"] == "percentile", "worst"].isna().all()
    ref = rows[rows["worst_rule"] == "reference"]
    assert ref["worst"].notna().all() and ref["worst_source"].str.contains("https://").all()


@pytest.mark.parametrize("rule, worst, column, message", [
    ("zero", "5", "worst", "the rule 'zero' needs worst 0"),
    ("percentile", "0", "worst", "leave it empty"),
    ("reference", "", "worst", "needs a worst value"),
    ("", "0", "worst_rule", "empty; expected one of"),
])
def test_bad_worst_rule_names_row_and_column(cat, tmp_copy, raw, rule, worst, column, message):
    i = int(raw.index[raw["worst_rule"] == "zero"][0])

    def change(frame):
        frame.loc[i, ["worst_rule", "worst", "worst_source"]] = [rule, worst, "a source" if rule == "reference" else ""]
        return frame

    problem = only_problem(problems_of(tmp_copy(paths.TARGETS, change), cat), column)
    assert problem.row == i + 2 and message in problem.message


def test_zero_worst_refused_for_lower_is_better(cat, tmp_copy, raw):
    lower = set(cat.loc[cat["direction"] == "lower_is_better", "data_point_id"])
    i = int(raw.index[raw["data_point_id"].isin(lower)][0])

    def change(frame):
        frame.loc[i, ["worst_rule", "worst"]] = ["zero", "0"]
        return frame

    problem = only_problem(problems_of(tmp_copy(paths.TARGETS, change), cat), "worst_rule")
    assert "not a worst for a lower-is-better data point" in problem.message


def test_reference_worst_needs_its_source(cat, tmp_copy, raw):
    i = int(raw.index[raw["worst_rule"] == "reference"][0])
    problem = only_problem(problems_of(tmp_copy(paths.TARGETS, set_cell(i, "worst_source", "")), cat),
                           "worst_source")
    assert problem.row == i + 2


def test_real_goalposts_are_ordered_by_direction(real_targets, cat):
    # on the real file with a synthetic panel, every usable goalpost pair points the right way
    rng = np.random.default_rng(1)
    panel = pd.DataFrame([(dp, float(v)) for dp in cat["data_point_id"] for v in rng.uniform(0, 100, 5)],
                         columns=["data_point_id", "value"])
    out = targets.goalposts(targets.select(real_targets), panel, cat)
    usable = out[out["has_goalposts"]]
    higher = usable[usable["direction"] == "higher_is_better"]
    lower = usable[usable["direction"] == "lower_is_better"]
    assert (higher["target"] > higher["worst"]).all()
    assert (lower["target"] < lower["worst"]).all()
    assert not out["data_point_id"].duplicated().any()


# --- baseline year and deadline (optional columns) ------------------------------------------------

@pytest.mark.parametrize("column, value", [
    ("baseline_year", "abc"), ("baseline_year", "2015.5"), ("baseline_year", "1899"),
    ("deadline", "2101"), ("deadline", "soon"), ("deadline", "-2030"),
])
def test_bad_year_names_file_row_and_column(cat, tmp_copy, raw, column, value):
    i = first_cited_row(raw)
    path = tmp_copy(paths.TARGETS, set_cell(i, column, value))
    problem = only_problem(problems_of(path, cat), column)
    assert (problem.file, problem.row) == (str(path), i + 2)
    assert f"'{value}'" in problem.message and "whole year from 1900 to 2100" in problem.message
    assert f"column '{column}'" in str(problem)


@pytest.mark.parametrize("baseline, deadline", [("2020", "2020"), ("2025", "2020")])
def test_deadline_must_follow_baseline_year(cat, tmp_copy, raw, baseline, deadline):
    i = first_cited_row(raw)

    def change(frame):
        frame.loc[i, ["baseline_year", "deadline"]] = [baseline, deadline]
        return frame

    path = tmp_copy(paths.TARGETS, change)
    problem = only_problem(problems_of(path, cat), "deadline")
    assert (problem.file, problem.row) == (str(path), i + 2)
    assert problem.message == f"the deadline must be after baseline_year (found '{deadline}')"


def test_years_are_optional_columns(cat, tmp_copy):
    # a target file written before the columns existed still loads, with every year empty
    path = tmp_copy(paths.TARGETS, lambda f: f.drop(columns=["baseline_year", "deadline"]))
    loaded = targets.load(path, cat=cat)
    assert loaded["baseline_year"].isna().all() and loaded["deadline"].isna().all()


def test_existing_rows_have_no_years(real_targets):
    shared = real_targets[real_targets["target_set"].isin(["default", "national"])]
    assert shared["baseline_year"].isna().all() and shared["deadline"].isna().all()
    assert str(real_targets["deadline"].dtype) == "Int64"


def test_real_city_set_is_cited(real_targets):
    city = real_targets[real_targets["source_class"] == "city"]
    for _, row in city.iterrows():
        assert row["source"].count("https://") >= 1 and row["target_set"] not in ("default", "national")
        assert pd.notna(row["target"]) and pd.notna(row["worst"])
        if pd.notna(row["baseline_year"]) and pd.notna(row["deadline"]):
            assert row["deadline"] > row["baseline_year"]


# A city's own set, built in a temporary copy: recycling goal 70 % by 2025 from a 2015 baseline,
# start value 30 % scored 0 (NTNU's "start range"). Illustrative numbers, not data.
CITY = "Testby"
RECYCLED = "EN: EN: WA: 1C/RECYCLED"


def with_city_set(frame: pd.DataFrame) -> pd.DataFrame:
    row = {c: "" for c in frame.columns}
    row.update(target_set=CITY, data_point_id=RECYCLED, target="70", worst="30", source_class="city",
               rationale="test goal", source="test", baseline_year="2015", deadline="2025",
               worst_rule="reference", worst_source="test plan, start value")
    return pd.concat([frame, pd.DataFrame([row])], ignore_index=True)


@pytest.fixture
def city_targets(cat, tmp_copy) -> pd.DataFrame:
    return targets.load(tmp_copy(paths.TARGETS, with_city_set), cat=cat)


def test_city_set_overrides_only_its_data_points(city_targets):
    assert CITY in targets.target_sets(city_targets)
    sel = targets.select(city_targets, CITY).set_index("data_point_id")
    default = targets.select(city_targets).set_index("data_point_id")
    assert sel.index.is_unique and set(sel.index) == set(default.index)
    assert sel.loc[RECYCLED, "target_set"] == CITY
    assert sel.loc[RECYCLED, ["target", "worst"]].tolist() == [70.0, 30.0]
    assert (sel.loc[RECYCLED, "baseline_year"], sel.loc[RECYCLED, "deadline"]) == (2015, 2025)
    others = sel.index.drop(RECYCLED)
    assert (sel.loc[others, "target_set"] == "default").all()
    pd.testing.assert_series_equal(sel.loc[others, "target"], default.loc[others, "target"])


def test_city_goalposts_use_its_worst_as_start_and_carry_years(city_targets, cat):
    from analysis import scoring

    panel = pd.DataFrame({"data_point_id": RECYCLED, "value": [10.0, 40.0, 60.0, 80.0]})
    gp = targets.goalposts(targets.select(city_targets, CITY), panel, cat).set_index("data_point_id")
    row = gp.loc[RECYCLED]
    assert (row["target"], row["worst"], row["worst_origin"], row["source_class"]) == (70.0, 30.0, "reference", "city")
    assert (row["target_set"], row["baseline_year"], row["deadline"]) == (CITY, 2015, 2025)
    others = gp.drop(index=RECYCLED)
    assert others["baseline_year"].isna().all() and others["deadline"].isna().all()
    # 100 · (x − start) / (target − start): 60 % scores 100 · (60 − 30) / (70 − 30) = 75 %; 10 % is below the start
    base = pd.DataFrame({"municipality": ["A", "B"], "data_point_id": RECYCLED, "year": 2020,
                         "value": [60.0, 10.0], "status": "reported", "source_type": "published"})
    scored = scoring.score_data_points(base, gp.reset_index()).set_index("municipality")
    assert scored.loc["A", "achievement"] == pytest.approx(75.0)
    assert scored.loc["B", "achievement"] == 0.0
    default_gp = targets.goalposts(targets.select(city_targets), panel, cat).set_index("data_point_id")
    assert (default_gp.loc[RECYCLED, "target"], default_gp.loc[RECYCLED, "worst"]) == (65.0, 0.0)


def test_goalposts_say_when_they_rest_on_simulated_values():
    """A peer-rule target or percentile worst computed from simulated values is flagged and says how many."""
    sel = selected([("H", np.nan, 0.0, "best_peers_mean:3"), ("PH", 100.0, np.nan, None),
                    ("L", np.nan, 100.0, "best_peers_mean:3")])
    sel["worst_rule"] = ["zero", "percentile", "reference"]
    panel = panel_frame()
    panel["source_type"] = "published"
    # H: 50 (the best) simulated -> in the best three; L: 50 (the worst when lower is better) simulated -> not
    panel.loc[(panel["data_point_id"].isin(["H", "L"])) & (panel["value"] == 50.0), "source_type"] = "simulated"
    panel.loc[(panel["data_point_id"] == "PH") & (panel["value"] == 5.0), "source_type"] = "simulated"
    out = targets.goalposts(sel, panel, mini_cat()).set_index("data_point_id")
    assert out.loc["H", "goalposts_from_simulated"]
    assert out.loc["H", "target_origin"] == "mean of best 3 of 6 peers, 1 of them simulated"
    assert not out.loc["L", "goalposts_from_simulated"]
    assert out.loc["PH", "goalposts_from_simulated"]
    assert out.loc["PH", "worst_origin"] == "panel 2.5th percentile, from 1 simulated of 7 values"
    published_only = targets.goalposts(sel, panel.assign(source_type="published"), mini_cat())
    assert not published_only["goalposts_from_simulated"].any()


def test_docs_show_the_rule_of_every_data_point(real_targets, cat):
    """docs/targets.md carries the generated table of every default row's target and worst rule, up to date."""
    table = targets.rule_table(real_targets, cat)
    assert table in (paths.ROOT / "docs" / "targets.md").read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == (real_targets["target_set"] == "default").sum() == 108
