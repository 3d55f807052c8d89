"""The command line, run as a user would: ``python -m analysis ...`` from the repository root."""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys

import pytest

from analysis import cli
from analysis.paths import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)


def sub_commands() -> list[str]:
    actions = [a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1
    return sorted(actions[0].choices)


def test_top_level_help():
    result = run("--help")
    assert result.returncode == 0, result.stderr
    for name in sub_commands():
        assert name in result.stdout


def test_known_sub_commands_exist():
    assert {"build", "template", "ingest"} <= set(sub_commands())


@pytest.mark.parametrize("command", sub_commands())
def test_sub_command_help(command):
    result = run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
    assert command in result.stdout


def test_no_command_is_a_usage_error():
    result = run()
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_ingest_bad_file_exits_2_with_file_row_column(tmp_path, cat):
    pct = cat.loc[cat["unit"] == "%", "data_point_id"].iloc[0]
    path = tmp_path / "Bærum.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["municipality", "data_point_id", "value", "year", "source"])
        writer.writerow(["Bærum", pct, "120", "2023", "SSB"])
    out = tmp_path / "out"
    result = run("ingest", str(path), "--out", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    assert str(path) in result.stderr
    assert "row 2" in result.stderr
    assert "column 'value'" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_ingest_good_file_exits_0(tmp_path, cat):
    pct = cat.loc[cat["unit"] == "%", "data_point_id"].iloc[0]
    path = tmp_path / "in.csv"
    path.write_text(f"municipality,data_point_id,value,year,source\nBærum,{pct},12.5,2023,SSB\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("ingest", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert [p.name for p in out.iterdir()] == ["3201-baerum.csv"]


def test_template_alesund(tmp_path):
    target = tmp_path / "Ålesund.xlsx"
    result = run("template", "Ålesund", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert target.exists() and target.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["Ålesund.xlsx"]  # no temp file left beside it


def test_run_folder_keeps_parameter_sets_apart():
    """A re-run with overrides never writes into the main job's folder, and different sets never collide."""
    from analysis import paths
    from analysis.cli import run_folder

    from analysis import params

    default = params.load("Ålesund")
    main_folder = run_folder(default, default)
    a = run_folder(params.load("Ålesund", ["target_set=national"]), default)
    b = run_folder(params.load("Ålesund", ["weights.environment=2"]), default)
    assert main_folder == paths.REPORTS / "executed"
    assert a != main_folder and b != main_folder and a != b
    assert a == run_folder(params.load("Ålesund", ["target_set=national"]), default)
    # the hash is over resolved values: the same values written differently share a folder
    assert b == run_folder(params.load("Ålesund", ["weights.environment=2.0"]), default)
    assert run_folder(params.load("Ålesund", ["peer_group.by=county"]), default) == main_folder  # already its value
    assert a.name.startswith("1508-alesund-")
