"""Which IAM action(s), on which resource ARN(s), an AWS operation is authorised against.

Most operations are authorised as `<prefix>:<OperationName>` on the resource type(s) the
Service Authorization Reference lists for that privilege, with the ARN template filled from
the request. Services whose names differ (S3 above all) declare their exceptions in
`actions_<service>.py`: renamed actions, variables filled from differently named
parameters, and handlers for operations that need several authorizations.

Everything derived from the reference or the botocore model is cached per operation; a
call is then a dict lookup plus template filling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable

from gureum.policy.actions_reference import Privilege, ResourceType, ServiceReference, service_reference

Context = dict[str, "str | list[str]"]


@dataclass(frozen=True)
class Authorization:
    action: str  # "s3:GetObject"
    resource: str  # the ARN, or "*" when the action has no resource type
    context: dict[str, str | list[str]] = field(default_factory=dict)


# botocore service names whose IAM prefix is not their signing name.
PREFIXES = {
    "cloudwatch": "cloudwatch",
    "cloudcontrol": "cloudformation",
    "iot-data": "iot",
    "iot-jobs-data": "iotjobsdata",
    "resourcegroupstaggingapi": "tag",
    "sso": "sso",
    "mturk": "mechanicalturk",
    "applicationcostprofiler": "application-cost-profiler",
    "opensearchmemory": "opensearch",
    "iotsecuretunneling": "iot",
    "keyspaces": "cassandra",
    "lambda-core": "lambda",
}


@dataclass
class Call:
    """One request being authorised: what handlers and variable getters work from."""

    service: str
    operation: str
    prefix: str
    params: dict
    account_id: str
    region: str
    partition: str
    caller_arn: str | None

    def authorize(
        self,
        privilege: str,
        values: dict[str, str | list[str] | None] | None = None,
        context: Context | None = None,
        *,
        prefix: str | None = None,
        resource_type: str | None = None,
    ) -> list[Authorization]:
        """The authorizations of one privilege, its resource filled from `values` first
        and then from the request's parameters."""
        return _resolve(self, prefix or self.prefix, privilege, values or {}, context or {}, resource_type)

    def arn(self, resource_type: str, prefix: str | None = None, **values: str) -> str:
        """The ARN of a resource type of this (or another) prefix; unknown parts are "*"."""
        ref = service_reference(prefix or self.prefix)
        rtype = ref.resources.get(resource_type) if ref else None
        if rtype is None:
            return "*"
        return rtype.fill({"Partition": self.partition, "Region": self.region, "Account": self.account_id,
                           **values})


Handler = Callable[[Call], list[Authorization]]
VariableGetter = Callable[[Call], "str | list[str] | None"]


@dataclass
class ServiceRules:
    """A service's exceptions to the generic rule."""

    # operation -> privilege name, when they differ (resource and context stay generic).
    actions: dict[str, str] = field(default_factory=dict)
    # operation -> handler returning every authorization the operation needs.
    handlers: dict[str, Handler] = field(default_factory=dict)
    # ARN template variable -> how to read it from a request of this service.
    variables: dict[str, VariableGetter] = field(default_factory=dict)
    # operation -> extra service-specific condition keys from the request.
    context: dict[str, Callable[[Call], Context]] = field(default_factory=dict)
    # Operations AWS does not authorise at all.
    unauthorized: frozenset[str] = frozenset()


def authorizations(
    service: str,
    operation: str,
    params: dict,
    *,
    account_id: str,
    region: str,
    partition: str = "aws",
    caller_arn: str | None = None,
) -> list[Authorization]:
    """Every (action, resource, context) AWS authorises the operation against."""
    prefix, rules = _service(service)
    if operation in rules.unauthorized:
        return []
    call = Call(service, operation, prefix, params or {}, account_id, region, partition, caller_arn)
    handler = rules.handlers.get(operation)
    if handler is not None:
        return handler(call)
    context = rules.context.get(operation)
    return call.authorize(rules.actions.get(operation, operation), context=context(call) if context else None)


