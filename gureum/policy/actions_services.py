"""Lambda, SQS, SNS, KMS and the other services whose names or identifiers differ from
the reference's: renamed batch actions, resources named by URL or by partial ARN, and
iam:PassRole where a call hands a role to a service."""

from __future__ import annotations

from urllib.parse import urlparse

from gureum.policy.actions import Authorization, Call, Context, ServiceRules


def pass_role(call: Call, role_arn: str | None, service_principal: str) -> list[Authorization]:
    """iam:PassRole on a role given to a service, as AWS requires of the caller."""
    if not role_arn:
        return []
    return [Authorization("iam:PassRole", role_arn, {"iam:PassedToService": service_principal})]


# --- Lambda -------------------------------------------------------------------------------

def function_arn(call: Call, name: str, qualifier: str | None = None) -> str:
    """The function ARN for any form Lambda accepts: my-function, my-function:alias,
    123456789012:function:my-function, or a full (possibly qualified) ARN."""
    account, region = call.account_id, call.region
    if name.startswith("arn:"):
        parts = name.split(":")
        region, account, name = parts[3], parts[4], ":".join(parts[6:])
    elif ":function:" in name:
        account, name = name.split(":function:", 1)
    if ":" in name:
        name, qualifier = name.split(":", 1)[0], qualifier or name.split(":", 1)[1]
    arn = f"arn:{call.partition}:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def _function(action: str | None = None):
    def handler(call: Call) -> list[Authorization]:
        p = call.params
        name = p.get("FunctionName")
        act = f"lambda:{action or call.operation}"
        ctx: Context = {}
        if call.operation == "AddPermission" and p.get("Principal"):
            ctx["lambda:Principal"] = p["Principal"]
        if call.operation in ("CreateFunctionUrlConfig", "UpdateFunctionUrlConfig") and p.get("AuthType"):
            ctx["lambda:FunctionUrlAuthType"] = p["AuthType"]
        if not name:
            return call.authorize(action or call.operation)
        out = [Authorization(act, function_arn(call, name, p.get("Qualifier")), ctx)]
        if call.operation in ("CreateFunction", "UpdateFunctionConfiguration"):
            out += pass_role(call, p.get("Role"), "lambda.amazonaws.com")
        return out
    return handler


def _event_source_mapping(call: Call) -> list[Authorization]:
    p = call.params
    ctx: Context = {}
    if p.get("FunctionName"):
        ctx["lambda:FunctionArn"] = function_arn(call, p["FunctionName"])
    return call.authorize(call.operation, context=ctx)


_FUNCTION_OPERATIONS = (
    "AddPermission", "CreateAlias", "CreateFunction", "CreateFunctionUrlConfig", "DeleteAlias",
    "DeleteFunction", "DeleteFunctionCodeSigningConfig", "DeleteFunctionConcurrency",
    "DeleteFunctionEventInvokeConfig", "DeleteFunctionUrlConfig", "DeleteProvisionedConcurrencyConfig",
    "GetAlias", "GetFunction", "GetFunctionCodeSigningConfig", "GetFunctionConcurrency",
    "GetFunctionConfiguration", "GetFunctionEventInvokeConfig", "GetFunctionRecursionConfig",
    "GetFunctionScalingConfig", "GetFunctionUrlConfig", "GetPolicy", "GetProvisionedConcurrencyConfig",
    "GetRuntimeManagementConfig", "InvokeAsync", "ListAliases", "ListFunctionEventInvokeConfigs",
    "ListFunctionUrlConfigs", "ListProvisionedConcurrencyConfigs", "ListVersionsByFunction",
    "PublishVersion", "PutFunctionCodeSigningConfig", "PutFunctionConcurrency",
    "PutFunctionEventInvokeConfig", "PutFunctionRecursionConfig", "PutFunctionScalingConfig",
    "PutProvisionedConcurrencyConfig", "PutRuntimeManagementConfig", "RemovePermission",
    "UpdateAlias", "UpdateFunctionCode", "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig", "UpdateFunctionUrlConfig", "ListDurableExecutionsByFunction",
)

