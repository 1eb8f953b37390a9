"""S3 event notifications: a bucket's NotificationConfiguration, and the object events S3 publishes.

Every object event (created, removed, restored, lifecycle) is published on the in-process
event bus as ("s3:<eventName>", {"Records": [record], "Destinations": [...]}) after its state
is committed. The record has AWS's shape (eventVersion 2.1); Destinations lists the bucket's
configurations whose events and filters match, each {"Kind": "Topic"|"Queue"|"LambdaFunction"
|"EventBridge", "Arn", "Id"} (a consumer sets the record's s3.configurationId to the Id).
Delivery to SNS, SQS, Lambda and EventBridge belongs to those services' listeners; until they
exist, configured destinations are stored but neither verified nor delivered to.

Each event is also logged at DEBUG on the "gureum.s3.events" logger as one line
"s3 event <name> <payload JSON>", which lets a test or a user watch events without code.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import quote_plus

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.protocol.serializers.s3 import host_id
from gureum.services.s3.storage_state import NOTIFICATION

log = logging.getLogger("gureum.s3.events")

# configuration list member -> (ARN member, destination kind, ARN service)
KINDS = {
    "TopicConfigurations": ("TopicArn", "Topic", "sns"),
    "QueueConfigurations": ("QueueArn", "Queue", "sqs"),
    "LambdaFunctionConfigurations": ("LambdaFunctionArn", "LambdaFunction", "lambda"),
}
_ARN = re.compile(r"^arn:aws[a-z-]*:(sns|sqs|lambda):[a-z0-9-]+:\d{12}:[^\s]+$")
_sequence_lock = threading.Lock()
_last_sequence = 0


@lru_cache(maxsize=1)
def event_names() -> frozenset[str]:
    from botocore.session import get_session

    return frozenset(get_session().get_service_model("s3").shape_for("Event").enum)


def _invalid(message: str, name: str, value: str) -> ServiceError:
    return ServiceError("InvalidArgument", message, 400, fields={"ArgumentName": name, "ArgumentValue": value})


def _sequencer() -> str:
    """Increasing hex strings, as S3's sequencer orders events of one key."""
    global _last_sequence
    with _sequence_lock:
        _last_sequence = max(_last_sequence + 1, time.time_ns())
        return f"{_last_sequence:016X}"


def _filter_rules(config: dict) -> tuple[str, str]:
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    prefix = suffix = None
    for rule in rules:
        name = (rule.get("Name") or "").lower()
        if name not in ("prefix", "suffix"):
            raise _invalid("filter rule name must be either prefix or suffix", "FilterRule.Name",
                           str(rule.get("Name")))
        if name == "prefix":
            if prefix is not None:
                raise _invalid("Cannot specify more than one prefix rule in a filter.", "FilterRule", "prefix")
            prefix = rule.get("Value") or ""
        else:
            if suffix is not None:
                raise _invalid("Cannot specify more than one suffix rule in a filter.", "FilterRule", "suffix")
            suffix = rule.get("Value") or ""
    return prefix or "", suffix or ""


def _events_overlap(a: list[str], b: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(x, y) or fnmatch.fnmatchcase(y, x) for x in a for y in b)


def _filters_overlap(a: tuple[str, str], b: tuple[str, str]) -> bool:
    (pa, sa), (pb, sb) = a, b
    prefixes = pa.startswith(pb) or pb.startswith(pa)
    suffixes = sa.endswith(sb) or sb.endswith(sa)
    return prefixes and suffixes


def validate(config: dict) -> dict:
    """The configuration to store (Ids filled in), or AWS's error for it."""
    out: dict = {}
    seen: list[tuple[list[str], tuple[str, str]]] = []
    for member, (arn_member, _kind, _service) in KINDS.items():
        items = config.get(member) or []
        stored = []
        for item in items:
            arn = item.get(arn_member) or ""
            if not _ARN.match(arn):
                raise _invalid("The ARN is not well formed", arn_member, arn)
            events = item.get("Events") or []
            if not events:
                raise ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                                   "against our published schema", 400)
            for event in events:
                if event not in event_names():
                    raise _invalid("The event is not supported for notifications", "Event", event)
            filters = _filter_rules(item)
            for other_events, other_filters in seen:
                if _events_overlap(events, other_events) and _filters_overlap(filters, other_filters):
                    raise _invalid("Configurations overlap. Configurations on the same bucket cannot share a common "
                                   "event type.", "Event", events[0])
            seen.append((events, filters))
            entry = {"Id": item.get("Id") or secrets.token_urlsafe(36)[:48], arn_member: arn, "Events": list(events)}
            if item.get("Filter"):
                entry["Filter"] = item["Filter"]
            stored.append(entry)
        if stored:
            out[member] = stored
    if config.get("EventBridgeConfiguration") is not None:
        out["EventBridgeConfiguration"] = {}
    return out


