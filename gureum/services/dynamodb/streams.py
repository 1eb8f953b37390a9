"""DynamoDB Streams: a change record per item change, written with the change itself.

Each enabled stream has one open shard (gureum does not split shards; a shard is closed when
its stream is disabled). Records carry a per-stream sequence number, are kept 24 hours, and
are published on the event bus as "dynamodb:stream" once their transaction has committed.
The dynamodbstreams service (ListStreams, DescribeStream, GetShardIterator, GetRecords)
reads them through the `stream_*` methods here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from datetime import datetime, timezone

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.dynamodb import types
from gureum.services.dynamodb.errors import not_found, validation
from gureum.services.dynamodb.tables import Table

RETENTION_SECONDS = 24 * 3600
ITERATOR_SECONDS = 15 * 60
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
EVENT = "dynamodb:stream"
# Sequence numbers are decimal strings of one width, so they also sort as strings.
_SEQ_BASE = 10 ** 20
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}

MIGRATIONS = [
    """
    CREATE TABLE dynamodb_streams (
        stream_arn TEXT PRIMARY KEY, account_id TEXT NOT NULL, region TEXT NOT NULL,
        table_name TEXT NOT NULL, table_id TEXT NOT NULL, label TEXT NOT NULL, view_type TEXT NOT NULL,
        key_schema TEXT NOT NULL, shard_id TEXT NOT NULL, created REAL NOT NULL, disabled REAL,
        last_seq INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE dynamodb_stream_records (
        stream_arn TEXT NOT NULL, seq INTEGER NOT NULL, created REAL NOT NULL, record TEXT NOT NULL,
        PRIMARY KEY (stream_arn, seq)) WITHOUT ROWID;
    """
]


def sequence_number(seq: int) -> str:
    return str(_SEQ_BASE + seq)


def _seq(text: str) -> int:
    if not text.isdigit():
        raise validation(f"Invalid SequenceNumber: {text}")
    return int(text) - _SEQ_BASE


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _av_out(image: dict) -> dict:
    return {k: types.to_storage(v) for k, v in image.items()}


def _av_in(image: dict) -> dict:
    return {k: types.from_storage(v) for k, v in image.items()}


class StreamsMixin:
    """Stream records of the DynamoDB provider, and the operations of dynamodbstreams."""

    def _setup_streams(self) -> None:
        self.env.db.migrate("dynamodb-streams", MIGRATIONS)
        self._stream_pending: list[tuple[str, int, dict, dict]] = []
        self._stream_pending_lock = threading.Lock()
        self._identity = threading.local()

    # ---- the table side ----------------------------------------------------------------------

    def _check_stream_spec(self, spec: dict | None) -> str | None:
        """The view type a StreamSpecification asks for (None: no stream)."""
        if not spec or not spec.get("StreamEnabled"):
            if spec and spec.get("StreamViewType") is not None and not spec.get("StreamEnabled"):
                raise validation("One or more parameter values were invalid: "
                                 "StreamViewType cannot be specified when StreamEnabled is false")
            return None
        view = spec.get("StreamViewType")
        if view is None:
            raise validation("One or more parameter values were invalid: "
                             "StreamViewType is required when StreamEnabled is true")
        if view not in VIEW_TYPES:
            raise validation(f"1 validation error detected: Value '{view}' at 'streamSpecification.streamViewType' "
                             "failed to satisfy constraint: Member must satisfy enum value set: "
                             "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]")
        return view

    def _enable_stream(self, table: Table, view: str) -> None:
        now = clock.epoch()
        label = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        if label == table.stream_label:  # two streams of one table within a millisecond
            label = datetime.fromtimestamp(now + 0.001, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        table.stream_label, table.stream_view_type = label, view
        shard = f"shardId-{int(now * 1000):020d}-{uuid.uuid4().hex[:8]}"
        self.env.db.execute(
            "INSERT INTO dynamodb_streams (stream_arn, account_id, region, table_name, table_id, label, view_type,"
            " key_schema, shard_id, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (table.stream_arn, table.account_id, table.region, table.name, table.table_id, label, view,
             json.dumps(table.key_schema), shard, now))

    def _disable_stream(self, table: Table) -> None:
        if table.stream_view_type:
            self.env.db.execute("UPDATE dynamodb_streams SET disabled = ? WHERE stream_arn = ?",
                                (clock.epoch(), table.stream_arn))
        table.stream_view_type = None

    def _update_stream(self, table: Table, request: dict) -> bool:
        """UpdateTable's StreamSpecification; whether it changed anything."""
        spec = request.get("StreamSpecification")
        if spec is None:
            return False
        view = self._check_stream_spec(spec)
        if view is not None:
            if table.stream_view_type:
                raise validation(f"Table already has an enabled stream: TableName: {table.name}")
            self._enable_stream(table, view)
        else:
            if not table.stream_view_type:
                raise validation(f"Table has no stream to disable: TableName: {table.name}")
            self._disable_stream(table)
        return True

    def _describe_stream_of(self, table: Table, out: dict) -> None:
        if table.stream_view_type:
            out["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view_type}
        if table.stream_label:
            out["LatestStreamLabel"] = table.stream_label
            out["LatestStreamArn"] = table.stream_arn

    def _stream_changed(self, table: Table, old: dict | None, new: dict | None) -> None:
        """Write the stream record of one item change (inside the change's transaction)."""
        if old is None and new is None:
            return
        if old is not None and new is not None and old.keys() == new.keys() and all(
                types.equal(v, new[k]) for k, v in old.items()):
            return  # a write that changed nothing leaves no record
        view = table.stream_view_type
        source = new if new is not None else old
        keys = {table.hash_key: source[table.hash_key]}
        if table.range_key:
            keys[table.range_key] = source[table.range_key]
        body: dict = {"Keys": keys}
        if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None:
            body["NewImage"] = new
        if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None:
            body["OldImage"] = old
        size = sum(types.item_size(v) for v in body.values())
        db = self.env.db
        db.execute("UPDATE dynamodb_streams SET last_seq = last_seq + 1 WHERE stream_arn = ?", (table.stream_arn,))
        seq = db.query_one("SELECT last_seq FROM dynamodb_streams WHERE stream_arn = ?", (table.stream_arn,))["last_seq"]
        now = clock.epoch()
        record = {
            "eventID": uuid.uuid4().hex,
            "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": table.region,
            "dynamodb": {"ApproximateCreationDateTime": float(int(now)),
                         **{k: _av_out(v) for k, v in body.items()},
                         "SequenceNumber": sequence_number(seq), "SizeBytes": size, "StreamViewType": view},
        }
        identity = getattr(self._identity, "value", None)
        if identity:
            record["userIdentity"] = identity
        db.execute("INSERT INTO dynamodb_stream_records (stream_arn, seq, created, record) VALUES (?, ?, ?, ?)",
                   (table.stream_arn, seq, now, json.dumps(record, separators=(",", ":"))))
        with self._stream_pending_lock:
            first = not self._stream_pending
            self._stream_pending.append((table.stream_arn, seq, record, {"table_arn": table.arn,
                                                                          "account_id": table.account_id,
                                                                          "region": table.region}))
        if first:
            try:
                asyncio.get_running_loop().call_soon(self._publish_stream_records)
            except RuntimeError:
                pass  # a background thread publishes after its own commit

    def _publish_stream_records(self) -> None:
        """Announce the committed pending records; those of rolled-back writes are dropped."""
        with self._stream_pending_lock:
            pending, self._stream_pending = self._stream_pending, []
        for arn, seq, record, where in pending:
            row = self.env.db.query_one("SELECT record FROM dynamodb_stream_records WHERE stream_arn = ? AND seq = ?",
                                        (arn, seq))
            if row is None or json.loads(row["record"])["eventID"] != record["eventID"]:
                continue
            self.env.events.publish(EVENT, {"stream_arn": arn, **where,
                                            "record": {**record, "eventSourceARN": arn}})

    def _trim_streams(self) -> None:
        """Drop records past retention, and streams disabled longer than that."""
        cutoff = clock.epoch() - RETENTION_SECONDS
        with self.env.db.transaction():
            self.env.db.execute("DELETE FROM dynamodb_stream_records WHERE created < ?", (cutoff,))
            self.env.db.execute("DELETE FROM dynamodb_streams WHERE disabled IS NOT NULL AND disabled < ?", (cutoff,))

    # ---- dynamodbstreams ---------------------------------------------------------------------

    def _stream_row(self, ctx: RequestContext, arn: str):
        row = self.env.db.query_one("SELECT * FROM dynamodb_streams WHERE stream_arn = ?", (arn,))
        if row is None or row["account_id"] != ctx.account_id or row["region"] != ctx.region:
            raise not_found(f"Requested resource not found: Stream: {arn} not found")
        return row

    def stream_list_streams(self, ctx: RequestContext, request: dict) -> dict:
        limit = request.get("Limit", 100)
        if not 1 <= limit <= 100:
            raise validation(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                             f"Member must have value {'less' if limit > 100 else 'greater'} than or equal to "
                             f"{100 if limit > 100 else 1}")
        sql = "SELECT stream_arn, table_name, label FROM dynamodb_streams WHERE account_id = ? AND region = ?"
        params: list = [ctx.account_id, ctx.region]
        if request.get("TableName"):
            sql += " AND table_name = ?"
            params.append(request["TableName"])
        if request.get("ExclusiveStartStreamArn"):
            sql += " AND stream_arn > ?"
            params.append(request["ExclusiveStartStreamArn"])
        rows = self.env.db.query(f"{sql} ORDER BY stream_arn LIMIT ?", (*params, limit + 1))
        out: dict = {"Streams": [{"StreamArn": r["stream_arn"], "TableName": r["table_name"], "StreamLabel": r["label"]}
                                 for r in rows[:limit]]}
        if len(rows) > limit:
            out["LastEvaluatedStreamArn"] = rows[limit - 1]["stream_arn"]
        return out

    def stream_describe_stream(self, ctx: RequestContext, request: dict) -> dict:
        row = self._stream_row(ctx, request["StreamArn"])
        shard_range = {"StartingSequenceNumber": sequence_number(1)}
        if row["disabled"] is not None:
            shard_range["EndingSequenceNumber"] = sequence_number(row["last_seq"])
        shards = [{"ShardId": row["shard_id"], "SequenceNumberRange": shard_range}]
        start = request.get("ExclusiveStartShardId")
        if start is not None:
            shards = [s for s in shards if s["ShardId"] > start]
        return {"StreamDescription": {
            "StreamArn": row["stream_arn"], "StreamLabel": row["label"],
            "StreamStatus": "DISABLED" if row["disabled"] is not None else "ENABLED",
            "StreamViewType": row["view_type"], "CreationRequestDateTime": _ts(row["created"]),
            "TableName": row["table_name"], "KeySchema": json.loads(row["key_schema"]), "Shards": shards}}

    def stream_get_shard_iterator(self, ctx: RequestContext, request: dict) -> dict:
        row = self._stream_row(ctx, request["StreamArn"])
        if request["ShardId"] != row["shard_id"]:
            raise not_found("Requested resource not found: Shard does not exist")
        kind = request["ShardIteratorType"]
        given = request.get("SequenceNumber")
        if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if given is None:
                raise validation(f"SequenceNumber is required for ShardIteratorType {kind}")
            seq = _seq(given)
            if not 1 <= seq <= row["last_seq"]:
                raise validation(f"Invalid SequenceNumber {given} for shard {row['shard_id']}: it is not in the shard")
            position = seq if kind == "AT_SEQUENCE_NUMBER" else seq + 1
        elif given is not None:
            raise validation(f"SequenceNumber cannot be specified for ShardIteratorType {kind}")
        elif kind == "LATEST":
            position = row["last_seq"] + 1
        else:
            first = self.env.db.query_one("SELECT MIN(seq) AS s FROM dynamodb_stream_records WHERE stream_arn = ?",
                                          (row["stream_arn"],))["s"]
            position = first if first is not None else row["last_seq"] + 1
        return {"ShardIterator": self._iterator(row, position)}

    @staticmethod
    def _iterator(row, position: int) -> str:
        token = json.dumps([row["shard_id"], position, clock.epoch()]).encode()
        return f"{row['stream_arn']}|1|{base64.urlsafe_b64encode(token).decode()}"

    def stream_get_records(self, ctx: RequestContext, request: dict) -> dict:
        text = request["ShardIterator"]
        try:
            arn, version, token = text.split("|")
            shard, position, issued = json.loads(base64.urlsafe_b64decode(token.encode()))
            assert version == "1" and isinstance(position, int)
        except Exception:
            raise validation("Invalid ShardIterator") from None
        limit = request.get("Limit", 1000)
        if not 1 <= limit <= 1000:
            raise validation(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                             f"Member must have value {'less' if limit > 1000 else 'greater'} than or equal to "
                             f"{1000 if limit > 1000 else 1}")
        now = clock.epoch()
        if now - issued > ITERATOR_SECONDS:
            raise ServiceError("ExpiredIteratorException",
                               f"Iterator expired. The iterator was created at time {_amz(issued)} while right now "
                               f"it is {_amz(now)} which is further in the future than the tolerated delay of "
                               f"{ITERATOR_SECONDS * 1000} milliseconds.", 400)
        row = self._stream_row(ctx, arn)
        if shard != row["shard_id"]:
            raise not_found("Requested resource not found: Shard does not exist")
        rows = self.env.db.query(
            "SELECT seq, record FROM dynamodb_stream_records WHERE stream_arn = ? AND seq >= ? AND created >= ?"
            " ORDER BY seq LIMIT ?", (arn, position, now - RETENTION_SECONDS, limit))
        records = []
        for r in rows:
            record = json.loads(r["record"])
            body = record["dynamodb"]
            body["ApproximateCreationDateTime"] = _ts(body["ApproximateCreationDateTime"])
            for part in ("Keys", "NewImage", "OldImage"):
                if part in body:
                    body[part] = _av_in(body[part])
            records.append(record)
        following = rows[-1]["seq"] + 1 if rows else position
        out: dict = {"Records": records}
        if row["disabled"] is None or following <= row["last_seq"]:
            out["NextShardIterator"] = self._iterator(row, following)
        return out


def _amz(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
