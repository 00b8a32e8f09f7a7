"""The engine's activity trace: one typed record per event, built in one place.

Why typed: consumers (the event-log exporter, the conformance kit, tests) used to read an
untyped 7-tuple by position.  :class:`TraceRecord` is a NamedTuple, so they can read fields by
name (``rec.activity``), while code written against the tuple keeps working.  Records are
built only by :func:`record` (called from ``Engine._log``), with ``tuple.__new__`` so a trace
costs no Python-level constructor call per event.

Activity names are defined once, in :mod:`sim.schema.vocabulary`; the constants here are
checked against it at import, so the engine cannot write a name the catalogue does not know.
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

from ..schema.vocabulary import TRACE_ACTIVITIES, TRACE_INSTANT_ACTIVITIES, TRACE_INTERVAL_ACTIVITIES


class TraceRecord(NamedTuple):
    """One trace event: ``start == end`` for instants; ``agent`` -1 and ``team`` "" for none."""

    start: float
    end: float
    ticket: int
    activity: str
    agent: int
    team: str
    detail: str


#: ``record((start, end, ticket, activity, agent, team, detail))`` -> TraceRecord, in C
record = partial(tuple.__new__, TraceRecord)


def _known(name: str, where: dict[str, str]) -> str:
    if name not in where:
        raise AssertionError(f"trace activity {name!r} is not in sim.schema.vocabulary")
    return name


CREATED = _known("created", TRACE_INSTANT_ACTIVITIES)
QUEUED = _known("queued", TRACE_INSTANT_ACTIVITIES)
TAKEN = _known("taken", TRACE_INSTANT_ACTIVITIES)
SWARM_REQUESTED = _known("swarm_requested", TRACE_INSTANT_ACTIVITIES)
HELPER_JOINED = _known("helper_joined", TRACE_INSTANT_ACTIVITIES)
HELPER_UNFIT = _known("helper_unfit", TRACE_INSTANT_ACTIVITIES)
RESOLVED = _known("resolved", TRACE_INSTANT_ACTIVITIES)
ABANDONED = _known("abandoned", TRACE_INSTANT_ACTIVITIES)
REOPENED = _known("reopened", TRACE_INSTANT_ACTIVITIES)
INTERRUPTED = _known("interrupted", TRACE_INSTANT_ACTIVITIES)
OPEN = _known("open", TRACE_INSTANT_ACTIVITIES)
REPEAT = _known("repeat", TRACE_INTERVAL_ACTIVITIES)


def check_phase_names(names: tuple[str, ...]) -> None:
    """Every activity an agent can be doing (but idling) must be a known interval activity."""
    for name in names[1:]:
        _known(name, TRACE_INTERVAL_ACTIVITIES)


__all__ = ["TraceRecord", "record", "TRACE_ACTIVITIES", "check_phase_names"]
