"""Parse DynamoDB's PartiQL with lark into small statement records, once per distinct text.

Parameters (`?`) stay as ("param", n) nodes, numbered in the order they appear, and are
bound to a request's Parameters by `bind`, so a statement text is parsed once however many
times it runs with different parameters.

Nodes: paths are ("path", (step, ...)) with str steps for names and map keys and int steps
for list indexes; values are ("value", AttributeValue), ("param", n) and the containers
("map", [(key, node)]), ("list", [node]) and ("set", [node]); conditions are ("or", a, b),
("and", a, b), ("not", a), ("cmp", op, a, b), ("between", a, lo, hi), ("in", a, [..]),
("missing", a, negated), ("is_null", a, negated) and ("func", name, [..]).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import lark

from gureum.services.dynamodb.errors import validation

_GRAMMAR = (Path(__file__).parent / "grammar.lark").read_text()
_PARSER = lark.Lark(_GRAMMAR, parser="lalr", propagate_positions=True)
_DML = ("select", "insert", "update", "delete", "exists")
_KEYWORDS = {t.name for t in _PARSER.terminals if t.pattern.type == "re" and t.name.isalpha() and t.name.isupper()
             and t.name not in ("NAME", "QUOTED", "STRING", "NUMBER", "INT", "COMPARATOR", "WS")}


def malformed(detail: str) -> Exception:
    return validation(f"Statement wasn't well formed, can't be processed: {detail}")


@dataclass(frozen=True)
class Select:
    table: str
    index: str | None
    projection: tuple | None  # None for *
    where: tuple | None
    descending: bool | None  # None without ORDER BY
    order_path: tuple | None = None


@dataclass(frozen=True)
class Insert:
    table: str
    index: str | None
    value: tuple


@dataclass(frozen=True)
class Update:
    table: str
    index: str | None
    actions: tuple  # ("SET", path, value) | ("REMOVE", path)
    where: tuple | None
    returning: str | None  # ALL_OLD, ALL_NEW, UPDATED_OLD, UPDATED_NEW


@dataclass(frozen=True)
class Delete:
    table: str
    index: str | None
    where: tuple
    returning: str | None


@dataclass(frozen=True)
class Exists:
    select: Select


@dataclass(frozen=True)
class Parsed:
    statement: object
    parameters: int  # how many `?` the text holds

    @property
    def verb(self) -> str:
        return type(self.statement).__name__.upper()


class _Build(lark.Transformer):
    def __init__(self):
        super().__init__()
        self.parameters: list[int] = []

    # ---- names and paths
    def name(self, c):
        return str(c[0])

    def quoted(self, c):
        return str(c[0])[1:-1].replace('""', '"')

    def index(self, c):
        return int(c[0])

    def key(self, c):
        return _unquote(c[0])

    def path(self, c):
        return ("path", tuple(c))

    def target(self, c):
        return (c[0], c[1] if len(c) > 1 else None)

    # ---- values
    def string(self, c):
        return ("value", {"S": _unquote(c[0])})

    def number(self, c):
        return ("value", {"N": "".join(str(t) for t in c)})

    def true(self, c):
        return ("value", {"BOOL": True})

    def false(self, c):
        return ("value", {"BOOL": False})

    def null(self, c):
        return ("value", {"NULL": True})

    @lark.v_args(meta=True)
    def parameter(self, meta, c):
        self.parameters.append(meta.start_pos)
        return ("param", meta.start_pos)

    def set_(self, c):
        return ("set", list(c[1:-1]))

    def empty_set(self, c):
        raise malformed("Empty set literals are not supported")

    def map_(self, c):
        return ("map", list(c))

    def pair(self, c):
        return (_unquote(c[0]), c[1])

    def list_(self, c):
        return ("list", list(c))

    # ---- conditions
    def or_(self, c):
        return ("or", c[0], c[2])

    def and_(self, c):
        return ("and", c[0], c[2])

    def not_(self, c):
        return ("not", c[1])

    def compare(self, c):
        op = str(c[1])
        return ("cmp", "<>" if op == "!=" else op, c[0], c[2])

    def between(self, c):
        return ("between", c[0], c[2], c[4])

    def in_(self, c):
        return ("in", c[0], c[2:])

    def missing(self, c):
        return ("missing", c[0], len(c) == 4)

    def is_null(self, c):
        return ("is_null", c[0], len(c) == 4)

    def function(self, c):
        return ("func", str(c[0]).lower(), list(c[1:]))

    # ---- statements
    def where(self, c):
        return ("where", c[1])

    def order(self, c):
        return ("order", c[2], len(c) > 3 and str(c[3]).upper() == "DESC")

    def star(self, c):
        return None

    def paths(self, c):
        return tuple(c)

    def select(self, c):
        (table, index), projection = c[3], c[1]
        where = next((x[1] for x in c[4:] if x[0] == "where"), None)
        order = next((x for x in c[4:] if x[0] == "order"), None)
        return Select(table, index, projection, where, order[2] if order else None, order[1] if order else None)

    def insert(self, c):
        (table, index) = c[2]
        return Insert(table, index, c[4])

    def set_item(self, c):
        return ("SET", c[0], c[2])

    def plus(self, c):
        return ("plus", c[0], c[1])

    def minus(self, c):
        return ("minus", c[0], c[2])

    def set_clause(self, c):
        return tuple(c[1:])

    def remove_clause(self, c):
        return tuple(("REMOVE", p) for p in c[1:])

    def returning(self, c):
        which, when = str(c[1]).upper(), str(c[2]).upper()
        return ("ALL_" if which == "ALL" else "UPDATED_") + when

    def update(self, c):
        (table, index) = c[1]
        actions, where, returning = [], None, None
        for x in c[2:]:
            if isinstance(x, str):
                returning = x
            elif x[0] == "where":
                where = x[1]
            else:
                actions.extend(x)
        return Update(table, index, tuple(actions), where, returning)

    def delete(self, c):
        (table, index) = c[2]
        return Delete(table, index, c[3][1], c[4] if len(c) > 4 else None)

    def exists(self, c):
        return Exists(c[1])

    def start(self, c):
        return c[0]


def _unquote(token) -> str:
    return str(token)[1:-1].replace("''", "'")


@lru_cache(maxsize=2048)
def parse(text: str) -> Parsed:
    """The statement a PartiQL text holds, or AWS's ValidationException for a malformed one."""
    words = text.strip().split(None, 1)
    if not words or words[0].split("(")[0].lower() not in _DML:
        raise malformed("Expected data manipulation")
    try:
        tree = _PARSER.parse(text)
    except lark.exceptions.UnexpectedEOF:
        raise malformed("Unexpected end of statement") from None
    except lark.exceptions.UnexpectedToken as e:
        if e.token.type == "$END":
            raise malformed("Unexpected end of statement") from None
        raise malformed(f"Unexpected {'keyword' if e.token.type in _KEYWORDS else 'term'}") from None
    except lark.exceptions.UnexpectedCharacters:
        raise malformed("Unexpected term") from None
    build = _Build()
    try:
        statement = build.transform(tree)
    except lark.exceptions.VisitError as e:
        raise e.orig_exc from None
    order = {pos: i for i, pos in enumerate(sorted(build.parameters))}
    return Parsed(_renumber(statement, order), len(order))


def _renumber(node, order: dict):
    """Parameter nodes carry their text position while parsing; give them their ordinal."""
    if isinstance(node, tuple):
        if node and node[0] == "path":
            return node
        if len(node) == 2 and node[0] == "param" and isinstance(node[1], int):
            return ("param", order[node[1]])
        return tuple(_renumber(x, order) for x in node)
    if isinstance(node, list):
        return [_renumber(x, order) for x in node]
    if isinstance(node, (Select, Insert, Update, Delete, Exists)):
        return type(node)(**{k: _renumber(v, order) for k, v in node.__dict__.items()})
    return node
