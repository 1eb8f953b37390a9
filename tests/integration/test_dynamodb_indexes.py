"""DynamoDB global and local secondary indexes end to end."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def _fails(call, code="ValidationException", message=None, **kwargs):
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    got_code, text = _error(excinfo)
    assert got_code == code, (got_code, text)
    if message is not None:
        assert text == message, text
    return text


DEFS = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
        {"AttributeName": "owner", "AttributeType": "S"}, {"AttributeName": "score", "AttributeType": "N"},
        {"AttributeName": "when", "AttributeType": "S"}]
KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]


@pytest.fixture(scope="module")
def ddb(make_client):
    client = make_client("dynamodb")
    client.create_table(
        TableName="ix-orders", KeySchema=KEYS, AttributeDefinitions=DEFS, BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {"IndexName": "by-owner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"},
                                                    {"AttributeName": "score", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]}},
            {"IndexName": "owner-all", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}},
        ],
        LocalSecondaryIndexes=[
            {"IndexName": "by-when", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                   {"AttributeName": "when", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
        ])
    for i in range(10):
        item = {"pk": {"S": f"p{i % 2}"}, "sk": {"N": str(i)}, "note": {"S": f"n{i}"}, "secret": {"S": f"s{i}"},
                "when": {"S": f"2024-01-{10 - i:02d}"}}
        if i != 9:  # sparse: item 9 has no owner, so it is in neither GSI
            item["owner"] = {"S": "alice" if i < 6 else "bob"}
            item["score"] = {"N": str(100 - i * 7)}
        client.put_item(TableName="ix-orders", Item=item)
    return client


def _q(ddb, index, cond, values, **extra):
    return ddb.query(TableName="ix-orders", IndexName=index, KeyConditionExpression=cond,
                     ExpressionAttributeValues=values, **extra)


def test_describe_shows_indexes(ddb):
    table = ddb.describe_table(TableName="ix-orders")["Table"]
    gsis = {g["IndexName"]: g for g in table["GlobalSecondaryIndexes"]}
    assert gsis["by-owner"]["IndexStatus"] == "ACTIVE" and gsis["by-owner"]["ItemCount"] == 9
    assert gsis["by-owner"]["IndexArn"] == table["TableArn"] + "/index/by-owner"
    assert gsis["by-owner"]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]}
    assert gsis["by-owner"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert gsis["owner-all"]["IndexSizeBytes"] > gsis["by-owner"]["IndexSizeBytes"] > 0
    (lsi,) = table["LocalSecondaryIndexes"]
    assert lsi["IndexName"] == "by-when" and lsi["ItemCount"] == 10 and "IndexStatus" not in lsi


def test_gsi_query_order_projection_and_sparseness(ddb):
    page = _q(ddb, "by-owner", "#o = :o", {":o": {"S": "alice"}}, ExpressionAttributeNames={"#o": "owner"})
    scores = [int(i["score"]["N"]) for i in page["Items"]]
    assert scores == sorted(scores) and len(scores) == 6
    assert set(page["Items"][0]) == {"pk", "sk", "owner", "score", "note"}  # INCLUDE: keys plus note
    legacy = ddb.query(TableName="ix-orders", IndexName="by-owner", KeyConditions={
        "owner": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "alice"}]},
        "score": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "80"}]}})
    assert [int(i["score"]["N"]) for i in legacy["Items"]] == [86, 93, 100]
    back = _q(ddb, "by-owner", "#o = :o AND score > :s", {":o": {"S": "alice"}, ":s": {"N": "80"}},
              ExpressionAttributeNames={"#o": "owner"}, ScanIndexForward=False)
    assert [int(i["score"]["N"]) for i in back["Items"]] == [100, 93, 86]
    everything = ddb.scan(TableName="ix-orders", IndexName="owner-all")
    assert everything["Count"] == 9 and all("secret" in i for i in everything["Items"])


def test_index_paging_keys(ddb):
    seen, start = [], None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = _q(ddb, "owner-all", "#o = :o", {":o": {"S": "alice"}}, ExpressionAttributeNames={"#o": "owner"},
                  Limit=4, **extra)
        seen += [i["sk"]["N"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"pk", "sk", "owner"}
    assert sorted(seen, key=int) == ["0", "1", "2", "3", "4", "5"] and len(seen) == 6
    scanned, start = [], None
    while True:
        page = ddb.scan(TableName="ix-orders", IndexName="by-owner", Limit=2, **({"ExclusiveStartKey": start} if start else {}))
        scanned += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"pk", "sk", "owner", "score"}
    assert len(scanned) == 9
    _fails(ddb.query, TableName="ix-orders", IndexName="owner-all", KeyConditionExpression="#o = :o",
           ExpressionAttributeNames={"#o": "owner"}, ExpressionAttributeValues={":o": {"S": "alice"}},
           ExclusiveStartKey={"pk": {"S": "p0"}, "sk": {"N": "0"}}, message="The provided starting key is invalid")


def test_lsi_query_fetches_from_table(ddb):
    page = _q(ddb, "by-when", "pk = :p", {":p": {"S": "p0"}})
    assert [i["when"]["S"] for i in page["Items"]] == ["2024-01-02", "2024-01-04", "2024-01-06", "2024-01-08", "2024-01-10"]
    assert set(page["Items"][0]) == {"pk", "sk", "when"}  # KEYS_ONLY
    full = _q(ddb, "by-when", "pk = :p", {":p": {"S": "p0"}}, Select="ALL_ATTRIBUTES", ConsistentRead=True)
    assert full["Items"][0]["secret"] == {"S": "s8"}
    picked = _q(ddb, "by-when", "pk = :p", {":p": {"S": "p0"}}, ProjectionExpression="secret, #w",
                ExpressionAttributeNames={"#w": "when"})
    assert picked["Items"][0] == {"secret": {"S": "s8"}, "when": {"S": "2024-01-02"}}


def test_index_read_errors(ddb):
    base = dict(TableName="ix-orders", KeyConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":o": {"S": "alice"}})
    _fails(ddb.query, IndexName="nope", **base, message="The table does not have the specified index: nope")
    _fails(ddb.query, IndexName="by-owner", ConsistentRead=True, **base,
           message="Consistent reads are not supported on global secondary indexes")
    _fails(ddb.query, IndexName="by-owner", Select="ALL_ATTRIBUTES", **base,
           message="One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for "
                   "global secondary index by-owner because its projection type is not ALL")
    _fails(ddb.query, IndexName="by-owner", ProjectionExpression="secret", **base,
           message="One or more parameter values were invalid: Global secondary index by-owner does not project [secret]")
    projected = ddb.query(IndexName="by-owner", Select="ALL_PROJECTED_ATTRIBUTES", **base)
    assert projected["Count"] == 6
    _fails(ddb.query, IndexName="by-owner", TableName="ix-orders", KeyConditionExpression="score = :s",
           ExpressionAttributeValues={":s": {"N": "1"}}, message="Query condition missed key schema element: owner")
    _fails(ddb.query, TableName="ix-orders", KeyConditionExpression="pk = :p",
           ExpressionAttributeValues={":p": {"S": "p0"}}, Select="ALL_PROJECTED_ATTRIBUTES")


def test_index_maintenance_on_every_write(ddb):
    count = lambda: _q(ddb, "owner-all", "#o = :o", {":o": {"S": "carol"}},  # noqa: E731
                       ExpressionAttributeNames={"#o": "owner"})["Count"]
    ddb.put_item(TableName="ix-orders", Item={"pk": {"S": "w"}, "sk": {"N": "1"}, "owner": {"S": "carol"}})
    assert count() == 1
    ddb.update_item(TableName="ix-orders", Key={"pk": {"S": "w"}, "sk": {"N": "1"}}, UpdateExpression="SET #o = :d",
                    ExpressionAttributeNames={"#o": "owner"}, ExpressionAttributeValues={":d": {"S": "dave"}})
    assert count() == 0
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "ix-orders", "Item": {"pk": {"S": "w"}, "sk": {"N": "2"}, "owner": {"S": "carol"}}}},
        {"Update": {"TableName": "ix-orders", "Key": {"pk": {"S": "w"}, "sk": {"N": "1"}},
                    "UpdateExpression": "SET #o = :c", "ExpressionAttributeNames": {"#o": "owner"},
                    "ExpressionAttributeValues": {":c": {"S": "carol"}}}}])
    assert count() == 2
    ddb.batch_write_item(RequestItems={"ix-orders": [
        {"DeleteRequest": {"Key": {"pk": {"S": "w"}, "sk": {"N": "1"}}}},
        {"PutRequest": {"Item": {"pk": {"S": "w"}, "sk": {"N": "3"}, "owner": {"S": "carol"}}}}]})
    assert count() == 2
    ddb.delete_item(TableName="ix-orders", Key={"pk": {"S": "w"}, "sk": {"N": "2"}})
    ddb.update_item(TableName="ix-orders", Key={"pk": {"S": "w"}, "sk": {"N": "3"}}, UpdateExpression="REMOVE #o",
                    ExpressionAttributeNames={"#o": "owner"})
    assert count() == 0


def test_index_key_type_mismatch_rejects_write(ddb):
    message = ("One or more parameter values were invalid: Type mismatch for Index Key owner Expected: S Actual: N "
               "IndexName: by-owner")
    _fails(ddb.put_item, TableName="ix-orders", Item={"pk": {"S": "t"}, "sk": {"N": "1"}, "owner": {"N": "5"}},
           message=message)
    _fails(ddb.batch_write_item, RequestItems={"ix-orders": [
        {"PutRequest": {"Item": {"pk": {"S": "t"}, "sk": {"N": "2"}}}},
        {"PutRequest": {"Item": {"pk": {"S": "t"}, "sk": {"N": "3"}, "owner": {"N": "5"}}}}]}, message=message)
    assert "Item" not in ddb.get_item(TableName="ix-orders", Key={"pk": {"S": "t"}, "sk": {"N": "2"}})
    _fails(ddb.put_item, TableName="ix-orders", Item={"pk": {"S": "t"}, "sk": {"N": "1"}, "owner": {"S": ""}})


def test_item_collection_metrics(ddb):
    out = ddb.put_item(TableName="ix-orders", Item={"pk": {"S": "p0"}, "sk": {"N": "99"}},
                       ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"]["ItemCollectionKey"] == {"pk": {"S": "p0"}}
    assert out["ItemCollectionMetrics"]["SizeEstimateRangeGB"] == [0.0, 1.0]
    ddb.delete_item(TableName="ix-orders", Key={"pk": {"S": "p0"}, "sk": {"N": "99"}})


def test_index_consumed_capacity(ddb):
    out = _q(ddb, "owner-all", "#o = :o", {":o": {"S": "bob"}}, ExpressionAttributeNames={"#o": "owner"},
             ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"]["GlobalSecondaryIndexes"]["owner-all"]["CapacityUnits"] == 0.5


def test_create_table_index_validation(make_client):
    ddb = make_client("dynamodb")
    gsi = {"IndexName": "gsi-1", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": "ALL"}}
    lsi = {"IndexName": "lsi-1", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                            {"AttributeName": "when", "KeyType": "RANGE"}],
           "Projection": {"ProjectionType": "ALL"}}
    defs = DEFS[:3]

    def create(**kw):
        args = dict(TableName="ix-bad", KeySchema=KEYS, AttributeDefinitions=defs, BillingMode="PAY_PER_REQUEST")
        args.update(kw)
        return ddb.create_table(**args)
    invalid = "One or more parameter values were invalid: "
    _fails(create, AttributeDefinitions=DEFS, GlobalSecondaryIndexes=[gsi],
           message=invalid + "Some AttributeDefinitions are not used. AttributeDefinitions: [pk, sk, owner, score, when], "
                             "keys used: [pk, sk, owner]")
    _fails(create, KeySchema=KEYS[:1], AttributeDefinitions=[DEFS[0], DEFS[4]], LocalSecondaryIndexes=[lsi],
           message=invalid + "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
    other_hash = dict(lsi, KeySchema=[{"AttributeName": "owner", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    _fails(create, LocalSecondaryIndexes=[other_hash],
           message=invalid + "Index KeySchema does not have the same leading hash key as table KeySchema for index: lsi-1. "
                             "index hash key: owner, table hash key: pk")
    _fails(create, AttributeDefinitions=DEFS[:2] + [DEFS[4]],
           LocalSecondaryIndexes=[dict(lsi, IndexName=f"lsi-{i}") for i in range(6)],
           message=invalid + "Number of LocalSecondaryIndexes exceeds per-table limit of 5")
    _fails(create, GlobalSecondaryIndexes=[dict(gsi, IndexName=f"gsi-{i:02d}") for i in range(21)],
           message=invalid + "GlobalSecondaryIndex count exceeds the per-table limit of 20")
    _fails(create, GlobalSecondaryIndexes=[gsi, gsi], message=invalid + "Duplicate index name: gsi-1")
    _fails(create, GlobalSecondaryIndexes=[dict(gsi, Projection={"ProjectionType": "ALL", "NonKeyAttributes": ["x"]})],
           message=invalid + "ProjectionType is ALL, but NonKeyAttributes is specified")
    _fails(create, BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
           GlobalSecondaryIndexes=[gsi], message=invalid + "ProvisionedThroughput must be specified for index: gsi-1")
    assert "ix-bad" not in ddb.list_tables()["TableNames"]


def test_update_table_gsi_lifecycle(make_client):
    ddb = make_client("dynamodb")
    ddb.create_table(TableName="ix-grow", KeySchema=KEYS[:1], AttributeDefinitions=DEFS[:1], BillingMode="PAY_PER_REQUEST")
    for i in range(5):
        item = {"pk": {"S": f"k{i}"}, "color": {"S": "red" if i % 2 else "blue"}}
        if i == 4:
            item["color"] = {"N": "4"}  # the wrong type: left out of the index by the backfill
        ddb.put_item(TableName="ix-grow", Item=item)
    created = ddb.update_table(
        TableName="ix-grow", AttributeDefinitions=[{"AttributeName": "color", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by-color", "KeySchema": [
            {"AttributeName": "color", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    (gsi,) = created["TableDescription"]["GlobalSecondaryIndexes"]
    assert gsi["IndexStatus"] == "CREATING" and gsi["Backfilling"] is True
    ddb.get_waiter("table_exists").wait(TableName="ix-grow")
    (gsi,) = ddb.describe_table(TableName="ix-grow")["Table"]["GlobalSecondaryIndexes"]
    assert gsi["IndexStatus"] == "ACTIVE" and gsi["ItemCount"] == 4
    reds = ddb.query(TableName="ix-grow", IndexName="by-color", KeyConditionExpression="color = :c",
                     ExpressionAttributeValues={":c": {"S": "red"}})
    assert sorted(i["pk"]["S"] for i in reds["Items"]) == ["k1", "k3"]
    _fails(ddb.update_table, TableName="ix-grow", GlobalSecondaryIndexUpdates=[{"Create": {
        "IndexName": "by-color", "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}}], message="Attempting to create an index which already exists")
    _fails(ddb.update_table, TableName="ix-grow", code="LimitExceededException", GlobalSecondaryIndexUpdates=[
        {"Delete": {"IndexName": "by-color"}},
        {"Create": {"IndexName": "other", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}}}],
           message="Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
    deleted = ddb.update_table(TableName="ix-grow", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-color"}}])
    assert deleted["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "DELETING"
    table = ddb.describe_table(TableName="ix-grow")["Table"]
    assert "GlobalSecondaryIndexes" not in table and table["AttributeDefinitions"] == DEFS[:1]
    _fails(ddb.update_table, TableName="ix-grow", code="ResourceNotFoundException",
           GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-color"}}])
    ddb.delete_table(TableName="ix-grow")


def test_aws_cli_creates_and_queries_an_index(aws_cli):
    aws_cli("dynamodb", "create-table", "--table-name", "ix-cli", "--billing-mode", "PAY_PER_REQUEST",
            "--attribute-definitions", "AttributeName=id,AttributeType=S", "AttributeName=kind,AttributeType=S",
            "--key-schema", "AttributeName=id,KeyType=HASH",
            "--global-secondary-indexes",
            '[{"IndexName":"by-kind","KeySchema":[{"AttributeName":"kind","KeyType":"HASH"}],'
            '"Projection":{"ProjectionType":"ALL"}}]', expect_ok=True)
    aws_cli("dynamodb", "put-item", "--table-name", "ix-cli", "--item", '{"id":{"S":"1"},"kind":{"S":"x"}}', expect_ok=True)
    code, out, _ = aws_cli("dynamodb", "query", "--table-name", "ix-cli", "--index-name", "by-kind",
                           "--key-condition-expression", "kind = :k",
                           "--expression-attribute-values", '{":k":{"S":"x"}}', "--output", "json", expect_ok=True)
    assert '"Count": 1' in out
