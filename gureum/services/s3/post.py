"""Browser uploads: POST multipart/form-data to a bucket, with a SigV4-signed POST policy.

The form's fields come first and the file last (S3 ignores fields after the file). The
fields are read (bounded), the policy's signature and conditions checked, and the file part
is then streamed into PutObject's own write path, never held whole in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone
from typing import AsyncIterator, Callable
from urllib.parse import quote, urlencode

from gureum import clock
from gureum.auth.sigv4 import signing_key
from gureum.context import ANONYMOUS, RequestContext
from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest, HttpResponse

MAX_FIELDS_BYTES = 20 * 1024  # the form fields before the file (AWS: 20 KB)
# Fields the policy need not name.
EXEMPT = ("x-amz-signature", "file", "policy", "awsaccesskeyid", "signature")
SIGV4_FIELDS = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
# Form fields that become PutObject members.
MEMBERS = {"content-type": "ContentType", "cache-control": "CacheControl", "content-disposition": "ContentDisposition",
           "content-encoding": "ContentEncoding", "expires": "Expires", "acl": "ACL",
           "x-amz-storage-class": "StorageClass", "x-amz-server-side-encryption": "ServerSideEncryption",
           "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
           "x-amz-server-side-encryption-customer-algorithm": "SSECustomerAlgorithm",
           "x-amz-server-side-encryption-customer-key": "SSECustomerKey",
           "x-amz-server-side-encryption-customer-key-md5": "SSECustomerKeyMD5",
           "x-amz-website-redirect-location": "WebsiteRedirectLocation"}


def is_form_upload(request: HttpRequest) -> bool:
    return request.method == "POST" and request.headers.get("content-type", "").lower().startswith(
        "multipart/form-data") and not request.query_string


def _invalid_argument(message: str, name: str, value: str = "") -> ServiceError:
    return ServiceError("InvalidArgument", message, 400, fields={"ArgumentName": name, "ArgumentValue": value})


def _missing(name: str) -> ServiceError:
    return _invalid_argument(f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the "
                             "order of the fields.", name)


def _denied(reason: str) -> ServiceError:
    return ServiceError("AccessDenied", f"Invalid according to Policy: {reason}", 403)


def _malformed_post() -> ServiceError:
    return ServiceError("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.",
                        400)


def _bad_policy(why: str) -> ServiceError:
    return ServiceError("InvalidPolicyDocument", f"Invalid Policy: {why}", 400)


# --- multipart/form-data, streamed -------------------------------------------------------------


class FormReader:
    """Parts of a multipart/form-data body as they arrive: (name, filename, headers, body iterator)."""

    def __init__(self, chunks: AsyncIterator[bytes], boundary: bytes):
        self._chunks = chunks.__aiter__()
        self._buf = bytearray(b"\r\n")  # so the first delimiter looks like every other one
        self._delim = b"\r\n--" + boundary
        self.done = False

    async def _fill(self) -> bool:
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            return False
        self._buf += chunk
        return True

    async def _until(self, token: bytes, limit: int) -> bytes:
        while (at := self._buf.find(token)) < 0:
            if len(self._buf) > limit or not await self._fill():
                raise _malformed_post()
        out = bytes(self._buf[:at])
        del self._buf[: at + len(token)]
        return out

    async def next_part(self) -> tuple[dict[str, str], AsyncIterator[bytes]] | None:
        if self.done:
            return None
        await self._until(self._delim, MAX_FIELDS_BYTES + 1024)
        while len(self._buf) < 2:
            if not await self._fill():
                raise _malformed_post()
        if self._buf[:2] == b"--":
            self.done = True
            return None
        raw = await self._until(b"\r\n\r\n", MAX_FIELDS_BYTES)
        headers: dict[str, str] = {}
        for line in raw.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        return headers, self._body()

    async def _body(self) -> AsyncIterator[bytes]:
        keep = len(self._delim) - 1
        while True:
            at = self._buf.find(self._delim)
            if at >= 0:
                if at:
                    yield bytes(self._buf[:at])
                del self._buf[:at]  # the delimiter stays for next_part
                return
            if len(self._buf) > keep:
                out = bytes(self._buf[:-keep])
                del self._buf[:-keep]
                yield out
            if not await self._fill():
                raise _malformed_post()


def _disposition(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in value.split(";")[1:]:
        k, _, v = item.strip().partition("=")
        out[k.strip().lower()] = v.strip().strip('"')
    return out


def _boundary(content_type: str) -> bytes:
    for item in content_type.split(";")[1:]:
        k, _, v = item.strip().partition("=")
        if k.strip().lower() == "boundary" and v:
            return v.strip().strip('"').encode("latin-1")
    raise _malformed_post()


# --- the policy ---------------------------------------------------------------------------------


def _parse_policy(text: str) -> tuple[float, list]:
    try:
        doc = json.loads(base64.b64decode(text, validate=False))
    except ValueError:
        raise _bad_policy("Invalid JSON.") from None
    if not isinstance(doc, dict):
        raise _bad_policy("Invalid JSON.")
    if "expiration" not in doc:
        raise _bad_policy("Policy missing expiration.")
    try:
        expires = datetime.fromisoformat(str(doc["expiration"]).replace("Z", "+00:00"))
    except ValueError:
        raise _bad_policy(f"Invalid 'expiration' value: '{doc['expiration']}'") from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=timezone.utc)
    conditions = doc.get("conditions")
    if not isinstance(conditions, list):
        raise _bad_policy("Policy missing conditions.")
    return expires.timestamp(), conditions


def _check_conditions(conditions: list, fields: dict[str, str]) -> tuple[int, int] | None:
    """Every condition must hold and every field must be named by one; returns the content-length range."""
    named: set[str] = set()
    length_range = None
    for cond in conditions:
        if isinstance(cond, dict) and len(cond) == 1:
            (name, expected), = cond.items()
            op, name = "eq", name.lower()
        elif isinstance(cond, list) and len(cond) == 3 and isinstance(cond[0], str):
            op = cond[0].lower()
            if op == "content-length-range":
                try:
                    length_range = (int(cond[1]), int(cond[2]))
                except (TypeError, ValueError):
                    raise _bad_policy("Invalid content-length-range condition.") from None
                continue
            if op not in ("eq", "starts-with") or not isinstance(cond[1], str) or not cond[1].startswith("$"):
                raise _bad_policy(f"Invalid Condition: {json.dumps(cond)}")
            name, expected = cond[1][1:].lower(), cond[2]
        else:
            raise _bad_policy(f"Invalid Condition: {json.dumps(cond)}")
        named.add(name)
        actual = fields.get(name)
        ok = actual is not None and (actual == str(expected) if op == "eq" else actual.startswith(str(expected)))
        if not ok:
            shown = json.dumps(cond if isinstance(cond, list) else ["eq", f"${name}", expected])
            raise _denied(f"Policy Condition failed: {shown}")
    extra = [f for f in fields if f not in named and f not in EXEMPT and not f.startswith("x-ignore-")
             and f != "bucket"]
    if extra:
        raise _denied(f"Extra input fields: {', '.join(extra)}")
    return length_range


def _tagging_query(xml_text: str) -> str:
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(xml_text)
    except Exception:
        raise ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", 400) from None
    pairs = []
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] == "Tag":
            key = next((c.text or "" for c in tag if c.tag.rsplit("}", 1)[-1] == "Key"), "")
            value = next((c.text or "" for c in tag if c.tag.rsplit("}", 1)[-1] == "Value"), "")
            pairs.append((key, value))
    return urlencode(pairs)


# --- the upload ---------------------------------------------------------------------------------

Lookup = Callable[[str], tuple]  # access key -> (secret, principal, status) or None
Authorize = Callable[[RequestContext, dict], None]


async def browser_post(provider, ctx: RequestContext, request: HttpRequest, bucket: str, lookup: Lookup,
                       authorize: Authorize) -> HttpResponse:
    """Answer a browser POST upload to `bucket` (the pipeline's hook)."""
    ctx.operation = "PostObject"
    chunks, request.unread = request.unread, None
    if chunks is None:
        async def _body():
            yield request.body
        chunks = _body()
    reader = FormReader(chunks, _boundary(request.headers["content-type"]))
    fields: dict[str, str] = {}
    total = 0
    file_part = None
    while (part := await reader.next_part()) is not None:
        headers, body = part
        disposition = _disposition(headers.get("content-disposition", ""))
        name = disposition.get("name", "").lower()
        if name == "file":
            file_part = (disposition.get("filename", ""), body)
            break
        value = b"".join([c async for c in body])
        total += len(value)
        if total > MAX_FIELDS_BYTES:
            raise ServiceError("MaxPostPreDataLengthExceeded", "Your POST request fields preceeding the upload file "
                               "was too large.", 400, fields={"MaxPostPreDataLength": str(MAX_FIELDS_BYTES)})
        fields.setdefault(name, value.decode("utf-8", "replace"))
    if "key" not in fields:
        raise _missing("key")
    if file_part is None:
        raise _invalid_argument("POST requires exactly one file upload per request.", "file", "0")
    filename, file_body = file_part
    ctx.principal = ANONYMOUS
    length_range = None
    if "awsaccesskeyid" in fields or "signature" in fields:
        length_range = _verify_v2(ctx, fields, bucket, lookup)
    elif "policy" in fields or any(f in fields for f in SIGV4_FIELDS):
        length_range = _verify(ctx, fields, bucket, lookup)
    key = fields["key"].replace("${filename}", filename)
    put: dict = {"Bucket": bucket, "Key": key, "Metadata": {}}
    for name, value in fields.items():
        if name in MEMBERS:
            put[MEMBERS[name]] = value
        elif name.startswith("x-amz-meta-"):
            put["Metadata"][name[len("x-amz-meta-"):]] = value
    if "tagging" in fields:
        put["Tagging"] = _tagging_query(fields["tagging"])
    authorize(ctx, dict(put))
    put["Body"] = _limited(file_body, length_range)
    out = await provider.put_object(ctx, put)
    await _drain(reader)
    return _respond(request, fields, bucket, key, out)


def _principal(lookup: Lookup, access_key: str, fields: dict[str, str]):
    found = lookup(access_key)
    if found is None or found[2] != "Active":
        raise ServiceError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                           403, fields={"AWSAccessKeyId": access_key})
    secret, principal, _ = found
    if principal.session_token is not None and fields.get("x-amz-security-token") != principal.session_token:
        raise ServiceError("InvalidToken", "The provided token is malformed or otherwise invalid.", 400)
    return secret, principal


