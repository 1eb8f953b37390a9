"""GSI Query order and paging against a reference model, with repeated index keys of every type."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.integration.test_dynamodb_properties import KEYS

_groups = itertools.count()


@pytest.fixture(scope="module")
def ddb(make_client):
    client = make_client("dynamodb")
    for kind in KEYS:
        client.create_table(
            TableName=f"ixprop-{kind}", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"},
                                  {"AttributeName": "r", "AttributeType": kind}],
            GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "KEYS_ONLY"},
                                     "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                   {"AttributeName": "r", "KeyType": "RANGE"}]}],
            BillingMode="PAY_PER_REQUEST")
    return client


@pytest.mark.parametrize("kind", list(KEYS))
def test_index_query_order_and_paging_match_a_model(ddb, kind):
    values, order_key = KEYS[kind]

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(values, min_size=1, max_size=25), st.integers(1, 6), st.booleans())
    def check(ranges, limit, forward):
        group = f"g{next(_groups)}"
        items = [(f"{group}-{n:03d}", r) for n, r in enumerate(ranges)]
        for pk, r in items:
            ddb.put_item(TableName=f"ixprop-{kind}", Item={"pk": {"S": pk}, "g": {"S": group}, "r": {kind: r}})
        # Equal index keys are ordered by the table key.
        expected = [pk for pk, _ in sorted(items, key=lambda it: (order_key(it[1]), it[0]), reverse=not forward)]
        got, start = [], None
        while True:
            page = ddb.query(TableName=f"ixprop-{kind}", IndexName="by-g", KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": {"S": group}}, Limit=limit, ScanIndexForward=forward,
                             **({"ExclusiveStartKey": start} if start else {}))
            assert len(page["Items"]) <= limit
            got += [i["pk"]["S"] for i in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        assert got == expected

    check()
