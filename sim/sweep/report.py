"""The sweep report: a paired, stability-aware regime map and grouped metric-vs-parameter plots.

Written to ``DIR/report/``: ``report.html`` (one self-contained file like the
run report: inline CSS, figures as embedded PNG, every text escaped, nothing
fetched), ``report.md`` with the PNG figures beside it, and ``regime.csv``.

Who wins a point (docs/sweeps.md, "Report"): the policies of a point share
their customers replication by replication, so they are compared **paired**
(:func:`sim.analysis.pairwise.best_policies`): a policy wins when its mean is
best and its paired 95 % interval against every other candidate excludes
zero; the margin is its lead over the runner-up with that interval.  A policy
that is **unstable** at the point - a team at or above the utilisation limit
(the run report's rule, read from the rows' ``utilisation_<team>`` columns) -
is never a candidate, and the cell names it.
"""
from __future__ import annotations

import base64
import itertools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from ..analysis.pairwise import UTILISATION_LIMIT, best_policies, utilisation_unstable  # noqa: E402
from ..atomic import write_bytes, write_text  # noqa: E402
from ..report.format import currency_of, fmt_level, is_share, label as metric_label, MINUS  # noqa: E402
from ..schema import CONFIDENCE_LEVEL, is_utilisation  # noqa: E402
from .expand import Axis, SweepPlan, changes_customers  # noqa: E402
from .store import Layout  # noqa: E402
from .summary import read_runs  # noqa: E402

__all__ = ["write_report", "regime_frame", "win_counts", "NO_CLEAR_WINNER", "NONE_STABLE",
           "REGIME_COLUMNS", "MAX_PANELS", "metric_groups"]

NO_CLEAR_WINNER = "no clear winner"
NONE_STABLE = "none stable"
MAX_PANELS = 6          # panels per figure: readable on a laptop and on a slide
MAX_FACETS = 12         # regime-map combinations of the other parameters shown
REGIME_COLUMNS = ["point", "metric", "winner", "margin", "ci_low", "ci_high", "unstable_policies"]
DPI = 90


# ------------------------------------------------------------------------------ regime data
def regime_frame(runs: pd.DataFrame, plan: SweepPlan, metrics: Optional[list[str]] = None,
                 level: float = CONFIDENCE_LEVEL, limit: float = UTILISATION_LIMIT) -> pd.DataFrame:
    """One row per (point, metric): winner, margin and interval (paired), unstable policies.

    ``runs``: the per-run rows (:func:`sim.sweep.read_runs`).  Columns: point, each
    varied parameter, metric, winner (a policy, ``no clear winner``, ``none stable``
    or empty without data), margin, ci_low, ci_high (the winner's - or, without a
    clear winner, the best mean's - paired lead over the runner-up, in the metric's
    unit, positive = better), unstable_policies (``;``-separated), then best,
    runner_up, margin_rel, rel_low, rel_high (the lead over the best's mean),
    reason and unstable_teams (``policy: team 97 %``).
    """
    rep = plan.spec.report
    metrics = metrics or [rep.time_metric, rep.cost_metric]
    params = plan.param_columns
    rows = []
    for point in plan.points:
        at = runs[runs["point"] == point.index] if len(runs) else runs
        hot = utilisation_unstable(at, limit) if len(at) else {}
        unstable = [p for p in plan.policies if hot.get(p)]
        teams = "; ".join(f"{p}: " + ", ".join(f"team {t} {u:.0%}".replace("%", " %") for t, u in hot[p])
                          for p in unstable)
        for metric in metrics:
            rec: dict[str, Any] = {"point": point.index, **{c: point.params.get(c) for c in params},
                                   "metric": metric}
            if not len(at) or metric not in at.columns:
                best = {"winner": None, "reason": "no_data"}
            else:
                best = best_policies(at, metric, policies=plan.policies, exclude=unstable,
                                     level=level).iloc[0].to_dict()
            reason = best.get("reason")
            winner = best.get("winner")
            shown = (winner if winner is not None else NO_CLEAR_WINNER if reason == "not_clear"
                     else NONE_STABLE if reason == "none_stable" else "")
            rec.update({"winner": shown or "", "margin": best.get("margin", math.nan),
                        "ci_low": best.get("ci_low", math.nan), "ci_high": best.get("ci_high", math.nan),
                        "unstable_policies": ";".join(unstable), "best": best.get("best") or "",
                        "runner_up": best.get("runner_up") or "",
                        "margin_rel": best.get("margin_rel", math.nan),
                        "rel_low": best.get("rel_low", math.nan), "rel_high": best.get("rel_high", math.nan),
                        "reason": reason, "unstable_teams": teams})
            rows.append(rec)
    cols = ["point", *params, "metric", "winner", "margin", "ci_low", "ci_high", "unstable_policies",
            "best", "runner_up", "margin_rel", "rel_low", "rel_high", "reason", "unstable_teams"]
    return pd.DataFrame(rows, columns=cols)


