"""VPCs and subnets: the default VPC, CIDR validation, dependencies, attributes, filters."""

from __future__ import annotations

import ipaddress
import json

import pytest
from botocore.exceptions import ClientError


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"]


def test_first_describe_shows_the_default_vpc(make_client):
    ec2 = make_client("ec2", "ap-northeast-2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert len(vpcs) == 1
    vpc = vpcs[0]
    assert vpc["CidrBlock"] == "172.31.0.0/16" and vpc["IsDefault"] and vpc["State"] == "available"
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == [f"ap-northeast-2{z}" for z in "abcd"]
    assert all(s["DefaultForAz"] and s["MapPublicIpOnLaunch"] and s["AvailableIpAddressCount"] == 4091
               for s in subnets)
    assert sorted(s["CidrBlock"] for s in subnets) == ["172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20",
                                                       "172.31.48.0/20"]
    for attribute, key in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)[key]["Value"] is True
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == ["default"]
    igws = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]
    assert len(igws) == 1
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                                                {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    assert {r["DestinationCidrBlock"] for r in tables[0]["Routes"]} == {"172.31.0.0/16", "0.0.0.0/0"}


def test_create_vpc_makes_its_companions(make_client):
    ec2 = make_client("ec2", "eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16", AmazonProvidedIpv6CidrBlock=True,
                         TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "lab"}]}])["Vpc"]
    vpc_id = vpc["VpcId"]
    assert vpc["State"] == "pending" and vpc["InstanceTenancy"] == "default"
    assert vpc["Tags"] == [{"Key": "Name", "Value": "lab"}]
    described = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert described["State"] == "available" and described["IsDefault"] is False
    ipv6 = described["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    assert ipv6.endswith("/56")
    by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    tables = ec2.describe_route_tables(Filters=by_vpc)["RouteTables"]
    assert len(tables) == 1 and tables[0]["Associations"][0]["Main"] is True
    assert {r.get("DestinationCidrBlock") or r.get("DestinationIpv6CidrBlock") for r in tables[0]["Routes"]} == \
        {"10.10.0.0/16", ipv6}
    groups = ec2.describe_security_groups(Filters=by_vpc)["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == ["default"]
    acls = ec2.describe_network_acls(Filters=by_vpc)["NetworkAcls"]
    assert len(acls) == 1 and acls[0]["IsDefault"]
    assert described["DhcpOptionsId"].startswith("dopt-")
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] \
        is False
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["lab"]}])["Vpcs"]] == [vpc_id]
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.10.0.0/16"]}])["Vpcs"]] \
        == [vpc_id]
    ec2.delete_vpc(VpcId=vpc_id)
    assert ec2.describe_network_acls(Filters=by_vpc)["NetworkAcls"] == []
    assert ec2.describe_security_groups(Filters=by_vpc)["SecurityGroups"] == []


def test_vpc_cidr_validation(make_client):
    ec2 = make_client("ec2", "eu-west-1")
    for cidr in ("10.0.0.0/8", "10.0.0.0/29"):
        with pytest.raises(ClientError) as e:
            ec2.create_vpc(CidrBlock=cidr)
        assert _error(e) == ("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.")
    with pytest.raises(ClientError) as e:
        ec2.create_vpc(CidrBlock="10.0.0.0/33")
    assert _error(e)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(VpcIds=["vpc-0123456789abcdef0"])
    assert _error(e) == ("InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")


def test_secondary_cidr_blocks(make_client):
    ec2 = make_client("ec2", "eu-west-1")
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    assoc = ec2.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock="10.21.0.0/16")["CidrBlockAssociation"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "cidr-block-association.cidr-block", "Values": ["10.21.0.0/16"]}])["Vpcs"]
    assert [v["VpcId"] for v in vpc] == [vpc_id]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.21.1.0/24")["Subnet"]
    with pytest.raises(ClientError) as e:
        ec2.disassociate_vpc_cidr_block(AssociationId=assoc["AssociationId"])
    assert _error(e)[0] == "DependencyViolation"
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.disassociate_vpc_cidr_block(AssociationId=assoc["AssociationId"])
    primary = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["CidrBlockAssociationSet"]
    assert [a["CidrBlock"] for a in primary] == ["10.20.0.0/16"]
    with pytest.raises(ClientError) as e:
        ec2.disassociate_vpc_cidr_block(AssociationId=primary[0]["AssociationId"])
    assert _error(e)[0] == "OperationNotPermitted"
    ec2.delete_vpc(VpcId=vpc_id)


