"""Sweep execution: identical rows whatever the backend or worker count, identical to `run` on the
point alone, failures recorded without stopping the sweep, and the summary/report outputs."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import three_tier_dict
from sim import load_scenario, simulate
from sim.cli import main
from sim.policies import registry

registry.builtin_names()   # load every built-in before importing one module directly
from sim.policies.tiered import Tiered  # noqa: E402
from sim.sweep import load_sweep, read_runs, run_sweep, write_report, write_summary  # noqa: E402
from sim.sweep.store import Layout  # noqa: E402


def tiny_sweep(tmp_path: Path, **over) -> Path:
    base = three_tier_dict(horizon={"days": 1.0, "warmup_days": 0.2})
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "tiny", "replications": 2, "seed": 11,
             "vary": {"arrivals.per_hour": [8, 14]}, "zip": [{"teams[L3].agents": [3, 5], "teams[L2].agents": [4, 6]}],
             "policies": ["tiered", "swarming"], **over}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny sweep run in-process (workers=1), with tickets."""
    d = tmp_path_factory.mktemp("ref")
    plan = load_sweep(tiny_sweep(d))
    outcome = run_sweep(plan, d / "out", workers=1, tickets=True)
    assert (outcome.done, outcome.failed, outcome.total) == (16, 0, 16)
    return plan, d / "out", read_runs(d / "out", plan)


def test_rows_identical_with_two_local_workers(reference, tmp_path):
    plan, _, ref = reference
    outcome = run_sweep(plan, tmp_path / "out", workers=2)
    assert outcome.done == 16 and outcome.failed == 0
    pd.testing.assert_frame_equal(read_runs(tmp_path / "out", plan), ref, check_exact=True)


def test_rows_identical_on_a_dask_cluster(reference, tmp_path):
    from distributed import LocalCluster

    plan, _, ref = reference
    # a real TCP scheduler on loopback (workers as threads of this process, to stay quick)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        outcome = run_sweep(plan, tmp_path / "out", scheduler=cluster.scheduler_address, tickets=True)
    assert outcome.done == 16 and outcome.failed == 0
    pd.testing.assert_frame_equal(read_runs(tmp_path / "out", plan), ref, check_exact=True)


def test_point_alone_with_run_gives_the_same_rows(reference):
    plan, out, ref = reference
    point = plan.points[3]
    scn = load_scenario(Layout(out).point_file(point.index))   # the file the sweep wrote
    assert scn.seed == point.seed
    alone = simulate(scn, policies=plan.policies)
    mine = ref[ref["point"] == point.index].reset_index(drop=True)
    per_rep = alone.per_replication
    for col in per_rep.columns:
        if col == "policy":
            assert list(mine["policy"]) == [str(p) for p in per_rep["policy"]]
        else:
            assert list(mine[col]) == pytest.approx(list(per_rep[col]), rel=0, abs=0, nan_ok=True), col
    tickets = pd.read_parquet(out / "tickets" / f"point={point.index:05d}")
    assert len(tickets) == len(alone.tickets)
    def ordered(df):
        return df.assign(policy=df["policy"].astype(str)).sort_values(["policy", "replication", "ticket_id"])

    a, b = ordered(tickets)["resolution_min"].to_numpy(), ordered(alone.tickets)["resolution_min"].to_numpy()
    assert ((a == b) | (pd.isna(a) & pd.isna(b))).all()


def test_summary_one_row_per_point_and_policy_with_cis(reference):
    plan, out, ref = reference
    path = write_summary(out, plan)
    s = pd.read_parquet(path)
    assert len(s) == len(plan.points) * len(plan.policies)
    for col in ("point", "policy", "seed", "arrivals.per_hour", "teams[L3].agents", "teams[L2].agents",
                "replications", "resolution_mean_min_mean", "resolution_mean_min_ci_low",
                "resolution_mean_min_ci_high", "cost_per_resolved_mean"):
        assert col in s.columns, col
    row = s[(s["point"] == 2) & (s["policy"] == "swarming")].iloc[0]
    runs = ref[(ref["point"] == 2) & (ref["policy"] == "swarming")]["resolution_mean_min"]
    assert row["resolution_mean_min_mean"] == pytest.approx(runs.mean())
    assert row["resolution_mean_min_ci_low"] < row["resolution_mean_min_mean"] < row["resolution_mean_min_ci_high"]
    assert row["arrivals.per_hour"] == 14 and row["teams[L3].agents"] == 3 and row["replications"] == 2
    report = write_report(out, plan)
    assert report.name == "report.html" and "Regime map" in report.read_text()
    assert "## Regime map" in (report.parent / "report.md").read_text()
    assert (report.parent / "regime_map.png").stat().st_size > 1000
    assert (report.parent / "regime.csv").exists()
    assert all(list(report.parent.glob(f"lines_{i}_*.png")) for i in range(len(plan.axes)))


class Exploding(Tiered):
    """A plug-in policy that fails on purpose: raises, or kills its worker process."""

    name = "exploding_test_policy"
    mode = "raise"

    def route(self, ticket):
        if Exploding.mode == "raise":
            raise RuntimeError("boom on purpose")
        if Exploding.mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        return super().route(ticket)


