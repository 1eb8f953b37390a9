"""Bucket naming rules and the regions a LocationConstraint may name."""

from __future__ import annotations

import re

from gureum.protocol.errors import ServiceError

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_KEY_BYTES = 1024


def check_bucket_name(name: str) -> None:
    """InvalidBucketName unless the name follows S3's general purpose bucket naming rules."""
    if (
        not _NAME.match(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or _IP.match(name)
        or name.startswith(_RESERVED_PREFIXES)
        or name.endswith(_RESERVED_SUFFIXES)
    ):
        raise ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400, fields={"BucketName": name})


def key_bytes(key: str) -> bytes:
    """The key as stored (its UTF-8 bytes); KeyTooLongError past 1024 bytes."""
    raw = key.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_KEY_BYTES:
        raise ServiceError("KeyTooLongError", "Your key is too long", 400,
                           fields={"Size": str(len(raw)), "MaxSizeAllowed": str(MAX_KEY_BYTES)})
    return raw
