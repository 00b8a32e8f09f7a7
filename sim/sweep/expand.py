"""Expanding a sweep file into validated points, each with its own deterministic seed.

Points are the cross product of the axes in file order: every ``vary`` path is
one axis, every ``zip`` group is one axis whose paths move together; the last
axis changes fastest.  Point ``i`` gets the scenario seed

    int(SeedSequence(sweep_seed, spawn_key=(i,)).generate_state(1, uint64)[0] >> 1)

and the engine keys replication ``r`` of a scenario by ``(scenario.seed, r)``
(``SeedSequence(seed, spawn_key=(r, stream))``), so task (point i, policy p,
replication r) is fully determined by (sweep seed, i, r) and the point's
data: the same whatever the worker count or backend, and the same as running
the point's scenario file (written to ``DIR/points/``) alone with ``run``.
Within a point every policy sees the same customers (common random numbers).

Across points (docs/sweeps.md, "Seeds"): by default, points share customers
whenever the varied parameters leave the customer stream unchanged.  Only the
axes that change who arrives, when, with which problem and how patient
(:func:`changes_customers`: ``arrivals``, ``start``, the issue mix and work,
the segment mix and patience) index the seed: point i takes
``point_seed(sweep_seed, j)`` where j numbers the combination of its values on
those axes alone.  A swarm-overhead or staffing sweep thus gives every point
point 0's customers - tiered's numbers, which do not depend on the overhead,
are then identical at every point instead of wobbling with luck - while a
sweep of arrival rates keeps independent customers per point (j = i when every
axis changes the customers, so such sweeps keep their seeds).
``common_random_numbers: true`` forces point 0's seed everywhere, ``false``
a seed of its own for every point (j = i).
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..policies import registry
from ..scenario import MAX_PROBLEMS, Scenario, ScenarioError, load_scenario, scenario_from_dict
from .paths import PathError, canonical, check_path, parse_path, set_path
from .spec import SweepSpec, load_sweep_spec

__all__ = ["Axis", "Point", "SweepPlan", "point_seed", "plan_sweep", "load_sweep", "param_column",
           "BUILTIN_COLUMNS", "changes_customers", "seed_index"]

# Columns every per-run row / summary row already has.  A varied path spelled like
# one of them (``vary: {arrivals: [...]}`` varies the whole arrivals block, while
# ``arrivals`` is also the per-run ticket count) gets the column ``vary:<path>``;
# ':' never occurs in a path, so such a name can collide with nothing.
BUILTIN_COLUMNS = frozenset({"point", "policy", "replication", "replications", "seed", "arrivals"})
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
#: points in one sweep at most (docs/sweeps.md): every point is validated and kept as a scenario
#: (~2.5 ms and ~30 KB each) before anything runs, so a grid of a million points would mean an
#: hour of silence and gigabytes before the work estimate could even refuse it
MAX_POINTS = 10_000


def param_column(path: str) -> str:
    """The results column of a varied path: the path itself unless a built-in column has that name."""
    from ..schema import METRICS, UTILISATION_PREFIX

    if path in BUILTIN_COLUMNS or path in METRICS or path.startswith(UTILISATION_PREFIX):
        return f"vary:{path}"
    return path


# What a customer *is*: when they arrive (arrivals, start: the calendar phase of a profile),
# their segment (mix) and patience, their issue (mix) and the work it needs.  Everything
# else - teams, frictions, policies, targets, costs, horizon - acts on the same customers.
_CUSTOMER_KEYS = {"segments": {"share", "patience"}, "issues": {"share", "work"}}


def changes_customers(path: str) -> bool:
    """Whether varying ``path`` changes the customer stream (so points cannot share customers)."""
    steps = parse_path(path)
    top = steps[0].key
    if top in ("arrivals", "start"):
        return True
    if top in _CUSTOMER_KEYS:
        keys = [s.key for s in steps[1:] if s.key is not None]
        return not keys or keys[0] in _CUSTOMER_KEYS[top]      # the whole list / item, or a mix key
    return False


def seed_index(axes: list["Axis"], coords: tuple[int, ...], index: int, crn: Optional[bool]) -> int:
    """Which ``point_seed`` a point takes: 0 (shared), its own index, or its customer combination."""
    if crn is True:
        return 0
    if crn is False:
        return index
    j = 0
    for axis, k in zip(axes, coords):       # mixed radix over the customer axes, last fastest
        if any(changes_customers(p) for p in axis.paths):
            j = j * len(axis.rows) + k
    return j


def point_seed(sweep_seed: int, index: int) -> int:
    """The scenario seed of point ``index`` (63 bits, so it fits a signed 64-bit column)."""
    state = np.random.SeedSequence(int(sweep_seed), spawn_key=(int(index),)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


@dataclass(frozen=True)
class Axis:
    """One dimension of the grid: a single ``vary`` path, or a ``zip`` group of paths."""

    paths: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]      # one tuple of values (one per path) per step
    columns: tuple[tuple[Any, ...], ...]   # per path: its values as results-column scalars

    @property
    def label(self) -> str:
        return " + ".join(self.paths)

    def tick(self, k: int) -> str:
        return " / ".join(_short(v) for v in self.rows[k])


@dataclass
class Point:
    index: int
    seed: int
    coords: tuple[int, ...]                 # position along each axis
    params: dict[str, Any]                  # column name (param_column(path)) -> canonical value
    scenario: Scenario
    fingerprints: dict[str, str] = field(default_factory=dict)   # policy -> input identity


@dataclass
class SweepPlan:
    """Everything needed to run and summarise a sweep; nothing here has run yet."""

    source: Path
    spec: SweepSpec
    name: str
    base_path: Path
    seed: int
    replications: int
    policies: list[str]
    axes: list[Axis]
    points: list[Point] = field(default_factory=list)

    @property
    def param_columns(self) -> list[str]:
        return [param_column(p) for a in self.axes for p in a.paths]

    @property
    def total_tasks(self) -> int:
        return len(self.points) * len(self.policies) * self.replications


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(canonical(v))


def _column_values(values: list[Any]) -> list[Any]:
    """One consistent type per column (Parquet files of different points must share a schema)."""
    canon = [canonical(v) for v in values]
    if all(isinstance(v, bool) for v in canon):
        return canon
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in canon):
        return [float(v) for v in canon] if any(isinstance(v, float) for v in canon) else canon
    return [v if isinstance(v, str) else json.dumps(v) for v in canon]


def load_sweep(path: str | Path) -> SweepPlan:
    """Read, expand and validate a sweep file; raise ScenarioError with one line per problem."""
    path = Path(path)
    return plan_sweep(load_sweep_spec(path), path)


def plan_sweep(spec: SweepSpec, source: Path) -> SweepPlan:
    src = str(source)
    base_path = (source.parent / spec.base)
    if not base_path.is_file():
        raise ScenarioError([f"{src}: base: scenario file {base_path} not found (the path is relative "
                             "to the sweep file)"])
    base = load_scenario(base_path)
    problems: list[str] = []

    policies = list(spec.policies) if spec.policies is not None else base.policy_names()
    for p in policies:
        if registry.get(p) is None:
            problems.append(f"{src}: policies: unknown policy '{p}'; available: {', '.join(registry.names())}")
    if len(set(policies)) != len(policies):
        problems.append(f"{src}: policies: listed more than once: {', '.join(sorted({p for p in policies if policies.count(p) > 1}))}")

    data = base.to_dict()
    data["policies"] = {p: copy.deepcopy(base.policies.get(p) or {}) for p in policies}
    replications = spec.replications if spec.replications is not None else base.replications
    seed = spec.seed if spec.seed is not None else base.seed
    name = spec.name or source.stem
    if spec.name is not None and (not _NAME.fullmatch(spec.name) or spec.name in (".", "..")):
        raise ScenarioError([f"{src}: name: {spec.name!r} is used as a directory name (results/sweeps/<name>); "
                             "allowed: letters, digits, '-', '_' and '.', not starting with '.', "
                             "no path separators"])

    # fixed overrides first: later paths are checked against the overridden data
    for text, value in spec.set.items():
        try:
            steps = parse_path(text)
            check_path(data, steps)
            set_path(data, steps, value)
        except PathError as exc:
            problems.append(f"{src}: set: {exc}")

    axes: list[Axis] = []
    seen: dict[str, str] = {}
    groups: list[tuple[str, dict[str, list[Any]]]] = [("vary", {k: v}) for k, v in spec.vary.items()]
    groups += [(f"zip[{i}]", g) for i, g in enumerate(spec.zip)]
    parsed: dict[str, tuple] = {}
    for where, group in groups:
        if not group:
            problems.append(f"{src}: {where}: an empty group; list at least one path")
            continue
        lengths = {len(v) for v in group.values()}
        bad = False
        for text, values in group.items():
            if text in seen:
                problems.append(f"{src}: {where}: {text}: already varied in {seen[text]}; a path may be varied once")
                bad = True
            seen[text] = where
            if not values:
                problems.append(f"{src}: {where}: {text}: needs at least one value")
                bad = True
            try:
                steps = parse_path(text)
                check_path(data, steps)
                parsed[text] = steps
            except PathError as exc:
                problems.append(f"{src}: {where}: {exc}")
                bad = True
        if len(lengths) > 1:
            sizes = ", ".join(f"{k}: {len(v)}" for k, v in group.items())
            problems.append(f"{src}: {where}: zipped paths need the same number of values (got {sizes})")
            bad = True
        if bad:
            continue
        paths = tuple(group)
        cols = [_column_values(group[p]) for p in paths]
        raw = list(zip(*(group[p] for p in paths)))
        axes.append(Axis(paths=paths, rows=tuple(tuple(r) for r in raw),
                         columns=tuple(tuple(c) for c in cols)))
    problems.extend(_check_report(spec, src, axes))
    if problems:
        raise ScenarioError(problems)
    n_points = 1
    for a in axes:
        n_points *= len(a.rows)
    if n_points > MAX_POINTS:
        sizes = " x ".join(str(len(a.rows)) for a in axes)
        raise ScenarioError([f"{src}: the grid has {n_points:,} points ({sizes}); a sweep may have at "
                             f"most {MAX_POINTS:,}: vary fewer values, or split it into several sweeps"])

    plan = SweepPlan(source=source, spec=spec, name=name, base_path=base_path, seed=seed,
                     replications=replications, policies=policies, axes=axes)
    bad_points: list[str] = []
    for index, coords in enumerate(itertools.product(*(range(len(a.rows)) for a in axes))):
        point_data = copy.deepcopy(data)
        params: dict[str, Any] = {}
        shown: list[str] = []
        for axis, k in zip(axes, coords):
            for path, value, col in zip(axis.paths, axis.rows[k], axis.columns):
                set_path(point_data, parsed[path], value)
                params[param_column(path)] = col[k]
                shown.append(f"{path}={_short(col[k])}")
        pseed = point_seed(seed, seed_index(axes, tuple(coords), index, spec.common_random_numbers))
        desc = ", ".join(shown) or "no varied parameters"
        point_data.update(name=f"{name}-p{index}", seed=pseed, replications=replications,
                          description=f"sweep {name}, point {index}: {desc}")
        try:
            scn = scenario_from_dict(point_data, source=f"point {index}")
        except ScenarioError as exc:
            details = "; ".join(line.split(": ", 1)[1] if ": " in line else line for line in exc.problems)
            bad_points.append(f"{src}: point {index} ({desc}): {details}")
            if len(bad_points) >= MAX_PROBLEMS:        # enough to act on; the rest would repeat them
                bad_points.append(f"{src}: ... stopped checking after {MAX_PROBLEMS} bad points "
                                  f"(of {n_points:,})")
                break
            continue
        plan.points.append(Point(index=index, seed=pseed, coords=tuple(coords), params=params,
                                 scenario=scn,
                                 fingerprints={p: fingerprint(scn, p) for p in policies}))
    if bad_points:
        raise ScenarioError(bad_points)
    return plan


def _check_report(spec: SweepSpec, src: str, axes: list[Axis]) -> list[str]:
    problems = []
    varied = {p for a in axes for p in a.paths}
    for key in ("x", "y"):
        value = getattr(spec.report, key)
        if value is not None and value not in varied:
            problems.append(f"{src}: report.{key}: '{value}' is not a varied path; varied: "
                            f"{', '.join(sorted(varied)) or 'none'}")
    for path, value in spec.report.at.items():
        if path not in varied:
            problems.append(f"{src}: report.at: '{path}' is not a varied path")
            continue
        axis = next(a for a in axes if path in a.paths)
        values = [row[axis.paths.index(path)] for row in axis.rows]
        if value not in values:
            problems.append(f"{src}: report.at.{path}: {value!r} is not one of its values "
                            f"({', '.join(_short(v) for v in values)})")
    from ..schema import METRICS

    for key in ("time_metric", "cost_metric"):
        m = getattr(spec.report, key)
        if m not in METRICS:
            problems.append(f"{src}: report.{key}: unknown metric '{m}'; allowed: {', '.join(METRICS)}")
    return problems


def fingerprint(scn: Scenario, policy: str) -> str:
    """Identity of a (point, policy)'s inputs: equal fingerprints mean equal results per replication."""
    data = scn.to_dict()
    for key in ("replications", "name", "description", "policies"):
        data.pop(key, None)
    data["policy"] = [policy, scn.policies.get(policy) or {}]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
