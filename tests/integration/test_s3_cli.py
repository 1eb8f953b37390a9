"""The AWS CLI's high-level S3 commands: sync both ways, ls, rm, presign."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sync_ls_rm(aws_cli, tmp_path):
    bucket = f"cli-sync-{uuid.uuid4().hex[:8]}"
    aws_cli("s3", "mb", f"s3://{bucket}", expect_ok=True)
    src = tmp_path / "site"
    (src / "css").mkdir(parents=True)
    (src / "index.html").write_text("<h1>hello</h1>")
    (src / "css" / "main.css").write_text("body { color: teal }")
    (src / "big.bin").write_bytes(bytes(range(256)) * 40_000)  # ~10 MiB: the CLI goes multipart
    # sync compares modification times at one-second precision: make the files clearly older.
    for p in src.rglob("*"):
        os.utime(p, (time.time() - 3600, time.time() - 3600))

    code, out, err = aws_cli("s3", "sync", str(src), f"s3://{bucket}/www")
    assert code == 0, err
    assert out.count("upload:") == 3
    code, out, _ = aws_cli("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert sorted(line.split()[-1] for line in out.splitlines()) == [
        "www/big.bin", "www/css/main.css", "www/index.html"]
    code, out, _ = aws_cli("s3", "ls", f"s3://{bucket}/www/")
    assert "PRE css/" in out and "index.html" in out

    # Nothing changed: nothing is sent again; one change: only that file.
    code, out, _ = aws_cli("s3", "sync", str(src), f"s3://{bucket}/www")
    assert code == 0 and "upload:" not in out
    (src / "index.html").write_text("<h1>hello again</h1>")
    code, out, _ = aws_cli("s3", "sync", str(src), f"s3://{bucket}/www")
    assert out.count("upload:") == 1 and "index.html" in out

    dst = tmp_path / "copy"
    aws_cli("s3", "sync", f"s3://{bucket}/www", str(dst), expect_ok=True)
    assert _tree(dst) == _tree(src)

    (src / "css" / "main.css").unlink()
    code, out, _ = aws_cli("s3", "sync", "--delete", str(src), f"s3://{bucket}/www")
    assert "delete: s3://" in out and "main.css" in out
    code, out, _ = aws_cli("s3", "rm", f"s3://{bucket}/www/index.html")
    assert code == 0 and "delete:" in out
    code, out, _ = aws_cli("s3", "rm", "--recursive", f"s3://{bucket}/")
    assert code == 0 and "big.bin" in out
    code, out, _ = aws_cli("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert out.strip() == ""
    aws_cli("s3", "rb", f"s3://{bucket}", expect_ok=True)


def test_presign_gives_a_working_then_expiring_url(aws_cli, tmp_path):
    bucket = f"cli-presign-{uuid.uuid4().hex[:8]}"
    aws_cli("s3", "mb", f"s3://{bucket}", expect_ok=True)
    note = tmp_path / "note.txt"
    note.write_text("for your eyes only")
    aws_cli("s3", "cp", str(note), f"s3://{bucket}/note.txt", expect_ok=True)

    code, url, err = aws_cli("s3", "presign", f"s3://{bucket}/note.txt", "--expires-in", "60")
    assert code == 0, err
    with urllib.request.urlopen(url.strip(), timeout=10) as r:
        assert r.read() == b"for your eyes only"
    # The same object without a signature stays private.
    plain = url.strip().split("?", 1)[0]
    try:
        urllib.request.urlopen(plain, timeout=10)
        raise AssertionError("an unsigned GET of a private object succeeded")
    except urllib.error.HTTPError as e:
        assert e.code == 403

    code, url, _ = aws_cli("s3", "presign", f"s3://{bucket}/note.txt", "--expires-in", "1")
    time.sleep(2.1)
    try:
        urllib.request.urlopen(url.strip(), timeout=10)
        raise AssertionError("an expired presigned URL still worked")
    except urllib.error.HTTPError as e:
        assert e.code == 403
        assert b"Request has expired" in e.read()
