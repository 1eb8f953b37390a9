"""Content bytes (objects, code packages) as files under the data directory.

A blob is written to a temporary name and renamed into place only when complete, so a
killed process never leaves a half-written blob under a real name. Blob ids are generated
here (random hex), never derived from user input, so no bucket name or key can reach the
file system.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO, Iterator


_BLOB_ID = re.compile(r"[0-9a-f]{32}")


class BlobStore:
    def __init__(self, root: Path | str, *, fsync: bool = False):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(exist_ok=True)
        self._fsync = fsync
        # Plain strings on the per-request path: pathlib costs microseconds a join.
        self._root_text = str(self.root)
        self._tmp_text = str(self._tmp)
        self._shards: set[str] = set()  # shard directories known to exist

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

    def open(self, blob_id: str) -> BinaryIO:
        return open(self._path(blob_id), "rb")

    def read(self, blob_id: str) -> bytes:
        with self.open(blob_id) as f:
            return f.read()

    def size(self, blob_id: str) -> int:
        return os.stat(self._path(blob_id)).st_size

    def delete(self, blob_id: str) -> None:
        try:
            os.unlink(self._path(blob_id))
        except FileNotFoundError:
            pass

    def exists(self, blob_id: str) -> bool:
        return os.path.exists(self._path(blob_id))

    def ids(self) -> Iterator[str]:
        """Every committed blob's id (partial writes under tmp/ excluded)."""
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
    """Write a blob incrementally; `commit()` renames it into place and returns its id."""

    def __init__(self, store: BlobStore):
        self._store = store
        self.blob_id = secrets.token_hex(16)
        self._tmp_path = os.path.join(store._tmp_text, self.blob_id)
        self._file = open(self._tmp_path, "wb")
        self.size = 0
        self._done = False

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self.size += len(data)

    def commit(self) -> str:
        self._file.flush()
        if self._store._fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        self._store._shard(self.blob_id)
        os.replace(self._tmp_path, self._store._path(self.blob_id))
        self._done = True
        return self.blob_id

    def abort(self) -> None:
        if not self._done:
            self._file.close()
            try:
                os.unlink(self._tmp_path)
            except FileNotFoundError:
                pass
            self._done = True

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.abort()
