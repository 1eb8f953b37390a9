"""What every provider is built from, and the shared facts providers use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from gureum.auth.accounts import AccountStore
    from gureum.auth.credentials import CredentialStore
    from gureum.config import Settings
    from gureum.events import EventBus
    from gureum.store import BlobStore, Database


@dataclass
class ServiceEnv:
    """The handles a provider gets at construction: the store, settings and its peers."""

    settings: "Settings"
    db: "Database"
    blobs: "BlobStore"
    events: "EventBus"
    credentials: "CredentialStore"
    accounts: "AccountStore"
    # provider(name) -> another service's provider, for calls between services.
    provider: Callable[[str], object]


class BaseProvider:
    """A service's operations are methods named after them in snake_case.

    Each takes (ctx: RequestContext, request: dict) and returns the output dict, and may be
    `async def` when it streams. Operations without a method answer NotImplemented.
    """

    service_name = ""
    MIGRATIONS: list[str] = []

    def __init__(self, env: ServiceEnv):
        self.env = env
        if self.MIGRATIONS:
            env.db.migrate(self.service_name, self.MIGRATIONS)

    def close(self) -> None:
        """Stop background work (timers, sweepers) before the store closes."""
