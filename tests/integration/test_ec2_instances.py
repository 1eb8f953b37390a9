"""EC2 instances with boto3: RunInstances' validation, the state machine, describe filters,
attributes, status, console output, credit specifications and the vCPU quota."""

from __future__ import annotations

import base64
import ipaddress

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_factory
from tests.helpers import advance_clock

REGION = "eu-west-2"


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


@pytest.fixture(scope="module")
def ec2(make_client):
    return make_client("ec2", REGION)


@pytest.fixture(scope="module")
def ami(ec2):
    images = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023*"]}, {"Name": "architecture", "Values": ["x86_64"]}])["Images"]
    return sorted(images, key=lambda i: i["CreationDate"])[-1]


@pytest.fixture(scope="module")
def arm_ami(ec2):
    images = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023*"]}, {"Name": "architecture", "Values": ["arm64"]}])["Images"]
    return images[0]


def settle(endpoint: str, seconds: float = 5) -> None:
    """Move the service clock past the boot and stop delays."""
    advance_clock(endpoint, seconds)


def run(ec2, ami, **kwargs) -> dict:
    params = {"ImageId": ami["ImageId"], "InstanceType": "t3.micro", "MinCount": 1, "MaxCount": 1, **kwargs}
    return ec2.run_instances(**params)


def describe(ec2, instance_id: str) -> dict:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def terminate_all(ec2, endpoint) -> None:
    ids = [i["InstanceId"] for r in ec2.describe_instances(Filters=[
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"]
        for i in r["Instances"]]
    if ids:
        ec2.terminate_instances(InstanceIds=ids)
    settle(endpoint)


# ---- RunInstances ---------------------------------------------------------------------------

def test_run_instances_reservation_shape(ec2, ami, endpoint):
    r = run(ec2, ami, MinCount=2, MaxCount=2)
    assert r["ReservationId"].startswith("r-") and r["OwnerId"] == "000000000000" and r["Groups"] == []
    assert len(r["Instances"]) == 2
    first = r["Instances"][0]
    assert first["State"] == {"Code": 0, "Name": "pending"}
    assert first["StateReason"] == {"Code": "pending", "Message": "pending"}
    assert [i["AmiLaunchIndex"] for i in r["Instances"]] == [0, 1]
    assert first["ImageId"] == ami["ImageId"] and first["InstanceType"] == "t3.micro"
    assert first["Placement"]["AvailabilityZone"] == f"{REGION}a" and first["Placement"]["Tenancy"] == "default"
    assert first["PrivateIpAddress"].startswith("172.31.")
    assert first["PrivateDnsName"] == f"ip-{first['PrivateIpAddress'].replace('.', '-')}.{REGION}.compute.internal"
    assert first["PublicIpAddress"] and first["PublicDnsName"].endswith(f".{REGION}.compute.amazonaws.com")
    assert first["SecurityGroups"][0]["GroupName"] == "default"
    assert first["RootDeviceName"] == "/dev/xvda" and first["RootDeviceType"] == "ebs"
    assert first["BlockDeviceMappings"][0]["DeviceName"] == "/dev/xvda"
    assert first["MetadataOptions"]["HttpTokens"] == "required"  # AL2023 images say ImdsSupport v2.0
    assert first["MetadataOptions"]["HttpPutResponseHopLimit"] == 2
    assert first["NetworkInterfaces"][0]["Attachment"]["DeviceIndex"] == 0
    settle(endpoint)
    now = describe(ec2, first["InstanceId"])
    assert now["State"] == {"Code": 16, "Name": "running"} and "StateReason" not in now
    assert now["MetadataOptions"]["State"] == "applied"
    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in r["Instances"]])


