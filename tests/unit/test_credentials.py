"""The credentials table: expired sessions leave it, at start and as new sessions come."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gureum.auth import credentials as creds
from gureum.auth.credentials import CredentialStore
from gureum.context import Principal
from gureum.store import Database


def _session(n: int, expires: datetime) -> Principal:
    return Principal(account_id="000000000000", kind="root", arn="arn:aws:iam::000000000000:root",
                     user_id="000000000000", access_key_id=f"ASIA{n:016d}", session_token=f"token-{n}",
                     expires_at=expires)


def test_expired_sessions_are_purged_as_new_ones_arrive(tmp_path, monkeypatch):
    monkeypatch.setattr(creds, "PURGE_EVERY_SESSIONS", 10)
    store = CredentialStore(Database(tmp_path / "state.db"))
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    for n in range(9):
        store.add(_session(n, past), "secret")
    assert store.lookup(f"ASIA{0:016d}") is not None  # not yet: purging waits for the tenth
    store.add(_session(100, future), "secret")
    assert all(store.lookup(f"ASIA{n:016d}") is None for n in range(9))
    assert store.lookup(f"ASIA{100:016d}") is not None
    # The table agrees with the cache: a fresh store sees only the live session.
    again = CredentialStore(Database(tmp_path / "state.db"))
    assert again.lookup(f"ASIA{0:016d}") is None and again.lookup(f"ASIA{100:016d}") is not None
