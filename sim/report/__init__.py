"""The decision report: self-contained HTML plus a Markdown summary, from a result.

    >>> from sim.report import build_report
    >>> paths = build_report(result, "reports/default")   # result: simulate() or load_result()
    >>> paths.html, paths.markdown

Reads results only (through :mod:`sim.analysis`); never runs the simulation.
Files are written atomically, the HTML last, so a directory holding
``report.html`` holds a complete report.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..analysis import Analysis, analyze
from ..atomic import write_bytes, write_text
from .content import ReportContent, build_content
from .figures import render_figures
from .writers import render_html, render_markdown

__all__ = ["build_report", "ReportPaths", "default_report_dir", "slug"]

DEFAULT_ROOT = "reports"


@dataclass
class ReportPaths:
    directory: Path
    html: Path
    markdown: Path
    figures: list[Path]
    analysis: Analysis
    content: ReportContent


def slug(name: str) -> str:
    """A scenario name made safe as one directory name (no separators, no dot-dirs)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._")
    return s or "scenario"


def default_report_dir(scenario_name: str, root: str | os.PathLike = DEFAULT_ROOT) -> Path:
    return Path(root) / slug(scenario_name)


def _write(path: Path, data: bytes) -> None:
    write_bytes(path, data)      # the one atomic writer: umask-honouring mode, fsync'd


def build_report(result: Any, out_dir: Optional[str | os.PathLike] = None,
                 baseline: Optional[str] = None) -> ReportPaths:
    """Analyse ``result`` and write ``report.html``, ``summary.md``, ``figures/*.png`` and ``scenario.yaml``.

    ``out_dir`` defaults to ``reports/<scenario-name>/``; ``baseline`` to ``tiered``
    (or the first policy run if tiered was not).
    """
    out = Path(out_dir) if out_dir is not None else default_report_dir(result.scenario.name)
    # a SimulationResult keeps its analysis: report and terminal output share one computation
    cached = getattr(result, "analysis", None)
    analysis = cached(baseline) if callable(cached) else analyze(result, baseline=baseline)
    content = build_content(result, analysis)
    figures = render_figures(result, analysis)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    fig_paths = []
    for f in figures:
        p = fig_dir / f"{f.key}.png"
        _write(p, f.png)
        fig_paths.append(p)
    # the scenario the reproduce command names, as run (CLI overrides included)
    write_text(out / "scenario.yaml", content.scenario_yaml)
    md = out / "summary.md"
    _write(md, render_markdown(content, figures).encode("utf-8"))
    html_path = out / "report.html"
    from .staffing import with_equal_service   # "At equal service", when `staff` results exist
    _write(html_path, with_equal_service(render_html(content, figures), result.scenario).encode("utf-8"))
    return ReportPaths(out, html_path, md, fig_paths, analysis, content)
