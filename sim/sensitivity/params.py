"""Which scenario values a sensitivity analysis varies, over which range (pure: plain data in, plain data out).

A parameter is written ``PATH=LO:HI`` with a dotted scenario path as in sweeps
(:mod:`sim.sweep.paths`: ``frictions.swarm_owner_contribution``,
``teams[L3].agents``, ``policies.skill_routing.triage_accuracy``), or
``PATH=x0.5:x2`` for a range *relative* to the scenario's own value (the
value multiplied by 0.5 ... 2).  ``[*]`` selects every item of a list that has
the rest of the path (``teams[*].diagnose``: every team's diagnosis time,
scaled together).

A relative range applies to a number or to a whole distribution: a
distribution is scaled by multiplying every parameter measured in minutes
(``value``, ``mean``, ``low``/``mode``/``high``, ``values``; a ``cv`` is kept),
so its mean scales by the factor and its shape stays.  A factor of 0 makes it
``fixed 0``.  An absolute value on a distribution path means a fixed time.

Nothing here runs a simulation: the running half is :mod:`sim.sensitivity.run`.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any, Optional

from ..sweep.paths import PathError, Step, check_path, get_path, parse_path

__all__ = ["Param", "ParamError", "parse_param", "resolve_targets", "apply_value",
           "scale_distribution", "base_value", "check_param", "default_params", "SWARMING_POLICIES"]

#: built-in policies that swarm (the swarm frictions do not apply to a comparison without one)
SWARMING_POLICIES = ("swarming",)

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*([x×]?)\s*({_NUMBER})\s*:\s*([x×]?)\s*({_NUMBER})\s*$")

# minutes-valued fields of each distribution (scaled by a relative range); cv is a shape
_SCALED = {"fixed": ("value",), "exponential": ("mean",), "lognormal": ("mean",), "gamma": ("mean",),
           "uniform": ("low", "high"), "triangular": ("low", "mode", "high"), "empirical": ("values",)}


#: names in words of the parameters a sensitivity analysis usually varies
LABELS = {
    "frictions.swarm_owner_contribution": "swarm owner contribution",
    "frictions.swarm_coordination": "swarm coordination effort per helper",
    "frictions.swarm_overhead": "swarm overhead",
    "frictions.swarm_search": "swarm helper search time",
    "frictions.swarm_helper_fit": "swarm helper fit",
    "frictions.handoff": "handoff write-up time",
    "frictions.repeat": "customer repeat time",
    "teams[*].diagnose": "diagnosis time (every team)",
    "policies.skill_routing.triage_accuracy": "triage accuracy",
    "arrivals.per_hour": "arrival rate",
}


class ParamError(ValueError):
    """A ``--param`` that does not parse, names no scenario value, or gives values the scenario rejects."""


@dataclass(frozen=True)
class Param:
    """One varied parameter: ``path`` over ``[low, high]``; ``relative``: multipliers of the scenario's value."""

    path: str
    low: float
    high: float
    relative: bool = False
    label: str = ""

    @property
    def name(self) -> str:
        return self.path

    @property
    def human(self) -> str:
        return self.label or LABELS.get(self.path) or self.path

    def spec(self) -> str:
        """Back to the ``--param`` syntax."""
        x = "x" if self.relative else ""
        return f"{self.path}={x}{self.low:g}:{x}{self.high:g}"

    def fmt(self, value: float) -> str:
        """A value of this parameter in words: ``×0.5`` for a relative one, ``0.62`` otherwise."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        return f"×{value:.3g}" if self.relative else f"{value:.3g}"


def parse_param(text: str) -> Param:
    """``PATH=LO:HI`` or ``PATH=xLO:xHI`` -> :class:`Param`; :class:`ParamError` (one line) otherwise."""
    # the range never holds '=', a name in the path may (teams[=x].agents): split at the last one
    path, sep, rng = str(text).rpartition("=")
    path = path.strip()
    if not str(text).isprintable():     # a newline would split the error line, NUL hides text
        raise ParamError(f"--param {text!r}: control characters are not allowed in a parameter")
    if not sep or not path:
        raise ParamError(f"--param {text!r}: expected PATH=LO:HI (e.g. frictions.swarm_coordination=0:1) "
                         "or PATH=xLO:xHI for multiples of the scenario's value")
    m = _RANGE.match(rng)
    if not m:
        raise ParamError(f"--param {text!r}: the range must be LO:HI with numbers, or xLO:xHI "
                         f"(multiples of the scenario's value), got {rng!r}")
    xl, lo, xh, hi = m.group(1), float(m.group(2)), m.group(3), float(m.group(4))
    if bool(xl) != bool(xh):
        raise ParamError(f"--param {text!r}: write both ends relative (x0.5:x2) or both absolute (0:1)")
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise ParamError(f"--param {text!r}: LO must be smaller than HI, got {lo:g}:{hi:g}")
    if xl and lo < 0:
        raise ParamError(f"--param {text!r}: a relative range cannot go below x0")
    try:
        parse_path(path.replace("[*]", "[0]"))
    except PathError as exc:
        raise ParamError(f"--param {text!r}: {exc}") from None
    return Param(path, lo, hi, relative=bool(xl))


def _expand(data: Any, path: str) -> list[tuple[Step, ...]]:
    """Concrete paths for ``path``; ``[*]`` becomes every list item that has the rest of the path."""
    if "[*]" not in path:
        return [parse_path(path)]
    head, _, rest = path.partition("[*]")
    items = get_path(data, parse_path(head))
    if not isinstance(items, list):
        raise PathError(f"{head} is not a list; [*] selects list items")
    out = []
    for i, item in enumerate(items):
        sel = f"[{item['name']}]" if isinstance(item, dict) and isinstance(item.get("name"), str) else f"[{i}]"
        concrete = head + sel + rest
        try:
            for steps in _expand(data, concrete):
                get_path(data, steps)
                out.append(steps)
        except PathError:
            continue                        # this item does not have it (e.g. a team without diagnose)
    if not out:
        raise PathError(f"{path}: no item of {head} has {rest.lstrip('.') or 'it'}")
    return out


def resolve_targets(data: dict, param: Param) -> list[tuple[Step, ...]]:
    """The concrete scenario paths ``param`` sets in ``data``; :class:`ParamError` naming the path otherwise."""
    try:
        targets = _expand(data, param.path)
        for steps in targets:
            if steps[0].key == "policies":
                continue                    # a policy parameter: checked by validating a value
            check_path(data, steps)
    except PathError as exc:
        raise ParamError(f"--param {param.spec()}: {exc}") from None
    if param.relative:
        for steps in targets:
            try:
                value = get_path(data, steps)
            except PathError:
                raise ParamError(f"--param {param.spec()}: a relative range needs a value in the scenario, "
                                 "and this one is left at its default; give an absolute range") from None
            if not _scalable(value):
                raise ParamError(f"--param {param.spec()}: a relative range needs a number or a "
                                 f"distribution, found {value!r}")
    return targets


def _scalable(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, dict) and value.get("dist") in _SCALED


def scale_distribution(dist: dict, factor: float) -> dict:
    """``dist`` with every minutes-valued parameter multiplied by ``factor`` (shape kept); 0 -> fixed 0."""
    if factor == 0:
        return {"dist": "fixed", "value": 0.0}
    out = dict(dist)
    for key in _SCALED[dist["dist"]]:
        if key not in out:
            continue
        v = out[key]
        out[key] = [x * factor for x in v] if isinstance(v, list) else v * factor
    return out


def _set(data: dict, steps: tuple[Step, ...], value: Any) -> None:
    """Set ``value`` at ``steps``, creating missing mappings on the way (e.g. ``policies.x``)."""
    cur: Any = data
    for i, step in enumerate(steps[:-1]):
        if step.key is not None and isinstance(cur, dict) and cur.get(step.key) is None:
            cur[step.key] = {}
        cur = get_path(cur, (step,))
    last = steps[-1]
    if last.key is not None:
        cur[last.key] = value
        return
    target = get_path(cur, (last,))
    idx = cur.index(target)
    cur[idx] = value


def apply_value(data: dict, param: Param, value: float,
                targets: Optional[list[tuple[Step, ...]]] = None) -> dict:
    """A copy of scenario ``data`` with ``param`` at ``value`` (a multiplier when relative)."""
    out = copy.deepcopy(data)
    for steps in targets if targets is not None else resolve_targets(data, param):
        if param.relative:
            old = get_path(out, steps)
            new: Any = scale_distribution(old, value) if isinstance(old, dict) else old * value
            if isinstance(old, int) and not isinstance(old, bool):
                new = max(0, int(round(new)))          # e.g. an agent count stays whole
        else:
            try:
                old = get_path(out, steps)
            except PathError:
                old = None
            new = {"dist": "fixed", "value": float(value)} if isinstance(old, dict) and "dist" in old \
                else (int(value) if isinstance(old, int) and not isinstance(old, bool)
                      and float(value).is_integer() else float(value))
        _set(out, steps, new)
    return out


def base_value(scenario: Any, data: dict, param: Param) -> Optional[float]:
    """The scenario's own value of ``param`` on the parameter's axis (None if it has none).

    1 for a relative parameter.  A swarm friction left unset reads as the value the engine
    uses (owner contribution 1, coordination = ``swarm_overhead``); a policy parameter left
    unset as the policy's default.
    """
    if param.relative:
        return 1.0
    if "[*]" in param.path:
        return None
    steps = parse_path(param.path)
    try:
        v = get_path(data, steps)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        if isinstance(v, dict) and v.get("dist") == "fixed":
            return float(v["value"])
        return None
    except PathError:
        pass
    fr = scenario.frictions
    special = {"frictions.swarm_owner_contribution": fr.swarm_c, "frictions.swarm_coordination": fr.swarm_k}
    if param.path in special:
        return float(special[param.path])
    if steps[0].key == "policies" and len(steps) == 3:
        from ..policies import registry

        cls = registry.get(steps[1].key or "")
        field = cls.Params.model_fields.get(steps[2].key or "") if cls is not None else None
        default = getattr(field, "default", None)
        return float(default) if isinstance(default, (int, float)) and not isinstance(default, bool) else None
    obj: Any = scenario
    for step in steps:
        if step.key is None:
            return None
        obj = getattr(obj, step.key, None)
        if obj is None:
            return None
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return float(obj)
    return getattr(obj, "mean", None) if getattr(obj, "dist", None) == "fixed" else None


def _is_zero(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get("dist") == "fixed" and value.get("value") == 0
    return value == 0


def check_param(data: dict, param: Param) -> list[tuple[Step, ...]]:
    """Resolve ``param`` and prove both ends give a valid scenario; the targets, or :class:`ParamError`."""
    from ..scenario import ScenarioError, scenario_from_dict

    targets = resolve_targets(data, param)
    for value in (param.low, param.high):
        try:
            scenario_from_dict(apply_value(data, param, value, targets), source="scenario")
        except ScenarioError as exc:
            raise ParamError(f"--param {param.spec()}: at {param.fmt(value)}: {exc.problems[0]}") from None
    return targets


def default_params(data: dict, policies: list[str], baseline: str) -> tuple[list[Param], list[tuple[str, str]]]:
    """The contested assumptions for this scenario: (parameters, [(path, why it is skipped)]).

    Owner contribution 0-1 and coordination 0-1 (only when a swarming policy is compared),
    handoff and repeat x0.25-x2 (when not zero), every team's diagnosis x0.5-x2, skill
    routing's triage accuracy 0.6-1 (when skill routing is compared), arrivals x0.7-x1.3.
    """
    from ..policies import registry

    compared = set(policies) | {baseline}
    builtin = set(registry.builtin_names())
    swarms = any(p in SWARMING_POLICIES or p not in builtin for p in compared)
    out: list[Param] = []
    skipped: list[tuple[str, str]] = []
    fr = data.get("frictions") or {}
    for path, lo, hi, rel, label in (
        ("frictions.swarm_owner_contribution", 0.0, 1.0, False, "swarm owner contribution"),
        ("frictions.swarm_coordination", 0.0, 1.0, False, "swarm coordination effort per helper"),
    ):
        if swarms:
            out.append(Param(path, lo, hi, rel, label))
        else:
            skipped.append((path, "no compared policy swarms"))
    for key, label in (("handoff", "handoff write-up time"), ("repeat", "customer repeat time")):
        value = fr.get(key)
        if value is None or _is_zero(value):
            skipped.append((f"frictions.{key}", f"the scenario's {key} friction is 0, so scaling it changes nothing"))
        else:
            out.append(Param(f"frictions.{key}", 0.25, 2.0, True, label))
    if any(isinstance(t, dict) and t.get("diagnose") for t in data.get("teams", [])):
        out.append(Param("teams[*].diagnose", 0.5, 2.0, True, "diagnosis time (every team)"))
    else:
        skipped.append(("teams[*].diagnose", "no team has a diagnosis time"))
    if "skill_routing" in compared:
        out.append(Param("policies.skill_routing.triage_accuracy", 0.6, 1.0, False, "triage accuracy"))
    else:
        skipped.append(("policies.skill_routing.triage_accuracy", "skill_routing is not compared"))
    out.append(Param("arrivals.per_hour", 0.7, 1.3, True, "arrival rate"))
    return out, skipped
