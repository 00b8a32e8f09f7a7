"""Make examples/tickets_log.csv: a small, realistic ticket event log to try `calibrate` on.

    python examples/make_tickets_log.py            # rewrites examples/tickets_log.csv

How it is made (deterministic):
1. simulate scenarios/default.yaml under `tiered`, one replication of 3 days, seed 11;
2. export the per-event log (sim.eventlog.events_frame);
3. make it look like a real export (sim.eventlog.demo.realistic_log): drop the simulator's
   bookkeeping columns (policy, replication, queue, ...) but keep `cost` (each agent activity's
   labour cost, as a time-tracking export has it; calibrate turns it into each team's
   cost_per_hour), round it to cents, use case ids like INC0000017, and inject
   the defects real exports have - duplicate rows, lost 'resolved' events, activities whose end
   was never logged, an agent whose clock runs 4 minutes slow, a few rows whose start is after
   their end, timestamps in a +01:00 offset and some without any offset, rows out of order.
The defects injected are printed; `python run_sim.py calibrate examples/tickets_log.csv ...`
reports each of them with its count.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario, simulate  # noqa: E402
from sim.eventlog import events_frame  # noqa: E402
from sim.eventlog import vocabulary as V  # noqa: E402
from sim.eventlog.demo import realistic_log  # noqa: E402


def main(out: Path = ROOT / "examples" / "tickets_log.csv") -> None:
    scn = load_scenario(ROOT / "scenarios" / "default.yaml")
    scn = scn.replace(horizon={"days": 3, "warmup_days": 0})
    result = simulate(scn, policies=["tiered"], replications=1, seed=11, trace=True)
    log, defects = realistic_log(events_frame(result), seed=7, keep=(V.COST,))
    log[V.COST] = log[V.COST].round(2)
    log.to_csv(out, index=False)
    print(f"{out}: {len(log)} rows, {log['case:concept:name'].nunique()} tickets")
    for key, value in vars(defects).items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
