"""Terminal output: a rich summary table and a progress bar."""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ..analysis import stability_flags
from ..schema import CONFIDENCE_LEVEL, is_utilisation, metric_label

SHOWN = [
    "resolution_mean_min", "resolution_median_min", "resolution_p90_min", "resolution_p95_min",
    "wait_mean_min", "resolved_share", "abandoned_share", "open_share", "handoffs_per_ticket",
    "repeats_per_ticket", "repeat_share",
    "agents_touched_per_ticket", "agent_min_per_ticket", "cost_per_resolved", "payroll_per_resolved",
    "expert_min_per_ticket", "helpers_per_ticket",
]


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """Yield ``advance(done, total)``; draws a bar on a terminal, nothing otherwise."""
    console = Console(file=sys.stderr)
    if not console.is_terminal:
        yield lambda done, total: None
        return
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as prog:
        task = prog.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        yield advance


def _fmt(mean: float, half: float, metric: str) -> str:
    """The report's formatting (sim.report.format): precision from the interval, never "± 0.00",
    intervals kept within possible values, shares as percentages."""
    from ..report.format import fmt_value

    return fmt_value(metric, mean, half)


def money_label(metric: str, scenario) -> str:
    """The metric's label, with the scenario's currency for money (as in the report)."""
    from ..report.format import currency_of, is_money

    text = metric_label(metric)
    return f"{text} ({currency_of(scenario)})" if is_money(metric) else text


def print_summary(result, console: Console | None = None) -> None:
    console = console or Console(width=max(100, Console().width))
    summary = result.summary
    policies = result.policies
    from ..report.format import fmt_level

    metrics = SHOWN + sorted(m for m in summary["metric"].unique() if is_utilisation(m))
    table = Table(title=f"{result.scenario.name}: mean ± {fmt_level(CONFIDENCE_LEVEL)} CI over {result.replications} "
                        f"replication(s), seed {result.seed}", title_justify="left")
    unstable = {p for p, w in stability_flags(result).items() if w}
    table.add_column("metric")
    for p in policies:
        table.add_column(f"{p} (UNSTABLE)" if str(p) in unstable else p, justify="right")
    idx = summary.set_index(["policy", "metric"])
    for m in metrics:
        label = money_label(m, result.scenario)
        cells = []
        for p in policies:
            if (p, m) in idx.index:
                row = idx.loc[(p, m)]
                cells.append(_fmt(float(row["mean"]), float(row["half_width"]), m))
            else:
                cells.append("-")
        table.add_row(label, *cells)
    if unstable:
        table.caption = ("UNSTABLE: the system did not settle under this policy (see the warnings), "
                         "so its numbers depend on the horizon and are not steady-state results.")
        table.caption_justify = "left"
    console.print(table)
