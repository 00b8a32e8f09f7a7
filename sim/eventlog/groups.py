"""Teams at the level a leader thinks in: support lines from group names, rewrite rules, merging.

Real exports name hundreds of support groups (``G230 2nd``, ``V5 3rd``, ``SD-EMEA L1``). A
leader thinks in a handful of lines. So:

- tier hints in group names (or in the agents' roles) are read: ``2nd``, ``3rd``, ``L2``,
  ``Tier 3``, ``level 2``, ``2nd line``, ``second line``;
- rewrite rules (``--group-pattern REGEX``, the mapping's ``groups:``) rename groups and may set
  their tier;
- with more groups than ``--max-teams`` (default 10), the smallest groups are merged into their
  line (``2nd line``) until the model has at most that many teams. Groups without a hint are
  merged into the tier the direction of handoffs gives them.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any, Optional

import pandas as pd

from . import vocabulary as V

DEFAULT_MAX_TEAMS = 10
_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_HINTS = [
    re.compile(r"(?<![A-Za-z0-9])([1-9])(?:st|nd|rd|th)(?![A-Za-z0-9])(?:[\s_-]*(?:line|level|tier))?",
               re.IGNORECASE),
    re.compile(r"(?<![A-Za-z0-9])L([1-9])(?![0-9])", re.IGNORECASE),
    re.compile(r"\b(?:tier|level|line)[\s_-]*([1-9])\b", re.IGNORECASE),
    re.compile(r"\b(first|second|third|fourth|fifth|sixth)[\s_-]+(?:line|level|tier)\b",
               re.IGNORECASE),
]
_AGENT_ACTS = V.INTERVAL_ACTIVITIES | {V.TAKEN, V.HELPER_JOINED}


def tier_hint(name: Any) -> Optional[int]:
    """The support line a name states (``G230 2nd`` -> 2, ``Tier 3`` -> 3), else None."""
    if not isinstance(name, str):
        return None
    for rx in _HINTS:
        m = rx.search(name)
        if m:
            g = m.group(1).lower()
            return _ORD[g] if g in _ORD else int(g)
    return None


def line_name(level: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(level if level < 20 else level % 10, "th")
    return f"{level}{suffix} line"


def apply_rules(name: str, rules) -> tuple[str, Optional[int]]:
    """First matching rule: its team name (template with \\1 or \\g<team>, else the regex's
    ``team`` group, else its first group, else the name) and tier (the rule's, else the
    regex's ``tier``/``line`` group)."""
    for rx, team, tier in rules:
        m = rx.search(name)
        if not m:
            continue
        gd = m.groupdict()
        if team is not None:
            new = m.expand(team)
        elif gd.get("team"):
            new = gd["team"]
        elif m.groups() and m.group(1):
            new = m.group(1)
        else:
            new = name
        if tier is None:
            for key in ("tier", "line"):
                text = gd.get(key)
                if text:            # '2', '2nd', 'L2', 'second line' ...
                    tier = int(text) if text.isdigit() and 0 < int(text) < 100 else tier_hint(text)
                    break
        return new.strip() or name, tier
    return name, None


def group_flow(df: pd.DataFrame) -> Counter:
    """Handoff counts between groups: consecutive different groups of a ticket's agent rows."""
    rows = df[df["activity"].isin(_AGENT_ACTS) & df["group"].notna()]
    rows = rows.sort_values(["case", "ts"], kind="stable")
    case = rows["case"].to_numpy(object)
    grp = rows["group"].to_numpy(object)
    same = (case[1:] == case[:-1]) & (grp[1:] != grp[:-1])
    return Counter(zip(grp[:-1][same], grp[1:][same]))


def copeland(teams: list[str], flow: Counter) -> dict[str, int]:
    score = {t: 0 for t in teams}
    for i, a in enumerate(teams):
        for b in teams[i + 1:]:
            net = flow[(a, b)] - flow[(b, a)]
            if net:
                score[a] -= 1 if net > 0 else -1
                score[b] += 1 if net > 0 else -1
    return score


def organise(df: pd.DataFrame, rules, max_teams: Optional[int], roles: dict[str, str],
             report) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rewrite, hint and merge the log's groups; returns the log with team names and the
    tier (support line) each team's name or rule states (teams without one are absent)."""
    groups = df["group"].dropna().unique().tolist()
    if not groups:
        return df, {}
    rename: dict[str, str] = {}
    level: dict[str, int] = {}
    hinted_by_role = 0
    for g in groups:
        new, tier = apply_rules(g, rules) if rules else (g, None)
        rename[g] = new
        tier = tier or tier_hint(new) or tier_hint(g)
        if tier is None and roles.get(g) is not None:
            tier = tier_hint(roles[g])
            hinted_by_role += tier is not None
        if tier is not None:
            level[new] = min(level.get(new, tier), tier)
    if rules:
        changed = sum(1 for g in groups if rename[g] != g)
        report.add(changed, f"groups renamed by the rewrite rules ({len(groups)} groups -> "
                   f"{len(set(rename.values()))} teams)")
    df = _rename(df, rename)
    teams = df["group"].dropna().unique().tolist()
    if level:
        report.add(len([t for t in teams if t in level]), "teams whose name (or agents' role"
                   f"{', ' + str(hinted_by_role) + ' by role' if hinted_by_role else ''}) states "
                   "their support line (2nd, 3rd, L2, Tier 3, level 2, second line ...): tiers "
                   "from the names")
    if max_teams is not None and len(teams) > max_teams:
        tickets = df.dropna(subset=["group"]).groupby("group")["case"].nunique()
        flow = group_flow(df)
        line = dict(level)
        by_flow: set[str] = set()
        missing = [t for t in teams if t not in line]
        if missing:       # no hint: the tier the direction of handoffs gives the group
            score = copeland(teams, flow)
            levels = sorted(set(score.values()))
            bins = min(max_teams, len(levels))
            for t in missing:
                if level:     # beside teams that state their line: at the line it outranks
                    line[t] = _place(t, score, level)
                else:         # no team states one: the handoffs' order, in at most N bins
                    line[t] = 1 + int(levels.index(score[t]) * bins / len(levels))
                    by_flow.add(t)
        merged: dict[str, str] = {}
        current = set(teams)
        for t in sorted(teams, key=lambda x: (tickets.get(x, 0), x)):
            if len(current) <= max_teams:
                break
            target = f"merged tier {line[t]}" if t in by_flow else line_name(line[t])
            if target == t:
                continue
            current.discard(t)
            current.add(target)
            merged[t] = target
        # groups merged by the handoffs' order alone are named after their largest member
        for target in {merged[t] for t in merged if t in by_flow}:
            members = [t for t in merged if merged[t] == target]      # smallest first
            name = f"{members[-1]} +{len(members) - 1} merged" if len(members) > 1 else members[0]
            current.discard(target)
            current.add(name)
            for t in members:
                merged[t] = name
        df = _rename(df, merged)
        for t, target in merged.items():     # every group merged into a line shares its level
            if t not in by_flow:             # (flow-ordered merges get their tier from the flow)
                level[target] = line[t]
        level = {t: v for t, v in level.items() if t in current}
        by_line = Counter(merged.values())
        report.add(len(merged), f"small groups merged into their line ({len(teams)} groups > "
                   f"--max-teams {max_teams}): " + ", ".join(
                       f"{n} into {tl}" for tl, n in sorted(by_line.items())))
    return df, level


def _place(team: str, score: dict[str, int], level: dict[str, int]) -> int:
    """A group without a hint sits at the line of the hinted teams it outranks by handoffs."""
    below = [level[t] for t in level if t in score and score[t] <= score[team]]
    return max(below) if below else min(level.values())


def _rename(df: pd.DataFrame, rename: dict[str, str]) -> pd.DataFrame:
    if not any(k != v for k, v in rename.items()):
        return df
    df = df.copy()
    for col in ("group", "from_team", "to_team"):
        if col in df:
            s = df[col]
            df[col] = s.map(lambda x: rename.get(x, x) if isinstance(x, str) else x).astype("string")
    return df


def dense_tiers(teams: list[str], level: dict[str, int], flow_tiers: dict[str, int]) -> dict[str, int]:
    """Tiers 1..k: the stated lines (densely renumbered) where there are any, the flow's
    order for teams without one; with no stated line at all, the flow's tiers."""
    if not level:
        return flow_tiers
    raw = {}
    for t in teams:
        if t in level:
            raw[t] = level[t]
        else:
            below = [level[u] for u in level if u in flow_tiers and flow_tiers[u] <= flow_tiers[t]]
            raw[t] = max(below) if below else min(level.values())
    ranks = sorted(set(raw.values()))
    return {t: ranks.index(raw[t]) + 1 for t in teams}


def role_map(df: pd.DataFrame) -> dict[str, str]:
    """Each group's most frequent role (a role column, e.g. ``org:role``)."""
    if "role" not in df or not df["role"].notna().any():
        return {}
    sub = df.dropna(subset=["group", "role"])
    return {g: s.value_counts().index[0] for g, s in sub.groupby("group")["role"]}


__all__ = ["DEFAULT_MAX_TEAMS", "apply_rules", "dense_tiers", "line_name", "organise",
           "role_map", "tier_hint"]
