"""Small runs (issue 16): a sweep's metric rows computed straight from the runs' columns are the
same floats, keys, key order and types as replication_metrics on the tables `run` builds."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from conftest import three_tier_dict
from sim import scenario_from_dict
from sim.analysis import metrics as M
from sim.analysis import replication_metrics
from sim.engine import run_replication
from sim.execution import RunTask, execute
from sim.execution.tasks import fast_metric_rows, metric_row, run_batch
from sim.results import team_columns, teams_frame, ticket_columns, tickets_frame


def _same(fast: dict, slow: dict) -> None:
    assert list(fast) == list(slow)                      # same metrics, same column order
    for key in slow:
        a, b = fast[key], slow[key]
        assert type(a) is type(b), key                   # an int stays an int (tickets)
        assert a == b or (math.isnan(a) and math.isnan(b)), (key, a, b)


def _scenarios() -> dict[str, dict]:
    rich = three_tier_dict(horizon={"days": 1.0, "warmup_days": 0.2})
    for seg in rich["segments"]:
        seg.update(first_response_target=30, resolution_target=240, sla_penalty=20,
                   customer_cost_per_hour=15)
    rich["issues"][0].update(reopen_probability=0.2, reopen_delay={"dist": "exponential", "mean": 120})
    shifts = three_tier_dict(horizon={"days": 2.0, "warmup_days": 0.3})
    shifts["teams"][0]["shift"] = {"start": 8, "end": 17}
    shifts["teams"][2]["shift"] = {"start": 9, "end": 13, "shift_end": "handover"}
    interrupt = three_tier_dict(horizon={"days": 1.0, "warmup_days": 0.0}, arrivals={"per_hour": 16})
    interrupt["frictions"]["context_switch"] = {"dist": "fixed", "value": 4}
    interrupt["policies"] = {"tiered": {}, "swarming": {"max_helpers": 1, "helper_mode": "interrupt"}}
    learning = three_tier_dict(horizon={"days": 1.5, "warmup_days": 0.2},
                               learning={"swarms_to_learn": 2, "escalations_to_learn": 4, "up_to_tier": 2})
    empty = three_tier_dict(horizon={"days": 0.02, "warmup_days": 0.01}, arrivals={"per_hour": 1})
    return {"rich": rich, "shifts": shifts, "interrupt": interrupt, "learning": learning, "empty": empty}


@pytest.mark.parametrize("name", list(_scenarios()))
def test_rows_from_columns_are_the_rows_of_the_tables(name):
    scn = scenario_from_dict(_scenarios()[name], name)
    policies = scn.policy_names()
    runs = [run_replication(scn, p, r, scn.seed) for p in policies for r in range(2)]
    for run in runs:                                       # one run measured alone
        fast = fast_metric_rows([run], scn)[0]
        slow = metric_row(tickets_frame([run], scn, [run.policy]), teams_frame([run], scn, [run.policy]), scn)
        _same(fast if fast is not None else {"tickets": 0}, slow)
    # several runs in one call: each is its own run's row ...
    fast = fast_metric_rows(runs, scn)
    assert fast == [fast_metric_rows([run], scn)[0] for run in runs]
    # ... which is the row `run` computes (one table of every policy x replication): the same
    # metric set, interruptions included (0.0 for tiered: the scenario lets swarming interrupt)
    frame = replication_metrics(tickets_frame(runs, scn, policies), teams_frame(runs, scn, policies), scn)
    slow = {(str(r.pop("policy")), int(r.pop("replication"))): r for r in frame.to_dict("records")}
    assert {(run.policy, run.replication) for run, row in zip(runs, fast) if row is not None} == set(slow)
    for run, row in zip(runs, fast):
        if row is None:
            continue
        expected = slow[(run.policy, run.replication)]
        if name == "interrupt" and run.policy == "tiered":
            assert row["interruptions_per_ticket"] == expected["interruptions_per_ticket"] == 0.0
        _same(row, expected)
    if name == "interrupt":
        assert all("interruptions_per_ticket" in r for r in fast if r)   # the case is exercised
    if name == "empty":
        assert any(row is None for row in fast)


def test_records_do_not_depend_on_how_tasks_are_batched():
    """A run's metric set used to depend on the other runs of its batch (interruptions)."""
    from sim.execution import InProcess, plan_runs

    scn = scenario_from_dict(_scenarios()["interrupt"], "interrupt")
    tasks = list(plan_runs([scn], ["tiered", "swarming"], 2))
    records = [execute(tasks, InProcess(), batch_size=size) for size in (1, 2, 4)]
    for other in records[1:]:
        assert [r.metrics for r in other] == [r.metrics for r in records[0]]
    assert "interruptions_per_ticket" in records[0][3].metrics


def test_ticket_and_team_columns_are_the_tables_rows():
    scn = scenario_from_dict(_scenarios()["rich"], "rich")
    run = run_replication(scn, "swarming", 1, scn.seed)
    table = tickets_frame([run], scn, ["swarming"])
    cols = ticket_columns(run, scn)
    assert list(cols) == [c for c in table.columns if c not in ("policy", "replication")]
    for name, values in cols.items():
        col = table[name]
        expected = col.cat.codes.to_numpy() if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
        if not isinstance(col.dtype, pd.CategoricalDtype):
            assert values.dtype == expected.dtype, name
        np.testing.assert_array_equal(values, expected, err_msg=name)
    teams = teams_frame([run], scn, ["swarming"])
    for name, values in team_columns(run, scn).items():
        assert list(values) == teams[name].tolist(), name


