"""Dotted paths into plain scenario data: ``arrivals.per_hour``, ``teams[L3].agents``, ``issues[0].work.mean``.

A path is a chain of mapping keys separated by dots; a key may be followed by
one or more selectors in brackets that pick an item of a list, either by its
``name`` (``teams[L3]``) or by position (``issues[0]``).  Selecting by name is
what sweep files should prefer: it survives reordering the base scenario.

Paths are resolved against the base scenario's data *before* anything runs,
so a typo is one clear error for the whole sweep, not one per point.
"""
from __future__ import annotations

import copy
import re
import typing
from dataclasses import dataclass
from typing import Any, Union

from pydantic import BaseModel

from ..scenario import unwrap_annotation

__all__ = ["PathError", "Step", "parse_path", "get_path", "set_path", "check_path"]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


class PathError(ValueError):
    """A path that does not parse or does not lead anywhere in the base scenario."""


@dataclass(frozen=True)
class Step:
    """One step of a path: a mapping ``key`` or a list selector (``index`` or ``name``)."""

    key: str | None = None
    index: int | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.key is not None:
            return self.key
        return f"[{self.index}]" if self.index is not None else f"[{self.name}]"


def parse_path(text: str) -> tuple[Step, ...]:
    """``teams[L3].agents`` -> (key teams, name L3, key agents); raise :class:`PathError`."""
    if not isinstance(text, str) or not text.strip():
        raise PathError("empty path")
    try:
        return _parse(text)
    except PathError as exc:
        shown = text if text.isprintable() else repr(text)     # one line, visible characters
        raise PathError(f"{shown}: {exc}") from None


def _parse(text: str) -> tuple[Step, ...]:
    steps: list[Step] = []
    i, n = 0, len(text)
    expect_key = True
    while i < n:
        if text[i] == "[":
            close = text.find("]", i)
            if close < 0:
                raise PathError(f"'[' at position {i + 1} is never closed")
            sel = text[i + 1:close].strip().strip("'\"")
            if not sel:
                raise PathError(f"empty selector '[]' at position {i + 1}")
            steps.append(Step(index=int(sel)) if sel.isdigit() else Step(name=sel))
            i = close + 1
            expect_key = False
            continue
        if text[i] == ".":
            if expect_key:
                raise PathError(f"unexpected '.' at position {i + 1}")
            i += 1
            expect_key = True
            if i >= n:
                raise PathError("path ends with '.'")
            continue
        if not expect_key:
            raise PathError(f"expected '.' or '[' at position {i + 1}")
        m = _KEY.match(text, i)
        if not m:
            raise PathError(f"expected a key name at position {i + 1}")
        steps.append(Step(key=m.group(0)))
        i = m.end()
        expect_key = False
    if steps[0].key is None:
        raise PathError("a path starts with a key, e.g. teams[L3].agents")
    return tuple(steps)


def _describe(steps: tuple[Step, ...]) -> str:
    out = ""
    for s in steps:
        out += (("." if out else "") + s.key) if s.key is not None else str(s)
    return out


def _child(container: Any, step: Step, where: tuple[Step, ...]) -> Any:
    """The item ``step`` selects in ``container``; PathError naming what exists otherwise."""
    here = _describe(where) or "(top level)"
    if step.key is not None:
        if not isinstance(container, dict):
            raise PathError(f"{here} is not a mapping; cannot take key '{step.key}'")
        if step.key not in container:
            keys = ", ".join(map(str, container)) or "none"
            raise PathError(f"{_describe(where + (step,))}: not in the base scenario; keys here: {keys}")
        return container[step.key]
    if not isinstance(container, list):
        raise PathError(f"{here} is not a list; cannot select {step}")
    if step.index is not None:
        if step.index >= len(container):
            raise PathError(f"{here}{step}: index out of range; {here} has {len(container)} item(s)")
        return container[step.index]
    names = [item.get("name") for item in container if isinstance(item, dict)]
    for item in container:
        if isinstance(item, dict) and item.get("name") == step.name:
            return item
    listed = ", ".join(str(x) for x in names if x is not None) or "none"
    raise PathError(f"{here}{step}: no item named '{step.name}'; names: {listed}")


