"""What ``run`` adds for the report's "What this verdict assumes" section (called by ``sim/cli/run_cmd.py``).

Every run: the scenario file's ``# ASSUMPTION`` comments (read from its text).
The main job (``python run_sim.py`` without a scenario) and ``run --sensitivity``: a
quick sensitivity analysis (:data:`sim.sensitivity.run.QUICK`: fewer replications,
a shorter horizon and a coarse bisection than the run itself; the report says so),
on up to two local worker processes.  With ``--out DIR`` its tables are saved in
``DIR/sensitivity/`` through the run's output directory (so they join its manifest)
and ``report DIR`` shows the section again.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional

from ..outputs.cells import csv_safe_frame   # names: no spreadsheet formulas

__all__ = ["add_assumptions", "QUICK_WORKERS"]

#: the main job must finish in under a minute on a two-core machine
QUICK_WORKERS = 2


def add_assumptions(result: Any, scenario_path: Optional[Path], quick: bool, out: Any = None,
                    workers: int = 1, progress_bar: Optional[Callable[[str], Any]] = None) -> None:
    """Attach ``assumption_comments`` and (``quick``) a quick ``sensitivity`` to ``result``.

    ``out``: the run's open :class:`sim.outputs.OutputDir` (or None); ``progress_bar``: the
    CLI's ``progress_bar(label)`` context manager yielding ``advance(done, total)``.
    """
    from ..scenario import ScenarioError, read_text
    from .comments import assumption_comments

    comments: list[str] = []
    if scenario_path is not None:
        try:
            comments = assumption_comments(read_text(scenario_path))
        except ScenarioError:
            comments = []
    result.assumption_comments = comments
    policies = [str(p) for p in result.policies]
    if not quick or len(policies) < 2:
        return
    from ..analysis import choose_baseline
    from .result import SENSITIVITY_DIR
    from .run import QUICK_DAYS, QUICK_REPLICATIONS, QUICK_TOLERANCE, run_sensitivity

    baseline = choose_baseline(policies)
    n = max(workers, min(QUICK_WORKERS, os.cpu_count() or 1))
    days = min(QUICK_DAYS, result.scenario.horizon.days)
    import contextlib

    bar = progress_bar if progress_bar is not None else (lambda label: contextlib.nullcontext(None))
    with bar("assumptions (quick sensitivity)") as advance:
        sens = run_sensitivity(result.scenario, policies=policies, baseline=baseline,
                               replications=QUICK_REPLICATIONS, days=days,
                               tolerance=QUICK_TOLERANCE, workers=n, progress=advance,
                               quick=True, assumption_comments=comments, seed=result.seed)
    result.sensitivity = sens
    if out is not None:
        for name in ("tornado", "flips", "points"):
            table = getattr(sens, name)
            out.write(f"{SENSITIVITY_DIR}/{name}.csv",
                      lambda p, t=table: csv_safe_frame(t).to_csv(p, index=False))
        import json

        text = json.dumps(sens.settings(), indent=2, default=lambda x: None)
        out.write(f"{SENSITIVITY_DIR}/sensitivity.json", lambda p: p.write_text(text, encoding="utf-8"))
