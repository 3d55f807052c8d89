"""Benchmark: Monte Carlo rank bands and Sobol indices for 17 and for all 357 municipalities (prints, never asserts).

Run: ``python bench/bench_uncertainty.py [draws] [loop_draws] [n_scale] [repeats]`` (defaults 10 000, 200,
357 and 3).

1. The 17-municipality demonstration panel (published values plus labelled simulated cells):
   ``prepare`` (assessment runs, re-scoring per goalpost rule and tolerance, option matrices), the
   rank bands (data fixed at the nominal option), the Sobol indices of the synthesis (base 8 192,
   with the widest 95 % interval against its index), the data-sensitivity table, leave-one-out,
   and the per-draw pandas oracle extrapolated to ``draws``.
2. A scale panel of ``n_scale`` fictional municipalities (``analysis.simulate.scale_panel``, scored
   as given by ``analysis.assess.assess(..., as_given=True)``; 357 = every municipality of Norway):
   the same Monte Carlo and Sobol figures. Goal: 10 000 draws in under 2 s wall-clock.

Every step prints wall-clock and CPU time (``time.process_time``: all threads of this process) and
the 1-minute load average when it ran. On the shared 2-core machine the wall-clock exceeds the
CPU time by the time the process waits for a core, which grows with the load; the CPU time is what
the code costs. The Monte Carlo is timed ``repeats`` times; the summary gives the fastest and the
median wall-clock.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import catalogue, params, simulate, synthesis, targets, uncertainty  # noqa: E402

YEARS = [2018, 2019, 2020]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} / {five:.1f} / {fifteen:.1f}"


def _timed(label: str, call):
    """Run ``call``; print its wall-clock and CPU time and the load average. Returns (result, wall seconds)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = call()
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {label}: {wall:.3f} s wall, {used:.3f} s CPU ({_load()})", flush=True)
    return result, wall


def _sobol_line(sobol) -> str:
    main = sobol[sobol["ST"] >= 0.05]
    worst = (main["ST_conf"] / main["ST"]).max() if len(main) else float("nan")
    return (f"    {int(sobol['n_evaluations'].iloc[0]):,} evaluations; widest 95 % interval of a total index "
            f"≥ 0.05: ±{worst:.1%} of it; " + ", ".join(f"{r.factor} ST {r.ST:.3f}±{r.ST_conf:.3f}"
                                                     for r in sobol.itertuples()))


def bench_inputs(label: str, inputs: uncertainty.Inputs, draws: int, seed: int, sobol_base: int,
                 repeats: int) -> dict[str, float]:
    """Monte Carlo (``repeats`` times), Sobol and leave-one-out on one set of inputs; the wall-clock figures."""
    print(f"{label}: {len(inputs.municipalities)} municipalities × {len(inputs.data_points)} scoreable data points, "
          f"{inputs.dimension_scores[..., 0, 0].size} precomputed option combinations")
    uncertainty.monte_carlo_ranks(inputs, 100, seed)  # warm-up
    walls = []
    for i in range(repeats):
        (bands, log), wall = _timed(f"monte_carlo_ranks, {draws:,} draws (run {i + 1})",
                                    lambda: uncertainty.monte_carlo_ranks(inputs, draws, seed))
        walls.append(wall)
    print(f"    {int(log['n_ranked'].iloc[0])} ranked in every draw")
    sobol, sobol_wall = _timed(f"sobol_indices, base {sobol_base:,}",
                               lambda: uncertainty.sobol_indices(inputs, n_base=sobol_base, seed=seed))
    print(_sobol_line(sobol))
    _timed("leave_one_out", lambda: uncertainty.leave_one_out(inputs))
    return {"fastest": min(walls), "median": statistics.median(walls), "sobol": sobol_wall}


def main(draws: int = 10_000, loop_draws: int = 200, n_scale: int = 357, repeats: int = 3) -> None:
    print(f"{os.cpu_count()} cores, {_load()} (shared machine: other jobs slow the wall-clock figures down); "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    values = params.load()
    seed = int(values["seed"])
    inputs, _ = _timed("prepare, 17 municipalities (4 assessment runs, re-scored per goalpost rule and tolerance)",
                       lambda: uncertainty.prepare(values))
    small = bench_inputs("demonstration panel", inputs, draws, seed, synthesis.SOBOL_BASE, repeats)
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
    panel, _ = _timed(f"scale_panel({n_scale})", lambda: simulate.scale_panel(n_scale, YEARS, seed, cat))
    scale, _ = _timed(f"prepare, {n_scale} municipalities (2 assessment runs as given, re-scored, option matrices)",
                      lambda: uncertainty.prepare(values, obs=panel, data_options=("with_simulated",), as_given=True,
                                                  cat=cat, target_table=target_table))
    large = bench_inputs(f"scale panel ({n_scale} fictional municipalities)", scale, draws, seed,
                         synthesis.SOBOL_BASE, repeats)
    print("summary (wall-clock):")
    for label, figures in (("17", small), (str(n_scale), large)):
        print(f"  {label} municipalities: Monte Carlo {draws:,} draws fastest {figures['fastest']:.3f} s, median "
              f"{figures['median']:.3f} s; Sobol base {synthesis.SOBOL_BASE:,} {figures['sobol']:.3f} s")
    print(f"  goal: {draws:,} draws for {n_scale} municipalities under 2 s wall-clock "
          f"({'met' if large['median'] < 2 else 'not met'} by the median run, {_load()})")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:5]])
