"""ClientToken: a create repeated with the same token answers with what the first one made.

The token is kept on the resource's document as `_ClientToken` (no shape has that member,
so it never reaches the wire). A different request under a used token is refused, as AWS
refuses it (IdempotentParameterMismatch).
"""

from __future__ import annotations

import hashlib
import json

from gureum.protocol.errors import ServiceError
from gureum.services.ec2.store import Resources, Scope


def fingerprint(request: dict) -> str:
    """What identifies a request's parameters (DryRun and the token itself aside)."""
    kept = {k: v for k, v in request.items() if k not in ("ClientToken", "DryRun")}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def earlier(resources: Resources, scope: Scope, kind: str, request: dict) -> dict | None:
    """The resource an earlier request with this ClientToken made, if any."""
    token = request.get("ClientToken")
    if not token:
        return None
    for doc in resources.all(scope, kind):
        if doc.get("_ClientToken") == token:
            if doc.get("_RequestFingerprint") != fingerprint(request):
                raise ServiceError("IdempotentParameterMismatch",
                                   "Specified idempotency token is already used with different parameters.", 400)
            return doc
    return None


def remember(doc: dict, request: dict) -> dict:
    """Mark a new document with the request's token (before it is stored)."""
    if request.get("ClientToken"):
        doc["_ClientToken"] = request["ClientToken"]
        doc["_RequestFingerprint"] = fingerprint(request)
    return doc
