"""Benchmark of the site renderers (prints figures; never asserts).

From the main job's executed notebooks (``reports/executed``, run ``make all`` first), copied to a
temporary folder so the main job's files are never touched, it measures for each renderer: a
full render, a no-op re-render, and a re-render after one municipality's notebook changed.
Quarto is measured only where it is on PATH (it is said so otherwise). The machine's load
average is printed because other processes on a shared machine slow every figure down.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from analysis import paths, report


def timed(label: str, func) -> dict:
    start = time.perf_counter()
    result = func()
    print(f"  {label:<58} {time.perf_counter() - start:8.2f} s", flush=True)
    return result


def change_one(executed: Path) -> str:
    """Append a sentence to the first profile's first Markdown cell, as a re-executed profile would differ."""
    path = sorted((executed / "profiles").glob("*.ipynb"))[0]
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown")
    cell.source += "\n\nChanged by bench/bench_render.py."
    nbformat.write(nb, path)
    return path.stem


def bench(renderer: str, executed: Path, folder: Path) -> None:
    site = folder / f"site-{renderer}"
    n = len(list((executed / "profiles").glob("*.ipynb")))
    print(f"{renderer}:", flush=True)
    timed(f"full render of {n} profiles and their views, synthesis, tutorial, docs",
          lambda: report.render_site(executed, site, renderer))
    timed("no-op re-render", lambda: report.render_site(executed, site, renderer))
    name = change_one(executed)
    result = timed(f"re-render after one profile changed ({name})", lambda: report.render_site(executed, site, renderer))
    if renderer == "quarto":
        print(f"    Quarto rendered: {result['quarto_rendered']}")


def main() -> int:
    source = paths.REPORTS / "executed"
    if not (source / "profiles").is_dir():
        print(f"no executed notebooks in {source}: run `make all` first", file=sys.stderr)
        return 1
    quarto = report.detect_quarto()
    print(f"render benchmark: load average {os.getloadavg()[0]:.1f}, quarto: {quarto or 'not on PATH'}")
    with tempfile.TemporaryDirectory(prefix="u4ssc-bench-render-") as tmp:
        for renderer in ("nbconvert", "quarto") if quarto else ("nbconvert",):
            executed = Path(tmp) / f"executed-{renderer}"
            shutil.copytree(source, executed)
            bench(renderer, executed, Path(tmp))
    if not quarto:
        print("quarto: skipped, not on PATH (bash ../shared/tools/quarto/install.sh, then add its bin/ to PATH)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
