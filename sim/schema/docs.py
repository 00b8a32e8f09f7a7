"""``docs/outputs.md``, the data dictionary, generated from the catalogue.

    python -m sim.schema.docs > docs/outputs.md

Why generated: a hand-written dictionary drifts from the code; this one is
the catalogue printed, and ``tests/test_catalogue.py`` fails when the file in
``docs/`` differs from what this module prints.
"""
from __future__ import annotations

import sys

from .metrics import METRICS, UTILISATION, Metric
from .tables import FILES, SUMMARY_STATS, TABLES, TableSpec
from .vocabulary import (ENGINE_TO_LOG, LOG_ACTIVITIES, OUTCOME_MEANINGS,
                         TRACE_INSTANT_ACTIVITIES, TRACE_INTERVAL_ACTIVITIES)

__all__ = ["render"]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _row(*cells: object) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table(spec: TableSpec) -> list[str]:
    lines = [f"### `{spec.file}` ({spec.name})", "", f"{spec.description[:1].upper()}{spec.description[1:]}."
             f" Written by `{spec.written_by}`.", "",
             "| column | dtype | unit | meaning | present |", "|---|---|---|---|---|"]
    for c in spec.columns:
        lines.append(_row(f"`{c.name}`", c.dtype, c.unit or "-", c.description, c.when or "always"))
    if spec.param_columns:
        lines.append(_row("`<path>`", "as varied", "-", "one column per varied parameter, named by its "
                          "scenario path (`vary:<path>` when the path is named like a built-in column)",
                          "sweeps"))
    if spec.metric_columns:
        names = ", ".join(f"`<metric>{s}`" for s in spec.metric_suffixes) if spec.metric_suffixes != ("",) \
            else "`<metric>`"
        lines.append(_row(names, "float64", "the metric's unit", "one column per metric present in the run "
                          "(see [Metrics](#metrics))", "as the metric"))
    return lines + [""]


def _metric_row(m: Metric) -> str:
    return _row(f"`{m.name}`", m.label, m.unit, m.kind, m.better or "-", "yes" if m.verdict else "-",
                m.description, m.requires or "always")


def render() -> str:
    """The whole of ``docs/outputs.md``."""
    out = [
        "# Output files and columns", "",
        "<!-- generated from sim/schema by `python -m sim.schema.docs > docs/outputs.md`; "
        "do not edit by hand (tests/test_catalogue.py checks it) -->", "",
        "Every file supportsim writes, every column with its dtype and unit, and every metric with "
        "how it is computed. Times are simulated minutes; money is in the currency of the "
        "scenario's `cost_per_hour`; shares are fractions in [0, 1] (reports show them as %).", "",
        "A new metric is one `Metric` entry in `sim/schema/metrics.py` plus one function registered "
        "under its name in `sim/analysis/metrics.py` (`@ticket_metric` for a function of a group of "
        "tickets, `@replication_metric` for one of a whole replication); a new column is one `Column` "
        "in `sim/schema/tables.py`. Then regenerate this file.", "",
        "## Files", "", "| file | written by | holds |", "|---|---|---|",
    ]
    for spec in TABLES.values():
        out.append(_row(f"`{spec.file}`", spec.written_by, spec.description))
    for name, (by, what) in FILES.items():
        out.append(_row(f"`{name}`", by, what))
    out += ["", "## Tables", ""]
    for spec in TABLES.values():
        out += _table(spec)
    out += ["## Metrics", "",
            "Each metric is computed per (policy, replication) — the `group` metrics also per segment "
            "and issue type — then summarised over replications (`summary.csv`: "
            + ", ".join(f"`{c.name}`" for c in SUMMARY_STATS) + "). `better`: which direction is an "
            "improvement (`-`: neither); `verdict`: compared in the report's headline verdict; "
            "`present`: the metric is left out unless this holds.", "",
            "| metric | label | unit | kind | better | verdict | how it is computed | present |",
            "|---|---|---|---|---|---|---|---|"]
    out += [_metric_row(m) for m in METRICS.values()]
    out.append(_metric_row(UTILISATION))
    out += ["", "`labour_cost` and `cost_per_resolved` price the agents' *busy* minutes (agent-time "
            "cost): a policy that frees capacity lowers them without lowering the wage bill. "
            "`payroll` and `payroll_per_resolved` are the wage bill: the same for every policy with "
            "the same head count.", ""]
    out += ["## Ticket outcomes", "", "| `outcome` | meaning |", "|---|---|"]
    out += [_row(f"`{k}`", v) for k, v in OUTCOME_MEANINGS.items()]
    out += ["", "## Event-log activities", "",
            "The `concept:name` values of the event log, and the engine trace activity each comes from.", "",
            "| activity | meaning | engine trace activity |", "|---|---|---|"]
    sources: dict[str, list[str]] = {}
    for engine, log in ENGINE_TO_LOG.items():
        if log is not None:
            sources.setdefault(log, []).append(engine)
    for name, meaning in LOG_ACTIVITIES.items():
        src = ", ".join(f"`{s}`" for s in sources.get(name, [])) or "(added by the exporter)"
        out.append(_row(f"`{name}`", meaning, src))
    out += ["", "## Engine trace activities", "",
            "`simulate(..., trace=True)` keeps, per run, events `(start, end, ticket, activity, agent, "
            "team, detail)`.", "", "| activity | takes agent time | meaning |", "|---|---|---|"]
    out += [_row(f"`{k}`", "no", v) for k, v in TRACE_INSTANT_ACTIVITIES.items()]
    out += [_row(f"`{k}`", "yes", v) for k, v in TRACE_INTERVAL_ACTIVITIES.items()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":      # pragma: no cover - exercised by the docs test through render()
    sys.stdout.write(render())
