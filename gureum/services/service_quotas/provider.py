"""Service Quotas: applied and default values, increase requests and their history.

An increase request is approved at once, as a local cloud has no one to review it: the
answer to RequestServiceQuotaIncrease shows it CASE_OPENED, and the next read of the
account's quotas or requests (any Service Quotas call, or `applied_quota` from another
service) finds it APPROVED with the new value applied. Until that read a second request for
the same quota is refused with ResourceAlreadyExistsException, as AWS refuses one while
another is open. Regional quotas apply per region; global ones (IAM) once per account.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.base import BaseProvider
from gureum.services.service_quotas.quotas import SERVICES, Quota, find

MIGRATIONS = [
    """
    CREATE TABLE service_quotas_applied (
        account_id TEXT NOT NULL, scope TEXT NOT NULL, service_code TEXT NOT NULL, quota_code TEXT NOT NULL,
        value REAL NOT NULL, PRIMARY KEY (account_id, scope, service_code, quota_code));
    CREATE TABLE service_quotas_requests (
        id TEXT PRIMARY KEY, account_id TEXT NOT NULL, scope TEXT NOT NULL, region TEXT NOT NULL,
        service_code TEXT NOT NULL, quota_code TEXT NOT NULL, desired REAL NOT NULL, status TEXT NOT NULL,
        case_id TEXT, created REAL NOT NULL, updated REAL NOT NULL, requester TEXT NOT NULL, seq INTEGER NOT NULL);
    CREATE INDEX service_quotas_requests_account ON service_quotas_requests (account_id, status);
    """
]

GLOBAL = "global"
MAX_OPEN_REQUESTS = 20


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _no_service() -> ServiceError:
    return ServiceError("NoSuchResourceException", "The request failed because the specified service does not exist.",
                        400)


def _no_quota() -> ServiceError:
    return ServiceError("NoSuchResourceException", "The request failed because the specified quota does not exist.",
                        400)


def _page(items: list, request: dict) -> tuple[list, str | None]:
    limit = request.get("MaxResults") or 100
    token = request.get("NextToken")
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token.encode()).decode())
        except ValueError:
            raise ServiceError("InvalidPaginationTokenException", "Invalid pagination token", 400) from None
    end = start + limit
    return items[start:end], (base64.b64encode(str(end).encode()).decode() if end < len(items) else None)


class Provider(BaseProvider):
    service_name = "service-quotas"
    MIGRATIONS = MIGRATIONS

    # ---- for other services ----------------------------------------------------------------

    def applied_quota(self, account_id: str, region: str, service_code: str, quota_code: str) -> float:
        """The value a service enforces: the default, or the latest approved increase."""
        quota = find(service_code, quota_code)
        if quota is None:
            raise KeyError(f"{service_code}/{quota_code}")
        self._settle(account_id)
        return self._applied(account_id, region, quota, service_code)

    # ---- services and quotas ---------------------------------------------------------------

    def list_services(self, ctx: RequestContext, request: dict) -> dict:
        items = [{"ServiceCode": code, "ServiceName": name} for code, (name, _) in sorted(SERVICES.items())]
        page, token = _page(items, request)
        return {"Services": page, **({"NextToken": token} if token else {})}

    def list_service_quotas(self, ctx: RequestContext, request: dict) -> dict:
        service_code = request["ServiceCode"]
        if service_code not in SERVICES:
            raise _no_service()
        self._settle(ctx.account_id)
        quotas = SERVICES[service_code][1]
        if request.get("QuotaCode"):
            quotas = tuple(q for q in quotas if q.code == request["QuotaCode"])
        items = [self._shape(ctx, service_code, q, self._applied(ctx.account_id, ctx.region, q, service_code))
                 for q in quotas]
        page, token = _page(items, request)
        return {"Quotas": page, **({"NextToken": token} if token else {})}

    def list_aws_default_service_quotas(self, ctx: RequestContext, request: dict) -> dict:
        service_code = request["ServiceCode"]
        if service_code not in SERVICES:
            raise _no_service()
        items = [self._shape(ctx, service_code, q, q.default, default=True) for q in SERVICES[service_code][1]]
        page, token = _page(items, request)
        return {"Quotas": page, **({"NextToken": token} if token else {})}

    def get_service_quota(self, ctx: RequestContext, request: dict) -> dict:
        service_code, quota = self._quota(request)
        self._settle(ctx.account_id)
        value = self._applied(ctx.account_id, ctx.region, quota, service_code)
        return {"Quota": self._shape(ctx, service_code, quota, value)}

    def get_aws_default_service_quota(self, ctx: RequestContext, request: dict) -> dict:
        service_code, quota = self._quota(request)
        return {"Quota": self._shape(ctx, service_code, quota, quota.default, default=True)}

    # ---- increase requests -----------------------------------------------------------------

    def request_service_quota_increase(self, ctx: RequestContext, request: dict) -> dict:
        service_code, quota = self._quota(request)
        desired = float(request["DesiredValue"])
        scope = GLOBAL if quota.global_quota else ctx.region
        with self.env.db.transaction():
            if not quota.adjustable:
                raise ServiceError("IllegalArgumentException",
                                   f"The quota {quota.code} is not adjustable.", 400)
            current = self._applied(ctx.account_id, ctx.region, quota, service_code)
            if desired <= current:
                raise ServiceError("IllegalArgumentException",
                                   f"The desired value {desired:g} must be greater than the current quota value "
                                   f"{current:g}.", 400)
            open_here = self.env.db.query_one(
                "SELECT id FROM service_quotas_requests WHERE account_id = ? AND scope = ? AND service_code = ?"
                " AND quota_code = ? AND status IN ('PENDING', 'CASE_OPENED')",
                (ctx.account_id, scope, service_code, quota.code))
            if open_here is not None:
                raise ServiceError("ResourceAlreadyExistsException",
                                   "Only one open service quota increase request is allowed per quota.", 400)
            opened = self.env.db.query_one(
                "SELECT COUNT(*) AS n FROM service_quotas_requests WHERE account_id = ?"
                " AND status IN ('PENDING', 'CASE_OPENED')", (ctx.account_id,))["n"]
            if opened >= MAX_OPEN_REQUESTS:
                raise ServiceError("QuotaExceededException",
                                   "You have exceeded your service quota. To perform the requested action, remove "
                                   "some of the relevant resources, or use Service Quotas to request a service quota "
                                   "increase.", 400)
            now = clock.epoch()
            request_id = secrets.token_hex(16) + "".join(
                secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(8))
            case_id = f"case-{ctx.account_id}-muen-{clock.now().year}-{secrets.token_hex(8)}"
            self.env.db.execute(
                "INSERT INTO service_quotas_requests (id, account_id, scope, region, service_code, quota_code,"
                " desired, status, case_id, created, updated, requester, seq) VALUES (?, ?, ?, ?, ?, ?, ?,"
                " 'CASE_OPENED', ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM service_quotas_requests))",
                (request_id, ctx.account_id, scope, ctx.region, service_code, quota.code, desired, case_id, now, now,
                 ctx.principal.arn))
            row = self.env.db.query_one("SELECT * FROM service_quotas_requests WHERE id = ?", (request_id,))
        return {"RequestedQuota": self._request_shape(row)}

    def get_requested_service_quota_change(self, ctx: RequestContext, request: dict) -> dict:
        self._settle(ctx.account_id)
        row = self.env.db.query_one("SELECT * FROM service_quotas_requests WHERE id = ? AND account_id = ?",
                                    (request["RequestId"], ctx.account_id))
        if row is None:
            raise ServiceError("NoSuchResourceException",
                               "The request failed because the specified quota increase request does not exist.", 400)
        return {"RequestedQuota": self._request_shape(row)}

    def list_requested_service_quota_change_history(self, ctx: RequestContext, request: dict) -> dict:
        service_code = request.get("ServiceCode")
        if service_code is not None and service_code not in SERVICES:
            raise _no_service()
        return self._history(ctx, request, service_code, None)

    def list_requested_service_quota_change_history_by_quota(self, ctx: RequestContext, request: dict) -> dict:
        service_code, quota = self._quota(request)
        return self._history(ctx, request, service_code, quota.code)

    # ---- helpers ---------------------------------------------------------------------------

    def _quota(self, request: dict) -> tuple[str, Quota]:
        service_code = request["ServiceCode"]
        if service_code not in SERVICES:
            raise _no_service()
        quota = find(service_code, request["QuotaCode"])
        if quota is None:
            raise _no_quota()
        return service_code, quota

    def _applied(self, account_id: str, region: str, quota: Quota, service_code: str) -> float:
        row = self.env.db.query_one(
            "SELECT value FROM service_quotas_applied WHERE account_id = ? AND scope = ? AND service_code = ?"
            " AND quota_code = ?", (account_id, GLOBAL if quota.global_quota else region, service_code, quota.code))
        return float(row["value"]) if row else float(quota.default)

    def _settle(self, account_id: str) -> None:
        """Approve the account's open requests and apply their values (one transaction)."""
        if self.env.db.query_one("SELECT 1 FROM service_quotas_requests WHERE account_id = ?"
                                 " AND status = 'CASE_OPENED' LIMIT 1", (account_id,)) is None:
            return
        with self.env.db.transaction():
            rows = self.env.db.query("SELECT * FROM service_quotas_requests WHERE account_id = ?"
                                     " AND status = 'CASE_OPENED' ORDER BY seq", (account_id,))
            now = clock.epoch()
            for row in rows:
                self.env.db.execute(
                    "INSERT INTO service_quotas_applied (account_id, scope, service_code, quota_code, value)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, scope, service_code, quota_code)"
                    " DO UPDATE SET value = MAX(value, excluded.value)",
                    (account_id, row["scope"], row["service_code"], row["quota_code"], row["desired"]))
                self.env.db.execute("UPDATE service_quotas_requests SET status = 'APPROVED', updated = ? WHERE id = ?",
                                    (now, row["id"]))

    def _history(self, ctx: RequestContext, request: dict, service_code: str | None, quota_code: str | None) -> dict:
        self._settle(ctx.account_id)
        sql = "SELECT * FROM service_quotas_requests WHERE account_id = ? AND (scope = ? OR scope = ?)"
        args: list = [ctx.account_id, ctx.region, GLOBAL]
        if service_code:
            sql += " AND service_code = ?"
            args.append(service_code)
        if quota_code:
            sql += " AND quota_code = ?"
            args.append(quota_code)
        if request.get("Status"):
            sql += " AND status = ?"
            args.append(request["Status"])
        rows = self.env.db.query(sql + " ORDER BY seq DESC", args)
        page, token = _page([self._request_shape(r) for r in rows], request)
        return {"RequestedQuotas": page, **({"NextToken": token} if token else {})}

    def _shape(self, ctx: RequestContext, service_code: str, quota: Quota, value: float, default: bool = False) -> dict:
        region = "us-east-1" if quota.global_quota else ctx.region
        account = "" if default else ctx.account_id
        out: dict = {
            "ServiceCode": service_code,
            "ServiceName": SERVICES[service_code][0],
            "QuotaArn": f"arn:aws:servicequotas:{region}:{account}:{service_code}/{quota.code}",
            "QuotaCode": quota.code,
            "QuotaName": quota.name,
            "Value": float(value),
            "Unit": quota.unit,
            "Adjustable": quota.adjustable,
            "GlobalQuota": quota.global_quota,
            "QuotaAppliedAtLevel": "ACCOUNT",
        }
        if quota.dims:
            out["UsageMetric"] = {"MetricNamespace": "AWS/Usage", "MetricName": "ResourceCount",
                                  "MetricDimensions": dict(quota.dims), "MetricStatisticRecommendation": "Maximum"}
        return out

    def _request_shape(self, row) -> dict:
        quota = find(row["service_code"], row["quota_code"])
        region = "us-east-1" if row["scope"] == GLOBAL else row["region"]
        return {
            "Id": row["id"],
            "CaseId": row["case_id"],
            "ServiceCode": row["service_code"],
            "ServiceName": SERVICES[row["service_code"]][0],
            "QuotaCode": row["quota_code"],
            "QuotaName": quota.name if quota else row["quota_code"],
            "DesiredValue": float(row["desired"]),
            "Status": row["status"],
            "Created": _ts(row["created"]),
            "LastUpdated": _ts(row["updated"]),
            "Requester": f'{{"accountId":"{row["account_id"]}","callerArn":"{row["requester"]}"}}',
            "QuotaArn": f"arn:aws:servicequotas:{region}:{row['account_id']}:{row['service_code']}/{row['quota_code']}",
            "GlobalQuota": bool(quota and quota.global_quota),
            "Unit": quota.unit if quota else "None",
            "QuotaRequestedAtLevel": "ACCOUNT",
        }
