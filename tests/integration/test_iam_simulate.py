"""The IAM policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy) end to end.

Runs as the account root against a real server, with boto3 and once with the AWS CLI.
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=4)


def _one_or_list(actions: tuple[str, ...]) -> str | list[str]:
    return actions[0] if len(actions) == 1 else list(actions)


def allow(*actions: str, resource: str = "*", **extra) -> dict:
    return {"Effect": "Allow", "Action": _one_or_list(actions), "Resource": resource, **extra}


def deny(*actions: str, resource: str = "*", **extra) -> dict:
    return {"Effect": "Deny", "Action": _one_or_list(actions), "Resource": resource, **extra}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def fails(call, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    r = excinfo.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def decisions(response: dict) -> dict[tuple[str, str], str]:
    return {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in response["EvaluationResults"]}


@pytest.fixture(scope="module")
def iam(make_client):
    return make_client("iam")


@pytest.fixture
def user(iam):
    name = unique("sim")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    yield name, arn
    for p in iam.list_user_policies(UserName=name)["PolicyNames"]:
        iam.delete_user_policy(UserName=name, PolicyName=p)
    for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=name, PolicyArn=p["PolicyArn"])
    for g in iam.list_groups_for_user(UserName=name)["Groups"]:
        iam.remove_user_from_group(UserName=name, GroupName=g["GroupName"])
    try:
        iam.delete_user_permissions_boundary(UserName=name)
    except ClientError:
        pass
    iam.delete_user(UserName=name)


def test_inline_policy_allows_its_action_only(iam, user):
    name, arn = user
    iam.put_user_policy(UserName=name, PolicyName="ReadBuckets", PolicyDocument=policy(allow("s3:GetObject")))
    out = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"])
    assert decisions(out) == {("s3:GetObject", "*"): "allowed", ("s3:PutObject", "*"): "implicitDeny"}
    assert out["IsTruncated"] is False
    first, second = out["EvaluationResults"]
    assert first["MatchedStatements"] == [{
        "SourcePolicyId": "ReadBuckets", "SourcePolicyType": "user",
        "StartPosition": {"Line": 4, "Column": 10}, "EndPosition": {"Line": 8, "Column": 10},
    }]
    assert first["MissingContextValues"] == []
    assert "EvalDecisionDetails" not in first  # the resource is "*"
    assert second["MatchedStatements"] == []


def test_managed_and_group_policies_are_included(iam, user):
    name, arn = user
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    group = unique("simgroup")
    iam.create_group(GroupName=group)
    try:
        iam.put_group_policy(GroupName=group, PolicyName="Queues", PolicyDocument=policy(allow("sqs:SendMessage")))
        iam.add_user_to_group(UserName=name, GroupName=group)
        out = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:ListBucket", "sqs:SendMessage"])
        results = {r["EvalActionName"]: r for r in out["EvaluationResults"]}
        assert results["s3:ListBucket"]["EvalDecision"] == "allowed"
        assert results["s3:ListBucket"]["MatchedStatements"][0]["SourcePolicyType"] == "aws-managed"
        assert results["s3:ListBucket"]["MatchedStatements"][0]["SourcePolicyId"] == "AmazonS3ReadOnlyAccess"
        assert results["sqs:SendMessage"]["MatchedStatements"][0]["SourcePolicyType"] == "group"
        group_arn = iam.get_group(GroupName=group)["Group"]["Arn"]
        only_group = iam.simulate_principal_policy(PolicySourceArn=group_arn, ActionNames=["s3:ListBucket",
                                                                                           "sqs:SendMessage"])
        assert decisions(only_group) == {("s3:ListBucket", "*"): "implicitDeny",
                                         ("sqs:SendMessage", "*"): "allowed"}
    finally:
        iam.remove_user_from_group(UserName=name, GroupName=group)
        iam.delete_group_policy(GroupName=group, PolicyName="Queues")
        iam.delete_group(GroupName=group)


def test_explicit_deny_wins(iam, user):
    name, arn = user
    iam.put_user_policy(UserName=name, PolicyName="All", PolicyDocument=policy(allow("s3:*")))
    out = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:DeleteBucket", "s3:GetObject"],
        PolicyInputList=[policy(deny("s3:DeleteBucket"))],
    )
    assert decisions(out) == {("s3:DeleteBucket", "*"): "explicitDeny", ("s3:GetObject", "*"): "allowed"}
    denied = out["EvaluationResults"][0]
    assert denied["MatchedStatements"] == [{
        "SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "none",
        "StartPosition": {"Line": 4, "Column": 10}, "EndPosition": {"Line": 8, "Column": 10},
    }]


def test_boundary_override(iam, user):
    name, arn = user
    iam.put_user_policy(UserName=name, PolicyName="All", PolicyDocument=policy(allow("s3:*", "sqs:*")))
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    stored = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject", "sqs:SendMessage"])
    assert decisions(stored) == {("s3:GetObject", "*"): "allowed", ("sqs:SendMessage", "*"): "implicitDeny"}
    assert stored["EvaluationResults"][1]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    overridden = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "sqs:SendMessage"],
        PermissionsBoundaryPolicyInputList=[policy(allow("sqs:*"))],
    )
    assert decisions(overridden) == {("s3:GetObject", "*"): "implicitDeny", ("sqs:SendMessage", "*"): "allowed"}
    assert overridden["EvaluationResults"][1]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": True}


def test_context_entries_decide_conditions_and_report_missing_keys(iam, user):
    name, arn = user
    iam.put_user_policy(UserName=name, PolicyName="Tagged", PolicyDocument=policy(
        allow("ec2:StopInstances", Condition={"StringEquals": {"aws:ResourceTag/Team": "blue"}})))
    absent = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["ec2:StopInstances"])
    result = absent["EvaluationResults"][0]
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["aws:ResourceTag/Team"]

    def entries(value: str) -> list[dict]:
        return [{"ContextKeyName": "aws:ResourceTag/Team", "ContextKeyValues": [value], "ContextKeyType": "string"}]

    given = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["ec2:StopInstances"],
                                          ContextEntries=entries("blue"))
    assert given["EvaluationResults"][0]["EvalDecision"] == "allowed"
    assert given["EvaluationResults"][0]["MissingContextValues"] == []
    other = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["ec2:StopInstances"],
                                          ContextEntries=entries("red"))
    assert other["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"


def test_custom_policy_matches_aws_example_positions(iam):
    document = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",'
                '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}')

    def at(time: str) -> dict:
        return iam.simulate_custom_policy(
            PolicyInputList=[document], ActionNames=["dynamodb:CreateBackup"],
            ContextEntries=[{"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": [time],
                             "ContextKeyType": "date"}],
        )["EvaluationResults"][0]

    later = at("2019-04-25T11:00:00Z")
    assert later["EvalDecision"] == "allowed"
    assert later["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    assert later["MatchedStatements"][0]["StartPosition"] == {"Line": 1, "Column": 38}
    assert later["MatchedStatements"][0]["EndPosition"] == {"Line": 1, "Column": 167}
    earlier = at("2014-04-25T11:00:00Z")
    assert earlier["EvalDecision"] == "implicitDeny"
    assert earlier["MatchedStatements"] == []


def test_custom_policy_resources_and_paging(iam):
    bucket = "arn:aws:s3:::sim-bucket/*"
    out = iam.simulate_custom_policy(
        PolicyInputList=[policy(allow("s3:GetObject", resource=bucket))],
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=[bucket, "arn:aws:s3:::other/*"], MaxItems=3,
    )
    assert out["IsTruncated"] is True
    assert [r["EvalDecision"] for r in out["EvaluationResults"]] == ["allowed", "implicitDeny", "implicitDeny"]
    first = out["EvaluationResults"][0]
    assert first["EvalDecisionDetails"] == {}
    assert first["ResourceSpecificResults"][0]["EvalResourceName"] == bucket
    assert first["ResourceSpecificResults"][0]["EvalResourceDecision"] == "allowed"
    rest = iam.simulate_custom_policy(
        PolicyInputList=[policy(allow("s3:GetObject", resource=bucket))],
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=[bucket, "arn:aws:s3:::other/*"], MaxItems=3, Marker=out["Marker"],
    )
    assert rest["IsTruncated"] is False
    assert decisions(rest) == {("s3:PutObject", "arn:aws:s3:::other/*"): "implicitDeny"}


def test_custom_policy_with_resource_policy_and_caller(iam):
    bucket = "arn:aws:s3:::shared-bucket/*"
    caller = f"arn:aws:iam::{ACCOUNT}:user/alice"
    resource_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": caller}, "Action": "s3:GetObject", "Resource": bucket}]})
    out = iam.simulate_custom_policy(
        PolicyInputList=[policy(allow("sqs:SendMessage"))], ActionNames=["s3:GetObject"],
        ResourceArns=[bucket], ResourcePolicy=resource_policy, CallerArn=caller,
    )
    result = out["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
    assert result["MatchedStatements"][0]["SourcePolicyType"] == "resource"
    code, _, status = fails(iam.simulate_custom_policy, PolicyInputList=[policy(allow("s3:*"))],
                            ActionNames=["s3:GetObject"], ResourcePolicy=resource_policy)
    assert (code, status) == ("InvalidInput", 400)


def test_errors(iam):
    nobody = unique("nobody")
    code, message, status = fails(iam.simulate_principal_policy, PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/{nobody}",
                                  ActionNames=["s3:GetObject"])
    assert (code, status) == ("NoSuchEntity", 404)
    assert message == f"The user with name {nobody} cannot be found."
    code, message, _ = fails(iam.simulate_principal_policy,
                             PolicySourceArn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", ActionNames=["s3:GetObject"])
    assert code == "InvalidInput"
    assert message == f"Invalid Entity Arn: arn:aws:sts::{ACCOUNT}:assumed-role/r/s"
    code, _, status = fails(iam.simulate_custom_policy, PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    assert (code, status) == ("InvalidInput", 400)
    code, message, _ = fails(iam.simulate_custom_policy, PolicyInputList=[policy(allow("s3:*"))],
                             ActionNames=["s3:GetObject"], ResourceOwner="123456789012")
    assert (code, message) == ("InvalidInput", "'123456789012' is not a valid as a Resource Owner.")


def test_cli_simulate_principal_policy(iam, user, aws_cli):
    name, arn = user
    iam.put_user_policy(UserName=name, PolicyName="Lists", PolicyDocument=policy(allow("codecommit:ListRepositories")))
    _, stdout, _ = aws_cli("iam", "simulate-principal-policy", "--policy-source-arn", arn,
                           "--action-names", "codecommit:ListRepositories", expect_ok=True)
    result = json.loads(stdout)["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
    assert result["MatchedStatements"][0]["SourcePolicyId"] == "Lists"


def test_policy_exclusion_list(iam, user):
    name, arn = user
    iam.put_user_policy(UserName=name, PolicyName="Inline", PolicyDocument=policy(allow("sqs:SendMessage")))
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    actions = ["sqs:SendMessage", "s3:GetObject"]
    by_type = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions,
                                            PolicyExclusionList=[{"PolicyType": "aws-managed"}])
    assert decisions(by_type) == {("sqs:SendMessage", "*"): "allowed", ("s3:GetObject", "*"): "implicitDeny"}
    by_name = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, PolicyExclusionList=[
        {"InlinePolicyIdentifier": {"PolicyName": "Inline", "AttachmentType": "user", "AttachmentName": name}}])
    assert decisions(by_name) == {("sqs:SendMessage", "*"): "implicitDeny", ("s3:GetObject", "*"): "allowed"}
