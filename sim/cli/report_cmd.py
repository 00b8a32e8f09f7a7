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
    import json

    from ..policies import registry
    from . import UserError

    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
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