def action_name(service: str, operation: str) -> str:
    """The main IAM action of an operation (for coverage reports and messages)."""
    prefix, rules = _service(service)
    return f"{prefix}:{rules.actions.get(operation, operation)}"


def prefix_of(service: str) -> str:
    return _service(service)[0]


@lru_cache(maxsize=None)
def _service(service: str) -> tuple[str, ServiceRules]:
    from gureum.policy import actions_rules

    rules = actions_rules.RULES.get(service) or ServiceRules()
    prefix = PREFIXES.get(service)
    if prefix is None:
        prefix = _signing_name(service)
    return prefix, rules


def _signing_name(service: str) -> str:
    from gureum.protocol.model import service_model

    try:
        return service_model(service).signing_name or service
    except Exception:  # an unknown service name: its name is the best guess
        return service


# --- generic resolution -------------------------------------------------------------------

def _resolve(
    call: Call,
    prefix: str,
    privilege_name: str,
    values: dict,
    context: Context,
    only_type: str | None,
) -> list[Authorization]:
    action = f"{prefix}:{privilege_name}"
    context = {**_tag_context(call), **context} if _has_tags(call.params) else context
    ref = service_reference(prefix)
    privilege = ref.privileges.get(privilege_name) if ref else None
    if privilege is None:
        return [Authorization(action, "*", context)]
    if only_type is not None:
        types, required = (only_type,), True
    elif privilege.required:
        types, required = privilege.required, True
    else:
        types, required = privilege.optional, False
    given = _given_arns(call, ref, privilege) if only_type is None else {}
    out: list[Authorization] = []
    for type_name in types:
        if type_name in given:
            out.extend(Authorization(action, arn, context) for arn in given[type_name])
            if not required:
                break
            continue
        rtype = ref.resources[type_name]
        # When the request names its resource by ARN, the other types are alternatives.
        arns = _arns(call, prefix, rtype, values, required and not given)
        if arns is None:
            continue
        out.extend(Authorization(action, arn, context) for arn in arns)
        if not required:
            break  # the first resource type the request names is the one authorised
    if not out and given:
        out = [Authorization(action, arn, context) for arns in given.values() for arn in arns]
    return out or [Authorization(action, "*", context)]


def _given_arns(call: Call, ref: ServiceReference, privilege: Privilege) -> dict[str, list[str]]:
    """Resource ARNs the request passes in *Arn members, by the resource type they match."""
    members = _arn_members(call.service, call.operation)
    if not members:
        return {}
    found: dict[str, list[str]] = {}
    for member in members:
        value = call.params.get(member)
        for arn in value if isinstance(value, list) else [value]:
            if not isinstance(arn, str) or not arn.startswith("arn:"):
                continue
            for type_name in privilege.required + privilege.optional:
                if ref.resources[type_name].matches(arn):
                    found.setdefault(type_name, []).append(arn)
                    break
    return found


@lru_cache(maxsize=None)
def _arn_members(service: str, operation: str) -> tuple[str, ...]:
    return tuple(m for m in _input_members(service, operation) if m.lower().endswith(("arn", "arns")))


def _arns(call: Call, prefix: str, rtype: ResourceType, values: dict, required: bool) -> list[str] | None:
    """The ARN(s) of a resource type named by the request, or None when it names none.

    A required type whose identifier the request lacks (the resource is being created)
    is authorised as `...:instance/*`, as AWS does."""
    getters = _getters(call.service, call.operation, prefix)
    filled: dict[str, list[str]] = {}
    for var in rtype.variables:
        value = values[var] if var in values else getters(var, call)
        if value is None or value == [] or value == "":
            continue
        items = value if isinstance(value, list) else [value]
        arn_given = [v for v in items if isinstance(v, str) and v.startswith("arn:")]
        if arn_given and len(arn_given) == len(items):
            if rtype.matches(arn_given[0]) or len(rtype.variables) == 1:
                return arn_given  # an ARN names the resource exactly (even across accounts)
            continue
        filled[var] = [str(v) for v in items]
    if not required and (not rtype.variables or len(filled) < len(rtype.variables)):
        return None
    base = {"Partition": call.partition, "Region": call.region, "Account": call.account_id}
    combos: list[dict[str, str]] = [base]
    for var, items in filled.items():
        combos = [{**c, var: item} for c in combos for item in items]
    return [rtype.fill(c) for c in combos]


