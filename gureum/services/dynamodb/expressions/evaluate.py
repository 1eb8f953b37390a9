"""Evaluate bound expressions against items: conditions, update actions and projections.

Items are dicts of attribute name -> AttributeValue in the wire form ({"S": ..}); a bound
path is ("path", (name, step, ...)) with str steps for map keys and int steps for list
indexes.
"""

from __future__ import annotations

import copy
from gureum.services.dynamodb import types
from gureum.services.dynamodb.errors import validation

_TYPE_NAMES = ("B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M")


def resolve(item: dict, steps: tuple) -> dict | None:
    """The value at a document path, or None where the path leads nowhere."""
    current = item.get(steps[0])
    for step in steps[1:]:
        if current is None:
            return None
        if isinstance(step, int):
            inner = current.get("L")
            current = inner[step] if inner is not None and step < len(inner) else None
        else:
            inner = current.get("M")
            current = inner.get(step) if inner is not None else None
    return current


def operand(item: dict, node) -> dict | None:
    tag = node[0]
    if tag == "path":
        return resolve(item, node[1])
    if tag == "value":
        return node[1]
    value = operand(item, node[1])  # size
    if value is None:
        return None
    (kind, inner), = value.items()
    if kind in ("S",):
        return {"N": str(len(inner.encode()))}
    if kind in ("B", "SS", "NS", "BS", "L", "M"):
        return {"N": str(len(inner))}
    raise validation(f"Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: {kind}")


def condition(item: dict, node, label: str = "ConditionExpression") -> bool:
    tag = node[0]
    if tag == "and":
        return condition(item, node[1], label) and condition(item, node[2], label)
    if tag == "or":
        return condition(item, node[1], label) or condition(item, node[2], label)
    if tag == "not":
        return not condition(item, node[1], label)
    if tag == "cmp":
        a, b = operand(item, node[2]), operand(item, node[3])
        op = node[1]
        if a is None or b is None:
            return op == "<>" and not (a is None and b is None)
        if op == "=":
            return types.equal(a, b)
        if op == "<>":
            return not types.equal(a, b)
        order = types.compare(a, b)
        if order is None:
            return False
        return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]
    if tag == "between":
        a, lo, hi = (operand(item, n) for n in node[1:])
        if a is None or lo is None or hi is None:
            return False
        span = types.compare(lo, hi)
        if span is not None and span > 0:
            raise validation(
                f"Invalid {label}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
                f"lower operand: AttributeValue: {_show(lo)}, upper operand: AttributeValue: {_show(hi)}")
        low, high = types.compare(lo, a), types.compare(a, hi)
        return low is not None and high is not None and low <= 0 and high <= 0
    if tag == "in":
        a = operand(item, node[1])
        return a is not None and any(types.equal(a, c) for c in (operand(item, n) for n in node[2]) if c is not None)
    return _function(item, node[1], node[2], label)


def _show(value: dict) -> str:
    (kind, inner), = value.items()
    return "{" + f"{kind}:{inner.decode(errors='replace') if isinstance(inner, bytes) else inner}" + "}"


def _function(item: dict, name: str, args: list, label: str) -> bool:
    if name == "attribute_exists":
        return resolve(item, args[0][1]) is not None
    if name == "attribute_not_exists":
        return resolve(item, args[0][1]) is None
    if name == "attribute_type":
        wanted = operand(item, args[1])
        if types.kind_of(wanted) != "S" or wanted["S"] not in _TYPE_NAMES:
            shown = wanted.get("S", _show(wanted))
            raise validation(f"Invalid {label}: Invalid attribute type name found; type: {shown}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}")
        value = resolve(item, args[0][1])
        return value is not None and types.kind_of(value) == wanted["S"]
    a, b = operand(item, args[0]), operand(item, args[1])
    if name == "begins_with":
        if args[1][0] == "value" and types.kind_of(b) not in ("S", "B"):
            raise validation(f"Invalid {label}: Incorrect operand type for operator or function; operator or function: begins_with, operand type: {types.kind_of(b)}")
        if a is None or b is None or types.kind_of(a) != types.kind_of(b) or types.kind_of(a) not in ("S", "B"):
            return False
        kind = types.kind_of(a)
        return a[kind].startswith(b[kind])
    # contains
    if a is None or b is None:
        return False
    ka, kb = types.kind_of(a), types.kind_of(b)
    if ka == "S" and kb == "S":
        return b["S"] in a["S"]
    if ka == "B" and kb == "B":
        return b["B"] in a["B"]
    if ka in types.SET_TYPES and types.SET_TYPES[ka] == kb:
        return any(types.equal({kb: m}, b) for m in a[ka])
    if ka == "L":
        return any(types.equal(m, b) for m in a["L"])
    return False


# ---- updates -----------------------------------------------------------------------------

def _wrong_type() -> Exception:
    return validation("An operand in the update expression has an incorrect data type")


def _missing() -> Exception:
    return validation("The provided expression refers to an attribute that does not exist in the item")


def _invalid_path() -> Exception:
    return validation("The document path provided in the update expression is invalid for update")


