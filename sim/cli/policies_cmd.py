"""``policies``: list available policies and their parameters."""
from __future__ import annotations

from ..policies import registry


def add_parser(sub) -> None:
    p = sub.add_parser("policies", help="list available policies and their parameters")
    p.set_defaults(func=run)


def describe(cls) -> list[str]:
    lines = [f"{cls.name}: {cls.summary}"]
    for pname, field in cls.Params.model_fields.items():
        ann = getattr(field.annotation, "__name__", str(field.annotation))
        desc = f" - {field.description}" if field.description else ""
        lines.append(f"    {pname} ({ann}, default {field.default!r}){desc}")
    return lines


def run(args) -> int:
    builtins = set(registry.builtin_names())
    for name in registry.names():
        cls = registry.get(name)
        tag = "" if name in builtins else "  [plug-in]"
        lines = describe(cls)
        lines[0] += tag
        print("\n".join(lines))
    return 0
