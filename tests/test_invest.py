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


def cost_rows(classes: dict[str, str]) -> pd.DataFrame:
    """{theme_id: cost class} as a validated cost table (the project's judgement)."""
    rows = [{"theme_id": t, "cost_class": c, "service_area": f"Area {t}", "basis": "project judgement",
             "reasoning": "r", "source": ""} for t, c in classes.items()]
    return invest.validate_costs(pd.DataFrame(rows), "test costs")


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
COSTS = {"gap": "low", "none": "high", "broad": "medium", "unscored": "low"}
W = np.array([0.35, 0.25, 0.2, 0.2])  # DEFAULT_WEIGHTS in the order of CRITERIA


class Small:
    """The synthetic assessment with its themes and costs; methods take them as keyword arguments."""

    def __init__(self, a: Assessment, spec=THEMES, costs=COSTS):
        self.a, self.th, self.costs = a, theme_rows(spec), cost_rows(costs)

    def crit(self, names=("M1",)) -> pd.DataFrame:
        return invest.criteria(self.a, self.th, list(names), costs=self.costs)

    def opp(self, name="M1", **kw) -> pd.DataFrame:
        return invest.opportunities(self.a, name, self.th, crit=self.crit([name]), **kw)

    def stab(self, name="M1", **kw) -> pd.DataFrame:
        return invest.stability(self.a, name, self.th, crit=self.crit([name]), **kw)


@pytest.fixture
def small():
    return Small(make_assessment(BASE))


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


# ----------------------------------------------------------------------------- cost file
def test_real_cost_file_covers_every_theme_with_a_reasoning(cat):
    th = invest.load_themes(cat=cat)
    costs = invest.load_costs(theme_ids=sorted(set(th["theme_id"])))
    assert set(costs["theme_id"]) == set(th["theme_id"])
    assert costs["reasoning"].str.len().gt(20).all()
    judged = costs["basis"] == "project judgement"
    assert (costs.loc[~judged, "source"].str.startswith("http")).all()


def test_bad_cost_file_names_row_and_column(tmp_copy):
    def break_it(frame):
        frame.loc[0, "cost_class"] = "cheap"
        frame.loc[1, "basis"] = "published"
        frame.loc[1, "source"] = ""
        frame.loc[2, "reasoning"] = ""
        return frame
    path = tmp_copy(invest.COSTS, break_it)
    with pytest.raises(InputError) as err:
        invest.load_costs(path)
    where = {(p.row, p.column) for p in err.value.problems}
    assert {(2, "cost_class"), (3, "source"), (4, "reasoning")} <= where
    assert str(path) in str(err.value) and "'cheap'" in str(err.value)


def test_theme_without_a_cost_row_is_an_input_error(small):
    with pytest.raises(InputError, match=r"themes \['broad'\] have no cost row"):
        invest.criteria(small.a, small.th, ["M1"], costs=cost_rows({"gap": "low", "none": "low", "unscored": "low"}))


# ----------------------------------------------------------------------------- criteria, by hand
def test_need_is_the_gap_share_and_zero_at_target(small):
    c = small.crit().set_index("theme_id")
    # no data point is shared: u = 1; the largest theme weighs U = 2
    assert c.at["gap", "need"] == pytest.approx((0.8 + 0.5) / 2)
    assert c.at["broad", "need"] == pytest.approx((0.6 + 0.3) / 2)
    assert c.at["none", "need"] == 0.0 and c.at["none", "status"] == invest.NO_GAP
    assert c.at["unscored", "status"] == invest.NOT_SCORED