@pytest.fixture
def exploding():
    registry.register(Exploding)
    Exploding.mode = "raise"
    yield Exploding
    registry._EXTRA.pop(Exploding.name, None)


def test_failing_task_is_recorded_and_the_sweep_goes_on(tmp_path, exploding, capsys):
    path = tiny_sweep(tmp_path, policies=["tiered", exploding.name], vary={"arrivals.per_hour": [8]},
                      zip=[])
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 1
    captured = capsys.readouterr()
    final = captured.out.strip().splitlines()[-1]
    assert "2/4 runs complete" in final and "2 failed" in final, final
    failed = sorted((out / "failed").rglob("*.json"))
    assert len(failed) == 2 and "boom on purpose" in failed[0].read_text()
    assert "RuntimeError: boom on purpose" in captured.err
    # fixed: re-running the same command retries only the failed runs and clears their records
    exploding.mode = "ok"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    final = capsys.readouterr().out.strip().splitlines()[-1]
    assert "4/4 runs complete (2 already done), 0 failed" in final, final
    assert not list((out / "failed").rglob("*.json"))


def test_a_worker_process_dying_loses_only_its_task(tmp_path, exploding):
    exploding.mode = "kill"
    plan = load_sweep(tiny_sweep(tmp_path, policies=["tiered", exploding.name], vary={"arrivals.per_hour": [8]},
                                 zip=[]))
    outcome = run_sweep(plan, tmp_path / "out", workers=2)
    assert outcome.failed >= 2 and outcome.done >= 1
    assert outcome.done + outcome.failed == 4
    assert all("task lost" in e for _, e in outcome.errors)
    assert len(read_runs(tmp_path / "out", plan)) == outcome.done


def test_other_sweep_in_same_directory_is_refused(reference, tmp_path):
    plan, out, _ = reference
    other = load_sweep(tiny_sweep(tmp_path, seed=12))
    with pytest.raises(Exception) as exc:
        run_sweep(other, out, workers=1)
    assert "holds results of a different sweep" in str(exc.value)


def test_adding_replications_reuses_the_runs_already_done(tmp_path):
    first = load_sweep(tiny_sweep(tmp_path, replications=1, zip=[]))
    out = tmp_path / "out"
    assert run_sweep(first, out, workers=1).done == 4
    before = read_runs(out, first)
    more = load_sweep(tiny_sweep(tmp_path, replications=2, zip=[]))
    outcome = run_sweep(more, out, workers=1)
    assert (outcome.skipped, outcome.done) == (4, 4)
    after = read_runs(out, more)
    pd.testing.assert_frame_equal(after[after["replication"] == 0].reset_index(drop=True), before)
    assert load_scenario(Layout(out).point_file(1)).replications == 2    # the point file follows the sweep


def test_varying_a_whole_block_named_like_a_builtin_column(tmp_path, capsys):
    """``vary: {arrivals: [...]}`` used to fail every run (the row already has an ``arrivals`` count)."""
    path = tiny_sweep(tmp_path, vary={"arrivals": [{"per_hour": 5}, {"per_hour": 8}]}, zip=[],
                      policies=["tiered"])
    plan = load_sweep(path)
    assert plan.param_columns == ["vary:arrivals"]
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert "4/4 runs complete" in capsys.readouterr().out
    runs = read_runs(out, plan)
    assert list(runs["vary:arrivals"]) == ['{"per_hour":5}'] * 2 + ['{"per_hour":8}'] * 2
    assert runs["arrivals"].dtype.kind == "i"                         # the built-in count is untouched
    assert runs.groupby("point")["arrivals"].mean().is_monotonic_increasing   # 8/h brings more than 5/h
    summary = pd.read_parquet(out / "sweep_summary.parquet")
    assert list(summary["vary:arrivals"]) == ['{"per_hour":5}', '{"per_hour":8}']


def _closed_port() -> int:
    import socket

    with socket.socket() as s:           # bound then released: nothing listens there afterwards
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address", ["garbage", "tcp://127.0.0.1", "CLOSED"])
def test_bad_scheduler_address_fails_fast_without_traceback(tmp_path, address):
    """Used to print the error, then hang ~30 s in Client.__del__ and print a TimeoutError traceback."""
    import subprocess
    import sys

    if address == "CLOSED":
        address = f"tcp://127.0.0.1:{_closed_port()}"
    path = tiny_sweep(tmp_path)
    root = Path(__file__).resolve().parents[1]
    # a hang shows up as TimeoutExpired (the bug took over 30 s after the error)
    proc = subprocess.run([sys.executable, str(root / "run_sim.py"), "sweep", str(path), "--out",
                           str(tmp_path / "out"), "--scheduler", address],
                          capture_output=True, text=True, timeout=25, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: --scheduler {address}: "), proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == errors[0]
    assert not (tmp_path / "out" / "sweep.json").exists()     # the sweep never started
