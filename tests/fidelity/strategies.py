"""Hypothesis strategies for valid values of any botocore shape.

`operation_input(operation, protocol)` draws parameters a client could pass to an operation;
`operation_output(operation, protocol)` draws a result a service could return. Values are the
Python types botocore's client accepts and its parsers return (str, int, float, bool, bytes,
timezone-aware datetime, list, dict).

What a value may contain depends on where it travels ("slot"): a header value is printable
ASCII without surrounding blanks, a URI label is never empty (and has no "/" unless the label
is greedy), a host label matches what botocore accepts in a host prefix. Members that cannot
round-trip through a client's wire format are left out here and listed by `skipped_members`
so that the comparison ignores them too.

Strategies are built once per (service, shape, slot, depth) and cached. Depth counts nested
structures; beyond MAX_DEPTH only required members are drawn and lists keep their minimum
size, which bounds recursive shapes (WAFv2 statements, ...) and the size of huge outputs.
"""

from __future__ import annotations

import json
import string
from datetime import datetime, timezone
from typing import Any

from botocore.model import OperationModel, Shape
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

REST_PROTOCOLS = frozenset({"rest-json", "rest-xml"})
MAX_DEPTH = 5
# Collections stay small: a few elements find the same wire bugs as many.
EXTRA_ITEMS = 2
EXTRA_CHARS = 16

# Slots: where a value travels on the wire.
BODY = "body"
XML_REQUEST = "xml-request"  # a REST-XML request body, written by ElementTree
HEADER = "header"
HEADER_ITEM_IN = "header-item-in"  # one element of a list header in a request
HEADER_ITEM_OUT = "header-item-out"  # one element of a list header in a response
HEADER_KEY = "header-key"  # the suffix of a prefixed header name (x-amz-meta-<key>)
URI = "uri"
URI_GREEDY = "uri-greedy"
QUERY = "query"
HOST = "host"

# Characters worth sending: markup and URL metacharacters, blanks, non-ASCII (two- and
# four-byte UTF-8). Controls other than tab, newline and carriage return are excluded: XML
# 1.0 cannot carry them. A carriage return survives XML only as a character reference,
# which botocore's request serializer does not write (responses must).
_NOTABLE = list("&<>\"' %+=?#/\\;:,@!*$()[]{}|^`~\t\n\r") + ["é", "ü", "ß", "Ω", "한", "구", "름", "😀", "\u00a0", "\u2028"]
_TEXT_CHARS = st.one_of(
    st.sampled_from(_NOTABLE),
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn")),
)
_XML_REQUEST_CHARS = _TEXT_CHARS.filter(lambda c: c != "\r")
_HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_HEADER_KEY_CHARS = string.ascii_lowercase + string.digits + "-"
_HOST_LABEL_CHARS = string.ascii_letters + string.digits + "-"

_EPOCH_MIN = datetime(1971, 1, 1)
_EPOCH_MAX = datetime(2099, 12, 31)

_cache: dict[tuple, SearchStrategy] = {}


# --------------------------------------------------------------------------- operations


def operation_input(operation: OperationModel, protocol: str) -> SearchStrategy[dict]:
    """Valid parameters for `operation` as a client would pass them."""
    key = ("input", _service(operation), operation.name, protocol)
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = _top_level(operation, protocol, "input")
    return found


def operation_output(operation: OperationModel, protocol: str) -> SearchStrategy[dict]:
    """A valid result of `operation` as a service could return it."""
    key = ("output", _service(operation), operation.name, protocol)
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = _top_level(operation, protocol, "output")
    return found


