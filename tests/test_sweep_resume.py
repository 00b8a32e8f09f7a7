"""A sweep killed with SIGKILL mid-run leaves no corrupt file, and resuming it yields exactly the rows of
an uninterrupted sweep (no row lost, none duplicated)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import yaml

from conftest import three_tier_dict
from sim.sweep import load_sweep, read_runs, run_sweep

ROOT = Path(__file__).resolve().parents[1]


def sweep_file(tmp_path: Path) -> Path:
    base = three_tier_dict(horizon={"days": 1.5, "warmup_days": 0.25})
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "resume", "replications": 4, "seed": 5,
             "vary": {"arrivals.per_hour": [8, 11, 14]},
             "policies": ["tiered", "skill_routing", "swarming"]}
    path = tmp_path / "resume.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def test_kill_9_mid_sweep_then_resume_gives_exactly_the_uninterrupted_rows(tmp_path):
    path = sweep_file(tmp_path)
    plan = load_sweep(path)
    total = plan.total_tasks                      # 3 points x 3 policies x 4 replications = 36
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_sim.py"), "sweep", str(path), "--out", str(killed), "--workers", "2",
         "--tickets"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = killed / "runs"
            if runs.exists() and sum(1 for _ in runs.rglob("*.parquet")) >= 6:
                break
            assert proc.poll() is None, "the sweep finished before it could be interrupted"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)       # coordinator and pool workers, no clean-up
    finally:
        proc.wait(timeout=30)
    done_before = sum(1 for _ in (killed / "runs").rglob("*.parquet"))
    assert 6 <= done_before < total, "the kill did not land mid-sweep"

    # nothing visible is corrupt: every dataset file reads completely
    for f in [*killed.joinpath("runs").rglob("*.parquet"), *killed.joinpath("tickets").rglob("*.parquet")]:
        pq.read_table(f)

    outcome = run_sweep(plan, killed, workers=2, resume=True)     # tickets kept on: the directory has them
    assert outcome.failed == 0
    assert outcome.skipped >= done_before and outcome.skipped + outcome.done == total
    assert not list(killed.rglob(".*.tmp"))

    fresh = tmp_path / "fresh"
    assert run_sweep(plan, fresh, workers=2, tickets=True).done == total
    resumed_rows, fresh_rows = read_runs(killed, plan), read_runs(fresh, plan)
    assert len(resumed_rows) == total
    assert not resumed_rows.duplicated(["point", "policy", "replication"]).any()
    pd.testing.assert_frame_equal(resumed_rows, fresh_rows, check_exact=True)

    def tickets(d):
        df = pd.read_parquet(d / "tickets")
        df["policy"] = df["policy"].astype(str)
        df["point"] = df["point"].astype(int)
        return df.sort_values(["point", "policy", "replication", "ticket_id"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(tickets(killed), tickets(fresh), check_exact=True, check_categorical=False)


def test_resume_needs_an_existing_sweep(tmp_path):
    from sim.cli import main

    assert main(["sweep", str(sweep_file(tmp_path)), "--out", str(tmp_path / "none"), "--resume"]) == 2
