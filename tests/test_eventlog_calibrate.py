"""Calibration from event logs: round trip (simulate -> export -> calibrate -> simulate),
robustness to real-export defects, column mappings, and one-line errors."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import load_scenario, scenario_from_dict, simulate
from sim.cli import main
from sim.eventlog import events_frame, export_events
from sim.eventlog import vocabulary as V
from sim.eventlog.calibrate import calibrate
from sim.eventlog.demo import realistic_log
from sim.eventlog.reader import LogError, Mapping

ROOT = Path(__file__).resolve().parents[1]
Z = stats.norm.ppf(0.9995)       # two-sided 99.9 %: a deterministic test that is not knife-edge
LOG_DAYS = 20


@pytest.fixture(scope="module")
def original():
    return load_scenario(ROOT / "scenarios" / "default.yaml")


@pytest.fixture(scope="module")
def log_run(original, tmp_path_factory):
    """One 20-day tiered replication of the default scenario, exported as CSV, Parquet, XES."""
    scn = original.replace(horizon={"days": LOG_DAYS, "warmup_days": 0})
    res = simulate(scn, policies=["tiered"], replications=1, seed=3, trace=True)
    out = tmp_path_factory.mktemp("log")
    paths = {p.suffix: p for p in export_events(res, out, "csv")}
    return res, paths


@pytest.fixture(scope="module")
def cal(log_run):
    return calibrate(log_run[1][".csv"])


def test_recovers_arrival_rate(original, cal):
    n = len(cal.cases)
    rate = cal.data["arrivals"]["per_hour"]
    true = original.arrivals.per_hour
    # Poisson count: the rate estimate's standard error is rate / sqrt(n)
    assert abs(rate - true) <= Z * true / math.sqrt(n)


def test_recovers_issue_shares(original, cal):
    n = len(cal.cases)
    shares = {i["name"]: i["share"] for i in cal.data["issues"]}
    assert math.isclose(sum(shares.values()), 1.0, abs_tol=1e-9)
    for issue in original.issues:
        p = issue.share
        assert abs(shares[issue.name] - p) <= Z * math.sqrt(p * (1 - p) / n) + 1e-4, issue.name


def test_recovers_mean_work_times_and_structure(original, cal):
    issues = {i["name"]: i for i in cal.data["issues"]}
    for issue in original.issues:
        fit = cal.work_fits[issue.name]
        half = Z * fit.sample_sd / math.sqrt(fit.n)
        assert abs(fit.sample_mean - issue.work.mean) <= half, issue.name
        # the fitted distribution written into the scenario has the same mean, within the bound
        assert abs(issues[issue.name]["work"]["mean"] - issue.work.mean) <= half, issue.name
        assert issues[issue.name]["work"]["dist"] == "lognormal"     # the true family wins AIC
        assert issues[issue.name]["tier"] == issue.tier
    teams = {t["name"]: t for t in cal.data["teams"]}
    for team in original.teams:
        got = teams[team.name]
        assert got["tier"] == team.tier and got["agents"] == team.agents
        assert got["cost_per_hour"] == pytest.approx(team.cost_per_hour, abs=0.01)
        assert ("diagnose" in got) == (team.diagnose is not None)
    fr = cal.data["frictions"]
    assert fr["handoff"] == {"dist": "fixed", "value": 5.0}
    assert fr["repeat"] == {"dist": "fixed", "value": 6.0}
    segs = {s["name"]: s for s in cal.data["segments"]}
    assert segs["strategic"]["priority"] < segs["standard"]["priority"]
    assert "patience" not in segs["standard"]
    # exponential patience: k abandonments over T exposed minutes; exact chi-square CI of the mean
    c = cal.cases[cal.cases["segment"] == "strategic"]
    k, exposure = int((c["outcome"] == "abandoned").sum()), c["queued_min"].sum()
    lo = 2 * exposure / stats.chi2.ppf(0.9995, 2 * k)
    hi = 2 * exposure / stats.chi2.ppf(0.0005, 2 * k)
    assert lo <= 240 <= hi
    assert segs["strategic"]["patience"]["mean"] == pytest.approx(exposure / k, rel=1e-3)


def test_every_format_gives_the_same_scenario(original, tmp_path):
    scn = original.replace(horizon={"days": 3, "warmup_days": 0})
    res = simulate(scn, policies=["tiered"], replications=1, seed=8, trace=True)
    paths = export_events(res, tmp_path, "csv,parquet,xes")
    ref = calibrate(paths[0]).data
    for path in paths[1:]:
        other = calibrate(path).data
        a = {k: v for k, v in ref.items() if k != "description"}
        b = {k: v for k, v in other.items() if k != "description"}
        assert a == b, path.suffix


def _batch_se(values: np.ndarray, times: np.ndarray, batches: int) -> float:
    """Standard error of a mean from batch means over time (tickets are correlated in a queue)."""
    edges = np.linspace(times.min(), times.max() + 1e-9, batches + 1)
    idx = np.digitize(times, edges) - 1
    means = np.array([values[idx == b].mean() for b in range(batches) if (idx == b).any()])
    return float(means.std(ddof=1) / math.sqrt(len(means)))


def test_calibrated_scenario_reproduces_tiered(original, log_run, cal, tmp_path):
    """The calibrated scenario, simulated under tiered, matches the original's mean resolution
    time and handoffs per ticket.

    Tolerance: Z standard errors of the difference, where the variance adds (a) both
    simulations' replication variance and (b) the sampling error of the log the calibration
    was estimated from (batch means over days for resolution time; per-ticket for handoffs) -
    the calibrated parameters carry that error into the calibrated model.
    """
    out = tmp_path / "calibrated.yaml"
    out.write_text(cal.yaml_text(), encoding="utf-8")
    calibrated = load_scenario(out)              # what the user gets: the written YAML
    horizon = {"days": 20, "warmup_days": 2}
    reps = 8
    a = simulate(original.replace(horizon=horizon), policies=["tiered"], replications=reps,
                 seed=101).per_replication
    b = simulate(calibrated.replace(horizon=horizon), policies=["tiered"], replications=reps,
                 seed=202).per_replication
    cases = cal.cases
    done = cases[cases["outcome"] == "resolved"]
    arr_min = (done["arrival"] - done["arrival"].min()).dt.total_seconds().to_numpy() / 60
    se_log = {
        "resolution_mean_min": _batch_se(done["resolution_min"].to_numpy(), arr_min, LOG_DAYS),
        "handoffs_per_ticket": float(cases["handoffs"].std(ddof=1) / math.sqrt(len(cases))),
    }
    for metric, se_l in se_log.items():
        x, y = a[metric].to_numpy(), b[metric].to_numpy()
        se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y) + se_l**2)
        assert abs(x.mean() - y.mean()) <= Z * se, (metric, x.mean(), y.mean(), se)


def test_written_yaml_is_valid_and_marks_assumptions(small_log, tmp_path, capsys):
    log = _csv(small_log, tmp_path / "log.csv")
    out = tmp_path / "s.yaml"
    assert main(["calibrate", str(log), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    scn = load_scenario(out)
    assert scn.arrivals.per_hour == calibrate(log).data["arrivals"]["per_hour"]
    for what in ("seed", "horizon", "replications", "policies", "swarm_overhead"):
        assert any(line.startswith(what) or what in line for line in text.splitlines()
                   if "# ASSUMPTION:" in line), what
    printed = capsys.readouterr().out
    assert "arrival rate" in printed and "work time of how_to" in printed


def _count(report, needle: str) -> int:
    hits = [c for c, m in report.lines if needle in m]
    assert len(hits) == 1, (needle, report.text())
    return hits[0]


@pytest.fixture(scope="module")
def small_log(original):
    scn = original.replace(horizon={"days": 3, "warmup_days": 0})
    res = simulate(scn, policies=["tiered"], replications=1, seed=5, trace=True)
    return events_frame(res)


def test_real_export_defects_are_counted_and_survived(small_log, tmp_path):
    log, d = realistic_log(small_log, seed=3)
    path = tmp_path / "real.csv"
    log.to_csv(path, index=False)
    cal = calibrate(path)
    r = cal.report
    assert _count(r, "duplicate rows") == d.duplicates
    assert _count(r, "UTC offset other than 0") == d.offset_rows
    assert _count(r, "without a time zone") == d.naive_rows
    assert _count(r, "never completed") == d.open_activities
    assert _count(r, "ending before they start") == d.swapped_times
    assert _count(r, "before their ticket was created") == d.skewed_before_created
    natural_open = small_log.groupby(V.CASE)[V.ACTIVITY].apply(
        lambda a: not ({V.RESOLVED, V.ABANDONED} & set(a))).sum()
    assert _count(r, "without a resolved/abandoned") == natural_open + d.lost_resolved
    # still a usable, valid scenario, with the same tickets
    assert len(cal.cases) == small_log[V.CASE].nunique()
    scenario_from_dict(cal.data)
    # offsets were converted, not misread: every ticket's creation time survives exactly
    created = small_log[small_log[V.ACTIVITY] == V.CREATED][V.TIMESTAMP].sort_values().to_numpy()
    got = cal.cases["arrival"].sort_values().to_numpy()
    assert (np.abs(created - got) <= np.timedelta64(1, "ms")).all()


def test_shipped_example_log_calibrates(tmp_path):
    out = tmp_path / "ex.yaml"
    assert main(["calibrate", str(ROOT / "examples" / "tickets_log.csv"), "--out", str(out)]) == 0
    scn = load_scenario(out)
    assert [t.name for t in sorted(scn.teams, key=lambda t: t.tier)] == ["L1", "L2", "L3"]
    # the example keeps the per-activity cost column: the README's step 3 shows real labour costs
    original = {t.name: t.cost_per_hour for t in load_scenario(ROOT / "scenarios" / "default.yaml").teams}
    got = {t.name: t.cost_per_hour for t in scn.teams}
    assert got == pytest.approx(original, abs=0.01)        # costs are rounded to cents in the log
    assert "cost_per_hour 0" not in out.read_text(encoding="utf-8")


def test_column_mapping_activity_names_and_local_time(small_log, tmp_path):
    """A log in its own vocabulary and wall-clock time zone, read with a mapping."""
    names = {V.CREATED: "Ticket Created", V.RESOLVED: "Ticket Closed", V.HANDED_OFF: "Escalate",
             V.WORKED: "Work on it"}
    df = small_log[[V.CASE, V.ACTIVITY, V.TIMESTAMP, V.START, V.RESOURCE, V.GROUP, V.ISSUE]].copy()
    df[V.ACTIVITY] = df[V.ACTIVITY].map(lambda a: names.get(a, a))
    for col in (V.TIMESTAMP, V.START):      # Berlin wall-clock time without an offset
        df[col] = df[col].dt.tz_convert("Europe/Berlin").dt.strftime("%d.%m.%Y %H:%M:%S.%f")
        df.loc[df[col] == "NaT", col] = ""
    df.columns = ["Ticket", "Event", "When", "Began", "Agent", "Team", "Category"]
    path = tmp_path / "jira.csv"
    df.to_csv(path, index=False, sep=";")
    mapping_file = tmp_path / "map.yaml"
    mapping_file.write_text(
        "columns: {case: Ticket, activity: Event, timestamp: When, start: Began, resource: Agent,"
        " group: Team, issue: Category}\n"
        "activities: {created: [Ticket Created], resolved: [Ticket Closed], worked: Work on it}\n"
        "timezone: Europe/Berlin\n", encoding="utf-8")
    got = calibrate(path, Mapping.build(mapping_file, activity_pairs=["Escalate=handed_off"]))
    truth = small_log.groupby(V.CASE)[V.ISSUE].first().value_counts()
    assert got.issue_counts == truth.to_dict()
    assert len(got.cases) == small_log[V.CASE].nunique()
    arrivals = small_log[small_log[V.ACTIVITY] == V.CREATED][V.TIMESTAMP].sort_values().to_numpy()
    assert (np.abs(got.cases["arrival"].sort_values().to_numpy() - arrivals)
            <= np.timedelta64(1, "ms")).all()
    assert {t["name"]: t["tier"] for t in got.data["teams"]} == {"L1": 1, "L2": 2, "L3": 3}
    # the same through the command line, with --map pairs instead of the file's columns
    out = tmp_path / "s.yaml"
    argv = ["calibrate", str(path), "--out", str(out), "--timezone", "Europe/Berlin",
            "--map", "case=Ticket", "--map", "activity=Event", "--map", "timestamp=When",
            "--map", "start=Began", "--map", "resource=Agent", "--map", "group=Team",
            "--map", "issue=Category", "--activity", "Ticket Created=created",
            "--activity", "Ticket Closed=resolved", "--activity", "Work on it=worked",
            "--activity", "Escalate=handed_off"]
    assert main(argv) == 0
    assert load_scenario(out).arrivals.per_hour == got.data["arrivals"]["per_hour"]


@pytest.mark.parametrize("content, needle", [
    ("", "no rows"),
    ("case:concept:name,concept:name,time:timestamp\n", "no rows"),
    ("a,b,c\n1,2,3\n", "missing required column"),
    ("case:concept:name,concept:name,time:timestamp\nA,created,not a time\n", "no usable rows"),
    ("case:concept:name,concept:name,time:timestamp\nA,Foo,2026-01-05T00:00Z\n"
     "B,Foo,2026-01-05T01:00Z\n", "no rows with a recognised activity"),
    ("case:concept:name,concept:name,time:timestamp\nA,created,2026-01-05T00:00Z\n",
     "fewer than two"),
])
def test_unusable_logs_exit_2_with_one_line(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "s.yaml"
    assert main(["calibrate", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not out.exists()


def test_bad_mapping_and_missing_file_exit_2(tmp_path, capsys):
    assert main(["calibrate", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err
    log = ROOT / "examples" / "tickets_log.csv"
    for extra, needle in ((["--map", "colour=x"], "unknown field"),
                          (["--activity", "Closed=finished"], "unknown activity"),
                          (["--map", "case"], "FIELD=COLUMN"),
                          (["--timezone", "Mars/Olympus"], "unknown time zone")):
        assert main(["calibrate", str(log), "--out", str(tmp_path / "o.yaml"), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], err
    with pytest.raises(LogError):
        Mapping.build(pairs=["nothing"])


def test_recovers_reopen_probability_delay_and_route(original, tmp_path):
    """Re-contacts: probability per resolution and exponential delay by maximum likelihood that
    allows for customers not back yet when the log ends; where re-contacts were routed."""
    d = original.to_dict()
    d["horizon"] = {"days": 10, "warmup_days": 0}
    d["issues"][0].update(reopen_probability=0.15, reopen_delay={"dist": "exponential", "mean": 600})
    d["issues"][1].update(reopen_probability=0.1, reopen_delay={"dist": "exponential", "mean": 300},
                          reopen_to="last_queue")
    scn = scenario_from_dict(d)
    res = simulate(scn, policies=["tiered"], replications=1, seed=3, trace=True)
    out = export_events(res, tmp_path / "reopen.csv")[0]
    cal = calibrate(out)
    issues = {i["name"]: i for i in cal.data["issues"]}
    for name, p, m in (("how_to", 0.15, 600), ("config", 0.1, 300)):
        c = cal.cases[cal.cases["issue"] == name]
        n, k = int(c["resolutions"].sum()), int(c["reopens"].sum())
        got = issues[name]
        assert abs(got["reopen_probability"] - p) <= Z * math.sqrt(p * (1 - p) / n), name
        assert got["reopen_delay"]["dist"] == "exponential"
        assert abs(got["reopen_delay"]["mean"] - m) <= Z * m / math.sqrt(k), name
    assert issues["config"]["reopen_to"] == "last_queue"
    assert "reopen_probability" not in issues["defect"]


def test_swarming_log_gives_tiers_and_swarm_overhead(original, tmp_path):
    """No handoffs in a swarming log: tiers come from who helps whom, and the swarm overhead
    from swarm effort against the same issue's solo work (delta-method standard error)."""
    scn = original.replace(horizon={"days": 10, "warmup_days": 0})
    res = simulate(scn, policies=["swarming"], replications=1, seed=3, trace=True)
    cal = calibrate(export_events(res, tmp_path / "swarm.csv")[0])
    assert {t["name"]: t["tier"] for t in cal.data["teams"]} == {"L1": 1, "L2": 2, "L3": 3}
    assert {i["name"]: i["tier"] for i in cal.data["issues"]} == {
        i.name: i.tier for i in original.issues}
    got = cal.data["frictions"]["swarm_overhead"]
    num = den = var = 0.0
    for issue in original.issues:
        c = cal.cases[cal.cases["issue"] == issue.name]
        effort = np.array([e for es in c["swarm_effort"] for e in es])
        solo = np.array([w for ws in c["work_min"] for w in ws])
        if len(effort) < 20 or len(solo) < 20:
            continue
        r = effort.mean() / solo.mean()
        var_r = r**2 * (effort.var(ddof=1) / len(effort) / effort.mean()**2
                        + solo.var(ddof=1) / len(solo) / solo.mean()**2)
        num, den, var = num + len(effort) * (r - 1), den + len(effort), var + len(effort)**2 * var_r
    assert den > 0
    assert got == pytest.approx(max(num / den, 0), abs=1e-4)
    assert abs(got - original.frictions.swarm_overhead) <= Z * math.sqrt(var) / den


