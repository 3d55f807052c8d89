"""Output files: atomic files and folders, leftovers of interrupted writes, formula injection, determinism."""

from __future__ import annotations

import csv
import hashlib
import os
import time

import openpyxl
import pandas as pd
import pytest

from analysis import files, paths, present

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
           "\tdata", "\rdata"]


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_cells_that_would_start_a_formula_are_written_as_text(tmp_path, text):
    target = files.write_csv(pd.DataFrame({"source": [text], "value": [1.5]}), tmp_path / "t.csv")
    with target.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[1][0] == "'" + text.replace("\r", "\n")  # OWASP: a leading apostrophe makes the cell text
    assert rows[1][1] == "1.5"


def test_csv_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame({"value": [-2.5, 3.0], "as_text": ["-2.5", "+3"], "name": ["Tromsø", "-"]})
    text = files.write_csv(frame, tmp_path / "t.csv").read_text(encoding="utf-8")
    assert text.splitlines() == ["value,as_text,name", "-2.5,-2.5,Tromsø", "3,+3,'-"]
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["value"].tolist() == [-2.5, 3.0]


def test_a_carriage_return_inside_text_does_not_split_the_row(tmp_path):
    files.write_csv(pd.DataFrame({"comment": ["line one\r\nline two", "a\rb"], "n": [1, 2]}), tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["comment"].tolist() == ["line one\nline two", "a\nb"] and back["n"].tolist() == [1, 2]


def test_neutralising_is_idempotent_and_leaves_the_input_alone():
    frame = pd.DataFrame({"s": ["=1+1", "plain"]})
    once = files.neutralise_formulas(frame)
    assert once["s"].tolist() == ["'=1+1", "plain"]
    assert files.neutralise_formulas(once)["s"].tolist() == ["'=1+1", "plain"]
    assert frame["s"].tolist() == ["=1+1", "plain"]


def test_csv_header_that_would_start_a_formula_is_neutralised(tmp_path):
    text = files.write_csv(pd.DataFrame({"=cmd": [1]}), tmp_path / "t.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "'=cmd"


def test_excel_text_that_would_start_a_formula_is_a_plain_string(tmp_path):
    frame = pd.DataFrame({"source": HOSTILE, "value": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    target = present.write_workbook({"baseline": frame}, tmp_path / "tables.xlsx")
    ws = openpyxl.load_workbook(target)["baseline"]
    cells = [row for row in ws.iter_rows(min_row=2)]
    assert [c[0].value for c in cells] == [t.replace("\r", "\n") for t in HOSTILE]  # XML reads CR as LF
    assert {c[0].data_type for c in cells} == {"s"}  # a string, never a formula ('f')
    assert [c[1].value for c in cells] == [-1, 2, 3, 4, 5, 6] and {c[1].data_type for c in cells} == {"n"}


def test_workbook_and_tables_are_byte_identical_across_runs(tmp_path):
    tables = {"a": pd.DataFrame({"x": [1.25, -3.0], "s": ["Ålesund", "=1"]}), "b": pd.DataFrame({"y": ["Bærum"]})}
    first = present.export_tables(tables, tmp_path / "one")
    time.sleep(1.1)  # a later second: zip entry times and document properties must not show it
    second = present.export_tables(tables, tmp_path / "two")
    for a, b in zip(first, second):
        assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest(), a.name


def test_export_tables_replaces_the_folder_whole(tmp_path):
    folder = tmp_path / "tables" / "Tromsø"
    present.export_tables({"old": pd.DataFrame({"x": [1]})}, folder)
    written = present.export_tables({"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": [2]})}, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv", "b.csv", "tables.xlsx"]
    assert written == [folder / "a.csv", folder / "b.csv", folder / "tables.xlsx"]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["Tromsø"]
    assert (os.stat(folder).st_mode & 0o777) == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failure_while_writing_a_table_folder_leaves_the_old_folder(tmp_path, monkeypatch):
    folder = tmp_path / "tables" / "Aukra"
    present.export_tables({"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": [2]})}, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(present, "write_workbook", full_disk)
    with pytest.raises(OSError, match="No space"):
        present.export_tables({"a": pd.DataFrame({"x": [9]}), "b": pd.DataFrame({"x": [9]})}, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in folder.parent.iterdir()) == ["Aukra"], "no temporary folder is left"


def test_a_failure_on_the_first_write_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(present, "write_workbook", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        present.export_tables({"a": pd.DataFrame({"x": [1]})}, tmp_path / "tables" / "Giske")
    assert list((tmp_path / "tables").iterdir()) == []


def test_atomic_path_leaves_no_file_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with files.atomic_path(tmp_path / "x.csv") as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_remove_leftovers_removes_hidden_temporaries_only(tmp_path):
    keep = [tmp_path / "a.ipynb", tmp_path / "sub" / "t.csv", tmp_path / ".gitkeep", tmp_path / "tmp.csv"]
    junk = [tmp_path / ".a.ipynb.k2j3.tmp.ipynb", tmp_path / "sub" / ".t.csv.x.tmp.csv"]
    for path in keep + junk:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    folder = tmp_path / "tables" / ".Aukra.tmpdir-abc"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / ".x.csv.y.tmp.csv").write_text("", encoding="utf-8")
    removed = files.remove_leftovers(tmp_path)
    assert sorted(removed) == sorted([*junk, folder])
    assert all(p.exists() for p in keep) and not any(p.exists() for p in junk) and not folder.exists()
    assert files.remove_leftovers(tmp_path / "missing") == []


def test_city_supplied_data_is_outside_the_rebuildable_outputs():
    assert paths.CITY_SUPPLIED == paths.ROOT / "data" / "external" / "city_supplied"
    assert paths.PROCESSED not in paths.CITY_SUPPLIED.parents


def test_an_old_city_supplied_folder_is_migrated_with_a_message(tmp_path, capsys):
    old, new = tmp_path / "processed" / "city_supplied", tmp_path / "external" / "city_supplied"
    old.mkdir(parents=True)
    (old / "Tromsø.csv").write_text("a\n1\n", encoding="utf-8")
    (old / "Bodø.csv").write_text("same\n", encoding="utf-8")
    (old / "Giske.csv").write_text("old\n", encoding="utf-8")
    new.mkdir(parents=True)
    (new / "Bodø.csv").write_text("same\n", encoding="utf-8")
    (new / "Giske.csv").write_text("new\n", encoding="utf-8")
    messages = paths.migrate_city_supplied(old, new)
    assert (new / "Tromsø.csv").read_text(encoding="utf-8") == "a\n1\n"
    assert (new / "Giske.csv").read_text(encoding="utf-8") == "new\n", "a newer file is never overwritten"
    assert sorted(p.name for p in old.iterdir()) == ["Giske.csv"], "a differing old file stays, named"
    err = capsys.readouterr().err
    assert f"moved city-supplied data {old / 'Tromsø.csv'}" in err and f"{old / 'Giske.csv'} differs" in err
    assert len(messages) == 2
    assert paths.migrate_city_supplied(tmp_path / "nothing", new) == []
