"""``report DIR``: rebuild the decision report from a saved results directory.

Also home of :func:`write_report`, which ``run`` calls after simulating, so
both commands produce the same report and print the same closing lines.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

from rich.console import Console


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="rebuild the HTML + Markdown decision report from saved results")
    p.add_argument("results", type=Path, metavar="DIR", help="a directory written by run --out DIR")
    p.add_argument("--out", type=Path, default=None,
                   help="report directory (default: DIR itself, next to the results it reports)")
    p.add_argument("--force", action="store_true",
                   help="replace a report of another run found in the report directory")
    p.add_argument("--baseline", default=None, metavar="POLICY",
                   help="policy the others are compared with (default: tiered, else the first run)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..results import load_result
    from ..scenario import ScenarioError
    from . import UserError
    from .common import writable_dir

    d: Path = args.results
    if not d.is_dir():
        raise UserError(f"{d}: no such results directory (create one with: run SCENARIO --out {d})")
    if not (d / "meta.json").exists() and (d / "sweep.json").exists():
        raise UserError(f"{d}: a sweep directory; its report is {d / 'report' / 'report.html'}, rebuilt by "
                        f"running the same sweep command again with --out {d} (completed runs are skipped)")
    if not (d / "meta.json").exists():
        raise UserError(f"{d}: not a complete supportsim results directory (no meta.json); "
                        f"re-run with: run SCENARIO --out {d}")
    if not (d / "meta.json").is_file():       # a FIFO or /dev/zero would be read forever
        raise UserError(f"{d / 'meta.json'}: not a regular file; supportsim writes meta.json as one")
    if args.out is not None:
        writable_dir(args.out, "--out")
    _load_recorded_plugins(d)
    try:
        result = load_result(d)
        from ..report.assumptions import attach_saved      # the saved flip points, if this run's

        attach_saved(result, d)
    except ScenarioError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{d}: cannot read saved results: {exc}") from None
    except RecursionError:          # sim.load_result's own json.loads on a deeply nested file
        raise UserError(f"{d}: cannot read saved results: {d / 'meta.json'}: nested too deeply "
                        "for a supportsim meta.json") from None
    problem = _missing_columns(result)
    if problem:
        raise UserError(f"{d}: cannot read saved results: {d / problem}")
    problem = _inconsistent_meta(result)
    if problem:
        raise UserError(f"{d}: cannot read saved results: {d / 'meta.json'}: {problem}")
    target = args.out if args.out is not None else d      # next to the results by default
    own = target.resolve() == d.resolve()     # a results directory's report is its own results'
    _check_same_run(target, result, force=getattr(args, "force", False) or own,
                    flag="--out" if args.out is not None else "DIR")
    write_report(result, target, baseline=args.baseline)
    return 0


def _load_recorded_plugins(d: Path) -> None:
    """Load the plug-in policies the run used, as ``meta.json`` recorded them (issue 11.6).

    The saved scenario names them, so validating it needs them, and the report's
    reproduce command then carries the same ``--plugin`` options.  A policy
    already known (built-in, installed, or given with ``--plugin`` again) is
    left alone; each one loaded is said on stderr, since loading runs its code.
    """
    from ..outputs.jsonfile import read_json
    from ..policies import registry
    from . import UserError

    try:
        meta = read_json(d / "meta.json")
    except (OSError, ValueError):
        return          # load_result says what is wrong with meta.json
    origins = meta.get("plugins") if isinstance(meta, dict) else None
    if not isinstance(origins, list):
        return
    before = set(registry.names())
    problems = registry.load_recorded(origins)
    if problems:
        raise UserError(f"{d}: {problems[0]}")
    for origin in origins:
        if isinstance(origin, dict) and origin.get("policy") not in before and origin.get("plugin"):
            print(f"loaded plug-in {origin['policy']!r} recorded in {d / 'meta.json'}: "
                  f"--plugin {origin['plugin']}", file=sys.stderr)


def _missing_columns(result: Any) -> Optional[str]:
    """``"teams.csv lacks ..."`` when a saved table lacks a column every result has (the
    catalogue's columns without a ``when``): a hand-edited or truncated table is one line
    here, not a ``KeyError`` deep inside the analysis."""
    from ..schema import TABLES

    for name, frame in (("tickets", result.tickets), ("teams", result.teams), ("backlog", result.backlog)):
        spec = TABLES[name]
        missing = [c.name for c in spec.columns if c.when is None and c.name not in frame.columns]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            return f"{spec.file} lacks column(s) {shown} - not a table supportsim wrote"
    return None


def _inconsistent_meta(result: Any) -> Optional[str]:
    """What in ``meta.json`` cannot describe the saved tables (the report would print it as
    fact: "over -5 replications", a policy with no rows), or None."""
    from ..scenario import MAX_REPLICATIONS, MAX_SEED

    if not 1 <= result.replications <= MAX_REPLICATIONS:
        return f"replications must be 1 to {MAX_REPLICATIONS:,}, got {result.replications}"
    if not 0 <= result.seed <= MAX_SEED:
        return f"seed must be 0 to {MAX_SEED}, got {str(result.seed)[:30]}"
    names = [p for p in result.policies]
    if not names or not all(isinstance(p, str) and p for p in names):
        return "policies must be a non-empty list of policy names"
    present = {str(p) for p in result.teams["policy"].unique()}
    absent = [p for p in names if p not in present]
    if absent:
        return f"policy {absent[0]!r} has no rows in teams.csv"
    return None


def _check_same_run(target: Path, result: Any, force: bool, flag: str) -> None:
    """Refuse to replace the report of another run (a different scenario, seed, replications or
    policies) unless ``--force``; a report without a run identity counts as another run's."""
    from ..report.identity import report_run_id, run_id
    from . import UserError

    found = report_run_id(target)
    if found is None or force or found == run_id(result):
        return
    what = "the report of another run" if found else "a report that does not say which run it belongs to"
    raise UserError(f"{flag} {target}: holds {what}; choose another --out, or add --force to replace it")


def write_report(result: Any, out: Optional[Path], baseline: Optional[str] = None,
                 console: Optional[Console] = None, output: Any = None) -> Path:
    """Build the report, print the verdict sentences and the report's path; return the HTML path.

    ``output``: the open :class:`sim.outputs.OutputDir` of ``out`` (run's or report's), so the
    report's files join its manifest; without one, the directory is checked and locked here.
    """
    from ..outputs import open_report_dir

    if output is None:
        from ..report import default_report_dir

        target = out if out is not None else default_report_dir(result.scenario.name)
        with open_report_dir(target, "--out") as od:
            html = write_report(result, target, baseline, console, output=od)
            od.commit()
        return html
    from ..report import build_report
    from . import UserError

    if baseline is not None and baseline not in [str(p) for p in result.policies]:
        raise UserError(f"--baseline: {baseline!r} was not run; choose one of: "
                        f"{', '.join(str(p) for p in result.policies)}")
    output.check_report_free()
    paths = build_report(result, out, baseline=baseline)
    for written in (paths.html, paths.markdown, *paths.figures, paths.directory / "scenario.yaml"):
        output.adopt(written)
    console = console or Console(highlight=False, soft_wrap=True)   # sentences wrap in the terminal, not mid-pipe
    content = paths.content
    for level, text in content.alerts:
        if level in ("danger", "warning"):
            print(f"warning: {text}", file=sys.stderr)
    if content.verdict_rows:
        from ..report.format import fmt_level

        console.print(f"[bold]Verdict vs {paths.analysis.baseline}[/bold] "
                      f"({fmt_level(paths.analysis.level)} CI, paired):",
                      markup=True)
        for row in content.verdict_rows:
            console.print(f"  - {row.sentence}", markup=False, emoji=False)
    print(f"report written to {paths.html}")
    return paths.html
