"""Policies: one module per policy, all written against :mod:`sim.policies.base`."""
from .base import (AgentView, Decision, HandOff, Org, Policy, PolicyError, PolicyParams,
                   QueueSpec, Swarm, TeamView, TicketView)
from . import registry

__all__ = ["AgentView", "Decision", "HandOff", "Org", "Policy", "PolicyError", "PolicyParams",
           "QueueSpec", "Swarm", "TeamView", "TicketView", "registry"]
