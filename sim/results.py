"""Simulation results: tidy pandas tables, provenance, and atomic saving."""
from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from ._version import __version__, source_revision
from .analysis import replication_metrics, summarize
from .analysis.metrics import target_flags
from .engine import EXTRA_COLUMNS, TICKET_COLUMNS, RunResult
from .scenario import Scenario
from .schema import OUTCOMES as _OUTCOMES
from .schema.vocabulary import OPEN as _OPEN

if TYPE_CHECKING:
    from .outputs import OutputDir

OUTCOMES = list(_OUTCOMES)   # index = engine Outcome value (defined once, in sim.schema)
_OPEN_CODE = OUTCOMES.index(_OPEN)
#: what the cached metrics are computed from (see SimulationResult._cache)
_CACHE_INPUTS = frozenset({"tickets", "teams", "backlog", "scenario", "policies"})


@dataclass
class SimulationResult:
    """Everything one ``simulate`` call produced, plus how to reproduce it."""

    scenario: Scenario
    seed: int
    replications: int
    policies: list[str]
    tickets: pd.DataFrame
    teams: pd.DataFrame
    backlog: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    version: str = __version__
    traces: list[Any] | None = None   # per run, with simulate(trace=True): see sim.eventlog
    #: when each agent learned what (scenario ``learning``): see learned_frame
    learned: pd.DataFrame | None = None
    #: times each agent was pulled off their own work to help a swarm, per day: interruptions_frame
    interruptions: pd.DataFrame | None = None

    #: computed metrics and analyses, kept until a table they are computed from is replaced
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        # replacing a table (or the scenario) makes every metric computed from it stale
        if name in _CACHE_INPUTS and "_cache" in self.__dict__:
            self.__dict__["_cache"].clear()
        object.__setattr__(self, name, value)

    def _cached(self, key: Any, compute: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def per_replication(self) -> pd.DataFrame:
        """One row per (policy, replication), one column per metric; computed once.

        Do not modify the returned frame in place (it is shared); replace ``tickets``,
        ``teams`` or ``scenario`` to have it recomputed.
        """
        return self._cached("per_replication", lambda: replication_metrics(
            self.tickets, self.teams, scenario=self.scenario))

    @property
    def summary(self) -> pd.DataFrame:
        """Per policy and metric: mean and 95 % interval over replications; computed once."""
        return self._cached("summary", lambda: summarize(self.per_replication))

    def analysis(self, baseline: str | None = None, level: float = 0.95) -> Any:
        """:func:`sim.analysis.analyze` of this result, computed once per (baseline, level)."""
        from .analysis import analyze

        return self._cached(("analysis", baseline, level), lambda: analyze(self, baseline, level))

    def meta(self) -> dict[str, Any]:
        return {
            "software": "supportsim", "version": self.version, "revision": source_revision(),
            "scenario": self.scenario.name,
            "seed": self.seed, "replications": self.replications, "policies": self.policies,
            "horizon_days": self.scenario.horizon.days, "warmup_days": self.scenario.horizon.warmup_days,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "warnings": self.warnings,
            "plugins": _plugin_provenance(self.policies),
        }

    def save(self, directory: str | os.PathLike) -> Path:
        """Write tickets.parquet, summary.csv and companions; each file appears whole or not at all.

        Only into a new, empty or supportsim directory (see :mod:`sim.outputs`; a foreign
        one raises :class:`sim.outputs.UnsafeOutput`); files an earlier run left and this
        one does not rewrite are removed, nothing else is touched.  ``meta.json`` (with
        the manifest of every file written) comes last: its presence marks a complete result.
        """
        from .outputs import OutputDir

        with OutputDir(directory, "save", command="supportsim save") as out:
            self.write_tables(out)
            out.commit(self.meta())
        return out.path

    def write_tables(self, out: "OutputDir") -> None:
        """The result's tables into an open :class:`~sim.outputs.OutputDir`, without ``meta.json``.

        ``run --out`` calls this, then adds event logs and the report, then commits
        ``meta.json`` last, so it vouches only for files that are complete.
        """
        from .outputs import csv_safe_frame

        meta_text = json.dumps(self.meta(), indent=2)
        out.check_free(RESULT_FILES)
        out.write("scenario.yaml", lambda p: p.write_text(
            yaml.safe_dump(self.scenario.to_dict(), sort_keys=False), encoding="utf-8"))
        out.write("tickets.parquet", lambda p: _write_parquet(self.tickets, p, meta_text))
        out.write("backlog.parquet", lambda p: _write_parquet(self.backlog, p, meta_text))
        out.write("teams.csv", lambda p: csv_safe_frame(self.teams).to_csv(p, index=False))
        for name in ("learned", "interruptions"):      # operating-reality tables, when present
            table = getattr(self, name)
            if table is not None and len(table):
                out.write(f"{name}.csv",
                          lambda p, table=table: csv_safe_frame(table).to_csv(p, index=False))
        per_rep = self.per_replication
        out.write("per_replication.csv", lambda p: csv_safe_frame(per_rep).to_csv(p, index=False))
        summary = self.summary
        out.write("summary.csv", lambda p: _write_summary_csv(summary, p, self.meta()))


#: files :meth:`SimulationResult.write_tables` may write (checked before writing any)
RESULT_FILES = ("scenario.yaml", "tickets.parquet", "backlog.parquet", "teams.csv", "learned.csv",
                "interruptions.csv", "per_replication.csv", "summary.csv", "meta.json")


def _write_summary_csv(summary: pd.DataFrame, path: Path, meta: dict[str, Any]) -> None:
    """Provenance travels in every row so a copied CSV still says where it came from."""
    out = summary.copy()
    out["scenario"] = meta["scenario"]
    out["seed"] = meta["seed"]
    out["version"] = meta["version"]
    from .outputs import csv_safe_frame

    csv_safe_frame(out).to_csv(path, index=False)


def _write_parquet(df: pd.DataFrame, path: Path, meta_text: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    md = dict(table.schema.metadata or {})
    md[b"supportsim"] = meta_text.encode()
    pq.write_table(table.replace_schema_metadata(md), path)


def load_result(directory: str | os.PathLike) -> SimulationResult:
    """Read a directory written by :meth:`SimulationResult.save`.

    A missing or malformed ``meta.json`` (not a mapping, a report's manifest, wrong
    types) raises ``FileNotFoundError``/``ValueError`` with one line, never a ``TypeError``.
    """
    from .outputs import csv_unescape_frame
    from .scenario import load_scenario

    d = Path(directory)
    meta_path = d / "meta.json"
    if not meta_path.exists():
        raise FileNotFoundError(f"{d}: no meta.json - not a complete supportsim result directory")
    meta = _read_meta(meta_path)
    for name in ("tickets.parquet", "teams.csv", "backlog.parquet", "scenario.yaml"):
        if not (d / name).is_file():
            raise FileNotFoundError(f"{d}: {name} is missing - not a complete supportsim result "
                                    "directory")

    def csv(name: str) -> pd.DataFrame:
        return csv_unescape_frame(pd.read_csv(d / name))

    return SimulationResult(
        scenario=load_scenario(d / "scenario.yaml"), seed=meta["seed"],
        replications=meta["replications"], policies=meta["policies"],
        tickets=pd.read_parquet(d / "tickets.parquet"), teams=csv("teams.csv"),
        backlog=pd.read_parquet(d / "backlog.parquet"), warnings=meta.get("warnings", []),
        version=str(meta.get("version", "?")),
        learned=csv("learned.csv") if (d / "learned.csv").exists() else None,
        interruptions=csv("interruptions.csv") if (d / "interruptions.csv").exists() else None,
    )


_META_TYPES = {"seed": int, "replications": int, "policies": list}


def _read_meta(path: Path) -> dict[str, Any]:
    """``meta.json`` as a checked mapping: a hand-edited or foreign file is one clear line."""
    from .outputs.jsonfile import read_json

    if not path.is_file():          # a FIFO or a link to a device would be read forever
        raise ValueError(f"{path}: not a regular file (is this a supportsim result?)")
    meta = read_json(path, max_bytes=10_000_000)   # bounded: size, UTF-8, nesting depth
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: must be a JSON object written by supportsim, got "
                         f"{type(meta).__name__}")
    if meta.get("kind") == "report":
        raise ValueError(f"{path.parent}: holds a decision report, not saved results "
                         "(results come from: run SCENARIO --out DIR)")
    for key, kind in _META_TYPES.items():
        value = meta.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{path}: '{key}' must be {'a list' if kind is list else 'a whole number'}"
                             f" (is this a supportsim result?)")
    from .scenario import MAX_REPLICATIONS, MAX_SEED

    if not 1 <= meta["replications"] <= MAX_REPLICATIONS:
        raise ValueError(f"{path}: replications must be 1 to {MAX_REPLICATIONS:,}, "
                         f"got {meta['replications']}")
    if not 0 <= meta["seed"] <= MAX_SEED:
        raise ValueError(f"{path}: seed must be 0 to {MAX_SEED}, got {str(meta['seed'])[:30]}")
    if not meta["policies"] or not all(isinstance(p, str) for p in meta["policies"]):
        raise ValueError(f"{path}: 'policies' must be a non-empty list of policy names")
    warnings = meta.get("warnings", [])
    if not isinstance(warnings, list):
        meta["warnings"] = [str(warnings)]
    else:
        meta["warnings"] = [str(w) for w in warnings]
    return meta