def win_counts(regime: pd.DataFrame, plan: SweepPlan) -> dict[str, list[tuple[str, int]]]:
    """Per regime metric: (winner, number of points) in policy order, then the non-winners."""
    out = {}
    for metric, g in regime.groupby("metric", sort=False):
        counts = g["winner"].replace("", "no data").value_counts().to_dict()
        order = [p for p in plan.policies if p in counts]
        order += [k for k in (NO_CLEAR_WINNER, NONE_STABLE, "no data") if k in counts]
        out[str(metric)] = [(k, int(counts[k])) for k in order]
    return out


def _margin_numbers(rec: dict) -> tuple[float, float, int, str]:
    """(value, half-width, decimals, unit) of a point's margin as the report shows it.

    Relative to the best policy's mean in per cent (``%``), or the gap itself in
    percentage points for shares (``pp``).  The decimals follow the interval
    (:func:`sim.report.format.pct_digits`); a *clear* lead is shown with enough
    of them never to print as zero, since its interval excludes zero.
    """
    from ..report.format import _digits_for, pct_digits, shows_zero

    metric = str(rec["metric"])
    if is_share(metric):
        m, a, b = (float(rec.get(k, math.nan)) * 100 for k in ("margin", "ci_low", "ci_high"))
        half = (b - a) / 2
        d = 1 if math.isnan(half) or half >= 1 else 2
        unit = "pp"
    else:
        rel, lo, hi = (float(rec.get(k, math.nan)) for k in ("margin_rel", "rel_low", "rel_high"))
        half = (hi - lo) * 50 if not (math.isnan(lo) or math.isnan(hi)) else math.nan
        m = rel * 100
        d = pct_digits(rel, half / 100)
        unit = "%"
    if rec.get("reason") == "clear" and m and not math.isnan(m) and shows_zero(m, d):
        d = _digits_for(m)
    return m, half, d, unit


def _margin_is_tie(rec: dict) -> bool:
    """True when the margin prints as zero at the precision shown: the cell says "tie", not "by 0 %"."""
    from ..report.format import shows_zero

    m, _, d, _ = _margin_numbers(rec)
    return shows_zero(m, d)


def _margin_text(rec: dict, short: bool = False) -> str:
    """'+12 % (±3 %)' relative to the winner's mean; percentage points for shares."""
    m, half, d, unit = _margin_numbers(rec)
    if math.isnan(m):
        return ""
    if unit == "pp":
        return f"{m:.{d}f} pp" if short or math.isnan(half) else f"{m:.{d}f} pp (±{half:.{d}f})"
    body = f"{m:.{d}f} %".replace("-", MINUS)
    if short or math.isnan(half):
        return body
    return f"{body} (±{half:.{d}f} %)"


def _tie_text(rec: dict) -> str:
    """'tiered and tiered skip tie (within ±3 %)'."""
    m, half, d, unit = _margin_numbers(rec)
    if math.isnan(half):
        spread = ""
    elif half == 0:
        spread = " (the same in every replication)"
    else:
        spread = f" (within ±{half:.{d}f}{' pp' if unit == 'pp' else ' %'})"
    return f"{_plain(rec['best'])} and {_plain(rec['runner_up'])} tie{spread}"


