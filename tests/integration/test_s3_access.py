"""S3 access: the course's bucket policy lab, Block Public Access, ownership and ACLs, IAM limits."""

from __future__ import annotations

import json
import struct
import urllib.error
import urllib.request
import zlib

import pytest
from botocore.exceptions import ClientError

from tests.helpers import internal_call


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def _png(width: int = 4, height: int = 3) -> bytes:
    """A small real PNG: red pixels, RGB, 8 bits."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _anonymous_get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _course_policy(bucket: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicReadGetObject",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }],
    })


def test_course_lab_public_image(aws_cli, endpoint, tmp_path):
    bucket = "course-lab-images"
    url = f"{endpoint}/{bucket}/image.png"
    png = _png()
    image = tmp_path / "image.png"
    image.write_bytes(png)
    aws_cli("s3", "mb", f"s3://{bucket}", expect_ok=True)
    aws_cli("s3", "cp", str(image), f"s3://{bucket}/image.png", expect_ok=True)
    # New buckets block public access: the course's policy is refused, the image is private.
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(_course_policy(bucket))
    code, _, err = aws_cli("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", f"file://{policy_file}")
    assert code != 0 and "AccessDenied" in err and "BlockPublicPolicy" in err
    status, _, body = _anonymous_get(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    aws_cli("s3api", "delete-public-access-block", "--bucket", bucket, expect_ok=True)
    status, _, _ = _anonymous_get(url)
    assert status == 403  # no policy yet
    aws_cli("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", f"file://{policy_file}", expect_ok=True)
    status, headers, body = _anonymous_get(url)
    assert status == 200 and body == png
    assert headers["Content-Type"] == "image/png"
    _, out, _ = aws_cli("s3api", "get-bucket-policy-status", "--bucket", bucket, expect_ok=True)
    assert json.loads(out)["PolicyStatus"]["IsPublic"] is True
    # Only GetObject is public: listing and other keys' writes stay private.
    assert _anonymous_get(f"{endpoint}/{bucket}")[0] == 403
    # Turning RestrictPublicBuckets back on makes the public grant inert again.
    aws_cli("s3api", "put-public-access-block", "--bucket", bucket, "--public-access-block-configuration",
            "RestrictPublicBuckets=true", expect_ok=True)
    assert _anonymous_get(url)[0] == 403


def test_public_access_block_defaults_and_round_trip(make_client):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="bkt-pab")
    config = s3.get_public_access_block(Bucket="bkt-pab")["PublicAccessBlockConfiguration"]
    assert config == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                      "RestrictPublicBuckets": True}
    s3.put_public_access_block(Bucket="bkt-pab", PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    config = s3.get_public_access_block(Bucket="bkt-pab")["PublicAccessBlockConfiguration"]
    assert config["BlockPublicAcls"] and not config["BlockPublicPolicy"]
    s3.delete_public_access_block(Bucket="bkt-pab")
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket="bkt-pab")
    assert _error(e) == ("NoSuchPublicAccessBlockConfiguration", 404)


def test_bucket_policy_validation_and_status(make_client):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="bkt-policy")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket="bkt-policy")
    assert _error(e) == ("NoSuchBucketPolicy", 404)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy_status(Bucket="bkt-policy")
    assert _error(e) == ("NoSuchBucketPolicy", 404)
    for bad in ("not json", json.dumps({"Version": "2012-10-17"}),
                json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                           "Resource": "arn:aws:s3:::some-other-bucket/*"}]}),
                json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                           "Resource": "arn:aws:s3:::bkt-policy/*"}]})):
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket="bkt-policy", Policy=bad)
        assert _error(e) == ("MalformedPolicy", 400), bad
    private = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bkt-policy/*"}]})
    s3.put_bucket_policy(Bucket="bkt-policy", Policy=private)  # not public: allowed under the block
    assert json.loads(s3.get_bucket_policy(Bucket="bkt-policy")["Policy"]) == json.loads(private)
    assert s3.get_bucket_policy_status(Bucket="bkt-policy")["PolicyStatus"]["IsPublic"] is False
    limited = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt-policy/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]})
    s3.put_bucket_policy(Bucket="bkt-policy", Policy=limited)
    assert s3.get_bucket_policy_status(Bucket="bkt-policy")["PolicyStatus"]["IsPublic"] is False
    s3.delete_bucket_policy(Bucket="bkt-policy")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket="bkt-policy")
    assert _error(e) == ("NoSuchBucketPolicy", 404)


def test_ownership_controls_and_acls(make_client):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="bkt-owner")
    rules = s3.get_bucket_ownership_controls(Bucket="bkt-owner")["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    acl = s3.get_bucket_acl(Bucket="bkt-owner")
    assert acl["Grants"] == [{"Grantee": {"ID": acl["Owner"]["ID"], "Type": "CanonicalUser"},
                              "Permission": "FULL_CONTROL"}]
    s3.put_object(Bucket="bkt-owner", Key="k", Body=b"x", ACL="bucket-owner-full-control")
    assert s3.get_object_acl(Bucket="bkt-owner", Key="k")["Grants"][0]["Permission"] == "FULL_CONTROL"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bkt-owner", Key="k2", Body=b"x", ACL="public-read")
    assert _error(e) == ("AccessControlListNotSupported", 400)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket="bkt-owner", ACL="public-read")
    assert _error(e) == ("AccessControlListNotSupported", 400)
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="bkt-owner-acl", ACL="public-read")
    assert _error(e) == ("AccessControlListNotSupported", 400)
    s3.put_bucket_ownership_controls(Bucket="bkt-owner", OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    rules = s3.get_bucket_ownership_controls(Bucket="bkt-owner")["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]


def test_iam_user_limited_to_one_bucket(make_client):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="bkt-iam-mine")
    s3.create_bucket(Bucket="bkt-iam-other")
    s3.put_object(Bucket="bkt-iam-other", Key="secret", Body=b"s")
    iam = make_client("iam")
    iam.create_user(UserName="s3-one-bucket")
    iam.put_user_policy(UserName="s3-one-bucket", PolicyName="one", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*",
                       "Resource": ["arn:aws:s3:::bkt-iam-mine", "arn:aws:s3:::bkt-iam-mine/*"]}]}))
    key = iam.create_access_key(UserName="s3-one-bucket")["AccessKey"]
    user = make_client("s3", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    user.put_object(Bucket="bkt-iam-mine", Key="mine", Body=b"m")
    assert user.get_object(Bucket="bkt-iam-mine", Key="mine")["Body"].read() == b"m"
    assert user.list_objects_v2(Bucket="bkt-iam-mine")["KeyCount"] == 1
    for call in (lambda: user.get_object(Bucket="bkt-iam-other", Key="secret"),
                 lambda: user.list_objects_v2(Bucket="bkt-iam-other"),
                 lambda: user.put_object(Bucket="bkt-iam-other", Key="x", Body=b"x")):
        with pytest.raises(ClientError) as e:
            call()
        assert _error(e) == ("AccessDenied", 403)


def test_cross_account_access_through_bucket_policy(make_client, endpoint):
    other = internal_call(endpoint, "POST", "/_gureum/accounts", {"alias": "s3-reader"})
    reader = make_client("s3", access_key=other["access_key_id"], secret_key=other["secret_access_key"])
    s3 = make_client("s3")
    s3.create_bucket(Bucket="bkt-shared")
    s3.put_object(Bucket="bkt-shared", Key="doc", Body=b"shared")
    with pytest.raises(ClientError) as e:
        reader.get_object(Bucket="bkt-shared", Key="doc")
    assert _error(e) == ("AccessDenied", 403)
    s3.put_bucket_policy(Bucket="bkt-shared", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other['account_id']}:root"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt-shared/*"}]}))
    assert reader.get_object(Bucket="bkt-shared", Key="doc")["Body"].read() == b"shared"
