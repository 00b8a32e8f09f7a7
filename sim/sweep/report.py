"""The sweep report: a regime map (which policy wins where) and metric-vs-parameter line plots.

Reads ``sweep_summary.parquet`` only.  A policy *wins* a point on a metric
when its mean is best and its 95 % confidence interval does not overlap the
interval of any other policy; otherwise the point is "no clear winner".  This
is deliberately conservative (non-overlapping intervals imply a significant
difference, not the reverse), so "no clear winner" means "this sweep cannot
tell", not "they are equal".
"""
from __future__ import annotations

import itertools
import math
import os
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

from ..analysis import METRIC_LABELS  # noqa: E402
from .expand import Axis, SweepPlan  # noqa: E402
from .store import Layout, atomic_write  # noqa: E402

__all__ = ["write_report", "winner", "NO_CLEAR_WINNER", "regime_table"]

NO_CLEAR_WINNER = "no clear winner"
HIGHER_IS_BETTER = {"resolved_share"}
MAX_FACETS = 12


def winner(rows: pd.DataFrame, metric: str, n_policies: int) -> Optional[str]:
    """The policy that wins ``metric`` at one point, NO_CLEAR_WINNER, or None without data.

    ``rows``: the summary rows of one point (one per policy).
    """
    mean, lo, hi = rows[f"{metric}_mean"], rows[f"{metric}_ci_low"], rows[f"{metric}_ci_high"]
    ok = mean.notna().to_numpy()
    if not ok.any():
        return None
    if n_policies == 1:
        return str(rows["policy"].iloc[0])
    if ok.sum() < n_policies and ok.sum() == 1:
        return NO_CLEAR_WINNER     # the others have no value to compare with
    sign = -1.0 if metric in HIGHER_IS_BETTER else 1.0
    m = mean.to_numpy(dtype=float)[ok] * sign
    low = (lo.to_numpy(dtype=float) if sign > 0 else -hi.to_numpy(dtype=float))[ok]
    high = (hi.to_numpy(dtype=float) if sign > 0 else -lo.to_numpy(dtype=float))[ok]
    names = rows["policy"].to_numpy()[ok]
    best = int(np.argmin(m))
    others = [i for i in range(len(m)) if i != best]
    if not math.isfinite(high[best]) or any(not math.isfinite(low[i]) for i in others):
        return NO_CLEAR_WINNER
    if all(high[best] < low[i] for i in others):
        return str(names[best])
    return NO_CLEAR_WINNER


def _axis_of(plan: SweepPlan, path: Optional[str]) -> Optional[Axis]:
    if path is None:
        return None
    for a in plan.axes:
        if path in a.paths:
            return a
    return None


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


def _coords(plan: SweepPlan) -> dict[int, dict[int, int]]:
    """point index -> {axis position: value position}."""
    return {p.index: dict(enumerate(p.coords)) for p in plan.points}


