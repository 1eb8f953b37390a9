"""Small helpers shared by tests."""

from __future__ import annotations

import json
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def internal_call(endpoint: str, method: str, path: str, payload: dict | None = None,
                  access_key: str = "test", secret_key: str = "test") -> dict:
    """Call one of gureum's /_gureum/ endpoints, SigV4-signed like the gureum CLI does."""
    data = json.dumps(payload).encode() if payload is not None else b""
    request = AWSRequest(method=method, url=endpoint + path, data=data)
    SigV4Auth(Credentials(access_key, secret_key), "gureum", "us-east-1").add_auth(request)
    prepared = request.prepare()
    http_request = urllib.request.Request(prepared.url, data=data or None, method=method, headers=dict(prepared.headers))
    with urllib.request.urlopen(http_request, timeout=10) as r:
        return json.load(r)


def advance_clock(endpoint: str, seconds: float) -> dict:
    """Move a server's service clock forward (only ever on a server of the test's own)."""
    return internal_call(endpoint, "POST", "/_gureum/clock", {"advance_seconds": seconds})
