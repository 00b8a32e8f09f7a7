"""Status-based ticket logs: rows that record a ticket *entering a status*, turned into activities.

Most ITSM exports (ServiceNow, the public BPI incident logs, Jira histories) do not log
activities with a start and an end; they log status changes - ``Queued/Awaiting Assignment``,
``Accepted/In Progress``, ``Accepted/Wait - User``, ``Completed/Resolved`` - with the group and
person the ticket is with. A status lasts until the ticket's next row. What that time was:

- a *work* status (in progress, assigned, ...): agent work of the row's group and resource;
- a *queue* status (queued, awaiting assignment, new, ...): queueing for the row's group;
- a *customer-wait* status (wait - user, pending, on hold, ...): neither (customer wait);
- *resolved* (resolved, closed, completed, ...) ends the ticket; *cancelled* ends it unresolved.

Effort, not elapsed time: an agent with several tickets in work statuses at once works on all of
them, so each gets its share of the agent's time (processor sharing - at any moment each of the k
open tickets gets 1/k of the agent). A ticket's work interval is written with that share as its
length, so nothing downstream calibrates an agent busier than the clock allows.

Within one episode (between reopens) the work of groups other than the one that did the last
work is ``diagnosed`` (they found they could not resolve it and passed it on), the last group's
is ``worked`` - the simulator's meaning of the two activities.
"""
from __future__ import annotations

import re
from typing import Any, Optional

import numpy as np
import pandas as pd

from . import vocabulary as V

WORK, QUEUE, CUSTOMER_WAIT, RESOLVED, CANCELLED = (
    "work", "queue", "customer_wait", "resolved", "cancelled")
STATUS_CLASSES: tuple[str, ...] = (WORK, QUEUE, CUSTOMER_WAIT, RESOLVED, CANCELLED)

#: common status names (normalised: lower case, single spaces, " - " around dashes)
BUILTIN_STATUSES: dict[str, str] = {
    **{k: WORK for k in (
        "in progress", "assigned", "accepted", "work in progress", "wip", "active", "working",
        "in work", "investigating", "in analysis", "under investigation", "being worked",
        "in process", "processing", "open - in progress", "in development", "in review")},
    **{k: QUEUE for k in (
        "queued", "awaiting assignment", "unassigned", "new", "open", "registered", "logged",
        "to do", "todo", "backlog", "waiting for support", "waiting for agent", "escalated",
        "reassigned", "awaiting support", "submitted", "triage", "pending assignment")},
    **{k: CUSTOMER_WAIT for k in (
        "wait", "waiting", "pending", "on hold", "hold", "wait - user", "wait - customer",
        "wait - vendor", "wait - implementation", "wait - 3rd party", "wait - third party",
        "awaiting customer", "awaiting user", "awaiting vendor", "awaiting info",
        "waiting for customer", "waiting on customer", "waiting for user", "waiting for vendor",
        "pending customer", "pending user", "pending vendor", "pending change", "suspended")},
    **{k: RESOLVED for k in (
        "resolved", "closed", "completed", "complete", "done", "solved", "fixed", "in call",
        "finished")},
    **{k: CANCELLED for k in (
        "cancelled", "canceled", "withdrawn", "rejected", "abandoned", "duplicate", "void")},
}
_WAIT_PREFIX = re.compile(r"^(wait|waiting|pending|on hold|awaiting (customer|user|vendor|info))\b")


def norm_status(name: Any) -> str:
    text = re.sub(r"\s*-\s*", " - ", str(name).strip().lower())
    return re.sub(r"[\s_]+", " ", text)


def classify(text: Any, custom: dict[str, str]) -> Optional[str]:
    """Class of a status text; combined ``Main/Sub`` texts are tried whole, then sub, then main."""
    if text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
        return None
    whole = norm_status(text)
    parts = [whole] + ([p.strip() for p in reversed(whole.split("/"))] if "/" in whole else [])
    for table in (custom, BUILTIN_STATUSES):
        for part in parts:
            if part in table:
                return table[part]
    for part in parts:
        if _WAIT_PREFIX.match(part):
            return CUSTOMER_WAIT
    return None


