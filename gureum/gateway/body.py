"""Reading request bodies: whole for ordinary operations, as a stream for streaming payloads."""

from __future__ import annotations

import hashlib
from typing import AsyncIterator

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest, HttpResponse

# Bodies of non-streaming operations are read into memory; nothing AWS accepts in one
# non-streaming request comes near this (Lambda's 50 MB zip, base64-encoded, is the largest).
MAX_BUFFERED_BODY = 128 * 1024 * 1024


class ClientDisconnected(ConnectionError):
    """The client went away before its request body was complete."""


def request_timeout() -> ServiceError:
    """A client that stopped sending its body (S3's wording; the connection is then closed)."""
    return ServiceError("RequestTimeout", "Your socket connection to the server was not read from or written to "
                        "within the timeout period. Idle connections will be closed.", 400)


async def read_all(chunks: AsyncIterator[bytes] | None, limit: int = MAX_BUFFERED_BODY) -> bytes:
    if chunks is None:
        return b""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ServiceError(
                "RequestEntityTooLarge", f"Request body is larger than {limit} bytes.", 413
            )
        parts.append(chunk)
    return b"".join(parts)


async def check_sha256(chunks: AsyncIterator[bytes], expected_hex: str) -> AsyncIterator[bytes]:
    """Pass a streamed body through, failing at its end if it does not hash to the signed value.

    Consumers write to a temporary blob and commit only after the stream ends, so a
    mismatch leaves nothing behind.
    """
    digest = hashlib.sha256()
    async for chunk in chunks:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != expected_hex.lower():
        raise ServiceError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
        )


def close_if_unread(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    """Answering before the client finished sending (a refused upload) ends the connection.

    The unread rest of the body would otherwise be taken for the next request on it.
    """
    stream = request.body_stream
    if request.unread is not None or (stream is not None and not stream.exhausted):
        response.set_header("Connection", "close")
    return response
