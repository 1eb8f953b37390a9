"""DynamoDB on-demand backups and point-in-time recovery.

A backup is a copy of the table's definition and of its item rows taken in one SQLite
transaction. Point-in-time recovery keeps a change log while it is enabled: before an item
row changes, its previous version is logged (`_pitr_changed`, called by `_store` inside the
write's transaction). Restoring to time T starts from the table as it is now and undoes,
newest first, every change logged after T. Log rows older than the recovery period go.

As in AWS, a restored table gets the source's key schema, attribute definitions, billing
mode and secondary indexes (unless overridden); not its stream, TTL, tags, deletion
protection or point-in-time recovery setting.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime, timezone

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.dynamodb.errors import validation
from gureum.services.dynamodb.tables import Table, check_billing, check_table_name

DAY = 86400
DEFAULT_RECOVERY_DAYS = 35

MIGRATIONS = [
    """
    CREATE TABLE dynamodb_backups (
        backup_arn TEXT PRIMARY KEY, account_id TEXT NOT NULL, region TEXT NOT NULL,
        table_name TEXT NOT NULL, table_id TEXT NOT NULL, name TEXT NOT NULL, created REAL NOT NULL,
        size INTEGER NOT NULL, item_count INTEGER NOT NULL, meta TEXT NOT NULL);
    CREATE INDEX dynamodb_backups_by_account ON dynamodb_backups (account_id, region, created);
    CREATE TABLE dynamodb_backup_items (
        backup_arn TEXT NOT NULL, hk BLOB NOT NULL, rk BLOB NOT NULL, item TEXT NOT NULL, size INTEGER NOT NULL,
        PRIMARY KEY (backup_arn, hk, rk)) WITHOUT ROWID;
    CREATE TABLE dynamodb_pitr (
        table_id TEXT PRIMARY KEY, enabled_since REAL NOT NULL, recovery_days INTEGER NOT NULL);
    CREATE TABLE dynamodb_pitr_log (
        table_id TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL,
        hk BLOB NOT NULL, rk BLOB NOT NULL, item TEXT, size INTEGER NOT NULL);
    CREATE INDEX dynamodb_pitr_log_by_table ON dynamodb_pitr_log (table_id, at);
    """
]


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _epoch(value) -> float:
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=timezone.utc).timestamp()
    return float(value)


def table_not_found(name: str) -> ServiceError:
    return ServiceError("TableNotFoundException", f"Table not found: {name}", 400)


def backup_not_found(arn: str) -> ServiceError:
    return ServiceError("BackupNotFoundException", f"Backup not found: {arn}", 400)


class BackupOperations:
    """Backups and point-in-time recovery; mixed into the DynamoDB provider."""

    _pitr_cache: dict | None = None

    def _backups_ready(self) -> None:
        if self._pitr_cache is None:
            self.env.db.migrate("dynamodb-backups", MIGRATIONS)
            rows = self.env.db.query("SELECT table_id, enabled_since, recovery_days FROM dynamodb_pitr")
            self._pitr_cache = {r["table_id"]: (r["enabled_since"], r["recovery_days"]) for r in rows}

    # ---- the change log ------------------------------------------------------------------------

    def _pitr_changed(self, table: Table, hk: bytes, rk: bytes) -> None:
        """Log the item's version before a write, while point-in-time recovery is on."""
        if self._pitr_cache is None:
            self._backups_ready()
        setting = self._pitr_cache.get(table.table_id)
        if setting is None:
            return
        now = clock.epoch()
        db = self.env.db
        row = db.query_one("SELECT item, size FROM dynamodb_items WHERE table_id = ? AND hk = ? AND rk = ?",
                           (table.table_id, hk, rk))
        db.execute("INSERT INTO dynamodb_pitr_log (table_id, at, hk, rk, item, size) VALUES (?, ?, ?, ?, ?, ?)",
                   (table.table_id, now, hk, rk, row["item"] if row else None, row["size"] if row else 0))

    # ---- on-demand backups ---------------------------------------------------------------------

    def _backup_row(self, ctx: RequestContext, arn: str):
        self._backups_ready()
        row = self.env.db.query_one("SELECT * FROM dynamodb_backups WHERE backup_arn = ? AND account_id = ? AND region = ?",
                                    (arn, ctx.account_id, ctx.region))
        if row is None:
            raise backup_not_found(arn)
        return row

    @staticmethod
    def _backup_details(row, status: str = "AVAILABLE") -> dict:
        return {"BackupArn": row["backup_arn"], "BackupName": row["name"], "BackupSizeBytes": row["size"],
                "BackupStatus": status, "BackupType": "USER", "BackupCreationDateTime": _ts(row["created"])}

    def _backup_description(self, row, status: str = "AVAILABLE") -> dict:
        meta = json.loads(row["meta"])
        source = {
            "TableName": row["table_name"], "TableId": row["table_id"],
            "TableArn": f"arn:aws:dynamodb:{row['region']}:{row['account_id']}:table/{row['table_name']}",
            "TableSizeBytes": row["size"], "KeySchema": meta["key_schema"],
            "TableCreationDateTime": _ts(meta["created"]), "ItemCount": row["item_count"],
            "ProvisionedThroughput": {"ReadCapacityUnits": meta.get("read_units", 0),
                                      "WriteCapacityUnits": meta.get("write_units", 0)},
            "BillingMode": meta.get("billing_mode", "PROVISIONED"),
        }
        features: dict = {}
        gsis = [_index_info(i) for i in meta.get("indexes", []) if i.get("Global")]
        lsis = [_index_info(i) for i in meta.get("indexes", []) if not i.get("Global")]
        if gsis:
            features["GlobalSecondaryIndexes"] = gsis
        if lsis:
            features["LocalSecondaryIndexes"] = lsis
        if meta.get("stream_view_type"):
            features["StreamDescription"] = {"StreamEnabled": True, "StreamViewType": meta["stream_view_type"]}
        if meta.get("ttl_attribute"):
            features["TimeToLiveDescription"] = {"TimeToLiveStatus": "ENABLED", "AttributeName": meta["ttl_attribute"]}
        out = {"BackupDetails": self._backup_details(row, status), "SourceTableDetails": source}
        if features:
            out["SourceTableFeatureDetails"] = features
        return out

    def create_backup(self, ctx: RequestContext, request: dict) -> dict:
        self._backups_ready()
        name = request["TableName"]
        table = self._find(ctx.account_id, ctx.region, name)
        if table is None:
            raise table_not_found(name)
        now = clock.epoch()
        arn = f"{table.arn}/backup/{int(now * 1000):014d}-{secrets.token_hex(4)}"
        db = self.env.db
        with db.transaction():
            db.execute("INSERT INTO dynamodb_backup_items (backup_arn, hk, rk, item, size) "
                       "SELECT ?, hk, rk, item, size FROM dynamodb_items WHERE table_id = ?", (arn, table.table_id))
            totals = db.query_one("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM dynamodb_backup_items "
                                  "WHERE backup_arn = ?", (arn,))
            db.execute("INSERT INTO dynamodb_backups (backup_arn, account_id, region, table_name, table_id, name, "
                       "created, size, item_count, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (arn, ctx.account_id, ctx.region, table.name, table.table_id, request["BackupName"], now,
                        totals["bytes"], totals["n"], json.dumps(table.__dict__)))
        return {"BackupDetails": self._backup_details(self._backup_row(ctx, arn))}

    def describe_backup(self, ctx: RequestContext, request: dict) -> dict:
        return {"BackupDescription": self._backup_description(self._backup_row(ctx, request["BackupArn"]))}

    def delete_backup(self, ctx: RequestContext, request: dict) -> dict:
        row = self._backup_row(ctx, request["BackupArn"])
        described = self._backup_description(row, "DELETED")
        with self.env.db.transaction():
            self.env.db.execute("DELETE FROM dynamodb_backup_items WHERE backup_arn = ?", (row["backup_arn"],))
            self.env.db.execute("DELETE FROM dynamodb_backups WHERE backup_arn = ?", (row["backup_arn"],))
        return {"BackupDescription": described}

    def list_backups(self, ctx: RequestContext, request: dict) -> dict:
        self._backups_ready()
        limit = request.get("Limit", 100)
        if not 1 <= limit <= 100:
            raise validation(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                             f"Member must have value {'less' if limit > 100 else 'greater'} than or equal to "
                             f"{100 if limit > 100 else 1}")
        sql = "SELECT * FROM dynamodb_backups WHERE account_id = ? AND region = ?"
        params: list = [ctx.account_id, ctx.region]
        if request.get("TableName"):
            sql += " AND table_name = ?"
            params.append(request["TableName"])
        if request.get("TimeRangeLowerBound") is not None:
            sql += " AND created >= ?"
            params.append(_epoch(request["TimeRangeLowerBound"]))
        if request.get("TimeRangeUpperBound") is not None:
            sql += " AND created <= ?"
            params.append(_epoch(request["TimeRangeUpperBound"]))
        if request.get("BackupType") not in (None, "ALL", "USER"):
            return {"BackupSummaries": []}  # SYSTEM and AWS_BACKUP backups are never made here
        if request.get("ExclusiveStartBackupArn"):
            start = self._backup_row(ctx, request["ExclusiveStartBackupArn"])
            sql += " AND (created, backup_arn) > (?, ?)"
            params += [start["created"], start["backup_arn"]]
        rows = self.env.db.query(sql + " ORDER BY created, backup_arn LIMIT ?", [*params, limit + 1])
        summaries = []
        for row in rows[:limit]:
            summary = {"TableName": row["table_name"], "TableId": row["table_id"],
                       "TableArn": f"arn:aws:dynamodb:{row['region']}:{row['account_id']}:table/{row['table_name']}"}
            summary.update(self._backup_details(row))
            summaries.append(summary)
        out: dict = {"BackupSummaries": summaries}
        if len(rows) > limit:
            out["LastEvaluatedBackupArn"] = rows[limit - 1]["backup_arn"]
        return out

    def restore_table_from_backup(self, ctx: RequestContext, request: dict) -> dict:
        row = self._backup_row(ctx, request["BackupArn"])
        meta = json.loads(row["meta"])
        target = self._restore_target(ctx, request, meta)
        db = self.env.db
        with db.transaction():
            self._save(target)
            for item in db.query("SELECT hk, rk, item, size FROM dynamodb_backup_items WHERE backup_arn = ?",
                                 (row["backup_arn"],)):
                self._restore_item(target, item["hk"], item["rk"], item["item"], item["size"])
        described = self._describe(target)
        described["RestoreSummary"] = {"SourceBackupArn": row["backup_arn"],
                                       "SourceTableArn": f"arn:aws:dynamodb:{row['region']}:{row['account_id']}:table/{row['table_name']}",
                                       "RestoreDateTime": _ts(row["created"]), "RestoreInProgress": False}
        return {"TableDescription": described}

    def _restore_target(self, ctx: RequestContext, request: dict, meta: dict) -> Table:
        """The new table a restore creates: the source's definition with the request's overrides."""
        name = request["TargetTableName"]
        check_table_name(name, "targetTableName")
        if self._find(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("TableAlreadyExistsException", f"Table already exists: {name}", 400)
        mode = request.get("BillingModeOverride", meta.get("billing_mode", "PROVISIONED"))
        throughput = request.get("ProvisionedThroughputOverride")
        if mode == "PROVISIONED" and throughput is None:
            throughput = {"ReadCapacityUnits": meta.get("read_units") or 5, "WriteCapacityUnits": meta.get("write_units") or 5}
        read, write = check_billing(mode, throughput)
        # Index rows are rebuilt with the items, in the restore's transaction: the indexes are ready.
        indexes = [{**i, "IndexStatus": "ACTIVE"} if "IndexStatus" in i else dict(i) for i in meta.get("indexes", [])]
        if "GlobalSecondaryIndexOverride" in request:
            wanted = {g["IndexName"] for g in request["GlobalSecondaryIndexOverride"]}
            indexes = [i for i in indexes if not i.get("Global") or i["IndexName"] in wanted]
        if "LocalSecondaryIndexOverride" in request:
            wanted = {g["IndexName"] for g in request["LocalSecondaryIndexOverride"]}
            indexes = [i for i in indexes if i.get("Global") or i["IndexName"] in wanted]
        now = clock.epoch()
        fields = {k: v for k, v in meta.items() if k in Table.__dataclass_fields__}
        fields.update(
            account_id=ctx.account_id, region=ctx.region, name=name, table_id=str(uuid.uuid4()), created=now,
            billing_mode=mode, read_units=read, write_units=write, deletion_protection=False, tags={},
            pay_per_request_since=now if mode == "PAY_PER_REQUEST" else None)
        for optional, value in (("indexes", indexes), ("stream_view_type", None), ("stream_label", None),
                                ("ttl_attribute", None)):
            if optional in Table.__dataclass_fields__:
                fields[optional] = value
        return Table(**fields)

    def _restore_item(self, table: Table, hk: bytes, rk: bytes, stored: str, size: int) -> None:
        # Through _store, so secondary index rows are built as for any write.
        from gureum.services.dynamodb.provider import _decode
        self._store(table, hk, rk, _decode(stored), size)

    # ---- point-in-time recovery ----------------------------------------------------------------

    def _continuous(self, table: Table) -> dict:
        self._backups_ready()
        setting = self._pitr_cache.get(table.table_id)
        if setting is None:
            pitr = {"PointInTimeRecoveryStatus": "DISABLED"}
        else:
            since, days = setting
            now = clock.epoch()
            pitr = {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": days,
                    "EarliestRestorableDateTime": _ts(max(since, now - days * DAY)),
                    "LatestRestorableDateTime": _ts(now)}
        return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr}

    def describe_continuous_backups(self, ctx: RequestContext, request: dict) -> dict:
        name = request["TableName"]
        table = self._find(ctx.account_id, ctx.region, name)
        if table is None:
            raise table_not_found(name)
        return {"ContinuousBackupsDescription": self._continuous(table)}

    def update_continuous_backups(self, ctx: RequestContext, request: dict) -> dict:
        self._backups_ready()
        name = request["TableName"]
        table = self._find(ctx.account_id, ctx.region, name)
        if table is None:
            raise table_not_found(name)
        spec = request["PointInTimeRecoverySpecification"]
        enabled = spec["PointInTimeRecoveryEnabled"]
        days = spec.get("RecoveryPeriodInDays")
        if days is not None and not 1 <= days <= 35:
            raise validation("1 validation error detected: Value at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' "
                             "failed to satisfy constraint: Member must have value "
                             f"{'less than or equal to 35' if days > 35 else 'greater than or equal to 1'}")
        db = self.env.db
        current = self._pitr_cache.get(table.table_id)
        with db.transaction():
            if enabled and current is None:
                since = clock.epoch()
                db.execute("INSERT INTO dynamodb_pitr (table_id, enabled_since, recovery_days) VALUES (?, ?, ?)",
                           (table.table_id, since, days or DEFAULT_RECOVERY_DAYS))
                self._pitr_cache[table.table_id] = (since, days or DEFAULT_RECOVERY_DAYS)
            elif enabled:
                days = days or current[1]
                db.execute("UPDATE dynamodb_pitr SET recovery_days = ? WHERE table_id = ?", (days, table.table_id))
                self._pitr_cache[table.table_id] = (current[0], days)
            elif current is not None:
                db.execute("DELETE FROM dynamodb_pitr WHERE table_id = ?", (table.table_id,))
                db.execute("DELETE FROM dynamodb_pitr_log WHERE table_id = ?", (table.table_id,))
                self._pitr_cache.pop(table.table_id, None)
        return {"ContinuousBackupsDescription": self._continuous(table)}

    def restore_table_to_point_in_time(self, ctx: RequestContext, request: dict) -> dict:
        self._backups_ready()
        source_name = request.get("SourceTableName") or request.get("SourceTableArn")
        if not source_name:
            raise validation("Either SourceTableName or SourceTableArn must be specified")
        if request.get("SourceTableName") and request.get("SourceTableArn"):
            raise validation("Only one of SourceTableName or SourceTableArn can be specified")
        source = self._find(ctx.account_id, ctx.region, source_name)
        if source is None:
            raise table_not_found(source_name.split(":table/")[-1])
        setting = self._pitr_cache.get(source.table_id)
        if setting is None:
            raise ServiceError("PointInTimeRecoveryUnavailableException",
                               f"Point in time recovery is not enabled for table '{source.name}'", 400)
        latest = request.get("UseLatestRestorableTime")
        if latest and request.get("RestoreDateTime") is not None:
            raise validation("Only one of RestoreDateTime or UseLatestRestorableTime can be specified")
        now = clock.epoch()
        since, days = setting
        earliest = max(since, now - days * DAY)
        when = now if latest or request.get("RestoreDateTime") is None else _epoch(request["RestoreDateTime"])
        if when < earliest or when > now:
            raise ServiceError("InvalidRestoreTimeException",
                               f"Restore time out of range: restorable from {_ts(earliest).isoformat()} to "
                               f"{_ts(now).isoformat()}", 400)
        target = self._restore_target(ctx, request, dict(source.__dict__))
        db = self.env.db
        with db.transaction():
            items = {(r["hk"], r["rk"]): (r["item"], r["size"]) for r in db.query(
                "SELECT hk, rk, item, size FROM dynamodb_items WHERE table_id = ?", (source.table_id,))}
            # Undo the changes made after `when`, newest first: each log row holds the version before it.
            for change in db.query("SELECT hk, rk, item, size FROM dynamodb_pitr_log WHERE table_id = ? AND at > ? "
                                   "ORDER BY seq DESC", (source.table_id, when)):
                ident = (change["hk"], change["rk"])
                if change["item"] is None:
                    items.pop(ident, None)
                else:
                    items[ident] = (change["item"], change["size"])
            self._save(target)
            for (hk, rk), (stored, size) in items.items():
                self._restore_item(target, hk, rk, stored, size)
            db.execute("DELETE FROM dynamodb_pitr_log WHERE table_id = ? AND at < ?", (source.table_id, earliest))
        described = self._describe(target)
        described["RestoreSummary"] = {"SourceTableArn": source.arn, "RestoreDateTime": _ts(when),
                                       "RestoreInProgress": False}
        return {"TableDescription": described}


def _index_info(index: dict) -> dict:
    out = {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
    if index.get("Global") and "ReadCapacityUnits" in index:
        out["ProvisionedThroughput"] = {"ReadCapacityUnits": index["ReadCapacityUnits"],
                                        "WriteCapacityUnits": index.get("WriteCapacityUnits", 0)}
    return out
