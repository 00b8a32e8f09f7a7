"""The headline verdict: each policy against the baseline, in numbers and in one sentence.

Relative differences are means over replications of ``policy / baseline - 1``
(paired, see :mod:`sim.analysis.compare`) with their 95 % Student-t
half-width.  A difference is only described as a gain or a loss when its
interval excludes zero; otherwise the sentence says there is no clear
difference.  An unstable policy (or baseline) is never given a normal
verdict.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import pandas as pd

from ..analysis import Analysis

__all__ = ["VERDICT_METRICS", "SERVICE_METRIC", "VerdictCell", "VerdictRow", "verdict_rows", "fmt_pct", "nice_policy"]

VERDICT_METRICS = {
    "resolution_mean_min": "Mean resolution time",
    "repeats_per_ticket": "Repeats per ticket",
    "handoffs_per_ticket": "Handoffs per ticket",
    "cost_per_resolved": "Labour cost per resolved ticket",
}
# shown only when the scenario sets first-response targets; compared in percentage points
SERVICE_METRIC = ("service_level", "Service level (first touch within target)")


@dataclass
class VerdictCell:
    metric: str
    baseline_mean: float
    policy_mean: float
    rel: float            # policy / baseline - 1 (NaN if the baseline is 0)
    rel_half: float
    diff: float
    diff_half: float
    clear: bool

    def text(self) -> str:
        """Compact cell: relative change ± half-width, or absolute values when relative is undefined."""
        if math.isnan(self.policy_mean):
            return "-"
        if self.metric == SERVICE_METRIC[0]:
            body = f"{self.policy_mean:.1%} vs {self.baseline_mean:.1%}"
            if not math.isnan(self.diff_half):
                pp = f"{self.diff * 100:+.1f}".replace("-", "−")
                body += f" ({pp} ± {self.diff_half * 100:.1f} pp)"
        elif not math.isnan(self.rel):
            sign = "+" if self.rel > 0 else "−" if self.rel < 0 else ""
            body = f"{sign}{fmt_pct(abs(self.rel))}" if self.rel != 0 else "0 %"
            if not math.isnan(self.rel_half) and self.rel_half > 0:
                body += f" (±{fmt_pct(self.rel_half)})"
        else:
            body = f"{self.baseline_mean:.2f} → {self.policy_mean:.2f}"
        return body + ("" if self.clear else " · not clear")


@dataclass
class VerdictRow:
    policy: str
    baseline: str
    status: str                       # "ok" | "unstable" | "baseline_unstable"
    cells: dict[str, VerdictCell] = field(default_factory=dict)
    sentence: str = ""
    caveats: list[str] = field(default_factory=list)


def nice_policy(name: str) -> str:
    """``skill_routing`` -> ``Skill routing`` (for sentences)."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def fmt_pct(x: float) -> str:
    """0.312 -> '31 %', 0.043 -> '4.3 %', 0.0004 -> '0.04 %'."""
    if x is None or math.isnan(x):
        return "?"
    v = abs(x) * 100
    if v >= 10:
        return f"{v:.0f} %"
    if v >= 1:
        return f"{v:.1f} %"
    return f"{v:.2f} %"


def _cell(paired: pd.DataFrame, policy: str, metric: str) -> Optional[VerdictCell]:
    row = paired[(paired["policy"] == policy) & (paired["metric"] == metric)]
    if row.empty:
        return None
    r = row.iloc[0]
    return VerdictCell(metric, float(r["baseline_mean"]), float(r["policy_mean"]), float(r["rel_mean"]),
                       float(r["rel_half"]), float(r["diff_mean"]), float(r["diff_half"]), bool(r["clear"]))


def _pm(c: VerdictCell) -> str:
    return "" if math.isnan(c.rel_half) or c.rel_half == 0 else f" (±{fmt_pct(c.rel_half)})"


def _resolution_phrase(c: Optional[VerdictCell]) -> str:
    if c is None or math.isnan(c.rel):
        return "cannot be compared on resolution time"
    if not c.clear:
        spread = "" if math.isnan(c.rel_half) else f" ± {fmt_pct(c.rel_half)}"
        return (f"shows no clear difference in resolution time "
                f"({'+' if c.rel >= 0 else '−'}{fmt_pct(c.rel)}{spread})")
    word = "faster" if c.rel < 0 else "slower"
    return f"resolves tickets {fmt_pct(c.rel)} {word}{_pm(c)}"


