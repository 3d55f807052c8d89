"""Executing the parameterised notebooks with papermill: one profile per municipality, the synthesis, the tutorial.

Snakemake (``workflow/Snakefile``) owns the build graph, so it re-runs only what changed and runs
municipalities in parallel; this module executes one notebook robustly: per-cell timeout, one
retry when the kernel fails to start, atomic output.

Speed: this module is imported when the Snakefile is parsed (a no-op rebuild), so it imports
neither pandas nor papermill at module level. Profiles built by Snakemake run in *warm kernels*
(``KernelPool``): a kernel is started once per parallel slot with the analysis package imported,
with one client kept for its life, and before every notebook its namespace, execution counter,
figures, working directory, environment, warning filters and matplotlib settings are reset
(``kernel_reset``), so each notebook sees the same clean state as in a fresh kernel
(tests/test_warm_kernels.py), without paying for kernel start-up, the imports (pandas, scipy,
matplotlib) and a client's start each time. A notebook that fails, or a kernel that dies, retires
the kernel; the next notebook gets a fresh one.

Whole builds (``run_workflow``, ``build_all``) hold a build lock per working directory, first
clear what an interrupted build left (stale Snakemake lock, temporary files), follow Snakemake's
output to show progress per municipality and to know which jobs finished or failed, and say
afterwards what failed and why (``summary``), recording failed notebooks for the site
(``write_failed``).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import fcntl
import gc
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import paths
from analysis.cities import key_of
from analysis.files import atomic_path

NOTEBOOKS = {"profile": "profile.py", "synthesis": "synthesis.py", "tutorial": "tutorial.py",
             "resident": "resident.py", "council": "council.py"}
REAL_DATA = {"include_simulated": False}
"""The overrides of a municipality's real-data view: published, city-supplied and national statistics values only."""
LAYERS = {"real_profile": ("profile", "real/profiles/{m}.ipynb"), "resident": ("resident", "residents/{m}-{lang}.ipynb"),
          "council": ("council", "council/{m}.ipynb")}
"""The workflow's rules for the other views of a municipality: rule -> (notebook, output below the executed folder)."""
RESIDENT_LANGUAGES = ("nb", "en")
"""The resident page's languages (Norwegian Bokmål first); analysis.i18n.LANGUAGES, without importing Babel."""
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
    e = registry().entity(key_of(number_or_slug))
    return e.label if e is not None else str(number_or_slug)


