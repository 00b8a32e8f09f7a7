"""Event-log export: every activity of every ticket, consistent with the ticket table,
in CSV/Parquet/XES/OCEL that process-mining tools read."""
from __future__ import annotations

import copy
import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import scenario_from_dict, simulate
from sim.cli import main
from sim.eventlog import (ACTIVITIES, COLUMNS, TraceTable, events_frame, export_events, run_events,
                          simulate_events)
from sim.eventlog import vocabulary as V

from conftest import three_tier_dict

# names with XML/CSV special characters on purpose: escaping is part of the contract
ODD_ISSUE = 'how "to" <&> it'
def _base() -> dict:
    """The shared three-tier test scenario, with odd names and its own seed and horizon."""
    d = three_tier_dict(name="export-test", seed=4, horizon={"days": 1.5, "warmup_days": 0.25},
                        policies={"tiered": {}, "skill_routing": {"triage_accuracy": 0.85},
                                  "swarming": {"max_helpers": 2}})
    d["segments"][0]["patience"] = {"dist": "exponential", "mean": 60}
    d["segments"][1]["name"] = "std, plain"
    d["issues"][0]["name"] = ODD_ISSUE
    d["teams"][1]["diagnose"] = {"dist": "exponential", "mean": 20}
    return d


BASE = _base()


def scenario(**over):
    d = copy.deepcopy(BASE)
    d.update(over)
    return scenario_from_dict(d, "export-test")


@pytest.fixture(scope="module")
def result():
    return simulate(scenario(), trace=True)


@pytest.fixture(scope="module")
def events(result):
    return events_frame(result)


def test_log_agrees_with_ticket_table(result, events):
    """Per measured ticket: cost, handoffs, repeats, helpers and outcome match the results."""
    # an activity cut by the horizon (lifecycle 'start') never happened for the engine's counts
    ev = events[events[V.MEASURED] & (events[V.LIFECYCLE] == V.LIFECYCLE_COMPLETE)]
    everything = events[events[V.MEASURED]]
    cost = everything.groupby([V.POLICY, V.REPLICATION, V.TICKET])[V.COST].sum()
    key = [V.POLICY, V.REPLICATION, V.TICKET]
    act = ev[V.ACTIVITY]
    per = pd.DataFrame({
        "cost": cost,
        "handoffs": (act == V.HANDED_OFF).groupby([ev[k] for k in key]).sum(),
        # the engine counts a repeat when it starts, a handoff when it is done
        "repeats": (everything[V.ACTIVITY] == V.REPEATED).groupby(
            [everything[k] for k in key]).sum(),
        "helpers": (act == V.HELPER_JOINED).groupby([ev[k] for k in key]).sum(),
        "resolved": (act == V.RESOLVED).groupby([ev[k] for k in key]).any(),
        "abandoned": (act == V.ABANDONED).groupby([ev[k] for k in key]).any(),
    })
    t = result.tickets.assign(policy=result.tickets["policy"].astype(str)).set_index(
        ["policy", "replication", "ticket_id"])
    per.index = per.index.set_names(["policy", "replication", "ticket_id"])
    assert len(per) == len(t)
    j = t.join(per.add_suffix("_log"))
    assert np.allclose(j["cost"], j["cost_log"], atol=1e-4)
    assert (j["handoffs"] == j["handoffs_log"]).all()
    assert (j["repeats"] == j["repeats_log"]).all()
    assert (j["helpers"] == j["helpers_log"]).all()
    assert ((j["outcome"] == "resolved") == j["resolved_log"]).all()
    assert ((j["outcome"] == "abandoned") == j["abandoned_log"]).all()
    assert (j["issue"].astype(str) == ev.groupby(key)[V.ISSUE].first().to_numpy()).all()


def test_case_ids_unique_across_policies_and_replications(events):
    ids = events.groupby(V.CASE)[[V.POLICY, V.REPLICATION, V.TICKET]].nunique()
    assert (ids == 1).all().all()
    assert events[V.CASE].nunique() == len(events.groupby([V.POLICY, V.REPLICATION, V.TICKET]))
    sample = events[V.CASE].iloc[0]
    assert re.fullmatch(r"[a-z_]+/r\d+/t\d+", sample)


