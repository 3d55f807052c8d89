"""Statistical audit of the framework as COINr does it: how the data points hang together within their dimensions.

- **Data point versus dimension**: Pearson's r (COINr's default) and Spearman's rho of each data
  point's achievement with every dimension score (``mean_achievement`` of analysis.scoring,
  which contains the data point itself, as COINr correlates an indicator with its aggregate).
  A data point negatively correlated with its own dimension pulls against it and is flagged; one
  that correlates more with another dimension than with its own is noted.
- **Collinear pairs**: pairs of data points of the same dimension with r above
  :data:`COLLINEAR` (0.9, COINr's default threshold for ``get_corr_flags``), which count twice.
- **Dimensions against each other and the index**: Pearson's r between dimension scores and the
  overall index.
- **Cronbach's alpha** per dimension, ``α = k/(k − 1) · (1 − Σ σ²_i / σ²_total)``, from the
  covariance matrix of the data points with pairwise complete observations
  (``σ²_total = Σ_ij σ_ij``), as COINr's ``get_cronbach`` with ``use = "pairwise.complete.obs"``.

Every output counts the values it rests on and how many are simulated (``n_scored``, ``n_simulated``, so
that analysis.present marks rows resting mostly on simulated values): on the demonstration
panel the audit shows the simulator's correlation structure, not the municipalities'. With fewer
than :data:`MIN_MUNICIPALITIES` municipalities a correlation is not computed (``reason``).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from analysis import compare

COLLINEAR = 0.9
MIN_MUNICIPALITIES = 5
VALUE = "achievement"


def _wide(scored: pd.DataFrame, column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    have = scored[scored[column].notna()]
    wide = have.pivot_table(index="municipality", columns="data_point_id", values=column, aggfunc="first")
    return wide, compare.simulated_mask(have, wide) & wide.notna()


def cronbach_alpha(items: pd.DataFrame, min_periods: int = 3) -> float:
    """Cronbach's alpha of the columns of ``items`` (rows = municipalities) from the pairwise-complete covariances.

    NaN with fewer than two items or when a pair of items shares fewer than ``min_periods`` rows.
    """
    if items.shape[1] < 2:
        return np.nan
    cov = items.cov(min_periods=min_periods).to_numpy()
    if np.isnan(cov).any():
        return np.nan
    k = items.shape[1]
    total = cov.sum()
    return float(k / (k - 1) * (1.0 - np.trace(cov) / total)) if total > 0 else np.nan


def alpha_table(scored: pd.DataFrame, column: str = VALUE, min_periods: int = 3) -> pd.DataFrame:
    """Cronbach's alpha per dimension over its data points that vary. Columns: dimension, n_data_points,
    n_municipalities, n_scored (values used), n_simulated (of them), alpha, reason."""
    wide, sim = _wide(scored, column)
    dimension = scored.drop_duplicates("data_point_id").set_index("data_point_id")["dimension"]
    rows = []
    for dim in sorted(dimension.dropna().unique()):
        cols = [c for c in wide.columns if dimension.get(c) == dim]
        items = wide[cols]
        items = items.loc[:, items.count() >= min_periods]
        items = items.loc[:, items.std() > 0]
        alpha = cronbach_alpha(items, min_periods)
        reason = ""
        if items.shape[1] < 2:
            reason = "fewer than 2 data points with values that vary"
        elif np.isnan(alpha):
            reason = f"some pairs of data points share fewer than {min_periods} municipalities"
        rows.append({"dimension": dim, "n_data_points": items.shape[1],
                     "n_municipalities": int(items.notna().any(axis=1).sum()),
                     "n_scored": int(items.notna().to_numpy().sum()),
                     "n_simulated": int(sim.reindex(columns=items.columns).to_numpy().sum()),
                     "alpha": alpha, "reason": reason})
    return pd.DataFrame(rows, columns=["dimension", "n_data_points", "n_municipalities", "n_scored", "n_simulated",
                                       "alpha", "reason"])


def data_point_dimension_correlations(scored: pd.DataFrame, dimension_scores: pd.DataFrame, column: str = VALUE,
                                      min_municipalities: int = MIN_MUNICIPALITIES) -> pd.DataFrame:
    """Per data point: r and rho with its own dimension, its strongest other dimension, and a flag.

    Columns: data_point_id, dimension, n_scored (municipalities), n_simulated, r_own, rho_own, other_dimension, r_other,
    flag (``negative``: r_own < 0; ``closer to another dimension``: |r_other| > r_own; else
    empty), reason.
    """
    wide, sim = _wide(scored, column)
    dims = dimension_scores.pivot_table(index="municipality", columns="dimension", values="mean_achievement")
    dimension = scored.drop_duplicates("data_point_id").set_index("data_point_id")["dimension"]
    rows = []
    for dp in wide.columns:
        own = dimension.get(dp)
        x = wide[dp]
        row = {"data_point_id": dp, "dimension": own, "n_scored": int(x.notna().sum()),
               "n_simulated": int(sim[dp].sum()),
               "r_own": np.nan, "rho_own": np.nan, "other_dimension": "", "r_other": np.nan, "flag": "", "reason": ""}
        both = x.notna() & dims.reindex(x.index)[own].notna() if own in dims else pd.Series(False, index=x.index)
        if both.sum() < min_municipalities:
            row["reason"] = f"fewer than {min_municipalities} municipalities with a value and a dimension score"
        elif x[both].nunique() < 2:
            row["reason"] = "no variation"
        else:
            r = {d: stats.pearsonr(x[both], dims.loc[both[both].index, d]).statistic
                 for d in dims.columns if dims.loc[both[both].index, d].nunique() > 1}
            row["r_own"] = float(r.get(own, np.nan))
            row["rho_own"] = float(stats.spearmanr(x[both], dims.loc[both[both].index, own]).statistic)
            others = {d: v for d, v in r.items() if d != own}
            if others:
                best = max(others, key=lambda d: abs(others[d]))
                row.update(other_dimension=best, r_other=float(others[best]))
            if row["r_own"] < 0:
                row["flag"] = "negative"
            elif others and abs(row["r_other"]) > row["r_own"]:
                row["flag"] = "closer to another dimension"
        rows.append(row)
    out = pd.DataFrame(rows, columns=["data_point_id", "dimension", "n_scored", "n_simulated", "r_own", "rho_own",
                                      "other_dimension", "r_other", "flag", "reason"])
    return out.sort_values(["dimension", "r_own", "data_point_id"], kind="mergesort", na_position="last"
                           ).reset_index(drop=True)


def negative_warnings(correlations: pd.DataFrame) -> list[str]:
    """One sentence per data point negatively correlated with its own dimension (COINr's warning)."""
    bad = correlations[correlations["flag"].eq("negative")]
    return [f"{r.data_point_id} is negatively correlated with its dimension {r.dimension} "
            f"(r = {r.r_own:.2f}, n = {r.n_scored}, {r.n_simulated} simulated values)" for r in bad.itertuples()]


def collinear_pairs(scored: pd.DataFrame, column: str = VALUE, threshold: float = COLLINEAR,
                    min_municipalities: int = MIN_MUNICIPALITIES) -> pd.DataFrame:
    """Pairs of data points of the same dimension with Pearson's r above ``threshold`` (they count twice).

    Columns: dimension, data_point_a, data_point_b, n, n_with_simulated, r.
    """
    wide, sim = _wide(scored, column)
    dimension = scored.drop_duplicates("data_point_id").set_index("data_point_id")["dimension"]
    rows = []
    for a, b in combinations(wide.columns, 2):
        if dimension.get(a) != dimension.get(b):
            continue
        both = wide[a].notna() & wide[b].notna()
        if both.sum() < min_municipalities or wide.loc[both, a].nunique() < 2 or wide.loc[both, b].nunique() < 2:
            continue
        r = float(stats.pearsonr(wide.loc[both, a], wide.loc[both, b]).statistic)
        if r > threshold:
            rows.append({"dimension": dimension.get(a), "data_point_a": a, "data_point_b": b, "n": int(both.sum()),
                         "n_with_simulated": int((both & (sim[a] | sim[b])).sum()), "r": r})
    return pd.DataFrame(rows, columns=["dimension", "data_point_a", "data_point_b", "n", "n_with_simulated", "r"])


def dimension_correlations(dimension_scores: pd.DataFrame, overall: pd.DataFrame) -> pd.DataFrame:
    """Pearson's r between the dimension scores and the overall index (a square table, pairwise complete)."""
    wide = dimension_scores.pivot_table(index="municipality", columns="dimension", values="mean_achievement")
    wide["index"] = overall.set_index("municipality")["index"].reindex(wide.index)
    return wide.corr(method="pearson", min_periods=MIN_MUNICIPALITIES).rename_axis(index="dimension", columns=None
                                                                                  ).reset_index()