def executed_path(kind: str, municipality: str | None = None, output_dir: Path | None = None) -> Path:
    """Where the executed copy of a notebook goes (a build output, never committed); profiles by number and slug."""
    from analysis.municipalities import registry
    out = Path(output_dir or paths.REPORTS / "executed")
    if kind != "profile":
        return out / f"{kind}.ipynb"
    return out / "profiles" / f"{registry().resolve(key_of(municipality)).slug}.ipynb"


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
            retries: int = 1, km=None, kc=None) -> Path:
    """Execute one notebook (``kind``: one of NOTEBOOKS, or an ``.ipynb`` path) with papermill into ``target``
    atomically; a kernel that fails to start is retried.

    With ``km`` and ``kc`` (a started kernel manager and its client, see ``WarmKernel``) the notebook
    runs in that kernel instead of a new one; the caller resets and recycles it.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    target = Path(target)
    src = Path(kind) if str(kind).endswith(".ipynb") else source_ipynb(kind)
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
                        execution_timeout=timeout, progress_bar=False, request_save_on_cell_execute=False, km=km,
                        kc=kc)
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


VOLATILE_PROVENANCE = ("executed_at",)
"""Keys of a ``provenance.json`` that change from run to run (the time of the run)."""


def without_volatile(nb):
    """A copy of an executed notebook without the fields that change from run to run with the same inputs.

    They are the timings papermill and the kernel record (``metadata.papermill`` of the notebook and
    of every cell, the cells' ``metadata.execution``) and the id papermill gives the injected
    parameters cell (random). Everything else, outputs included, is the same in two builds.
    """
    import copy
    nb = copy.deepcopy(nb)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.pop("id", None)
    return nb


# --- warm kernels -------------------------------------------------------------------------------

_ENGINE = "u4ssc-warm"
_WARM_UP = ("import analysis.present, analysis.profile, analysis.invest\n"
            "__import__('analysis.pipeline').pipeline.kernel_snapshot()\n")
_RESET = "__import__('analysis.pipeline').pipeline.kernel_reset()\n"
_KERNEL_STATE: dict[str, Any] = {}
"""(In a warm kernel) what ``kernel_reset`` restores, taken by ``kernel_snapshot`` after the warm-up imports."""
_KERNEL_RC = ("backend", "interactive")
"""matplotlib settings that are the state of IPython's matplotlib integration (the inline backend turns interactive
mode on with the first figure and keeps it), not settings a notebook makes: never restored."""


def kernel_snapshot() -> None:
    """(Run in a warm kernel after its imports) record the process state a fresh kernel starts notebooks in."""
    import warnings

    import matplotlib
    rc = {k: v for k, v in matplotlib.rcParams.items() if k not in _KERNEL_RC}
    _KERNEL_STATE.update(cwd=os.getcwd(), environ=dict(os.environ), path=list(sys.path),
                         filters=list(warnings.filters), rc=rc)
    gc.collect()
    gc.freeze()  # the imported modules are never garbage: no collection needs to look at them again


def kernel_reset() -> None:
    """(Run in a warm kernel between notebooks) back to a fresh kernel's state: no figures, an empty namespace, a
    new history session with execution count 1, and the working directory, environment, ``sys.path``,
    warning filters (with the registry of warnings already shown invalidated) and matplotlib settings
    of the snapshot. Objects that survive a notebook are frozen out of the garbage collector's scans
    (``gc.freeze``): a full collection over every imported module cost a tenth of a second per notebook."""
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    plt.close("all")
    get_ipython().reset(new_session=True)
    os.chdir(_KERNEL_STATE["cwd"])
    os.environ.clear()
    os.environ.update(_KERNEL_STATE["environ"])
    sys.path[:] = _KERNEL_STATE["path"]
    warnings.filters[:] = _KERNEL_STATE["filters"]
    warnings._filters_mutated()
    with warnings.catch_warnings():  # restoring deprecated keys as they were warns again
        warnings.simplefilter("ignore")
        matplotlib.rcParams.update(_KERNEL_STATE["rc"])
    gc.collect()  # the notebook's cycles (closed figures), then what survives (caches) is kept out of later scans
    gc.freeze()


def _warm_engine() -> str:
    """Register (once) a papermill engine that runs in a given kernel through a given, long-lived client."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    if _ENGINE not in papermill_engines._engines:
        class WarmEngine(NBClientEngine):
            @classmethod
            def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                         stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
                kc = kwargs.pop("kc")
                kwargs = {k: v for k, v in kwargs.items() if k not in ("input_path", "timeout", "startup_timeout")}
                client = PapermillNotebookClient(
                    nb_man, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                    log=logger, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file, **kwargs)
                client.kc = kc  # nbclient takes no client as an argument; given one, it makes none
                return client.execute()

        papermill_engines.register(_ENGINE, WarmEngine)
    return _ENGINE


class WarmKernel:
    """One started python3 kernel (cwd: the repository), its client, and the thread that drives both.

    The client is made once and kept: a new client waits for the kernel to be ready, and jupyter_client
    then waits 0.2 s for IOPub to fall silent, twice per notebook before. Its asyncio sockets belong to
    the event loop of one thread, so everything this kernel does runs on a thread of its own (``call``).
    """

    def __init__(self, warm_up: str = _WARM_UP, startup_timeout: int = 120):
        self.startup_timeout = startup_timeout
        self.km = self.kc = None
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="u4ssc-kernel", daemon=True).start()
        self.call(self._start, warm_up)

    def _serve(self) -> None:
        while True:
            func, args, future = self._jobs.get()
            if func is None:
                return
            try:
                future.set_result(func(*args))
            except BaseException as exc:  # handed to the caller's thread
                future.set_exception(exc)

    def call(self, func, *args, timeout: float | None = None):
        """Run ``func(*args)`` on this kernel's thread and return its result (or raise its exception)."""
        from concurrent.futures import Future
        future: Future = Future()
        self._jobs.put((func, args, future))
        return future.result(timeout)

    def _start(self, warm_up: str) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.km = AsyncKernelManager(kernel_name="python3", **kernel_transport())
        run_sync(self.km.start_kernel)(cwd=str(paths.ROOT))
        self.kc = self.km.client()
        self.kc.allow_stdin = False  # as nbclient sets it on the clients it makes
        self.kc.start_channels()
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        self._code(warm_up + _RESET)

    def _code(self, code: str) -> None:
        from jupyter_core.utils import run_sync
        reply = run_sync(self.kc.execute_interactive)(code, silent=True, store_history=False,
                                                      timeout=self.startup_timeout, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel set-up failed: {reply['content'].get('ename')}: "
                               f"{reply['content'].get('evalue')}")

    def _run(self, kind: str, parameters: dict[str, Any], target: Path, timeout: int) -> Path:
        execute(kind, parameters, target, timeout=timeout, km=self.km, kc=self.kc)
        self._code(_RESET)
        return target

    def run(self, kind: str, parameters: dict[str, Any], target: Path, timeout: int = CELL_TIMEOUT) -> Path:
        """Execute one notebook in this kernel, then reset the kernel to a fresh one's state."""
        return self.call(self._run, kind, parameters, Path(target), timeout)

    def _shutdown(self) -> None:
        from jupyter_core.utils import run_sync
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            run_sync(self.km.shutdown_kernel)(now=True)

    def close(self) -> None:
        """Stop the kernel and its thread (a kernel that is already dead is no error)."""
        try:
            self.call(self._shutdown, timeout=60)
        except Exception:  # already dead, or stuck: the kernel process ends with ours
            pass
        self._jobs.put((None, (), None))


