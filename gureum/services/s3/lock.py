"""S3 Object Lock: a bucket's lock configuration (default retention), and each object
version's retention (GOVERNANCE or COMPLIANCE, until a date) and legal hold.

A locked version cannot be deleted or overwritten by version id; adding a delete marker is
still allowed, as on AWS. GOVERNANCE yields to x-amz-bypass-governance-retention (the policy
layer requires s3:BypassGovernanceRetention for it); COMPLIANCE yields to nothing and can
only be extended.
"""

from __future__ import annotations

from datetime import datetime, timezone

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.s3.names import key_bytes
from gureum.services.s3.storage_state import OBJECT_LOCK

MODES = ("GOVERNANCE", "COMPLIANCE")
_MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"


def malformed() -> ServiceError:
    return ServiceError("MalformedXML", _MALFORMED, 400)


def missing_lock_configuration() -> ServiceError:
    return ServiceError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)


def protected() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied because object protected by object lock.", 403)


def _no_object_lock() -> ServiceError:
    return ServiceError("NoSuchObjectLockConfiguration",
                        "The specified object does not have a ObjectLock configuration", 404)


def _epoch(value) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return float(value)


def _check_mode(mode) -> None:
    if mode not in MODES:
        raise ServiceError("InvalidArgument", "Unknown wormMode directive.", 400,
                           fields={"ArgumentName": "x-amz-object-lock-mode", "ArgumentValue": str(mode)})


def _check_legal_hold(status) -> None:
    if status not in ("ON", "OFF"):
        raise ServiceError("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'", 400,
                           fields={"ArgumentName": "x-amz-object-lock-legal-hold", "ArgumentValue": str(status)})


def _check_future(until: float) -> None:
    if until <= clock.epoch():
        raise ServiceError("InvalidArgument", "The retain until date must be in the future!", 400)


def _has_integrity_header(request: dict, headers) -> bool:
    if request.get("ContentMD5"):
        return True
    return any(name.startswith("x-amz-checksum-") or name in ("x-amz-sdk-checksum-algorithm", "x-amz-trailer")
               for name in (h.lower() for h in headers))