def test_run_instances_validation(ec2, ami, arm_ami):
    cases = [
        (dict(ImageId="ami-12345678901234567"), "InvalidAMIID.NotFound",
         "The image id '[ami-12345678901234567]' does not exist"),
        (dict(ImageId="banana"), "InvalidAMIID.Malformed", None),
        (dict(InstanceType="t2.gigantic"), "InvalidParameterValue", "Invalid value 't2.gigantic' for InstanceType."),
        (dict(KeyName="nope"), "InvalidKeyPair.NotFound", "The key pair 'nope' does not exist"),
        (dict(SubnetId="subnet-12345678901234567"), "InvalidSubnetID.NotFound",
         "The subnet ID 'subnet-12345678901234567' does not exist"),
        (dict(SecurityGroupIds=["sg-12345678901234567"]), "InvalidGroup.NotFound", None),
        (dict(MinCount=3, MaxCount=2), "InvalidParameterValue", None),
        (dict(InstanceInitiatedShutdownBehavior="explode"), "InvalidParameterValue", None),
        (dict(InstanceType="m5.large", CreditSpecification={"CpuCredits": "unlimited"}),
         "InvalidParameterCombination", None),
        (dict(IamInstanceProfile={"Name": "no-such-profile"}), "InvalidParameterValue",
         "Value (no-such-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"),
        (dict(BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 2}}]),
         "InvalidBlockDeviceMapping", None),
        (dict(Placement={"AvailabilityZone": f"{REGION}z"}), "InvalidParameterValue", None),
    ]
    for extra, code, message in cases:
        with pytest.raises(ClientError) as e:
            run(ec2, ami, **extra)
        assert _error(e)[0] == code, (extra, _error(e))
        if message:
            assert _error(e)[1] == message
    with pytest.raises(ClientError) as e:
        run(ec2, arm_ami, InstanceType="t3.micro")
    code, message = _error(e)
    assert code == "InvalidParameterValue"
    assert message.startswith("The architecture 'x86_64' of the specified instance type does not match the"
                              " architecture 'arm64' of the specified AMI.")
    # Nothing was left behind by the refused launches.
    assert not ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["pending"]},
                                               {"Name": "image-id", "Values": [arm_ami["ImageId"]]}])["Reservations"]


def test_run_instances_options(ec2, ami, make_client, endpoint):
    iam = make_client("iam")
    iam.create_role(RoleName="ec2-web", AssumeRolePolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},'
        '"Action":"sts:AssumeRole"}]}'))
    profile = iam.create_instance_profile(InstanceProfileName="ec2-web")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName="ec2-web", RoleName="ec2-web")
    ec2.create_key_pair(KeyName="opts-key")
    subnet = ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": [f"{REGION}b"]},
                                           {"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
    address = str(ipaddress.ip_network(subnet["CidrBlock"])[99])
    r = run(ec2, ami, KeyName="opts-key", SubnetId=subnet["SubnetId"], PrivateIpAddress=address,
            IamInstanceProfile={"Name": "ec2-web"}, UserData="#!/bin/bash\nyum install -y nginx\n",
            DisableApiTermination=True, Monitoring={"Enabled": True},
            MetadataOptions={"HttpTokens": "optional", "HttpPutResponseHopLimit": 3},
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp2"}},
                                 {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 5, "DeleteOnTermination": False}}],
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "opts"}]},
                               {"ResourceType": "volume", "Tags": [{"Key": "team", "Value": "web"}]}])
    instance = r["Instances"][0]
    iid = instance["InstanceId"]
    assert instance["KeyName"] == "opts-key" and instance["PrivateIpAddress"] == address
    assert instance["Placement"]["AvailabilityZone"] == f"{REGION}b"
    assert instance["IamInstanceProfile"] == {"Arn": profile["Arn"], "Id": profile["InstanceProfileId"]}
    assert instance["Monitoring"]["State"] == "enabled"
    assert instance["MetadataOptions"]["HttpTokens"] == "optional"
    assert instance["MetadataOptions"]["HttpPutResponseHopLimit"] == 3
    assert {t["Key"]: t["Value"] for t in instance["Tags"]} == {"Name": "opts"}
    volumes = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["Volumes"]
    by_device = {v["Attachments"][0]["Device"]: v for v in volumes}
    assert by_device["/dev/xvda"]["Size"] == 20 and by_device["/dev/xvda"]["VolumeType"] == "gp2"
    assert by_device["/dev/xvda"]["Iops"] == 100 and by_device["/dev/xvda"]["Attachments"][0]["DeleteOnTermination"]
    assert by_device["/dev/sdf"]["Size"] == 5 and not by_device["/dev/sdf"]["Attachments"][0]["DeleteOnTermination"]
    assert all({"Key": "team", "Value": "web"} in v["Tags"] for v in volumes)
    user_data = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")["UserData"]["Value"]
    assert base64.b64decode(user_data).decode() == "#!/bin/bash\nyum install -y nginx\n"
    with pytest.raises(ClientError) as e:
        run(ec2, ami, SubnetId=subnet["SubnetId"], PrivateIpAddress=address)
    assert _error(e) == ("InvalidIPAddress.InUse", f"Address {address} is in use.")
    # Termination protection, then termination: the root volume goes, the kept one stays.
    with pytest.raises(ClientError) as e:
        ec2.terminate_instances(InstanceIds=[iid])
    assert _error(e) == ("OperationNotPermitted", f"The instance '{iid}' may not be terminated. Modify its"
                                                  " 'disableApiTermination' instance attribute and try again.")
    ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": False})
    ec2.terminate_instances(InstanceIds=[iid])
    settle(endpoint)
    gone = ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [v["VolumeId"] for v in volumes]}])["Volumes"]
    assert [v["VolumeId"] for v in gone] == [by_device["/dev/sdf"]["VolumeId"]]
    assert gone[0]["State"] == "available" and gone[0]["Attachments"] == []
    ec2.delete_volume(VolumeId=gone[0]["VolumeId"])


