"""Every service's exceptions to the generic operation -> action rule, by botocore name."""

from __future__ import annotations

from gureum.policy import actions_dynamodb, actions_ec2, actions_iam, actions_s3, actions_services as svc
from gureum.policy.actions import ServiceRules

RULES: dict[str, ServiceRules] = {
    "s3": actions_s3.S3,
    "s3control": actions_s3.S3CONTROL,
    "iam": actions_iam.IAM,
    "sts": actions_iam.STS,
    "ec2": actions_ec2.EC2,
    "dynamodb": actions_dynamodb.DYNAMODB,
    "dynamodbstreams": actions_dynamodb.DYNAMODBSTREAMS,
    "lambda": svc.LAMBDA,
    "sqs": svc.SQS,
    "sns": svc.SNS,
    "kms": svc.KMS,
    "route53": svc.ROUTE53,
    "cloudfront": svc.CLOUDFRONT,
    "cloudwatch": svc.CLOUDWATCH,
    "rds": svc.RDS,
    "ssm": svc.SSM,
    "wafv2": svc.WAFV2,
    "events": svc.EVENTS,
    "stepfunctions": svc.STATES,
    "cloudformation": svc.CLOUDFORMATION,
    "secretsmanager": svc.SECRETSMANAGER,
    "logs": svc.LOGS,
}
