"""Output directories supportsim may write into, and the manifest that says what it wrote.

The rule (docs/safety.md): **supportsim never deletes or overwrites a file it did not write.**

- A directory is usable when it is new, empty, or a supportsim directory: its
  ``meta.json`` carries a manifest (``"files": {relative path: sha256}``) of every file
  supportsim wrote there.  Anything else that is not empty is refused with one line
  (:class:`UnsafeOutput`), before any simulation time is spent.
- A later run may replace or remove only files of that manifest, and only while their
  content is still what supportsim wrote (same sha256): a result file the user edited
  afterwards (comments added to ``scenario.yaml``) counts as the user's.  Files the
  user added beside a result are never touched; a run that would have to write over one
  stops with one line instead.
- ``meta.json`` is written last (:meth:`OutputDir.commit`), after every table, event log
  and report it vouches for; while a run writes, the hidden journal
  ``.supportsim-writing.json`` lists what it has written so far, so a directory left by a
  killed run is still recognised as supportsim's (and cleaned by the next run) but does
  not pass for a complete result (no ``meta.json``).
- Each directory is locked while written (:mod:`sim.outputs.lock`, naming the holder),
  and stale hidden temporaries of the atomic writer are removed under the lock.

Usage::

    with OutputDir(path, "--out") as out:      # checks, locks, cleans
        out.check_free(["summary.csv", "report.html"])   # before the long work
        out.write("summary.csv", lambda p: frame.to_csv(p))
        out.adopt(path / "events.csv")          # written by another atomic writer
        out.commit({"software": "supportsim", ...})     # meta.json last, stale files removed
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from ..atomic import atomic_write, is_temp_name, remove_stale_temporaries, write_text
from .lock import LOCK_NAME, DirectoryBusy, DirectoryLock

__all__ = ["OutputDir", "signed_text", "check_replaceable", "foreign_entries", "open_report_dir", "is_report_file", "REPORT_FILES", "UnsafeOutput", "read_manifest", "check_output_dir", "MANIFEST", "JOURNAL"]

MANIFEST = "meta.json"
JOURNAL = ".supportsim-writing.json"
_OWN_HIDDEN = {LOCK_NAME, JOURNAL}

#: what supportsim before manifests wrote into a result directory (and nothing else)
_LEGACY_RESULT = ("meta.json", "scenario.yaml", "tickets.parquet", "backlog.parquet", "teams.csv",
                  "per_replication.csv", "summary.csv", "learned.csv", "interruptions.csv",
                  "report.html", "summary.md")
_LEGACY_GLOBS = ("events.*", "figures/*.png")
_REPORT_FILES = ("report.html", "summary.md", "scenario.yaml")


class UnsafeOutput(ValueError):
    """Writing there could destroy something that is not supportsim's: one line, exit 2."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _load_json(path: Path) -> Any:
    from .jsonfile import read_json

    try:
        return read_json(path)          # bounded: size, nesting (never a RecursionError)
    except (OSError, ValueError):
        return None


def _manifest_files(data: Any) -> Optional[dict[str, Optional[str]]]:
    if not isinstance(data, dict) or data.get("software") != "supportsim":
        return None
    files = data.get("files")
    if files is None:
        return None
    if isinstance(files, dict) and all(isinstance(k, str) and (v is None or isinstance(v, str))
                                       for k, v in files.items()):
        return {k: v for k, v in files.items() if _safe_rel(k)}
    return None


def _safe_rel(rel: str) -> bool:
    """A manifest entry must stay inside its directory (a forged ``../x`` is ignored)."""
    p = Path(rel)
    return bool(rel) and not p.is_absolute() and ".." not in p.parts


def _legacy_files(directory: Path, meta: Any) -> Optional[dict[str, Optional[str]]]:
    """A result or report written before manifests existed: its known names, unverified."""
    found: dict[str, Optional[str]] = {}
    if isinstance(meta, dict) and meta.get("software") == "supportsim" and "seed" in meta:
        names = [n for n in _LEGACY_RESULT if (directory / n).is_file()]
    elif (directory / "report.html").is_file() and _looks_like_our_report(directory / "report.html"):
        names = [n for n in _REPORT_FILES if (directory / n).is_file()]
    else:
        return None
    found.update({n: None for n in names})
    for pattern in _LEGACY_GLOBS:
        found.update({p.relative_to(directory).as_posix(): None for p in directory.glob(pattern)
                      if p.is_file()})
    return found


