"""Time the investment ranking and its stability (2000 Dirichlet draws) for every municipality. Prints, never asserts.

Run: ``.venv/bin/python bench/bench_invest.py``
"""

from __future__ import annotations

import time

from analysis import assess, invest, params


def main(draws: int = 2000) -> None:
    t0 = time.perf_counter()
    a = assess.assess(params.load("Ålesund"))
    themes = invest.load_themes(cat=a.catalogue)
    invest.opportunities(a, a.municipalities[0], themes)  # warm-up: imports (pymcdm)
    t1 = time.perf_counter()
    rank_s = stab_s = 0.0
    for m in a.municipalities:
        s = time.perf_counter()
        invest.opportunities(a, m, themes)
        rank_s += time.perf_counter() - s
        s = time.perf_counter()
        invest.stability(a, m, themes, draws=draws)
        invest.stability(a, m, themes, draws=draws, method="topsis")
        stab_s += time.perf_counter() - s
    s = time.perf_counter()
    invest.joint_programmes(a, themes=themes)
    joint_s = time.perf_counter() - s
    n = len(a.municipalities)
    print(f"assessment (setup, not timed below): {t1 - t0:.2f} s")
    print(f"{n} municipalities × {themes['theme_id'].nunique()} themes, {draws} draws")
    print(f"rank (weighted sum + TOPSIS + explanations): {rank_s:.3f} s total, {1000 * rank_s / n:.1f} ms each")
    print(f"stability (weighted sum and TOPSIS, {draws} draws each): {stab_s:.3f} s total, "
          f"{1000 * stab_s / n:.1f} ms each")
    print(f"joint programmes (all municipalities): {joint_s:.3f} s")
    print(f"rank + stability, all municipalities: {rank_s + stab_s:.3f} s")


if __name__ == "__main__":
    main()
