"""supportsim: compare tiered support, skills-based routing and swarming on the same customers.

    >>> from sim import load_scenario, simulate
    >>> result = simulate(load_scenario("scenarios/default.yaml"), replications=2)
    >>> result.summary      # per policy and metric: mean and 95 % CI over replications

The public names are imported on first use (PEP 562), so ``import sim`` - and any tool that
only needs part of the package, e.g. scenario validation - does not pay for pandas, SimPy and
the engine until it uses them (issue 16: ``import sim`` used to cost ~1 s of CPU and 174 MiB).
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: public name -> module that defines it
_LAZY = {
    "simulate": ".runner",
    "SimulationResult": ".results", "load_result": ".results",
    "Scenario": ".scenario", "ScenarioError": ".scenario", "load_scenario": ".scenario",
    "scenario_from_dict": ".scenario",
}

__all__ = ["__version__", "load_scenario", "scenario_from_dict", "simulate", "Scenario",
           "ScenarioError", "SimulationResult", "load_result"]

if TYPE_CHECKING:   # for type checkers and IDEs: the names as if imported eagerly
    from .results import SimulationResult, load_result
    from .runner import simulate
    from .scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    if module == ".scenario":   # validation checks policy names against the installed catalogue:
        import_module(".policies.registry", __name__)   # the registry installs it on import
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value          # later lookups are plain module attributes
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
