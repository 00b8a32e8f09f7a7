"""The staffing search (issue 12): ``staff`` finds the cheapest staffing that meets the targets.

Tolerances are not guessed: each target is judged by the 95 % interval the
command itself reports, the single-team case is built so that the Erlang C
answer is far from the bound on both sides (checked below, from theory), and
local minimality is re-checked with independent ``simulate`` runs.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import mmc_dict, three_tier_dict
from sim import load_scenario, scenario_from_dict, simulate
from sim.cli import main
from sim.report import build_report
from sim.staffing.driver import CONFIRM_SEED_OFFSET
from sim.staffing.payroll import PayrollMismatch, complete_payroll
from sim.staffing.queueing import erlang_c_agents, staffing_family
from sim.staffing.search import Judgement, Space, descend, first_feasible, repair
from sim.staffing.targets import Interval, TargetError, holds, parse_target
from sim.theory import MMc

POLICIES = ["tiered", "skill_routing", "swarming"]


def _write(tmp_path: Path, data: dict, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _staff(path: Path, out: Path, *extra: str) -> int:
    return main(["staff", str(path), "--out", str(out), "--workers", "2", *extra])


# ---------------------------------------------------------------------------- pure parts
def test_targets_parse_and_judge_by_the_interval():
    known = ["wait_mean_min", "service_level"]
    t = parse_target(" wait_mean_min <= 10 ", known)
    assert (t.metric, t.op, t.bound) == ("wait_mean_min", "<=", 10.0)
    assert holds(t, Interval(8, 6, 10)) and not holds(t, Interval(8, 6, 10.5))   # the whole interval
    s = parse_target("service_level>=0.8", known)
    assert holds(s, Interval(0.9, 0.8, 0.95)) and not holds(s, Interval(0.9, 0.79, 0.95))
    assert not holds(t, Interval(math.nan, math.nan, math.nan))                   # not measured
    for bad in ("wait_mean_min<10", "wait_mean_min<=ten", "nope<=1", "<=3", "wait_mean_min<=inf"):
        with pytest.raises(TargetError):
            parse_target(bad, known)


def test_erlang_c_family_is_the_grade_of_service_of_each_team():
    # Erlang C's fewest agents for P(wait) <= 0.35 at a = 5 is 7 (C(7, 5) = 0.324, C(6, 5) = 0.59)
    assert erlang_c_agents(5.0, 0.35) == 7
    assert erlang_c_agents(5.0, 1.0, max_utilisation=0.9) == 6       # the cap alone: 5 / 6 <= 0.9
    fam = staffing_family({"A": 5.0, "B": 1.2}, 0.9, {"A": 1, "B": 1}, {"A": 50, "B": 50}, {"B": 3})
    assert all(m["B"] == 3 for m in fam)                                # a fixed team stays
    assert all(x["A"] < y["A"] for x, y in zip(fam, fam[1:]))           # distinct, growing


def _toy_judge(need: tuple[int, int], calls: list):
    """Feasible iff a + b >= need[0] and a >= need[1]; cheaper agents in team b."""
    def judge(staffings, stage):
        calls.extend(staffings)
        out = []
        for s in staffings:
            margin = min(s[0] + s[1] - need[0], s[0] - need[1])
            out.append(Judgement(s, margin >= 0, max(0, -margin), margin))
        return out
    return judge


def test_search_walks_to_the_cheapest_feasible_staffing():
    space = Space(lower=(1, 1), upper=(20, 20), changeable=(0, 1), agent_cost=(90.0, 30.0))
    calls: list = []
    judge = _toy_judge((10, 3), calls)
    family = [(n, n) for n in range(1, 16)]
    idx, seen = first_feasible(family, judge, start=2)
    assert family[idx] == (5, 5) and all(not j.feasible for j in seen if j.staffing < (5, 5))
    best = descend({j.staffing: j for j in seen}[family[idx]], space, judge)
    assert best.staffing == (3, 7)           # a >= 3 (the dear team at its floor), b fills up to 10
    start = repair(judge([(1, 1)], "x")[0], space, judge)
    assert start.feasible
    with pytest.raises(ValueError):
        descend(judge([(1, 1)], "x")[0], space, judge)


def test_payroll_is_checked_against_agents_times_hours_times_wage():
    scn = scenario_from_dict(mmc_dict(servers=3, days=2, warmup_days=0.5), "mmc")
    expected = 3 * 60 * 36.0                        # agents x cost_per_hour x measured hours
    row = complete_payroll({"tickets": 10.0, "resolved_share": 0.5}, scn)
    assert row["payroll"] == expected and row["payroll_per_resolved"] == expected / 5
    with pytest.raises(PayrollMismatch):
        complete_payroll({"payroll": expected + 1, "tickets": 10.0, "resolved_share": 1.0}, scn)


# ---------------------------------------------------------------------------- the command
def test_single_team_gets_exactly_the_erlang_c_minimum_under_every_policy(tmp_path, capsys, monkeypatch):
    data = mmc_dict(servers=5, per_hour=30, mean_work=10, days=5, warmup_days=1, replications=5, seed=3)
    data["policies"] = {p: {} for p in POLICIES}
    path = _write(tmp_path, data, "single")
    bound = 3.0
    lam, mean = 30 / 60, 10.0
    need = next(c for c in range(6, 30) if MMc(lam, mean, c).mean_wait <= bound)
    # well away from the bound on both sides, so 5 replications cannot blur the answer
    assert MMc(lam, mean, need).mean_wait <= bound / 1.5 and MMc(lam, mean, need - 1).mean_wait >= 1.5 * bound
    assert lam * mean / need < 0.85                       # and the 0.9 cap does not bind
    out = tmp_path / "results" / "staffing" / "mmc"       # where `staff` writes by default
    assert _staff(path, out, "--target", f"wait_mean_min<={bound:g}") == 0
    staffing = pd.read_csv(out / "staffing.csv")
    assert staffing.set_index("policy")["agents"].to_dict() == {p: need for p in POLICIES}
    summary = pd.read_csv(out / "staffing_summary.csv")
    assert summary["feasible"].all() and (summary["wait_mean_min_ci_high"] <= bound).all()
    assert (summary["payroll_per_hour"] == need * 60.0).all()            # exact arithmetic
    # the staffed scenario validates, and `run` on it reproduces the reported numbers exactly
    staffed = load_scenario(out / "staffed" / "tiered.yaml")
    assert staffed.teams[0].agents == need and staffed.seed == 3 + CONFIRM_SEED_OFFSET
    result = simulate(staffed)
    again = result.summary.set_index("metric").loc["wait_mean_min"]
    row = summary.set_index("policy").loc["tiered"]
    assert again["mean"] == row["wait_mean_min_mean"] and again["ci_high"] == row["wait_mean_min_ci_high"]
    evals = pd.read_parquet(out / "evaluations.parquet")
    assert {"policy", "stage", "agents_T", "payroll_per_hour", "feasible", "wait_mean_min",
            "wait_mean_min_ci_high"} <= set(evals.columns)
    assert ((evals["agents_T"] == need - 1) & evals["feasible"]).sum() == 0
    assert (out / "report.html").read_text(encoding="utf-8").count("At equal service") >= 1
    # the decision report of a run of this very scenario shows the section; of another, not
    monkeypatch.chdir(tmp_path)
    report = build_report(simulate(load_scenario(path), replications=2), tmp_path / "rep")
    assert "At equal service" in report.html.read_text(encoding="utf-8")
    report = build_report(simulate(staffed, replications=2), tmp_path / "rep2")
    assert "At equal service" not in report.html.read_text(encoding="utf-8")
    # resumable: the same command again simulates nothing and gives the same answer
    capsys.readouterr()
    assert _staff(path, out, "--target", f"wait_mean_min<={bound:g}") == 0
    assert "0 replications simulated" in capsys.readouterr().out
    assert pd.read_csv(out / "staffing.csv").equals(staffing)


def test_three_tier_answer_holds_on_fresh_replications_and_is_locally_minimal(tmp_path):
    data = three_tier_dict(replications=4, horizon={"days": 6, "warmup_days": 1})
    path = _write(tmp_path, data, "three")
    bound = 75.0
    out = tmp_path / "out"
    assert _staff(path, out, "--target", f"resolution_mean_min<={bound:g}", "--policy", "tiered",
                  "--policy", "swarming") == 0
    summary = pd.read_csv(out / "staffing_summary.csv").set_index("policy")
    staffing = pd.read_csv(out / "staffing.csv")
    scn = load_scenario(path)
    cost = {t.name: t.cost_per_hour for t in scn.teams}
    for policy in ("tiered", "swarming"):
        row = summary.loc[policy]
        agents = staffing[staffing["policy"] == policy].set_index("team")["agents"].to_dict()
        # feasible on the fresh replications (the numbers reported come from them)
        assert row["feasible"] and row["seed"] == scn.seed + CONFIRM_SEED_OFFSET
        assert row["resolution_mean_min_ci_high"] <= bound and row["max_utilisation_ci_high"] <= 0.9
        assert row["payroll_per_hour"] == sum(agents[t] * cost[t] for t in agents)   # exact
        # locally minimal: one agent fewer in any team breaks a target or the cap on the
        # search replications or on the fresh ones (independent runs)
        for team, n in agents.items():
            if n == 1:
                continue
            fewer = data | {"teams": [t | {"agents": agents[t["name"]] - (t["name"] == team)}
                                      for t in data["teams"]]}
            broken = False
            for seed in (scn.seed, scn.seed + CONFIRM_SEED_OFFSET):
                s = simulate(scenario_from_dict(fewer, "fewer"), policies=[policy], seed=seed).summary
                s = s.set_index("metric")
                broken |= s.loc["resolution_mean_min", "ci_high"] > bound
                broken |= any(s.loc[f"utilisation_{t}", "ci_high"] > 0.9 for t in agents)
            assert broken, f"{policy}: {team} could lose an agent"


def test_only_the_named_teams_change(tmp_path):
    data = three_tier_dict(replications=3, horizon={"days": 3, "warmup_days": 0.5})
    for team in data["teams"]:      # fixed teams with room to spare, so L1 decides
        team["agents"] = {"L1": 5, "L2": 7, "L3": 6}[team["name"]]
    path = _write(tmp_path, data, "three")
    out = tmp_path / "out"
    assert _staff(path, out, "--target", "resolution_mean_min<=150", "--policy", "tiered",
                  "--teams", "L1", "--max-agents", "8") == 0
    staffing = pd.read_csv(out / "staffing.csv").set_index("team")
    assert staffing.loc[["L2", "L3"], "agents"].tolist() == [7, 6]
    assert staffing["changeable"].tolist() == [True, False, False]
    evals = pd.read_parquet(out / "evaluations.parquet")
    assert set(evals["agents_L2"]) == {7} and set(evals["agents_L3"]) == {6}
    assert evals["agents_L1"].max() <= 8


def test_payroll_per_resolved_is_payroll_over_resolved_tickets(tmp_path):
    data = three_tier_dict(replications=2)
    scn = scenario_from_dict(data, "three")
    result = simulate(scn, policies=["tiered"])
    per_rep = result.per_replication
    hours = (scn.horizon_min - scn.warmup_min) / 60
    assert (per_rep["payroll"] == (5 * 30 + 5 * 50 + 4 * 90) * hours).all()
    resolved = result.tickets[result.tickets["outcome"] == "resolved"].groupby("replication").size()
    assert per_rep["payroll_per_resolved"].tolist() == pytest.approx(
        (per_rep["payroll"] / resolved.to_numpy()).tolist(), rel=1e-12)


def test_an_interrupted_search_resumes_from_its_saved_evaluations(tmp_path, capsys, monkeypatch):
    from sim.staffing.store import RunStore

    data = mmc_dict(servers=5, per_hour=30, mean_work=10, days=2, warmup_days=0.5, replications=3)
    path = _write(tmp_path, data, "resume")
    args = ("--target", "wait_mean_min<=3", "--workers", "1")
    whole = tmp_path / "whole"
    assert main(["staff", str(path), "--out", str(whole), *args]) == 0
    original, saved = RunStore.save, []

    def save_then_stop(self, *a, **k):
        original(self, *a, **k)
        saved.append(1)
        if len(saved) == 2:
            raise KeyboardInterrupt        # Ctrl-C right after the second evaluation was saved

    monkeypatch.setattr(RunStore, "save", save_then_stop)
    cut = tmp_path / "cut"
    assert main(["staff", str(path), "--out", str(cut), *args]) == 130
    assert not (cut / "staffing.csv").exists() and len(list((cut / "runs").rglob("*.parquet"))) == 2
    monkeypatch.setattr(RunStore, "save", original)
    capsys.readouterr()
    assert main(["staff", str(path), "--out", str(cut), *args]) == 0
    out = capsys.readouterr().out
    reused = int(out.split(" reused")[0].split()[-1])
    assert reused > 0                                              # the saved runs were not redone
    assert pd.read_csv(cut / "staffing_summary.csv").equals(pd.read_csv(whole / "staffing_summary.csv"))


def test_a_plugin_policy_is_staffed_like_a_builtin(tmp_path, monkeypatch):
    from sim.policies import registry

    (tmp_path / "staff_plugin_mod.py").write_text(
        "from sim.policies.tiered import Tiered\n\n\nclass Renamed(Tiered):\n"
        "    \"\"\"tiered under another name\"\"\"\n    name = 'renamed_tiered'\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    data = mmc_dict(servers=5, per_hour=30, mean_work=10, days=2, warmup_days=0.5, replications=3)
    path = _write(tmp_path, data, "plug")
    try:
        for policy, out in (("tiered", tmp_path / "a"), ("renamed_tiered", tmp_path / "b")):
            assert main(["staff", str(path), "--plugin", "staff_plugin_mod:Renamed", "--policy", policy,
                         "--target", "wait_mean_min<=3", "--workers", "1", "--out", str(out)]) == 0
    finally:
        registry.unregister("renamed_tiered")
    a, b = (pd.read_csv(tmp_path / d / "staffing_summary.csv") for d in ("a", "b"))
    assert a.drop(columns="policy").equals(b.drop(columns="policy"))    # same decisions, same answer
    assert "--plugin" in (tmp_path / "b" / "staffed" / "renamed_tiered.yaml").read_text(encoding="utf-8")


def test_infeasible_everywhere_is_exit_1_with_the_best_reached(tmp_path, capsys):
    data = mmc_dict(servers=5, per_hour=30, mean_work=10, days=3, warmup_days=0.5, replications=3)
    path = _write(tmp_path, data, "tight")
    out = tmp_path / "out"
    assert _staff(path, out, "--target", "wait_mean_min<=0.001", "--max-agents", "7") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: no policy meets")
    summary = pd.read_csv(out / "staffing_summary.csv")
    assert not summary["feasible"].any() and (summary["evaluations"] > 0).all()
    assert pd.read_csv(out / "staffing.csv")["agents"].tolist() == [7]       # the best it reached


@pytest.mark.parametrize("target", ["wait_mean_min<3", "wait_mean_min<=x", "no_such_metric<=3",
                                    "service_level>=0.8", "=3"])
def test_bad_targets_are_one_line_exit_2(tmp_path, capsys, target):
    path = _write(tmp_path, mmc_dict(days=1, warmup_days=0, replications=1), "m")
    assert _staff(path, tmp_path / "out", "--target", target) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --target")


def test_unknown_team_is_exit_2(tmp_path, capsys):
    path = _write(tmp_path, mmc_dict(days=1, warmup_days=0, replications=1), "m")
    assert _staff(path, tmp_path / "out", "--target", "wait_mean_min<=3", "--teams", "Nope") == 2
    assert "--teams" in capsys.readouterr().err