def skipped_members(operation: OperationModel, protocol: str, direction: str) -> frozenset[str]:
    """Top-level members that cannot make the round trip in this direction.

    input: host labels (they travel in the host name, not the request) and the checksum
    members a client computes itself; in REST protocols, body members of a shape with an
    explicit payload (botocore sends only the payload).
    output: members in headers or the status code for query/ec2 (botocore's XML parser never
    reads them); in REST protocols, body members next to an explicit payload.
    """
    shape = operation.input_shape if direction == "input" else operation.output_shape
    if shape is None:
        return frozenset()
    skipped = set()
    payload = shape.serialization.get("payload")
    checksum = operation.http_checksum or {}
    for name, member in shape.members.items():
        ser = member.serialization
        location = ser.get("location")
        if direction == "input":
            if ser.get("hostLabel") or _is_checksum_member(name, member, checksum):
                skipped.add(name)
            elif protocol in REST_PROTOCOLS and payload and location is None and name != payload:
                skipped.add(name)
        else:
            if protocol in ("query", "ec2") and location in ("header", "headers", "statusCode"):
                skipped.add(name)
            elif protocol in REST_PROTOCOLS and payload and location is None and name != payload:
                skipped.add(name)
    return frozenset(skipped)


def member_slot(operation: OperationModel, protocol: str, direction: str, name: str, member: Shape) -> str:
    """Where a top-level member travels on the wire."""
    if member.serialization.get("hostLabel"):
        return HOST
    if protocol not in REST_PROTOCOLS:
        return BODY
    body = XML_REQUEST if protocol == "rest-xml" and direction == "input" else BODY
    location = member.serialization.get("location")
    if location == "uri":
        label = member.serialization.get("name", name)
        return URI_GREEDY if "{" + label + "+}" in operation.http.get("requestUri", "") else URI
    if location == "header":
        return HEADER
    if location == "headers":
        return HEADER_KEY
    if location == "querystring":
        return QUERY
    return body


def _top_level(operation: OperationModel, protocol: str, direction: str) -> SearchStrategy[dict]:
    shape = operation.input_shape if direction == "input" else operation.output_shape
    if shape is None:
        return st.just({})
    skipped = skipped_members(operation, protocol, direction)
    service = _service(operation)
    required: dict[str, SearchStrategy] = {}
    optional: dict[str, SearchStrategy] = {}
    for name, member in shape.members.items():
        if name in skipped and not member.serialization.get("hostLabel"):
            continue
        slot = member_slot(operation, protocol, direction, name, member)
        if member.serialization.get("location") == "statusCode":
            strategy = st.sampled_from(_success_statuses(shape))
        elif _header_name(member) == "content-length":
            strategy = st.integers(0, 2**40)
        elif slot == HEADER_KEY:
            strategy = _header_map(service, member, direction)
        elif slot == HEADER and member.type_name == "list":
            item = HEADER_ITEM_IN if direction == "input" else HEADER_ITEM_OUT
            strategy = _list(service, member, item, 0, nonempty=True)
        else:
            strategy = for_shape(service, member, slot, 0)
        # Idempotency tokens get a value so no client invents one; host labels must exist
        # for botocore to build the host name.
        always = (
            name in shape.required_members
            or member.metadata.get("idempotencyToken")
            or member.serialization.get("hostLabel")
            or slot in (URI, URI_GREEDY)
            or _always_on_the_wire(member, protocol, direction)
        )
        (required if always else optional)[name] = strategy
    if shape.is_tagged_union:
        return _union(required | optional)
    strategy = st.fixed_dictionaries(required, optional=optional)
    return strategy.map(lambda value: _consistent_lengths(shape, value))


def _header_name(member: Shape) -> str | None:
    if member.serialization.get("location") != "header":
        return None
    return member.serialization.get("name", "").lower()


def _always_on_the_wire(member: Shape, protocol: str, direction: str) -> bool:
    """Headers HTTP itself always carries, so a member bound to them is never absent.

    Every request with a body and every response has a Content-Length; every response
    carrying an object (S3 GetObject/HeadObject, CloudFront GetFunction) has a Content-Type;
    every response has a status code.
    """
    if protocol not in REST_PROTOCOLS:
        return False
    if direction == "output" and member.serialization.get("location") == "statusCode":
        return True  # botocore reads every status code into the member
    header = _header_name(member)
    return header == "content-length" or (direction == "output" and header == "content-type")


