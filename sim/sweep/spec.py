"""The sweep file: which base scenario, what to vary, which policies, how many replications.

```yaml
base: ../default.yaml              # scenario file, relative to this sweep file
name: staffing-vs-load
replications: 20
seed: 7
set: {horizon.days: 20}            # optional: fixed overrides applied to every point
vary:                              # full grid over dotted paths
  arrivals.per_hour: [8, 10, 12, 14]
  teams[L3].agents: [3, 4, 5]
zip:                               # optional: parameters that move together
  - {teams[L1].agents: [4, 5], teams[L2].agents: [4, 5]}
policies: [tiered, skill_routing, swarming]
report: {x: arrivals.per_hour, y: teams[L3].agents}   # optional: the regime map's axes
```
Parsed like a scenario (``yaml.safe_load``, strict pydantic models, unknown
keys rejected) so a bad sweep file fails with one line per problem, exit 2.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..scenario import MAX_REPLICATIONS, MAX_SEED, ScenarioError, _format_pydantic, parse_yaml, read_text

__all__ = ["SweepSpec", "ReportSpec", "load_sweep_spec", "sweep_spec_from_dict"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class ReportSpec(_Model):
    x: Optional[str] = Field(default=None, description="regime-map x axis (a varied path); default: the first")
    y: Optional[str] = Field(default=None, description="regime-map y axis; default: the second varied path")
    at: dict[str, Any] = Field(
        default_factory=dict,
        description="values of the other varied paths for the line plots (default: for each, the value "
                    "where the fewest policies are unstable; the first on ties)")
    time_metric: str = Field(default="resolution_mean_min", description="metric for 'wins on resolution time'")
    cost_metric: str = Field(default="cost_per_resolved", description="metric for 'wins on cost'")


class SweepSpec(_Model):
    base: str = Field(min_length=1, description="scenario file, relative to the sweep file")
    name: Optional[str] = Field(default=None, min_length=1, description="default: the sweep file's stem")
    description: str = ""
    # the same bounds as the scenario's own keys (docs/scenario.md "Limits"): checked once here,
    # not once per point
    replications: Optional[int] = Field(default=None, ge=1, le=MAX_REPLICATIONS,
                                        description="default: the base scenario's")
    seed: Optional[int] = Field(default=None, ge=0, le=MAX_SEED, description="default: the base scenario's seed")
    set: dict[str, Any] = Field(default_factory=dict, description="fixed overrides for every point")
    vary: dict[str, list[Any]] = Field(default_factory=dict, description="path -> values; full grid")
    zip: list[dict[str, list[Any]]] = Field(default_factory=list, description="groups moving together")
    common_random_numbers: Optional[bool] = Field(
        default=None,
        description="true: every point meets the same customers (point 0's seed); false: every point "
                    "its own; default: shared unless a varied path changes the customers (docs/sweeps.md)")
    policies: Optional[list[str]] = Field(default=None, min_length=1,
                                          description="default: the base scenario's policies")
    report: ReportSpec = Field(default_factory=ReportSpec)


def sweep_spec_from_dict(data: Any, source: str) -> SweepSpec:
    if not isinstance(data, dict):
        raise ScenarioError([f"{source}: top level must be a mapping of sweep keys"])
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([f"{source}: {line}" for line in _format_pydantic(exc, SweepSpec)]) from None


# In a YAML *flow* mapping ``{teams[L1].agents: [4, 5]}`` the brackets of a
# selector are flow indicators, so YAML itself rejects the natural way to write
# a zip group.  When (and only when) a file does not parse, such keys are
# quoted and parsing is retried; block-style keys never need this.
_FLOW_KEY = re.compile(r"(?P<lead>[{,]\s*)(?P<key>[A-Za-z_][\w.\-]*(?:\[[^\]\[{},:]*\][\w.\-]*)+)(?P<colon>\s*:)")


def _parse(text: str, src: str) -> Any:
    try:
        return parse_yaml(text, src)
    except ScenarioError as first:
        quoted = _FLOW_KEY.sub(lambda m: f'{m["lead"]}"{m["key"]}"{m["colon"]}', text)
        if quoted == text:
            raise
        try:
            return parse_yaml(quoted, src)
        except ScenarioError:
            raise first from None


def load_sweep_spec(path: str | Path) -> SweepSpec:
    return sweep_spec_from_dict(_parse(read_text(path), str(path)), str(path))
