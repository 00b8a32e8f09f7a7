"""The one execution path (sim.execution): same records on every backend, failures in records,
timeouts, hooks that try to stop the program, Dask without workers; and run == sweep metrics."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import three_tier_dict
from sim import scenario_from_dict, simulate
from sim.cli import main
from sim.execution import (InProcess, LocalPool, RunTask, backend_for, execute, iter_execute,
                           plan_runs)
from sim.policies import PolicyError, registry

registry.builtin_names()
from sim.policies.tiered import Tiered  # noqa: E402
from sim.sweep import load_sweep, read_runs, run_sweep  # noqa: E402


def small(**over):
    return scenario_from_dict(three_tier_dict(horizon={"days": 0.5, "warmup_days": 0.1}, **over))


def rich_dict():
    """SLA targets and penalties, customer cost and reopens switched on (the metrics the sweep lacked)."""
    d = three_tier_dict(horizon={"days": 1.0, "warmup_days": 0.2})
    for seg in d["segments"]:
        seg.update(first_response_target=30, resolution_target=240, sla_penalty=20,
                   customer_cost_per_hour=15)
    d["issues"][0].update(reopen_probability=0.2, reopen_delay={"dist": "exponential", "mean": 120})
    return d


class Exits(Tiered):
    name = "exec_test_exits"

    def route(self, ticket):
        raise SystemExit(0)


class Loops(Tiered):
    name = "exec_test_loops"

    def route(self, ticket):
        while True:
            pass


class Sleeps(Tiered):
    name = "exec_test_sleeps"

    def route(self, ticket):
        time.sleep(3600)      # blocked in C: stopped by the alarm in a main thread


def test_records_are_identical_in_process_and_on_a_pool():
    scn = small()
    tasks = list(plan_runs([scn], ["tiered", "swarming"], 2))
    here = execute(tasks, InProcess())
    with LocalPool(2) as pool:
        there = execute(tasks, pool, batch_size=3)       # batches that straddle policies
        again = execute(tasks, pool)                     # a pool is reusable
    assert [r.key for r in here] == [t.key for t in tasks]          # execute keeps task order
    for a, b, c in zip(here, there, again):
        assert a.ok and a.metrics == b.metrics == c.metrics and a.arrivals == b.arrivals
    assert here[0].metrics != here[1].metrics                       # replications differ


def test_metrics_are_the_row_run_computes_with_every_metric():
    scn = scenario_from_dict(rich_dict())
    rec = execute([RunTask(key="x", scenario=scn, policy="swarming", replication=1, seed=scn.seed)])[0]
    row = simulate(scn, policies=["swarming"]).per_replication.iloc[1].to_dict()
    row.pop("policy"), row.pop("replication")
    assert set(rec.metrics) == set(row)
    assert rec.metrics == pytest.approx(row, rel=0, abs=0, nan_ok=True)
    for name in ("service_level", "total_cost", "customer_cost", "reopens_per_ticket",
                 "resolution_within_target", "payroll"):
        assert name in rec.metrics, name


def test_failures_are_records_never_exceptions_and_the_rest_goes_on():
    scn = small()
    tasks = [RunTask(("exit", 0), scn, Exits.name, 0, 1, policy_cls=Exits),
             RunTask(("loop", 0), scn, Loops.name, 0, 1, policy_cls=Loops),
             RunTask(("ok", 0), scn, "tiered", 0, 1),
             RunTask(("sleep", 0), scn, Sleeps.name, 0, 1, policy_cls=Sleeps)]
    for backend in (InProcess(), LocalPool(2)):
        seen = []
        t0 = time.perf_counter()
        with backend:
            records = execute(tasks, backend, timeout=1.0, on_record=seen.append)
        assert time.perf_counter() - t0 < 20
        exits, loops, ok, sleeps = records
        assert exits.status == "failed" and exits.error.startswith("PolicyError: ")
        assert "SystemExit(0)" in exits.error and exits.metrics is None
        assert loops.status == "timeout" and "1 s" in loops.error
        assert sleeps.status == "timeout"
        assert ok.ok and ok.metrics["tickets"] > 0
        assert sorted(r.key for r in seen) == sorted(t.key for t in tasks)


def test_run_does_not_exit_silently_or_hang_on_a_bad_hook(tmp_path, capsys):
    registry.register(Exits)
    registry.register(Loops)
    with pytest.raises(PolicyError, match=r"SystemExit\(0\)"):
        simulate(small(policies={Exits.name: {}}), replications=1)
    with pytest.raises(PolicyError, match="longer than 0.5 s"):
        simulate(small(policies={Loops.name: {}}), replications=1, timeout=0.5)
    path = tmp_path / "exits.yaml"
    path.write_text(yaml.safe_dump(three_tier_dict(horizon={"days": 0.5, "warmup_days": 0.1},
                                                   policies={Exits.name: {}})), encoding="utf-8")
    assert main(["run", str(path), "--no-report"]) == 1          # used to be 0, with no output
    assert "error: policy 'exec_test_exits': a hook raised SystemExit(0)" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def _forget_test_policies():
    yield
    for cls in (Exits, Loops, Sleeps):
        registry.unregister(cls.name)


def test_iter_execute_is_lazy():
    scn = small()
    taken = []

    def gen():
        for r in range(50):
            taken.append(r)
            yield RunTask(r, scn, "tiered", r, 1)

    it = iter_execute(gen(), InProcess())
    next(it)
    assert len(taken) <= 2
    it.close()


def test_backend_for():
    assert isinstance(backend_for(1), InProcess)
    pool = backend_for(3)
    assert isinstance(pool, LocalPool) and pool.workers == 3
    assert backend_for().workers >= 1
    with pytest.raises(ValueError):
        backend_for(0)


def test_dask_same_records_timeouts_in_threads_then_no_worker_stops_resumably(tmp_path, capsys):
    from distributed import LocalCluster

    scn = small()
    tasks = list(plan_runs([scn], ["tiered"], 3))
    ref = execute(tasks, InProcess())
    loop = RunTask(("loop", 0), scn, Loops.name, 0, 1, policy_cls=Loops)
    path = sweep_file(tmp_path, three_tier_dict(horizon={"days": 0.3, "warmup_days": 0.05}),
                      vary={"arrivals.per_hour": [8]}, replications=2)
    out = tmp_path / "out"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster:
        with backend_for(scheduler=cluster.scheduler_address, worker_wait=1.0) as dask:
            got = execute([*tasks, loop], dask, timeout=1.0)   # Dask runs tasks in threads
            assert [r.metrics for r in got[:3]] == [r.metrics for r in ref]
            assert got[3].status == "timeout"
            for w in list(cluster.workers.values()):      # the last worker goes away
                cluster.sync(w.close)
            t0 = time.perf_counter()
            lost = execute(tasks, dask)
            assert time.perf_counter() - t0 < 15
            assert all(r.status == "not_run" and "no live Dask worker" in r.error for r in lost)
            assert "1 s" in dask.stopped
        # the sweep: one line, exit 1, nothing recorded as failed; then resumable
        code = main(["sweep", str(path), "--out", str(out), "--scheduler", cluster.scheduler_address,
                     "--worker-wait", "1"])
    assert code == 1
    final = capsys.readouterr().out.strip().splitlines()[-1]
    assert "0/4 runs complete, 0 failed, 4 not run" in final and "no live Dask worker" in final, final
    assert final.endswith("re-run the same command to resume")
    assert not (out / "failed").exists() or not list((out / "failed").rglob("*.json"))
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert "4/4 runs complete, 0 failed, 0 not run" in capsys.readouterr().out


# ----------------------------------------------------------------------------- sweep side
def sweep_file(tmp_path: Path, base: dict, **over) -> Path:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "exec", "replications": 2, "seed": 3,
             "vary": {"arrivals.per_hour": [8, 12]}, "policies": ["tiered", "swarming"], **over}
    path = tmp_path / "exec.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def test_run_and_sweep_give_the_same_metric_set_and_values(tmp_path):
    """Issue 11.2: SLA targets, customer cost and reopens on; the sweep used to lack 8 metrics."""
    path = sweep_file(tmp_path, rich_dict(), vary={"arrivals.per_hour": [10]},
                      report={"cost_metric": "total_cost"})
    plan = load_sweep(path)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    runs = read_runs(tmp_path / "out", plan)
    alone = simulate(plan.points[0].scenario, policies=plan.policies).per_replication
    metric_cols = [c for c in alone.columns if c not in ("policy", "replication")]
    assert set(metric_cols) <= set(runs.columns)
    for col in metric_cols:
        assert list(runs[col]) == pytest.approx(list(alone[col]), rel=0, abs=0, nan_ok=True), col
    assert {"service_level", "total_cost", "reopens_per_ticket"} <= set(runs.columns)


def test_two_sweeps_into_one_directory_the_second_is_refused_naming_the_first(tmp_path, capsys):
    from sim.outputs.lock import DirectoryLock

    path = sweep_file(tmp_path, three_tier_dict(horizon={"days": 0.5, "warmup_days": 0.1}))
    out = tmp_path / "out"
    with DirectoryLock(out, "supportsim sweep"):       # as a live sweep holds it
        assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "in use by process" in err and "supportsim sweep" in err
    assert not (out / "runs").exists()
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0   # free again


def test_shrunken_sweep_leaves_no_stale_rows(tmp_path):
    base = three_tier_dict(horizon={"days": 0.5, "warmup_days": 0.1})
    out = tmp_path / "out"
    big = load_sweep(sweep_file(tmp_path, base, replications=2))
    assert run_sweep(big, out, workers=1, tickets=True).done == 8
    small_plan = load_sweep(sweep_file(tmp_path, base, replications=1, policies=["tiered"]))
    outcome = run_sweep(small_plan, out, workers=1)
    assert outcome.skipped == 2
    # 6 tickets files move whole; runs files hold consecutive replications, so the 3 dropped
    # policies' files move whole and tiered's r0000-0001 is split (rep 1 shelved, rep 0 kept).
    shelved = [p for p in (out / "outside-plan").rglob("*.parquet")]
    assert outcome.shelved == len(shelved) == 6 + 3 + 1
    rows = pd.read_parquet(out / "runs")
    assert len(rows) == 2 and set(rows["policy"].astype(str)) == {"tiered"}
    assert len(pd.read_parquet(out / "outside-plan" / "runs")) == 6   # moved, not deleted
    assert len(read_runs(out, small_plan)) == 2


def test_sweep_task_timeout_and_system_exit_are_failures_and_the_last_line_counts_all(tmp_path, capsys):
    registry.register(Exits)
    registry.register(Loops)
    path = sweep_file(tmp_path, three_tier_dict(horizon={"days": 0.5, "warmup_days": 0.1}),
                      vary={"arrivals.per_hour": [8]}, policies=["tiered", Exits.name, Loops.name])
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out), "--workers", "1", "--task-timeout", "0.5"])
    assert code == 1
    final = capsys.readouterr().out.strip().splitlines()[-1]
    assert "2/6 runs complete, 4 failed (2 timed out), 0 not run" in final, final
    failed = sorted((out / "failed").rglob("*.json"))
    assert len(failed) == 4
    assert any("SystemExit" in f.read_text() for f in failed)
