"""DynamoDB Query, Scan, batches, transactions and consumed capacity end to end."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def ddb(make_client):
    client = make_client("dynamodb")
    client.create_table(TableName="events", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "N"}],
                        BillingMode="PAY_PER_REQUEST")
    for n in ["-10", "-2.5", "0", "1", "2", "10", "100", "1e3"]:
        client.put_item(TableName="events", Item={"pk": {"S": "p"}, "sk": {"N": n}, "odd": {"BOOL": n in ("1", "-2.5")}})
    client.put_item(TableName="events", Item={"pk": {"S": "other"}, "sk": {"N": "5"}})
    return client


def _sks(resp):
    return [i["sk"]["N"] for i in resp["Items"]]


def test_query_order_and_conditions(ddb):
    q = dict(TableName="events", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert _sks(ddb.query(**q)) == ["-10", "-2.5", "0", "1", "2", "10", "100", "1000"]
    assert _sks(ddb.query(ScanIndexForward=False, **q))[0] == "1000"
    between = ddb.query(TableName="events", KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                        ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "-2.5"}, ":b": {"N": "10"}})
    assert _sks(between) == ["-2.5", "0", "1", "2", "10"]
    less = ddb.query(TableName="events", KeyConditionExpression="pk = :p AND sk < :a",
                     ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "0"}})
    assert _sks(less) == ["-10", "-2.5"]
    filtered = ddb.query(FilterExpression="odd = :t", **dict(q, ExpressionAttributeValues={":p": {"S": "p"}, ":t": {"BOOL": True}}))
    assert _sks(filtered) == ["-2.5", "1"] and filtered["ScannedCount"] == 8
    count = ddb.query(Select="COUNT", **q)
    assert count["Count"] == 8 and "Items" not in count


def test_query_paging(ddb):
    q = dict(TableName="events", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}, Limit=3)
    seen, start = [], None
    while True:
        page = ddb.query(**q, **({"ExclusiveStartKey": start} if start else {}))
        seen += _sks(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == ["-10", "-2.5", "0", "1", "2", "10", "100", "1000"]
    paginator = ddb.get_paginator("query")
    pages = list(paginator.paginate(TableName="events", KeyConditionExpression="pk = :p",
                                    ExpressionAttributeValues={":p": {"S": "p"}}, ScanIndexForward=False,
                                    PaginationConfig={"PageSize": 5}))
    assert [s for p in pages for s in _sks(p)][:2] == ["1000", "100"]


def test_query_errors(ddb):
    def fails(message, **kwargs):
        with pytest.raises(ClientError) as excinfo:
            ddb.query(TableName="events", **kwargs)
        assert excinfo.value.response["Error"]["Code"] == "ValidationException"
        assert message in excinfo.value.response["Error"]["Message"]
    fails("Query condition missed key schema element: pk", KeyConditionExpression="sk = :a",
          ExpressionAttributeValues={":a": {"N": "1"}})
    fails("Invalid operator used in KeyConditionExpression: OR", KeyConditionExpression="pk = :a OR pk = :a",
          ExpressionAttributeValues={":a": {"S": "p"}})
    fails("Condition parameter type does not match schema type", KeyConditionExpression="pk = :a",
          ExpressionAttributeValues={":a": {"N": "1"}})


def test_scan_segments_and_capacity(ddb):
    everything = ddb.scan(TableName="events", ReturnConsumedCapacity="TOTAL")
    assert everything["Count"] == 9 and everything["ConsumedCapacity"]["CapacityUnits"] == 0.5
    parts = [ddb.scan(TableName="events", Segment=i, TotalSegments=3)["Count"] for i in range(3)]
    assert sum(parts) == 9
    seen, start = 0, None
    while True:
        page = ddb.scan(TableName="events", Limit=2, **({"ExclusiveStartKey": start} if start else {}))
        seen += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == 9
    put = ddb.put_item(TableName="events", Item={"pk": {"S": "cap"}, "sk": {"N": "1"}, "v": {"S": "x" * 1500}},
                       ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert put["CapacityUnits"] == 2.0 and put["Table"]["CapacityUnits"] == 2.0
    get = ddb.get_item(TableName="events", Key={"pk": {"S": "cap"}, "sk": {"N": "1"}}, ConsistentRead=True,
                       ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert get["CapacityUnits"] == 1.0


def test_batches(ddb):
    writes = [{"PutRequest": {"Item": {"pk": {"S": "batch"}, "sk": {"N": str(i)}}}} for i in range(25)]
    assert ddb.batch_write_item(RequestItems={"events": writes})["UnprocessedItems"] == {}
    keys = [{"pk": {"S": "batch"}, "sk": {"N": str(i)}} for i in range(30)]
    got = ddb.batch_get_item(RequestItems={"events": {"Keys": keys}})
    assert len(got["Responses"]["events"]) == 25 and got["UnprocessedKeys"] == {}
    with pytest.raises(ClientError) as excinfo:
        ddb.batch_write_item(RequestItems={"events": writes + writes[:1]})
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"


def test_transactions(ddb):
    key = {"pk": {"S": "tx"}, "sk": {"N": "1"}}
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "events", "Item": {**key, "v": {"N": "1"}}}},
        {"Put": {"TableName": "events", "Item": {"pk": {"S": "tx"}, "sk": {"N": "2"}}}},
    ], ClientRequestToken="token-1")
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "events", "Key": key, "UpdateExpression": "SET v = :n",
                        "ExpressionAttributeValues": {":n": {"N": "2"}}}},
            {"ConditionCheck": {"TableName": "events", "Key": {"pk": {"S": "tx"}, "sk": {"N": "2"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    err = excinfo.value.response
    assert err["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in err["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    got = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "events", "Key": key}}])
    assert got["Responses"][0]["Item"]["v"] == {"N": "1"}
    # The same token with the same request is answered again without writing twice.
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "events", "Item": {**key, "v": {"N": "1"}}}},
        {"Put": {"TableName": "events", "Item": {"pk": {"S": "tx"}, "sk": {"N": "2"}}}},
    ], ClientRequestToken="token-1")
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=[{"Delete": {"TableName": "events", "Key": key}}],
                                 ClientRequestToken="token-1")
    assert excinfo.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_one_megabyte_pages(make_client):
    ddb = make_client("dynamodb")
    ddb.create_table(TableName="big-items", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     BillingMode="PAY_PER_REQUEST")
    for i in range(4):
        ddb.put_item(TableName="big-items", Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "v": {"S": "x" * 390_000}})
    first = ddb.query(TableName="big-items", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
                      Select="COUNT")
    assert first["Count"] == 3 and first["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "2"}}
    rest = ddb.scan(TableName="big-items", ExclusiveStartKey=first["LastEvaluatedKey"], Select="COUNT")
    assert rest["Count"] == 1 and "LastEvaluatedKey" not in rest


def test_placeholder_keys_are_checked(ddb):
    with pytest.raises(ClientError) as excinfo:
        ddb.query(TableName="events", KeyConditionExpression="pk = :p", ExpressionAttributeValues={"p": {"S": "p"}})
    assert excinfo.value.response["Error"]["Message"] == 'ExpressionAttributeValues contains invalid key: Syntax error; key: "p"'