KERNEL_BUILDS_KEPT = 24
"""Profiles a warm kernel keeps built (``analysis.profile.BUILT_KEPT``, not imported here: pandas stays out of the
workflow's parsing); the pool remembers as many parameter sets per kernel."""


class KernelPool:
    """Warm kernels with the analysis package imported, lent one notebook at a time.

    Thread-safe: Snakemake runs the profile jobs in threads of its own process. Kernels are started
    on demand, so the pool grows to the number of jobs running at once. A notebook that fails, or a
    kernel that dies, retires the kernel; the next notebook gets a fresh one.
    """

    def __init__(self, warm_up: str = _WARM_UP, startup_timeout: int = 120):
        self.warm_up = warm_up
        self.startup_timeout = startup_timeout
        self._idle: list[WarmKernel] = []
        self._all: list[WarmKernel] = []
        self._recent: dict[WarmKernel, collections.deque] = {}
        self._lock = threading.Lock()

    def _start(self) -> WarmKernel:
        kernel = WarmKernel(self.warm_up, self.startup_timeout)
        with self._lock:
            self._all.append(kernel)
        return kernel

    def _discard(self, kernel: WarmKernel) -> None:
        with self._lock:
            if kernel in self._all:
                self._all.remove(kernel)
            self._recent.pop(kernel, None)
        kernel.close()

    def _take(self, key: str) -> WarmKernel | None:
        """An idle kernel, preferring one that executed a notebook of the same parameters lately: it still holds
        that profile's build (``analysis.profile.build``), so a resident page or council paper reuses it."""
        with self._lock:
            if not self._idle:
                return None
            kernel = next((k for k in self._idle if key in self._recent.get(k, ())), self._idle[-1])
            self._idle.remove(kernel)
            return kernel

    def execute(self, kind: str, parameters: dict[str, Any], target: Path, timeout: int = CELL_TIMEOUT) -> Path:
        """Execute one notebook in a warm kernel; the kernel is reset afterwards, or retired if anything failed."""
        key = json.dumps(parameters.get("values"), sort_keys=True, default=str)
        kernel = self._take(key) or self._start()
        try:
            kernel.run(kind, parameters, target, timeout)
        except BaseException:
            self._discard(kernel)
            raise
        with self._lock:
            self._recent.setdefault(kernel, collections.deque(maxlen=KERNEL_BUILDS_KEPT)).append(key)
            self._idle.append(kernel)
        return Path(target)

    def shutdown(self) -> None:
        for kernel in list(self._all):
            self._discard(kernel)


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
    return notebook_parameters(params.resolve(key_of(municipality), overrides), output)


def root_relative(path: Path) -> str:
    """A path as the kernel (cwd: the repository) should see it: relative inside the repository, else absolute."""
    full = Path(os.path.abspath(path))
    try:
        return str(full.relative_to(paths.ROOT))
    except ValueError:
        return str(full)


def run_profile(municipality: str, output: str | Path, log: str | Path, overrides: dict[str, Any] | None = None,
                warm: bool = True, kind: str = "profile", extra: dict[str, Any] | None = None) -> Path:
    """One municipality's notebook job of the workflow (its profile, or a view of it: ``kind`` resident or council,
    ``extra`` papermill parameters such as ``lang``): validate, execute (in a warm kernel), log what happened.

    The log gets the parameters, and the traceback if the notebook fails (the exception is
    re-raised so that Snakemake marks the job failed and keeps going with the others).
    """
    output, log = Path(output), Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as f:
        try:
            parameters = {**profile_parameters(municipality, overrides, output), **(extra or {})}
            f.write(f"parameters: {json.dumps(parameters, ensure_ascii=False)}\n")
            f.flush()
            if warm:
                pool().execute(kind, parameters, output)
            else:
                execute(kind, parameters, output)
            f.write(f"executed {kind}: {output}\n")
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

