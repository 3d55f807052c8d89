"""Investment opportunity ranking: criteria, weighted sum and TOPSIS, stability, what-if, joint programmes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis import invest, paths, scoring
from analysis.assess import Assessment
from analysis.errors import InputError

# ----------------------------------------------------------------------------- synthetic assessment
DPS = {  # data point -> dimension
    "d1": "Economy", "d2": "Economy", "d3": "Environment", "d4": "Environment", "d5": "Society and Culture",
    "d6": "Society and Culture", "d7": "Economy",
}
NAMES = ["M1", "M2", "M3", "M4"]


def small_catalogue() -> pd.DataFrame:
    return pd.DataFrame({
        "data_point_id": list(DPS), "direction": "higher_is_better", "dimension": list(DPS.values()),
        "sub_dimension": [d[:3] for d in DPS.values()], "category": [d[:3] for d in DPS.values()],
    })


def theme_rows(spec: dict[str, tuple[list[str], str]]) -> pd.DataFrame:
    """{theme_id: ([data points], 'sdg;targets')} as a themes table."""
    rows = [{"theme_id": t, "theme_name": f"Theme {t}", "data_point_id": dp, "sdg_targets": sdg,
             "rationale": "r", "source": "s"} for t, (dps, sdg) in spec.items() for dp in dps]
    return invest.validate_themes(pd.DataFrame(rows), "test themes", small_catalogue())


def make_assessment(ach: dict[tuple[str, str], float], source: dict[tuple[str, str], str] | None = None,
                    invest_params: dict | None = None) -> Assessment:
    """Assessment-like object from achievements in % (target 100, worst 0, so value = achievement)."""
    source = source or {}
    rows = [{"municipality": m, "data_point_id": dp, "value": v, "target": 100.0, "worst": 0.0,
             "direction": "higher_is_better", "source_type": source.get((m, dp), "published")}
            for (m, dp), v in ach.items()]
    scored = pd.DataFrame(rows)
    scored["achievement_raw"] = scored["value"]
    scored["achievement"] = scored["value"].clip(0, 100)
    scored["points"] = scoring.points(scored["achievement"])
    scored["band"] = scoring.band(scored["achievement"])
    scored["dimension"] = scored["data_point_id"].map(DPS)
    values = {"seed": 7, "peer_group": {"by": "all", "members": []},
              "invest": {"criteria_weights": dict(invest.DEFAULT_WEIGHTS), "theme_priorities": {}, "draws": 500}}
    values["invest"].update(invest_params or {})
    return Assessment(params=values, municipalities=NAMES, catalogue=small_catalogue(), observations=None,
                      baseline=None, goalposts=None, scored=scored)


def grid(table: dict[str, list[float]]) -> dict[tuple[str, str], float]:
    """{data point: [achievement of M1..M4]} (NaN = no value)."""
    return {(m, dp): v for dp, vals in table.items() for m, v in zip(NAMES, vals) if not math.isnan(v)}


NAN = float("nan")
BASE = grid({
    "d1": [20, 100, 100, 60],     # M1 far below; peers reach target
    "d2": [50, 90, 40, 100],
    "d3": [100, 30, 20, 10],      # M1 at target
    "d4": [40, 45, 50, 30],       # nobody reaches
    "d5": [70, 100, 80, 90],
    "d6": [NAN, 50, 60, 70],      # M1 has no value
    "d7": [100, 100, 50, 20],
})
THEMES = {
    "gap": (["d1", "d2"], "6.1;6.2"),
    "none": (["d3", "d7"], "7.1;7.2;7.3;11.1;11.2;11.3"),   # at target, broadest and all published
    "broad": (["d4", "d5"], "3.4;4.4;11.6;13.1"),
    "unscored": (["d6"], "16.6"),
}


@pytest.fixture
def small():
    return make_assessment(BASE), theme_rows(THEMES)


# ----------------------------------------------------------------------------- themes file
def test_real_themes_file_loads(cat):
    th = invest.load_themes(cat=cat)
    assert set(th["data_point_id"]) <= set(cat["data_point_id"])
    assert th["theme_id"].nunique() >= 10
    assert th["sdg_target_list"].map(len).min() >= 1


def test_unknown_data_point_names_file_row_and_column(cat, tmp_copy):
    def break_it(frame):
        frame.loc[4, "data_point_id"] = "XX: NOT: A: 1C"
        return frame
    path = tmp_copy(paths.THEMES, break_it)
    with pytest.raises(InputError) as err:
        invest.load_themes(path, cat)
    text = str(err.value)
    assert str(path) in text and "row 6" in text and "'data_point_id'" in text and "XX: NOT: A: 1C" in text


def test_bad_themes_file_reports_every_problem(cat, tmp_copy):
    def break_it(frame):
        frame.loc[0, "sdg_targets"] = "six"
        frame.loc[1, "theme_id"] = ""
        frame.loc[3, "data_point_id"] = frame.loc[2, "data_point_id"]
        return frame
    with pytest.raises(InputError) as err:
        invest.load_themes(tmp_copy(paths.THEMES, break_it), cat)
    columns = {p.column for p in err.value.problems}
    assert {"sdg_targets", "theme_id", "data_point_id"} <= columns


def test_missing_column_is_named(cat, tmp_copy):
    path = tmp_copy(paths.THEMES, lambda f: f.drop(columns=["sdg_targets"]))
    with pytest.raises(InputError, match="sdg_targets"):
        invest.load_themes(path, cat)


# ----------------------------------------------------------------------------- criteria
def test_need_is_root_mean_square_gap_and_zero_at_target(small):
    a, th = small
    c = invest.criteria(a, th, ["M1"]).set_index("theme_id")
    assert c.at["gap", "need"] == pytest.approx(math.sqrt((0.8 ** 2 + 0.5 ** 2) / 2))
    assert c.at["none", "need"] == 0.0
    assert c.at["none", "status"] == invest.NO_GAP
    assert c.at["unscored", "status"] == invest.NOT_SCORED
    assert c.at["none", "sdg_breadth"] == 1.0 and c.at["gap", "sdg_breadth"] == pytest.approx(2 / 6)


def test_feasibility_is_higher_where_peers_reach_the_target(small):
    a, th = small
    c = invest.criteria(a, th, ["M1"]).set_index("theme_id")
    # gap: d1 (gap .8; 2 of 3 peers reach, best closes all) and d2 (gap .5; 1 of 3 reaches, best closes all)
    expected = (0.8 * (2 / 3 + 1) / 2 + 0.5 * (1 / 3 + 1) / 2) / 1.3
    assert c.at["gap", "feasibility"] == pytest.approx(expected)
    # broad: d4 nobody reaches; best peer (50) closes 10/60 of M1's gap
    assert c.at["broad", "feasibility"] < c.at["gap", "feasibility"]


def test_peers_follow_the_peer_group(small):
    a, th = small
    a.params["peer_group"] = {"by": "list", "members": ["M3", "M4"]}
    c = invest.criteria(a, th, ["M1"]).set_index("theme_id")
    assert c.at["gap", "n_peers"] == 2
    # d1: M3 reaches (1 of 2), best closes all; d2: M4 reaches (1 of 2), best closes all
    assert c.at["gap", "feasibility"] == pytest.approx(0.75)
    assert invest.criteria(make_assessment(BASE), th, ["M1"]).set_index("theme_id").at["gap", "feasibility"] != 0.75


def test_confidence_is_lower_when_values_are_simulated(small):
    _, th = small
    simulated = {("M1", "d1"): "simulated", ("M1", "d2"): "simulated"}
    observed = invest.criteria(make_assessment(BASE), th, ["M1"]).set_index("theme_id")
    sim = invest.criteria(make_assessment(BASE, simulated), th, ["M1"]).set_index("theme_id")
    assert observed.at["gap", "confidence"] == 1.0
    assert sim.at["gap", "confidence"] == 0.0
    half = invest.criteria(make_assessment(BASE, {("M1", "d1"): "simulated"}), th, ["M1"]).set_index("theme_id")
    assert half.at["gap", "confidence"] == 0.5
    text = invest.opportunities(make_assessment(BASE, simulated), "M1", th).set_index("theme_id").at["gap", "explanation"]
    assert "2 simulated" in text


# ----------------------------------------------------------------------------- ranking
def test_theme_without_gap_ranks_last_even_when_best_on_everything_else(small):
    a, th = small
    for weights in (None, {"need": 0.01, "sdg_breadth": 1, "feasibility": 1, "confidence": 1}):
        o = invest.opportunities(a, "M1", th, weights=weights).set_index("theme_id")
        ranked = o[o["status"] != invest.NOT_SCORED]
        assert o.at["none", "ws_rank"] == ranked["ws_rank"].max() == 3
        assert o.at["none", "topsis_rank"] == ranked["topsis_rank"].max() == 3
        assert o.at["none", "ws_score"] == 0
    assert "no gap" in o.at["none", "explanation"]


def test_theme_without_scored_data_is_listed_with_a_reason(small):
    a, th = small
    o = invest.opportunities(a, "M1", th)
    row = o.set_index("theme_id").loc["unscored"]
    assert pd.isna(row["ws_rank"]) and pd.isna(row["topsis_rank"])
    assert row["explanation"].startswith("Not ranked") and "M1" in row["explanation"]
    assert o["theme_id"].iloc[-1] == "unscored"
    assert "unscored" not in set(invest.stability(a, "M1", th)["theme_id"])


def test_ranks_are_consistent_with_scores(small):
    a, th = small
    o = invest.opportunities(a, "M1", th)
    r = o[o["status"] == invest.RANKED]
    assert (r["ws_score"].diff().dropna() <= 0).all()
    assert list(r["ws_rank"]) == [1, 2]
    assert o["explanation"].iloc[0].startswith("Ranks 1st of 2")


def test_priority_multiplies_the_score(small):
    _, th = small
    a = make_assessment(BASE, invest_params={"theme_priorities": {"broad": 3.0}})
    base = invest.opportunities(make_assessment(BASE), "M1", th).set_index("theme_id")
    prio = invest.opportunities(a, "M1", th).set_index("theme_id")
    assert prio.at["broad", "ws_score"] == pytest.approx(3 * base.at["broad", "ws_score"])
    assert prio.at["broad", "ws_rank"] == 1
    assert "priority ×3" in prio.at["broad", "explanation"]
    with pytest.raises(InputError, match="theme_priorities"):
        invest.opportunities(make_assessment(BASE, invest_params={"theme_priorities": {"nope": 2}}), "M1", th)


@pytest.mark.parametrize("criterion", invest.CRITERIA)
def test_doubling_a_weight_never_drops_the_theme_best_on_it(real, criterion):
    a, th = real
    base = invest.opportunities(a, "Ålesund", th)
    base = base[base["status"] == invest.RANKED].set_index("theme_id")
    weights = dict(a.params["invest"]["criteria_weights"])
    weights[criterion] *= 2
    more = invest.opportunities(a, "Ålesund", th, weights=weights)
    more = more[more["status"] == invest.RANKED].set_index("theme_id")
    best = base[criterion].max()
    for theme in base.index[base[criterion] == best]:
        assert more.at[theme, "ws_rank"] <= base.at[theme, "ws_rank"]
    # and every theme ahead of it on that criterion's order keeps its lead over those it beats on it
    leader = base[criterion].idxmax()
    overtaken = set(base.index[base["ws_rank"] > base.at[leader, "ws_rank"]])
    assert overtaken <= set(more.index[more["ws_rank"] > more.at[leader, "ws_rank"]])


@settings(max_examples=40, deadline=None)
@given(arrays(float, st.tuples(st.integers(2, 7), st.just(4)), elements=st.floats(0.01, 1)),
       arrays(float, 4, elements=st.floats(0.05, 1)), st.integers(0, 3))
def test_doubling_a_weight_property(X, w, j):
    """Weighted sum: the alternative best on criterion j never loses rank when w_j doubles."""
    w2 = w.copy()
    w2[j] *= 2
    s1, s2 = X @ (w / w.sum()), X @ (w2 / w2.sum())
    best = int(np.argmax(X[:, j]))
    rank = lambda s: int((s > s[best] + 1e-12).sum())  # noqa: E731 - competition rank - 1
    assert rank(s2) <= rank(s1)


# ----------------------------------------------------------------------------- TOPSIS
def test_topsis_agrees_with_a_hand_computed_example():
    # Columns are (2,1,2), (1,2,2), (2,2,1): each has norm 3, so r = x / 3.
    X = np.array([[2, 1, 2], [1, 2, 2], [2, 2, 1]], dtype=float)
    w = np.array([0.5, 0.3, 0.2])
    # v = w·r:  A1 = (1/3, 1/10, 2/15), A2 = (1/6, 1/5, 2/15), A3 = (1/3, 1/5, 1/15)
    # ideal v+ = (1/3, 1/5, 2/15), anti-ideal v- = (1/6, 1/10, 1/15)
    d_plus = np.array([1 / 10, 1 / 6, 1 / 15])
    d_minus = np.array([math.sqrt((1 / 6) ** 2 + (1 / 15) ** 2),
                        math.sqrt((1 / 10) ** 2 + (1 / 15) ** 2),
                        math.sqrt((1 / 6) ** 2 + (1 / 10) ** 2)])
    hand = d_minus / (d_plus + d_minus)
    assert hand == pytest.approx([0.64223, 0.41898, 0.74461], abs=1e-5)
    assert invest.topsis(X, w) == pytest.approx(hand, abs=1e-12)
    assert invest.topsis_many(X, w[None, :])[0] == pytest.approx(hand, abs=1e-12)
    assert list(pd.Series(invest.topsis(X, w)).rank(ascending=False).astype(int)) == [2, 3, 1]


@settings(max_examples=30, deadline=None)
@given(arrays(float, st.tuples(st.integers(2, 8), st.just(4)), elements=st.floats(0, 1)),
       arrays(float, (3, 4), elements=st.floats(0.01, 1)))
def test_vectorised_topsis_matches_pymcdm_per_draw(X, W):
    many = invest.topsis_many(X, W)
    for k in range(W.shape[0]):
        assert many[k] == pytest.approx(invest.topsis(X, W[k]), abs=1e-9)


def test_topsis_with_a_zero_column_stays_finite():
    X = np.array([[0.5, 0.0], [0.2, 0.0]])
    c = invest.topsis(X, np.array([0.5, 0.5]))
    assert np.isfinite(c).all() and c[0] > c[1]


# ----------------------------------------------------------------------------- stability
def test_weight_draws_are_centred_seeded_and_keep_zero_weights():
    w = np.array([0.4, 0.3, 0.3, 0.0])
    d = invest.weight_draws(w, 4000, seed=3)
    assert d.shape == (4000, 4)
    assert np.allclose(d.sum(axis=1), 1)
    assert (d[:, 3] == 0).all()
    assert d.mean(axis=0) == pytest.approx(w, abs=0.01)
    assert np.array_equal(d, invest.weight_draws(w, 4000, seed=3))
    assert not np.array_equal(d, invest.weight_draws(w, 4000, seed=4))


@pytest.mark.parametrize("draws", [10, 137, 2000])
@pytest.mark.parametrize("method", ["weighted_sum", "topsis"])
def test_top3_probabilities_sum_to_three(real, draws, method):
    a, th = real
    s = invest.stability(a, "Ålesund", th, draws=draws, method=method)
    assert s["p_top"].sum() == pytest.approx(3.0)
    assert s["p_rank1"].sum() == pytest.approx(1.0)
    assert (s["rank_p05"] <= s["rank_median"]).all() and (s["rank_median"] <= s["rank_p95"]).all()
    assert set(s["stable"]) <= {True, False}
    assert (s["stable"] == ((s["p_top"] >= 0.8) | (s["p_top"] <= 0.2))).all()
    assert set(s.loc[~s["stable"], "stability"]) <= {"uncertain"}


def test_stability_is_deterministic_for_a_seed(real):
    a, th = real
    one = invest.stability(a, "Ålesund", th, draws=300)
    two = invest.stability(a, "Ålesund", th, draws=300)
    pd.testing.assert_frame_equal(one, two)
    assert one["draws"].iloc[0] == 300


def test_stability_puts_no_gap_themes_last(small):
    a, th = small
    s = invest.stability(a, "M1", th, draws=200).set_index("theme_id")
    assert s.at["none", "p_top"] == pytest.approx(1.0)  # only 3 scored themes: all in the top 3
    assert (s.at["none", "rank_p05"], s.at["none", "rank_p95"]) == (3, 3)


# ----------------------------------------------------------------------------- what-if
def test_what_if_closes_gaps_and_never_lowers_a_score(small):
    a, th = small
    w = invest.what_if(a, "M1", "gap", th).set_index("dimension")
    assert w.at["Economy", "u4ssc_score_after"] == 100.0  # d1, d2 at target, d7 already was
    assert w.at["Economy", "n_data_points_closed"] == 2
    assert w.at["Environment", "u4ssc_score_change"] == 0
    assert (w[["u4ssc_score_change", "mean_achievement_change"]] >= 0).all().all()


def test_what_if_on_real_themes_never_lowers_a_score(real):
    a, th = real
    ranked = invest.opportunities(a, "Ålesund", th)["theme_id"].tolist()
    for theme in ranked[:3] + ranked[-2:]:  # best three and the two smallest gaps
        w = invest.what_if(a, "Ålesund", theme, th)
        assert (w[["u4ssc_score_change", "mean_achievement_change"]].fillna(0) >= -1e-12).all().all(), theme
    top = invest.what_if(a, "Ålesund", themes=th)
    assert top["theme_id"].iloc[0] == invest.opportunities(a, "Ålesund", th)["theme_id"].iloc[0]
    assert top.set_index("dimension").at["Overall", "mean_achievement_change"] > 0


def test_what_if_unknown_theme_is_an_input_error(small):
    a, th = small
    with pytest.raises(InputError, match="unknown theme"):
        invest.what_if(a, "M1", "nope", th)


# ----------------------------------------------------------------------------- across municipalities
def test_joint_programmes_lists_shared_top_themes(small):
    a, th = small
    j = invest.joint_programmes(a, top=1, themes=th)
    allr = invest.ranking_all(a, th)
    firsts = allr[(allr["ws_rank"] == 1) & (allr["status"] == invest.RANKED)]
    counts = firsts.groupby("theme_id")["municipality"].agg(lambda s: "; ".join(sorted(s)))
    shared = counts[counts.str.count(";") >= 1]
    assert dict(zip(j["theme_id"], j["municipalities"])) == shared.to_dict()
    assert (j["n_municipalities"] >= 2).all()


# ----------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def real():
    from analysis import assess, params

    a = assess.assess(params.load("Ålesund"))
    return a, invest.load_themes(cat=a.catalogue)


def test_end_to_end_profile_and_synthesis(real):
    a, th = real
    o = invest.opportunities(a, "ålesund", th)
    assert len(o) == th["theme_id"].nunique()
    assert o["municipality"].eq("Ålesund").all()
    ranked = o[o["status"] == invest.RANKED]
    assert list(ranked["ws_rank"]) == sorted(ranked["ws_rank"])
    assert ranked[list(invest.CRITERIA)].apply(lambda s: s.between(0, 1)).all().all()
    assert o["explanation"].str.len().gt(40).all()
    p = invest.profile_table(a, "Ålesund", th)
    assert {"p_top", "rank_p05", "rank_p95", "stable", "explanation"} <= set(p.columns)
    s = invest.synthesis_table(a, themes=th)
    assert set(s["municipality"]) == set(a.municipalities)
    assert (s.groupby("municipality").size() >= 3).all()
    j = invest.joint_programmes(a, themes=th)
    assert (j["n_municipalities"] >= 2).all()
    assert j["n_municipalities"].sum() <= 3 * len(a.municipalities)


def test_unknown_municipality_is_an_input_error(small):
    a, th = small
    with pytest.raises(InputError, match="unknown municipality"):
        invest.opportunities(a, "Oslo", th)
