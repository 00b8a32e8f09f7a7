"""Command line: ``python run_sim.py [COMMAND] ...``.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``
(which sets ``func`` on its parser).  Add a command by adding its module to
``COMMANDS``.  Problems with the user's input become one-line messages and
exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ..scenario import ScenarioError
from . import plugins, policies_cmd, report_cmd, run_cmd, validate_cmd
from . import sweep_cmd
from . import calibrate_cmd

COMMANDS = [run_cmd, validate_cmd, policies_cmd, report_cmd, sweep_cmd, calibrate_cmd]

EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Bad input detected by a command: printed as one line, exit 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_sim.py",
        description="supportsim: compare tiered support, skills-based routing and swarming "
                    "on the same customers. With no command, runs scenarios/default.yaml.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    plugins.add_option(sub)   # --plugin MODULE:CLASS on run, validate, policies
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]   # the main job: default scenario, all its policies
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    from ..policies import PolicyError
    from ..policies.registry import PluginError

    try:
        plugins.load(args)
        return int(args.func(args) or 0)
    except PluginError as exc:      # a --plugin or installed plug-in that cannot be loaded
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PolicyError as exc:      # a policy's decision the engine cannot carry out
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ScenarioError as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:          # the machine refused a read or write we could not foresee
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