BUILD_LOCK = ".snakemake/u4ssc-build.lock"
"""Lock file of a build (relative to the working directory): holds the build's pid, ``flock``-ed while it runs."""
FAILED = "failed.json"
"""Written into the folder of executed notebooks after a build with failed notebooks (see ``write_failed``)."""
WORKFLOW_LOG = "workflow.log"
"""Snakemake's whole output of the last build, in the log folder."""
INTERRUPTED = 130
"""Exit code of a build stopped by the user (128 + SIGINT), as a shell reports it."""


class BuildRunning(RuntimeError):
    """Another build holds the lock of this working directory."""


_HELD: set[Path] = set()


@contextlib.contextmanager
def build_lock(workdir: Path, wait: bool = False) -> Iterator[None]:
    """Hold the build lock of ``workdir`` or raise ``BuildRunning`` naming the pid of the build that has it.

    The lock is an ``flock`` on a file holding the pid: the kernel releases it when the process
    ends however it ends (Ctrl-C, SIGKILL), so a lock file left by a dead build is never in the way.
    With ``wait`` the call blocks until the other build is done.
    """
    path = (Path(workdir) / BUILD_LOCK).absolute()
    if path in _HELD:  # this process holds it already (``all`` locks before building the data)
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            if not wait:
                raise BuildRunning(f"another build is running (pid {holder}) in {workdir}; wait for it to "
                                   "finish or stop it (`python -m analysis all --wait` waits)") from None
            print(f"waiting for another build (pid {holder}) to finish", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _HELD.add(path)
        try:
            yield
        finally:
            _HELD.discard(path)
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def live_snakemake(workdir: Path) -> list[int]:
    """Pids of Snakemake processes working on ``workdir`` (by their working directory or ``--directory``)."""
    import psutil

    workdir = Path(workdir).resolve()
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        cmd = proc.info.get("cmdline") or []
        if proc.info["pid"] == os.getpid() or not any(Path(c).name == "snakemake" for c in cmd[:2]):
            continue
        directory = cmd[cmd.index("--directory") + 1] if "--directory" in cmd[:-1] else proc.info.get("cwd")
        if directory and Path(proc.info.get("cwd") or "/", directory).resolve() == workdir:
            found.append(proc.info["pid"])
    return found


def recover(workdir: Path, config: dict[str, Any] | None = None) -> list[str]:
    """Clear what an interrupted build left in ``workdir`` (call with the build lock held); returns what was done.

    A Snakemake lock is removed only when no live Snakemake process works on the folder (else the
    build stops and names it); leftovers of atomic writes (hidden ``.*.tmp*`` files and folders, see
    ``files.remove_leftovers``) and temporary site folders are removed. Outputs a killed job left
    incomplete are re-run by Snakemake itself (``--rerun-incomplete``).
    """
    from analysis.files import remove_leftovers

    workdir = Path(workdir)
    done = []
    locks = [p for p in (workdir / ".snakemake" / "locks").glob("*.lock")]
    if locks:
        alive = live_snakemake(workdir)
        if alive:
            raise BuildRunning(f"another build is running (pid {', '.join(map(str, alive))}): Snakemake works "
                               f"in {workdir}; wait for it to finish or stop it")
        for lock in locks:
            lock.unlink(missing_ok=True)
        done.append(f"removed a stale Snakemake lock in {workdir / '.snakemake' / 'locks'} (no Snakemake process "
                    "is running there; an earlier build was interrupted)")
    out = workdir / str((config or {}).get("out", EXECUTED))
    logs = workdir / str((config or {}).get("logs", LOGS))
    shared = [paths.PROCESSED] if workdir.resolve() == paths.ROOT.resolve() else []  # builds elsewhere share it
    removed = [p for folder in (out, logs, *shared) for p in remove_leftovers(folder)]
    site = workdir / "reports" / "site"
    for kind in ("tmp", "old", "staging"):
        for path in site.parent.glob(f".{site.name}.{kind}-*"):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        done.append(f"removed {len(removed)} temporary file(s) of an interrupted earlier build: "
                    + ", ".join(str(p) for p in removed[:5]) + (" …" if len(removed) > 5 else ""))
    return done


@dataclass
class Job:
    """One job of a Snakemake run, as its output describes it."""

    jobid: str
    rule: str
    municipality: str | None = None
    log: str | None = None
    state: str = "running"  # running, finished, failed
    wildcards: dict[str, str] = field(default_factory=dict)


@dataclass
class WorkflowLog:
    """What a Snakemake run did, read from its output line by line (jobs, their outcome, the steps done).

    Snakemake prints a block per job (``rule profile:`` / ``jobid: 3`` / ``wildcards: m=Aukra``),
    ``Finished jobid: 3 (Rule: profile)`` when one ends, ``Error in rule profile:`` blocks for
    failures and ``N of M steps (P%) done``.
    """

    jobs: dict[str, Job] = field(default_factory=dict)
    planned: dict[str, int] = field(default_factory=dict)  # rule -> jobs to run, from "Job stats"
    steps: tuple[int, int] = (0, 0)
    errors: list[str] = field(default_factory=list)  # lines of errors not tied to a job
    _block: Job | None = None
    _failing: Job | None = None
    _stats: bool = False
    _error: bool = False

    def feed(self, line: str) -> Job | None:
        """Read one line; returns the job whose state it changed, if any."""
        text = line.rstrip("\n")
        stripped = text.strip()
        if stripped == "Job stats:":
            self._stats = True
            return None
        if self._stats:
            parts = stripped.split()
            if parts and parts[0] == "total":
                self._stats = False
            elif len(parts) == 2 and parts[1].isdigit():
                self.planned[parts[0]] = int(parts[1])
            return None
        match = re.match(r"^(?:local)?rule (\S+):$", stripped)
        if match:
            self._block, self._failing, self._error = Job("", match.group(1)), None, False
            return None
        match = re.match(r"^Error in rule (\S+):$", stripped)
        if match:
            self._block, self._error = None, False
            self._failing = Job("", match.group(1), state="failed")
            return None
        current = self._block or self._failing
        if current is not None and text.startswith("    ") and ":" in stripped:
            key, _, value = stripped.partition(": ")
            if key == "jobid":
                current.jobid = value
                if current is self._block:
                    self.jobs.setdefault(value, current)
            elif key == "wildcards":
                current.wildcards = dict(w.split("=", 1) for w in value.split(", ") if "=" in w)
                current.municipality = current.wildcards.get("m")
            elif key == "log":
                current.log = current.log or value.split(" (check log")[0]
            if current is self._failing and key == "jobid":
                job = self.jobs.setdefault(value, current)
                job.state, self._failing = "failed", job
                return job
            return None
        self._block = self._failing = None
        match = re.match(r"^Finished jobid: (\S+) \(Rule: (\S+)\)$", stripped) or re.match(
            r"^Finished job (\S+)\.$", stripped)
        if match:
            job = self.jobs.setdefault(match.group(1), Job(match.group(1), match.group(2) if match.lastindex > 1
                                                           else "?"))
            job.state = "finished"
            return job
        match = re.match(r"^(\d+) of (\d+) steps \(", stripped)
        if match:
            self.steps = (int(match.group(1)), int(match.group(2)))
            return None
        if re.match(r"^\w*(Error|Exception)\b", stripped) and not stripped.startswith(
                ("WorkflowError:", "RuleException:")):
            self._error = True
        elif stripped.startswith(("Exiting because", "Complete log", "Elapsed time", "Shutting down",
                                  "At least one job did not complete")) or re.match(r"^\[.*\]$", stripped):
            self._error = False
        if self._error and stripped:
            self.errors.append(stripped)
        return None

    def failed(self, rule: str | None = None) -> list[Job]:
        return [j for j in self.jobs.values() if j.state == "failed" and rule in (None, j.rule)]

    def finished(self, rule: str) -> list[Job]:
        return [j for j in self.jobs.values() if j.state == "finished" and j.rule == rule]


class Progress:
    """Per-municipality progress of a build: a tqdm bar on a terminal, plain lines otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = None

    def update(self, log: WorkflowLog, job: Job | None) -> None:
        """Show what the line just read changed (``job``: the job it finished or failed, if any)."""
        total = log.planned.get("profile", 0)
        if self.tty and self.bar is None and total:  # the bar appears as soon as the jobs are planned
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc="profiles", unit="profile", file=self.stream, leave=True)
        if job is None:
            return
        done = len(log.finished("profile")) + len(log.failed("profile"))
        what = label(job.municipality) if job.municipality else job.rule
        if self.tty:
            if self.bar is not None and job.rule == "profile":
                self.bar.n = done
                self.bar.set_postfix_str(f"{what} {job.state}", refresh=True)
            if job.state == "failed":
                self.write(f"failed: {what} (log: {job.log})")
        elif job.rule == "profile":
            self.write(f"profiles: {done} of {total} done ({what} {job.state})")
        elif job.rule in log.planned and job.rule not in ("all", "profiles"):  # not the aggregating rules
            self.write(f"{job.rule}: {job.state}" + (f" (log: {job.log})" if job.state == "failed" else ""))

    def write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass
class WorkflowResult:
    """The outcome of one build: Snakemake's exit code, what it ran, and why it stopped."""

    code: int
    log: WorkflowLog
    interrupted: bool = False
    cause: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)


