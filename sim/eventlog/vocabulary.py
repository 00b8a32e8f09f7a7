"""The event-log vocabulary: activity names and column names shared by export and calibration.

Why a separate module: the exporter writes these names and the calibrator
reads them back (and maps a real log's own names onto them), so both sides
must agree on one list.  Activity names are the public contract of the log.
"""
from __future__ import annotations

from ..schema.vocabulary import ENGINE_TO_LOG as _ENGINE_TO_LOG
from ..schema.vocabulary import LOG_ACTIVITIES

# ---- activities (the `concept:name` values) -----------------------------------------
CREATED = "created"
QUEUED = "queued"
TAKEN = "taken"
REPEATED = "customer_repeated_issue"
WORKED = "worked"
DIAGNOSED = "diagnosed"
HANDED_OFF = "handed_off"
SWARM_REQUESTED = "swarm_requested"
WAITED_FOR_HELPER = "waited_for_helper"
HELPER_JOINED = "helper_joined"
SWARM_WORKED = "swarm_worked"
HELPED = "helped"
HELPER_LEFT = "helper_left"
RESOLVED = "resolved"
ABANDONED = "abandoned"
REOPENED = "reopened"
INTERRUPTED = "interrupted"             # an agent leaves this ticket to help a swarm
CONTEXT_SWITCHED = "context_switched"   # getting back into a ticket after an interruption
SEARCHED_FOR_HELPER = "searched_for_helper"   # a swarm owner looks for a helper (swarm_search)
HELPER_UNFIT = "helper_unfit"           # the helper found cannot resolve it (swarm_helper_fit)

#: every activity a supportsim log may contain, in the order a ticket meets them
#: (defined, with their meanings, in the catalogue: sim.schema.LOG_ACTIVITIES)
ACTIVITIES: tuple[str, ...] = tuple(LOG_ACTIVITIES)

#: activities that take an agent's time (rows carry `start_timestamp` and a cost)
INTERVAL_ACTIVITIES = frozenset({REPEATED, WORKED, DIAGNOSED, HANDED_OFF, WAITED_FOR_HELPER,
                                 SWARM_WORKED, HELPED, CONTEXT_SWITCHED, SEARCHED_FOR_HELPER})

#: activities that end a ticket's life (a reopened ticket may end again later)
TERMINAL_ACTIVITIES = frozenset({RESOLVED, ABANDONED})

#: engine trace activity -> log activity; ``None`` = not written (``open`` is the simulator
#: closing its books at the horizon: a real log has no such event, the ticket simply has no end)
ENGINE_TO_LOG: dict[str, str | None] = dict(_ENGINE_TO_LOG)

# ---- columns (process-mining names, as pm4py / Disco / Celonis expect them) ---------
CASE = "case:concept:name"
ACTIVITY = "concept:name"
TIMESTAMP = "time:timestamp"
START = "start_timestamp"
LIFECYCLE = "lifecycle:transition"
RESOURCE = "org:resource"
GROUP = "org:group"
ISSUE = "case:issue"
SEGMENT = "case:segment"
POLICY = "case:policy"
REPLICATION = "case:replication"
TICKET = "case:ticket_id"
MEASURED = "case:measured"
QUEUE = "queue"
FROM_TEAM = "from_team"
TO_TEAM = "to_team"
COST = "cost"

#: column order of the CSV/Parquet export
COLUMNS: tuple[str, ...] = (
    CASE, ACTIVITY, TIMESTAMP, START, LIFECYCLE, RESOURCE, GROUP, POLICY, REPLICATION, TICKET,
    ISSUE, SEGMENT, MEASURED, QUEUE, FROM_TEAM, TO_TEAM, COST,
)

#: case-level columns (one value per ticket): trace attributes in XES
CASE_COLUMNS: tuple[str, ...] = (POLICY, REPLICATION, TICKET, ISSUE, SEGMENT, MEASURED)

LIFECYCLE_COMPLETE = "complete"
LIFECYCLE_START = "start"     # an activity still running when the log ends (no end event)


def case_id(policy: str, replication: int, ticket_id: int) -> str:
    """Case ids unique across policies and replications: ``tiered/r0/t17``."""
    return f"{policy}/r{replication}/t{ticket_id}"


def resource_name(team: str, agent_id: int) -> str:
    """A stable, readable agent name: agent ids are global, the team is a readable prefix."""
    return f"{team}-a{agent_id}"
