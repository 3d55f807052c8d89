"""Command-line front door: ``python -m analysis <command> --help``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import paths
from analysis.errors import InputError


def _cmd_build(args: argparse.Namespace) -> int:
    from analysis import build
    written = build.build(args.out)
    for name, path in written.items():
        print(f"wrote {name}: {path}")
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from analysis import ingest
    target = args.output or Path(f"{args.municipality}_u4ssc_template.xlsx")
    ingest.write_template(args.municipality, target)
    print(f"wrote template for {args.municipality}: {target}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from analysis import ingest
    result = ingest.ingest(args.file, out_dir=args.out, accept_partial=args.accept_partial)
    print(f"{args.file}: accepted {len(result.accepted)} rows, skipped {result.skipped_empty} rows "
          f"with no value, rejected {len({p.row for p in result.problems})} rows")
    for problem in result.problems:
        print(f"  rejected: {problem}")
    for path in result.written:
        print(f"wrote {path}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    top = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="validate data/raw and write data/processed/observations.csv")
    p.add_argument("--out", type=Path, default=paths.PROCESSED, help="output folder (default: data/processed)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("template", help="write an Excel workbook for a municipality to fill in")
    p.add_argument("municipality", help="municipality name, e.g. Ålesund")
    p.add_argument("-o", "--output", type=Path, help="workbook path (default: <municipality>_u4ssc_template.xlsx)")
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser("ingest", help="validate a filled workbook or CSV and store it in data/processed")
    p.add_argument("file", type=Path, help="filled template (.xlsx) or CSV with columns municipality, "
                                           "data_point_id, value, year, source [, unit, comment, status]")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: data/processed/city_supplied)")
    p.add_argument("--accept-partial", action="store_true",
                   help="write the valid rows even if some are rejected (default: reject the whole file)")
    p.set_defaults(func=_cmd_ingest)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run a command; bad input prints every problem and exits with status 2."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {len(exc.problems)} problem(s) in the input:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
