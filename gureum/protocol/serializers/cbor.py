"""The smithy-rpc-v2-cbor protocol (CloudWatch ...): a CBOR map of the output.

Blobs are byte strings, timestamps CBOR tag 1 (epoch seconds). Every response carries
`smithy-protocol: rpc-v2-cbor`. Errors are a map with `__type` and `message`.
"""

from __future__ import annotations

from typing import Any

import cbor2

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpResponse

from .compile import ModelCache
from .rpc_errors import rpc_error
from .tree import TreeCompiler
from .values import UTC, as_bytes, epoch_seconds

CONTENT_TYPE = "application/cbor"
_EMPTY_MAP = b"\xa0"


def _timestamp(value: Any) -> cbor2.CBORTag:
    return cbor2.CBORTag(1, epoch_seconds(value))


compiler = ModelCache(lambda service: TreeCompiler(as_bytes, _timestamp))


def dumps(value: Any) -> bytes:
    # Datetimes outside the model (documents, error fields) also go as tag 1, the only tag
    # botocore reads.
    return cbor2.dumps(value, datetime_as_timestamp=True, timezone=UTC)


def _plan(operation: Any) -> Any:
    shape = operation.output_shape
    return compiler(operation.service_model).convert(shape) if shape is not None else None


plan = ModelCache(_plan)


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [
        ("x-amzn-RequestId", request_id),
        ("smithy-protocol", "rpc-v2-cbor"),
        ("Content-Type", CONTENT_TYPE),
    ]


def serialize_response(operation: Any, output: dict, request_id: str) -> HttpResponse:
    convert = plan(operation)
    if convert is None:
        body = b""
    elif output:
        body = dumps(convert(output))
    else:
        body = _EMPTY_MAP
    return HttpResponse(200, _headers(request_id), body)


def serialize_error(
    service: Any, operation: Any, error: ServiceError, request_id: str
) -> HttpResponse:
    cbor = compiler(service) if service is not None else None
    resolved, doc, headers = rpc_error(service, cbor, error, request_id)
    headers.append(("smithy-protocol", "rpc-v2-cbor"))
    headers.append(("Content-Type", CONTENT_TYPE))
    headers.extend(error.headers.items())
    return HttpResponse(resolved.status, headers, dumps(doc))
