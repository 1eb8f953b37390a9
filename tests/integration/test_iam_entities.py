"""IAM users, groups, roles, policies, instance profiles and account settings, end to end.

Everything runs as the account root against a real server, with boto3 and the AWS CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROOT

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
CHANGE_PASSWORD = "arn:aws:iam::aws:policy/IAMUserChangePassword"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ACCOUNT = "000000000000"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def doc(*actions: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error(excinfo) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def fails(call, *args, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as excinfo:
        call(*args, **kwargs)
    return error(excinfo)


@pytest.fixture(scope="module")
def iam(make_client):
    return make_client("iam")


@pytest.fixture(scope="module")
def raw_iam(make_client):
    """A client that sends what it is given, so the server's own validation answers."""
    return make_client("iam", parameter_validation=False)


@pytest.fixture(scope="module")
def other_account(endpoint, make_client):
    proc = subprocess.run([sys.executable, "-m", "gureum", "accounts", "create", "--json", "--endpoint", endpoint],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    created = json.loads(proc.stdout)
    created["iam"] = make_client("iam", access_key=created["access_key_id"], secret_key=created["secret_access_key"])
    return created


# --- users ---------------------------------------------------------------------------------

def test_create_get_list_users(iam):
    name = unique("alice")
    user = iam.create_user(UserName=name, Path="/engineering/", Tags=[{"Key": "team", "Value": "core"}])["User"]
    assert user["UserName"] == name and user["Path"] == "/engineering/"
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/engineering/{name}"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert user["Tags"] == [{"Key": "team", "Value": "core"}]
    got = iam.get_user(UserName=name.upper())["User"]  # names are case-insensitive
    assert got["UserName"] == name and got["UserId"] == user["UserId"] and got["CreateDate"] == user["CreateDate"]
    listed = iam.list_users(PathPrefix="/engineering/")["Users"]
    assert [u["UserName"] for u in listed] == [name]
    assert "Tags" not in listed[0]  # ListUsers leaves tags and boundaries out, as IAM does


def test_get_user_of_the_caller(iam, make_client):
    root = iam.get_user()["User"]
    assert root["Arn"] == f"arn:aws:iam::{ACCOUNT}:root" and root["UserId"] == ACCOUNT
    assert "UserName" not in root
    name = unique("me")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    ident = make_client("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"]).get_caller_identity()
    user = iam.get_user(UserName=name)["User"]
    assert ident["Arn"] == user["Arn"] and ident["UserId"] == user["UserId"]


def test_user_name_rules(iam, raw_iam):
    name = unique("Dup")
    iam.create_user(UserName=name)
    assert fails(iam.create_user, UserName=name.lower()) == (
        "EntityAlreadyExists", f"User with name {name.lower()} already exists.", 409)
    assert fails(iam.create_user, UserName="bad name!") == (
        "ValidationError",
        "1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        400,
    )
    long_name = "a" * 65
    assert fails(iam.create_user, UserName=long_name)[1] == (
        f"1 validation error detected: Value '{long_name}' at 'userName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64"
    )
    code, message, _ = fails(iam.create_user, UserName=unique("p"), Path="no-slashes")
    assert code == "ValidationError" and "at 'path' failed to satisfy constraint" in message
    code, message, _ = fails(raw_iam.create_user, UserName="", Path="x")
    assert message.startswith("3 validation errors detected: ")
    assert fails(iam.get_user, UserName="nobody-here") == (
        "NoSuchEntity", "The user with name nobody-here cannot be found.", 404)


def test_list_users_pages(iam):
    prefix = f"/{unique('paging')}/"
    names = sorted(unique(f"u{i}") for i in range(5))
    for name in names:
        iam.create_user(UserName=name, Path=prefix)
    page = iam.list_users(PathPrefix=prefix, MaxItems=2)
    assert page["IsTruncated"] and len(page["Users"]) == 2
    seen = [u["UserName"] for u in page["Users"]]
    while page["IsTruncated"]:
        page = iam.list_users(PathPrefix=prefix, MaxItems=2, Marker=page["Marker"])
        seen += [u["UserName"] for u in page["Users"]]
    assert seen == names
    paginated = [u["UserName"] for p in iam.get_paginator("list_users").paginate(PathPrefix=prefix,
                 PaginationConfig={"PageSize": 3}) for u in p["Users"]]
    assert paginated == names
    assert fails(iam.list_users, Marker="garbage")[0] == "InvalidInput"


