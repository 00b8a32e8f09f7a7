"""The calibrated scenario as commented YAML: one line per item, comments beside what they
explain, every assumption first in its comment."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import yaml

from .estimate import SEP

if TYPE_CHECKING:
    from .calibrate import Calibration


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()
    return text[:-3].rstrip() if text.endswith("\n...") else text   # a scalar's document end


def render_yaml(cal: Calibration) -> str:
    """The scenario as commented YAML: one line per item, comments beside what they explain."""
    d, c = cal.data, cal.comments
    out = [f"# {line}" if line.strip() else "#" for line in cal.header]
    out.append("")

    def assumptions_first(note: Optional[str]) -> Optional[str]:
        """A comment with an assumption starts with ``ASSUMPTION:``: it must not hide."""
        if not note:
            return note
        parts = note.split(SEP)
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
            out.append(f"# {c[key]}")
        out.append(f"{key}:")
        for item in d[key]:
            note = assumptions_first(c.get(f"{label}.{item['name']}"))
            text = f"  - {_flow(item)}"
            out.append(f"{text}  # {note}" if note else text)
    if c.get("frictions"):
        out.append(f"# {c['frictions']}")
    line("frictions", d["frictions"])
    line("policies", d["policies"], c.get("policies"))
    out.append("# ASSUMPTION: not estimated from the log, so left off: team shifts, SLA targets and "
               "penalties, customer time cost, learning, swarm helper modes (docs/scenario.md)")
    return "\n".join(out) + "\n"
