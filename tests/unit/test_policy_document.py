"""Policy document validation: IAM's MalformedPolicyDocument messages, and the parsed form."""

from __future__ import annotations

import json

import pytest

from gureum.policy.document import parse_policy
from gureum.protocol.errors import ServiceError

V = "2012-10-17"


def doc(*statements, version=V, **top) -> str:
    body = {"Version": version, **top, "Statement": list(statements)} if version else {**top, "Statement": list(statements)}
    return json.dumps(body)


def allow(**extra):
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **extra}


def error(text: str, kind: str = "identity") -> str:
    with pytest.raises(ServiceError) as info:
        parse_policy(text, kind)
    assert info.value.code == "MalformedPolicyDocument" and info.value.status == 400
    return info.value.message


TRUST = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}


@pytest.mark.parametrize(
    "text, kind, message",
    [
        ("not json", "identity", "Syntax errors in policy."),
        ("[]", "identity", "Syntax errors in policy."),
        (json.dumps({"Version": V}), "identity", "Syntax errors in policy."),
        (json.dumps({"Version": V, "Statement": []}), "identity", "Syntax errors in policy."),
        (doc(allow(), Foo=1), "identity", "Syntax errors in policy."),
        (doc(allow(Bar="x")), "identity", "Syntax errors in policy."),
        (doc({"Action": "s3:*", "Resource": "*"}), "identity", "Syntax errors in policy."),
        (doc(allow(Effect="Maybe")), "identity", "Syntax errors in policy."),
        (doc(allow(NotAction="s3:*")), "identity", "Syntax errors in policy."),
        (doc(allow(Action=[1])), "identity", "Syntax errors in policy."),
        (doc(allow(Condition={"StringEqualz": {"aws:username": "x"}})), "identity", "Syntax errors in policy."),
        (doc(allow(Condition={"NullIfExists": {"aws:username": "true"}})), "identity", "Syntax errors in policy."),
        (doc(allow(Condition={"StringEquals": "x"})), "identity", "Syntax errors in policy."),
        (doc(allow(), version="2014-01-01"), "identity", "Syntax errors in policy."),
        (doc(allow(), version=None), "identity", "Policy document must be version 2012-10-17 or greater."),
        (doc(allow(), version="2008-10-17"), "identity", "Policy document must be version 2012-10-17 or greater."),
        (doc(allow(Effect="allow")), "identity", "The policy failed legacy parsing"),
        (doc(allow(Condition={"DateGreaterThan": {"aws:CurrentTime": "yesterday"}})), "identity",
         "The policy failed legacy parsing"),
        (doc(allow(Sid="a"), allow(Sid="a")), "identity", "Statement IDs (SID) in a single policy must be unique."),
        (doc({"Effect": "Allow", "Resource": "*"}), "identity", "Policy statement must contain actions."),
        (doc(allow(Action=[])), "identity", "Policy statement must contain actions."),
        (doc({"Effect": "Allow", "Action": "s3:*"}), "identity", "Policy statement must contain resources."),
        (doc(allow(Resource=[])), "session", "Policy statement must contain resources."),
        (doc(allow(Resource="bucket")), "identity", 'Resource bucket must be in ARN format or "*".'),
        (doc(allow(Resource="arn:foo:s3:::b")), "identity", 'Partition "foo" is not valid for resource "arn:foo:s3:::b".'),
        (doc(allow(Resource="arn:aws:iam:us-east-1:123456789012:user/x")), "identity",
         "IAM resource arn:aws:iam:us-east-1:123456789012:user/x cannot contain region information."),
        (doc(allow(Resource="arn:aws:s3:us-east-1::b")), "identity",
         "Resource arn:aws:s3:us-east-1::b can not contain region information."),
        (doc(allow(Resource="arn:aws:iam::123456789012:bogus/x")), "identity",
         'IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, '
         "instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, "
         "report/, access-report/."),
        (doc(allow(Resource="arn:aws:s3*:::b")), "identity",
         "Resource vendor must be fully qualified and cannot contain regexes."),
        (doc(allow(Action="GetObject")), "identity",
         "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        (doc(allow(Action="s3:Get:Object")), "identity", "Actions/Condition can contain only one colon."),
        (doc(allow(Action="s_3:GetObject")), "identity", "Vendor s_3 is not valid"),
        (doc(allow(Sid="has space")), "identity",
         "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
        (doc(allow(Principal="*")), "identity", "Policy document should not specify a principal."),
        (doc(allow(Principal={"AWS": "*"})), "boundary", "Policy document should not specify a principal."),
        (doc(allow(Principal="*")), "scp", "Policy document should not specify a principal."),
        (doc({**TRUST, "Resource": "*"}), "trust", "Has prohibited field Resource"),
        (doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), "trust", "Missing required field Principal"),
        (doc({**TRUST, "Colour": "red"}), "trust", "Unknown field Colour"),
        (doc({**TRUST, "Principal": {"AWS": "bob"}}), "trust", 'Invalid principal in policy: "AWS":"bob"'),
        (doc({**TRUST, "Principal": {"AWS": "arn:aws:iam::*:root"}}), "trust",
         'Invalid principal in policy: "AWS":"arn:aws:iam::*:root"'),
        (doc({**TRUST, "Principal": {"AWS": "arn:aws:iam::123456789012:group/devs"}}), "trust",
         'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:group/devs"'),
        (doc(allow(Resource="arn:aws:s3:::b")), "resource", "Missing required field Principal"),
    ],
)
def test_malformed_documents(text: str, kind: str, message: str) -> None:
    assert error(text, kind) == message


@pytest.mark.parametrize(
    "text, kind",
    [
        (doc(allow()), "identity"),
        (json.dumps({"Version": V, "Statement": allow()}), "identity"),  # a single statement object
        (doc(allow(Sid=""), allow(Sid="")), "identity"),  # empty SIDs need not be unique
        (doc(allow(Action="*")), "identity"),
        (doc(allow(Condition={"Bool": {"aws:SecureTransport": True}, "NumericLessThan": {"s3:max-keys": 10}})), "identity"),
        (doc(allow(Condition={"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b"]}})), "identity"),
        (doc({**TRUST}, version="2008-10-17"), "trust"),
        (doc({**TRUST, "Principal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:role/path/r",
                                             "arn:aws:sts::123456789012:assumed-role/r/s", "AIDAJQABLZS4A3QDU576Q"]}}), "trust"),
        (doc({**TRUST, "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/idp"},
              "Action": "sts:AssumeRoleWithSAML"}), "trust"),
        (doc(allow(Principal="*", Resource="arn:aws:s3:::b/*"), version="2008-10-17"), "resource"),
        (doc({"Effect": "Deny", "NotPrincipal": {"AWS": "123456789012"}, "Action": "s3:*"}), "resource"),
        (doc({"Effect": "Allow", "Action": "*"}), "scp"),
        (doc(allow(Resource="arn:aws:iam::123456789012:user/${aws:username}")), "identity"),
    ],
)
def test_valid_documents(text: str, kind: str) -> None:
    parsed = parse_policy(text, kind)
    assert parsed.statements