class LockOperations:
    """Put/GetObjectLockConfiguration, Put/GetObjectRetention, Put/GetObjectLegalHold."""

    # --- the bucket's configuration --------------------------------------------------------

    def _lock_enabled(self, bucket: str) -> bool:
        return self._config(OBJECT_LOCK, bucket) is not None

    def _enable_object_lock(self, bucket: str) -> None:
        """CreateBucket with ObjectLockEnabledForBucket: versioning on, lock on, no default rule."""
        self._set_bucket(bucket, versioning="Enabled")
        self._set_config(OBJECT_LOCK, bucket, {"ObjectLockEnabled": "Enabled"})

    def put_object_lock_configuration(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        config = request.get("ObjectLockConfiguration") or {}
        if config.get("ObjectLockEnabled") != "Enabled":
            raise malformed()
        document: dict = {"ObjectLockEnabled": "Enabled"}
        rule = config.get("Rule")
        if rule is not None:
            retention = rule.get("DefaultRetention")
            if not retention or retention.get("Mode") is None:
                raise malformed()
            _check_mode(retention["Mode"])
            days, years = retention.get("Days"), retention.get("Years")
            if (days is None) == (years is None):
                raise malformed()
            period = days if days is not None else years
            if period <= 0:
                raise ServiceError("InvalidArgument", "Default retention period must be a positive integer value.",
                                   400, fields={"ArgumentName": "Days" if days is not None else "Years",
                                                "ArgumentValue": str(period)})
            if (days or 0) > 36500 or (years or 0) > 100:
                raise ServiceError("InvalidArgument", "Default retention period is too large.", 400,
                                   fields={"ArgumentName": "Days" if days is not None else "Years",
                                           "ArgumentValue": str(period)})
            document["Rule"] = {"DefaultRetention": {k: v for k, v in retention.items() if v is not None}}
        with self.env.db.transaction():
            if not self._lock_enabled(row["name"]) and row["versioning"] != "Enabled":
                raise ServiceError("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a "
                                   "Object Lock configuration", 409)
            self._set_config(OBJECT_LOCK, row["name"], document)
        return {}

    def get_object_lock_configuration(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        config = self._config(OBJECT_LOCK, row["name"])
        if config is None:
            raise ServiceError("ObjectLockConfigurationNotFoundError",
                               "Object Lock configuration does not exist for this bucket", 404,
                               fields={"BucketName": row["name"]})
        return {"ObjectLockConfiguration": config}

    def _check_versioning_change(self, bucket: str, status: str | None) -> None:
        """A lock-enabled bucket's versioning stays Enabled."""
        if status == "Suspended" and self._lock_enabled(bucket):
            raise ServiceError("InvalidBucketState", "An Object Lock configuration is present on this bucket, so "
                               "the versioning state cannot be changed.", 409)

    # --- writes ----------------------------------------------------------------------------

    def _lock_request(self, bucket: str, request: dict, headers) -> dict | None:
        """The lock a write asks for with x-amz-object-lock-* headers, checked before its body is read."""
        mode, until = request.get("ObjectLockMode"), request.get("ObjectLockRetainUntilDate")
        hold = request.get("ObjectLockLegalHoldStatus")
        if mode is None and until is None and hold is None:
            return None
        if not self._lock_enabled(bucket):
            raise missing_lock_configuration()
        if (mode is None) != (until is None):
            raise ServiceError("InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode "
                               "must both be supplied", 400)
        lock: dict = {}
        if mode is not None:
            _check_mode(mode)
            lock["mode"], lock["until"] = mode, _epoch(until)
            _check_future(lock["until"])
        if hold is not None:
            _check_legal_hold(hold)
            lock["legal_hold"] = hold
        if headers is not None and not _has_integrity_header(request, headers):
            raise ServiceError("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put "
                               "Object requests with Object Lock parameters", 400)
        return lock

    def _record_lock(self, bucket: str, raw_key: bytes, version_id: str, lock: dict | None) -> None:
        """Store a new version's lock: the one asked for, else the bucket's default retention."""
        config = self._config(OBJECT_LOCK, bucket)
        if config is None:
            return
        lock = dict(lock or {})
        default = (config.get("Rule") or {}).get("DefaultRetention")
        if "mode" not in lock and default:
            days = default.get("Days") or default.get("Years", 0) * 365
            lock["mode"], lock["until"] = default["Mode"], clock.epoch() + days * 86400
        if not lock:
            return
        self.env.db.execute(
            "INSERT OR REPLACE INTO s3_object_locks (bucket, key, version_id, mode, retain_until, legal_hold)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (bucket, raw_key, version_id, lock.get("mode"), lock.get("until"), lock.get("legal_hold")))

    def _remember_upload_lock(self, upload_id: str, lock: dict | None) -> None:
        if lock:
            self.env.db.execute("INSERT INTO s3_upload_locks (upload_id, mode, retain_until, legal_hold)"
                                " VALUES (?, ?, ?, ?)",
                                (upload_id, lock.get("mode"), lock.get("until"), lock.get("legal_hold")))

    def _upload_lock(self, upload_id: str) -> dict | None:
        row = self.env.db.query_one("SELECT * FROM s3_upload_locks WHERE upload_id = ?", (upload_id,))
        if row is None:
            return None
        self.env.db.execute("DELETE FROM s3_upload_locks WHERE upload_id = ?", (upload_id,))
        lock = {}
        if row["mode"]:
            lock["mode"], lock["until"] = row["mode"], row["retain_until"]
        if row["legal_hold"]:
            lock["legal_hold"] = row["legal_hold"]
        return lock

    # --- deletes ---------------------------------------------------------------------------

    def _object_lock(self, bucket: str, raw_key: bytes, version_id: str):
        return self.env.db.query_one("SELECT * FROM s3_object_locks WHERE bucket = ? AND key = ? AND version_id = ?",
                                     (bucket, raw_key, version_id))

    def _check_deletable(self, bucket: str, raw_key: bytes, version_id: str, bypass: bool) -> None:
        """Refuse to remove a version under legal hold or unexpired retention."""
        if not self._lock_enabled(bucket):
            return
        lock = self._object_lock(bucket, raw_key, version_id)
        if lock is None:
            return
        if lock["legal_hold"] == "ON":
            raise protected()
        if lock["mode"] and lock["retain_until"] > clock.epoch():
            if lock["mode"] == "COMPLIANCE" or not bypass:
                raise protected()

    # --- retention and legal hold of one version --------------------------------------------

    def _locked_version(self, request: dict):
        bucket = request["Bucket"]
        self._bucket(bucket)
        if not self._lock_enabled(bucket):
            raise missing_lock_configuration()
        row = self._object(bucket, request["Key"], request.get("VersionId"))
        return bucket, key_bytes(request["Key"]), row["version_id"]

    def put_object_retention(self, ctx: RequestContext, request: dict) -> dict:
        bucket, raw_key, version_id = self._locked_version(request)
        retention = request.get("Retention") or {}
        mode, until = retention.get("Mode"), retention.get("RetainUntilDate")
        if (mode is None) != (until is None):
            raise malformed()
        if mode is not None:
            _check_mode(mode)
            until = _epoch(until)
            _check_future(until)
        bypass = bool(request.get("BypassGovernanceRetention"))
        with self.env.db.transaction():
            old = self._object_lock(bucket, raw_key, version_id)
            if old is not None and old["mode"] and old["retain_until"] > clock.epoch():
                shorter = mode is None or until < old["retain_until"]
                if old["mode"] == "COMPLIANCE" and (shorter or mode != "COMPLIANCE"):
                    raise protected()
                if old["mode"] == "GOVERNANCE" and shorter and not bypass:
                    raise protected()
            self.env.db.execute(
                "INSERT INTO s3_object_locks (bucket, key, version_id, mode, retain_until) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (bucket, key, version_id) DO UPDATE SET mode = excluded.mode,"
                " retain_until = excluded.retain_until", (bucket, raw_key, version_id, mode, until))
        self._announce(ctx, "ObjectRetention:Put", bucket, key=request["Key"], version_id=version_id)
        return {}

    def get_object_retention(self, ctx: RequestContext, request: dict) -> dict:
        bucket, raw_key, version_id = self._locked_version(request)
        lock = self._object_lock(bucket, raw_key, version_id)
        if lock is None or not lock["mode"]:
            raise _no_object_lock()
        return {"Retention": {"Mode": lock["mode"],
                              "RetainUntilDate": datetime.fromtimestamp(lock["retain_until"], timezone.utc)}}

    def put_object_legal_hold(self, ctx: RequestContext, request: dict) -> dict:
        bucket, raw_key, version_id = self._locked_version(request)
        status = (request.get("LegalHold") or {}).get("Status")
        if status is None:
            raise malformed()
        _check_legal_hold(status)
        self.env.db.execute(
            "INSERT INTO s3_object_locks (bucket, key, version_id, legal_hold) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (bucket, key, version_id) DO UPDATE SET legal_hold = excluded.legal_hold",
            (bucket, raw_key, version_id, status))
        return {}

    def get_object_legal_hold(self, ctx: RequestContext, request: dict) -> dict:
        bucket, raw_key, version_id = self._locked_version(request)
        lock = self._object_lock(bucket, raw_key, version_id)
        if lock is None or not lock["legal_hold"]:
            raise _no_object_lock()
        return {"LegalHold": {"Status": lock["legal_hold"]}}

    def _describe_lock(self, bucket: str, row, out: dict) -> None:
        """ObjectLockMode / RetainUntilDate / LegalHoldStatus on Head and Get."""
        if not self._lock_enabled(bucket):
            return
        lock = self._object_lock(bucket, bytes(row["key"]), row["version_id"])
        if lock is None:
            return
        if lock["mode"]:
            out["ObjectLockMode"] = lock["mode"]
            out["ObjectLockRetainUntilDate"] = datetime.fromtimestamp(lock["retain_until"], timezone.utc)
        if lock["legal_hold"]:
            out["ObjectLockLegalHoldStatus"] = lock["legal_hold"]
