"""What the report says, as plain-text tables and paragraphs, independent of the output format.

Every string here is *unescaped* plain text (it may contain user-supplied
names); the HTML and Markdown writers escape every cell and paragraph they
emit, so escaping happens in exactly one place per format.
"""
from __future__ import annotations

import datetime as _dt
import math
import shlex
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from ..analysis import MATERIAL_SHARE, UTILISATION_LIMIT, Analysis, measured_window
from ..schema import CONFIDENCE_LEVEL, is_utilisation
from ..policies import registry
from .identity import run_id
from .format import (currency_of, describe_dist, describe_params, fmt_half, fmt_level, fmt_value, human_name,
                     label as metric_heading)
from .verdict import (SERVICE_METRIC, VERDICT_METRICS, VerdictCell, VerdictRow, finding_text,
                      verdict_lead, verdict_rows)
from .wins import pair_matrices, wins_table

__all__ = ["Table", "ReportContent", "build_content", "fmt_metric"]

KEY_METRICS = [
    "resolution_mean_min", "resolution_median_min", "resolution_p90_min", "resolution_p95_min",
    "wait_mean_min", "resolved_share", "abandoned_share", "open_share", "service_level",
    "resolution_within_target", "handoffs_per_ticket", "repeats_per_ticket", "repeat_share",
    "agents_touched_per_ticket", "agent_min_per_ticket", "cost_per_resolved", "labour_cost",
    "expert_min_per_ticket", "expert_min", "helpers_per_ticket",
    # present only when the scenario uses the operating-reality features
    "sla_breaches_per_ticket", "sla_penalty", "customer_cost_per_ticket", "customer_cost",
    "total_cost", "reopens_per_ticket", "interruptions_per_ticket",
]
GROUP_METRICS = ["tickets", "resolution_mean_min", "resolution_p90_min", "wait_mean_min",
                 "abandoned_share", "service_level", "repeats_per_ticket", "handoffs_per_ticket",
                 "cost_per_resolved"]


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""
    row_status: list[str] = field(default_factory=list)   # optional css class per row


@dataclass
class ReportContent:
    title: str
    description: str
    provenance: list[tuple[str, str]]
    alerts: list[tuple[str, str]]          # (level: "danger"|"warning"|"info", text)
    verdict: Table
    verdict_rows: list[VerdictRow]
    tables: list[Table]
    scenario_tables: list[Table]
    scenario_yaml: str
    method: list[str]
    reproduce: str
    verdict_lead: str = ""                  # opening line when the baseline does not keep up
    wins: list[Table] = field(default_factory=list)     # where each model wins + every pair
    currency: str = ""
    run_id: str = ""                        # identity of the run (report DIR refuses to mix runs)
    assumptions: Any = None                 # "What this verdict assumes": sim/report/assumptions.py


def fmt_metric(metric: str, mean: float, half: float = math.nan, currency: str = "") -> str:
    """A metric value with its CI half-width, formatted for its kind (see :mod:`.format`)."""
    return fmt_value(metric, mean, half, currency or None)


def _verdict_table(rows: list[VerdictRow], baseline: str, baseline_unstable: bool = False,
                   level: float = CONFIDENCE_LEVEL) -> Table:
    """Numbers only (the sentences are listed beside it), so the table fits a narrow screen."""
    metrics = dict(VERDICT_METRICS)
    if any(SERVICE_METRIC[0] in r.cells for r in rows):
        metrics[SERVICE_METRIC[0]] = SERVICE_METRIC[1]
    # the reference column only when it varies from the baseline (baseline unstable)
    header = ["Policy", "Compared with", "Status", *metrics.values()]
    body, status = [], []
    for r in rows:
        if r.status == "ok":
            cells = [r.cells[m].text() if m in r.cells else "-" for m in metrics]
            label = "stable" + (" (see warm-up warning)" if r.caveats else "")
            against = r.baseline
        elif r.status == "only_stable":
            cells = ["only stable policy"] * len(metrics)
            label, against = "stable (the only one)", "-"
        else:
            cells = ["not compared"] * len(metrics)
            label = "UNSTABLE" if r.status == "unstable" else "baseline UNSTABLE"
            against = "-"
        body.append([r.policy, against, label, *cells])
        status.append("danger" if r.status in ("unstable", "baseline_unstable") else
                      "warning" if r.caveats else "ok")
    if not body:
        body.append(["-", "-", "-", *["-"] * len(metrics)])
        status.append("")
    ref = next((r.baseline for r in rows if r.status == "ok"), baseline)
    if not baseline_unstable:          # every row is compared with the baseline: the title says so
        header.pop(1)
        body = [row[:1] + row[2:] for row in body]
    note = (f"Relative change vs the policy it is compared with: the mean paired difference (policy − "
            f"reference, same customers, replication by replication) over the reference's mean, with "
            f"its {fmt_level(level)} Student-t interval on the same scale (never past −100 %: a full removal reads "
            f"“all removed”). “not clear” = the interval includes 0. Agent-time cost is busy "
            f"agent-minutes priced at wages: freed capacity, not payroll saved.")
    title = (f"Verdict: each policy compared with {baseline}" if not baseline_unstable else
             f"Verdict: {baseline} does not keep up; stable policies compared with {ref}"
             if ref != baseline and any(r.status == "ok" for r in rows) else
             f"Verdict: {baseline} does not keep up")
    return Table(title, header, body, note, status)


