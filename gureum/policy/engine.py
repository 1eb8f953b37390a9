"""AWS's policy evaluation logic.

Follows the IAM User Guide, "Policy evaluation logic" (reference_policies_evaluation-logic)
and "Cross-account policy evaluation logic" (reference_policies_evaluation-logic-cross-account):

1. Explicit deny: a matching Deny statement in any SCP, resource-based policy,
   identity-based policy, permissions boundary or session policy denies the request.
2. Organizations SCPs: every level (root, each OU, the account) must hold an Allow for
   the request; they limit every principal of a member account, its root user included.
   The management account has no SCPs (the caller passes none).
3. Resource-based policies, within the account:
   - an Allow that names the IAM user, the role session or federated-user session, or
     everyone ("*"), grants the request whatever the identity-based policies,
     permissions boundary and session policies say;
   - an Allow that names the role (or the IAM user who federated) grants it subject to
     the permissions boundary and session policies;
   - an Allow that names the account delegates to the account's IAM policies: it grants
     nothing by itself except to the account's root user.
4. Identity-based policies must allow, and then the permissions boundary (if any) and the
   session policies (if any) must allow too: the permissions are their intersection.
5. Across accounts, the identity side (steps 4) in the principal's account and a
   resource-based policy in the resource's account (naming the principal, its role or
   its account) must both allow.
The account root user is allowed everything in its own account unless an explicit deny
(in a resource policy or SCP) or a missing SCP allow stops it. Anonymous callers and
service principals get only what a resource-based policy grants them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from gureum.policy.document import ACCOUNT, DIRECT, ROLE, PolicyDocument, Statement

IDENTITY = "identity-based policy"
RESOURCE = "resource-based policy"
BOUNDARY = "permissions boundary"
SESSION = "session policy"
SCP = "service control policy"


@dataclass
class Policy:
    """One parsed document with where it came from."""

    document: PolicyDocument
    kind: str
    source: str  # e.g. the policy ARN, or "inline:UserName/PolicyName"


@dataclass
class RequestFacts:
    """What is being asked, and by whom."""

    principal_arn: str
    principal_account: str
    principal_type: str  # root | user | assumed-role | federated-user | anonymous | service
    action: str  # "s3:GetObject"
    resource: str  # an ARN, or "*"
    resource_account: str | None
    # Condition keys; any mapping: a lazy one is built only if a statement tests it.
    context: Mapping[str, str | list[str]] = field(default_factory=dict)


@dataclass
class PolicySet:
    identity: list[Policy]
    resource: list[Policy]
    boundary: Policy | None
    session: list[Policy]
    scps: list[list[Policy]]  # one list per level (root, OUs, account); each level must allow
    is_root: bool = False


@dataclass
class Decision:
    allowed: bool
    reason: str  # "explicit_deny" | "no_allow" | "allowed"
    denied_by: str | None = None  # the policy type that decided a denial
    policy_source: str | None = None  # the denying policy's source, for explicit denies


ALLOWED = Decision(True, "allowed")


class _Request:
    """The facts in the form the statements test them: lower-cased action and keys."""

    __slots__ = ("facts", "action", "service", "resource", "_ctx")

    def __init__(self, facts: RequestFacts):
        self.facts = facts
        self.action = facts.action.lower()
        self.service = self.action.partition(":")[0]
        self.resource = facts.resource
        self._ctx: dict[str, Any] | None = None

    @property
    def ctx(self) -> dict[str, Any]:
        """The condition keys, lower-cased when a statement first needs them (often never)."""
        if self._ctx is None:
            self._ctx = {k.lower(): v for k, v in self.facts.context.items()}
        return self._ctx

    def applies(self, st: Statement) -> bool:
        return (
            st.matches_action(self.action)
            and st.matches_resource(self.resource, self.ctx)
            and st.matches_conditions(self.ctx)
        )

    def named(self, st: Statement) -> str | None:
        f = self.facts
        return st.principal_match(f.principal_type, f.principal_arn, f.principal_account, self.ctx)


def _denying(policy: Policy, req: _Request, check_principal: bool) -> bool:
    for st in policy.document.for_service(req.service)[1]:
        if req.applies(st) and (not check_principal or req.named(st) is not None):
            return True
    return False


def _allows(policies: list[Policy], req: _Request) -> bool:
    for policy in policies:
        for st in policy.document.for_service(req.service)[0]:
            if req.applies(st):
                return True
    return False


_RANK = {DIRECT: 3, ROLE: 2, ACCOUNT: 1}


def _resource_grant(policies: list[Policy], req: _Request) -> str | None:
    """The strongest way an Allow in the resource policies names this principal."""
    best: str | None = None
    for policy in policies:
        for st in policy.document.for_service(req.service)[0]:
            how = req.named(st)
            if how is None or (best is not None and _RANK[how] <= _RANK[best]):
                continue
            if req.applies(st):
                best = how
                if how == DIRECT:
                    return best
    return best


def _explicit_deny(req: _Request, policies: PolicySet, is_root: bool) -> Decision | None:
    groups: list[tuple[str, list[Policy], bool]] = [(SCP, level, False) for level in policies.scps]
    groups.append((RESOURCE, policies.resource, True))
    if not is_root:
        groups.append((IDENTITY, policies.identity, False))
        if policies.boundary is not None:
            groups.append((BOUNDARY, [policies.boundary], False))
        groups.append((SESSION, policies.session, False))
    for denied_by, group, check_principal in groups:
        for policy in group:
            if _denying(policy, req, check_principal):
                return Decision(False, "explicit_deny", denied_by, policy.source)
    return None


def _identity_side(req: _Request, policies: PolicySet) -> str | None:
    """None when identity ∩ boundary ∩ session allow; else the policy type lacking an allow."""
    if not _allows(policies.identity, req):
        return IDENTITY
    return _limits(req, policies)


def _limits(req: _Request, policies: PolicySet) -> str | None:
    if policies.boundary is not None and not _allows([policies.boundary], req):
        return BOUNDARY
    if policies.session and not _allows(policies.session, req):
        return SESSION
    return None


def evaluate(facts: RequestFacts, policies: PolicySet) -> Decision:
    """Decide one request (action on resource) over every policy that applies to it."""
    req = _Request(facts)
    ptype = facts.principal_type
    is_root = policies.is_root or ptype == "root"

    denied = _explicit_deny(req, policies, is_root)
    if denied is not None:
        return denied

    for level in policies.scps:
        if not _allows(level, req):
            return Decision(False, "no_allow", SCP)

    grant = _resource_grant(policies.resource, req) if policies.resource else None
    if ptype in ("anonymous", "service") or not facts.principal_account:
        return ALLOWED if grant == DIRECT else Decision(False, "no_allow", RESOURCE)

    cross_account = facts.resource_account not in (None, "", facts.principal_account)
    if cross_account:
        lacking = None if is_root else _identity_side(req, policies)
        if lacking is not None:
            return Decision(False, "no_allow", lacking)
        return ALLOWED if grant is not None else Decision(False, "no_allow", RESOURCE)

    if is_root or grant == DIRECT:
        return ALLOWED
    if grant == ROLE:
        lacking = _limits(req, policies)
    else:
        lacking = _identity_side(req, policies)
    return ALLOWED if lacking is None else Decision(False, "no_allow", lacking)


def principal_matches(document: PolicyDocument, facts: RequestFacts) -> bool:
    """Whether a trust policy lets this principal perform facts.action (sts:AssumeRole...).

    An Allow must name the principal (its ARN, its role for a role session, its account,
    "*" or its service) with the action and conditions holding, and no Deny may apply.
    Naming the account trusts whomever that account's own policies let assume the role;
    the caller still evaluates the principal's identity side for that.
    """
    req = _Request(facts)
    allows, denies = document.for_service(req.service)
    for st in denies:
        if req.applies(st) and req.named(st) is not None:
            return False
    return any(req.named(st) is not None and req.applies(st) for st in allows)


def applicable_statements(
    facts: RequestFacts, policy: Policy, allow: bool, check_principal: bool = False, conditions: bool = True,
) -> list[Statement]:
    """The Allow (or Deny) statements of one policy that apply to a request, in document order.

    check_principal: a resource policy's statement must also name the principal.
    conditions=False ignores the Condition elements (which statements could apply at all).
    For reports such as the policy simulator's MatchedStatements; `evaluate` decides.
    """
    req = _Request(facts)
    allows, denies = policy.document.for_service(req.service)
    out = []
    for st in allows if allow else denies:
        if not (st.matches_action(req.action) and st.matches_resource(req.resource, req.ctx)):
            continue
        if conditions and not st.matches_conditions(req.ctx):
            continue
        if check_principal and req.named(st) is None:
            continue
        out.append(st)
    return out
