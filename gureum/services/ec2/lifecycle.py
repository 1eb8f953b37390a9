"""Changes of state that happen later, in service time (`gureum.clock`).

An EC2 resource that moves through states on its own (an instance booting, a volume being
created, a snapshot completing, a volume modification optimizing) carries its future in its
stored document: `_Timeline`, a list of [epoch, patch] pairs in time order. `advance(doc, now)`
applies every patch that is due and returns them, so the caller can perform what a state
change implies (release an address, delete a volume) and persist the document. Applying it on
every read and write keeps the state machine in one place; nothing runs in the background.

Delays come from Settings (GUREUM_EC2_BOOT_SECONDS, GUREUM_EC2_STOP_SECONDS): small by default,
so a describe shortly after a launch sees "running", and a test that moves the service clock
(POST /_gureum/clock) sees it at once.
"""

from __future__ import annotations

from typing import Any

TIMELINE = "_Timeline"


_DELAYS = {"boot": 1.0, "stop": 1.0}


def configure(settings) -> None:
    """Take the delays from Settings (GUREUM_EC2_BOOT_SECONDS, GUREUM_EC2_STOP_SECONDS)."""
    _DELAYS["boot"] = getattr(settings, "ec2_boot_seconds", _DELAYS["boot"])
    _DELAYS["stop"] = getattr(settings, "ec2_stop_seconds", _DELAYS["stop"])


def boot_seconds() -> float:
    """pending -> running, and running -> status checks passed."""
    return _DELAYS["boot"]


def stop_seconds() -> float:
    """stopping -> stopped and shutting-down -> terminated."""
    return _DELAYS["stop"]


# A terminated instance stays visible this long (service seconds), as on AWS (about an hour).
TERMINATED_VISIBLE_SECONDS = 3600.0


def schedule(doc: dict, at: float, patch: dict[str, Any]) -> None:
    """Add a change due at `at` (epoch seconds, service clock), kept in time order."""
    timeline = doc.setdefault(TIMELINE, [])
    timeline.append([at, patch])
    timeline.sort(key=lambda item: item[0])


def clear(doc: dict) -> None:
    """Forget pending changes (a new transition replaces them)."""
    doc.pop(TIMELINE, None)


def advance(doc: dict, now: float) -> list[dict]:
    """Apply the due patches to `doc` in place; returns them (empty when nothing changed).

    A patch's keys replace the document's; a key whose value is None is removed.
    """
    timeline = doc.get(TIMELINE)
    if not timeline or timeline[0][0] > now:
        return []
    applied = []
    while timeline and timeline[0][0] <= now:
        _, patch = timeline.pop(0)
        for key, value in patch.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        applied.append(patch)
    if not timeline:
        doc.pop(TIMELINE, None)
    return applied


def public(doc: dict) -> dict:
    """The document without the fields gureum keeps for itself (names starting with `_`)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}
