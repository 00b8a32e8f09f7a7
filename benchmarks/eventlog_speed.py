#!/usr/bin/env python3
"""Event-log export and calibration speed.

Run: ``python benchmarks/eventlog_speed.py`` (``--days 10`` for a shorter run).
Simulates one tiered replication of scenarios/default.yaml, then times (CPU time
of this process): building the event log, writing each format, and calibrating
from CSV, Parquet and XES.  Prints events per second and file sizes; asserts
nothing.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario, simulate  # noqa: E402
from sim.eventlog import events_frame, export_events  # noqa: E402
from sim.eventlog.calibrate import calibrate  # noqa: E402


def timed(fn):
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=60)
    args = ap.parse_args()
    scn = load_scenario(ROOT / "scenarios" / "default.yaml").replace(
        horizon={"days": args.days, "warmup_days": 0})
    result, t_sim = timed(lambda: simulate(scn, policies=["tiered"], replications=1, trace=True))
    frame, t_frame = timed(lambda: events_frame(result))
    n = len(frame)
    print(f"{args.days:g} days, {n} events; simulate with trace {t_sim:.2f} s")
    print(f"build event log      {t_frame:6.2f} s  {n / t_frame:>10,.0f} events/s")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for fmt in ("csv", "parquet", "xes", "ocel"):
            (path,), t = timed(lambda: export_events(result, Path(tmp), fmt))
            paths[fmt] = path
            size = path.stat().st_size / 1e6
            print(f"write {fmt:<14} {t:6.2f} s  {n / t:>10,.0f} events/s  {size:7.1f} MB "
                  "(includes building the log)")
        for fmt in ("csv", "parquet", "xes"):
            _, t = timed(lambda: calibrate(paths[fmt]))
            print(f"calibrate from {fmt:<7} {t:6.2f} s  {n / t:>10,.0f} events/s")


if __name__ == "__main__":
    main()
