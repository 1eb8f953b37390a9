"""Wildcards in actions and ARNs, and policy variables."""

from __future__ import annotations

import pytest

from gureum.policy.matching import arn_like, arn_matches, compile_actions, glob_pieces
from gureum.policy.variables import parse_template


@pytest.mark.parametrize(
    "patterns, action, expected",
    [
        (["s3:GetObject"], "s3:GetObject", True),
        (["s3:getobject"], "S3:GETOBJECT", True),  # actions are case-insensitive
        (["s3:Get*"], "s3:GetObjectAcl", True),
        (["s3:Get*"], "s3:PutObject", False),
        (["s3:*"], "s3:ListBucket", True),
        (["s3:*"], "s3x:ListBucket", False),
        (["*"], "anything:AtAll", True),
        (["ec2:*Instances"], "ec2:DescribeInstances", True),
        (["ec2:?topInstances"], "ec2:StopInstances", True),
        (["ec2:?topInstances"], "ec2:SStopInstances", False),
        (["iam:Get*", "iam:List*"], "iam:ListUsers", True),
        (["sqs:SendMessage"], "sqs:SendMessageBatch", False),
    ],
)
def test_action_matching(patterns: list[str], action: str, expected: bool) -> None:
    assert compile_actions(patterns).matches(action.lower()) is expected


@pytest.mark.parametrize(
    "pattern, arn, expected",
    [
        ("*", "arn:aws:s3:::bucket", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/a", False),  # ARNs are case-sensitive
        ("arn:aws:s3:::bucket?", "arn:aws:s3:::bucket1", True),
        ("arn:aws:iam::123456789012:user/*", "arn:aws:iam::123456789012:user/division/bob", True),
        ("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:us-east-1:123456789012:instance/i-1", True),
        # a wildcard in the region or account stays within that component
        ("arn:aws:ec2:*:instance/*", "arn:aws:ec2:us-east-1:123456789012:instance/i-1", False),
        ("arn:aws:ec2:us-*:123456789012:instance/*", "arn:aws:ec2:us-east-1:123456789012:instance/i-1", True),
        ("arn:aws:dynamodb:*:123456789012:table/T", "arn:aws:dynamodb:us-west-2:123456789012:table/T", True),
        ("arn:aws:dynamodb:*:123456789012:table/T", "arn:aws:dynamodb:us-west-2:210987654321:table/T", False),
        # the resource component may contain colons
        ("arn:aws:logs:*:*:log-group:app:*", "arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:s", True),
        ("arn:aws:sns:*:*:topic", "arn:aws:sns:us-east-1:123456789012:topic", True),
        # a short pattern lets its last component take the rest
        ("arn:aws:*", "arn:aws:sqs:us-east-1:123456789012:q", True),
        ("arn:aws:s3:::*", "arn:aws:sqs:us-east-1:123456789012:q", False),
        ("arn:aws:s3:::*", "*", False),
    ],
)
def test_arn_matching(pattern: str, arn: str, expected: bool) -> None:
    assert arn_matches(pattern, arn) is expected


@pytest.mark.parametrize(
    "pattern, value, expected",
    [
        ("arn:aws:iam::*:role/Admin", "arn:aws:iam::123456789012:role/Admin", True),
        ("arn:aws:iam::123456789012:*", "arn:aws:iam::123456789012:user/x", True),
        ("arn:aws:iam::123456789012:*", "not-an-arn", False),
        ("arn:*:sqs:*:*:q", "arn:aws:sqs:eu-west-1:123456789012:q", True),
    ],
)
def test_arn_like(pattern: str, value: str, expected: bool) -> None:
    assert arn_like(glob_pieces(pattern), value) is expected


CTX = {"aws:username": "bob", "aws:principaltag/team": "blue", "s3:prefix": "home/bob/", "aws:tagkeys": ["a", "b"]}


@pytest.mark.parametrize(
    "text, rendered",
    [
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/bob/*"),
        ("arn:aws:s3:::b/${aws:PrincipalTag/team}", "arn:aws:s3:::b/blue"),  # keys case-insensitive
        ("${s3:prefix}x", "home/bob/x"),
        ("${aws:userid}", None),  # absent: unresolved
        ("${aws:userid, 'nobody'}", "nobody"),
        ("${aws:username,'x'}", "bob"),
        ("${aws:TagKeys}", None),  # multivalued: unresolved
        ("a${*}b${?}c${$}", "a*b?c$"),
        ("${unterminated", "${unterminated"),
    ],
)
def test_variable_rendering(text: str, rendered: str | None) -> None:
    assert parse_template(text, True).render_text(CTX) == rendered


def test_special_variables_and_substituted_values_are_literal() -> None:
    template = parse_template("arn:aws:s3:::b/${*}/${aws:username}", True)
    from gureum.policy.matching import arn_matcher

    pieces = template.render({"aws:username": "b*"})
    assert arn_matcher(pieces).fullmatch("arn:aws:s3:::b/*/b*")
    assert not arn_matcher(pieces).fullmatch("arn:aws:s3:::b/x/bob")


def test_without_variables_text_is_kept() -> None:
    template = parse_template("arn:aws:s3:::b/${aws:username}", False)
    assert not template.has_vars and template.render_text(CTX) == "arn:aws:s3:::b/${aws:username}"
