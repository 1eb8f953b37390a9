"""Policy documents: validated as IAM validates them, compiled once for fast evaluation.

`parse_policy(text, kind)` checks a document in the order IAM reports problems (syntax,
version, legacy parsing, statement IDs, actions, resources, resource formats, action
vendors) and raises ServiceError("MalformedPolicyDocument", <IAM's message>, 400). The
result is cached by (text, kind): the same attached policy is parsed once per process.

kind is one of:
  identity  - user/group/role policies and managed policies: no Principal, Resource required
  boundary  - a permissions boundary (a managed policy): as identity
  session   - a session policy passed to AssumeRole*/GetFederationToken: as identity
  scp       - an Organizations service control policy: no Principal, Resource optional
  resource  - a resource's own policy (bucket, queue, key ...): Principal required
  trust     - a role's assume-role policy: Principal required, Resource prohibited
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

from gureum.policy.conditions import Condition, compile_conditions, conditions_hold, malformed
from gureum.policy.matching import ActionMatcher, arn_matcher, compile_actions, has_wildcard
from gureum.policy.variables import Context, Template, parse_template

KINDS = ("identity", "resource", "trust", "boundary", "session", "scp")
_IDENTITY_LIKE = ("identity", "boundary", "session", "scp")
VERSIONS = ("2008-10-17", "2012-10-17")
_TOP_FIELDS = ("Version", "Id", "Statement")
_STATEMENT_FIELDS = (
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition",
)
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_IAM_PATHS = (
    "user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/", "server-certificate/",
    "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/", "report/", "access-report/",
)
_SID = re.compile(r"^[0-9A-Za-z]*$")
_VENDOR = re.compile(r"[^a-zA-Z0-9\-.*?]")
_ACCOUNT = re.compile(r"^\d{12}$")
_AWS_PRINCIPAL = re.compile(
    r"^arn:aws[a-z-]*:(?:iam::(\d{12}):(?:root|user/[^*?]+|role/[^*?]+)"
    r"|sts::(\d{12}):(?:assumed-role/[^/*?]+/[^*?]+|federated-user/[^*?]+))$"
)
_UNIQUE_ID = re.compile(r"^A[A-Z0-9]{3}[A-Z0-9]{12,}$")
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


class _Syntax(Exception):
    """A structural problem: IAM reports it as "Syntax errors in policy."."""


# --- principals ------------------------------------------------------------------------

DIRECT, ROLE, ACCOUNT = "direct", "role", "account"


@dataclass(frozen=True)
class PrincipalSpec:
    """A Principal/NotPrincipal element, sorted by what each entry can match."""

    any: bool = False
    accounts: frozenset[str] = frozenset()  # "123456789012" and account root ARNs
    arns: frozenset[str] = frozenset()  # users, role sessions, federated users, unique IDs
    roles: frozenset[str] = frozenset()  # role ARNs: match the role's sessions
    role_names: frozenset[tuple[str, str]] = frozenset()  # (account, role name) without path
    services: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()
    canonical: frozenset[str] = frozenset()

    def match(self, principal_type: str, principal_arn: str, account: str, ctx: Context) -> str | None:
        """How the principal is named: DIRECT, ROLE (its role), ACCOUNT (its account) or None."""
        if self.any:
            return DIRECT
        if principal_type == "service":
            return DIRECT if principal_arn.lower() in self.services else None
        if principal_type == "anonymous":
            return None
        if principal_arn in self.arns or principal_arn in self.federated or principal_arn in self.canonical:
            return DIRECT
        userid = ctx.get("aws:userid")
        if isinstance(userid, str) and userid.partition(":")[0] in self.arns:
            # A unique ID names the user, or for AROA...:session the role.
            return ROLE if principal_type == "assumed-role" else DIRECT
        if principal_type == "assumed-role" and (self.roles or self.role_names):
            role_arn = ctx.get("aws:principalarn")
            if isinstance(role_arn, str) and role_arn in self.roles:
                return ROLE
            # arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION names the role without its path
            name = principal_arn.split(":", 5)[-1].split("/")
            if len(name) >= 2 and (account, name[1]) in self.role_names:
                return ROLE
        if account in self.accounts:
            return DIRECT if principal_type == "root" else ACCOUNT
        return None

    def excludes(self, principal_type: str, principal_arn: str, account: str, ctx: Context) -> bool:
        """NotPrincipal: a principal escapes only if it and its account are both listed."""
        how = self.match(principal_type, principal_arn, account, ctx)
        if how is None or how == ACCOUNT:
            return False
        if self.any or principal_type in ("root", "service", "anonymous"):
            return True
        return account in self.accounts


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise _Syntax


def _invalid_principal(kind: str, value: str) -> Exception:
    return malformed(f'Invalid principal in policy: "{kind}":"{value}"')


def _compile_principal(element: Any) -> PrincipalSpec:
    if element == "*":
        return PrincipalSpec(any=True)
    if not isinstance(element, dict) or not element:
        raise _Syntax
    accounts: set[str] = set()
    arns: set[str] = set()
    roles: set[str] = set()
    role_names: set[tuple[str, str]] = set()
    services: set[str] = set()
    federated: set[str] = set()
    canonical: set[str] = set()
    any_principal = False
    for kind, value in element.items():
        if kind not in _PRINCIPAL_TYPES:
            raise malformed(f'Invalid principal in policy: "{kind}":{json.dumps(value)}')
        for entry in _strings(value):
            if kind == "AWS":
                if entry == "*":
                    any_principal = True
                elif _ACCOUNT.match(entry):
                    accounts.add(entry)
                elif _UNIQUE_ID.match(entry):
                    arns.add(entry)
                else:
                    m = _AWS_PRINCIPAL.match(entry)
                    if not m:
                        raise _invalid_principal(kind, entry)
                    account = m.group(1) or m.group(2)
                    resource = entry.split(":", 5)[5]
                    if resource == "root":
                        accounts.add(account)
                    elif resource.startswith("role/"):
                        roles.add(entry)
                        role_names.add((account, resource.rsplit("/", 1)[-1]))
                    else:
                        arns.add(entry)
            elif kind == "Service":
                if not entry:
                    raise _invalid_principal(kind, entry)
                services.add(entry.lower())
            elif kind == "Federated":
                federated.add(entry)
            else:
                canonical.add(entry)
    return PrincipalSpec(
        any=any_principal, accounts=frozenset(accounts), arns=frozenset(arns), roles=frozenset(roles),
        role_names=frozenset(role_names), services=frozenset(services), federated=frozenset(federated),
        canonical=frozenset(canonical),
    )


# --- statements --------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Statement:
    sid: str | None
    allow: bool
    actions: ActionMatcher
    not_action: bool
    resources: tuple[Template, ...] | None  # None: the statement names no resource (all)
    not_resource: bool
    principal: PrincipalSpec | None
    not_principal: bool
    conditions: tuple[Condition, ...]
    # the static (variable-free) resource patterns as one regex; "*" sets resource_any
    resource_any: bool = False
    resource_regex: re.Pattern[str] | None = None
    dynamic_resources: tuple[Template, ...] = ()

    def matches_action(self, action_lc: str) -> bool:
        return self.actions.matches(action_lc) != self.not_action

    def matches_resource(self, resource: str, ctx: Context) -> bool:
        if self.resources is None:
            return True
        return self._named(resource, ctx) != self.not_resource

    def _named(self, resource: str, ctx: Context) -> bool:
        if self.resource_any:
            return True
        if self.resource_regex is not None and self.resource_regex.fullmatch(resource):
            return True
        for template in self.dynamic_resources:
            pieces = template.render(ctx)
            if pieces is not None and (
                pieces == (("*", True),) or arn_matcher(pieces).fullmatch(resource) is not None
            ):
                return True
        return False

    def matches_conditions(self, ctx: Mapping[str, Any]) -> bool:
        return not self.conditions or conditions_hold(self.conditions, ctx)

    def principal_match(self, principal_type: str, principal_arn: str, account: str, ctx: Context) -> str | None:
        """For resource policies: how this statement names the principal (None: not at all)."""
        if self.principal is None:
            return DIRECT
        if self.not_principal:
            return None if self.principal.excludes(principal_type, principal_arn, account, ctx) else DIRECT
        return self.principal.match(principal_type, principal_arn, account, ctx)


@dataclass(eq=False)
class PolicyDocument:
    version: str
    id: str | None
    statements: tuple[Statement, ...]
    kind: str
    _index: dict[str, tuple[tuple[Statement, ...], tuple[Statement, ...]]] = field(default_factory=dict, repr=False)

    def for_service(self, service: str) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
        """(Allow statements, Deny statements) that can apply to actions of `service`."""
        found = self._index.get(service)
        if found is None:
            relevant = [
                s for s in self.statements
                if s.not_action or s.actions.services is None or service in s.actions.services
            ]
            found = (tuple(s for s in relevant if s.allow), tuple(s for s in relevant if not s.allow))
            self._index[service] = found
        return found


# --- validation --------------------------------------------------------------------------

def _check_resource_format(resource: str) -> str | None:
    """IAM's message for a malformed Resource entry, or None."""
    if resource == "*":
        return None
    prefix, colon, rest = resource.partition(":")
    if not colon:
        return f'Resource {resource} must be in ARN format or "*".'
    partition, colon, rest = rest.partition(":")
    if partition not in _PARTITIONS:
        parts = rest.split(":")
        arn = [parts[0] if parts[0] or len(parts) > 1 else "*"]
        arn.append(parts[1] if len(parts) > 1 else "*")
        arn.append(parts[2] if len(parts) > 2 else "*")
        arn.append(":".join(parts[3:]) if len(parts) > 3 else "*")
        return f'Partition "{partition}" is not valid for resource "arn:{partition}:{":".join(arn)}".'
    if not colon:
        return "Resource vendor must be fully qualified and cannot contain regexes."
    service, _, rest = rest.partition(":")
    if has_wildcard(service):
        return "Resource vendor must be fully qualified and cannot contain regexes."
    if service == "iam" and not rest.startswith(":"):
        return f"IAM resource {resource} cannot contain region information."
    if service == "s3" and not rest.startswith(":"):
        return f"Resource {resource} can not contain region information."
    if service == "iam":
        path = rest.partition(":")[2].partition(":")[2]
        if path != "*" and not path.startswith(_IAM_PATHS):
            return f'IAM resource path must either be "*" or start with {", ".join(_IAM_PATHS)}.'
    return None


