"""IAM roles: trust policies, session duration, descriptions, boundaries, last use."""

from __future__ import annotations

import sqlite3

from gureum.auth.credentials import new_unique_id
from gureum.context import RequestContext
from gureum.services.iam import tags
from gureum.services.iam.common import (
    already_exists,
    arn,
    by_name,
    delete_conflict,
    document_size,
    limit_exceeded,
    no_such_entity,
    now_epoch,
    paginate,
    parse_document,
    to_datetime,
)
from gureum.store import Database

TRUST_POLICY_SIZE = 2048


def require_role(db: Database, account_id: str, role_name: str) -> sqlite3.Row:
    row = db.query_one("SELECT * FROM iam_roles WHERE account_id = ? AND role_name = ?", (account_id, role_name))
    if row is None:
        raise no_such_entity(f"The role with name {role_name} cannot be found.")
    return row


def role_shape(db: Database, row: sqlite3.Row, *, detailed: bool) -> dict:
    """The Role shape; GetRole adds the boundary, tags and RoleLastUsed, ListRoles does not."""
    out = {
        "Path": row["path"],
        "RoleName": row["role_name"],
        "RoleId": row["role_id"],
        "Arn": row["arn"],
        "CreateDate": to_datetime(row["created_at"]),
        "AssumeRolePolicyDocument": row["assume_role_policy"],
        "MaxSessionDuration": row["max_session_duration"],
    }
    if row["description"] is not None:
        out["Description"] = row["description"]
    if detailed:
        if row["permissions_boundary"]:
            out["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": row["permissions_boundary"],
            }
        role_tags = tags.tag_list(db, row["account_id"], "role", row["role_name"])
        if role_tags:
            out["Tags"] = role_tags
        out["RoleLastUsed"] = role_last_used(row)
    return out


def role_last_used(row: sqlite3.Row) -> dict:
    if row["last_used_at"] is None:
        return {}
    return {"LastUsedDate": to_datetime(row["last_used_at"]), "Region": row["last_used_region"]}


def check_trust_policy(text: str) -> None:
    parse_document(text, "trust")
    if document_size(text) > TRUST_POLICY_SIZE:
        raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}")


def note_role_used(db: Database, role_arn: str, region: str) -> None:
    """Record a role's last use (STS issues a session, or a session makes a request)."""
    db.execute(
        "UPDATE iam_roles SET last_used_at = ?, last_used_region = ? WHERE arn = ?",
        (now_epoch(), region, role_arn),
    )


class RoleOperations:
    def create_role(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account, name = ctx.account_id, request["RoleName"]
        path = request.get("Path", "/")
        trust = request["AssumeRolePolicyDocument"]
        boundary = request.get("PermissionsBoundary")
        with db.transaction():
            if db.query_one("SELECT 1 FROM iam_roles WHERE account_id = ? AND role_name = ?", (account, name)):
                raise already_exists(f"Role with name {name} already exists.")
            check_trust_policy(trust)
            if boundary:
                self._require_boundary_policy(account, boundary)
            db.execute(
                "INSERT INTO iam_roles (account_id, role_name, role_id, path, arn, created_at, assume_role_policy,"
                " description, max_session_duration, permissions_boundary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    account, name, new_unique_id("AROA"), path, arn(account, "role", path, name), now_epoch(),
                    trust, request.get("Description"), request.get("MaxSessionDuration", 3600), boundary,
                ),
            )
            if request.get("Tags"):
                tags.add_tags(db, account, "role", name, request["Tags"])
            row = require_role(db, account, name)
        out = role_shape(db, row, detailed=True)
        out.pop("RoleLastUsed")
        return {"Role": out}

    def get_role(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        return {"Role": role_shape(db, require_role(db, ctx.account_id, request["RoleName"]), detailed=True)}

    def list_roles(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        prefix = request.get("PathPrefix", "/")
        rows = db.query("SELECT * FROM iam_roles WHERE account_id = ?", (ctx.account_id,))
        roles = [role_shape(db, r, detailed=False) for r in rows if r["path"].startswith(prefix)]
        roles.sort(key=by_name("RoleName"))
        return paginate(roles, request, "Roles", key=by_name("RoleName"))

    def update_role(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            row = require_role(db, ctx.account_id, request["RoleName"])
            description = request.get("Description", row["description"])
            duration = request.get("MaxSessionDuration", row["max_session_duration"])
            db.execute(
                "UPDATE iam_roles SET description = ?, max_session_duration = ? WHERE account_id = ? AND role_name = ?",
                (description, duration, ctx.account_id, row["role_name"]),
            )
        return {}

    def update_role_description(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            row = require_role(db, ctx.account_id, request["RoleName"])
            db.execute(
                "UPDATE iam_roles SET description = ? WHERE account_id = ? AND role_name = ?",
                (request["Description"], ctx.account_id, row["role_name"]),
            )
            row = require_role(db, ctx.account_id, row["role_name"])
        return {"Role": role_shape(db, row, detailed=True)}

    def update_assume_role_policy(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            row = require_role(db, ctx.account_id, request["RoleName"])
            check_trust_policy(request["PolicyDocument"])
            db.execute(
                "UPDATE iam_roles SET assume_role_policy = ? WHERE account_id = ? AND role_name = ?",
                (request["PolicyDocument"], ctx.account_id, row["role_name"]),
            )
        return {}

    def delete_role(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            name = require_role(db, account, request["RoleName"])["role_name"]
            if db.query_one(
                "SELECT 1 FROM iam_instance_profile_roles WHERE account_id = ? AND role_name = ?", (account, name)
            ):
                raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
            self._check_no_policies(account, "role", name)
            tags.drop_all(db, account, "role", name)
            db.execute("DELETE FROM iam_roles WHERE account_id = ? AND role_name = ?", (account, name))
        return {}

    def put_role_permissions_boundary(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            row = require_role(db, ctx.account_id, request["RoleName"])
            self._require_boundary_policy(ctx.account_id, request["PermissionsBoundary"])
            db.execute(
                "UPDATE iam_roles SET permissions_boundary = ? WHERE account_id = ? AND role_name = ?",
                (request["PermissionsBoundary"], ctx.account_id, row["role_name"]),
            )
        return {}

    def delete_role_permissions_boundary(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            row = require_role(db, ctx.account_id, request["RoleName"])
            db.execute(
                "UPDATE iam_roles SET permissions_boundary = NULL WHERE account_id = ? AND role_name = ?",
                (ctx.account_id, row["role_name"]),
            )
        return {}