def test_client_token_is_idempotent(ec2, ami):
    first = run(ec2, ami, ClientToken="launch-once-1")
    again = run(ec2, ami, ClientToken="launch-once-1")
    assert again["ReservationId"] == first["ReservationId"]
    assert [i["InstanceId"] for i in again["Instances"]] == [i["InstanceId"] for i in first["Instances"]]
    ec2.terminate_instances(InstanceIds=[first["Instances"][0]["InstanceId"]])


def test_resolve_ssm_image_and_credit_defaults(ec2, endpoint):
    r = ec2.run_instances(ImageId="resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
                          InstanceType="t2.micro", MinCount=1, MaxCount=1)
    t2 = r["Instances"][0]["InstanceId"]
    r = ec2.run_instances(ImageId=r["Instances"][0]["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                          CreditSpecification={"CpuCredits": "standard"})
    t3 = r["Instances"][0]["InstanceId"]
    specs = {s["InstanceId"]: s["CpuCredits"] for s in ec2.describe_instance_credit_specifications(
        InstanceIds=[t2, t3])["InstanceCreditSpecifications"]}
    assert specs == {t2: "standard", t3: "standard"}
    out = ec2.modify_instance_credit_specification(InstanceCreditSpecifications=[
        {"InstanceId": t3, "CpuCredits": "unlimited"}])
    assert out["SuccessfulInstanceCreditSpecifications"] == [{"InstanceId": t3}]
    assert ec2.describe_instance_credit_specifications(InstanceIds=[t3])["InstanceCreditSpecifications"][0][
        "CpuCredits"] == "unlimited"
    ec2.terminate_instances(InstanceIds=[t2, t3])


# ---- the state machine ----------------------------------------------------------------------

def test_stop_start_terminate(ec2, ami, endpoint):
    iid = run(ec2, ami)["Instances"][0]["InstanceId"]
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[iid])
    assert _error(e) == ("IncorrectInstanceState",
                         f"Instance '{iid}' cannot be stopped as it has never reached the 'running' state.")
    settle(endpoint)
    first_ip = describe(ec2, iid)["PublicIpAddress"]
    out = ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"][0]
    assert out == {"InstanceId": iid, "CurrentState": {"Code": 64, "Name": "stopping"},
                   "PreviousState": {"Code": 16, "Name": "running"}}
    with pytest.raises(ClientError) as e:
        ec2.start_instances(InstanceIds=[iid])
    assert _error(e) == ("IncorrectInstanceState",
                         f"The instance '{iid}' is not in a state from which it can be started.")
    settle(endpoint)
    stopped = describe(ec2, iid)
    assert stopped["State"]["Name"] == "stopped"
    assert stopped["StateReason"] == {"Code": "Client.UserInitiatedShutdown",
                                      "Message": "Client.UserInitiatedShutdown: User initiated shutdown"}
    assert stopped["StateTransitionReason"].startswith("User initiated (") and \
        stopped["StateTransitionReason"].endswith(" GMT)")
    assert "PublicIpAddress" not in stopped and stopped["PublicDnsName"] == ""
    # Stopping a stopped instance changes nothing.
    again = ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"][0]
    assert again["CurrentState"]["Name"] == again["PreviousState"]["Name"] == "stopped"
    started = ec2.start_instances(InstanceIds=[iid])["StartingInstances"][0]
    assert started["CurrentState"] == {"Code": 0, "Name": "pending"}
    assert started["PreviousState"] == {"Code": 80, "Name": "stopped"}
    settle(endpoint)
    running = describe(ec2, iid)
    assert running["State"]["Name"] == "running" and running["PublicIpAddress"] != first_ip
    ec2.reboot_instances(InstanceIds=[iid])
    out = ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"][0]
    assert out["CurrentState"] == {"Code": 32, "Name": "shutting-down"}
    settle(endpoint)
    gone = describe(ec2, iid)
    assert gone["State"] == {"Code": 48, "Name": "terminated"}
    assert gone["NetworkInterfaces"] == [] and gone["BlockDeviceMappings"] == []
    for call in (ec2.start_instances, ec2.stop_instances, ec2.reboot_instances):
        with pytest.raises(ClientError) as e:
            call(InstanceIds=[iid])
        assert _error(e)[0] == "IncorrectInstanceState"
    again = ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"][0]
    assert again["CurrentState"]["Name"] == again["PreviousState"]["Name"] == "terminated"
    # A terminated instance stays visible for about an hour, then is gone.
    settle(endpoint, 3700)
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=[iid])
    assert _error(e) == ("InvalidInstanceID.NotFound", f"The instance ID '{iid}' does not exist")


