"""AWS Signature Version 4: reading a request's signature and verifying it.

`parse_signature` is cheap and needs no secret: the gateway routes on the credential scope
(region, service) before it knows whose key it is. `verify` rebuilds the canonical request
the way AWS (and botocore's signer) does and compares signatures; the signing key is derived
once per (secret, date, region, service) and cached, so a request costs one SHA-256 of the
canonical request and one HMAC. S3's legacy SigV2 signatures are read here too and checked
by `sigv2`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import unquote

from gureum.auth import canonical, sigv2
from gureum.auth.errors import AuthError, error_for, family
from gureum.protocol.http import HttpRequest

__all__ = [
    "AuthError",
    "SignatureInfo",
    "VerifiedSignature",
    "error_for",
    "parse_signature",
    "remap",
    "signing_key",
    "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_ECDSA = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
STREAMING_ECDSA_TRAILER = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"
PAYLOAD_LITERALS = frozenset({
    UNSIGNED_PAYLOAD, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER,
    STREAMING_ECDSA, STREAMING_ECDSA_TRAILER,
})
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

MAX_SKEW_SECONDS = 15 * 60
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
_HEX = frozenset("0123456789abcdefABCDEF")
_PRESIGN_MARKERS = ("X-Amz-Algorithm=", "X-Amz-Credential=", "X-Amz-Signature=")
_CREDENTIAL_FORMAT = '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"'


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """What a request's SigV4 signature says, read without any secret."""

    access_key: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str  # the signing name, e.g. "s3", "sts", "monitoring"
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # X-Amz-Date (or the Date header as YYYYMMDDTHHMMSSZ); "" when absent
    presigned: bool = False
    expires: str | None = None  # X-Amz-Expires as sent (presigned only)
    security_token: str | None = None
    payload_hash: str | None = None  # x-amz-content-sha256 as sent (header or presigned query)
    version: int = 4  # 2 for S3's legacy signatures (no scope: region and date are "")

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"

    @property
    def payload_mode(self) -> str:
        """How the body is covered: "sha256", "unsigned", "streaming-signed",
        "streaming-signed-trailer", "streaming-unsigned-trailer", "streaming-ecdsa", "absent"
        (no x-amz-content-sha256: the hash of the body is signed) or "invalid"."""
        return payload_mode(self.payload_hash)


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature that checked out, with what aws-chunked bodies chain their signatures to."""

    access_key: str
    signature: str  # the seed signature of a chunk chain
    signing_key: bytes
    amz_date: str
    scope: str
    region: str
    service: str
    payload_hash: str  # what the canonical request used for the payload
    presigned: bool = False
    version: int = 4


def payload_mode(value: str | None) -> str:
    if value is None:
        return "absent"
    if value == UNSIGNED_PAYLOAD:
        return "unsigned"
    if value == STREAMING_SIGNED:
        return "streaming-signed"
    if value == STREAMING_SIGNED_TRAILER:
        return "streaming-signed-trailer"
    if value == STREAMING_UNSIGNED_TRAILER:
        return "streaming-unsigned-trailer"
    if value in (STREAMING_ECDSA, STREAMING_ECDSA_TRAILER):
        return "streaming-ecdsa"
    if len(value) == 64 and _HEX.issuperset(value):
        return "sha256"
    return "invalid"


# --------------------------------------------------------------------------- parsing


def parse_signature(request: HttpRequest) -> SignatureInfo | None:
    """The request's SigV4 signature, or None for an anonymous request.

    Reads the Authorization header or the presigned-URL query parameters. Raises AuthError
    when a signature is there but cannot be read (the gateway reports it once it knows the
    service).
    """
    headers = request.headers
    authorization = headers.get("authorization")
    query = request.query_string
    presigned = bool(query) and "X-Amz-" in query and any(m in query for m in _PRESIGN_MARKERS)
    presigned_v2 = bool(query) and not presigned and "AWSAccessKeyId=" in query and "Signature=" in query
    if authorization is not None:
        if authorization.startswith("AWS "):
            info = _parse_v2_authorization(authorization, headers)
        else:
            info = _parse_authorization(authorization, headers)
        if (presigned or presigned_v2) and info.service == "s3":
            raise AuthError("multiple_auth", service="s3")
        return info
    if presigned:
        return _parse_presigned(query, headers)
    if presigned_v2:
        return _parse_v2_presigned(query, headers)
    return None


def _parse_v2_authorization(value: str, headers: dict[str, str]) -> SignatureInfo:
    access_key, signature = sigv2.parse_header(value)
    return SignatureInfo(
        access_key=access_key, date="", region="", service="s3", terminator="", signed_headers=(),
        signature=signature, amz_date="", security_token=headers.get("x-amz-security-token"),
        payload_hash=headers.get("x-amz-content-sha256"), version=2,
    )


def _parse_v2_presigned(query: str, headers: dict[str, str]) -> SignatureInfo:
    params = sigv2.query_params(query)
    if "Expires" not in params or not params.get("AWSAccessKeyId") or "Signature" not in params:
        raise AuthError(
            "incomplete_query",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
            service="s3",
        )
    return SignatureInfo(
        access_key=params["AWSAccessKeyId"], date="", region="", service="s3", terminator="", signed_headers=(),
        signature=params["Signature"], amz_date="", presigned=True, expires=params["Expires"],
        security_token=params.get("x-amz-security-token", headers.get("x-amz-security-token")),
        payload_hash=headers.get("x-amz-content-sha256"), version=2,
    )


def _parse_authorization(value: str, headers: dict[str, str]) -> SignatureInfo:
    scope_service = _scope_service(_component(value, "Credential"))
    # S3 is also the service of unsigned-scope requests that carry its payload header.
    s3 = scope_service == "s3" or (scope_service is None and "x-amz-content-sha256" in headers)
    service = "s3" if s3 else scope_service or ""
    if not value.startswith(ALGORITHM) or value[len(ALGORITHM):len(ALGORITHM) + 1] not in (" ", ","):
        # SigV4a (AWS4-ECDSA-P256-SHA256), bearer tokens and anything else.
        raise AuthError("unsupported", None if s3 else "Unsupported Authorization Type", service=service)
    components: dict[str, str] = {}
    for item in value[len(ALGORITHM) + 1:].split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, component = item.partition("=")
        if not sep:
            raise AuthError(
                "incomplete",
                f'The authorization header is malformed; the authorization component "{item}" is malformed.'
                if s3 else f"Authorization header requires 'Credential' parameter. Authorization={value}",
                service=service,
            )
        components[name.strip()] = component.strip()
    credential = components.get("Credential")
    signed_headers = components.get("SignedHeaders")
    signature = components.get("Signature")
    if credential is None or signed_headers is None or signature is None:
        if s3:
            raise AuthError("incomplete", service=service)
        missing = "".join(
            f"Authorization header requires '{name}' parameter. "
            for name, present in (("Credential", credential), ("Signature", signature), ("SignedHeaders", signed_headers))
            if present is None
        )
        raise AuthError("incomplete", f"{missing}Authorization={value}", service=service)
    parts = credential.split("/")
    if len(parts) != 5 or not parts[0]:
        if s3:
            detail = (
                "a non-empty Access Key (AKID) must be provided in the credential."
                if len(parts) == 5
                else f"the Credential is mal-formed; expecting {_CREDENTIAL_FORMAT}."
            )
            raise AuthError("incomplete", f"The authorization header is malformed; {detail}", service=service)
        raise AuthError(
            "incomplete",
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{credential}'",
            service=service,
        )
    return SignatureInfo(
        access_key=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        terminator=parts[4],
        signed_headers=tuple(signed_headers.split(";")) if signed_headers else (),
        signature=signature,
        amz_date=_header_amz_date(headers),
        presigned=False,
        security_token=headers.get("x-amz-security-token"),
        payload_hash=headers.get("x-amz-content-sha256"),
    )


def _component(value: str, name: str) -> str | None:
    """One `Name=value` component of an Authorization header, found without parsing it all."""
    start = value.find(name + "=")
    if start < 0:
        return None
    start += len(name) + 1
    end = value.find(",", start)
    return (value[start:] if end < 0 else value[start:end]).strip()


def _scope_service(credential: str | None) -> str | None:
    if not credential:
        return None
    parts = credential.split("/")
    return parts[3] if len(parts) >= 4 else None


def _header_amz_date(headers: dict[str, str]) -> str:
    amz_date = headers.get("x-amz-date")
    if amz_date is not None:
        return amz_date
    date = headers.get("date")
    if date is None:
        return ""
    try:
        parsed = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return date  # reported as malformed by verify
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _parse_presigned(query: str, headers: dict[str, str]) -> SignatureInfo:
    params: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name.startswith("X-Amz-"):
            params[name] = unquote(value)
    credential = params.get("X-Amz-Credential")
    service = _scope_service(credential) or ""
    s3 = service == "s3"
    required = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")
    if any(name not in params for name in required) or (s3 and "X-Amz-Expires" not in params):
        if s3:
            raise AuthError("incomplete_query", service="s3")
        raise AuthError("incomplete", service=service)
    if params["X-Amz-Algorithm"] != ALGORITHM:
        if s3:
            raise AuthError(
                "incomplete_query",
                'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"',
                service="s3",
            )
        raise AuthError("incomplete", f"Unsupported algorithm: {params['X-Amz-Algorithm']}", service=service)
    parts = params["X-Amz-Credential"].split("/")
    if len(parts) != 5 or not parts[0]:
        if s3:
            raise AuthError(
                "incomplete_query",
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                f"expecting {_CREDENTIAL_FORMAT}.",
                service="s3",
            )
        raise AuthError(
            "incomplete",
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{params['X-Amz-Credential']}'",
            service=service,
        )
    signed_headers = params["X-Amz-SignedHeaders"]
    return SignatureInfo(
        access_key=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        terminator=parts[4],
        signed_headers=tuple(signed_headers.split(";")) if signed_headers else (),
        signature=params["X-Amz-Signature"],
        amz_date=params["X-Amz-Date"],
        presigned=True,
        expires=params.get("X-Amz-Expires"),
        security_token=params.get("X-Amz-Security-Token"),
        payload_hash=params.get("X-Amz-Content-Sha256", headers.get("x-amz-content-sha256")),
    )


# --------------------------------------------------------------------------- verifying


@lru_cache(maxsize=4096)
def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")."""
    key = hmac.digest(("AWS4" + secret_key).encode("utf-8"), date.encode("utf-8"), "sha256")
    for part in (region, service, TERMINATOR):
        key = hmac.digest(key, part.encode("utf-8"), "sha256")
    return key


