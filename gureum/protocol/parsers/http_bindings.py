"""The HTTP bindings of the rest protocols (rest-json, rest-xml): members carried in the URI,
the query string, headers, and the payload. The body format itself is the caller's.

Defaults follow the AWS rest protocols: timestamps are ISO 8601 in the URI and query string
and HTTP dates (RFC 7231) in headers unless a timestampFormat says otherwise (any of the
three forms is accepted); lists in headers are comma separated (strings may be quoted);
`jsonvalue` headers carry base64-encoded JSON; blobs in headers are base64.
A member bound to the status code is output-only and never read here.
"""

from __future__ import annotations

import re
from typing import Any, Callable
from urllib.parse import unquote

from botocore.model import OperationModel, Shape

from gureum.protocol.http import BodyStream, HttpRequest
from gureum.protocol.parsers.faults import binding_error
from gureum.protocol.parsers.shapes import is_streaming_payload
from gureum.protocol.parsers.values import (
    InvalidValue,
    from_base64,
    from_json_text,
    text_converter,
    to_timestamp,
)

Convert = Callable[[str], Any]
_HTTP_DATE_LIST = re.compile(r"[A-Za-z]{3},[^,]*")


class Bindings:
    """What one operation reads from the URI, query string and headers; built once."""

    def __init__(self, operation: OperationModel):
        shape = operation.input_shape
        self.uri: list[tuple[str, str, Convert]] = []
        self.query: dict[str, tuple[str, Convert, bool]] = {}  # wire name -> (member, convert, is list)
        self.query_map: tuple[str, Convert, bool] | None = None  # member, value convert, values are lists
        self.headers: list[tuple[str, str, Convert]] = []
        self.prefixed: list[tuple[str, str, Convert]] = []
        self.header_index: dict[str, list[tuple[str, Convert]]] = {}  # filled from `headers` below
        self.payload: str | None = None
        self.payload_shape: Shape | None = None
        self.has_body_members = False
        # Literal query keys of the request URI ("?uploads"): route keys, never map entries.
        uri_query = operation.http.get("requestUri", "").partition("?")[2]
        self.route_keys = {part.partition("=")[0] for part in uri_query.split("&") if part}
        if shape is None:
            return
        self.payload = shape.serialization.get("payload")
        if self.payload is not None:
            self.payload_shape = shape.members[self.payload]
        for name, member in shape.members.items():
            serialization = member.serialization
            location = serialization.get("location")
            wire = serialization.get("name", name)
            if location == "uri":
                self.uri.append((name, wire, text_converter(member)))
            elif location == "querystring":
                if member.type_name == "map":
                    values_are_lists = member.value.type_name == "list"
                    value_shape = member.value.member if values_are_lists else member.value
                    self.query_map = (name, text_converter(value_shape), values_are_lists)
                elif member.type_name == "list":
                    self.query[wire] = (name, text_converter(member.member), True)
                else:
                    self.query[wire] = (name, text_converter(member), False)
            elif location == "header":
                self.headers.append((name, wire.lower(), header_converter(member)))
            elif location == "headers":
                self.prefixed.append((name, wire.lower(), text_converter(member.value)))
            elif location is None and name != self.payload:
                self.has_body_members = True
        # header -> its members: a request usually sends far fewer headers than an operation
        # binds (PutObject binds ~60), so reading walks the request's headers.
        for member_name, header, convert in self.headers:
            self.header_index.setdefault(header, []).append((member_name, convert))

    def read(self, request: HttpRequest, uri_params: dict[str, str], params: dict) -> None:
        """Add the bound members found in the request to `params` (InvalidValue on bad values)."""
        for member, label, convert in self.uri:
            value = uri_params.get(label)
            if value is not None:
                params[member] = _convert(convert, value, label)
        if self.query or self.query_map:
            self._read_query(request, params)
        headers = request.headers
        index = self.header_index
        for header, value in headers.items():
            bound = index.get(header)
            if bound is not None:
                for member, convert in bound:
                    converted = _convert(convert, value, header)
                    if converted is not _ABSENT:
                        params[member] = converted
        for member, prefix, convert in self.prefixed:
            found = {
                name[len(prefix) :]: _convert(convert, value, name)
                for name, value in headers.items()
                if name.startswith(prefix) and len(name) > len(prefix)
            }
            if found:
                params[member] = found

    def _read_query(self, request: HttpRequest, params: dict) -> None:
        extra: dict[str, Any] = {}
        for key, value in request.query:
            bound = self.query.get(key)
            if bound is not None:
                member, convert, is_list = bound
                converted = _convert(convert, value, key)
                if is_list:
                    params.setdefault(member, []).append(converted)
                else:
                    params.setdefault(member, converted)  # the first of repeated values
            elif self.query_map is not None and key not in self.route_keys:
                _, convert, values_are_lists = self.query_map
                converted = _convert(convert, value, key)
                if values_are_lists:
                    extra.setdefault(key, []).append(converted)
                else:
                    extra.setdefault(key, converted)
        if extra:
            params[self.query_map[0]] = extra  # type: ignore[index]

    def raw_payload(self, request: HttpRequest, params: dict) -> bool:
        """Put a blob or string payload into `params`; False when the payload is a structure."""
        shape = self.payload_shape
        if shape is None or shape.type_name not in ("blob", "string"):
            return False
        assert self.payload is not None
        if request.body_stream is not None:
            params[self.payload] = request.body_stream
        elif is_streaming_payload(shape):
            # Providers always read a streaming payload as a stream, however it arrived.
            params[self.payload] = BodyStream(_once(request.body), len(request.body))
        elif request.body:
            if shape.type_name == "blob":
                params[self.payload] = request.body
            else:
                try:
                    params[self.payload] = request.body.decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidValue("The payload is not valid UTF-8 text") from None
        return True


