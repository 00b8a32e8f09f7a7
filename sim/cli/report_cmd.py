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
                   help="report directory (default: reports/<scenario-name>/)")
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
    if not (d / "meta.json").exists():
        raise UserError(f"{d}: not a complete supportsim results directory (no meta.json); "
                        f"re-run with: run SCENARIO --out {d}")
    if args.out is not None:
        writable_dir(args.out, "--out")
    try:
        result = load_result(d)
    except ScenarioError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{d}: cannot read saved results: {exc}") from None
    write_report(result, args.out, baseline=args.baseline)
    return 0


def write_report(result: Any, out: Optional[Path], baseline: Optional[str] = None,
                 console: Optional[Console] = None) -> Path:
    """Build the report, print the verdict sentences and the report's path; return the HTML path."""
    from ..report import build_report
    from . import UserError

    if baseline is not None and baseline not in [str(p) for p in result.policies]:
        raise UserError(f"--baseline: {baseline!r} was not run; choose one of: "
                        f"{', '.join(str(p) for p in result.policies)}")
    paths = build_report(result, out, baseline=baseline)
    console = console or Console(highlight=False, soft_wrap=True)   # sentences wrap in the terminal, not mid-pipe
    content = paths.content
    for level, text in content.alerts:
        if level in ("danger", "warning"):
            print(f"warning: {text}", file=sys.stderr)
    if content.verdict_rows:
        console.print(f"[bold]Verdict vs {paths.analysis.baseline}[/bold] (95 % CI, paired):",
                      markup=True)
        for row in content.verdict_rows:
            console.print(f"  - {row.sentence}", markup=False, emoji=False)
    print(f"report written to {paths.html}")
    return paths.html
