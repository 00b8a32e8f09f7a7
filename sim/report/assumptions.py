"""Report section "What this verdict assumes, and what would change it" (right after the verdict).

It names the contested assumptions of the swarm and tiering models with the
values this scenario gives them, quotes the scenario file's ``# ASSUMPTION``
comments, and states each verdict metric's flip points in words ("swarming
stays cheaper than tiered while swarm owner contribution ≥ 0.63").  The flip
points come from a sensitivity analysis (:mod:`sim.sensitivity`) attached to
the result as ``result.sensitivity`` (the main job computes a quick one;
``run --out DIR`` saves it in ``DIR/sensitivity/`` so ``report DIR`` shows it
again).  This module only reads: it never runs a simulation.

Hooks: :func:`assumptions_section` is called by ``build_content``;
:func:`assumptions_html` / :func:`assumptions_markdown` by the writers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..schema import metric_label

__all__ = ["AssumptionsSection", "assumptions_section", "assumptions_html", "assumptions_markdown",
           "flip_sentences", "attach_saved", "TITLE"]

TITLE = "What this verdict assumes, and what would change it"

#: (better, worse) comparatives of a verdict metric; other metrics read "ahead of / behind ... on <label>"
_ADJECTIVES = {
    "resolution_mean_min": ("faster", "slower"),
    "cost_per_resolved": ("cheaper", "dearer"),
    "payroll_per_resolved": ("cheaper", "dearer"),
}


@dataclass
class AssumptionsSection:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)          # flip points in words
    comments: list[str] = field(default_factory=list)         # the scenario's # ASSUMPTION comments
    tables: list[Any] = field(default_factory=list)           # sim.report.content.Table
    closing: list[str] = field(default_factory=list)


def _nice(policy: str) -> str:
    text = str(policy).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _compare(verb: str, metric: str, good: bool, baseline: str) -> str:
    """``is faster than tiered`` / ``would be ahead of tiered on repeats per ticket``."""
    if metric in _ADJECTIVES:
        return f"{verb} {_ADJECTIVES[metric][0 if good else 1]} than {baseline}"
    label = metric_label(metric)
    return f"{verb} {'ahead of' if good else 'behind'} {baseline} on {label.lower()}"


def _label(metric: str) -> str:
    return metric_label(metric)


def _is_nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _fmt(sens: Any, path: str, value: Any) -> str:
    p = sens.param(path)
    if _is_nan(value):
        return "-"
    if p is not None and p.relative:
        return f"×{float(value):.2g} the scenario's value"
    return f"{float(value):.2g}"


def flip_sentences(sens: Any) -> list[str]:
    """Each flip point in words, then one line per (policy, metric) that never flips."""
    if sens is None or sens.flips is None or not len(sens.flips):
        return []
    out: list[str] = []
    f = sens.flips
    for _, row in f.iterrows():
        if _is_nan(row["flip_value"]):
            continue
        path, metric = row["parameter"], row["metric"]
        p = sens.param(path)
        name = p.human if p is not None else path
        pol, base = _nice(row["policy"]), str(row["baseline"])
        above = row.get("better_side", "") == "above"
        op = "≥" if above else "≤"
        flip = _fmt(sens, path, row["flip_value"])
        centre = sens.base_values.get(path)
        here = "" if centre is None else f"; this scenario: {_fmt(sens, path, centre)}"
        where = f"(the sign changes between {_fmt(sens, path, row['low'])} and {_fmt(sens, path, row['high'])}{here})"
        holds_now = centre is not None and ((float(centre) >= float(row["flip_value"])) == above)
        note = str(row.get("note", "") or "")
        overloaded = str(row.get("unstable", "") or "").strip()     # typed: who is unstable there
        caveat = f" Caveat: {note}." if overloaded and note else ""
        caveat += _several_changes(sens, path, row)
        if holds_now:
            out.append(f"{pol} {_compare('stays', metric, True, base)} while {name} {op} {flip} {where}.{caveat}")
        else:
            out.append(f"{pol} {_compare('would be', metric, True, base)} if {name} were {op} {flip} {where}."
                       f"{caveat}")
    steady: dict[str, list[tuple[str, bool]]] = {}          # policy -> [(metric, ahead)] never flipping
    for (pol, metric), g in f.groupby(["policy", "metric"], sort=False):
        if g["flip_value"].notna().any():
            continue
        ahead = {str(a) for a in (g["ahead"] if "ahead" in g.columns else []) if a == a and str(a)}
        if len(ahead) == 1:
            steady.setdefault(str(pol), []).append((str(metric), next(iter(ahead)) == pol))
    for pol, items in steady.items():
        out.append(f"{_nice(pol)} {_steady_phrase(items, sens.baseline)}, across every range tested "
                   "(no flip point).")
    return out


def _changes(row: Any) -> int:
    """The row's typed ``sign_changes`` (0 when the table predates it or leaves it empty)."""
    n = row.get("sign_changes", 0)
    return 0 if _is_nan(n) or n is None or n == "" else int(n)


