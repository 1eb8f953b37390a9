"""S3 storage classes and RestoreObject (on a server of its own, where a day lasts a second)."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.helpers import internal_call

SCALE = 86400  # a service day per wall-clock second: a Standard GLACIER restore (5 hours) takes ~0.2 s


@pytest.fixture(scope="module")
def fast_server(tmp_root):
    s = Server(tmp_root / f"classes-{uuid.uuid4().hex[:6]}", env={"GUREUM_TIME_SCALE": str(SCALE)}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def s3(fast_server):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=fast_server.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def bucket(s3):
    name = f"classes-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def _error(excinfo) -> tuple[str, int, str]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


def test_storage_class_is_stored_and_listed(s3, bucket):
    for cls in ("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "REDUCED_REDUNDANCY"):
        s3.put_object(Bucket=bucket, Key=cls, Body=b"x", StorageClass=cls)
        assert s3.head_object(Bucket=bucket, Key=cls)["StorageClass"] == cls
        assert s3.get_object(Bucket=bucket, Key=cls)["Body"].read() == b"x"  # not archived: readable
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="plain")
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed["ONEZONE_IA"] == "ONEZONE_IA" and listed["plain"] == "STANDARD"
    versions = {v["Key"]: v["StorageClass"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]}
    assert versions["GLACIER_IR"] == "GLACIER_IR"
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "plain"},
                   StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="plain")["StorageClass"] == "STANDARD_IA"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", StorageClass="ONEZONE_IA")
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload["UploadId"])["StorageClass"] == "ONEZONE_IA"


def test_invalid_storage_class(s3, bucket):
    for call in (lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="OUTPOSTS"),
                 lambda: s3.create_multipart_upload(Bucket=bucket, Key="k", StorageClass="SNOW")):
        with pytest.raises(ClientError) as e:
            call()
        assert _error(e) == ("InvalidStorageClass", 400, "The storage class you specified is not valid")


def test_archived_object_needs_a_restore(s3, bucket):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    head = s3.head_object(Bucket=bucket, Key="cold")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="cold")
    assert _error(e) == ("InvalidObjectState", 403, "The operation is not valid for the object's storage class")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "cold"})
    assert _error(e)[:2] == ("InvalidObjectState", 403)

    first = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={
        "Days": 2, "GlacierJobParameters": {"Tier": "Bulk"}})  # 12 service hours: half a wall second
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert s3.head_object(Bucket=bucket, Key="cold")["Restore"] == 'ongoing-request="true"'
    listed = s3.list_objects_v2(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
    assert listed["RestoreStatus"] == {"IsRestoreInProgress": True}
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 2})
    assert _error(e)[:2] == ("RestoreAlreadyInProgress", 409)
    deadline = time.time() + 10
    while 'ongoing-request="true"' in s3.head_object(Bucket=bucket, Key="cold").get("Restore", ""):
        assert time.time() < deadline
        time.sleep(0.1)
    restore = s3.head_object(Bucket=bucket, Key="cold")["Restore"]
    listed = s3.list_objects_v2(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
    assert listed["RestoreStatus"]["IsRestoreInProgress"] is False and listed["RestoreStatus"]["RestoreExpiryDate"]
    versions = s3.list_object_versions(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])["Versions"]
    assert versions[0]["RestoreStatus"]["IsRestoreInProgress"] is False
    assert restore.startswith('ongoing-request="false", expiry-date="') and restore.endswith(' GMT"')
    got = s3.get_object(Bucket=bucket, Key="cold")
    assert got["Body"].read() == b"frozen" and got["Restore"] == restore
    # A restored object can be copied; the copy is STANDARD unless the request names a class.
    s3.copy_object(Bucket=bucket, Key="thawed", CopySource={"Bucket": bucket, "Key": "cold"})
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="thawed")
    again = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 1})
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    # The restored copy lasts Days (one service day = one second here), then GET refuses again.
    deadline = time.time() + 10
    while True:
        try:
            s3.get_object(Bucket=bucket, Key="cold")
        except ClientError as e:
            assert e.response["Error"]["Code"] == "InvalidObjectState"
            break
        assert time.time() < deadline
        time.sleep(0.2)
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="cold")


def test_restore_rules(s3, bucket):
    s3.put_object(Bucket=bucket, Key="warm", Body=b"x", StorageClass="STANDARD_IA")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="warm", RestoreRequest={"Days": 1})
    assert _error(e) == ("InvalidObjectState", 403, "Restore is not allowed for the object's current storage class")
    s3.put_object(Bucket=bucket, Key="deep", Body=b"x", StorageClass="DEEP_ARCHIVE")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="deep", RestoreRequest={
            "Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert _error(e)[:2] == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="deep")
    assert _error(e)[:2] == ("InvalidObjectState", 403)
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=bucket, Key="missing", RestoreRequest={"Days": 1})
    assert _error(e)[:2] == ("NoSuchKey", 404)


def test_restore_with_the_service_clock(s3, bucket, fast_server):
    """Moving the service clock completes a restore as surely as waiting does (scaled here too:
    a DEEP_ARCHIVE Standard restore's 12 hours are half a second of service clock)."""
    s3.put_object(Bucket=bucket, Key="deep", Body=b"deep", StorageClass="DEEP_ARCHIVE")
    s3.restore_object(Bucket=bucket, Key="deep", RestoreRequest={"Days": 30})
    internal_call(fast_server.endpoint, "POST", "/_gureum/clock", {"advance_seconds": 1})
    assert s3.get_object(Bucket=bucket, Key="deep")["Body"].read() == b"deep"


def test_cli_restore(fast_server, bucket, s3, tmp_root):
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    s3.put_object(Bucket=bucket, Key="cli", Body=b"x", StorageClass="GLACIER")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": fast_server.endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "HOME": str(tmp_root)})
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"
    proc = subprocess.run([aws, "s3api", "restore-object", "--bucket", bucket, "--key", "cli", "--restore-request",
                           '{"Days":1,"GlacierJobParameters":{"Tier":"Expedited"}}'],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([aws, "s3api", "head-object", "--bucket", bucket, "--key", "cli"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0 and '"StorageClass": "GLACIER"' in proc.stdout
