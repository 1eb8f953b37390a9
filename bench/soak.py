"""Sustained load: mixed S3 and DynamoDB traffic against one gureum process, every answer checked.

    .venv/bin/python bench/soak.py [--minutes 10] [--clients 16] [--max-mib 64]

Each client owns a key prefix in one bucket and a partition in one table, and remembers what
it wrote, so every read is verified exactly: GET bodies by SHA-256, HEAD by size and ETag,
listings and queries by their full set of keys, items by value. What a client creates it also
deletes as it goes (its live objects and items are capped), so the data directory stays
bounded; at the end everything left is deleted and the directory measured again.

Reported: errors (zero expected), server RSS at start, end and its maximum, server CPU, the
data directory's size, and per minute the p50/p99 latency of each operation family (to show
whether latency drifts). A table prints to stdout; the JSON goes to
bench/results/soak-<timestamp>.json. The run is bounded by time (at most 120 minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import MIB, percentile  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BUCKET = "soak"
TABLE = "soak"
PART = 8 * MIB  # multipart part size (the AWS CLI's default)
MULTIPART_ABOVE = 8 * MIB  # bigger objects are uploaded in parts
READ_CHUNK = MIB
# A client's live state is capped so the data directory stays bounded.
MAX_LIVE_OBJECTS = 24
MAX_LIVE_BYTES = 96 * MIB
MAX_LIVE_ITEMS = 150
# Object sizes: mostly small, (weight, low, high) in bytes, high capped by --max-mib; and one
# PUT in BIG_EVERY is big (a multipart upload up to --max-mib), at an offset drawn per client
# so that the clients' big uploads do not all start together.
SIZE_CLASSES = [(5, 0, 0), (50, 1, 4096), (25, 4097, 64 * 1024), (14, 64 * 1024 + 1, MIB),
                (6, MIB + 1, 8 * MIB)]
BIG_EVERY = 40
# Operation mix: (weight, name). Reads outnumber writes, as in most applications.
S3_OPS = [(20, "put"), (30, "get"), (15, "head"), (8, "list"), (12, "delete")]
DYNAMODB_OPS = [(20, "put_item"), (30, "get_item"), (12, "query"), (15, "update_item"),
                (8, "transact_write_items"), (8, "batch_write_item")]
FAMILY = {"put": "s3.PutObject", "multipart": "s3.MultipartUpload", "get": "s3.GetObject",
          "head": "s3.HeadObject", "list": "s3.ListObjectsV2", "delete": "s3.DeleteObject",
          "put_item": "dynamodb.PutItem", "get_item": "dynamodb.GetItem", "query": "dynamodb.Query",
          "update_item": "dynamodb.UpdateItem", "transact_write_items": "dynamodb.TransactWriteItems",
          "batch_write_item": "dynamodb.BatchWriteItem", "delete_item": "dynamodb.DeleteItem"}


class Mismatch(AssertionError):
    """The server answered, but not what was written."""


@dataclass
class Obj:
    size: int
    sha256: str
    etag: str


@dataclass
class Stats:
    """What all clients record: latencies per family and time bucket, errors, verified reads."""

    started: float
    bucket_seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, dict[int, list[float]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    verified: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bytes_put: int = 0
    bytes_got: int = 0

    def record(self, family: str, t0: float, seconds: float) -> None:
        with self.lock:
            self.latencies[family][int((t0 - self.started) // self.bucket_seconds)].append(seconds)

    def fail(self, family: str, error: BaseException) -> None:
        with self.lock:
            self.errors[family] += 1
            if len(self.error_samples) < 20:
                self.error_samples.append(f"{family}: {type(error).__name__}: {error}"[:500])

    def ok(self, family: str, n: int = 1) -> None:
        with self.lock:
            self.verified[family] += n

    def payload(self) -> dict[str, Any]:
        """What a load process sends back to the parent."""
        with self.lock:
            return {"latencies": {f: dict(b) for f, b in self.latencies.items()}, "errors": dict(self.errors),
                    "error_samples": list(self.error_samples), "verified": dict(self.verified),
                    "bytes_put": self.bytes_put, "bytes_got": self.bytes_got}

    def clear(self) -> None:
        with self.lock:
            self.latencies.clear()
            self.errors.clear()
            self.error_samples.clear()
            self.verified.clear()
            self.bytes_put = self.bytes_got = 0

    def merge(self, payload: dict[str, Any]) -> None:
        with self.lock:
            for family, buckets in payload["latencies"].items():
                for i, values in buckets.items():
                    self.latencies[family][i].extend(values)
            for family, n in payload["errors"].items():
                self.errors[family] += n
            self.error_samples.extend(payload["error_samples"][:max(0, 20 - len(self.error_samples))])
            for family, n in payload["verified"].items():
                self.verified[family] += n
            self.bytes_put += payload["bytes_put"]
            self.bytes_got += payload["bytes_got"]


def _weighted(rng: random.Random, table: list[tuple[int, Any]]) -> Any:
    return rng.choices([x for _, x in table], weights=[w for w, _ in table])[0]


def _norm(value: Any) -> Any:
    """An item with its sets sorted: DynamoDB does not promise an order within a set."""
    if isinstance(value, dict):
        return {k: (sorted(v) if k in ("SS", "NS", "BS") else _norm(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


class Client:
    """One simulated application: its own S3 and DynamoDB clients, prefix and partition."""

    def __init__(self, n: int, make_client: Callable[[str], Any], stats: Stats, max_size: int,
                 source: memoryview, seed: int, multipart_above: int = MULTIPART_ABOVE,
                 max_items: int = MAX_LIVE_ITEMS, big_every: int = BIG_EVERY):
        self.n = n
        self.max_items = max_items
        self.multipart_above = multipart_above
        # S3's smallest part (5 MiB) when the threshold is below the usual part size.
        self.part = PART if multipart_above >= PART else 5 * MIB
        self.s3 = make_client("s3")
        self.ddb = make_client("dynamodb")
        self.stats = stats
        self.max_size = max_size
        self.source = source
        self.rng = random.Random(seed)
        self.prefix = f"c{n:02d}/"
        self.pk = f"c{n:02d}"
        self.objects: dict[str, Obj] = {}
        self.items: dict[int, dict] = {}
        self.seq = 0
        self.puts = 0
        self.big_every = big_every
        self.big_offset = self.rng.randrange(big_every)

    # -- the loop --

    def run(self, deadline: float) -> None:
        while time.perf_counter() < deadline:
            if self.rng.random() < 0.5:
                op = _weighted(self.rng, S3_OPS)
                if op == "put" and (len(self.objects) >= MAX_LIVE_OBJECTS
                                    or sum(o.size for o in self.objects.values()) > MAX_LIVE_BYTES):
                    op = "delete"  # bounded: make room first
            else:
                op = _weighted(self.rng, DYNAMODB_OPS)
                if op in ("put_item", "transact_write_items") and len(self.items) > self.max_items - 2:
                    op = "delete_item"
            self.step(op)

    def step(self, op: str) -> None:
        family = FAMILY[op]
        t0 = time.perf_counter()
        try:
            family = getattr(self, op)() or family
        except Exception as e:  # every failure counts: error answers, timeouts, mismatches
            self.stats.fail(family, e)
        self.stats.record(family, t0, time.perf_counter() - t0)

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    # -- S3 --

    def _size(self) -> int:
        self.puts += 1
        if self.puts % self.big_every == self.big_offset:
            return self.rng.randint(min(self.multipart_above + 1, self.max_size), self.max_size)
        _, low, high = self.rng.choices(SIZE_CLASSES, weights=[w for w, _, _ in SIZE_CLASSES])[0]
        high = min(high, self.max_size)
        return self.rng.randint(min(low, high), high)

    def _body(self, key: str, size: int) -> tuple[bytes, int]:
        """Bytes unique to this write: a header naming the key, then a slice of the random source."""
        head = f"{key}#{self._next()}\n".encode()[:size]
        offset = self.rng.randrange(0, len(self.source) - size + 1)
        return head, offset

    def put(self) -> str:
        size = self._size()
        key = f"{self.prefix}{self._next():06d}-{size}"
        head, offset = self._body(key, size)
        digest = hashlib.sha256()
        if size <= self.multipart_above:
            body = head + self.source[offset + len(head):offset + size]
            digest.update(body)
            etag = self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"]
            if etag != f'"{hashlib.md5(body).hexdigest()}"':
                raise Mismatch(f"PutObject {key}: ETag {etag}")
            family = FAMILY["put"]
        else:
            etag = self._multipart(key, size, head, offset, digest)
            family = FAMILY["multipart"]
        self.objects[key] = Obj(size, digest.hexdigest(), etag)
        with self.stats.lock:
            self.stats.bytes_put += size
        self.stats.ok(family)  # its ETag was the MD5 (of the parts' MD5s) of what was sent
        return family

    def _multipart(self, key: str, size: int, head: bytes, offset: int, digest) -> str:
        upload = self.s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        try:
            parts, md5s, done = [], [], 0
            while done < size:
                n = min(self.part, size - done)
                chunk = self.source[offset + done:offset + done + n]
                if done == 0:
                    chunk = head + chunk[len(head):]
                else:
                    chunk = bytes(chunk)
                digest.update(chunk)
                md5 = hashlib.md5(chunk).digest()
                etag = self.s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=len(parts) + 1,
                                           Body=chunk)["ETag"]
                if etag != f'"{md5.hex()}"':
                    raise Mismatch(f"UploadPart {key} #{len(parts) + 1}: ETag {etag}")
                parts.append({"PartNumber": len(parts) + 1, "ETag": etag})
                md5s.append(md5)
                done += n
            etag = self.s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload,
                                                     MultipartUpload={"Parts": parts})["ETag"]
        except BaseException:
            try:
                self.s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload)
            except Exception:
                pass
            raise
        expected = f'"{hashlib.md5(b"".join(md5s)).hexdigest()}-{len(parts)}"'
        if etag != expected:
            raise Mismatch(f"CompleteMultipartUpload {key}: ETag {etag}, expected {expected}")
        return etag

    def _pick(self) -> tuple[str, Obj] | None:
        if not self.objects:
            return None
        key = self.rng.choice(list(self.objects))
        return key, self.objects[key]

    def get(self) -> str | None:
        picked = self._pick()
        if picked is None:
            return self.put()
        key, obj = picked
        out = self.s3.get_object(Bucket=BUCKET, Key=key)
        digest, got = hashlib.sha256(), 0
        for chunk in out["Body"].iter_chunks(READ_CHUNK):
            digest.update(chunk)
            got += len(chunk)
        if got != obj.size or digest.hexdigest() != obj.sha256 or out["ETag"] != obj.etag:
            raise Mismatch(f"GetObject {key}: {got} bytes (expected {obj.size}), sha256 or ETag differ")
        with self.stats.lock:
            self.stats.bytes_got += got
        self.stats.ok(FAMILY["get"])

    def head(self) -> str | None:
        picked = self._pick()
        if picked is None:
            return self.put()
        key, obj = picked
        out = self.s3.head_object(Bucket=BUCKET, Key=key)
        if out["ContentLength"] != obj.size or out["ETag"] != obj.etag:
            raise Mismatch(f"HeadObject {key}: {out['ContentLength']} bytes, ETag {out['ETag']}")
        self.stats.ok(FAMILY["head"])

    def list(self) -> None:
        keys, sizes, token = [], {}, None
        while True:
            page = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=self.prefix, MaxKeys=10,
                                           **({"ContinuationToken": token} if token else {}))
            for o in page.get("Contents", []):
                keys.append(o["Key"])
                sizes[o["Key"]] = o["Size"]
            token = page.get("NextContinuationToken")
            if not page["IsTruncated"]:
                break
        if keys != sorted(self.objects) or any(sizes[k] != o.size for k, o in self.objects.items()):
            raise Mismatch(f"ListObjectsV2 {self.prefix}: {len(keys)} keys, expected {len(self.objects)}")
        self.stats.ok(FAMILY["list"])

    def delete(self) -> str | None:
        picked = self._pick()
        if picked is None:
            return self.put()
        key, _ = picked
        self.s3.delete_object(Bucket=BUCKET, Key=key)
        del self.objects[key]
        try:
            self.s3.head_object(Bucket=BUCKET, Key=key)
        except ClientError as e:
            if e.response["Error"]["Code"] != "404":
                raise
        else:
            raise Mismatch(f"HeadObject {key} found it after DeleteObject")
        self.stats.ok(FAMILY["delete"])

    # -- DynamoDB --

    def _item(self, sk: int) -> dict:
        r = self.rng
        item = {"pk": {"S": self.pk}, "sk": {"N": str(sk)}, "v": {"S": f"v{sk}-" + "x" * r.randint(0, 400)},
                "n": {"N": str(r.randint(-10**6, 10**6))}}
        if r.random() < 0.3:
            item["b"] = {"B": r.randbytes(r.randint(1, 64))}
        if r.random() < 0.3:
            item["m"] = {"M": {"tags": {"SS": sorted({f"t{r.randint(0, 9)}" for _ in range(3)})},
                               "l": {"L": [{"N": str(r.randint(0, 99))}, {"BOOL": r.random() < 0.5}]}}}
        return item

    def _key(self, sk: int) -> dict:
        return {"pk": {"S": self.pk}, "sk": {"N": str(sk)}}

    def _new_sk(self) -> int:
        if len(self.items) >= self.max_items:  # bounded: the oldest makes room
            sk = min(self.items)
            self.ddb.delete_item(TableName=TABLE, Key=self._key(sk))
            del self.items[sk]
        return self._next()

    def delete_item(self) -> None:
        """The oldest item goes, and is gone."""
        sk = min(self.items)
        out = self.ddb.delete_item(TableName=TABLE, Key=self._key(sk), ReturnValues="ALL_OLD")
        if _norm(out.get("Attributes")) != _norm(self.items.pop(sk)):
            raise Mismatch(f"DeleteItem {self.pk}/{sk}: old item {str(out.get('Attributes'))[:200]}")
        if "Item" in self.ddb.get_item(TableName=TABLE, Key=self._key(sk), ConsistentRead=True):
            raise Mismatch(f"GetItem {self.pk}/{sk} found it after DeleteItem")
        self.stats.ok(FAMILY["delete_item"])

    def _some_sk(self) -> int | None:
        return self.rng.choice(list(self.items)) if self.items else None

    def put_item(self) -> str:
        sk = self._new_sk()
        item = self._item(sk)
        out = self.ddb.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD")
        self.items[sk] = item
        if "Attributes" in out:
            raise Mismatch(f"PutItem {self.pk}/{sk}: a new key had an old item {str(out['Attributes'])[:200]}")
        self.stats.ok(FAMILY["put_item"])
        return FAMILY["put_item"]

    def get_item(self) -> str | None:
        sk = self._some_sk()
        if sk is None:
            return self.put_item()
        got = self.ddb.get_item(TableName=TABLE, Key=self._key(sk), ConsistentRead=True).get("Item")
        if _norm(got) != _norm(self.items[sk]):
            raise Mismatch(f"GetItem {self.pk}/{sk}: {str(got)[:200]}")
        self.stats.ok(FAMILY["get_item"])

    def query(self) -> str | None:
        if not self.items:
            return self.put_item()
        low = self.rng.choice(list(self.items))
        got, start = [], None
        while True:
            page = self.ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p AND sk >= :low",
                                  ExpressionAttributeValues={":p": {"S": self.pk}, ":low": {"N": str(low)}},
                                  ConsistentRead=True, Limit=50, **({"ExclusiveStartKey": start} if start else {}))
            got.extend(page["Items"])
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        expected = [self.items[sk] for sk in sorted(self.items) if sk >= low]
        if [_norm(i) for i in got] != [_norm(i) for i in expected]:
            raise Mismatch(f"Query {self.pk} sk >= {low}: {len(got)} items, expected {len(expected)}")
        self.stats.ok(FAMILY["query"])

    def update_item(self) -> str | None:
        sk = self._some_sk()
        if sk is None:
            return self.put_item()
        delta = self.rng.randint(1, 1000)
        value = f"u{self._next()}"
        out = self.ddb.update_item(TableName=TABLE, Key=self._key(sk), ReturnValues="ALL_NEW",
                                   UpdateExpression="SET n = n + :d, v = :v",
                                   ConditionExpression="attribute_exists(pk)",
                                   ExpressionAttributeValues={":d": {"N": str(delta)}, ":v": {"S": value}})
        expected = dict(self.items[sk], n={"N": str(int(self.items[sk]["n"]["N"]) + delta)}, v={"S": value})
        self.items[sk] = expected
        if _norm(out["Attributes"]) != _norm(expected):
            raise Mismatch(f"UpdateItem {self.pk}/{sk}: {str(out['Attributes'])[:200]}")
        self.stats.ok(FAMILY["update_item"])

    def transact_write_items(self) -> None:
        """Two new items, one update and (when there is one to spare) one delete, all or nothing."""
        puts = [self._item(self._new_sk()) for _ in range(2)]
        existing = [sk for sk in self.items][:2]
        actions = [{"Put": {"TableName": TABLE, "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)"}} for item in puts]
        changes: dict[int, dict | None] = {}
        if existing:
            sk = existing[0]
            value = f"t{self._next()}"
            actions.append({"Update": {"TableName": TABLE, "Key": self._key(sk), "UpdateExpression": "SET v = :v",
                                       "ExpressionAttributeValues": {":v": {"S": value}}}})
            changes[sk] = dict(self.items[sk], v={"S": value})
        if len(existing) > 1:
            actions.append({"Delete": {"TableName": TABLE, "Key": self._key(existing[1])}})
            changes[existing[1]] = None
        self.ddb.transact_write_items(TransactItems=actions)
        for item in puts:
            self.items[int(item["sk"]["N"])] = item
        for sk, item in changes.items():
            if item is None:
                del self.items[sk]
            else:
                self.items[sk] = item
        # Read one of them back: the transaction is visible at once.
        check = int(puts[0]["sk"]["N"])
        got = self.ddb.get_item(TableName=TABLE, Key=self._key(check), ConsistentRead=True).get("Item")
        if _norm(got) != _norm(self.items[check]):
            raise Mismatch(f"TransactWriteItems {self.pk}/{check}: read back {str(got)[:200]}")
        self.stats.ok(FAMILY["transact_write_items"])

    def batch_write_item(self) -> None:
        """Up to 25 requests: new items, and deletes of the oldest when the partition is large."""
        count = self.rng.randint(1, 12)
        room = max(0, len(self.items) + count - self.max_items)  # at most 12: the partition stays capped
        extra = self.rng.randint(0, 8) if len(self.items) > self.max_items // 2 else 0
        deletes = sorted(self.items)[:max(room, extra)]
        new = [self._item(self._next()) for _ in range(count)]
        requests = [{"PutRequest": {"Item": item}} for item in new]
        requests += [{"DeleteRequest": {"Key": self._key(sk)}} for sk in deletes]
        pending = {TABLE: requests}
        for _ in range(5):
            pending = self.ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise Mismatch(f"BatchWriteItem left {len(pending.get(TABLE, []))} unprocessed after 5 tries")
        for sk in deletes:
            del self.items[sk]
        for item in new:
            self.items[int(item["sk"]["N"])] = item
        self.stats.ok(FAMILY["batch_write_item"])  # nothing left unprocessed; later reads check the items

    # -- the end --

    def cleanup(self) -> None:
        """Delete everything this client still holds, and check that its prefix and partition are empty."""
        for key in list(self.objects):
            self.s3.delete_object(Bucket=BUCKET, Key=key)
            del self.objects[key]
        keys = sorted(self.items)
        for i in range(0, len(keys), 25):
            self.ddb.batch_write_item(RequestItems={TABLE: [{"DeleteRequest": {"Key": self._key(sk)}}
                                                            for sk in keys[i:i + 25]]})
        self.items.clear()
        left = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=self.prefix).get("KeyCount", 0)
        items = self.ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p", Select="COUNT",
                               ExpressionAttributeValues={":p": {"S": self.pk}}, ConsistentRead=True)["Count"]
        if left or items:
            raise Mismatch(f"after cleanup {self.prefix} holds {left} objects and {items} items")


# -- the server's process, read from /proc --

def proc_rss_bytes(pid: int) -> int:
    """VmRSS of one process."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its children are not counted)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def stored_blobs(data_dir: Path) -> int:
    """Committed blobs in the data directory, files and rows (partial writes excluded)."""
    from gureum.doctor import blob_ids

    return len(blob_ids(data_dir))


