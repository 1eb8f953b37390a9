"""Requests that do not parse get the error the real service answers, never a crash."""

from __future__ import annotations

import json

import cbor2
import pytest

from gureum.protocol import dispatch
from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest
from gureum.protocol.model import service_model

from .test_parsers import wire_request

FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}


def error_of(service: str, request: HttpRequest) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        dispatch.parse(service_model(service), request)
    return caught.value


def ddb(body: bytes, target: str = "DynamoDB_20120810.GetItem") -> HttpRequest:
    headers = {"content-type": "application/x-amz-json-1.0", "x-amz-target": target}
    return HttpRequest("POST", "/", "", headers, body)


# ------------------------------------------------------------------------------- query / ec2


def test_query_missing_action():
    error = error_of("sts", HttpRequest("POST", "/", "", FORM, b"Version=2011-06-15"))
    assert (error.code, error.status) == ("MissingAction", 400)


def test_query_unknown_action_and_wrong_version():
    error = error_of("iam", HttpRequest("POST", "/", "", FORM, b"Action=MakeCoffee&Version=2010-05-08"))
    assert (error.code, error.status) == ("InvalidAction", 400)
    assert error.message == "Could not find operation MakeCoffee for version 2010-05-08"
    error = error_of("sts", HttpRequest("POST", "/", "", FORM, b"Action=GetCallerIdentity"))
    assert error.message == "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED"
    error = error_of("sts", HttpRequest("POST", "/", "", FORM, b"Action=GetCallerIdentity&Version=1999-01-01"))
    assert error.code == "InvalidAction"


def test_ec2_unknown_action():
    error = error_of("ec2", HttpRequest("POST", "/", "", FORM, b"Action=Fly&Version=2016-11-15"))
    assert (error.code, error.message) == ("InvalidAction", "The action Fly is not valid for this web service.")


def test_query_wrong_types():
    body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=r&RoleSessionName=s&DurationSeconds=soon"
    error = error_of("sts", HttpRequest("POST", "/", "", FORM, body))
    assert (error.code, error.status) == ("InvalidParameterValue", 400)
    assert "DurationSeconds" in error.message
    body = b"Action=DescribeInstances&Version=2016-11-15&DryRun=maybe"
    assert error_of("ec2", HttpRequest("POST", "/", "", FORM, body)).code == "InvalidParameterValue"


def test_query_body_that_does_not_decode():
    body = b"Action=GetCallerIdentity&Version=2011-06-15&X=%FF%FE"
    error = error_of("sts", HttpRequest("POST", "/", "", FORM, body))
    assert (error.code, error.status) == ("MalformedQueryString", 404)


def test_query_unknown_parameters_are_ignored():
    body = b"Action=GetCallerIdentity&Version=2011-06-15&Bogus.member.1=x&X-Amz-Date=20240101T000000Z"
    _, op, params = dispatch.parse(service_model("sts"), HttpRequest("POST", "/", "", FORM, body))
    assert (op.name, params) == ("GetCallerIdentity", {})


# ------------------------------------------------------------------------------- json


def test_json_unknown_or_missing_target():
    error = error_of("dynamodb", ddb(b"{}", "DynamoDB_20120810.Teleport"))
    assert (error.code, error.status) == ("UnknownOperationException", 400)
    error = error_of("dynamodb", ddb(b"{}", "Wrong_20120810.GetItem"))
    assert error.code == "UnknownOperationException"
    error = error_of("dynamodb", HttpRequest("POST", "/", "", {"content-type": "application/x-amz-json-1.0"}, b"{}"))
    assert error.code == "UnknownOperationException"


@pytest.mark.parametrize("body", [b"{", b"[1]", b'"text"', b"\xff\xfe", b'{"TableName": 5}', b'{"Key": []}'])
def test_json_malformed_or_mistyped(body):
    error = error_of("dynamodb", ddb(body))
    assert (error.code, error.status) == ("SerializationException", 400)