def destinations(config: dict | None, event_name: str, key: str) -> list[dict]:
    """The configured destinations an event (such as "s3:ObjectCreated:Put") goes to."""
    if not config:
        return []
    found = []
    for member, (arn_member, kind, _service) in KINDS.items():
        for item in config.get(member) or []:
            if not any(fnmatch.fnmatchcase(event_name, pattern) for pattern in item["Events"]):
                continue
            prefix, suffix = _filter_rules(item)
            if key.startswith(prefix) and key.endswith(suffix):
                found.append({"Kind": kind, "Arn": item[arn_member], "Id": item["Id"]})
    if "EventBridgeConfiguration" in config:
        found.append({"Kind": "EventBridge", "Arn": "", "Id": ""})
    return found


def record(event_name: str, *, region: str, bucket: str, owner: str, key: str, principal_id: str, source_ip: str,
           request_id: str, version_id: str | None = None, size: int | None = None, etag: str | None = None,
           extra: dict | None = None, configuration_id: str = "") -> dict:
    """One S3 event record as S3 sends it (eventVersion 2.1)."""
    obj: dict = {"key": quote_plus(key, safe="/")}
    if size is not None:
        obj["size"] = size
    if etag is not None:
        obj["eTag"] = etag.strip('"')
    if version_id is not None and version_id != "null":
        obj["versionId"] = version_id
    obj["sequencer"] = _sequencer()
    now = datetime.fromtimestamp(clock.epoch(), timezone.utc)
    out = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "eventName": event_name,
        "userIdentity": {"principalId": principal_id},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id(request_id)},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": owner}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }
    if extra:
        out.update(extra)
    return out


class NotificationOperations:
    """Put/GetBucketNotificationConfiguration and the publishing of object events."""

    def put_bucket_notification_configuration(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        document = validate(request.get("NotificationConfiguration") or {})
        with self.env.db.transaction():
            self._set_config(NOTIFICATION, row["name"], document or None)
        if document and self.env.events.listening("s3:TestEvent"):
            # S3 sends each new destination a test message (delivered by the destination's service).
            every = [{"Kind": kind, "Arn": item[arn], "Id": item["Id"]}
                     for member, (arn, kind, _service) in KINDS.items() for item in document.get(member) or []]
            self.env.events.publish("s3:TestEvent", {
                "TestEvent": {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": datetime.fromtimestamp(
                    clock.epoch(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "Bucket": row["name"],
                    "RequestId": ctx.request_id, "HostId": host_id(ctx.request_id)},
                "Destinations": every})
        return {}

    def get_bucket_notification_configuration(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        return dict(self._config(NOTIFICATION, row["name"]) or {})

    def _announce(self, ctx: RequestContext | None, event: str, bucket: str, row=None, *, key: str | None = None,
                  version_id: str | None = None, size: int | None = None, etag: str | None = None,
                  extra: dict | None = None) -> None:
        """Publish an object event ("ObjectCreated:Put", ...); call after the change is committed."""
        name = "s3:" + event
        if not log.isEnabledFor(logging.DEBUG) and not self.env.events.listening(name):
            return  # nobody would see it: keep the request path cheap
        try:
            if row is not None:
                key = bytes(row["key"]).decode("utf-8")
                version_id = row["version_id"] if version_id is None else version_id
                if not event.startswith(("ObjectRemoved", "LifecycleExpiration")):
                    size, etag = row["size"], row["etag"]
            bucket_row = self.env.db.query_one("SELECT account_id, region FROM s3_buckets WHERE name = ?", (bucket,))
            if bucket_row is None:
                return
            if ctx is None or not ctx.principal.account_id:  # S3 itself (lifecycle), or an anonymous caller
                principal, source_ip = ("s3.amazonaws.com", "s3.amazonaws.com") if ctx is None else (
                    "Anonymous", ctx.source_ip)
            else:
                principal, source_ip = f"AWS:{ctx.principal.user_id}", ctx.source_ip
            payload = {
                "Records": [record(
                    event, region=bucket_row["region"], bucket=bucket, owner=bucket_row["account_id"], key=key or "",
                    principal_id=principal, source_ip=source_ip,
                    request_id=ctx.request_id if ctx is not None else secrets.token_hex(8).upper(),
                    version_id=version_id, size=size, etag=etag, extra=extra)],
                "Destinations": destinations(self._config(NOTIFICATION, bucket), name, key or ""),
            }
            if log.isEnabledFor(logging.DEBUG):
                log.debug("s3 event %s %s", name, json.dumps(payload))
            self.env.events.publish(name, payload)
        except Exception:  # an event must never fail the request that caused it
            log.exception("publishing s3 event %s failed", event)

    def _announce_delete(self, ctx: RequestContext, bucket: str, key: str, version_id: str | None,
                         result: dict) -> None:
        """DeleteObject's event: a marker created, or a version (or unversioned object) deleted."""
        if result.get("DeleteMarker") and version_id is None:
            self._announce(ctx, "ObjectRemoved:DeleteMarkerCreated", bucket, key=key, version_id=result["VersionId"])
        else:
            self._announce(ctx, "ObjectRemoved:Delete", bucket, key=key, version_id=version_id)