def test_vocabulary_and_order(events):
    assert set(events[V.ACTIVITY]) <= set(ACTIVITIES)
    for name in ("created", "queued", "taken", "diagnosed", "handed_off", "customer_repeated_issue",
                 "swarm_requested", "helper_joined", "helper_left", "resolved", "abandoned"):
        assert name in set(events[V.ACTIVITY]), name
    # within a case time never goes backwards; created comes first
    for _, g in events.groupby(V.CASE, sort=False):
        assert g[V.TIMESTAMP].is_monotonic_increasing
        assert g[V.ACTIVITY].iloc[0] == V.CREATED
    # intervals carry a start no later than their end; instants carry none
    timed = events[V.ACTIVITY].isin(V.INTERVAL_ACTIVITIES)
    assert events.loc[timed, V.START].notna().all()
    assert events.loc[~timed, V.START].isna().all()
    assert (events.loc[timed, V.START] <= events.loc[timed, V.TIMESTAMP]).all()
    # helpers leave exactly when their help ends
    helped = events[(events[V.ACTIVITY] == V.HELPED) &
                    (events[V.LIFECYCLE] == V.LIFECYCLE_COMPLETE)]
    left = events[events[V.ACTIVITY] == V.HELPER_LEFT]
    assert len(left) == len(helped)
    assert sorted(zip(left[V.CASE], left[V.TIMESTAMP])) == sorted(zip(helped[V.CASE],
                                                                      helped[V.TIMESTAMP]))


def test_reopened_is_exported_when_the_engine_emits_it():
    """Re-opened tickets (a later engine feature) need no exporter change."""
    assert V.REOPENED in ACTIVITIES
    trace = [(0.0, 0.0, 0, "created", -1, "", ""), (0.0, 0.0, 0, "taken", 0, "L1", ""),
             (0.0, 10.0, 0, "work", 0, "L1", ""), (10.0, 10.0, 0, "resolved", -1, "", ""),
             (50.0, 50.0, 0, "reopened", -1, "", ""), (50.0, 50.0, 0, "taken", 1, "L1", ""),
             (50.0, 55.0, 0, "work", 1, "L1", ""), (55.0, 55.0, 0, "resolved", -1, "", "")]
    df = run_events(TraceTable.from_trace("tiered", 0, trace), scenario(), 4)
    assert list(df[V.ACTIVITY]) == ["created", "taken", "worked", "resolved", "reopened", "taken",
                                    "worked", "resolved"]
    assert df[V.COST].sum() == pytest.approx(15 * 30 / 60)


def test_handoffs_name_from_and_to_team(events):
    ho = events[events[V.ACTIVITY] == V.HANDED_OFF]
    assert len(ho) > 20
    assert (ho[V.FROM_TEAM] == ho[V.GROUP]).all()
    tiered = ho[(ho[V.POLICY] == "tiered") & ho[V.TO_TEAM].notna()]
    assert set(zip(tiered[V.FROM_TEAM], tiered[V.TO_TEAM])) == {("L1", "L2"), ("L2", "L3")}
    # no 'to' team only when nobody took the ticket before the horizon
    for _, row in ho[ho[V.TO_TEAM].isna()].iterrows():
        later = events[(events[V.CASE] == row[V.CASE]) & (events[V.TIMESTAMP] >= row[V.TIMESTAMP])]
        assert V.TAKEN not in set(later[V.ACTIVITY])
    # the 'to' team is the team of the next agent who takes the ticket
    for _, row in ho.head(50).iterrows():
        nxt = events[(events[V.CASE] == row[V.CASE]) & (events[V.ACTIVITY] == V.TAKEN) &
                     (events[V.TIMESTAMP] >= row[V.TIMESTAMP])]
        if len(nxt):
            assert nxt[V.GROUP].iloc[0] == row[V.TO_TEAM]
    assert (events.loc[events[V.POLICY] == "swarming", V.ACTIVITY] != V.HANDED_OFF).all()


def test_timestamps_are_calendar_times_from_scenario_start():
    scn = scenario(start="2026-03-02T08:00+01:00", replications=1)
    res = simulate(scn, policies=["tiered"], trace=True)
    ev = events_frame(res)
    created = ev[(ev[V.ACTIVITY] == V.CREATED) & ev[V.MEASURED]].set_index(V.TICKET)[V.TIMESTAMP]
    t = res.tickets.set_index("ticket_id")["arrival_min"]
    expected = pd.Timestamp("2026-03-02T07:00Z") + pd.to_timedelta(t, unit="min")
    diff = (created.loc[t.index] - expected).abs()
    assert diff.max() <= pd.Timedelta(milliseconds=1)
    default = events_frame(simulate(scenario(replications=1), policies=["tiered"], trace=True))
    assert default[V.TIMESTAMP].min() >= pd.Timestamp("2026-01-05T00:00Z")
    assert default[V.TIMESTAMP].min() < pd.Timestamp("2026-01-05T01:00Z")


