"""Progress of long commands: plain lines without control characters off a terminal, live display on one."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from analysis import progress
from analysis.cli import run_folder
from analysis.paths import ROOT

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but tab and newline: escapes, \r, backspace


def test_stages_on_a_pipe_are_plain_lines_with_times():
    out = io.StringIO()
    stages = progress.Stages(["validate", "assess"], stream=out)
    with stages.stage("validate"):
        pass
    with stages.stage("assess"):
        stages.note("a note")
    text = out.getvalue()
    assert not CONTROL.search(text), repr(text)
    lines = text.splitlines()
    assert lines[0] == "[1/2] validate ..."
    assert re.fullmatch(r"\[1/2\] validate done in \d+\.\d s", lines[1])
    assert lines[2] == "[2/2] assess ..."
    assert lines[3] == "    a note"
    assert set(stages.times) == {"validate", "assess"}
    assert stages.summary().startswith("validate ")


def test_a_failing_stage_says_so_and_keeps_its_time():
    out = io.StringIO()
    stages = progress.Stages(["notebook"], stream=out)
    with pytest.raises(RuntimeError):
        with stages.stage("notebook"):
            raise RuntimeError("boom")
    assert re.search(r"\[1/1\] notebook failed after \d+\.\d s", out.getvalue())
    assert "notebook" in stages.times


def test_on_a_terminal_the_display_is_live():
    out = io.StringIO()
    stages = progress.Stages(["validate"], stream=out, live=True)
    with stages.stage("validate"):
        pass
    assert "\x1b[" in out.getvalue()  # rich's cursor and colour codes: the check above can fail
    assert "validate done in" in out.getvalue()


def test_notebook_split_adds_papermill_durations_by_figure_output():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x", metadata={"papermill": {"duration": 1.5}}),
        nbformat.v4.new_code_cell("plot", metadata={"papermill": {"duration": 0.25}},
                                  outputs=[nbformat.v4.new_output("display_data", data={"image/png": "AA=="})]),
        nbformat.v4.new_markdown_cell("text"),
    ])
    assert progress.notebook_split(nb) == {"tables": 1.5, "figures": 0.25}


@pytest.mark.slow
def test_run_on_a_pipe_prints_its_stages_without_control_characters():
    overrides = ["invest.draws=20"]
    try:
        result = subprocess.run([sys.executable, "-m", "analysis", "run", "Aukra", "--no-report",
                                 *(f"--set={o}" for o in overrides)], cwd=ROOT, capture_output=True, text=True,
                                encoding="utf-8", timeout=600)
    finally:
        shutil.rmtree(run_folder("Aukra", overrides), ignore_errors=True)  # the run's own folder, not the main job's
    assert result.returncode == 0, result.stderr
    for stream in (result.stdout, result.stderr):
        assert not CONTROL.search(stream), repr(stream)
    for number, stage in enumerate(["validate", "assess", "notebook"], start=1):
        assert re.search(rf"^\[{number}/3\] {stage} done in \d+\.\d s$", result.stderr, re.M), result.stderr
    assert "without encryption" not in result.stderr  # the kernel talks over IPC sockets, no TCP warning
