"""Access keys and the principals they name: account roots, IAM users, STS sessions.

One table holds every credential gureum accepts, whoever issued it (the account
bootstrap for roots, IAM for user keys, STS for sessions), so authentication is one
lookup. Reads come from an in-memory map kept in step with the table.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import replace
from datetime import datetime, timezone

from gureum import clock
from gureum.context import Principal
from gureum.store import Database

MIGRATIONS = [
    """
    CREATE TABLE credentials (
        access_key_id TEXT PRIMARY KEY,
        secret_access_key TEXT NOT NULL,
        session_token TEXT,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        arn TEXT NOT NULL,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'Active',
        created_at REAL NOT NULL,
        expires_at REAL,
        mfa_authenticated INTEGER NOT NULL DEFAULT 0,
        role_arn TEXT,
        session_name TEXT,
        session_policy TEXT,
        session_tags TEXT,
        source_identity TEXT,
        source_arn TEXT
    );
    CREATE INDEX credentials_by_account ON credentials (account_id, kind)
    """,
]

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_access_key_id(account_id: str, prefix: str) -> str:
    """An access key id in AWS's format, with the owning account encoded the way AWS does.

    The 10 bytes after the 4-letter prefix carry the account id in bits 1..40 of the first
    six bytes (so GetAccessKeyInfo can decode it without a lookup, as on AWS).
    """
    head = (int(account_id) << 7) | secrets.randbelow(128) | (secrets.randbelow(2) << 47)
    raw = head.to_bytes(6, "big") + secrets.token_bytes(4)
    return prefix + base64.b32encode(raw).decode("ascii")


def account_of_access_key_id(access_key_id: str) -> str | None:
    """Decode the account id from an AWS-format access key id, or None if it has none."""
    body = access_key_id[4:]
    if len(access_key_id) != 20 or any(c not in _B32 for c in body):
        return None
    raw = base64.b32decode(body)
    return f"{(int.from_bytes(raw[:6], 'big') & 0x7FFFFFFFFF80) >> 7:012d}"


def new_secret_access_key() -> str:
    return base64.b64encode(secrets.token_bytes(30)).decode("ascii")


def new_unique_id(prefix: str) -> str:
    """IAM unique ids (AIDA..., AROA...): prefix and 17 base32 characters."""
    return prefix + "".join(secrets.choice(_B32) for _ in range(17))


PURGE_EVERY_SESSIONS = 1000


class CredentialStore:
    def __init__(self, db: Database):
        self._db = db
        db.migrate("credentials", MIGRATIONS)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, Principal, str]] = {}
        self._sessions_since_purge = 0
        for row in db.query("SELECT * FROM credentials"):
            self._cache[row["access_key_id"]] = _entry(row)

    def lookup(self, access_key_id: str) -> tuple[str, Principal, str] | None:
        """(secret, principal, status) for an access key, or None when unknown."""
        return self._cache.get(access_key_id)

    def add(
        self,
        principal: Principal,
        secret_access_key: str,
        *,
        status: str = "Active",
    ) -> None:
        created = clock.epoch()
        p = replace(principal, issued_at=datetime.fromtimestamp(created, tz=timezone.utc))
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO credentials (access_key_id, secret_access_key, session_token, account_id,"
                " kind, arn, user_id, name, status, created_at, expires_at, mfa_authenticated, role_arn,"
                " session_name, session_policy, session_tags, source_identity, source_arn)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    p.access_key_id, secret_access_key, p.session_token, p.account_id, p.kind, p.arn,
                    p.user_id, p.name, status, created,
                    p.expires_at.timestamp() if p.expires_at else None,
                    int(p.mfa_authenticated), p.role_arn, p.session_name, p.session_policy,
                    json.dumps(p.session_tags) if p.session_tags else None, p.source_identity,
                    p.source_arn,
                ),
            )
        with self._lock:
            self._cache[p.access_key_id] = (secret_access_key, p, status)
        if p.expires_at is not None:
            # A long-running server issues sessions without end: drop the expired ones now and then.
            self._sessions_since_purge += 1
            if self._sessions_since_purge >= PURGE_EVERY_SESSIONS:
                self._sessions_since_purge = 0
                self.purge_expired()

    def set_status(self, access_key_id: str, status: str) -> None:
        with self._db.transaction():
            self._db.execute(
                "UPDATE credentials SET status = ? WHERE access_key_id = ?", (status, access_key_id)
            )
        with self._lock:
            entry = self._cache.get(access_key_id)
            if entry:
                self._cache[access_key_id] = (entry[0], entry[1], status)

    def delete(self, access_key_id: str) -> None:
        with self._db.transaction():
            self._db.execute("DELETE FROM credentials WHERE access_key_id = ?", (access_key_id,))
        with self._lock:
            self._cache.pop(access_key_id, None)

    def update_principal(self, arn: str, /, **changes) -> None:
        """Rewrite the principal of every credential naming `arn` (e.g. after UpdateUser renames).

        `changes` are Principal fields among arn, name, user_id.
        """
        allowed = {"arn", "name", "user_id"}
        if not changes or set(changes) - allowed:
            raise ValueError(f"only {sorted(allowed)} can change")
        assignments = ", ".join(f"{k} = ?" for k in changes)
        with self._db.transaction():
            self._db.execute(f"UPDATE credentials SET {assignments} WHERE arn = ?", (*changes.values(), arn))
        with self._lock:
            for key, (secret, p, status) in list(self._cache.items()):
                if p.arn == arn:
                    self._cache[key] = (secret, replace(p, **changes), status)

    def for_principal(self, arn: str) -> list[tuple[str, Principal, str]]:
        """(secret, principal, status) of every credential of a principal ARN (long-term and sessions)."""
        return [entry for entry in self._cache.values() if entry[1].arn == arn]

    def purge_expired(self) -> int:
        """Drop session credentials whose expiry has passed (they are refused anyway)."""
        now = clock.epoch()
        with self._db.transaction():
            n = self._db.execute(
                "DELETE FROM credentials WHERE expires_at IS NOT NULL AND expires_at < ?", (now,)
            )
        with self._lock:
            for key in [k for k, (_, p, _) in self._cache.items() if p.expires_at and p.expires_at.timestamp() < now]:
                del self._cache[key]
        return n


def _entry(row) -> tuple[str, Principal, str]:
    expires = row["expires_at"]
    principal = Principal(
        account_id=row["account_id"],
        kind=row["kind"],
        arn=row["arn"],
        user_id=row["user_id"],
        access_key_id=row["access_key_id"],
        name=row["name"],
        session_token=row["session_token"],
        expires_at=datetime.fromtimestamp(expires, tz=timezone.utc) if expires is not None else None,
        mfa_authenticated=bool(row["mfa_authenticated"]),
        role_arn=row["role_arn"],
        session_name=row["session_name"],
        session_policy=row["session_policy"],
        session_tags=json.loads(row["session_tags"]) if row["session_tags"] else {},
        source_identity=row["source_identity"],
        source_arn=row["source_arn"],
        issued_at=datetime.fromtimestamp(row["created_at"], tz=timezone.utc),
    )
    return row["secret_access_key"], principal, row["status"]