def test_impact_counts_sdg_targets_only_where_the_municipality_falls_short(small):
    c = small.crit(["M1", "M2"]).set_index(["municipality", "theme_id"])
    # V = 6 (the 'none' theme serves six targets, each served by one theme)
    # M1: 6.1 and 6.2 carry the mean gap of d1, d2 = 0.65; the four targets of 'broad' that of d4, d5 = 0.45
    assert c.at[("M1", "gap"), "impact"] == pytest.approx(2 * 0.65 / 6)
    assert c.at[("M1", "broad"), "impact"] == pytest.approx(4 * 0.45 / 6)
    # the same theme in M2 (d4 = 45, d5 = 100): mean gap 0.275 on each of its targets
    assert c.at[("M2", "broad"), "impact"] == pytest.approx(4 * 0.275 / 6)
    assert c.at[("M1", "none"), "impact"] == 0.0  # six targets, all met: breadth counts for nothing
    assert c.at[("M1", "broad"), "n_sdg_short"] == 4


def test_feasibility_is_the_gap_weighted_share_of_peers_that_closed_half_the_gap(small):
    c = small.crit().set_index("theme_id")
    # gap: d1 (20 %, half the gap reached at 60 %): peers 100, 100, 60 -> 3/3; d2 (50 %, 75 %): 90, 40, 100 -> 2/3
    assert c.at["gap", "feasibility"] == pytest.approx((0.8 * 1 + 0.5 * 2 / 3) / 1.3)
    # broad: d4 (40 %, 70 %): 45, 50, 30 -> 0; d5 (70 %, 85 %): 100, 80, 90 -> 2/3
    assert c.at["broad", "feasibility"] == pytest.approx((0.6 * 0 + 0.3 * 2 / 3) / 0.9)


def test_peers_follow_the_peer_group(small):
    small.a.params["peer_group"] = {"by": "list", "members": ["M3", "M4"]}
    c = small.crit().set_index("theme_id")
    assert c.at["gap", "n_peers"] == 2
    # d1: M3 (100) and M4 (60) closed half of the gap -> 1; d2: only M4 (100) -> 1/2
    assert c.at["gap", "feasibility"] == pytest.approx((0.8 * 1 + 0.5 * 0.5) / 1.3)


def test_cost_is_a_cost_criterion_from_the_cost_class(small):
    c = small.crit().set_index("theme_id")
    assert (c.at["gap", "cost"], c.at["broad", "cost"], c.at["none", "cost"]) == (0.0, 0.5, 1.0)
    cheaper = Small(small.a, costs={**COSTS, "broad": "low"})
    assert (cheaper.opp().set_index("theme_id").at["broad", "ws_score"]
            == pytest.approx(small.opp().set_index("theme_id").at["broad", "ws_score"] + 0.2 * 0.5))


def test_evidence_is_shown_not_ranked_and_can_filter(small):
    simulated = Small(make_assessment(BASE, {("M1", "d1"): "simulated"}))
    c = simulated.crit().set_index("theme_id")
    assert c.at["gap", "evidence"] == pytest.approx(0.5 / 1.3)  # d2's gap of 0.5 is observed, d1's 0.8 is not
    assert small.crit().set_index("theme_id").at["gap", "evidence"] == 1.0
    pd.testing.assert_series_equal(simulated.opp()["ws_score"], small.opp()["ws_score"])
    assert "38 % of its need rests on published or city-supplied values" in \
        simulated.opp().set_index("theme_id").at["gap", "explanation"]
    strict = Small(make_assessment(BASE, {("M1", "d1"): "simulated"}, invest_params={"min_evidence": 0.5}))
    o = strict.opp().set_index("theme_id")
    assert o.at["gap", "status"] == invest.FILTERED and o.at["broad", "ws_rank"] == 1
    assert o.at["gap", "ws_rank"] == 2 and o.at["gap", "explanation"].startswith("Not ranked: only 38 %")


