"""Benchmark: vectorised Monte Carlo rank bands versus the per-draw pandas loop (prints, never asserts).

Run: ``python bench/bench_uncertainty.py [draws] [loop_draws]`` (defaults 10 000 and 200) on the
17-municipality demonstration panel (published values plus labelled simulated cells). Times the
rank bands (data fixed at the nominal option), the data-sensitivity table (each draw evaluated
under both data options) and the Sobol indices of the synthesis (128 base samples).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import params, uncertainty  # noqa: E402


def main(draws: int = 10_000, loop_draws: int = 200) -> None:
    values = params.load()
    seed = int(values["seed"])
    start = time.perf_counter()
    inputs = uncertainty.prepare(values)
    prepare_s = time.perf_counter() - start
    print(f"panel: {len(inputs.municipalities)} municipalities × {len(inputs.data_points)} scoreable data points, "
          f"{inputs.dimension_scores[..., 0, 0].size} precomputed option combinations")
    print(f"prepare (4 assessment runs + option matrices): {prepare_s:.2f} s")

    uncertainty.monte_carlo_ranks(inputs, 100, seed)  # warm-up
    start = time.perf_counter()
    bands, log = uncertainty.monte_carlo_ranks(inputs, draws, seed)
    vector_s = time.perf_counter() - start
    print(f"monte_carlo_ranks, {draws} draws: {vector_s:.3f} s ({int(log['n_ranked'].iloc[0])} ranked in every draw)")

    start = time.perf_counter()
    uncertainty.data_sensitivity(inputs, draws, seed)
    print(f"data_sensitivity, {draws} paired draws: {time.perf_counter() - start:.3f} s")

    start = time.perf_counter()
    sobol = uncertainty.sobol_indices(inputs, n_base=128, seed=seed)
    print(f"sobol_indices, {int(sobol['n_evaluations'].iloc[0])} evaluations: {time.perf_counter() - start:.3f} s")

    ranked = bands.loc[bands["ranked"], "municipality"].tolist()
    start = time.perf_counter()
    uncertainty.per_draw_loop(inputs, log.head(loop_draws), among=ranked)
    loop_s = time.perf_counter() - start
    per_draw = loop_s / loop_draws
    print(f"per_draw_loop, {loop_draws} draws: {loop_s:.2f} s ({per_draw * 1000:.1f} ms per draw); "
          f"extrapolated to {draws} draws: {per_draw * draws:.0f} s")
    print(f"ratio (extrapolated loop / vectorised): {per_draw * draws / vector_s:,.0f}×")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
