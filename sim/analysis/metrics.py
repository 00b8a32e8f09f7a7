"""Per-replication metrics and their confidence intervals. Reads results only.

Replications are the independent observations: every metric is first
computed per (policy, replication) — optionally per segment or issue type
too — then summarised across replications with a Student-t confidence
interval.  Pooling tickets across replications would understate the
uncertainty, because tickets of one replication share its queue history.

**A new metric is one catalogue entry plus one function.**  What a metric is
(label, unit, kind, better, verdict) lives in :data:`sim.schema.METRICS`; how
it is computed is the one function registered here under the same name:

- :func:`ticket_metric` — a function of one group of tickets
  (:class:`TicketGroup`), so it is computed per replication *and* per segment
  and issue type;
- :func:`replication_metric` — a function of the whole replication
  (:class:`Replications`: tickets, teams and scenario), e.g. payroll.

``present`` says when the scenario makes the metric meaningful (a target
metric the scenario never asked for is noise, not a result); ``needs`` names
the ticket columns it reads (older saved tables may lack them).  Columns come
out in catalogue order.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Optional, Sequence

import numpy as np
import pandas as pd
from scipy import special   # stdtrit = Student t quantile (what stats.t.ppf calls); scipy.stats costs ~47 MiB per process

from ..schema import METRICS, UTILISATION_PREFIX, is_share_metric, known_metric, metric_label
from ..schema.vocabulary import ABANDONED, OPEN, RESOLVED
from ..schema import METRIC_LABELS  # noqa: F401 - re-exported for older imports

__all__ = ["replication_metrics", "group_metrics", "summarize", "t_interval", "METRIC_LABELS",
           "ticket_targets", "metric_label", "is_share_metric", "ticket_metric",
           "replication_metric", "TICKET_METRICS", "REPLICATION_METRICS", "TicketGroup",
           "Replications", "paid_minutes", "payroll_frame", "metric_rows", "target_flags",
           "pandas_mean", "pandas_sum", "group_sums", "group_means"]

def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence half-width of independent observations."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), n
    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * values.std(ddof=1) / np.sqrt(n))
    return mean, half, n


def ticket_targets(tickets: pd.DataFrame, scenario: Any = None) -> pd.DataFrame:
    """Per ticket: whether it counts for, and met, its segment's service targets.

    ``sl_eligible``/``sl_met`` concern ``first_response_target`` (first agent
    touch within the target), ``rt_eligible``/``rt_met`` ``resolution_target``.
    A ticket never touched (abandoned or still waiting) missed the target —
    except one still waiting at the horizon that has not yet waited as long as
    the target: its outcome is unknown, so it is left out (censored).
    """
    n = len(tickets)
    if scenario is None or n == 0:
        flags = {k: np.zeros(n, bool) for k in ("sl_eligible", "sl_met", "rt_eligible", "rt_met")}
    else:
        codes, names = _codes(tickets["segment"])
        flags = target_flags(codes, names, _is(tickets["outcome"], OPEN),
                             tickets["arrival_min"].to_numpy(dtype=float),
                             tickets["first_response_min"].to_numpy(dtype=float),
                             tickets["resolution_min"].to_numpy(dtype=float), scenario)
    return pd.DataFrame(flags, index=tickets.index)


def target_flags(segment: np.ndarray, segment_names: Sequence[str], still_open: np.ndarray,
                 arrival: np.ndarray, first_response: np.ndarray, resolution: np.ndarray,
                 scenario: Any) -> dict[str, np.ndarray]:
    """:func:`ticket_targets` on plain arrays: ``segment`` holds codes into ``segment_names``
    (-1: none), ``still_open`` the tickets open at the horizon; the four flags as bool arrays.

    The one rule for service targets, shared by the ticket table's breach columns, the
    service-level metrics and the sweep's table-free metric rows (issue 16)."""
    n = len(segment)
    out = {k: np.zeros(n, bool) for k in ("sl_eligible", "sl_met", "rt_eligible", "rt_met")}
    segs = list(scenario.segments)
    fr = {s.name: s.first_response_target for s in segs if s.first_response_target is not None}
    rt = {s.name: s.resolution_target for s in segs if s.resolution_target is not None}
    age_at_end = scenario.horizon_min - np.asarray(arrival, dtype=float)
    if fr:
        target = _lookup(segment, segment_names, fr)
        first = np.asarray(first_response, dtype=float)
        has_target = ~np.isnan(target)
        censored = np.isnan(first) & still_open & (age_at_end < target)
        out["sl_eligible"] = has_target & ~censored
        out["sl_met"] = out["sl_eligible"] & (first <= target)   # NaN compares False
    if rt:
        target = _lookup(segment, segment_names, rt)
        res = np.asarray(resolution, dtype=float)
        has_target = ~np.isnan(target)
        censored = still_open & (age_at_end < target)
        out["rt_eligible"] = has_target & ~censored
        out["rt_met"] = out["rt_eligible"] & (res <= target)
    return out


