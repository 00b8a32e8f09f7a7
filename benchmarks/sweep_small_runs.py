"""Small runs: a sweep of many one-day runs on this code vs an older checkout, side by side.

    python benchmarks/sweep_small_runs.py              # 1,000 one-day runs, every core, 2 rounds
    python benchmarks/sweep_small_runs.py --quick      # 120 runs, 1 round (~1 min)
    python benchmarks/sweep_small_runs.py --base /tmp/base   # an existing checkout of the old code

Issue 16's goal: a sweep of 1,000 one-day runs finishes >= 3x faster than on the
old main (``feced46``), on the same machine, measured side by side.  Without
``--base`` the script checks ``feced46`` out into a temporary ``git worktree``
and removes it afterwards.

Both trees run the *same* sweep file (the old tree's default scenario, one day,
no warm-up, three policies, points varying the arrival rate) in a fresh Python
process each (one process cannot import two versions of ``sim``), alternating
old/new for each round so that other load on the machine hits both alike.
Reported per tree: ``run_sweep`` wall seconds (imports excluded), the whole
process's wall seconds, the CPU seconds of the sweep in all its processes
(coordinator and pool workers, which are reaped when the pool shuts down) and
of the tasks in their workers, and the ratios old / new of the medians.  On a
machine other jobs load, the wall-clock ratio swings with their load; the CPU
ratio does not, and it bounds what the wall ratio is on an idle machine
(the work is CPU-bound on every worker).  The fixed cost per run is
(sweep CPU - bare simulation CPU x runs) / runs: what the machinery around each
run costs (tables, metrics, scheduling, files); the bare simulation is timed in
the coordinator after one warm-up run per policy.  "Of which coordinator" is the
coordinating process's own CPU (scheduling, pickling, writing the files).

Timed alone, the bare simulation understates what the same runs cost when the
workers run side by side (on a small VM, two busy processes slow each other's
simulations by 20-50 %: shared caches, SMT siblings, the hypervisor).  So each
child also runs the sweep's exact runs bare (``run_replication`` only) on a
forked pool of the same worker count, in chunks, and the table shows the fixed
cost both ways: against the bare runs alone and against the bare runs on the pool.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE_COMMIT = "feced46"

CHILD = r"""
import json, resource, sys, time
def cpu():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from sim.sweep import load_sweep, run_sweep
from sim.engine import run_replication
imported = time.perf_counter() - t0
plan = load_sweep(sys.argv[2])
workers = int(sys.argv[4])
# CPU of the bare simulations (no tables, no metrics): what a run costs without the machinery;
# one run per policy first, so that the lazily imported modules are not counted
p = plan.points[0]
for pol in plan.policies:
    run_replication(p.scenario, pol, 0, p.seed)
times = []
for _ in range(3):          # the median of three timings of the same nine runs
    c0 = time.process_time()
    for rep in range(1, 4):
        for pol in plan.policies:
            run_replication(p.scenario, pol, rep, p.seed)
    times.append((time.process_time() - c0) / (3 * len(plan.policies)))
sim_cpu = sorted(times)[1]
me0 = resource.getrusage(resource.RUSAGE_SELF)
c1, t1 = cpu(), time.perf_counter()
out = run_sweep(plan, sys.argv[3], workers=workers)
wall = time.perf_counter() - t1
me1 = resource.getrusage(resource.RUSAGE_SELF)
coord = me1.ru_utime + me1.ru_stime - me0.ru_utime - me0.ru_stime
sweep_cpu = cpu() - c1
# the same runs, bare (run_replication only: no tables, metrics, pickling or files), on a pool of
# the same number of forked workers: what the simulations cost under the same parallelism (on a
# small VM two busy processes slow each other; the sweep should not be charged for that)
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
TASKS = [(i, pol, rep) for i in range(len(plan.points)) for pol in plan.policies
         for rep in range(plan.replications)]
def bare(chunk):
    for i, pol, rep in chunk:
        q = plan.points[i]
        run_replication(q.scenario, pol, rep, q.seed)
    return len(chunk)