LAMBDA = ServiceRules(
    handlers={
        **{op: _function() for op in _FUNCTION_OPERATIONS},
        "Invoke": _function("InvokeFunction"),
        "InvokeWithResponseStream": _function("InvokeFunction"),
        "CreateEventSourceMapping": _event_source_mapping,
        "UpdateEventSourceMapping": _event_source_mapping,
        "GetLayerVersionByArn": lambda c: [Authorization("lambda:GetLayerVersion", c.params.get("Arn") or "*", {})],
    },
    variables={
        "LayerName": lambda c: c.params.get("LayerName"),
        "LayerVersion": lambda c: str(c.params["VersionNumber"]) if c.params.get("VersionNumber") else None,
        "UUID": lambda c: c.params.get("UUID"),
    },
)


# --- SQS and SNS --------------------------------------------------------------------------

def queue_arn(call: Call) -> str | None:
    """The queue ARN of a request's QueueUrl (http://host/123456789012/name)."""
    url = call.params.get("QueueUrl")
    if not url:
        return call.params.get("QueueName")
    path = urlparse(url).path.strip("/").split("/")
    if len(path) < 2:
        return path[-1] if path else None
    return f"arn:{call.partition}:sqs:{call.region}:{path[-2]}:{path[-1]}"


SQS = ServiceRules(
    actions={
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    },
    variables={"QueueName": queue_arn},
)

SNS = ServiceRules(
    actions={"PublishBatch": "Publish"},
    variables={"TopicName": lambda c: c.params.get("TopicArn") or c.params.get("Name")
               or c.params.get("ResourceArn")},
)


# --- KMS ----------------------------------------------------------------------------------

def _key(call: Call, key_id: str | None, action: str, ctx: Context | None = None) -> Authorization:
    ctx = ctx or {}
    if not key_id:
        return Authorization(f"kms:{action}", "*", ctx)
    if key_id.startswith("arn:"):
        return Authorization(f"kms:{action}", key_id, ctx)
    if key_id.startswith("alias/"):
        return Authorization(f"kms:{action}", call.arn("alias", Alias=key_id[len("alias/"):]), ctx)
    return Authorization(f"kms:{action}", call.arn("key", KeyId=key_id), ctx)


def _kms_context(call: Call) -> Context:
    p = call.params
    ctx: Context = {}
    for member, key in (("EncryptionAlgorithm", "kms:EncryptionAlgorithm"), ("KeySpec", "kms:DataKeyKeySpec"),
                        ("SigningAlgorithm", "kms:SigningAlgorithm"), ("GrantOperations", "kms:GrantOperations"),
                        ("GranteePrincipal", "kms:GranteePrincipal"), ("KeyUsage", "kms:KeyUsage"),
                        ("KeySpec", "kms:KeySpec")):
        if p.get(member):
            ctx[key] = p[member] if isinstance(p[member], (str, list)) else str(p[member])
    for k, v in (p.get("EncryptionContext") or {}).items():
        ctx[f"kms:EncryptionContext:{k}"] = v
    if p.get("EncryptionContext"):
        ctx["kms:EncryptionContextKeys"] = list(p["EncryptionContext"])
    return ctx


def _kms(call: Call) -> list[Authorization]:
    p = call.params
    if call.operation in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
        alias = (p.get("AliasName") or "").removeprefix("alias/")
        out = [Authorization(f"kms:{call.operation}", call.arn("alias", Alias=alias), {})]
        if p.get("TargetKeyId"):
            out.append(_key(call, p["TargetKeyId"], call.operation))
        return out
    if call.operation == "ReEncrypt":
        ctx = _kms_context(call)
        return [_key(call, p.get("SourceKeyId"), "ReEncryptFrom", ctx),
                _key(call, p.get("DestinationKeyId"), "ReEncryptTo", ctx)]
    if "KeyId" in p:
        return [_key(call, p["KeyId"], call.operation, _kms_context(call))]
    return call.authorize(call.operation, context=_kms_context(call))


def _kms_operations() -> dict:
    from gureum.protocol.model import service_model

    try:
        names = service_model("kms").operation_names
    except Exception:
        names = []
    return {op: _kms for op in names}


