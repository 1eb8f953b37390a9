"""Managed policies (customer and AWS), their versions and attachments; inline policies."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from gureum.auth.credentials import new_unique_id
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.iam import managed_policies, tags
from gureum.services.iam.common import (
    already_exists,
    delete_conflict,
    document_size,
    invalid_input,
    limit_exceeded,
    name_order,
    no_such_entity,
    now_epoch,
    paginate,
    parse_document,
    to_datetime,
)
from gureum.services.iam.groups import require_group
from gureum.services.iam.roles import require_role
from gureum.services.iam.users import require_user
from gureum.store import Database

MAX_VERSIONS = 5
MANAGED_POLICY_SIZE = 6144
ATTACHED_PER_ENTITY = 10
# Aggregate size of an entity's inline policies (IAM's UserPolicySizeQuota etc.).
INLINE_SIZE = {"user": 2048, "group": 5120, "role": 10240}
_POLICY_ARN = re.compile(r"^arn:aws[\w-]*:iam::(aws|\d{12}):policy/(?:[\x21-\x7e]*/)?[\w+=,.@-]+$")
_ENTITY_COLUMN = {"user": "UserName", "group": "GroupName", "role": "RoleName"}
_QUOTA_NAME = {"user": "PoliciesPerUser", "group": "PoliciesPerGroup", "role": "PoliciesPerRole"}


@dataclass(frozen=True)
class ManagedPolicy:
    """A customer managed policy of an account or an AWS managed policy, alike."""

    name: str
    policy_id: str
    path: str
    arn: str
    default_version: str
    description: str | None
    created: datetime
    updated: datetime
    aws_managed: bool


def require_entity(db: Database, account_id: str, kind: str, name: str) -> str:
    """The entity's stored name (its case); NoSuchEntity when it does not exist."""
    if kind == "user":
        return require_user(db, account_id, name)["user_name"]
    if kind == "group":
        return require_group(db, account_id, name)["group_name"]
    return require_role(db, account_id, name)["role_name"]


def check_policy_arn(policy_arn: str) -> None:
    if not _POLICY_ARN.match(policy_arn):
        raise invalid_input(f"ARN {policy_arn} is not valid.")


def find_policy(db: Database, account_id: str, policy_arn: str) -> ManagedPolicy | None:
    """A managed policy this account can see: its own or an AWS managed one."""
    aws = managed_policies.get(policy_arn)
    if aws is not None:
        return ManagedPolicy(
            aws.name, aws.policy_id, aws.path, aws.arn, aws.default_version, aws.description,
            aws.created, aws.updated, True,
        )
    row = db.query_one("SELECT * FROM iam_policies WHERE arn = ? AND account_id = ?", (policy_arn, account_id))
    if row is None:
        return None
    return _customer_policy(row)


def _customer_policy(row: sqlite3.Row) -> ManagedPolicy:
    return ManagedPolicy(
        row["policy_name"], row["policy_id"], row["path"], row["arn"], row["default_version"],
        row["description"], to_datetime(row["created_at"]), to_datetime(row["updated_at"]), False,
    )


def policy_document(db: Database, policy: ManagedPolicy, version_id: str | None = None) -> str | None:
    version_id = version_id or policy.default_version
    if policy.aws_managed:
        return policy_document_of_aws(policy) if version_id == policy.default_version else None
    row = db.query_one(
        "SELECT document FROM iam_policy_versions WHERE policy_arn = ? AND version_id = ?", (policy.arn, version_id)
    )
    return row["document"] if row else None


def policy_document_of_aws(policy: ManagedPolicy) -> str:
    return managed_policies.document(policy.name)


def attachment_count(db: Database, account_id: str, policy_arn: str) -> int:
    row = db.query_one(
        "SELECT COUNT(*) AS n FROM iam_attachments WHERE account_id = ? AND policy_arn = ?", (account_id, policy_arn)
    )
    return row["n"]


def boundary_usage_count(db: Database, account_id: str, policy_arn: str) -> int:
    row = db.query_one(
        "SELECT (SELECT COUNT(*) FROM iam_users WHERE account_id = ? AND permissions_boundary = ?)"
        " + (SELECT COUNT(*) FROM iam_roles WHERE account_id = ? AND permissions_boundary = ?) AS n",
        (account_id, policy_arn, account_id, policy_arn),
    )
    return row["n"]


