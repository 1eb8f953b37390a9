"""The query protocol (IAM, STS, SNS, RDS, CloudWatch ...): XML responses.

    <{Op}Response xmlns="{namespace}">
      <{Op}Result>...</{Op}Result>
      <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
    </{Op}Response>

Errors: <ErrorResponse xmlns=...><Error><Type/><Code/><Message/>...</Error><RequestId/>.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpResponse

from .compile import ModelCache
from .error_shapes import resolve_error
from .xml import Writer, XmlCompiler, error_element, escape_text, member_style

CONTENT_TYPE = "text/xml"

# Services answering the query protocol without an xmlNamespace in their botocore model.
_NAMESPACES = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}


def namespace(service: Any) -> str:
    ns = service.metadata.get("xmlNamespace") or _NAMESPACES.get(service.service_name)
    if isinstance(ns, dict):
        ns = ns.get("uri")
    if not ns:
        prefix = service.metadata.get("endpointPrefix", service.service_name)
        ns = f"https://{prefix}.amazonaws.com/doc/{service.api_version}/"
    return ns


@dataclass(frozen=True)
class _Plan:
    head: str
    children: Writer | None
    tail_head: str
    tail_end: str


def _plan(operation: Any) -> _Plan:
    service = operation.service_model
    name = operation.name
    head = f'<{name}Response xmlns="{escape_text(namespace(service))}">'
    shape = operation.output_shape
    children = None
    result_close = ""
    if shape is not None:
        # Every query model wraps results; SQS's JSON-era model no longer says so.
        wrapper = shape.serialization.get("resultWrapper") or f"{name}Result"
        head += f"<{wrapper}>"
        result_close = f"</{wrapper}>"
        children = member_style(service).children(shape)
    return _Plan(
        head,
        children,
        result_close + "<ResponseMetadata><RequestId>",
        f"</RequestId></ResponseMetadata></{name}Response>",
    )


plan = ModelCache(_plan)


def serialize_response(operation: Any, output: dict, request_id: str) -> HttpResponse:
    p = plan(operation)
    out = [p.head]
    if p.children is not None and output:
        p.children(output, out)
    out.append(p.tail_head + escape_text(request_id) + p.tail_end)
    return HttpResponse(
        200,
        [("x-amzn-RequestId", request_id), ("Content-Type", CONTENT_TYPE)],
        "".join(out).encode("utf-8"),
    )


def serialize_error(
    service: Any, operation: Any, error: ServiceError, request_id: str
) -> HttpResponse:
    resolved = resolve_error(service, error)
    ns = namespace(service) if service is not None else "https://aws.amazon.com/doc/"
    out = [f'<ErrorResponse xmlns="{escape_text(ns)}">']
    xml = member_style(service) if service is not None else XmlCompiler()
    error_element(xml, resolved, error.message, error.fields, out, with_type=True)
    out.append(f"<RequestId>{escape_text(request_id)}</RequestId></ErrorResponse>")
    headers = [("x-amzn-RequestId", request_id), ("Content-Type", CONTENT_TYPE)]
    headers.extend(error.headers.items())
    return HttpResponse(resolved.status, headers, "".join(out).encode("utf-8"))
