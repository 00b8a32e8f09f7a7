"""A per-task time limit that can stop pure-Python code stuck in a loop, in any thread.

``signal.alarm`` only works in a process's main thread (Dask runs tasks in
worker threads), so the deadline is a timer thread that, when it fires,
raises :class:`TaskTimeout` asynchronously in the thread running the task
(``PyThreadState_SetAsyncExc``).  That interrupts a hook looping in Python
(``while True: pass``) at its next bytecode; code blocked inside one C call is
only stopped when the call returns, which is why the process pool also keeps a
coordinator-side watchdog that replaces a worker that does not answer.
"""
from __future__ import annotations

import ctypes
import threading
import time
from typing import Optional

__all__ = ["Deadline", "TaskTimeout"]


class TaskTimeout(BaseException):
    """A task ran past its time limit.

    A BaseException, so a plug-in's ``except Exception`` (or the engine's
    wrapping of hook errors) cannot swallow it.
    """


class Deadline:
    """Raise :class:`TaskTimeout` in the calling thread ``seconds`` after :meth:`start`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.fired = False
        self._armed = False
        self._lock = threading.Lock()
        self._thread_id = threading.get_ident()
        self._timer: Optional[threading.Timer] = None

    def start(self) -> None:
        self._thread_id = threading.get_ident()
        self._armed = True
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        """Disarm; after this returns the timer can no longer raise in this thread."""
        with self._lock:
            self._armed = False
        if self._timer is not None:
            self._timer.cancel()

    def absorb(self) -> None:
        """Let an exception the timer set just before :meth:`stop` surface here, and swallow it."""
        try:
            for _ in range(100):
                time.sleep(0)
        except TaskTimeout:
            pass

    def _fire(self) -> None:
        with self._lock:
            if not self._armed:
                return
            self.fired = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread_id),
                                                       ctypes.py_object(TaskTimeout))
