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


def _years(text: str) -> list[int]:
    """``2019`` or ``2019-2022`` as a list of years (argparse type of ``fetch --years``)."""
    first, _, last = text.partition("-")
    try:
        start, end = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a year or a range of years like 2019-2022") from None
    from analysis.validation import FIRST_YEAR, LAST_YEAR

    if not (FIRST_YEAR <= start <= end <= LAST_YEAR):
        raise argparse.ArgumentTypeError(f"'{text}': expected years between {FIRST_YEAR} and {LAST_YEAR}, first ≤ last")
    return list(range(start, end + 1))


def _cmd_fetch(args: argparse.Namespace) -> int:
    from analysis.national import fetch
    years = sorted({y for group in args.years for y in group}) if args.years else None
    result = fetch.run(args.provider, args.municipality, years, root=args.out, progress=not args.quiet)
    names = ", ".join(f"{e.name} {e.kommunenummer}" for e in result.municipalities)
    print(f"{args.provider}: {len(result.answers)} queries, {result.n_values} values for {names}, "
          f"years {result.years[0]}–{result.years[-1]}")
    for reason in result.skipped:
        print(f"  skipped: {reason}")
    print(f"wrote snapshot: {result.snapshot}")
    print("run `python -m analysis build` to fold it into data/processed/observations.csv")
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
          f"of earlier ingests; {len(result.budget)} budget rows, {len(result.targets)} own targets")
    for problem in result.problems:
        print(f"  rejected: {problem}")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    for path in result.written:
        print(f"wrote {path}")
    if result.warnings:
        print(f"accepted with {len(result.warnings)} plausibility warning(s), kept in the rows' notes; "
              "check those values (exit 0: warnings do not block)")
    return 0


def _cmd_check_params(args: argparse.Namespace) -> int:
    from analysis import params
    checked = params.check_all()
    print(f"parameters valid: {len(checked)} files")
    return 0


def _cmd_assess(args: argparse.Namespace) -> int:
    from analysis import assess, params
    values = params.resolve(args.municipality, params.parse_set(args.set)).canonical()
    if args.out.name != params.assessment_key(values):
        raise InputError.single("command line", f"'{args.out.name}' is not the stage key of these parameters "
                                                f"('{params.assessment_key(values)}')", column="--out", label="option")
    assess.write(assess.assess(values), args.out)
    print(f"wrote assessment stage: {args.out}")
    return 0


def _cmd_execute(args: argparse.Namespace) -> int:
    from analysis import params, pipeline
    overrides = params.parse_set(args.set)  # the one parse of --set; everything below gets validated values
    if args.kind == "profile" and not args.municipality:
        raise InputError.single("command line", "profile needs --municipality", column="--municipality",
                                label="option")
    values = params.resolve(args.municipality if args.kind != "synthesis" else None, overrides)
    pipeline.execute(args.kind, pipeline.notebook_parameters(values, args.output), args.output, timeout=args.timeout)
    print(f"executed {args.kind}: {args.output}")
    return 0


def run_folder(values: dict, default: dict) -> Path:
    """Where ``run`` writes: the main job's folder when the resolved values are the main job's, else one per value set.

    The folder is named by the municipality's slug and a hash of the resolved values, so a re-run with
    new parameters never overwrites the main job's outputs, and two different sets never collide.
    """
    from analysis import params
    from analysis.municipalities import registry

    if values == default:
        return paths.REPORTS / "executed"
    return paths.REPORTS / "runs" / f"{registry().entity(values['municipality']).slug}-{params.digest(values, ())}"


