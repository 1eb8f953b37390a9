"""EBS with boto3: volume types' rules, attach/detach, ModifyVolume, snapshots, encryption by default."""

from __future__ import annotations


import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_factory
from tests.helpers import advance_clock

REGION = "eu-west-3"
ZONE = f"{REGION}a"


@pytest.fixture(scope="module")
def endpoint(own_server) -> str:
    """These tests move the service clock: they have a server of their own."""
    return own_server.endpoint


@pytest.fixture(scope="module")
def make_client(endpoint):
    return client_factory(endpoint)


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"]


def settle(endpoint: str, seconds: float = 5) -> None:
    advance_clock(endpoint, seconds)


@pytest.fixture(scope="module")
def ec2(make_client):
    return make_client("ec2", REGION)


@pytest.fixture(scope="module")
def instance(ec2, endpoint):
    image = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023*"]}, {"Name": "architecture", "Values": ["x86_64"]}])["Images"][0]
    r = ec2.run_instances(ImageId=image["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                          Placement={"AvailabilityZone": ZONE})
    settle(endpoint)
    yield r["Instances"][0]
    ec2.terminate_instances(InstanceIds=[r["Instances"][0]["InstanceId"]])


def test_volume_types_and_their_rules(ec2):
    gp2 = ec2.create_volume(AvailabilityZone=ZONE, Size=10)
    assert gp2["VolumeType"] == "gp2" and gp2["Iops"] == 100 and gp2["State"] == "creating"
    assert gp2["Encrypted"] is False and gp2["SnapshotId"] == ""
    assert ec2.create_volume(AvailabilityZone=ZONE, Size=2000, VolumeType="gp2")["Iops"] == 6000
    gp3 = ec2.create_volume(AvailabilityZone=ZONE, Size=100, VolumeType="gp3", Iops=4000, Throughput=250)
    assert (gp3["Iops"], gp3["Throughput"]) == (4000, 250)
    default_gp3 = ec2.create_volume(AvailabilityZone=ZONE, Size=1, VolumeType="gp3")
    assert (default_gp3["Iops"], default_gp3["Throughput"]) == (3000, 125)
    io2 = ec2.create_volume(AvailabilityZone=ZONE, Size=10, VolumeType="io2", Iops=10000)
    assert io2["Iops"] == 10000
    st1 = ec2.create_volume(AvailabilityZone=ZONE, Size=125, VolumeType="st1")
    assert "Iops" not in st1
    bad = [
        (dict(Size=0), "InvalidParameterValue", "Volume of size 0GB is too small; minimum is 1GB."),
        (dict(Size=16385), "InvalidParameterValue", "Volume of size 16385GB is too large; maximum is 16384GB."),
        (dict(Size=2, VolumeType="io1", Iops=100), "InvalidParameterValue",
         "Volume of size 2GB is too small; minimum is 4GB."),
        (dict(Size=100, VolumeType="st1"), "InvalidParameterValue",
         "Volume of size 100GB is too small; minimum is 125GB."),
        (dict(Size=2000, VolumeType="standard"), "InvalidParameterValue",
         "Volume of size 2000GB is too large; maximum is 1024GB."),
        (dict(Size=10, VolumeType="gp2", Iops=300), "InvalidParameterCombination",
         "The parameter iops is not supported for gp2 volumes."),
        (dict(Size=10, VolumeType="io1"), "MissingParameter", "The request must contain the parameter iops"),
        (dict(Size=10, VolumeType="io1", Iops=1000), "InvalidParameterValue",
         "Iops to volume size ratio of 100.000000 is too high; maximum is 50"),
        (dict(Size=10, VolumeType="gp3", Iops=6000), "InvalidParameterValue",
         "Iops to volume size ratio of 600.000000 is too high; maximum is 500"),
        (dict(Size=100, VolumeType="gp3", Iops=2000), "InvalidParameterValue",
         "Volume iops of 2000 is too low; minimum is 3000."),
        (dict(Size=100, VolumeType="gp3", Iops=17000), "InvalidParameterValue",
         "Volume iops of 17000 is too high; maximum is 16000."),
        (dict(Size=100, VolumeType="gp3", Throughput=1001, Iops=5000), "InvalidParameterValue", None),
        (dict(Size=100, VolumeType="gp3", Throughput=800), "InvalidParameterValue", None),
        (dict(Size=100, VolumeType="io1", Iops=1000, Throughput=200), "InvalidParameterCombination", None),
        (dict(Size=10, VolumeType="gp9"), "InvalidParameterValue", None),
    ]
    for params, code, message in bad:
        with pytest.raises(ClientError) as e:
            ec2.create_volume(AvailabilityZone=ZONE, **params)
        assert _error(e)[0] == code, (params, _error(e))
        if message:
            assert _error(e)[1] == message, params
    with pytest.raises(ClientError) as e:
        ec2.create_volume(AvailabilityZone=f"{REGION}z", Size=1)
    assert _error(e) == ("InvalidParameterValue", f"Invalid availability zone: [{REGION}z]")
    with pytest.raises(ClientError) as e:
        ec2.create_volume(Size=1)
    assert _error(e)[0] == "MissingParameter"
    for v in (gp2, gp3, default_gp3, io2, st1):
        ec2.delete_volume(VolumeId=v["VolumeId"])


def test_describe_volumes_filters(ec2):
    a = ec2.create_volume(AvailabilityZone=ZONE, Size=7, VolumeType="gp3", TagSpecifications=[
        {"ResourceType": "volume", "Tags": [{"Key": "purpose", "Value": "logs"}]}])
    b = ec2.create_volume(AvailabilityZone=f"{REGION}b", Size=9, Encrypted=True)
    assert a["Tags"] == [{"Key": "purpose", "Value": "logs"}]
    assert b["Encrypted"] and b["KmsKeyId"].startswith(f"arn:aws:kms:{REGION}:000000000000:key/")

    def ids(*filters):
        return {v["VolumeId"] for v in ec2.describe_volumes(Filters=list(filters))["Volumes"]} & \
            {a["VolumeId"], b["VolumeId"]}

    assert ids({"Name": "size", "Values": ["7"]}) == {a["VolumeId"]}
    assert ids({"Name": "status", "Values": ["available"]}) == {a["VolumeId"], b["VolumeId"]}
    assert ids({"Name": "volume-type", "Values": ["gp3"]}) == {a["VolumeId"]}
    assert ids({"Name": "availability-zone", "Values": [f"{REGION}b"]}) == {b["VolumeId"]}
    assert ids({"Name": "encrypted", "Values": ["true"]}) == {b["VolumeId"]}
    assert ids({"Name": "tag:purpose", "Values": ["logs"]}) == {a["VolumeId"]}
    with pytest.raises(ClientError) as e:
        ec2.describe_volumes(VolumeIds=["vol-0123456789abcdef0"])
    assert _error(e) == ("InvalidVolume.NotFound", "The volume 'vol-0123456789abcdef0' does not exist.")
    for v in (a, b):
        ec2.delete_volume(VolumeId=v["VolumeId"])


def test_attach_detach_delete(ec2, instance, endpoint):
    iid = instance["InstanceId"]
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=4)["VolumeId"]
    elsewhere = ec2.create_volume(AvailabilityZone=f"{REGION}b", Size=4)["VolumeId"]
    with pytest.raises(ClientError) as e:
        ec2.attach_volume(VolumeId=elsewhere, InstanceId=iid, Device="/dev/sdf")
    assert _error(e)[0] == "InvalidVolume.ZoneMismatch"
    with pytest.raises(ClientError) as e:
        ec2.attach_volume(VolumeId=volume, InstanceId=iid, Device="floppy")
    assert _error(e) == ("InvalidParameterValue",
                         "Value (floppy) for parameter device is invalid. floppy is not a valid EBS device name.")
    with pytest.raises(ClientError) as e:
        ec2.attach_volume(VolumeId=volume, InstanceId=iid, Device="/dev/xvda")
    assert _error(e) == ("InvalidParameterValue", "Attachment point /dev/xvda is already in use")
    out = ec2.attach_volume(VolumeId=volume, InstanceId=iid, Device="/dev/sdf")
    assert out["State"] == "attaching" and out["Device"] == "/dev/sdf"
    described = ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]
    assert described["State"] == "in-use" and described["Attachments"][0]["State"] == "attached"
    assert not described["Attachments"][0]["DeleteOnTermination"]
    mapping = {m["DeviceName"]: m for m in ec2.describe_instances(InstanceIds=[iid])["Reservations"][0][
        "Instances"][0]["BlockDeviceMappings"]}
    assert mapping["/dev/sdf"]["Ebs"]["VolumeId"] == volume
    assert ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [iid]},
                                         {"Name": "attachment.delete-on-termination", "Values": ["false"]}])[
        "Volumes"][0]["VolumeId"] == volume
    with pytest.raises(ClientError) as e:
        ec2.attach_volume(VolumeId=volume, InstanceId=iid, Device="/dev/sdg")
    assert _error(e)[0] == "VolumeInUse"
    with pytest.raises(ClientError) as e:
        ec2.delete_volume(VolumeId=volume)
    assert _error(e) == ("VolumeInUse", f"Volume {volume} is currently attached to {iid}")
    root = mapping["/dev/xvda"]["Ebs"]["VolumeId"]
    with pytest.raises(ClientError) as e:
        ec2.detach_volume(VolumeId=root)
    assert _error(e)[0] == "UnsupportedOperation"
    assert ec2.detach_volume(VolumeId=volume)["State"] == "detaching"
    assert ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["State"] == "available"
    with pytest.raises(ClientError) as e:
        ec2.detach_volume(VolumeId=volume)
    assert _error(e)[0] == "IncorrectState"
    ec2.delete_volume(VolumeId=volume)
    ec2.delete_volume(VolumeId=elsewhere)
    with pytest.raises(ClientError) as e:
        ec2.delete_volume(VolumeId=volume)
    assert _error(e)[0] == "InvalidVolume.NotFound"