def test_rename_user_keeps_its_keys_working(iam, make_client):
    old, new = unique("before"), unique("after")
    iam.create_user(UserName=old)
    group = unique("g")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=old)
    iam.attach_user_policy(UserName=old, PolicyArn=S3_READ)
    iam.put_user_policy(UserName=old, PolicyName="inline", PolicyDocument=doc("s3:ListBucket"))
    iam.tag_user(UserName=old, Tags=[{"Key": "k", "Value": "v"}])
    key = iam.create_access_key(UserName=old)["AccessKey"]
    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")
    assert fails(iam.get_user, UserName=old)[0] == "NoSuchEntity"
    user = iam.get_user(UserName=new)["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/moved/{new}" and user["Tags"] == [{"Key": "k", "Value": "v"}]
    sts = make_client("sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == user["Arn"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=new)["Groups"]] == [group]
    assert iam.list_attached_user_policies(UserName=new)["AttachedPolicies"][0]["PolicyArn"] == S3_READ
    assert iam.list_user_policies(UserName=new)["PolicyNames"] == ["inline"]
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=new)["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    taken = unique("taken")
    iam.create_user(UserName=taken)
    assert fails(iam.update_user, UserName=new, NewUserName=taken.upper())[0] == "EntityAlreadyExists"


def test_delete_user_conflicts(iam):
    name = unique("busy")
    iam.create_user(UserName=name)
    group = unique("grp")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=S3_READ)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc("s3:GetObject"))
    key = iam.create_access_key(UserName=name)["AccessKey"]

    def conflict() -> str:
        code, message, status = fails(iam.delete_user, UserName=name)
        assert (code, status) == ("DeleteConflict", 409)
        return message

    assert conflict() == "Cannot delete entity, must delete access keys first."
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    assert conflict() == "Cannot delete entity, must remove users from group first."
    iam.remove_user_from_group(GroupName=group, UserName=name)
    assert conflict() == "Cannot delete entity, must detach all policies first."
    iam.detach_user_policy(UserName=name, PolicyArn=S3_READ)
    assert conflict() == "Cannot delete entity, must delete policies first."
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.delete_user(UserName=name)
    assert fails(iam.delete_user, UserName=name)[0] == "NoSuchEntity"


