"""Reading the JSON files supportsim keeps beside its results, boundedly.

``meta.json``, ``sweep.json``, ``sensitivity.json``, ``staffing.json``, lock holders and saved
runs are read back by later commands (``report DIR``, ``--resume``, a second run into the same
directory).  Such a file may have been edited by hand or come from someone else: a 2 GB file
must not be read into memory, and ``[[[[...`` nested 100,000 deep must not become a
``RecursionError`` traceback (the json module recurses per level).  :func:`read_json` turns
every such case into one ``ValueError`` line naming the file.
"""
from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["read_json", "loads_bounded", "MAX_JSON_BYTES"]

#: no JSON file supportsim writes comes near this (a sweep manifest of 10,000 points is ~2 MB)
MAX_JSON_BYTES = 50_000_000


def loads_bounded(text: str, what: str) -> Any:
    """``json.loads(text)``; a malformed or too deeply nested document is a ``ValueError`` naming ``what``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise ValueError(f"{what}: not valid JSON for supportsim (nested too deeply)") from None


def read_json(path: str | os.PathLike, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The JSON document in ``path``; ``ValueError`` (one line) when it is too large, not UTF-8,
    not JSON or nested too deeply; ``OSError`` when it cannot be read."""
    size = os.stat(path).st_size
    if size > max_bytes:
        raise ValueError(f"{path}: too large for a supportsim JSON file ({size:,} bytes)")
    with open(path, "rb") as fh:
        raw = fh.read(max_bytes + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not valid JSON (not UTF-8 text)") from None
    return loads_bounded(text, str(path))