def verify(request: HttpRequest, info: SignatureInfo, secret_key: str, now: datetime) -> VerifiedSignature:
    """Check the request's signature against `secret_key`; raise AuthError when it fails.

    Checks, in AWS's order: the credential scope, the request date (clock skew for a signed
    header, expiry for a presigned URL), the scope date against the request date, S3's
    header rules, the signature itself, and finally that a real x-amz-content-sha256
    matches a body that was read.
    """
    service = info.service
    s3 = service == "s3"
    if info.version == 2:
        sigv2.verify(request, info, secret_key, now)
        return VerifiedSignature(
            access_key=info.access_key, signature=info.signature, signing_key=b"", amz_date="", scope="",
            region="", service=service, payload_hash=info.payload_hash or UNSIGNED_PAYLOAD,
            presigned=info.presigned, version=2,
        )
    if info.terminator != TERMINATOR:
        _fail_scope(
            info,
            f'incorrect terminal "{info.terminator}". This endpoint uses "aws4_request".',
            "signature_mismatch",
            f"Credential should be scoped with a valid terminator: 'aws4_request', not '{info.terminator}'. ",
        )
    if len(info.date) != 8 or not info.date.isdigit():
        _fail_scope(
            info,
            f'incorrect date format "{info.date}". This date in the credential must be in the format "yyyyMMdd".',
            "incomplete",
            f"Date must be in ISO-8601 'basic format'. Got '{info.date}'. See http://en.wikipedia.org/wiki/ISO_8601",
        )

    request_time = _request_time(info)
    if info.amz_date[:8] != info.date:
        _fail_date_mismatch(info)
    _check_time(info, request_time, now)

    payload = _payload_hash(request, info, s3)
    if s3:
        _check_s3_headers(request, info)

    path = canonical.s3_path(request.path) if s3 else canonical.normalized_path(request.path)
    key = signing_key(secret_key, info.date, info.region, service)
    canonical_request, string_to_sign, matched = _sign(request, info, payload, path, key)
    if not matched and s3 and path != request.path:
        # A client that escaped optional characters (%7E for ~) may have signed the path
        # exactly as sent, which is what botocore's S3 signer does.
        matched = _sign(request, info, payload, request.path, key)[2]
    if not matched:
        fields = None
        if s3:
            fields = {
                "AWSAccessKeyId": info.access_key,
                "StringToSign": string_to_sign.decode("utf-8"),
                "SignatureProvided": info.signature,
                "StringToSignBytes": string_to_sign.hex(" "),
                "CanonicalRequest": canonical_request.decode("latin-1"),
                "CanonicalRequestBytes": canonical_request.hex(" "),
            }
        raise AuthError("signature_mismatch", service=service, fields=fields)

    if payload_mode(payload) == "sha256" and request.unread is None and request.body_stream is None:
        computed = hashlib.sha256(request.body).hexdigest() if request.body else EMPTY_SHA256
        if computed != payload.lower():
            if s3:
                raise AuthError("content_sha_mismatch", service=service, fields={
                    "ClientComputedContentSHA256": payload,
                    "S3ComputedContentSHA256": computed,
                })
            raise AuthError("signature_mismatch", service=service)
    return VerifiedSignature(
        access_key=info.access_key,
        signature=info.signature,
        signing_key=key,
        amz_date=info.amz_date,
        scope=info.scope,
        region=info.region,
        service=service,
        payload_hash=payload,
        presigned=info.presigned,
    )


