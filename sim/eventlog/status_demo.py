"""A status-based incident export made from known parameters, to try and test calibrate on.

It looks like the public ITSM incident logs: one row per status change (``Queued/Awaiting
Assignment``, ``Accepted/In Progress``, ``Accepted/Wait - User``, ``Completed/Resolved``,
``Completed/Closed``), support groups whose names carry their line (``G230 2nd``, ``V5 3rd``),
agents who keep several tickets in progress at once, customer waits, and the shape of a
snapshot extract (tickets still open from long ago, nearly all creations in the last weeks).

How it is made (deterministic for a seed; no simulator involved, so calibrate is checked
against parameters it did not share code with):

- tickets arrive as a Poisson process at the 1st line; each has an issue type with a tier and a
  log-normal effort; a line below the issue's tier spends an exponential diagnose effort and
  passes it to a group of the next line (chosen in proportion to its agents);
- each group has a FIFO queue; an agent holds up to ``concurrency`` tickets in progress and
  shares their time equally (processor sharing), so a ticket's *effort* is exactly its share
  of the agent's time, while its time *in progress* is longer;
- at the resolving line a share of tickets stops halfway for the customer (or a vendor): the
  agent lets it go, and the ticket rejoins the group's queue when the customer answers (a few
  customers never answer: cancelled);
- resolved tickets are closed a while later; the export holds every ticket with a row in the
  extract's weeks (so a few started before) plus some long-open legacy tickets closed in them.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

COLUMNS = ["Incident ID", "Change Date+Time", "Status", "Sub Status", "Involved ST",
           "Owner First Name", "Impact", "Product"]
MAPPING_YAML = """\
# Mapping for examples/status_log.csv (a status-based incident export): which column is which.
# The statuses themselves (Accepted/In Progress, Queued/Awaiting Assignment, Accepted/Wait - User,
# Completed/Resolved, Completed/Closed, Completed/Cancelled) are recognised without a mapping.
columns: {case: Incident ID, timestamp: Change Date+Time, activity: Status, status: Sub Status,
          group: Involved ST, resource: Owner First Name, issue: Product, segment: Impact}
