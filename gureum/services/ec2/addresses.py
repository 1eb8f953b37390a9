"""Elastic IP addresses: Allocate, Associate, Disassociate, Release, Describe.

An address is associated with one private address of a network interface (an instance's
is its primary interface's); the interface document carries the association, so instances
described through `network_interfaces.instance_views` show it as their PublicIpAddress.
The instance an address serves is read from the interface's attachment when described.

For other families (inside the caller's transaction):
- `associate(resources, scope, allocation_id, instance_id=None, network_interface_id=None,
  private_ip=None, allow_reassociation=False)` -> association id;
- `disassociate(resources, scope, association_id)`;
- `disassociate_interface(resources, scope, eni_id)` (an interface going away).
"""

from __future__ import annotations

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters, ipam
from gureum.services.ec2.errors import (
    invalid_parameter_combination, invalid_parameter_value, missing_parameter, not_found)
from gureum.services.ec2.store import Resources, Scope, new_id, with_tags
from gureum.services.ec2.tags import tag_specifications

KIND = "elastic-ip"
DEFAULT_LIMIT = 5
QUOTA_CODE = "L-0263D0A3"  # EC2-VPC Elastic IPs

_FILTERS = filters.paths({
    "allocation-id": "AllocationId", "association-id": "AssociationId", "domain": "Domain",
    "instance-id": "InstanceId", "network-border-group": "NetworkBorderGroup",
    "network-interface-id": "NetworkInterfaceId", "network-interface-owner-id": "NetworkInterfaceOwnerId",
    "private-ip-address": "PrivateIpAddress", "public-ip": "PublicIp", "public-ipv4-pool": "PublicIpv4Pool",
})


def allocation_not_found(allocation_id: str) -> ServiceError:
    return not_found("InvalidAllocationID.NotFound", f"The allocation ID '{allocation_id}' does not exist")


def address_not_found(public_ip: str) -> ServiceError:
    return not_found("InvalidAddress.NotFound", f"Address '{public_ip}' not found.")


def _by_public_ip(resources: Resources, scope: Scope, public_ip: str) -> dict:
    found = next((a for a in resources.all(scope, KIND) if a["PublicIp"] == public_ip), None)
    if found is None:
        raise address_not_found(public_ip)
    return found


def _find(resources: Resources, scope: Scope, request: dict) -> dict:
    allocation_id, public_ip = request.get("AllocationId"), request.get("PublicIp")
    if allocation_id:
        doc = resources.get(scope, KIND, allocation_id)
        if doc is None:
            raise allocation_not_found(allocation_id)
        return doc
    if public_ip:
        return _by_public_ip(resources, scope, public_ip)
    raise missing_parameter("Either public IP or allocation id must be specified")


