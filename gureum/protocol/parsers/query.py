"""The `query` protocol (awsQuery): form parameters such as `Tags.member.1.Key=k`.

Parameters come from the query string and a form-encoded body (the body wins). Keys are
split on "." into a tree once, then the tree is read guided by the input shape, so the cost
follows the parameters sent, not the size of the input shape.

List elements are `Name.member.N` (`member` is the list member's locationName when it has
one), or `Name.N` when the list is flattened; `Name=` with nothing else is an empty list.
Maps are `Name.entry.N.key` / `Name.entry.N.value` (`Name.N.key` flattened). The ec2
protocol differs only in names and lists (see ec2.py), through a Naming.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import parse_qsl

from botocore.model import OperationModel, Shape

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest
from gureum.protocol.parsers.faults import body_error, missing_error
from gureum.protocol.parsers.shapes import Reader, cached_reader
from gureum.protocol.parsers.values import (
    InvalidValue,
    MissingMember,
    checkable_required,
    missing_member,
    text_converter,
)

PROTOCOL = "query"

# A node of the parameter tree: children by key part; its own value under the key None.
Node = dict
_MISSING = object()


class Naming:
    """How a protocol names members and lays out lists on the wire."""

    family = "query"
    bare_lists = False  # ec2: lists are always Name.N

    def member_name(self, member: Shape, name: str) -> str:
        return member.serialization.get("name", name)

    def struct_keys(self, member: Shape, name: str) -> list[str]:
        """The keys a structure member is read under, the one botocore sends first.

        A flattened list whose member has a locationName is sent under that name by botocore
        (`Hi.1` becomes `item.1`); Smithy-based SDKs keep the member's own name.
        """
        own = self.member_name(member, name)
        if (
            member.type_name == "list"
            and member.serialization.get("flattened")
            and "name" in member.member.serialization
        ):
            return [member.member.serialization["name"], own]
        return [own]


QUERY = Naming()


def parse(operation: OperationModel, request: HttpRequest, uri_params: dict[str, str]) -> dict:
    return parse_with(QUERY, PROTOCOL, operation, request)


def parse_with(naming: Naming, protocol: str, operation: OperationModel, request: HttpRequest) -> dict:
    shape = operation.input_shape
    if shape is None:
        return {}
    tree = build_tree(form_params(request))
    try:
        value = reader(shape, naming)(tree)
    except MissingMember as e:
        raise missing_error(protocol, operation, e) from None
    except InvalidValue as e:
        raise body_error(protocol, operation, e.describe()) from None
    return {} if value is _MISSING else value


def form_params(request: HttpRequest) -> list[tuple[str, str]]:
    """The request's parameters: query string, then a form-encoded body. Decoded once."""
    cached = request.__dict__.get("_form_params")
    if cached is not None:
        return cached
    params = list(request.query)
    body = request.body
    if body and request.method != "GET":
        try:
            params.extend(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
        except UnicodeDecodeError:
            # The Query API's common error for a parameter string that does not decode.
            raise ServiceError("MalformedQueryString", "The query string contains a syntax error.", 404) from None
    request.__dict__["_form_params"] = params
    return params


def build_tree(params: list[tuple[str, str]]) -> Node:
    root: Node = {}
    for key, value in params:
        node = root
        for part in key.split("."):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[None] = value
    return root


def reader(shape: Shape, naming: Naming) -> Reader:
    return cached_reader(naming.family, shape, lambda s, register: _build(s, register, naming))


def _build(shape: Shape, register: Callable[[Reader], None], naming: Naming) -> Reader:
    kind = shape.type_name
    if kind == "structure":
        table: dict[str, tuple[str, Reader]] = {}
        read = _structure(table, checkable_required(shape, empty_structures_vanish=True))
        register(read)
        aliases = []
        for name, member in shape.members.items():
            entry = (name, reader(member, naming))
            first, *others = naming.struct_keys(member, name)
            table[first] = entry
            aliases.extend((key, entry) for key in others)
        for key, entry in aliases:  # never shadow another member's own name
            table.setdefault(key, entry)
        return read
    if kind == "list":
        item = reader(shape.member, naming)
        if naming.bare_lists or shape.serialization.get("flattened"):
            return _list(None, item)
        return _list(shape.member.serialization.get("name", "member"), item)
    if kind == "map":
        entry = None if shape.serialization.get("flattened") else "entry"
        return _map(
            entry,
            naming.member_name(shape.key, "key"),
            naming.member_name(shape.value, "value"),
            reader(shape.key, naming),
            reader(shape.value, naming),
        )
    return _scalar(text_converter(shape))


def _structure(table: dict[str, tuple[str, Reader]], required: tuple[str, ...] = ()) -> Reader:
    def read_structure(node: Node) -> Any:
        out = {}
        for key, child in node.items():
            entry = table.get(key) if key is not None else None
            if entry is None:
                continue  # unknown parameters are ignored, as AWS does
            try:
                value = entry[1](child)
            except InvalidValue as e:
                raise e.at(key)
            if value is not _MISSING:
                out[entry[0]] = value
        if not out and len(node) == 1 and None in node:
            return _MISSING  # `Name=value` where a structure belongs carries nothing
        if required:
            missing_member(out, required)
        return out

    return read_structure


def _indexed(node: Node) -> list[Node]:
    """Children numbered 1, 2, ... in numeric order (gaps allowed, other keys ignored)."""
    numbered = [(int(k), child) for k, child in node.items() if k is not None and k.isdigit()]
    numbered.sort(key=lambda pair: pair[0])
    return [child for _, child in numbered]


def _list(member_key: str | None, item: Reader) -> Reader:
    def read_list(node: Node) -> Any:
        container = node if member_key is None else node.get(member_key)
        if container is None:
            # `Name=` alone is how the query protocol sends an empty list.
            return [] if node.get(None) == "" else _MISSING
        items = []
        for i, child in enumerate(_indexed(container), 1):
            try:
                value = item(child)
            except InvalidValue as e:
                raise e.at(str(i))
            if value is not _MISSING:
                items.append(value)
        if not items and node.get(None) != "":
            return _MISSING
        return items

    return read_list


def _map(entry_key: str | None, key_name: str, value_name: str, key: Reader, value: Reader) -> Reader:
    def read_map(node: Node) -> Any:
        container = node if entry_key is None else node.get(entry_key)
        if container is None:
            return {} if node.get(None) == "" else _MISSING
        out = {}
        for entry in _indexed(container):
            key_node = entry.get(key_name)
            value_node = entry.get(value_name)
            if key_node is None:
                continue
            k = key(key_node)
            v = value(value_node) if value_node is not None else _MISSING
            if k is not _MISSING and v is not _MISSING:
                out[k] = v
        return out

    return read_map


def _scalar(convert: Callable[[str], Any]) -> Reader:
    def read_scalar(node: Node) -> Any:
        text = node.get(None)
        if text is None:
            return _MISSING
        return convert(text)

    return read_scalar
