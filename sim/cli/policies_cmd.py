"""``policies``: list built-in and installed policies with their parameters."""
from __future__ import annotations

import sys
import typing

from pydantic_core import PydanticUndefined

from ..policies import registry


def add_parser(sub) -> None:
    p = sub.add_parser("policies", help="list available policies (built-in and plug-ins) and "
                                        "their parameters")
    p.set_defaults(func=run)


def describe(cls) -> list[str]:
    """The policy's name, summary and one line per parameter (type, default, description)."""
    doc = (cls.__doc__ or "").strip().splitlines()
    lines = [f"{cls.name}: {cls.summary or (doc[0] if doc else '')}"]
    for pname, field in cls.Params.model_fields.items():
        ann = _type_name(field.annotation)
        default = "required" if field.default is PydanticUndefined and field.default_factory is None \
            else f"default {field.get_default(call_default_factory=True)!r}"
        bounds = _bounds(field)
        desc = f" - {field.description}" if field.description else ""
        lines.append(f"    {pname} ({ann}{bounds}, {default}){desc}")
    return lines


def _type_name(ann) -> str:
    if typing.get_origin(ann) is typing.Literal:
        return "one of " + "|".join(str(a) for a in typing.get_args(ann))
    if typing.get_origin(ann) is not None:
        return str(ann).replace("typing.", "")
    return getattr(ann, "__name__", str(ann))


def _bounds(field) -> str:
    out = []
    for meta in field.metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None:
                out.append(f"{sym} {value}")
    return f", {', '.join(out)}" if out else ""


def run(args) -> int:
    _, problems = registry.load_installed()
    builtins = registry.builtin_names()
    for name in builtins + registry.plugin_names():
        try:
            cls = registry.get(name)
        except registry.PluginError:
            continue        # reported below from load_installed()
        if cls is None:
            continue
        lines = describe(cls)
        if name not in builtins:
            lines[0] += f"  [plug-in: {registry.source(name)}]"
        print("\n".join(lines))
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0
