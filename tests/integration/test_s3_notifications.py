"""S3 event notifications: configuration, and the events published on the internal bus.

Published events are observed through the server's log: at --log-level debug each event is
one line "s3 event <name> <payload JSON>" on the gureum.s3.events logger.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server

QUEUE = "arn:aws:sqs:us-east-1:000000000000:uploads"
TOPIC = "arn:aws:sns:us-east-1:000000000000:removals"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:thumbs"


@pytest.fixture(scope="module")
def debug_server(tmp_root):
    s = Server(tmp_root / f"events-{uuid.uuid4().hex[:6]}", extra_args=("--log-level", "debug"),
               env={"GUREUM_TIME_SCALE": "864000"}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def s3(debug_server):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=debug_server.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def bucket(s3):
    name = f"events-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def _events(server: Server, bucket: str) -> list[tuple[str, dict]]:
    found = []
    for line in server.log_path.read_text(errors="replace").splitlines():
        at = line.find(" s3 event ")
        if at < 0:
            continue
        name, _, payload = line[at + len(" s3 event "):].partition(" ")
        data = json.loads(payload)
        if data["Records"][0]["s3"]["bucket"]["name"] == bucket:
            found.append((name, data))
    return found


def _wait_events(server, bucket, count: int, timeout: float = 10.0):
    deadline = time.time() + timeout
    while True:
        events = _events(server, bucket)
        if len(events) >= count or time.time() > deadline:
            return events
        time.sleep(0.1)


def _error(excinfo) -> tuple[str, int, str]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


def test_configuration_round_trip(s3, bucket):
    assert {k: v for k, v in s3.get_bucket_notification_configuration(Bucket=bucket).items()
            if k != "ResponseMetadata"} == {}
    config = {
        "QueueConfigurations": [{"Id": "uploads", "QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"},
                                                                    {"Name": "Suffix", "Value": ".jpg"}]}}}],
        "TopicConfigurations": [{"TopicArn": TOPIC, "Events": ["s3:ObjectRemoved:*"]}],
        "LambdaFunctionConfigurations": [{"Id": "thumbs", "LambdaFunctionArn": FUNCTION,
                                          "Events": ["s3:ObjectCreated:Put"],
                                          "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "pics/"}]}}}],
        "EventBridgeConfiguration": {},
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["QueueConfigurations"] == config["QueueConfigurations"]
    assert got["LambdaFunctionConfigurations"] == config["LambdaFunctionConfigurations"]
    assert got["TopicConfigurations"][0]["TopicArn"] == TOPIC and got["TopicConfigurations"][0]["Id"]
    assert got["EventBridgeConfiguration"] == {}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


@pytest.mark.parametrize("config,message", [
    ({"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectExploded:*"]}]},
     "The event is not supported for notifications"),
    ({"QueueConfigurations": [{"QueueArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]}]},
     "The ARN is not well formed"),
    ({"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
                               "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}}]},
     "filter rule name must be either prefix or suffix"),
    ({"QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"]},
                              {"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:Put"]}]},
     "Configurations overlap. Configurations on the same bucket cannot share a common event type."),
])
def test_validation(debug_server, bucket, config, message):
    import boto3
    from botocore.config import Config

    raw = boto3.client("s3", endpoint_url=debug_server.endpoint, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as e:
        raw.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert _error(e) == ("InvalidArgument", 400, message)


def test_object_events_have_aws_record_shape(s3, bucket, debug_server):
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "jpgs", "QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}}}]})
    put = s3.put_object(Bucket=bucket, Key="in/my photo.jpg", Body=b"12345")
    s3.copy_object(Bucket=bucket, Key="copy.txt", CopySource={"Bucket": bucket, "Key": "in/my photo.jpg"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.jpg")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="big.jpg", UploadId=upload, PartNumber=1, Body=b"abc")
    s3.complete_multipart_upload(Bucket=bucket, Key="big.jpg", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    s3.delete_object(Bucket=bucket, Key="copy.txt")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "big.jpg"}]})
    events = _wait_events(debug_server, bucket, 5)
    assert [name for name, _ in events] == [
        "s3:ObjectCreated:Put", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:Delete"]
    record = events[0][1]["Records"][0]
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put" and record["awsRegion"] == "us-east-1"
    assert record["s3"]["bucket"] == {"name": bucket, "ownerIdentity": {"principalId": "000000000000"},
                                      "arn": f"arn:aws:s3:::{bucket}"}
    obj = record["s3"]["object"]
    assert obj["key"] == "in/my+photo.jpg" and obj["size"] == 5 and obj["eTag"] == put["ETag"].strip('"')
    assert len(obj["sequencer"]) >= 16
    assert record["eventTime"].endswith("Z") and record["responseElements"]["x-amz-request-id"]
    assert events[0][1]["Destinations"] == [{"Kind": "Queue", "Arn": QUEUE, "Id": "jpgs"}]
    assert events[1][1]["Destinations"] == []  # copy.txt does not end in .jpg
    assert events[2][1]["Records"][0]["s3"]["object"]["size"] == 3
    assert "size" not in events[3][1]["Records"][0]["s3"]["object"]
    sequencers = [e[1]["Records"][0]["s3"]["object"]["sequencer"] for e in events]
    assert sequencers == sorted(sequencers)


def test_versioned_delete_events(s3, bucket, debug_server):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v)
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    events = _wait_events(debug_server, bucket, 6)
    assert [n for n, _ in events] == ["s3:ObjectCreated:Put", "s3:ObjectRemoved:DeleteMarkerCreated",
                                      "s3:ObjectRemoved:Delete", "s3:ObjectCreated:Put", "s3:ObjectTagging:Put",
                                      "s3:ObjectTagging:Delete"]
    assert events[4][1]["Records"][0]["s3"]["object"]["versionId"] == events[3][1]["Records"][0]["s3"]["object"][
        "versionId"]
    assert events[0][1]["Records"][0]["s3"]["object"]["versionId"] == v
    assert events[1][1]["Records"][0]["s3"]["object"]["versionId"] == marker
    assert events[2][1]["Records"][0]["s3"]["object"]["versionId"] == v


def test_lifecycle_and_restore_events(s3, bucket, debug_server):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="GLACIER")
    s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 1})
    s3.put_object(Bucket=bucket, Key="tmp/x", Body=b"x")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    deadline = time.time() + 15
    wanted = {"s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:LifecycleExpiration:Delete"}
    while not wanted <= {n for n, _ in _events(debug_server, bucket)}:
        assert time.time() < deadline, _events(debug_server, bucket)
        time.sleep(0.2)
    expired = [d for n, d in _events(debug_server, bucket) if n == "s3:LifecycleExpiration:Delete"][0]
    record = expired["Records"][0]
    assert record["userIdentity"]["principalId"] == "s3.amazonaws.com"
    assert record["s3"]["object"]["key"] == "tmp/x"
