"""May this principal call this operation on these resources?

The gateway calls `authorize` after parsing. The operation is turned into the IAM
action(s) and resource ARN(s) it needs (`actions.authorizations`), the request into
condition keys, and AWS's evaluation logic (`engine.evaluate`) decides over the caller's
identity policies, permissions boundary, session policy and the resource's own policy.
A denial names the principal, action and resource, and whether an explicit deny or the
lack of an allow decided, as AWS's AccessDenied messages do.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

from gureum import clock
from gureum.context import Principal, RequestContext
from gureum.protocol.errors import ServiceError

# (service, operation) pairs AWS accepts without credentials.
ANONYMOUS_OPERATIONS = frozenset(
    {("sts", "AssumeRoleWithWebIdentity"), ("sts", "AssumeRoleWithSAML")}
)

PolicyText = tuple[str, str]  # (source, document JSON)

# Actions a role's trust policy governs: it must name the caller for them to be allowed.
TRUST_ACTIONS = frozenset({"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"})


@dataclass
class PolicySources:
    """Where the policies of a decision come from (IAM and the resource-owning services)."""

    identity: Callable[[Principal], list[PolicyText]] = lambda p: []
    boundary: Callable[[Principal], PolicyText | None] = lambda p: None
    principal_tags: Callable[[Principal], dict[str, str]] = lambda p: {}
    # resource_policy(action, resource ARN, caller) -> the resource's policy as it applies to
    # this caller (bucket policy, role trust...); the caller matters for S3's
    # RestrictPublicBuckets, which voids public grants for callers outside the owner's account
    resource_policy: Callable[[str, str, Principal], PolicyText | None] = lambda a, r, p: None
    # resource_account(action, resource ARN) -> the owning account, for ARNs that name none (S3)
    resource_account: Callable[[str, str], str | None] = lambda a, r: None
    enforce: bool = True


def authorize(ctx: RequestContext, service: str, operation: str, params: dict, sources: PolicySources) -> None:
    """Raise AccessDenied unless every authorization the operation needs is allowed."""
    from gureum.policy import actions, engine

    principal = ctx.principal
    key = (service, operation)
    if principal.kind == "anonymous" and key in ANONYMOUS_OPERATIONS:
        return
    needed = actions.authorizations(
        service, operation, params, account_id=principal.account_id or "", region=ctx.region,
        caller_arn=principal.arn,
    )
    if not needed:
        return  # e.g. GetCallerIdentity: no permission is required
    if not sources.enforce and principal.kind != "anonymous":
        return
    policies = _policy_set(principal, sources)
    for item in needed:
        resource_policy = sources.resource_policy(item.action, item.resource, principal)
        if resource_policy is not None:
            policies.resource = [_parse(resource_policy, "resource")]
        else:
            policies.resource = []
        facts = engine.RequestFacts(
            principal_arn=principal.arn,
            principal_account=principal.account_id,
            principal_type=principal.kind,
            action=item.action,
            resource=item.resource,
            resource_account=_resource_account(item.resource) or sources.resource_account(item.action, item.resource),
            context=_Context(ctx, principal, sources, item.context),
        )
        decision = engine.evaluate(facts, policies)
        if (decision.allowed and item.action in TRUST_ACTIONS and not principal.is_root
                and not _trusted(policies.resource, facts)):
            # A role's trust policy must admit the caller, whatever its identity policies say.
            decision = engine.Decision(allowed=False, reason="no_allow", denied_by="resource-based policy",
                                       policy_source=None)
        if not decision.allowed:
            message = _denial_message(principal, item, decision)
            if ctx.protocol == "ec2":
                raise ServiceError("UnauthorizedOperation", _ec2_denial(message, principal, item, decision, facts), 403)
            raise ServiceError(_access_denied_code(ctx), message, _access_denied_status(ctx))


def _policy_set(principal: Principal, sources: PolicySources):
    from gureum.policy import engine

    if principal.kind in ("root", "anonymous"):
        return engine.PolicySet(identity=[], resource=[], boundary=None, session=[], scps=[],
                                is_root=principal.kind == "root")
    identity = [_parse(p, "identity") for p in sources.identity(principal)]
    boundary = sources.boundary(principal)
    session = [_parse(("session policy", principal.session_policy), "session")] if principal.session_policy else []
    return engine.PolicySet(
        identity=identity, resource=[], boundary=_parse(boundary, "boundary") if boundary else None,
        session=session, scps=[],
    )


def _parse(policy: PolicyText, kind: str):
    from gureum.policy import document, engine

    source, text = policy
    return engine.Policy(document=document.parse_policy(text, kind), kind=kind, source=source)


def _resource_account(resource: str) -> str | None:
    """The account owning an ARN; None for AWS-owned (managed policies) or account-less ARNs."""
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[4] and parts[4] != "aws":
        return parts[4]
    return None


def _trusted(resource_policies: list, facts) -> bool:
    from gureum.policy import engine

    return any(engine.principal_matches(p.document, facts) for p in resource_policies)


class _Context(Mapping):
    """The condition keys of one authorization: the global keys and the operation's own,
    gathered when a policy statement first tests one (a caller without policies never does)."""

    def __init__(self, ctx: RequestContext, principal: Principal, sources: PolicySources, own: dict):
        self._args = (ctx, principal, sources)
        self._own = own
        self._keys: dict | None = None

    def _all(self) -> dict:
        if self._keys is None:
            self._keys = {**_global_keys(*self._args), **self._own}
        return self._keys

    def __getitem__(self, key: str):
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _global_keys(ctx: RequestContext, p: Principal, sources: PolicySources) -> dict:
    now = clock.now()
    keys: dict[str, str | list[str]] = {
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": "true" if ctx.secure_transport else "false",
        "aws:SourceIp": ctx.source_ip,
        "aws:RequestedRegion": ctx.region,
        "aws:PrincipalAccount": p.account_id,
        "aws:PrincipalArn": p.role_arn or p.arn,
        "aws:PrincipalType": {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
                              "federated-user": "FederatedUser"}.get(p.kind, "Anonymous"),
        "aws:userid": p.user_id,
    }
    if p.kind == "user":
        keys["aws:username"] = p.name
    if p.is_session:
        # AWS sets the MFA keys only for temporary credentials.
        keys["aws:MultiFactorAuthPresent"] = "true" if p.mfa_authenticated else "false"
        if p.mfa_authenticated and p.issued_at is not None:
            keys["aws:MultiFactorAuthAge"] = str(max(0, int((now - p.issued_at).total_seconds())))
    if p.kind in ("user", "assumed-role"):
        for k, v in sources.principal_tags(p).items():
            keys[f"aws:PrincipalTag/{k}"] = v
    for k, v in p.session_tags.items():
        keys[f"aws:PrincipalTag/{k}"] = v
    return keys


def _denial_message(p: Principal, item, decision) -> str:
    if p.kind == "anonymous":
        return "Access Denied"
    who = "User"
    resource = f" on resource: {item.resource}" if item.resource and item.resource != "*" else ""
    if decision.reason == "explicit_deny":
        why = f"with an explicit deny in a {decision.denied_by or 'identity-based policy'}"
    else:
        why = f"because no {decision.denied_by or 'identity-based policy'} allows the {item.action} action"
    return f"{who}: {p.arn} is not authorized to perform: {item.action}{resource} {why}"


def _ec2_denial(message: str, p: Principal, item, decision, facts) -> str:
    """EC2's wording, with the details sts:DecodeAuthorizationMessage gives back."""
    details = {
        "allowed": False,
        "explicitDeny": decision.reason == "explicit_deny",
        "matchedStatements": {"items": []},
        "failures": {"items": []},
        "context": {
            "principal": {"id": p.user_id, "name": p.name, "arn": p.arn},
            "action": item.action,
            "resource": item.resource,
            "conditions": {"items": [{"key": k, "values": {"items": [{"value": v} for v in
                                                                    (vs if isinstance(vs, list) else [vs])]}}
                                     for k, vs in sorted(facts.context.items())]},
        },
    }
    return (f"You are not authorized to perform this operation. {message}. "
            f"Encoded authorization failure message: {encode_authorization_message(details)}")


def encode_authorization_message(details: dict) -> str:
    return base64.urlsafe_b64encode(zlib.compress(json.dumps(details, separators=(",", ":")).encode())).decode()


def decode_authorization_message(encoded: str) -> str | None:
    """The JSON text of an encoded authorization failure message; None when it is not one."""
    try:
        return zlib.decompress(base64.urlsafe_b64decode(encoded.encode())).decode()
    except (ValueError, zlib.error, UnicodeError):
        return None


def _access_denied_status(ctx: RequestContext) -> int:
    # awsJson services (DynamoDB, KMS, SSM, ...) answer every client error with 400; the
    # query-compatible ones (SQS, CloudWatch) keep their query protocol's 403.
    return 400 if ctx.protocol == "json" and ctx.service not in ("sqs", "cloudwatch") else 403


def _access_denied_code(ctx: RequestContext) -> str:
    # JSON-protocol services name it AccessDeniedException; XML ones AccessDenied.
    return "AccessDenied" if ctx.protocol in ("query", "ec2", "rest-xml") else "AccessDeniedException"
