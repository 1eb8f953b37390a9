"""Reads for policy evaluation: a principal's policies, boundary and tags; roles by ARN.

Called on every authorized request, so each is a handful of indexed lookups.
"""

from __future__ import annotations

import sqlite3

from gureum.services.iam import managed_policies
from gureum.store import Database

_BY_KIND = {
    "user": ("iam_users", "user_name"),
    "role": ("iam_roles", "role_name"),
}


def _managed_document(db: Database, account_id: str, policy_arn: str) -> str | None:
    """The default version's document of a managed policy the account can use."""
    aws = managed_policies.get(policy_arn)
    if aws is not None:
        return aws.document()
    row = db.query_one(
        "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v"
        " ON v.policy_arn = p.arn AND v.version_id = p.default_version"
        " WHERE p.arn = ? AND p.account_id = ?",
        (policy_arn, account_id),
    )
    return row["document"] if row else None


def _entity_policies(db: Database, account_id: str, kind: str, name: str) -> list[tuple[str, str]]:
    out = [
        (f"inline:{kind}/{r['entity_name']}/{r['policy_name']}", r["document"])
        for r in db.query(
            "SELECT entity_name, policy_name, document FROM iam_inline_policies"
            " WHERE account_id = ? AND entity_kind = ? AND entity_name = ?",
            (account_id, kind, name),
        )
    ]
    for r in db.query(
        "SELECT policy_arn FROM iam_attachments WHERE account_id = ? AND entity_kind = ? AND entity_name = ?"
        " ORDER BY rowid",
        (account_id, kind, name),
    ):
        document = _managed_document(db, account_id, r["policy_arn"])
        if document is not None:
            out.append((r["policy_arn"], document))
    return out


def identity_policy_documents(db: Database, account_id: str, principal_kind: str, name: str) -> list[tuple[str, str]]:
    """(source, document JSON) of every identity policy of a user (with its groups') or role.

    Sources are the managed policy's ARN or "inline:<kind>/<entity>/<policy name>".
    """
    if principal_kind not in _BY_KIND:
        return []
    policies = _entity_policies(db, account_id, principal_kind, name)
    if principal_kind == "user":
        for g in db.query(
            "SELECT group_name FROM iam_group_members WHERE account_id = ? AND user_name = ?", (account_id, name)
        ):
            policies += _entity_policies(db, account_id, "group", g["group_name"])
    return policies


def permissions_boundary_document(
    db: Database, account_id: str, principal_kind: str, name: str
) -> tuple[str, str] | None:
    """(policy ARN, document) of the user's or role's permissions boundary, if it has one."""
    if principal_kind not in _BY_KIND:
        return None
    table, column = _BY_KIND[principal_kind]
    row = db.query_one(
        f"SELECT permissions_boundary FROM {table} WHERE account_id = ? AND {column} = ?", (account_id, name)
    )
    if row is None or not row["permissions_boundary"]:
        return None
    document = _managed_document(db, account_id, row["permissions_boundary"])
    return (row["permissions_boundary"], document) if document is not None else None


def role_by_arn(db: Database, role_arn: str) -> sqlite3.Row | None:
    """The role an ARN names (columns arn, role_id, role_name, account_id, assume_role_policy,
    max_session_duration, ...), or None."""
    return db.query_one("SELECT * FROM iam_roles WHERE arn = ?", (role_arn,))


def principal_tags(db: Database, account_id: str, principal_kind: str, name: str) -> dict[str, str]:
    """aws:PrincipalTag values: the user's or role's tags."""
    if principal_kind not in _BY_KIND:
        return {}
    rows = db.query(
        "SELECT tag_key, tag_value FROM iam_tags WHERE account_id = ? AND resource_kind = ? AND resource_name = ?"
        " ORDER BY seq",
        (account_id, principal_kind, name),
    )
    return {r["tag_key"]: r["tag_value"] for r in rows}
