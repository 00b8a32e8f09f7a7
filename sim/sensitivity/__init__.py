"""Sensitivity analysis: which assumptions the verdict rests on, and where each verdict flips.

    >>> from sim.sensitivity import run_sensitivity
    >>> r = run_sensitivity(load_scenario("scenarios/default.yaml"), replications=3, out="results/sens")
    >>> r.flips        # per (parameter, policy, metric): the value where the paired difference changes sign

Pure parts (no simulation): :mod:`.params` (what is varied, how a value is applied),
:mod:`.analysis` (paired differences, brackets, flips), :mod:`.result` (saved tables).
Running: :mod:`.run` (rounds of bisection) over :mod:`.execute` (the run path).
Documented in ``docs/sensitivity.md``.
"""
from .params import Param, ParamError, default_params, parse_param
from .result import SENSITIVITY_DIR, SensitivityResult, fingerprint, load_sensitivity

__all__ = ["Param", "ParamError", "parse_param", "default_params", "SensitivityResult", "load_sensitivity",
           "fingerprint", "SENSITIVITY_DIR", "run_sensitivity"]


def __getattr__(name: str):
    if name == "run_sensitivity":      # the running half is imported only when used
        from .run import run_sensitivity

        return run_sensitivity
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
