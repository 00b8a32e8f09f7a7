#!/usr/bin/env python3
"""Engine speed against bare SimPy and against a baseline copy of supportsim; scaling; memory.

Run: ``python benchmarks/engine_speed.py`` (``--quick`` for a rough look, ``--base DIR`` for the
baseline checkout; default ``/tmp/base``, made with ``git worktree add /tmp/base <commit>``).

Why it is built this way (issue 16): the machine is shared, so every figure is a *ratio* of two
things measured side by side in this one process, interleaved round by round (A, B, B, A, ...),
and the median of the rounds is reported, in CPU time of this process (``time.process_time``)
and in wall time.  The baseline package is loaded from ``DIR/sim`` under the module name
``sim_base`` with :mod:`importlib`, so both versions run in the same interpreter against the same
SimPy.  Memory and import cost are measured in fresh subprocesses.  Prints figures; asserts
nothing.

Figures:

1. M/M/10 at load 0.9: supportsim (``tiered``, end to end through ``simulate()``, every ticket
   column recorded and the pandas tables built) against the fastest idiomatic bare SimPy model
   of the same queue: arrival and service times pre-drawn into lists, one process per customer,
   ``Resource.request()``/``release()``, the wait recorded, no random calls in the timed part.
2. Every built-in policy on ``scenarios/default.yaml`` (one replication), current vs baseline
   (at least 15 rounds: one run is short and the ratio drifts with fewer).
3. Cost per ticket from 10,000 to 1,000,000 tickets; peak RSS of a fresh process simulating
   1,000,000 tickets; fixed cost per run (``simulate()`` of a near-empty run) and ``import sim``.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import json
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

import sim  # noqa: E402
from sim import load_scenario, scenario_from_dict, simulate  # noqa: E402
from sim.policies import registry  # noqa: E402

SERVERS, MEAN_WORK, LOAD = 10, 10.0, 0.9
PER_HOUR = LOAD * SERVERS / MEAN_WORK * 60   # 54 tickets/hour


# ----------------------------------------------------------------------------- baselines
def load_base(base: Path):
    """The baseline checkout's ``sim`` package, imported as ``sim_base`` (None if absent)."""
    init = base / "sim" / "__init__.py"
    if not init.exists():
        return None
    spec = importlib.util.spec_from_file_location("sim_base", init,
                                                  submodule_search_locations=[str(base / "sim")])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sim_base"] = mod
    spec.loader.exec_module(mod)
    importlib.import_module("sim_base.policies")
    return mod


def bare_simpy_draws(n: int, seed: int = 1) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    lam, mu = PER_HOUR / 60, 1 / MEAN_WORK
    return [rng.expovariate(lam) for _ in range(n)], [rng.expovariate(mu) for _ in range(n)]


def bare_simpy(gaps: list[float], works: list[float]) -> int:
    """The fastest idiomatic SimPy M/M/c we know: pre-drawn times, request/release, prebound."""
    env = simpy.Environment()
    desk = simpy.Resource(env, SERVERS)
    timeout, request, release, process = env.timeout, desk.request, desk.release, env.process
    waits: list[float] = []
    record = waits.append

    def customer(work):
        arrived = env.now
        req = request()
        yield req
        record(env.now - arrived)
        yield timeout(work)
        release(req)

    def source():
        for gap, work in zip(gaps, works):
            yield timeout(gap)
            process(customer(work))

    process(source())
    env.run()
    return len(waits)


def mmc_dict(n: int) -> dict:
    return {
        "name": "bench-mmc", "seed": 1, "replications": 1,
        "horizon": {"days": n / PER_HOUR / 24, "warmup_days": 0}, "arrivals": {"per_hour": PER_HOUR},
        "issues": [{"name": "any", "share": 1.0, "tier": 1, "skill": "s",
                    "work": {"dist": "exponential", "mean": MEAN_WORK}}],
        "teams": [{"name": "desk", "tier": 1, "agents": SERVERS, "skills": ["s"], "cost_per_hour": 60}],
        "policies": {"tiered": {}},
    }


def mmc_scenario(n: int, pkg=sim):
    return pkg.scenario_from_dict(mmc_dict(n), "bench-mmc")


# ----------------------------------------------------------------------------- timing
def timed(fn) -> tuple[float, float, object]:
    """(cpu seconds, wall seconds, result) of one call, after a collection."""
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - c0, time.perf_counter() - w0, out


