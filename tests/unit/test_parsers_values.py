"""Scalar conversions and HTTP-binding details: timestamps, header lists, jsonvalue headers,
query-string maps, header prefixes, names Smithy-based SDKs send."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gureum.protocol import dispatch
from gureum.protocol.http import HttpRequest
from gureum.protocol.model import service_model
from gureum.protocol.parsers.http_bindings import split_header_list
from gureum.protocol.parsers.values import InvalidValue, from_base64, from_epoch, to_float, to_int32, to_timestamp

from .test_parsers import round_trip

UTC = timezone.utc


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2024-05-06T07:08:09Z", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("2024-05-06T07:08:09.5Z", datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=UTC)),
        ("2024-05-06T07:08:09.123456789Z", datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)),
        ("2024-05-06T09:08:09+02:00", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("2024-05-06T07:08:09", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("Mon, 06 May 2024 07:08:09 GMT", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("1714979289", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("1714979289.25", datetime(2024, 5, 6, 7, 8, 9, 250000, tzinfo=UTC)),
    ],
)
def test_timestamps_in_any_aws_format(text, expected):
    assert to_timestamp(text) == expected


def test_epoch_floats_keep_microseconds_exactly():
    stamp = datetime(2024, 5, 6, 7, 8, 9, 123457, tzinfo=UTC)
    as_float = (int(stamp.timestamp()) * 10**6 + stamp.microsecond) / 10**6
    assert from_epoch(as_float) == stamp


@pytest.mark.parametrize("bad", ["", "tomorrow", "2024-13-45T00:00:00Z", "Mon, 99 Foo"])
def test_bad_timestamps(bad):
    with pytest.raises(InvalidValue):
        to_timestamp(bad)


def test_numbers_and_blobs():
    assert to_int32(" 42 ") == 42
    with pytest.raises(InvalidValue):
        to_int32("2147483648")
    with pytest.raises(InvalidValue):
        to_int32("4.0")
    assert to_float("Infinity") == float("inf") and to_float("-1e3") == -1000.0
    with pytest.raises(InvalidValue):
        to_float("one")
    assert from_base64("AAH/") == b"\x00\x01\xff"
    assert from_base64("AAH") == b"\x00\x01"  # missing padding tolerated
    with pytest.raises(InvalidValue):
        from_base64("***")


def test_header_lists():
    assert split_header_list('a,b, c') == ["a", "b", "c"]
    assert split_header_list('"a,b", "say \\"hi\\"",c') == ["a,b", 'say "hi"', "c"]
    request = HttpRequest("GET", "/b/k", "attributes", {"x-amz-object-attributes": "ETag, Checksum,ObjectSize"})
    _, op, params = dispatch.parse(service_model("s3"), request)
    assert (op.name, params["ObjectAttributes"]) == ("GetObjectAttributes", ["ETag", "Checksum", "ObjectSize"])


def test_header_prefix_map_and_empty_headers():
    headers = {"x-amz-meta-color": "blue", "x-amz-meta-": "ignored", "content-length": "", "x-amz-meta-Empty": ""}
    request = HttpRequest("PUT", "/b/k", "", headers, b"")
    _, op, params = dispatch.parse(service_model("s3"), request)
    assert params["Metadata"] == {"color": "blue", "Empty": ""}
    assert "ContentLength" not in params  # an empty numeric header is absent


def test_jsonvalue_header():
    round_trip("iot-data", "Publish", {"topic": "t/1", "userProperties": '[{"a": "b"}]', "payload": b"{}", "qos": 1})


def test_querystring_maps_take_the_unbound_parameters():
    round_trip(
        "apigateway",
        "GetExport",
        {"restApiId": "r", "stageName": "s", "exportType": "oas30", "parameters": {"extensions": "postman", "x y": "1 2"}},
    )


def test_query_names_smithy_sdks_send():
    # EC2: Smithy-based SDKs capitalize member names that have no locationName.
    form = {"content-type": "application/x-www-form-urlencoded"}
    body = b"Action=DescribeRegions&Version=2016-11-15&RegionName.1=us-east-1&AllRegions=true"
    _, _, params = dispatch.parse(service_model("ec2"), HttpRequest("POST", "/", "", form, body))
    assert params == {"RegionNames": ["us-east-1"], "AllRegions": True}


def test_rest_json_empty_payload_object_is_absent():
    path = "/2025-12-01/durable-execution-callbacks/cb-1/fail"
    request = HttpRequest("POST", path, "", {"content-type": "application/json"}, b"{}")
    _, op, params = dispatch.parse(service_model("lambda"), request)
    assert (op.name, params) == ("SendDurableExecutionCallbackFailure", {"CallbackId": "cb-1"})


def test_rest_bound_members_win_over_the_body():
    body = b'{"FunctionName": "other", "ReservedConcurrentExecutions": 3}'
    request = HttpRequest("PUT", "/2017-10-31/functions/f/concurrency", "", {}, body)
    _, _, params = dispatch.parse(service_model("lambda"), request)
    assert params == {"FunctionName": "f", "ReservedConcurrentExecutions": 3}


def test_query_string_and_form_body_are_merged():
    form = {"content-type": "application/x-www-form-urlencoded"}
    request = HttpRequest("POST", "/", "Action=GetSessionToken&Version=2011-06-15", form, b"DurationSeconds=900")
    _, op, params = dispatch.parse(service_model("sts"), request)
    assert (op.name, params) == ("GetSessionToken", {"DurationSeconds": 900})