def _success_statuses(shape: Shape) -> list[int]:
    """Status codes a result may set; 204 only where no body goes with it."""
    has_body = any(m.serialization.get("location") is None for m in shape.members.values())
    return [200, 202] if has_body else [200, 202, 204]


def _consistent_lengths(shape: Shape, value: dict) -> dict:
    """A Content-Length member must match the payload actually sent (HTTP enforces it)."""
    payload = shape.serialization.get("payload")
    if not payload or shape.members[payload].type_name not in ("blob", "string"):
        return value
    for name, member in shape.members.items():
        if _header_name(member) == "content-length" and name in value:
            body = value.get(payload, b"")
            value[name] = len(body.encode() if isinstance(body, str) else body)
    return value


def _is_checksum_member(name: str, member: Shape, checksum: dict) -> bool:
    if name == checksum.get("requestAlgorithmMember"):
        return True
    if member.serialization.get("location") != "header":
        return False
    header = member.serialization.get("name", name).lower()
    return header == "content-md5" or header.startswith("x-amz-checksum-") or header == "x-amz-sdk-checksum-algorithm"


def _service(operation: OperationModel) -> str:
    return operation.service_model.service_name


# --------------------------------------------------------------------------- shapes


def for_shape(service: str, shape: Shape, slot: str = BODY, depth: int = 0, nonempty: bool = False) -> SearchStrategy:
    """A strategy for one value of `shape` travelling in `slot`."""
    type_name = shape.type_name
    if type_name in ("structure", "list", "map"):
        key = (service, shape.name, type_name, slot, min(depth, MAX_DEPTH + 1), nonempty)
    else:
        key = (service, shape.name, type_name, slot, bool(shape.serialization.get("jsonvalue")), nonempty)
    found = _cache.get(key)
    if found is not None:
        return found
    # Recursive shapes see a deferred placeholder while they are being built.
    _cache[key] = st.deferred(lambda: _cache[key])
    built = _build(service, shape, slot, depth, nonempty)
    _cache[key] = built
    return built


def _build(service: str, shape: Shape, slot: str, depth: int, nonempty: bool) -> SearchStrategy:
    type_name = shape.type_name
    if type_name == "structure":
        if getattr(shape, "is_document_type", False):
            return _document()
        return _structure(service, shape, slot, depth)
    if type_name == "list":
        return _list(service, shape, slot, depth, nonempty)
    if type_name == "map":
        return _map(service, shape, slot, depth, nonempty)
    if type_name == "string":
        if is_policy_document(service, shape):
            return _policy_document()
        if shape.serialization.get("jsonvalue"):
            return st.dictionaries(st.text(_HEADER_CHARS, max_size=8), st.text(_TEXT_CHARS, max_size=8), max_size=3)
        return _string(shape, slot)
    if type_name in ("integer", "long"):
        bits = 31 if type_name == "integer" else 63
        low, high = _bounds(shape, -(2**bits), 2**bits - 1)
        return st.integers(low, high)
    if type_name in ("float", "double"):
        low, high = _bounds(shape, None, None)
        return st.floats(
            min_value=low, max_value=high, allow_nan=False, allow_infinity=False,
            width=32 if type_name == "float" else 64,
        )
    if type_name == "boolean":
        return st.booleans()
    if type_name == "blob":
        low, high = _lengths(shape)
        return st.binary(min_size=low, max_size=high)
    if type_name == "timestamp":
        return _timestamp()
    raise TypeError(f"no strategy for {type_name} shape {shape.name}")


