"""Time a scale panel (simulate.scale_panel) and its assessment for 356 and 5 000 fictional municipalities. Prints, never asserts.

356 is the number of Norwegian municipalities; 5 000 × 112 data points × 3 years is about 1.7
million rows. The assessment scores the panel as given (``assess.assess(..., as_given=True)``).

Run: ``.venv/bin/python bench/bench_scale.py [N ...]``
"""

from __future__ import annotations

import sys
import time

from analysis import assess, catalogue, params, simulate, targets

YEARS = [2018, 2019, 2020]
SIZES = (356, 5000)


def main(sizes: tuple[int, ...] = SIZES, seed: int = 1) -> None:
    cat = catalogue.load()
    target_table = targets.load(cat=cat)
    values = params.load()
    simulate.scale_panel(2, YEARS, seed, cat)  # warm-up: imports, first calls
    print(f"{len(cat)} data points × {len(YEARS)} years ({YEARS[0]}–{YEARS[-1]}), seed {seed}")
    print(f"{'N':>6} {'rows':>10} {'scale_panel s':>14} {'rows/s':>12} {'assess s':>10} {'rows/s':>12} "
          f"{'total s':>9}")
    for n in sizes:
        t0 = time.perf_counter()
        panel = simulate.scale_panel(n, YEARS, seed, cat)
        t1 = time.perf_counter()
        result = assess.assess(values, panel, cat=cat, target_table=target_table, as_given=True)
        t2 = time.perf_counter()
        rows = len(panel)
        sim_s, assess_s = t1 - t0, t2 - t1
        print(f"{n:>6} {rows:>10,} {sim_s:>14.2f} {rows / sim_s:>12,.0f} {assess_s:>10.2f} "
              f"{rows / assess_s:>12,.0f} {sim_s + assess_s:>9.2f}", flush=True)
        print(f"{'':>6} assessed {len(result.municipalities)} municipalities, "
              f"{len(result.sdg_goals):,} SDG dashboard rows, {len(result.scored):,} scored data points")
        del panel, result


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
