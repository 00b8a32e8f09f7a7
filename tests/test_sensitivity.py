"""Sensitivity analysis (issue 13.3-4): parameters, flip points, outputs, resume, report section, CLI."""
from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import three_tier_dict

from sim import scenario_from_dict, simulate
from sim.analysis import paired_differences
from sim.cli import main
from sim.sensitivity import ParamError, default_params, load_sensitivity, parse_param
from sim.sensitivity.analysis import FLIPS_COLUMNS, TORNADO_COLUMNS, bracket
from sim.sensitivity.comments import assumption_comments
from sim.sensitivity.params import apply_value, check_param, scale_distribution
from sim.sensitivity.run import run_sensitivity

SMALL = dict(horizon={"days": 3, "warmup_days": 0.5}, replications=2)
OWNER = "frictions.swarm_owner_contribution"


def small():
    return scenario_from_dict(three_tier_dict(**SMALL), "three-tier")


@pytest.fixture(scope="module")
def owner_analysis(tmp_path_factory):
    """One small analysis shared by the tests below: owner contribution 0-1, swarming vs tiered."""
    out = tmp_path_factory.mktemp("sens")
    calls = []
    r = run_sensitivity(small(), params=[parse_param(f"{OWNER}=0:1"), parse_param("frictions.repeat=x0.5:x2")],
                        policies=["swarming"], metrics=["cost_per_resolved", "resolution_mean_min",
                                                        "handoffs_per_ticket"],
                        tolerance=0.1, workers=1, out=out, progress=lambda d, t: calls.append((d, t)))
    return r, out, calls


# ----------------------------------------------------------------------------- parameters
def test_parse_param_absolute_relative_and_errors():
    p = parse_param("frictions.swarm_coordination=0:1")
    assert (p.path, p.low, p.high, p.relative) == ("frictions.swarm_coordination", 0.0, 1.0, False)
    q = parse_param("frictions.handoff=x0.25:x2")
    assert q.relative and (q.low, q.high) == (0.25, 2.0) and q.spec() == "frictions.handoff=x0.25:x2"
    for bad in ("frictions.handoff", "x=1", "a.b=2:1", "a.b=x1:2", "a.b=one:two", "teams[.x=0:1"):
        with pytest.raises(ParamError):
            parse_param(bad)


def test_check_param_names_the_problem_in_one_line():
    data = small().to_dict()
    for spec, words in ((f"{OWNER}=0:2", "less than or equal to 1"), ("frictions.nope=0:1", "unknown key"),
                        ("teams[L9].agents=1:2", "no item named 'L9'")):
        with pytest.raises(ParamError) as exc:
            check_param(data, parse_param(spec))
        assert words in str(exc.value) and "\n" not in str(exc.value)


def test_relative_ranges_scale_distributions_and_star_selects_every_item():
    assert scale_distribution({"dist": "lognormal", "mean": 10, "cv": 0.5}, 2) == \
        {"dist": "lognormal", "mean": 20, "cv": 0.5}
    assert scale_distribution({"dist": "triangular", "low": 1, "mode": 2, "high": 4}, 0.5) == \
        {"dist": "triangular", "low": 0.5, "mode": 1.0, "high": 2.0}
    assert scale_distribution({"dist": "exponential", "mean": 3}, 0) == {"dist": "fixed", "value": 0.0}
    data = small().to_dict()
    p = parse_param("teams[*].diagnose=x0.5:x2")
    targets = check_param(data, p)
    assert len(targets) == 2                            # L1 and L2 diagnose; L3 has no diagnosis
    d = apply_value(data, p, 2.0, targets)
    assert d["teams"][0]["diagnose"] == {"dist": "exponential", "mean": 20.0}
    assert d["teams"][1]["diagnose"]["high"] == 80 and "diagnose" not in d["teams"][2]
    assert data["teams"][0]["diagnose"]["mean"] == 10          # the base data is not changed
    agents = apply_value(data, parse_param("teams[L3].agents=x0.5:x2"), 0.5)
    assert agents["teams"][2]["agents"] == 2 and isinstance(agents["teams"][2]["agents"], int)


