"""The HTTP request and response as the protocol layer sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterable
from urllib.parse import parse_qsl


@dataclass
class HttpRequest:
    """One HTTP request after the gateway read it off the wire.

    `path` is the raw, still percent-encoded path (for S3 virtual-host requests the gateway
    has already put the bucket in front, so parsers only see path-style). `headers` has
    lower-case names; repeated headers are joined with ",". `body` holds the whole body,
    except for operations with a streaming payload, where it is empty and `body_stream`
    yields the (already de-chunked and verified) bytes.
    """

    method: str
    path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_stream: "BodyStream | None" = None
    host: str = ""
    # The body as it still arrives from the client, until the gateway reads or streams it.
    unread: "AsyncIterator[bytes] | None" = field(default=None, repr=False)

    _query: list[tuple[str, str]] | None = field(default=None, repr=False)

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query string as decoded (name, value) pairs, in order, blanks kept."""
        if self._query is None:
            self._query = parse_qsl(self.query_string, keep_blank_values=True)
        return self._query

    def query_dict(self) -> dict[str, str]:
        """Last value wins for repeated names."""
        return dict(self.query)


class BodyStream:
    """An async iterator over a request body that was not read into memory."""

    def __init__(self, chunks: AsyncIterator[bytes], length: int | None = None):
        self._chunks = chunks
        self.length = length
        self.exhausted = False  # the whole body has been read

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk
        self.exhausted = True

    async def read(self) -> bytes:
        """Read the rest of the body (only for small bodies)."""
        return b"".join([chunk async for chunk in self])


@dataclass
class HttpResponse:
    """What a serializer produces. `body` is bytes or an async iterator of bytes (streaming)."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] | Iterable[bytes] = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def set_header(self, name: str, value: Any) -> None:
        lname = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lname]
        self.headers.append((name, str(value)))