def test_json_type_messages_read_like_aws():
    error = error_of("dynamodb", ddb(b'{"TableName": "t", "Limit": "5"}', "DynamoDB_20120810.Scan"))
    assert error.message.startswith("STRING_VALUE can not be converted to an Integer")
    error = error_of("dynamodb", ddb(b'{"TableName": {"a": 1}}'))
    assert error.message.startswith("Start of structure or map found where not expected.")


def test_json_nulls_and_unknown_members_are_absent():
    body = json.dumps({"TableName": "t", "Key": {"pk": {"S": "a"}}, "ConsistentRead": None, "Extra": 1}).encode()
    _, op, params = dispatch.parse(service_model("dynamodb"), ddb(body))
    assert params == {"TableName": "t", "Key": {"pk": {"S": "a"}}}


def test_json_empty_body_is_an_empty_input():
    request = HttpRequest("POST", "/", "", {"content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.ListKeys"}, b"")
    _, op, params = dispatch.parse(service_model("kms"), request)
    assert (op.name, params) == ("ListKeys", {})


def test_json_integer_out_of_range():
    error = error_of("dynamodb", ddb(b'{"TableName": "t", "Limit": 3000000000}', "DynamoDB_20120810.Scan"))
    assert error.code == "SerializationException"


# ------------------------------------------------------------------------------- cbor


def cbor_request(operation: str, body: bytes, service_name: str = "GraniteServiceVersion20100801") -> HttpRequest:
    headers = {"smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor", "accept": "application/cbor"}
    return HttpRequest("POST", f"/service/{service_name}/operation/{operation}", "", headers, body)


def test_cbor_unknown_operation():
    error = error_of("cloudwatch", cbor_request("Levitate", b"\xa0"))
    assert (error.code, error.status) == ("UnknownOperationException", 404)
    error = error_of("cloudwatch", cbor_request("ListMetrics", b"\xa0", "SomethingElse"))
    assert error.code == "UnknownOperationException"


@pytest.mark.parametrize("body", [b"\xff\xff", cbor2.dumps([1, 2]), cbor2.dumps({"Namespace": 5}), b"\xa1\x63abc"])
def test_cbor_malformed_or_mistyped(body):
    error = error_of("cloudwatch", cbor_request("ListMetrics", body))
    assert (error.code, error.status) == ("SerializationException", 400)


def test_cbor_plain_numbers_as_timestamps_and_indefinite_lengths():
    body = b"\xbf" + cbor2.dumps("Namespace")[0:] + cbor2.dumps("n") + cbor2.dumps("MetricName") + cbor2.dumps("m")
    body += cbor2.dumps("StartTime") + cbor2.dumps(1700000000) + cbor2.dumps("EndTime") + cbor2.dumps(1700000060.5)
    body += cbor2.dumps("Period") + cbor2.dumps(60) + b"\xff"
    _, op, params = dispatch.parse(service_model("cloudwatch"), cbor_request("GetMetricStatistics", body))
    assert params["StartTime"].timestamp() == 1700000000
    assert params["EndTime"].timestamp() == 1700000060.5


# ------------------------------------------------------------------------------- rest-xml / rest-json


def s3_put(path: str, query: str, body: bytes, headers: dict | None = None) -> HttpRequest:
    return HttpRequest("PUT", path, query, headers or {}, body)


@pytest.mark.parametrize(
    "body",
    [
        b"<Tagging><TagSet>",  # not well-formed
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x "y">]><Tagging><TagSet/></Tagging>',  # DTD / entities
        b'<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><Tagging>&x;</Tagging>',  # external entity
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Tagging>&lol2;</Tagging>',
        b"<Untagging><TagSet/></Untagging>",  # wrong root element
        b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>",
    ],
)
def test_s3_malformed_xml(body):
    error = error_of("s3", s3_put("/bucket", "tagging", body))
    assert (error.code, error.status) == ("MalformedXML", 400)