def shadowed_members(shape: Shape) -> frozenset[str]:
    """Members whose element name another member of the structure also uses.

    S3's deprecated notification configurations carry both `Event` and the flattened list
    `Events` as <Event> elements: a reader cannot tell them apart. The list is kept.
    """
    key = ("shadowed", shape.name, tuple(shape.members))
    found = _cache.get(key)
    if found is None:
        by_name: dict[str, list[str]] = {}
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            wire_name = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                wire_name = member.member.serialization.get("name", wire_name)
            by_name.setdefault(wire_name, []).append(name)
        shadowed = set()
        for names in by_name.values():
            if len(names) > 1:
                keep = next((n for n in names if shape.members[n].type_name == "list"), names[0])
                shadowed.update(n for n in names if n != keep)
        found = _cache[key] = frozenset(shadowed)
    return found


def _structure(service: str, shape: Shape, slot: str, depth: int) -> SearchStrategy[dict]:
    shadowed = shadowed_members(shape)
    members = {n: m for n, m in shape.members.items() if n not in shadowed}
    deep = depth >= MAX_DEPTH
    if shape.is_tagged_union:
        names = list(members)
        if deep:
            # Prefer members that end the recursion.
            shallow = [n for n in names if members[n].type_name not in ("structure", "list", "map")]
            names = shallow or names
        return _union({n: for_shape(service, members[n], slot, depth + 1, nonempty=True) for n in names})
    required = {n: for_shape(service, members[n], slot, depth + 1) for n in shape.required_members if n in members}
    optional = {}
    if not deep:
        optional = {n: for_shape(service, m, slot, depth + 1) for n, m in members.items() if n not in required}
    return st.fixed_dictionaries(required, optional=optional)


def _union(choices: dict[str, SearchStrategy]) -> SearchStrategy[dict]:
    """Exactly one member set, as botocore requires of tagged unions."""
    return st.one_of([st.fixed_dictionaries({n: s}) for n, s in choices.items()])


def _list(service: str, shape: Shape, slot: str, depth: int, nonempty: bool) -> SearchStrategy[list]:
    low, high = _sizes(shape, depth, nonempty)
    item_slot = slot if slot in (QUERY, HEADER_ITEM_IN, HEADER_ITEM_OUT, XML_REQUEST) else BODY
    return st.lists(for_shape(service, shape.member, item_slot, depth), min_size=low, max_size=high)


def _map(service: str, shape: Shape, slot: str, depth: int, nonempty: bool) -> SearchStrategy[dict]:
    low, high = _sizes(shape, depth, nonempty)
    keys = for_shape(service, shape.key, slot, depth)
    values = for_shape(service, shape.value, slot, depth)
    return st.dictionaries(keys, values, min_size=low, max_size=high)


def _header_map(service: str, member: Shape, direction: str) -> SearchStrategy[dict]:
    """A prefixed header map (x-amz-meta-*): lower-case names, since HTTP does not keep case."""
    keys = st.text(_HEADER_KEY_CHARS, min_size=1, max_size=12)
    values = _string(member.value, HEADER)
    return st.dictionaries(keys, values, max_size=EXTRA_ITEMS + 1)


def _sizes(shape: Shape, depth: int, nonempty: bool) -> tuple[int, int]:
    low = int(shape.metadata.get("min", 0))
    if nonempty:
        low = max(low, 1)
    high = int(shape.metadata.get("max", low + EXTRA_ITEMS))
    high = min(high, low + (0 if depth >= MAX_DEPTH else EXTRA_ITEMS))
    return low, max(low, high)


def _lengths(shape: Shape) -> tuple[int, int]:
    low = int(shape.metadata.get("min", 0))
    high = int(shape.metadata.get("max", low + EXTRA_CHARS))
    return low, max(low, min(high, low + EXTRA_CHARS))


def _bounds(shape: Shape, low: Any, high: Any) -> tuple[Any, Any]:
    if "min" in shape.metadata:
        low = shape.metadata["min"] if low is None else max(low, int(shape.metadata["min"]))
    if "max" in shape.metadata:
        high = shape.metadata["max"] if high is None else min(high, int(shape.metadata["max"]))
    return low, high


