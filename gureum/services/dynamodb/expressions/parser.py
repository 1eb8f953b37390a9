"""Parse DynamoDB expressions with lark into small tuples, once per distinct text.

A parsed expression keeps its placeholders (#names and :values); `bind` resolves them for a
request and reports which ones it used, so unused or undefined placeholders are caught as
AWS catches them.

Nodes: a path is ("path", steps) with steps ("name", s) | ("attr", "#n") | ("index", i);
operands are paths, ("value", ":v") and ("size", operand); conditions are ("or", a, b),
("and", a, b), ("not", a), ("cmp", op, a, b), ("between", a, lo, hi), ("in", a, [..]) and
("func", name, [..]); update actions are ("SET", path, value), ("REMOVE", path),
("ADD", path, value) and ("DELETE", path, value), with SET values ("plus"|"minus", a, b) and
("func", name, [..]).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import lark

from gureum.protocol.errors import ServiceError
from gureum.services.dynamodb.errors import validation
from gureum.services.dynamodb.types import validate_value
from gureum.services.dynamodb.expressions.reserved import RESERVED_WORDS

_GRAMMAR = (Path(__file__).parent / "grammar.lark").read_text()
_PARSER = lark.Lark(_GRAMMAR, parser="lalr", start=["condition_expr", "update_expr", "projection_expr"])

CONDITION_FUNCTIONS = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
                       "begins_with": 2, "contains": 2}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
MAX_EXPRESSION_BYTES = 4096


class ExpressionError(Exception):
    """A problem in an expression; the caller prefixes "Invalid <Kind>Expression: "."""


class _Build(lark.Transformer):
    def path(self, steps):
        return ("path", tuple(steps))

    def name(self, children):
        word = str(children[0])
        if word.upper() in RESERVED_WORDS:
            raise ExpressionError(f"Attribute name is a reserved keyword; reserved keyword: {word}")
        return ("name", word)

    def attr_name(self, children):
        return ("attr", str(children[0]))

    def index(self, children):
        return ("index", int(children[0]))

    def value(self, children):
        return ("value", str(children[0]))

    def size(self, children):
        if children[1][0] != "path":
            raise ExpressionError("Incorrect operand type for operator or function; operator or function: size, operand type: M")
        return ("size", children[1])

    def or_(self, c):
        return ("or", c[0], c[2])

    def and_(self, c):
        return ("and", c[0], c[2])

    def not_(self, c):
        return ("not", c[1])

    def compare(self, c):
        return ("cmp", str(c[1]), c[0], c[2])

    def between(self, c):
        return ("between", c[0], c[2], c[4])

    def in_(self, c):
        return ("in", c[0], c[2:])

    def function(self, c):
        name, args = str(c[0]), c[1:]
        if name not in CONDITION_FUNCTIONS:
            if name in UPDATE_FUNCTIONS:
                raise ExpressionError(f"The function is not allowed to be used this way in an expression; function: {name}")
            raise ExpressionError(f"Invalid function name; function: {name}")
        _arity(name, args, CONDITION_FUNCTIONS[name])
        if name in ("attribute_exists", "attribute_not_exists", "attribute_type") and args[0][0] != "path":
            raise ExpressionError(f"Operator or function requires a document path; operator or function: {name}")
        return ("func", name, args)

    def set_function(self, c):
        name, args = str(c[0]), c[1:]
        if name not in UPDATE_FUNCTIONS:
            if name in CONDITION_FUNCTIONS:
                raise ExpressionError(f"The function is not allowed in an update expression; function: {name}")
            raise ExpressionError(f"Invalid function name; function: {name}")
        _arity(name, args, UPDATE_FUNCTIONS[name])
        if name == "if_not_exists" and args[0][0] != "path":
            raise ExpressionError("Operator or function requires a document path; operator or function: if_not_exists")
        return ("func", name, args)

    def plus(self, c):
        return ("plus", c[0], c[1])

    def minus(self, c):
        return ("minus", c[0], c[1])

    def set_action(self, c):
        return ("SET", c[0], c[2])

    def set_clause(self, c):
        return ("SET", c[1:])

    def remove_clause(self, c):
        return ("REMOVE", [("REMOVE", p) for p in c[1:]])

    def add_clause(self, c):
        return ("ADD", [("ADD", c[i], ("value", str(c[i + 1]))) for i in range(1, len(c), 2)])

    def delete_clause(self, c):
        return ("DELETE", [("DELETE", c[i], ("value", str(c[i + 1]))) for i in range(1, len(c), 2)])

    def condition_expr(self, c):
        return c[0]

    def update_expr(self, clauses):
        seen = set()
        actions = []
        for kind, acts in clauses:
            if kind in seen:
                raise ExpressionError(f'The "{kind}" section can only be used once in an update expression;')
            seen.add(kind)
            actions.extend(acts)
        _check_overlaps([a[1] for a in actions])
        return tuple(actions)

    def projection_expr(self, paths):
        _check_overlaps(paths)
        return tuple(paths)


def _arity(name: str, args: list, expected: int) -> None:
    if len(args) != expected:
        raise ExpressionError(f"Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {len(args)}")


def _show_path(path) -> str:
    parts = []
    for kind, step in path[1]:
        parts.append(f"[{step}]" if kind == "index" else step)
    return "[" + ", ".join(parts) + "]"


def _check_overlaps(paths: list) -> None:
    steps = [p[1] for p in paths]
    for i, a in enumerate(steps):
        for b in steps[:i]:
            short, n = (a, b) if len(a) <= len(b) else (b, a)
            if n[: len(short)] == short:
                raise ExpressionError(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; "
                    f"path one: {_show_path(paths[steps.index(b)])}, path two: {_show_path(paths[i])}")


@lru_cache(maxsize=4096)
def _parse(start: str, text: str):
    try:
        tree = _PARSER.parse(text, start=start)
    except lark.exceptions.UnexpectedEOF:
        raise ExpressionError('Syntax error; token: "<EOF>", near: "' + text[-10:].strip() + '"') from None
    except lark.exceptions.UnexpectedToken as e:
        token = str(e.token) if e.token.type != "$END" else "<EOF>"
        raise ExpressionError(f'Syntax error; token: "{token}", near: "{_near(text, e.token)}"') from None
    except lark.exceptions.UnexpectedCharacters as e:
        char = text[e.pos_in_stream]
        raise ExpressionError(f'Invalid character encountered; character: "{char}"' if not char.isprintable() or char in "!$%&@^~`?;'\"\\{}|" else
                              f'Syntax error; token: "{char}", near: "{text[max(0, e.pos_in_stream - 5): e.pos_in_stream + 5]}"') from None
    try:
        return _Build().transform(tree)
    except lark.exceptions.VisitError as e:
        if isinstance(e.orig_exc, ExpressionError):
            raise e.orig_exc from None
        raise


def _near(text: str, token) -> str:
    start = getattr(token, "start_pos", None)
    if start is None:
        return text[-10:]
    return text[max(0, start - 6): start + len(str(token)) + 4].strip()


_STARTS = {"condition": "condition_expr", "update": "update_expr", "projection": "projection_expr"}


def parse(kind: str, label: str, text: str):
    """Parse `text` as a condition, update or projection; errors name `label` like AWS."""
    if not text.strip():
        raise validation(f"Invalid {label}: The expression can not be empty;")
    if len(text.encode()) > MAX_EXPRESSION_BYTES:
        raise validation(f"Invalid {label}: Expression size has exceeded the maximum allowed size;")
    try:
        return _parse(_STARTS[kind], text)
    except ExpressionError as e:
        raise validation(f"Invalid {label}: {e}") from None


def _checked_value(key: str, value: dict) -> dict:
    try:
        return validate_value(value)
    except ServiceError as e:
        raise validation(f"ExpressionAttributeValues contains invalid value: {e.message} for key {key}") from None


class Placeholders:
    """A request's ExpressionAttributeNames/Values and which of them its expressions used."""

    def __init__(self, names: dict | None, values: dict | None):
        if names is not None and not names:
            raise validation("ExpressionAttributeNames must not be empty")
        if values is not None and not values:
            raise validation("ExpressionAttributeValues must not be empty")
        for kind, given, mark in (("Names", names, "#"), ("Values", values, ":")):
            bad = next((k for k in given or () if not (k.startswith(mark) and len(k) > 1)), None)
            if bad is not None:
                raise validation(f'ExpressionAttribute{kind} contains invalid key: Syntax error; key: "{bad}"')
        self.names = names or {}
        self.values = {k: _checked_value(k, v) for k, v in (values or {}).items()}
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    def bind(self, node, label: str):
        try:
            return self._bind(node)
        except ExpressionError as e:
            raise validation(f"Invalid {label}: {e}") from None

    def _bind(self, node):
        if isinstance(node[0], tuple):  # a whole update or projection
            return tuple(self._bind(n) for n in node)
        tag = node[0]
        if tag == "path":
            return ("path", tuple(self._step(s) for s in node[1]))
        if tag == "value":
            key = node[1]
            if key not in self.values:
                raise ExpressionError(f"An expression attribute value used in expression is not defined; attribute value: {key}")
            self.used_values.add(key)
            return ("value", self.values[key])
        if tag in ("cmp",):
            return (tag, node[1], self._bind(node[2]), self._bind(node[3]))
        if tag in ("func",):
            return (tag, node[1], [self._bind(a) for a in node[2]])
        if tag == "in":
            return (tag, self._bind(node[1]), [self._bind(a) for a in node[2]])
        if tag in ("SET", "ADD", "DELETE", "REMOVE", "size", "not", "or", "and", "between", "plus", "minus"):
            return (tag, *(self._bind(n) for n in node[1:]))
        raise AssertionError(tag)

    def _step(self, step):
        kind, v = step
        if kind == "attr":
            if v not in self.names:
                raise ExpressionError(f"An expression attribute name used in the document path is not defined; attribute name: {v}")
            self.used_names.add(v)
            return self.names[v]
        return v

    def check_all_used(self) -> None:
        unused = [k for k in self.names if k not in self.used_names]
        if unused:
            raise validation(f"Value provided in ExpressionAttributeNames unused in expressions: keys: {{{', '.join(unused)}}}")
        unused = [k for k in self.values if k not in self.used_values]
        if unused:
            raise validation(f"Value provided in ExpressionAttributeValues unused in expressions: keys: {{{', '.join(unused)}}}")
