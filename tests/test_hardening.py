"""Issue 15: nothing lost, nothing hangs.  One reproducer per class of the adversarial pass,
then a fuzz test that mutates valid scenarios and accepts only a clean refusal or a result.

Owners: unmarked tests are the hardening engineer's (scenario, outputs, run CLI); tests
marked ``# owner: run-path`` / ``# owner: eventlog`` check the sweep/calibrate side.
Everything runs on tiny scenarios (hours of simulated time, one replication).
"""
from __future__ import annotations

import json
import os
import signal
import stat
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import ScenarioError, load_scenario, scenario_from_dict
from sim.atomic import atomic_write, is_temp_name, write_text
from sim.cli import main
from sim.outputs import DirectoryLock, UnsafeOutput, csv_safe_frame
from sim.testing import scenario_dicts
from sim import workload

from conftest import mmc_dict, three_tier_dict

ROOT = Path(__file__).resolve().parents[1]


def tiny(**over) -> dict:
    """Three tiers, two policies, half a day: a run (and its report) takes a second or two."""
    d = three_tier_dict()
    d["horizon"] = {"days": 0.5, "warmup_days": 0.05}
    d["replications"] = 1
    d["policies"] = {"tiered": {}, "swarming": {}}
    d.update(over)
    return d


def write_scenario(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@contextmanager
def spinning_policy(name: str):
    """A registered policy whose route() never returns (for --task-timeout), unregistered after."""
    from sim.policies import registry
    from sim.policies.tiered import Tiered

    class Spins(Tiered):
        summary = "never returns from a hook"

        def route(self, ticket):
            while True:
                pass

    Spins.name = name
    registry.register(Spins)
    try:
        yield Spins
    finally:
        registry.unregister(name)


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("warning:")]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def problems_of(data) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, "case.yaml")
    assert all("\n" not in p for p in info.value.problems)
    return info.value.problems


def snapshot(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


# =========================================================================== 1. data loss
def test_run_refuses_a_folder_that_is_not_a_supportsim_result(tmp_path, capsys, monkeypatch):
    """The issue's example: the user's commented scenario, an events.csv and a report.html."""
    work = tmp_path / "client"
    work.mkdir()
    write_scenario(work / "scenario.yaml", tiny())
    with open(work / "scenario.yaml", "a", encoding="utf-8") as fh:
        fh.write("# the client's own notes\n")
    (work / "events.csv").write_text("case,activity\n1,call\n")
    (work / "report.html").write_text("<html>mine</html>")
    before = snapshot(work)
    monkeypatch.chdir(work)
    assert main(["run", "scenario.yaml", "--out", "."]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--out .: directory is not empty and holds no supportsim result" in line
    assert snapshot(work) == before and sorted(os.listdir(work)) == sorted(before)  # no lock left
    assert main(["run", "scenario.yaml", "--report", ".", "--no-report"]) == 0   # --no-report wins
    assert main(["run", "scenario.yaml", "--report", "."]) == 2
    assert "--report .: directory is not empty" in one_error_line(capsys.readouterr().err)
    assert snapshot(work) == before


def test_a_later_run_replaces_only_what_supportsim_wrote(tmp_path, capsys):
    scn = write_scenario(tmp_path / "s.yaml", tiny())
    out = tmp_path / "out"
    assert main(["run", str(scn), "--out", str(out), "--events", "csv"]) == 0
    meta = json.loads((out / "meta.json").read_text())
    assert {"tickets.parquet", "summary.csv", "events.csv", "report.html", "scenario.yaml"} <= set(meta["files"])
    (out / "notes.txt").write_text("mine")                         # the user's file beside a result
    assert main(["run", str(scn), "--out", str(out), "--no-report"]) == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "events.csv").exists() and not (out / "report.html").exists()  # stale, ours
    assert not (out / "figures").exists()
    assert set(json.loads((out / "meta.json").read_text())["files"]) == {
        p.name for p in out.iterdir() if not p.name.startswith(".")} - {"notes.txt", "meta.json"}
    # a result file the user edited afterwards is the user's: refused, kept, before simulating
    edited = (out / "scenario.yaml").read_text() + "# my comment\n"
    (out / "scenario.yaml").write_text(edited)
    capsys.readouterr()
    assert main(["run", str(scn), "--out", str(out)]) == 2
    assert "scenario.yaml: exists and was not written by supportsim" in one_error_line(
        capsys.readouterr().err)
    assert (out / "scenario.yaml").read_text() == edited and (out / "meta.json").exists()


def test_meta_json_comes_last_and_an_interrupted_run_is_not_complete(tmp_path, monkeypatch, capsys):
    import sim.report

    scn = write_scenario(tmp_path / "s.yaml", tiny())
    out = tmp_path / "out"
    seen = {}

    def broken_report(result, out_dir=None, baseline=None):
        d = Path(out_dir)
        seen["tables"] = (d / "tickets.parquet").exists() and (d / "events.csv").exists()
        seen["meta"] = (d / "meta.json").exists()
        raise KeyboardInterrupt     # Ctrl-C while the report is written

    monkeypatch.setattr(sim.report, "build_report", broken_report)
    assert main(["run", str(scn), "--out", str(out), "--events"]) == 130
    assert seen == {"tables": True, "meta": False}
    assert not (out / "meta.json").exists()                 # not a complete result ...
    assert main(["report", str(out)]) == 2
    monkeypatch.undo()
    assert main(["run", str(scn), "--out", str(out)]) == 0   # ... but still supportsim's
    files = json.loads((out / "meta.json").read_text())["files"]
    newest = max((out / f).stat().st_mtime_ns for f in files)
    assert (out / "meta.json").stat().st_mtime_ns >= newest
    assert not (out / ".supportsim-writing.json").exists()


def test_stale_temporaries_are_cleaned_only_when_they_are_ours(tmp_path):
    scn = write_scenario(tmp_path / "s.yaml", tiny())
    out = tmp_path / "out"
    assert main(["run", str(scn), "--out", str(out), "--no-report"]) == 0
    ours = [out / ".events.csv.k3j_9x0a.tmp", out / "figures" / ".report.html.abcdefgh.tmp"]
    theirs = [out / ".mine.tmp", out / "draft.tmp", out / ".events.csv.TOO-LONG-NAME.tmp"]
    for p in ours + theirs:
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"x" * 1000)                      # what kill -9 mid-write leaves
    assert all(is_temp_name(p.name) for p in ours) and not any(is_temp_name(p.name) for p in theirs)
    assert main(["run", str(scn), "--out", str(out), "--no-report"]) == 0
    assert not any(p.exists() for p in ours) and all(p.exists() for p in theirs)


