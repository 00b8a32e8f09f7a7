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

The features: learning (:mod:`.learning`), reopens (:mod:`.reopen`), the swarm's search and
helper fit (:mod:`.swarm`), interruptions with context switches (:mod:`.interruptions`,
attached by the engine on the first ``interrupt`` swarm, a policy decision) and shifts
(:mod:`.shifts`).  What several of them share is the engine's own mechanics, not a feature's:
cutting an activity short (``Engine._stop_activity``), writing a hand-over
(``Engine._start_handover``), the help and hand-over queues, the swarm's duration.
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
    "agent_released": "agent_released(agent) when an agent has finished an activity and is about "
                      "to take the next piece of work; return True when the feature has dealt with "
                      "the agent (sent them home, back to suspended work) - the engine then does "
                      "nothing more; asked only once a feature set engine._hooked",
    "help_wanted": "help_wanted(owner, ticket) when a swarm owner wants helpers, before asking; "
                   "return True when the feature started an activity of its own first (a search) "
                   "that will ask later (engine._ask_for_help)",
    "search_done": "search_done(owner, ticket) when the owner's search activity (phase SEARCH) ends",
    "search_abandoned": "search_abandoned(ticket) when the customer gives up during the search, "
                        "before the ticket is finished as abandoned",
    "helpers_found": "helpers_found(ticket, helpers) -> the helpers who may join, when free "
                     "helpers were found for a swarm request (those dropped go back to being free)",
    "help_taken": "help_taken(agent, ticket) -> bool when a free agent took a held swarm request; "
                  "False: they may not help (the feature has dealt with the owner)",
    "helper_asked": "helper_asked(ticket, agent) -> bool before a busy agent is pulled off their "
                    "work to help (interrupt swarms); False: they are not",
    "no_helper_free": "no_helper_free(ticket, owner, queue, k) -> up to k helpers found another "
                      "way (interrupt swarms) when no qualified helper is free",
    "switch_done": "switch_done(agent) when an agent's context switch (phase SWITCH) ends",
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
    from .interruptions import Interruptions
    from .learning import Learning
    from .reopen import Reopens
    from .shifts import Shifts
    from .swarm import HelperFit, SwarmSearch

    # the order in which features acting on the same moment are asked: a suspended helper
    # goes back to their ticket (interruptions) before an off-duty agent goes home (shifts)
    return [Learning, Reopens, SwarmSearch, HelperFit, Interruptions, Shifts]


__all__ = ["Feature", "MOMENTS", "moment_handlers", "feature_classes"]