def _count_phrase(c: Optional[VerdictCell], noun: str) -> tuple[str, str]:
    """(kind, phrase) for handoffs/repeats; kind groups identical outcomes for merging."""
    if c is None or math.isnan(c.policy_mean):
        return "none", ""
    if c.policy_mean == 0 and c.baseline_mean > 0:
        return "removes", f"removes all {noun}"
    if c.policy_mean == 0 and c.baseline_mean == 0:
        return "neither", f"{noun}: none under either"
    if c.baseline_mean == 0:
        return "adds", f"introduces {noun} ({c.policy_mean:.2f} per ticket)"
    if not c.clear:
        return "unclear", f"no clear change in {noun}"
    if c.rel < 0:
        return "cuts", f"cuts {noun} by {fmt_pct(c.rel)}{_pm(c)}"
    return "more", f"has {fmt_pct(c.rel)}{_pm(c)} more {noun}"


def _cost_phrase(c: Optional[VerdictCell]) -> str:
    if c is None or math.isnan(c.rel):
        return "cost per resolved ticket cannot be compared"
    if not c.clear:
        return "with no clear difference in labour cost per resolved ticket"
    if c.rel > 0:
        return f"at {fmt_pct(c.rel)}{_pm(c)} higher labour cost per resolved ticket"
    return f"at {fmt_pct(c.rel)}{_pm(c)} lower labour cost per resolved ticket"


def _service_phrase(c: Optional[VerdictCell]) -> str:
    if c is None or math.isnan(c.policy_mean) or math.isnan(c.baseline_mean):
        return ""
    if not c.clear:
        return (f" Service level shows no clear change ({c.policy_mean:.1%} of tickets first touched "
                f"within target vs {c.baseline_mean:.1%}).")
    word = "more" if c.diff > 0 else "fewer"
    return (f" It first-touches {abs(c.diff) * 100:.1f} percentage points {word} tickets within target "
            f"({c.policy_mean:.1%} vs {c.baseline_mean:.1%}).")


def _sentence(policy: str, baseline: str, cells: dict[str, VerdictCell]) -> str:
    res = _resolution_phrase(cells.get("resolution_mean_min"))
    rk, rp = _count_phrase(cells.get("repeats_per_ticket"), "repeats")
    hk, hp = _count_phrase(cells.get("handoffs_per_ticket"), "handoffs")
    if rk == hk == "removes":
        counts = ["removes all handoffs and repeats"]
    elif rk == hk == "neither":
        counts = []
    elif rk == hk == "unclear":
        counts = ["no clear change in handoffs or repeats"]
    else:
        counts = [p for p in (hp, rp) if p]
    parts = [res] + counts
    body = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (f"{nice_policy(policy)} {body}, {_cost_phrase(cells.get('cost_per_resolved'))}, compared with "
            f"{baseline}.{_service_phrase(cells.get(SERVICE_METRIC[0]))}")


def verdict_rows(analysis: Analysis) -> list[VerdictRow]:
    """One row per non-baseline policy, in the order the policies were run."""
    base = analysis.baseline
    unstable = set(analysis.unstable)
    warm = {w.policy: w for w in analysis.warmup}
    rows = []
    if analysis.paired is None or analysis.paired.empty:
        return rows
    for policy in pd.unique(analysis.paired["policy"]):
        cells = {m: c for m in [*VERDICT_METRICS, SERVICE_METRIC[0]]
                 if (c := _cell(analysis.paired, policy, m)) is not None}
        row = VerdictRow(policy=policy, baseline=base, status="ok", cells=cells)
        if policy in unstable:
            row.status = "unstable"
            row.sentence = (f"{nice_policy(policy)} is UNSTABLE in this scenario, so its numbers are not a "
                            f"steady-state result and are not compared: {analysis.stability[policy][0]}.")
        elif base in unstable:
            row.status = "baseline_unstable"
            row.sentence = (f"The baseline {base} is UNSTABLE in this scenario, so no policy is compared "
                            f"with it: {analysis.stability[base][0]}.")
        else:
            row.sentence = _sentence(policy, base, cells)
        for p in (policy, base):
            w = warm.get(p)
            if w is not None and w.status == "too_short":
                row.caveats.append(f"warm-up looks too short under {p}")
        rows.append(row)
    return rows