def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Category codes and names of a label column (fast; str conversion of 10^5 rows is not)."""
    cat = series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")
    return cat.cat.codes.to_numpy(), [str(c) for c in cat.cat.categories]


def _is(series: pd.Series, value: str) -> np.ndarray:
    codes, names = _codes(series)
    return codes == names.index(value) if value in names else np.zeros(len(series), bool)


def _lookup(codes: np.ndarray, names: Sequence[str], values: dict[str, float]) -> np.ndarray:
    """Look a float up per row by its label's code (NaN where the label has no value)."""
    table = np.array([values.get(n, np.nan) for n in names] + [np.nan], dtype=float)
    return table[codes]        # code -1 (missing label) picks the trailing NaN


def _share(mask: np.ndarray, of: np.ndarray) -> float:
    k = int(of.sum())
    return float(mask[of].mean()) if k else np.nan



# ------------------------------------------------------------------------ the registry
Present = Callable[[pd.DataFrame, Any], bool]     # (whole ticket table, scenario) -> keep?


@dataclass(frozen=True)
class _Entry:
    fn: Callable[..., Any]
    present: Optional[Present]
    needs: tuple[str, ...]


#: metric name -> how to compute it from one group of tickets
TICKET_METRICS: dict[str, _Entry] = {}
#: metric name -> how to compute it from a whole replication (per (policy, replication) only)
REPLICATION_METRICS: dict[str, _Entry] = {}


def _register(table: dict[str, _Entry], name: str, present: Optional[Present],
              needs: Sequence[str]) -> Callable:
    if name not in METRICS:
        raise KeyError(f"metric {name!r} has no entry in sim.schema.METRICS; add one there first")
    if name in TICKET_METRICS or name in REPLICATION_METRICS:
        raise KeyError(f"metric {name!r} is registered twice")

    def deco(fn: Callable) -> Callable:
        table[name] = _Entry(fn, present, tuple(needs))
        return fn
    return deco


def ticket_metric(name: str, present: Optional[Present] = None, needs: Sequence[str] = ()) -> Callable:
    """Register ``fn(group: TicketGroup) -> float`` as the way to compute metric ``name``."""
    return _register(TICKET_METRICS, name, present, needs)


def replication_metric(name: str, present: Optional[Present] = None,
                       needs: Sequence[str] = ()) -> Callable:
    """Register ``fn(reps: Replications) -> array`` (one value per row of ``reps.keys``)."""
    return _register(REPLICATION_METRICS, name, present, needs)


class TicketGroup:
    """The tickets of one (policy, replication[, group]) and their target flags.

    Shared intermediates (resolved mask, resolution times, cost) are computed once
    per group and reused by every metric function.
    """

    def __init__(self, tickets: pd.DataFrame, targets: pd.DataFrame) -> None:
        self.g = tickets
        self.t = targets
        self.n = len(tickets)

    def col(self, name: str) -> pd.Series:
        return self.g[name]

    @cached_property
    def resolved(self) -> np.ndarray:
        return self.g["_resolved"].to_numpy()

    @cached_property
    def n_resolved(self) -> int:
        return int(self.resolved.sum())

    @cached_property
    def resolution(self) -> np.ndarray:
        """Resolution times of the resolved tickets."""
        return self.g["resolution_min"].to_numpy(dtype=float)[self.resolved]

    @cached_property
    def cost(self) -> float:
        return float(self.g["cost"].sum())

    @cached_property
    def repeats(self) -> np.ndarray:
        return self.g["repeats"].to_numpy()

    def mean(self, column: str) -> float:
        """Mean of a ticket column over the group (NaN for an empty group)."""
        return float(self.g[column].mean()) if self.n else np.nan

    def total(self, column: str) -> float:
        return float(self.g[column].sum())


