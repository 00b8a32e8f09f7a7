"""The "At equal service" report section: what each policy needs to meet the targets, and its payroll.

Reads a staffing directory written by ``run_sim.py staff`` (staffing.json,
staffing.csv, staffing_summary.csv, evaluations.parquet) and never runs
anything.  :func:`staffing_section` gives the HTML fragment (for the staff
command's own ``report.html`` and for the decision report, when staffing
results exist for its scenario); :func:`write_staffing_report` writes the
self-contained page.  Text is escaped once, by the writers' helpers.
"""
from __future__ import annotations

import base64
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from ..analysis import metric_label
from .format import fmt_level
from ..atomic import write_text
from .content import Table, fmt_metric
from .writers import _e, _html_table, page_head

__all__ = ["StaffingResults", "load_staffing", "staffing_section", "write_staffing_report",
           "search_figure", "with_equal_service", "SECTION_TITLE", "DEFAULT_ROOT"]

SECTION_TITLE = "At equal service"
#: where ``staff`` writes by default (``results/staffing/<scenario-name>``)
DEFAULT_ROOT = Path("results") / "staffing"


@dataclass
class StaffingResults:
    directory: Path
    manifest: dict[str, Any]
    staffing: pd.DataFrame
    summary: pd.DataFrame
    evaluations: pd.DataFrame

    @property
    def targets(self) -> list[tuple[str, str, float]]:
        out = []
        for text in self.manifest.get("targets", []):
            op = "<=" if "<=" in text else ">="
            metric, bound = text.split(op)
            out.append((metric, op, float(bound)))
        return out


def _change(rel: float) -> str:
    """'+12.5%' — or 'the same' when it prints as zero (never '+0.0%': a tie is said as one)."""
    text = f"{rel:+.1%}"
    return "the same" if text.strip("+-0.%") == "" else text


def load_staffing(directory: str | os.PathLike) -> Optional[StaffingResults]:
    """The staffing results in ``directory``, or None if it holds no complete set."""
    d = Path(directory)
    files = [d / n for n in ("staffing.json", "staffing.csv", "staffing_summary.csv", "evaluations.parquet")]
    if not all(f.is_file() for f in files):
        return None
    from ..outputs.cells import csv_unescape_frame    # staffing.csv escapes formula-like names

    from ..outputs.jsonfile import read_json

    try:
        manifest = read_json(files[0])
    except ValueError:
        return None                 # not a staffing manifest supportsim could have written
    if not isinstance(manifest, dict):
        return None
    return StaffingResults(d, manifest,
                           csv_unescape_frame(pd.read_csv(files[1])),
                           csv_unescape_frame(pd.read_csv(files[2])), pd.read_parquet(files[3]))


def _staffing_text(res: StaffingResults, policy: str) -> str:
    rows = res.staffing[res.staffing["policy"] == policy]
    return " · ".join(f"{r.team} {int(r.agents)}" for r in rows.itertuples(index=False))


def _current_payroll_per_hour(res: StaffingResults, policy: str) -> float:
    """Measured payroll per hour of the scenario's own staffing under ``policy`` (its pilot run;
    with shifts it includes overtime, so it can differ by policy)."""
    teams = res.staffing[res.staffing["policy"] == policy]
    ev = res.evaluations[res.evaluations["policy"] == policy]
    for r in teams.itertuples(index=False):
        ev = ev[ev[f"agents_{r.team}"] == r.current_agents]
    if not len(ev):
        return math.nan
    return float(ev.sort_values("replications").iloc[-1]["payroll_per_hour"])


