"""The calibrated scenario as commented YAML: one line per item, comments beside what they
explain, every assumption first in its comment."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Optional

import yaml

from .estimate import SEP
from .safe import comment_text

if TYPE_CHECKING:
    from .calibrate import Calibration


class _OneLineDumper(yaml.SafeDumper):
    """Strings with line breaks or other control characters (names from a log) are written
    double-quoted with escapes, so every item stays on its one line."""


def _str(dumper: yaml.SafeDumper, text: str):
    if _CONTROL.search(text):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
    return dumper.represent_str(text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_OneLineDumper.add_representer(str, _str)


def _flow(value: Any) -> str:
    text = yaml.dump(value, Dumper=_OneLineDumper, default_flow_style=True, width=10_000,
                     sort_keys=False).strip()
    return text[:-3].rstrip() if text.endswith("\n...") else text   # a scalar's document end


def render_yaml(cal: Calibration) -> str:
    """The scenario as commented YAML: one line per item, comments beside what they explain."""
    d, c = cal.data, cal.comments
    out = [f"# {comment_text(line)}" if line.strip() else "#" for line in cal.header]
    out.append("")

    def assumptions_first(note: Optional[str]) -> Optional[str]:
        """A comment with an assumption starts with ``ASSUMPTION:``: it must not hide."""
        if not note:
            return note
        parts = comment_text(note).split(SEP)
        return SEP.join(sorted(parts, key=lambda p: not p.startswith("ASSUMPTION:")))

    def line(key: str, value: Any, comment: Optional[str] = None) -> None:
        comment = assumptions_first(comment)
        text = f"{key}: {_flow(value)}"
        out.append(f"{text}  # {comment}" if comment else text)

    for key in ("name", "description", "seed", "start", "horizon", "replications", "arrivals"):
        if key in d:
            line(key, d[key], c.get(key))
    for key, label in (("segments", "segments"), ("issues", "issues"), ("teams", "teams")):
        if key in c:
            out.append(f"# {comment_text(c[key])}")
        out.append(f"{key}:")
        for item in d[key]:
            note = assumptions_first(c.get(f"{label}.{item['name']}"))
            text = f"  - {_flow(item)}"
            out.append(f"{text}  # {note}" if note else text)
    if c.get("frictions"):
        out.append(f"# {comment_text(c['frictions'])}")
    line("frictions", d["frictions"])
    line("policies", d["policies"], c.get("policies"))
    out.append("# ASSUMPTION: not estimated from the log, so left off: team shifts, SLA targets and "
               "penalties, customer time cost, learning, swarm helper modes (docs/scenario.md)")
    return "\n".join(out) + "\n"