class Replications:
    """Everything about the (policy, replication) rows of a result: for replication metrics."""

    def __init__(self, keys: pd.DataFrame, tickets: pd.DataFrame, teams: Optional[pd.DataFrame],
                 scenario: Any, values: dict[str, np.ndarray]) -> None:
        self.keys = keys            # policy, replication: one row per output row
        self.tickets = tickets
        self.teams = teams
        self.scenario = scenario
        self.values = values        # metrics computed so far (and n_resolved), aligned with keys

    @cached_property
    def resolved(self) -> np.ndarray:
        """Resolved measured tickets per row of ``keys`` (counted while grouping, when given)."""
        if "n_resolved" in self.values:
            return self.values["n_resolved"]
        t = self.tickets
        mask = _is(t["outcome"], RESOLVED)
        counts = pd.DataFrame({"policy": t["policy"].astype(str).to_numpy()[mask],
                               "replication": t["replication"].to_numpy()[mask]}
                              ).groupby(["policy", "replication"]).size().rename("n").reset_index()
        keys = self.keys[["policy", "replication"]].astype({"policy": str})
        return keys.merge(counts, on=["policy", "replication"], how="left")["n"].fillna(0).to_numpy(dtype=float)


# ------------------------------------------------------------------------ feature gates
def _segments(scenario: Any) -> list:
    return list(scenario.segments) if scenario is not None else []


def _has_first_response_target(tickets: pd.DataFrame, scenario: Any) -> bool:
    return any(s.first_response_target is not None for s in _segments(scenario))


def _has_resolution_target(tickets: pd.DataFrame, scenario: Any) -> bool:
    return any(s.resolution_target is not None for s in _segments(scenario))


def _has_targets(tickets: pd.DataFrame, scenario: Any) -> bool:
    return _has_first_response_target(tickets, scenario) or _has_resolution_target(tickets, scenario)


def _has_penalty(tickets: pd.DataFrame, scenario: Any) -> bool:
    return any(s.sla_penalty > 0 for s in _segments(scenario))


def _has_customer_cost(tickets: pd.DataFrame, scenario: Any) -> bool:
    return any(s.customer_cost_per_hour > 0 for s in _segments(scenario))


def _has_priced_extras(tickets: pd.DataFrame, scenario: Any) -> bool:
    return _has_penalty(tickets, scenario) or _has_customer_cost(tickets, scenario)


def _can_reopen(tickets: pd.DataFrame, scenario: Any) -> bool:
    return scenario is not None and any(i.can_reopen for i in scenario.issues)


def _was_interrupted(tickets: pd.DataFrame, scenario: Any) -> bool:
    """Whether interruptions are part of this comparison: a policy of the scenario is set to
    interrupt helpers (``helper_mode: interrupt``), or the tickets show interruptions (a plug-in
    may interrupt without a parameter saying so).  Deciding from the scenario first gives every
    run of it the same metric set - ``run``'s table of all runs and a sweep's run measured
    alone (issue 11.2): 0.0 for a policy that never interrupts, not a missing value."""
    if scenario is not None and any(isinstance(params, dict) and params.get("helper_mode") == "interrupt"
                                    for params in (scenario.policies or {}).values()):
        return True
    return bool(tickets["interruptions"].any())


def _has_wages(tickets: pd.DataFrame, scenario: Any) -> bool:
    return scenario is not None


# ------------------------------------------------------------------------ ticket metrics
# one function per catalogue entry; the arithmetic is exactly the historical one, so results
# stay bit-identical

@ticket_metric("tickets")
def _tickets(g: TicketGroup) -> float:
    return g.n


@ticket_metric("resolved_share")
def _resolved_share(g: TicketGroup) -> float:
    return g.n_resolved / g.n if g.n else np.nan


@ticket_metric("abandoned_share")
def _abandoned_share(g: TicketGroup) -> float:
    return g.mean("_abandoned")


@ticket_metric("open_share")
def _open_share(g: TicketGroup) -> float:
    return g.mean("_open")


@ticket_metric("resolution_mean_min")
def _resolution_mean(g: TicketGroup) -> float:
    return float(g.resolution.mean()) if len(g.resolution) else np.nan


@ticket_metric("resolution_median_min")
def _resolution_median(g: TicketGroup) -> float:
    return float(np.median(g.resolution)) if len(g.resolution) else np.nan


@ticket_metric("resolution_p90_min")
def _resolution_p90(g: TicketGroup) -> float:
    return float(np.percentile(g.resolution, 90)) if len(g.resolution) else np.nan


@ticket_metric("resolution_p95_min")
def _resolution_p95(g: TicketGroup) -> float:
    return float(np.percentile(g.resolution, 95)) if len(g.resolution) else np.nan


@ticket_metric("wait_mean_min")
def _wait_mean(g: TicketGroup) -> float:
    return g.mean("wait_min")


@ticket_metric("repeats_per_ticket")
def _repeats(g: TicketGroup) -> float:
    return float(g.repeats.mean()) if g.n else np.nan


