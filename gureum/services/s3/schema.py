"""S3's tables: buckets (global names, owned by an account) and objects (keys as UTF-8 BLOBs).

Keys are stored as BLOBs of their UTF-8 bytes so SQLite's ORDER BY is S3's binary key order.
"""

MIGRATIONS = [
    """
    CREATE TABLE s3_buckets (
        name TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        created REAL NOT NULL,
        policy TEXT,
        public_access_block TEXT,
        ownership TEXT
    );
    CREATE INDEX s3_buckets_account ON s3_buckets (account_id, name);
    CREATE TABLE s3_objects (
        bucket TEXT NOT NULL REFERENCES s3_buckets (name),
        key BLOB NOT NULL,
        blob_id TEXT NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        last_modified INTEGER NOT NULL,
        headers TEXT NOT NULL,
        metadata TEXT NOT NULL,
        storage_class TEXT NOT NULL,
        checksums TEXT NOT NULL,
        tags TEXT NOT NULL,
        PRIMARY KEY (bucket, key)
    ) WITHOUT ROWID;
    """
]

# Multipart uploads in progress and their parts (each part one blob until completion).
MIGRATIONS.append(
    """
    CREATE TABLE s3_uploads (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        upload_id TEXT NOT NULL UNIQUE,
        bucket TEXT NOT NULL,
        key BLOB NOT NULL,
        initiated REAL NOT NULL,
        initiator TEXT NOT NULL,
        headers TEXT NOT NULL,
        metadata TEXT NOT NULL,
        storage_class TEXT NOT NULL,
        tags TEXT NOT NULL,
        checksum_algorithm TEXT,
        checksum_type TEXT
    );
    CREATE INDEX s3_uploads_bucket_key ON s3_uploads (bucket, key, seq);
    CREATE TABLE s3_parts (
        upload_id TEXT NOT NULL,
        part_number INTEGER NOT NULL,
        blob_id TEXT NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        md5 BLOB NOT NULL,
        last_modified INTEGER NOT NULL,
        checksums TEXT NOT NULL,
        PRIMARY KEY (upload_id, part_number)
    ) WITHOUT ROWID;
    """
)

# Versioning: each bucket's status; the current version's id and order in s3_current (no row
# there: the "null" version, as every object written before versioning is); every other
# version (noncurrent versions and delete markers) in s3_versions. seq orders a key's versions.
MIGRATIONS.append(
    """
    ALTER TABLE s3_buckets ADD COLUMN versioning TEXT;
    ALTER TABLE s3_buckets ADD COLUMN mfa_delete TEXT;
    CREATE TABLE s3_current (
        bucket TEXT NOT NULL,
        key BLOB NOT NULL,
        version_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (bucket, key)
    ) WITHOUT ROWID;
    CREATE TABLE s3_versions (
        bucket TEXT NOT NULL,
        key BLOB NOT NULL,
        version_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        delete_marker INTEGER NOT NULL,
        blob_id TEXT,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        last_modified INTEGER NOT NULL,
        headers TEXT NOT NULL,
        metadata TEXT NOT NULL,
        storage_class TEXT NOT NULL,
        checksums TEXT NOT NULL,
        tags TEXT NOT NULL,
        PRIMARY KEY (bucket, key, version_id)
    ) WITHOUT ROWID;
    CREATE INDEX s3_versions_order ON s3_versions (bucket, key, seq);
    CREATE VIEW s3_latest AS
        SELECT o.*, coalesce(c.version_id, 'null') AS version_id, coalesce(c.seq, 0) AS seq
        FROM s3_objects o LEFT JOIN s3_current c ON c.bucket = o.bucket AND c.key = o.key;
    """
)


def blob_references(db):
    """Every blob S3's rows refer to: current objects, other versions, and uploaded parts."""
    present = {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'"
                                      " AND name IN ('s3_objects', 's3_versions', 's3_parts')")}
    for table in ("s3_objects", "s3_versions", "s3_parts"):  # a fixed list, never user input
        if table in present:
            for row in db.query(f"SELECT blob_id FROM {table} WHERE blob_id IS NOT NULL"):
                yield row[0]