def policy_shape(db: Database, account_id: str, policy: ManagedPolicy, *, detailed: bool) -> dict:
    out = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version,
        "AttachmentCount": attachment_count(db, account_id, policy.arn),
        "PermissionsBoundaryUsageCount": boundary_usage_count(db, account_id, policy.arn),
        "IsAttachable": True,
        "CreateDate": policy.created,
        "UpdateDate": policy.updated,
    }
    if detailed:
        if policy.description:
            out["Description"] = policy.description
        if not policy.aws_managed:
            policy_tags = tags.tag_list(db, account_id, "policy", policy.arn)
            if policy_tags:
                out["Tags"] = policy_tags
    return out


def version_rows(db: Database, policy_arn: str) -> list[sqlite3.Row]:
    """A customer policy's versions, newest first (as ListPolicyVersions lists them)."""
    rows = db.query("SELECT * FROM iam_policy_versions WHERE policy_arn = ?", (policy_arn,))
    return sorted(rows, key=lambda r: _version_number(r["version_id"]), reverse=True)


def _version_number(version_id: str) -> int:
    return int(re.match(r"v(\d+)", version_id).group(1))


def all_versions(db: Database, policy: ManagedPolicy, *, with_documents: bool) -> list[dict]:
    if policy.aws_managed:
        versions = [{"VersionId": policy.default_version, "IsDefaultVersion": True, "CreateDate": policy.updated}]
        if with_documents:
            versions[0]["Document"] = policy_document_of_aws(policy)
        return versions
    out = []
    for r in version_rows(db, policy.arn):
        v = {
            "VersionId": r["version_id"],
            "IsDefaultVersion": r["version_id"] == policy.default_version,
            "CreateDate": to_datetime(r["created_at"]),
        }
        if with_documents:
            v["Document"] = r["document"]
        out.append(v)
    return out


def attached_policies(db: Database, account_id: str, kind: str, name: str) -> list[sqlite3.Row]:
    return db.query(
        "SELECT rowid AS seq, policy_arn FROM iam_attachments WHERE account_id = ? AND entity_kind = ?"
        " AND entity_name = ? ORDER BY rowid",
        (account_id, kind, name),
    )


def inline_policies(db: Database, account_id: str, kind: str, name: str) -> list[sqlite3.Row]:
    rows = db.query(
        "SELECT policy_name, document FROM iam_inline_policies WHERE account_id = ? AND entity_kind = ?"
        " AND entity_name = ?",
        (account_id, kind, name),
    )
    return sorted(rows, key=lambda r: name_order(r["policy_name"]))


def policy_name_of_arn(policy_arn: str) -> str:
    return policy_arn.rsplit("/", 1)[1]


