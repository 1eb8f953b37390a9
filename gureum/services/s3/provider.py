"""Amazon S3: buckets, objects, listings and access (bucket policies, Block Public Access)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import quote, unquote

from gureum import clock
from gureum.context import Principal, RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.base import BaseProvider
from gureum.services.s3 import encryption, listing, policy, versions
from gureum.services.s3.acl import AclOperations
from gureum.services.s3.encryption import EncryptionOperations
from gureum.services.s3.multipart import MultipartOperations
from gureum.services.s3.lifecycle import LifecycleOperations  # lock, classes, lifecycle, events
from gureum.services.s3.lock import LockOperations
from gureum.services.s3.notifications import NotificationOperations
from gureum.services.s3.storage_classes import StorageClassOperations, check_storage_class
from gureum.services.s3.storage_state import StorageState
from gureum.services.s3.cors import CorsOperations
from gureum.services.s3.website import WebsiteOperations
from gureum.services.s3.names import check_bucket_name, key_bytes
from gureum.services.s3.objects import (
    STORED_HEADERS,
    check_conditions,
    check_tags,
    header_value,
    md5_header,
    once,
    parse_range,
    parse_tagging,
    precondition_failed,
    read_blob,
    receive_body,
)
from gureum.services.s3.schema import MIGRATIONS

PAB_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
DEFAULT_PAB = {f: True for f in PAB_FIELDS}
OWNERSHIP = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")


@lru_cache(maxsize=None)
def _regions() -> frozenset[str]:
    from botocore.session import get_session

    data = get_session().get_component("endpoint_resolver")._endpoint_data
    return frozenset(r for p in data["partitions"] if p["partition"] == "aws" for r in p["regions"])


def canonical_id(account_id: str) -> str:
    """An account's canonical user id: 64 hex characters, stable per account."""
    return hashlib.sha256(f"gureum-canonical:{account_id}".encode()).hexdigest()


def no_such_bucket(name: str) -> ServiceError:
    return ServiceError("NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": name})


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})


