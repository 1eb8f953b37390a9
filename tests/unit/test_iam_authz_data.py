"""What IAM hands the authorizer, read from state built through the IAM provider itself."""

from __future__ import annotations

import json

import pytest

from gureum.auth.accounts import AccountStore, root_principal
from gureum.auth.credentials import CredentialStore
from gureum.config import Settings
from gureum.context import RequestContext
from gureum.events import EventBus
from gureum.services.base import ServiceEnv
from gureum.services.iam import authz_data
from gureum.services.iam.provider import Provider
from gureum.store import BlobStore, Database

ACCOUNT = "111122223333"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def doc(action: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})


@pytest.fixture()
def iam(tmp_path):
    db = Database(tmp_path / "state.sqlite3")
    credentials = CredentialStore(db)
    accounts = AccountStore(db, credentials)
    accounts.ensure_default(ACCOUNT, "AKIAROOTKEY", "secret")
    env = ServiceEnv(settings=Settings(data_dir=tmp_path), db=db, blobs=BlobStore(tmp_path / "blobs"),
                     events=EventBus(), credentials=credentials, accounts=accounts, provider=lambda name: None)
    provider = Provider(env)
    root = root_principal(ACCOUNT, "AKIAROOTKEY")

    def call(operation: str, **request):
        from botocore import xform_name

        ctx = RequestContext(request_id="r", service="iam", region="us-east-1", operation=operation, principal=root)
        return getattr(provider, xform_name(operation))(ctx, request)

    call.db = db
    return call


def test_user_policies_include_its_groups(iam):
    iam("CreateUser", UserName="Alice")
    iam("CreateGroup", GroupName="devs")
    iam("AddUserToGroup", GroupName="devs", UserName="alice")
    iam("PutUserPolicy", UserName="alice", PolicyName="own", PolicyDocument=doc("s3:GetObject"))
    iam("AttachUserPolicy", UserName="alice", PolicyArn=ADMIN)
    arn = iam("CreatePolicy", PolicyName="team", PolicyDocument=doc("s3:ListBucket"))["Policy"]["Arn"]
    iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc("s3:ListAllMyBuckets"), SetAsDefault=True)
    iam("AttachGroupPolicy", GroupName="devs", PolicyArn=arn)
    iam("PutGroupPolicy", GroupName="devs", PolicyName="shared", PolicyDocument=doc("s3:PutObject"))

    found = dict(authz_data.identity_policy_documents(iam.db, ACCOUNT, "user", "Alice"))
    assert set(found) == {"inline:user/Alice/own", ADMIN, "inline:group/devs/shared", arn}
    assert json.loads(found[ADMIN])["Statement"][0]["Action"] == "*"
    assert found[arn] == doc("s3:ListAllMyBuckets")  # the default version
    assert authz_data.identity_policy_documents(iam.db, ACCOUNT, "user", "nobody") == []
    assert authz_data.identity_policy_documents(iam.db, "999999999999", "user", "Alice") == []
    assert authz_data.identity_policy_documents(iam.db, ACCOUNT, "federated-user", "Alice") == []


def test_role_policies_boundary_and_tags(iam):
    role = iam("CreateRole", RoleName="worker", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=7200,
               Tags=[{"Key": "team", "Value": "data"}], PermissionsBoundary=S3_READ)["Role"]
    iam("PutRolePolicy", RoleName="worker", PolicyName="logs", PolicyDocument=doc("logs:*"))
    iam("AttachRolePolicy", RoleName="worker", PolicyArn=S3_READ)
    found = authz_data.identity_policy_documents(iam.db, ACCOUNT, "role", "worker")
    assert [source for source, _ in found] == ["inline:role/worker/logs", S3_READ]
    source, document = authz_data.permissions_boundary_document(iam.db, ACCOUNT, "role", "worker")
    assert source == S3_READ and "s3:Get*" in document
    assert authz_data.principal_tags(iam.db, ACCOUNT, "role", "worker") == {"team": "data"}

    row = authz_data.role_by_arn(iam.db, role["Arn"])
    assert (row["role_name"], row["role_id"], row["account_id"], row["max_session_duration"]) == (
        "worker", role["RoleId"], ACCOUNT, 7200)
    assert row["assume_role_policy"] == TRUST
    assert authz_data.role_by_arn(iam.db, f"arn:aws:iam::{ACCOUNT}:role/missing") is None


def test_boundary_of_a_customer_policy_and_none(iam):
    iam("CreateUser", UserName="bob", Tags=[{"Key": "dept", "Value": "ops"}])
    assert authz_data.permissions_boundary_document(iam.db, ACCOUNT, "user", "bob") is None
    arn = iam("CreatePolicy", PolicyName="cap", PolicyDocument=doc("iam:ListUsers"))["Policy"]["Arn"]
    iam("PutUserPermissionsBoundary", UserName="bob", PermissionsBoundary=arn)
    assert authz_data.permissions_boundary_document(iam.db, ACCOUNT, "user", "bob") == (arn, doc("iam:ListUsers"))
    assert authz_data.principal_tags(iam.db, ACCOUNT, "user", "bob") == {"dept": "ops"}


def test_renames_carry_policies_along(iam):
    iam("CreateUser", UserName="old")
    iam("PutUserPolicy", UserName="old", PolicyName="p", PolicyDocument=doc("s3:GetObject"))
    iam("UpdateUser", UserName="old", NewUserName="new")
    assert [s for s, _ in authz_data.identity_policy_documents(iam.db, ACCOUNT, "user", "new")] == ["inline:user/new/p"]
    assert authz_data.identity_policy_documents(iam.db, ACCOUNT, "user", "old") == []


def test_reads_use_indexes(iam):
    plans = {
        "role_by_arn": "SELECT * FROM iam_roles WHERE arn = ?",
        "attachments": "SELECT policy_arn FROM iam_attachments WHERE account_id = ? AND entity_kind = ?"
                       " AND entity_name = ? ORDER BY rowid",
        "groups": "SELECT group_name FROM iam_group_members WHERE account_id = ? AND user_name = ?",
        "inline": "SELECT document FROM iam_inline_policies WHERE account_id = ? AND entity_kind = ?"
                  " AND entity_name = ?",
    }
    for name, sql in plans.items():
        detail = " ".join(r["detail"] for r in iam.db.query("EXPLAIN QUERY PLAN " + sql, ("a",) * sql.count("?")))
        assert "USING" in detail and "SCAN iam_" not in detail, (name, detail)
