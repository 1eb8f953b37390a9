"""STS end to end with boto3 and the AWS CLI: identities, session credentials, presigned calls."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROOT, Server
from tests.helpers import internal_call


def test_session_token_of_root(make_client):
    sts = make_client("sts")
    creds = sts.get_session_token(DurationSeconds=7200)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    # A root's session lasts at most one hour.
    remaining = creds["Expiration"] - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(minutes=58) < remaining <= dt.timedelta(hours=1, seconds=5)
    session = make_client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                          session_token=creds["SessionToken"])
    ident = session.get_caller_identity()
    assert ident["Arn"] == "arn:aws:iam::000000000000:root"
    # Session credentials cannot mint more session credentials.
    with pytest.raises(ClientError) as excinfo:
        session.get_session_token()
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    # The key without its token, or with a wrong token, is refused.
    for token in (None, creds["SessionToken"][:-4] + "AAAA"):
        bad = make_client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                          session_token=token)
        with pytest.raises(ClientError) as excinfo:
            bad.get_caller_identity()
        assert excinfo.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_session_duration_validation(make_client):
    with pytest.raises(ClientError) as excinfo:
        make_client("sts", parameter_validation=False).get_session_token(DurationSeconds=899)
    err = excinfo.value.response["Error"]
    assert err["Code"] == "ValidationError"
    assert "greater than or equal to 900" in err["Message"]


def test_access_key_info(make_client, endpoint):
    unvalidated = make_client("sts", parameter_validation=False)
    assert unvalidated.get_access_key_info(AccessKeyId="test")["Account"] == "000000000000"
    creds = make_client("sts").get_session_token()["Credentials"]
    info = make_client("sts").get_access_key_info(AccessKeyId=creds["AccessKeyId"])
    assert info["Account"] == "000000000000"


def test_root_cannot_assume_roles(make_client):
    arn = "arn:aws:iam::000000000000:role/any"
    with pytest.raises(ClientError) as excinfo:
        make_client("sts").assume_role(RoleArn=arn, RoleSessionName="s1")
    err = excinfo.value.response["Error"]
    assert (err["Code"], err["Message"]) == ("AccessDenied", "Roles may not be assumed by root accounts.")


def test_presigned_get_caller_identity(make_client):
    """The EKS-token pattern: a presigned GET of GetCallerIdentity."""
    sts = make_client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    with urllib.request.urlopen(url) as r:
        body = r.read().decode()
    assert "<Arn>arn:aws:iam::000000000000:root</Arn>" in body
    # Tampering with the signed query is refused.
    tampered = url.replace("Action=GetCallerIdentity", "Action=GetSessionToken")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(tampered)
    assert excinfo.value.code == 403
    assert b"SignatureDoesNotMatch" in excinfo.value.read()


def test_presigned_url_expiry(make_client):
    """S3 honours X-Amz-Expires: valid URLs pass authentication, expired ones get AccessDenied."""
    s3 = make_client("s3", signature_version="s3v4")
    fresh = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(fresh)
    assert excinfo.value.code == 404  # authenticated; the bucket does not exist
    assert b"<Code>NoSuchBucket</Code>" in excinfo.value.read()
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(expired)
    assert excinfo.value.code == 403
    body = excinfo.value.read()
    assert b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body


def test_cli_get_caller_identity_and_profiles(aws_cli):
    code, out, err = aws_cli("sts", "get-caller-identity", expect_ok=True)
    assert json.loads(out)["Account"] == "000000000000"
    # `aws configure --profile NAME` then `--profile NAME` (lab 3).
    for key, value in (("aws_access_key_id", "test"), ("aws_secret_access_key", "test"), ("region", "ap-northeast-2")):
        aws_cli("configure", "set", key, value, "--profile", "lab", expect_ok=True)
    code, out, err = aws_cli("sts", "get-caller-identity", "--profile", "lab", profile="lab")
    assert code == 0, err
    assert json.loads(out)["Arn"] == "arn:aws:iam::000000000000:root"
    code, out, err = aws_cli("sts", "get-caller-identity", profile="lab")  # AWS_PROFILE=lab
    assert code == 0, err


def test_cli_error_output(aws_cli):
    code, out, err = aws_cli("sts", "get-caller-identity", env={"AWS_SECRET_ACCESS_KEY": "wrong"})
    assert code != 0
    assert "SignatureDoesNotMatch" in err


def gureum_cli(*args, endpoint):
    return subprocess.run([sys.executable, "-m", "gureum", *args, "--endpoint", endpoint],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_accounts_create_and_list(endpoint, make_client):
    proc = gureum_cli("accounts", "create", "--alias", "team-b", "--json", endpoint=endpoint)
    assert proc.returncode == 0, proc.stderr
    created = json.loads(proc.stdout)
    assert len(created["account_id"]) == 12 and created["account_id"] != "000000000000"
    other = make_client("sts", access_key=created["access_key_id"], secret_key=created["secret_access_key"])
    ident = other.get_caller_identity()
    assert ident["Account"] == created["account_id"]
    assert ident["Arn"] == f"arn:aws:iam::{created['account_id']}:root"
    # The key id encodes its account the way AWS's do.
    assert make_client("sts").get_access_key_info(AccessKeyId=created["access_key_id"])["Account"] == created["account_id"]
    listed = json.loads(gureum_cli("accounts", "list", "--json", endpoint=endpoint).stdout)
    assert created["account_id"] in [a["account_id"] for a in listed["accounts"]]
    # Only the default account's root may manage accounts.
    denied = subprocess.run(
        [sys.executable, "-m", "gureum", "accounts", "list", "--endpoint", endpoint,
         "--access-key", created["access_key_id"], "--secret-key", created["secret_access_key"]],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert denied.returncode != 0 and "AccessDenied" in denied.stderr + denied.stdout


@pytest.fixture()
def private_server(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


def test_session_credentials_expire(private_server):
    import boto3

    def client(**kw):
        return boto3.client("sts", endpoint_url=private_server.endpoint, region_name="us-east-1", **kw)

    root = client(aws_access_key_id="test", aws_secret_access_key="test")
    creds = root.get_session_token(DurationSeconds=900)["Credentials"]
    session = client(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                     aws_session_token=creds["SessionToken"])
    assert session.get_caller_identity()["Account"] == "000000000000"
    internal_call(private_server.endpoint, "POST", "/_gureum/clock", {"advance_seconds": 901})
    with pytest.raises(ClientError) as excinfo:
        session.get_caller_identity()
    assert excinfo.value.response["Error"]["Code"] == "ExpiredToken"
    # The root key itself does not expire.
    assert root.get_caller_identity()["Account"] == "000000000000"


def test_state_survives_kill(tmp_path):
    """An account created and acknowledged survives SIGKILL and restart."""
    s = Server(tmp_path / "data").start()
    created = json.loads(gureum_cli("accounts", "create", "--json", endpoint=s.endpoint).stdout)
    s.stop(sig="kill")
    s2 = Server(tmp_path / "data", port=s.port).start()
    try:
        import boto3

        sts = boto3.client("sts", endpoint_url=s2.endpoint, region_name="us-east-1",
                           aws_access_key_id=created["access_key_id"],
                           aws_secret_access_key=created["secret_access_key"])
        assert sts.get_caller_identity()["Account"] == created["account_id"]
    finally:
        s2.stop()
