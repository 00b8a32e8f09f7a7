"""Service targets (``"METRIC<=X"``, ``"METRIC>=X"``) and the rule that decides whether one holds.

Pure: no simulation, no files.  A target *holds* for an evaluated staffing when
the whole 95 % confidence interval of the metric's mean over replications lies
on the allowed side of the bound (``ci_high <= X`` for ``<=``, ``ci_low >= X``
for ``>=``).  Judging by the interval, not the mean, is what makes an answer
survive fresh replications: a staffing whose mean only just meets the bound
is not accepted on the strength of one lucky sample.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable

__all__ = ["Target", "TargetError", "parse_target", "Interval", "violation", "holds"]

_FORM = re.compile(r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=)\s*(?P<bound>\S+)\s*$")


class TargetError(ValueError):
    """A target that does not parse or names a metric that does not exist (one line)."""


@dataclass(frozen=True)
class Target:
    metric: str
    op: str          # "<=" or ">="
    bound: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.bound:g}"

    @property
    def upper(self) -> bool:
        """True for ``<=`` (the metric must stay below the bound)."""
        return self.op == "<="


@dataclass(frozen=True)
class Interval:
    """Mean and 95 % interval of a metric over replications (NaN when not measurable)."""

    mean: float
    low: float
    high: float


def parse_target(text: str, known: Iterable[str]) -> Target:
    """``"wait_mean_min<=10"`` -> Target; raises TargetError naming what is wrong and what is allowed."""
    m = _FORM.match(text or "")
    if not m:
        raise TargetError(f"--target {text!r}: expected METRIC<=NUMBER or METRIC>=NUMBER, "
                          f"e.g. wait_mean_min<=10 or service_level>=0.8")
    metric, op, raw = m["metric"], m["op"], m["bound"]
    try:
        bound = float(raw)
    except ValueError:
        raise TargetError(f"--target {text!r}: bound {raw!r} is not a number") from None
    if not math.isfinite(bound):
        raise TargetError(f"--target {text!r}: bound must be a finite number, got {raw}")
    names = sorted(set(known))
    if metric not in names:
        requires = _catalogue_requirement(metric)
        if requires is not None:
            raise TargetError(f"--target {text!r}: {metric} is not computed for this scenario "
                              f"(it needs: {requires}); metrics it has: {', '.join(names)}")
        raise TargetError(f"--target {text!r}: unknown metric {metric!r}; summary.csv metrics of "
                          f"this scenario: {', '.join(names)}")
    return Target(metric, op, bound)


def _catalogue_requirement(metric: str) -> str | None:
    """What a catalogued metric needs from the scenario (None if the catalogue does not know it)."""
    from ..schema import METRICS

    info = METRICS.get(metric)
    if info is None:
        return None
    return getattr(info, "requires", None) or "a feature this scenario does not use"


def violation(target: Target, iv: Interval) -> float:
    """How far the interval's far end is on the wrong side of the bound, relative to the bound.

    <= 0 means the target holds; a metric that could not be measured (NaN) is
    an infinite violation.  Relative (divided by |bound|, or 1 for a bound of 0)
    so targets in minutes and in shares can be added when choosing where to add
    an agent.
    """
    edge = iv.high if target.upper else iv.low
    if edge is None or math.isnan(edge):
        edge = iv.mean          # a single replication has no interval: judge by its value
    if edge is None or math.isnan(edge):
        return math.inf
    scale = abs(target.bound) or 1.0
    return ((edge - target.bound) if target.upper else (target.bound - edge)) / scale


def holds(target: Target, iv: Interval) -> bool:
    return violation(target, iv) <= 0.0
