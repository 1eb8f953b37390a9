"""XML bodies for the query, ec2 and rest-xml protocols, compiled per shape.

A compiled element writer is `write(value, out)`: it appends the element's text (tags
included) to the list `out`; the caller joins once. Member names follow what botocore's
XML parser looks for: a member's locationName, or for a flattened list its member's
locationName; lists wrap items in `<member>` (`<item>` for EC2) unless flattened; maps wrap
pairs in `<entry><key/><value/></entry>` unless flattened.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable
from urllib.parse import quote

from .compile import Memo, ModelCache, shape_key
from .values import iso8601, scalar_text

Writer = Callable[[Any, list], None]

# Members bound elsewhere in the HTTP response never appear in an XML body.
_LOCATED = frozenset(("header", "headers", "statusCode"))


def escape_text(s: str) -> str:
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    if "\r" in s:
        # A bare CR would be read back as LF; a character reference survives.
        s = s.replace("\r", "&#13;")
    return s


# Characters XML 1.0 cannot carry at all, not even as references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(s: str) -> str:
    """Text for an XML document: characters XML cannot carry become U+FFFD.

    Error messages quote what the caller sent; a control character there would make the
    whole answer unreadable to the client's XML parser.
    """
    return _NOT_XML.sub("\ufffd", s)


def escape_attr(s: str) -> str:
    s = escape_text(s)
    if '"' in s:
        s = s.replace('"', "&quot;")
    if "\n" in s:
        s = s.replace("\n", "&#10;")
    if "\t" in s:
        s = s.replace("\t", "&#9;")
    return s


def namespace_decl(namespace: Any) -> str:
    """` xmlns="uri"` or ` xmlns:prefix="uri"` from a model's xmlNamespace trait."""
    if not namespace:
        return ""
    if isinstance(namespace, str):
        return f' xmlns="{escape_attr(namespace)}"'
    uri = escape_attr(namespace.get("uri", ""))
    prefix = namespace.get("prefix")
    return f' xmlns:{prefix}="{uri}"' if prefix else f' xmlns="{uri}"'


def member_xml_name(member_shape: Any, member_name: str) -> str:
    """The element name botocore's XML parser looks for under a structure."""
    serialization = member_shape.serialization
    if member_shape.type_name == "list" and serialization.get("flattened"):
        item_name = member_shape.member.serialization.get("name")
        if item_name is not None:
            return item_name
    return serialization.get("name", member_name)


def text_of(value: Any) -> str:
    """Best-effort text for values outside the model (unmodeled error fields)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return iso8601(value)
    return str(value)


class XmlCompiler:
    """Element writers for one service's shapes in one XML dialect."""

    def __init__(
        self,
        list_item_name: str = "member",
        timestamp_format: str = "iso8601",
        url_encoded: frozenset[str] = frozenset(),
    ):
        self.list_item_name = list_item_name
        self.timestamp_format = timestamp_format
        # String shapes the service sends percent-encoded (IAM's policy documents).
        self.url_encoded = url_encoded
        self._memo = Memo()

    # -- public ------------------------------------------------------------------------

    def element(self, shape: Any, name: str) -> Writer:
        """Writer of the element(s) `name` holding a value of `shape`."""
        return self._memo.get(shape_key(shape, name), lambda: self._build_element(shape, name))

    def children(self, shape: Any) -> Writer:
        """Writer of a structure's member elements only (no enclosing tag)."""
        return self._memo.get(shape_key(shape, "#children"), lambda: self._build_children(shape))

    def attributes(self, shape: Any) -> list[tuple[str, str, Callable[[Any], str]]]:
        """(member, ` name="`, formatter) for a structure's xmlAttribute members."""
        attrs = []
        for member_name, member_shape in shape.members.items():
            serialization = member_shape.serialization
            if serialization.get("xmlAttribute"):
                xml_name = serialization.get("name", member_name)
                fmt = scalar_text(member_shape.type_name, member_shape, self.timestamp_format)
                attrs.append((member_name, f' {xml_name}="', fmt))
        return attrs

    # -- building ------------------------------------------------------------------------

    def _build_children(self, shape: Any) -> Writer:
        members: list[tuple[str, Writer]] = []
        for member_name, member_shape in shape.members.items():
            serialization = member_shape.serialization
            if serialization.get("location") in _LOCATED or serialization.get("xmlAttribute"):
                continue
            xml_name = member_xml_name(member_shape, member_name)
            members.append((member_name, self.element(member_shape, xml_name)))
        members_t = tuple(members)

        def write_children(value: dict, out: list) -> None:
            get = value.get
            for member_name, write in members_t:
                v = get(member_name)
                if v is not None:
                    write(v, out)

        return write_children

    def _build_element(self, shape: Any, name: str) -> Writer:
        type_name = shape.type_name
        start = "<" + name + namespace_decl(shape.serialization.get("xmlNamespace"))
        open_tag = start + ">"
        close_tag = "</" + name + ">"
        if type_name == "structure":
            return self._structure(shape, start, open_tag, close_tag)
        if type_name == "list":
            return self._list(shape, name, open_tag, close_tag)
        if type_name == "map":
            return self._map(shape, name, open_tag, close_tag)
        if type_name == "string" and shape.name in self.url_encoded:
            def write_encoded(value: Any, out: list) -> None:
                if not isinstance(value, str):
                    value = json.dumps(value)
                out.append(open_tag + quote(value, safe="") + close_tag)

            return write_encoded
        if type_name == "string":
            def write_string(value: Any, out: list) -> None:
                out.append(
                    open_tag
                    + escape_text(value if value.__class__ is str else str(value))
                    + close_tag
                )

            return write_string
        fmt = scalar_text(type_name, shape, self.timestamp_format)
        if type_name == "blob":
            def write_blob(value: Any, out: list) -> None:
                out.append(open_tag + fmt(value) + close_tag)

            return write_blob

        def write_scalar(value: Any, out: list) -> None:
            out.append(open_tag + escape_text(fmt(value)) + close_tag)

        return write_scalar

    def _structure(self, shape: Any, start: str, open_tag: str, close_tag: str) -> Writer:
        children = self.children(shape)
        attrs = self.attributes(shape)
        if attrs:
            def write_attributed(value: dict, out: list) -> None:
                out.append(_start_with_attributes(attrs, value, start))
                children(value, out)
                out.append(close_tag)

            return write_attributed

        def write_structure(value: dict, out: list) -> None:
            out.append(open_tag)
            children(value, out)
            out.append(close_tag)

        return write_structure

    def _list(self, shape: Any, name: str, open_tag: str, close_tag: str) -> Writer:
        member = shape.member
        if shape.serialization.get("flattened"):
            item = self.element(member, name)

            def write_flat_list(value: Any, out: list) -> None:
                for v in value:
                    if v is not None:
                        item(v, out)

            return write_flat_list
        item = self.element(member, member.serialization.get("name", self.list_item_name))

        def write_list(value: Any, out: list) -> None:
            out.append(open_tag)
            for v in value:
                if v is not None:
                    item(v, out)
            out.append(close_tag)

        return write_list

    def _map(self, shape: Any, name: str, open_tag: str, close_tag: str) -> Writer:
        key = self.element(shape.key, shape.key.serialization.get("name", "key"))
        val = self.element(shape.value, shape.value.serialization.get("name", "value"))
        if shape.serialization.get("flattened"):
            def write_flat_map(value: dict, out: list) -> None:
                for k, v in value.items():
                    if v is not None:
                        out.append(open_tag)
                        key(k, out)
                        val(v, out)
                        out.append(close_tag)

            return write_flat_map

        def write_map(value: dict, out: list) -> None:
            out.append(open_tag)
            for k, v in value.items():
                if v is not None:
                    out.append("<entry>")
                    key(k, out)
                    val(v, out)
                    out.append("</entry>")
            out.append(close_tag)

        return write_map


