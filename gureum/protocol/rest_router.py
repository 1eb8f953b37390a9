"""Which operation of a rest-json / rest-xml service a request is for, from the model's
`requestUri` templates ("/{Bucket}/{Key+}?uploads", "/2015-03-31/functions/{FunctionName}").

Built once per service. Templates with the same method and path shape share one compiled
regex (a "path group"), indexed by the first literal path segment, so a request tries a
handful of regexes, then picks among that group's operations by their literal query keys
(indexed by key) and, when several remain, by the request's headers and query members.

Precedence, most specific first:
1. path groups: more literal segments; no greedy label; literal segments earlier;
2. within a group: more literal query keys ("?list-type=2" over none; "?select&select-type=2");
   an `x-id` query parameter naming an operation picks it (newer SDKs add it to S3 URIs);
3. then operations whose required querystring/header members are all present, with more
   of them (S3's UploadPartCopy over UploadPart over PutObject on PUT /{Bucket}/{Key+});
4. more of the operation's optional query/header members present (ListBuckets vs
   ListDirectoryBuckets); not deprecated (GetBucketLifecycleConfiguration over
   GetBucketLifecycle); then model order.

Label values are percent-decoded; a greedy label ({Key+}) may contain "/" and must not be
empty. A trailing "/" on the request path is tolerated where the template has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from botocore.model import OperationModel, ServiceModel

from gureum.protocol.parsers.http_bindings import decode_label

_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


@dataclass
class _Route:
    operation: OperationModel
    labels: list[str]
    literal_query: dict[str, str | None]  # key -> required value, or None: present with any value
    required: tuple[tuple[str, str], ...]  # ("q" | "h", wire name) of required bound members
    optional: tuple[tuple[str, str], ...]
    deprecated: bool
    order: int


@dataclass
class _PathGroup:
    regex: re.Pattern
    rank: tuple
    routes: list[_Route] = field(default_factory=list)
    by_query_key: dict[str, list[_Route]] = field(default_factory=dict)
    plain: list[_Route] = field(default_factory=list)


class RestRouter:
    def __init__(self, service_model: ServiceModel):
        self.service_model = service_model
        groups: dict[tuple[str, str], _PathGroup] = {}
        first_segments: dict[tuple[str, str], str | None] = {}
        for order, name in enumerate(service_model.operation_names):
            operation = service_model.operation_model(name)
            http = operation.http
            method = http.get("method", "POST").upper()
            path, _, query = http.get("requestUri", "/").partition("?")
            pattern, labels, rank, first = _compile_path(path)
            key = (method, pattern)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _PathGroup(re.compile(pattern), rank)
                first_segments[key] = first
            route = _route(operation, labels, query, order)
            group.routes.append(route)
            if route.literal_query:
                group.by_query_key.setdefault(next(iter(route.literal_query)), []).append(route)
            else:
                group.plain.append(route)

        # method -> first literal segment -> groups to try, most specific first; the entry
        # under None holds the groups whose first segment is a label (tried for any path).
        self._index: dict[str, dict[str | None, list[_PathGroup]]] = {}
        for (method, _), group in groups.items():
            self._index.setdefault(method, {}).setdefault(first_segments[(method, _)], []).append(group)
        for by_first in self._index.values():
            wildcard = by_first.get(None, [])
            for first, listed in list(by_first.items()):
                merged = listed if first is None else listed + wildcard
                merged.sort(key=lambda g: g.rank)
                by_first[first] = merged

    def match(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str] | None = None,
    ) -> tuple[OperationModel, dict[str, str]] | None:
        """The operation and its decoded URI labels, or None when no template matches."""
        by_first = self._index.get(method.upper())
        if by_first is None:
            return None
        first = path[1:].partition("/")[0]
        groups = by_first.get(first)
        if groups is None:
            groups = by_first.get(None, ())
        for group in groups:
            matched = group.regex.fullmatch(path)
            if matched is None:
                continue
            route = _choose(group, query, headers or {})
            if route is not None:
                values = matched.groups()
                return route.operation, {
                    label: decode_label(value) for label, value in zip(route.labels, values)
                }
        return None

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some template accepts for this path (for 405 answers)."""
        found = []
        first = path[1:].partition("/")[0]
        for method, by_first in self._index.items():
            groups = by_first.get(first) or by_first.get(None, ())
            if any(group.regex.fullmatch(path) for group in groups):
                found.append(method)
        return found


