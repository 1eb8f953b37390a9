"""DynamoDB tables end to end: create, describe, list, update, delete, tags, and their errors."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError


def _error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def _create(ddb, name, **extra):
    args = dict(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    args.update(extra)
    return ddb.create_table(**args)["TableDescription"]


def test_create_describe_list_delete(make_client):
    ddb = make_client("dynamodb")
    desc = _create(ddb, "tables-basic", Tags=[{"Key": "team", "Value": "a"}])
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/tables-basic"
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    got = ddb.describe_table(TableName="tables-basic")["Table"]
    assert got["ItemCount"] == 0 and got["TableSizeBytes"] == 0 and got["TableId"] == desc["TableId"]
    ddb.put_item(TableName="tables-basic", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    assert ddb.describe_table(TableName="tables-basic")["Table"]["ItemCount"] == 1
    assert "tables-basic" in ddb.list_tables()["TableNames"]
    tags = ddb.list_tags_of_resource(ResourceArn=desc["TableArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "a"}]
    ddb.tag_resource(ResourceArn=desc["TableArn"], Tags=[{"Key": "x", "Value": "y"}])
    ddb.untag_resource(ResourceArn=desc["TableArn"], TagKeys=["team"])
    assert ddb.list_tags_of_resource(ResourceArn=desc["TableArn"])["Tags"] == [{"Key": "x", "Value": "y"}]
    with pytest.raises(ClientError) as excinfo:
        _create(ddb, "tables-basic")
    assert _error(excinfo) == ("ResourceInUseException", "Table already exists: tables-basic")
    assert ddb.delete_table(TableName="tables-basic")["TableDescription"]["TableStatus"] == "DELETING"
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_table(TableName="tables-basic")
    assert _error(excinfo)[0] == "ResourceNotFoundException"
    # The region is a real dimension.
    _create(ddb, "tables-region")
    assert "tables-region" not in make_client("dynamodb", region="eu-west-1").list_tables()["TableNames"]


def test_list_tables_paging(make_client):
    ddb = make_client("dynamodb", region="ap-south-1")
    for i in range(5):
        _create(ddb, f"page-{i}")
    first = ddb.list_tables(Limit=2)
    assert first["TableNames"] == ["page-0", "page-1"] and first["LastEvaluatedTableName"] == "page-1"
    rest = ddb.list_tables(ExclusiveStartTableName="page-1")
    assert rest["TableNames"] == ["page-2", "page-3", "page-4"] and "LastEvaluatedTableName" not in rest


def test_create_table_validation(make_client):
    ddb = make_client("dynamodb")
    cases = [
        (dict(AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}]),
         "Some index key attributes are not defined in AttributeDefinitions"),
        (dict(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                    {"AttributeName": "x", "AttributeType": "S"}]),
         "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"),
        (dict(BillingMode="PROVISIONED"), "ReadCapacityUnits and WriteCapacityUnits must both be specified"),
        (dict(ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}),
         "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"),
        (dict(KeySchema=[{"AttributeName": "pk", "KeyType": "RANGE"}]), "The first KeySchemaElement is not a HASH key type"),
        (dict(GlobalSecondaryIndexes=[{"IndexName": "gsi", "KeySchema": [{"AttributeName": "nope", "KeyType": "HASH"}],
                                       "Projection": {"ProjectionType": "ALL"}}]),
         "Some index key attributes are not defined in AttributeDefinitions. Keys: [nope], AttributeDefinitions: [pk]"),
    ]
    for extra, message in cases:
        with pytest.raises(ClientError) as excinfo:
            _create(ddb, "bad-table", **extra)
        code, text = _error(excinfo)
        assert code == "ValidationException" and message in text, text
    assert "bad-table" not in ddb.list_tables()["TableNames"]


def test_update_table_and_deletion_protection(make_client):
    ddb = make_client("dynamodb")
    _create(ddb, "protected", DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as excinfo:
        ddb.delete_table(TableName="protected")
    assert _error(excinfo) == ("ValidationException", "Resource cannot be deleted as it is currently protected "
                               "against deletion. Disable deletion protection first.")
    desc = ddb.update_table(TableName="protected", BillingMode="PROVISIONED",
                            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3})["TableDescription"]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    ddb.update_table(TableName="protected", DeletionProtectionEnabled=False)
    ddb.delete_table(TableName="protected")


def test_cli_terraform_lock_table(aws_cli):
    aws_cli("dynamodb", "create-table", "--table-name", "tf-locks",
            "--attribute-definitions", "AttributeName=LockID,AttributeType=S",
            "--key-schema", "AttributeName=LockID,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST", expect_ok=True)
    aws_cli("dynamodb", "put-item", "--table-name", "tf-locks", "--item", '{"LockID": {"S": "state/lock"}}',
            "--condition-expression", "attribute_not_exists(LockID)", expect_ok=True)
    code, _, err = aws_cli("dynamodb", "put-item", "--table-name", "tf-locks", "--item", '{"LockID": {"S": "state/lock"}}',
                           "--condition-expression", "attribute_not_exists(LockID)")
    assert code != 0 and "ConditionalCheckFailedException" in err
    _, out, _ = aws_cli("dynamodb", "describe-table", "--table-name", "tf-locks", expect_ok=True)
    assert json.loads(out)["Table"]["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
