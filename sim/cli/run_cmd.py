"""``run SCENARIO``: simulate policies x replications, print the summary, optionally save."""
from __future__ import annotations

import sys
from pathlib import Path

from ..runner import simulate
from ..scenario import load_scenario
from .common import (check_workload, nonneg_int, positive_float, positive_int,
                     resolve_scenario_path)
from .display import print_summary, progress_bar
from .plugins import policies_to_run


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="simulate a scenario under its policies (default: scenarios/default.yaml)")
    p.add_argument("scenario", nargs="?", default=None, help="scenario YAML file")
    p.add_argument("--policy", action="append", dest="policies", metavar="NAME",
                   help="policy to run (repeatable; default: the scenario's policies)")
    p.add_argument("--replications", type=positive_int, help="override the scenario's replications")
    p.add_argument("--seed", type=nonneg_int, help="override the scenario's seed")
    p.add_argument("--days", type=positive_float, help="override horizon.days")
    p.add_argument("--out", type=Path, help="directory for tickets.parquet, summary.csv, ...")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel processes (default: every core; results do not depend on it)")
    p.add_argument("--task-timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="stop with an error if one run takes longer than this (default: no limit)")
    p.add_argument("--events", nargs="?", const="csv", default=None, metavar="FORMAT",
                   help="also write the per-event log into --out: csv (default), parquet, xes, "
                        "ocel, a comma list, or all (see docs/eventlog.md)")
    p.add_argument("--report", type=Path, default=None, metavar="DIR",
                   help="write the HTML + Markdown decision report here (default: into --out DIR, "
                        "or reports/<scenario-name>/ when no scenario is given)")
    p.add_argument("--no-report", action="store_true", help="do not write the decision report")
    p.add_argument("--sensitivity", action="store_true",
                   help="add a quick sensitivity analysis (flip points) to the report, as the default "
                        "run does (docs/sensitivity.md)")
    p.add_argument("--force", action="store_true",
                   help="run even when the work estimate is above the refusal limit (docs/safety.md)")
    p.set_defaults(func=run)


def load_for_run(args):
    path = resolve_scenario_path(args.scenario)
    scn = load_scenario(path)
    if args.days is not None:
        horizon = dict(scn.horizon.model_dump())
        horizon["days"] = args.days
        if horizon["warmup_days"] >= args.days:
            horizon["warmup_days"] = 0.0
            print(f"warning: --days {args.days:g} is within the warm-up; warm-up set to 0",
                  file=sys.stderr)
        scn = scn.replace(horizon=horizon)
    return path, scn


def run(args) -> int:
    """Simulate, print, then write results, event logs and report; ``meta.json`` last.

    Every output directory is checked and locked before the simulation starts (a foreign
    directory costs no simulation time), and ``run`` returns 0 only after it printed the
    summary and wrote everything it was asked to write.
    """
    if args.workers is None:      # the main job uses every core (sim.execution.cpu_count)
        from ..execution import cpu_count

        args.workers = cpu_count()
    import contextlib

    from ..outputs import OutputDir, open_report_dir
    from ..results import RESULT_FILES

    events = _event_formats(args)
    path, scn = load_for_run(args)
    policies = policies_to_run(args, scn)
    n_policies = len(policies) if policies is not None else len(scn.policy_names())
    check_workload(scn, n_policies, args.replications, force=getattr(args, "force", False),
                   events=bool(events), where=str(path))
    report_target = _report_target(args, scn)
    with contextlib.ExitStack() as stack:
        out = None
        if args.out is not None:
            out = stack.enter_context(OutputDir(args.out, "--out", "supportsim run"))
            out.check_free(RESULT_FILES)
            if events:
                from ..eventlog.writers import target_paths

                out.check_free([p.name for p in target_paths(args.out, events)])
        report_out = None
        if report_target is not None:
            if out is not None and _same_dir(report_target, args.out):
                report_out = out
            else:
                report_out = stack.enter_context(open_report_dir(report_target, "--report",
                                                                 "supportsim run"))
            report_out.check_report_free()
        result = _simulate(args, scn, policies, events)
        for w in result.warnings:
            print(f"warning: {path}: {w}", file=sys.stderr)
        print_summary(result)
        from ..sensitivity.mainjob import add_assumptions     # the report's "What this verdict assumes"

        add_assumptions(result, path, quick=args.scenario is None or getattr(args, "sensitivity", False),
                        out=out, workers=args.workers, progress_bar=progress_bar)
        if out is not None:
            result.write_tables(out)
            print(f"results written to {out.path}")
        if events:
            from ..eventlog import export_events

            for written in export_events(result, args.out, events):
                out.adopt(written)
                print(f"event log written to {written}")
        if report_out is not None:
            from .report_cmd import write_report

            write_report(result, report_target, output=report_out)
        elif report_target is None and not getattr(args, "no_report", False):
            print("(add --report DIR or --out DIR to also write the HTML decision report)")
        if report_out is not None and report_out is not out:
            report_out.commit()
        if out is not None:
            out.commit(result.meta())       # last: it vouches for everything above
    return 0


def _simulate(args, scn, policies, events):
    """The simulation, with the CLI's guarantees: no silent exit, no empty result."""
    from ..policies import PolicyError
    from . import UserError

    try:
        with progress_bar("simulating") as advance:
            result = simulate(scn, policies=policies, replications=args.replications,
                              seed=args.seed, workers=args.workers, progress=advance,
                              trace=bool(events), timeout=getattr(args, "task_timeout", None))
    except SystemExit as exc:   # a plug-in hook calling sys.exit() must not pass for success
        raise PolicyError(f"the simulation was stopped by exit({exc.code!r}) inside a policy or "
                          "plug-in; nothing was written") from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        if isinstance(exc, Exception):
            raise
        # any other BaseException from a hook (GeneratorExit, a plug-in's own) is the
        # policy's failure too, never a silent end or a traceback
        raise PolicyError(f"the simulation was stopped by {type(exc).__name__} raised inside a "
                          "policy or plug-in; nothing was written") from None
    if not len(result.tickets):
        raise UserError(
            f"nothing was measured: no ticket arrived between warm-up "
            f"({scn.horizon.warmup_days:g} days) and the horizon ({scn.horizon.days:g} days) in "
            f"any replication (arrivals.per_hour {scn.arrivals.per_hour:g}); lengthen horizon.days "
            "(or --days), shorten horizon.warmup_days or raise arrivals.per_hour")
    return result


def _same_dir(a, b) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _report_target(args, scn):
    """The decision report's directory: --report, else --out, else reports/<name>/ for the
    default run; None when no report is written."""
    if getattr(args, "no_report", False):
        return None
    from ..report import default_report_dir

    target = args.report if args.report is not None else args.out
    if target is None and args.scenario is None:
        target = default_report_dir(scn.name)
    return target


def _event_formats(args) -> list[str]:
    """Check ``--events`` before simulating, so a typo costs no simulation time."""
    if getattr(args, "events", None) is None:
        return []
    from ..eventlog import ExportError, parse_formats
    from . import UserError

    if args.out is None:
        raise UserError("--events: needs --out DIR (the event log is written next to the results)")
    try:
        return parse_formats(args.events)
    except ExportError as exc:
        raise UserError(f"--events: {exc}") from None
