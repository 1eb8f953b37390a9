"""S3 CORS: the configuration API, OPTIONS preflights (path style, virtual host, website
endpoint) and the Access-Control-* headers on actual requests."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_s3_website import http_call, public_read, site_host

APP = "http://app.example.com"
RULES = [
    {"ID": "app", "AllowedOrigins": [APP, "https://*.example.org"], "AllowedMethods": ["GET", "PUT"],
     "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag", "x-amz-request-id"],
     "MaxAgeSeconds": 3000},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def _preflight(endpoint, path, origin=APP, method="GET", headers=None, host=None):
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        sent["Access-Control-Request-Headers"] = headers
    return http_call(endpoint, "OPTIONS", path, host, {k: v for k, v in sent.items() if v is not None})


def test_cors_configuration_round_trip(make_client):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="cors-config")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket="cors-config")
    assert _error(e) == ("NoSuchCORSConfiguration", 404)
    assert e.value.response["Error"]["Message"] == "The CORS configuration does not exist"
    s3.put_bucket_cors(Bucket="cors-config", CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket="cors-config")["CORSRules"] == RULES
    s3.delete_bucket_cors(Bucket="cors-config")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket="cors-config")
    assert _error(e) == ("NoSuchCORSConfiguration", 404)


@pytest.mark.parametrize("rules, code, message", [
    ([{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}], "InvalidRequest",
     "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
    ([{"AllowedOrigins": ["https://*.*.com"], "AllowedMethods": ["GET"]}], "InvalidRequest",
     'AllowedOrigin "https://*.*.com" can not have more than one wildcard.'),
    ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]}], "InvalidRequest",
     'AllowedHeader "x-*-*" can not have more than one wildcard.'),
    ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["*"]}], "InvalidRequest",
     'ExposeHeader "*" contains wildcard. We currently do not support wildcard for ExposeHeader.'),
    ([], "MalformedXML", None),
    ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101, "MalformedXML", None),
])
def test_cors_configuration_validation(make_client, rules, code, message):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="cors-invalid")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket="cors-invalid", CORSConfiguration={"CORSRules": rules})
    assert _error(e) == (code, 400)
    if message:
        assert e.value.response["Error"]["Message"] == message


def test_preflight(make_client, endpoint):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="cors-preflight")
    # No configuration yet.
    status, _, body = _preflight(endpoint, "/cors-preflight/k")
    assert status == 403 and b"<Code>AccessForbidden</Code>" in body
    assert b"CORSResponse: CORS is not enabled for this bucket." in body
    s3.put_bucket_cors(Bucket="cors-preflight", CORSConfiguration={"CORSRules": RULES})
    for path, host in (("/cors-preflight/photo.png", None), ("/photo.png", "cors-preflight.s3.localhost")):
        status, headers, body = _preflight(endpoint, path, method="PUT", headers="Content-Type, X-Amz-Date",
                                           host=host)
        assert status == 200 and body == b""
        assert headers["access-control-allow-origin"] == APP
        assert headers["access-control-allow-credentials"] == "true"
        assert headers["access-control-allow-methods"] == "GET, PUT"
        assert headers["access-control-allow-headers"] == "content-type, x-amz-date"
        assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
        assert headers["access-control-max-age"] == "3000"
        assert headers["vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    # The wildcard origin rule answers "*".
    status, headers, _ = _preflight(endpoint, "/cors-preflight", origin="http://anywhere.test", method="HEAD")
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in headers
    status, headers, _ = _preflight(endpoint, "/cors-preflight/x", origin="https://a.example.org")
    assert status == 200 and headers["access-control-allow-origin"] == "https://a.example.org"
    # No rule admits it: a method, a header or an origin not allowed.
    for kwargs in ({"method": "DELETE"}, {"headers": "x-custom"}, {"origin": "http://evil.test"}):
        status, _, body = _preflight(endpoint, "/cors-preflight/k", **kwargs)
        assert status == 403, kwargs
        assert b"<Code>AccessForbidden</Code>" in body
        assert b"CORSResponse: This CORS request is not allowed." in body
        assert b"<ResourceType>OBJECT</ResourceType>" in body
    status, _, body = _preflight(endpoint, "/cors-preflight/k", origin=None)
    assert status == 400 and b"Insufficient information. Origin request header needed." in body
    status, _, body = _preflight(endpoint, "/cors-preflight/k", method=None)
    assert status == 400 and b"Invalid Access-Control-Request-Method: null" in body
    status, _, body = _preflight(endpoint, "/cors-no-such-bucket/k")
    assert status == 403 and b"AccessForbidden" in body


def test_actual_requests_get_cors_headers(make_client, endpoint):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="cors-actual")
    s3.put_object(Bucket="cors-actual", Key="k", Body=b"data")
    public_read(s3, "cors-actual")
    assert "access-control-allow-origin" not in http_call(endpoint, "GET", "/cors-actual/k", None,
                                                          {"Origin": APP})[1]
    s3.put_bucket_cors(Bucket="cors-actual", CORSConfiguration={"CORSRules": RULES})
    status, headers, body = http_call(endpoint, "GET", "/cors-actual/k", None, {"Origin": APP})
    assert (status, body) == (200, b"data")
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-methods"] == "GET, PUT"
    assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    status, headers, _ = http_call(endpoint, "GET", "/k", "cors-actual.s3.localhost", {"Origin": APP})
    assert status == 200 and headers["access-control-allow-origin"] == APP
    # Errors carry them too.
    status, headers, _ = http_call(endpoint, "GET", "/cors-actual/missing", None, {"Origin": APP})
    assert status in (403, 404) and headers["access-control-allow-origin"] == APP
    # An origin no rule admits gets none.
    status, headers, _ = http_call(endpoint, "GET", "/cors-actual/k", None, {"Origin": "http://evil.test"})
    assert status == 200 and "access-control-allow-origin" not in headers
    # Signed SDK calls with an Origin too.
    s3_origin = make_client("s3")
    s3_origin.meta.events.register("before-send.s3.GetObject",
                                   lambda request, **_: request.headers.__setitem__("Origin", APP))
    got = s3_origin.get_object(Bucket="cors-actual", Key="k")
    assert got["ResponseMetadata"]["HTTPHeaders"]["access-control-allow-origin"] == APP


def test_website_endpoint_cors(make_client, endpoint):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="cors-site")
    s3.put_object(Bucket="cors-site", Key="index.html", Body=b"<p>hi</p>", ContentType="text/html")
    public_read(s3, "cors-site")
    s3.put_bucket_website(Bucket="cors-site", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_bucket_cors(Bucket="cors-site", CORSConfiguration={"CORSRules": RULES})
    status, headers, _ = _preflight(endpoint, "/index.html", host=site_host("cors-site"))
    assert status == 200 and headers["access-control-allow-origin"] == APP
    status, headers, body = http_call(endpoint, "GET", "/", site_host("cors-site"), {"Origin": APP})
    assert (status, body) == (200, b"<p>hi</p>")
    assert headers["access-control-allow-origin"] == APP


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # botocore's endpoint data, read for the regions
def test_rule_matching_and_website_hosts():
    from gureum.gateway.routing import website_host
    from gureum.services.s3.cors import match_rule

    assert match_rule(RULES, "https://a.b.example.org", "GET", ["x-amz-date"]) is RULES[0]
    assert match_rule(RULES, "https://example.org", "GET", []) is None  # "*." needs a label
    assert match_rule(RULES, APP, "GET", ["authorization"]) is None
    assert match_rule(RULES, APP, "HEAD", []) is RULES[1]
    assert website_host("b.s3-website.us-east-1.localhost:4566") == ("b", "us-east-1")
    assert website_host("my.site.s3-website-eu-west-1.localhost") == ("my.site", "eu-west-1")
    for other in ("b.s3.localhost", "s3-website.us-east-1.localhost", "b.s3-website.nowhere-1.localhost",
                  "b.s3-website.us-east-1.example.com"):
        assert website_host(other) is None, other
