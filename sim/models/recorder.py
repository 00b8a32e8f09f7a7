"""Recording finished tickets: one list append per ticket, columns built in batches.

Why not one ``array.append`` per column per ticket (16 calls a ticket, 13-16 % of a run's time
in the issue-16 profile): a finished ticket's row is read in one C-level ``attrgetter`` call
and appended to a list, and at each new block of arrivals the rows are turned into typed
numpy columns at once (one transposition, then one conversion per column).  (Keeping the
tickets themselves and reading them at flush time was 3 x slower: by then they are out of
cache.)  The row holds only what the run decided (12 values): segment, issue type, tier and
arrival time are the customer's and are looked up by ticket id from the blocks of customers.
At the end the batches are joined and put in ticket-id (arrival) order, so the results layer
can wrap them in a table without sorting or copying (``sim.results.tickets_frame``).  Values
are the same floats the engine computed (``first_response_min`` is ``first_touch - arrival``
in IEEE double, as before), so results stay bit-identical.
"""
from __future__ import annotations

from array import array
from operator import attrgetter

import numpy as np

BATCH = 4096

#: ticket table columns written by the engine: name -> array typecode
TICKET_COLUMNS = {
    "ticket_id": "q", "segment": "h", "issue": "h", "tier": "h", "arrival_min": "d",
    "end_min": "d", "outcome": "b", "wait_min": "d", "first_response_min": "d",
    "handoffs": "i", "repeats": "i", "agents_touched": "i", "agent_min": "d", "cost": "d",
    "expert_min": "d", "helpers": "i",
}

# the ticket attribute behind each column the engine records per finished ticket; the other
# columns follow from the customer stream (DERIVED) and first_response_min from first_touch
_SOURCE = {
    "ticket_id": "id", "end_min": "end", "outcome": "outcome", "wait_min": "queued_total",
    "first_response_min": "first_touch", "handoffs": "handoffs", "repeats": "repeats",
    "agents_touched": "n_touched", "agent_min": "agent_min", "cost": "cost",
    "expert_min": "expert_min", "helpers": "helpers",
}
#: columns that are facts of the customer, not of the run: looked up by ticket id from the
#: blocks of customers (:meth:`TicketRecorder.add_customers`) instead of read per ticket
DERIVED = ("segment", "issue", "tier", "arrival_min")
_NAMES = tuple(_SOURCE)
#: a finished ticket's result row, read in one C call while the ticket is still in cache
row = attrgetter(*(_SOURCE[n] for n in _NAMES))


class TicketRecorder:
    """Collects finished tickets; :meth:`columns` gives the table's columns in id order.

    Rows are converted into one preallocated numpy array per column (sized from the
    expected number of tickets, grown by half when exceeded), not into many small chunks:
    large arrays are memory-mapped, so they go back to the operating system when freed
    instead of fragmenting the heap (a 1M-ticket run's peak memory, issue 16).

    A ticket's segment, issue type, tier and arrival time are the customer's, the same under
    every policy: the engine hands each block of customers over once
    (:meth:`add_customers`) and the columns are looked up by ticket id at the end, so a
    finished ticket's row carries only what the run decided (12 values, not 16).
    """

    __slots__ = ("done", "_store", "_n", "_cap", "_arrival", "_segment", "_issue", "_tier_of",
                 "_known")

    def __init__(self, expected: int = 0, issue_tiers: "list[int] | None" = None,
                 expected_arrivals: int = 0) -> None:
        #: result rows (``row(ticket)``) not yet converted; the engine appends to it directly
        self.done: list[tuple] = []
        self._cap = max(int(expected), BATCH)
        self._store: dict[str, np.ndarray] = {n: np.empty(self._cap, dtype=TICKET_COLUMNS[n])
                                              for n in _NAMES}
        self._n = 0
        cap = max(int(expected_arrivals), int(expected), BATCH)
        self._arrival = np.empty(cap)                           # by ticket id, from 0
        self._segment = np.empty(cap, dtype=TICKET_COLUMNS["segment"])
        self._issue = np.empty(cap, dtype=TICKET_COLUMNS["issue"])
        self._tier_of = np.asarray(issue_tiers if issue_tiers is not None else [0],
                                   dtype=TICKET_COLUMNS["tier"])
        self._known = 0                                         # customers handed over

    def add_customers(self, start: int, arrival, segment, issue) -> None:
        """The next block of customers (ids ``start`` on), in arrival order."""
        hi = start + len(arrival)
        if hi > len(self._arrival):
            cap = max(hi, len(self._arrival) + len(self._arrival) // 2)
            for name in ("_arrival", "_segment", "_issue"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=old.dtype)
                new[:self._known] = old[:self._known]
                setattr(self, name, new)
        self._arrival[start:hi] = arrival
        self._segment[start:hi] = segment
        self._issue[start:hi] = issue
        self._known = hi

    def flush(self) -> None:
        """Convert the pending rows to typed columns (called at each new block of arrivals)."""
        done = self.done
        if not done:
            return
        m = len(done)
        lo, hi = self._n, self._n + m
        if hi > self._cap:
            self._grow(max(hi, self._cap + self._cap // 2))
        # the transposition in C, then one conversion per column (0.2 us a row; converting
        # the whole batch to doubles at once with np.array and casting per column measured
        # twice as slow in a run, though faster alone; np.fromiter into a record dtype 0.6-0.9)
        values = list(zip(*done))
        done.clear()
        store = self._store
        for name, vals in zip(_NAMES, values):
            store[name][lo:hi] = vals
        # first response = first touch - arrival, the same IEEE subtraction the engine did
        store["first_response_min"][lo:hi] -= self._arrival[store["ticket_id"][lo:hi]]
        self._n = hi

    def count(self) -> int:
        """Rows recorded so far (converted or not)."""
        return self._n + len(self.done)

    def _grow(self, cap: int) -> None:
        for name, old in self._store.items():
            new = np.empty(cap, dtype=old.dtype)
            new[:self._n] = old[:self._n]
            self._store[name] = new
        self._cap = cap

    def columns(self) -> dict[str, array]:
        """Every recorded ticket's columns, in ticket-id order, as compact ``array.array``.

        One column at a time, each freed once copied out, so the run's peak memory holds
        the columns about once, not twice.
        """
        self.flush()
        n, store = self._n, self._store
        ids = store["ticket_id"][:n]
        order = None
        if n > 1 and not bool((ids[1:] > ids[:-1]).all()):
            order = np.argsort(ids, kind="stable")      # nearly sorted: timsort is near-linear
        sorted_ids = ids if order is None else ids[order]
        out: dict[str, array] = {}
        for name, code in TICKET_COLUMNS.items():
            if name in store:
                col = store[name][:n]
                if order is not None:
                    col = col[order]
            elif name == "tier":
                col = self._tier_of[self._issue[sorted_ids]]
            else:
                col = {"segment": self._segment, "issue": self._issue,
                       "arrival_min": self._arrival}[name][sorted_ids]
            a = array(code)
            a.frombytes(memoryview(np.ascontiguousarray(col)).cast("B"))
            out[name] = a
            del col
            if name != "ticket_id" and name in store:
                del store[name]
        store.clear()
        self._arrival = self._segment = self._issue = np.empty(0)
        return out
