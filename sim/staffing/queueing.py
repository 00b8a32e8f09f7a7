"""Queueing approximations that give the staffing search its starting point. Pure functions.

Each team is treated as its own M/M/c queue whose offered load ``a`` (in
agents: busy agent-minutes per minute) is what the policy actually routed to
it in a first simulation at the current staffing.  The load depends on the
policy - swarming sends helpers' time to every team, tiered sends every ticket
through tier 1 - which is why the start differs per policy even on the same
customers.

* Erlang C gives P(wait) = C(c, a) for ``c`` agents (exact for M/M/c);
* square-root staffing (Halfin & Whitt) says the ``c`` reaching a given
  service grade grows like ``a + beta * sqrt(a)``, with ``beta`` fixing
  P(wait) ~ 1 / (1 + beta * Phi(beta) / phi(beta)) whatever the size of the team.

So one number, ``beta``, indexes a whole family of staffings that give every
team the same grade of service: for each team the fewest agents whose exact
Erlang C P(wait) is at most the grade of ``beta`` (and whose load stays under
the utilisation cap).  The search picks the cheapest member of that family
that meets the targets in simulation, then moves agent by agent.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from ..theory import erlang_c

__all__ = ["erlang_c", "halfin_whitt_p_wait", "erlang_c_agents", "grade_staffing",
           "staffing_family", "BETAS"]

#: the grades of service the family spans: from "just under the utilisation cap" (0) to
#: "almost nobody waits" (4: P(wait) about 0.0002)
BETAS: tuple[float, ...] = tuple(0.25 * i for i in range(17))


def halfin_whitt_p_wait(beta: float) -> float:
    """P(wait) of square-root staffing ``c = a + beta sqrt(a)`` in the many-server limit."""
    if beta <= 0:
        return 1.0
    phi = math.exp(-beta * beta / 2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(beta / math.sqrt(2)))
    return 1.0 / (1.0 + beta * big_phi / phi)


def erlang_c_agents(offered: float, p_wait: float, max_utilisation: float = 1.0,
                    limit: int = 100_000) -> int:
    """Fewest agents with Erlang C P(wait) <= ``p_wait`` and load ``a / c`` <= ``max_utilisation``."""
    if offered <= 0:
        return 1
    c = max(1, math.ceil(offered / max_utilisation - 1e-9))
    if offered / c > max_utilisation + 1e-12:
        c += 1
    while c < limit and (offered >= c or erlang_c(c, offered) > p_wait):
        c += 1
    return c


def grade_staffing(loads: Mapping[str, float], beta: float, max_utilisation: float) -> dict[str, int]:
    """Every team at the grade of service of ``beta`` (exact Erlang C, see the module docstring)."""
    p = halfin_whitt_p_wait(beta)
    return {team: erlang_c_agents(a, p, max_utilisation) for team, a in loads.items()}


def staffing_family(loads: Mapping[str, float], max_utilisation: float,
                    lower: Mapping[str, int], upper: Mapping[str, int],
                    fixed: Mapping[str, int], betas: Sequence[float] = BETAS) -> list[dict[str, int]]:
    """The distinct staffings of the grade family, cheapest grade first, clamped to the bounds.

    Teams in ``fixed`` keep their agents.  Every member is at least as large as
    the one before it in every team, so "meets the targets" is (nearly) monotone
    along the list and a bisection finds the first member that does.
    """
    out: list[dict[str, int]] = []
    for beta in betas:
        s = grade_staffing({t: a for t, a in loads.items() if t not in fixed}, beta, max_utilisation)
        s = {t: fixed[t] if t in fixed else min(max(s[t], lower[t]), upper[t]) for t in loads}
        if not out or s != out[-1]:
            out.append(s)
    return out