# ------------------------------------------------------------------------ assembly
@functools.lru_cache(maxsize=256)
def _cat_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """One categorical dtype per list of labels (building one costs ~0.1 ms: issue 16)."""
    return pd.CategoricalDtype(list(categories))


def tickets_frame(runs: list[RunResult], scenario: Scenario, policies: list[str]) -> pd.DataFrame:
    """The engine's columns as one tidy DataFrame, built without copying them.

    Why so careful (issue 16: a 1M-ticket run peaked at 599 MiB, 353 MiB of it copies made
    here): the engine hands over its columns in ticket-id order with the table's dtypes, so a
    single run's columns are wrapped as they are (``np.frombuffer`` views, ``copy=False``),
    several runs are joined with one ``concatenate`` per column, and the rows are only sorted
    when the runs do not already come in (policy, replication, ticket) order.
    """
    extra_names = _extra_names(runs)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in (*TICKET_COLUMNS, *extra_names)}
    pol, rep, keys = [], [], []
    ordered = True
    for run in runs:
        n = len(run.columns["ticket_id"])
        for name, arr in _raw_columns(run, extra_names).items():
            parts[name].append(arr)
        code = policies.index(run.policy)
        pol.append(np.full(n, code, dtype=np.int16))
        rep.append(np.full(n, run.replication, dtype=np.int32))
        key = (code, run.replication)
        view = parts["ticket_id"][-1]
        ordered = ordered and (not keys or keys[-1] < key) and (n < 2 or bool((view[1:] > view[:-1]).all()))
        keys.append(key)
    cols = {k: (v[0] if len(v) == 1 else np.concatenate(v)) if v else np.empty(0) for k, v in parts.items()}
    del parts
    pol_codes = (pol[0] if len(pol) == 1 else np.concatenate(pol)) if pol else np.empty(0, np.int16)
    rep_codes = (rep[0] if len(rep) == 1 else np.concatenate(rep)) if rep else np.empty(0, np.int32)
    if not ordered:     # present tickets in (policy, replication, arrival) order
        order = np.lexsort((cols["ticket_id"], rep_codes, pol_codes))
        cols = {k: v[order] for k, v in cols.items()}
        pol_codes, rep_codes = pol_codes[order], rep_codes[order]

    def cat(codes, categories):   # codes are right by construction: skip re-validating them
        return pd.Categorical.from_codes(codes, dtype=_cat_dtype(tuple(categories)), validate=False)

    data: dict[str, Any] = {"policy": cat(pol_codes, categories=policies), "replication": rep_codes}
    data.update(_table_columns(cols, extra_names, scenario))
    del cols
    data["segment"] = cat(data["segment"], categories=[s.name for s in scenario.segments])
    data["issue"] = cat(data["issue"], categories=[i.name for i in scenario.issues])
    data["outcome"] = cat(data["outcome"], categories=OUTCOMES)
    # every column in one constructor call: per-column insertion costs ~0.3 ms each, which is
    # most of a small run's fixed cost (issue 16)
    return pd.DataFrame(data, copy=False)


