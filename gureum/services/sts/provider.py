"""AWS Security Token Service: who am I, and temporary credentials."""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

from gureum import clock
from gureum.auth.credentials import (
    account_of_access_key_id,
    new_access_key_id,
    new_secret_access_key,
)
from gureum.context import Principal, RequestContext
from gureum.policy.authorization import decode_authorization_message
from gureum.protocol.errors import ServiceError
from gureum.services.base import BaseProvider

SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
# A session policy, packed, may be at most this long (AWS's PackedPolicyTooLarge limit).
MAX_SESSION_POLICY_CHARS = 2048
ROLE_CHAINING_MAX_SECONDS = 3600


@dataclass(frozen=True)
class AssumableRole:
    """What IAM tells STS about a role a caller may assume (trust already evaluated)."""

    arn: str
    role_id: str
    name: str
    account_id: str
    max_session_duration: int = 3600


def validation_error(value, member: str, constraint: str) -> ServiceError:
    return ServiceError(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}",
        400,
    )


class Provider(BaseProvider):
    service_name = "sts"

    def get_caller_identity(self, ctx: RequestContext, request: dict) -> dict:
        p = ctx.principal
        return {"UserId": p.user_id, "Account": p.account_id, "Arn": p.arn}

    def get_access_key_info(self, ctx: RequestContext, request: dict) -> dict:
        key_id = request["AccessKeyId"]
        found = self.env.credentials.lookup(key_id)
        account = found[1].account_id if found else account_of_access_key_id(key_id)
        if account is None:
            raise validation_error(key_id, "accessKeyId", "Member must be a valid access key id")
        return {"Account": account}

    def decode_authorization_message(self, ctx: RequestContext, request: dict) -> dict:
        """The details behind an encoded authorization failure, for callers of the same account."""
        text = decode_authorization_message(request["EncodedMessage"])
        arn = (json.loads(text).get("context", {}).get("principal", {}).get("arn") or "") if text else ""
        if text is None or arn.split(":")[4:5] != [ctx.account_id]:
            raise ServiceError("InvalidAuthorizationMessageException", "The message is not valid.", 400)
        return {"DecodedMessage": text}

    def get_session_token(self, ctx: RequestContext, request: dict) -> dict:
        caller = ctx.principal
        if caller.is_session:
            raise ServiceError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
        if caller.kind not in ("root", "user"):
            raise ServiceError("AccessDenied", "Only IAM users and account roots can call GetSessionToken", 403)
        # Roots get at most one hour; IAM users up to 36 hours, 12 by default.
        longest = 3600 if caller.is_root else 129600
        duration = request.get("DurationSeconds", 3600 if caller.is_root else 43200)
        if duration < 900:
            raise validation_error(duration, "durationSeconds", "Member must have value greater than or equal to 900")
        if duration > 129600:
            raise validation_error(duration, "durationSeconds", "Member must have value less than or equal to 129600")
        duration = min(duration, longest)
        mfa = self._check_mfa(caller, request)
        session = replace(caller, mfa_authenticated=mfa, source_arn=caller.arn)
        return {"Credentials": self._issue(session, duration)}

    def assume_role(self, ctx: RequestContext, request: dict) -> dict:
        caller = ctx.principal
        role_arn = request["RoleArn"]
        session_name = request["RoleSessionName"]
        if not SESSION_NAME.match(session_name):
            raise validation_error(
                session_name, "roleSessionName", "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
            )
        role = self._assumable_role(ctx, role_arn, request)
        duration = request.get("DurationSeconds", 3600)
        if duration < 900:
            raise validation_error(duration, "durationSeconds", "Member must have value greater than or equal to 900")
        # Role chaining (a role session assuming a role) is capped at one hour.
        limit = ROLE_CHAINING_MAX_SECONDS if caller.kind == "assumed-role" else role.max_session_duration
        if duration > limit:
            raise ServiceError(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                400,
            )
        policy = request.get("Policy")
        packed_size = 0
        if policy is not None:
            packed_size = _packed_policy_percent(policy)
            if packed_size > 100:
                raise ServiceError(
                    "PackedPolicyTooLarge",
                    f"Packed policy consumes {packed_size}% of allotted space, please use smaller policy.",
                    400,
                )
        tags = {t["Key"]: t["Value"] for t in request.get("Tags", [])}
        # Transitive tags of the calling session carry over in a chain.
        tags = {**caller.session_tags, **tags} if caller.kind == "assumed-role" else tags
        session = Principal(
            account_id=role.account_id,
            kind="assumed-role",
            arn=f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session_name}",
            user_id=f"{role.role_id}:{session_name}",
            access_key_id="",
            name=role.name,
            role_arn=role.arn,
            session_name=session_name,
            session_policy=policy,
            session_tags=tags,
            source_identity=request.get("SourceIdentity") or caller.source_identity,
            mfa_authenticated=caller.mfa_authenticated,
            source_arn=caller.arn,
        )
        iam = self.env.provider("iam")
        if hasattr(iam, "role_used"):
            iam.role_used(role.arn, ctx.region)
        result = {
            "Credentials": self._issue(session, duration),
            "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.arn},
            "PackedPolicySize": packed_size,
        }
        if session.source_identity:
            result["SourceIdentity"] = session.source_identity
        return result

    # --- machinery -------------------------------------------------------------------

    def _issue(self, template: Principal, duration_seconds: int) -> dict:
        """Store a new set of session credentials for a principal; returns the Credentials shape."""
        key_id = new_access_key_id(template.account_id, "ASIA")
        secret = new_secret_access_key()
        token = _session_token()
        expires = clock.now().replace(microsecond=0) + timedelta(seconds=duration_seconds)
        session = replace(template, access_key_id=key_id, session_token=token, expires_at=expires)
        self.env.credentials.add(session, secret)
        return {"AccessKeyId": key_id, "SecretAccessKey": secret, "SessionToken": token, "Expiration": expires}

    def _check_mfa(self, caller: Principal, request: dict) -> bool:
        serial, code = request.get("SerialNumber"), request.get("TokenCode")
        if serial is None and code is None:
            return False
        iam = self.env.provider("iam")
        verify = getattr(iam, "verify_mfa_code", None)
        if verify is None or not verify(caller, serial, code):
            raise ServiceError("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.", 403)
        return True

    def _assumable_role(self, ctx: RequestContext, role_arn: str, request: dict) -> AssumableRole:
        """The role to assume; its trust policy was evaluated when the call was authorized."""
        if ctx.principal.is_root:
            raise ServiceError("AccessDenied", "Roles may not be assumed by root accounts.", 403)
        iam = self.env.provider("iam")
        role = iam.assumable_role(role_arn) if hasattr(iam, "assumable_role") else None
        if role is None:
            raise ServiceError(
                "AccessDenied",
                f"User: {ctx.principal.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                403,
            )
        return role


def _session_token() -> str:
    # Long opaque tokens like AWS's; the value is only ever compared.
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(240)).decode("ascii")


def _packed_policy_percent(policy: str) -> int:
    try:
        compact = json.dumps(json.loads(policy), separators=(",", ":"))
    except ValueError:
        raise ServiceError("MalformedPolicyDocument", "The policy is not in the valid JSON format.", 400) from None
    return max(1, round(len(compact) * 100 / MAX_SESSION_POLICY_CHARS))
