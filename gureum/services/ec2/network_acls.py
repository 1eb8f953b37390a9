"""Network ACLs and DHCP option sets.

Every subnet is associated with exactly one network ACL (its VPC's default one unless
replaced); entries are numbered 1-32766 per direction, 32767 is the `*` deny AWS keeps.
A VPC uses one DHCP option set ("default" meaning none).
"""

from __future__ import annotations

import ipaddress

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import (
    check_id, dependency_violation, invalid_parameter_value, missing_parameter, not_found)
from gureum.services.ec2.store import Resources, Scope, describe, new_id, paginate
from gureum.services.ec2.tags import tag_specifications
from gureum.services.ec2.vpcs import get_vpc

ACL = "network-acl"
DOPT = "dhcp-options"

_ACL_FILTERS = filters.paths({
    "association.association-id": "Associations.NetworkAclAssociationId",
    "association.network-acl-id": "Associations.NetworkAclId", "association.subnet-id": "Associations.SubnetId",
    "default": "IsDefault", "entry.cidr": "Entries.CidrBlock", "entry.egress": "Entries.Egress",
    "entry.icmp.code": "Entries.IcmpTypeCode.Code", "entry.icmp.type": "Entries.IcmpTypeCode.Type",
    "entry.ipv6-cidr": "Entries.Ipv6CidrBlock", "entry.port-range.from": "Entries.PortRange.From",
    "entry.port-range.to": "Entries.PortRange.To", "entry.protocol": "Entries.Protocol",
    "entry.rule-action": "Entries.RuleAction", "entry.rule-number": "Entries.RuleNumber",
    "network-acl-id": "NetworkAclId", "owner-id": "OwnerId", "vpc-id": "VpcId",
})
_DOPT_FILTERS = filters.paths({"dhcp-options-id": "DhcpOptionsId", "key": "DhcpConfigurations.Key",
                               "value": "DhcpConfigurations.Values.Value", "owner-id": "OwnerId"})
_PROTOCOLS = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "all": "-1"}
_DHCP_KEYS = ("domain-name", "domain-name-servers", "ntp-servers", "netbios-name-servers", "netbios-node-type",
              "ipv6-address-preferred-lease-time")


def acl_not_found(acl_id: str) -> ServiceError:
    return not_found("InvalidNetworkAclID.NotFound", f"The networkAcl ID '{acl_id}' does not exist")


def get_acl(resources: Resources, scope: Scope, acl_id: str | None) -> dict:
    if not acl_id:
        raise missing_parameter("The request must contain the parameter networkAclId")
    check_id(acl_id, "acl", "InvalidNetworkAclID.Malformed")
    doc = resources.get(scope, ACL, acl_id)
    if doc is None:
        raise acl_not_found(acl_id)
    return doc


def _entry(request: dict) -> dict:
    number = request.get("RuleNumber")
    if number is None or not 1 <= number <= 32766:
        raise invalid_parameter_value(f"Value ({number}) for parameter ruleNumber is invalid. "
                                      "Rule number must be between 1 and 32766.")
    protocol = str(request.get("Protocol") or "").lower()
    protocol = _PROTOCOLS.get(protocol, protocol)
    if not (protocol == "-1" or protocol.isdigit() and 0 <= int(protocol) <= 255):
        raise invalid_parameter_value(f"Invalid value '{request.get('Protocol')}' for protocol.")
    action = request.get("RuleAction")
    if action not in ("allow", "deny"):
        raise invalid_parameter_value(f"Value ({action}) for parameter ruleAction is invalid.")
    entry: dict = {"Egress": bool(request.get("Egress")), "Protocol": protocol, "RuleAction": action,
                   "RuleNumber": number}
    if request.get("CidrBlock"):
        try:
            entry["CidrBlock"] = str(ipaddress.IPv4Network(request["CidrBlock"], strict=False))
        except ValueError:
            raise invalid_parameter_value(f"Value ({request['CidrBlock']}) for parameter cidrBlock is invalid. "
                                          "This is not a valid CIDR block.")
    elif request.get("Ipv6CidrBlock"):
        entry["Ipv6CidrBlock"] = request["Ipv6CidrBlock"]
    else:
        raise missing_parameter("The request must contain the parameter cidrBlock or ipv6CidrBlock")
    if protocol in ("6", "17"):
        ports = request.get("PortRange") or {}
        if ports.get("From") is None or ports.get("To") is None:
            raise invalid_parameter_value("TCP/UDP protocol requires a port range")
        entry["PortRange"] = {"From": ports["From"], "To": ports["To"]}
    if protocol in ("1", "58"):
        icmp = request.get("IcmpTypeCode") or {}
        if icmp.get("Type") is None or icmp.get("Code") is None:
            raise invalid_parameter_value("ICMP protocol requires an ICMP type and code")
        entry["IcmpTypeCode"] = {"Type": icmp["Type"], "Code": icmp["Code"]}
    return entry