def test_parallel_and_streamed_logs_are_identical(result, tmp_path):
    par = simulate(scenario(), workers=2, trace=True)
    pd.testing.assert_frame_equal(events_frame(par), events_frame(result))
    a = export_events(result, tmp_path / "a.csv")
    b = simulate_events(scenario(), tmp_path / "b.csv")
    assert a[0].read_bytes() == b[0].read_bytes()


def test_csv_and_parquet_round_trip(result, events, tmp_path):
    paths = export_events(result, tmp_path, "csv,parquet")
    assert [p.name for p in paths] == ["events.csv", "events.parquet"]
    pq = pd.read_parquet(paths[1])
    assert list(pq.columns) == list(COLUMNS)
    assert str(pq[V.TIMESTAMP].dtype) == "datetime64[ms, UTC]"
    assert len(pq) == len(events)
    csv = pd.read_csv(paths[0], keep_default_na=False, na_values=[""])
    assert list(csv.columns) == list(COLUMNS)
    assert (csv[V.ISSUE] == events[V.ISSUE]).all()       # quotes, commas, <&> survive
    assert (csv[V.SEGMENT] == events[V.SEGMENT]).all()
    back = pd.to_datetime(csv[V.TIMESTAMP], utc=True, format="ISO8601")
    assert (back == pq[V.TIMESTAMP]).all()
    assert not list(tmp_path.glob(".*tmp"))                 # no temporary files left behind


