"""A per-task time limit that stops a hook stuck in a loop or a sleep, in any thread.

In a process's main thread (this process, or a pool worker) the deadline is a
real-time interval timer (``SIGALRM``) whose handler raises
:class:`TaskTimeout`: that stops Python loops and also blocking calls such as
``time.sleep`` (the signal interrupts them).  Elsewhere (Dask runs tasks in
worker threads, where signals cannot be used) it is a timer thread that raises
:class:`TaskTimeout` asynchronously in the task's thread
(``PyThreadState_SetAsyncExc``): that stops Python code at its next bytecode,
but a call blocked in C only when it returns, which is why the process pool
also keeps a coordinator-side watchdog that replaces a worker that does not answer.
"""
from __future__ import annotations

import ctypes
import signal
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
        self._old_handler = None
        if _can_use_alarm():
            self._old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            return
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        """Disarm; after this returns the timer can no longer raise in this thread.

        The deadline may go off while disarming (its exception then arrives in here):
        disarming is retried until complete, so the signal handler is always restored,
        and :attr:`fired` tells the caller the time ran out.
        """
        while True:
            try:
                self._disarm()
                return
            except TaskTimeout:
                self.fired = True

    def _disarm(self) -> None:
        self._armed = False             # first: from here on the handler raises nothing
        with self._lock:
            pass                        # a timer thread inside _fire has finished with it
        if self._old_handler is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_handler)
            self._old_handler = None
        if self._timer is not None:
            self._timer.cancel()

    def _on_alarm(self, signum, frame) -> None:
        if self._armed:
            self.fired = True
            raise TaskTimeout()

    def absorb(self) -> None:
        """Let an exception the timer set just before :meth:`stop` surface here, and swallow it."""
        try:
            for _ in range(100):
                time.sleep(0)
        except TaskTimeout:
            pass

    _old_handler = None

    def _fire(self) -> None:
        with self._lock:
            if not self._armed:
                return
            self.fired = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread_id),
                                                       ctypes.py_object(TaskTimeout))


def _can_use_alarm() -> bool:
    """SIGALRM is ours to use: main thread, POSIX, and no interval timer already running."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    try:
        return signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and \
            signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
    except (ValueError, OSError):  # pragma: no cover
        return False
