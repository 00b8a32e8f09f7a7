"""The catalogue: every metric, output table and column, ticket outcome and trace activity.

    >>> from sim.schema import METRICS, metric_info, TABLES
    >>> metric_info("resolution_mean_min").unit
    'min'
    >>> metric_info("utilisation_L2").label
    'utilisation of team L2'

Pure data (the spec layer): imports nothing from the rest of ``sim``, so any
layer may read it.  A new metric is one entry in :data:`METRICS` plus one
function in :mod:`sim.analysis.metrics`; a new column one :class:`Column` in
:data:`TABLES`.  ``docs/outputs.md`` is generated from here
(``python -m sim.schema.docs > docs/outputs.md``).
"""
from __future__ import annotations

from .metrics import (CONFIDENCE_LEVEL, CONFIDENCE_TEXT, CONFIDENCE_Z, KINDS, METRIC_LABELS, METRICS, UTILISATION, UTILISATION_PREFIX,
                      Metric, is_share_metric, is_utilisation, known_metric, metric_info, metric_label,
                      utilisation_team, verdict_metrics)
from .tables import FILES, SUMMARY_STATS, SWEEP_SUFFIXES, TABLES, Column, TableSpec, table_info
from .vocabulary import (ENGINE_TO_LOG, LOG_ACTIVITIES, OUTCOME_MEANINGS, OUTCOMES,
                         TRACE_ACTIVITIES, TRACE_INSTANT_ACTIVITIES, TRACE_INTERVAL_ACTIVITIES)

__all__ = [
    "Metric", "METRICS", "metric_info", "metric_label", "is_share_metric", "known_metric",
    "verdict_metrics", "METRIC_LABELS", "KINDS", "UTILISATION", "UTILISATION_PREFIX",
    "is_utilisation", "utilisation_team", "CONFIDENCE_LEVEL", "CONFIDENCE_Z", "CONFIDENCE_TEXT",
    "Column", "TableSpec", "TABLES", "table_info", "FILES", "SUMMARY_STATS", "SWEEP_SUFFIXES",
    "OUTCOMES", "OUTCOME_MEANINGS", "TRACE_ACTIVITIES", "TRACE_INSTANT_ACTIVITIES",
    "TRACE_INTERVAL_ACTIVITIES", "LOG_ACTIVITIES", "ENGINE_TO_LOG",
]
