"""S3's legacy Signature Version 2 (HMAC-SHA1), which S3 still accepts.

boto3's `generate_presigned_url` for S3 defaults to it in regions that support it
(us-east-1, eu-west-1, ...), so presigned URLs made with default settings use
`AWSAccessKeyId`/`Signature`/`Expires`; a few tools still send `Authorization: AWS key:sig`.

    StringToSign = Verb \\n Content-MD5 \\n Content-Type \\n Date-or-Expires \\n
                   CanonicalizedAmzHeaders CanonicalizedResource
"""

from __future__ import annotations

import base64
import hmac
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from hashlib import sha1
from typing import TYPE_CHECKING
from urllib.parse import unquote

from gureum.auth.errors import AuthError

if TYPE_CHECKING:
    from gureum.auth.sigv4 import SignatureInfo
    from gureum.protocol.http import HttpRequest

MAX_SKEW_SECONDS = 15 * 60

# Query parameters that are part of the signed resource (S3's sub-resources and the
# response-* overrides).
SUBRESOURCES = frozenset({
    "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "encryption", "intelligent-tiering",
    "inventory", "legal-hold", "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
    "ownershipControls", "partNumber", "policy", "policyStatus", "publicAccessBlock", "replication",
    "requestPayment", "response-cache-control", "response-content-disposition", "response-content-encoding",
    "response-content-language", "response-content-type", "response-expires", "restore", "retention", "select",
    "select-type", "storageClass", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
    "versions", "website",
})


def parse_header(value: str) -> tuple[str, str]:
    """(access key, signature) of `Authorization: AWS <key>:<signature>`."""
    access_key, sep, signature = value[4:].strip().rpartition(":")
    if not sep or not access_key or not signature:
        raise AuthError("incomplete", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
                        service="s3")
    return access_key, signature


def query_params(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name in ("AWSAccessKeyId", "Signature", "Expires") or name.lower().startswith("x-amz-") or name.lower() in (
            "content-md5", "content-type",
        ):
            params[name] = unquote(value)
    return params


def verify(request: "HttpRequest", info: "SignatureInfo", secret_key: str, now: datetime) -> None:
    """Check a SigV2 signature (header or presigned); raise AuthError when it fails."""
    current = now.timestamp()
    headers = request.headers
    params = query_params(request.query_string) if info.presigned else {}
    if info.presigned:
        try:
            expires = int(info.expires or "")
        except ValueError:
            raise AuthError("incomplete_query", "Invalid date (should be seconds since epoch): "
                            f"{info.expires}", service="s3") from None
        if current > expires:
            raise AuthError("expired", service="s3", fields={
                "Expires": _iso(expires), "ServerTime": _iso(current),
            })
        date_line = info.expires
    else:
        date_line, request_time = _header_date(headers)
        if abs(current - request_time) > MAX_SKEW_SECONDS:
            raise AuthError("skewed", service="s3", fields={
                "RequestTime": headers.get("x-amz-date") or headers.get("date", ""),
                "ServerTime": _iso(current),
                "MaxAllowedSkewMilliseconds": str(MAX_SKEW_SECONDS * 1000),
            })

    amz: dict[str, str] = {}
    for name, value in params.items():
        if name.lower().startswith("x-amz-"):
            amz[name.lower()] = value.strip()
    for name, value in headers.items():
        if name.startswith("x-amz-"):
            amz[name] = ",".join(v.strip() for v in value.split(","))
    amz_lines = "".join(f"{name}:{amz[name]}\n" for name in sorted(amz))
    head = (
        f"{request.method.upper()}\n"
        f"{_standard(headers, params, 'content-md5')}\n"
        f"{_standard(headers, params, 'content-type')}\n"
        f"{date_line}\n{amz_lines}"
    )
    key = secret_key.encode("utf-8")
    provided = info.signature
    string_to_sign = ""
    for path in _resource_paths(request):
        string_to_sign = head + path + _subresources(request.query_string)
        digest = hmac.digest(key, string_to_sign.encode("latin-1", "replace"), sha1)
        if hmac.compare_digest(base64.b64encode(digest).decode("ascii"), provided):
            return
    raise AuthError("signature_mismatch", service="s3", fields={
        "AWSAccessKeyId": info.access_key,
        "StringToSign": string_to_sign,
        "SignatureProvided": provided,
        "StringToSignBytes": string_to_sign.encode("latin-1", "replace").hex(" "),
    })


def _standard(headers: dict[str, str], params: dict[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = params.get(name, params.get(name.title(), ""))
    return value.strip()


def _header_date(headers: dict[str, str]) -> tuple[str, float]:
    """(the Date line of the string to sign, the request time) of a header-signed request."""
    amz_date = headers.get("x-amz-date")
    raw = amz_date if amz_date is not None else headers.get("date")
    if raw is None:
        raise AuthError("missing_date", service="s3")
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        moment = None
    if moment is None:
        raise AuthError("missing_date", service="s3")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    # With x-amz-date the Date line is empty: the date is signed among the x-amz-* headers.
    return ("" if amz_date is not None else raw.strip()), moment.timestamp()


def _resource_paths(request: "HttpRequest") -> list[str]:
    """The resource as signed: the path, or for a virtual-host request /bucket + path."""
    paths = [request.path or "/"]
    hostname = (request.host or request.headers.get("host", "")).rsplit(":", 1)[0]
    cut = hostname.find(".s3.")
    if cut > 0:
        paths.append("/" + hostname[:cut] + (request.path or "/"))
    return paths


def _subresources(query: str) -> str:
    found: list[tuple[str, str | None]] = []
    if query:
        for part in query.split("&"):
            name, sep, value = part.partition("=")
            name = unquote(name)
            if name in SUBRESOURCES:
                found.append((name, unquote(value) if sep else None))
    if not found:
        return ""
    found.sort(key=lambda item: item[0])
    return "?" + "&".join(name if value is None else f"{name}={value}" for name, value in found)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