def test_s3_xml_type_error_is_malformed_xml():
    # Enum values are not checked here (that is the provider's validation); types are.
    body = b"<VersioningConfiguration><Status>Enabled</Status><MFADelete>x</MFADelete></VersioningConfiguration>"
    _, _, params = dispatch.parse(service_model("s3"), s3_put("/b", "versioning", body))
    assert params["VersioningConfiguration"] == {"Status": "Enabled", "MFADelete": "x"}
    body = b"<Delete><Object><Key>k</Key></Object><Quiet>perhaps</Quiet></Delete>"
    assert error_of("s3", HttpRequest("POST", "/b", "delete", {}, body)).code == "MalformedXML"


def test_s3_bad_query_and_header_values_are_invalid_argument():
    error = error_of("s3", HttpRequest("GET", "/b", "list-type=2&max-keys=ten"))
    assert (error.code, error.status) == ("InvalidArgument", 400)
    error = error_of("s3", HttpRequest("GET", "/b/k", "", {"if-modified-since": "yesterday"}))
    assert error.code == "InvalidArgument"


def test_s3_xml_without_namespace_or_with_prefixes_reads_the_same():
    plain = b"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>"
    spaced = (
        b'<s3:Tagging xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:TagSet><s3:Tag>'
        b"<s3:Key>a</s3:Key><s3:Value>1</s3:Value></s3:Tag></s3:TagSet></s3:Tagging>"
    )
    for body in (plain, spaced):
        _, op, params = dispatch.parse(service_model("s3"), s3_put("/b", "tagging", body))
        assert params == {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "a", "Value": "1"}]}}


def test_s3_unknown_elements_are_ignored():
    body = b"<Tagging><Foo>bar</Foo><TagSet><Tag><Key>a</Key><Value>1</Value><Extra/></Tag></TagSet></Tagging>"
    _, _, params = dispatch.parse(service_model("s3"), s3_put("/b", "tagging", body))
    assert params["Tagging"] == {"TagSet": [{"Key": "a", "Value": "1"}]}


def test_s3_wrong_method_is_method_not_allowed():
    error = error_of("s3", HttpRequest("PATCH", "/bucket/key"))
    assert (error.code, error.status) == ("MethodNotAllowed", 405)
    assert error.fields == {"Method": "PATCH", "ResourceType": "OBJECT"}
    error = error_of("s3", HttpRequest("POST", "/"))
    assert error.fields["ResourceType"] == "SERVICE"
    assert dispatch.no_route_error("s3", "PATCH", "/b").code == "MethodNotAllowed"


def test_rest_json_unknown_path():
    error = error_of("lambda", HttpRequest("GET", "/2015-03-31/nothing-here"))
    assert (error.code, error.status) == ("UnknownOperationException", 404)


def test_rest_json_malformed_body_uses_the_service_error():
    request = wire_request("lambda", "CreateAlias", {"FunctionName": "f", "Name": "a", "FunctionVersion": "1"})
    request.body = b"{not json"
    assert error_of("lambda", request).code == "InvalidRequestContentException"
    request = wire_request("efs", "CreateFileSystem", {"CreationToken": "t"})
    request.body = b'{"Encrypted": "yes"}'
    assert error_of("efs", request).code == "BadRequest"


def test_rest_json_bad_uri_label_type():
    request = HttpRequest("GET", "/2015-02-01/file-systems", "MaxItems=lots")
    error = error_of("efs", request)
    assert error.status == 400


def test_route53_malformed_xml_is_invalid_input():
    request = wire_request("route53", "ChangeResourceRecordSets", {
        "HostedZoneId": "Z", "ChangeBatch": {"Changes": [{"Action": "DELETE", "ResourceRecordSet": {"Name": "a.", "Type": "A"}}]},
    })
    request.body = request.body[:-5]
    assert error_of("route53", request).code == "InvalidInput"
