"""Priority queues of waiting tickets.

One deque per priority level gives O(1) enqueue and dequeue (priority first,
FIFO within a priority).  Abandoned tickets are removed lazily: they stay in
their deque, are skipped when they reach the head, and are not counted in
``len``.
"""
from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from .tickets import State

if TYPE_CHECKING:
    from .agents import TeamRuntime
    from .tickets import Ticket


class TicketQueue:
    __slots__ = ("name", "levels", "size", "teams", "is_help", "want")

    def __init__(self, name: str, n_levels: int, teams: list["TeamRuntime"], is_help: bool = False):
        self.name = name
        self.levels: list[deque] = [deque() for _ in range(n_levels)]
        self.size = 0
        self.teams = teams          # served by these teams, in the order they are offered work
        self.is_help = is_help      # swarm help requests rather than new work
        #: the state a ticket still waiting here is in (others are stale entries: gone)
        self.want = State.AWAIT_HELP if is_help else State.QUEUED

    def __len__(self) -> int:
        return self.size

    def push(self, ticket: "Ticket") -> None:
        self.levels[ticket.priority].append(ticket)
        self.size += 1

    def pop(self) -> "Ticket | None":
        """Remove and return the next live ticket, or None."""
        if not self.size:
            return None
        want = self.want
        for level in self.levels:
            while level:
                t = level.popleft()
                if t.state == want and t.queue is self:
                    self.size -= 1
                    return t
        return None  # pragma: no cover - size and contents disagree

    def discard(self, ticket: "Ticket") -> None:
        """Forget a ticket that left without being popped (abandonment)."""
        self.size -= 1

    def __repr__(self) -> str:
        return f"TicketQueue({self.name!r}, waiting={self.size})"
