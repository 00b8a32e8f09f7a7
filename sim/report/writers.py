"""Render :class:`~sim.report.content.ReportContent` as self-contained HTML and as Markdown.

HTML: one file, inline CSS, figures embedded as base64 PNG data URIs, no
scripts and no external resources, so it opens offline and can be mailed.
Every piece of text goes through :func:`html.escape` (``_e``) exactly once.
Markdown: the same content; user text is HTML-escaped too (Markdown
renderers pass raw HTML through) and table pipes are backslash-escaped.
"""
from __future__ import annotations

import base64
import html
import re
from typing import Iterable

from .assumptions import assumptions_html, assumptions_markdown
from .content import ReportContent, Table
from .figures import FigureOut

__all__ = ["render_html", "render_markdown", "md_escape", "escape", "html_table", "md_table", "CSS",
           "page_head"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1150px;
 color:#1d2329;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #dde;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem;max-width:100%}
th,td{border:1px solid #d5d9de;padding:.3rem .5rem;vertical-align:top;text-align:left;
 overflow-wrap:break-word}
th{background:#f2f4f7}td.num{text-align:right}
@media (max-width:800px){body{margin:1rem auto;padding:0 .5rem}table{font-size:.8rem}
 th,td{padding:.2rem .3rem}}
tr.danger td{background:#fde8e8}tr.warning td{background:#fff6dc}
.alert{padding:.5rem .8rem;border-radius:4px;margin:.4rem 0}
.alert.danger{background:#fde8e8;border-left:4px solid #c0392b}
.alert.warning{background:#fff6dc;border-left:4px solid #d4a017}
.alert.info{background:#eaf2fb;border-left:4px solid #2e6da4}
.alert.ok{background:#e8f6ec;border-left:4px solid #2e8b57}
.note{color:#555;font-size:.85rem}figure{margin:1.2rem 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#444;font-size:.88rem}pre{background:#f6f8fa;padding:.8rem;overflow:auto;font-size:.85rem}
dl.prov{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem}dl.prov dt{font-weight:600}
dl.prov dd{margin:0}ul.sentences li{margin:.25rem 0}p.lead{font-size:1.05rem;font-weight:600}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cell(text: object) -> str:
    """An escaped table cell where long names may wrap: a break opportunity after each ``_``, ``.``
    or ``/`` inside a word (``skill_routing``, ``teams[L3].agents``), so narrow screens need no
    horizontal scrolling; the text itself is unchanged."""
    text = _WRAP.sub(lambda m: m.group(0) + "<wbr>", _e(text))
    # a number and its unit stay on one line ("26.5 %", "± 0.4", "63.46 EUR"): no "%" alone below
    return _UNIT.sub("&nbsp;", text)


_UNIT = re.compile(r"(?<=[\d±]) (?=%|pp\b|[A-Z]{3}\b|\d)")


# after "_" or "/" inside a word, after "." between letters (teams[L3].agents) - never inside 5.4
_WRAP = re.compile(r"(?<=\w)([_/])(?=\w)|(?<=[A-Za-z\]])(\.)(?=[A-Za-z])")


def _html_table(t: Table, cls: str = "") -> str:
    table = f'<table class="{_e(cls)}">' if cls else "<table>"
    out = [f"<h3>{_e(t.title)}</h3>" if t.title else "", table, "<thead><tr>"]
    out += [f"<th>{_cell(h)}</th>" for h in t.header]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(t.rows):
        status = t.row_status[i] if i < len(t.row_status) else ""
        out.append(f'<tr class="{_e(status)}">' if status else "<tr>")
        for j, cell in enumerate(row):
            num = j > 0 and bool(re.match(r"^[−+\-±]?[\d.,]+", str(cell)))
            out.append(f'<td class="num">{_cell(cell)}</td>' if num else f"<td>{_cell(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if t.note:
        out.append(f'<p class="note">{_e(t.note)}</p>')
    return "\n".join(out)


def page_head(title: str, css: str = CSS, meta: Iterable[str] = ()) -> list[str]:
    """The opening lines of every self-contained page supportsim writes (run, sweep and staffing
    reports): doctype, charset, viewport, extra ``<meta>`` tags, the escaped title, the inline
    style, and the title again as the page's heading."""
    return ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">', *meta,
            f"<title>{_e(title)}</title>", f"<style>{css}</style></head><body>", f"<h1>{_e(title)}</h1>"]


def render_html(c: ReportContent, figures: Iterable[FigureOut]) -> str:
    run_meta = [f'<meta name="supportsim-run" content="{_e(c.run_id)}">'] if getattr(c, "run_id", "") else []
    parts = page_head(c.title, meta=run_meta)
    if c.description:
        parts.append(f"<p><em>{_e(c.description)}</em></p>")
    parts.append('<dl class="prov">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in c.provenance)
                 + "</dl>")
    parts.append("<h2>Can these numbers be trusted?</h2>")
    parts += [f'<div class="alert {_e(level)}">{_e(text)}</div>' for level, text in c.alerts]
    parts.append('<h2 id="verdict">Verdict</h2>')
    if getattr(c, "verdict_lead", ""):
        parts.append(f'<p class="lead">{_e(c.verdict_lead)}</p>')
    sentences = _sentences(c)
    if sentences:
        parts.append('<h3>In plain words</h3><ul class="sentences">'
                     + "".join(f"<li>{_e(x)}</li>" for x in sentences) + "</ul>")
    parts.append(_html_table(c.verdict, "verdict"))
    parts += [_html_table(t, "wins") for t in getattr(c, "wins", [])]
    parts += assumptions_html(getattr(c, "assumptions", None), _html_table, _e)
    parts.append('<h2 id="figures">Figures</h2>')
    for f in figures:
        data = base64.b64encode(f.png).decode("ascii")
        parts.append(f'<figure id="fig-{_e(f.key)}"><h3>{_e(f.title)}</h3>'
                     f'<img alt="{_e(f.title)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{_e(f.caption)}</figcaption></figure>")
    parts.append('<h2 id="details">Details</h2>')
    parts += [_html_table(t) for t in c.tables]
    parts.append('<h2 id="method">How this was measured</h2><ul>')
    parts += [f"<li>{_e(m)}</li>" for m in c.method]
    parts.append("</ul>")
    parts.append('<h2 id="scenario">Scenario</h2>')
    parts += [_html_table(t) for t in c.scenario_tables]
    parts.append("<h3>Scenario file (as simulated)</h3>")
    parts.append(f"<pre>{_e(c.scenario_yaml)}</pre>")
    parts.append("<h3>Reproduce</h3>")
    parts.append(f"<p>In this report's directory (it holds the scenario above as <code>scenario.yaml</code>), run:</p><pre>{_e(c.reproduce)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _sentences(c: ReportContent) -> list[str]:
    """The verdict's plain-language sentences, one per row (with caveats)."""
    out = []
    for r in c.verdict_rows:
        text = r.sentence + ("" if not r.caveats else " Caveat: " + "; ".join(r.caveats) + ".")
        if text:
            out.append(text)
    return out


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|#!])")


def md_escape(text: object) -> str:
    """Plain text safe inside Markdown (and its table cells): no raw HTML, no markup."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False)).replace("\n", " ")


def _md_table(t: Table, heading: str = "###") -> str:
    out = [f"{heading} {md_escape(t.title)}", ""] if t.title else []
    out.append("| " + " | ".join(md_escape(h) for h in t.header) + " |")
    out.append("|" + "|".join("---" for _ in t.header) + "|")
    out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in t.rows]
    if t.note:
        out += ["", f"_{md_escape(t.note)}_"]
    return "\n".join(out) + "\n"


def render_markdown(c: ReportContent, figures: Iterable[FigureOut], figure_dir: str = "figures") -> str:
    icon = {"danger": "**UNSTABLE**", "warning": "**Warning**", "info": "Note", "ok": "OK"}
    lines = [f"# {md_escape(c.title)}", ""]
    if c.description:
        lines += [f"_{md_escape(c.description)}_", ""]
    lines += [f"- **{md_escape(k)}**: {md_escape(v)}" for k, v in c.provenance] + [""]
    lines += [f"- {icon.get(level, level)}: {md_escape(text)}" for level, text in c.alerts] + [""]
    if getattr(c, "verdict_lead", ""):
        lines += [f"**{md_escape(c.verdict_lead)}**", ""]
    lines += [f"- {md_escape(x)}" for x in _sentences(c)] + [""]
    lines.append(_md_table(c.verdict, "##"))
    lines += [_md_table(t) for t in getattr(c, "wins", [])]
    lines += assumptions_markdown(getattr(c, "assumptions", None), _md_table, md_escape)
    lines += [_md_table(c.tables[0], "##")] if c.tables else []
    lines += ["## Figures", ""]
    lines += [f"- [{md_escape(f.title)}]({figure_dir}/{f.key}.png)" for f in figures]
    lines += ["", "## How this was measured", ""] + [f"- {md_escape(m)}" for m in c.method]
    lines += ["", "Full details (all paired differences, segments, issue types, scenario) are in "
                  "`report.html`.", "", "## Reproduce", "",
                  "In this directory (it holds the run's scenario as `scenario.yaml`), run:", "",
                  "```", c.reproduce.replace("`", "'"), "```", ""]
    return "\n".join(lines)


# public names for the other self-contained reports (the sweep report uses the same page style)
escape = _e
html_table = _html_table
md_table = _md_table
