"""Running a one-at-a-time sensitivity analysis: tornado plus flip points by bisection.

For each parameter, every evaluated value is simulated for the baseline and
each compared policy with the scenario's seed and the same replications
(common random numbers: the same customers at every value, so the difference
between two values is the parameter's effect, not new luck).  Round 0
evaluates the scenario itself and each range's two ends; each further round
evaluates, in one parallel batch, the midpoints of every bracket still wider
than the tolerance (:func:`sim.sensitivity.analysis.next_values`).

Runs are identified by a hash of what determines them (the policy, its
replication, the seed and the scenario as that policy sees it), so a value two
brackets share runs once, a policy parameter does not re-run the other
policies, and an interrupted analysis resumes where it stopped: each finished
run is saved at once in ``DIR/runs/``.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import pandas as pd

from ..outputs.jsonfile import read_json
from ..scenario import Scenario, ScenarioError, scenario_from_dict
from .analysis import (FLIPS_COLUMNS, FLIPS_EXTRA_COLUMNS, POINTS_COLUMNS, TORNADO_COLUMNS, Evaluated, flip_rows, next_values,
                       paired_at, tornado_rows, unstable_at, unstable_note, unstable_policies,
                       verdict_metrics)
from .execute import RunRecord, RunTask, run_tasks, session, task as evaluation_task
from .params import Param, ParamError, apply_value, base_value, check_param, default_params
from .result import PlainWriter, SensitivityResult, fingerprint

__all__ = ["run_sensitivity", "DEFAULT_TOLERANCE", "QUICK"]

#: bisection stops when a bracket is at most this fraction of the parameter's range
DEFAULT_TOLERANCE = 0.02
#: the main job's coarse analysis: (replications, horizon days, tolerance)
QUICK_REPLICATIONS, QUICK_DAYS, QUICK_TOLERANCE = 3, 20.0, 0.125
QUICK = {"replications": QUICK_REPLICATIONS, "days": QUICK_DAYS, "tolerance": QUICK_TOLERANCE}

Progress = Callable[[int, int], None]


def _run_key(policy: str, replication: int, seed: int, data: dict) -> str:
    """What a run's result depends on: its own policy's parameters, not the others'.

    A built-in policy that never swarms never meets the swarm frictions (the engine applies
    them only to a :class:`~sim.policies.Swarm` decision), so they are left out of its key:
    varying them re-runs only the policies that swarm.
    """
    from .params import SWARMING_POLICIES

    mine = dict(data)
    pols = data.get("policies") or {}
    mine["policies"] = {policy: pols.get(policy) or {}}
    for k in ("name", "description", "replications"):
        mine.pop(k, None)
    if policy in NON_SWARMING_BUILTINS and policy not in SWARMING_POLICIES:
        mine["frictions"] = {k: v for k, v in (data.get("frictions") or {}).items()
                             if not k.startswith("swarm_")}
    text = json.dumps([policy, replication, seed, mine], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


#: built-in policies whose decisions are never a Swarm (checked in tests/test_sensitivity.py)
NON_SWARMING_BUILTINS = ("tiered", "skill_routing", "tiered_warm_handoff", "tiered_skip", "tiered_pull")


class _Store:
    """Finished runs by key: in memory, and one JSON file each under ``DIR/runs`` when saving."""

    def __init__(self, out: Optional[Path], writer: Any = None) -> None:
        self.dir = None if out is None else Path(out) / "runs"
        self.writer = writer
        self.metrics: dict[str, dict[str, float]] = {}
        self.errors: dict[str, str] = {}
        if self.dir is not None and self.dir.is_dir():
            for f in sorted(self.dir.glob("*.json")):
                try:
                    rec = read_json(f)
                    self.metrics[f.stem] = {k: (math.nan if v is None else float(v))
                                            for k, v in rec["metrics"].items()}
                except (OSError, ValueError, KeyError, TypeError, AttributeError):
                    continue                      # a damaged file: that run simply runs again
                if writer is not None:
                    writer.adopt(f)               # kept: this analysis reuses it

    def add(self, done: RunRecord, task: RunTask) -> None:
        """A finished run: its metric row (numbers only, as floats), or why it failed."""
        if done.metrics is None or done.error is not None:
            self.errors[done.key] = done.error or "failed"
            return
        metrics = {k: float(v) for k, v in done.metrics.items() if isinstance(v, (int, float))}
        self.metrics[done.key] = metrics
        if self.dir is not None and self.writer is not None:
            rec = {"policy": task.policy, "replication": task.replication, "seed": task.seed,
                   "metrics": {k: (None if math.isnan(v) else v) for k, v in metrics.items()}}
            text = json.dumps(rec, sort_keys=True)
            self.writer.write(f"runs/{done.key}.json", lambda p: p.write_text(text, encoding="utf-8"))


def _horizon(data: dict, days: Optional[float]) -> dict:
    if days is None:
        return data
    h = dict(data.get("horizon") or {})
    h["days"] = float(days)
    if float(h.get("warmup_days", 0.0)) >= days:
        h["warmup_days"] = float(days) / 4
    out = dict(data)
    out["horizon"] = h
    return out


def run_sensitivity(scenario: Scenario, *, params: Optional[Sequence[Param]] = None,
                    policies: Optional[Sequence[str]] = None, baseline: str = "tiered",
                    metrics: Optional[Sequence[str]] = None, replications: Optional[int] = None,
                    tolerance: float = DEFAULT_TOLERANCE, days: Optional[float] = None,
                    workers: Optional[int] = None, scheduler: Optional[str] = None,
                    out: Optional[str | Path] = None, progress: Optional[Progress] = None,
                    quick: bool = False, assumption_comments: Sequence[str] = (),
                    seed: Optional[int] = None, output: Any = None,
                    task_timeout: Optional[float] = None) -> SensitivityResult:
    """Tornado and flip points of ``policies`` against ``baseline`` on ``scenario``.

    ``params`` default to the contested assumptions (:func:`default_params`; the ones
    that do not apply are listed in ``result.skipped``); ``metrics`` to the verdict's;
    ``replications`` to the scenario's; ``days`` overrides the horizon (the main job's
    quick analysis); ``tolerance`` is a fraction of each parameter's range.  With ``out``
    the runs and the tables are saved there, and a second call resumes; ``output`` is the
    CLI's open :class:`sim.outputs.OutputDir` of ``out`` (files join its manifest).
    ``task_timeout``: seconds one run may take; a run past it is stopped and counted as
    failed (``result.failed_runs``), like any failed run.
    """
    from ..policies import registry

    seed = scenario.seed if seed is None else int(seed)
    reps = scenario.replications if replications is None else int(replications)
    if reps < 1:
        raise ScenarioError([f"replications: must be >= 1, got {reps}"])
    if not 0 < tolerance < 1:
        raise ScenarioError([f"tolerance: must be a fraction of the range in (0, 1), got {tolerance}"])
    compared = [p for p in dict.fromkeys(policies if policies is not None else scenario.policy_names())
                if p != baseline]
    unknown = [p for p in [baseline, *compared] if registry.get(p) is None]
    if unknown:
        raise ScenarioError([f"policy {p!r}: unknown; available: {', '.join(registry.names())}" for p in unknown])
    if not compared:
        raise ScenarioError([f"nothing to compare: every policy given is the baseline {baseline!r}"])
    metric_list = list(metrics) if metrics else verdict_metrics()
    from ..schema import known_metric

    bad = [m for m in metric_list if not known_metric(m)]
    if bad:
        raise ScenarioError([f"--metrics: unknown metric {m!r} (see docs/outputs.md)" for m in bad])
    run_policies = [baseline, *compared]

    data0 = scenario.to_dict()
    data = _horizon(data0, days)
    base_scn = scenario_from_dict(data, source=f"<{scenario.name}>")
    skipped: list[tuple[str, str]] = []
    if params is None:
        params, skipped = default_params(data, compared, baseline)
    params = list(params)
    twice = sorted({p.path for p in params if sum(q.path == p.path for q in params) > 1})
    if twice:
        raise ParamError(f"--param {twice[0]}: given more than once; vary each path once")
    targets = {p.path: check_param(data, p) for p in params}
    centres = {p.path: base_value(base_scn, data, p) for p in params}

    writer = output if output is not None else (PlainWriter(Path(out)) if out is not None else None)
    store = _Store(Path(out) if out is not None else None, writer)
    counter = {"done": 0, "total": 0}
    scenarios: dict[tuple[str, float], Scenario] = {}

    def scenario_at(p: Param, v: float) -> tuple[Scenario, dict]:
        if centres[p.path] is not None and v == centres[p.path]:
            return base_scn, data                # the scenario as written (an unset key stays unset)
        d = apply_value(data, p, v, targets[p.path])
        if (p.path, v) not in scenarios:
            scenarios[(p.path, v)] = scenario_from_dict(d, source=f"<{scenario.name}: {p.path}={v:g}>")
        return scenarios[(p.path, v)], d

    def keys_at(p: Param, v: float) -> dict[tuple[str, int], tuple[str, Scenario]]:
        scn, d = scenario_at(p, v)
        return {(pol, r): (_run_key(pol, r, seed, d), scn) for pol in run_policies for r in range(reps)}

    def evaluate(points: list[tuple[Param, float]]) -> None:
        tasks: dict[str, RunTask] = {}
        for p, v in points:
            for (pol, r), (key, scn) in keys_at(p, v).items():
                if key not in store.metrics and key not in store.errors and key not in tasks:
                    tasks[key] = evaluation_task(key, scn, pol, r, seed)
        counter["total"] += len(tasks)
        if progress:
            progress(counter["done"], counter["total"])

        def on_record(done: RunRecord) -> None:
            store.add(done, tasks[done.key])
            counter["done"] += 1
            if progress:
                progress(counter["done"], counter["total"])

        run_tasks(list(tasks.values()), on_record, workers=workers, scheduler=scheduler,
                  backend=backend_box[0], timeout=task_timeout)

    evaluated = {p.path: Evaluated(p, centres[p.path]) for p in params}
    point_rows: list[pd.DataFrame] = []

    def collect(points: list[tuple[Param, float]]) -> None:
        for p, v in points:
            rows = []
            for (pol, r), (key, _) in keys_at(p, v).items():
                m = store.metrics.get(key)
                if m is not None:
                    rows.append({"policy": pol, "replication": r, **m})
            if not rows:
                continue
            per_rep = pd.DataFrame(rows)
            if baseline not in set(per_rep["policy"]):
                continue
            diffs = paired_at(per_rep, baseline, metric_list)
            evaluated[p.path].diffs[v] = {(str(a), str(b)): float(d) for a, b, d in
                                          zip(diffs["policy"], diffs["metric"], diffs["diff_mean"])}
            busy = unstable_policies(per_rep)
            diffs["unstable"] = [" ".join(x for x in (a, baseline) if x in busy) for a in diffs["policy"]]
            point_rows.append(diffs.assign(parameter=p.path, value=v))

    all_pairs = [(pol, m) for pol in compared for m in metric_list]

    def pairs_of(p: Param) -> list[tuple[str, str]]:
        """A policy's own parameter moves only that policy (the others' runs are identical)."""
        if p.path.startswith("policies.") and p.path.split(".")[1] in compared:
            return [(pol, m) for pol, m in all_pairs if pol == p.path.split(".")[1]]
        return all_pairs

    first = []
    for p in params:
        c = centres[p.path]
        first += [(p, p.low), (p, p.high)]
        if c is not None and p.low < c < p.high:
            first.append((p, c))
    backend_box: list[Any] = [None]
    with session(workers, scheduler) as backend:         # worker processes start once
        backend_box[0] = backend
        evaluate(first)
        seen = {m for rec in store.metrics.values() for m in rec}
        metric_list = [m for m in metric_list if m in seen]      # e.g. service_level needs targets
        all_pairs[:] = [(pol, m) for pol in compared for m in metric_list]
        collect(first)
        max_rounds = math.ceil(math.log2(1 / tolerance)) + 2
        for _ in range(max_rounds):
            todo = [(p, v) for p in params
                    for v in next_values(evaluated[p.path], pairs_of(p), tolerance * (p.high - p.low))]
            if not todo:
                break
            evaluate(todo)
            collect(todo)

    points = (pd.concat(point_rows, ignore_index=True)[[*POINTS_COLUMNS, "unstable"]] if point_rows
              else pd.DataFrame(columns=[*POINTS_COLUMNS, "unstable"]))
    points = points.sort_values(["parameter", "policy", "metric", "value"], kind="stable").reset_index(drop=True)
    tornado = []
    for p in params:
        rows = tornado_rows(p, [v for v in (p.low, centres[p.path], p.high) if v is not None], points)
        own = {pol for pol, _ in pairs_of(p)}
        tornado.append(rows[rows["policy"].isin(own)])      # a policy's own parameter: that policy
    tornado_df = (pd.concat(tornado, ignore_index=True) if tornado
                  else pd.DataFrame(columns=[*TORNADO_COLUMNS, "kind"]))
    flips = [row for p in params for row in flip_rows(evaluated[p.path], pairs_of(p), baseline)]
    for row in flips:
        extra = unstable_note(points, row)
        if extra:
            row["note"] = f"{row['note']}; {extra}" if row["note"] else extra
            row["unstable"] = " ".join(unstable_at(points, row)[0])
    flips_df = pd.DataFrame(flips, columns=[*FLIPS_COLUMNS, *FLIPS_EXTRA_COLUMNS])
    result = SensitivityResult(
        scenario=scenario.name, fingerprint=fingerprint(data0, seed), seed=seed, replications=reps,
        horizon_days=float(data["horizon"]["days"]), policies=compared, baseline=baseline,
        metrics=metric_list, params=params, base_values=centres, tolerance=tolerance,
        tornado=tornado_df, flips=flips_df, points=points, skipped=skipped, quick=quick,
        assumption_comments=list(assumption_comments), failed_runs=len(store.errors))
    if out is not None:
        from .figures import write_figures

        write_figures(result, Path(out), writer)
        result.save(out, writer)
    return result
