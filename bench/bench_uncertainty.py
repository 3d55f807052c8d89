"""Benchmark: vectorised Monte Carlo rank bands versus the per-draw pandas loop (prints, never asserts).

Run: ``python bench/bench_uncertainty.py [draws] [loop_draws]`` (defaults 10 000 and 200) on the
17-municipality demonstration panel (published values plus labelled simulated cells).
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
    print(f"monte_carlo_ranks, {draws} draws: {vector_s:.3f} s")

    start = time.perf_counter()
    uncertainty.per_draw_loop(inputs, log.head(loop_draws))
    loop_s = time.perf_counter() - start
    per_draw = loop_s / loop_draws
    print(f"per_draw_loop, {loop_draws} draws: {loop_s:.2f} s ({per_draw * 1000:.1f} ms per draw); "
          f"extrapolated to {draws} draws: {per_draw * draws:.0f} s")
    print(f"ratio (extrapolated loop / vectorised): {per_draw * draws / vector_s:,.0f}×")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
