"""The client's side of the wire: botocore builds requests and reads responses.

`client_request` turns parameters into the HttpRequest the gateway would hand to a parser
when botocore sends them to http://localhost:4566. `client_reads` gives the result a botocore
client takes from an HttpResponse: its protocol parser plus the response handlers every
client runs (S3's bare-text GetBucketLocation, IAM's URL-encoded policy documents, S3's
Expires header). `normalize` maps parameters and results to what the wire can carry, so both
sides of a round trip compare equal exactly when the protocol layer kept everything the wire
can express.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import botocore.handlers
import botocore.session
import urllib3
from botocore import serialize
from botocore.awsrequest import AWSResponse, create_request_object, prepare_request_dict
from botocore.model import OperationModel, Shape
from botocore.parsers import create_parser
from botocore.response import StreamingBody

from gureum.protocol.http import BodyStream, HttpRequest, HttpResponse

from .strategies import REST_PROTOCOLS, is_policy_document, shadowed_members, skipped_members

ENDPOINT = "http://localhost:4566"


# --------------------------------------------------------------------------- requests


@lru_cache(maxsize=None)
def _serializer(protocol: str) -> Any:
    return serialize.create_serializer(protocol, include_validation=False)


def client_request(operation: OperationModel, protocol: str, params: dict) -> HttpRequest:
    """The request botocore puts on the wire for `params`, as the gateway presents it."""
    serialized = _serializer(protocol).serialize_to_request(params, operation)
    prepare_request_dict(serialized, endpoint_url=ENDPOINT)
    prepared = create_request_object(serialized).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = body.read()
    request = HttpRequest(
        method=prepared.method,
        path=url.path,
        query_string=url.query,
        headers={k.lower(): _header_text(v) for k, v in prepared.headers.items()},
        body=body,
        host=url.netloc,
    )
    if streams_input(operation):
        request.body_stream = BodyStream(_chunks(body), len(body))
        request.body = b""
    return request


def streams_input(operation: OperationModel) -> bool:
    """Whether the gateway streams this operation's body (a blob payload marked streaming)."""
    shape = operation.input_shape
    payload = shape.serialization.get("payload") if shape is not None else None
    if not payload:
        return False
    member = shape.members[payload]
    return member.type_name == "blob" and bool(member.serialization.get("streaming"))


def _header_text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


async def _chunks(body: bytes):
    # Two chunks, so a parser that reads only the first one is caught.
    half = len(body) // 2
    yield body[:half]
    yield body[half:]


def read_stream(value: Any) -> Any:
    """The bytes of a BodyStream; anything else unchanged."""
    if isinstance(value, BodyStream):
        return asyncio.run(value.read())
    return value


# --------------------------------------------------------------------------- responses


@lru_cache(maxsize=None)
def _client_events() -> Any:
    """The event handlers a botocore client runs around parsing a response."""
    events = botocore.session.Session().get_component("event_emitter")
    # EC2's console output is base64 text a provider passes through; the client's decoding
    # of it says nothing about the wire.
    events.unregister("after-call.ec2.GetConsoleOutput", botocore.handlers.decode_console_output)
    return events


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self):
        yield self._body


def client_reads(operation: OperationModel, protocol: str, response: HttpResponse) -> dict:
    """What a botocore client makes of `response` (without ResponseMetadata)."""
    body = _body_bytes(response.body)
    headers = urllib3.HTTPHeaderDict()
    for name, value in response.headers:
        headers.add(name, value)
    if response.status >= 300:
        raise AssertionError(f"HTTP {response.status} for a successful result: {body[:500]!r}")
    wire_body: Any = body
    if operation.has_streaming_output:
        length = headers.get("content-length")
        wire_body = StreamingBody(io.BytesIO(body), int(length) if length is not None else None)
    response_dict = {"status_code": response.status, "headers": headers, "body": wire_body, "context": {}}
    events = _client_events()
    event = f"{operation.service_model.service_id.hyphenize()}.{operation.name}"
    customized: dict = {}
    events.emit(
        f"before-parse.{event}", operation_model=operation, response_dict=response_dict,
        customized_response_dict=customized,
    )
    parsed = create_parser(protocol).parse(response_dict, operation.output_shape)
    parsed.update(customized)
    events.emit(
        f"after-call.{event}", http_response=AWSResponse(ENDPOINT, response.status, headers, _Raw(body)),
        parsed=parsed, model=operation, context={},
    )
    parsed.pop("ResponseMetadata", None)
    members = operation.output_shape.members if operation.output_shape is not None else {}
    if "ExpiresString" not in members:
        parsed.pop("ExpiresString", None)  # S3's copy of the raw Expires header
    for name, value in parsed.items():
        if isinstance(value, StreamingBody):
            parsed[name] = value.read()
    return parsed


def _body_bytes(body: Any) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if hasattr(body, "__aiter__"):

        async def collect() -> bytes:
            return b"".join([chunk async for chunk in body])

        return asyncio.run(collect())
    return b"".join(body)


# --------------------------------------------------------------------------- comparison


class Near:
    """A float equal to any number within the precision its wire type keeps."""

    __slots__ = ("value", "rel")

    def __init__(self, value: float, rel: float):
        self.value, self.rel = value, rel

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Near):
            return NotImplemented
        return math.isclose(self.value, other.value, rel_tol=max(self.rel, other.rel), abs_tol=1e-300)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return repr(self.value)