def test_stop_protection_and_hibernate(ec2, ami, endpoint):
    iid = run(ec2, ami, DisableApiStop=True)["Instances"][0]["InstanceId"]
    settle(endpoint)
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[iid])
    assert _error(e)[0] == "OperationNotPermitted"
    ec2.modify_instance_attribute(InstanceId=iid, DisableApiStop={"Value": False})
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=[iid], Hibernate=True)
    assert _error(e)[0] == "UnsupportedHibernationConfiguration"
    assert ec2.stop_instances(InstanceIds=[iid], Force=True)["StoppingInstances"][0]["CurrentState"]["Name"] == \
        "stopping"
    ec2.terminate_instances(InstanceIds=[iid])


def test_unknown_and_malformed_ids(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=["i-0123456789abcdef0"])
    assert _error(e) == ("InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist")
    with pytest.raises(ClientError) as e:
        ec2.stop_instances(InstanceIds=["i-0123456789abcdef0", "i-0123456789abcdef1"])
    assert _error(e) == ("InvalidInstanceID.NotFound",
                         "The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist")
    with pytest.raises(ClientError) as e:
        ec2.terminate_instances(InstanceIds=["web-server"])
    assert _error(e)[0] == "InvalidInstanceID.Malformed"


# ---- attributes -----------------------------------------------------------------------------

