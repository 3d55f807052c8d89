"""Command-line front door: ``python -m analysis <command> --help``."""

from __future__ import annotations

import argparse
import hashlib
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
          f"with no value, rejected {len({p.row for p in result.problems})} rows, replaced {result.replaced} rows "
          f"of earlier ingests")
    for problem in result.problems:
        print(f"  rejected: {problem}")
    for path in result.written:
        print(f"wrote {path}")
    return 0


def _cmd_check_params(args: argparse.Namespace) -> int:
    from analysis import params
    checked = params.check_all(**params.known_names())
    print(f"parameters valid: {len(checked)} files")
    return 0


def _cmd_execute(args: argparse.Namespace) -> int:
    from analysis import params, pipeline
    if args.kind == "profile":
        if not args.municipality:
            raise InputError.single("command line", "profile needs --municipality", column="--municipality",
                                    label="option")
        parameters = pipeline.profile_parameters(args.municipality, args.set, args.output)
    else:
        known = params.known_names()
        params.load(None, args.set, **{k: v for k, v in known.items() if k != "known_municipalities"})
        parameters = {"overrides": args.set, "output_dir": str(args.output.parent)}
    pipeline.execute(args.kind, parameters, args.output, timeout=args.timeout)
    print(f"executed {args.kind}: {args.output}")
    return 0


def run_folder(municipality: str, overrides: list[str]) -> Path:
    """Where ``run`` writes: the main job's folder for default parameters, else a folder per parameter set.

    A re-run with new parameters never overwrites the main job's outputs, and two different
    parameter sets never overwrite each other.
    """
    if not overrides:
        return paths.REPORTS / "executed"
    digest = hashlib.sha256("\n".join(sorted(overrides)).encode("utf-8")).hexdigest()[:10]
    return paths.REPORTS / "runs" / f"{municipality}-{digest}"


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis import build, params, pipeline, report
    values = params.load(args.municipality, args.set, **params.known_names())
    build.build()  # the run reads the current raw and ingested data
    folder = run_folder(values["municipality"], args.set)
    target = pipeline.executed_path("profile", values["municipality"], folder)
    pipeline.execute("profile", pipeline.profile_parameters(values["municipality"], args.set, target), target)
    print(f"executed profile of {values['municipality']} with {args.set or 'default parameters'}: {target}")
    if not args.no_report:
        site = paths.REPORTS / "site" if folder == paths.REPORTS / "executed" else folder / "site"
        result = report.render_site(folder, site)
        print(f"site rendered with {result['renderer']}: {site / 'index.html'}")
    return 0


def _cmd_all(args: argparse.Namespace) -> int:
    from analysis import build, pipeline
    config = {"municipalities": args.municipalities} if args.municipalities else None
    try:
        with pipeline.build_lock(paths.ROOT, wait=args.wait):
            build.build()
            _cmd_check_params(args)
            return pipeline.build_all(cores=args.cores, config=config)
    except pipeline.BuildRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: the build was interrupted; run the same command again to resume", file=sys.stderr)
        return pipeline.INTERRUPTED


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis import report
    result = report.render_site(args.executed, args.site, renderer=args.renderer)
    print(f"site rendered with {result['renderer']}: {args.site / 'index.html'}")
    return 0


GOLDEN = {
    "profile_Karmøy": ("profile", {"municipality": "Karmøy", "overrides": ["include_simulated=false"]}),
    "profile_Asker": ("profile", {"municipality": "Asker", "overrides": []}),
    "synthesis": ("synthesis", {"overrides": ["synthesis.draws=500"]}),
    "tutorial": ("tutorial", {"overrides": []}),
}
"""Golden notebooks re-executed by nbval in the test suite: small, deterministic runs."""


def _cmd_golden(args: argparse.Namespace) -> int:
    from analysis import pipeline
    for name, (kind, parameters) in GOLDEN.items():
        target = args.out / f"{name}.ipynb"
        pipeline.execute(kind, {**parameters, "output_dir": ""}, target)
        print(f"regenerated {target}")
    return 0


def _positive(text: str) -> int:
    """A whole number of at least 1 (an argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, not {value}")
    return value


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

    p = sub.add_parser("ingest", help="validate a filled workbook or CSV and store it in data/external/city_supplied")
    p.add_argument("file", type=Path, help="filled template (.xlsx) or CSV with columns municipality, "
                                           "data_point_id, value, year, source [, unit, comment, status]")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: data/external/city_supplied)")
    p.add_argument("--accept-partial", action="store_true",
                   help="write the valid rows even if some are rejected (default: reject the whole file)")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("check-params", help="validate params/defaults.yaml and every params/municipalities/*.yaml")
    p.set_defaults(func=_cmd_check_params)

    p = sub.add_parser("execute", help="execute one notebook with papermill (used by the workflow)")
    p.add_argument("kind", choices=["profile", "synthesis", "tutorial"])
    p.add_argument("--municipality", help="municipality of a profile")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("--output", type=Path, required=True, help="executed notebook path")
    p.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    p.set_defaults(func=_cmd_execute)

    p = sub.add_parser("run", help="re-run one municipality's profile with new parameters and re-render the site")
    p.add_argument("municipality", help="municipality name, e.g. Ålesund")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter, e.g. --set target_set=national --set weights.environment=2")
    p.add_argument("--no-report", action="store_true", help="do not re-render the website")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("all", help="the main job: data, every profile, the synthesis, the tutorial and the website")
    p.add_argument("--cores", type=_positive, default=2, help="notebooks executed in parallel (default 2)")
    p.add_argument("--wait", action="store_true", help="wait for another running build instead of refusing")
    p.add_argument("--municipalities", metavar="A,B",
                   help="build these profiles only (comma-separated; default: every municipality)")
    p.set_defaults(func=_cmd_all)

    p = sub.add_parser("report", help="render the website from the executed notebooks (Quarto or nbconvert)")
    p.add_argument("--executed", type=Path, default=paths.REPORTS / "executed")
    p.add_argument("--site", type=Path, default=paths.REPORTS / "site")
    p.add_argument("--renderer", choices=["auto", "quarto", "nbconvert"], default="auto")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("golden", help="regenerate the golden notebooks in tests/golden after an intended change")
    p.add_argument("--out", type=Path, default=paths.ROOT / "tests" / "golden")
    p.set_defaults(func=_cmd_golden)
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