class Typed:
    """An int or bool that equals only a value of the same type (True == 1 in Python)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Typed):
            return NotImplemented
        return type(self.value) is type(other.value) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return repr(self.value)


_ABSENT = object()
_SECOND = timedelta(seconds=1)


def normalize(operation: OperationModel, protocol: str, direction: str, values: dict) -> dict:
    """`values` (parameters or a result) reduced to what the wire carries."""
    shape = operation.input_shape if direction == "input" else operation.output_shape
    if shape is None:
        return dict(values)
    skipped = skipped_members(operation, protocol, direction)
    payload = shape.serialization.get("payload")
    rest = protocol in REST_PROTOCOLS
    result = {}
    for name, value in values.items():
        if name in skipped or value is None:
            continue
        member = shape.members.get(name)
        if member is None:
            result[name] = value  # not a member at all: keep it, so the comparison shows it
            continue
        location = member.serialization.get("location") if rest else None
        context = _Context(protocol, direction, location, name == payload, _service(operation))
        value = _normalize(read_stream(value), member, context)
        if value is not _ABSENT:
            result[name] = value
    return result


def _service(operation: OperationModel) -> str:
    return operation.service_model.service_name


class _Context:
    __slots__ = ("protocol", "direction", "location", "payload", "service")

    def __init__(self, protocol: str, direction: str, location: str | None, payload: bool, service: str):
        self.protocol, self.direction, self.location, self.payload = protocol, direction, location, payload
        self.service = service

    def nested(self) -> "_Context":
        return _Context(self.protocol, self.direction, None, False, self.service)


def _normalize(value: Any, shape: Shape, context: _Context) -> Any:
    type_name = shape.type_name
    if value is None:
        return _ABSENT
    if type_name == "structure" and not getattr(shape, "is_document_type", False) and isinstance(value, dict):
        inner = context.nested()
        members = shape.members
        shadowed = shadowed_members(shape)
        out = {}
        for name, item in value.items():
            if name in shadowed:
                continue
            if name not in members:
                out[name] = item
                continue
            item = _normalize(item, members[name], inner)
            if item is not _ABSENT:
                out[name] = item
        return _ABSENT if not out and _empty_is_absent(shape, context) else out
    if type_name == "list" and isinstance(value, list):
        inner = context.nested() if context.location is None else context
        # An element the wire cannot express (an empty structure in a query list) is not sent.
        out = [None if item is None else _normalize(item, shape.member, inner) for item in value]
        sent = [item for item in out if item is not _ABSENT]
        return _ABSENT if not sent and (out or _empty_is_absent(shape, context)) else sent
    if type_name == "map" and isinstance(value, dict):
        inner = context.nested()
        out = {k: _normalize(v, shape.value, inner) for k, v in value.items()}
        return _ABSENT if not out and _empty_is_absent(shape, context) else out
    if type_name == "timestamp" and isinstance(value, datetime):
        return _moment(value, shape, context)
    if type_name in ("float", "double") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return Near(float(value), 1e-6 if type_name == "float" else 1e-12)
    if type_name in ("integer", "long", "boolean"):
        return Typed(value)
    if type_name == "blob":
        if isinstance(value, (bytearray, memoryview)):
            value = bytes(value)
        elif isinstance(value, str):
            value = value.encode("utf-8")
        return _ABSENT if context.payload and value == b"" else value
    if type_name == "string" and context.payload and value in ("", b""):
        return _ABSENT
    if type_name == "string" and context.direction == "output" and is_policy_document(context.service, shape):
        return _policy(value)
    return value


def _policy(value: Any) -> Any:
    """IAM returns policy documents URL-encoded and clients decode them into JSON objects;
    a provider hands over the document's JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


def _empty_is_absent(shape: Shape, context: _Context) -> bool:
    """Whether the wire sends nothing for an empty list, map or structure here."""
    if context.location in ("header", "headers", "querystring") or context.payload:
        return True
    protocol = context.protocol
    if protocol in ("query", "ec2", "rest-xml") and shape.serialization.get("flattened"):
        return True
    if context.direction == "input":
        if protocol == "ec2":
            return True
        if protocol == "query" and shape.type_name != "list":
            return True
    return False


def _moment(value: datetime, shape: Shape, context: _Context) -> datetime:
    """A timestamp in UTC at the precision its wire format keeps: seconds in headers and
    RFC 822 dates, milliseconds elsewhere."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    fmt = shape.serialization.get("timestampFormat", "")
    if context.location == "header" or fmt == "rfc822":
        return value.replace(microsecond=0)
    millis = round(value.microsecond / 1000)
    if millis == 1000:
        return value.replace(microsecond=0) + _SECOND
    return value.replace(microsecond=millis * 1000)


def differences(got: Any, expected: Any, path: str = "", limit: int = 5) -> list[str]:
    """Where two normalised values differ, as readable paths (the first few)."""
    found: list[str] = []
    _diff(got, expected, path, found, limit)
    return found


def _diff(got: Any, expected: Any, path: str, found: list[str], limit: int) -> None:
    if len(found) >= limit:
        return
    if isinstance(got, dict) and isinstance(expected, dict):
        for key in list(expected) + [k for k in got if k not in expected]:
            where = f"{path}.{key}" if path else str(key)
            if key not in got:
                found.append(f"{where}: missing, expected {expected[key]!r:.200}")
            elif key not in expected:
                found.append(f"{where}: unexpected {got[key]!r:.200}")
            else:
                _diff(got[key], expected[key], where, found, limit)
            if len(found) >= limit:
                return
    elif isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        for i, (g, e) in enumerate(zip(got, expected)):
            _diff(g, e, f"{path}[{i}]", found, limit)
    elif got != expected:
        found.append(f"{path or '<top>'}: got {got!r:.200}, expected {expected!r:.200}")
