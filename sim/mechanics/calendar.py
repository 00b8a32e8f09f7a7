"""The scenario clock and shift windows: pure functions of the scenario data.

Simulated minute 0 is minute ``week0`` of the week (Monday 00:00 = 0) on the
scenario clock, whose UTC offset is ``clock_offset_h`` (see
``Scenario.clock``).  A team on ``utc_offset`` sees local time = scenario time
+ (utc_offset - clock_offset_h) hours.
"""
from __future__ import annotations

import math

WEEK_MIN = 7 * 1440.0
DAY_INDEX = {d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}


def shift_windows(shift, week0: float, clock_offset_h: float, horizon: float) -> list[tuple[float, float]]:
    """On-duty intervals ``[(start, end), ...]`` in simulated minutes, within ``[0, horizon]``.

    Intervals are sorted, disjoint and merged where one shift ends as the next starts
    (e.g. ``start: 0, end: 24`` every day is one interval).  A shift belongs to the local
    day it starts on, so a night shift ``22 -> 6`` on ``fri`` runs Friday 22:00 to Saturday 06:00.
    """
    shift_local = (shift.utc_offset - clock_offset_h) * 60.0      # local = scenario + this
    length = shift.length_h * 60.0
    first_week = math.floor((week0 + shift_local - WEEK_MIN) / WEEK_MIN)
    last_week = math.ceil((week0 + shift_local + horizon) / WEEK_MIN)
    raw = []
    for w in range(first_week, last_week + 1):
        for day in shift.days:
            local_start = w * WEEK_MIN + DAY_INDEX[day] * 1440.0 + shift.start * 60.0
            s = local_start - shift_local - week0                    # in simulated minutes
            e = s + length
            if e > 0 and s < horizon:
                raw.append((max(s, 0.0), min(e, horizon)))
    raw.sort()
    merged: list[tuple[float, float]] = []
    for s, e in raw:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def overlap(windows: list[tuple[float, float]], lo: float, hi: float) -> float:
    """Minutes of ``windows`` inside ``[lo, hi]``."""
    return sum(max(0.0, min(e, hi) - max(s, lo)) for s, e in windows)
