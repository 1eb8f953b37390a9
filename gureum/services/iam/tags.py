"""Tags of IAM users, roles, managed policies and instance profiles.

IAM tag keys are case-insensitive (a later tag with the same key in another case replaces
the earlier one and keeps the new case); a resource has at most 50 tags.
"""

from __future__ import annotations

from gureum.services.iam.common import invalid_input, limit_exceeded, paginate
from gureum.store import Database

MAX_TAGS = 50


def check_unique_keys(tags: list[dict]) -> None:
    seen = set()
    for tag in tags:
        key = tag["Key"].lower()
        if key in seen:
            raise invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        seen.add(key)


def tag_list(db: Database, account_id: str, kind: str, name: str) -> list[dict]:
    rows = db.query(
        "SELECT tag_key, tag_value FROM iam_tags WHERE account_id = ? AND resource_kind = ? AND resource_name = ?"
        " ORDER BY seq",
        (account_id, kind, name),
    )
    return [{"Key": r["tag_key"], "Value": r["tag_value"]} for r in rows]


def tag_map(db: Database, account_id: str, kind: str, name: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list(db, account_id, kind, name)}


def add_tags(db: Database, account_id: str, kind: str, name: str, tags: list[dict]) -> None:
    """Add or replace tags (inside the caller's transaction)."""
    check_unique_keys(tags)
    existing = {t["Key"].lower() for t in tag_list(db, account_id, kind, name)}
    if len(existing | {t["Key"].lower() for t in tags}) > MAX_TAGS:
        raise limit_exceeded("The number of tags has reached the maximum limit.")
    row = db.query_one(
        "SELECT COALESCE(MAX(seq), 0) AS seq FROM iam_tags WHERE account_id = ? AND resource_kind = ?"
        " AND resource_name = ?",
        (account_id, kind, name),
    )
    seq = row["seq"]
    for tag in tags:
        seq += 1
        db.execute(
            "DELETE FROM iam_tags WHERE account_id = ? AND resource_kind = ? AND resource_name = ? AND tag_key = ?",
            (account_id, kind, name, tag["Key"]),
        )
        db.execute(
            "INSERT INTO iam_tags (account_id, resource_kind, resource_name, tag_key, tag_value, seq)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (account_id, kind, name, tag["Key"], tag["Value"], seq),
        )


def remove_tags(db: Database, account_id: str, kind: str, name: str, keys: list[str]) -> None:
    for key in keys:
        db.execute(
            "DELETE FROM iam_tags WHERE account_id = ? AND resource_kind = ? AND resource_name = ? AND tag_key = ?",
            (account_id, kind, name, key),
        )


def drop_all(db: Database, account_id: str, kind: str, name: str) -> None:
    db.execute(
        "DELETE FROM iam_tags WHERE account_id = ? AND resource_kind = ? AND resource_name = ?",
        (account_id, kind, name),
    )


def rename(db: Database, account_id: str, kind: str, old: str, new: str) -> None:
    db.execute(
        "UPDATE iam_tags SET resource_name = ? WHERE account_id = ? AND resource_kind = ? AND resource_name = ?",
        (new, account_id, kind, old),
    )


def list_page(db: Database, account_id: str, kind: str, name: str, request: dict) -> dict:
    tags = tag_list(db, account_id, kind, name)
    order = {t["Key"]: i for i, t in enumerate(tags)}
    return paginate(tags, request, "Tags", key=lambda t: (order[t["Key"]],))


class TagOperations:
    """Tag/Untag/List*Tags for the entity kinds whose existence `self._tag_target` checks."""

    def _tag_target(self, ctx, kind: str, request: dict) -> str:
        raise NotImplementedError

    def _tag(self, ctx, kind: str, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            name = self._tag_target(ctx, kind, request)
            add_tags(db, ctx.account_id, kind, name, request["Tags"])
        return {}

    def _untag(self, ctx, kind: str, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            name = self._tag_target(ctx, kind, request)
            remove_tags(db, ctx.account_id, kind, name, request["TagKeys"])
        return {}

    def _list_tags(self, ctx, kind: str, request: dict) -> dict:
        name = self._tag_target(ctx, kind, request)
        return list_page(self.env.db, ctx.account_id, kind, name, request)

    def tag_user(self, ctx, request: dict) -> dict:
        return self._tag(ctx, "user", request)

    def untag_user(self, ctx, request: dict) -> dict:
        return self._untag(ctx, "user", request)

    def list_user_tags(self, ctx, request: dict) -> dict:
        return self._list_tags(ctx, "user", request)

    def tag_role(self, ctx, request: dict) -> dict:
        return self._tag(ctx, "role", request)

    def untag_role(self, ctx, request: dict) -> dict:
        return self._untag(ctx, "role", request)

    def list_role_tags(self, ctx, request: dict) -> dict:
        return self._list_tags(ctx, "role", request)

    def tag_policy(self, ctx, request: dict) -> dict:
        return self._tag(ctx, "policy", request)

    def untag_policy(self, ctx, request: dict) -> dict:
        return self._untag(ctx, "policy", request)

    def list_policy_tags(self, ctx, request: dict) -> dict:
        return self._list_tags(ctx, "policy", request)

    def tag_instance_profile(self, ctx, request: dict) -> dict:
        return self._tag(ctx, "instance-profile", request)

    def untag_instance_profile(self, ctx, request: dict) -> dict:
        return self._untag(ctx, "instance-profile", request)

    def list_instance_profile_tags(self, ctx, request: dict) -> dict:
        return self._list_tags(ctx, "instance-profile", request)
