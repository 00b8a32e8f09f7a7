"""Runtime domain objects of one simulated replication.

These are the engine's mutable state.  Policies receive them as *views*:
they may read any public attribute but must not assign to them (the
conformance kit in :mod:`sim.testing` catches policies that break the
engine's invariants).
"""
from .agents import Agent, TeamRuntime
from .customers import CustomerStream
from .queues import TicketQueue
from .tickets import Ticket, Outcome

__all__ = ["Agent", "TeamRuntime", "CustomerStream", "TicketQueue", "Ticket", "Outcome"]
