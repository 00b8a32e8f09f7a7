"""Event-log file writers: CSV, Parquet, XES (IEEE 1849) and OCEL 2.0 JSON.

Every writer is fed one run's DataFrame at a time (rows ordered by case, then
time) and writes into a temporary file next to its target, renamed into place
only when the whole log is written - an interrupted export never leaves a
half-written file that looks complete.  XES and OCEL are written by hand with
proper XML/JSON escaping: no process-mining library is needed.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Optional
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from .._version import __version__
from . import vocabulary as V
from ..atomic import commit_temp, temp_file
from .safe import csv_safe_frame

if TYPE_CHECKING:
    from ..scenario import Scenario

FORMATS = {"csv": ".csv", "parquet": ".parquet", "xes": ".xes", "ocel": ".ocel.json"}
DEFAULT_FORMAT = "csv"
#: columns holding names (escaped against spreadsheet formulas in CSV)
TEXT_COLUMNS = (V.CASE, V.ACTIVITY, V.RESOURCE, V.GROUP, V.POLICY, V.ISSUE, V.SEGMENT, V.QUEUE,
                V.FROM_TEAM, V.TO_TEAM)


class ExportError(ValueError):
    """Bad export request (unknown format, unusable path): one line for the user."""


def parse_formats(formats: Iterable[str] | str | None, path: Optional[Path] = None) -> list[str]:
    """``"csv,xes"``, ``["csv", "xes"]``, ``"all"`` or ``None`` (from the suffix, else CSV)."""
    if formats is None:
        if path is not None:
            for fmt, ext in FORMATS.items():
                if path.name.endswith(ext):
                    return [fmt]
        return [DEFAULT_FORMAT]
    items = [formats] if isinstance(formats, str) else list(formats)
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part == "all":
                out.extend(f for f in FORMATS if f not in out)
                continue
            if part not in FORMATS:
                raise ExportError(f"unknown event-log format {part!r}; allowed: "
                                  f"{', '.join(FORMATS)}, all")
            if part not in out:
                out.append(part)
    return out or [DEFAULT_FORMAT]


def target_paths(path: str | Path, formats: list[str]) -> list[Path]:
    """``log.csv`` with csv,xes -> ``log.csv``, ``log.xes``; a directory -> ``DIR/events.<ext>``."""
    path = Path(path)
    for ext in sorted(FORMATS.values(), key=len, reverse=True):
        if path.name.endswith(ext):      # a file name: its stem with each format's suffix
            stem = path.name[: -len(ext)]
            return [path if FORMATS[f] == ext else path.with_name(stem + FORMATS[f])
                    for f in formats]
    return [path / f"events{FORMATS[f]}" for f in formats]


@contextlib.contextmanager
def open_writers(path: str | Path, formats, scenario: "Scenario") -> Iterator[list["LogWriter"]]:
    fmts = parse_formats(formats, Path(path))
    targets = target_paths(path, fmts)
    writers: list[LogWriter] = []
    try:
        for fmt, target in zip(fmts, targets):
            target.parent.mkdir(parents=True, exist_ok=True)
            writers.append(WRITERS[fmt](target, scenario))
        yield writers
    except BaseException:
        for w in writers:
            w.abort()
        raise
    for w in writers:
        w.close()


class LogWriter:
    """Base: a temporary file beside the target, renamed over it on :meth:`close`."""

    def __init__(self, path: Path, scenario: "Scenario") -> None:
        self.path = path
        self.scenario = scenario
        self.tmp = temp_file(path)       # sim.atomic: the one atomic writer's temporary

    def write(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Flush the format's trailer into ``self.tmp``."""

    def close(self) -> None:
        try:
            self.finish()
            commit_temp(self.tmp, self.path)   # fsync, usual mode (umask), rename, fsync dir
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)


# ------------------------------------------------------------------------------ CSV
def iso_ms(ts: pd.Series) -> pd.Series:
    """UTC timestamps as ``2026-01-05T08:03:12.345+00:00`` (NaT stays missing)."""
    text = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text.str.slice(0, 23) + "+00:00"


