"""The `rest-json` protocol: HTTP bindings plus a JSON body (the non-bound members, or the
payload member's structure). Body timestamps are epoch seconds by default, blobs base64."""

from __future__ import annotations

from botocore.model import OperationModel

from gureum.protocol.http import HttpRequest
from gureum.protocol.parsers import native
from gureum.protocol.parsers.faults import body_error, missing_error
from gureum.protocol.parsers.http_bindings import Bindings, read_bindings
from gureum.protocol.parsers.json import TOO_DEEP, load_json
from gureum.protocol.parsers.shapes import Reader
from gureum.protocol.parsers.values import InvalidValue, MissingMember

PROTOCOL = "rest-json"

_plans: dict[OperationModel, tuple[Bindings, Reader | None]] = {}


def _plan(operation: OperationModel) -> tuple[Bindings, Reader | None]:
    plan = _plans.get(operation)
    if plan is None:
        bindings = Bindings(operation)
        body: Reader | None = None
        shape = operation.input_shape
        if bindings.payload_shape is not None:
            if bindings.payload_shape.type_name not in ("blob", "string"):
                body = native.reader(bindings.payload_shape, native.JSON)
        elif shape is not None and bindings.has_body_members:
            body = native.body_reader(shape, native.JSON)
        plan = _plans[operation] = (bindings, body)
    return plan


def parse(operation: OperationModel, request: HttpRequest, uri_params: dict[str, str]) -> dict:
    bindings, body = _plan(operation)
    params: dict = {}
    if body is not None and request.body and not request.body.isspace():
        value = load_json(PROTOCOL, operation, request.body)
        try:
            # "{}" is what clients send when the payload member is absent
            decoded = {} if value == {} and bindings.payload is not None else body(value)
        except MissingMember as e:
            raise missing_error(PROTOCOL, operation, e) from None
        except InvalidValue as e:
            raise body_error(PROTOCOL, operation, e.describe()) from None
        except RecursionError:
            raise body_error(PROTOCOL, operation, TOO_DEEP) from None
        if bindings.payload is not None:
            if decoded:
                params[bindings.payload] = decoded
        else:
            params.update(decoded)
    elif body is not None and bindings.payload is None:
        try:
            body({})  # no body: its required members are missing
        except MissingMember as e:
            raise missing_error(PROTOCOL, operation, e) from None
    read_bindings(PROTOCOL, operation, bindings, request, uri_params, params)
    return params