def get_path(data: Any, steps: tuple[Step, ...]) -> Any:
    cur = data
    for i, step in enumerate(steps):
        cur = _child(cur, step, steps[:i])
    return cur


def set_path(data: Any, steps: tuple[Step, ...], value: Any) -> None:
    """Set the value at ``steps`` in place; every step but a final mapping key must exist."""
    parent = get_path(data, steps[:-1])
    last = steps[-1]
    if last.key is not None:
        if not isinstance(parent, dict):
            raise PathError(f"{_describe(steps[:-1])} is not a mapping")
        parent[last.key] = copy.deepcopy(value)
        return
    if not isinstance(parent, list):
        raise PathError(f"{_describe(steps[:-1])} is not a list")
    _child(parent, last, steps[:-1])      # raises if absent
    if last.index is not None:
        parent[last.index] = copy.deepcopy(value)
    else:
        for i, item in enumerate(parent):
            if isinstance(item, dict) and item.get("name") == last.name:
                parent[i] = copy.deepcopy(value)
                return


# ----------------------------------------------------------------------------- model walk
def _dist_classes() -> dict[str, type[BaseModel]]:
    from .. import distributions as d

    out = {}
    for cls in (d.Fixed, d.Exponential, d.LogNormal, d.Gamma, d.Uniform, d.Triangular, d.Empirical):
        tag = typing.get_args(cls.model_fields["dist"].annotation)
        if tag:
            out[tag[0]] = cls
    return out


def _model_for(node: Any, declared: Any) -> type[BaseModel] | None:
    """The pydantic model describing ``node`` (a dict), if it can be known."""
    if isinstance(node, dict) and "dist" in node:
        return _dist_classes().get(node["dist"])
    declared = unwrap_annotation(declared)
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        return declared
    return None


def check_path(data: dict, steps: tuple[Step, ...]) -> None:
    """Raise :class:`PathError` unless ``steps`` names a settable value of the scenario ``data``.

    Every step but the last must exist in ``data``.  The last may be a key the
    base scenario leaves at its default, provided the scenario model (or the
    named policy's parameters) knows it.
    """
    from ..scenario import Scenario

    if steps[0].key in ("seed", "replications"):
        raise PathError(f"{steps[0].key}: set by the sweep itself (the sweep's '{steps[0].key}' key), "
                        "not varied per point")
    if steps[0].key == "name":
        raise PathError("name: set by the sweep for every point; it cannot be varied")
    node: Any = data
    declared: Any = Scenario
    in_policies = False
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        model = _model_for(node, declared) if isinstance(node, dict) else None
        if step.key is not None and last and isinstance(node, dict) and step.key not in node:
            if in_policies and i == 2:
                from ..policies import registry

                cls = registry.get(steps[1].key or "")
                model = cls.Params if cls is not None else None
            if model is None or step.key not in {f.alias or k for k, f in model.model_fields.items()}:
                fields = {f.alias or k for k, f in model.model_fields.items()} if model else set()
                known = sorted(set(map(str, node)) | fields)
                raise PathError(f"{_describe(steps)}: unknown key; allowed here: {', '.join(known) or 'none'}")
            return
        child = _child(node, step, steps[:i])
        if step.key is not None:
            if i == 0 and step.key == "policies":
                in_policies = True
                declared = Any
            elif model is not None:
                field = model.model_fields.get(step.key)
                declared = field.annotation if field is not None else Any
            else:
                declared = Any
        node = child
    return


def canonical(value: Any) -> Union[int, float, str, bool]:
    """A scalar for a results column: numbers and strings stay, anything else becomes compact YAML-ish JSON."""
    import json

    if isinstance(value, bool) or isinstance(value, (int, float, str)):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