class CsvWriter(LogWriter):
    def __init__(self, path: Path, scenario: "Scenario") -> None:
        super().__init__(path, scenario)
        self.fh = open(self.tmp, "w", encoding="utf-8", newline="")
        self.header = True

    def write(self, frame: pd.DataFrame) -> None:
        # names (teams, issues, segments, policies) come from scenarios that may come from
        # other people's logs: no cell a spreadsheet would run as a formula
        out = csv_safe_frame(frame, [c for c in TEXT_COLUMNS if c in frame.columns]).copy()
        out[V.TIMESTAMP] = iso_ms(out[V.TIMESTAMP])
        out[V.START] = iso_ms(out[V.START])
        out.to_csv(self.fh, index=False, header=self.header)
        self.header = False

    def finish(self) -> None:
        if self.header:     # nothing written: still a valid file with the header
            pd.DataFrame(columns=list(V.COLUMNS)).to_csv(self.fh, index=False)
        self.fh.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()
        super().abort()


# ------------------------------------------------------------------------------ Parquet
def parquet_schema():
    import pyarrow as pa

    ts = pa.timestamp("ms", tz="UTC")
    types = {V.TIMESTAMP: ts, V.START: ts, V.REPLICATION: pa.int32(), V.TICKET: pa.int64(),
             V.MEASURED: pa.bool_(), V.COST: pa.float64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in V.COLUMNS])


class ParquetWriter(LogWriter):
    def __init__(self, path: Path, scenario: "Scenario") -> None:
        import pyarrow.parquet as pq

        super().__init__(path, scenario)
        schema = parquet_schema().with_metadata({
            b"supportsim": json.dumps({"software": "supportsim", "version": __version__,
                                       "scenario": scenario.name}).encode()})
        self.schema = schema
        self.writer = pq.ParquetWriter(self.tmp, schema)

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa

        frame = frame.copy()
        frame[V.TIMESTAMP] = frame[V.TIMESTAMP].astype("datetime64[ms, UTC]")
        frame[V.START] = frame[V.START].astype("datetime64[ms, UTC]")
        table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
        self.writer.write_table(table)

    def finish(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
        super().abort()


# ------------------------------------------------------------------------------ XES
XES_NS = "http://www.xes-standard.org/"
XES_EXTENSIONS = (   # (name, prefix, uri) of the standard extensions the log uses
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Cost", "cost", "http://www.xes-standard.org/cost.xesext"),
)
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_attr(value) -> str:
    """A quoted, escaped XML attribute value; characters XML 1.0 forbids are dropped."""
    return quoteattr(_XML_BAD.sub("", str(value)))


#: event columns written as XES attributes: column -> (xes type, key)
_XES_EVENT = (
    (V.ACTIVITY, "string", "concept:name"), (V.TIMESTAMP, "date", "time:timestamp"),
    (V.LIFECYCLE, "string", "lifecycle:transition"), (V.RESOURCE, "string", "org:resource"),
    (V.GROUP, "string", "org:group"), (V.START, "date", "start_timestamp"),
    (V.QUEUE, "string", "queue"), (V.FROM_TEAM, "string", "from_team"),
    (V.TO_TEAM, "string", "to_team"), (V.COST, "float", "cost:total"),
)
#: case columns written as trace attributes (XES keys drop pandas' ``case:`` prefix)
_XES_TRACE = (
    (V.POLICY, "string", "policy"), (V.REPLICATION, "int", "replication"),
    (V.TICKET, "int", "ticket_id"), (V.ISSUE, "string", "issue"),
    (V.SEGMENT, "string", "segment"), (V.MEASURED, "boolean", "measured"),
)


class XesWriter(LogWriter):
    """XES 1.0 (IEEE 1849-2016) XML: log > extension*, global*, classifier*, attribute*, trace*."""

    def __init__(self, path: Path, scenario: "Scenario") -> None:
        super().__init__(path, scenario)
        self.fh = open(self.tmp, "w", encoding="utf-8")
        w = self.fh.write
        w('<?xml version="1.0" encoding="UTF-8"?>\n')
        w(f'<log xes.version="1.0" xes.features="nested-attributes" xmlns="{XES_NS}">\n')
        for name, prefix, uri in XES_EXTENSIONS:
            w(f"  <extension name={xml_attr(name)} prefix={xml_attr(prefix)} uri={xml_attr(uri)}/>\n")
        w('  <global scope="trace">\n    <string key="concept:name" value="__INVALID__"/>\n'
          '  </global>\n')
        w('  <global scope="event">\n    <string key="concept:name" value="__INVALID__"/>\n'
          '    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>\n'
          '    <string key="lifecycle:transition" value="complete"/>\n  </global>\n')
        w('  <classifier name="Activity" keys="concept:name"/>\n')
        w('  <classifier name="Activity and lifecycle" keys="concept:name lifecycle:transition"/>\n')
        w(f'  <string key="concept:name" value={xml_attr("supportsim: " + scenario.name)}/>\n')
        w(f'  <string key="source" value={xml_attr("supportsim " + __version__)}/>\n')

    def write(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        cols = {c: frame[c].to_numpy() for c in frame.columns}
        for c in (V.TIMESTAMP, V.START):
            cols[c] = iso_ms(frame[c]).to_numpy()
        case = cols[V.CASE]
        bounds = np.flatnonzero(case[1:] != case[:-1]) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(case)]])
        out: list[str] = []
        for s, e in zip(starts, ends):
            out.append(f'  <trace>\n    <string key="concept:name" value={xml_attr(case[s])}/>\n')
            for col, typ, key in _XES_TRACE:
                out.append(_xes_attr(typ, key, cols[col][s], "    "))
            for i in range(s, e):
                out.append("    <event>\n")
                for col, typ, key in _XES_EVENT:
                    value = cols[col][i]
                    if _missing(value) or (col == V.COST and value == 0
                                           and _missing(cols[V.START][i])):
                        continue
                    out.append(_xes_attr(typ, key, value, "      "))
                out.append("    </event>\n")
            out.append("  </trace>\n")
            if len(out) > 4096:
                self.fh.write("".join(out))
                out.clear()
        self.fh.write("".join(out))

    def finish(self) -> None:
        self.fh.write("</log>\n")
        self.fh.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()
        super().abort()


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NaT \
        or (isinstance(value, str) and value == "")


