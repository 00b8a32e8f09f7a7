"""Text cells made safe for spreadsheets: no formula injection through a CSV file.

Names in supportsim outputs come from scenario files and, through ``calibrate``, from
external ticket logs.  A team called ``=HYPERLINK("http://...","x")`` written raw into
``teams.csv`` becomes a live formula when the file is opened in Excel or LibreOffice.
Every CSV writer passes its frame through :func:`csv_safe_frame`: a text cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (the
spreadsheet convention for "this is text").  A cell that already starts with an
apostrophe gets one more, so the escaping is reversible: :func:`csv_unescape_frame`
(used by :func:`sim.load_result`) gives back exactly the original names.  Numbers are
never touched (``-0.5`` stays a number).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["csv_cell", "csv_unescape", "csv_safe_frame", "csv_unescape_frame", "FORMULA_START"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value and (value[0] in FORMULA_START or value[0] == "'"):
        return "'" + value
    return value


def csv_unescape(value: Any) -> Any:
    """Undo :func:`csv_cell` (a text cell starting with an apostrophe loses one)."""
    if isinstance(value, str) and value.startswith("'"):
        return value[1:]
    return value


def _text_columns(df: pd.DataFrame) -> list[Any]:
    return [c for c in df.columns
            if df[c].dtype == object or isinstance(df[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(df[c].dtype)]


def csv_safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names are spreadsheet-safe (see module)."""
    cols = _text_columns(df)
    renamed = {c: csv_cell(c) for c in df.columns if isinstance(c, str) and csv_cell(c) != c}
    if not cols and not renamed:
        return df
    out = df.copy()
    for c in cols:
        s = out[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if cats.dtype == object or pd.api.types.is_string_dtype(cats.dtype):
                out[c] = s.cat.rename_categories([csv_cell(x) for x in cats])
        else:
            out[c] = s.map(csv_cell, na_action="ignore")
    return out.rename(columns=renamed) if renamed else out


def csv_unescape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`csv_safe_frame` on a frame read back with ``pd.read_csv``."""
    renamed = {c: csv_unescape(c) for c in df.columns if isinstance(c, str) and c.startswith("'")}
    out = df.rename(columns=renamed) if renamed else df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(csv_unescape, na_action="ignore")
    return out
