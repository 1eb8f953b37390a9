"""The services gureum answers for, and how to find each one's provider.

The routing facts (signing name, endpoint prefix, JSON target prefix, protocols) are
taken from each service's botocore model; they are kept here as a table so that routing a
request never loads a model. tests/unit/test_registry.py checks the table against the models.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # botocore's service name
    signing_name: str
    endpoint_prefix: str
    target_prefix: str | None
    protocols: tuple[str, ...]

    @property
    def package(self) -> str:
        """The Python package under gureum/services/ (lambda is a keyword)."""
        return {"lambda": "awslambda"}.get(self.name, self.name.replace("-", "_"))


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("s3", "s3", "s3", None, ("rest-xml",)),
    ServiceSpec("s3control", "s3", "s3-control", None, ("rest-xml",)),
    ServiceSpec("dynamodb", "dynamodb", "dynamodb", "DynamoDB_20120810", ("json",)),
    ServiceSpec("dynamodbstreams", "dynamodb", "streams.dynamodb", "DynamoDBStreams_20120810", ("json",)),
    ServiceSpec("iam", "iam", "iam", None, ("query",)),
    ServiceSpec("sts", "sts", "sts", None, ("query",)),
    ServiceSpec("ec2", "ec2", "ec2", None, ("ec2",)),
    ServiceSpec("lambda", "lambda", "lambda", None, ("rest-json",)),
    ServiceSpec("sns", "sns", "sns", None, ("query",)),
    ServiceSpec("sqs", "sqs", "sqs", "AmazonSQS", ("json",)),
    ServiceSpec("cloudwatch", "monitoring", "monitoring", "GraniteServiceVersion20100801", ("smithy-rpc-v2-cbor", "json", "query")),
    ServiceSpec("logs", "logs", "logs", "Logs_20140328", ("json",)),
    ServiceSpec("kms", "kms", "kms", "TrentService", ("json",)),
    ServiceSpec("route53", "route53", "route53", None, ("rest-xml",)),
    ServiceSpec("cloudfront", "cloudfront", "cloudfront", None, ("rest-xml",)),
    ServiceSpec("rds", "rds", "rds", None, ("query",)),
    ServiceSpec("elasticache", "elasticache", "elasticache", None, ("query",)),
    ServiceSpec("wafv2", "wafv2", "wafv2", "AWSWAF_20190729", ("json",)),
    ServiceSpec("organizations", "organizations", "organizations", "AWSOrganizationsV20161128", ("json",)),
    ServiceSpec("efs", "elasticfilesystem", "elasticfilesystem", None, ("rest-json",)),
    ServiceSpec("ssm", "ssm", "ssm", "AmazonSSM", ("json",)),
    ServiceSpec("service-quotas", "servicequotas", "servicequotas", "ServiceQuotasV20190624", ("json",)),
    ServiceSpec("cloudtrail", "cloudtrail", "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", ("json",)),
    ServiceSpec("events", "events", "events", "AWSEvents", ("json",)),
    ServiceSpec("secretsmanager", "secretsmanager", "secretsmanager", "secretsmanager", ("json",)),
    ServiceSpec("acm", "acm", "acm", "CertificateManager", ("json",)),
    ServiceSpec("firehose", "firehose", "firehose", "Firehose_20150804", ("json",)),
    ServiceSpec("kinesis", "kinesis", "kinesis", "Kinesis_20131202", ("json",)),
    ServiceSpec("athena", "athena", "athena", "AmazonAthena", ("json",)),
    ServiceSpec("shield", "shield", "shield", "AWSShield_20160616", ("smithy-rpc-v2-cbor", "json")),
    ServiceSpec("autoscaling", "autoscaling", "autoscaling", None, ("query",)),
    ServiceSpec("elbv2", "elasticloadbalancing", "elasticloadbalancing", None, ("query",)),
)

BY_NAME = {s.name: s for s in SERVICES}
BY_TARGET_PREFIX = {s.target_prefix: s for s in SERVICES if s.target_prefix}
BY_SIGNING_NAME: dict[str, tuple[ServiceSpec, ...]] = {}
for _spec in SERVICES:
    BY_SIGNING_NAME[_spec.signing_name] = BY_SIGNING_NAME.get(_spec.signing_name, ()) + (_spec,)
BY_ENDPOINT_PREFIX = {s.endpoint_prefix: s for s in SERVICES}


def provider_class(spec: ServiceSpec) -> type | None:
    """The provider class of a service, or None when gureum has none yet."""
    try:
        module = importlib.import_module(f"gureum.services.{spec.package}.provider")
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith(f"gureum.services.{spec.package}"):
            return None
        raise
    return getattr(module, "Provider")
