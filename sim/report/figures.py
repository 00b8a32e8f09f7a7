"""The report's seaborn figures, rendered headless (matplotlib Agg) to PNG bytes.

Each figure function takes the result and its analysis and returns a
matplotlib Figure; :func:`render_figures` turns them into :class:`FigureOut`
(PNG bytes plus title and caption) so HTML can embed them and Markdown can
link them.  Large ticket tables are thinned to a fixed-seed sample for the
ECDF: it changes the drawing by less than a line width and keeps the report
fast.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")   # no display needed; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..analysis import UTILISATION_LIMIT, Analysis, t_interval  # noqa: E402
from ..schema import CONFIDENCE_LEVEL, metric_info  # noqa: E402
from .format import currency_of, fmt_level, is_share  # noqa: E402

#: "(95 % CI over replications)": the catalogue's level, as every table says it
_CI = f"{fmt_level()} CI"

__all__ = ["FigureOut", "FIGURES", "render_figures"]

ECDF_SAMPLE = 40_000     # tickets per policy drawn for the ECDF
TIME_TICKS = [(1, "1 min"), (5, "5 min"), (15, "15 min"), (60, "1 h"), (240, "4 h"), (480, "8 h"),
              (1440, "1 day"), (4320, "3 days"), (10080, "1 week"), (43200, "30 days")]
DPI = 96


@dataclass
class FigureOut:
    key: str
    title: str
    caption: str
    png: bytes


def _t_err(values: pd.Series) -> tuple[float, float]:
    """Student-t interval of the mean at the catalogue's level, the same intervals the tables
    show, cut at 0 like theirs (every plotted metric is non-negative: no whisker below zero)."""
    mean, half, _ = t_interval(np.asarray(values, dtype=float), CONFIDENCE_LEVEL)
    half = 0.0 if half != half else half
    return max(mean - half, 0.0), mean + half


def _t_err_share(values: pd.Series) -> tuple[float, float]:
    """As :func:`_t_err`, for a share: also never above 100 %."""
    low, high = _t_err(values)
    return low, min(high, 1.0)


def _percent_axis(ax: Any, axis: str = "y") -> None:
    """Shares are percentages everywhere, figures included (the tables say 4.5 %, so do the axes)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=None))


def _palette(policies: list[str]) -> dict[str, Any]:
    return dict(zip(policies, sns.color_palette("colorblind", len(policies))))


def _policies(result: Any) -> list[str]:
    return [str(p) for p in result.policies]


def fig_ecdf(result: Any, a: Analysis) -> plt.Figure:
    t = result.tickets
    res = t.loc[t["outcome"].astype(str) == "resolved", ["policy", "resolution_min"]].copy()
    res["policy"] = res["policy"].astype(str)
    res = res[res["resolution_min"] > 0]
    rng = np.random.default_rng(0)
    parts = []
    for _, g in res.groupby("policy", sort=False):
        parts.append(g if len(g) <= ECDF_SAMPLE else g.iloc[np.sort(rng.choice(len(g), ECDF_SAMPLE, replace=False))])
    data = pd.concat(parts) if parts else res
    fig, ax = plt.subplots(figsize=(8, 4.2))
    if len(data):
        sns.ecdfplot(data=data, x="resolution_min", hue="policy", hue_order=_policies(result),
                     palette=_palette(_policies(result)), log_scale=True, ax=ax)
    ax.set_xlabel("resolution time (log scale)")
    ax.set_ylabel("share of resolved tickets")
    _percent_axis(ax)
    # plain tick labels: log axes default to math text, which user-safe rendering turns off
    lo, hi = ax.get_xlim() if len(data) else (1.0, 1440.0)
    ticks = [(x, lab) for x, lab in TIME_TICKS if lo <= x <= hi]
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator([x for x, _ in ticks]))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FixedFormatter([lab for _, lab in ticks]))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    return fig