def test_an_output_directory_in_use_is_refused_naming_the_holder(tmp_path, capsys):
    scn = write_scenario(tmp_path / "s.yaml", tiny())
    out = tmp_path / "out"
    with DirectoryLock(out, "supportsim sweep"):
        assert main(["run", str(scn), "--out", str(out)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"in use by process {os.getpid()}" in line and "supportsim sweep" in line
    assert main(["run", str(scn), "--out", str(out), "--no-report"]) == 0   # released


def test_report_dir_keeps_the_result_it_lives_beside(tmp_path):
    scn = write_scenario(tmp_path / "s.yaml", tiny())
    res = tmp_path / "res"
    assert main(["run", str(scn), "--out", str(res), "--no-report"]) == 0
    # the tables stay byte for byte (the report rewrites scenario.yaml: the same scenario)
    tables = {k: v for k, v in snapshot(res).items() if k.endswith((".parquet", ".csv"))}
    scenario = load_scenario(res / "scenario.yaml")
    assert main(["report", str(res), "--out", str(res)]) == 0
    after = snapshot(res)
    assert all(after[k] == v for k, v in tables.items()) and "report.html" in after
    assert load_scenario(res / "scenario.yaml") == scenario
    from sim import load_result

    assert len(load_result(res).tickets) > 0
    files = json.loads((res / "meta.json").read_text())["files"]
    assert "report.html" in files and "tickets.parquet" in files


def test_one_atomic_writer_honours_the_umask_and_leaves_nothing_on_failure(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
        os.umask(0o027)
        write_text(tmp_path / "b.txt", "x")
        assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o640
    finally:
        os.umask(old)

    def fails(p: Path) -> None:
        p.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(tmp_path / "a.txt", fails)
    assert (tmp_path / "a.txt").read_text() == "x"
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.txt"]


def test_result_report_and_event_files_share_one_mode(tmp_path):
    old = os.umask(0o022)
    try:
        scn = write_scenario(tmp_path / "s.yaml", tiny())
        assert main(["run", str(scn), "--out", str(tmp_path / "o"), "--events", "csv",
                     "--policy", "tiered"]) == 0
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "o").rglob("*")
             if p.is_file() and not p.name.startswith(".")}
    assert set(modes.values()) == {0o644}, modes


def test_save_from_python_refuses_a_foreign_directory(tmp_path):
    from sim import simulate

    (tmp_path / "keep.txt").write_text("mine")
    res = simulate(scenario_from_dict(tiny(), "t"), policies=["tiered"])
    with pytest.raises(UnsafeOutput):
        res.save(tmp_path)
    assert os.listdir(tmp_path) == ["keep.txt"]


# ====================================================================== 2. hangs and memory
def test_yaml_bombs_are_refused_at_once(tmp_path, capsys):
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))
    cases = {
        "laughs": (laughs, "once aliases (*name) are expanded"),       # 1 KB -> 9**10 values
        "deep_flow": ("a: " + "[" * 20000 + "]" * 20000 + "\n", "nested more than"),
        "deep_block": "".join("  " * i + f"k{i}:\n" for i in range(500)) + "  " * 500 + "x: 1\n",
        "recursive": ("a: &a [*a]\n", "contains itself"),
        "big": ("name: x\n" + "# padding\n" * 120_000, "a scenario may be at most"),
    }
    for name, case in cases.items():
        text, expected = case if isinstance(case, tuple) else (case, "nested more than")
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        assert main(["validate", str(path)]) == 2, name
        line = one_error_line(capsys.readouterr().err)
        assert expected in line and len(line) < 300, (name, line)


