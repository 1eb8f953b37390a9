"""DynamoDB Streams: records written with each change, read through dynamodbstreams."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.helpers import internal_call


def _error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def _table(ddb, name: str, view: str | None = "NEW_AND_OLD_IMAGES", range_key: bool = False) -> dict:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    defs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        defs.append({"AttributeName": "sk", "AttributeType": "N"})
    extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": view}} if view else {}
    return ddb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=defs,
                            BillingMode="PAY_PER_REQUEST", **extra)["TableDescription"]


def _records(streams, arn: str, kind: str = "TRIM_HORIZON", **extra) -> tuple[list, str | None]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra)["ShardIterator"]
    out = streams.get_records(ShardIterator=it)
    return out["Records"], out.get("NextShardIterator")


@pytest.fixture(scope="module")
def clients(make_client):
    return make_client("dynamodb"), make_client("dynamodbstreams")


def test_records_per_change_with_images(clients):
    ddb, streams = clients
    desc = _table(ddb, "st-main")
    arn = desc["LatestStreamArn"]
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert arn == f"{desc['TableArn']}/stream/{desc['LatestStreamLabel']}"
    key = {"pk": {"S": "a"}}
    ddb.put_item(TableName="st-main", Item={**key, "v": {"N": "1"}})
    ddb.put_item(TableName="st-main", Item={**key, "v": {"N": "1"}})  # unchanged: no record
    ddb.update_item(TableName="st-main", Key=key, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "2"}})
    with pytest.raises(ClientError):
        ddb.put_item(TableName="st-main", Item={**key, "v": {"N": "9"}}, ConditionExpression="attribute_not_exists(pk)")
    ddb.delete_item(TableName="st-main", Key=key)
    ddb.delete_item(TableName="st-main", Key=key)  # nothing to delete: no record
    records, following = _records(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = records
    assert insert["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}} and "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["v"] == {"N": "1"} and modify["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert remove["dynamodb"]["Keys"] == key and "NewImage" not in remove["dynamodb"]
    assert insert["eventSource"] == "aws:dynamodb" and insert["awsRegion"] == "us-east-1"
    assert insert["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES" and insert["dynamodb"]["SizeBytes"] > 0
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert "userIdentity" not in remove
    assert streams.get_records(ShardIterator=following)["Records"] == []


def test_view_types_and_batches(clients):
    ddb, streams = clients
    arn = _table(ddb, "st-keys", view="KEYS_ONLY", range_key=True)["LatestStreamArn"]
    ddb.batch_write_item(RequestItems={"st-keys": [
        {"PutRequest": {"Item": {"pk": {"S": "x"}, "sk": {"N": str(i)}, "big": {"S": "y" * 10}}}} for i in range(3)]})
    ddb.transact_write_items(TransactItems=[
        {"Delete": {"TableName": "st-keys", "Key": {"pk": {"S": "x"}, "sk": {"N": "0"}}}},
        {"Update": {"TableName": "st-keys", "Key": {"pk": {"S": "x"}, "sk": {"N": "1"}},
                    "UpdateExpression": "REMOVE big"}}])
    records, _ = _records(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT"] * 3 + ["REMOVE", "MODIFY"]
    assert all(set(r["dynamodb"]) == {"ApproximateCreationDateTime", "Keys", "SequenceNumber", "SizeBytes",
                                      "StreamViewType"} for r in records)
    old_arn = _table(ddb, "st-old", view="OLD_IMAGE")["LatestStreamArn"]
    ddb.put_item(TableName="st-old", Item={"pk": {"S": "o"}, "n": {"N": "1"}})
    ddb.put_item(TableName="st-old", Item={"pk": {"S": "o"}, "n": {"N": "2"}})
    records, _ = _records(streams, old_arn)
    assert "OldImage" not in records[0]["dynamodb"] and records[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    assert "NewImage" not in records[1]["dynamodb"]


def test_shard_iterator_types_and_paging(clients):
    ddb, streams = clients
    arn = _table(ddb, "st-iter", view="NEW_IMAGE")["LatestStreamArn"]
    for i in range(5):
        ddb.put_item(TableName="st-iter", Item={"pk": {"S": f"k{i}"}})
    records, _ = _records(streams, arn)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    at, _ = _records(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seqs[2])
    after, _ = _records(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[2])
    assert [r["dynamodb"]["SequenceNumber"] for r in at] == seqs[2:]
    assert [r["dynamodb"]["SequenceNumber"] for r in after] == seqs[3:]
    latest, following = _records(streams, arn, "LATEST")
    assert latest == []
    ddb.put_item(TableName="st-iter", Item={"pk": {"S": "late"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=following)["Records"]] == ["late"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    got = []
    while it and len(got) < 6:
        page = streams.get_records(ShardIterator=it, Limit=2)
        assert len(page["Records"]) <= 2
        got += page["Records"]
        it = page.get("NextShardIterator")
    assert len(got) == 6


def test_list_describe_and_disable(clients):
    ddb, streams = clients
    _table(ddb, "st-life", view=None)
    assert "LatestStreamArn" not in ddb.describe_table(TableName="st-life")["Table"]
    desc = ddb.update_table(TableName="st-life", StreamSpecification={"StreamEnabled": True,
                                                                      "StreamViewType": "KEYS_ONLY"})["TableDescription"]
    arn = desc["LatestStreamArn"]
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(TableName="st-life", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    assert _error(excinfo) == ("ValidationException", "Table already has an enabled stream: TableName: st-life")
    listed = streams.list_streams(TableName="st-life")["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": "st-life", "StreamLabel": desc["LatestStreamLabel"]}]
    described = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert described["StreamStatus"] == "ENABLED" and described["StreamViewType"] == "KEYS_ONLY"
    assert described["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert "EndingSequenceNumber" not in described["Shards"][0]["SequenceNumberRange"]
    ddb.put_item(TableName="st-life", Item={"pk": {"S": "1"}})
    ddb.update_table(TableName="st-life", StreamSpecification={"StreamEnabled": False})
    table = ddb.describe_table(TableName="st-life")["Table"]
    assert "StreamSpecification" not in table and table["LatestStreamArn"] == arn
    closed = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert closed["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in closed["Shards"][0]["SequenceNumberRange"]
    ddb.put_item(TableName="st-life", Item={"pk": {"S": "2"}})  # no stream now
    records, following = _records(streams, arn)
    assert len(records) == 1 and following is None  # the closed shard is read to its end
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(TableName="st-life", StreamSpecification={"StreamEnabled": False})
    assert _error(excinfo)[0] == "ValidationException"
    first = streams.list_streams(Limit=1)
    assert len(first["Streams"]) == 1 and "LastEvaluatedStreamArn" in first
    rest = streams.list_streams(ExclusiveStartStreamArn=first["LastEvaluatedStreamArn"])
    assert first["Streams"][0] not in rest["Streams"]


def test_stream_errors(clients):
    ddb, streams = clients
    missing = "arn:aws:dynamodb:us-east-1:000000000000:table/none/stream/2024-01-01T00:00:00.000"
    with pytest.raises(ClientError) as excinfo:
        streams.describe_stream(StreamArn=missing)
    assert _error(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        streams.get_records(ShardIterator="not-an-iterator-at-all")
    assert _error(excinfo) == ("ValidationException", "Invalid ShardIterator")
    with pytest.raises(ClientError) as excinfo:
        ddb.create_table(TableName="st-bad", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST", StreamSpecification={"StreamEnabled": True})
    assert _error(excinfo)[0] == "ValidationException"


def test_aws_cli_reads_a_stream(clients, aws_cli):
    ddb, _ = clients
    arn = _table(ddb, "st-cli", view="NEW_IMAGE")["LatestStreamArn"]
    ddb.put_item(TableName="st-cli", Item={"pk": {"S": "cli"}})
    code, out, _ = aws_cli("dynamodbstreams", "list-streams", "--table-name", "st-cli", "--output", "json", expect_ok=True)
    assert arn in out


# ---- expiry and retention, on a server of their own (they move the service clock) ----

@pytest.fixture(scope="module")
def own(tmp_root):
    server = Server(tmp_root / "streams-clock").start()
    yield server
    server.stop()


def test_iterator_expiry_and_retention(own):
    def client(name):
        return boto3.client(name, endpoint_url=own.endpoint, region_name="us-east-1", aws_access_key_id="test",
                            aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
    ddb, streams = client("dynamodb"), client("dynamodbstreams")
    arn = _table(ddb, "st-clock", view="KEYS_ONLY")["LatestStreamArn"]
    ddb.put_item(TableName="st-clock", Item={"pk": {"S": "old"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    internal_call(own.endpoint, "POST", "/_gureum/clock", {"advance_seconds": 16 * 60})
    with pytest.raises(ClientError) as excinfo:
        streams.get_records(ShardIterator=it)
    code, message = _error(excinfo)
    assert code == "ExpiredIteratorException" and "tolerated delay of 900000 milliseconds" in message
    internal_call(own.endpoint, "POST", "/_gureum/clock", {"advance_seconds": 24 * 3600})
    ddb.put_item(TableName="st-clock", Item={"pk": {"S": "new"}})
    records, _ = _records(streams, arn)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["new"]