def regime_table(plan: SweepPlan, summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per point: its axis positions and the winner on ``metric``."""
    rows = []
    coords = _coords(plan)
    for point, g in summary.groupby("point", sort=True):
        rec: dict[str, Any] = {"point": int(point)}
        for i in range(len(plan.axes)):
            rec[f"axis{i}"] = coords[int(point)][i]
        rec["winner"] = winner(g, metric, len(plan.policies))
        rows.append(rec)
    return pd.DataFrame(rows)


def _facets(plan: SweepPlan, x: Axis, y: Optional[Axis]) -> list[dict[int, int]]:
    """Every combination of positions of the axes other than x and y."""
    others = [i for i, a in enumerate(plan.axes) if a is not x and a is not y]
    combos = itertools.product(*(range(len(plan.axes[i].rows)) for i in others))
    return [dict(zip(others, c)) for c in combos]


def _facet_title(plan: SweepPlan, facet: dict[int, int]) -> str:
    return ", ".join(f"{plan.axes[i].label} = {plan.axes[i].tick(k)}" for i, k in facet.items())


def _regime_grid(plan: SweepPlan, table: pd.DataFrame, x: Axis, y: Optional[Axis],
                 facet: dict[int, int]) -> np.ndarray:
    xi = plan.axes.index(x)
    yi = plan.axes.index(y) if y is not None else None
    ny = len(y.rows) if y is not None else 1
    grid = np.full((ny, len(x.rows)), None, dtype=object)
    sel = table
    for i, k in facet.items():
        sel = sel[sel[f"axis{i}"] == k]
    for rec in sel.itertuples(index=False):
        r = getattr(rec, f"axis{yi}") if yi is not None else 0
        grid[r, getattr(rec, f"axis{xi}")] = rec.winner
    return grid


def _plot_regime_map(plan: SweepPlan, summary: pd.DataFrame, x: Axis, y: Optional[Axis],
                     path: Path) -> tuple[list[dict[int, int]], dict[str, pd.DataFrame]]:
    metrics = [plan.spec.report.time_metric, plan.spec.report.cost_metric]
    tables = {m: regime_table(plan, summary, m) for m in metrics}
    facets = _facets(plan, x, y)[:MAX_FACETS]
    names = list(plan.policies) + [NO_CLEAR_WINNER]
    colors = sns.color_palette("colorblind", len(plan.policies)) + [(0.85, 0.85, 0.85)]
    cmap = ListedColormap(colors)
    ny = len(y.rows) if y is not None else 1
    cell_w, cell_h = max(0.9, 1.6 if len(plan.policies) > 2 else 1.2), 0.6
    fig_w = max(8.0, 2 * (len(x.rows) * cell_w + 1.8))
    fig_h = max(2.8, len(facets) * (ny * cell_h + 1.4) + 0.8)
    fig, axes = plt.subplots(len(facets), 2, figsize=(fig_w, fig_h), squeeze=False)
    for row, facet in enumerate(facets):
        for col, metric in enumerate(metrics):
            ax = axes[row][col]
            grid = _regime_grid(plan, tables[metric], x, y, facet)
            codes = np.array([[names.index(w) if w is not None else np.nan for w in line] for line in grid],
                             dtype=float)
            labels = np.array([[_abbrev(w) for w in line] for line in grid], dtype=object)
            sns.heatmap(codes, ax=ax, cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5, cbar=False,
                        annot=labels, fmt="", linewidths=0.5, linecolor="white",
                        annot_kws={"fontsize": 8},
                        xticklabels=[x.tick(k) for k in range(len(x.rows))],
                        yticklabels=[y.tick(k) for k in range(ny)] if y is not None else [""])
            ax.invert_yaxis()            # small values at the bottom, like a chart
            ax.set_xlabel(x.label)
            ax.set_ylabel(y.label if y is not None else "")
            title = f"wins on {METRIC_LABELS.get(metric, metric)}"
            sub = _facet_title(plan, facet)
            ax.set_title(title + (f"\n{sub}" if sub else ""), fontsize=9)
            ax.tick_params(axis="y", rotation=0)
    handles = [Patch(facecolor=c, label=n) for c, n in zip(colors, names)]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    fig.suptitle(f"{plan.name}: which policy wins (95 % CIs not overlapping)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    _save(fig, path)
    return facets, tables


def _abbrev(w: Optional[str]) -> str:
    if w is None:
        return "n/a"
    if w == NO_CLEAR_WINNER:
        return "-"
    return w.replace("_", " ")


def _reference(plan: SweepPlan) -> dict[int, int]:
    """Position of each axis used when another axis is on the x of a line plot."""
    ref = {}
    at = plan.spec.report.at
    for i, a in enumerate(plan.axes):
        ref[i] = 0
        for j, path in enumerate(a.paths):
            if path in at:
                want = at[path]
                for k, row in enumerate(a.rows):
                    if row[j] == want:
                        ref[i] = k
                        break
    return ref


def _metric_names(summary: pd.DataFrame) -> list[str]:
    return [c[: -len("_mean")] for c in summary.columns if c.endswith("_mean") and c != "tickets_mean"]


def _plot_lines(plan: SweepPlan, summary: pd.DataFrame, axis_i: int, path: Path) -> str:
    axis = plan.axes[axis_i]
    ref = _reference(plan)
    coords = _coords(plan)
    keep = [p for p in summary["point"].unique()
            if all(coords[int(p)][i] == ref[i] for i in range(len(plan.axes)) if i != axis_i)]
    df = summary[summary["point"].isin(keep)].copy()
    df["_k"] = [coords[int(p)][axis_i] for p in df["point"]]
    numeric = len(axis.paths) == 1 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                           for v in axis.columns[0])
    df["_x"] = [axis.columns[0][k] if numeric else k for k in df["_k"]]
    metrics = _metric_names(summary)
    ncols = 4
    nrows = max(1, math.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), squeeze=False)
    palette = dict(zip(plan.policies, sns.color_palette("colorblind", len(plan.policies))))
    for n, metric in enumerate(metrics):
        ax = axes[n // ncols][n % ncols]
        for policy in plan.policies:      # plain matplotlib: seaborn's lineplot is slow for many panels
            g = df[df["policy"] == policy].sort_values("_x")
            if not len(g):
                continue
            xs = g["_x"].to_numpy(dtype=float)
            ax.plot(xs, g[f"{metric}_mean"].to_numpy(dtype=float), marker="o", markersize=3,
                    color=palette[policy], label=policy)
            ax.fill_between(xs, g[f"{metric}_ci_low"].to_numpy(dtype=float),
                            g[f"{metric}_ci_high"].to_numpy(dtype=float), color=palette[policy], alpha=0.2,
                            linewidth=0)
        if n == 0:
            ax.legend(fontsize=7)
        ax.set_title(METRIC_LABELS.get(metric, metric.replace("utilisation_", "utilisation of team ")),
                     fontsize=9)
        ax.set_xlabel(axis.label, fontsize=8)
        ax.tick_params(labelsize=7)
        if not numeric:
            ax.set_xticks(range(len(axis.rows)), [axis.tick(k) for k in range(len(axis.rows))])
    for n in range(len(metrics), nrows * ncols):
        axes[n // ncols][n % ncols].set_visible(False)
    held = ", ".join(f"{a.label} = {a.tick(ref[i])}" for i, a in enumerate(plan.axes) if i != axis_i)
    fig.suptitle(f"{plan.name}: metrics vs {axis.label} (mean, 95 % CI band)"
                 + (f"\nother parameters held at {held}" if held else ""), fontsize=11)
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.06, top=1 - 1.3 / fig.get_figheight(),
                        hspace=0.55, wspace=0.25)
    _save(fig, path)
    return held


def _save(fig, path: Path) -> None:
    atomic_write(path, lambda p: fig.savefig(p, dpi=90, format="png"))
    plt.close(fig)


def _md_grid(plan: SweepPlan, tables: dict[str, pd.DataFrame], x: Axis, y: Optional[Axis],
             facet: dict[int, int]) -> list[str]:
    time_m, cost_m = plan.spec.report.time_metric, plan.spec.report.cost_metric
    g_time = _regime_grid(plan, tables[time_m], x, y, facet)
    g_cost = _regime_grid(plan, tables[cost_m], x, y, facet)
    corner = f"{y.label} \\ {x.label}" if y is not None else x.label
    lines = ["| " + corner + " | " + " | ".join(x.tick(k) for k in range(len(x.rows))) + " |",
             "|" + "---|" * (len(x.rows) + 1)]
    ny = len(y.rows) if y is not None else 1
    for r in reversed(range(ny)):
        label = y.tick(r) if y is not None else ""
        cells = [f"time: {g_time[r, k] or 'n/a'}<br>cost: {g_cost[r, k] or 'n/a'}" for k in range(len(x.rows))]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def write_report(out: str | os.PathLike, plan: SweepPlan, failed: int = 0) -> Path:
    """Write ``DIR/report/report.md`` with the regime map and line plots; return its path."""
    layout = Layout(out)
    summary = pd.read_parquet(layout.summary)
    rdir = layout.report_dir
    rdir.mkdir(parents=True, exist_ok=True)
    rep = plan.spec.report
    md = [f"# Sweep report: {plan.name}", "",
          f"- sweep file: `{plan.source}`; base scenario: `{plan.base_path}`",
          f"- {len(plan.points)} point(s) x {len(plan.policies)} policies ({', '.join(plan.policies)}) x "
          f"{plan.replications} replication(s) = {plan.total_tasks} runs; sweep seed {plan.seed}",
          "- customers: the same at every point (`common_random_numbers: true`)"
          if plan.spec.common_random_numbers else
          "- customers: independent at each point (own seed per point); the policies of one point "
          "share them",
          f"- runs missing from this report because they failed: {failed}" if failed else
          "- every run completed",
          "- each point's scenario (with its derived seed) is in `points/`; `python run_sim.py run "
          "points/point-NNNNN.yaml` reproduces its rows exactly", ""]
    if not len(summary):
        md.append("No completed runs: nothing to plot.")
    else:
        x, y = _choose_axes(plan)
        if x is None:
            md += ["## Winners", "", "No parameter is varied: one point.", ""]
            for metric in (rep.time_metric, rep.cost_metric):
                md.append(f"- {METRIC_LABELS.get(metric, metric)}: "
                          f"{winner(summary, metric, len(plan.policies)) or 'n/a'}")
        else:
            facets, tables = _plot_regime_map(plan, summary, x, y, rdir / "regime_map.png")
            md += ["## Regime map", "",
                   f"Which policy wins on **{METRIC_LABELS.get(rep.time_metric, rep.time_metric)}** and on "
                   f"**{METRIC_LABELS.get(rep.cost_metric, rep.cost_metric)}** at each point. A policy wins "
                   "when its mean is best and its 95 % confidence interval (over replications) does not "
                   f"overlap any other policy's; otherwise the cell says \"{NO_CLEAR_WINNER}\" (`-` in the "
                   "figure). More replications narrow the intervals.", "",
                   "![regime map](regime_map.png)", ""]
            all_facets = _facets(plan, x, y)
            if len(all_facets) > len(facets):
                md += [f"(Showing the first {len(facets)} of {len(all_facets)} combinations of the other "
                       "parameters; set `report.x`/`report.y` in the sweep file to choose the axes.)", ""]
            for facet in facets:
                title = _facet_title(plan, facet)
                if title:
                    md += [f"### {title}", ""]
                md += _md_grid(plan, tables, x, y, facet) + [""]
            md += ["## Metrics against each varied parameter", ""]
            for i, axis in enumerate(plan.axes):
                name = f"lines_{i}.png"
                held = _plot_lines(plan, summary, i, rdir / name)
                md += [f"### {axis.label}", "", (f"Other parameters held at {held}." if held else ""), "",
                       f"![metrics vs {axis.label}]({name})", ""]
    md += ["## Files", "",
           "- `sweep_summary.parquet`: one row per (point, policy); varied parameters as columns; "
           "`<metric>_mean`, `<metric>_ci_low`, `<metric>_ci_high` (95 % Student-t over replications)",
           "- `runs/`: one row per run (Hive-partitioned by point and policy): `pandas.read_parquet(DIR / 'runs')`",
           "- `tickets/`: per-ticket rows (only with `--tickets`); `failed/`: errors of failed runs", ""]
    path = rdir / "report.md"
    text = "\n".join(md)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
    return path
