"""EC2's `Filters`: named criteria over a resource's describe shape, as AWS evaluates them.

A request's filters all must match (AND); a filter matches when any of its values does (OR).
Values may hold the wildcards `*` and `?` (a backslash escapes them) and compare as text:
booleans as "true"/"false", numbers in decimal. `tag:<key>`, `tag-key` and `tag-value` work
on every taggable resource. A name the resource does not know is refused, as AWS does.

A resource family declares its filters as {name: getter}; a getter takes the document and
returns a value, a list of values or None. `path("Placement.AvailabilityZone")` reads a
dotted path, flattening lists on the way ("NetworkInterfaces.PrivateIpAddress").
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

from gureum.protocol.errors import ServiceError
from gureum.services.ec2.errors import invalid_parameter_value

Getter = Callable[[dict], Any]
FilterSpec = dict[str, Getter]

MAX_VALUE_LENGTH = 255


def path(dotted: str) -> Getter:
    keys = dotted.split(".")

    def get(doc: dict) -> list:
        values: list = [doc]
        for key in keys:
            nxt = []
            for v in values:
                if isinstance(v, list):
                    v = [x.get(key) for x in v if isinstance(x, dict)]
                    nxt.extend(x for x in v if x is not None)
                elif isinstance(v, dict) and v.get(key) is not None:
                    nxt.append(v[key])
            values = [x for v in nxt for x in (v if isinstance(v, list) else [v])]
        return values

    return get


def paths(spec: dict[str, str]) -> FilterSpec:
    """{filter name: dotted path} as a FilterSpec."""
    return {name: path(p) for name, p in spec.items()}


@functools.lru_cache(maxsize=4096)
def _pattern(value: str) -> re.Pattern | None:
    """A compiled wildcard pattern, or None when the value has no wildcard."""
    if "*" not in value and "?" not in value:
        return None
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            out.append(re.escape(value[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.S)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_matches(candidates: list[str], wanted: list[str]) -> bool:
    for w in wanted:
        pattern = _pattern(w)
        if pattern is None:
            plain = w.replace("\\", "") if "\\" in w else w
            if plain in candidates:
                return True
        elif any(pattern.fullmatch(c) for c in candidates):
            return True
    return False


def _candidates(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, (list, tuple, set)):
        return [_text(v) for v in raw if v is not None]
    return [_text(raw)]


def check(filters: list[dict] | None, spec: FilterSpec) -> list[tuple[str, list[str]]]:
    """The request's filters, validated against the names `spec` knows."""
    out = []
    for f in filters or []:
        name = f.get("Name") or ""
        values = f.get("Values") or []
        for v in values:
            if len(v) > MAX_VALUE_LENGTH:
                raise ServiceError("FilterLimitExceeded",
                                   f"The maximum length for a filter value is {MAX_VALUE_LENGTH} characters", 400)
        if not (name in spec or name.startswith("tag:") or name in ("tag-key", "tag-value")):
            raise invalid_parameter_value(f"The filter '{name}' is invalid")
        out.append((name, values))
    return out


def matches(doc: dict, tags: list[dict] | None, filters: list[tuple[str, list[str]]], spec: FilterSpec) -> bool:
    """Whether one resource (its document and tags) passes every checked filter."""
    for name, wanted in filters:
        if name.startswith("tag:"):
            key = name[4:]
            candidates = [t["Value"] for t in tags or () if t["Key"] == key]
        elif name == "tag-key":
            candidates = [t["Key"] for t in tags or ()]
        elif name == "tag-value":
            candidates = [t["Value"] for t in tags or ()]
        else:
            candidates = _candidates(spec[name](doc))
        if not _value_matches(candidates, wanted):
            return False
    return True


def apply(docs: list[dict], filters: list[dict] | None, spec: FilterSpec) -> list[dict]:
    """The documents (with their `Tags` already attached) that pass the request's filters."""
    checked = check(filters, spec)
    if not checked:
        return docs
    return [d for d in docs if matches(d, d.get("Tags"), checked, spec)]
