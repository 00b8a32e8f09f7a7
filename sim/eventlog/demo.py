"""A realistic-looking ticket log for demos and tests: simulated, then spoiled like real exports.

Real ticketing exports have duplicate rows, activities whose end was never
logged, agents whose clocks are off, mixed time-zone notations and no
simulator bookkeeping columns.  :func:`realistic_log` turns a simulated log
into one like that and returns the exact number of each defect injected, so
tests can check the calibrator reports every one of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import vocabulary as V
from .writers import iso_ms

#: columns a real export would not have (simulator bookkeeping)
SIM_ONLY = (V.POLICY, V.REPLICATION, V.TICKET, V.MEASURED, V.QUEUE, V.FROM_TEAM, V.TO_TEAM, V.COST)


@dataclass
class Defects:
    duplicates: int = 0          # rows repeated verbatim
    missing_end: int = 0         # interval activities whose completion was never logged
    lost_resolved: int = 0       # tickets whose 'resolved' event was lost
    skewed_agent_rows: int = 0   # rows of one agent whose clock runs slow
    skewed_before_created: int = 0   # of those, rows that now precede their ticket's creation
    swapped_times: int = 0       # rows whose start is after their end
    offset_rows: int = 0         # timestamps written with a +01:00 offset (same instant)
    naive_rows: int = 0          # timestamps written without any offset (UTC wall time)
    open_activities: int = 0     # rows of activities with a start but no end (injected + horizon)


def realistic_log(events: pd.DataFrame, seed: int = 7, duplicates: int = 25, missing_end: int = 6,
                  lost_resolved: int = 8, skew_minutes: float = 4.0, swapped: int = 3,
                  offset_share: float = 0.1, naive: int = 40,
                  keep: tuple[str, ...] = ()) -> tuple[pd.DataFrame, Defects]:
    """Return the log as strings (CSV-ready), with case ids like ``INC0000017``, and the defects.

    ``keep``: simulator columns to leave in (e.g. ``cost``, which time-tracking exports do have
    and which calibrate turns into each team's ``cost_per_hour``).
    """
    rng = np.random.default_rng(seed)
    d = Defects()
    drop = [c for c in SIM_ONLY if c in events.columns and c not in keep]
    df = events.drop(columns=drop).reset_index(drop=True)
    df[V.CASE] = "INC" + events[V.TICKET].astype(np.int64).map("{:07d}".format).to_numpy()

    # lost 'resolved' events
    res = np.flatnonzero(df[V.ACTIVITY].to_numpy() == V.RESOLVED)
    lost = rng.choice(res, size=min(lost_resolved, len(res)), replace=False)
    d.lost_resolved = len(lost)
    # 'worked' that started but whose completion was never logged: only a start row remains
    done = df[V.LIFECYCLE].to_numpy() == V.LIFECYCLE_COMPLETE
    worked = np.flatnonzero((df[V.ACTIVITY].to_numpy() == V.WORKED) & done)
    cut = rng.choice(np.setdiff1d(worked, lost), size=min(missing_end, len(worked)), replace=False)
    df.loc[cut, V.TIMESTAMP] = df.loc[cut, V.START]
    df.loc[cut, V.LIFECYCLE] = V.LIFECYCLE_START
    d.missing_end = len(cut)
    # the ticket then has no resolution either (it was never logged as resolved)
    cut_cases = set(df.loc[cut, V.CASE])
    also = np.flatnonzero(df[V.CASE].isin(cut_cases).to_numpy() &
                          (df[V.ACTIVITY].to_numpy() == V.RESOLVED))
    df = df.drop(index=np.union1d(lost, also)).reset_index(drop=True)
    d.lost_resolved += len(also)

    # one agent's clock runs slow: every row they log is early
    res_col = df[V.RESOURCE]
    agents = res_col.dropna().unique()
    slow = sorted(agents)[0] if len(agents) else None
    if slow is not None:
        mask = (res_col == slow).to_numpy()
        shift = pd.Timedelta(minutes=skew_minutes)
        df.loc[mask, V.TIMESTAMP] = df.loc[mask, V.TIMESTAMP] - shift
        df.loc[mask & df[V.START].notna().to_numpy(), V.START] -= shift
        d.skewed_agent_rows = int(mask.sum())
        created = df[df[V.ACTIVITY] == V.CREATED].set_index(V.CASE)[V.TIMESTAMP]
        when = df.loc[mask, V.TIMESTAMP]
        base = df.loc[mask, V.CASE].map(created)
        d.skewed_before_created = int((when < base - pd.Timedelta(seconds=1)).sum())
    # rows whose start is after their end (a second clock problem)
    timed = np.flatnonzero(df[V.START].notna().to_numpy() & (df[V.START] < df[V.TIMESTAMP]).to_numpy()
                           & (df[V.RESOURCE] != slow).to_numpy())
    sw = rng.choice(timed, size=min(swapped, len(timed)), replace=False)
    a, b = df.loc[sw, V.TIMESTAMP].copy(), df.loc[sw, V.START].copy()
    df.loc[sw, V.TIMESTAMP], df.loc[sw, V.START] = b.to_numpy(), a.to_numpy()
    d.swapped_times = len(sw)

    # text timestamps: mostly UTC, some in +01:00 (same instant), a few with no offset at all
    ts_text = iso_ms(df[V.TIMESTAMP])
    st_text = iso_ms(df[V.START])
    n = len(df)
    order = rng.permutation(n)
    off = order[: int(offset_share * n)]
    nav = order[int(offset_share * n): int(offset_share * n) + naive]
    local = (df.loc[off, V.TIMESTAMP] + pd.Timedelta(hours=1)).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    ts_text.iloc[off] = local.str.slice(0, 23).to_numpy() + "+01:00"
    ts_text.iloc[nav] = ts_text.iloc[nav].str.slice(0, 23).str.replace("T", " ", regex=False)
    df[V.TIMESTAMP] = ts_text
    df[V.START] = st_text

    # duplicate rows, appended where exports put them: anywhere
    dup = df.iloc[rng.choice(len(df), size=duplicates, replace=False)]
    d.duplicates = duplicates
    df = pd.concat([df, dup], ignore_index=True)
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)   # exports are rarely sorted
    uniq = df.drop_duplicates()
    d.offset_rows = int(df[V.TIMESTAMP].str.endswith("+01:00").sum())   # as read, before dedup
    d.naive_rows = int((~df[V.TIMESTAMP].str.contains(r"[+-]\d\d:\d\d$|Z$")).sum())
    d.open_activities = int((uniq[V.LIFECYCLE] == V.LIFECYCLE_START).sum())
    return df, d