def _cell_text(rec: dict, with_metric: bool = True) -> str:
    """One regime cell in words: winner and margin, or why there is none; unstable policies."""
    from ..report.format import metric_kind

    metric = str(rec["metric"])     # the cell's short word: money is "cost", as the catalogue says
    name = "time" if metric == "resolution_mean_min" else "cost" if metric_kind(metric) == "money" else metric
    w = rec["winner"]
    if w == NONE_STABLE:
        text = "none stable"
    elif w == NO_CLEAR_WINNER:
        margin = _margin_text(rec)
        if margin and rec.get("best") and rec.get("runner_up") and _margin_is_tie(rec):
            text = f"no clear winner: {_tie_text(rec)}"
        else:
            text = (f"no clear winner: {_plain(rec['best'])} ahead by {margin}" if margin and rec.get("best")
                    else "no clear winner")
    elif not w:
        text = "n/a"
    elif rec.get("runner_up"):
        text = f"{_plain(w)} by {_margin_text(rec)}"
    else:
        text = f"{_plain(w)} (only stable)" if rec.get("unstable_policies") else _plain(w)
    return f"{name}: {text}" if with_metric else text


def _plain(name: Any) -> str:
    return str(name).replace("_", " ")


def path_name(path: str) -> str:
    """A varied path in words: ``teams[L3].agents`` -> ``agents of L3``, ``frictions.swarm_overhead``
    -> ``swarm overhead`` (the path itself is shown beside it where there is room)."""
    from ..report.format import human_name
    from .paths import parse_path

    try:
        steps = parse_path(path)
    except ValueError:
        return path
    keys = [s.key for s in steps if s.key is not None]
    names, prev = [], ""
    for s in steps:
        if s.key is not None:
            prev = s.key
        else:
            names.append(s.name if s.name is not None else f"{prev}[{s.index}]")
    last = keys[-1] if keys else path
    if last in ("mean", "cv", "value", "low", "high", "mode") and len(keys) >= 2:
        last = f"{keys[-2]} {last}"
    text = human_name(last)
    if len(keys) >= 2 and keys[0] == "policies":
        text = f"{text} ({_plain(keys[1])})"
    return text + (f" of {', '.join(names)}" if names else "")


def axis_name(axis: Axis, with_path: bool = True) -> str:
    """``swarm overhead (frictions.swarm_overhead)``; zipped paths joined with " + "."""
    words = " + ".join(path_name(p) for p in axis.paths)
    return f"{words} ({axis.label})" if with_path and words != axis.label else words


# ------------------------------------------------------------------------------ axes, facets
def _axis_of(plan: SweepPlan, path: Optional[str]) -> Optional[Axis]:
    if path is None:
        return None
    return next((a for a in plan.axes if path in a.paths), None)


def _choose_axes(plan: SweepPlan) -> tuple[Optional[Axis], Optional[Axis]]:
    x = _axis_of(plan, plan.spec.report.x)
    y = _axis_of(plan, plan.spec.report.y)
    rest = [a for a in plan.axes if a is not x and a is not y]
    if x is None and rest:
        x = rest.pop(0)
    if y is None and rest:
        y = rest.pop(0)
    if y is x:
        y = None
    return x, y


def _coords(plan: SweepPlan) -> dict[int, tuple[int, ...]]:
    return {p.index: p.coords for p in plan.points}


def _facets(plan: SweepPlan, x: Axis, y: Optional[Axis]) -> list[dict[int, int]]:
    others = [i for i, a in enumerate(plan.axes) if a is not x and a is not y]
    combos = itertools.product(*(range(len(plan.axes[i].rows)) for i in others))
    return [dict(zip(others, c)) for c in combos]


def _facet_title(plan: SweepPlan, facet: dict[int, int]) -> str:
    return ", ".join(f"{axis_name(plan.axes[i], False)} = {plan.axes[i].tick(k)}" for i, k in facet.items())


