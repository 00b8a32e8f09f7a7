"""The headline verdict: each policy against the baseline, in numbers and in one sentence.

Relative differences are the mean paired difference (policy − baseline, per
replication; see :mod:`sim.analysis.compare`) over the baseline's mean, with
its 95 % Student-t half-width on the same scale.  A difference is only
described as a gain or a loss when its interval excludes zero; otherwise the
sentence says there is no clear difference.  An unstable policy is never given
a normal verdict.

When the baseline itself is unstable (it cannot keep up with the load), the
verdict does not give up: the stable policies are compared with each other
(with the first stable one, in run order), and a lone stable policy is named
as the only one that keeps up - it is the answer, not a warning.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import pandas as pd

from ..analysis import Analysis, paired_differences
from ..schema import metric_info, verdict_metrics
from .format import fmt_pct, fmt_pp, fmt_rel

__all__ = ["VERDICT_METRICS", "SERVICE_METRIC", "VerdictCell", "VerdictRow", "verdict_rows",
           "verdict_lead", "fmt_pct", "nice_policy", "finding_text", "reference_policy"]

# which metrics the verdict shows, and their headings, come from the catalogue (sim.schema)
VERDICT_METRICS = {m.name: m.heading for m in verdict_metrics() if m.requires is None}
# shown only when the scenario sets first-response targets; compared in percentage points
SERVICE_METRIC = ("service_level", metric_info("service_level").heading)


@dataclass
class VerdictCell:
    metric: str
    baseline_mean: float
    policy_mean: float
    rel: float            # mean paired difference / baseline mean (NaN if the baseline is 0)
    rel_half: float
    diff: float
    diff_half: float
    clear: bool

    def text(self) -> str:
        """Compact cell: relative change with its interval (never past −100 %), or pp for shares."""
        if math.isnan(self.policy_mean):
            return "-"
        if self.metric == SERVICE_METRIC[0]:
            body = f"{self.policy_mean:.1%} vs {self.baseline_mean:.1%}".replace("%", " %")
            if not math.isnan(self.diff_half):
                body += f" ({fmt_pp(self.diff, self.diff_half)})"
        else:
            body = fmt_rel(self.rel, self.rel_half, self.policy_mean, self.baseline_mean)
        removed = self.policy_mean == 0 and self.baseline_mean > 0
        return body + ("" if self.clear or removed else " · not clear")


@dataclass
class VerdictRow:
    policy: str
    baseline: str                     # the policy this row is compared with
    status: str                       # "ok" | "unstable" | "baseline_unstable" | "only_stable"
    cells: dict[str, VerdictCell] = field(default_factory=dict)
    sentence: str = ""
    caveats: list[str] = field(default_factory=list)


def nice_policy(name: str) -> str:
    """``skill_routing`` -> ``Skill routing`` (for sentences)."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _plain(name: str) -> str:
    return str(name).replace("_", " ")


def finding_text(finding: Any) -> str:
    """A stability finding as text, whether it is a string or a typed record."""
    for attr in ("message", "text"):
        value = getattr(finding, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(finding)


def _cell(paired: pd.DataFrame, policy: str, metric: str) -> Optional[VerdictCell]:
    row = paired[(paired["policy"] == policy) & (paired["metric"] == metric)]
    if row.empty:
        return None
    r = row.iloc[0]
    return VerdictCell(metric, float(r["baseline_mean"]), float(r["policy_mean"]), float(r["rel_mean"]),
                       float(r["rel_half"]), float(r["diff_mean"]), float(r["diff_half"]), bool(r["clear"]))


def _pm(c: VerdictCell) -> str:
    """' (±3.1 %)', or the interval as a range where it would pass −100 %."""
    if math.isnan(c.rel_half) or c.rel_half == 0:
        return ""
    full = fmt_rel(c.rel, c.rel_half, c.policy_mean, c.baseline_mean)
    return full[full.index(" ("):] if " (" in full else ""


def _resolution_phrase(c: Optional[VerdictCell]) -> str:
    if c is None or math.isnan(c.rel):
        return "cannot be compared on resolution time"
    if not c.clear:
        text = fmt_rel(c.rel, c.rel_half, c.policy_mean, c.baseline_mean)
        if " (±" in text:                     # "−14 % ± 37 %": no parentheses inside parentheses
            text = text.replace(" (±", " ± ")[:-1]
        return f"shows no clear difference in resolution time ({text})"
    word = "faster" if c.rel < 0 else "slower"
    return f"resolves tickets {fmt_pct(c.rel, c.rel_half)} {word}{_pm(c)}"


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
        return "cuts", f"cuts {noun} by {fmt_pct(c.rel, c.rel_half)}{_pm(c)}"
    return "more", f"has {fmt_pct(c.rel, c.rel_half)}{_pm(c)} more {noun}"


COST_NOUN = "agent-time cost per resolved ticket (busy agent-minutes priced at wages)"


def _cost_phrase(c: Optional[VerdictCell]) -> str:
    if c is None or math.isnan(c.rel):
        return "agent-time cost per resolved ticket cannot be compared"
    if not c.clear:
        return "with no clear difference in agent-time cost per resolved ticket"
    word = "higher" if c.rel > 0 else "lower"
    return f"at {fmt_pct(c.rel, c.rel_half)}{_pm(c)} {word} {COST_NOUN}"


def _service_phrase(c: Optional[VerdictCell]) -> str:
    if c is None or math.isnan(c.policy_mean) or math.isnan(c.baseline_mean):
        return ""
    if not c.clear:
        return (f" Service level shows no clear change ({c.policy_mean:.1%} of tickets first touched "
                f"within target vs {c.baseline_mean:.1%}).").replace("%", " %")
    word = "more" if c.diff > 0 else "fewer"
    pp = fmt_pp(abs(c.diff), c.diff_half).lstrip("+")       # "3.4 pp ± 1.2 pp"
    return (f" It first-touches {pp} {word} tickets within target "
            f"({c.policy_mean:.1%} vs {c.baseline_mean:.1%}).").replace("%", " %")


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
            f"{_plain(baseline)}.{_service_phrase(cells.get(SERVICE_METRIC[0]))}")