def _legacy_resource_ok(resource: str) -> bool:
    if resource == "*":
        return True
    parts = resource.split(":")
    return (resource.count(":") >= 5 or "::" not in resource) and len(parts) > 2 and parts[2] != ""


def _check_action(action: str) -> str | None:
    parts = action.split(":")
    if len(parts) == 1 and parts[0] != "*":
        return "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    if len(parts) > 2:
        return "Actions/Condition can contain only one colon."
    if parts[0] != "*" and _VENDOR.search(parts[0]):
        return f"Vendor {parts[0]} is not valid"
    return None


def _statements(raw: dict) -> list[Any]:
    if "Statement" not in raw:
        raise _Syntax
    statements = raw["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise _Syntax
    return statements


def _check_syntax(raw: Any, kind: str) -> list[dict]:
    """Structure and types; trust policies report field problems by name, as IAM does."""
    if not isinstance(raw, dict):
        raise _Syntax
    for name in raw:
        if name not in _TOP_FIELDS:
            if kind == "trust":
                raise malformed(f"Unknown field {name}")
            raise _Syntax
    if "Version" in raw and raw["Version"] not in VERSIONS:
        raise _Syntax
    if "Id" in raw and not isinstance(raw["Id"], str):
        raise _Syntax
    statements = _statements(raw)
    for st in statements:
        if not isinstance(st, dict):
            raise _Syntax
        for name in st:
            if name not in _STATEMENT_FIELDS:
                if kind == "trust":
                    raise malformed(f"Unknown field {name}")
                raise _Syntax
        if "Effect" not in st:
            if kind == "trust":
                raise malformed("Missing required field Effect")
            raise _Syntax
        if not isinstance(st["Effect"], str) or st["Effect"].lower() not in ("allow", "deny"):
            raise _Syntax
        for a, b in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
            if a in st and b in st:
                raise _Syntax
        for name in ("Action", "NotAction", "Resource", "NotResource"):
            if name in st:
                value = st[name]
                if not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
                    raise _Syntax
        if "Sid" in st and not isinstance(st["Sid"], str):
            raise _Syntax
        if "Condition" in st:
            cond = st["Condition"]
            if not isinstance(cond, dict) or not all(isinstance(v, dict) for v in cond.values()):
                raise _Syntax
    return statements


def _check_principals(statements: list[dict], kind: str) -> None:
    for st in statements:
        has = "Principal" in st or "NotPrincipal" in st
        if kind in _IDENTITY_LIKE and has:
            raise malformed("Policy document should not specify a principal.")
        if kind == "trust":
            for name in ("Resource", "NotResource", "NotPrincipal"):
                if name in st:
                    raise malformed(f"Has prohibited field {name}")
            if "Principal" not in st:
                raise malformed("Missing required field Principal")
        if kind == "resource" and not has:
            raise malformed("Missing required field Principal")


def _validate(raw: Any, kind: str) -> list[dict]:
    statements = _check_syntax(raw, kind)
    _check_principals(statements, kind)
    if kind in ("identity", "boundary") and raw.get("Version") != "2012-10-17":
        raise malformed("Policy document must be version 2012-10-17 or greater.")
    resource_error = None
    for st in statements:
        if st["Effect"] not in ("Allow", "Deny"):  # case-sensitive, unlike the syntax check
            raise malformed("The policy failed legacy parsing")
        for name in ("Resource", "NotResource"):
            if name in st:
                values = [st[name]] if isinstance(st[name], str) else sorted(st[name], reverse=True)
                for value in values:
                    resource_error = resource_error or _check_resource_format(value)
                if resource_error is None and not all(_legacy_resource_ok(v) for v in values):
                    raise malformed("The policy failed legacy parsing")
    sids: set[str] = set()
    for st in statements:
        sid = st.get("Sid")
        if sid:
            if sid in sids:
                raise malformed("Statement IDs (SID) in a single policy must be unique.")
            sids.add(sid)
    for st in statements:
        name = "Action" if "Action" in st else "NotAction" if "NotAction" in st else None
        if name is None or st[name] == []:
            raise malformed("Policy statement must contain actions.")
    if kind in ("identity", "boundary", "session"):
        for st in statements:
            name = "Resource" if "Resource" in st else "NotResource" if "NotResource" in st else None
            if name is None or st[name] == []:
                raise malformed("Policy statement must contain resources.")
    if resource_error:
        raise malformed(resource_error)
    for st in statements:
        for name in ("Action", "NotAction"):
            if name in st:
                for action in [st[name]] if isinstance(st[name], str) else st[name]:
                    error = _check_action(action)
                    if error:
                        raise malformed(error)
    if kind in ("identity", "boundary"):
        for st in statements:
            if "Sid" in st and not _SID.match(st["Sid"]):
                raise malformed(
                    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
                    "regular expression [0-9A-Za-z]*"
                )
    return statements


# --- compilation -------------------------------------------------------------------------

def _compile_statement(st: dict, allow_vars: bool) -> Statement:
    action_key = "Action" if "Action" in st else "NotAction"
    actions = st[action_key]
    actions = [actions] if isinstance(actions, str) else actions
    resources: tuple[Template, ...] | None = None
    not_resource = "NotResource" in st
    resource_any, resource_regex, dynamic = False, None, ()
    if "Resource" in st or not_resource:
        raw = st["NotResource" if not_resource else "Resource"]
        raw = [raw] if isinstance(raw, str) else raw
        resources = tuple(parse_template(r, allow_vars) for r in raw)
        static = [t for t in resources if not t.has_vars]
        dynamic = tuple(t for t in resources if t.has_vars)
        resource_any = any(t.text == "*" for t in static)
        patterns = [arn_matcher(t.static_pieces).pattern for t in static if t.text != "*"]
        if patterns and not resource_any:
            resource_regex = re.compile("|".join(f"(?:{p})" for p in patterns), re.DOTALL)
    principal, not_principal = None, False
    if "Principal" in st or "NotPrincipal" in st:
        not_principal = "NotPrincipal" in st
        principal = _compile_principal(st["NotPrincipal" if not_principal else "Principal"])
    return Statement(
        sid=st.get("Sid"),
        allow=st["Effect"] == "Allow",
        actions=compile_actions(actions),
        not_action=action_key == "NotAction",
        resources=resources,
        not_resource=not_resource,
        principal=principal,
        not_principal=not_principal,
        conditions=compile_conditions(st["Condition"], allow_vars) if "Condition" in st else (),
        resource_any=resource_any,
        resource_regex=resource_regex,
        dynamic_resources=dynamic,
    )


@lru_cache(maxsize=4096)
def parse_policy(text: str, kind: str) -> PolicyDocument:
    """Validate and compile a policy document (MalformedPolicyDocument when IAM would refuse it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown policy kind {kind!r}")
    try:
        raw = json.loads(text)
        statements = _validate(raw, kind)
        version = raw.get("Version", "2008-10-17")
        allow_vars = version == "2012-10-17"
        compiled = tuple(_compile_statement(st, allow_vars) for st in statements)
    except (_Syntax, ValueError, TypeError, RecursionError):
        raise malformed("Syntax errors in policy.") from None
    return PolicyDocument(version=version, id=raw.get("Id"), statements=compiled, kind=kind)
