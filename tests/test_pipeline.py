"""End-to-end: the profile notebook executed with papermill for two municipalities into a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from analysis import params, paths, pipeline
from analysis.errors import InputError
from analysis.cli import main


@pytest.mark.slow
def test_two_profiles_execute_with_provenance(tmp_path):
    for name, slug, overrides in (("Tromsø", "5501-tromso", []), ("Karmøy", "1149-karmoy", ["include_simulated=false"])):
        target = pipeline.executed_path("profile", name, tmp_path)
        assert target.name == f"{slug}.ipynb"
        pipeline.execute("profile", pipeline.profile_parameters(name, params.parse_set(overrides), target), target)
        nb = nbformat.read(target, as_version=4)
        assert nb.metadata["papermill"]["parameters"]["values"]["municipality"] == slug[:4]
        prov = json.loads((tmp_path / "profiles" / f"{slug}.provenance.json").read_text(encoding="utf-8"))
        assert prov["municipality"] == name and prov["kommunenummer"] == slug[:4]
        assert prov["parameters"]["include_simulated"] is (overrides == [])
        assert len(prov["data_sha256"]) == 64 and prov["code_version"]
        assert (tmp_path / "tables" / slug / "baseline.csv").exists()
        assert (tmp_path / "tables" / slug / "tables.xlsx").exists()
    karmoy = json.loads((tmp_path / "profiles" / "1149-karmoy.provenance.json").read_text(encoding="utf-8"))
    assert karmoy["n_simulated"] == 0 and karmoy["n_published"] > 0
    assert not list(tmp_path.rglob(".*.tmp*")), "no temporary files are left behind"


def test_unknown_municipality_fails_before_any_notebook_starts(tmp_path, capsys):
    code = main(["execute", "profile", "--municipality", "Atlantis", "--output", str(tmp_path / "p" / "x.ipynb")])
    assert code == 2
    assert "unknown municipality 'Atlantis'" in capsys.readouterr().err
    assert main(["execute", "profile", "--municipality", "Herøy", "--output", str(tmp_path / "p" / "x.ipynb")]) == 2
    assert "Herøy (Nordland) 1818" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_bad_override_names_the_key(tmp_path):
    with pytest.raises(InputError, match="weights.enviroment"):
        from analysis import params
        params.load("Ålesund", ["weights.enviroment=2"])


SLUGS = {"Aukra": "1547-aukra", "Tromsø": "5501-tromso", "Giske": "1532-giske", "Karmøy": "1149-karmoy"}


def _check_profile(out, name):
    slug = SLUGS[name]
    nb = nbformat.read(out / "profiles" / f"{slug}.ipynb", as_version=4)
    assert nb.metadata["papermill"]["parameters"]["values"]["municipality"] == slug[:4]
    assert nb.metadata["papermill"]["exception"] is not True
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"][:2] == [1, 2]  # a clean kernel each time
    prov = json.loads((out / "profiles" / f"{slug}.provenance.json").read_text(encoding="utf-8"))
    assert prov["municipality"] == name
    assert len(prov["data_sha256"]) == 64 and prov["code_version"] and prov["executed_at"]
    assert (out / "tables" / slug / "baseline.csv").exists()
    assert (out / "tables" / slug / "tables.xlsx").exists()


@pytest.mark.slow
def test_snakemake_workflow_for_two_municipalities_into_a_temporary_folder(tmp_path):
    code = pipeline.snakemake(["profiles"], cores=2, config={"municipalities": ["Aukra", "Tromsø"]},
                              directory=tmp_path, quiet=True)
    assert code == 0
    out = tmp_path / "reports" / "executed"
    assert sorted(p.name for p in (out / "profiles").glob("*.ipynb")) == ["1547-aukra.ipynb", "5501-tromso.ipynb"]
    for name in ("Aukra", "Tromsø"):
        _check_profile(out, name)
        assert "executed profile" in (tmp_path / "reports" / "logs" / "profile" / f"{SLUGS[name]}.log").read_text("utf-8")
    assert not list(out.rglob(".*.tmp*")), "no temporary files are left behind"
    assert pipeline.missing_profiles(["profiles"], {"municipalities": "Aukra,Tromsø"}, tmp_path) == []


@pytest.mark.slow
def test_a_failing_municipality_does_not_stop_the_others(tmp_path, capfd):
    """Bergen is a real municipality outside the panel with no data of its own: its profile fails, Giske's is built."""
    code = pipeline.snakemake(["profiles"], cores=2, config={"municipalities": "Bergen,Giske", "out": "built"},
                              directory=tmp_path, quiet=True)
    assert code != 0
    _check_profile(tmp_path / "built", "Giske")
    assert not (tmp_path / "built" / "profiles" / "4601-bergen.ipynb").exists()
    assert "is not in the panel" in (tmp_path / "reports" / "logs" / "profile" / "4601-bergen.log").read_text("utf-8")
    assert "1 municipality failed: Bergen" in capfd.readouterr().err


