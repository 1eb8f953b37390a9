"""Security groups: creation rules, ingress/egress rules, duplicates, limits, dependencies, filters."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

REGION = "eu-central-1"


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"]


@pytest.fixture(scope="module")
def ec2(make_client):
    return make_client("ec2", REGION)


@pytest.fixture(scope="module")
def vpc_id(ec2):
    return ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]


def test_create_rules_and_default_vpc(ec2, vpc_id):
    created = ec2.create_security_group(GroupName="web", Description="web servers", VpcId=vpc_id,
                                        TagSpecifications=[{"ResourceType": "security-group",
                                                            "Tags": [{"Key": "tier", "Value": "web"}]}])
    gid = created["GroupId"]
    assert gid.startswith("sg-") and created["SecurityGroupArn"].endswith(f":security-group/{gid}")
    group = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    assert group["GroupName"] == "web" and group["VpcId"] == vpc_id and group["Tags"] == [{"Key": "tier",
                                                                                            "Value": "web"}]
    assert group["IpPermissions"] == []
    assert group["IpPermissionsEgress"] == [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                                             "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]
    with pytest.raises(ClientError) as e:
        ec2.create_security_group(GroupName="web", Description="again", VpcId=vpc_id)
    assert _error(e) == ("InvalidGroup.Duplicate", f"The security group 'web' already exists for VPC '{vpc_id}'")
    with pytest.raises(ClientError) as e:
        ec2.create_security_group(GroupName="default", Description="x", VpcId=vpc_id)
    assert _error(e)[0] == "InvalidGroup.Reserved"
    with pytest.raises(ClientError) as e:
        ec2.create_security_group(GroupName="sg-mine", Description="x", VpcId=vpc_id)
    assert _error(e) == ("InvalidParameterValue",
                         "Value (sg-mine) for parameter GroupName is invalid. Group names may not be in the format sg-*.")
    # Without VpcId the group goes to the default VPC, where names are looked up.
    other = ec2.create_security_group(GroupName="web", Description="default vpc web")["GroupId"]
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    by_name = ec2.describe_security_groups(GroupNames=["web"])["SecurityGroups"]
    assert [(g["GroupId"], g["VpcId"]) for g in by_name] == [(other, default_vpc)]
    with pytest.raises(ClientError) as e:
        ec2.describe_security_groups(GroupNames=["nothing-here"])
    assert _error(e) == ("InvalidGroup.NotFound",
                         f"The security group 'nothing-here' does not exist in default VPC '{default_vpc}'")
    ec2.delete_security_group(GroupName="web")
    with pytest.raises(ClientError) as e:
        ec2.describe_security_groups(GroupIds=[other])
    assert _error(e) == ("InvalidGroup.NotFound", f"The security group '{other}' does not exist")


def test_authorize_revoke_and_duplicates(ec2, vpc_id):
    gid = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc_id)["GroupId"]
    peer = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=vpc_id)["GroupId"]
    out = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "203.0.113.0/24", "Description": "office"}, {"CidrIp": "198.51.100.7/32"}]},
        {"IpProtocol": "6", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": peer}]},
        {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
    ])
    assert out["Return"] is True and len(out["SecurityGroupRules"]) == 4
    assert all(r["SecurityGroupRuleId"].startswith("sgr-") and r["IsEgress"] is False
               for r in out["SecurityGroupRules"])
    assert {r["IpProtocol"] for r in out["SecurityGroupRules"]} == {"tcp", "icmp"}
    group = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    ssh = next(p for p in group["IpPermissions"] if p.get("FromPort") == 22)
    assert ssh["IpRanges"] == [{"CidrIp": "203.0.113.0/24", "Description": "office"}, {"CidrIp": "198.51.100.7/32"}]
    app = next(p for p in group["IpPermissions"] if p.get("FromPort") == 8080)
    assert app["UserIdGroupPairs"][0]["GroupId"] == peer

    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=22, ToPort=22,
                                             CidrIp="203.0.113.0/24")
    assert _error(e) == ("InvalidPermission.Duplicate",
                         'the specified rule "peer: 203.0.113.0/24, TCP, from port: 22, to port: 22, ALLOW" already exists')
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert _error(e) == ("InvalidPermission.Duplicate", 'the specified rule "peer: 0.0.0.0/0, ALL, ALLOW" already exists')
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    assert _error(e) == ("InvalidParameterValue",
                         "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.")
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "bogus", "FromPort": 1, "ToPort": 2, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    assert _error(e)[0] == "InvalidParameterValue"

    # Filters over the assembled permissions.
    found = ec2.describe_security_groups(Filters=[{"Name": "ip-permission.from-port", "Values": ["22"]},
                                                  {"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    assert [g["GroupId"] for g in found] == [gid]
    found = ec2.describe_security_groups(Filters=[{"Name": "ip-permission.group-id", "Values": [peer]}])
    assert [g["GroupId"] for g in found["SecurityGroups"]] == [gid]
    found = ec2.describe_security_groups(Filters=[{"Name": "egress.ip-permission.cidr", "Values": ["0.0.0.0/0"]},
                                                  {"Name": "group-name", "Values": ["lb"]}])["SecurityGroups"]
    assert [g["GroupId"] for g in found] == [peer]

    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
    assert len(rules) == 5  # four in, the default egress
    # The referenced group cannot go while referenced.
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=peer)
    assert _error(e) == ("DependencyViolation", f"resource {peer} has a dependent object")

    revoked = ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": peer}]}])
    assert revoked["Return"] is True and len(revoked["RevokedSecurityGroupRules"]) == 1
    with pytest.raises(ClientError) as e:
        ec2.revoke_security_group_ingress(GroupId=gid, IpProtocol="udp", FromPort=53, ToPort=53, CidrIp="10.0.0.0/8")
    assert _error(e) == ("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
    ec2.delete_security_group(GroupId=peer)

    icmp = next(r for r in rules if r["IpProtocol"] == "icmp")
    ec2.modify_security_group_rules(GroupId=gid, SecurityGroupRules=[{
        "SecurityGroupRuleId": icmp["SecurityGroupRuleId"],
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv4": "0.0.0.0/0",
                              "Description": "https"}}])
    changed = ec2.describe_security_group_rules(SecurityGroupRuleIds=[icmp["SecurityGroupRuleId"]])
    rule = changed["SecurityGroupRules"][0]
    assert (rule["IpProtocol"], rule["FromPort"], rule["CidrIpv4"], rule["Description"]) == \
        ("tcp", 443, "0.0.0.0/0", "https")
    ec2.update_security_group_rule_descriptions_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "198.51.100.7/32", "Description": "home"}]}])
    group = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    ssh = next(p for p in group["IpPermissions"] if p.get("FromPort") == 22)
    assert {"CidrIp": "198.51.100.7/32", "Description": "home"} in ssh["IpRanges"]
    ec2.revoke_security_group_ingress(GroupId=gid, SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]])
    assert all(p.get("FromPort") != 443 for p in
               ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["IpPermissions"])


def test_default_group_and_rule_limit(ec2, vpc_id):
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                    {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    assert default["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == default["GroupId"]
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=default["GroupId"])
    assert _error(e) == ("CannotDelete",
                         f'the specified group: "{default["GroupId"]}" name: "default" cannot be deleted by a user')
    gid = ec2.create_security_group(GroupName="many", Description="many", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 1000 + i, "ToPort": 1000 + i, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
        for i in range(60)])
    with pytest.raises(ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpProtocol="tcp", FromPort=1, ToPort=1, CidrIp="10.0.0.0/8")
    assert _error(e) == ("RulesPerSecurityGroupLimitExceeded",
                         "The maximum number of rules per security group has been reached.")
    # In use by a network interface: DependencyViolation.
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.50.9.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[gid])["NetworkInterface"]["NetworkInterfaceId"]
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=gid)
    assert _error(e)[0] == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    ec2.delete_security_group(GroupId=gid)
    ec2.delete_subnet(SubnetId=subnet)
