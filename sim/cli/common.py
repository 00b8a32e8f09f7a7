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


def positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def nonneg_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value
