"""Analysis: turns saved or in-memory results into metrics. Reads results only.

    >>> from sim.analysis import analyze
    >>> a = analyze(result)            # a SimulationResult (from simulate or load_result)
    >>> a.summary, a.paired, a.by_issue_summary, a.warmup, a.stability

Modules: :mod:`.metrics` (per-replication metrics and t intervals; one function per
metric of the catalogue :mod:`sim.schema`), :mod:`.compare` (paired differences against a
baseline policy), :mod:`.health` (warm-up adequacy), :mod:`.stability` (typed stability
findings).  Pure functions of result tables and the scenario: nothing here imports the
engine, the runner, execution, outputs or the CLI.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pandas as pd

from .compare import DEFAULT_BASELINE, choose_baseline, paired_differences, unpaired_interval
from .health import MATERIAL_SHARE, WarmupFinding, measured_window, warmup_check
from .metrics import (METRIC_LABELS, group_metrics, is_share_metric, metric_label,
                      replication_metrics, summarize, t_interval, ticket_targets)
from .stability import (UTILISATION_LIMIT, Finding, backlog_growth, stability_findings,
                        stability_flags, stability_warnings)

__all__ = [
    "replication_metrics", "group_metrics", "summarize", "t_interval", "METRIC_LABELS",
    "metric_label", "ticket_targets", "paired_differences",
    "unpaired_interval", "choose_baseline", "DEFAULT_BASELINE", "warmup_check",
    "WarmupFinding", "stability_flags", "measured_window", "Analysis", "analyze",
    "Finding", "stability_findings", "stability_warnings", "backlog_growth", "UTILISATION_LIMIT",
    "MATERIAL_SHARE", "is_share_metric",
]


@dataclass
class Analysis:
    """Everything the report shows, computed once from a result."""

    baseline: str
    per_rep: pd.DataFrame
    summary: pd.DataFrame
    paired: pd.DataFrame
    by_segment: pd.DataFrame
    by_segment_summary: pd.DataFrame
    by_issue: pd.DataFrame
    by_issue_summary: pd.DataFrame
    paired_by_issue: pd.DataFrame
    stability: dict[str, list[Finding]]     # policy -> its findings (empty = stable)
    warmup: list[WarmupFinding]
    level: float = 0.95
    notes: list[str] = field(default_factory=list)

    @property
    def unstable(self) -> list[str]:
        return [p for p, w in self.stability.items() if w]

    @property
    def findings(self) -> list[Finding]:
        """Every stability finding, policy by policy."""
        return [f for found in self.stability.values() for f in found]


def analyze(result: Any, baseline: Optional[str] = None, level: float = 0.95) -> Analysis:
    """Run every analysis on a :class:`~sim.results.SimulationResult`."""
    policies = [str(p) for p in result.policies]
    notes = []
    chosen = choose_baseline(policies, baseline or DEFAULT_BASELINE)
    if baseline is not None and chosen != baseline:
        raise ValueError(f"baseline policy {baseline!r} was not run ({', '.join(policies)})")
    if baseline is None and chosen != DEFAULT_BASELINE:
        notes.append(f"'{DEFAULT_BASELINE}' was not run, so policies are compared with '{chosen}'")
    scn = result.scenario
    # a SimulationResult computes (and keeps) its per-replication metrics once
    per_rep = getattr(result, "per_replication", None)
    if per_rep is None:
        per_rep = replication_metrics(result.tickets, result.teams, scn)
    summary = getattr(result, "summary", None) if level == 0.95 else None
    if summary is None:
        summary = summarize(per_rep, level)
    by_seg = group_metrics(result.tickets, "segment", scn)
    by_iss = group_metrics(result.tickets, "issue", scn)
    stab = stability_flags(result)
    paired = paired_differences(per_rep, chosen, level=level) if len(policies) > 1 else pd.DataFrame()
    paired_iss = (paired_differences(by_iss, chosen, level=level, by="issue")
                  if len(policies) > 1 and len(by_iss) else pd.DataFrame())
    return Analysis(
        baseline=chosen, per_rep=per_rep, summary=summary,
        paired=paired,
        by_segment=by_seg, by_segment_summary=summarize(by_seg, level, by="segment") if len(by_seg) else by_seg,
        by_issue=by_iss, by_issue_summary=summarize(by_iss, level, by="issue") if len(by_iss) else by_iss,
        paired_by_issue=paired_iss, stability=stab,
        warmup=warmup_check(result.backlog, scn, skip=[p for p, w in stab.items() if w], level=level),
        level=level, notes=notes,
    )
