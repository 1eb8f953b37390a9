"""`gureum doctor`: is a data directory's store consistent, and clean up what a crash left.

Checks SQLite's own integrity and foreign keys, then the tie between rows and blobs: every
blob a service's rows refer to must exist (each service package names its references through
`blob_references(db)`, see gureum/services/__init__.py), and a blob nothing refers to is an orphan
(an upload killed between committing its bytes and its row, or a delete killed between its
row and its bytes). Blobs are files under blobs/ and, the small ones, rows of the database
(gureum/store/blobs.py). Partial writes under blobs/tmp are leftovers of a killed process.

With the data directory free, `repair` deletes orphans and leftovers; never a referenced blob,
and nothing at all when the store is damaged (a corrupt or missing database, or referenced
blobs gone: its references cannot be trusted, so nothing is called an orphan).
While a server holds the directory the check still runs, read-only: a blob being uploaded
right now may then show as an orphan, so repair is refused.
"""

from __future__ import annotations

import importlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from gureum.store import BlobStore
from gureum.store.blobs import InlineBlobs, is_inline

DB_FILE = "state.sqlite3"


class ConnectionView:
    """`Database`'s query and execute over a plain connection (read-only while a server runs)."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return self._conn.execute(sql, params).fetchone()


@dataclass
class Report:
    data_dir: str
    live: bool  # a server held the directory: read-only check
    integrity: list[str] = field(default_factory=list)  # empty when SQLite finds nothing wrong
    foreign_keys: int = 0
    blobs: int = 0
    referenced: dict[str, int] = field(default_factory=dict)  # service -> blobs it refers to
    missing: dict[str, list[str]] = field(default_factory=dict)  # service -> referenced, absent
    orphans: list[str] = field(default_factory=list)
    temporaries: int = 0
    removed_orphans: int = 0
    removed_temporaries: int = 0
    reclaimed_bytes: int = 0  # database pages freed by deleted rows, given back by repair

    @property
    def damaged(self) -> bool:
        """Data is lost or unreadable: repair cannot fix this."""
        return bool(self.integrity or self.foreign_keys or any(self.missing.values()))

    @property
    def clean(self) -> bool:
        """Nothing damaged and nothing left over (or all of it removed by repair)."""
        return (not self.damaged and len(self.orphans) == self.removed_orphans
                and self.temporaries <= self.removed_temporaries)

    def as_dict(self) -> dict:
        return {
            "data_dir": self.data_dir, "live": self.live, "damaged": self.damaged, "clean": self.clean,
            "integrity": self.integrity or ["ok"], "foreign_key_violations": self.foreign_keys,
            "blobs": self.blobs, "referenced": self.referenced,
            "missing": {k: v for k, v in self.missing.items() if v},
            "orphans": len(self.orphans), "temporaries": self.temporaries,
            "removed_orphans": self.removed_orphans, "removed_temporaries": self.removed_temporaries,
            "reclaimed_bytes": self.reclaimed_bytes,
        }


def blob_references(db) -> dict[str, set[str]]:
    """service name -> the blob ids its rows refer to, from each service package's hook."""
    from gureum.gateway.registry import SERVICES

    refs: dict[str, set[str]] = {}
    for spec in SERVICES:
        try:
            package = importlib.import_module(f"gureum.services.{spec.package}")
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith(f"gureum.services.{spec.package}"):
                continue  # no such service here yet
            raise
        hook = getattr(package, "blob_references", None)
        ids = set(hook(db)) if hook is not None else set()
        if ids:
            refs[spec.name] = ids
    return refs


