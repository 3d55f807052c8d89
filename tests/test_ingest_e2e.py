"""End to end: a municipal officer fills the generated template from a printed page, ingests it and runs the profile.

The page is printed page 6 of the U4SSC verification report of Karmøy (September 2020), as
transcribed in ``data/raw/published_observations.csv``, plus three printed forms that page lacks
(``% GDP`` and ``Not Reported`` from Asker's report, page 22; ``Services`` for Ålesund's 80
e-Government services). The values are entered for Giske, a panel municipality with no published
data, in a copy of the repository, so the working tree is never touched. Both runs (with and
without simulated values) must show every value, unit and status as entered, labelled
city-supplied, in the executed notebook's HTML tables and in the downloaded CSVs.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis import i18n, labels, observations, paths, present
from analysis.ingest import SHEET

pytestmark = pytest.mark.slow

MUNICIPALITY = "Giske"
KARMOY_PAGE = "U4SSC Verification Report, Karmøy, Norway, September 2020, printed page 6"
PERCENT_CELL = "Household Internet Access"
DECIMAL_COMMA = "Fixed Broadband Subscriptions"


def karmoy_page() -> list[dict]:
    """The 14 published rows of Karmøy's printed page 6."""
    with paths.PUBLISHED.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["city"] == "Karmøy" and r["source_url"].endswith("page14.html")]
    assert len(rows) == 14
    return rows


def officer_entries(cat) -> dict[str, dict]:
    """What the officer types per data point: cells of the template, and what each must show afterwards."""
    page = pd.DataFrame([{"data_point": r["data_point"], "category": r["category"]} for r in karmoy_page()])
    ids = observations.map_labels(page, pd.read_csv(paths.LABEL_ALIASES, dtype=str), paths.PUBLISHED)
    entries = {}
    for row, dp in zip(karmoy_page(), ids):
        number = row["value"]
        cells = {"value": number, "printed_unit": row["unit"] or None}
        shown_text = row["value_text"]
        if row["data_point"] == PERCENT_CELL:  # typed as 97.00 % into a percentage-formatted cell
            cells = {"value": float(number) / 100, "format": "0.00%"}
            shown_text = "97 %"
        elif row["data_point"] == DECIMAL_COMMA:  # a Norwegian-locale sheet: decimal comma, as text
            cells = {"value": number.replace(".", ","), "printed_unit": "%"}
            shown_text = f"{number.replace('.', ',')} %"
        elif row["unit"] == "/ 100 000 inhabitants":
            cells = {"value": "95 424", "printed_unit": row["unit"]}
        else:  # a number typed into a number cell: the sheet keeps 100 for 100.00
            cells["value"] = float(number) if "." in number else int(number)
            typed = format(Decimal(number).normalize(), "f")
            shown_text = f"{typed} {row['unit']}" if row["unit"] else typed
        entries[dp] = {**cells, "source": KARMOY_PAGE, "status": "reported", "value_text": shown_text,
                       "expected": float(number)}
    entries["SC: SH: SA: 2C"] = {"value": "0,001", "printed_unit": "% GDP", "status": "reported",
                                 "value_text": "0,001 % GDP", "expected": 0.001,
                                 "source": "U4SSC Verification Report, Asker, September 2020, p. 22"}
    entries["EC: ICT: PS: 2A"] = {"value": 80, "printed_unit": "Services", "status": "reported",
                                  "value_text": "80 Services", "expected": 80.0,
                                  "source": "U4SSC Factsheet Ålesund, June 2020, p. 21"}
    entries["SC: SH: FS: 1A"] = {"value": "Not Reported", "status": "not reported", "value_text": "Not Reported",
                                 "expected": None, "source": "U4SSC Verification Report, Asker, September 2020, p. 22"}
    assert set(entries) <= set(cat["data_point_id"])
    return entries


def fill(template: Path, entries: dict[str, dict]) -> None:
    """Type the entries into the template as an officer would (openpyxl writes what a person types)."""
    wb = load_workbook(template)
    ws = wb[SHEET]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) + 1 for name in header}
    for r in range(2, ws.max_row + 1):
        entry = entries.get(ws.cell(r, col["data_point_id"]).value)
        if entry is None:
            continue
        cell = ws.cell(r, col["value"], entry["value"])
        if "format" in entry:
            cell.number_format = entry["format"]
        ws.cell(r, col["printed_unit"], entry.get("printed_unit"))
        ws.cell(r, col["year"], 2020)
        ws.cell(r, col["source"], entry["source"])
        ws.cell(r, col["verified"], "Yes")
        ws.cell(r, col["quality_level"], "1 accurate measurements")
    wb.save(template)


class _Tables(HTMLParser):
    """Every <table> of an HTML fragment as (header, rows), each row as (cells, css class of the row)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[tuple[list[str], str]]]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._row_class = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr":
            self._row, self._row_class = [], dict(attrs).get("class") or ""
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            header, rows = self.tables[-1]
            if not header:
                header.extend(self._row)
            else:
                rows.append((self._row, self._row_class))
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _shown_as_code(column: str, text: str) -> str:
    """A cell as the page shows it back to the code it stands for: the catalogue's words for a source type
    (``source.<type>``) and a quality level's "N: words" (analysis.present); any other text as it is."""
    if column == "source_type":
        words = {i18n.message(key, "en"): key.removeprefix("source.")
                 for key in i18n.catalogue("messages") if key.startswith("source.")}
        return words.get(text, text)
    if column == "quality_level" and re.fullmatch(r"\d: .+", text):
        level = text.split(":", 1)[0]
        assert text == f"{level}: {i18n.message(f'quality.{level}', 'en')}", text
        return level
    return text


