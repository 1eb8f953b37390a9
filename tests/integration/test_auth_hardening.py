"""Authentication hardening: every way a signature, key or token can be wrong is refused with
the error AWS answers in each protocol, cross-account access needs a resource policy, and no
secret reaches the server's log even at debug level.

The module runs its own server (debug logging, a service clock it may move).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import json
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.helpers import advance_clock, internal_call

JSON_10 = "application/x-amz-json-1.0"
FORM = "application/x-www-form-urlencoded"
STS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
EC2_BODY = b"Action=DescribeRegions&Version=2016-11-15"


@pytest.fixture(scope="module")
def server(tmp_root):
    s = Server(tmp_root / f"auth-{uuid.uuid4().hex[:6]}", extra_args=("--log-level", "debug")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def ep(server) -> str:
    return server.endpoint


def client(ep: str, service: str, region: str = "us-east-1", key: str = "test", secret: str = "test",
           token: str | None = None, **config):
    return boto3.client(service, endpoint_url=ep, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token,
                        config=Config(retries={"max_attempts": 1}, **config))


def error_of(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as excinfo:
        call()
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"].get("Message", "")


def signed(method: str, url: str, service: str, *, body: bytes = b"", headers: dict | None = None,
           region: str = "us-east-1", key: str = "test", secret: str = "test") -> tuple[bytes, dict]:
    """A body and headers signed by botocore's own signer, for `url` (whose host may not resolve)."""
    parts = urlsplit(url)
    request = AWSRequest(method=method, url=url, data=body, headers={"Host": parts.netloc, **(headers or {})})
    signer = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    signer(Credentials(key, secret), service, region).add_auth(request)
    return body, dict(request.headers)


