"""Amazon DynamoDB: tables, items with expressions, Query/Scan, batches and transactions.

Items live in one SQLite table keyed by (table id, encoded hash key, encoded range key); the
encodings sort as DynamoDB sorts keys (keys.py), so Query reads in key order from the primary
key index and never sorts in Python.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
import zlib
from datetime import datetime, timezone

from gureum import clock
from gureum.context import RequestContext
from gureum.policy.actions_dynamodb import set_partition_key_lookup
from gureum.protocol.errors import ServiceError
from gureum.services.base import BaseProvider
from gureum.services.dynamodb import keys, legacy, types
from gureum.services.dynamodb.errors import (
    conditional_check_failed,
    in_use,
    invalid_parameter,
    not_found,
    validation,
)
from gureum.services.dynamodb.expressions import evaluate
from gureum.services.dynamodb.expressions.parser import Placeholders, parse
from gureum.services.dynamodb.backups import BackupOperations
from gureum.services.dynamodb.idempotency import RequestTokens
from gureum.services.dynamodb.partiql.operations import PartiQLOperations
from gureum.services.dynamodb.tables import Table, check_billing, check_key_schema, check_table_name
from gureum.services.dynamodb.indexes import IndexesMixin, check_create
from gureum.services.dynamodb.streams import StreamsMixin
from gureum.services.dynamodb.ttl import TtlMixin

PAGE_BYTES = 1024 * 1024
_FETCH = 256

MIGRATIONS = [
    """
    CREATE TABLE dynamodb_tables (
        account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
        table_id TEXT NOT NULL UNIQUE, meta TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name));
    CREATE TABLE dynamodb_items (
        table_id TEXT NOT NULL, hk BLOB NOT NULL, rk BLOB NOT NULL,
        item TEXT NOT NULL, size INTEGER NOT NULL,
        PRIMARY KEY (table_id, hk, rk)) WITHOUT ROWID;
    """
]


def _now() -> float:
    return clock.epoch()


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


class Provider(PartiQLOperations, BackupOperations, IndexesMixin, StreamsMixin, TtlMixin, BaseProvider):
    service_name = "dynamodb"
    MIGRATIONS = MIGRATIONS

    def __init__(self, env):
        super().__init__(env)
        self._tables: dict[tuple[str, str, str], Table] = {}
        self._request_tokens = RequestTokens(env.db)  # TransactWriteItems ClientRequestToken, in SQLite
        set_partition_key_lookup(self._partition_key_name)
        self._setup_changes()  # indexes, streams, TTL

    # ---- tables ----------------------------------------------------------------------------

    def _partition_key_name(self, account: str, region: str, name: str) -> str | None:
        table = self._find(account, region, name)
        return table.hash_key if table else None

    def _find(self, account: str, region: str, name: str) -> Table | None:
        if name.startswith("arn:"):
            name = name.split(":table/", 1)[-1].split("/", 1)[0]
        key = (account, region, name)
        table = self._tables.get(key)
        if table is None:
            row = self.env.db.query_one(
                "SELECT meta FROM dynamodb_tables WHERE account_id = ? AND region = ? AND name = ?", key)
            if row is None:
                return None
            table = Table(**json.loads(row["meta"]))
            self._tables[key] = table
        return table

    def _table(self, ctx: RequestContext, name: str, message: str = "Requested resource not found") -> Table:
        table = self._find(ctx.account_id, ctx.region, name)
        if table is None:
            raise not_found(message)
        return table

    def _save(self, table: Table) -> None:
        meta = json.dumps(table.__dict__)
        self.env.db.execute(
            "INSERT INTO dynamodb_tables (account_id, region, name, table_id, meta) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (account_id, region, name) DO UPDATE SET meta = excluded.meta",
            (table.account_id, table.region, table.name, table.table_id, meta))
        self._tables[(table.account_id, table.region, table.name)] = table

    def _describe(self, table: Table, status: str = "ACTIVE") -> dict:
        row = self.env.db.query_one(
            "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM dynamodb_items WHERE table_id = ?",
            (table.table_id,))
        billing = {"BillingMode": table.billing_mode}
        if table.pay_per_request_since:
            billing["LastUpdateToPayPerRequestDateTime"] = _ts(table.pay_per_request_since)
        return {
            "AttributeDefinitions": table.attribute_definitions,
            "TableName": table.name,
            "KeySchema": table.key_schema,
            "TableStatus": status,
            "CreationDateTime": _ts(table.created),
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": table.read_units,
                                      "WriteCapacityUnits": table.write_units},
            "TableSizeBytes": row["bytes"],
            "ItemCount": row["n"],
            "TableArn": table.arn,
            "TableId": table.table_id,
            "BillingModeSummary": billing,
            "DeletionProtectionEnabled": table.deletion_protection,
            **self._describe_changes(table),
        }

    def create_table(self, ctx: RequestContext, request: dict) -> dict:
        name = request["TableName"]
        check_table_name(name)
        key_schema, definitions = request["KeySchema"], request["AttributeDefinitions"]
        check_key_schema(key_schema, definitions,
                         indexed=bool(request.get("GlobalSecondaryIndexes") or request.get("LocalSecondaryIndexes")))
        mode = request.get("BillingMode", "PROVISIONED")
        read, write = check_billing(mode, request.get("ProvisionedThroughput"))
        indexes = check_create(request, mode)
        stream_view = self._check_stream_spec(request.get("StreamSpecification"))
        if self._find(ctx.account_id, ctx.region, name):
            raise in_use(f"Table already exists: {name}")
        now = _now()
        table = Table(
            account_id=ctx.account_id, region=ctx.region, name=name, table_id=str(uuid.uuid4()), created=now,
            key_schema=[{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in key_schema],
            attribute_definitions=[{"AttributeName": d["AttributeName"], "AttributeType": d["AttributeType"]}
                                   for d in definitions],
            billing_mode=mode, read_units=read, write_units=write,
            deletion_protection=bool(request.get("DeletionProtectionEnabled", False)),
            tags={t["Key"]: t["Value"] for t in request.get("Tags", [])},
            pay_per_request_since=now if mode == "PAY_PER_REQUEST" else None,
            indexes=indexes,
        )
        if stream_view:
            self._enable_stream(table, stream_view)
        self._save(table)
        return {"TableDescription": self._describe(table)}

    def describe_table(self, ctx: RequestContext, request: dict) -> dict:
        name = request["TableName"]
        table = self._table(ctx, name, f"Requested resource not found: Table: {name} not found")
        return {"Table": self._describe(table)}

    def list_tables(self, ctx: RequestContext, request: dict) -> dict:
        limit = request.get("Limit", 100)
        if not 1 <= limit <= 100:
            raise validation(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                             f"Member must have value {'less' if limit > 100 else 'greater'} than or equal to {100 if limit > 100 else 1}")
        start = request.get("ExclusiveStartTableName", "")
        rows = self.env.db.query(
            "SELECT name FROM dynamodb_tables WHERE account_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?",
            (ctx.account_id, ctx.region, start, limit + 1))
        names = [r["name"] for r in rows]
        out: dict = {"TableNames": names[:limit]}
        if len(names) > limit:
            out["LastEvaluatedTableName"] = names[limit - 1]
        return out

    def delete_table(self, ctx: RequestContext, request: dict) -> dict:
        name = request["TableName"]
        table = self._table(ctx, name, f"Requested resource not found: Table: {name} not found")
        if table.deletion_protection:
            raise validation("Resource cannot be deleted as it is currently protected against deletion. "
                             "Disable deletion protection first.")
        described = self._describe(table, "DELETING")
        with self.env.db.transaction():
            self.env.db.execute("DELETE FROM dynamodb_items WHERE table_id = ?", (table.table_id,))
            self.env.db.execute("DELETE FROM dynamodb_tables WHERE table_id = ?", (table.table_id,))
            self._drop_changes(table)
        self._tables.pop((table.account_id, table.region, table.name), None)
        return {"TableDescription": described}

    def update_table(self, ctx: RequestContext, request: dict) -> dict:
        name = request["TableName"]
        table = self._table(ctx, name, f"Requested resource not found: Table: {name} not found")
        if request.get("ReplicaUpdates"):
            raise validation("ReplicaUpdates is not supported by gureum yet")
        mode = request.get("BillingMode", table.billing_mode)
        throughput = request.get("ProvisionedThroughput")
        changed, index_statuses = self._update_changes(table, request)
        if mode != table.billing_mode or throughput:
            if mode == "PROVISIONED" and not throughput and table.billing_mode == "PAY_PER_REQUEST":
                raise invalid_parameter("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
            read, write = check_billing(mode, throughput)
            if mode == "PAY_PER_REQUEST" and table.billing_mode != mode:
                table.pay_per_request_since = _now()
            table.billing_mode, table.read_units, table.write_units = mode, read, write
            changed = True
        if "DeletionProtectionEnabled" in request:
            table.deletion_protection = bool(request["DeletionProtectionEnabled"])
            changed = True
        if not changed and "TableClass" not in request:
            raise validation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                             "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
        self._save(table)
        return {"TableDescription": self._show_index_statuses(self._describe(table), index_statuses)}

    def tag_resource(self, ctx: RequestContext, request: dict) -> dict:
        table = self._by_arn(ctx, request["ResourceArn"])
        table.tags.update({t["Key"]: t["Value"] for t in request["Tags"]})
        self._save(table)
        return {}

    def untag_resource(self, ctx: RequestContext, request: dict) -> dict:
        table = self._by_arn(ctx, request["ResourceArn"])
        for key in request["TagKeys"]:
            table.tags.pop(key, None)
        self._save(table)
        return {}

    def list_tags_of_resource(self, ctx: RequestContext, request: dict) -> dict:
        table = self._by_arn(ctx, request["ResourceArn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in table.tags.items()]}

    def _by_arn(self, ctx: RequestContext, arn: str) -> Table:
        parts = arn.split(":")
        if len(parts) < 6 or not parts[5].startswith("table/"):
            raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
        table = self._find(parts[4], parts[3], parts[5][len("table/"):])
        if table is None or parts[4] != ctx.account_id:
            raise not_found(f"Requested resource not found: ResourcArn: {arn} not found")
        return table

    # ---- keys and storage --------------------------------------------------------------------

    def _key(self, table: Table, key: dict, *, item: bool = False) -> tuple[bytes, bytes]:
        """Encoded (hash, range) of a Key (or of an item when `item`), validated as AWS does."""
        names = [table.hash_key] + ([table.range_key] if table.range_key else [])
        if not item and (len(key) != len(names) or any(n not in key for n in names)):
            raise validation("The provided key element does not match the schema")
        encoded = []
        for n in names:
            value = key.get(n)
            if value is None:
                raise invalid_parameter(f"Missing the key {n} in the item")
            expected = table.key_type(n)
            actual = types.kind_of(value) if isinstance(value, dict) and len(value) == 1 else None
            if actual != expected:
                if not item:
                    raise validation("The provided key element does not match the schema")
                raise invalid_parameter(f"Type mismatch for key {n} expected: {expected} actual: {actual}")
            if actual in ("S", "B") and len(value[actual]) == 0:
                raise validation("One or more parameter values are not valid. The AttributeValue for a key attribute "
                                 f"cannot contain an empty {'string' if actual == 'S' else 'binary'} value. Key: {n}")
            if actual == "N":
                value = {"N": types.normalize_number(value["N"])}
            raw = keys.encode_key_value(value)
            size = len(value[actual]) if actual == "B" else len(str(value[actual]).encode())
            if n == table.hash_key and size > 2048:
                raise invalid_parameter("Size of hashkey has exceeded the maximum size limit of 2048 bytes")
            if n == table.range_key and size > 1024:
                raise invalid_parameter("Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
            encoded.append(raw)
        return encoded[0], encoded[1] if len(encoded) > 1 else b""

    def _load(self, table: Table, hk: bytes, rk: bytes) -> dict | None:
        row = self.env.db.query_one("SELECT item FROM dynamodb_items WHERE table_id = ? AND hk = ? AND rk = ?",
                                    (table.table_id, hk, rk))
        return _decode(row["item"]) if row else None

    def _store(self, table: Table, hk: bytes, rk: bytes, item: dict | None, size: int = 0) -> None:
        self._item_changed(table, hk, rk, item)  # indexes, TTL and stream, in this transaction
        self._pitr_changed(table, hk, rk)  # point-in-time recovery's change log (backups.py)
        if item is None:
            self.env.db.execute("DELETE FROM dynamodb_items WHERE table_id = ? AND hk = ? AND rk = ?",
                                (table.table_id, hk, rk))
        else:
            self.env.db.execute(
                "INSERT OR REPLACE INTO dynamodb_items (table_id, hk, rk, item, size) VALUES (?, ?, ?, ?, ?)",
                (table.table_id, hk, rk, _encode(item), size))

    def _key_of(self, table: Table, item: dict) -> dict:
        out = {table.hash_key: item[table.hash_key]}
        if table.range_key:
            out[table.range_key] = item[table.range_key]
        return out

    # ---- single-item writes ------------------------------------------------------------------

    def _condition(self, request: dict, ph: Placeholders):
        text = request.get("ConditionExpression")
        if text is None:
            return legacy.expected(request)
        return ph.bind(parse("condition", "ConditionExpression", text), "ConditionExpression")

    def _check(self, cond, old: dict | None, request: dict) -> None:
        if cond is not None and not evaluate.condition(old or {}, cond):
            item = old if old is not None and request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
            raise conditional_check_failed(item)

    def _plan_put(self, ctx, request: dict):
        table = self._table(ctx, request["TableName"])
        item = types.validate_item(request["Item"])
        hk, rk = self._key(table, item, item=True)
        size = types.check_item_size(item)
        ph = _placeholders(request)
        cond = self._condition(request, ph)
        ph.check_all_used()
        return table, hk, rk, cond, lambda old: (item, size)

    def _plan_delete(self, ctx, request: dict):
        table = self._table(ctx, request["TableName"])
        hk, rk = self._key(table, request["Key"])
        ph = _placeholders(request)
        cond = self._condition(request, ph)
        ph.check_all_used()
        return table, hk, rk, cond, lambda old: (None, 0)

    def _plan_update(self, ctx, request: dict):
        table = self._table(ctx, request["TableName"])
        key = request["Key"]
        hk, rk = self._key(table, key)
        ph = _placeholders(request)
        text = request.get("UpdateExpression")
        actions = ph.bind(parse("update", "UpdateExpression", text), "UpdateExpression") if text is not None else ()
        if request.get("AttributeUpdates"):
            actions = legacy.attribute_updates(request["AttributeUpdates"])
        cond = self._condition(request, ph)
        ph.check_all_used()
        for action in actions:
            if action[0] == "ADD" or action[0] == "DELETE":
                types.validate_value(action[2][1])
            top = action[1][1][0]
            if top in key:
                raise invalid_parameter(f"Cannot update attribute {top}. This attribute is part of the key")
        normal_key = {n: types.validate_value(v) for n, v in key.items()}

        def compute(old):
            base = old if old is not None else dict(normal_key)
            new = evaluate.apply_update(base, actions)
            new = types.validate_item(new)
            return new, types.check_item_size(new)
        return table, hk, rk, cond, compute, actions

    def put_item(self, ctx: RequestContext, request: dict) -> dict:
        rv = request.get("ReturnValues", "NONE")
        if rv not in ("NONE", "ALL_OLD"):
            raise validation("ReturnValues can only be ALL_OLD or NONE")
        table, hk, rk, cond, compute = self._plan_put(ctx, request)
        with self.env.db.transaction():
            old = self._load(table, hk, rk)
            self._check(cond, old, request)
            new, size = compute(old)
            self._store(table, hk, rk, new, size)
        out: dict = {}
        if rv == "ALL_OLD" and old is not None:
            out["Attributes"] = old
        self._write_capacity(out, request, table, old, size)
        return out

    def delete_item(self, ctx: RequestContext, request: dict) -> dict:
        rv = request.get("ReturnValues", "NONE")
        if rv not in ("NONE", "ALL_OLD"):
            raise validation("ReturnValues can only be ALL_OLD or NONE")
        table, hk, rk, cond, _ = self._plan_delete(ctx, request)
        with self.env.db.transaction():
            old = self._load(table, hk, rk)
            self._check(cond, old, request)
            if old is not None:
                self._store(table, hk, rk, None)
        out: dict = {}
        if rv == "ALL_OLD" and old is not None:
            out["Attributes"] = old
        self._write_capacity(out, request, table, old, 0)
        return out

    def update_item(self, ctx: RequestContext, request: dict) -> dict:
        rv = request.get("ReturnValues", "NONE")
        table, hk, rk, cond, compute, actions = self._plan_update(ctx, request)
        with self.env.db.transaction():
            old = self._load(table, hk, rk)
            self._check(cond, old, request)
            new, size = compute(old)
            self._store(table, hk, rk, new, size)
        out: dict = {}
        # UPDATED_* return only the document paths the update named, nested as in the item.
        touched = tuple(a[1] for a in actions)
        if rv == "ALL_OLD" and old is not None:
            out["Attributes"] = old
        elif rv == "ALL_NEW":
            out["Attributes"] = new
        elif rv in ("UPDATED_OLD", "UPDATED_NEW"):
            source = old if rv == "UPDATED_OLD" else new
            picked = _project(source, touched) if source is not None else {}
            if picked:
                out["Attributes"] = picked
        self._write_capacity(out, request, table, old, size)
        return out

    # ---- reads -------------------------------------------------------------------------------

    def _projection(self, request: dict, ph: Placeholders):
        text = request.get("ProjectionExpression")
        if text is None:
            if request.get("AttributesToGet"):
                return tuple(("path", (n,)) for n in request["AttributesToGet"])
            return None
        return ph.bind(parse("projection", "ProjectionExpression", text), "ProjectionExpression")

    def get_item(self, ctx: RequestContext, request: dict) -> dict:
        table = self._table(ctx, request["TableName"])
        hk, rk = self._key(table, request["Key"])
        ph = _placeholders(request)
        projection = self._projection(request, ph)
        ph.check_all_used()
        item = self._load(table, hk, rk)
        out: dict = {}
        if item is not None:
            out["Item"] = _project(item, projection)
        units = _read_units(types.item_size(item) if item else 0, request.get("ConsistentRead", False))
        self._capacity(out, request, table, units)
        return out

    def _write_capacity(self, out: dict, request: dict, table: Table, old: dict | None, size: int) -> None:
        self._collection_metrics(out, request, table)
        written = max(size, types.item_size(old) if old else 0)
        self._capacity(out, request, table, max(1, math.ceil(written / 1024)))

    def _capacity(self, out: dict, request: dict, table: Table, units: float) -> None:
        mode = request.get("ReturnConsumedCapacity", "NONE")
        if mode in ("TOTAL", "INDEXES"):
            out["ConsumedCapacity"] = _consumed(table.name, units, mode)

    def query(self, ctx: RequestContext, request: dict) -> dict:
        table = self._table(ctx, request["TableName"])
        if request.get("IndexName"):
            return self._read_index(table, request, scan=False)
        ph = _placeholders(request)
        text = request.get("KeyConditionExpression")
        if text is None and request.get("KeyConditions") is None:
            raise validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
        key_cond = (ph.bind(parse("condition", "KeyConditionExpression", text), "KeyConditionExpression") if text is not None
                    else legacy.key_conditions(request["KeyConditions"]))
        hk, bounds = _key_bounds(table, key_cond)
        filt, projection, select = self._read_options(request, ph)
        ph.check_all_used()
        forward = request.get("ScanIndexForward", True)
        start = None
        if request.get("ExclusiveStartKey"):
            start_hk, start = self._key(table, request["ExclusiveStartKey"])
            if start_hk != hk:
                raise validation("The provided starting key is invalid: The provided key element does not match the schema")
        sql = "SELECT hk, rk, item, size FROM dynamodb_items WHERE table_id = ? AND hk = ?"
        params: list = [table.table_id, hk]
        for op, value in bounds:
            sql += f" AND rk {op} ?"
            params.append(value)
        order = " ORDER BY rk" + ("" if forward else " DESC")

        def fetch(after: bytes | None, count: int) -> list:
            # Keyset paging: each chunk starts after the last key read, straight from the index.
            position = after if after is not None else start
            if position is None:
                return self.env.db.query(f"{sql}{order} LIMIT {count}", params)
            return self.env.db.query(f"{sql} AND rk {'>' if forward else '<'} ?{order} LIMIT {count}",
                                     [*params, position])
        return self._page(table, request, lambda row, n: fetch(row["rk"] if row else None, n),
                          filt, projection, select, lambda row: True)

    def scan(self, ctx: RequestContext, request: dict) -> dict:
        table = self._table(ctx, request["TableName"])
        if request.get("IndexName"):
            return self._read_index(table, request, scan=True)
        segment, total = request.get("Segment"), request.get("TotalSegments")
        if (segment is None) != (total is None):
            raise validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
                             if total is None else
                             "The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
        if total is not None and segment >= total:
            raise validation(f"The Segment parameter is zero-based and must be less than parameter TotalSegments: "
                             f"Segment: {segment} is not less than TotalSegments: {total}")
        ph = _placeholders(request)
        filt, projection, select = self._read_options(request, ph)
        ph.check_all_used()
        sql = "SELECT hk, rk, item, size FROM dynamodb_items WHERE table_id = ?"
        start = self._key(table, request["ExclusiveStartKey"]) if request.get("ExclusiveStartKey") else None

        def fetch(row, count: int) -> list:
            position = (row["hk"], row["rk"]) if row is not None else start
            if position is None:
                return self.env.db.query(f"{sql} ORDER BY hk, rk LIMIT {count}", [table.table_id])
            return self.env.db.query(f"{sql} AND (hk, rk) > (?, ?) ORDER BY hk, rk LIMIT {count}",
                                     [table.table_id, *position])
        in_segment = (lambda row: zlib.crc32(row["hk"]) % total == segment) if total else (lambda row: True)
        return self._page(table, request, fetch, filt, projection, select, in_segment)

    def _read_options(self, request: dict, ph: Placeholders):
        text = request.get("FilterExpression")
        filt = ph.bind(parse("condition", "FilterExpression", text), "FilterExpression") if text is not None else None
        if request.get("QueryFilter") or request.get("ScanFilter"):
            filt = legacy.filter_conditions(request.get("QueryFilter") or request.get("ScanFilter"),
                                            request.get("ConditionalOperator"))
        legacy.attributes_to_get(request)
        projection = self._projection(request, ph)
        select = request.get("Select")
        if select == "SPECIFIC_ATTRIBUTES" and projection is None:
            raise validation("Select type SPECIFIC_ATTRIBUTES requires ProjectionExpression or AttributesToGet")
        if select not in (None, "SPECIFIC_ATTRIBUTES") and projection is not None:
            raise validation("Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"
                             if select == "ALL_ATTRIBUTES" else
                             f"Cannot specify the ProjectionExpression when choosing to get {select}")
        if select in ("ALL_PROJECTED_ATTRIBUTES",):
            raise validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
        return filt, projection, select

    def _page(self, table: Table, request: dict, fetch, filt, projection, select, keep) -> dict:
        """One page of a Query or Scan: `fetch(after_row, count)` reads the next rows in order."""
        limit = request.get("Limit")
        if limit is not None and limit < 1:
            raise validation(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                             "Member must have value greater than or equal to 1")
        items, scanned, read_bytes, last = [], 0, 0, None
        done, after = False, None
        chunk = min(limit, _FETCH) if limit is not None else _FETCH
        while not done:
            rows = fetch(after, chunk)
            for row in rows:
                if not keep(row):
                    continue
                item = _decode(row["item"])
                scanned += 1
                read_bytes += row["size"]
                if filt is None or evaluate.condition(item, filt, "FilterExpression"):
                    items.append(item if select == "COUNT" else _project(item, projection))
                if (limit is not None and scanned >= limit) or read_bytes >= PAGE_BYTES:
                    last = item
                    done = True
                    break
            if len(rows) < chunk:
                break
            after = rows[-1]
        out: dict = {"Count": len(items), "ScannedCount": scanned}
        if select != "COUNT":
            out["Items"] = items
        if last is not None:
            out["LastEvaluatedKey"] = self._key_of(table, last)
        units = _read_units(read_bytes, request.get("ConsistentRead", False))
        self._capacity(out, request, table, units)
        return out

    # ---- batches -----------------------------------------------------------------------------

    def batch_get_item(self, ctx: RequestContext, request: dict) -> dict:
        wanted = request["RequestItems"]
        if sum(len(v["Keys"]) for v in wanted.values()) > 100:
            raise validation("Too many items requested for the BatchGetItem call")
        responses: dict = {}
        consumed = []
        for name, spec in wanted.items():
            table = self._table(ctx, name)
            ph = _placeholders(spec)
            projection = self._projection(spec, ph)
            ph.check_all_used()
            seen = set()
            found = []
            units = 0.0
            for key in spec["Keys"]:
                hk, rk = self._key(table, key)
                if (hk, rk) in seen:
                    raise invalid_parameter("Provided list of item keys contains duplicates")
                seen.add((hk, rk))
                item = self._load(table, hk, rk)
                units += _read_units(types.item_size(item) if item else 0, spec.get("ConsistentRead", False))
                if item is not None:
                    found.append(_project(item, projection))
            responses[table.name] = found
            consumed.append(_consumed(table.name, units, request.get("ReturnConsumedCapacity", "NONE")))
        out: dict = {"Responses": responses, "UnprocessedKeys": {}}
        if request.get("ReturnConsumedCapacity", "NONE") in ("TOTAL", "INDEXES"):
            out["ConsumedCapacity"] = consumed
        return out

    def batch_write_item(self, ctx: RequestContext, request: dict) -> dict:
        wanted = request["RequestItems"]
        total = sum(len(v) for v in wanted.values())
        if total > 25:
            raise validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
                             "Map value must satisfy constraint: [Member must have length less than or equal to 25, "
                             "Member must have length greater than or equal to 1]")
        plans = []
        seen = set()
        for name, writes in wanted.items():
            for write in writes:
                if ("PutRequest" in write) == ("DeleteRequest" in write):
                    raise validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
                if "PutRequest" in write:
                    plan = self._plan_put(ctx, {"TableName": name, "Item": write["PutRequest"]["Item"]})
                else:
                    plan = self._plan_delete(ctx, {"TableName": name, "Key": write["DeleteRequest"]["Key"]})
                ident = (plan[0].table_id, plan[1], plan[2])
                if ident in seen:
                    raise invalid_parameter("Provided list of item keys contains duplicates")
                seen.add(ident)
                plans.append(plan)
        units: dict[str, float] = {}
        with self.env.db.transaction():
            for table, hk, rk, _, compute in plans:
                old = self._load(table, hk, rk)
                new, size = compute(old)
                self._store(table, hk, rk, new, size)
                written = max(size, types.item_size(old) if old else 0)
                units[table.name] = units.get(table.name, 0) + max(1, math.ceil(written / 1024))
        out: dict = {"UnprocessedItems": {}}
        _add_consumed_per_table(out, request, units)
        return out

    # ---- transactions ------------------------------------------------------------------------

    def transact_write_items(self, ctx: RequestContext, request: dict) -> dict:
        entries = request["TransactItems"]
        if not 1 <= len(entries) <= 100:
            raise validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
                             "Member must have length less than or equal to 100")
        token = request.get("ClientRequestToken")
        fingerprint = hashlib.sha256(json.dumps(entries, sort_keys=True, default=repr).encode()).hexdigest()
        if token:
            earlier = self._request_tokens.earlier(ctx.account_id, ctx.region, token, fingerprint)
            if earlier is not None:
                return earlier
        plans = []
        seen = set()
        for entry in entries:
            (kind, spec), = entry.items()
            if kind == "Put":
                plan = self._plan_put(ctx, spec)
            elif kind == "Delete":
                plan = self._plan_delete(ctx, spec)
            elif kind == "Update":
                plan = self._plan_update(ctx, spec)[:5]
            else:
                table = self._table(ctx, spec["TableName"])
                hk, rk = self._key(table, spec["Key"])
                ph = _placeholders(spec)
                cond = self._condition(spec, ph)
                ph.check_all_used()
                plan = (table, hk, rk, cond, None)
            ident = (plan[0].table_id, plan[1], plan[2])
            if ident in seen:
                raise validation("Transaction request cannot include multiple operations on one item")
            seen.add(ident)
            plans.append((plan, spec))
        units: dict[str, float] = {}
        with self.env.db.transaction():
            olds = [self._load(p[0], p[1], p[2]) for p, _ in plans]
            reasons, failed = [], False
            for (plan, spec), old in zip(plans, olds):
                cond = plan[3]
                if cond is not None and not evaluate.condition(old or {}, cond):
                    reason = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
                    if old is not None and spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                        reason["Item"] = old
                    reasons.append(reason)
                    failed = True
                else:
                    reasons.append({"Code": "None"})
            if failed:
                codes = ", ".join(r["Code"] for r in reasons)
                raise ServiceError("TransactionCanceledException",
                                   f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                                   400, fields={"CancellationReasons": reasons})
            for (plan, _), old in zip(plans, olds):
                table, hk, rk, _, compute = plan
                size = 0
                if compute is not None:
                    new, size = compute(old)
                    self._store(table, hk, rk, new, size)
                written = max(size, types.item_size(old) if old else 0)
                units[table.name] = units.get(table.name, 0) + 2 * max(1, math.ceil(written / 1024))
        out: dict = {}
        _add_consumed_per_table(out, request, units)
        if token:
            self._request_tokens.remember(ctx.account_id, ctx.region, token, fingerprint, out)
        return out

    def transact_get_items(self, ctx: RequestContext, request: dict) -> dict:
        entries = request["TransactItems"]
        if not 1 <= len(entries) <= 100:
            raise validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
                             "Member must have length less than or equal to 100")
        responses = []
        units: dict[str, float] = {}
        with self.env.db.transaction():
            for entry in entries:
                spec = entry["Get"]
                table = self._table(ctx, spec["TableName"])
                hk, rk = self._key(table, spec["Key"])
                ph = _placeholders(spec)
                projection = self._projection(spec, ph)
                ph.check_all_used()
                item = self._load(table, hk, rk)
                units[table.name] = units.get(table.name, 0) + 2 * max(1, math.ceil((types.item_size(item) if item else 0) / 4096))
                responses.append({"Item": _project(item, projection)} if item is not None else {})
        out: dict = {"Responses": responses}
        _add_consumed_per_table(out, request, units)
        return out


EXPRESSIONS = ("ConditionExpression", "UpdateExpression", "ProjectionExpression", "FilterExpression",
               "KeyConditionExpression")
LEGACY = ("Expected", "AttributeUpdates", "AttributesToGet", "KeyConditions", "QueryFilter", "ScanFilter",
          "ConditionalOperator")


def _placeholders(request: dict) -> Placeholders:
    check_parameters(request)
    return Placeholders(request.get("ExpressionAttributeNames"), request.get("ExpressionAttributeValues"))


def check_parameters(request: dict) -> None:
    """AWS's rules for mixing expressions, placeholders and the legacy parameters."""
    used = [p for p in EXPRESSIONS if p in request]
    # KeyConditions may go with a FilterExpression or ProjectionExpression (not a KeyConditionExpression).
    legacy = [p for p in LEGACY if p in request and (p != "KeyConditions" or "KeyConditionExpression" in request)]
    if used and legacy:
        raise validation("Can not use both expression and non-expression parameters in the same request: "
                         f"Non-expression parameters: {{{', '.join(legacy)}}} Expression parameters: {{{', '.join(used)}}}")
    if not used:
        for placeholder in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            if placeholder in request:
                raise validation(f"{placeholder} can only be specified when using expressions")
    elif "ExpressionAttributeValues" in request and not any(
            p in request for p in ("ConditionExpression", "UpdateExpression", "FilterExpression", "KeyConditionExpression")):
        raise validation("ExpressionAttributeValues can only be specified when using expressions: "
                         "ConditionExpression, UpdateExpression, FilterExpression or KeyConditionExpression")


