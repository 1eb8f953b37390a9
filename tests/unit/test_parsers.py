"""Request parsing: botocore's own client serializer builds each request, dispatch.parse must
recover the operation and exactly the parameters the client was given."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.compress import maybe_compress_request
from botocore.config import Config
from botocore.serialize import create_serializer

from gureum.protocol import dispatch
from gureum.protocol.http import BodyStream, HttpRequest
from gureum.protocol.model import service_model

T1 = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
T2 = datetime(2024, 5, 6, 7, 8, 9, 250000, tzinfo=timezone.utc)


def wire_request(service: str, operation: str, params: dict, protocol: str | None = None, compress: bool = False) -> HttpRequest:
    """The request a botocore client sends for `params`, as the gateway hands it over."""
    model = service_model(service)
    op = model.operation_model(operation)
    protocol = protocol or model.protocol
    serialized = create_serializer(protocol, include_validation=False).serialize_to_request(params, op)
    if compress:
        config = Config(request_min_compression_size_bytes=1)
        maybe_compress_request(config, serialized, op)
    prepare_request_dict(serialized, "http://localhost:4566")
    prepared = create_request_object(serialized).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = body.read()
    headers = {k.lower(): v.decode("latin-1") if isinstance(v, bytes) else str(v) for k, v in prepared.headers.items()}
    return HttpRequest(prepared.method, url.path, url.query, headers, body, host=url.netloc)


def parse(service: str, operation: str, params: dict, protocol: str | None = None, **kw) -> tuple[str, str, dict]:
    request = wire_request(service, operation, params, protocol, **kw)
    got_protocol, op, got = dispatch.parse(service_model(service), request)
    return got_protocol, op.name, got


def round_trip(service: str, operation: str, params: dict, protocol: str | None = None, **kw) -> dict:
    got_protocol, name, got = parse(service, operation, params, protocol, **kw)
    assert name == operation
    assert got_protocol == (protocol or service_model(service).protocol)
    assert got == params
    return got


def read(stream: BodyStream) -> bytes:
    return asyncio.run(stream.read())


# ------------------------------------------------------------------------------- s3 (rest-xml)


def test_s3_put_object_headers_metadata_and_streaming_body():
    params = {
        "Bucket": "photos",
        "Key": "2024/a b+c/ü.jpg",
        "Body": b"\x00\x01 jpeg bytes",
        "ContentType": "image/jpeg",
        "CacheControl": "max-age=60",
        "Expires": T1,
        "Metadata": {"camera": "x100", "taken-by": "kim"},
        "ContentLength": 14,
        "ObjectLockRetainUntilDate": T1,
        "BucketKeyEnabled": True,
        "Tagging": "a=1&b=2",
    }
    protocol, name, got = parse("s3", "PutObject", params)
    assert name == "PutObject"
    body = got.pop("Body")
    assert isinstance(body, BodyStream) and read(body) == params.pop("Body")
    assert got == params


def test_s3_streaming_body_passes_through_the_gateway_stream():
    request = wire_request("s3", "UploadPart", {"Bucket": "b", "Key": "k", "PartNumber": 3, "UploadId": "u-1", "Body": b"part"})

    async def chunks():
        yield b"pa"
        yield b"rt"

    request.body, request.body_stream = b"", BodyStream(chunks(), 4)
    _, op, got = dispatch.parse(service_model("s3"), request)
    assert op.name == "UploadPart"
    assert got["Body"] is request.body_stream
    assert (got["PartNumber"], got["UploadId"]) == (3, "u-1")


def test_s3_get_object_with_ranges_and_conditions():
    round_trip(
        "s3",
        "GetObject",
        {
            "Bucket": "b",
            "Key": "dir/sub/file.txt",
            "Range": "bytes=0-9",
            "IfModifiedSince": T1,
            "VersionId": "v1",
            "ResponseContentType": "text/plain",
            "PartNumber": 2,
        },
    )


def test_s3_list_objects_v2():
    round_trip(
        "s3",
        "ListObjectsV2",
        {"Bucket": "b", "Prefix": "logs/", "Delimiter": "/", "MaxKeys": 10, "ContinuationToken": "t", "FetchOwner": True},
    )


def test_s3_delete_objects_xml_body():
    round_trip(
        "s3",
        "DeleteObjects",
        {
            "Bucket": "b",
            "Delete": {"Objects": [{"Key": "a"}, {"Key": "b & <c>", "VersionId": "v2"}], "Quiet": True},
        },
    )


def test_s3_put_bucket_tagging():
    round_trip("s3", "PutBucketTagging", {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "env", "Value": "prod"}, {"Key": "k", "Value": ""}]}})


def test_s3_multipart_upload_sequence():
    round_trip("s3", "CreateMultipartUpload", {"Bucket": "b", "Key": "big", "ContentType": "application/zip", "Metadata": {"x": "y"}})
    got = parse("s3", "UploadPart", {"Bucket": "b", "Key": "big", "PartNumber": 1, "UploadId": "u"})[2]
    assert read(got.pop("Body")) == b""
    # The Content-Length header the HTTP client adds is a modeled member of UploadPart.
    assert got == {"Bucket": "b", "Key": "big", "PartNumber": 1, "UploadId": "u", "ContentLength": 0}
    round_trip(
        "s3",
        "CompleteMultipartUpload",
        {
            "Bucket": "b",
            "Key": "big",
            "UploadId": "u",
            "MultipartUpload": {"Parts": [{"ETag": '"e1"', "PartNumber": 1}, {"ETag": '"e2"', "PartNumber": 2}]},
        },
    )
    round_trip("s3", "ListParts", {"Bucket": "b", "Key": "big", "UploadId": "u", "MaxParts": 5})
    round_trip("s3", "AbortMultipartUpload", {"Bucket": "b", "Key": "big", "UploadId": "u"})


def test_s3_copy_object_and_upload_part_copy():
    round_trip(
        "s3",
        "CopyObject",
        {
            "Bucket": "dst",
            "Key": "k2",
            "CopySource": "src/k1?versionId=v",
            "MetadataDirective": "REPLACE",
            "CopySourceIfUnmodifiedSince": T1,
        },
    )
    round_trip("s3", "UploadPartCopy", {"Bucket": "dst", "Key": "k2", "CopySource": "src/k1", "PartNumber": 2, "UploadId": "u"})


def test_s3_create_bucket_with_and_without_configuration():
    round_trip("s3", "CreateBucket", {"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}, "ACL": "private"})
    round_trip("s3", "CreateBucket", {"Bucket": "b"})
    round_trip("s3", "HeadBucket", {"Bucket": "b"})
    round_trip("s3", "ListBuckets", {})


def test_s3_xml_attributes_and_namespaces():
    round_trip(
        "s3",
        "PutObjectAcl",
        {
            "Bucket": "b",
            "Key": "k",
            "AccessControlPolicy": {
                "Grants": [
                    {"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "READ"},
                    {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "WRITE"},
                ],
                "Owner": {"ID": "owner"},
            },
        },
    )


def test_s3_string_payload_is_raw_text():
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    round_trip("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": policy})


def test_s3_timestamps_in_xml_body():
    round_trip(
        "s3",
        "PutBucketLifecycleConfiguration",
        {
            "Bucket": "b",
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "ID": "r",
                        "Status": "Enabled",
                        "Filter": {"Prefix": "tmp/"},
                        "Expiration": {"Date": T1},
                        "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
                    }
                ]
            },
        },
    )


# ------------------------------------------------------------------------------- query


def test_sts_assume_role_lists_and_tags():
    round_trip(
        "sts",
        "AssumeRole",
        {
            "RoleArn": "arn:aws:iam::000000000000:role/r",
            "RoleSessionName": "s",
            "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, {"arn": "arn:aws:iam::aws:policy/Other"}],
            "Tags": [{"Key": "team", "Value": "a"}, {"Key": "cost", "Value": "b=c&d"}],
            "TransitiveTagKeys": ["team"],
            "DurationSeconds": 900,
            "Policy": '{"Version":"2012-10-17"}',
        },
    )


def test_sts_get_caller_identity_get_and_post():
    assert parse("sts", "GetCallerIdentity", {})[1:] == ("GetCallerIdentity", {})
    request = HttpRequest("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15")
    protocol, op, params = dispatch.parse(service_model("sts"), request)
    assert (protocol, op.name, params) == ("query", "GetCallerIdentity", {})


def test_iam_create_policy_and_tag_user():
    round_trip(
        "iam",
        "CreatePolicy",
        {"PolicyName": "p", "PolicyDocument": '{"Statement": []}', "Path": "/x/", "Tags": [{"Key": "k", "Value": "v"}]},
    )
    round_trip("iam", "TagUser", {"UserName": "u", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]})


def test_query_empty_list_and_booleans():
    round_trip("iam", "SimulateCustomPolicy", {"PolicyInputList": ["{}"], "ActionNames": [], "ResourceArns": ["*"]})
    round_trip("iam", "UpdateAccountPasswordPolicy", {"RequireSymbols": True, "RequireNumbers": False, "MinimumPasswordLength": 12})


def test_query_maps_and_blobs():
    round_trip(
        "sns",
        "Publish",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
            "Message": "hi",
            "MessageAttributes": {
                "a": {"DataType": "String", "StringValue": "x"},
                "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
            },
        },
    )
    round_trip("sns", "SetTopicAttributes", {"TopicArn": "t", "AttributeName": "DisplayName", "AttributeValue": "d"})


def test_cloudwatch_over_query_json_and_cbor():
    params = {
        "Namespace": "App",
        "MetricData": [
            {
                "MetricName": "Latency",
                "Dimensions": [{"Name": "Host", "Value": "a"}],
                "Timestamp": T2,
                "Value": 1.5,
                "Unit": "Milliseconds",
                "Values": [1.0, 2.5],
                "Counts": [3.0, 1.0],
                "StorageResolution": 1,
            }
        ],
    }
    for protocol in ("query", "json", "smithy-rpc-v2-cbor"):
        round_trip("cloudwatch", "PutMetricData", params, protocol)
        round_trip("cloudwatch", "GetMetricStatistics", {
            "Namespace": "App", "MetricName": "Latency", "StartTime": T1, "EndTime": T2,
            "Period": 60, "Statistics": ["Average", "Maximum"],
        }, protocol)


@pytest.mark.parametrize("protocol", ["query", "json", "smithy-rpc-v2-cbor"])
def test_compressed_bodies_are_inflated(protocol):
    params = {"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": float(i)} for i in range(50)]}
    request = wire_request("cloudwatch", "PutMetricData", params, protocol, compress=True)
    assert request.headers["content-encoding"] == "gzip"
    _, op, got = dispatch.parse(service_model("cloudwatch"), request)
    assert (op.name, got) == ("PutMetricData", params)


# ------------------------------------------------------------------------------- ec2


def test_ec2_run_instances():
    round_trip(
        "ec2",
        "RunInstances",
        {
            "ImageId": "ami-1",
            "MinCount": 1,
            "MaxCount": 2,
            "InstanceType": "t3.micro",
            "SecurityGroupIds": ["sg-1", "sg-2"],
            "UserData": "IyEvYmluL3No",
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "DeleteOnTermination": True}},
                {"DeviceName": "/dev/sdb", "NoDevice": ""},
            ],
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]},
                {"ResourceType": "volume", "Tags": [{"Key": "k", "Value": "v"}]},
            ],
            "NetworkInterfaces": [{"DeviceIndex": 0, "SubnetId": "subnet-1", "Groups": ["sg-3"]}],
            "DryRun": False,
        },
    )


def test_ec2_describe_instances_filters():
    round_trip(
        "ec2",
        "DescribeInstances",
        {"Filters": [{"Name": "tag:Name", "Values": ["web", "db"]}, {"Name": "instance-state-name", "Values": ["running"]}],
         "InstanceIds": ["i-1"], "MaxResults": 10},
    )


def test_ec2_list_indices_are_numeric_order():
    body = "Action=DescribeInstances&Version=2016-11-15&InstanceId.10=i-10&InstanceId.2=i-2&InstanceId.1=i-1"
    request = HttpRequest("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"}, body.encode())
    _, _, got = dispatch.parse(service_model("ec2"), request)
    assert got == {"InstanceIds": ["i-1", "i-2", "i-10"]}


# ------------------------------------------------------------------------------- json


def test_dynamodb_put_item_attribute_values():
    item = {
        "pk": {"S": "user#1"},
        "n": {"N": "12.5"},
        "b": {"B": b"\x00\x01\xff"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"x", b"y"]},
        "m": {"M": {"nested": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}, {"M": {"deep": {"N": "1"}}}]}}},
    }
    round_trip(
        "dynamodb",
        "PutItem",
        {
            "TableName": "t",
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
            "ExpressionAttributeValues": {":v": {"S": "x"}},
            "ReturnValues": "ALL_OLD",
        },
    )


def test_sqs_json_query_compatible():
    request = wire_request("sqs", "SendMessage", {"QueueUrl": "http://q", "MessageBody": "hi", "DelaySeconds": 5,
                                                  "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": b"\x01"}}})
    assert request.headers["x-amzn-query-mode"] == "true"
    _, op, got = dispatch.parse(service_model("sqs"), request)
    assert op.name == "SendMessage" and got["MessageAttributes"]["a"]["BinaryValue"] == b"\x01"


def test_kms_blobs():
    round_trip("kms", "Encrypt", {"KeyId": "alias/k", "Plaintext": b"\x00secret\xff", "EncryptionContext": {"a": "b"}})
    round_trip("kms", "Decrypt", {"CiphertextBlob": bytes(range(256))})


def test_json_timestamps_and_documents():
    round_trip("logs", "GetLogEvents", {"logGroupName": "g", "logStreamName": "s", "startTime": 1, "endTime": 2})
    round_trip("organizations", "CreatePolicy", {"Content": "{}", "Description": "d", "Name": "n", "Type": "SERVICE_CONTROL_POLICY"})


def test_json_sub_second_epoch_timestamps_keep_microseconds():
    stamp = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    round_trip("cloudwatch", "GetMetricStatistics", {
        "Namespace": "n", "MetricName": "m", "StartTime": stamp, "EndTime": stamp, "Period": 60,
    }, "json")


# ------------------------------------------------------------------------------- rest-json


def test_lambda_create_function():
    round_trip(
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "f",
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::000000000000:role/r",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"PK\x03\x04zip"},
            "Environment": {"Variables": {"A": "1"}},
            "Timeout": 30,
            "MemorySize": 256,
            "Publish": True,
            "Tags": {"team": "a"},
            "Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:l:1"],
        },
    )


def test_lambda_invoke_payload_and_qualifier():
    round_trip(
        "lambda",
        "Invoke",
        {"FunctionName": "f", "Payload": b'{"k": 1}', "Qualifier": "live", "InvocationType": "Event",
         "LogType": "Tail", "ClientContext": "e30="},
    )


def test_lambda_paths_with_and_without_trailing_slash():
    round_trip("lambda", "ListFunctions", {"MaxItems": 5, "Marker": "m"})
    request = HttpRequest("GET", "/2015-03-31/functions", "MaxItems=5")
    _, op, got = dispatch.parse(service_model("lambda"), request)
    assert (op.name, got) == ("ListFunctions", {"MaxItems": 5})


def test_efs_rest_json():
    round_trip("efs", "CreateFileSystem", {"CreationToken": "t", "PerformanceMode": "generalPurpose", "Encrypted": True,
                                           "Tags": [{"Key": "Name", "Value": "fs"}]})
    round_trip("efs", "DescribeFileSystems", {"FileSystemId": "fs-1", "MaxItems": 3})
    round_trip("efs", "PutLifecycleConfiguration", {"FileSystemId": "fs-1",
                                                     "LifecyclePolicies": [{"TransitionToIA": "AFTER_30_DAYS"}]})


# ------------------------------------------------------------------------------- route53


def test_route53_change_resource_record_sets():
    round_trip(
        "route53",
        "ChangeResourceRecordSets",
        {
            "HostedZoneId": "Z1",
            "ChangeBatch": {
                "Comment": "c",
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": "www.example.com.",
                            "Type": "A",
                            "TTL": 300,
                            "ResourceRecords": [{"Value": "1.2.3.4"}, {"Value": "5.6.7.8"}],
                        },
                    },
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": "alias.example.com.",
                            "Type": "A",
                            "AliasTarget": {"HostedZoneId": "Z2", "DNSName": "d.example.com.", "EvaluateTargetHealth": False},
                        },
                    },
                ],
            },
        },
    )
    round_trip("route53", "ListResourceRecordSets", {"HostedZoneId": "Z1", "StartRecordName": "a.", "MaxItems": "10"})
