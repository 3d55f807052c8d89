"""Benchmark: Monte Carlo rank bands and Sobol indices for 17 and for all 357 municipalities (prints, never asserts).

Run: ``python bench/bench_uncertainty.py [draws] [loop_draws] [n_scale]`` (defaults 10 000, 200 and 357).

1. The 17-municipality demonstration panel (published values plus labelled simulated cells):
   ``prepare`` (assessment runs and option matrices), the rank bands (data fixed at the nominal
   option), the data-sensitivity table, the Sobol indices of the synthesis (base 8 192, with the
   widest 95 % interval against its index), leave-one-out, and the per-draw pandas oracle
   extrapolated to ``draws``.
2. A scale panel of ``n_scale`` fictional municipalities (``analysis.simulate.scale_panel``, scored
   as given by ``analysis.assess.assess(..., as_given=True)``; 357 = every municipality of Norway):
   the same Monte Carlo and Sobol figures. Goal: 10 000 draws in under 2 s.

Each step prints wall-clock and CPU time; on the shared 2-core machine the load average (printed
first) inflates the wall-clock figures, numpy's single-threaded work shows in the CPU time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import catalogue, params, simulate, synthesis, targets, uncertainty  # noqa: E402

YEARS = [2018, 2019, 2020]


def _timed(label: str, call):
    """Run ``call``, print its wall-clock and CPU time (CPU time is what a loaded shared machine does not inflate)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = call()
    print(f"  {label}: {time.perf_counter() - start:.3f} s wall, {time.process_time() - cpu:.3f} s CPU", flush=True)
    return result


def _sobol_line(sobol) -> str:
    main = sobol[sobol["ST"] >= 0.05]
    worst = (main["ST_conf"] / main["ST"]).max() if len(main) else float("nan")
    return (f"    {int(sobol['n_evaluations'].iloc[0]):,} evaluations; widest 95 % interval of a total index "
            f"≥ 0.05: ±{worst:.1%} of it; " + ", ".join(f"{r.factor} ST {r.ST:.3f}±{r.ST_conf:.3f}"
                                                     for r in sobol.itertuples()))


def bench_inputs(label: str, inputs: uncertainty.Inputs, draws: int, seed: int, sobol_base: int) -> None:
    print(f"{label}: {len(inputs.municipalities)} municipalities × {len(inputs.data_points)} scoreable data points, "
          f"{inputs.dimension_scores[..., 0, 0].size} precomputed option combinations")
    uncertainty.monte_carlo_ranks(inputs, 100, seed)  # warm-up
    bands, log = _timed(f"monte_carlo_ranks, {draws:,} draws", lambda: uncertainty.monte_carlo_ranks(inputs, draws,
                                                                                                       seed))
    print(f"    {int(log['n_ranked'].iloc[0])} ranked in every draw")
    sobol = _timed(f"sobol_indices, base {sobol_base:,}",
                   lambda: uncertainty.sobol_indices(inputs, n_base=sobol_base, seed=seed))
    print(_sobol_line(sobol))
    _timed("leave_one_out", lambda: uncertainty.leave_one_out(inputs))


def main(draws: int = 10_000, loop_draws: int = 200, n_scale: int = 357) -> None:
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores shared: other jobs slow every figure down)")
    values = params.load()
    seed = int(values["seed"])
    inputs = _timed("prepare, 17 municipalities (4 assessment runs + option matrices)",
                    lambda: uncertainty.prepare(values))
    bench_inputs("demonstration panel", inputs, draws, seed, synthesis.SOBOL_BASE)
    _timed(f"data_sensitivity, {draws:,} paired draws", lambda: uncertainty.data_sensitivity(inputs, draws, seed))
    bands, log = uncertainty.monte_carlo_ranks(inputs, draws, seed)
    ranked = bands.loc[bands["ranked"], "municipality"].tolist()
    start = time.perf_counter()
    uncertainty.per_draw_loop(inputs, log.head(loop_draws), among=ranked)
    per_draw = (time.perf_counter() - start) / loop_draws
    print(f"  per_draw_loop (test oracle), {loop_draws} draws: {per_draw * 1000:.1f} ms per draw; "
          f"extrapolated to {draws:,} draws: {per_draw * draws:.0f} s")

    cat = catalogue.load()
    target_table = targets.load(cat=cat)
    panel = _timed(f"scale_panel({n_scale})", lambda: simulate.scale_panel(n_scale, YEARS, seed, cat))
    scale = _timed(f"prepare, {n_scale} municipalities (2 assessment runs as given + option matrices)",
                   lambda: uncertainty.prepare(values, obs=panel, data_options=("with_simulated",), as_given=True,
                                               cat=cat, target_table=target_table))
    bench_inputs(f"scale panel ({n_scale} fictional municipalities)", scale, draws, seed, synthesis.SOBOL_BASE)


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:4]])