def _fail_scope(info: SignatureInfo, s3_detail: str, kind: str, message: str) -> None:
    if info.service == "s3":
        if info.presigned:
            raise AuthError("incomplete_query", f"Error parsing the X-Amz-Credential parameter; {s3_detail}", service="s3")
        raise AuthError("incomplete", f"The authorization header is malformed; {s3_detail}", service="s3")
    raise _coral(kind, message, info.service)


def _coral(kind: str, message: str, service: str) -> AuthError:
    """An error of the services behind AWS's common front end; EC2 words them its own way."""
    return AuthError(kind, None if family(service) == "ec2" else message, service=service)


def _request_time(info: SignatureInfo) -> float:
    """The request date as epoch seconds; AuthError when absent or not ISO-8601 basic format."""
    amz_date = info.amz_date
    s3 = info.service == "s3"
    if not amz_date:
        if s3:
            raise AuthError("missing_date", service="s3")
        raise _coral(
            "missing_date",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            f"Authorization={ALGORITHM} Credential={info.access_key}/{info.scope}, "
            f"SignedHeaders={';'.join(info.signed_headers)}, Signature={info.signature}",
            info.service,
        )
    parsed = _parse_amz_date(amz_date)
    if parsed is None:
        if s3 and info.presigned:
            raise AuthError("incomplete_query", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
                            service="s3")
        if s3:
            raise AuthError("missing_date", service="s3")
        raise _coral("incomplete", f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
                     "See http://en.wikipedia.org/wiki/ISO_8601", info.service)
    return parsed


