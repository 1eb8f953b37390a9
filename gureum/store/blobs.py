"""Content bytes (objects, code packages): small ones as database rows, the rest as files.

A blob of at most INLINE_MAX bytes is a row of the state database (`blobs_inline`), written on
the store's connection: inside a caller's transaction it commits with the rows that refer to
it. Creating a file costs the kernel far more than a 1 KiB object's bytes (an inode, a
directory entry, a rename), and a small object is most objects.

A larger blob is written to a temporary name and renamed into place only when complete, so a
killed process never leaves a half-written blob under a real name. Blob ids are generated
here (random hex; inline ones `i` and the 16 hex digits of their row id), never derived from user
input, so no bucket name or key can reach the file system.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import sqlite3
from pathlib import Path
from typing import BinaryIO, Iterator


_BLOB_ID = re.compile(r"[0-9a-f]{32}")
_INLINE_ID = re.compile(r"i[0-9a-f]{16}")
# Blobs up to this size are rows: SQLite reads and writes blobs of a few pages faster than the
# file system creates and opens files, and larger ones would bloat its log and checkpoints.
INLINE_MAX = 16 * 1024
# Row ids only grow (AUTOINCREMENT): an id is never reused, and inserts append to the table's
# last page instead of splitting pages all over it as random ids did (half the commit's cost).
MIGRATIONS = ["CREATE TABLE blobs_inline (n INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL)"]


def is_inline(blob_id: str) -> bool:
    return blob_id[:1] == "i"


class InlineBlobs:
    """Small blobs as rows; `db` is the state `Database` or anything with its query/execute."""

    def __init__(self, db):
        self._db = db

    @staticmethod
    def _row(blob_id: str) -> int:
        if not _INLINE_ID.fullmatch(blob_id):
            raise ValueError("invalid blob id")
        return int(blob_id[1:], 16)

    def put(self, data: bytes) -> str:
        return f"i{self._db.insert('INSERT INTO blobs_inline (data) VALUES (?)', (data,)):016x}"

    def get(self, blob_id: str) -> bytes:
        row = self._db.query_one("SELECT data FROM blobs_inline WHERE n = ?", (self._row(blob_id),))
        if row is None:
            raise FileNotFoundError(f"blob {blob_id} does not exist")
        return row[0]

    def size(self, blob_id: str) -> int | None:
        row = self._db.query_one("SELECT length(data) FROM blobs_inline WHERE n = ?", (self._row(blob_id),))
        return None if row is None else row[0]

    def delete(self, blob_id: str) -> None:
        self._db.execute("DELETE FROM blobs_inline WHERE n = ?", (self._row(blob_id),))

    def ids(self) -> list[str]:
        try:
            return [f"i{r[0]:016x}" for r in self._db.query("SELECT n FROM blobs_inline")]
        except sqlite3.OperationalError:  # a data directory from before inline blobs
            return []


class BlobStore:
    """Blobs of the data directory; without `db` (tools reading a directory) files only."""

    def __init__(self, root: Path | str, *, db=None, fsync: bool = False):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(exist_ok=True)
        self._fsync = fsync
        # Plain strings on the per-request path: pathlib costs microseconds a join.
        self._root_text = str(self.root)
        self._tmp_text = str(self._tmp)
        self._shards: set[str] = set()  # shard directories known to exist
        self.inline: InlineBlobs | None = None
        if db is not None:
            db.migrate("blobs", MIGRATIONS)
            self.inline = InlineBlobs(db)

    def _path(self, blob_id: str) -> str:
        if not _BLOB_ID.fullmatch(blob_id):
            raise ValueError("invalid blob id")
        return os.path.join(self._root_text, blob_id[:2], blob_id)

    def _shard(self, blob_id: str) -> None:
        """Make the blob's shard directory (once per process: they are never removed)."""
        shard = blob_id[:2]
        if shard not in self._shards:
            os.makedirs(os.path.join(self._root_text, shard), exist_ok=True)
            self._shards.add(shard)

    def new_writer(self) -> "BlobWriter":
        return BlobWriter(self)

    def put(self, data: bytes) -> str:
        with self.new_writer() as w:
            w.write(data)
            return w.commit()

    def _inline(self) -> InlineBlobs:
        if self.inline is None:
            raise FileNotFoundError("inline blobs need the state database")
        return self.inline

    def open(self, blob_id: str) -> BinaryIO:
        if is_inline(blob_id):
            return io.BytesIO(self._inline().get(blob_id))
        return open(self._path(blob_id), "rb")

    def read(self, blob_id: str) -> bytes:
        with self.open(blob_id) as f:
            return f.read()

    def size(self, blob_id: str) -> int:
        if is_inline(blob_id):
            size = self._inline().size(blob_id)
            if size is None:
                raise FileNotFoundError(f"blob {blob_id} does not exist")
            return size
        return os.stat(self._path(blob_id)).st_size

    def delete(self, blob_id: str) -> None:
        if is_inline(blob_id):
            self._inline().delete(blob_id)
            return
        try:
            os.unlink(self._path(blob_id))
        except FileNotFoundError:
            pass

    def exists(self, blob_id: str) -> bool:
        if is_inline(blob_id):
            return self.inline is not None and self.inline.size(blob_id) is not None
        return os.path.exists(self._path(blob_id))

    def ids(self) -> Iterator[str]:
        """Every committed blob's id (partial writes under tmp/ excluded)."""
        if self.inline is not None:
            yield from self.inline.ids()
        for shard in sorted(self.root.iterdir()):
            if len(shard.name) != 2 or not shard.is_dir():
                continue
            for p in shard.iterdir():
                if len(p.name) == 32 and p.name.startswith(shard.name):
                    yield p.name

    def temporaries(self) -> list[Path]:
        """Partial writes: in-flight uploads while a server runs, leftovers of a killed one otherwise."""
        return list(self._tmp.iterdir())

    def clear_temporaries(self) -> int:
        """Remove partial writes left by a killed process; returns how many."""
        n = 0
        for p in self._tmp.iterdir():
            p.unlink(missing_ok=True)
            n += 1
        return n


class BlobWriter:
    """Write a blob incrementally; `commit()` stores it and returns its id.

    The bytes stay in memory while they fit an inline blob; past that they go to a temporary
    file, renamed into place on commit. An inline blob's row is written on the store's
    connection, so a commit inside a transaction is undone with it.
    """

    def __init__(self, store: BlobStore):
        self._store = store
        self._buffer: bytearray | None = bytearray() if store.inline is not None else None
        self._file = None
        self._tmp_path = ""
        self.blob_id = ""
        self.size = 0
        self._done = False
        if self._buffer is None:
            self._open_file()

    def _open_file(self) -> None:
        self.blob_id = secrets.token_hex(16)
        self._tmp_path = os.path.join(self._store._tmp_text, self.blob_id)
        self._file = open(self._tmp_path, "wb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._buffer is not None:
            if len(self._buffer) + len(data) <= INLINE_MAX:
                self._buffer += data
                return
            pending, self._buffer = self._buffer, None
            self._open_file()
            self._file.write(pending)
        self._file.write(data)

    def commit(self) -> str:
        if self._buffer is not None:
            self.blob_id = self._store.inline.put(bytes(self._buffer))
            self._buffer = None
            self._done = True
            return self.blob_id
        self._file.flush()
        if self._store._fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        self._store._shard(self.blob_id)
        os.replace(self._tmp_path, self._store._path(self.blob_id))
        self._done = True
        return self.blob_id

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer = None
        if self._file is not None:
            self._file.close()
            try:
                os.unlink(self._tmp_path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.abort()
