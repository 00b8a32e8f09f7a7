"""Text cells made safe for spreadsheets: no formula injection through a CSV file.

Names in supportsim outputs come from scenario files and, through ``calibrate``, from
external ticket logs.  A team called ``=HYPERLINK("http://...","x")`` written raw into
``teams.csv`` becomes a live formula when the file is opened in Excel or LibreOffice.
Every CSV writer passes its frame through :func:`csv_safe_frame`: a text cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (the
spreadsheet convention for "this is text", OWASP's advice against CSV injection), and
:func:`csv_unescape_frame` (used by :func:`sim.load_result`) removes exactly that
apostrophe again, so names read back are the names written.  Numbers are never touched
(``-0.5`` stays a number).  The one implementation: event logs, backtests, sweeps,
staffing and sensitivity outputs all use it (``sim.eventlog.safe`` only re-exports it).
Vectorised: an event log has millions of cells.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["csv_cell", "csv_unescape", "csv_safe_frame", "csv_unescape_frame", "csv_unescape_text",
           "FORMULA_START", "comment_line"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = re.compile("^'(?=[" + "".join(re.escape(c) for c in FORMULA_START) + "])")


def csv_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_unescape(value: Any) -> Any:
    """Undo :func:`csv_cell`: an apostrophe before = + - @ tab CR is dropped."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def _text_columns(df: pd.DataFrame) -> list[Any]:
    return [c for c in df.columns
            if df[c].dtype == object or isinstance(df[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(df[c].dtype)]


def csv_safe_frame(df: pd.DataFrame, columns: list[Any] | None = None) -> pd.DataFrame:
    """``df`` (copied when anything changes) with its text cells (of ``columns``; default all
    text columns) and column names spreadsheet-safe (see module)."""
    cols = _text_columns(df) if columns is None else [c for c in columns if c in df.columns]
    renamed = {c: csv_cell(c) for c in df.columns if isinstance(c, str) and csv_cell(c) != c}
    if not cols and not renamed:
        return df
    out = df
    for c in cols:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if not (cats.dtype == object or pd.api.types.is_string_dtype(cats.dtype)):
                continue
            safe = [csv_cell(x) for x in cats]
            if safe == list(cats):
                continue
            new = s.cat.rename_categories(safe)
        else:
            risky = _risky(s)
            if not risky.any():
                continue
            new = s.astype(object)
            new[risky] = "'" + new[risky].astype(str)
        if out is df:
            out = df.copy()
        out[c] = new
    return out.rename(columns=renamed) if renamed else out


def _risky(s: pd.Series) -> np.ndarray:
    """Which cells of ``s`` are text starting like a formula (numbers and missing values never)."""
    try:
        hits = s.str.startswith(FORMULA_START)      # NaN for cells that are not text
    except AttributeError:                         # no text at all (e.g. an object column of ints)
        return np.zeros(len(s), dtype=bool)
    return hits.fillna(False).to_numpy(dtype=bool)


def csv_unescape_text(s: pd.Series) -> pd.Series:
    """Undo :func:`csv_cell` over a column of text read back from a CSV (``'=x`` -> ``=x``)."""
    return s.str.replace(_ESCAPED, "", regex=True)


def csv_unescape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`csv_safe_frame` on a frame read back with ``pd.read_csv``."""
    renamed = {c: csv_unescape(c) for c in df.columns if isinstance(c, str) and csv_unescape(c) != c}
    out = df.rename(columns=renamed) if renamed else df.copy()
    for c in _text_columns(out):
        if not isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].map(csv_unescape, na_action="ignore")
    return out


_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def comment_line(text: Any) -> str:
    """Text safe inside one ``# ...`` comment of a YAML (or shell) file: line breaks and other
    control characters become visible escapes (``\\n``), so a scenario description can never
    end the comment and add a key to the file it annotates."""
    return _LINE_BREAKS.sub(lambda m: {"\n": "\\n", "\r": "\\r", "\t": " "}.get(
        m.group(0), f"\\u{ord(m.group(0)):04x}"), str(text))