def _several_changes(sens: Any, path: str, row: Any) -> str:
    """' Not a clean threshold: ...' when the difference changes sign more than once over the range."""
    n = _changes(row)
    if n <= 1:
        return ""
    p = sens.param(path)
    span = (f" between {_fmt(sens, path, p.low)} and {_fmt(sens, path, p.high)}" if p is not None
            else " over the range tested")
    return (f" Not a clean threshold: the verdict changes sign {n} times{span}, so this flip point is only "
            "the change nearest this scenario's value (the two policies are close there, and noise decides "
            "the sign).")


def _steady_phrase(items: list[tuple[str, bool]], baseline: str) -> str:
    """``is faster and cheaper than tiered, and ahead of it on repeats per ticket``."""
    adjectives = [_ADJECTIVES[m][0 if good else 1] for m, good in items if m in _ADJECTIVES]
    ahead = [_label(m).lower() for m, good in items if m not in _ADJECTIVES and good]
    behind = [_label(m).lower() for m, good in items if m not in _ADJECTIVES and not good]
    parts = []
    if adjectives:
        parts.append(f"is {' and '.join(adjectives)} than {baseline}")
    for word, names in (("ahead of", ahead), ("behind", behind)):
        if names:
            whom = "it" if parts else baseline
            parts.append(f"{'is ' if not parts else ''}{word} {whom} on {' and '.join(names)}")
    return ", and ".join(parts)


def _assumption_rows(scn: Any, policies: list[str]) -> list[list[str]]:
    fr = scn.frictions
    c_set = getattr(fr, "swarm_owner_contribution", None)
    k_set = getattr(fr, "swarm_coordination", None)
    c = getattr(fr, "swarm_c", 1.0)
    k = getattr(fr, "swarm_k", fr.swarm_overhead)
    rows = [
        ["swarm owner contribution c", f"{c:g}" + ("" if c_set is not None else " (not set: a full contributor)"),
         "what an owner who cannot resolve the ticket adds to a swarm, as a fraction of a qualified "
         "agent's rate: 1 = a full contributor, 0 = only shadows the expert"],
        ["swarm coordination k", f"{k:g}" + ("" if k_set is not None else f" (from swarm_overhead {fr.swarm_overhead:g})"),
         "extra effort per helper, as a fraction of the work; swarm duration = work × (1 + k·h) / (h + c)"],
    ]
    search = getattr(fr, "swarm_search", None)
    if search is not None:
        rows.append(["swarm search time", _dist(search), "owner's time to find a helper before asking"])
    fit = getattr(fr, "swarm_helper_fit", None)
    if fit is not None:
        rows.append(["swarm helper fit", f"{fit:g}", "chance the helper found can resolve the ticket"])
    rows += [
        ["handoff write-up", _dist(fr.handoff), "agent minutes to pass a ticket on"],
        ["customer repeat", _dist(fr.repeat), "minutes the customer and the next agent spend re-explaining"],
    ]
    for t in scn.teams:
        if getattr(t, "diagnose", None) is not None:
            rows.append([f"diagnosis time, team {t.name}", _dist(t.diagnose),
                         "minutes an agent who cannot resolve a ticket needs to find that out"])
    if "skill_routing" in policies:
        acc = (scn.policies or {}).get("skill_routing", {}) or {}
        rows.append(["triage accuracy (skill routing)", f"{acc.get('triage_accuracy', 0.85):g}",
                     "chance triage sends a ticket to the right team"])
    rows.append(["arrivals per hour", f"{scn.arrivals.per_hour:g}", "the load; every policy sees the same customers"])
    return rows


def _dist(d: Any) -> str:
    try:
        from .format import describe_dist

        return describe_dist(d)
    except Exception:          # the report's formatter is being reworked: a plain fallback
        data = d.model_dump(mode="json", by_alias=True) if hasattr(d, "model_dump") else d
        if isinstance(data, dict):
            return f"{data.get('dist', '')}(" + ", ".join(f"{k}={v}" for k, v in data.items() if k != "dist") + ")"
        return str(data)


def attach_saved(result: Any, directory: str | Path) -> None:
    """Give a result loaded from ``directory`` the analysis ``run --out`` saved beside it (if it is this run's)."""
    from ..sensitivity import SENSITIVITY_DIR, fingerprint, load_sensitivity

    if getattr(result, "sensitivity", None) is not None:
        return
    sens = load_sensitivity(Path(directory) / SENSITIVITY_DIR,
                            expect=fingerprint(result.scenario.to_dict(), result.seed))
    result.sensitivity = sens
    if sens is not None and not getattr(result, "assumption_comments", None):
        result.assumption_comments = sens.assumption_comments