def _count_shares(t: pd.DataFrame, col: str) -> pd.DataFrame:
    d = pd.DataFrame({"policy": t["policy"], "count": t[col].clip(upper=3).to_numpy()})
    share = d.groupby(["policy", "count"], observed=True).size() / d.groupby("policy", observed=True).size()
    out = share.rename("share").reset_index()
    out["policy"] = out["policy"].astype(str)
    out["count"] = out["count"].map(lambda c: "3+" if c >= 3 else str(int(c)))
    return out


def fig_handoffs_repeats(result: Any, a: Analysis) -> plt.Figure:
    t = result.tickets
    pols = _policies(result)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    for ax, col in zip(axes, ("handoffs", "repeats")):
        data = _count_shares(t, col)
        sns.barplot(data=data, x="count", y="share", hue="policy", hue_order=pols,
                    order=["0", "1", "2", "3+"], palette=_palette(pols), ax=ax)
        ax.set_xlabel(f"{col} per ticket")
        ax.set_ylabel("share of tickets")
        _percent_axis(ax)
        ax.set_title(col)
        if ax is not axes[0] and ax.get_legend():
            ax.get_legend().remove()
    return fig


def fig_cost_vs_time(result: Any, a: Analysis) -> plt.Figure:
    pr = a.per_rep.assign(policy=a.per_rep["policy"].astype(str))
    pols = _policies(result)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sns.scatterplot(data=pr, x="resolution_mean_min", y="cost_per_resolved", hue="policy",
                    hue_order=pols, style="policy", palette=_palette(pols), s=50, ax=ax)
    ax.set_xlabel("mean resolution time per replication (min)")
    ax.set_ylabel(_axis_label("cost_per_resolved", result))
    return fig


def fig_utilisation(result: Any, a: Analysis) -> plt.Figure:
    teams = result.teams.assign(policy=result.teams["policy"].astype(str))
    pols = _policies(result)
    fig, ax = plt.subplots(figsize=(8, 4))
    sns.barplot(data=teams, x="team", y="utilisation", hue="policy", hue_order=pols,
                palette=_palette(pols), errorbar=_t_err, ax=ax)
    ax.axhline(UTILISATION_LIMIT, color="crimson", ls="--", lw=1)      # the stability check's limit
    ax.text(ax.get_xlim()[0], UTILISATION_LIMIT + 0.01, f" stability limit ({UTILISATION_LIMIT * 100:g} %)",
            color="crimson", fontsize=8, va="bottom")
    ax.set_ylim(0, max(1.05, float(teams["utilisation"].max()) * 1.08) if len(teams) else 1.05)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylabel("utilisation over the measured window")
    return fig


def fig_backlog(result: Any, a: Analysis) -> plt.Figure:
    b = result.backlog
    pols = _policies(result)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
    if len(b):
        # hourly samples averaged over replications and over each simulated day (readable, and
        # a trend is what matters here, not the hour-to-hour noise)
        day = np.floor(b["time_min"].to_numpy() / 1440.0)
        mean = (b.assign(policy=b["policy"].astype(str), day=day)
                 .groupby(["policy", "day"], sort=False)[["waiting", "in_system"]].mean().reset_index())
        mean["day"] += 0.5
        for ax, col, label in ((axes[0], "waiting", "tickets waiting"),
                               (axes[1], "in_system", "tickets in the system")):
            sns.lineplot(data=mean, x="day", y=col, hue="policy", hue_order=pols,
                         palette=_palette(pols), lw=1.2, errorbar=None, ax=ax)
            ax.set_ylabel(label + " (daily mean)")
            ax.set_xlabel("simulated day (measured window)")
            ax.set_ylim(bottom=0)
            if ax is axes[0] and ax.get_legend():
                ax.get_legend().remove()
    return fig


def _axis_label(metric: str, result: Any) -> str:
    """The catalogue's label of ``metric``; money with the scenario's currency."""
    m = metric_info(metric)
    return f"{m.label} ({currency_of(result.scenario)})" if m.kind == "money" else m.label