def status_text(df: pd.DataFrame, has_status: bool, lifecycle_is_status: bool) -> pd.Series:
    """The status of each row: activity and status (or lifecycle) combined where the log
    splits them (``Accepted`` + ``In Progress`` -> ``Accepted/In Progress``)."""
    act = df["raw_activity"].astype("string")
    sub = None
    if has_status:
        sub = df["status"].astype("string")
    elif lifecycle_is_status:
        sub = df["raw_lifecycle"].astype("string")
    if sub is None:
        return act
    both = act.notna() & sub.notna()
    out = act.where(sub.isna(), sub)
    return out.where(~both, act + "/" + sub)


def detect(df: pd.DataFrame, mapping, has_status: bool, has_start: bool,
           has_lifecycle: bool) -> tuple[bool, bool, str]:
    """Is this a status log?  Returns (status log, lifecycle column holds statuses, why)."""
    from .reader import XES_LIFECYCLE, _KNOWN

    lc = df["raw_lifecycle"].dropna().astype(str).str.strip().str.lower()
    lifecycle_is_status = has_lifecycle and len(lc) > 0 and (~lc.isin(XES_LIFECYCLE)).mean() >= 0.5
    if mapping.statuses:
        return True, lifecycle_is_status, "the mapping has a statuses: section"
    if has_status:
        return True, False, f"the log has a status column ({mapping.columns['status']!r})"
    if lifecycle_is_status:
        return True, True, "lifecycle:transition holds statuses, not start/complete"
    if has_start or (lc == "start").any():
        return False, False, ""
    raw = df["raw_activity"].astype(str)
    uniq = raw.value_counts()
    native = sum(c for a, c in uniq.items()
                 if re.sub(r"[\s_]+", "_", a.strip().lower()) in _KNOWN or
                 re.sub(r"[\s_]+", " ", a.strip().lower()) in mapping.activities)
    cls = {a: classify(a, mapping.statuses) for a in uniq.index}
    classified = sum(c for a, c in uniq.items() if cls[a] is not None)
    has_work = any(cls[a] == WORK for a in uniq.index)
    n = int(uniq.sum())
    if has_work and native < 0.5 * n and classified >= 0.5 * n:
        return True, False, "most activity names are statuses and no row has a duration"
    return False, False, ""