class _LazyHandlers(dict):
    """KMS resolves every operation the same way; the list comes from the model on first use."""

    def __init__(self, build):
        super().__init__()
        self._build = build
        self._built = False

    def get(self, key, default=None):
        if not self._built:
            self.update(self._build())
            self._built = True
        return super().get(key, default)


KMS = ServiceRules(handlers=_LazyHandlers(_kms_operations))


# --- the rest -----------------------------------------------------------------------------

def _strip_prefix(value: str | None, *prefixes: str) -> str | None:
    if not value:
        return value
    for prefix in prefixes:
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


def _route53_id(call: Call) -> str | None:
    p = call.params
    value = (p.get("HostedZoneId") or p.get("Id") or p.get("HealthCheckId") or p.get("DelegationSetId")
             or p.get("TrafficPolicyInstanceId") or p.get("CollectionId"))
    return _strip_prefix(value, "/hostedzone/", "/change/", "/delegationset/")


ROUTE53 = ServiceRules(variables={"Id": _route53_id})

CLOUDFRONT = ServiceRules(
    actions={"CreateDistributionWithTags": "CreateDistribution"},
    variables={"DistributionId": lambda c: c.params.get("DistributionId") or c.params.get("Id")},
)

CLOUDWATCH = ServiceRules(
    context={"PutMetricData": lambda c: {"cloudwatch:namespace": c.params.get("Namespace", "")}},
)

RDS = ServiceRules(
    variables={
        "DbClusterInstanceName": lambda c: c.params.get("DBClusterIdentifier"),
        "SnapshotName": lambda c: c.params.get("DBSnapshotIdentifier") or c.params.get("TargetDBSnapshotIdentifier"),
        "ClusterSnapshotName": lambda c: c.params.get("DBClusterSnapshotIdentifier"),
        "ParameterGroupName": lambda c: c.params.get("DBParameterGroupName"),
        "ClusterParameterGroupName": lambda c: c.params.get("DBClusterParameterGroupName"),
        "SubnetGroupName": lambda c: c.params.get("DBSubnetGroupName"),
        "SecurityGroupName": lambda c: c.params.get("DBSecurityGroupName"),
        "DbProxyId": lambda c: c.params.get("DBProxyName"),
    },
)

SSM = ServiceRules(
    variables={
        "ParameterNameWithoutLeadingSlash": lambda c: _without_slash(c.params.get("Name") or c.params.get("Names")),
        "DocumentName": lambda c: c.params.get("DocumentName") or c.params.get("Name"),
    },
)


def _without_slash(value):
    if isinstance(value, list):
        return [v.lstrip("/") for v in value]
    return value.lstrip("/") if value else value


def _waf_scope(call: Call) -> str | None:
    scope = call.params.get("Scope")
    return {"REGIONAL": "regional", "CLOUDFRONT": "global"}.get(scope, scope)


WAFV2 = ServiceRules(variables={"Scope": _waf_scope})

EVENTS = ServiceRules(
    variables={"RuleName": lambda c: c.params.get("Rule") or c.params.get("Name")
               if "Rule" in c.operation or c.operation in ("PutTargets", "RemoveTargets", "ListTargetsByRule")
               else None},
)


def _with_pass_role(member: str, principal: str):
    def handler(call: Call) -> list[Authorization]:
        return call.authorize(call.operation) + pass_role(call, call.params.get(member), principal)
    return handler


STATES = ServiceRules(handlers={
    "CreateStateMachine": _with_pass_role("roleArn", "states.amazonaws.com"),
    "UpdateStateMachine": _with_pass_role("roleArn", "states.amazonaws.com"),
})

CLOUDFORMATION = ServiceRules(handlers={
    "CreateStack": _with_pass_role("RoleARN", "cloudformation.amazonaws.com"),
    "UpdateStack": _with_pass_role("RoleARN", "cloudformation.amazonaws.com"),
})

SECRETSMANAGER = ServiceRules(variables={"SecretId": lambda c: c.params.get("SecretId") or c.params.get("Name")})

LOGS = ServiceRules(
    variables={"LogGroupName": lambda c: c.params.get("logGroupName") or c.params.get("LogGroupName")
               or c.params.get("logGroupIdentifier")},
)
