"""Executing the parameterised notebooks with papermill: one profile per municipality, the synthesis, the tutorial.

Snakemake (``workflow/Snakefile``) owns the build graph and calls ``execute`` through the CLI, so
it re-runs only what changed and runs municipalities in parallel; this module executes one
notebook robustly: per-cell timeout, one retry when the kernel fails to start, atomic output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from analysis import paths
from analysis.files import atomic_path

NOTEBOOKS = {"profile": "profile.py", "synthesis": "synthesis.py", "tutorial": "tutorial.py"}
CELL_TIMEOUT = 600
"""Seconds one cell may run before the notebook fails (the synthesis Monte Carlo takes seconds)."""
SNAKEFILE = paths.ROOT / "workflow" / "Snakefile"


def executed_path(kind: str, municipality: str | None = None, output_dir: Path | None = None) -> Path:
    """Where the executed copy of a notebook goes (a build output, never committed)."""
    out = Path(output_dir or paths.REPORTS / "executed")
    return out / "profiles" / f"{municipality}.ipynb" if kind == "profile" else out / f"{kind}.ipynb"


def source_notebook(kind: str) -> nbformat.NotebookNode:
    """The notebook of ``kind`` read from its paired jupytext ``.py`` source."""
    return jupytext.read(paths.NOTEBOOKS / NOTEBOOKS[kind])


def execute(kind: str, parameters: dict[str, Any], target: Path, timeout: int = CELL_TIMEOUT,
            retries: int = 1) -> Path:
    """Execute one notebook with papermill into ``target`` atomically; a kernel that fails to start is retried."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder) / f"{kind}.ipynb"
        nbformat.write(source_notebook(kind), src)
        for attempt in range(retries + 1):
            try:
                with atomic_path(target) as tmp:
                    papermill.execute_notebook(
                        str(src), str(tmp), parameters=parameters, cwd=str(paths.ROOT), kernel_name="python3",
                        execution_timeout=timeout, progress_bar=False, request_save_on_cell_execute=False)
                return target
            except PapermillExecutionError:
                raise  # a failing cell is an error in the analysis, not a kernel hiccup
            except (RuntimeError, TimeoutError) as exc:  # kernel died or did not start in time
                if attempt == retries:
                    raise
                print(f"kernel failed to start for {target.name} ({exc}); retrying once", file=sys.stderr)
    return target


def snakemake(targets: list[str], cores: int = 2, extra: list[str] | None = None) -> int:
    """Run the workflow for ``targets``; keeps going past a failed municipality and returns Snakemake's exit code."""
    exe = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    cmd = [exe, "--snakefile", str(SNAKEFILE), "--directory", str(paths.ROOT), "--cores", str(cores),
           "--keep-going", "--rerun-triggers", "mtime", "params", "input", "code",
           "--printshellcmds", *(extra or []), *targets]
    env = {**os.environ, "PYTHONUTF8": "1"}
    return subprocess.run(cmd, env=env, check=False).returncode
