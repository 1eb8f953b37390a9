"""The gateway end to end: routing, the health endpoint, auth errors per protocol, not-implemented."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import botocore.auth
import pytest
from botocore.exceptions import ClientError


def error_of(excinfo) -> tuple[str, int, str]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")


def test_health(endpoint):
    with urllib.request.urlopen(endpoint + "/_gureum/health") as r:
        health = json.load(r)
    assert r.status == 200
    assert health["version"]
    assert health["uptime_seconds"] >= 0
    assert health["services"]["sts"] in ("available", "running")
    assert health["services"]["wafv2"] == "not implemented"


def test_root_identity(make_client):
    ident = make_client("sts").get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ident["Arn"] == "arn:aws:iam::000000000000:root"
    assert ident["UserId"] == "000000000000"


@pytest.mark.parametrize(
    "service,call,code,status",
    [
        ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId", 403),
        ("iam", lambda c: c.list_users(), "InvalidClientTokenId", 403),
        ("dynamodb", lambda c: c.list_tables(), "UnrecognizedClientException", 400),
        ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId", 403),
        ("ec2", lambda c: c.describe_regions(), "AuthFailure", 401),
        ("lambda", lambda c: c.list_functions(), "UnrecognizedClientException", 403),
    ],
)
def test_unknown_access_key(make_client, service, call, code, status):
    client = make_client(service, access_key="AKIAIOSFODNN7EXAMPLE", secret_key="x")
    with pytest.raises(ClientError) as excinfo:
        call(client)
    got_code, got_status, _ = error_of(excinfo)
    assert (got_code, got_status) == (code, status)


@pytest.mark.parametrize(
    "service,call,code,status",
    [
        ("sts", lambda c: c.get_caller_identity(), "SignatureDoesNotMatch", 403),
        ("dynamodb", lambda c: c.list_tables(), "InvalidSignatureException", 400),
        ("s3", lambda c: c.list_buckets(), "SignatureDoesNotMatch", 403),
        ("kms", lambda c: c.list_keys(), "InvalidSignatureException", 400),
    ],
)
def test_wrong_secret(make_client, service, call, code, status):
    client = make_client(service, secret_key="not-the-secret")
    with pytest.raises(ClientError) as excinfo:
        call(client)
    got_code, got_status, _ = error_of(excinfo)
    assert (got_code, got_status) == (code, status)


@pytest.mark.parametrize(
    "service,call",
    [
        ("dynamodb", lambda c: c.list_exports()),
        ("s3", lambda c: c.get_bucket_analytics_configuration(Bucket="any-bucket", Id="any")),
        ("ec2", lambda c: c.describe_spot_fleet_requests()),
        ("lambda", lambda c: c.list_functions()),
        ("route53", lambda c: c.list_hosted_zones()),
        ("cloudwatch", lambda c: c.list_metrics()),  # smithy-rpc-v2-cbor
        ("sqs", lambda c: c.list_queues()),
    ],
)
def test_not_implemented_names_the_operation(make_client, service, call):
    with pytest.raises(ClientError) as excinfo:
        call(make_client(service))
    code, status, message = error_of(excinfo)
    assert code == "NotImplemented"
    assert status == 501
    op = excinfo.value.operation_name
    assert op in message


def test_clock_skew(make_client, monkeypatch):
    """A signature dated 20 minutes ago is refused with each protocol's error."""
    real = botocore.auth.datetime.datetime

    class Skewed(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() - dt.timedelta(minutes=20)

        @classmethod
        def now(cls, tz=None):
            return real.now(tz) - dt.timedelta(minutes=20)

    monkeypatch.setattr(botocore.auth.datetime, "datetime", Skewed)
    with pytest.raises(ClientError) as excinfo:
        make_client("s3").list_buckets()
    assert error_of(excinfo)[:2] == ("RequestTimeTooSkewed", 403)
    with pytest.raises(ClientError) as excinfo:
        make_client("sts").get_caller_identity()
    code, status, message = error_of(excinfo)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert "expired" in message.lower()


def test_unknown_region_refused(make_client):
    with pytest.raises(ClientError) as excinfo:
        make_client("sts", region="moon-west-1").get_caller_identity()
    assert error_of(excinfo)[1] in (400, 403)


def test_regions_from_scope(make_client):
    """Any commercial region works; the scope's region is used."""
    for region in ("ap-northeast-2", "eu-central-1", "us-west-2"):
        assert make_client("sts", region=region).get_caller_identity()["Account"] == "000000000000"


def test_missing_authentication(endpoint):
    req = urllib.request.Request(
        endpoint + "/", data=b"{}", method="POST",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"},
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(req)
    body = json.loads(excinfo.value.read())
    assert "MissingAuthenticationToken" in body["__type"]
    assert excinfo.value.code in (400, 403)


def signed_send(endpoint: str, method: str, url: str, service: str, *, body: bytes = b"",
                headers: dict | None = None, region: str = "us-east-1", auth_cls=None):
    """Sign a request for `url` (whose host may not resolve) and send it to the test server."""
    import http.client
    from urllib.parse import urlsplit

    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    parts = urlsplit(url)
    # The Host the client would send; http.client would otherwise name 127.0.0.1.
    request = AWSRequest(method=method, url=url, data=body, headers={"Host": parts.netloc, **(headers or {})})
    (auth_cls or botocore.auth.S3SigV4Auth)(Credentials("test", "test"), service, region).add_auth(request)
    conn = http.client.HTTPConnection("127.0.0.1", int(endpoint.rsplit(":", 1)[1]), timeout=10)
    path = parts.path + ("?" + parts.query if parts.query else "")
    conn.request(method, path, body=body, headers=dict(request.headers))
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


@pytest.mark.parametrize("host", ["my-bucket.s3.localhost", "my-bucket.s3.ap-northeast-2.localhost"])
def test_virtual_host_s3(endpoint, host):
    """BUCKET.s3[.REGION].localhost reaches S3's object operations, signed over the path as sent."""
    port = endpoint.rsplit(":", 1)[1]
    region = "ap-northeast-2" if "ap-northeast-2" in host else "us-east-1"
    status, headers, body = signed_send(endpoint, "GET", f"http://{host}:{port}/photo.png", "s3", region=region)
    # The bucket comes from the host: S3 answers for my-bucket (which does not exist).
    assert status == 404, body
    assert b"<Code>NoSuchBucket</Code>" in body and b"<BucketName>my-bucket</BucketName>" in body
    status, _, body = signed_send(endpoint, "GET", f"http://{host}:{port}/", "s3", region=region)
    assert status == 404 and b"<BucketName>my-bucket</BucketName>" in body


def test_a_body_that_stops_arriving_times_out(tmp_root):
    """A client that sends half its body and goes quiet gets RequestTimeout, not a hung connection."""
    import socket

    from tests.conftest import Server

    s = Server(tmp_root / "request-timeout", env={"GUREUM_REQUEST_TIMEOUT_SECONDS": "1"}).start()
    try:
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: 100\r\n\r\nAction=Get")
            answer = b""
            while b"</ErrorResponse>" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"<Code>RequestTimeout</Code>" in answer and b"connection: close" in answer.lower()
        # The server goes on serving.
        from tests.conftest import client_factory

        assert client_factory(s.endpoint)("sts").get_caller_identity()["Account"] == "000000000000"
    finally:
        s.stop()
