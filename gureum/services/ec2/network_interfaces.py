"""Elastic network interfaces: their operations, and what instances need of them.

For RunInstances and the instance lifecycle (all inside the caller's transaction):

- `create_for_instance(resources, scope, instance_id=..., subnet_id=..., ...)` makes and
  attaches an interface (private IP from the subnet, public IP per MapPublicIpOnLaunch or
  AssociatePublicIpAddress, DNS names as AWS forms them) and returns its document.
- `attach_existing(resources, scope, eni_id, instance_id, device_index, ...)` attaches an
  interface the request names (RunInstances NetworkInterfaces[].NetworkInterfaceId).
- `release_for_instance(resources, scope, instance_id)` on termination: interfaces with
  DeleteOnTermination are deleted (their Elastic IP stays allocated, disassociated), others
  detached.
- `on_instance_stopped` / `on_instance_started`: an auto-assigned public IP is released on stop
  and a new one given on start; an Elastic IP stays.
- `instance_views(resources, scope, instance_ids)` -> {instance id: the Instance shape's
  network members (PrivateIpAddress, PrivateDnsName, PublicIpAddress, PublicDnsName, SubnetId,
  VpcId, SecurityGroups, SourceDestCheck, NetworkInterfaces)}: describe instances with it, so
  an Elastic IP association shows on the instance at once.

Members starting with "_" are bookkeeping the wire never sees (no shape has them).
"""

from __future__ import annotations

import ipaddress
import json
import secrets

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters, ipam
from gureum.services.ec2.errors import (
    check_id, invalid_parameter_combination, invalid_parameter_value, missing_parameter, not_found)
from gureum.services.ec2.security_groups import resolve_groups
from gureum.services.ec2.store import Resources, Scope, new_id, now_iso, paginate, with_tags
from gureum.services.ec2.subnets import get_subnet
from gureum.services.ec2.tags import tag_specifications

KIND = "network-interface"

ENI_FILTERS = filters.paths({
    "addresses.private-ip-address": "PrivateIpAddresses.PrivateIpAddress",
    "addresses.primary": "PrivateIpAddresses.Primary",
    "addresses.association.public-ip": "PrivateIpAddresses.Association.PublicIp",
    "addresses.association.owner-id": "PrivateIpAddresses.Association.IpOwnerId",
    "association.allocation-id": "Association.AllocationId",
    "association.association-id": "Association.AssociationId",
    "association.ip-owner-id": "Association.IpOwnerId",
    "association.public-ip": "Association.PublicIp",
    "association.public-dns-name": "Association.PublicDnsName",
    "attachment.attachment-id": "Attachment.AttachmentId",
    "attachment.attach-time": "Attachment.AttachTime",
    "attachment.delete-on-termination": "Attachment.DeleteOnTermination",
    "attachment.device-index": "Attachment.DeviceIndex",
    "attachment.instance-id": "Attachment.InstanceId",
    "attachment.instance-owner-id": "Attachment.InstanceOwnerId",
    "attachment.status": "Attachment.Status",
    "availability-zone": "AvailabilityZone", "description": "Description", "group-id": "Groups.GroupId",
    "group-name": "Groups.GroupName", "interface-type": "InterfaceType", "mac-address": "MacAddress",
    "network-interface-id": "NetworkInterfaceId", "owner-id": "OwnerId",
    "private-dns-name": "PrivateDnsName", "private-ip-address": "PrivateIpAddress",
    "requester-id": "RequesterId", "requester-managed": "RequesterManaged",
    "source-dest-check": "SourceDestCheck", "status": "Status", "subnet-id": "SubnetId", "vpc-id": "VpcId",
    "ipv6-addresses.ipv6-address": "Ipv6Addresses.Ipv6Address",
})


def eni_not_found(eni_id: str) -> ServiceError:
    return not_found("InvalidNetworkInterfaceID.NotFound", f"The networkInterface ID '{eni_id}' does not exist")


