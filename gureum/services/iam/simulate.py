"""The IAM policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy.

Every (action, resource) pair is decided by `engine.evaluate`, the same evaluation the
gateway runs on each request; the simulator only gathers the policies (an entity's own and
its groups', input lists, a boundary, a resource policy, SCPs), turns ContextEntries into
condition keys, and reports which statements decided, where they sit in their document's
JSON text, and which condition keys the applicable statements wanted but were not given.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gureum.context import RequestContext
from gureum.policy import engine
from gureum.policy.document import PolicyDocument, Statement, parse_policy
from gureum.protocol.errors import ServiceError
from gureum.services.iam import authz_data
from gureum.services.iam.common import invalid_input, no_such_entity, paginate
from gureum.services.iam.groups import require_group
from gureum.services.iam.roles import require_role
from gureum.services.iam.users import require_user
from gureum.services.iam.validation import check_request

_ENTITY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):(user|group|role)(/.*)?/([^/]+)$")
_USER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):user(/.*)?/[^/]+$")
_ACCOUNT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root$")
# The scenarios of ResourceHandlingOption that IAM still accepts (EC2-Classic ones are retired).
RESOURCE_HANDLING_OPTIONS = frozenset({
    "EC2-VPC-InstanceStore", "EC2-VPC-InstanceStore-Subnet", "EC2-VPC-EBS", "EC2-VPC-EBS-Subnet",
})
_LIST_TYPES = frozenset({"stringList", "numericList", "booleanList", "ipList", "binaryList", "dateList"})

Position = tuple[int, int]  # (line, column), both from 1


# --- where statements sit in a document's text -----------------------------------------

_WS = " \t\n\r"


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def _string_end(s: str, i: int) -> int:
    i += 1
    while s[i] != '"':
        i += 2 if s[i] == "\\" else 1
    return i + 1


def _value_end(s: str, i: int) -> int:
    if s[i] == '"':
        return _string_end(s, i)
    if s[i] in "{[":
        depth = 0
        while True:
            c = s[i]
            if c == '"':
                i = _string_end(s, i)
                continue
            if c in "{[":
                depth += 1
            elif c in "}]":
                depth -= 1
            i += 1
            if depth == 0:
                return i
    while i < len(s) and s[i] not in ",}]" + _WS:
        i += 1
    return i


def _members(s: str, i: int, close: str):
    """Offsets (start, end) of each value in the object or array opened at s[i]; keys too."""
    i = _skip_ws(s, i + 1)
    while s[i] != close:
        key = None
        if close == "}":
            end = _string_end(s, i)
            key = json.loads(s[i:end])
            i = _skip_ws(s, _skip_ws(s, end) + 1)  # past ':'
        end = _value_end(s, i)
        yield key, i, end
        i = _skip_ws(s, end)
        if s[i] == ",":
            i = _skip_ws(s, i + 1)


def _position(s: str, offset: int) -> Position:
    line_start = s.rfind("\n", 0, offset)
    return s.count("\n", 0, offset) + 1, offset - line_start


def statement_positions(text: str) -> list[tuple[Position, Position]]:
    """Each statement's span as IAM reports it: just after its `{` to just after its `}`.

    The text is a document json.loads accepted; [] if its shape is not a policy's.
    """
    try:
        i = _skip_ws(text, 0)
        if text[i] != "{":
            return []
        span = None
        for key, start, end in _members(text, i, "}"):
            if key == "Statement":
                span = (start, end)  # the last one wins, as in json.loads
        if span is None:
            return []
        start, end = span
        if text[start] == "{":
            spans = [(start, end)]
        elif text[start] == "[":
            spans = [(s, e) for _, s, e in _members(text, start, "]") if text[s] == "{"]
        else:
            return []
        return [(_position(text, s + 1), _position(text, e)) for s, e in spans]
    except (IndexError, ValueError):
        return []


# --- the policies of a simulation ------------------------------------------------------

@dataclass
class SimulatedPolicy:
    """A parsed policy with what the simulator reports about its statements."""

    policy: engine.Policy
    source_id: str
    source_type: str  # user | group | role | aws-managed | user-managed | resource | none
    positions: list[tuple[Position, Position]]
    condition_keys: list[list[str]]  # per statement, as written
    index: dict[int, int]  # id(statement) -> its position in the document

    def matched(self, statements: list[Statement]) -> list[dict]:
        out = []
        for st in statements:
            entry: dict[str, Any] = {"SourcePolicyId": self.source_id, "SourcePolicyType": self.source_type}
            n = self.index[id(st)]
            if n < len(self.positions):
                (l1, c1), (l2, c2) = self.positions[n]
                entry["StartPosition"] = {"Line": l1, "Column": c1}
                entry["EndPosition"] = {"Line": l2, "Column": c2}
            out.append(entry)
        return out


def _load(text: str, kind: str, source_id: str, source_type: str, engine_kind: str) -> SimulatedPolicy:
    try:
        document: PolicyDocument = parse_policy(text, kind)
    except ServiceError as e:
        if e.code == "MalformedPolicyDocument":
            raise invalid_input(e.message) from None
        raise
    raw = json.loads(text)
    statements = raw["Statement"] if isinstance(raw["Statement"], list) else [raw["Statement"]]
    keys = [[k for block in st.get("Condition", {}).values() for k in block] for st in statements]
    return SimulatedPolicy(
        policy=engine.Policy(document=document, kind=engine_kind, source=source_id),
        source_id=source_id, source_type=source_type, positions=statement_positions(text),
        condition_keys=keys, index={id(st): n for n, st in enumerate(document.statements)},
    )


def _input_list(texts: list[str], name: str, kind: str, engine_kind: str) -> list[SimulatedPolicy]:
    return [_load(t, kind, f"{name}.{n}", "none", engine_kind) for n, t in enumerate(texts, 1)]


def _stored(source: str, text: str, engine_kind: str) -> SimulatedPolicy:
    """A policy read from IAM: "inline:<kind>/<entity>/<name>" or a managed policy's ARN."""
    if source.startswith("inline:"):
        kind, _, rest = source[len("inline:"):].partition("/")
        return _load(text, "identity", rest.partition("/")[2], kind, engine_kind)
    managed = "aws-managed" if ":iam::aws:policy/" in source else "user-managed"
    return _load(text, "identity", source.rsplit("/", 1)[-1], managed, engine_kind)


