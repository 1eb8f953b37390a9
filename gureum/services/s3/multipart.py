"""S3 multipart uploads: an upload holds numbered parts (one blob each) until it is completed
into one object (its parts' bytes concatenated into a new blob) or aborted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from datetime import datetime, timezone
from urllib.parse import quote

from gureum import clock
from gureum.auth import checksums
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.s3 import encryption
from gureum.services.s3.names import key_bytes
from gureum.services.s3.storage_classes import check_storage_class
from gureum.services.s3.objects import (
    CHECKSUM_MEMBERS,
    STORED_HEADERS,
    check_conditions,
    header_value,
    md5_header,
    parse_tagging,
    receive_body,
)

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000
_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")
_MALFORMED = ("MalformedXML", "The XML you provided was not well-formed or did not validate against our published "
              "schema")


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the "
                        "upload may have been aborted or completed.", 404, fields={"UploadId": upload_id})


def _iso(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def _check_part_number(number) -> int:
    if not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
        raise ServiceError("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", 400,
                           fields={"ArgumentName": "partNumber", "ArgumentValue": str(number)})
    return number


def _headers(ctx: RequestContext) -> dict[str, str]:
    return ctx.request.headers if ctx.request is not None else {}


class MultipartOperations:
    """CreateMultipartUpload ... ListMultipartUploads, mixed into the S3 provider."""

    def _upload(self, bucket: str, key: str, upload_id: str):
        self._bucket(bucket)
        row = self.env.db.query_one("SELECT * FROM s3_uploads WHERE upload_id = ?", (upload_id,))
        if row is None or row["bucket"] != bucket or bytes(row["key"]) != key_bytes(key):
            raise no_such_upload(upload_id)
        return row

    def _owner(self, row) -> dict:
        from gureum.services.s3.provider import canonical_id

        return {"ID": canonical_id(self._bucket(row["bucket"])["account_id"])}

    # --- create / abort ----------------------------------------------------------------

    def create_multipart_upload(self, ctx: RequestContext, request: dict) -> dict:
        bucket, key = request["Bucket"], request["Key"]
        raw_key = key_bytes(key)
        bucket_row = self._bucket(bucket)
        sse = encryption.attributes_for_write(ctx, request, bucket_row)
        acl = self._acl_for_write(ctx, bucket_row, request)
        storage_class = check_storage_class(request.get("StorageClass"))  # classes and lock
        lock = self._lock_request(bucket, request, None)
        tags = parse_tagging(request["Tagging"]) if request.get("Tagging") else {}
        stored = {m: header_value(request[m]) for m in STORED_HEADERS if request.get(m) is not None}
        stored.setdefault("ContentType", "binary/octet-stream")
        stored.update(sse)
        stored.update(acl)
        algorithm = request.get("ChecksumAlgorithm")
        kind = request.get("ChecksumType")
        if algorithm and not kind:
            kind = "FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE"
        if kind and not algorithm:
            raise ServiceError("InvalidRequest", "The x-amz-checksum-type header can only be used with the "
                               "x-amz-checksum-algorithm header.", 400)
        if kind == "FULL_OBJECT" and algorithm in ("SHA1", "SHA256"):
            raise ServiceError("InvalidRequest", f"The FULL_OBJECT checksum type cannot be used with the "
                               f"{algorithm.lower()} checksum algorithm.", 400)
        if kind == "COMPOSITE" and algorithm == "CRC64NVME":
            raise ServiceError("InvalidRequest", "The COMPOSITE checksum type cannot be used with the crc64nvme "
                               "checksum algorithm.", 400)
        upload_id = base64.urlsafe_b64encode(secrets.token_bytes(48)).decode("ascii").rstrip("=")
        with self.env.db.transaction():
            self.env.db.execute(
                "INSERT INTO s3_uploads (upload_id, bucket, key, initiated, initiator, headers, metadata, storage_class,"
                " tags, checksum_algorithm, checksum_type) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (upload_id, bucket, raw_key, round(clock.now().timestamp(), 3), ctx.principal.arn or "",
                 json.dumps(stored), json.dumps(request.get("Metadata") or {}), storage_class,
                 json.dumps(tags), algorithm, kind))
            self._remember_upload_lock(upload_id, lock)
        out: dict = {"Bucket": bucket, "Key": key, "UploadId": upload_id, **encryption.response_members(stored)}
        if algorithm:
            out["ChecksumAlgorithm"], out["ChecksumType"] = algorithm, kind
        return out

    def abort_multipart_upload(self, ctx: RequestContext, request: dict) -> dict:
        upload_id = request["UploadId"]
        self._upload(request["Bucket"], request["Key"], upload_id)
        self._drop_upload(upload_id)
        return {}

    def _drop_upload(self, upload_id: str) -> None:
        db = self.env.db
        with db.transaction():
            parts = db.query("SELECT blob_id FROM s3_parts WHERE upload_id = ?", (upload_id,))
            db.execute("DELETE FROM s3_parts WHERE upload_id = ?", (upload_id,))
            db.execute("DELETE FROM s3_uploads WHERE upload_id = ?", (upload_id,))
            db.execute("DELETE FROM s3_upload_locks WHERE upload_id = ?", (upload_id,))
        for p in parts:
            self.env.blobs.delete(p["blob_id"])

    # --- parts ---------------------------------------------------------------------------

    async def upload_part(self, ctx: RequestContext, request: dict) -> dict:
        number = _check_part_number(request.get("PartNumber"))
        upload_id = request["UploadId"]
        upload = self._upload(request["Bucket"], request["Key"], upload_id)
        upload_sse = json.loads(upload["headers"])
        # an SSE-C upload's parts carry its key
        encryption.check_read(ctx, request, upload_sse, missing=encryption.PART_MISSING)
        expected_md5 = md5_header(request["ContentMD5"]) if request.get("ContentMD5") else None
        writer = self.env.blobs.new_writer()
        try:
            md5, found = await receive_body(request.get("Body"), writer, _headers(ctx), expected_md5)
            blob_id = writer.commit()
        except BaseException:
            writer.abort()
            raise
        etag = f'"{md5.hex()}"'
        self._store_part(upload_id, number, blob_id, writer.size, etag, md5, found)
        return {"ETag": etag, **found, **encryption.response_members(upload_sse)}

    def _store_part(self, upload_id: str, number: int, blob_id: str, size: int, etag: str, md5: bytes,
                    found: dict) -> None:
        """Record a committed part blob, replacing an earlier upload of the same number."""
        db = self.env.db
        try:
            with db.transaction():
                if db.query_one("SELECT 1 FROM s3_uploads WHERE upload_id = ?", (upload_id,)) is None:
                    raise no_such_upload(upload_id)  # aborted or completed while the body streamed
                old = db.query_one("SELECT blob_id FROM s3_parts WHERE upload_id = ? AND part_number = ?",
                                   (upload_id, number))
                db.execute("INSERT OR REPLACE INTO s3_parts (upload_id, part_number, blob_id, size, etag, md5,"
                           " last_modified, checksums) VALUES (?,?,?,?,?,?,?,?)",
                           (upload_id, number, blob_id, size, etag, md5, int(clock.now().timestamp()),
                            json.dumps(found)))
        except BaseException:
            self.env.blobs.delete(blob_id)
            raise
        if old:
            self.env.blobs.delete(old["blob_id"])

    def upload_part_copy(self, ctx: RequestContext, request: dict) -> dict:
        from gureum.services.s3.provider import _split_copy_source

        number = _check_part_number(request.get("PartNumber"))
        upload_id = request["UploadId"]
        src_bucket, src_key, src_version = _split_copy_source(request["CopySource"])
        src = self._object(src_bucket, src_key, src_version, copy_source=True)
        encryption.check_read(ctx, request, json.loads(src["headers"]), "CopySource")
        self._check_readable(src_bucket, src, copy_source=True)  # archived sources need a restore
        check_conditions(request, src["etag"], src["last_modified"], prefix="CopySource")
        upload_sse = json.loads(self._upload(request["Bucket"], request["Key"], upload_id)["headers"])
        encryption.check_read(ctx, request, upload_sse, missing=encryption.PART_MISSING)
        first, last = 0, src["size"] - 1
        spec = request.get("CopySourceRange")
        if spec is not None:
            m = _COPY_RANGE.match(spec.strip())
            if not m:
                raise ServiceError("InvalidArgument", "The x-amz-copy-source-range value must be of the form "
                                   "bytes=first-last where first and last are the zero-based offsets of the first "
                                   "and last bytes to copy", 400,
                                   fields={"ArgumentName": "x-amz-copy-source-range", "ArgumentValue": spec})
            first, last = int(m.group(1)), int(m.group(2))
            if first > last or last >= src["size"]:
                raise ServiceError("InvalidArgument", f"Range specified is not valid for source object of size: "
                                   f"{src['size']}", 400,
                                   fields={"ArgumentName": "x-amz-copy-source-range", "ArgumentValue": spec})
        md5 = hashlib.md5()
        with self.env.blobs.open(src["blob_id"]) as f, self.env.blobs.new_writer() as writer:
            f.seek(first)
            left = last - first + 1
            while left > 0 and (chunk := f.read(min(1024 * 1024, left))):
                left -= len(chunk)
                md5.update(chunk)
                writer.write(chunk)
            blob_id = writer.commit()
        etag = f'"{md5.hexdigest()}"'
        self._store_part(upload_id, number, blob_id, writer.size, etag, md5.digest(), {})
        out: dict = {"CopyPartResult": {"ETag": etag, "LastModified": _iso(int(clock.now().timestamp()))},
                     **encryption.response_members(upload_sse)}
        if src["version_id"] != "null":
            out["CopySourceVersionId"] = src["version_id"]
        return out

    # --- complete ------------------------------------------------------------------------

    def complete_multipart_upload(self, ctx: RequestContext, request: dict) -> dict:
        bucket, key, upload_id = request["Bucket"], request["Key"], request["UploadId"]
        upload = self._upload(bucket, key, upload_id)
        listed = (request.get("MultipartUpload") or {}).get("Parts") or []
        if not listed:
            raise ServiceError("MalformedXML", _MALFORMED[1], 400) if request.get("MultipartUpload") is None else \
                ServiceError("InvalidRequest", "You must specify at least one part", 400)
        stored = {r["part_number"]: r for r in self.env.db.query("SELECT * FROM s3_parts WHERE upload_id = ?",
                                                                  (upload_id,))}
        previous = 0
        chosen = []
        for item in listed:
            number = item.get("PartNumber")
            if not isinstance(number, int) or number <= previous:
                raise ServiceError("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be "
                                   "ordered by part number.", 400, fields={"UploadId": upload_id})
            previous = number
            part = stored.get(number)
            etag = (item.get("ETag") or "").strip().strip('"')
            sums = json.loads(part["checksums"]) if part is not None else {}
            if part is None or etag != part["etag"].strip('"') or any(
                    item.get(m) is not None and item[m] != sums.get(m) for m in CHECKSUM_MEMBERS.values()):
                raise ServiceError("InvalidPart", "One or more of the specified parts could not be found.  The part "
                                   "may not have been uploaded, or the specified entity tag may not match the part's "
                                   "entity tag.", 400,
                                   fields={"UploadId": upload_id, "PartNumber": str(number), "ETag": item.get("ETag")})
            chosen.append(part)
        for part in chosen[:-1]:
            if part["size"] < MIN_PART_SIZE:
                raise ServiceError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
                                   400, fields={"ProposedSize": str(part["size"]), "MinSizeAllowed": str(MIN_PART_SIZE),
                                                "PartNumber": str(part["part_number"]), "ETag": part["etag"]})
        algorithm, kind = upload["checksum_algorithm"], upload["checksum_type"]
        whole = checksums.Checksum(algorithm) if algorithm and kind == "FULL_OBJECT" else None
        writer = self.env.blobs.new_writer()
        try:
            for part in chosen:
                with self.env.blobs.open(part["blob_id"]) as f:
                    while chunk := f.read(1024 * 1024):
                        writer.write(chunk)
                        if whole is not None:
                            whole.update(chunk)
            blob_id = writer.commit()
        except BaseException:
            writer.abort()
            raise
        etag = '"%s-%d"' % (hashlib.md5(b"".join(bytes(p["md5"]) for p in chosen)).hexdigest(), len(chosen))
        found: dict = {}
        out_sums: dict = {}
        if whole is not None:
            found = {CHECKSUM_MEMBERS[whole.name]: whole.b64digest()}
            out_sums = {**found, "ChecksumType": "FULL_OBJECT"}
        elif algorithm:
            member = CHECKSUM_MEMBERS[algorithm.lower()]
            digests = [json.loads(p["checksums"]).get(member) for p in chosen]
            if all(digests):
                composite = checksums.Checksum(algorithm)
                for d in digests:
                    composite.update(base64.b64decode(d))
                out_sums = {member: f"{composite.b64digest()}-{len(chosen)}", "ChecksumType": "COMPOSITE"}
        db = self.env.db
        try:
            with db.transaction():
                if db.query_one("SELECT 1 FROM s3_uploads WHERE upload_id = ?", (upload_id,)) is None:
                    raise no_such_upload(upload_id)
                replaced, version_id = self._write_object(
                    bucket, bytes(upload["key"]), blob_id, writer.size, etag, json.loads(upload["headers"]),
                    json.loads(upload["metadata"]), upload["storage_class"], found, json.loads(upload["tags"]),
                    if_match=request.get("IfMatch"), if_none_match=request.get("IfNoneMatch"),
                    lock=self._upload_lock(upload_id))
                parts = db.query("SELECT blob_id FROM s3_parts WHERE upload_id = ?", (upload_id,))
                db.execute("DELETE FROM s3_parts WHERE upload_id = ?", (upload_id,))
                db.execute("DELETE FROM s3_uploads WHERE upload_id = ?", (upload_id,))
        except BaseException:
            self.env.blobs.delete(blob_id)
            raise
        for blob in replaced + [p["blob_id"] for p in parts]:
            self.env.blobs.delete(blob)
        self._announce(ctx, "ObjectCreated:CompleteMultipartUpload", bucket, key=key, version_id=version_id,
                       size=writer.size, etag=etag)
        out = {"Location": f"/{bucket}/{quote(key)}", "Bucket": bucket, "Key": key, "ETag": etag, **out_sums,
               **encryption.response_members(json.loads(upload["headers"]))}
        if version_id != "null":
            out["VersionId"] = version_id
        return out

    # --- listings ------------------------------------------------------------------------

    def list_parts(self, ctx: RequestContext, request: dict) -> dict:
        bucket, key, upload_id = request["Bucket"], request["Key"], request["UploadId"]
        upload = self._upload(bucket, key, upload_id)
        max_parts = request.get("MaxParts", 1000)
        if max_parts < 0:
            raise ServiceError("InvalidArgument", "Argument max-parts must be an integer between 0 and 2147483647",
                               400, fields={"ArgumentName": "max-parts", "ArgumentValue": str(max_parts)})
        marker = request.get("PartNumberMarker") or 0
        rows = self.env.db.query("SELECT * FROM s3_parts WHERE upload_id = ? AND part_number > ? ORDER BY "
                                 "part_number LIMIT ?", (upload_id, marker, min(max_parts, 1000) + 1))
        page, truncated = rows[:min(max_parts, 1000)], len(rows) > min(max_parts, 1000)
        owner = self._owner(upload)
        out: dict = {
            "Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumberMarker": marker,
            "MaxParts": max_parts, "IsTruncated": truncated, "StorageClass": upload["storage_class"],
            "Owner": owner, "Initiator": {"ID": upload["initiator"] or owner["ID"]},
            "Parts": [{"PartNumber": r["part_number"], "LastModified": _iso(r["last_modified"]), "ETag": r["etag"],
                       "Size": r["size"], **json.loads(r["checksums"])} for r in page],
        }
        if page:
            out["NextPartNumberMarker"] = page[-1]["part_number"]
        if upload["checksum_algorithm"]:
            out["ChecksumAlgorithm"], out["ChecksumType"] = upload["checksum_algorithm"], upload["checksum_type"]
        return out

    def list_multipart_uploads(self, ctx: RequestContext, request: dict) -> dict:
        bucket = request["Bucket"]
        self._bucket(bucket)
        max_uploads = request.get("MaxUploads", 1000)
        if not 0 <= max_uploads <= 2147483647:
            raise ServiceError("InvalidArgument", "Argument max-uploads must be an integer between 0 and 2147483647",
                               400, fields={"ArgumentName": "max-uploads", "ArgumentValue": str(max_uploads)})
        limit = min(max_uploads, 1000)
        encoding = request.get("EncodingType")
        if encoding is not None and encoding != "url":
            raise ServiceError("InvalidArgument", "Invalid Encoding Method specified in Request", 400)
        enc = (lambda s: quote(s, safe="/")) if encoding == "url" else (lambda s: s)
        prefix = (request.get("Prefix") or "").encode("utf-8")
        delimiter = (request.get("Delimiter") or "").encode("utf-8")
        key_marker = (request.get("KeyMarker") or "").encode("utf-8")
        id_marker = request.get("UploadIdMarker") or ""
        sql, params = "SELECT * FROM s3_uploads WHERE bucket = ?", [bucket]
        after_seq = None
        if key_marker and id_marker:
            marked = self.env.db.query_one("SELECT seq FROM s3_uploads WHERE upload_id = ? AND key = ?",
                                           (id_marker, key_marker))
            after_seq = marked["seq"] if marked else None
        if key_marker:
            if after_seq is not None:
                sql += " AND (key > ? OR (key = ? AND seq > ?))"
                params += [key_marker, key_marker, after_seq]
            else:
                sql += " AND key > ?"
                params.append(key_marker)
        uploads, prefixes, truncated, last = [], [], False, None
        for row in self.env.db.query(sql + " ORDER BY key, seq", params):
            raw = bytes(row["key"])
            if not raw.startswith(prefix):
                continue
            entry: tuple
            at = raw.find(delimiter, len(prefix)) if delimiter else -1
            if at >= 0:
                common = raw[: at + len(delimiter)]
                if (prefixes and prefixes[-1] == common) or (key_marker and common <= key_marker):
                    continue
                entry = ("prefix", common)
            else:
                entry = ("upload", row)
            if len(uploads) + len(prefixes) >= limit:
                truncated = True
                break
            if entry[0] == "prefix":
                prefixes.append(entry[1])
            else:
                uploads.append(row)
            last = entry
        out: dict = {"Bucket": bucket, "KeyMarker": enc(key_marker.decode("utf-8")), "UploadIdMarker": id_marker,
                     "MaxUploads": max_uploads, "IsTruncated": truncated, "Prefix": enc(prefix.decode("utf-8"))}
        if delimiter:
            out["Delimiter"] = enc(request["Delimiter"])
        if encoding:
            out["EncodingType"] = encoding
        if truncated and last is not None:
            if last[0] == "upload":
                out["NextKeyMarker"] = enc(bytes(last[1]["key"]).decode("utf-8"))
                out["NextUploadIdMarker"] = last[1]["upload_id"]
            else:
                out["NextKeyMarker"] = enc(last[1].decode("utf-8"))
        if uploads:
            owner = self._owner(uploads[0])
            out["Uploads"] = [
                {"UploadId": r["upload_id"], "Key": enc(bytes(r["key"]).decode("utf-8")),
                 "Initiated": _iso(r["initiated"]), "StorageClass": r["storage_class"], "Owner": owner,
                 "Initiator": {"ID": r["initiator"] or owner["ID"]},
                 **({"ChecksumAlgorithm": r["checksum_algorithm"], "ChecksumType": r["checksum_type"]}
                    if r["checksum_algorithm"] else {})}
                for r in uploads]
        if prefixes:
            out["CommonPrefixes"] = [{"Prefix": enc(p.decode("utf-8"))} for p in prefixes]
        return out


