"""The ASGI application: HTTP in, the pipeline, HTTP out.

    route -> authenticate -> parse -> authorize -> provider -> serialize -> record

Bodies are streamed: an operation whose input payload is a streaming blob (S3 PutObject,
UploadPart, ...) gets a BodyStream; every other body is read whole (bounded by
MAX_BUFFERED_BODY) before parsing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any, AsyncIterator

from gureum.gateway import internal
from gureum.gateway.body import ClientDisconnected, request_timeout
from gureum.gateway.pipeline import Pipeline
from gureum.gateway.runtime import Runtime
from gureum.protocol.http import HttpRequest, HttpResponse

log = logging.getLogger("gureum.request")


class GatewayApp:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.pipeline = Pipeline(runtime)

    async def __call__(self, scope: dict, receive, send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send, self.runtime)
            return
        if kind != "http":
            return
        started = time.perf_counter()
        request = _request_from_scope(scope, receive, self.runtime.settings.request_timeout_seconds)
        request_id = _new_request_id()
        if request.path.startswith("/_gureum/"):
            response = await internal.handle(self.runtime, self.pipeline, request)
            outcome = {"service": "gureum", "operation": request.path}
        else:
            response, outcome = await self.pipeline.handle(request, request_id, _client_ip(scope))
        await _send_response(send, response, head=request.method == "HEAD")
        outcome.update(
            status=response.status,
            ms=round((time.perf_counter() - started) * 1000, 2),
            request_id=request_id,
        )
        if log.isEnabledFor(logging.INFO):
            log.info(json.dumps(outcome, separators=(",", ":")))


def _new_request_id() -> str:
    return str(uuid.uuid4())


def _client_ip(scope: dict) -> str:
    client = scope.get("client")
    return client[0] if client else "127.0.0.1"


def _request_from_scope(scope: dict, receive, timeout: float) -> HttpRequest:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    request = HttpRequest(
        method=scope["method"],
        path=raw_path.decode("latin-1"),
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        host=headers.get("host", ""),
    )
    request.unread = _body_chunks(receive, timeout)
    return request


async def _body_chunks(receive, timeout: float) -> AsyncIterator[bytes]:
    while True:
        try:
            async with asyncio.timeout(timeout):  # a body that stops arriving is not waited for forever
                message = await receive()
        except TimeoutError:
            raise request_timeout() from None
        if message["type"] == "http.disconnect":
            raise ClientDisconnected("client disconnected")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _send_response(send, response: HttpResponse, *, head: bool) -> None:
    body = response.body
    headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers]
    if isinstance(body, (bytes, bytearray)):
        if response.header("content-length") is None:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else bytes(body)})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if not head:
        if hasattr(body, "__aiter__"):
            async for chunk in body:  # type: ignore[union-attr]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        else:
            for chunk in body:  # type: ignore[union-attr]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _lifespan(receive, send, runtime: Runtime) -> None:
    while True:
        message: dict[str, Any] = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            # Close the store here: uvicorn re-raises SIGTERM/SIGINT after shutdown, so code
            # after server.run() may never execute.
            runtime.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
