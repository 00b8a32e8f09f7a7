"""The catalogue (sim.schema) is the single source of what metrics, tables and columns are.

Checked against what the program really writes: every column of a feature-rich
``run --out`` is described, every metric of the catalogue is produced, every
catalogue metric has exactly one function computing it, and docs/outputs.md is
the catalogue printed.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim.analysis as analysis_pkg
import sim.results as results_mod
from sim import scenario_from_dict, simulate
from sim.analysis import metrics as metric_fns
from sim.analysis import stability_findings
from sim.schema import (ENGINE_TO_LOG, KINDS, LOG_ACTIVITIES, METRICS, OUTCOMES, TABLES,
                        TRACE_ACTIVITIES, is_share_metric, metric_info, metric_label)
from sim.schema.docs import render

from conftest import mmc_dict, three_tier_dict

ROOT = Path(__file__).resolve().parents[1]


def feature_dict() -> dict:
    """Every optional metric switched on: targets, penalties, customer cost, reopens, shifts,
    learning and interrupting helpers."""
    d = three_tier_dict(horizon={"days": 2, "warmup_days": 0.5})
    d["segments"][0].update(first_response_target=30, resolution_target=240, sla_penalty=50,
                            customer_cost_per_hour=40)
    d["segments"][1].update(first_response_target=60, customer_cost_per_hour=20)
    d["issues"][0].update(reopen_probability=0.1, reopen_delay={"dist": "exponential", "mean": 300})
    d["teams"][0]["shift"] = {"start": 6, "end": 22}
    d["learning"] = {"swarms_to_learn": 1, "up_to_tier": 2}
    d["frictions"]["context_switch"] = {"dist": "fixed", "value": 2}
    d["policies"] = {"tiered": {}, "swarming": {"max_helpers": 1, "helper_mode": "interrupt"}}
    return d


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    """``run --out`` (with its report) on the feature scenario, counting metric computations."""
    from sim.cli import main

    tmp = tmp_path_factory.mktemp("catalogue")
    path = tmp / "features.yaml"
    path.write_text(yaml.safe_dump(feature_dict()), encoding="utf-8")
    calls = []
    original = metric_fns.replication_metrics

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(results_mod, "replication_metrics", counting)
        mp.setattr(analysis_pkg, "replication_metrics", counting)
        assert main(["run", str(path), "--out", str(tmp / "out")]) == 0
    return tmp / "out", len(calls)


# ----------------------------------------------------------------------------- the catalogue itself
def test_every_metric_entry_is_well_formed():
    for name, m in METRICS.items():
        assert m.name == name and m.label and m.unit and m.description
        assert m.kind in KINDS and m.better in ("lower", "higher", None)
        assert m.scope in ("group", "replication")
        assert is_share_metric(name) == (m.kind == "share")
    assert [m.name for m in METRICS.values() if m.verdict] == [
        "resolution_mean_min", "repeats_per_ticket", "handoffs_per_ticket", "cost_per_resolved",
        "service_level"]
    # the busy-minute cost is called what it is; payroll is the wage bill
    assert metric_label("cost_per_resolved") == "agent-time cost per resolved ticket"
    assert "labour" not in " ".join(m.label for m in METRICS.values())
    assert metric_info("payroll").kind == "money" and metric_info("payroll").scope == "replication"


def test_metric_info_handles_team_utilisation_and_rejects_unknown_names():
    u = metric_info("utilisation_L2")
    assert (u.name, u.label, u.kind, u.unit) == ("utilisation_L2", "utilisation of team L2", "share",
                                                 "fraction")
    assert is_share_metric("utilisation_L2") and metric_label("utilisation_L2") == u.label
    with pytest.raises(KeyError):
        metric_info("no_such_metric")
    with pytest.raises(KeyError):
        metric_info("utilisation_")
    assert metric_label("no_such_metric") == "no_such_metric"


def test_one_function_per_metric_and_no_function_without_an_entry():
    ticket, replication = set(metric_fns.TICKET_METRICS), set(metric_fns.REPLICATION_METRICS)
    assert not ticket & replication
    assert ticket | replication == set(METRICS)
    assert {n for n, m in METRICS.items() if m.scope == "replication"} == replication
    with pytest.raises(KeyError, match="sim.schema.METRICS"):
        metric_fns.ticket_metric("not_in_the_catalogue")(lambda g: 0.0)


def test_docs_outputs_md_is_generated_from_the_catalogue():
    text = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert text == render(), "docs/outputs.md is stale: python -m sim.schema.docs > docs/outputs.md"
    for name in METRICS:
        assert f"`{name}`" in text


def test_event_log_vocabulary_reads_the_catalogue():
    from sim.eventlog import vocabulary as V

    assert V.ACTIVITIES == tuple(LOG_ACTIVITIES)
    assert V.ENGINE_TO_LOG == ENGINE_TO_LOG
    assert set(v for v in ENGINE_TO_LOG.values() if v) <= set(LOG_ACTIVITIES)
    assert set(ENGINE_TO_LOG) >= set(TRACE_ACTIVITIES)
    assert [c.name for c in TABLES["events"].columns] == list(V.COLUMNS)
    assert list(results_mod.OUTCOMES) == list(OUTCOMES)
    from sim.models.tickets import Outcome     # the engine's codes index the catalogue's names

    assert [o.name.lower() for o in sorted(Outcome)] == list(OUTCOMES)


# ----------------------------------------------------------------------------- against real outputs
def _dtype(series: pd.Series) -> str:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_string_dtype(series.dtype):
        return "string"
    return str(series.dtype)


def test_every_column_run_out_writes_is_in_the_catalogue(run_out):
    out, _ = run_out
    for name in ("tickets", "backlog"):
        df = pd.read_parquet(out / TABLES[name].file)
        for col in df.columns:
            spec = TABLES[name].column(col)
            assert spec is not None, f"{name}: column {col!r} is not in sim.schema.TABLES"
            assert _dtype(df[col]) == spec.dtype, f"{name}.{col}: {_dtype(df[col])} vs {spec.dtype}"
        missing = [c.name for c in TABLES[name].columns if c.name not in df.columns]
        assert not missing, f"{name}: catalogue columns not written: {missing}"
    for name in ("teams", "per_replication", "summary", "learned", "interruptions"):
        df = pd.read_csv(out / TABLES[name].file)
        unknown = [c for c in df.columns if not TABLES[name].knows(c)]
        assert not unknown, f"{name}: columns not in sim.schema.TABLES: {unknown}"
        assert {c.name for c in TABLES[name].columns} <= set(df.columns), name
    summary = pd.read_csv(out / "summary.csv")
    assert all(TABLES["per_replication"].knows(m) for m in summary["metric"])


def test_every_catalogue_metric_is_produced_when_its_feature_is_on(run_out):
    out, _ = run_out
    produced = set(pd.read_csv(out / "summary.csv")["metric"])
    assert set(METRICS) <= produced, f"never produced: {sorted(set(METRICS) - produced)}"
    assert {"utilisation_L1", "utilisation_L2", "utilisation_L3"} <= produced


def test_one_run_out_computes_the_metrics_once(run_out):
    out, calls = run_out
    assert (out / "report.html").exists()        # printed, saved and reported ...
    assert calls == 1                            # ... from one computation


def test_every_trace_activity_is_in_the_catalogue():
    scn = scenario_from_dict(feature_dict(), "features")
    res = simulate(scn, replications=1, trace=True)
    seen = {name for table in res.traces for name in table.activity_names}
    assert seen <= set(TRACE_ACTIVITIES), sorted(seen - set(TRACE_ACTIVITIES))
    assert {"work", "created", "resolved"} <= seen


def test_the_result_cache_follows_replaced_tables():
    scn = scenario_from_dict(three_tier_dict(horizon={"days": 1, "warmup_days": 0.25}), "cache")
    res = simulate(scn, policies=["tiered"], replications=1)
    first = res.per_replication
    assert res.per_replication is first and res.analysis() is res.analysis()
    res.tickets = res.tickets[res.tickets["segment"] == "vip"].reset_index(drop=True)
    assert res.per_replication is not first
    assert res.per_replication["tickets"].iloc[0] < first["tickets"].iloc[0]


def test_stability_findings_are_records_not_text():
    over = scenario_from_dict(mmc_dict(servers=2, per_hour=24, mean_work=10, days=2, warmup_days=0.5,
                                       replications=2), "overloaded")
    res = simulate(over)
    found = stability_findings(res.teams, res.backlog, res.scenario)
    util = [f for f in found if f.kind == "utilisation"]
    assert util and util[0].policy == "tiered" and util[0].team == "T"
    assert util[0].value >= util[0].threshold == 0.95
    assert str(util[0]) == util[0].message and util[0].message in res.warnings


def test_sweep_tables_are_in_the_catalogue_with_the_run_metric_set(tmp_path, run_out):
    from sim.sweep import load_sweep, read_runs, run_sweep, write_summary

    base = feature_dict()
    base["horizon"] = {"days": 1.0, "warmup_days": 0.25}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    spec = {"base": "base.yaml", "name": "cat", "replications": 2, "seed": 3,
            "vary": {"frictions.swarm_overhead": [0.25, 0.5]}, "policies": ["tiered", "swarming"]}
    (tmp_path / "cat.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    plan = load_sweep(tmp_path / "cat.yaml")
    run_sweep(plan, tmp_path / "out", workers=1)
    params = tuple(plan.param_columns)
    runs = read_runs(tmp_path / "out", plan)
    unknown = [c for c in runs.columns if not TABLES["sweep_runs"].knows(c, params)]
    assert not unknown, f"sweep runs: columns not in sim.schema.TABLES: {unknown}"
    summary = pd.read_parquet(write_summary(tmp_path / "out", plan))
    unknown = [c for c in summary.columns if not TABLES["sweep_summary"].knows(c, params)]
    assert not unknown, f"sweep_summary: columns not in sim.schema.TABLES: {unknown}"
    # a sweep row carries every metric run reports for the same features
    out, _ = run_out
    run_metrics = {m for m in pd.read_csv(out / "summary.csv")["metric"]}
    assert run_metrics <= {c for c in runs.columns if TABLES["per_replication"].knows(c)}


def test_staff_outputs_are_in_the_catalogue(tmp_path):
    from sim.cli import main

    d = mmc_dict(servers=4, per_hour=12, mean_work=10, days=1, warmup_days=0.2, replications=3)
    (tmp_path / "mmc.yaml").write_text(yaml.safe_dump(d), encoding="utf-8")
    assert main(["staff", str(tmp_path / "mmc.yaml"), "--out", str(tmp_path / "out"),
                 "--target", "wait_mean_min<=30", "--workers", "1"]) == 0
    tables = {"staffing": pd.read_csv(tmp_path / "out" / "staffing.csv"),
              "staffing_summary": pd.read_csv(tmp_path / "out" / "staffing_summary.csv"),
              "evaluations": pd.read_parquet(tmp_path / "out" / "evaluations.parquet")}
    for name, df in tables.items():
        unknown = [c for c in df.columns if not TABLES[name].knows(c)]
        assert not unknown, f"{name}: columns not in sim.schema.TABLES: {unknown}"
        assert {c.name for c in TABLES[name].columns if "<" not in c.name} <= set(df.columns), name


def test_sensitivity_outputs_are_in_the_catalogue(tmp_path):
    from sim.cli import main

    d = three_tier_dict(horizon={"days": 1, "warmup_days": 0.2})
    d["policies"] = {"tiered": {}, "swarming": {"max_helpers": 1}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d), encoding="utf-8")
    assert main(["sensitivity", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out"),
                 "--param", "frictions.swarm_overhead=0.1:0.5", "--replications", "2",
                 "--workers", "1"]) == 0
    for name in ("tornado", "flips", "points"):
        df = pd.read_csv(tmp_path / "out" / TABLES[name].file)
        assert [c for c in df.columns if not TABLES[name].knows(c)] == [], name
        assert {c.name for c in TABLES[name].columns} <= set(df.columns), name
