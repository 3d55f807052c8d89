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
