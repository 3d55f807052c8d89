"""Time the investment ranking and its stability (three methods × 2000 draws) per municipality. Prints, never asserts.

Two panels: the 17 municipalities of the main job (default parameters), for which it also prints
how often each theme is first and which criterion drives it, and all 357 municipalities of Norway
(``simulate.scale_panel``, scored as given).

Run: ``.venv/bin/python bench/bench_invest.py [N]``
"""

from __future__ import annotations

import sys
import time
from collections import Counter

import pandas as pd

from analysis import assess, catalogue, invest, params, simulate, targets

YEARS = [2018, 2019, 2020]


def rank_and_stability(a: assess.Assessment, themes: pd.DataFrame, draws: int, label: str) -> pd.DataFrame:
    """Criteria once for the panel, then ranking and stability per municipality; prints the times."""
    t0 = time.perf_counter()
    crit = invest.criteria(a, themes)
    t1 = time.perf_counter()
    rows, rank_s, stab_s = [], 0.0, 0.0
    names = list(a.municipalities)
    for k, (m, c) in enumerate(crit.groupby("municipality", sort=True), start=1):
        s = time.perf_counter()
        opp = invest.opportunities(a, m, themes, crit=c)
        rank_s += time.perf_counter() - s
        s = time.perf_counter()
        stab = invest.stability(a, m, themes, draws=draws, crit=c)
        stab_s += time.perf_counter() - s
        rows.append(opp.merge(stab[["theme_id", "stability"]], on="theme_id", how="left"))
        if k % 50 == 0 or k == len(names):
            print(f"  {label}: {k}/{len(names)} municipalities", flush=True)
    n = len(names)
    print(f"{label}: {n} municipalities × {themes['theme_id'].nunique()} themes, {draws} draws × "
          f"{len(invest.METHODS)} methods")
    print(f"  criteria (whole panel at once): {t1 - t0:.2f} s")
    print(f"  rank (three methods + explanations): {rank_s:.2f} s total, {1000 * rank_s / n:.1f} ms each")
    print(f"  stability: {stab_s:.2f} s total, {1000 * stab_s / n:.1f} ms each")
    print(f"  criteria + rank + stability, all municipalities: {t1 - t0 + rank_s + stab_s:.2f} s")
    return pd.concat(rows, ignore_index=True)


def firsts(allr: pd.DataFrame) -> None:
    """How often each theme is first (weighted sum), with the criterion that drives it, and how stable it is."""
    first = allr[(allr["status"] == invest.RANKED) & (allr["ws_rank"] == 1)]
    print(f"first theme in {first['municipality'].nunique()} municipalities (weighted sum):")
    for theme, g in first.groupby("theme_id"):
        drivers = ", ".join(f"{d} {n}" for d, n in Counter(g["driver"].fillna("none")).most_common())
        stab = ", ".join(f"{d} {n}" for d, n in Counter(g["stability"]).most_common())
        print(f"  {theme:30s} {len(g):>3}   driven by: {drivers};   {stab}")
    for method, column in invest.RANK_COLUMNS.items():
        top = allr[(allr["status"] == invest.RANKED) & (allr[column] == 1)]["theme_id"].value_counts()
        print(f"  first by {invest.METHOD_LABELS[method]}: " + ", ".join(f"{t} {n}" for t, n in top.items()))


def main(n: int = 357, draws: int = 2000, seed: int = 1) -> None:
    cat = catalogue.load()
    themes = invest.load_themes(cat=cat)
    s = time.perf_counter()
    a = assess.assess(params.load("Ålesund"))
    print(f"main-job assessment (setup, not timed below): {time.perf_counter() - s:.2f} s")
    invest.opportunities(a, a.municipalities[0], themes)  # warm-up: imports (pymcdm)
    firsts(rank_and_stability(a, themes, draws, "main job"))

    s = time.perf_counter()
    values = params.load()
    panel = simulate.scale_panel(n, YEARS, seed, cat)
    big = assess.assess(values, panel, cat=cat, target_table=targets.load(cat=cat), as_given=True)
    print(f"Norway-size assessment ({n} simulated municipalities; setup, not timed below): "
          f"{time.perf_counter() - s:.2f} s")
    allr = rank_and_stability(big, themes, draws, f"{n} municipalities")
    s = time.perf_counter()
    invest.joint_programmes(big, themes=themes)
    print(f"  joint programmes ({n} municipalities): {time.perf_counter() - s:.2f} s")
    stable = allr.loc[allr["status"] == invest.RANKED, "stability"].value_counts(normalize=True)
    print("  stability labels of ranked themes: " + ", ".join(f"{k} {100 * v:.0f} %" for k, v in stable.items()))


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:2]))