def _key_metrics(a: Analysis, policies: list[str], currency: str = "") -> Table:
    idx = a.summary.assign(policy=a.summary["policy"].astype(str)).set_index(["policy", "metric"])
    present = set(a.summary["metric"])
    metrics = [m for m in KEY_METRICS if m in present]
    metrics += [m for m in ("payroll", "payroll_per_resolved") if m in present and m not in metrics]
    metrics += sorted(m for m in present if is_utilisation(m))
    rows = []
    for m in metrics:
        cells = []
        for p in policies:
            if (p, m) in idx.index:
                r = idx.loc[(p, m)]
                cells.append(fmt_metric(m, float(r["mean"]), float(r["half_width"]), currency))
            else:
                cells.append("-")
        rows.append([metric_heading(m), *cells])
    unstable = set(a.unstable)
    header = ["metric", *(f"{p} (UNSTABLE)" if p in unstable else p for p in policies)]
    note = (f"Mean ± {fmt_level(a.level)} Student-t half-width over replications, to the precision of the interval; an "
            "interval that would pass a possible value (below 0, above 100 %) is shown as a range cut "
            "there.")
    if unstable:
        note += (" UNSTABLE: the system did not settle under this policy (see the warnings above), so its "
                 "numbers depend on the horizon and are not steady-state results.")
    return Table(f"Key metrics (mean ± {fmt_level(a.level)} CI over replications)", header, rows, note)


def _paired_table(a: Analysis, currency: str = "") -> Table | None:
    p = a.paired
    if p is None or p.empty:
        return None
    others = list(pd.unique(p["policy"]))
    metrics = [m for m in KEY_METRICS if m in set(p["metric"])]
    metrics += sorted(m for m in set(p["metric"]) if is_utilisation(m))
    idx = p.set_index(["policy", "metric"])
    rows = []
    for m in metrics:
        cells = []
        for pol in others:
            r = idx.loc[(pol, m)]
            d, h, u = float(r["diff_mean"]), float(r["diff_half"]), float(r["unpaired_half"])
            if math.isnan(d):
                cells.append("-")
                continue
            text = fmt_value(m, d, h, currency or None, signed=True)
            if not math.isnan(u) and u > 0:
                text += f" [unpaired {fmt_half(m, u, currency or None)}]"
            cells.append(text + (" ✔ clear" if bool(r["clear"]) else " · not clear"))
        rows.append([metric_heading(m), *cells])
    note = (f"Difference policy − baseline per replication (same customers), mean ± {fmt_level(a.level)} Student-t "
            "half-width. In brackets, the half-width the same comparison would have if the runs were "
            "independent: the paired interval is what common random numbers buy.")
    unstable = set(a.unstable)
    if unstable:
        note += (" UNSTABLE policies (" + ", ".join(sorted(unstable)) + ") did not settle: their "
                 "differences depend on the horizon and are no steady-state comparison.")
    title = f"All paired differences vs {a.baseline}" + (" (UNSTABLE)" if a.baseline in unstable else "")
    return Table(title, ["metric", *[f"{o} (UNSTABLE) − {a.baseline}" if o in unstable else f"{o} − {a.baseline}"
                                     for o in others]], rows, note)