RUN_STAGES = ["validate", "assess", "notebook", "site"]
"""The stages of ``run``; the notebook's time is split into its table and figure cells afterwards."""


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis import progress
    stages = progress.Stages(RUN_STAGES if not args.no_report else RUN_STAGES[:-1])
    with stages.stage("validate"):  # parameters, then the current raw and ingested data
        from analysis import assess, build, params, pipeline
        model = params.resolve(args.municipality, params.parse_set(args.set))
        values = model.canonical()
        build.build()
    with stages.stage("assess"):  # the panel assessment stage, for the notebook's kernel to read
        assess.stage(values)
    folder = run_folder(values, params.load(values["municipality"]))
    target = pipeline.executed_path("profile", values["municipality"], folder)
    with stages.stage("notebook"):
        pipeline.execute("profile", pipeline.notebook_parameters(model, target), target)
    import nbformat
    split = progress.notebook_split(nbformat.read(target, as_version=4))
    stages.note(f"tables and text cells {split['tables']:.1f} s, figure cells {split['figures']:.1f} s "
                "(the rest is the kernel's start and imports)")
    print(f"executed profile of {pipeline.label(values['municipality'])} with {args.set or 'default parameters'}: "
          f"{target}")
    if not args.no_report:
        from analysis import report
        site = paths.REPORTS / "site" if folder == paths.REPORTS / "executed" else folder / "site"
        with stages.stage("site"):
            result = report.render_site(folder, site)
        print(f"site rendered with {result['renderer']}: {site / 'index.html'}")
    stages.note(stages.summary())
    if args.set:
        print(f"what changed against the main job: python -m analysis diff {folder.name}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from rich.console import Console

    from analysis import diff
    after = diff.load_run(diff.resolve(args.run), None)
    before_folder = diff.resolve(args.other)
    before = diff.load_run(before_folder, diff.MAIN if args.other == diff.MAIN else None)
    changes = diff.compare(after, before)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    n_params = int((changes["section"] == "parameters").sum())
    console.print(f"{after.name} against {before.name}: {n_params} parameter(s) differ, "
                  f"{len(changes) - n_params} result(s) changed", markup=False)
    if len(changes):
        table, more = diff.terminal_table(changes, limit=args.limit)
        console.print(table)
        if more:
            console.print(f"... and {more} more changes on the page", markup=False)
    page = diff.write_page(changes, after, before)
    console.print(f"wrote {page}", markup=False, soft_wrap=True)
    return 0


def _cmd_all(args: argparse.Namespace) -> int:
    from analysis import build, pipeline
    config = {"municipalities": args.municipalities} if args.municipalities else {}
    if not args.views:
        config["views"] = False
    if args.panel != "u4ssc17":
        config.update(panel=args.panel, out=f"reports/{args.panel}/executed", logs=f"reports/{args.panel}/logs",
                      site=f"reports/{args.panel}/site")
    config = config or None
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
    result = report.render_site(args.executed, args.site, renderer=args.renderer, jobs=args.jobs)
    print(f"site rendered with {result['renderer']}: {args.site / 'index.html'}")
    return 0


GOLDEN = {
    "profile_Karmøy": ("profile", "Karmøy", {"include_simulated": False}, {}),
    "profile_Asker": ("profile", "Asker", {}, {}),
    "synthesis": ("synthesis", None, {"synthesis": {"draws": 500}}, {}),
    "tutorial": ("tutorial", "Karmøy", {}, {"solutions": True}),  # the exercises checked with their reference answers
}
"""Golden notebooks re-executed by nbval in the test suite: small, deterministic runs."""


def _cmd_golden(args: argparse.Namespace) -> int:
    from analysis import params, pipeline, progress
    stages = progress.Stages(list(GOLDEN))
    for name, (kind, municipality, overrides, extra) in GOLDEN.items():
        target = args.out / f"{name}.ipynb"
        with stages.stage(name):
            pipeline.execute(kind, {"values": params.load(municipality, overrides), "output_dir": "", **extra}, target)
        print(f"regenerated {target}")
    stages.note(stages.summary())
    return 0


def _cmd_survey_template(args: argparse.Namespace) -> int:
    from analysis import survey
    target = survey.write_template(args.output)
    print(f"wrote survey template: {target}")
    return 0


def _cmd_targets_template(args: argparse.Namespace) -> int:
    from analysis import policy
    target = args.output or Path(f"{args.municipality}_targets.csv")
    policy.write_city_template(args.municipality, target)
    print(f"wrote targets template for {args.municipality}: {target}")
    return 0


def _cmd_targets_ingest(args: argparse.Namespace) -> int:
    from analysis import policy
    for path in policy.ingest_city_targets(args.file, out_dir=args.out):
        print(f"wrote {path}")
    return 0


def _cmd_survey_ingest(args: argparse.Namespace) -> int:
    from analysis import survey
    result = survey.ingest(args.file, out_dir=args.out, seed=args.seed)
    n = int(result.aggregate["n_respondents"].iloc[0])
    print(f"{args.file}: {n} respondents, {len(result.priorities)} themes")
    for path in result.written:
        print(f"wrote {path}")
    top = result.aggregate.iloc[0]
    print(f"citizens' first theme: {top['theme_id']} (mean {top['mean_points']:.1f} points, priority "
          f"×{top['priority']:.2f}); use the priorities with --set invest.theme_priorities.<theme>=<value> "
          f"or in params/municipalities/<name>.yaml")
    return 0


def _cmd_pdf(args: argparse.Namespace) -> int:
    from analysis import pdf
    written = pdf.print_profile(args.municipality, site=args.site, output=args.output, view=args.view)
    print(f"wrote {written} ({pdf.page_count(written.read_bytes())} pages)")
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

    p = sub.add_parser("fetch", help="fetch national statistics (Statistics Norway) into a dated snapshot under data/external")
    p.add_argument("provider", help="provider key in data/raw/national_statistics_map.csv, e.g. ssb")
    p.add_argument("--municipality", nargs="+", metavar="NUMBER|NAME",
                   help="municipalities by number or name (default: the panel in data/raw/municipalities.csv)")
    p.add_argument("--years", nargs="+", type=_years, metavar="YEAR|FIRST-LAST",
                   help="years, e.g. 2019 2022 or 2019-2024 (default: 2019 to two years ago)")
    p.add_argument("--out", type=Path, default=None, help="snapshot root (default: data/external)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_fetch)

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

    p = sub.add_parser("assess", help="write the panel assessment stage of a parameter set (used by the workflow)")
    p.add_argument("--municipality", help="take the parameters of this municipality (number or name)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("--out", type=Path, required=True, help="stage folder, named by the parameters' stage key")
    p.set_defaults(func=_cmd_assess)

    p = sub.add_parser("execute", help="execute one notebook with papermill (used by the workflow)")
    p.add_argument("kind", choices=["profile", "synthesis", "tutorial"])
    p.add_argument("--municipality", help="municipality (number or name) of a profile or of the tutorial")
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

    p = sub.add_parser("diff", help="what changed between two runs: parameters, scores, bands, SDG colours and ranks")
    p.add_argument("run", help="a run folder under reports/runs/ (its name, the start of its name, or a path)")
    p.add_argument("other", nargs="?", default="main",
                   help="the run to compare with: another run, or 'main' for reports/executed (default)")
    p.add_argument("--limit", type=int, default=25, help="result rows shown in the terminal (default 25)")
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("all", help="the main job: data, every profile, the synthesis, the tutorial and the website")
    p.add_argument("--cores", type=_positive, default=2, help="notebooks executed in parallel (default 2)")
    p.add_argument("--wait", action="store_true", help="wait for another running build instead of refusing")
    p.add_argument("--municipalities", metavar="A,B",
                   help="build these profiles only (comma-separated; default: every municipality)")
    p.add_argument("--panel", choices=["u4ssc17", "norway"], default="u4ssc17",
                   help="u4ssc17 (default): the 17 municipalities into reports/site; norway: every municipality of "
                        "Norway into reports/norway/site")
    p.add_argument("--views", action=argparse.BooleanOptionalAction, default=True,
                   help="also build each municipality's real-data view, resident pages and council paper "
                        "(default; --no-views: profiles, synthesis, tutorial and site only)")
    p.set_defaults(func=_cmd_all)

    p = sub.add_parser("report", help="render the website from the executed notebooks (Quarto or nbconvert)")
    p.add_argument("--executed", type=Path, default=paths.REPORTS / "executed")
    p.add_argument("--site", type=Path, default=paths.REPORTS / "site")
    p.add_argument("--renderer", choices=["auto", "quarto", "nbconvert"], default="auto")
    p.add_argument("--jobs", type=_positive, default=1, help="processes nbconvert converts notebooks in (default 1)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("survey-template", help="write a citizens' survey sheet: points 0-10 per investment theme")
    p.add_argument("-o", "--output", type=Path, default=Path("survey_template.xlsx"),
                   help="sheet path, .xlsx or .csv (default: survey_template.xlsx)")
    p.set_defaults(func=_cmd_survey_template)

    p = sub.add_parser("survey-ingest", help="validate a filled survey and write the theme priorities it implies")
    p.add_argument("file", type=Path, help="filled survey sheet (.xlsx or .csv)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: data/processed/survey)")
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (default: the parameter seed)")
    p.set_defaults(func=_cmd_survey_ingest)

    p = sub.add_parser("targets-template", help="write a CSV for a municipality's own targets in three levels")
    p.add_argument("municipality", help="number or name")
    p.add_argument("-o", "--output", type=Path, help="CSV path (default: <municipality>_targets.csv)")
    p.set_defaults(func=_cmd_targets_template)

    p = sub.add_parser("targets-ingest", help="validate a municipality's own targets and store them for its profile")
    p.add_argument("file", type=Path, help="filled targets CSV, or the template workbook with its sheet 'targets' "
                                           "(desired / lowest acceptable / not acceptable)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: data/external/city_supplied/targets)")
    p.set_defaults(func=_cmd_targets_ingest)

    p = sub.add_parser("pdf", help="print a municipality's profile page (or council paper, ...) to PDF with headless Chromium")
    p.add_argument("municipality", help="number or name")
    p.add_argument("--site", type=Path, default=paths.REPORTS / "site", help="the built site (default: reports/site)")
    p.add_argument("-o", "--output", type=Path, help="PDF path (default: reports/pdf/<kommunenummer>-<slug>.pdf, "
                                                     "-<view>.pdf for another view)")
    p.add_argument("--view", default="profile", choices=["profile", "real", "council", "resident-nb", "resident-en"],
                   help="which page: the profile (default), the real-data view, the council paper or a resident page")
    p.set_defaults(func=_cmd_pdf)

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
