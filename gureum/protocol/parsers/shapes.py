"""Per-shape compiled readers, built once and shared by all requests.

botocore creates a fresh Shape object each time a reference is resolved, so a recursive shape
(DynamoDB's AttributeValue) yields a new object at every depth. Readers are therefore cached
by the *logical* shape: its resolver, its name and the member traits merged into it
(locationName, flattened, timestampFormat ...), not by object identity.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Hashable

from botocore.model import OperationModel, Shape

Reader = Callable[[Any], Any]

# Reader caches: one dict per (protocol family, service resolver).
_caches: dict[str, "weakref.WeakKeyDictionary[Any, dict[Hashable, Any]]"] = {}


def shape_key(shape: Shape) -> Hashable:
    resolver = shape._shape_resolver
    base = getattr(resolver, "_shape_map", {}).get(shape.name)
    model = shape._shape_model
    if model is base:
        return shape.name
    if base is None:
        return ("#", id(shape))
    traits = tuple(
        sorted((k, repr(v)) for k, v in model.items() if k != "documentation" and base.get(k) != v)
    )
    return (shape.name, traits)


def cached_reader(family: str, shape: Shape, build: Callable[[Shape, Callable[[Reader], None]], Reader]) -> Reader:
    """The reader of `shape` for a protocol family, built by `build` on first use.

    `build(shape, register)` must call `register(reader)` before it compiles member readers,
    so that recursive shapes find their own reader instead of recursing forever.
    """
    per_resolver = _caches.setdefault(family, weakref.WeakKeyDictionary())
    resolver = shape._shape_resolver
    try:
        cache = per_resolver[resolver]
    except (KeyError, TypeError):
        cache = {}
        try:
            per_resolver[resolver] = cache
        except TypeError:  # an unresolvable shape map (scalars only): not weak-referenceable
            pass
    key = shape_key(shape)
    reader = cache.get(key)
    if reader is None:
        reader = build(shape, lambda r: cache.__setitem__(key, r))
        cache[key] = reader
    return reader


def wire_name(shape: Shape, default: str) -> str:
    """The locationName of a member, else its member name."""
    return shape.serialization.get("name", default)


def located(shape: Shape) -> bool:
    """Whether a member is bound to the URI, query string or headers (not the body)."""
    return "location" in shape.serialization


def is_streaming_payload(shape: Shape) -> bool:
    return shape.type_name == "blob" and bool(shape.serialization.get("streaming"))


def streaming_input(operation: OperationModel) -> bool:
    """Whether the operation's input payload is a streaming blob (S3 PutObject, UploadPart ...).

    The gateway hands such bodies to the parser as a BodyStream instead of reading them.
    """
    shape = operation.input_shape
    if shape is None:
        return False
    payload = shape.serialization.get("payload")
    return payload is not None and is_streaming_payload(shape.members[payload])

