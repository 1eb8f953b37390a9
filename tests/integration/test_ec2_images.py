"""AMIs: the public catalogue, DescribeImages' owners/filters/paging, own images and sharing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROOT


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


@pytest.fixture(scope="module")
def ec2(make_client):
    return make_client("ec2", "ap-northeast-2")


@pytest.fixture(scope="module")
def other_account(endpoint, make_client):
    proc = subprocess.run([sys.executable, "-m", "gureum", "accounts", "create", "--json", "--endpoint", endpoint],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    created = json.loads(proc.stdout)
    created["ec2"] = make_client("ec2", "ap-northeast-2", access_key=created["access_key_id"],
                                 secret_key=created["secret_access_key"])
    return created


def _names(images):
    return {i["Name"] for i in images}


def test_amazon_linux_2023_by_owner_and_name(ec2):
    images = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]},
        {"Name": "architecture", "Values": ["x86_64"]}])["Images"]
    assert _names(images) == {"al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64"}  # the older one is deprecated
    image = images[0]
    assert image["OwnerId"] == "137112412989" and image["ImageOwnerAlias"] == "amazon"
    assert image["ImageId"].startswith("ami-") and len(image["ImageId"]) == 21
    assert image["RootDeviceName"] == "/dev/xvda" and image["RootDeviceType"] == "ebs"
    ebs = image["BlockDeviceMappings"][0]["Ebs"]
    assert ebs["SnapshotId"].startswith("snap-") and ebs["VolumeSize"] == 8 and ebs["VolumeType"] == "gp3"
    assert image["PlatformDetails"] == "Linux/UNIX" and image["UsageOperation"] == "RunInstances"
    assert image["ImdsSupport"] == "v2.0" and image["BootMode"] == "uefi-preferred"
    assert image["EnaSupport"] is True and image["Hypervisor"] == "xen" and image["VirtualizationType"] == "hvm"
    assert image["State"] == "available" and image["Public"] is True
    assert "Platform" not in image


def test_ids_are_stable_and_differ_per_region(ec2, make_client):
    name = {"Name": "name", "Values": ["al2023-ami-2023.6.20241212.0-kernel-6.1-arm64"]}
    here = ec2.describe_images(Owners=["amazon"], Filters=[name])["Images"][0]["ImageId"]
    again = ec2.describe_images(Owners=["amazon"], Filters=[name])["Images"][0]["ImageId"]
    there = make_client("ec2", "us-east-1").describe_images(Owners=["amazon"], Filters=[name])["Images"][0]["ImageId"]
    assert here == again and here != there


def test_deprecated_images_need_include_deprecated_or_an_id(ec2):
    name = {"Name": "name", "Values": ["al2023-ami-2023.6.20241121.0-kernel-6.1-x86_64"]}
    assert ec2.describe_images(Owners=["amazon"], Filters=[name])["Images"] == []
    old = ec2.describe_images(Owners=["amazon"], Filters=[name], IncludeDeprecated=True)["Images"]
    assert len(old) == 1 and old[0]["DeprecationTime"] < "2026"
    assert ec2.describe_images(ImageIds=[old[0]["ImageId"]])["Images"][0]["Name"] == old[0]["Name"]


def test_ubuntu_debian_windows(ec2):
    ubuntu = ec2.describe_images(Owners=["099720109477"], Filters=[
        {"Name": "name", "Values": ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]}])["Images"]
    assert len(ubuntu) == 1 and ubuntu[0]["RootDeviceName"] == "/dev/sda1" and "ImageOwnerAlias" not in ubuntu[0]
    jammy = ec2.describe_images(Owners=["099720109477"], Filters=[
        {"Name": "name", "Values": ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-*"]}])["Images"]
    assert {i["Architecture"] for i in jammy} == {"x86_64", "arm64"}
    debian = ec2.describe_images(Owners=["136693071363"])["Images"]
    assert _names(debian) == {"debian-12-amd64-20241201-1948", "debian-12-arm64-20241201-1948"}
    windows = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "platform", "Values": ["windows"]}])["Images"]
    assert _names(windows) == {"Windows_Server-2022-English-Full-Base-2024.12.13",
                               "Windows_Server-2025-English-Full-Base-2024.12.13"}
    win = windows[0]
    assert win["OwnerId"] == "801119661308" and win["Platform"] == "windows"
    assert win["PlatformDetails"] == "Windows" and win["UsageOperation"] == "RunInstances:0002"
    assert win["RootDeviceName"] == "/dev/sda1"


def test_filters_and_owner_aliases(ec2):
    arm = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "architecture", "Values": ["arm64"]}, {"Name": "name", "Values": ["amzn2-*"]}])["Images"]
    assert arm and all(i["Architecture"] == "arm64" and i["Name"].startswith("amzn2-") for i in arm)
    assert all(i["BlockDeviceMappings"][0]["Ebs"]["VolumeType"] == "gp2" for i in arm)
    by_alias = ec2.describe_images(Filters=[{"Name": "owner-alias", "Values": ["amazon"]},
                                            {"Name": "is-public", "Values": ["true"]}])["Images"]
    assert by_alias and all(i["ImageOwnerAlias"] == "amazon" for i in by_alias)
    assert ec2.describe_images(Owners=["aws-marketplace"])["Images"] == []
    gp3 = ec2.describe_images(Filters=[{"Name": "block-device-mapping.volume-type", "Values": ["gp3"]},
                                       {"Name": "description", "Values": ["*Minimal*"]}])["Images"]
    assert {i["Architecture"] for i in gp3} == {"x86_64", "arm64"}
    with pytest.raises(ClientError) as e:
        ec2.describe_images(Filters=[{"Name": "flavour", "Values": ["x"]}])
    assert _error(e) == ("InvalidParameterValue", "The filter 'flavour' is invalid")


def test_paging(ec2):
    seen = []
    for page in ec2.get_paginator("describe_images").paginate(Owners=["amazon"], PaginationConfig={"PageSize": 5}):
        assert len(page["Images"]) <= 5
        seen += [i["ImageId"] for i in page["Images"]]
    everything = ec2.describe_images(Owners=["amazon"])["Images"]
    assert len(seen) == len(set(seen)) == len(everything)


def test_malformed_and_missing_ids(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_images(ImageIds=["ami-xyz"])
    assert _error(e) == ("InvalidAMIID.Malformed", 'Invalid id: "ami-xyz" (expecting "ami-...")')
    with pytest.raises(ClientError) as e:
        ec2.describe_images(ImageIds=["ami-0123456789abcdef0"])
    assert _error(e) == ("InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist")
    with pytest.raises(ClientError) as e:
        ec2.describe_images(Owners=["somebody"])
    assert _error(e)[0] == "InvalidUserID.Malformed"


def test_copy_share_and_deregister(ec2, other_account):
    source = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64"]}])["Images"][0]
    copied = ec2.copy_image(SourceImageId=source["ImageId"], SourceRegion="ap-northeast-2", Name="my-al2023",
                            TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "env", "Value": "lab"}]}])
    image_id = copied["ImageId"]
    mine = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["my-al2023"]}])["Images"]
    assert [i["ImageId"] for i in mine] == [image_id]
    image = mine[0]
    assert image["Public"] is False and image["SourceImageId"] == source["ImageId"]
    assert image["SourceImageRegion"] == "ap-northeast-2" and "ImageOwnerAlias" not in image
    assert image["Description"] == source["Description"] and image["Tags"] == [{"Key": "env", "Value": "lab"}]
    assert image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"] != source["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    with pytest.raises(ClientError) as e:
        ec2.copy_image(SourceImageId=source["ImageId"], SourceRegion="ap-northeast-2", Name="my-al2023")
    assert _error(e) == ("InvalidAMIName.Duplicate", f"AMI name my-al2023 is already in use by AMI {image_id}")

    theirs = other_account["ec2"]
    with pytest.raises(ClientError) as e:
        theirs.describe_images(ImageIds=[image_id])
    assert _error(e)[0] == "InvalidAMIID.NotFound"
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": other_account["account_id"]}]})
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == [
        {"UserId": other_account["account_id"]}]
    shared = theirs.describe_images(ImageIds=[image_id])["Images"][0]
    assert "Tags" not in shared and shared["Public"] is False
    assert image_id in [i["ImageId"] for i in theirs.describe_images(ExecutableUsers=["self"])["Images"]]
    with pytest.raises(ClientError) as e:
        theirs.deregister_image(ImageId=image_id)
    assert _error(e)[0] == "AuthFailure"

    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", OperationType="add", UserGroups=["all"])
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["Public"] is True
    ec2.modify_image_attribute(ImageId=image_id, Description={"Value": "changed"})
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="description")["Description"] == {"Value": "changed"}
    with pytest.raises(ClientError) as e:
        ec2.modify_image_attribute(ImageId=source["ImageId"], Description={"Value": "mine now"})
    assert _error(e) == ("AuthFailure", f"Not authorized for image:{source['ImageId']}")

    assert ec2.deregister_image(ImageId=image_id)["Return"] is True
    assert image_id not in {i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]}
    with pytest.raises(ClientError) as e:
        ec2.deregister_image(ImageId=image_id)
    assert _error(e)[0] == "InvalidAMIID.NotFound"


def test_register_image_checks_its_snapshot(ec2):
    with pytest.raises(ClientError) as e:
        ec2.register_image(Name="from-snap", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0123456789abcdef0"}}])
    assert _error(e) == ("InvalidSnapshot.NotFound", "The snapshot 'snap-0123456789abcdef0' does not exist.")
    with pytest.raises(ClientError) as e:
        ec2.register_image(Name="bad{name}", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0123456789abcdef0"}}])
    assert _error(e)[0] == "InvalidAMIName.Malformed"


def test_cli_latest_amazon_linux(aws_cli):
    code, out, err = aws_cli("ec2", "describe-images", "--region", "ap-northeast-2", "--owners", "amazon",
                             "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64",
                             "--query", "sort_by(Images, &CreationDate)[-1].Name", "--output", "text")
    assert code == 0, err
    assert out.strip() == "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64"


def test_deprecation_and_deregistration_protection(make_client):
    ec2 = make_client("ec2", "us-west-1")  # the protected image stays behind; keep it out of other tests' way
    source = ec2.describe_images(Owners=["099720109477"], Filters=[
        {"Name": "name", "Values": ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-*"]}])["Images"][0]
    image_id = ec2.copy_image(SourceImageId=source["ImageId"], SourceRegion="us-west-1",
                              Name="protected-noble")["ImageId"]
    assert ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt="2030-01-01T00:00:29Z")["Return"] is True
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeprecationTime"] == "2030-01-01T00:00:00.000Z"
    ec2.disable_image_deprecation(ImageId=image_id)
    assert "DeprecationTime" not in ec2.describe_images(ImageIds=[image_id])["Images"][0]

    ec2.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=True)
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeregistrationProtection"] == "enabled-with-cooldown"
    with pytest.raises(ClientError) as e:
        ec2.deregister_image(ImageId=image_id)
    assert _error(e)[0] == "InvalidParameterValue"
    ec2.disable_image_deregistration_protection(ImageId=image_id)
    state = ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeregistrationProtection"]
    assert state.startswith("disabled-until-")
    with pytest.raises(ClientError):
        ec2.deregister_image(ImageId=image_id)  # still cooling down
    with pytest.raises(ClientError) as e:
        ec2.enable_image_deprecation(ImageId=source["ImageId"], DeprecateAt="2030-01-01T00:00:00Z")
    assert _error(e)[0] == "AuthFailure"


def test_register_image_from_a_snapshot(make_client):
    ec2 = make_client("ec2", "eu-south-2")
    volume = ec2.create_volume(AvailabilityZone="eu-south-2a", Size=10, VolumeType="gp3")["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    image_id = ec2.register_image(
        Name="from-snapshot", RootDeviceName="/dev/xvda", Architecture="arm64", EnaSupport=True,
        BootMode="uefi", BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot}}],
        TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "k", "Value": "v"}]}])["ImageId"]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["Architecture"] == "arm64" and image["BootMode"] == "uefi" and image["Public"] is False
    assert image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"] == snapshot
    assert image["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 10
    assert image["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as e:
        ec2.register_image(Name="too-small", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot, "VolumeSize": 5}}])
    assert _error(e)[0] == "InvalidParameterValue"
