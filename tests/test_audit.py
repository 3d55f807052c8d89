"""Statistical audit (COINr style): Cronbach's alpha by hand, correlation flags on planted structure, the real panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import assess, audit, params


def scored_frame(values: dict[str, list[float]], dimension: dict[str, str], simulated: bool = False) -> pd.DataFrame:
    names = [f"M{i:02d}" for i in range(len(next(iter(values.values()))))]
    rows = [{"municipality": m, "data_point_id": dp, "dimension": dimension[dp], "achievement": v,
             "source_type": "simulated" if simulated else "published"}
            for dp, column in values.items() for m, v in zip(names, column) if not np.isnan(v)]
    return pd.DataFrame(rows)


def dimension_means(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby(["municipality", "dimension"])["achievement"].mean().rename("mean_achievement").reset_index()


def test_cronbach_alpha_by_hand():
    # item variances 5/3, 2/3, 5/3 (sum 4); totals 8, 13, 12, 15 have variance 26/3:
    # alpha = 3/2 · (1 − 4 / (26/3)) = 21/26
    items = pd.DataFrame({"a": [2.0, 4, 3, 5], "b": [3.0, 4, 5, 4], "c": [3.0, 5, 4, 6]})
    assert audit.cronbach_alpha(items) == pytest.approx(21 / 26)
    assert np.isnan(audit.cronbach_alpha(items[["a"]]))
    # pairwise-complete covariances: a missing cell still gives an alpha, too little overlap none
    gappy = items.copy()
    gappy.loc[0, "a"] = np.nan
    assert np.isfinite(audit.cronbach_alpha(gappy))
    assert np.isnan(audit.cronbach_alpha(gappy, min_periods=4))


def test_alpha_table_per_dimension():
    rng = np.random.default_rng(0)
    common = rng.normal(50, 10, 12)
    values = {f"e{i}": list(common + rng.normal(0, 2, 12)) for i in range(4)}          # one construct
    values.update({f"n{i}": list(rng.normal(50, 10, 12)) for i in range(4)})           # unrelated
    values["flat"] = [50.0] * 12
    dims = {**{f"e{i}": "Economy" for i in range(4)}, **{f"n{i}": "Environment" for i in range(4)}, "flat": "Economy"}
    out = audit.alpha_table(scored_frame(values, dims)).set_index("dimension")
    assert out.loc["Economy", "alpha"] > 0.9 and out.loc["Economy", "n_data_points"] == 4  # flat left out
    assert out.loc["Environment", "alpha"] < 0.5
    wide = pd.DataFrame({k: values[k] for k in ("e0", "e1", "e2", "e3")})
    k, var = 4, wide.var(ddof=1)
    assert out.loc["Economy", "alpha"] == pytest.approx(k / (k - 1) * (1 - var.sum() / wide.sum(axis=1).var(ddof=1)))


def test_negative_and_misplaced_data_points_are_flagged():
    rng = np.random.default_rng(1)
    econ, env = rng.normal(50, 10, 15), rng.normal(50, 10, 15)
    values = {"e1": list(econ), "e2": list(econ + rng.normal(0, 1, 15)), "e3": list(econ + rng.normal(0, 1, 15)),
              "against": list(100 - econ), "v1": list(env), "v2": list(env + rng.normal(0, 1, 15)),
              "misplaced": list(env + rng.normal(0, 1, 15))}
    dims = {"e1": "Economy", "e2": "Economy", "e3": "Economy", "against": "Economy", "v1": "Environment",
            "v2": "Environment", "misplaced": "Economy"}
    frame = scored_frame(values, dims)
    out = audit.data_point_dimension_correlations(frame, dimension_means(frame)).set_index("data_point_id")
    assert out.loc["against", "flag"] == "negative" and out.loc["against", "r_own"] < 0
    assert out.loc["misplaced", "flag"] == "closer to another dimension"
    assert out.loc["misplaced", "other_dimension"] == "Environment"
    assert out.loc["e1", "flag"] == ""
    dims_wide = dimension_means(frame).pivot(index="municipality", columns="dimension", values="mean_achievement")
    assert out.loc["e1", "r_own"] == pytest.approx(stats.pearsonr(values["e1"], dims_wide["Economy"]).statistic)
    warnings = audit.negative_warnings(out.reset_index())
    assert len(warnings) == 1 and warnings[0].startswith("against is negatively correlated with its dimension Economy")
    pairs = audit.collinear_pairs(frame)
    assert {("e1", "e2"), ("e1", "e3"), ("e2", "e3")} <= set(zip(pairs["data_point_a"], pairs["data_point_b"]))
    assert ("v1", "v2") in set(zip(pairs["data_point_a"], pairs["data_point_b"]))
    assert (pairs["r"] > audit.COLLINEAR).all()
    # never across dimensions: misplaced (Economy) tracks v1 (Environment) but is not a pair
    assert not {("misplaced", "v1"), ("misplaced", "v2")} & set(zip(pairs["data_point_a"], pairs["data_point_b"]))


def test_too_few_municipalities_give_a_reason():
    frame = scored_frame({"a": [1.0, 2, 3], "b": [3.0, 1, 2]}, {"a": "Economy", "b": "Economy"})
    out = audit.data_point_dimension_correlations(frame, dimension_means(frame))
    assert out["reason"].str.startswith("fewer than 5").all() and out["r_own"].isna().all()


def test_audit_of_the_demonstration_panel_counts_simulated_values():
    a = assess.assess(params.load())
    alpha = audit.alpha_table(a.scored)
    assert set(alpha["dimension"]) == set(a.catalogue.loc[a.catalogue["direction"] != "descriptive", "dimension"])
    assert (alpha["n_simulated"] > 0).all() and alpha["alpha"].notna().all()
    corr = audit.data_point_dimension_correlations(a.scored, a.levels["dimension"])
    assert corr["n_simulated"].sum() > 0 and corr["r_own"].notna().mean() > 0.8
    table = audit.dimension_correlations(a.levels["dimension"], a.overall).set_index("dimension")
    assert list(table.columns) == [*sorted(a.levels["dimension"]["dimension"].unique()), "index"]
    assert np.allclose(np.diag(table.to_numpy(dtype=float)), 1.0)
