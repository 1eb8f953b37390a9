"""DynamoDB's legacy (pre-expression) parameters, translated to bound expression trees.

Expected, QueryFilter and ScanFilter become condition trees, KeyConditions a key condition
and AttributeUpdates update actions, in the shapes expressions/parser.py binds expressions
to, so evaluate.py runs them with exactly the semantics of the expression languages.
"""

from __future__ import annotations

from gureum.services.dynamodb import types
from gureum.services.dynamodb.errors import invalid_parameter, validation

# How many values each ComparisonOperator takes (IN: one or more) and of which types.
_ARITY = {"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "CONTAINS": 1, "NOT_CONTAINS": 1,
          "BEGINS_WITH": 1, "NULL": 0, "NOT_NULL": 0, "IN": -1, "BETWEEN": 2}
_SCALARS = ("S", "N", "B")
_TYPES = {"EQ": _SCALARS + ("SS", "NS", "BS"), "NE": _SCALARS + ("SS", "NS", "BS"), "BEGINS_WITH": ("S", "B")}
_COMPARE = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_KEY_OPERATORS = ("EQ", "LE", "LT", "GE", "GT", "BETWEEN", "BEGINS_WITH")


def _path(name: str) -> tuple:
    return ("path", (name,))


def _checked(value: dict) -> dict:
    return types.validate_value(value)


