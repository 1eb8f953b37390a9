"""Elastic IPs and network interfaces: allocation limits, association, release, private addresses."""

from __future__ import annotations

import ipaddress
import time

import pytest
from botocore.exceptions import ClientError

from tests.helpers import internal_call


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"]


@pytest.fixture(scope="module")
def ec2(make_client):
    return make_client("ec2", "ap-southeast-2")


@pytest.fixture(scope="module")
def subnet(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    return ec2.create_subnet(VpcId=vpc, CidrBlock="10.60.1.0/28", AvailabilityZone="ap-southeast-2a")["Subnet"]


def test_allocate_until_the_limit(make_client):
    ec2 = make_client("ec2", "ap-south-1")
    allocated = [ec2.allocate_address(Domain="vpc") for _ in range(5)]
    for a in allocated:
        assert a["AllocationId"].startswith("eipalloc-") and a["Domain"] == "vpc"
        assert a["NetworkBorderGroup"] == "ap-south-1" and a["PublicIpv4Pool"] == "amazon"
        assert ipaddress.ip_address(a["PublicIp"]).is_global
    assert len({a["PublicIp"] for a in allocated}) == 5
    with pytest.raises(ClientError) as e:
        ec2.allocate_address(Domain="vpc")
    assert _error(e) == ("AddressLimitExceeded", "The maximum number of addresses has been reached.")
    ec2.release_address(AllocationId=allocated[0]["AllocationId"])
    again = ec2.allocate_address(Domain="vpc", TagSpecifications=[
        {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "pinned"}]}])
    found = ec2.describe_addresses(Filters=[{"Name": "tag:Name", "Values": ["pinned"]}])["Addresses"]
    assert [a["AllocationId"] for a in found] == [again["AllocationId"]]
    assert len(ec2.describe_addresses()["Addresses"]) == 5
    assert ec2.describe_addresses(PublicIps=[again["PublicIp"]])["Addresses"][0]["AllocationId"] == \
        again["AllocationId"]
    with pytest.raises(ClientError) as e:
        ec2.release_address(AllocationId=allocated[0]["AllocationId"])
    assert _error(e) == ("InvalidAllocationID.NotFound",
                         f"The allocation ID '{allocated[0]['AllocationId']}' does not exist")
    with pytest.raises(ClientError) as e:
        ec2.describe_addresses(PublicIps=["192.0.2.1"])
    assert _error(e)[0] == "InvalidAddress.NotFound"
    for a in ec2.describe_addresses()["Addresses"]:
        ec2.release_address(AllocationId=a["AllocationId"])


def test_an_approved_increase_raises_the_limit(endpoint, make_client):
    created = internal_call(endpoint, "POST", "/_gureum/accounts", {})
    keys = {"access_key": created["access_key_id"], "secret_key": created["secret_access_key"]}
    ec2 = make_client("ec2", "eu-west-2", **keys)
    for _ in range(5):
        ec2.allocate_address(Domain="vpc")
    with pytest.raises(ClientError) as e:
        ec2.allocate_address(Domain="vpc")
    assert _error(e)[0] == "AddressLimitExceeded"
    quotas = make_client("service-quotas", "eu-west-2", **keys)
    quotas.request_service_quota_increase(ServiceCode="ec2", QuotaCode="L-0263D0A3", DesiredValue=6)
    assert quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-0263D0A3")["Quota"]["Value"] == 6
    ec2.allocate_address(Domain="vpc")
    with pytest.raises(ClientError) as e:
        ec2.allocate_address(Domain="vpc")
    assert _error(e)[0] == "AddressLimitExceeded"


