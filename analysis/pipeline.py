"""Executing the parameterised notebooks with papermill: one profile per municipality, the synthesis, the tutorial.

Snakemake (``workflow/Snakefile``) owns the build graph, so it re-runs only what changed and runs
municipalities in parallel; this module executes one notebook robustly: per-cell timeout, one
retry when the kernel fails to start, atomic output.

Speed: this module is imported when the Snakefile is parsed (a no-op rebuild), so it imports
neither pandas nor papermill at module level. Profiles built by Snakemake run in *warm kernels*
(``KernelPool``): a kernel is started once per parallel slot with the analysis package imported,
and before every notebook its namespace, execution counter, warning registry and figures are
reset, so each notebook sees the same clean state as in a fresh kernel, without paying for kernel
start-up and the imports (pandas, scipy, matplotlib) each time. A notebook that fails, or a kernel
that dies, retires the kernel; the next notebook gets a fresh one.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

from analysis import paths
from analysis.files import atomic_path

NOTEBOOKS = {"profile": "profile.py", "synthesis": "synthesis.py", "tutorial": "tutorial.py"}
CELL_TIMEOUT = 600
"""Seconds one cell may run before the notebook fails (the synthesis Monte Carlo takes seconds)."""
SNAKEFILE = paths.ROOT / "workflow" / "Snakefile"
EXECUTED = "reports/executed"
LOGS = "reports/logs"
NOTEBOOK_CACHE = paths.PROCESSED / "cache" / "notebooks"


def municipality_slugs(panel: str | None = None) -> list[str]:
    """File names (``<kommunenummer>-<slug>``) of a panel's municipalities, by number (csv module only)."""
    from analysis import municipalities
    return [e.slug for e in municipalities.members(panel or municipalities.DEFAULT_PANEL)]


def label(number_or_slug: str) -> str:
    """The name of a municipality given by its number or its file name (for messages)."""
    from analysis.municipalities import registry
    e = registry().entity(str(number_or_slug).split("-", 1)[0])
    return e.label if e is not None else str(number_or_slug)


def executed_path(kind: str, municipality: str | None = None, output_dir: Path | None = None) -> Path:
    """Where the executed copy of a notebook goes (a build output, never committed); profiles by number and slug."""
    from analysis.municipalities import registry
    out = Path(output_dir or paths.REPORTS / "executed")
    if kind != "profile":
        return out / f"{kind}.ipynb"
    return out / "profiles" / f"{registry().resolve(str(municipality).split('-', 1)[0]).slug}.ipynb"


_SOCKETS: list[str] = []


def kernel_transport() -> dict[str, str]:
    """Transport of the kernels we start: local IPC sockets in a private temporary folder (TCP on Windows).

    With TCP and no CurveZMQ keys ipykernel warns that the traffic is unencrypted; kernels here only
    talk to this process, so Unix sockets (mode 0700 folder, one socket prefix per kernel) fit better.
    """
    if os.name == "nt":
        return {}
    with _POOL_LOCK:
        if not _SOCKETS:
            folder = tempfile.mkdtemp(prefix="u4ssc-kernels-")
            atexit.register(shutil.rmtree, folder, True)
            _SOCKETS.append(folder)
    return {"transport": "ipc", "ip": os.path.join(_SOCKETS[0], f"k{os.urandom(6).hex()}")}


def source_notebook(kind: str):
    """The notebook of ``kind`` read from its paired jupytext ``.py`` source."""
    import jupytext
    return jupytext.read(paths.NOTEBOOKS / NOTEBOOKS[kind])


def source_ipynb(kind: str) -> Path:
    """The ``.ipynb`` form of a notebook source, converted by jupytext once per version of the source.

    Cached under data/processed/cache/notebooks/ by the hash of the ``.py`` file, so parallel
    executions neither import jupytext nor convert again.
    """
    src = paths.NOTEBOOKS / NOTEBOOKS[kind]
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
    target = NOTEBOOK_CACHE / f"{kind}-{digest}.ipynb"
    if not target.exists():
        import nbformat
        nb = source_notebook(kind)
        with atomic_path(target) as tmp:
            nbformat.write(nb, str(tmp))
    return target


