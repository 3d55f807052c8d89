"""End to end for a city outside Norway: registered, templated, filled as an officer would, ingested, run, synthesised.

Malmö (Sweden, Statistics Sweden's kommunkod 1280) has no kommunenummer: it is registered in the
city-supplied registry file as ``SE-1280`` and never given a Norwegian number. The officer types the
values of a printed page (the Karmøy page of ``test_ingest_e2e``, with its printed units, a decimal
comma, a percentage-formatted cell and a ``Not Reported``) into the generated template. In a copy of
the repository, the profile run must show every value as entered and labelled city-supplied in the
page and the downloads, name the facts that do not apply to a city outside Norway, and the synthesis
must include the city (ranked, and left out of the county group tests with the reason).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from analysis import present
from test_ingest_e2e import _printed_path, baseline_html, cli, copy_repository, fill, officer_entries

pytestmark = pytest.mark.slow

CITY = "Malmö"
CITY_ID = "SE-1280"
SLUG = "SE-1280-malmo"
REGISTRY = ("id,name,country,national_code,source\n"
            "SE-1280,Malmö,SE,1280,\"Statistics Sweden (SCB), kommunkoder: 1280 Malmö\"\n")


@pytest.fixture(scope="module")
def malmo(tmp_path_factory, cat):
    repo = copy_repository(tmp_path_factory.mktemp("repo"))
    registry = repo / "data" / "external" / "city_supplied" / "cities.csv"
    registry.parent.mkdir(parents=True, exist_ok=True)
    registry.write_text(REGISTRY, encoding="utf-8")
    template = repo / "Malmö.xlsx"  # a non-ASCII file name
    cli(repo, "template", CITY, "-o", str(template))
    entries = officer_entries(cat)
    fill(template, entries)
    result = cli(repo, "ingest", str(template))
    assert f"accepted {len(entries)} rows" in result.stdout
    stored = repo / "data" / "external" / "city_supplied" / f"{SLUG}.csv"
    with stored.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["municipality"], r["kommunenummer"], r["source_type"]) for r in rows} == {
        (CITY, CITY_ID, "city-supplied")}
    run = cli(repo, "run", CITY_ID)  # by id; the name works as well (template above)
    notebook = _printed_path(run.stdout)
    return repo, entries, notebook if notebook.is_absolute() else repo / notebook


def test_profile_shows_the_city_supplied_values_and_what_does_not_apply(malmo):
    repo, entries, notebook = malmo
    assert notebook.name == f"{SLUG}.ipynb"
    html_rows = {r["data_point_id"]: r for r in baseline_html(notebook)}
    tables = notebook.parent.parent / "tables" / SLUG
    with (tables / "baseline.csv").open(encoding="utf-8", newline="") as f:
        csv_rows = {r["data_point_id"]: r for r in csv.DictReader(f)}
    for dp, entry in entries.items():
        shown, down = html_rows[dp], csv_rows[dp]
        assert shown["source_type"] == down["source_type"] == "city-supplied", (dp, shown, down)
        assert present.SIM_CLASS not in shown["_class"], (dp, shown)
        assert down["status"] == entry["status"] and down["value_text"] == entry["value_text"], (dp, down)
        if entry["expected"] is None:
            assert shown["value"] == "–" and down["value"] == ""
        else:
            assert float(down["value"]) == pytest.approx(entry["expected"])
    with (tables / "data_gaps.csv").open(encoding="utf-8", newline="") as f:
        plan = list(csv.DictReader(f))
    assert (plan[0]["data_point_id"], plan[0]["status"]) == ("SC: SH: FS: 1A", "not reported")
    assert {r["national_source"] for r in plan} == {"not applicable (outside Norway)"}
    text = notebook.read_text(encoding="utf-8")
    assert "Malmö (SE-1280; Sweden, national code 1280) is a city outside Norway" in text
    assert "Not applicable to it: county, kommunenummer" in text
    provenance = json.loads((notebook.parent / f"{SLUG}.provenance.json").read_text(encoding="utf-8"))
    assert (provenance["municipality"], provenance["city_id"], provenance["country"]) == (CITY, CITY_ID, "SE")
    assert "kommunenummer" not in provenance  # a city outside Norway has none
    assert provenance["n_national_statistics"] == 0
    page = repo / "reports" / "site" / "profiles" / f"{SLUG}.html"  # an ASCII URL, the name as written on the page
    html = page.read_text(encoding="utf-8")
    assert "Malmö" in html and "city-supplied" in html


def test_synthesis_includes_the_city_and_says_how_groups_treat_it(malmo):
    repo, _, _ = malmo
    out = repo / "reports" / "executed" / "synthesis.ipynb"
    cli(repo, "execute", "synthesis", "--output", str(out), "--set", "synthesis.draws=200")
    text = out.read_text(encoding="utf-8")
    assert "Left out of the group tests by `county`: Malmö (SE-1280) is a city outside Norway" in text
    tables = repo / "reports" / "executed" / "tables" / "synthesis"
    with (tables / "rank_bands.csv").open(encoding="utf-8", newline="") as f:
        bands = {r["municipality"]: r for r in csv.DictReader(f)}
    assert CITY in bands and len(bands) == 18  # the 17 of the panel and Malmö
    with (tables / "group_tests.csv").open(encoding="utf-8", newline="") as f:
        tests = list(csv.DictReader(f))
    assert tests and all("SE" not in r["n_per_group"] for r in tests)