def _payroll_table(res: StaffingResults) -> Table:
    rows, status, current = [], [], {}
    for r in res.summary.itertuples(index=False):
        current[r.policy] = _current_payroll_per_hour(res, r.policy)
        change = (r.payroll_per_hour / current[r.policy] - 1) if current[r.policy] > 0 else math.nan
        rows.append([str(r.policy), "yes" if r.feasible else "NO (best reached)",
                     _staffing_text(res, r.policy), f"{r.payroll_per_hour:,.1f}",
                     "-" if math.isnan(change) else _change(change),
                     fmt_metric("payroll_per_resolved", r.payroll_per_resolved),
                     str(int(r.evaluations))])
        status.append("" if r.feasible else "danger")
    feasible = res.summary[res.summary["feasible"].astype(bool)]
    note = ""
    if len(feasible):
        cheapest = feasible.loc[feasible["payroll_per_hour"].idxmin()]
        base = feasible[feasible["policy"] == "tiered"]
        base = base.iloc[0] if len(base) else feasible.iloc[0]
        versus = "; ".join(f"{r.policy} {_change(r.payroll_per_hour / base['payroll_per_hour'] - 1)}"
                           for r in feasible.itertuples(index=False) if r.policy != base["policy"]
                           and base["payroll_per_hour"] > 0)
        low = f"{cheapest['payroll_per_hour']:,.1f}"
        tied = [str(r.policy) for r in feasible.itertuples(index=False) if f"{r.payroll_per_hour:,.1f}" == low]
        head = (f"Cheapest at equal service: {cheapest['policy']} at {low} per hour" if len(tied) < 2 else
                f"Cheapest at equal service: {' and '.join(tied)} tie at {low} per hour")
        note = (head + (f"; payroll against {base['policy']} at equal service: {versus}" if versus
                               else "") + ". Payroll is what the agents are paid in the measured window (paid "
                "agent-hours x cost per hour; with shifts, shift hours and overtime), not the "
                "value of their busy minutes; the change is against "
                "the scenario's current staffing under the same policy ("
                + ", ".join(f"{p} {c:,.1f}" for p, c in current.items() if c == c) + " per hour).")
    return Table("Payroll per policy at the staffing that meets every target",
                 ["policy", "feasible", "staffing (agents per team)", "payroll per hour",
                  "vs current staffing", "payroll per resolved ticket", "staffings evaluated"],
                 rows, note=note, row_status=status)


def _targets_table(res: StaffingResults) -> Table:
    rows, status = [], []
    targets = res.targets + [(f"utilisation_{t}", "<=", float(res.manifest["max_utilisation"]))
                             for t in res.staffing["team"].unique()]
    chosen = res.summary.set_index("policy")
    ev = res.evaluations
    for policy in res.summary["policy"]:
        row = chosen.loc[policy]
        match = ev[(ev["policy"] == policy) & (ev["staffing"] == row["staffing"])
                   & (ev["seed"] == row["seed"])]
        if not len(match):
            continue
        m = match.iloc[0]
        for metric, op, bound in targets:
            if metric not in m.index:
                continue
            mean, low, high = float(m[metric]), float(m[f"{metric}_ci_low"]), float(m[f"{metric}_ci_high"])
            edge = high if op == "<=" else low
            if math.isnan(edge):
                edge = mean
            met = edge <= bound if op == "<=" else edge >= bound
            rows.append([str(policy), metric_label(metric), f"{op} {fmt_metric(metric, bound)}",
                         fmt_metric(metric, mean),
                         f"{fmt_metric(metric, low)} – {fmt_metric(metric, high)}",
                         "met" if met else "missed"])
            status.append("" if met else "danger")
    kind = "fresh confirmation" if any(res.summary["seed"] == res.manifest.get("confirm_seed")) else "search"
    return Table("How each target is met", ["policy", "metric", "bound", "mean", f"{fmt_level()} interval",
                                            "verdict"],
                 rows, note=(f"A target (and the utilisation cap, on every team) is met when its whole "
                             f"{fmt_level()} interval lies on the allowed side of the bound. Numbers from the "
                             f"{kind} replications."), row_status=status)


