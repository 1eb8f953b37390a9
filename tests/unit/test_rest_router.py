"""The RestRouter picks the operation a rest request is for, from the models' requestUri."""

from __future__ import annotations

import pytest

from gureum.protocol.model import service_model
from gureum.protocol.rest_router import RestRouter

from .test_parsers import wire_request


@pytest.fixture(scope="module")
def s3() -> RestRouter:
    return RestRouter(service_model("s3"))


@pytest.fixture(scope="module")
def awslambda() -> RestRouter:
    return RestRouter(service_model("lambda"))


def name(router: RestRouter, method: str, path: str, query: dict | None = None, headers: dict | None = None):
    found = router.match(method, path, query or {}, headers)
    return None if found is None else found[0].name


@pytest.mark.parametrize(
    "method,path,query,headers,expected",
    [
        ("GET", "/", {}, {}, "ListBuckets"),
        ("GET", "/b", {}, {}, "ListObjects"),
        ("GET", "/b", {"list-type": "2"}, {}, "ListObjectsV2"),
        ("GET", "/b", {"list-type": "1"}, {}, "ListObjects"),
        ("GET", "/b/", {"list-type": "2", "prefix": "x"}, {}, "ListObjectsV2"),
        ("GET", "/b", {"location": ""}, {}, "GetBucketLocation"),
        ("GET", "/b", {"uploads": "", "prefix": "p"}, {}, "ListMultipartUploads"),
        ("GET", "/b", {"versions": ""}, {}, "ListObjectVersions"),
        ("GET", "/b", {"analytics": "", "id": "a"}, {}, "GetBucketAnalyticsConfiguration"),
        ("GET", "/b", {"analytics": ""}, {}, "ListBucketAnalyticsConfigurations"),
        ("GET", "/b", {"lifecycle": ""}, {}, "GetBucketLifecycleConfiguration"),
        ("PUT", "/b", {}, {}, "CreateBucket"),
        ("HEAD", "/b", {}, {}, "HeadBucket"),
        ("DELETE", "/b", {}, {}, "DeleteBucket"),
        ("POST", "/b", {"delete": ""}, {}, "DeleteObjects"),
        ("GET", "/b/k", {}, {}, "GetObject"),
        ("GET", "/b/k", {"versionId": "v"}, {}, "GetObject"),
        ("GET", "/b/k", {"uploadId": "u"}, {}, "ListParts"),
        ("GET", "/b/k", {"acl": ""}, {}, "GetObjectAcl"),
        ("HEAD", "/b/a/b/c", {}, {}, "HeadObject"),
        ("PUT", "/b/k", {}, {}, "PutObject"),
        ("PUT", "/b/k", {}, {"x-amz-copy-source": "s/k"}, "CopyObject"),
        ("PUT", "/b/k", {"partNumber": "1", "uploadId": "u"}, {}, "UploadPart"),
        ("PUT", "/b/k", {"partNumber": "1", "uploadId": "u"}, {"x-amz-copy-source": "s/k"}, "UploadPartCopy"),
        ("PUT", "/b/k", {"partNumber": "1"}, {}, "PutObject"),
        ("PUT", "/b/k", {"tagging": ""}, {}, "PutObjectTagging"),
        ("POST", "/b/k", {"uploads": ""}, {}, "CreateMultipartUpload"),
        ("POST", "/b/k", {"uploadId": "u"}, {}, "CompleteMultipartUpload"),
        ("POST", "/b/k", {"select": "", "select-type": "2"}, {}, "SelectObjectContent"),
        ("POST", "/b/k", {"restore": ""}, {}, "RestoreObject"),
        ("DELETE", "/b/k", {}, {}, "DeleteObject"),
        ("DELETE", "/b/k", {"uploadId": "u"}, {}, "AbortMultipartUpload"),
        ("POST", "/WriteGetObjectResponse", {}, {}, "WriteGetObjectResponse"),
        # Newer SDKs add x-id; it names the operation when others share the route.
        ("GET", "/b/k", {"x-id": "GetObject"}, {}, "GetObject"),
        ("PUT", "/b/k", {"x-id": "CopyObject"}, {"x-amz-copy-source": "s/k"}, "CopyObject"),
        ("GET", "/b", {"x-id": "ListObjectsV2", "list-type": "2"}, {}, "ListObjectsV2"),
    ],
)
def test_s3_routes(s3, method, path, query, headers, expected):
    assert name(s3, method, path, query, headers) == expected


