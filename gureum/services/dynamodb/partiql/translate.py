"""Translate parsed PartiQL statements into the requests of DynamoDB's item operations.

A SELECT becomes a Query when its WHERE clause holds an equality on the partition key (and
at most one sort-key condition goes into the key condition), otherwise a Scan; INSERT is a
PutItem guarded by attribute_not_exists, UPDATE an UpdateItem that needs the item to exist,
DELETE a DeleteItem. The other WHERE conditions become the condition or filter expression,
written with generated placeholders, so every rule and error of the expression languages
applies unchanged.
"""

from __future__ import annotations

from gureum.services.dynamodb import types
from gureum.services.dynamodb.errors import validation
from gureum.services.dynamodb.partiql.parser import Delete, Exists, Insert, Select, Update

CONDITION_FUNCTIONS = ("begins_with", "contains", "attribute_exists", "attribute_not_exists", "attribute_type")
UPDATE_FUNCTIONS = ("list_append", "if_not_exists")
NO_FULL_KEY = "Where clause does not contain a mandatory equality on all key attributes"


# ---- parameters -------------------------------------------------------------------------------

def bind(node, parameters: list):
    """The node with `?`, literals and containers replaced by ("value", AttributeValue)."""
    if isinstance(node, list):
        return [bind(n, parameters) for n in node]
    if not isinstance(node, tuple) or not node or node[0] == "path":
        return node
    tag = node[0]
    if tag in ("value", "param", "map", "list", "set"):
        return ("value", value_of(node, parameters))
    return tuple(bind(n, parameters) if isinstance(n, (tuple, list)) else n for n in node)


def value_of(node, parameters: list) -> dict:
    tag = node[0]
    if tag == "value":
        return node[1]
    if tag == "param":
        return parameters[node[1]]
    if tag == "map":
        return {"M": {k: value_of(v, parameters) for k, v in node[1]}}
    if tag == "list":
        return {"L": [value_of(v, parameters) for v in node[1]]}
    members = [value_of(v, parameters) for v in node[1]]
    kinds = {types.kind_of(m) for m in members}
    if len(kinds) != 1 or next(iter(kinds)) not in ("S", "N", "B"):
        raise validation("Unsupported operation: Set literals must hold values of one scalar type: string, number or binary")
    kind = kinds.pop()
    return {kind + "S": [m[kind] for m in members]}


def statement_with(statement, parameters: list):
    """A statement with its parameters bound."""
    if isinstance(statement, Exists):
        return Exists(statement_with(statement.select, parameters))
    fields = dict(statement.__dict__)
    for name in ("where", "value", "actions"):
        if fields.get(name) is not None:
            fields[name] = bind(fields[name], parameters)
    return type(statement)(**fields)


# ---- expression text --------------------------------------------------------------------------

class Expression:
    """Expression text with #n/:v placeholders, collected for one request."""

    def __init__(self):
        self.names: dict[str, str] = {}
        self.values: dict[str, dict] = {}
        self._by_name: dict[str, str] = {}

    def name(self, name: str) -> str:
        if name not in self._by_name:
            self._by_name[name] = f"#n{len(self._by_name)}"
            self.names[self._by_name[name]] = name
        return self._by_name[name]

    def value(self, value: dict) -> str:
        key = f":v{len(self.values)}"
        self.values[key] = value
        return key

    def path(self, path) -> str:
        out = ""
        for step in path[1]:
            out += f"[{step}]" if isinstance(step, int) else ("." if out else "") + self.name(step)
        return out

    def operand(self, node) -> str:
        tag = node[0]
        if tag == "path":
            return self.path(node)
        if tag == "value":
            return self.value(node[1])
        if tag == "func" and node[1] == "size":
            if len(node[2]) != 1:
                raise validation(f"Incorrect number of operands for operator or function; operator or function: size, number of operands: {len(node[2])}")
            return f"size({self.operand(node[2][0])})"
        raise validation(f"Unsupported operation: function {node[1]} can not be used as a value")

    def condition(self, node) -> str:
        tag = node[0]
        if tag in ("or", "and"):
            return f"({self.condition(node[1])} {tag.upper()} {self.condition(node[2])})"
        if tag == "not":
            return f"(NOT {self.condition(node[1])})"
        if tag == "cmp":
            return f"{self.operand(node[2])} {node[1]} {self.operand(node[3])}"
        if tag == "between":
            return f"{self.operand(node[1])} BETWEEN {self.operand(node[2])} AND {self.operand(node[3])}"
        if tag == "in":
            return f"{self.operand(node[1])} IN ({', '.join(self.operand(n) for n in node[2])})"
        if tag == "missing":
            return f"attribute_{'exists' if node[2] else 'not_exists'}({self._document_path(node[1], 'IS MISSING')})"
        if tag == "is_null":
            text = f"attribute_type({self._document_path(node[1], 'IS NULL')}, {self.value({'S': 'NULL'})})"
            return f"(NOT {text})" if node[2] else text
        if tag == "func":
            if node[1] not in CONDITION_FUNCTIONS:
                raise validation(f"Unsupported function in condition: {node[1]}")
            return f"{node[1]}({', '.join(self.operand(a) for a in node[2])})"
        if tag == "path":
            raise validation("Unsupported operation: a document path alone is not a condition")
        raise validation("Unsupported operation: a value alone is not a condition")

    def _document_path(self, node, what: str) -> str:
        if node[0] != "path":
            raise validation(f"Unsupported operation: {what} requires a document path")
        return self.path(node)

    def set_value(self, node) -> str:
        tag = node[0]
        if tag in ("plus", "minus"):
            return f"{self.set_value(node[1])} {'+' if tag == 'plus' else '-'} {self.set_value(node[2])}"
        if tag == "func":
            if node[1] not in UPDATE_FUNCTIONS:
                raise validation(f"Unsupported function in update: {node[1]}")
            return f"{node[1]}({', '.join(self.set_value(a) for a in node[2])})"
        return self.operand(node)

    def into(self, request: dict) -> dict:
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


