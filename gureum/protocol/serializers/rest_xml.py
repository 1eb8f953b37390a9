"""The rest-xml protocol (S3, Route 53, CloudFront): HTTP bindings plus an XML body.

The body's root element is the output shape's (or structure payload's) name in the
service's namespace; a blob/string payload is the raw body, passed through unbuffered.
S3 answers with `x-amz-request-id` and `x-amz-id-2` and errors `<Error>...</Error>`; the
others with `x-amzn-RequestId` and `<ErrorResponse><Error>...</Error><RequestId/>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpResponse

from . import s3
from .compile import ModelCache
from .error_shapes import resolve_error
from .rest import Bindings, add_content_type, bindings, raw_payload, success_status
from .xml import Writer, XmlCompiler, error_element, escape_text, member_style, root_writer

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_RAW_CONTENT_TYPES = {"blob": "application/octet-stream", "string": "text/plain"}


def _namespace(service: Any) -> str:
    """The service's namespace: the one its request documents declare."""
    for name in service.operation_names:
        shape = service.operation_model(name).input_shape
        if shape is None:
            continue
        for candidate in (shape, *shape.members.values()):
            ns = candidate.serialization.get("xmlNamespace")
            if ns:
                return ns.get("uri") if isinstance(ns, dict) else ns
    prefix = service.metadata.get("endpointPrefix", service.service_name)
    return f"http://{prefix}.amazonaws.com/doc/{service.api_version}/"


namespace = ModelCache(_namespace)


def is_s3(service: Any) -> bool:
    return service is not None and service.service_name == "s3"


@dataclass(frozen=True)
class _Plan:
    status: int
    bindings: Bindings | None
    document: Writer | None  # the XML root of the body members, or of a structure payload
    payload_kind: str | None  # "raw", "eventstream" or "document"
    text_root: tuple[str, str, str] | None  # S3's GetBucketLocation: (member, open, close)
    content_type: str
    s3: bool


def _plan(operation: Any) -> _Plan:
    service = operation.service_model
    shape = operation.output_shape
    status = success_status(operation)
    is_s3_ = is_s3(service)
    content_type = "application/xml" if is_s3_ else "text/xml"
    if shape is None:
        return _Plan(status, None, None, None, None, content_type, is_s3_)
    xml = member_style(service)
    ns = namespace(service)
    b = bindings(shape)
    document = kind = text_root = None
    if b.payload_member is not None:
        payload_shape = b.payload_shape
        if payload_shape.serialization.get("eventstream"):
            kind, content_type = "eventstream", "application/vnd.amazon.eventstream"
        elif payload_shape.type_name in _RAW_CONTENT_TYPES:
            kind, content_type = "raw", _RAW_CONTENT_TYPES[payload_shape.type_name]
        else:
            kind = "document"
            root = payload_shape.serialization.get("name", b.payload_member)
            document = root_writer(xml, payload_shape, root, ns)
    elif is_s3_ and shape.name in s3.TEXT_ROOTS:
        root = s3.ROOT_ELEMENTS[shape.name]
        open_tag = f'{_DECLARATION}<{root} xmlns="{ns}">'
        text_root = (s3.TEXT_ROOTS[shape.name], open_tag, f"</{root}>")
    elif b.has_body_members:
        root = shape.serialization.get("name") or (
            s3.ROOT_ELEMENTS.get(shape.name) if is_s3_ else None
        ) or shape.name
        document = root_writer(xml, shape, root, ns)
    return _Plan(status, b, document, kind, text_root, content_type, is_s3_)


plan = ModelCache(_plan)


def _id_headers(s3_style: bool, request_id: str) -> list[tuple[str, str]]:
    if s3_style:
        return [("x-amz-request-id", request_id), ("x-amz-id-2", s3.host_id(request_id))]
    return [("x-amzn-RequestId", request_id)]


def serialize_response(operation: Any, output: dict, request_id: str) -> HttpResponse:
    p = plan(operation)
    headers = _id_headers(p.s3, request_id)
    status = p.status
    body: Any = b""
    b = p.bindings
    if b is not None:
        status = b.apply(output, headers) or status
        if p.payload_kind == "document":
            value = output.get(b.payload_member)
            if value is not None:
                out = [_DECLARATION]
                p.document(value, out)
                body = "".join(out).encode("utf-8")
        elif p.payload_kind is not None:
            body = raw_payload(output.get(b.payload_member))
        elif p.text_root is not None:
            member, open_tag, close_tag = p.text_root
            text = escape_text(output.get(member) or "")
            body = (open_tag + text + close_tag).encode("utf-8")
        elif p.document is not None:
            out = [_DECLARATION]
            p.document(output, out)
            body = "".join(out).encode("utf-8")
        if body or p.payload_kind is not None:
            add_content_type(headers, b, p.content_type)
    return HttpResponse(status, headers, body)


def serialize_error(
    service: Any, operation: Any, error: ServiceError, request_id: str
) -> HttpResponse:
    resolved = resolve_error(service, error)
    s3_style = is_s3(service)
    headers = _id_headers(s3_style, request_id)
    fields = error.fields
    if fields and resolved.shape is not None:
        bindings(resolved.shape).apply(fields, headers)
    xml = member_style(service) if service is not None else XmlCompiler()
    out = [_DECLARATION]
    if s3_style:
        trailer = (
            f"<RequestId>{escape_text(request_id)}</RequestId>"
            f"<HostId>{s3.host_id(request_id)}</HostId>"
        )
        error_element(xml, resolved, error.message, fields, out, with_type=False, trailer=trailer)
        headers.append(("Content-Type", "application/xml"))
    else:
        ns = namespace(service) if service is not None else ""
        out.append(f'<ErrorResponse xmlns="{escape_text(ns)}">' if ns else "<ErrorResponse>")
        error_element(xml, resolved, error.message, fields, out, with_type=True)
        out.append(f"<RequestId>{escape_text(request_id)}</RequestId></ErrorResponse>")
        headers.append(("Content-Type", "text/xml"))
    headers.extend(error.headers.items())
    return HttpResponse(resolved.status, headers, "".join(out).encode("utf-8"))