def get_interface(resources: Resources, scope: Scope, eni_id: str | None) -> dict:
    if not eni_id:
        raise missing_parameter("The request must contain the parameter networkInterfaceId")
    check_id(eni_id, "eni", "InvalidNetworkInterfaceID.Malformed")
    doc = resources.get(scope, KIND, eni_id)
    if doc is None:
        raise eni_not_found(eni_id)
    return doc


def public(doc: dict) -> dict:
    """The document as the wire shows it (bookkeeping members dropped)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _private_address(scope: Scope, address: str, primary: bool) -> dict:
    return {"Primary": primary, "PrivateIpAddress": address,
            "PrivateDnsName": ipam.private_dns_name(scope.region, address)}


def create_interface(resources: Resources, scope: Scope, subnet: dict, *, groups: list[dict],
                     private_ip: str | None = None, secondary_ips: list[str] | None = None,
                     secondary_count: int = 0, description: str = "", interface_type: str = "interface",
                     requester_managed: bool = False, requester_id: str | None = None,
                     ipv6_count: int = 0, ipv6_addresses: list[str] | None = None) -> dict:
    """A new, unattached interface in `subnet` (its addresses reserved); stored and returned."""
    eni_id = new_id("eni")
    db = resources.db
    addresses = []
    for i, wanted in enumerate([private_ip] + list(secondary_ips or []) + [None] * secondary_count):
        got = ipam.allocate_private_ip(db, scope, subnet["SubnetId"], subnet["CidrBlock"], eni_id, wanted)
        if got is None:
            if wanted is None:
                raise ServiceError("InsufficientFreeAddressesInSubnet",
                                   f"There are not enough free addresses in subnet '{subnet['SubnetId']}' to satisfy"
                                   " the requested number of instances.", 400)
            if not ipam.private_ip_holder(db, scope, subnet["SubnetId"], wanted):
                raise invalid_parameter_value(f"Address {wanted} does not fall within the subnet's address range")
            raise ServiceError("InvalidIPAddress.InUse", f"Address {wanted} is in use.", 400)
        addresses.append(_private_address(scope, got, i == 0))
    doc = {
        "NetworkInterfaceId": eni_id, "SubnetId": subnet["SubnetId"], "VpcId": subnet["VpcId"],
        "AvailabilityZone": subnet["AvailabilityZone"], "AvailabilityZoneId": subnet["AvailabilityZoneId"],
        "Description": description, "OwnerId": scope.account_id,
        "RequesterManaged": requester_managed, "SourceDestCheck": True, "Status": "available",
        "MacAddress": ipam.mac_address(), "PrivateIpAddress": addresses[0]["PrivateIpAddress"],
        "PrivateDnsName": addresses[0]["PrivateDnsName"], "InterfaceType": interface_type,
        "Groups": groups, "PrivateIpAddresses": addresses,
        "Ipv6Addresses": [{"Ipv6Address": a, "IsPrimaryIpv6": False}
                          for a in ipv6_for(resources, scope, subnet, ipv6_count, ipv6_addresses)],
        "Ipv4Prefixes": None,
        "Operator": {"Managed": False},
    }
    if requester_id:
        doc["RequesterId"] = requester_id
    doc = {k: v for k, v in doc.items() if v is not None}
    return resources.insert(scope, KIND, eni_id, doc)


def ipv6_for(resources: Resources, scope: Scope, subnet: dict, count: int = 0,
             wanted: list[str] | None = None) -> list[str]:
    """IPv6 addresses from the subnet's /64: the ones asked for (free and inside it) and `count` more."""
    wanted = list(wanted or [])
    if not count and not wanted:
        return []
    blocks = subnet.get("Ipv6CidrBlockAssociationSet") or []
    if not blocks:
        raise invalid_parameter_value(f"The subnet '{subnet['SubnetId']}' does not have an IPv6 CIDR block; "
                                      "IPv6 addresses cannot be assigned.")
    network = ipaddress.IPv6Network(blocks[0]["Ipv6CidrBlock"])
    taken = {a["Ipv6Address"] for d in resources.all(scope, KIND) if d["SubnetId"] == subnet["SubnetId"]
             for a in d.get("Ipv6Addresses", [])}
    out = []
    for text in wanted:
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            raise invalid_parameter_value(f"Invalid IPv6 address {text}")
        if address not in network:
            raise invalid_parameter_value(f"Address {text} does not fall within the subnet's address range")
        if str(address) in taken:
            raise ServiceError("InvalidIPAddress.InUse", f"Address {text} is in use.", 400)
        taken.add(str(address))
        out.append(str(address))
    rng = secrets.SystemRandom()
    while len(out) < len(wanted) + count:
        # AWS hands out addresses spread over the /64, never the first four.
        address = str(network.network_address + rng.randrange(4, 2 ** 64 - 1))
        if address not in taken:
            taken.add(address)
            out.append(address)
    return out


