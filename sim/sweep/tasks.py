"""One unit of sweep work: (point, policy, replication) -> a run task, and its record -> rows.

A sweep task *is* a :class:`~sim.execution.RunTask` (no sweep-specific mirror of it):
its key is ``(point, policy, replication)`` and its seed the point's own.  The run
goes through the one execution path (:mod:`sim.execution`): the worker returns a
:class:`~sim.execution.RunRecord` whose ``metrics`` is the full per-replication metric
row ``run`` computes for the point's scenario (service level, SLA, customer cost, total
cost, reopens, payroll ...), and the coordinator turns it into the point's one-row
Parquet table here.
"""
from __future__ import annotations

from typing import Any, Optional

import pyarrow as pa

from ..execution import RunRecord, RunTask
from ..scenario import Scenario

__all__ = ["sweep_task", "runs_table", "runs_rows_table", "row_signature", "tickets_table"]


def sweep_task(point: int, scenario: Scenario, policy: str, replication: int, tickets: bool = False,
               policy_cls: Optional[type] = None) -> RunTask:
    """The run of ``policy``, replication ``replication``, at sweep point ``point``.

    ``scenario`` is the point's (its seed keys the replications, so every point meets its
    own - or, with common random numbers, the shared - customers); ``policy_cls`` is sent
    along by reference so workers need not look the name up."""
    return RunTask(key=(point, policy, replication), scenario=scenario, policy=policy,
                   replication=replication, seed=scenario.seed, policy_cls=policy_cls, tickets=tickets)


#: column signature -> the schema pandas gives such a row (with its pandas metadata)
_SCHEMAS: dict[tuple, pa.Schema] = {}


def runs_table(record: RunRecord, seed: int, params: dict[str, Any]) -> pa.Table:
    """The task's row in ``DIR/runs``: replication, seed, arrivals, the varied values, the metrics.

    The row is what ``pa.Table.from_pandas`` makes of the one-row frame (so
    ``pandas.read_parquet`` gives back the same dtypes); after the first row of
    a given shape the schema pandas chose is reused and the row is built by
    pyarrow directly, which is ~50x cheaper for the coordinator of a sweep of
    many short runs.
    """
    metrics = record.metrics or {"tickets": 0}
    row = _row(record, seed, params)
    if len(row) != 3 + len(params) + len(metrics):
        return _from_pandas(row)        # a name clash: let pandas raise as it always did
    signature = _signature(row)
    schema = _SCHEMAS.get(signature)
    if schema is not None:
        try:
            return pa.Table.from_pydict({k: [v] for k, v in row.items()}, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
    table = _from_pandas(row)
    if _plain(signature):
        _SCHEMAS[signature] = table.schema
    return table


def _row(record: RunRecord, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    """A run's row as a dict: replication, seed, arrivals, the varied values, the metrics."""
    row: dict[str, Any] = {"replication": record.key[2], "seed": seed, "arrivals": record.arrivals}
    row.update(params)
    row.update(record.metrics or {"tickets": 0})
    return row


def _signature(values: dict[str, Any]) -> tuple:
    return tuple((k, type(v)) for k, v in values.items())


def _plain(signature: tuple) -> bool:
    """Only scalars pyarrow converts one way: a schema learnt from one row fits the next."""
    return all(t in (int, float, str, bool) for _, t in signature)


def row_signature(record: RunRecord) -> Optional[tuple]:
    """What decides a runs row's columns and their types; rows of one signature share a schema
    and may be written as one table.  None: a row to write on its own (unusual values)."""
    sig = _signature(record.metrics or {"tickets": 0})
    return sig if _plain(sig) else None


def runs_rows_table(records: list[RunRecord], seed: int, params: dict[str, Any]) -> pa.Table:
    """The rows of several runs of one (point, policy) and one :func:`row_signature`, in order.

    Each row is exactly what :func:`runs_table` makes of it (the same schema, the same
    values): the first row fixes the schema, the others are added column by column."""
    first = runs_table(records[0], seed, params)
    if len(records) == 1:
        return first
    rows = [_row(record, seed, params) for record in records]
    names = first.schema.names
    try:
        if all(list(row) == names for row in rows):
            return pa.Table.from_pydict({k: [row[k] for row in rows] for k in names}, schema=first.schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    return pa.concat_tables([first, *(runs_table(r, seed, params) for r in records[1:])])


def _from_pandas(row: dict[str, Any]) -> pa.Table:
    import pandas as pd

    frame = pd.DataFrame({k: [v] for k, v in row.items()})
    frame["replication"] = frame["replication"].astype("int32")
    return pa.Table.from_pandas(frame, preserve_index=False)


def tickets_table(record: RunRecord) -> Optional[pa.Table]:
    if record.tickets is None:
        return None
    return pa.Table.from_pandas(record.tickets.drop(columns=["policy"]), preserve_index=False)
