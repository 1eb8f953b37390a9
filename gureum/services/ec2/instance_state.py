"""The instance state machine: AWS's states, codes, transitions and reasons, in one place.

pending(0) -> running(16) -> stopping(64) -> stopped(80) -> pending on start;
any live state -> shutting-down(32) -> terminated(48). `transition(doc, to, now)` moves an
instance and schedules the state that follows on its own (lifecycle.py) after the delays of
lifecycle.boot_seconds/stop_seconds; the provider applies the scheduled states on every read
and write (InstanceOperations.settle_instances) and performs what each implies.
"""

from __future__ import annotations

from datetime import datetime, timezone

from gureum.services.ec2 import lifecycle

CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
# The state an instance reaches on its own after each transitional one.
FOLLOWS = {"pending": "running", "stopping": "stopped", "shutting-down": "terminated"}
GONE = "_Gone"


def state(name: str) -> dict:
    return {"Code": CODES[name], "Name": name}


def user_initiated(now: float) -> str:
    """StateTransitionReason of a user's stop or terminate: "User initiated (2024-05-01 12:00:00 GMT)"."""
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return f"User initiated ({stamp} GMT)"


USER_SHUTDOWN = {"Code": "Client.UserInitiatedShutdown", "Message": "Client.UserInitiatedShutdown: User initiated shutdown"}
PENDING_REASON = {"Code": "pending", "Message": "pending"}


def transition(doc: dict, to: str, now: float, *, reason: dict | None = None, text: str | None = None) -> None:
    """Move `doc` to `to` now, and schedule the state that follows it."""
    lifecycle.clear(doc)
    doc["State"] = state(to)
    if to == "pending":
        doc["StateReason"] = PENDING_REASON
        doc["StateTransitionReason"] = ""
        lifecycle.schedule(doc, now + lifecycle.boot_seconds(), {"State": state("running"), "StateReason": None})
        # Status checks pass a boot delay after running.
        doc["_StatusOkAt"] = now + 2 * lifecycle.boot_seconds()
        return
    if reason is not None:
        doc["StateReason"] = reason
    if text is not None:
        doc["StateTransitionReason"] = text
    following = FOLLOWS.get(to)
    if following:
        lifecycle.schedule(doc, now + lifecycle.stop_seconds(), {"State": state(following)})
    if to == "terminated" or following == "terminated":
        at = now + lifecycle.stop_seconds() * (following == "terminated")
        lifecycle.schedule(doc, at + lifecycle.TERMINATED_VISIBLE_SECONDS, {GONE: True})


def reached(patches: list[dict]) -> list[str]:
    """The state names a list of applied patches moved through, in order."""
    return [p["State"]["Name"] for p in patches if "State" in p]
