"""DynamoDB Time to Live: UpdateTimeToLive, DescribeTimeToLive and the expiry sweeper.

Items of a TTL-enabled table whose TTL attribute is a Number (epoch seconds) are listed in
`dynamodb_ttl` by expiry time, kept in step with every item write. A daemon thread checks
that list against the service clock every half second and deletes what has expired, one
SQLite transaction per item; AWS deletes within days, gureum within about a second. As in
AWS, expired items stay readable until deleted, items whose TTL lies more than five years
in the past are never deleted, and each deletion is a REMOVE stream record whose
userIdentity names the DynamoDB service.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from decimal import Decimal

from gureum import clock
from gureum.context import RequestContext
from gureum.services.dynamodb.errors import validation
from gureum.services.dynamodb.tables import Table

log = logging.getLogger("gureum.dynamodb.ttl")

SWEEP_SECONDS = 0.5
TRIM_EVERY = 120  # sweeps between stream retention trims
BATCH = 100
FIVE_YEARS = 5 * 365 * 24 * 3600

MIGRATIONS = [
    """
    CREATE TABLE dynamodb_ttl (
        table_id TEXT NOT NULL, hk BLOB NOT NULL, rk BLOB NOT NULL, expires REAL NOT NULL,
        PRIMARY KEY (table_id, hk, rk)) WITHOUT ROWID;
    CREATE INDEX dynamodb_ttl_due ON dynamodb_ttl (expires);
    """
]


def expiry(item: dict | None, attribute: str) -> float | None:
    """The epoch second an item expires at, or None when its TTL attribute is not a Number."""
    value = (item or {}).get(attribute)
    if not value or "N" not in value:
        return None
    return float(Decimal(value["N"]))


class TtlMixin:
    """Time to Live of the DynamoDB provider."""

    def _setup_ttl(self) -> None:
        self.env.db.migrate("dynamodb-ttl", MIGRATIONS)
        self._sweeper: threading.Thread | None = None
        self._sweeper_lock = threading.Lock()
        self._sweeper_stop = threading.Event()
        row = self.env.db.query_one("SELECT 1 FROM dynamodb_ttl LIMIT 1")
        if row is not None:
            self._start_sweeper()

    def _ttl_changed(self, table: Table, hk: bytes, rk: bytes, new: dict | None) -> None:
        at = expiry(new, table.ttl_attribute)
        if at is None:
            self.env.db.execute("DELETE FROM dynamodb_ttl WHERE table_id = ? AND hk = ? AND rk = ?",
                                (table.table_id, hk, rk))
        else:
            self.env.db.execute("INSERT OR REPLACE INTO dynamodb_ttl (table_id, hk, rk, expires) VALUES (?, ?, ?, ?)",
                                (table.table_id, hk, rk, at))
            self._start_sweeper()

    def _drop_ttl(self, table: Table) -> None:
        self.env.db.execute("DELETE FROM dynamodb_ttl WHERE table_id = ?", (table.table_id,))

    def update_time_to_live(self, ctx: RequestContext, request: dict) -> dict:
        name = request["TableName"]
        table = self._table(ctx, name, f"Requested resource not found: Table: {name} not found")
        spec = request["TimeToLiveSpecification"]
        attribute, enabled = spec["AttributeName"], spec["Enabled"]
        if enabled:
            if table.ttl_attribute:
                raise validation("TimeToLive is already enabled")
        elif not table.ttl_attribute:
            raise validation("TimeToLive is already disabled")
        elif table.ttl_attribute != attribute:
            raise validation(f"TimeToLive is active on a different AttributeName: current AttributeName is "
                             f"{table.ttl_attribute}")
        from gureum.services.dynamodb.provider import _decode
        with self.env.db.transaction():
            self._drop_ttl(table)
            table.ttl_attribute = attribute if enabled else None
            if enabled:
                for row in self.env.db.query("SELECT hk, rk, item FROM dynamodb_items WHERE table_id = ?",
                                             (table.table_id,)):
                    self._ttl_changed(table, row["hk"], row["rk"], _decode(row["item"]))
            self._save(table)
        if enabled:
            self._start_sweeper()
        return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}

    def describe_time_to_live(self, ctx: RequestContext, request: dict) -> dict:
        name = request["TableName"]
        table = self._table(ctx, name, f"Requested resource not found: Table: {name} not found")
        if table.ttl_attribute:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}}
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}

    # ---- the sweeper -------------------------------------------------------------------------

    def _start_sweeper(self) -> None:
        with self._sweeper_lock:
            if self._sweeper is None:
                self._sweeper = threading.Thread(target=self._sweep_forever, name="dynamodb-ttl", daemon=True)
                self._sweeper.start()

    def close(self) -> None:
        """Stop the sweeper (the cloud is shutting down) and wait for a pass in progress."""
        self._sweeper_stop.set()
        sweeper = self._sweeper
        if sweeper is not None and sweeper is not threading.current_thread():
            sweeper.join(timeout=5)

    def _sweep_forever(self) -> None:
        sweeps = 0
        while not self._sweeper_stop.wait(SWEEP_SECONDS):
            try:
                self.sweep_expired()
                sweeps += 1
                if sweeps % TRIM_EVERY == 0:
                    self._trim_streams()
            except sqlite3.ProgrammingError:
                return  # the store was closed: the cloud is shutting down
            except Exception:
                log.exception("TTL sweep failed")

    def sweep_expired(self) -> int:
        """Delete the items whose TTL has passed; the number deleted."""
        now = clock.epoch()
        deleted = 0
        rows = self.env.db.query("SELECT table_id, hk, rk, expires FROM dynamodb_ttl WHERE expires <= ?"
                                 " ORDER BY expires LIMIT ?", (now, BATCH))
        for row in rows:
            where = self.env.db.query_one("SELECT account_id, region, name FROM dynamodb_tables WHERE table_id = ?",
                                          (row["table_id"],))
            table = self._find(where["account_id"], where["region"], where["name"]) if where else None
            with self.env.db.transaction():
                if table is None or not table.ttl_attribute:
                    self.env.db.execute("DELETE FROM dynamodb_ttl WHERE table_id = ?", (row["table_id"],))
                    continue
                item = self._load(table, row["hk"], row["rk"])
                at = expiry(item, table.ttl_attribute)
                if at is None or at > now:
                    self._ttl_changed(table, row["hk"], row["rk"], item)
                    continue
                if at < now - FIVE_YEARS:
                    # AWS leaves items whose TTL is more than five years past alone.
                    self.env.db.execute("DELETE FROM dynamodb_ttl WHERE table_id = ? AND hk = ? AND rk = ?",
                                        (table.table_id, row["hk"], row["rk"]))
                    continue
                from gureum.services.dynamodb.streams import TTL_IDENTITY
                self._identity.value = TTL_IDENTITY
                try:
                    self._store(table, row["hk"], row["rk"], None)
                finally:
                    self._identity.value = None
                deleted += 1
            self._publish_stream_records()
        return deleted
