"""What IAM tells the authorizer: a principal's policies and tags, and roles' trust policies."""

from __future__ import annotations

from gureum.context import Principal
from gureum.policy.authorization import TRUST_ACTIONS
from gureum.services.iam import authz_data



def _entity(p: Principal) -> tuple[str, str] | None:
    """(kind, name) of the IAM entity whose policies apply to a principal."""
    if p.kind == "user":
        return "user", p.name
    if p.kind == "assumed-role" and p.role_arn:
        return "role", p.role_arn.rsplit("/", 1)[1]
    return None


class AuthorizationData:
    """Mixin of the IAM provider: reads for policy evaluation (never writes)."""

    def identity_policies(self, principal: Principal) -> list[tuple[str, str]]:
        entity = _entity(principal)
        if entity is None:
            return []
        return authz_data.identity_policy_documents(self.env.db, principal.account_id, *entity)

    def permissions_boundary(self, principal: Principal) -> tuple[str, str] | None:
        entity = _entity(principal)
        if entity is None:
            return None
        return authz_data.permissions_boundary_document(self.env.db, principal.account_id, *entity)

    def principal_tags(self, principal: Principal) -> dict[str, str]:
        entity = _entity(principal)
        if entity is None:
            return {}
        return authz_data.principal_tags(self.env.db, principal.account_id, *entity)

    def resource_policy(self, action: str, resource_arn: str, caller: Principal) -> tuple[str, str] | None:
        """A role's trust policy is the resource policy of the sts:AssumeRole family."""
        if action in TRUST_ACTIONS and ":role/" in resource_arn:
            row = authz_data.role_by_arn(self.env.db, resource_arn)
            if row is not None:
                return f"trust:{resource_arn}", row["assume_role_policy"]
        return None

    def assumable_role(self, role_arn: str):
        """The role STS is about to issue a session for (authorization already passed)."""
        from gureum.services.sts.provider import AssumableRole

        row = authz_data.role_by_arn(self.env.db, role_arn)
        if row is None:
            return None
        return AssumableRole(
            arn=row["arn"], role_id=row["role_id"], name=row["role_name"],
            account_id=row["account_id"], max_session_duration=row["max_session_duration"],
        )