def ticket_columns(run: RunResult, scenario: Scenario) -> dict[str, np.ndarray]:
    """One run's rows of :func:`tickets_frame` as plain arrays, without pandas.

    Every column but ``policy`` and ``replication``, in the table's order, with the
    table's values and dtypes; the categorical columns (``segment``, ``issue``,
    ``outcome``) as their codes (the scenario's segment and issue order,
    :data:`OUTCOMES`).  Why: a sweep of short runs needs only each run's metric row,
    and building the DataFrame (then grouping it) was most of a one-day run's cost
    (issue 16); the values are computed by the same code as the table's, so a metric
    computed from these arrays is the same float as one computed from the table.
    """
    extra_names = _extra_names([run])
    cols = _raw_columns(run, extra_names)
    ids = cols["ticket_id"]
    if len(ids) > 1 and not bool((ids[1:] > ids[:-1]).all()):
        order = np.argsort(ids, kind="stable")       # ids are unique: the table's order
        cols = {k: v[order] for k, v in cols.items()}
    return _table_columns(cols, extra_names, scenario)


def _extra_names(runs: list[RunResult]) -> list[str]:
    extra_names = [name for name in EXTRA_COLUMNS if name != "repeat_min"]
    if runs and all("repeat_min" in run.extra for run in runs):
        extra_names.append("repeat_min")
    return extra_names