def test_a_shared_data_point_is_split_between_its_themes(small):
    spec = {"x": (["d1", "d2"], "6.1"), "y": (["d1", "d4"], "6.1;13.1"), "z": (["d5"], "13.1")}
    s = Small(small.a, spec, {"x": "low", "y": "low", "z": "low"})
    dp, sdg = invest.shares(s.th)
    assert dp.set_index(["theme_id", "data_point_id"])["u"].to_dict() == {
        ("x", "d1"): 0.5, ("x", "d2"): 1.0, ("y", "d1"): 0.5, ("y", "d4"): 1.0, ("z", "d5"): 1.0}
    assert sdg.set_index(["theme_id", "sdg_target"])["v"].to_dict() == {
        ("x", "6.1"): 0.5, ("y", "6.1"): 0.5, ("y", "13.1"): 0.5, ("z", "13.1"): 0.5}
    c = s.crit().set_index("theme_id")
    U, V = 1.5, 1.0  # largest total weights: x and y weigh 1.5 in data points, y weighs 1 in targets
    assert c.at["x", "need"] == pytest.approx((0.5 * 0.8 + 0.5) / U)
    assert c.at["y", "need"] == pytest.approx((0.5 * 0.8 + 0.6) / U)
    # every data point counts once: the needs add up to the sum of the gaps of d1, d2, d4, d5
    assert c["need"].sum() * U == pytest.approx(0.8 + 0.5 + 0.6 + 0.3)
    # SDG gaps of M1 (a row's targets link each of the theme's rows): 6.1 <- d1, d2, d4; 13.1 <- d1, d4, d5
    g61, g131 = (0.8 + 0.5 + 0.6) / 3, (0.8 + 0.6 + 0.3) / 3
    assert c.at["y", "impact"] == pytest.approx((0.5 * g61 + 0.5 * g131) / V)
    assert c["impact"].sum() * V == pytest.approx(g61 + g131)


def test_greenhouse_gas_emissions_weigh_one_fifth_in_each_of_its_five_themes(cat):
    dp, _ = invest.shares(invest.load_themes(cat=cat))
    ghg = dp[dp["data_point_id"] == "EN: EN: AQ: 2C"]
    assert len(ghg) == 5 and ghg["u"].tolist() == pytest.approx([0.2] * 5)
    assert dp.groupby("data_point_id")["u"].sum().tolist() == pytest.approx([1.0] * dp["data_point_id"].nunique())


# ----------------------------------------------------------------------------- ranking
def test_weighted_sum_of_the_small_example_by_hand(small):
    o = small.opp().set_index("theme_id")
    gap = np.array([0.65, 2 * 0.65 / 6, (0.8 + 0.5 * 2 / 3) / 1.3, 0.0])
    broad = np.array([0.45, 4 * 0.45 / 6, 0.2 / 0.9, 0.5])
    benefit = lambda x: np.array([x[0], x[1], x[2], 1 - x[3]])  # noqa: E731 - cost -> 1 - cost
    assert o.at["gap", "ws_score"] == pytest.approx(W @ benefit(gap))
    assert o.at["broad", "ws_score"] == pytest.approx(W @ benefit(broad))
    # PROMETHEE II, two themes: gap is better on need, feasibility and cost, broad on impact
    assert o.at["gap", "promethee_score"] == pytest.approx((0.75 - 0.25 + 1) / 2)
    assert (o.at["gap", "ws_rank"], o.at["gap", "topsis_rank"], o.at["gap", "promethee_rank"]) == (1, 1, 1)
    assert o.at["gap", "driver"] == "feasibility"  # 0.2 · (0.872 − 0.547) beats 0.35 · (0.65 − 0.55) and 0.2 · 0.5
    assert o.at["gap", "drag"] == "impact"


def test_theme_without_gap_ranks_last_even_when_best_on_everything_else(small):
    for weights in (None, {"need": 0.01, "impact": 1, "feasibility": 1, "cost": 1}):
        o = small.opp(weights=weights).set_index("theme_id")
        for column in invest.RANK_COLUMNS.values():
            assert o.at["none", column] == 3
    assert "no gap" in o.at["none", "explanation"]


def test_theme_without_scored_data_is_listed_with_a_reason(small):
    o = small.opp()
    row = o.set_index("theme_id").loc["unscored"]
    assert pd.isna(row["ws_rank"]) and pd.isna(row["topsis_rank"]) and pd.isna(row["promethee_rank"])
    assert row["explanation"].startswith("Not ranked") and "M1" in row["explanation"]
    assert o["theme_id"].iloc[-1] == "unscored"
    assert "unscored" not in set(small.stab()["theme_id"])