# ---- WHERE clauses ----------------------------------------------------------------------------

def conjuncts(node) -> list:
    if node is None:
        return []
    if node[0] == "and":
        return conjuncts(node[1]) + conjuncts(node[2])
    return [node]


def join(nodes: list):
    out = None
    for n in nodes:
        out = n if out is None else ("and", out, n)
    return out


def _key_equality(node, names: tuple) -> tuple[str, dict] | None:
    """(name, value) when the node is `key = value` (either way round) for one of `names`."""
    if node[0] != "cmp" or node[1] != "=":
        return None
    for a, b in ((node[2], node[3]), (node[3], node[2])):
        if a[0] == "path" and len(a[1]) == 1 and a[1][0] in names and b[0] == "value":
            return a[1][0], b[1]
    return None


def full_key(table, where) -> tuple[dict, list]:
    """The primary key a WHERE clause pins with equalities, and the conditions left over."""
    names = tuple(n for n in (table.hash_key, table.range_key) if n)
    key, rest = {}, []
    for c in conjuncts(where):
        found = _key_equality(c, names)
        if found and found[0] not in key:
            key[found[0]] = found[1]
        else:
            rest.append(c)
    if len(key) != len(names):
        raise validation(NO_FULL_KEY)
    return key, rest


def _sort_condition(node, name: str, kind: str) -> bool:
    """Whether a condition on the sort key can be a key condition of a Query."""
    def is_key(n):
        return n[0] == "path" and n[1] == (name,)

    def is_value(n):
        return n[0] == "value" and types.kind_of(n[1]) == kind
    if node[0] == "cmp" and node[1] != "<>":
        return (is_key(node[2]) and is_value(node[3])) or (is_key(node[3]) and is_value(node[2]))
    if node[0] == "between":
        return is_key(node[1]) and is_value(node[2]) and is_value(node[3])
    if node[0] == "func" and node[1] == "begins_with" and kind != "N":
        return len(node[2]) == 2 and is_key(node[2][0]) and is_value(node[2][1])
    return False


def key_schema(table, index: str | None) -> list[dict] | None:
    """The key schema of the table or of one of its secondary indexes (None when unknown)."""
    if index is None:
        return table.key_schema
    found = table.index(index)
    return found["KeySchema"] if found else None


# ---- statements -------------------------------------------------------------------------------

def select_request(table, statement: Select) -> tuple[str, dict]:
    """("query" | "scan", request) of a SELECT."""
    expr = Expression()
    request: dict = {"TableName": statement.table}
    if statement.index:
        request["IndexName"] = statement.index
    schema = key_schema(table, statement.index) or []
    hash_name = next((k["AttributeName"] for k in schema if k["KeyType"] == "HASH"), None)
    range_name = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
    rest = conjuncts(statement.where)
    hash_part = None
    if hash_name:
        hash_kind = _attribute_type(table, hash_name)
        for c in rest:
            found = _key_equality(c, (hash_name,))
            if found and types.kind_of(found[1]) == hash_kind:
                hash_part = c
                break
    if hash_part is None:
        if statement.descending is not None:
            raise validation("Must have WHERE clause in the statement when using ORDER BY clause.")
        operation = "scan"
        if statement.where is not None:
            request["FilterExpression"] = expr.condition(statement.where)
    else:
        operation = "query"
        rest = [c for c in rest if c is not hash_part]
        key_text = expr.condition(hash_part)
        if range_name:
            range_kind = _attribute_type(table, range_name)
            sort_part = next((c for c in rest if _sort_condition(c, range_name, range_kind)), None)
            if sort_part is not None:
                rest = [c for c in rest if c is not sort_part]
                key_text += f" AND {expr.condition(sort_part)}"
        request["KeyConditionExpression"] = key_text
        if rest:
            request["FilterExpression"] = expr.condition(join(rest))
        if statement.descending is not None:
            if statement.order_path[1] not in ((range_name,), (hash_name,)):
                raise validation("Unsupported operation: ORDER BY is supported only on the key attributes of the table or index")
            request["ScanIndexForward"] = not statement.descending
    if statement.projection is not None:
        request["ProjectionExpression"] = ", ".join(expr.path(p) for p in statement.projection)
    return operation, expr.into(request)


