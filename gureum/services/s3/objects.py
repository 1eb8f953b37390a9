"""Object helpers: ranges, conditional requests, header values, checksums."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timezone
from typing import AsyncIterator, BinaryIO

from gureum.auth import checksums
from gureum.protocol.errors import ServiceError

READ_CHUNK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Request members stored with an object and returned on GET/HEAD.
STORED_HEADERS = ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl", "Expires",
                  "WebsiteRedirectLocation")
CHECKSUM_MEMBERS = {"crc32": "ChecksumCRC32", "crc32c": "ChecksumCRC32C", "crc64nvme": "ChecksumCRC64NVME",
                    "sha1": "ChecksumSHA1", "sha256": "ChecksumSHA256"}


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive, or None for the whole object (absent or unparsable, as S3 ignores it)."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            raise invalid_range(header, size)
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    if start >= size:
        raise invalid_range(header, size)
    return start, end


def invalid_range(header: str, size: int) -> ServiceError:
    return ServiceError("InvalidRange", "The requested range is not satisfiable", 416,
                        fields={"RangeRequested": header, "ActualObjectSize": str(size)})


def _http_date(value) -> int:
    if isinstance(value, datetime):
        return int(value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp())
    return int(value)


def check_conditions(request: dict, etag: str, last_modified: int, prefix: str = "") -> None:
    """If-Match / If-None-Match / If-(Un)Modified-Since as S3 evaluates them (RFC 7232 order)."""
    if_match = request.get(prefix + "IfMatch")
    if_none = request.get(prefix + "IfNoneMatch")
    modified_since = request.get(prefix + "IfModifiedSince")
    unmodified_since = request.get(prefix + "IfUnmodifiedSince")
    if if_match is not None:
        if not _etag_matches(if_match, etag):
            raise precondition_failed("If-Match")
    elif unmodified_since is not None and last_modified > _http_date(unmodified_since):
        raise precondition_failed("If-Unmodified-Since")
    if if_none is not None:
        if _etag_matches(if_none, etag):
            raise not_modified(prefix)
    elif modified_since is not None and last_modified <= _http_date(modified_since):
        raise not_modified(prefix)


def _etag_matches(condition: str, etag: str) -> bool:
    tags = [t.strip() for t in condition.split(",")]
    return "*" in tags or any(t.strip('"') == etag.strip('"') for t in tags)


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                        fields={"Condition": condition})


def not_modified(prefix: str) -> ServiceError:
    if prefix:  # a copy whose source condition fails is a 412, not a 304
        return precondition_failed("x-amz-copy-source-If-None-Match")
    return ServiceError("NotModified", "Not Modified", 304)


async def read_blob(f: BinaryIO, first: int, last: int) -> AsyncIterator[bytes]:
    """Yield bytes first..last (inclusive) of an open blob, then close it."""
    try:
        f.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = f.read(min(READ_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        f.close()


def md5_header(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise ServiceError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400,
                           fields={"Content-MD5": value})
    return raw


def parse_tagging(query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    tags = dict(parse_qsl(query, keep_blank_values=True))
    check_tags(tags)
    return tags


def check_tags(tags: dict[str, str]) -> None:
    if len(tags) > 10:
        raise ServiceError("BadRequest", "Object tags cannot be greater than 10", 400)
    for k, v in tags.items():
        if not k or len(k) > 128:
            raise ServiceError("InvalidTag", "The TagKey you have provided is invalid", 400)
        if len(v) > 256:
            raise ServiceError("InvalidTag", "The TagValue you have provided is too long", 400)


def sent_checksums(headers: dict[str, str]) -> dict[str, str]:
    """x-amz-checksum-* values the request carries (a trailer's appear once the body is read)."""
    return {name: headers[f"x-amz-checksum-{name}"] for name in CHECKSUM_MEMBERS if f"x-amz-checksum-{name}" in headers}


async def receive_body(body, writer, headers: dict[str, str], expected_md5: bytes | None) -> tuple[bytes, dict]:
    """Stream a request body into a blob writer, checking Content-MD5 and header checksums.

    Returns the body's MD5 and the checksum members to store ({"ChecksumCRC32": value, ...}).
    A checksum sent in a header is checked here; one in an aws-chunked trailer was checked
    by the decoder, which puts it in the headers when the stream ends.
    """
    sent = sent_checksums(headers)
    summers = {name: checksums.Checksum(name) for name in sent}
    md5 = hashlib.md5()
    if body is not None:
        if isinstance(body, (bytes, bytearray)):
            body = once(bytes(body))
        async for chunk in body:
            md5.update(chunk)
            for s in summers.values():
                s.update(chunk)
            writer.write(chunk)
    if expected_md5 is not None and md5.digest() != expected_md5:
        raise ServiceError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400,
                           fields={"ExpectedDigest": expected_md5.hex(), "CalculatedDigest":
                                   base64.b64encode(md5.digest()).decode()})
    for name, value in sent.items():
        if summers[name].b64digest() != value:
            raise ServiceError("BadDigest", f"The {CHECKSUM_MEMBERS[name][8:]} you specified did not match "
                               "the calculated checksum.", 400)
    return md5.digest(), {CHECKSUM_MEMBERS[n]: v for n, v in sent_checksums(headers).items()}


def header_value(value):
    """A stored header value as the serializer takes it (timestamps as epoch seconds)."""
    if isinstance(value, datetime):
        return value.timestamp()
    return value


async def once(data: bytes):
    yield data
