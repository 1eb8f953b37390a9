"""S3 lifecycle: Put/Get/DeleteBucketLifecycleConfiguration and the scheduler that applies rules.

Rules count days on the service clock (service_days: midnight UTC rounding as AWS, or a
scaled day when Settings.time_scale is not 1). One daemon thread per provider, started when
a configuration exists, looks every second; each step (one object expired, one rule's
transitions, one upload aborted) is its own transaction, so a crash never leaves half of a
step. Expiring a current version on a versioned bucket adds a delete marker, as AWS does;
locked versions are never removed.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.s3 import service_days, versions
from gureum.services.s3.storage_state import LIFECYCLE

log = logging.getLogger("gureum.s3.lifecycle")

TRANSITION_CLASSES = ("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
# A transition only moves an object to a colder class (this order), never back.
_COLDNESS = {c: i for i, c in enumerate(("STANDARD", "REDUCED_REDUNDANCY", "INTELLIGENT_TIERING", "STANDARD_IA",
                                         "ONEZONE_IA", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"))}
_MIN_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}
SMALL_OBJECT = 128 * 1024  # all_storage_classes_128K: smaller objects are not transitioned
TICK_SECONDS = 1.0
BATCH = 500  # objects one rule looks at per tick, so the store lock is never held long
_MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"


def _malformed() -> ServiceError:
    return ServiceError("MalformedXML", _MALFORMED, 400)


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidArgument", message, 400)


def _epoch(value) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return float(value)


def _check_date(value) -> float:
    at = _epoch(value)
    if at % service_days.DAY:
        raise _invalid("'Date' must be at midnight GMT")
    return at


def _rule_filter(rule: dict) -> dict:
    """The rule's filter as {"prefix", "tags", "gt", "lt"}; legacy Prefix or Filter, exactly one."""
    has_filter, has_prefix = "Filter" in rule, "Prefix" in rule
    if has_filter == has_prefix:
        raise _malformed()
    if has_prefix:
        return {"prefix": rule["Prefix"] or "", "tags": {}, "gt": None, "lt": None}
    f = rule["Filter"] or {}
    present = [k for k in ("Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan") if k in f]
    if len(present) > 1:
        raise _malformed()
    out = {"prefix": f.get("Prefix") or "", "tags": {}, "gt": f.get("ObjectSizeGreaterThan"),
           "lt": f.get("ObjectSizeLessThan")}
    if "Tag" in f:
        out["tags"] = {f["Tag"]["Key"]: f["Tag"]["Value"]}
    if "And" in f:
        a = f["And"] or {}
        out["prefix"] = a.get("Prefix") or ""
        out["tags"] = {t["Key"]: t["Value"] for t in a.get("Tags") or []}
        out["gt"], out["lt"] = a.get("ObjectSizeGreaterThan"), a.get("ObjectSizeLessThan")
        if len(out["tags"]) != len(a.get("Tags") or []):
            raise _invalid("Duplicate Tag Keys are not allowed.")
    if out["gt"] is not None and out["lt"] is not None and out["gt"] >= out["lt"]:
        raise _invalid("ObjectSizeGreaterThan must be less than ObjectSizeLessThan.")
    for size in (out["gt"], out["lt"]):
        if size is not None and size < 0:
            raise _invalid("'ObjectSize' must be a non-negative integer.")
    return out


