"""The sweep report: paired, stability-aware winners; regime.csv; a self-contained HTML report;
figures of at most six panels; points sharing customers when the varied parameter allows it."""
from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from _browser import NO_BROWSER, browser, measure
from conftest import three_tier_dict
from sim.analysis.pairwise import best_policies
from sim.sweep import load_sweep, read_runs, run_sweep, write_summary
from sim.sweep import report as sweep_report
from sim.sweep.report import NO_CLEAR_WINNER, NONE_STABLE, MAX_PANELS, regime_frame, write_report


def per_rep(values: dict[str, list[float]], metric: str = "cost_per_resolved", **extra) -> pd.DataFrame:
    rows = []
    for policy, vals in values.items():
        for r, v in enumerate(vals):
            rows.append({"policy": policy, "replication": r, metric: v,
                         **{k: x[policy][r] for k, x in extra.items()}})
    return pd.DataFrame(rows)


def test_paired_intervals_decide_where_overlapping_intervals_cannot():
    # a busy week is busy for both policies: each replication's luck is shared, the gap is constant
    rng = np.random.default_rng(3)
    luck = rng.normal(0, 10, size=8)
    data = per_rep({"tiered": list(50 + luck), "swarming": list(48 + luck + rng.normal(0, 0.2, 8))})
    (rec,) = best_policies(data, "cost_per_resolved").to_dict("records")
    assert rec["winner"] == "swarming" and rec["runner_up"] == "tiered" and rec["reason"] == "clear"
    assert rec["ci_low"] > 0 and rec["ci_low"] < rec["margin"] < rec["ci_high"]
    # the independent-sample intervals of the two means overlap widely: unpaired, no winner
    half = 2.36 * luck.std(ddof=1) / np.sqrt(8)
    assert half > 2 * rec["margin"]


def test_a_lead_within_the_noise_is_no_clear_winner_and_higher_can_be_better():
    data = per_rep({"a": [1.0, 2.0, 3.0], "b": [1.1, 1.9, 3.2]})
    (rec,) = best_policies(data, "cost_per_resolved").to_dict("records")
    assert rec["winner"] is None and rec["reason"] == "not_clear" and rec["best"] == "a"
    share = per_rep({"a": [0.90, 0.91, 0.92], "b": [0.80, 0.82, 0.81]}, metric="service_level")
    (rec,) = best_policies(share, "service_level").to_dict("records")
    assert rec["winner"] == "a" and rec["better"] == "higher" and rec["margin"] > 0


def test_an_unstable_policy_never_wins_and_a_lone_stable_one_does():
    data = per_rep({"tiered": [10.0, 11, 12], "swarming": [20.0, 21, 22]})
    (rec,) = best_policies(data, "cost_per_resolved", exclude=["tiered"]).to_dict("records")
    assert rec["winner"] == "swarming" and rec["reason"] == "only_stable"
    (rec,) = best_policies(data, "cost_per_resolved", exclude=["tiered", "swarming"]).to_dict("records")
    assert rec["winner"] is None and rec["reason"] == "none_stable"