def send(ep: str, method: str, url: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", int(ep.rsplit(":", 1)[1]), timeout=10)
    conn.request(method, parts.path + ("?" + parts.query if parts.query else ""), body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def code_in(body: bytes) -> str:
    if body.startswith(b"{"):
        return json.loads(body)["__type"].rpartition("#")[2]
    return body.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode()


def port(ep: str) -> str:
    return ep.rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def bucket(ep) -> str:
    name = f"auth-{uuid.uuid4().hex[:8]}"
    s3 = client(ep, "s3")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="doc.txt", Body=b"secret document")
    return name


# --- the credential scope against the endpoint ------------------------------------------


@pytest.mark.parametrize("service,host,body,headers,expected", [
    ("s3", "s3.eu-west-1.localhost", b"", {}, ("AuthorizationHeaderMalformed", 400)),
    ("sts", "sts.eu-west-1.localhost", STS_BODY, {"Content-Type": FORM}, ("SignatureDoesNotMatch", 403)),
    ("dynamodb", "dynamodb.eu-west-1.localhost", b"{}",
     {"Content-Type": JSON_10, "X-Amz-Target": "DynamoDB_20120810.ListTables"}, ("InvalidSignatureException", 400)),
    ("ec2", "ec2.eu-west-1.localhost", EC2_BODY, {"Content-Type": FORM}, ("AuthFailure", 401)),
])
def test_scope_region_must_be_the_endpoints(ep, bucket, service, host, body, headers, expected):
    """A key scoped to us-west-2 sent to a regional endpoint of eu-west-1 is refused there."""
    method, path = ("GET", f"/{bucket}/doc.txt") if service == "s3" else ("POST", "/")
    url = f"http://{host}:{port(ep)}{path}"
    status, answer = send(ep, method, url, *signed(method, url, service, body=body, headers=headers, region="us-west-2"))
    assert (code_in(answer), status) == expected, answer
    if service == "s3":
        assert b"the region 'us-west-2' is wrong; expecting 'eu-west-1'" in answer
        assert b"<Region>eu-west-1</Region>" in answer
    elif service != "ec2":
        assert b"Credential should be scoped to a valid region, not 'us-west-2'." in answer
    # Scoped to the endpoint's own region, the same request passes authentication.
    status, answer = send(ep, method, url, *signed(method, url, service, body=body, headers=headers, region="eu-west-1"))
    assert status == 200 or (service == "s3" and status < 500 and b"Authorization" not in answer), answer


def test_sigv2_has_no_region_to_check(ep, bucket):
    """S3's legacy signatures name no region: a regional Host is no mismatch for them."""
    url = f"http://{bucket}.s3.eu-west-1.localhost:{port(ep)}/doc.txt"
    request = AWSRequest(method="GET", url=url, headers={"Host": urlsplit(url).netloc})
    botocore.auth.HmacV1Auth(Credentials("test", "test")).add_auth(request)
    assert send(ep, "GET", url, b"", dict(request.headers)) == (200, b"secret document")


@pytest.mark.parametrize("signed_for,host,body,headers,expected", [
    ("s3", "sts.localhost", STS_BODY, {"Content-Type": FORM}, ("SignatureDoesNotMatch", 403, b"'sts'")),
    ("s3", "localhost", b"{}", {"Content-Type": JSON_10, "X-Amz-Target": "DynamoDB_20120810.ListTables"},
     ("InvalidSignatureException", 400, b"'dynamodb'")),
    ("sts", "iam.localhost", b"Action=GetUser&Version=2010-05-08", {"Content-Type": FORM},
     ("SignatureDoesNotMatch", 403, b"'iam'")),
    ("dynamodb", "BUCKET.s3.localhost", b"", {}, ("AuthorizationHeaderMalformed", 400, b'This endpoint belongs to "s3"')),
])
def test_scope_service_must_be_the_endpoints(ep, bucket, signed_for, host, body, headers, expected):
    """A signature for one service sent to another service's endpoint is that service's error."""
    host = host.replace("BUCKET", bucket)
    method, path = ("GET", "/doc.txt") if "s3" in host else ("POST", "/")
    url = f"http://{host}:{port(ep)}{path}"
    status, answer = send(ep, method, url, *signed(method, url, signed_for, body=body, headers=headers))
    assert (code_in(answer), status) == expected[:2], answer
    assert expected[2] in answer
    if signed_for == "dynamodb":  # S3's wording
        assert b'incorrect service "dynamodb"' in answer
    else:
        assert b"Credential should be scoped to correct service:" in answer


def _redate_scope(headers: dict) -> dict:
    """Move the credential scope's date one day back, leaving X-Amz-Date alone."""
    amz_date = headers["X-Amz-Date"]
    day = (dt.datetime.strptime(amz_date[:8], "%Y%m%d") - dt.timedelta(days=1)).strftime("%Y%m%d")
    return {**headers, "Authorization": headers["Authorization"].replace(f"/{amz_date[:8]}/", f"/{day}/")}


@pytest.mark.parametrize("service,url_path,body,headers,expected", [
    ("s3", "/BUCKET/doc.txt", b"", {}, ("AuthorizationHeaderMalformed", 400, b"Invalid credential date")),
    ("sts", "/", STS_BODY, {"Content-Type": FORM}, ("SignatureDoesNotMatch", 403, b"Date in Credential scope does not match")),
    ("dynamodb", "/", b"{}", {"Content-Type": JSON_10, "X-Amz-Target": "DynamoDB_20120810.ListTables"},
     ("InvalidSignatureException", 400, b"Date in Credential scope does not match")),
])
def test_scope_date_must_be_the_request_date(ep, bucket, service, url_path, body, headers, expected):
    method = "GET" if service == "s3" else "POST"
    url = f"{ep}{url_path.replace('BUCKET', bucket)}"
    body, sent = signed(method, url, service, body=body, headers=headers)
    status, answer = send(ep, method, url, body, _redate_scope(sent))
    assert (code_in(answer), status) == expected[:2], answer
    assert expected[2] in answer


# --- presigned URLs ----------------------------------------------------------------------


def _presign(ep: str, bucket: str, expires: int, signed_ago: float = 0.0, key: str = "doc.txt") -> str:
    """A SigV4 presigned GetObject URL, signed `signed_ago` seconds in the past."""
    s3 = client(ep, "s3", signature_version="s3v4")
    if not signed_ago:
        return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires)
    real = botocore.auth.datetime.datetime

    class Earlier(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() - dt.timedelta(seconds=signed_ago)

        @classmethod
        def now(cls, tz=None):
            return real.now(tz) - dt.timedelta(seconds=signed_ago)

    botocore.auth.datetime.datetime = Earlier
    try:
        return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires)
    finally:
        botocore.auth.datetime.datetime = real


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_presigned_url_within_and_after_its_expiry(ep, bucket):
    assert _get(_presign(ep, bucket, 60, signed_ago=30)) == (200, b"secret document")
    status, body = _get(_presign(ep, bucket, 60, signed_ago=61))
    assert (status, code_in(body)) == (403, "AccessDenied") and b"Request has expired" in body
    assert b"<X-Amz-Expires>60</X-Amz-Expires>" in body


