"""Pure pieces of S3's storage features: service days, lifecycle rules, event records and filters."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gureum.events import EventBus
from gureum.protocol.errors import ServiceError
from gureum.services.s3 import lifecycle, notifications, service_days


def _ts(*args) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


def test_due_rounds_to_the_next_midnight_at_aws_pace():
    # AWS's own example: created 2016-01-01 10:30 UTC, 3 days -> eligible 2016-01-05 00:00 UTC.
    assert service_days.due(_ts(2016, 1, 1, 10, 30), 3, 1) == _ts(2016, 1, 5)
    assert service_days.due(_ts(2016, 1, 1), 3, 1) == _ts(2016, 1, 4)
    # Scaled: no rounding, a day lasts 86400/scale seconds.
    assert service_days.due(1000.0, 30, 86400) == 1030.0


def test_rule_filters():
    rule = {"Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "t", "Value": "1"}],
                               "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 100}}}
    assert lifecycle.matches(rule, b"logs/a", 50, {"t": "1", "other": "x"})
    assert not lifecycle.matches(rule, b"logs/a", 10, {"t": "1"})  # strictly greater
    assert not lifecycle.matches(rule, b"logs/a", 50, {"t": "2"})
    assert not lifecycle.matches(rule, b"other/a", 50, {"t": "1"})
    assert lifecycle.matches({"Prefix": ""}, b"anything", 0, {})


def test_validate_stores_dates_as_epoch_seconds():
    rules = lifecycle.validate({"Rules": [{"ID": "d", "Filter": {}, "Status": "Enabled",
                                           "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=timezone.utc)}}]})
    assert rules[0]["Expiration"] == {"Date": _ts(2030, 1, 1)}
    with pytest.raises(ServiceError) as e:
        lifecycle.validate({"Rules": [{"ID": "x", "Filter": {}, "Status": "Enabled",
                                       "NoncurrentVersionTransitions": [{"NoncurrentDays": 5,
                                                                         "StorageClass": "ONEZONE_IA"}]}]})
    assert e.value.code == "InvalidArgument"


def test_event_record_shape():
    record = notifications.record(
        "ObjectCreated:Put", region="eu-west-1", bucket="b", owner="111122223333", key="a b/c+d.txt",
        principal_id="AWS:AIDAEXAMPLE", source_ip="10.0.0.1", request_id="REQ", version_id="v1", size=3,
        etag='"abc"')
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "eu-west-1" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["s3SchemaVersion"] == "1.0"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::b"
    obj = record["s3"]["object"]
    assert obj["key"] == "a+b/c%2Bd.txt" and obj["eTag"] == "abc" and obj["size"] == 3 and obj["versionId"] == "v1"
    unversioned = notifications.record(
        "ObjectRemoved:Delete", region="us-east-1", bucket="b", owner="o", key="k", principal_id="p",
        source_ip="ip", request_id="r", version_id="null")
    assert "versionId" not in unversioned["s3"]["object"] and "size" not in unversioned["s3"]["object"]
    assert unversioned["s3"]["object"]["sequencer"] > obj["sequencer"]


def test_destinations_follow_events_and_filters():
    config = notifications.validate({
        "QueueConfigurations": [{"Id": "q", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
                                 "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".png"}]}}}],
        "TopicConfigurations": [{"Id": "t", "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
                                 "Events": ["s3:ObjectRemoved:Delete"]}]})
    assert notifications.destinations(config, "s3:ObjectCreated:Copy", "x.png") == [
        {"Kind": "Queue", "Arn": "arn:aws:sqs:us-east-1:000000000000:q", "Id": "q"}]
    assert notifications.destinations(config, "s3:ObjectCreated:Put", "x.jpg") == []
    assert [d["Id"] for d in notifications.destinations(config, "s3:ObjectRemoved:Delete", "x")] == ["t"]
    assert notifications.destinations(config, "s3:ObjectRemoved:DeleteMarkerCreated", "x") == []


def test_overlapping_configurations_are_refused_unless_filters_differ():
    arn = "arn:aws:sqs:us-east-1:000000000000:q"

    def config(*prefixes):
        return {"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": p}]}}} for p in prefixes]}
    notifications.validate(config("images/", "videos/"))
    with pytest.raises(ServiceError):
        notifications.validate(config("images/", "images/2024/"))


def test_bus_listening():
    bus = EventBus()
    assert not bus.listening("s3:ObjectCreated:Put")
    bus.subscribe("s3:ObjectCreated:*", lambda name, payload: None)
    assert bus.listening("s3:ObjectCreated:Put") and not bus.listening("s3:ObjectRemoved:Delete")
