"""Response serializers, read back by botocore's own response parsers.

Each case serializes an operation's output the way a provider returns it and asserts that
botocore (the parser plus the client's after-call fix-ups) reads the same values back.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from botocore import handlers
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from gureum.protocol.http import HttpResponse
from gureum.protocol.model import operation_model
from gureum.protocol.serializers import serialize_response

REQUEST_ID = "4b1f6a7e-2c0d-4d8e-9a55-7f3e2b1c0d9e"
T1 = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
T2 = datetime(2023, 12, 31, 23, 59, 59, tzinfo=timezone.utc)


def body_bytes(body) -> bytes:
    if isinstance(body, bytes):
        return body
    if hasattr(body, "__aiter__"):
        async def collect() -> bytes:
            return b"".join([chunk async for chunk in body])

        return asyncio.run(collect())
    return b"".join(body)


def read_back(protocol: str, operation, response: HttpResponse, shape=None) -> dict:
    """What a botocore client makes of `response` for `operation`."""
    wire = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers),
        "body": body_bytes(response.body),
        "context": {},
    }
    parsed = create_parser(protocol).parse(wire, shape or operation.output_shape)
    service = operation.service_model.service_name
    if service == "iam":
        handlers.json_decode_policies(parsed, operation)
    return parsed


def round_trip(service: str, operation: str, output: dict, protocol: str | None = None, **kw):
    op = operation_model(service, operation)
    protocol = protocol or op.service_model.resolved_protocol
    response = serialize_response(protocol, op, output, REQUEST_ID, **kw)
    parsed = read_back(protocol, op, response)
    metadata = parsed.pop("ResponseMetadata")
    assert metadata["RequestId"] == REQUEST_ID
    return response, parsed


# --------------------------------------------------------------------------- query


def test_sts_assume_role():
    output = {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLE",
            "SecretAccessKey": "secret/+=",
            "SessionToken": "token<&>",
            "Expiration": T1,
        },
        "AssumedRoleUser": {"AssumedRoleId": "AROA:sess", "Arn": "arn:aws:sts::000000000000:assumed-role/r/sess"},
        "PackedPolicySize": 6,
        "SourceIdentity": None,
    }
    response, parsed = round_trip("sts", "AssumeRole", output)
    del output["SourceIdentity"]
    assert parsed == output
    assert response.header("Content-Type") == "text/xml"
    assert response.header("Content-Length") == str(len(response.body))
    body = response.body.decode()
    assert body.startswith(
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
    )
    assert "<Expiration>2024-01-02T03:04:05.678Z</Expiration>" in body
    assert f"<ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata>" in body


def test_sts_get_caller_identity_without_output_members():
    response, parsed = round_trip("sts", "GetCallerIdentity", {})
    assert parsed == {}
    assert b"<GetCallerIdentityResult></GetCallerIdentityResult>" in response.body


def test_iam_list_users():
    output = {
        "Users": [
            {
                "Path": "/",
                "UserName": "alice",
                "UserId": "AIDAALICE",
                "Arn": "arn:aws:iam::000000000000:user/alice",
                "CreateDate": T2,
                "Tags": [{"Key": "team", "Value": "a&b"}],
            },
            {"Path": "/ops/", "UserName": "bob", "UserId": "AIDABOB", "Arn": "arn:b", "CreateDate": T1},
        ],
        "IsTruncated": True,
        "Marker": "next",
    }
    response, parsed = round_trip("iam", "ListUsers", output)
    assert parsed == output
    assert b"<Users><member><Path>/</Path>" in response.body
    assert b"<IsTruncated>true</IsTruncated>" in response.body


def test_iam_account_authorization_details_policy_documents_are_url_encoded():
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    output = {
        "UserDetailList": [
            {
                "UserName": "alice",
                "UserPolicyList": [{"PolicyName": "inline", "PolicyDocument": json.dumps(document)}],
                "GroupList": ["admins"],
                "AttachedManagedPolicies": [{"PolicyName": "ReadOnly", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnly"}],
            }
        ],
        "Policies": [
            {
                "PolicyName": "ReadOnly",
                "DefaultVersionId": "v1",
                "PolicyVersionList": [
                    {"Document": json.dumps(document), "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": T2}
                ],
            }
        ],
        "IsTruncated": False,
    }
    response, parsed = round_trip("iam", "GetAccountAuthorizationDetails", output)
    assert b"%7B%22Version%22%3A%20%222012-10-17%22" in response.body
    assert parsed["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"] == document
    assert parsed["Policies"][0]["PolicyVersionList"][0]["Document"] == document
    assert parsed["UserDetailList"][0]["GroupList"] == ["admins"]
    assert parsed["IsTruncated"] is False


# --------------------------------------------------------------------------- ec2


def test_ec2_describe_instances_nested_lists_and_tags():
    output = {
        "Reservations": [
            {
                "ReservationId": "r-0123",
                "OwnerId": "000000000000",
                "Groups": [{"GroupId": "sg-1", "GroupName": "default"}],
                "Instances": [
                    {
                        "InstanceId": "i-0abc",
                        "ImageId": "ami-1",
                        "State": {"Code": 16, "Name": "running"},
                        "LaunchTime": T1,
                        "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "env", "Value": ""}],
                        "SecurityGroups": [{"GroupId": "sg-1", "GroupName": "default"}],
                        "Placement": {"AvailabilityZone": "us-east-1a", "Tenancy": "default"},
                        "EbsOptimized": False,
                        "BlockDeviceMappings": [
                            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": "vol-1", "Status": "attached", "AttachTime": T2, "DeleteOnTermination": True}}
                        ],
                    }
                ],
            }
        ],
        "NextToken": "tok",
    }
    response, parsed = round_trip("ec2", "DescribeInstances", output)
    assert parsed == output
    body = response.body.decode()
    assert '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' in body
    assert f"<requestId>{REQUEST_ID}</requestId>" in body
    assert "<tagSet><item><key>Name</key><value>web</value></item>" in body
    assert "<instanceState><code>16</code>" in body


# --------------------------------------------------------------------------- json


def test_dynamodb_get_item_nested():
    item = {
        "pk": {"S": "user#1"},
        "n": {"N": "12.5"},
        "bin": {"B": b"\x00\xff\x10"},
        "set": {"SS": ["a", "b"]},
        "bins": {"BS": [b"\x01", b"\x02"]},
        "doc": {"M": {"deep": {"L": [{"BOOL": True}, {"NULL": True}, {"M": {"x": {"NS": ["1", "2"]}}}]}}},
    }
    output = {"Item": item, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}
    response, parsed = round_trip("dynamodb", "GetItem", output)
    assert parsed == output
    assert response.header("Content-Type") == "application/x-amz-json-1.0"
    assert response.header("x-amzn-RequestId") == REQUEST_ID
    assert json.loads(response.body)["Item"]["bin"] == {"B": "AP8Q"}


def test_kms_encrypt_blob():
    output = {"CiphertextBlob": bytes(range(256)), "KeyId": "arn:aws:kms:us-east-1:000000000000:key/k", "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    response, parsed = round_trip("kms", "Encrypt", output)
    assert parsed == output
    assert response.header("Content-Type") == "application/x-amz-json-1.1"


def test_sqs_json_receive_message():
    output = {
        "Messages": [
            {
                "MessageId": "m1",
                "ReceiptHandle": "rh",
                "MD5OfBody": "d41d8cd98f00b204e9800998ecf8427e",
                "Body": "héllo \"world\"\n",
                "Attributes": {"SentTimestamp": "1704067200000"},
                "MessageAttributes": {"bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
            }
        ]
    }
    _, parsed = round_trip("sqs", "ReceiveMessage", output)
    assert parsed == output


def test_json_empty_output_is_an_empty_object():
    response, parsed = round_trip("sqs", "ListQueues", {})
    assert response.body == b"{}"
    assert parsed == {}


def test_json_drops_none_and_unknown_members():
    response, _ = round_trip("kms", "Encrypt", {"KeyId": "k", "CiphertextBlob": None, "Unmodeled": 1})
    assert json.loads(response.body) == {"KeyId": "k"}


# --------------------------------------------------------------------------- cloudwatch: three protocols


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "json", "query"])
def test_cloudwatch_get_metric_data(protocol):
    output = {
        "MetricDataResults": [
            {"Id": "m1", "Label": "CPU", "Timestamps": [T1, T2], "Values": [1.5, 0.0, -3.25e10], "StatusCode": "Complete"},
            {"Id": "m2", "Timestamps": [], "Values": [], "StatusCode": "PartialData",
             "Messages": [{"Code": "c", "Value": "v"}]},
        ],
        "NextToken": "n",
    }
    response, parsed = round_trip("cloudwatch", "GetMetricData", output, protocol=protocol)
    assert parsed == output
    if protocol == "smithy-rpc-v2-cbor":
        assert response.header("smithy-protocol") == "rpc-v2-cbor"
        assert response.header("Content-Type") == "application/cbor"
        assert b"\xc1" in response.body  # tag 1: epoch timestamp


def test_cbor_empty_output_is_an_empty_map_and_no_output_no_body():
    response, parsed = round_trip("cloudwatch", "DescribeAlarms", {}, protocol="smithy-rpc-v2-cbor")
    assert response.body == b"\xa0"
    assert parsed == {}
    op = operation_model("cloudwatch", "PutMetricData")  # no output shape
    response = serialize_response("smithy-rpc-v2-cbor", op, {}, REQUEST_ID)
    assert response.body == b""
    assert response.header("x-amzn-RequestId") == REQUEST_ID


# --------------------------------------------------------------------------- rest-json


def test_lambda_get_function():
    output = {
        "Configuration": {
            "FunctionName": "f",
            "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
            "Runtime": "python3.12",
            "MemorySize": 128,
            "Timeout": 3,
            "LastModified": "2024-01-02T03:04:05.678+0000",
            "Environment": {"Variables": {"A": "1"}},
            "Layers": [{"Arn": "arn:layer", "CodeSize": 10}],
            "Architectures": ["x86_64"],
        },
        "Code": {"RepositoryType": "S3", "Location": "https://example/code.zip"},
        "Tags": {"team": "x"},
        "Concurrency": {"ReservedConcurrentExecutions": 5},
    }
    response, parsed = round_trip("lambda", "GetFunction", output)
    assert parsed == output
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"


def test_lambda_invoke_payload_and_function_error_header():
    output = {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": b'{"errorMessage":"boom"}', "ExecutedVersion": "$LATEST"}
    response, parsed = round_trip("lambda", "Invoke", output)
    assert response.body == b'{"errorMessage":"boom"}'
    assert response.header("X-Amz-Function-Error") == "Unhandled"
    assert parsed == {**output, "Payload": '{"errorMessage":"boom"}'}  # the parser hands bodies back as text


def test_lambda_invoke_event_status_from_member():
    response, parsed = round_trip("lambda", "Invoke", {"StatusCode": 202})
    assert response.status == 202
    assert parsed["StatusCode"] == 202


def test_rest_json_response_code_and_no_body_status():
    op = operation_model("lambda", "DeleteFunctionConcurrency")
    response = serialize_response("rest-json", op, {}, REQUEST_ID)
    assert response.status == op.http["responseCode"] == 204
    assert response.body == b""


# --------------------------------------------------------------------------- rest-xml: S3


def test_s3_list_objects_v2():
    output = {
        "IsTruncated": False,
        "Contents": [
            {"Key": "dir/a b&c<d>.txt", "LastModified": T1, "ETag": '"abc"', "Size": 11, "StorageClass": "STANDARD",
             "ChecksumAlgorithm": ["CRC32"], "Owner": {"ID": "owner", "DisplayName": "me"}},
            {"Key": "line\r\nbreak", "LastModified": T2, "ETag": '"def"', "Size": 0, "StorageClass": "STANDARD"},
        ],
        "Name": "bucket",
        "Prefix": "",
        "Delimiter": "/",
        "MaxKeys": 1000,
        "CommonPrefixes": [{"Prefix": "dir/"}],
        "KeyCount": 3,
    }
    response, parsed = round_trip("s3", "ListObjectsV2", output)
    assert parsed == output
    body = response.body.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">')
    assert "<Contents><Key>dir/a b&amp;c&lt;d&gt;.txt</Key>" in body
    assert response.header("x-amz-request-id") == REQUEST_ID
    assert response.header("x-amz-id-2")
    assert response.header("Content-Type") == "application/xml"


def test_s3_list_buckets():
    output = {
        "Buckets": [{"Name": "a", "CreationDate": T1, "BucketRegion": "us-east-1"}, {"Name": "b", "CreationDate": T2}],
        "Owner": {"ID": "o", "DisplayName": "d"},
        "Prefix": "p",
    }
    response, parsed = round_trip("s3", "ListBuckets", output)
    assert parsed == output
    assert b"<ListAllMyBucketsResult " in response.body
    assert b"<Buckets><Bucket><Name>a</Name>" in response.body


def test_s3_get_bucket_acl_grantee_type_attribute():
    output = {
        "Owner": {"ID": "owner-id", "DisplayName": "me"},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "owner-id", "DisplayName": "me"}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"},
        ],
    }
    response, parsed = round_trip("s3", "GetBucketAcl", output)
    assert parsed == output
    assert (
        b'<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">'
        in response.body
    )
    assert b"<AccessControlPolicy " in response.body


def test_s3_get_object_headers_and_metadata():
    output = {
        "Body": b"hello world",
        "ContentLength": 11,
        "ContentType": "text/plain",
        "ETag": '"5eb63bbbe01eeed093cb22bb8f5acdc3"',
        "LastModified": T2,
        "Metadata": {"colour": "blue", "owner-name": "Ann"},
        "VersionId": "v1",
        "StorageClass": "STANDARD_IA",
        "TagCount": 2,
        "ObjectLockRetainUntilDate": T2,
    }
    response, parsed = round_trip("s3", "GetObject", output)
    assert response.body == b"hello world"
    assert response.header("Content-Length") == "11"
    assert response.header("Content-Type") == "text/plain"
    assert response.header("x-amz-meta-colour") == "blue"
    assert response.header("Last-Modified") == "Sun, 31 Dec 2023 23:59:59 GMT"
    assert parsed == {**output, "Body": "hello world"}


def test_s3_get_object_streams_body_unbuffered():
    async def chunks():
        yield b"abc"
        yield b"def"

    stream = chunks()
    op = operation_model("s3", "GetObject")
    response = serialize_response("rest-xml", op, {"Body": stream, "ContentLength": 6}, REQUEST_ID)
    assert response.body is stream
    assert response.header("Content-Length") == "6"
    assert response.header("Content-Type") == "application/octet-stream"
    assert body_bytes(response.body) == b"abcdef"


def test_s3_head_object_has_headers_only():
    output = {"ContentLength": 1234, "ContentType": "image/png", "LastModified": T2, "Metadata": {"k": "v"}, "ETag": '"e"'}
    response, parsed = round_trip("s3", "HeadObject", output, method="HEAD")
    assert response.body == b""
    assert response.header("Content-Length") == "1234"
    assert parsed == output


def test_s3_get_bucket_location_is_bare_text():
    op = operation_model("s3", "GetBucketLocation")
    response = serialize_response("rest-xml", op, {"LocationConstraint": "eu-west-1"}, REQUEST_ID)
    assert response.body.endswith(b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>')
    parsed = read_back("rest-xml", op, response)

    class Raw:
        raw = True
        content = response.body

    handlers.parse_get_bucket_location(parsed, Raw())
    assert parsed["LocationConstraint"] == "eu-west-1"


def test_s3_structure_payload_root_element():
    output = {"PolicyStatus": {"IsPublic": True}}
    response, parsed = round_trip("s3", "GetBucketPolicyStatus", output)
    assert parsed == output
    assert b'<PolicyStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsPublic>true</IsPublic></PolicyStatus>' in response.body


def test_s3_output_of_headers_only_has_no_body():
    response, parsed = round_trip("s3", "PutObject", {"ETag": '"e"', "VersionId": "v"})
    assert response.body == b""
    assert response.header("ETag") == '"e"'
    assert parsed == {"ETag": '"e"', "VersionId": "v"}


# --------------------------------------------------------------------------- rest-xml: Route 53


def test_route53_list_resource_record_sets():
    output = {
        "ResourceRecordSets": [
            {"Name": "example.com.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.1"}, {"Value": "192.0.2.2"}]},
            {"Name": "alias.example.com.", "Type": "A",
             "AliasTarget": {"HostedZoneId": "Z1", "DNSName": "d.example.", "EvaluateTargetHealth": False}},
        ],
        "IsTruncated": True,
        "NextRecordName": "next.example.com.",
        "NextRecordType": "MX",
        "MaxItems": "2",
    }
    response, parsed = round_trip("route53", "ListResourceRecordSets", output)
    assert parsed == output
    assert b'<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">' in response.body
    assert b"<ResourceRecordSets><ResourceRecordSet>" in response.body
    assert response.header("x-amzn-RequestId") == REQUEST_ID


def test_route53_created_status():
    op = operation_model("route53", "CreateHostedZone")
    output = {
        "HostedZone": {"Id": "/hostedzone/Z1", "Name": "example.com.", "CallerReference": "c", "Config": {"PrivateZone": False}},
        "ChangeInfo": {"Id": "/change/C1", "Status": "PENDING", "SubmittedAt": T1},
        "DelegationSet": {"NameServers": ["ns1.example."]},
        "Location": "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1",
    }
    response = serialize_response("rest-xml", op, output, REQUEST_ID)
    assert response.status == 201
    assert response.header("Location") == output["Location"]
    parsed = read_back("rest-xml", op, response)
    parsed.pop("ResponseMetadata")
    assert parsed == output


# --------------------------------------------------------------------------- values


def test_timestamps_keep_milliseconds_and_accept_naive_utc():
    naive = datetime(2024, 1, 2, 3, 4, 5, 678400)
    _, parsed = round_trip("sts", "AssumeRole", {"Credentials": {"AccessKeyId": "a", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": naive}})
    assert parsed["Credentials"]["Expiration"] == T1
    op = operation_model("dynamodb", "DescribeTable")
    response = serialize_response("json", op, {"Table": {"CreationDateTime": T2}}, REQUEST_ID)
    assert json.loads(response.body) == {"Table": {"CreationDateTime": 1704067199}}


def test_non_finite_floats_in_json_are_named():
    op = operation_model("cloudwatch", "GetMetricData")
    output = {"MetricDataResults": [{"Id": "m", "Values": [float("inf"), float("-inf")]}]}
    response = serialize_response("json", op, output, REQUEST_ID)
    assert json.loads(response.body)["MetricDataResults"][0]["Values"] == ["Infinity", "-Infinity"]
