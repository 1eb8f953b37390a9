"""The running cloud: data directory, store, credentials and the providers, built once."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from gureum.auth.accounts import AccountStore
from gureum.auth.credentials import CredentialStore
from gureum.config import Settings
from gureum.events import EventBus
from gureum.gateway.registry import BY_NAME, ServiceSpec, provider_class
from gureum.services.base import ServiceEnv
from gureum.store import BlobStore, Database


class DataDirError(Exception):
    """The data directory cannot be used (not writable, or held by another gureum)."""


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.started_at = time.time()
        if settings.ephemeral:
            self.data_dir = Path(tempfile.mkdtemp(prefix="gureum-"))
        else:
            self.data_dir = settings.data_dir
        self._lock_file = _lock_data_dir(self.data_dir)
        self.db = Database(self.data_dir / "state.sqlite3")
        self.blobs = BlobStore(self.data_dir / "blobs", db=self.db)
        self.blobs.clear_temporaries()
        self.events = EventBus()
        self.credentials = CredentialStore(self.db)
        self.credentials.purge_expired()  # expired sessions are refused anyway; drop them
        self.accounts = AccountStore(self.db, self.credentials)
        self.accounts.ensure_default(
            settings.default_account_id, settings.root_access_key_id, settings.root_secret_access_key
        )
        self.env = ServiceEnv(
            settings=settings,
            db=self.db,
            blobs=self.blobs,
            events=self.events,
            credentials=self.credentials,
            accounts=self.accounts,
            provider=self.provider_by_name,
        )
        self._providers: dict[str, object | None] = {}
        self._closed = False

    def provider(self, spec: ServiceSpec) -> object | None:
        """The service's provider, built on first use; None if gureum has none."""
        if spec.name not in self._providers:
            cls = provider_class(spec)
            self._providers[spec.name] = cls(self.env) if cls else None
        return self._providers[spec.name]

    def provider_by_name(self, name: str) -> object | None:
        return self.provider(BY_NAME[name])

    def service_states(self) -> dict[str, str]:
        """'running' for services whose provider is loaded, 'available' or 'not implemented'."""
        states = {}
        for name, spec in BY_NAME.items():
            if self._providers.get(name) is not None:
                states[name] = "running"
            else:
                states[name] = "available" if _has_provider(spec) else "not implemented"
        return states

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for provider in list(self._providers.values()):  # timers stop before the store closes
            close = getattr(provider, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    logging.getLogger("gureum").exception("closing %s failed", type(provider).__module__)
        self.db.close()
        self._lock_file.close()
        if self.settings.ephemeral:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def _has_provider(spec: ServiceSpec) -> bool:
    here = Path(__file__).resolve().parent.parent / "services" / spec.package / "provider.py"
    return here.exists()


def _lock_data_dir(data_dir: Path):
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(data_dir, os.W_OK | os.X_OK):
            raise DataDirError(f"data directory {data_dir} is not writable")
        lock = open(data_dir / "gureum.lock", "a+")
    except OSError as e:
        raise DataDirError(f"cannot use data directory {data_dir}: {e.strerror or e}") from None
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise DataDirError(
            f"data directory {data_dir} is in use by another gureum process; "
            "stop it first or pass --data-dir / --ephemeral"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    return lock
