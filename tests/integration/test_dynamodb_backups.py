"""DynamoDB backups, point-in-time recovery and durable transaction tokens."""

from __future__ import annotations

import time
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.helpers import internal_call

KEYS = dict(KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"}])


@pytest.fixture(scope="module")
def ddb(make_client):
    return make_client("dynamodb")


def _error(excinfo) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def _items(ddb, table: str) -> list:
    return sorted((i["pk"]["S"], i["sk"]["N"], i.get("v", {}).get("S")) for i in ddb.scan(TableName=table)["Items"])


def test_backup_describe_list_restore_delete(ddb):
    ddb.create_table(TableName="bk-src", BillingMode="PAY_PER_REQUEST", Tags=[{"Key": "k", "Value": "v"}], **KEYS)
    for n in range(5):
        ddb.put_item(TableName="bk-src", Item={"pk": {"S": "p"}, "sk": {"N": str(n)}, "v": {"S": f"v{n}"}})
    details = ddb.create_backup(TableName="bk-src", BackupName="first")["BackupDetails"]
    arn = details["BackupArn"]
    assert arn.startswith("arn:aws:dynamodb:us-east-1:000000000000:table/bk-src/backup/")
    assert details["BackupStatus"] == "AVAILABLE" and details["BackupType"] == "USER" and details["BackupSizeBytes"] > 0
    ddb.put_item(TableName="bk-src", Item={"pk": {"S": "p"}, "sk": {"N": "99"}})  # after the backup
    ddb.delete_item(TableName="bk-src", Key={"pk": {"S": "p"}, "sk": {"N": "0"}})

    described = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
    assert described["SourceTableDetails"]["TableName"] == "bk-src"
    assert described["SourceTableDetails"]["ItemCount"] == 5
    assert described["SourceTableDetails"]["BillingMode"] == "PAY_PER_REQUEST"
    second = ddb.create_backup(TableName="bk-src", BackupName="second")["BackupDetails"]["BackupArn"]
    listed = ddb.list_backups(TableName="bk-src")["BackupSummaries"]
    assert [b["BackupName"] for b in listed] == ["first", "second"]
    page = ddb.list_backups(TableName="bk-src", Limit=1)
    assert page["LastEvaluatedBackupArn"] == arn
    rest = ddb.list_backups(TableName="bk-src", ExclusiveStartBackupArn=page["LastEvaluatedBackupArn"])
    assert [b["BackupArn"] for b in rest["BackupSummaries"]] == [second]

    restored = ddb.restore_table_from_backup(TargetTableName="bk-copy", BackupArn=arn)["TableDescription"]
    assert restored["TableName"] == "bk-copy" and restored["RestoreSummary"]["SourceBackupArn"] == arn
    assert restored["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert _items(ddb, "bk-copy") == [("p", str(n), f"v{n}") for n in range(5)]
    copy_arn = restored["TableArn"]
    assert ddb.list_tags_of_resource(ResourceArn=copy_arn)["Tags"] == []  # tags are not restored
    with pytest.raises(ClientError) as excinfo:
        ddb.restore_table_from_backup(TargetTableName="bk-copy", BackupArn=arn)
    assert _error(excinfo) == ("TableAlreadyExistsException", "Table already exists: bk-copy")

    # A backup outlives its table.
    ddb.delete_table(TableName="bk-src")
    assert ddb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupName"] == "first"
    gone = ddb.delete_backup(BackupArn=arn)["BackupDescription"]
    assert gone["BackupDetails"]["BackupStatus"] == "DELETED"
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_backup(BackupArn=arn)
    assert _error(excinfo) == ("BackupNotFoundException", f"Backup not found: {arn}")
    with pytest.raises(ClientError) as excinfo:
        ddb.create_backup(TableName="bk-src", BackupName="again")
    assert _error(excinfo) == ("TableNotFoundException", "Table not found: bk-src")


def test_restore_keeps_indexes(ddb):
    ddb.create_table(TableName="bk-idx", BillingMode="PAY_PER_REQUEST",
                     KeySchema=KEYS["KeySchema"],
                     AttributeDefinitions=KEYS["AttributeDefinitions"] + [{"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                              "Projection": {"ProjectionType": "ALL"}}])
    ddb.put_item(TableName="bk-idx", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "x"}})
    arn = ddb.create_backup(TableName="bk-idx", BackupName="idx")["BackupDetails"]["BackupArn"]
    features = ddb.describe_backup(BackupArn=arn)["BackupDescription"]["SourceTableFeatureDetails"]
    assert [g["IndexName"] for g in features["GlobalSecondaryIndexes"]] == ["by-g"]
    ddb.restore_table_from_backup(TargetTableName="bk-idx-copy", BackupArn=arn)
    table = ddb.describe_table(TableName="bk-idx-copy")["Table"]
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["by-g"]
    found = ddb.query(TableName="bk-idx-copy", IndexName="by-g", KeyConditionExpression="g = :g",
                      ExpressionAttributeValues={":g": {"S": "x"}})
    assert found["Count"] == 1


def test_point_in_time_recovery(ddb):
    ddb.create_table(TableName="pitr-src", BillingMode="PAY_PER_REQUEST", **KEYS)
    off = ddb.describe_continuous_backups(TableName="pitr-src")["ContinuousBackupsDescription"]
    assert off["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    with pytest.raises(ClientError) as excinfo:
        ddb.restore_table_to_point_in_time(SourceTableName="pitr-src", TargetTableName="pitr-x", UseLatestRestorableTime=True)
    assert _error(excinfo) == ("PointInTimeRecoveryUnavailableException",
                               "Point in time recovery is not enabled for table 'pitr-src'")
    on = ddb.update_continuous_backups(TableName="pitr-src", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7})["ContinuousBackupsDescription"]
    pitr = on["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED" and pitr["RecoveryPeriodInDays"] == 7
    ddb.put_item(TableName="pitr-src", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "one"}})
    ddb.put_item(TableName="pitr-src", Item={"pk": {"S": "a"}, "sk": {"N": "2"}, "v": {"S": "two"}})
    time.sleep(0.05)
    # The server's clock (tests may have moved it), not this machine's.
    moment = ddb.describe_continuous_backups(TableName="pitr-src")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["LatestRestorableDateTime"]
    time.sleep(0.05)
    ddb.put_item(TableName="pitr-src", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "changed"}})
    ddb.delete_item(TableName="pitr-src", Key={"pk": {"S": "a"}, "sk": {"N": "2"}})
    ddb.put_item(TableName="pitr-src", Item={"pk": {"S": "a"}, "sk": {"N": "3"}, "v": {"S": "three"}})

    ddb.restore_table_to_point_in_time(SourceTableName="pitr-src", TargetTableName="pitr-then", RestoreDateTime=moment)
    assert _items(ddb, "pitr-then") == [("a", "1", "one"), ("a", "2", "two")]
    latest = ddb.restore_table_to_point_in_time(SourceTableName="pitr-src", TargetTableName="pitr-now",
                                                UseLatestRestorableTime=True)["TableDescription"]
    assert latest["RestoreSummary"]["SourceTableArn"].endswith(":table/pitr-src")
    assert _items(ddb, "pitr-now") == [("a", "1", "changed"), ("a", "3", "three")]
    with pytest.raises(ClientError) as excinfo:
        ddb.restore_table_to_point_in_time(SourceTableName="pitr-src", TargetTableName="pitr-old",
                                           RestoreDateTime=moment - timedelta(days=1))
    assert _error(excinfo)[0] == "InvalidRestoreTimeException"
    with pytest.raises(ClientError) as excinfo:
        ddb.update_continuous_backups(TableName="nope-table", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    assert _error(excinfo) == ("TableNotFoundException", "Table not found: nope-table")


def test_transaction_token_survives_restart(tmp_path):
    s = Server(tmp_path / "data").start()
    try:
        ddb = boto3.client("dynamodb", endpoint_url=s.endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        ddb.create_table(TableName="tok", BillingMode="PAY_PER_REQUEST", **KEYS)
        items = [{"Update": {"TableName": "tok", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}},
                             "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
        ddb.transact_write_items(TransactItems=items, ClientRequestToken="same-token")
        s.stop()
        s = Server(tmp_path / "data", port=s.port).start()
        ddb.transact_write_items(TransactItems=items, ClientRequestToken="same-token")  # not applied twice
        assert ddb.get_item(TableName="tok", Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]["n"] == {"N": "1"}
        with pytest.raises(ClientError) as excinfo:
            ddb.transact_write_items(TransactItems=[{"Update": {**items[0]["Update"], "UpdateExpression": "ADD m :one"}}],
                                     ClientRequestToken="same-token")
        assert _error(excinfo)[0] == "IdempotentParameterMismatchException"
        # Ten minutes later the token is forgotten and the request runs again.
        internal_call(s.endpoint, "POST", "/_gureum/clock", {"advance_seconds": 601})
        ddb.transact_write_items(TransactItems=items, ClientRequestToken="same-token")
        assert ddb.get_item(TableName="tok", Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]["n"] == {"N": "2"}
    finally:
        s.stop()