def set_public_ip(resources: Resources, scope: Scope, doc: dict, association: dict | None,
                  private_ip: str | None = None) -> None:
    """Put (or with None, take off) a public address on one private address of the interface."""
    private_ip = private_ip or doc["PrivateIpAddress"]
    for a in doc["PrivateIpAddresses"]:
        if a["PrivateIpAddress"] == private_ip:
            if association:
                a["Association"] = {k: association[k] for k in ("IpOwnerId", "PublicDnsName", "PublicIp",
                                                                 "AllocationId", "AssociationId") if k in association}
            else:
                a.pop("Association", None)
    if private_ip == doc["PrivateIpAddress"]:
        if association:
            doc["Association"] = association
        else:
            doc.pop("Association", None)


def _auto_public_ip(resources: Resources, scope: Scope, doc: dict) -> None:
    ip = ipam.allocate_public_ip(resources.db, scope, doc["NetworkInterfaceId"])
    set_public_ip(resources, scope, doc, {"IpOwnerId": "amazon", "PublicIp": ip,
                                          "PublicDnsName": ipam.public_dns_name(scope.region, ip)})


def _drop_auto_public_ip(resources: Resources, scope: Scope, doc: dict) -> None:
    assoc = doc.get("Association")
    if assoc and not assoc.get("AllocationId"):
        ipam.release_public_ip(resources.db, scope, assoc["PublicIp"])
        set_public_ip(resources, scope, doc, None)


def _attach(doc: dict, instance_id: str, owner: str, device_index: int, delete_on_termination: bool) -> None:
    doc["Attachment"] = {"AttachTime": now_iso(), "AttachmentId": new_id("eni-attach"),
                         "DeleteOnTermination": delete_on_termination, "DeviceIndex": device_index,
                         "NetworkCardIndex": 0, "InstanceId": instance_id, "InstanceOwnerId": owner,
                         "Status": "attached"}
    doc["Status"] = "in-use"


def create_for_instance(resources: Resources, scope: Scope, *, instance_id: str, subnet_id: str,
                        group_ids: list[str] | None = None, group_names: list[str] | None = None,
                        private_ip: str | None = None, secondary_count: int = 0,
                        associate_public_ip: bool | None = None, device_index: int = 0,
                        description: str = "", delete_on_termination: bool = True,
                        tags: list[dict] | None = None, ipv6_count: int | None = None,
                        ipv6_addresses: list[str] | None = None) -> dict:
    """Make and attach one of an instance's interfaces; returns its (wire) document.

    Errors as RunInstances answers them: InvalidSubnetID.NotFound, InvalidGroup.NotFound,
    InvalidIPAddress.InUse, InsufficientFreeAddressesInSubnet. A public IP is given to device
    index 0 when `associate_public_ip` is True, or when None and the subnet maps public IPs.
    """
    subnet = get_subnet(resources, scope, subnet_id)
    groups = resolve_groups(resources, scope, subnet["VpcId"], group_ids, group_names, subnet_id=subnet["SubnetId"])
    if ipv6_count is None:
        ipv6_count = 1 if subnet.get("AssignIpv6AddressOnCreation") and not ipv6_addresses else 0
    doc = create_interface(resources, scope, subnet, groups=groups, private_ip=private_ip,
                           secondary_count=secondary_count, description=description,
                           ipv6_count=ipv6_count, ipv6_addresses=ipv6_addresses)
    _attach(doc, instance_id, scope.account_id, device_index, delete_on_termination)
    wants_public = subnet.get("MapPublicIpOnLaunch") if associate_public_ip is None else associate_public_ip
    if wants_public and device_index == 0:
        doc["_PublicIpOnLaunch"] = True
        _auto_public_ip(resources, scope, doc)
    resources.update(scope, doc["NetworkInterfaceId"], doc)
    if tags:
        resources.set_tags(scope, doc["NetworkInterfaceId"], tags)
    return public(doc)


