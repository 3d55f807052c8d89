"""Monte Carlo rank bands over construction choices: one ranked set per analysis, vectorised = per-draw oracle,
seeded, sane limits; the published-only comparison as its own table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import assess, params, targets, uncertainty

DIMS = ["Economy", "Environment", "Society and Culture"]
NAMES = ["Dominant", "Bodø", "Ålesund", "Tromsø", "Empty"]


def frame(values: np.ndarray, simulated: np.ndarray | None = None, names: list[str] = NAMES) -> pd.DataFrame:
    """Scored frame from a municipality × data point matrix of uncapped achievement (NaN = not reported).

    Data point j belongs to dimension ``DIMS[j % 3]``.
    """
    rows = []
    for i, m in enumerate(names):
        for j in range(values.shape[1]):
            if np.isnan(values[i, j]):
                continue
            rows.append({"municipality": m, "data_point_id": f"dp{j:02d}", "dimension": DIMS[j % 3],
                         "direction": "higher_is_better",
                         "source_type": "simulated" if simulated is not None and simulated[i, j] else "published",
                         "achievement_raw": values[i, j], "achievement": np.clip(values[i, j], 0, 100)})
    return pd.DataFrame(rows)


def keyed(scored: dict) -> dict:
    """Frames keyed by (data, target set) under the nominal goalpost rule and tolerance (the full key)."""
    return {(*k, uncertainty.CHOICES["goalposts"][0], uncertainty.CHOICES["tolerance"][0]): v
            for k, v in scored.items()}


@pytest.fixture(scope="module")
def toy() -> uncertainty.Inputs:
    """A dominant municipality (best on every data point), a municipality with no data, gaps elsewhere."""
    rng = np.random.default_rng(7)
    full = rng.uniform(5, 90, size=(len(NAMES), 12))
    full[0] = 99.0
    full[-1] = np.nan
    sparse = full.copy()
    sparse[1:4][rng.uniform(size=(3, 12)) < 0.4] = np.nan
    national = full.copy()
    national[1:4, :3] += 3.0
    national_sparse = np.where(np.isnan(sparse), np.nan, national)
    scored = {("with_simulated", "default"): frame(full, ~np.isnan(full) & np.isnan(sparse)),
              ("with_simulated", "national"): frame(national, ~np.isnan(full) & np.isnan(sparse)),
              ("published_only", "default"): frame(sparse), ("published_only", "national"): frame(national_sparse)}
    return uncertainty.from_scored(keyed(scored), NAMES, weights={"Economy": 2.0, "Environment": 1.0})


@pytest.fixture(scope="module")
def real() -> tuple[uncertainty.Inputs, dict]:
    values = params.load()
    return uncertainty.prepare(values), values


def test_dominant_municipality_ranked_first_in_every_draw(toy):
    log = uncertainty.sample_design(toy, 500, seed=1)
    ranks = uncertainty.draw_ranks(toy, log)
    assert (ranks["Dominant"] == 1).all()
    assert ranks["Empty"].isna().all()  # no data: never imputed into a ranking
    bands, _ = uncertainty.monte_carlo_ranks(toy, 500, seed=1)
    row = bands.set_index("municipality").loc["Dominant"]
    assert row["p5_rank"] == row["p95_rank"] == row["nominal_rank"] == 1
    empty = bands.set_index("municipality").loc["Empty"]
    assert not empty["ranked"] and np.isnan(empty["median_rank"])
    assert empty["reason"] == "no index under any of the choices (no scoreable values)"


def test_bands_collapse_when_every_choice_is_fixed(toy, real):
    for inputs in (toy, real[0]):
        fixed = {k: [v] for k, v in inputs.nominal.items()}
        bands, log = uncertainty.monte_carlo_ranks(inputs, 200, seed=3, choices=fixed, weights="fixed")
        ranked = bands.dropna(subset=["nominal_rank"])
        assert (ranked["p5_rank"] == ranked["p95_rank"]).all()
        assert (ranked["p5_rank"] == ranked["nominal_rank"]).all()
        assert (ranked["median_rank"] == ranked["nominal_rank"]).all()
        assert (log["mean_abs_rank_shift"] == 0).all()


def test_vectorised_equals_per_draw_loop(toy, real):
    for inputs, n in ((toy, 40), (real[0], 12)):
        log = uncertainty.sample_design(inputs, n, seed=11)
        assert all(set(log[c]) == set(inputs.options[c]) for c in uncertainty.DISCRETE)  # every option drawn
        pd.testing.assert_frame_equal(uncertainty.draw_ranks(inputs, log), uncertainty.per_draw_loop(inputs, log),
                                      check_dtype=False)
        bands, mc_log = uncertainty.monte_carlo_ranks(inputs, n // 2, seed=11)
        ranked = bands.loc[bands["ranked"], "municipality"].tolist()
        oracle = uncertainty.per_draw_loop(inputs, mc_log, among=ranked)
        pd.testing.assert_frame_equal(uncertainty.draw_ranks(inputs, mc_log, among=ranked), oracle, check_dtype=False)
        assert (oracle.notna().sum(axis=1) == len(ranked)).all()


def test_every_option_combination_equals_the_oracle(real):
    inputs = real[0]
    combos = pd.MultiIndex.from_product([inputs.options[c] for c in uncertainty.DISCRETE],
                                        names=list(uncertainty.DISCRETE)).to_frame(index=False)
    combos.insert(0, "draw", range(len(combos)))
    w = np.random.default_rng(0).dirichlet(np.ones(len(inputs.dimensions)), size=len(combos))
    for col, values in zip(uncertainty.weight_columns(inputs), w.T):
        combos[col] = values
    pd.testing.assert_frame_equal(uncertainty.draw_ranks(inputs, combos), uncertainty.per_draw_loop(inputs, combos),
                                  check_dtype=False)


def test_nominal_index_is_the_assessment_overall_index(real):
    inputs, values = real
    a = assess.assess(values)
    index = uncertainty.draw_index(inputs, uncertainty.nominal_log(inputs))[0]
    expected = a.overall.set_index("municipality")["index"].reindex(inputs.municipalities)
    np.testing.assert_allclose(index, expected.to_numpy())


def test_seeded_runs_are_reproducible(real):
    inputs = real[0]
    b1, l1 = uncertainty.monte_carlo_ranks(inputs, 1000, seed=5)
    b2, l2 = uncertainty.monte_carlo_ranks(inputs, 1000, seed=5)
    pd.testing.assert_frame_equal(b1, b2)
    pd.testing.assert_frame_equal(l1, l2)
    _, l3 = uncertainty.monte_carlo_ranks(inputs, 1000, seed=6)
    assert not l1.equals(l3)
    assert {"draw", *uncertainty.DISCRETE, *uncertainty.weight_columns(inputs)} <= set(l1.columns)
    np.testing.assert_allclose(l1[uncertainty.weight_columns(inputs)].sum(axis=1), 1.0)
    assert ((b1["p5_rank"] <= b1["median_rank"]) & (b1["median_rank"] <= b1["p95_rank"])).all()


def test_sparse_data_ranks_only_municipalities_with_data(real):
    inputs = real[0]
    bands, log = uncertainty.monte_carlo_ranks(inputs, 300, seed=2, choices={"data": ["published_only"]})
    n = log["n_ranked"].iloc[0]
    assert (log["n_ranked"] == n).all() and 2 <= n < len(inputs.municipalities)
    assert set(log["data"]) == {"published_only"}
    ranked = bands[bands["ranked"]]
    assert len(ranked) == n and (ranked["p95_rank"] <= n).all() and (ranked["nominal_rank"] <= n).all()
    unranked = bands[~bands["ranked"]]
    assert unranked[["nominal_rank", "median_rank", "p5_rank", "p95_rank"]].isna().all().all()
    assert unranked["reason"].str.startswith("no index under").all()


def test_rank_bands_never_mix_rankings_of_different_sets(real):
    inputs = real[0]
    n_all = len(inputs.municipalities)
    bands, log = uncertainty.monte_carlo_ranks(inputs, 2000, seed=4)
    assert set(log["data"]) == {inputs.nominal["data"]}  # the data choice is not mixed into the bands
    assert (log["n_ranked"] == n_all).all() and (bands["n_ranked"] == n_all).all()
    assert len({tuple(row) for row in uncertainty.draw_ranks(inputs, log.head(200)).notna().to_numpy()}) == 1
    # varying the data choice explicitly ranks only the municipalities rankable under both options, in every draw
    both, both_log = uncertainty.monte_carlo_ranks(inputs, 2000, seed=4, choices={"data": list(inputs.options["data"])})
    n = int(both_log["n_ranked"].iloc[0])
    assert (both_log["n_ranked"] == n).all() and n < n_all
    assert set(both_log["data"]) == set(inputs.options["data"])
    assert (both.dropna(subset=["median_rank"])["p95_rank"] <= n).all()
    karmoy = both.set_index("municipality").loc["Karmøy", "reason"]
    # Karmøy's published data points have fewer than 3 reporters: no percentile worst, no min-max or rank
    assert karmoy == ("no index under data=published_only with goalposts=percentile, "
                      "data=published_only with normalisation=minmax, data=published_only with normalisation=rank")
    mixed = np.array([[1.0, 2.0, np.nan], [1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="different sets"):
        uncertainty.rank_bands(uncertainty.Inputs(**{**toy_fields(inputs), "municipalities": ["a", "b", "c"]}),
                               mixed, np.array([1.0, 2.0, np.nan]))


def toy_fields(inputs: uncertainty.Inputs) -> dict:
    return {f: getattr(inputs, f) for f in uncertainty.Inputs.__dataclass_fields__}


def test_competition_ranks_equal_scipy_rankdata():
    rng = np.random.default_rng(0)
    x = np.round(rng.uniform(0, 10, size=(200, 30)), 0)  # many ties
    np.testing.assert_array_equal(uncertainty.competition_ranks(x), stats.rankdata(-x, method="min", axis=-1))
    index = np.array([[3.0, np.nan, 1.0], [2.0, 5.0, np.nan]])
    np.testing.assert_array_equal(uncertainty.rank_index(index), [[1.0, np.nan, 2.0], [2.0, 1.0, np.nan]])
    np.testing.assert_array_equal(uncertainty.rank_index(np.array([1.0, 3.0, 3.0])), [3.0, 1.0, 1.0])


def test_percentiles_of_rank_counts_equal_numpy_percentile():
    rng = np.random.default_rng(3)
    for draws in (1, 2, 7, 1000):
        ranks = rng.integers(1, 6, size=(draws, 4))
        counts = np.stack([np.bincount(ranks[:, m] - 1, minlength=5) for m in range(4)])
        for q in (5, 50, 95):
            np.testing.assert_array_equal(uncertainty.percentile_of_counts(counts, q),
                                          np.percentile(ranks, q, axis=0))
    assert np.isnan(uncertainty.percentile_of_counts(np.zeros((2, 3), dtype=int), 50)).all()


def test_chunked_rank_statistics_equal_the_full_rank_array(real):
    inputs = real[0]
    allowed = uncertainty.main_choices(inputs)
    ranked = uncertainty.rankable(inputs, allowed)["ranked"].to_numpy()
    log = uncertainty.sample_design(inputs, 3000, seed=8, choices=allowed)
    ranks = uncertainty.rank_index(uncertainty.draw_index(inputs, log), ranked)
    nominal = ranks[0]
    shift, counts = uncertainty.rank_statistics(inputs, log, ranked, nominal)
    np.testing.assert_array_equal(shift, np.abs(ranks - nominal).mean(axis=1))
    expected = np.stack([np.bincount(ranks[:, m].astype(int) - 1, minlength=int(ranked.sum()))
                         for m in range(len(ranked))])
    np.testing.assert_array_equal(counts, expected)


def test_weight_modes_and_bad_choices(toy):
    log = uncertainty.sample_design(toy, 100, seed=0, weights="uniform", spread=0.2)
    w = log[uncertainty.weight_columns(toy)].to_numpy()
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert w[:, 0].mean() > w[:, 1].mean()  # nominal weight 2 on Economy
    with pytest.raises(ValueError, match="not available"):
        uncertainty.sample_design(toy, 10, seed=0, choices={"normalisation": ["zscore"]})
    with pytest.raises(ValueError, match="unknown construction choice"):
        uncertainty.sample_design(toy, 10, seed=0, choices={"colour": ["red"]})


def test_sobol_indices_attribute_variance_to_what_varies(toy, real):
    fixed = {k: [v] for k, v in toy.nominal.items()}
    only_norm = dict(fixed, normalisation=list(toy.options["normalisation"]))
    out = uncertainty.sobol_indices(toy, n_base=64, seed=1, choices=only_norm, weights="fixed")
    assert list(out["factor"]) == ["normalisation"]
    default = uncertainty.sobol_indices(real[0], n_base=64, seed=1)  # the choices of the rank bands: data fixed
    assert list(default["factor"]) == ["target_set", "goalposts", "tolerance", "outliers", "normalisation", "missing",
                                      "aggregation", "weights"]
    assert np.isfinite(default[["S1", "ST"]].to_numpy()).all() and (default["reason"] == "").all()
    assert (default["n_ranked"] == len(real[0].municipalities)).all()
    explicit = uncertainty.sobol_indices(toy, n_base=64, seed=1, choices={"data": list(toy.options["data"])})
    # the toy has one goalpost rule and one tolerance: not factors
    assert set(explicit["factor"]) == {"data", "target_set", "outliers", "normalisation", "missing", "aggregation",
                                       "weights"}


def test_sobol_intervals_shrink_with_the_base_sample(real):
    # the confidence intervals must be small against the indices the synthesis reports
    small = uncertainty.sobol_indices(real[0], n_base=64, seed=2)
    large = uncertainty.sobol_indices(real[0], n_base=1024, seed=2)
    assert large["ST_conf"].mean() < small["ST_conf"].mean() / 2
    main = large[large["ST"] > 0.1]
    assert len(main) and (main["ST_conf"] < main["ST"] / 2).all()


def test_default_weights_are_uniform_within_a_quarter_of_the_nominal_ones(toy):
    log = uncertainty.sample_design(toy, 2000, seed=0)
    pd.testing.assert_frame_equal(log, uncertainty.sample_design(toy, 2000, seed=0, weights="uniform", spread=0.25))
    w = log[uncertainty.weight_columns(toy)].to_numpy()
    ratio = w[:, 0] / w[:, 1]            # nominal 2 : 1, each weight times U(0.75, 1.25)
    assert ratio.min() >= 2 * 0.75 / 1.25 - 1e-12 and ratio.max() <= 2 * 1.25 / 0.75 + 1e-12
    dirichlet = uncertainty.sample_design(toy, 2000, seed=0, weights="dirichlet")["w_Environment"].to_numpy()
    cv = np.std(dirichlet) / (1 / 4)
    assert cv > 0.3  # the Dirichlet option (concentration 10) is much noisier


# --------------------------------------------------------------------------------------------
# outlier treatment (COINr's default rule)


def excel_skew(x):
    n, m, sd = len(x), np.mean(x), np.std(x, ddof=1)
    return n / ((n - 1) * (n - 2)) * np.sum(((x - m) / sd) ** 3)


def excel_kurt(x):
    n, m, sd = len(x), np.mean(x), np.std(x, ddof=1)
    return (n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * np.sum(((x - m) / sd) ** 4)
            - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def test_skew_and_kurtosis_are_the_small_sample_adjusted_ones():
    x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100])
    skew, kurt = uncertainty.skew_kurtosis(x)
    assert skew == pytest.approx(excel_skew(x)) and kurt == pytest.approx(excel_kurt(x))
    assert np.isnan(uncertainty.skew_kurtosis(np.array([1.0, 2, 3]))[0])
    for n in (4, 7, 40):
        y = np.random.default_rng(n).lognormal(size=n)
        assert uncertainty.skew_kurtosis(y) == pytest.approx((stats.skew(y, bias=False), stats.kurtosis(y, bias=False)))


def test_outlier_rule_passes_winsorises_then_logs():
    calm = np.arange(1.0, 13.0)
    out, how, k = uncertainty.treat_outliers(calm)
    assert how == "none" and k == 0 and np.array_equal(out, calm)
    # COINr's vignette example: 1..10 with two outliers 30 and 100 fails; winsorising 100 → 30 then
    # 30, 30 → 10 brings it within the limits
    x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100])
    assert abs(excel_skew(x)) >= 2 and excel_kurt(x) >= 3.5
    out, how, k = uncertainty.treat_outliers(x)
    assert how == "winsorised" and k >= 1
    assert out.max() < 100 and np.array_equal(out[:10], x[:10])
    assert abs(excel_skew(out)) < 2 or excel_kurt(out) < 3.5
    # one low outlier (negative skew) is winsorised at the low end
    low = -x
    out, how, k = uncertainty.treat_outliers(low)
    assert how == "winsorised" and out.min() > -100
    # six extreme points cannot be fixed by winsorising five: log (COINr's log_CT_plus) on the original range
    heavy = np.r_[np.zeros(20), [1e3, 1e4, 1e5, 1e6, 1e7, 1e8]]
    out, how, k = uncertainty.treat_outliers(heavy)
    assert how == "log" and out.min() == pytest.approx(0.0) and out.max() == pytest.approx(1e8)
    assert np.all(np.diff(out[np.argsort(heavy)]) >= 0)  # monotone


def test_log_rescaled_by_hand():
    x = np.array([0.0, 1.0, 100.0])
    a = 1.0
    y = np.log(x - 0.0 + a)
    expected = 100.0 * (y - y.min()) / (y.max() - y.min())
    np.testing.assert_allclose(uncertainty.log_rescaled(x), expected)


def test_outlier_treatment_is_a_choice_on_the_real_panel(real):
    inputs = real[0]
    assert inputs.options["outliers"] == ("none", "coinr") and inputs.nominal["outliers"] == "none"
    t = inputs.treatments
    assert set(t["treatment"]) <= {"none", "winsorised", "log"} and (t["treatment"] != "none").any()
    fixed = {k: [v] for k, v in inputs.nominal.items()}
    none = uncertainty.draw_index(inputs, uncertainty.nominal_log(inputs))[0]
    coinr = uncertainty.draw_index(inputs, uncertainty.nominal_log(inputs, {"outliers": "coinr"}))[0]
    assert not np.allclose(none, coinr)
    bands, log = uncertainty.monte_carlo_ranks(inputs, 200, seed=1, choices=dict(fixed, outliers=["none", "coinr"]))
    assert set(log["outliers"]) == {"none", "coinr"}


# --------------------------------------------------------------------------------------------
# leave one data point out


def test_leave_one_out_by_hand():
    # A leads B only on dp00 (Economy); without it, B leads. dp01–dp03 cannot change the order.
    names = ["A", "B", "C"]
    values = np.array([[100.0, 50, 50, 50, 50, 50],
                       [0.0, 60, 50, 50, 50, 50],
                       [0.0, 0, 0, 0, 0, 0]])
    inputs = uncertainty.from_scored(keyed({("with_simulated", "default"): frame(values, names=names)}), names)
    out = uncertainty.leave_one_out(inputs).set_index("data_point_id")
    # nominal: Economy A 75, B 30; index A (75+50+50)/3 = 58.3 > B (30+55+50)/3 = 45: ranks A 1, B 2, C 3
    # without dp00: Economy A 50, B 50 → A 50 < B 51.7: A and B swap, so 2 of 3 ranks move by 1
    assert out.loc["dp00", "n_rank_changed"] == 2 and out.loc["dp00", "max_abs_rank_shift"] == 1
    assert out.loc["dp00", "mean_abs_rank_shift"] == pytest.approx(2 / 3)
    assert out.loc["dp02", "n_rank_changed"] == 0
    assert out.index[0] == "dp00" and (out["n_ranked"] == 3).all()
    assert list(out.columns) == uncertainty.LEAVE_ONE_OUT_COLUMNS[1:]


def test_leave_one_out_on_the_real_panel_equals_a_reassessment_without_the_data_point(real):
    inputs, values = real
    out = uncertainty.leave_one_out(inputs)
    assert len(out) == len(inputs.data_points) and (out["n_ranked"] == len(inputs.municipalities)).all()
    dp = out["data_point_id"].iloc[0]
    a = assess.assess(values)
    from analysis import scoring
    kept = a.scored[a.scored["data_point_id"] != dp]
    dims = scoring.aggregate(kept, a.catalogue[a.catalogue["data_point_id"] != dp], "dimension", a.municipalities)
    index = scoring.overall_index(dims, params.dimension_weights(values)).set_index("municipality")["index"]
    full = a.overall.set_index("municipality")["index"]
    shift = (index.rank(ascending=False, method="min") - full.rank(ascending=False, method="min")).abs()
    assert out["mean_abs_rank_shift"].iloc[0] == pytest.approx(shift.mean())


def test_sobol_and_bands_say_why_when_fewer_than_two_are_ranked():
    names = ["A", "B", "C"]
    full = np.array([[90.0, 80, 70], [60, 50, 40], [30, 20, 10]])
    sparse = np.full_like(full, np.nan)
    sparse[0] = full[0]
    inputs = uncertainty.from_scored(keyed({("with_simulated", "default"): frame(full, names=names),
                                            ("published_only", "default"): frame(sparse, names=names)}), names,
                                     nominal={"data": "published_only"})
    out = uncertainty.sobol_indices(inputs, n_base=32, seed=0)
    assert out[["S1", "ST"]].isna().all().all()
    assert out["reason"].str.contains("at least 2 are needed").all()
    bands, log = uncertainty.monte_carlo_ranks(inputs, 50, seed=0)
    # A alone has published values, and as the single reporter it has no min-max or rank value
    assert (log["n_ranked"] == 0).all() and not bands["ranked"].any()
    assert bands[["nominal_rank", "median_rank"]].isna().all().all()
    reason = bands.set_index("municipality").loc["A", "reason"]
    assert reason == "no index under normalisation=minmax, normalisation=rank"
    goalposts, _ = uncertainty.monte_carlo_ranks(inputs, 50, seed=0, choices={"normalisation": ["goalposts"]})
    assert goalposts["ranked"].sum() == 1 and goalposts.loc[goalposts["ranked"], "p95_rank"].item() == 1


# --------------------------------------------------------------------------------------------
# data sensitivity on a hand-built panel
#   dp00, dp03: Economy; dp01: Environment; dp02: Society and Culture (goalposts = the value)
#   with simulated values: A 90, B 80, C 70, D 60, E 50 everywhere
#   published only: A nothing; B 40 on dp00–dp02; C 75 on dp00–dp02; D 60 on dp00 only;
#                   E 55 on dp03 only (the single reporter of dp03: no min-max or rank value)

HAND = ["A", "B", "C", "D", "E"]


@pytest.fixture(scope="module")
def hand() -> uncertainty.Inputs:
    full = np.repeat(np.array([90.0, 80, 70, 60, 50])[:, None], 4, axis=1)
    published = np.full_like(full, np.nan)
    published[1, :3], published[2, :3], published[3, 0], published[4, 3] = 40.0, 75.0, 60.0, 55.0
    simulated = np.isnan(published)
    scored = {("with_simulated", "default"): frame(full, simulated, names=HAND),
              ("published_only", "default"): frame(published, names=HAND)}
    return uncertainty.from_scored(keyed(scored), HAND)


def test_data_sensitivity_on_a_hand_built_panel(hand):
    fixed = {k: [v] for k, v in hand.nominal.items() if k != "data"}
    table = uncertainty.data_sensitivity(hand, draws=50, seed=0, choices=fixed, weights="fixed")
    assert list(table.columns) == uncertainty.DATA_SENSITIVITY_COLUMNS
    t = table.set_index("municipality")
    # indices: with simulated B 80 > C 70 > D 60 > E 50; published only C 75 > D 60 > E 55 > B 40
    assert list(table["municipality"]) == ["B", "C", "D", "E", "A"]
    assert t.loc[["B", "C", "D", "E"], "rank_with_simulated"].tolist() == [1, 2, 3, 4]
    assert t.loc[["B", "C", "D", "E"], "rank_published_only"].tolist() == [4, 1, 2, 3]
    assert t.loc[["B", "C", "D", "E"], "rank_change"].tolist() == [3, -1, -1, -1]
    assert t.loc[["B", "C", "D", "E"], "median_rank_published_only"].tolist() == [4, 1, 2, 3]
    assert (t.loc[["B", "C", "D", "E"], "share_draws_rank_differs"] == 1.0).all()
    assert (table["n_compared"] == 4).all()
    assert t.loc["A", "index_with_simulated"] and not t.loc["A", "index_published_only"]
    assert not t.loc["A", "compared"] and np.isnan(t.loc["A", "rank_with_simulated"])
    assert t.loc["A", "reason"] == "no index from published values alone under the nominal choices"
    assert t.loc["B", "share_simulated"] == 0.25 and t.loc["A", "share_simulated"] == 1.0


def test_data_sensitivity_compares_only_what_is_rankable_under_every_choice(hand):
    fixed = {k: [v] for k, v in hand.nominal.items() if k not in ("data", "normalisation")}
    table = uncertainty.data_sensitivity(hand, draws=200, seed=3, choices=fixed, weights="fixed")
    t = table.set_index("municipality")
    assert t["compared"].tolist() == [True, True, True, False, False]  # B, C, D first, then A and E
    assert (table["n_compared"] == 3).all()
    assert t.loc[["B", "C", "D"], "rank_with_simulated"].tolist() == [1, 2, 3]
    assert t.loc[["B", "C", "D"], "rank_published_only"].tolist() == [3, 1, 2]
    assert t.loc["E", "index_published_only"]  # has an index under the nominal goalposts, but not under min-max
    assert t.loc["E", "reason"] == ("not rankable under every choice: no index under data=published_only with "
                                    "normalisation=minmax, data=published_only with normalisation=rank")
    ranked = table.loc[table["compared"], ["median_rank_with_simulated", "median_rank_published_only"]]
    assert ((ranked >= 1) & (ranked <= 3)).all().all()
    again = uncertainty.data_sensitivity(hand, draws=200, seed=3, choices=fixed, weights="fixed")
    pd.testing.assert_frame_equal(table, again)


def test_sobol_says_so_when_the_ranks_never_move(hand):
    # complete panel with simulated values: imputing changes nothing, so the ranks never move
    fixed = {k: [v] for k, v in hand.nominal.items()}
    out = uncertainty.sobol_indices(hand, n_base=32, seed=0, choices=dict(fixed, missing=["drop", "impute"]),
                                    weights="fixed")
    assert list(out["factor"]) == ["missing"] and out[["S1", "ST"]].isna().all().all()
    assert out["reason"].iloc[0] == "the ranks do not change in any evaluation: no variance to apportion"


def test_data_sensitivity_needs_both_data_options():
    full = np.repeat(np.array([90.0, 80, 70, 60, 50])[:, None], 4, axis=1)
    one = uncertainty.from_scored(keyed({("with_simulated", "default"): frame(full, names=HAND)}), HAND)
    with pytest.raises(ValueError, match="both data options"):
        uncertainty.data_sensitivity(one, draws=10)


def test_data_sensitivity_on_the_demonstration_panel(real):
    inputs = real[0]
    table = uncertainty.data_sensitivity(inputs, draws=500, seed=1)
    compared = table[table["compared"]]
    assert 2 <= len(compared) <= table["index_published_only"].sum() < len(table)
    assert set(compared["rank_with_simulated"]) == set(range(1, len(compared) + 1))
    # competition ranks: published values alone may tie (Asker and Kristiansund both 50 in 2020)
    ranks = compared["rank_published_only"]
    assert ranks.min() == 1 and set(ranks) <= set(range(1, len(compared) + 1))
    assert (table.loc[~table["compared"], "reason"] != "").all()
    assert table.loc[~table["compared"], ["rank_with_simulated", "rank_published_only"]].isna().all().all()


# --------------------------------------------------------------------------------------------
# goalpost rule and tolerance through the production scoring, by hand
#   A = Household Internet Access (higher is better, target 100, documented worst 0)
#   B = Long-term unemployment (lower is better, target 10, documented worst: SDSN's 97.5th percentile)
#   X: A 20, B 20;  Y: A 99.5, B 40;  Z: A 50, B 30  (one dimension, so the index is the mean of A and B)

GOALPOST_DPS = {"A": "EC: ICT: ICT: 1C", "B": "EC: P: EM: 1C"}


@pytest.fixture(scope="module")
def goalpost_panel(cat) -> uncertainty.Inputs:
    small = cat[cat["data_point_id"].isin(GOALPOST_DPS.values())].reset_index(drop=True)
    assert set(small["direction"]) == {"higher_is_better", "lower_is_better"} and small["dimension"].nunique() == 1
    table = pd.DataFrame({"target_set": "default", "data_point_id": [GOALPOST_DPS["A"], GOALPOST_DPS["B"]],
                          "target": [100.0, 10.0], "worst": [0.0, np.nan], "rule": pd.array([pd.NA] * 2, dtype="string"),
                          "source_class": "sdg_universal", "rationale": "test", "source": "test",
                          "worst_rule": ["zero", "percentile"], "worst_source": "",
                          "baseline_year": pd.array([pd.NA, pd.NA], dtype="Int64"),
                          "deadline": pd.array([pd.NA, pd.NA], dtype="Int64")})
    values = {"X": (20.0, 20.0), "Y": (99.5, 40.0), "Z": (50.0, 30.0)}
    rows = [{"municipality": m, "kommunenummer": pd.NA, "reported_kommunenummer": pd.NA, "data_point_id": GOALPOST_DPS[dp],
             "year": 2020, "value": v, "value_text": f"{v:g}", "unit": "%", "status": "reported",
             "source_type": "published", "source": "test", "note": "", "quality_level": np.nan, "verified": np.nan}
            for m, pair in values.items() for dp, v in zip("AB", pair)]
    obs = pd.DataFrame(rows).astype({"kommunenummer": "string", "reported_kommunenummer": "string"})
    return uncertainty.prepare(params.load(), obs=obs, data_options=("with_simulated",), target_sets=("default",),
                               as_given=True, cat=small, target_table=table)


def test_goalpost_rule_and_tolerance_by_hand(goalpost_panel):
    inputs = goalpost_panel
    assert inputs.municipalities == ["X", "Y", "Z"]
    assert inputs.options["goalposts"] == ("documented", "percentile") and inputs.options["tolerance"] == ("0.01", "0")
    # numpy's linear percentile: position (n − 1)·q = 2·0.025 = 0.05 and 2·0.975 = 1.95 in the sorted values
    worst_a = 20.0 + 0.05 * (50.0 - 20.0)                            # 21.5 under the percentile rule
    worst_b = 30.0 + 0.95 * (40.0 - 30.0)                            # 39.5 under both rules
    b = {m: max(0.0, 100 * (x - worst_b) / (10.0 - worst_b)) for m, x in zip("XYZ", (20.0, 40.0, 30.0))}
    a_zero = {"X": 20.0, "Y": 99.5, "Z": 50.0}                       # worst 0: x / 100
    a_pct = {m: max(0.0, 100 * (x - worst_a) / (100.0 - worst_a)) for m, x in a_zero.items()}
    # Y's 99.5 is within 1 % of the span of the target: 100 at tolerance 0.01, its own value at 0
    expected = {("documented", "0.01"): {"X": (20.0 + b["X"]) / 2, "Y": (100.0 + b["Y"]) / 2, "Z": (50 + b["Z"]) / 2},
                ("documented", "0"): {"X": (20.0 + b["X"]) / 2, "Y": (99.5 + b["Y"]) / 2, "Z": (50 + b["Z"]) / 2},
                ("percentile", "0.01"): {m: ((100.0 if m == "Y" else a_pct[m]) + b[m]) / 2 for m in "XYZ"},
                ("percentile", "0"): {m: (a_pct[m] + b[m]) / 2 for m in "XYZ"}}
    ranks = {"documented": {"X": 2, "Y": 1, "Z": 3}, "percentile": {"X": 3, "Y": 1, "Z": 2}}
    for (rule, tolerance), index in expected.items():
        log = uncertainty.nominal_log(inputs, {"goalposts": rule, "tolerance": tolerance})
        np.testing.assert_allclose(uncertainty.draw_index(inputs, log)[0], [index[m] for m in "XYZ"], rtol=1e-12)
        assert uncertainty.draw_ranks(inputs, log).iloc[0].to_dict() == ranks[rule]
        pd.testing.assert_frame_equal(uncertainty.draw_ranks(inputs, log), uncertainty.per_draw_loop(inputs, log),
                                      check_dtype=False)
    # varying only the goalpost rule: Y first in every draw, X and Z swap between ranks 2 and 3
    fixed = {k: [v] for k, v in inputs.nominal.items()}
    bands, log = uncertainty.monte_carlo_ranks(inputs, 400, seed=0, choices=dict(fixed, goalposts=["documented",
                                                                                                     "percentile"]),
                                               weights="fixed")
    bands = bands.set_index("municipality")
    assert set(log["goalposts"]) == {"documented", "percentile"}
    assert bands.loc["Y", ["p5_rank", "p95_rank"]].tolist() == [1, 1]
    assert bands.loc["X", ["nominal_rank", "p5_rank", "p95_rank"]].tolist() == [2, 2, 3]
    assert bands.loc["Z", ["nominal_rank", "p5_rank", "p95_rank"]].tolist() == [3, 2, 3]
    sobol = uncertainty.sobol_indices(inputs, n_base=64, seed=0, choices=dict(fixed, goalposts=["documented",
                                                                                                  "percentile"]),
                                      weights="fixed")
    assert list(sobol["factor"]) == ["goalposts"]
    assert sobol["S1"].iloc[0] == pytest.approx(1.0, abs=0.05) and sobol["ST"].iloc[0] == pytest.approx(1.0, abs=0.05)


def test_percentile_goalpost_rule_replaces_every_worst():
    selected = pd.DataFrame({"data_point_id": ["H", "L"], "worst": [0.0, np.nan], "worst_rule": ["zero", "percentile"]})
    assert targets.with_goalpost_rule(selected, "documented") is selected
    out = targets.with_goalpost_rule(selected, "percentile")
    assert out["worst_rule"].tolist() == ["percentile", "percentile"] and out["worst"].isna().all()
    with pytest.raises(ValueError, match="unknown goalpost rule"):
        targets.with_goalpost_rule(selected, "zero")
