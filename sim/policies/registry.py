"""Finding policies by name: built-ins, installed plug-ins, explicit ``--plugin`` classes.

Scenario files only *name* policies; they can never cause code to be imported.
"""
from __future__ import annotations

from .base import Policy

_BUILTIN: dict[str, type[Policy]] = {}
_EXTRA: dict[str, type[Policy]] = {}


def register(cls: type[Policy], builtin: bool = False) -> type[Policy]:
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no 'name'")
    (_BUILTIN if builtin else _EXTRA)[cls.name] = cls
    return cls


def _load_builtins() -> None:
    if _BUILTIN:
        return
    # import order is listing order: the baseline (tiered) first
    from . import tiered  # noqa: F401  (modules register themselves)
    from . import skill_routing  # noqa: F401
    from . import swarming  # noqa: F401


def get(name: str) -> type[Policy] | None:
    _load_builtins()
    return _BUILTIN.get(name) or _EXTRA.get(name)


def builtin_names() -> list[str]:
    _load_builtins()
    return list(_BUILTIN)


def names() -> list[str]:
    _load_builtins()
    return list(_BUILTIN) + [n for n in _EXTRA if n not in _BUILTIN]
