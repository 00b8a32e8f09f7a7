"""Shared test helpers: small scenario builders."""
from __future__ import annotations

import copy
from typing import Any

import os

import pytest
from hypothesis import HealthCheck, settings

from sim import scenario_from_dict

# Hypothesis profiles: "ci" (chosen when CI is set) is derandomised, so a CI failure reproduces
# exactly; "dev" explores new examples each run; "thorough" (--hypothesis-profile thorough)
# is for a long local hunt.  Simulation examples are slow, so none has a per-example deadline.
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=12, derandomize=True, database=None, print_blob=True, **_common)
settings.register_profile("dev", max_examples=20, **_common)
settings.register_profile("thorough", max_examples=300, **_common)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def mmc_dict(servers: int = 5, per_hour: float = 24.0, mean_work: float = 10.0, days: float = 30,
             warmup_days: float = 2, replications: int = 20, seed: int = 11) -> dict[str, Any]:
    """One team, one issue type, Poisson arrivals, exponential work: an M/M/c queue."""
    return {
        "name": "mmc", "seed": seed, "replications": replications,
        "horizon": {"days": days, "warmup_days": warmup_days},
        "arrivals": {"per_hour": per_hour},
        "issues": [{"name": "any", "share": 1.0, "tier": 1, "skill": "s",
                    "work": {"dist": "exponential", "mean": mean_work}}],
        "teams": [{"name": "T", "tier": 1, "agents": servers, "skills": ["s"], "cost_per_hour": 60}],
        "policies": {"tiered": {}},
    }


def three_tier_dict(**over: Any) -> dict[str, Any]:
    """A small copy of the default scenario's structure, with short horizon."""
    d = {
        "name": "three-tier", "seed": 5, "replications": 2,
        "horizon": {"days": 4, "warmup_days": 0.5},
        "arrivals": {"per_hour": 12},
        "segments": [
            {"name": "vip", "share": 0.2, "priority": 0, "patience": {"dist": "exponential", "mean": 120}},
            {"name": "std", "share": 0.8, "priority": 1},
        ],
        "issues": [
            {"name": "how_to", "share": 0.6, "tier": 1, "skill": "general",
             "work": {"dist": "lognormal", "mean": 15, "cv": 0.7}},
            {"name": "config", "share": 0.3, "tier": 2, "skill": "product",
             "work": {"dist": "gamma", "mean": 45, "cv": 0.8}},
            {"name": "defect", "share": 0.1, "tier": 3, "skill": "engineering",
             "work": {"dist": "lognormal", "mean": 120, "cv": 1.0}},
        ],
        "teams": [
            {"name": "L1", "tier": 1, "agents": 5, "skills": ["general"], "cost_per_hour": 30,
             "diagnose": {"dist": "exponential", "mean": 10}},
            {"name": "L2", "tier": 2, "agents": 5, "skills": ["general", "product"], "cost_per_hour": 50,
             "diagnose": {"dist": "triangular", "low": 5, "mode": 15, "high": 40}},
            {"name": "L3", "tier": 3, "agents": 4, "skills": ["general", "product", "engineering"],
             "cost_per_hour": 90},
        ],
        "frictions": {"handoff": {"dist": "fixed", "value": 5},
                      "repeat": {"dist": "uniform", "low": 3, "high": 9}, "swarm_overhead": 0.25},
        "policies": {"tiered": {}, "skill_routing": {"triage_accuracy": 0.85},
                     "swarming": {"max_helpers": 1}},
    }
    d = copy.deepcopy(d)
    d.update(over)
    return d


@pytest.fixture
def three_tier():
    return scenario_from_dict(three_tier_dict(), "three-tier")
