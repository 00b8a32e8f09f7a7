"""Closed-form queueing results the simulator is checked against.

Used by the test suite (and handy for sanity-checking a scenario by hand):
Erlang C for an M/M/c queue, and the open Jackson network that strict
tiering reduces to when work and diagnosis are exponential with equal means
at each tier and frictions are zero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_c(c: int, offered: float) -> float:
    """P(an arrival waits) in M/M/c with offered load ``offered = lambda / mu`` (< c)."""
    if offered >= c:
        return 1.0
    term, total = 1.0, 1.0            # a^k / k! accumulated stably
    for k in range(1, c):
        term *= offered / k
        total += term
    last = term * offered / c         # a^c / c!
    tail = last * c / (c - offered)
    return tail / (total + tail)


@dataclass(frozen=True)
class MMc:
    """Steady state of an M/M/c queue (rates per minute)."""

    arrival_rate: float
    mean_service: float
    servers: int

    @property
    def offered(self) -> float:
        return self.arrival_rate * self.mean_service

    @property
    def utilisation(self) -> float:
        return self.offered / self.servers

    @property
    def p_wait(self) -> float:
        return erlang_c(self.servers, self.offered)

    @property
    def mean_wait(self) -> float:
        mu = 1.0 / self.mean_service
        return self.p_wait / (self.servers * mu - self.arrival_rate)

    @property
    def mean_sojourn(self) -> float:
        return self.mean_wait + self.mean_service


def tiered_jackson(arrival_rate: float, shares: list[float], means: list[float],
                   servers: list[int]) -> dict[str, float]:
    """Strict tiering as an open Jackson network.

    ``shares[k]`` is the share of tickets whose tier is k+1; ``means[k]`` the
    (equal) mean of tier k+1's work and diagnosis; ``servers[k]`` its agents.
    A ticket of tier j visits tiers 1..j, so tier k sees every ticket of tier >= k.
    """
    nodes = []
    for k in range(len(shares)):
        lam_k = arrival_rate * sum(shares[k:])
        nodes.append(MMc(lam_k, means[k], servers[k]))
    visit_prob = [sum(shares[k:]) for k in range(len(shares))]
    sojourn = sum(p * n.mean_sojourn for p, n in zip(visit_prob, nodes))
    handoffs = sum(k * s for k, s in enumerate(shares))
    return {"mean_sojourn": sojourn, "handoffs_per_ticket": handoffs,
            "in_system": arrival_rate * sojourn,
            **{f"utilisation_{k + 1}": n.utilisation for k, n in enumerate(nodes)}}


def erlang_a_abandonment(c: int, arrival_rate: float, mean_service: float,
                         mean_patience: float, n_max: int = 2000) -> dict[str, float]:
    """M/M/c+M (Erlang A) by its birth-death chain: P(abandon), mean wait, P(wait)."""
    lam, mu, theta = arrival_rate, 1.0 / mean_service, 1.0 / mean_patience
    logp = [0.0]
    for n in range(1, n_max):
        death = min(n, c) * mu + max(n - c, 0) * theta
        logp.append(logp[-1] + math.log(lam) - math.log(death))
    m = max(logp)
    p = [math.exp(x - m) for x in logp]
    z = sum(p)
    p = [x / z for x in p]
    queue_len = sum(max(n - c, 0) * pn for n, pn in enumerate(p))
    abandon_rate = theta * queue_len
    return {"p_abandon": abandon_rate / lam, "mean_wait": queue_len / lam,
            "p_wait": sum(pn for n, pn in enumerate(p) if n >= c)}
