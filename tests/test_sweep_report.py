"""The regime map's verdict: a policy wins a point only when its CI clears every other policy's."""
from __future__ import annotations

import math

import pandas as pd

from sim.sweep.report import NO_CLEAR_WINNER, winner


def rows(metric: str, intervals: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"policy": p, f"{metric}_mean": m, f"{metric}_ci_low": lo, f"{metric}_ci_high": hi}
                         for p, (lo, m, hi) in intervals.items()])


def test_lowest_mean_wins_when_its_interval_clears_all_others():
    r = rows("resolution_mean_min", {"tiered": (50, 55, 60), "swarming": (30, 35, 40), "skill_routing": (41, 45, 49)})
    assert winner(r, "resolution_mean_min", 3) == "swarming"


def test_overlap_with_any_other_policy_means_no_clear_winner():
    r = rows("resolution_mean_min", {"tiered": (50, 55, 60), "swarming": (30, 35, 42), "skill_routing": (41, 45, 49)})
    assert winner(r, "resolution_mean_min", 3) == NO_CLEAR_WINNER


def test_higher_is_better_for_the_resolved_share():
    r = rows("resolved_share", {"tiered": (0.90, 0.91, 0.92), "swarming": (0.95, 0.96, 0.97)})
    assert winner(r, "resolved_share", 2) == "swarming"


def test_single_replication_has_no_interval_so_no_winner():
    nan = math.nan
    r = rows("cost_per_resolved", {"tiered": (nan, 10, nan), "swarming": (nan, 50, nan)})
    assert winner(r, "cost_per_resolved", 2) == NO_CLEAR_WINNER


def test_no_data_is_not_a_verdict():
    nan = math.nan
    r = rows("cost_per_resolved", {"tiered": (nan, nan, nan), "swarming": (nan, nan, nan)})
    assert winner(r, "cost_per_resolved", 2) is None
