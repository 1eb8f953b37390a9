"""PartiQL parsing and translation onto item-operation requests."""

from __future__ import annotations

import pytest

from gureum.protocol.errors import ServiceError
from gureum.services.dynamodb.partiql import translate
from gureum.services.dynamodb.partiql.parser import Delete, Insert, Select, Update, parse
from gureum.services.dynamodb.tables import Table

TABLE = Table(account_id="000000000000", region="us-east-1", name="T", table_id="t", created=0.0,
              key_schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
              attribute_definitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}])


def bound(text: str, *parameters):
    parsed = parse(text)
    return translate.statement_with(parsed.statement, list(parameters))


def test_parameters_are_numbered_in_text_order():
    parsed = parse('UPDATE "T" SET a = ? WHERE pk = ? AND sk = ?')
    assert parsed.parameters == 3
    statement = bound('UPDATE "T" SET a = ? WHERE pk = ? AND sk = ?', {"S": "A"}, {"S": "P"}, {"N": "1"})
    assert isinstance(statement, Update)
    assert statement.actions[0] == ("SET", ("path", ("a",)), ("value", {"S": "A"}))
    assert translate.full_key(TABLE, statement.where) == ({"pk": {"S": "P"}, "sk": {"N": "1"}}, [])


def test_literals():
    statement = bound("INSERT INTO T VALUE {'pk': 'it''s', 'n': -1.5e3, 'ns': <<1, 2>>, 'l': [true, null, {'x': ?}]}",
                      {"B": b"\x00"})
    assert isinstance(statement, Insert)
    assert statement.value[1]["M"] == {
        "pk": {"S": "it's"}, "n": {"N": "-1.5e3"}, "ns": {"NS": ["1", "2"]},
        "l": {"L": [{"BOOL": True}, {"NULL": True}, {"M": {"x": {"B": b"\x00"}}}]}}


def test_select_becomes_query_with_key_and_filter():
    statement = bound('SELECT a, "b c".d[2] FROM "T" WHERE sk > 3 AND pk = ? AND x <> 1 ORDER BY sk DESC', {"S": "p"})
    assert isinstance(statement, Select)
    operation, request = translate.select_request(TABLE, statement)
    assert operation == "query"
    names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]
    key = request["KeyConditionExpression"]
    for placeholder, name in names.items():
        key = key.replace(placeholder, name)
    for placeholder, value in values.items():
        key = key.replace(placeholder, str(value))
    assert key == "pk = {'S': 'p'} AND sk > {'N': '3'}"
    assert request["ScanIndexForward"] is False
    assert "FilterExpression" in request and "ProjectionExpression" in request


def test_select_without_partition_equality_is_a_scan():
    operation, request = translate.select_request(TABLE, bound("SELECT * FROM T WHERE pk = 'a' OR sk = 1"))
    assert operation == "scan" and "FilterExpression" in request
    # A partition-key value of the wrong type cannot be a key condition: it filters (and matches nothing).
    operation, _ = translate.select_request(TABLE, bound("SELECT * FROM T WHERE pk = 1"))
    assert operation == "scan"


def test_delete_and_update_conditions():
    operation, request = translate.write_request(TABLE, bound("DELETE FROM T WHERE pk = 'a' AND sk = 1 AND v = 2"))
    assert operation == "delete_item" and request["ConditionExpression"].startswith("attribute_not_exists(")
    assert isinstance(bound("DELETE FROM T WHERE pk = 'a' AND sk = 1"), Delete)
    operation, request = translate.write_request(TABLE, bound("UPDATE T SET s = set_add(s, <<'x'>>) REMOVE r "
                                                               "WHERE pk = 'a' AND sk = 1 RETURNING ALL NEW *"))
    assert operation == "update_item" and request["ReturnValues"] == "ALL_NEW"
    assert request["UpdateExpression"].startswith("REMOVE ") and " ADD " in request["UpdateExpression"]
    with pytest.raises(ServiceError) as excinfo:
        translate.write_request(TABLE, bound("UPDATE T SET a = 1 WHERE pk = 'a'"))
    assert excinfo.value.message == "Where clause does not contain a mandatory equality on all key attributes"


@pytest.mark.parametrize("text,detail", [
    ("", "Expected data manipulation"),
    ("CREATE TABLE x", "Expected data manipulation"),
    ("SELECT * FROM", "Unexpected end of statement"),
    ("SELECT * FROM T WHERE a = @", "Unexpected term"),
    ("UPDATE T WHERE a = 1", "Unexpected keyword"),
])
def test_malformed(text, detail):
    with pytest.raises(ServiceError) as excinfo:
        parse(text)
    assert excinfo.value.message == f"Statement wasn't well formed, can't be processed: {detail}"
