"""S3 lifecycle configuration and the scheduler that applies it.

Two servers of this module's own: one where ten service days pass each second
(GUREUM_TIME_SCALE), so a 30-day rule acts in three seconds, and one at AWS's pace whose
service clock the tests move forward (POST /_gureum/clock).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.helpers import internal_call

SCALE = 864000  # ten service days per second


def _client(server, **config):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}, **config))


@pytest.fixture(scope="module")
def fast_server(tmp_root):
    s = Server(tmp_root / f"lifecycle-{uuid.uuid4().hex[:6]}", env={"GUREUM_TIME_SCALE": str(SCALE)}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def clock_server(tmp_root):
    s = Server(tmp_root / f"lifecycle-clock-{uuid.uuid4().hex[:6]}").start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def s3(fast_server):
    return _client(fast_server)


@pytest.fixture
def bucket(s3):
    name = f"life-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def _error(excinfo) -> tuple[str, int, str]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


def _wait(condition, timeout: float = 15.0):
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.time() < deadline, "the lifecycle rule did not act in time"
        time.sleep(0.2)


def _keys(s3, bucket) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_configuration_round_trip(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _error(e) == ("NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist")
    rules = [
        {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}],
         "Expiration": {"Days": 365}},
        {"ID": "tagged", "Filter": {"And": {"Prefix": "t/", "Tags": [{"Key": "k", "Value": "v"}],
                                            "ObjectSizeGreaterThan": 10}},
         "Status": "Disabled", "Expiration": {"Date": datetime(2030, 1, 1, tzinfo=timezone.utc)}},
        {"ID": "versions", "Filter": {}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 5, "NewerNoncurrentVersions": 2},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
    ]
    put = s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == rules
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert _error(e)[0] == "NoSuchLifecycleConfiguration"


@pytest.mark.parametrize("rule,code,message", [
    ({"ID": "a", "Filter": {}, "Status": "Enabled", "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]},
     "InvalidArgument", "'Days' in Transition action must be greater than or equal to 30 for storageClass "
                        "'STANDARD_IA'"),
    ({"ID": "a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 0}},
     "InvalidArgument", "'Days' for Expiration action must be a positive integer"),
    ({"ID": "a", "Filter": {}, "Status": "Enabled",
      "Expiration": {"Date": datetime(2030, 1, 1, 12, tzinfo=timezone.utc)}},
     "InvalidArgument", "'Date' must be at midnight GMT"),
    ({"ID": "a", "Filter": {}, "Prefix": "x", "Status": "Enabled", "Expiration": {"Days": 1}}, "MalformedXML", None),
    ({"ID": "a", "Filter": {"Prefix": "x", "Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled",
      "Expiration": {"Days": 1}}, "MalformedXML", None),
    ({"ID": "a", "Filter": {}, "Status": "Maybe", "Expiration": {"Days": 1}}, "MalformedXML", None),
    ({"ID": "a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}},
     "MalformedXML", None),
    ({"ID": "a", "Filter": {}, "Status": "Enabled"}, "InvalidRequest", None),
])
def test_validation(fast_server, bucket, rule, code, message):
    raw = _client(fast_server, parameter_validation=False)
    with pytest.raises(ClientError) as e:
        raw.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})
    assert _error(e)[:2] == (code, 400)
    if message:
        assert _error(e)[2] == message


def test_duplicate_rule_ids(s3, bucket):
    rule = {"ID": "same", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule, rule]})
    assert _error(e)[:2] == ("InvalidArgument", 400)


def test_expiration_acts_on_matching_objects(s3, bucket):
    s3.put_object(Bucket=bucket, Key="tmp/a", Body=b"x")
    s3.put_object(Bucket=bucket, Key="tmp/tagged", Body=b"x", Tagging="keep=yes")
    s3.put_object(Bucket=bucket, Key="keep/b", Body=b"x")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 20}},
        {"ID": "off", "Filter": {"Prefix": "keep/"}, "Status": "Disabled", "Expiration": {"Days": 1}},
    ]})
    head = s3.head_object(Bucket=bucket, Key="tmp/a")
    assert head["Expiration"].startswith('expiry-date="') and head["Expiration"].endswith('rule-id="tmp"')
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="keep/b")
    _wait(lambda: _keys(s3, bucket) == ["keep/b"])


def test_tag_and_size_filters(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a-small", Body=b"x", Tagging="class=temp")
    s3.put_object(Bucket=bucket, Key="a-big", Body=b"x" * 100, Tagging="class=temp")
    s3.put_object(Bucket=bucket, Key="a-other", Body=b"x" * 100, Tagging="class=keep")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "big-temp", "Status": "Enabled", "Expiration": {"Days": 1},
         "Filter": {"And": {"Tags": [{"Key": "class", "Value": "temp"}], "ObjectSizeGreaterThan": 50}}},
    ]})
    _wait(lambda: "a-big" not in _keys(s3, bucket))
    assert sorted(_keys(s3, bucket)) == ["a-other", "a-small"]


def test_versioned_expiration_and_noncurrent_versions(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"1", b"2", b"3", b"4"):
        s3.put_object(Bucket=bucket, Key="v", Body=body)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "current", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 5}},
        {"ID": "old", "Filter": {}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 3, "NewerNoncurrentVersions": 1}},
    ]})

    def settled():
        listing = s3.list_object_versions(Bucket=bucket)
        markers = listing.get("DeleteMarkers", [])
        versions = listing.get("Versions", [])
        return markers and len(versions) == 1 and markers[0]["IsLatest"]
    _wait(settled)
    # The current version became a delete marker; of the noncurrent ones, only the newest is kept.
    listing = s3.list_object_versions(Bucket=bucket)
    kept = listing["Versions"][0]["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="v", VersionId=kept)["Body"].read() == b"4"


def test_expired_object_delete_marker_is_removed(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="gone", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="gone")
    s3.delete_object(Bucket=bucket, Key="gone", VersionId=v)  # only the marker is left
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "markers", "Filter": {}, "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ]})
    _wait(lambda: "DeleteMarkers" not in s3.list_object_versions(Bucket=bucket))


def test_transitions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="big", Body=b"x" * (128 * 1024))
    s3.put_object(Bucket=bucket, Key="small", Body=b"x")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "cold", "Filter": {}, "Status": "Enabled",
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 0, "StorageClass": "GLACIER"}]},
    ]})
    _wait(lambda: s3.head_object(Bucket=bucket, Key="big").get("StorageClass") == "GLACIER")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="big")
    assert _error(e)[0] == "InvalidObjectState"
    # Objects under 128 KiB stay where they are (all_storage_classes_128K, AWS's default).
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="small")
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, TransitionDefaultMinimumObjectSize="varies_by_storage_class",
        LifecycleConfiguration={"Rules": [{"ID": "ia", "Filter": {"Prefix": "small"}, "Status": "Enabled",
                                           "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}]})
    _wait(lambda: s3.head_object(Bucket=bucket, Key="small").get("StorageClass") == "STANDARD_IA")


def test_abort_incomplete_multipart_uploads(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts/x")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="parts/x", UploadId=upload, PartNumber=1, Body=b"x")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "abort", "Filter": {"Prefix": "parts/"}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
    ]})
    _wait(lambda: "Uploads" not in s3.list_multipart_uploads(Bucket=bucket))


def test_locked_versions_outlive_rules(s3):
    name = f"life-lock-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    held = s3.put_object(Bucket=name, Key="k", Body=b"1", ObjectLockLegalHoldStatus="ON")["VersionId"]
    s3.put_object(Bucket=name, Key="k", Body=b"2")
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "old", "Filter": {}, "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
        {"ID": "cur", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 2}},
    ]})
    _wait(lambda: s3.list_object_versions(Bucket=name).get("DeleteMarkers"))
    time.sleep(1.5)
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket=name).get("Versions", [])]
    assert ids == [held]


def test_rules_follow_the_service_clock(clock_server):
    """At AWS's pace a rule acts at the first midnight UTC after the object is N days old."""
    s3 = _client(clock_server)
    name = f"life-clock-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="old", Body=b"x")
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        {"ID": "month", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 30}},
    ]})
    head = s3.head_object(Bucket=name, Key="old")
    expected = (datetime.now(timezone.utc) + timedelta(days=31)).strftime("%a, %d %b %Y 00:00:00 GMT")
    assert head["Expiration"] == f'expiry-date="{expected}", rule-id="month"'
    time.sleep(2)
    assert _keys(s3, name) == ["old"]
    internal_call(clock_server.endpoint, "POST", "/_gureum/clock", {"advance_seconds": 31 * 86400})
    _wait(lambda: _keys(s3, name) == [])