def test_modify_instance_type_only_when_stopped(ec2, ami, endpoint):
    iid = run(ec2, ami, InstanceType="t2.micro")["Instances"][0]["InstanceId"]
    settle(endpoint)
    with pytest.raises(ClientError) as e:
        ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t2.small"})
    assert _error(e) == ("IncorrectInstanceState", f"The instance '{iid}' is not in the 'stopped' state.")
    with pytest.raises(ClientError) as e:
        ec2.modify_instance_attribute(InstanceId=iid, UserData={"Value": b"echo hi"})
    assert _error(e)[0] == "IncorrectInstanceState"
    ec2.stop_instances(InstanceIds=[iid])
    settle(endpoint)
    ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t2.small"})
    with pytest.raises(ClientError) as e:
        ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t4g.small"})
    assert _error(e)[0] == "InvalidParameterValue"
    ec2.modify_instance_attribute(InstanceId=iid, UserData={"Value": b"#!/bin/sh\necho changed\n"})
    ec2.modify_instance_attribute(InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior", Value="terminate")
    attr = ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceType")
    assert attr["InstanceType"] == {"Value": "t2.small"}
    data = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")["UserData"]["Value"]
    assert base64.b64decode(data) == b"#!/bin/sh\necho changed\n"
    assert ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior")[
        "InstanceInitiatedShutdownBehavior"] == {"Value": "terminate"}
    assert ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")[
        "DisableApiTermination"] == {"Value": False}
    group = ec2.create_security_group(GroupName="attr-web", Description="web")["GroupId"]
    ec2.modify_instance_attribute(InstanceId=iid, Groups=[group])
    assert ec2.describe_instance_attribute(InstanceId=iid, Attribute="groupSet")["Groups"][0]["GroupId"] == group
    ec2.modify_instance_attribute(InstanceId=iid, SourceDestCheck={"Value": False})
    assert describe(ec2, iid)["SourceDestCheck"] is False
    ec2.start_instances(InstanceIds=[iid])
    settle(endpoint)
    assert describe(ec2, iid)["InstanceType"] == "t2.small"
    ec2.terminate_instances(InstanceIds=[iid])


def test_metadata_options_and_monitoring(ec2, ami, endpoint):
    iid = run(ec2, ami)["Instances"][0]["InstanceId"]
    out = ec2.modify_instance_metadata_options(InstanceId=iid, HttpTokens="optional", HttpPutResponseHopLimit=5)
    assert out["InstanceMetadataOptions"]["State"] == "pending"
    assert out["InstanceMetadataOptions"]["HttpTokens"] == "optional"
    with pytest.raises(ClientError) as e:
        ec2.modify_instance_metadata_options(InstanceId=iid, HttpPutResponseHopLimit=99)
    assert _error(e)[0] == "InvalidParameterValue"
    assert ec2.monitor_instances(InstanceIds=[iid])["InstanceMonitorings"][0]["Monitoring"]["State"] == "pending"
    settle(endpoint)
    got = describe(ec2, iid)
    assert got["Monitoring"]["State"] == "enabled" and got["MetadataOptions"]["HttpPutResponseHopLimit"] == 5
    ec2.unmonitor_instances(InstanceIds=[iid])
    assert describe(ec2, iid)["Monitoring"]["State"] == "disabled"
    ec2.terminate_instances(InstanceIds=[iid])


def test_instance_status_and_console_output(ec2, ami, endpoint):
    iid = run(ec2, ami, UserData="#!/bin/bash\necho hello-from-user-data\n")["Instances"][0]["InstanceId"]
    assert ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"] == []
    everything = ec2.describe_instance_status(InstanceIds=[iid], IncludeAllInstances=True)["InstanceStatuses"]
    assert everything[0]["InstanceState"]["Name"] == "pending"
    settle(endpoint, 1.2)
    status = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"]
    if status:  # between running and the status checks passing
        assert status[0]["InstanceStatus"]["Status"] in ("initializing", "ok")
    settle(endpoint)
    status = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"][0]
    assert status["InstanceStatus"] == {"Status": "ok", "Details": [{"Name": "reachability", "Status": "passed"}]}
    assert status["SystemStatus"]["Status"] == "ok"
    assert ec2.describe_instance_status(Filters=[{"Name": "instance-status.status", "Values": ["ok"]}],
                                        InstanceIds=[iid])["InstanceStatuses"]
    output = ec2.get_console_output(InstanceId=iid)["Output"]
    assert "echo hello-from-user-data" in output and "Cloud-init" in output
    ec2.terminate_instances(InstanceIds=[iid])


