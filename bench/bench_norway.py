"""Benchmark of building every municipality of Norway (prints figures; never asserts).

In one run on this machine, into temporary folders (the repository's outputs are left alone):
the main job (the 17 with every view); the full build of all municipalities of Norway (assessment
stage, every profile, synthesis, tutorial and the nbconvert site; with ``--norway-views`` also each
municipality's real-data view, resident pages and council paper); the same for the 17 of the
project panel; the per-profile marginal cost; and the naive way a user would do it — one
``papermill`` process per municipality on the same cores — measured on a subset and scaled. With
``--cluster`` it also runs the 17 through Snakemake's generic cluster executor with a local submit
script (every profile job its own process, as on SLURM) and checks that its outputs equal the local
run's. It also measures the floor a panel-wide profile stage could reach: a profile notebook whose
profile is already built, times the municipalities, over the cores. Goal (issue 12): all municipalities in under 3 minutes on 2 cores, at least 4 times faster
than the naive way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from analysis import params, paths, pipeline

CORES = 2
SUBMIT = paths.ROOT / "workflow" / "local-submit.sh"


def cpu_seconds() -> float:
    """User + system CPU time of this process and the processes it waited for (Snakemake, kernels, papermill)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, func) -> float:
    """Run ``func`` and print its wall time, the CPU time it took and the load average before and after."""
    load, cpu, start = os.getloadavg()[0], cpu_seconds(), time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    print(f"{label:<62} {seconds:8.1f} s  (CPU {cpu_seconds() - cpu:6.1f} s; load {load:.1f} -> "
          f"{os.getloadavg()[0]:.1f})", flush=True)
    return seconds


def clear_stages() -> None:
    """Remove the assessment stages, so that a full build computes them again as part of its time."""
    shutil.rmtree(paths.INTERIM / "assessment", ignore_errors=True)


def build(panel: str, folder: Path, views: bool = True) -> None:
    """The main job of ``panel`` (assessment stage, profiles, synthesis, tutorial, site; with ``views`` also each
    municipality's real-data view, resident pages and council paper) into ``folder``."""
    clear_stages()
    config = {"panel": panel, "out": "executed", "logs": "logs", "site": str(folder / "site"), "views": views}
    code = pipeline.snakemake(["all"], cores=CORES, config=config, directory=folder, quiet=True)
    if code:
        raise SystemExit(f"the {panel} build failed with exit {code}; logs in {folder / 'logs'}")


def naive(slugs: list[str], folder: Path) -> None:
    """One papermill process per municipality, CORES at a time (a fresh kernel and fresh imports each)."""
    src = pipeline.source_ipynb("profile")

    def one(slug: str) -> None:
        values = params.load(slug.split("-", 1)[0], {"panel": "norway"})
        out = folder / "profiles" / f"{slug}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "papermill", str(src), str(out), "--cwd", str(paths.ROOT),
                        "-y", json.dumps({"values": values, "output_dir": str(folder)}), "--no-progress-bar",
                        "-k", "python3"], check=True, capture_output=True)

    with ThreadPoolExecutor(CORES) as pool:
        list(pool.map(one, slugs))


def breakdown(folder: Path) -> None:
    """Mean seconds per profile notebook (papermill's durations, a warm kernel: no start-up) and its slowest cells."""
    notebooks = [nbformat.read(p, as_version=4) for p in sorted((folder / "executed" / "profiles").glob("*.ipynb"))]
    if not notebooks:
        return
    print(f"  {'mean profile notebook run in a warm kernel':<60} {statistics.mean(nb.metadata.papermill.duration for nb in notebooks):8.2f} s")
    cells = [[c for c in nb.cells if c.cell_type == "code"] for nb in notebooks]
    n = min(len(c) for c in cells)
    means = [(statistics.mean(cs[i].metadata.papermill.duration or 0 for cs in cells), cells[0][i].source)
             for i in range(n)]
    for seconds, source in sorted(means, key=lambda m: m[0], reverse=True)[:4]:
        first = next((line for line in source.splitlines() if line and not line.startswith("#")), "")
        print(f"    {first.strip()[:56]:<58} {seconds:8.2f} s")