def test_configurations_survive_a_restart(tmp_root):
    server = Server(tmp_root / f"lifecycle-restart-{uuid.uuid4().hex[:6]}",
                    env={"GUREUM_TIME_SCALE": str(SCALE)}).start()
    try:
        s3 = _client(server)
        s3.create_bucket(Bucket="kept", ObjectLockEnabledForBucket=True)
        s3.put_object(Bucket="kept", Key="held", Body=b"x", ObjectLockLegalHoldStatus="ON")
        s3.put_bucket_lifecycle_configuration(Bucket="kept", LifecycleConfiguration={"Rules": [
            {"ID": "late", "Filter": {"Prefix": "late/"}, "Status": "Enabled", "Expiration": {"Days": 20}}]})
        server.stop(sig="kill")
        server.start()
        s3 = _client(server)
        assert s3.get_bucket_lifecycle_configuration(Bucket="kept")["Rules"][0]["ID"] == "late"
        assert s3.get_object_legal_hold(Bucket="kept", Key="held")["LegalHold"]["Status"] == "ON"
        s3.put_object(Bucket="kept", Key="late/x", Body=b"x")
        _wait(lambda: s3.list_object_versions(Bucket="kept", Prefix="late/").get("DeleteMarkers"))
    finally:
        server.stop()
