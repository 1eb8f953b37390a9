"""S3 Control: account-level Block Public Access, and how it combines with each bucket's own."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def control(make_client, monkeypatch, endpoint):
    """botocore sends s3control calls to ACCOUNT.<endpoint host>; resolve *.localhost to loopback
    (as systemd-resolved and browsers do) for this process."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    import boto3
    from botocore.config import Config

    client = boto3.client("s3control", endpoint_url=endpoint.replace("127.0.0.1", "localhost"),
                          region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(retries={"max_attempts": 1}))
    yield client
    client.delete_public_access_block(AccountId=ACCOUNT)


def _anonymous_get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_account_public_access_block_lifecycle(control):
    with pytest.raises(ClientError) as e:
        control.get_public_access_block(AccountId=ACCOUNT)
    assert _error(e) == ("NoSuchPublicAccessBlockConfiguration", 404)
    control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "RestrictPublicBuckets": True})
    got = control.get_public_access_block(AccountId=ACCOUNT)["PublicAccessBlockConfiguration"]
    assert got == {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
                   "RestrictPublicBuckets": True}
    control.delete_public_access_block(AccountId=ACCOUNT)
    with pytest.raises(ClientError) as e:
        control.get_public_access_block(AccountId=ACCOUNT)
    assert _error(e) == ("NoSuchPublicAccessBlockConfiguration", 404)


def test_other_accounts_setting_is_refused(control):
    with pytest.raises(ClientError) as e:
        control.put_public_access_block(AccountId="111122223333",
                                        PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    assert _error(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        control.get_public_access_block(AccountId="111122223333")
    assert _error(e) == ("AccessDenied", 403)


def test_account_setting_wins_over_an_open_bucket(control, make_client, endpoint):
    s3 = make_client("s3")
    name = f"ctl-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    s3.delete_public_access_block(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="public-read")
    assert _anonymous_get(f"{endpoint}/{name}/k") == 200
    control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={
        "IgnorePublicAcls": True, "BlockPublicPolicy": True, "BlockPublicAcls": True})
    assert _anonymous_get(f"{endpoint}/{name}/k") == 403
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}]})
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=name, Policy=public)
    assert _error(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="k2", Body=b"x", ACL="public-read")
    assert _error(e) == ("AccessDenied", 403)
    # The bucket's own setting still reads as it was set.
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket=name)
    assert _error(e) == ("NoSuchPublicAccessBlockConfiguration", 404)
    control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    s3.put_bucket_policy(Bucket=name, Policy=public)
    s3.put_object(Bucket=name, Key="plain", Body=b"x")
    assert _anonymous_get(f"{endpoint}/{name}/plain") == 403
    control.delete_public_access_block(AccountId=ACCOUNT)
    assert _anonymous_get(f"{endpoint}/{name}/plain") == 200