class NetworkAclOperations:
    resources: Resources

    def create_network_acl(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        tags = tag_specifications(request, ("network-acl",)).get("network-acl", [])
        with self.env.db.transaction():
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            acl = new_id("acl")
            doc = {"NetworkAclId": acl, "VpcId": vpc["VpcId"], "OwnerId": scope.account_id, "IsDefault": False,
                   "Entries": [{"CidrBlock": "0.0.0.0/0", "Egress": egress, "Protocol": "-1", "RuleAction": "deny",
                                "RuleNumber": 32767} for egress in (True, False)],
                   "Associations": []}
            self.resources.insert(scope, ACL, acl, doc)
            self.resources.set_tags(scope, acl, tags)
        return {"NetworkAcl": {**doc, **({"Tags": tags} if tags else {})}}

    def describe_network_acls(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = describe(self.resources, scope, ACL, "NetworkAclId", request, "NetworkAclIds", _ACL_FILTERS,
                        lambda ids: acl_not_found(ids[0]))
        page, token = paginate(docs, request, ids_given="NetworkAclIds")
        return {"NetworkAcls": page, **({"NextToken": token} if token else {})}

    def delete_network_acl(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_acl(self.resources, scope, request.get("NetworkAclId"))
            if doc["IsDefault"]:
                raise ServiceError("InvalidParameterValue",
                                   f"cannot delete default network ACL {doc['NetworkAclId']}", 400)
            if doc["Associations"]:
                raise dependency_violation(
                    f"The networkAcl '{doc['NetworkAclId']}' has dependencies and cannot be deleted.")
            self.resources.delete(scope, doc["NetworkAclId"])
        return {}

    def create_network_acl_entry(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_acl(self.resources, scope, request.get("NetworkAclId"))
            entry = _entry(request)
            if any(e["RuleNumber"] == entry["RuleNumber"] and e["Egress"] == entry["Egress"] for e in doc["Entries"]):
                raise ServiceError("NetworkAclEntryAlreadyExists",
                                   f"The network acl entry identified by {entry['RuleNumber']} already exists.", 400)
            doc["Entries"].append(entry)
            doc["Entries"].sort(key=lambda e: (e["Egress"] is False, e["RuleNumber"]))
            self.resources.update(scope, doc["NetworkAclId"], doc)
        return {}

    def replace_network_acl_entry(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_acl(self.resources, scope, request.get("NetworkAclId"))
            entry = _entry(request)
            at = next((i for i, e in enumerate(doc["Entries"])
                       if e["RuleNumber"] == entry["RuleNumber"] and e["Egress"] == entry["Egress"]), None)
            if at is None:
                raise not_found("InvalidNetworkAclEntry.NotFound",
                                f"The network acl entry identified by {entry['RuleNumber']} does not exist.")
            doc["Entries"][at] = entry
            self.resources.update(scope, doc["NetworkAclId"], doc)
        return {}

    def delete_network_acl_entry(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_acl(self.resources, scope, request.get("NetworkAclId"))
            number, egress = request.get("RuleNumber"), bool(request.get("Egress"))
            kept = [e for e in doc["Entries"] if not (e["RuleNumber"] == number and e["Egress"] == egress)]
            if len(kept) == len(doc["Entries"]) or number == 32767:
                raise not_found("InvalidNetworkAclEntry.NotFound",
                                f"The network acl entry identified by {number} does not exist.")
            doc["Entries"] = kept
            self.resources.update(scope, doc["NetworkAclId"], doc)
        return {}

    def replace_network_acl_association(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        association_id = request.get("AssociationId") or ""
        with self.env.db.transaction():
            target = get_acl(self.resources, scope, request.get("NetworkAclId"))
            for acl in self.resources.all(scope, ACL):
                assoc = next((a for a in acl["Associations"] if a["NetworkAclAssociationId"] == association_id), None)
                if assoc is None:
                    continue
                if acl["VpcId"] != target["VpcId"]:
                    raise invalid_parameter_value("Network ACL and subnet belong to different networks")
                acl["Associations"] = [a for a in acl["Associations"] if a is not assoc]
                self.resources.update(scope, acl["NetworkAclId"], acl)
                target = self.resources.get(scope, ACL, target["NetworkAclId"])
                new = {"NetworkAclAssociationId": new_id("aclassoc"), "NetworkAclId": target["NetworkAclId"],
                       "SubnetId": assoc["SubnetId"]}
                target["Associations"].append(new)
                self.resources.update(scope, target["NetworkAclId"], target)
                return {"NewAssociationId": new["NetworkAclAssociationId"]}
        raise not_found("InvalidAssociationID.NotFound", f"The association ID '{association_id}' does not exist")

    # ---- DHCP options ----------------------------------------------------------------------

    def create_dhcp_options(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        configurations = []
        for conf in request.get("DhcpConfigurations") or []:
            key = conf.get("Key")
            if key not in _DHCP_KEYS:
                raise invalid_parameter_value(f"Value ({key}) for parameter dhcpConfiguration is invalid. "
                                              "Unrecognized option.")
            values = conf.get("Values") or []
            if key == "netbios-node-type" and any(v not in ("1", "2", "4", "8") for v in values):
                raise invalid_parameter_value(f"Value ({','.join(values)}) for parameter netbios-node-type is invalid.")
            configurations.append({"Key": key, "Values": [{"Value": v} for v in values]})
        if not configurations:
            raise missing_parameter("The request must contain the parameter dhcpConfiguration")
        tags = tag_specifications(request, ("dhcp-options",)).get("dhcp-options", [])
        dopt = new_id("dopt")
        doc = {"DhcpOptionsId": dopt, "OwnerId": scope.account_id, "DhcpConfigurations": configurations}
        with self.env.db.transaction():
            self.resources.insert(scope, DOPT, dopt, doc)
            self.resources.set_tags(scope, dopt, tags)
        return {"DhcpOptions": {**doc, **({"Tags": tags} if tags else {})}}

    def describe_dhcp_options(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = describe(self.resources, scope, DOPT, "DhcpOptionsId", request, "DhcpOptionsIds", _DOPT_FILTERS,
                        lambda ids: not_found("InvalidDhcpOptionID.NotFound",
                                              f"The dhcpOption ID '{ids[0]}' does not exist"))
        page, token = paginate(docs, request, ids_given="DhcpOptionsIds")
        return {"DhcpOptions": page, **({"NextToken": token} if token else {})}

    def associate_dhcp_options(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        dopt = request.get("DhcpOptionsId")
        with self.env.db.transaction():
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            if dopt != "default" and self.resources.get(scope, DOPT, dopt or "") is None:
                raise not_found("InvalidDhcpOptionID.NotFound", f"The dhcpOption ID '{dopt}' does not exist")
            vpc["DhcpOptionsId"] = dopt
            self.resources.update(scope, vpc["VpcId"], vpc)
        return {}

    def delete_dhcp_options(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        dopt = request.get("DhcpOptionsId") or ""
        with self.env.db.transaction():
            if self.resources.get(scope, DOPT, dopt) is None:
                raise not_found("InvalidDhcpOptionID.NotFound", f"The dhcpOption ID '{dopt}' does not exist")
            if any(v.get("DhcpOptionsId") == dopt for v in self.resources.all(scope, "vpc")):
                raise dependency_violation(f"The dhcpOptions '{dopt}' has dependencies and cannot be deleted.")
            self.resources.delete(scope, dopt)
        return {}
