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


def test_kruskal_and_bh_match_the_libraries():
    rng = np.random.default_rng(3)
    values = {f"dp{i}": list(rng.normal(50 + 5 * i * (np.arange(12) // 4), 10)) for i in range(8)}
    out = compare.group_tests(synthetic(values, NAMES), GROUPS)
    for row in out.itertuples():
        v = np.array(values[row.data_point_id])
        h, p = stats.kruskal(v[:4], v[4:8], v[8:])
        assert row.H == pytest.approx(h) and row.p == pytest.approx(p)
        assert row.epsilon_squared == pytest.approx(h / (12 - 1))
    np.testing.assert_allclose(out["q"], multipletests(out["p"], method="fdr_bh")[1])
    np.testing.assert_allclose(out["q"], stats.false_discovery_control(out["p"], method="bh"))


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
    res = stats.mannwhitneyu([1.0, 5, 2, 6], [3.0, 7, 4, 8], alternative="two-sided")
    assert out.loc["mixed", "U"] == res.statistic and out.loc["mixed", "p"] == pytest.approx(res.pvalue)
    np.testing.assert_allclose(out["q"], multipletests(out["p"], method="fdr_bh")[1])
    with pytest.raises(ValueError, match="name the two"):
        compare.two_group_test(synthetic({"x": [1.0] * 12}, NAMES), GROUPS)


def test_correlations_find_monotone_pairs_and_refuse_short_ones():
    base = np.arange(12, dtype=float)
    nan = np.nan
    frame = synthetic({"a": list(base), "b": list(base ** 2), "c": list(-base),
                       "short": [1.0, 2, 3] + [nan] * 9}, NAMES)
    out = compare.correlations(frame, min_pairs=5).set_index(["data_point_a", "data_point_b"])
    assert out.loc[("a", "b"), "rho"] == pytest.approx(1.0)
    assert out.loc[("a", "c"), "rho"] == pytest.approx(-1.0)
    assert out.loc[("a", "short"), "n"] == 3 and "fewer than 5" in out.loc[("a", "short"), "reason"]
    assert np.isnan(out.loc[("a", "short"), "rho"])
    tested = out["p"].notna()
    np.testing.assert_allclose(out.loc[tested, "q"], multipletests(out.loc[tested, "p"], method="fdr_bh")[1])


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