def run_workflow(targets: list[str], cores: int = 2, extra: list[str] | None = None,
                 config: dict[str, Any] | None = None, directory: Path | None = None, quiet: bool = False,
                 wait: bool = False) -> WorkflowResult:
    """Run the workflow for ``targets`` under the build lock, after clearing what an interrupted build left.

    Keeps going past a failed job, re-runs outputs a killed job left incomplete
    (``--rerun-incomplete``) and returns what happened; ``summary`` says it in words. Snakemake's
    whole output goes to ``<logs>/workflow.log`` (it is read to follow the jobs, so it is never
    shortened with Snakemake's ``--quiet``); on a terminal a progress bar per municipality and the
    failures are shown, elsewhere plain progress lines, after Snakemake's own lines unless ``quiet``.
    Jobs are chosen by Snakemake's greedy scheduler: its default (an integer program solved whenever a
    job ends) gains nothing on jobs that are all alike and cost its process seconds per job with
    hundreds of profiles waiting.
    """
    exe = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    workdir = Path(directory or paths.ROOT)
    cmd = [exe, *targets, "--snakefile", str(SNAKEFILE), "--directory", str(workdir), "--cores", str(cores),
           "--keep-going", "--rerun-incomplete", "--rerun-triggers", "mtime", "params", "input", "code",
           "--force-use-threads", "--printshellcmds", "--scheduler", "greedy"]
    if config:
        cmd += ["--config", *(f"{k}={_config_value(v)}" for k, v in config.items())]
    cmd += [*(extra or [])]
    env = {**os.environ, "PYTHONUTF8": "1"}
    log = WorkflowLog()
    with build_lock(workdir, wait=wait):
        for message in recover(workdir, config):
            print(message, file=sys.stderr, flush=True)
        (workdir / str((config or {}).get("out", EXECUTED)) / FAILED).unlink(missing_ok=True)
        log_path = workdir / str((config or {}).get("logs", LOGS)) / WORKFLOW_LOG
        log_path.parent.mkdir(parents=True, exist_ok=True)
        bar = Progress()
        interrupted = False
        with open(log_path, "w", encoding="utf-8") as record, subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                errors="replace", bufsize=1) as proc:
            try:
                for line in proc.stdout:
                    record.write(line)
                    if not (bar.tty or quiet):
                        sys.stderr.write(line)
                    bar.update(log, log.feed(line))
                code = proc.wait()
            except KeyboardInterrupt:
                interrupted = True
                code = _stop(proc, record)
            finally:
                bar.close()
    interrupted = interrupted or code in (-signal.SIGINT, INTERRUPTED)
    result = WorkflowResult(INTERRUPTED if interrupted else code if code >= 0 else 128 - code, log, interrupted)
    if code:
        result.cause = log.errors[:12]
        failed = {j.municipality for j in log.failed("profile")}
        result.not_run = [m for m in missing_profiles(targets, config, workdir) if m not in failed]
    return result


