"""Storage classes and RestoreObject.

Objects in GLACIER (Flexible Retrieval) and DEEP_ARCHIVE are archived: GET refuses them with
InvalidObjectState until a restore completes. A restore takes the tier's time (AWS's upper
bounds, scaled by Settings.time_scale) on the service clock, and the restored copy lasts
`Days`. State is computed from timestamps when asked, so no timer is needed for it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.s3 import service_days
from gureum.services.s3.names import key_bytes

STORAGE_CLASSES = frozenset(("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                             "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"))
ARCHIVED = frozenset(("GLACIER", "DEEP_ARCHIVE"))
TIERS = ("Expedited", "Standard", "Bulk")
# How long a restore takes, in seconds, by storage class and tier (AWS's documented upper bounds).
RESTORE_SECONDS = {
    "GLACIER": {"Expedited": 5 * 60, "Standard": 5 * 3600, "Bulk": 12 * 3600},
    "DEEP_ARCHIVE": {"Standard": 12 * 3600, "Bulk": 48 * 3600},
}
_MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"


def check_storage_class(value: str | None) -> str:
    """The storage class a write asks for (STANDARD when absent), or InvalidStorageClass."""
    if value is None:
        return "STANDARD"
    if value not in STORAGE_CLASSES:
        raise ServiceError("InvalidStorageClass", "The storage class you specified is not valid", 400,
                           fields={"StorageClassRequested": value})
    return value


def archived_error(storage_class: str) -> ServiceError:
    return ServiceError("InvalidObjectState", "The operation is not valid for the object's storage class", 403,
                        fields={"StorageClass": storage_class})


def archived_source_error() -> ServiceError:
    return ServiceError("InvalidObjectState", "The source object of the COPY action is not in the active tier and "
                        "is only stored in Amazon Glacier.", 403)


class StorageClassOperations:
    """RestoreObject, and the checks that keep archived bytes unreadable until restored."""

    def _restore(self, bucket: str, raw_key: bytes, version_id: str):
        """The version's restore row if one is in progress or its copy is still there."""
        row = self.env.db.query_one("SELECT * FROM s3_restores WHERE bucket = ? AND key = ? AND version_id = ?",
                                    (bucket, raw_key, version_id))
        if row is not None and row["expires"] <= clock.epoch():
            return None  # the restored copy has expired
        return row

    def _check_readable(self, bucket: str, row, copy_source: bool = False) -> None:
        """GET (and copy) of an archived object needs a completed restore."""
        if row["storage_class"] not in ARCHIVED:
            return
        restore = self._restore(bucket, bytes(row["key"]), row["version_id"])
        if restore is None or restore["completes"] > clock.epoch():
            raise archived_source_error() if copy_source else archived_error(row["storage_class"])

    def _describe_restore(self, bucket: str, row, out: dict) -> None:
        if row["storage_class"] not in ARCHIVED:
            return
        restore = self._restore(bucket, bytes(row["key"]), row["version_id"])
        if restore is None:
            return
        if restore["completes"] > clock.epoch():
            out["Restore"] = 'ongoing-request="true"'
        else:
            out["Restore"] = f'ongoing-request="false", expiry-date="{service_days.http_date(restore["expires"])}"'

    def _list_restore_status(self, bucket: str, row, version_id: str | None, item: dict) -> None:
        """RestoreStatus of a listed archived object (OptionalObjectAttributes=RestoreStatus)."""
        if row["storage_class"] not in ARCHIVED:
            return
        raw_key = bytes(row["key"])
        if version_id is None:
            current = self.env.db.query_one("SELECT version_id FROM s3_current WHERE bucket = ? AND key = ?",
                                            (bucket, raw_key))
            version_id = current["version_id"] if current else "null"
        restore = self._restore(bucket, raw_key, version_id)
        if restore is None:
            return
        if restore["completes"] > clock.epoch():
            item["RestoreStatus"] = {"IsRestoreInProgress": True}
        else:
            item["RestoreStatus"] = {"IsRestoreInProgress": False,
                                     "RestoreExpiryDate": datetime.fromtimestamp(restore["expires"], timezone.utc)}

    def restore_object(self, ctx: RequestContext, request: dict) -> dict:
        bucket, key = request["Bucket"], request["Key"]
        spec = request.get("RestoreRequest") or {}
        if spec.get("Type") == "SELECT" or spec.get("OutputLocation") or spec.get("SelectParameters"):
            raise ServiceError("NotImplemented", "Restore with a SELECT request is not implemented by gureum.", 501)
        row = self._object(bucket, key, request.get("VersionId"))
        storage_class = row["storage_class"]
        if storage_class not in ARCHIVED:
            raise ServiceError("InvalidObjectState", "Restore is not allowed for the object's current storage class",
                               403, fields={"StorageClass": storage_class})
        days = spec.get("Days")
        tier = (spec.get("GlacierJobParameters") or {}).get("Tier") or spec.get("Tier") or "Standard"
        if not isinstance(days, int) or tier not in TIERS:
            raise ServiceError("MalformedXML", _MALFORMED, 400)
        if days < 1:
            raise ServiceError("InvalidArgument", "Days must be a positive integer", 400,
                               fields={"ArgumentName": "Days", "ArgumentValue": str(days)})
        if tier not in RESTORE_SECONDS[storage_class]:
            raise ServiceError("InvalidArgument", f"{tier} retrieval is not supported for the {storage_class} "
                               "storage class", 400, fields={"ArgumentName": "Tier", "ArgumentValue": tier})
        raw_key, version_id = key_bytes(key), row["version_id"]
        scale = self.env.settings.time_scale
        now = clock.epoch()
        with self.env.db.transaction():
            current = self._restore(bucket, raw_key, version_id)
            if current is not None and current["completes"] > now:
                raise ServiceError("RestoreAlreadyInProgress", "Object restore is already in progress", 409)
            if current is not None:  # already restored: only the copy's lifetime changes
                self.env.db.execute("UPDATE s3_restores SET days = ?, expires = ? WHERE bucket = ? AND key = ?"
                                    " AND version_id = ?",
                                    (days, service_days.due(now, days, scale), bucket, raw_key, version_id))
                return {}
            completes = now + service_days.seconds(RESTORE_SECONDS[storage_class][tier], scale)
            self._restored_buckets.add(bucket)
            self.env.db.execute(
                "INSERT OR REPLACE INTO s3_restores (bucket, key, version_id, days, tier, requested, completes,"
                " expires, announced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (bucket, raw_key, version_id, days, tier, now, completes,
                 service_days.due(completes, days, scale)))
        self._announce(ctx, "ObjectRestore:Post", bucket, row)
        self._start_lifecycle()  # its pass also announces completed and expired restores
        ctx.http_status = 202
        return {}
