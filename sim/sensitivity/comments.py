"""The scenario file's ``# ASSUMPTION`` comments, as sentences (pure text processing).

Scenario authors mark a value nobody measured with a comment containing
``ASSUMPTION``, either as a bullet of the header comment block
(``#  - swarm_overhead 0.25: ASSUMPTION, ...`` possibly continued on the next
indented comment lines) or at the end of a line (``repeat: ... # ASSUMPTION: ...``).
Validated scenario data drops comments, so the report reads them from the file's
text here.
"""
from __future__ import annotations

import re

__all__ = ["assumption_comments"]

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def _comment(line: str) -> tuple[str, str] | None:
    """(code, comment) of a line, or None without a comment ('#' inside quotes is not one)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i], line[i + 1:]
    return None


def assumption_comments(text: str) -> list[str]:
    """Every comment of ``text`` that says ASSUMPTION, whole (a bullet with its continuation lines)."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        parsed = _comment(lines[i])
        if parsed is None:
            i += 1
            continue
        code, comment = parsed
        if code.strip():                                  # an end-of-line comment
            if "ASSUMPTION" in comment:
                key = code.strip().rstrip(",{").split(":")[0].strip(" -{")
                out.append(f"{key}: {comment.strip()}" if key else comment.strip())
            i += 1
            continue
        # a full-line comment: gather the bullet (or paragraph line) it belongs to
        start = i
        block = [comment]
        j = i + 1
        while j < len(lines):
            nxt = _comment(lines[j])
            if nxt is None or nxt[0].strip() or _BULLET.match(nxt[1]) or not nxt[1].strip():
                break
            if not nxt[1].startswith("   "):              # continuation lines are indented
                break
            block.append(nxt[1])
            j += 1
        joined = " ".join(b.strip() for b in block)
        if "ASSUMPTION" in joined:
            text = _BULLET.sub("", block[0]).strip()
            for b in block[1:]:                            # a word hyphenated across lines stays one
                text = text + b.strip() if text.endswith("-") else text + " " + b.strip()
            out.append(text)
        i = j if j > start + 1 else i + 1
    return [re.sub(r"\s+", " ", s).strip().rstrip(";") for s in out]
