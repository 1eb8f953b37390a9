"""IAM groups and their members."""

from __future__ import annotations

import sqlite3

from gureum.auth.credentials import new_unique_id
from gureum.context import RequestContext
from gureum.services.iam.common import (
    already_exists,
    arn,
    by_name,
    delete_conflict,
    limit_exceeded,
    name_order,
    no_such_entity,
    now_epoch,
    paginate,
    to_datetime,
)
from gureum.services.iam.users import require_user, user_shape
from gureum.store import Database

GROUPS_PER_USER = 10


def require_group(db: Database, account_id: str, group_name: str) -> sqlite3.Row:
    row = db.query_one("SELECT * FROM iam_groups WHERE account_id = ? AND group_name = ?", (account_id, group_name))
    if row is None:
        raise no_such_entity(f"The group with name {group_name} cannot be found.")
    return row


def group_shape(row: sqlite3.Row) -> dict:
    return {
        "Path": row["path"],
        "GroupName": row["group_name"],
        "GroupId": row["group_id"],
        "Arn": row["arn"],
        "CreateDate": to_datetime(row["created_at"]),
    }


def groups_of_user(db: Database, account_id: str, user_name: str) -> list[sqlite3.Row]:
    rows = db.query(
        "SELECT g.* FROM iam_group_members m JOIN iam_groups g"
        " ON g.account_id = m.account_id AND g.group_name = m.group_name"
        " WHERE m.account_id = ? AND m.user_name = ?",
        (account_id, user_name),
    )
    return sorted(rows, key=lambda r: name_order(r["group_name"]))


class GroupOperations:
    def create_group(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account, name = ctx.account_id, request["GroupName"]
        path = request.get("Path", "/")
        with db.transaction():
            if db.query_one("SELECT 1 FROM iam_groups WHERE account_id = ? AND group_name = ?", (account, name)):
                raise already_exists(f"Group with name {name} already exists.")
            db.execute(
                "INSERT INTO iam_groups (account_id, group_name, group_id, path, arn, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (account, name, new_unique_id("AGPA"), path, arn(account, "group", path, name), now_epoch()),
            )
            row = require_group(db, account, name)
        return {"Group": group_shape(row)}

    def get_group(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        group = require_group(db, ctx.account_id, request["GroupName"])
        members = db.query(
            "SELECT u.* FROM iam_group_members m JOIN iam_users u"
            " ON u.account_id = m.account_id AND u.user_name = m.user_name"
            " WHERE m.account_id = ? AND m.group_name = ?",
            (ctx.account_id, group["group_name"]),
        )
        users = [user_shape(db, r, detailed=False) for r in sorted(members, key=lambda r: name_order(r["user_name"]))]
        return {"Group": group_shape(group), **paginate(users, request, "Users", key=by_name("UserName"))}

    def list_groups(self, ctx: RequestContext, request: dict) -> dict:
        prefix = request.get("PathPrefix", "/")
        rows = self.env.db.query("SELECT * FROM iam_groups WHERE account_id = ?", (ctx.account_id,))
        groups = [group_shape(r) for r in rows if r["path"].startswith(prefix)]
        groups.sort(key=by_name("GroupName"))
        return paginate(groups, request, "Groups", key=by_name("GroupName"))

    def update_group(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            row = require_group(db, account, request["GroupName"])
            old = row["group_name"]
            new = request.get("NewGroupName", old)
            path = request.get("NewPath", row["path"])
            if new.lower() != old.lower() and db.query_one(
                "SELECT 1 FROM iam_groups WHERE account_id = ? AND group_name = ?", (account, new)
            ):
                raise already_exists(f"Group with name {new} already exists.")
            db.execute(
                "UPDATE iam_groups SET group_name = ?, path = ?, arn = ? WHERE account_id = ? AND group_name = ?",
                (new, path, arn(account, "group", path, new), account, old),
            )
            if new != old:
                db.execute(
                    "UPDATE iam_group_members SET group_name = ? WHERE account_id = ? AND group_name = ?",
                    (new, account, old),
                )
                self._rename_entity(account, "group", old, new)
        return {}

    def delete_group(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            name = require_group(db, account, request["GroupName"])["group_name"]
            if db.query_one("SELECT 1 FROM iam_group_members WHERE account_id = ? AND group_name = ?", (account, name)):
                raise delete_conflict("Cannot delete entity, must remove users from group first.")
            self._check_no_policies(account, "group", name)
            db.execute("DELETE FROM iam_groups WHERE account_id = ? AND group_name = ?", (account, name))
        return {}

    def add_user_to_group(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            group = require_group(db, account, request["GroupName"])["group_name"]
            user = require_user(db, account, request["UserName"])["user_name"]
            if db.query_one(
                "SELECT 1 FROM iam_group_members WHERE account_id = ? AND group_name = ? AND user_name = ?",
                (account, group, user),
            ):
                return {}
            if len(groups_of_user(db, account, user)) >= GROUPS_PER_USER:
                raise limit_exceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
            db.execute(
                "INSERT INTO iam_group_members (account_id, group_name, user_name, added_at) VALUES (?, ?, ?, ?)",
                (account, group, user, now_epoch()),
            )
        return {}

    def remove_user_from_group(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            group = require_group(db, account, request["GroupName"])["group_name"]
            user = require_user(db, account, request["UserName"])["user_name"]
            removed = db.execute(
                "DELETE FROM iam_group_members WHERE account_id = ? AND group_name = ? AND user_name = ?",
                (account, group, user),
            )
            if not removed:
                raise no_such_entity(f"The user with name {user} cannot be found.")
        return {}

    def list_groups_for_user(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        user = require_user(db, ctx.account_id, request["UserName"])["user_name"]
        groups = [group_shape(r) for r in groups_of_user(db, ctx.account_id, user)]
        return paginate(groups, request, "Groups", key=by_name("GroupName"))
