"""Benchmark scenarios: `(endpoint, seconds, concurrency) -> LoadResult`, registered by name.

A new one is a small function over `load.drive`; setup requests (a bucket, a table) are
counted so that server CPU per request stays exact.
"""

from __future__ import annotations

import json
import time
from typing import Callable

from load import LoadResult, drive

Scenario = Callable[[str, float, int], LoadResult]
SCENARIOS: dict[str, Scenario] = {}
# What each scenario's per-request CPU is compared with (ms), when a target exists.
CPU_TARGETS_MS: dict[str, float] = {}


def scenario(name: str, cpu_target_ms: float | None = None) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = fn
        if cpu_target_ms is not None:
            CPU_TARGETS_MS[name] = cpu_target_ms
        return fn
    return register


@scenario("sts-get-caller-identity", cpu_target_ms=0.5)
def sts_get_caller_identity(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """STS GetCallerIdentity: query protocol, SigV4, the smallest authenticated call."""
    return drive(endpoint, "sts", lambda client, _: client.get_caller_identity(), seconds, concurrency)


# The default run; the IAM authorization scenarios run with `--scenario NAME` or `all`.
DEFAULT = ["sts-get-caller-identity", "s3-put-object", "s3-get-object", "dynamodb-put-item", "dynamodb-get-item"]
BODY = b"x" * 1024


# Each scenario owns its bucket or table, so scenarios in one run do not meet.

def _bucket(bucket: str, key: str | None = None) -> Callable[[object], int]:
    def setup(client) -> int:
        client.create_bucket(Bucket=bucket)
        if key is None:
            return 1
        client.put_object(Bucket=bucket, Key=key, Body=BODY)
        return 2
    return setup


@scenario("s3-put-object")
def s3_put_object(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """S3 PutObject of 1 KiB, path-style, a key per call."""
    return drive(endpoint, "s3", lambda c, n: c.put_object(Bucket="bench-put", Key=f"k{n}", Body=BODY),
                 seconds, concurrency, setup=_bucket("bench-put"))


@scenario("s3-get-object")
def s3_get_object(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """S3 GetObject of one 1 KiB object, body read to the end."""
    return drive(endpoint, "s3", lambda c, _: c.get_object(Bucket="bench-get", Key="k")["Body"].read(),
                 seconds, concurrency, setup=_bucket("bench-get", "k"))


def _table(table: str) -> Callable[[object], int]:
    def setup(client) -> int:
        client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        sent = 1
        for _ in range(100):  # bounded wait for ACTIVE
            sent += 1
            if client.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE":
                break
            time.sleep(0.05)
        client.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"S": "x" * 100}})
        return sent + 1
    return setup


@scenario("dynamodb-put-item")
def dynamodb_put_item(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """DynamoDB PutItem of a small item, a key per call."""
    return drive(endpoint, "dynamodb",
                 lambda c, n: c.put_item(TableName="bench-put", Item={"pk": {"S": f"k{n}"}, "v": {"S": "x" * 100}}),
                 seconds, concurrency, setup=_table("bench-put"))


@scenario("dynamodb-get-item")
def dynamodb_get_item(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """DynamoDB GetItem of one small item."""
    return drive(endpoint, "dynamodb", lambda c, _: c.get_item(TableName="bench-get", Key={"pk": {"S": "k"}}),
                 seconds, concurrency, setup=_table("bench-get"))


# Authorization overhead: the same IAM call signed by the root (no policies to evaluate) and
# by a user whose permissions come from 10 managed policies of 20 statements each.

def _policy_user(name: str, key: dict) -> Callable[[object], int]:
    def setup(client) -> int:
        client.create_user(UserName=name)
        sent = 1
        for p in range(10):
            statements = [{"Sid": f"S{s}", "Effect": "Allow", "Action": [f"iam:List{s}Things{p}"],
                           "Resource": f"arn:aws:iam::*:user/team{p}/*"} for s in range(19)]
            statements.append({"Sid": "Read", "Effect": "Allow", "Action": ["iam:GetUser"], "Resource": "*"})
            arn = client.create_policy(PolicyName=f"{name}-{p}", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": statements}))["Policy"]["Arn"]
            client.attach_user_policy(UserName=name, PolicyArn=arn)
            sent += 2
        created = client.create_access_key(UserName=name)["AccessKey"]
        key.update(id=created["AccessKeyId"], secret=created["SecretAccessKey"])
        return sent + 1
    return setup


@scenario("iam-get-user-root")
def iam_get_user_root(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """IAM GetUser signed by the account root: authorization without policy evaluation."""
    def setup(client) -> int:
        client.create_user(UserName="bench-target")
        return 1
    return drive(endpoint, "iam", lambda c, _: c.get_user(UserName="bench-target"), seconds, concurrency,
                 setup=setup)


@scenario("iam-get-user-policies")
def iam_get_user_policies(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """IAM GetUser signed by a user holding 10 policies x 20 statements (the last one allows)."""
    key: dict = {}
    return drive(endpoint, "iam", lambda c, _: c.get_user(UserName="bench-policy-user"), seconds, concurrency,
                 setup=_policy_user("bench-policy-user", key), credentials=lambda: (key["id"], key["secret"]))