def _signature_mismatch(access_key: str, policy: str) -> ServiceError:
    return ServiceError("SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                        "you provided. Check your key and signing method.", 403,
                        fields={"AWSAccessKeyId": access_key, "StringToSign": policy})


def _check_policy(ctx: RequestContext, fields: dict[str, str], bucket: str, principal) -> tuple[int, int] | None:
    expires, conditions = _parse_policy(fields["policy"])
    # Wall-clock time, as for any signature's validity (the service clock drives only service timers).
    if expires < datetime.now(timezone.utc).timestamp():
        raise _denied("Policy expired.")
    if principal.expires_at is not None and principal.expires_at <= clock.now():
        raise ServiceError("ExpiredToken", "The provided token has expired.", 400)
    length_range = _check_conditions(conditions, {**fields, "bucket": bucket})
    ctx.principal = principal
    return length_range


def _verify_v2(ctx: RequestContext, fields: dict[str, str], bucket: str, lookup: Lookup) -> tuple[int, int] | None:
    """Signature Version 2 POST (boto3's default for generate_presigned_post): HMAC-SHA1 of the policy."""
    for name in ("awsaccesskeyid", "policy", "signature"):
        if name not in fields:
            raise _missing({"awsaccesskeyid": "AWSAccessKeyId"}.get(name, name))
    access_key = fields["awsaccesskeyid"]
    secret, principal = _principal(lookup, access_key, fields)
    expected = base64.b64encode(hmac.new(secret.encode(), fields["policy"].encode(), hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, fields["signature"]):
        raise _signature_mismatch(access_key, fields["policy"])
    return _check_policy(ctx, fields, bucket, principal)


def _verify(ctx: RequestContext, fields: dict[str, str], bucket: str, lookup: Lookup) -> tuple[int, int] | None:
    for name in ("policy", *SIGV4_FIELDS):
        if name not in fields:
            raise _missing(name)
    if fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256":
        raise _invalid_argument("Only AWS4-HMAC-SHA256 is supported as the signing algorithm of a POST.",
                                "x-amz-algorithm", fields["x-amz-algorithm"])
    parts = fields["x-amz-credential"].split("/")
    if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request":
        raise _invalid_argument("Invalid credential.", "x-amz-credential", fields["x-amz-credential"])
    access_key, date, region = parts[0], parts[1], parts[2]
    secret, principal = _principal(lookup, access_key, fields)
    expected = hmac.new(signing_key(secret, date, region, "s3"), fields["policy"].encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["x-amz-signature"].lower()):
        raise _signature_mismatch(access_key, fields["policy"])
    return _check_policy(ctx, fields, bucket, principal)


async def _limited(body: AsyncIterator[bytes], length_range: tuple[int, int] | None) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in body:
        size += len(chunk)
        if length_range is not None and size > length_range[1]:
            raise ServiceError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
                               fields={"ProposedSize": str(size), "MaxSizeAllowed": str(length_range[1])})
        yield chunk
    if length_range is not None and size < length_range[0]:
        raise ServiceError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", 400,
                           fields={"ProposedSize": str(size), "MinSizeAllowed": str(length_range[0])})


