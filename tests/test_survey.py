"""Citizens' survey: template, validated ingest, aggregation by hand, CLI exit codes and the profile's comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import cli, invest, survey
from analysis.errors import InputError

THEMES = pd.DataFrame({"theme_id": ["t1", "t2", "t3"], "theme_name": ["Water", "Bærum's bikes", "Tromsø air"]})


def sheet(tmp_path, rows: list[list], columns=("respondent", "t1", "t2", "t3"), name="answers.csv"):
    path = tmp_path / name
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- template
def test_template_has_one_column_per_theme(tmp_path):
    csv = survey.write_template(tmp_path / "s.csv")
    header = pd.read_csv(csv).columns.tolist()
    themes = invest.load_themes()["theme_id"].unique().tolist()
    assert header == ["respondent", *themes]
    xlsx = survey.write_template(tmp_path / "s.xlsx")
    book = pd.read_excel(xlsx, sheet_name=None)
    assert list(book) == ["answers", "themes"]
    assert book["answers"].columns.tolist() == header
    assert book["themes"]["theme_id"].tolist() == themes
    with pytest.raises(InputError, match="expected a name ending in .xlsx or .csv"):
        survey.write_template(tmp_path / "s.ods")


def test_filled_excel_template_round_trips(tmp_path):
    path = survey.write_template(tmp_path / "s.xlsx", THEMES)
    filled = pd.DataFrame({"respondent": ["Åse", "Øyvind"], "t1": [10, 0], "t2": [5, 5], "t3": [0, 7]})
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        filled.to_excel(xl, sheet_name="answers", index=False)
    answers = survey.read_answers(path, THEMES)
    assert answers["respondent"].tolist() == ["Åse", "Øyvind"]
    assert answers[["t1", "t2", "t3"]].to_numpy().tolist() == [[10, 5, 0], [0, 5, 7]]


def test_answers_saved_with_semicolons_read_as_with_commas(tmp_path):
    comma = sheet(tmp_path, [["Åse", 10, 5, 0], ["Øyvind", 0, 5, 7]])
    semicolon = tmp_path / "svar.csv"
    semicolon.write_text(comma.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8-sig")
    pd.testing.assert_frame_equal(survey.read_answers(semicolon, THEMES), survey.read_answers(comma, THEMES))


# ----------------------------------------------------------------------------- aggregation by hand
def test_mean_points_and_priorities_by_hand(tmp_path):
    answers = survey.read_answers(sheet(tmp_path, [["a", 10, 5, 0], ["b", 6, 5, 4], ["c", 8, 2, 2]]), THEMES)
    agg = survey.aggregate(answers, seed=1).set_index("theme_id")
    # means 8, 4, 2; mean of means 14/3
    assert agg["mean_points"].tolist() == pytest.approx([8, 4, 2])
    assert agg["priority"].tolist() == pytest.approx([8 / (14 / 3), 4 / (14 / 3), 2 / (14 / 3)])
    assert agg["citizens_rank"].tolist() == [1, 2, 3]
    assert (agg["mean_points_low"] <= agg["mean_points"]).all() and (agg["mean_points"] <= agg["mean_points_high"]).all()
    # a percentile interval of a mean stays within the answers: t1 in [6, 10]
    assert 6 <= agg.at["t1", "mean_points_low"] and agg.at["t1", "mean_points_high"] <= 10
    assert survey.priorities(agg.reset_index()) == {"t1": 1.7143, "t2": 0.8571, "t3": 0.4286}


def test_interval_is_seeded_degenerate_when_all_agree_and_narrows_with_more_respondents(tmp_path):
    rows = [["a", 10, 5, 3], ["b", 6, 5, 3], ["c", 8, 2, 3], ["d", 1, 9, 3]]
    answers = survey.read_answers(sheet(tmp_path, rows), THEMES)
    one, two = survey.aggregate(answers, seed=5), survey.aggregate(answers, seed=5)
    pd.testing.assert_frame_equal(one, two)
    t3 = one.set_index("theme_id").loc["t3"]
    assert t3["mean_points_low"] == t3["mean_points_high"] == 3
    many = pd.concat([answers] * 10, ignore_index=True).assign(respondent=lambda f: [f"r{i}" for i in range(len(f))])
    wide = one.set_index("theme_id").loc["t1"]
    narrow = survey.aggregate(many, seed=5).set_index("theme_id").loc["t1"]
    assert narrow["mean_points_high"] - narrow["mean_points_low"] < wide["mean_points_high"] - wide["mean_points_low"]


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("rows, columns, where, text", [
    ([["a", 1, 2, 3]], ("respondent", "t1", "t2", "t9"), (1, "t9"), "column 't9': unknown column"),
    ([["a", 1, 2, 3]], ("respondent", "t1", "t2", "t9"), (1, "t3"), "column 't3': missing column"),
    ([["a", 1, 2, 3], ["b", 4, 5, 6], ["a", 7, 8, 9]], None, (4, "respondent"), "duplicate row for respondent 'a'"),
    ([["a", 1, None, 3]], None, (2, "t2"), "empty answer"),
    ([["a", 1, 7.5, 3]], None, (2, "t2"), "expected whole points from 0 to 10 (found '7.5')"),
    ([["a", 1, 11, 3]], None, (2, "t2"), "expected whole points from 0 to 10 (found '11')"),
    ([["a", "seven", 1, 3]], None, (2, "t1"), "'seven'"),
    ([[None, 1, 2, 3]], None, (2, "respondent"), "every respondent needs an id"),
])
def test_bad_answers_name_row_and_column(tmp_path, rows, columns, where, text):
    path = sheet(tmp_path, rows, columns or ("respondent", "t1", "t2", "t3"))
    with pytest.raises(InputError) as err:
        survey.read_answers(path, THEMES)
    assert where in {(p.row, p.column) for p in err.value.problems}
    assert text in str(err.value) and str(path) in str(err.value)


def test_no_respondent_and_all_zero_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no respondent"):
        survey.read_answers(sheet(tmp_path, []), THEMES)
    with pytest.raises(InputError, match="every answer is 0"):
        survey.read_answers(sheet(tmp_path, [["a", 0, 0, 0]]), THEMES)
    with pytest.raises(InputError, match="file not found"):
        survey.read_answers(tmp_path / "missing.csv", THEMES)


def test_cli_bad_survey_exits_2_and_writes_nothing(tmp_path, capsys):
    themes = invest.load_themes()["theme_id"].unique().tolist()
    rows = [["r1", *[5] * len(themes)], ["r1", *[3] * len(themes)]]
    path = sheet(tmp_path, rows, ["respondent", *themes])
    out = tmp_path / "out"
    assert cli.main(["survey-ingest", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "'respondent'" in err and "duplicate row for respondent 'r1'" in err
    assert not out.exists() or not any(out.iterdir())


def test_cli_ingest_writes_priorities_the_parameters_accept(tmp_path, capsys):
    from analysis import params

    themes = invest.load_themes()["theme_id"].unique().tolist()
    rng = np.random.default_rng(0)
    rows = [[f"r{i}", *rng.integers(0, 11, len(themes)).tolist()] for i in range(30)]
    path = sheet(tmp_path, rows, ["respondent", *themes], name="innbyggere_Tromsø.csv")
    out = tmp_path / "out"
    assert cli.main(["survey-ingest", str(path), "--out", str(out), "--seed", "3"]) == 0
    agg = pd.read_csv(out / "survey_priorities.csv")
    assert set(agg["theme_id"]) == set(themes) and (agg["n_respondents"] == 30).all()
    assert agg["source_file"].iloc[0] == "innbyggere_Tromsø.csv"
    given = yaml.safe_load((out / "survey_priorities.yaml").read_text(encoding="utf-8"))["invest"]["theme_priorities"]
    assert np.mean(list(given.values())) == pytest.approx(1.0, abs=1e-3)
    values = params.load("Tromsø", [f"invest.theme_priorities.{t}={v}" for t, v in given.items()])
    assert values["invest"]["theme_priorities"] == pytest.approx(given)
    assert "30 respondents" in capsys.readouterr().out


# ----------------------------------------------------------------------------- beside the ranking
def test_comparison_flags_where_citizens_and_the_analysis_disagree():
    ranked = pd.DataFrame({"theme_id": list("abcdef"), "theme_name": list("ABCDEF"), "status": "ranked",
                           "ws_rank": [1, 2, 3, 4, 5, 6]})
    comp = survey.comparison(ranked, {"a": 0.5, "b": 1.0, "c": 1.1, "d": 0.9, "e": 1.2, "f": 2.0}).set_index("theme_id")
    # citizens: f 1, e 2, c 3, b 4, d 5, a 6; a difference of 2 or more (a third of 6) disagrees
    assert comp["citizens_rank"].to_dict() == {"a": 6, "b": 4, "c": 3, "d": 5, "e": 2, "f": 1}
    assert comp.at["a", "disagreement"] == "the analysis ranks it higher"
    assert comp.at["f", "disagreement"] == "citizens rank it higher"
    assert comp.at["c", "disagreement"] == "" and comp.at["d", "disagreement"] == ""


def test_profile_shows_citizens_priorities_beside_the_ranking():
    from analysis import assess, params

    a = assess.assess(params.load("Ålesund", ["invest.theme_priorities.open_data_egov=3"]))
    table = invest.profile_table(a, "Ålesund")
    row = table.set_index("theme_id").loc["open_data_egov"]
    assert row["citizens_rank"] == 1 and row["priority"] == 3
    plain = invest.opportunities(a, "Ålesund", crit=invest.criteria(a, municipalities=["Ålesund"]).assign(priority=1.0))
    assert row["analysis_rank"] == plain.set_index("theme_id").at["open_data_egov", "ws_rank"]
    from analysis import present

    card = present.theme_cards(table).split("<li class=\"u4ssc-card")[1:]
    shown = next(c for c in card if "Open data and e-government" in c)
    assert "Citizens&#x27; rank 1" in shown  # the citizens' rank stands on the theme's card
    assert a.params["invest"]["theme_priorities"] == {"open_data_egov": 3}  # recorded in the provenance's parameters
