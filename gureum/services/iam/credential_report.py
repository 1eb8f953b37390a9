"""IAM's credential report: one CSV row per user (the account root first) of password,
MFA, access key and signing certificate state.

As in IAM, a report is kept for four hours: GenerateCredentialReport starts a new one only
when there is none younger, and GetCredentialReport serves the latest until it expires.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.iam.access_keys import (
    ROOT,
    Holder,
    created_date,
    flush_last_used,
    key_creation_times,
    last_used,
    long_term_keys,
)
from gureum.services.iam.common import now_epoch, to_datetime
from gureum.services.iam.login_profiles import account_password_policy, login_profile_row
from gureum.services.iam.mfa import mfa_active
from gureum.store import Database

REPORT_LIFETIME_SECONDS = 4 * 3600
NA = "N/A"
HEADER = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)


def _iso(when: datetime | float | None) -> str:
    if when is None:
        return NA
    if not isinstance(when, datetime):
        when = to_datetime(float(int(when)))
    return when.astimezone(timezone.utc).isoformat()


def _flag(value: bool) -> str:
    return "true" if value else "false"


class CredentialReportOperations:
    """GenerateCredentialReport and GetCredentialReport."""

    def generate_credential_report(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        now = now_epoch()
        with db.transaction():
            row = db.query_one("SELECT generated_at FROM iam_credential_reports WHERE account_id = ?", (ctx.account_id,))
            if row is not None and now - row["generated_at"] < REPORT_LIFETIME_SECONDS:
                return {"State": "COMPLETE"}
            content = self._report_csv(ctx.account_id)
            db.execute(
                "INSERT INTO iam_credential_reports (account_id, generated_at, content) VALUES (?, ?, ?)"
                " ON CONFLICT (account_id) DO UPDATE SET generated_at = excluded.generated_at,"
                " content = excluded.content",
                (ctx.account_id, now, content),
            )
        return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}

    def get_credential_report(self, ctx: RequestContext, request: dict) -> dict:
        row = self.env.db.query_one("SELECT * FROM iam_credential_reports WHERE account_id = ?", (ctx.account_id,))
        if row is None:
            raise ServiceError(
                "ReportNotPresent",
                "The credential report does not exist. To generate a credential report, use GenerateCredentialReport.",
                410,
            )
        if now_epoch() - row["generated_at"] >= REPORT_LIFETIME_SECONDS:
            raise ServiceError(
                "ReportExpired",
                "The most recent credential report has expired. To generate a new credential report,"
                " use GenerateCredentialReport.",
                410,
            )
        return {"Content": bytes(row["content"]), "ReportFormat": "text/csv",
                "GeneratedTime": to_datetime(row["generated_at"])}

    # --- the rows ------------------------------------------------------------------------

    def _report_csv(self, account_id: str) -> bytes:
        from gureum.services.iam.users import list_user_rows

        db = self.env.db
        flush_last_used(db)
        policy = account_password_policy(db, account_id)
        account = self.env.accounts.get(account_id)
        root = Holder(account_id, ROOT, f"arn:aws:iam::{account_id}:root", account_id)
        rows = [[
            "<root_account>", root.arn, _iso(account.created_at if account else None),
            "not_supported", "no_information", "not_supported", "not_supported",
            _flag(mfa_active(db, account_id, ROOT)), *self._key_columns(db, root),
        ]]
        for user in list_user_rows(db, account_id):
            holder = Holder(account_id, user["user_name"], user["arn"], user["user_id"])
            rows.append([
                user["user_name"], user["arn"], _iso(user["created_at"]),
                *_password_columns(db, account_id, user["user_name"], policy),
                _flag(mfa_active(db, account_id, user["user_name"])), *self._key_columns(db, holder),
            ])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([*row, "false", NA, "false", NA])  # no signing certificates
        return out.getvalue().rstrip("\n").encode("utf-8")

    def _key_columns(self, db: Database, holder: Holder) -> list[str]:
        created = key_creation_times(db, holder)
        columns: list[str] = []
        keys = long_term_keys(self.env.credentials, holder.arn)[:2]
        for p, status in keys:
            used = last_used(db, p.access_key_id)
            columns += [
                _flag(status == "Active"), _iso(created_date(p, created)),
                _iso(used[0]) if used else NA, used[2] if used else NA, used[1] if used else NA,
            ]
        for _ in range(2 - len(keys)):
            columns += ["false", NA, NA, NA, NA]
        return columns


def _password_columns(db: Database, account_id: str, user_name: str, policy: dict | None) -> list[str]:
    """password_enabled, password_last_used, password_last_changed, password_next_rotation."""
    profile = login_profile_row(db, account_id, user_name)
    if profile is None:
        return ["false", NA, NA, NA]
    used = _iso(profile["password_last_used"]) if profile["password_last_used"] else "no_information"
    changed = profile["password_changed_at"]
    max_age = (policy or {}).get("MaxPasswordAge") if (policy or {}).get("ExpirePasswords", True) else None
    rotation = _iso(to_datetime(changed) + timedelta(days=max_age)) if max_age else NA
    return ["true", used, _iso(changed), rotation]
