"""Internet gateways and egress-only internet gateways.

An internet gateway attaches to one VPC at a time and a VPC takes one; it cannot be deleted
while attached, nor detached while the VPC has public addresses mapped. Routes to a deleted
gateway remain as blackholes.
"""

from __future__ import annotations

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters, idempotency
from gureum.services.ec2.errors import check_id, dependency_violation, missing_parameter, not_found
from gureum.services.ec2.route_tables import blackhole_routes
from gureum.services.ec2.store import Resources, Scope, describe, new_id, paginate
from gureum.services.ec2.tags import tag_specifications
from gureum.services.ec2.vpcs import get_vpc

IGW = "internet-gateway"
EIGW = "egress-only-internet-gateway"

_IGW_FILTERS = filters.paths({"attachment.state": "Attachments.State", "attachment.vpc-id": "Attachments.VpcId",
                              "internet-gateway-id": "InternetGatewayId", "owner-id": "OwnerId"})
_EIGW_FILTERS = filters.paths({"egress-only-internet-gateway-id": "EgressOnlyInternetGatewayId"})


def igw_not_found(igw_id: str) -> ServiceError:
    return not_found("InvalidInternetGatewayID.NotFound", f"The internetGateway ID '{igw_id}' does not exist")


def get_igw(resources: Resources, scope: Scope, igw_id: str | None) -> dict:
    if not igw_id:
        raise missing_parameter("The request must contain the parameter internetGatewayId")
    check_id(igw_id, "igw", "InvalidInternetGatewayID.Malformed")
    doc = resources.get(scope, IGW, igw_id)
    if doc is None:
        raise igw_not_found(igw_id)
    return doc


def _eigw(resources: Resources, scope: Scope, eigw_id: str | None) -> dict:
    doc = resources.get(scope, EIGW, eigw_id or "")
    if doc is None:
        raise not_found("InvalidGatewayID.NotFound", f"The gateway ID '{eigw_id}' does not exist")
    return doc


class InternetGatewayOperations:
    resources: Resources

    def create_internet_gateway(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        tags = tag_specifications(request, ("internet-gateway",)).get("internet-gateway", [])
        igw = new_id("igw")
        doc = {"InternetGatewayId": igw, "OwnerId": scope.account_id, "Attachments": []}
        with self.env.db.transaction():
            self.resources.insert(scope, IGW, igw, doc)
            self.resources.set_tags(scope, igw, tags)
        return {"InternetGateway": {**doc, **({"Tags": tags} if tags else {})}}

    def describe_internet_gateways(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        for i in request.get("InternetGatewayIds") or []:
            check_id(i, "igw", "InvalidInternetGatewayID.Malformed")
        docs = describe(self.resources, scope, IGW, "InternetGatewayId", request, "InternetGatewayIds",
                        _IGW_FILTERS, lambda ids: igw_not_found(ids[0]))
        page, token = paginate(docs, request, ids_given="InternetGatewayIds")
        return {"InternetGateways": page, **({"NextToken": token} if token else {})}

    def attach_internet_gateway(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_igw(self.resources, scope, request.get("InternetGatewayId"))
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            if doc["Attachments"]:
                raise ServiceError("Resource.AlreadyAssociated",
                                   f"resource {doc['InternetGatewayId']} is already attached to network "
                                   f"{doc['Attachments'][0]['VpcId']}", 400)
            if any(a.get("VpcId") == vpc["VpcId"] for g in self.resources.all(scope, IGW) for a in g["Attachments"]):
                raise ServiceError("Resource.AlreadyAssociated",
                                   f"resource {vpc['VpcId']} is already attached to an internet gateway", 400)
            doc["Attachments"] = [{"State": "available", "VpcId": vpc["VpcId"]}]
            self.resources.update(scope, doc["InternetGatewayId"], doc)
        return {}

    def detach_internet_gateway(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_igw(self.resources, scope, request.get("InternetGatewayId"))
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            if not any(a["VpcId"] == vpc["VpcId"] for a in doc["Attachments"]):
                raise ServiceError("Gateway.NotAttached",
                                   f"resource {doc['InternetGatewayId']} is not attached to network {vpc['VpcId']}",
                                   400)
            mapped = any(e["VpcId"] == vpc["VpcId"] and e.get("Association")
                         for e in self.resources.all(scope, "network-interface"))
            if mapped:
                raise dependency_violation(
                    f"Network {vpc['VpcId']} has some mapped public address(es). Please unmap those public "
                    "address(es) before detaching the gateway.")
            doc["Attachments"] = []
            self.resources.update(scope, doc["InternetGatewayId"], doc)
        return {}

    def delete_internet_gateway(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = get_igw(self.resources, scope, request.get("InternetGatewayId"))
            if doc["Attachments"]:
                raise dependency_violation(
                    f"The internetGateway '{doc['InternetGatewayId']}' has dependencies and cannot be deleted.")
            self.resources.delete(scope, doc["InternetGatewayId"])
            blackhole_routes(self.resources, scope, "GatewayId", doc["InternetGatewayId"])
        return {}

    # ---- egress-only (IPv6) ----------------------------------------------------------------

    def create_egress_only_internet_gateway(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        tags = tag_specifications(request, ("egress-only-internet-gateway",)).get("egress-only-internet-gateway", [])
        with self.env.db.transaction():
            repeated = idempotency.earlier(self.resources, scope, EIGW, request)
            if repeated is not None:
                return {"EgressOnlyInternetGateway": repeated, "ClientToken": request["ClientToken"]}
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            eigw = new_id("eigw")
            doc = {"EgressOnlyInternetGatewayId": eigw, "Attachments": [{"State": "attached", "VpcId": vpc["VpcId"]}]}
            self.resources.insert(scope, EIGW, eigw, idempotency.remember(doc, request))
            self.resources.set_tags(scope, eigw, tags)
        return {"EgressOnlyInternetGateway": {**doc, **({"Tags": tags} if tags else {})},
                **({"ClientToken": request["ClientToken"]} if request.get("ClientToken") else {})}

    def describe_egress_only_internet_gateways(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = describe(self.resources, scope, EIGW, "EgressOnlyInternetGatewayId", request,
                        "EgressOnlyInternetGatewayIds", _EIGW_FILTERS,
                        lambda ids: not_found("InvalidEgressOnlyInternetGatewayId.NotFound",
                                              f"The egressOnlyInternetGateway ID '{ids[0]}' does not exist"))
        page, token = paginate(docs, request)
        return {"EgressOnlyInternetGateways": page, **({"NextToken": token} if token else {})}

    def delete_egress_only_internet_gateway(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = _eigw(self.resources, scope, request.get("EgressOnlyInternetGatewayId"))
            self.resources.delete(scope, doc["EgressOnlyInternetGatewayId"])
            blackhole_routes(self.resources, scope, "EgressOnlyInternetGatewayId", doc["EgressOnlyInternetGatewayId"])
        return {"ReturnCode": True}
