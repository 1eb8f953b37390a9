"""Response serializers: an operation's output dict in, an HttpResponse out.

Interface (one module per protocol, all driven by the botocore model only):

    serialize_response(protocol, operation, output, request_id, method="POST") -> HttpResponse
    serialize_error(protocol, service, operation, error, request_id, method="POST") -> HttpResponse

`output` uses the output shape's member names and Python values (str, int, float, bool,
bytes, datetime, list, dict; a streaming payload may be bytes or an async iterator of bytes).
Members absent or None are omitted. `error` is a ServiceError; its status comes from the
model's error shape when it has none. `operation` may be None for errors raised before the
operation was known; `service` may be None when even the service is unknown (the error
then takes the protocol's shape with no model). `method` is the request's: a response to
HEAD carries headers only. Content-Length is set when the body is bytes; a streamed body
leaves it to the gateway (or to a modeled Content-Length header).
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel, ServiceModel

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpResponse

from . import cbor, ec2, json, query, rest_json, rest_xml

PROTOCOLS = {
    "query": query,
    "ec2": ec2,
    "json": json,
    "rest-json": rest_json,
    "rest-xml": rest_xml,
    "smithy-rpc-v2-cbor": cbor,
}

_NO_BODY_STATUSES = frozenset((204, 304))


def serialize_response(
    protocol: str,
    operation: OperationModel,
    output: dict | None,
    request_id: str,
    *,
    method: str = "POST",
) -> HttpResponse:
    response = PROTOCOLS[protocol].serialize_response(operation, output or {}, request_id)
    return _finish(response, _method(operation, method))


def serialize_error(
    protocol: str,
    service: ServiceModel | None,
    operation: OperationModel | None,
    error: ServiceError,
    request_id: str,
    *,
    method: str = "POST",
) -> HttpResponse:
    if service is None and operation is not None:
        service = operation.service_model
    response = PROTOCOLS[protocol].serialize_error(service, operation, error, request_id)
    return _finish(response, _method(operation, method))


def _method(operation: OperationModel | None, method: str) -> str:
    """HEAD when the request or the operation (S3's HeadObject, HeadBucket) says so."""
    if method == "HEAD" or (operation is not None and operation.http.get("method") == "HEAD"):
        return "HEAD"
    return method


def _finish(response: HttpResponse, method: str) -> HttpResponse:
    body: Any = response.body
    if response.status == 200 and response.header("Content-Range") is not None:
        response.status = 206  # a ranged GET answers Partial Content (HTTP semantics, not a member)
    if method == "HEAD":
        # Headers as for GET (a modeled Content-Length stays), no body.
        response.body = b""
    elif response.status in _NO_BODY_STATUSES:
        response.body = b""
        response.headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
    elif isinstance(body, bytes):
        response.set_header("Content-Length", len(body))
    return response


__all__ = ["PROTOCOLS", "serialize_error", "serialize_response"]