n_chunks = max(1, workers) * 8
size = -(-len(TASKS) // n_chunks)
chunks = [TASKS[k:k + size] for k in range(0, len(TASKS), size)]
c2, t2 = cpu(), time.perf_counter()
if workers > 1:
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as ex:
        assert sum(ex.map(bare, chunks)) == len(TASKS)
else:
    for ch in chunks:
        bare(ch)
bare_pool_cpu, bare_pool_wall = cpu() - c2, time.perf_counter() - t2
print(json.dumps({"seconds": wall, "cpu": sweep_cpu, "done": out.done, "failed": out.failed,
                  "import_s": imported, "task_cpu": out.task_cpu_seconds, "sim_cpu_per_run": sim_cpu,
                  "coordinator_cpu": coord, "bare_pool_cpu": bare_pool_cpu,
                  "bare_pool_s": bare_pool_wall, "bare_runs": len(TASKS)}))
"""


def write_sweep(d: Path, base_scenario: Path, runs: int) -> Path:
    policies = ["tiered", "skill_routing", "swarming"]
    reps = 5
    points = max(1, -(-runs // (len(policies) * reps)))
    sweep = {"base": str(base_scenario), "name": "small_runs", "replications": reps, "seed": 7,
             "set": {"horizon.days": 1.0, "horizon.warmup_days": 0.0},
             "vary": {"arrivals.per_hour": [round(9.0 + 0.01 * i, 2) for i in range(points)]},
             "policies": policies}
    import yaml

    path = d / "small_runs.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def run_child(tree: Path, sweep: Path, out: Path, workers: int) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(sweep), str(out), str(workers)],
                          cwd=tree, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: the sweep failed:\n{proc.stderr[-2000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["process_s"] = time.perf_counter() - t0 - data["bare_pool_s"]    # the baseline is not the job
    if data["failed"]:
        raise SystemExit(f"{tree}: {data['failed']} runs failed")
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="one-day runs in the sweep (default 1000)")
    ap.add_argument("--quick", action="store_true", help="120 runs, 1 round")
    ap.add_argument("--rounds", type=int, default=2, help="alternating old/new rounds (default 2)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help=f"local workers for both (default: every core, here {os.cpu_count()})")
    ap.add_argument("--base", type=Path, default=None,
                    help=f"checkout of the old code (default: a temporary worktree of {BASE_COMMIT})")
    args = ap.parse_args()
    runs, rounds = (120, 1) if args.quick else (args.runs, args.rounds)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = args.base
        made = False
        if base is None:
            base = tmp / "base"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), BASE_COMMIT],
                           check=True, capture_output=True)
            made = True
        try:
            sweep = write_sweep(tmp, base / "scenarios" / "default.yaml", runs)
            print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
                  f"{runs} one-day runs, {args.workers} worker(s), {rounds} round(s); "
                  f"old = {base} ({BASE_COMMIT if made else 'given'}), new = {ROOT}", flush=True)
            results: dict[str, list[dict]] = {"old": [], "new": []}
            for k in range(rounds):
                for name, tree in (("old", base), ("new", ROOT)):
                    r = run_child(tree, sweep, tmp / f"{name}-{k}", args.workers)
                    results[name].append(r)
                    print(f"  round {k + 1} {name}: {r['done']} runs, sweep {r['seconds']:.1f} s, "
                          f"process {r['process_s']:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
        finally:
            if made:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                               capture_output=True)

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print("\n| code | sweep wall s (median) | process wall s | sweep CPU s (all processes) | of which coordinator s "
          "| CPU in tasks s | bare simulation CPU per run ms (alone / on the pool) "
          "| fixed cost per run ms (CPU; vs bare alone / vs bare on the pool) | bare pool wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("old", "new"):
        wall, sim, cpu = med(name, "seconds"), med(name, "sim_cpu_per_run"), med(name, "cpu")
        n = results[name][0]["done"]
        pool = med(name, "bare_pool_cpu") / results[name][0]["bare_runs"]
        fixed = (cpu - sim * n) / n * 1000
        fixed_pool = (cpu - pool * n) / n * 1000
        print(f"| {name} | {wall:.1f} | {med(name, 'process_s'):.1f} | {cpu:.1f} | {med(name, 'coordinator_cpu'):.1f} "
              f"| {med(name, 'task_cpu'):.1f} | {sim * 1000:.1f} / {pool * 1000:.1f} | {fixed:.1f} / {fixed_pool:.1f} "
              f"| {med(name, 'bare_pool_s'):.1f} |")
    print("\nfixed cost per run: goal <= 3 ms beyond simulation. 'vs bare alone' charges the sweep for "
          "the slowdown of running simulations side by side on this machine; 'vs bare on the pool' "
          "compares with the same runs, bare, on the same number of workers.")
    ratio = med("old", "seconds") / med("new", "seconds")
    whole = med("old", "process_s") / med("new", "process_s")
    cpu_ratio = med("old", "cpu") / med("new", "cpu")
    print(f"\nspeed-up of the sweep (old / new, medians): wall {ratio:.2f}x (whole process {whole:.2f}x), "
          f"CPU {cpu_ratio:.2f}x; goal >= 3x (load average now {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