def search_figure(res: StaffingResults) -> Optional[bytes]:
    """Payroll per hour against each target metric, one point per evaluated staffing (PNG)."""
    from . import figures  # noqa: F401  (selects the headless Agg backend)
    import matplotlib.pyplot as plt

    targets = res.targets
    ev = res.evaluations
    if not targets or not len(ev):
        return None
    policies = list(res.summary["policy"])
    colours = dict(zip(policies, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4))
    fig, axes = plt.subplots(1, len(targets), figsize=(6.2 * len(targets), 4.4), squeeze=False)
    for ax, (metric, op, bound) in zip(axes[0], targets):
        if metric not in ev.columns:
            continue
        for policy in policies:
            g = ev[ev["policy"] == policy]
            full = g["replications"] >= g["replications"].max()
            ok = g["feasible"].astype(bool)
            c = colours[policy]
            ax.scatter(g.loc[full & ok, metric], g.loc[full & ok, "payroll_per_hour"], color=c, s=28,
                       label=f"{policy}: meets all")
            ax.scatter(g.loc[~ok, metric], g.loc[~ok, "payroll_per_hour"], facecolors="none",
                       edgecolors=c, s=28, label=f"{policy}: misses a target or the cap")
            ans = res.summary[res.summary["policy"] == policy].iloc[0]
            ax.scatter([ans[f"{metric}_mean"]], [ans["payroll_per_hour"]], marker="*", s=220,
                       color=c, edgecolors="black", zorder=5, label=f"{policy}: answer")
        ax.axvline(bound, color="#c0392b", linestyle="--", linewidth=1)
        values = ev[metric].dropna()
        values = values[values > 0]
        if len(values) and values.max() / max(values.min(), 1e-12) > 30:
            ax.set_xscale("log")
        ax.set_xlabel(f"{metric_label(metric)} (bound {op} {bound:g})")
        ax.set_ylabel("payroll per hour")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)
    plt.close(fig)
    return buf.getvalue()


def staffing_section(res: StaffingResults, heading: str = "h2") -> str:
    """The HTML fragment of the "At equal service" section."""
    m = res.manifest
    intro = (f"For each policy, the staffing (whole agents per team; teams that may change: "
             f"{', '.join(m.get('teams_changeable', []))}) with the lowest payroll that meets "
             f"{', '.join(m.get('targets', []))} and keeps every team's utilisation at most "
             f"{float(m['max_utilisation']):.0%}. Searched by simulation on the same customers at every "
             f"candidate ({m['replications']} replications, seed {m['seed']}), started from Erlang C "
             f"staffing of each team's offered load, and confirmed on {m['replications']} fresh "
             f"replications (seed {m['confirm_seed']}). Method: docs/staffing.md.")
    parts = [f'<{heading} id="equal-service">{_e(SECTION_TITLE)}</{heading}>', f"<p>{_e(intro)}</p>"]
    infeasible = res.summary[~res.summary["feasible"].astype(bool)]
    for r in infeasible.itertuples(index=False):
        parts.append(f'<div class="alert danger">{_e(r.policy)}: {_e(r.note)}; the table shows the best '
                     f"staffing it reached.</div>")
    parts.append(_html_table(_payroll_table(res)))
    parts.append(_html_table(_targets_table(res)))
    png = search_figure(res)
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        title = "The search: payroll against each target metric, one point per evaluated staffing"
        caption = ("Filled: meets every target and the cap; hollow: misses one (or was rejected early on "
                   "its screening replications); star: the answer; dashed: the bound.")
        parts.append(f'<figure id="fig-staffing-search"><h3>{_e(title)}</h3>'
                     f'<img alt="{_e(title)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{_e(caption)}</figcaption></figure>")
    return "\n".join(parts)


def with_equal_service(page: str, scenario: Any, root: str | os.PathLike = DEFAULT_ROOT) -> str:
    """The decision report's HTML with the "At equal service" section added before its end,
    when ``root/<scenario-name>/`` holds staffing results computed from this very scenario
    (same data, staffing included); else ``page`` unchanged."""
    from ..staffing.store import scenario_identity
    from . import slug

    res = load_staffing(Path(root) / slug(scenario.name))
    if res is None or res.manifest.get("scenario_identity") != scenario_identity(scenario.to_dict()):
        return page
    where = (f"<p class=\"note\">From the staffing search in {_e(res.directory)} "
             f"(<code>run_sim.py staff</code>, docs/staffing.md).</p>")
    section = staffing_section(res) + "\n" + where + "\n"
    end = page.rfind("</body>")
    return page[:end] + section + page[end:] if end >= 0 else page + section


def write_staffing_report(directory: str | os.PathLike) -> Path:
    """Write ``DIR/report.html``: the section as one self-contained page (no external resources)."""
    res = load_staffing(directory)
    if res is None:
        raise FileNotFoundError(f"{directory}: no complete staffing results")
    title = f"{res.manifest.get('scenario', '')}: staffing at equal service"
    page = [*page_head(title), staffing_section(res), "</body></html>"]
    path = Path(directory) / "report.html"
    write_text(path, "\n".join(page) + "\n")
    return path