def _set_value(item: dict, node) -> dict:
    tag = node[0]
    if tag == "value":
        return node[1]
    if tag == "path":
        value = resolve(item, node[1])
        if value is None:
            raise _missing()
        return value
    if tag in ("plus", "minus"):
        a, b = _set_value(item, node[1]), _set_value(item, node[2])
        if types.kind_of(a) != "N" or types.kind_of(b) != "N":
            raise _wrong_type()
        return types.add_numbers(a["N"], b["N"], subtract=tag == "minus")
    name, args = node[1], node[2]
    if name == "if_not_exists":
        existing = resolve(item, args[0][1])
        return existing if existing is not None else _set_value(item, args[1])
    a, b = _set_value(item, args[0]), _set_value(item, args[1])
    if types.kind_of(a) != "L" or types.kind_of(b) != "L":
        raise _wrong_type()
    return {"L": a["L"] + b["L"]}


def _container(item: dict, steps: tuple):
    """The dict or list holding the last step of a path, or an error when there is none."""
    if len(steps) == 1:
        return item
    parent = resolve(item, steps[:-1])
    last = steps[-1]
    if parent is None:
        raise _invalid_path()
    if isinstance(last, int):
        if "L" not in parent:
            raise _invalid_path()
        return parent["L"]
    if "M" not in parent:
        raise _invalid_path()
    return parent["M"]


def _put(item: dict, steps: tuple, value: dict) -> None:
    holder, last = _container(item, steps), steps[-1]
    if isinstance(holder, list):
        if last < len(holder):
            holder[last] = value
        else:
            holder.append(value)
    else:
        holder[last] = value


def apply_update(item: dict, actions: tuple) -> dict:
    """The item after the bound update actions; `item` itself is left unchanged.

    Every right-hand side reads the item as it was before the update, as in AWS.
    """
    before = item
    after = copy.deepcopy(item)
    removals = []
    for action in actions:
        tag, steps = action[0], action[1][1]
        if tag == "SET":
            _put(after, steps, copy.deepcopy(_set_value(before, action[2])))
        elif tag == "REMOVE":
            removals.append(steps)
        elif tag == "ADD":
            _add(after, steps, action[2][1])
        else:
            _delete(after, steps, action[2][1])
    # List removals by index apply from the highest index down, so indexes mean the original.
    for steps in sorted(removals, key=lambda s: [(-x if isinstance(x, int) else 0) for x in s]):
        try:
            holder = _container(after, steps)
        except Exception:
            continue
        last = steps[-1]
        if isinstance(holder, list):
            if isinstance(last, int) and last < len(holder):
                del holder[last]
        else:
            holder.pop(last, None)
    return after


def _add(item: dict, steps: tuple, value: dict) -> None:
    kind = types.kind_of(value)
    if kind not in ("N", "SS", "NS", "BS"):
        raise validation("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: " + _type_word(kind))
    existing = resolve(item, steps)
    if existing is None:
        _put(item, steps, copy.deepcopy(value))
        return
    if types.kind_of(existing) != kind:
        raise _wrong_type()
    if kind == "N":
        _put(item, steps, types.add_numbers(existing["N"], value["N"]))
        return
    merged = list(existing[kind])
    for member in value[kind]:
        if not any(types.equal({kind: [m]}, {kind: [member]}) for m in merged):
            merged.append(member)
    _put(item, steps, {kind: merged})


def _delete(item: dict, steps: tuple, value: dict) -> None:
    kind = types.kind_of(value)
    if kind not in ("SS", "NS", "BS"):
        raise validation("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: " + _type_word(kind))
    existing = resolve(item, steps)
    if existing is None:
        return
    if types.kind_of(existing) != kind:
        raise _wrong_type()
    remaining = [m for m in existing[kind] if not any(types.equal({kind: [m]}, {kind: [x]}) for x in value[kind])]
    if remaining:
        _put(item, steps, {kind: remaining})
    else:
        _container(item, steps).pop(steps[-1], None)


def _type_word(kind: str) -> str:
    return {"S": "STRING", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL", "M": "MAP", "L": "LIST"}.get(kind, kind)


# ---- projections -------------------------------------------------------------------------

def project(item: dict, paths: tuple) -> dict:
    """The parts of an item the bound projection paths name, nested as in the item."""
    out: dict = {}
    for path in paths:
        steps = path[1]
        value = resolve(item, steps)
        if value is None:
            continue
        _merge(out, steps, value, item)
    return out


def _merge(out: dict, steps: tuple, value: dict, item: dict) -> None:
    if len(steps) == 1:
        out[steps[0]] = copy.deepcopy(value)
        return
    source = item[steps[0]]
    if steps[0] not in out:
        out[steps[0]] = {"M": {}} if "M" in source else {"L": {}}
    target, src = out[steps[0]], source
    for i, step in enumerate(steps[1:], start=1):
        inner_src = src["M"][step] if isinstance(step, str) else src["L"][step]
        container = target["M"] if "M" in target else target["L"]
        if i == len(steps) - 1:
            container[step] = copy.deepcopy(value)
            break
        if step not in container:
            container[step] = {"M": {}} if "M" in inner_src else {"L": {}}
        target, src = container[step], inner_src


def finish_projection(out: dict) -> dict:
    """Projected lists were built as index maps; turn them into lists in index order."""
    def fix(v):
        (kind, inner), = v.items()
        if kind == "L" and isinstance(inner, dict):
            return {"L": [fix(inner[k]) for k in sorted(inner)]}
        if kind == "M":
            return {"M": {k: fix(x) for k, x in inner.items()}}
        return v
    return {k: fix(v) for k, v in out.items()}
