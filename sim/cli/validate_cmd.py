"""``validate SCENARIO``: check a scenario file without running it."""
from __future__ import annotations

import sys

from ..scenario import load_scenario, scenario_warnings
from .common import resolve_scenario_path


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check a scenario file and report every problem")
    p.add_argument("scenario", help="scenario YAML file")
    p.set_defaults(func=run)


def run(args) -> int:
    path = resolve_scenario_path(args.scenario)
    scn = load_scenario(path)
    for w in scenario_warnings(scn):
        print(f"warning: {path}: {w}", file=sys.stderr)
    from ..workload import check_work, estimate_work

    warning, error = check_work(estimate_work(scn, len(scn.policy_names())))
    if error:     # valid, but `run` would refuse it without --force: say so now
        print(f"warning: {path}: {error.replace('this run is too big', 'run would refuse this')}",
              file=sys.stderr)
    elif warning:
        print(f"warning: {path}: {warning}", file=sys.stderr)
    print(f"{path}: ok ({len(scn.teams)} teams, {sum(t.agents for t in scn.teams)} agents, "
          f"{len(scn.issues)} issue types, policies: {', '.join(scn.policy_names())})")
    return 0