def interleaved(fns: dict, rounds: int) -> dict[str, tuple[float, float]]:
    """Median (cpu, wall) of each function over ``rounds`` rounds, run A, B, B, A, A, B, ...,
    after one untimed warm-up call of each."""
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    wall: dict[str, list[float]] = {k: [] for k in fns}
    items = list(fns.items())
    for _, fn in items:          # one untimed call each first: caches, lazy imports, allocator
        fn()
    for r in range(rounds):
        # A, B, then B, A: whichever runs second in a round measured up to ~10 % faster here
        # (allocator and cache state after the other's run), so the order alternates
        for name, fn in (items if r % 2 == 0 else items[::-1]):
            c, w, _ = timed(fn)
            cpu[name].append(c)
            wall[name].append(w)
    return {k: (statistics.median(cpu[k]), statistics.median(wall[k])) for k in fns}


def line(label: str, n: int, t: tuple[float, float], ref: tuple[float, float] | None = None,
         goal: str = "") -> None:
    c, w = t
    txt = f"{label:34s} {n / c:10,.0f}/s CPU {n / w:10,.0f}/s wall"
    if ref is not None:
        txt += f"   ratio {ref[0] / c:5.2f}x CPU {ref[1] / w:5.2f}x wall"
    print(txt + (f"   ({goal})" if goal else ""))


def child(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(ROOT))
    return json.loads(out.stdout.strip().splitlines()[-1])


def _hwm_mib() -> float:
    """Peak RSS of this process so far (VmHWM: unlike ru_maxrss it is not inherited on exec)."""
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_child(n: int, base: Path | None) -> dict:
    """Peak RSS (MiB) of a fresh process simulating ``n`` M/M/10 tickets (table built)."""
    pkg = f"load_base(Path({str(base)!r}))" if base else "__import__('sim')"
    # the child gets these helpers' source, not this module (which imports the current sim)
    import inspect
    helpers = "".join(inspect.getsource(f) for f in (load_base, mmc_dict, _hwm_mib))
    code = ("import sys, json, importlib, importlib.util; from pathlib import Path;"
            f"sys.path.insert(0, {str(ROOT)!r}); SERVERS, MEAN_WORK, PER_HOUR = "
            f"{SERVERS!r}, {MEAN_WORK!r}, {PER_HOUR!r}\n" + helpers +
            f"pkg = {pkg}; rss0 = _hwm_mib();"
            f"r = pkg.simulate(pkg.scenario_from_dict(mmc_dict({n}), 'm'), replications=1);"
            "print(json.dumps({'peak': _hwm_mib(), 'after_import': rss0, 'tickets': len(r.tickets),"
            " 'table': float(r.tickets.memory_usage(deep=True).sum()) / 2**20}))")
    return child(code)


def import_cost_child(module: str, path: Path) -> dict:
    code = ("import time, resource, json, sys;"
            f"sys.path.insert(0, {str(path)!r});"
            "c = time.process_time(); w = time.perf_counter();"
            f"import {module};"
            "hwm = [int(r.split()[1]) for r in open('/proc/self/status') if r.startswith('VmHWM')];"
            "print(json.dumps({'cpu': time.process_time() - c, 'wall': time.perf_counter() - w,"
            " 'rss': hwm[0] / 1024}))")
    return child(code)


