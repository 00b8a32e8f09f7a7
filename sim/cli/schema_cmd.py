"""``schema``: print the scenario file's JSON Schema, for editors that autocomplete YAML.

The schema is generated from the same pydantic models that validate scenarios,
so it cannot drift from what ``validate`` accepts.  Point an editor at it, e.g.
with the YAML language server: ``# yaml-language-server: $schema=scenario.schema.json``.
"""
from __future__ import annotations

import json
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("schema", help="print the scenario JSON Schema (for editor autocompletion)")
    p.set_defaults(func=run)


def scenario_json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    from .._version import __version__
    from ..scenario import Scenario

    schema = Scenario.model_json_schema(mode="validation")
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "title": f"supportsim scenario (version {__version__})",
           "description": "A supportsim scenario file; every key is described in docs/scenario.md."}
    out.update({k: v for k, v in schema.items() if k not in ("title", "description")})
    return out


def run(args) -> int:
    json.dump(scenario_json_schema(), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    return 0
