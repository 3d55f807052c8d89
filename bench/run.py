"""Benchmark of the pipeline (prints figures; never asserts).

Measures in one run, on this machine: the full build of the 17 profiles from clean; the floor set
by kernel start-up (as many empty notebooks through papermill with the same parallelism); a no-op
rebuild; and one municipality re-run after a parameter change (``analysis run``: a cold kernel). It
also prints where a profile's time goes, from the per-cell durations papermill records in the
executed notebooks. Then the uncertainty and investment benchmarks. Goal (issue 5): full build /
floor ≤ 1.5, no-op rebuild under 2 s on 2 cores. The machine's load average is printed because
other processes on a shared machine slow every figure down.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import papermill

from analysis import paths, pipeline

CORES = 2


def timed(label: str, func) -> float:
    start = time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    print(f"{label:<55} {seconds:8.2f} s", flush=True)
    return seconds


def profiles_targets() -> list[str]:
    return [f"reports/executed/profiles/{slug}.ipynb" for slug in pipeline.municipality_slugs()]


def full_build() -> None:
    shutil.rmtree(paths.REPORTS / "executed" / "profiles", ignore_errors=True)
    shutil.rmtree(paths.INTERIM / "assessment", ignore_errors=True)  # the assessment stage is part of the build
    code = pipeline.snakemake(profiles_targets(), cores=CORES, quiet=True)
    if code:
        raise SystemExit(f"workflow failed with exit {code}")


def empty_notebooks(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        src = Path(folder) / "empty.ipynb"
        nbformat.write(nb, src)

        def one(i: int) -> None:
            papermill.execute_notebook(str(src), str(Path(folder) / f"out{i}.ipynb"), parameters={"x": i},
                                       progress_bar=False, kernel_name="python3")

        with ThreadPoolExecutor(CORES) as pool:
            list(pool.map(one, range(n)))


def breakdown() -> None:
    """Mean seconds per executed profile: the whole notebook and its slowest code cells (papermill metadata)."""
    folder = paths.REPORTS / "executed" / "profiles"
    notebooks = [nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))]
    if not notebooks:
        return
    mean = statistics.mean(nb.metadata.papermill.duration for nb in notebooks)
    print(f"  {'mean notebook run (warm kernel, excl. its start-up)':<53} {mean:8.2f} s")
    cells = [[c for c in nb.cells if c.cell_type == "code"] for nb in notebooks]
    means = [(statistics.mean(cs[i].metadata.papermill.duration or 0 for cs in cells), cells[0][i].source)
             for i in range(len(cells[0]))]
    for seconds, source in sorted(means, reverse=True)[:4]:
        first = next((line for line in source.splitlines() if line and not line.startswith("#")), "")
        print(f"    {first[:49]:<49} {seconds:8.2f} s")


def main() -> int:
    n = len(profiles_targets())
    print(f"pipeline benchmark: {n} municipalities, {CORES} cores, load average {os.getloadavg()[0]:.1f}")
    subprocess.run([sys.executable, "-m", "analysis", "build"], check=True, capture_output=True)
    full = timed(f"full build of {n} profiles from clean", full_build)
    floor = timed(f"{n} empty notebooks through papermill (floor)", lambda: empty_notebooks(n))
    breakdown()
    timed("no-op rebuild", lambda: pipeline.snakemake(profiles_targets(), cores=CORES, quiet=True))
    timed("one municipality re-run after a parameter change",
          lambda: subprocess.run([sys.executable, "-m", "analysis", "run", "Ålesund", "--set",
                                  "weights.environment=2", "--no-report"], check=True, capture_output=True))
    print(f"{'ratio full build / floor':<55} {full / floor:8.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    for script in ("bench_uncertainty.py", "bench_invest.py", "bench_ingest.py", "bench_render.py", "bench_norway.py"):
        print(f"\n== {script}", flush=True)
        subprocess.run([sys.executable, str(Path(__file__).parent / script)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