def _grid(plan: SweepPlan, regime: pd.DataFrame, metric: str, x: Axis, y: Optional[Axis],
          facet: dict[int, int]) -> np.ndarray:
    """(ny, nx) array of regime records (dicts) for one facet and metric."""
    xi = plan.axes.index(x)
    yi = plan.axes.index(y) if y is not None else None
    ny = len(y.rows) if y is not None else 1
    grid = np.full((ny, len(x.rows)), None, dtype=object)
    coords = _coords(plan)
    for rec in regime[regime["metric"] == metric].to_dict("records"):
        c = coords[int(rec["point"])]
        if any(c[i] != k for i, k in facet.items()):
            continue
        grid[c[yi] if yi is not None else 0, c[xi]] = rec
    return grid


# ------------------------------------------------------------------------------ figures
@dataclass
class _Fig:
    name: str
    title: str
    caption: str
    png: bytes


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, dpi=DPI, format="png")
    plt.close(fig)
    return buf.getvalue()


def _regime_figures(plan: SweepPlan, regime: pd.DataFrame, x: Axis, y: Optional[Axis],
                    facets: list[dict[int, int]], currency: str = "") -> list[_Fig]:
    """Heatmaps, two metrics side by side, at most three facets (six panels) per figure."""
    metrics = [plan.spec.report.time_metric, plan.spec.report.cost_metric]
    names = list(plan.policies) + [NO_CLEAR_WINNER, NONE_STABLE]
    colors = sns.color_palette("colorblind", len(plan.policies)) + [(0.86, 0.86, 0.86), (0.45, 0.45, 0.45)]
    cmap = ListedColormap(colors)
    ny = len(y.rows) if y is not None else 1
    per_fig = max(1, MAX_PANELS // len(metrics))
    out = []
    for n, start in enumerate(range(0, len(facets), per_fig)):
        chunk = facets[start:start + per_fig]
        cell_w = 1.25
        fig_w = max(7.5, 2 * (len(x.rows) * cell_w + 1.6))
        fig_h = max(3.0, len(chunk) * (ny * 0.75 + 1.5) + 0.9)
        fig, axes = plt.subplots(len(chunk), len(metrics), figsize=(fig_w, fig_h), squeeze=False)
        for row, facet in enumerate(chunk):
            for col, metric in enumerate(metrics):
                ax = axes[row][col]
                grid = _grid(plan, regime, metric, x, y, facet)
                codes = np.array([[names.index(r["winner"]) if r is not None and r["winner"] in names
                                   else np.nan for r in line] for line in grid], dtype=float)
                labels = np.array([[_annotation(r) for r in line] for line in grid], dtype=object)
                sns.heatmap(codes, ax=ax, cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5, cbar=False,
                            annot=labels, fmt="", linewidths=0.5, linecolor="white",
                            annot_kws={"fontsize": 7},
                            xticklabels=[x.tick(k) for k in range(len(x.rows))],
                            yticklabels=[y.tick(k) for k in range(ny)] if y is not None else [""])
                ax.invert_yaxis()            # small values at the bottom, like a chart
                ax.set_xlabel(axis_name(x), fontsize=8)
                ax.set_ylabel(axis_name(y) if y is not None else "", fontsize=8)
                sub = _facet_title(plan, facet)
                ax.set_title(f"best on {metric_label(metric, currency or None)}" + (f"\n{sub}" if sub else ""),
                             fontsize=8)
                ax.tick_params(axis="y", rotation=0, labelsize=7)
                ax.tick_params(axis="x", labelsize=7)
        handles = [Patch(facecolor=c, label=_plain(nm)) for c, nm in zip(colors, names)]
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), frameon=False, fontsize=7)
        fig.suptitle(f"{plan.name}: which policy wins (paired, stable policies only)", fontsize=10)
        fig.tight_layout(rect=(0, 0.08, 1, 0.95))
        suffix = f"_{n + 1}" if len(facets) > per_fig else ""
        out.append(_Fig(f"regime_map{suffix}.png", "Regime map" + (f" ({n + 1})" if suffix else ""),
                        f"Colour: the policy that wins the point (paired {fmt_level()} interval against every other "
                        "stable policy excludes zero); the number: its lead over the runner-up, relative "
                        "to its own mean; 'n unstable': policies excluded there because a team is at or "
                        f"above {UTILISATION_LIMIT * 100:.0f} % utilisation.",
                        _png(fig)))
    return out


