"""DynamoDB PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction end to end."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def ddb(make_client):
    client = make_client("dynamodb")
    client.create_table(TableName="pqt", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "N"}],
                        BillingMode="PAY_PER_REQUEST")
    for n in range(10):
        client.put_item(TableName="pqt", Item={"pk": {"S": "a"}, "sk": {"N": str(n)}, "odd": {"BOOL": n % 2 == 1},
                                              "doc": {"M": {"tags": {"L": [{"S": f"t{n}"}]}, "name": {"S": f"n{n}"}}}})
    client.put_item(TableName="pqt", Item={"pk": {"S": "b"}, "sk": {"N": "1"}, "name": {"S": "bee"}})
    return client


def _error(excinfo) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_select_query_scan_projection(ddb):
    out = ddb.execute_statement(Statement='SELECT * FROM "pqt" WHERE pk = ? AND sk >= 7', Parameters=[{"S": "a"}])
    assert [i["sk"]["N"] for i in out["Items"]] == ["7", "8", "9"]
    out = ddb.execute_statement(Statement="SELECT sk, doc.tags[0] FROM pqt WHERE pk = 'a' AND odd = true ORDER BY sk DESC")
    assert [i["sk"]["N"] for i in out["Items"]] == ["9", "7", "5", "3", "1"]
    assert out["Items"][0] == {"sk": {"N": "9"}, "doc": {"M": {"tags": {"L": [{"S": "t9"}]}}}}
    scan = ddb.execute_statement(Statement="SELECT * FROM pqt WHERE name = 'bee' OR sk = 3")
    assert sorted((i["pk"]["S"], i["sk"]["N"]) for i in scan["Items"]) == [("a", "3"), ("b", "1")]
    out = ddb.execute_statement(Statement="SELECT * FROM pqt WHERE pk = 'a' AND sk BETWEEN 2 AND 4 AND sk IN [3, 4, 99]")
    assert [i["sk"]["N"] for i in out["Items"]] == ["3", "4"]
    out = ddb.execute_statement(Statement="SELECT pk FROM pqt WHERE begins_with(doc.name, 'n1') OR contains(name, 'ee')")
    assert sorted(i["pk"]["S"] for i in out["Items"]) == ["a", "b"]
    out = ddb.execute_statement(Statement="SELECT sk FROM pqt WHERE pk = 'a' AND doc IS NOT MISSING AND size(doc.tags) = 1 "
                                          "AND attribute_type(odd, 'BOOL') AND sk < 2", ConsistentRead=True)
    assert [i["sk"]["N"] for i in out["Items"]] == ["0", "1"]
    assert ddb.execute_statement(Statement="SELECT * FROM pqt WHERE name IS MISSING AND pk = 'b'")["Items"] == []


def test_select_paging_with_next_token(ddb):
    seen, token = [], None
    while True:
        out = ddb.execute_statement(Statement="SELECT sk FROM pqt WHERE pk = 'a'", Limit=4,
                                    **({"NextToken": token} if token else {}))
        seen += [i["sk"]["N"] for i in out["Items"]]
        token = out.get("NextToken")
        if not token:
            break
        assert out["LastEvaluatedKey"]["pk"] == {"S": "a"}
    assert seen == [str(n) for n in range(10)]
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement="SELECT * FROM pqt", NextToken="bm90IGEgdG9rZW4=")
    assert _error(excinfo)[0] == "ValidationException"


def test_insert_update_delete_and_returning(ddb):
    ddb.execute_statement(Statement="INSERT INTO pqt VALUE {'pk': 'w', 'sk': 1, 'n': 5, 's': <<'x', 'y'>>, "
                                    "'l': [1, 'two', null, true], 'm': {'k': ?}}", Parameters=[{"N": "7"}])
    item = ddb.get_item(TableName="pqt", Key={"pk": {"S": "w"}, "sk": {"N": "1"}})["Item"]
    assert item["s"] == {"SS": ["x", "y"]} and item["l"]["L"][2] == {"NULL": True} and item["m"]["M"]["k"] == {"N": "7"}
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement="INSERT INTO pqt VALUE {'pk': 'w', 'sk': 1}")
    assert _error(excinfo) == ("DuplicateItemException", "Duplicate primary key exists in table")

    out = ddb.execute_statement(Statement="UPDATE pqt SET n = n + 1 SET l = list_append(l, [5]) REMOVE m "
                                          "SET s = set_add(s, <<'z'>>) WHERE pk = 'w' AND sk = 1 RETURNING ALL NEW *")
    new = out["Items"][0]
    assert new["n"] == {"N": "6"} and len(new["l"]["L"]) == 5 and "m" not in new and set(new["s"]["SS"]) == {"x", "y", "z"}
    out = ddb.execute_statement(Statement="UPDATE pqt SET s = set_delete(s, <<'x'>>) WHERE pk = 'w' AND sk = 1 "
                                          "RETURNING MODIFIED OLD *")
    assert set(out["Items"][0]["s"]["SS"]) == {"x", "y", "z"} and list(out["Items"][0]) == ["s"]
    out = ddb.execute_statement(Statement="UPDATE pqt SET n = 1 WHERE pk = 'w' AND sk = 1")
    assert out["Items"] == []
    with pytest.raises(ClientError) as excinfo:  # not an upsert
        ddb.execute_statement(Statement="UPDATE pqt SET n = 1 WHERE pk = 'nobody' AND sk = 1")
    assert _error(excinfo)[0] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement="UPDATE pqt SET n = 2 WHERE pk = 'w' AND sk = 1 AND n = 99",
                              ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert _error(excinfo)[0] == "ConditionalCheckFailedException"
    assert excinfo.value.response["Item"]["n"] == {"N": "1"}
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement="UPDATE pqt SET n = 2 WHERE pk = 'w'")
    assert _error(excinfo) == ("ValidationException", "Where clause does not contain a mandatory equality on all key attributes")

    with pytest.raises(ClientError) as excinfo:
        ddb.execute_statement(Statement="DELETE FROM pqt WHERE pk = 'w' AND sk = 1 AND n = 5")
    assert _error(excinfo)[0] == "ConditionalCheckFailedException"
    out = ddb.execute_statement(Statement="DELETE FROM pqt WHERE pk = 'w' AND sk = 1 RETURNING ALL OLD *")
    assert out["Items"][0]["n"] == {"N": "1"}
    # Deleting an item that is not there succeeds.
    assert ddb.execute_statement(Statement="DELETE FROM pqt WHERE pk = 'w' AND sk = 1 AND n = 5")["Items"] == []
    assert "Item" not in ddb.get_item(TableName="pqt", Key={"pk": {"S": "w"}, "sk": {"N": "1"}})


def test_errors(ddb):
    def fails(statement, code, message, **kwargs):
        with pytest.raises(ClientError) as excinfo:
            ddb.execute_statement(Statement=statement, **kwargs)
        assert _error(excinfo) == (code, message), _error(excinfo)
    bad = "Statement wasn't well formed, can't be processed: "
    fails("SELEC * FROM pqt", "ValidationException", bad + "Expected data manipulation")
    fails("SELECT * FROM", "ValidationException", bad + "Unexpected end of statement")
    fails("SELECT * FROM pqt WHERE pk = ?", "ValidationException", "Number of parameters in request and statement don't match.")
    fails("SELECT * FROM nothere", "ResourceNotFoundException", "Requested resource not found")
    fails("SELECT * FROM pqt.idx", "ValidationException", "The table does not have the specified index: idx")
    fails("DELETE FROM pqt WHERE pk = 'a' AND sk = 1 RETURNING ALL NEW *", "ValidationException",
          "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements.")
    fails("UPDATE pqt SET pk = 'z' WHERE pk = 'a' AND sk = 1", "ValidationException",
          "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key")


def test_batch_execute_statement(ddb):
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": "INSERT INTO pqt VALUE {'pk': 'batch', 'sk': 1}"},
        {"Statement": "INSERT INTO pqt VALUE {'pk': 'a', 'sk': 1}"},
        {"Statement": "UPDATE pqt SET v = 1 WHERE pk = 'batch' AND sk = 2"},
        {"Statement": "SELEC nonsense"},
    ])["Responses"]
    assert out[0] == {"TableName": "pqt"}
    assert out[1]["Error"] == {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}
    assert out[2]["Error"]["Code"] == "ConditionalCheckFailed"
    assert out[3]["Error"]["Code"] == "ValidationError"
    reads = ddb.batch_execute_statement(Statements=[
        {"Statement": "SELECT * FROM pqt WHERE pk = ? AND sk = ?", "Parameters": [{"S": "batch"}, {"N": "1"}]},
        {"Statement": "SELECT sk FROM pqt WHERE pk = 'nobody' AND sk = 1"},
        {"Statement": "SELECT * FROM pqt WHERE pk = 'a'"},
    ])["Responses"]
    assert reads[0]["Item"] == {"pk": {"S": "batch"}, "sk": {"N": "1"}} and reads[0]["TableName"] == "pqt"
    assert reads[1] == {"TableName": "pqt"}
    assert reads[2]["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as excinfo:
        ddb.batch_execute_statement(Statements=[{"Statement": "SELECT * FROM pqt WHERE pk = 'a' AND sk = 1"},
                                                {"Statement": "DELETE FROM pqt WHERE pk = 'a' AND sk = 1"}])
    assert _error(excinfo)[0] == "ValidationException"


def test_execute_transaction(ddb):
    ddb.execute_transaction(TransactStatements=[
        {"Statement": "INSERT INTO pqt VALUE {'pk': 'tx', 'sk': 1, 'n': 1}"},
        {"Statement": "UPDATE pqt SET hit = true WHERE pk = 'a' AND sk = 0"},
        {"Statement": "EXISTS(SELECT * FROM pqt WHERE pk = 'b' AND sk = 1 AND name = 'bee')"},
    ], ClientRequestToken="tok-1")
    assert ddb.get_item(TableName="pqt", Key={"pk": {"S": "a"}, "sk": {"N": "0"}})["Item"]["hit"] == {"BOOL": True}
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": "INSERT INTO pqt VALUE {'pk': 'tx', 'sk': 1}"},
            {"Statement": "UPDATE pqt SET n = 2 WHERE pk = 'tx2' AND sk = 1"},
            {"Statement": "DELETE FROM pqt WHERE pk = 'a' AND sk = 2"},
        ])
    code, message = _error(excinfo)
    assert code == "TransactionCanceledException"
    assert message.endswith("[DuplicateItem, ConditionalCheckFailed, None]")
    reasons = excinfo.value.response["CancellationReasons"]
    assert reasons[0]["Code"] == "DuplicateItem"
    # All or nothing: the DELETE did not happen.
    assert "Item" in ddb.get_item(TableName="pqt", Key={"pk": {"S": "a"}, "sk": {"N": "2"}})
    reads = ddb.execute_transaction(TransactStatements=[
        {"Statement": "SELECT n FROM pqt WHERE pk = 'tx' AND sk = 1"},
        {"Statement": "SELECT * FROM pqt WHERE pk = 'none' AND sk = 1"},
    ])["Responses"]
    assert reads == [{"Item": {"n": {"N": "1"}}}, {}]
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_transaction(TransactStatements=[{"Statement": "SELECT * FROM pqt WHERE pk = 'tx' AND sk = 1"},
                                                    {"Statement": "DELETE FROM pqt WHERE pk = 'tx' AND sk = 1"}])
    assert _error(excinfo) == ("ValidationException",
                               "ExecuteTransaction API does not support both read and write operations in the same request.")
    # The same token with other statements within 10 minutes is refused.
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_transaction(TransactStatements=[{"Statement": "DELETE FROM pqt WHERE pk = 'tx' AND sk = 1"}],
                                ClientRequestToken="tok-1")
    assert _error(excinfo)[0] == "IdempotentParameterMismatchException"


def test_select_from_an_index(ddb):
    ddb.create_table(TableName="pq-idx", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "g", "AttributeType": "S"},
                                           {"AttributeName": "n", "AttributeType": "N"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                              "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                            {"AttributeName": "n", "KeyType": "RANGE"}]}])
    for i in range(4):
        ddb.execute_statement(Statement="INSERT INTO \"pq-idx\" VALUE {'pk': ?, 'g': ?, 'n': ?}",
                              Parameters=[{"S": f"k{i}"}, {"S": "even" if i % 2 == 0 else "odd"}, {"N": str(i)}])
    out = ddb.execute_statement(Statement='SELECT pk, n FROM "pq-idx"."by-g" WHERE g = \'even\' ORDER BY n DESC')
    assert out["Items"] == [{"pk": {"S": "k2"}, "n": {"N": "2"}}, {"pk": {"S": "k0"}, "n": {"N": "0"}}]
    out = ddb.execute_statement(Statement='SELECT pk FROM "pq-idx"."by-g" WHERE n > 1')
    assert sorted(i["pk"]["S"] for i in out["Items"]) == ["k2", "k3"]
