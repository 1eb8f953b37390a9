"""Authorization: may this principal call this operation?

Today this holds the rules that need no IAM policies: an account's root (and its
GetSessionToken sessions) may do everything in its own account; anonymous callers only
what AWS lets anyone do without a signature. IAM users and roles arrive with the IAM
service, whose policy evaluation plugs in here.
"""

from __future__ import annotations

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError

# (service, operation) pairs AWS accepts without credentials.
ANONYMOUS_OPERATIONS = frozenset(
    {("sts", "AssumeRoleWithWebIdentity"), ("sts", "AssumeRoleWithSAML")}
)

# Operations that need no permission at all (AWS documents GetCallerIdentity so).
UNAUTHORIZED_OPERATIONS = frozenset({("sts", "GetCallerIdentity")})


def authorize(ctx: RequestContext, service: str, operation: str, signing_name: str) -> None:
    principal = ctx.principal
    key = (service, operation)
    if principal.kind == "root" or key in UNAUTHORIZED_OPERATIONS:
        return
    if principal.kind == "anonymous":
        if key in ANONYMOUS_OPERATIONS:
            return
        raise ServiceError(_access_denied_code(ctx), "Access Denied", 403)
    raise ServiceError(
        _access_denied_code(ctx),
        f"User: {principal.arn} is not authorized to perform: {signing_name}:{operation} "
        "because no identity-based policy allows the action",
        403,
    )


def _access_denied_code(ctx: RequestContext) -> str:
    # JSON-protocol services name it AccessDeniedException; XML ones AccessDenied.
    return "AccessDenied" if ctx.protocol in ("query", "ec2", "rest-xml") else "AccessDeniedException"
