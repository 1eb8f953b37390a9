"""Wildcard matching of actions, ARNs and strings as IAM does it.

- Actions match case-insensitively; `*` is any run of characters, `?` any one character.
- ARNs match case-sensitively, colon-delimited component by component: a wildcard in the
  partition, service, region or account component never crosses a colon, while the
  resource component (the sixth, which may itself contain colons) is matched as a whole.
  A pattern with fewer than six components lets its last component cover the rest.
- StringLike matches the whole value case-sensitively with `*` and `?`.

Patterns are given as "pieces": (text, is_glob) pairs, so that text that came from a
policy variable or from `${*}` / `${?}` / `${$}` is always literal. Every compiled
regex is cached by its pieces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

Pieces = tuple[tuple[str, bool], ...]  # (text, is_glob)

_ARN_COMPONENTS = 6


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _glob_regex(pieces: Pieces) -> str:
    out: list[str] = []
    for text, is_glob in pieces:
        if not is_glob:
            out.append(re.escape(text))
            continue
        for ch in text:
            out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=8192)
def glob_matcher(pieces: Pieces, ignore_case: bool = False) -> re.Pattern[str]:
    """A regex matching the whole value against `pieces` (StringLike, actions)."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(_glob_regex(pieces), flags)


def _arn_regex(pieces: Pieces) -> str:
    colons = sum(text.count(":") for text, _ in pieces)
    # Wildcards before the resource component stay inside their component; in the last
    # component the pattern has (the resource, or the tail of a short pattern) they roam.
    last = min(colons, _ARN_COMPONENTS - 1)
    out: list[str] = []
    component = 0
    for text, is_glob in pieces:
        for ch in text:
            if ch == ":":
                component += 1
                out.append(":")
            elif is_glob and ch == "*":
                out.append(".*" if component >= last else "[^:]*")
            elif is_glob and ch == "?":
                out.append("." if component >= last else "[^:]")
            else:
                out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=8192)
def arn_matcher(pieces: Pieces) -> re.Pattern[str]:
    """A regex matching whole ARNs against a Resource (or ArnLike) pattern."""
    return re.compile(_arn_regex(pieces), re.DOTALL)


def glob_pieces(text: str) -> Pieces:
    return ((text, True),)


def arn_matches(pattern: str, arn: str) -> bool:
    """Whether `arn` matches the Resource-style `pattern` (wildcards allowed)."""
    if pattern == "*":
        return True
    return arn_matcher(glob_pieces(pattern)).fullmatch(arn) is not None


def arn_like(pattern: Pieces, value: str) -> bool:
    """ArnLike/ArnEquals: the value must itself be an ARN of six components."""
    if value.count(":") < _ARN_COMPONENTS - 1:
        return False
    return arn_matcher(pattern).fullmatch(value) is not None


@dataclass(frozen=True)
class ActionMatcher:
    """A statement's Action/NotAction list compiled: exact names in a set, the rest one regex."""

    exact: frozenset[str]  # lower-cased "service:action"
    pattern: re.Pattern[str] | None  # alternation of the wildcard entries, case-insensitive
    match_all: bool
    services: frozenset[str] | None  # service prefixes named without wildcards; None = any

    def matches(self, action_lc: str) -> bool:
        if self.match_all or action_lc in self.exact:
            return True
        return self.pattern is not None and self.pattern.fullmatch(action_lc) is not None


def compile_actions(actions: Iterable[str]) -> ActionMatcher:
    exact: set[str] = set()
    wild: list[str] = []
    services: set[str] | None = set()
    match_all = False
    for action in actions:
        lowered = action.lower()
        if lowered == "*":
            match_all = True
        elif has_wildcard(lowered):
            wild.append(lowered)
        else:
            exact.add(lowered)
        service = lowered.partition(":")[0]
        if services is not None:
            if has_wildcard(service):
                services = None
            else:
                services.add(service)
    pattern = None
    if wild:
        pattern = re.compile("|".join(f"(?:{_glob_regex(glob_pieces(w))})" for w in wild), re.DOTALL)
    return ActionMatcher(
        exact=frozenset(exact),
        pattern=pattern,
        match_all=match_all,
        services=None if match_all or services is None else frozenset(services),
    )