def read_bindings(
    protocol: str,
    operation: OperationModel,
    bindings: Bindings,
    request: HttpRequest,
    uri_params: dict[str, str],
    params: dict,
) -> None:
    """URI, query and header members (they win over a body that names them too), then a raw payload."""
    try:
        bindings.read(request, uri_params, params)
        bindings.raw_payload(request, params)
    except InvalidValue as e:
        raise binding_error(protocol, operation, e) from None


_ABSENT = object()


def _convert(convert: Convert, value: str, wire: str) -> Any:
    try:
        return convert(value)
    except InvalidValue as e:
        raise e.at(wire)


async def _once(body: bytes):
    if body:
        yield body


def header_converter(shape: Shape) -> Convert:
    serialization = shape.serialization
    kind = shape.type_name
    if kind == "string" and serialization.get("jsonvalue"):
        return lambda text: from_json_text(from_base64(text).decode("utf-8"))
    if kind == "list":
        item = header_converter(shape.member)
        if shape.member.type_name == "timestamp":
            return lambda text: [item(part) for part in _split_dates(text)]
        if shape.member.type_name == "string":
            return lambda text: [item(part) for part in split_header_list(text)]
        return lambda text: [item(part.strip()) for part in text.split(",") if part.strip()]
    if kind == "string":
        return _identity
    if kind == "timestamp":
        return _optional(to_timestamp)
    return _optional(text_converter(shape))


def _identity(text: str) -> str:
    return text


def _optional(convert: Convert) -> Convert:
    """An empty header of a non-string type is taken as absent."""

    def read(text: str) -> Any:
        text = text.strip()
        return _ABSENT if not text else convert(text)

    return read


def _split_dates(text: str) -> list[str]:
    """HTTP dates contain a comma of their own: "Mon, 01 Jan 2024 ..., Tue, 02 ..."."""
    dates = [m.group(0).strip() for m in _HTTP_DATE_LIST.finditer(text)]
    if dates:
        return dates
    return [part.strip() for part in text.split(",") if part.strip()]


def split_header_list(text: str) -> list[str]:
    """A comma-separated header list; an element may be a quoted string with \\" escapes."""
    items: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            chars = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            items.append("".join(chars))
            i += 1
            while i < n and text[i] != ",":
                i += 1
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            items.append(text[i:end].strip())
            i = end
        i += 1  # the comma
    return items


def decode_label(raw: str) -> str:
    """A URI label as sent (percent-encoded; "+" is a plus sign in a path)."""
    return unquote(raw, errors="replace") if "%" in raw else raw