def test_start_complete_pairs_without_start_column(small_log, tmp_path):
    """Logs from tools that write an interval as a 'start' and a 'complete' event."""
    timed = small_log[small_log[V.START].notna() & (small_log[V.LIFECYCLE] == "complete")]
    starts = timed.assign(**{V.TIMESTAMP: timed[V.START], V.LIFECYCLE: "start"})
    pairs = pd.concat([small_log, starts]).drop(columns=[V.START])
    pairs = pairs.sort_values([V.CASE, V.TIMESTAMP], kind="stable")
    # lose 5 'complete' events of worked: their activities have no end
    path = tmp_path / "pairs.csv"
    keep = pairs.reset_index(drop=True)
    drop_at = keep[(keep[V.ACTIVITY] == V.WORKED) & (keep[V.LIFECYCLE] == "complete")].index[:5]
    keep.drop(index=drop_at).to_csv(path, index=False)
    ref = calibrate(_csv(small_log, tmp_path / "ref.csv"))
    got = calibrate(path)
    natural = int((small_log[V.LIFECYCLE] == "start").sum())
    assert _count(got.report, "never completed") == natural + 5
    for name, fit in ref.work_fits.items():
        assert abs(got.work_fits[name].sample_mean - fit.sample_mean) <= Z * fit.sample_sd / \
            math.sqrt(fit.n)
        assert got.work_fits[name].n >= fit.n - 5
    assert got.data["frictions"] == ref.data["frictions"]
    assert [t["diagnose"] for t in got.data["teams"] if "diagnose" in t] == \
        [t["diagnose"] for t in ref.data["teams"] if "diagnose" in t]


