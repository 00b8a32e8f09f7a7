"""The on-disk layout of a sweep directory, written so that a crash never corrupts it.

```
DIR/sweep.json                                   manifest: points, seeds, fingerprints (identity)
DIR/points/point-00003.yaml                      each point's full scenario (run it alone with `run`)
DIR/runs/point=00003/policy=tiered/r0005-0009.parquet  per-run summary rows, replications 5..9
DIR/runs/point=00003/policy=tiered/r0007.parquet    ... or of one replication
DIR/tickets/point=00003/policy=tiered/r0007.parquet per-ticket rows (only with --tickets)
DIR/failed/point=00003/policy=tiered/r0007.json     a task that raised: its error
DIR/sweep_summary.parquet, DIR/report/            written at the end
```
``runs/`` and ``tickets/`` are Hive-partitioned Parquet datasets
(``pandas.read_parquet(DIR / "runs")`` adds ``point`` and ``policy`` columns).
Every file is written to a hidden temporary name in the same directory and
renamed into place (``os.replace`` is atomic), so a file either exists whole
or not at all; readers ignore the hidden names.  A runs file holds the rows of
the consecutive replications its name says (``r0005-0009``: 5 to 9, one row
each, in order; ``r0007``: 7 alone): the runs of one (point, policy) that came
back from a worker together are written as one file, because the file itself
(create, fsync, rename) cost more than the row in it (issue 16).  A task is done
when a runs file covers its replication (written after its tickets files), so
re-running skips it and a row can never be written twice; only tasks not done
are run, so two files never cover one replication (readers take the first if a
copied-back file does).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_write

__all__ = ["Layout", "rep_span", "atomic_write", "write_table", "write_json", "remove_stale_temporaries",
           "shelve_outside_plan", "OUTSIDE_PLAN"]


class Layout:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.shelved = 0        # files moved to outside-plan/ when the directory was prepared

    @property
    def manifest(self) -> Path:
        return self.root / "sweep.json"

    @property
    def summary(self) -> Path:
        return self.root / "sweep_summary.parquet"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    def point_file(self, point: int) -> Path:
        return self.root / "points" / f"point-{point:05d}.yaml"

    def _task(self, kind: str, point: int, policy: str, rep: int, ext: str) -> Path:
        return self.root / kind / f"point={point:05d}" / f"policy={policy}" / f"r{rep:04d}.{ext}"

    def runs_file(self, point: int, policy: str, rep: int, last: Optional[int] = None) -> Path:
        """The runs file of replication ``rep`` alone, or of ``rep`` to ``last`` (inclusive)."""
        if last is None or last == rep:
            return self._task("runs", point, policy, rep, "parquet")
        return (self.root / "runs" / f"point={point:05d}" / f"policy={policy}"
                / f"r{rep:04d}-{last:04d}.parquet")

    def run_files(self, point: int, policy: str) -> dict[int, Path]:
        """Replication -> the runs file holding its row, for every replication on disk."""
        d = self.root / "runs" / f"point={point:05d}" / f"policy={policy}"
        found: dict[int, Path] = {}
        try:
            names = sorted(e.name for e in os.scandir(d) if e.name.endswith(".parquet"))
        except OSError:         # no such directory yet
            return found
        for name in names:
            span = rep_span(name)
            if span is None:
                continue
            for rep in range(span[0], span[1] + 1):
                found.setdefault(rep, d / name)
        return found

    def tickets_file(self, point: int, policy: str, rep: int) -> Path:
        return self._task("tickets", point, policy, rep, "parquet")

    def failed_file(self, point: int, policy: str, rep: int) -> Path:
        return self._task("failed", point, policy, rep, "json")

    def done_reps(self, point: int, policy: str, tickets: bool,
                  files: Optional[dict[int, Path]] = None) -> set[int]:
        """Replications of (point, policy) complete on disk (one directory listing, none if
        ``files``, the :meth:`run_files` of that (point, policy), is given)."""
        done = set(self.run_files(point, policy) if files is None else files)
        if tickets and done:
            done = {r for r in done if self.tickets_file(point, policy, r).exists()}
        return done


def rep_span(name: str) -> Optional[tuple[int, int]]:
    """(first, last) replication of a runs-file name (``r0005-0009.parquet``, ``r0007.parquet``);
    None for any other name (hidden temporaries, a user's own files)."""
    if not name.startswith("r") or name.startswith("."):
        return None
    stem = name.split(".", 1)[0][1:]
    first, sep, last = stem.partition("-")
    if not (first.isdigit() and first.isascii()) or (sep and not (last.isdigit() and last.isascii())):
        return None
    a, b = int(first), int(last) if sep else int(first)
    return (a, b) if b >= a else None


#: tables up to this many rows (a delivery's runs rows) are written the cheap way, see write_table
SMALL_TABLE_ROWS = 64


def write_table(path: Path, table: pa.Table) -> None:
    """``table`` as a Parquet file at ``path``, atomically.

    A tiny table (a task's row in ``runs/``) is encoded in memory without per-column
    dictionaries and statistics, which only pay off on many rows, and written in one
    call: a sweep of one-day runs spent ~3 ms of the coordinator's CPU per row, mostly
    in pyarrow opening the file and building those (issue 16; ~1 ms less).  The data
    read back is the same.
    """
    if table.num_rows <= SMALL_TABLE_ROWS:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, use_dictionary=False, write_statistics=False)
        data = sink.getvalue()
        atomic_write(path, lambda p: p.write_bytes(data))
        return
    atomic_write(path, lambda p: pq.write_table(table, p))


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, default=str)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def remove_stale_temporaries(root: Path) -> int:
    """Delete hidden temporaries a killed sweep left behind (call it holding DIR's lock).

    Only the atomic writer's exact temporary-name pattern is touched
    (:func:`sim.atomic.remove_stale_temporaries`), never another file.
    """
    from ..atomic import remove_stale_temporaries as remove

    n = 0
    for sub in ("runs", "tickets", "failed", "points"):
        n += len(remove(root / sub))
    n += len(remove(root, recursive=False))
    return n


