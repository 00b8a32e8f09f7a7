"""Grouped runs files (issue 16): a delivered batch's consecutive replications of one
(point, policy) share one ``runs/.../r0000-0003.parquet``.  Whatever the grouping, the rows read
back are exactly those of one file per run, shrinking a plan splits a group, and resuming counts
a group's replications as done."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import three_tier_dict
from sim.sweep import load_sweep, read_runs, run_sweep
from sim.sweep.store import Layout, rep_span


def _plan(tmp_path: Path, replications: int = 4, policies=("tiered", "swarming")):
    base = three_tier_dict(horizon={"days": 0.5, "warmup_days": 0.1})
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "groups", "replications": replications, "seed": 11,
             "vary": {"arrivals.per_hour": [8, 12]}, "policies": list(policies)}
    path = tmp_path / f"groups-{replications}-{len(policies)}.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return load_sweep(path)


def _files(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "runs").rglob("*.parquet"))


def _rows(out: Path, plan) -> pd.DataFrame:
    return read_runs(out, plan).sort_values(["point", "policy", "replication"]).reset_index(drop=True)


@pytest.mark.parametrize("name,span", [
    ("r0007.parquet", (7, 7)), ("r0005-0009.parquet", (5, 9)), ("r0000-0000.parquet", (0, 0)),
    ("r0009-0005.parquet", None), (".r0001.parquet.tmp", None), ("notes.parquet", None),
    ("r12a.parquet", None), ("r0001-.parquet", None), ("r٣.parquet", None),
])
def test_rep_span_reads_only_the_layouts_own_names(name, span):
    assert rep_span(name) == span


def test_grouped_files_read_back_exactly_the_rows_of_one_file_per_run(tmp_path):
    plan = _plan(tmp_path)
    single, grouped = tmp_path / "single", tmp_path / "grouped"
    assert run_sweep(plan, single, workers=1, batch_size=1).done == 16
    assert run_sweep(plan, grouped, workers=1, batch_size=16).done == 16
    assert _files(single) == sorted([f"r{r:04d}.parquet" for r in range(4)] * 4)
    assert _files(grouped) == ["r0000-0003.parquet"] * 4
    pd.testing.assert_frame_equal(_rows(single, plan), _rows(grouped, plan), check_exact=True)
    # and pandas opens the directory as one table either way (same rows, same columns)
    a, b = pd.read_parquet(single / "runs"), pd.read_parquet(grouped / "runs")
    assert len(a) == len(b) == 16 and list(a.columns) == list(b.columns)


def test_resume_counts_a_groups_replications_done_and_growing_runs_only_the_new(tmp_path):
    small, big = _plan(tmp_path, replications=2), _plan(tmp_path, replications=5)
    out = tmp_path / "out"
    assert run_sweep(small, out, workers=1, batch_size=8).done == 8
    again = run_sweep(small, out, workers=1, batch_size=8, resume=True)
    assert again.done == 0 and again.skipped == 8
    grown = run_sweep(big, out, workers=1, batch_size=3, resume=True)
    assert grown.skipped == 8 and grown.done == 12
    layout = Layout(out)
    assert sorted(layout.done_reps(0, "tiered", tickets=False)) == [0, 1, 2, 3, 4]
    fresh = tmp_path / "fresh"
    run_sweep(big, fresh, workers=1, batch_size=1)
    pd.testing.assert_frame_equal(_rows(out, big), _rows(fresh, big), check_exact=True)


def test_shrinking_replications_splits_a_group_and_moves_only_the_dropped_rows(tmp_path):
    big, small = _plan(tmp_path, replications=4), _plan(tmp_path, replications=3)
    out = tmp_path / "out"
    run_sweep(big, out, workers=1, batch_size=16)
    before = _rows(out, big)
    outcome = run_sweep(small, out, workers=1)
    assert outcome.done == 0 and outcome.skipped == 12 and outcome.shelved == 4
    assert _files(out) == ["r0000-0002.parquet"] * 4
    assert sorted(p.name for p in (out / "outside-plan" / "runs").rglob("*.parquet")) == ["r0003.parquet"] * 4
    kept = _rows(out, small)
    pd.testing.assert_frame_equal(kept, before[before["replication"] < 3].reset_index(drop=True),
                                  check_exact=True)
    away = pd.read_parquet(out / "outside-plan" / "runs")
    assert sorted(away["replication"]) == [3] * 4          # moved, not deleted
    assert len(pd.read_parquet(out / "runs")) == 12         # no stale rows left for pandas


def test_a_directory_of_single_and_grouped_files_reads_as_one(tmp_path):
    """Directories written before grouping (one file per run) resume and read unchanged."""
    plan = _plan(tmp_path, replications=4)
    out = tmp_path / "out"
    run_sweep(_plan(tmp_path, replications=2), out, workers=1, batch_size=1)     # r0000, r0001
    grown = run_sweep(plan, out, workers=1, batch_size=16, resume=True)          # r0002-0003
    assert grown.skipped == 8 and grown.done == 8
    names = _files(out)
    assert names.count("r0000.parquet") == 4 and names.count("r0002-0003.parquet") == 4
    fresh = tmp_path / "fresh"
    run_sweep(plan, fresh, workers=1, batch_size=1)
    pd.testing.assert_frame_equal(_rows(out, plan), _rows(fresh, plan), check_exact=True)


def test_adding_tickets_to_a_grouped_directory_writes_no_second_row(tmp_path):
    """A sweep into DIR with --tickets re-runs the runs that lack tickets files; their rows are
    already on disk (in group files of another shape): only the tickets files are added."""
    plan = _plan(tmp_path, replications=4)
    out = tmp_path / "out"
    run_sweep(plan, out, workers=1, batch_size=16)                   # r0000-0003, no tickets
    before = _rows(out, plan)
    again = run_sweep(plan, out, workers=1, batch_size=1, tickets=True)
    assert again.done == 16 and again.skipped == 0
    assert _files(out) == ["r0000-0003.parquet"] * 4
    assert len(pd.read_parquet(out / "runs")) == 16                  # no duplicate rows for pandas
    assert len(list((out / "tickets").rglob("*.parquet"))) == 16
    pd.testing.assert_frame_equal(_rows(out, plan), before, check_exact=True)
    assert run_sweep(plan, out, workers=1, tickets=True).skipped == 16


def test_a_runs_file_whose_rows_do_not_match_its_name_is_moved_whole_not_split(tmp_path):
    big, small = _plan(tmp_path, replications=4), _plan(tmp_path, replications=3)
    out = tmp_path / "out"
    run_sweep(big, out, workers=1, batch_size=16)
    path = out / "runs" / "point=00000" / "policy=tiered" / "r0000-0003.parquet"
    df = pd.read_parquet(path)
    df.iloc[::-1].to_parquet(path, index=False)              # same rows, reversed: not the name's order
    run_sweep(small, out, workers=1, batch_size=16)
    moved = out / "outside-plan" / "runs" / "point=00000" / "policy=tiered" / "r0000-0003.parquet"
    assert moved.exists() and len(pd.read_parquet(moved)) == 4     # nothing lost, nothing split
    assert not path.exists()
    rows = read_runs(out, small)
    assert len(rows) == 12 and sorted(rows[rows["policy"] == "tiered"]["point"]).count(0) == 3   # re-run
