"""`gureum state export | import`: a data directory as one archive, and back.

The archive is a tar file (gzip-compressed when its name ends in .gz or .tgz) holding:

    state.sqlite3        a consistent copy of the database (SQLite's online backup API)
    blobs/<xx>/<id>      every blob file that copy refers to, as stored (sealed S3 blobs stay
                         sealed; small blobs are rows of the database and travel in it)
    <name>               the data directory's own files, such as S3's master key
    manifest.json        format, version, gureum version, and the lists above; written last

Export runs while a server uses the directory: for the moment it takes to copy the database
and hard-link the blobs that copy refers to, it holds SQLite's write lock, so no write commits
and no referenced blob is deleted meanwhile (writers wait, then go on). Blobs are written once
and never change, so the linked files are exactly what the copy refers to.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from pathlib import Path

from gureum import __version__
from gureum.doctor import DB_FILE, ConnectionView, blob_references
from gureum.store.blobs import is_inline

FORMAT = "gureum-state"
VERSION = 1
MANIFEST = "manifest.json"
LOCK_FILE = "gureum.lock"
# Files of a data directory that never travel: the lock, SQLite's live log, partial writes.
_LOCAL = (LOCK_FILE, DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm", DB_FILE + "-journal")


class StateError(Exception):
    """An export or import that cannot be done; the message says why."""


def _tar_mode(path: Path, write: bool) -> str:
    gz = path.name.endswith((".gz", ".tgz"))
    return ("w:gz" if gz else "w") if write else "r:*"


def _own_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.iterdir()
                  if p.is_file() and p.name not in _LOCAL and not p.name.endswith(".tmp") and not p.name.startswith("."))


def _freeze(data_dir: Path, snapshot: Path, staging: Path) -> set[str]:
    """Copy the database and pin the blob files the copy refers to; returns their ids.

    Both happen inside a write transaction on the source: while it is open no writer can commit,
    and a blob is deleted only after the commit that stops referring to it, so none of the
    copy's blobs can go before it is hard-linked into `staging` (inside the data directory,
    hence on the same file system). Writers wait (SQLite's busy timeout) for that short time.
    """
    db_path = str(data_dir / DB_FILE)
    writer = sqlite3.connect(db_path, isolation_level=None)  # holds the lock; SQLite cannot back up
    src = sqlite3.connect(db_path, isolation_level=None)  # from a connection inside a transaction
    try:
        writer.execute("PRAGMA busy_timeout=10000")
        writer.execute("BEGIN IMMEDIATE")
        dst = sqlite3.connect(str(snapshot))
        try:
            src.backup(dst)
        finally:
            dst.close()
        conn = sqlite3.connect(str(snapshot))
        try:
            refs = set().union(*blob_references(ConnectionView(conn)).values())
        finally:
            conn.close()
        refs = {blob_id for blob_id in refs if not is_inline(blob_id)}  # those are rows of the copy
        for blob_id in refs:
            source = data_dir / "blobs" / blob_id[:2] / blob_id
            try:
                os.link(source, staging / blob_id)
            except FileNotFoundError:
                raise StateError(f"blob {blob_id} is missing from {data_dir}; run gureum doctor") from None
            except OSError:
                shutil.copyfile(source, staging / blob_id)  # a file system without hard links
    finally:
        writer.close()  # ends the transaction: writers go on
        src.close()
    return refs


def _add_file(tar: tarfile.TarFile, name: str, f, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = os.fstat(f.fileno()).st_size
    info.mode = mode
    info.mtime = int(time.time())
    tar.addfile(info, f)


def export_state(data_dir: Path, out: Path) -> dict:
    """Write the archive of `data_dir` to `out`; returns the manifest."""
    db_path = data_dir / DB_FILE
    if not db_path.exists():
        raise StateError(f"no gureum state in {data_dir}")
    out = out.resolve()
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=data_dir))
    partial = out.with_name(f".{out.name}.partial")
    try:
        snapshot = staging / DB_FILE
        refs = _freeze(data_dir, snapshot, staging)
        with tarfile.open(partial, _tar_mode(out, True)) as tar:
            for blob_id in sorted(refs):
                with open(staging / blob_id, "rb") as f:
                    _add_file(tar, f"blobs/{blob_id[:2]}/{blob_id}", f)
            with open(snapshot, "rb") as f:
                _add_file(tar, DB_FILE, f)
            files = []
            for path in _own_files(data_dir):
                with open(path, "rb") as f:
                    _add_file(tar, path.name, f, os.stat(path).st_mode & 0o777)
                files.append(path.name)
            manifest = {"format": FORMAT, "version": VERSION, "gureum_version": __version__,
                        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "database": DB_FILE, "files": files, "blobs": sorted(refs)}
            raw = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(raw), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(raw))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def import_state(archive: Path, data_dir: Path, *, force: bool = False) -> dict:
    """Unpack an archive into `data_dir`, which no server may hold; returns the manifest."""
    from gureum.doctor import check
    from gureum.gateway.runtime import DataDirError, _lock_data_dir

    if not archive.is_file():
        raise StateError(f"{archive} is not a file")
    try:
        lock = _lock_data_dir(data_dir)
    except DataDirError as e:
        raise StateError(str(e)) from None
    try:
        existing = [p for p in data_dir.iterdir() if p.name != LOCK_FILE]
        if existing and not force:
            raise StateError(f"{data_dir} is not empty; pass --force to replace its state")
        try:
            with tarfile.open(archive, _tar_mode(archive, False)) as tar:
                manifest = _read_manifest(tar)
                _clear(data_dir)
                _unpack(tar, manifest, data_dir)
        except (tarfile.TarError, OSError, EOFError) as e:
            _clear(data_dir)
            raise StateError(f"cannot read {archive}: {e}") from None
        except StateError:
            _clear(data_dir)
            raise
        report = check(data_dir)
        if report.damaged:
            _clear(data_dir)
            raise StateError(f"{archive} is incomplete: the state it holds refers to missing blobs")
        return manifest
    finally:
        lock.close()


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise StateError("not a gureum state archive (no manifest.json)") from None
    manifest = json.load(tar.extractfile(member))
    if manifest.get("format") != FORMAT:
        raise StateError("not a gureum state archive")
    if manifest.get("version") != VERSION:
        raise StateError(f"state archive version {manifest.get('version')} is not supported (this gureum reads {VERSION})")
    return manifest


def _unpack(tar: tarfile.TarFile, manifest: dict, data_dir: Path) -> None:
    """Write the members the manifest names, each to a path we build (never the member's own)."""
    blobs = set(manifest.get("blobs") or [])
    files = set(manifest.get("files") or [])
    for name in files:
        if "/" in name or name.startswith(".") or name in _LOCAL:
            raise StateError(f"unexpected file in archive: {name!r}")
    seen_db = False
    for member in tar:
        name = member.name
        if name == MANIFEST:
            continue
        if not member.isfile():
            raise StateError(f"unexpected member in archive: {name!r}")
        if name == DB_FILE:
            target, seen_db = data_dir / DB_FILE, True
        elif name in files:
            target = data_dir / name
        elif name.startswith("blobs/"):
            blob_id = name.rsplit("/", 1)[-1]
            if name != f"blobs/{blob_id[:2]}/{blob_id}" or len(blob_id) != 32 \
                    or any(c not in "0123456789abcdef" for c in blob_id):
                raise StateError(f"unexpected member in archive: {name!r}")
            if blob_id not in blobs:
                continue  # collected while the store changed, referred to by no one in the end
            target = data_dir / "blobs" / blob_id[:2] / blob_id
        else:
            raise StateError(f"unexpected member in archive: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, member.mode & 0o777 or 0o600)
        with os.fdopen(fd, "wb") as f:
            shutil.copyfileobj(source, f, 1024 * 1024)
    if not seen_db:
        raise StateError("the archive holds no database")
    (data_dir / "blobs" / "tmp").mkdir(parents=True, exist_ok=True)


def _clear(data_dir: Path) -> None:
    for p in data_dir.iterdir():
        if p.name == LOCK_FILE:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
