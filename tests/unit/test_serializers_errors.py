"""Error responses per protocol, read back the way a botocore client reads them.

A client parses the error against the operation, then (endpoint.py) parses the modeled
error shape its Error.Code names for extra members, then (handlers.py) SQS's query code
override picks the exception class. The code, message, status and fields must come out
as AWS's own would.
"""

from __future__ import annotations

import json

import cbor2
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

from gureum.protocol.errors import InternalFailure, NotImplementedOperation, ServiceError
from gureum.protocol.model import service_model
from gureum.protocol.serializers import serialize_error

REQUEST_ID = "7d2c9e1a-0b3f-4a6d-8e5c-1f2a3b4c5d6e"


def client_error(service: str, operation: str | None, error: ServiceError, protocol: str | None = None, **kw):
    model = service_model(service)
    op = model.operation_model(operation) if operation else None
    protocol = protocol or model.resolved_protocol
    response = serialize_error(protocol, model, op, error, REQUEST_ID, **kw)
    wire = {"status_code": response.status, "headers": HeadersDict(response.headers), "body": response.body}
    parser = create_parser(protocol)
    parsed = parser.parse(wire, op.output_shape if op else None)
    shape = model.shape_for_error_code(parsed["Error"]["Code"])
    if shape is not None:
        parsed.update(parser.parse(wire, shape))
    return response, parsed


# --------------------------------------------------------------------------- query and ec2