async def _drain(reader: FormReader, limit: int = 64 * 1024) -> None:
    """Read what follows the file (ignored fields, the closing delimiter), within reason."""
    seen = 0
    while (part := await reader.next_part()) is not None:
        async for chunk in part[1]:
            seen += len(chunk)
            if seen > limit:
                return


def _respond(request: HttpRequest, fields: dict[str, str], bucket: str, key: str, out: dict) -> HttpResponse:
    location = f"http://{request.host}/{bucket}/{quote(key)}"
    headers = [("ETag", out["ETag"]), ("Location", location)]
    if out.get("VersionId"):
        headers.append(("x-amz-version-id", out["VersionId"]))
    if out.get("ServerSideEncryption"):
        headers.append(("x-amz-server-side-encryption", out["ServerSideEncryption"]))
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        query = urlencode({"bucket": bucket, "key": key, "etag": out["ETag"]})
        target = redirect + ("&" if "?" in redirect else "?") + query
        headers = [h for h in headers if h[0] != "Location"] + [("Location", target)]
        return HttpResponse(303, headers, b"")
    status = fields.get("success_action_status")
    if status == "201":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>{}</Location><Bucket>{}</Bucket>'
                "<Key>{}</Key><ETag>{}</ETag></PostResponse>").format(*(_xml(v) for v in (location, bucket, key,
                                                                                         out["ETag"]))).encode()
        return HttpResponse(201, headers + [("Content-Type", "application/xml")], body)
    if status == "200":
        return HttpResponse(200, headers, b"")
    return HttpResponse(204, headers, b"")


def _xml(value: str) -> str:
    from xml.sax.saxutils import escape

    return escape(value)

