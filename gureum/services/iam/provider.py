"""AWS Identity and Access Management: users, groups, roles, policies, credentials, account."""

from __future__ import annotations

import functools

from botocore import xform_name

from gureum.context import RequestContext
from gureum.protocol.model import service_model
from gureum.services.base import BaseProvider, ServiceEnv
from gureum.services.iam import credentials_schema, schema
from gureum.services.iam.access_keys import AccessKeyOperations
from gureum.services.iam.account import AccountOperations
from gureum.services.iam.authz import AuthorizationData
from gureum.services.iam.credential_report import CredentialReportOperations
from gureum.services.iam.groups import GroupOperations
from gureum.services.iam.instance_profiles import InstanceProfileOperations, require_instance_profile
from gureum.services.iam.login_profiles import LoginProfileOperations
from gureum.services.iam.mfa import MfaOperations
from gureum.services.iam.policies import PolicyOperations
from gureum.services.iam.roles import RoleOperations, note_role_used, require_role
from gureum.services.iam.simulate import SimulationOperations
from gureum.services.iam.tags import TagOperations
from gureum.services.iam.users import UserOperations, require_user
from gureum.services.iam.validation import check_request

ENTITY_MIXINS = (
    UserOperations,
    GroupOperations,
    RoleOperations,
    PolicyOperations,
    InstanceProfileOperations,
    TagOperations,
    AccountOperations,
)


class Provider(
    AccessKeyOperations,
    LoginProfileOperations,
    MfaOperations,
    CredentialReportOperations,
    UserOperations,
    GroupOperations,
    RoleOperations,
    PolicyOperations,
    InstanceProfileOperations,
    TagOperations,
    AccountOperations,
    SimulationOperations,
    AuthorizationData,
    BaseProvider,
):
    service_name = "iam"

    def __init__(self, env: ServiceEnv):
        super().__init__(env)
        env.db.migrate("iam", schema.MIGRATIONS)
        env.db.migrate("iam-credentials", credentials_schema.MIGRATIONS)

    def _tag_target(self, ctx: RequestContext, kind: str, request: dict) -> str:
        """The stored name (or ARN, for policies) of the resource a tag operation addresses."""
        db = self.env.db
        if kind == "user":
            return require_user(db, ctx.account_id, request["UserName"])["user_name"]
        if kind == "role":
            return require_role(db, ctx.account_id, request["RoleName"])["role_name"]
        if kind == "instance-profile":
            return require_instance_profile(db, ctx.account_id, request["InstanceProfileName"])["profile_name"]
        if ctx.operation == "ListPolicyTags":
            return self._require_policy(ctx.account_id, request["PolicyArn"]).arn
        return self._require_own_policy(ctx, request["PolicyArn"], ctx.operation).arn

    def role_used(self, role_arn: str, region: str) -> None:
        """Record RoleLastUsed when a session of the role is issued or makes a request."""
        with self.env.db.transaction():
            note_role_used(self.env.db, role_arn, region)


def _validated(operation: str, method):
    @functools.wraps(method)
    def call(self, ctx: RequestContext, request: dict) -> dict:
        check_request(operation, request)
        return method(self, ctx, request)

    return call


def _wrap_entity_operations() -> None:
    """Every operation written here first checks the model's constraints, as IAM does."""
    operations = {xform_name(name): name for name in service_model("iam").operation_names}
    for mixin in ENTITY_MIXINS:
        for attr, method in vars(mixin).items():
            if attr in operations and callable(method):
                setattr(Provider, attr, _validated(operations[attr], method))


_wrap_entity_operations()
