"""Every metric supportsim reports: one entry each, the single source of its facts.

Why one catalogue: the summary table, the report, the verdict, the sweep
summary and regime map, the terminal table and ``docs/outputs.md`` all need a
metric's label, unit, kind (how to format it), which direction is better and
whether the verdict shows it.  Kept here as plain data, they cannot disagree.
The numbers themselves are computed by :mod:`sim.analysis.metrics`, one
function per entry, keyed by the same name.

Pure data: imports nothing from ``sim``.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, Optional

__all__ = ["Metric", "METRICS", "metric_info", "metric_label", "is_share_metric", "KINDS",
           "UTILISATION_PREFIX", "verdict_metrics", "METRIC_LABELS", "known_metric",
           "is_utilisation", "utilisation_team", "CONFIDENCE_LEVEL",
           "CONFIDENCE_Z", "CONFIDENCE_TEXT"]

Kind = Literal["share", "time", "count", "money", "ratio"]
Better = Optional[Literal["lower", "higher"]]
#: share: a fraction in [0, 1] (shown as %); time: minutes; count: a number of things;
#: money: in the currency of ``cost_per_hour``; ratio: a count per ticket (or per resolved ticket)
KINDS: tuple[str, ...] = ("share", "time", "count", "money", "ratio")
UTILISATION_PREFIX = "utilisation_"
#: the level of every confidence interval supportsim reports (summary, verdict, report, sweep,
#: staffing targets): the analysis computes its intervals at this level and the text that says
#: "95 %" is written from it
CONFIDENCE_LEVEL = 0.95
#: the two-sided standard-normal quantile of that level (1.95996... for 95 %), for the
#: large-sample intervals of ``calibrate`` (rates, shares, means of a log's tickets)
CONFIDENCE_Z = NormalDist().inv_cdf(0.5 + CONFIDENCE_LEVEL / 2)
#: the level as the text says it ("95%")
CONFIDENCE_TEXT = f"{CONFIDENCE_LEVEL * 100:g}%"


@dataclass(frozen=True)
class Metric:
    """What a metric is.  ``scope``: ``group`` metrics are computed for any group of tickets
    (per replication, segment or issue type); ``replication`` metrics only per (policy,
    replication), because they concern teams (utilisation, payroll).  ``requires``: the
    scenario feature without which the metric is left out (``None`` = always present)."""

    name: str
    label: str                 # lower-case readable name, with the unit where it helps
    unit: str
    kind: Kind
    better: Better
    verdict: bool              # shown in the headline verdict
    description: str           # how it is computed
    title: str = ""            # capitalised short heading (verdict table); defaults to the label
    scope: Literal["group", "replication"] = "group"
    requires: Optional[str] = None

    @property
    def heading(self) -> str:
        return self.title or (self.label[:1].upper() + self.label[1:])

    @property
    def is_share(self) -> bool:
        return self.kind == "share"


def _m(name: str, label: str, unit: str, kind: Kind, better: Better, description: str,
       verdict: bool = False, **more) -> Metric:
    return Metric(name, label, unit, kind, better, verdict, description, **more)


_TARGETS_FR = "a segment sets first_response_target"
_TARGETS_RT = "a segment sets resolution_target"
_TARGETS = "a segment sets first_response_target or resolution_target"
_PENALTY = "a segment sets sla_penalty > 0"
_CUSTOMER = "a segment sets customer_cost_per_hour > 0"

#: in the order of the columns of ``per_replication.csv`` (utilisation columns come after
#: the ticket metrics, one per team, then the payroll); the verdict shows its metrics in
#: this order too
METRICS: dict[str, Metric] = {m.name: m for m in (
    _m("tickets", "measured tickets", "tickets", "count", None,
       "tickets that arrived in the measured window [warm-up, horizon)"),
    _m("resolved_share", "share resolved", "fraction", "share", "higher",
       "resolved tickets / measured tickets"),
    _m("abandoned_share", "share abandoned", "fraction", "share", "lower",
       "tickets whose customer gave up waiting / measured tickets"),
    _m("open_share", "share still open at horizon", "fraction", "share", "lower",
       "tickets neither resolved nor abandoned when the horizon ended / measured tickets"),
    _m("resolution_mean_min", "mean resolution time (min)", "min", "time", "lower",
       "mean of end - arrival over resolved tickets", verdict=True, title="Mean resolution time"),
    _m("resolution_median_min", "median resolution time (min)", "min", "time", "lower",
       "median of end - arrival over resolved tickets"),
    _m("resolution_p90_min", "p90 resolution time (min)", "min", "time", "lower",
       "90th percentile (linear interpolation) of end - arrival over resolved tickets"),
    _m("resolution_p95_min", "p95 resolution time (min)", "min", "time", "lower",
       "95th percentile (linear interpolation) of end - arrival over resolved tickets"),
    _m("wait_mean_min", "mean time queued (min)", "min", "time", "lower",
       "mean over measured tickets of the total time spent waiting in queues (wait_min)"),
    _m("repeats_per_ticket", "repeats per ticket", "per ticket", "ratio", "lower",
       "mean number of times the customer had to explain the problem again",
       verdict=True, title="Repeats per ticket"),
    _m("handoffs_per_ticket", "handoffs per ticket", "per ticket", "ratio", "lower",
       "mean number of times a ticket was passed to another queue (shift handovers included)",
       verdict=True, title="Handoffs per ticket"),
    _m("repeat_share", "share of tickets with ≥ 1 repeat", "fraction", "share", "lower",
       "tickets with at least one repeat / measured tickets"),
    _m("agents_touched_per_ticket", "agents per ticket", "per ticket", "ratio", None,
       "mean number of distinct agents who worked on a ticket"),
    _m("agent_min_per_ticket", "agent minutes per ticket", "agent-min per ticket", "time", "lower",
       "mean agent-minutes spent on a ticket (work, diagnosis, repeats, handoff write-ups, swarm "
       "work, holding for a helper)"),
    _m("cost_per_resolved", "agent-time cost per resolved ticket", "currency per resolved ticket",
       "money", "lower",
       "agent-time cost (busy agent-minutes on measured tickets x cost_per_hour / 60) / resolved "
       "tickets; freed capacity, not money saved: payroll is the same for the same head count",
       verdict=True, title="Agent-time cost per resolved ticket"),
    _m("labour_cost", "agent-time cost of measured tickets", "currency", "money", "lower",
       "sum over measured tickets of busy agent-minutes x cost_per_hour / 60 (tickets.parquet cost)"),
    _m("expert_min_per_ticket", "top-tier minutes on lower-tier tickets, per ticket",
       "agent-min per ticket", "time", "lower",
       "mean minutes agents of the top tier spent on tickets of a lower tier"),
    _m("expert_min", "top-tier minutes on lower-tier tickets (total)", "agent-min", "time", "lower",
       "sum of expert_min over measured tickets"),
    _m("helpers_per_ticket", "swarm helpers per ticket", "per ticket", "ratio", None,
       "mean number of helpers who joined a ticket's swarm"),
    _m("service_level", "share first touched within target", "fraction", "share", "higher",
       "tickets first touched by an agent within their segment's first_response_target / tickets "
       "with a target; never touched = missed, except a ticket still waiting at the horizon that "
       "has not yet waited that long (left out)", verdict=True,
       title="Service level (first touch within target)", requires=_TARGETS_FR),
    _m("resolution_within_target", "share resolved within target", "fraction", "share", "higher",
       "tickets resolved within their segment's resolution_target / tickets with a target; a "
       "ticket still open at the horizon and younger than the target is left out",
       requires=_TARGETS_RT),
    _m("sla_breaches_per_ticket", "SLA targets breached per ticket", "per ticket", "ratio", "lower",
       "mean of first_response_breached + resolution_breached (tickets.parquet)", requires=_TARGETS),
    _m("sla_penalty", "SLA penalties (total)", "currency", "money", "lower",
       "sum of sla_penalty over measured tickets (penalty x breaches)", requires=_PENALTY),
    _m("customer_cost", "cost of the customers' time (total)", "currency", "money", "lower",
       "sum of customer_cost over measured tickets (customer_min x customer_cost_per_hour / 60)",
       requires=_CUSTOMER),
    _m("customer_cost_per_ticket", "cost of the customer's time per ticket", "currency per ticket",
       "money", "lower", "customer_cost / measured tickets", requires=_CUSTOMER),
    _m("total_cost", "agent-time cost + SLA penalties + customers' time (total)", "currency",
       "money", "lower", "labour_cost + sla_penalty + customer_cost",
       requires=f"{_PENALTY}, or {_CUSTOMER}"),
    _m("reopens_per_ticket", "reopens per ticket", "per ticket", "ratio", "lower",
       "mean number of times a resolved ticket came back", requires="an issue can reopen"),
    _m("interruptions_per_ticket", "times work on a ticket was interrupted for a swarm",
       "per ticket", "ratio", "lower",
       "mean number of times an agent left the ticket to help a swarm",
       requires="some ticket was interrupted (helper mode 'interrupt')"),
    _m("payroll", "payroll of the measured window", "currency", "money", "lower",
       "paid agent-hours in the measured window x the team's cost_per_hour, summed over teams: "
       "agents x window without shifts; with shifts the on-shift hours plus overtime",
       scope="replication", requires="the scenario (wages) is known"),
    _m("payroll_per_resolved", "payroll per resolved ticket", "currency per resolved ticket",
       "money", "lower", "payroll / resolved tickets", scope="replication",
       requires="the scenario (wages) is known"),
)}

_UTILISATION = Metric(
    name=f"{UTILISATION_PREFIX}<team>", label="utilisation of team <team>", unit="fraction",
    kind="share", better=None, verdict=False,
    description="busy agent-minutes of the team inside the measured window / its capacity "
                "(agents x window; with shifts, on-shift agent-minutes); may exceed 1 with overtime",
    scope="replication")

#: the pattern entry for the per-team columns, for documentation
UTILISATION = _UTILISATION

#: readable labels by metric name (a view of METRICS, kept for older imports)
METRIC_LABELS: dict[str, str] = {name: m.label for name, m in METRICS.items()}


def metric_info(name: str) -> Metric:
    """The catalogue entry of ``name``; ``utilisation_<team>`` gets its team's own entry.

    Raises ``KeyError`` for a name that is not a metric.
    """
    m = METRICS.get(name)
    if m is not None:
        return m
    if is_utilisation(name):
        team = utilisation_team(name)
        u = _UTILISATION
        return Metric(name, f"utilisation of team {team}", u.unit, u.kind, u.better, u.verdict,
                      u.description.replace("the team", f"team {team}"), scope=u.scope)
    raise KeyError(f"unknown metric {name!r}")


def is_utilisation(name: str) -> bool:
    """Whether ``name`` is a per-team ``utilisation_<team>`` column."""
    return name.startswith(UTILISATION_PREFIX) and len(name) > len(UTILISATION_PREFIX)


def utilisation_team(name: str) -> str:
    """The team of a ``utilisation_<team>`` column (``ValueError`` for any other name)."""
    if not is_utilisation(name):
        raise ValueError(f"{name!r} is not a utilisation_<team> column")
    return name[len(UTILISATION_PREFIX):]


def known_metric(name: str) -> bool:
    """Whether ``name`` is a catalogue metric (including ``utilisation_<team>``)."""
    return name in METRICS or is_utilisation(name)


def metric_label(name: str) -> str:
    """Readable name of a metric column; an unknown column keeps its own name."""
    return metric_info(name).label if known_metric(name) else name


def is_share_metric(name: str) -> bool:
    """Fractions of tickets or of capacity (shown as percentages, clipped to [0, 1])."""
    return known_metric(name) and metric_info(name).kind == "share"


def verdict_metrics() -> list[Metric]:
    """The metrics the headline verdict compares, in catalogue order."""
    return [m for m in METRICS.values() if m.verdict]
