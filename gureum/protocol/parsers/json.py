"""The `json` protocol (awsJson1_0 / awsJson1_1): the whole input is a JSON object body.

Timestamps are epoch seconds unless a member's timestampFormat says otherwise, blobs are
base64 text; both are recognised from the value (see values.to_timestamp).
"""

from __future__ import annotations

import json
import re

from botocore.model import OperationModel

from gureum.protocol.http import HttpRequest
from gureum.protocol.parsers import native
from gureum.protocol.parsers.faults import body_error, missing_error
from gureum.protocol.parsers.values import InvalidValue, MissingMember

PROTOCOL = "json"
TOO_DEEP = "The request body is nested too deeply."
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse(operation: OperationModel, request: HttpRequest, uri_params: dict[str, str]) -> dict:
    shape = operation.input_shape
    if shape is None:
        return {}
    value = load_json(PROTOCOL, operation, request.body)
    try:
        return native.reader(shape, native.JSON)(value)
    except MissingMember as e:
        raise missing_error(PROTOCOL, operation, e) from None
    except InvalidValue as e:
        raise body_error(PROTOCOL, operation, e.describe()) from None
    except RecursionError:
        raise body_error(PROTOCOL, operation, TOO_DEEP) from None


def load_json(protocol: str, operation: OperationModel, body: bytes) -> object:
    """The decoded body; an empty body is an empty object."""
    if not body or body.isspace():
        return {}
    try:
        # Strict UTF-8: json.loads(bytes) would let encoded lone surrogates through.
        value = json.loads(body.decode("utf-8"))
        if _SURROGATE_ESCAPE.search(body):
            # An escaped surrogate that did not pair up is no character at all.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError) as e:
        raise body_error(protocol, operation, f"Could not parse request body into json: {e}") from None
    return value