timezone: UTC
"""


@dataclass
class Params:
    per_hour: float = 6.0
    window_days: float = 21.0
    pre_days: float = 4.0            # simulated before the extract's weeks (a busy start)
    start: str = "2026-03-02"        # first day of the extract's weeks (a Monday)
    issues: tuple = (("access", 0.5, 1, 30.0, 0.8), ("application", 0.35, 2, 90.0, 0.8),
                     ("infrastructure", 0.15, 3, 240.0, 0.8))   # name, share, tier, mean, cv
    diagnose: tuple = (15.0, 30.0)   # exponential mean effort of a line passing a ticket on
    groups: tuple = (("S1 1st", 1, 2), ("S2 1st", 1, 1),
                     ("G230 2nd", 2, 2), ("G97 2nd", 2, 1), ("G51 2nd", 2, 1), ("N12 2nd", 2, 1),
                     ("V5 3rd", 3, 1), ("V13 3rd", 3, 1), ("E4 3rd", 3, 1), ("E9 3rd", 3, 1),
                     ("D2 3rd", 3, 1), ("A1 3rd", 3, 1))          # name, line, agents
    concurrency: int = 3             # tickets an agent keeps in progress at once
    wait_share: float = 0.3          # resolving-line tickets that wait for the customer
    wait_mean: float = 240.0         # minutes
    never_answer: float = 0.05       # of those, customers who never answer (cancelled)
    close_mean: float = 1440.0       # minutes from resolved to closed
    impacts: tuple = (("High", 0.1), ("Medium", 0.5), ("Low", 0.4))
    legacy: int = 40                 # long-open tickets from the year before, closed in the extract
    legacy_days: float = 400.0


@dataclass
class Truth:
    params: Params
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    tickets_in_window: int
    effort: dict[str, list[float]] = field(default_factory=dict)   # issue -> efforts drawn
    concurrent_share: float = 0.0    # share of in-progress time an agent had >1 ticket open


_NAMES = ["Anna", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jon", "Kai",
          "Lena", "Mo", "Nora", "Omar", "Pia", "Quinn", "Rui", "Sara", "Tom", "Uma", "Vik", "Wen"]


def status_log(params: Params | None = None, seed: int = 2026) -> tuple[pd.DataFrame, Truth]:
    """The export as strings (CSV-ready) and the parameters and draws it was made from."""
    p = params or Params()
    rng = np.random.default_rng(seed)
    t_window = p.pre_days * 1440.0
    t_end = t_window + p.window_days * 1440.0
    origin = pd.Timestamp(p.start, tz="UTC") - pd.Timedelta(days=p.pre_days)
    groups = [g[0] for g in p.groups]
    line_of = {g[0]: g[1] for g in p.groups}
    agents: list[tuple[str, str]] = []          # (name, group)
    k = 0
    for name, _line, n in p.groups:
        for _ in range(n):
            agents.append((f"{_NAMES[k % len(_NAMES)]} {chr(65 + k // len(_NAMES))}.", name))
            k += 1
    by_group = {g: [i for i, a in enumerate(agents) if a[1] == g] for g in groups}
    lines = sorted({g[1] for g in p.groups})
    weights = {ln: np.array([g[2] for g in p.groups if g[1] == ln], float) for ln in lines}
    members = {ln: [g[0] for g in p.groups if g[1] == ln] for ln in lines}

    rows: list[tuple] = []          # (case, minute, status, sub, group, owner)
    info: dict[int, tuple[str, str]] = {}       # ticket -> (impact, product)
    effort_drawn: dict[str, list[float]] = {i[0]: [] for i in p.issues}
    shares = np.array([i[1] for i in p.issues])
    impacts = [x[0] for x in p.impacts]
    imp_p = np.array([x[1] for x in p.impacts])

    # ticket state: stage list [(line, effort, is_work)], current stage index, remaining
    tickets: dict[int, dict] = {}
    queues: dict[str, list[int]] = {g: [] for g in groups}
    active: list[dict[int, float]] = [dict() for _ in agents]   # agent -> {ticket: remaining}
    last_t = [0.0] * len(agents)
    version = [0] * len(agents)
    heap: list[tuple] = []
    seq = 0
    overlap = [0.0, 0.0]        # minutes with >1 ticket, minutes with >=1 ticket (agents)

    def push(t, kind, *data):
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, kind, data))

    def advance(a: int, now: float) -> None:
        dt = now - last_t[a]
        n = len(active[a])
        if n and dt > 0:
            for tk in active[a]:
                active[a][tk] -= dt / n
            overlap[1] += dt
            if n > 1:
                overlap[0] += dt
        last_t[a] = now

    def reschedule(a: int, now: float) -> None:
        version[a] += 1
        if active[a]:
            n = len(active[a])
            tk = min(active[a], key=lambda x: active[a][x])
            push(now + max(active[a][tk], 0.0) * n, "done", a, version[a])

    def enqueue(tk: int, group: str, now: float) -> None:
        tickets[tk]["group"] = group
        rows.append((tk, now, "Queued", "Awaiting Assignment", group, ""))
        queues[group].append(tk)
        dispatch(group, now)

    def dispatch(group: str, now: float) -> None:
        while queues[group]:
            free = [a for a in by_group[group] if len(active[a]) < p.concurrency]
            if not free:
                return
            a = min(free, key=lambda x: (len(active[x]), x))
            tk = queues[group].pop(0)
            advance(a, now)
            active[a][tk] = tickets[tk]["remaining"]
            tickets[tk]["agent"] = a
            rows.append((tk, now, "Accepted", "In Progress", group, agents[a][0]))
            reschedule(a, now)

    def start_stage(tk: int, now: float) -> None:
        t = tickets[tk]
        line, eff, is_work = t["stages"][t["stage"]]
        t["remaining"] = eff
        t["split"] = None
        if is_work and rng.random() < p.wait_share:
            f = float(rng.uniform(0.2, 0.8))
            t["split"] = eff * (1 - f)
            t["remaining"] = eff * f
        grp = members[line][int(rng.choice(len(members[line]), p=weights[line] / weights[line].sum()))]
        enqueue(tk, grp, now)

    # arrivals over the whole simulated span
    t = float(rng.exponential(60.0 / p.per_hour))
    n_arr = 0
    while t < t_end:
        push(t, "arrive", n_arr)
        n_arr += 1
        t += float(rng.exponential(60.0 / p.per_hour))
    while heap:
        now, _s, kind, data = heapq.heappop(heap)
        if now > t_end:
            break
        if kind == "arrive":
            tk = data[0]
            i = int(rng.choice(len(p.issues), p=shares))
            name, _sh, tier, mean, cv = p.issues[i]
            s2 = math.log(1 + cv * cv)
            eff = float(rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2)))
            stages = [(ln, float(rng.exponential(p.diagnose[ln - 1])), False)
                      for ln in lines if ln < tier] + [(tier, eff, True)]
            if now >= t_window:
                effort_drawn[name].append(eff)
            tickets[tk] = {"stages": stages, "stage": 0, "created": now}
            info[tk] = (impacts[int(rng.choice(len(impacts), p=imp_p))], name)
            start_stage(tk, now)
        elif kind == "done":
            a, ver = data
            if ver != version[a]:
                continue
            advance(a, now)
            tk = min(active[a], key=lambda x: active[a][x])
            del active[a][tk]
            tkt = tickets[tk]
            group = agents[a][1]
            line, _eff, is_work = tkt["stages"][tkt["stage"]]
            if is_work and tkt["split"] is not None:        # stops for the customer
                sub = str(rng.choice(["Wait - User", "Wait - Vendor", "Wait - Implementation"],
                                     p=[0.7, 0.2, 0.1]))
                rows.append((tk, now, "Accepted", sub, group, agents[a][0]))
                tkt["remaining"], tkt["split"] = tkt["split"], None
                if rng.random() < p.never_answer:
                    push(now + float(rng.exponential(p.wait_mean * 3)), "cancel", tk)
                else:
                    push(now + float(rng.exponential(p.wait_mean)), "answer", tk, group)
            elif is_work:
                rows.append((tk, now, "Completed", "Resolved", group, agents[a][0]))
                push(now + float(rng.exponential(p.close_mean)), "close", tk, group, agents[a][0])
            else:
                tkt["stage"] += 1
                start_stage(tk, now)
            reschedule(a, now)
            dispatch(group, now)
        elif kind == "answer":
            tk, group = data
            enqueue(tk, group, now)
        elif kind == "cancel":
            tk = data[0]
            rows.append((tk, now, "Completed", "Cancelled", tickets[tk]["group"], ""))
        elif kind == "close":
            tk, group, owner = data
            rows.append((tk, now, "Completed", "Closed", group, owner))

    log = pd.DataFrame(rows, columns=["tk", "t", "Status", "Sub Status", "Involved ST",
                                      "Owner First Name"])
    log["tk"] = log["tk"].astype(np.int64)
    created = pd.Series({tk: v["created"] for tk, v in tickets.items()})
    # the extract: every ticket with a row in its weeks, each row up to its end
    touched = log.loc[log["t"] >= t_window, "tk"].unique()
    log = log[log["tk"].isin(touched) & (log["t"] <= t_end)].copy()
    in_window = int(((created >= t_window) & (created <= t_end)).sum())
    # legacy tickets: created long before, worked once, waiting on the user, closed in the extract
    legacy = []
    s1 = [g for g in groups if line_of[g] == lines[0]][0]
    owner = agents[by_group[s1][0]][0]
    access = p.issues[0]
    s2 = math.log(1 + access[4] ** 2)
    for j in range(p.legacy):
        tk = 10_000_000 + j
        t0 = t_window - float(rng.uniform(p.pre_days * 1440.0 + 1440.0, p.legacy_days * 1440.0))
        eff = float(rng.lognormal(math.log(access[3]) - s2 / 2, math.sqrt(s2)))
        legacy += [(tk, t0, "Queued", "Awaiting Assignment", s1, ""),
                   (tk, t0 + 30.0, "Accepted", "In Progress", s1, owner),
                   (tk, t0 + 30.0 + eff, "Accepted", "Wait - User", s1, owner),
                   (tk, float(rng.uniform(t_window, t_end)), "Completed", "Closed", s1, owner)]
        info[tk] = (impacts[int(rng.choice(len(impacts), p=imp_p))], access[0])
    log = pd.concat([log, pd.DataFrame(legacy, columns=log.columns)], ignore_index=True)
    log = log.sort_values(["t", "tk"], kind="stable").reset_index(drop=True)
    stamp = origin + pd.to_timedelta(log["t"].to_numpy(), unit="min")
    out = pd.DataFrame({
        "Incident ID": log["tk"].map(lambda x: f"IM{x:08d}"),
        "Change Date+Time": pd.Series(stamp).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(),
        "Status": log["Status"].to_numpy(), "Sub Status": log["Sub Status"].to_numpy(),
        "Involved ST": log["Involved ST"].to_numpy(),
        "Owner First Name": log["Owner First Name"].to_numpy(),
        "Impact": log["tk"].map(lambda x: info[x][0]).to_numpy(),
        "Product": log["tk"].map(lambda x: info[x][1]).to_numpy(),
    }, columns=COLUMNS)
    truth = Truth(p, origin + pd.Timedelta(minutes=t_window), origin + pd.Timedelta(minutes=t_end),
                  in_window, effort_drawn,
                  overlap[0] / overlap[1] if overlap[1] else 0.0)
    return out, truth
