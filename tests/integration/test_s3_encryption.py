"""S3 server-side encryption: bytes sealed at rest, SSE-S3 / SSE-KMS / SSE-C, bucket default encryption."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

import pytest
from botocore.exceptions import ClientError

MARKER = b"gureum-plaintext-marker-"


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(make_client):
    return make_client("s3")


@pytest.fixture
def bucket(s3):
    name = f"sse-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def _ssec(key: bytes, prefix: str = "") -> dict:
    return {f"{prefix}SSECustomerAlgorithm": "AES256", f"{prefix}SSECustomerKey": key}


def test_bytes_are_encrypted_on_disk_and_ranges_read_back(s3, bucket, server):
    body = (MARKER * 20000)[:300_000] + os.urandom(1000)
    out = s3.put_object(Bucket=bucket, Key="secret", Body=body)
    assert out["ServerSideEncryption"] == "AES256"
    s3.put_object(Bucket=bucket, Key="small", Body=MARKER * 4)  # a row of the database, not a file
    for root, _, files in os.walk(server.data_dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                assert MARKER not in f.read(), name
    assert s3.get_object(Bucket=bucket, Key="secret")["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == MARKER * 4
    for first, last in ((0, 0), (65535, 65536), (131000, 200000), (299_990, len(body) - 1)):
        got = s3.get_object(Bucket=bucket, Key="secret", Range=f"bytes={first}-{last}")
        assert got["Body"].read() == body[first:last + 1]
        assert got["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="secret", Range="bytes=-10")["Body"].read()
    assert got == body[-10:]
    head = s3.head_object(Bucket=bucket, Key="secret")
    assert head["ServerSideEncryption"] == "AES256" and head["ContentLength"] == len(body)
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""
    assert (server.data_dir / "s3-master.key").stat().st_mode & 0o777 == 0o600


def test_copy_and_multipart_report_and_keep_encryption(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x" * 70000)
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"x" * 70000
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    assert up["ServerSideEncryption"] == "AES256"
    part1 = os.urandom(5 * 1024 * 1024)
    p1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=part1)
    assert p1["ServerSideEncryption"] == "AES256"
    p2 = s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=10-99")
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]},
                                   {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
    assert done["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == part1 + b"x" * 90


def test_sse_kms_is_recorded_and_reported(s3, bucket):
    out = s3.put_object(Bucket=bucket, Key="k", Body=b"data", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId="1234abcd-12ab-34cd-56ef-1234567890ab", BucketKeyEnabled=True)
    arn = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert out["ServerSideEncryption"] == "aws:kms" and out["SSEKMSKeyId"] == arn and out["BucketKeyEnabled"]
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == arn
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    managed = s3.put_object(Bucket=bucket, Key="m", Body=b"d", ServerSideEncryption="aws:kms")
    assert managed["SSEKMSKeyId"].startswith("arn:aws:kms:us-east-1:000000000000:key/")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"d", SSEKMSKeyId="abc")
    assert _error(e) == ("InvalidArgument", 400)


def test_bucket_default_encryption(s3, bucket):
    default = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                          "BucketKeyEnabled": False}]}
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    config = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                                "KMSMasterKeyID": "alias/mine"},
                         "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == config
    out = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert out["ServerSideEncryption"] == "aws:kms"
    assert out["SSEKMSKeyId"] == "arn:aws:kms:us-east-1:000000000000:alias/mine" and out["BucketKeyEnabled"]
    # An explicit header wins over the default.
    assert s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ServerSideEncryption="AES256")[
        "ServerSideEncryption"] == "AES256"
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]})
    assert _error(e) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_encryption(Bucket="no-such-bucket-sse-x")
    assert _error(e) == ("NoSuchBucket", 404)


def test_sse_c(s3, bucket):
    key, other = os.urandom(32), os.urandom(32)
    out = s3.put_object(Bucket=bucket, Key="c", Body=b"customer data", **_ssec(key))
    md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
    assert out["SSECustomerAlgorithm"] == "AES256" and out["SSECustomerKeyMD5"] == md5
    assert "ServerSideEncryption" not in out
    got = s3.get_object(Bucket=bucket, Key="c", **_ssec(key))
    assert got["Body"].read() == b"customer data" and got["SSECustomerKeyMD5"] == md5
    assert s3.head_object(Bucket=bucket, Key="c", **_ssec(key))["SSECustomerAlgorithm"] == "AES256"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c")
    assert _error(e) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", **_ssec(other))
    assert _error(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="c")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    s3.put_object(Bucket=bucket, Key="plain", Body=b"p")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="plain", **_ssec(key))
    assert _error(e) == ("InvalidRequest", 400)
    # Copy: the source's key to read it, a new key (or none) for the copy.
    s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "c"},
                   **_ssec(key, "CopySource"), **_ssec(other))
    assert s3.get_object(Bucket=bucket, Key="c2", **_ssec(other))["Body"].read() == b"customer data"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c3", CopySource={"Bucket": bucket, "Key": "c"})
    assert _error(e) == ("InvalidRequest", 400)
    plain = s3.copy_object(Bucket=bucket, Key="c3", CopySource={"Bucket": bucket, "Key": "c"},
                           **_ssec(key, "CopySource"))
    assert plain["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="c3")["Body"].read() == b"customer data"


def test_sse_c_multipart_and_bad_keys(s3, bucket):
    key = os.urandom(32)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", **_ssec(key))
    assert up["SSECustomerAlgorithm"] == "AES256"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"x")
    assert _error(e) == ("InvalidRequest", 400)
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"abc", **_ssec(key))
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="mp", **_ssec(key))["Body"].read() == b"abc"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=b"short")
    assert _error(e) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey="k" * 32,
                      SSECustomerKeyMD5=base64.b64encode(b"0" * 16).decode())
    assert _error(e) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", SSECustomerAlgorithm="AES128", SSECustomerKey=key)
    assert _error(e) == ("InvalidEncryptionAlgorithmError", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", ServerSideEncryption="AES512")
    assert _error(e) == ("InvalidArgument", 400)


def test_objects_survive_a_restart_encrypted(tmp_root):
    import boto3
    from botocore.config import Config

    from tests.conftest import Server

    data = tmp_root / "sse-restart"
    data.mkdir()
    srv = Server(data).start()
    try:
        c = boto3.client("s3", endpoint_url=srv.endpoint, region_name="us-east-1", aws_access_key_id="test",
                         aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
        c.create_bucket(Bucket="keep")
        c.put_object(Bucket="keep", Key="k", Body=b"z" * 100000)
    finally:
        srv.stop()
    srv = Server(data, port=srv.port).start()
    try:
        assert c.get_object(Bucket="keep", Key="k")["Body"].read() == b"z" * 100000
    finally:
        srv.stop()
