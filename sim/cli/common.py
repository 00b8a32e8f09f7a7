"""Helpers shared by the CLI commands."""
from __future__ import annotations

from pathlib import Path

DEFAULT_SCENARIO = "scenarios/default.yaml"


def resolve_scenario_path(name: str | None) -> Path:
    """A scenario path as given, or the default scenario of the project checkout."""
    if name:
        return Path(name)
    here = Path(DEFAULT_SCENARIO)
    if here.exists():
        return here
    project = Path(__file__).resolve().parents[2] / DEFAULT_SCENARIO
    return project if project.exists() else here


def _number(kind: type, minimum: float, strict: bool):
    """An argparse type: a number of ``kind`` that is > (strict) or >= ``minimum``."""
    import argparse

    noun = "a whole number" if kind is int else "a number"
    op = ">" if strict else ">="

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if value < minimum or (strict and value == minimum) or value != value:
            raise argparse.ArgumentTypeError(f"must be {op} {minimum:g}, got {value}")
        return value

    return parse


positive_int = _number(int, 1, strict=False)
nonneg_int = _number(int, 0, strict=False)
positive_float = _number(float, 0, strict=True)


def writable_dir(path: Path, flag: str) -> Path:
    """Create output directory ``path`` now and prove it is writable, before any long work.

    Raises the CLI's one-line :class:`UserError` naming the flag and the reason.
    """
    import tempfile

    from . import UserError

    if path.exists() and not path.is_dir():
        raise UserError(f"{flag} {path}: is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise UserError(f"{flag} {path}: cannot write results there ({reason})") from None
    return path


def check_workload(scenario, policies: int = 0, replications=None, *, force: bool = False,
                   events: bool = False, keep_tickets: bool = True, where: str = "") -> None:
    """Estimate a run plan before running it: warn above the documented limit, refuse above
    the other unless ``force`` (see :mod:`sim.workload`, docs/safety.md).

    For every command that simulates (run, sweep, staff, sensitivity): call it with the
    plan's size before starting; it prints a ``warning:`` line or raises :class:`UserError`.
    """
    from ..workload import estimate_work

    est = estimate_work(scenario, policies, replications, events=events, keep_tickets=keep_tickets)
    report_workload(est, force=force, where=where)


def report_workload(est, *, force: bool = False, where: str = "") -> None:
    """Print the warning or raise the :class:`UserError` for a ready :class:`sim.workload.WorkEstimate`
    (e.g. ``sim.workload.estimate_plan`` over a sweep's points)."""
    import sys

    from ..workload import check_work
    from . import UserError

    warning, error = check_work(est, force=force)
    prefix = f"{where}: " if where else ""
    if error:
        raise UserError(prefix + error)
    if warning:
        print(f"warning: {prefix}{warning}", file=sys.stderr)