def _annotation(rec: Optional[dict]) -> str:
    if rec is None:
        return "n/a"
    w = rec["winner"]
    lines = []
    if w == NONE_STABLE:
        lines.append("none stable")
    elif w == NO_CLEAR_WINNER:
        lines.append("no clear")
    elif w:
        lines.append(_plain(w))
        m = _margin_text(rec, short=True)
        if m:
            lines.append("by " + m)
    else:
        lines.append("n/a")
    k = len([p for p in str(rec.get("unstable_policies") or "").split(";") if p])
    if k and w != NONE_STABLE:
        lines.append(f"{k} unstable")
    return "\n".join(lines)


def metric_groups(metrics: list[str]) -> list[tuple[str, list[str]]]:
    """Metrics grouped by what they tell (speed, cost, service, effort, utilisation), in order."""
    def kind(m: str) -> str:
        from ..report.format import metric_kind

        k = metric_kind(m)
        if is_utilisation(m):
            return "utilisation"
        if k == "money":
            return "cost"
        if k == "time" and ("resolution" in m or "wait" in m or "response" in m):
            return "speed"
        if k == "share":
            return "service"
        return "effort"

    order = ["speed", "cost", "service", "effort", "utilisation"]
    titles = {"speed": "Speed", "cost": "Cost", "service": "Service and outcomes",
              "effort": "Handoffs, repeats and effort", "utilisation": "Utilisation per team"}
    groups: dict[str, list[str]] = {k: [] for k in order}
    for m in metrics:
        groups[kind(m)].append(m)
    return [(titles[k], groups[k]) for k in order if groups[k]]


def _reference(plan: SweepPlan, regime: Optional[pd.DataFrame] = None) -> dict[int, int]:
    """Position of each axis used when another axis is on the x of a line plot.

    ``report.at`` when given; otherwise the value where the fewest policies are unstable (summed
    over the points with that value; the first such value on ties), so the lines show stable
    operations wherever the sweep has them.
    """
    ref = {}
    at = plan.spec.report.at
    coords = _coords(plan)
    bad: dict[int, int] = {}
    if regime is not None and len(regime):
        first = regime[regime["metric"] == regime["metric"].iloc[0]]
        for rec in first.to_dict("records"):
            bad[int(rec["point"])] = len([p for p in str(rec["unstable_policies"] or "").split(";") if p])
    for i, a in enumerate(plan.axes):
        counts = [sum(n for pt, n in bad.items() if coords[pt][i] == k) for k in range(len(a.rows))]
        ref[i] = int(np.argmin(counts)) if counts else 0
        for j, path in enumerate(a.paths):
            if path in at:
                for k, row in enumerate(a.rows):
                    if row[j] == at[path]:
                        ref[i] = k
                        break
    return ref


def _metric_names(summary: pd.DataFrame) -> list[str]:
    return [c[: -len("_mean")] for c in summary.columns if c.endswith("_mean") and c != "tickets_mean"]


