"""The default VPC AWS gives every account in every region, made on first use.

172.31.0.0/16 with a /20 default subnet per Availability Zone (public IPs on launch), an
attached internet gateway, a main route table with the local route and 0.0.0.0/0 to the
gateway, the default security group (all traffic from itself in, everything out), the
default network ACL (rule 100 allows all, `*` denies) and the region's DHCP options.

Security group rules are resources of their own (kind "security-group-rule", the
SecurityGroupRule shape); a group's IpPermissions are assembled from them when described.
"""

from __future__ import annotations

import ipaddress

from gureum.services.ec2.regions import zones
from gureum.services.ec2.store import Resources, Scope, new_id

CIDR = "172.31.0.0/16"


def domain_name(region: str) -> str:
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


def ensure(resources: Resources, scope: Scope) -> None:
    """Create the default VPC once per account and region (inside the caller's transaction)."""
    settings = resources.settings(scope) or {}
    if "DefaultVpcId" in settings:
        return
    settings["DefaultVpcId"] = create(resources, scope)
    resources.save_settings(scope, settings)


def create(resources: Resources, scope: Scope) -> str:
    account, region = scope.account_id, scope.region
    dopt = new_id("dopt")
    resources.insert(scope, "dhcp-options", dopt, {
        "DhcpOptionsId": dopt, "OwnerId": account,
        "DhcpConfigurations": [
            {"Key": "domain-name", "Values": [{"Value": domain_name(region)}]},
            {"Key": "domain-name-servers", "Values": [{"Value": "AmazonProvidedDNS"}]},
        ],
    })
    vpc = new_id("vpc")
    resources.insert(scope, "vpc", vpc, {
        "VpcId": vpc, "OwnerId": account, "State": "available", "CidrBlock": CIDR,
        "DhcpOptionsId": dopt, "InstanceTenancy": "default", "IsDefault": True,
        "CidrBlockAssociationSet": [{"AssociationId": new_id("vpc-cidr-assoc"), "CidrBlock": CIDR,
                                     "CidrBlockState": {"State": "associated"}}],
        "Ipv6CidrBlockAssociationSet": [],
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
    })
    igw = new_id("igw")
    resources.insert(scope, "internet-gateway", igw, {
        "InternetGatewayId": igw, "OwnerId": account, "Attachments": [{"State": "available", "VpcId": vpc}],
    })
    subnets = ipaddress.ip_network(CIDR).subnets(new_prefix=20)
    subnet_ids = []
    for zone, block in zip(zones(region), subnets):
        subnet = new_id("subnet")
        subnet_ids.append(subnet)
        resources.insert(scope, "subnet", subnet, subnet_doc(
            scope, subnet, vpc, str(block), zone, default_for_az=True, map_public_ip=True))
    rtb = new_id("rtb")
    resources.insert(scope, "route-table", rtb, {
        "RouteTableId": rtb, "VpcId": vpc, "OwnerId": account, "PropagatingVgws": [],
        "Routes": [
            {"DestinationCidrBlock": CIDR, "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"},
            {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "Origin": "CreateRoute", "State": "active"},
        ],
        "Associations": [{"Main": True, "RouteTableAssociationId": new_id("rtbassoc"), "RouteTableId": rtb,
                          "AssociationState": {"State": "associated"}}],
    })
    create_default_security_group(resources, scope, vpc)
    acl = new_id("acl")
    resources.insert(scope, "network-acl", acl, {
        "NetworkAclId": acl, "VpcId": vpc, "OwnerId": account, "IsDefault": True,
        "Entries": default_acl_entries(),
        "Associations": [{"NetworkAclAssociationId": new_id("aclassoc"), "NetworkAclId": acl, "SubnetId": s}
                         for s in subnet_ids],
    })
    return vpc


def subnet_doc(scope: Scope, subnet_id: str, vpc_id: str, cidr: str, zone: dict, *,
               default_for_az: bool = False, map_public_ip: bool = False) -> dict:
    network = ipaddress.ip_network(cidr)
    return {
        "SubnetId": subnet_id, "VpcId": vpc_id, "OwnerId": scope.account_id, "State": "available",
        "CidrBlock": cidr, "AvailabilityZone": zone["ZoneName"], "AvailabilityZoneId": zone["ZoneId"],
        # AWS reserves five addresses of every subnet.
        "AvailableIpAddressCount": network.num_addresses - 5,
        "DefaultForAz": default_for_az, "MapPublicIpOnLaunch": map_public_ip,
        "MapCustomerOwnedIpOnLaunch": False, "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [], "EnableDns64": False, "Ipv6Native": False,
        "SubnetArn": f"arn:aws:ec2:{scope.region}:{scope.account_id}:subnet/{subnet_id}",
        "PrivateDnsNameOptionsOnLaunch": {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
                                          "EnableResourceNameDnsAAAARecord": False},
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
    }


def default_acl_entries() -> list[dict]:
    return [
        {"CidrBlock": "0.0.0.0/0", "Egress": egress, "Protocol": "-1", "RuleAction": action, "RuleNumber": number}
        for egress in (True, False) for number, action in ((100, "allow"), (32767, "deny"))
    ]


def create_default_security_group(resources: Resources, scope: Scope, vpc_id: str) -> str:
    """A VPC's `default` group: all traffic from members of itself, everything out."""
    sg = new_id("sg")
    resources.insert(scope, "security-group", sg, {
        "GroupId": sg, "GroupName": "default", "Description": "default VPC security group", "VpcId": vpc_id,
        "OwnerId": scope.account_id,
        "SecurityGroupArn": f"arn:aws:ec2:{scope.region}:{scope.account_id}:security-group/{sg}",
    })
    for egress, target in ((False, {"ReferencedGroupInfo": {"GroupId": sg, "UserId": scope.account_id}}),
                           (True, {"CidrIpv4": "0.0.0.0/0"})):
        rule = new_id("sgr")
        resources.insert(scope, "security-group-rule", rule, {
            "SecurityGroupRuleId": rule, "GroupId": sg, "GroupOwnerId": scope.account_id, "IsEgress": egress,
            "IpProtocol": "-1", "FromPort": -1, "ToPort": -1, **target,
            "SecurityGroupRuleArn": f"arn:aws:ec2:{scope.region}:{scope.account_id}:security-group-rule/{rule}",
        })
    return sg