def test_network_interface_lifecycle(ec2, subnet):
    sid = subnet["SubnetId"]
    assert subnet["AvailableIpAddressCount"] == 11
    eni = ec2.create_network_interface(SubnetId=sid, Description="app", PrivateIpAddress="10.60.1.9",
                                       TagSpecifications=[{"ResourceType": "network-interface",
                                                           "Tags": [{"Key": "role", "Value": "app"}]}])
    eni = eni["NetworkInterface"]
    eni_id = eni["NetworkInterfaceId"]
    assert eni["PrivateIpAddress"] == "10.60.1.9" and eni["Status"] == "available"
    assert eni["PrivateDnsName"] == "ip-10-60-1-9.ap-southeast-2.compute.internal"
    assert eni["InterfaceType"] == "interface" and eni["Groups"][0]["GroupName"] == "default"
    assert eni["TagSet"] == [{"Key": "role", "Value": "app"}]
    with pytest.raises(ClientError) as e:
        ec2.create_network_interface(SubnetId=sid, PrivateIpAddress="10.60.1.9")
    assert _error(e) == ("InvalidIPAddress.InUse", "Address 10.60.1.9 is in use.")
    with pytest.raises(ClientError) as e:
        ec2.create_network_interface(SubnetId=sid, PrivateIpAddress="10.60.2.9")
    assert _error(e)[0] == "InvalidParameterValue"

    assigned = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, SecondaryPrivateIpAddressCount=2)
    assert [a["PrivateIpAddress"] for a in assigned["AssignedPrivateIpAddresses"]] == ["10.60.1.4", "10.60.1.5"]
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["AvailableIpAddressCount"] == 8
    found = ec2.describe_network_interfaces(Filters=[
        {"Name": "addresses.private-ip-address", "Values": ["10.60.1.5"]}])["NetworkInterfaces"]
    assert [n["NetworkInterfaceId"] for n in found] == [eni_id]
    assert found[0]["TagSet"] == [{"Key": "role", "Value": "app"}]
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=["10.60.1.4"])
    with pytest.raises(ClientError) as e:
        ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=["10.60.1.9"])
    assert _error(e)[0] == "InvalidParameterValue"
    addresses = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    assert [(a["PrivateIpAddress"], a["Primary"]) for a in addresses["PrivateIpAddresses"]] == \
        [("10.60.1.9", True), ("10.60.1.5", False)]

    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, SourceDestCheck={"Value": False})
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Description={"Value": "nat box"})
    assert ec2.describe_network_interface_attribute(NetworkInterfaceId=eni_id, Attribute="sourceDestCheck")[
        "SourceDestCheck"]["Value"] is False
    assert ec2.describe_network_interface_attribute(NetworkInterfaceId=eni_id, Attribute="description")[
        "Description"]["Value"] == "nat box"
    for name, value in (("subnet-id", sid), ("status", "available"), ("description", "nat*"),
                        ("private-ip-address", "10.60.1.9"), ("tag:role", "app")):
        found = ec2.describe_network_interfaces(Filters=[{"Name": name, "Values": [value]}])["NetworkInterfaces"]
        assert [n["NetworkInterfaceId"] for n in found] == [eni_id], name
    with pytest.raises(ClientError) as e:
        ec2.describe_network_interfaces(NetworkInterfaceIds=["eni-0123456789abcdef0"])
    assert _error(e) == ("InvalidNetworkInterfaceID.NotFound",
                         "The networkInterface ID 'eni-0123456789abcdef0' does not exist")
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["AvailableIpAddressCount"] == 11


def test_elastic_ip_on_an_interface(ec2, subnet):
    eni_id = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]["NetworkInterfaceId"]
    other = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]["NetworkInterfaceId"]
    address = ec2.allocate_address(Domain="vpc")
    assoc = ec2.associate_address(AllocationId=address["AllocationId"], NetworkInterfaceId=eni_id)["AssociationId"]
    assert assoc.startswith("eipassoc-")
    described = ec2.describe_addresses(AllocationIds=[address["AllocationId"]])["Addresses"][0]
    assert described["AssociationId"] == assoc and described["NetworkInterfaceId"] == eni_id
    assert described["PrivateIpAddress"] == ec2.describe_network_interfaces(
        NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]["PrivateIpAddress"]
    nic = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    assert nic["Association"]["PublicIp"] == address["PublicIp"]
    assert nic["Association"]["AllocationId"] == address["AllocationId"]
    octets = address["PublicIp"].replace(".", "-")
    assert nic["Association"]["PublicDnsName"] == f"ec2-{octets}.ap-southeast-2.compute.amazonaws.com"
    found = ec2.describe_network_interfaces(Filters=[{"Name": "association.public-ip",
                                                      "Values": [address["PublicIp"]]}])["NetworkInterfaces"]
    assert [n["NetworkInterfaceId"] for n in found] == [eni_id]

    with pytest.raises(ClientError) as e:
        ec2.associate_address(AllocationId=address["AllocationId"], NetworkInterfaceId=other)
    assert _error(e) == ("Resource.AlreadyAssociated",
                         f"resource {address['AllocationId']} is already associated with associate-id {assoc}")
    with pytest.raises(ClientError) as e:
        ec2.release_address(AllocationId=address["AllocationId"])
    assert _error(e) == ("InvalidIPAddress.InUse", f"Address {address['PublicIp']} is in use.")
    moved = ec2.associate_address(AllocationId=address["AllocationId"], NetworkInterfaceId=other,
                                  AllowReassociation=True)["AssociationId"]
    assert moved != assoc
    assert "Association" not in ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    with pytest.raises(ClientError) as e:
        ec2.disassociate_address(AssociationId=assoc)
    assert _error(e) == ("InvalidAssociationID.NotFound", f"The association ID '{assoc}' does not exist")
    assert ec2.describe_addresses(Filters=[{"Name": "network-interface-id", "Values": [other]}])["Addresses"][0][
        "AssociationId"] == moved
    # Deleting the interface lets go of the address, which stays allocated.
    ec2.delete_network_interface(NetworkInterfaceId=other)
    left = ec2.describe_addresses(AllocationIds=[address["AllocationId"]])["Addresses"][0]
    assert "AssociationId" not in left and "NetworkInterfaceId" not in left
    ec2.associate_address(AllocationId=address["AllocationId"], NetworkInterfaceId=eni_id)
    ec2.disassociate_address(PublicIp=address["PublicIp"])
    ec2.release_address(PublicIp=address["PublicIp"])
    ec2.delete_network_interface(NetworkInterfaceId=eni_id)
    with pytest.raises(ClientError) as e:
        ec2.associate_address(AllocationId="eipalloc-0123456789abcdef0", NetworkInterfaceId=eni_id)
    assert _error(e)[0] == "InvalidAllocationID.NotFound"


