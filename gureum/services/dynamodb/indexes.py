"""DynamoDB secondary indexes: GSIs and LSIs, their validation, storage and reads.

Each index keeps its own rows in `dynamodb_index_items`, keyed by (table, index, index hash,
index range, table hash, table range) with keys.py's order-preserving encoding, so a Query on
an index reads in key order straight from SQLite. Rows hold the projected item and are
written in the same transaction as the item itself (the `_store` hook below). Indexes are
sparse: an item lacking an index key attribute has no row in that index.

Every item write also passes through `_item_changed`, which keeps indexes, the TTL schedule
(ttl.py) and the stream (streams.py) in step with the item.
"""

from __future__ import annotations

import math
import zlib

from gureum.protocol.errors import ServiceError
from gureum.services.dynamodb import keys, types
from gureum.services.dynamodb.errors import invalid_parameter, not_found, validation
from gureum.services.dynamodb.tables import Table

MAX_GSIS = 20
MAX_LSIS = 5
MAX_PROJECTED = 100
# An item collection (all items and LSI rows of one partition key value) is limited to 10 GB
# on a table with local secondary indexes.
COLLECTION_LIMIT_BYTES = 10 * 1024 ** 3
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")

MIGRATIONS = [
    """
    CREATE TABLE dynamodb_index_items (
        table_id TEXT NOT NULL, index_name TEXT NOT NULL, ihk BLOB NOT NULL, irk BLOB NOT NULL,
        hk BLOB NOT NULL, rk BLOB NOT NULL, item TEXT NOT NULL, size INTEGER NOT NULL,
        PRIMARY KEY (table_id, index_name, ihk, irk, hk, rk)) WITHOUT ROWID;
    """
]


# ---- definitions ---------------------------------------------------------------------------

def _names(key_schema: list[dict]) -> list[str]:
    return [k["AttributeName"] for k in key_schema]


def _check_index_schema(index: dict, defined: list[str]) -> None:
    schema = index["KeySchema"]
    names = _names(schema)
    if any(n not in defined for n in names):
        raise invalid_parameter("Some index key attributes are not defined in AttributeDefinitions. "
                                f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(defined)}]")
    if len(schema) == 2 and names[0] == names[1]:
        raise validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
    if schema[0]["KeyType"] != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(schema) == 2 and schema[1]["KeyType"] != "RANGE":
        raise validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")