def test_modify_volume(ec2, endpoint):
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=20, VolumeType="gp2")["VolumeId"]
    with pytest.raises(ClientError) as e:
        ec2.modify_volume(VolumeId=volume, Size=10)
    assert _error(e) == ("InvalidParameterValue", "New size cannot be smaller than existing size")
    out = ec2.modify_volume(VolumeId=volume, Size=40, VolumeType="gp3", Iops=4000)["VolumeModification"]
    assert out["ModificationState"] == "modifying"
    assert (out["OriginalSize"], out["TargetSize"]) == (20, 40)
    assert (out["OriginalVolumeType"], out["TargetVolumeType"]) == ("gp2", "gp3")
    assert out["TargetIops"] == 4000 and out["TargetThroughput"] == 125
    with pytest.raises(ClientError) as e:
        ec2.modify_volume(VolumeId=volume, Size=50)
    assert _error(e)[0] == "IncorrectModificationState"
    now = ec2.describe_volumes_modifications(VolumeIds=[volume])["VolumesModifications"][0]
    assert now["ModificationState"] == "optimizing"
    settle(endpoint)
    done = ec2.describe_volumes_modifications(
        Filters=[{"Name": "modification-state", "Values": ["completed"]}, {"Name": "volume-id", "Values": [volume]}])
    assert done["VolumesModifications"][0]["Progress"] == 100
    described = ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]
    assert (described["Size"], described["VolumeType"], described["Iops"]) == (40, "gp3", 4000)
    plain = ec2.create_volume(AvailabilityZone=ZONE, Size=1)["VolumeId"]
    with pytest.raises(ClientError) as e:
        ec2.describe_volumes_modifications(VolumeIds=[plain])
    assert _error(e)[0] == "InvalidVolumeModification.NotFound"
    ec2.modify_volume_attribute(VolumeId=plain, AutoEnableIO={"Value": True})
    assert ec2.describe_volume_attribute(VolumeId=plain, Attribute="autoEnableIO")["AutoEnableIO"] == {"Value": True}
    ec2.delete_volume(VolumeId=volume)
    ec2.delete_volume(VolumeId=plain)


