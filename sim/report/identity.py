"""Which run a report belongs to, so ``report DIR`` never replaces another run's report silently.

A report's HTML carries ``<meta name="supportsim-run" content="ID">``; ID is a
short hash of what makes a run that run: the scenario as simulated, the seed,
the number of replications and the policies.  Results are bit-identical for the
same inputs, so the same ID means the same numbers; a report rebuilt from the
same results (or re-run with the same inputs) may replace its predecessor, any
other needs ``--force``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Optional

__all__ = ["run_id", "report_run_id", "REPORT_META"]

REPORT_META = "supportsim-run"
_META = re.compile(r'<meta name="supportsim-run" content="([0-9a-f]{1,64})">')


def run_id(result: Any) -> str:
    """A 16-hex-digit identity of ``result``'s inputs (scenario, seed, replications, policies)."""
    data = {"scenario": result.scenario.to_dict(), "seed": int(result.seed),
            "replications": int(result.replications), "policies": [str(p) for p in result.policies]}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def report_run_id(directory: str | os.PathLike) -> Optional[str]:
    """The run ID of the report in ``directory``: None if there is no report, "" if it has no ID."""
    path = Path(directory) / "report.html"
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)          # the meta tag is in <head>, before any figure
    except OSError:
        return ""
    m = _META.search(head)
    return m.group(1) if m else ""
