"""The on-disk layout of a sweep directory, written so that a crash never corrupts it.

```
DIR/sweep.json                                   manifest: points, seeds, fingerprints (identity)
DIR/points/point-00003.yaml                      each point's full scenario (run it alone with `run`)
DIR/runs/point=00003/policy=tiered/r0007.parquet    one per-run summary row per task
DIR/tickets/point=00003/policy=tiered/r0007.parquet per-ticket rows (only with --tickets)
DIR/failed/point=00003/policy=tiered/r0007.json     a task that raised: its error
DIR/sweep_summary.parquet, DIR/report/            written at the end
```
``runs/`` and ``tickets/`` are Hive-partitioned Parquet datasets
(``pandas.read_parquet(DIR / "runs")`` adds ``point`` and ``policy`` columns).
Every file is written to a hidden temporary name in the same directory and
renamed into place (``os.replace`` is atomic), so a file either exists whole
or not at all; readers ignore the hidden names.  A task is done when its runs
file exists (written after its tickets file), so re-running skips it and a
row can never be written twice.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_write

__all__ = ["Layout", "atomic_write", "write_table"]


class Layout:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

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

    def runs_file(self, point: int, policy: str, rep: int) -> Path:
        return self._task("runs", point, policy, rep, "parquet")

    def tickets_file(self, point: int, policy: str, rep: int) -> Path:
        return self._task("tickets", point, policy, rep, "parquet")

    def failed_file(self, point: int, policy: str, rep: int) -> Path:
        return self._task("failed", point, policy, rep, "json")

    def is_done(self, point: int, policy: str, rep: int, tickets: bool) -> bool:
        if not self.runs_file(point, policy, rep).exists():
            return False
        return not tickets or self.tickets_file(point, policy, rep).exists()


def write_table(path: Path, table: pa.Table) -> None:
    atomic_write(path, lambda p: pq.write_table(table, p))


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, default=str)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def remove_stale_temporaries(root: Path) -> int:
    """Delete hidden ``*.tmp`` files a killed sweep left behind; they are never read anyway."""
    n = 0
    for sub in ("runs", "tickets", "failed", "points"):
        d = root / sub
        if d.exists():
            for tmp in d.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                n += 1
    return n
