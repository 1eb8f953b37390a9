"""The AWS managed policies: arn:aws:iam::aws:policy/<path><name>, the same in every account.

Their metadata (catalogue.json) and documents (documents/<name>.json, AWS's published
default version) are data files read on first use, not at import. Attachments to them are
per account and live in IAM's tables like any other attachment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARN_PREFIX = "arn:aws:iam::aws:policy/"


@dataclass(frozen=True)
class AwsManagedPolicy:
    name: str
    policy_id: str
    path: str
    arn: str
    default_version: str
    created: datetime
    updated: datetime
    description: str

    def document(self) -> str:
        return document(self.name)


def is_aws_managed(policy_arn: str) -> bool:
    return policy_arn.startswith(ARN_PREFIX)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, AwsManagedPolicy]:
    """Every AWS managed policy by ARN, in the catalogue's order."""
    entries = json.loads((HERE / "catalogue.json").read_text())
    out = {}
    for e in entries:
        arn = f"{ARN_PREFIX}{e['Path'][1:]}{e['PolicyName']}"
        out[arn] = AwsManagedPolicy(
            name=e["PolicyName"],
            policy_id=e["PolicyId"],
            path=e["Path"],
            arn=arn,
            default_version=e["DefaultVersionId"],
            created=datetime.fromisoformat(e["CreateDate"]),
            updated=datetime.fromisoformat(e["UpdateDate"]),
            description=e["Description"],
        )
    return out


def get(policy_arn: str) -> AwsManagedPolicy | None:
    return catalogue().get(policy_arn)


@lru_cache(maxsize=None)
def document(name: str) -> str:
    return (HERE / "documents" / f"{name}.json").read_text()