def test_snakefile_config_and_names_without_pandas():
    from analysis import municipalities
    assert pipeline.municipality_slugs() == sorted(municipalities.load()["slug"])
    assert pipeline.config_municipalities({"municipalities": " Aukra, 5501 "}) == ["1547-aukra", "5501-tromso"]
    assert pipeline.config_municipalities({}) == pipeline.municipality_slugs()
    assert len(pipeline.config_municipalities({"panel": "norway"})) == 357
    assert pipeline.missing_profiles(["x/profiles/1547-aukra.ipynb"], {"out": "nowhere"}) == ["1547-aukra"]
    with pytest.raises(InputError, match="did you mean Tromsø"):
        pipeline.config_municipalities({"municipalities": "Tromso"})


def test_pipeline_module_imports_neither_pandas_nor_papermill():
    import subprocess
    import sys
    code = ("import sys, runpy; from analysis import pipeline; pipeline.municipality_slugs(); "
            "pipeline.assessment_keys(pipeline.municipality_slugs()); "
            "assert 'pandas' not in sys.modules and 'papermill' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_the_cluster_path_gives_the_local_outputs(tmp_path):
    """Snakemake's generic cluster executor with a local submit script: each profile job its own process."""
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    config = {"municipalities": "Aukra", "out": "executed", "logs": "logs"}
    assert pipeline.snakemake(["profiles"], cores=1, config=config, directory=local, quiet=True) == 0
    submit = ["--executor", "cluster-generic", "--cluster-generic-submit-cmd",
              f"bash {paths.ROOT / 'workflow' / 'local-submit.sh'}", "--jobs", "1"]
    assert pipeline.snakemake(["profiles"], cores=1, config=config, directory=cluster, quiet=True, extra=submit) == 0
    tables = sorted(p.relative_to(local) for p in (local / "executed" / "tables").rglob("*.csv"))
    assert tables and [p.relative_to(cluster) for p in sorted((cluster / "executed" / "tables").rglob("*.csv"))] == tables
    for table in tables:
        assert (cluster / table).read_bytes() == (local / table).read_bytes(), table


def test_make_clean_never_touches_city_supplied_data(tmp_path):
    """`make clean` in a copy of the project: outputs go, city data stays, an old-layout folder is moved first."""
    import shutil
    import subprocess
    import sys

    from analysis import paths
    root = tmp_path / "project"
    (root / "analysis").mkdir(parents=True)
    shutil.copy2(paths.ROOT / "Makefile", root / "Makefile")
    for name in ("__init__.py", "paths.py"):
        shutil.copy2(paths.ROOT / "analysis" / name, root / "analysis" / name)
    city = root / "data" / "external" / "city_supplied"
    city.mkdir(parents=True)
    (city / "Tromsø.csv").write_text("municipality\nTromsø\n", encoding="utf-8")
    old = root / "data" / "processed" / "city_supplied"
    old.mkdir(parents=True)
    (old / "Bærum.csv").write_text("municipality\nBærum\n", encoding="utf-8")
    (root / "data" / "processed" / "observations.csv").write_text("x\n", encoding="utf-8")
    (root / "reports" / "site").mkdir(parents=True)
    done = subprocess.run(["make", "clean", f"PYTHON={sys.executable}"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (city / "Tromsø.csv").read_text(encoding="utf-8") == "municipality\nTromsø\n"
    assert (city / "Bærum.csv").read_text(encoding="utf-8") == "municipality\nBærum\n"
    assert "moved city-supplied data" in done.stderr
    assert sorted(p.name for p in (root / "data" / "processed").iterdir()) == [".gitkeep"]
    assert not (root / "reports" / "site").exists()


# --- interrupted, concurrent and partly failing builds -----------------------------------------------

SNAKEMAKE_OUTPUT = """\
Job stats:
job          count
---------  -------
all              1
profile          3
synthesis        1
tutorial         1
total            6

[Tue Dec  1 16:37:01 2026]
localrule profile:
    input: data/processed/observations.csv
    output: reports/executed/profiles/Aukra.ipynb
    log: reports/logs/profile/Aukra.log
    jobid: 1
    wildcards: m=Aukra
[Tue Dec  1 16:37:01 2026]
localrule profile:
    output: reports/executed/profiles/Bodø.ipynb
    log: reports/logs/profile/Bodø.log
    jobid: 3
    wildcards: m=Bodø
[Tue Dec  1 16:37:01 2026]
localrule tutorial:
    output: reports/executed/tutorial.ipynb
    log: reports/logs/tutorial.log
    jobid: 7
RuleException:
InputError in file "workflow/Snakefile", line 82:
[Tue Dec  1 16:37:02 2026]
Error in rule profile:
    message: None
    jobid: 3
    output: reports/executed/profiles/Bodø.ipynb
    log: reports/logs/profile/Bodø.log (check log file(s) for error details)
[Tue Dec  1 16:37:13 2026]
Finished jobid: 1 (Rule: profile)
1 of 6 steps (17%) done
[Tue Dec  1 16:37:14 2026]
Error in rule tutorial:
    jobid: 7
    output: reports/executed/tutorial.ipynb
    log: reports/logs/tutorial.log (check log file(s) for error details)
Exiting because a job execution failed. Look above for error messages
"""


def _read(text: str) -> tuple[pipeline.WorkflowLog, list]:
    log = pipeline.WorkflowLog()
    changed = [job for line in text.splitlines(keepends=True) if (job := log.feed(line))]
    return log, changed


def test_workflow_log_follows_jobs_and_their_outcome():
    log, changed = _read(SNAKEMAKE_OUTPUT)
    assert log.planned == {"all": 1, "profile": 3, "synthesis": 1, "tutorial": 1}
    assert [(j.rule, j.municipality, j.state) for j in changed] == [
        ("profile", "Bodø", "failed"), ("profile", "Aukra", "finished"), ("tutorial", None, "failed")]
    assert [j.log for j in log.failed()] == ["reports/logs/profile/Bodø.log", "reports/logs/tutorial.log"]
    assert log.steps == (1, 6)


def test_summary_names_the_failed_municipality_and_the_tutorial_that_depends_on_it(tmp_path):
    log, _ = _read(SNAKEMAKE_OUTPUT)
    result = pipeline.WorkflowResult(1, log, not_run=["Giske"])
    lines = pipeline.summary(result, tmp_path)
    assert lines[0] == f"error: 1 municipality failed: Bodø (logs: {tmp_path / 'reports/logs/profile/Bodø.log'})"
    assert lines[1] == f"error: the tutorial step failed (log: {tmp_path / 'reports/logs/tutorial.log'})"
    assert lines[2] == "note: 1 municipality not built in this run: Giske"


def test_after_ctrl_c_nothing_is_called_failed(tmp_path):
    log, _ = _read(SNAKEMAKE_OUTPUT)
    lines = pipeline.summary(pipeline.WorkflowResult(130, log, interrupted=True, not_run=["Bodø", "Giske"]), tmp_path)
    assert not any("failed" in line for line in lines), lines
    assert lines[0].startswith("error: the build was interrupted after 1 profile(s) (exit 130); stopped while "
                               "running: Bodø, tutorial; run the same command again to resume")
    assert pipeline.write_failed(pipeline.WorkflowResult(130, log, interrupted=True), directory=tmp_path) is None


def test_summary_gives_the_cause_when_no_job_ran(tmp_path):
    log, _ = _read("Building DAG of jobs...\nLockException:\nError: Directory cannot be locked. Please make sure\n"
                   "Complete log(s): x\n")
    result = pipeline.WorkflowResult(1, log, cause=log.errors, not_run=["Aukra"])
    lines = pipeline.summary(result, tmp_path)
    assert lines[0] == ("error: the workflow could not run: LockException: Error: Directory cannot be locked. "
                        "Please make sure")
    assert not any("failed" in line for line in lines)


def test_failed_notebooks_become_placeholder_pages_that_name_the_log(tmp_path):
    from analysis import report
    log, _ = _read(SNAKEMAKE_OUTPUT)
    written = pipeline.write_failed(pipeline.WorkflowResult(1, log), directory=tmp_path)
    assert json.loads(written.read_text(encoding="utf-8")) == {"failed": [
        {"kind": "profile", "municipality": "Bodø", "notebook": "profiles/1804-bodo.ipynb",
         "log": "reports/logs/profile/Bodø.log"},
        {"kind": "tutorial", "municipality": None, "notebook": "tutorial.ipynb", "log": "reports/logs/tutorial.log"}]}
    result = report.render_site(tmp_path / "reports" / "executed", tmp_path / "site", renderer="nbconvert")
    assert result["municipalities"] == {"Bodø": "profiles/1804-bodo.html"}
    page = (tmp_path / "site" / "profiles" / "1804-bodo.html").read_text(encoding="utf-8")
    assert "The profile of Bodø failed in this build; the log is reports/logs/profile/Bodø.log." in page
    tutorial = (tmp_path / "site" / "tutorial.html").read_text(encoding="utf-8")
    assert "The tutorial failed in this build; the log is reports/logs/tutorial.log." in tutorial


def test_progress_on_a_non_terminal_is_plain_lines():
    import io
    stream = io.StringIO()
    progress = pipeline.Progress(stream)
    log = pipeline.WorkflowLog()
    for line in SNAKEMAKE_OUTPUT.splitlines(keepends=True):
        progress.update(log, log.feed(line))
    progress.close()
    assert stream.getvalue().splitlines() == [
        "profiles: 1 of 3 done (Bodø failed)", "profiles: 2 of 3 done (Aukra finished)",
        "tutorial: failed (log: reports/logs/tutorial.log)"]
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


HOLD_LOCK = ("import sys, time; from pathlib import Path; from analysis import pipeline\n"
             "with pipeline.build_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)\n")


def test_a_second_build_refuses_naming_the_pid_of_the_first_and_a_killed_one_leaves_no_lock(tmp_path):
    import signal
    import subprocess
    import sys
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(pipeline.BuildRunning, match=rf"another build is running \(pid {holder.pid}\)"):
            with pipeline.build_lock(tmp_path):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with pipeline.build_lock(tmp_path):  # the lock of a killed build is free at once
        assert (tmp_path / pipeline.BUILD_LOCK).read_text(encoding="utf-8").strip() == str(__import__("os").getpid())


def test_all_refuses_while_another_build_runs(tmp_path, monkeypatch, capsys):
    import subprocess
    import sys
    from analysis import paths
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["all"]) == 1
    finally:
        holder.kill()
        holder.wait()
    assert f"error: another build is running (pid {holder.pid})" in capsys.readouterr().err


def test_recover_removes_a_stale_lock_and_leftovers_but_not_a_live_lock(tmp_path, monkeypatch):
    import subprocess
    import sys
    from analysis import paths
    monkeypatch.setattr(paths, "PROCESSED", tmp_path / "data" / "processed")
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("x", encoding="utf-8")
    profiles = tmp_path / "reports" / "executed" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / ".Aukra.ipynb.abc123.tmp.ipynb").write_bytes(b"")
    (profiles / "Giske.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "reports" / ".site.tmp-xyz").mkdir()
    fake = tmp_path / "bin" / "snakemake"  # a process that looks like Snakemake working on tmp_path
    fake.parent.mkdir()
    fake.write_text("import time; time.sleep(60)\n", encoding="utf-8")
    live = subprocess.Popen([sys.executable, str(fake), "--directory", str(tmp_path)])
    try:
        with pytest.raises(pipeline.BuildRunning, match=rf"another build is running \(pid {live.pid}\)"):
            pipeline.recover(tmp_path)
        assert (locks / "0.input.lock").exists(), "the lock of a live Snakemake stays"
    finally:
        live.kill()
        live.wait()
    done = pipeline.recover(tmp_path)
    assert not list(locks.iterdir())
    assert [p.name for p in profiles.iterdir()] == ["Giske.ipynb"]
    assert not (tmp_path / "reports" / ".site.tmp-xyz").exists()
    assert done[0].startswith("removed a stale Snakemake lock") and done[1].startswith("removed 2 temporary file(s)")
    assert pipeline.recover(tmp_path) == []


# --- whole builds of a copy of the project (slow) -------------------------------------------------------

COPY_IGNORE = (".venv", ".git", ".snakemake", "__pycache__", ".pytest_cache", ".hypothesis", "*.egg-info", "interim",
               "norway", "runs", ".cache")
OUTPUTS = ("data/processed", "reports/executed", "reports/site", "reports/logs", "reports/runs", "reports/_build")


def project_copy(tmp_path):
    """The repository without its outputs, in a temporary folder; ``python -m analysis`` there uses this copy."""
    import shutil
    from analysis import paths
    root = tmp_path / "project"
    shutil.copytree(paths.ROOT, root, ignore=shutil.ignore_patterns(*COPY_IGNORE), symlinks=True)
    for output in OUTPUTS:
        shutil.rmtree(root / output, ignore_errors=True)
    (root / "data" / "processed").mkdir()
    return root


def analysis_all(root, *args, **kwargs):
    """``python -m analysis all`` in ``root`` (in its own session, so a signal can reach its whole process group),
    with Ctrl-C's default action as in a terminal: a test suite started as a background job of a shell inherits
    SIGINT ignored, and a Python started so installs no KeyboardInterrupt handler."""
    import os
    import signal
    import subprocess
    import sys
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONUTF8": "1"}
    return subprocess.Popen([sys.executable, "-m", "analysis", "all", *args], cwd=root, env=env, text=True,
                            encoding="utf-8", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            **kwargs)


def _finish(proc, timeout=900):
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


BUILT = ["reports/executed/profiles/1547-aukra.ipynb", "reports/executed/profiles/1149-karmoy.ipynb",
         "reports/executed/synthesis.ipynb", "reports/executed/tutorial.ipynb", "reports/site/index.html",
         "reports/site/profiles/1547-aukra.html", "reports/site/profiles/1149-karmoy.html",
         "reports/site/synthesis.html"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGINT", "SIGKILL"])
def test_a_killed_build_resumes_with_the_projects_own_command(tmp_path, sig):
    """Ctrl-C (SIGINT to the process group) or a kill (SIGKILL to every process), then `analysis all` again."""
    import os
    import signal
    import time
    root = project_copy(tmp_path)
    proc = analysis_all(root, "--municipalities", "Aukra,Karmøy")
    deadline = time.monotonic() + 600
    profiles = root / "reports" / "executed" / "profiles"
    while time.monotonic() < deadline and not list(profiles.glob("*.ipynb")) and proc.poll() is None:
        time.sleep(0.2)  # stop the build once the first profile is written and the second is running
    assert proc.poll() is None, "the build ended before it could be interrupted"
    os.killpg(proc.pid, getattr(signal, sig))
    code, out = _finish(proc)
    if sig == "SIGINT":
        assert code == pipeline.INTERRUPTED, out
        assert "the build was interrupted" in out and "municipalities failed" not in out
        assert "1 municipality failed" not in out
    else:
        assert code == -signal.SIGKILL
    code, out = _finish(analysis_all(root, "--municipalities", "Aukra,Karmøy"))
    assert code == 0, out
    assert "failed" not in out.lower().replace("failed.json", "")
    for path in BUILT:
        assert (root / path).is_file(), path
    assert not [p for p in root.rglob(".*.tmp*") if ".venv" not in p.parts], "no temporary files are left"
    assert not list((root / ".snakemake" / "locks").glob("*")), "no Snakemake lock is left"
    for name in ("Aukra", "Karmøy"):
        _check_profile(root / "reports" / "executed", name)


@pytest.mark.slow
def test_one_failing_municipality_still_gives_the_site_with_a_page_saying_so(tmp_path):
    root = project_copy(tmp_path)
    # Bergen is a real municipality outside the panel with no data of its own: its profile fails
    code, out = _finish(analysis_all(root, "--municipalities", "Bergen,Aukra"))
    assert code != 0
    assert f"error: 1 municipality failed: Bergen (logs: {root / 'reports/logs/profile/4601-bergen.log'})" in out
    for path in ("reports/executed/profiles/1547-aukra.ipynb", "reports/executed/synthesis.ipynb",
                 "reports/executed/tutorial.ipynb", "reports/site/profiles/1547-aukra.html",
                 "reports/site/tutorial.html"):
        assert (root / path).is_file(), path
    page = (root / "reports" / "site" / "profiles" / "4601-bergen.html").read_text(encoding="utf-8")
    assert "The profile of Bergen failed in this build; the log is reports/logs/profile/4601-bergen.log." in page
    assert "site rendered with" in out and "profiles/4601-bergen.ipynb" in out


@pytest.mark.slow
def test_two_clean_builds_are_identical_but_for_documented_volatile_fields(tmp_path):
    import filecmp
    import shutil

    import nbformat
    from analysis import build
    for name in ("one", "two"):
        build.build(tmp_path / name / "processed")
    assert (tmp_path / "one" / "processed" / "observations.csv").read_bytes() == \
        (tmp_path / "two" / "processed" / "observations.csv").read_bytes()
    work = tmp_path / "work"
    targets = ["profiles", "reports/executed/synthesis.ipynb", "reports/executed/tutorial.ipynb"]
    for name in ("one", "two"):  # the same folder each time, cleaned in between: the same paths in the notebooks
        assert pipeline.snakemake(targets, config={"municipalities": "Aukra,Tromsø"}, directory=work, quiet=True) == 0
        shutil.move(work / "reports" / "executed", tmp_path / name / "executed")
        shutil.rmtree(work)
    one, two = tmp_path / "one" / "executed", tmp_path / "two" / "executed"
    tables = sorted(p.relative_to(one) for p in (one / "tables").rglob("*") if p.is_file())
    assert len(tables) > 10 and tables == sorted(p.relative_to(two) for p in (two / "tables").rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(one, two, [str(t) for t in tables], shallow=False)
    assert mismatch == [] and errors == []
    notebooks = sorted(p.relative_to(one) for p in one.rglob("*.ipynb"))
    assert len(notebooks) == 4
    for path in notebooks:
        a, b = (nbformat.read(root / path, as_version=4) for root in (one, two))
        assert a != b, "timings differ between two runs"  # the comparison below is not vacuous
        a, b = pipeline.without_volatile(a), pipeline.without_volatile(b)
        assert a.metadata == b.metadata and len(a.cells) == len(b.cells), path
        for x, y in zip(a.cells, b.cells):
            assert x == y, f"{path}: {x.get('source', '')[:200]}"
    for path in sorted(one.rglob("*.provenance.json")):
        a, b = (json.loads((root / path.relative_to(one)).read_text(encoding="utf-8")) for root in (one, two))
        assert {k: v for k, v in a.items() if k not in pipeline.VOLATILE_PROVENANCE} == \
            {k: v for k, v in b.items() if k not in pipeline.VOLATILE_PROVENANCE}


def test_progress_on_a_terminal_is_a_bar_with_the_failures_above_it():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = pipeline.Progress(stream)
    log = pipeline.WorkflowLog()
    for line in SNAKEMAKE_OUTPUT.splitlines(keepends=True):
        progress.update(log, log.feed(line))
    progress.close()
    text = stream.getvalue()
    assert "profiles:  67%" in text and "2/3" in text and "Aukra finished" in text
    assert "failed: Bodø (log: reports/logs/profile/Bodø.log)\n" in text
    assert "failed: tutorial (log: reports/logs/tutorial.log)\n" in text


def _job_inputs(directory, config) -> dict[str, list[str]]:
    """Per rule, the input files of its job in a forced dry run (Snakemake prints each job's inputs)."""
    import subprocess
    import sys
    exe = Path(sys.executable).parent / "snakemake"
    done = subprocess.run([str(exe), "profiles", "--snakefile", str(pipeline.SNAKEFILE), "--directory", str(directory),
                           "--cores", "1", "--dry-run", "--forceall", "--config",
                           *(f"{k}={v}" for k, v in config.items())], capture_output=True, text=True, check=True)
    inputs, rule = {}, None
    for line in done.stdout.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("input:") and rule:
            inputs[rule] = [Path(p.strip()).name for p in line.split(":", 1)[1].split(",")]
    return inputs


def test_each_stage_depends_only_on_its_inputs(tmp_path):
    """Changing one input re-runs only what depends on it: the assessment stage reads the targets but not the
    investment themes or the profile notebook, so a change there re-runs the profiles and not the assessment."""
    jobs = _job_inputs(tmp_path, {"municipalities": "Aukra", "out": "executed", "logs": "logs"})
    assert {"processed", "assessment", "profile"} <= set(jobs)
    assert "targets.csv" in jobs["assessment"] and "observations.csv" in jobs["assessment"]
    assert "investment_themes.csv" not in jobs["assessment"] and "profile.py" not in jobs["assessment"]
    assert "investment_themes.csv" not in jobs["processed"] and "targets.csv" not in jobs["processed"]
    assert "published_observations.csv" in jobs["processed"]
    # a profile reads its stage, its notebook and, through the run's input digest, every raw table and module
    assert {pipeline.SHARED_INPUTS, "profile.py", "meta.json"} <= set(jobs["profile"])
    assert {"investment_themes.csv", "targets.csv", "observations.csv", "profile.py", "invest.py",
            "defaults.yaml"} <= set(jobs["shared_inputs"])
    assert len(jobs["profile"]) < 8  # the scheduler visits every input of every ready job after each finished job


def test_input_digest_lists_every_shared_input_and_changes_with_one(tmp_path):
    """The digest the notebook jobs depend on: one sha256sum line per file, in a fixed order, and a different
    digest when one file's bytes change."""
    import hashlib
    listed_first, listed_second = tmp_path / "b.csv", tmp_path / "a.csv"  # the digest orders them by path
    listed_first.write_text("x\n1\n", encoding="utf-8")
    listed_second.write_text("Tromsø\n", encoding="utf-8")
    inputs = [str(listed_first), str(listed_second)]
    first = pipeline.write_input_digest(inputs, tmp_path / "out" / pipeline.SHARED_INPUTS).read_text()
    lines = first.splitlines()
    assert [line.split("  ")[1] for line in lines] == [str(listed_second), str(listed_first)]
    assert lines[0].split("  ")[0] == hashlib.sha256(listed_second.read_bytes()).hexdigest()
    assert pipeline.write_input_digest(inputs[::-1], tmp_path / "again").read_text() == first
    listed_first.write_text("x\n2\n", encoding="utf-8")
    assert pipeline.write_input_digest(inputs, tmp_path / "changed").read_text() != first