def test_default_params_skip_what_does_not_apply_and_say_why():
    data = small().to_dict()
    params, skipped = default_params(data, ["swarming", "skill_routing"], "tiered")
    assert [p.path for p in params] == [OWNER, "frictions.swarm_coordination", "frictions.handoff",
                                        "frictions.repeat", "teams[*].diagnose",
                                        "policies.skill_routing.triage_accuracy", "arrivals.per_hour"]
    assert skipped == []
    data["frictions"]["handoff"] = {"dist": "fixed", "value": 0}
    params, skipped = default_params(data, ["skill_routing"], "tiered")
    paths = [p.path for p in params]
    assert OWNER not in paths and "frictions.handoff" not in paths
    assert dict(skipped)[OWNER] == "no compared policy swarms"
    assert "is 0" in dict(skipped)["frictions.handoff"]


def test_bracket_takes_the_sign_change_nearest_the_scenario_value():
    values = {0.0: 5.0, 0.25: -1.0, 0.5: -2.0, 0.75: 3.0, 1.0: 4.0}
    assert bracket(values, 1.0) == (0.5, 0.75)
    assert bracket(values, 0.0) == (0.0, 0.25)
    assert bracket({0.0: 1.0, 1.0: 2.0}, 0.5) is None
    assert bracket({0.0: 1.0, 0.5: math.nan, 1.0: -1.0}, 0.5) == (0.0, 1.0)


# ----------------------------------------------------------------------------- flips
def _paired_mean(scn, metric):
    r = simulate(scn, policies=["tiered", "swarming"])
    p = paired_differences(r.per_replication, "tiered", metrics=[metric])
    return float(p["diff_mean"].iloc[0])


def test_flip_points_are_confirmed_by_direct_paired_runs_on_both_sides(owner_analysis):
    r, _, _ = owner_analysis
    flips = r.flips[(r.flips["parameter"] == OWNER) & r.flips["flip_value"].notna()]
    assert set(flips["metric"]) >= {"cost_per_resolved"}     # an unqualified owner who only shadows costs
    base = small().to_dict()
    p = r.param(OWNER)
    for _, f in flips.iterrows():
        assert f["low"] <= f["flip_value"] <= f["high"]
        assert f["high"] - f["low"] <= 0.1 * (p.high - p.low) + 1e-12       # the stated tolerance
        lo = _paired_mean(scenario_from_dict(apply_value(base, p, f["low"])), f["metric"])
        hi = _paired_mean(scenario_from_dict(apply_value(base, p, f["high"])), f["metric"])
        assert lo * hi < 0, (f["metric"], lo, hi)
        assert (f["direction"] == "falls") == (lo > 0)
        # better_side: where swarming (lower is better for these metrics) is ahead
        assert f["better_side"] == ("above" if hi < 0 else "below")


def test_no_flip_in_range_leaves_flip_value_empty(owner_analysis):
    r, out, _ = owner_analysis
    rows = r.flips[r.flips["metric"] == "handoffs_per_ticket"]
    assert len(rows) == 2 and rows["flip_value"].isna().all()
    assert (rows["note"] == "no flip in range: swarming ahead throughout").all()
    assert (rows["ahead"] == "swarming").all() and (rows["unstable"] == "").all()   # typed fields
    csv = pd.read_csv(out / "flips.csv", keep_default_na=False)
    assert (csv[csv["metric"] == "handoffs_per_ticket"]["flip_value"] == "").all()