def assumptions_section(result: Any, analysis: Any = None) -> AssumptionsSection:
    """The section's content for ``result`` (with or without a sensitivity analysis attached)."""
    from .content import Table

    scn = result.scenario
    policies = [str(p) for p in result.policies]
    sens = getattr(result, "sensitivity", None)
    comments = list(getattr(result, "assumption_comments", None) or (sens.assumption_comments if sens else []))
    sec = AssumptionsSection(TITLE)
    sec.paragraphs.append(
        "The verdict above holds for the values below. They are modelling assumptions, not measurements, "
        "unless the scenario cites a source for them; the swarm's owner contribution and coordination "
        "effort in particular decide most of swarming's lead (docs/model.md, \"Swarm duration\").")
    sec.tables.append(Table("Contested assumptions and their values in this scenario",
                            ["assumption", "value here", "what it means"], _assumption_rows(scn, policies)))
    sec.comments = comments
    if sens is None:
        sec.closing.append(
            "Flip points were not computed for this run. To see where each verdict turns, run: "
            "python run_sim.py sensitivity SCENARIO --out DIR (docs/sensitivity.md); the default "
            "run (python run_sim.py) includes a quick one.")
        return sec
    sec.bullets = flip_sentences(sens)
    if not sec.bullets:
        sec.bullets = ["No verdict metric changes sign over the ranges tested."]
    rows = []
    for _, r in sens.flips.iterrows():
        if _is_nan(r["flip_value"]):
            continue
        p = sens.param(r["parameter"])
        rows.append([p.human if p is not None else r["parameter"], p.spec().split("=", 1)[1] if p else "",
                     _fmt(sens, r["parameter"], sens.base_values.get(r["parameter"])), str(r["policy"]),
                     _label(str(r["metric"])), _fmt(sens, r["parameter"], r["flip_value"])
                     + (f" (one of {_changes(r)} sign changes)" if _changes(r) > 1 else ""),
                     f"{_fmt(sens, r['parameter'], r['low'])} – {_fmt(sens, r['parameter'], r['high'])}",
                     f"{r['policy']} ahead {r.get('better_side', '')}"])
    if rows:
        sec.tables.append(Table("Flip points (where the paired difference against "
                                f"{sens.baseline} changes sign)",
                                ["parameter", "range tested", "value here", "policy", "metric", "flip point",
                                 "bracket", "side"], rows))
    tested = ", ".join(f"{p.human} {p.spec().split('=', 1)[1]}" for p in sens.params)
    how = (f"Each parameter was varied on its own over {tested}, with {sens.replications} replication(s) "
           f"of {sens.horizon_days:g} days per value and the same customers at every value (common random "
           f"numbers); flip points found by bisection to within {sens.tolerance:.1%} of each range.")
    if sens.quick:
        how += (" This is the default run's quick analysis (fewer replications, a shorter horizon and a "
                "coarse bisection than the verdict above): treat its flip points as approximate, and confirm "
                "them with python run_sim.py sensitivity SCENARIO.")
    sec.closing.append(how)
    if sens.skipped:
        sec.closing.append("Not varied: " + "; ".join(f"{a} ({b})" for a, b in sens.skipped) + ".")
    if sens.failed_runs:
        sec.closing.append(f"{sens.failed_runs} run(s) of the analysis failed; those values use fewer replications.")
    return sec


def assumptions_html(sec: Optional[AssumptionsSection], table: Callable[[Any], str],
                     esc: Callable[[object], str]) -> list[str]:
    """HTML parts of the section (``table``/``esc``: the writer's own table renderer and escaper)."""
    if sec is None:
        return []
    parts = [f'<h2 id="assumptions">{esc(sec.title)}</h2>']
    parts += [f"<p>{esc(p)}</p>" for p in sec.paragraphs]
    parts += [table(t) for t in sec.tables[:1]]
    if sec.comments:
        parts.append("<h3>The scenario file's own ASSUMPTION notes</h3><ul>"
                     + "".join(f"<li>{esc(c)}</li>" for c in sec.comments) + "</ul>")
    if sec.bullets:
        parts.append('<h3>What would change the verdict</h3><ul class="sentences">'
                     + "".join(f"<li>{esc(b)}</li>" for b in sec.bullets) + "</ul>")
    parts += [table(t) for t in sec.tables[1:]]
    parts += [f'<p class="note">{esc(p)}</p>' for p in sec.closing]
    return parts


def assumptions_markdown(sec: Optional[AssumptionsSection], table: Callable[[Any], str],
                         esc: Callable[[object], str]) -> list[str]:
    """Markdown lines of the section (``table``/``esc``: the writer's own helpers)."""
    if sec is None:
        return []
    lines = [f"## {esc(sec.title)}", ""]
    for p in sec.paragraphs:
        lines += [esc(p), ""]
    lines += [table(t) for t in sec.tables[:1]]
    if sec.comments:
        lines += ["The scenario file's own ASSUMPTION notes:", ""] + [f"- {esc(c)}" for c in sec.comments] + [""]
    if sec.bullets:
        lines += ["### What would change the verdict", ""] + [f"- {esc(b)}" for b in sec.bullets] + [""]
    lines += [table(t) for t in sec.tables[1:]]
    for p in sec.closing:
        lines += [f"_{esc(p)}_", ""]
    return lines
