"""The U4SSC registry: 91 KPIs as 112 data points, and clear errors for a broken registry."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import catalogue, paths
from analysis.errors import InputError

# The U4SSC standard: 91 KPIs in three dimensions.
U4SSC_KPIS = 91
U4SSC_DIMENSIONS = {"Economy", "Environment", "Society and Culture"}
DATA_POINTS = 112  # KPIs reported per sub-item (e.g. 3G/4G coverage) count once per data point
ALLOWED_DIRECTIONS = {"higher_is_better", "lower_is_better", "target_band", "descriptive"}


def test_registry_counts(cat):
    assert cat["kpi_code"].nunique() == U4SSC_KPIS
    assert len(cat) == DATA_POINTS
    assert set(cat["dimension"]) == U4SSC_DIMENSIONS
    assert set(catalogue.DIMENSIONS) == U4SSC_DIMENSIONS


def test_registry_ids_unique_and_fields_valid(cat):
    assert cat["data_point_id"].is_unique
    assert cat["data_point_id"].notna().all()
    assert set(cat["direction"]) <= ALLOWED_DIRECTIONS
    assert set(cat["core_or_advanced"]) <= {"core", "advanced"}
    assert cat["unit"].notna().all()


def test_every_data_point_sits_in_the_u4ssc_structure(cat):
    for row in cat.itertuples():
        assert row.category in catalogue.STRUCTURE[row.dimension][row.sub_dimension], row.data_point_id


def test_data_point_ids_extend_their_kpi_code(cat):
    # "EC: ICT: ICT: 4C/3G" belongs to KPI "EC: ICT: ICT: 4C"
    for row in cat.itertuples():
        assert row.data_point_id.split("/")[0] == row.kpi_code


def test_sdg_targets_are_split(cat):
    row = cat.loc[cat["sdg_targets"].notna()].iloc[0]
    assert row["sdg_target_list"] == tuple(t.strip() for t in row["sdg_targets"].split(";") if t.strip())
    assert catalogue.split_targets("11.a; 11.3") == ("11.a", "11.3")
    assert catalogue.split_targets(None) == ()


def _set(index: int, column: str, value):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[index, column] = value(frame) if callable(value) else value
        return frame
    return change


BROKEN_CELLS = [
    pytest.param(5, "data_point_id", lambda f: f.at[4, "data_point_id"], id="duplicate-id"),
    pytest.param(10, "dimension", "Economics", id="unknown-dimension"),
    pytest.param(20, "category", "Space Travel", id="unknown-category"),
    pytest.param(30, "direction", "up", id="bad-direction"),
    pytest.param(40, "core_or_advanced", "optional", id="bad-level"),
    pytest.param(50, "unit", "", id="empty-unit"),
]


@pytest.mark.parametrize(("index", "column", "value"), BROKEN_CELLS)
def test_broken_cell_names_file_row_and_column(tmp_copy, index, column, value):
    path = tmp_copy(paths.CATALOGUE, _set(index, column, value))
    with pytest.raises(InputError) as info:
        catalogue.load(path)
    row = index + 2  # header is row 1
    message = str(info.value)
    assert str(path) in message
    assert f"row {row}" in message
    assert f"column '{column}'" in message
    assert any(p.row == row and p.column == column and p.file == str(path) for p in info.value.problems)


def test_every_problem_is_reported_not_only_the_first(tmp_copy):
    def change(frame):
        frame.loc[3, "direction"] = "up"
        frame.loc[60, "dimension"] = "Economics"
        return frame
    with pytest.raises(InputError) as info:
        catalogue.load(tmp_copy(paths.CATALOGUE, change))
    found = {(p.row, p.column) for p in info.value.problems}
    assert {(5, "direction"), (62, "dimension")} <= found


def test_removed_kpi_breaks_the_count(tmp_copy):
    def drop_one_kpi(frame):
        return frame[frame["kpi_code"] != frame.at[0, "kpi_code"]]
    path = tmp_copy(paths.CATALOGUE, drop_one_kpi)
    with pytest.raises(InputError) as info:
        catalogue.load(path)
    message = str(info.value)
    assert str(path) in message
    assert "column 'kpi_code'" in message
    assert str(U4SSC_KPIS) in message and str(U4SSC_KPIS - 1) in message


def test_missing_column_is_named(tmp_copy):
    path = tmp_copy(paths.CATALOGUE, lambda f: f.drop(columns=["direction"]))
    with pytest.raises(InputError) as info:
        catalogue.load(path)
    assert str(path) in str(info.value)
    assert "direction" in str(info.value)


def test_unchanged_copy_loads(tmp_copy, cat):
    copy = catalogue.load(tmp_copy(paths.CATALOGUE, lambda f: f))
    assert list(copy["data_point_id"]) == list(cat["data_point_id"])


# --- SDG links ----------------------------------------------------------------------------------

def test_every_data_point_links_to_an_sdg_target_with_its_source(cat):
    assert len(cat) == 112
    assert (cat["sdg_target_list"].map(len) > 0).all()
    assert cat["sdg_source"].str.strip().ne("").all()
    for _, row in cat.iterrows():
        source = row["sdg_source"]
        # a U4SSC page, the KS vocabulary (labelled third-party) or the project's labelled reading
        assert (source.startswith("U4SSC") and "https://www.itu.int/" in source) or \
            source.startswith("KS U4SSC indicator vocabulary (third-party") or source.startswith("reading: "), source
        if source.startswith("reading: "):
            for target in row["sdg_target_list"]:
                assert target in source, (row["data_point_id"], target)


def test_sdg_links_agree_with_targets_csv(cat):
    """Every SDG target that a data point's own targets.csv row cites is among its links."""
    from analysis import targets

    links = cat.set_index("data_point_id")["sdg_target_list"]
    rows = targets.load(cat=cat)
    checked = 0
    for _, row in rows.iterrows():
        cited = catalogue.cited_sdg_targets(row["rationale"]) | catalogue.cited_sdg_targets(row["source"])
        assert cited <= set(links[row["data_point_id"]]), (row["data_point_id"], cited)
        checked += bool(cited)
    assert checked >= 27


def test_cited_sdg_targets_reads_targets_and_indicators():
    text = "A/RES/70/1, SDG target 9.c (universal access) and indicator 17.8.1; SDG 11.6.1 and 1.2"
    assert catalogue.cited_sdg_targets(text) == {"9.c", "17.8", "11.6"}


@pytest.mark.parametrize("column, value, message", [
    ("sdg_targets", "", "every data point links to at least one SDG target"),
    ("sdg_targets", "18.1", "not an SDG target"),
    ("sdg_targets", "11.6;eleven", "not an SDG target; expected e.g. '11.6' or '11.a' with a goal from 1 to 17, "
                                   "several separated by ';' (found '11.6;eleven')"),
    ("sdg_source", "", "name the U4SSC page"),
])
def test_bad_sdg_link_names_row_and_column(tmp_copy, column, value, message):
    def change(frame):
        frame.loc[3, column] = value
        return frame

    path = tmp_copy(paths.CATALOGUE, change)
    with pytest.raises(InputError) as info:
        catalogue.load(path)
    found = [p for p in info.value.problems if p.column == column]
    assert len(found) == 1 and found[0].row == 5 and message in found[0].message
