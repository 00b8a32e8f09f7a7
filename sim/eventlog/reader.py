"""Reading ticket event logs as real exports look: CSV, Parquet or XES, with a column mapping.

Real exports (ServiceNow, Jira, Zendesk, ...) have their own column and
activity names, duplicate rows, activities that started but never ended,
tickets still open, clocks that disagree and mixed time zones.  The reader
maps columns and activity names onto :mod:`.vocabulary`, normalises every
timestamp to UTC and repairs what it can - and counts every repair in a
:class:`Report`, so a consultant sees exactly how much of the log was usable.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import pandas as pd

from . import vocabulary as V
from .safe import comment_text, uncsv_cell

#: canonical field -> default column (the process-mining names the exporter writes)
DEFAULT_COLUMNS: dict[str, str] = {
    "case": V.CASE, "activity": V.ACTIVITY, "timestamp": V.TIMESTAMP, "start": V.START,
    "lifecycle": V.LIFECYCLE, "resource": V.RESOURCE, "group": V.GROUP, "issue": V.ISSUE,
    "segment": V.SEGMENT, "cost": V.COST, "from_team": V.FROM_TEAM, "to_team": V.TO_TEAM,
    "status": "status", "role": "org:role",
}
REQUIRED = ("case", "activity", "timestamp")

#: common activity names in ticketing exports -> vocabulary (lower-cased, spaces/underscores alike)
BUILTIN_ALIASES: dict[str, str] = {
    "ticket created": V.CREATED, "create": V.CREATED, "new": V.CREATED, "opened": V.CREATED,
    "open": V.CREATED, "ticket opened": V.CREATED, "submitted": V.CREATED,
    "assigned": V.TAKEN, "accepted": V.TAKEN, "in progress": V.TAKEN, "take": V.TAKEN,
    "work": V.WORKED, "working": V.WORKED, "work on ticket": V.WORKED,
    "diagnose": V.DIAGNOSED, "triage": V.DIAGNOSED, "investigate": V.DIAGNOSED,
    "handoff": V.HANDED_OFF, "hand off": V.HANDED_OFF, "escalated": V.HANDED_OFF,
    "escalate": V.HANDED_OFF, "escalation": V.HANDED_OFF, "reassigned": V.HANDED_OFF,
    "repeat": V.REPEATED, "customer repeated": V.REPEATED,
    "resolve": V.RESOLVED, "solved": V.RESOLVED, "closed": V.RESOLVED, "close": V.RESOLVED,
    "ticket closed": V.RESOLVED, "ticket resolved": V.RESOLVED, "done": V.RESOLVED,
    "abandon": V.ABANDONED, "cancelled": V.ABANDONED, "canceled": V.ABANDONED,
    "withdrawn": V.ABANDONED, "reopen": V.REOPENED, "re-opened": V.REOPENED,
}
_KNOWN = set(V.ACTIVITIES)
#: lifecycle values of the XES standard lifecycle model: anything else there is a status
XES_LIFECYCLE = frozenset({"start", "complete", "schedule", "assign", "reassign", "resume",
                           "suspend", "autoskip", "manualskip", "withdraw", "ate_abort",
                           "pi_abort", "unknown"})
#: pandas' nanosecond clock covers 1677-09-21 .. 2262-04-11; a date outside is a typo
TS_MIN = pd.Timestamp("1678-01-01", tz="UTC")
TS_MAX = pd.Timestamp("2261-12-31", tz="UTC")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


class LogError(ValueError):
    """The log cannot be used at all (one line for the user, exit 2)."""


@dataclass
class Mapping:
    """Which column holds which field, how activities are named, and the zone of naive times."""

    columns: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_COLUMNS))
    activities: dict[str, str] = field(default_factory=dict)   # log name (lower) -> vocabulary
    timezone: str = "UTC"
    #: status name (normalised) -> class (work, queue, customer_wait, resolved, cancelled)
    statuses: dict[str, str] = field(default_factory=dict)
    #: group rewrite rules, first match wins: (regex, team template or None, tier or None)
    group_rules: list[tuple[Any, Optional[str], Optional[int]]] = field(default_factory=list)
    #: where each of ``group_rules`` came from (``--group-pattern``, ``FILE: groups[i]``), for messages
    group_rule_sources: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, yaml_path: Optional[str | Path] = None, pairs: Sequence[str] = (),
              activity_pairs: Sequence[str] = (), timezone: Optional[str] = None,
              group_pattern: Optional[str] = None, status_pairs: Sequence[str] = ()) -> "Mapping":
        """Defaults, overridden by a mapping YAML, overridden by ``field=column`` pairs.

        ``group_pattern``: a regular expression applied to group names before the file's
        ``groups:`` rules (named groups ``team`` and ``tier``/``line``; else group 1 is the team).
        """
        m = cls()
        if group_pattern:
            m.group_rules.append(_group_rule(group_pattern, None, None, "--group-pattern"))
            m.group_rule_sources.append("--group-pattern")
        if yaml_path is not None:
            m._apply_yaml(Path(yaml_path))
        for pair in status_pairs:
            name, target = _split_pair(pair, "--status", "LOG_STATUS=CLASS")
            m._set_status(name, target, "--status")
        for pair in pairs:
            key, col = _split_pair(pair, "--map", "FIELD=COLUMN")
            m._set_column(key, col, "--map")
        for pair in activity_pairs:
            name, target = _split_pair(pair, "--activity", "LOG_NAME=ACTIVITY")
            m._set_activity(name, target, "--activity")
        if timezone:
            m.timezone = timezone
        m._check_timezone()
        return m

    def _set_column(self, key: str, column: str, where: str) -> None:
        if key not in DEFAULT_COLUMNS:
            raise LogError(f"{where}: unknown field {key!r}; allowed: {', '.join(DEFAULT_COLUMNS)}")
        self.columns[key] = column

    def _set_activity(self, name: str, target: str, where: str) -> None:
        if target not in _KNOWN:
            raise LogError(f"{where}: unknown activity {target!r} for {name!r}; allowed: "
                           f"{', '.join(V.ACTIVITIES)}")
        self.activities[_norm(name)] = target

    def _set_status(self, name: str, cls: str, where: str) -> None:
        from .status import STATUS_CLASSES, norm_status

        if cls not in STATUS_CLASSES:
            raise LogError(f"{where}: unknown status class {cls!r} for {name!r}; allowed: "
                           f"{', '.join(STATUS_CLASSES)}")
        self.statuses[norm_status(name)] = cls

    def _apply_yaml(self, path: Path) -> None:
        # read like a scenario: bounded size, nesting and alias expansion (a deeply nested
        # mapping file was a RecursionError traceback), errors as one line with a line number
        from ..scenario import ScenarioError, parse_yaml, read_text

        if not path.exists():
            raise LogError(f"{path}: mapping file not found")
        try:
            data = parse_yaml(read_text(path), str(path)) or {}
        except ScenarioError as exc:
            raise LogError(exc.problems[0].replace("scenarios are small", "mappings are small")) from None
        if not isinstance(data, dict):
            raise LogError(f"{path}: top level must be a mapping with columns/activities/timezone")
        unknown = set(data) - {"columns", "activities", "timezone", "statuses", "groups"}
        if unknown:
            raise LogError(f"{path}: unknown key {sorted(unknown)[0]!r}; allowed: columns, "
                           "activities, timezone, statuses, groups")
        cols = data.get("columns") or {}
        if not isinstance(cols, dict):
            raise LogError(f"{path}: columns: must be a mapping FIELD: COLUMN")
        for key, col in cols.items():
            self._set_column(str(key), str(col), f"{path}: columns")
        acts = data.get("activities") or {}
        if not isinstance(acts, dict):
            raise LogError(f"{path}: activities: must be a mapping ACTIVITY: [log names]")
        for target, names in acts.items():
            for name in names if isinstance(names, list) else [names]:
                self._set_activity(str(name), str(target), f"{path}: activities")
        if data.get("timezone"):
            self.timezone = str(data["timezone"])
        stats = data.get("statuses") or {}
        if not isinstance(stats, dict):
            raise LogError(f"{path}: statuses: must be a mapping CLASS: [log status names]")
        for cls_name, names in stats.items():
            for name in names if isinstance(names, list) else [names]:
                self._set_status(str(name), str(cls_name), f"{path}: statuses")
        rules = data.get("groups") or []
        if not isinstance(rules, list):
            raise LogError(f"{path}: groups: must be a list of {{match: REGEX, team: NAME, "
                           "tier: N} rules")
        for i, rule in enumerate(rules):
            where = f"{path}: groups[{i}]"
            if not isinstance(rule, dict) or "match" not in rule or \
                    set(rule) - {"match", "team", "tier"}:
                raise LogError(f"{where}: a rule is {{match: REGEX, team: NAME, tier: N}} "
                               "(team and tier optional)")
            tier = rule.get("tier")
            if tier is not None and (isinstance(tier, bool) or not isinstance(tier, int)
                                     or not 1 <= tier <= 50):
                raise LogError(f"{where}: tier must be a whole number 1-50, got {tier!r}")
            team = rule.get("team")
            self.group_rules.append(_group_rule(str(rule["match"]),
                                                None if team is None else str(team), tier, where))
            self.group_rule_sources.append(where)

    def _check_timezone(self) -> None:
        try:
            pd.Timestamp("2026-01-05").tz_localize(self.timezone)
        except Exception:
            raise LogError(f"timezone: unknown time zone {self.timezone!r}; use an IANA name "
                           "such as UTC or Europe/Berlin") from None

    def activity(self, raw: str) -> str:
        key = _norm(raw)
        if key in self.activities:
            return self.activities[key]
        snake = key.replace(" ", "_")
        if snake in _KNOWN:
            return snake
        return BUILTIN_ALIASES.get(key, raw)


def _group_rule(pattern: str, team: Optional[str], tier: Optional[int], where: str):
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise LogError(f"{where}: not a regular expression {pattern!r} ({exc})") from None
    return rx, team, tier


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", " ", str(name).strip().lower())


def _split_pair(pair: str, flag: str, form: str) -> tuple[str, str]:
    if "=" not in pair:
        raise LogError(f"{flag}: expected {form}, got {pair!r}")
    a, b = pair.split("=", 1)
    if not a.strip() or not b.strip():
        raise LogError(f"{flag}: expected {form}, got {pair!r}")
    return a.strip(), b.strip()


@dataclass
class Report:
    """What was found and repaired: ``(count, message)`` lines, plus fit reports.

    A line marked ``detail`` (per-team fits, per-team sizes, ...) is printed only with
    ``--verbose``; the written scenario's header keeps every line.  ``rows_read``,
    ``rows_ignored`` and ``cases_dropped`` feed the "mostly unread" check."""

    lines: list[tuple[int | None, str]] = field(default_factory=list)
    details: set[int] = field(default_factory=set)      # indexes of detail lines
    rows_read: int = 0
    rows_ignored: int = 0
    cases_dropped: int = 0

    def add(self, count: int | None, message: str, detail: bool = False) -> None:
        if detail:
            self.details.add(len(self.lines))
        self.lines.append((count, comment_text(message)))

    def problem(self, count: int, message: str, detail: bool = False) -> None:
        """A data-quality finding: only reported when it happened."""
        if count:
            self.add(int(count), message, detail)

    def text(self, verbose: bool = True, limit: int = 40) -> list[str]:
        """All lines (``verbose``), or the main ones, at most ``limit``, with a pointer to
        ``--verbose`` for what was left out."""
        fmt = [f"{c:>8}  {m}" if c is not None else f"{'':>8}  {m}" for c, m in self.lines]
        if verbose:
            return fmt
        main = [line for i, line in enumerate(fmt) if i not in self.details]
        hidden = len(fmt) - len(main)
        if len(main) > limit - 1:
            hidden += len(main) - (limit - 1)
            main = main[: limit - 1]
        if hidden:
            main.append(f"{'':>8}  ... {hidden} more line(s) of detail: --verbose (all of them "
                        "are in the written scenario's header)")
        return main


# --------------------------------------------------------------------------- reading files
def read_raw(path: Path) -> pd.DataFrame:
    """The file's rows as a DataFrame, by suffix: .csv (.gz), .parquet, .xes."""
    name = path.name.lower()
    if not path.exists():
        raise LogError(f"{path}: file not found")
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        if name.endswith((".xes", ".xes.gz")):
            return read_xes(path)
        if name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            return pd.read_csv(path, dtype=str, sep=_delimiter(path), keep_default_na=False,
                               encoding="utf-8-sig",     # spreadsheet exports start with a BOM
                               na_values=[""])
    except LogError:
        raise
    except pd.errors.EmptyDataError:
        raise LogError(f"{path}: the log has no rows (empty file)") from None
    except Exception as exc:   # a broken file: one line, not a traceback
        raise LogError(f"{path}: cannot read ({exc.__class__.__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    raise LogError(f"{path}: unknown log format; use .csv, .parquet or .xes")


def _delimiter(path: Path) -> str:
    """Comma, semicolon (European spreadsheets) or tab: whichever the header line uses most."""
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.readline()
    return max([",", ";", "\t"], key=head.count)


def read_xes(path: Path) -> pd.DataFrame:
    """XES as rows: event attributes by key, trace attributes as ``case:<key>``."""
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    rows: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    with opener(path, "rb") as fh:
        for event, elem in ET.iterparse(fh, events=("end",)):
            tag = _local(elem.tag)
            if tag == "event":
                pending.append(_xes_attrs(elem))
                elem.clear()
            elif tag == "trace":
                trace_attrs = {f"case:{k}": v for k, v in _xes_attrs(elem).items()}
                for row in pending:
                    row.update(trace_attrs)
                rows.extend(pending)
                pending = []
                elem.clear()
    df = pd.DataFrame(rows)
    if "cost:total" in df.columns and V.COST not in df.columns:   # XES cost extension
        df = df.rename(columns={"cost:total": V.COST})
    return df


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xes_attrs(elem) -> dict[str, Any]:
    out = {}
    for child in elem:
        tag = _local(child.tag)
        if tag in ("string", "date", "int", "float", "boolean", "id") and "key" in child.attrib:
            out[child.attrib["key"]] = child.attrib.get("value")
    return out


# --------------------------------------------------------------------------- normalising
def parse_timestamps(values: pd.Series, timezone: str, report: Report, what: str) -> pd.Series:
    """Any ISO-ish timestamps -> UTC; naive ones are read in ``timezone``. Counts each kind."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        report.problem(int(values.notna().sum()) if what == "time:timestamp" else 0,
                       f"{what}: timestamps without a time zone, read as {timezone}")
        return values.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(values.dtype):
        values = values.astype("string")
    text = values.astype("string").str.strip()
    present = text.notna() & (text != "")
    epoch = present & text.str.fullmatch(r"\d{9,13}(\.\d+)?").fillna(False)
    if epoch.any() and epoch.sum() == present.sum():   # Unix time: seconds, or milliseconds
        num = text[epoch].astype(float)
        unit = "ms" if num.median() > 1e11 else "s"
        if what == "time:timestamp":
            report.add(int(epoch.sum()), f"{what}: Unix timestamps (in {unit}), read as UTC")
        return pd.to_datetime(num, unit=unit, utc=True).astype("datetime64[ns, UTC]").reindex(
            values.index)
    offset = text.str.extract(_OFFSET, expand=False)
    aware = present & offset.notna()
    naive = present & offset.isna()
    parts = [pd.Series(pd.NaT, index=values.index[~(aware | naive)], dtype="datetime64[ns, UTC]")]
    oor: list[str] = []
    if aware.any():
        parts.append(_ns_utc(_to_datetime(text[aware], utc=True), oor))
        offs = offset[aware].str.upper().str.replace(":", "", regex=False)
        non_utc = ~offs.isin(["Z", "+0000", "-0000"])
        if what == "time:timestamp":
            report.problem(int(non_utc.sum()), f"{what}: timestamps with a UTC offset other than 0 "
                           f"({', '.join(sorted(set(offset[aware][non_utc])))[:60]}); converted to UTC")
    if naive.any():
        local = _to_datetime(text[naive], utc=False)
        if local.dt.tz is not None:
            local = local.dt.tz_convert(None)
        inside = local.isna() | ((local >= TS_MIN.tz_localize(None)) & (local <= TS_MAX.tz_localize(None)))
        if not inside.all():
            oor.extend(local[~inside].astype(str).str.slice(0, 10).tolist())
            local = local.where(inside)
        parts.append(_ns_utc(local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT"), oor))
        if what == "time:timestamp":
            report.problem(int(naive.sum()), f"{what}: timestamps without a time zone, read as {timezone}")
    report.problem(len(oor), f"{what}: dates outside 1678-2261 (e.g. {oor[0] if oor else ''}; a "
                   "typo or placeholder date): read as missing")
    return pd.concat(parts).reindex(values.index)


def _ns_utc(s: pd.Series, oor: Optional[list] = None) -> pd.Series:
    """One dtype for every part (pandas infers s/ms/us/ns units per parse); a date outside
    pandas' nanosecond range (``1500-01-01``, ``9999-12-30``) becomes NaT, counted in ``oor``."""
    if s.dt.tz is None:
        s = s.dt.tz_localize("UTC")
    s = s.dt.tz_convert("UTC")
    bad = s.notna() & ((s < TS_MIN) | (s > TS_MAX))
    if bad.any():
        if oor is not None:
            oor.extend(s[bad].astype(str).str.slice(0, 10).tolist())
        s = s.where(~bad)
    return s.astype("datetime64[ns, UTC]")


def _to_datetime(text: pd.Series, utc: bool) -> pd.Series:
    parsed = pd.to_datetime(text, utc=utc, format="ISO8601", errors="coerce")
    bad = parsed.isna()
    if not bad.any():
        return parsed
    # other layouts ("05.01.2026 08:00", ...): pandas' own guess per value
    unit = "datetime64[us, UTC]" if utc else "datetime64[us]"
    try:
        retry = pd.to_datetime(text[bad], utc=utc, format="mixed", errors="coerce", dayfirst=True)
        retry = retry.astype(unit)
    except (TypeError, ValueError):
        # text read as naive in which pandas still finds a UTC offset (an offset our layout
        # check did not see: "...+\x00\x0000:00"): such a value is no local time, so it is
        # unreadable (NaT, counted by the caller) rather than silently shifted
        retry = pd.Series([_naive_or_nat(v) for v in text[bad]], index=text[bad].index, dtype=unit)
    return pd.concat([parsed[~bad].astype(unit), retry]).reindex(text.index)


def _naive_or_nat(value: Any) -> Any:
    """One value as a naive timestamp, or NaT when it does not parse or carries an offset."""
    t = pd.to_datetime(value, format="mixed", errors="coerce", dayfirst=True)
    return pd.NaT if t is pd.NaT or getattr(t, "tzinfo", None) is not None else t


def normalise(raw: pd.DataFrame, mapping: Mapping, report: Report, source: str) -> pd.DataFrame:
    """Map columns, parse times, drop unusable rows and duplicates (counted).

    Activities are mapped onto the vocabulary here; a status-based log keeps its raw names
    (``raw_activity``, ``raw_lifecycle``, ``status``) for :mod:`.status` to read."""
    report.add(len(raw), f"rows read from {source}")
    report.rows_read += len(raw)
    cols = mapping.columns
    missing = [f"{k} (column {cols[k]!r})" for k in REQUIRED if cols[k] not in raw.columns]
    if missing:
        raise LogError(f"{source}: missing required column(s) {', '.join(missing)}; columns found: "
                       f"{', '.join(map(lambda c: comment_text(c)[:40], raw.columns[:12]))}; map "
                       "them with --map FIELD=COLUMN")
    df = pd.DataFrame(index=raw.index)
    for key, col in cols.items():
        if col in raw.columns:
            df[key] = raw[col]
        else:
            df[key] = None
    absent = [k for k in ("resource", "group", "issue", "segment", "start", "lifecycle")
              if cols[k] not in raw.columns]
    for k in absent:
        report.add(None, f"no {k} column ({cols[k]!r}): estimates that need it use assumptions",
                   detail=True)

    for key in ("case", "activity", "resource", "group", "issue", "segment", "from_team", "to_team",
                "lifecycle", "status", "role"):
        s = df[key].astype("string").str.strip()
        s = s.where(s != "", pd.NA)
        df[key] = uncsv_cell(s) if isinstance(raw, pd.DataFrame) else s
    for key in ("group", "issue", "segment", "from_team", "to_team", "resource"):
        df[key] = _scenario_names(df[key], key, report)
    df["ts"] = parse_timestamps(df["timestamp"], mapping.timezone, report, "time:timestamp")
    df["start"] = parse_timestamps(df["start"], mapping.timezone, report, "start_timestamp") \
        if cols["start"] in raw.columns else pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    bad_ts = df["timestamp"].notna() & df["ts"].isna()
    report.problem(int(bad_ts.sum()), "rows with an unreadable timestamp (or a local time that "
                   "does not exist or is ambiguous at a daylight-saving change): dropped")
    no_key = df["case"].isna() | df["activity"].isna() | df["timestamp"].isna()
    report.problem(int(no_key.sum()), "rows without case id, activity or timestamp: dropped")
    report.rows_ignored += int((bad_ts | no_key).sum())
    cases_all = df["case"].nunique()
    df = df[~(bad_ts | no_key)]
    report.cases_dropped += cases_all - df["case"].nunique()
    df["cost"] = pd.to_numeric(df["cost"], errors="coerce")
    df["raw_lifecycle"] = df["lifecycle"]
    df["lifecycle"] = df["lifecycle"].str.lower().fillna(V.LIFECYCLE_COMPLETE)

    raw_act = df["activity"].astype(str)
    df["raw_activity"] = raw_act
    uniq = {a: mapping.activity(a) for a in raw_act.unique()}
    df["activity"] = raw_act.map(uniq)

    df = df.drop(columns=["timestamp"])
    keycols = ["case", "raw_activity", "ts", "start", "raw_lifecycle", "resource", "group", "status"]
    dup = df.duplicated(subset=keycols, keep="first")
    report.problem(int(dup.sum()), "duplicate rows (same case, activity, time, resource): dropped")
    df = df[~dup]
    if not len(df):
        raise LogError(f"{source}: no usable rows (every row lacked a case, activity or readable "
                       "timestamp)")
    return df.sort_values(["case", "ts"], kind="stable").reset_index(drop=True)


def _scenario_names(values: pd.Series, what: str, report: Report) -> pd.Series:
    """Names that become scenario names (teams, issues, segments): control and invisible
    characters (a newline, a zero-width space) replaced by a space, at most MAX_NAME characters,
    and spellings the scenario counts as one name ('L1', 'l1 ') made one."""
    import unicodedata

    from ..scenario import MAX_NAME, name_key

    uniq = values.dropna().unique()
    if not len(uniq):
        return values
    fixed: dict[str, str] = {}
    first: dict[str, str] = {}
    changed = 0
    for name in uniq:
        clean = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c
                        for c in str(name))
        clean = " ".join(clean.split())[:MAX_NAME] or "unnamed"
        clean = first.setdefault(name_key(clean), clean)
        changed += clean != name
        fixed[name] = clean
    if not changed:
        return values
    report.problem(changed, f"{what} names with control or invisible characters, over {MAX_NAME} "
                   "characters, or differing only in case or spacing: cleaned / made one")
    return values.map(lambda v: fixed.get(v, v) if isinstance(v, str) else v).astype("string")


