"""DynamoDB Time to Live: settings, and the sweeper deleting expired items as the service."""

from __future__ import annotations

import time
from datetime import datetime

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.helpers import internal_call


@pytest.fixture(scope="module")
def own(tmp_root):
    """A server of its own: these tests move the service clock."""
    server = Server(tmp_root / "ttl-clock").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def clients(own):
    def client(name):
        return boto3.client(name, endpoint_url=own.endpoint, region_name="us-east-1", aws_access_key_id="test",
                            aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
    return client("dynamodb"), client("dynamodbstreams")


def _error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def _server_now(own) -> float:
    return datetime.fromisoformat(internal_call(own.endpoint, "POST", "/_gureum/clock", {"advance_seconds": 0})["now"]).timestamp()


def _create(ddb, name: str, **extra):
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST", **extra)


def test_time_to_live_settings(clients):
    ddb, _ = clients
    _create(ddb, "ttl-settings")
    assert ddb.describe_time_to_live(TableName="ttl-settings")["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    out = ddb.update_time_to_live(TableName="ttl-settings", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert out["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "exp"}
    assert ddb.describe_time_to_live(TableName="ttl-settings")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    for spec, message in [({"Enabled": True, "AttributeName": "exp"}, "TimeToLive is already enabled"),
                          ({"Enabled": False, "AttributeName": "other"},
                           "TimeToLive is active on a different AttributeName: current AttributeName is exp")]:
        with pytest.raises(ClientError) as excinfo:
            ddb.update_time_to_live(TableName="ttl-settings", TimeToLiveSpecification=spec)
        assert _error(excinfo) == ("ValidationException", message)
    ddb.update_time_to_live(TableName="ttl-settings", TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"})
    with pytest.raises(ClientError) as excinfo:
        ddb.update_time_to_live(TableName="ttl-settings", TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"})
    assert _error(excinfo) == ("ValidationException", "TimeToLive is already disabled")
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_time_to_live(TableName="ttl-none")
    assert _error(excinfo)[0] == "ResourceNotFoundException"


def test_sweeper_deletes_expired_items_as_the_service(clients, own):
    ddb, streams = clients
    _create(ddb, "ttl-sweep", StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"})
    now = _server_now(own)
    # Written before TTL is enabled: enabling schedules existing items too.
    ddb.put_item(TableName="ttl-sweep", Item={"pk": {"S": "soon"}, "exp": {"N": str(int(now + 100))}})
    ddb.update_time_to_live(TableName="ttl-sweep", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ddb.put_item(TableName="ttl-sweep", Item={"pk": {"S": "later"}, "exp": {"N": str(int(now + 100_000))}})
    ddb.put_item(TableName="ttl-sweep", Item={"pk": {"S": "text"}, "exp": {"S": "1"}})  # not a Number: kept
    ddb.put_item(TableName="ttl-sweep", Item={"pk": {"S": "ancient"}, "exp": {"N": str(int(now - 6 * 365 * 86400))}})
    ddb.put_item(TableName="ttl-sweep", Item={"pk": {"S": "moved"}, "exp": {"N": str(int(now + 100))}})
    ddb.update_item(TableName="ttl-sweep", Key={"pk": {"S": "moved"}}, UpdateExpression="SET exp = :e",
                    ExpressionAttributeValues={":e": {"N": str(int(now + 100_000))}})
    internal_call(own.endpoint, "POST", "/_gureum/clock", {"advance_seconds": 200})
    deadline = time.time() + 10
    while time.time() < deadline and "Item" in ddb.get_item(TableName="ttl-sweep", Key={"pk": {"S": "soon"}}):
        time.sleep(0.1)
    left = sorted(i["pk"]["S"] for i in ddb.scan(TableName="ttl-sweep")["Items"])
    assert left == ["ancient", "later", "moved", "text"]
    arn = ddb.describe_table(TableName="ttl-sweep")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    removes = [r for r in streams.get_records(ShardIterator=it)["Records"] if r["eventName"] == "REMOVE"]
    assert len(removes) == 1
    assert removes[0]["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert removes[0]["dynamodb"]["OldImage"]["pk"] == {"S": "soon"}
