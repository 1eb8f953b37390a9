"""EC2's shared behaviour: regions and zones, DryRun, UnauthorizedOperation, tags, filters."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError


def _error(excinfo) -> tuple[str, str, int]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_describe_regions_lists_the_partition(make_client):
    ec2 = make_client("ec2", "ap-northeast-2")
    regions = {r["RegionName"]: r for r in ec2.describe_regions()["Regions"]}
    assert {"us-east-1", "ap-northeast-2", "eu-west-1"} <= set(regions)
    assert regions["ap-northeast-2"]["Endpoint"] == "ec2.ap-northeast-2.amazonaws.com"
    assert regions["us-east-1"]["OptInStatus"] == "opt-in-not-required"
    only = ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["eu-*"]}])["Regions"]
    assert only and all(r["RegionName"].startswith("eu-") for r in only)


def test_availability_zones_are_the_real_ones(make_client):
    seoul = make_client("ec2", "ap-northeast-2").describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"]) for z in seoul] == [
        ("ap-northeast-2a", "apne2-az1"), ("ap-northeast-2b", "apne2-az2"),
        ("ap-northeast-2c", "apne2-az3"), ("ap-northeast-2d", "apne2-az4")]
    assert all(z["State"] == "available" and z["RegionName"] == "ap-northeast-2" for z in seoul)
    virginia = make_client("ec2", "us-east-1").describe_availability_zones()["AvailabilityZones"]
    assert len(virginia) == 6 and virginia[0]["ZoneId"].startswith("use1-az")
    tokyo = make_client("ec2", "ap-northeast-1").describe_availability_zones(
        Filters=[{"Name": "zone-name", "Values": ["*c"]}])["AvailabilityZones"]
    assert [z["ZoneName"] for z in tokyo] == ["ap-northeast-1c"]


def test_unknown_zone_and_filter_are_refused(make_client):
    ec2 = make_client("ec2", "ap-northeast-2")
    with pytest.raises(ClientError) as e:
        ec2.describe_availability_zones(ZoneNames=["ap-northeast-2z"])
    assert _error(e)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        ec2.describe_availability_zones(Filters=[{"Name": "colour", "Values": ["blue"]}])
    assert _error(e)[:2] == ("InvalidParameterValue", "The filter 'colour' is invalid")


def test_dry_run_answers_would_have_succeeded(make_client):
    ec2 = make_client("ec2")
    with pytest.raises(ClientError) as e:
        ec2.describe_regions(DryRun=True)
    assert _error(e) == ("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


def test_unauthorized_operation_is_encoded_and_decodable(make_client):
    iam = make_client("iam")
    iam.create_user(UserName="ec2-nobody")
    key = iam.create_access_key(UserName="ec2-nobody")["AccessKey"]
    ec2 = make_client("ec2", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    for dry_run in (True, False):
        with pytest.raises(ClientError) as e:
            ec2.describe_availability_zones(DryRun=dry_run)
        code, message, status = _error(e)
        assert (code, status) == ("UnauthorizedOperation", 403)
        assert message.startswith("You are not authorized to perform this operation. User: arn:aws:iam::")
        assert "ec2:DescribeAvailabilityZones" in message
    encoded = message.rsplit("Encoded authorization failure message: ", 1)[1]
    decoded = json.loads(make_client("sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False
    assert decoded["context"]["action"] == "ec2:DescribeAvailabilityZones"
    assert decoded["context"]["principal"]["arn"].endswith(":user/ec2-nobody")
    with pytest.raises(ClientError) as e:
        make_client("sts").decode_authorization_message(EncodedMessage="not-a-message")
    assert _error(e)[0] == "InvalidAuthorizationMessageException"


def test_tags_on_missing_resources_are_refused(make_client):
    ec2 = make_client("ec2")
    with pytest.raises(ClientError) as e:
        ec2.create_tags(Resources=["vpc-0123456789abcdef0"], Tags=[{"Key": "Name", "Value": "x"}])
    assert _error(e)[:2] == ("InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")
    with pytest.raises(ClientError) as e:
        ec2.describe_tags(Filters=[{"Name": "nope", "Values": ["x"]}])
    assert _error(e)[0] == "InvalidParameterValue"