def execute(kind: str, parameters: dict[str, Any], target: Path, timeout: int = CELL_TIMEOUT,
            retries: int = 1, km=None) -> Path:
    """Execute one notebook with papermill into ``target`` atomically; a kernel that fails to start is retried.

    With ``km`` (a started kernel manager, see ``KernelPool``) the notebook runs in that kernel
    instead of a new one; the caller resets and recycles it.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    target = Path(target)
    src = source_ipynb(kind)
    for attempt in range(retries + 1):
        try:
            def run(tmp: Path) -> None:
                if km is None:
                    from traitlets.config import Config
                    papermill.execute_notebook(
                        str(src), str(tmp), parameters=parameters, cwd=str(paths.ROOT), kernel_name="python3",
                        execution_timeout=timeout, progress_bar=False, request_save_on_cell_execute=False,
                        config=Config({"KernelManager": kernel_transport()}))
                else:  # no cwd: papermill would chdir the whole (threaded) process; the kernel already runs in ROOT
                    papermill.execute_notebook(
                        str(src), str(tmp), parameters=parameters, kernel_name="python3", engine_name=_warm_engine(),
                        execution_timeout=timeout, progress_bar=False, request_save_on_cell_execute=False, km=km)
            with atomic_path(target) as tmp:
                run(tmp)
            return target
        except PapermillExecutionError:
            raise  # a failing cell is an error in the analysis, not a kernel hiccup
        except (RuntimeError, TimeoutError) as exc:  # kernel died or did not start in time
            if attempt == retries or km is not None:
                raise
            print(f"kernel failed to start for {target.name} ({exc}); retrying once", file=sys.stderr)
    return target


# --- warm kernels -------------------------------------------------------------------------------

_ENGINE = "u4ssc-warm"
_WARM_UP = "import analysis.present, analysis.profile, analysis.invest"
_RESET = ("get_ipython().reset(new_session=True)\n"
          "__import__('matplotlib.pyplot').pyplot.close('all')\n"
          "__import__('warnings')._filters_mutated()\n")
"""Back to a fresh kernel's state: empty namespace, a new history session with execution count 1, no
figures, and warnings shown again (the registry of warnings already shown is invalidated)."""


def _warm_engine() -> str:
    """Register (once) a papermill engine that runs in a given kernel and closes its client afterwards."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    if _ENGINE not in papermill_engines._engines:
        class WarmEngine(NBClientEngine):
            @classmethod
            def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                         stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
                kwargs = {k: v for k, v in kwargs.items() if k not in ("input_path", "timeout", "startup_timeout")}
                client = PapermillNotebookClient(
                    nb_man, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                    log=logger, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file, **kwargs)
                try:
                    return client.execute()
                finally:
                    if client.kc is not None:
                        client.kc.stop_channels()

        papermill_engines.register(_ENGINE, WarmEngine)
    return _ENGINE


class KernelPool:
    """Started python3 kernels (cwd: the repository) with the analysis package imported, lent one at a time.

    Thread-safe: Snakemake runs the profile jobs in threads of its own process. Kernels are started
    on demand, so the pool grows to the number of jobs running at once.
    """

    def __init__(self, warm_up: str = _WARM_UP, startup_timeout: int = 120):
        self.warm_up = warm_up
        self.startup_timeout = startup_timeout
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        self._all: list = []
        self._lock = threading.Lock()

    def _run(self, km, code: str) -> None:
        kc = km.blocking_client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=self.startup_timeout)
            reply = kc.execute_interactive(code, silent=True, store_history=False, timeout=self.startup_timeout,
                                           output_hook=lambda msg: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"kernel set-up failed: {reply['content'].get('ename')}: "
                                   f"{reply['content'].get('evalue')}")
        finally:
            kc.stop_channels()

    def _start(self):
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        km = AsyncKernelManager(kernel_name="python3", **kernel_transport())
        run_sync(km.start_kernel)(cwd=str(paths.ROOT))
        with self._lock:
            self._all.append(km)
        try:
            self._run(km, self.warm_up + "\n" + _RESET)
        except Exception:
            self._discard(km)
            raise
        return km

    def _discard(self, km) -> None:
        from jupyter_core.utils import run_sync
        with self._lock:
            if km in self._all:
                self._all.remove(km)
        try:
            run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # already dead
            pass

    def execute(self, kind: str, parameters: dict[str, Any], target: Path, timeout: int = CELL_TIMEOUT) -> Path:
        """Execute one notebook in a warm kernel; the kernel is reset afterwards, or retired if anything failed."""
        try:
            km = self._idle.get_nowait()
        except queue.Empty:
            km = self._start()
        try:
            execute(kind, parameters, target, timeout=timeout, km=km)
            self._run(km, _RESET)
        except BaseException:
            self._discard(km)
            raise
        self._idle.put(km)
        return Path(target)

    def shutdown(self) -> None:
        for km in list(self._all):
            self._discard(km)


