"""The Dask backend: batches of tasks on an existing ``distributed`` cluster.

The coordinator keeps a bounded window of batches in flight (two per worker
thread, re-read as workers join or leave), so its memory does not grow with the
number of tasks.  Workers need the simulator (and any plug-in module)
importable; they compute and send records back, the coordinator writes files,
so workers need no shared disk.

When no worker is alive for ``worker_wait`` seconds while work is waiting,
the backend stops: every task not yet answered comes back as ``not_run`` (the
caller says so in one line, and a sweep resumes them on the next call) instead
of waiting forever for a cluster that is gone.
"""
from __future__ import annotations

import itertools
import os
import sys
import time
from typing import Optional

from ..scenario import ScenarioError
from .backends import Backend, Batcher, _len, cap_for, lost
from .tasks import run_batch_remote

__all__ = ["DaskBackend", "connect", "address_problem", "BackendError"]

#: seconds between looks at the cluster while waiting for results
POLL_SECONDS = 1.0


class BackendError(ScenarioError):
    """A backend cannot be set up (bad address, no Dask installed): one line, exit 2 at the CLI."""

    def __init__(self, message: str) -> None:
        super().__init__([message])


class DaskBackend(Backend):
    name = "dask"

    def __init__(self, scheduler: str, worker_wait: float = 60.0, client=None) -> None:
        self.address = scheduler
        self.worker_wait = float(worker_wait)
        self._own = client is None
        self.client = client if client is not None else connect(scheduler)
        #: set when the backend stopped for lack of workers (one line for the caller)
        self.stopped: Optional[str] = None

    @property
    def workers(self) -> int:       # type: ignore[override]
        return max(1, self._threads())

    def describe(self) -> str:
        return f"Dask scheduler {self.address}"

    def close(self) -> None:
        if self._own and self.client is not None:
            try:
                self.client.close()
            finally:
                self.client = None

    #: extra seconds a batch may take beyond its tasks' deadlines before it is given up
    GRACE = 10.0

    def _give_up_stuck(self, owner: dict, timeout: float, running_since: dict) -> list:
        """Batches running far past their deadlines (a hook blocked in C ignores the in-thread
        deadline): cancelled and recorded as timed out; their worker thread may stay busy.

        ``running_since``: when each batch was first seen running on a worker (kept here)."""
        now = time.monotonic()
        running = _processing_keys(self.client)
        for key in running:
            running_since.setdefault(key, now)
        records = []
        for key, (fut, batch) in list(owner.items()):
            allowance = len(batch) * timeout + self.GRACE
            if key in running and now - running_since[key] > allowance:
                owner.pop(key)
                running_since.pop(key, None)
                fut.cancel()
                records += lost(batch, f"TaskTimeout: no answer within {allowance:g} s (stuck "
                                       "outside Python?); given up, its worker thread may stay busy",
                                "timeout")
        return records

    def _threads(self) -> int:
        info = self.client.scheduler_info()
        return sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())

    def run_batches(self, tasks, timeout=None, batch_size=None, expected=None):
        import queue

        client = self.client
        if client is None:
            self.client = client = connect(self.address)
            self._own = True
        self.stopped = None
        todo = Batcher(tasks, batch_size, cap_for(expected or _len(tasks), max(1, self._threads())))
        if not self._threads():
            print(f"warning: the Dask scheduler at {self.address} has no workers yet; tasks wait "
                  f"up to {self.worker_wait:g} s (--worker-wait) for one to connect "
                  f"(dask worker {self.address})", file=sys.stderr)
        owner: dict = {}
        finished: "queue.Queue" = queue.Queue()      # futures as they complete (client callbacks)
        exhausted = False
        serial = itertools.count()
        tag = f"{os.getpid()}-{time.time_ns():x}"
        no_worker_since: Optional[float] = None

        def submit_more() -> None:
            nonlocal exhausted
            limit = max(4, 2 * self._threads())
            while not exhausted and len(owner) < limit:
                batch = todo.next()
                if batch is None:
                    exhausted = True
                    return
                key = f"supportsim-{_label(batch[0].key)}-{tag}-{next(serial)}"
                try:
                    fut = client.submit(run_batch_remote, batch, timeout, key=key, pure=False)
                except Exception as exc:  # noqa: BLE001 - e.g. a task that cannot be pickled
                    refused.extend(lost(batch, exc))
                    continue
                owner[fut.key] = (fut, batch)
                fut.add_done_callback(finished.put)

        refused: list = []        # records of batches the client could not even submit
        running_since: dict = {}            # future key -> when first seen running (timeouts)
        submit_more()
        while owner or refused:
            if refused:
                yield list(refused)
            refused.clear()
            if not owner:
                submit_more()
                continue
            done = []
            try:
                done.append(finished.get(timeout=POLL_SECONDS))
                while True:
                    done.append(finished.get_nowait())
            except queue.Empty:
                pass
            for fut in done:
                entry = owner.pop(fut.key, None)
                running_since.pop(fut.key, None)
                if entry is None:      # cancelled below, or answered twice
                    continue
                batch = entry[1]
                try:
                    records = fut.result()
                    todo.observe(records)
                except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: record, go on
                    records = lost(batch, exc)
                fut.release()
                yield records
            if done:
                no_worker_since = None
                submit_more()
                continue
            if self._threads():
                no_worker_since = None
                stuck = self._give_up_stuck(owner, timeout, running_since) if timeout and owner else []
                if stuck:
                    yield stuck
                    submit_more()
                continue
            now = time.monotonic()
            no_worker_since = no_worker_since or now
            if now - no_worker_since >= self.worker_wait:
                self.stopped = (f"no live Dask worker at {self.address} for {self.worker_wait:g} s "
                                "(--worker-wait); stopped")
                why = f"not run: {self.stopped}"
                for fut, batch in owner.values():
                    fut.cancel()
                    yield lost(batch, why, "not_run")
                owner.clear()
                for batch in todo:
                    yield lost(batch, why, "not_run")
                return


