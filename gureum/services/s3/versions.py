"""Object versions: the current one in s3_objects (its id in s3_current, which a "null" current
version may lack), others in s3_versions.

A key's current version is always its newest; writing or deleting demotes it into
s3_versions. Version ids are 32 URL-safe random characters, or "null" for objects written
while versioning was never enabled or is suspended.
"""

from __future__ import annotations

import secrets

from gureum.protocol.errors import ServiceError
from gureum.store import Database

NULL = "null"
_COLUMNS = "blob_id, size, etag, last_modified, headers, metadata, storage_class, checksums, tags"


_VERSION_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"


def new_version_id() -> str:
    """32 characters of letters, digits, `.` and `_`, like AWS's (never a leading `-`)."""
    return "".join(secrets.choice(_VERSION_ALPHABET) for _ in range(32))


def check_version_id(version_id: str) -> None:
    if version_id != NULL and (len(version_id) != 32 or not all(c.isalnum() or c in "-_." for c in version_id)):
        raise ServiceError("InvalidArgument", "Invalid version id specified", 400,
                           fields={"ArgumentName": "versionId", "ArgumentValue": version_id})


def no_such_version(key: str, version_id: str) -> ServiceError:
    return ServiceError("NoSuchVersion", "The specified version does not exist.", 404,
                        fields={"Key": key, "VersionId": version_id})


def next_seq(db: Database, bucket: str, raw_key: bytes) -> int:
    row = db.query_one(
        "SELECT max(s) AS m FROM (SELECT max(seq) AS s FROM s3_current WHERE bucket = ? AND key = ?"
        " UNION ALL SELECT max(seq) FROM s3_versions WHERE bucket = ? AND key = ?)",
        (bucket, raw_key, bucket, raw_key))
    return (row["m"] or 0) + 1


def demote_current(db: Database, bucket: str, raw_key: bytes) -> None:
    """Move the current version (if any) into s3_versions as a noncurrent version."""
    db.execute(
        f"INSERT INTO s3_versions (bucket, key, version_id, seq, delete_marker, {_COLUMNS})"
        f" SELECT bucket, key, version_id, seq, 0, {_COLUMNS} FROM s3_latest WHERE bucket = ? AND key = ?",
        (bucket, raw_key))
    remove_current(db, bucket, raw_key)


def remove_current(db: Database, bucket: str, raw_key: bytes) -> None:
    db.execute("DELETE FROM s3_objects WHERE bucket = ? AND key = ?", (bucket, raw_key))
    db.execute("DELETE FROM s3_current WHERE bucket = ? AND key = ?", (bucket, raw_key))


def set_current(db: Database, bucket: str, raw_key: bytes, version_id: str, seq: int) -> None:
    db.execute("INSERT OR REPLACE INTO s3_current (bucket, key, version_id, seq) VALUES (?, ?, ?, ?)",
               (bucket, raw_key, version_id, seq))


def drop_null(db: Database, bucket: str, raw_key: bytes) -> list[str]:
    """Remove the key's noncurrent "null" version or marker; returns blobs to delete after commit."""
    row = db.query_one("SELECT blob_id FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = ?",
                       (bucket, raw_key, NULL))
    if row is None:
        return []
    db.execute("DELETE FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = ?", (bucket, raw_key, NULL))
    return [row["blob_id"]] if row["blob_id"] else []


def promote_newest(db: Database, bucket: str, raw_key: bytes) -> None:
    """With no current row, the newest noncurrent version becomes current unless it is a marker."""
    if db.query_one("SELECT 1 FROM s3_objects WHERE bucket = ? AND key = ?", (bucket, raw_key)):
        return
    row = db.query_one("SELECT version_id, seq, delete_marker FROM s3_versions WHERE bucket = ? AND key = ?"
                       " ORDER BY seq DESC LIMIT 1", (bucket, raw_key))
    if row is None or row["delete_marker"]:
        return
    db.execute(
        f"INSERT INTO s3_objects (bucket, key, {_COLUMNS}) SELECT bucket, key, {_COLUMNS} FROM s3_versions"
        " WHERE bucket = ? AND key = ? AND version_id = ?", (bucket, raw_key, row["version_id"]))
    set_current(db, bucket, raw_key, row["version_id"], row["seq"])
    db.execute("DELETE FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = ?",
               (bucket, raw_key, row["version_id"]))


def add_marker(db: Database, bucket: str, raw_key: bytes, version_id: str, now: int) -> None:
    db.execute(
        f"INSERT INTO s3_versions (bucket, key, version_id, seq, delete_marker, {_COLUMNS})"
        " VALUES (?, ?, ?, ?, 1, NULL, 0, '', ?, '{}', '{}', 'STANDARD', '{}', '{}')",
        (bucket, raw_key, version_id, next_seq(db, bucket, raw_key), now))


def find(db: Database, bucket: str, raw_key: bytes, version_id: str):
    """The version's row (with a delete_marker column), or None."""
    row = db.query_one(f"SELECT key, version_id, seq, 0 AS delete_marker, {_COLUMNS} FROM s3_latest"
                       " WHERE bucket = ? AND key = ? AND version_id = ?", (bucket, raw_key, version_id))
    if row is None:
        row = db.query_one(f"SELECT key, version_id, seq, delete_marker, {_COLUMNS} FROM s3_versions"
                           " WHERE bucket = ? AND key = ? AND version_id = ?", (bucket, raw_key, version_id))
    return row


def latest_marker(db: Database, bucket: str, raw_key: bytes):
    """The key's newest version if it is a delete marker (no current object), else None."""
    row = db.query_one("SELECT version_id, delete_marker FROM s3_versions WHERE bucket = ? AND key = ?"
                       " ORDER BY seq DESC LIMIT 1", (bucket, raw_key))
    return row if row is not None and row["delete_marker"] else None


def listing(db: Database, bucket: str, prefix: bytes) -> list:
    """Every version under prefix, by key then newest first, each with is_latest."""
    return db.query(
        f"SELECT key, version_id, seq, 0 AS delete_marker, {_COLUMNS} FROM s3_latest"
        " WHERE bucket = ? AND substr(key, 1, ?) = ?"
        f" UNION ALL SELECT key, version_id, seq, delete_marker, {_COLUMNS} FROM s3_versions"
        " WHERE bucket = ? AND substr(key, 1, ?) = ? ORDER BY key, seq DESC",
        (bucket, len(prefix), prefix, bucket, len(prefix), prefix))
