"""A lead that prints as zero is a tie, in every sentence that words a comparison.

QA found "no clear winner: tiered ahead of tiered skip by 0.0 %" in the wins table
(and "ahead by 0.0 %" in the sweep's regime cells): at the precision shown the two
policies are tied, and the text must say so.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sim.analysis.pairwise import best_policies
from sim.report.format import fmt_pct, pct_digits, shows_zero
from sim.report.wins import margin_is_tie, win_text, wins_table
from sim.sweep.report import _annotation, _cell_text

ZERO_MARGIN = re.compile(r"(ahead|behind|by|next)[^;]*?\b0(\.0+)? (%|pp)")


def per_rep(values: dict[str, list[float]], metric: str) -> pd.DataFrame:
    return pd.DataFrame([{"policy": p, "replication": r, metric: v}
                         for p, vals in values.items() for r, v in enumerate(vals)])


def noisy_tie(metric: str) -> pd.DataFrame:
    """Two policies 0.03 % apart with a few per cent of paired noise: a tie at the shown precision."""
    rng = np.random.default_rng(7)
    base = 60 + rng.normal(0, 5, 6)
    noise = rng.normal(0, 2.0, 6)
    return per_rep({"tiered": list(base), "tiered_skip": list(base + noise - noise.mean() + 0.02)}, metric)


def test_shows_zero_follows_the_printed_digits():
    assert shows_zero(0.04, 1) and not shows_zero(0.04, 2) and shows_zero(0.0, 0)
    assert not shows_zero(float("nan"), 1)
    # a real but tiny change is never printed as zero when no interval sets the precision
    assert pct_digits(0.00004) == 3 and fmt_pct(0.00004) == "0.004 %"
    assert fmt_pct(0.312) == "31 %" and fmt_pct(0.043) == "4.3 %"


def test_identical_policies_tie_in_the_wins_cell():
    values = [50.0, 61.0, 55.0, 58.0]
    data = per_rep({"tiered": values, "tiered_skip": list(values)}, "resolution_mean_min")
    (rec,) = best_policies(data, "resolution_mean_min").to_dict("records")
    text = win_text(rec, "resolution_mean_min")
    assert text == ("no clear winner: tiered and tiered skip tie on mean resolution time "
                    "(the same in every replication)")


def test_a_lead_rounding_to_zero_under_noise_is_a_tie_not_ahead_by_zero():
    data = noisy_tie("cost_per_resolved")
    (rec,) = best_policies(data, "cost_per_resolved").to_dict("records")
    assert rec["reason"] == "not_clear" and abs(rec["margin_rel"]) < 0.001
    assert margin_is_tie(rec["margin_rel"], rec["rel_low"], rec["rel_high"])
    text = win_text(rec, "cost_per_resolved")
    assert text.startswith("no clear winner: tiered") and " tie on agent-time cost per resolved ticket" in text
    assert "within ±" in text and not ZERO_MARGIN.search(text), text
    # the table built from an analysis says the same
    a = SimpleNamespace(per_rep=data, by_issue=None, by_segment=None, unstable=[], level=0.95)
    table = wins_table(a)
    assert "tie on" in table.rows[0][1] and not ZERO_MARGIN.search(table.rows[0][1])


def test_a_visible_lead_is_still_worded_as_a_lead():
    data = per_rep({"a": [10.0, 12.0, 11.0, 13.0], "b": [10.5, 12.6, 11.55, 13.45]}, "cost_per_resolved")
    (rec,) = best_policies(data, "cost_per_resolved").to_dict("records")
    text = win_text(rec, "cost_per_resolved")
    assert rec["reason"] == "clear" and text.startswith("a; next b, ") and "tie" not in text
    rec = dict(rec, reason="not_clear", margin_rel=0.04, rel_low=-0.01, rel_high=0.09)
    assert win_text(rec, "cost_per_resolved") == "no clear winner: a ahead of b by 4 % (±5 %)"


def test_a_clear_tiny_lead_is_shown_with_the_digits_it_needs():
    rec = {"reason": "clear", "best": "a", "runner_up": "b", "better": "lower",
           "margin_rel": 0.0004, "rel_low": 0.0004, "rel_high": 0.0004}
    assert win_text(rec, "cost_per_resolved") == "a; next b, 0.04 % dearer"


def test_sweep_regime_cells_say_tie():
    data = noisy_tie("resolution_mean_min")
    (best,) = best_policies(data, "resolution_mean_min").to_dict("records")
    rec = {**best, "winner": "no clear winner", "unstable_policies": ""}
    text = _cell_text(rec)
    assert text.startswith("time: no clear winner: tiered and tiered skip tie (within ±"), text
    assert not ZERO_MARGIN.search(text)
    same = per_rep({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0]}, "resolution_mean_min")
    (best,) = best_policies(same, "resolution_mean_min").to_dict("records")
    assert _cell_text({**best, "winner": "no clear winner"}, with_metric=False) == \
        "no clear winner: a and b tie (the same in every replication)"
    # a clear winner's tiny lead keeps its digits in the cell and on the map
    clear = {"metric": "abandoned_share", "winner": "a", "best": "a", "runner_up": "b", "reason": "clear",
             "margin": 0.00002, "ci_low": 0.00001, "ci_high": 0.00003, "unstable_policies": ""}
    assert _cell_text(clear) == "abandoned_share: a by 0.002 pp (±0.001)"
    assert _annotation(clear) == "a\nby 0.002 pp"


def test_equal_payroll_at_equal_service_is_a_tie_not_a_cheapest_policy(tmp_path):
    from sim.report.staffing import StaffingResults, _payroll_table

    staffing = pd.DataFrame([{"policy": p, "team": "L1", "agents": 4, "current_agents": 4}
                             for p in ("tiered", "tiered_skip", "swarming")])
    summary = pd.DataFrame([
        {"policy": "tiered", "feasible": True, "payroll_per_hour": 120.0, "payroll_per_resolved": 3.0, "evaluations": 5},
        {"policy": "tiered_skip", "feasible": True, "payroll_per_hour": 120.0, "payroll_per_resolved": 3.0,
         "evaluations": 5},
        {"policy": "swarming", "feasible": True, "payroll_per_hour": 150.0, "payroll_per_resolved": 3.5,
         "evaluations": 5}])
    evaluations = pd.DataFrame([{"policy": p, "agents_L1": 4, "replications": 3, "payroll_per_hour": 120.0}
                                for p in ("tiered", "tiered_skip", "swarming")])
    table = _payroll_table(StaffingResults(tmp_path, {}, staffing, summary, evaluations))
    assert table.note.startswith("Cheapest at equal service: tiered and tiered_skip tie at 120.0 per hour")
    assert "tiered_skip the same; swarming +25.0%" in table.note and "+0.0%" not in table.note
    assert [r[4] for r in table.rows] == ["the same", "the same", "+25.0%"]
