"""The AWS managed policy catalogue: complete, well-formed, and read lazily."""

from __future__ import annotations

import json

from gureum.services.iam import managed_policies

REQUIRED = {
    "AdministratorAccess": "/", "PowerUserAccess": "/", "ReadOnlyAccess": "/", "IAMUserChangePassword": "/",
    "IAMFullAccess": "/", "AmazonS3FullAccess": "/", "AmazonS3ReadOnlyAccess": "/", "AmazonEC2FullAccess": "/",
    "AmazonEC2ReadOnlyAccess": "/", "AmazonDynamoDBFullAccess": "/", "AWSLambda_FullAccess": "/",
    "AWSLambdaBasicExecutionRole": "/service-role/", "CloudWatchFullAccess": "/", "AmazonSNSFullAccess": "/",
    "AmazonRDSFullAccess": "/", "AWSKeyManagementServicePowerUser": "/", "Billing": "/job-function/",
    "SecurityAudit": "/",
}


def test_catalogue_has_the_policies_users_attach():
    by_name = {p.name: p for p in managed_policies.catalogue().values()}
    for name, path in REQUIRED.items():
        policy = by_name[name]
        assert policy.path == path
        assert policy.arn == f"arn:aws:iam::aws:policy{path}{name}"
        assert managed_policies.get(policy.arn) is policy


def test_entries_are_well_formed():
    ids = set()
    for policy in managed_policies.catalogue().values():
        assert policy.policy_id.startswith("ANPA") and len(policy.policy_id) == 21
        assert policy.default_version.startswith("v") and policy.created <= policy.updated
        assert policy.description
        ids.add(policy.policy_id)
        document = json.loads(policy.document())
        assert document["Version"] == "2012-10-17" and document["Statement"]
    assert len(ids) == len(managed_policies.catalogue())


def test_known_documents():
    admin = json.loads(managed_policies.document("AdministratorAccess"))
    assert admin == {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    change = json.loads(managed_policies.document("IAMUserChangePassword"))
    assert change["Statement"][0]["Action"] == ["iam:ChangePassword"]
    assert change["Statement"][0]["Resource"] == ["arn:aws:iam::*:user/${aws:username}",
                                                  "arn:aws:iam::*:user/*/${aws:username}"]


def test_unknown_arns():
    assert managed_policies.get("arn:aws:iam::aws:policy/NoSuchThing") is None
    assert managed_policies.is_aws_managed("arn:aws:iam::aws:policy/job-function/Billing")
    assert not managed_policies.is_aws_managed("arn:aws:iam::123456789012:policy/mine")
