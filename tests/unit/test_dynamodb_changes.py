"""DynamoDB index rows, the item collection limit, and stream events on the bus, in process."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from gureum.config import Settings
from gureum.context import ANONYMOUS, RequestContext
from gureum.gateway.runtime import Runtime
from gureum.policy.actions_dynamodb import set_partition_key_lookup
from gureum.protocol.errors import ServiceError
from gureum.services.dynamodb import indexes
from gureum.services.dynamodb.tables import Table


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime(Settings(data_dir=tmp_path / "data"))
    yield rt
    rt.close()
    set_partition_key_lookup(None)  # the provider registered its closed store for the authorizer


def _ctx() -> RequestContext:
    return RequestContext("r", "dynamodb", "us-east-1", principal=replace(ANONYMOUS, account_id="000000000000"))


def _table(**extra) -> Table:
    return Table(account_id="1", region="r", name="t", table_id="id", created=0,
                 key_schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                 attribute_definitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                        {"AttributeName": "g", "AttributeType": "N"}], **extra)


def test_collection_limit_check():
    indexes.check_collection_size(indexes.COLLECTION_LIMIT_BYTES)
    with pytest.raises(ServiceError) as excinfo:
        indexes.check_collection_size(indexes.COLLECTION_LIMIT_BYTES + 1)
    assert excinfo.value.code == "ItemCollectionSizeLimitExceededException"
    assert indexes.size_estimate_gb(0) == [0.0, 1.0]
    assert indexes.size_estimate_gb(3 * 1024 ** 3 + 5) == [3.0, 4.0]


def test_index_rows_are_sparse_projected_and_typed():
    gsi = {"IndexName": "by-g", "Global": True, "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]}, "IndexStatus": "ACTIVE"}
    table = _table(indexes=[gsi])
    assert indexes.index_rows(table, {"pk": {"S": "x"}}, strict=True) == []
    (row,) = indexes.index_rows(table, {"pk": {"S": "x"}, "g": {"N": "5"}, "a": {"S": "1"}, "b": {"S": "2"}}, strict=True)
    assert row[0] == "by-g" and row[2] == b"" and row[3] == {"pk": {"S": "x"}, "g": {"N": "5"}, "a": {"S": "1"}}
    with pytest.raises(ServiceError) as excinfo:
        indexes.index_rows(table, {"pk": {"S": "x"}, "g": {"S": "5"}}, strict=True)
    assert "Type mismatch for Index Key g Expected: N Actual: S IndexName: by-g" in excinfo.value.message
    assert indexes.index_rows(table, {"pk": {"S": "x"}, "g": {"S": "5"}}, strict=False) == []


def test_stream_records_reach_the_bus_after_commit(runtime):
    ddb = runtime.provider_by_name("dynamodb")
    seen = []
    runtime.events.subscribe("dynamodb:stream", lambda name, payload: seen.append(payload))
    ctx = _ctx()
    ddb.create_table(ctx, {"TableName": "bus", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                           "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                                    {"AttributeName": "g", "AttributeType": "S"}],
                           "GlobalSecondaryIndexes": [{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                                       "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}],
                           "BillingMode": "PAY_PER_REQUEST",
                           "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}})

    async def writes():
        ddb.put_item(ctx, {"TableName": "bus", "Item": {"pk": {"S": "a"}}})
        assert seen == []  # published once the operation has returned, after its commit
        await asyncio.sleep(0)
        with pytest.raises(ServiceError):  # a batch that fails rolls back, and its record is never announced
            ddb.batch_write_item(ctx, {"RequestItems": {"bus": [
                {"PutRequest": {"Item": {"pk": {"S": "b"}}}},
                {"PutRequest": {"Item": {"pk": {"S": "c"}, "g": {"N": "1"}}}}]}})  # wrong index key type
        await asyncio.sleep(0)
    asyncio.run(writes())
    assert [p["record"]["eventName"] for p in seen] == ["INSERT"]
    assert ddb.get_item(ctx, {"TableName": "bus", "Key": {"pk": {"S": "b"}}}) == {}
    assert seen[0]["record"]["eventSourceARN"] == seen[0]["stream_arn"]
    assert seen[0]["record"]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}}