# ---- DescribeInstances ----------------------------------------------------------------------

def test_describe_filters_and_pages(ec2, ami, endpoint):
    ec2.create_key_pair(KeyName="filter-key")
    a = run(ec2, ami, KeyName="filter-key", TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "db"}]}])["Instances"][0]
    b = run(ec2, ami, InstanceType="t3.small", Placement={"AvailabilityZone": f"{REGION}c"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "web"}]}])["Instances"][0]
    settle(endpoint)

    def ids(*filters):
        out = ec2.describe_instances(Filters=list(filters))["Reservations"]
        return {i["InstanceId"] for r in out for i in r["Instances"]} & {a["InstanceId"], b["InstanceId"]}

    both = {a["InstanceId"], b["InstanceId"]}
    assert ids({"Name": "instance-id", "Values": [a["InstanceId"]]}) == {a["InstanceId"]}
    assert ids({"Name": "instance-state-name", "Values": ["running"]}) == both
    assert ids({"Name": "instance-state-code", "Values": ["16"]}) == both
    assert ids({"Name": "instance-type", "Values": ["t3.small"]}) == {b["InstanceId"]}
    assert ids({"Name": "image-id", "Values": [ami["ImageId"]]}) == both
    assert ids({"Name": "key-name", "Values": ["filter-key"]}) == {a["InstanceId"]}
    assert ids({"Name": "availability-zone", "Values": [f"{REGION}c"]}) == {b["InstanceId"]}
    assert ids({"Name": "vpc-id", "Values": [a["VpcId"]]}) == both
    assert ids({"Name": "subnet-id", "Values": [b["SubnetId"]]}) == {b["InstanceId"]}
    assert ids({"Name": "private-ip-address", "Values": [a["PrivateIpAddress"]]}) == {a["InstanceId"]}
    assert ids({"Name": "private-dns-name", "Values": [b["PrivateDnsName"]]}) == {b["InstanceId"]}
    assert ids({"Name": "ip-address", "Values": [describe(ec2, a["InstanceId"])["PublicIpAddress"]]}) == \
        {a["InstanceId"]}
    assert ids({"Name": "dns-name", "Values": ["ec2-*"]}) == both
    assert ids({"Name": "tag:role", "Values": ["web"]}) == {b["InstanceId"]}
    assert ids({"Name": "tag-key", "Values": ["role"]}) == both
    assert ids({"Name": "instance.group-id", "Values": [a["SecurityGroups"][0]["GroupId"]]}) == both
    assert ids({"Name": "network-interface.network-interface-id",
                "Values": [a["NetworkInterfaces"][0]["NetworkInterfaceId"]]}) == {a["InstanceId"]}
    assert ids({"Name": "network-interface.addresses.private-ip-address", "Values": [b["PrivateIpAddress"]]}) == \
        {b["InstanceId"]}
    assert ids({"Name": "launch-time", "Values": [a["LaunchTime"].strftime("%Y-%m-%d") + "*"]}) == both
    assert ids({"Name": "architecture", "Values": ["x86_64"]}) == both
    assert ids({"Name": "root-device-type", "Values": ["ebs"]}) == both
    assert ids({"Name": "block-device-mapping.device-name", "Values": ["/dev/xvda"]}) == both
    assert ids({"Name": "reservation-id", "Values": [a["InstanceId"] and
                                                     ec2.describe_instances(InstanceIds=[a["InstanceId"]])[
                                                         "Reservations"][0]["ReservationId"]]}) == {a["InstanceId"]}
    assert ids({"Name": "tag:role", "Values": ["db"]}, {"Name": "instance-type", "Values": ["t3.small"]}) == set()
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(Filters=[{"Name": "colour", "Values": ["red"]}])
    assert _error(e) == ("InvalidParameterValue", "The filter 'colour' is invalid")
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(InstanceIds=[a["InstanceId"]], MaxResults=5)
    assert _error(e)[0] == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        ec2.describe_instances(MaxResults=2)
    assert _error(e)[0] == "InvalidParameterValue"
    # Pages of 5 cover everything once.
    seen, token = [], None
    while True:
        page = ec2.describe_instances(MaxResults=5, **({"NextToken": token} if token else {}))
        seen += [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]
        token = page.get("NextToken")
        if not token:
            break
    everything = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert sorted(seen) == sorted(everything) and len(seen) == len(set(seen))
    ec2.terminate_instances(InstanceIds=list(both))