def _raw_columns(run: RunResult, extra_names: list[str]) -> dict[str, np.ndarray]:
    """The engine's columns of one run as numpy views (no copies), extras aligned with them."""
    n = len(run.columns["ticket_id"])
    cols = {name: np.frombuffer(run.columns[name], dtype=code) if n else np.empty(0, dtype=code)
            for name, code in TICKET_COLUMNS.items()}
    for name in extra_names:
        cols[name] = _extra_column(run, name, n)
    return cols


def _table_columns(cols: dict[str, np.ndarray], extra_names: list[str],
                   scenario: Scenario) -> dict[str, np.ndarray]:
    """The ticket table's columns after ``policy``/``replication``, from the raw ones
    (categorical columns as codes): what :func:`tickets_frame` and :func:`ticket_columns` share."""
    arrival = cols["arrival_min"]
    end = cols["end_min"]
    outcome = cols["outcome"].astype(np.int8, copy=False)
    resolution = np.where(outcome == 1, end - arrival, np.nan)
    i32 = lambda name: cols[name].astype(np.int32, copy=False)   # noqa: E731
    data = {
        "ticket_id": cols["ticket_id"].astype(np.int64, copy=False),
        "segment": cols["segment"].astype(np.int16, copy=False),
        "issue": cols["issue"].astype(np.int16, copy=False),
        "tier": cols["tier"].astype(np.int16, copy=False),
        "arrival_min": arrival,
        "end_min": end,
        "outcome": outcome,
        "wait_min": cols["wait_min"],
        "resolution_min": resolution,
        "handoffs": i32("handoffs"),
        "repeats": i32("repeats"),
        "agents_touched": i32("agents_touched"),
        "agent_min": cols["agent_min"],
        "cost": cols["cost"],
        "first_response_min": cols["first_response_min"],
        "expert_min": cols["expert_min"],
        "helpers": i32("helpers"),
    }
    for name in extra_names:
        data[name] = cols[name].astype(np.int32 if EXTRA_COLUMNS[name] == "i" else np.float64, copy=False)
    data.update(_customer_columns(data, cols["segment"], scenario))
    return data