def attach_existing(resources: Resources, scope: Scope, eni_id: str, instance_id: str, device_index: int,
                    delete_on_termination: bool = False, instance_zone: str | None = None) -> dict:
    """Attach an existing, available interface to an instance; returns its (wire) document."""
    doc = get_interface(resources, scope, eni_id)
    if doc.get("Attachment") and doc["Attachment"]["Status"] in ("attached", "attaching"):
        raise ServiceError("InvalidNetworkInterface.InUse", f"Interface: [{eni_id}] in use.", 400)
    if instance_zone and instance_zone != doc["AvailabilityZone"]:
        raise invalid_parameter_combination(
            "You may not attach a network interface to an instance if they are not in the same availability zone")
    for other in interfaces_of(resources, scope, instance_id):
        if other["Attachment"]["DeviceIndex"] == device_index:
            raise invalid_parameter_value(
                f"Instance '{instance_id}' already has an interface attached at device index '{device_index}'.")
    _attach(doc, instance_id, scope.account_id, device_index, delete_on_termination)
    resources.update(scope, eni_id, doc)
    return public(doc)


def _attached_to(resources: Resources, scope: Scope, instance_ids: list[str]) -> list[dict]:
    """Interfaces attached to any of the instances: SQLite reads the attachment out of each
    document, so describing a few instances among thousands parses only their interfaces."""
    found: list[dict] = []
    for start in range(0, len(instance_ids), 500):
        chunk = instance_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows = resources.db.query(
            "SELECT doc FROM ec2_resources WHERE account_id = ? AND region = ? AND kind = ?"
            f" AND json_extract(doc, '$.Attachment.InstanceId') IN ({marks}) ORDER BY seq",
            (scope.account_id, scope.region, KIND, *chunk))
        found.extend(json.loads(r["doc"]) for r in rows)
    return found


def interfaces_of(resources: Resources, scope: Scope, instance_id: str) -> list[dict]:
    """The instance's attached interfaces, by device index."""
    found = _attached_to(resources, scope, [instance_id])
    return sorted(found, key=lambda d: d["Attachment"]["DeviceIndex"])


def primary_interface(resources: Resources, scope: Scope, instance_id: str) -> dict | None:
    return next((d for d in interfaces_of(resources, scope, instance_id)
                 if d["Attachment"]["DeviceIndex"] == 0), None)


def delete_interface(resources: Resources, scope: Scope, doc: dict) -> None:
    """Remove an interface: its addresses go back, an Elastic IP on it is disassociated."""
    from gureum.services.ec2 import addresses

    addresses.disassociate_interface(resources, scope, doc["NetworkInterfaceId"])
    _drop_auto_public_ip(resources, scope, doc)
    ipam.release_private_ips(resources.db, scope, doc["NetworkInterfaceId"])
    resources.delete(scope, doc["NetworkInterfaceId"])
    from gureum.services.ec2.route_tables import blackhole_routes
    blackhole_routes(resources, scope, "NetworkInterfaceId", doc["NetworkInterfaceId"])


