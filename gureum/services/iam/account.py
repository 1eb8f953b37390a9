"""Account-wide IAM: alias, password policy, summary and the authorization details dump."""

from __future__ import annotations

import json
import sqlite3

from gureum.context import RequestContext
from gureum.services.iam import managed_policies
from gureum.services.iam.common import already_exists, name_order, no_such_entity, paginate
from gureum.services.iam.groups import group_shape, groups_of_user
from gureum.services.iam.instance_profiles import instance_profile_shape, profiles_of_role
from gureum.services.iam.policies import (
    ATTACHED_PER_ENTITY,
    INLINE_SIZE,
    MANAGED_POLICY_SIZE,
    MAX_VERSIONS,
    all_versions,
    attached_policies,
    find_policy,
    inline_policies,
    policy_name_of_arn,
    policy_shape,
)
from gureum.services.iam.roles import TRUST_POLICY_SIZE, role_shape
from gureum.services.iam.users import list_user_rows, user_shape
from gureum.store import Database

# GetAccountSummary's quotas: IAM's default service quotas.
QUOTAS = {
    "UsersQuota": 5000,
    "GroupsQuota": 300,
    "RolesQuota": 1000,
    "PoliciesQuota": 1500,
    "InstanceProfilesQuota": 1000,
    "ServerCertificatesQuota": 20,
    "PolicyVersionsInUseQuota": 10000,
    "VersionsPerPolicyQuota": MAX_VERSIONS,
    "PolicySizeQuota": MANAGED_POLICY_SIZE,
    "UserPolicySizeQuota": INLINE_SIZE["user"],
    "GroupPolicySizeQuota": INLINE_SIZE["group"],
    "RolePolicySizeQuota": INLINE_SIZE["role"],
    "AssumeRolePolicySizeQuota": TRUST_POLICY_SIZE,
    "GroupsPerUserQuota": 10,
    "AttachedPoliciesPerUserQuota": ATTACHED_PER_ENTITY,
    "AttachedPoliciesPerGroupQuota": ATTACHED_PER_ENTITY,
    "AttachedPoliciesPerRoleQuota": ATTACHED_PER_ENTITY,
    "AccessKeysPerUserQuota": 2,
    "SigningCertificatesPerUserQuota": 2,
    "GlobalEndpointTokenVersion": 1,
}
_FILTERS = ("User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy")


def password_policy(db: Database, account_id: str) -> dict | None:
    """The account's PasswordPolicy output shape as stored, or None when it has none."""
    row = db.query_one("SELECT policy FROM iam_password_policies WHERE account_id = ?", (account_id,))
    return json.loads(row["policy"]) if row else None


def account_alias(db: Database, accounts, account_id: str) -> str | None:
    """The account's alias: IAM's own record, else the alias the account was created with."""
    row = db.query_one("SELECT alias FROM iam_account_aliases WHERE account_id = ?", (account_id,))
    if row is not None:
        return row["alias"]
    account = accounts.get(account_id)
    return account.alias if account else None


def _count(db: Database, sql: str, params: tuple) -> int:
    try:
        return db.query_one(sql, params)[0]
    except sqlite3.OperationalError:  # the table's owner has not created it (yet)
        return 0


