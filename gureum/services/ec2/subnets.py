"""Subnets: CreateSubnet, DescribeSubnets, DeleteSubnet, ModifySubnetAttribute, CreateDefaultSubnet.

Lookups for other families: `get_subnet(resources, scope, subnet_id)` and
`default_subnet(resources, scope, zone_name=None)` (the default VPC's subnet of a zone, or
its first). AvailableIpAddressCount is the subnet's size less AWS's five reserved addresses
less what network interfaces hold (ipam.py), computed when described.
"""

from __future__ import annotations

import ipaddress

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import default_vpc, filters, ipam
from gureum.services.ec2.errors import (
    check_id, dependency_violation, invalid_parameter_value, missing_parameter, not_found)
from gureum.services.ec2.regions import zone, zones
from gureum.services.ec2.store import Resources, Scope, new_id, paginate, with_tags
from gureum.services.ec2.tags import tag_specifications
from gureum.services.ec2.vpcs import default_vpc_id, get_vpc, ipv4_cidr, vpc_cidrs

SUBNET_FILTERS = filters.paths({
    "availability-zone": "AvailabilityZone", "availability-zone-id": "AvailabilityZoneId",
    "availabilityZone": "AvailabilityZone",
    "available-ip-address-count": "AvailableIpAddressCount", "cidr-block": "CidrBlock",
    "cidr": "CidrBlock", "cidrBlock": "CidrBlock", "default-for-az": "DefaultForAz",
    "defaultForAz": "DefaultForAz",
    "ipv6-cidr-block-association.ipv6-cidr-block": "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock",
    "ipv6-cidr-block-association.association-id": "Ipv6CidrBlockAssociationSet.AssociationId",
    "ipv6-cidr-block-association.state": "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State",
    "ipv6-native": "Ipv6Native", "map-public-ip-on-launch": "MapPublicIpOnLaunch",
    "owner-id": "OwnerId", "state": "State", "subnet-arn": "SubnetArn", "subnet-id": "SubnetId",
    "vpc-id": "VpcId", "enable-dns64": "EnableDns64",
    "private-dns-name-options-on-launch.hostname-type": "PrivateDnsNameOptionsOnLaunch.HostnameType",
})


def subnet_not_found(subnet_id: str) -> ServiceError:
    return not_found("InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}' does not exist")


def get_subnet(resources: Resources, scope: Scope, subnet_id: str | None) -> dict:
    """The subnet's document, or InvalidSubnetID.NotFound / .Malformed."""
    if not subnet_id:
        raise missing_parameter("The request must contain the parameter subnetId")
    check_id(subnet_id, "subnet", "InvalidSubnetID.Malformed")
    doc = resources.get(scope, "subnet", subnet_id)
    if doc is None:
        raise subnet_not_found(subnet_id)
    return doc


def default_subnet(resources: Resources, scope: Scope, zone_name: str | None = None) -> dict | None:
    """The default VPC's subnet in `zone_name` (a zone name or id), or its first when None.

    None when there is no default VPC (deleted) or no default subnet in that zone: RunInstances
    then answers MissingInput/VPCIdNotSpecified as AWS does.
    """
    vpc_id = default_vpc_id(resources, scope)
    if not vpc_id:
        return None
    candidates = [s for s in resources.all(scope, "subnet") if s["VpcId"] == vpc_id and s.get("DefaultForAz")]
    if zone_name:
        candidates = [s for s in candidates if zone_name in (s["AvailabilityZone"], s["AvailabilityZoneId"])]
    candidates.sort(key=lambda s: s["AvailabilityZone"])
    return candidates[0] if candidates else None


def with_counts(db, scope: Scope, docs: list[dict]) -> list[dict]:
    """Subnets with AvailableIpAddressCount as it is now."""
    used = ipam.used_counts(db, scope)
    out = []
    for d in docs:
        size = ipaddress.ip_network(d["CidrBlock"]).num_addresses - 5
        out.append({**d, "AvailableIpAddressCount": max(size - used.get(d["SubnetId"], 0), 0)})
    return out


def _check_prefix(cidr: str, network: ipaddress.IPv4Network) -> None:
    if not 16 <= network.prefixlen <= 28:
        raise ServiceError("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.", 400)


