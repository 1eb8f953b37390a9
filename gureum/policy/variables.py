"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, `${s3:prefix}` ...

Only policies of version 2012-10-17 have variables; in 2008-10-17 `${...}` is plain text.
They are replaced in Resource/NotResource and in condition values, never in Action.
`${*}`, `${?}` and `${$}` stand for a literal `*`, `?` and `$`; `${key, 'default'}`
gives a value for when the key is absent. A value substituted from the request is
always literal: a `*` in a user name is not a wildcard. A key absent from the request
(with no default), or holding several values, leaves the variable unresolved and the
element that uses it does not match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from gureum.policy.matching import Pieces

Context = Mapping[str, "str | list[str]"]  # keys lower-cased

_SPECIAL = {"*": "*", "?": "?", "$": "$"}
_DEFAULT = re.compile(r"^\s*([^,\s][^,]*?)\s*,\s*'([^']*)'\s*$")

# A piece of a template: ("glob", text) | ("lit", text) | ("var", (key_lc, default))
_Piece = tuple[str, object]


@dataclass(frozen=True)
class Template:
    """A string from a policy, split into wildcard text, literal text and variables."""

    text: str
    pieces: tuple[_Piece, ...]
    has_vars: bool

    def render(self, context: Context) -> Pieces | None:
        """The pattern pieces with variables substituted; None if one is unresolved."""
        if not self.has_vars:
            return self.static_pieces
        out: list[tuple[str, bool]] = []
        for kind, value in self.pieces:
            if kind == "var":
                key, default = value  # type: ignore[misc]
                resolved = resolve(context, key, default)
                if resolved is None:
                    return None
                out.append((resolved, False))
            else:
                out.append((value, kind == "glob"))  # type: ignore[arg-type]
        return tuple(out)

    def render_text(self, context: Context) -> str | None:
        """The plain string (for the Equals operators, where `*` is just a character)."""
        if not self.has_vars:
            return self.plain
        pieces = self.render(context)
        return None if pieces is None else "".join(text for text, _ in pieces)

    @property
    def static_pieces(self) -> Pieces:
        return tuple((value, kind == "glob") for kind, value in self.pieces)  # type: ignore[misc]

    @property
    def plain(self) -> str:
        return "".join(value for _, value in self.pieces)  # type: ignore[misc]


def resolve(context: Context, key: str, default: str | None = None) -> str | None:
    value = context.get(key)
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if value is None:
        return default
    return value


def parse_template(text: str, allow_vars: bool) -> Template:
    if not allow_vars or "${" not in text:
        return Template(text, (("glob", text),), False)
    pieces: list[_Piece] = []
    has_vars = False
    pos = 0
    while True:
        start = text.find("${", pos)
        end = text.find("}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            if pos < len(text):
                pieces.append(("glob", text[pos:]))
            break
        if start > pos:
            pieces.append(("glob", text[pos:start]))
        inner = text[start + 2 : end]
        if inner in _SPECIAL:
            pieces.append(("lit", _SPECIAL[inner]))
        else:
            m = _DEFAULT.match(inner)
            key, default = (m.group(1), m.group(2)) if m else (inner.strip(), None)
            pieces.append(("var", (key.lower(), default)))
            has_vars = True
        pos = end + 1
    return Template(text, tuple(pieces), has_vars)
