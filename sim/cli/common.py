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
