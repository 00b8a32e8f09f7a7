"""Event logs both ways: export simulated tickets for process mining, calibrate from real logs.

- :func:`export_events` / :func:`simulate_events` / :func:`events_frame` write or build a
  per-event log (CSV, Parquet, XES, OCEL 2.0) with process-mining column names.
- :func:`read_event_log` reads CSV/Parquet/XES logs (with a column mapping) and
  cleans what real exports look like, counting every repair.
- :func:`sim.eventlog.calibrate.calibrate` estimates a valid scenario from such a log
  (``python run_sim.py calibrate LOG --out scenario.yaml``); status-based ITSM exports are
  read too (:mod:`.status`).
- :func:`sim.eventlog.backtest.backtest` simulates a scenario over a log's window and compares
  what both measure (``python run_sim.py backtest SCENARIO LOG``).

See ``docs/eventlog.md`` for the vocabulary, columns and calibration method.
"""
from __future__ import annotations

from .export import events_frame, export_events, run_events, scenario_start, simulate_events
from .trace import TraceTable
from .vocabulary import ACTIVITIES, COLUMNS
from .writers import FORMATS, ExportError, parse_formats

__all__ = [
    "ACTIVITIES", "COLUMNS", "FORMATS", "ExportError", "TraceTable", "events_frame",
    "backtest", "export_events", "parse_formats", "read_event_log", "run_events", "scenario_start",
    "simulate_events",
]


def __getattr__(name: str):
    """``read_event_log`` is imported only when asked for (the export path stays light)."""
    if name == "read_event_log":
        from .reader import read_event_log
        return read_event_log
    if name == "backtest":
        from .backtest import backtest
        return backtest
    raise AttributeError(f"module 'sim.eventlog' has no attribute {name!r}")
