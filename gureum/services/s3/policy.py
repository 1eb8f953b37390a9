"""Bucket policies: S3's validation, and whether a policy is "public" as Block Public Access defines it.

A policy is public unless each Allow statement is limited to fixed principals, or carries a
condition pinning one of the keys AWS counts as limiting (source ARN, account, VPC, IP ...).
"""

from __future__ import annotations

import json
from typing import Any

from gureum.policy.document import parse_policy
from gureum.protocol.errors import ServiceError

# Condition keys whose fixed values make a wildcard grant non-public (AWS's list).
_LIMITING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner", "aws:SourceAccount",
        "aws:SourceIp", "aws:PrincipalOrgID", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
    )
)
_WIDE_CIDRS = ("0.0.0.0/0", "::/0")


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicy", message, 400)


def validate(text: str, bucket: str) -> dict:
    """The policy as JSON after S3's checks; MalformedPolicy as S3 words it."""
    if not text.lstrip().startswith("{"):
        raise malformed("Policies must be valid JSON and the first byte must be '{'")
    try:
        raw = json.loads(text)
    except ValueError:
        raise malformed("Policies must be valid JSON and the first byte must be '{'") from None
    statements = raw.get("Statement") if isinstance(raw, dict) else None
    if not statements:
        raise malformed("Missing required field Statement")
    for st in statements if isinstance(statements, list) else [statements]:
        if not isinstance(st, dict):
            raise malformed("Statement is not an object")
        if "Principal" not in st and "NotPrincipal" not in st:
            raise malformed("Missing required field Principal")
        resources = st.get("Resource", st.get("NotResource"))
        if resources is None:
            raise malformed("Missing required field Resource")
        for resource in resources if isinstance(resources, list) else [resources]:
            if not isinstance(resource, str) or not _in_bucket(resource, bucket):
                raise malformed("Policy has invalid resource")
    try:
        parse_policy(text, "resource")
    except ServiceError as e:
        message = e.message
        if "principal" in message.lower():
            message = "Invalid principal in policy"
        elif "action" in message.lower():
            message = "Policy has invalid action"
        raise malformed(message) from None
    return raw


def _in_bucket(resource: str, bucket: str) -> bool:
    if resource == "*":
        return True
    if not resource.startswith("arn:aws:s3:::"):
        return False
    name = resource[len("arn:aws:s3:::"):].split("/", 1)[0]
    # Wildcards in the bucket part are allowed only if they could name this bucket.
    from fnmatch import fnmatchcase

    return fnmatchcase(bucket, name)


def _wildcard_principal(st: dict) -> bool:
    if "NotPrincipal" in st:
        return True
    p = st.get("Principal")
    if p == "*":
        return True
    if isinstance(p, dict):
        values = p.get("AWS", [])
        return "*" in (values if isinstance(values, list) else [values])
    return False


def _limited(conditions: Any) -> bool:
    if not isinstance(conditions, dict):
        return False
    for operator, keys in conditions.items():
        if not isinstance(keys, dict) or operator.lower().startswith(("stringnotlike", "stringnotequals", "notip")):
            continue
        for key, values in keys.items():
            if key.lower() not in _LIMITING_KEYS:
                continue
            values = values if isinstance(values, list) else [values]
            if any("*" in str(v) or str(v) in _WIDE_CIDRS for v in values):
                continue
            return True
    return False


def public_statement(st: dict) -> bool:
    return st.get("Effect") == "Allow" and _wildcard_principal(st) and not _limited(st.get("Condition"))


def statements(raw: dict) -> list[dict]:
    s = raw.get("Statement", [])
    return s if isinstance(s, list) else [s]


def is_public(raw: dict) -> bool:
    return any(public_statement(st) for st in statements(raw))


def without_public_grants(raw: dict) -> dict:
    """The policy less its public Allow statements (what RestrictPublicBuckets leaves in force)."""
    kept = [st for st in statements(raw) if not public_statement(st)]
    return {**raw, "Statement": kept}
