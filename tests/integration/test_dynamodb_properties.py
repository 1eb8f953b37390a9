"""Query order and paging against a reference model, for random range keys of every type."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

_partitions = itertools.count()

numbers = st.tuples(st.integers(-(10**12), 10**12), st.integers(-20, 20)).map(lambda t: str(Decimal(t[0]).scaleb(t[1])))
KEYS = {
    "S": (st.text(min_size=1, max_size=8), lambda v: v.encode()),
    "N": (numbers, Decimal),
    "B": (st.binary(min_size=1, max_size=8), lambda v: v),
}


@pytest.fixture(scope="module")
def ddb(make_client):
    client = make_client("dynamodb")
    for kind in KEYS:
        client.create_table(TableName=f"prop-{kind}", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                                 {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": kind}],
                            BillingMode="PAY_PER_REQUEST")
    return client


@pytest.mark.parametrize("kind", list(KEYS))
def test_query_order_and_paging_match_a_model(ddb, kind):
    values, order_key = KEYS[kind]

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(values, min_size=1, max_size=30), st.integers(1, 7), st.booleans())
    def check(keys, limit, forward):
        pk = f"p{next(_partitions)}"
        unique = {order_key(k): k for k in keys}
        for k in unique.values():
            ddb.put_item(TableName=f"prop-{kind}", Item={"pk": {"S": pk}, "sk": {kind: k}})
        expected = [unique[o] for o in sorted(unique, reverse=not forward)]
        got, start = [], None
        while True:
            page = ddb.query(TableName=f"prop-{kind}", KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": pk}}, Limit=limit, ScanIndexForward=forward,
                             **({"ExclusiveStartKey": start} if start else {}))
            assert len(page["Items"]) <= limit
            got += [i["sk"][kind] for i in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        if kind == "N":
            assert [Decimal(g) for g in got] == [Decimal(e) for e in expected]
        else:
            assert got == expected

    check()
