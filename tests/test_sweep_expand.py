"""Sweep files: grid and zip expansion, name/index selectors, seeds, and the errors for bad input."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import three_tier_dict
from sim.cli import main
from sim.scenario import ScenarioError
from sim.sweep import load_sweep, point_seed


def write_sweep(tmp_path: Path, sweep: dict, base: dict | None = None, text: str | None = None) -> Path:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base or three_tier_dict()), encoding="utf-8")
    path = tmp_path / "sweep.yaml"
    path.write_text(text if text is not None else yaml.safe_dump({"base": "base.yaml", **sweep}, sort_keys=False),
                    encoding="utf-8")
    return path


def team(scn, name):
    return next(t for t in scn.teams if t.name == name)


def test_full_grid_in_file_order_last_axis_fastest(tmp_path):
    plan = load_sweep(write_sweep(tmp_path, {
        "vary": {"arrivals.per_hour": [8, 10], "teams[L3].agents": [3, 4, 5]}, "policies": ["tiered"]}))
    assert len(plan.points) == 6
    got = [(p.scenario.arrivals.per_hour, team(p.scenario, "L3").agents) for p in plan.points]
    assert got == [(8, 3), (8, 4), (8, 5), (10, 3), (10, 4), (10, 5)]
    assert [p.params for p in plan.points][:2] == [{"arrivals.per_hour": 8, "teams[L3].agents": 3},
                                                  {"arrivals.per_hour": 8, "teams[L3].agents": 4}]
    # nothing else moved: the other teams keep the base staffing
    assert {team(p.scenario, "L1").agents for p in plan.points} == {5}
    assert plan.param_columns == ["arrivals.per_hour", "teams[L3].agents"]
    assert plan.total_tasks == 6 * 1 * plan.replications


def test_zip_groups_move_together_and_cross_with_the_grid(tmp_path):
    plan = load_sweep(write_sweep(tmp_path, {
        "vary": {"arrivals.per_hour": [8, 10, 12]},
        "zip": [{"teams[L1].agents": [4, 6], "teams[L2].agents": [5, 7]}]}))
    assert len(plan.points) == 6
    pairs = {(team(p.scenario, "L1").agents, team(p.scenario, "L2").agents) for p in plan.points}
    assert pairs == {(4, 5), (6, 7)}
    assert len(plan.axes) == 2 and plan.axes[1].paths == ("teams[L1].agents", "teams[L2].agents")


def test_issue_example_flow_style_zip_parses(tmp_path):
    # the flow mapping of the issue's example is not plain YAML (brackets are flow indicators)
    text = ("base: base.yaml\nreplications: 2\nseed: 7\nvary:\n  arrivals.per_hour: [8, 10]\n"
            "  teams[L3].agents: [3, 4]\nzip:\n  - {teams[L1].agents: [4, 5], teams[L2].agents: [4, 5]}\n"
            "policies: [tiered, skill_routing, swarming]\n")
    plan = load_sweep(write_sweep(tmp_path, {}, text=text))
    assert len(plan.points) == 8 and plan.replications == 2 and plan.seed == 7
    assert plan.policies == ["tiered", "skill_routing", "swarming"]


def test_index_and_name_selectors_and_nested_values(tmp_path):
    plan = load_sweep(write_sweep(tmp_path, {
        "set": {"horizon.days": 2},
        "vary": {"issues[0].work.mean": [10, 20], "issues[defect].work.cv": [0.5],
                 "frictions.repeat": [{"dist": "fixed", "value": 0}, {"dist": "fixed", "value": 12}],
                 "policies.skill_routing.triage_accuracy": [0.7]}}))
    assert len(plan.points) == 4
    p = plan.points[-1].scenario
    assert p.horizon.days == 2
    assert p.issues[0].work.mean == 20 and p.issues[2].work.cv == 0.5
    assert p.frictions.repeat.value == 12
    assert p.policies["skill_routing"] == {"triage_accuracy": 0.7}
    # a structured value becomes one compact text column
    assert plan.points[1].params["frictions.repeat"] == '{"dist":"fixed","value":12}'


def test_optional_keys_left_at_default_in_the_base_can_be_varied(tmp_path):
    plan = load_sweep(write_sweep(tmp_path, {"vary": {"segments[std].resolution_target": [240, 480],
                                                      "frictions.swarm_wait_is_queue": [False]}}))
    assert [p.scenario.segments[1].resolution_target for p in plan.points] == [240, 480]


def test_points_get_distinct_deterministic_seeds(tmp_path):
    path = write_sweep(tmp_path, {"seed": 3, "vary": {"arrivals.per_hour": [8, 9, 10, 11]}})
    a, b = load_sweep(path), load_sweep(path)
    seeds = [p.scenario.seed for p in a.points]
    assert seeds == [p.scenario.seed for p in b.points] == [point_seed(3, i) for i in range(4)]
    assert len(set(seeds)) == 4 and all(0 <= s < 2**63 for s in seeds)
    assert point_seed(4, 0) != point_seed(3, 0)


@pytest.mark.parametrize("vary, expected", [
    ({"arrivals.per_hr": [8]}, ["arrivals.per_hr: unknown key; allowed here: ", "per_hour"]),
    ({"teams[L9].agents": [3]}, "teams[L9]: no item named 'L9'; names: L1, L2, L3"),
    ({"issues[7].work.mean": [3]}, "issues[7]: index out of range; issues has 3 item(s)"),
    ({"teams[L3].agentz": [3]}, "teams[L3].agentz: unknown key"),
    ({"issues[how_to].work.cv2": [1]}, "issues[how_to].work.cv2: unknown key; allowed here: cv, dist, mean"),
    ({"seed": [1, 2]}, "set by the sweep itself"),
    ({"teams[L3.agents": [3]}, "never closed"),
    ({"policies.tiered.bogus": [1]}, "policies.tiered.bogus: unknown key"),
])
def test_unknown_paths_are_one_clear_error(tmp_path, vary, expected):
    with pytest.raises(ScenarioError) as exc:
        load_sweep(write_sweep(tmp_path, {"vary": vary}))
    assert len(exc.value.problems) == 1
    line = exc.value.problems[0]
    assert line.startswith(str(tmp_path / "sweep.yaml")), line
    for part in [expected] if isinstance(expected, str) else expected:
        assert part in line, line
    assert "mean_" not in line          # model-internal names never leak into messages


def test_sweep_file_problems_are_all_reported(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        load_sweep(write_sweep(tmp_path, {
            "vary": {"arrivals.per_hour": [8]},
            "zip": [{"teams[L1].agents": [4, 5], "teams[L2].agents": [4]},
                    {"arrivals.per_hour": [3]}],
            "policies": ["tiered", "nonesuch"],
            "report": {"x": "teams[L3].agents", "at": {"arrivals.per_hour": 9}}}))
    text = "\n".join(exc.value.problems)
    assert "unknown policy 'nonesuch'" in text
    assert "zipped paths need the same number of values" in text
    assert "arrivals.per_hour: already varied in vary" in text
    assert "report.x: 'teams[L3].agents' is not a varied path" in text
    assert "report.at.arrivals.per_hour: 9 is not one of its values (8)" in text


def test_unknown_sweep_key_is_rejected(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        load_sweep(write_sweep(tmp_path, {"vary": {"arrivals.per_hour": [8]}, "replicatons": 3}))
    assert exc.value.problems == [f"{tmp_path / 'sweep.yaml'}: replicatons: unknown key; allowed: base, name, "
                                  "description, replications, seed, set, vary, zip, common_random_numbers, "
                                  "policies, report"]


def test_every_bad_point_reported_before_anything_runs(tmp_path, capsys):
    path = write_sweep(tmp_path, {"vary": {"teams[L3].agents": [0, 4, -1], "arrivals.per_hour": [8, 10]}})
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4, err                # points 0, 1 (agents 0) and 4, 5 (agents -1): one line each
    assert all(line.startswith(f"error: {path}: point ") and "teams[2].agents" in line for line in err)
    assert "point 0 (teams[L3].agents=0, arrivals.per_hour=8)" in err[0]
    assert not out.exists()                  # validated before any run: nothing written


def test_example_sweeps_expand_and_validate():
    examples = sorted((Path(__file__).resolve().parents[1] / "scenarios" / "sweeps").glob("*.yaml"))
    assert examples
    plans = [load_sweep(path) for path in examples]          # every example is valid
    # the README's example draws a full regime map and stays quick
    staffing = next(p for p in plans if p.source.name == "staffing-vs-load.yaml")
    assert len(staffing.axes) >= 2 and staffing.total_tasks <= 300


def test_common_random_numbers_gives_every_point_the_same_customers(tmp_path):
    from sim.engine import run_replication

    plan = load_sweep(write_sweep(tmp_path, {"common_random_numbers": True, "set": {"horizon.days": 0.5, "horizon.warmup_days": 0.1},
                                             "vary": {"teams[L3].agents": [3, 6]}}))
    a, b = (p.scenario for p in plan.points)
    assert a.seed == b.seed == point_seed(plan.seed, 0)
    ra, rb = run_replication(a, "tiered", 1, a.seed), run_replication(b, "tiered", 1, b.seed)
    assert ra.arrivals == rb.arrivals
    assert sorted(ra.columns["arrival_min"]) == sorted(rb.columns["arrival_min"])
    assert list(ra.columns["end_min"]) != list(rb.columns["end_min"])    # the staffing still matters


def test_missing_base_names_the_key(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("base: nowhere.yaml\nvary: {arrivals.per_hour: [8]}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_sweep(path)
    assert exc.value.problems == [f"{path}: base: scenario file {tmp_path / 'nowhere.yaml'} not found "
                                  "(the path is relative to the sweep file)"]


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".", ".hidden", "a\\b", "with space"])
def test_sweep_name_must_be_a_plain_directory_name(tmp_path, name, capsys):
    path = write_sweep(tmp_path, {"name": name, "vary": {"arrivals.per_hour": [8]}, "policies": ["tiered"]})
    with pytest.raises(ScenarioError) as exc:
        load_sweep(path)
    assert len(exc.value.problems) == 1
    assert exc.value.problems[0].startswith(f"{path}: name: {name!r} ")
    assert main(["sweep", str(path), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{path}: name:" in err
    assert not (tmp_path / "x").exists() and not (Path("results") / "sweeps" / "a").exists()


def test_plain_sweep_names_are_accepted(tmp_path):
    path = write_sweep(tmp_path, {"name": "staffing-vs-load_v1.2", "vary": {"arrivals.per_hour": [8]},
                                  "policies": ["tiered"]})
    assert load_sweep(path).name == "staffing-vs-load_v1.2"


def test_points_share_customers_unless_a_varied_path_changes_them(tmp_path):
    # staffing and frictions act on the same customers: every point takes point 0's seed
    plan = load_sweep(write_sweep(tmp_path, {"seed": 3, "vary": {"frictions.swarm_overhead": [0, 0.5, 1],
                                                                 "teams[L3].agents": [3, 4]}}))
    assert {p.seed for p in plan.points} == {point_seed(3, 0)}
    # arrivals change the customers: one seed per arrival rate, shared across the staffing axis
    plan = load_sweep(write_sweep(tmp_path, {"seed": 3, "vary": {"teams[L3].agents": [3, 4],
                                                                 "arrivals.per_hour": [8, 9, 10]}}))
    for p in plan.points:
        assert p.seed == point_seed(3, p.coords[1])
    # the issue mix and work change them too; a segment's target does not
    from sim.sweep.expand import changes_customers

    assert changes_customers("issues[how_to].share") and changes_customers("issues[0].work.mean")
    assert changes_customers("segments[std].patience") and not changes_customers("segments[std].resolution_target")
    assert not changes_customers("policies.skill_routing.triage_accuracy")
    # explicit settings win: false = a seed per point, true = point 0's everywhere
    plan = load_sweep(write_sweep(tmp_path, {"seed": 3, "common_random_numbers": False,
                                             "vary": {"frictions.swarm_overhead": [0, 0.5, 1]}}))
    assert [p.seed for p in plan.points] == [point_seed(3, i) for i in range(3)]
    plan = load_sweep(write_sweep(tmp_path, {"seed": 3, "common_random_numbers": True,
                                             "vary": {"arrivals.per_hour": [8, 9]}}))
    assert {p.seed for p in plan.points} == {point_seed(3, 0)}
