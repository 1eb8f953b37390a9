"""SigV4 verification against requests signed by botocore's own signers and clients."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from gureum.auth import sigv4
from gureum.auth.sigv4 import AuthError
from gureum.protocol.http import HttpRequest

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ENDPOINT = "http://localhost:4566"


class _Captured(Exception):
    def __init__(self, request):
        self.request = request


def to_http(prepared) -> HttpRequest:
    """A prepared botocore request as the gateway hands it over (headers lower-case, latin-1)."""
    url = urlsplit(prepared.url)
    headers: dict[str, str] = {}
    for name, value in prepared.headers.items():
        name = name.lower()
        value = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    headers.setdefault("host", url.netloc)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = body.read()
    path = url.path.encode("utf-8").decode("latin-1") or "/"
    return HttpRequest(prepared.method, path, url.query, headers, body, host=url.netloc)


def client_request(
    service: str,
    operation: str,
    params: dict[str, Any] | None = None,
    *,
    region: str = "us-east-1",
    endpoint: str = ENDPOINT,
    token: str | None = None,
    config: Config | None = None,
) -> tuple[HttpRequest, Any]:
    """What a real botocore client sends for one call: (request, the prepared original)."""
    client = botocore.session.get_session().create_client(
        service, region_name=region, endpoint_url=endpoint,
        aws_access_key_id=KEY, aws_secret_access_key=SECRET, aws_session_token=token,
        config=config or Config(retries={"max_attempts": 0}),
    )

    def capture(request, **_):
        raise _Captured(request)

    client.meta.events.register("before-send", capture)
    method = getattr(client, botocore.xform_name(operation))
    with pytest.raises(_Captured) as caught:
        method(**(params or {}))
    return to_http(caught.value.request), caught.value.request


def signed(method: str, url: str, service: str, *, body: bytes = b"", headers: dict | None = None,
           auth_cls=botocore.auth.SigV4Auth, region: str = "us-east-1", secret: str = SECRET) -> HttpRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    auth_cls(Credentials(KEY, secret), service, region).add_auth(request)
    return to_http(request.prepare())


def check(request: HttpRequest, secret: str = SECRET, now: datetime | None = None) -> sigv4.VerifiedSignature:
    info = sigv4.parse_signature(request)
    assert info is not None
    return sigv4.verify(request, info, secret, now or datetime.now(timezone.utc))


def rejected(request: HttpRequest, secret: str = SECRET, now: datetime | None = None) -> AuthError:
    with pytest.raises(AuthError) as caught:
        check(request, secret, now)
    return caught.value


# --------------------------------------------------------------------------- clients


@pytest.mark.parametrize(
    "service,operation,params",
    [
        ("sts", "GetCallerIdentity", {}),
        ("iam", "CreateUser", {"UserName": "a b+c", "Path": "/x/y/"}),
        ("dynamodb", "ListTables", {"Limit": 3}),
        ("sqs", "SendMessage", {"QueueUrl": "http://localhost:4566/000000000000/q", "MessageBody": "héllo ~*"}),
        ("lambda", "Invoke", {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f", "Payload": b"{}"}),
        ("lambda", "ListFunctions", {"MaxItems": 5, "Marker": "a/b=c"}),
        ("ec2", "DescribeInstances", {"Filters": [{"Name": "tag:Name", "Values": ["x y", "z"]}]}),
        ("route53", "ListResourceRecordSets", {"HostedZoneId": "Z1", "StartRecordName": "a b.example.com."}),
        ("cloudwatch", "ListMetrics", {"Namespace": "AWS/EC2"}),
        ("kms", "ListKeys", {}),
        ("s3", "ListObjectsV2", {"Bucket": "bucket", "Prefix": "a b/ü+~", "Delimiter": "/"}),
        ("s3", "GetObject", {"Bucket": "bucket", "Key": "dir/a b/c%d~e!f(g)*h'i,j=k&l:m;n@o+p$q"}),
        ("s3", "PutObject", {"Bucket": "bucket", "Key": "x/./y//z/../w", "Body": b"data", "Metadata": {"k": "  v  w "}}),
        ("s3", "DeleteObjects", {"Bucket": "bucket", "Delete": {"Objects": [{"Key": "a"}]}}),
        ("s3", "GetObject", {"Bucket": "bucket", "Key": "ключ/日本"}),
    ],
)
def test_client_requests_verify(service, operation, params):
    request, _ = client_request(service, operation, params)
    verified = check(request)
    info = sigv4.parse_signature(request)
    assert (info.access_key, info.region, info.terminator) == (KEY, "us-east-1", "aws4_request")
    assert verified.signing_key == sigv4.signing_key(SECRET, info.date, "us-east-1", info.service)


def test_scope_gives_routing_facts():
    request, _ = client_request("cloudwatch", "ListMetrics", {}, region="ap-northeast-2")
    info = sigv4.parse_signature(request)
    assert (info.service, info.region, info.presigned) == ("monitoring", "ap-northeast-2", False)
    assert info.scope == f"{info.date}/ap-northeast-2/monitoring/aws4_request"
    assert info.payload_mode == "absent"
    s3_request, _ = client_request("s3", "ListBuckets", {})
    assert sigv4.parse_signature(s3_request).payload_mode == "sha256"


def test_anonymous_request_has_no_signature():
    assert sigv4.parse_signature(HttpRequest("GET", "/bucket/key", "versionId=1", {"host": "x"})) is None


def test_session_token_is_read():
    request, _ = client_request("sts", "GetCallerIdentity", token="FQoGZXIvYXdzEJr//////////token")
    assert sigv4.parse_signature(request).security_token == "FQoGZXIvYXdzEJr//////////token"
    check(request)


def test_date_header_instead_of_x_amz_date():
    request = signed("GET", f"{ENDPOINT}/", "sts", headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"})
    assert "x-amz-date" not in request.headers
    info = sigv4.parse_signature(request)
    now = datetime.strptime(info.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    check(request, now=now)


def test_repeated_and_spaced_header_values():
    request = signed("POST", f"{ENDPOINT}/", "sts", body=b"Action=GetCallerIdentity",
                     headers={"X-Custom": "  a   b\tc  ", "Content-Type": "application/x-www-form-urlencoded"})
    check(request)
    # The gateway joins a header sent twice with "," as botocore's signer joins multi-values.
    request.headers["x-custom"] = "a b c"
    check(request)


def test_path_canonicalization_per_service():
    # Other services double-encode and normalize the path, S3 does neither.
    for service, auth_cls in (("execute-api", botocore.auth.SigV4Auth), ("s3", botocore.auth.S3SigV4Auth)):
        request = signed("GET", f"{ENDPOINT}/a/./b//c/../d%20e%2Ff~g", service, auth_cls=auth_cls)
        check(request)
    # Percent-escapes of optional characters are equivalent for S3 (it decodes each segment).
    request = signed("GET", f"{ENDPOINT}/bucket/a%7Eb%41", "s3", auth_cls=botocore.auth.S3SigV4Auth)
    check(request)
    assert sigv4.canonical.s3_path("/bucket/a%7Eb%41") == "/bucket/a~bA"
    assert sigv4.canonical.s3_path("/b/a%2fb c") == "/b/a%2Fb%20c"
    assert sigv4.canonical.normalized_path("/a/./b//c/../d%20e") == "/a/b/d%2520e"
    assert sigv4.canonical.normalized_path("") == "/"


def test_query_canonicalization():
    q = sigv4.canonical.query_string("b=2&a=3&a=1&c&d=x+y&e=%7e%2f&X-Amz-Signature=z", exclude="X-Amz-Signature")
    assert q == "a=1&a=3&b=2&c=&d=x%2By&e=~%2F"


# --------------------------------------------------------------------------- tampering


@pytest.mark.parametrize("service,operation,params", [
    ("sts", "GetCallerIdentity", {}),
    ("s3", "PutObject", {"Bucket": "bucket", "Key": "k", "Body": b"payload"}),
    ("dynamodb", "ListTables", {}),
])
def test_tampered_requests_are_refused(service, operation, params):
    request, _ = client_request(service, operation, params)
    check(request)
    kinds = {
        "method": replace(request, method="DELETE"),
        "path": replace(request, path=request.path + "x"),
        "query": replace(request, query_string=(request.query_string + "&" if request.query_string else "") + "a=b"),
        # Another second than the signed one (a fixed "01" equals it once a minute).
        "header": replace(request, headers={**request.headers, "x-amz-date": request.headers["x-amz-date"][:-3]
                                            + ("02Z" if request.headers["x-amz-date"].endswith("01Z") else "01Z")}),
    }
    for what, tampered in kinds.items():
        assert rejected(tampered).kind == "signature_mismatch", what
    assert rejected(request, secret="not-the-secret").kind == "signature_mismatch"
    body = replace(request, body=request.body + b"!")
    error = rejected(body)
    if service == "s3":
        assert (error.kind, error.code, error.status) == ("content_sha_mismatch", "XAmzContentSHA256Mismatch", 400)
        assert error.fields["S3ComputedContentSHA256"] == hashlib.sha256(body.body).hexdigest()
    else:
        assert error.kind == "signature_mismatch"


def test_s3_signature_mismatch_explains_itself():
    request, _ = client_request("s3", "ListBuckets", {})
    error = rejected(request, secret="wrong")
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)
    assert error.message.startswith("The request signature we calculated does not match")
    assert error.fields["AWSAccessKeyId"] == KEY
    assert error.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert error.fields["CanonicalRequest"].startswith("GET\n/\n")
    assert error.fields["CanonicalRequestBytes"].startswith("47 45 54 0a")


def test_s3_unsigned_amz_headers_are_refused():
    request, _ = client_request("s3", "GetObject", {"Bucket": "b", "Key": "k"})
    request.headers["x-amz-meta-late"] = "1"
    error = rejected(request)
    assert (error.code, error.status, error.fields) == ("AccessDenied", 403, {"HeadersNotSigned": "x-amz-meta-late"})
    # Other services ignore extra headers.
    other, _ = client_request("sts", "GetCallerIdentity")
    other.headers["x-amz-meta-late"] = "1"
    check(other)


def test_s3_payload_header_rules():
    request, _ = client_request("s3", "ListBuckets", {})
    missing = replace(request, headers={k: v for k, v in request.headers.items() if k != "x-amz-content-sha256"})
    error = rejected(missing)
    assert (error.code, error.message) == ("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
    bad = replace(request, headers={**request.headers, "x-amz-content-sha256": "nope"})
    assert (rejected(bad).code, rejected(bad).fields["ArgumentName"]) == ("InvalidArgument", "x-amz-content-sha256")
    streaming = replace(request, headers={**request.headers, "x-amz-content-sha256": sigv4.STREAMING_UNSIGNED_TRAILER})
    assert rejected(streaming).kind == "streaming_not_allowed"


# --------------------------------------------------------------------------- time


def test_clock_skew_s3():
    request, _ = client_request("s3", "ListBuckets", {})
    check(request, now=datetime.now(timezone.utc) + timedelta(minutes=14))
    error = rejected(request, now=datetime.now(timezone.utc) + timedelta(minutes=20))
    assert (error.code, error.status) == ("RequestTimeTooSkewed", 403)
    assert error.message == "The difference between the request time and the current time is too large."
    assert error.fields["RequestTime"] == request.headers["x-amz-date"]
    assert error.fields["MaxAllowedSkewMilliseconds"] == "900000"
    assert rejected(request, now=datetime.now(timezone.utc) - timedelta(minutes=20)).kind == "skewed"


def test_clock_skew_query_and_json():
    request, _ = client_request("sts", "GetCallerIdentity")
    amz_date = request.headers["x-amz-date"]
    sent = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    error = rejected(request, now=sent + timedelta(minutes=20))
    assert (error.kind, error.code, error.status) == ("skewed", "SignatureDoesNotMatch", 403)
    later = (sent + timedelta(minutes=5)).strftime("%Y%m%dT%H%M%SZ")
    now = (sent + timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
    assert error.message == f"Signature expired: {amz_date} is now earlier than {later} ({now} - 15 min.)"
    error = rejected(request, now=sent - timedelta(minutes=20))
    assert error.message.startswith(f"Signature not yet current: {amz_date} is still later than")
    code, message, status = sigv4.remap(error, "dynamodb", "json")
    assert (code, status, message) == ("InvalidSignatureException", 400, error.message)
    code, message, status = sigv4.remap(error, "ec2", "ec2")
    assert (code, status, message) == ("RequestExpired", 400, "Request has expired.")


def test_scope_date_must_match_request_date():
    request, _ = client_request("sts", "GetCallerIdentity")
    info = sigv4.parse_signature(request)
    other_day = replace(info, date="20000101")
    with pytest.raises(AuthError) as caught:
        sigv4.verify(request, other_day, SECRET, datetime.now(timezone.utc))
    assert caught.value.message.startswith("Date in Credential scope does not match YYYYMMDD")
    s3_request, _ = client_request("s3", "ListBuckets")
    s3_info = replace(sigv4.parse_signature(s3_request), date="20000101")
    with pytest.raises(AuthError) as caught:
        sigv4.verify(s3_request, s3_info, SECRET, datetime.now(timezone.utc))
    assert (caught.value.code, caught.value.status) == ("AuthorizationHeaderMalformed", 400)


def test_missing_date():
    request, _ = client_request("sts", "GetCallerIdentity")
    del request.headers["x-amz-date"]
    error = rejected(request)
    assert (error.kind, error.code, error.status) == ("missing_date", "IncompleteSignature", 400)
    s3_request, _ = client_request("s3", "ListBuckets")
    del s3_request.headers["x-amz-date"]
    error = rejected(s3_request)
    assert (error.code, error.status) == ("AccessDenied", 403)
    assert error.message == "AWS authentication requires a valid Date or x-amz-date header"


# --------------------------------------------------------------------------- presigned URLs


def presigned(url: str) -> HttpRequest:
    parts = urlsplit(url)
    return HttpRequest("GET", parts.path, parts.query, {"host": parts.netloc}, host=parts.netloc)


def s3_client(signature_version: str | None = "s3v4", **kw):
    return botocore.session.get_session().create_client(
        "s3", region_name="eu-west-1", endpoint_url=ENDPOINT, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
        aws_session_token="session-token", config=Config(signature_version=signature_version, **kw),
    )


def test_presigned_s3_url():
    url = s3_client().generate_presigned_url(
        "get_object", Params={"Bucket": "bucket", "Key": "a b/c+d~e", "VersionId": "v 1"}, ExpiresIn=120,
    )
    request = presigned(url)
    info = sigv4.parse_signature(request)
    assert (info.presigned, info.region, info.service, info.expires) == (True, "eu-west-1", "s3", "120")
    assert info.security_token == "session-token"
    assert check(request).payload_hash == "UNSIGNED-PAYLOAD"
    sent = datetime.strptime(info.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    check(request, now=sent + timedelta(seconds=120))
    error = rejected(request, now=sent + timedelta(seconds=121))
    assert (error.kind, error.code, error.message, error.status) == ("expired", "AccessDenied", "Request has expired", 403)
    assert error.fields["X-Amz-Expires"] == "120"
    error = rejected(request, now=sent - timedelta(minutes=20))
    assert (error.code, error.message) == ("AccessDenied", "Request is not yet valid")
    tampered = replace(request, query_string=request.query_string.replace("v%201", "v%202"))
    assert rejected(tampered).kind == "signature_mismatch"


def test_presigned_put_and_headers():
    url = s3_client().generate_presigned_url(
        "put_object", Params={"Bucket": "bucket", "Key": "k", "ContentType": "text/plain"}, ExpiresIn=60,
    )
    request = replace(presigned(url), method="PUT")
    request.headers["content-type"] = "text/plain"
    check(request)
    request.headers["x-amz-acl"] = "public-read"
    assert rejected(request).fields == {"HeadersNotSigned": "x-amz-acl"}


@pytest.mark.parametrize("expires,message", [
    ("604801", "X-Amz-Expires must be less than a week (in seconds) that is; 604800"),
    ("-1", "X-Amz-Expires must be non-negative"),
    ("soon", "X-Amz-Expires should be a number"),
])
def test_presigned_expires_bounds(expires, message):
    url = s3_client().generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    request = presigned(url.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}"))
    error = rejected(request)
    assert (error.code, error.message, error.status) == ("AuthorizationQueryParametersError", message, 400)


def test_presigned_missing_parameter():
    url = s3_client().generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    request = presigned(url.replace("X-Amz-SignedHeaders=host&", ""))
    with pytest.raises(AuthError) as caught:
        sigv4.parse_signature(request)
    assert caught.value.code == "AuthorizationQueryParametersError"


def test_presigned_other_services_use_the_skew_window():
    request = AWSRequest(method="GET", url=f"{ENDPOINT}/?Action=GetCallerIdentity&Version=2011-06-15")
    botocore.auth.SigV4QueryAuth(Credentials(KEY, SECRET), "sts", "us-east-1", expires=60).add_auth(request)
    request = to_http(request.prepare())
    info = sigv4.parse_signature(request)
    assert info.presigned and info.service == "sts"
    sent = datetime.strptime(info.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    check(request, now=sent + timedelta(minutes=10))
    assert rejected(request, now=sent + timedelta(minutes=16)).kind == "skewed"


def test_presigned_s3_url_with_botocore_defaults():
    """boto3's default presigned S3 URL in us-east-1, eu-west-1, ... is SigV2 (AWSAccessKeyId, Expires)."""
    client = s3_client(signature_version=None)
    url = client.generate_presigned_url(
        "get_object",
        Params={"Bucket": "bucket", "Key": "a b/c+d", "VersionId": "v1", "ResponseContentType": "text/x y"},
        ExpiresIn=90,
    )
    request = presigned(url)
    info = sigv4.parse_signature(request)
    assert (info.version, info.presigned, info.service, info.region) == (2, True, "s3", "")
    assert info.security_token == "session-token"
    check(request)
    expires = int(info.expires)
    check(request, now=datetime.fromtimestamp(expires, timezone.utc))
    error = rejected(request, now=datetime.fromtimestamp(expires + 1, timezone.utc))
    assert (error.code, error.message) == ("AccessDenied", "Request has expired")
    assert rejected(request, secret="wrong").kind == "signature_mismatch"
    assert rejected(replace(request, path="/bucket/other")).kind == "signature_mismatch"
    assert rejected(replace(request, query_string=request.query_string.replace("v1", "v2"))).kind == "signature_mismatch"


