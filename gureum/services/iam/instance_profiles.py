"""Instance profiles: the container that hands one role to EC2 instances."""

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
    limit_exceeded,
    name_order,
    no_such_entity,
    now_epoch,
    paginate,
    to_datetime,
)
from gureum.services.iam.roles import require_role, role_shape
from gureum.store import Database


def require_instance_profile(db: Database, account_id: str, name: str) -> sqlite3.Row:
    row = db.query_one(
        "SELECT * FROM iam_instance_profiles WHERE account_id = ? AND profile_name = ?", (account_id, name)
    )
    if row is None:
        raise no_such_entity(f"Instance Profile {name} cannot be found.")
    return row


def instance_profile_shape(db: Database, row: sqlite3.Row, *, with_tags: bool = True) -> dict:
    roles = db.query(
        "SELECT r.* FROM iam_instance_profile_roles p JOIN iam_roles r"
        " ON r.account_id = p.account_id AND r.role_name = p.role_name"
        " WHERE p.account_id = ? AND p.profile_name = ?",
        (row["account_id"], row["profile_name"]),
    )
    out = {
        "Path": row["path"],
        "InstanceProfileName": row["profile_name"],
        "InstanceProfileId": row["profile_id"],
        "Arn": row["arn"],
        "CreateDate": to_datetime(row["created_at"]),
        "Roles": [role_shape(db, r, detailed=False) for r in roles],
    }
    if with_tags:
        profile_tags = tags.tag_list(db, row["account_id"], "instance-profile", row["profile_name"])
        if profile_tags:
            out["Tags"] = profile_tags
    return out


def profiles_of_role(db: Database, account_id: str, role_name: str) -> list[sqlite3.Row]:
    rows = db.query(
        "SELECT i.* FROM iam_instance_profile_roles p JOIN iam_instance_profiles i"
        " ON i.account_id = p.account_id AND i.profile_name = p.profile_name"
        " WHERE p.account_id = ? AND p.role_name = ?",
        (account_id, role_name),
    )
    return sorted(rows, key=lambda r: name_order(r["profile_name"]))


class InstanceProfileOperations:
    def create_instance_profile(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account, name = ctx.account_id, request["InstanceProfileName"]
        path = request.get("Path", "/")
        with db.transaction():
            if db.query_one(
                "SELECT 1 FROM iam_instance_profiles WHERE account_id = ? AND profile_name = ?", (account, name)
            ):
                raise already_exists(f"Instance Profile {name} already exists.")
            db.execute(
                "INSERT INTO iam_instance_profiles (account_id, profile_name, profile_id, path, arn, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (account, name, new_unique_id("AIPA"), path, arn(account, "instance-profile", path, name), now_epoch()),
            )
            if request.get("Tags"):
                tags.add_tags(db, account, "instance-profile", name, request["Tags"])
            row = require_instance_profile(db, account, name)
        return {"InstanceProfile": instance_profile_shape(db, row)}

    def get_instance_profile(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        row = require_instance_profile(db, ctx.account_id, request["InstanceProfileName"])
        return {"InstanceProfile": instance_profile_shape(db, row)}

    def list_instance_profiles(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        prefix = request.get("PathPrefix", "/")
        rows = db.query("SELECT * FROM iam_instance_profiles WHERE account_id = ?", (ctx.account_id,))
        profiles = [
            instance_profile_shape(db, r, with_tags=False)
            for r in sorted(rows, key=lambda r: name_order(r["profile_name"]))
            if r["path"].startswith(prefix)
        ]
        return paginate(profiles, request, "InstanceProfiles", key=by_name("InstanceProfileName"))

    def delete_instance_profile(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            name = require_instance_profile(db, account, request["InstanceProfileName"])["profile_name"]
            if db.query_one(
                "SELECT 1 FROM iam_instance_profile_roles WHERE account_id = ? AND profile_name = ?", (account, name)
            ):
                raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
            tags.drop_all(db, account, "instance-profile", name)
            db.execute("DELETE FROM iam_instance_profiles WHERE account_id = ? AND profile_name = ?", (account, name))
        return {}

    def add_role_to_instance_profile(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            profile = require_instance_profile(db, account, request["InstanceProfileName"])["profile_name"]
            role = require_role(db, account, request["RoleName"])["role_name"]
            if db.query_one(
                "SELECT 1 FROM iam_instance_profile_roles WHERE account_id = ? AND profile_name = ?", (account, profile)
            ):
                raise limit_exceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
            db.execute(
                "INSERT INTO iam_instance_profile_roles (account_id, profile_name, role_name) VALUES (?, ?, ?)",
                (account, profile, role),
            )
        return {}

    def remove_role_from_instance_profile(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            profile = require_instance_profile(db, account, request["InstanceProfileName"])["profile_name"]
            role = require_role(db, account, request["RoleName"])["role_name"]
            removed = db.execute(
                "DELETE FROM iam_instance_profile_roles WHERE account_id = ? AND profile_name = ? AND role_name = ?",
                (account, profile, role),
            )
            if not removed:
                raise no_such_entity(f"The role with name {role} cannot be found.")
        return {}

    def list_instance_profiles_for_role(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        role = require_role(db, ctx.account_id, request["RoleName"])["role_name"]
        profiles = [instance_profile_shape(db, r, with_tags=False) for r in profiles_of_role(db, ctx.account_id, role)]
        return paginate(profiles, request, "InstanceProfiles", key=by_name("InstanceProfileName"))
