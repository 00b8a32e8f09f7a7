"""Backtest: does a scenario reproduce the ticket log it claims to describe?

The scenario is simulated over the log's arrival window (after its own warm-up, so the
organisation is already busy when the window opens, as the real one was) and every KPI is
measured **the same way on both sides**: the simulated runs are exported as event logs and read
by the same code that reads the real log (:mod:`.prepare`, :mod:`.cases`). Only what both
measure is compared:

- ``arrivals_per_day``: tickets created in the window per day;
- ``resolution_median_min``, ``resolution_p90_min``: creation to (last) resolution of the
  window's tickets resolved before the log ends (the same cut on both sides); for a status log
  with customer waits also ``resolution_net_of_waits_*`` (the model has no customer waits);
- ``handoffs_per_ticket``; ``abandoned_share`` (abandoned or cancelled);
- ``reached_tier_<k>``: share of tickets worked by a team of tier k or higher (k >= 2);
- ``team_share_<team>``: share of tickets a team took;
- ``utilisation_<team>``: agent minutes of the team's timed activities in the window over its
  agents x window minutes - only when the log has activity durations and names agents.

Tolerance (``within``): the simulated mean's confidence interval (Student t over replications)
widened by the observed value's own sampling error, combined in quadrature:
``|observed - simulated| <= sqrt(ci_half^2 + (z * se_observed)^2)``. The observed standard error
is Poisson for the arrival count, batch means over the window (at least 5 batches, never below
the independent-tickets error; for shares that error uses the Agresti-Coull adjusted proportion,
so a share of exactly 0 or 1 is not taken as exact) for means and shares, and distribution-free
order-statistic bounds for the quantiles. With many KPIs at 95 %, about one in twenty is expected outside its
tolerance on a perfect model: read a single miss as a hint, several as a finding.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np
import pandas as pd
from scipy import stats

from ..schema import CONFIDENCE_LEVEL
from . import vocabulary as V
from .prepare import Prepared, prepare
from .reader import LogError, Mapping, Report
from .safe import comment_text
from .window import Window

if TYPE_CHECKING:
    from ..scenario import Scenario

COLUMNS = ["kpi", "observed", "simulated", "ci_low", "ci_high", "rel_error", "within"]
CSV_NAME = "backtest.csv"
ECDF_NAME = "resolution_ecdf.png"
#: the run's facts and each output's checksum: what makes backtest.csv recognisably ours
SIDECAR_NAME = "backtest.json"
_MARK = "supportsim backtest"
_TIMED = V.INTERVAL_ACTIVITIES


@dataclass
class KPI:
    kpi: str
    observed: float
    simulated: float
    ci_low: float
    ci_high: float
    rel_error: float
    within: Optional[bool]
    se_observed: float = math.nan
    tolerance: float = math.nan


@dataclass
class Backtest:
    kpis: list[KPI]
    policy: str
    replications: int
    window: Window
    confidence: float
    observed_resolution: np.ndarray = field(default_factory=lambda: np.zeros(0))
    simulated_resolution: np.ndarray = field(default_factory=lambda: np.zeros(0))
    notes: list[str] = field(default_factory=list)
    report: Optional[Report] = None

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([{c: getattr(k, c) for c in COLUMNS} for k in self.kpis],
                            columns=COLUMNS)


# --------------------------------------------------------------------------- measuring a log
@dataclass
class Measured:
    values: dict[str, float]
    se: dict[str, float]
    resolution: np.ndarray


def _batch_se(x: np.ndarray, t: np.ndarray, t0: float, t1: float, batches: int) -> float:
    """Standard error of a mean: batch means over time (tickets of one busy day are alike),
    never below the independent-observations error."""
    n = len(x)
    if n < 2:
        return math.nan
    if np.isin(x, (0.0, 1.0)).all():
        # a share: the Agresti-Coull adjusted proportion, so a share of exactly 0 or 1 does not
        # claim to be exact
        pa = (x.sum() + 2.0) / (n + 4.0)
        iid = math.sqrt(pa * (1 - pa) / n)
    else:
        iid = float(x.std(ddof=1) / math.sqrt(n))
    if batches < 5 or t1 <= t0:
        return iid
    idx = np.minimum(((t - t0) / (t1 - t0) * batches).astype(int), batches - 1)
    sums = np.bincount(idx, weights=x, minlength=batches)
    cnt = np.bincount(idx, minlength=batches)
    ok = cnt > 0
    if ok.sum() < 5:
        return iid
    means = sums[ok] / cnt[ok]
    # a ratio estimator: batches weighted by their size
    w = cnt[ok] / cnt[ok].mean()
    m = float(x.mean())
    var = float(((w * (means - m)) ** 2).sum() / (ok.sum() - 1) / ok.sum())
    return max(iid, math.sqrt(var))


def _quantile_se(x: np.ndarray, q: float, z: float) -> float:
    """Half the distribution-free order-statistic interval of the q-quantile, over z."""
    n = len(x)
    if n < 10:
        return math.nan
    xs = np.sort(x)
    half = z * math.sqrt(n * q * (1 - q))
    lo = int(max(0, math.floor(n * q - half)))
    hi = int(min(n - 1, math.ceil(n * q + half)))
    return float((xs[hi] - xs[lo]) / (2 * z))


def measure(prep: Prepared, start: pd.Timestamp, end: pd.Timestamp,
            tier_of: dict[str, int], agents: dict[str, int], z: float,
            utilisation: bool, net_of_waits: bool = False) -> Measured:
    """KPIs of a prepared log over [start, end] (the creation window) and their standard errors."""
    cases = prep.cases
    inw = cases[(cases["arrival"] >= start) & (cases["arrival"] <= end)]
    days = (end - start).total_seconds() / 86400.0
    n = len(inw)
    vals: dict[str, float] = {}
    se: dict[str, float] = {}
    t = ((inw["arrival"] - start).dt.total_seconds() / 86400.0).to_numpy()
    # batches of at least a day where the window allows (busy days are alike), 5 at least
    batches = int(min(20, max(5, math.floor(days)))) if days >= 1 else 0
    vals["arrivals_per_day"] = n / days if days > 0 else math.nan
    se["arrivals_per_day"] = math.sqrt(max(n, 1)) / days if days > 0 else math.nan
    done = inw[(inw["outcome"] == "resolved") & inw["resolution_min"].notna()]
    res = done["resolution_min"].to_numpy(float)
    for name, q in (("resolution_median_min", 0.5), ("resolution_p90_min", 0.9)):
        vals[name] = float(np.quantile(res, q)) if len(res) else math.nan
        se[name] = _quantile_se(res, q, z)
    if net_of_waits:
        # the model has no customer waits: also compare resolution net of them (a log without
        # that column - the simulated one - has none to take off)
        wait = done["customer_wait_min"].to_numpy(float) if "customer_wait_min" in done \
            else np.zeros(len(done))
        net = np.maximum(res - np.nan_to_num(wait), 0.0)
        for name, q in (("resolution_net_of_waits_median_min", 0.5),
                        ("resolution_net_of_waits_p90_min", 0.9)):
            vals[name] = float(np.quantile(net, q)) if len(net) else math.nan
            se[name] = _quantile_se(net, q, z)

    def mean_kpi(name: str, x: np.ndarray) -> None:
        vals[name] = float(x.mean()) if len(x) else math.nan
        se[name] = _batch_se(x.astype(float), t, 0.0, days, batches)

    mean_kpi("handoffs_per_ticket", inw["handoffs"].to_numpy(float))
    mean_kpi("abandoned_share", (inw["outcome"] == "abandoned").to_numpy(float))
    top = [tuple(seq) for seq in inw["teams"]]
    levels = sorted(set(tier_of.values()))
    for k in levels[1:]:
        reached = np.array([any(tier_of.get(x, 0) >= k for x in seq) for seq in top], float)
        mean_kpi(f"reached_tier_{k}", reached)
    for team in sorted(set(agents) | {x for seq in top for x in seq}):
        took = np.array([team in seq for seq in top], float)
        mean_kpi(f"team_share_{team}", took)
    if utilisation:
        rows = prep.rows
        timed = rows[rows["activity"].isin(_TIMED) & rows["start"].notna() & ~rows["open_activity"]
                     & rows["group"].notna()]
        s = timed["start"].clip(lower=start, upper=end)
        e = timed["ts"].clip(lower=start, upper=end)
        busy = (e - s).dt.total_seconds().to_numpy() / 60.0
        grp = timed["group"].to_numpy(object)
        mid = ((s + (e - s) / 2 - start).dt.total_seconds() / 86400.0).to_numpy()
        for team, a in agents.items():
            m = grp == team
            cap = a * days * 1440.0
            vals[f"utilisation_{team}"] = float(busy[m].sum() / cap) if cap > 0 else math.nan
            # batch means over days of the window: daily busy share of the agents' time
            if batches >= 5:
                idx = np.minimum((mid[m] / days * batches).astype(int), batches - 1)
                per = np.bincount(idx, weights=busy[m], minlength=batches) / (cap / batches)
                se[f"utilisation_{team}"] = float(per.std(ddof=1) / math.sqrt(batches))
            else:
                se[f"utilisation_{team}"] = math.nan
    return Measured(vals, se, res)


def log_has_durations(prep: Prepared) -> bool:
    rows = prep.rows
    timed = rows["activity"].isin(_TIMED) & rows["start"].notna()
    return bool(timed.any() and rows.loc[timed, "resource"].notna().any())


# --------------------------------------------------------------------------- simulating
def simulate_logs(scenario: "Scenario", policy: str, replications: int, days: float,
                  warmup_days: float, seed: Optional[int] = None,
                  window_start: Optional[pd.Timestamp] = None,
                  check: Optional[Callable[["Scenario", int], None]] = None):
    """One simulated event log per replication (all tickets, warm-up included).

    ``window_start``: the calendar time the measured window opens, so hour-of-day and weekday
    profiles and shifts line up with the log's (the scenario's own UTC offset is kept).

    The runs go through the one run path (:mod:`sim.execution`), in this process and one
    replication at a time: each task keeps only its activity trace (``trace=True, raw=True,
    measure=False``: no result tables, no metric row, neither is used here), so at most one
    run's trace is in memory.  The same tasks ``simulate(..., trace=True)`` makes, so the
    same traces.  ``check(scenario, replications)``, when given, is called with the scenario
    actually simulated before anything runs (the CLI's work estimate)."""
    from ..execution import InProcess, RunTask, iter_execute
    from ..policies import registry
    from ..policies.base import PolicyError
    from .export import run_events, scenario_start

    changes: dict = {"horizon": {"days": warmup_days + days, "warmup_days": warmup_days}}
    if window_start is not None:
        own = getattr(scenario, "start", None)
        tz = own.tzinfo if own is not None and own.tzinfo is not None else "UTC"
        begin = (window_start - pd.Timedelta(days=warmup_days)).tz_convert(tz)
        changes["start"] = begin.to_pydatetime()
    scn = scenario.replace(**changes)
    seed = scn.seed if seed is None else int(seed)
    if seed < 0:
        raise LogError(f"--seed: must be >= 0, got {seed}")
    if check is not None:
        check(scn, replications)
    tasks = (RunTask(key=r, scenario=scn, policy=policy, replication=r, seed=seed,
                     policy_cls=registry.get(policy), trace=True, raw=True, measure=False)
             for r in range(replications))
    start = scenario_start(scn)
    for rec in iter_execute(tasks, InProcess(), expected=replications):
        if not rec.ok:          # as simulate raises it: the policy's own error when it survived
            if isinstance(rec.exception, Exception):
                raise rec.exception
            raise PolicyError(rec.error or "run failed") from rec.exception
        yield scn, run_events(rec.run.trace, scn, seed, start)


def backtest(scenario: "Scenario", log: str | Path, mapping: Optional[Mapping] = None,
             policy: str = "tiered", replications: Optional[int] = None,
             confidence: float = CONFIDENCE_LEVEL, policy_filter: Optional[str] = None,
             case_filter: Optional[str] = None, max_teams: Optional[int] = 10,
             allow_partial: bool = False, seed: Optional[int] = None,
             warmup_days: Optional[float] = None,
             check: Optional[Callable[["Scenario", int], None]] = None) -> Backtest:
    """Simulate ``scenario`` under ``policy`` over the log's arrival window and compare.

    ``check(scenario, replications)``: called with the scenario to be simulated (the log's
    window plus the warm-up) before any run starts; the CLI's work estimate raises there."""
    if not 0.5 <= confidence < 1:
        raise LogError(f"--confidence: must be at least 0.5 and below 1, got {confidence}")
    reps = int(replications if replications is not None else scenario.replications)
    if reps < 2:
        raise LogError("--replications: a backtest needs at least 2 (the simulated confidence "
                       "interval comes from the spread between replications)")
    from ..policies import registry

    if registry.get(policy) is None:
        raise LogError(f"--policy: unknown policy {policy!r}; allowed: "
                       f"{', '.join(sorted(registry.builtin_names() + registry.plugin_names()))}")
    prep = prepare(log, mapping, policy_filter, case_filter, max_teams, allow_partial)
    win = prep.window
    log_end = prep.rows["ts"].max()
    # measured over the creation window; the simulation runs on to the log's end so tickets
    # created late are cut short exactly as the log cuts them
    sim_days = max((log_end - win.start).total_seconds() / 86400.0, win.days)
    warm = scenario.horizon.warmup_days if warmup_days is None else float(warmup_days)
    warm = max(warm, 1.0)
    teams = {t.name: t for t in scenario.teams}
    tier_of = {t.name: t.tier for t in scenario.teams}
    agents = {t.name: t.agents for t in scenario.teams}
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    util = log_has_durations(prep)
    notes = []
    unknown = sorted({x for seq in prep.cases["teams"] for x in seq} - set(teams))
    if unknown:
        notes.append(f"{len(unknown)} team(s) of the log are not in the scenario (read with other "
                     f"mapping options than calibrate?): {', '.join(unknown[:5])}")
    if not util:
        notes.append("utilisation not compared: the log has no activity durations with agents")
    if "customer_wait_min" in prep.cases:
        c = prep.cases[win.contains(prep.cases["arrival"])]
        waited = c["customer_wait_min"] > 0
        if waited.any():
            notes.append(f"{waited.mean():.0%} of the window's tickets waited for the customer "
                         f"(mean {c.loc[waited, 'customer_wait_min'].mean() / 60:.1f} h): part of "
                         "the log's resolution times, not modelled by the simulation")
    net = bool("customer_wait_min" in prep.cases and (prep.cases["customer_wait_min"] > 0).any())
    obs = measure(prep, win.start, win.end, tier_of, agents, z, util, net)
    sims: list[dict[str, float]] = []
    sim_res: list[np.ndarray] = []
    for scn, frame in simulate_logs(scenario, policy, reps, sim_days, warm, seed, win.start, check):
        w0 = _sim_start(scn) + pd.Timedelta(days=warm)
        w1 = w0 + pd.Timedelta(days=win.days)
        sp = prepare(f"<simulated {policy}>", Mapping(), max_teams=None, frame=frame,
                     allow_partial=True)
        m = measure(sp, w0, w1, tier_of, agents, z, util, net)
        sims.append(m.values)
        sim_res.append(m.resolution)
    kpis = []
    t = float(stats.t.ppf(0.5 + confidence / 2, reps - 1))
    for name, o in obs.values.items():
        v = np.array([s.get(name, 0.0 if name.startswith("team_share_") else math.nan)
                      for s in sims], float)
        v = v[np.isfinite(v)]
        if len(v) >= 2:
            mean = float(v.mean())
            half = t * float(v.std(ddof=1)) / math.sqrt(len(v))
        else:
            mean, half = (float(v.mean()) if len(v) else math.nan), math.nan
        se_o = obs.se.get(name, math.nan)
        tol = math.sqrt((half if math.isfinite(half) else 0.0) ** 2 +
                        ((z * se_o) if math.isfinite(se_o) else 0.0) ** 2)
        within = None
        if math.isfinite(o) and math.isfinite(mean):
            within = bool(abs(o - mean) <= tol + 1e-12)
        rel = (mean - o) / abs(o) if math.isfinite(o) and o != 0 and math.isfinite(mean) else math.nan
        kpis.append(KPI(name, o, mean, mean - half, mean + half, rel, within, se_o, tol))
    return Backtest(kpis, policy, reps, win, confidence,
                    obs.resolution, np.concatenate(sim_res) if sim_res else np.zeros(0),
                    notes, prep.report)


def _sim_start(scn: "Scenario") -> pd.Timestamp:
    from .export import scenario_start

    return scenario_start(scn)


# --------------------------------------------------------------------------- output
def table_lines(bt: Backtest) -> list[str]:
    """observed | simulated (CI) | relative error | within, one KPI a line."""
    pct = f"{bt.confidence * 100:.4g}%"
    head = (f"{'kpi':<36} {'observed':>11}  {'simulated (' + pct + ' CI)':<31} {'rel.err':>8}  "
            "within")
    out = [head, "-" * len(head)]
    for k in bt.kpis:
        ci = (f"{_num(k.simulated)} ({_num(k.ci_low)}-{_num(k.ci_high)})"
              if math.isfinite(k.ci_low) else _num(k.simulated))
        rel = f"{k.rel_error:+.1%}" if math.isfinite(k.rel_error) else "-"
        w = "-" if k.within is None else ("yes" if k.within else "NO")
        out.append(f"{comment_text(k.kpi)[:36]:<36} {_num(k.observed):>11}  {ci:<31} {rel:>8}  {w}")
    n_yes = sum(1 for k in bt.kpis if k.within)
    n = sum(1 for k in bt.kpis if k.within is not None)
    out.append(f"{n_yes} of {n} KPIs within tolerance (observed inside the simulated {pct} CI "
               "widened by the observed value's own sampling error; see docs/eventlog.md)")
    return out


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def write_outputs(bt: Backtest, out: Path, facts: Optional[dict[str, Any]] = None) -> list[Path]:
    """``out/backtest.csv``, ``out/resolution_ecdf.png`` and ``out/backtest.json``, each atomically.

    ``backtest.csv`` is a plain CSV (``pandas.read_csv(path)`` with no options); what makes it
    recognisably supportsim's - and the run's facts (policy, replications, confidence, the
    window; ``facts`` adds e.g. the scenario and log paths) - lives in the sidecar
    ``backtest.json``, which records each file's SHA-256.  A file of those names that
    supportsim did not write is never replaced (:func:`check_outputs`).  The sidecar is written
    first listing both the old and the new checksums, then the files, then the sidecar again
    with the new ones only: interrupted anywhere, every file left is still recognised as ours.
    Written by the one atomic writer (:mod:`sim.atomic`: the umask's mode, fsynced, a
    recognisable temporary)."""
    from .. import atomic

    check_outputs(out)
    out.mkdir(parents=True, exist_ok=True)
    data = {CSV_NAME: _csv_bytes(bt), ECDF_NAME: _ecdf_png_bytes(bt)}
    new = {name: hashlib.sha256(b).hexdigest() for name, b in data.items()}
    old = {name: _sha256(out / name) for name in data if (out / name).is_file()}
    sidecar = out / SIDECAR_NAME
    both = {name: sorted({new[name], *([old[name]] if name in old else [])}) for name in data}
    atomic.write_text(sidecar, _sidecar_text(bt, both, facts))
    written = []
    for name, b in data.items():
        atomic.write_bytes(out / name, b)
        written.append(out / name)
    atomic.write_text(sidecar, _sidecar_text(bt, {name: [h] for name, h in new.items()}, facts))
    written.append(sidecar)
    return written


def _csv_bytes(bt: Backtest) -> bytes:
    from .safe import csv_safe_frame

    frame = csv_safe_frame(bt.frame())        # every text cell (KPI names carry team names)
    frame["within"] = frame["within"].astype("boolean")      # empty where it cannot be judged
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _sidecar_text(bt: Backtest, hashes: dict[str, list[str]], facts: Optional[dict[str, Any]]) -> str:
    from .._version import __version__

    w = bt.window
    doc: dict[str, Any] = {
        "kind": _MARK, "software": "supportsim", "version": __version__,
        "policy": bt.policy, "replications": bt.replications, "confidence": bt.confidence,
        "window": {"start": w.start.isoformat(), "end": w.end.isoformat(), "days": w.days,
                   "tickets": int(w.tickets), "dense": bool(w.dense), "reason": w.reason},
        "kpis_within": sum(1 for k in bt.kpis if k.within),
        "kpis_compared": sum(1 for k in bt.kpis if k.within is not None),
        "notes": list(bt.notes), **(facts or {}),
        "files": {name: {"sha256": h} for name, h in hashes.items()},
    }
    return json.dumps(doc, indent=2, default=str) + "\n"


def check_outputs(out: Path) -> None:
    """Before simulating: the files a backtest writes must be absent or its own.

    Ours: ``backtest.json`` with supportsim's mark; ``backtest.csv`` and
    ``resolution_ecdf.png`` whose SHA-256 that sidecar lists; also a ``backtest.csv`` of the
    older format (its first line ``# supportsim backtest: ...``) and a PNG carrying the mark in
    its metadata, so an output directory of an earlier version can be written again."""
    if out.exists() and not out.is_dir():
        raise LogError(f"{out}: --out must be a directory, and this is a file")
    sidecar = out / SIDECAR_NAME
    listed = _listed_hashes(sidecar)
    if sidecar.exists() and listed is None:
        raise LogError(f"{sidecar}: exists and was not written by a supportsim backtest; choose "
                       "another --out directory (nothing was overwritten)")
    for p in (out / CSV_NAME, out / ECDF_NAME):
        if p.exists() and not _ours(p, listed or {}):
            raise LogError(f"{p}: exists and was not written by a supportsim backtest (or was "
                           f"changed since: its checksum is not in {SIDECAR_NAME}); choose another "
                           "--out directory (nothing was overwritten)")


def _listed_hashes(sidecar: Path) -> Optional[dict[str, set[str]]]:
    """name -> checksums the sidecar lists, or None when it is absent or not ours."""
    from ..outputs.jsonfile import read_json

    if not sidecar.is_file():
        return None
    try:
        doc = read_json(sidecar)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("kind") != _MARK or not isinstance(doc.get("files"), dict):
        return None
    out: dict[str, set[str]] = {}
    for name, entry in doc["files"].items():
        h = entry.get("sha256") if isinstance(entry, dict) else None
        out[str(name)] = {str(x) for x in (h if isinstance(h, list) else [h]) if isinstance(x, str)}
    return out


def _sha256(path: Path) -> str:
    from ..outputs.directory import sha256_of

    return sha256_of(path)


def _ours(path: Path, listed: dict[str, set[str]]) -> bool:
    if not path.is_file():
        return False
    try:
        if _sha256(path) in listed.get(path.name, set()):
            return True
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if path.name == CSV_NAME:                  # the older format: its first line is the mark
        return head.startswith(f"# {_MARK}".encode())
    return _MARK.encode() in head              # the figure: the mark in its PNG metadata


def _ecdf_png_bytes(bt: Backtest) -> bytes:
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    for data, label, style in ((bt.observed_resolution, "observed (log)", "-"),
                               (bt.simulated_resolution,
                                f"simulated ({bt.policy}, {bt.replications} replications)", "--")):
        x = np.sort(np.asarray(data, float) / 60.0)
        x = x[np.isfinite(x) & (x > 0)]
        if len(x):
            ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", linestyle=style, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("resolution time (hours, log scale)")
    ax.set_ylabel("share of resolved tickets")
    ax.set_title("Resolution time: observed vs simulated (ECDF)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", metadata={"Software": _MARK})
    finally:
        plt.close(fig)
    return buf.getvalue()