def _conflicts(resources: Resources, scope: Scope, vpc_id: str, network: ipaddress.IPv4Network) -> bool:
    return any(network.overlaps(ipaddress.ip_network(s["CidrBlock"]))
               for s in resources.all(scope, "subnet") if s["VpcId"] == vpc_id)


class SubnetOperations:
    resources: Resources

    def create_subnet(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        cidr = request.get("CidrBlock")
        if not cidr and not request.get("Ipv6Native"):
            raise missing_parameter("The request must contain the parameter cidrBlock")
        tags = tag_specifications(request, ("subnet",))
        with self.env.db.transaction():
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            network = ipv4_cidr(cidr)
            _check_prefix(cidr, network)
            if not any(network.subnet_of(block) for block in vpc_cidrs(vpc)):
                raise ServiceError("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.", 400)
            if _conflicts(self.resources, scope, vpc["VpcId"], network):
                raise ServiceError("InvalidSubnet.Conflict", f"The CIDR '{cidr}' conflicts with another subnet", 400)
            where = _zone(scope, request.get("AvailabilityZone"), request.get("AvailabilityZoneId"))
            subnet_id = new_id("subnet")
            doc = default_vpc.subnet_doc(scope, subnet_id, vpc["VpcId"], str(network), where)
            if request.get("Ipv6CidrBlock"):
                block = _ipv6_subnet_block(self.resources, scope, vpc, request["Ipv6CidrBlock"])
                doc["Ipv6CidrBlockAssociationSet"] = [{
                    "AssociationId": new_id("subnet-cidr-assoc"), "Ipv6CidrBlock": block,
                    "Ipv6CidrBlockState": {"State": "associated"}}]
            self.resources.insert(scope, "subnet", subnet_id, doc)
            self.resources.set_tags(scope, subnet_id, tags.get("subnet", []))
            self._join_default_acl(scope, vpc["VpcId"], subnet_id)
        return {"Subnet": {**doc, **({"Tags": tags["subnet"]} if tags.get("subnet") else {})}}

    def _join_default_acl(self, scope: Scope, vpc_id: str, subnet_id: str) -> None:
        for acl in self.resources.all(scope, "network-acl"):
            if acl["VpcId"] == vpc_id and acl.get("IsDefault"):
                acl["Associations"].append({"NetworkAclAssociationId": new_id("aclassoc"),
                                            "NetworkAclId": acl["NetworkAclId"], "SubnetId": subnet_id})
                self.resources.update(scope, acl["NetworkAclId"], acl)

    def associate_subnet_cidr_block(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_subnet(self.resources, scope, request.get("SubnetId"))
            if not request.get("Ipv6CidrBlock"):
                raise missing_parameter("The request must contain the parameter ipv6CidrBlock")
            if doc.get("Ipv6CidrBlockAssociationSet"):
                raise ServiceError("CidrLimitExceeded",
                                   f"This network '{doc['SubnetId']}' has met its maximum number of allowed CIDRs: 1",
                                   400)
            vpc = get_vpc(self.resources, scope, doc["VpcId"])
            assoc = {"AssociationId": new_id("subnet-cidr-assoc"),
                     "Ipv6CidrBlock": _ipv6_subnet_block(self.resources, scope, vpc, request["Ipv6CidrBlock"]),
                     "Ipv6CidrBlockState": {"State": "associated"}}
            doc["Ipv6CidrBlockAssociationSet"] = [assoc]
            self.resources.update(scope, doc["SubnetId"], doc)
        return {"SubnetId": doc["SubnetId"],
                "Ipv6CidrBlockAssociation": {**assoc, "Ipv6CidrBlockState": {"State": "associating"}}}

    def disassociate_subnet_cidr_block(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        assoc_id = request.get("AssociationId") or ""
        with self.env.db.transaction():
            for doc in self.resources.all(scope, "subnet"):
                assoc = next((a for a in doc.get("Ipv6CidrBlockAssociationSet", [])
                              if a["AssociationId"] == assoc_id), None)
                if assoc is None:
                    continue
                doc["Ipv6CidrBlockAssociationSet"] = []
                doc["AssignIpv6AddressOnCreation"] = False
                self.resources.update(scope, doc["SubnetId"], doc)
                return {"SubnetId": doc["SubnetId"],
                        "Ipv6CidrBlockAssociation": {**assoc, "Ipv6CidrBlockState": {"State": "disassociating"}}}
        raise not_found("InvalidSubnetCidrBlockAssociationID.NotFound",
                        f"The subnet CIDR block with association ID '{assoc_id}' does not exist")

    def create_default_subnet(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            vpc_id = default_vpc_id(self.resources, scope)
            if not vpc_id:
                raise ServiceError("DefaultVpcDoesNotExist", "No default VPC for this user", 400)
            where = _zone(scope, request.get("AvailabilityZone"), request.get("AvailabilityZoneId"), required=True)
            if default_subnet(self.resources, scope, where["ZoneName"]):
                raise ServiceError("DefaultSubnetAlreadyExistsInAvailabilityZone",
                                   f"Default subnet already exists in the availability zone {where['ZoneName']}.",
                                   400)
            # The next free /20 of 172.31.0.0/16.
            taken = [ipaddress.ip_network(s["CidrBlock"]) for s in self.resources.all(scope, "subnet")
                     if s["VpcId"] == vpc_id]
            block = next((b for b in ipaddress.ip_network(default_vpc.CIDR).subnets(new_prefix=20)
                          if not any(b.overlaps(t) for t in taken)), None)
            if block is None:
                raise ServiceError("InsufficientFreeAddressesInSubnet",
                                   "There are no free /20 blocks in the default VPC's CIDR.", 400)
            subnet_id = new_id("subnet")
            doc = default_vpc.subnet_doc(scope, subnet_id, vpc_id, str(block), where,
                                         default_for_az=True, map_public_ip=True)
            self.resources.insert(scope, "subnet", subnet_id, doc)
            self._join_default_acl(scope, vpc_id, subnet_id)
        return {"Subnet": doc}

    def describe_subnets(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        for s in request.get("SubnetIds") or []:
            check_id(s, "subnet", "InvalidSubnetID.Malformed")
        # Counts first: the available-ip-address-count filter reads them.
        ids = request.get("SubnetIds") or []
        if ids:
            found = self.resources.many(scope, "subnet", ids)
            absent = [i for i in dict.fromkeys(ids) if i not in found]
            if absent:
                raise subnet_not_found(absent[0])
            docs = [found[i] for i in dict.fromkeys(ids)]
        else:
            docs = self.resources.all(scope, "subnet")
        docs = with_tags(self.resources, scope, with_counts(self.env.db, scope, docs), "SubnetId")
        docs = filters.apply(docs, request.get("Filters"), SUBNET_FILTERS)
        page, token = paginate(docs, request, ids_given="SubnetIds")
        return {"Subnets": page, **({"NextToken": token} if token else {})}

    def delete_subnet(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_subnet(self.resources, scope, request.get("SubnetId"))
            subnet_id = doc["SubnetId"]
            busy = (ipam.used_counts(self.env.db, scope).get(subnet_id)
                    or any(n["SubnetId"] == subnet_id and n["State"] in ("pending", "available")
                           for n in self.resources.all(scope, "nat-gateway"))
                    or any(subnet_id in e.get("SubnetIds", []) and e["State"] != "deleted"
                           for e in self.resources.all(scope, "vpc-endpoint"))
                    or any(subnet_id in a.get("SubnetIds", []) and not a.get("_DeleteTime")
                           for a in self.resources.all(scope, "transit-gateway-attachment")))
            if busy:
                raise dependency_violation(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
            for table in self.resources.all(scope, "route-table"):
                kept = [a for a in table["Associations"] if a.get("SubnetId") != subnet_id]
                if len(kept) != len(table["Associations"]):
                    table["Associations"] = kept
                    self.resources.update(scope, table["RouteTableId"], table)
            for acl in self.resources.all(scope, "network-acl"):
                kept = [a for a in acl["Associations"] if a.get("SubnetId") != subnet_id]
                if len(kept) != len(acl["Associations"]):
                    acl["Associations"] = kept
                    self.resources.update(scope, acl["NetworkAclId"], acl)
            self.resources.delete(scope, subnet_id)
        return {}

    def modify_subnet_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        members = {
            "MapPublicIpOnLaunch": "MapPublicIpOnLaunch",
            "AssignIpv6AddressOnCreation": "AssignIpv6AddressOnCreation",
            "MapCustomerOwnedIpOnLaunch": "MapCustomerOwnedIpOnLaunch",
            "EnableDns64": "EnableDns64",
        }
        given = {k: v for k, v in request.items() if k in members or k in (
            "PrivateDnsHostnameTypeOnLaunch", "EnableResourceNameDnsARecordOnLaunch",
            "EnableResourceNameDnsAAAARecordOnLaunch", "EnableLniAtDeviceIndex", "DisableLniAtDeviceIndex",
            "CustomerOwnedIpv4Pool")}
        with self.env.db.transaction():
            doc = get_subnet(self.resources, scope, request.get("SubnetId"))
            if not given:
                raise invalid_parameter_value("Value for parameter attribute is missing")
            for key, value in given.items():
                if key in members:
                    value = bool(value.get("Value"))
                    if key == "AssignIpv6AddressOnCreation" and value and not doc.get("Ipv6CidrBlockAssociationSet"):
                        raise invalid_parameter_value(
                            "Invalid value 'true' for assignIpv6AddressOnCreation. Cannot set "
                            "assignIpv6AddressOnCreation to true unless the subnet "
                            f"({doc['SubnetId']}) has an IPv6 CIDR block associated with it.")
                    doc[members[key]] = value
                elif key == "PrivateDnsHostnameTypeOnLaunch":
                    doc["PrivateDnsNameOptionsOnLaunch"]["HostnameType"] = value
                elif key == "EnableResourceNameDnsARecordOnLaunch":
                    doc["PrivateDnsNameOptionsOnLaunch"]["EnableResourceNameDnsARecord"] = bool(value.get("Value"))
                elif key == "EnableResourceNameDnsAAAARecordOnLaunch":
                    doc["PrivateDnsNameOptionsOnLaunch"]["EnableResourceNameDnsAAAARecord"] = bool(value.get("Value"))
            self.resources.update(scope, doc["SubnetId"], doc)
        return {}


def _ipv6_subnet_block(resources: Resources, scope: Scope, vpc: dict, value: str) -> str:
    """A /64 inside one of the VPC's IPv6 blocks and no other subnet's (InvalidSubnet.Range / .Conflict)."""
    try:
        block = ipaddress.IPv6Network(value, strict=True)
    except ValueError:
        raise invalid_parameter_value(f"Value ({value}) for parameter ipv6CidrBlock is invalid. "
                                      "This is not a valid IPv6 CIDR block.")
    blocks = [ipaddress.ip_network(a["Ipv6CidrBlock"]) for a in vpc.get("Ipv6CidrBlockAssociationSet", [])]
    if block.prefixlen != 64 or not any(block.subnet_of(b) for b in blocks):
        raise ServiceError("InvalidSubnet.Range", f"The IPv6 CIDR '{value}' is invalid.", 400)
    for s in resources.all(scope, "subnet"):
        if s["VpcId"] == vpc["VpcId"] and any(
                ipaddress.ip_network(a["Ipv6CidrBlock"]) == block for a in s.get("Ipv6CidrBlockAssociationSet", [])):
            raise ServiceError("InvalidSubnet.Conflict", f"The CIDR '{value}' conflicts with another subnet", 400)
    return str(block)


def _zone(scope: Scope, name: str | None, zone_id: str | None, required: bool = False) -> dict:
    if name and zone_id:
        from gureum.services.ec2.errors import invalid_parameter_combination
        raise invalid_parameter_combination(
            "The parameters AvailabilityZone and AvailabilityZoneId cannot be used together")
    wanted = name or zone_id
    if not wanted:
        if required:
            raise missing_parameter("The request must contain the parameter availabilityZone")
        # AWS picks a zone for the subnet; the first keeps things predictable.
        return zones(scope.region)[0]
    found = zone(scope.region, wanted)
    if found is None:
        raise invalid_parameter_value(f"Value ({wanted}) for parameter availabilityZone is invalid. "
                                      f"Subnets can currently only be created in the following availability "
                                      f"zones: {', '.join(z['ZoneName'] for z in zones(scope.region))}.")
    return found