@pytest.mark.parametrize("path, value, expected", [
    ("horizon.days", 1e9, "horizon.days: Input should be less than or equal to 3660"),
    ("teams.0.agents", 2**63, "teams[0].agents: number too large"),
    ("teams.0.agents", 10**5, "teams[0].agents: Input should be less than or equal to 10000"),
    ("arrivals.per_hour", 1e7, "arrivals.per_hour: Input should be less than or equal to 1000000"),
    ("replications", 10**6, "replications: Input should be less than or equal to 100000"),
    ("teams.2.tier", 10**9, "teams[2].tier: Input should be less than or equal to 100"),
    ("issues.0.work", {"dist": "lognormal", "mean": 10, "cv": 1e300}, "issues[0].work.cv: number too large"),
    ("issues.0.work", {"dist": "lognormal", "mean": 10, "cv": 500}, "issues[0].work.cv: Input should be less than or equal to 100"),
    ("issues.0.work", {"dist": "gamma", "mean": 10, "cv": 1e-200}, "issues[0].work.cv: Input should be greater than or equal to"),
    ("issues.0.work", {"dist": "fixed", "value": 1e12}, "issues[0].work.value: Input should be less than or equal to"),
    ("issues.0.reopen_probability", 0.999999, "issues[0].reopen_probability: Input should be less than or equal to 0.99"),
    ("policies", {"swarming": {"max_helpers": 10**30}}, "policies.swarming.max_helpers: number too large"),
    ("seed", 2**64, "seed: Input should be less than or equal to"),
    ("start", "9999-12-30", "start: must be from 1900 on"),
    ("description", "x" * 20_000, "description: text of 20,000 characters"),
])
def test_every_number_is_bounded(path, value, expected):
    d = three_tier_dict()
    target = d
    parts = path.split(".")
    for p in parts[:-1]:
        target = target[int(p)] if p.isdigit() else target[p]
    target[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value
    problems = problems_of(d)
    assert any(expected in p for p in problems), problems


def test_many_issue_types_and_many_problems_stay_bounded():
    d = three_tier_dict()
    d["issues"] = [{"name": f"i{k}", "share": 1 / 1001, "tier": 1, "skill": "general",
                    "work": {"dist": "fixed", "value": "1"}} for k in range(1001)]
    problems = problems_of(d)
    assert any("issues: List should have at most 1000 items" in p for p in problems)
    d["issues"] = d["issues"][:400]
    problems = problems_of(d)
    assert len(problems) == 51 and "350 more problems" in problems[-1], problems[-3:]
    huge = {"dist": "empirical", "values": ["x" * 5000] * 1000}
    d = three_tier_dict()
    d["issues"][0]["work"] = huge
    assert all(len(p) < 400 for p in problems_of(d))       # a bounded repr, never the value


def test_work_estimate_warns_then_refuses_unless_forced(tmp_path, capsys, monkeypatch):
    scn = scenario_from_dict(three_tier_dict(), "t")
    est = workload.estimate_work(scn, 3, 2)
    assert est.runs == 6 and est.tickets == pytest.approx(12 * 24 * 4 * 6)
    assert est.agents == sum(t.agents for t in scn.teams) and est.issue_types == 3
    big = write_scenario(tmp_path / "big.yaml", three_tier_dict(replications=100_000))
    assert main(["run", str(big), "--no-report"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "this run is too big" in line and "--force" in line and "runs" in line
    assert main(["validate", str(big)]) == 0
    assert "run would refuse this" in capsys.readouterr().err
    # --force gets past the estimate (limits lowered so the forced run is tiny)
    monkeypatch.setattr(workload, "REFUSE", workload.Limits(100, 1e6, 1e15, 1e6))
    monkeypatch.setattr(workload, "WARN", workload.Limits(50, 1e6, 1e15, 1e6))
    small = write_scenario(tmp_path / "s.yaml", tiny())
    assert main(["run", str(small), "--no-report"]) == 2
    assert main(["run", str(small), "--no-report", "--force"]) == 0
    assert "large run" in capsys.readouterr().err


# =============================================================== 3. tracebacks -> one line
@pytest.mark.parametrize("args, data", [
    (["--days", "0.0001"], tiny()),
    ([], tiny(horizon={"days": 0.5, "warmup_days": 0.4999999})),
    ([], tiny(arrivals={"per_hour": 1e-300})),
])
def test_nothing_measured_is_one_line(tmp_path, capsys, args, data):
    path = write_scenario(tmp_path / "s.yaml", data)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), *args]) == 2
    assert "nothing was measured" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o" / "meta.json").exists()


@pytest.mark.parametrize("meta", ["[]", "{}", '{"seed": "1", "replications": 1, "policies": []}',
                                  "not json", '{"software": "supportsim", "kind": "report", "files": {}}'])
def test_a_malformed_meta_json_is_one_line(tmp_path, capsys, meta):
    scn = write_scenario(tmp_path / "s.yaml", tiny())
    res = tmp_path / "res"
    assert main(["run", str(scn), "--out", str(res), "--no-report", "--policy", "tiered"]) == 0
    (res / "meta.json").write_text(meta)
    assert main(["report", str(res), "--out", str(tmp_path / "rep")]) == 2
    one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("damage, words", [
    ({"meta.json": "[" * 100_000 + "]" * 100_000}, "nested too deeply"),
    ({"meta": {"replications": -5}}, "replications must be 1 to 100,000, got -5"),
    ({"meta": {"seed": 10**400}}, "seed must be 0 to"),
    ({"meta": {"policies": ["tiered", "nope"]}}, "policy 'nope' has no rows in teams.csv"),
    ({"teams.csv": "a,b\n1\n"}, "teams.csv lacks column(s) policy, replication, team"),
])
def test_a_damaged_result_directory_is_one_line_from_report(tmp_path, capsys, damage, words):
    """report DIR reads files anyone may have edited: each damage is one line naming the file,
    never a RecursionError or a KeyError from deep inside the analysis, nor a report that prints
    "over -5 replications"."""
    scn = write_scenario(tmp_path / "s.yaml", tiny())
    res = tmp_path / "res"
    assert main(["run", str(scn), "--out", str(res), "--no-report", "--policy", "tiered"]) == 0
    capsys.readouterr()
    for name, text in damage.items():
        if name == "meta":
            meta = json.loads((res / "meta.json").read_text())
            meta.update(text)
            (res / "meta.json").write_text(json.dumps(meta))
        else:
            (res / name).write_text(text)
    assert main(["report", str(res), "--out", str(tmp_path / "rep")]) == 2
    assert words in one_error_line(capsys.readouterr().err)
    if "meta.json" in damage:         # a later run into it: refused in one line as well
        assert main(["run", str(scn), "--out", str(res), "--no-report"]) == 2
        assert "holds no supportsim result" in one_error_line(capsys.readouterr().err)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_meta_json_that_never_ends_is_refused_not_read(tmp_path, capsys):
    scn = write_scenario(tmp_path / "s.yaml", tiny())
    res = tmp_path / "res"
    assert main(["run", str(scn), "--out", str(res), "--no-report", "--policy", "tiered"]) == 0
    capsys.readouterr()
    (res / "meta.json").unlink()
    (res / "meta.json").symlink_to("/dev/zero")
    with time_limit(60):
        assert main(["report", str(res), "--out", str(tmp_path / "rep")]) == 2
    assert "not a regular file" in one_error_line(capsys.readouterr().err)
    with time_limit(60):            # a later run reads at most 50 MB of it, then refuses
        assert main(["run", str(scn), "--out", str(res), "--no-report"]) == 2
    assert "holds no supportsim result" in one_error_line(capsys.readouterr().err)