def test_priority_multiplies_every_method_score(small):
    prio = Small(make_assessment(BASE, invest_params={"theme_priorities": {"broad": 3.0}}))
    base, more = small.opp().set_index("theme_id"), prio.opp().set_index("theme_id")
    for column in invest.SCORE_COLUMNS.values():
        assert more.at["broad", column] == pytest.approx(3 * base.at["broad", column])
    assert more.at["broad", "ws_rank"] == 1 and "priority ×3.00" in more.at["broad", "explanation"]
    with pytest.raises(InputError, match="theme_priorities"):
        Small(make_assessment(BASE, invest_params={"theme_priorities": {"nope": 2}})).opp()


def test_retired_and_unknown_criteria_are_named(small):
    for key, text in (("confidence", "no longer a criterion"), ("sdg_breadth", "replaced by 'impact'"),
                      ("luck", "unknown criteria")):
        a = make_assessment(BASE, invest_params={"criteria_weights": {key: 0.2}})
        with pytest.raises(InputError, match=text):
            invest.criteria_weights(a)
    # a criterion the parameters leave out keeps its default weight
    a = make_assessment(BASE, invest_params={"criteria_weights": {"need": 0.35}})
    assert invest.criteria_weights(a) == pytest.approx(W)


@settings(max_examples=40, deadline=None)
@given(arrays(float, st.tuples(st.integers(2, 7), st.just(4)), elements=st.floats(0.01, 1)),
       arrays(float, 4, elements=st.floats(0.05, 1)), st.integers(0, 3))
def test_doubling_a_weight_property(X, w, j):
    """Weighted sum: the alternative best on criterion j never loses rank when w_j doubles."""
    w2 = w.copy()
    w2[j] *= 2
    s1, s2 = invest.weighted_sum(X, w), invest.weighted_sum(X, w2)
    best = int(np.argmin(X[:, j]) if invest.TYPES[j] < 0 else np.argmax(X[:, j]))
    rank = lambda s: int((s > s[best] + 1e-12).sum())  # noqa: E731 - competition rank - 1
    assert rank(s2) <= rank(s1)


# ----------------------------------------------------------------------------- methods, by hand
X3 = np.array([[2, 1, 2], [1, 2, 2], [2, 2, 1]], dtype=float)
W3 = np.array([0.5, 0.3, 0.2])


def test_weighted_sum_agrees_with_a_hand_computed_example():
    X = np.array([[0.2, 0.8, 0.5], [0.6, 0.4, 0.0], [1.0, 0.0, 1.0]])
    types = np.array([1, 1, -1])
    # A1 = .5·.2 + .3·.8 + .2·(1 − .5); A2 = .5·.6 + .3·.4 + .2·1; A3 = .5·1
    assert invest.weighted_sum(X, W3, types) == pytest.approx([0.44, 0.62, 0.5])
    assert invest.scores_many("weighted_sum", X, W3[None, :], types)[0] == pytest.approx([0.44, 0.62, 0.5])


def test_topsis_agrees_with_a_hand_computed_example():
    # Columns are (2,1,2), (1,2,2), (2,2,1): each has norm 3, so r = x / 3.
    # v = w·r:  A1 = (1/3, 1/10, 2/15), A2 = (1/6, 1/5, 2/15), A3 = (1/3, 1/5, 1/15)
    # ideal v+ = (1/3, 1/5, 2/15), anti-ideal v- = (1/6, 1/10, 1/15)
    d_plus = np.array([1 / 10, 1 / 6, 1 / 15])
    d_minus = np.array([math.sqrt((1 / 6) ** 2 + (1 / 15) ** 2), math.sqrt((1 / 10) ** 2 + (1 / 15) ** 2),
                        math.sqrt((1 / 6) ** 2 + (1 / 10) ** 2)])
    hand = d_minus / (d_plus + d_minus)
    assert hand == pytest.approx([0.64223, 0.41898, 0.74461], abs=1e-5)
    ones = np.ones(3)
    assert invest.topsis(X3, W3, ones) == pytest.approx(hand, abs=1e-12)
    assert invest.scores_many("topsis", X3, W3[None, :], ones)[0] == pytest.approx(hand, abs=1e-12)