def _extra_column(run: RunResult, name: str, n: int) -> np.ndarray:
    """An optional per-ticket value (kept sparsely by the engine) aligned with the run's rows."""
    values = run.extra.get(name) or {}
    dtype = np.int64 if EXTRA_COLUMNS[name] == "i" else np.float64
    out = np.zeros(n, dtype=dtype)
    if values and n:
        ids = np.frombuffer(run.columns["ticket_id"], dtype="q")
        keys = np.fromiter(values.keys(), dtype=np.int64, count=len(values))
        vals = np.fromiter(values.values(), dtype=np.float64, count=len(values))
        order = np.argsort(keys)
        keys, vals = keys[order], vals[order]
        pos = np.clip(np.searchsorted(keys, ids), 0, len(keys) - 1)
        hit = keys[pos] == ids
        out[hit] = vals[pos[hit]]
    return out


def _customer_columns(data: dict, seg: np.ndarray, scenario: Scenario) -> dict[str, np.ndarray]:
    """SLA breaches, their penalty, and the customer's own time and its cost (docs/model.md).

    A target is breached when it counts for the ticket and was not met: missed, or the
    ticket ended (abandoned) or was still waiting at the horizon after the target had
    passed.  A ticket still open at the horizon whose target has not passed yet is not
    (yet) breached.  The rule is :func:`sim.analysis.ticket_targets`, the one the service
    level uses, so breaches and service level can never disagree (computed once).
    Without any target no ticket can breach one, so the rule is not evaluated.
    ``data`` holds the table's other columns, ``seg`` the segment codes.
    """
    segs = list(scenario.segments)
    n = len(seg)
    if any(s.first_response_target is not None or s.resolution_target is not None for s in segs):
        # data["segment"] / data["outcome"] are codes: the scenario's segment order, OUTCOMES
        flags = target_flags(data["segment"], [s.name for s in segs],
                             data["outcome"] == _OPEN_CODE, data["arrival_min"],
                             data["first_response_min"], data["resolution_min"], scenario)
        first_breached = flags["sl_eligible"] & ~flags["sl_met"]
        res_breached = flags["rt_eligible"] & ~flags["rt_met"]
    else:
        first_breached = np.zeros(n, bool)
        res_breached = np.zeros(n, bool)
    new: dict[str, np.ndarray] = {"first_response_breached": first_breached,
                                  "resolution_breached": res_breached}
    penalty = np.array([s.sla_penalty for s in segs], dtype=float)[seg]
    new["sla_penalty"] = penalty * (first_breached.astype(int) + res_breached.astype(int))
    per_min = np.array([s.customer_cost_per_hour / 60.0 for s in segs], dtype=float)[seg]
    customer_min = np.asarray(data["wait_min"], dtype=float)
    if "repeat_min" in data:
        customer_min = customer_min + np.asarray(data["repeat_min"], dtype=float)
        new["customer_min"] = customer_min
    new["customer_cost"] = per_min * customer_min
    return new


def teams_frame(runs: list[RunResult], scenario: Scenario, policies: list[str]) -> pd.DataFrame:
    """Per (policy, replication, team): busy minutes and utilisation (built column-wise).

    Numeric columns go in as numpy arrays and the policy as category codes: converting
    Python lists cost ~0.5 ms of a small run's fixed cost (issue 16)."""
    cols: dict[str, list] = {name: [] for name in ["policy", "replication", *_team_names(scenario)]}
    for run in runs:
        own = team_columns(run, scenario)
        code = policies.index(run.policy)
        cols["policy"].extend([code] * len(own["team"]))
        cols["replication"].extend([run.replication] * len(own["team"]))
        for name, values in own.items():
            cols[name].extend(values)
    if not cols["policy"]:
        return pd.DataFrame()
    data: dict[str, Any] = dict(cols)
    data["policy"] = pd.Categorical.from_codes(np.asarray(cols["policy"], dtype=np.int16),
                                               dtype=_cat_dtype(tuple(policies)), validate=False)
    data["replication"] = np.asarray(cols["replication"], dtype=np.int64)
    data["agents"] = np.asarray(cols["agents"], dtype=np.int64)
    for name in ("busy_min", "window_min", "utilisation"):
        data[name] = np.asarray(cols[name], dtype=float)
    return pd.DataFrame(data, copy=False)


def _team_names(scenario: Scenario) -> list[str]:
    names = ["team", "agents", "busy_min", "window_min", "utilisation"]
    if any(t.shift is not None for t in scenario.teams):
        names += ["on_shift_min", "overtime_min"]
    return names


