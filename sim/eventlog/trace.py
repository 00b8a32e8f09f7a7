"""Compact storage of engine traces.

The engine's trace is a list of :class:`TraceRecord` (typed 7-field records, re-exported
here from :mod:`sim.models.trace`) - convenient, but about 150 bytes an event.  :class:`TraceTable` keeps the same information in numpy columns with
small string tables (about 30 bytes an event), so ``simulate(..., trace=True)``
can hold every run's trace and ship it back from worker processes cheaply.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..models.trace import TraceRecord

__all__ = ["TraceTable", "TraceRecord"]


@dataclass
class TraceTable:
    """One (policy, replication) run's trace as columns; ``*_names`` decode the code columns."""

    policy: str
    replication: int
    start: np.ndarray        # float64 minutes
    end: np.ndarray          # float64 minutes
    ticket: np.ndarray       # int64
    activity: np.ndarray     # int16 code into activity_names
    agent: np.ndarray        # int32, -1 = no agent
    team: np.ndarray         # int16 code into team_names ("" = none)
    detail: np.ndarray       # int16 code into detail_names ("" = none)
    activity_names: list[str]
    team_names: list[str]
    detail_names: list[str]

    def __len__(self) -> int:
        return len(self.ticket)

    @classmethod
    def from_trace(cls, policy: str, replication: int, trace: list[tuple]) -> "TraceTable":
        """Pack the engine's :class:`TraceRecord` s (``start, end, ticket, activity, agent, team,
        detail``)."""
        n = len(trace)
        if n == 0:
            empty_f, empty_i = np.empty(0), np.empty(0, np.int64)
            return cls(policy, replication, empty_f, empty_f, empty_i, empty_i.astype(np.int16),
                       empty_i.astype(np.int32), empty_i.astype(np.int16),
                       empty_i.astype(np.int16), [], [""], [""])
        col = dict(zip(TraceRecord._fields, zip(*trace)))      # field name -> values
        act_codes, act_names = _encode(col["activity"])
        team_codes, team_names = _encode(col["team"])
        det_codes, det_names = _encode(tuple("" if d is None else str(d) for d in col["detail"]))
        return cls(
            policy=policy, replication=replication,
            start=np.fromiter(col["start"], np.float64, n), end=np.fromiter(col["end"], np.float64, n),
            ticket=np.fromiter(col["ticket"], np.int64, n), activity=act_codes,
            agent=np.fromiter(col["agent"], np.int32, n), team=team_codes, detail=det_codes,
            activity_names=act_names, team_names=team_names, detail_names=det_names)


def _encode(values: tuple) -> tuple[np.ndarray, list[str]]:
    names: dict[str, int] = {}
    codes = np.fromiter((names.setdefault(v, len(names)) for v in values), np.int16, len(values))
    return codes, list(names)