def test_parsed_documents_are_cached_by_text() -> None:
    text = doc(allow(Sid="Cached"))
    assert parse_policy(text, "identity") is parse_policy(text, "identity")


def test_statement_index_by_service() -> None:
    parsed = parse_policy(doc(
        allow(Sid="A"), allow(Sid="B", Action=["ec2:Describe*"]), allow(Sid="C", Action="*"),
        {"Sid": "D", "Effect": "Deny", "NotAction": "iam:*", "Resource": "*"},
        allow(Sid="E", Action="s3*:List*"),
    ), "identity")
    allows, denies = parsed.for_service("s3")
    assert [s.sid for s in allows] == ["A", "C", "E"] and [s.sid for s in denies] == ["D"]
    allows, _ = parsed.for_service("ec2")
    assert [s.sid for s in allows] == ["B", "C", "E"]  # a wildcard vendor is kept for every service


def test_version_2008_has_no_variables() -> None:
    text = doc(allow(Principal="*", Resource="arn:aws:s3:::b/${aws:username}"), version="2008-10-17")
    statement = parse_policy(text, "resource").statements[0]
    assert statement.matches_resource("arn:aws:s3:::b/${aws:username}", {"aws:username": "bob"})
    assert not statement.matches_resource("arn:aws:s3:::b/bob", {"aws:username": "bob"})
