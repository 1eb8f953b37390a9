"""Crash consistency: SIGKILL a busy server at a random moment, restart it, lose nothing acknowledged.

A workload of client threads writes S3 objects (single PUTs and multipart uploads),
DynamoDB items (PutItem, TransactWriteItems) and IAM users with inline policies, recording
every write the server acknowledged and the one each thread had in flight. After the kill:
`gureum doctor` finds no damage (orphan blobs of unacknowledged uploads are allowed), repair
leaves a clean store, and on the restarted server every acknowledged write is there whole,
every visible object is the complete bytes of a PUT that was sent, and a transaction's items
are all there or none. bench/crash.py runs many more cycles.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from dataclasses import dataclass, field

import boto3
from botocore.config import Config

from gureum.doctor import check
from tests.conftest import Server

BUCKET = "crash-consistency"
TABLE = "crash-consistency"
MiB = 1024 * 1024
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def _client(endpoint: str, service: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Known:
    """One key's writes: the last acknowledged value, and every value ever sent for it."""

    acked: str | None = None
    sent: set = field(default_factory=set)
    pending: str | None = None


class Workload:
    """Writes from several threads until the server dies; remembers what it was told."""

    def __init__(self, seed: int, threads: int = 4, max_object: int = 3 * MiB):
        self.rng = random.Random(seed)
        self.threads = threads
        self.max_object = max_object
        self.lock = threading.Lock()
        self.objects: dict[str, Known] = {}
        self.items: dict[str, Known] = {}
        self.transactions: dict[str, Known] = {}  # id -> acked "yes" once acknowledged
        self.users: dict[str, Known] = {}  # name -> acked policy document once acknowledged
        self.counter = 0
        self.acknowledged = 0

    # --- set-up and the writers -------------------------------------------------------------

    def prepare(self, endpoint: str) -> None:
        _client(endpoint, "s3").create_bucket(Bucket=BUCKET)
        _client(endpoint, "dynamodb").create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])

    def run(self, endpoint: str, stop: threading.Event) -> list[threading.Thread]:
        seeds = [self.rng.randrange(1 << 30) for _ in range(self.threads)]
        threads = [threading.Thread(target=self._writer, args=(endpoint, i, seeds[i], stop), daemon=True)
                   for i in range(self.threads)]
        for t in threads:
            t.start()
        return threads

    def _next(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def _record(self, table: dict, key: str, value: str, acked: bool) -> None:
        with self.lock:
            known = table.setdefault(key, Known())
            known.sent.add(value)
            known.pending = None if acked else value
            if acked:
                known.acked = value
                self.acknowledged += 1

    def _writer(self, endpoint: str, index: int, seed: int, stop: threading.Event) -> None:
        rng = random.Random(seed)
        s3, ddb, iam = _client(endpoint, "s3"), _client(endpoint, "dynamodb"), _client(endpoint, "iam")
        while not stop.is_set():
            op = rng.random()
            try:
                if op < 0.40:
                    self._put_object(s3, index, rng)
                elif op < 0.47:
                    self._multipart(s3, index, rng)
                elif op < 0.67:
                    self._put_item(ddb, index, rng)
                elif op < 0.82:
                    self._transaction(ddb, index)
                else:
                    self._user(iam, index)
            except Exception:
                return  # the server is gone: what was in flight stays pending

    def _put_object(self, s3, index: int, rng: random.Random) -> None:
        key = f"t{index}/obj{rng.randrange(6)}"
        body = os.urandom(rng.randrange(self.max_object))
        self._record(self.objects, key, _sha(body), False)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        self._record(self.objects, key, _sha(body), True)

    def _multipart(self, s3, index: int, rng: random.Random) -> None:
        key = f"t{index}/mpu{self._next()}"
        parts = [os.urandom(5 * MiB), os.urandom(rng.randrange(1, MiB))]
        digest = _sha(b"".join(parts))
        self._record(self.objects, key, digest, False)
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        done = []
        for number, part in enumerate(parts, start=1):
            etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=part)["ETag"]
            done.append({"PartNumber": number, "ETag": etag})
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": done})
        self._record(self.objects, key, digest, True)

    def _put_item(self, ddb, index: int, rng: random.Random) -> None:
        pk = f"t{index}-item{rng.randrange(10)}"
        value = f"v{self._next()}"
        self._record(self.items, pk, value, False)
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "v": {"S": value}})
        self._record(self.items, pk, value, True)

    def _transaction(self, ddb, index: int) -> None:
        tx = f"t{index}-tx{self._next()}"
        self._record(self.transactions, tx, "yes", False)
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"{tx}-{part}"}, "tx": {"S": tx}}}} for part in "abc"])
        self._record(self.transactions, tx, "yes", True)

    def _user(self, iam, index: int) -> None:
        name = f"crash-t{index}-u{self._next()}"
        document = json.dumps(POLICY)
        self._record(self.users, name, "", False)
        iam.create_user(UserName=name)
        self._record(self.users, name, "", True)
        self._record(self.users, name, document, False)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document)
        self._record(self.users, name, document, True)

    # --- after the restart --------------------------------------------------------------------

    def verify(self, endpoint: str) -> int:
        """Check every write against the restarted server; returns how many were checked."""
        s3, ddb, iam = _client(endpoint, "s3"), _client(endpoint, "dynamodb"), _client(endpoint, "iam")
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            listed.update(o["Key"] for o in page.get("Contents", []))
        assert listed <= set(self.objects), f"objects nobody wrote: {listed - set(self.objects)}"
        for key, known in self.objects.items():
            if key in listed:
                digest = _sha(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
                assert digest in known.sent, f"{key}: visible bytes match no PUT (half-written object)"
                assert digest in (known.acked, known.pending), f"{key}: an older value came back"
                known.acked = digest
            else:
                assert known.acked is None, f"{key}: acknowledged object lost"
                known.acked = None
            known.pending = None
        for pk, known in self.items.items():
            item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")
            value = item["v"]["S"] if item else None
            assert value in (known.acked, known.pending), f"{pk}: {value} is neither acknowledged nor in flight"
            known.acked, known.pending = value, None
        for tx, known in self.transactions.items():
            present = [bool(ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"{tx}-{p}"}}).get("Item")) for p in "abc"]
            assert all(present) or not any(present), f"{tx}: a transaction half applied: {present}"
            assert all(present) or known.acked is None, f"{tx}: acknowledged transaction lost"
            known.acked, known.pending = ("yes" if all(present) else None), None
        for name, known in self.users.items():
            try:
                iam.get_user(UserName=name)
            except iam.exceptions.NoSuchEntityException:
                assert known.acked is None, f"user {name}: acknowledged creation lost"
                continue
            try:
                document = iam.get_user_policy(UserName=name, PolicyName="p")["PolicyDocument"]
                document = document if isinstance(document, str) else json.dumps(document)
                assert json.loads(document) == POLICY
                known.acked = json.dumps(POLICY)
            except iam.exceptions.NoSuchEntityException:
                assert not known.acked, f"user {name}: acknowledged policy lost"
                known.acked = ""
            known.pending = None
        return len(self.objects) + len(self.items) + len(self.transactions) + len(self.users)