def _group_table(summary: pd.DataFrame, by: str, title: str, policies: list[str],
                 currency: str = "", level: float = CONFIDENCE_LEVEL) -> Table | None:
    """One row per (group, metric), one column per policy: as narrow as the key-metrics table,
    so it stays readable on a 700 px screen however many metrics there are."""
    if summary is None or summary.empty:
        return None
    s = summary.assign(policy=summary["policy"].astype(str))
    metrics = [m for m in GROUP_METRICS if m in set(s["metric"])]
    idx = s.set_index([by, "policy", "metric"])
    rows = []
    for g in pd.unique(s[by]):
        for m in metrics:
            cells = []
            for p in policies:
                r = idx.loc[(g, p, m)] if (g, p, m) in idx.index else None
                cells.append("-" if r is None else
                             fmt_metric(m, float(r["mean"]), float(r["half_width"]), currency))
            rows.append([str(g), metric_heading(m, currency or None), *cells])
    return Table(title, [by, "metric", *policies], rows,
                 f"Mean ± {fmt_level(level)} Student-t half-width over replications, within each group.")


def _issue_change_table(a: Analysis) -> Table | None:
    """Where a policy gains or loses: the paired verdict metrics per issue type."""
    p = a.paired_by_issue
    unstable = set(a.unstable)
    if p is None or p.empty or a.baseline in unstable:    # no comparison with an unstable baseline
        return None
    idx = p.set_index(["issue", "policy", "metric"])
    rows = []
    for issue in pd.unique(p["issue"]):
        for pol in pd.unique(p["policy"]):
            if pol in unstable:
                rows.append([str(issue), f"{pol} (UNSTABLE)", *["not compared"] * len(VERDICT_METRICS)])
                continue
            cells = []
            for m in VERDICT_METRICS:
                if (issue, pol, m) not in idx.index:
                    cells.append("-")
                    continue
                r = idx.loc[(issue, pol, m)]
                cells.append(VerdictCell(m, float(r["baseline_mean"]), float(r["policy_mean"]),
                                         float(r["rel_mean"]), float(r["rel_half"]), float(r["diff_mean"]),
                                         float(r["diff_half"]), bool(r["clear"])).text())
            rows.append([str(issue), str(pol), *cells])
    return Table(f"By issue type: change vs {a.baseline}", ["issue", "policy", *VERDICT_METRICS.values()],
                 rows, "Same paired comparison as the verdict, within each issue type.")


def _scenario_tables(scn: Any) -> list[Table]:
    cur = currency_of(scn)
    explicit = bool(getattr(scn, "currency", None))

    def dist(d: Any) -> str:
        return describe_dist(d)

    segs = Table("Customer segments", ["name", "share", "priority", "patience",
                                       "first-response target (min)", "resolution target (min)"],
                 [[s.name, f"{s.share:.0%}".replace("%", " %"), str(s.priority),
                   dist(s.patience) if s.patience else "never abandons",
                   "-" if s.first_response_target is None else f"{s.first_response_target:g}",
                   "-" if s.resolution_target is None else f"{s.resolution_target:g}"] for s in scn.segments])
    issues = Table("Issue types", ["name", "share", "tier", "skill", "work"],
                   [[i.name, f"{i.share:.0%}".replace("%", " %"), str(i.tier), i.skill, dist(i.work)]
                    for i in scn.issues])
    teams = Table("Teams", ["name", "tier", "agents", "skills", f"cost per hour ({cur})", "diagnose"],
                  [[t.name, str(t.tier), str(t.agents), ", ".join(t.skills), f"{t.cost_per_hour:g}",
                    dist(t.diagnose)] for t in scn.teams])
    fr = scn.frictions
    rows = [
        ["arrivals per hour (Poisson)", f"{scn.arrivals.per_hour:g}"],
        ["horizon", f"{scn.horizon.days:g} days"], ["warm-up", f"{scn.horizon.warmup_days:g} days"],
        ["currency", cur + ("" if explicit else " (default; set `currency:` in the scenario)")],
    ]
    data = fr.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key, value in data.items():
        if isinstance(value, dict) and "dist" in value:
            text = describe_dist(value)
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        else:
            text = f"{value:g}" if isinstance(value, (int, float)) else str(value)
        rows.append([human_name(key), text])
    other = Table("Arrivals, horizon, currency and frictions", ["parameter", "value"], rows)
    pol = Table("Policies and parameters", ["policy", "parameters"],
                [[name, describe_params(params)] for name, params in (scn.policies or {}).items()])
    return [t for t in (segs, issues, teams, other, pol) if t.rows]


def reproduce_command(seed: int, replications: int, policies: list[str]) -> str:
    """The command that reruns this result from the report directory's ``scenario.yaml``.

    A policy loaded with ``--plugin`` needs the same option again (installed entry-point
    plug-ins are found by name); the registry remembers where each policy came from.
    """
    parts = ["supportsim", "run", "scenario.yaml", "--seed", str(seed),
             "--replications", str(replications)]
    for p in policies:
        origin = registry.source(p)
        if origin.startswith("--plugin "):
            parts += ["--plugin", origin[len("--plugin "):]]
    for p in policies:
        parts += ["--policy", p]
    return " ".join(shlex.quote(x) for x in parts)


