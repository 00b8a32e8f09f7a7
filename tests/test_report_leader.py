"""The report a leader can act on (issue 17): where each model wins, every pair of policies, an
overloaded baseline, honest numbers (precision, bounds, names, currency, percentages), tables that
fit 700 px in a real browser, and ``report DIR`` that never replaces another run's report."""
from __future__ import annotations

import re

import pytest
import yaml

from _browser import NO_BROWSER, browser, measure
from conftest import three_tier_dict
from sim import scenario_from_dict, simulate
from sim.analysis.pairwise import best_policies, pairwise_differences
from sim.cli import main
from sim.report import build_report
from sim.report.format import fmt_rel, fmt_value


@pytest.fixture(scope="module")
def calm(tmp_path_factory):
    d = three_tier_dict(horizon={"days": 1.5, "warmup_days": 0.25}, replications=4)
    d["currency"] = "$"
    scn = scenario_from_dict(d, "calm")
    res = simulate(scn, policies=["tiered", "skill_routing", "swarming"])
    return res, build_report(res, tmp_path_factory.mktemp("calm") / "rep")


def overloaded(policies):
    """L1 too small for tiered (it diagnoses every ticket); the other models keep up."""
    d = three_tier_dict(horizon={"days": 2, "warmup_days": 0.5}, replications=3)
    for t in d["teams"]:
        if t["name"] == "L1":
            t["agents"] = 2
    return simulate(scenario_from_dict(d, "busy"), policies=policies)


# ----------------------------------------------------------------------------- where each wins
def test_where_each_model_wins_per_issue_type_and_segment(calm):
    res, paths = calm
    a = paths.analysis
    wins = paths.content.wins[0]
    assert wins.title == "Where each model wins"
    assert [r[0] for r in wins.rows] == (["all tickets"] + [f"issue: {i.name}" for i in res.scenario.issues]
                                        + [f"segment: {s.name}" for s in res.scenario.segments])
    assert "best on mean resolution time" in wins.header[1] and "($)" in wins.header[2]
    tables = {"all tickets": (a.per_rep, None)}
    tables.update({f"issue: {g}": (a.by_issue[a.by_issue["issue"] == g], "issue") for g in a.by_issue["issue"].unique()})
    tables.update({f"segment: {g}": (a.by_segment[a.by_segment["segment"] == g], "segment")
                   for g in a.by_segment["segment"].unique()})
    for row in wins.rows:
        data, by = tables[row[0]]
        for cell, metric in zip(row[1:], ("resolution_mean_min", "cost_per_resolved")):
            (rec,) = best_policies(data, metric, by=by).to_dict("records")
            diffs = pairwise_differences(data, [metric], by=by)
            if rec["winner"] is not None:
                # the winner, named first, clearly beats every other policy on the same customers
                assert cell.startswith(rec["winner"].replace("_", " ") + "; next "), cell
                mine = diffs[diffs["policy"] == rec["winner"]]
                assert len(mine) == 2 and mine["clear"].all() and (mine["diff_mean"] < 0).all()
                assert "%" in cell and "±" in cell
            else:
                assert cell.startswith("no clear winner"), cell


def test_every_pair_of_policies_is_compared_both_ways(calm):
    _, paths = calm
    time, cost = paths.content.wins[1:3]
    assert time.header == ["row vs column", "tiered", "skill_routing", "swarming"]
    for table in (time, cost):
        cells = {(r[0], q): c for r in table.rows for q, c in zip(table.header[1:], r[1:])}
        for (p, q), c in cells.items():
            if p == q:
                assert c == "—"
                continue
            back = cells[(q, p)]
            # the row is worse (+) exactly when the reverse comparison is better (−)
            assert (c[0], back[0]) in (("+", "−"), ("−", "+")), (p, q, c, back)
            assert ("not clear" in c) == ("not clear" in back)


# ----------------------------------------------------------------------------- overloaded baseline
def test_an_overloaded_baseline_still_compares_the_stable_policies(tmp_path):
    res = overloaded(["tiered", "skill_routing", "swarming"])
    paths = build_report(res, tmp_path / "rep")
    a = paths.analysis
    assert a.unstable == ["tiered"]
    c = paths.content
    assert "does not keep up" in c.verdict_lead and "among the stable policies" in c.verdict_lead
    rows = {r.policy: r for r in c.verdict_rows}
    assert rows["tiered"].status == "unstable"
    assert rows["swarming"].status == "ok" and rows["swarming"].baseline == "skill_routing"
    assert rows["swarming"].sentence.startswith("Among the stable policies: Swarming ")
    assert "compared with skill routing" in rows["swarming"].sentence
    table = {r[0]: (r, s) for r, s in zip(c.verdict.rows, c.verdict.row_status)}
    assert table["swarming"][1] == "ok" and table["tiered"][1] == "danger"
    assert not any("not compared" in x for x in table["swarming"][0][3:])
    # an unstable policy wins nothing, anywhere
    assert not any(cell.startswith("tiered") for row in c.wins[0].rows for cell in row[1:])
    assert "not compared (UNSTABLE)" in c.wins[1].rows[0][2]