def crash_cycle(server: Server, workload: Workload, rng: random.Random, *, run_seconds: tuple[float, float]) -> dict:
    """One cycle on a running server: write, SIGKILL, check the store, repair, restart, verify."""
    stop = threading.Event()
    threads = workload.run(server.endpoint, stop)
    time.sleep(rng.uniform(*run_seconds))
    server.stop(sig="kill")
    stop.set()
    for t in threads:
        t.join(timeout=60)
    data_dir = server.data_dir
    before = check(data_dir)
    assert not before.damaged, before.as_dict()
    repaired = check(data_dir, repair=True)
    assert not repaired.damaged and repaired.clean, repaired.as_dict()
    after = check(data_dir)
    assert after.clean and not after.orphans and not after.temporaries, after.as_dict()
    started = time.perf_counter()
    server.start()
    restart = time.perf_counter() - started  # a figure for bench/crash.py, never asserted
    checked = workload.verify(server.endpoint)
    return {"orphans": len(before.orphans), "temporaries": before.temporaries, "checked": checked,
            "restart_seconds": restart}


def test_sigkill_loses_no_acknowledged_write(tmp_path):
    rng = random.Random(int(os.environ.get("GUREUM_CRASH_SEED", "7")))
    server = Server(tmp_path / "data").start()
    workload = Workload(rng.randrange(1 << 30))
    try:
        workload.prepare(server.endpoint)
        results = [crash_cycle(server, workload, rng, run_seconds=(0.4, 1.6)) for _ in range(4)]
    finally:
        server.stop()
    assert workload.acknowledged > 0
    assert all(r["checked"] > 0 for r in results)