def reference_policy(analysis: Analysis) -> Optional[str]:
    """The policy the verdict compares with: the baseline, or (baseline unstable) the first stable one."""
    unstable = set(analysis.unstable)
    if analysis.baseline not in unstable:
        return analysis.baseline
    policies = [str(p) for p in pd.unique(analysis.per_rep["policy"].astype(str))] if len(analysis.per_rep) else []
    stable = [p for p in policies if p not in unstable]
    return stable[0] if stable else None


def _stable_policies(analysis: Analysis) -> list[str]:
    unstable = set(analysis.unstable)
    policies = [str(p) for p in pd.unique(analysis.per_rep["policy"].astype(str))] if len(analysis.per_rep) else []
    return [p for p in policies if p not in unstable]


def _first_finding(analysis: Analysis, policy: str) -> str:
    found = analysis.stability.get(policy) or []
    return finding_text(found[0]) if found else "unstable"


def verdict_lead(analysis: Analysis) -> str:
    """The verdict's opening line when the baseline does not keep up (else empty)."""
    base = analysis.baseline
    if base not in set(analysis.unstable):
        return ""
    stable = _stable_policies(analysis)
    unstable = [p for p in analysis.unstable]
    names = ", ".join(_plain(p) for p in unstable)
    if not stable:
        return (f"No policy keeps up at this load ({names} are all UNSTABLE), so none is compared: "
                f"add capacity or lower the load and run again.")
    if len(stable) == 1:
        return (f"Only {_plain(stable[0])} keeps up at this load: {names} "
                f"{'is' if len(unstable) == 1 else 'are'} UNSTABLE (the queue does not settle), "
                f"so {_plain(stable[0])} is the only workable model here.")
    return (f"The baseline {_plain(base)} does not keep up at this load (UNSTABLE); among the stable "
            f"policies ({', '.join(_plain(p) for p in stable)}), each is compared with {_plain(stable[0])}.")


def verdict_rows(analysis: Analysis) -> list[VerdictRow]:
    """One row per policy other than the reference, in run order (and one per unstable baseline)."""
    base = analysis.baseline
    unstable = set(analysis.unstable)
    warm = {w.policy: w for w in analysis.warmup}
    rows: list[VerdictRow] = []
    if analysis.paired is None or analysis.paired.empty:
        return rows
    ref = reference_policy(analysis)
    paired = analysis.paired
    if base in unstable:
        stable = _stable_policies(analysis)
        if len(stable) >= 2:
            per_rep = analysis.per_rep[analysis.per_rep["policy"].astype(str).isin(stable)]
            paired = paired_differences(per_rep, ref, level=analysis.level)
        order = [base] + [p for p in pd.unique(analysis.paired["policy"])]
    else:
        order = list(pd.unique(analysis.paired["policy"]))
    for policy in order:
        policy = str(policy)
        if policy == ref:
            continue
        if policy in unstable:
            row = VerdictRow(policy=policy, baseline=ref or base, status="unstable")
            role = " (the baseline)" if policy == base else ""
            row.sentence = (f"{nice_policy(policy)}{role} is UNSTABLE in this scenario, so its numbers are "
                            f"not a steady-state result and are not compared: "
                            f"{_first_finding(analysis, policy)}.")
        elif ref is None or (base in unstable and len(_stable_policies(analysis)) == 1):
            row = VerdictRow(policy=policy, baseline=base, status="only_stable")
            row.sentence = (f"{nice_policy(policy)} is the only policy that keeps up at this load; there is "
                            f"no other stable policy to compare it with (its own numbers are in the "
                            f"key-metrics table).")
        else:
            cells = {m: c for m in [*VERDICT_METRICS, SERVICE_METRIC[0]]
                     if (c := _cell(paired, policy, m)) is not None}
            row = VerdictRow(policy=policy, baseline=ref, status="ok", cells=cells,
                             sentence=_sentence(policy, ref, cells))
            if base in unstable:
                row.sentence = "Among the stable policies: " + row.sentence
        for p in (policy, ref):
            w = warm.get(p) if p is not None else None
            if w is not None and w.status == "too_short":
                row.caveats.append(f"warm-up looks too short under {p}")
        rows.append(row)
    # a lone stable policy that is the reference itself (the baseline is unstable) gets its row too
    stable = _stable_policies(analysis)
    if base in unstable and len(stable) == 1 and not any(r.policy == stable[0] for r in rows):
        only = stable[0]
        row = VerdictRow(policy=only, baseline=base, status="only_stable",
                         sentence=(f"{nice_policy(only)} is the only policy that keeps up at this load; "
                                   f"there is no other stable policy to compare it with (its own "
                                   f"numbers are in the key-metrics table)."))
        rows.append(row)
    return rows