# ----------------------------------------------------------------------------- a real sweep
def write_sweep(tmp_path: Path, sweep: dict, file: str = "sweep.yaml") -> Path:
    base = three_tier_dict(horizon={"days": 1.0, "warmup_days": 0.25})
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    path = tmp_path / file
    path.write_text(yaml.safe_dump({"base": "base.yaml", **sweep}, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def overhead_sweep(tmp_path_factory):
    """swarm overhead x L3 staffing (1 agent: L3 overloaded under tiered), tiered vs swarming."""
    d = tmp_path_factory.mktemp("overhead")
    plan = load_sweep(write_sweep(d, {
        "name": "overhead", "replications": 3, "seed": 4, "policies": ["tiered", "swarming"],
        "vary": {"frictions.swarm_overhead": [0.0, 0.5, 1.0], "teams[L3].agents": [1, 4]},
        "report": {"x": "frictions.swarm_overhead", "y": "teams[L3].agents"}}, file="sw<b>&.yaml"))
    out = d / "out"
    outcome = run_sweep(plan, out, workers=2)
    assert outcome.failed == 0
    write_summary(out, plan)
    shapes: list[tuple[int, int]] = []
    real = sweep_report.plt.subplots

    def recording(nrows=1, ncols=1, **kw):
        shapes.append((nrows, ncols))
        return real(nrows, ncols, **kw)

    sweep_report.plt.subplots = recording
    try:
        html = write_report(out, plan)
    finally:
        sweep_report.plt.subplots = real
    return plan, out, html, shapes


def test_points_share_customers_so_tiered_is_flat_across_the_overhead(overhead_sweep):
    plan, out, _, _ = overhead_sweep
    # the overhead does not change the customers, so every point has point 0's seed ...
    assert len({p.seed for p in plan.points}) == 1
    runs = read_runs(out, plan)
    tiered = runs[runs["policy"] == "tiered"]
    # ... and tiered, which never swarms, has exactly the same numbers at every overhead
    for _, g in tiered.groupby("teams[L3].agents"):
        by_point = g.pivot_table(index="replication", columns="point", values="resolution_mean_min")
        assert by_point.nunique(axis=1).eq(1).all(), by_point
    swarming = runs[(runs["policy"] == "swarming") & (runs["teams[L3].agents"] == 4)]
    assert swarming.groupby("frictions.swarm_overhead")["resolution_mean_min"].mean().is_monotonic_increasing


def test_regime_is_paired_stability_aware_and_written_as_csv(overhead_sweep):
    plan, out, html, _ = overhead_sweep
    csv = pd.read_csv(html.parent / "regime.csv", keep_default_na=False)
    assert list(csv.columns) == ["point", "frictions.swarm_overhead", "teams[L3].agents", "metric", "winner",
                                 "margin", "ci_low", "ci_high", "unstable_policies"]
    assert len(csv) == 2 * len(plan.points)
    runs = read_runs(out, plan)
    for rec in regime_frame(runs, plan).to_dict("records"):
        at = runs[runs["point"] == rec["point"]]
        util = at.groupby("policy")[[c for c in at.columns if c.startswith("utilisation_")]].mean()
        unstable = sorted(p for p in util.index if (util.loc[p] >= 0.95).any())
        assert sorted(filter(None, rec["unstable_policies"].split(";"))) == unstable
        assert rec["winner"] not in unstable           # an unstable policy never wins
        if rec["winner"] in plan.policies and rec["runner_up"]:
            # a winner's margin is a paired interval above zero
            assert 0 < rec["ci_low"] <= rec["margin"] <= rec["ci_high"]
        if rec["winner"] == NO_CLEAR_WINNER:
            assert rec["ci_low"] <= 0
        if len(unstable) == len(plan.policies):
            assert rec["winner"] == NONE_STABLE
    # with one L3 agent tiered cannot keep up: it is named unstable there
    one = csv[csv["teams[L3].agents"] == 1]
    assert one["unstable_policies"].str.contains("tiered").all()


def test_sweep_report_is_one_self_contained_escaped_html_file(overhead_sweep):
    plan, out, html, _ = overhead_sweep
    assert html == out / "report" / "report.html"
    text = html.read_text(encoding="utf-8")

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags = []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))

    p = Tags()
    p.feed(text)
    tags = {t for t, _ in p.tags}
    assert "script" not in tags and "link" not in tags and "b" not in tags   # the name's <b> is text
    assert "sw&lt;b&gt;&amp;.yaml" in text        # user text (here the sweep file's name) is escaped
    imgs = [a["src"] for t, a in p.tags if t == "img"]
    assert imgs and all(s.startswith("data:image/png;base64,") for s in imgs)
    assert all(base64.b64decode(s.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n" for s in imgs)
    assert not re.search(r"(src|href)=\"(https?:|//|file:)", text)
    assert "Regime map" in text and "unstable" in text and "customers: the same at every point" in text
    assert (html.parent / "report.md").exists()


def test_figures_have_at_most_six_panels(overhead_sweep):
    _, _, html, shapes = overhead_sweep
    assert shapes and all(r * c <= MAX_PANELS for r, c in shapes)
    # the metrics are spread over several grouped figures, not one wall of tiny panels
    assert len(list(html.parent.glob("lines_0_*.png"))) >= 4


@pytest.mark.skipif(browser() is None, reason=NO_BROWSER)
def test_sweep_report_tables_fit_a_700px_window(overhead_sweep, tmp_path):
    _, _, html, _ = overhead_sweep
    got, _ = measure(html, tmp_path)
    assert 600 <= got["width"] <= 700 and got["tables"] >= 1
    assert got["overflow"] == [] and got["scroll"] <= got["width"], got


def test_sweep_prints_the_win_counts_of_the_regime_map(overhead_sweep, capsys):
    from sim.cli.sweep_cmd import _print_wins

    plan, out, html, _ = overhead_sweep
    capsys.readouterr()
    _print_wins(plan, out / "sweep_summary.parquet")
    lines = capsys.readouterr().out.strip().splitlines()
    csv = pd.read_csv(html.parent / "regime.csv", keep_default_na=False)
    assert len(lines) == 2 and lines[0].startswith("wins on mean resolution time")
    for line, (metric, g) in zip(lines, csv.groupby("metric", sort=False)):
        counts = dict(part.rsplit(" ", 1) for part in line.split("(points): ", 1)[1].split(", "))
        assert {k: int(v) for k, v in counts.items()} == g["winner"].replace("", "no data").value_counts().to_dict()


def test_a_regime_cell_names_money_as_cost_from_the_catalogue():
    from sim.sweep.report import _cell_text

    for metric, word in (("sla_penalty", "cost"), ("payroll", "cost"), ("cost_per_resolved", "cost"),
                         ("resolution_mean_min", "time"), ("wait_mean_min", "wait_mean_min")):
        assert _cell_text({"metric": metric, "winner": ""}) == f"{word}: n/a"
