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
    assert "u4ssc-legend" not in text  # both marks are explained by the page's one legend


def test_no_goalpost_legend_without_such_rows():
    text = present.table_html(rows().iloc[[1, 2]])
    assert present.GP_SIM_CLASS not in text


def test_main_job_never_styles_a_real_value_as_simulated():
    """Ålesund's baseline in the main job: published rows are plain or carry †, never the simulated style."""
    import re

    from analysis import profile

    prof = profile.build(municipality="Ålesund")
    text = present.table_html(prof.baseline)
    rows = re.findall(r"<tr[^>]*>.*?</tr>", text.split("<tbody>")[1])
    real = [r for r, s in zip(rows, prof.baseline["source_type"]) if s != "simulated"]
    simulated = [r for r, s in zip(rows, prof.baseline["source_type"]) if s == "simulated"]
    assert real and simulated and len(rows) == len(prof.baseline)
    assert not any(present.SIM_CLASS + '"' in r for r in real)
    assert all(r.startswith(f'<tr class="{present.SIM_CLASS}"') for r in simulated)
    marked = prof.baseline.loc[prof.baseline["source_type"] != "simulated", "goalposts_from_simulated"]
    assert sum(present.GP_SIM_CLASS in r for r in real) == int(marked.sum()) > 0
