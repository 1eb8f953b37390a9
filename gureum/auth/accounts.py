"""AWS accounts: the default one and those added with `gureum accounts create`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from gureum import clock
from gureum.auth.credentials import CredentialStore, new_access_key_id, new_secret_access_key
from gureum.context import Principal
from gureum.store import Database

MIGRATIONS = [
    """
    CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY,
        alias TEXT,
        created_at REAL NOT NULL
    )
    """,
]


@dataclass(frozen=True)
class Account:
    account_id: str
    alias: str | None
    created_at: float


def root_principal(account_id: str, access_key_id: str) -> Principal:
    return Principal(
        account_id=account_id,
        kind="root",
        arn=f"arn:aws:iam::{account_id}:root",
        user_id=account_id,
        access_key_id=access_key_id,
    )


class AccountStore:
    def __init__(self, db: Database, credentials: CredentialStore):
        self._db = db
        self._credentials = credentials
        db.migrate("accounts", MIGRATIONS)

    def ensure_default(self, account_id: str, access_key_id: str, secret_access_key: str) -> None:
        """The default account and its configured root key exist (the key may change between runs)."""
        with self._db.transaction():
            if not self.get(account_id):
                self._db.execute(
                    "INSERT INTO accounts (account_id, alias, created_at) VALUES (?, NULL, ?)",
                    (account_id, clock.epoch()),
                )
            found = self._credentials.lookup(access_key_id)
            if found and (found[0] != secret_access_key or found[1].arn != f"arn:aws:iam::{account_id}:root"):
                self._credentials.delete(access_key_id)
                found = None
            if not found:
                self._credentials.add(root_principal(account_id, access_key_id), secret_access_key)

    def create(self, alias: str | None = None) -> tuple[Account, str, str]:
        """A new account with a random 12-digit id; returns it and its root key pair."""
        with self._db.transaction():
            while True:
                account_id = f"{secrets.randbelow(10**12 - 10**11) + 10**11:012d}"
                if not self.get(account_id):
                    break
            created = clock.epoch()
            self._db.execute(
                "INSERT INTO accounts (account_id, alias, created_at) VALUES (?, ?, ?)",
                (account_id, alias, created),
            )
            key_id = new_access_key_id(account_id, "AKIA")
            secret = new_secret_access_key()
            self._credentials.add(root_principal(account_id, key_id), secret)
        return Account(account_id, alias, created), key_id, secret

    def get(self, account_id: str) -> Account | None:
        row = self._db.query_one("SELECT * FROM accounts WHERE account_id = ?", (account_id,))
        return Account(row["account_id"], row["alias"], row["created_at"]) if row else None

    def list(self) -> list[Account]:
        return [
            Account(r["account_id"], r["alias"], r["created_at"])
            for r in self._db.query("SELECT * FROM accounts ORDER BY created_at, account_id")
        ]
