#!/usr/bin/env python3
"""Engine speed against bare SimPy, per-policy speed, scaling and memory.

Run: ``python benchmarks/engine_speed.py`` (``--quick`` for a short run).
Everything is measured in this one process, side by side, as CPU time of this
process (``time.process_time``), so other programs on a shared machine disturb
the figures as little as possible and both sides of each ratio alike.  Prints
figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario, scenario_from_dict, simulate  # noqa: E402
from sim.policies import registry  # noqa: E402

SERVERS, MEAN_WORK, LOAD = 10, 10.0, 0.8
PER_HOUR = LOAD * SERVERS / MEAN_WORK * 60   # 48 tickets/hour


def bare_simpy(n: int, seed: int = 1) -> float:
    """Minimal hand-written SimPy M/M/c: Resource + timeout. Returns customers/s."""
    env = simpy.Environment()
    desk = simpy.Resource(env, SERVERS)
    rng = random.Random(seed)
    lam, mu = PER_HOUR / 60, 1 / MEAN_WORK
    waits = []

    def customer(env):
        arrived = env.now
        with desk.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(mu))

    def source(env):
        for _ in range(n):
            yield env.timeout(rng.expovariate(lam))
            env.process(customer(env))

    env.process(source(env))
    t0 = time.process_time()
    env.run()
    return n / (time.process_time() - t0)


def mmc_scenario(n: int):
    days = n / PER_HOUR / 24
    return scenario_from_dict({
        "name": "bench-mmc", "seed": 1, "replications": 1,
        "horizon": {"days": days, "warmup_days": 0}, "arrivals": {"per_hour": PER_HOUR},
        "issues": [{"name": "any", "share": 1.0, "tier": 1, "skill": "s",
                    "work": {"dist": "exponential", "mean": MEAN_WORK}}],
        "teams": [{"name": "desk", "tier": 1, "agents": SERVERS, "skills": ["s"], "cost_per_hour": 60}],
        "policies": {"tiered": {}},
    }, "bench-mmc")


def project_rate(scn, policy: str = "tiered") -> tuple[float, int]:
    gc.collect()
    t0 = time.process_time()
    res = simulate(scn, policies=[policy], replications=1)
    elapsed = time.process_time() - t0
    # arrivals during the horizon: measured tickets (warm-up 0 for the M/M/c case)
    n = int(res.per_replication["tickets"].sum()) if scn.warmup_min == 0 else _arrivals(res)
    return n / elapsed, n


def _arrivals(res) -> int:
    return int(len(res.tickets) * res.scenario.horizon.days /
               (res.scenario.horizon.days - res.scenario.horizon.warmup_days))


def best_of(fn, repeat: int):
    return max(fn() for _ in range(repeat))


def peak_rss_of_child(n: int) -> float:
    """Peak resident memory (MiB) of a fresh process simulating n tickets."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r});"
            "import resource; from benchmarks.engine_speed import mmc_scenario;"
            "from sim import simulate;"
            f"r = simulate(mmc_scenario({n}), replications=1); n = len(r.tickets);"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, n)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller runs (a rough look)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 1,000,000-ticket runs")
    args = ap.parse_args()
    n = 30_000 if args.quick else 100_000
    repeat = 2 if args.quick else 3

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"simpy {simpy.__version__}")
    print(f"\n== M/M/{SERVERS} at load {LOAD}: {n:,} customers, best of {repeat} ==")
    bare = best_of(lambda: bare_simpy(n), repeat)
    ours = best_of(lambda: project_rate(mmc_scenario(n))[0], repeat)
    print(f"bare SimPy (Resource + timeout): {bare:10,.0f} customers/s (CPU time)")
    print(f"supportsim, tiered:              {ours:10,.0f} tickets/s")
    print(f"ratio supportsim / bare SimPy:   {ours / bare:10.2f}   (goal >= 0.67)")

    default = load_scenario(ROOT / "scenarios" / "default.yaml")
    if args.quick:
        default = default.replace(horizon={"days": 20, "warmup_days": 0})
    print(f"\n== default scenario, per policy (one replication, {default.horizon.days:g} days, "
          f"warm-up {default.horizon.warmup_days:g}) ==")
    rates = {}
    for policy in registry.builtin_names():
        rates[policy] = best_of(lambda: project_rate(default, policy)[0], repeat)
    for policy, rate in rates.items():
        print(f"{policy:22s} {rate:10,.0f} tickets/s   slowdown vs tiered {rates['tiered'] / rate:5.2f}x"
              "   (goal <= 2)")

    if args.no_scaling:
        return
    print("\n== scaling: cost per ticket from 10,000 to 1,000,000 tickets ==")
    small = statistics.median(project_rate(mmc_scenario(10_000))[0] for _ in range(7))
    big_n = 200_000 if args.quick else 1_000_000
    big = project_rate(mmc_scenario(big_n))[0]
    print(f"10,000 tickets:    {1e6 / small:7.2f} µs/ticket")
    print(f"{big_n:,} tickets: {1e6 / big:7.2f} µs/ticket   ratio {small / big:5.2f}   (goal <= 1.2)")
    rss = peak_rss_of_child(big_n)
    print(f"peak memory of a fresh process simulating {big_n:,} tickets: {rss:,.0f} MiB   (goal < 1024)")


if __name__ == "__main__":
    main()
