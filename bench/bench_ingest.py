"""Time and memory of ingest: a filled template, a workbook at the row limit, a zip bomb refused.

Prints, never asserts.

Run: ``.venv/bin/python bench/bench_ingest.py``. Each case runs in its own process so that its
peak memory (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

CASE = r"""
import json, resource, sys, time
from pathlib import Path
from analysis import ingest
from analysis.errors import InputError
t = time.perf_counter()
try:
    result = ingest.ingest(Path(sys.argv[1]), out_dir=Path(sys.argv[2]))
    outcome = f"accepted {len(result.accepted)} rows, {len(result.warnings)} warning(s)"
except InputError as exc:
    outcome = "refused: " + str(exc.problems[0].message)[:90]
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "outcome": outcome}))
"""


def filled_template(folder: Path) -> Path:
    from openpyxl import load_workbook

    from analysis import ingest
    path = ingest.write_template("Giske", folder / "filled.xlsx")
    wb = load_workbook(path)
    ws = wb[ingest.SHEET]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, header.index("registry_unit") + 1).value == "%":
            for name, value in (("value", "50,5"), ("year", 2023), ("source", "bench")):
                ws.cell(r, header.index(name) + 1, value)
    wb.save(path)
    return path


def at_row_limit(folder: Path) -> Path:
    from openpyxl import Workbook

    from analysis import ingest
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(ingest.SHEET)
    ws.append(["municipality", "data_point_id", "value", "year", "source"])
    for k in range(ingest.MAX_ROWS):
        ws.append([f"Bench {k // 200}", "EC: ICT: ICT: 1C", 97.5, 1900 + k % 200, "bench"])
    path = folder / "limit.xlsx"
    wb.save(path)
    return path


def zip_bomb(folder: Path) -> Path:
    path = folder / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"<row/>" * (2**20 // 6)
            for _ in range(1024):  # about 1 GB unpacked, written in 1 MB chunks
                member.write(chunk)
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, make in (("filled template (63 values)", filled_template),
                           ("workbook at the row limit", at_row_limit), ("zip bomb (1 GB unpacked)", zip_bomb)):
            path = make(folder)
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CASE, str(path), str(folder / "out" / path.stem)],
                                 capture_output=True, text=True, check=True).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            print(f"{name}: {path.stat().st_size / 1024:.0f} kB file; ingest {figures['seconds']:.2f} s "
                  f"(process {time.perf_counter() - t:.1f} s), peak memory {figures['peak_mb']:.0f} MB; "
                  f"{figures['outcome']}")


if __name__ == "__main__":
    main()
