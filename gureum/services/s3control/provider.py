"""S3 Control: the account's own S3 settings (today: account-level Block Public Access).

The account setting combines with each bucket's own (the most restrictive of both wins);
the S3 provider asks for it through `account_public_access_block`.
"""

from __future__ import annotations

import json

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.base import BaseProvider

PAB_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

MIGRATIONS = [
    """
    CREATE TABLE s3control_public_access_block (
        account_id TEXT PRIMARY KEY,
        config TEXT NOT NULL
    );
    """
]


class Provider(BaseProvider):
    service_name = "s3control"
    MIGRATIONS = MIGRATIONS

    def _account(self, ctx: RequestContext, request: dict) -> str:
        """The x-amz-account-id header names the account acted on: only the caller's own."""
        account_id = request.get("AccountId")
        if account_id != ctx.account_id:
            raise ServiceError("AccessDenied", "Access Denied", 403)
        return account_id

    def account_public_access_block(self, account_id: str) -> dict:
        """The account's Block Public Access settings ({} when it has none)."""
        row = self.env.db.query_one("SELECT config FROM s3control_public_access_block WHERE account_id = ?",
                                    (account_id,))
        return json.loads(row["config"]) if row else {}

    def put_public_access_block(self, ctx: RequestContext, request: dict) -> dict:
        account_id = self._account(ctx, request)
        config = request.get("PublicAccessBlockConfiguration") or {}
        settings = {f: bool(config.get(f, False)) for f in PAB_FIELDS}
        self.env.db.execute("INSERT OR REPLACE INTO s3control_public_access_block (account_id, config) VALUES (?, ?)",
                            (account_id, json.dumps(settings)))
        return {}

    def get_public_access_block(self, ctx: RequestContext, request: dict) -> dict:
        account_id = self._account(ctx, request)
        settings = self.account_public_access_block(account_id)
        if not settings:
            raise ServiceError("NoSuchPublicAccessBlockConfiguration",
                               "The public access block configuration was not found", 404,
                               fields={"AccountId": account_id})
        return {"PublicAccessBlockConfiguration": settings}

    def delete_public_access_block(self, ctx: RequestContext, request: dict) -> dict:
        account_id = self._account(ctx, request)
        self.env.db.execute("DELETE FROM s3control_public_access_block WHERE account_id = ?", (account_id,))
        return {}