def test_user_tags(iam):
    name = unique("tagged")
    iam.create_user(UserName=name)
    iam.tag_user(UserName=name, Tags=[{"Key": "Env", "Value": "dev"}, {"Key": "Owner", "Value": "me"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "env", "Value": "prod"}])  # keys are case-insensitive
    assert iam.list_user_tags(UserName=name)["Tags"] == [
        {"Key": "Owner", "Value": "me"}, {"Key": "env", "Value": "prod"}]
    iam.untag_user(UserName=name, TagKeys=["Owner"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert fails(iam.tag_user, UserName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]) == (
        "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400)
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert fails(iam.tag_user, UserName=name, Tags=many)[0] == "LimitExceeded"
    page = iam.list_user_tags(UserName=name, MaxItems=1)
    assert page["IsTruncated"] is False and len(page["Tags"]) == 1
    assert fails(iam.tag_user, UserName="ghost-user", Tags=[{"Key": "a", "Value": "b"}])[0] == "NoSuchEntity"


def test_user_permissions_boundary(iam):
    name = unique("bounded")
    iam.create_user(UserName=name, PermissionsBoundary=S3_READ)
    assert iam.get_user(UserName=name)["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": S3_READ}
    policy = iam.create_policy(PolicyName=unique("boundary"), PolicyDocument=doc("s3:*"))["Policy"]
    iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=policy["Arn"])
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["PermissionsBoundaryUsageCount"] == 1
    code, message, _ = fails(iam.put_user_permissions_boundary, UserName=name,
                             PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy/missing-policy")
    assert (code, message) == (
        "NoSuchEntity", f"Policy arn:aws:iam::{ACCOUNT}:policy/missing-policy does not exist or is not attachable.")
    assert fails(iam.put_user_permissions_boundary, UserName=name,
                 PermissionsBoundary="not-an-arn-at-all-really")[0] == "InvalidInput"
    iam.delete_user_permissions_boundary(UserName=name)
    assert "PermissionsBoundary" not in iam.get_user(UserName=name)["User"]
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["PermissionsBoundaryUsageCount"] == 0


# --- groups --------------------------------------------------------------------------------

def test_groups_and_members(iam):
    group, alice, bob = unique("devs"), unique("alice"), unique("bob")
    created = iam.create_group(GroupName=group, Path="/teams/")["Group"]
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/teams/{group}" and created["GroupId"].startswith("AGPA")
    assert fails(iam.create_group, GroupName=group.upper()) == (
        "EntityAlreadyExists", f"Group with name {group.upper()} already exists.", 409)
    for user in (bob, alice):
        iam.create_user(UserName=user)
        iam.add_user_to_group(GroupName=group, UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=alice)  # again: no change
    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == sorted([alice, bob]) and got["Group"]["GroupName"] == group
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/teams/")["Groups"]] == [group]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=alice)["Groups"]] == [group]
    assert fails(iam.delete_group, GroupName=group) == (
        "DeleteConflict", "Cannot delete entity, must remove users from group first.", 409)
    iam.remove_user_from_group(GroupName=group, UserName=alice)
    iam.remove_user_from_group(GroupName=group, UserName=bob)
    renamed = unique("renamed")
    iam.update_group(GroupName=group, NewGroupName=renamed, NewPath="/")
    assert iam.get_group(GroupName=renamed)["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/{renamed}"
    iam.attach_group_policy(GroupName=renamed, PolicyArn=S3_READ)
    assert fails(iam.delete_group, GroupName=renamed)[1] == "Cannot delete entity, must detach all policies first."
    iam.detach_group_policy(GroupName=renamed, PolicyArn=S3_READ)
    iam.delete_group(GroupName=renamed)
    assert fails(iam.get_group, GroupName=renamed) == (
        "NoSuchEntity", f"The group with name {renamed} cannot be found.", 404)
    assert fails(iam.add_user_to_group, GroupName=renamed, UserName=alice)[0] == "NoSuchEntity"


def test_groups_per_user_quota(iam):
    user = unique("joiner")
    iam.create_user(UserName=user)
    for i in range(10):
        group = unique(f"q{i}")
        iam.create_group(GroupName=group)
        iam.add_user_to_group(GroupName=group, UserName=user)
    group = unique("q-extra")
    iam.create_group(GroupName=group)
    assert fails(iam.add_user_to_group, GroupName=group, UserName=user) == (
        "LimitExceeded", "Cannot exceed quota for GroupsPerUser: 10", 409)


# --- roles ---------------------------------------------------------------------------------

def test_roles(iam):
    name = unique("app-role")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_EC2), Path="/service/",
                           Description="runs the app", MaxSessionDuration=7200,
                           Tags=[{"Key": "app", "Value": "web"}])["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/service/{name}" and role["RoleId"].startswith("AROA")
    assert role["AssumeRolePolicyDocument"] == TRUST_EC2  # boto3 decodes the URL-encoded document
    got = iam.get_role(RoleName=name)["Role"]
    assert got["Description"] == "runs the app" and got["MaxSessionDuration"] == 7200
    assert got["Tags"] == [{"Key": "app", "Value": "web"}] and got["RoleLastUsed"] == {}
    assert name in [r["RoleName"] for r in iam.list_roles(PathPrefix="/service/")["Roles"]]
    iam.update_role(RoleName=name, MaxSessionDuration=43200)
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 43200
    updated = iam.update_role_description(RoleName=name, Description="new words")["Role"]
    assert updated["Description"] == "new words"
    trust = {**TRUST_EC2, "Statement": [{**TRUST_EC2["Statement"][0], "Principal": {"Service": "lambda.amazonaws.com"}}]}
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust
    iam.tag_role(RoleName=name, Tags=[{"Key": "tier", "Value": "1"}])
    iam.untag_role(RoleName=name, TagKeys=["app"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "tier", "Value": "1"}]
    iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=S3_READ)
    assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == S3_READ
    iam.delete_role_permissions_boundary(RoleName=name)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
    iam.delete_role(RoleName=name)
    assert fails(iam.get_role, RoleName=name) == ("NoSuchEntity", f"The role with name {name} cannot be found.", 404)


def test_role_validation(iam, raw_iam):
    trust = json.dumps(TRUST_EC2)
    name = unique("r")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    assert fails(iam.create_role, RoleName=name.upper(), AssumeRolePolicyDocument=trust) == (
        "EntityAlreadyExists", f"Role with name {name.upper()} already exists.", 409)
    assert fails(raw_iam.create_role, RoleName=unique("r"), AssumeRolePolicyDocument=trust,
                 MaxSessionDuration=3000)[1].endswith("Member must have value greater than or equal to 3600")
    assert fails(iam.create_role, RoleName=unique("r"), AssumeRolePolicyDocument=trust,
                 MaxSessionDuration=43201)[1] == (
        "1 validation error detected: Value '43201' at 'maxSessionDuration' failed to satisfy constraint: "
        "Member must have value less than or equal to 43200")
    code, _, status = fails(iam.create_role, RoleName=unique("r"), AssumeRolePolicyDocument="{not json")
    assert (code, status) == ("MalformedPolicyDocument", 400)
    # A trust policy needs a principal.
    no_principal = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    assert fails(iam.create_role, RoleName=unique("r"),
                 AssumeRolePolicyDocument=json.dumps(no_principal))[0] == "MalformedPolicyDocument"
    assert fails(iam.update_assume_role_policy, RoleName=name, PolicyDocument="[]")[0] == "MalformedPolicyDocument"
    assert fails(iam.get_role, RoleName="no-such-role")[0] == "NoSuchEntity"


def test_delete_role_conflicts(iam):
    name, profile = unique("busy-role"), unique("profile")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=name)
    iam.attach_role_policy(RoleName=name, PolicyArn=S3_READ)
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=doc("s3:GetObject"))
    assert fails(iam.delete_role, RoleName=name) == (
        "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409)
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=name)
    assert fails(iam.delete_role, RoleName=name)[1] == "Cannot delete entity, must detach all policies first."
    iam.detach_role_policy(RoleName=name, PolicyArn=S3_READ)
    assert fails(iam.delete_role, RoleName=name)[1] == "Cannot delete entity, must delete policies first."
    iam.delete_role_policy(RoleName=name, PolicyName="inline")
    iam.delete_role(RoleName=name)