def _csv(df, path):
    df.to_csv(path, index=False)
    return path


def test_minimal_log_still_gives_a_stable_valid_scenario(small_log, tmp_path):
    """Only case, activity and time, created/resolved: every other value is an assumption,
    marked, and the organisation is sized so the scenario is not unstable."""
    from sim.scenario import scenario_warnings

    bare = small_log[small_log[V.ACTIVITY].isin([V.CREATED, V.RESOLVED])][
        [V.CASE, V.ACTIVITY, V.TIMESTAMP]]
    out = tmp_path / "s.yaml"
    assert main(["calibrate", str(_csv(bare, tmp_path / "bare.csv")), "--out", str(out)]) == 0
    scn = load_scenario(out)
    assert not [w for w in scenario_warnings(scn) if "unstable" in w]
    text = out.read_text(encoding="utf-8")
    for what in ("agents sized", "work = resolution time minus time queued", "one issue type",
                 "one segment", "cost_per_hour 0"):
        assert any("# ASSUMPTION:" in line and what in line for line in text.splitlines()), what


def test_spreadsheet_quirks_bom_epoch_times_and_dst(small_log, tmp_path):
    """A BOM before the header, Unix-millisecond times, and naive local times at a DST change."""
    df = small_log[[V.CASE, V.ACTIVITY, V.TIMESTAMP, V.ISSUE]].copy()
    df[V.TIMESTAMP] = (df[V.TIMESTAMP].astype("datetime64[ms, UTC]").astype("int64")).astype(str)
    path = tmp_path / "epoch.csv"
    path.write_text("\ufeff" + df.to_csv(index=False), encoding="utf-8")
    cal = calibrate(path)
    assert _count(cal.report, "Unix timestamps (in ms)") == len(df)
    assert len(cal.cases) == small_log[V.CASE].nunique()
    # Europe/Berlin on 2026-03-29: 02:30 does not exist, so such a naive time is dropped, counted
    rows = [("A", "created", "2026-03-29 01:10:00"), ("A", "resolved", "2026-03-29 02:30:00"),
            ("B", "created", "2026-03-29 03:10:00"), ("B", "resolved", "2026-03-29 04:00:00"),
            ("C", "created", "2026-03-29 05:00:00")]
    dst = tmp_path / "dst.csv"
    pd.DataFrame(rows, columns=[V.CASE, V.ACTIVITY, V.TIMESTAMP]).to_csv(dst, index=False)
    cal = calibrate(dst, Mapping.build(timezone="Europe/Berlin"))
    assert _count(cal.report, "daylight-saving") == 1
    assert cal.cases.set_index("case").loc["B", "arrival"] == pd.Timestamp("2026-03-29T01:10Z")


