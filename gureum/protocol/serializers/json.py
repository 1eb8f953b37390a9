"""The json protocol (DynamoDB, SQS, KMS, Logs ...): a JSON document of the output.

Blobs are base64 text, timestamps epoch seconds. Errors are `{"__type": .., "message": ..}`
with `x-amzn-ErrorType`; awsQueryCompatible services add `x-amzn-query-error: Code;Fault`.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpResponse

from .compile import ModelCache
from .rpc_errors import rpc_error
from .tree import TreeCompiler
from .values import b64, epoch_seconds, json_float

compiler = ModelCache(lambda service: TreeCompiler(b64, epoch_seconds, json_float))


def _fallback(value: Any) -> Any:
    """Values the model does not type (documents, unmodeled error fields)."""
    if isinstance(value, datetime):
        return epoch_seconds(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


_encoder = json.JSONEncoder(separators=(",", ":"), default=_fallback)


def dumps(value: Any) -> bytes:
    return _encoder.encode(value).encode("utf-8")


_DEFAULT_TYPE = "application/x-amz-json-1.0"


def _content_type(service: Any) -> str:
    return f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.0')}"


def _plan(operation: Any) -> tuple[str, Any]:
    service = operation.service_model
    shape = operation.output_shape
    return _content_type(service), compiler(service).convert(shape) if shape is not None else None


plan = ModelCache(_plan)


def serialize_response(operation: Any, output: dict, request_id: str) -> HttpResponse:
    content_type, convert = plan(operation)
    body = dumps(convert(output)) if convert is not None and output else b"{}"
    return HttpResponse(
        200, [("x-amzn-RequestId", request_id), ("Content-Type", content_type)], body
    )


def serialize_error(
    service: Any, operation: Any, error: ServiceError, request_id: str
) -> HttpResponse:
    json_ = compiler(service) if service is not None else None
    resolved, doc, headers = rpc_error(service, json_, error, request_id)
    content_type = _content_type(service) if service is not None else _DEFAULT_TYPE
    headers.append(("Content-Type", content_type))
    headers.extend(error.headers.items())
    return HttpResponse(resolved.status, headers, dumps(doc))