def test_labels_are_percent_decoded_and_greedy(s3):
    operation, labels = s3.match("GET", "/my.bucket/a%20b/c%2Fd/%E2%9C%93+e", {})
    assert operation.name == "GetObject"
    assert labels == {"Bucket": "my.bucket", "Key": "a b/c/d/✓+e"}
    # A key may begin with "/" or end with one: the greedy label keeps both.
    assert s3.match("GET", "/b//lead/", {})[1] == {"Bucket": "b", "Key": "/lead/"}


def test_trailing_slash_after_bucket_is_the_bucket(s3):
    assert s3.match("GET", "/b/", {})[1] == {"Bucket": "b"}


def test_no_route(s3, awslambda):
    assert s3.match("PATCH", "/b/k", {}) is None
    assert sorted(s3.allowed_methods("/b/k")) == ["DELETE", "GET", "HEAD", "POST", "PUT"]
    assert awslambda.match("GET", "/2015-03-31/unknown", {}) is None


@pytest.mark.parametrize(
    "method,path,query,expected",
    [
        ("GET", "/2015-03-31/functions/", {}, "ListFunctions"),
        ("GET", "/2015-03-31/functions", {}, "ListFunctions"),
        ("POST", "/2015-03-31/functions", {}, "CreateFunction"),
        ("GET", "/2015-03-31/functions/f", {}, "GetFunction"),
        ("GET", "/2015-03-31/functions/f/configuration", {}, "GetFunctionConfiguration"),
        ("POST", "/2015-03-31/functions/f/invocations", {}, "Invoke"),
        ("GET", "/2015-03-31/functions/f/versions", {}, "ListVersionsByFunction"),
        ("GET", "/2015-03-31/functions/f/aliases/live", {}, "GetAlias"),
        ("GET", "/2018-10-31/layers", {}, "ListLayers"),
    ],
)
def test_lambda_routes(awslambda, method, path, query, expected):
    assert name(awslambda, method, path, query) == expected


def test_function_arn_label(awslambda):
    arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af"
    operation, labels = awslambda.match("POST", f"/2015-03-31/functions/{arn}/invocations", {})
    assert labels == {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f"}


@pytest.mark.parametrize("service", ["s3", "lambda", "efs", "route53", "cloudfront", "s3control"])
def test_every_operation_routes_to_itself(service):
    """Each operation, sent by botocore with only its required members, comes back to itself,
    except pairs the wire cannot tell apart (same method, URI and bindings)."""
    model = service_model(service)
    router = RestRouter(model)
    twins = {
        "GetBucketLifecycle", "GetBucketNotification", "PutBucketLifecycle", "PutBucketNotification",
        "ListDirectoryBuckets",
    }
    for operation_name in model.operation_names:
        if operation_name in twins:
            continue
        operation = model.operation_model(operation_name)
        params = _required_params(operation.input_shape)
        request = wire_request(service, operation_name, params)
        found = router.match(request.method, request.path, request.query_dict(), request.headers)
        assert found is not None and found[0].name == operation_name, (operation_name, request.path)


def _required_params(shape) -> dict:
    if shape is None:
        return {}
    out = {}
    for member_name in shape.required_members:
        member = shape.members[member_name]
        out[member_name] = _sample(member)
    return out


def _sample(shape):
    kind = shape.type_name
    if kind == "structure":
        return _required_params(shape)
    if kind == "list":
        return [_sample(shape.member)]
    if kind == "map":
        return {"k": _sample(shape.value)}
    if kind in ("integer", "long"):
        return 1
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        from datetime import datetime, timezone

        return datetime(2024, 1, 1, tzinfo=timezone.utc)
    enum = shape.metadata.get("enum")
    return enum[0] if enum else "x1"