def test_log_of_several_runs_is_calibrated_from_one(original, tmp_path):
    """`run --events` writes every policy x replication on the same calendar: one is used."""
    scn = original.replace(horizon={"days": 1, "warmup_days": 0})
    res = simulate(scn, policies=["swarming", "tiered"], replications=2, trace=True)
    path = export_events(res, tmp_path / "all.csv")[0]
    ev = pd.read_csv(path, usecols=[V.CASE])[V.CASE]
    cal = calibrate(path)
    assert _count(cal.report, "calibrated from tiered/r0 alone") == 4
    assert set(cal.cases["case"]) == {c for c in ev if c.startswith("tiered/r0/")}
    cal = calibrate(path, policy="swarming")
    assert _count(cal.report, "calibrated from swarming/r0 alone") == 2
    cal = calibrate(path, case_filter="swarming/r1/")
    assert set(cal.cases["case"]) == {c for c in ev if c.startswith("swarming/r1/")}
    with pytest.raises(LogError, match="no case matches"):
        calibrate(path, policy="nope")


def test_recovers_hourly_and_weekday_profile(original, tmp_path):
    """A log whose arrivals follow a daily and weekly pattern (in UTC+01:00) gives profiles on
    the scenario clock the calibrated scenario uses (UTC here): hour h UTC is h+1 local."""
    hp = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.8, 2.2, 2.2, 2.0,
          1.6, 1.8, 2.0, 1.9, 1.6, 1.2, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2]
    wp = [1.2, 1.1, 1.0, 1.0, 0.9, 0.4, 0.3]
    d = original.to_dict()
    d.update(arrivals={"per_hour": 8, "hourly_profile": hp, "weekday_profile": wp},
             horizon={"days": 28, "warmup_days": 0}, start="2026-03-02T00:00+01:00")
    res = simulate(scenario_from_dict(d), policies=["tiered"], replications=1, seed=3, trace=True)
    cal = calibrate(export_events(res, tmp_path / "profile.csv")[0])
    arr = cal.data["arrivals"]
    assert len(arr["hourly_profile"]) == 24 and len(arr["weekday_profile"]) == 7
    assert np.mean(arr["hourly_profile"]) == pytest.approx(1, abs=0.01)
    z = stats.norm.ppf(1 - 0.001 / 2 / 24)            # 24 hours tested: Bonferroni
    days = 28
    for h in range(24):
        true = 8 * hp[(h + 1) % 24] * np.mean(wp)     # per hour, averaged over the week
        est = arr["per_hour"] * arr["hourly_profile"][h]
        # + 0.01: the profile is written to 3 decimals
        assert abs(est - true) <= z * math.sqrt(true * days) / days + 0.01, h
    # a UTC weekday is local 01:00 to 01:00: the first local hour of the next day belongs to it
    per_day = np.array([wp[d] * (sum(hp) - hp[0]) + wp[(d + 1) % 7] * hp[0] for d in range(7)])
    rel = per_day / per_day.mean()
    z7 = stats.norm.ppf(1 - 0.001 / 2 / 7)
    for day in range(7):
        n_day = 8 * per_day[day] * days / 7           # expected arrivals on that weekday
        assert abs(arr["weekday_profile"][day] - rel[day]) <= z7 * rel[day] / math.sqrt(n_day) \
            + 0.001, day                              # + rounding to 3 decimals


