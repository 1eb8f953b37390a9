"""The `smithy-rpc-v2-cbor` protocol: the whole input is a CBOR map body.

Timestamps are CBOR tag 1 (epoch seconds), blobs are byte strings.
"""

from __future__ import annotations

import cbor2
from botocore.model import OperationModel

from gureum.protocol.http import HttpRequest
from gureum.protocol.parsers import native
from gureum.protocol.parsers.faults import body_error, missing_error
from gureum.protocol.parsers.values import InvalidValue, MissingMember

PROTOCOL = "smithy-rpc-v2-cbor"
MAX_DEPTH = 100  # nested arrays/maps; deeper bodies are refused before any reader recurses


def parse(operation: OperationModel, request: HttpRequest, uri_params: dict[str, str]) -> dict:
    shape = operation.input_shape
    if shape is None:
        return {}
    body = request.body
    try:
        # Map keys must be text or bytes: keeps hash-flooding keys out of the decoder.
        value = cbor2.loads(body, strict_hashable_types=True, max_depth=MAX_DEPTH) if body else {}
    except (cbor2.CBORDecodeError, ValueError, OverflowError, RecursionError) as e:
        raise body_error(PROTOCOL, operation, f"Could not parse request body as CBOR: {e}") from None
    try:
        return native.reader(shape, native.CBOR)(value)
    except MissingMember as e:
        raise missing_error(PROTOCOL, operation, e) from None
    except InvalidValue as e:
        raise body_error(PROTOCOL, operation, e.describe()) from None
