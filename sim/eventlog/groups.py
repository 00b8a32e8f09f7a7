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


def matching_rule(name: str, rules) -> Optional[int]:
    """Index of the first rule whose regex matches ``name`` (the one :func:`apply_rules` applies)."""
    for i, (rx, _, _) in enumerate(rules):
        if rx.search(name):
            return i
    return None


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
             report, sources: Optional[list[str]] = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rewrite, hint and merge the log's groups; returns the log with team names and the
    tier (support line) each team's name or rule states (teams without one are absent).

    ``sources``: where each rule came from (``--group-pattern``, ``FILE: groups[i]``).  A rule
    that renames groups of *different* support lines into one team is refused
    (:func:`check_line_merges`), unless a mapping rule sets that team's tier itself."""
    groups = df["group"].dropna().unique().tolist()
    if not groups:
        return df, {}
    rename: dict[str, str] = {}
    level: dict[str, int] = {}
    own_line: dict[str, Optional[int]] = {}       # the line each group states on its own
    hinted_by_role = 0
    for g in groups:
        new, tier = apply_rules(g, rules) if rules else (g, None)
        rename[g] = new
        explicit = rules[matching_rule(g, rules)][2] if rules and matching_rule(g, rules) is not None else None
        own_line[g] = (tier if explicit is None else None) or tier_hint(g)
        tier = tier or tier_hint(new) or tier_hint(g)
        if tier is None and roles.get(g) is not None:
            tier = tier_hint(roles[g])
            hinted_by_role += tier is not None
            own_line[g] = own_line[g] or tier
        if tier is not None:
            level[new] = min(level.get(new, tier), tier)
    if rules:
        changed = sum(1 for g in groups if rename[g] != g)
        report.add(changed, f"groups renamed by the rewrite rules ({len(groups)} groups -> "
                   f"{len(set(rename.values()))} teams)")
        check_line_merges(groups, rename, own_line, level, rules, sources or [], report)
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


def check_line_merges(groups: list[str], rename: dict[str, str], own_line: dict[str, Optional[int]],
                      level: dict[str, int], rules, sources: list[str], report) -> None:
    """Refuse a rewrite that merges groups of different support lines into one team.

    Why an error and not a guess: a team is one line in the model - tiered routing starts
    at tier 1 and escalates upwards - so a team holding a 1st- and a 3rd-line group takes
    both lines' work at the lowest tier, and every escalation between them vanishes (no
    handoffs, no tier reached): the calibrated organisation and any policy comparison on it
    would describe something else.  A mapping-file rule that sets ``tier:`` states the
    merged team's line on purpose: accepted, with a WARNING line naming what it merged.
    """
    members: dict[str, list[str]] = {}
    for g in groups:
        members.setdefault(rename[g], []).append(g)
    refused, accepted = [], []
    for team, gs in members.items():
        lines = {own_line[g] for g in gs if own_line.get(g) is not None}
        if len(gs) < 2 or len(lines) < 2:
            continue
        idx = [matching_rule(g, rules) for g in gs]
        explicit = {rules[i][2] for i in idx if i is not None}
        whence = sorted({sources[i] if i is not None and i < len(sources) else "the rewrite rules"
                         for i in idx if i is not None})
        if None not in explicit and len(explicit) == 1:
            accepted.append((team, gs, whence))
        else:
            refused.append((team, gs, whence))

    def listing(team: str, gs: list[str]) -> str:
        shown = sorted(gs, key=lambda g: (own_line.get(g) or 0, g))
        text = ", ".join(f"{g} (line {own_line[g]})" if own_line.get(g) else f"{g} (no line)"
                         for g in shown[:4])
        return f"{team} <- {text}" + (f" +{len(shown) - 4} more" if len(shown) > 4 else "")

    for team, gs, whence in accepted:
        report.add(len(gs), f"WARNING: {', '.join(whence)} merges groups of different support lines "
                   f"into one team ({listing(team, gs)}); its tier {level.get(team)} is the one the "
                   "rule sets, and escalations between those groups are not modelled")
    if refused:
        from .reader import LogError

        teams = "; ".join(listing(t, gs) for t, gs, _ in refused[:2])
        more = f" (and {len(refused) - 2} more teams)" if len(refused) > 2 else ""
        whence = ", ".join(sorted({w for _, _, ws in refused for w in ws}))
        raise LogError(f"{whence}: merges groups of different support lines into one team: {teams}{more}; "
                       "a team must be one support line (the model escalates between lines): keep the "
                       "line in the team's name (e.g. a (?P<team>...) group that includes it), leave "
                       "merging to --max-teams (it merges small groups within their line), or set the "
                       "merged team's tier on purpose with a mapping-file rule "
                       "(groups: [{match: REGEX, team: NAME, tier: N}])")


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


__all__ = ["DEFAULT_MAX_TEAMS", "apply_rules", "check_line_merges", "dense_tiers", "line_name",
           "matching_rule", "organise", "role_map", "tier_hint"]
