"""Benchmark scenarios: `(endpoint, seconds, concurrency) -> LoadResult`, registered by name.

A new one is a small function over `load.drive`; setup requests (a bucket, a table) are
counted so that server CPU per request stays exact.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import clients
from load import LoadResult, drive

Scenario = Callable[[str, float, int], LoadResult]
SCENARIOS: dict[str, Scenario] = {}
# What each scenario's per-request CPU is compared with (ms), when a target exists.
CPU_TARGETS_MS: dict[str, float] = {}
# Data loading that runs before the server's CPU is first read (so it is not in the figures).
PREPARE: dict[str, Callable[[str], None]] = {}


def scenario(name: str, cpu_target_ms: float | None = None,
             prepare: Callable[[str], None] | None = None) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = fn
        if cpu_target_ms is not None:
            CPU_TARGETS_MS[name] = cpu_target_ms
        if prepare is not None:
            PREPARE[name] = prepare
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


# DynamoDB at size: the data is loaded by `prepare` (BatchWriteItem from 8 threads) outside
# the measured window, so server CPU per request is that of the timed calls alone. These
# calls are heavy, so at most 2 clients run them.

def _load_items(endpoint: str, table: str, count: int, partitions: int) -> None:
    setup = clients.make(endpoint, "dynamodb", read_timeout=60)
    setup.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                             {"AttributeName": "sk", "AttributeType": "N"}])
    for _ in range(100):  # bounded wait for ACTIVE
        if setup.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
    batches = [range(start, min(start + 25, count)) for start in range(0, count, 25)]

    def write(chunk: list) -> None:
        client = clients.make(endpoint, "dynamodb", read_timeout=60)
        for numbers in chunk:
            client.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": {"pk": {"S": f"p{n % partitions}"}, "sk": {"N": str(n)},
                                         "name": {"S": f"item-{n:08d}"}, "v": {"S": "x" * 40}, "n": {"N": str(n * 7)}}}}
                for n in numbers]})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, [batches[i::8] for i in range(8)]))


_QUERY_STARTS: dict[str, list] = {}


def _prepare_query(endpoint: str) -> None:
    _load_items(endpoint, "bench-query", 10_000, 1)
    client, starts, start = clients.make(endpoint, "dynamodb", read_timeout=60), [None], None
    while True:  # the ExclusiveStartKey of each of the 10 pages
        page = client.query(TableName="bench-query", KeyConditionExpression="pk = :p", Limit=1000,
                            ExpressionAttributeValues={":p": {"S": "p0"}},
                            **({"ExclusiveStartKey": start} if start else {}))
        start = page.get("LastEvaluatedKey")
        if not start:
            break
        starts.append(start)
    _QUERY_STARTS[endpoint] = starts[:10]


@scenario("dynamodb-query-page", cpu_target_ms=15.0, prepare=_prepare_query)
def dynamodb_query_page(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """DynamoDB Query paging through 10,000 items of one partition: one page of 1,000 items per call."""
    starts = _QUERY_STARTS[endpoint]

    def call(c, n: int) -> None:
        start = starts[n % len(starts)]
        page = c.query(TableName="bench-query", KeyConditionExpression="pk = :p", Limit=1000,
                       ExpressionAttributeValues={":p": {"S": "p0"}}, **({"ExclusiveStartKey": start} if start else {}))
        if page["Count"] != 1000:
            raise RuntimeError(f"a page of {page['Count']} items")
    return drive(endpoint, "dynamodb", call, seconds, min(concurrency, 2))


@scenario("dynamodb-scan-100k", prepare=lambda endpoint: _load_items(endpoint, "bench-scan", 100_000, 1000))
def dynamodb_scan_100k(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """DynamoDB Scan of a 100,000-item table to the end (1 MB pages): one call is the whole scan.

    One client, whole scans one after the other until the window is over (at least one; no
    warm-up call, since a slow server's single scan can take minutes).
    """
    client = clients.make(endpoint, "dynamodb", read_timeout=300)
    latencies: list[float] = []
    begin = time.perf_counter()
    while not latencies or time.perf_counter() - begin < seconds:
        t0, seen, start = time.perf_counter(), 0, None
        while True:
            page = client.scan(TableName="bench-scan", **({"ExclusiveStartKey": start} if start else {}))
            seen += page["Count"]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        if seen != 100_000:
            raise RuntimeError(f"scanned {seen} items")
        latencies.append(time.perf_counter() - t0)
    return LoadResult(latencies=latencies, elapsed=time.perf_counter() - begin, requests=len(latencies))


def _prepare_transact(endpoint: str) -> None:
    clients.make(endpoint, "dynamodb").create_table(
        TableName="bench-transact", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])


@scenario("dynamodb-transact-write-25", prepare=_prepare_transact)
def dynamodb_transact_write_25(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """DynamoDB TransactWriteItems of 25 Puts of small new items."""
    def call(c, n: int) -> None:
        c.transact_write_items(TransactItems=[
            {"Put": {"TableName": "bench-transact", "Item": {"pk": {"S": f"t{n}-{i}"}, "v": {"S": "x" * 40}}}}
            for i in range(25)])
    return drive(endpoint, "dynamodb", call, seconds, min(concurrency, 2))


# EC2 at size: 1,000 instances. The vCPU quota is raised through Service Quotas first (a peer
# without Service Quotas or a quota simply launches). Instances are t3.nano in the default VPC.

def _ec2_image(client) -> str:
    images = client.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023*"]}, {"Name": "architecture", "Values": ["x86_64"]}])["Images"]
    return images[0]["ImageId"] if images else "ami-12c6146b"


def _raise_vcpu_quota(endpoint: str) -> None:
    import clients
    try:
        clients.make(endpoint, "service-quotas").request_service_quota_increase(
            ServiceCode="ec2", QuotaCode="L-1216C47A", DesiredValue=1_000_000)
    except Exception:  # a peer without Service Quotas has no quota to raise
        pass


_EC2_IMAGES: dict[str, str] = {}


def _prepare_ec2_run(endpoint: str) -> None:
    import clients
    _raise_vcpu_quota(endpoint)
    _EC2_IMAGES[endpoint] = _ec2_image(clients.make(endpoint, "ec2"))


@scenario("ec2-run-instances", prepare=_prepare_ec2_run)
def ec2_run_instances(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """EC2 RunInstances of one tagged t3.nano per call (root volume, interface, addresses)."""
    image = _EC2_IMAGES[endpoint]

    def call(c, n: int) -> None:
        c.run_instances(ImageId=image, InstanceType="t3.nano", MinCount=1, MaxCount=1, TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "bench", "Value": f"run-{n % 10}"}]}])
    return drive(endpoint, "ec2", call, seconds, min(concurrency, 4))


def _prepare_ec2_fleet(endpoint: str) -> None:
    import clients
    _raise_vcpu_quota(endpoint)
    client = clients.make(endpoint, "ec2", read_timeout=120)
    image = _ec2_image(client)
    for batch in range(10):  # 1,000 instances: 10 launches of 100, two types, ten tiers
        client.run_instances(ImageId=image, InstanceType="t3.nano" if batch % 2 else "t3.micro",
                             MinCount=100, MaxCount=100, TagSpecifications=[
                                 {"ResourceType": "instance", "Tags": [{"Key": "tier", "Value": f"tier-{batch}"}]}])


@scenario("ec2-describe-instances-1k", prepare=_prepare_ec2_fleet)
def ec2_describe_instances_1k(endpoint: str, seconds: float, concurrency: int) -> LoadResult:
    """EC2 DescribeInstances over 1,000 instances with filters (tag, type, state): 100 match per call."""
    def call(c, n: int) -> None:
        out = c.describe_instances(Filters=[
            {"Name": "tag:tier", "Values": [f"tier-{(n % 5) * 2 + 1}"]},
            {"Name": "instance-type", "Values": ["t3.nano"]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]}])
        found = sum(len(r["Instances"]) for r in out["Reservations"])
        if found != 100:
            raise RuntimeError(f"{found} instances matched")
    return drive(endpoint, "ec2", call, seconds, min(concurrency, 2))
