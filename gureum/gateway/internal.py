"""gureum's own endpoints under /_gureum/: health, accounts and the service clock.

Everything but health must be SigV4-signed (any service name; the CLI signs as "gureum")
by the default account's root key.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from gureum import __version__, clock
from gureum.auth import sigv4
from gureum.gateway import body as bodies
from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest, HttpResponse


async def handle(runtime, pipeline, request: HttpRequest) -> HttpResponse:
    try:
        request.body = await bodies.read_all(request.unread, limit=1024 * 1024)
        request.unread = None
        path, method = request.path, request.method
        if path == "/_gureum/health" and method in ("GET", "HEAD"):
            return _json(200, {
                "version": __version__,
                "uptime_seconds": round(time.time() - runtime.started_at, 3),
                "data_dir": str(runtime.data_dir),
                "services": runtime.service_states(),
            })
        _require_default_root(runtime, request)
        if path == "/_gureum/accounts" and method == "GET":
            return _json(200, {"accounts": [
                {"account_id": a.account_id, "alias": a.alias, "created_at": a.created_at}
                for a in runtime.accounts.list()
            ]})
        if path == "/_gureum/accounts" and method == "POST":
            args = json.loads(request.body or b"{}")
            account, key_id, secret = runtime.accounts.create(alias=args.get("alias"))
            return _json(201, {
                "account_id": account.account_id,
                "alias": account.alias,
                "access_key_id": key_id,
                "secret_access_key": secret,
            })
        if path == "/_gureum/clock" and method == "POST":
            args = json.loads(request.body or b"{}")
            offset = clock.advance(float(args.get("advance_seconds", 0)))
            return _json(200, {"offset_seconds": offset, "now": clock.now().isoformat()})
        return _json(404, {"error": "NotFound", "message": f"no internal endpoint {method} {path}"})
    except ServiceError as e:
        return _json(e.status or 400, {"error": e.code, "message": e.message})
    except (ValueError, TypeError) as e:
        return _json(400, {"error": "BadRequest", "message": str(e)})


def _require_default_root(runtime, request: HttpRequest) -> None:
    try:
        signature = sigv4.parse_signature(request)
    except sigv4.AuthError as e:
        raise ServiceError("AccessDenied", e.message, 403) from None
    if signature is None:
        raise ServiceError("AccessDenied", "gureum's internal endpoints need a SigV4 signature", 403)
    found = runtime.credentials.lookup(signature.access_key)
    settings = runtime.settings
    if (
        found is None
        or found[1].kind != "root"
        or found[1].account_id != settings.default_account_id
        or found[1].session_token is not None
    ):
        raise ServiceError("AccessDenied", "only the default account's root key may call this", 403)
    try:
        sigv4.verify(request, signature, found[0], datetime.now(timezone.utc))
    except sigv4.AuthError as e:
        raise ServiceError("AccessDenied", e.message, 403) from None


def _json(status: int, payload: dict) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(payload).encode())