@ticket_metric("handoffs_per_ticket")
def _handoffs(g: TicketGroup) -> float:
    return g.mean("handoffs")


@ticket_metric("repeat_share")
def _repeat_share(g: TicketGroup) -> float:
    return float((g.repeats >= 1).mean()) if g.n else np.nan


@ticket_metric("agents_touched_per_ticket")
def _agents_touched(g: TicketGroup) -> float:
    return g.mean("agents_touched")


@ticket_metric("agent_min_per_ticket")
def _agent_min(g: TicketGroup) -> float:
    return g.mean("agent_min")


@ticket_metric("cost_per_resolved")
def _cost_per_resolved(g: TicketGroup) -> float:
    return g.cost / g.n_resolved if g.n_resolved else np.nan


@ticket_metric("labour_cost")
def _labour_cost(g: TicketGroup) -> float:
    return g.cost


@ticket_metric("expert_min_per_ticket")
def _expert_min_per_ticket(g: TicketGroup) -> float:
    return g.mean("expert_min")


@ticket_metric("expert_min")
def _expert_min(g: TicketGroup) -> float:
    return g.total("expert_min")


@ticket_metric("helpers_per_ticket")
def _helpers(g: TicketGroup) -> float:
    return g.mean("helpers")


@ticket_metric("service_level", present=_has_first_response_target)
def _service_level(g: TicketGroup) -> float:
    return _share(g.t["sl_met"].to_numpy(), g.t["sl_eligible"].to_numpy())


@ticket_metric("resolution_within_target", present=_has_resolution_target)
def _within_target(g: TicketGroup) -> float:
    return _share(g.t["rt_met"].to_numpy(), g.t["rt_eligible"].to_numpy())


# operating-reality metrics: present only when the scenario (or a policy) used the feature,
# and only for ticket tables that have the columns (tables saved before they existed do not)
@ticket_metric("sla_breaches_per_ticket", present=_has_targets,
               needs=("first_response_breached", "resolution_breached"))
def _sla_breaches(g: TicketGroup) -> float:
    breaches = g.col("first_response_breached").to_numpy(int) + g.col("resolution_breached").to_numpy(int)
    return float(breaches.mean()) if g.n else np.nan


@ticket_metric("sla_penalty", present=_has_penalty, needs=("sla_penalty",))
def _sla_penalty(g: TicketGroup) -> float:
    return g.total("sla_penalty")


@ticket_metric("customer_cost", present=_has_customer_cost, needs=("customer_cost",))
def _customer_cost(g: TicketGroup) -> float:
    return g.total("customer_cost")


@ticket_metric("customer_cost_per_ticket", present=_has_customer_cost, needs=("customer_cost",))
def _customer_cost_per_ticket(g: TicketGroup) -> float:
    return g.total("customer_cost") / g.n if g.n else np.nan


@ticket_metric("total_cost", present=_has_priced_extras, needs=("sla_penalty", "customer_cost"))
def _total_cost(g: TicketGroup) -> float:
    return g.cost + g.total("sla_penalty") + g.total("customer_cost")


@ticket_metric("reopens_per_ticket", present=_can_reopen, needs=("reopens",))
def _reopens(g: TicketGroup) -> float:
    return g.mean("reopens")


@ticket_metric("interruptions_per_ticket", present=_was_interrupted, needs=("interruptions",))
def _interruptions(g: TicketGroup) -> float:
    return g.mean("interruptions")


# ------------------------------------------------------------------------ replication metrics
def paid_minutes(teams: pd.DataFrame) -> np.ndarray:
    """Paid agent-minutes in the measured window, per row of a teams table.

    Without shifts every agent is paid for the whole window (``agents x window_min``);
    with shifts (``on_shift_min`` present) the on-shift minutes plus the overtime spent
    finishing work after a shift ended.
    """
    if "on_shift_min" in teams.columns:
        over = teams["overtime_min"].fillna(0.0) if "overtime_min" in teams.columns else 0.0
        return (teams["on_shift_min"] + over).to_numpy(dtype=float)
    return (teams["agents"] * teams["window_min"]).to_numpy(dtype=float)


def payroll_frame(teams: pd.DataFrame, scenario: Any) -> Optional[pd.DataFrame]:
    """policy, replication, payroll: paid agent-hours x the team's ``cost_per_hour``, summed over teams.

    ``None`` without a scenario (the wage lives there) or when a team of the table is
    not in it.
    """
    if scenario is None or teams is None or not len(teams):
        return None
    wage = {t.name: float(t.cost_per_hour) for t in scenario.teams}
    names = teams["team"].astype(str)
    if not set(names).issubset(wage):
        return None
    cost = paid_minutes(teams) / 60.0 * names.map(wage).to_numpy(dtype=float)
    frame = pd.DataFrame({"policy": teams["policy"].astype(str), "replication": teams["replication"],
                          "payroll": cost})
    return frame.groupby(["policy", "replication"], sort=False)["payroll"].sum().reset_index()