def build_content(result: Any, a: Analysis) -> ReportContent:
    scn = result.scenario
    policies = [str(p) for p in result.policies]
    rows = verdict_rows(a)
    alerts: list[tuple[str, str]] = []
    cur = currency_of(scn)
    lead = verdict_lead(a)
    if len(policies) < 2:
        lead = f"Only {policies[0] if policies else a.baseline} was run: there is nothing to compare it with."
    for p in a.unstable:
        for finding in a.stability[p]:
            alerts.append(("danger", finding_text(finding)))
    for warm in a.warmup:
        if warm.status == "too_short":
            alerts.append(("warning", warm.message))
    seen = {t for _, t in alerts} | {f.message for f in a.findings}   # typed, not by prefix
    for w in result.warnings:
        if w not in seen:
            alerts.append(("warning", w))
    for n in a.notes:
        alerts.append(("info", n))
    if len(policies) < 2:
        alerts.append(("info", "only one policy was run, so there is nothing to compare"))
    if result.replications < 2:
        alerts.append(("warning", "only one replication: no confidence intervals, no statistically "
                                  "clear differences; run at least 5"))
    if not alerts:
        alerts.append(("ok", f"No stability or warm-up problems detected: every team stays below "
                             f"{UTILISATION_LIMIT * 100:g} % utilisation, no backlog keeps growing, and "
                             f"the warm-up looks adequate."))
    tables = [_key_metrics(a, policies, cur)]
    for t in (_paired_table(a, cur),
              _group_table(a.by_segment_summary, "segment", "By customer segment", policies, cur, a.level),
              _group_table(a.by_issue_summary, "issue", "By issue type", policies, cur, a.level),
              _issue_change_table(a)):
        if t is not None:
            tables.append(t)
    created = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    provenance = [
        ("scenario", scn.name), ("seed", str(result.seed)), ("replications", str(result.replications)),
        ("policies", ", ".join(policies)), ("baseline", a.baseline),
        ("horizon", f"{scn.horizon.days:g} days, warm-up {scn.horizon.warmup_days:g} days"),
        ("currency", cur),
        ("software", f"supportsim {result.version}"), ("report created", created),
    ]
    method = [
        measured_window(scn),
        "All policies see exactly the same customers in each replication (common random numbers), "
        "so differences are compared replication by replication (paired).",
        f"Confidence intervals are {fmt_level(a.level)} Student-t intervals over {result.replications} independent "
        f"replications; a difference is called statistically clear when its interval excludes zero.",
        f"Stability: a team at or above {UTILISATION_LIMIT * 100:g} % utilisation, or a backlog still "
        "growing over the second half "
        "of the horizon, marks the policy UNSTABLE; its numbers are then not compared, and it never "
        "wins a comparison. If the baseline is unstable, the stable policies are compared with each "
        "other.",
        "Where each model wins: within all tickets, each issue type and each segment, a policy wins when "
        "its mean is best and its paired interval against every other stable policy excludes zero; the "
        "margin is its lead over the runner-up (same customers), relative to the winner's mean.",
        "Warm-up check: the number of tickets in the system at the start of the measured window is "
        "compared with its level over the window's second half; a clear and material gap "
        f"(≥ {MATERIAL_SHARE * 100:g} %) means the warm-up is too short.",
        "Service level: share of tickets first touched by an agent within their segment's "
        "first-response target; a ticket never touched counts as missed, except one still waiting at "
        "the end that has not yet waited that long.",
    ]
    reproduce = reproduce_command(result.seed, result.replications, policies)
    from .assumptions import assumptions_section

    return ReportContent(
        assumptions=assumptions_section(result, a),
        title=f"supportsim report: {scn.name}", description=scn.description or "",
        provenance=provenance, alerts=alerts, verdict=_verdict_table(rows, a.baseline, a.baseline in set(a.unstable),
                                                                  a.level),
        verdict_rows=rows, tables=tables, scenario_tables=_scenario_tables(scn),
        scenario_yaml=yaml.safe_dump(scn.to_dict(), sort_keys=False, allow_unicode=True),
        method=method, reproduce=reproduce, verdict_lead=lead,
        wins=[wins_table(a, cur), *pair_matrices(a)] if len(policies) > 1 else [],
        currency=cur, run_id=run_id(result))