def team_columns(run: RunResult, scenario: Scenario) -> dict[str, list]:
    """One run's rows of :func:`teams_frame` (after ``policy``/``replication``), as lists.

    The same values the table holds (the metric rows of a sweep are computed from them
    without building the table: issue 16)."""
    shifts = any(t.shift is not None for t in scenario.teams)
    cols: dict[str, list] = {name: [] for name in _team_names(scenario)}
    for i, (spec, busy) in enumerate(zip(scenario.teams, run.team_busy_min)):
        capacity = spec.agents * run.window_min
        if shifts and run.team_capacity_min is not None:   # on-shift time only
            capacity = run.team_capacity_min[i]
        cols["team"].append(spec.name)
        cols["agents"].append(spec.agents)
        cols["busy_min"].append(busy)
        cols["window_min"].append(run.window_min)
        cols["utilisation"].append(busy / capacity if capacity > 0 else np.nan)
        if shifts:
            cols["on_shift_min"].append(capacity)
            cols["overtime_min"].append((run.team_overtime_min or [0.0] * len(scenario.teams))[i])
    return cols


def backlog_frame(runs: list[RunResult], policies: list[str]) -> pd.DataFrame:
    """Backlog samples of every run, built column-wise (one DataFrame, no per-run concat)."""
    if not runs:
        return pd.DataFrame(columns=["policy", "replication", "time_min", "waiting", "in_system"])
    parts: dict[str, list[np.ndarray]] = {"time_min": [], "waiting": [], "in_system": []}
    pol, rep = [], []
    for run in runs:
        b = run.backlog
        n = len(b["time_min"])
        parts["time_min"].append(np.frombuffer(b["time_min"], dtype="d") if n else np.empty(0))
        for name in ("waiting", "in_system"):
            parts[name].append(np.frombuffer(b[name], dtype=b[name].typecode) if n
                               else np.empty(0, np.int32))
        pol.append(np.full(n, policies.index(run.policy), dtype=np.int16))
        rep.append(np.full(n, run.replication, dtype=np.int32))
    join = lambda v: v[0] if len(v) == 1 else np.concatenate(v)   # noqa: E731
    return pd.DataFrame({
        "policy": pd.Categorical.from_codes(join(pol), dtype=_cat_dtype(tuple(policies)),
                                            validate=False),
        "replication": join(rep),
        "time_min": join(parts["time_min"]),
        "waiting": join(parts["waiting"]),
        "in_system": join(parts["in_system"]),
    }, copy=False)


def learned_frame(runs: list[RunResult], policies: list[str]) -> pd.DataFrame:
    """One row per skill an agent learned: when, who, what, up to which tier, and how."""
    rows = [{"policy": run.policy, "replication": run.replication, "time_min": time,
             "agent": agent, "team": team, "skill": skill, "up_to_tier": tier, "how": how}
            for run in runs for time, agent, team, skill, tier, how in run.learned]
    df = pd.DataFrame(rows, columns=["policy", "replication", "time_min", "agent", "team", "skill",
                                     "up_to_tier", "how"])
    df["policy"] = pd.Categorical(df["policy"], categories=policies)
    return df


def interruptions_frame(runs: list[RunResult], policies: list[str]) -> pd.DataFrame:
    """Per policy, replication, agent and day (0 = first simulated day): times pulled off own work."""
    rows = [{"policy": run.policy, "replication": run.replication,
             "team": run.agent_teams[agent] if run.agent_teams else "", "agent": agent, "day": day,
             "interruptions": n}
            for run in runs for (agent, day), n in sorted(run.interruptions.items())]
    df = pd.DataFrame(rows, columns=["policy", "replication", "team", "agent", "day", "interruptions"])
    df["policy"] = pd.Categorical(df["policy"], categories=policies)
    return df


def _plugin_provenance(policies: list[str]) -> list[dict[str, str]]:
    """Where each plug-in policy of the run came from (``module:Class``, ``--plugin`` argument,
    file), so ``report DIR`` can load it again and print a reproduce command that works."""
    from .policies import registry

    return registry.provenance(policies)