def _processing_keys(client) -> set:
    try:
        return {k for keys in client.processing().values() for k in keys}
    except Exception:  # noqa: BLE001 - the scheduler went away: the worker check handles it
        return set()


def _label(key) -> str:
    text = "-".join(map(str, key)) if isinstance(key, tuple) else str(key)
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:60]


def connect(address: str):
    """A Client for ``address``, or one clear :class:`BackendError` quickly (never a hang at exit).

    The address is parsed and, for TCP, the port is probed with a short timeout
    first, so a typo or a dead scheduler fails in seconds.  ``Client.__init__``
    keeps a half-built client alive when connecting fails, whose ``__del__``
    later blocks ~30 s and prints a traceback; the client is therefore created
    with ``__new__`` first so it can be closed if ``__init__`` raises.
    """
    try:
        from distributed import Client
    except ImportError:
        raise BackendError("--scheduler needs dask[distributed]: pip install 'dask[distributed]'") from None
    problem = address_problem(address)
    if problem:
        raise BackendError(f"--scheduler {address}: {problem}")
    client = Client.__new__(Client)
    try:
        client.__init__(address, timeout="15s", set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the user's address
        try:
            client.close(timeout=2)
        except Exception:  # noqa: BLE001 - half-built: nothing more to release
            pass
        raise BackendError(f"--scheduler {address}: cannot connect to a Dask scheduler ({exc})") from None
    return client


def address_problem(address: str, probe_seconds: float = 5.0) -> Optional[str]:
    """Why ``address`` cannot be a reachable Dask scheduler, or None (TCP ports are probed)."""
    import socket

    from distributed.comm import parse_address, parse_host_port

    expected = "expected e.g. tcp://127.0.0.1:8786"
    try:
        scheme, loc = parse_address(address, strict=False)      # 'host:port' means tcp, as in distributed
    except ValueError as exc:
        return f"not a scheduler address: {exc} ({expected})"
    if scheme not in ("tcp", "tls"):
        return None      # other transports (e.g. inproc, ucx) are left to distributed
    try:
        host, port = parse_host_port(loc)
    except ValueError as exc:
        return f"not a scheduler address: {exc} ({expected})"
    try:
        with socket.create_connection((host, port), timeout=probe_seconds):
            return None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return f"cannot connect to a Dask scheduler ({reason})"
