"""Route tables and routes.

Every VPC has a main table with a `local` route per CIDR block; other tables are associated
with subnets (or gateways) explicitly. A route's target is a gateway (igw-, vgw-, vpce-, eigw-
for IPv6), a NAT gateway, an instance, an interface, a peering connection or a transit
gateway; when its target goes away it stays with State "blackhole" (`blackhole_routes`).
"""

from __future__ import annotations

import ipaddress

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import (
    check_id, dependency_violation, invalid_parameter_combination, invalid_parameter_value, missing_parameter,
    not_found)
from gureum.services.ec2.store import Resources, Scope, describe, new_id, paginate
from gureum.services.ec2.tags import tag_specifications

KIND = "route-table"

_FILTERS = filters.paths({
    "association.gateway-id": "Associations.GatewayId",
    "association.route-table-association-id": "Associations.RouteTableAssociationId",
    "association.route-table-id": "Associations.RouteTableId", "association.subnet-id": "Associations.SubnetId",
    "association.main": "Associations.Main", "owner-id": "OwnerId", "route-table-id": "RouteTableId",
    "route.destination-cidr-block": "Routes.DestinationCidrBlock",
    "route.destination-ipv6-cidr-block": "Routes.DestinationIpv6CidrBlock",
    "route.destination-prefix-list-id": "Routes.DestinationPrefixListId",
    "route.egress-only-internet-gateway-id": "Routes.EgressOnlyInternetGatewayId",
    "route.gateway-id": "Routes.GatewayId", "route.instance-id": "Routes.InstanceId",
    "route.nat-gateway-id": "Routes.NatGatewayId", "route.transit-gateway-id": "Routes.TransitGatewayId",
    "route.origin": "Routes.Origin", "route.state": "Routes.State",
    "route.vpc-peering-connection-id": "Routes.VpcPeeringConnectionId",
    "route.network-interface-id": "Routes.NetworkInterfaceId", "vpc-id": "VpcId",
})

# Request member -> (the resource kind it names, its NotFound error)
_TARGETS = {
    "GatewayId": None, "EgressOnlyInternetGatewayId": ("egress-only-internet-gateway", "InvalidGatewayID.NotFound"),
    "NatGatewayId": ("nat-gateway", "InvalidNatGatewayID.NotFound"),
    "InstanceId": ("instance", "InvalidInstanceID.NotFound"),
    "NetworkInterfaceId": ("network-interface", "InvalidNetworkInterfaceID.NotFound"),
    "VpcPeeringConnectionId": ("vpc-peering-connection", "InvalidVpcPeeringConnectionID.NotFound"),
    "TransitGatewayId": ("transit-gateway", "InvalidTransitGatewayID.NotFound"),
    "LocalGatewayId": None, "CarrierGatewayId": None, "CoreNetworkArn": None,
}
_GATEWAY_KINDS = {"igw": "internet-gateway", "vgw": "vpn-gateway", "vpce": "vpc-endpoint",
                  "eigw": "egress-only-internet-gateway"}


def table_not_found(table_id: str) -> ServiceError:
    return not_found("InvalidRouteTableID.NotFound", f"The routeTable ID '{table_id}' does not exist")


def get_table(resources: Resources, scope: Scope, table_id: str | None) -> dict:
    if not table_id:
        raise missing_parameter("The request must contain the parameter routeTableId")
    check_id(table_id, "rtb", "InvalidRouteTableID.Malformed")
    doc = resources.get(scope, KIND, table_id)
    if doc is None:
        raise table_not_found(table_id)
    return doc


def create_table(resources: Resources, scope: Scope, vpc: dict, *, main: bool = False) -> dict:
    """A table with the VPC's local routes (the main table when `main`)."""
    rtb = new_id("rtb")
    routes = [{"DestinationCidrBlock": a["CidrBlock"], "GatewayId": "local", "Origin": "CreateRouteTable",
               "State": "active"} for a in vpc.get("CidrBlockAssociationSet", [])]
    routes += [{"DestinationIpv6CidrBlock": a["Ipv6CidrBlock"], "GatewayId": "local", "Origin": "CreateRouteTable",
                "State": "active"} for a in vpc.get("Ipv6CidrBlockAssociationSet", [])]
    doc = {"RouteTableId": rtb, "VpcId": vpc["VpcId"], "OwnerId": scope.account_id, "PropagatingVgws": [],
           "Routes": routes, "Associations": []}
    if main:
        doc["Associations"].append({"Main": True, "RouteTableAssociationId": new_id("rtbassoc"),
                                    "RouteTableId": rtb, "AssociationState": {"State": "associated"}})
    return resources.insert(scope, KIND, rtb, doc)


