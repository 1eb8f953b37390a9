"""State: metadata in SQLite (WAL), bytes in a blob store (small blobs as rows, others as files).

Providers see only the narrow interface of `Database` (execute, query, transaction,
migrate) and `BlobStore` (put, open, delete), so another backend can stand behind it.
"""

from gureum.store.blobs import BlobStore
from gureum.store.db import Database

__all__ = ["BlobStore", "Database"]