# --- managed policies ----------------------------------------------------------------------

def test_customer_managed_policy_lifecycle(iam):
    name = unique("read-bucket")
    created = iam.create_policy(PolicyName=name, Path="/app/", PolicyDocument=doc("s3:GetObject"),
                                Description="reads", Tags=[{"Key": "a", "Value": "b"}])["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT}:policy/app/{name}"
    assert created["Arn"] == arn and created["PolicyId"].startswith("ANPA") and created["DefaultVersionId"] == "v1"
    assert created["AttachmentCount"] == 0 and created["IsAttachable"] is True
    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert got["Description"] == "reads" and got["Tags"] == [{"Key": "a", "Value": "b"}]
    assert fails(iam.create_policy, PolicyName=name.upper(), PolicyDocument=doc("s3:GetObject")) == (
        "EntityAlreadyExists", f"A policy called {name.upper()} already exists. Duplicate names are not allowed.", 409)
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(doc("s3:GetObject")) and version["IsDefaultVersion"] is True
    for i in range(2, 6):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(f"s3:Action{i}"), SetAsDefault=(i == 3))
        assert v["PolicyVersion"]["VersionId"] == f"v{i}"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    assert fails(iam.create_policy_version, PolicyArn=arn, PolicyDocument=doc("s3:More")) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing "
        "version.",
        409,
    )
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions] == [False, False, True, False, False]
    assert fails(iam.delete_policy_version, PolicyArn=arn, VersionId="v3") == (
        "DeleteConflict", "Cannot delete the default version of a policy.", 409)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("s3:Six"))["PolicyVersion"]["VersionId"] == "v6"
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v6")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v6"
    assert fails(iam.set_default_policy_version, PolicyArn=arn, VersionId="v1")[0] == "NoSuchEntity"
    assert fails(iam.get_policy_version, PolicyArn=arn, VersionId="v1")[0] == "NoSuchEntity"
    # IAM refuses to delete a policy that still has non-default versions.
    assert fails(iam.delete_policy, PolicyArn=arn)[0] == "DeleteConflict"
    for v in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "c", "Value": "d"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "c", "Value": "d"}]
    iam.delete_policy(PolicyArn=arn)
    assert fails(iam.get_policy, PolicyArn=arn) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)


