"""Every output table supportsim writes, with each column's dtype, unit and meaning.

Why one catalogue: writers, readers and ``docs/outputs.md`` (generated from
here) must agree on what a column is called and means; a test checks that
every column ``run --out`` actually writes is described here.

Pure data: imports nothing from ``sim`` outside this package.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .metrics import known_metric
from .vocabulary import OUTCOMES

__all__ = ["Column", "TableSpec", "TABLES", "table_info", "SUMMARY_STATS", "SWEEP_SUFFIXES", "FILES"]


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str                      # pandas / Arrow dtype as written
    unit: str                       # "" when dimensionless (labels, flags, ids)
    description: str
    when: Optional[str] = None      # present only when ... (None = always)


@dataclass(frozen=True)
class TableSpec:
    """One output table.  ``metric_columns``: besides ``columns`` it has one column per metric
    (see ``sim.schema.METRICS``; names ``metric_suffixes`` appended, if any); ``param_columns``:
    one column per varied sweep parameter (named by its path)."""

    name: str
    file: str                       # path relative to the output directory
    description: str
    columns: tuple[Column, ...]
    metric_columns: bool = False
    metric_suffixes: tuple[str, ...] = ("",)
    param_columns: bool = False
    written_by: str = "run --out"

    def column(self, name: str) -> Optional[Column]:
        """The explicit column ``name``, or ``None``."""
        return next((c for c in self.columns if c.name == name), None)

    def knows(self, name: str, params: tuple[str, ...] = ()) -> bool:
        """Whether a column called ``name`` belongs to this table (``params``: the sweep's paths).

        A column named with a placeholder (``agents_<team>``) stands for every column that
        starts and ends like it.
        """
        if self.column(name) is not None:
            return True
        for c in self.columns:
            if "<" in c.name and ">" in c.name:
                head, tail = c.name.split("<", 1)[0], c.name.rsplit(">", 1)[1]
                if len(name) > len(head) + len(tail) and name.startswith(head) and name.endswith(tail):
                    return True
        if self.param_columns and name in params:
            return True
        if self.metric_columns:
            for suffix in self.metric_suffixes:
                if name.endswith(suffix) and known_metric(name[:len(name) - len(suffix)] if suffix else name):
                    return True
        return False


_POLICY = Column("policy", "category", "", "policy name")
_REP = Column("replication", "int32", "", "replication index (0-based); replication r of every "
              "policy sees the same customers (common random numbers)")
_REPLICATION_INT = Column("replication", "int64", "", _REP.description)
_TIME = Column("time_min", "float64", "min", "simulated minutes since the start of the run")
_WITH_SHIFTS = "a team has a shift"
_ANY_FEATURE = ("any operating-reality feature is on (targets, penalties, customer cost, reopens, "
                "shifts, learning, helper modes)")

SUMMARY_STATS: tuple[Column, ...] = (
    Column("mean", "float64", "metric's unit", "mean over replications"),
    Column("ci_low", "float64", "metric's unit", "lower bound of the 95 % Student-t interval, "
           "clipped to values the metric can take (0; shares also at 1)"),
    Column("ci_high", "float64", "metric's unit", "upper bound of the 95 % Student-t interval, clipped "
           "like ci_low (utilisation never below its mean)"),
    Column("half_width", "float64", "metric's unit", "unclipped Student-t half-width"),
    Column("n", "int64", "replications", "replications with a value"),
)
SWEEP_SUFFIXES: tuple[str, ...] = ("_mean", "_ci_low", "_ci_high")

TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("tickets", "tickets.parquet",
              "one row per measured ticket (arrived in [warm-up, horizon)) per policy and "
              "replication, in arrival order", (
        _POLICY, _REP,
        Column("ticket_id", "int64", "", "ticket number within the replication (the same customer "
               "under every policy)"),
        Column("segment", "category", "", "customer segment"),
        Column("issue", "category", "", "issue type"),
        Column("tier", "int16", "", "tier needed to resolve the issue"),
        Column("arrival_min", "float64", "min", "arrival time, minutes since the start of the run"),
        Column("end_min", "float64", "min", "when the ticket was resolved or abandoned; NaN for open "
               "tickets"),
        Column("outcome", "category", "", "one of " + ", ".join(OUTCOMES)),
        Column("wait_min", "float64", "min", "total time queued (summed over every queue; with "
               "frictions.swarm_wait_is_queue, holding for a swarm helper too)"),
        Column("resolution_min", "float64", "min", "end_min - arrival_min for resolved tickets, else NaN"),
        Column("handoffs", "int32", "count", "times the ticket was passed on (shift handovers included)"),
        Column("repeats", "int32", "count", "times the customer explained the problem again"),
        Column("agents_touched", "int32", "count", "distinct agents who worked on the ticket"),
        Column("agent_min", "float64", "agent-min", "agent-minutes spent on the ticket"),
        Column("cost", "float64", "currency", "agent_min priced at each agent's team cost_per_hour / 60 "
               "(agent-time cost)"),
        Column("first_response_min", "float64", "min", "time from arrival to the first agent touch; "
               "NaN if never touched"),
        Column("expert_min", "float64", "agent-min", "minutes agents of the top tier spent on the "
               "ticket when its tier is lower"),
        Column("helpers", "int32", "count", "swarm helpers who joined the ticket"),
        Column("reopens", "int32", "count", "times the resolved ticket came back (0 when reopens are off)"),
        Column("handovers", "int32", "count", "shift handovers among the handoffs"),
        Column("interruptions", "int32", "count", "times work on the ticket was suspended for a swarm"),
        Column("switch_min", "float64", "agent-min", "context-switch minutes after interruptions"),
        Column("repeat_min", "float64", "min", "minutes the customer spent re-explaining", when=_ANY_FEATURE),
        Column("first_response_breached", "bool", "", "the first-response target was missed (or "
               "passed while the ticket was still waiting)"),
        Column("resolution_breached", "bool", "", "the resolution target was missed (or passed "
               "while the ticket was still open)"),
        Column("sla_penalty", "float64", "currency", "segment's sla_penalty x breached targets"),
        Column("customer_min", "float64", "min", "the customer's time: wait_min + repeat_min",
               when=_ANY_FEATURE),
        Column("customer_cost", "float64", "currency", "customer_min (wait_min without it) x the "
               "segment's customer_cost_per_hour / 60"),
    )),
    TableSpec("teams", "teams.csv", "one row per policy, replication and team", (
        _POLICY, _REPLICATION_INT,
        Column("team", "string", "", "team name"),
        Column("agents", "int64", "agents", "head count"),
        Column("busy_min", "float64", "agent-min", "busy agent-minutes inside the measured window"),
        Column("window_min", "float64", "min", "length of the measured window (horizon - warm-up)"),
        Column("utilisation", "float64", "fraction", "busy_min / capacity (agents x window_min; with "
               "shifts on_shift_min)"),
        Column("on_shift_min", "float64", "agent-min", "on-shift agent-minutes inside the measured "
               "window", when=_WITH_SHIFTS),
        Column("overtime_min", "float64", "agent-min", "busy agent-minutes after a shift ended, "
               "inside the measured window", when=_WITH_SHIFTS),
    )),
    TableSpec("backlog", "backlog.parquet",
              "tickets in the system, sampled hourly from the end of the warm-up", (
        _POLICY, _REP, _TIME,
        Column("waiting", "int32", "tickets", "tickets waiting in a queue"),
        Column("in_system", "int32", "tickets", "tickets arrived and not yet resolved or abandoned"),
    )),
    TableSpec("per_replication", "per_replication.csv",
              "one row per policy and replication, one column per metric (docs: Metrics)",
              (_POLICY, _REPLICATION_INT), metric_columns=True),
    TableSpec("summary", "summary.csv",
              "one row per policy and metric: mean and 95 % interval over replications", (
        _POLICY, Column("metric", "string", "", "metric name (see Metrics)"), *SUMMARY_STATS,
        Column("scenario", "string", "", "scenario name (provenance in every row)"),
        Column("seed", "int64", "", "base random seed"),
        Column("version", "string", "", "supportsim version"),
    )),
    TableSpec("learned", "learned.csv", "one row per skill an agent learned", (
        _POLICY, _REP, _TIME,
        Column("agent", "int64", "", "agent id"),
        Column("team", "string", "", "the agent's team"),
        Column("skill", "string", "", "skill learned"),
        Column("up_to_tier", "int64", "", "highest tier of that skill the agent now resolves"),
        Column("how", "string", "", "how it was learned (e.g. swarm, training)"),
    ), written_by="run --out, when learning is on and someone learned"),
    TableSpec("interruptions", "interruptions.csv",
              "per policy, replication, agent and day: times pulled off their own work to help a swarm", (
        _POLICY, _REP,
        Column("team", "string", "", "the agent's team"),
        Column("agent", "int64", "", "agent id"),
        Column("day", "int64", "day", "simulated day (0 = the first)"),
        Column("interruptions", "int64", "count", "times interrupted that day"),
    ), written_by="run --out, when an agent was interrupted"),
    TableSpec("sweep_runs", "runs/point=<i>/policy=<p>/r<k>.parquet",
              "one per-run metric row per sweep task (read the folder with pandas.read_parquet to "
              "get point and policy columns)", (
        Column("point", "int64", "", "sweep point (added when the folder is read)"),
        Column("policy", "string", "", "policy (added when the folder is read)"),
        Column("replication", "int32", "", _REP.description),
        Column("seed", "int64", "", "the point's seed"),
        Column("arrivals", "int64", "tickets", "tickets that arrived in the whole run (warm-up included)"),
    ), metric_columns=True, param_columns=True, written_by="sweep"),
    TableSpec("sweep_summary", "sweep_summary.parquet",
              "one row per sweep point and policy: varied parameters and, per metric, mean and "
              "95 % interval over replications", (
        Column("point", "int64", "", "sweep point"),
        Column("policy", "string", "", "policy"),
        Column("seed", "int64", "", "the point's seed"),
        Column("replications", "int64", "replications", "completed replications"),
    ), metric_columns=True, metric_suffixes=SWEEP_SUFFIXES, param_columns=True, written_by="sweep"),
    TableSpec("staffing", "staffing.csv", "per policy and team: the cheapest staffing found that "
              "meets every target and the utilisation cap (docs/staffing.md)", (
        Column("policy", "string", "", "policy"),
        Column("team", "string", "", "team name"),
        Column("agents", "int64", "agents", "head count found"),
        Column("cost_per_hour", "float64", "currency per agent-hour", "the team's wage"),
        Column("current_agents", "int64", "agents", "head count in the scenario"),
        Column("changeable", "bool", "", "whether the search could change this team (--teams)"),
    ), written_by="staff"),
    TableSpec("staffing_summary", "staffing_summary.csv",
              "one row per policy: whether the targets are met, the payroll, and each target "
              "metric's mean and 95 % interval", (
        Column("policy", "string", "", "policy"),
        Column("feasible", "bool", "", "every target and the utilisation cap met (95 % intervals)"),
        Column("payroll_per_hour", "float64", "currency per hour", "payroll / hours of the measured window"),
        Column("payroll_per_resolved", "float64", "currency per resolved ticket", "payroll / resolved tickets"),
        Column("evaluations", "int64", "count", "staffings evaluated by simulation for this policy"),
        Column("max_utilisation_ci_high", "float64", "fraction", "highest upper interval bound of "
               "any team's utilisation"),
        Column("payroll", "float64", "currency", "payroll of the measured window (see Metrics)"),
        Column("seed", "int64", "", "seed of the replications the numbers come from"),
        Column("replications", "int64", "replications", "replications the numbers come from"),
        Column("staffing", "string", "", "the staffing as team=agents, ..."),
        Column("note", "string", "", "why the policy is infeasible, if it is"),
    ), metric_columns=True, metric_suffixes=SWEEP_SUFFIXES, written_by="staff"),
    TableSpec("evaluations", "evaluations.parquet",
              "every staffing the search tried, with every metric's mean and 95 % interval", (
        Column("policy", "string", "", "policy"),
        Column("order", "int64", "", "evaluation order within the policy's search"),
        Column("stage", "string", "", "stage of the search that evaluated it (e.g. pilot, start, confirm)"),
        Column("role", "string", "", "search (the search's common random numbers) or confirm "
               "(fresh replications)"),
        Column("seed", "int64", "", "seed of its replications"),
        Column("replications", "int64", "replications", "replications simulated"),
        Column("staffing", "string", "", "the staffing as team=agents, ..."),
        Column("agents_<team>", "int64", "agents", "head count of each team"),
        Column("payroll_per_hour", "float64", "currency per hour", "payroll / hours of the measured window"),
        Column("feasible", "bool", "", "every target and the cap met"),
        Column("violation", "float64", "", "how far the targets are missed (0 = feasible)"),
    ), metric_columns=True, metric_suffixes=("", "_ci_low", "_ci_high"), written_by="staff"),
    TableSpec("tornado", "tornado.csv", "sensitivity: each parameter at its low end, the scenario's "
              "value and its high end (docs/sensitivity.md)", (
        Column("parameter", "string", "", "scenario path varied"),
        Column("value", "float64", "the parameter's unit", "value evaluated (the factor when kind is multiplier)"),
        Column("policy", "string", "", "policy compared with the baseline"),
        Column("metric", "string", "", "metric (see Metrics)"),
        Column("relative_change", "float64", "fraction", "mean paired difference policy - baseline over "
               "the baseline's mean"),
        Column("ci_low", "float64", "fraction", "lower bound of its 95 % interval"),
        Column("ci_high", "float64", "fraction", "upper bound of its 95 % interval"),
        Column("kind", "string", "", "value or multiplier (relative ranges)"),
    ), written_by="sensitivity"),
    TableSpec("flips", "flips.csv", "sensitivity: where the paired difference changes sign", (
        Column("parameter", "string", "", "scenario path varied"),
        Column("policy", "string", "", "policy compared with the baseline"),
        Column("baseline", "string", "", "baseline policy"),
        Column("metric", "string", "", "metric (see Metrics)"),
        Column("flip_value", "float64", "the parameter's unit", "interpolated flip point; empty when "
               "there is no flip in range"),
        Column("low", "float64", "the parameter's unit", "final bracket's low end (the range without a flip)"),
        Column("high", "float64", "the parameter's unit", "final bracket's high end (the range without a flip)"),
        Column("direction", "string", "", "falls (difference positive below the flip) or rises; empty "
               "without a flip"),
        Column("better_side", "string", "", "where the policy is ahead: above or below (from the "
               "metric's better direction); empty without a flip"),
        Column("note", "string", "", "no flip in range, overloaded values, ..."),
        Column("ahead", "string", "", "without a flip: the policy ahead over the whole range; empty "
               "otherwise"),
        Column("unstable", "string", "", "policies (space-separated) overloaded where the flip is, or "
               "anywhere in the range without a flip (a team at or above 95 % utilisation)"),
        Column("sign_changes", "int64", "", "how many times the mean paired difference changes sign over "
               "the values evaluated (0 without a flip, 1 for a clean threshold; more: the flip point is "
               "the change nearest the scenario's value, one of several, usually noise near an end of "
               "the range)"),
    ), written_by="sensitivity"),
    TableSpec("points", "points.csv", "sensitivity: every evaluated value, with its paired comparison", (
        Column("parameter", "string", "", "scenario path varied"),
        Column("value", "float64", "the parameter's unit", "value evaluated"),
        Column("policy", "string", "", "policy compared with the baseline"),
        Column("baseline", "string", "", "baseline policy"),
        Column("metric", "string", "", "metric (see Metrics)"),
        Column("n", "int64", "replications", "paired replications"),
        Column("baseline_mean", "float64", "the metric's unit", "baseline's mean"),
        Column("policy_mean", "float64", "the metric's unit", "policy's mean"),
        Column("diff_mean", "float64", "the metric's unit", "mean paired difference policy - baseline"),
        Column("diff_low", "float64", "the metric's unit", "lower bound of its 95 % interval"),
        Column("diff_high", "float64", "the metric's unit", "upper bound of its 95 % interval"),
        Column("relative_change", "float64", "fraction", "diff_mean / baseline_mean"),
        Column("ci_low", "float64", "fraction", "lower bound of the relative change's 95 % interval"),
        Column("ci_high", "float64", "fraction", "upper bound of the relative change's 95 % interval"),
        Column("unstable", "string", "", "policy or baseline overloaded at this value (a team at or "
               "above 95 % utilisation)"),
    ), written_by="sensitivity"),
    TableSpec("events", "events.csv / events.parquet",
              "the per-event log (docs/eventlog.md), process-mining column names", (
        Column("case:concept:name", "string", "", "case id, unique across policies and replications: "
               "<policy>/r<replication>/t<ticket_id>"),
        Column("concept:name", "string", "", "activity (see Event-log activities)"),
        Column("time:timestamp", "timestamp[ms, UTC]", "", "when it happened (the end of an interval)"),
        Column("start_timestamp", "timestamp[ms, UTC]", "", "start of an interval activity; empty "
               "for instantaneous events"),
        Column("lifecycle:transition", "string", "", "complete; start for an activity still running "
               "at the horizon"),
        Column("org:resource", "string", "", "agent, <team>-a<id>; empty for system events"),
        Column("org:group", "string", "", "the agent's team"),
        Column("case:policy", "string", "", "policy"),
        Column("case:replication", "int64", "", "replication"),
        Column("case:ticket_id", "int64", "", "ticket number within the replication"),
        Column("case:issue", "string", "", "issue type"),
        Column("case:segment", "string", "", "customer segment"),
        Column("case:measured", "bool", "", "false for tickets that arrived during the warm-up"),
        Column("queue", "string", "", "queue joined, handed to, or the swarm request queue"),
        Column("from_team", "string", "", "on handed_off: the passing team"),
        Column("to_team", "string", "", "on handed_off: the team of the next agent who took it"),
        Column("cost", "float64", "currency", "agent minutes x the team's cost_per_hour / 60"),
    ), written_by="run --out --events"),
    TableSpec("backtest", "backtest.csv", "one row per KPI both the log and the simulation measure: "
              "observed against simulated (docs/eventlog.md, \"Backtest\"); a plain CSV, the run's "
              "facts are in backtest.json", (
        Column("kpi", "string", "", "arrivals_per_day, resolution_median_min, resolution_p90_min, "
               "resolution_net_of_waits_median_min / _p90_min, handoffs_per_ticket, abandoned_share, "
               "reached_tier_<k>, team_share_<team>, utilisation_<team>"),
        Column("observed", "float64", "the KPI's unit", "measured on the log over its arrival window"),
        Column("simulated", "float64", "the KPI's unit", "mean over the simulated replications, "
               "measured the same way"),
        Column("ci_low", "float64", "the KPI's unit", "lower bound of the simulated mean's interval "
               "(Student t, --confidence)"),
        Column("ci_high", "float64", "the KPI's unit", "upper bound of that interval"),
        Column("rel_error", "float64", "fraction", "(simulated - observed) / |observed|; empty when "
               "observed is 0"),
        Column("within", "boolean", "", "|observed - simulated| within the tolerance (the interval "
               "widened by the observed value's sampling error); empty when either side is missing"),
    ), written_by="backtest --out"),
)}


#: output files that are not tables: file -> (written by, what it holds)
FILES: dict[str, tuple[str, str]] = {
    "scenario.yaml": ("run --out, report", "the scenario exactly as run (validated, defaults filled in)"),
    "meta.json": ("run --out", "provenance (software, version, revision, seed, replications, policies, "
                  "where each plug-in policy came from, horizon, warnings) and the manifest of every file written; written last, so its "
                  "presence marks a complete result directory"),
    "report.html": ("run, report", "the decision report, self-contained (figures embedded)"),
    "summary.md": ("run, report", "the same report as Markdown, figures in figures/*.png"),
    "figures/*.png": ("run, report", "the report's figures"),
    "events.xes / events.ocel.json": ("run --out --events", "the event log as XES / OCEL (docs/eventlog.md)"),
    "sweep.json": ("sweep", "the sweep manifest: points, seeds, fingerprints"),
    "points/point-<i>.yaml": ("sweep", "the scenario of each sweep point"),
    "failed/point=<i>/policy=<p>/r<k>.json": ("sweep", "the error of a task that raised"),
    "tickets/point=<i>/policy=<p>/r<k>.parquet": ("sweep --tickets", "per-ticket rows of each task "
                                                 "(columns of tickets.parquet, without policy)"),
    "report/report.md": ("sweep", "the sweep report: regime map and metric-vs-parameter plots"),
    "resolution_ecdf.png": ("backtest --out", "observed and simulated resolution-time ECDFs, log scale"),
    "backtest.json": ("backtest --out", "the backtest's facts (policy, replications, confidence, the "
                      "log's window, scenario, log, seed, notes) and the SHA-256 of backtest.csv and "
                      "resolution_ecdf.png: what marks those files as supportsim's"),
}


def table_info(name: str) -> TableSpec:
    """The catalogue entry of an output table by name (``tickets``, ``summary``, ...)."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}") from None
