"""NAT gateways: CreateNatGateway, DeleteNatGateway, DescribeNatGateways.

A gateway is `pending` for PENDING_SECONDS of service time (gureum.clock) after creation,
then `available`; DeleteNatGateway makes it `deleting`, `deleted` DELETING_SECONDS later,
and it stays visible as deleted for an hour. States are worked out from the stored times
whenever a gateway is read, so no background work is needed.

A public gateway holds an Elastic IP through a requester-managed network interface in its
subnet (InterfaceType nat_gateway), as on AWS; a private one has only the private address.
"""

from __future__ import annotations

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters, idempotency
from gureum.services.ec2.errors import invalid_parameter_value, missing_parameter, not_found
from gureum.services.ec2.store import Resources, Scope, iso, now_iso, paginate, parse_iso, with_tags, new_id
from gureum.services.ec2.tags import tag_specifications

KIND = "nat-gateway"
PENDING_SECONDS = 5
DELETING_SECONDS = 5
VISIBLE_AFTER_DELETE_SECONDS = 3600

_FILTERS = filters.paths({"nat-gateway-id": "NatGatewayId", "state": "State", "subnet-id": "SubnetId",
                          "vpc-id": "VpcId"})


def nat_not_found(nat_id: str) -> ServiceError:
    return not_found("NatGatewayNotFound", f"The Nat Gateway {nat_id} was not found")


def current(doc: dict, now: float | None = None) -> dict | None:
    """The gateway as it is now (None once gone from view)."""
    now = clock.epoch() if now is None else now
    out = dict(doc)
    if doc.get("DeleteTime"):
        since = now - parse_iso(doc["DeleteTime"])
        if since >= DELETING_SECONDS + VISIBLE_AFTER_DELETE_SECONDS:
            return None
        out["State"] = "deleted" if since >= DELETING_SECONDS else "deleting"
        if out["State"] == "deleted":
            out["NatGatewayAddresses"] = [{**a, "Status": "succeeded"} for a in out.get("NatGatewayAddresses", [])]
    elif doc["State"] == "pending" and now - parse_iso(doc["CreateTime"]) >= PENDING_SECONDS:
        out["State"] = "available"
    return out


def live(resources: Resources, scope: Scope) -> list[dict]:
    return [d for d in (current(x) for x in resources.all(scope, KIND)) if d is not None]


class NatGatewayOperations:
    resources: Resources

    def create_nat_gateway(self, ctx: RequestContext, request: dict) -> dict:
        from gureum.services.ec2 import addresses, network_interfaces
        from gureum.services.ec2.subnets import get_subnet

        scope = self.scope(ctx)
        connectivity = request.get("ConnectivityType") or "public"
        if connectivity not in ("public", "private"):
            raise invalid_parameter_value(f"Value ({connectivity}) for parameter connectivityType is invalid.")
        tags = tag_specifications(request, ("natgateway",)).get("natgateway", [])
        with self.env.db.transaction():
            repeated = idempotency.earlier(self.resources, scope, KIND, request)
            if repeated is not None:
                return {"NatGateway": current(repeated) or repeated, "ClientToken": request["ClientToken"]}
            subnet = get_subnet(self.resources, scope, request.get("SubnetId"))
            nat_id = new_id("nat")
            allocation_id = request.get("AllocationId")
            if connectivity == "public" and not allocation_id:
                raise missing_parameter("AllocationId is required for a public NAT gateway.")
            if connectivity == "private" and allocation_id:
                raise invalid_parameter_value("AllocationId cannot be specified for a private NAT gateway.")
            eni = network_interfaces.create_interface(
                self.resources, scope, subnet, groups=[], private_ip=request.get("PrivateIpAddress"),
                description=f"Interface for NAT Gateway {nat_id}", interface_type="nat_gateway",
                requester_managed=True, requester_id="amazon-nat")
            address: dict = {"NetworkInterfaceId": eni["NetworkInterfaceId"], "PrivateIp": eni["PrivateIpAddress"],
                             "IsPrimary": True, "Status": "succeeded"}
            if allocation_id:
                eip = self.resources.get(scope, addresses.KIND, allocation_id)
                if eip is None:
                    raise addresses.allocation_not_found(allocation_id)
                if eip.get("AssociationId"):
                    raise ServiceError("Resource.AlreadyAssociated",
                                       f"Elastic IP address [{allocation_id}] is already associated", 400)
                association_id = addresses.associate(self.resources, scope, allocation_id,
                                                     network_interface_id=eni["NetworkInterfaceId"])
                address.update({"AllocationId": allocation_id, "PublicIp": eip["PublicIp"],
                                "AssociationId": association_id})
            doc = {"CreateTime": now_iso(), "NatGatewayAddresses": [address], "NatGatewayId": nat_id,
                   "State": "pending", "SubnetId": subnet["SubnetId"], "VpcId": subnet["VpcId"],
                   "ConnectivityType": connectivity, "AvailabilityMode": "zonal"}
            self.resources.insert(scope, KIND, nat_id, idempotency.remember(doc, request))
            self.resources.set_tags(scope, nat_id, tags)
        out = {"NatGateway": {**doc, **({"Tags": tags} if tags else {})}}
        if request.get("ClientToken"):
            out["ClientToken"] = request["ClientToken"]
        return out

    def describe_nat_gateways(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = live(self.resources, scope)
        ids = request.get("NatGatewayIds") or []
        if ids:
            known = {d["NatGatewayId"] for d in docs}
            missing = [i for i in ids if i not in known]
            if missing:
                raise nat_not_found(missing[0])
            docs = [d for d in docs if d["NatGatewayId"] in ids]
        docs = filters.apply(with_tags(self.resources, scope, docs, "NatGatewayId"), request.get("Filter"), _FILTERS)
        page, token = paginate(docs, request, ids_given="NatGatewayIds")
        return {"NatGateways": page, **({"NextToken": token} if token else {})}

    def delete_nat_gateway(self, ctx: RequestContext, request: dict) -> dict:
        from gureum.services.ec2 import network_interfaces
        from gureum.services.ec2.route_tables import blackhole_routes

        scope = self.scope(ctx)
        nat_id = request.get("NatGatewayId") or ""
        with self.env.db.transaction():
            doc = self.resources.get(scope, KIND, nat_id)
            view = current(doc) if doc else None
            if view is None:
                raise nat_not_found(nat_id)
            if view["State"] in ("deleting", "deleted"):
                return {"NatGatewayId": nat_id}
            doc["DeleteTime"] = iso(clock.epoch())
            doc["State"] = "deleting"
            for a in doc["NatGatewayAddresses"]:
                eni = self.resources.get(scope, network_interfaces.KIND, a.get("NetworkInterfaceId") or "")
                if eni is not None:
                    network_interfaces.delete_interface(self.resources, scope, eni)
                a.pop("AssociationId", None)
                a["Status"] = "disassociating"
            self.resources.update(scope, nat_id, doc)
            blackhole_routes(self.resources, scope, "NatGatewayId", nat_id)
        return {"NatGatewayId": nat_id}