def _looks_like_our_report(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(200_000)
    except OSError:
        return False
    return b"supportsim" in head and head.lstrip().lower().startswith(b"<!doctype html>")


def read_manifest(directory: str | os.PathLike) -> Optional[dict[str, Optional[str]]]:
    """The files supportsim wrote in ``directory`` (path -> sha256, None when unknown), or
    None when it is not a supportsim directory.  An interrupted run's journal counts too."""
    d = Path(directory)
    files: dict[str, Optional[str]] = {}
    known = False
    for name in (MANIFEST, JOURNAL):
        listed = _manifest_files(_load_json(d / name)) if (d / name).is_file() else None
        if listed is not None:
            known = True
            files.update(listed)
            if name == MANIFEST:
                files[MANIFEST] = None
    if not known and (d / MANIFEST).is_file():
        legacy = _legacy_files(d, _load_json(d / MANIFEST))
        if legacy is not None:
            return legacy
    if not known:
        return _legacy_files(d, None)
    return files


def _entries(directory: Path) -> list[Path]:
    """Everything in ``directory`` except supportsim's own lock, journal and temporaries."""
    return [p for p in directory.iterdir() if p.name not in _OWN_HIDDEN and not is_temp_name(p.name)]


def foreign_entries(directory: str | os.PathLike) -> list[Path]:
    """What ``directory`` holds besides supportsim's own lock, journal and temporaries
    (for writers with their own marker file, e.g. a sweep's ``sweep.json``: a directory
    without the marker may be used only when this is empty)."""
    d = Path(directory)
    return _entries(d) if d.is_dir() else []


def check_output_dir(path: str | os.PathLike, flag: str = "--out") -> None:
    """Refuse (one line) a directory supportsim may not write into; does not create or lock.

    For commands that only want to fail early (e.g. before a long simulation); the
    writer itself opens an :class:`OutputDir`, which checks again under the lock.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UnsafeOutput(f"{flag} {p}: is a file, not a directory")
    if p.is_dir() and _entries(p) and read_manifest(p) is None:
        raise UnsafeOutput(_foreign(flag, p))


def _foreign(flag: str, p: Path) -> str:
    return (f"{flag} {p}: directory is not empty and holds no supportsim result (no manifest in "
            f"meta.json); supportsim never overwrites files it did not write - choose a new or "
            "empty directory")


class OutputDir:
    """A locked directory supportsim writes into, keeping the manifest (see module docstring)."""

    def __init__(self, path: str | os.PathLike, flag: str = "--out",
                 command: str = "supportsim", kind: str = "result") -> None:
        if kind not in ("result", "report"):
            raise ValueError(f"kind must be 'result' or 'report', got {kind!r}")
        self.path = Path(path)
        self.flag = flag
        #: "result": this run replaces the directory's supportsim files (stale ones removed);
        #: "report": adds or replaces a report, keeping any result (and its meta.json) there
        self.kind = kind
        self._previous_meta: Optional[dict[str, Any]] = None
        self.lock = DirectoryLock(self.path, command)
        self.previous: dict[str, Optional[str]] = {}
        self.written: dict[str, str] = {}
        self.committed = False
        self.is_open = False

    # ---- opening ---------------------------------------------------------------------------
    def open(self) -> "OutputDir":
        p = self.path
        if p.exists() and not p.is_dir():
            raise UnsafeOutput(f"{self.flag} {p}: is a file, not a directory")
        check_output_dir(p, self.flag)          # refused here, nothing is created in it
        lock_existed = self.lock.path.exists()
        try:
            p.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
        except DirectoryBusy as exc:
            raise UnsafeOutput(f"{self.flag} {exc}") from None
        except OSError as exc:
            raise UnsafeOutput(f"{self.flag} {p}: cannot write results there "
                               f"({exc.strerror or exc.__class__.__name__})") from None
        try:
            self._open_locked()
        except BaseException:
            self.lock.release()
            if not lock_existed:                # leave a refused directory as it was
                self.lock.path.unlink(missing_ok=True)
            raise
        self.is_open = True
        return self

    def _open_locked(self) -> None:
        p = self.path
        manifest = read_manifest(p)
        if manifest is None:
            if _entries(p):
                raise UnsafeOutput(_foreign(self.flag, p))
            manifest = {}
        remove_stale_temporaries(p)      # ours, under our lock: no live writer owns them
        # a file of the manifest the user changed since (or replaced) is the user's now
        self.previous = {}
        for rel, digest in manifest.items():
            f = p / rel
            if not f.is_file() or f.is_symlink():
                continue
            if digest is None or sha256_of(f) == digest:
                self.previous[rel] = digest
        meta = _load_json(p / MANIFEST) if MANIFEST in self.previous else None
        self._previous_meta = meta if isinstance(meta, dict) else None
        self._had_manifest = MANIFEST in self.previous     # ours: commit() replaces it
        self._begun = False

    def _begin(self) -> None:
        """Before the first file is written (not at open: a run refused by check_free leaves
        the directory exactly as it was): journal what may be ours, then, for a result,
        remove the old meta.json so a half-rewritten directory never passes for complete."""
        if self._begun:
            return
        self._begun = True
        self._journal()
        if self.kind == "result" and self._had_manifest:
            (self.path / MANIFEST).unlink(missing_ok=True)

    def _journal(self) -> None:
        files = {**{k: v for k, v in self.previous.items() if k != MANIFEST}, **self.written}
        write_text(self.path / JOURNAL, json.dumps({"software": "supportsim", "files": files}))

    def __enter__(self) -> "OutputDir":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the lock; without :meth:`commit` the journal stays (the run did not finish)."""
        self.lock.release()
        self.is_open = False

    # ---- writing ---------------------------------------------------------------------------
    def owns(self, rel: str) -> bool:
        """Whether supportsim may write ``rel``: absent, or written by supportsim and unchanged."""
        f = self.path / rel
        if rel in self.written or rel in self.previous:
            return True
        return not (f.exists() or f.is_symlink())

    def check_free(self, names: Iterable[str]) -> None:
        """Refuse now (one line) if any of ``names`` is a file supportsim may not replace."""
        for rel in names:
            if not self.owns(rel):
                raise UnsafeOutput(
                    f"{self.flag} {self.path / rel}: exists and was not written by supportsim "
                    "(or was changed since); supportsim will not overwrite it - move it away or "
                    "choose another directory")

    def check_report_free(self) -> None:
        """Refuse now if a report's files (incl. anything under ``figures/``) are not supportsim's."""
        names = list(REPORT_FILES)
        fig = self.path / "figures"
        if fig.is_symlink():
            names.append("figures")
        elif fig.is_dir():
            names += [f.relative_to(self.path).as_posix() for f in fig.rglob("*")
                      if not f.is_dir() and not is_temp_name(f.name)]
        elif fig.exists() or fig.is_symlink():
            names.append("figures")
        self.check_free(names)

    def _rel(self, target: str | os.PathLike) -> str:
        t = Path(target)
        if t.is_absolute() or t.parts[:len(self.path.parts)] == self.path.parts:
            try:
                return t.relative_to(self.path).as_posix()
            except ValueError:
                pass
            return os.path.relpath(t, self.path).replace(os.sep, "/")
        return t.as_posix()

    def write(self, rel: str, write: Callable[[Path], None]) -> Path:
        """Write ``rel`` atomically (``write(tmp)``) and add it to the manifest."""
        self.check_free([rel])
        self._begin()
        target = self.path / rel
        atomic_write(target, write)
        self.adopt(target)
        return target

    def adopt(self, target: str | os.PathLike) -> None:
        """Add a file another atomic writer put in the directory (after :meth:`check_free`)."""
        rel = self._rel(target)
        if not _safe_rel(rel):
            return
        self._begin()
        self.written[rel] = sha256_of(self.path / rel)
        self._journal()

    # ---- finishing -------------------------------------------------------------------------
    def commit(self, meta: Optional[dict[str, Any]] = None) -> Path:
        """Remove what an earlier run left and this one did not rewrite; write ``meta.json`` last."""
        self._begin()
        kept: dict[str, Optional[str]] = {}
        for rel in sorted(set(self.previous) - set(self.written) - {MANIFEST}):
            f = self.path / rel
            if self.kind == "report" and not is_report_file(rel):
                kept[rel] = self.previous[rel]        # the result beside the report stays
                continue
            try:
                if f.is_file() and (self.previous[rel] is None or sha256_of(f) == self.previous[rel]):
                    f.unlink()
                    _prune_empty(f.parent, self.path)
            except OSError:
                continue
        if meta is None and self.kind == "report" and self._previous_meta is not None:
            meta = self._previous_meta              # a result's own provenance, unchanged
        data = dict(meta or {"software": "supportsim", "kind": self.kind})
        data.setdefault("software", "supportsim")
        data["files"] = dict(sorted({**kept, **self.written}.items()))
        text = json.dumps(data, indent=2, default=str)
        atomic_write(self.path / MANIFEST, lambda p: p.write_text(text, encoding="utf-8"))
        (self.path / JOURNAL).unlink(missing_ok=True)
        self.committed = True
        return self.path / MANIFEST


def is_report_file(rel: str) -> bool:
    """Files a decision report consists of (replaced together when a report is rebuilt)."""
    return rel in ("report.html", "summary.md") or rel.startswith("figures/")


#: what a report may write into a directory (figures/ as a whole: names vary by report)
REPORT_FILES = ("report.html", "summary.md", "scenario.yaml")


def _prune_empty(d: Path, root: Path) -> None:
    """Remove directories (e.g. ``figures/``) emptied by removing stale files, up to ``root``."""
    while d != root and root in d.parents:
        try:
            d.rmdir()
        except OSError:
            return
        d = d.parent


def open_report_dir(path: str | os.PathLike, flag: str = "--report",
                    command: str = "supportsim report") -> OutputDir:
    """An :class:`OutputDir` for a decision report: refuses a foreign directory, keeps a
    result that lives there, replaces only an earlier report's files.  Use as a context
    manager and :meth:`OutputDir.commit` after writing."""
    return OutputDir(path, flag, command, kind="report")


# ---- single output files (e.g. ``calibrate --out scenario.yaml``) ---------------------------
_SIGNATURE = "# written by supportsim (sha256 {}); an edited copy is never overwritten\n"


def signed_text(text: str) -> str:
    """``text`` (a YAML file) with a last comment line holding its sha256: a later run may
    replace the file only while it is unchanged (see :func:`check_replaceable`)."""
    body = text if text.endswith("\n") else text + "\n"
    return body + _SIGNATURE.format(hashlib.sha256(body.encode("utf-8")).hexdigest())


def check_replaceable(path: str | os.PathLike, flag: str = "--out") -> None:
    """Refuse (one line) to replace ``path`` unless it is absent or a signed supportsim file
    whose content is still exactly what supportsim wrote."""
    p = Path(path)
    if not (p.exists() or p.is_symlink()):
        return
    if p.is_dir():
        raise UnsafeOutput(f"{flag} {p}: is a directory; give a file name such as {p / 'scenario.yaml'}")
    try:
        text = p.read_text(encoding="utf-8") if p.stat().st_size < 50_000_000 else ""
    except (OSError, UnicodeDecodeError):
        text = ""
    body, _, last = text[:-1].rpartition("\n") if text.endswith("\n") else ("", "", "")
    body += "\n"
    if not p.is_symlink() and last + "\n" == _SIGNATURE.format(
            hashlib.sha256(body.encode("utf-8")).hexdigest()):
        return
    raise UnsafeOutput(f"{flag} {p}: exists and was not written by supportsim (or was edited "
                       "since); supportsim will not overwrite it - choose another file name")