def test_topsis_with_a_cost_criterion_by_hand():
    # third column a cost: r = 1 − x / 3 = (1/3, 1/3, 2/3), v = (1/15, 1/15, 2/15)
    # A1 = (1/3, 1/10, 1/15), A2 = (1/6, 1/5, 1/15), A3 = (1/3, 1/5, 2/15) = the ideal point
    types = np.array([1, 1, -1])
    d_plus = np.array([math.hypot(1 / 10, 1 / 15), math.hypot(1 / 6, 1 / 15), 0.0])
    d_minus = np.array([1 / 6, 1 / 10, math.sqrt((1 / 6) ** 2 + (1 / 10) ** 2 + (1 / 15) ** 2)])
    hand = d_minus / (d_plus + d_minus)
    assert invest.topsis(X3, W3, types) == pytest.approx(hand, abs=1e-12)
    assert invest.scores_many("topsis", X3, W3[None, :], types)[0] == pytest.approx(hand, abs=1e-12)
    assert hand[2] == 1.0


def test_promethee_ii_agrees_with_a_hand_computed_example():
    X = np.array([[4, 3, 2], [3, 2, 4], [5, 1, 3]], dtype=float)
    # usual preference: pi(1,2) = .5 + .3 = .8, pi(2,1) = .2; pi(1,3) = .3, pi(3,1) = .7;
    # pi(2,3) = .3 + .2 = .5, pi(3,2) = .5; phi = (row sum − column sum) / (n − 1)
    assert invest.promethee_ii(X, W3, np.ones(3)) == pytest.approx([0.1, -0.3, 0.2])
    # third column a cost: pi(1,2) = 1, pi(2,1) = 0; pi(1,3) = .5, pi(3,1) = .5; pi(2,3) = .3, pi(3,2) = .7
    types = np.array([1, 1, -1])
    hand = np.array([(1.5 - 0.5) / 2, (0.3 - 1.7) / 2, (1.2 - 0.8) / 2])
    assert invest.promethee_ii(X, W3, types) == pytest.approx(hand)
    assert invest.scores_many("promethee_ii", X, W3[None, :], types)[0] == pytest.approx((hand + 1) / 2)


@settings(max_examples=30, deadline=None)
@given(arrays(float, st.tuples(st.integers(2, 8), st.just(4)), elements=st.floats(0, 1)),
       arrays(float, (3, 4), elements=st.floats(0.01, 1)), st.sampled_from(invest.METHODS))
def test_vectorised_scores_match_pymcdm_per_draw(X, W, method):
    many = invest.scores_many(method, X, W)
    for k in range(W.shape[0]):
        assert many[k] == pytest.approx(invest.method_score(method, X, W[k]), abs=1e-9)


def test_topsis_with_a_zero_column_stays_finite():
    X = np.array([[0.5, 0.0], [0.2, 0.0]])
    c = invest.topsis(X, np.array([0.5, 0.5]), np.ones(2))
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


def hand_criteria(rows: dict[str, tuple[float, float, float, float]]) -> pd.DataFrame:
    """A criteria frame for M1 written by hand: {theme: (need, impact, feasibility, cost)}."""
    return pd.DataFrame([{"municipality": "M1", "theme_id": t, "theme_name": t, "status": invest.RANKED,
                          "priority": 1.0, **dict(zip(invest.CRITERIA, x))} for t, x in rows.items()])


