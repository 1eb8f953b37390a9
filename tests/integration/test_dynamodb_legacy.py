"""DynamoDB's legacy parameters: Expected, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter,
ConditionalOperator and AttributesToGet."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def ddb(make_client):
    client = make_client("dynamodb")
    client.create_table(TableName="legacy", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "N"}],
                        BillingMode="PAY_PER_REQUEST")
    for n in range(6):
        client.put_item(TableName="legacy", Item={"pk": {"S": "p"}, "sk": {"N": str(n)}, "n": {"N": str(n * 10)},
                                                  "tag": {"S": f"tag-{n % 2}"}})
    return client


def _fails(call, code: str, message: str, **kwargs):
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    got = (excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"])
    assert got == (code, message), got
    return excinfo


def test_expected_on_writes(ddb):
    key = {"pk": {"S": "e"}, "sk": {"N": "1"}}
    ddb.put_item(TableName="legacy", Item={**key, "v": {"N": "1"}}, Expected={"pk": {"Exists": False}})
    _fails(ddb.put_item, "ConditionalCheckFailedException", "The conditional request failed",
           TableName="legacy", Item=key, Expected={"pk": {"Exists": False}})
    ddb.put_item(TableName="legacy", Item={**key, "v": {"N": "2"}}, Expected={"v": {"Value": {"N": "1"}}})
    ddb.put_item(TableName="legacy", Item={**key, "v": {"N": "3"}},
                 Expected={"v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "100"}]},
                           "nothing": {"ComparisonOperator": "NULL"}}, ConditionalOperator="OR")
    _fails(ddb.delete_item, "ConditionalCheckFailedException", "The conditional request failed", TableName="legacy",
           Key=key, Expected={"v": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "5"}, {"N": "9"}]}})
    ddb.delete_item(TableName="legacy", Key=key, Expected={"v": {"ComparisonOperator": "IN",
                                                                  "AttributeValueList": [{"N": "2"}, {"N": "3"}]}})
    assert "Item" not in ddb.get_item(TableName="legacy", Key=key)


def test_expected_errors(ddb):
    item = {"pk": {"S": "x"}, "sk": {"N": "1"}}
    bad = "One or more parameter values were invalid: "
    _fails(ddb.put_item, "ValidationException", bad + "Value must be provided when Exists is true for Attribute: a",
           TableName="legacy", Item=item, Expected={"a": {"Exists": True}})
    _fails(ddb.put_item, "ValidationException", bad + "Value cannot be used when Exists is false for Attribute: a",
           TableName="legacy", Item=item, Expected={"a": {"Exists": False, "Value": {"S": "v"}}})
    _fails(ddb.put_item, "ValidationException", bad + "Invalid number of argument(s) for the EQ ComparisonOperator",
           TableName="legacy", Item=item, Expected={"a": {"ComparisonOperator": "EQ",
                                                        "AttributeValueList": [{"S": "1"}, {"S": "2"}]}})
    _fails(ddb.put_item, "ValidationException", "Can not use both expression and non-expression parameters in the same "
           "request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
           TableName="legacy", Item=item, Expected={"a": {"Exists": False}}, ConditionExpression="attribute_not_exists(a)")


def test_attribute_updates(ddb):
    key = {"pk": {"S": "u"}, "sk": {"N": "1"}}
    ddb.update_item(TableName="legacy", Key=key, AttributeUpdates={
        "s": {"Value": {"S": "hello"}},
        "count": {"Action": "ADD", "Value": {"N": "5"}},
        "set": {"Action": "ADD", "Value": {"SS": ["a", "b"]}},
        "list": {"Action": "ADD", "Value": {"L": [{"N": "1"}]}},
    })
    out = ddb.update_item(TableName="legacy", Key=key, ReturnValues="ALL_NEW", AttributeUpdates={
        "s": {"Action": "DELETE"},
        "count": {"Action": "ADD", "Value": {"N": "-2"}},
        "set": {"Action": "DELETE", "Value": {"SS": ["a"]}},
        "list": {"Action": "ADD", "Value": {"L": [{"N": "2"}]}},
    }, Expected={"count": {"Value": {"N": "5"}}})
    assert out["Attributes"] == {**key, "count": {"N": "3"}, "set": {"SS": ["b"]}, "list": {"L": [{"N": "1"}, {"N": "2"}]}}
    bad = "One or more parameter values were invalid: "
    _fails(ddb.update_item, "ValidationException", bad + "Only DELETE action is allowed when no attribute value is specified",
           TableName="legacy", Key=key, AttributeUpdates={"a": {"Action": "PUT"}})
    _fails(ddb.update_item, "ValidationException", bad + "ADD action is not supported for the type S",
           TableName="legacy", Key=key, AttributeUpdates={"a": {"Action": "ADD", "Value": {"S": "x"}}})
    _fails(ddb.update_item, "ValidationException", bad + "DELETE action with value is not supported for the type N",
           TableName="legacy", Key=key, AttributeUpdates={"a": {"Action": "DELETE", "Value": {"N": "1"}}})
    _fails(ddb.update_item, "ValidationException", bad + "Cannot update attribute sk. This attribute is part of the key",
           TableName="legacy", Key=key, AttributeUpdates={"sk": {"Value": {"N": "2"}}})


def test_key_conditions_and_query_filter(ddb):
    out = ddb.query(TableName="legacy", KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
        "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "4"}]}},
        QueryFilter={"tag": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "tag-1"}]}},
        AttributesToGet=["sk", "n"])
    assert out["Items"] == [{"sk": {"N": "1"}, "n": {"N": "10"}}, {"sk": {"N": "3"}, "n": {"N": "30"}}]
    assert out["ScannedCount"] == 4
    out = ddb.query(TableName="legacy", KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
                    QueryFilter={"n": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "40"}]},
                                 "tag": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "tag-0"}]}},
                    ConditionalOperator="OR")
    assert [i["sk"]["N"] for i in out["Items"]] == ["0", "2", "4", "5"]
    # KeyConditions may be used with a FilterExpression.
    out = ddb.query(TableName="legacy", KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
                    FilterExpression="n > :n", ExpressionAttributeValues={":n": {"N": "40"}})
    assert [i["sk"]["N"] for i in out["Items"]] == ["5"]
    _fails(ddb.query, "ValidationException", "Attempted conditional constraint is not an indexable operation",
           TableName="legacy", KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
                                              "sk": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "1"}]}})
    _fails(ddb.query, "ValidationException", "Query key condition not supported",
           TableName="legacy", KeyConditions={"pk": {"ComparisonOperator": "GT", "AttributeValueList": [{"S": "p"}]}})
    _fails(ddb.query, "ValidationException",
           "One or more parameter values were invalid: ComparisonOperator GT is not valid for SS AttributeValue type",
           TableName="legacy", KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
           QueryFilter={"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"SS": ["a"]}]}})


def test_scan_filter_and_attributes_to_get(ddb):
    out = ddb.scan(TableName="legacy", ScanFilter={
        "tag": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "tag-0"}]},
        "n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "30"}]}})
    assert sorted(i["sk"]["N"] for i in out["Items"]) == ["0", "2"]
    out = ddb.scan(TableName="legacy", ScanFilter={"n": {"ComparisonOperator": "NOT_NULL"},
                                                   "tag": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "-1"}]}})
    assert sorted(i["sk"]["N"] for i in out["Items"]) == ["1", "3", "5"]
    got = ddb.get_item(TableName="legacy", Key={"pk": {"S": "p"}, "sk": {"N": "1"}}, AttributesToGet=["tag"])
    assert got["Item"] == {"tag": {"S": "tag-1"}}
    _fails(ddb.scan, "ValidationException",
           "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
           TableName="legacy", ScanFilter={"n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "5"}, {"N": "1"}]}})