def test_policy_document_validation(iam):
    assert fails(iam.create_policy, PolicyName=unique("bad"), PolicyDocument="not json")[0] == "MalformedPolicyDocument"
    no_version_effect = json.dumps({"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]})
    assert fails(iam.create_policy, PolicyName=unique("bad"), PolicyDocument=no_version_effect)[0] == (
        "MalformedPolicyDocument")
    huge = doc(*[f"s3:Action{i:05d}" for i in range(700)])
    assert fails(iam.create_policy, PolicyName=unique("huge"), PolicyDocument=huge) == (
        "LimitExceeded", "Cannot exceed quota for PolicySize: 6144", 409)
    assert fails(iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAtAll")[0] == "NoSuchEntity"


def test_aws_managed_policies(iam, aws_cli):
    admin = iam.get_policy(PolicyArn=ADMIN)["Policy"]
    assert admin["PolicyId"] == "ANPAIWMBCKSKIEE64ZLYK" and admin["DefaultVersionId"] == "v1"
    assert admin["Description"] == "Provides full access to AWS services and resources."
    version = iam.get_policy_version(PolicyArn=ADMIN, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == {"Version": "2012-10-17",
                                   "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    basic = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")["Policy"]
    assert basic["Path"] == "/service-role/"
    billing = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/job-function/Billing")["Policy"]
    assert billing["Path"] == "/job-function/"
    code, _, status = fails(iam.create_policy_version, PolicyArn=ADMIN, PolicyDocument=doc("s3:*"))
    assert (code, status) == ("AccessDenied", 403)
    assert fails(iam.delete_policy, PolicyArn=ADMIN)[0] == "AccessDenied"
    listed = json.loads(aws_cli("iam", "list-policies", "--scope", "AWS", expect_ok=True)[1])["Policies"]
    names = {p["PolicyName"] for p in listed}
    assert {"AdministratorAccess", "ReadOnlyAccess", "IAMUserChangePassword", "SecurityAudit", "Billing",
            "AWSLambda_FullAccess", "AmazonS3FullAccess"} <= names
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in listed)
    service_role = iam.list_policies(Scope="AWS", PathPrefix="/service-role/")["Policies"]
    assert [p["PolicyName"] for p in service_role] == ["AWSLambdaBasicExecutionRole"]
    for policy in listed:  # every catalogue document is served and parses
        got = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        assert got["PolicyVersion"]["Document"]["Statement"]


def test_list_policies_filters_and_pages(iam):
    prefix = f"/{unique('lp')}/"
    names = sorted(unique(f"pol{i}") for i in range(3))
    for name in names:
        iam.create_policy(PolicyName=name, Path=prefix, PolicyDocument=doc("s3:ListBucket"))
    local = iam.list_policies(Scope="Local", PathPrefix=prefix)["Policies"]
    assert [p["PolicyName"] for p in local] == names
    user = unique("attacher")
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy{prefix}{names[1]}")
    attached = iam.list_policies(Scope="Local", PathPrefix=prefix, OnlyAttached=True)["Policies"]
    assert [(p["PolicyName"], p["AttachmentCount"]) for p in attached] == [(names[1], 1)]
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy{prefix}{names[2]}")
    boundaries = iam.list_policies(Scope="Local", PathPrefix=prefix, OnlyAttached=True,
                                   PolicyUsageFilter="PermissionsBoundary")["Policies"]
    assert [p["PolicyName"] for p in boundaries] == [names[2]]
    page = iam.list_policies(Scope="Local", PathPrefix=prefix, MaxItems=2)
    assert page["IsTruncated"] and len(page["Policies"]) == 2
    rest = iam.list_policies(Scope="Local", PathPrefix=prefix, MaxItems=2, Marker=page["Marker"])
    assert [p["PolicyName"] for p in page["Policies"] + rest["Policies"]] == names and not rest["IsTruncated"]
    assert fails(iam.list_policies, Scope="Everything")[0] in ("ValidationError",)


def test_attachments_and_entities_for_policy(iam):
    user, group, role = unique("u"), unique("g"), unique("r")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    policy = iam.create_policy(PolicyName=unique("shared"), PolicyDocument=doc("s3:GetObject"))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=policy)
    iam.attach_user_policy(UserName=user, PolicyArn=policy)  # idempotent
    iam.attach_group_policy(GroupName=group, PolicyArn=policy)
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN)
    assert iam.get_policy(PolicyArn=policy)["Policy"]["AttachmentCount"] == 3
    entities = iam.list_entities_for_policy(PolicyArn=policy)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    only_roles = iam.list_entities_for_policy(PolicyArn=policy, EntityFilter="Role")
    assert only_roles["PolicyUsers"] == [] and len(only_roles["PolicyRoles"]) == 1
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == [policy, ADMIN]
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"][0]["PolicyArn"] == policy
    assert fails(iam.delete_policy, PolicyArn=policy) == (
        "DeleteConflict", "Cannot delete a policy attached to entities.", 409)
    missing = f"arn:aws:iam::{ACCOUNT}:policy/not-there"
    assert fails(iam.attach_user_policy, UserName=user, PolicyArn=missing) == (
        "NoSuchEntity", f"Policy {missing} does not exist or is not attachable.", 404)
    assert fails(iam.attach_user_policy, UserName=user, PolicyArn="arn:aws:iam::aws:policy/NotAPolicy")[0] == (
        "NoSuchEntity")
    assert fails(iam.attach_user_policy, UserName="ghost", PolicyArn=ADMIN) == (
        "NoSuchEntity", "The user with name ghost cannot be found.", 404)
    assert fails(iam.detach_user_policy, UserName=user, PolicyArn=ADMIN) == (
        "NoSuchEntity", f"Policy {ADMIN} was not found.", 404)
    assert fails(iam.attach_user_policy, UserName=user, PolicyArn="bogus:arn:value:here")[0] == "InvalidInput"
    for kind, detach in (("user", iam.detach_user_policy), ("group", iam.detach_group_policy)):
        detach(**{f"{kind.capitalize()}Name": user if kind == "user" else group, "PolicyArn": policy})
    iam.detach_role_policy(RoleName=role, PolicyArn=policy)
    assert iam.get_policy(PolicyArn=policy)["Policy"]["AttachmentCount"] == 0
    iam.delete_policy(PolicyArn=policy)


def test_attached_policies_quota(iam):
    user = unique("many")
    iam.create_user(UserName=user)
    arns = [iam.create_policy(PolicyName=unique(f"q{i}"), PolicyDocument=doc("s3:GetObject"))["Policy"]["Arn"]
            for i in range(11)]
    for arn in arns[:10]:
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    assert fails(iam.attach_user_policy, UserName=user, PolicyArn=arns[10]) == (
        "LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10", 409)
    page = iam.list_attached_user_policies(UserName=user, MaxItems=4)
    assert page["IsTruncated"] and [p["PolicyArn"] for p in page["AttachedPolicies"]] == arns[:4]


# --- inline policies -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_inline_policies(iam, kind):
    name = unique(kind)
    title = kind.capitalize()
    if kind == "user":
        iam.create_user(UserName=name)
    elif kind == "group":
        iam.create_group(GroupName=name)
    else:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    entity = {f"{title}Name": name}
    put = getattr(iam, f"put_{kind}_policy")
    get = getattr(iam, f"get_{kind}_policy")
    put(**entity, PolicyName="b-policy", PolicyDocument=doc("s3:GetObject"))
    put(**entity, PolicyName="a-policy", PolicyDocument=doc("s3:PutObject"))
    put(**entity, PolicyName="a-policy", PolicyDocument=doc("s3:DeleteObject"))  # replaces
    got = get(**entity, PolicyName="a-policy")
    assert got[f"{title}Name"] == name and got["PolicyDocument"] == json.loads(doc("s3:DeleteObject"))
    assert getattr(iam, f"list_{kind}_policies")(**entity)["PolicyNames"] == ["a-policy", "b-policy"]
    getattr(iam, f"delete_{kind}_policy")(**entity, PolicyName="a-policy")
    assert fails(get, **entity, PolicyName="a-policy") == (
        "NoSuchEntity", f"The {kind} policy with name a-policy cannot be found.", 404)
    assert fails(put, **entity, PolicyName="bad", PolicyDocument="{}")[0] == "MalformedPolicyDocument"
    limit = {"user": 2048, "group": 5120, "role": 10240}[kind]
    big = doc(*[f"s3:Action{i:04d}" for i in range(limit // 15)])
    assert fails(put, **entity, PolicyName="big", PolicyDocument=big) == (
        "LimitExceeded", f"Maximum policy size of {limit} bytes exceeded for {kind} {name}", 409)
    assert fails(put, **{f"{title}Name": "missing"}, PolicyName="p", PolicyDocument=doc("s3:*"))[0] == "NoSuchEntity"


# --- instance profiles ---------------------------------------------------------------------

def test_instance_profiles(iam):
    name, role, second = unique("web"), unique("web-role"), unique("other-role")
    profile = iam.create_instance_profile(InstanceProfileName=name, Path="/web/",
                                          Tags=[{"Key": "a", "Value": "1"}])["InstanceProfile"]
    assert profile["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/web/{name}"
    assert profile["InstanceProfileId"].startswith("AIPA") and profile["Roles"] == []
    assert fails(iam.create_instance_profile, InstanceProfileName=name.upper())[0] == "EntityAlreadyExists"
    for r in (role, second):
        iam.create_role(RoleName=r, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    assert fails(iam.add_role_to_instance_profile, InstanceProfileName=name, RoleName=second) == (
        "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1", 409)
    got = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == [role] and got["Tags"] == [{"Key": "a", "Value": "1"}]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/web/")["InstanceProfiles"]] == [name]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]] == [
        name]
    iam.tag_instance_profile(InstanceProfileName=name, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_instance_profile(InstanceProfileName=name, TagKeys=["a"])
    assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert fails(iam.delete_instance_profile, InstanceProfileName=name)[0] == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=name)
    assert fails(iam.get_instance_profile, InstanceProfileName=name) == (
        "NoSuchEntity", f"Instance Profile {name} cannot be found.", 404)


# --- account -------------------------------------------------------------------------------

def test_account_alias(iam, raw_iam, other_account, aws_cli):
    alias = unique("acme")
    aws_cli("iam", "create-account-alias", "--account-alias", alias, expect_ok=True)
    assert iam.list_account_aliases()["AccountAliases"] == [alias]
    assert fails(iam.create_account_alias, AccountAlias=alias)[0] == "EntityAlreadyExists"  # held already
    assert fails(other_account["iam"].create_account_alias, AccountAlias=alias) == (
        "EntityAlreadyExists", f"The account alias {alias} already exists.", 409)
    for bad in ("UpperCase", "double--hyphen", "-leading", "trailing-", "under_score"):
        assert fails(iam.create_account_alias, AccountAlias=bad)[0] == "ValidationError", bad
    code, message, _ = fails(raw_iam.create_account_alias, AccountAlias="ab")
    assert code == "ValidationError" and "Member must have length greater than or equal to 3" in message
    second = unique("acme2")
    iam.create_account_alias(AccountAlias=second)  # replaces the first
    assert iam.list_account_aliases()["AccountAliases"] == [second]
    other_account["iam"].create_account_alias(AccountAlias=alias)  # the old one is free again
    assert fails(iam.delete_account_alias, AccountAlias=alias) == (
        "NoSuchEntity", f"The account alias {alias} cannot be found.", 404)
    iam.delete_account_alias(AccountAlias=second)
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_password_policy(iam, raw_iam):
    if _has_password_policy(iam):
        iam.delete_account_password_policy()
    assert fails(iam.get_account_password_policy) == (
        "NoSuchEntity", f"The Password Policy with domain name {ACCOUNT} cannot be found.", 404)
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireSymbols=True, RequireNumbers=True,
                                       MaxPasswordAge=90, PasswordReusePrevention=5, AllowUsersToChangePassword=True)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12 and policy["RequireSymbols"] and policy["RequireNumbers"]
    assert not policy["RequireUppercaseCharacters"] and policy["AllowUsersToChangePassword"]
    assert policy["ExpirePasswords"] is True and policy["MaxPasswordAge"] == 90 and policy["PasswordReusePrevention"] == 5
    iam.update_account_password_policy(MinimumPasswordLength=8)  # what is left out resets to defaults
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 8 and not policy["RequireSymbols"] and policy["ExpirePasswords"] is False
    assert "MaxPasswordAge" not in policy
    for field, value, bound in (("MinimumPasswordLength", 5, "greater than or equal to 6"),
                                ("MinimumPasswordLength", 129, "less than or equal to 128"),
                                ("MaxPasswordAge", 1096, "less than or equal to 1095"),
                                ("MaxPasswordAge", 0, "greater than or equal to 1"),
                                ("PasswordReusePrevention", 25, "less than or equal to 24")):
        code, message, status = fails(raw_iam.update_account_password_policy, **{field: value})
        wire = field[0].lower() + field[1:]
        assert (code, status) == ("ValidationError", 400)
        assert message == (f"1 validation error detected: Value '{value}' at '{wire}' failed to satisfy constraint: "
                           f"Member must have value {bound}")
    assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 8
    iam.delete_account_password_policy()
    assert fails(iam.delete_account_password_policy)[0] == "NoSuchEntity"


def _has_password_policy(iam) -> bool:
    try:
        iam.get_account_password_policy()
    except ClientError:
        return False
    return True


def test_account_summary_counts_what_exists(other_account):
    iam = other_account["iam"]
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] == 0 and summary["UsersQuota"] == 5000 and summary["AccessKeysPerUserQuota"] == 2
    assert summary["AccountAccessKeysPresent"] == 1 and summary["AccountMFAEnabled"] == 0
    assert summary["VersionsPerPolicyQuota"] == 5 and summary["PolicySizeQuota"] == 6144
    iam.create_user(UserName="one")
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.create_policy(PolicyName="p", PolicyDocument=doc("s3:GetObject"))
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.create_virtual_mfa_device(VirtualMFADeviceName="dev")
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["Users"], summary["Groups"], summary["Roles"], summary["Policies"], summary["InstanceProfiles"]) == (
        1, 1, 1, 1, 1)
    assert summary["MFADevices"] == 1 and summary["MFADevicesInUse"] == 0


def test_accounts_do_not_see_each_other(iam, other_account):
    name = unique("private")
    iam.create_user(UserName=name)
    assert fails(other_account["iam"].get_user, UserName=name)[0] == "NoSuchEntity"
    other_account["iam"].create_user(UserName=name)  # the same name in another account
    policy = iam.create_policy(PolicyName=unique("mine"), PolicyDocument=doc("s3:GetObject"))["Policy"]["Arn"]
    # Another account's policy is out of reach: IAM resources have no resource policies.
    assert fails(other_account["iam"].get_policy, PolicyArn=policy)[0] == "AccessDenied"
    assert fails(other_account["iam"].attach_user_policy, UserName=name, PolicyArn=policy)[0] == "NoSuchEntity"


def test_account_authorization_details(other_account):
    iam = other_account["iam"]
    iam.create_user(UserName="details-user")
    iam.create_group(GroupName="details-group")
    iam.add_user_to_group(GroupName="details-group", UserName="details-user")
    iam.put_user_policy(UserName="details-user", PolicyName="inline", PolicyDocument=doc("s3:GetObject"))
    iam.attach_user_policy(UserName="details-user", PolicyArn=ADMIN)
    iam.put_group_policy(GroupName="details-group", PolicyName="gp", PolicyDocument=doc("s3:PutObject"))
    iam.create_role(RoleName="details-role", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.create_instance_profile(InstanceProfileName="details-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="details-profile", RoleName="details-role")
    arn = iam.create_policy(PolicyName="details-policy", PolicyDocument=doc("s3:ListBucket"))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc("s3:ListAllMyBuckets"), SetAsDefault=True)
    iam.attach_role_policy(RoleName="details-role", PolicyArn=arn)

    details = iam.get_account_authorization_details()
    user = next(u for u in details["UserDetailList"] if u["UserName"] == "details-user")
    assert user["GroupList"] == ["details-group"]
    assert user["UserPolicyList"] == [{"PolicyName": "inline", "PolicyDocument": json.loads(doc("s3:GetObject"))}]
    assert user["AttachedManagedPolicies"] == [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}]
    group = next(g for g in details["GroupDetailList"] if g["GroupName"] == "details-group")
    assert group["GroupPolicyList"][0]["PolicyName"] == "gp"
    role = next(r for r in details["RoleDetailList"] if r["RoleName"] == "details-role")
    assert [p["InstanceProfileName"] for p in role["InstanceProfileList"]] == ["details-profile"]
    assert role["AttachedManagedPolicies"] == [{"PolicyName": "details-policy", "PolicyArn": arn}]
    assert role["AssumeRolePolicyDocument"] == TRUST_EC2 and "RoleLastUsed" in role
    policies = {p["Arn"]: p for p in details["Policies"]}
    assert [v["VersionId"] for v in policies[arn]["PolicyVersionList"]] == ["v2", "v1"]
    assert policies[arn]["PolicyVersionList"][0]["Document"] == json.loads(doc("s3:ListAllMyBuckets"))
    assert ADMIN in policies  # AWS managed policies in use are reported
    assert "arn:aws:iam::aws:policy/ReadOnlyAccess" not in policies

    only_roles = iam.get_account_authorization_details(Filter=["Role"])
    assert only_roles["UserDetailList"] == [] and only_roles["Policies"] == [] and only_roles["RoleDetailList"]
    pages = list(iam.get_paginator("get_account_authorization_details").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) > 3 and sum(len(p["UserDetailList"]) for p in pages) == len(details["UserDetailList"])


# --- the AWS CLI and the course's lab ------------------------------------------------------

def test_cli_lab_steps(aws_cli):
    run = lambda *a: json.loads(aws_cli(*a, expect_ok=True)[1] or "{}")  # noqa: E731
    user = unique("student")
    assert run("iam", "create-user", "--user-name", user)["User"]["UserName"] == user
    run("iam", "attach-user-policy", "--user-name", user, "--policy-arn", ADMIN)
    run("iam", "attach-user-policy", "--user-name", user, "--policy-arn", CHANGE_PASSWORD)
    attached = run("iam", "list-attached-user-policies", "--user-name", user)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AdministratorAccess", "IAMUserChangePassword"]
    version = run("iam", "get-policy-version", "--policy-arn", CHANGE_PASSWORD, "--version-id",
                  run("iam", "get-policy", "--policy-arn", CHANGE_PASSWORD)["Policy"]["DefaultVersionId"])
    assert version["PolicyVersion"]["Document"]["Statement"][0]["Action"] == ["iam:ChangePassword"]
    group = unique("admins")
    run("iam", "create-group", "--group-name", group)
    run("iam", "add-user-to-group", "--group-name", group, "--user-name", user)
    assert [u["UserName"] for u in run("iam", "get-group", "--group-name", group)["Users"]] == [user]
    code, _, stderr = aws_cli("iam", "get-user", "--user-name", "missing-student")
    assert code != 0 and "NoSuchEntity" in stderr and "The user with name missing-student cannot be found." in stderr