def _detach(resources: Resources, scope: Scope, doc: dict) -> None:
    _drop_auto_public_ip(resources, scope, doc)
    doc.pop("Attachment", None)
    doc.pop("_PublicIpOnLaunch", None)
    doc["Status"] = "available"
    resources.update(scope, doc["NetworkInterfaceId"], doc)


def release_for_instance(resources: Resources, scope: Scope, instance_id: str) -> None:
    """On termination: delete interfaces marked DeleteOnTermination, detach the others."""
    for doc in interfaces_of(resources, scope, instance_id):
        if doc["Attachment"].get("DeleteOnTermination"):
            delete_interface(resources, scope, doc)
        else:
            _detach(resources, scope, doc)


def on_instance_stopped(resources: Resources, scope: Scope, instance_id: str) -> None:
    """A stopped instance gives back its auto-assigned public IP (an Elastic IP stays)."""
    for doc in interfaces_of(resources, scope, instance_id):
        if doc.get("Association") and not doc["Association"].get("AllocationId"):
            _drop_auto_public_ip(resources, scope, doc)
            resources.update(scope, doc["NetworkInterfaceId"], doc)


def on_instance_started(resources: Resources, scope: Scope, instance_id: str) -> None:
    """A started instance gets a new public IP where it had one at launch and has no Elastic IP."""
    for doc in interfaces_of(resources, scope, instance_id):
        if doc.get("_PublicIpOnLaunch") and not doc.get("Association"):
            _auto_public_ip(resources, scope, doc)
            resources.update(scope, doc["NetworkInterfaceId"], doc)


def _instance_interface(doc: dict) -> dict:
    """An interface in the Instance shape's NetworkInterfaces form."""
    out = {k: doc[k] for k in ("Description", "Groups", "Ipv6Addresses", "MacAddress", "NetworkInterfaceId",
                               "OwnerId", "PrivateDnsName", "PrivateIpAddress", "SourceDestCheck", "Status",
                               "SubnetId", "VpcId", "InterfaceType", "Operator") if k in doc}
    attachment = doc.get("Attachment")
    if attachment:
        out["Attachment"] = {k: attachment[k] for k in ("AttachTime", "AttachmentId", "DeleteOnTermination",
                                                        "DeviceIndex", "Status", "NetworkCardIndex")}
    if doc.get("Association"):
        out["Association"] = {k: doc["Association"][k] for k in ("IpOwnerId", "PublicDnsName", "PublicIp")}
    out["PrivateIpAddresses"] = [
        {**{k: a[k] for k in ("Primary", "PrivateDnsName", "PrivateIpAddress")},
         **({"Association": {k: a["Association"][k] for k in ("IpOwnerId", "PublicDnsName", "PublicIp")}}
            if a.get("Association") else {})}
        for a in doc["PrivateIpAddresses"]]
    return out


def instance_views(resources: Resources, scope: Scope, instance_ids: list[str] | None = None) -> dict[str, dict]:
    """The network members of each instance's Instance shape, by instance id (one read)."""
    docs = resources.all(scope, KIND) if instance_ids is None else _attached_to(resources, scope, list(instance_ids))
    by_instance: dict[str, list[dict]] = {}
    for doc in docs:
        iid = doc.get("Attachment", {}).get("InstanceId")
        if iid:
            by_instance.setdefault(iid, []).append(doc)
    views = {}
    for iid, docs in by_instance.items():
        docs.sort(key=lambda d: d["Attachment"]["DeviceIndex"])
        primary = docs[0]
        assoc = primary.get("Association") or {}
        views[iid] = {
            "PrivateIpAddress": primary["PrivateIpAddress"], "PrivateDnsName": primary["PrivateDnsName"],
            "PublicDnsName": assoc.get("PublicDnsName", ""),
            **({"PublicIpAddress": assoc["PublicIp"]} if assoc.get("PublicIp") else {}),
            "SubnetId": primary["SubnetId"], "VpcId": primary["VpcId"],
            "SecurityGroups": [{"GroupId": g["GroupId"], "GroupName": g["GroupName"]} for g in primary["Groups"]],
            "SourceDestCheck": primary["SourceDestCheck"],
            "NetworkInterfaces": [_instance_interface(d) for d in docs],
        }
    return views


