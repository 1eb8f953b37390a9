"""SQLite metadata store with per-service migrations."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence


class Database:
    """One SQLite database in WAL mode.

    WAL with synchronous=NORMAL makes every committed transaction survive a killed
    process (the log is in the OS before commit returns); FULL also covers power loss and
    is used when `durable_to_power_loss` is set. All access goes through one connection
    guarded by a lock: the gateway runs providers on its event loop thread, and background
    timers may call in from other threads.
    """

    def __init__(self, path: Path | str, *, durable_to_power_loss: bool = False):
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._in_tx = 0
        self._rollbacks = 0
        c = self._conn
        c.execute("PRAGMA journal_mode=WAL")
        c.execute(f"PRAGMA synchronous={'FULL' if durable_to_power_loss else 'NORMAL'}")
        c.execute("PRAGMA foreign_keys=ON")
        c.execute("PRAGMA busy_timeout=5000")
        c.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " component TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (component, version))"
        )

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close: a closed store is one file."""
        with self._lock:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # already closed, or a reader elsewhere holds the log: SQLite recovers it on open
            self._conn.close()

    def migrate(self, component: str, migrations: Sequence[str]) -> None:
        """Apply the not yet applied migrations of a component (a service or a core part).

        Migration N is `migrations[N-1]`, a script of SQL statements; each runs in its own
        transaction together with its bookkeeping row, so a crash mid-way repeats it whole.
        """
        with self._lock:
            done = {
                row[0]
                for row in self._conn.execute(
                    "SELECT version FROM schema_migrations WHERE component = ?", (component,)
                )
            }
            for version, script in enumerate(migrations, start=1):
                if version in done:
                    continue
                with self.transaction():
                    for statement in _split_sql(script):
                        self._conn.execute(statement)
                    self._conn.execute(
                        "INSERT INTO schema_migrations (component, version) VALUES (?, ?)",
                        (component, version),
                    )

    @contextmanager
    def transaction(self) -> Iterator["Database"]:
        """A write transaction; nested uses join the outer one."""
        with self._lock:
            if self._in_tx:
                self._in_tx += 1
                try:
                    yield self
                finally:
                    self._in_tx -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._in_tx = 1
            try:
                yield self
            except BaseException:
                self._in_tx = 0
                self._rollbacks += 1
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._in_tx = 0
                self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> int:
        """Run a statement; returns the number of rows changed."""
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def insert(self, sql: str, params: Sequence[Any] | dict = ()) -> int:
        """Run an INSERT; returns the new row's rowid."""
        with self._lock:
            return self._conn.execute(sql, params).lastrowid

    def query(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    @property
    def rollbacks(self) -> int:
        """Transactions undone since the store opened: a row cached from inside one may be gone."""
        return self._rollbacks

    def query_one(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
