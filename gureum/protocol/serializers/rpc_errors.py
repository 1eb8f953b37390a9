"""Errors of the RPC protocols (json, smithy-rpc-v2-cbor): `__type`, message, members.

`__type` is the error's code, or for awsQueryCompatible services its shape name with the
query code in `x-amzn-query-error: Code;Sender|Receiver`. Services whose clients are used
to it get the Smithy namespace in front (`com.amazonaws.dynamodb.v20120810#...`); every
client strips it.
"""

from __future__ import annotations

from typing import Any

from gureum.protocol.errors import ServiceError

from .error_shapes import ResolvedError, is_query_compatible, resolve_error
from .tree import TreeCompiler, error_document

# Services whose JSON errors name the type with its Smithy namespace, as clients see them.
_TYPE_NAMESPACES = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810#",
    "sqs": "com.amazonaws.sqs#",
    "cloudwatch": "com.amazonaws.cloudwatch#",
}
# The framework behind those services names its own errors with these namespaces.
_FRAMEWORK_NAMESPACES = {
    "AccessDeniedException": "com.amazon.coral.service#",
    "IncompleteSignatureException": "com.amazon.coral.service#",
    "InternalFailure": "com.amazon.coral.service#",
    "InvalidSignatureException": "com.amazon.coral.service#",
    "MissingAuthenticationTokenException": "com.amazon.coral.service#",
    "SerializationException": "com.amazon.coral.service#",
    "UnknownOperationException": "com.amazon.coral.service#",
    "UnrecognizedClientException": "com.amazon.coral.service#",
    "ExpiredTokenException": "com.amazon.coral.service#",
    "ThrottlingException": "com.amazon.coral.availability#",
    "ValidationException": "com.amazon.coral.validate#",
}


def _error_type(service: Any, resolved: ResolvedError, query_compatible: bool) -> str:
    """The `__type` of a JSON or CBOR error body."""
    name = resolved.type_name if query_compatible else resolved.code
    prefix = _TYPE_NAMESPACES.get(service.service_name) if service is not None else None
    if prefix is None:
        return name
    if resolved.shape is None:
        return _FRAMEWORK_NAMESPACES.get(name, "") + name
    return prefix + name


def rpc_error(
    service: Any, compiler: TreeCompiler | None, error: ServiceError, request_id: str
) -> tuple[ResolvedError, dict, list[tuple[str, str]]]:
    """An error's resolution, body document (before encoding) and headers."""
    resolved = resolve_error(service, error)
    query_compatible = service is not None and is_query_compatible(service)
    type_name = _error_type(service, resolved, query_compatible)
    doc = {"__type": type_name, **error_document(compiler, resolved, error.message, error.fields)}
    headers = [
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", type_name.rsplit("#", 1)[-1]),
    ]
    if query_compatible:
        headers.append(("x-amzn-query-error", f"{resolved.code};{resolved.fault}"))
    return resolved, doc, headers
