"""The `json` protocol (awsJson1_0 / awsJson1_1): the whole input is a JSON object body.

Timestamps are epoch seconds unless a member's timestampFormat says otherwise, blobs are
base64 text; both are recognised from the value (see values.to_timestamp).
"""

from __future__ import annotations

import json

from botocore.model import OperationModel

from gureum.protocol.http import HttpRequest
from gureum.protocol.parsers import native
from gureum.protocol.parsers.faults import body_error
from gureum.protocol.parsers.values import InvalidValue

PROTOCOL = "json"


def parse(operation: OperationModel, request: HttpRequest, uri_params: dict[str, str]) -> dict:
    shape = operation.input_shape
    if shape is None:
        return {}
    value = load_json(PROTOCOL, operation, request.body)
    try:
        return native.reader(shape, native.JSON)(value)
    except InvalidValue as e:
        raise body_error(PROTOCOL, operation, e.describe()) from None


def load_json(protocol: str, operation: OperationModel, body: bytes) -> object:
    """The decoded body; an empty body is an empty object."""
    if not body or body.isspace():
        return {}
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:
        raise body_error(protocol, operation, f"Could not parse request body into json: {e}") from None
