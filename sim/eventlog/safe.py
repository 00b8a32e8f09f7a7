"""Escaping names that come from outside (event logs) before they go into files we write.

Why: activity, team and agent names come from other people's exports. Written raw into a YAML
comment, a newline in a name starts a new YAML line (it can switch a feature on, or make the
file unloadable); written raw into a CSV cell, ``=HYPERLINK(...)`` is run as a formula by a
spreadsheet. Every writer of such names goes through these two functions.
"""
from __future__ import annotations

import re
from typing import Any

import pandas as pd

# one rule for every CSV supportsim writes (sim.outputs.cells): the first characters a
# spreadsheet reads as the start of a formula (OWASP "CSV injection") get an apostrophe
from ..outputs.cells import FORMULA_START, csv_cell

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_RISKY = "^[" + "".join(re.escape(c) for c in FORMULA_START) + "]"
_ESCAPED = "^'(?=[" + "".join(re.escape(c) for c in FORMULA_START) + "])"


def comment_text(text: Any) -> str:
    """One line of comment text: control characters (newline, CR, tab, NUL...) shown as
    ``\\n``-style escapes, so nothing a log holds can end the comment."""
    def esc(m: re.Match) -> str:
        ch = m.group(0)
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 256
                                                           else f"\\u{ord(ch):04x}")
    return _CONTROL.sub(esc, str(text))


def csv_safe_frame(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """``frame`` with every text cell of ``columns`` (default: all object/string columns) made
    safe by :func:`csv_cell`; numbers are left alone (``-3`` is a number, not a formula).
    Vectorised (an event log has millions of cells), the same rule as
    :func:`sim.outputs.cells.csv_safe_frame`."""
    out = frame
    cols = columns if columns is not None else [
        c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    for c in cols:
        if c not in frame.columns:
            continue
        s = frame[c]
        text = s.astype("string")
        risky = text.str.match(_RISKY).fillna(False).to_numpy(bool)
        risky &= s.map(lambda v: isinstance(v, str)).to_numpy(bool)
        if risky.any():
            if out is frame:
                out = frame.copy()
            col = out[c].astype(object)
            col[risky] = "'" + text[risky].astype(str)
            out[c] = col
    return out


def uncsv_cell(text: pd.Series) -> pd.Series:
    """Undo :func:`csv_cell` when reading a CSV back (``'=x`` -> ``=x``)."""
    return text.str.replace(_ESCAPED, "", regex=True)


__all__ = ["FORMULA_START", "comment_text", "csv_cell", "csv_safe_frame", "uncsv_cell"]
