"""Compiling shapes once into small closures, with memoisation and recursion.

botocore hands out a fresh Shape object each time a reference is resolved, so shapes are
remembered by name plus the serialization traits a member reference may add
(locationName, flattened, timestampFormat, ...). Recursive shapes (DynamoDB's
AttributeValue, nested JSON documents) resolve to a trampoline while they compile.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


def shape_key(shape: Any, *extra: Any) -> tuple:
    serialization = shape.serialization
    traits = repr(sorted(serialization.items())) if serialization else ""
    return (shape.name, shape.type_name, traits, *extra)


class Memo:
    """Compiled callables by shape key, with forward references for recursive shapes."""

    def __init__(self) -> None:
        self._done: dict[tuple, Callable] = {}
        self._pending: dict[tuple, list] = {}

    def get(self, key: tuple, build: Callable[[], Callable]) -> Callable:
        fn = self._done.get(key)
        if fn is not None:
            return fn
        cell = self._pending.get(key)
        if cell is not None:
            # A shape that contains itself: call through the cell once it is filled.
            def forward(*args: Any, _cell: list = cell) -> Any:
                return _cell[0](*args)

            return forward
        cell = [None]
        self._pending[key] = cell
        try:
            fn = build()
        finally:
            del self._pending[key]
        cell[0] = fn
        self._done[key] = fn
        return fn


class ModelCache(Generic[K, V]):
    """Something derived from a botocore model object, computed once per object."""

    def __init__(self, build: Callable[[K], V]):
        self._build = build
        self._data: "weakref.WeakKeyDictionary[Any, V]" = weakref.WeakKeyDictionary()

    def __call__(self, model: K) -> V:
        try:
            return self._data[model]
        except KeyError:
            value = self._build(model)
            self._data[model] = value
            return value
