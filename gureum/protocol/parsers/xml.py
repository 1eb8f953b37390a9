"""Reading XML request bodies (rest-xml) safely and by shape.

Bodies are parsed with defusedxml: no DTDs, no entity expansion, no external references; any
of those, and any XML that is not well-formed, is an error for the caller to report (400),
never a crash. Element and attribute names are matched on their local part, so a body with or
without S3's xmlns (or an xsi: prefix on an attribute) reads the same.

Lists: `<Name><member>..</member></Name>` (the member's locationName, else "member"), or the
repeated `<Name>` elements themselves when flattened. Maps: `<Name><entry><key/><value/>
</entry></Name>`, or repeated `<Name><key/><value/></Name>` when flattened.
"""

from __future__ import annotations

from typing import Any, Callable
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as safe_etree
from botocore.model import Shape

from gureum.protocol.parsers.shapes import Reader, cached_reader, located, wire_name
from gureum.protocol.parsers.values import InvalidValue, checkable_required, missing_member, text_converter

FAMILY = "xml"


class MalformedXml(ValueError):
    pass


def load(body: bytes) -> Element:
    try:
        return safe_etree.fromstring(body, forbid_dtd=True)
    except (ParseError, defusedxml.DefusedXmlException, ValueError, RecursionError) as e:
        raise MalformedXml(str(e)) from None


def local_name(tag: Any) -> str:
    # Comments and processing instructions have a function as their tag.
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def reader(shape: Shape) -> Reader:
    return cached_reader(FAMILY, shape, _build)


def body_reader(shape: Shape) -> Reader:
    """The reader of a rest-xml input body: the input structure minus its HTTP-bound members."""
    return _structure_reader(shape, lambda member: not located(member))


def _build(shape: Shape, register: Callable[[Reader], None]) -> Reader:
    kind = shape.type_name
    if kind == "structure":
        return _structure_reader(shape, None, register)
    if kind == "list":
        item = reader(shape.member)
        item_name = shape.member.serialization.get("name", "member")

        def read_list(element: Element) -> list:
            return [item(child) for child in element if local_name(child.tag) == item_name]

        return read_list
    if kind == "map":
        return _entry_reader(shape, nested=True)
    convert = text_converter(shape)

    def read_scalar(element: Element) -> Any:
        return convert(element.text or "")

    return read_scalar


def _entry_reader(shape: Shape, nested: bool) -> Reader:
    """A map: `nested` reads <Name><entry>..</entry></Name>; otherwise one flattened entry."""
    key_name = wire_name(shape.key, "key")
    value_name = wire_name(shape.value, "value")
    read_key = reader(shape.key)
    read_value = reader(shape.value)

    def read_entry(entry: Element, into: dict) -> None:
        key = value = None
        for child in entry:
            name = local_name(child.tag)
            if name == key_name:
                key = read_key(child)
            elif name == value_name:
                value = read_value(child)
        if key is not None and value is not None:
            into[key] = value

    if not nested:
        return read_entry  # type: ignore[return-value]

    def read_map(element: Element) -> dict:
        out: dict = {}
        for entry in element:
            if local_name(entry.tag) == "entry":
                read_entry(entry, out)
        return out

    return read_map


def _structure_reader(
    shape: Shape,
    keep: Callable[[Shape], bool] | None,
    register: Callable[[Reader], None] | None = None,
) -> Reader:
    # Per child element name: (member name, reader, how it combines with siblings).
    children: dict[str, tuple[str, Any, str]] = {}
    attributes: dict[str, tuple[str, Callable[[str], Any]]] = {}
    required = checkable_required(shape, keep)

    def read_structure(element: Element) -> dict:
        out: dict = {}
        if attributes and element.attrib:
            for raw, text in element.attrib.items():
                entry = attributes.get(local_name(raw))
                if entry is not None:
                    try:
                        out[entry[0]] = entry[1](text)
                    except InvalidValue as e:
                        raise e.at(raw)
        for child in element:
            tag = local_name(child.tag)
            entry = children.get(tag)
            if entry is None:
                continue  # unknown elements are ignored
            name, read, combine = entry
            try:
                if combine == "one":
                    out[name] = read(child)
                elif combine == "flat-list":
                    out.setdefault(name, []).append(read(child))
                else:  # flat-map
                    read(child, out.setdefault(name, {}))
            except InvalidValue as e:
                raise e.at(tag)
        if required:
            missing_member(out, required)
        return out

    if register is not None:
        register(read_structure)
    aliases: list[tuple[str, tuple[str, Any, str]]] = []
    for name, member in shape.members.items():
        if keep is not None and not keep(member):
            continue
        serialization = member.serialization
        if serialization.get("xmlAttribute"):
            attributes[local_name(_qualified(serialization.get("name", name)))] = (
                name,
                text_converter(member),
            )
            continue
        tag = wire_name(member, name)
        if member.type_name == "list" and serialization.get("flattened"):
            children[tag] = (name, reader(member.member), "flat-list")
        elif member.type_name == "map" and serialization.get("flattened"):
            children[tag] = (name, _entry_reader(member, nested=False), "flat-map")
        else:
            children[tag] = (name, reader(member), "one")
        if tag != name:
            aliases.append((name, children[tag]))
    # botocore lets a target shape's locationName rename the member's element; Smithy-based
    # SDKs keep the member name. Accept both, never shadowing another member's own name.
    for name, entry in aliases:
        children.setdefault(name, entry)
    return read_structure


def _qualified(name: str) -> str:
    """`xsi:type` -> `type`: prefixes are resolved by the parser, we match local names."""
    return name.rpartition(":")[2]