# ----------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs, 5 rounds (a rough look)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per comparison (default 7; 5 quick)")
    ap.add_argument("--base", type=Path, default=Path("/tmp/base"),
                    help="checkout of the baseline commit (its sim/ is loaded as sim_base)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 1,000,000-ticket runs")
    ap.add_argument("--only", choices=["mmc", "policies", "scaling", "fixed"], default=None)
    args = ap.parse_args()
    rounds = args.rounds or (5 if args.quick else 7)
    n = 30_000 if args.quick else 100_000
    base = load_base(args.base)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"simpy {simpy.__version__}; load average {os.getloadavg()[0]:.1f}")
    print(f"baseline: {args.base if base else '(none found)'}; median of {rounds} interleaved rounds")

    if args.only in (None, "mmc"):
        print(f"\n== M/M/{SERVERS} at load {LOAD}: {n:,} customers ==")
        gaps, works = bare_simpy_draws(n)
        fns = {"bare": lambda: bare_simpy(gaps, works),
               "ours": lambda: simulate(mmc_scenario(n), policies=["tiered"], replications=1)}
        if base:
            fns["base"] = lambda: base.simulate(mmc_scenario(n, base), policies=["tiered"],
                                                replications=1)
        t = interleaved(fns, rounds)
        line("bare SimPy (pre-drawn, req/release)", n, t["bare"])
        line("supportsim (tiered, tables built)", n, t["ours"], t["bare"], "vs bare; goal >= 2.0")
        if base:
            line("baseline supportsim", n, t["base"], t["bare"], "vs bare")
            line("supportsim vs baseline", n, t["ours"], t["base"], "speed-up")

    if args.only in (None, "policies"):
        default = load_scenario(ROOT / "scenarios" / "default.yaml")
        days = 20 if args.quick else default.horizon.days
        default = default.replace(horizon={"days": days, "warmup_days": default.horizon.warmup_days})
        print(f"\n== scenarios/default.yaml, one replication, {days:g} days (tickets incl. warm-up) ==")
        # the baseline reads its own copy (same customers and model; newer keys it does not know)
        bdefault = base.load_scenario(args.base / "scenarios" / "default.yaml").replace(
            horizon=default.horizon.model_dump()) if base else None
        base_names = set(base.policies.registry.builtin_names()) if base else set()
        for policy in registry.builtin_names():
            fns = {"ours": lambda p=policy: simulate(default, policies=[p], replications=1)}
            if policy in base_names:
                fns["base"] = lambda p=policy: base.simulate(bdefault, policies=[p], replications=1)
            # a run is ~0.1 s: more rounds are cheap, and these ratios drift by +-0.1 with 5-9
            t = interleaved(fns, max(rounds, 15))
            arrivals = default.arrivals.per_hour * days * 24
            if "base" in t:
                line(f"{policy}", int(arrivals), t["ours"], t["base"], "vs baseline; goal >= 1.8")
            else:
                line(f"{policy} (not in baseline)", int(arrivals), t["ours"])

    if args.only in (None, "scaling") and not args.no_scaling:
        big_n = 200_000 if args.quick else 1_000_000
        print(f"\n== cost per ticket, 10,000 -> {big_n:,} tickets (M/M/{SERVERS}, load {LOAD}) ==")
        small = interleaved({"ours": lambda: simulate(mmc_scenario(10_000), replications=1)}, rounds)
        c_big, w_big, _ = timed(lambda: simulate(mmc_scenario(big_n), replications=1))
        print(f"10,000 tickets:    {1e6 * small['ours'][0] / 10_000:7.2f} µs/ticket CPU")
        print(f"{big_n:,} tickets: {1e6 * c_big / big_n:7.2f} µs/ticket CPU   ratio "
              f"{(c_big / big_n) / (small['ours'][0] / 10_000):5.2f}   (goal <= 1.1)")
        for label, b in (("current", None), ("baseline", args.base if base else None)):
            if label == "baseline" and b is None:
                continue
            r = peak_rss_child(big_n, b)
            print(f"peak RSS, fresh process, {big_n:,} tickets, {label}: {r['peak']:6.0f} MiB "
                  f"(after import {r['after_import']:.0f} MiB; ticket table {r['table']:.0f} MiB)"
                  + ("   (goal <= 350)" if label == "current" else ""))

    if args.only in (None, "fixed"):
        print("\n== fixed cost per run and import ==")
        tiny = mmc_scenario(50)
        fns = {"ours": lambda: simulate(tiny, replications=1)}
        if base:
            btiny = mmc_scenario(50, base)
            fns["base"] = lambda: base.simulate(btiny, replications=1)
        t = interleaved(fns, max(rounds, 15))
        print(f"simulate() of a 50-ticket run, current:  {1e3 * t['ours'][0]:6.2f} ms CPU "
              f"{1e3 * t['ours'][1]:6.2f} ms wall   (goal: fixed cost <= 3 ms)")
        if base:
            print(f"simulate() of a 50-ticket run, baseline: {1e3 * t['base'][0]:6.2f} ms CPU "
                  f"{1e3 * t['base'][1]:6.2f} ms wall   ratio {t['base'][0] / t['ours'][0]:.2f}x")
        day = load_scenario(ROOT / "scenarios" / "default.yaml").replace(
            horizon={"days": 1, "warmup_days": 0})
        fns = {"ours": lambda: simulate(day, replications=1)}
        if base:
            bday = base.load_scenario(args.base / "scenarios" / "default.yaml").replace(
                horizon={"days": 1, "warmup_days": 0})
            fns["base"] = lambda: base.simulate(bday, replications=1)
        t = interleaved(fns, max(rounds, 15))
        print(f"one-day default-scenario run (its policies), current: {1e3 * t['ours'][0]:6.2f} ms CPU"
              + (f"; baseline {1e3 * t['base'][0]:6.2f} ms, ratio {t['base'][0] / t['ours'][0]:.2f}x"
                 if base else ""))
        for label, path in (("current", ROOT), ("baseline", args.base if base else None)):
            if path is None:
                continue
            r = statistics.median((import_cost_child("sim", path)["cpu"] for _ in range(3)))
            rss = import_cost_child("sim", path)["rss"]
            print(f"import sim, {label}: {1e3 * r:6.0f} ms CPU, {rss:5.0f} MiB RSS")


if __name__ == "__main__":
    main()
