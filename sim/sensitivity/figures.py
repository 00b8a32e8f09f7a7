"""The sensitivity analysis's figures: a tornado and the flip lines (PNG, headless matplotlib).

Tornado: per metric a panel; one bar per (parameter, policy) spanning the
relative change against the baseline from the range's low end to its high end,
with the scenario's own value marked; parameters with the widest swing on top.
Flip lines: per metric a row of panels, one per parameter: the relative change
at every evaluated value, a line per policy, zero dashed, each flip point
marked by a vertical line.  At most 6 panels per figure row.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..atomic import atomic_write  # noqa: E402
from .result import SensitivityResult  # noqa: E402

__all__ = ["write_figures", "tornado_figure", "flip_lines_figure"]

DPI = 96
MAX_COLS = 6


def _colours(policies: list[str]) -> dict[str, Any]:
    cmap = plt.get_cmap("tab10")
    return {p: cmap(i % 10) for i, p in enumerate(policies)}


def _metric(name: str) -> str:
    from ..schema import metric_label

    return metric_label(name)


def _label(r: SensitivityResult, path: str) -> str:
    p = r.param(path)
    return p.human if p is not None else path


def tornado_figure(r: SensitivityResult) -> Any:
    metrics = [m for m in r.metrics if m in set(r.tornado["metric"])] or r.metrics[:1]
    colours = _colours(r.policies)
    n = max(len(metrics), 1)
    bars = max(1, len(r.params) * len(r.policies))
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 0.9 + 0.32 * bars), squeeze=False, sharey=True)
    order = []
    if len(r.tornado):
        swing = r.tornado.groupby("parameter")["relative_change"].agg(lambda s: s.max() - s.min())
        order = [p.path for p in sorted(r.params, key=lambda p: -float(swing.get(p.path, 0) or 0))]
    labels = [f"{_label(r, path)} · {pol}" for path in order for pol in r.policies]
    for ax, metric in zip(axes[0], metrics):
        t = r.tornado[r.tornado["metric"] == metric]
        y = 0
        for path in order:
            p = r.param(path)
            for pol in r.policies:
                rows = t[(t["parameter"] == path) & (t["policy"] == pol)].sort_values("value")
                if len(rows) and p is not None:
                    lo = rows[rows["value"] == rows["value"].min()]["relative_change"].iloc[0]
                    hi = rows[rows["value"] == rows["value"].max()]["relative_change"].iloc[0]
                    ax.barh(y, hi - lo, left=lo, color=colours[pol], alpha=0.35, height=0.7)
                    ax.plot([lo], [y], "<", color=colours[pol], ms=5)
                    ax.plot([hi], [y], ">", color=colours[pol], ms=5)
                    centre = r.base_values.get(path)
                    mid = rows[rows["value"] == centre]["relative_change"].tolist() if centre is not None else []
                    if mid:
                        ax.plot([mid[0]], [y], "|", color="black", ms=10)
                y += 1
        ax.axvline(0, color="black", lw=0.8)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_title(_metric(metric), fontsize=9)
        ax.set_xlabel(f"change vs {r.baseline} (◀ low end, ▶ high end, | scenario)", fontsize=8)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels, fontsize=8)
        if ax is axes[0][0]:
            ax.invert_yaxis()
    fig.suptitle(f"{r.scenario}: what each assumption does to the verdict vs {r.baseline}", fontsize=10)
    fig.tight_layout()
    return fig


def flip_lines_figure(r: SensitivityResult) -> Any:
    metrics = [m for m in r.metrics if m in set(r.points["metric"])] or r.metrics[:1]
    params = r.params
    cols = min(max(len(params), 1), MAX_COLS)
    rows_per_metric = math.ceil(max(len(params), 1) / cols)
    nrows = max(1, len(metrics) * rows_per_metric)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.0 * cols, 2.3 * nrows), squeeze=False)
    colours = _colours(r.policies)
    for ax in axes.flat:
        ax.set_visible(False)
    for mi, metric in enumerate(metrics):
        for pi, p in enumerate(params):
            ax = axes[mi * rows_per_metric + pi // cols][pi % cols]
            ax.set_visible(True)
            pts = r.points[(r.points["parameter"] == p.path) & (r.points["metric"] == metric)]
            for pol in r.policies:
                s = pts[pts["policy"] == pol].sort_values("value")
                if len(s):
                    ax.plot(s["value"], s["relative_change"], "o-", ms=3, lw=1, color=colours[pol], label=pol)
            flips = r.flips[(r.flips["parameter"] == p.path) & (r.flips["metric"] == metric)]
            for _, f in flips.iterrows():
                if not (isinstance(f["flip_value"], float) and np.isnan(f["flip_value"])):
                    ax.axvline(float(f["flip_value"]), color=colours.get(f["policy"], "grey"), ls=":", lw=1.2)
            centre = r.base_values.get(p.path)
            if centre is not None:
                ax.axvline(centre, color="black", lw=0.6, alpha=0.5)
            ax.axhline(0, color="black", lw=0.8, ls="--")
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
            ax.set_title(f"{_metric(metric)}\n{p.human}" + (" (× scenario)" if p.relative else ""), fontsize=8)
            ax.tick_params(labelsize=7)
    handles, labels = [], []
    for ax in axes.flat:
        h, lab = ax.get_legend_handles_labels()
        if h:
            handles, labels = h, lab
            break
    if handles:
        fig.legend(handles, labels, loc="upper right", fontsize=8)
    fig.suptitle(f"{r.scenario}: change vs {r.baseline} across each range; dotted = flip point, "
                 "grey = scenario's value", fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.92, 0.96))
    return fig


def write_figures(r: SensitivityResult, out: Path, writer: Any = None) -> list[Path]:
    """Write ``tornado.png`` and ``flip_lines.png`` into ``out`` (through ``writer`` when given)."""
    paths = []
    for name, make in (("tornado", tornado_figure), ("flip_lines", flip_lines_figure)):
        fig = make(r)
        try:
            save = (lambda p, fig=fig: fig.savefig(p, format="png", dpi=DPI))
            if writer is not None:
                paths.append(writer.write(f"{name}.png", save))
            else:
                path = Path(out) / f"{name}.png"
                atomic_write(path, save)
                paths.append(path)
        finally:
            plt.close(fig)
    return paths