def _line_figures(plan: SweepPlan, summary: pd.DataFrame, regime: pd.DataFrame, axis_i: int,
                  currency: str) -> tuple[str, list[_Fig]]:
    """Every metric against one axis, grouped, at most MAX_PANELS panels per figure."""
    axis = plan.axes[axis_i]
    ref = _reference(plan, regime)
    coords = _coords(plan)
    keep = [p for p in summary["point"].unique()
            if all(coords[int(p)][i] == ref[i] for i in range(len(plan.axes)) if i != axis_i)]
    df = summary[summary["point"].isin(keep)].copy()
    df["_k"] = [coords[int(p)][axis_i] for p in df["point"]]
    numeric = len(axis.paths) == 1 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                           for v in axis.columns[0])
    df["_x"] = [axis.columns[0][k] if numeric else k for k in df["_k"]]
    unstable = {(int(r["point"]), p) for r in regime.to_dict("records")
                for p in str(r["unstable_policies"] or "").split(";") if p}
    palette = dict(zip(plan.policies, sns.color_palette("colorblind", len(plan.policies))))
    held = ", ".join(f"{axis_name(a, False)} = {a.tick(ref[i])}" for i, a in enumerate(plan.axes) if i != axis_i)
    figs = []
    for title, metrics in metric_groups(_metric_names(summary)):
        for part, start in enumerate(range(0, len(metrics), MAX_PANELS)):
            chunk = metrics[start:start + MAX_PANELS]
            ncols = min(3, len(chunk))
            nrows = math.ceil(len(chunk) / ncols)
            fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.3 * nrows + 0.9), squeeze=False)
            for n, metric in enumerate(chunk):
                ax = axes[n // ncols][n % ncols]
                for policy in plan.policies:
                    g = df[df["policy"] == policy].sort_values("_x")
                    if not len(g):
                        continue
                    xs = g["_x"].to_numpy(dtype=float)
                    ys = g[f"{metric}_mean"].to_numpy(dtype=float)
                    ax.plot(xs, ys, marker="o", markersize=3, color=palette[policy], label=_plain(policy))
                    ax.fill_between(xs, g[f"{metric}_ci_low"].to_numpy(dtype=float),
                                    g[f"{metric}_ci_high"].to_numpy(dtype=float), color=palette[policy],
                                    alpha=0.2, linewidth=0)
                    bad = np.array([(int(p), policy) in unstable for p in g["point"]])
                    if bad.any():
                        first = "unstable there" not in ax.get_legend_handles_labels()[1]
                        ax.scatter(xs[bad], ys[bad], marker="x", s=40, color="crimson", zorder=5,
                                   label="unstable there" if first else None)
                if n == 0:
                    ax.legend(fontsize=7)
                ax.set_title(metric_label(metric, currency), fontsize=9)
                ax.set_xlabel(axis_name(axis), fontsize=8)
                ax.tick_params(labelsize=7)
                if is_share(metric):
                    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
                if not numeric:
                    ax.set_xticks(range(len(axis.rows)), [axis.tick(k) for k in range(len(axis.rows))])
            for n in range(len(chunk), nrows * ncols):
                axes[n // ncols][n % ncols].set_visible(False)
            suffix = f" ({part + 1})" if len(metrics) > MAX_PANELS else ""
            fig.suptitle(f"{title}{suffix} vs {axis_name(axis)} (mean, {fmt_level()} CI band)"
                         + (f"\nother parameters held at {held}" if held else ""), fontsize=10)
            # fixed margins: tight_layout would cost a third of the report's time, for a few pixels
            top = 1 - (1.15 if held else 0.8) / fig.get_figheight()
            fig.subplots_adjust(left=0.07, right=0.98, bottom=0.5 / fig.get_figheight() + 0.04, top=top,
                                hspace=0.6, wspace=0.3)
            key = title.split()[0].lower().strip(",")
            figs.append(_Fig(f"lines_{axis_i}_{key}{part + 1 if suffix else ''}.png", f"{title}{suffix}",
                             f"Mean over replications with its {fmt_level()} Student-t band; a red × marks a "
                             "policy that is unstable at that point.", _png(fig)))
    return held, figs


# ------------------------------------------------------------------------------ writing
def _customers_note(plan: SweepPlan) -> str:
    crn = plan.spec.common_random_numbers
    if crn is True:
        return "customers: the same at every point (common_random_numbers: true)"
    if crn is False:
        return "customers: independent at each point (common_random_numbers: false)"
    changing = [p for a in plan.axes for p in a.paths if changes_customers(p)]
    if not plan.axes:
        return "customers: one point"
    if not changing:
        return ("customers: the same at every point (no varied parameter changes the customer stream), "
                "so differences between points come from the parameters alone")
    if len(changing) == sum(len(a.paths) for a in plan.axes):
        return "customers: independent at each point (every varied parameter changes the customer stream)"
    return (f"customers: shared by the points that agree on {', '.join(changing)} (the parameters that "
            "change the customer stream); independent otherwise")


def _regime_tables(plan: SweepPlan, regime: pd.DataFrame, x: Axis, y: Optional[Axis],
                   facets: list[dict[int, int]]):
    from ..report.content import Table

    rep = plan.spec.report
    tables = []
    ny = len(y.rows) if y is not None else 1
    for facet in facets:
        g_time = _grid(plan, regime, rep.time_metric, x, y, facet)
        g_cost = _grid(plan, regime, rep.cost_metric, x, y, facet)
        corner = (f"{axis_name(y, False)} \\ {axis_name(x, False)}" if y is not None
                  else axis_name(x, False))
        rows = []
        for r in reversed(range(ny)):
            cells = []
            for k in range(len(x.rows)):
                parts = [_cell_text(rec) for rec in (g_time[r, k], g_cost[r, k]) if rec is not None]
                rec = g_time[r, k] or g_cost[r, k]
                if rec is not None and rec.get("unstable_teams"):
                    parts.append(f"unstable: {rec['unstable_teams']}")
                cells.append("\n".join(parts) or "n/a")
            rows.append([y.tick(r) if y is not None else "", *cells])
        tables.append(Table(_facet_title(plan, facet), [corner, *[x.tick(k) for k in range(len(x.rows))]],
                            rows))
    return tables


def write_report(out: str | os.PathLike, plan: SweepPlan, failed: int = 0) -> Path:
    """Write ``DIR/report/report.html``, ``report.md``, ``regime.csv`` and the figures; return the HTML path."""
    from ..outputs.cells import csv_safe_frame
    from ..report.content import Table
    from ..report.writers import CSS, escape, html_table, md_escape, md_table, page_head

    layout = Layout(out)
    summary = pd.read_parquet(layout.summary) if layout.summary.exists() else pd.DataFrame()
    runs = read_runs(out, plan)
    rdir = layout.report_dir
    rdir.mkdir(parents=True, exist_ok=True)
    currency = currency_of(plan.points[0].scenario) if plan.points else ""
    regime = regime_frame(runs, plan)
    csv = regime[["point", *plan.param_columns, *REGIME_COLUMNS[1:]]].copy()
    # parameter values and policy names may come from other people's files: no cell a
    # spreadsheet would run as a formula (read it back with sim.outputs.csv_unescape_frame)
    write_text(rdir / "regime.csv", csv_safe_frame(csv).to_csv(index=False))

    facts = [f"sweep file: {plan.source}; base scenario: {plan.base_path}",
             f"{len(plan.points)} point(s) × {len(plan.policies)} policies ({', '.join(plan.policies)}) × "
             f"{plan.replications} replication(s) = {plan.total_tasks} runs; sweep seed {plan.seed}",
             _customers_note(plan),
             f"runs missing from this report because they failed or did not run: {failed}" if failed
             else "every run completed",
             "each point's scenario (with its seed) is in points/; python run_sim.py run "
             "points/point-NNNNN.yaml reproduces its rows exactly"]
    method = (f"Who wins a point: the policies of a point meet the same customers replication by "
              f"replication, so they are compared paired. A policy wins when its mean is best and its "
              f"{fmt_level()} paired interval against every other stable policy excludes zero; the margin is its "
              f"lead over the runner-up relative to its own mean (percentage points for shares), with "
              f"that interval. A policy with a team at or above {UTILISATION_LIMIT * 100:.0f} % utilisation at a "
              f"point is unstable there and never wins it; the cell names it. \"{NO_CLEAR_WINNER}\": the "
              f"best mean's lead is within the noise - more replications can tell.")
    figures: list[_Fig] = []
    html_parts: list[str] = []
    md: list[str] = [f"# Sweep report: {md_escape(plan.name)}", ""] + [f"- {md_escape(f)}" for f in facts] + [""]
    tables_regime: list[Any] = []
    if not len(runs):
        html_parts.append("<p>No completed runs: nothing to show.</p>")
        md.append("No completed runs: nothing to show.")
    else:
        x, y = _choose_axes(plan)
        if x is None:
            rows = [[metric_label(r["metric"], currency), _cell_text(r, with_metric=False),
                     r.get("unstable_teams") or "-"] for r in regime.to_dict("records")]
            t = Table("Winners (one point)", ["metric", "winner", "unstable"], rows)
            tables_regime.append(t)
        else:
            all_facets = _facets(plan, x, y)
            facets = all_facets[:MAX_FACETS]
            tables_regime = _regime_tables(plan, regime, x, y, facets)
            figures += _regime_figures(plan, regime, x, y, facets, currency)
            if len(all_facets) > len(facets):
                method += (f" Showing the first {len(facets)} of {len(all_facets)} combinations of the "
                           "other parameters; set report.x / report.y to choose the axes.")
        html_parts.append('<h2 id="regime">Regime map: which policy wins where</h2>')
        html_parts.append(f"<p>{escape(method)}</p>")
        html_parts += [html_table(t, "regime") for t in tables_regime]
        md += ["## Regime map", "", md_escape(method), ""]
        for t in tables_regime:
            t_md = Table(t.title, t.header, [[c.replace("\n", "; ") for c in row] for row in t.rows], t.note)
            md.append(md_table(t_md))
        for f in figures:
            html_parts.append(_html_figure(f))
            md += [f"![{md_escape(f.title)}]({f.name})", "", f"_{md_escape(f.caption)}_", ""]
        if x is not None:
            html_parts.append('<h2 id="lines">Metrics against each varied parameter</h2>')
            md += ["## Metrics against each varied parameter", ""]
            for i, axis in enumerate(plan.axes):
                held, figs = _line_figures(plan, summary, regime, i, currency) if len(summary) else ("", [])
                html_parts.append(f"<h3>{escape(axis_name(axis))}</h3>")
                md += [f"### {md_escape(axis_name(axis))}", ""]
                if held:
                    html_parts.append(f"<p>Other parameters held at {escape(held)}.</p>")
                    md += [f"Other parameters held at {md_escape(held)}.", ""]
                for f in figs:
                    html_parts.append(_html_figure(f))
                    md += [f"![{md_escape(f.title)}]({f.name})", ""]
                figures += figs
    files = ["regime.csv: one row per (point, metric): point, the varied parameters, metric, winner, margin, "
             "ci_low, ci_high, unstable_policies (then best, runner_up, margin_rel, rel_low, rel_high, "
             "reason, unstable_teams)",
             "../sweep_summary.parquet: one row per (point, policy); <metric>_mean, _ci_low, _ci_high",
             "../runs/: one row per run (Hive-partitioned by point and policy)",
             "../tickets/: per-ticket rows (only with --tickets); ../failed/: errors of failed runs"]
    for f in figures:
        write_bytes(rdir / f.name, f.png)
    md += ["## Files", ""] + [f"- {md_escape(f)}" for f in files] + [""]
    write_text(rdir / "report.md", "\n".join(md))
    title = f"supportsim sweep report: {plan.name}"
    page = [*page_head(title, f"{CSS}td{{white-space:pre-line}}"),
            "<ul>" + "".join(f"<li>{escape(f)}</li>" for f in facts) + "</ul>",
            *html_parts, '<h2 id="files">Files</h2><ul>',
            *[f"<li>{escape(f)}</li>" for f in files], "</ul></body></html>"]
    html_path = rdir / "report.html"
    write_text(html_path, "\n".join(page) + "\n")       # last: its presence marks a complete report
    return html_path


def _html_figure(f: _Fig) -> str:
    from ..report.writers import escape

    data = base64.b64encode(f.png).decode("ascii")
    return (f'<figure><h3>{escape(f.title)}</h3><img alt="{escape(f.title)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{escape(f.caption)}</figcaption></figure>')
