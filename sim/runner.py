"""``simulate``: every requested policy x replication, optionally in parallel processes."""
from __future__ import annotations

from typing import Callable, Iterable, Optional

import numpy as np

from .engine import RunResult
from .policies import registry
from .results import (SimulationResult, backlog_frame, interruptions_frame, learned_frame,
                      teams_frame, tickets_frame)
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
    result.warnings.extend(stability_warnings(result))
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


def _raise(rec) -> None:
    from .policies.base import PolicyError

    if isinstance(rec.exception, Exception):
        raise rec.exception
    raise PolicyError(rec.error or "run failed") from rec.exception


def stability_warnings(result: SimulationResult, util_limit: float = 0.95) -> list[str]:
    """Flag runs that must not be read as steady-state results."""
    out: list[str] = []
    teams = result.teams
    if len(teams):
        mean_util = teams.groupby(["policy", "team"], observed=True)["utilisation"].mean()
        for (policy, team), u in mean_util.items():
            if u >= util_limit:
                out.append(f"unstable under {policy}: team {team} is {u:.0%} utilised "
                           f"(>= {util_limit:.0%}); its queue may not settle within the horizon")
    bl = result.backlog
    if len(bl):
        for policy, g in bl.groupby("policy", observed=True):
            growth = _backlog_growth(g, result.scenario.cycle_min)
            if growth is not None:
                out.append(f"unstable under {policy}: the backlog keeps growing "
                           f"(about {growth:.1f} tickets/day over the second half of the horizon)")
    return out


GROWTH_MIN_TICKETS = 5.0      # growth over the second half worth calling instability ...
GROWTH_MIN_SHARE = 0.25       # ... and relative to the backlog's level there


def _backlog_growth(g, cycle_min: Optional[float]) -> Optional[float]:
    """Growth (tickets/day) of the waiting backlog over the second half, if clear and material.

    The backlog is averaged over whole cycles (a week or a day when the scenario
    has weekly or daily patterns, else a day) and the trend is fitted to those
    averages, so a busy Monday after a closed weekend does not look like growth.
    Growth is *material* when, over the second half, it adds at least
    GROWTH_MIN_TICKETS tickets and GROWTH_MIN_SHARE of the backlog's level there
    (an overloaded queue grows by about two thirds of its level in that time; a
    stable one by nothing but noise), and *clear* when, with two or more
    replications, the 95 % t-interval of the slopes lies above zero.
    """
    from .analysis import t_interval

    period = cycle_min or 1440.0
    slopes, growth, level = [], [], []
    for _, r in g.groupby("replication"):
        t = r["time_min"].to_numpy()
        if len(t) < 10:
            continue
        y = r["waiting"].to_numpy(dtype=float)
        mid = t[0] + (t[-1] - t[0]) / 2
        half_days = (t[-1] - mid) / 1440.0
        k = np.floor((t - mid) / period)
        means = [(kk, y[k == kk].mean()) for kk in np.unique(k[k >= 0])
                 if (k == kk).sum() * (t[1] - t[0]) >= 0.99 * period]
        if len(means) < 2:
            # fewer than two whole cycles in the second half: compare the last two whole
            # cycles of the window (same phase, so the pattern cancels); shorter: not assessed
            end = t[-1] + (t[1] - t[0])
            if end - t[0] < 2 * period:
                continue
            last = y[t >= end - period].mean()
            prev = y[(t >= end - 2 * period) & (t < end - period)].mean()
            slope = (last - prev) / (period / 1440.0)
            level.append((last + prev) / 2)
        else:
            kk, mm = np.array(means).T
            slope = np.polyfit(kk * period / 1440.0, mm, 1)[0]
            level.append(mm.mean())
        slopes.append(slope)
        growth.append(slope * half_days)
    if not slopes:
        return None
    mean_slope, half_width, n = t_interval(np.asarray(slopes))
    added = float(np.mean(growth))
    material = added >= max(GROWTH_MIN_TICKETS, GROWTH_MIN_SHARE * float(np.mean(level)))
    clear = n < 2 or (half_width == half_width and mean_slope - half_width > 0)
    return float(mean_slope) if material and clear else None