XES = "{http://www.xes-standard.org/}"
XS_DATETIME = re.compile(r"^-?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
ATTR_TYPES = {"string", "date", "int", "float", "boolean", "id", "list", "container"}


def _check_attribute(el):
    tag = el.tag.replace(XES, "")
    assert tag in ATTR_TYPES, tag
    assert "key" in el.attrib
    if tag in ("list", "container"):
        return
    value = el.attrib["value"]
    if tag == "date":
        assert XS_DATETIME.match(value), value
        datetime.fromisoformat(value)
    elif tag == "int":
        int(value)
    elif tag == "float":
        float(value)
    elif tag == "boolean":
        assert value in ("true", "false")
    for child in el:      # nested attributes are attributes too
        _check_attribute(child)


def test_xes_has_the_standard_structure(result, events, tmp_path):
    """IEEE 1849 XES: log > extension*, global*, classifier*, attribute*, trace*;
    trace > attribute*, event*; every key prefix declared by an extension."""
    result = dataclasses.replace(result, traces=result.traces[::2])   # replication 0 only
    events = events[events[V.REPLICATION] == 0]
    path = export_events(result, tmp_path / "log.xes")[0]
    root = ET.parse(path).getroot()
    assert root.tag == f"{XES}log"
    assert float(root.attrib["xes.version"]) >= 1.0
    order = {"extension": 0, "global": 1, "classifier": 2, "trace": 4}
    ranks = [order.get(el.tag.replace(XES, ""), 3) for el in root]
    assert ranks == sorted(ranks), "log children out of the order the schema requires"
    prefixes = {}
    for ext in root.findall(f"{XES}extension"):
        assert set(ext.attrib) >= {"name", "prefix", "uri"}
        prefixes[ext.attrib["prefix"]] = ext.attrib["uri"]
    for g in root.findall(f"{XES}global"):
        assert g.attrib["scope"] in ("trace", "event")
        for a in g:
            _check_attribute(a)
    for c in root.findall(f"{XES}classifier"):
        assert c.attrib["name"] and c.attrib["keys"]
    traces = root.findall(f"{XES}trace")
    assert len(traces) == events[V.CASE].nunique()
    used_keys = set()
    n_events = 0
    for tr in traces:
        children = [el.tag.replace(XES, "") for el in tr]
        first_event = children.index("event")
        assert all(t != "event" for t in children[:first_event])
        assert all(t == "event" for t in children[first_event:])
        names = [a for a in tr if a.attrib.get("key") == "concept:name"]
        assert len(names) == 1 and names[0].tag == f"{XES}string"
        for el in tr:
            if el.tag == f"{XES}event":
                n_events += 1
                keys = {}
                for a in el:
                    _check_attribute(a)
                    keys[a.attrib["key"]] = a
                    used_keys.add(a.attrib["key"])
                assert keys["concept:name"].tag == f"{XES}string"
                assert keys["time:timestamp"].tag == f"{XES}date"
                assert keys["lifecycle:transition"].attrib["value"] in ("start", "complete")
            else:
                _check_attribute(el)
    assert n_events == len(events)
    for key in used_keys:
        if ":" in key:
            assert key.split(":")[0] in prefixes, f"{key}: prefix has no <extension>"
    # escaping: the odd issue name comes back intact
    assert ODD_ISSUE in {a.attrib["value"] for tr in traces for a in tr
                         if a.attrib.get("key") == "issue"}


def test_ocel_relates_swarmed_tickets_to_several_agents(result, events, tmp_path):
    path = export_events(result, tmp_path, "ocel")[0]
    assert path.name == "events.ocel.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert {"objectTypes", "eventTypes", "objects", "events"} <= set(doc)
    objects = {o["id"]: o["type"] for o in doc["objects"]}
    assert len(doc["events"]) == len(events)
    agents_of = {}
    for e in doc["events"]:
        datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
        for r in e["relationships"]:
            assert r["objectId"] in objects, r
        ticket = [r["objectId"] for r in e["relationships"] if r["qualifier"] == "ticket"]
        assert len(ticket) == 1
        agents_of.setdefault(ticket[0], set()).update(
            r["objectId"] for r in e["relationships"] if objects[r["objectId"]] == "agent")
    swarmed = events.loc[events[V.ACTIVITY] == V.HELPER_JOINED, V.CASE].unique()
    assert len(swarmed) > 5
    assert all(len(agents_of[c]) >= 2 for c in swarmed)


def test_cli_run_writes_events_next_to_results(tmp_path, capsys):
    scn = tmp_path / "s.yaml"
    scn.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scn), "--policy", "tiered", "--replications", "1", "--days", "0.5",
                 "--out", str(out), "--events", "csv,xes"]) == 0
    assert (out / "events.csv").exists() and (out / "events.xes").exists()
    assert (out / "tickets.parquet").exists()
    capsys.readouterr()
    assert main(["run", str(scn), "--days", "1", "--out", str(out), "--events", "pdf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pdf" in err[0] and "csv" in err[0]
    assert main(["run", str(scn), "--days", "1", "--events"]) == 2
    assert "--out" in capsys.readouterr().err


def test_pm4py_reads_the_logs_if_installed(result, events, tmp_path):
    pm4py = pytest.importorskip("pm4py")
    paths = export_events(result, tmp_path, "csv,xes,ocel")
    log = pm4py.read_xes(str(paths[1]))
    df = log if isinstance(log, pd.DataFrame) else pm4py.convert_to_dataframe(log)
    assert df["case:concept:name"].nunique() == events[V.CASE].nunique()
    assert len(df) == len(events)
    csv = pd.read_csv(paths[0])
    csv = pm4py.format_dataframe(csv, case_id=V.CASE, activity_key=V.ACTIVITY,
                                 timestamp_key=V.TIMESTAMP)
    assert pm4py.get_event_attribute_values(csv, V.ACTIVITY).keys() <= set(ACTIVITIES)
    ocel = pm4py.read_ocel2_json(str(paths[2]))
    assert len(ocel.events) == len(events)
    assert set(ocel.objects["ocel:type"]) == {"ticket", "agent", "team"}


def test_log_costs_match_with_shifts_interruptions_and_reopens():
    """The engine's optional mechanics (shift handovers, swarm interruptions with context
    switches, reopened tickets) add activities; the log still accounts for every agent-minute."""
    d = copy.deepcopy(BASE)
    d.update(horizon={"days": 3, "warmup_days": 0.5}, replications=1,
             policies={"tiered": {}, "swarming": {"max_helpers": 1, "helper_mode": "interrupt"}})
    d["frictions"]["context_switch"] = {"dist": "uniform", "low": 5, "high": 15}
    d["issues"][0].update(reopen_probability=0.1, reopen_delay={"dist": "exponential", "mean": 300})
    for team in d["teams"]:
        team["agents"] += 2
        team["shift"] = {"start": 6, "end": 22, "shift_end": "handover"}
    scn = scenario_from_dict(d, "mechanics")      # these features exist: a rejection is a regression
    res = simulate(scn, trace=True)
    ev = events_frame(res)
    acts = set(ev[V.ACTIVITY])
    assert {V.REOPENED, V.INTERRUPTED, V.CONTEXT_SWITCHED} <= acts
    assert acts <= set(ACTIVITIES)
    m = ev[ev[V.MEASURED]]
    cost = m.groupby([V.POLICY, V.REPLICATION, V.TICKET])[V.COST].sum()
    t = res.tickets.assign(policy=res.tickets["policy"].astype(str)).set_index(
        ["policy", "replication", "ticket_id"])
    cost.index = cost.index.set_names(t.index.names)
    assert len(cost) == len(t)
    assert np.allclose(t["cost"], cost.loc[t.index], atol=1e-4)
    reopened = (m[V.ACTIVITY] == V.REOPENED).groupby([m[V.POLICY], m[V.REPLICATION],
                                                     m[V.TICKET]]).sum()
    reopened.index = reopened.index.set_names(t.index.names)
    assert (t["reopens"] == reopened.loc[t.index]).all()
