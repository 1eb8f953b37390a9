"""EBS encryption by default, per account and region, and the default KMS key it uses.

Enable/Disable/GetEbsEncryptionByDefault and Get/Modify/ResetEbsDefaultKmsKeyId; the values
live in the scope's settings. Volumes created while it is on are encrypted with that key.
"""

from __future__ import annotations

import uuid

from gureum.context import RequestContext
from gureum.services.ec2.errors import invalid_parameter_value, missing_parameter
from gureum.services.ec2.store import Resources, Scope

ENCRYPTION_BY_DEFAULT = "EbsEncryptionByDefault"
DEFAULT_KMS_KEY = "EbsDefaultKmsKeyId"
AWS_MANAGED_ALIAS = "alias/aws/ebs"


def aws_managed_key_arn(scope: Scope) -> str:
    """The ARN of the account's AWS managed key for EBS (aws/ebs) in the region: stable per scope."""
    key = uuid.uuid5(uuid.NAMESPACE_URL, f"kms:{scope.account_id}:{scope.region}:aws/ebs")
    return f"arn:aws:kms:{scope.region}:{scope.account_id}:key/{key}"


def encryption_by_default(resources: Resources, scope: Scope) -> bool:
    return bool((resources.settings(scope) or {}).get(ENCRYPTION_BY_DEFAULT))


def default_kms_key(resources: Resources, scope: Scope) -> str:
    return (resources.settings(scope) or {}).get(DEFAULT_KMS_KEY) or AWS_MANAGED_ALIAS


def key_arn(scope: Scope, key: str | None) -> str:
    """What a volume records as KmsKeyId: an ARN (aliases of the AWS managed key resolved)."""
    if not key or key == AWS_MANAGED_ALIAS:
        return aws_managed_key_arn(scope)
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        return f"arn:aws:kms:{scope.region}:{scope.account_id}:{key}"
    return f"arn:aws:kms:{scope.region}:{scope.account_id}:key/{key}"


class EbsDefaultOperations:
    resources: Resources

    def _set_setting(self, scope: Scope, key: str, value) -> None:
        with self.env.db.transaction():
            settings = self.resources.settings(scope) or {}
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
            self.resources.save_settings(scope, settings)

    def enable_ebs_encryption_by_default(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        self._set_setting(scope, ENCRYPTION_BY_DEFAULT, True)
        return {"EbsEncryptionByDefault": True}

    def disable_ebs_encryption_by_default(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        self._set_setting(scope, ENCRYPTION_BY_DEFAULT, False)
        return {"EbsEncryptionByDefault": False}

    def get_ebs_encryption_by_default(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        return {"EbsEncryptionByDefault": encryption_by_default(self.resources, scope), "SseType": "sse-ebs"}

    def get_ebs_default_kms_key_id(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        return {"KmsKeyId": default_kms_key(self.resources, scope)}

    def modify_ebs_default_kms_key_id(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        key = request.get("KmsKeyId")
        if not key:
            raise missing_parameter("The request must contain the parameter KmsKeyId")
        if not (key.startswith(("arn:aws:kms:", "alias/")) or len(key) == 36):
            raise invalid_parameter_value(f"Invalid value for KmsKeyId: {key}")
        self._set_setting(scope, DEFAULT_KMS_KEY, key_arn(scope, key) if not key.startswith("alias/") else key)
        return {"KmsKeyId": default_kms_key(self.resources, scope)}

    def reset_ebs_default_kms_key_id(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        self._set_setting(scope, DEFAULT_KMS_KEY, None)
        return {"KmsKeyId": AWS_MANAGED_ALIAS}