def test_snapshots(ec2, make_client, endpoint):
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=6)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=volume, Description="nightly", TagSpecifications=[
        {"ResourceType": "snapshot", "Tags": [{"Key": "k", "Value": "v"}]}])
    assert snap["State"] == "pending" and snap["VolumeSize"] == 6 and snap["Description"] == "nightly"
    described = ec2.describe_snapshots(SnapshotIds=[snap["SnapshotId"]])["Snapshots"][0]
    assert described["State"] == "completed" and described["Progress"] == "100%"
    assert described["Tags"] == [{"Key": "k", "Value": "v"}]
    assert snap["SnapshotId"] in {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume]}])["Snapshots"][0][
        "SnapshotId"] == snap["SnapshotId"]
    with pytest.raises(ClientError) as e:
        ec2.create_volume(AvailabilityZone=ZONE, SnapshotId=snap["SnapshotId"], Size=3)
    assert _error(e) == ("InvalidParameterValue",
                         f"Volume of size 3GB is smaller than snapshot '{snap['SnapshotId']}', expect size>= 6GB")
    restored = ec2.create_volume(AvailabilityZone=f"{REGION}b", SnapshotId=snap["SnapshotId"])
    assert restored["Size"] == 6 and restored["SnapshotId"] == snap["SnapshotId"]
    copy = make_client("ec2", "eu-central-1").copy_snapshot(SourceRegion=REGION, SourceSnapshotId=snap["SnapshotId"])
    copied = make_client("ec2", "eu-central-1").describe_snapshots(SnapshotIds=[copy["SnapshotId"]])["Snapshots"][0]
    assert copied["VolumeSize"] == 6 and snap["SnapshotId"] in copied["Description"]
    with pytest.raises(ClientError) as e:
        ec2.describe_snapshots(SnapshotIds=["snap-0123456789abcdef0"])
    assert _error(e) == ("InvalidSnapshot.NotFound", "The snapshot 'snap-0123456789abcdef0' does not exist.")
    ec2.delete_snapshot(SnapshotId=snap["SnapshotId"])
    with pytest.raises(ClientError) as e:
        ec2.delete_snapshot(SnapshotId=snap["SnapshotId"])
    assert _error(e)[0] == "InvalidSnapshot.NotFound"
    ec2.delete_volume(VolumeId=volume)
    ec2.delete_volume(VolumeId=restored["VolumeId"])


