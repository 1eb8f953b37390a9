"""HTTP bindings shared by rest-json and rest-xml: headers, header maps, status, payload.

An output (or error) shape's members may be bound to a header (`location: header`), to
every header with a prefix (`location: headers`, S3's x-amz-meta-*), to the status code
(`location: statusCode`) or be the whole body (the shape's `payload`). The rest go in the
body document. Headers carry timestamps as RFC 7231 dates unless the shape says otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from .compile import ModelCache
from .values import b64, scalar_text

_BODY_EXCLUDED = frozenset(("header", "headers", "statusCode"))


def _header_formatter(shape: Any) -> Callable[[Any], str]:
    type_name = shape.type_name
    if type_name == "list":
        item = _header_formatter(shape.member)
        return lambda value: ", ".join(item(v) for v in value)
    if type_name == "string" and shape.serialization.get("jsonvalue"):
        return lambda value: b64(json.dumps(value, separators=(",", ":")))
    return scalar_text(type_name, shape, "rfc822")


@dataclass(frozen=True)
class Bindings:
    headers: tuple[tuple[str, str, Callable[[Any], str]], ...]
    prefixed: tuple[tuple[str, str], ...]
    status_member: str | None
    payload_member: str | None
    payload_shape: Any
    has_body_members: bool  # members serialized in the body document (no payload trait)
    header_names: frozenset[str]  # lower-case names a member may set

    def apply(self, value: dict, headers: list[tuple[str, str]]) -> int | None:
        """Append bound headers for `value`; return the status a member sets, if any."""
        for member, header, fmt in self.headers:
            v = value.get(member)
            if v is not None:
                headers.append((header, fmt(v)))
        for member, prefix in self.prefixed:
            mapping = value.get(member)
            if mapping:
                for k, v in mapping.items():
                    if v is not None:
                        headers.append((prefix + k, str(v)))
        if self.status_member is not None:
            status = value.get(self.status_member)
            if status is not None:
                return int(status)
        return None


def _build(shape: Any) -> Bindings:
    headers = []
    prefixed = []
    status_member = None
    has_body = False
    for name, member in shape.members.items():
        serialization = member.serialization
        location = serialization.get("location")
        if location == "header":
            headers.append((name, serialization.get("name", name), _header_formatter(member)))
        elif location == "headers":
            prefixed.append((name, serialization.get("name", "")))
        elif location == "statusCode":
            status_member = name
        elif location not in _BODY_EXCLUDED:
            has_body = True
    payload = shape.serialization.get("payload")
    return Bindings(
        headers=tuple(headers),
        prefixed=tuple(prefixed),
        status_member=status_member,
        payload_member=payload,
        payload_shape=shape.members[payload] if payload else None,
        has_body_members=has_body and not payload,
        header_names=frozenset(h.lower() for _, h, _ in headers),
    )


bindings = ModelCache(_build)


def raw_payload(value: Any) -> Any:
    """A blob or string payload as the response body: bytes, or a stream passed through."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value  # bytes, or an (async) iterator of bytes: never buffered here


def success_status(operation: Any) -> int:
    return operation.http.get("responseCode", 200) if operation is not None else 200


def add_content_type(headers: list[tuple[str, str]], b: Bindings, default: str) -> None:
    """The protocol's Content-Type, unless a member (S3's ContentType) already set one."""
    if "content-type" in b.header_names:
        for name, _ in headers:
            if name.lower() == "content-type":
                return
    headers.append(("Content-Type", default))