def setup(make_client: Callable[[str], Any]) -> None:
    """The bucket and the table the clients share."""
    make_client("s3").create_bucket(Bucket=BUCKET)
    ddb = make_client("dynamodb")
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}])
    for _ in range(200):  # bounded wait for ACTIVE
        if ddb.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE":
            return
        time.sleep(0.05)
    raise RuntimeError(f"table {TABLE} never became ACTIVE")


def _run_clients(indices: range, make_client: Callable[[str], Any], stats: Stats, max_size: int,
                 source: memoryview, seed: int, multipart_above: int, max_items: int, big_every: int,
                 deadline: float) -> list[Client]:
    """Clients `indices`, a thread each, until `deadline`; returns them (with what they hold)."""
    workers = [Client(n, make_client, stats, max_size, source, seed * 1000 + n, multipart_above, max_items,
                      big_every) for n in indices]
    threads = [threading.Thread(target=w.run, args=(deadline,), name=f"soak-{w.n}", daemon=True) for w in workers]
    for t in threads:
        t.start()
    for t in threads:  # a call in flight ends by its read timeout
        t.join(max(0.0, deadline + 300 - time.perf_counter()))
    if any(t.is_alive() for t in threads):
        raise RuntimeError("soak clients did not finish; the server stopped answering")
    return workers