# ---- events ---------------------------------------------------------------------------------

def test_terminated_network_interfaces_are_released(ec2, ami, endpoint):
    r = run(ec2, ami)["Instances"][0]
    eni = r["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.terminate_instances(InstanceIds=[r["InstanceId"]])
    settle(endpoint)
    with pytest.raises(ClientError) as e:
        ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])
    assert _error(e)[0] == "InvalidNetworkInterfaceID.NotFound"


# ---- the vCPU quota -------------------------------------------------------------------------

def test_vcpu_quota(make_client, ami, endpoint):
    ec2 = make_client("ec2", REGION)
    terminate_all(ec2, endpoint)
    # 32 vCPUs: 8 t3.xlarge (4 vCPUs each) fit, a ninth does not.
    ok = ec2.run_instances(ImageId=ami["ImageId"], InstanceType="t3.xlarge", MinCount=8, MaxCount=8)
    with pytest.raises(ClientError) as e:
        ec2.run_instances(ImageId=ami["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1)
    assert _error(e) == ("VcpuLimitExceeded",
                         "You have requested more vCPU capacity than your current vCPU limit of 32 allows for the"
                         " instance bucket that the specified instance type belongs to. Please visit"
                         " http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.")
    ids = [i["InstanceId"] for i in ok["Instances"]]
    ec2.terminate_instances(InstanceIds=ids)
    settle(endpoint)
    # MaxCount launches as many as fit when MinCount does.
    some = ec2.run_instances(ImageId=ami["ImageId"], InstanceType="t3.xlarge", MinCount=1, MaxCount=20)
    assert len(some["Instances"]) == 8
    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in some["Instances"]])
    settle(endpoint)


def test_create_image_of_an_instance(ec2, ami, endpoint):
    iid = run(ec2, ami, BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 3}}])[
        "Instances"][0]["InstanceId"]
    settle(endpoint)
    image_id = ec2.create_image(InstanceId=iid, Name="web-golden", Description="golden",
                                TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "k", "Value": "v"}]}])[
        "ImageId"]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["Name"] == "web-golden" and image["OwnerId"] == "000000000000"
    devices = {m["DeviceName"]: m["Ebs"] for m in image["BlockDeviceMappings"]}
    assert devices["/dev/xvda"]["VolumeSize"] == 8 and devices["/dev/sdf"]["VolumeSize"] == 3
    snapshot = ec2.describe_snapshots(SnapshotIds=[devices["/dev/xvda"]["SnapshotId"]])["Snapshots"][0]
    assert image_id in snapshot["Description"]
    with pytest.raises(ClientError) as e:
        ec2.delete_snapshot(SnapshotId=snapshot["SnapshotId"])
    assert _error(e)[0] == "InvalidSnapshot.InUse"
    with pytest.raises(ClientError) as e:
        ec2.create_image(InstanceId=iid, Name="web-golden")
    assert _error(e)[0] == "InvalidAMIName.Duplicate"
    clone = run(ec2, {"ImageId": image_id})["Instances"][0]
    assert clone["ImageId"] == image_id and len(clone["BlockDeviceMappings"]) == 2
    ec2.terminate_instances(InstanceIds=[iid, clone["InstanceId"]])
