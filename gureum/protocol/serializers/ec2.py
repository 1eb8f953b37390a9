"""The EC2 protocol: query-style XML with the request id first and `<item>` lists.

    <{Op}Response xmlns="http://ec2.amazonaws.com/doc/{apiVersion}/">
      <requestId>...</requestId> members...
    </{Op}Response>

Errors: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpResponse

from .compile import ModelCache
from .error_shapes import resolve_error
from .xml import Writer, XmlCompiler, error_element, escape_text, item_style

CONTENT_TYPE = "text/xml;charset=UTF-8"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True)
class _Plan:
    head: str
    children: Writer | None
    tail: str


def _plan(operation: Any) -> _Plan:
    service = operation.service_model
    ns = f"http://ec2.amazonaws.com/doc/{service.api_version}/"
    shape = operation.output_shape
    return _Plan(
        f'{_DECLARATION}<{operation.name}Response xmlns="{ns}"><requestId>',
        item_style(service).children(shape) if shape is not None else None,
        f"</{operation.name}Response>",
    )


plan = ModelCache(_plan)


def serialize_response(operation: Any, output: dict, request_id: str) -> HttpResponse:
    p = plan(operation)
    out = [p.head, escape_text(request_id), "</requestId>"]
    if p.children is not None and output:
        p.children(output, out)
    out.append(p.tail)
    return HttpResponse(200, [("Content-Type", CONTENT_TYPE)], "".join(out).encode("utf-8"))


def serialize_error(
    service: Any, operation: Any, error: ServiceError, request_id: str
) -> HttpResponse:
    resolved = resolve_error(service, error)
    out = [_DECLARATION, "<Response><Errors>"]
    xml = item_style(service) if service is not None else XmlCompiler("item")
    error_element(xml, resolved, error.message, error.fields, out, with_type=False)
    out.append(f"</Errors><RequestID>{escape_text(request_id)}</RequestID></Response>")
    headers = [("Content-Type", CONTENT_TYPE)]
    headers.extend(error.headers.items())
    return HttpResponse(resolved.status, headers, "".join(out).encode("utf-8"))
