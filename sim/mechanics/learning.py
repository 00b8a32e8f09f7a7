"""Agents learning: owners of swarms and writers of escalations become able to resolve more.

After an agent has owned ``learning.swarms_to_learn`` swarms on tickets of a
skill (or written ``escalations_to_learn`` escalations of that skill), they
can resolve every issue type of that skill up to ``learning.up_to_tier``.
Capability is per agent (``agent.can``, initially the team's) and only ever
grows.  A learned agent resolves such tickets themselves when they take them;
helpers for other people's swarms are still chosen by team qualification.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models.agents import Agent
    from ..models.tickets import Ticket


class LearningMixin:
    """Mechanics of the ``learning`` block."""

    def _setup_learning(self) -> None:
        spec = self.scn.learning
        self._learn_swarms = spec.swarms_to_learn if spec else None
        self._learn_escalations = spec.escalations_to_learn if spec else None
        self._learn_tier = spec.up_to_tier if spec else 0
        if spec is not None:
            for agent in self.agents:
                agent.learn = {}

    def _learn_from(self, agent: "Agent", t: "Ticket", how: str, needed: int) -> None:
        key = (how, t.skill)
        seen = agent.learn.get(key, 0) + 1
        agent.learn[key] = seen
        if seen != needed:
            return
        up_to = self._learn_tier
        new = [can or (iss.skill == t.skill and iss.tier <= up_to)
               for can, iss in zip(agent.can, self.scn.issues)]
        if new != agent.can:
            agent.can = new                      # a new list: the team's stays untouched
            self.learned.append((self.env.now, agent.id, agent.team.name, t.skill, up_to, how))
