#!/usr/bin/env python3
"""What the quick sensitivity analysis adds to the main job (``python run_sim.py``), measured side by side.

Run: ``python benchmarks/main_job_sensitivity.py`` (``--rounds 3``).  Interleaves, round by round,
the main job (default scenario, its report *with* the quick "What this verdict assumes" analysis)
and the same run without it (``run scenarios/default.yaml``: a scenario given, so no quick
analysis), each in a fresh subprocess, and prints the medians of wall time and of CPU time
(the process and its workers: ``resource.getrusage(RUSAGE_CHILDREN)``) and their ratio.

The goal (issue 13.4) is a main job under 60 s on two cores. On a shared machine wall time is
inflated by everyone else's work; CPU time is not, and ``CPU(without) + CPU(analysis) / 2`` is
what an otherwise idle two-core machine needs (the analysis runs on two worker processes).
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _one(args: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {"main job (with analysis)": [], "without analysis": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.rounds):
            runs["main job (with analysis)"].append(_one(["--report", os.path.join(tmp, f"a{i}")]))
            runs["without analysis"].append(_one(["run", "scenarios/default.yaml", "--report",
                                                  os.path.join(tmp, f"b{i}")]))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in runs.items()}
    for k, (w, c) in med.items():
        print(f"{k:26s} wall {w:6.1f} s   CPU {c:6.1f} s")
    (wa, ca), (wb, cb) = med["main job (with analysis)"], med["without analysis"]
    print(f"ratio with/without: wall {wa / wb:.2f}, CPU {ca / cb:.2f}")
    print(f"estimate on an idle 2-core machine: {cb + (ca - cb) / 2:.1f} s "
          f"(load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
