"""Output dicts to plain trees (dict/list/str/number) for the JSON and CBOR encoders.

Compiled once per shape: a converter drops None members and names outside the shape,
renames members with a locationName, and turns blobs and timestamps into what the
encoding wants (base64 text and epoch seconds for JSON; bytes and tag 1 for CBOR). Shapes
that need nothing (strings, numbers, lists of them) compile to `IDENTITY` and cost nothing.
"""

from __future__ import annotations

from typing import Any, Callable

from .compile import Memo, shape_key

Converter = Callable[[Any], Any]

# Members bound to HTTP headers or the status line are not body members (rest-json).
_LOCATED = frozenset(("header", "headers", "statusCode"))


def IDENTITY(value: Any) -> Any:
    return value


class TreeCompiler:
    """Converters for one service's shapes into one encoding's plain values."""

    def __init__(self, blob: Converter, timestamp: Converter, floating: Converter = IDENTITY):
        self._blob = blob
        self._timestamp = timestamp
        self._float = floating
        self._memo = Memo()

    def convert(self, shape: Any) -> Converter:
        return self._memo.get(shape_key(shape), lambda: self._build(shape))

    def body(self, shape: Any) -> Converter:
        """A top-level structure without the members bound to headers or the status."""
        return self._memo.get(
            shape_key(shape, "#body"), lambda: self._structure(shape, skip_located=True)
        )

    def _build(self, shape: Any) -> Converter:
        type_name = shape.type_name
        if type_name == "structure":
            if shape.metadata.get("document"):
                return IDENTITY
            return self._structure(shape, skip_located=False)
        if type_name == "list":
            item = self.convert(shape.member)
            if item is IDENTITY:
                return IDENTITY
            return lambda value: [None if v is None else item(v) for v in value]
        if type_name == "map":
            item = self.convert(shape.value)
            if item is IDENTITY:
                return IDENTITY
            return lambda value: {k: None if v is None else item(v) for k, v in value.items()}
        if type_name == "blob":
            return self._blob
        if type_name == "timestamp":
            return self._timestamp
        if type_name in ("float", "double"):
            return self._float
        return IDENTITY

    def _structure(self, shape: Any, skip_located: bool) -> Converter:
        table: dict[str, tuple[str, Converter | None]] = {}
        for name, member in shape.members.items():
            if skip_located and member.serialization.get("location") in _LOCATED:
                continue
            conv = self.convert(member)
            key = member.serialization.get("name", name)
            table[name] = (key, None if conv is IDENTITY else conv)
        lookup = table.get

        def convert_structure(value: dict) -> dict:
            out = {}
            for name, v in value.items():
                if v is None:
                    continue
                entry = lookup(name)
                if entry is None:
                    continue
                key, conv = entry
                out[key] = v if conv is None else conv(v)
            return out

        return convert_structure


def convert_fields(compiler: TreeCompiler, shape: Any, fields: dict) -> dict:
    """An error's extra members: modeled ones converted by the error shape, others as given."""
    members = shape.members if shape is not None else {}
    out = {}
    for name, value in fields.items():
        if value is None:
            continue
        member = members.get(name)
        if member is None:
            out[name] = value
        elif member.serialization.get("location") not in _LOCATED:
            out[member.serialization.get("name", name)] = compiler.convert(member)(value)
    return out


def error_document(
    compiler: TreeCompiler | None, resolved: Any, message: str, fields: dict
) -> dict:
    """An error body's members: its extra members, then the message as the shape spells it."""
    doc: dict[str, Any] = {}
    if fields:
        doc.update(convert_fields(compiler, resolved.shape, fields) if compiler else fields)
    doc[resolved.message_member or "message"] = message
    return doc