def test_too_few_observations_give_a_fixed_duration_marked_as_an_assumption(small_log, tmp_path):
    """Fewer than 3 samples cannot show a spread: the sample mean as 'fixed', and the written
    scenario says so (docs/eventlog.md), instead of passing it off as a fitted constant."""
    from sim.eventlog.fit import MIN_FIT_SAMPLES, fit_durations

    few = fit_durations([10.0, 14.0])
    assert few.best.spec == {"dist": "fixed", "value": 12.0} and few.too_few
    assert few.assumption("work of x").startswith("ASSUMPTION: work of x fixed at the sample mean 12")
    steady = fit_durations([5.0] * 40)          # truly constant: fixed, and no assumption
    assert steady.best.dist == "fixed" and not steady.too_few and steady.assumption("x") is None

    counts = small_log.drop_duplicates(V.CASE)[V.ISSUE].value_counts()
    rare = counts.index[-1]
    cases = small_log.loc[small_log[V.ISSUE] == rare, V.CASE].drop_duplicates()
    assert len(cases) > MIN_FIT_SAMPLES
    log = small_log[~small_log[V.CASE].isin(cases.iloc[2:])]      # keep 2 tickets of that issue
    path = _csv(log, tmp_path / "few.csv")
    out = tmp_path / "few.yaml"
    assert main(["calibrate", str(path), "--out", str(out)]) == 0
    line = next(x for x in out.read_text(encoding="utf-8").splitlines() if f"name: {rare}," in x)
    assert "work: {dist: fixed" in line, line
    assert f"# ASSUMPTION: work of {rare} fixed at the sample mean" in line, line
    assert "only 2 observation(s)" in line
    others = [x for x in out.read_text(encoding="utf-8").splitlines()
              if "name:" in x and "share:" in x and f"name: {rare}," not in x]
    assert others and not any("fixed at the sample mean" in x for x in others)
