"""``sensitivity SCENARIO``: which assumptions the verdict rests on, and where each verdict flips.

One-at-a-time tornado plus, for every (parameter, policy, metric), the flip
point where the paired difference against the baseline changes sign
(bisection with common random numbers).  Writes ``DIR/tornado.csv``,
``DIR/flips.csv``, ``DIR/points.csv`` and two PNG figures; every finished run
is saved at once, so running the same command again resumes.
See ``docs/sensitivity.md``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import positive_float, positive_int, resolve_scenario_path


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction of the range between 0 and 1, got {text}")
    return v


def add_parser(sub) -> None:
    p = sub.add_parser("sensitivity", help="tornado and flip points of the verdict's contested assumptions")
    p.add_argument("scenario", nargs="?", default=None, help="scenario YAML file (default: scenarios/default.yaml)")
    p.add_argument("--param", action="append", dest="params", metavar="PATH=LO:HI",
                   help="parameter and range, e.g. frictions.swarm_owner_contribution=0:1 or "
                        "frictions.handoff=x0.5:x2 (multiples of the scenario's value); repeatable; "
                        "default: the contested assumptions (docs/sensitivity.md)")
    p.add_argument("--policy", action="append", dest="policies", metavar="NAME",
                   help="policy compared with the baseline (repeatable; default: the scenario's policies)")
    p.add_argument("--baseline", default="tiered", metavar="NAME", help="baseline policy (default: tiered)")
    p.add_argument("--metrics", default=None, metavar="M1,M2",
                   help="comma-separated metrics (default: the verdict's metrics)")
    p.add_argument("--replications", type=positive_int, default=None,
                   help="replications per evaluated value (default: the scenario's)")
    p.add_argument("--days", type=positive_float, default=None, help="override horizon.days")
    p.add_argument("--tolerance", type=_fraction, default=None, metavar="FRACTION",
                   help="bisection stops at this fraction of each range (default 0.02)")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler address")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output directory (default: results/sensitivity/<scenario name>)")
    p.add_argument("--force", action="store_true",
                   help="run even when the analysis's work estimate (every evaluation it expects) is above the refusal limit (docs/safety.md)")
    p.add_argument("--task-timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="stop a run that takes longer than this and count it as failed (default: no limit)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..report import slug
    from ..scenario import load_scenario, read_text
    from ..sensitivity import ParamError, parse_param
    from ..sensitivity.comments import assumption_comments
    from ..scenario import scenario_from_dict
    from ..sensitivity.run import DEFAULT_TOLERANCE, _horizon, run_sensitivity
    from . import UserError
    from .display import progress_bar

    path = resolve_scenario_path(args.scenario)
    scn = load_scenario(path)
    try:
        params = [parse_param(t) for t in args.params] if args.params else None
    except ParamError as exc:
        raise UserError(str(exc)) from None
    if params and len({p.path for p in params}) < len(params):
        raise UserError("--param: a path is given more than once; vary each path once")
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    from ..policies import registry

    unknown = [n for n in [args.baseline, *(args.policies or [])] if registry.get(n) is None]
    if unknown:                                  # before any directory is created
        raise UserError(f"--policy/--baseline: unknown policy {unknown[0]!r}; available: "
                        f"{', '.join(registry.names())}")
    from ..schema import known_metric

    bad = [m for m in metrics or [] if not known_metric(m)]
    if bad:
        raise UserError(f"--metrics: unknown metric {bad[0]!r}; see docs/outputs.md for the metric names")
    out = args.out if args.out is not None else Path("results") / "sensitivity" / slug(scn.name)
    from ..outputs import OutputDir
    from .common import report_workload

    n_policies = len({args.baseline, *(args.policies or scn.policy_names())})
    reps = args.replications or scn.replications
    # one evaluation as it will run: with --days, over that horizon (not the file's) ...
    evaluated = scn if args.days is None else scenario_from_dict(
        _horizon(scn.to_dict(), args.days), source=str(path))
    # ... times the evaluations the analysis expects: each parameter's ends and centre, then
    # one bisection midpoint per round (a flip bracket each; more brackets can add more)
    try:
        estimate = _plan_estimate(evaluated, params, args, n_policies, reps)
    except ParamError as exc:            # a bad --param is its own one line, before any estimate
        raise UserError(str(exc)) from None
    report_workload(estimate, force=args.force, where=str(path))
    try:
        with OutputDir(out, "--out", "supportsim sensitivity") as output, \
                progress_bar("sensitivity") as advance:
            result = run_sensitivity(
                scn, params=params, policies=args.policies, baseline=args.baseline, metrics=metrics,
                replications=args.replications, tolerance=args.tolerance or DEFAULT_TOLERANCE,
                days=args.days, workers=args.workers, scheduler=args.scheduler, out=out,
                progress=advance, assumption_comments=assumption_comments(read_text(path)),
                output=output, task_timeout=args.task_timeout)
            output.commit({"software": "supportsim", "kind": "sensitivity", "scenario": scn.name})
    except ParamError as exc:
        raise UserError(str(exc)) from None
    for path_, why in result.skipped:
        print(f"skipped {path_}: {why}", file=sys.stderr)
    if result.failed_runs:
        print(f"warning: {result.failed_runs} run(s) failed; their values use fewer replications",
              file=sys.stderr)
    from ..report.assumptions import flip_sentences

    for line in flip_sentences(result):
        print(f"  - {line}")
    print(f"flip points: {out / 'flips.csv'}\ntornado:     {out / 'tornado.csv'}\nfigures:     "
          f"{out / 'tornado.png'}, {out / 'flip_lines.png'}")
    return 0


def _plan_estimate(evaluated, params, args, n_policies: int, reps: int):
    """The work of the whole analysis (:func:`sim.workload.estimate_plan` over its evaluations)."""
    import math

    from ..sensitivity.params import check_param, default_params
    from ..sensitivity.run import DEFAULT_TOLERANCE
    from ..workload import estimate_plan

    compared = [p for p in dict.fromkeys(args.policies or evaluated.policy_names()) if p != args.baseline]
    data = evaluated.to_dict()
    if params is None:
        params = default_params(data, compared, args.baseline)[0]
    else:
        for p in params:                 # ParamError (one line) for a path the scenario lacks
            check_param(data, p)
    tolerance = args.tolerance or DEFAULT_TOLERANCE
    rounds = math.ceil(math.log2(1 / tolerance)) + 2 if 0 < tolerance < 1 else 0
    evaluations = max(1, len(params) * (3 + rounds))
    return estimate_plan([(evaluated, n_policies, reps)] * evaluations, keep_tickets=False)
