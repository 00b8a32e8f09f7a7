"""The arrival window: the period a log really covers, and whether it looks like a snapshot.

A snapshot extract ("every ticket open or touched this month") carries a few old tickets that
stretch the first-to-last creation span over years while nearly all creations fall in the last
weeks: (tickets - 1) / span is then many times too low. So the rate is estimated where the
creations are dense.

Method: creations are counted per day (per hour for logs under four days, which are not
searched); a piecewise-constant Poisson rate with one dense window [a, b) between a sparse head
and a sparse tail is fitted by maximum likelihood over every (a, b). The window is used only when
it is clearly better than one constant rate - the likelihood-ratio statistic exceeds a BIC
penalty (3 extra parameters x ln n) - when what it leaves out is at least 3 days and a quarter of
the span, and when the rate outside is below a third of the rate inside (a weekly profile's
weekends do not qualify). Edge days of the window far below its rate (Poisson p < 0.001: a
snapshot's first days hold only the tickets still open when it was taken) are trimmed.
Otherwise the window is the whole first-to-last creation span.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_SEARCH_DAYS = 4.0
MIN_LEFT_OUT_DAYS = 3.0
MIN_LEFT_OUT_SHARE = 0.25
MAX_OUTSIDE_RATIO = 1 / 3


@dataclass
class Window:
    start: pd.Timestamp
    end: pd.Timestamp
    tickets: int                  # creations inside [start, end]
    total: int                    # all creations
    dense: bool                   # a dense window was found (else the whole span)
    reason: str
    head_rate: float = math.nan   # creations per day before / after the window
    tail_rate: float = math.nan
    snapshot: bool = False        # the shape of a snapshot extract

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0

    @property
    def days(self) -> float:
        return self.hours / 24.0

    def contains(self, ts: pd.Series) -> pd.Series:
        return (ts >= self.start) & (ts <= self.end)


def _ll(n: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Poisson log-likelihood (up to constants) of n events over length at the MLE rate."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(n > 0, n * np.log(np.where(length > 0, n / length, 1.0)), 0.0)
    return v - n


def _trim(counts: np.ndarray, widths: np.ndarray, i: int, j: int) -> tuple[int, int]:
    """Drop edge days of the window whose count is far below the window's rate (Poisson lower
    tail p < 0.001): a snapshot's first days hold only the tickets still open when it was
    taken - a ramp, not the rate."""
    from scipy import stats

    while j - i > 2:
        rate = counts[i:j].sum() / widths[i:j].sum()
        if stats.poisson.cdf(counts[i], rate * widths[i]) < 0.001:
            i += 1
        elif stats.poisson.cdf(counts[j - 1], rate * widths[j - 1]) < 0.001 and widths[j - 1] >= 0.5:
            j -= 1
        else:
            break
    return i, j


def arrival_window(arrivals: pd.Series) -> Window:
    """The dense period of ticket creations (see the module docstring)."""
    arr = arrivals.sort_values().reset_index(drop=True)
    first, last = arr.iloc[0], arr.iloc[-1]
    n = len(arr)
    span_days = (last - first).total_seconds() / 86400.0
    whole = Window(first, last, n, n, False, "first to last creation")
    if span_days < MIN_SEARCH_DAYS or n < 20:
        return whole
    day = ((arr - first).dt.total_seconds() / 86400.0).to_numpy()
    nb = int(math.ceil(span_days)) or 1
    counts = np.bincount(np.minimum(day.astype(int), nb - 1), minlength=nb).astype(float)
    widths = np.ones(nb)
    widths[-1] = span_days - (nb - 1) if span_days > nb - 1 else 1.0
    cn = np.concatenate([[0.0], np.cumsum(counts)])
    cw = np.concatenate([[0.0], np.cumsum(widths)])
    a = np.arange(nb + 1)[:, None]
    b = np.arange(nb + 1)[None, :]
    valid = b > a
    n_in = cn[b] - cn[a]
    w_in = cw[b] - cw[a]
    w_head, w_tail = cw[a], cw[-1] - cw[b]
    n_head, n_tail = cn[a], cn[-1] - cn[b]
    ll = _ll(n_in, w_in) + _ll(n_head, w_head) + _ll(n_tail, w_tail)
    ll1 = float(_ll(np.array(cn[-1]), np.array(cw[-1])))
    left_out = w_head + w_tail
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_in = n_in / w_in
        # head and tail must each be sparse (a dense tail is part of the window, not outside it)
        rate_head = np.where(w_head > 0, n_head / np.where(w_head > 0, w_head, 1), 0.0)
        rate_tail = np.where(w_tail > 0, n_tail / np.where(w_tail > 0, w_tail, 1), 0.0)
    ok = valid & (left_out >= MIN_LEFT_OUT_DAYS) & (left_out >= MIN_LEFT_OUT_SHARE * cw[-1]) & \
        (rate_head <= MAX_OUTSIDE_RATIO * rate_in) & (rate_tail <= MAX_OUTSIDE_RATIO * rate_in) & \
        (w_in >= 1.0)
    if not ok.any():
        return whole
    score = np.where(ok, ll, -np.inf)
    bi, bj = np.unravel_index(int(np.argmax(score)), score.shape)
    lr = 2 * (float(ll[bi, bj]) - ll1)
    if lr <= 3 * math.log(n):
        return whole
    i, j = _trim(counts, widths, int(bi), int(bj))
    start = first + pd.Timedelta(days=float(cw[i]))
    end = min(first + pd.Timedelta(days=float(cw[j])), last)
    inside = int(((arr >= start) & (arr <= end)).sum())
    head = float(n_head[i, 0] / w_head[i, 0]) if w_head[i, 0] > 0 else math.nan
    tail = float(n_tail[0, j] / w_tail[0, j]) if w_tail[0, j] > 0 else math.nan
    # a snapshot extract: the dense part runs to the end, after a long sparse head
    snapshot = bool(j == nb and w_head[i, 0] >= MIN_LEFT_OUT_DAYS)
    reason = (f"creations are dense from {start:%Y-%m-%d} to {end:%Y-%m-%d} ({inside} of {n} "
              f"tickets, {rate_in[i, j]:.1f}/day) and sparse outside it (head {head:.2f}/day over "
              f"{w_head[i, 0]:.0f} days" + (f", tail {tail:.2f}/day over {w_tail[0, j]:.0f} days"
                                            if w_tail[0, j] > 0 else "") +
              f"); one constant rate over the whole span is rejected (likelihood ratio "
              f"{lr:.0f} > {3 * math.log(n):.0f})")
    return Window(start, end, inside, n, True, reason, head, tail, snapshot)