def _check_projection(projection: dict) -> None:
    kind = projection.get("ProjectionType")
    if kind is None:
        raise invalid_parameter("Unknown ProjectionType: null")
    if projection.get("NonKeyAttributes") is not None and kind != "INCLUDE":
        raise invalid_parameter(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    if kind == "INCLUDE" and not projection.get("NonKeyAttributes"):
        raise invalid_parameter("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")


def _throughput(index: dict, mode: str) -> tuple[int, int]:
    name = index["IndexName"]
    given = index.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST":
        if given:
            raise invalid_parameter(f"ProvisionedThroughput should not be specified for index: {name} "
                                    "when BillingMode is PAY_PER_REQUEST")
        return 0, 0
    if not given:
        raise invalid_parameter(f"ProvisionedThroughput must be specified for index: {name}")
    return given["ReadCapacityUnits"], given["WriteCapacityUnits"]


def _stored(index: dict, is_global: bool, mode: str, status: str = "ACTIVE") -> dict:
    projection = {"ProjectionType": index["Projection"]["ProjectionType"]}
    if index["Projection"].get("NonKeyAttributes"):
        projection["NonKeyAttributes"] = list(index["Projection"]["NonKeyAttributes"])
    read, write = _throughput(index, mode) if is_global else (0, 0)
    return {"IndexName": index["IndexName"], "Global": is_global,
            "KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in index["KeySchema"]],
            "Projection": projection, "IndexStatus": status, "ReadCapacityUnits": read, "WriteCapacityUnits": write}


def check_create(request: dict, mode: str) -> list[dict]:
    """CreateTable's index rules, in AWS's order and words; the indexes to store."""
    key_schema, definitions = request["KeySchema"], request["AttributeDefinitions"]
    defined = [d["AttributeName"] for d in definitions]
    lsis, gsis = request.get("LocalSecondaryIndexes"), request.get("GlobalSecondaryIndexes")
    seen: set[str] = set()
    out: list[dict] = []
    used = set(_names(key_schema))
    if lsis is not None:
        if not lsis:
            raise invalid_parameter("List of LocalSecondaryIndexes is empty")
        if len(key_schema) != 2:
            raise invalid_parameter("Table KeySchema does not have a range key, which is required when specifying "
                                    "a LocalSecondaryIndex")
        table_hash = key_schema[0]["AttributeName"]
        for index in lsis:
            name = index["IndexName"]
            _check_index_schema(index, defined)
            if len(index["KeySchema"]) != 2:
                raise invalid_parameter(f"Index KeySchema does not have a range key for index: {name}")
            index_hash = index["KeySchema"][0]["AttributeName"]
            if index_hash != table_hash:
                raise invalid_parameter("Index KeySchema does not have the same leading hash key as table KeySchema "
                                        f"for index: {name}. index hash key: {index_hash}, table hash key: {table_hash}")
            _check_projection(index["Projection"])
            if name in seen:
                raise invalid_parameter(f"Duplicate index name: {name}")
            seen.add(name)
            used.update(_names(index["KeySchema"]))
            out.append(_stored(index, False, mode))
        if len(lsis) > MAX_LSIS:
            raise invalid_parameter(f"Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}")
    if gsis is not None:
        if not gsis:
            raise invalid_parameter("List of GlobalSecondaryIndexes is empty")
        for index in gsis:
            name = index["IndexName"]
            _check_index_schema(index, defined)
            _check_projection(index["Projection"])
            if name in seen:
                raise invalid_parameter(f"Duplicate index name: {name}")
            seen.add(name)
            used.update(_names(index["KeySchema"]))
            out.append(_stored(index, True, mode))
        if len(gsis) > MAX_GSIS:
            raise invalid_parameter(f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}")
    _check_projected_count(out)
    if out and set(defined) - used:
        raise invalid_parameter(f"Some AttributeDefinitions are not used. AttributeDefinitions: [{', '.join(defined)}], "
                                f"keys used: [{', '.join(n for n in defined if n in used)}]")
    return out


def _check_projected_count(indexes: list[dict]) -> None:
    count = sum(len(i["Projection"].get("NonKeyAttributes", ())) for i in indexes)
    if count > MAX_PROJECTED:
        raise invalid_parameter("The sum of NonKeyAttributes across all secondary indexes (including LocalSecondaryIndex "
                                f"and GlobalSecondaryIndex) exceeds limit of {MAX_PROJECTED}: {count}")


def check_collection_size(size: int) -> None:
    """The 10 GB item collection limit of tables with local secondary indexes."""
    if size > COLLECTION_LIMIT_BYTES:
        raise ServiceError("ItemCollectionSizeLimitExceededException", "Collection size exceeded.", 400)


def size_estimate_gb(size: int) -> list[float]:
    """SizeEstimateRangeGB of ItemCollectionMetrics: a bracket around the collection's size."""
    gb = size / 1024 ** 3
    low = math.floor(gb)
    return [float(low), float(low + 1)]


# ---- rows ----------------------------------------------------------------------------------

def key_names(index: dict) -> tuple[str, str | None]:
    names = _names(index["KeySchema"])
    return names[0], names[1] if len(names) > 1 else None


def _projected(table: Table, index: dict, item: dict) -> dict:
    projection = index["Projection"]
    if projection["ProjectionType"] == "ALL":
        return item
    wanted = set(_names(table.key_schema)) | set(_names(index["KeySchema"]))
    wanted.update(projection.get("NonKeyAttributes", ()))
    return {k: v for k, v in item.items() if k in wanted}


def index_rows(table: Table, item: dict | None, *, strict: bool) -> list[tuple[str, bytes, bytes, dict]]:
    """(index name, index hash, index range, projected item) of each index the item is in.

    `strict` refuses index key values of the wrong type as AWS does on writes; otherwise
    (old items, backfills) such items are left out of the index.
    """
    if not item:
        return []
    out = []
    for index in table.indexes:
        name = index["IndexName"]
        encoded = []
        for n in key_names(index):
            if n is None:
                encoded.append(b"")
                continue
            value = item.get(n)
            if value is None:
                break
            expected, actual = table.key_type(n), types.kind_of(value)
            if actual != expected:
                if strict:
                    raise invalid_parameter(f"Type mismatch for Index Key {n} Expected: {expected} Actual: {actual} "
                                            f"IndexName: {name}")
                break
            if actual in ("S", "B") and len(value[actual]) == 0:
                if strict:
                    raise validation("One or more parameter values are not valid. A value specified for a secondary index "
                                     f"key is not supported. The AttributeValue for a key attribute cannot contain an empty "
                                     f"{'string' if actual == 'S' else 'binary'} value. IndexName: {name}, IndexKey: {n}")
                break
            encoded.append(keys.encode_key_value(value))
        else:
            out.append((name, encoded[0], encoded[1], _projected(table, index, item)))
    return out


class _IndexView:
    """An index seen as a key schema, for the key-condition reader."""

    def __init__(self, table: Table, index: dict):
        self.hash_key, self.range_key = key_names(index)
        self.key_type = table.key_type


class IndexesMixin:
    """Secondary indexes of the DynamoDB provider (mixed into its Provider class)."""

    def _setup_changes(self) -> None:
        """Migrations of indexes, streams and TTL, and the background sweeper."""
        self.env.db.migrate("dynamodb-indexes", MIGRATIONS)
        self._setup_streams()
        self._setup_ttl()

    def _describe_changes(self, table: Table) -> dict:
        """DescribeTable's index, stream and TTL-related members."""
        out: dict = {}
        self._describe_indexes(table, out)
        self._describe_stream_of(table, out)
        return out

    def _drop_changes(self, table: Table) -> None:
        """DeleteTable: index rows and TTL schedule go; the stream stays readable for 24 hours."""
        self._drop_indexes(table)
        self._drop_ttl(table)
        self._disable_stream(table)

    def _update_changes(self, table: Table, request: dict) -> tuple[bool, dict]:
        """UpdateTable's GlobalSecondaryIndexUpdates and StreamSpecification."""
        changed, statuses = self._update_indexes(table, request)
        with self.env.db.transaction():
            if self._update_stream(table, request):
                changed = True
                self._save(table)
        return changed, statuses

    @staticmethod
    def _show_index_statuses(described: dict, statuses: dict) -> dict:
        """UpdateTable's answer shows an index being created or deleted in that state."""
        if not statuses:
            return described
        gsis = [g for g in described.get("GlobalSecondaryIndexes", []) if g["IndexName"] not in statuses
                or statuses[g["IndexName"]] != "DELETING"]
        for g in gsis:
            status = statuses.get(g["IndexName"])
            if status:
                g["IndexStatus"] = status
                if status == "CREATING":
                    g["Backfilling"] = True
        for name, status in statuses.items():
            if status == "DELETING":
                gsis.append({"IndexName": name, "IndexStatus": "DELETING",
                             "IndexArn": f"{described['TableArn']}/index/{name}"})
        described["GlobalSecondaryIndexes"] = gsis
        return described

    # ---- writes ------------------------------------------------------------------------------

    def _item_changed(self, table: Table, hk: bytes, rk: bytes, new: dict | None) -> None:
        """Called by `_store` inside the write's transaction, before the item row changes."""
        if not (table.indexes or table.stream_view_type or table.ttl_attribute):
            return
        old = self._load(table, hk, rk)
        if table.indexes:
            added = index_rows(table, new, strict=True)
            removed = index_rows(table, old, strict=False)
            db = self.env.db
            for name, ihk, irk, _ in removed:
                db.execute("DELETE FROM dynamodb_index_items WHERE table_id = ? AND index_name = ? AND ihk = ? AND irk = ?"
                           " AND hk = ? AND rk = ?", (table.table_id, name, ihk, irk, hk, rk))
            from gureum.services.dynamodb.provider import _encode
            for name, ihk, irk, projected in added:
                db.execute("INSERT OR REPLACE INTO dynamodb_index_items (table_id, index_name, ihk, irk, hk, rk, item, size)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (table.table_id, name, ihk, irk, hk, rk, _encode(projected), types.item_size(projected)))
            if new is not None and any(not i["Global"] for i in table.indexes):
                check_collection_size(self._collection_size(table, hk, rk, new, old))
        if table.ttl_attribute:
            self._ttl_changed(table, hk, rk, new)
        if table.stream_view_type:
            self._stream_changed(table, old, new)

    def _collection_size(self, table: Table, hk: bytes, rk: bytes, new: dict, old: dict | None) -> int:
        """Bytes of the item collection of `hk` once `new` replaces `old`."""
        row = self.env.db.query_one("SELECT COALESCE(SUM(size), 0) AS n FROM dynamodb_items WHERE table_id = ? AND hk = ?",
                                    (table.table_id, hk))
        lsi = [i["IndexName"] for i in table.indexes if not i["Global"]]
        marks = ", ".join("?" * len(lsi))
        rows = self.env.db.query_one(
            f"SELECT COALESCE(SUM(size), 0) AS n FROM dynamodb_index_items WHERE table_id = ? AND index_name IN ({marks})"
            " AND ihk = ?", (table.table_id, *lsi, hk))
        return row["n"] + rows["n"] + types.item_size(new) - (types.item_size(old) if old else 0)

    def _collection_metrics(self, out: dict, request: dict, table: Table) -> None:
        """ItemCollectionMetrics of a single-item write, when asked for on a table with LSIs."""
        if request.get("ReturnItemCollectionMetrics") != "SIZE" or not any(not i["Global"] for i in table.indexes):
            return
        source = request.get("Key") or request.get("Item") or {}
        value = source.get(table.hash_key)
        if value is None:
            return
        hk = keys.encode_key_value({"N": types.normalize_number(value["N"])} if "N" in value else value)
        row = self.env.db.query_one("SELECT COALESCE(SUM(size), 0) AS n FROM dynamodb_items WHERE table_id = ? AND hk = ?",
                                    (table.table_id, hk))
        out["ItemCollectionMetrics"] = {"ItemCollectionKey": {table.hash_key: value},
                                        "SizeEstimateRangeGB": size_estimate_gb(row["n"])}

    # ---- table lifecycle ---------------------------------------------------------------------

    def _describe_indexes(self, table: Table, out: dict) -> None:
        gsis, lsis = [], []
        for index in table.indexes:
            row = self.env.db.query_one(
                "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM dynamodb_index_items"
                " WHERE table_id = ? AND index_name = ?", (table.table_id, index["IndexName"]))
            desc = {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"],
                    "IndexSizeBytes": row["bytes"], "ItemCount": row["n"],
                    "IndexArn": f"{table.arn}/index/{index['IndexName']}"}
            if index["Global"]:
                desc["IndexStatus"] = index["IndexStatus"]
                if index["IndexStatus"] == "CREATING":
                    desc["Backfilling"] = True
                desc["ProvisionedThroughput"] = {"NumberOfDecreasesToday": 0,
                                                 "ReadCapacityUnits": index["ReadCapacityUnits"],
                                                 "WriteCapacityUnits": index["WriteCapacityUnits"]}
                gsis.append(desc)
            else:
                lsis.append(desc)
        if gsis:
            out["GlobalSecondaryIndexes"] = gsis
        if lsis:
            out["LocalSecondaryIndexes"] = lsis

    def _drop_indexes(self, table: Table) -> None:
        self.env.db.execute("DELETE FROM dynamodb_index_items WHERE table_id = ?", (table.table_id,))

    def _update_indexes(self, table: Table, request: dict) -> tuple[bool, dict]:
        """UpdateTable's GlobalSecondaryIndexUpdates; (changed, statuses to show in the response)."""
        updates = request.get("GlobalSecondaryIndexUpdates")
        if not updates:
            return False, {}
        names = []
        for update in updates:
            kinds = [k for k in ("Create", "Update", "Delete") if update.get(k)]
            if len(kinds) != 1:
                raise invalid_parameter("One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
                                        "GlobalSecondaryIndexUpdate.Delete must not be null")
            name = update[kinds[0]]["IndexName"]
            if name in names:
                raise invalid_parameter(f"Only one global secondary index update per index is allowed simultaneously. Index: {name}")
            names.append(name)
        creates_or_deletes = [u for u in updates if u.get("Create") or u.get("Delete")]
        if len(creates_or_deletes) > 1:
            raise ServiceError("LimitExceededException",
                               "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table", 400)
        shown: dict = {}
        mode = request.get("BillingMode", table.billing_mode)
        for update in updates:
            if update.get("Create"):
                shown[update["Create"]["IndexName"]] = self._create_gsi(table, update["Create"], request, mode)
            elif update.get("Delete"):
                name = update["Delete"]["IndexName"]
                index = table.index(name)
                if index is None or not index["Global"]:
                    raise not_found(f"Requested resource not found: Index: {name} not found")
                with self.env.db.transaction():
                    self.env.db.execute("DELETE FROM dynamodb_index_items WHERE table_id = ? AND index_name = ?",
                                        (table.table_id, name))
                    table.indexes.remove(index)
                    self._prune_definitions(table)
                    self._save(table)
                shown[name] = "DELETING"
            else:
                spec = update["Update"]
                index = table.index(spec["IndexName"])
                if index is None or not index["Global"]:
                    raise not_found(f"Requested resource not found: Index: {spec['IndexName']} not found")
                if mode == "PAY_PER_REQUEST" and spec.get("ProvisionedThroughput"):
                    raise invalid_parameter("ProvisionedThroughput should not be specified for index: "
                                            f"{spec['IndexName']} when BillingMode is PAY_PER_REQUEST")
                throughput = spec.get("ProvisionedThroughput") or {}
                index["ReadCapacityUnits"] = throughput.get("ReadCapacityUnits", index["ReadCapacityUnits"])
                index["WriteCapacityUnits"] = throughput.get("WriteCapacityUnits", index["WriteCapacityUnits"])
                shown[spec["IndexName"]] = "UPDATING"
        return True, shown

    def _create_gsi(self, table: Table, spec: dict, request: dict, mode: str) -> str:
        name = spec["IndexName"]
        if table.index(name):
            raise validation("Attempting to create an index which already exists")
        if len([i for i in table.indexes if i["Global"]]) >= MAX_GSIS:
            raise ServiceError("LimitExceededException",
                               f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}", 400)
        definitions = {d["AttributeName"]: d["AttributeType"] for d in table.attribute_definitions}
        for d in request.get("AttributeDefinitions") or []:
            known = definitions.get(d["AttributeName"])
            if known is not None and known != d["AttributeType"]:
                raise invalid_parameter("Cannot change the type of an existing attribute definition: "
                                        f"{d['AttributeName']}")
            definitions[d["AttributeName"]] = d["AttributeType"]
        for n in _names(spec["KeySchema"]):
            if not any(d["AttributeName"] == n for d in request.get("AttributeDefinitions") or []) and n not in (
                    table.hash_key, table.range_key) and not any(n in _names(i["KeySchema"]) for i in table.indexes):
                raise invalid_parameter("Some index key attributes are not defined in AttributeDefinitions. "
                                        f"Keys: [{', '.join(_names(spec['KeySchema']))}], AttributeDefinitions: "
                                        f"[{', '.join(d['AttributeName'] for d in request.get('AttributeDefinitions') or [])}]")
        _check_index_schema(spec, list(definitions))
        _check_projection(spec["Projection"])
        index = _stored(spec, True, mode)
        _check_projected_count(table.indexes + [index])
        table.attribute_definitions = [{"AttributeName": n, "AttributeType": t} for n, t in definitions.items()]
        # The backfill runs here, inside one transaction: the index is ACTIVE once it commits,
        # while this call reports CREATING (with Backfilling) as AWS does.
        from gureum.services.dynamodb.provider import _decode, _encode
        with self.env.db.transaction():
            table.indexes.append(index)
            single = Table(**{**table.__dict__, "indexes": [index]})
            for row in self.env.db.query("SELECT hk, rk, item FROM dynamodb_items WHERE table_id = ?", (table.table_id,)):
                for _, ihk, irk, projected in index_rows(single, _decode(row["item"]), strict=False):
                    self.env.db.execute(
                        "INSERT OR REPLACE INTO dynamodb_index_items (table_id, index_name, ihk, irk, hk, rk, item, size)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (table.table_id, name, ihk, irk, row["hk"], row["rk"], _encode(projected), types.item_size(projected)))
            self._save(table)
        return "CREATING"

    @staticmethod
    def _prune_definitions(table: Table) -> None:
        """AttributeDefinitions keep only the attributes some key schema still uses."""
        used = set(_names(table.key_schema))
        for index in table.indexes:
            used.update(_names(index["KeySchema"]))
        table.attribute_definitions = [d for d in table.attribute_definitions if d["AttributeName"] in used]

    # ---- reads -------------------------------------------------------------------------------

    def _index_for_read(self, table: Table, request: dict) -> dict:
        name = request["IndexName"]
        index = table.index(name)
        if index is None:
            raise validation(f"The table does not have the specified index: {name}")
        if index["Global"] and request.get("ConsistentRead"):
            raise validation("Consistent reads are not supported on global secondary indexes")
        return index

    def _read_index(self, table: Table, request: dict, *, scan: bool) -> dict:
        """Query or Scan with IndexName."""
        from gureum.services.dynamodb import provider as p
        from gureum.services.dynamodb.expressions.parser import parse
        index = self._index_for_read(table, request)
        name, is_global = index["IndexName"], index["Global"]
        view = _IndexView(table, index)
        ph = p._placeholders(request)
        bounds: list = []
        ihk = None
        if not scan:
            text = request.get("KeyConditionExpression")
            if text is None and request.get("KeyConditions") is None:
                raise validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
            if text is not None:
                key_cond = ph.bind(parse("condition", "KeyConditionExpression", text), "KeyConditionExpression")
            else:
                from gureum.services.dynamodb import legacy
                key_cond = legacy.key_conditions(request["KeyConditions"])
            ihk, bounds = p._key_bounds(view, key_cond)
        segment, total = (request.get("Segment"), request.get("TotalSegments")) if scan else (None, None)
        if scan:
            if (segment is None) != (total is None):
                raise validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
                                 if total is None else
                                 "The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
            if total is not None and segment >= total:
                raise validation(f"The Segment parameter is zero-based and must be less than parameter TotalSegments: "
                                 f"Segment: {segment} is not less than TotalSegments: {total}")
        select = request.get("Select")
        filt, projection, _ = self._read_options({k: v for k, v in request.items() if k != "Select"}, ph)
        ph.check_all_used()
        if select == "SPECIFIC_ATTRIBUTES" and projection is None:
            raise validation("Select type SPECIFIC_ATTRIBUTES requires ProjectionExpression or AttributesToGet")
        if select not in (None, "SPECIFIC_ATTRIBUTES") and projection is not None:
            raise validation(f"Cannot specify the ProjectionExpression when choosing to get {select}")
        carried = None  # the attributes the index holds, None for all of them
        if index["Projection"]["ProjectionType"] != "ALL":
            carried = set(_names(table.key_schema)) | set(_names(index["KeySchema"]))
            carried.update(index["Projection"].get("NonKeyAttributes", ()))
        from_table = False  # an LSI fetches what it does not hold from the table
        if carried is not None and select == "ALL_ATTRIBUTES":
            if is_global:
                raise invalid_parameter(f"Select type ALL_ATTRIBUTES is not supported for global secondary index {name} "
                                        "because its projection type is not ALL")
            from_table = True
        if carried is not None and projection is not None:
            missing = sorted({path[1][0] for path in projection if path[1][0] not in carried})
            if missing and is_global:
                raise invalid_parameter(f"Global secondary index {name} does not project [{', '.join(missing)}]")
            from_table = from_table or bool(missing)

        forward = request.get("ScanIndexForward", True) if not scan else True
        start = self._index_start(table, index, request.get("ExclusiveStartKey"), ihk) if request.get("ExclusiveStartKey") else None
        columns = ("ihk", "irk", "hk", "rk")
        sql = "SELECT ihk, irk, hk, rk, item, size FROM dynamodb_index_items WHERE table_id = ? AND index_name = ?"
        params: list = [table.table_id, name]
        if not scan:
            sql += " AND ihk = ?"
            params.append(ihk)
            for op, value in bounds:
                sql += f" AND irk {op} ?"
                params.append(value)
            columns = ("irk", "hk", "rk")
        direction = "" if forward else " DESC"
        order = " ORDER BY " + ", ".join(c + direction for c in columns)
        tuple_sql = "(" + ", ".join(columns) + ")"

        def fetch(row, count: int) -> list:
            position = tuple(row[c] for c in columns) if row is not None else (
                start[-len(columns):] if start is not None else None)
            if position is None:
                return self.env.db.query(f"{sql}{order} LIMIT {count}", params)
            marks = ", ".join("?" * len(columns))
            return self.env.db.query(f"{sql} AND {tuple_sql} {'>' if forward else '<'} ({marks}){order} LIMIT {count}",
                                     [*params, *position])
        keep = (lambda row: zlib.crc32(row["ihk"]) % total == segment) if total else (lambda row: True)
        return self._index_page(table, index, request, fetch, keep, filt, projection, select, from_table)

    def _index_start(self, table: Table, index: dict, start: dict, ihk: bytes | None) -> tuple:
        """The encoded (ihk, irk, hk, rk) of an ExclusiveStartKey on an index."""
        wanted = set(_names(table.key_schema)) | set(_names(index["KeySchema"]))
        if set(start) != wanted:
            raise validation("The provided starting key is invalid")
        hk, rk = self._key(table, {n: start[n] for n in _names(table.key_schema)})
        encoded = []
        for n in key_names(index):
            if n is None:
                encoded.append(b"")
                continue
            value = start[n]
            if types.kind_of(value) != table.key_type(n):
                raise validation("The provided starting key is invalid: The provided key element does not match the schema")
            if "N" in value:
                value = {"N": types.normalize_number(value["N"])}
            encoded.append(keys.encode_key_value(value))
        if ihk is not None and encoded[0] != ihk:
            raise validation("The provided starting key is outside query boundaries based on provided conditions")
        return encoded[0], encoded[1], hk, rk

    def _index_page(self, table: Table, index: dict, request: dict, fetch, keep, filt, projection, select,
                    from_table: bool) -> dict:
        from gureum.services.dynamodb import provider as p
        from gureum.services.dynamodb.expressions import evaluate
        limit = request.get("Limit")
        if limit is not None and limit < 1:
            raise validation(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                             "Member must have value greater than or equal to 1")
        items, scanned, read_bytes, last = [], 0, 0, None
        done, after = False, None
        chunk = min(limit, p._FETCH) if limit is not None else p._FETCH
        while not done:
            rows = fetch(after, chunk)
            for row in rows:
                if not keep(row):
                    continue
                held = p._decode(row["item"])
                item = held
                size = row["size"]
                if from_table:
                    item = self._load(table, row["hk"], row["rk"]) or held
                    size = types.item_size(item)
                scanned += 1
                read_bytes += size
                if filt is None or evaluate.condition(item, filt, "FilterExpression"):
                    items.append(item if select == "COUNT" else p._project(item, projection))
                if (limit is not None and scanned >= limit) or read_bytes >= p.PAGE_BYTES:
                    last = held
                    done = True
                    break
            if len(rows) < chunk:
                break
            after = rows[-1]
        out: dict = {"Count": len(items), "ScannedCount": scanned}
        if select != "COUNT":
            out["Items"] = items
        if last is not None:
            lek = self._key_of(table, last)
            for n in key_names(index):
                if n is not None:
                    lek[n] = last[n]
            out["LastEvaluatedKey"] = lek
        mode = request.get("ReturnConsumedCapacity", "NONE")
        if mode in ("TOTAL", "INDEXES"):
            units = p._read_units(read_bytes, request.get("ConsistentRead", False))
            consumed: dict = {"TableName": table.name, "CapacityUnits": float(units)}
            if mode == "INDEXES":
                consumed["Table"] = {"CapacityUnits": 0.0}
                kind = "GlobalSecondaryIndexes" if index["Global"] else "LocalSecondaryIndexes"
                consumed[kind] = {index["IndexName"]: {"CapacityUnits": float(units)}}
            out["ConsumedCapacity"] = consumed
        return out