def test_snapshot_of_an_image_is_in_use(ec2):
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=8)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    ec2.describe_snapshots(SnapshotIds=[snap])
    image = ec2.register_image(Name="from-snapshot", RootDeviceName="/dev/xvda", Architecture="x86_64",
                               VirtualizationType="hvm",
                               BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}])
    with pytest.raises(ClientError) as e:
        ec2.delete_snapshot(SnapshotId=snap)
    assert _error(e) == ("InvalidSnapshot.InUse", f"The snapshot {snap} is currently in use by {image['ImageId']}")
    ec2.deregister_image(ImageId=image["ImageId"])
    ec2.delete_snapshot(SnapshotId=snap)
    ec2.delete_volume(VolumeId=volume)


def test_ebs_encryption_by_default(make_client):
    ec2 = make_client("ec2", "ap-south-1")
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert ec2.get_ebs_default_kms_key_id()["KmsKeyId"] == "alias/aws/ebs"
    assert ec2.enable_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    volume = ec2.create_volume(AvailabilityZone="ap-south-1a", Size=1)
    assert volume["Encrypted"] is True and ":key/" in volume["KmsKeyId"]
    key = "arn:aws:kms:ap-south-1:000000000000:key/11111111-2222-3333-4444-555555555555"
    assert ec2.modify_ebs_default_kms_key_id(KmsKeyId=key)["KmsKeyId"] == key
    assert ec2.create_volume(AvailabilityZone="ap-south-1a", Size=1)["KmsKeyId"] == key
    assert ec2.reset_ebs_default_kms_key_id()["KmsKeyId"] == "alias/aws/ebs"
    assert ec2.disable_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert ec2.create_volume(AvailabilityZone="ap-south-1a", Size=1)["Encrypted"] is False