def _comparison(name: str, operator: str, values: list[dict], *, strict_types: bool = True) -> tuple:
    """The condition tree of one {ComparisonOperator, AttributeValueList} on attribute `name`."""
    arity = _ARITY.get(operator)
    if arity is None:
        raise validation(f"1 validation error detected: Value '{operator}' at 'comparisonOperator' failed to satisfy "
                         "constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, "
                         "GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")
    values = [_checked(v) for v in values]
    if (arity == -1 and not values) or (arity >= 0 and len(values) != arity):
        raise invalid_parameter(f"Invalid number of argument(s) for the {operator} ComparisonOperator")
    if values:
        kind = types.kind_of(values[0])
        if any(types.kind_of(v) != kind for v in values):
            raise invalid_parameter("AttributeValues inside AttributeValueList must be of same type")
        if strict_types:
            allowed = _TYPES.get(operator, _SCALARS)
            bad = next((types.kind_of(v) for v in values if types.kind_of(v) not in allowed), None)
            if bad is not None:
                raise invalid_parameter(f"ComparisonOperator {operator} is not valid for {bad} AttributeValue type")
    path = _path(name)
    operands = [("value", v) for v in values]
    if operator in _COMPARE:
        return ("cmp", _COMPARE[operator], path, operands[0])
    if operator == "NULL":
        return ("func", "attribute_not_exists", [path])
    if operator == "NOT_NULL":
        return ("func", "attribute_exists", [path])
    if operator == "CONTAINS":
        return ("func", "contains", [path, operands[0]])
    if operator == "NOT_CONTAINS":
        return ("not", ("func", "contains", [path, operands[0]]))
    if operator == "BEGINS_WITH":
        return ("func", "begins_with", [path, operands[0]])
    if operator == "IN":
        return ("in", path, operands)
    if types.compare(values[0], values[1]) == 1:
        raise validation("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
    return ("between", path, operands[0], operands[1])


def _join(nodes: list, operator: str | None) -> tuple | None:
    word = "or" if (operator or "AND") == "OR" else "and"
    out = None
    for node in nodes:
        out = node if out is None else (word, out, node)
    return out


def expected(request: dict) -> tuple | None:
    """The condition tree of a request's Expected (with its ConditionalOperator)."""
    given = request.get("Expected")
    if not given:
        return None
    nodes = []
    for name, spec in given.items():
        has_list, has_value = "AttributeValueList" in spec, "Value" in spec
        if has_list and has_value:
            raise invalid_parameter(f"Value and AttributeValueList cannot be used together for Attribute: {name}")
        if "ComparisonOperator" in spec:
            operator = spec["ComparisonOperator"]
            if "Exists" in spec:
                raise invalid_parameter(f"Exists and ComparisonOperator cannot be used together for Attribute: {name}")
            if operator not in ("NULL", "NOT_NULL") and not has_list and not has_value:
                raise invalid_parameter(f"Value or AttributeValueList must be used with ComparisonOperator: {operator} "
                                        f"for Attribute: {name}")
            values = spec.get("AttributeValueList") if has_list else ([spec["Value"]] if has_value else [])
            nodes.append(_comparison(name, operator, values, strict_types=False))
            continue
        if has_list:
            raise invalid_parameter(f"AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}")
        exists = spec.get("Exists")
        if exists is None or exists:
            if not has_value:
                raise invalid_parameter(f"Value must be provided when Exists is {'null' if exists is None else 'true'} "
                                        f"for Attribute: {name}")
            nodes.append(("cmp", "=", _path(name), ("value", _checked(spec["Value"]))))
        else:
            if has_value:
                raise invalid_parameter(f"Value cannot be used when Exists is false for Attribute: {name}")
            nodes.append(("func", "attribute_not_exists", [_path(name)]))
    return _join(nodes, request.get("ConditionalOperator"))


def filter_conditions(conditions: dict | None, operator: str | None, key_names: tuple = (),
                      label: str = "QueryFilter") -> tuple | None:
    """The condition tree of a QueryFilter or ScanFilter."""
    if not conditions:
        return None
    nodes = []
    for name, spec in conditions.items():
        if name in key_names:
            raise validation(f"{label} can only contain non-primary key attributes: Primary key attribute: {name}")
        nodes.append(_comparison(name, spec["ComparisonOperator"], spec.get("AttributeValueList") or []))
    return _join(nodes, operator)


def key_conditions(conditions: dict) -> tuple:
    """The key condition tree of a Query's KeyConditions (checked further by the Query itself)."""
    if len(conditions) not in (1, 2):
        raise validation("Conditions can be of length 1 or 2 only")
    nodes = []
    for name, spec in conditions.items():
        operator = spec["ComparisonOperator"]
        node = _comparison(name, operator, spec.get("AttributeValueList") or [])
        if operator not in _KEY_OPERATORS:
            raise validation("Attempted conditional constraint is not an indexable operation")
        nodes.append(node)
    return _join(nodes, "AND")


def attribute_updates(updates: dict) -> tuple:
    """The update actions of an UpdateItem's AttributeUpdates (Action PUT by default)."""
    actions = []
    for name, spec in updates.items():
        action = spec.get("Action", "PUT")
        path = _path(name)
        if "Value" not in spec or spec["Value"] is None:
            if action != "DELETE":
                raise invalid_parameter("Only DELETE action is allowed when no attribute value is specified")
            actions.append(("REMOVE", path))
            continue
        value = _checked(spec["Value"])
        kind = types.kind_of(value)
        if action == "PUT":
            actions.append(("SET", path, ("value", value)))
        elif action == "DELETE":
            if kind not in ("SS", "NS", "BS"):
                raise invalid_parameter(f"DELETE action with value is not supported for the type {kind}")
            actions.append(("DELETE", path, ("value", value)))
        else:
            if kind not in ("L", "SS", "NS", "BS", "N"):
                raise invalid_parameter(f"ADD action is not supported for the type {kind}")
            if kind == "L":  # ADD appends to a list, starting one when there is none
                start = ("func", "if_not_exists", [path, ("value", {"L": []})])
                actions.append(("SET", path, ("func", "list_append", [start, ("value", value)])))
            else:
                actions.append(("ADD", path, ("value", value)))
    return tuple(actions)


def attributes_to_get(request: dict) -> None:
    """AWS refuses a repeated name in AttributesToGet."""
    names = request.get("AttributesToGet") or []
    seen = set()
    for name in names:
        if name in seen:
            raise invalid_parameter(f"Duplicate value in attribute name: {name}")
        seen.add(name)
