"""Table marking: a value's own origin and its goalposts' origin are two separate marks."""

from __future__ import annotations

import pandas as pd

from analysis import present


def rows() -> pd.DataFrame:
    return pd.DataFrame({
        "data_point_id": ["A", "B", "C", "D"],
        "value": [1.0, 2.0, 3.0, 4.0],
        "achievement": [50.0, 60.0, 70.0, 80.0],
        "source_type": ["published", "simulated", "city-supplied", "simulated"],
        "goalposts_from_simulated": [True, True, False, False],
    })


def test_only_simulated_values_are_styled_as_simulated():
    frame = rows()
    assert present.rests_on_simulated(frame).tolist() == [False, True, False, True]
    assert present.goalposts_simulated(frame).tolist() == [True, False, False, False]


def test_table_marks_real_value_with_simulated_goalposts_separately():
    text = present.table_html(rows())
    body = text.split("<tbody>")[1]
    lines = [line for line in body.splitlines() if line.startswith("<tr")]
    assert lines[0].startswith(f'<tr class="{present.GP_SIM_CLASS}"') and "simulated value" not in lines[0]
    assert f'<td>50<sup class="{present.GP_SIM_CLASS}">†</sup></td>' in lines[0]  # the mark sits on the score
    assert lines[1].startswith(f'<tr class="{present.SIM_CLASS}" title="simulated value"')
    assert lines[2].startswith("<tr><td>C</td>")
    assert "derived from simulated peer values" in text and "italic, hatched rows" in text


def test_no_goalpost_legend_without_such_rows():
    text = present.table_html(rows().iloc[[1, 2]])
    assert present.GP_SIM_CLASS not in text
