"""supportsim: compare tiered support, skills-based routing and swarming on the same customers.

    >>> from sim import load_scenario, simulate
    >>> result = simulate(load_scenario("scenarios/default.yaml"), replications=2)
    >>> result.summary      # per policy and metric: mean and 95 % CI over replications
"""
from ._version import __version__
from .results import SimulationResult, load_result
from .runner import simulate
from .scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = ["__version__", "load_scenario", "scenario_from_dict", "simulate", "Scenario",
           "ScenarioError", "SimulationResult", "load_result"]