def _stop(proc: subprocess.Popen, record) -> int:
    """Stop Snakemake after Ctrl-C: it gets SIGINT (a terminal sends it to the whole process group; a
    signal sent to this process alone is passed on), then SIGTERM and SIGKILL if it does not end."""
    for sig, grace in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
        try:
            rest = proc.communicate(timeout=grace)[0]
            record.write(rest or "")
            break
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:  # a second Ctrl-C: stop at once
            continue
    return proc.wait()


def _municipalities(n: int) -> str:
    return f"{n} municipalit{'y' if n == 1 else 'ies'}"


def summary(result: WorkflowResult, workdir: Path | None = None, config: dict[str, Any] | None = None) -> list[str]:
    """What went wrong in a build, in words: the failed municipalities and notebooks with their logs, what did
    not run, and the cause when no job failed. Never calls a municipality failed that did not run, and after
    Ctrl-C calls nothing failed (the jobs running then were stopped with it)."""
    if result.code == 0:
        return []
    workdir = Path(workdir or paths.ROOT)
    lines = []
    if result.interrupted:
        stopped = sorted(j.municipality or j.rule for j in result.log.failed())
        lines.append(f"error: the build was interrupted after {len(result.log.finished('profile'))} profile(s) "
                     f"(exit {result.code})" + (f"; stopped while running: {', '.join(stopped)}" if stopped else "")
                     + "; run the same command again to resume")
    else:
        failed = sorted(result.log.failed("profile"), key=lambda j: j.municipality or "")
        if failed:
            lines.append(f"error: {_municipalities(len(failed))} failed: "
                         f"{', '.join(label(j.municipality) if j.municipality else '?' for j in failed)} "
                         f"(logs: {', '.join(str(workdir / j.log) for j in failed if j.log)})")
        for job in result.log.failed():
            if job.rule != "profile":
                lines.append(f"error: the {job.rule} step failed"
                             + (f" (log: {workdir / job.log})" if job.log else ""))
        if not result.log.failed():
            if result.code > 128:
                lines.append(f"error: Snakemake was stopped by signal {result.code - 128}; run the command again "
                             "to resume")
            else:
                lines.append("error: the workflow could not run: "
                             + " ".join(result.cause or ["Snakemake stopped without naming a failed job"]))
    if result.not_run:
        lines.append(f"note: {_municipalities(len(result.not_run))} not built in this run: {', '.join(result.not_run)}")
    lines.append(f"the workflow's full output: {workdir / str((config or {}).get('logs', LOGS)) / WORKFLOW_LOG}")
    return lines