def check(data_dir: Path, *, repair: bool = False, live: bool = False) -> Report:
    """Check (and with `repair`, clean) a data directory; the caller holds its lock unless `live`."""
    if repair and live:
        raise ValueError("repair needs the data directory to itself")
    report = Report(str(data_dir), live)
    blobs = BlobStore(data_dir / "blobs") if (data_dir / "blobs").is_dir() else None
    before = set(blobs.ids()) if blobs else set()  # listed before the rows are read: see module doc
    db_path = data_dir / DB_FILE
    refs: dict[str, set[str]] = {}
    inline: set[str] = set()  # read with the references: a row blob cannot be in flight
    if db_path.exists():
        uri = f"file:{db_path}?mode=ro" if live else str(db_path)
        conn = sqlite3.connect(uri, uri=live)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            report.integrity = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
            report.foreign_keys = len(conn.execute("PRAGMA foreign_key_check").fetchall())
            if not report.integrity:
                conn.execute("BEGIN")  # one snapshot for every service's references
                refs = blob_references(ConnectionView(conn))
                inline = set(InlineBlobs(ConnectionView(conn)).ids())
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:  # not a database, or too damaged to read
            report.integrity = report.integrity or [f"{DB_FILE}: {e}"]
        finally:
            conn.close()
    elif before:
        report.integrity = [f"{DB_FILE} is missing but blobs are present"]  # never call them all orphans
    after = set(blobs.ids()) if blobs else set()
    present = before | after | inline
    report.blobs = len(after) + len(inline)
    referenced = set().union(*refs.values()) if refs else set()
    report.referenced = {name: len(ids) for name, ids in refs.items()}
    report.missing = {name: sorted(ids - present) for name, ids in refs.items()}
    report.orphans = sorted(((before & after) | inline) - referenced)
    report.temporaries = len(blobs.temporaries()) if blobs else 0
    if repair and not report.damaged:
        _remove_orphans(data_dir, blobs, report.orphans)
        report.removed_orphans = len(report.orphans)
        report.removed_temporaries = blobs.clear_temporaries() if blobs else 0
        if db_path.exists():
            report.reclaimed_bytes = _compact(db_path)
    return report


def _compact(db_path: Path) -> int:
    """Give the pages of deleted rows (small blobs among them) back to the file system; returns
    the bytes freed. SQLite reuses free pages but never shrinks its file by itself."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        if free:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return free * page_size
    finally:
        conn.close()


def blob_ids(data_dir: Path) -> set[str]:
    """Every committed blob of a data directory, files and rows (a server may be running)."""
    ids = set(BlobStore(data_dir / "blobs").ids()) if (data_dir / "blobs").is_dir() else set()
    if (data_dir / DB_FILE).exists():
        conn = sqlite3.connect(f"file:{data_dir / DB_FILE}?mode=ro", uri=True)
        try:
            ids |= set(InlineBlobs(ConnectionView(conn)).ids())
        except sqlite3.DatabaseError:
            pass  # not a database: no rows to count
        finally:
            conn.close()
    return ids


def _remove_orphans(data_dir: Path, blobs: BlobStore | None, orphans: list[str]) -> None:
    rows = [b for b in orphans if is_inline(b)]
    if rows:
        conn = sqlite3.connect(data_dir / DB_FILE, isolation_level=None)
        try:
            inline = InlineBlobs(ConnectionView(conn))
            for blob_id in rows:
                inline.delete(blob_id)
        finally:
            conn.close()
    for blob_id in orphans:
        if blobs is not None and not is_inline(blob_id):
            blobs.delete(blob_id)


def render(report: Report) -> str:
    """The report as a person reads it."""
    lines = [f"data directory: {report.data_dir}" + (" (in use by a running gureum: read-only check)"
                                                      if report.live else "")]
    lines.append("database integrity: " + ("ok" if not report.integrity else "; ".join(report.integrity[:5])))
    if report.foreign_keys:
        lines.append(f"foreign key violations: {report.foreign_keys}")
    refs = ", ".join(f"{n} {c}" for n, c in sorted(report.referenced.items())) or "none"
    lines.append(f"blobs: {report.blobs} on disk, referenced: {refs}")
    for name, ids in sorted(report.missing.items()):
        if ids:
            lines.append(f"MISSING: {len(ids)} blob(s) {name} refers to are gone (e.g. {ids[0]})")
    note = " (may include uploads in flight)" if report.live else ""
    lines.append(f"orphan blobs: {len(report.orphans)}{note}")
    lines.append(f"partial writes (blobs/tmp): {report.temporaries}{note}")
    if report.removed_orphans or report.removed_temporaries:
        lines.append(f"removed: {report.removed_orphans} orphan blob(s), {report.removed_temporaries} partial write(s)")
    if report.reclaimed_bytes:
        lines.append(f"database compacted: {report.reclaimed_bytes / 1048576:.1f} MiB of free pages given back")
    if report.damaged:
        lines.append("result: DAMAGED (data referenced by the store is missing or the database is corrupt)")
    elif report.clean:
        lines.append("result: consistent")
    else:
        lines.append("result: consistent; unreferenced files can go: gureum doctor --repair")
    return "\n".join(lines)