def validate(config: dict) -> list[dict]:
    """The rules to store (dates as epoch seconds), or AWS's error for them."""
    rules = config.get("Rules")
    if not rules or len(rules) > 1000:
        raise _malformed()
    ids: set[str] = set()
    stored = []
    for rule in rules:
        if rule.get("Status") not in ("Enabled", "Disabled"):
            raise _malformed()
        rule_id = rule.get("ID") or ""
        if len(rule_id) > 255:
            raise _invalid("ID length should not exceed allowed limit of 255")
        if rule_id and rule_id in ids:
            raise _invalid("Rule ID must be unique. Found same ID for more than one rule")
        ids.add(rule_id)
        filt = _rule_filter(rule)
        actions = ("Expiration", "Transitions", "NoncurrentVersionTransitions", "NoncurrentVersionExpiration",
                   "AbortIncompleteMultipartUpload")
        if not any(rule.get(a) for a in actions):
            raise ServiceError("InvalidRequest", "At least one action needs to be specified in a rule", 400)
        out = dict(rule)
        expiration = rule.get("Expiration")
        if expiration:
            given = [k for k in ("Days", "Date", "ExpiredObjectDeleteMarker") if expiration.get(k) is not None]
            if len(given) != 1:
                raise _malformed()
            if expiration.get("Days") is not None and expiration["Days"] <= 0:
                raise _invalid("'Days' for Expiration action must be a positive integer")
            if expiration.get("Date") is not None:
                out["Expiration"] = {"Date": _check_date(expiration["Date"])}
            if expiration.get("ExpiredObjectDeleteMarker") is not None and filt["tags"]:
                raise _invalid("ExpiredObjectDeleteMarker cannot be specified with tag-based filters.")
        transitions = []
        for t in rule.get("Transitions") or []:
            cls = t.get("StorageClass")
            if cls not in TRANSITION_CLASSES or (t.get("Days") is None) == (t.get("Date") is None):
                raise _malformed()
            if t.get("Days") is not None:
                if t["Days"] < 0:
                    raise _invalid("'Days' in Transition action must be a non-negative integer")
                if t["Days"] < _MIN_DAYS.get(cls, 0):
                    raise _invalid(f"'Days' in Transition action must be greater than or equal to 30 for "
                                   f"storageClass '{cls}'")
                transitions.append({"Days": t["Days"], "StorageClass": cls})
            else:
                transitions.append({"Date": _check_date(t["Date"]), "StorageClass": cls})
        if transitions:
            out["Transitions"] = transitions
            if expiration and expiration.get("Days") is not None and any(
                    t.get("Days") is not None and t["Days"] >= expiration["Days"] for t in transitions):
                raise _invalid(f"'Days' in the Expiration action for filter '(prefix={filt['prefix']})' must be "
                               "greater than 'Days' in the Transition action")
        for t in rule.get("NoncurrentVersionTransitions") or []:
            cls = t.get("StorageClass")
            if cls not in TRANSITION_CLASSES or t.get("NoncurrentDays") is None:
                raise _malformed()
            if t["NoncurrentDays"] < _MIN_DAYS.get(cls, 0):
                raise _invalid(f"'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or "
                               f"equal to 30 for storageClass '{cls}'")
        noncurrent = rule.get("NoncurrentVersionExpiration")
        if noncurrent:
            if noncurrent.get("NoncurrentDays") is None or noncurrent["NoncurrentDays"] <= 0:
                raise _invalid("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
            newer = noncurrent.get("NewerNoncurrentVersions")
            if newer is not None and not 1 <= newer <= 100:
                raise _invalid("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive "
                               "integer up to 100")
        abort = rule.get("AbortIncompleteMultipartUpload")
        if abort:
            if abort.get("DaysAfterInitiation") is None or abort["DaysAfterInitiation"] <= 0:
                raise _invalid("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
                               "integer")
            if filt["tags"] or filt["gt"] is not None or filt["lt"] is not None:
                raise _invalid("AbortIncompleteMultipartUpload cannot be specified with Tags or ObjectSize.")
        stored.append(out)
    return stored


def _as_output(rule: dict) -> dict:
    """A stored rule as GetBucketLifecycleConfiguration answers it (dates back to datetimes)."""
    out = dict(rule)
    if out.get("Expiration", {}).get("Date") is not None:
        out["Expiration"] = {"Date": datetime.fromtimestamp(out["Expiration"]["Date"], timezone.utc)}
    if out.get("Transitions"):
        out["Transitions"] = [
            {**t, "Date": datetime.fromtimestamp(t["Date"], timezone.utc)} if "Date" in t else t
            for t in out["Transitions"]]
    return out


def matches(rule: dict, key: bytes, size: int | None = None, tags: dict | None = None) -> bool:
    filt = _rule_filter(rule)
    if not key.startswith(filt["prefix"].encode("utf-8")):
        return False
    if filt["tags"] and any((tags or {}).get(k) != v for k, v in filt["tags"].items()):
        return False
    if size is not None:
        if filt["gt"] is not None and not size > filt["gt"]:
            return False
        if filt["lt"] is not None and not size < filt["lt"]:
            return False
    return True


class LifecycleOperations:
    """The configuration operations, x-amz-expiration, and the background scheduler."""

    _lifecycle_thread: threading.Thread | None = None

    def put_bucket_lifecycle_configuration(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        rules = validate(request.get("LifecycleConfiguration") or {})
        minimum = request.get("TransitionDefaultMinimumObjectSize") or "all_storage_classes_128K"
        if minimum not in ("varies_by_storage_class", "all_storage_classes_128K"):
            raise _invalid("Invalid TransitionDefaultMinimumObjectSize")
        with self.env.db.transaction():
            self._set_config(LIFECYCLE, row["name"], {"Rules": rules, "TransitionDefaultMinimumObjectSize": minimum})
        self._start_lifecycle()
        return {"TransitionDefaultMinimumObjectSize": minimum}

    def get_bucket_lifecycle_configuration(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        config = self._config(LIFECYCLE, row["name"])
        if config is None:
            raise ServiceError("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", 404,
                               fields={"BucketName": row["name"]})
        return {"Rules": [_as_output(r) for r in config["Rules"]],
                "TransitionDefaultMinimumObjectSize": config["TransitionDefaultMinimumObjectSize"]}

    def delete_bucket_lifecycle(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        with self.env.db.transaction():
            self._set_config(LIFECYCLE, row["name"], None)
        return {}

    # --- x-amz-expiration ------------------------------------------------------------------

    def _expiration_of(self, bucket: str, key: bytes, last_modified: float, size: int, tags: dict):
        """(when, rule id) of the first enabled rule that will expire this current version."""
        config = self._config(LIFECYCLE, bucket)
        if config is None:
            return None
        best = None
        for rule in config["Rules"]:
            expiration = rule.get("Expiration") or {}
            if rule["Status"] != "Enabled" or not matches(rule, key, size, tags):
                continue
            if expiration.get("Days") is not None:
                when = service_days.due(last_modified, expiration["Days"], self.env.settings.time_scale)
            elif expiration.get("Date") is not None:
                when = expiration["Date"]
            else:
                continue
            if best is None or when < best[0]:
                best = (when, rule.get("ID") or "")
        return best

    def _describe_expiration(self, bucket: str, row, out: dict) -> None:
        """x-amz-expiration of a current version (Head and Get without a version id)."""
        if self._config(LIFECYCLE, bucket) is None:
            return
        found = self._expiration_of(bucket, bytes(row["key"]), row["last_modified"], row["size"],
                                    json.loads(row["tags"]))
        if found is not None:
            out["Expiration"] = f'expiry-date="{service_days.http_date(found[0])}", rule-id="{found[1]}"'

    # --- the scheduler ---------------------------------------------------------------------

    def _start_lifecycle(self) -> None:
        if self._lifecycle_thread is not None and self._lifecycle_thread.is_alive():
            return
        self._lifecycle_stop = threading.Event()
        self._lifecycle_thread = threading.Thread(target=self._lifecycle_loop, name="s3-lifecycle", daemon=True)
        self._lifecycle_thread.start()

    def close(self) -> None:
        stop = getattr(self, "_lifecycle_stop", None)
        if stop is not None:
            stop.set()
            thread = self._lifecycle_thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5)  # a pass in progress finishes before the store closes

    def _lifecycle_loop(self) -> None:
        while not self._lifecycle_stop.wait(TICK_SECONDS):
            try:
                self.run_lifecycle()
            except Exception as e:  # a closed store ends the loop; anything else is logged and retried
                if "closed database" in str(e):
                    return
                log.exception("lifecycle pass failed")

    def run_lifecycle(self) -> None:
        """One pass over every bucket's rules (and restores whose completion is due to be announced)."""
        now = clock.epoch()
        for bucket, config in list(self._configs[LIFECYCLE].items()):
            for rule in config["Rules"]:
                if rule["Status"] != "Enabled":
                    continue
                try:
                    self._apply_rule(bucket, rule, config, now)
                except ServiceError:
                    continue  # the bucket went away meanwhile
        self._announce_restores(now)

    def _cutoff(self, days: float, now: float) -> float:
        """Objects last modified at or before this time are `days` old by now."""
        scale = self.env.settings.time_scale
        if scale == 1:
            midnight = int(now) // service_days.DAY * service_days.DAY
            return midnight - days * service_days.DAY
        return now - days * service_days.DAY / scale

    def _current_candidates(self, bucket: str, rule: dict, cutoff: float | None):
        prefix = _rule_filter(rule)["prefix"].encode("utf-8")
        sql = ("SELECT * FROM s3_latest WHERE bucket = ? AND substr(key, 1, ?) = ?"
               + (" AND last_modified <= ?" if cutoff is not None else "") + " ORDER BY key LIMIT ?")
        params = [bucket, len(prefix), prefix] + ([cutoff] if cutoff is not None else []) + [BATCH]
        return [r for r in self.env.db.query(sql, params)
                if matches(rule, bytes(r["key"]), r["size"], json.loads(r["tags"]))]

    def _apply_rule(self, bucket: str, rule: dict, config: dict, now: float) -> None:
        expiration = rule.get("Expiration") or {}
        if expiration.get("Days") is not None or (expiration.get("Date") is not None and now >= expiration["Date"]):
            cutoff = self._cutoff(expiration["Days"], now) if expiration.get("Days") is not None else None
            for row in self._current_candidates(bucket, rule, cutoff):
                self._expire_current(bucket, row)
        if expiration.get("Days") is not None or expiration.get("ExpiredObjectDeleteMarker"):
            self._expire_lone_markers(bucket, rule)
        for transition in rule.get("Transitions") or []:
            self._transition_current(bucket, rule, config, transition, now)
        if rule.get("NoncurrentVersionExpiration") or rule.get("NoncurrentVersionTransitions"):
            self._apply_noncurrent(bucket, rule, now)
        abort = rule.get("AbortIncompleteMultipartUpload")
        if abort:
            cutoff = self._cutoff(abort["DaysAfterInitiation"], now)
            prefix = _rule_filter(rule)["prefix"].encode("utf-8")
            for upload in self.env.db.query(
                    "SELECT upload_id FROM s3_uploads WHERE bucket = ? AND substr(key, 1, ?) = ? AND initiated <= ?"
                    " LIMIT ?", (bucket, len(prefix), prefix, cutoff, BATCH)):
                self._drop_upload(upload["upload_id"])

    def _expire_current(self, bucket: str, row) -> None:
        raw_key = bytes(row["key"])
        still = self.env.db.query_one("SELECT version_id, last_modified FROM s3_latest WHERE bucket = ? AND key = ?",
                                      (bucket, raw_key))
        if still is None or (still["version_id"], still["last_modified"]) != (row["version_id"], row["last_modified"]):
            return  # written again since this pass looked: the new version has its own age
        versioned = self._bucket(bucket)["versioning"] is not None
        if not versioned:
            try:
                self._check_deletable(bucket, raw_key, row["version_id"], False)
            except ServiceError:
                return
        result = self._delete_key(bucket, raw_key)
        if result.get("DeleteMarker"):
            self._announce(None, "LifecycleExpiration:DeleteMarkerCreated", bucket, key=raw_key.decode("utf-8"),
                           version_id=result.get("VersionId"))
        else:
            self._announce(None, "LifecycleExpiration:Delete", bucket, key=raw_key.decode("utf-8"),
                           version_id=row["version_id"])

    def _expire_lone_markers(self, bucket: str, rule: dict) -> None:
        """Delete markers with no other version of their key left ("expired object delete markers")."""
        prefix = _rule_filter(rule)["prefix"].encode("utf-8")
        rows = self.env.db.query(
            "SELECT v.key, v.version_id FROM s3_versions v WHERE v.bucket = ? AND v.delete_marker = 1"
            " AND substr(v.key, 1, ?) = ?"
            " AND NOT EXISTS (SELECT 1 FROM s3_objects o WHERE o.bucket = v.bucket AND o.key = v.key)"
            " AND (SELECT count(*) FROM s3_versions w WHERE w.bucket = v.bucket AND w.key = v.key) = 1 LIMIT ?",
            (bucket, len(prefix), prefix, BATCH))
        for r in rows:
            self._delete_key(bucket, bytes(r["key"]), r["version_id"])
            self._announce(None, "LifecycleExpiration:Delete", bucket, key=bytes(r["key"]).decode("utf-8"),
                           version_id=r["version_id"])

    def _may_transition(self, size: int, storage_class: str, target: str, config: dict, rule: dict) -> bool:
        if _COLDNESS.get(target, 0) <= _COLDNESS.get(storage_class, 0):
            return False
        filt = _rule_filter(rule)
        small = config.get("TransitionDefaultMinimumObjectSize") == "all_storage_classes_128K"
        return not (small and size < SMALL_OBJECT and filt["gt"] is None and filt["lt"] is None)

    def _transition_current(self, bucket: str, rule: dict, config: dict, transition: dict, now: float) -> None:
        target = transition["StorageClass"]
        if transition.get("Date") is not None:
            if now < transition["Date"]:
                return
            cutoff = None
        else:
            cutoff = self._cutoff(transition["Days"], now)
        moved = []
        with self.env.db.transaction():
            for row in self._current_candidates(bucket, rule, cutoff):
                if self._may_transition(row["size"], row["storage_class"], target, config, rule):
                    self.env.db.execute("UPDATE s3_objects SET storage_class = ? WHERE bucket = ? AND key = ?",
                                        (target, bucket, bytes(row["key"])))
                    moved.append(row)
        for row in moved:
            self._announce(None, "LifecycleTransition", bucket, row,
                           extra={"lifecycleEventData": {"transitionEventData": {"destinationStorageClass": target}}})

    def _apply_noncurrent(self, bucket: str, rule: dict, now: float) -> None:
        """Noncurrent versions: their age counts from when a newer version replaced them."""
        prefix = _rule_filter(rule)["prefix"].encode("utf-8")
        rows = self.env.db.query(
            "SELECT key, version_id, seq, 0 AS delete_marker, size, storage_class, last_modified, tags FROM s3_latest"
            " WHERE bucket = ? AND substr(key, 1, ?) = ?"
            " UNION ALL SELECT key, version_id, seq, delete_marker, size, storage_class, last_modified, tags"
            " FROM s3_versions WHERE bucket = ? AND substr(key, 1, ?) = ? ORDER BY key, seq DESC",
            (bucket, len(prefix), prefix, bucket, len(prefix), prefix))
        expiration = rule.get("NoncurrentVersionExpiration") or {}
        transitions = rule.get("NoncurrentVersionTransitions") or []
        scale = self.env.settings.time_scale
        expire, move = [], []
        previous_key, newer_time, index = None, None, 0
        for r in rows:
            key = bytes(r["key"])
            if key != previous_key:  # the key's newest version is current (or a marker): not noncurrent
                previous_key, newer_time, index = key, r["last_modified"], 0
                continue
            since, newer_time = newer_time, r["last_modified"]
            if r["delete_marker"]:
                continue
            index += 1  # 1 = the newest noncurrent version
            if not matches(rule, key, r["size"], json.loads(r["tags"])):
                continue
            if expiration and index > (expiration.get("NewerNoncurrentVersions") or 0) and \
                    now >= service_days.due(since, expiration["NoncurrentDays"], scale):
                expire.append((key, r["version_id"]))
                continue
            for t in transitions:
                if index > (t.get("NewerNoncurrentVersions") or 0) and \
                        now >= service_days.due(since, t["NoncurrentDays"], scale) and \
                        _COLDNESS[t["StorageClass"]] > _COLDNESS.get(r["storage_class"], 0):
                    move.append((key, r["version_id"], t["StorageClass"]))
                    break
        if move:
            with self.env.db.transaction():
                for key, version_id, target in move:
                    self.env.db.execute("UPDATE s3_versions SET storage_class = ? WHERE bucket = ? AND key = ?"
                                        " AND version_id = ?", (target, bucket, key, version_id))
        for key, version_id in expire[:BATCH]:
            try:
                self._check_deletable(bucket, key, version_id, False)
            except ServiceError:
                continue  # a locked version outlives the rule
            self._delete_key(bucket, key, version_id)
            self._announce(None, "LifecycleExpiration:Delete", bucket, key=key.decode("utf-8"), version_id=version_id)

    def _announce_restores(self, now: float) -> None:
        """ObjectRestore:Completed once a restore is done, ObjectRestore:Delete once its copy expires."""
        db = self.env.db
        for r in db.query("SELECT * FROM s3_restores WHERE (announced = 0 AND completes <= ?) OR expires <= ?"
                          " LIMIT ?", (now, now, BATCH)):
            key = bytes(r["key"])
            if r["expires"] <= now:
                db.execute("DELETE FROM s3_restores WHERE bucket = ? AND key = ? AND version_id = ?",
                           (r["bucket"], key, r["version_id"]))
            else:
                db.execute("UPDATE s3_restores SET announced = 1 WHERE bucket = ? AND key = ? AND version_id = ?",
                           (r["bucket"], key, r["version_id"]))
            if not r["announced"]:  # a copy may have come and gone between two passes
                expiry = datetime.fromtimestamp(r["expires"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                version = versions.find(db, r["bucket"], key, r["version_id"])
                storage_class = version["storage_class"] if version is not None else "GLACIER"
                self._announce(None, "ObjectRestore:Completed", r["bucket"], key=key.decode("utf-8"),
                               version_id=r["version_id"],
                               extra={"glacierEventData": {"restoreEventData": {
                                   "lifecycleRestorationExpiryTime": expiry,
                                   "lifecycleRestoreStorageClass": storage_class}}})
            if r["expires"] <= now:
                self._announce(None, "ObjectRestore:Delete", r["bucket"], key=key.decode("utf-8"),
                               version_id=r["version_id"])