@pytest.mark.parametrize("addressing", ["path", "virtual"])
def test_sigv2_header_auth(addressing):
    request = AWSRequest(
        method="PUT",
        url=f"http://{'bucket.s3.localhost' if addressing == 'virtual' else 'localhost'}:4566/"
        f"{'' if addressing == 'virtual' else 'bucket/'}k%20y?acl",
        data=b"<x/>",
        headers={"Content-Type": "application/xml", "x-amz-acl": "private", "Content-MD5": "abc="},
    )
    request.auth_path = "/bucket/k%20y"
    botocore.auth.HmacV1Auth(Credentials(KEY, SECRET)).add_auth(request)
    http = to_http(request.prepare())
    info = sigv4.parse_signature(http)
    assert (info.version, info.access_key, info.presigned) == (2, KEY, False)
    check(http)
    http.headers["x-amz-acl"] = "public-read"
    assert rejected(http).kind == "signature_mismatch"
    http.headers["x-amz-acl"] = "private"
    assert rejected(http, now=datetime.now(timezone.utc) + timedelta(minutes=20)).code == "RequestTimeTooSkewed"


def test_header_and_query_auth_together_for_s3():
    url = s3_client().generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    request = presigned(url)
    request.headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={KEY}/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
    with pytest.raises(AuthError) as caught:
        sigv4.parse_signature(request)
    assert (caught.value.kind, caught.value.code) == ("multiple_auth", "InvalidArgument")