def shared_effort(resource: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Each interval's share of its agent's time: at every moment each of the agent's k open
    intervals gets 1/k.  Intervals without an agent keep their elapsed length.

    F(t) = integral of 1/k(u) over the agent's busy time up to t; an interval's share is
    F(end) - F(start) (it is open throughout, so k >= 1 on all of it)."""
    effort = end - start
    if not len(start):
        return effort
    res = pd.Series(resource, dtype=object)
    named = res.notna().to_numpy()
    codes, _ = pd.factorize(res[named])
    idx_named = np.flatnonzero(named)
    order = np.argsort(codes, kind="stable")
    codes_sorted = codes[order]
    bounds = np.flatnonzero(np.diff(codes_sorted)) + 1
    for grp in np.split(order, bounds):
        rows = idx_named[grp]
        s, e = start[rows], end[rows]
        pts = np.unique(np.concatenate([s, e]))
        delta = np.zeros(len(pts))
        np.add.at(delta, np.searchsorted(pts, s), 1.0)
        np.add.at(delta, np.searchsorted(pts, e), -1.0)
        k = np.cumsum(delta)[:-1]
        seg = np.diff(pts)
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.where(k > 0.5, seg / np.maximum(k, 1.0), 0.0)
        F = np.concatenate([[0.0], np.cumsum(inc)])
        effort[rows] = F[np.searchsorted(pts, e)] - F[np.searchsorted(pts, s)]
    return effort


def status_events(df: pd.DataFrame, mapping, report, why: str,
                  lifecycle_is_status: bool, has_status: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Status rows -> supportsim activities (created, queued, taken, worked, diagnosed, resolved,
    abandoned, reopened) and per-ticket facts (minutes queued, in customer wait, elapsed in
    work statuses).  Rows with a status of no known class are counted and ignored."""
    text = status_text(df, has_status, lifecycle_is_status)
    uniq = {t: classify(t, mapping.statuses) for t in text.dropna().unique()}
    cls = text.map(uniq)
    report.add(None, f"status-based log ({why}): time in work statuses = agent work (shared "
               "among an agent's open tickets), queue statuses = queueing, customer-wait "
               "statuses = neither, resolved/closed end the ticket")
    counts = text.groupby(cls.fillna("?")).size()
    report.add(None, "rows by status class: " + ", ".join(
        f"{k} {int(counts.get(k, 0))}" for k in STATUS_CLASSES) + "; examples: " + "; ".join(
        f"{c}: " + ", ".join(sorted({t for t, k in uniq.items() if k == c}, key=str)[:3])
        for c in STATUS_CLASSES if any(k == c for k in uniq.values())))
    unknown = cls.isna()
    if unknown.any():
        names = text[unknown].value_counts().index[:5]
        report.problem(int(unknown.sum()), "rows with a status of no known class (ignored; the "
                       "previous status goes on): " + ", ".join(map(str, names)) +
                       (" ..." if text[unknown].nunique() > 5 else "") +
                       "; classify them in the mapping's statuses: section")
        report.rows_ignored += int(unknown.sum())
    cases_before = df["case"].nunique()
    df = df.assign(cls=cls)[~unknown]
    report.cases_dropped += cases_before - df["case"].nunique()
    df = df.sort_values(["case", "ts"], kind="stable").reset_index(drop=True)
    t0 = df["ts"].min()
    log_end_min = float((df["ts"].max() - t0).total_seconds() / 60.0)
    tmin = ((df["ts"] - t0).dt.total_seconds() / 60.0).to_numpy()
    case = df["case"].to_numpy(dtype=object)
    kls = df["cls"].to_numpy(dtype=object)
    group = df["group"].to_numpy(dtype=object)
    resource = df["resource"].to_numpy(dtype=object)
    issue = df["issue"].to_numpy(dtype=object)
    segment = df["segment"].to_numpy(dtype=object)
    bounds = np.flatnonzero(case[1:] != case[:-1]) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(case)]])

    ev: dict[str, list] = {k: [] for k in ("case", "activity", "t", "s", "open", "resource",
                                            "group", "issue", "segment")}
    work_rows: list[int] = []        # event index of each work interval, for effort sharing
    facts = []

    def emit(c, act, t, s, is_open, res, grp, iss, seg) -> int:
        ev["case"].append(c)
        ev["activity"].append(act)
        ev["t"].append(t)
        ev["s"].append(s)
        ev["open"].append(is_open)
        ev["resource"].append(res)
        ev["group"].append(grp)
        ev["issue"].append(iss)
        ev["segment"].append(seg)
        return len(ev["case"]) - 1

    def na(x):
        return None if x is None or x is pd.NA or (isinstance(x, float) and x != x) else x

    for s0, e0 in zip(starts, ends):
        c = case[s0]
        iss = next((na(x) for x in issue[s0:e0] if na(x) is not None), None)
        seg = next((na(x) for x in segment[s0:e0] if na(x) is not None), None)
        emit(c, V.CREATED, tmin[s0], np.nan, False, None, na(group[s0]), iss, seg)
        queue_min = wait_min = elapsed = 0.0
        prev_cls, prev_grp, prev_res, done = None, None, None, False
        sessions: list[tuple[int, int, Any]] = []    # (event index, episode, group)
        episode = 0
        for i in range(s0, e0):
            k, g, r = kls[i], na(group[i]), na(resource[i])
            t = tmin[i]
            nxt = tmin[i + 1] if i + 1 < e0 else None
            last = nxt is None
            if k in (WORK, QUEUE) and done:
                emit(c, V.REOPENED, t, np.nan, False, None, g, iss, seg)
                done, episode = False, episode + 1
                prev_cls = None
            if k == WORK:
                if prev_cls != WORK or g != prev_grp or r != prev_res:
                    emit(c, V.TAKEN, t, np.nan, False, r, g, iss, seg)
                end = log_end_min if last else nxt
                j = emit(c, V.WORKED, end, t, last, r, g, iss, seg)
                work_rows.append(j)
                sessions.append((j, episode, g))
                elapsed += end - t
            elif k == QUEUE:
                if prev_cls != QUEUE or g != prev_grp:
                    emit(c, V.QUEUED, t, np.nan, False, None, g, iss, seg)
                queue_min += (log_end_min if last else nxt) - t
            elif k == CUSTOMER_WAIT:
                wait_min += (log_end_min if last else nxt) - t
            elif k in (RESOLVED, CANCELLED):
                if not done:
                    emit(c, V.RESOLVED if k == RESOLVED else V.ABANDONED, t, np.nan, False, r,
                         g if g is not None else prev_grp, iss, seg)
                done = True
            prev_cls, prev_grp, prev_res = k, g, r
        # work of groups other than the episode's last worker: they diagnosed and passed it on
        last_group: dict[int, Any] = {}
        for j, ep, g in sessions:
            last_group[ep] = g
        for j, ep, g in sessions:
            if g != last_group[ep]:
                ev["activity"][j] = V.DIAGNOSED
        facts.append((c, queue_min, wait_min, elapsed))

    t_arr = np.asarray(ev["t"], float)
    s_arr = np.asarray(ev["s"], float)
    if work_rows:
        w = np.asarray(work_rows)
        eff = shared_effort(np.asarray(ev["resource"], object)[w], s_arr[w], t_arr[w])
        is_open = np.asarray(ev["open"], bool)[w]
        # a finished interval ends at start + its share; a running one is known by its start
        t_arr[w] = np.where(is_open, s_arr[w], s_arr[w] + eff)
    base = t0
    out = pd.DataFrame({
        "case": ev["case"], "activity": ev["activity"],
        "ts": base + pd.to_timedelta(t_arr, unit="min"),
        "start": base + pd.to_timedelta(s_arr, unit="min"),
        "lifecycle": np.where(np.asarray(ev["open"], bool), V.LIFECYCLE_START, V.LIFECYCLE_COMPLETE),
        "resource": pd.array(ev["resource"], dtype="string"),
        "group": pd.array(ev["group"], dtype="string"),
        "issue": pd.array(ev["issue"], dtype="string"),
        "segment": pd.array(ev["segment"], dtype="string"),
        "cost": np.nan, "from_team": pd.NA, "to_team": pd.NA,
        "open_activity": np.asarray(ev["open"], bool),
    })
    out["ts"] = out["ts"].astype("datetime64[ns, UTC]")
    out["start"] = out["start"].astype("datetime64[ns, UTC]")
    fact = pd.DataFrame(facts, columns=["case", "queue_min", "customer_wait_min",
                                        "work_elapsed_min"])
    if work_rows:
        w = np.asarray(work_rows)
        shared = float(np.nansum(t_arr[w] - s_arr[w]))
        total = float(fact["work_elapsed_min"].sum())
        if total > 0:
            report.add(None, f"effort: {shared / 60:.0f} agent-hours of work out of {total / 60:.0f} "
                       f"hours in work statuses ({shared / total:.0%}; agents with several tickets "
                       "open at once share their time among them)")
        if not out["resource"].notna().any():
            report.add(None, "ASSUMPTION: no agent named in the log: time in work statuses "
                       "counted in full as work (effort cannot be shared)")
    waits = fact["customer_wait_min"]
    waited = waits[waits > 0]
    report.add(int(len(waited)), f"tickets that waited for the customer (or a vendor): median "
               f"{waited.median() / 60 if len(waited) else 0:.1f} hours each, not counted as work "
               "or queueing (the model has no customer waits: its resolution times leave them out)")
    return out.sort_values(["case", "ts"], kind="stable").reset_index(drop=True), fact
