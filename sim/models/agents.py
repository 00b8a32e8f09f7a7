"""Agents and the teams they belong to."""
from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .queues import TicketQueue
    from .tickets import Ticket


class TeamRuntime:
    """A team during a run: its scenario parameters plus who is free right now."""

    __slots__ = ("index", "name", "tier", "skills", "size", "cost_per_min", "agents", "free",
                 "serves", "spec", "is_top", "can", "diagnose", "on_duty", "handover", "off_since",
                 "capacity_min", "overtime_min")

    def __init__(self, index: int, spec, is_top: bool) -> None:
        self.index = index
        self.spec = spec
        self.name: str = spec.name
        self.tier: int = spec.tier
        self.skills: frozenset[str] = frozenset(spec.skills)
        self.size: int = spec.agents
        self.cost_per_min: float = spec.cost_per_hour / 60.0
        self.is_top = is_top
        self.agents: list[Agent] = []
        self.free: deque[Agent] = deque()       # idle agents, longest idle first
        self.serves: list["TicketQueue"] = []   # queues this team takes work from, in order
        self.can: list[bool] = []                # can[issue_idx]: may resolve that issue type
        self.diagnose = spec.diagnose
        # shifts (sim/mechanics/shifts.py); a team without a shift is always on duty
        self.on_duty = True
        self.handover = False                    # shift_end: handover (else finish)
        self.off_since = 0.0                     # when the last shift ended
        self.capacity_min = 0.0                  # on-shift agent-minutes in the measured window
        self.overtime_min = 0.0                  # busy agent-minutes after shift end, measured window

    def can_resolve(self, tier: int, skill: str) -> bool:
        return self.tier >= tier and skill in self.skills

    @property
    def free_count(self) -> int:
        return len(self.free)

    def __repr__(self) -> str:
        return f"Team({self.name!r}, tier={self.tier}, agents={self.size}, free={len(self.free)})"


class Agent:
    """One person. ``ticket`` is what they are occupied with (None when idle)."""

    __slots__ = ("id", "team", "ticket", "busy_since", "busy_min", "phase", "phase_start",
                 "phase_dur", "target", "rep_dur", "ev", "can", "suspended", "resume", "learn")

    def __init__(self, aid: int, team: TeamRuntime) -> None:
        self.id = aid
        self.team = team
        self.ticket: "Ticket | None" = None
        self.busy_since = 0.0
        self.busy_min = 0.0        # busy minutes inside the measured window
        self.phase = 0             # what the agent is doing (engine's Phase constants)
        self.phase_start = 0.0
        self.phase_dur = 0.0
        self.rep_dur = 0.0         # part of the current phase spent hearing a repeat
        self.target = None         # queue a handoff in progress is going to
        self.ev = None             # the Timeout ending the current activity
        self.can: list[bool] = team.can   # can[issue_idx]; the team's until the agent learns
        self.suspended = None      # (ticket, phase, minutes left, repeat left) while pulled off it
        self.resume = None         # what to resume after a context switch
        self.learn: dict | None = None   # (how, skill) -> count, when learning is on

    @property
    def busy(self) -> bool:
        return self.ticket is not None

    def __repr__(self) -> str:
        return f"Agent({self.id}, team={self.team.name!r}, busy={self.busy})"