def test_stable_only_when_weights_and_methods_both_leave_it_in_place(small):
    # A wins the weighted sum by its need alone; B is better on three criteria out of four (PROMETHEE II)
    crit = hand_criteria({"A": (1.0, 0.0, 0.0, 0.0), "B": (0.1, 0.1, 0.1, 0.0), "C": (0.0, 0.0, 0.0, 0.0)})
    s = invest.stability(small.a, "M1", crit=crit, top=1, draws=400, concentration=2000,
                         methods=("weighted_sum", "promethee_ii")).set_index("theme_id")
    assert s.at["A", "p_top_weighted_sum"] == 1.0 and s.at["A", "p_top_promethee_ii"] == 0.0
    assert not s.at["A", "stable"] and s.at["A", "stability"] == "depends on the method"
    assert s.at["C", "stable"] and s.at["C", "stability"] == "stable outside top 1"
    # two themes close on every method: the weights decide
    crit = hand_criteria({"A": (0.6, 0.2, 0.5, 0.5), "B": (0.2, 0.6, 0.5, 0.5), "C": (0.0, 0.0, 0.0, 0.5)})
    s = invest.stability(small.a, "M1", crit=crit, top=1, draws=2000, concentration=5).set_index("theme_id")
    assert 0.2 < s.at["A", "p_top_weighted_sum"] < 0.8
    assert s.at["A", "stability"] == "depends on the weights" and not s.at["A", "stable"]


@pytest.mark.parametrize("draws", [10, 137, 2000])
def test_top3_probabilities_sum_to_three(real, draws):
    a, th = real
    s = invest.stability(a, "Ålesund", th, draws=draws)
    for column in ["p_top", *(f"p_top_{m}" for m in invest.METHODS)]:
        assert s[column].sum() == pytest.approx(3.0)
    assert s["p_rank1"].sum() == pytest.approx(1.0)
    assert (s["rank_p05"] <= s["rank_median"]).all() and (s["rank_median"] <= s["rank_p95"]).all()
    every = [s[f"p_top_{m}"] for m in invest.METHODS]
    assert (s["stable"] == (np.all([p >= 0.8 for p in every], axis=0) | np.all([p <= 0.2 for p in every], axis=0))).all()


def test_stability_is_deterministic_for_a_seed(real):
    a, th = real
    one = invest.stability(a, "Ålesund", th, draws=300)
    two = invest.stability(a, "Ålesund", th, draws=300)
    pd.testing.assert_frame_equal(one, two)
    assert one["draws"].iloc[0] == 300


def test_stability_puts_no_gap_themes_last(small):
    s = small.stab(draws=200).set_index("theme_id")
    assert s.at["none", "p_top"] == pytest.approx(1.0)  # only 3 scored themes: all in the top 3
    assert (s.at["none", "rank_p05"], s.at["none", "rank_p95"]) == (3, 3)


# ----------------------------------------------------------------------------- what-if
def test_what_if_closes_gaps_and_never_lowers_a_score(small):
    w = invest.what_if(small.a, "M1", "gap", small.th).set_index("dimension")
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
    with pytest.raises(InputError, match="unknown theme"):
        invest.what_if(small.a, "M1", "nope", small.th)


# ----------------------------------------------------------------------------- across municipalities
def test_joint_programmes_list_shared_top_themes_and_their_basis(small):
    j = invest.joint_programmes(small.a, top=1, themes=small.th, costs=small.costs)
    allr = invest.ranking_all(small.a, small.th, costs=small.costs)
    firsts = allr[(allr["ws_rank"] == 1) & (allr["status"] == invest.RANKED)]
    counts = firsts.groupby("theme_id")["municipality"].agg(lambda s: "; ".join(sorted(s)))
    shared = counts[counts.str.count(";") >= 1]
    assert len(shared) >= 1
    assert dict(zip(j["theme_id"], j["municipalities"])) == shared.to_dict()
    assert (j["basis"] == "real values").all()