def test_csv_columns_and_figures(owner_analysis):
    r, out, _ = owner_analysis
    tornado = pd.read_csv(out / "tornado.csv")
    flips = pd.read_csv(out / "flips.csv")
    assert list(tornado.columns[:len(TORNADO_COLUMNS)]) == TORNADO_COLUMNS
    assert list(flips.columns[:len(FLIPS_COLUMNS)]) == FLIPS_COLUMNS
    # tornado: each parameter at its low end, the scenario's value and its high end
    owner = tornado[(tornado["parameter"] == OWNER) & (tornado["metric"] == "cost_per_resolved")]
    assert sorted(owner["value"]) == [0.0, 1.0]          # the scenario's value (c = 1) is the high end
    repeat = tornado[(tornado["parameter"] == "frictions.repeat") & (tornado["metric"] == "cost_per_resolved")]
    assert sorted(repeat["value"]) == [0.5, 1.0, 2.0] and set(repeat["kind"]) == {"multiplier"}
    assert (tornado["ci_low"] <= tornado["relative_change"]).all()
    assert (tornado["relative_change"] <= tornado["ci_high"]).all()
    for name in ("tornado.png", "flip_lines.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_runs_nothing_twice_and_gives_the_same_tables(owner_analysis):
    r, out, calls = owner_analysis
    assert calls and calls[-1][0] == calls[-1][1] > 0
    again = []
    r2 = run_sensitivity(small(), params=r.params, policies=["swarming"], metrics=r.metrics, tolerance=0.1,
                         workers=1, out=out, progress=lambda d, t: again.append((d, t)))
    assert all(t == 0 for _, t in again)                 # every run was found saved
    pd.testing.assert_frame_equal(r.flips, r2.flips)
    loaded = load_sensitivity(out)
    assert loaded is not None and loaded.params == r.params
    assert loaded.flips["flip_value"].equals(r.flips["flip_value"])


def test_a_policy_parameter_reruns_only_that_policy():
    calls = []
    r = run_sensitivity(small(), params=[parse_param("policies.skill_routing.triage_accuracy=0.6:1")],
                        policies=["skill_routing"], metrics=["resolution_mean_min"], tolerance=0.5,
                        workers=1, progress=lambda d, t: calls.append(t))
    # base (2 policies x 2 reps) + two more values of skill routing (2 reps each); tiered once
    assert calls[-1] == 4 + 2 * 2
    assert set(r.flips["policy"]) == {"skill_routing"}


# ----------------------------------------------------------------------------- report, comments, CLI
def test_assumption_comments_are_read_whole_from_the_yaml_text():
    text = ("# Header\n#  - cost per hour (30 / 50): ASSUMPTION, following the cost-per-\n"
            "#    ticket pattern\n#  - arrivals: measured\nfrictions:\n"
            "  repeat: {dist: fixed, value: 6}   # ASSUMPTION: nobody timed it\n  handoff: 5 # fine\n")
    assert assumption_comments(text) == ["cost per hour (30 / 50): ASSUMPTION, following the cost-per-ticket pattern",
                                         "repeat: ASSUMPTION: nobody timed it"]


def test_report_section_states_assumptions_and_flips_in_words(owner_analysis, tmp_path):
    from sim.report import build_report

    r, _, _ = owner_analysis
    result = simulate(small(), policies=["tiered", "swarming"])
    result.sensitivity = r
    result.assumption_comments = ["swarm_overhead 0.25: ASSUMPTION <b>"]
    paths = build_report(result, tmp_path / "rep")
    html = paths.html.read_text(encoding="utf-8")
    md = paths.markdown.read_text(encoding="utf-8")
    title = "What this verdict assumes, and what would change it"
    assert title in html and title in md
    assert html.index(title) < html.index('id="figures"')          # right after the verdict
    assert "ASSUMPTION &lt;b&gt;" in html                           # escaped like every other text
    flip = r.flips[(r.flips["metric"] == "cost_per_resolved") & r.flips["flip_value"].notna()].iloc[0]
    word = "stays cheaper than tiered while swarm owner contribution"
    assert word in html and f"{flip['flip_value']:.2g}" in html


def test_report_without_an_analysis_says_how_to_get_one(tmp_path):
    from sim.report import build_report

    result = simulate(small(), policies=["tiered", "swarming"], replications=1)
    html = build_report(result, tmp_path / "rep").html.read_text(encoding="utf-8")
    assert "Flip points were not computed" in html and "swarm owner contribution c" in html


def test_cli_bad_param_is_one_line_exit_2(tmp_path, capsys):
    rc = main(["sensitivity", "scenarios/default.yaml", "--param", "frictions.nope=0:1", "--out",
               str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: --param frictions.nope=0:1") and err.count("\n") == 1
    out = tmp_path / "never"
    assert main(["sensitivity", "scenarios/default.yaml", "--param", "x.y=1", "--out", str(out)]) == 2
    assert main(["sensitivity", "scenarios/default.yaml", "--policy", "nosuch", "--out", str(out)]) == 2
    assert main(["sensitivity", "scenarios/default.yaml", "--metrics", "speed", "--out", str(out)]) == 2
    assert not out.exists()                   # bad input costs nothing, creates nothing


def test_swarm_frictions_leave_non_swarming_builtins_bit_identical():
    """What lets the analysis skip re-running them when a swarm friction varies (run.py, _run_key)."""
    from sim.sensitivity.run import NON_SWARMING_BUILTINS

    base = three_tier_dict(horizon={"days": 1, "warmup_days": 0}, replications=1)
    other = three_tier_dict(horizon={"days": 1, "warmup_days": 0}, replications=1)
    other["frictions"].update(swarm_owner_contribution=0.0, swarm_coordination=1.0,
                              swarm_search={"dist": "exponential", "mean": 7}, swarm_helper_fit=0.5,
                              swarm_wait_is_queue=False, swarm_overhead=0.9)
    a = simulate(scenario_from_dict(base), policies=list(NON_SWARMING_BUILTINS)).tickets
    b = simulate(scenario_from_dict(other), policies=list(NON_SWARMING_BUILTINS)).tickets
    pd.testing.assert_frame_equal(a, b)
    assert "swarming" not in NON_SWARMING_BUILTINS


def test_unstable_values_are_flagged():
    from sim.sensitivity.analysis import unstable_policies

    per_rep = pd.DataFrame({"policy": ["a", "a", "b", "b"], "replication": [0, 1, 0, 1],
                            "utilisation_L1": [0.97, 0.96, 0.5, 0.6], "utilisation_L2": [0.1, 0.2, 0.94, 0.99]})
    assert unstable_policies(per_rep) == {"a", "b"}
    assert unstable_policies(per_rep.assign(utilisation_L2=0.1)) == {"a"}


def test_the_unstable_rule_is_the_runs_own_stability_check():
    from sim.analysis import stability
    from sim.sensitivity import analysis

    assert analysis.UTILISATION_LIMIT is stability.UTILISATION_LIMIT
    per_rep = pd.DataFrame({"policy": ["a", "b"], "replication": [0, 0],
                            "utilisation_L1": [stability.UTILISATION_LIMIT, 0.5]})
    assert analysis.unstable_policies(per_rep) == {"a"}


def test_report_sentences_read_the_typed_fields_never_the_note():
    """Caveats and "ahead throughout" lines come from ``unstable`` / ``ahead``: a note that says
    "unstable" without the field gives no caveat, and reworded notes change nothing."""
    from types import SimpleNamespace

    from sim.report.assumptions import flip_sentences

    base = {"parameter": OWNER, "baseline": "tiered", "metric": "cost_per_resolved", "low": 0.0,
            "high": 1.0, "direction": "", "better_side": ""}
    flips = pd.DataFrame([
        {**base, "policy": "swarming", "flip_value": 0.5, "low": 0.4, "high": 0.6, "better_side": "above",
         "note": "both overloaded at 0.4", "ahead": "", "unstable": "swarming tiered"},
        {**base, "policy": "skill_routing", "flip_value": 0.3, "low": 0.2, "high": 0.4, "better_side": "above",
         "note": "the word unstable in a note is not a finding", "ahead": "", "unstable": ""},
        {**base, "policy": "pull", "flip_value": math.nan, "note": "(reworded)", "ahead": "pull",
         "unstable": ""},
    ])
    sens = SimpleNamespace(flips=flips, baseline="tiered", base_values={OWNER: 0.8},
                           param=lambda path: None)
    lines = flip_sentences(sens)
    assert "Caveat: both overloaded at 0.4." in lines[0]
    assert "Caveat" not in lines[1]
    assert lines[2] == "Pull is cheaper than tiered, across every range tested (no flip point)."


def test_run_sensitivity_saves_the_section_and_report_dir_keeps_it(tmp_path, capsys):
    import yaml

    from sim.report.assumptions import TITLE

    scenario = tmp_path / "small.yaml"
    scenario.write_text("# small desk\n#  - repeat time: ASSUMPTION, nobody timed it\n"
                        + yaml.safe_dump(three_tier_dict(horizon={"days": 1, "warmup_days": 0.2},
                                                         policies={"tiered": {}, "swarming": {}})),
                        encoding="utf-8")
    out = tmp_path / "res"
    assert main(["run", str(scenario), "--sensitivity", "--replications", "2", "--out", str(out)]) == 0
    assert (out / "sensitivity" / "flips.csv").is_file() and (out / "sensitivity" / "sensitivity.json").is_file()
    first = (out / "report.html").read_text(encoding="utf-8")
    assert TITLE in first and "quick analysis" in first and "repeat time: ASSUMPTION, nobody timed it" in first
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    again = (out / "report.html").read_text(encoding="utf-8")
    assert "quick analysis" in again and "nobody timed it" in again
    # a saved analysis of another scenario or seed is never shown
    from sim import load_result
    from sim.report.assumptions import attach_saved

    other = load_result(out)
    other.seed += 1
    attach_saved(other, out)
    assert other.sensitivity is None