def get_request(table, statement: Select) -> dict:
    """The GetItem-shaped request of a SELECT that names one item by its full key."""
    if statement.index:
        raise validation("Unsupported operation: reads on indexes are not supported in batches and transactions")
    key, rest = full_key(table, statement.where)
    if rest:
        raise validation(NO_FULL_KEY)
    request: dict = {"TableName": statement.table, "Key": key}
    if statement.projection is not None:
        expr = Expression()
        request["ProjectionExpression"] = ", ".join(expr.path(p) for p in statement.projection)
        expr.into(request)
    return request


def write_request(table, statement) -> tuple[str, dict]:
    """("put_item" | "update_item" | "delete_item" | "condition_check", request) of a write."""
    if statement.__class__ is Exists:
        select = statement.select
        if select.projection is not None or select.descending is not None:
            raise validation("Unsupported operation: EXISTS takes SELECT * with a WHERE clause on the full key")
        key, rest = full_key(table, select.where)
        expr = Expression()
        text = f"attribute_exists({expr.path(('path', (table.hash_key,)))})"
        if rest:
            text += f" AND {expr.condition(join(rest))}"
        return "condition_check", expr.into({"TableName": select.table, "Key": key, "ConditionExpression": text})
    if statement.index:
        raise validation("Unsupported operation: writes are not supported on an index")
    expr = Expression()
    hash_path = expr.path(("path", (table.hash_key,)))
    if isinstance(statement, Insert):
        if statement.value[0] != "value" or types.kind_of(statement.value[1]) != "M":
            raise validation("Unsupported operation: Insert value must be a map of attribute names to values")
        return "put_item", expr.into({"TableName": statement.table, "Item": statement.value[1]["M"],
                                      "ConditionExpression": f"attribute_not_exists({hash_path})"})
    if isinstance(statement, Delete):
        if statement.returning not in (None, "ALL_OLD"):
            shown = statement.returning.replace("UPDATED_", "MODIFIED ").replace("ALL_", "ALL ")
            raise validation(f"Invalid returning clause: RETURNING {shown} *. Only RETURNING ALL OLD * is allowed in DELETE statements.")
        key, rest = full_key(table, statement.where)
        request = {"TableName": statement.table, "Key": key, "ReturnValues": statement.returning or "NONE"}
        if rest:
            # A missing item is deleted "successfully"; the other conditions guard an existing one.
            request["ConditionExpression"] = f"attribute_not_exists({hash_path}) OR {expr.condition(join(rest))}"
        else:
            expr = Expression()
        return "delete_item", expr.into(request)
    assert isinstance(statement, Update)
    key, rest = full_key(table, statement.where)
    sets, removes, adds, deletes = [], [], [], []
    for action in statement.actions:
        if action[0] == "REMOVE":
            removes.append(expr.path(action[1]))
            continue
        path, value = action[1], action[2]
        if value[0] == "func" and value[1] in ("set_add", "set_delete"):
            args = value[2]
            if len(args) != 2 or args[0] != path or args[1][0] != "value":
                raise validation(f"Unsupported operation: {value[1]} takes the path being set and a set value")
            (adds if value[1] == "set_add" else deletes).append(f"{expr.path(path)} {expr.operand(args[1])}")
            continue
        sets.append(f"{expr.path(path)} = {expr.set_value(value)}")
    clauses = [(word, parts) for word, parts in (("SET", sets), ("REMOVE", removes), ("ADD", adds),
                                                  ("DELETE", deletes)) if parts]
    update_text = " ".join(f"{word} {', '.join(parts)}" for word, parts in clauses)
    condition = f"attribute_exists({hash_path})"
    if rest:
        condition += f" AND {expr.condition(join(rest))}"
    return "update_item", expr.into({"TableName": statement.table, "Key": key, "UpdateExpression": update_text,
                                     "ConditionExpression": condition,
                                     "ReturnValues": statement.returning or "NONE"})


def _attribute_type(table, name: str) -> str | None:
    return next((d["AttributeType"] for d in table.attribute_definitions if d["AttributeName"] == name), None)
