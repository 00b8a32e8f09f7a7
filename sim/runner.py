"""``simulate``: every requested policy x replication, optionally in parallel processes."""
from __future__ import annotations

from typing import Callable, Iterable, Optional

import numpy as np

from .engine import RunResult
from .policies import registry
from .results import (SimulationResult, backlog_frame, interruptions_frame, learned_frame,
                      team_columns, teams_frame, tickets_frame)
from .scenario import Scenario, ScenarioError, scenario_warnings

ProgressFn = Callable[[int, int], None]


def simulate(scenario: Scenario, policies: Optional[Iterable[str]] = None,
             replications: Optional[int] = None, seed: Optional[int] = None,
             workers: Optional[int] = 1, progress: Optional[ProgressFn] = None,
             trace: bool = False, timeout: Optional[float] = None) -> SimulationResult:
    """Run ``policies`` x ``replications`` on ``scenario``; ``None`` means the scenario's own.

    Replication *r* of every policy uses the same customers (common random
    numbers keyed by ``(seed, r)``), and results do not depend on ``workers``.
    ``trace=True`` keeps every run's activity trace (compactly, as
    :class:`sim.eventlog.TraceTable`) in ``result.traces`` for event-log export.
    ``workers``: local processes (``None``: every core); ``timeout``: seconds
    each run may take before it is stopped (a policy hook stuck in a loop then
    fails the call with a :class:`~sim.policies.PolicyError` instead of hanging).
    """
    if isinstance(policies, str):
        policies = [policies]
    # each policy once, in the order asked (naming one twice would only repeat its runs)
    names = list(dict.fromkeys(policies if policies is not None else scenario.policy_names()))
    unknown = [p for p in names if registry.get(p) is None]
    if unknown:
        raise ScenarioError([f"policy {p!r}: unknown; available: {', '.join(registry.names())}"
                             for p in unknown])
    if not names:
        raise ScenarioError(["no policies to run"])
    reps = scenario.replications if replications is None else int(replications)
    seed = scenario.seed if seed is None else int(seed)
    if reps < 1:
        raise ScenarioError([f"replications: must be >= 1, got {reps}"])
    if seed < 0:
        raise ScenarioError([f"seed: must be >= 0, got {seed}"])
    tasks = [(p, r) for p in names for r in range(reps)]
    runs = _execute(scenario, tasks, seed, workers, progress, trace, timeout)
    runs.sort(key=lambda run: (names.index(run.policy), run.replication))
    warnings = scenario_warnings(scenario)
    result = SimulationResult(
        scenario=scenario, seed=seed, replications=reps, policies=names,
        tickets=tickets_frame(runs, scenario, names), teams=teams_frame(runs, scenario, names),
        backlog=backlog_frame(runs, names), warnings=warnings,
        learned=learned_frame(runs, names) if scenario.learning is not None else None,
        interruptions=interruptions_frame(runs, names) if any(r.interruptions for r in runs) else None)
    result.warnings.extend(_stability(runs, names, scenario, result))
    if trace:
        result.traces = [run.trace for run in runs]
    return result


def _execute(scenario: Scenario, tasks, seed: int, workers: Optional[int],
             progress: Optional[ProgressFn], trace: bool = False,
             timeout: Optional[float] = None) -> list[RunResult]:
    """Every (policy, replication) through the one execution path (:mod:`sim.execution`).

    A failed run raises here, as it did when runs were called directly: the
    original exception in-process (a :class:`PolicyError` keeps its type and
    message); from a worker, its type when it could be sent back, else a
    PolicyError carrying the worker's one-line error.
    """
    from .execution import RunTask, backend_for, iter_execute

    total = len(tasks)
    run_tasks = [RunTask(key=(p, r), scenario=scenario, policy=p, replication=r, seed=seed,
                         policy_cls=registry.get(p), trace=trace, raw=True, measure=False)
                 for p, r in tasks]
    n = workers if workers is not None else None
    backend = backend_for(1 if total == 1 else n)
    runs: list[RunResult] = []
    try:
        for i, rec in enumerate(iter_execute(run_tasks, backend, timeout=timeout)):
            if not rec.ok:
                _raise(rec)
            runs.append(rec.run)
            if progress:
                progress(i + 1, total)
    finally:
        backend.close()
    return runs


def _stability(runs: list[RunResult], names: list[str], scenario: Scenario,
               result: SimulationResult) -> list[str]:
    """The stability warnings of ``result``, from the runs' columns the tables were built from
    (reading the pandas tables back cost ~1 ms of a small run: issue 16); the same findings."""
    from .analysis.stability import findings_of, mean_utilisation

    codes: list[int] = []
    teams: list[str] = []
    util: list[float] = []
    for run in runs:
        own = team_columns(run, scenario)
        codes.extend([names.index(run.policy)] * len(own["team"]))
        teams.extend(own["team"])
        util.extend(float(u) for u in own["utilisation"])
    pairs = mean_utilisation(codes, teams, util, names) if codes else []
    if pairs is None:           # three or more replications: pandas' mean, from the table
        return stability_warnings(result)
    groups = []
    for name in names:          # backlog_frame's rows of each policy, in its order
        mine = [run for run in runs if run.policy == name and len(run.backlog["time_min"])]
        if not mine:
            continue
        cols = {"replication": [np.full(len(r.backlog["time_min"]), r.replication, dtype=np.int32) for r in mine],
                "time_min": [np.frombuffer(r.backlog["time_min"], dtype="d") for r in mine],
                "waiting": [np.frombuffer(r.backlog["waiting"], dtype=r.backlog["waiting"].typecode)
                            for r in mine]}
        groups.append((name, {k: v[0] if len(v) == 1 else np.concatenate(v) for k, v in cols.items()}))
    return [f.message for f in findings_of(pairs, groups, scenario)]


def _raise(rec) -> None:
    from .policies.base import PolicyError

    if isinstance(rec.exception, Exception):
        raise rec.exception
    raise PolicyError(rec.error or "run failed") from rec.exception


# stability is analysis (sim.analysis.stability, typed findings); kept importable from here
from .analysis.stability import (GROWTH_MIN_SHARE, GROWTH_MIN_TICKETS,  # noqa: E402,F401
                                 backlog_growth as _backlog_growth, stability_warnings)
