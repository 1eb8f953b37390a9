"""The service clock: wall time plus an offset that tests can advance.

Expiry of credentials, TTLs and lifecycle rules read this clock; SigV4's clock-skew check
reads the real wall clock, since it compares with the client's clock.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

_offset_seconds = 0.0


def now() -> datetime:
    return datetime.fromtimestamp(time.time() + _offset_seconds, tz=timezone.utc)


def epoch() -> float:
    return time.time() + _offset_seconds


def advance(seconds: float) -> float:
    """Move the service clock forward; returns the total offset."""
    global _offset_seconds
    if seconds < 0:
        raise ValueError("the service clock only moves forward")
    _offset_seconds += seconds
    return _offset_seconds
