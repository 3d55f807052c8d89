"""Monte Carlo rank bands over construction choices: vectorised = per-draw oracle, seeded, sane limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import assess, params, uncertainty

DIMS = ["Economy", "Environment", "Society and Culture"]
NAMES = ["Dominant", "Bodø", "Ålesund", "Tromsø", "Empty"]


def frame(values: np.ndarray, simulated: np.ndarray | None = None) -> pd.DataFrame:
    """Scored frame from a municipality × data point matrix of uncapped achievement (NaN = not reported)."""
    rows = []
    for i, m in enumerate(NAMES):
        for j in range(values.shape[1]):
            if np.isnan(values[i, j]):
                continue
            rows.append({"municipality": m, "data_point_id": f"dp{j:02d}", "dimension": DIMS[j % 3],
                         "direction": "higher_is_better",
                         "source_type": "simulated" if simulated is not None and simulated[i, j] else "published",
                         "achievement_raw": values[i, j], "achievement": np.clip(values[i, j], 0, 100)})
    return pd.DataFrame(rows)


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
    return uncertainty.from_scored(scored, NAMES, weights={"Economy": 2.0, "Environment": 1.0})


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
    assert bands.set_index("municipality").loc["Empty", "share_draws_ranked"] == 0


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
    for inputs, n in ((toy, 60), (real[0], 20)):
        _, log = uncertainty.monte_carlo_ranks(inputs, n, seed=11)
        assert all(set(log[c]) == set(inputs.options[c]) for c in uncertainty.DISCRETE)  # every option drawn
        pd.testing.assert_frame_equal(uncertainty.draw_ranks(inputs, log), uncertainty.per_draw_loop(inputs, log),
                                      check_dtype=False)


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
    assert log["n_ranked"].max() < len(inputs.municipalities)
    assert (bands["share_draws_ranked"] == 0).any()


def test_weight_modes_and_bad_choices(toy):
    log = uncertainty.sample_design(toy, 100, seed=0, weights="uniform", spread=0.2)
    w = log[uncertainty.weight_columns(toy)].to_numpy()
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert w[:, 0].mean() > w[:, 1].mean()  # nominal weight 2 on Economy
    with pytest.raises(ValueError, match="not available"):
        uncertainty.sample_design(toy, 10, seed=0, choices={"normalisation": ["zscore"]})
    with pytest.raises(ValueError, match="unknown construction choice"):
        uncertainty.sample_design(toy, 10, seed=0, choices={"colour": ["red"]})


def test_sobol_indices_attribute_variance_to_what_varies(toy):
    fixed = {k: [v] for k, v in toy.nominal.items()}
    only_data = dict(fixed, data=list(toy.options["data"]))
    out = uncertainty.sobol_indices(toy, n_base=64, seed=1, choices=only_data, weights="fixed")
    assert list(out["factor"]) == ["data"]
    full = uncertainty.sobol_indices(toy, n_base=64, seed=1)
    assert set(full["factor"]) == {*uncertainty.DISCRETE, "weights"}
    assert np.isfinite(full[["S1", "ST"]].to_numpy()).all()
