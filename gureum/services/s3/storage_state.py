"""State of object lock, restores, lifecycle and notification configurations (component "s3-storage").

Bucket-level configurations are small and read on hot paths (every GET asks whether a
lifecycle rule will expire the object), so they are also kept in memory, loaded once and
replaced whenever they are written.
"""

from __future__ import annotations

import json

MIGRATIONS = [
    """
    CREATE TABLE s3_bucket_configs (
        bucket TEXT NOT NULL,
        kind TEXT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY (bucket, kind)
    ) WITHOUT ROWID;
    CREATE TABLE s3_object_locks (
        bucket TEXT NOT NULL,
        key BLOB NOT NULL,
        version_id TEXT NOT NULL,
        mode TEXT,
        retain_until REAL,
        legal_hold TEXT,
        PRIMARY KEY (bucket, key, version_id)
    ) WITHOUT ROWID;
    CREATE TABLE s3_upload_locks (
        upload_id TEXT PRIMARY KEY,
        mode TEXT,
        retain_until REAL,
        legal_hold TEXT
    );
    CREATE TABLE s3_restores (
        bucket TEXT NOT NULL,
        key BLOB NOT NULL,
        version_id TEXT NOT NULL,
        days INTEGER NOT NULL,
        tier TEXT NOT NULL,
        requested REAL NOT NULL,
        completes REAL NOT NULL,
        expires REAL NOT NULL,
        announced INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (bucket, key, version_id)
    ) WITHOUT ROWID;
    """
]

# Kinds of bucket configuration kept in s3_bucket_configs.
OBJECT_LOCK, LIFECYCLE, NOTIFICATION = "object-lock", "lifecycle", "notification"


class StorageState:
    """Migrations and the in-memory copies of bucket configurations, mixed into the S3 provider."""

    def __init__(self, env) -> None:
        super().__init__(env)
        env.db.migrate("s3-storage", MIGRATIONS)
        self._configs: dict[str, dict[str, dict]] = {OBJECT_LOCK: {}, LIFECYCLE: {}, NOTIFICATION: {}}
        for row in env.db.query("SELECT bucket, kind, document FROM s3_bucket_configs"):
            self._configs.setdefault(row["kind"], {})[row["bucket"]] = json.loads(row["document"])
        # Buckets that ever held a restore: only their writes need to clear restore rows.
        self._restored_buckets = {r["bucket"] for r in env.db.query("SELECT DISTINCT bucket FROM s3_restores")}
        if self._configs[LIFECYCLE]:
            self._start_lifecycle()

    def _config(self, kind: str, bucket: str) -> dict | None:
        return self._configs[kind].get(bucket)

    def _set_config(self, kind: str, bucket: str, document: dict | None) -> None:
        """Write (or with None remove) a configuration; call inside the caller's transaction."""
        if document is None:
            self.env.db.execute("DELETE FROM s3_bucket_configs WHERE bucket = ? AND kind = ?", (bucket, kind))
            self._configs[kind].pop(bucket, None)
        else:
            self.env.db.execute("INSERT OR REPLACE INTO s3_bucket_configs (bucket, kind, document) VALUES (?, ?, ?)",
                                (bucket, kind, json.dumps(document)))
            self._configs[kind][bucket] = document

    def _forget_bucket_state(self, bucket: str) -> None:
        """A deleted bucket's configurations go with it (a new bucket of that name starts clean)."""
        db = self.env.db
        for table in ("s3_bucket_configs", "s3_object_locks", "s3_restores"):
            db.execute(f"DELETE FROM {table} WHERE bucket = ?", (bucket,))
        for kind in self._configs.values():
            kind.pop(bucket, None)

    def _forget_version_state(self, bucket: str, raw_key: bytes, version_id: str) -> None:
        """A version that no longer exists keeps no lock or restore."""
        db = self.env.db
        if bucket in self._configs[OBJECT_LOCK]:  # only lock-enabled buckets hold locks
            db.execute("DELETE FROM s3_object_locks WHERE bucket = ? AND key = ? AND version_id = ?",
                       (bucket, raw_key, version_id))
        if bucket in self._restored_buckets:
            db.execute("DELETE FROM s3_restores WHERE bucket = ? AND key = ? AND version_id = ?",
                       (bucket, raw_key, version_id))
