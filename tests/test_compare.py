"""Cross-city comparisons: tests agree with scipy/statsmodels, planted effects found, too few values give reasons."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402
from statsmodels.stats.multitest import multipletests  # noqa: E402

from analysis import assess, compare, params, scoring  # noqa: E402


def synthetic(values: dict[str, list[float]], municipalities: list[str], simulated: set[tuple[str, str]] = frozenset(),
              dimension: dict[str, str] | None = None) -> pd.DataFrame:
    """A scored frame: one row per municipality × data point with a value (NaN values are left out)."""
    rows = []
    for dp, column in values.items():
        for m, v in zip(municipalities, column):
            if np.isnan(v):
                continue
            rows.append({"municipality": m, "data_point_id": dp, "year": 2020, "value": v,
                         "source_type": "simulated" if (m, dp) in simulated else "published",
                         "direction": "higher_is_better", "achievement_raw": v,
                         "achievement": min(max(v, 0.0), 100.0),
                         "dimension": (dimension or {}).get(dp, "Economy")})
    frame = pd.DataFrame(rows)
    frame["points"] = scoring.points(frame["achievement"])
    return frame


def synthetic_cat(dimension: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"data_point_id": list(dimension), "dimension": list(dimension.values()),
                         "sub_dimension": "S", "category": "C", "direction": "higher_is_better"})


NAMES = [f"M{i:02d}" for i in range(12)]
GROUPS = pd.Series(["A"] * 4 + ["B"] * 4 + ["C"] * 4, index=NAMES)


@pytest.fixture(scope="module")
def published_only() -> assess.Assessment:
    return assess.assess(params.load(overrides=["include_simulated=false"]))


@pytest.fixture(scope="module")
def complete() -> assess.Assessment:
    return assess.assess(params.load())


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_identical_groups_no_difference_and_planted_difference_found():
    same = [10.0, 20.0, 30.0, 40.0] * 3
    planted = [90.0, 91, 92, 93, 50, 51, 52, 53, 10, 11, 12, 13]
    frame = synthetic({"null1": same, "null2": same[::-1], "null3": same, "planted": planted}, NAMES)
    out = compare.group_tests(frame, GROUPS).set_index("data_point_id")
    assert (out.loc[["null1", "null2", "null3"], "q"] > 0.05).all()
    assert out.loc["planted", "q"] < 0.05
    assert out.loc["planted", "epsilon_squared"] > 0.8
    assert out.loc["planted", "n_per_group"] == "A=4; B=4; C=4"


def test_kruskal_and_bh_match_the_libraries(monkeypatch):
    # groups of 4 (< 5): H from scipy.stats.kruskal, p from scipy's permutation test of the same H, seeded
    monkeypatch.setattr(compare, "N_PERMUTATIONS", 999)  # the reference below calls scipy.stats.kruskal per resample
    rng = np.random.default_rng(3)
    values = {f"dp{i}": list(rng.normal(50 + 5 * i * (np.arange(12) // 4), 10)) for i in range(8)}
    out = compare.group_tests(synthetic(values, NAMES), GROUPS, seed=7)
    for row in out.itertuples():
        v = np.array(values[row.data_point_id])
        h, _ = stats.kruskal(v[:4], v[4:8], v[8:])
        ref = stats.permutation_test((v[:4], v[4:8], v[8:]), lambda *g: stats.kruskal(*g).statistic,
                                     permutation_type="independent", n_resamples=compare.N_PERMUTATIONS,
                                     alternative="greater", rng=7)
        assert row.H == pytest.approx(h) and row.p == pytest.approx(ref.pvalue)
        assert row.method == f"permutation ({compare.N_PERMUTATIONS} resamples)"
        assert row.epsilon_squared == pytest.approx(h / (12 - 1))
        assert row.eta_squared_h == pytest.approx((h - 3 + 1) / (12 - 3))
    np.testing.assert_allclose(out["q"], multipletests(out["p"], method="fdr_bh")[1])
    np.testing.assert_allclose(out["q"], stats.false_discovery_control(out["p"], method="bh"))


def test_kruskal_uses_the_chi2_approximation_from_five_per_group():
    rng = np.random.default_rng(4)
    names = [f"M{i:02d}" for i in range(15)]
    groups = pd.Series(["A"] * 5 + ["B"] * 5 + ["C"] * 5, index=names)
    v = rng.normal(size=15)
    row = compare.group_tests(synthetic({"x": list(v)}, names), groups).iloc[0]
    h, p = stats.kruskal(v[:5], v[5:10], v[10:])
    assert (row["H"], row["p"], row["method"]) == (pytest.approx(h), pytest.approx(p), "χ² approximation")


def test_permutation_rule_on_a_small_example_is_exact_and_hand_computed():
    # three groups of two, perfectly separated: 6!/(2!·2!·2!) = 90 relabellings, of which the 3! = 6
    # that keep the pairs {1,2}, {3,4}, {5,6} together reach the observed H = 4.571: p = 6/90
    names = NAMES[:6]
    groups = pd.Series(["A", "A", "B", "B", "C", "C"], index=names)
    row = compare.group_tests(synthetic({"x": [1.0, 2, 3, 4, 5, 6]}, names), groups).iloc[0]
    assert row["method"] == "exact"
    assert row["H"] == pytest.approx(12 / 42 * (9 / 2 + 49 / 2 + 121 / 2) - 21)
    assert row["p"] == pytest.approx(6 / 90)
    # the χ² approximation would claim p = 0.10 for the same H: the rule matters
    assert stats.chi2.sf(row["H"], 2) == pytest.approx(0.1017, abs=1e-4)
    # Mann–Whitney, 3 against 3 separated: 2 of C(6, 3) = 20 relabellings are as extreme, p = 0.1
    two = compare.two_group_test(synthetic({"x": [1.0, 2, 3, 4, 5, 6]}, names),
                                 pd.Series(["A"] * 3 + ["B"] * 3, index=names)).iloc[0]
    assert (two["method"], two["p"]) == ("exact", pytest.approx(0.1))
    assert two["p"] == pytest.approx(stats.mannwhitneyu([1, 2, 3], [4, 5, 6], method="exact").pvalue)
    # Spearman, 5 monotone pairs: 2 of 5! = 120 orderings are as extreme, p = 1/60
    corr = compare.correlations(synthetic({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 4, 6, 8, 10]}, NAMES[:5]),
                                pair_set="all").iloc[0]
    assert (corr["method"], corr["rho"], corr["p"]) == ("exact", pytest.approx(1.0), pytest.approx(2 / 120))


def test_eta_squared_h_corrects_the_small_sample_bias_of_epsilon_squared():
    # under the null H averages k − 1, so ε² = H/(n − 1) is biased upwards while η²_H averages about 0
    rng = np.random.default_rng(11)
    values = {f"dp{i}": list(rng.normal(size=12)) for i in range(40)}
    out = compare.group_tests(synthetic(values, NAMES), GROUPS)
    assert out["epsilon_squared"].mean() > 0.1
    assert abs(out["eta_squared_h"].mean()) < 0.05


def test_untestable_data_points_are_kept_with_a_reason():
    nan = np.nan
    frame = synthetic({
        "ok": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        "one_group": [1.0, 2, 3, 4] + [nan] * 8,
        "singletons": [1.0, nan, nan, nan, 2, nan, nan, nan, 3, nan, nan, nan],
        "flat": [5.0] * 12,
    }, NAMES)
    out = compare.group_tests(frame, GROUPS).set_index("data_point_id")
    assert out.loc["ok", "reason"] == "" and np.isfinite(out.loc["ok", "p"])
    for dp in ("one_group", "singletons"):
        assert "fewer than 2 groups" in out.loc[dp, "reason"] and np.isnan(out.loc[dp, "p"])
    assert out.loc["flat", "reason"] == "all values identical" and np.isnan(out.loc["flat", "q"])
    assert out.loc["singletons", "excluded_groups"] == "A, B, C"
    # q over the one tested data point only
    assert out.loc["ok", "q"] == pytest.approx(out.loc["ok", "p"])


def test_two_group_test_rank_biserial_and_scipy():
    names = NAMES[:8]
    groups = GROUPS[names]
    frame = synthetic({"up": [9.0, 8, 7, 6, 1, 2, 3, 4], "mixed": [1.0, 5, 2, 6, 3, 7, 4, 8]}, names)
    out = compare.two_group_test(frame, groups).set_index("data_point_id")
    assert out.loc["up", "rank_biserial"] == pytest.approx(1.0)
    assert out.loc["up", "r_ci_high"] == pytest.approx(1.0)
    res = stats.mannwhitneyu([1.0, 5, 2, 6], [3.0, 7, 4, 8], alternative="two-sided", method="exact")
    # 4 against 4 (< 5 per group): the exact permutation p, which is scipy's exact Mann–Whitney p without ties
    assert out.loc["mixed", "U"] == res.statistic and out.loc["mixed", "p"] == pytest.approx(res.pvalue)
    assert out.loc["mixed", "method"] == "exact"
    r = out.loc["mixed", "rank_biserial"]
    assert r == pytest.approx(2 * res.statistic / 16 - 1)
    assert -1 <= out.loc["mixed", "r_ci_low"] <= r <= out.loc["mixed", "r_ci_high"] <= 1
    np.testing.assert_allclose(out["q"], multipletests(out["p"], method="fdr_bh")[1])
    with pytest.raises(ValueError, match="name the two"):
        compare.two_group_test(synthetic({"x": [1.0] * 12}, NAMES), GROUPS)


def test_two_group_test_normal_approximation_from_five_per_group():
    rng = np.random.default_rng(5)
    v = rng.normal(size=12)
    groups = pd.Series(["A"] * 6 + ["B"] * 6, index=NAMES)
    row = compare.two_group_test(synthetic({"x": list(v)}, NAMES), groups).iloc[0]
    ref = stats.mannwhitneyu(v[:6], v[6:], alternative="two-sided", method="asymptotic")
    assert (row["method"], row["p"]) == ("normal approximation", pytest.approx(ref.pvalue))


def test_correlations_find_monotone_pairs_and_refuse_short_ones(monkeypatch):
    monkeypatch.setattr(compare, "N_PERMUTATIONS", 999)  # the reference below calls scipy.stats.spearmanr per resample
    base = np.arange(12, dtype=float)
    nan = np.nan
    frame = synthetic({"a": list(base), "b": list(base ** 2), "c": list(-base),
                       "short": [1.0, 2, 3] + [nan] * 9}, NAMES)
    out = compare.correlations(frame, pair_set="all", min_pairs=5).set_index(["data_point_a", "data_point_b"])
    assert out.loc[("a", "b"), "rho"] == pytest.approx(1.0)
    assert out.loc[("a", "c"), "rho"] == pytest.approx(-1.0)
    assert out.loc[("a", "b"), "method"] == "t approximation"
    assert out.loc[("a", "short"), "n"] == 3 and "fewer than 5" in out.loc[("a", "short"), "reason"]
    assert np.isnan(out.loc[("a", "short"), "rho"])
    tested = out["p"].notna()
    np.testing.assert_allclose(out.loc[tested, "q"], multipletests(out.loc[tested, "p"], method="fdr_bh")[1])
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=8), rng.normal(size=8)
    row = compare.correlations(synthetic({"x": list(x), "y": list(y)}, NAMES[:8]), pair_set="all").iloc[0]
    ref = stats.permutation_test((x,), lambda u: stats.spearmanr(u, y).statistic, permutation_type="pairings",
                                 n_resamples=compare.N_PERMUTATIONS, rng=0)
    assert row["rho"] == pytest.approx(stats.spearmanr(x, y).statistic) and row["p"] == pytest.approx(ref.pvalue)


def test_declared_pairs_are_within_category_only():
    cat = pd.DataFrame({"data_point_id": ["a", "b", "c", "d"], "dimension": "E", "sub_dimension": "S",
                        "category": ["C1", "C1", "C2", "C2"], "direction": "higher_is_better"})
    assert compare.declared_pairs(cat, ["d", "c", "b", "a"]) == [("a", "b"), ("c", "d")]
    assert len(compare.declared_pairs(cat, ["a", "b", "c", "d"], "all")) == 6
    frame = synthetic({k: list(np.arange(6.0) * (i + 1)) for i, k in enumerate("abcd")}, NAMES[:6])
    out = compare.correlations(frame, cat)
    assert list(zip(out["data_point_a"], out["data_point_b"])) == [("a", "b"), ("c", "d")]
    with pytest.raises(ValueError, match="registry"):
        compare.correlations(frame)


def test_real_values_leave_simulated_cells_out():
    frame = synthetic({"x": [1.0, 2.0, 3.0]}, NAMES[:3], simulated={("M01", "x")})
    assert compare.real_values(frame)["municipality"].tolist() == ["M00", "M02"]


def test_bootstrap_ci_mean_matches_scoring_and_reports_method(complete, published_only):
    ci = compare.bootstrap_dimension_ci(complete.scored, complete.catalogue, seed=1, n_resamples=500)
    dims = complete.levels["dimension"].set_index(["municipality", "dimension"])["mean_achievement"]
    joined = ci.set_index(["municipality", "dimension"])["mean"]
    np.testing.assert_allclose(joined, dims.reindex(joined.index))
    assert set(ci["method"]) <= {"BCa", "percentile", "percentile (BCa degenerate)"}
    ok = ci[ci["reason"] == ""]
    assert ((ok["ci_low"] <= ok["mean"]) & (ok["mean"] <= ok["ci_high"])).all()
    again = compare.bootstrap_dimension_ci(complete.scored, complete.catalogue, seed=1, n_resamples=500)
    pd.testing.assert_frame_equal(ci, again)
    sparse = compare.bootstrap_dimension_ci(published_only.scored, published_only.catalogue, seed=1,
                                            n_resamples=500, municipalities=published_only.municipalities)
    empty = sparse[sparse["n"] < 3]
    assert len(empty) > 0 and (empty["reason"] != "").all() and empty["ci_low"].isna().all()


def test_bootstrap_small_samples_use_percentile():
    frame = synthetic({f"dp{i}": [float(10 * i + j) for j in range(3)] for i in range(4)}, NAMES[:3])
    cat = synthetic_cat({f"dp{i}": "Economy" for i in range(4)})
    ci = compare.bootstrap_dimension_ci(frame, cat, seed=0, n_resamples=200, min_bca=8)
    assert (ci["method"] == "percentile").all() and (ci["n"] == 4).all()


def test_cluster_profiles_recovers_planted_groups_and_reports_exclusions():
    rng = np.random.default_rng(0)
    centre = np.r_[np.full(6, 20.0), np.full(6, 80.0)]
    values = {f"dp{i}": list(np.clip(centre + rng.normal(0, 3, 12), 0, 100)) for i in range(10)}
    values["rare"] = [50.0] + [np.nan] * 11
    values["dp0"][11] = np.nan
    dims = {dp: "Economy" for dp in values}
    out = compare.cluster_profiles(synthetic(values, NAMES), synthetic_cat(dims), min_coverage=0.6, n_clusters=2)
    assert out.linkage is not None
    assert out.clusters[NAMES[:6]].nunique() == 1 and out.clusters[NAMES[6:]].nunique() == 1
    assert out.clusters[NAMES[0]] != out.clusters[NAMES[6]]
    assert "rare" in set(out.excluded["item"]) and "rare" not in out.data_points
    assert np.isfinite(out.distances.to_numpy()).all()


def test_sparse_panel_comparisons_say_why(published_only):
    a = published_only
    groups = pd.Series({m: "Nordland" if m in ("Rana - Raane", "Bodø", "Narvik") else "other" for m in a.municipalities})
    tests = compare.group_tests(a.scored, groups)
    assert (tests["reason"] != "").any()
    assert tests.loc[tests["reason"] != "", "p"].isna().all()
    dims = compare.dimension_group_tests(a.levels["dimension"], groups)
    assert dims["n"].max() < 17
    clusters = compare.cluster_profiles(a.scored, a.catalogue)
    assert clusters.linkage is None and clusters.reason
    fig = compare.plot_dendrogram(clusters)
    assert "No clustering" in fig.axes[0].texts[0].get_text()


def test_coverage_and_overlap():
    frame = synthetic({"x": [1.0, 2.0, np.nan], "y": [np.nan, 5.0, 6.0]}, NAMES[:3], simulated={("M02", "y")})
    cov = compare.coverage(frame)
    assert len(cov) == 4 and cov["is_baseline"].all()
    wide = compare.coverage_matrix(cov, NAMES[:3], ["x", "y"])
    assert wide.loc["M00", "y"] == "none" and wide.loc["M02", "y"] == "simulated"
    assert wide.loc["M01", "x"] == "published"
    ov = compare.overlap(frame).set_index("data_point_id")
    assert ov.loc["y", "n_published"] == 1 and ov.loc["y", "n_simulated"] == 1 and ov.loc["y", "n_total"] == 2


def test_achievement_matrix_orders_by_dimension(complete):
    m = compare.achievement_matrix(complete.scored, complete.catalogue)
    dims = complete.catalogue.set_index("data_point_id").loc[m.columns, "dimension"]
    assert list(dims) == sorted(dims) and m.shape[0] == 17


def _labelled(ax: plt.Axes) -> bool:
    return bool(ax.get_xlabel()) and bool(ax.get_ylabel())


@pytest.mark.parametrize("grouped", [False, True])
def test_distribution_points_stand_at_their_box_with_their_marker(complete, monkeypatch, grouped):
    """Every drawn point is one scored value, at its box's position (±0.2 jitter), × when simulated; a panel larger
    than MAX_AXIS_ITEMS gets one box per county, labelled with its number of municipalities."""
    from analysis import municipalities
    s, cat = complete.scored, complete.catalogue
    names = sorted(s["municipality"].unique())
    county = municipalities.load().set_index("municipality")["county"]
    if grouped:
        monkeypatch.setattr(compare, "MAX_AXIS_ITEMS", 10)
    fig = compare.plot_distributions(s, cat, names, groups=county, group_label="county")
    boxes = sorted(county.unique()) if grouped else names
    box_of = county if grouped else pd.Series(names, index=names)
    labels = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    if grouped:
        assert labels == [f"{c} ({(county == c).sum()})" for c in boxes]
        assert fig.axes[-1].get_xlabel() == "county (municipalities in it)"
    else:
        assert labels == names and fig.axes[-1].get_xlabel() == "municipality"
    dims = sorted(cat.loc[cat["direction"] != "descriptive", "dimension"].unique())
    for ax, dimension in zip(fig.axes, dims):
        have = s[(s["dimension"] == dimension) & s["achievement"].notna()]
        for collection, simulated in zip(ax.collections, (False, True)):
            xy = collection.get_offsets()
            at = np.rint(xy[:, 0]).astype(int)
            assert np.all(np.abs(xy[:, 0] - at) <= 0.2)
            drawn = sorted(zip([boxes[i] for i in at], np.round(xy[:, 1], 9)))
            part = have[have["source_type"].eq("simulated") == simulated]
            assert drawn == sorted(zip(part["municipality"].map(box_of), np.round(part["achievement"], 9)))


def test_figures_have_titles_labels_and_a_simulated_legend(complete):
    s, cat = complete.scored, complete.catalogue
    for fig in (compare.plot_coverage(s, cat), compare.plot_achievement_heatmap(s, cat)):
        ax = fig.axes[0]
        assert ax.get_title() and _labelled(ax)
        legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
        assert "simulated" in legend
    fig = compare.plot_distributions(s, cat)
    assert fig._suptitle.get_text() and all(ax.get_ylabel() for ax in fig.axes) and fig.axes[-1].get_xlabel()
    assert "simulated" in " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert "Ålesund" in [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    clusters = compare.cluster_profiles(s, cat)
    ax = compare.plot_dendrogram(clusters).axes[0]
    assert ax.get_title() and _labelled(ax)
    bands = pd.DataFrame({"municipality": ["Bodø", "Ålesund"], "nominal_rank": [1.0, 2.0], "median_rank": [1.0, 2.0],
                          "p5_rank": [1.0, 1.0], "p95_rank": [2.0, 2.0], "share_simulated": [0.9, 0.1]})
    ax = compare.plot_rank_intervals(bands).axes[0]
    assert ax.get_title() and _labelled(ax)
    assert "mostly simulated" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    sobol = pd.DataFrame({"factor": ["goalposts", "weights"], "S1": [0.6, 0.2], "S1_conf": [0.02, 0.01],
                          "ST": [0.7, 0.3], "ST_conf": [0.03, 0.01], "n_evaluations": 80, "n_ranked": 5, "reason": ""})
    ax = compare.plot_sobol(sobol).axes[0]
    assert ax.get_title() and _labelled(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["weights", "goalposts"]  # first factor on top
    widths = sorted(round(b.get_width(), 6) for b in ax.patches)
    assert widths == [0.2, 0.3, 0.6, 0.7]
    empty = compare.plot_sobol(sobol.assign(S1=np.nan, ST=np.nan, reason="the ranks do not change")).axes[0]
    assert "the ranks do not change" in " ".join(t.get_text() for t in empty.texts)


def test_dendrogram_of_a_large_panel_shows_its_last_clusters_with_their_sizes(complete, monkeypatch):
    clusters = compare.cluster_profiles(complete.scored, complete.catalogue)
    full = [t.get_text() for t in compare.plot_dendrogram(clusters).axes[0].get_xticklabels()]
    assert sorted(full) == sorted(clusters.municipalities)
    monkeypatch.setattr(compare, "MAX_AXIS_ITEMS", 5)
    ax = compare.plot_dendrogram(clusters).axes[0]
    leaves = [t.get_text() for t in ax.get_xticklabels()]
    sizes = [int(x.strip("()")) if x.startswith("(") else 1 for x in leaves]
    assert len(leaves) == 5 and sum(sizes) == len(clusters.municipalities) and max(sizes) > 1
    assert ax.get_xlabel() == "cluster of municipalities" and "(n): a cluster of n" in ax.get_title()
