"""The rest-json protocol (Lambda, EFS, API Gateway ...): HTTP bindings plus a JSON body.

Status from the operation's `http.responseCode` or a statusCode member; header members
as headers; a blob/string payload is the raw body; other members form a JSON document
(timestamps as epoch seconds). Errors: JSON body, `x-amzn-ErrorType: Code`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpResponse

from .compile import ModelCache
from .error_shapes import resolve_error
from .json import compiler, dumps
from .rest import Bindings, add_content_type, bindings, raw_payload, success_status
from .tree import Converter, error_document

CONTENT_TYPE = "application/json"
_RAW_CONTENT_TYPES = {"blob": "application/octet-stream", "string": "text/plain"}


@dataclass(frozen=True)
class _Plan:
    status: int
    bindings: Bindings | None
    body: Converter | None  # the JSON document of non-payload members
    payload_kind: str | None  # "raw", "eventstream" or "document"
    payload: Converter | None
    default_content_type: str


def _plan(operation: Any) -> _Plan:
    shape = operation.output_shape
    status = success_status(operation)
    if shape is None:
        return _Plan(status, None, None, None, None, CONTENT_TYPE)
    json = compiler(operation.service_model)
    b = bindings(shape)
    kind = payload = None
    content_type = CONTENT_TYPE
    if b.payload_member is not None:
        payload_shape = b.payload_shape
        if payload_shape.serialization.get("eventstream"):
            kind, content_type = "eventstream", "application/vnd.amazon.eventstream"
        elif payload_shape.type_name in _RAW_CONTENT_TYPES:
            kind, content_type = "raw", _RAW_CONTENT_TYPES[payload_shape.type_name]
        else:
            kind, payload = "document", json.convert(payload_shape)
    body = json.body(shape) if b.has_body_members else None
    return _Plan(status, b, body, kind, payload, content_type)


plan = ModelCache(_plan)


def serialize_response(operation: Any, output: dict, request_id: str) -> HttpResponse:
    p = plan(operation)
    headers = [("x-amzn-RequestId", request_id)]
    status = p.status
    body: Any = b""
    if p.bindings is not None:
        status = p.bindings.apply(output, headers) or status
        if p.payload_kind is not None:
            value = output.get(p.bindings.payload_member)
            if p.payload_kind == "document":
                body = dumps(p.payload(value)) if value is not None else b""
            else:
                body = raw_payload(value)
        elif p.body is not None:
            body = dumps(p.body(output))
        add_content_type(headers, p.bindings, p.default_content_type)
    else:
        headers.append(("Content-Type", p.default_content_type))
    return HttpResponse(status, headers, body)


def serialize_error(
    service: Any, operation: Any, error: ServiceError, request_id: str
) -> HttpResponse:
    resolved = resolve_error(service, error)
    headers = [
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", resolved.code),
        ("Content-Type", CONTENT_TYPE),
    ]
    fields = error.fields
    if fields and resolved.shape is not None:
        bindings(resolved.shape).apply(fields, headers)
    json = compiler(service) if service is not None else None
    doc = error_document(json, resolved, error.message, fields)
    headers.extend(error.headers.items())
    return HttpResponse(resolved.status, headers, dumps(doc))
