"""The one atomic file writer: a file appears whole, with the usual permissions, or not at all.

Every file supportsim leaves behind (results, reports, sweep rows, event logs) goes
through here, so an interrupted run (Ctrl-C, ``kill -9``, a full disk) never leaves a
half-written file that looks complete, and every file gets the same permissions.

How: the data is written to a hidden temporary file beside the target
(``.NAME.XXXXXXXX.tmp``, :data:`TEMP_PATTERN`), flushed to disk (``fsync``), given the
mode an ordinary ``open()`` would have given it (``0666`` minus the umask: ``0644``
under the usual umask ``022``; ``mkstemp`` alone makes ``0600``), renamed over the
target (``os.replace`` is atomic on one file system) and the directory is fsynced so the
rename itself survives a power cut.  A temporary file a killed process left behind is
recognised by :func:`is_temp_name` and removed by :func:`remove_stale_temporaries`
(only names of exactly this pattern: never a user's own ``*.tmp`` file).
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["atomic_write", "write_bytes", "write_text", "temp_file", "commit_temp",
           "open_atomic", "is_temp_name", "remove_stale_temporaries", "file_mode", "fsync_dir", "TEMP_PATTERN"]

#: hidden temporary names this module makes: ``.`` + target name + ``.`` + mkstemp's 8
#: random characters + ``.tmp`` (the sweep's and the event-log writer's temporaries match too)
TEMP_PATTERN = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")

_umask_lock = threading.Lock()


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:       # os.umask can only be read by setting it: keep the window tiny
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file: 0666 minus the umask."""
    return 0o666 & ~_umask()


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_file(path: Path) -> Path:
    """Create (empty) and return the hidden temporary file that will become ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def commit_temp(tmp: Path, path: Path) -> None:
    """fsync ``tmp``, give it the usual mode, rename it over ``path``, fsync the directory."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, file_mode())
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a hidden temporary file beside ``path``, then commit it as ``path``.

    ``write`` may create ``tmp`` anew (``pq.write_table``, ``savefig`` do); on any error,
    Ctrl-C included, the temporary file is removed and the target is left as it was.
    """
    path = Path(path)
    tmp = temp_file(path)
    try:
        write(tmp)
        commit_temp(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda p: p.write_bytes(data))


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


@contextlib.contextmanager
def open_atomic(path: Path, mode: str = "w", **kwargs) -> Iterator:
    """``with open_atomic(p) as fh: fh.write(...)``: streamed, but committed only on success."""
    path = Path(path)
    tmp = temp_file(path)
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
        commit_temp(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of this module's hidden temporaries."""
    return TEMP_PATTERN.match(name) is not None


def remove_stale_temporaries(directory: Path, recursive: bool = True,
                             older_than: float = 0.0) -> list[Path]:
    """Delete the hidden temporaries a killed run left in ``directory``; return them.

    Only names matching :data:`TEMP_PATTERN` are touched.  Call it while holding the
    directory's lock (:mod:`sim.outputs.lock`), so no live writer's file is taken;
    ``older_than`` (seconds) spares files modified more recently than that.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    now = time.time()
    removed = []
    candidates = directory.rglob(".*.tmp") if recursive else directory.glob(".*.tmp")
    for p in candidates:
        try:
            if not is_temp_name(p.name) or not p.is_file() or p.is_symlink():
                continue
            if older_than and now - p.stat().st_mtime < older_than:
                continue
            p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed
