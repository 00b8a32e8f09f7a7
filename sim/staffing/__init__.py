"""Staffing at equal service: per policy, the cheapest staffing that meets service targets.

    >>> from sim import load_scenario
    >>> from sim.staffing import Options, parse_target, staff
    >>> scn = load_scenario("scenarios/default.yaml")
    >>> target = parse_target("resolution_mean_min<=60", ["resolution_mean_min"])
    >>> outcome = staff(scn, None, Options([target]), "results/staffing/default")
    >>> [(p.policy, p.feasible, p.staffing) for p in outcome.policies]

Pure parts (no simulation, no files): :mod:`.targets` (parsing, the 95 %-interval rule),
:mod:`.queueing` (Erlang C, square-root staffing grade family), :mod:`.search` (the search
state machine), :mod:`.payroll`.  Running parts: :mod:`.runs` (through :mod:`sim.execution`),
:mod:`.store` (resumable run store), :mod:`.driver` (``staff``), :mod:`.outputs`.
Method: docs/staffing.md.
"""
from .driver import Options, PolicyOutcome, StaffingOutcome, staff
from .targets import Target, TargetError, parse_target

__all__ = ["staff", "Options", "PolicyOutcome", "StaffingOutcome", "Target", "TargetError",
           "parse_target"]