def _start_with_attributes(attrs: list, value: dict, start: str) -> str:
    parts = [start]
    for member_name, prefix, fmt in attrs:
        v = value.get(member_name)
        if v is not None:
            parts.append(prefix + escape_attr(fmt(v)) + '"')
    parts.append(">")
    return "".join(parts)


def write_fields(
    compiler: XmlCompiler, shape: Any, fields: dict, skip: frozenset, out: list
) -> None:
    """Extra members of an error (modeled by `shape` where it can) as child elements."""
    members = shape.members if shape is not None else {}
    for name, value in fields.items():
        if value is None or name in skip:
            continue
        member_shape = members.get(name)
        if member_shape is None:
            out.append(f"<{name}>{escape_text(text_of(value))}</{name}>")
        elif member_shape.serialization.get("location") not in _LOCATED:
            compiler.element(member_shape, member_xml_name(member_shape, name))(value, out)


# IAM sends policy documents percent-encoded (clients decode them).
_URL_ENCODED = {"iam": frozenset(("policyDocumentType",))}

# One compiler per service and list style: query and rest-xml wrap list items in <member>,
# EC2 in <item>.
member_style = ModelCache(
    lambda service: XmlCompiler(
        "member", url_encoded=_URL_ENCODED.get(service.service_name, frozenset())
    )
)
item_style = ModelCache(lambda service: XmlCompiler("item"))


def error_element(
    compiler: XmlCompiler,
    resolved: Any,
    message: str,
    fields: dict,
    out: list,
    *,
    with_type: bool,
    trailer: str = "",
) -> None:
    """`<Error>` of a query, EC2 or rest-xml error: Type, Code, Message, extra members, then
    `trailer` (S3 puts RequestId and HostId inside the Error element)."""
    out.append("<Error>")
    if with_type:
        out.append(f"<Type>{resolved.fault}</Type>")
    out.append(f"<Code>{escape_text(resolved.code)}</Code>")
    if message:
        out.append(f"<Message>{escape_text(xml_safe(message))}</Message>")
    if fields:
        skip = frozenset(("Code", "Message", "Type", resolved.message_member))
        write_fields(compiler, resolved.shape, fields, skip, out)
    out.append(trailer + "</Error>")


def root_writer(
    compiler: XmlCompiler, shape: Any, name: str, namespace_uri: str | None
) -> Writer:
    """Writer of a document's root element: the shape's own namespace, else `namespace_uri`."""
    own = shape.serialization.get("xmlNamespace")
    start = "<" + name + namespace_decl(own or namespace_uri)
    close = "</" + name + ">"
    children = compiler.children(shape)
    attrs = compiler.attributes(shape)

    def write_root(value: dict, out: list) -> None:
        out.append(_start_with_attributes(attrs, value, start) if attrs else start + ">")
        children(value, out)
        out.append(close)

    return write_root