# --------------------------------------------------------------------------- scalars


def _string(shape: Shape, slot: str) -> SearchStrategy[str]:
    enum = shape.enum
    if enum:
        values = [v for v in enum if v or slot not in (URI, URI_GREEDY, HEADER, HEADER_ITEM_IN, HEADER_ITEM_OUT)]
        return st.sampled_from(values)
    low, high = _lengths(shape)
    if slot == HOST:
        return st.text(_HOST_LABEL_CHARS, min_size=max(low, 1), max_size=max(high, 1))
    if slot in (HEADER, HEADER_ITEM_IN, HEADER_ITEM_OUT):
        chars = _HEADER_CHARS
        if slot == HEADER_ITEM_IN:
            # botocore quotes items holding "," or '"' but does not escape backslashes.
            chars = _HEADER_CHARS.filter(lambda c: c != "\\")
        elif slot == HEADER_ITEM_OUT:
            # botocore splits a response's list header on "," and knows no quoting.
            chars = _HEADER_CHARS.filter(lambda c: c not in ',"')
        return (
            st.text(chars, min_size=max(low, 1), max_size=max(high, 1))
            .map(str.strip)
            .filter(lambda s: len(s) >= max(low, 1))
        )
    if slot == URI:
        return st.text(_TEXT_CHARS, min_size=max(low, 1), max_size=max(high, 1)).filter(_plain_label)
    if slot == URI_GREEDY:
        return st.text(_TEXT_CHARS, min_size=max(low, 1), max_size=max(high, 1)).filter(_greedy_label)
    return st.text(_XML_REQUEST_CHARS if slot == XML_REQUEST else _TEXT_CHARS, min_size=low, max_size=high)


def _plain_label(value: str) -> bool:
    # "." and ".." as a path segment are resolved away by URL handling on the way.
    return "/" not in value and value.strip(".") != ""


def _greedy_label(value: str) -> bool:
    return all(segment not in (".", "..") for segment in value.split("/"))


def _timestamp() -> SearchStrategy[datetime]:
    """UTC datetimes at whole seconds or milliseconds: the precision AWS wire formats carry."""
    moments = st.datetimes(min_value=_EPOCH_MIN, max_value=_EPOCH_MAX, timezones=st.just(timezone.utc))
    return st.one_of(
        moments.map(lambda d: d.replace(microsecond=0, fold=0)),
        moments.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, fold=0)),
    )


def is_policy_document(service: str, shape: Shape) -> bool:
    """IAM's policy documents: JSON text, URL-encoded in responses (botocore decodes them)."""
    return service == "iam" and shape.name == "policyDocumentType"


def _policy_document() -> SearchStrategy[str]:
    # Percent signs and pluses are what a response that is not URL-encoded would garble.
    text = st.one_of(st.sampled_from(["s3:GetObject", "%41", "100%", "a+b", "a%2Fb", "*"]), st.text(_TEXT_CHARS, max_size=8))
    statement = st.fixed_dictionaries(
        {"Effect": st.sampled_from(["Allow", "Deny"]), "Action": text, "Resource": text},
        optional={"Sid": text},
    )
    policy = st.fixed_dictionaries({"Version": st.just("2012-10-17"), "Statement": st.lists(statement, min_size=1, max_size=2)})
    return policy.map(lambda p: json.dumps(p, ensure_ascii=False))


def _document() -> SearchStrategy[Any]:
    scalars = st.one_of(
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(_TEXT_CHARS, max_size=8),
    )
    values = st.recursive(
        st.one_of(st.none(), scalars),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(_TEXT_CHARS, max_size=6), inner, max_size=3)
        ),
        max_leaves=6,
    )
    # A top-level null is indistinguishable from an absent member.
    return values.filter(lambda v: v is not None)
