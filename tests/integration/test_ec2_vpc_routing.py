"""Route tables, internet and NAT gateways, endpoints, peering, ACLs, DHCP options, flow logs, transit gateways."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.helpers import internal_call

REGION = "us-west-2"


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"]


@pytest.fixture(scope="module")
def ec2(make_client):
    return make_client("ec2", REGION)


@pytest.fixture(scope="module")
def vpc(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.70.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]
    private = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.70.2.0/24", AvailabilityZone=f"{REGION}b")["Subnet"]
    return {"id": vpc_id, "public": public["SubnetId"], "private": private["SubnetId"]}


def test_internet_gateway_attachment(ec2, vpc):
    igw = ec2.create_internet_gateway(TagSpecifications=[
        {"ResourceType": "internet-gateway", "Tags": [{"Key": "Name", "Value": "edge"}]}])["InternetGateway"]
    igw_id = igw["InternetGatewayId"]
    assert igw["Attachments"] == [] and igw["Tags"] == [{"Key": "Name", "Value": "edge"}]
    with pytest.raises(ClientError) as e:
        ec2.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc["id"])
    assert _error(e) == ("Gateway.NotAttached", f"resource {igw_id} is not attached to network {vpc['id']}")
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc["id"])
    with pytest.raises(ClientError) as e:
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc["id"])
    assert _error(e) == ("Resource.AlreadyAssociated", f"resource {igw_id} is already attached to network {vpc['id']}")
    found = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["id"]]},
                                                    {"Name": "attachment.state", "Values": ["available"]}])
    assert [g["InternetGatewayId"] for g in found["InternetGateways"]] == [igw_id]
    with pytest.raises(ClientError) as e:
        ec2.delete_internet_gateway(InternetGatewayId=igw_id)
    assert _error(e) == ("DependencyViolation",
                         f"The internetGateway '{igw_id}' has dependencies and cannot be deleted.")


def test_route_tables_and_routes(ec2, vpc):
    igw_id = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["id"]]}])[
        "InternetGateways"][0]["InternetGatewayId"]
    table = ec2.create_route_table(VpcId=vpc["id"])["RouteTable"]
    rtb = table["RouteTableId"]
    assert table["Routes"] == [{"DestinationCidrBlock": "10.70.0.0/16", "GatewayId": "local",
                                "Origin": "CreateRouteTable", "State": "active"}]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    with pytest.raises(ClientError) as e:
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    assert _error(e) == ("RouteAlreadyExists", "The route identified by 0.0.0.0/0 already exists.")
    with pytest.raises(ClientError) as e:
        ec2.delete_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16")
    assert _error(e) == ("InvalidRoute.NotFound",
                         f"no route with destination-cidr-block 192.168.0.0/16 in route table {rtb}")
    with pytest.raises(ClientError) as e:
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="172.16.0.0/12", GatewayId="igw-0123456789abcdef0")
    assert _error(e)[0] == "InvalidGatewayID.NotFound"
    assoc = ec2.associate_route_table(RouteTableId=rtb, SubnetId=vpc["public"])["AssociationId"]
    found = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [vpc["public"]]}])
    assert [t["RouteTableId"] for t in found["RouteTables"]] == [rtb]
    found = ec2.describe_route_tables(Filters=[{"Name": "route.gateway-id", "Values": [igw_id]},
                                               {"Name": "vpc-id", "Values": [vpc["id"]]}])
    assert [t["RouteTableId"] for t in found["RouteTables"]] == [rtb]
    found = ec2.describe_route_tables(Filters=[{"Name": "route.destination-cidr-block", "Values": ["0.0.0.0/0"]},
                                               {"Name": "vpc-id", "Values": [vpc["id"]]}])
    assert [t["RouteTableId"] for t in found["RouteTables"]] == [rtb]
    with pytest.raises(ClientError) as e:
        ec2.delete_route_table(RouteTableId=rtb)
    assert _error(e) == ("DependencyViolation", f"The routeTable '{rtb}' has dependencies and cannot be deleted.")
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["id"]]},
                                              {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    with pytest.raises(ClientError) as e:
        ec2.delete_route_table(RouteTableId=main["RouteTableId"])
    assert _error(e)[0] == "DependencyViolation"
    # Move the subnet back to the main table by replacing its association.
    new_assoc = ec2.replace_route_table_association(AssociationId=assoc, RouteTableId=main["RouteTableId"])
    assert new_assoc["NewAssociationId"].startswith("rtbassoc-")
    ec2.disassociate_route_table(AssociationId=new_assoc["NewAssociationId"])
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=vpc["public"])

    # Routes to an interface, then to a peering connection; replace and delete.
    eni = ec2.create_network_interface(SubnetId=vpc["public"])["NetworkInterface"]["NetworkInterfaceId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16", NetworkInterfaceId=eni)
    ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16", GatewayId=igw_id)
    route = next(r for r in ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
                 if r.get("DestinationCidrBlock") == "192.168.0.0/16")
    assert route["GatewayId"] == igw_id and "NetworkInterfaceId" not in route
    ec2.delete_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16")
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    with pytest.raises(ClientError) as e:
        ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16", GatewayId=igw_id)
    assert _error(e)[0] == "InvalidRoute.NotFound"


def test_gateway_endpoint_routes_and_prefix_lists(ec2, vpc):
    lists = ec2.describe_prefix_lists()["PrefixLists"]
    by_name = {p["PrefixListName"]: p for p in lists}
    assert set(by_name) == {f"com.amazonaws.{REGION}.s3", f"com.amazonaws.{REGION}.dynamodb"}
    s3_list = by_name[f"com.amazonaws.{REGION}.s3"]
    assert s3_list["PrefixListId"].startswith("pl-") and s3_list["Cidrs"]
    services = ec2.describe_vpc_endpoint_services(ServiceNames=[f"com.amazonaws.{REGION}.s3"])
    assert {d["ServiceType"][0]["ServiceType"] for d in services["ServiceDetails"]} == {"Gateway", "Interface"}
    assert f"com.amazonaws.{REGION}.ec2" in ec2.describe_vpc_endpoint_services()["ServiceNames"]

    rtb = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [vpc["public"]]}])[
        "RouteTables"][0]["RouteTableId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc["id"], ServiceName=f"com.amazonaws.{REGION}.s3",
                                       RouteTableIds=[rtb])["VpcEndpoint"]
    assert endpoint["State"] == "available" and endpoint["VpcEndpointType"] == "Gateway"
    assert json.loads(endpoint["PolicyDocument"])["Statement"][0]["Effect"] == "Allow"
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
    assert {"DestinationPrefixListId": s3_list["PrefixListId"], "GatewayId": endpoint["VpcEndpointId"],
            "Origin": "CreateRoute", "State": "active"} in routes
    with pytest.raises(ClientError) as e:
        ec2.create_vpc_endpoint(VpcId=vpc["id"], ServiceName="com.amazonaws.nowhere.s3")
    assert _error(e)[0] == "InvalidServiceName"
    interface = ec2.create_vpc_endpoint(VpcId=vpc["id"], VpcEndpointType="Interface",
                                        ServiceName=f"com.amazonaws.{REGION}.ssm",
                                        SubnetIds=[vpc["private"]])["VpcEndpoint"]
    assert interface["State"] == "pending" and len(interface["NetworkInterfaceIds"]) == 1
    nic = ec2.describe_network_interfaces(NetworkInterfaceIds=interface["NetworkInterfaceIds"])["NetworkInterfaces"][0]
    assert nic["InterfaceType"] == "vpc_endpoint" and nic["RequesterManaged"] is True
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-endpoint-type", "Values": ["Gateway"]},
                                                {"Name": "vpc-id", "Values": [vpc["id"]]}])["VpcEndpoints"]
    assert [x["VpcEndpointId"] for x in found] == [endpoint["VpcEndpointId"]]
    out = ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"], interface["VpcEndpointId"],
                                                   "vpce-0123456789abcdef0"])
    assert [u["ResourceId"] for u in out["Unsuccessful"]] == ["vpce-0123456789abcdef0"]
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
    assert not any(r.get("DestinationPrefixListId") for r in routes)
    assert ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [vpc["private"]]}])[
        "NetworkInterfaces"] == []


def test_client_token_repeats_a_create(ec2, vpc):
    first = ec2.create_vpc_endpoint(VpcId=vpc["id"], ServiceName=f"com.amazonaws.{REGION}.dynamodb",
                                    ClientToken="endpoint-once")["VpcEndpoint"]["VpcEndpointId"]
    again = ec2.create_vpc_endpoint(VpcId=vpc["id"], ServiceName=f"com.amazonaws.{REGION}.dynamodb",
                                    ClientToken="endpoint-once")["VpcEndpoint"]["VpcEndpointId"]
    assert first == again
    with pytest.raises(ClientError) as e:
        ec2.create_vpc_endpoint(VpcId=vpc["id"], ServiceName=f"com.amazonaws.{REGION}.s3", ClientToken="endpoint-once")
    assert _error(e)[0] == "IdempotentParameterMismatch"
    assert len(ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc["id"]]}])["VpcEndpoints"]) == 1
    ec2.delete_vpc_endpoints(VpcEndpointIds=[first])


def test_network_acls_and_dhcp_options(ec2, vpc):
    acl = ec2.create_network_acl(VpcId=vpc["id"])["NetworkAcl"]
    acl_id = acl["NetworkAclId"]
    assert acl["IsDefault"] is False and {e["RuleNumber"] for e in acl["Entries"]} == {32767}
    ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Protocol="6", RuleAction="allow",
                                 Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443})
    with pytest.raises(ClientError) as e:
        ec2.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Protocol="-1", RuleAction="deny",
                                     Egress=False, CidrBlock="10.0.0.0/8")
    assert _error(e) == ("NetworkAclEntryAlreadyExists", "The network acl entry identified by 100 already exists.")
    ec2.replace_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Protocol="6", RuleAction="deny",
                                  Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22})
    with pytest.raises(ClientError) as e:
        ec2.replace_network_acl_entry(NetworkAclId=acl_id, RuleNumber=200, Protocol="-1", RuleAction="deny",
                                      Egress=True, CidrBlock="0.0.0.0/0")
    assert _error(e)[0] == "InvalidNetworkAclEntry.NotFound"
    found = ec2.describe_network_acls(Filters=[{"Name": "entry.port-range.from", "Values": ["22"]}])["NetworkAcls"]
    assert [a["NetworkAclId"] for a in found] == [acl_id]
    default = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [vpc["private"]]}])[
        "NetworkAcls"][0]
    assert default["IsDefault"] is True
    assoc = next(a for a in default["Associations"] if a["SubnetId"] == vpc["private"])
    new = ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=acl_id)
    assert new["NewAssociationId"].startswith("aclassoc-")
    with pytest.raises(ClientError) as e:
        ec2.delete_network_acl(NetworkAclId=acl_id)
    assert _error(e)[0] == "DependencyViolation"
    ec2.replace_network_acl_association(AssociationId=new["NewAssociationId"], NetworkAclId=default["NetworkAclId"])
    ec2.delete_network_acl_entry(NetworkAclId=acl_id, RuleNumber=100, Egress=False)
    ec2.delete_network_acl(NetworkAclId=acl_id)

    options = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.example"]},
        {"Key": "domain-name-servers", "Values": ["10.70.0.2", "AmazonProvidedDNS"]}])["DhcpOptions"]
    dopt = options["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=vpc["id"])
    assert ec2.describe_vpcs(VpcIds=[vpc["id"]])["Vpcs"][0]["DhcpOptionsId"] == dopt
    found = ec2.describe_dhcp_options(Filters=[{"Name": "value", "Values": ["corp.example"]}])["DhcpOptions"]
    assert [d["DhcpOptionsId"] for d in found] == [dopt]
    with pytest.raises(ClientError) as e:
        ec2.delete_dhcp_options(DhcpOptionsId=dopt)
    assert _error(e) == ("DependencyViolation", f"The dhcpOptions '{dopt}' has dependencies and cannot be deleted.")
    ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vpc["id"])
    ec2.delete_dhcp_options(DhcpOptionsId=dopt)
    with pytest.raises(ClientError) as e:
        ec2.create_dhcp_options(DhcpConfigurations=[{"Key": "colour", "Values": ["blue"]}])
    assert _error(e)[0] == "InvalidParameterValue"


def test_flow_logs(ec2, vpc):
    role = "arn:aws:iam::000000000000:role/flow-logs"
    out = ec2.create_flow_logs(ResourceIds=[vpc["id"], "vpc-0123456789abcdef0"], ResourceType="VPC",
                               TrafficType="ALL", LogGroupName="vpc-flows", DeliverLogsPermissionArn=role)
    assert len(out["FlowLogIds"]) == 1 and out["Unsuccessful"][0]["ResourceId"] == "vpc-0123456789abcdef0"
    fl = out["FlowLogIds"][0]
    again = ec2.create_flow_logs(ResourceIds=[vpc["id"]], ResourceType="VPC", TrafficType="ALL",
                                 LogGroupName="vpc-flows", DeliverLogsPermissionArn=role)
    assert again["Unsuccessful"][0]["Error"]["Code"] == "FlowLogAlreadyExists"
    s3 = ec2.create_flow_logs(ResourceIds=[vpc["public"]], ResourceType="Subnet", TrafficType="REJECT",
                              LogDestinationType="s3", LogDestination="arn:aws:s3:::flow-bucket/logs/")
    described = ec2.describe_flow_logs(Filter=[{"Name": "resource-id", "Values": [vpc["id"]]}])["FlowLogs"]
    assert [(f["FlowLogId"], f["LogGroupName"], f["TrafficType"], f["FlowLogStatus"]) for f in described] == \
        [(fl, "vpc-flows", "ALL", "ACTIVE")]
    assert described[0]["LogFormat"].startswith("${version} ${account-id}")
    found = ec2.describe_flow_logs(Filter=[{"Name": "log-destination-type", "Values": ["s3"]}])["FlowLogs"]
    assert [f["FlowLogId"] for f in found] == s3["FlowLogIds"]
    gone = ec2.delete_flow_logs(FlowLogIds=[fl, *s3["FlowLogIds"], "fl-0123456789abcdef0"])
    assert [u["ResourceId"] for u in gone["Unsuccessful"]] == ["fl-0123456789abcdef0"]
    assert ec2.describe_flow_logs(FlowLogIds=[fl])["FlowLogs"] == []


def test_peering_between_accounts(ec2, vpc, endpoint, make_client):
    created = internal_call(endpoint, "POST", "/_gureum/accounts", {})
    theirs = make_client("ec2", REGION, access_key=created["access_key_id"], secret_key=created["secret_access_key"])
    their_vpc = theirs.create_vpc(CidrBlock="10.80.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc["id"], PeerVpcId=their_vpc,
                                            PeerOwnerId=created["account_id"])["VpcPeeringConnection"]
    pcx_id = pcx["VpcPeeringConnectionId"]
    assert pcx["Status"]["Code"] == "initiating-request"
    mine = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"][0]
    assert mine["Status"] == {"Code": "pending-acceptance", "Message": f"Pending Acceptance by {created['account_id']}"}
    assert mine["AccepterVpcInfo"]["CidrBlock"] == "10.80.0.0/16"
    with pytest.raises(ClientError) as e:
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    assert _error(e)[0] == "OperationNotPermitted"
    seen = theirs.describe_vpc_peering_connections(Filters=[{"Name": "status-code", "Values": ["pending-acceptance"]}])
    assert [p["VpcPeeringConnectionId"] for p in seen["VpcPeeringConnections"]] == [pcx_id]
    accepted = theirs.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)["VpcPeeringConnection"]
    assert accepted["Status"]["Code"] == "provisioning"
    mine = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"][0]
    assert mine["Status"]["Code"] == "active"
    changed = ec2.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=pcx_id, RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
    assert changed["RequesterPeeringConnectionOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_peering_connection_options(
            VpcPeeringConnectionId=pcx_id, AccepterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
    assert _error(e)[0] == "OperationNotPermitted"
    seen = theirs.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"][0]
    assert seen["RequesterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    rtb = ec2.create_route_table(VpcId=vpc["id"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.80.0.0/16", VpcPeeringConnectionId=pcx_id)
    with pytest.raises(ClientError) as e:
        theirs.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    assert _error(e)[0] == "InvalidStateTransition"
    theirs.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    mine = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"][0]
    assert mine["Status"]["Code"] == "deleted"
    route = next(r for r in ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
                 if r.get("VpcPeeringConnectionId"))
    assert route["State"] == "blackhole"
    ec2.delete_route_table(RouteTableId=rtb)

    # Same account: overlapping CIDRs fail; a rejected request stays rejected.
    overlap = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    failed = ec2.create_vpc_peering_connection(VpcId=vpc["id"], PeerVpcId=overlap)["VpcPeeringConnection"]
    status = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[failed["VpcPeeringConnectionId"]])[
        "VpcPeeringConnections"][0]["Status"]
    assert status["Code"] == "failed"
    other = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    request = ec2.create_vpc_peering_connection(VpcId=vpc["id"], PeerVpcId=other)["VpcPeeringConnection"]
    ec2.reject_vpc_peering_connection(VpcPeeringConnectionId=request["VpcPeeringConnectionId"])
    status = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[request["VpcPeeringConnectionId"]])[
        "VpcPeeringConnections"][0]["Status"]
    assert status["Code"] == "rejected"
    with pytest.raises(ClientError) as e:
        ec2.create_vpc_peering_connection(VpcId=vpc["id"], PeerVpcId="vpc-0123456789abcdef0")
    assert _error(e)[0] == "InvalidVpcID.NotFound"


# ---- gateways whose states follow the service clock, on a server of their own ----

@pytest.fixture(scope="module")
def own(tmp_root):
    server = Server(tmp_root / "ec2-network-clock").start()
    yield server
    server.stop()


def test_nat_and_transit_gateway_states(own):
    ec2 = boto3.client("ec2", endpoint_url=own.endpoint, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))

    def advance(seconds):
        internal_call(own.endpoint, "POST", "/_gureum/clock", {"advance_seconds": seconds})

    vpc_id = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.40.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    eip = ec2.allocate_address(Domain="vpc")
    nat = ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], AllocationId=eip["AllocationId"])["NatGateway"]
    nat_id = nat["NatGatewayId"]
    assert nat["State"] == "pending" and nat["ConnectivityType"] == "public"
    assert nat["NatGatewayAddresses"][0]["PublicIp"] == eip["PublicIp"]
    with pytest.raises(ClientError) as e:
        ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], AllocationId=eip["AllocationId"])
    assert _error(e)[0] == "Resource.AlreadyAssociated"
    with pytest.raises(ClientError) as e:
        ec2.release_address(AllocationId=eip["AllocationId"])
    assert _error(e)[0] == "InvalidIPAddress.InUse"
    advance(10)
    described = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]
    assert described["State"] == "available"
    assert ec2.describe_nat_gateways(Filter=[{"Name": "state", "Values": ["available"]}])["NatGateways"][0][
        "NatGatewayId"] == nat_id
    private = ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], ConnectivityType="private")["NatGateway"]
    assert "PublicIp" not in private["NatGatewayAddresses"][0]
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
    ec2.delete_nat_gateway(NatGatewayId=nat_id)
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == "deleting"
    route = next(r for r in ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]
                 if r.get("NatGatewayId"))
    assert route["State"] == "blackhole"
    advance(10)
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == "deleted"
    ec2.release_address(AllocationId=eip["AllocationId"])
    advance(3600)
    with pytest.raises(ClientError) as e:
        ec2.describe_nat_gateways(NatGatewayIds=[nat_id])
    assert _error(e) == ("NatGatewayNotFound", f"The Nat Gateway {nat_id} was not found")

    tgw = ec2.create_transit_gateway(Description="hub")["TransitGateway"]
    tgw_id = tgw["TransitGatewayId"]
    assert tgw["State"] == "pending" and tgw["Options"]["AmazonSideAsn"] == 64512
    rtb_id = tgw["Options"]["AssociationDefaultRouteTableId"]
    advance(10)
    assert ec2.describe_transit_gateways(TransitGatewayIds=[tgw_id])["TransitGateways"][0]["State"] == "available"
    tables = ec2.describe_transit_gateway_route_tables(Filters=[{"Name": "transit-gateway-id", "Values": [tgw_id]}])
    assert tables["TransitGatewayRouteTables"][0]["TransitGatewayRouteTableId"] == rtb_id
    attachment = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw_id, VpcId=vpc_id,
                                                           SubnetIds=[subnet["SubnetId"]])
    attachment_id = attachment["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    assert attachment["TransitGatewayVpcAttachment"]["State"] == "pending"
    with pytest.raises(ClientError) as e:
        ec2.delete_transit_gateway(TransitGatewayId=tgw_id)
    assert _error(e)[0] == "IncorrectState"
    advance(10)
    general = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[attachment_id])[
        "TransitGatewayAttachments"][0]
    assert (general["State"], general["ResourceType"], general["ResourceId"]) == ("available", "vpc", vpc_id)
    assert general["Association"] == {"TransitGatewayRouteTableId": rtb_id, "State": "associated"}
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.0.0.0/8", TransitGatewayId=tgw_id)
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)
    advance(10)
    found = ec2.describe_transit_gateway_vpc_attachments(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    assert found["TransitGatewayVpcAttachments"][0]["State"] == "deleted"
    assert ec2.delete_transit_gateway(TransitGatewayId=tgw_id)["TransitGateway"]["State"] == "deleting"