class PolicyOperations:
    """Managed policies, versions, attachments and inline policies."""

    # --- shared with the entity mixins ---------------------------------------------------

    def _require_policy(self, account_id: str, policy_arn: str) -> ManagedPolicy:
        check_policy_arn(policy_arn)
        policy = find_policy(self.env.db, account_id, policy_arn)
        if policy is None:
            raise no_such_entity(f"Policy {policy_arn} was not found.")
        return policy

    def _require_attachable(self, account_id: str, policy_arn: str) -> ManagedPolicy:
        check_policy_arn(policy_arn)
        policy = find_policy(self.env.db, account_id, policy_arn)
        if policy is None:
            raise no_such_entity(f"Policy {policy_arn} does not exist or is not attachable.")
        return policy

    def _require_boundary_policy(self, account_id: str, policy_arn: str) -> ManagedPolicy:
        return self._require_attachable(account_id, policy_arn)

    def _require_own_policy(self, ctx: RequestContext, policy_arn: str, action: str) -> ManagedPolicy:
        """A customer managed policy that the caller's account may change."""
        policy = self._require_policy(ctx.account_id, policy_arn)
        if policy.aws_managed:
            raise ServiceError(
                "AccessDenied",
                f"User: {ctx.principal.arn} is not authorized to perform: iam:{action} on resource: policy {policy_arn}",
                403,
            )
        return policy

    def _check_no_policies(self, account_id: str, kind: str, name: str) -> None:
        db = self.env.db
        if attached_policies(db, account_id, kind, name):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if inline_policies(db, account_id, kind, name):
            raise delete_conflict("Cannot delete entity, must delete policies first.")

    def _rename_entity(self, account_id: str, kind: str, old: str, new: str) -> None:
        db = self.env.db
        for table in ("iam_attachments", "iam_inline_policies"):
            db.execute(
                f"UPDATE {table} SET entity_name = ? WHERE account_id = ? AND entity_kind = ? AND entity_name = ?",
                (new, account_id, kind, old),
            )
        if kind == "user":
            db.execute(
                "UPDATE iam_group_members SET user_name = ? WHERE account_id = ? AND user_name = ?",
                (new, account_id, old),
            )
        tags.rename(db, account_id, kind, old, new)

    # --- customer managed policies -------------------------------------------------------

    def create_policy(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account, name = ctx.account_id, request["PolicyName"]
        path = request.get("Path", "/")
        document = request["PolicyDocument"]
        with db.transaction():
            if db.query_one("SELECT 1 FROM iam_policies WHERE account_id = ? AND policy_name = ?", (account, name)):
                raise already_exists(f"A policy called {name} already exists. Duplicate names are not allowed.")
            _check_managed_document(document)
            policy_arn = f"arn:aws:iam::{account}:policy{path}{name}"
            created = now_epoch()
            db.execute(
                "INSERT INTO iam_policies (account_id, policy_name, policy_id, path, arn, description, created_at,"
                " updated_at, default_version, next_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'v1', 2)",
                (account, name, new_unique_id("ANPA"), path, policy_arn, request.get("Description"), created, created),
            )
            db.execute(
                "INSERT INTO iam_policy_versions (policy_arn, version_id, document, created_at) VALUES (?, 'v1', ?, ?)",
                (policy_arn, document, created),
            )
            if request.get("Tags"):
                tags.add_tags(db, account, "policy", policy_arn, request["Tags"])
            policy = find_policy(db, account, policy_arn)
        out = policy_shape(db, account, policy, detailed=True)
        out.pop("Description", None)  # CreatePolicy answers without it, as IAM does
        return {"Policy": out}

    def get_policy(self, ctx: RequestContext, request: dict) -> dict:
        policy = self._require_policy(ctx.account_id, request["PolicyArn"])
        return {"Policy": policy_shape(self.env.db, ctx.account_id, policy, detailed=True)}

    def list_policies(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        scope = request.get("Scope", "All")
        prefix = request.get("PathPrefix", "/")
        only_attached = request.get("OnlyAttached", False)
        usage = request.get("PolicyUsageFilter")
        candidates: list[ManagedPolicy] = []
        if scope in ("All", "AWS"):
            candidates += [find_policy(db, account, a) for a in managed_policies.catalogue()]
        if scope in ("All", "Local"):
            rows = db.query("SELECT * FROM iam_policies WHERE account_id = ?", (account,))
            candidates += [_customer_policy(r) for r in rows]
        out = []
        for policy in candidates:
            if not policy.path.startswith(prefix):
                continue
            shape = policy_shape(db, account, policy, detailed=False)
            attached = shape["AttachmentCount"] > 0
            as_boundary = shape["PermissionsBoundaryUsageCount"] > 0
            if only_attached:
                used = {"PermissionsPolicy": attached, "PermissionsBoundary": as_boundary}.get(usage, attached or as_boundary)
                if not used:
                    continue
            elif usage == "PermissionsBoundary" and not as_boundary:
                continue
            out.append(shape)
        out.sort(key=lambda p: (*name_order(p["PolicyName"]), p["Arn"]))
        return paginate(out, request, "Policies", key=lambda p: (*name_order(p["PolicyName"]), p["Arn"]))

    def delete_policy(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            policy = self._require_own_policy(ctx, request["PolicyArn"], "DeletePolicy")
            if attachment_count(db, account, policy.arn) or boundary_usage_count(db, account, policy.arn):
                raise delete_conflict("Cannot delete a policy attached to entities.")
            if len(version_rows(db, policy.arn)) > 1:
                raise delete_conflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the"
                    " policy's versions. The default version is deleted with the policy."
                )
            db.execute("DELETE FROM iam_policy_versions WHERE policy_arn = ?", (policy.arn,))
            db.execute("DELETE FROM iam_policies WHERE arn = ?", (policy.arn,))
            tags.drop_all(db, account, "policy", policy.arn)
        return {}

    # --- versions ------------------------------------------------------------------------

    def create_policy_version(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        document = request["PolicyDocument"]
        with db.transaction():
            policy = self._require_own_policy(ctx, request["PolicyArn"], "CreatePolicyVersion")
            if len(version_rows(db, policy.arn)) >= MAX_VERSIONS:
                raise limit_exceeded(
                    f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version,"
                    " you must delete an existing version."
                )
            _check_managed_document(document)
            row = db.query_one("SELECT next_version FROM iam_policies WHERE arn = ?", (policy.arn,))
            version_id = f"v{row['next_version']}"
            created = now_epoch()
            db.execute(
                "INSERT INTO iam_policy_versions (policy_arn, version_id, document, created_at) VALUES (?, ?, ?, ?)",
                (policy.arn, version_id, document, created),
            )
            is_default = bool(request.get("SetAsDefault"))
            db.execute(
                "UPDATE iam_policies SET next_version = next_version + 1, updated_at = ?,"
                " default_version = CASE WHEN ? THEN ? ELSE default_version END WHERE arn = ?",
                (created, is_default, version_id, policy.arn),
            )
        return {"PolicyVersion": {
            "VersionId": version_id, "IsDefaultVersion": is_default, "CreateDate": to_datetime(created),
        }}

    def get_policy_version(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        policy = self._require_policy(ctx.account_id, request["PolicyArn"])
        version_id = request["VersionId"]
        for version in all_versions(db, policy, with_documents=True):
            if version["VersionId"] == version_id:
                return {"PolicyVersion": version}
        raise no_such_entity(f"Policy {policy.arn} version {version_id} does not exist or is not attachable.")

    def list_policy_versions(self, ctx: RequestContext, request: dict) -> dict:
        policy = self._require_policy(ctx.account_id, request["PolicyArn"])
        versions = all_versions(self.env.db, policy, with_documents=False)
        return paginate(versions, request, "Versions", key=lambda v: (-_version_number(v["VersionId"]),))

    def delete_policy_version(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        version_id = request["VersionId"]
        with db.transaction():
            policy = self._require_own_policy(ctx, request["PolicyArn"], "DeletePolicyVersion")
            if version_id == policy.default_version:
                raise delete_conflict("Cannot delete the default version of a policy.")
            removed = db.execute(
                "DELETE FROM iam_policy_versions WHERE policy_arn = ? AND version_id = ?", (policy.arn, version_id)
            )
            if not removed:
                raise no_such_entity(f"Policy {policy.arn} version {version_id} does not exist.")
        return {}

    def set_default_policy_version(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        version_id = request["VersionId"]
        with db.transaction():
            policy = self._require_own_policy(ctx, request["PolicyArn"], "SetDefaultPolicyVersion")
            if policy_document(db, policy, version_id) is None:
                raise no_such_entity(f"Policy {policy.arn} version {version_id} does not exist.")
            db.execute("UPDATE iam_policies SET default_version = ? WHERE arn = ?", (version_id, policy.arn))
        return {}

    # --- attachments ---------------------------------------------------------------------

    def _attach(self, ctx: RequestContext, kind: str, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            name = require_entity(db, account, kind, request[_ENTITY_COLUMN[kind]])
            policy = self._require_attachable(account, request["PolicyArn"])
            attached = {r["policy_arn"] for r in attached_policies(db, account, kind, name)}
            if policy.arn in attached:
                return {}
            if len(attached) >= ATTACHED_PER_ENTITY:
                raise limit_exceeded(f"Cannot exceed quota for {_QUOTA_NAME[kind]}: {ATTACHED_PER_ENTITY}")
            db.execute(
                "INSERT INTO iam_attachments (account_id, entity_kind, entity_name, policy_arn, attached_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (account, kind, name, policy.arn, now_epoch()),
            )
        return {}

    def _detach(self, ctx: RequestContext, kind: str, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        policy_arn = request["PolicyArn"]
        with db.transaction():
            name = require_entity(db, account, kind, request[_ENTITY_COLUMN[kind]])
            check_policy_arn(policy_arn)
            removed = db.execute(
                "DELETE FROM iam_attachments WHERE account_id = ? AND entity_kind = ? AND entity_name = ?"
                " AND policy_arn = ?",
                (account, kind, name, policy_arn),
            )
            if not removed:
                raise no_such_entity(f"Policy {policy_arn} was not found.")
        return {}

    def _list_attached(self, ctx: RequestContext, kind: str, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        name = require_entity(db, account, kind, request[_ENTITY_COLUMN[kind]])
        prefix = request.get("PathPrefix", "/")
        out = []
        for row in attached_policies(db, account, kind, name):
            policy = find_policy(db, account, row["policy_arn"])
            if policy is not None and policy.path.startswith(prefix):
                out.append({"PolicyName": policy.name, "PolicyArn": policy.arn, "_seq": row["seq"]})
        page = paginate(out, request, "AttachedPolicies", key=lambda p: (p["_seq"],))
        for p in page["AttachedPolicies"]:
            p.pop("_seq")
        return page

    def attach_user_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._attach(ctx, "user", request)

    def attach_group_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._attach(ctx, "group", request)

    def attach_role_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._attach(ctx, "role", request)

    def detach_user_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._detach(ctx, "user", request)

    def detach_group_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._detach(ctx, "group", request)

    def detach_role_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._detach(ctx, "role", request)

    def list_attached_user_policies(self, ctx: RequestContext, request: dict) -> dict:
        return self._list_attached(ctx, "user", request)

    def list_attached_group_policies(self, ctx: RequestContext, request: dict) -> dict:
        return self._list_attached(ctx, "group", request)

    def list_attached_role_policies(self, ctx: RequestContext, request: dict) -> dict:
        return self._list_attached(ctx, "role", request)

    def list_entities_for_policy(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        policy = self._require_policy(account, request["PolicyArn"])
        wanted = request.get("EntityFilter")
        prefix = request.get("PathPrefix", "/")
        usage = request.get("PolicyUsageFilter")
        if wanted == "LocalManagedPolicy" and policy.aws_managed or wanted == "AWSManagedPolicy" and not policy.aws_managed:
            wanted = "none"
        entities: list[tuple[str, str, str, str]] = []  # (kind, name, id, path)
        if usage != "PermissionsBoundary":
            for row in db.query(
                "SELECT entity_kind, entity_name FROM iam_attachments WHERE account_id = ? AND policy_arn = ?",
                (account, policy.arn),
            ):
                entities.append(self._entity_ids(account, row["entity_kind"], row["entity_name"]))
        if usage != "PermissionsPolicy":
            for row in db.query(
                "SELECT user_name, user_id, path FROM iam_users WHERE account_id = ? AND permissions_boundary = ?",
                (account, policy.arn),
            ):
                entities.append(("user", row["user_name"], row["user_id"], row["path"]))
            for row in db.query(
                "SELECT role_name, role_id, path FROM iam_roles WHERE account_id = ? AND permissions_boundary = ?",
                (account, policy.arn),
            ):
                entities.append(("role", row["role_name"], row["role_id"], row["path"]))
        kinds = {"User": "user", "Group": "group", "Role": "role"}
        keep = {kinds[wanted]} if wanted in kinds else (set() if wanted == "none" else {"user", "group", "role"})
        unique = sorted(
            {e for e in entities if e[0] in keep and e[3].startswith(prefix)},
            key=lambda e: (e[0], *name_order(e[1])),
        )
        page = paginate(unique, request, "_entities", key=lambda e: (e[0], *name_order(e[1])))
        out = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": [], "IsTruncated": page["IsTruncated"]}
        for kind, name, unique_id, _ in page["_entities"]:
            if kind == "group":
                out["PolicyGroups"].append({"GroupName": name, "GroupId": unique_id})
            elif kind == "user":
                out["PolicyUsers"].append({"UserName": name, "UserId": unique_id})
            else:
                out["PolicyRoles"].append({"RoleName": name, "RoleId": unique_id})
        if "Marker" in page:
            out["Marker"] = page["Marker"]
        return out

    def _entity_ids(self, account_id: str, kind: str, name: str) -> tuple[str, str, str, str]:
        table, column, id_column = {
            "user": ("iam_users", "user_name", "user_id"),
            "group": ("iam_groups", "group_name", "group_id"),
            "role": ("iam_roles", "role_name", "role_id"),
        }[kind]
        row = self.env.db.query_one(
            f"SELECT {column} AS name, {id_column} AS id, path FROM {table} WHERE account_id = ? AND {column} = ?",
            (account_id, name),
        )
        return kind, row["name"], row["id"], row["path"]

    # --- inline policies -----------------------------------------------------------------

    def _put_inline(self, ctx: RequestContext, kind: str, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        policy_name, document = request["PolicyName"], request["PolicyDocument"]
        with db.transaction():
            name = require_entity(db, account, kind, request[_ENTITY_COLUMN[kind]])
            parse_document(document, "identity")
            others = [r for r in inline_policies(db, account, kind, name) if r["policy_name"].lower() != policy_name.lower()]
            total = document_size(document) + sum(document_size(r["document"]) for r in others)
            if total > INLINE_SIZE[kind]:
                raise limit_exceeded(f"Maximum policy size of {INLINE_SIZE[kind]} bytes exceeded for {kind} {name}")
            db.execute(
                "DELETE FROM iam_inline_policies WHERE account_id = ? AND entity_kind = ? AND entity_name = ?"
                " AND policy_name = ?",
                (account, kind, name, policy_name),
            )
            db.execute(
                "INSERT INTO iam_inline_policies (account_id, entity_kind, entity_name, policy_name, document)"
                " VALUES (?, ?, ?, ?, ?)",
                (account, kind, name, policy_name, document),
            )
        return {}

    def _inline_row(self, ctx: RequestContext, kind: str, request: dict) -> tuple[str, sqlite3.Row]:
        db = self.env.db
        name = require_entity(db, ctx.account_id, kind, request[_ENTITY_COLUMN[kind]])
        row = db.query_one(
            "SELECT policy_name, document FROM iam_inline_policies WHERE account_id = ? AND entity_kind = ?"
            " AND entity_name = ? AND policy_name = ?",
            (ctx.account_id, kind, name, request["PolicyName"]),
        )
        if row is None:
            raise no_such_entity(f"The {kind} policy with name {request['PolicyName']} cannot be found.")
        return name, row

    def _get_inline(self, ctx: RequestContext, kind: str, request: dict) -> dict:
        name, row = self._inline_row(ctx, kind, request)
        return {_ENTITY_COLUMN[kind]: name, "PolicyName": row["policy_name"], "PolicyDocument": row["document"]}

    def _delete_inline(self, ctx: RequestContext, kind: str, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            name, row = self._inline_row(ctx, kind, request)
            db.execute(
                "DELETE FROM iam_inline_policies WHERE account_id = ? AND entity_kind = ? AND entity_name = ?"
                " AND policy_name = ?",
                (ctx.account_id, kind, name, row["policy_name"]),
            )
        return {}

    def _list_inline(self, ctx: RequestContext, kind: str, request: dict) -> dict:
        db = self.env.db
        name = require_entity(db, ctx.account_id, kind, request[_ENTITY_COLUMN[kind]])
        names = [r["policy_name"] for r in inline_policies(db, ctx.account_id, kind, name)]
        return paginate(names, request, "PolicyNames", key=name_order)

    def put_user_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._put_inline(ctx, "user", request)

    def put_group_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._put_inline(ctx, "group", request)

    def put_role_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._put_inline(ctx, "role", request)

    def get_user_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._get_inline(ctx, "user", request)

    def get_group_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._get_inline(ctx, "group", request)

    def get_role_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._get_inline(ctx, "role", request)

    def delete_user_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._delete_inline(ctx, "user", request)

    def delete_group_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._delete_inline(ctx, "group", request)

    def delete_role_policy(self, ctx: RequestContext, request: dict) -> dict:
        return self._delete_inline(ctx, "role", request)

    def list_user_policies(self, ctx: RequestContext, request: dict) -> dict:
        return self._list_inline(ctx, "user", request)

    def list_group_policies(self, ctx: RequestContext, request: dict) -> dict:
        return self._list_inline(ctx, "group", request)

    def list_role_policies(self, ctx: RequestContext, request: dict) -> dict:
        return self._list_inline(ctx, "role", request)


def _check_managed_document(document: str) -> None:
    parse_document(document, "identity")
    if document_size(document) > MANAGED_POLICY_SIZE:
        raise limit_exceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}")