@lru_cache(maxsize=None)
def _getters(service: str, operation: str, prefix: str) -> Callable[[str, Call], Any]:
    """For one operation: ARN variable -> its value in a request, cached per variable."""
    from gureum.policy import actions_rules

    rules = actions_rules.RULES.get(service) or ServiceRules()
    members = _input_members(service, operation)
    by_norm: dict[str, str] = {}
    for m in members:
        by_norm.setdefault(_norm(m), m)
    cache: dict[str, Callable[[Call], Any] | None] = {}

    def lookup(var: str, call: Call):
        if var not in cache:
            getter = rules.variables.get(var)
            if getter is None:
                member = var if var in members else by_norm.get(_norm(var))
                getter = (lambda c, m=member: c.params.get(m)) if member else None
            cache[var] = getter
        getter = cache[var]
        return getter(call) if getter else None

    return lookup


@lru_cache(maxsize=None)
def _input_members(service: str, operation: str) -> frozenset[str]:
    from gureum.protocol.model import service_model

    try:
        shape = service_model(service).operation_model(operation).input_shape
    except Exception:
        return frozenset()
    return frozenset(shape.members) if shape is not None else frozenset()


_SUFFIXES = re.compile(r"(withpath|withoutleadingslash)?$")
_ID_SUFFIXES = re.compile(r"(identifiers|identifier|names|name|ids|id|arns|arn|urls|url)$")


def _norm(name: str) -> str:
    """A parameter or template variable name reduced to what it names:
    InstanceIds, InstanceId -> instance; DBInstanceIdentifier, DbInstanceName -> dbinstance."""
    n = _SUFFIXES.sub("", name.lower())
    stripped = _ID_SUFFIXES.sub("", n)
    return stripped or n


# --- request tags -------------------------------------------------------------------------

# S3 object tags (the Tagging header) are s3:RequestObjectTag keys, set by actions_s3.
_TAG_MEMBERS = ("Tags", "TagSpecifications", "TagList", "tags", "TagKeys", "tagKeys")


def _has_tags(params: dict) -> bool:
    return any(m in params for m in _TAG_MEMBERS)


def _tag_context(call: Call) -> Context:
    """aws:RequestTag/<key> and aws:TagKeys from the tags a request carries."""
    tags = request_tags(call.params)
    keys = list(tags)
    removed = call.params.get("TagKeys") or call.params.get("tagKeys")
    if isinstance(removed, list):
        keys.extend(k for k in removed if isinstance(k, str))
    out: Context = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if keys:
        out["aws:TagKeys"] = keys
    return out


def request_tags(params: dict) -> dict[str, str]:
    """The tags a request sets, whatever shape the service gives them."""
    tags: dict[str, str] = {}
    for member in ("Tags", "TagList", "tags"):
        tags.update(_tag_pairs(params.get(member)))
    for spec in params.get("TagSpecifications") or []:
        if isinstance(spec, dict):
            tags.update(_tag_pairs(spec.get("Tags")))
    tagging = params.get("Tagging")
    if isinstance(tagging, dict):
        tags.update(_tag_pairs(tagging.get("TagSet")))
    elif isinstance(tagging, str) and tagging:
        from urllib.parse import parse_qsl

        tags.update(parse_qsl(tagging, keep_blank_values=True))
    return tags


def _tag_pairs(value: Any) -> Iterable[tuple[str, str]]:
    if isinstance(value, dict):
        return [(str(k), str(v)) for k, v in value.items()]
    if isinstance(value, list):
        pairs = []
        for t in value:
            if isinstance(t, dict) and ("Key" in t or "key" in t):
                pairs.append((str(t.get("Key", t.get("key"))), str(t.get("Value", t.get("value", "")))))
        return pairs
    return []