def test_a_deeply_nested_sweep_manifest_is_one_line(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "n", "replications": 1, "seed": 1,
             "vary": {"arrivals.per_hour": [8]}, "policies": ["tiered"]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--out", str(out), "--workers", "1"]) == 0
    capsys.readouterr()
    (out / "sweep.json").write_text("[" * 100_000 + "]" * 100_000)
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith("error")]
    assert len(errors) == 1 and "unreadable manifest" in errors[0] and "Traceback" not in err, err


# ========================================================================= 4. injection
def test_names_never_become_spreadsheet_formulas_and_read_back_unchanged(tmp_path):
    evil = '=HYPERLINK("http://evil.example","x")'
    d = tiny()
    d["teams"][0]["name"] = evil
    d["segments"][0]["name"] = "+cmd|' /C calc'!A0"
    d["issues"][0]["name"] = "@SUM(1+1)"
    d["teams"][1]["name"] = "<script>alert(1)</script> | *bold*"
    path = write_scenario(tmp_path / "s.yaml", d)
    out = tmp_path / "o"
    assert main(["run", str(path), "--out", str(out), "--events", "csv"]) == 0
    for csv in out.glob("*.csv"):
        assert not formula_cells(csv), (csv.name, formula_cells(csv)[:3])
    from sim import load_result

    res = load_result(out)
    assert evil in set(res.teams["team"]) and res.scenario.teams[0].name == evil
    html = (out / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    md = (out / "summary.md").read_text()
    assert "<script>" not in md
    assert load_scenario(out / "scenario.yaml").teams[1].name == d["teams"][1]["name"]


def formula_cells(csv: Path) -> list[str]:
    """Cells (and column names) of ``csv`` a spreadsheet would run as a formula."""
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    cells = [*frame.columns, *frame.to_numpy().ravel()]
    return [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")
            or (c.startswith("-") and not c.lstrip("-").replace(".", "").replace("e", "").isdigit())]


def test_a_sweeps_regime_csv_never_holds_a_formula(tmp_path, capsys):
    # a varied text value, a team name and a parameter path from someone else's file
    evil = '=HYPERLINK("http://x","y")'
    d = tiny()
    d["teams"][0]["name"] = evil
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(d), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "evil", "replications": 1, "seed": 1,
             "vary": {"description": [evil, "plain"]}, "policies": ["tiered", "swarming"]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--out", str(out), "--workers", "1"]) == 0
    assert "wins on mean resolution time" in capsys.readouterr().out   # read back unescaped
    regime = out / "report" / "regime.csv"
    assert not formula_cells(regime), formula_cells(regime)[:3]
    from sim.outputs import csv_unescape_frame

    back = csv_unescape_frame(pd.read_csv(regime, keep_default_na=False))
    assert evil in set(back["description"])


def test_the_sweeps_overload_warning_is_a_number_not_a_sentence(tmp_path, capsys, monkeypatch):
    # the pre-run warning compares sim.scenario.offered_load with UNSTABLE_LOAD; rewording (or
    # translating) the validate warning cannot switch it off
    import sim.scenario
    from sim.cli.sweep_cmd import _warn_unstable
    monkeypatch.setattr(sim.scenario, "scenario_warnings", lambda scn: ["(reworded)"])
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "load", "replications": 1, "seed": 1,
             "vary": {"arrivals.per_hour": [1, 10_000]}, "policies": ["tiered"]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    from sim.sweep import load_sweep

    plan = load_sweep(tmp_path / "sweep.yaml")
    loads = [sim.scenario.offered_load(p.scenario) for p in plan.points]
    assert loads[0] < sim.scenario.UNSTABLE_LOAD <= loads[1]
    _warn_unstable(plan)
    assert "warning: 1 point(s) offer more work than the agents can do" in capsys.readouterr().err


def test_csv_escaping_is_one_reversible_helper():
    from sim.outputs import csv_unescape_frame

    frame = pd.DataFrame({"team": ["=1+1", "-x", "ok", "'quoted", None], "n": [-1.5, 2, 3, 4, 5]})
    safe = csv_safe_frame(frame)
    assert safe["team"].tolist()[:3] == ["'=1+1", "'-x", "ok"] and safe["n"].tolist()[0] == -1.5
    assert csv_unescape_frame(safe)["team"].tolist()[:4] == frame["team"].tolist()[:4]
    # one implementation: the event-log package re-exports it, it does not keep its own
    from sim.eventlog import safe as eventlog_safe
    from sim.outputs import cells

    assert eventlog_safe.csv_safe_frame is cells.csv_safe_frame
    assert eventlog_safe.comment_text is cells.comment_line
    assert eventlog_safe.uncsv_cell is cells.csv_unescape_text
    typed = pd.DataFrame({"s": pd.Series(["=a", "b", None], dtype="string"),
                          "c": pd.Categorical(["@x", "y", "y"]), "o": pd.Series([1, 2, 3], dtype=object),
                          "m": ["+1", 2, None]})
    out = csv_safe_frame(typed)
    assert out["s"].tolist()[:2] == ["'=a", "b"] and list(out["c"]) == ["'@x", "y", "y"]
    assert out["o"].tolist() == [1, 2, 3] and out["m"].tolist()[:2] == ["'+1", 2]
    assert cells.csv_unescape_text(out["s"].astype("string")).tolist()[:2] == ["=a", "b"]
    assert csv_safe_frame(frame[["n"]]) is not None and typed["s"].tolist()[0] == "=a"   # input untouched


# ====================================================================== 5. silent success
def test_a_hook_calling_exit_zero_never_passes_for_success(tmp_path, capsys):
    # owner: hardening (CLI side); the engine/run-path engineers turn hook BaseExceptions into
    # PolicyError inside the engine - either way `run` must not exit 0 with no output
    from sim.policies import registry
    from sim.policies.tiered import Tiered

    class ExitsZero(Tiered):
        name = "exits_zero"
        summary = "calls sys.exit(0) from a hook"

        def route(self, ticket):
            raise SystemExit(0)

    registry.register(ExitsZero)
    try:
        path = write_scenario(tmp_path / "s.yaml", tiny())
        out = tmp_path / "o"
        code = main(["run", str(path), "--policy", "exits_zero", "--out", str(out)])
    finally:
        registry.unregister("exits_zero")
    assert code != 0
    line = one_error_line(capsys.readouterr().err)
    assert "exit" in line.lower() or "SystemExit" in line
    assert not (out / "meta.json").exists()


# ======================================================================== 6. loose types
@pytest.mark.parametrize("value", [True, "10", " 5 ", [5], None])
def test_distribution_parameters_are_as_strict_as_every_other_number(value):
    for work in ({"dist": "exponential", "mean": value}, {"dist": "fixed", "value": value},
                 {"dist": "lognormal", "mean": 10, "cv": value},
                 {"dist": "uniform", "low": 1, "high": value}):
        d = three_tier_dict()
        d["issues"][0]["work"] = work
        problems = problems_of(d)
        assert any(p.startswith("case.yaml: issues[0].work.") for p in problems), (work, problems)


# ============================================================================== 9. names
@pytest.mark.parametrize("mutate, expected", [
    (lambda d: (d["teams"][0].update(name="Caf\u00e9"), d["teams"][1].update(name="Cafe\u0301")),
     "teams[1].name: duplicate name"),                                      # NFC vs NFD
    (lambda d: (d["teams"][0].update(name="Team\uff21"), d["teams"][1].update(name="teama")),
     "teams[1].name: duplicate name"),                                      # NFKC + case
    (lambda d: d["segments"][1].update(name="VIP "), "segments[1].name: duplicate name"),
    (lambda d: d["teams"][0].update(name="L\x001"), "teams[0].name: must not contain control"),
    (lambda d: d["issues"][0].update(name="how\u202eto"), "issues[0].name: must not contain"),
    (lambda d: d["teams"][0].update(name="   "), "teams[0].name: must not be blank"),
    (lambda d: d["teams"][1].update(skills=["general", ""]), "teams[1].skills[1]: String should have at least 1"),
    (lambda d: d["teams"][1].update(skills=["general", "general", "product"]),
     "teams[1].skills[1]: skill 'general' is listed twice"),
    (lambda d: d["teams"][2].update(skills=["General", "product", "engineering"]),
     "differs from 'general' only in case"),
])
def test_names_are_unique_printable_and_spelled_one_way(mutate, expected):
    d = three_tier_dict()
    mutate(d)
    problems = problems_of(d)
    assert any(expected in p for p in problems), problems


# ==================================================== sweep side (7. concurrency, 5. hangs)
# Fuller reproducers of the sweep side live in tests/test_execution.py (owner: run-path):
# two sweeps into one directory, shrunken sweeps, --task-timeout, SystemExit in a sweep, Dask
# without workers.  The two below check the shared pieces from the user's side.
def test_a_sweep_never_writes_into_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    # owner: hardening (sim/outputs) + run-path (sim/sweep/execute.py)
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "h", "replications": 1, "seed": 1,
             "vary": {"arrivals.per_hour": [8]}, "policies": ["tiered"]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    folder = tmp_path / "mine"
    (folder / "points").mkdir(parents=True)
    (folder / "points" / ".draft.abcdefgh.tmp").write_text("my notes")   # looks like a temporary
    (folder / "report").mkdir()
    (folder / "report" / "report.md").write_text("my report")
    before = snapshot(folder)
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--out", str(folder), "--workers", "1"]) == 2
    errors = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error")]
    assert len(errors) == 1 and "holds no sweep" in errors[0], errors
    assert snapshot(folder) == before and sorted(os.listdir(folder)) == ["points", "report"]


def test_a_hook_that_never_returns_is_stopped_by_task_timeout(tmp_path, capsys):
    # owner: run-path (sim/execution deadline); the CLI line: hardening
    with spinning_policy("hardening_spins") as spins:
        path = write_scenario(tmp_path / "s.yaml", tiny())
        with time_limit(60):
            code = main(["run", str(path), "--policy", spins.name, "--no-report", "--workers", "1",
                         "--task-timeout", "1"])
    assert code == 1
    one_error_line(capsys.readouterr().err)


def test_sensitivity_stops_a_hook_that_never_returns_and_counts_it_failed(tmp_path, capsys):
    # owner: hardening (sim/sensitivity on the run path, --task-timeout)
    with spinning_policy("hardening_spins_sens") as spins:
        path = write_scenario(tmp_path / "s.yaml", tiny())
        with time_limit(120):
            code = main(["sensitivity", str(path), "--policy", spins.name, "--workers", "1",
                         "--param", "frictions.swarm_coordination=0:1", "--task-timeout", "1",
                         "--out", str(tmp_path / "sens")])
    assert code == 0
    err = capsys.readouterr().err
    assert "run(s) failed" in err and "Traceback" not in err, err


@pytest.mark.parametrize("change, expected", [
    ({"vary": {"arrivals.per_hour": list(range(1, 101)), "teams[L1].agents": list(range(1, 102))}},
     "the grid has 10,100 points (100 x 101); a sweep may have at most 10,000"),
    ({"replications": 10**12}, "replications: Input should be less than or equal to 100000"),
    ({"seed": 10**30}, "seed: Input should be less than or equal to 9223372036854775807"),
])
def test_a_sweep_too_big_to_expand_is_one_line_at_once(tmp_path, capsys, change, expected):
    import time

    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "big", "replications": 1, "seed": 1,
             "vary": {"arrivals.per_hour": [8, 9]}, "policies": ["tiered"], **change}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    t0 = time.perf_counter()
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--out", str(tmp_path / "out")]) == 2
    assert time.perf_counter() - t0 < 20           # refused before expanding 10,100 points
    assert expected in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_a_sweep_of_many_bad_points_stops_checking_after_fifty(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "bad", "replications": 1, "seed": 1,
             "vary": {"teams[L1].agents": [0] * 5000}, "policies": ["tiered"]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--out", str(tmp_path / "out")]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error")]
    assert len(err) <= 52 and "stopped checking after 50 bad points (of 5,000)" in err[-1], err[-2:]


