"""S3 static website hosting: the configuration API (boto3, the CLI) and the website endpoint."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def http_call(endpoint: str, method: str, path: str, host: str | None = None, headers: dict | None = None,
              body: bytes | None = None) -> tuple[int, dict, bytes]:
    """One plain HTTP request (no redirects followed); headers come back lower-cased."""
    u = urlparse(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    sent = dict(headers or {})
    if host:
        sent["Host"] = f"{host}:{u.port}"
    conn.request(method, path, body=body, headers=sent)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def site_host(bucket: str, region: str = "us-east-1", dash: bool = False) -> str:
    return f"{bucket}.s3-website-{region}.localhost" if dash else f"{bucket}.s3-website.{region}.localhost"


def public_read(s3, bucket: str, list_bucket: bool = False) -> None:
    statements = [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                   "Resource": f"arn:aws:s3:::{bucket}/*"}]
    if list_bucket:
        statements.append({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                           "Resource": f"arn:aws:s3:::{bucket}"})
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def test_website_configuration_round_trip(make_client):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="web-config")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket="web-config")
    assert _error(e) == ("NoSuchWebsiteConfiguration", 404)
    assert e.value.response["Error"]["Message"] == "The specified bucket does not have a website configuration"
    rules = [
        {"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
        {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
         "Redirect": {"HostName": "example.com", "Protocol": "https", "HttpRedirectCode": "302",
                      "ReplaceKeyWith": "missing.html"}},
    ]
    s3.put_bucket_website(Bucket="web-config", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}, "RoutingRules": rules})
    got = s3.get_bucket_website(Bucket="web-config")
    assert got["IndexDocument"] == {"Suffix": "index.html"}
    assert got["ErrorDocument"] == {"Key": "error.html"}
    assert got["RoutingRules"] == rules
    s3.put_bucket_website(Bucket="web-config", WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})
    got = s3.get_bucket_website(Bucket="web-config")
    assert got["RedirectAllRequestsTo"] == {"HostName": "example.com", "Protocol": "https"}
    assert "IndexDocument" not in got
    s3.delete_bucket_website(Bucket="web-config")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket="web-config")
    assert _error(e) == ("NoSuchWebsiteConfiguration", 404)
    s3.delete_bucket_website(Bucket="web-config")  # deleting nothing succeeds
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket="web-config-missing")
    assert _error(e) == ("NoSuchBucket", 404)


@pytest.mark.parametrize("config, code, message", [
    ({}, "InvalidArgument", "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"),
    ({"IndexDocument": {"Suffix": ""}}, "InvalidArgument", "The IndexDocument Suffix is not well formed"),
    ({"IndexDocument": {"Suffix": "a/index.html"}}, "InvalidArgument", "The IndexDocument Suffix is not well formed"),
    ({"IndexDocument": {"Suffix": "i.html"}, "ErrorDocument": {"Key": ""}}, "InvalidArgument",
     "The ErrorDocument Key is not well formed"),
    ({"IndexDocument": {"Suffix": "i.html"}, "RedirectAllRequestsTo": {"HostName": "example.com"}},
     "MalformedXML", None),
    ({"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "ftp"}}, "InvalidRequest",
     "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Redirect": {"HttpRedirectCode": "300"}}]},
     "InvalidRequest", "The provided HTTP redirect code (300) is not valid. Valid codes are 3XX except 300."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
        {"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b/"}}]},
     "InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey but not both."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [
        {"Condition": {"HttpErrorCodeReturnedEquals": "302"}, "Redirect": {"HostName": "example.com"}}]},
     "InvalidRequest", "The provided HTTP error code (302) is not valid. Valid codes are 4XX or 5XX."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Redirect": {"HostName": "example.com"}}] * 51},
     "InvalidRequest", "51 routing rules provided, the number of routing rules in a website configuration is "
     "limited to 50."),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Redirect": {}}]}, "MalformedXML", None),
])
def test_website_configuration_validation(make_client, config, code, message):
    s3 = make_client("s3", parameter_validation=False)  # the server's checks, not botocore's
    s3.create_bucket(Bucket="web-invalid")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_website(Bucket="web-invalid", WebsiteConfiguration=config)
    assert _error(e) == (code, 400)
    if message:
        assert e.value.response["Error"]["Message"] == message
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket="web-invalid")
    assert _error(e) == ("NoSuchWebsiteConfiguration", 404)


def test_cli_website_command(aws_cli, make_client):
    aws_cli("s3", "mb", "s3://web-cli", expect_ok=True)
    aws_cli("s3", "website", "s3://web-cli", "--index-document", "index.html", "--error-document", "error.html",
            expect_ok=True)
    _, out, _ = aws_cli("s3api", "get-bucket-website", "--bucket", "web-cli", expect_ok=True)
    assert json.loads(out) == {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}}
    aws_cli("s3api", "delete-bucket-website", "--bucket", "web-cli", expect_ok=True)
    code, _, err = aws_cli("s3api", "get-bucket-website", "--bucket", "web-cli")
    assert code != 0 and "NoSuchWebsiteConfiguration" in err


def _site(make_client, bucket: str, list_bucket: bool = False):
    s3 = make_client("s3")
    s3.create_bucket(Bucket=bucket)
    put = lambda key, body, **kw: s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/html", **kw)
    put("index.html", b"<h1>home</h1>")
    put("docs/index.html", b"<h1>docs</h1>")
    put("error.html", b"<h1>oops</h1>")
    public_read(s3, bucket, list_bucket)
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    return s3, put


def test_website_endpoint_serves_index_documents(make_client, endpoint):
    s3, put = _site(make_client, "web-site")
    for host in (site_host("web-site"), site_host("web-site", dash=True)):
        status, headers, body = http_call(endpoint, "GET", "/", host)
        assert (status, body) == (200, b"<h1>home</h1>")
        assert headers["content-type"] == "text/html"
        assert headers["etag"] and headers["x-amz-request-id"]
    status, _, body = http_call(endpoint, "GET", "/docs/", site_host("web-site"))
    assert (status, body) == (200, b"<h1>docs</h1>")
    status, headers, _ = http_call(endpoint, "GET", "/docs", site_host("web-site"))
    assert status == 302 and headers["location"] == "/docs/"
    status, headers, body = http_call(endpoint, "HEAD", "/index.html", site_host("web-site"))
    assert status == 200 and body == b"" and headers["content-length"] == str(len(b"<h1>home</h1>"))
    # Conditional and ranged reads behave as on the REST endpoint.
    etag = headers["etag"]
    status, _, body = http_call(endpoint, "GET", "/", site_host("web-site"), {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    status, _, body = http_call(endpoint, "GET", "/", site_host("web-site"), {"Range": "bytes=4-7"})
    assert (status, body) == (206, b"home")
    # An object's own redirect.
    put("old.html", b"", WebsiteRedirectLocation="/index.html")
    assert s3.head_object(Bucket="web-site", Key="old.html")["WebsiteRedirectLocation"] == "/index.html"
    status, headers, body = http_call(endpoint, "GET", "/old.html", site_host("web-site"))
    assert (status, headers["location"], body) == (301, "/index.html", b"")
    # Other methods are refused, as HTML.
    status, headers, body = http_call(endpoint, "POST", "/", site_host("web-site"), body=b"x")
    assert status == 405 and headers["content-type"].startswith("text/html")
    assert b"<li>Code: MethodNotAllowed</li>" in body and b"<li>Method: POST</li>" in body
    # A region that is not the bucket's.
    status, _, body = http_call(endpoint, "GET", "/", site_host("web-site", "eu-west-1"))
    assert status == 400 and b"IncorrectEndpoint" in body


def test_website_endpoint_errors(make_client, endpoint):
    s3, put = _site(make_client, "web-errors")
    host = site_host("web-errors")
    # Without s3:ListBucket a missing key is AccessDenied (403), answered with the error document.
    status, headers, body = http_call(endpoint, "GET", "/nothing-here", host)
    assert (status, body) == (403, b"<h1>oops</h1>")
    assert headers["content-type"] == "text/html"
    public_read(s3, "web-errors", list_bucket=True)
    status, _, body = http_call(endpoint, "GET", "/nothing-here", host)
    assert (status, body) == (404, b"<h1>oops</h1>")
    # Without the error document: AWS's own HTML page, naming the error document's failure too.
    s3.delete_object(Bucket="web-errors", Key="error.html")
    status, headers, body = http_call(endpoint, "GET", "/nothing-here", host)
    assert status == 404 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["x-amz-error-code"] == "NoSuchKey"
    page = body.decode()
    assert page.startswith("<html>") and "<title>404 Not Found</title>" in page
    assert "<li>Code: NoSuchKey</li>" in page and "<li>Key: nothing-here</li>" in page
    assert "An Error Occurred While Attempting to Retrieve a Custom Error Document" in page
    # An object the policy does not make public.
    s3.put_bucket_policy(Bucket="web-errors", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::web-errors/index.html"}]}))
    status, _, body = http_call(endpoint, "GET", "/docs/", host)
    assert status == 403 and b"<li>Code: AccessDenied</li>" in body
    assert http_call(endpoint, "GET", "/", host)[0] == 200
    # Block Public Access voids the public policy for anonymous readers.
    s3.put_public_access_block(Bucket="web-errors", PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    status, _, body = http_call(endpoint, "GET", "/", host)
    assert status == 403 and b"<title>403 Forbidden</title>" in body
    # No website configuration, no bucket.
    s3.delete_bucket_website(Bucket="web-errors")
    status, _, body = http_call(endpoint, "GET", "/", host)
    assert status == 404 and b"<li>Code: NoSuchWebsiteConfiguration</li>" in body
    assert b"<li>BucketName: web-errors</li>" in body
    status, _, body = http_call(endpoint, "GET", "/", site_host("web-no-such-bucket"))
    assert status == 404 and b"<li>Code: NoSuchBucket</li>" in body


def test_website_redirects_and_routing_rules(make_client, endpoint):
    s3, put = _site(make_client, "web-rules", list_bucket=True)
    s3.put_bucket_website(Bucket="web-rules", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "docs/old/"}, "Redirect": {"ReplaceKeyPrefixWith": "docs/new/"}},
            {"Condition": {"KeyPrefixEquals": "away/"},
             "Redirect": {"HostName": "example.com", "Protocol": "https", "HttpRedirectCode": "307",
                          "ReplaceKeyWith": "landing.html"}},
            {"Condition": {"HttpErrorCodeReturnedEquals": "404", "KeyPrefixEquals": "gone/"},
             "Redirect": {"ReplaceKeyWith": "index.html"}},
        ]})
    host = site_host("web-rules")
    status, headers, _ = http_call(endpoint, "GET", "/docs/old/page.html", host)
    assert status == 301 and headers["location"].endswith(f"{host}:{urlparse(endpoint).port}/docs/new/page.html")
    assert headers["location"].startswith("http://")
    status, headers, _ = http_call(endpoint, "GET", "/away/x", host)
    assert (status, headers["location"]) == (307, "https://example.com/landing.html")
    status, headers, _ = http_call(endpoint, "GET", "/gone/thing", host)
    assert status == 301 and headers["location"].endswith("/index.html")
    put("gone/here.html", b"still here")
    assert http_call(endpoint, "GET", "/gone/here.html", host)[:3:2] == (200, b"still here")
    status, _, body = http_call(endpoint, "GET", "/other", host)
    assert status == 404 and b"NoSuchKey" in body
    # Redirect everything to another host, keeping the path.
    s3.put_bucket_website(Bucket="web-rules", WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "www.example.com", "Protocol": "https"}})
    status, headers, _ = http_call(endpoint, "GET", "/a/b.html?x=1", host)
    assert (status, headers["location"]) == (301, "https://www.example.com/a/b.html?x=1")


def test_website_config_goes_with_its_bucket(make_client, endpoint):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="web-recreated")
    s3.put_bucket_website(Bucket="web-recreated", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.delete_bucket(Bucket="web-recreated")
    s3.create_bucket(Bucket="web-recreated")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket="web-recreated")
    assert _error(e) == ("NoSuchWebsiteConfiguration", 404)
