"""``--plugin package.module:ClassName``: explicitly load third-party policies.

The option is added to the commands that resolve policy names (``run``,
``validate``, ``policies``) and is repeatable.  Plug-ins are loaded before the
command runs, so a scenario may name them and scenario validation checks
their parameters like a built-in's.  ``run`` without ``--policy`` runs every
explicitly loaded plug-in beside the scenario's own policies.
"""
from __future__ import annotations

import argparse

from ..policies import registry

COMMANDS_WITH_PLUGINS = ("run", "validate", "policies", "report", "sweep", "sensitivity", "staff")


def add_option(sub: argparse._SubParsersAction) -> None:
    """Add ``--plugin`` to every command that resolves policy names."""
    for name in COMMANDS_WITH_PLUGINS:
        parser = sub.choices.get(name)
        if parser is not None:
            parser.add_argument(
                "--plugin", action="append", dest="plugins", metavar="MODULE:CLASS", default=None,
                help="load a policy class from an importable module (repeatable), "
                     "e.g. --plugin my_policies:FollowTheSun")


def load(args: argparse.Namespace) -> list[str]:
    """Import and register every ``--plugin``; remembers their names on ``args``.

    Raises :class:`sim.policies.registry.PluginError` (one line) on failure.
    """
    names: list[str] = []
    for spec in getattr(args, "plugins", None) or []:
        cls = registry.load_plugin(spec)
        if cls.name not in names:
            names.append(cls.name)
    args.plugin_policies = names
    return names


def policies_to_run(args: argparse.Namespace, scenario) -> list[str] | None:
    """``--policy`` names if given; else the scenario's policies plus explicit plug-ins.

    None means "the scenario's own policies" (nothing was added).
    """
    if args.policies:
        return args.policies
    extra = getattr(args, "plugin_policies", None) or []
    if not extra:
        return None
    base = scenario.policy_names()
    return base + [n for n in extra if n not in base]