def write_failed(result: WorkflowResult, config: dict[str, Any] | None = None,
                 directory: Path | None = None) -> Path | None:
    """Record the notebooks that failed in ``<out>/failed.json`` for the report's placeholder pages.

    Format: ``{"failed": [{"kind": "profile", "municipality": "Aukra", "notebook":
    "profiles/Aukra.ipynb", "log": "reports/logs/profile/Aukra.log"}, {"kind": "tutorial", ...}]}``,
    paths relative to the working directory. Nothing is written when nothing failed.
    """
    out = Path(directory or paths.ROOT) / str((config or {}).get("out", EXECUTED))
    if result.interrupted:
        return None  # what ran at Ctrl-C did not fail on its own account
    entries = []
    for job in sorted(result.log.failed(), key=lambda j: (j.rule, j.municipality or "")):
        if job.rule == "profile" and job.municipality:
            notebook = executed_path("profile", job.municipality, Path("."))
        elif job.rule in NOTEBOOKS:
            notebook = executed_path(job.rule, None, Path("."))
        elif job.rule in LAYERS and job.municipality:
            notebook = Path(LAYERS[job.rule][1].format(**job.wildcards))
        else:
            continue
        entries.append({"kind": job.rule, "municipality": label(job.municipality) if job.municipality else None,
                        "notebook": notebook.as_posix(),
                        "log": job.log})
    if not entries:
        return None
    from analysis.files import write_text
    return write_text(out / FAILED, json.dumps({"failed": entries}, ensure_ascii=False, indent=1) + "\n")


def build_all(cores: int = 2, config: dict[str, Any] | None = None, wait: bool = False) -> int:
    """The main job in the repository: every profile, the synthesis, the tutorial and the website.

    When notebooks fail, everything that does not depend on them is still built, and the website
    too: ``failed.json`` makes the report render a page per failed notebook saying so and naming
    its log. Returns the exit code (non-zero when anything failed).
    """
    result = run_workflow(["all"], cores, config=config, wait=wait)
    write_failed(result, config)
    lines = summary(result, paths.ROOT, config)
    notebooks_only = all(j.rule in NOTEBOOKS or j.rule in LAYERS for j in result.log.failed())
    if result.log.failed() and notebooks_only and not result.interrupted and not result.log.finished("site"):
        from analysis import report
        try:
            site = paths.ROOT / str((config or {}).get("site", "reports/site"))
            rendered = report.render_site(paths.ROOT / str((config or {}).get("out", EXECUTED)), site)
            lines.append(f"site rendered with {rendered['renderer']} without the failed notebooks "
                         f"(placeholder pages: {', '.join(rendered['missing'])}): {site / 'index.html'}")
        except report.ReportError as exc:
            lines.append(f"error: the site could not be rendered either: {exc}")
    for line in lines:
        print(line, file=sys.stderr)
    return result.code


def snakemake(targets: list[str], cores: int = 2, extra: list[str] | None = None,
              config: dict[str, Any] | None = None, directory: Path | None = None, quiet: bool = False) -> int:
    """Run the workflow for ``targets``; keeps going past a failed municipality and returns the exit code.

    ``config`` goes to Snakemake's ``--config`` (``out``: folder of executed notebooks,
    ``municipalities``: names to build, ``logs``: log folder); ``directory`` is the working
    directory the relative outputs go to (default: the repository). On failure, what failed and
    why is said on stderr (``summary``).
    """
    try:
        result = run_workflow(targets, cores, extra, config, directory, quiet)
    except BuildRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_failed(result, config, directory)
    for line in summary(result, directory, config):
        print(line, file=sys.stderr)
    return result.code


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


def config_views(config: dict[str, Any] | None) -> bool:
    """Whether a workflow run builds every municipality's other views (``config['views']``, default true): the
    real-data view, the resident pages and the council paper. Off, a run builds the profiles, the synthesis, the
    tutorial and a site that links only the views it has."""
    value = (config or {}).get("views", True)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        from analysis.errors import InputError
        raise InputError.single("--config views", f"expected true or false, got {value!r}", column="views",
                                label="key")
    return text == "true"