def _parse_amz_date(value: str) -> float | None:
    if len(value) != 16 or value[8] != "T" or value[15] != "Z":
        return None
    digits = value[:8] + value[9:15]
    if not digits.isdigit():
        return None
    try:
        moment = datetime(
            int(value[0:4]), int(value[4:6]), int(value[6:8]),
            int(value[9:11]), int(value[11:13]), int(value[13:15]), tzinfo=timezone.utc,
        )
    except ValueError:
        return None
    return moment.timestamp()


def _fail_date_mismatch(info: SignatureInfo) -> None:
    if info.service == "s3":
        if info.presigned:
            raise AuthError(
                "incomplete_query",
                f"Invalid credential date \"{info.date}\". This date is not the same as X-Amz-Date: \"{info.amz_date[:8]}\".",
                service="s3",
            )
        raise AuthError(
            "incomplete",
            "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.",
            service="s3",
        )
    raise _coral(
        "signature_mismatch",
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        f"'{info.date}' != '{info.amz_date[:8]}', from '{info.amz_date}'.",
        info.service,
    )


def _basic(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_time(info: SignatureInfo, request_time: float, now: datetime) -> None:
    current = now.timestamp()
    if info.presigned and info.service == "s3":
        expires = _presigned_expires(info.expires)
        if request_time - current > MAX_SKEW_SECONDS:
            raise AuthError("not_yet_valid", service="s3", fields={
                "X-Amz-Date": info.amz_date,
                "Expires": _iso(request_time + expires),
                "ServerTime": _iso(current),
            })
        if current > request_time + expires:
            raise AuthError("expired", service="s3", fields={
                "X-Amz-Expires": str(expires),
                "Expires": _iso(request_time + expires),
                "ServerTime": _iso(current),
            })
        return
    # Header signatures, and presigned URLs of other services (STS honours 15 minutes, not
    # X-Amz-Expires), must be dated within the allowed skew of the server's clock.
    skew = current - request_time
    if abs(skew) <= MAX_SKEW_SECONDS:
        return
    if info.service == "s3":
        raise AuthError("skewed", service="s3", fields={
            "RequestTime": info.amz_date,
            "ServerTime": _iso(current),
            "MaxAllowedSkewMilliseconds": str(MAX_SKEW_SECONDS * 1000),
        })
    if skew > 0:
        raise _coral(
            "skewed",
            f"Signature expired: {info.amz_date} is now earlier than {_basic(current - MAX_SKEW_SECONDS)} "
            f"({_basic(current)} - 15 min.)",
            info.service,
        )
    raise _coral(
        "not_yet_valid",
        f"Signature not yet current: {info.amz_date} is still later than {_basic(current + MAX_SKEW_SECONDS)} "
        f"({_basic(current)} + 15 min.)",
        info.service,
    )


def _presigned_expires(value: str | None) -> int:
    if value is None:
        raise AuthError("incomplete_query", service="s3")
    try:
        expires = int(value)
    except ValueError:
        raise AuthError("incomplete_query", "X-Amz-Expires should be a number", service="s3") from None
    if expires < 0:
        raise AuthError("incomplete_query", "X-Amz-Expires must be non-negative", service="s3")
    if expires > MAX_EXPIRES_SECONDS:
        raise AuthError(
            "incomplete_query",
            "X-Amz-Expires must be less than a week (in seconds) that is; 604800",
            service="s3",
        )
    return expires


def _payload_hash(request: HttpRequest, info: SignatureInfo, s3: bool) -> str:
    """The payload line of the canonical request."""
    value = info.payload_hash
    if s3:
        if value is None:
            if info.presigned:
                return UNSIGNED_PAYLOAD
            raise AuthError("missing_content_sha", service="s3")
        mode = payload_mode(value)
        if mode == "invalid":
            raise AuthError("invalid_content_sha", service="s3", fields={
                "ArgumentName": "x-amz-content-sha256",
                "ArgumentValue": value,
            })
        if mode.startswith("streaming") and request.unread is None and request.body_stream is None:
            raise AuthError("streaming_not_allowed", service="s3")
        return value
    if value is not None:
        return value
    return hashlib.sha256(request.body).hexdigest() if request.body else EMPTY_SHA256


def _check_s3_headers(request: HttpRequest, info: SignatureInfo) -> None:
    """S3 refuses x-amz-* headers that the signature does not cover."""
    signed = info.signed_headers
    unsigned = [
        name for name in request.headers
        if name.startswith("x-amz-") and name not in signed
        and not (info.presigned and name == "x-amz-content-sha256")
    ]
    if unsigned:
        unsigned.sort()
        raise AuthError("headers_not_signed", service="s3", fields={"HeadersNotSigned": ", ".join(unsigned)})


def _sign(
    request: HttpRequest, info: SignatureInfo, payload: str, path: str, key: bytes
) -> tuple[bytes, bytes, bool]:
    """(canonical request, string to sign, whether the signature matches)."""
    canonical_request = _canonical_request(request, info, payload, path)
    string_to_sign = (
        f"{ALGORITHM}\n{info.amz_date}\n{info.scope}\n{hashlib.sha256(canonical_request).hexdigest()}"
    ).encode("utf-8")
    expected = hmac.new(key, string_to_sign, hashlib.sha256).hexdigest()
    return canonical_request, string_to_sign, hmac.compare_digest(expected, info.signature)


def _canonical_request(request: HttpRequest, info: SignatureInfo, payload: str, path: str) -> bytes:
    query = canonical.query_string(request.query_string, exclude="X-Amz-Signature" if info.presigned else None)
    headers = request.headers
    lines = [request.method.upper().encode("ascii"), canonical.wire_bytes(path), query.encode("ascii")]
    for name in info.signed_headers:
        value = headers.get(name.lower())
        if value is None and name.lower() == "host":
            value = request.host
        lines.append(name.encode("ascii", "replace") + b":" + canonical.header_value(value or ""))
    lines.append(b"")
    lines.append(";".join(info.signed_headers).encode("ascii", "replace"))
    lines.append(payload.encode("ascii", "replace"))
    return b"\n".join(lines)


def remap(error: AuthError, service_name: str, protocol: str | None) -> tuple[str, str, int]:
    """(code, message, status) of `error` as the routed service answers it.

    The code and status follow the service and protocol; a precise message is kept when it
    was worded for the same kind of service (S3 and the others word failures differently).
    """
    code, message, status = error_for(error.kind, service_name, protocol)
    routed = family(service_name, protocol)
    if error.precise and routed != "ec2" and (routed == "s3") == (family(error.service) == "s3"):
        message = error.message
    return code, message, status
