"""Names are data, never paths: hostile bucket names, object keys, table, IAM, tag, parameter and
function names neither write outside the data directory nor read anything outside it.

A canary file sits in a directory beside the data directory. Every hostile request names it
or a file of the system (`../`, absolute paths, NUL, percent-encoded dots, overlong UTF-8,
look-alike Unicode); afterwards the sibling directory is unchanged, the data directory holds
only what gureum writes itself (blobs under blobs/ with random hex names), and no response
carried the canary's or /etc/passwd's contents.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import uuid
from pathlib import Path
from urllib.parse import quote

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ParamValidationError

from tests.conftest import Server

MARK = "pwn" + uuid.uuid4().hex[:8]  # in every hostile name, so a stray file would be found by name
CANARY = b"canary-contents-" + uuid.uuid4().hex.encode()

# Blob files: blobs/<2 hex>/<32 hex>; nothing else may appear once the server is warm.
BLOB = re.compile(r"blobs/[0-9a-f]{2}/[0-9a-f]{32}")


@pytest.fixture(scope="module")
def base(tmp_root) -> Path:
    d = tmp_root / f"paths-{uuid.uuid4().hex[:6]}"
    (d / "sibling").mkdir(parents=True)
    (d / "sibling" / "canary.txt").write_bytes(CANARY)
    return d


@pytest.fixture(scope="module")
def server(base):
    s = Server(base / "data").start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def ep(server) -> str:
    return server.endpoint


def client(ep: str, service: str, **config):
    return boto3.client(service, endpoint_url=ep, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}, **config))


def tree(root: Path) -> dict[str, int]:
    """Every file under `root` (relative path -> size)."""
    found = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            found[str(path.relative_to(root))] = path.stat().st_size
    return found


def hostile_names(base: Path) -> list[str]:
    canary = base / "sibling" / "canary.txt"
    return [
        f"../{MARK}",
        f"../../{MARK}/x",
        f"../sibling/{MARK}",
        "../sibling/canary.txt",
        "../../sibling/canary.txt",
        "../../../../../../../../etc/passwd",
        str(canary),
        f"/tmp/{MARK}",
        f"{MARK}/../../../../../tmp/{MARK}",
        f"%2e%2e%2f%2e%2e%2f{MARK}",
        f"..%2F..%2F{MARK}",
        f"..\\..\\{MARK}",
        f"\u2024\u2024/\u2024\u2024/{MARK}",  # one dot leader
        f"..\uff0f..\uff0f{MARK}",  # fullwidth solidus
        f"\uff0e\uff0e/{MARK}",  # fullwidth full stop
        f"{MARK}\x00/../../x",
        f"{MARK}\u0000",
    ]


@pytest.fixture(scope="module")
def warm(ep, base):
    """Warm the server (every store and key file exists) and snapshot what is on disk."""
    s3 = client(ep, "s3")
    s3.create_bucket(Bucket="paths-bucket")
    s3.put_object(Bucket="paths-bucket", Key="warm", Body=b"warm")
    client(ep, "dynamodb").list_tables()
    return {"data": tree(base / "data"), "sibling": tree(base / "sibling"), "base": sorted(os.listdir(base))}


def _signed_raw(ep: str, method: str, raw_path: str, body: bytes = b"", host: str | None = None) -> tuple[int, bytes]:
    """Send a SigV4-signed S3 request whose path goes on the wire exactly as given."""
    port = ep.rsplit(":", 1)[1]
    request = AWSRequest(method=method, url=f"http://{host or 'localhost'}:{port}{raw_path}", data=body,
                         headers={"Host": f"{host or 'localhost'}:{port}"})
    botocore.auth.S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    conn.putrequest(method, raw_path, skip_host=True, skip_accept_encoding=True)
    for name, value in request.headers.items():
        conn.putheader(name, value)
    conn.endheaders(body)
    response = conn.getresponse()
    return response.status, response.read()


def _no_secret_in(answer: bytes) -> None:
    assert CANARY not in answer
    assert b"root:x:0:0" not in answer and b"root:*:0:0" not in answer


def _attempt(call) -> None:
    """Hostile input may be refused in any AWS way; never with a server error."""
    try:
        result = call()
    except ParamValidationError:
        return
    except ClientError as e:
        # 501 NotImplemented: a service gureum routes but does not run yet (Lambda).
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] < 500 or e.response["Error"]["Code"] == "NotImplemented", e.response
        return
    if isinstance(result, (bytes, bytearray)):
        _no_secret_in(result)


def test_object_keys(ep, base, warm):
    s3 = client(ep, "s3")
    body = (b"hostile " + MARK.encode()).ljust(20 * 1024, b".")  # past the inline size: a file of its own
    for key in hostile_names(base):
        _attempt(lambda: s3.put_object(Bucket="paths-bucket", Key=key, Body=body))
        _attempt(lambda: s3.get_object(Bucket="paths-bucket", Key=key)["Body"].read())
        _attempt(lambda: s3.copy_object(Bucket="paths-bucket", Key=key + ".copy",
                                        CopySource={"Bucket": "paths-bucket", "Key": key}))
        if "\x00" in key:
            continue  # XML 1.0 cannot carry NUL: S3's XML answers naming such a key are unreadable, as on AWS
        upload = s3.create_multipart_upload(Bucket="paths-bucket", Key=key)["UploadId"]
        part = s3.upload_part(Bucket="paths-bucket", Key=key, UploadId=upload, PartNumber=1, Body=b"part")
        s3.complete_multipart_upload(Bucket="paths-bucket", Key=key, UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        assert s3.get_object(Bucket="paths-bucket", Key=key)["Body"].read() == b"part"
    # A key naming a file outside is a key like any other: absent until written, then only what was written.
    for key in ("../../etc/passwd", "/etc/passwd", str(base / "sibling" / "canary.txt")):
        s3.delete_object(Bucket="paths-bucket", Key=key)
        with pytest.raises(ClientError) as excinfo:
            s3.get_object(Bucket="paths-bucket", Key=key)
        assert excinfo.value.response["Error"]["Code"] == "NoSuchKey"


@pytest.mark.parametrize("raw_path", [
    "/paths-bucket/../../../../../../etc/passwd",
    "/paths-bucket/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/paths-bucket/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/paths-bucket/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc%c0%afpasswd",  # overlong UTF-8
    "/paths-bucket/%e0%80%ae%e0%80%ae/etc/passwd",
    "/paths-bucket/..%5c..%5c..%5cetc%5cpasswd",
    "/paths-bucket/%00/../../etc/passwd",
    "/paths-bucket/%ef%bc%8e%ef%bc%8e%ef%bc%8f%ef%bc%8e%ef%bc%8e%ef%bc%8fetc%ef%bc%8fpasswd",
    "/../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/etc/passwd",
    "/paths-bucket/../sibling/canary.txt",
    "/paths-bucket/../../sibling/canary.txt",
])
def test_raw_paths_read_nothing_outside(ep, base, warm, raw_path):
    for method in ("GET", "HEAD"):
        status, answer = _signed_raw(ep, method, raw_path)
        assert status < 500, answer
        _no_secret_in(answer)
        assert status != 200 or answer in (b"", b"part", b"warm") or MARK.encode() in answer
    status, answer = _signed_raw(ep, "PUT", raw_path.replace("passwd", MARK).replace("canary.txt", MARK), b"x")
    assert status < 500, answer
    # Absolute paths in the Host's bucket (virtual-hosted) and the website endpoint.
    port = ep.rsplit(":", 1)[1]
    status, answer = _signed_raw(ep, "GET", raw_path, host="paths-bucket.s3.localhost")
    assert status < 500
    _no_secret_in(answer)
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    conn.putrequest("GET", raw_path, skip_host=True)
    conn.putheader("Host", f"paths-bucket.s3-website.us-east-1.localhost:{port}")
    conn.endheaders()
    response = conn.getresponse()
    assert response.status < 500
    _no_secret_in(response.read())


def test_bucket_names(ep, base, warm):
    for name in hostile_names(base) + ["..", ".", "...", f"{MARK}..", "%2e%2e", "\u2024\u2024"]:
        path = "/" + quote(name, safe="/%")
        status, answer = _signed_raw(ep, "PUT", path)
        assert status < 500, (name, answer)
        status, answer = _signed_raw(ep, "GET", path)
        assert status < 500, (name, answer)
        _no_secret_in(answer)
    # Bucket names are validated as AWS does.
    status, answer = _signed_raw(ep, "PUT", "/..")
    assert status == 400 and b"InvalidBucketName" in answer


def test_other_services_names(ep, base, warm):
    ddb = client(ep, "dynamodb")
    iam = client(ep, "iam")
    ec2 = client(ep, "ec2")
    ssm = client(ep, "ssm")
    lam = client(ep, "lambda")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    key_schema = {"KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                  "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                  "BillingMode": "PAY_PER_REQUEST"}
    for name in hostile_names(base) + ["...", f"..{MARK}.."]:
        _attempt(lambda: ddb.create_table(TableName=name, **key_schema))
        _attempt(lambda: ddb.get_item(TableName=name, Key={"k": {"S": name}}))
        _attempt(lambda: iam.create_user(UserName=name, Path="/../../"))
        _attempt(lambda: iam.create_user(UserName=f"{MARK}-{uuid.uuid4().hex[:6]}", Path=f"/{name}/"))
        _attempt(lambda: iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]})))
        _attempt(lambda: iam.create_policy(PolicyName=name, PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})))
        _attempt(lambda: ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"k-{MARK}", "Value": name}]))
        if "\x00" not in name:  # EC2 echoes a NUL into XML that no client reads (reported, not a path issue)
            _attempt(lambda: ec2.create_key_pair(KeyName=name))
        _attempt(lambda: ssm.put_parameter(Name=name, Value=name, Type="String"))
        _attempt(lambda: ssm.get_parameter(Name=name))
        _attempt(lambda: lam.get_function(FunctionName=name))
        _attempt(lambda: lam.create_function(FunctionName=name, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
                                             Handler="h.h", Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18}))
    tags = ec2.describe_tags(Filters=[{"Name": "key", "Values": [f"k-{MARK}"]}])["Tags"]
    assert tags and all(t["ResourceId"] == vpc for t in tags)


def test_nothing_written_outside_the_data_directory(ep, base, warm, server):
    """Runs after the hostile requests above (same module, file order)."""
    assert sorted(os.listdir(base)) == warm["base"]
    assert tree(base / "sibling") == warm["sibling"]
    assert (base / "sibling" / "canary.txt").read_bytes() == CANARY
    now = tree(base / "data")
    new = sorted(set(now) - set(warm["data"]))
    assert new, "the hostile objects were stored as blobs"
    assert all(BLOB.fullmatch(path) for path in new), [p for p in new if not BLOB.fullmatch(p)]
    assert not os.listdir(base / "data" / "blobs" / "tmp")
    # No file anywhere under the test root is named after a hostile input.
    for root in (base.parent, Path("/tmp")):
        for dirpath, dirs, files in os.walk(root):
            assert not any(MARK in name for name in dirs + files), dirpath
            if root == Path("/tmp"):
                break  # only /tmp's own entries: other directories there are not ours to walk