class AccountOperations:
    # --- alias ---------------------------------------------------------------------------

    def create_account_alias(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        alias = request["AccountAlias"]
        with db.transaction():
            # The name is taken even when this account is the one holding it.
            taken = (
                account_alias(db, self.env.accounts, ctx.account_id) == alias
                or db.query_one("SELECT 1 FROM iam_account_aliases WHERE alias = ?", (alias,)) is not None
                or any(
                    a.alias == alias and account_alias(db, self.env.accounts, a.account_id) == alias
                    for a in self.env.accounts.list()
                )
            )
            if taken:
                raise already_exists(f"The account alias {alias} already exists.")
            # An account has one alias: a new one replaces the old.
            db.execute(
                "INSERT INTO iam_account_aliases (account_id, alias) VALUES (?, ?)"
                " ON CONFLICT (account_id) DO UPDATE SET alias = excluded.alias",
                (ctx.account_id, alias),
            )
        return {}

    def delete_account_alias(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        alias = request["AccountAlias"]
        with db.transaction():
            if account_alias(db, self.env.accounts, ctx.account_id) != alias:
                raise no_such_entity(f"The account alias {alias} cannot be found.")
            db.execute(
                "INSERT INTO iam_account_aliases (account_id, alias) VALUES (?, NULL)"
                " ON CONFLICT (account_id) DO UPDATE SET alias = NULL",
                (ctx.account_id,),
            )
        return {}

    def list_account_aliases(self, ctx: RequestContext, request: dict) -> dict:
        alias = account_alias(self.env.db, self.env.accounts, ctx.account_id)
        return paginate([alias] if alias else [], request, "AccountAliases", key=lambda a: (a,))

    # --- password policy -----------------------------------------------------------------

    def update_account_password_policy(self, ctx: RequestContext, request: dict) -> dict:
        # Parameters left out take their defaults: the call replaces the whole policy.
        policy = {
            "MinimumPasswordLength": request.get("MinimumPasswordLength", 6),
            "RequireSymbols": request.get("RequireSymbols", False),
            "RequireNumbers": request.get("RequireNumbers", False),
            "RequireUppercaseCharacters": request.get("RequireUppercaseCharacters", False),
            "RequireLowercaseCharacters": request.get("RequireLowercaseCharacters", False),
            "AllowUsersToChangePassword": request.get("AllowUsersToChangePassword", False),
            "ExpirePasswords": bool(request.get("MaxPasswordAge")),
        }
        for optional in ("MaxPasswordAge", "PasswordReusePrevention", "HardExpiry"):
            if request.get(optional) is not None:
                policy[optional] = request[optional]
        db = self.env.db
        with db.transaction():
            db.execute(
                "INSERT INTO iam_password_policies (account_id, policy) VALUES (?, ?)"
                " ON CONFLICT (account_id) DO UPDATE SET policy = excluded.policy",
                (ctx.account_id, json.dumps(policy)),
            )
        return {}

    def get_account_password_policy(self, ctx: RequestContext, request: dict) -> dict:
        policy = password_policy(self.env.db, ctx.account_id)
        if policy is None:
            raise no_such_entity(f"The Password Policy with domain name {ctx.account_id} cannot be found.")
        return {"PasswordPolicy": policy}

    def delete_account_password_policy(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        with db.transaction():
            if not db.execute("DELETE FROM iam_password_policies WHERE account_id = ?", (ctx.account_id,)):
                raise no_such_entity(f"The Password Policy with domain name {ctx.account_id} cannot be found.")
        return {}

    # --- summary -------------------------------------------------------------------------

    def get_account_summary(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        a = (ctx.account_id,)
        counts = {
            "Users": _count(db, "SELECT COUNT(*) FROM iam_users WHERE account_id = ?", a),
            "Groups": _count(db, "SELECT COUNT(*) FROM iam_groups WHERE account_id = ?", a),
            "Roles": _count(db, "SELECT COUNT(*) FROM iam_roles WHERE account_id = ?", a),
            "Policies": _count(db, "SELECT COUNT(*) FROM iam_policies WHERE account_id = ?", a),
            "InstanceProfiles": _count(db, "SELECT COUNT(*) FROM iam_instance_profiles WHERE account_id = ?", a),
            "PolicyVersionsInUse": _count(db, "SELECT COUNT(*) FROM iam_attachments WHERE account_id = ?", a),
            "ServerCertificates": 0,
            "Providers": 0,
            "MFADevices": _count(db, "SELECT COUNT(*) FROM iam_mfa_devices WHERE account_id = ?", a),
            "MFADevicesInUse": _count(
                db, "SELECT COUNT(*) FROM iam_mfa_devices WHERE account_id = ? AND enabled_at IS NOT NULL", a
            ),
            "AccountMFAEnabled": min(1, _count(
                db,
                "SELECT COUNT(*) FROM iam_mfa_devices WHERE account_id = ? AND owner_kind = 'root'"
                " AND enabled_at IS NOT NULL",
                a,
            )),
            "AccountAccessKeysPresent": min(1, _count(
                db,
                "SELECT COUNT(*) FROM credentials WHERE account_id = ? AND kind = 'root' AND session_token IS NULL",
                a,
            )),
            "AccountSigningCertificatesPresent": 0,
        }
        return {"SummaryMap": {**counts, **QUOTAS}}

    # --- authorization details -----------------------------------------------------------

    def get_account_authorization_details(self, ctx: RequestContext, request: dict) -> dict:
        db = self.env.db
        account = ctx.account_id
        wanted = set(request.get("Filter") or _FILTERS)
        entries: list[tuple[int, str, str, dict]] = []  # (section, name, arn, detail)
        if "User" in wanted:
            for row in list_user_rows(db, account):
                entries.append((0, row["user_name"], row["arn"], self._user_detail(account, row)))
        if "Group" in wanted:
            for row in db.query("SELECT * FROM iam_groups WHERE account_id = ?", (account,)):
                entries.append((1, row["group_name"], row["arn"], self._group_detail(account, row)))
        if "Role" in wanted:
            for row in db.query("SELECT * FROM iam_roles WHERE account_id = ?", (account,)):
                entries.append((2, row["role_name"], row["arn"], self._role_detail(account, row)))
        policy_arns: list[str] = []
        if "LocalManagedPolicy" in wanted:
            policy_arns += [r["arn"] for r in db.query("SELECT arn FROM iam_policies WHERE account_id = ?", (account,))]
        if "AWSManagedPolicy" in wanted:
            # Only the AWS managed policies this account uses, as IAM reports them.
            used = {r["policy_arn"] for r in db.query(
                "SELECT DISTINCT policy_arn FROM iam_attachments WHERE account_id = ?", (account,)
            )}
            used |= {r[0] for r in db.query(
                "SELECT permissions_boundary FROM iam_users WHERE account_id = ? AND permissions_boundary IS NOT NULL"
                " UNION SELECT permissions_boundary FROM iam_roles WHERE account_id = ?"
                " AND permissions_boundary IS NOT NULL",
                (account, account),
            )}
            policy_arns += [arn for arn in used if managed_policies.is_aws_managed(arn)]
        for policy_arn in policy_arns:
            policy = find_policy(db, account, policy_arn)
            if policy is not None:
                detail = policy_shape(db, account, policy, detailed=True)
                detail.pop("Tags", None)
                detail["PolicyVersionList"] = all_versions(db, policy, with_documents=True)
                entries.append((3, policy.name, policy.arn, detail))
        entries.sort(key=lambda e: (e[0], *name_order(e[1]), e[2]))
        page = paginate(entries, request, "_entries", key=lambda e: (e[0], *name_order(e[1]), e[2]))
        out: dict = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
        sections = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
        for section, _, _, detail in page["_entries"]:
            out[sections[section]].append(detail)
        out["IsTruncated"] = page["IsTruncated"]
        if "Marker" in page:
            out["Marker"] = page["Marker"]
        return out

    def _attached_managed(self, account_id: str, kind: str, name: str) -> list[dict]:
        return [
            {"PolicyName": policy_name_of_arn(r["policy_arn"]), "PolicyArn": r["policy_arn"]}
            for r in attached_policies(self.env.db, account_id, kind, name)
        ]

    def _inline_list(self, account_id: str, kind: str, name: str) -> list[dict]:
        return [
            {"PolicyName": r["policy_name"], "PolicyDocument": r["document"]}
            for r in inline_policies(self.env.db, account_id, kind, name)
        ]

    def _user_detail(self, account_id: str, row: sqlite3.Row) -> dict:
        db = self.env.db
        name = row["user_name"]
        detail = user_shape(db, row, detailed=True)
        detail["UserPolicyList"] = self._inline_list(account_id, "user", name)
        detail["GroupList"] = [g["group_name"] for g in groups_of_user(db, account_id, name)]
        detail["AttachedManagedPolicies"] = self._attached_managed(account_id, "user", name)
        return detail

    def _group_detail(self, account_id: str, row: sqlite3.Row) -> dict:
        name = row["group_name"]
        detail = group_shape(row)
        detail["GroupPolicyList"] = self._inline_list(account_id, "group", name)
        detail["AttachedManagedPolicies"] = self._attached_managed(account_id, "group", name)
        return detail

    def _role_detail(self, account_id: str, row: sqlite3.Row) -> dict:
        db = self.env.db
        name = row["role_name"]
        detail = role_shape(db, row, detailed=True)
        detail.pop("MaxSessionDuration", None)
        detail.pop("Description", None)
        detail["InstanceProfileList"] = [instance_profile_shape(db, p) for p in profiles_of_role(db, account_id, name)]
        detail["RolePolicyList"] = self._inline_list(account_id, "role", name)
        detail["AttachedManagedPolicies"] = self._attached_managed(account_id, "role", name)
        return detail

