"""IAM users: create, read, list, rename, delete, permissions boundaries."""

from __future__ import annotations

import sqlite3

from gureum.auth.credentials import new_unique_id
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.iam import tags
from gureum.services.iam.common import (
    already_exists,
    arn,
    by_name,
    delete_conflict,
    name_order,
    no_such_entity,
    now_epoch,
    paginate,
    to_datetime,
)
from gureum.store import Database


def require_user(db: Database, account_id: str, user_name: str) -> sqlite3.Row:
    """The user's row (user_name, user_id, path, arn, created_at, ...); NoSuchEntity if none."""
    row = db.query_one("SELECT * FROM iam_users WHERE account_id = ? AND user_name = ?", (account_id, user_name))
    if row is None:
        raise no_such_entity(f"The user with name {user_name} cannot be found.")
    return row


def list_user_rows(db: Database, account_id: str) -> list[sqlite3.Row]:
    """Every user of an account, ordered by name (the credential report's rows)."""
    rows = db.query("SELECT * FROM iam_users WHERE account_id = ?", (account_id,))
    return sorted(rows, key=lambda r: name_order(r["user_name"]))


def user_shape(db: Database, row: sqlite3.Row, *, detailed: bool) -> dict:
    """The User output shape; Get* answers carry the boundary and tags, List* do not."""
    out = {
        "Path": row["path"],
        "UserName": row["user_name"],
        "UserId": row["user_id"],
        "Arn": row["arn"],
        "CreateDate": to_datetime(row["created_at"]),
    }
    if detailed:
        last_login = _password_last_used(db, row["account_id"], row["user_name"])
        if last_login is not None:
            out["PasswordLastUsed"] = to_datetime(last_login)
        if row["permissions_boundary"]:
            out["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": row["permissions_boundary"],
            }
        user_tags = tags.tag_list(db, row["account_id"], "user", row["user_name"])
        if user_tags:
            out["Tags"] = user_tags
    return out


def _password_last_used(db: Database, account_id: str, user_name: str) -> float | None:
    """When the user last signed in with a password (kept with the login profiles)."""
    try:
        row = db.query_one(
            "SELECT password_last_used FROM iam_login_profiles WHERE account_id = ? AND user_name = ?",
            (account_id, user_name),
        )
    except sqlite3.OperationalError:
        return None
    return row["password_last_used"] if row else None


class UserOperations:
    """CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser and user boundaries."""

    def create_user(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        name = request["UserName"]
        path = request.get("Path", "/")
        boundary = request.get("PermissionsBoundary")
        with db.transaction():
            if db.query_one("SELECT 1 FROM iam_users WHERE account_id = ? AND user_name = ?", (account, name)):
                raise already_exists(f"User with name {name} already exists.")
            if boundary:
                self._require_boundary_policy(account, boundary)
            db.execute(
                "INSERT INTO iam_users (account_id, user_name, user_id, path, arn, created_at, permissions_boundary)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (account, name, new_unique_id("AIDA"), path, arn(account, "user", path, name), now_epoch(), boundary),
            )
            if request.get("Tags"):
                tags.add_tags(db, account, "user", name, request["Tags"])
            row = require_user(db, account, name)
        return {"User": user_shape(db, row, detailed=True)}

    def get_user(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        name = request.get("UserName")
        if name is None:
            caller = ctx.principal
            if caller.is_root:
                account = self.env.accounts.get(caller.account_id)
                return {"User": {
                    "UserId": caller.account_id,
                    "Arn": f"arn:aws:iam::{caller.account_id}:root",
                    "CreateDate": to_datetime(float(int(account.created_at)) if account else now_epoch()),
                }}
            if caller.kind != "user":
                raise ServiceError(
                    "ValidationError", "Must specify userName when calling with non-User credentials", 400
                )
            name = caller.name
        return {"User": user_shape(db, require_user(db, ctx.account_id, name), detailed=True)}

    def list_users(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        prefix = request.get("PathPrefix", "/")
        users = [
            user_shape(db, r, detailed=False)
            for r in list_user_rows(db, ctx.account_id)
            if r["path"].startswith(prefix)
        ]
        return paginate(users, request, "Users", key=by_name("UserName"))

    def update_user(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        name = request["UserName"]
        with db.transaction():
            row = require_user(db, account, name)
            old_name = row["user_name"]
            new_name = request.get("NewUserName", old_name)
            new_path = request.get("NewPath", row["path"])
            if new_name.lower() != old_name.lower() and db.query_one(
                "SELECT 1 FROM iam_users WHERE account_id = ? AND user_name = ?", (account, new_name)
            ):
                raise already_exists(f"User with name {new_name} already exists.")
            new_arn = arn(account, "user", new_path, new_name)
            db.execute(
                "UPDATE iam_users SET user_name = ?, path = ?, arn = ? WHERE account_id = ? AND user_name = ?",
                (new_name, new_path, new_arn, account, old_name),
            )
            if new_name != old_name:
                self._rename_entity(account, "user", old_name, new_name)
                from gureum.services.iam.access_keys import rename_user_credentials

                rename_user_credentials(db, account, old_name, new_name)
            if new_arn != row["arn"]:
                self.env.credentials.update_principal(row["arn"], arn=new_arn, name=new_name)
        return {}

    def delete_user(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            row = require_user(db, account, request["UserName"])
            name = row["user_name"]
            from gureum.services.iam.access_keys import user_credentials_in_use

            blocking = user_credentials_in_use(db, self.env.credentials, account, name)
            if blocking:
                raise delete_conflict(f"Cannot delete entity, must delete {blocking[0]} first.")
            if db.query_one("SELECT 1 FROM iam_group_members WHERE account_id = ? AND user_name = ?", (account, name)):
                raise delete_conflict("Cannot delete entity, must remove users from group first.")
            self._check_no_policies(account, "user", name)
            tags.drop_all(db, account, "user", name)
            db.execute("DELETE FROM iam_users WHERE account_id = ? AND user_name = ?", (account, name))
        return {}

    def put_user_permissions_boundary(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            row = require_user(db, ctx.account_id, request["UserName"])
            self._require_boundary_policy(ctx.account_id, request["PermissionsBoundary"])
            db.execute(
                "UPDATE iam_users SET permissions_boundary = ? WHERE account_id = ? AND user_name = ?",
                (request["PermissionsBoundary"], ctx.account_id, row["user_name"]),
            )
        return {}

    def delete_user_permissions_boundary(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            row = require_user(db, ctx.account_id, request["UserName"])
            db.execute(
                "UPDATE iam_users SET permissions_boundary = NULL WHERE account_id = ? AND user_name = ?",
                (ctx.account_id, row["user_name"]),
            )
        return {}
