"""Command line: ``python run_sim.py [COMMAND] ...``.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``
(which sets ``func`` on its parser).  Add a command by adding its module to
``COMMANDS``.  Problems with the user's input become one-line messages and
exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..scenario import ScenarioError
from . import plugins, policies_cmd, report_cmd, run_cmd, validate_cmd
from . import sweep_cmd
from . import calibrate_cmd
from . import schema_cmd
from . import staff_cmd
from . import sensitivity_cmd

COMMANDS = [run_cmd, validate_cmd, policies_cmd, report_cmd, sweep_cmd, calibrate_cmd, schema_cmd,
            sensitivity_cmd]
COMMANDS.append(staff_cmd)
from . import backtest_cmd  # noqa: E402
COMMANDS.append(backtest_cmd)

EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Bad input detected by a command: printed as one line, exit 2."""


def program_name(argv0: str | None = None) -> str:
    """How the user started us: ``supportsim`` (console script), ``python -m sim`` or ``run_sim.py``."""
    base = os.path.basename(argv0 if argv0 is not None else (sys.argv[0] if sys.argv else ""))
    if base in ("__main__.py", "-m"):
        return "python -m sim"
    if base.startswith("supportsim"):
        return "supportsim"
    return "run_sim.py"


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog=prog or program_name(),
        description="supportsim: compare tiered support, skills-based routing and swarming "
                    "on the same customers. With no command, runs scenarios/default.yaml.")
    parser.add_argument("--version", action="version", version=f"supportsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    plugins.add_option(sub)   # --plugin MODULE:CLASS on run, validate, policies
    return parser


def one_line(message: object) -> str:
    """``message`` as one line: control characters (a newline in a file name from the command
    line or a log, a NUL, an escape sequence) shown escaped, so an error stays the one line it
    is meant to be and cannot write to the terminal."""
    text = str(message)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else
                   (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}") for ch in text)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["run", *argv]   # the main job: default scenario, all its policies
    if any("\x00" in a for a in argv):     # only a Python caller can pass one (not a shell)
        print("error: command line: an argument holds a NUL character, which no file name or "
              "value can", file=sys.stderr)
        return EXIT_BAD_INPUT
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    from ..policies import PolicyError
    from ..policies.registry import PluginError
    from ..outputs import UnsafeOutput

    try:
        plugins.load(args)
        return int(args.func(args) or 0)
    except PluginError as exc:      # a --plugin or installed plug-in that cannot be loaded
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PolicyError as exc:      # a policy's decision the engine cannot carry out
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1
    except ScenarioError as exc:
        for line in exc.problems:
            print(f"error: {one_line(line)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (UserError, UnsafeOutput) as exc:   # UnsafeOutput: a directory that is not ours
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:         # output piped into e.g. `head`, which stopped reading
        try:
            sys.stdout = open(os.devnull, "w")   # noqa: SIM115 - no flush error at exit
        except OSError:
            pass
        return 0
    except OSError as exc:          # the machine refused a read or write we could not foresee
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {one_line(f'{where}{exc.strerror or exc}')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
