"""The `rest-xml` protocol: HTTP bindings plus an XML body.

The body is the payload member's structure, or the input structure's non-bound members. Its
root element is named by the locationName botocore uses (the member's, merged over the target
shape's), or by the target shape's own locationName or name as Smithy-based SDKs send it; a
root element of any other name does not validate (S3 answers MalformedXML). Body
timestamps are ISO 8601 by default, blobs base64.
"""

from __future__ import annotations

from botocore.model import OperationModel, Shape

from gureum.protocol.http import HttpRequest
from gureum.protocol.parsers import xml
from gureum.protocol.parsers.faults import body_error
from gureum.protocol.parsers.http_bindings import Bindings, read_bindings
from gureum.protocol.parsers.shapes import Reader
from gureum.protocol.parsers.values import InvalidValue

PROTOCOL = "rest-xml"

_plans: dict[OperationModel, tuple[Bindings, Reader | None, frozenset[str]]] = {}


def _plan(operation: OperationModel) -> tuple[Bindings, Reader | None, frozenset[str]]:
    plan = _plans.get(operation)
    if plan is None:
        bindings = Bindings(operation)
        body: Reader | None = None
        roots: frozenset[str] = frozenset()
        shape = operation.input_shape
        payload_shape = bindings.payload_shape
        if payload_shape is not None:
            if payload_shape.type_name not in ("blob", "string"):
                body = xml.reader(payload_shape)
                roots = _root_names(payload_shape, bindings.payload or "")
        elif shape is not None and bindings.has_body_members:
            body = xml.body_reader(shape)
            roots = _root_names(shape, shape.name)
        plan = _plans[operation] = (bindings, body, roots)
    return plan


def _root_names(shape: Shape, default: str) -> frozenset[str]:
    own = getattr(shape._shape_resolver, "_shape_map", {}).get(shape.name, {})
    names = {shape.serialization.get("name", default), own.get("locationName", shape.name), shape.name}
    return frozenset(xml.local_name(name) for name in names)


def parse(operation: OperationModel, request: HttpRequest, uri_params: dict[str, str]) -> dict:
    bindings, body, roots = _plan(operation)
    params: dict = {}
    if body is not None and request.body and not request.body.isspace():
        try:
            element = xml.load(request.body)
        except xml.MalformedXml as e:
            raise body_error(PROTOCOL, operation, f"The XML you provided was not well-formed: {e}") from None
        if xml.local_name(element.tag) not in roots:
            raise body_error(PROTOCOL, operation, f"Unexpected root element {element.tag}")
        try:
            decoded = body(element)
        except InvalidValue as e:
            raise body_error(PROTOCOL, operation, e.describe()) from None
        if bindings.payload is not None:
            params[bindings.payload] = decoded
        else:
            params.update(decoded)
    read_bindings(PROTOCOL, operation, bindings, request, uri_params, params)
    return params
