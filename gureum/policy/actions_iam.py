"""IAM and STS: entity ARNs with paths, the caller's own user, and the STS condition keys.

IAM ARNs are global (no region) and carry the entity's path: user/division/alice. A
request names a user, role or group by name only, except when it creates one; the IAM
service can register `set_path_lookup` so that existing entities are authorised on their
full ARN. User-scoped actions without a UserName act on the caller.
"""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlparse

from gureum.policy.actions import Authorization, Call, Context, ServiceRules, request_tags

# (account, "user" | "role" | "group" | "instance-profile" | "policy" | "server-certificate", name) -> path
PathLookup = Callable[[str, str, str], "str | None"]
_path_lookup: list[PathLookup] = []


def set_path_lookup(lookup: PathLookup | None) -> None:
    """Let authorization find the path of an existing IAM entity named without one."""
    _path_lookup[:] = [lookup] if lookup else []


def _with_path(call: Call, kind: str, name: str | None, path: str | None = None) -> str | None:
    if not name:
        return None
    if path is None and _path_lookup:
        path = _path_lookup[0](call.account_id, kind, name)
    path = (path or "/").strip("/")
    return f"{path}/{name}" if path else name


def _creating(call: Call) -> bool:
    return call.operation.startswith(("Create", "Upload"))


def _entity(kind: str, member: str):
    def getter(call: Call) -> str | None:
        path = call.params.get("Path") if _creating(call) else None
        return _with_path(call, kind, call.params.get(member), path)
    return getter


def _user(call: Call) -> str | None:
    """The user an action is about: UserName, or the caller itself when it names none."""
    name = call.params.get("UserName")
    if name:
        path = call.params.get("Path") if call.operation == "CreateUser" else None
        return _with_path(call, "user", name, path)
    caller = call.caller_arn or ""
    marker = ":user/"
    if marker in caller:
        return caller.split(marker, 1)[1]
    return caller or None  # a root or role session: its own ARN is the resource


def _mfa(call: Call) -> str | None:
    serial = call.params.get("SerialNumber")
    if serial:
        return serial  # virtual devices are named by ARN; hardware serials stand as names
    return _with_path(call, "mfa", call.params.get("VirtualMFADeviceName"), call.params.get("Path"))


def _oidc(call: Call) -> str | None:
    arn = call.params.get("OpenIDConnectProviderArn")
    if arn:
        return arn
    url = call.params.get("Url")
    if not url:
        return None
    parsed = urlparse(url if "://" in url else f"https://{url}")
    return (parsed.netloc + parsed.path).rstrip("/")


def _service_linked_role(call: Call) -> list[Authorization]:
    service = call.params.get("AWSServiceName") or ""
    role = f"aws-service-role/{service}/*" if service else None
    return call.authorize("CreateServiceLinkedRole", {"RoleNameWithPath": role},
                          {"iam:AWSServiceName": service} if service else {})


def _iam_context(call: Call) -> Context:
    ctx: Context = {}
    policy = call.params.get("PolicyArn")
    if policy and call.operation.startswith(("Attach", "Detach")):
        ctx["iam:PolicyARN"] = policy
    boundary = call.params.get("PermissionsBoundary")
    if boundary:
        ctx["iam:PermissionsBoundary"] = boundary
    if call.params.get("ServiceName") and "ServiceSpecificCredential" in call.operation:
        ctx["iam:ServiceSpecificCredentialServiceName"] = call.params["ServiceName"]
    return ctx


_CONTEXT_OPERATIONS = (
    "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy", "DetachUserPolicy",
    "DetachRolePolicy", "DetachGroupPolicy", "CreateUser", "CreateRole",
    "PutUserPermissionsBoundary", "PutRolePermissionsBoundary", "DeleteUserPermissionsBoundary",
    "DeleteRolePermissionsBoundary", "PutUserPolicy", "PutRolePolicy",
    "CreateServiceSpecificCredential",
)

IAM = ServiceRules(
    handlers={"CreateServiceLinkedRole": _service_linked_role},
    variables={
        "UserNameWithPath": _user,
        "RoleNameWithPath": _entity("role", "RoleName"),
        "GroupNameWithPath": _entity("group", "GroupName"),
        "InstanceProfileNameWithPath": _entity("instance-profile", "InstanceProfileName"),
        "CertificateNameWithPath": _entity("server-certificate", "ServerCertificateName"),
        "PolicyNameWithPath": lambda c: c.params.get("PolicyArn") or _with_path(
            c, "policy", c.params.get("PolicyName"), c.params.get("Path")),
        "MfaTokenIdWithPath": _mfa,
        "OidcProviderName": _oidc,
        "SamlProviderName": lambda c: c.params.get("SAMLProviderArn") or c.params.get("Name"),
        "EntityPath": lambda c: c.params.get("EntityPath"),
        "DelegationRequestId": lambda c: c.params.get("DelegationRequestId"),
    },
    context={op: _iam_context for op in _CONTEXT_OPERATIONS},
)


# --- STS ----------------------------------------------------------------------------------

def _assume(call: Call) -> list[Authorization]:
    """AssumeRole*: sts:AssumeRole* on the role, with sts:TagSession and
    sts:SetSourceIdentity when the request passes tags or a source identity."""
    p = call.params
    ctx: Context = {}
    for member, key in (("RoleSessionName", "sts:RoleSessionName"), ("ExternalId", "sts:ExternalId"),
                        ("SourceIdentity", "sts:SourceIdentity")):
        if p.get(member):
            ctx[key] = p[member]
    if p.get("DurationSeconds") is not None:
        ctx["sts:DurationSeconds"] = str(p["DurationSeconds"])
    tags = request_tags(p)
    for k, v in tags.items():
        ctx[f"aws:RequestTag/{k}"] = v
    if tags:
        ctx["aws:TagKeys"] = list(tags)
    if p.get("TransitiveTagKeys"):
        ctx["sts:TransitiveTagKeys"] = list(p["TransitiveTagKeys"])
    role = p.get("RoleArn") or "*"
    out = [Authorization(f"sts:{call.operation}", role, ctx)]
    if tags:
        out.append(Authorization("sts:TagSession", role, ctx))
    if p.get("SourceIdentity"):
        out.append(Authorization("sts:SetSourceIdentity", role, ctx))
    return out


def _assume_root(call: Call) -> list[Authorization]:
    target = call.params.get("TargetPrincipal") or ""
    account = target.split(":")[4] if target.startswith("arn:") else target
    ctx: Context = {}
    if call.params.get("TaskPolicyArn"):
        ctx["sts:TaskPolicyArn"] = call.params["TaskPolicyArn"].get("arn", "")
    return [Authorization("sts:AssumeRoot", f"arn:{call.partition}:iam::{account}:root", ctx)]


def _federation(call: Call) -> list[Authorization]:
    name = call.params.get("Name")
    out = call.authorize("GetFederationToken", {"FederatedUserName": name}, resource_type="federated-user")
    if request_tags(call.params):
        out += [Authorization("sts:TagSession", out[0].resource, out[0].context)]
    return out


STS = ServiceRules(
    handlers={
        "AssumeRole": _assume,
        "AssumeRoleWithSAML": _assume,
        "AssumeRoleWithWebIdentity": _assume,
        "AssumeRoot": _assume_root,
        "GetFederationToken": _federation,
    },
    unauthorized=frozenset({"GetCallerIdentity"}),
)
