"""One lock per output directory, naming its holder, released even by ``kill -9``.

Two supportsim processes writing into one directory (two ``run --out DIR``, two sweeps
resuming the same directory) would replace and delete each other's files.  Each takes
:class:`DirectoryLock` first: an advisory ``flock`` on ``DIR/.supportsim.lock``.  The
operating system drops the lock when the process ends however it ends, so a crashed run
never leaves a directory locked; the file itself stays (removing it would race with a
process that just opened it) and records who holds or last held the lock (process id,
host, command, since when) so the refusal can say who is in the way.

    >>> with DirectoryLock(out, "supportsim run"):
    ...     ...   # write into out

The second process gets :class:`DirectoryBusy` at once (no waiting) with one line.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any, Optional

from .jsonfile import loads_bounded

__all__ = ["DirectoryLock", "DirectoryBusy", "LOCK_NAME"]

LOCK_NAME = ".supportsim.lock"


class DirectoryBusy(RuntimeError):
    """Another live process holds the directory's lock; the message names it."""

    def __init__(self, directory: Path, holder: dict[str, Any]) -> None:
        self.directory, self.holder = directory, holder
        who = (f"process {holder.get('pid', '?')} on {holder.get('host', '?')} "
               f"({holder.get('command', 'supportsim')}, since {holder.get('since', '?')})")
        super().__init__(f"{directory}: in use by {who}; wait for it to finish or choose "
                         "another directory")


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:                      # Windows: lock the first byte instead
        import msvcrt
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)   # type: ignore[attr-defined]
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


_HELD: "set[DirectoryLock]" = set()


def _forget_in_child() -> None:
    """A forked child (a process-pool worker) must not keep its parent's lock alive: the
    flock belongs to the open file, so a worker outliving a killed parent would otherwise
    hold the directory.  The child closes its copies; the parent's lock is unaffected."""
    for lock in list(_HELD):
        fd, lock._fd = lock._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


class DirectoryLock:
    """Exclusive, non-blocking lock on ``directory`` (created if missing) for one holder."""

    def __init__(self, directory: str | os.PathLike, command: str = "supportsim") -> None:
        self.directory = Path(directory)
        self.command = command
        self.path = self.directory / LOCK_NAME
        self._fd: Optional[int] = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "DirectoryLock":
        if self._fd is not None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        if not _try_lock(fd):
            holder = _read_holder(fd)
            os.close(fd)
            raise DirectoryBusy(self.directory, holder)
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                  "argv": sys.argv[1:][:20],
                  "since": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        data = json.dumps(holder).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0) if hasattr(os, "pwrite") else os.write(fd, data)
        self._fd = fd
        _HELD.add(self)
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        _HELD.discard(self)
        if fd is not None:
            os.close(fd)         # closing drops the flock

    def __enter__(self) -> "DirectoryLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0) if hasattr(os, "pread") else b""
        data = loads_bounded(raw.decode("utf-8", "replace") or "{}", "lock holder")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
