"""The long tables' sort buttons and search box (reports/templates/u4ssc-tables.js) in headless Chromium, offline."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import browser, present, report

CHROMIUM = browser.find_chromium()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: `apt-get install -y chromium` "
                                                 "(or set U4SSC_CHROMIUM) to run the browser check"),
]


def page(tmp_path):
    frame = pd.DataFrame({
        "data_point_name": [f"Point {i}" for i in range(15)] + ["Tromsø roads"],
        "data_point_id": [f"X{i}" for i in range(16)],
        "value": [float(v) for v in (5, 95424, 3, "nan", 12.5, 7, 1, 2, 8, 9, 10, 11, 13, 14, 15, 4)],
        "band": ["0–33 %"] * 8 + ["95–100 %"] * 8,
        "source_type": ["simulated"] + ["published"] * 15})
    html = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head><body>'
            + present.key_table(frame, "baseline")
            + f"<script>{(report.TEMPLATES / 'u4ssc-tables.js').read_text(encoding='utf-8')}</script></body></html>")
    path = tmp_path / "table.html"
    path.write_text(html, encoding="utf-8")
    return path


def test_headers_sort_numbers_and_the_box_searches(tmp_path):
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=list(browser.CHROMIUM_FLAGS))
        tab = chromium.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        tab.goto(page(tmp_path).as_uri())
        codes = lambda: tab.evaluate("""() => Array.from(document.querySelector("table.u4ssc-sortable").tBodies[0].rows)
            .filter(r => !r.hidden).map(r => r.cells[1].textContent)""")  # noqa: E731
        tab.click("th:nth-child(3) button")  # Value, ascending: numbers as numbers, the empty one last
        assert codes()[:4] == ["X6", "X7", "X2", "X15"] and codes()[-2:] == ["X1", "X3"]
        assert tab.get_attribute("th:nth-child(3)", "aria-sort") == "ascending"
        tab.click("th:nth-child(3) button")
        assert codes()[0] == "X1" and codes()[-1] == "X3"  # descending, the empty one still last
        tab.click("th:nth-child(1) button")  # names sort as text and the order is stable
        assert codes()[0] == "X0" and tab.get_attribute("th:nth-child(3)", "aria-sort") == "none"
        tab.fill("input[type=search]", "tromsø")
        assert codes() == ["X15"] and tab.text_content(".u4ssc-filter-count") == "1 of 16 rows"
        tab.fill("input[type=search]", "")
        assert len(codes()) == 16 and tab.text_content(".u4ssc-filter-count") == ""
        assert tab.get_attribute("input[type=search]", "aria-label") == "Search the table"
        chromium.close()
    assert not errors
