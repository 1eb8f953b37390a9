"""Condition operators, IfExists, set qualifiers and missing keys, per the IAM User Guide."""

from __future__ import annotations

import pytest

from gureum.policy.conditions import compile_conditions, conditions_hold
from gureum.protocol.errors import ServiceError


def holds(block: dict, ctx: dict) -> bool:
    return conditions_hold(compile_conditions(block, True), {k.lower(): v for k, v in ctx.items()})


USER = {"aws:username": "johndoe", "aws:PrincipalTag/team": "blue"}

CASES = [
    # --- strings
    ({"StringEquals": {"aws:username": "johndoe"}}, USER, True),
    ({"StringEquals": {"aws:username": "JohnDoe"}}, USER, False),
    ({"StringEquals": {"AWS:UserName": "johndoe"}}, USER, True),  # key names are case-insensitive
    ({"StringEquals": {"aws:username": ["alice", "johndoe"]}}, USER, True),  # values ORed
    ({"StringEquals": {"aws:username": "johndoe", "aws:PrincipalTag/team": "red"}}, USER, False),  # keys ANDed
    ({"StringNotEquals": {"aws:username": "johndoe"}}, USER, False),
    ({"StringNotEquals": {"aws:username": ["alice", "bob"]}}, USER, True),
    ({"StringEqualsIgnoreCase": {"aws:username": "JOHNDOE"}}, USER, True),
    ({"StringNotEqualsIgnoreCase": {"aws:username": "JOHNDOE"}}, USER, False),
    ({"StringLike": {"aws:username": "john*"}}, USER, True),
    ({"StringLike": {"aws:username": "j?hndoe"}}, USER, True),
    ({"StringLike": {"aws:username": "John*"}}, USER, False),
    ({"StringNotLike": {"aws:username": "jane*"}}, USER, True),
    ({"StringEquals": {"aws:username": "john*"}}, USER, False),  # no wildcards in Equals
    ({"StringEquals": {"aws:username": "${aws:username}"}}, USER, True),
    ({"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}, {**USER, "s3:prefix": "home/johndoe/docs"}, True),
    ({"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}, {**USER, "s3:prefix": "home/alice/docs"}, False),
    ({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}, {**USER, "aws:ResourceTag/team": "blue"}, True),
    ({"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}, {"aws:ResourceTag/team": "blue"}, False),
    # --- numbers
    ({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"}, True),
    ({"NumericLessThan": {"s3:max-keys": 10}}, {"s3:max-keys": "10"}, False),
    ({"NumericGreaterThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10.5"}, True),
    ({"NumericGreaterThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "9"}, False),
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "10.0"}, True),
    ({"NumericNotEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "11"}, True),
    ({"NumericEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "ten"}, False),
    # --- dates (ISO 8601 and epoch seconds)
    ({"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"}}, {"aws:CurrentTime": "2024-01-01T00:00:00Z"}, True),
    ({"DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}, {"aws:CurrentTime": "2024-01-01T00:00:00Z"}, False),
    ({"DateLessThanEquals": {"aws:CurrentTime": "2024-01-01"}}, {"aws:CurrentTime": "2024-01-01T00:00:00Z"}, True),
    ({"DateEquals": {"aws:EpochTime": "1704067200"}}, {"aws:EpochTime": "2024-01-01T00:00:00Z"}, True),
    ({"DateNotEquals": {"aws:CurrentTime": "2024-01-01T00:00:00+00:00"}}, {"aws:CurrentTime": "1704067200"}, False),
    ({"DateGreaterThanEquals": {"aws:TokenIssueTime": "2024-01-01T09:00:00+09:00"}}, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}, True),
    # --- Bool, binary, IP
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "true"}, True),
    ({"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": "false"}, True),
    ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "TRUE"}, False),
    ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {}, False),
    ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, {}, True),
    ({"BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}, {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}, True),
    ({"BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}, {"key": "b3RoZXI="}, False),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.7"}, True),
    ({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}},
     {"aws:SourceIp": "2001:db8:1234:5678::1"}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.5"}}, {"aws:SourceIp": "203.0.113.5"}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "198.51.100.1"}, False),
    ({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "198.51.100.1"}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "not-an-ip"}, False),
    # --- ARNs
    ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:topic"}},
     {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic"}, True),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic"}},
     {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic"}, True),
    ({"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/Admin"}},
     {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/Admin"}, False),
    ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Ops*"}},
     {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/Dev"}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, {"aws:SourceArn": "bucket"}, False),
    # --- Null
    ({"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
    ({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}, False),
    ({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}, True),
    ({"Null": {"aws:RequestTag/team": False}}, {}, False),
    # --- missing keys
    ({"StringEquals": {"aws:RequestTag/team": "blue"}}, {}, False),
    ({"StringNotEquals": {"aws:RequestTag/team": "blue"}}, {}, True),  # negated: true when absent
    ({"StringNotLike": {"aws:RequestTag/team": "b*"}}, {}, True),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {}, True),
    ({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"}}, {}, True),
    ({"NumericNotEquals": {"s3:max-keys": "1"}}, {}, True),
    ({"NumericLessThan": {"s3:max-keys": "1"}}, {}, False),
    ({"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}}, {}, True),
    ({"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}}, {"ec2:InstanceType": "m5.large"}, False),
    ({"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}}, {"ec2:InstanceType": "t3.micro"}, True),
    ({"StringNotEqualsIfExists": {"ec2:InstanceType": "t3.micro"}}, {"ec2:InstanceType": "t3.micro"}, False),
    ({"DateLessThanIfExists": {"aws:CurrentTime": "2000-01-01"}}, {}, True),
    ({"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "11.0.0.1"}, False),
    # --- multivalued keys and the set qualifiers
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
     {"aws:TagKeys": ["environment"]}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
     {"aws:TagKeys": ["environment", "owner"]}, False),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}}, {}, True),  # absent: true
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}}, {"aws:TagKeys": []}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
     {"aws:TagKeys": ["owner", "cost-center"]}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}}, {"aws:TagKeys": ["owner"]}, False),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}}, {}, False),  # absent: false
    ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["environment"]}}, {}, False),
    ({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["environment"]}}, {}, True),
    ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret", "admin"]}}, {"aws:TagKeys": ["team", "env"]}, True),
    ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret", "admin"]}}, {"aws:TagKeys": ["team", "admin"]}, False),
    ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}, {}, True),
    ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["secret"]}}, {"aws:TagKeys": ["secret", "team"]}, True),
    ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["secret"]}}, {"aws:TagKeys": ["secret"]}, False),
    ({"ForAllValues:StringLike": {"aws:TagKeys": ["key*"]}}, {"aws:TagKeys": ["key1", "key2"]}, True),
    ({"ForAnyValue:StringLike": {"dynamodb:Attributes": ["ID", "Msg*"]}}, {"dynamodb:Attributes": ["x", "MsgBody"]}, True),
    # a multivalued key without a qualifier: any value matches; negation: none does
    ({"StringEquals": {"aws:TagKeys": "owner"}}, {"aws:TagKeys": ["env", "owner"]}, True),
    ({"StringNotEquals": {"aws:TagKeys": "owner"}}, {"aws:TagKeys": ["env", "owner"]}, False),
    ({"StringNotEquals": {"aws:TagKeys": "owner"}}, {"aws:TagKeys": ["env"]}, True),
    # several operators in one block are ANDed
    ({"StringEquals": {"aws:username": "johndoe"}, "Bool": {"aws:SecureTransport": "true"}},
     {**USER, "aws:SecureTransport": "false"}, False),
]


@pytest.mark.parametrize("block, ctx, expected", CASES)
def test_condition_operators(block: dict, ctx: dict, expected: bool) -> None:
    assert holds(block, ctx) is expected


def test_unknown_operator_is_malformed() -> None:
    with pytest.raises(ServiceError) as info:
        compile_conditions({"ForSomeValues:StringEquals": {"k": "v"}}, True)
    assert info.value.code == "MalformedPolicyDocument"
