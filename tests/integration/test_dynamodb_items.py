"""DynamoDB items end to end: writes, conditions, update expressions, types and limits."""

from __future__ import annotations

from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def ddb(make_client):
    client = make_client("dynamodb")
    client.create_table(TableName="items", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")
    return client


def _fails(call, code="ValidationException", message=None, **kwargs):
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    err = excinfo.value.response["Error"]
    assert err["Code"] == code, err
    if message is not None:
        assert message in err["Message"], err["Message"]
    return excinfo.value.response


def test_put_get_delete_and_numbers(ddb):
    ddb.put_item(TableName="items", Item={"pk": {"S": "n"}, "a": {"N": "01.50"}, "b": {"N": "1e2"},
                                          "e": {"S": ""}, "m": {"M": {"x": {"L": [{"BOOL": True}, {"NULL": True}]}}}})
    item = ddb.get_item(TableName="items", Key={"pk": {"S": "n"}}, ConsistentRead=True)["Item"]
    assert item["a"] == {"N": "1.5"} and item["b"] == {"N": "100"} and item["e"] == {"S": ""}
    got = ddb.get_item(TableName="items", Key={"pk": {"S": "n"}}, ProjectionExpression="#m.x[1], a",
                       ExpressionAttributeNames={"#m": "m"})["Item"]
    assert got == {"m": {"M": {"x": {"L": [{"NULL": True}]}}}, "a": {"N": "1.5"}}
    old = ddb.delete_item(TableName="items", Key={"pk": {"S": "n"}}, ReturnValues="ALL_OLD")["Attributes"]
    assert old["a"] == {"N": "1.5"}
    assert "Item" not in ddb.get_item(TableName="items", Key={"pk": {"S": "n"}})


def test_type_and_limit_errors(ddb):
    put = ddb.put_item
    _fails(put, message="Attempting to store more than 38 significant digits in a Number",
           TableName="items", Item={"pk": {"S": "x"}, "n": {"N": "1" * 39}})
    _fails(put, message="Number overflow", TableName="items", Item={"pk": {"S": "x"}, "n": {"N": "1e126"}})
    _fails(put, message="Number underflow", TableName="items", Item={"pk": {"S": "x"}, "n": {"N": "1e-131"}})
    _fails(put, message="A value provided cannot be converted into a number",
           TableName="items", Item={"pk": {"S": "x"}, "n": {"N": "abc"}})
    _fails(put, message="contains duplicates", TableName="items", Item={"pk": {"S": "x"}, "s": {"SS": ["a", "a"]}})
    _fails(put, message="may not be empty", TableName="items", Item={"pk": {"S": "x"}, "s": {"SS": []}})
    _fails(put, message="cannot contain an empty string value. Key: pk", TableName="items", Item={"pk": {"S": ""}})
    _fails(put, message="Missing the key pk in the item", TableName="items", Item={"other": {"S": "x"}})
    _fails(put, message="Type mismatch for key pk expected: S actual: N", TableName="items", Item={"pk": {"N": "1"}})
    _fails(put, message="Size of hashkey has exceeded the maximum size limit of 2048 bytes",
           TableName="items", Item={"pk": {"S": "k" * 2049}})
    _fails(put, message="Item size has exceeded the maximum allowed size",
           TableName="items", Item={"pk": {"S": "big"}, "v": {"S": "x" * 400 * 1024}})
    _fails(ddb.get_item, message="The provided key element does not match the schema",
           TableName="items", Key={"pk": {"S": "x"}, "extra": {"S": "y"}})
    _fails(ddb.get_item, "ResourceNotFoundException", "Requested resource not found",
           TableName="missing", Key={"pk": {"S": "x"}})


def test_conditional_writes(ddb):
    ddb.put_item(TableName="items", Item={"pk": {"S": "c"}, "v": {"N": "5"}, "s": {"S": "hello"}})
    cond = dict(TableName="items", Item={"pk": {"S": "c"}, "v": {"N": "6"}})
    resp = _fails(ddb.put_item, "ConditionalCheckFailedException", "The conditional request failed",
                  ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD", **cond)
    assert resp["Item"]["v"] == {"N": "5"}
    for expression, values in [
        ("v BETWEEN :a AND :b AND begins_with(s, :p)", {":a": {"N": "1"}, ":b": {"N": "5"}, ":p": {"S": "he"}}),
        ("v IN (:a, :b) OR contains(s, :p)", {":a": {"N": "1"}, ":b": {"N": "2"}, ":p": {"S": "ell"}}),
        ("NOT (size(s) > :a) AND attribute_type(v, :t)", {":a": {"N": "5"}, ":t": {"S": "N"}}),
        ("v <> :a", {":a": {"N": "1"}}),
    ]:
        ddb.put_item(ConditionExpression=expression, ExpressionAttributeValues=values,
                     **dict(cond, Item={"pk": {"S": "c"}, "v": {"N": "5"}, "s": {"S": "hello"}}))
    _fails(ddb.put_item, "ConditionalCheckFailedException", ConditionExpression="v > :a",
           ExpressionAttributeValues={":a": {"N": "10"}}, **cond)
    _fails(ddb.put_item, message="Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}",
           ConditionExpression="v > :a", ExpressionAttributeValues={":a": {"N": "1"}, ":b": {"N": "2"}}, **cond)
    _fails(ddb.put_item, message="Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}",
           ConditionExpression="v > :a", ExpressionAttributeNames={"#n": "x"},
           ExpressionAttributeValues={":a": {"N": "1"}}, **cond)
    _fails(ddb.put_item, message="Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: size",
           ConditionExpression="attribute_exists(size)", **cond)
    _fails(ddb.put_item, message="Invalid ConditionExpression: Syntax error", ConditionExpression="v = ", **cond)
    _fails(ddb.put_item, message="An expression attribute value used in expression is not defined; attribute value: :zz",
           ConditionExpression="v = :zz", **cond)
    _fails(ddb.put_item, message="Invalid ConditionExpression: Invalid function name; function: nope",
           ConditionExpression="nope(v)", **cond)


def test_update_expressions(ddb):
    ddb.put_item(TableName="items", Item={"pk": {"S": "u"}, "n": {"N": "1"}, "l": {"L": [{"S": "a"}, {"S": "b"}]},
                                          "m": {"M": {"in": {"N": "0"}}}, "ss": {"SS": ["x", "y"]},
                                          "x": {"L": [{"S": "a"}]}, "ds": {"SS": ["x", "y"]}})
    resp = ddb.update_item(
        TableName="items", Key={"pk": {"S": "u"}}, ReturnValues="ALL_NEW",
        UpdateExpression="SET n = n + :two, m.#in = m.#in - :two, l = list_append(l, :more), f = if_not_exists(f, :two), "
                         "#x[0] = :z REMOVE ghost ADD cnt :two, ss :add DELETE ds :del",
        ExpressionAttributeNames={"#in": "in", "#x": "x"},
        ExpressionAttributeValues={":two": {"N": "2"}, ":more": {"L": [{"S": "c"}]}, ":z": {"S": "z"},
                                   ":add": {"SS": ["w"]}, ":del": {"SS": ["x"]}})
    item = resp["Attributes"]
    assert item["n"] == {"N": "3"} and item["m"] == {"M": {"in": {"N": "-2"}}} and item["f"] == {"N": "2"}
    assert item["l"] == {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]} and item["cnt"] == {"N": "2"}
    assert item["x"] == {"L": [{"S": "z"}]} and item["ds"] == {"SS": ["y"]}
    assert sorted(item["ss"]["SS"]) == ["w", "x", "y"]
    old = ddb.update_item(TableName="items", Key={"pk": {"S": "u"}}, UpdateExpression="REMOVE l[1], f",
                          ReturnValues="UPDATED_OLD")["Attributes"]
    assert set(old) == {"l", "f"}
    new = ddb.update_item(TableName="items", Key={"pk": {"S": "u"}}, UpdateExpression="SET n = :v",
                          ExpressionAttributeValues={":v": {"N": "7"}}, ReturnValues="UPDATED_NEW")["Attributes"]
    assert new == {"n": {"N": "7"}}
    nested = ddb.update_item(TableName="items", Key={"pk": {"S": "u"}}, UpdateExpression="SET m.#in = :v",
                             ExpressionAttributeNames={"#in": "in"}, ExpressionAttributeValues={":v": {"N": "8"}},
                             ReturnValues="UPDATED_OLD")["Attributes"]
    assert nested == {"m": {"M": {"in": {"N": "-2"}}}}
    # An update of a missing item creates it from the key.
    created = ddb.update_item(TableName="items", Key={"pk": {"S": "fresh"}}, UpdateExpression="ADD c :one",
                              ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW")["Attributes"]
    assert created == {"pk": {"S": "fresh"}, "c": {"N": "1"}}
    key = dict(TableName="items", Key={"pk": {"S": "u"}})
    _fails(ddb.update_item, message="Cannot update attribute pk. This attribute is part of the key",
           UpdateExpression="SET pk = :v", ExpressionAttributeValues={":v": {"S": "x"}}, **key)
    _fails(ddb.update_item, message="An operand in the update expression has an incorrect data type",
           UpdateExpression="SET n = n + :v", ExpressionAttributeValues={":v": {"S": "x"}}, **key)
    _fails(ddb.update_item, message="The provided expression refers to an attribute that does not exist in the item",
           UpdateExpression="SET n = nope + :v", ExpressionAttributeValues={":v": {"N": "1"}}, **key)
    _fails(ddb.update_item, message="The document path provided in the update expression is invalid for update",
           UpdateExpression="SET nope.deeper = :v", ExpressionAttributeValues={":v": {"N": "1"}}, **key)
    _fails(ddb.update_item, message="Two document paths overlap with each other",
           UpdateExpression="SET m.a = :v, m = :v", ExpressionAttributeValues={":v": {"N": "1"}}, **key)
    _fails(ddb.update_item, "ConditionalCheckFailedException", UpdateExpression="SET n = :v",
           ConditionExpression="n = :other", ExpressionAttributeValues={":v": {"N": "1"}, ":other": {"N": "99"}}, **key)


def test_resource_api(endpoint, make_client):
    make_client("dynamodb").create_table(
        TableName="resource-api", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}], BillingMode="PAY_PER_REQUEST")
    table = boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test").Table("resource-api")
    table.put_item(Item={"id": 1, "tags": {"a", "b"}, "price": Decimal("9.99"), "raw": b"\x00\x01"})
    item = table.get_item(Key={"id": 1})["Item"]
    assert item == {"id": 1, "tags": {"a", "b"}, "price": Decimal("9.99"), "raw": boto3.dynamodb.types.Binary(b"\x00\x01")}
    with table.batch_writer() as batch:
        for i in range(2, 40):
            batch.put_item(Item={"id": i})
    assert table.scan(Select="COUNT")["Count"] == 39


def test_parameter_rules(ddb):
    key = dict(TableName="items", Key={"pk": {"S": "p"}})
    _fails(ddb.get_item, message="Can not use both expression and non-expression parameters in the same request",
           ProjectionExpression="a", AttributesToGet=["a"], **key)
    _fails(ddb.get_item, message="ExpressionAttributeNames can only be specified when using expressions",
           ExpressionAttributeNames={"#a": "a"}, **key)
    _fails(ddb.delete_item, message="ExpressionAttributeValues must not be empty",
           ConditionExpression="attribute_exists(a)", ExpressionAttributeValues={}, **key)
    _fails(ddb.delete_item, message="ExpressionAttributeValues contains invalid value",
           ConditionExpression="a = :v", ExpressionAttributeValues={":v": {"SS": []}}, **key)
    _fails(ddb.delete_item, message="Value cannot be used when Exists is false for Attribute: a",
           Expected={"a": {"Exists": False, "Value": {"N": "1"}}}, **key)
    ddb.put_item(TableName="items", Item={"pk": {"S": "p"}, "a": {"N": "1"}, "b": {"N": "2"}})
    assert ddb.get_item(AttributesToGet=["a"], **key)["Item"] == {"a": {"N": "1"}}