OUTSIDE_PLAN = "outside-plan"


def _task_of(rel: Path) -> tuple[int, str, int, int] | None:
    """(point, policy, first, last replication) of ``runs/point=00003/policy=tiered/r0007.parquet``
    (or ``r0005-0009.parquet``) and alike."""
    parts = rel.parts
    if len(parts) != 4 or not parts[1].startswith("point=") or not parts[2].startswith("policy="):
        return None
    span = rep_span(parts[3])
    try:
        point = int(parts[1][6:])
    except ValueError:
        return None
    return None if span is None else (point, parts[2][7:], span[0], span[1])


def shelve_outside_plan(layout: Layout, plan: Any) -> int:
    """Move files of tasks ``plan`` does not have to ``DIR/outside-plan/`` (same relative paths).

    A sweep re-run with fewer points, policies or replications would otherwise
    leave rows that ``pandas.read_parquet(DIR / "runs")`` still returns.
    Nothing is deleted (the rows may still be wanted); only names of the
    layout's own pattern are moved, and only when the plan does not have them.
    A runs file of several replications of which only the last ones left the
    plan is split: their rows go to ``outside-plan/`` as a file of their own,
    the others stay as a new file, and only then is the old file removed (a
    crash in between leaves both, which the next sweep splits again the same
    way).  Returns the number of files moved or split.
    """
    wanted_points = {p.index for p in plan.points}
    policies = set(plan.policies)
    n = plan.replications
    moved = 0
    for kind in ("runs", "tickets", "failed"):
        base = layout.root / kind
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("r*.*")):
            if path.name.startswith(".") or not path.is_file():
                continue
            rel = path.relative_to(layout.root)
            task = _task_of(rel)
            if task is None:
                continue
            point, policy, first, last = task
            if point in wanted_points and policy in policies and last < n:
                continue
            target = layout.root / OUTSIDE_PLAN / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if not (kind == "runs" and point in wanted_points and policy in policies and first < n
                    and _split_runs_file(layout, path, point, policy, first, last, n)):
                os.replace(path, target)
            moved += 1
        _prune_empty(base)
    points_dir = layout.root / "points"
    if points_dir.is_dir():
        for path in sorted(points_dir.glob("point-*.yaml")):
            try:
                index = int(path.stem.split("-", 1)[1])
            except ValueError:
                continue
            if index not in wanted_points:
                target = layout.root / OUTSIDE_PLAN / "points" / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                moved += 1
    return moved


def _split_runs_file(layout: Layout, path: Path, point: int, policy: str, first: int, last: int,
                     n: int) -> bool:
    """Replications ``first..n-1`` of ``path`` stay (a new file), ``n..last`` go to outside-plan/.

    False (nothing done: the caller moves the whole file) when the file cannot be read
    or does not hold, in order, the replications its name says."""
    try:
        table = pq.read_table(path)
    except (OSError, ValueError, pa.ArrowException):
        return False
    if table.num_rows != last - first + 1 or ("replication" in table.column_names and
                                               table.column("replication").to_pylist()
                                               != list(range(first, last + 1))):
        return False
    keep, away = table.slice(0, n - first), table.slice(n - first)
    outside = Layout(layout.root / OUTSIDE_PLAN)
    write_table(outside.runs_file(point, policy, n, last), away)
    write_table(layout.runs_file(point, policy, first, n - 1), keep)
    path.unlink()
    return True


def _prune_empty(base: Path) -> None:
    """Remove directories left empty by moving files out (deepest first); never ``base`` itself."""
    for d in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            d.rmdir()
        except OSError:
            pass
