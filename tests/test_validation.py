"""The one validation engine (analysis.validation) and the list of raw tables with their schemas (analysis.raw)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from analysis import paths, raw, validation
from analysis.errors import InputError


def test_every_file_in_data_raw_is_checked_by_a_schema():
    files = sorted(p.name for p in paths.RAW.iterdir() if p.is_file())
    assert files and raw.unchecked() == [], f"add a schema to analysis.raw.TABLES for {raw.unchecked()}"
    assert set(raw.TABLES) == set(files), "analysis.raw.TABLES names a file that is not in data/raw"


def test_the_repository_raw_tables_pass_their_schemas():
    assert raw.problems() == []


def test_a_raw_table_without_a_schema_is_refused(tmp_path):
    for name in raw.TABLES:
        (tmp_path / name).write_bytes((paths.RAW / name).read_bytes())
    (tmp_path / "new_table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert raw.unchecked(tmp_path) == ["new_table.csv"]
    with pytest.raises(InputError) as err:
        raw.check(tmp_path)
    [problem] = err.value.problems
    assert problem.file == str(tmp_path / "new_table.csv") and "no schema checks this table" in problem.message


def test_failures_of_several_tables_are_reported_at_once(tmp_path):
    for name in raw.TABLES:
        (tmp_path / name).write_bytes((paths.RAW / name).read_bytes())
    for name, column, value in (("targets.csv", "deadline", "1850"), ("investment_costs.csv", "cost_class", "cheap"),
                                ("source_precedence.csv", "stand_in", "maybe")):
        frame = pd.read_csv(tmp_path / name, dtype=str, keep_default_na=False)
        frame.loc[0, column] = value
        frame.to_csv(tmp_path / name, index=False)
    found = {(p.file.rsplit("/", 1)[-1], p.row, p.column) for p in raw.problems(tmp_path)}
    assert found == {("targets.csv", 2, "deadline"), ("investment_costs.csv", 2, "cost_class"),
                     ("source_precedence.csv", 2, "stand_in")}


SCHEMA = pa.DataFrameSchema({
    "id": validation.text(), "kind": validation.one_of(["a", "b"]), "year": validation.year(required=False),
    "share": validation.number(required=False),
}, checks=[validation.row_check(lambda d: d["kind"].ne("b") | d["share"].notna(), "a 'b' row needs a share", "share"),
           validation.table_check(lambda d: len(d) <= 3, "at most 3 rows", "id", found=lambda d: f"{len(d)} rows")],
    unique=["id", "kind"], report_duplicates="exclude_first")


def test_every_failure_names_row_column_and_what_was_expected():
    frame = pd.DataFrame({"id": ["x", " ", "x", "z"], "kind": ["a", "c", "a", "b"],
                          "year": ["2020", "1899", "2020.5", ""], "share": ["1", "lots", "inf", None]})
    got = [(p.row, p.column, p.message) for p in validation.problems(frame, SCHEMA, "t.csv")]
    assert got == [
        (None, "id", "at most 3 rows (found 4 rows)"),
        (3, "id", "empty; a value is required"),
        (3, "kind", "expected one of ['a', 'b'] (found 'c')"),
        (3, "share", "not a finite number (found 'lots')"),
        (3, "year", "expected a whole year from 1900 to 2100 (found '1899')"),
        (4, "kind", "duplicate row for id 'x', kind 'a'; each id + kind may appear once"),
        (4, "share", "not a finite number (found 'inf')"),
        (4, "year", "expected a whole year from 1900 to 2100 (found '2020.5')"),
        (5, "share", "a 'b' row needs a share"),
    ]


def test_header_problems_come_first_and_a_wrong_file_is_one_problem():
    strict = pa.DataFrameSchema({"id": validation.text(), "kind": validation.text()}, strict=True)
    frame = pd.DataFrame({"id": ["x"], "colour": ["red"]})
    assert [(p.row, p.column, p.message) for p in validation.problems(frame, strict, "t.csv")] == [
        (1, "kind", "missing column; expected the columns ['id', 'kind']"),
        (1, "colour", "unknown column; expected the columns ['id', 'kind']")]
    frame = pd.DataFrame({"id": ["x"], "kind": ["a"], "colour": ["red"]})
    assert [(p.row, p.column) for p in validation.problems(frame, strict, "t.csv")] == [(1, "colour")]
    frame = pd.DataFrame({"id;kind": ["x;a"]})
    [problem] = validation.problems(frame, strict, "t.csv")
    assert problem.column is None and problem.message.startswith("missing columns ['id', 'kind']")


def test_a_long_or_odd_value_is_shown_cut_and_escaped():
    assert validation.shown("Bær\x07um") == "Bær\\x07um"
    assert validation.shown("Å" * 61) == "Å" * 60 + "…"