def test_subnets_validation_and_dependencies(make_client):
    ec2 = make_client("ec2", "eu-west-1")
    vpc_id = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.30.1.0/24", AvailabilityZone="eu-west-1b")["Subnet"]
    assert subnet["AvailabilityZone"] == "eu-west-1b" and subnet["AvailableIpAddressCount"] == 251
    assert subnet["MapPublicIpOnLaunch"] is False and subnet["DefaultForAz"] is False
    by_zone_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.30.2.0/24", AvailabilityZoneId="euw1-az3")["Subnet"]
    assert by_zone_id["AvailabilityZone"] == "eu-west-1c"
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.30.1.128/25")
    assert _error(e) == ("InvalidSubnet.Conflict", "The CIDR '10.30.1.128/25' conflicts with another subnet")
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.31.0.0/24")
    assert _error(e) == ("InvalidSubnet.Range", "The CIDR '10.31.0.0/24' is invalid.")
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.30.3.0/29")
    assert _error(e)[0] == "InvalidSubnet.Range"
    with pytest.raises(ClientError) as e:
        ec2.delete_vpc(VpcId=vpc_id)
    assert _error(e) == ("DependencyViolation", f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")

    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    found = ec2.describe_subnets(Filters=[{"Name": "map-public-ip-on-launch", "Values": ["true"]},
                                          {"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert [s["SubnetId"] for s in found] == [subnet["SubnetId"]]
    found = ec2.describe_subnets(Filters=[{"Name": "availability-zone-id", "Values": ["euw1-az3"]},
                                          {"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert [s["SubnetId"] for s in found] == [by_zone_id["SubnetId"]]

    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    assert eni["PrivateIpAddress"] == "10.30.1.4"
    assert ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"][0]["AvailableIpAddressCount"] == 250
    with pytest.raises(ClientError) as e:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    assert _error(e) == ("DependencyViolation",
                         f"The subnet '{subnet['SubnetId']}' has dependencies and cannot be deleted.")
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    for s in (subnet, by_zone_id):
        ec2.delete_subnet(SubnetId=s["SubnetId"])
    with pytest.raises(ClientError) as e:
        ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])
    assert _error(e)[0] == "InvalidSubnetID.NotFound"
    ec2.delete_vpc(VpcId=vpc_id)


def test_default_vpc_delete_and_recreate(make_client):
    ec2 = make_client("ec2", "sa-east-1")
    vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    with pytest.raises(ClientError) as e:
        ec2.create_default_vpc()
    assert _error(e) == ("DefaultVpcAlreadyExists", "A Default VPC already exists for this account in this region.")
    with pytest.raises(ClientError) as e:
        ec2.delete_vpc(VpcId=vpc_id)
    assert _error(e)[0] == "DependencyViolation"
    for subnet in ec2.describe_subnets()["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    igw = ec2.describe_internet_gateways()["InternetGateways"][0]["InternetGatewayId"]
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    ec2.delete_vpc(VpcId=vpc_id)
    assert ec2.describe_vpcs()["Vpcs"] == []
    with pytest.raises(ClientError) as e:
        ec2.create_default_subnet(AvailabilityZone="sa-east-1a")
    assert _error(e)[0] == "DefaultVpcDoesNotExist"
    new = ec2.create_default_vpc()["Vpc"]
    assert new["IsDefault"] and new["CidrBlock"] == "172.31.0.0/16"
    assert len(ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]) == 3
    with pytest.raises(ClientError) as e:
        ec2.create_default_subnet(AvailabilityZone="sa-east-1a")
    assert _error(e)[0] == "DefaultSubnetAlreadyExistsInAvailabilityZone"


def test_the_aws_cli_builds_a_public_subnet(aws_cli):
    def cli(*args):
        return json.loads(aws_cli("ec2", *args, "--region", "eu-west-3", "--output", "json", expect_ok=True)[1] or "{}")

    vpc_id = cli("create-vpc", "--cidr-block", "10.5.0.0/16")["Vpc"]["VpcId"]
    subnet_id = cli("create-subnet", "--vpc-id", vpc_id, "--cidr-block", "10.5.0.0/24")["Subnet"]["SubnetId"]
    cli("modify-subnet-attribute", "--subnet-id", subnet_id, "--map-public-ip-on-launch")
    igw = cli("create-internet-gateway")["InternetGateway"]["InternetGatewayId"]
    cli("attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc_id)
    rtb = cli("create-route-table", "--vpc-id", vpc_id)["RouteTable"]["RouteTableId"]
    assert cli("create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0",
               "--gateway-id", igw)["Return"] is True
    cli("associate-route-table", "--route-table-id", rtb, "--subnet-id", subnet_id)
    sg = cli("create-security-group", "--group-name", "ssh", "--description", "ssh in", "--vpc-id", vpc_id)["GroupId"]
    cli("authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "22",
        "--cidr", "0.0.0.0/0")
    perms = cli("describe-security-groups", "--group-ids", sg)["SecurityGroups"][0]["IpPermissions"]
    assert perms == [{"FromPort": 22, "IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
                      "PrefixListIds": [], "ToPort": 22, "UserIdGroupPairs": []}]
    subnets = cli("describe-subnets", "--filters", f"Name=vpc-id,Values={vpc_id}")["Subnets"]
    assert subnets[0]["MapPublicIpOnLaunch"] is True
    code, _, err = aws_cli("ec2", "delete-vpc", "--vpc-id", vpc_id, "--region", "eu-west-3")
    assert code != 0 and "DependencyViolation" in err


def test_egress_only_internet_gateway(make_client):
    ec2 = make_client("ec2", "eu-west-1")
    vpc_id = ec2.create_vpc(CidrBlock="10.33.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]["VpcId"]
    eigw = ec2.create_egress_only_internet_gateway(VpcId=vpc_id)["EgressOnlyInternetGateway"]
    eigw_id = eigw["EgressOnlyInternetGatewayId"]
    assert eigw_id.startswith("eigw-") and eigw["Attachments"] == [{"State": "attached", "VpcId": vpc_id}]
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationIpv6CidrBlock="::/0", EgressOnlyInternetGatewayId=eigw_id)
    with pytest.raises(ClientError) as e:
        ec2.delete_vpc(VpcId=vpc_id)
    assert _error(e)[0] == "DependencyViolation"
    assert ec2.delete_egress_only_internet_gateway(EgressOnlyInternetGatewayId=eigw_id)["ReturnCode"] is True
    route = next(r for r in ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
                 if r.get("DestinationIpv6CidrBlock") == "::/0")
    assert route["State"] == "blackhole"
    assert ec2.describe_egress_only_internet_gateways(Filters=[
        {"Name": "egress-only-internet-gateway-id", "Values": [eigw_id]}])["EgressOnlyInternetGateways"] == []
    ec2.delete_route_table(RouteTableId=rtb)
    ec2.delete_vpc(VpcId=vpc_id)


def test_permissions_and_dry_run(make_client):
    iam = make_client("iam")
    iam.create_user(UserName="vpc-reader")
    iam.put_user_policy(UserName="vpc-reader", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="vpc-reader")["AccessKey"]
    reader = make_client("ec2", "eu-west-1", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    assert reader.describe_vpcs()["Vpcs"]
    assert reader.describe_security_groups()["SecurityGroups"]
    for call, kwargs, action in ((reader.create_vpc, {"CidrBlock": "10.0.0.0/16"}, "ec2:CreateVpc"),
                                 (reader.allocate_address, {"Domain": "vpc"}, "ec2:AllocateAddress"),
                                 (reader.create_security_group, {"GroupName": "x", "Description": "x"},
                                  "ec2:CreateSecurityGroup")):
        with pytest.raises(ClientError) as e:
            call(**kwargs)
        code, message = _error(e)
        assert code == "UnauthorizedOperation" and action in message
    root = make_client("ec2", "eu-west-1")
    with pytest.raises(ClientError) as e:
        root.create_vpc(CidrBlock="10.0.0.0/16", DryRun=True)
    assert _error(e)[0] == "DryRunOperation"


def test_classic_link_is_off(make_client):
    ec2 = make_client("ec2", "eu-west-1")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    assert ec2.describe_vpc_classic_link(VpcIds=[vpc_id])["Vpcs"] == [{"VpcId": vpc_id, "ClassicLinkEnabled": False}]
    assert ec2.describe_vpc_classic_link_dns_support(VpcIds=[vpc_id])["Vpcs"] == [
        {"VpcId": vpc_id, "ClassicLinkDnsSupported": False}]


def test_account_attributes_name_the_default_vpc(make_client):
    ec2 = make_client("ec2", "eu-west-1")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    attributes = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
                  for a in ec2.describe_account_attributes()["AccountAttributes"]}
    assert attributes["default-vpc"] == [vpc_id] and attributes["supported-platforms"] == ["VPC"]
    assert attributes["vpc-max-elastic-ips"] == ["5"]
    only = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert [a["AttributeName"] for a in only] == ["default-vpc"]


def test_ipv6_subnet_blocks(make_client):
    ec2 = make_client("ec2", "eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.44.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = ipaddress.ip_network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    first, second = [str(b) for b in list(block.subnets(new_prefix=64))[:2]]
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.44.1.0/24", Ipv6CidrBlock=first)["Subnet"]
    assert subnet["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"] == first
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], AssignIpv6AddressOnCreation={"Value": True})
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"])["NetworkInterface"]
    assert len(eni["Ipv6Addresses"]) == 1
    assert ipaddress.ip_address(eni["Ipv6Addresses"][0]["Ipv6Address"]) in ipaddress.ip_network(first)
    assigned = ec2.assign_ipv6_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"], Ipv6AddressCount=2)
    assert len(assigned["AssignedIpv6Addresses"]) == 2
    found = ec2.describe_network_interfaces(Filters=[{"Name": "ipv6-addresses.ipv6-address",
                                                      "Values": [assigned["AssignedIpv6Addresses"][0]]}])
    assert [n["NetworkInterfaceId"] for n in found["NetworkInterfaces"]] == [eni["NetworkInterfaceId"]]
    ec2.unassign_ipv6_addresses(NetworkInterfaceId=eni["NetworkInterfaceId"],
                                Ipv6Addresses=assigned["AssignedIpv6Addresses"])
    assert len(ec2.describe_network_interfaces(NetworkInterfaceIds=[eni["NetworkInterfaceId"]])[
        "NetworkInterfaces"][0]["Ipv6Addresses"]) == 1
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.44.2.0/24", Ipv6CidrBlock=first)
    assert _error(e)[0] == "InvalidSubnet.Conflict"
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.44.2.0/24", Ipv6CidrBlock="2001:db8::/64")
    assert _error(e)[0] == "InvalidSubnet.Range"
    other = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.44.2.0/24")["Subnet"]["SubnetId"]
    with pytest.raises(ClientError) as e:
        ec2.modify_subnet_attribute(SubnetId=other, AssignIpv6AddressOnCreation={"Value": True})
    assert _error(e)[0] == "InvalidParameterValue"
    assoc = ec2.associate_subnet_cidr_block(SubnetId=other, Ipv6CidrBlock=second)["Ipv6CidrBlockAssociation"]
    found = ec2.describe_subnets(Filters=[{"Name": "ipv6-cidr-block-association.ipv6-cidr-block",
                                           "Values": [second]}])["Subnets"]
    assert [s["SubnetId"] for s in found] == [other]
    ec2.disassociate_subnet_cidr_block(AssociationId=assoc["AssociationId"])
    assert ec2.describe_subnets(SubnetIds=[other])["Subnets"][0]["Ipv6CidrBlockAssociationSet"] == []