@dataclass
class Simulation:
    identity: list[SimulatedPolicy]
    boundary: SimulatedPolicy | None
    resource: SimulatedPolicy | None
    scps: list[list[SimulatedPolicy]]
    principal_arn: str
    principal_type: str
    principal_account: str
    resource_owner: str

    def policy_set(self) -> engine.PolicySet:
        return engine.PolicySet(
            identity=[p.policy for p in self.identity],
            resource=[self.resource.policy] if self.resource else [],
            boundary=self.boundary.policy if self.boundary else None,
            session=[],
            scps=[[p.policy for p in level] for level in self.scps],
        )


def _excluded(identifiers: list[dict]):
    """PolicyExclusionList as a test on a stored policy's source (and whether it is the boundary)."""
    types, arns, inline = set(), set(), set()
    for ident in identifiers:
        if "PolicyType" in ident:
            types.add(ident["PolicyType"])
        if "PolicyArn" in ident:
            arns.add(ident["PolicyArn"])
        if "InlinePolicyIdentifier" in ident:
            i = ident["InlinePolicyIdentifier"]
            inline.add(f"inline:{i['AttachmentType']}/{i['AttachmentName'].lower()}/{i['PolicyName']}")

    def test(source: str, boundary: bool = False) -> bool:
        if boundary:
            return "permission-boundary" in types or source in arns
        if source.startswith("inline:"):
            kind, entity, name = source[len("inline:"):].split("/", 2)
            return "inline" in types or f"inline:{kind}/{entity.lower()}/{name}" in inline
        managed = "aws-managed" if ":iam::aws:policy/" in source else "user-managed"
        return managed in types or source in arns

    return test


# --- requests --------------------------------------------------------------------------

def _context(entries: list[dict]) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {}
    for entry in entries or []:
        name, values = entry.get("ContextKeyName"), entry.get("ContextKeyValues") or []
        if not name or not values:
            continue
        multi = entry.get("ContextKeyType") in _LIST_TYPES or len(values) > 1
        context[name] = list(values) if multi else values[0]
    return context


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and re.fullmatch(r"\d{12}", parts[4]) else None


def _resource_owner(request: dict, default: str) -> str:
    owner = request.get("ResourceOwner")
    if owner is None:
        return default
    m = _ACCOUNT_ARN.match(owner)
    if not m:
        raise invalid_input(f"'{owner}' is not a valid as a Resource Owner.")
    return m.group(1)


def _caller(request: dict) -> str | None:
    caller = request.get("CallerArn")
    if caller is not None and not _USER_ARN.match(caller):
        raise invalid_input(f"Invalid CallerArn: {caller}")
    return caller


