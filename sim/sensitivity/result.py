"""A finished sensitivity analysis: its tables and settings, saved and read back (no simulation here).

Layout of an output directory::

    DIR/sensitivity.json     settings: scenario, fingerprint, policies, baseline, metrics,
                             parameters (range, scenario value), skipped parameters, tolerance
    DIR/tornado.csv          parameter, value, policy, metric, relative_change, ci_low, ci_high, kind
    DIR/flips.csv            parameter, policy, baseline, metric, flip_value, low, high, direction,
                             better_side, note, ahead, unstable, sign_changes
    DIR/points.csv           every evaluated value (the flip lines)
    DIR/tornado.png, DIR/flip_lines.png
    DIR/runs/<key>.json      one file per finished simulation run (what makes it resumable)

``sensitivity.json`` is written last: a directory holding it holds a complete analysis.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from ..atomic import atomic_write
from ..outputs.cells import csv_safe_frame, csv_unescape_frame   # names: no spreadsheet formulas
from ..outputs.jsonfile import read_json
from .params import Param

__all__ = ["SensitivityResult", "fingerprint", "load_sensitivity", "SENSITIVITY_DIR"]

#: where ``run --out DIR`` keeps the main job's analysis, so ``report DIR`` shows it again
SENSITIVITY_DIR = "sensitivity"


def fingerprint(scenario_data: dict, seed: int) -> str:
    """Identity of a scenario as run: a saved analysis belongs to a result only if they match."""
    text = json.dumps({"scenario": scenario_data, "seed": seed}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class SensitivityResult:
    scenario: str
    fingerprint: str
    seed: int
    replications: int
    horizon_days: float
    policies: list[str]
    baseline: str
    metrics: list[str]
    params: list[Param]
    base_values: dict[str, Optional[float]]
    tolerance: float
    tornado: pd.DataFrame
    flips: pd.DataFrame
    points: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)
    quick: bool = False
    #: the scenario file's ``# ASSUMPTION`` comments (text), when it was read from a file
    assumption_comments: list[str] = field(default_factory=list)
    failed_runs: int = 0

    def param(self, path: str) -> Optional[Param]:
        return next((p for p in self.params if p.path == path), None)

    def settings(self) -> dict[str, Any]:
        return {
            "kind": "sensitivity", "scenario": self.scenario, "fingerprint": self.fingerprint,
            "seed": self.seed, "replications": self.replications, "horizon_days": self.horizon_days,
            "policies": self.policies, "baseline": self.baseline, "metrics": self.metrics,
            "params": [{"path": p.path, "low": p.low, "high": p.high, "relative": p.relative,
                        "label": p.label, "scenario_value": self.base_values.get(p.path)} for p in self.params],
            "skipped": [{"path": a, "reason": b} for a, b in self.skipped],
            "tolerance": self.tolerance, "quick": self.quick,
            "assumption_comments": self.assumption_comments, "failed_runs": self.failed_runs,
        }

    def save(self, directory: str | os.PathLike, output: Any = None) -> Path:
        """Write the tables, then ``sensitivity.json`` (last: it marks a complete analysis).

        ``output``: an open :class:`sim.outputs.OutputDir` of ``directory`` (the CLI's), so the
        files join its manifest; without one they are written atomically as they are.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        w = output if output is not None else PlainWriter(out)
        (out / "sensitivity.json").unlink(missing_ok=True)       # incomplete until rewritten
        for name, table in (("tornado", self.tornado), ("flips", self.flips), ("points", self.points)):
            w.write(f"{name}.csv", lambda p, t=table: csv_safe_frame(t).to_csv(p, index=False))
        text = json.dumps(self.settings(), indent=2, default=_json_default)
        w.write("sensitivity.json", lambda p: p.write_text(text, encoding="utf-8"))
        return out


class PlainWriter:
    """The writer interface of :class:`sim.outputs.OutputDir` (``write``/``adopt``) without a manifest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def write(self, rel: str, write: Any) -> Path:
        target = self.root / rel
        atomic_write(target, write)
        return target

    def adopt(self, target: Any) -> None:
        return None


def _json_default(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    raise TypeError(f"not JSON serialisable: {x!r}")


def load_sensitivity(directory: str | os.PathLike, expect: Optional[str] = None) -> Optional[SensitivityResult]:
    """The analysis saved in ``directory``, or None if there is none (or it is incomplete).

    With ``expect`` (a :func:`fingerprint`), an analysis of another scenario or seed is
    ignored too: a directory rewritten by a later run never shows a stale analysis.
    """
    d = Path(directory)
    meta_path = d / "sensitivity.json"
    if not meta_path.is_file():
        return None
    try:
        meta = read_json(meta_path)
        if not isinstance(meta, dict) or meta.get("kind") != "sensitivity":
            return None
        if expect is not None and meta.get("fingerprint") != expect:
            return None
        params = [Param(p["path"], float(p["low"]), float(p["high"]), bool(p["relative"]), p.get("label", ""))
                  for p in meta["params"]]
        base = {p["path"]: p.get("scenario_value") for p in meta["params"]}
        points = csv_unescape_frame(pd.read_csv(d / "points.csv"))
        return SensitivityResult(
            scenario=str(meta["scenario"]), fingerprint=str(meta["fingerprint"]), seed=int(meta["seed"]),
            replications=int(meta["replications"]), horizon_days=float(meta["horizon_days"]),
            policies=list(meta["policies"]), baseline=str(meta["baseline"]), metrics=list(meta["metrics"]),
            params=params, base_values=base, tolerance=float(meta["tolerance"]),
            tornado=csv_unescape_frame(pd.read_csv(d / "tornado.csv")),
            flips=csv_unescape_frame(_read_flips(d / "flips.csv", points)),
            points=points,
            skipped=[(s["path"], s["reason"]) for s in meta.get("skipped", [])],
            quick=bool(meta.get("quick", False)),
            assumption_comments=[str(c) for c in meta.get("assumption_comments", [])],
            failed_runs=int(meta.get("failed_runs", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_flips(path: Path, points: pd.DataFrame) -> pd.DataFrame:
    flips = pd.read_csv(path, dtype={"parameter": str, "policy": str, "baseline": str, "metric": str})
    for col in ("direction", "better_side", "note", "ahead", "unstable"):
        if col in flips.columns:
            flips[col] = flips[col].astype(object).fillna("").astype(str)
        elif col in ("ahead", "unstable"):     # written before these fields existed: unknown
            flips[col] = ""
    if "sign_changes" not in flips.columns:    # written before it existed: count it from points.csv
        from .analysis import sign_changes_in_points

        flips["sign_changes"] = [sign_changes_in_points(points, row)
                                 for row in flips.to_dict("records")]
    flips["sign_changes"] = pd.to_numeric(flips["sign_changes"]).fillna(0).astype("int64")
    return flips
