"""Real ITSM logs (issue 14): status-based rows, effort shared among an agent's open tickets,
support lines from group names, the arrival window of a snapshot extract, refusing mostly-unread
logs and overloaded teams, a short report, and names from logs escaped (issue 15)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim import load_scenario, scenario_from_dict, simulate
from sim.cli import main
from sim.eventlog import export_events
from sim.eventlog.calibrate import calibrate
from sim.eventlog.groups import tier_hint
from sim.eventlog.reader import LogError, Mapping
from sim.eventlog.status import classify, shared_effort
from sim.eventlog.status_demo import MAPPING_YAML, Params, status_log
from sim.eventlog.window import arrival_window

from conftest import three_tier_dict

ROOT = Path(__file__).resolve().parents[1]
Z = stats.norm.ppf(0.9995)          # two-sided 99.9 %, as in test_eventlog_calibrate
EXAMPLE = ROOT / "examples" / "status_log.csv"
EXAMPLE_MAP = ROOT / "examples" / "status_log_mapping.yaml"


@pytest.fixture(scope="module")
def example():
    """The shipped example is what make_status_log.py makes (so its truth is known)."""
    log, truth = status_log(seed=2026)
    shipped = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    assert shipped.equals(log.astype(str)), "examples/status_log.csv is stale: rerun the script"
    return truth, calibrate(EXAMPLE, Mapping.build(EXAMPLE_MAP))


def test_status_log_recovers_rates_tiers_and_effort(example):
    truth, cal = example
    p = truth.params
    # arrival rate: the dense window, not the snapshot's two-year span
    n = truth.tickets_in_window
    assert abs(cal.data["arrivals"]["per_hour"] - p.per_hour) <= Z * p.per_hour / math.sqrt(n)
    assert any("snapshot extract" in m for _, m in cal.report.lines)
    # issue tiers and effort: the effort drawn, not the (longer) time in progress
    issues = {i["name"]: i for i in cal.data["issues"]}
    for name, share, tier, mean, _cv in p.issues:
        assert issues[name]["tier"] == tier, name
        fit = cal.work_fits[name]
        assert abs(fit.sample_mean - mean) <= Z * fit.sample_sd / math.sqrt(fit.n), name
        assert abs(issues[name]["share"] - share) <= Z * math.sqrt(share * (1 - share) / n) + 1e-3
    assert truth.concurrent_share > 0.3          # agents really did work several tickets at once
    # teams at the level of support lines: at most 10, tiers from the names, agents per line
    teams = cal.data["teams"]
    assert len(teams) <= 10 and any(t["name"] == "3rd line" for t in teams)
    agents_per_line: dict[int, int] = {}
    for t in teams:
        assert t["tier"] == tier_hint(t["name"]), t
        agents_per_line[t["tier"]] = agents_per_line.get(t["tier"], 0) + t["agents"]
    truth_line: dict[int, int] = {}
    for _g, line, a in p.groups:
        truth_line[line] = truth_line.get(line, 0) + a
    assert agents_per_line == truth_line
    scn = scenario_from_dict(cal.data)
    from sim.scenario import scenario_warnings
    assert not [w for w in scenario_warnings(scn) if "unstable" in w]


def test_shared_effort_splits_an_agents_time():
    # agent A: [0, 60) and [30, 90) overlap for 30 minutes, each gets half of it
    res = np.array(["A", "A", "B", None], object)
    s = np.array([0.0, 30.0, 0.0, 0.0])
    e = np.array([60.0, 90.0, 10.0, 50.0])
    eff = shared_effort(res, s, e)
    assert eff == pytest.approx([45.0, 45.0, 10.0, 50.0])
    # never more agent time than the clock: A's effort adds up to its busy span
    assert eff[:2].sum() == pytest.approx(90.0)


@pytest.mark.parametrize("text, cls", [
    ("Accepted/In Progress", "work"), ("Queued/Awaiting Assignment", "queue"),
    ("Accepted/Wait - User", "customer_wait"), ("Accepted/Wait-Vendor", "customer_wait"),
    ("Completed/Resolved", "resolved"), ("Completed/Closed", "resolved"),
    ("Completed", "resolved"), ("pending", "customer_wait"), ("Cancelled", "cancelled"),
    ("Unmatched/Unmatched", None),
])
def test_common_status_names_are_recognised(text, cls):
    assert classify(text, {}) == cls


@pytest.mark.parametrize("name, tier", [
    ("G230 2nd", 2), ("V5 3rd", 3), ("L2", 2), ("Tier 3", 3), ("level 2", 2), ("2nd line", 2),
    ("second line", 2), ("Service Desk", None), ("G97", None),
])
def test_tier_hints_in_group_names(name, tier):
    assert tier_hint(name) == tier


def _status_rows(n_cases=40, groups=("Desk", "Experts"), status_col=True, agent_load=1,
                 every=200):
    """A small status log: each case queued at groups[0], worked, passed to groups[1], worked,
    resolved, one every ``every`` minutes. With agent_load > 1 (and cases close together) bob
    has several tickets in progress at once."""
    rows = []
    t0 = pd.Timestamp("2026-01-05T08:00Z")
    for i in range(n_cases):
        t = t0 + pd.Timedelta(minutes=every * i)
        c = f"INC{i:04d}"
        a1, a2 = f"ann{i % 3}", "bob"
        rows += [(c, "Queued", "Awaiting Assignment", t, groups[0], ""),
                 (c, "Accepted", "In Progress", t + pd.Timedelta(minutes=5), groups[0], a1),
                 (c, "Queued", "Awaiting Assignment", t + pd.Timedelta(minutes=15), groups[1], ""),
                 (c, "Accepted", "In Progress", t + pd.Timedelta(minutes=20), groups[1], a2),
                 (c, "Accepted", "Wait - User", t + pd.Timedelta(minutes=20 + 20 * agent_load),
                  groups[1], a2),
                 (c, "Accepted", "In Progress", t + pd.Timedelta(minutes=100 + 20 * agent_load),
                  groups[1], a2),
                 (c, "Completed", "Resolved", t + pd.Timedelta(minutes=100 + 30 * agent_load),
                  groups[1], a2)]
    df = pd.DataFrame(rows, columns=["id", "Status", "Sub", "When", "Team", "Who"])
    df["When"] = df["When"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if not status_col:
        df["Status"] = df["Status"] + "/" + df["Sub"]
        df = df.drop(columns=["Sub"])
    return df


COLS = ["--map", "case=id", "--map", "activity=Status", "--map", "timestamp=When",
        "--map", "group=Team", "--map", "resource=Who"]


def test_status_rows_become_work_queue_and_customer_wait(tmp_path):
    path = tmp_path / "s.csv"
    _status_rows().to_csv(path, index=False)
    m = Mapping.build(pairs=["case=id", "activity=Status", "timestamp=When", "group=Team",
                             "resource=Who", "status=Sub"])
    cal = calibrate(path, m)
    c = cal.cases.set_index("case")
    assert (c["outcome"] == "resolved").all()
    # work at the resolving team: 20 + 10 minutes in progress; the 80-minute wait is not work
    assert cal.work_fits["all"].sample_mean == pytest.approx(30.0)
    assert c["customer_wait_min"].eq(80.0).all() and c["queued_min"].eq(10.0).all()
    assert c["handoffs"].eq(1).all()
    teams = {t["name"]: t for t in cal.data["teams"]}
    assert teams["Desk"]["tier"] == 1 and teams["Experts"]["tier"] == 2
    # the desk's 10 minutes before passing it on are its diagnose time
    assert teams["Desk"]["diagnose"] == {"dist": "fixed", "value": 10.0}
    # the same log with activity and status in one column ('Accepted/In Progress')
    path2 = tmp_path / "s2.csv"
    _status_rows(status_col=False).to_csv(path2, index=False)
    out = tmp_path / "s2.yaml"
    assert main(["calibrate", str(path2), "--out", str(out), *COLS]) == 0
    assert load_scenario(out).issues[0].work.value == pytest.approx(30.0)


def test_statuses_in_the_lifecycle_column_need_no_mapping(tmp_path):
    """The public BPI incident logs: concept:name Accepted, lifecycle:transition In Progress."""
    df = _status_rows().rename(columns={"id": "case:concept:name", "Status": "concept:name",
                                        "Sub": "lifecycle:transition", "When": "time:timestamp",
                                        "Team": "org:group", "Who": "org:resource"})
    path = tmp_path / "bpi.csv"
    df.to_csv(path, index=False)
    cal = calibrate(path)
    assert any("lifecycle:transition holds statuses" in m for _, m in cal.report.lines)
    assert cal.work_fits["all"].sample_mean == pytest.approx(30.0)
    assert (cal.cases["outcome"] == "resolved").all()


def test_statuses_section_and_status_flag(tmp_path):
    df = _status_rows()
    df["Sub"] = df["Sub"].replace({"Wait - User": "With-Vendor  Team", "In Progress": "Hacking"})
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    mp = tmp_path / "m.yaml"
    mp.write_text("columns: {case: id, activity: Status, timestamp: When, group: Team, "
                  "resource: Who, status: Sub}\nstatuses: {work: [Hacking], "
                  "customer_wait: with - vendor team}\n", encoding="utf-8")
    cal = calibrate(path, Mapping.build(mp))
    assert cal.work_fits["all"].sample_mean == pytest.approx(30.0)
    out = tmp_path / "o.yaml"
    argv = ["calibrate", str(path), "--out", str(out), *COLS, "--map", "status=Sub",
            "--status", "Accepted/Hacking=work", "--status", "With-Vendor Team=customer_wait"]
    assert main(argv) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("statuses: {working: [x]}\n", encoding="utf-8")
    with pytest.raises(LogError, match="unknown status class 'working'"):
        Mapping.build(bad)


def test_effort_is_shared_among_an_agents_open_tickets(tmp_path):
    """bob has up to 3 tickets in progress at once: his time is split, not counted 3 times."""
    path = tmp_path / "s.csv"
    _status_rows(agent_load=3, every=30).to_csv(path, index=False, sep=";")
    m = Mapping.build(pairs=["case=id", "activity=Status", "timestamp=When", "group=Team",
                             "resource=Who", "status=Sub"])
    cal = calibrate(path, m, allow_overload=True)
    rows = cal.cases
    elapsed = 3 * 20 + 10           # minutes in progress at Experts per ticket
    assert cal.work_fits["all"].sample_mean < elapsed
    # bob's total effort never exceeds the clock time he had any ticket open
    intervals = []
    for i in range(40):
        t = 30 * i
        intervals += [(t + 20, t + 80), (t + 100 + 60, t + 100 + 90)]
    busy = _union(intervals)
    assert cal.work_fits["all"].sample_mean * len(rows) <= busy + 1e-6


def _union(iv):
    iv = sorted(iv)
    total, cur_s, cur_e = 0.0, *iv[0]
    for s, e in iv[1:]:
        if s > cur_e:
            total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    return total + cur_e - cur_s


def test_group_pattern_rules_and_max_teams(tmp_path):
    df = _status_rows(groups=("EMEA-desk-L1", "DB-team-L3"))
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    base = ["case=id", "activity=Status", "timestamp=When", "group=Team", "resource=Who",
            "status=Sub"]
    got = calibrate(path, Mapping.build(pairs=base, group_pattern=r"^(?P<team>[A-Z]+)-"))
    assert {t["name"]: t["tier"] for t in got.data["teams"]} == {"EMEA": 1, "DB": 2}
    mp = tmp_path / "m.yaml"
    mp.write_text("groups:\n  - {match: '^EMEA', team: Service desk, tier: 1}\n"
                  "  - {match: 'DB', team: Database, tier: 3}\n", encoding="utf-8")
    got = calibrate(path, Mapping.build(mp, pairs=base))
    assert {t["name"] for t in got.data["teams"]} == {"Service desk", "Database"}
    # many small groups of one line are merged into the line
    df = pd.concat([_status_rows(groups=("Desk 1st", f"G{k} 2nd")).assign(
        id=lambda d, k=k: d["id"] + f"-{k}") for k in range(12)])
    df.to_csv(path, index=False)
    got = calibrate(path, Mapping.build(pairs=base), max_teams=4)
    names = {t["name"] for t in got.data["teams"]}
    assert len(names) <= 4 and "2nd line" in names and "Desk 1st" in names
    assert _count(got.report, "merged into their line") >= 9
    assert {t["name"]: t["tier"] for t in got.data["teams"]}["2nd line"] == 2
    # no names with a line: merged in the order the handoffs give, tiers from the handoffs
    df = pd.concat([_status_rows(groups=("Desk", f"G{k}")).assign(
        id=lambda d, k=k: d["id"] + f"-{k}") for k in range(12)])
    df.to_csv(path, index=False)
    got = calibrate(path, Mapping.build(pairs=base), max_teams=4)
    tiers = {t["name"]: t["tier"] for t in got.data["teams"]}
    assert len(tiers) <= 4 and tiers["Desk"] == 1
    assert {v for k, v in tiers.items() if k != "Desk"} == {2}
    assert any(k.endswith("merged") for k in tiers)


def _count(report, needle):
    hits = [c for c, m in report.lines if needle in m]
    assert len(hits) == 1, (needle, report.text())
    return hits[0]


def test_snapshot_window_and_a_flat_log():
    rng = np.random.default_rng(4)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    old = t0 + pd.to_timedelta(np.sort(rng.uniform(0, 600, 30)), unit="D")
    dense_start = t0 + pd.Timedelta(days=600)
    new = dense_start + pd.to_timedelta(np.sort(rng.uniform(0, 30, 3000)), unit="D")
    w = arrival_window(pd.Series(list(old) + list(new)))
    assert w.dense and w.snapshot
    # days are counted from the first creation: the window opens within a day of the truth
    assert abs((w.start - dense_start).total_seconds()) <= 86400 and w.tickets >= 2850
    assert abs(w.tickets / w.days - 100) <= Z * 100 / math.sqrt(3000) + 100 * 2 / 30
    flat = t0 + pd.to_timedelta(np.sort(rng.uniform(0, 30, 3000)), unit="D")
    assert not arrival_window(pd.Series(flat)).dense


def _activity_log(tmp_path, n=30, junk=0, work=20.0, agents=1):
    rows = []
    t0 = pd.Timestamp("2026-01-05T08:00Z")
    for i in range(n):
        t = t0 + pd.Timedelta(minutes=30 * i)
        c = f"C{i}"
        rows += [(c, "created", t, None, "T", f"a{i % agents}"),
                 (c, "worked", t + pd.Timedelta(minutes=work), t, "T", f"a{i % agents}"),
                 (c, "resolved", t + pd.Timedelta(minutes=work), None, "T", f"a{i % agents}")]
        rows += [(c, "Note added", t + pd.Timedelta(minutes=1), None, "T", "x")] * junk
    df = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "time:timestamp",
                                     "start_timestamp", "org:group", "org:resource"])
    # junk rows differ in time so they are not duplicates
    df["time:timestamp"] = df["time:timestamp"] + pd.to_timedelta(np.arange(len(df)), unit="ms")
    path = tmp_path / "log.csv"
    df.to_csv(path, index=False)
    return path


def test_mostly_unread_log_is_refused_unless_allow_partial(tmp_path, capsys):
    path = _activity_log(tmp_path, junk=4)
    out = tmp_path / "s.yaml"
    assert main(["calibrate", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "120 of 210 rows (57%)" in err[0] and "--allow-partial" in err[0]
    assert not out.exists()
    assert main(["calibrate", str(path), "--out", str(out), "--allow-partial"]) == 0
    printed = capsys.readouterr().out
    assert "rows ignored out of 210" in printed


def test_overloaded_team_is_refused_unless_allow_overload(tmp_path, capsys):
    # one agent, 80 minutes of work every 30 minutes: offered load 267 %
    path = _activity_log(tmp_path, work=80.0)
    out = tmp_path / "s.yaml"
    assert main(["calibrate", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "team 'T'" in err[0] and "--allow-overload" in err[0], err
    assert "267%" in err[0]
    assert main(["calibrate", str(path), "--out", str(out), "--allow-overload"]) == 0
    assert "ASSUMPTION: offered load 267% exceeds capacity" in out.read_text(encoding="utf-8")


def test_report_is_short_unless_verbose_and_the_file_keeps_everything(tmp_path, capsys):
    out = tmp_path / "s.yaml"
    argv = ["calibrate", str(EXAMPLE), "--mapping", str(EXAMPLE_MAP), "--out", str(out)]
    assert main(argv) == 0
    short = capsys.readouterr().out.splitlines()
    assert len(short) <= 41 and "--verbose" in short[-2]
    assert main(argv + ["--verbose"]) == 0
    full = capsys.readouterr().out.splitlines()
    assert len(full) > len(short)
    header = [x for x in out.read_text(encoding="utf-8").splitlines() if x.startswith("#   ")]
    assert len(header) >= len(full) - 1
    text = out.read_text(encoding="utf-8")
    for line in text.splitlines():          # every estimate keeps its comment
        if line.startswith("  - {name:"):
            assert "  # " in line, line


def test_names_from_a_log_cannot_inject_yaml_or_spreadsheet_formulas(tmp_path):
    path = _activity_log(tmp_path, junk=1)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["org:group"] = '=HYPERLINK("http://x.invalid","x")'
    # an unknown activity's name goes into the report, and so into the YAML header's comments
    df["concept:name"] = df["concept:name"].replace(
        {"Note added": "Note\nlearning: {swarms_to_learn: 1, up_to_tier: 1}\r\n"})
    df["case:issue"] = "bad\nlearning: {swarms_to_learn: 1, up_to_tier: 1}\n# x"
    df.to_csv(path, index=False)
    out = tmp_path / "s.yaml"
    assert main(["calibrate", str(path), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert "learning" not in data                       # the newline did not add a key
    assert not any(line.startswith("learning") for line in text.splitlines())
    assert "Note\\nlearning: {swarms_to_learn: 1, up_to_tier: 1}" in text   # escaped
    scn = load_scenario(out)
    # the scenario takes no control characters in names: the newline became a space
    assert scn.learning is None and scn.issues[0].name.startswith("bad learning")
    assert _count(calibrate(path).report, "issue names with control or invisible") == 1
    # a supportsim CSV export with that team: the cell cannot run as a formula
    d = three_tier_dict(horizon={"days": 0.3, "warmup_days": 0})
    d["teams"][0]["name"] = '=HYPERLINK("http://x.invalid","x")'
    res = simulate(scenario_from_dict(d), policies=["tiered"], replications=1, trace=True)
    csv = export_events(res, tmp_path / "ev.csv")[0]
    raw = pd.read_csv(csv, dtype=str, keep_default_na=False)
    groups = set(raw["org:group"]) - {""}
    assert "'=HYPERLINK(\"http://x.invalid\",\"x\")" in groups
    assert not any(v.startswith(("=", "+", "-", "@")) for col in raw for v in raw[col])
    # ... and calibrate reads the name back as it was
    cal = calibrate(csv)
    assert '=HYPERLINK("http://x.invalid","x")' in {t["name"] for t in cal.data["teams"]}


def test_dates_outside_the_calendar_are_one_line_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "old.csv"
    path.write_text("case:concept:name,concept:name,time:timestamp\nA,created,1500-01-01T00:00Z\n"
                    "A,resolved,2026-01-05T01:00Z\nB,created,2026-01-05T00:00Z\n"
                    "B,resolved,2026-01-05T02:00Z\nC,created,2026-01-05T03:00:00\n"
                    "C,resolved,9999-12-30T00:00:00\n", encoding="utf-8")
    cal = calibrate(path)
    assert _count(cal.report, "dates outside 1678-2261") == 2
    # the export side: a start whose log would leave the calendar is one line, exit 2
    d = three_tier_dict(horizon={"days": 1, "warmup_days": 0}, start="9999-12-30T00:00:00+00:00")
    scn = tmp_path / "far.yaml"
    scn.write_text(yaml.safe_dump(d), encoding="utf-8")
    rc = main(["run", str(scn), "--policy", "tiered", "--replications", "1",
               "--out", str(tmp_path / "r"), "--events"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "start" in err[0], err      # refused when loading
    # and the exporter's own guard, for a scenario that did not come through validation
    from types import SimpleNamespace

    from sim.eventlog import scenario_start
    from sim.scenario import ScenarioError
    with pytest.raises(ScenarioError, match="outside the dates an event log can hold"):
        scenario_start(SimpleNamespace(start="9999-12-30T00:00:00+00:00", horizon_min=1440.0))
    assert str(scenario_start(SimpleNamespace(start=None, horizon_min=1440.0))).startswith(
        "2026-01-05")


def test_mapping_yaml_of_the_example_is_what_the_generator_writes():
    assert EXAMPLE_MAP.read_text(encoding="utf-8") == MAPPING_YAML
    assert Params().groups[0][0] == "S1 1st"


def test_rare_issue_types_are_merged_per_tier(tmp_path):
    path = _activity_log(tmp_path, n=60)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["case:issue"] = df["case:concept:name"].str.slice(1).astype(int).mod(20).map("I{:02d}".format)
    df.to_csv(path, index=False)
    cal = calibrate(path, max_issues=12)
    names = [i["name"] for i in cal.data["issues"]]
    assert len(names) == 12 and "other (tier 1)" in names
    assert sum(i["share"] for i in cal.data["issues"]) == pytest.approx(1.0)
    assert _count(cal.report, "rare issue types merged") == 9
    assert "9 rare issue types merged into one" in cal.comments["issues.other (tier 1)"]
    assert len(calibrate(path, max_issues=None).data["issues"]) == 20


def test_support_line_from_the_agents_role(tmp_path):
    df = _status_rows(groups=("Desk", "Experts"))
    df["Role"] = np.where(df["Team"] == "Desk", "First line agent", "Tier 3 engineer")
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    got = calibrate(path, Mapping.build(pairs=["case=id", "activity=Status", "timestamp=When",
                                               "group=Team", "resource=Who", "status=Sub",
                                               "role=Role"]))
    assert {t["name"]: t["tier"] for t in got.data["teams"]} == {"Desk": 1, "Experts": 2}
    assert any("2 by role" in m for _, m in got.report.lines)


def test_a_log_without_issue_types_still_escalates_as_it_did(tmp_path):
    """No issue column, two lines: half the tickets resolved at the 1st line, half passed to the
    2nd. One issue type 'all' would be resolved at tier 1 - nobody escalates, the 2nd line gets
    no work and the 1st line all of it. The types are the line that resolved each ticket."""
    rows = []
    t0 = pd.Timestamp("2026-01-05T08:00Z")
    for i in range(60):
        t, c = t0 + pd.Timedelta(minutes=90 * i), f"INC{i:04d}"
        rows += [(c, "Queued", "Awaiting Assignment", t, "Desk 1st", ""),
                 (c, "Accepted", "In Progress", t + pd.Timedelta(minutes=5), "Desk 1st",
                  f"ann{i % 2}")]
        if i % 2:
            rows += [(c, "Queued", "Awaiting Assignment", t + pd.Timedelta(minutes=15),
                      "Apps 2nd", ""),
                     (c, "Accepted", "In Progress", t + pd.Timedelta(minutes=20), "Apps 2nd",
                      "bob"),
                     (c, "Completed", "Resolved", t + pd.Timedelta(minutes=60), "Apps 2nd", "bob")]
        else:
            rows.append((c, "Completed", "Resolved", t + pd.Timedelta(minutes=25), "Desk 1st",
                         f"ann{i % 2}"))
    df = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "lifecycle:transition",
                                     "time:timestamp", "org:group", "org:resource"])
    df["time:timestamp"] = df["time:timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    path = tmp_path / "noissue.csv"
    df.to_csv(path, index=False)
    cal = calibrate(path)
    issues = {i["tier"]: i for i in cal.data["issues"]}
    assert set(issues) == {1, 2}
    assert issues[1]["share"] == pytest.approx(0.5) and issues[2]["share"] == pytest.approx(0.5)
    assert issues[1]["work"] == {"dist": "fixed", "value": 20.0}
    assert issues[2]["work"] == {"dist": "fixed", "value": 40.0}
    implied = next(m for _, m in cal.report.lines if "implied by the fitted tiers" in m)
    assert implied.endswith("0.500")
    assert "issue type column" in cal.comments["issues"]
