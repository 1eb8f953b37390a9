"""Request bodies compressed by the client (the `requestcompression` trait).

botocore gzips the body of operations that declare the trait (CloudWatch PutMetricData, ...)
once it is large enough, and adds `gzip` to Content-Encoding. The body is inflated before
parsing and `gzip` taken off the header, so a member bound to Content-Encoding sees only
what the caller set. Other operations keep their Content-Encoding untouched: for S3 it is
object metadata, not a transfer coding.
"""

from __future__ import annotations

import zlib

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest

# Inflated bodies larger than this are refused (a small gzip body can expand enormously).
MAX_INFLATED = 64 * 1024 * 1024


def inflate(request: HttpRequest) -> None:
    """Undo a final `gzip` content coding in place (no-op without one)."""
    header = request.headers.get("content-encoding")
    if not header or not request.body:
        return
    codings = [c.strip() for c in header.split(",") if c.strip()]
    if not codings or codings[-1].lower() != "gzip":
        return
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(request.body, MAX_INFLATED)
    except zlib.error:
        raise ServiceError("SerializationException", "The request body is not valid gzip data.", 400) from None
    if inflater.unconsumed_tail:
        raise ServiceError("RequestEntityTooLarge", "The request body is too large once decompressed.", 413)
    request.body = body
    request.__dict__.pop("_form_params", None)
    rest = codings[:-1]
    if rest:
        request.headers["content-encoding"] = ", ".join(rest)
    else:
        del request.headers["content-encoding"]