def _tables_of(resources: Resources, scope: Scope, vpc_id: str) -> list[dict]:
    return [t for t in resources.all(scope, KIND) if t["VpcId"] == vpc_id]


def add_local_route(resources: Resources, scope: Scope, vpc_id: str, cidr: str) -> None:
    for t in _tables_of(resources, scope, vpc_id):
        t["Routes"].append({"DestinationCidrBlock": cidr, "GatewayId": "local", "Origin": "CreateRouteTable",
                            "State": "active"})
        resources.update(scope, t["RouteTableId"], t)


def remove_local_route(resources: Resources, scope: Scope, vpc_id: str, cidr: str) -> None:
    for t in _tables_of(resources, scope, vpc_id):
        t["Routes"] = [r for r in t["Routes"] if not (r.get("GatewayId") == "local"
                                                      and r.get("DestinationCidrBlock") == cidr)]
        resources.update(scope, t["RouteTableId"], t)


def blackhole_routes(resources: Resources, scope: Scope, target_key: str, target_id: str) -> None:
    """Routes to a target that went away stay, as blackholes."""
    for t in resources.all(scope, KIND):
        changed = False
        for r in t["Routes"]:
            if r.get(target_key) == target_id and r["State"] != "blackhole":
                r["State"] = "blackhole"
                changed = True
        if changed:
            resources.update(scope, t["RouteTableId"], t)


def remove_routes_to(resources: Resources, scope: Scope, target_key: str, target_id: str) -> None:
    """Drop the routes a target owns (a gateway endpoint's prefix-list routes)."""
    for t in resources.all(scope, KIND):
        kept = [r for r in t["Routes"] if r.get(target_key) != target_id]
        if len(kept) != len(t["Routes"]):
            t["Routes"] = kept
            resources.update(scope, t["RouteTableId"], t)


def add_route(resources: Resources, scope: Scope, table: dict, route: dict) -> None:
    table["Routes"].append(route)
    resources.update(scope, table["RouteTableId"], table)


def _destination(request: dict) -> tuple[str, str]:
    given = [(k, request[k]) for k in ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")
             if request.get(k)]
    if not given:
        raise missing_parameter("The request must contain the parameter destinationCidrBlock or "
                                "destinationIpv6CidrBlock or destinationPrefixListId")
    if len(given) > 1:
        raise invalid_parameter_combination(
            "Only one of destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId may be given")
    key, value = given[0]
    if key != "DestinationPrefixListId":
        try:
            net = ipaddress.ip_network(value, strict=False)
            if "/" not in value:
                raise ValueError
        except ValueError:
            param = "destinationCidrBlock" if key == "DestinationCidrBlock" else "destinationIpv6CidrBlock"
            raise invalid_parameter_value(f"Value ({value}) for parameter {param} is invalid. "
                                          "This is not a valid CIDR block.")
        value = str(net)
    return key, value


def _destination_text(key: str, value: str) -> str:
    return value


