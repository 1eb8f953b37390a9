"""VPCs: CreateVpc (with its main route table, default security group, default network ACL and
DHCP options), DescribeVpcs, DeleteVpc, VPC attributes, secondary CIDR blocks, CreateDefaultVpc.

`get_vpc(resources, scope, vpc_id)` is the lookup other families use (InvalidVpcID.NotFound).
DNS attributes are kept beside the describe shape (`EnableDnsSupport`/`EnableDnsHostnames`
members no Vpc shape has, so they never reach the wire).
"""

from __future__ import annotations

import ipaddress
import secrets

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import default_vpc, filters
from gureum.services.ec2.errors import (
    check_id, dependency_violation, invalid_parameter_value, missing_parameter, not_found)
from gureum.services.ec2.store import Resources, Scope, describe, new_id, paginate
from gureum.services.ec2.tags import tag_specifications

VPC_FILTERS = filters.paths({
    "cidr": "CidrBlock", "cidr-block-association.cidr-block": "CidrBlockAssociationSet.CidrBlock",
    "cidr-block-association.association-id": "CidrBlockAssociationSet.AssociationId",
    "cidr-block-association.state": "CidrBlockAssociationSet.CidrBlockState.State",
    "dhcp-options-id": "DhcpOptionsId",
    "ipv6-cidr-block-association.ipv6-cidr-block": "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock",
    "ipv6-cidr-block-association.association-id": "Ipv6CidrBlockAssociationSet.AssociationId",
    "ipv6-cidr-block-association.state": "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State",
    "ipv6-cidr-block-association.ipv6-pool": "Ipv6CidrBlockAssociationSet.Ipv6Pool",
    "is-default": "IsDefault", "owner-id": "OwnerId", "state": "State", "vpc-id": "VpcId",
    "instance-tenancy": "InstanceTenancy",
})

MAX_CIDR_BLOCKS = 5


def vpc_not_found(vpc_id: str) -> ServiceError:
    return not_found("InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist")


def get_vpc(resources: Resources, scope: Scope, vpc_id: str | None) -> dict:
    """The VPC's document, or InvalidVpcID.NotFound / MissingParameter."""
    if not vpc_id:
        raise missing_parameter("The request must contain the parameter vpcId")
    check_id(vpc_id, "vpc", "InvalidVpcID.Malformed")
    doc = resources.get(scope, "vpc", vpc_id)
    if doc is None:
        raise vpc_not_found(vpc_id)
    return doc


def default_vpc_id(resources: Resources, scope: Scope) -> str | None:
    """The scope's default VPC, None once deleted."""
    vpc_id = (resources.settings(scope) or {}).get("DefaultVpcId")
    return vpc_id if vpc_id and resources.get(scope, "vpc", vpc_id) else None


def ipv4_cidr(value: str | None, parameter: str = "cidrBlock") -> ipaddress.IPv4Network:
    """A strict IPv4 CIDR (host bits clear), or AWS's InvalidParameterValue."""
    try:
        if not value or "/" not in value:
            raise ValueError
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise invalid_parameter_value(
            f"Value ({value}) for parameter {parameter} is invalid. This is not a valid CIDR block.")


def vpc_cidrs(doc: dict) -> list[ipaddress.IPv4Network]:
    """The VPC's associated IPv4 blocks."""
    return [ipaddress.ip_network(a["CidrBlock"]) for a in doc.get("CidrBlockAssociationSet", [])
            if a["CidrBlockState"]["State"] in ("associated", "associating")]


def _ipv6_block(scope: Scope, border_group: str | None = None) -> dict:
    """An Amazon-provided /56 from 2600:1f00::/24 (AWS's EC2 IPv6 space)."""
    bits = secrets.randbits(32)
    block = ipaddress.IPv6Network((int(ipaddress.ip_address("2600:1f00::")) | (bits << 72), 56))
    return {"AssociationId": new_id("vpc-cidr-assoc"), "Ipv6CidrBlock": str(block),
            "Ipv6CidrBlockState": {"State": "associated"}, "NetworkBorderGroup": border_group or scope.region,
            "Ipv6Pool": "Amazon"}


def create_vpc_resources(resources: Resources, scope: Scope, vpc_id: str) -> None:
    """What CreateVpc makes beside the VPC: main route table, default SG and network ACL."""
    from gureum.services.ec2 import route_tables

    doc = resources.get(scope, "vpc", vpc_id)
    route_tables.create_table(resources, scope, doc, main=True)
    default_vpc.create_default_security_group(resources, scope, vpc_id)
    acl = new_id("acl")
    resources.insert(scope, "network-acl", acl, {
        "NetworkAclId": acl, "VpcId": vpc_id, "OwnerId": scope.account_id, "IsDefault": True,
        "Entries": default_vpc.default_acl_entries(), "Associations": [],
    })


