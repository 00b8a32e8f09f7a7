"""Write a staffing search's results: the answer per policy, every evaluation, staffed scenarios.

Reads the :class:`~sim.staffing.driver.StaffingOutcome` only; every file is
written atomically (``sim.atomic``), so an interrupted command never leaves a
half-written table that looks complete.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..outputs.cells import csv_safe_frame   # names: no spreadsheet formulas
from ..atomic import atomic_write, write_text
from ..policies import registry
from ..scenario import scenario_from_dict
from .driver import CONFIRM_SEED_OFFSET, Evaluation, PolicyOutcome, StaffingOutcome, window_hours
from .store import policy_slug, scenario_identity, staffing_key

__all__ = ["write_outputs", "summary_frame", "staffing_frame", "evaluations_frame", "staffed_scenario"]


def _iv(ev: Evaluation, metric: str) -> tuple[float, float, float]:
    iv = ev.intervals.get(metric)
    return (iv.mean, iv.low, iv.high) if iv is not None else (math.nan,) * 3


def staffing_frame(o: StaffingOutcome) -> pd.DataFrame:
    """policy, team, agents, cost_per_hour (+ current_agents, changeable)."""
    rows = []
    for p in o.policies:
        for t in o.scenario.teams:
            rows.append({"policy": p.policy, "team": t.name, "agents": p.staffing[t.name],
                         "cost_per_hour": t.cost_per_hour, "current_agents": t.agents,
                         "changeable": t.name in o.changeable})
    return pd.DataFrame(rows)


def summary_frame(o: StaffingOutcome) -> pd.DataFrame:
    """One row per policy: feasible, payroll, evaluations, and mean/ci of every target metric."""
    rows = []
    hours = window_hours(o.scenario)
    for p in o.policies:
        ev = p.evaluation
        row: dict[str, Any] = {
            "policy": p.policy, "feasible": p.feasible,
            "payroll_per_hour": _iv(ev, "payroll")[0] / hours,
            "payroll_per_resolved": _iv(ev, "payroll_per_resolved")[0],
            "evaluations": p.evaluations,
        }
        for t in o.options.targets:
            mean, low, high = _iv(ev, t.metric)
            row.update({f"{t.metric}_mean": mean, f"{t.metric}_ci_low": low, f"{t.metric}_ci_high": high})
        utils = {t.name: _iv(ev, f"utilisation_{t.name}") for t in o.scenario.teams}
        row["max_utilisation_ci_high"] = max(u[2] for u in utils.values())
        row.update({"payroll": _iv(ev, "payroll")[0], "seed": ev.seed, "replications": ev.replications,
                    "staffing": staffing_key(o.teams, ev.staffing), "note": p.note})
        rows.append(row)
    return pd.DataFrame(rows)


def evaluations_frame(o: StaffingOutcome) -> pd.DataFrame:
    """Every staffing tried (per policy and set of replications) with every metric's mean and interval."""
    hours = window_hours(o.scenario)
    rows = []
    for e in o.evaluations:
        row: dict[str, Any] = {"policy": e.policy, "order": e.order, "stage": e.stage, "role": e.role,
                               "seed": e.seed, "replications": e.replications,
                               "staffing": staffing_key(o.teams, e.staffing)}
        row.update({f"agents_{t}": n for t, n in zip(o.teams, e.staffing)})
        row["payroll_per_hour"] = e.intervals["payroll"].mean / hours
        row["feasible"] = e.feasible
        row["violation"] = e.violation
        for metric, iv in e.intervals.items():
            row.update({metric: iv.mean, f"{metric}_ci_low": iv.low, f"{metric}_ci_high": iv.high})
        rows.append(row)
    return pd.DataFrame(rows)


def staffed_scenario(o: StaffingOutcome, p: PolicyOutcome) -> dict[str, Any]:
    """The scenario with the policy's staffing, seed and replications: ``run`` on it reproduces."""
    data = o.scenario.to_dict()
    for team in data["teams"]:
        team["agents"] = int(p.staffing[team["name"]])
    data["name"] = f"{o.scenario.name}-staffed-{p.policy}"
    data["seed"] = int(p.evaluation.seed)
    data["replications"] = int(p.evaluation.replications)
    data["policies"] = {p.policy: dict((o.scenario.policies or {}).get(p.policy, {}))}
    scenario_from_dict(data, source=f"<staffed {p.policy}>")     # it must validate
    return data


def _yaml_header(o: StaffingOutcome, p: PolicyOutcome) -> str:
    targets = ", ".join(str(t) for t in o.options.targets)
    seed_kind = ("the fresh confirmation replications" if p.evaluation.seed == o.seed + CONFIRM_SEED_OFFSET
                 else "the search replications")
    return (f"# Staffing for policy {p.policy} found by `run_sim.py staff` on scenario {o.scenario.name}:\n"
            f"# targets {targets}; utilisation cap {o.options.max_utilisation:g} on every team.\n"
            f"# {'Meets every target and the cap' if p.feasible else 'INFEASIBLE: the best staffing reached'}"
            f" (95 % intervals); seed and replications are those of {seed_kind},\n"
            f"# so `run` on this file reproduces the numbers of staffing_summary.csv"
            + (f" (load the plug-in policy {p.policy} with --plugin, as for staff).\n"
               if p.policy not in registry.builtin_names() else ".\n"))


def write_outputs(o: StaffingOutcome, out: str | Path) -> dict[str, Path]:
    out = Path(out)
    paths = {"staffing": out / "staffing.csv", "summary": out / "staffing_summary.csv",
             "evaluations": out / "evaluations.parquet", "manifest": out / "staffing.json"}
    staffing = staffing_frame(o)
    summary = summary_frame(o)
    evals = evaluations_frame(o)
    atomic_write(paths["staffing"], lambda p: csv_safe_frame(staffing).to_csv(p, index=False))
    atomic_write(paths["summary"], lambda p: csv_safe_frame(summary).to_csv(p, index=False))
    atomic_write(paths["evaluations"], lambda p: evals.to_parquet(p, index=False))
    for p in o.policies:
        data = staffed_scenario(o, p)
        path = out / "staffed" / f"{policy_slug(p.policy)}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, _yaml_header(o, p) + yaml.safe_dump(data, sort_keys=False))
        paths[f"staffed:{p.policy}"] = path
    manifest = {
        "scenario": o.scenario.name, "scenario_identity": scenario_identity(o.scenario.to_dict()),
        "targets": [str(t) for t in o.options.targets],
        "max_utilisation": o.options.max_utilisation, "teams_changeable": o.changeable,
        "min_agents": o.options.min_agents, "max_agents": o.options.max_agents,
        "seed": o.seed, "confirm_seed": o.confirm_seed, "replications": o.replications,
        "policies": [p.policy for p in o.policies], "seconds": round(o.seconds, 2),
        "runs_simulated": o.runs_simulated, "runs_reused": o.runs_reused,
    }
    write_text(paths["manifest"], json.dumps(manifest, indent=2))
    return paths