def _project(item: dict, projection) -> dict:
    if projection is None:
        return item
    return evaluate.finish_projection(evaluate.project(item, projection))


def _read_units(size: int, consistent: bool) -> float:
    blocks = max(1, math.ceil(size / 4096))
    return float(blocks) if consistent else blocks / 2


def _add_consumed_per_table(out: dict, request: dict, units: dict[str, float]) -> None:
    """ConsumedCapacity of a multi-table call (batches, transactions), when asked for."""
    mode = request.get("ReturnConsumedCapacity", "NONE")
    if mode in ("TOTAL", "INDEXES"):
        out["ConsumedCapacity"] = [_consumed(n, u, mode) for n, u in units.items()]


def _consumed(name: str, units: float, mode: str) -> dict:
    out = {"TableName": name, "CapacityUnits": float(units)}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": float(units)}
    return out


def _key_bounds(table: Table, node) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The hash key and the range-key bounds a KeyConditionExpression names."""
    conditions = []

    def flatten(n):
        if n[0] == "and":
            flatten(n[1])
            flatten(n[2])
        elif n[0] in ("or", "not", "in") or (n[0] == "cmp" and n[1] == "<>"):
            op = {"or": "OR", "not": "NOT", "in": "IN", "cmp": "<>"}[n[0]]
            raise validation(f"Invalid operator used in KeyConditionExpression: {op}")
        else:
            conditions.append(n)
    flatten(node)
    hash_value, bounds = None, []
    seen = set()
    for c in conditions:
        if c[0] == "cmp":
            path, value = (c[2], c[3]) if c[2][0] == "path" else (c[3], c[2])
            op = c[1] if c[2][0] == "path" else {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "="}[c[1]]
        elif c[0] == "between":
            path, value, op = c[1], (c[2], c[3]), "BETWEEN"
        elif c[0] == "func" and c[1] == "begins_with":
            path, value, op = c[2][0], c[2][1], "begins_with"
        else:
            raise validation(f"Invalid operator used in KeyConditionExpression: {c[1] if c[0] == 'func' else c[0]}")
        if path[0] != "path" or len(path[1]) != 1:
            raise validation("Invalid KeyConditionExpression: Key conditions must name key attributes")
        name = path[1][0]
        if name not in (table.hash_key, table.range_key):
            named = {p[1][0] for p in _condition_paths(conditions)}
            missed = table.hash_key if table.hash_key not in named else table.range_key or table.hash_key
            raise validation(f"Query condition missed key schema element: {missed}")
        if name in seen:
            raise validation("KeyConditionExpressions must only contain one condition per key")
        seen.add(name)
        expected = table.key_type(name)
        values = value if op == "BETWEEN" else (value,)
        encoded = []
        for v in values:
            if v[0] != "value":
                raise validation("Invalid KeyConditionExpression: Key conditions must compare key attributes with values")
            av = v[1]
            if types.kind_of(av) != expected:
                raise validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
            if expected == "N":
                av = {"N": types.normalize_number(av["N"])}
            encoded.append(keys.encode_key_value(av))
        if name == table.hash_key:
            if op != "=":
                raise validation("Query key condition not supported")
            hash_value = encoded[0]
            continue
        if op == "BETWEEN":
            if encoded[0] > encoded[1]:
                raise validation("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound")
            bounds += [(">=", encoded[0]), ("<=", encoded[1])]
        elif op == "begins_with":
            if expected == "N":
                raise validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
            bounds.append((">=", encoded[0]))
            upper = _prefix_end(encoded[0])
            if upper is not None:
                bounds.append(("<", upper))
        else:
            bounds.append((op, encoded[0]))
    if hash_value is None:
        raise validation(f"Query condition missed key schema element: {table.hash_key}")
    return hash_value, bounds


def _condition_paths(conditions: list) -> list:
    """The document paths the parts of a key condition name."""
    paths = []
    for c in conditions:
        args = c[2] if c[0] == "func" else c[1:] if c[0] == "between" else c[2:]
        paths += [a for a in args if a[0] == "path"]
    return paths


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with `prefix`."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def _encode(item: dict) -> str:
    return json.dumps({k: types.to_storage(v) for k, v in item.items()}, separators=(",", ":"))


def _decode(text: str) -> dict:
    if '"B":' not in text and '"BS":' not in text:  # no binaries: the stored form is the wire form
        return json.loads(text)
    return {k: types.from_storage(v) for k, v in json.loads(text).items()}