@replication_metric("payroll", present=_has_wages)
def _payroll(r: Replications) -> Optional[np.ndarray]:
    pay = payroll_frame(r.teams, r.scenario) if r.teams is not None else None
    if pay is None:
        return None
    keys = r.keys[["policy", "replication"]].astype({"policy": str})
    return keys.merge(pay, on=["policy", "replication"], how="left")["payroll"].to_numpy(dtype=float)


@replication_metric("payroll_per_resolved", present=_has_wages)
def _payroll_per_resolved(r: Replications) -> Optional[np.ndarray]:
    pay = r.values.get("payroll")
    if pay is None:
        return None
    n = r.resolved
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, pay / n, np.nan)


# ------------------------------------------------------------------------ tables of metrics
def _grouped(tickets: pd.DataFrame, keys: list[str], scenario: Any,
             resolved: Optional[list[int]] = None) -> pd.DataFrame:
    targets = ticket_targets(tickets, scenario)
    # outcome flags once for all groups, not per group
    out_col = tickets["outcome"]
    data = tickets.assign(_resolved=_is(out_col, RESOLVED), _abandoned=_is(out_col, ABANDONED),
                          _open=_is(out_col, OPEN))
    chosen = [(name, e.fn) for name, e in TICKET_METRICS.items()
              if all(c in tickets.columns for c in e.needs)
              and (e.present is None or e.present(tickets, scenario))]
    rows = []
    for key, idx in data.groupby(keys, observed=True, sort=True).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key))
        group = TicketGroup(data.iloc[idx], targets.iloc[idx])
        row.update({name: fn(group) for name, fn in chosen})
        rows.append(row)
        if resolved is not None:       # for the replication metrics (payroll per resolved ticket)
            resolved.append(group.n_resolved)
    return pd.DataFrame(rows)


def replication_metrics(tickets: pd.DataFrame, teams: pd.DataFrame | None = None,
                        scenario: Any = None) -> pd.DataFrame:
    """One row per (policy, replication), one column per metric.

    Pass ``scenario`` to get the service-level columns (they need the segments'
    targets) and the payroll (it needs the wages); without it, or if no segment
    sets a target, they are left out.  Columns: the ticket metrics in catalogue
    order, ``utilisation_<team>`` per team, then the replication metrics.
    """
    n_resolved: list[int] = []
    out = _grouped(tickets, ["policy", "replication"], scenario, n_resolved)
    if teams is not None and len(teams) and len(out):
        util = teams.pivot_table(index=["policy", "replication"], columns="team",
                                 values="utilisation", observed=True)
        util.columns = [f"{UTILISATION_PREFIX}{c}" for c in util.columns]
        out = out.merge(util.reset_index(), on=["policy", "replication"], how="left")
    if len(out):
        # rows keep the grouping's order through the left merge above
        reps = Replications(out[["policy", "replication"]], tickets, teams, scenario,
                            {"n_resolved": np.asarray(n_resolved, dtype=float)})
        for name, e in REPLICATION_METRICS.items():
            if e.present is not None and not e.present(tickets, scenario):
                continue
            values = e.fn(reps)
            if values is not None:
                reps.values[name] = values
                out[name] = values
    return out


# ------------------------------------------------------------------------ rows without tables
# A sweep of one-day runs needs only each run's metric row.  Building the pandas ticket and team
# tables and grouping them cost more than simulating such a run (issue 16), so the row is also
# computed straight from the run's columns: the same metric functions, fed arrays through a
# stand-in for the few pandas calls they make, which follows pandas' own arithmetic
# (pandas.core.nanops), so every value is the same float replication_metrics gives.  tests/test_analysis.py checks both against each other.
class _Col:
    """One column as the metric functions read it (``to_numpy``, ``mean``, ``sum``, ``any``)."""

    __slots__ = ("values",)

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def to_numpy(self, dtype: Any = None) -> np.ndarray:
        return self.values if dtype is None else np.asarray(self.values, dtype=dtype)

    def mean(self) -> float:
        return pandas_mean(self.values)

    def sum(self) -> float:
        return pandas_sum(self.values)

    def any(self) -> bool:
        return bool(self.values.any())