def _xes_attr(typ: str, key: str, value, indent: str) -> str:
    if typ == "boolean":
        value = "true" if bool(value) else "false"
    elif typ == "int":
        value = int(value)
    elif typ == "float":
        value = repr(float(value))
    return f"{indent}<{typ} key={xml_attr(key)} value={xml_attr(value)}/>\n"


# ------------------------------------------------------------------------------ OCEL 2.0
class OcelWriter(LogWriter):
    """OCEL 2.0 JSON: events related to several objects - the ticket, the agents, the teams.

    A swarm shows up as one ticket object related (through ``helper_joined`` /
    ``helped`` events) to several agent objects; a handoff relates the ticket to
    the ``from`` and ``to`` team objects.  Agents and tickets are scoped by
    policy and replication (each run is its own world); teams are shared.
    """

    def __init__(self, path: Path, scenario: "Scenario") -> None:
        super().__init__(path, scenario)
        fd, ev = tempfile.mkstemp(prefix=f".{path.name}.events.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        self.events_tmp = Path(ev)
        self.ev = open(self.events_tmp, "w", encoding="utf-8")
        self.first_event = True
        self.tickets: dict[str, dict] = {}
        self.agents: dict[str, str] = {}
        self.event_types: set[str] = set()

    def write(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        ts = iso_ms(frame[V.TIMESTAMP]).str.replace("+00:00", "Z", regex=False).to_numpy()
        start = iso_ms(frame[V.START]).str.replace("+00:00", "Z", regex=False).to_numpy()
        cols = {c: frame[c].to_numpy() for c in frame.columns}
        prev_case, k = None, 0
        chunks: list[str] = []
        for i in range(len(frame)):
            case = cols[V.CASE][i]
            if case != prev_case:
                prev_case, k = case, 0
                self.tickets[case] = {"issue": cols[V.ISSUE][i], "segment": cols[V.SEGMENT][i],
                                      "policy": cols[V.POLICY][i],
                                      "replication": int(cols[V.REPLICATION][i])}
            k += 1
            act = cols[V.ACTIVITY][i]
            self.event_types.add(act)
            scope = case.rsplit("/", 1)[0]
            rels = [{"objectId": case, "qualifier": "ticket"}]
            res = cols[V.RESOURCE][i]
            if not _missing(res):
                agent_id = f"{scope}/{res}"
                self.agents[agent_id] = cols[V.GROUP][i]
                qual = "helper" if act in (V.HELPER_JOINED, V.HELPED, V.HELPER_LEFT) else "agent"
                rels.append({"objectId": agent_id, "qualifier": qual})
            for col, qual in ((V.FROM_TEAM, "from"), (V.TO_TEAM, "to")):
                if not _missing(cols[col][i]):
                    rels.append({"objectId": f"team:{cols[col][i]}", "qualifier": qual})
            attrs = [{"name": "cost", "value": float(cols[V.COST][i])},
                     {"name": "lifecycle", "value": cols[V.LIFECYCLE][i]}]
            if not _missing(start[i]):
                attrs.append({"name": "start_timestamp", "value": start[i]})
            if not _missing(cols[V.QUEUE][i]):
                attrs.append({"name": "queue", "value": cols[V.QUEUE][i]})
            event = {"id": f"{case}/e{k}", "type": act, "time": ts[i], "attributes": attrs,
                     "relationships": rels}
            chunks.append(("" if self.first_event else ",\n") + json.dumps(event))
            self.first_event = False
        self.ev.write("".join(chunks))

    def finish(self) -> None:
        self.ev.close()
        t0 = "1970-01-01T00:00:00Z"
        teams = sorted({t.name for t in self.scenario.teams} | set(self.agents.values()) - {None})
        with open(self.tmp, "w", encoding="utf-8") as out:
            head = {
                "objectTypes": [
                    {"name": "ticket", "attributes": [
                        {"name": n, "type": t} for n, t in (("issue", "string"), ("segment", "string"),
                                                            ("policy", "string"),
                                                            ("replication", "integer"))]},
                    {"name": "agent", "attributes": [{"name": "team", "type": "string"}]},
                    {"name": "team", "attributes": []},
                ],
                "eventTypes": [
                    {"name": name, "attributes": [{"name": "cost", "type": "float"},
                                                  {"name": "lifecycle", "type": "string"},
                                                  {"name": "start_timestamp", "type": "time"},
                                                  {"name": "queue", "type": "string"}]}
                    for name in sorted(self.event_types)],
            }
            text = json.dumps(head, indent=1)
            out.write(text[:-2] + ',\n "objects": [\n')
            objs = [json.dumps({"id": f"team:{t}", "type": "team", "attributes": []}) for t in teams]
            for aid, team in sorted(self.agents.items()):
                objs.append(json.dumps({
                    "id": aid, "type": "agent",
                    "attributes": [{"name": "team", "time": t0, "value": team}],
                    "relationships": [{"objectId": f"team:{team}", "qualifier": "member of"}]}))
            for tid, a in self.tickets.items():
                objs.append(json.dumps({"id": tid, "type": "ticket", "attributes": [
                    {"name": n, "time": t0, "value": v} for n, v in a.items()]}))
            out.write(",\n".join(objs))
            out.write('\n ],\n "events": [\n')
            with open(self.events_tmp, encoding="utf-8") as ev:
                for chunk in iter(lambda: ev.read(1 << 20), ""):
                    out.write(chunk)
            out.write("\n ]\n}\n")
        self.events_tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.ev.close()
        self.events_tmp.unlink(missing_ok=True)
        super().abort()


WRITERS = {"csv": CsvWriter, "parquet": ParquetWriter, "xes": XesWriter, "ocel": OcelWriter}
