"""Walking a bucket's keys in UTF-8 byte order, rolling keys up into common prefixes.

SQLite does the ordering (keys are BLOBs). With a delimiter, once a key falls under a
common prefix the walk jumps past every key sharing it with a range query, so a listing
costs what it returns, not the size of the bucket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gureum.store import Database

_COLUMNS = "key, size, etag, last_modified, storage_class, checksums"
_FIRST_BATCH = 8


def successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with prefix (None: none)."""
    raw = bytearray(prefix)
    while raw and raw[-1] == 0xFF:
        raw.pop()
    if not raw:
        return None
    raw[-1] += 1
    return bytes(raw)


@dataclass
class Page:
    entries: list[tuple[str, Any]] = field(default_factory=list)  # ("key", row) or ("prefix", bytes)
    truncated: bool = False

    @property
    def last(self) -> bytes | None:
        if not self.entries:
            return None
        kind, value = self.entries[-1]
        return value["key"] if kind == "key" else value


def walk(db: Database, bucket: str, prefix: bytes, delimiter: bytes, after: bytes | None, max_keys: int) -> Page:
    """Up to max_keys keys and common prefixes after `after` (exclusive), in byte order."""
    page = Page()
    lower = prefix if after is None or after < prefix else after + b"\x00"
    upper = successor(prefix) if prefix else None
    full = min(max(max_keys, 1) + 1, 1001)
    # With a delimiter most rows fetched after a jump are skipped by the next jump: start
    # small and grow while rows keep being taken, so a page costs what it returns.
    batch = min(full, _FIRST_BATCH) if delimiter else full
    while True:
        sql = f"SELECT {_COLUMNS} FROM s3_objects WHERE bucket = ? AND key >= ?"
        params: list[Any] = [bucket, lower]
        if upper is not None:
            sql += " AND key < ?"
            params.append(upper)
        rows = db.query(sql + " ORDER BY key LIMIT ?", [*params, batch])
        if not rows:
            return page
        jumped = False
        for row in rows:
            key = bytes(row["key"])
            entry: tuple[str, Any] = ("key", row)
            if delimiter:
                at = key.find(delimiter, len(prefix))
                if at >= 0:
                    common = key[: at + len(delimiter)]
                    nxt = successor(common)
                    if after is not None and common <= after:
                        entry = None  # type: ignore[assignment]  # already returned before `after`
                    else:
                        entry = ("prefix", common)
                    if entry is not None:
                        if len(page.entries) >= max_keys:
                            page.truncated = True
                            return page
                        page.entries.append(entry)
                    if nxt is None:
                        return page
                    lower, jumped = nxt, True
                    break
            if len(page.entries) >= max_keys:
                page.truncated = True
                return page
            page.entries.append(entry)
            lower = key + b"\x00"
        if not jumped and len(rows) < batch:
            return page
        batch = min(full, _FIRST_BATCH) if jumped else min(full, batch * 4)
