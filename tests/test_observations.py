"""Published values mapped through the alias tables, and the tidy observation schema's validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import municipalities, observations, paths
from analysis.errors import InputError


@pytest.fixture(scope="module")
def raw_published() -> pd.DataFrame:
    return pd.read_csv(paths.PUBLISHED, dtype=str, encoding="utf-8")


@pytest.fixture(scope="module")
def published(cat) -> pd.DataFrame:
    return observations.load_published(cat=cat)


def expected_ids(raw: pd.DataFrame) -> list[str]:
    """Data point id of every raw row, straight from label_aliases.csv (label + category, else label alone)."""
    aliases = pd.read_csv(paths.LABEL_ALIASES, dtype=str)
    with_cat = {(a.label, a.category): a.data_point_id for a in aliases.itertuples() if pd.notna(a.category)}
    by_label = {a.label: a.data_point_id for a in aliases.itertuples() if pd.isna(a.category)}
    return [with_cat.get((r.data_point, r.category), by_label.get(r.data_point)) for r in raw.itertuples()]


# --- published values ------------------------------------------------------------------------

def test_every_published_row_is_kept(published, raw_published):
    assert len(published) == len(raw_published) == 73
    assert list(published.columns) == list(observations.COLUMNS)
    assert (published["source_type"] == "published").all()


def test_every_label_maps_through_the_aliases(cat, raw_published, published):
    ids = expected_ids(raw_published)
    assert None not in ids
    assert set(ids) <= set(cat["data_point_id"])
    assert sorted(published["data_point_id"]) == sorted(ids)


def test_published_rows_keep_text_status_and_source(raw_published, published):
    raw = raw_published.assign(data_point_id=expected_ids(raw_published),
                               year=raw_published["report_date"].str[:4].astype(int),
                               city=raw_published["city"].map(lambda c: municipalities.registry().resolve(c).label))
    merged = raw.merge(published, left_on=["city", "data_point_id", "year"],
                       right_on=["municipality", "data_point_id", "year"], how="outer",
                       validate="one_to_one", indicator=True, suffixes=("_raw", ""))
    assert (merged["_merge"] == "both").all()
    for row in merged.itertuples():
        assert row.value_text == row.value_text_raw or (pd.isna(row.value_text) and pd.isna(row.value_text_raw))
        assert row.status == row.status_raw
        assert isinstance(row.source, str) and row.source_url in row.source and row.report in row.source
        if pd.notna(row.value_raw):
            assert math.isclose(row.value, float(row.value_raw))


def test_resilience_plans_no_becomes_zero(raw_published, published):
    raw = raw_published[(raw_published["data_point"] == "Resilience Plans")
                        & (raw_published["value_text"] == "No")]
    assert len(raw) > 0
    dp = expected_ids(raw)[0]
    labels = raw["city"].map(lambda c: municipalities.registry().resolve(c).label)
    rows = published[(published["data_point_id"] == dp) & published["municipality"].isin(labels)]
    assert len(rows) == len(raw)
    assert (rows["value"] == 0.0).all()
    assert (rows["value_text"] == "No").all()


def test_unmapped_label_is_an_error_not_a_dropped_row(tmp_copy, cat):
    index = 7

    def change(frame):
        frame.loc[index, "data_point"] = "Number of Unicorns"
        return frame
    path = tmp_copy(paths.PUBLISHED, change)
    with pytest.raises(InputError) as info:
        observations.load_published(path, cat=cat)
    assert str(path) in str(info.value)
    assert f"row {index + 2}" in str(info.value)
    assert any(p.row == index + 2 and p.column == "data_point" for p in info.value.problems)


def test_unit_mismatch_is_an_error(tmp_copy, raw_published, cat):
    index = int(np.flatnonzero(raw_published["unit"] == "%")[0])

    def change(frame):
        frame.loc[index, "unit"] = "kg"
        return frame
    path = tmp_copy(paths.PUBLISHED, change)
    with pytest.raises(InputError) as info:
        observations.load_published(path, cat=cat)
    assert any(p.row == index + 2 and p.column == "unit" and p.file == str(path)
               for p in info.value.problems)
    assert "column 'unit'" in str(info.value)


def test_unchanged_copy_loads_the_same(tmp_copy, cat, published):
    copy = observations.load_published(tmp_copy(paths.PUBLISHED, lambda f: f), cat=cat)
    pd.testing.assert_frame_equal(copy, published)


# --- schema validation -------------------------------------------------------------------------

def _first_id(cat, predicate) -> tuple[str, str]:
    row = cat[cat["unit"].map(predicate)].iloc[0]
    return row["data_point_id"], row["unit"]


@pytest.fixture(scope="module")
def valid(cat) -> pd.DataFrame:
    pct = _first_id(cat, lambda u: u == "%")
    count = _first_id(cat, lambda u: u.startswith("number of"))
    yes_no = _first_id(cat, lambda u: u == "Yes/No")
    rows = [(pct, 55.0, "55"), (count, 12.0, "12"), (yes_no, 1.0, "Yes")]
    return pd.DataFrame({
        "municipality": "Bodø",
        "data_point_id": [dp for (dp, _), _, _ in rows],
        "year": [2023.0] * len(rows),
        "value": [v for _, v, _ in rows],
        "value_text": [t for _, _, t in rows],
        "unit": [u for (_, u), _, _ in rows],
        "status": "reported",
        "source_type": "city-supplied",
        "source": "municipal statistics",
        "note": pd.NA,
    })


def test_valid_frame_has_no_problems(valid, cat):
    assert observations.validate(valid, "obs.csv", cat) == []


def _change(index, column, value):
    def apply(frame):
        frame = frame.copy()
        frame[column] = frame[column].astype(object)
        frame.at[index, column] = value
        return frame
    return apply


def _duplicate(frame):
    return pd.concat([frame, frame.iloc[[0]]], ignore_index=True)


CASES = [
    pytest.param(_change(0, "data_point_id", "XX: 99"), 0, "data_point_id", id="unknown-id"),
    pytest.param(_change(0, "value", -0.5), 0, "value", id="percent-below-0"),
    pytest.param(_change(0, "value", 100.5), 0, "value", id="percent-above-100"),
    pytest.param(_change(1, "value", -3.0), 1, "value", id="negative-count"),
    pytest.param(_change(2, "value", 2.0), 2, "value", id="yes-no-above-1"),
    pytest.param(_change(0, "unit", "kg"), 0, "unit", id="wrong-unit"),
    pytest.param(_change(1, "year", np.nan), 1, "year", id="missing-year"),
    pytest.param(_change(1, "year", 1850.0), 1, "year", id="implausible-year"),
    pytest.param(_change(0, "status", "done"), 0, "status", id="bad-status"),
    pytest.param(_change(2, "source_type", "guess"), 2, "source_type", id="bad-source-type"),
    pytest.param(_change(0, "value", np.nan), 0, "value", id="reported-without-value"),
    pytest.param(_change(0, "municipality", " "), 0, "municipality", id="empty-municipality"),
    pytest.param(_duplicate, 3, "data_point_id", id="duplicate-row"),
]


@pytest.mark.parametrize(("change", "index", "column"), CASES)
def test_validate_reports_the_right_column(valid, cat, change, index, column):
    problems = observations.validate(change(valid), "obs.csv", cat)
    assert len(problems) == 1, problems
    assert (problems[0].file, problems[0].row, problems[0].column) == ("obs.csv", index + 2, column)


def test_validate_uses_given_row_numbers(valid, cat):
    rows = pd.Series([10, 11, 12], index=valid.index)
    problems = observations.validate(_change(1, "unit", "kg")(valid), "f.xlsx", cat, row_numbers=rows)
    assert [(p.row, p.column) for p in problems] == [(11, "unit")]


def test_validate_missing_column(valid, cat):
    problems = observations.validate(valid.drop(columns="source_type"), "obs.csv", cat)
    assert len(problems) == 1 and "source_type" in problems[0].message


def test_not_reported_without_value_is_fine(valid, cat):
    frame = _change(0, "value", np.nan)(valid)
    frame.loc[0, "status"] = "not_reported"
    assert observations.validate(frame, "obs.csv", cat) == []


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_percent_range_property(valid, cat, x):
    problems = observations.validate(_change(0, "value", x)(valid), "obs.csv", cat)
    assert (problems == []) == (0.0 <= x <= 100.0)


def test_every_problem_is_reported_in_row_then_column_order(valid, cat):
    """Column checks and frame-wide checks (unit, value range, duplicates) failing together are all reported."""
    frame = valid.copy()
    for column in ("unit", "year", "value", "status"):
        frame[column] = frame[column].astype(object)
    frame.at[0, "unit"] = "kg"
    frame.at[0, "status"] = "done"
    frame.at[1, "year"] = 1850.0
    frame.at[2, "value"] = 2.0
    frame = _duplicate(frame)
    problems = observations.validate(frame, "obs.csv", cat)
    assert [(p.row, p.column) for p in problems] == [
        (2, "unit"), (2, "status"), (3, "year"), (4, "value"), (5, "data_point_id"), (5, "unit"), (5, "status")]


def test_validate_messages(valid, cat):
    pct = valid.at[0, "data_point_id"]
    frame = _duplicate(_change(0, "unit", "kg")(_change(1, "value", -3.0)(valid)))
    frame.at[3, "unit"] = "%"
    messages = [(p.row, p.column, p.message) for p in observations.validate(frame, "obs.csv", cat)]
    assert messages == [
        (2, "unit", f"'kg' does not match the registry unit '%' of {pct}; convert the value and use the registry unit"),
        (3, "value", f"-3 is outside the possible range [0, inf] for unit '{valid.at[1, 'unit']}'"),
        (5, "data_point_id", f"duplicate row for Bodø, {pct}, 2023"),
    ]


def test_row_with_unknown_id_is_only_checked_for_name_and_duplicates(valid, cat):
    frame = _change(0, "data_point_id", "XX: 99")(valid)
    for column, value in [("unit", "kg"), ("status", "done"), ("source_type", "guess"), ("value", -1.0),
                          ("municipality", " ")]:
        frame = _change(0, column, value)(frame)
    problems = observations.validate(frame, "obs.csv", cat)
    assert [(p.row, p.column) for p in problems] == [(2, "municipality"), (2, "data_point_id")]
    assert problems[1].message.startswith("unknown data point id 'XX: 99'")


def test_pandera_settings_cannot_switch_validation_off(valid, cat):
    from pandera.config import config_context
    with config_context(validation_enabled=False, validation_depth="SCHEMA_ONLY"):
        problems = observations.validate(_change(0, "value", 100.5)(valid), "obs.csv", cat)
    assert [(p.row, p.column) for p in problems] == [(2, "value")]


def test_large_valid_panel_has_no_problems(cat):
    """Half a million rows validate (vectorised; the former row loop took minutes at this size)."""
    from analysis import simulate
    panel = simulate.scale_panel(893, [2019, 2020, 2021, 2022, 2023], seed=5, cat=cat)
    assert len(panel) >= 500_000
    assert observations.validate(panel, "scale", cat) == []


@pytest.mark.parametrize(("text", "expected"), [("Yes", 1.0), (" nei ", 0.0), ("JA", 1.0), ("No", 0.0),
                                                 ("maybe", None), (None, None), (float("nan"), None)])
def test_parse_yes_no(text, expected):
    assert observations.parse_yes_no(text) == expected


def test_normalise_name_unifies_unicode_forms():
    decomposed = "A\u030alesund "  # 'Å' as A + combining ring, trailing space
    assert observations.normalise_name(decomposed) == "Ålesund"


# --- build: data/raw -> observations.csv (into tmp_path only) ------------------------------------

@pytest.fixture
def built(tmp_path):
    from analysis import build
    city = tmp_path / "city"
    city.mkdir()
    written = build.build(out_dir=tmp_path / "processed", city_dir=city)
    return written["observations"]


def test_build_writes_observations(tmp_path, built):
    assert built == tmp_path / "processed" / "observations.csv"
    assert built.exists()
    assert list((tmp_path / "processed").glob(".*.tmp*")) == []


def test_build_is_byte_identical(tmp_path, built):
    from analysis import build
    first = built.read_bytes()
    again = build.build(out_dir=tmp_path / "again", city_dir=tmp_path / "city")["observations"]
    assert again.read_bytes() == first
    build.build(out_dir=tmp_path / "processed", city_dir=tmp_path / "city")
    assert built.read_bytes() == first


def test_built_table_is_valid_and_complete(built, cat, raw_published):
    table = pd.read_csv(built, encoding="utf-8", dtype={"value_text": str, "note": str})
    assert list(table.columns) == list(observations.COLUMNS)
    assert observations.validate(table, built, cat) == []
    addendum = pd.read_csv(paths.RAW / "published_observations_addendum.csv")
    national = pd.read_csv(paths.RAW / "national_values_found.csv")
    assert len(raw_published) == 73 and len(addendum) == 2 and len(national) == 3
    assert table["source_type"].value_counts().to_dict() == {"published": 75, "national_statistics": 3}
    assert table["source"].notna().all()
    assert (table["source"].str.strip() != "").all()


def test_build_includes_city_supplied_rows(tmp_path, cat):
    from analysis import build, ingest
    pct = cat.loc[cat["unit"] == "%", "data_point_id"].iloc[0]
    src = tmp_path / "in.csv"
    src.write_text(f"municipality,data_point_id,value,year,source\nBodø,{pct},12.5,2023,SSB\n", encoding="utf-8")
    ingest.ingest(src, cat=cat, out_dir=tmp_path / "city")
    table = pd.read_csv(build.build(out_dir=tmp_path / "p", city_dir=tmp_path / "city")["observations"])
    assert table["source_type"].value_counts().to_dict() == {"published": 75, "national_statistics": 3,
                                                             "city-supplied": 1}
    assert observations.validate(table, "observations.csv", cat) == []


def test_latest_not_reported_row_leaves_no_baseline():
    """A later 'not reported' wins over an earlier value; a published row wins over a simulated one of the same year."""
    from analysis.observations import latest

    base = {"municipality": "Rana", "unit": "%", "value_text": "", "source": "s", "note": None}
    rows = pd.DataFrame([
        {**base, "data_point_id": "A", "year": 2019, "value": 5.0, "status": "reported", "source_type": "simulated"},
        {**base, "data_point_id": "A", "year": 2020, "value": None, "status": "not_reported",
         "source_type": "published"},
        {**base, "data_point_id": "B", "year": 2020, "value": 7.0, "status": "reported", "source_type": "simulated"},
        {**base, "data_point_id": "B", "year": 2020, "value": 9.0, "status": "reported", "source_type": "published"},
        {**base, "data_point_id": "C", "year": 2018, "value": 1.0, "status": "reported", "source_type": "published"},
        {**base, "data_point_id": "C", "year": 2019, "value": 2.0, "status": "partial", "source_type": "published"},
    ])
    out = latest(rows).set_index("data_point_id")
    assert "A" not in out.index
    assert out.loc["B", "value"] == 9.0 and out.loc["B", "source_type"] == "published"
    assert out.loc["C", "value"] == 2.0