def test_elastic_ip_on_an_instance(make_client):
    ec2 = make_client("ec2", "ca-central-1")
    image = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]}])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, InstanceType="t2.micro", MinCount=1, MaxCount=1)["Instances"][0]
    iid = instance["InstanceId"]
    launched = instance.get("PublicIpAddress")
    assert launched and instance["PrivateIpAddress"].startswith("172.31.")
    assert instance["PrivateDnsName"] == f"ip-{instance['PrivateIpAddress'].replace('.', '-')}.ca-central-1.compute.internal"
    address = ec2.allocate_address(Domain="vpc")
    assoc = ec2.associate_address(AllocationId=address["AllocationId"], InstanceId=iid)["AssociationId"]
    described = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert described["PublicIpAddress"] == address["PublicIp"]
    assert described["PublicDnsName"] == f"ec2-{address['PublicIp'].replace('.', '-')}.ca-central-1.compute.amazonaws.com"
    row = ec2.describe_addresses(Filters=[{"Name": "instance-id", "Values": [iid]}])["Addresses"][0]
    assert (row["AllocationId"], row["AssociationId"]) == (address["AllocationId"], assoc)
    ec2.disassociate_address(AssociationId=assoc)
    after = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0].get("PublicIpAddress")
    assert after and after != address["PublicIp"]
    ec2.associate_address(AllocationId=address["AllocationId"], InstanceId=iid)
    ec2.terminate_instances(InstanceIds=[iid])
    # Still associated while shutting down; let go once terminated.
    deadline = time.time() + 20
    while ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] != "terminated":
        assert time.time() < deadline
        time.sleep(0.2)
    left = ec2.describe_addresses(AllocationIds=[address["AllocationId"]])["Addresses"][0]
    assert "AssociationId" not in left and "InstanceId" not in left
    ec2.release_address(AllocationId=address["AllocationId"])


def test_interfaces_on_an_instance(make_client):
    ec2 = make_client("ec2", "ca-central-1")
    image = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]}])["Images"][0]["ImageId"]
    vpc_id = ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.61.0.0/24", AvailabilityZone="ca-central-1a")["Subnet"]
    sid = subnet["SubnetId"]
    instance = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=sid,
                                 PrivateIpAddress="10.61.0.10")["Instances"][0]
    iid = instance["InstanceId"]
    assert instance["PrivateIpAddress"] == "10.61.0.10" and "PublicIpAddress" not in instance
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["AvailableIpAddressCount"] == 250
    primary = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])[
        "NetworkInterfaces"]
    assert len(primary) == 1 and primary[0]["Attachment"]["DeviceIndex"] == 0 and primary[0]["Status"] == "in-use"
    extra = ec2.create_network_interface(SubnetId=sid)["NetworkInterface"]["NetworkInterfaceId"]
    attachment = ec2.attach_network_interface(NetworkInterfaceId=extra, InstanceId=iid, DeviceIndex=1)["AttachmentId"]
    with pytest.raises(ClientError) as e:
        ec2.attach_network_interface(NetworkInterfaceId=extra, InstanceId=iid, DeviceIndex=2)
    assert _error(e) == ("InvalidNetworkInterface.InUse", f"Interface: [{extra}] in use.")
    with pytest.raises(ClientError) as e:
        ec2.delete_network_interface(NetworkInterfaceId=extra)
    assert _error(e) == ("InvalidParameterValue", f"Network interface '{extra}' is currently in use.")
    described = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert [n["Attachment"]["DeviceIndex"] for n in described["NetworkInterfaces"]] == [0, 1]
    with pytest.raises(ClientError) as e:
        ec2.detach_network_interface(AttachmentId=primary[0]["Attachment"]["AttachmentId"])
    assert _error(e)[0] == "OperationNotPermitted"
    ec2.detach_network_interface(AttachmentId=attachment)
    assert ec2.describe_network_interfaces(NetworkInterfaceIds=[extra])["NetworkInterfaces"][0]["Status"] == "available"
    # A route to the instance names its primary interface.
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", InstanceId=iid)
    route = next(r for r in ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
                 if r.get("InstanceId"))
    assert route["NetworkInterfaceId"] == primary[0]["NetworkInterfaceId"] and route["State"] == "active"
    ec2.delete_network_interface(NetworkInterfaceId=extra)