_POOL: KernelPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> KernelPool:
    """The process's kernel pool, shut down at exit."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = KernelPool()
            atexit.register(_POOL.shutdown)
        return _POOL


def notebook_parameters(values: Any, output: Path) -> dict[str, Any]:
    """Papermill parameters of a notebook: the validated values in canonical form, and where side outputs go."""
    canonical = values.canonical() if hasattr(values, "canonical") else dict(values)
    folder = Path(output).parent.parent if canonical.get("municipality") else Path(output).parent
    return {"values": canonical, "output_dir": root_relative(folder)}


def profile_parameters(municipality: str, overrides: dict[str, Any] | None, output: Path) -> dict[str, Any]:
    """Validated papermill parameters of a profile (``municipality``: a number, a name or a file slug)."""
    from analysis import params
    return notebook_parameters(params.resolve(str(municipality).split("-", 1)[0] if str(municipality)[:4].isdigit()
                                              else municipality, overrides), output)


def root_relative(path: Path) -> str:
    """A path as the kernel (cwd: the repository) should see it: relative inside the repository, else absolute."""
    full = Path(os.path.abspath(path))
    try:
        return str(full.relative_to(paths.ROOT))
    except ValueError:
        return str(full)


def run_profile(municipality: str, output: str | Path, log: str | Path, overrides: dict[str, Any] | None = None,
                warm: bool = True) -> Path:
    """One profile job of the workflow: validate, execute (in a warm kernel), and log what happened.

    The log gets the parameters, and the traceback if the notebook fails (the exception is
    re-raised so that Snakemake marks the job failed and keeps going with the others).
    """
    output, log = Path(output), Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as f:
        try:
            parameters = profile_parameters(municipality, overrides, output)
            f.write(f"parameters: {json.dumps(parameters, ensure_ascii=False)}\n")
            f.flush()
            if warm:
                pool().execute("profile", parameters, output)
            else:
                execute("profile", parameters, output)
            f.write(f"executed profile: {output}\n")
        except BaseException as exc:
            from analysis.errors import InputError
            if isinstance(exc, InputError):
                f.write(f"error: {len(exc.problems)} problem(s) in the input:\n")
                f.writelines(f"  {p}\n" for p in exc.problems)
            else:
                f.write(traceback.format_exc())
            raise
    return output


# --- the workflow -------------------------------------------------------------------------------

def snakemake(targets: list[str], cores: int = 2, extra: list[str] | None = None,
              config: dict[str, Any] | None = None, directory: Path | None = None, quiet: bool = False) -> int:
    """Run the workflow for ``targets``; keeps going past a failed municipality and returns Snakemake's exit code.

    ``config`` goes to Snakemake's ``--config`` (``out``: folder of executed notebooks,
    ``municipalities``: names to build, ``logs``: log folder); ``directory`` is the working
    directory the relative outputs go to (default: the repository). On failure, the
    municipalities whose profile is missing are named on stderr.
    """
    exe = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    workdir = Path(directory or paths.ROOT)
    cmd = [exe, *targets, "--snakefile", str(SNAKEFILE), "--directory", str(workdir), "--cores", str(cores),
           "--keep-going", "--rerun-triggers", "mtime", "params", "input", "code", "--force-use-threads",
           "--printshellcmds"]
    if config:
        cmd += ["--config", *(f"{k}={_config_value(v)}" for k, v in config.items())]
    if quiet:
        cmd += ["--quiet", "rules"]
    cmd += [*(extra or [])]
    env = {**os.environ, "PYTHONUTF8": "1"}
    code = subprocess.run(cmd, env=env, check=False).returncode
    if code:
        failed = missing_profiles(targets, config, workdir)
        if failed:
            logs = workdir / str((config or {}).get("logs", LOGS))
            print(f"error: {len(failed)} municipalit{'y' if len(failed) == 1 else 'ies'} failed: "
                  f"{', '.join(label(m) for m in failed)} (logs: {', '.join(str(logs / 'profile' / f'{m}.log') for m in failed)})",
                  file=sys.stderr)
    return code


def _config_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def config_municipalities(config: dict[str, Any] | None) -> list[str]:
    """The profiles a workflow run builds, as file slugs: ``config['municipalities']`` (numbers or names, a list or
    a comma string) or the members of ``config['panel']`` (default: the project panel)."""
    from analysis.municipalities import registry
    chosen = (config or {}).get("municipalities")
    if chosen is None or chosen == "":
        return municipality_slugs((config or {}).get("panel"))
    if isinstance(chosen, str):
        chosen = chosen.split(",")
    return [registry().resolve(str(m).strip(), file="--config municipalities", column="municipalities",
                               label="key").slug for m in chosen if str(m).strip()]


def missing_profiles(targets: list[str], config: dict[str, Any] | None = None,
                     directory: Path | None = None) -> list[str]:
    """Municipalities whose executed profile a run of ``targets`` should have produced but did not."""
    out = Path(directory or paths.ROOT) / str((config or {}).get("out", EXECUTED))
    wanted = config_municipalities(config)
    if not any(t in ("all", "profiles") for t in targets):
        wanted = [m for m in wanted if any(t.endswith(f"profiles/{m}.ipynb") for t in targets)]
    return [m for m in wanted if not (out / "profiles" / f"{m}.ipynb").exists()]


ASSESSMENT_MODULES = ("assess", "build", "catalogue", "municipalities", "observations", "params", "paths", "scoring",
                      "sdg", "simulate", "targets", "trends", "validation", "errors", "files")
"""The modules an assessment stage is computed by (its code inputs in the workflow)."""


def assessment_keys(slugs: list[str], panel: str | None = None) -> dict[str, str]:
    """slug → assessment stage key; ``""`` → the key of the defaults. Only municipalities with their own
    parameter file are resolved one by one (the others share the defaults' key), so parsing stays cheap."""
    from analysis import params
    overrides = {"panel": panel} if panel else None
    default = params.assessment_key(params.resolve(None, overrides, names=False).canonical())
    own = params.municipality_files()
    out = {"": default}
    for slug in slugs:
        number = slug.split("-", 1)[0]
        out[slug] = (params.assessment_key(params.resolve(number, overrides, names=False).canonical())
                     if number in own else default)
    return out


def example_of(key: str, keys: dict[str, str], panel: str | None = None) -> str:
    """Command-line arguments of ``analysis assess`` that give the parameters of stage ``key``."""
    args = f"--set panel={panel}" if panel else ""
    for slug, k in keys.items():
        if k == key and slug:
            return f"--municipality {slug.split('-', 1)[0]} {args}".strip()
    return args


def profile_files(panel: str | None = None, params_dir: Path | None = None) -> dict[str, list[str]]:
    """slug → the municipality's own parameter file (empty list when it has none), for the workflow's inputs."""
    from analysis import params
    own = params.municipality_files(params_dir)
    return {slug: [str(own[slug.split("-", 1)[0]])] if slug.split("-", 1)[0] in own else []
            for slug in municipality_slugs(panel)}