class RouteTableOperations:
    resources: Resources

    def _target(self, scope: Scope, table: dict, request: dict) -> dict:
        given = [(k, request[k]) for k in _TARGETS if request.get(k)]
        if not given:
            raise missing_parameter("The request must contain exactly one of gatewayId, natGatewayId, "
                                    "networkInterfaceId, vpcPeeringConnectionId, egressOnlyInternetGatewayId, "
                                    "transitGatewayId, localGatewayId, carrierGatewayId or instanceId")
        if len(given) > 1:
            raise invalid_parameter_combination("More than one target specified for the route.")
        key, value = given[0]
        out = {key: value}
        if key == "GatewayId":
            prefix = value.split("-", 1)[0]
            kind = _GATEWAY_KINDS.get(prefix)
            if kind is None:
                raise not_found("InvalidGatewayID.NotFound", f"The gateway ID '{value}' does not exist")
            doc = self.resources.get(scope, kind, value)
            if doc is None:
                raise not_found("InvalidGatewayID.NotFound", f"The gateway ID '{value}' does not exist")
            if kind == "internet-gateway" and not any(a.get("VpcId") == table["VpcId"]
                                                       for a in doc.get("Attachments", [])):
                raise invalid_parameter_value(f"route table {table['RouteTableId']} and network gateway {value} "
                                              "belong to different networks")
            if kind == "egress-only-internet-gateway":
                out = {"EgressOnlyInternetGatewayId": value}
        elif _TARGETS[key]:
            kind, code = _TARGETS[key]
            doc = self.resources.get(scope, kind, value)
            if doc is None:
                what = {"nat-gateway": f"The natGateway ID '{value}' does not exist",
                        "instance": f"The instance ID '{value}' does not exist",
                        "network-interface": f"The networkInterface ID '{value}' does not exist",
                        "vpc-peering-connection": f"The vpcPeeringConnection ID '{value}' does not exist",
                        "transit-gateway": f"The transitGateway ID '{value}' does not exist",
                        "egress-only-internet-gateway": f"The gateway ID '{value}' does not exist"}[kind]
                raise not_found(code, what)
            if kind == "instance":
                from gureum.services.ec2 import network_interfaces
                eni = network_interfaces.primary_interface(self.resources, scope, value)
                out["InstanceOwnerId"] = scope.account_id
                if eni:
                    out["NetworkInterfaceId"] = eni["NetworkInterfaceId"]
            if kind == "network-interface" and doc.get("Attachment"):
                out["InstanceId"] = doc["Attachment"]["InstanceId"]
                out["InstanceOwnerId"] = scope.account_id
            if kind == "nat-gateway" and doc["State"] in ("deleted", "deleting", "failed"):
                raise not_found("InvalidNatGatewayID.NotFound", f"The natGateway ID '{value}' does not exist")
        return out

    def create_route_table(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        from gureum.services.ec2.vpcs import get_vpc
        tags = tag_specifications(request, ("route-table",)).get("route-table", [])
        with self.env.db.transaction():
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            doc = create_table(self.resources, scope, vpc)
            self.resources.set_tags(scope, doc["RouteTableId"], tags)
        return {"RouteTable": {**doc, **({"Tags": tags} if tags else {})}}

    def describe_route_tables(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        for t in request.get("RouteTableIds") or []:
            check_id(t, "rtb", "InvalidRouteTableID.Malformed")
        docs = describe(self.resources, scope, KIND, "RouteTableId", request, "RouteTableIds", _FILTERS,
                        lambda ids: table_not_found(ids[0]))
        page, token = paginate(docs, request, ids_given="RouteTableIds")
        return {"RouteTables": page, **({"NextToken": token} if token else {})}

    def delete_route_table(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_table(self.resources, scope, request.get("RouteTableId"))
            if doc["Associations"]:
                raise dependency_violation(
                    f"The routeTable '{doc['RouteTableId']}' has dependencies and cannot be deleted.")
            self.resources.delete(scope, doc["RouteTableId"])
        return {}

    def associate_route_table(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            table = get_table(self.resources, scope, request.get("RouteTableId"))
            subnet_id, gateway_id = request.get("SubnetId"), request.get("GatewayId")
            if bool(subnet_id) == bool(gateway_id):
                raise invalid_parameter_combination("Exactly one of subnetId or gatewayId must be specified")
            assoc = {"Main": False, "RouteTableAssociationId": new_id("rtbassoc"),
                     "RouteTableId": table["RouteTableId"], "AssociationState": {"State": "associated"}}
            if subnet_id:
                from gureum.services.ec2.subnets import get_subnet
                subnet = get_subnet(self.resources, scope, subnet_id)
                if subnet["VpcId"] != table["VpcId"]:
                    raise invalid_parameter_value(f"Route table {table['RouteTableId']} and subnet {subnet_id} "
                                                  "belong to different networks")
                for other in self.resources.all(scope, KIND):
                    for a in other["Associations"]:
                        if a.get("SubnetId") == subnet_id:
                            raise ServiceError("Resource.AlreadyAssociated",
                                               f"the specified association for route table {other['RouteTableId']}"
                                               f" conflicts with an existing association", 400)
                assoc["SubnetId"] = subnet_id
            else:
                assoc["GatewayId"] = gateway_id
            table["Associations"].append(assoc)
            self.resources.update(scope, table["RouteTableId"], table)
        return {"AssociationId": assoc["RouteTableAssociationId"], "AssociationState": {"State": "associated"}}

    def _association(self, scope: Scope, association_id: str | None) -> tuple[dict, dict]:
        if not association_id:
            raise missing_parameter("The request must contain the parameter associationId")
        for table in self.resources.all(scope, KIND):
            for a in table["Associations"]:
                if a["RouteTableAssociationId"] == association_id:
                    return table, a
        raise not_found("InvalidAssociationID.NotFound", f"The association ID '{association_id}' does not exist")

    def disassociate_route_table(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            table, assoc = self._association(scope, request.get("AssociationId"))
            if assoc.get("Main"):
                raise invalid_parameter_value(
                    f"cannot disassociate the main route table association {assoc['RouteTableAssociationId']}")
            table["Associations"] = [a for a in table["Associations"] if a is not assoc]
            self.resources.update(scope, table["RouteTableId"], table)
        return {}

    def replace_route_table_association(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            old_table, assoc = self._association(scope, request.get("AssociationId"))
            new_table = get_table(self.resources, scope, request.get("RouteTableId"))
            if new_table["VpcId"] != old_table["VpcId"]:
                raise invalid_parameter_value("Route tables belong to different networks")
            old_table["Associations"] = [a for a in old_table["Associations"] if a is not assoc]
            self.resources.update(scope, old_table["RouteTableId"], old_table)
            new_table = self.resources.get(scope, KIND, new_table["RouteTableId"])
            moved = {**assoc, "RouteTableAssociationId": new_id("rtbassoc"), "RouteTableId": new_table["RouteTableId"]}
            new_table["Associations"].append(moved)
            self.resources.update(scope, new_table["RouteTableId"], new_table)
        return {"NewAssociationId": moved["RouteTableAssociationId"], "AssociationState": {"State": "associated"}}

    def create_route(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            table = get_table(self.resources, scope, request.get("RouteTableId"))
            key, value = _destination(request)
            if any(r.get(key) == value for r in table["Routes"]):
                raise ServiceError("RouteAlreadyExists",
                                   f"The route identified by {value} already exists.", 400)
            target = self._target(scope, table, request)
            add_route(self.resources, scope, table, {key: value, **target, "Origin": "CreateRoute",
                                                     "State": "active"})
        return {"Return": True}

    def replace_route(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            table = get_table(self.resources, scope, request.get("RouteTableId"))
            key, value = _destination(request)
            route = next((r for r in table["Routes"] if r.get(key) == value), None)
            if route is None:
                raise not_found("InvalidRoute.NotFound",
                                f"There is no route defined for '{value}' in the route table. "
                                "Use CreateRoute instead.")
            if route.get("GatewayId") == "local" and not request.get("LocalTarget"):
                pass
            target = self._target(scope, table, request)
            route.clear()
            route.update({key: value, **target, "Origin": "CreateRoute", "State": "active"})
            self.resources.update(scope, table["RouteTableId"], table)
        return {}

    def delete_route(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            table = get_table(self.resources, scope, request.get("RouteTableId"))
            key, value = _destination(request)
            route = next((r for r in table["Routes"] if r.get(key) == value), None)
            if route is None:
                param = {"DestinationCidrBlock": "destination-cidr-block",
                         "DestinationIpv6CidrBlock": "destination-ipv6-cidr-block",
                         "DestinationPrefixListId": "destination-prefix-list-id"}[key]
                raise not_found("InvalidRoute.NotFound",
                                f"no route with {param} {value} in route table {table['RouteTableId']}")
            if route.get("GatewayId") == "local":
                raise invalid_parameter_value(f"cannot remove local route {value} in route table "
                                              f"{table['RouteTableId']}")
            table["Routes"] = [r for r in table["Routes"] if r is not route]
            self.resources.update(scope, table["RouteTableId"], table)
        return {}