SHARED_INPUTS = "inputs.sha256"
"""The run's digest of the inputs every notebook job reads (below ``out``): the processed observations, the raw
tables, the supplied budgets, the defaults, the package's code and its locale files. Each notebook job depends on
this one file rather than on the hundred files themselves, so that Snakemake's scheduler, which visits every input
of every ready job after each finished job, stays cheap with hundreds of profiles (it took about half a core for
all of Norway); a change to any of them still rewrites the digest and so re-runs every job after it."""


def write_input_digest(inputs: list[str], target: str | Path) -> Path:
    """``sha256sum``-style lines (digest, two spaces, path relative to the repository) of ``inputs`` in a fixed
    order, written atomically: the workflow's record of what its notebook jobs read (``SHARED_INPUTS``)."""
    from analysis.files import write_text

    lines = [f"{hashlib.sha256(Path(f).read_bytes()).hexdigest()}  {root_relative(Path(f))}\n"
             for f in sorted(inputs, key=lambda f: root_relative(Path(f)))]
    return write_text(target, "".join(lines))


def missing_profiles(targets: list[str], config: dict[str, Any] | None = None,
                     directory: Path | None = None) -> list[str]:
    """Municipalities whose executed profile a run of ``targets`` should have produced but did not."""
    out = Path(directory or paths.ROOT) / str((config or {}).get("out", EXECUTED))
    wanted = config_municipalities(config)
    if not any(t in ("all", "profiles") for t in targets):
        wanted = [m for m in wanted if any(t.endswith(f"profiles/{m}.ipynb") for t in targets)]
    return [m for m in wanted if not (out / "profiles" / f"{m}.ipynb").exists()]


OBSERVATION_INPUTS = ("kpi_catalogue.csv", "published_observations.csv", "published_observations_addendum.csv",
                      "label_aliases.csv", "unit_aliases.csv", "unit_conversions.csv", "municipalities.csv",
                      "norway_municipalities_2020.csv", "norway_municipalities_2024.csv",
                      "norway_municipality_changes.csv", "national_values_found.csv", "national_statistics_map.csv",
                      "source_precedence.csv")
"""The raw tables ``python -m analysis build`` reads into the observations (the workflow's ``processed`` inputs)."""
ASSESSMENT_INPUTS = ("kpi_catalogue.csv", "targets.csv", "municipalities.csv", "norway_municipalities_2020.csv",
                     "norway_municipalities_2024.csv", "norway_municipality_changes.csv", "source_precedence.csv")
"""The raw tables an assessment reads besides the observations (its stage's inputs and fingerprint)."""
ASSESSMENT_MODULES = ("assess", "build", "catalogue", "cities", "municipalities", "observations", "params", "paths", "scoring",
                      "sdg", "simulate", "targets", "trends", "validation", "errors", "files", "precedence")
"""The modules an assessment stage is computed by (its code inputs in the workflow)."""


def assessment_keys(slugs: list[str], panel: str | None = None, view: dict[str, Any] | None = None) -> dict[str, str]:
    """slug → assessment stage key; ``""`` → the key of the defaults. Only municipalities with their own
    parameter file are resolved one by one (the others share the defaults' key), so parsing stays cheap.
    ``view``: overrides of every profile (``REAL_DATA`` for the real-data views)."""
    from analysis import params
    overrides = {**({"panel": panel} if panel else {}), **(view or {})} or None
    default = params.assessment_key(params.resolve(None, overrides, names=False).canonical())
    own = params.municipality_files()
    out = {"": default}
    for slug in slugs:
        number = key_of(slug)
        out[slug] = (params.assessment_key(params.resolve(number, overrides, names=False).canonical())
                     if number in own else default)
    return out


def example_of(key: str, keys: dict[str, str], panel: str | None = None, view: dict[str, Any] | None = None) -> str:
    """Command-line arguments of ``analysis assess`` that give the parameters of stage ``key``."""
    args = " ".join([*([f"--set panel={panel}"] if panel else []),
                     *(f"--set {k}={json.dumps(v)}" for k, v in sorted((view or {}).items()))])
    for slug, k in keys.items():
        if k == key and slug:
            return f"--municipality {key_of(slug)} {args}".strip()
    return args


def profile_files(panel: str | None = None, params_dir: Path | None = None) -> dict[str, list[str]]:
    """slug → the municipality's own parameter file (empty list when it has none), for the workflow's inputs."""
    from analysis import params
    own = params.municipality_files(params_dir)
    return {slug: [str(own[key_of(slug)])] if key_of(slug) in own else [] for slug in municipality_slugs(panel)}
