"""`gureum doctor`: crash leftovers reported and repaired; damage reported and never "repaired"."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from gureum.doctor import blob_ids
from tests.conftest import ROOT, Server, client_factory

BUCKET = "doctor-bucket"
FILE_SIZE = 20 * 1024  # past the inline size: stored as a file


def doctor(data_dir: Path, *args: str) -> tuple[int, dict | str]:
    proc = subprocess.run([sys.executable, "-m", "gureum", "doctor", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    if "--json" in args and proc.returncode in (0, 1):
        return proc.returncode, json.loads(proc.stdout)
    return proc.returncode, proc.stdout + proc.stderr


def _sql(data_dir: Path, statement: str, params: tuple = ()) -> None:
    conn = sqlite3.connect(data_dir / "state.sqlite3", isolation_level=None)
    try:
        conn.execute(statement, params)
    finally:
        conn.close()


def test_leftovers_of_a_kill_are_reported_then_repaired(tmp_path, request):
    data = tmp_path / "data"
    server = Server(data).start()
    request.addfinalizer(server.stop)
    s3 = client_factory(server.endpoint)("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="kept", Body=b"x" * 1000)
    s3.put_object(Bucket=BUCKET, Key="kept-file", Body=b"f" * FILE_SIZE)
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="parts")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="parts", UploadId=upload, PartNumber=1, Body=b"p" * 100)
    # While it runs: a read-only check, and repair is refused (an upload in flight looks orphaned).
    code, report = doctor(data, "--json")
    assert code == 0 and report["live"] and not report["damaged"]
    code, out = doctor(data, "--repair")
    assert code == 2 and "in use" in out
    server.stop(sig="kill")
    (data / "blobs" / "tmp" / ("ab" * 16)).write_bytes(b"partial")  # as a killed upload leaves them
    (data / "blobs" / "cd").mkdir(exist_ok=True)
    (data / "blobs" / "cd" / ("cd" * 16)).write_bytes(b"committed, row never written")
    _sql(data, "INSERT INTO blobs_inline (n, data) VALUES (?, ?)", (0xc0ffee, b"a small one, likewise"))

    code, report = doctor(data, "--json")
    assert code == 0 and not report["damaged"] and not report["clean"] and not report["live"]
    assert report["orphans"] == 2 and report["temporaries"] == 1 and report["referenced"] == {"s3": 3}
    code, out = doctor(data, "--repair")
    assert code == 0 and "removed: 2 orphan blob(s), 1 partial write(s)" in out and "result: consistent" in out
    left = blob_ids(data)
    assert ("cd" * 16) not in left and "i0000000000c0ffee" not in left
    assert len(left) == 3  # the objects and the part stay
    server.start()
    try:
        assert s3.get_object(Bucket=BUCKET, Key="kept")["Body"].read() == b"x" * 1000
        assert s3.get_object(Bucket=BUCKET, Key="kept-file")["Body"].read() == b"f" * FILE_SIZE
    finally:
        server.stop()


def test_missing_blob_is_damage_and_repair_touches_nothing(tmp_path, request):
    data = tmp_path / "data"
    server = Server(data).start()
    request.addfinalizer(server.stop)
    s3 = client_factory(server.endpoint)("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="a", Body=b"a" * FILE_SIZE)
    s3.put_object(Bucket=BUCKET, Key="b", Body=b"b")
    s3.put_object(Bucket=BUCKET, Key="c", Body=b"c")
    server.stop()
    lost_file = next(b for b in blob_ids(data) if not b.startswith("i"))
    (data / "blobs" / lost_file[:2] / lost_file).unlink()
    lost_row = sorted(b for b in blob_ids(data) if b.startswith("i"))[0]
    _sql(data, "DELETE FROM blobs_inline WHERE n = ?", (int(lost_row[1:], 16),))
    (data / "blobs" / "ef").mkdir(exist_ok=True)
    (data / "blobs" / "ef" / ("ef" * 16)).write_bytes(b"orphan")
    code, report = doctor(data, "--json")
    assert code == 1 and report["damaged"] and report["missing"] == {"s3": sorted([lost_file, lost_row])}
    code, report = doctor(data, "--json", "--repair")
    assert code == 1 and report["removed_orphans"] == 0 and ("ef" * 16) in blob_ids(data)


def test_corrupt_or_missing_database_is_damage(tmp_path):
    data = tmp_path / "data"
    (data / "blobs" / "12").mkdir(parents=True)
    (data / "blobs" / ("12" * 16)[:2] / ("12" * 16)).write_bytes(b"someone's object")
    code, report = doctor(data, "--json", "--repair")  # no database: the blobs are not orphans
    assert code == 1 and report["damaged"] and blob_ids(data) == {"12" * 16}
    (data / "state.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)
    code, report = doctor(data, "--json", "--repair")
    assert code == 1 and report["damaged"] and report["integrity"] != ["ok"] and blob_ids(data) == {"12" * 16}
    code, out = doctor(tmp_path / "nowhere")
    assert code == 2 and "no data directory" in out


def test_repair_gives_back_the_pages_of_deleted_small_objects(tmp_path, request):
    data = tmp_path / "data"
    server = Server(data).start()
    request.addfinalizer(server.stop)
    s3 = client_factory(server.endpoint)("s3")
    s3.create_bucket(Bucket=BUCKET)
    for n in range(300):  # ~3.6 MiB of database rows
        s3.put_object(Bucket=BUCKET, Key=f"small/{n}", Body=bytes([n % 256]) * 12000)
    s3.put_object(Bucket=BUCKET, Key="kept", Body=b"k" * 100)
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": f"small/{n}"} for n in range(300)]})
    server.stop()
    db = data / "state.sqlite3"
    size = db.stat().st_size
    code, report = doctor(data, "--json", "--repair")
    assert code == 0 and report["clean"] and report["reclaimed_bytes"] > 3 * 1024 * 1024
    assert db.stat().st_size < size - 3 * 1024 * 1024
    server.start()
    assert s3.get_object(Bucket=BUCKET, Key="kept")["Body"].read() == b"k" * 100
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1