def _check_options(request: dict) -> None:
    option = request.get("ResourceHandlingOption")
    if option is not None and option not in RESOURCE_HANDLING_OPTIONS:
        raise invalid_input(f"Invalid ResourceHandlingOption: {option}")
    for action in request["ActionNames"]:
        if action.count(":") != 1 or not all(action.split(":")):
            raise invalid_input(f"Invalid action name: {action}")


# --- evaluation ------------------------------------------------------------------------

_DECISION = {"allowed": "allowed", "explicit_deny": "explicitDeny", "no_allow": "implicitDeny"}


def _statements(facts, policies: list[SimulatedPolicy], allow: bool, check_principal: bool = False) -> list[dict]:
    out: list[dict] = []
    for p in policies:
        out += p.matched(engine.applicable_statements(facts, p.policy, allow, check_principal))
    return out


def _missing(facts, sim: Simulation, context: dict) -> list[str]:
    """Condition keys of the statements that could apply (conditions aside) not in the context."""
    given = {k.lower() for k in context}
    missing: list[str] = []
    groups = [(p, False) for p in sim.identity + ([sim.boundary] if sim.boundary else [])]
    groups += [(p, False) for level in sim.scps for p in level]
    if sim.resource:
        groups.append((sim.resource, True))
    for p, check_principal in groups:
        for allow in (True, False):
            for st in engine.applicable_statements(facts, p.policy, allow, check_principal, conditions=False):
                for key in p.condition_keys[p.index[id(st)]]:
                    if key.lower() not in given and key not in missing:
                        missing.append(key)
    return missing


def _allows(facts, policies: list[SimulatedPolicy], check_principal: bool = False) -> bool:
    return bool(_statements(facts, policies, True, check_principal)) and not _statements(
        facts, policies, False, check_principal)


def _evaluate(sim: Simulation, action: str, resource: str, context: dict, specific: bool) -> dict:
    resource_account = _arn_account(resource) or (sim.resource_owner if resource != "*" else None)
    facts = engine.RequestFacts(
        principal_arn=sim.principal_arn, principal_account=sim.principal_account,
        principal_type=sim.principal_type, action=action, resource=resource,
        resource_account=resource_account, context=context,
    )
    decision = engine.evaluate(facts, sim.policy_set())
    verdict = _DECISION[decision.reason]
    resources = [sim.resource] if sim.resource else []
    if verdict == "explicitDeny":
        everything = [p for level in sim.scps for p in level] + sim.identity
        everything += [sim.boundary] if sim.boundary else []
        matched = _statements(facts, everything, False) + _statements(facts, resources, False, True)
    elif verdict == "allowed":
        matched = _statements(facts, sim.identity, True) + _statements(facts, resources, True, True)
    else:
        matched = []
    missing = _missing(facts, sim, context)
    detail: dict[str, Any] = {"MatchedStatements": matched, "MissingContextValues": missing}
    if resource != "*":
        details: dict[str, str] = {}
        if resource_account not in (None, sim.principal_account):
            identity_ok = _allows(facts, sim.identity) and (sim.boundary is None or _allows(facts, [sim.boundary]))
            details["IAM Policy"] = "allowed" if identity_ok else (
                "explicitDeny" if _statements(facts, sim.identity, False) else "implicitDeny")
            details["Resource Policy"] = "allowed" if _allows(facts, resources, True) else (
                "explicitDeny" if _statements(facts, resources, False, True) else "implicitDeny")
        detail["EvalDecisionDetails"] = details
    if sim.boundary is not None:
        detail["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": _allows(facts, [sim.boundary])}
    result: dict[str, Any] = {"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": verdict}
    if sim.scps:
        result["OrganizationsDecisionDetail"] = {
            "AllowedByOrganizations": all(_allows(facts, level) for level in sim.scps)}
    if specific:
        result.update(MatchedStatements=matched, MissingContextValues=[])
        if "EvalDecisionDetails" in detail:
            result["EvalDecisionDetails"] = detail["EvalDecisionDetails"]
        if "PermissionsBoundaryDecisionDetail" in detail:
            result["PermissionsBoundaryDecisionDetail"] = detail["PermissionsBoundaryDecisionDetail"]
        result["ResourceSpecificResults"] = [
            {"EvalResourceName": resource, "EvalResourceDecision": verdict, **detail}]
    else:
        result.update(detail)
    return result


