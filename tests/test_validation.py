"""Bad scenarios are rejected with one clear line per problem, naming file and field."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim import ScenarioError, load_scenario, scenario_from_dict
from sim.scenario import scenario_warnings

from conftest import three_tier_dict

ROOT = Path(__file__).resolve().parents[1]


def problems_of(data) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, "case.yaml")
    return info.value.problems


def mutate(path: str, value):
    d = three_tier_dict()
    target = d
    parts = path.split(".")
    for p in parts[:-1]:
        target = target[int(p)] if p.isdigit() else target[p]
    last = parts[-1]
    if value is DELETE:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return d


DELETE = object()


@pytest.mark.parametrize("path, value, expected", [
    ("teams.1.agents", 0, "teams[1].agents: Input should be greater than 0 (got 0)"),
    ("teams.1.agents", -3, "teams[1].agents"),
    ("teams.0.agents", 2.5, "teams[0].agents"),
    ("arrivals.per_hour", 0, "arrivals.per_hour: Input should be greater than 0"),
    ("arrivals.per_hour", "twelve", "arrivals.per_hour: Input should be a valid number (got 'twelve')"),
    ("arrivals.colour", "blue", "arrivals.colour: unknown key; allowed: per_hour"),
    ("horizon.days", -1, "horizon.days"),
    ("horizon.days", float("inf"), "horizon.days: Input should be a finite number (got inf)"),
    ("arrivals.per_hour", float("nan"), "arrivals.per_hour: Input should be a finite number"),
    ("issues.1.work", {"dist": "gamma", "mean": float("inf"), "cv": 1}, "issues[1].work.mean: Input should be a finite number"),
    ("horizon.warmup_days", 10, "horizon.warmup_days: must be less than horizon.days"),
    ("replications", 0, "replications: Input should be greater than or equal to 1"),
    ("issues.0.share", 0.5, "issues: shares must sum to 1 (got 0.9)"),
    ("segments.0.share", 0.3, "segments: shares must sum to 1 (got 1.1)"),
    ("issues.0.work", {"dist": "weibull", "mean": 3}, "issues[0].work: unknown distribution 'weibull'"),
    ("issues.0.work", {"mean": 3}, "issues[0].work: a distribution needs a 'dist' key"),
    ("issues.0.work", {"dist": "lognormal", "mean": 3, "cv": -1}, "issues[0].work.cv: Input should be greater than or equal to 0.000001 (got -1)"),
    ("issues.0.work", {"dist": "lognormal", "mean": 3}, "issues[0].work.cv: required key is missing"),
    ("issues.0.work", {"dist": "uniform", "low": 5, "high": 1}, "issues[0].work: high (1.0) must be >= low (5.0)"),
    ("issues.0.work", {"dist": "fixed", "value": 1, "sd": 2}, "issues[0].work.sd: unknown key; allowed: dist, value"),
    ("issues.2.skill", "quantum", "issues[2]: no team can resolve 'defect'"),
    ("issues.2.tier", 4, "issues[2]: no team can resolve 'defect' (needs tier >= 4"),
    ("teams.0.diagnose", DELETE, "teams[0].diagnose: required because team 'L1' cannot resolve"),
    ("teams.2.name", "L1", "teams[2].name: duplicate name 'L1'"),
    ("policies", {"magic": {}}, "policies.magic: unknown policy; available: tiered"),
    ("policies", {"skill_routing": {"triage_accuracy": 1.5}},
     "policies.skill_routing.triage_accuracy: Input should be less than or equal to 1 (got 1.5)"),
    ("policies", {"swarming": {"max_helpers": 1, "colour": 2}}, "policies.swarming.colour: unknown key; allowed: max_helpers"),
    ("policies", {"swarming": {"max_helpers": "two"}}, "policies.swarming.max_helpers: Input should be a valid integer"),
    ("frictions.swarm_overhead", -0.1, "frictions.swarm_overhead: Input should be greater than or equal to 0"),
    ("colour", "blue", "colour: unknown key; allowed: name, description, seed"),
])
def test_bad_field_is_named(path, value, expected):
    problems = problems_of(mutate(path, value))
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("case.yaml: ") for p in problems)
    assert all("\n" not in p for p in problems)


def test_every_problem_reported_at_once():
    d = mutate("teams.1.agents", 0)
    d["arrivals"]["per_hour"] = -1
    d["colour"] = 1
    assert len(problems_of(d)) == 3


def test_yaml_syntax_error_has_line(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\nhorizon: {days: 60\n  seed: 1\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    (line,) = info.value.problems
    assert line.startswith(f"{f}:3:") and "YAML syntax error" in line


def test_python_tags_never_construct_objects(tmp_path):
    marker = tmp_path / "pwned"
    f = tmp_path / "s.yaml"
    f.write_text(f'name: x\nseed: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    assert "YAML tag not allowed" in info.value.problems[0] and f"{f}:2" in info.value.problems[0]
    assert not marker.exists()


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")
    f = tmp_path / "list.yaml"
    f.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="top level must be a mapping"):
        load_scenario(f)


def test_defaults_fill_optional_keys():
    d = three_tier_dict()
    for key in ("segments", "frictions", "policies", "replications", "seed", "description"):
        d.pop(key, None)
    scn = scenario_from_dict(d)
    assert [s.name for s in scn.segments] == ["all"] and scn.segments[0].patience is None
    assert scn.frictions.handoff.is_zero and scn.frictions.repeat.is_zero
    assert scn.policy_names()[:3] == ["tiered", "skill_routing", "swarming"]


def test_unstable_scenario_warns_but_runs():
    from sim import simulate

    d = three_tier_dict()
    d["arrivals"]["per_hour"] = 60
    d["horizon"] = {"days": 1, "warmup_days": 0}
    scn = scenario_from_dict(d)
    assert any("unstable" in w for w in scenario_warnings(scn))
    res = simulate(scn, policies=["tiered"], replications=1)
    assert any("unstable" in w for w in res.warnings)
    assert (res.tickets["outcome"] == "open").any()


def test_shipped_scenarios_are_valid():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        load_scenario(path)


@pytest.mark.parametrize("args", [["validate"], ["run", "--days", "1", "--replications", "1"]])
def test_cli_exit_2_one_line_per_problem_no_traceback(tmp_path, args):
    d = mutate("teams.1.agents", 0)
    d["colour"] = "x"
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(d))
    proc = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), args[0], str(f), *args[1:]],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and all(str(f) in line for line in lines), proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_bad_flag_value_exits_2():
    proc = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", "--replications", "0"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "must be >= 1" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, expected", [
    (["--out", "/proc/no/such"], "--out /proc/no/such: cannot write results there"),
    (["--report", "README.md"], "--report README.md: is a file, not a directory"),
])
def test_cli_unwritable_output_is_one_line_before_simulating(args, expected):
    proc = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "run", "--days", "200",
                           "--replications", "50", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr


def test_duplicate_yaml_key_is_an_error_not_last_wins(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text((ROOT / "scenarios" / "default.yaml").read_text().replace(
        "name: default\n", "name: default\nname: other\n", 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    (line,) = info.value.problems
    assert line.startswith(f"{f}:") and "key 'name' appears twice" in line