def baseline_html(notebook: Path) -> list[dict]:
    """The baseline table of an executed profile notebook, one dict per row keyed by column name (plus its css class).

    The page shows the key columns under their labels (analysis.labels) and the detail columns (source type,
    quality level…) in a second table behind a details toggle, row for row; the others are in the downloads.
    """
    names = {labels.label(c): c for c in labels.KEY_COLUMNS["baseline"] + labels.DETAIL_COLUMNS["baseline"]}
    key_header = {labels.label(c) for c in ("data_point_id", "value", "year")}
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            html = "".join(output.get("data", {}).get("text/html", []))
            parser = _Tables()
            parser.feed(html)
            for i, (header, rows) in enumerate(parser.tables):
                if not key_header <= set(header):
                    continue
                out = [{**dict(zip([names.get(h, h) for h in header], cells)), "_class": cls} for cells, cls in rows]
                details = parser.tables[i + 1] if i + 1 < len(parser.tables) else None
                if details is not None and labels.label("source_type") in details[0] and len(details[1]) == len(rows):
                    for row, (cells, _) in zip(out, details[1]):
                        for h, text in zip(details[0], cells):
                            column = names.get(h, h)
                            row.setdefault(column, _shown_as_code(column, text))
                return out
    raise AssertionError(f"no baseline table in {notebook}")


def copy_repository(target: Path) -> Path:
    """The tracked and untracked (not ignored) files of the repository, without outputs or the venv."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=paths.ROOT,
                            capture_output=True, check=True).stdout.decode("utf-8").split("\0")
    for name in filter(None, listed):
        src = paths.ROOT / name
        if src.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / name)
    return target


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m analysis`` inside the copy (the copy's package comes first on the path)."""
    result = subprocess.run([sys.executable, "-m", "analysis", *args], cwd=repo, capture_output=True,
                            text=True, encoding="utf-8", timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, cat):
    repo = copy_repository(tmp_path_factory.mktemp("repo"))
    template = repo / "giske.xlsx"
    cli(repo, "template", MUNICIPALITY, "-o", str(template))
    entries = officer_entries(cat)
    fill(template, entries)
    result = cli(repo, "ingest", str(template))
    assert f"accepted {len(entries)} rows" in result.stdout
    return repo, entries


def _printed_path(stdout: str) -> Path:
    match = re.search(r"executed profile of .*?: (\S+\.ipynb)", stdout)
    assert match, stdout
    return Path(match[1])


def _tables_csv(repo: Path, notebook: Path) -> Path:
    """The baseline download of the run whose notebook is ``notebook`` (folder names may change: globbed)."""
    folder = notebook.parent.parent / "tables"
    found = [p for p in folder.glob("*/baseline.csv") if "giske" in p.parent.name.casefold()]
    assert len(found) == 1, sorted(folder.glob("*"))
    return found[0]


@pytest.mark.parametrize("overrides", [[], ["--set", "include_simulated=false"]], ids=["demonstration", "published-only"])
def test_officer_values_arrive_intact_in_html_and_downloads(ingested, overrides):
    repo, entries = ingested
    run = cli(repo, "run", MUNICIPALITY, "--no-report", *overrides)
    notebook = _printed_path(run.stdout)
    notebook = notebook if notebook.is_absolute() else repo / notebook
    assert repo in notebook.parents  # the working tree is untouched
    html_rows = {r["data_point_id"]: r for r in baseline_html(notebook)}
    with _tables_csv(repo, notebook).open(encoding="utf-8", newline="") as f:
        csv_rows = {r["data_point_id"]: r for r in csv.DictReader(f)}
    for dp, entry in entries.items():
        shown, down = html_rows[dp], csv_rows[dp]
        for row in (shown, down):
            assert row["source_type"] == "city-supplied", (dp, row)
            assert row["quality_level"] == "1", (dp, row)
        # status, text as printed, source and verification are in the download (the page's key table leaves them out)
        assert down["status"] == entry["status"], (dp, down)
        assert down["value_text"] == entry["value_text"], (dp, down)
        assert down["source"] == entry["source"]
        assert down["verified"] == "True", (dp, down)
        # a city-supplied value is never styled as simulated; goalposts derived from simulated peers get their
        # own, smaller mark (never in a published-only run, where no value is simulated)
        assert present.SIM_CLASS not in shown["_class"], (dp, shown)
        assert (present.GP_SIM_CLASS in shown["_class"]) == (down["goalposts_from_simulated"] == "True"), (dp, down)
        if overrides:
            assert down["goalposts_from_simulated"] in ("False", ""), (dp, down)
        if entry["expected"] is None:
            assert shown["value"] == "–" and down["value"] == ""
        else:
            assert shown["value"] == present.number(entry["expected"], 2)
            assert float(down["value"]) == pytest.approx(entry["expected"])
    with (_tables_csv(repo, notebook).parent / "data_gaps.csv").open(encoding="utf-8", newline="") as f:
        plan = list(csv.DictReader(f))
    assert (plan[0]["data_point_id"], plan[0]["status"]) == ("SC: SH: FS: 1A", "not reported")  # heads the plan
    assert not {r["data_point_id"] for r in plan} & {dp for dp, e in entries.items() if e["expected"] is not None}
    percent = next(dp for dp, e in entries.items() if e.get("format"))
    assert "formatted as a percentage" in csv_rows[percent]["note"]
    assert csv_rows["EC: ICT: ICT: 3C"]["registry_unit"] == "subscriptions per 100 000 inhabitants"
