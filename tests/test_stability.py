"""The backlog-growth check: real growth is flagged, noise and weekly cycles are not."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.stability import backlog_growth as _backlog_growth   # also sim.runner._backlog_growth


def backlog(values_by_rep: list[np.ndarray]) -> pd.DataFrame:
    frames = []
    for rep, y in enumerate(values_by_rep):
        t = 1440.0 + 60.0 * np.arange(len(y))
        frames.append(pd.DataFrame({"replication": rep, "time_min": t, "waiting": y}))
    return pd.concat(frames, ignore_index=True)


HOURS = 24 * 28


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A generator of each test's own, seeded by the test's name: results do not depend on which
    tests ran before (a module-level generator made each test's data depend on test order)."""
    return np.random.default_rng(list(request.node.name.encode()))


def test_linear_growth_is_flagged(rng):
    reps = [5 + 2.0 * np.arange(HOURS) / 24 + rng.poisson(3, HOURS) for _ in range(4)]
    growth = _backlog_growth(backlog(reps), None)
    assert growth is not None and 1.5 < growth < 2.5          # tickets per day


def test_stationary_noise_is_not_flagged(rng):
    reps = [rng.poisson(12, HOURS).astype(float) for _ in range(5)]
    assert _backlog_growth(backlog(reps), None) is None


@pytest.mark.parametrize("days", range(14, 36))
def test_weekly_cycle_is_not_growth_but_growth_on_top_of_it_is(days, rng):
    hour = np.arange(24 * days)
    weekend = ((hour // 24) % 7) >= 5
    # the backlog piles up over the weekend and is worked off on Monday
    saw = np.where(weekend, 5 + 10 * ((hour // 24) % 7 - 4) + (hour % 24) / 2, 5.0)
    steady = [saw + rng.poisson(1, len(hour)) for _ in range(4)]
    assert _backlog_growth(backlog(steady), 7 * 1440.0) is None
    growing = [saw + 3.0 * hour / 24 + rng.poisson(1, len(hour)) for _ in range(4)]
    # Poisson(1) noise averaged over a week of hourly samples: the slope's standard error is
    # about 0.02/day per replication: a correct estimator lands far inside 0.2, a biased one not
    assert _backlog_growth(backlog(growing), 7 * 1440.0) == pytest.approx(3.0, abs=0.2)


def test_too_short_to_judge_is_not_flagged():
    hour = np.arange(24 * 10)
    assert _backlog_growth(backlog([5 + 3.0 * hour / 24]), 7 * 1440.0) is None


def test_one_replication_needs_material_growth(rng):
    flat = [10 + 0.3 * np.arange(HOURS) / 24 / 14 + rng.poisson(2, HOURS)]   # tiny drift
    assert _backlog_growth(backlog(flat), None) is None
    steep = [5 + 3.0 * np.arange(HOURS) / 24]
    assert _backlog_growth(backlog(steep), None) is not None
