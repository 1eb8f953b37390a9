"""Days as S3's timers count them (lifecycle rules, restored copies), on the service clock.

AWS acts at the first midnight UTC after start + N days. Settings.time_scale (GUREUM_TIME_SCALE)
speeds these timers up: at a scale other than 1 a day lasts 86400/scale seconds and there is
no rounding to midnight (a scaled midnight would mean nothing), so a 30-day rule at scale
86400 acts 30 seconds after the object was written.
"""

from __future__ import annotations

from email.utils import formatdate

DAY = 86400


def due(start: float, days: float, scale: float) -> float:
    """The service-clock epoch at which something started at `start` is `days` old."""
    if scale == 1:
        at = start + days * DAY
        return (int(at) // DAY + (1 if at % DAY else 0)) * DAY  # the next midnight UTC
    return start + days * DAY / scale


def seconds(duration: float, scale: float) -> float:
    """A service duration (such as a restore tier's hours) in service-clock seconds."""
    return duration / scale


def http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)
