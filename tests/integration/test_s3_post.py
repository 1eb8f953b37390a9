"""Browser POST uploads: boto3's generate_presigned_post, a real multipart/form-data POST, policy checks."""

from __future__ import annotations

import json
import os
import uuid
import xml.etree.ElementTree as ET

import pytest
import urllib3

http = urllib3.PoolManager(retries=False)


def _post(url: str, fields: dict, file_data: bytes, filename: str = "upload.bin", headers: dict | None = None):
    parts = list(fields.items()) + [("file", (filename, file_data, "application/octet-stream"))]
    return http.request("POST", url, fields=parts, headers=headers or {}, redirect=False)


def _error(response) -> tuple[int, str, str]:
    root = ET.fromstring(response.data)
    return response.status, root.findtext("Code"), root.findtext("Message")


@pytest.fixture
def s3(make_client):
    return make_client("s3", signature_version="s3v4")  # SigV4 POST policies


@pytest.fixture
def bucket(s3):
    name = f"post-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def test_presigned_post_uploads_streamed_file(s3, bucket):
    data = os.urandom(3 * 1024 * 1024 + 17)
    form = s3.generate_presigned_post(bucket, "uploads/${filename}",
                                      Fields={"Content-Type": "image/png", "x-amz-meta-owner": "me"},
                                      Conditions=[{"Content-Type": "image/png"}, {"x-amz-meta-owner": "me"},
                                                  ["content-length-range", 1, 10 * 1024 * 1024]])
    r = _post(form["url"], form["fields"], data, filename="photo.png")
    assert r.status == 204, r.data
    assert r.headers["ETag"].strip('"')
    got = s3.get_object(Bucket=bucket, Key="uploads/photo.png")
    assert got["Body"].read() == data
    assert got["ContentType"] == "image/png" and got["Metadata"] == {"owner": "me"}
    assert got["ServerSideEncryption"] == "AES256"


def test_success_action_status_and_redirect(s3, bucket):
    form = s3.generate_presigned_post(bucket, "a.txt", Fields={"success_action_status": "201"},
                                      Conditions=[{"success_action_status": "201"}])
    r = _post(form["url"], form["fields"], b"hello")
    assert r.status == 201
    root = ET.fromstring(r.data)
    assert root.tag == "PostResponse" and root.findtext("Key") == "a.txt" and root.findtext("Bucket") == bucket
    form = s3.generate_presigned_post(bucket, "b.txt", Fields={"success_action_redirect": "http://example.com/done"},
                                      Conditions=[{"success_action_redirect": "http://example.com/done"}])
    r = _post(form["url"], form["fields"], b"hello")
    assert r.status == 303
    assert r.headers["Location"].startswith(f"http://example.com/done?bucket={bucket}&key=b.txt&etag=")
    assert s3.get_object(Bucket=bucket, Key="b.txt")["Body"].read() == b"hello"


def test_policy_violations(s3, bucket):
    form = s3.generate_presigned_post(bucket, "k", Conditions=[["content-length-range", 2, 10]])
    r = _post(form["url"], form["fields"], b"x" * 11)
    assert _error(r)[:2] == (400, "EntityTooLarge")
    r = _post(form["url"], form["fields"], b"x")
    assert _error(r)[:2] == (400, "EntityTooSmall")
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="k")
    fields = dict(form["fields"], key="other")
    status, code, message = _error(_post(form["url"], fields, b"xyz"))
    assert (status, code) == (403, "AccessDenied")
    assert message == 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "k"]'
    fields = dict(form["fields"], **{"x-amz-meta-extra": "1"})
    status, code, message = _error(_post(form["url"], fields, b"xyz"))
    assert (status, code, message) == (403, "AccessDenied", "Invalid according to Policy: Extra input fields: "
                                       "x-amz-meta-extra")
    fields = dict(form["fields"], **{"x-amz-signature": "0" * 64})
    assert _error(_post(form["url"], fields, b"xyz"))[:2] == (403, "SignatureDoesNotMatch")
    expired = s3.generate_presigned_post(bucket, "k", ExpiresIn=-10)
    assert _error(_post(expired["url"], expired["fields"], b"xyz")) == (
        403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    fields = {k: v for k, v in form["fields"].items() if k != "key"}
    assert _error(_post(form["url"], fields, b"xyz"))[:2] == (400, "InvalidArgument")
    r = http.request("POST", form["url"], fields=list(form["fields"].items()))
    assert _error(r)[:2] == (400, "InvalidArgument")


def test_anonymous_post_needs_a_policy_allowing_it(s3, bucket, endpoint):
    url = f"{endpoint}/{bucket}"
    assert _error(_post(url, {"key": "anon"}, b"x"))[:2] == (403, "AccessDenied")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:PutObject", "s3:PutObjectTagging"],
        "Resource": f"arn:aws:s3:::{bucket}/anon"}]}))
    tagging = "<Tagging><TagSet><Tag><Key>t</Key><Value>v</Value></Tag></TagSet></Tagging>"
    r = _post(url, {"key": "anon", "success_action_status": "200", "tagging": tagging}, b"anonymous bytes")
    assert r.status == 200 and r.data == b""
    assert s3.get_object(Bucket=bucket, Key="anon")["Body"].read() == b"anonymous bytes"
    assert s3.get_object_tagging(Bucket=bucket, Key="anon")["TagSet"] == [{"Key": "t", "Value": "v"}]


def test_virtual_host_post(s3, bucket, endpoint):
    form = s3.generate_presigned_post(bucket, "vh.txt")
    host = endpoint.split("//", 1)[1]
    r = _post(endpoint + "/", form["fields"], b"virtual", headers={"Host": f"{bucket}.s3.localhost:{host.split(':')[1]}"})
    assert r.status == 204, r.data
    assert s3.get_object(Bucket=bucket, Key="vh.txt")["Body"].read() == b"virtual"


def test_signature_version_2_post(make_client, bucket):
    s3 = make_client("s3")  # boto3's default for presigned POSTs is Signature Version 2
    form = s3.generate_presigned_post(bucket, "v2.txt")
    assert "AWSAccessKeyId" in form["fields"]
    r = _post(form["url"], form["fields"], b"version two")
    assert r.status == 204, r.data
    assert s3.get_object(Bucket=bucket, Key="v2.txt")["Body"].read() == b"version two"
    fields = dict(form["fields"], signature="AAAA")
    assert _error(_post(form["url"], fields, b"x"))[:2] == (403, "SignatureDoesNotMatch")
