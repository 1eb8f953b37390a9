"""The in-process event bus: services announce what happened; others may listen.

Events are plain (name, payload) pairs such as ("s3:ObjectCreated:Put", {...}). Handlers run
synchronously after the publishing operation's state is committed; a failing handler is
logged and never fails the publisher's request.
"""

from __future__ import annotations

import fnmatch
import logging
from collections import defaultdict
from typing import Any, Callable

log = logging.getLogger("gureum.events")

Handler = Callable[[str, dict[str, Any]], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, pattern: str, handler: Handler) -> None:
        """Listen to events whose name matches a glob pattern ("s3:ObjectCreated:*")."""
        self._handlers[pattern].append(handler)

    def listening(self, name: str) -> bool:
        """Whether any handler would receive an event of this name (so a publisher may skip building it)."""
        return any(handlers and fnmatch.fnmatchcase(name, pattern) for pattern, handlers in list(self._handlers.items()))

    def publish(self, name: str, payload: dict[str, Any]) -> None:
        for pattern, handlers in list(self._handlers.items()):
            if fnmatch.fnmatchcase(name, pattern):
                for handler in handlers:
                    try:
                        handler(name, payload)
                    except Exception:  # a listener's bug must not fail the publisher
                        log.exception("event handler for %s failed", name)