def test_presigned_url_longer_than_a_week(ep, bucket):
    status, body = _get(_presign(ep, bucket, 604801))
    assert (status, code_in(body)) == (400, "AuthorizationQueryParametersError")
    assert b"604800" in body
    assert _get(_presign(ep, bucket, 604800))[0] == 200


@pytest.mark.parametrize("tamper", [
    lambda url: url.replace("/doc.txt?", "/other.txt?"),
    lambda url: url + "&response-content-type=text%2Fhtml",
    lambda url: url.replace("X-Amz-Expires=60", "X-Amz-Expires=600"),
    lambda url: url.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=host%3Brange"),
    lambda url: url.replace("%2Fus-east-1%2F", "%2Fus-west-2%2F"),
], ids=["key", "added-parameter", "expires", "signed-headers", "scope-region"])
def test_tampered_presigned_url(ep, bucket, tamper):
    url = _presign(ep, bucket, 60)
    assert _get(url)[0] == 200
    status, body = _get(tamper(url))
    assert (status, code_in(body)) == (403, "SignatureDoesNotMatch"), body


def test_presigned_scope_date_must_be_the_request_date(ep, bucket):
    url = _presign(ep, bucket, 60)
    day = url.split("X-Amz-Date=", 1)[1][:8]
    earlier = (dt.datetime.strptime(day, "%Y%m%d") - dt.timedelta(days=1)).strftime("%Y%m%d")
    status, body = _get(url.replace(f"%2F{day}%2F", f"%2F{earlier}%2F"))
    assert (status, code_in(body)) == (400, "AuthorizationQueryParametersError")
    assert b"Invalid credential date" in body


# --- tampered requests --------------------------------------------------------------------


def _put(ep: str, bucket: str, key: str, body: bytes, meta: str = "1") -> tuple[bytes, dict, str]:
    url = f"{ep}/{bucket}/{key}"
    body, headers = signed("PUT", url, "s3", body=body, headers={"x-amz-meta-a": meta, "Content-Type": "text/plain"})
    return body, headers, url


@pytest.mark.parametrize("tamper,expected", [
    (lambda h: {**h, "x-amz-meta-a": "2"}, ("SignatureDoesNotMatch", 403)),
    (lambda h: {k: v for k, v in h.items() if k != "Content-Type"}, ("SignatureDoesNotMatch", 403)),
    (lambda h: {**h, "Authorization": h["Authorization"].replace("SignedHeaders=", "SignedHeaders=accept;")},
     ("SignatureDoesNotMatch", 403)),
    (lambda h: {**h, "x-amz-meta-b": "unsigned"}, ("AccessDenied", 403)),
], ids=["changed-value", "dropped-header", "unsent-signed-header", "unsigned-amz-header"])
def test_tampered_signed_headers(ep, bucket, tamper, expected):
    key = f"tampered-{uuid.uuid4().hex[:6]}"
    body, headers, url = _put(ep, bucket, key, b"payload")
    status, answer = send(ep, "PUT", url, body, tamper(headers))
    assert (code_in(answer), status) == expected, answer
    # Nothing was written; the untampered request then succeeds.
    assert error_of(lambda: client(ep, "s3").head_object(Bucket=bucket, Key=key))[1] == 404
    assert send(ep, "PUT", url, body, headers)[0] == 200


