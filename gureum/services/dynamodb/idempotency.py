"""TransactWriteItems' ClientRequestToken: kept in SQLite for 10 minutes, so a retry after a
restart is still recognised (same parameters: the first answer; others: a mismatch)."""

from __future__ import annotations

import json

from gureum import clock
from gureum.protocol.errors import ServiceError

IDEMPOTENCY_SECONDS = 600

MIGRATIONS = [
    """
    CREATE TABLE dynamodb_request_tokens (
        account_id TEXT NOT NULL, region TEXT NOT NULL, token TEXT NOT NULL,
        created REAL NOT NULL, fingerprint TEXT NOT NULL, response TEXT NOT NULL,
        PRIMARY KEY (account_id, region, token));
    CREATE INDEX dynamodb_request_tokens_created ON dynamodb_request_tokens (created);
    """
]


class RequestTokens:
    def __init__(self, db):
        self.db = db
        db.migrate("dynamodb-tokens", MIGRATIONS)

    def earlier(self, account: str, region: str, token: str, fingerprint: str) -> dict | None:
        """The answer a request with this token already got, if it is still remembered."""
        row = self.db.query_one(
            "SELECT fingerprint, response FROM dynamodb_request_tokens WHERE account_id = ? AND region = ? "
            "AND token = ? AND created > ?", (account, region, token, clock.epoch() - IDEMPOTENCY_SECONDS))
        if row is None:
            return None
        if row["fingerprint"] != fingerprint:
            raise ServiceError("IdempotentParameterMismatchException",
                               "Request parameters do not match those of a previous request with the same "
                               "ClientRequestToken", 400)
        return json.loads(row["response"])

    def remember(self, account: str, region: str, token: str, fingerprint: str, response: dict) -> None:
        now = clock.epoch()
        self.db.execute("DELETE FROM dynamodb_request_tokens WHERE created <= ?", (now - IDEMPOTENCY_SECONDS,))
        self.db.execute(
            "INSERT OR REPLACE INTO dynamodb_request_tokens (account_id, region, token, created, fingerprint, response) "
            "VALUES (?, ?, ?, ?, ?, ?)", (account, region, token, now, fingerprint, json.dumps(response)))