def test_staff_stops_a_hook_that_never_returns_in_one_line(tmp_path, capsys):
    # owner: hardening (staff --task-timeout; the search itself: sim/staffing)
    with spinning_policy("hardening_spins_staff") as spins:
        path = write_scenario(tmp_path / "s.yaml", tiny())
        with time_limit(120):
            code = main(["staff", str(path), "--policy", spins.name, "--workers", "1",
                         "--target", "resolution_mean_min<=600", "--task-timeout", "1",
                         "--out", str(tmp_path / "st")])
    assert code == 1
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith("error")]
    assert len(errors) == 1 and "took longer than 1 s (--task-timeout)" in errors[0], err
    assert "Traceback" not in err


def test_sensitivity_estimates_the_horizon_it_will_run(tmp_path, capsys, monkeypatch):
    # --days replaces the file's half day by 3000 days: the estimate must see 3000 days
    import sim.sensitivity.run

    def started(*args, **kwargs):
        raise AssertionError("the analysis started")

    monkeypatch.setattr(sim.sensitivity.run, "run_sensitivity", started)
    path = write_scenario(tmp_path / "s.yaml", tiny())
    assert main(["sensitivity", str(path), "--days", "3000", "--replications", "1000",
                 "--out", str(tmp_path / "sens")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "this run is too big" in line and "864,000 per run" in line, line


def test_a_damaged_sweep_run_file_is_one_line_saying_how_to_redo_it(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "d", "replications": 1, "seed": 1,
             "vary": {"arrivals.per_hour": [8, 9]}, "policies": ["tiered"]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["sweep", str(tmp_path / "sweep.yaml"), "--out", str(out), "--workers", "1"]
    assert main(argv) == 0
    damaged = sorted((out / "runs").rglob("*.parquet"))[0]
    damaged.write_bytes(b"garbage")
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith("error")]
    assert len(errors) == 1 and "unreadable run file" in errors[0] and "Traceback" not in err, err
    damaged.unlink()
    assert main(argv) == 0 and damaged.is_file()      # the run was redone


def test_parameter_paths_with_control_characters_or_equals_signs(tmp_path, capsys):
    from sim.sensitivity import ParamError, parse_param

    for text in ("frictions.swarm\ncoordination=0:1", "teams[L\x01].agents=1:2"):
        with pytest.raises(ParamError) as info:
            parse_param(text)
        assert "\n" not in str(info.value) and "\x01" not in str(info.value)
        assert "control characters are not allowed" in str(info.value)
    p = parse_param("teams[=HYPERLINK].agents=1:2")       # a name may hold '='; the range never does
    assert (p.path, p.low, p.high) == ("teams[=HYPERLINK].agents", 1.0, 2.0)
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "p", "replications": 1, "seed": 1,
             "vary": {"frictions.swarm\ncoordination": [0.1]}, "policies": ["tiered"]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--out", str(tmp_path / "out")]) == 2
    assert "'frictions.swarm\\ncoordination'" in one_error_line(capsys.readouterr().err)


def test_sweep_tasks_are_run_path_tasks(tmp_path):
    from sim.execution import RunTask
    from sim.sweep import load_sweep
    from sim.sweep.execute import pending_tasks
    from sim.sweep.store import Layout

    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "t", "replications": 2, "seed": 1,
             "vary": {"arrivals.per_hour": [8, 9]}, "policies": ["tiered", "swarming"]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    plan = load_sweep(tmp_path / "sweep.yaml")
    tasks = list(pending_tasks(plan, Layout(tmp_path / "out"), tickets=False))
    assert len(tasks) == 8 and all(type(t) is RunTask for t in tasks)
    assert tasks[0].key == (0, "tiered", 0) and tasks[-1].key == (1, "swarming", 1)
    assert {t.seed for t in tasks if t.key[0] == 1} == {plan.points[1].scenario.seed}


# ====================================================================== fuzz: mutations
EVIL = [None, True, False, "10", " 5 ", "", "\x00", "=X", "x" * 300, -1, 0, 0.5, 1e-300, 1e300,
        -1e300, 2**63, float("nan"), float("inf"), [], {}, [1, 2], {"dist": "fixed", "value": 1},
        {"dist": "lognormal", "mean": 5, "cv": 1e300}, 3, 1e6, 100_000, "tiered", "2026-01-05"]


def _paths(data, prefix=()):
    """Every (path, value) of the nested data, containers included."""
    yield prefix, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated(draw):
    """A valid scenario with 1-3 mutations at uniformly chosen places (a hypothesis-controlled
    random choice, so the mutations do not pile up on the first key the way a shrunk index
    would): a value replaced by a hostile one, a key deleted or added, a list item repeated,
    a number scaled by -1, 10 or a million."""
    data = draw(scenario_dicts(max_tiers=2, max_teams=3, max_issues=2, max_days=0.25,
                               operating_reality=True))
    rnd = draw(st.randoms(use_true_random=False))
    for _ in range(draw(st.integers(1, 3))):
        spots = [p for p, _ in _paths(data) if p]
        numbers = [p for p, v in _paths(data)
                   if p and isinstance(v, (int, float)) and not isinstance(v, bool)]
        path = rnd.choice(numbers if numbers and rnd.random() < 0.6 else spots)
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        how = rnd.choice(["set", "set", "scale", "scale", "delete", "extra", "double"])
        key = path[-1]
        value = parent[key]
        if how == "set":
            parent[key] = rnd.choice(EVIL)
        elif how == "delete":
            del parent[key]
        elif how == "extra" and isinstance(parent, dict):
            parent[rnd.choice(["colour", "dist", "name", "seed", "mean"])] = rnd.choice(EVIL)
        elif how == "double" and isinstance(value, list) and value:
            parent[key] = value + value[:1]
        elif how == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = value * rnd.choice([-1, 0, 10, 1e6])
    return data


@contextmanager
def time_limit(seconds: int):
    def hang(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=int(os.environ.get("HARDENING_EXAMPLES", "25")), deadline=None,
          derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=mutated())
def test_fuzz_mutated_scenarios_end_cleanly(data, tmp_path_factory, monkeypatch):
    """Each mutation ends in a clean refusal (exit 2, 'error:' lines only) or a real result:
    never a traceback, never a hang, never exit 0 without the summary."""
    # keep accepted runs tiny: a mutation asking for more is refused by the work estimate
    monkeypatch.setattr(workload, "REFUSE", workload.Limits(20_000, 50, 2**31, 2_000))
    d = tmp_path_factory.mktemp("fuzz")
    path = d / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with time_limit(60), redirect_stdout(out), redirect_stderr(err):
        code = main(["run", str(path), "--out", str(d / "o"), "--no-report", "--replications", "1",
                     "--workers", "1"])
    lines = err.getvalue().strip().splitlines()
    assert "Traceback" not in err.getvalue()
    assert all(ln.startswith(("error: ", "warning: ")) for ln in lines), lines
    if code == 0:
        assert "results written to" in out.getvalue() and (d / "o" / "meta.json").exists()
    else:
        assert code in (1, 2) and any(ln.startswith("error: ") for ln in lines), (code, lines)


def test_every_number_of_a_scenario_with_hostile_values_validates_cleanly():
    """Exhaustive companion of the fuzz test (validation only, so it is fast): each numeric
    leaf of a full scenario set to each hostile value is refused with one line per problem,
    or accepted as a scenario whose derived numbers (load, work estimate) are finite."""
    import copy
    import math

    from sim.scenario import scenario_warnings

    base = three_tier_dict()
    base["issues"][0]["reopen_probability"] = 0.1
    base["issues"][0]["reopen_delay"] = {"dist": "exponential", "mean": 60}
    base["teams"][0]["shift"] = {"start": 8, "end": 17}
    base["segments"][0].update(first_response_target=30, sla_penalty=5, customer_cost_per_hour=20)
    accepted = 0
    for path, v in list(_paths(base)):
        if not path or not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        for new in (0, -1, 1e-300, 1e300, 1e6, 2**63, True, "10", " 5 ", None, float("nan")):
            d = copy.deepcopy(base)
            parent = d
            for k in path[:-1]:
                parent = parent[k]
            parent[path[-1]] = new
            try:
                scn = scenario_from_dict(d, "case.yaml")
            except ScenarioError as exc:
                assert exc.problems and all(p.startswith("case.yaml: ") and "\n" not in p
                                            and len(p) < 600 for p in exc.problems), exc.problems
                continue
            accepted += 1
            scenario_warnings(scn)
            est = workload.estimate_work(scn, 3)
            assert all(math.isfinite(x) for x in (est.tickets, est.memory_bytes, est.seconds)), (path, new)
    assert accepted > 10      # the sweep does reach valid scenarios, not only refusals


def test_calibrate_never_overwrites_a_file_it_did_not_write(tmp_path, capsys):
    # owner: hardening (sim/outputs signed files); calibrate itself: eventlog
    log = ROOT / "examples" / "tickets_log.csv"
    mine = tmp_path / "scenario.yaml"
    mine.write_text("# the client's own scenario\nname: x\n")
    assert main(["calibrate", str(log), "--out", str(mine)]) == 2
    assert "was not written by supportsim" in one_error_line(capsys.readouterr().err)
    assert mine.read_text() == "# the client's own scenario\nname: x\n"
    fresh = tmp_path / "cal.yaml"
    assert main(["calibrate", str(log), "--out", str(fresh)]) == 0
    assert main(["calibrate", str(log), "--out", str(fresh)]) == 0          # its own: replaced
    load_scenario(fresh)
    fresh.write_text(fresh.read_text().replace("name:", "# tuned by hand\nname:", 1))
    assert main(["calibrate", str(log), "--out", str(fresh)]) == 2           # edited: the user's
    assert "# tuned by hand" in fresh.read_text()


def test_calibrate_reads_a_timestamp_with_nul_bytes_as_unreadable(tmp_path, capsys):
    # a NUL inside a timestamp's UTC offset hid the offset from the layout check; pandas still
    # found it and the naive/aware mix raised a TypeError (a traceback) in the reader
    from sim import simulate
    from sim.eventlog import events_frame

    res = simulate(scenario_from_dict(three_tier_dict(horizon={"days": 3, "warmup_days": 0})),
                   policies=["tiered"], replications=1, seed=3, trace=True)
    log = events_frame(res)
    worked = log.index[log["start_timestamp"].notna()][:3]
    text = log.astype({"start_timestamp": str, "time:timestamp": str})
    text.loc[worked, "start_timestamp"] = [v.replace("+", "+\x00\x00") for v in text.loc[worked, "start_timestamp"]]
    path = tmp_path / "log.csv"
    text.to_csv(path, index=False)
    assert "\x00" in path.read_text(encoding="utf-8")
    assert main(["calibrate", str(path), "--out", str(tmp_path / "c.yaml")]) == 0, capsys.readouterr().err
    assert "Traceback" not in capsys.readouterr().err
    load_scenario(tmp_path / "c.yaml")


@pytest.mark.parametrize("text, words", [
    ("x: " + "[" * 20_000 + "]" * 20_000 + "\n", "nested more than 64 levels deep"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n" for p, k in zip("abcdef", "bcdefg")),
     "more than 1,000,000 values once aliases"),
    ("columns: {case: a}\ncolumns: {case: b}\n", "appears twice"),
])
def test_a_mapping_file_is_read_as_boundedly_as_a_scenario(tmp_path, capsys, text, words):
    log = tmp_path / "log.csv"
    log.write_text("case:concept:name,concept:name,time:timestamp\nA,created,2026-01-05T00:00Z\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(text)
    assert main(["calibrate", str(log), "--mapping", str(mapping), "--out", str(tmp_path / "c.yaml")]) == 2
    assert words in one_error_line(capsys.readouterr().err)


def test_staff_never_writes_into_a_folder_that_is_not_its_own(tmp_path, capsys):
    # owner: hardening (the check) + staffing (sim/cli/staff_cmd.py)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "staffing.csv").write_text("my plan\n")
    scn = write_scenario(tmp_path / "s.yaml", mmc_dict(servers=2, per_hour=6, days=0.5,
                                                       warmup_days=0.05, replications=2))
    assert main(["staff", str(scn), "--out", str(folder), "--workers", "1",
                 "--target", "resolution_mean_min<=600"]) == 2
    assert "holds no staffing results" in one_error_line(capsys.readouterr().err)
    assert os.listdir(folder) == ["staffing.csv"] and (folder / "staffing.csv").read_text() == "my plan\n"


def test_a_sweep_refuses_when_its_points_together_are_too_big(tmp_path, capsys, monkeypatch):
    # owner: hardening (sim.workload.estimate_plan, called by the sweep command before it starts).
    # Every point alone is within the refusal limits; all three together pass the ticket limit.
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    sweep = {"base": "base.yaml", "name": "big", "replications": 1000, "seed": 1,
             "vary": {"arrivals.per_hour": [900, 1000, 1100]}, "policies": ["tiered", "swarming"]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep), encoding="utf-8")
    from sim.sweep import load_sweep

    plan = load_sweep(tmp_path / "sweep.yaml")
    alone = [workload.estimate_work(p.scenario, 2, 1000, keep_tickets=False) for p in plan.points]
    assert all(not e.exceeded(workload.REFUSE) for e in alone)
    assert sum(e.tickets for e in alone) > workload.REFUSE.tickets
    import sim.sweep

    def started(*args, **kwargs):   # were it not refused, 6,000 runs would start: fail instead
        raise AssertionError("the sweep started although its plan is above the limit")

    monkeypatch.setattr(sim.sweep, "run_sweep", started)
    out = tmp_path / "out"
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--out", str(out), "--workers", "1"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "this run is too big" in line and "more than 50 million simulated tickets" in line
    assert "--force" in line and "6000 runs" in line
    assert not out.exists()           # nothing ran, nothing written


def test_load_result_refuses_damaged_meta_from_python_too(tmp_path):
    """sim.load_result (the Python API, not only `report DIR`): one clear ValueError, no hang."""
    import os

    from sim import load_result

    meta = tmp_path / "meta.json"
    for text, says in (("[" * 100_000 + "]" * 100_000, "nested too deeply"),
                       ('{"seed": 1, "replications": -5, "policies": ["tiered"]}', "replications must be 1 to")):
        meta.write_text(text)
        with pytest.raises(ValueError, match=says):
            load_result(tmp_path)
    meta.unlink()
    os.mkfifo(meta)                       # reading it would block forever
    with pytest.raises(ValueError, match="not a regular file"):
        load_result(tmp_path)


def test_sensitivity_estimates_every_evaluation_not_one(tmp_path, capsys, monkeypatch):
    # one evaluation (100 days x 200 replications x the policies) is within the refusal limit,
    # the evaluations the analysis expects (ends, centre, bisection rounds per parameter) are not
    import sim.sensitivity.run
    from sim.workload import REFUSE, estimate_work

    def started(*args, **kwargs):
        raise AssertionError("the analysis started")

    monkeypatch.setattr(sim.sensitivity.run, "run_sensitivity", started)
    data = tiny()
    path = write_scenario(tmp_path / "s.yaml", data)
    one = estimate_work(scenario_from_dict({**data, "horizon": {"days": 100, "warmup_days": 0}}), 0, 200)
    assert one.tickets < REFUSE.tickets                  # the case: one evaluation would pass
    assert main(["sensitivity", str(path), "--days", "100", "--replications", "200",
                 "--out", str(tmp_path / "sens")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "this run is too big" in line and "--force" in line, line
    assert not (tmp_path / "sens").exists()


def test_control_characters_in_names_never_split_the_error_line(tmp_path, capsys):
    """A newline, NUL or escape in a path (or anything an error quotes) is shown escaped."""
    for name in ("two\nlines.yaml", "nul\x00.yaml", "esc\x1b[2J.yaml"):
        assert main(["validate", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "\x1b" not in err and "\x00" not in err, repr(err)
        assert ("file not found" in err) or ("NUL character" in err), err
