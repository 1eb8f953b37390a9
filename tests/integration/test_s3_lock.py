"""S3 Object Lock: bucket configuration, retention, legal hold, and what they refuse."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _error(excinfo) -> tuple[str, int, str]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


@pytest.fixture(scope="module")
def s3(make_client):
    return make_client("s3")


@pytest.fixture
def locked_bucket(s3):
    name = _name("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def _future(days: int = 1) -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=days)


def test_create_with_lock_turns_versioning_on(s3, locked_bucket):
    assert s3.get_bucket_versioning(Bucket=locked_bucket)["Status"] == "Enabled"
    config = s3.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"]
    assert config == {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=locked_bucket, VersioningConfiguration={"Status": "Suspended"})
    assert _error(e)[:2] == ("InvalidBucketState", 409)


def test_configuration_needs_versioning_and_is_validated(s3):
    name = _name("nolock")
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket=name)
    assert _error(e)[:2] == ("ObjectLockConfigurationNotFoundError", 404)
    config = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=config)
    assert _error(e)[:2] == ("InvalidBucketState", 409)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=config)
    assert s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"] == config
    for bad, code in (({"Mode": "GOVERNANCE", "Days": 1, "Years": 1}, "MalformedXML"),
                      ({"Mode": "GOVERNANCE", "Days": 0}, "InvalidArgument"),
                      ({"Mode": "SOMETIMES", "Days": 1}, "InvalidArgument")):
        with pytest.raises(ClientError) as e:
            s3.put_object_lock_configuration(
                Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                                      "Rule": {"DefaultRetention": bad}})
        assert _error(e)[0] == code


def test_put_with_retention_refuses_version_delete(s3, locked_bucket):
    until = _future()
    v = s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    head = s3.head_object(Bucket=locked_bucket, Key="k")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == until
    retention = s3.get_object_retention(Bucket=locked_bucket, Key="k")["Retention"]
    assert retention == {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=v)
    assert _error(e) == ("AccessDenied", 403, "Access Denied because object protected by object lock.")
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=locked_bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert _error(e)[0] == "AccessDenied"
    # COMPLIANCE can be extended, never shortened or weakened.
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=locked_bucket, Key="k", Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": until - timedelta(hours=1)})
    assert _error(e)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=locked_bucket, Key="k", BypassGovernanceRetention=True, Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until})
    assert _error(e)[0] == "AccessDenied"
    s3.put_object_retention(Bucket=locked_bucket, Key="k", Retention={
        "Mode": "COMPLIANCE", "RetainUntilDate": until + timedelta(days=1)})
    # A delete marker is still allowed; DeleteObjects reports the locked version as an error.
    marker = s3.delete_object(Bucket=locked_bucket, Key="k")
    assert marker["DeleteMarker"] is True
    out = s3.delete_objects(Bucket=locked_bucket, Delete={"Objects": [{"Key": "k", "VersionId": v}]})
    assert out["Errors"][0]["Code"] == "AccessDenied"
    versions = s3.list_object_versions(Bucket=locked_bucket)
    assert [x["VersionId"] for x in versions["Versions"]] == [v]


def test_governance_bypass(s3, locked_bucket):
    v = s3.put_object(Bucket=locked_bucket, Key="g", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=_future())["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=locked_bucket, Key="g", VersionId=v)
    assert _error(e)[:2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=locked_bucket, Key="g", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": _future() - timedelta(hours=2)})
    assert _error(e)[0] == "AccessDenied"
    s3.put_object_retention(Bucket=locked_bucket, Key="g", BypassGovernanceRetention=True, Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": _future() - timedelta(hours=2)})
    out = s3.delete_object(Bucket=locked_bucket, Key="g", VersionId=v, BypassGovernanceRetention=True)
    assert out["VersionId"] == v


def test_bypass_needs_its_own_permission(s3, make_client, locked_bucket):
    iam = make_client("iam")
    user = _name("locker")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"},
                                               {"Effect": "Deny", "Action": "s3:BypassGovernanceRetention",
                                                "Resource": "*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = make_client("s3", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    v = client.put_object(Bucket=locked_bucket, Key="b", Body=b"x", ObjectLockMode="GOVERNANCE",
                          ObjectLockRetainUntilDate=_future())["VersionId"]
    with pytest.raises(ClientError) as e:
        client.delete_object(Bucket=locked_bucket, Key="b", VersionId=v, BypassGovernanceRetention=True)
    assert _error(e)[:2] == ("AccessDenied", 403)
    assert "s3:BypassGovernanceRetention" in _error(e)[2]
    s3.delete_object(Bucket=locked_bucket, Key="b", VersionId=v, BypassGovernanceRetention=True)


def test_legal_hold(s3, locked_bucket):
    v = s3.put_object(Bucket=locked_bucket, Key="h", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.get_object_legal_hold(Bucket=locked_bucket, Key="h")["LegalHold"] == {"Status": "ON"}
    assert s3.get_object(Bucket=locked_bucket, Key="h")["ObjectLockLegalHoldStatus"] == "ON"
    with pytest.raises(ClientError) as e:
        s3.get_object_retention(Bucket=locked_bucket, Key="h")
    assert _error(e)[:2] == ("NoSuchObjectLockConfiguration", 404)
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=locked_bucket, Key="h", VersionId=v, BypassGovernanceRetention=True)
    assert _error(e)[:2] == ("AccessDenied", 403)
    s3.put_object_legal_hold(Bucket=locked_bucket, Key="h", VersionId=v, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked_bucket, Key="h", VersionId=v)


def test_default_retention_applies_to_new_versions(s3, locked_bucket):
    s3.put_object_lock_configuration(Bucket=locked_bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}})
    s3.put_object(Bucket=locked_bucket, Key="d", Body=b"x")
    retention = s3.get_object_retention(Bucket=locked_bucket, Key="d")["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    left = retention["RetainUntilDate"] - datetime.now(timezone.utc)
    assert timedelta(days=1, hours=23) < left <= timedelta(days=2)
    # Multipart uploads and copies get it too; explicit headers win over the default.
    upload = s3.create_multipart_upload(Bucket=locked_bucket, Key="m", ObjectLockMode="COMPLIANCE",
                                        ObjectLockRetainUntilDate=_future(5))
    part = s3.upload_part(Bucket=locked_bucket, Key="m", UploadId=upload["UploadId"], PartNumber=1, Body=b"y")
    s3.complete_multipart_upload(Bucket=locked_bucket, Key="m", UploadId=upload["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object_retention(Bucket=locked_bucket, Key="m")["Retention"]["Mode"] == "COMPLIANCE"
    s3.copy_object(Bucket=locked_bucket, Key="c", CopySource={"Bucket": locked_bucket, "Key": "d"})
    assert s3.get_object_retention(Bucket=locked_bucket, Key="c")["Retention"]["Mode"] == "GOVERNANCE"


def test_lock_headers_are_checked(s3, locked_bucket):
    plain = _name("plain")
    s3.create_bucket(Bucket=plain)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=plain, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=_future())
    assert _error(e) == ("InvalidRequest", 400, "Bucket is missing Object Lock Configuration")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE")
    assert _error(e)[:2] == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=locked_bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=_future(-1))
    assert _error(e) == ("InvalidArgument", 400, "The retain until date must be in the future!")
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=plain, Key="k", Retention={"Mode": "GOVERNANCE",
                                                                  "RetainUntilDate": _future()})
    assert _error(e)[0] in ("InvalidRequest", "NoSuchKey")


def test_lock_put_needs_an_integrity_header(locked_bucket, endpoint):
    """Without Content-MD5 or a checksum, a PUT with lock headers is refused (as AWS does)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import urllib.request
    import urllib.error

    url = f"{endpoint}/{locked_bucket}/raw"
    headers = {"x-amz-object-lock-mode": "GOVERNANCE",
               "x-amz-object-lock-retain-until-date": _future().strftime("%Y-%m-%dT%H:%M:%SZ"),
               "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    request = AWSRequest(method="PUT", url=url, data=b"abc", headers=headers)
    SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=b"abc", method="PUT", headers=dict(prepared.headers))
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    body = e.value.read().decode()
    assert e.value.code == 400 and "<Code>InvalidRequest</Code>" in body and "Content-MD5" in body


def test_cli_object_lock(aws_cli, tmp_path):
    name = _name("lock-cli")
    aws_cli("s3api", "create-bucket", "--bucket", name, "--object-lock-enabled-for-bucket", expect_ok=True)
    aws_cli("s3api", "put-object-lock-configuration", "--bucket", name, "--object-lock-configuration",
            '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Years":1}}}',
            expect_ok=True)
    body = tmp_path / "body.txt"
    body.write_text("locked")
    _, out, _ = aws_cli("s3api", "put-object", "--bucket", name, "--key", "k", "--body", str(body), expect_ok=True)
    version = json.loads(out)["VersionId"]
    _, out, _ = aws_cli("s3api", "get-object-retention", "--bucket", name, "--key", "k", expect_ok=True)
    assert json.loads(out)["Retention"]["Mode"] == "GOVERNANCE"
    code, _, err = aws_cli("s3api", "delete-object", "--bucket", name, "--key", "k", f"--version-id={version}")
    assert code != 0 and "AccessDenied" in err
    aws_cli("s3api", "delete-object", "--bucket", name, "--key", "k", f"--version-id={version}",
            "--bypass-governance-retention", expect_ok=True)