def _nan_as_zero(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a`` with NaN replaced by 0 (a copy only when there is one), and the NaN mask."""
    mask = np.isnan(a)
    if mask.any():
        a = a.copy()
        np.putmask(a, mask, 0)
    return a, mask


def pandas_mean(a: np.ndarray) -> Any:
    """``pd.Series(a).mean()`` for a 1-D numpy array, computed as pandas does (nanops.nanmean):
    NaN replaced by 0 and summed, divided by the count of the others."""
    if a.size == 0:
        return np.nan
    kind = a.dtype.kind
    if kind == "f":
        a, mask = _nan_as_zero(a)
        count = a.dtype.type(mask.size - mask.sum())
        total = a.sum(dtype=a.dtype)
    else:
        count = np.float64(a.size)
        total = a.sum(dtype=np.float64 if kind in "iu" else np.int64)
    return total / count if count > 0 else np.nan


def pandas_sum(a: np.ndarray) -> Any:
    """``pd.Series(a).sum()`` for a 1-D numpy array, as pandas computes it (nanops.nansum)."""
    kind = a.dtype.kind
    if kind == "f":
        return _nan_as_zero(a)[0].sum(dtype=a.dtype)
    return a.sum(dtype=np.uint64 if kind == "u" else np.int64)


def group_sums(groups: Sequence[Sequence[float]]) -> Optional[list[float]]:
    """``frame.groupby(key, sort=False)[column].sum()`` of a float column made of these groups
    of rows, in this order (each non-empty); ``None`` if this pandas sums some other way.

    pandas (3.x) sums sorted groups of a NaN-free column with ``numpy.add.reduceat`` and
    otherwise with a compensated (Kahan) loop; older versions always with the loop.  Which
    one this pandas does is asked once (:func:`_groupby_sum_mode`); the two give different
    last bits (e.g. 2387.4829464331046 and ...105), and the metric must be the same float.
    """
    mode = _groupby_sum_mode()
    if mode is None:
        return None
    if mode == "reduceat" and not any(v != v for g in groups for v in g):
        flat = np.array([v for g in groups for v in g], dtype=float)
        starts = np.cumsum([0] + [len(g) for g in groups[:-1]])
        return [float(x) for x in np.add.reduceat(flat, starts)] if len(flat) else []
    return [_kahan(g) for g in groups]


def group_means(ids: Sequence[int], values: Sequence[float], ngroups: int) -> Optional[list[float]]:
    """``frame.groupby(keys)[column].mean()`` of a float column, given each row's group number
    (``ids``: 0 .. ``ngroups`` - 1 in the groups' sorted order) in row order; ``None`` if this
    pandas averages some other way.  Like :func:`group_sums`: ``numpy.add.reduceat`` divided
    by the group sizes when the ids never decrease and no value is NaN (pandas 3), else the
    compensated loop divided by the count of non-NaN values."""
    mode = _groupby_sum_mode()
    if mode is None or _groupby_mean_mode() != mode:
        return None
    vals = np.asarray(values, dtype=float)
    monotonic = all(a <= b for a, b in zip(ids, ids[1:]))
    if mode == "reduceat" and monotonic and not np.isnan(vals).any() and len(set(ids)) == ngroups:
        starts = [i for i in range(len(ids)) if i == 0 or ids[i] != ids[i - 1]]
        sizes = np.diff(np.asarray(starts + [len(ids)])).astype(np.float64)
        return [float(x) for x in np.add.reduceat(vals, starts) / sizes]
    groups: list[list[float]] = [[] for _ in range(ngroups)]
    for i, v in zip(ids, vals.tolist()):
        groups[i].append(v)
    out = []
    for g in groups:
        n = sum(1 for v in g if v == v)
        out.append(_kahan(g) / n if n else float("nan"))
    return out


@functools.lru_cache(maxsize=1)
def _groupby_mean_mode() -> Optional[str]:
    """How this pandas averages a group of floats (see :func:`_groupby_sum_mode`)."""
    values = [124.32766527017557, 1983.1546199621519, 105.46332022675865, 174.5373409740189]
    by_reduceat = float(np.add.reduceat(np.array(values), [0])[0] / np.float64(4))
    by_kahan = _kahan(values) / 4
    sorted_rows = pd.DataFrame({"k": [0] * 4, "v": values})
    mixed = pd.DataFrame({"k": [0, 1] * 4, "v": [x for v in values for x in (v, 1.0)]})
    got = float(sorted_rows.groupby("k")["v"].mean().iloc[0])
    got_mixed = float(mixed.groupby("k")["v"].mean().iloc[0])
    if got_mixed != by_kahan:
        return None
    return "reduceat" if got == by_reduceat else "kahan" if got == by_kahan else None


def _kahan(values: Sequence[float]) -> float:
    """pandas' compensated group sum (``group_sum`` in pandas/_libs/groupby.pyx); NaN skipped."""
    total = compensation = 0.0
    for v in values:
        if v != v:
            continue
        y = v - compensation
        s = total + y
        compensation = s - total - y
        if compensation != compensation:     # an infinite value: pandas resets it
            compensation = 0.0
        total = s
    return total


@functools.lru_cache(maxsize=1)
def _groupby_sum_mode() -> Optional[str]:
    """How this pandas sums a group of floats: ``"reduceat"``, ``"kahan"`` or ``None`` (unknown)."""
    values = [124.32766527017557, 1983.1546199621519, 105.46332022675865, 174.5373409740189]
    by_reduceat = float(np.add.reduceat(np.array(values), [0])[0])
    by_kahan = _kahan(values)
    if by_reduceat == by_kahan:  # pragma: no cover - the probe would not tell them apart
        return None
    plain = pd.DataFrame({"k": [0] * 4, "v": values})
    with_nan = pd.DataFrame({"k": [0] * 4 + [1], "v": values + [np.nan]})
    got = float(plain.groupby("k", sort=False)["v"].sum().iloc[0])
    got_nan = float(with_nan.groupby("k", sort=False)["v"].sum().iloc[0])
    if got_nan != by_kahan:
        return None
    return "reduceat" if got == by_reduceat else "kahan" if got == by_kahan else None


class _Columns:
    """A ticket table as a mapping of arrays: ``len``, ``columns``, ``table[name]`` -> :class:`_Col`.

    ``parts``: one mapping per run; a column of several runs is joined when first read."""

    def __init__(self, parts: Sequence[dict[str, np.ndarray]], n: Optional[int] = None) -> None:
        self._parts = list(parts)
        self._joined: dict[str, _Col] = {}
        self.columns = list(self._parts[0]) if self._parts else []
        self._n = n

    def __len__(self) -> int:
        if self._n is None:
            self._n = sum(len(p["ticket_id"]) for p in self._parts) if self._parts else 0
        return self._n

    def __getitem__(self, name: str) -> _Col:
        col = self._joined.get(name)
        if col is None:
            arrays = [p[name] for p in self._parts]
            col = self._joined[name] = _Col(arrays[0] if len(arrays) == 1 else np.concatenate(arrays))
        return col


def _fast_path_applies() -> bool:
    """Only the metrics defined here are known to read nothing but what :class:`_Col` offers."""
    entries = (*TICKET_METRICS.values(), *REPLICATION_METRICS.values())
    if tuple(REPLICATION_METRICS) != ("payroll", "payroll_per_resolved"):   # the ones computed below
        return False
    return all(e.fn.__module__ == __name__ and (e.present is None or e.present.__module__ == __name__)
               for e in entries)


def metric_rows(tickets: Sequence[dict[str, np.ndarray]], teams: Sequence[dict[str, Sequence[Any]]],
                scenario: Any) -> Optional[list[Optional[dict[str, Any]]]]:
    """Each run's row of ``replication_metrics(<its tables>, scenario)``, without building them.

    ``tickets[i]``: run *i*'s ticket-table columns as arrays (``sim.results.ticket_columns``:
    ``segment`` and ``outcome`` as codes into the scenario's segments and :data:`OUTCOMES`);
    ``teams[i]``: its team-table columns (``sim.results.team_columns``).  Every run is measured
    on its own tables, so a metric whose presence depends on the tickets (interruptions) is
    in a run's row exactly when that run's table calls for it - whatever else a batch holds,
    so a record never depends on how tasks were batched.  Returns, per run, the metric row
    without ``policy``/``replication`` (plain ints and floats, in the columns' order),
    ``None`` for a run with no measured ticket, or ``None`` for the whole call when a metric
    registered elsewhere (or this pandas' summation) needs the real tables (then use
    :func:`replication_metrics`).
    """
    if scenario is None or not _fast_path_applies():
        return None
    rows: list[Optional[dict[str, Any]]] = []
    for cols, tm in zip(tickets, teams):
        row = _metric_row(cols, tm, scenario)
        if row is False:
            return None
        rows.append(row)
    return rows


def _metric_row(cols: dict[str, np.ndarray], tm: dict[str, Sequence[Any]], scenario: Any) -> Any:
    """One run's row (see :func:`metric_rows`); ``None`` without tickets, ``False`` when the
    fast path cannot follow pandas here."""
    from ..schema import OUTCOMES

    n = len(cols["ticket_id"])
    if n == 0:
        return None
    table = _Columns([cols], n)
    chosen = [(name, e.fn) for name, e in TICKET_METRICS.items()
              if all(c in table.columns for c in e.needs)
              and (e.present is None or e.present(table, scenario))]
    outcome = cols["outcome"]
    data = dict(cols)
    data["_resolved"] = outcome == OUTCOMES.index(RESOLVED)
    data["_abandoned"] = outcome == OUTCOMES.index(ABANDONED)
    data["_open"] = outcome == OUTCOMES.index(OPEN)
    flags = target_flags(cols["segment"], [s.name for s in scenario.segments], data["_open"],
                         cols["arrival_min"], cols["first_response_min"], cols["resolution_min"], scenario)
    group = TicketGroup(_Columns([data], n), _Columns([flags], n))
    row: dict[str, Any] = {name: fn(group) for name, fn in chosen}
    # utilisation per team, as the pivot table gives it: a team's column when it has a value,
    # columns in sorted team order
    util = {str(name): float(u) for name, u in zip(tm.get("team", ()), tm.get("utilisation", ()))}
    for name in sorted(name for name, v in util.items() if v == v):
        row[f"{UTILISATION_PREFIX}{name}"] = util[name]
    # payroll: paid agent-hours x wage per team (payroll_frame's arithmetic), summed as its
    # groupby().sum() sums them; absent when a team is not in the scenario
    wage = {team.name: float(team.cost_per_hour) for team in scenario.teams}
    names = [str(x) for x in tm.get("team", ())]
    present = {name: e.present is None or e.present(table, scenario) for name, e in REPLICATION_METRICS.items()}
    if present["payroll"] and names and set(names).issubset(wage):
        if "on_shift_min" in tm:
            paid = [float(on) + (0.0 if over is None or over != over else float(over))
                    for on, over in zip(tm["on_shift_min"], tm["overtime_min"])]
        else:
            paid = [float(np.float64(a) * np.float64(w)) for a, w in zip(tm["agents"], tm["window_min"])]
        sums = group_sums([[p / 60.0 * wage[x] for p, x in zip(paid, names)]])
        if sums is None:        # a pandas whose grouped sum is not known here: ask it
            return False
        row["payroll"] = pay = sums[0]
        if present["payroll_per_resolved"]:
            n_res = float(group.n_resolved)
            row["payroll_per_resolved"] = pay / n_res if n_res > 0 else np.nan
    # the types a one-row DataFrame gives back: an int stays an int (tickets), the rest floats
    return {k: int(v) if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else float(v)
            for k, v in row.items()}


def group_metrics(tickets: pd.DataFrame, by: str, scenario: Any = None) -> pd.DataFrame:
    """One row per (policy, replication, ``by``) — ``by`` is ``"segment"`` or ``"issue"``.

    Service level per segment uses that segment's own target.
    """
    if by not in tickets.columns:
        raise ValueError(f"tickets have no column {by!r}")
    out = _grouped(tickets, ["policy", "replication", by], scenario)
    if len(out):
        out[by] = out[by].astype(str)
    return out


def summarize(per_rep: pd.DataFrame, level: float = 0.95, by: Optional[str] = None,
              metrics: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """Long table: policy[, by], metric, mean, ci_low, ci_high, half_width, n."""
    keys = ["policy"] + ([by] if by else [])
    if metrics is None:
        metrics = [c for c in per_rep.columns if c not in (*keys, "replication")]
    rows = []
    for key, g in per_rep.groupby(keys, observed=True, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for m in metrics:
            mean, half, n = t_interval(g[m].to_numpy(dtype=float), level)
            low, high = _clip_bounds(m, mean, mean - half, mean + half)
            rows.append({**dict(zip(keys, key)), "metric": m, "mean": mean, "ci_low": low,
                         "ci_high": high, "half_width": half, "n": n})
    return pd.DataFrame(rows)


def _clip_bounds(metric: str, mean: float, low: float, high: float) -> tuple[float, float]:
    """Keep an interval inside the values the metric can take.

    The Student-t interval is symmetric and can reach below 0 (or above 100 %)
    when a share or count is near its bound; a bound nobody can observe only
    confuses readers.  ``half_width`` stays as computed.  Every catalogue metric is
    non-negative (times, counts, costs, shares); unknown columns are left alone.
    """
    if not known_metric(metric):
        return low, high
    if not np.isnan(low):
        low = max(low, 0.0)
    if is_share_metric(metric) and not np.isnan(high):
        # utilisation may exceed 1 when agents finish work past their shift: never cut below the mean
        high = min(high, max(1.0, mean))
    return low, high
