"""Engine features that attach to named moments of a run, with declared state.

Why (issue 11.5): the optional mechanics used to be mixins of the engine that read and wrote
engine attributes nobody declared and called each other's methods.  A :class:`Feature`
instead

- says when it is on (:meth:`Feature.wanted`, from the scenario alone),
- keeps its own state on itself,
- names every engine attribute or method it may use in :attr:`Feature.uses` (a test,
  ``tests/test_engine_features.py``, fails if its code touches anything else), and
- acts only at the moments the engine names in :data:`MOMENTS`, by defining a method of that
  name; the engine calls the features that define one, in :data:`FEATURES` order, and pays
  nothing for moments no feature uses.

Converted so far: reopens (:mod:`.reopen`) and learning (:mod:`.learning`).  Shifts,
interruptions and the swarm frictions are still engine mixins (:mod:`.shifts`,
:mod:`.interruptions`, :mod:`.swarm`), entangled with the state machine itself.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ..scenario import Scenario

#: moment -> when the engine calls it, with what, and what a feature may answer
MOMENTS: dict[str, str] = {
    "ticket_resolved": "ticket_resolved(ticket) right after a ticket is resolved; return True when "
                       "the resolution fails and the customer will come back (the engine then does "
                       "not record the ticket yet)",
    "handoff_decided": "handoff_decided(agent, ticket) when an agent who could not resolve a ticket "
                       "has decided to hand it off, before writing the handoff up",
    "swarm_finished": "swarm_finished(owner, ticket) when the swarm an owner led has resolved a "
                      "ticket, before the ticket is finished",
    "horizon": "horizon() when the clock has stopped, after agents' work in progress is charged "
               "and before open tickets are recorded",
}


class Feature:
    """Base of an optional mechanic (subclass it, set ``name`` and ``uses``)."""

    name: ClassVar[str] = ""
    #: engine attributes and methods this feature may read or call (checked by a test)
    uses: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    @classmethod
    def wanted(cls, scenario: "Scenario") -> bool:
        """Whether the scenario switches this feature on (off: the engine never creates it)."""
        raise NotImplementedError

    def result(self) -> dict[str, Any]:
        """What the feature adds to the run's result (``RunResult`` field -> value)."""
        return {}


def moment_handlers(features: list[Feature]) -> dict[str, list]:
    """moment -> the bound methods of the features acting on it, in feature order."""
    return {m: [getattr(f, m) for f in features if callable(getattr(f, m, None))] for m in MOMENTS}


def feature_classes() -> list[type[Feature]]:
    """Every feature, in the order the engine attaches them."""
    from .learning import Learning
    from .reopen import Reopens

    return [Learning, Reopens]


__all__ = ["Feature", "MOMENTS", "moment_handlers", "feature_classes"]