def associate(resources: Resources, scope: Scope, allocation_id: str, *, instance_id: str | None = None,
              network_interface_id: str | None = None, private_ip: str | None = None,
              allow_reassociation: bool = False) -> str:
    """Associate an Elastic IP with an instance's primary interface or an interface; returns the id."""
    from gureum.services.ec2 import network_interfaces as enis

    address = resources.get(scope, KIND, allocation_id)
    if address is None:
        raise allocation_not_found(allocation_id)
    if instance_id and network_interface_id:
        raise invalid_parameter_combination("You may specify networkInterfaceId or instanceId but not both.")
    if instance_id:
        instance = resources.get(scope, "instance", instance_id)
        if instance is None or (instance.get("State") or {}).get("Name") in ("terminated", "shutting-down"):
            raise not_found("InvalidInstanceID.NotFound", f"The instance ID '{instance_id}' does not exist")
        eni = enis.primary_interface(resources, scope, instance_id)
        if eni is None:
            raise ServiceError("InvalidInstanceID",
                               f"The instance '{instance_id}' does not have any network interfaces.", 400)
    elif network_interface_id:
        eni = enis.get_interface(resources, scope, network_interface_id)
    else:
        raise missing_parameter("Either instance ID or network interface ID must be specified")
    private_ip = private_ip or eni["PrivateIpAddress"]
    if not any(a["PrivateIpAddress"] == private_ip for a in eni["PrivateIpAddresses"]):
        raise invalid_parameter_value(
            f"The private IP address {private_ip} is not associated with network interface "
            f"{eni['NetworkInterfaceId']}")
    if address.get("AssociationId"):
        same = address["NetworkInterfaceId"] == eni["NetworkInterfaceId"] and address["PrivateIpAddress"] == private_ip
        if same:
            return address["AssociationId"]
        if not allow_reassociation:
            raise ServiceError("Resource.AlreadyAssociated",
                               f"resource {allocation_id} is already associated with associate-id "
                               f"{address['AssociationId']}", 400)
        disassociate(resources, scope, address["AssociationId"], reassign_public_ip=True)
        address = resources.get(scope, KIND, allocation_id)
        eni = resources.get(scope, enis.KIND, eni["NetworkInterfaceId"])
    # Whatever public address the private address had gives way: another Elastic IP is
    # disassociated, an auto-assigned one released.
    current = next((a.get("Association") for a in eni["PrivateIpAddresses"] if a["PrivateIpAddress"] == private_ip),
                   None)
    if current:
        if current.get("AssociationId"):
            disassociate(resources, scope, current["AssociationId"], reassign_public_ip=False)
            eni = resources.get(scope, enis.KIND, eni["NetworkInterfaceId"])
        else:
            ipam.release_public_ip(resources.db, scope, current["PublicIp"])
    association_id = new_id("eipassoc")
    enis.set_public_ip(resources, scope, eni, {
        "AllocationId": allocation_id, "AssociationId": association_id, "IpOwnerId": scope.account_id,
        "PublicDnsName": ipam.public_dns_name(scope.region, address["PublicIp"]), "PublicIp": address["PublicIp"],
    }, private_ip)
    resources.update(scope, eni["NetworkInterfaceId"], eni)
    address.update({"AssociationId": association_id, "NetworkInterfaceId": eni["NetworkInterfaceId"],
                    "NetworkInterfaceOwnerId": scope.account_id, "PrivateIpAddress": private_ip})
    resources.update(scope, allocation_id, address)
    return association_id


def disassociate(resources: Resources, scope: Scope, association_id: str, *, reassign_public_ip: bool = True) -> None:
    """Undo an association; a running instance's primary address that had a public IP at launch
    gets a new auto-assigned one, as AWS does."""
    from gureum.services.ec2 import network_interfaces as enis

    address = next((a for a in resources.all(scope, KIND) if a.get("AssociationId") == association_id), None)
    if address is None:
        raise not_found("InvalidAssociationID.NotFound", f"The association ID '{association_id}' does not exist")
    eni = resources.get(scope, enis.KIND, address["NetworkInterfaceId"])
    if eni is not None:
        enis.set_public_ip(resources, scope, eni, None, address["PrivateIpAddress"])
        attachment = eni.get("Attachment") or {}
        if (reassign_public_ip and eni.get("_PublicIpOnLaunch")
                and address["PrivateIpAddress"] == eni["PrivateIpAddress"]):
            instance = resources.get(scope, "instance", attachment.get("InstanceId", ""))
            if instance and (instance.get("State") or {}).get("Name") in ("pending", "running"):
                enis._auto_public_ip(resources, scope, eni)
        resources.update(scope, eni["NetworkInterfaceId"], eni)
    for key in ("AssociationId", "NetworkInterfaceId", "NetworkInterfaceOwnerId", "PrivateIpAddress", "InstanceId"):
        address.pop(key, None)
    resources.update(scope, address["AllocationId"], address)


def disassociate_interface(resources: Resources, scope: Scope, eni_id: str) -> None:
    """Every Elastic IP on an interface lets go of it (the addresses stay allocated)."""
    for address in resources.all(scope, KIND):
        if address.get("NetworkInterfaceId") == eni_id:
            disassociate(resources, scope, address["AssociationId"], reassign_public_ip=False)


def address_limit(env, scope: Scope) -> int:
    """The applied Elastic IP quota (Service Quotas when present, else AWS's default of 5)."""
    try:
        quotas = env.provider("service-quotas")
        if quotas is not None and hasattr(quotas, "applied_quota"):
            return int(quotas.applied_quota(scope.account_id, scope.region, "ec2", QUOTA_CODE))
    except LookupError:
        pass
    return DEFAULT_LIMIT


