"""`gureum state export | import`: a running cloud's state to one file and back, whole."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

from tests.conftest import ROOT, Server, client_factory


def gureum(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gureum", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_export_while_running_then_import_round_trip(tmp_path, request):
    source = Server(tmp_path / "source").start()
    request.addfinalizer(source.stop)  # also when an assertion fails half-way
    make = client_factory(source.endpoint)
    s3, ddb, iam = make("s3"), make("dynamodb"), make("iam")
    s3.create_bucket(Bucket="snap-plain")
    s3.create_bucket(Bucket="snap-versioned")
    s3.put_bucket_versioning(Bucket="snap-versioned", VersioningConfiguration={"Status": "Enabled"})
    bodies = {f"k{i}": os.urandom(1000 * (i + 1)) for i in range(5)}
    for key, body in bodies.items():
        s3.put_object(Bucket="snap-plain", Key=key, Body=body, ServerSideEncryption="AES256")
    v1 = s3.put_object(Bucket="snap-versioned", Key="doc", Body=b"first")["VersionId"]
    s3.put_object(Bucket="snap-versioned", Key="doc", Body=b"second")
    part = os.urandom(5 * 1024 * 1024)
    upload = s3.create_multipart_upload(Bucket="snap-plain", Key="big")["UploadId"]
    etag = s3.upload_part(Bucket="snap-plain", Key="big", UploadId=upload, PartNumber=1, Body=part)["ETag"]
    s3.complete_multipart_upload(Bucket="snap-plain", Key="big", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    ddb.create_table(TableName="snap", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    for i in range(20):
        ddb.put_item(TableName="snap", Item={"pk": {"S": f"item{i}"}, "n": {"N": str(i)}})
    iam.create_user(UserName="snap-user")
    iam.attach_user_policy(UserName="snap-user", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    key = iam.create_access_key(UserName="snap-user")["AccessKey"]

    # Overwrites race the export: it must still capture every blob its database copy refers to.
    stop = threading.Event()
    errors: list[Exception] = []

    def churn() -> None:
        client = make("s3")
        n = 0
        while not stop.is_set():
            try:  # writers wait while export holds the store still, then succeed
                client.put_object(Bucket="snap-plain", Key=f"churn{n % 3}", Body=os.urandom(20000))
            except Exception as e:
                errors.append(e)
                return
            n += 1

    churner = threading.Thread(target=churn, daemon=True)
    churner.start()
    archive = tmp_path / "state.tar.gz"
    try:
        result = gureum("state", "export", str(archive), "--data-dir", str(source.data_dir))
    finally:
        stop.set()
        churner.join(30)
    assert result.returncode == 0, result.stderr
    assert not errors, errors
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert manifest["format"] == "gureum-state" and manifest["version"] == 1
        assert "s3-master.key" in manifest["files"]

    # The target is refused while a server holds it, and when it already has state.
    result = gureum("state", "import", str(archive), "--data-dir", str(source.data_dir))
    assert result.returncode == 2 and "in use" in result.stderr
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    (copy_dir / "something").write_text("x")
    result = gureum("state", "import", str(archive), "--data-dir", str(copy_dir))
    assert result.returncode == 2 and "not empty" in result.stderr
    result = gureum("state", "import", str(archive), "--data-dir", str(copy_dir), "--force")
    assert result.returncode == 0, result.stderr
    assert not (copy_dir / "something").exists()
    source.stop()

    copy = Server(copy_dir).start()
    try:
        make = client_factory(copy.endpoint)
        s3, ddb = make("s3"), make("dynamodb")
        for k, body in bodies.items():
            got = s3.get_object(Bucket="snap-plain", Key=k)
            assert got["Body"].read() == body and got["ServerSideEncryption"] == "AES256"
        assert s3.get_object(Bucket="snap-plain", Key="big")["Body"].read() == part
        assert s3.get_object(Bucket="snap-versioned", Key="doc")["Body"].read() == b"second"
        assert s3.get_object(Bucket="snap-versioned", Key="doc", VersionId=v1)["Body"].read() == b"first"
        for n in range(3):  # whatever the churn had written when the copy was taken, whole
            try:
                assert len(s3.get_object(Bucket="snap-plain", Key=f"churn{n}")["Body"].read()) == 20000
            except s3.exceptions.NoSuchKey:
                pass
        items = ddb.scan(TableName="snap")["Items"]
        assert sorted(int(i["n"]["N"]) for i in items) == list(range(20))
        user_s3 = make("s3", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
        assert user_s3.get_object(Bucket="snap-plain", Key="k0")["Body"].read() == bodies["k0"]
    finally:
        copy.stop()
    result = gureum("doctor", "--data-dir", str(copy_dir))
    assert result.returncode == 0 and "result: consistent" in result.stdout, result.stdout


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_import_refuses_foreign_or_hostile_archives(tmp_path):
    manifest = json.dumps({"format": "gureum-state", "version": 1, "gureum_version": "x", "created": "x",
                           "files": [], "blobs": []}).encode()
    cases = {
        "not-a-tar.tar": None,
        "no-manifest.tar": {"state.sqlite3": b""},
        "future.tar": {"manifest.json": manifest.replace(b'"version": 1', b'"version": 99')},
        "escape.tar": {"../../evil": b"x", "manifest.json": manifest},
        "no-db.tar": {"manifest.json": manifest},
    }
    for name, members in cases.items():
        path = tmp_path / name
        if members is None:
            path.write_bytes(b"this is not an archive")
        else:
            _archive(path, members)
        target = tmp_path / f"target-{name}"
        result = gureum("state", "import", str(path), "--data-dir", str(target))
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert [p.name for p in target.iterdir()] == ["gureum.lock"], name
    assert not (tmp_path.parent / "evil").exists()
    result = gureum("state", "export", str(tmp_path / "x.tar"), "--data-dir", str(tmp_path / "empty"))
    assert result.returncode == 2 and "no gureum state" in result.stderr