def instance_view(resources: Resources, scope: Scope, instance_id: str) -> dict:
    return instance_views(resources, scope, [instance_id]).get(instance_id, {})


def _instance(resources: Resources, scope: Scope, instance_id: str | None) -> dict:
    if not instance_id:
        raise missing_parameter("The request must contain the parameter instanceId")
    check_id(instance_id, "i", "InvalidInstanceID.Malformed")
    doc = resources.get(scope, "instance", instance_id)
    if doc is None or (doc.get("State") or {}).get("Name") == "terminated":
        raise not_found("InvalidInstanceID.NotFound", f"The instance ID '{instance_id}' does not exist")
    return doc


class NetworkInterfaceOperations:
    resources: Resources

    def create_network_interface(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        tags = tag_specifications(request, ("network-interface",)).get("network-interface", [])
        with self.env.db.transaction():
            subnet = get_subnet(self.resources, scope, request.get("SubnetId"))
            groups = resolve_groups(self.resources, scope, subnet["VpcId"], request.get("Groups"),
                                    subnet_id=subnet["SubnetId"])
            primary = request.get("PrivateIpAddress")
            secondary = []
            for spec in request.get("PrivateIpAddresses") or []:
                if spec.get("Primary"):
                    if primary and primary != spec["PrivateIpAddress"]:
                        raise invalid_parameter_combination(
                            "The primary IP address specified in PrivateIpAddress and PrivateIpAddresses differ")
                    primary = spec["PrivateIpAddress"]
                else:
                    secondary.append(spec["PrivateIpAddress"])
            doc = create_interface(self.resources, scope, subnet, groups=groups, private_ip=primary,
                                   secondary_ips=secondary,
                                   secondary_count=request.get("SecondaryPrivateIpAddressCount") or 0,
                                   description=request.get("Description") or "",
                                   interface_type=request.get("InterfaceType") or "interface",
                                   ipv6_count=request.get("Ipv6AddressCount") or (
                                       1 if subnet.get("AssignIpv6AddressOnCreation")
                                       and not request.get("Ipv6Addresses") else 0),
                                   ipv6_addresses=[a["Ipv6Address"] for a in request.get("Ipv6Addresses") or []])
            self.resources.set_tags(scope, doc["NetworkInterfaceId"], tags)
        out = public(doc)
        out["TagSet"] = tags
        return {"NetworkInterface": out}

    def describe_network_interfaces(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ids = request.get("NetworkInterfaceIds") or []
        if ids:
            for i in ids:
                check_id(i, "eni", "InvalidNetworkInterfaceID.Malformed")
            found = self.resources.many(scope, KIND, ids)
            absent = [i for i in dict.fromkeys(ids) if i not in found]
            if absent:
                raise eni_not_found(absent[0])
            docs = [found[i] for i in dict.fromkeys(ids)]
        else:
            docs = self.resources.all(scope, KIND)
        docs = filters.apply(with_tags(self.resources, scope, docs, "NetworkInterfaceId"), request.get("Filters"),
                             ENI_FILTERS)
        page, token = paginate(docs, request, ids_given="NetworkInterfaceIds")
        out = []
        for d in page:
            view = public(d)
            view["TagSet"] = view.pop("Tags", [])
            out.append(view)
        return {"NetworkInterfaces": out, **({"NextToken": token} if token else {})}

    def delete_network_interface(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_interface(self.resources, scope, request.get("NetworkInterfaceId"))
            if doc.get("Attachment") or doc.get("RequesterManaged"):
                raise invalid_parameter_value(f"Network interface '{doc['NetworkInterfaceId']}' is currently in use.")
            delete_interface(self.resources, scope, doc)
        return {}

    def attach_network_interface(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            instance = _instance(self.resources, scope, request.get("InstanceId"))
            if request.get("DeviceIndex") is None:
                raise missing_parameter("The request must contain the parameter deviceIndex")
            doc = attach_existing(self.resources, scope, request.get("NetworkInterfaceId"), instance["InstanceId"],
                                  request["DeviceIndex"],
                                  instance_zone=(instance.get("Placement") or {}).get("AvailabilityZone"))
        return {"AttachmentId": doc["Attachment"]["AttachmentId"], "NetworkCardIndex": 0}

    def detach_network_interface(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        attachment_id = request.get("AttachmentId") or ""
        with self.env.db.transaction():
            doc = next((d for d in self.resources.all(scope, KIND)
                        if d.get("Attachment", {}).get("AttachmentId") == attachment_id), None)
            if doc is None:
                raise not_found("InvalidAttachmentID.NotFound",
                                f"Interface attachment '{attachment_id}' does not exist.")
            if doc["Attachment"]["DeviceIndex"] == 0 and not request.get("Force"):
                raise ServiceError("OperationNotPermitted", "The network interface at device index 0 and networkCard"
                                   " index 0 cannot be detached.", 400)
            _detach(self.resources, scope, doc)
        return {}

    def modify_network_interface_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_interface(self.resources, scope, request.get("NetworkInterfaceId"))
            if request.get("Description") is not None:
                doc["Description"] = request["Description"].get("Value") or ""
            if request.get("SourceDestCheck") is not None:
                doc["SourceDestCheck"] = bool(request["SourceDestCheck"].get("Value"))
            if request.get("Groups"):
                doc["Groups"] = resolve_groups(self.resources, scope, doc["VpcId"], request["Groups"])
            if request.get("Attachment"):
                change = request["Attachment"]
                if not doc.get("Attachment") or doc["Attachment"]["AttachmentId"] != change.get("AttachmentId"):
                    raise not_found("InvalidAttachmentID.NotFound",
                                    f"Interface attachment '{change.get('AttachmentId')}' does not exist.")
                if change.get("DeleteOnTermination") is not None:
                    doc["Attachment"]["DeleteOnTermination"] = bool(change["DeleteOnTermination"])
            self.resources.update(scope, doc["NetworkInterfaceId"], doc)
        return {}

    def describe_network_interface_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = get_interface(self.resources, scope, request.get("NetworkInterfaceId"))
        attribute = request.get("Attribute")
        out: dict = {"NetworkInterfaceId": doc["NetworkInterfaceId"]}
        if attribute == "description":
            out["Description"] = {"Value": doc.get("Description", "")}
        elif attribute == "sourceDestCheck":
            out["SourceDestCheck"] = {"Value": doc["SourceDestCheck"]}
        elif attribute == "groupSet":
            out["Groups"] = doc["Groups"]
        elif attribute == "attachment":
            if doc.get("Attachment"):
                out["Attachment"] = doc["Attachment"]
        elif attribute == "associatePublicIpAddress":
            out["AssociatePublicIpAddress"] = bool(doc.get("Association"))
        else:
            raise invalid_parameter_value(f"Value ({attribute}) for parameter attribute is invalid.")
        return out

    def reset_network_interface_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_interface(self.resources, scope, request.get("NetworkInterfaceId"))
            if request.get("SourceDestCheck") is not None:
                doc["SourceDestCheck"] = True
            self.resources.update(scope, doc["NetworkInterfaceId"], doc)
        return {}

    def assign_private_ip_addresses(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        wanted = request.get("PrivateIpAddresses") or []
        count = request.get("SecondaryPrivateIpAddressCount") or 0
        if not wanted and not count:
            raise missing_parameter("Either 'privateIpAddresses' or 'secondaryPrivateIpAddressCount' must be given")
        with self.env.db.transaction():
            doc = get_interface(self.resources, scope, request.get("NetworkInterfaceId"))
            subnet = get_subnet(self.resources, scope, doc["SubnetId"])
            db = self.env.db
            added = []
            for ip in list(wanted) + [None] * count:
                got = ipam.allocate_private_ip(db, scope, subnet["SubnetId"], subnet["CidrBlock"],
                                               doc["NetworkInterfaceId"], ip)
                if got is None:
                    if ip is None:
                        raise ServiceError("InsufficientFreeAddressesInSubnet",
                                           f"There are not enough free addresses in subnet '{subnet['SubnetId']}'"
                                           " to satisfy the requested number of addresses.", 400)
                    if ipam.private_ip_holder(db, scope, subnet["SubnetId"], ip):
                        raise ServiceError("InvalidParameterValue", f"Address {ip} is in use.", 400)
                    raise invalid_parameter_value(f"Address {ip} does not fall within the subnet's address range")
                added.append(got)
                doc["PrivateIpAddresses"].append(_private_address(scope, got, False))
            self.resources.update(scope, doc["NetworkInterfaceId"], doc)
        return {"NetworkInterfaceId": doc["NetworkInterfaceId"],
                "AssignedPrivateIpAddresses": [{"PrivateIpAddress": a} for a in added]}

    def unassign_private_ip_addresses(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_interface(self.resources, scope, request.get("NetworkInterfaceId"))
            held = {a["PrivateIpAddress"]: a for a in doc["PrivateIpAddresses"]}
            for ip in request.get("PrivateIpAddresses") or []:
                a = held.get(ip)
                if a is None:
                    raise ServiceError("InvalidParameterValue",
                                       f"Some of the specified addresses are not assigned to interface "
                                       f"{doc['NetworkInterfaceId']}", 400)
                if a["Primary"]:
                    raise ServiceError("InvalidParameterValue",
                                       "The primary private IP address cannot be unassigned.", 400)
            gone = set(request.get("PrivateIpAddresses") or [])
            doc["PrivateIpAddresses"] = [a for a in doc["PrivateIpAddresses"] if a["PrivateIpAddress"] not in gone]
            ipam.release_private_ips(self.env.db, scope, doc["NetworkInterfaceId"], list(gone))
            self.resources.update(scope, doc["NetworkInterfaceId"], doc)
        return {}

    def assign_ipv6_addresses(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_interface(self.resources, scope, request.get("NetworkInterfaceId"))
            subnet = get_subnet(self.resources, scope, doc["SubnetId"])
            added = ipv6_for(self.resources, scope, subnet, request.get("Ipv6AddressCount") or 0,
                             request.get("Ipv6Addresses"))
            doc["Ipv6Addresses"] += [{"Ipv6Address": a, "IsPrimaryIpv6": False} for a in added]
            self.resources.update(scope, doc["NetworkInterfaceId"], doc)
        return {"NetworkInterfaceId": doc["NetworkInterfaceId"], "AssignedIpv6Addresses": added}

    def unassign_ipv6_addresses(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_interface(self.resources, scope, request.get("NetworkInterfaceId"))
            held = {a["Ipv6Address"] for a in doc["Ipv6Addresses"]}
            gone = [str(ipaddress.IPv6Address(a)) for a in request.get("Ipv6Addresses") or []]
            for a in gone:
                if a not in held:
                    raise invalid_parameter_value(f"Some of the specified addresses are not assigned to interface "
                                                  f"{doc['NetworkInterfaceId']}")
            doc["Ipv6Addresses"] = [a for a in doc["Ipv6Addresses"] if a["Ipv6Address"] not in gone]
            self.resources.update(scope, doc["NetworkInterfaceId"], doc)
        return {"NetworkInterfaceId": doc["NetworkInterfaceId"], "UnassignedIpv6Addresses": gone}