class AddressOperations:
    resources: Resources

    def allocate_address(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        domain = request.get("Domain") or "vpc"
        if domain not in ("vpc", "standard"):
            raise invalid_parameter_value(f"Invalid value '{domain}' for domain.")
        if request.get("Address"):
            raise invalid_parameter_value(
                f"The address '{request['Address']}' is not in a public IPv4 address pool you own.")
        border = request.get("NetworkBorderGroup") or scope.region
        if border != scope.region:
            raise invalid_parameter_value(f"Invalid value '{border}' for NetworkBorderGroup.")
        tags = tag_specifications(request, ("elastic-ip",)).get("elastic-ip", [])
        limit = address_limit(self.env, scope)
        with self.env.db.transaction():
            if len(self.resources.all(scope, KIND)) >= limit:
                raise ServiceError("AddressLimitExceeded", "The maximum number of addresses has been reached.", 400)
            allocation_id = new_id("eipalloc")
            ip = ipam.allocate_public_ip(self.env.db, scope, allocation_id)
            doc = {"AllocationId": allocation_id, "PublicIp": ip, "Domain": "vpc",
                   "PublicIpv4Pool": request.get("PublicIpv4Pool") or "amazon", "NetworkBorderGroup": border}
            self.resources.insert(scope, KIND, allocation_id, doc)
            self.resources.set_tags(scope, allocation_id, tags)
        return doc

    def associate_address(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            address = _find(self.resources, scope, request)
            association_id = associate(
                self.resources, scope, address["AllocationId"], instance_id=request.get("InstanceId"),
                network_interface_id=request.get("NetworkInterfaceId"),
                private_ip=request.get("PrivateIpAddress"),
                # An instance given by id moves its address along (classic behaviour AWS kept).
                allow_reassociation=bool(request.get("AllowReassociation")))
        return {"AssociationId": association_id}

    def disassociate_address(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            association_id = request.get("AssociationId")
            if not association_id:
                public_ip = request.get("PublicIp")
                if not public_ip:
                    raise missing_parameter("Either public IP or association id must be specified")
                address = _by_public_ip(self.resources, scope, public_ip)
                association_id = address.get("AssociationId")
                if not association_id:
                    return {}
            disassociate(self.resources, scope, association_id)
        return {}

    def release_address(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            address = _find(self.resources, scope, request)
            if address.get("AssociationId"):
                raise ServiceError("InvalidIPAddress.InUse", f"Address {address['PublicIp']} is in use.", 400)
            if any(address["AllocationId"] in [a.get("AllocationId") for a in n.get("NatGatewayAddresses", [])]
                   for n in self.resources.all(scope, "nat-gateway") if n["State"] in ("pending", "available")):
                raise ServiceError("InvalidIPAddress.InUse", f"Address {address['PublicIp']} is in use.", 400)
            ipam.release_public_ip(self.env.db, scope, address["PublicIp"])
            self.resources.delete(scope, address["AllocationId"])
        return {}

    def describe_addresses(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = self.resources.all(scope, KIND)
        ids = request.get("AllocationIds") or []
        ips = request.get("PublicIps") or []
        if ids:
            known = {d["AllocationId"] for d in docs}
            missing = [i for i in ids if i not in known]
            if missing:
                raise allocation_not_found(missing[0])
        if ips:
            known = {d["PublicIp"] for d in docs}
            missing = [i for i in ips if i not in known]
            if missing:
                raise address_not_found(missing[0])
        if ids or ips:
            docs = [d for d in docs if d["AllocationId"] in ids or d["PublicIp"] in ips]
        # The instance an address serves is the one its interface is attached to now.
        attached = {e["NetworkInterfaceId"]: e["Attachment"]["InstanceId"]
                    for e in self.resources.all(scope, "network-interface") if e.get("Attachment")}
        docs = [{**d, **({"InstanceId": attached[d["NetworkInterfaceId"]]}
                         if d.get("NetworkInterfaceId") in attached else {})} for d in docs]
        docs = filters.apply(with_tags(self.resources, scope, docs, "AllocationId"), request.get("Filters"), _FILTERS)
        return {"Addresses": docs}

    def describe_addresses_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = self.resources.all(scope, KIND)
        ids = request.get("AllocationIds") or []
        for i in ids:
            if not any(d["AllocationId"] == i for d in docs):
                raise allocation_not_found(i)
        chosen = [d for d in docs if not ids or d["AllocationId"] in ids]
        return {"Addresses": [{"PublicIp": d["PublicIp"], "AllocationId": d["AllocationId"],
                               **({"PtrRecord": d["PtrRecord"]} if d.get("PtrRecord") else {})} for d in chosen]}