def report_unknown_activities(df: pd.DataFrame, report: Report) -> None:
    unknown = ~df["activity"].isin(_KNOWN)
    if unknown.any():
        names = df.loc[unknown, "activity"].value_counts().index[:5]
        report.problem(int(unknown.sum()), f"rows with activities not in the vocabulary (ignored): "
                       f"{', '.join(map(str, names))}{' ...' if unknown.sum() > 5 else ''}; "
                       "map them with --activity NAME=ACTIVITY (or, for a status log, the "
                       "mapping's statuses: section)")
        report.rows_ignored += int(unknown.sum())
        gone = df["case"].nunique() - df.loc[~unknown, "case"].nunique()
        report.cases_dropped += gone


def pair_lifecycle(df: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Logs with separate ``start``/``complete`` rows: join each pair into one timed row.

    A start with no matching complete is an activity whose end event is missing:
    it stays out of duration estimates (its resource still counts as active).
    """
    is_start = df["lifecycle"] == V.LIFECYCLE_START
    if not is_start.any():
        return df
    sub = df[df["lifecycle"].isin([V.LIFECYCLE_START, V.LIFECYCLE_COMPLETE])]
    sub = sub.assign(_first=sub["lifecycle"] != V.LIFECYCLE_START)   # at a tie, start first
    sub = sub.sort_values(["case", "activity", "ts", "_first"], kind="stable")
    open_starts: dict[tuple, list] = {}
    start_of: dict[int, Any] = {}
    matched_start: set[int] = set()
    for idx, case, act, res, life, ts, st in zip(sub.index, sub["case"], sub["activity"],
                                                  sub["resource"], sub["lifecycle"], sub["ts"],
                                                  sub["start"]):
        key = (case, act, res if res is not pd.NA else None)
        if life == V.LIFECYCLE_START:
            open_starts.setdefault(key, []).append((idx, ts))
        elif pd.isna(st):
            stack = open_starts.get(key)
            if stack:
                s_idx, s_ts = stack.pop()
                start_of[idx] = s_ts
                matched_start.add(s_idx)
    if start_of:
        df.loc[list(start_of), "start"] = pd.Series(start_of)
    unmatched = [i for stack in open_starts.values() for i, _ in stack]
    report.problem(len(unmatched), "activities started but never completed (missing end event): "
                   "kept as activity, left out of durations")
    df["open_activity"] = False
    df.loc[unmatched, "open_activity"] = True
    return df.drop(index=list(matched_start)).reset_index(drop=True)


def read_event_log(path: str | Path, mapping: Optional[Mapping] = None,
                   report: Optional[Report] = None) -> tuple[pd.DataFrame, Report]:
    """Read, map and clean a log; returns canonical rows and the report of repairs.

    A status-based log is turned into activities (:mod:`.status`); its per-ticket facts
    (minutes queued and in customer wait) are in ``df.attrs["status_facts"]``."""
    path = Path(path)
    mapping = mapping or Mapping()
    report = report or Report()
    raw = read_raw(path)
    if not len(raw):
        raise LogError(f"{path}: the log has no rows")
    return clean(raw, mapping, report, str(path)), report


def clean(raw: pd.DataFrame, mapping: Mapping, report: Report, source: str) -> pd.DataFrame:
    """The rows of a log already in memory (a file's, or a simulated run's), cleaned."""
    from . import status as S

    df = normalise(raw, mapping, report, source)
    cols = mapping.columns
    has_status = cols["status"] in raw.columns
    has_start = cols["start"] in raw.columns and bool(df["start"].notna().any())
    is_status, lc_status, why = S.detect(df, mapping, has_status, has_start,
                                         cols["lifecycle"] in raw.columns)
    from .groups import role_map

    roles = role_map(df)
    if is_status:
        out, facts = S.status_events(df, mapping, report, why, lc_status, has_status)
        if not len(out):
            raise LogError(f"{source}: no row has a status of a known class; classify the log's "
                           "statuses in the mapping's statuses: section")
        out.attrs["status_facts"] = facts
        out.attrs["group_roles"] = roles
        return out
    report_unknown_activities(df, report)
    df = df.drop(columns=["raw_activity", "raw_lifecycle", "status", "role"])
    df = pair_lifecycle(df, report)
    if "open_activity" not in df:
        df["open_activity"] = df["lifecycle"] == V.LIFECYCLE_START
    neg = df["start"].notna() & (df["start"] > df["ts"])
    report.problem(int(neg.sum()), "activities ending before they start (clock skew): duration "
                   "left out")
    df.loc[neg, "start"] = pd.NaT
    df.attrs["group_roles"] = roles
    return df