def test_tampered_body_against_signed_content_sha256(ep, bucket):
    key = f"body-{uuid.uuid4().hex[:6]}"
    body, headers, url = _put(ep, bucket, key, b"original payload")
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(b"original payload").hexdigest()
    status, answer = send(ep, "PUT", url, b"tampered payload", headers)
    assert (code_in(answer), status) == ("XAmzContentSHA256Mismatch", 400), answer
    assert error_of(lambda: client(ep, "s3").head_object(Bucket=bucket, Key=key))[1] == 404
    # Services that hash the body into the signature: the signature no longer matches.
    body, headers = signed("POST", ep + "/", "dynamodb", body=b'{"Limit": 1}',
                           headers={"Content-Type": JSON_10, "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    status, answer = send(ep, "POST", ep + "/", b'{"Limit": 9}', headers)
    assert (code_in(answer), status) == ("InvalidSignatureException", 400)
    body, headers = signed("POST", ep + "/", "sts", body=STS_BODY, headers={"Content-Type": FORM})
    status, answer = send(ep, "POST", ep + "/", STS_BODY.replace(b"2011", b"2012"), headers)
    assert (code_in(answer), status) == ("SignatureDoesNotMatch", 403)


# --- keys and tokens that no longer (or never) name a principal ---------------------------

# (service, call, code, status) for a key that names nobody, per protocol.
UNKNOWN_KEY = [
    ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId", 403),
    ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId", 403),
    ("dynamodb", lambda c: c.list_tables(), "UnrecognizedClientException", 400),
    ("ec2", lambda c: c.describe_regions(), "AuthFailure", 401),
    ("iam", lambda c: c.list_users(), "InvalidClientTokenId", 403),
]


def _refused_everywhere(ep: str, table, **creds) -> None:
    for service, call, code, status in table:
        assert error_of(lambda: call(client(ep, service, **creds)))[:2] == (code, status), service


def test_keys_of_a_deleted_user_and_inactive_keys(ep):
    iam = client(ep, "iam")
    user = f"leaver-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    creds = {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    assert client(ep, "sts", **creds).get_caller_identity()["Arn"].endswith(f":user/{user}")

    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    _refused_everywhere(ep, UNKNOWN_KEY, **creds)
    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert client(ep, "sts", **creds).get_caller_identity()["Arn"].endswith(f":user/{user}")

    # A user with keys cannot be deleted; once they are gone, so is every way in.
    assert error_of(lambda: iam.delete_user(UserName=user))[0] == "DeleteConflict"
    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=user)
    _refused_everywhere(ep, UNKNOWN_KEY, **creds)
    # A user of the same name made again does not revive the old key.
    iam.create_user(UserName=user)
    _refused_everywhere(ep, UNKNOWN_KEY[:1], **creds)


def test_session_token_of_another_session_or_on_a_long_term_key(ep):
    sts = client(ep, "sts")
    one = sts.get_session_token()["Credentials"]
    other = sts.get_session_token()["Credentials"]
    mixed = {"key": one["AccessKeyId"], "secret": one["SecretAccessKey"], "token": other["SessionToken"]}
    expected = [
        ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId", 403),
        ("s3", lambda c: c.list_buckets(), "InvalidToken", 400),
        ("dynamodb", lambda c: c.list_tables(), "UnrecognizedClientException", 400),
        ("ec2", lambda c: c.describe_regions(), "AuthFailure", 401),
    ]
    _refused_everywhere(ep, expected, **mixed)
    _refused_everywhere(ep, expected, token=other["SessionToken"])  # the root key with a token
    # Without its token a session key is refused too.
    _refused_everywhere(ep, expected[:1], key=one["AccessKeyId"], secret=one["SecretAccessKey"])
    ok = {"key": one["AccessKeyId"], "secret": one["SecretAccessKey"], "token": one["SessionToken"]}
    assert client(ep, "sts", **ok).get_caller_identity()["Account"] == "000000000000"


def test_expired_session_token(ep):
    """Session credentials past their expiry on the service clock (this module's own server)."""
    sts = client(ep, "sts")
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    session = {"key": creds["AccessKeyId"], "secret": creds["SecretAccessKey"], "token": creds["SessionToken"]}
    assert client(ep, "s3", **session).list_buckets()["Buckets"] is not None
    advance_clock(ep, 901)
    _refused_everywhere(ep, [
        ("sts", lambda c: c.get_caller_identity(), "ExpiredToken", 403),
        ("s3", lambda c: c.list_buckets(), "ExpiredToken", 400),
        ("dynamodb", lambda c: c.list_tables(), "ExpiredTokenException", 400),
        ("ec2", lambda c: c.describe_regions(), "RequestExpired", 400),
    ], **session)
    assert sts.get_caller_identity()["Account"] == "000000000000"


# --- cross-account -----------------------------------------------------------------------


def test_cross_account_needs_a_resource_policy(ep, bucket):
    other = internal_call(ep, "POST", "/_gureum/accounts", {})
    b_root = {"key": other["access_key_id"], "secret": other["secret_access_key"]}
    b_account = other["account_id"]

    # S3: the object of account A is not readable by B's root until A's bucket policy says so.
    code, status, message = error_of(lambda: client(ep, "s3", **b_root).get_object(Bucket=bucket, Key="doc.txt"))
    assert (code, status) == ("AccessDenied", 403)
    assert f"arn:aws:iam::{b_account}:root" in message and "s3:GetObject" in message
    s3 = client(ep, "s3")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{b_account}:root"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    try:
        assert client(ep, "s3", **b_root).get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"secret document"
        # The policy grants reads only.
        assert error_of(lambda: client(ep, "s3", **b_root).put_object(Bucket=bucket, Key="x", Body=b"x"))[:2] == (
            "AccessDenied", 403)
    finally:
        s3.delete_bucket_policy(Bucket=bucket)

    # DynamoDB: A's table by ARN.
    ddb = client(ep, "dynamodb")
    table = f"cross-{uuid.uuid4().hex[:6]}"
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    ddb.put_item(TableName=table, Item={"k": {"S": "1"}})
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    b_ddb = client(ep, "dynamodb", **b_root)
    code, status, message = error_of(lambda: b_ddb.get_item(TableName=arn, Key={"k": {"S": "1"}}))
    assert (code, status) == ("AccessDeniedException", 400) and "dynamodb:GetItem" in message
    # By name, B sees only its own (absent) table.
    assert error_of(lambda: b_ddb.get_item(TableName=table, Key={"k": {"S": "1"}}))[:2] == (
        "ResourceNotFoundException", 400)

    # IAM: A's user is not B's.
    user = f"only-a-{uuid.uuid4().hex[:6]}"
    client(ep, "iam").create_user(UserName=user)
    assert error_of(lambda: client(ep, "iam", **b_root).get_user(UserName=user))[:2] == ("NoSuchEntity", 404)

    # STS: a role of A whose trust policy does not name B, assumed by a B user allowed everything.
    iam = client(ep, "iam")
    role = f"a-role-{uuid.uuid4().hex[:6]}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}))
    b_iam = client(ep, "iam", **b_root)
    b_iam.create_user(UserName="bob")
    b_iam.put_user_policy(UserName="bob", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    bob_key = b_iam.create_access_key(UserName="bob")["AccessKey"]
    bob_sts = client(ep, "sts", key=bob_key["AccessKeyId"], secret=bob_key["SecretAccessKey"])
    role_arn = f"arn:aws:iam::000000000000:role/{role}"
    code, status, message = error_of(lambda: bob_sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"))
    assert (code, status) == ("AccessDenied", 403) and "sts:AssumeRole" in message
    # Bob's own allow-everything does not reach A's resources either.
    bob_s3 = client(ep, "s3", key=bob_key["AccessKeyId"], secret=bob_key["SecretAccessKey"])
    assert error_of(lambda: bob_s3.get_object(Bucket=bucket, Key="doc.txt"))[:2] == ("AccessDenied", 403)
    # Trusted by A, the same call succeeds.
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{b_account}:root"}, "Action": "sts:AssumeRole"}]}))
    assumed = bob_sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role}/s1"


# --- internal endpoints --------------------------------------------------------------------


def _internal(ep: str, path: str, method: str = "GET", data: bytes | None = None,
              headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(ep + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_internal_endpoints_refuse_all_but_the_default_root(ep):
    assert _internal(ep, "/_gureum/health")[0] == 200
    payload = json.dumps({"advance_seconds": 1}).encode()
    # Unsigned.
    for path, method, data in (("/_gureum/accounts", "GET", None), ("/_gureum/accounts", "POST", b"{}"),
                               ("/_gureum/clock", "POST", payload)):
        status, body = _internal(ep, path, method, data)
        assert (status, body["error"]) == (403, "AccessDenied"), path
    # Signed with a wrong secret for the right key.
    body, headers = signed("GET", ep + "/_gureum/accounts", "gureum", secret="wrong")
    assert _internal(ep, "/_gureum/accounts", headers=headers)[0] == 403
    # Another account's root, an IAM user of the default account (even one allowed
    # everything), and a session of the default root.
    other = internal_call(ep, "POST", "/_gureum/accounts", {})
    iam = client(ep, "iam")
    user = f"admin-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName=user)["AccessKey"]
    session = client(ep, "sts").get_session_token()["Credentials"]
    for key_id, secret, token in ((other["access_key_id"], other["secret_access_key"], None),
                                  (key["AccessKeyId"], key["SecretAccessKey"], None),
                                  (session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])):
        extra = {"X-Amz-Security-Token": token} if token else {}
        body, headers = signed("POST", ep + "/_gureum/clock", "gureum", body=payload, headers=extra,
                               key=key_id, secret=secret)
        status, answer = _internal(ep, "/_gureum/clock", "POST", payload, headers)
        assert (status, answer["error"]) == (403, "AccessDenied"), key_id
        body, headers = signed("GET", ep + "/_gureum/accounts", "gureum", headers=extra, key=key_id, secret=secret)
        assert _internal(ep, "/_gureum/accounts", headers=headers)[0] == 403
    # The default root may.
    assert "accounts" in internal_call(ep, "GET", "/_gureum/accounts")


# --- secrets never in the log ----------------------------------------------------------------


def test_no_secret_reaches_the_log(ep, server, bucket):
    """Exercise every request and response that carries a secret, then read the whole debug log."""
    secrets: list[str] = []
    iam = client(ep, "iam")
    user = f"logged-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    secrets.append(key["SecretAccessKey"])
    password = "Pa55-" + uuid.uuid4().hex
    iam.create_login_profile(UserName=user, Password=password, PasswordResetRequired=False)
    secrets.append(password)
    new_password = "Ch4nged-" + uuid.uuid4().hex
    iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    as_user = {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    client(ep, "iam", **as_user).change_password(OldPassword=password, NewPassword=new_password)
    secrets.append(new_password)
    iam.update_login_profile(UserName=user, Password=password + "x")
    secrets.append(password + "x")

    session = client(ep, "sts").get_session_token()["Credentials"]
    secrets += [session["SecretAccessKey"], session["SessionToken"]]
    as_session = {"key": session["AccessKeyId"], "secret": session["SecretAccessKey"], "token": session["SessionToken"]}
    client(ep, "s3", **as_session).list_buckets()
    # A token of another session, refused: the token still must not be echoed into the log.
    other = client(ep, "sts").get_session_token()["Credentials"]
    secrets += [other["SecretAccessKey"], other["SessionToken"]]
    error_of(lambda: client(ep, "sts", key=session["AccessKeyId"], secret=session["SecretAccessKey"],
                            token=other["SessionToken"]).get_caller_identity())

    # A SigV4 Authorization header (its signature), sent to each protocol.
    for service, body, headers in (("sts", STS_BODY, {"Content-Type": FORM}),
                                   ("dynamodb", b"{}", {"Content-Type": JSON_10, "X-Amz-Target": "DynamoDB_20120810.ListTables"})):
        body, sent = signed("POST", ep + "/", service, body=body, headers=headers, **as_user)
        assert send(ep, "POST", ep + "/", body, sent)[0] == 200
        secrets.append(sent["Authorization"].rsplit("Signature=", 1)[1])
        # ... and a bad signature, which S3 answers with its StringToSign.
        bad = {**sent, "Authorization": sent["Authorization"][:-8] + "00000000"}
        assert send(ep, "POST", ep + "/", body, bad)[0] in (400, 403)

    # A presigned URL's signature, used and then tampered.
    url = _presign(ep, bucket, 60)
    secrets.append(url.rsplit("X-Amz-Signature=", 1)[1])
    assert _get(url)[0] == 200
    assert _get(url.replace("/doc.txt?", "/nope.txt?"))[0] == 403

    # An SSE-C key.
    s3 = client(ep, "s3")
    sse_key = uuid.uuid4().hex.encode()  # 32 bytes
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": sse_key.decode()}
    s3.put_object(Bucket=bucket, Key="sse-c.txt", Body=b"sealed", **sse)
    assert s3.get_object(Bucket=bucket, Key="sse-c.txt", **sse)["Body"].read() == b"sealed"
    secrets += [sse_key.decode(), base64.b64encode(sse_key).decode()]
    # The wrong key, refused.
    error_of(lambda: s3.get_object(Bucket=bucket, Key="sse-c.txt", SSECustomerAlgorithm="AES256",
                                   SSECustomerKey=uuid.uuid4().hex))

    # An account's root key from the internal endpoint.
    created = internal_call(ep, "POST", "/_gureum/accounts", {})
    secrets.append(created["secret_access_key"])

    log = server.log_path.read_text(errors="replace")
    assert "DEBUG" in log and "CreateAccessKey" in log  # the log is at debug level and has the requests
    leaked = [s for s in secrets if s in log]
    assert not leaked, f"{len(leaked)} secret value(s) found in the log"
