"""The expression grammar and evaluator on real expressions and items."""

from __future__ import annotations

import pytest

from gureum.protocol.errors import ServiceError
from gureum.services.dynamodb.expressions import evaluate
from gureum.services.dynamodb.expressions.parser import Placeholders, parse

ITEM = {"a": {"N": "5"}, "s": {"S": "hello"}, "m": {"M": {"l": {"L": [{"N": "1"}, {"S": "x"}]}}},
        "ss": {"SS": ["p", "q"]}}


def _cond(text, names=None, values=None):
    ph = Placeholders(names, values)
    node = ph.bind(parse("condition", "ConditionExpression", text), "ConditionExpression")
    ph.check_all_used()
    return evaluate.condition(ITEM, node)


@pytest.mark.parametrize("text,values,expected", [
    ("a = :v", {":v": {"N": "5.0"}}, True),
    ("a < :v AND s >= :t", {":v": {"N": "6"}, ":t": {"S": "hello"}}, True),
    ("a > :v OR NOT s = :t", {":v": {"N": "6"}, ":t": {"S": "hello"}}, False),
    ("m.l[1] = :x", {":x": {"S": "x"}}, True),
    ("a BETWEEN :lo AND :hi", {":lo": {"N": "5"}, ":hi": {"N": "5"}}, True),
    ("a IN (:x, :y)", {":x": {"N": "1"}, ":y": {"N": "5"}}, True),
    ("contains(ss, :x) and begins_with(s, :y)", {":x": {"S": "q"}, ":y": {"S": "he"}}, True),
    ("size(m.l) = :two", {":two": {"N": "2"}}, True),
    ("attribute_type(m, :m)", {":m": {"S": "M"}}, True),
    ("nothere <> :x", {":x": {"N": "1"}}, True),
    ("nothere = :x", {":x": {"N": "1"}}, False),
    ("a = :x", {":x": {"S": "5"}}, False),
])
def test_conditions(text, values, expected):
    assert _cond(text, values=values) is expected


def test_keywords_are_case_insensitive_and_names_resolve():
    assert _cond("attribute_exists(#a) and not attribute_not_exists(#a)", names={"#a": "a"})


@pytest.mark.parametrize("text,message", [
    ("a = ", "Syntax error"),
    ("status = :v", "reserved keyword: status"),
    ("foo(a)", "Invalid function name; function: foo"),
    ("a = :missing", "attribute value: :missing"),
    ("#nope = :v", "attribute name: #nope"),
])
def test_condition_errors(text, message):
    with pytest.raises(ServiceError) as excinfo:
        _cond(text, values={":v": {"N": "1"}})
    assert excinfo.value.code == "ValidationException" and message in excinfo.value.message
    assert excinfo.value.message.startswith("Invalid ConditionExpression: ")


def test_unused_placeholders():
    with pytest.raises(ServiceError) as excinfo:
        _cond("a = :v", values={":v": {"N": "5"}, ":w": {"N": "1"}})
    assert excinfo.value.message == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"


def _update(text, values):
    ph = Placeholders(None, values)
    return evaluate.apply_update(ITEM, ph.bind(parse("update", "UpdateExpression", text), "UpdateExpression"))


def test_update_reads_the_item_before_the_update():
    out = _update("SET a = :one, b = a", {":one": {"N": "1"}})
    assert out["a"] == {"N": "1"} and out["b"] == {"N": "5"} and ITEM["a"] == {"N": "5"}


def test_update_list_removal_uses_original_indexes():
    out = _update("REMOVE m.l[0], m.l[1] ADD ss :s", {":s": {"SS": ["r"]}})
    assert out["m"] == {"M": {"l": {"L": []}}} and sorted(out["ss"]["SS"]) == ["p", "q", "r"]


def test_update_errors():
    with pytest.raises(ServiceError, match="incorrect data type"):
        _update("SET a = s + :one", {":one": {"N": "1"}})
    with pytest.raises(ServiceError, match='The "SET" section can only be used once'):
        _update("SET a = :one SET b = :one", {":one": {"N": "1"}})
    with pytest.raises(ServiceError, match="Two document paths overlap"):
        _update("SET m = :one REMOVE m.l", {":one": {"N": "1"}})


def test_projection_keeps_nesting():
    ph = Placeholders(None, None)
    paths = ph.bind(parse("projection", "ProjectionExpression", "m.l[1], a"), "ProjectionExpression")
    assert evaluate.finish_projection(evaluate.project(ITEM, paths)) == {"m": {"M": {"l": {"L": [{"S": "x"}]}}}, "a": {"N": "5"}}
