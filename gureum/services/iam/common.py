"""What IAM's entity modules share: errors, ARNs, dates, paging and policy documents."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from typing import Any, Callable

from gureum import clock
from gureum.protocol.errors import ServiceError

DEFAULT_MAX_ITEMS = 100
ENTITY_KINDS = ("user", "group", "role")
_WHITESPACE = re.compile(r"\s+")


# --- errors ----------------------------------------------------------------------------

def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, 404)


def already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, 409)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


# --- names, ARNs and dates -------------------------------------------------------------

def arn(account_id: str, kind: str, path: str, name: str) -> str:
    """arn:aws:iam::ACCOUNT:user/PATH/NAME (path is "/" or "/a/b/")."""
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def now_epoch() -> float:
    """IAM's timestamps have whole seconds."""
    return float(int(clock.epoch()))


def to_datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc)


# --- paging ----------------------------------------------------------------------------

def paginate(items: list, request: dict, result_key: str, key: Callable[[Any], tuple]) -> dict:
    """One page of a listing with IAM's Marker / MaxItems / IsTruncated.

    `items` are ordered by `key` (unique per item); the opaque marker carries the key of the
    last item returned, so it stays valid while other items are added or removed.
    """
    max_items = request.get("MaxItems") or DEFAULT_MAX_ITEMS
    marker = request.get("Marker")
    if marker is not None:
        after = _decode_marker(marker)
        items = [item for item in items if list(key(item)) > after]
    page = items[:max_items]
    out: dict = {result_key: page, "IsTruncated": len(items) > max_items}
    if out["IsTruncated"]:
        out["Marker"] = _encode_marker(list(key(page[-1])))
    return out


def _encode_marker(last_key: list) -> str:
    raw = json.dumps(last_key, separators=(",", ":")).encode()
    return "AA" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_marker(marker: str) -> list:
    try:
        if not marker.startswith("AA"):
            raise ValueError
        body = marker[2:]
        last = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if not isinstance(last, list):
            raise ValueError
        return last
    except (ValueError, TypeError):
        raise invalid_input("Invalid Marker.") from None


def name_order(name: str) -> tuple[str, str]:
    """IAM lists entities ordered by name, case-insensitively."""
    return name.lower(), name


def by_name(column: str) -> Callable[[Any], tuple]:
    """Paging key of output dicts ordered by a name member."""
    return lambda item: name_order(item[column])


# --- policy documents ------------------------------------------------------------------

def parse_document(text: str, kind: str = "identity") -> Any:
    """Validate a policy document as IAM does (MalformedPolicyDocument on failure)."""
    from gureum.policy.document import parse_policy

    return parse_policy(text, kind)


def document_size(text: str) -> int:
    """IAM counts a policy's size without whitespace."""
    return len(_WHITESPACE.sub("", text))
