"""``sweep_summary.parquet``: one row per (point, policy), metrics as mean and CI over replications.

Built point by point from the per-run files, with the same
``sim.analysis.summarize`` (Student-t interval over replications) that
``run`` uses, so a sweep row and ``run`` on that point's scenario agree.
Only the files of the tasks the sweep defines are read, so stray or stale
files can never add a row.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..analysis import summarize
from ..scenario import ScenarioError
from ..schema import CONFIDENCE_LEVEL
from .expand import Point, SweepPlan
from .store import Layout, write_table

__all__ = ["read_runs", "read_point_runs", "summary_frame", "write_summary", "META_COLUMNS"]

META_COLUMNS = ("point", "policy", "replication", "seed", "arrivals")


def _read_run(path: Path) -> pd.DataFrame:
    """A runs file's rows; a damaged file (edited, truncated by a disk error) is one line saying
    how to redo that run, not an Arrow traceback after the whole sweep has run."""
    try:
        return pq.read_table(path).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ScenarioError([f"{path}: unreadable run file ({exc.__class__.__name__}); delete it and "
                             "re-run the same sweep command to redo its runs"]) from None


def read_point_runs(layout: Layout, plan: SweepPlan, point: Point) -> pd.DataFrame:
    """Per-run rows of one point (completed tasks only), with ``point`` and ``policy`` columns.

    Only the plan's replications are taken, each from the one file that holds it
    (:meth:`Layout.run_files`), in replication order."""
    frames = []
    for policy in plan.policies:
        files = layout.run_files(point.index, policy)
        by_file: dict[Path, list[int]] = {}
        for rep in range(plan.replications):
            if rep in files:
                by_file.setdefault(files[rep], []).append(rep)
        for path, reps in sorted(by_file.items(), key=lambda item: item[1][0]):
            df = _read_run(path)
            if "replication" in df.columns and len(df) > 1 and not df["replication"].isin(reps).all():
                df = df[df["replication"].isin(reps)].reset_index(drop=True)
            df.insert(0, "policy", policy)
            df.insert(0, "point", point.index)
            frames.append(df)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def iter_point_runs(out: str | os.PathLike, plan: SweepPlan) -> Iterator[tuple[Point, pd.DataFrame]]:
    layout = Layout(out)
    for point in plan.points:
        yield point, read_point_runs(layout, plan, point)


def read_runs(out: str | os.PathLike, plan: SweepPlan) -> pd.DataFrame:
    """All per-run rows of the sweep, sorted by (point, policy order, replication)."""
    frames = [df for _, df in iter_point_runs(out, plan) if len(df)]
    if not frames:
        return pd.DataFrame(columns=list(META_COLUMNS))
    df = pd.concat(frames, ignore_index=True)
    order = {p: i for i, p in enumerate(plan.policies)}
    df = df.sort_values(["point", "policy", "replication"],
                        key=lambda s: s.map(order) if s.name == "policy" else s, kind="stable")
    return df.reset_index(drop=True)


def summary_frame(out: str | os.PathLike, plan: SweepPlan, level: float = CONFIDENCE_LEVEL) -> pd.DataFrame:
    """One row per (point, policy): varied parameters, replications, and per metric mean/ci_low/ci_high."""
    params = plan.param_columns
    rows = []
    for point, runs in iter_point_runs(out, plan):
        if not len(runs):
            continue
        metrics = [c for c in runs.columns if c not in META_COLUMNS and c not in params]
        per_rep = runs[["policy", "replication", *metrics]]
        long = summarize(per_rep, level)
        for policy in plan.policies:
            g = long[long["policy"] == policy]
            if not len(g):
                continue
            row = {"point": point.index, "policy": policy, "seed": point.seed, **point.params,
                   "replications": int((runs["policy"] == policy).sum())}
            for rec in g.itertuples(index=False):
                row[f"{rec.metric}_mean"] = rec.mean
                row[f"{rec.metric}_ci_low"] = rec.ci_low
                row[f"{rec.metric}_ci_high"] = rec.ci_high
            rows.append(row)
    df = pd.DataFrame(rows)
    if len(df):
        df["point"] = df["point"].astype(np.int64)
        df["replications"] = df["replications"].astype(np.int64)
    return df


def write_summary(out: str | os.PathLike, plan: SweepPlan) -> Path:
    layout = Layout(out)
    df = summary_frame(out, plan)
    write_table(layout.summary, pa.Table.from_pandas(df, preserve_index=False))
    return layout.summary