def _iso(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


class Provider(AclOperations, EncryptionOperations, MultipartOperations, WebsiteOperations, CorsOperations, LockOperations,
               StorageClassOperations, LifecycleOperations, NotificationOperations, StorageState, BaseProvider):
    service_name = "s3"
    MIGRATIONS = MIGRATIONS

    def __init__(self, env):
        self._bucket_rows: dict[str, tuple[tuple[int, int], object]] = {}  # name -> (marker, row)
        self._bucket_writes = 0  # every change to s3_buckets counts one: see _bucket_row
        super().__init__(env)

    # --- policy hooks ----------------------------------------------------------------

    def _bucket_of_arn(self, arn: str):
        if not arn.startswith("arn:aws:s3:::"):
            return None
        return self._bucket_row(arn[len("arn:aws:s3:::"):].split("/", 1)[0])

    def _bucket_row(self, name: str):
        """The bucket's row or None. Every request asks for it several times (the authorizer's
        hooks, the operation): it is read again only once a bucket row was written (all writes
        go through _set_bucket / _bucket_changed) or a transaction rolled back since."""
        marker = (self._bucket_writes, self.env.db.rollbacks)
        cached = self._bucket_rows.get(name)
        if cached is not None and cached[0] == marker:
            return cached[1]
        row = self.env.db.query_one("SELECT * FROM s3_buckets WHERE name = ?", (name,))
        if len(self._bucket_rows) >= 1024:
            self._bucket_rows.clear()
        self._bucket_rows[name] = (marker, row)
        return row

    def _set_bucket(self, name: str, **columns) -> None:
        """Change columns of a bucket's row (column names come from code, never a request)."""
        sets = ", ".join(f"{column} = ?" for column in columns)
        self.env.db.execute(f"UPDATE s3_buckets SET {sets} WHERE name = ?", (*columns.values(), name))
        self._bucket_changed()

    def _bucket_changed(self) -> None:
        self._bucket_writes += 1

    def resource_account(self, action: str, arn: str) -> str | None:
        if action == "s3:CreateBucket":
            return None  # creating is decided in the caller's account; a taken name is a 409 later
        row = self._bucket_of_arn(arn)
        return row["account_id"] if row else None

    def resource_policy(self, action: str, arn: str, caller: Principal):
        row = self._bucket_of_arn(arn)
        if row is None:
            return None
        raw = json.loads(row["policy"]) if row["policy"] else {"Version": "2012-10-17", "Statement": []}
        if (caller.account_id != row["account_id"] and policy.is_public(raw)
                and self._effective_pab(row).get("RestrictPublicBuckets")):  # with the account's BPA
            # A public policy's grants reach only the owner's account (and AWS services).
            raw = policy.without_public_grants(raw)
        # ACL grants take part as resource-policy statements
        raw["Statement"] = policy.statements(raw) + self._acl_statements(row, action, arn)
        if not raw["Statement"]:
            return None
        return (f"bucket policy of {row['name']}", json.dumps(raw))

    # --- buckets ---------------------------------------------------------------------

    def _bucket(self, name: str):
        row = self._bucket_row(name)
        if row is None:
            raise no_such_bucket(name)
        return row

    @staticmethod
    def _pab(row) -> dict:
        return json.loads(row["public_access_block"]) if row["public_access_block"] else {}

    def create_bucket(self, ctx: RequestContext, request: dict) -> dict:
        name = request["Bucket"]
        check_bucket_name(name)
        constraint = (request.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
        if constraint == "EU":
            constraint = "eu-west-1"
        if ctx.region == "us-east-1":
            if constraint == "us-east-1" or (constraint and constraint not in _regions()):
                raise ServiceError("InvalidLocationConstraint", "The specified location-constraint is not valid", 400,
                                   fields={"LocationConstraint": constraint})
            region = constraint or "us-east-1"
        elif constraint != ctx.region:
            what = f"{constraint} location constraint" if constraint else "unspecified location constraint"
            raise ServiceError("IllegalLocationConstraintException",
                               f"The {what} is incompatible for the region specific endpoint this request was sent to.",
                               400)
        else:
            region = constraint
        ownership = request.get("ObjectOwnership") or "BucketOwnerEnforced"
        initial_acl = self._acl_for_create(ctx, request, ownership)
        with self.env.db.transaction():
            existing = self.env.db.query_one("SELECT account_id, region FROM s3_buckets WHERE name = ?", (name,))
            if existing is not None:
                if existing["account_id"] != ctx.account_id:
                    raise ServiceError("BucketAlreadyExists",
                                       "The requested bucket name is not available. The bucket namespace is shared by "
                                       "all users of the system. Please select a different name and try again.",
                                       409, fields={"BucketName": name})
                if existing["region"] == "us-east-1" and region == "us-east-1":
                    return {"Location": f"/{name}"}  # us-east-1 answers 200 for your own bucket
                raise ServiceError("BucketAlreadyOwnedByYou",
                                   "Your previous request to create the named bucket succeeded and you already own it.",
                                   409, fields={"BucketName": name})
            self.env.db.execute(
                "INSERT INTO s3_buckets (name, account_id, region, created, public_access_block, ownership)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, ctx.account_id, region, round(clock.now().timestamp(), 3), json.dumps(DEFAULT_PAB), ownership),
            )
            self._bucket_changed()
            if initial_acl is not None:
                self._set_bucket(name, acl=initial_acl)
            if request.get("ObjectLockEnabledForBucket"):
                self._enable_object_lock(name)
        return {"Location": f"/{name}"}

    def head_bucket(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        return {"BucketRegion": row["region"]}

    def get_bucket_location(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        return {"LocationConstraint": "" if row["region"] == "us-east-1" else row["region"]}

    def list_buckets(self, ctx: RequestContext, request: dict) -> dict:
        max_buckets = request.get("MaxBuckets", 10000)
        if not 1 <= max_buckets <= 10000:
            raise ServiceError("InvalidArgument", "Argument max-buckets must be an integer between 1 and 10000", 400)
        sql = "SELECT name, region, created FROM s3_buckets WHERE account_id = ?"
        params: list = [ctx.account_id]
        if request.get("ContinuationToken"):
            try:
                after = base64.urlsafe_b64decode(request["ContinuationToken"].encode()).decode()
            except ValueError:
                raise ServiceError("InvalidArgument", "The continuation token provided is incorrect", 400) from None
            sql += " AND name > ?"
            params.append(after)
        if request.get("Prefix"):
            sql += " AND substr(name, 1, ?) = ?"
            params += [len(request["Prefix"]), request["Prefix"]]
        if request.get("BucketRegion"):
            sql += " AND region = ?"
            params.append(request["BucketRegion"])
        rows = self.env.db.query(sql + " ORDER BY name LIMIT ?", [*params, max_buckets + 1])
        out: dict = {
            "Buckets": [{"Name": r["name"], "CreationDate": _iso(r["created"]), "BucketRegion": r["region"]}
                        for r in rows[:max_buckets]],
            "Owner": {"ID": canonical_id(ctx.account_id)},
        }
        if request.get("Prefix"):
            out["Prefix"] = request["Prefix"]
        if len(rows) > max_buckets:
            out["ContinuationToken"] = base64.urlsafe_b64encode(rows[max_buckets - 1]["name"].encode()).decode()
        return out

    def delete_bucket(self, ctx: RequestContext, request: dict) -> dict:
        name = request["Bucket"]
        with self.env.db.transaction():
            self._bucket(name)
            if self.env.db.query_one("SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1", (name,)) or \
                    self.env.db.query_one("SELECT 1 FROM s3_versions WHERE bucket = ? LIMIT 1", (name,)):
                raise ServiceError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409,
                                   fields={"BucketName": name})
            # Incomplete multipart uploads do not keep a bucket alive; their parts go with it.
            part_blobs = [r["blob_id"] for r in self.env.db.query(
                "SELECT p.blob_id FROM s3_parts p JOIN s3_uploads u ON u.upload_id = p.upload_id"
                " WHERE u.bucket = ?", (name,))]
            self.env.db.execute(
                "DELETE FROM s3_parts WHERE upload_id IN (SELECT upload_id FROM s3_uploads WHERE bucket = ?)", (name,))
            self.env.db.execute("DELETE FROM s3_uploads WHERE bucket = ?", (name,))
            self._forget_bucket_state(name)  # lock, lifecycle, notification configurations
            self.env.db.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))
            self._bucket_changed()
        for blob_id in part_blobs:
            self.env.blobs.delete(blob_id)
        return {}

    # --- objects ---------------------------------------------------------------------

    async def put_object(self, ctx: RequestContext, request: dict) -> dict:
        bucket, key = request["Bucket"], request["Key"]
        # A refusal before the body is read closes the connection (the gateway sees to that).
        raw_key = key_bytes(key)
        row = self._bucket(bucket)
        acl = self._acl_for_write(ctx, row, request)
        sse = encryption.attributes_for_write(ctx, request, row)
        tags = parse_tagging(request["Tagging"]) if request.get("Tagging") else {}
        expected_md5 = md5_header(request["ContentMD5"]) if request.get("ContentMD5") else None
        headers = ctx.request.headers if ctx.request is not None else {}
        storage_class = check_storage_class(request.get("StorageClass"))  # classes and lock
        lock = self._lock_request(bucket, request, headers)
        writer = self.env.blobs.new_writer()
        blob_id = None
        try:
            md5, found = await receive_body(request.get("Body"), writer, headers, expected_md5)
            etag = f'"{md5.hex()}"'
            stored = {m: header_value(request[m]) for m in STORED_HEADERS if request.get(m) is not None}
            stored.setdefault("ContentType", "binary/octet-stream")
            stored.update(sse)
            stored.update(acl)
            with self.env.db.transaction():  # a small blob is a row: it commits with the object's
                blob_id = writer.commit()
                replaced, version_id = self._write_object(
                    bucket, raw_key, blob_id, writer.size, etag, stored, request.get("Metadata") or {},
                    storage_class, found, tags, if_match=request.get("IfMatch"),
                    if_none_match=request.get("IfNoneMatch"), lock=lock)
        except BaseException:
            writer.abort()
            if blob_id is not None:
                self.env.blobs.delete(blob_id)  # a file blob outlives the rollback
            raise
        for old in replaced:
            self.env.blobs.delete(old)
        self._announce(ctx, "ObjectCreated:Post" if ctx.operation == "PostObject" else "ObjectCreated:Put", bucket,
                       key=key, version_id=version_id, size=writer.size, etag=etag)
        out: dict = {"ETag": etag, **found, **encryption.response_members(stored)}
        if version_id != versions.NULL:
            out["VersionId"] = version_id
        if found:
            out["ChecksumType"] = "FULL_OBJECT"
        return out

    def _write_object(self, bucket: str, raw_key: bytes, blob_id: str, size: int, etag: str, stored: dict,
                      metadata: dict, storage_class: str, found: dict, tags: dict,
                      if_match: str | None = None, if_none_match: str | None = None,
                      lock: dict | None = None) -> tuple[list[str], str]:
        """Write the key's new current version (the blob is already committed).

        Returns the blobs it replaced (to delete after commit) and the new version's id.
        Conditional writes (If-Match, If-None-Match: *) are decided here, in the transaction
        that writes, so two racing uploads cannot both pass.
        """
        db = self.env.db
        with db.transaction():
            status = self._bucket(bucket)["versioning"]  # it may have been deleted while the body streamed
            old = db.query_one("SELECT blob_id, etag, version_id, seq FROM s3_latest WHERE bucket = ? AND key = ?",
                               (bucket, raw_key))
            if if_none_match is not None and if_none_match.strip() == "*" and old is not None:
                raise precondition_failed("If-None-Match")
            if if_match is not None:
                if old is None:
                    raise no_such_key(raw_key.decode("utf-8", "surrogatepass"))
                if if_match.strip() != "*" and if_match.strip().strip('"') != old["etag"].strip('"'):
                    raise precondition_failed("If-Match")
            replaced: list[str] = []
            version_id = versions.new_version_id() if status == "Enabled" else versions.NULL
            if old is not None:
                if status is None or (status == "Suspended" and old["version_id"] == versions.NULL):
                    replaced.append(old["blob_id"])
                    versions.remove_current(db, bucket, raw_key)
                else:
                    versions.demote_current(db, bucket, raw_key)
            if status == "Suspended":
                replaced += versions.drop_null(db, bucket, raw_key)
            db.execute(
                "INSERT INTO s3_objects (bucket, key, blob_id, size, etag, last_modified, headers,"
                " metadata, storage_class, checksums, tags) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (bucket, raw_key, blob_id, size, etag, int(clock.epoch()), _json(stored),
                 _json(metadata), storage_class, _json(found), _json(tags)),
            )
            if status is not None:  # never versioned: the "null" version, which has no s3_current row
                versions.set_current(db, bucket, raw_key, version_id, versions.next_seq(db, bucket, raw_key))
            if version_id == versions.NULL:  # a replaced null version's lock and restore go
                self._forget_version_state(bucket, raw_key, version_id)
            self._record_lock(bucket, raw_key, version_id, lock)
        return replaced, version_id

    def _object(self, bucket: str, key: str, version_id: str | None = None, copy_source: bool = False):
        """The key's current version, or the given version; markers answer as S3 does."""
        self._bucket(bucket)
        raw = key_bytes(key)
        db = self.env.db
        if version_id is not None:
            versions.check_version_id(version_id)
            row = versions.find(db, bucket, raw, version_id)
            if row is None:
                raise versions.no_such_version(key, version_id)
            if row["delete_marker"]:
                if copy_source:
                    raise ServiceError("InvalidRequest", "The source of a copy request may not specifically "
                                       "refer to a delete marker by version id.", 400)
                raise ServiceError("MethodNotAllowed", "The specified method is not allowed against this resource.",
                                   405, fields={"Method": "GET", "ResourceType": "DeleteMarker"},
                                   headers={"x-amz-delete-marker": "true", "x-amz-version-id": version_id,
                                            "Last-Modified": _http_date_text(row["last_modified"])})
            return row
        row = db.query_one("SELECT * FROM s3_latest WHERE bucket = ? AND key = ?", (bucket, raw))
        if row is None:
            error = no_such_key(key)
            marker = versions.latest_marker(db, bucket, raw)
            if marker is not None:
                error.headers.update({"x-amz-delete-marker": "true", "x-amz-version-id": marker["version_id"]})
            raise error
        return row

    def _describe(self, row, request: dict, ranged: bool = False) -> dict:
        out: dict = {
            "ETag": row["etag"],
            "LastModified": _iso(row["last_modified"]),
            "ContentLength": row["size"],
            "AcceptRanges": "bytes",
            "Metadata": json.loads(row["metadata"]),
        }
        if row["version_id"] != versions.NULL or request.get("VersionId"):
            out["VersionId"] = row["version_id"]
        for member, value in json.loads(row["headers"]).items():
            out[member] = _parse_header_value(member, value)
        out.update(encryption.response_members(json.loads(row["headers"])))
        if row["storage_class"] != "STANDARD":
            out["StorageClass"] = row["storage_class"]
        tags = json.loads(row["tags"])
        if tags:
            out["TagCount"] = len(tags)
        if request.get("ChecksumMode") == "ENABLED" and not ranged:  # a range has no whole-object checksum
            found = json.loads(row["checksums"])
            if found:
                out.update(found)
                out["ChecksumType"] = "FULL_OBJECT"
        for member in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "ContentType",
                       "Expires"):
            override = request.get("Response" + member)
            if override is not None:
                out[member] = override
        self._describe_lock(request["Bucket"], row, out)  # lock, restore, expiration
        self._describe_restore(request["Bucket"], row, out)
        if not request.get("VersionId"):
            self._describe_expiration(request["Bucket"], row, out)
        return out

    def head_object(self, ctx: RequestContext, request: dict) -> dict:
        row = self._object(request["Bucket"], request["Key"], request.get("VersionId"))
        encryption.check_read(ctx, request, json.loads(row["headers"]))
        check_conditions(request, row["etag"], row["last_modified"])
        span = parse_range(request.get("Range"), row["size"])
        out = self._describe(row, request, span is not None)
        if span is not None:
            out["ContentLength"] = span[1] - span[0] + 1
            out["ContentRange"] = f"bytes {span[0]}-{span[1]}/{row['size']}"
        return out

    def get_object(self, ctx: RequestContext, request: dict) -> dict:
        _check_response_overrides(ctx, request)
        row = self._object(request["Bucket"], request["Key"], request.get("VersionId"))
        encryption.check_read(ctx, request, json.loads(row["headers"]))
        self._check_readable(request["Bucket"], row)  # archived objects need a restore
        check_conditions(request, row["etag"], row["last_modified"])
        size = row["size"]
        span = parse_range(request.get("Range"), size)
        out = self._describe(row, request, span is not None)
        first, last = span if span is not None else (0, size - 1)
        f = self.env.blobs.open(row["blob_id"])
        out["Body"] = read_blob(f, first, last) if size else once(b"")
        if size == 0:
            f.close()
        if span is not None:
            out["ContentLength"] = last - first + 1
            out["ContentRange"] = f"bytes {first}-{last}/{size}"
        return out

    def delete_object(self, ctx: RequestContext, request: dict) -> dict:
        bucket = request["Bucket"]
        self._bucket(bucket)
        out = self._delete_key(bucket, key_bytes(request["Key"]), request.get("VersionId"),
                               bool(request.get("BypassGovernanceRetention")))
        self._announce_delete(ctx, bucket, request["Key"], request.get("VersionId"), out)
        return out

    def _delete_key(self, bucket: str, raw_key: bytes, version_id: str | None = None, bypass: bool = False) -> dict:
        """Delete a key (a marker when versioned) or one version of it; answers DeleteObject's members."""
        db = self.env.db
        if version_id is not None:
            versions.check_version_id(version_id)
        out: dict = {}
        blobs: list[str] = []
        with db.transaction():
            status = self._bucket(bucket)["versioning"]
            if version_id is not None:
                row = versions.find(db, bucket, raw_key, version_id)
                if row is not None:
                    self._check_deletable(bucket, raw_key, version_id, bypass)
                    self._forget_version_state(bucket, raw_key, version_id)
                    if db.query_one("SELECT 1 FROM s3_latest WHERE bucket = ? AND key = ? AND version_id = ?",
                                    (bucket, raw_key, version_id)):
                        versions.remove_current(db, bucket, raw_key)
                    else:
                        db.execute("DELETE FROM s3_versions WHERE bucket = ? AND key = ? AND version_id = ?",
                                   (bucket, raw_key, version_id))
                    if row["blob_id"]:
                        blobs.append(row["blob_id"])
                    versions.promote_newest(db, bucket, raw_key)
                    if row["delete_marker"]:
                        out["DeleteMarker"] = True
                out["VersionId"] = version_id
            elif status is None:
                old = db.query_one("SELECT blob_id FROM s3_objects WHERE bucket = ? AND key = ?", (bucket, raw_key))
                if old:
                    versions.remove_current(db, bucket, raw_key)
                    blobs.append(old["blob_id"])
                    self._forget_version_state(bucket, raw_key, versions.NULL)
            else:
                old = db.query_one("SELECT blob_id, version_id FROM s3_latest WHERE bucket = ? AND key = ?",
                                   (bucket, raw_key))
                if old is not None:
                    if status == "Suspended" and old["version_id"] == versions.NULL:
                        versions.remove_current(db, bucket, raw_key)
                        blobs.append(old["blob_id"])
                    else:
                        versions.demote_current(db, bucket, raw_key)
                marker_id = versions.new_version_id() if status == "Enabled" else versions.NULL
                if status == "Suspended":
                    blobs += versions.drop_null(db, bucket, raw_key)
                    self._forget_version_state(bucket, raw_key, versions.NULL)
                versions.add_marker(db, bucket, raw_key, marker_id, int(clock.now().timestamp()))
                out.update({"DeleteMarker": True, "VersionId": marker_id})
        for blob_id in blobs:
            self.env.blobs.delete(blob_id)
        return out

    def delete_objects(self, ctx: RequestContext, request: dict) -> dict:
        bucket = request["Bucket"]
        self._bucket(bucket)
        spec = request.get("Delete") or {}
        items = spec.get("Objects") or []
        if len(items) > 1000:
            raise ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                               "our published schema", 400)
        deleted, errors = [], []
        for item in items:
            key = item["Key"]
            try:
                raw = key_bytes(key)
            except ServiceError as e:
                errors.append({"Key": key, "Code": e.code, "Message": e.message})
                continue
            try:
                result = self._delete_key(bucket, raw, item.get("VersionId"),
                                          bool(request.get("BypassGovernanceRetention")))
                self._announce_delete(ctx, bucket, key, item.get("VersionId"), result)
            except ServiceError as e:
                errors.append({"Key": key, "VersionId": item["VersionId"], "Code": e.code, "Message": e.message}
                              if item.get("VersionId") else {"Key": key, "Code": e.code, "Message": e.message})
                continue
            entry = {"Key": key}
            if item.get("VersionId"):
                entry["VersionId"] = item["VersionId"]
                if result.get("DeleteMarker"):
                    entry["DeleteMarker"] = True
                    entry["DeleteMarkerVersionId"] = item["VersionId"]
            elif result.get("DeleteMarker"):
                entry.update({"DeleteMarker": True, "DeleteMarkerVersionId": result["VersionId"]})
            deleted.append(entry)
        out: dict = {}
        if not spec.get("Quiet") and deleted:
            out["Deleted"] = deleted
        if errors:
            out["Errors"] = errors
        return out

    def copy_object(self, ctx: RequestContext, request: dict) -> dict:
        source = request["CopySource"]
        src_bucket, src_key, src_version = _split_copy_source(source)
        src = self._object(src_bucket, src_key, src_version, copy_source=True)
        encryption.check_read(ctx, request, json.loads(src["headers"]), "CopySource")
        check_conditions(request, src["etag"], src["last_modified"], prefix="CopySource")
        bucket, key = request["Bucket"], request["Key"]
        raw_key = key_bytes(key)
        self._check_readable(src_bucket, src, copy_source=True)  # classes and lock
        storage_class = check_storage_class(request.get("StorageClass"))  # a copy is STANDARD unless asked
        lock = self._lock_request(bucket, request, None)
        dest = self._bucket(bucket)
        sse = encryption.attributes_for_write(ctx, request, dest)
        acl = self._acl_for_write(ctx, dest, request)  # ACL (a copy's own, never the source's)
        directive = request.get("MetadataDirective") or "COPY"
        if directive not in ("COPY", "REPLACE"):
            raise ServiceError("InvalidArgument", "Unknown metadata directive.", 400)
        tag_directive = request.get("TaggingDirective") or "COPY"
        changes = any(request.get(m) is not None for m in ("StorageClass", "WebsiteRedirectLocation",
                                                          "ServerSideEncryption", "SSEKMSKeyId",
                                                          "SSECustomerAlgorithm"))
        if (src_bucket, src_key) == (bucket, key) and directive == "COPY" and not changes:
            raise ServiceError(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself without changing the "
                "object's metadata, storage class, website redirect location or encryption attributes.", 400)
        if directive == "REPLACE":
            stored = {m: header_value(request[m]) for m in STORED_HEADERS if request.get(m) is not None}
            stored.setdefault("ContentType", "binary/octet-stream")
            metadata = request.get("Metadata") or {}
        else:
            stored, metadata = json.loads(src["headers"]), json.loads(src["metadata"])
        if tag_directive == "REPLACE":
            tags = parse_tagging(request["Tagging"]) if request.get("Tagging") else {}
        else:
            tags = json.loads(src["tags"])
        stored = {**{k: v for k, v in encryption.without_attributes(stored).items() if k not in ("_ACL", "_Owner")},
                  **sse, **acl}
        with self.env.blobs.open(src["blob_id"]) as f, self.env.blobs.new_writer() as writer:
            while chunk := f.read(1024 * 1024):
                writer.write(chunk)
            blob_id = writer.commit()
        try:
            replaced, version_id = self._write_object(
                bucket, raw_key, blob_id, src["size"], src["etag"], stored, metadata,
                storage_class, json.loads(src["checksums"]), tags, lock=lock)
        except BaseException:
            self.env.blobs.delete(blob_id)
            raise
        for old in replaced:
            self.env.blobs.delete(old)
        row = self._object(bucket, key)
        self._announce(ctx, "ObjectCreated:Copy", bucket, row)
        out: dict = {"CopyObjectResult": {"ETag": row["etag"], "LastModified": _iso(row["last_modified"])},
                     **encryption.response_members(stored)}
        if src_version is not None:
            out["CopySourceVersionId"] = src_version
        elif src["version_id"] != versions.NULL:
            out["CopySourceVersionId"] = src["version_id"]
        if version_id != versions.NULL:
            out["VersionId"] = version_id
        return out

    # --- versioning ------------------------------------------------------------------

    def put_bucket_versioning(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        config = request.get("VersioningConfiguration") or {}
        status, mfa_delete = config.get("Status"), config.get("MFADelete")
        if status not in (None, "Enabled", "Suspended") or mfa_delete not in (None, "Enabled", "Disabled"):
            raise ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                               "our published schema", 400)
        if (mfa_delete == "Enabled" or row["mfa_delete"] == "Enabled") and not request.get("MFA"):
            # Turning MFA delete on (or changing state once it is on) needs an MFA device's code.
            raise ServiceError("AccessDenied", "Mfa Authentication must be used for this request", 403)
        if mfa_delete == "Enabled":
            raise ServiceError("NotImplemented", "MFA delete is not implemented by gureum yet.", 501)
        self._check_versioning_change(row["name"], status)  # object lock keeps versioning on
        self._set_bucket(row["name"], versioning=status or row["versioning"],
                         mfa_delete=mfa_delete or row["mfa_delete"])
        return {}

    def get_bucket_versioning(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        out: dict = {}
        if row["versioning"]:
            out["Status"] = row["versioning"]
        if row["mfa_delete"]:
            out["MFADelete"] = row["mfa_delete"]
        return out

    def list_object_versions(self, ctx: RequestContext, request: dict) -> dict:
        bucket = request["Bucket"]
        owner = {"ID": canonical_id(self._bucket(bucket)["account_id"])}
        max_keys = request.get("MaxKeys", 1000)
        if max_keys < 0:
            raise ServiceError("InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647", 400)
        encoding = request.get("EncodingType")
        if encoding is not None and encoding != "url":
            raise ServiceError("InvalidArgument", "Invalid Encoding Method specified in Request", 400)
        enc = (lambda s: quote(s, safe="/")) if encoding == "url" else (lambda s: s)
        prefix = (request.get("Prefix") or "").encode("utf-8")
        delimiter = (request.get("Delimiter") or "").encode("utf-8")
        key_marker = (request.get("KeyMarker") or "").encode("utf-8")
        version_marker = request.get("VersionIdMarker")
        if version_marker and not key_marker:
            raise ServiceError("InvalidArgument", "A version-id marker cannot be specified without a key marker.", 400,
                               fields={"ArgumentName": "version-id-marker", "ArgumentValue": version_marker})
        limit = min(max_keys, 1000)
        out: dict = {"Name": bucket, "Prefix": enc(request.get("Prefix") or ""), "KeyMarker": enc(
            request.get("KeyMarker") or ""), "VersionIdMarker": version_marker or "", "MaxKeys": max_keys,
            "IsTruncated": False}
        if delimiter:
            out["Delimiter"] = enc(request["Delimiter"])
        if encoding:
            out["EncodingType"] = encoding
        entries: list[tuple] = []  # ("v", row, is_latest) or ("p", prefix)
        seen_prefixes: set[bytes] = set()
        previous_key, skipping = None, bool(version_marker)
        for row in versions.listing(self.env.db, bucket, prefix):
            key = bytes(row["key"])
            is_latest = key != previous_key
            previous_key = key
            if key_marker:
                if key < key_marker:
                    continue
                if key == key_marker:
                    if not version_marker:
                        continue
                    if skipping:  # versions of the marker's key up to and including the marker
                        skipping = row["version_id"] != version_marker
                        continue
            if delimiter:
                at = key.find(delimiter, len(prefix))
                if at >= 0:
                    common = key[: at + len(delimiter)]
                    if common in seen_prefixes or (key_marker and common <= key_marker):
                        continue
                    seen_prefixes.add(common)
                    if len(entries) >= limit:
                        out["IsTruncated"] = True
                        break
                    entries.append(("p", common))
                    continue
            if len(entries) >= limit:
                out["IsTruncated"] = True
                break
            entries.append(("v", row, is_latest))
        if out["IsTruncated"] and entries:
            last = entries[-1]
            if last[0] == "p":
                out["NextKeyMarker"] = enc(last[1].decode("utf-8"))
            else:
                out["NextKeyMarker"] = enc(bytes(last[1]["key"]).decode("utf-8"))
                out["NextVersionIdMarker"] = last[1]["version_id"]
        found, markers, prefixes = [], [], []
        for entry in entries:
            if entry[0] == "p":
                prefixes.append({"Prefix": enc(entry[1].decode("utf-8"))})
                continue
            row, is_latest = entry[1], entry[2]
            item = {"Key": enc(bytes(row["key"]).decode("utf-8")), "VersionId": row["version_id"],
                    "IsLatest": is_latest, "LastModified": _iso(row["last_modified"]), "Owner": owner}
            if row["delete_marker"]:
                markers.append(item)
                continue
            item.update({"ETag": row["etag"], "Size": row["size"], "StorageClass": row["storage_class"]})
            if "RestoreStatus" in (request.get("OptionalObjectAttributes") or []):  # restores
                self._list_restore_status(bucket, row, row["version_id"], item)
            if json.loads(row["checksums"]):
                item["ChecksumAlgorithm"] = [k[8:] for k in json.loads(row["checksums"])]
                item["ChecksumType"] = "FULL_OBJECT"
            found.append(item)
        if found:
            out["Versions"] = found
        if markers:
            out["DeleteMarkers"] = markers
        if prefixes:
            out["CommonPrefixes"] = prefixes
        return out

    # --- tagging ---------------------------------------------------------------------

    def get_object_tagging(self, ctx: RequestContext, request: dict) -> dict:
        row = self._object(request["Bucket"], request["Key"])
        return {"TagSet": [{"Key": k, "Value": v} for k, v in json.loads(row["tags"]).items()]}

    def put_object_tagging(self, ctx: RequestContext, request: dict) -> dict:
        row = self._object(request["Bucket"], request["Key"])
        tag_set = (request.get("Tagging") or {}).get("TagSet") or []
        tags = {t["Key"]: t["Value"] for t in tag_set}
        if len(tags) != len(tag_set):
            raise ServiceError("InvalidTag", "Cannot provide multiple Tags with the same key", 400)
        check_tags(tags)
        self.env.db.execute("UPDATE s3_objects SET tags = ? WHERE bucket = ? AND key = ?",
                            (json.dumps(tags), request["Bucket"], key_bytes(request["Key"])))
        self._announce(ctx, "ObjectTagging:Put", request["Bucket"], row)
        return {}

    def delete_object_tagging(self, ctx: RequestContext, request: dict) -> dict:
        row = self._object(request["Bucket"], request["Key"])
        self.env.db.execute("UPDATE s3_objects SET tags = '{}' WHERE bucket = ? AND key = ?",
                            (request["Bucket"], key_bytes(request["Key"])))
        self._announce(ctx, "ObjectTagging:Delete", request["Bucket"], row)
        return {}

    # --- listing ---------------------------------------------------------------------

    def _list(self, ctx: RequestContext, request: dict, after: bytes | None):
        bucket = request["Bucket"]
        row = self._bucket(bucket)
        max_keys = request.get("MaxKeys", 1000)
        if max_keys < 0:
            raise ServiceError("InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647", 400)
        encoding = request.get("EncodingType")
        if encoding is not None and encoding != "url":
            raise ServiceError("InvalidArgument", "Invalid Encoding Method specified in Request", 400)
        prefix = (request.get("Prefix") or "").encode("utf-8")
        delimiter = (request.get("Delimiter") or "").encode("utf-8")
        page = listing.walk(self.env.db, bucket, prefix, delimiter, after, min(max_keys, 1000))
        enc = (lambda s: quote(s, safe="/")) if encoding == "url" else (lambda s: s)
        contents, prefixes = [], []
        for kind, value in page.entries:
            if kind == "prefix":
                prefixes.append({"Prefix": enc(value.decode("utf-8"))})
                continue
            item = {
                "Key": enc(bytes(value["key"]).decode("utf-8")),
                "LastModified": _iso(value["last_modified"]),
                "ETag": value["etag"],
                "Size": value["size"],
                "StorageClass": value["storage_class"],
            }
            if json.loads(value["checksums"]):
                item["ChecksumAlgorithm"] = [k[8:] for k in json.loads(value["checksums"])]
                item["ChecksumType"] = "FULL_OBJECT"
            if "RestoreStatus" in (request.get("OptionalObjectAttributes") or []):  # restores
                self._list_restore_status(bucket, value, None, item)
            contents.append(item)
        out: dict = {"Name": bucket, "Prefix": enc(request.get("Prefix") or ""), "MaxKeys": max_keys,
                     "IsTruncated": page.truncated}
        if contents:
            out["Contents"] = contents
        if prefixes:
            out["CommonPrefixes"] = prefixes
        if delimiter:
            out["Delimiter"] = enc(request["Delimiter"])
        if encoding:
            out["EncodingType"] = encoding
        return out, page, contents, row, enc

    def list_objects_v2(self, ctx: RequestContext, request: dict) -> dict:
        after = None
        token = request.get("ContinuationToken")
        if token is not None:
            try:
                after = base64.urlsafe_b64decode(token.encode("ascii"))
            except ValueError:
                raise ServiceError("InvalidArgument", "The continuation token provided is incorrect", 400) from None
        elif request.get("StartAfter"):
            after = request["StartAfter"].encode("utf-8")
        out, page, contents, row, enc = self._list(ctx, request, after)
        out["KeyCount"] = len(page.entries)
        if token is not None:
            out["ContinuationToken"] = token
        if request.get("StartAfter"):
            out["StartAfter"] = enc(request["StartAfter"])
        if page.truncated and page.last is not None:
            out["NextContinuationToken"] = base64.urlsafe_b64encode(page.last).decode("ascii")
        if request.get("FetchOwner"):
            for item in contents:
                item["Owner"] = {"ID": canonical_id(row["account_id"])}
        return out

    def list_objects(self, ctx: RequestContext, request: dict) -> dict:
        marker = request.get("Marker") or ""
        out, page, contents, row, enc = self._list(ctx, request, marker.encode("utf-8") if marker else None)
        out["Marker"] = enc(marker)
        if page.truncated and request.get("Delimiter") and page.last is not None:
            out["NextMarker"] = enc(page.last.decode("utf-8"))
        for item in contents:
            item["Owner"] = {"ID": canonical_id(row["account_id"])}
        return out

    # --- access ----------------------------------------------------------------------

    def put_bucket_policy(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        text = request["Policy"]
        raw = policy.validate(text, row["name"])
        if self._effective_pab(row).get("BlockPublicPolicy") and policy.is_public(raw):
            raise ServiceError(
                "AccessDenied",
                f"User: {ctx.principal.arn} is not authorized to perform: s3:PutBucketPolicy on resource: "
                f'"arn:aws:s3:::{row["name"]}" because public policies are blocked by the BlockPublicPolicy '
                "block public access setting.", 403)
        self._set_bucket(row["name"], policy=text)
        return {}

    def get_bucket_policy(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        if not row["policy"]:
            raise _no_policy(row["name"])
        return {"Policy": row["policy"]}

    def delete_bucket_policy(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        self._set_bucket(row["name"], policy=None)
        return {}

    def get_bucket_policy_status(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        if not row["policy"]:
            raise _no_policy(row["name"])
        return {"PolicyStatus": {"IsPublic": policy.is_public(json.loads(row["policy"]))}}

    def put_public_access_block(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        config = request.get("PublicAccessBlockConfiguration") or {}
        settings = {f: bool(config.get(f, False)) for f in PAB_FIELDS}
        self._set_bucket(row["name"], public_access_block=json.dumps(settings))
        return {}

    def get_public_access_block(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        if not row["public_access_block"]:
            raise ServiceError("NoSuchPublicAccessBlockConfiguration",
                               "The public access block configuration was not found", 404,
                               fields={"BucketName": row["name"]})
        return {"PublicAccessBlockConfiguration": self._pab(row)}

    def delete_public_access_block(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        self._set_bucket(row["name"], public_access_block=None)
        return {}

    def get_bucket_ownership_controls(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        if not row["ownership"]:
            raise ServiceError("OwnershipControlsNotFoundError", "The bucket ownership controls were not found", 404,
                               fields={"BucketName": row["name"]})
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": row["ownership"]}]}}

    def put_bucket_ownership_controls(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        rules = (request.get("OwnershipControls") or {}).get("Rules") or []
        if len(rules) != 1 or rules[0].get("ObjectOwnership") not in OWNERSHIP:
            raise ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                               "our published schema", 400)
        self._set_bucket(row["name"], ownership=rules[0]["ObjectOwnership"])
        return {}

    def delete_bucket_ownership_controls(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        self._set_bucket(row["name"], ownership=None)
        return {}


def _json(value: dict) -> str:
    return json.dumps(value) if value else "{}"


def _acl_not_supported() -> ServiceError:
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)


def _no_policy(bucket: str) -> ServiceError:
    return ServiceError("NoSuchBucketPolicy", "The bucket policy does not exist", 404, fields={"BucketName": bucket})


def _split_copy_source(source: str) -> tuple[str, str, str | None]:
    source, _, version_id = source.partition("?versionId=")
    path = unquote(source).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise ServiceError("InvalidArgument", "Invalid copy source object key", 400)
    return bucket, key, (unquote(version_id) if version_id else None)


def _check_response_overrides(ctx: RequestContext, request: dict) -> None:
    if ctx.principal.kind == "anonymous" and any(k.startswith("Response") for k in request):
        raise ServiceError("InvalidRequest", "Request specific response headers cannot be used for anonymous "
                           "GET requests.", 400)


def _http_date_text(ts: float) -> str:
    from email.utils import formatdate

    return formatdate(ts, usegmt=True)


def _parse_header_value(member: str, value):
    if member == "Expires" and isinstance(value, (int, float)):
        return _iso(value)
    return value



