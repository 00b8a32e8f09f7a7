"""Escaping names that come from outside (event logs) before they go into files we write.

Why: activity, team and agent names come from other people's exports. Written raw into a YAML
comment, a newline in a name starts a new YAML line (it can switch a feature on, or make the
file unloadable); written raw into a CSV cell, ``=HYPERLINK(...)`` is run as a formula by a
spreadsheet.  The rules live in one place, :mod:`sim.outputs.cells`, shared with every other
writer; this module keeps the event-log package's names for them.
"""
from __future__ import annotations

from ..outputs.cells import FORMULA_START, csv_cell, csv_safe_frame
from ..outputs.cells import comment_line as comment_text
from ..outputs.cells import csv_unescape_text as uncsv_cell

__all__ = ["FORMULA_START", "comment_text", "csv_cell", "csv_safe_frame", "uncsv_cell"]
