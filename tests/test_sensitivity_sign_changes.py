"""A flip point that is one of several sign changes is said to be one (typed ``sign_changes``).

QA found a time flip point near a noisy end of its range reported as a clean threshold
although the paired difference changed sign three times over the range.  The count comes
from the evaluations the analysis already has (pure), is written to flips.csv as its own
column, and the report words it from that column, never from the note.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd

from sim.report.assumptions import assumptions_section, flip_sentences
from sim.schema import TABLES
from sim.sensitivity import load_sensitivity
from sim.sensitivity.analysis import (FLIPS_COLUMNS, FLIPS_EXTRA_COLUMNS, POINTS_COLUMNS, Evaluated,
                                      flip_rows, sign_changes, sign_changes_in_points)
from sim.sensitivity.params import Param
from sim.sensitivity.result import SensitivityResult

OWNER = "frictions.swarm_owner_contribution"
PARAM = Param(OWNER, 0.0, 1.0)
# swarming (lower is better) is ahead above ~0.55; near the low end the two are close and noise
# makes the difference change sign twice more: three changes in all
NOISY = {0.0: 0.4, 0.05: -0.2, 0.1: 0.3, 0.5: 0.5, 0.6: -0.8, 1.0: -3.0}
CLEAN = {0.0: 2.0, 0.5: 0.5, 0.6: -0.8, 1.0: -3.0}


def test_sign_changes_counts_every_change_of_sign_over_the_evaluated_values():
    assert sign_changes(NOISY) == 3 and sign_changes(CLEAN) == 1
    assert sign_changes({0.0: 1.0, 1.0: 2.0}) == 0 and sign_changes({}) == 0
    assert sign_changes({0.0: 1.0, 0.5: 0.0, 0.7: math.nan, 1.0: -1.0}) == 1     # zero and NaN skipped


def flips_for(series: dict[float, float]) -> list[dict]:
    ev = Evaluated(PARAM, centre=0.8, diffs={v: {("swarming", "resolution_mean_min"): d} for v, d in series.items()})
    return flip_rows(ev, [("swarming", "resolution_mean_min")], "tiered")


def test_flip_rows_carry_the_count_and_keep_the_nearest_bracket():
    (noisy,) = flips_for(NOISY)
    (clean,) = flips_for(CLEAN)
    assert list(noisy) == [*FLIPS_COLUMNS, *FLIPS_EXTRA_COLUMNS]
    assert noisy["sign_changes"] == 3 and clean["sign_changes"] == 1
    # the flip point itself is what it was: the change nearest the scenario's value (0.8)
    assert (noisy["low"], noisy["high"]) == (0.5, 0.6) == (clean["low"], clean["high"])
    assert noisy["flip_value"] == clean["flip_value"]
    (none,) = flips_for({0.0: 1.0, 1.0: 2.0})
    assert none["sign_changes"] == 0 and math.isnan(none["flip_value"])


def sens_of(rows: list[dict]) -> SimpleNamespace:
    return SimpleNamespace(flips=pd.DataFrame(rows), baseline="tiered", base_values={OWNER: 0.8},
                           param=lambda path: PARAM if path == OWNER else None)


def test_the_report_says_a_flip_point_is_not_a_clean_threshold():
    (noisy,) = flips_for(NOISY)
    (line,) = flip_sentences(sens_of([noisy]))
    assert line.startswith("Swarming stays faster than tiered while")
    assert "Not a clean threshold: the verdict changes sign 3 times between 0 and 1" in line
    (clean,) = flips_for(CLEAN)
    (line,) = flip_sentences(sens_of([clean]))
    assert "clean threshold" not in line and "changes sign" not in line
    # typed, not text: the same note with sign_changes 1 says nothing; an old table without it neither
    assert "clean threshold" not in flip_sentences(sens_of([dict(noisy, sign_changes=1)]))[0]
    old = {k: v for k, v in noisy.items() if k != "sign_changes"}
    assert "clean threshold" not in flip_sentences(sens_of([old]))[0]


def result_with(series: dict[float, float], tmp_path) -> SensitivityResult:
    rows = flips_for(series)
    points = pd.DataFrame([{"parameter": OWNER, "value": v, "policy": "swarming", "baseline": "tiered",
                            "metric": "resolution_mean_min", "n": 2, "baseline_mean": 60.0,
                            "policy_mean": 60.0 + d, "diff_mean": d, "diff_low": d - 1, "diff_high": d + 1,
                            "relative_change": d / 60, "ci_low": (d - 1) / 60, "ci_high": (d + 1) / 60,
                            "unstable": ""} for v, d in sorted(series.items())], columns=[*POINTS_COLUMNS, "unstable"])
    return SensitivityResult(
        scenario="s", fingerprint="f", seed=1, replications=2, horizon_days=1.0, policies=["swarming"],
        baseline="tiered", metrics=["resolution_mean_min"], params=[PARAM], base_values={OWNER: 0.8},
        tolerance=0.1, tornado=pd.DataFrame(columns=["parameter"]),
        flips=pd.DataFrame(rows, columns=[*FLIPS_COLUMNS, *FLIPS_EXTRA_COLUMNS]), points=points)


def test_flips_csv_has_the_typed_column_and_an_older_file_gets_it_from_points(tmp_path):
    r = result_with(NOISY, tmp_path)
    r.save(tmp_path / "new")
    csv = pd.read_csv(tmp_path / "new" / "flips.csv")
    assert list(csv.columns) == [*FLIPS_COLUMNS, *FLIPS_EXTRA_COLUMNS]     # added last, the rest unchanged
    assert csv["sign_changes"].dtype == "int64" == TABLES["flips"].column("sign_changes").dtype
    assert load_sensitivity(tmp_path / "new").flips["sign_changes"].tolist() == [3]
    # a flips.csv written before the column existed: counted from its points.csv
    r.save(tmp_path / "old")
    csv.drop(columns=["sign_changes"]).to_csv(tmp_path / "old" / "flips.csv", index=False)
    loaded = load_sensitivity(tmp_path / "old")
    assert loaded is not None and loaded.flips["sign_changes"].tolist() == [3]
    assert sign_changes_in_points(loaded.points, loaded.flips.iloc[0].to_dict()) == 3
    # and the report section marks the flip point in its table too
    from sim import scenario_from_dict
    from conftest import three_tier_dict

    res = SimpleNamespace(scenario=scenario_from_dict(three_tier_dict(), "t"), policies=["tiered", "swarming"],
                          sensitivity=loaded, assumption_comments=[])
    sec = assumptions_section(res)
    assert any("Not a clean threshold" in b for b in sec.bullets)
    flip_table = sec.tables[-1]
    assert any("(one of 3 sign changes)" in cell for row in flip_table.rows for cell in row)