def _region_dhcp_options(resources: Resources, scope: Scope) -> str:
    default = default_vpc_id(resources, scope)
    if default:
        return resources.get(scope, "vpc", default)["DhcpOptionsId"]
    found = resources.all(scope, "dhcp-options")
    return found[0]["DhcpOptionsId"] if found else "default"


def dns_attributes(doc: dict) -> tuple[bool, bool]:
    """(enableDnsSupport, enableDnsHostnames): the default VPC has both on, others support only."""
    return doc.get("EnableDnsSupport", True), doc.get("EnableDnsHostnames", bool(doc.get("IsDefault")))


class VpcOperations:
    resources: Resources

    def create_vpc(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        cidr = request.get("CidrBlock")
        if not cidr and not request.get("Ipv4IpamPoolId"):
            raise missing_parameter("Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
        network = ipv4_cidr(cidr)
        if not 16 <= network.prefixlen <= 28:
            raise ServiceError("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.", 400)
        tenancy = request.get("InstanceTenancy") or "default"
        if tenancy not in ("default", "dedicated", "host"):
            raise invalid_parameter_value(f"Value ({tenancy}) for parameter instanceTenancy is invalid.")
        tags = tag_specifications(request, ("vpc",))
        vpc_id = new_id("vpc")
        doc = {
            "VpcId": vpc_id, "OwnerId": scope.account_id, "State": "available", "CidrBlock": str(network),
            "InstanceTenancy": tenancy, "IsDefault": False,
            "CidrBlockAssociationSet": [{"AssociationId": new_id("vpc-cidr-assoc"), "CidrBlock": str(network),
                                         "CidrBlockState": {"State": "associated"}}],
            "Ipv6CidrBlockAssociationSet": [],
            "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
        }
        if request.get("AmazonProvidedIpv6CidrBlock"):
            doc["Ipv6CidrBlockAssociationSet"].append(
                _ipv6_block(scope, request.get("Ipv6CidrBlockNetworkBorderGroup")))
        with self.env.db.transaction():
            doc["DhcpOptionsId"] = _region_dhcp_options(self.resources, scope)
            self.resources.insert(scope, "vpc", vpc_id, doc)
            self.resources.set_tags(scope, vpc_id, tags.get("vpc", []))
            create_vpc_resources(self.resources, scope, vpc_id)
        out = {k: v for k, v in doc.items() if k != "State"}
        out["State"] = "pending"
        if tags.get("vpc"):
            out["Tags"] = tags["vpc"]
        return {"Vpc": out}

    def describe_vpcs(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        for v in request.get("VpcIds") or []:
            check_id(v, "vpc", "InvalidVpcID.Malformed")
        docs = describe(self.resources, scope, "vpc", "VpcId", request, "VpcIds", VPC_FILTERS,
                        lambda ids: vpc_not_found(ids[0]))
        page, token = paginate(docs, request, ids_given="VpcIds")
        return {"Vpcs": page, **({"NextToken": token} if token else {})}

    def delete_vpc(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_vpc(self.resources, scope, request.get("VpcId"))
            vpc_id = doc["VpcId"]
            r = self.resources

            def in_vpc(kind: str, *, keep=lambda d: False) -> list[dict]:
                return [d for d in r.all(scope, kind) if d.get("VpcId") == vpc_id and not keep(d)]

            attached = [g for g in r.all(scope, "internet-gateway")
                        if any(a.get("VpcId") == vpc_id for a in g.get("Attachments", []))]
            eigw = [g for g in r.all(scope, "egress-only-internet-gateway")
                    if any(a.get("VpcId") == vpc_id for a in g.get("Attachments", []))]
            live_nat = [n for n in in_vpc("nat-gateway") if n["State"] not in ("deleted", "deleting", "failed")]
            live_endpoints = [e for e in in_vpc("vpc-endpoint") if e["State"] not in ("deleted",)]
            if (in_vpc("subnet") or attached or eigw or live_nat or live_endpoints
                    or in_vpc("security-group", keep=lambda d: d["GroupName"] == "default")
                    or in_vpc("route-table", keep=_is_main)
                    or in_vpc("network-acl", keep=lambda d: d.get("IsDefault"))
                    or in_vpc("network-interface")):
                raise dependency_violation(f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
            for kind, key in (("security-group", "GroupId"), ("route-table", "RouteTableId"),
                              ("network-acl", "NetworkAclId")):
                for d in in_vpc(kind):
                    if kind == "security-group":
                        for rule in r.all(scope, "security-group-rule"):
                            if rule["GroupId"] == d["GroupId"]:
                                r.delete(scope, rule["SecurityGroupRuleId"])
                    r.delete(scope, d[key])
            for flow in r.all(scope, "flow-log"):
                if flow.get("ResourceId") == vpc_id:
                    r.delete(scope, flow["FlowLogId"])
            r.delete(scope, vpc_id)
            settings = r.settings(scope) or {}
            if settings.get("DefaultVpcId") == vpc_id:
                settings["DefaultVpcId"] = None
                r.save_settings(scope, settings)
        return {}

    def modify_vpc_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        given = [(name, request[key]) for name, key in (("EnableDnsSupport", "EnableDnsSupport"),
                                                      ("EnableDnsHostnames", "EnableDnsHostnames"),
                                                      ("EnableNetworkAddressUsageMetrics",
                                                       "EnableNetworkAddressUsageMetrics"))
                 if request.get(key) is not None]
        if len(given) != 1:
            raise invalid_parameter_value(
                "Fields for multiple attribute types specified: enableDnsSupport, enableDnsHostnames"
                if given else "Value for parameter attribute is missing")
        with self.env.db.transaction():
            doc = get_vpc(self.resources, scope, request.get("VpcId"))
            name, value = given[0]
            value = bool(value.get("Value"))
            support, hostnames = dns_attributes(doc)
            if name == "EnableDnsHostnames" and value and not support:
                raise invalid_parameter_value(
                    "Invalid value 'true' for enableDnsHostnames: "
                    "requires enableDnsSupport to be true")
            doc[name] = value
            self.resources.update(scope, doc["VpcId"], doc)
        return {}

    def describe_vpc_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = get_vpc(self.resources, scope, request.get("VpcId"))
        attribute = request.get("Attribute")
        support, hostnames = dns_attributes(doc)
        values = {"enableDnsSupport": ("EnableDnsSupport", support),
                  "enableDnsHostnames": ("EnableDnsHostnames", hostnames),
                  "enableNetworkAddressUsageMetrics": ("EnableNetworkAddressUsageMetrics",
                                                       doc.get("EnableNetworkAddressUsageMetrics", False))}
        if attribute not in values:
            raise invalid_parameter_value(f"Value ({attribute}) for parameter attribute is invalid. "
                                          "Unknown attribute.")
        key, value = values[attribute]
        return {"VpcId": doc["VpcId"], key: {"Value": value}}

    def associate_vpc_cidr_block(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_vpc(self.resources, scope, request.get("VpcId"))
            if request.get("AmazonProvidedIpv6CidrBlock"):
                if doc.get("Ipv6CidrBlockAssociationSet"):
                    raise ServiceError("CidrLimitExceeded",
                                       f"This network '{doc['VpcId']}' has met its maximum number of allowed"
                                       " CIDRs: 1", 400)
                assoc = _ipv6_block(scope, request.get("Ipv6CidrBlockNetworkBorderGroup"))
                doc["Ipv6CidrBlockAssociationSet"].append(assoc)
                self.resources.update(scope, doc["VpcId"], doc)
                return {"VpcId": doc["VpcId"], "Ipv6CidrBlockAssociation": {
                    **assoc, "Ipv6CidrBlockState": {"State": "associating"}}}
            cidr = request.get("CidrBlock")
            if not cidr:
                raise missing_parameter("Either 'cidrBlock' or 'amazonProvidedIpv6CidrBlock' should be provided.")
            network = ipv4_cidr(cidr)
            if not 16 <= network.prefixlen <= 28:
                raise ServiceError("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.", 400)
            current = vpc_cidrs(doc)
            if len(current) >= MAX_CIDR_BLOCKS:
                raise ServiceError("CidrLimitExceeded",
                                   f"This network '{doc['VpcId']}' has met its maximum number of allowed CIDRs:"
                                   f" {MAX_CIDR_BLOCKS}", 400)
            if any(network.overlaps(c) for c in current):
                raise ServiceError("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.", 400)
            assoc = {"AssociationId": new_id("vpc-cidr-assoc"), "CidrBlock": str(network),
                     "CidrBlockState": {"State": "associated"}}
            doc["CidrBlockAssociationSet"].append(assoc)
            self.resources.update(scope, doc["VpcId"], doc)
            # The main route table learns the new block's local route.
            from gureum.services.ec2 import route_tables
            route_tables.add_local_route(self.resources, scope, doc["VpcId"], str(network))
        return {"VpcId": doc["VpcId"], "CidrBlockAssociation": {**assoc, "CidrBlockState": {"State": "associating"}}}

    def disassociate_vpc_cidr_block(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        assoc_id = request.get("AssociationId") or ""
        with self.env.db.transaction():
            for doc in self.resources.all(scope, "vpc"):
                for kind in ("CidrBlockAssociationSet", "Ipv6CidrBlockAssociationSet"):
                    for assoc in doc.get(kind, []):
                        if assoc["AssociationId"] != assoc_id:
                            continue
                        if kind == "CidrBlockAssociationSet":
                            if assoc["CidrBlock"] == doc["CidrBlock"]:
                                raise ServiceError(
                                    "OperationNotPermitted",
                                    f"The vpc CIDR block with association ID {assoc_id} may not be disassociated."
                                    " It is the primary IPv4 CIDR block of the VPC", 400)
                            block = ipaddress.ip_network(assoc["CidrBlock"])
                            if any(ipaddress.ip_network(s["CidrBlock"]).subnet_of(block)
                                   for s in self.resources.all(scope, "subnet") if s["VpcId"] == doc["VpcId"]):
                                raise dependency_violation(
                                    f"The vpc CIDR block with association ID {assoc_id} has dependencies and"
                                    " cannot be disassociated.")
                            from gureum.services.ec2 import route_tables
                            route_tables.remove_local_route(self.resources, scope, doc["VpcId"], assoc["CidrBlock"])
                        doc[kind] = [a for a in doc[kind] if a["AssociationId"] != assoc_id]
                        self.resources.update(scope, doc["VpcId"], doc)
                        state_key = "CidrBlockState" if kind == "CidrBlockAssociationSet" else "Ipv6CidrBlockState"
                        out = {**assoc, state_key: {"State": "disassociating"}}
                        key = "CidrBlockAssociation" if kind == "CidrBlockAssociationSet" else "Ipv6CidrBlockAssociation"
                        return {"VpcId": doc["VpcId"], key: out}
        raise not_found("InvalidVpcCidrBlockAssociationID.NotFound",
                        f"The vpc CIDR block association ID '{assoc_id}' does not exist")

    def describe_account_attributes(self, ctx: RequestContext, request: dict) -> dict:
        """The account's EC2 platform facts (what Terraform and the console ask first)."""
        from gureum.services.ec2.addresses import address_limit
        scope = self.scope(ctx)
        eips = str(address_limit(self.env, scope))
        values = {
            "supported-platforms": ["VPC"],
            "default-vpc": [default_vpc_id(self.resources, scope) or "none"],
            "max-instances": ["20"],
            "vpc-max-security-groups-per-interface": ["5"],
            "max-elastic-ips": [eips],
            "vpc-max-elastic-ips": [eips],
        }
        names = request.get("AttributeNames") or list(values)
        for name in names:
            if name not in values:
                raise invalid_parameter_value(f"Value ({name}) for parameter attributeName is invalid.")
        return {"AccountAttributes": [{"AttributeName": n, "AttributeValues": [{"AttributeValue": v}
                                                                                for v in values[n]]}
                                      for n in names]}

    # EC2-Classic is retired: no VPC has ClassicLink, but tools still ask (Terraform's aws_vpc).

    def describe_vpc_classic_link(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = describe(self.resources, scope, "vpc", "VpcId", request, "VpcIds", {},
                        lambda ids: vpc_not_found(ids[0]))
        return {"Vpcs": [{"VpcId": d["VpcId"], "ClassicLinkEnabled": False,
                          **({"Tags": d["Tags"]} if d.get("Tags") else {})} for d in docs]}

    def describe_vpc_classic_link_dns_support(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = describe(self.resources, scope, "vpc", "VpcId", request, "VpcIds", {},
                        lambda ids: vpc_not_found(ids[0]))
        page, token = paginate(docs, request)
        return {"Vpcs": [{"VpcId": d["VpcId"], "ClassicLinkDnsSupported": False} for d in page],
                **({"NextToken": token} if token else {})}

    def create_default_vpc(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            if default_vpc_id(self.resources, scope):
                raise ServiceError("DefaultVpcAlreadyExists",
                                   "A Default VPC already exists for this account in this region.", 400)
            vpc_id = default_vpc.create(self.resources, scope)
            settings = self.resources.settings(scope) or {}
            settings["DefaultVpcId"] = vpc_id
            self.resources.save_settings(scope, settings)
            doc = self.resources.get(scope, "vpc", vpc_id)
        return {"Vpc": doc}


def _is_main(route_table: dict) -> bool:
    return any(a.get("Main") for a in route_table.get("Associations", []))