def _simulate(sim: Simulation, request: dict) -> dict:
    context = _context(request.get("ContextEntries") or [])
    resources = request.get("ResourceArns") or ["*"]
    specific = bool(request.get("ResourceArns"))
    results = [
        _evaluate(sim, action, resource, context, specific)
        for action in request["ActionNames"] for resource in resources
    ]
    order = {id(r): n for n, r in enumerate(results)}
    page = paginate(results, request, "EvaluationResults", key=lambda r: (order[id(r)],))
    return page


class SimulationOperations:
    """Mixin of the IAM provider: the policy simulator."""

    def simulate_principal_policy(self, ctx: RequestContext, request: dict) -> dict:
        check_request("SimulatePrincipalPolicy", request)
        _check_options(request)
        source = request["PolicySourceArn"]
        m = _ENTITY_ARN.match(source)
        if not m:
            raise invalid_input(f"Invalid Entity Arn: {source}")
        account, kind, name = m.group(1), m.group(2), m.group(4)
        db = self.env.db
        if account != ctx.account_id:
            raise no_such_entity(f"The {kind} with name {name} cannot be found.")
        if kind == "user":
            name = require_user(db, account, name)["user_name"]
        elif kind == "group":
            name = require_group(db, account, name)["group_name"]
        else:
            name = require_role(db, account, name)["role_name"]

        if kind == "group":
            stored = authz_data._entity_policies(db, account, "group", name)
        else:
            stored = authz_data.identity_policy_documents(db, account, kind, name)
        excluded = _excluded(request.get("PolicyExclusionList") or [])
        identity = [_stored(src, text, engine.IDENTITY) for src, text in stored if not excluded(src)]
        identity += _input_list(request.get("PolicyInputList") or [], "PolicyInputList", "session", engine.IDENTITY)
        boundary = self._simulated_boundary(request)
        if boundary is None and kind != "group":
            found = authz_data.permissions_boundary_document(db, account, kind, name)
            if found is not None and not excluded(found[0], boundary=True):
                boundary = _stored(found[0], found[1], engine.BOUNDARY)

        caller = _caller(request) or (source if kind == "user" else None)
        resource = self._simulated_resource_policy(request, caller)
        if caller is not None:
            principal_arn, principal_type = caller, "user"
        else:
            principal_arn, principal_type = source, "assumed-role" if kind == "role" else "user"
        principal_account = _arn_account(principal_arn) or account
        sim = Simulation(
            identity=identity, boundary=boundary, resource=resource, scps=[],
            principal_arn=principal_arn, principal_type=principal_type, principal_account=principal_account,
            resource_owner=_resource_owner(request, principal_account),
        )
        return _simulate(sim, request)

    def simulate_custom_policy(self, ctx: RequestContext, request: dict) -> dict:
        check_request("SimulateCustomPolicy", request)
        _check_options(request)
        identity = _input_list(request["PolicyInputList"], "PolicyInputList", "session", engine.IDENTITY)
        scps = [
            _input_list(level.get("ServiceControlPolicyInputList") or [],
                        f"OrderedOrganizationPolicyInputList.{n}.ServiceControlPolicyInputList", "scp", engine.SCP)
            for n, level in enumerate(request.get("OrderedOrganizationPolicyInputList") or [], 1)
        ]
        caller = _caller(request)
        resource = self._simulated_resource_policy(request, caller)
        principal_arn = caller or f"arn:aws:iam::{ctx.account_id}:user/simulated"
        principal_account = _arn_account(principal_arn) or ctx.account_id
        sim = Simulation(
            identity=identity, boundary=self._simulated_boundary(request), resource=resource,
            scps=[level for level in scps if level], principal_arn=principal_arn, principal_type="user",
            principal_account=principal_account, resource_owner=_resource_owner(request, principal_account),
        )
        return _simulate(sim, request)

    @staticmethod
    def _simulated_boundary(request: dict) -> SimulatedPolicy | None:
        texts = request.get("PermissionsBoundaryPolicyInputList") or []
        if len(texts) > 1:
            raise invalid_input("Only one permissions boundary policy can be simulated.")
        found = _input_list(texts, "PermissionsBoundaryPolicyInputList", "session", engine.BOUNDARY)
        return found[0] if found else None

    @staticmethod
    def _simulated_resource_policy(request: dict, caller: str | None) -> SimulatedPolicy | None:
        text = request.get("ResourcePolicy")
        if text is None:
            return None
        if caller is None:
            raise invalid_input("CallerArn must be specified when simulating a resource policy.")
        return _load(text, "resource", "ResourcePolicy", "resource", engine.RESOURCE)