def _cleanup(workers: list[Client], stats: Stats) -> None:
    for w in workers:
        try:
            w.cleanup()
        except Exception as e:
            stats.fail("cleanup", e)


def _child(conn, indices: range, make_client: Callable[[str], Any], stats: Stats, *args) -> None:
    """A load process: run its clients, report, then clean up when told to and report again."""
    try:
        workers = _run_clients(indices, make_client, stats, *args)
        conn.send(stats.payload())
        conn.recv()
        stats.clear()
        _cleanup(workers, stats)
    except Exception as e:  # reported as an error of the run, not lost with the process
        stats.fail("load process", e)
        conn.send(stats.payload())
        return
    conn.send(stats.payload())


def soak(make_client: Callable[[str], Any], seconds: float, clients: int, max_size: int,
         rss: Callable[[], int], cpu: Callable[[], float], data_dir: Path | None = None,
         bucket_seconds: float = 60.0, seed: int = 7, multipart_above: int = MULTIPART_ABOVE,
         max_items: int = MAX_LIVE_ITEMS, big_every: int = BIG_EVERY, processes: int = 1,
         progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the mixed load for `seconds` from `clients` threads and return the figures.

    With `processes` > 1 the clients are spread over that many forked processes, so that the
    load generator is not held back by one interpreter lock. `rss()` and `cpu()` read the
    server's memory (bytes) and CPU (seconds); they are sampled once a second. Latencies are
    bucketed every `bucket_seconds`.
    """
    setup(make_client)
    source = memoryview(random.Random(seed).randbytes(max_size + 4096))
    stats = Stats(started=0.0, bucket_seconds=bucket_seconds)
    samples: list[tuple[float, int, float]] = []  # (seconds since start, rss, cpu)
    rss_start, cpu_start, disk_start = rss(), cpu(), dir_bytes(data_dir) if data_dir else None
    stats.started = time.perf_counter()  # CLOCK_MONOTONIC: the same clock in forked processes
    deadline = stats.started + seconds
    args = (max_size, source, seed, multipart_above, max_items, big_every, deadline)
    groups = [range(clients)[i::processes] for i in range(min(processes, clients))]
    pipes, procs = [], []
    if processes > 1:  # forked before any thread starts here
        ctx = multiprocessing.get_context("fork")
        for group in groups:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_child, args=(child, group, make_client, stats, *args), daemon=True)
            proc.start()
            pipes.append(parent)
            procs.append(proc)
    stop = threading.Event()

    def sample() -> None:
        last = time.perf_counter()
        while not stop.wait(1.0):
            now = time.perf_counter()
            samples.append((now - stats.started, rss(), cpu()))
            if progress and now - last >= bucket_seconds:
                last = now
                progress(f"  {now - stats.started:6.0f} s: server RSS {samples[-1][1] / MIB:.1f} MiB, "
                         f"server CPU {samples[-1][2] - cpu_start:.1f} s")

    sampler = threading.Thread(target=sample, name="soak-sampler", daemon=True)
    sampler.start()
    try:
        if procs:
            for conn in pipes:
                if not conn.poll(seconds + 330):
                    raise RuntimeError("a load process did not report; the server stopped answering")
                stats.merge(conn.recv())
        else:
            workers = _run_clients(range(clients), make_client, stats, *args)
        elapsed = time.perf_counter() - stats.started
    finally:
        stop.set()
        sampler.join(5)
    rss_end, cpu_end = rss(), cpu()
    disk_loaded = dir_bytes(data_dir) if data_dir else None
    if procs:
        for conn, proc in zip(pipes, procs):
            try:
                conn.send("cleanup")
                if not conn.poll(300):
                    raise TimeoutError("a load process did not finish its cleanup")
                stats.merge(conn.recv())
            except (OSError, EOFError) as e:  # a process that failed has already reported
                if isinstance(e, TimeoutError):
                    stats.fail("cleanup", e)
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    else:
        _cleanup(workers, stats)
    disk_end = dir_bytes(data_dir) if data_dir else None
    result = summarize(stats, samples, elapsed, clients, max_size, rss_start, rss_end, cpu_end - cpu_start,
                       disk_start, disk_loaded, disk_end)
    result["processes"] = max(1, len(procs))
    # Every object is deleted now, so a blob left behind is bytes the server forgot to free.
    result["blobs_after_cleanup"] = stored_blobs(data_dir) if data_dir else None
    return result


def summarize(stats: Stats, samples: list[tuple[float, int, float]], elapsed: float, clients: int, max_size: int,
              rss_start: int, rss_end: int, cpu_seconds: float, disk_start: int | None, disk_loaded: int | None,
              disk_end: int | None) -> dict[str, Any]:
    families: dict[str, Any] = {}
    for family in sorted(stats.latencies):
        buckets = stats.latencies[family]
        every = [x for b in buckets.values() for x in b]
        families[family] = {
            "calls": len(every),
            "errors": stats.errors.get(family, 0),
            "verified": stats.verified.get(family, 0),
            "p50_ms": percentile(every, 50) * 1000,
            "p99_ms": percentile(every, 99) * 1000,
            "buckets": [{"bucket": i, "calls": len(buckets[i]), "p50_ms": percentile(buckets[i], 50) * 1000,
                         "p99_ms": percentile(buckets[i], 99) * 1000} for i in sorted(buckets)],
        }
    n_buckets = max(1, int(-(-elapsed // stats.bucket_seconds)))
    cpu_by_bucket, rss_by_bucket = [], []
    for i in range(n_buckets):
        inside = [s for s in samples if i * stats.bucket_seconds <= s[0] < (i + 1) * stats.bucket_seconds]
        rss_by_bucket.append(max((s[1] for s in inside), default=None))
        cpu_by_bucket.append(inside[-1][2] - inside[0][2] if len(inside) > 1 else None)
    calls = sum(f["calls"] for f in families.values())
    calls_by_bucket = [sum(len(stats.latencies[f].get(i, ())) for f in stats.latencies) for i in range(n_buckets)]
    return {
        "seconds": elapsed,
        "clients": clients,
        "max_object_bytes": max_size,
        "bucket_seconds": stats.bucket_seconds,
        "calls": calls,
        "errors": sum(stats.errors.values()),
        "error_samples": stats.error_samples,
        "errors_by_family": dict(stats.errors),
        "verified_reads": sum(stats.verified.values()),  # answers checked against what was written
        "bytes_put": stats.bytes_put,
        "bytes_got": stats.bytes_got,
        "rss_start_bytes": rss_start,
        "rss_end_bytes": rss_end,
        "rss_max_bytes": max([rss_start, rss_end, *(s[1] for s in samples)]),
        "rss_max_by_bucket_bytes": rss_by_bucket,
        "server_cpu_seconds": cpu_seconds,
        "server_cpu_share": cpu_seconds / elapsed if elapsed else None,
        "server_cpu_by_bucket_seconds": cpu_by_bucket,
        # Per call, so that a busier or quieter load generator does not read as drift.
        "server_cpu_ms_per_call_by_bucket": [None if cpu is None or not n else cpu / n * 1000
                                             for cpu, n in zip(cpu_by_bucket, calls_by_bucket)],
        "calls_by_bucket": calls_by_bucket,
        "data_dir_bytes": {"start": disk_start, "loaded": disk_loaded, "after_cleanup": disk_end},
        "families": families,
    }


def _fmt(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None or x != x else f"{x:.{digits}f}"


def render(result: dict[str, Any]) -> str:
    """The stdout table: per family, calls, errors, p50/p99 overall and in the first and last buckets."""
    unit = "min" if result["bucket_seconds"] == 60 else f"{result['bucket_seconds']:g}s"
    rows = [["operation", "calls", "errors", "checked", "p50 ms", "p99 ms",
             f"p50 first/last {unit}", f"p99 first/last {unit}"]]
    for family, f in result["families"].items():
        full = [b for b in f["buckets"] if b["calls"]]
        first, last = (full[0], full[-1]) if full else ({}, {})
        rows.append([family, str(f["calls"]), str(f["errors"]), str(f["verified"]), _fmt(f["p50_ms"]),
                     _fmt(f["p99_ms"]), f"{_fmt(first.get('p50_ms'))} / {_fmt(last.get('p50_ms'))}",
                     f"{_fmt(first.get('p99_ms'))} / {_fmt(last.get('p99_ms'))}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    disk = result["data_dir_bytes"]
    lines += [
        "",
        f"{result['clients']} clients for {result['seconds']:.0f} s: {result['calls']} calls, "
        f"{result['errors']} errors, {result['verified_reads']} answers checked; "
        f"{result['bytes_put'] / MIB:.0f} MiB written, {result['bytes_got'] / MIB:.0f} MiB read back",
        f"server RSS (MiB): start {result['rss_start_bytes'] / MIB:.1f}, end {result['rss_end_bytes'] / MIB:.1f}, "
        f"max {result['rss_max_bytes'] / MIB:.1f}; per {unit}: "
        + " ".join(_fmt(x / MIB if x else None, 0) for x in result["rss_max_by_bucket_bytes"]),
        f"server CPU: {result['server_cpu_seconds']:.1f} s "
        f"({100 * (result['server_cpu_share'] or 0):.0f} % of one core); "
        f"per {unit}: " + " ".join(_fmt(x, 1) for x in result["server_cpu_by_bucket_seconds"]),
        f"server CPU per call (ms), per {unit}: "
        + " ".join(_fmt(x, 2) for x in result["server_cpu_ms_per_call_by_bucket"]),
    ]
    if disk["start"] is not None:
        lines.append(f"data dir (MiB): start {disk['start'] / MIB:.1f}, at the end of the load "
                     f"{disk['loaded'] / MIB:.1f}, after cleanup {disk['after_cleanup'] / MIB:.1f} "
                     f"({result['blobs_after_cleanup']} blobs left)")
    for sample in result["error_samples"][:5]:
        lines.append(f"error: {sample}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0, help="length of the load (default 10, at most 120)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients, one thread each (default 16)")
    p.add_argument("--max-mib", type=int, default=64, help="largest object, MiB (default 64)")
    p.add_argument("--bucket-seconds", type=float, default=60.0, help="latency buckets (default one minute)")
    p.add_argument("--processes", type=int, default=4,
                   help="load processes the clients are spread over (default 4; 1 = threads only)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--output", type=Path, default=None)
    args = p.parse_args(argv)
    if not 0 < args.minutes <= 120:
        p.error("--minutes must be in (0, 120]")
    if not 1 <= args.clients <= 64:
        p.error("--clients must be in [1, 64]")
    if not 1 <= args.max_mib <= 256:
        p.error("--max-mib must be in [1, 256]")
    if not 1 <= args.processes <= args.clients:
        p.error("--processes must be in [1, --clients]")
    if not 1 <= args.bucket_seconds <= 600:
        p.error("--bucket-seconds must be in [1, 600]")
    return args


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import signal

    import clients
    from run import machine
    from servers import ROOT, SERVERS, Server

    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    started = datetime.now(timezone.utc)

    def make_client(service: str):
        return clients.make(server.endpoint, service, connect_timeout=5, read_timeout=300)

    try:
        with Server(SERVERS["gureum"]) as server:
            server.start()
            server.wait_ready(30)
            print(f"soak: {args.clients} clients for {args.minutes:g} min, objects up to {args.max_mib} MiB, "
                  f"against {server.endpoint}", flush=True)
            result = soak(make_client, args.minutes * 60, args.clients, args.max_mib * MIB,
                          rss=server.rss_bytes, cpu=server.cpu_seconds, data_dir=server.workdir / "data",
                          bucket_seconds=args.bucket_seconds, seed=args.seed, processes=args.processes,
                          progress=lambda line: print(line, flush=True))
            result["server_peak_rss_bytes"] = server.peak_rss_bytes()
            log_tail = server.log_tail(40)
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped", file=sys.stderr)
        return 130
    print()
    print(render(result))
    if result["errors"] and log_tail:
        print("server log tail:\n" + log_tail)
    report = {"started_at": started.isoformat(timespec="seconds"), "machine": machine(),
              "settings": {"minutes": args.minutes, "clients": args.clients, "max_mib": args.max_mib,
                           "bucket_seconds": args.bucket_seconds, "seed": args.seed,
                           "processes": args.processes},
              "result": result}
    out = args.output or RESULTS_DIR / f"soak-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
