"""Policies: one module per policy, all written against :mod:`sim.policies.base`.

Writing one: ``docs/writing-a-policy.md``.  Checking one: :mod:`sim.testing`.
"""
from .base import (HELPER_MODES, AgentView, Decision, HandOff, Org, Policy, PolicyError,
                   PolicyParams, QueueSpec, Swarm, TeamView, TicketView, policy_problems)
from . import registry
from .registry import PluginError, register

__all__ = ["AgentView", "Decision", "HELPER_MODES", "HandOff", "Org", "PluginError", "Policy",
           "PolicyError", "PolicyParams", "QueueSpec", "Swarm", "TeamView", "TicketView",
           "policy_problems", "register", "registry"]