def test_joint_programme_on_simulated_gaps_is_labelled(small):
    theme = invest.joint_programmes(small.a, top=1, themes=small.th, costs=small.costs)["theme_id"].iloc[0]
    dps = [dp for dp in DPS if dp in THEMES[theme][0]]
    members = invest.joint_programmes(small.a, top=1, themes=small.th, costs=small.costs)["municipalities"].iloc[0]
    keep_real = members.split("; ")[0]
    sim = {(m, dp): "simulated" for m in NAMES if m != keep_real for dp in dps}
    j = invest.joint_programmes(make_assessment(BASE, sim), top=1, themes=small.th, costs=small.costs)
    row = j.set_index("theme_id").loc[theme]
    assert row["n_real"] == 1 and row["basis"] == "rests on simulated values"
    assert "rests on simulated values" in row["explanation"]


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
    p = invest.profile_table(a, "Ålesund", th)
    assert {"p_top", "rank_p05", "rank_p95", "stable", "explanation", "cost_class", "evidence"} <= set(p.columns)
    assert p.loc[p["status"] == invest.RANKED, "explanation"].str.match(r"Ranks \d+(st|nd|rd|th) of \d+ \(").all()
    s = invest.synthesis_table(a, themes=th)
    assert set(s["municipality"]) == set(a.municipalities)
    j = invest.joint_programmes(a, themes=th)
    assert (j["n_municipalities"] >= 2).all()
    assert j["n_municipalities"].sum() <= 3 * len(a.municipalities)


def test_feasibility_and_impact_vary_across_the_panel(real):
    """The criteria that were near-constant or the same everywhere now depend on the place."""
    a, th = real
    c = invest.criteria(a, th)
    c = c[c["status"] == invest.RANKED]
    q1, q3 = c["feasibility"].quantile([0.25, 0.75])
    assert q3 - q1 > 0.1
    by_theme = c.groupby("theme_id")["impact"].agg(["min", "max"])
    assert (by_theme["max"] - by_theme["min"] > 0.01).all()


def test_unknown_municipality_is_an_input_error(small):
    with pytest.raises(InputError, match="unknown municipality"):
        small.opp("Oslo")


def test_profiles_share_the_panels_criteria_and_rank_joint_programmes_with_the_runs_panel():
    """A profile's criteria are its rows of every municipality's (``profile.panel_investment``, computed once per
    process), and its joint programmes are ranked with the run's panel, so that county peers are the synthesis's."""
    from analysis import assess, municipalities, params, profile

    values = params.load("Ålesund", ["panel=norway", "peer_group.by=county"])  # counties of all Norway
    a, panel = assess.stage(values), municipalities.load(values["panel"])
    themes = invest.load_themes(cat=a.catalogue)
    crit, joint = profile.panel_investment(a, values, themes, panel)
    for name in ("Ålesund", "Herøy (Nordland)"):
        own = crit[crit["municipality"] == name].reset_index(drop=True)
        pd.testing.assert_frame_equal(own, invest.criteria(a, themes, [name], panel))
    pd.testing.assert_frame_equal(joint, invest.joint_programmes(a, themes=themes, panel=panel))
    by_county = crit[crit["municipality"] == "Ålesund"]["n_peers"].iloc[0]
    assert by_county < len(a.municipalities) - 1  # the county's peers, not every other municipality
    assert profile.panel_investment(a, values, themes, panel)[0] is crit  # kept for the next profile


def test_profiles_alternating_peer_groups_compute_each_panels_criteria_once(monkeypatch):
    """Ålesund's own parameters take county peers: the profile after it, with the default peers, reuses the
    default's criteria instead of computing every municipality's again (seconds for all of Norway)."""
    from analysis import assess, municipalities, params, profile

    default, own = params.load("Bergen"), params.load("Ålesund")
    assert default["peer_group"] != own["peer_group"]
    a, panel = assess.stage(default), municipalities.load(default["panel"])
    themes = invest.load_themes(cat=a.catalogue)
    computed = []
    real = invest.criteria
    monkeypatch.setattr(invest, "criteria", lambda *args, **kw: computed.append(1) or real(*args, **kw))
    monkeypatch.setattr(profile, "_PANEL_INVESTMENT", {})
    kept = {}
    for values in (default, own, default, own):
        crit, _ = profile.panel_investment(a, values, themes, panel)
        assert kept.setdefault(values["peer_group"]["by"], crit) is crit
    assert len(computed) == 2