def floor(slugs: list[str], folder: Path) -> float:
    """Mean seconds of a profile notebook in one warm kernel whose profile is already built (each notebook run
    twice, the second timed): what is left per profile if its computation cost nothing, i.e. the figures, tables,
    downloads and notebook a panel-wide profile stage would still leave to each profile."""
    kernels = pipeline.KernelPool()
    seconds = []
    try:
        for slug in slugs:
            target = folder / "profiles" / f"{slug}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            parameters = pipeline.profile_parameters(slug.split("-", 1)[0], {"panel": "norway"}, target)
            kernels.execute("profile", parameters, target)
            start = time.perf_counter()
            kernels.execute("profile", parameters, target)
            seconds.append(time.perf_counter() - start)
    finally:
        kernels.shutdown()
    return statistics.mean(seconds)


def table_digest(folder: Path) -> str:
    """Hash of every table the profiles wrote (CSV; not the synthesis's, which a profiles-only run lacks), for
    comparing two runs."""
    digest = hashlib.sha256()
    tables = folder / "executed" / "tables"
    for path in sorted(p for p in tables.rglob("*.csv") if p.relative_to(tables).parts[0] != "synthesis"):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cluster(folder: Path) -> None:
    extra = ["--executor", "cluster-generic", "--cluster-generic-submit-cmd", f"bash {SUBMIT}", "--jobs", str(CORES)]
    config = {"out": "executed", "logs": "logs"}
    code = pipeline.snakemake(["profiles"], cores=CORES, config=config, directory=folder, quiet=True, extra=extra)
    if code:
        raise SystemExit(f"the cluster-executor run failed with exit {code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive", type=int, default=6, help="municipalities in the naive subset (default 6)")
    parser.add_argument("--cluster", action="store_true", help="also run the generic cluster executor")
    parser.add_argument("--skip-norway", action="store_true", help="only the 17 (and the naive subset)")
    parser.add_argument("--norway-views", action="store_true",
                        help="build all of Norway with every view too (default: profiles, synthesis, tutorial and "
                             "site, as issue 12 defines the goal)")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "analysis", "build"], check=True, capture_output=True)
    n_norway, n_17 = len(pipeline.municipality_slugs("norway")), len(pipeline.municipality_slugs())
    print(f"Norway build benchmark: {n_norway} municipalities, {CORES} cores, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        timed(f"main job: the {n_17} with every view (4 more notebooks each)", lambda: build("u4ssc17", tmp / "main"))
        views = args.norway_views
        what = "stage, profiles, synthesis, tutorial, site" + (", every view" if views else "")
        t17 = timed(f"full build of the {n_17} ({what})", lambda: build("u4ssc17", tmp / "p17", views))
        breakdown(tmp / "p17")
        t_all = None
        if not args.skip_norway:
            t_all = timed(f"full build of all {n_norway} municipalities of Norway (same)",
                          lambda: build("norway", tmp / "norway", views))
            breakdown(tmp / "norway")
            marginal = (t_all - t17) / (n_norway - n_17)
            print(f"{f'per-profile marginal cost (all − {n_17}) / ({n_norway} − {n_17})':<62} {marginal:8.2f} s")
            sample = pipeline.municipality_slugs("norway")[17::45][:6]
            least = floor(sample, tmp / "floor")
            print(f"{f'profile notebook with its build already done ({len(sample)}, one kernel)':<62} {least:8.2f} s")
            print(f"{f'  so {n_norway} such notebooks on {CORES} cores, nothing else, at least':<62} "
                  f"{least * n_norway / CORES:8.1f} s")
        subset = pipeline.municipality_slugs("norway")[:: max(1, n_norway // args.naive)][: args.naive]
        key = pipeline.assessment_keys([], "norway")[""]  # the naive user has the panel assessed already
        subprocess.run([sys.executable, "-m", "analysis", "assess", "--set", "panel=norway", "--out",
                        f"data/interim/assessment/{key}"], check=True, capture_output=True, cwd=paths.ROOT)
        t_naive = timed(f"naive: {len(subset)} papermill processes, {CORES} at a time (profiles only)",
                        lambda: naive(subset, tmp / "naive"))
        scaled = t_naive / len(subset) * n_norway
        print(f"{'naive way scaled to all of Norway (profiles only, no site)':<62} {scaled:8.1f} s")
        if t_all:
            print(f"{'speed-up of the full build against the naive way (goal ≥ 4)':<62} {scaled / t_all:8.2f}")
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (a shared machine: every figure is slowed by it)")
        if args.cluster:
            t_cluster = timed(f"cluster-generic executor, the {n_17} profiles (one process each)",
                              lambda: cluster(tmp / "cluster"))
            same = table_digest(tmp / "cluster") == table_digest(tmp / "p17")
            print(f"{'cluster outputs (tables) equal the local run':<62} {str(same):>8}")
            print(f"{'cluster time / the local full build of the 17':<62} {t_cluster / t17:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