def fig_by_issue(result: Any, a: Analysis) -> plt.Figure:
    d = a.by_issue.assign(policy=a.by_issue["policy"].astype(str)) if len(a.by_issue) else a.by_issue
    pols = _policies(result)
    panels = [(col, _axis_label(col, result)) for col in
              ("resolution_mean_min", "cost_per_resolved", "repeats_per_ticket")]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    for ax, (col, label) in zip(axes, panels):
        if len(d):
            sns.barplot(data=d, x="issue", y=col, hue="policy", hue_order=pols,
                        palette=_palette(pols), errorbar=_t_err_share if is_share(col) else _t_err, ax=ax)
        ax.set_ylabel(f"{label} ({_CI})")
        ax.set_xlabel("issue type")
        if ax is not axes[0] and ax.get_legend():
            ax.get_legend().remove()
    return fig


def fig_by_segment(result: Any, a: Analysis) -> plt.Figure:
    d = a.by_segment.assign(policy=a.by_segment["policy"].astype(str)) if len(a.by_segment) else a.by_segment
    pols = _policies(result)
    cols = ["wait_mean_min", "abandoned_share"] + (["service_level"] if "service_level" in d.columns else [])
    panels = [(col, _axis_label(col, result)) for col in cols]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4))
    for ax, (col, label) in zip(np.atleast_1d(axes), panels):
        if len(d):
            sns.barplot(data=d, x="segment", y=col, hue="policy", hue_order=pols,
                        palette=_palette(pols), errorbar=_t_err_share if is_share(col) else _t_err,
                        ax=ax)
        ax.set_ylabel(f"{label} ({_CI})")
        if is_share(col):
            _percent_axis(ax)
        if ax is not np.atleast_1d(axes)[0] and ax.get_legend():
            ax.get_legend().remove()
    return fig


FIGURES: list[tuple[str, str, str, Callable[[Any, Analysis], plt.Figure]]] = [
    ("resolution_ecdf", "Resolution time, all resolved tickets",
     "Empirical CDF per policy (log time axis): the higher and further left a curve, the more "
     "tickets are resolved quickly. Pooled over replications.", fig_ecdf),
    ("handoffs_repeats", "Handoffs and repeats per ticket",
     "Share of measured tickets with 0, 1, 2 or 3+ handoffs and repeats (the customer re-explaining).",
     fig_handoffs_repeats),
    ("cost_vs_time", "Cost against speed, one point per replication",
     "Each point is one replication of one policy: down-left is cheaper and faster. The spread shows "
     "the replication-to-replication noise.", fig_cost_vs_time),
    ("utilisation", "Utilisation per team",
     "Share of the team's agent time that is busy during the measured window (bars: mean, whiskers: "
     f"{_CI} over replications). Near or above the dashed line the queue does not settle.",
     fig_utilisation),
    ("backlog", "Backlog over time",
     "Tickets waiting and tickets in the system over the measured window (hourly samples averaged over "
     "replications and per simulated day). A curve that keeps rising means an unstable operation.", fig_backlog),
    ("by_issue", "By issue type",
     "Mean resolution time, agent-time cost per resolved ticket and repeats per ticket for each issue type "
     f"({_CI} over replications).", fig_by_issue),
    ("by_segment", "By customer segment",
     "Waiting, abandonment and (where the scenario sets a first-response target) service level per "
     f"segment ({_CI} over replications).", fig_by_segment),
]


def render_figures(result: Any, analysis: Analysis) -> list[FigureOut]:
    """Every figure as PNG bytes, in report order."""
    out = []
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.85)
    # user-supplied names ("a$b") must be drawn literally, never parsed as math
    with matplotlib.rc_context({"text.parse_math": False}):
        for key, title, caption, make in FIGURES:
            fig = make(result, analysis)
            try:
                fig.tight_layout()
                buf = io.BytesIO()
                fig.savefig(buf, format="png", dpi=DPI)
            finally:
                plt.close(fig)
            out.append(FigureOut(key, title, caption, buf.getvalue()))
    return out
