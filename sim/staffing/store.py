"""The staffing directory's run store: every simulated replication saved as its evaluation finishes.

```
DIR/staffing.json                        what was asked (targets, bounds, seeds): informative
DIR/runs/<policy>/<id>.parquet           one file per evaluation: its replications' metric rows
DIR/staffing.csv, staffing_summary.csv, evaluations.parquet, staffed/<policy>.yaml, report.html
```
A row is identified by (fingerprint, policy, staffing, seed, replication).  The
fingerprint covers everything but the agent counts that could change the
customers or the engine's behaviour (the scenario without its staffing, the
policy's parameters, the software version), so re-running the command - with
other targets or bounds too - reuses every replication already simulated and a
changed scenario never reuses stale ones.  Files are written atomically.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .._version import __version__
from ..atomic import atomic_write

__all__ = ["RunStore", "fingerprint", "scenario_identity", "staffing_key"]

KEY_COLUMNS = ["fingerprint", "policy", "staffing", "seed", "replication"]


def staffing_key(teams: Iterable[str], agents: Iterable[int]) -> str:
    return ";".join(f"{t}={n}" for t, n in zip(teams, agents))


def fingerprint(scenario: Any, policy: str) -> str:
    """Identity of (scenario without staffing, policy, parameters, version) for reusing runs."""
    data = scenario.to_dict()
    for key in ("name", "description", "seed", "replications", "policies"):
        data.pop(key, None)
    for team in data.get("teams", []):
        team.pop("agents", None)
    params = (scenario.policies or {}).get(policy, {})
    text = json.dumps({"scenario": data, "policy": policy, "params": params, "version": __version__},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def scenario_identity(scenario_data: dict[str, Any]) -> str:
    """Identity of a scenario as a decision report sees it: everything but seed, replications,
    policies, name and description (so the run report can tell whether staffing results in
    ``results/staffing/<name>/`` were computed from this very scenario, staffing included)."""
    data = {k: v for k, v in scenario_data.items()
            if k not in ("name", "description", "seed", "replications", "policies")}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:20]


def policy_slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "policy"


class RunStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.rows: dict[tuple, dict[str, float]] = {}
        self.loaded: set[tuple] = set()      # keys read from disk (an earlier command's runs)

    def load(self) -> int:
        """Read every saved replication; returns how many were found."""
        runs = self.root / "runs"
        for path in sorted(runs.rglob("*.parquet")) if runs.is_dir() else []:
            if path.name.startswith("."):
                continue
            try:
                df = pd.read_parquet(path)
            except Exception:          # a foreign or damaged file: not ours to trust, not ours to delete
                continue
            if not set(KEY_COLUMNS) <= set(df.columns):
                continue
            for rec in df.to_dict("records"):
                key = tuple(rec.pop(k) for k in KEY_COLUMNS)
                k = (str(key[0]), str(key[1]), str(key[2]), int(key[3]), int(key[4]))
                self.rows[k] = rec
                self.loaded.add(k)
        return len(self.rows)

    def get(self, fp: str, policy: str, staffing: str, seed: int, rep: int) -> dict[str, float] | None:
        return self.rows.get((fp, policy, staffing, seed, rep))

    def save(self, fp: str, policy: str, staffing: str, seed: int,
             rows: dict[int, dict[str, float]]) -> None:
        """Write one evaluation's newly simulated replications as one file."""
        if not rows:
            return
        records = [{"fingerprint": fp, "policy": policy, "staffing": staffing, "seed": seed,
                    "replication": rep, **metrics} for rep, metrics in sorted(rows.items())]
        ident = hashlib.sha1(f"{fp}|{staffing}|{seed}|{sorted(rows)}".encode()).hexdigest()[:16]
        path = self.root / "runs" / policy_slug(policy) / f"{ident}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        df = pd.DataFrame(records)
        atomic_write(path, lambda p: df.to_parquet(p, index=False))
        for rep, metrics in rows.items():
            self.rows[(fp, policy, staffing, seed, rep)] = metrics