def test_query_error_by_shape_name_goes_out_with_modeled_code_and_status():
    response, parsed = client_error("iam", "GetUser", ServiceError("NoSuchEntityException", "The user with name bob cannot be found."))
    assert response.status == 404
    assert parsed["Error"] == {"Type": "Sender", "Code": "NoSuchEntity", "Message": "The user with name bob cannot be found."}
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    assert response.body.startswith(b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>')
    assert response.header("Content-Type") == "text/xml"


def test_query_error_by_code():
    response, parsed = client_error("iam", "DeleteRole", ServiceError("DeleteConflict", "Cannot delete entity, must detach all policies first."))
    assert response.status == 409
    assert parsed["Error"]["Code"] == "DeleteConflict"


def test_query_unmodeled_error_defaults_to_400_and_explicit_status_wins():
    response, parsed = client_error("sts", "AssumeRole", ServiceError("ValidationError", "1 validation error detected"))
    assert (response.status, parsed["Error"]["Code"]) == (400, "ValidationError")
    response, parsed = client_error("sts", "AssumeRole", ServiceError("AccessDenied", "not authorized", 403))
    assert (response.status, parsed["Error"]["Code"]) == (403, "AccessDenied")
    response, _ = client_error("iam", "GetUser", ServiceError("NoSuchEntity", "x", 400))
    assert response.status == 400


def test_query_server_faults_are_receiver():
    response, parsed = client_error("sts", "GetCallerIdentity", InternalFailure())
    assert response.status == 500
    assert parsed["Error"]["Type"] == "Receiver"
    response, parsed = client_error("sns", "Publish", NotImplementedOperation("sns", "Publish"))
    assert (response.status, parsed["Error"]["Code"], parsed["Error"]["Type"]) == (501, "NotImplemented", "Receiver")


def test_query_error_fields_and_escaping():
    error = ServiceError("InvalidInput", "bad <input> & more", fields={"Detail": "x&y"})
    response, parsed = client_error("iam", "CreateUser", error)
    assert parsed["Error"]["Message"] == "bad <input> & more"
    assert parsed["Error"]["Detail"] == "x&y"


def test_query_error_for_unknown_operation_and_service():
    model = service_model("sts")
    response = serialize_error("query", model, None, ServiceError("InvalidAction", "Could not find operation Foo"), REQUEST_ID)
    parsed = create_parser("query").parse({"status_code": response.status, "headers": HeadersDict(response.headers), "body": response.body}, None)
    assert parsed["Error"]["Code"] == "InvalidAction"
    response = serialize_error("query", None, None, ServiceError("UnknownService", "no such service"), REQUEST_ID)
    parsed = create_parser("query").parse({"status_code": response.status, "headers": HeadersDict(response.headers), "body": response.body}, None)
    assert parsed["Error"]["Code"] == "UnknownService"


def test_ec2_error():
    error = ServiceError("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist")
    response, parsed = client_error("ec2", "DescribeInstances", error)
    assert response.status == 400
    assert parsed["Error"] == {"Code": "InvalidInstanceID.NotFound", "Message": "The instance ID 'i-1' does not exist"}
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    assert b"<Response><Errors><Error><Code>" in response.body


@pytest.mark.parametrize("protocol", ["query", "json", "smithy-rpc-v2-cbor"])
def test_cloudwatch_modeled_error_in_each_protocol(protocol):
    error = ServiceError("ResourceNotFound", "Dashboard foo does not exist")
    response, parsed = client_error("cloudwatch", "GetDashboard", error, protocol=protocol)
    assert response.status == 404
    assert parsed["Error"]["Code"] == "ResourceNotFound"
    assert parsed["Error"]["Message"] == "Dashboard foo does not exist"
    assert parsed["Error"]["Type"] == "Sender"
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    if protocol != "query":
        assert response.header("x-amzn-query-error") == "ResourceNotFound;Sender"


def test_cloudwatch_query_compatible_code_differs_from_shape_name():
    error = ServiceError("InvalidParameterValueException", "The value 0 for parameter Period is not valid.")
    response, parsed = client_error("cloudwatch", "GetMetricData", error, protocol="json")
    assert parsed["Error"]["Code"] == "InvalidParameterValue"
    assert parsed["Error"]["QueryErrorCode"] == "InvalidParameterValueException"
    assert json.loads(response.body)["__type"].endswith("#InvalidParameterValueException")
    response, parsed = client_error("cloudwatch", "GetMetricData", error, protocol="query")
    assert parsed["Error"]["Code"] == "InvalidParameterValue"


# --------------------------------------------------------------------------- json


def test_sqs_query_compatible_legacy_code():
    for code in ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"):
        response, parsed = client_error("sqs", "GetQueueUrl", ServiceError(code, "The specified queue does not exist."))
        assert response.status == 400
        assert parsed["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
        assert parsed["Error"]["QueryErrorCode"] == "QueueDoesNotExist"  # picks the exception class
        assert parsed["Error"]["Type"] == "Sender"
        assert response.header("x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender"
        assert json.loads(response.body) == {
            "__type": "com.amazonaws.sqs#QueueDoesNotExist",
            "message": "The specified queue does not exist.",
        }


def test_sqs_status_from_query_error():
    response, parsed = client_error("sqs", "PurgeQueue", ServiceError("PurgeQueueInProgress", "Only one PurgeQueue operation on q is allowed every 60 seconds."))
    assert response.status == 403
    assert parsed["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"


def test_dynamodb_error_namespace_and_modeled_fields():
    error = ServiceError("ConditionalCheckFailedException", "The conditional request failed", fields={"Item": {"pk": {"S": "a"}, "b": {"B": b"\x01\x02"}}})
    response, parsed = client_error("dynamodb", "PutItem", error)
    assert response.status == 400
    assert json.loads(response.body)["__type"] == "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    assert parsed["Error"] == {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}
    assert parsed["Item"] == {"pk": {"S": "a"}, "b": {"B": b"\x01\x02"}}
    assert response.header("Content-Type") == "application/x-amz-json-1.0"
    assert response.header("x-amzn-RequestId") == REQUEST_ID


def test_dynamodb_framework_error_namespace():
    response, parsed = client_error("dynamodb", "GetItem", ServiceError("UnrecognizedClientException", "The security token included in the request is invalid."))
    assert json.loads(response.body)["__type"] == "com.amazon.coral.service#UnrecognizedClientException"
    assert parsed["Error"]["Code"] == "UnrecognizedClientException"


def test_json_error_plain_type_and_header():
    response, parsed = client_error("kms", "Encrypt", ServiceError("NotFoundException", "Key 'arn' does not exist"))
    assert json.loads(response.body) == {"__type": "NotFoundException", "message": "Key 'arn' does not exist"}
    assert response.header("x-amzn-ErrorType") == "NotFoundException"
    assert parsed["Error"]["Code"] == "NotFoundException"
    assert parsed["message"] == "Key 'arn' does not exist"


def test_cbor_error_body():
    response, _ = client_error("cloudwatch", "GetDashboard", ServiceError("ResourceNotFound", "gone"), protocol="smithy-rpc-v2-cbor")
    assert response.header("smithy-protocol") == "rpc-v2-cbor"
    assert response.header("Content-Type") == "application/cbor"
    assert cbor2.loads(response.body) == {"__type": "com.amazonaws.cloudwatch#ResourceNotFound", "message": "gone"}


# --------------------------------------------------------------------------- rest-json


def test_lambda_error_header_code_and_message_member_casing():
    error = ServiceError("ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f", fields={"Type": "User"})
    response, parsed = client_error("lambda", "GetFunction", error)
    assert response.status == 404
    assert response.header("x-amzn-ErrorType") == "ResourceNotFoundException"
    assert json.loads(response.body) == {"Type": "User", "Message": error.message}
    assert parsed["Error"]["Code"] == "ResourceNotFoundException"
    assert parsed["Error"]["Message"] == error.message
    assert parsed["Type"] == "User"


def test_lambda_error_header_bound_field():
    error = ServiceError("TooManyRequestsException", "Rate exceeded", fields={"retryAfterSeconds": "7", "Type": "User", "Reason": "CallerRateLimitExceeded"})
    response, parsed = client_error("lambda", "Invoke", error)
    assert response.status == 429
    assert response.header("Retry-After") == "7"
    assert "retryAfterSeconds" not in json.loads(response.body)
    assert parsed["retryAfterSeconds"] == "7"
    assert parsed["Reason"] == "CallerRateLimitExceeded"


# --------------------------------------------------------------------------- rest-xml


def test_s3_error_form():
    error = ServiceError("NoSuchKey", "The specified key does not exist.", fields={"Key": "a/b.txt"})
    response, parsed = client_error("s3", "GetObject", error)
    assert response.status == 404
    assert parsed["Error"] == {"Code": "NoSuchKey", "Message": "The specified key does not exist.", "Key": "a/b.txt"}
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    assert parsed["ResponseMetadata"]["HostId"] == response.header("x-amz-id-2")
    assert response.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>')
    assert response.body.endswith(b"</HostId></Error>")


def test_s3_error_statuses_from_model():
    assert client_error("s3", "CreateBucket", ServiceError("BucketAlreadyOwnedByYou", "yours"))[0].status == 409
    assert client_error("s3", "GetObject", ServiceError("NoSuchBucket", "none"))[0].status == 404


def test_s3_error_to_head_has_no_body():
    response, parsed = client_error("s3", "HeadObject", ServiceError("NoSuchKey", "Not Found"), method="HEAD")
    assert response.status == 404
    assert response.body == b""
    assert parsed["Error"]["Code"] == "404"  # what botocore makes of any bodiless S3 HEAD error
    assert response.header("x-amz-request-id") == REQUEST_ID


def test_s3_error_extra_headers():
    error = ServiceError("PermanentRedirect", "use the right endpoint", 301, headers={"x-amz-bucket-region": "eu-west-1"}, fields={"Bucket": "b", "Endpoint": "b.s3.eu-west-1.amazonaws.com"})
    response, parsed = client_error("s3", "ListObjectsV2", error)
    assert response.status == 301
    assert response.header("x-amz-bucket-region") == "eu-west-1"
    assert parsed["Error"]["Endpoint"] == "b.s3.eu-west-1.amazonaws.com"


def test_route53_error_form():
    response, parsed = client_error("route53", "GetHostedZone", ServiceError("NoSuchHostedZone", "No hosted zone found with ID: Z1"))
    assert response.status == 404
    assert parsed["Error"] == {"Type": "Sender", "Code": "NoSuchHostedZone", "Message": "No hosted zone found with ID: Z1"}
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    assert b'<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type>' in response.body


def test_every_error_response_states_its_length():
    for protocol, service in [("query", "iam"), ("ec2", "ec2"), ("json", "kms"), ("rest-json", "lambda"), ("rest-xml", "s3"), ("smithy-rpc-v2-cbor", "cloudwatch")]:
        response = serialize_error(protocol, service_model(service), None, ServiceError("Boom", "x"), REQUEST_ID)
        assert response.header("Content-Length") == str(len(response.body)), protocol