def test_the_only_stable_policy_is_the_answer_not_a_red_row(tmp_path):
    paths = build_report(overloaded(["tiered", "swarming"]), tmp_path / "rep")
    c = paths.content
    assert c.verdict_lead.startswith("Only swarming keeps up at this load")
    rows = {r.policy: r for r in c.verdict_rows}
    assert rows["swarming"].status == "only_stable" and rows["tiered"].status == "unstable"
    status = dict(zip([r[0] for r in c.verdict.rows], c.verdict.row_status))
    assert status == {"tiered": "danger", "swarming": "ok"}
    html = paths.html.read_text(encoding="utf-8")
    assert "Only swarming keeps up at this load" in html
    assert "swarming (the only stable policy)" in c.wins[0].rows[0][1]


# ----------------------------------------------------------------------------- honest numbers
def test_intervals_never_pass_the_possible_values_and_precision_follows_them():
    assert fmt_rel(-1.0, 0.0045, 0.0, 2.0) == "−100 % (all removed)"
    low = fmt_rel(-0.97, 0.05, 0.06, 2.0)          # the interval would reach −102 %
    assert low.startswith("−97 %") and "−100 to" in low and "±" not in low
    assert fmt_value("abandoned_share", 0.003, 0.0004) == "0.30 % ± 0.04 %"     # not 0.3% ± 0.0%
    assert fmt_value("abandoned_share", 0.003, 0.004) == "0.3 % (0 to 0.7 %)"   # not −0.1 %
    assert fmt_value("utilisation_L1", 0.97, 0.04) == "97 % (93 to 100 %)"
    assert fmt_value("resolution_mean_min", 123.456, 0.0) == "123.5 (no spread)"
    assert fmt_value("cost_per_resolved", 63.456, 0.14, "EUR") == "63.46 ± 0.14 EUR"
    assert fmt_value("cost_per_resolved", 63.456, 0.14, "$") == "$63.46 ± 0.14"


def test_the_report_prints_no_zero_interval_no_internal_name_and_money_with_its_currency(calm):
    res, paths = calm
    html = paths.html.read_text(encoding="utf-8")
    body = re.sub(r'src="data:[^"]+"', "", html)
    assert not re.search(r"± ?0(\.0+)?(?![\d.])", body), "a ± 0 interval is printed"
    assert "mean_" not in body and "_=" not in body
    assert "lognormal, mean" in body or "exponential, mean" in body
    c = paths.content
    # every money figure carries the currency: key metrics, groups, paired differences, scenario
    for table in [*c.tables, *c.scenario_tables]:
        if "change" in table.title:          # relative changes have no unit
            continue
        for j, h in enumerate(table.header):
            if "cost" in h and ("per resolved" in h or "per hour" in h):
                assert "($)" in h, (table.title, h)
        for row in table.rows:
            if "cost" in row[0] and "per ticket" not in row[0] and "minutes" not in row[0]:
                assert all(cell == "-" or "$" in cell for cell in row[1:]), (table.title, row)
            if row[0].startswith("share") or row[0].startswith("utilisation"):
                assert all(cell == "-" or "%" in cell for cell in row[1:]), (table.title, row)
    # swarming hands nothing off: a full removal, not "−100 % ± …"
    swarm = next(r for r in c.verdict.rows if r[0] == "swarming")
    assert swarm[c.verdict.header.index("Handoffs per ticket")] == "−100 % (all removed)"
    assert ("currency", "$") in c.provenance


# ----------------------------------------------------------------------------- 700 px in a browser
@pytest.mark.skipif(browser() is None, reason=NO_BROWSER)
def test_tables_fit_a_700px_window_in_a_headless_browser(calm, tmp_path):
    _, paths = calm
    got, shot = measure(paths.html, tmp_path)
    assert 600 <= got["width"] <= 700 and got["tables"] >= 8
    assert got["overflow"] == [] and got["scroll"] <= got["width"], got


# ----------------------------------------------------------------------------- report DIR
def test_report_dir_writes_next_to_the_results_and_never_replaces_another_runs_report(tmp_path, capsys):
    scn = tmp_path / "scn.yaml"
    scn.write_text(yaml.safe_dump(three_tier_dict(replications=2)), encoding="utf-8")
    a, b = tmp_path / "a", tmp_path / "b"
    for d, seed in ((a, "1"), (b, "2")):
        assert main(["run", str(scn), "--days", "0.5", "--seed", seed, "--out", str(d), "--no-report"]) == 0
    capsys.readouterr()
    assert main(["report", str(a)]) == 0          # default: into DIR itself
    assert f"report written to {a / 'report.html'}" in capsys.readouterr().out
    assert main(["report", str(a)]) == 0          # the same run again: fine
    # b's report must not replace a's report ...
    before = (a / "report.html").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["report", str(b), "--out", str(a)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another run" in err[0] and "--force" in err[0]
    assert (a / "report.html").read_text(encoding="utf-8") == before
    # ... unless asked to
    assert main(["report", str(b), "--out", str(a), "--force"]) == 0
    assert (a / "report.html").read_text(encoding="utf-8") != before


def test_report_on_a_sweep_directory_says_where_its_report_is(tmp_path, capsys):
    (tmp_path / "sweep.json").write_text("{}", encoding="utf-8")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sweep directory" in err[0] and "report.html" in err[0]