@pytest.mark.parametrize("dtype", ["float64", "int32", "int64", "bool"])
def test_pandas_reductions_are_followed_exactly(dtype):
    rng = np.random.default_rng(3)
    for k in range(300):
        n = int(rng.integers(0, 400))
        if dtype == "float64":
            a = rng.lognormal(2, 1.5, n)
            if k % 2:
                a[rng.random(n) < 0.3] = np.nan
        elif dtype == "bool":
            a = rng.random(n) < 0.4
        else:
            a = rng.integers(0, 9, n).astype(dtype)
        s = pd.Series(a)
        for ours, theirs in ((M.pandas_mean(a), s.mean()), (M.pandas_sum(a), s.sum())):
            assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))


def test_a_metric_registered_elsewhere_falls_back_to_the_tables(monkeypatch):
    scn = scenario_from_dict(_scenarios()["rich"], "rich")
    entry = M.TICKET_METRICS["wait_mean_min"]

    def wait_mean(g):        # defined here, not in sim.analysis.metrics: the fast path must not guess
        return entry.fn(g)

    monkeypatch.setitem(M.TICKET_METRICS, "wait_mean_min", M._Entry(wait_mean, entry.present, entry.needs))
    run = run_replication(scn, "tiered", 0, scn.seed)
    assert fast_metric_rows([run], scn) is None
    tasks = [RunTask(key=r, scenario=scn, policy="tiered", replication=r, seed=scn.seed) for r in range(3)]
    batch = run_batch(tasks)
    alone = execute(tasks[:1])[0]
    monkeypatch.undo()
    fast = run_batch(tasks)
    for a, b in zip(batch, fast):
        assert a.ok and b.ok
        _same(b.metrics, a.metrics)
    _same(alone.metrics, fast[0].metrics)


def test_group_sums_are_pandas_grouped_sums():
    rng = np.random.default_rng(5)
    for k in range(200):
        groups = [list(rng.random(int(rng.integers(1, 6))) * 10 ** rng.uniform(0, 5)) for _ in range(int(rng.integers(1, 8)))]
        if k % 4 == 0:
            groups[int(rng.integers(len(groups)))][0] = np.nan
        keys = [i for i, g in enumerate(groups) for _ in g]
        frame = pd.DataFrame({"policy": [str(i) for i in keys], "replication": keys,
                              "v": [v for g in groups for v in g]})
        expected = frame.groupby(["policy", "replication"], sort=False)["v"].sum().tolist()
        assert M.group_sums(groups) == expected


@pytest.mark.parametrize("reps", [1, 2, 3])
def test_simulate_reads_stability_off_the_runs_as_off_the_tables(reps):
    from sim import simulate
    from sim.analysis.stability import stability_warnings
    from sim.scenario import scenario_warnings

    # overloaded (utilisation and growing backlog findings) and a calm one
    for per_hour in (30, 8):
        scn = scenario_from_dict(three_tier_dict(horizon={"days": 3.0, "warmup_days": 0.2},
                                                 arrivals={"per_hour": per_hour}), "load")
        result = simulate(scn, replications=reps)
        expected = scenario_warnings(scn) + stability_warnings(result)
        assert result.warnings == expected
        if per_hour == 30:
            assert any("utilised" in w for w in expected) and any("keeps growing" in w for w in expected)


def test_mean_utilisation_is_pandas_groupby_mean_with_many_replications():
    from sim.analysis.stability import mean_utilisation

    rng = np.random.default_rng(11)
    for k in range(150):
        policies = ["tiered", "swarming", "skill_routing"][: int(rng.integers(1, 4))]
        teams = ["L1", "L2", "L3", "A"][: int(rng.integers(1, 5))]
        reps = int(rng.integers(1, 12))
        rows = [(p, r, t) for p in policies for r in range(reps) for t in teams]
        util = list(rng.random(len(rows)) * 10 ** rng.uniform(-1, 1))
        if k % 5 == 0:
            util[int(rng.integers(len(util)))] = np.nan
        frame = pd.DataFrame({"policy": pd.Categorical([p for p, _, _ in rows], categories=policies),
                              "replication": [r for _, r, _ in rows], "team": [t for _, _, t in rows],
                              "utilisation": util})
        expected = list(frame.groupby(["policy", "team"], observed=True)["utilisation"].mean().items())
        got = mean_utilisation([policies.index(p) for p, _, _ in rows], [t for _, _, t in rows], util, policies)
        assert got is not None
        assert [key for key, _ in got] == [key for key, _ in expected]
        for (_, a), (_, b) in zip(got, expected):
            assert a == b or (math.isnan(a) and math.isnan(b))


def test_batches_running_in_threads_leave_the_collector_as_they_found_it():
    """The collector's thresholds are process-wide; a Dask worker runs batches in threads."""
    import gc
    import threading

    scn = scenario_from_dict(three_tier_dict(horizon={"days": 0.3, "warmup_days": 0.0}), "gc")
    tasks = [RunTask(key=r, scenario=scn, policy="tiered", replication=r, seed=scn.seed) for r in range(4)]
    before = gc.get_threshold()
    threads = [threading.Thread(target=run_batch, args=(tasks,)) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert gc.get_threshold() == before
