"""Ticket outcomes and the engine's trace activity names: defined once, here.

Why here: the engine writes these names, the results tables decode the
outcome codes, the event-log exporter maps the trace activities to its own
public vocabulary, and the docs list them all.  One definition keeps the four
in step.  Pure data: imports nothing from ``sim``.
"""
from __future__ import annotations

__all__ = ["OUTCOMES", "OUTCOME_MEANINGS", "OPEN", "RESOLVED", "ABANDONED", "TRACE_ACTIVITIES",
           "TRACE_INTERVAL_ACTIVITIES", "TRACE_INSTANT_ACTIVITIES", "LOG_ACTIVITIES",
           "ENGINE_TO_LOG"]

# ---- outcomes: tickets.parquet `outcome`; the index is the engine's Outcome code --------------
OPEN = "open"
RESOLVED = "resolved"
ABANDONED = "abandoned"
OUTCOMES: tuple[str, ...] = (OPEN, RESOLVED, ABANDONED)
OUTCOME_MEANINGS: dict[str, str] = {
    OPEN: "neither resolved nor abandoned when the horizon ended",
    RESOLVED: "resolved; a reopened ticket by its final resolution (resolution_min runs from the "
              "first arrival), or still away after a failed fix when the horizon ended",
    ABANDONED: "the customer gave up waiting (total queued time exceeded their patience)",
}

# ---- engine trace activities (sim.engine's trace; the event log renames them) ------------------
#: instantaneous events: start == end
TRACE_INSTANT_ACTIVITIES: dict[str, str] = {
    "created": "the ticket arrives",
    "queued": "the ticket joins a queue (detail: the queue)",
    "taken": "an agent takes the ticket",
    "swarm_requested": "a swarm owner asks for helpers (detail: the request queue)",
    "helper_joined": "a helper joins the swarm",
    "resolved": "the ticket is resolved",
    "abandoned": "the customer gives up",
    "reopened": "a resolved ticket comes back",
    "interrupted": "an agent leaves this ticket to help a swarm",
    "helper_unfit": "the helper a swarm owner found cannot resolve it (the owner searches again)",
    "open": "the ticket is still open at the horizon (bookkeeping; not in the event log)",
}
#: activities that take an agent's time (start < end, or zero-length draws)
TRACE_INTERVAL_ACTIVITIES: dict[str, str] = {
    "repeat": "the customer explains the problem again to a new agent",
    "work": "an agent works on the ticket",
    "diagnose": "an agent finds out their team cannot resolve it",
    "handoff": "the passing agent writes the handoff up",
    "hold": "a swarm owner holds the ticket while waiting for a helper",
    "swarm_work": "owner and helpers work on the ticket together",
    "help": "a helper's time in a swarm",
    "context_switch": "getting back into a ticket after an interruption",
    "swarm_search": "a swarm owner looks for a helper before asking (frictions.swarm_search)",
}
TRACE_ACTIVITIES: dict[str, str] = {**TRACE_INSTANT_ACTIVITIES, **TRACE_INTERVAL_ACTIVITIES}

# ---- event-log activities (the public `concept:name` values, docs/eventlog.md) ------------------
LOG_ACTIVITIES: dict[str, str] = {
    "created": "the ticket arrives",
    "queued": "the ticket joins a queue",
    "taken": "an agent takes the ticket",
    "customer_repeated_issue": "the customer explains the problem again",
    "worked": "an agent works on the ticket",
    "diagnosed": "an agent finds out their team cannot resolve it",
    "handed_off": "the ticket is passed on (the write-up's time)",
    "swarm_requested": "a swarm owner asks for helpers",
    "waited_for_helper": "the owner holds the ticket waiting for a helper",
    "helper_joined": "a helper joins",
    "swarm_worked": "owner and helpers work together",
    "helped": "a helper's time in the swarm",
    "helper_left": "a helper leaves the swarm",
    "resolved": "the ticket is resolved",
    "abandoned": "the customer gives up",
    "reopened": "a resolved ticket comes back",
    "interrupted": "an agent leaves this ticket to help a swarm",
    "context_switched": "getting back into a ticket after an interruption",
    "searched_for_helper": "a swarm owner looks for a helper before asking",
    "helper_unfit": "the helper found cannot resolve it; the owner searches again",
}

#: engine trace activity -> event-log activity; ``None`` = not written (``open`` is the
#: simulator closing its books at the horizon: a real log has no such event)
ENGINE_TO_LOG: dict[str, str | None] = {
    "created": "created", "queued": "queued", "taken": "taken", "repeat": "customer_repeated_issue",
    "work": "worked", "diagnose": "diagnosed", "handoff": "handed_off",
    "swarm_requested": "swarm_requested", "hold": "waited_for_helper",
    "helper_joined": "helper_joined", "swarm_work": "swarm_worked", "help": "helped",
    "resolved": "resolved", "abandoned": "abandoned", "reopened": "reopened", "reopen": "reopened",
    "interrupted": "interrupted", "context_switch": "context_switched", "open": None,
    "swarm_search": "searched_for_helper", "helper_unfit": "helper_unfit",
}
