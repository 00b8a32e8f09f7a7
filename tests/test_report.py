"""The decision report: renders for every scenario, is self-contained, escapes user text; CLI paths."""
from __future__ import annotations

import base64
import io
import html
import re
import shlex
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from sim import load_scenario, scenario_from_dict, simulate
from sim.analysis import stability_flags
from sim.cli import main
from sim.cli.display import print_summary
from sim.report import build_report, default_report_dir, slug
from sim.report.figures import FIGURES

from conftest import mmc_dict, three_tier_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "em", "dl", "wbr",
                "dt", "dd", "div", "table", "thead", "tbody", "tr", "th", "td", "figure", "img",
                "figcaption", "ul", "li", "pre", "code"}


class _Tags(HTMLParser):
    """Collects every tag and attribute: what a browser would actually build from the file."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(text: str) -> list[tuple[str, dict]]:
    p = _Tags()
    p.feed(text)
    return p.tags


def short(scn, days: float = 1.0, warmup: float = 0.25, reps: int = 2):
    return scn.replace(horizon={"days": min(days, scn.horizon.days),
                                "warmup_days": min(warmup, scn.horizon.warmup_days)},
                       replications=reps)


def assert_complete_report(paths, policies: list[str]) -> str:
    text = paths.html.read_text(encoding="utf-8")
    tags = parse(text)
    used = {t for t, _ in tags}
    assert used <= ALLOWED_TAGS, f"unexpected tags {used - ALLOWED_TAGS}"
    # self-contained: every image is an embedded PNG, nothing is fetched, nothing runs
    imgs = [a for t, a in tags if t == "img"]
    assert len(imgs) == len(FIGURES)
    for a in imgs:
        assert a["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(a["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any(k.startswith("on") for _, a in tags for k in a), "event handler attribute"
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    ids = {a.get("id") for _, a in tags}
    for key, *_ in FIGURES:
        assert f"fig-{key}" in ids, key
    assert "verdict" in ids and any(t == "table" and a.get("class") == "verdict" for t, a in tags)
    others = [p for p in policies if p != paths.analysis.baseline]
    assert [r.policy for r in paths.content.verdict_rows] == others
    for p in others:
        assert f"<td>{html.escape(p)}</td>" in text.replace("<wbr>", "")   # wrap points only
    md = paths.markdown.read_text(encoding="utf-8")
    assert "## Verdict" in md and "| Policy |" in md
    for f in paths.figures:
        assert f.exists() and f.read_bytes()[:4] == b"\x89PNG"
    return text


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_report_renders_for_every_shipped_scenario(path, tmp_path):
    scn = short(load_scenario(path))
    res = simulate(scn)
    paths = build_report(res, tmp_path / "rep")
    text = assert_complete_report(paths, [str(p) for p in res.policies])
    assert f"seed</dt><dd>{res.seed}</dd>" in text
    assert f"supportsim {res.version}" in text
    for team in scn.teams:
        assert f"<td>{html.escape(team.name)}</td>" in text.replace("<wbr>", "")
    # a scenario with first-response targets gets service level in the verdict too
    has_targets = any(s.first_response_target is not None for s in scn.segments)
    compared = bool(paths.content.verdict_rows)
    assert ("Service level (first touch within target)" in paths.content.verdict.header) == (
        has_targets and compared)


PAYLOADS = {
    "name": "<script>alert('name')</script>",
    "description": "<img src=x onerror=alert(2)> & \"quoted\"",
    "segment": "<b onmouseover=alert(3)>vip</b>",
    "team": "L1 </td></tr><script>alert(4)</script>",
    "issue": "how|to *bold* [link](http://x)",
    "skill": "<style>body{display:none}</style>",
}


def hostile_scenario():
    d = three_tier_dict(name=PAYLOADS["name"], description=PAYLOADS["description"],
                        horizon={"days": 1.5, "warmup_days": 0.25})
    d["segments"][0]["name"] = PAYLOADS["segment"]
    d["segments"][0]["first_response_target"] = 5
    d["teams"][0]["name"] = PAYLOADS["team"]
    d["issues"][0]["name"] = PAYLOADS["issue"]
    d["issues"][0]["skill"] = PAYLOADS["skill"]
    for t in d["teams"]:
        t["skills"] = [PAYLOADS["skill"] if s == "general" else s for s in t["skills"]]
    return scenario_from_dict(d, "hostile")


def test_report_escapes_all_user_text(tmp_path):
    res = simulate(hostile_scenario())
    paths = build_report(res, tmp_path / "rep")
    text = assert_complete_report(paths, [str(p) for p in res.policies])
    for key, payload in PAYLOADS.items():
        if html.escape(payload) != payload:       # markup-free payloads are fine raw in HTML
            assert payload not in text, f"raw {key} in HTML"
        assert html.escape(payload) in text.replace("<wbr>", ""), f"{key} not shown (escaped) in HTML"
    # the only <style> and no <script> at all: the parsed document has exactly one style element
    tags = [t for t, _ in parse(text)]
    assert tags.count("style") == 1 and "script" not in tags and "b" not in tags
    md = paths.markdown.read_text(encoding="utf-8")
    for key, payload in PAYLOADS.items():
        assert payload not in md, f"raw {key} in Markdown"
    assert "<script" not in md and "<img" not in md and "<style" not in md
    # a table cell cannot be split by a user's pipe
    assert r"how\|to" in md or "how|to" not in md
    # the default directory name is one safe path component
    d = default_report_dir(PAYLOADS["name"])
    assert d.parent == Path("reports") and "/" not in d.name and "<" not in d.name
    assert slug("../..") not in ("", ".", "..")


def test_unstable_policy_is_never_presented_as_a_normal_result(tmp_path):
    over = scenario_from_dict(mmc_dict(servers=2, per_hour=24, mean_work=10, days=2, warmup_days=0.5,
                                       replications=2), "overloaded")
    over = over.replace(policies={"tiered": {}, "swarming": {}})
    res = simulate(over)
    paths = build_report(res, tmp_path / "rep")
    # both are unstable: each gets an UNSTABLE row (the baseline too), none is compared
    rows = paths.content.verdict_rows
    assert [r.policy for r in rows] == ["tiered", "swarming"]
    assert all(r.status == "unstable" and "UNSTABLE" in r.sentence for r in rows)
    assert "No policy keeps up" in paths.content.verdict_lead
    for verdict in paths.content.verdict.rows:
        assert verdict[2] == "UNSTABLE" and all(c == "not compared" for c in verdict[3:])
    assert paths.content.verdict.row_status == ["danger", "danger"]
    text = paths.html.read_text(encoding="utf-8")
    assert 'class="alert danger"' in text and "unstable under tiered" in text
    # the key-metrics table still shows their numbers, but every column says they are unstable
    key = paths.content.tables[0]
    assert key.header == ["metric", "tiered (UNSTABLE)", "swarming (UNSTABLE)"]
    assert "UNSTABLE: the system did not settle" in key.note
    md = paths.markdown.read_text(encoding="utf-8")
    assert "tiered (UNSTABLE)" in md and "swarming (UNSTABLE)" in md
    assert "tiered (UNSTABLE)" in text
    # ... and so does the terminal table
    out = io.StringIO()
    print_summary(res, Console(file=out, width=250))
    shown = out.getvalue()
    assert "tiered (UNSTABLE)" in shown and "swarming (UNSTABLE)" in shown
    assert "UNSTABLE: the system did not settle" in shown


def test_stable_policies_carry_no_unstable_marker(tmp_path):
    scn = scenario_from_dict(three_tier_dict(horizon={"days": 1, "warmup_days": 0.25}), "calm")
    res = simulate(scn, policies=["tiered", "swarming"], replications=2)
    assert not any(stability_flags(res).values())
    key = build_report(res, tmp_path / "rep").content.tables[0]
    assert key.header == ["metric", "tiered", "swarming"] and "UNSTABLE" not in key.note
    out = io.StringIO()
    print_summary(res, Console(file=out, width=250))
    assert "UNSTABLE" not in out.getvalue()


def test_single_policy_single_replication_says_what_it_cannot_tell(tmp_path):
    scn = scenario_from_dict(three_tier_dict(horizon={"days": 1, "warmup_days": 0.25}), "one")
    paths = build_report(simulate(scn, policies=["tiered"], replications=1), tmp_path / "rep")
    assert paths.content.verdict_rows == []
    assert "nothing to compare" in paths.content.verdict_lead
    assert paths.content.wins == []          # one policy wins nothing: it had no competitor
    alerts = " ".join(t for _, t in paths.content.alerts)
    assert "only one replication" in alerts and "only one policy" in alerts


def test_verdict_sentence_reads_plainly(tmp_path):
    scn = scenario_from_dict(three_tier_dict(replications=3), "plain")
    paths = build_report(simulate(scn, policies=["tiered", "swarming"]), tmp_path / "rep")
    (row,) = paths.content.verdict_rows
    # swarming never hands off: the sentence must say so, with numbers and CIs for the rest
    assert row.sentence.startswith("Swarming ")
    assert "removes all handoffs and repeats" in row.sentence
    assert "compared with tiered" in row.sentence and "±" in row.sentence
    assert row.cells["handoffs_per_ticket"].policy_mean == 0


# ----------------------------------------------------------------------------- command line
def write_scenario(tmp_path: Path, **over) -> Path:
    p = tmp_path / "scn.yaml"
    p.write_text(yaml.safe_dump(three_tier_dict(**over), sort_keys=False), encoding="utf-8")
    return p


def test_run_out_writes_report_and_report_command_rebuilds_it(tmp_path, capsys):
    scn = write_scenario(tmp_path)
    res_dir = tmp_path / "res"
    assert main(["run", str(scn), "--days", "1.5", "--replications", "2", "--out", str(res_dir)]) == 0
    out = capsys.readouterr().out
    assert (res_dir / "report.html").exists() and (res_dir / "summary.md").exists()
    assert f"report written to {res_dir / 'report.html'}" in out
    assert "Verdict vs tiered" in out
    rebuilt = tmp_path / "rebuilt"
    assert main(["report", str(res_dir), "--out", str(rebuilt)]) == 0
    assert f"report written to {rebuilt / 'report.html'}" in capsys.readouterr().out

    def verdict(md: Path) -> str:
        text = md.read_text(encoding="utf-8")
        return text[text.index("## Verdict"):text.index("## Figures")]

    assert verdict(rebuilt / "summary.md") == verdict(res_dir / "summary.md")
    # a chosen baseline is honoured; an unknown one is one clear line, exit 2
    assert main(["report", str(res_dir), "--out", str(tmp_path / "b"), "--baseline", "swarming"]) == 0
    assert "compared with swarming" in (tmp_path / "b" / "summary.md").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["report", str(res_dir), "--out", str(tmp_path / "c"), "--baseline", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0] and "Traceback" not in err[0]


def test_report_command_rejects_missing_or_incomplete_dirs(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing" in err[0]
    (tmp_path / "half").mkdir()
    assert main(["report", str(tmp_path / "half")]) == 2
    assert "meta.json" in capsys.readouterr().err


def test_default_run_writes_reports_dir_and_named_run_does_not(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)     # the default scenario is found in the project checkout
    assert main(["--days", "1", "--replications", "2"]) == 0
    out = capsys.readouterr().out
    target = Path("reports") / "default" / "report.html"
    assert target.exists() and f"report written to {target}" in out
    # the reproduce command names the scenario file written beside the report, and works there
    cmd = shlex.split(_reproduce_line(target.parent / "summary.md"))
    assert (target.parent / cmd[2]).exists()
    monkeypatch.chdir(target.parent)
    assert main([*cmd[1:], "--days", "1"]) == 0
    monkeypatch.chdir(tmp_path)
    scn = write_scenario(tmp_path, name="named")
    assert main(["run", str(scn), "--days", "1", "--replications", "2"]) == 0
    assert not (tmp_path / "reports" / "named").exists()
    assert "--report DIR" in capsys.readouterr().out
    assert main(["run", str(scn), "--days", "1", "--replications", "2", "--report", "r2"]) == 0
    assert (tmp_path / "r2" / "report.html").exists()
    assert main(["run", str(scn), "--days", "1", "--replications", "2", "--out", "o", "--no-report"]) == 0
    assert (tmp_path / "o" / "meta.json").exists() and not (tmp_path / "o" / "report.html").exists()


PLUGIN_SOURCE = '''
from sim.policies.tiered import Tiered


class TieredAgain(Tiered):
    """Tiered under another name: a plug-in for the reproduce test."""
    name = "tiered_again_for_report"
'''


def _reproduce_line(md: Path) -> str:
    text = md.read_text(encoding="utf-8")
    block = text[text.index("## Reproduce"):]
    return block.split("```")[1].strip()


def test_reproduce_command_runs_from_the_report_dir_incl_plugins(tmp_path, monkeypatch, capsys):
    from sim.policies import registry
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "report_repro_plugin.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(mods))
    cls = registry.load_plugin("report_repro_plugin:TieredAgain")
    try:
        scn = scenario_from_dict(three_tier_dict(horizon={"days": 1, "warmup_days": 0.25}), "repro")
        res = simulate(scn, policies=["tiered", cls.name], replications=2, seed=7)
        rep = tmp_path / "rep"
        paths = build_report(res, rep)
        cmd = _reproduce_line(paths.markdown)
        assert "--plugin report_repro_plugin:TieredAgain" in cmd
        assert cmd.count("--plugin") == 1          # the built-in needs none
        assert "--seed 7" in cmd and "scenario.yaml" in cmd
        assert (rep / "scenario.yaml").exists()
        assert load_scenario(rep / "scenario.yaml").to_dict() == res.scenario.to_dict()
        argv = shlex.split(cmd)
        assert argv[:2] == ["supportsim", "run"]
        monkeypatch.chdir(rep)
        capsys.readouterr()
        assert main([*argv[1:], "--days", "0.5"]) == 0, capsys.readouterr().err
    finally:
        registry.unregister(cls.name)


def test_interval_wording_follows_the_level_the_analysis_used():
    """The report says the level its intervals were computed at (the catalogue's 95 % by
    default); an analysis at another level is never labelled "95 %"."""
    from sim.analysis import analyze
    from sim.report.content import build_content
    from sim.report.format import fmt_level
    from sim.schema import CONFIDENCE_LEVEL

    res = simulate(short(scenario_from_dict(three_tier_dict()), days=0.5, warmup=0.1, reps=2),
                   policies=["tiered", "swarming"])
    default = build_content(res, analyze(res))
    assert fmt_level(CONFIDENCE_LEVEL) == "95 %"
    assert any(t.title == "Key metrics (mean ± 95 % CI over replications)" for t in default.tables)
    content = build_content(res, analyze(res, level=0.9))
    key = next(t for t in content.tables if t.title.startswith("Key metrics"))
    assert key.title == "Key metrics (mean ± 90 % CI over replications)" and "90 % Student-t" in key.note
    assert "90 % Student-t" in content.verdict.note
    texts = [key.title, key.note, content.verdict.note, *content.method,
             *(t.note or "" for t in content.tables)]
    said = re.compile(r"95 % (Student|CI|paired|interval)")      # the level, not the 95 % stability limit
    assert not any(said.search(t) for t in texts), [t for t in texts if said.search(t)]


def test_metric_facts_come_from_the_catalogue():
    from sim.report.format import is_money, is_share, label, metric_kind
    from sim.schema import METRICS, metric_info

    for name, m in METRICS.items():
        assert metric_kind(name) == m.kind and is_share(name) == m.is_share
        assert label(name).startswith(m.label)
    assert metric_kind("utilisation_=x") == metric_info("utilisation_=x").kind == "share"
    assert metric_kind("not_a_metric_share") == "ratio" and not is_money("payroll_per_hour_x")