def _compile_path(path: str) -> tuple[str, list[str], tuple, str | None]:
    """(regex, label names, precedence rank, first literal segment or None)."""
    segments = path.strip("/").split("/") if path.strip("/") else []
    parts: list[str] = []
    labels: list[str] = []
    ranks: list[int] = []
    literal_count = greedy = 0
    for segment in segments:
        pieces: list[str] = []
        last = 0
        kind = 0  # 0 literal, 1 label, 2 greedy label
        for m in _LABEL.finditer(segment):
            pieces.append(re.escape(segment[last : m.start()]))
            labels.append(m.group(1))
            if m.group(2):
                pieces.append("(.+)")
                greedy += 1
                kind = 2
            else:
                pieces.append("([^/]+)")
                kind = max(kind, 1)
            last = m.end()
        pieces.append(re.escape(segment[last:]))
        if kind == 0:
            literal_count += 1
        ranks.append(kind)
        parts.append("".join(pieces))
    pattern = "/" + "/".join(parts)
    if segments:
        pattern += "/?"  # "/functions/" and "/functions", "/bucket/" and "/bucket"
    first = segments[0] if segments and ranks[0] == 0 else (None if segments else "")
    rank = (-literal_count, greedy, tuple(ranks))
    return pattern, labels, rank, first


def _route(operation: OperationModel, labels: list[str], query: str, order: int) -> _Route:
    literal: dict[str, str | None] = {}
    for part in query.split("&"):
        if part:
            key, eq, value = part.partition("=")
            if key != "x-id":  # a hint, not a requirement: other clients leave it out
                literal[key] = value if eq else None
    required: list[tuple[str, str]] = []
    optional: list[tuple[str, str]] = []
    shape = operation.input_shape
    if shape is not None:
        required_names = set(shape.required_members)
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if location == "querystring" and member.type_name != "map":
                binding = ("q", member.serialization.get("name", name))
            elif location == "header":
                binding = ("h", member.serialization.get("name", name).lower())
            else:
                continue
            (required if name in required_names else optional).append(binding)
    return _Route(
        operation,
        labels,
        literal,
        tuple(required),
        tuple(optional),
        bool(operation.deprecated),
        order,
    )


def _literal_match(route: _Route, query: Mapping[str, str]) -> bool:
    for key, value in route.literal_query.items():
        sent = query.get(key)
        if sent is None or (value is not None and sent != value):
            return False
    return True


def _choose(group: _PathGroup, query: Mapping[str, str], headers: Mapping[str, str]) -> _Route | None:
    candidates = list(group.plain)
    for key in query:
        listed = group.by_query_key.get(key)
        if listed:
            candidates.extend(route for route in listed if _literal_match(route, query))
    if not candidates:
        return None
    x_id = query.get("x-id")
    if x_id:
        named = [route for route in candidates if route.operation.name == x_id]
        if named:
            candidates = named
    if len(candidates) == 1:
        return candidates[0]

    def present(binding: tuple[str, str]) -> bool:
        return binding[1] in (query if binding[0] == "q" else headers)

    def precedence(route: _Route) -> tuple:
        all_required = all(present(b) for b in route.required)
        return -len(route.literal_query), not all_required, -len(route.required) if all_required else 0

    # Counting the optional members present is the costly part (PutObject has ~60): only
    # routes tied on the cheaper criteria need it.
    ranked = [(precedence(route), route) for route in candidates]
    best = min(rank for rank, _ in ranked)
    tied = [route for rank, route in ranked if rank == best]
    if len(tied) == 1:
        return tied[0]
    return min(tied, key=lambda route: (-sum(1 for b in route.optional if present(b)), route.deprecated, route.order))
