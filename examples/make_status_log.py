"""Make examples/status_log.csv: a status-based incident export, from known parameters.

    python examples/make_status_log.py        # rewrites examples/status_log.csv and its mapping

It looks like the public ITSM incident logs (one row per status change; support groups named
with their line, `G230 2nd`, `V5 3rd`) and is made by sim/eventlog/status_demo.py - not by the
simulator, so calibrate is checked against parameters it shares no code with:

- 6 incidents an hour over the extract's 21 days (from Monday 2026-03-02), arriving at the
  1st line; issue types access / application / infrastructure (50 / 35 / 15 %) resolved at the
  1st / 2nd / 3rd line with log-normal effort of mean 30 / 90 / 240 minutes (cv 0.8); a line
  below the issue's spends an exponential diagnose effort (15 min at the 1st, 30 at the 2nd);
- 12 support groups: 2 of the 1st line (3 agents), 4 of the 2nd (5 agents), 6 of the 3rd
  (6 agents); each agent keeps up to 3 tickets `In Progress` and shares their time among them;
- 30 % of tickets at their resolving line wait for the customer or a vendor (`Wait - User`,
  `Wait - Vendor`, `Wait - Implementation`, mean 4 hours; 5 % never answer: `Cancelled`);
- the shape of a snapshot extract: every ticket with a row in the 21 days (a few started
  before them) plus 40 legacy tickets open for up to 400 days, closed in the extract.
The mapping file says which column is which; the statuses are recognised without it.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.eventlog.status_demo import MAPPING_YAML, status_log  # noqa: E402


def main(out: Path = ROOT / "examples" / "status_log.csv") -> None:
    log, truth = status_log(seed=2026)
    log.to_csv(out, index=False)
    out.with_name("status_log_mapping.yaml").write_text(MAPPING_YAML, encoding="utf-8")
    print(f"{out}: {len(log)} rows, {log['Incident ID'].nunique()} incidents "
          f"({truth.tickets_in_window} created in the extract's {truth.params.window_days:g} days)")
    print(f"  agents had more than one ticket in progress {truth.concurrent_share:.0%} of their "
          "busy time")


if __name__ == "__main__":
    main()