# --------------------------------------------------------------------------- malformed headers


@pytest.mark.parametrize("header,service,code", [
    ("AWS4-ECDSA-P256-SHA256 Credential=AKID/20240101/s3/aws4_request, SignedHeaders=host, Signature=ab", "s3",
     "InvalidRequest"),
    ("AWS AKIDEXAMPLE", "s3", "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request, Signature=ab", "s3", "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/aws4_request, SignedHeaders=host, Signature=ab", "s3", "AuthorizationHeaderMalformed"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sts/aws4_request, SignedHeaders=host", "sts", "IncompleteSignature"),
    ("AWS4-HMAC-SHA256 Credential=AKID/20240101/sts/aws4_request, SignedHeaders=host, Signature=ab", "sts", "IncompleteSignature"),
    ("AWS4-HMAC-SHA256 garbage", "sts", "IncompleteSignature"),
])
def test_malformed_authorization(header, service, code):
    headers = {"authorization": header, "host": "localhost", "x-amz-date": "20240101T000000Z"}
    if service == "s3":
        headers["x-amz-content-sha256"] = sigv4.EMPTY_SHA256
    with pytest.raises(AuthError) as caught:
        sigv4.parse_signature(HttpRequest("GET", "/", "", headers))
    error = caught.value
    assert sigv4.remap(error, service, "rest-xml" if service == "s3" else "query")[0] == code
    assert error.status == 400


def test_missing_components_name_them():
    header = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sts/aws4_request, SignedHeaders=host"
    with pytest.raises(AuthError) as caught:
        sigv4.parse_signature(HttpRequest("GET", "/", "", {"authorization": header}))
    assert caught.value.message == f"Authorization header requires 'Signature' parameter. Authorization={header}"


def test_wrong_terminator():
    request, _ = client_request("sts", "GetCallerIdentity")
    info = replace(sigv4.parse_signature(request), terminator="aws5_request")
    with pytest.raises(AuthError) as caught:
        sigv4.verify(request, info, SECRET, datetime.now(timezone.utc))
    assert caught.value.code == "SignatureDoesNotMatch"
    assert "valid terminator" in caught.value.message


# --------------------------------------------------------------------------- signing keys


def test_signing_key_matches_aws_example():
    # The derived key of AWS's documented example (20150830, us-east-1, iam).
    key = sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam")
    assert key.hex() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    sigv4.signing_key.cache_clear()
    for _ in range(3):
        sigv4.signing_key("secret", "20150830", "us-east-1", "iam")
    assert sigv4.signing_key.cache_info().hits == 2
