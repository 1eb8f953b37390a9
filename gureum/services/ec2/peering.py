"""VPC peering connections, within an account or between gureum's accounts and regions.

A connection is kept in the requester's scope and, when the peer lives elsewhere, copied
into the accepter's (same id), so each side describes it; every change writes both.
pending-acceptance -> active (accepted) | rejected | expired (after 7 days, service clock);
either side may delete it. A peer VPC that does not exist, or overlapping CIDRs, make the
request `failed`, as on AWS.
"""

from __future__ import annotations

import ipaddress

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import check_id, missing_parameter, not_found
from gureum.services.ec2.route_tables import blackhole_routes
from gureum.services.ec2.store import Resources, Scope, iso, new_id, paginate, parse_iso, with_tags
from gureum.services.ec2.tags import tag_specifications
from gureum.services.ec2.vpcs import get_vpc

KIND = "vpc-peering-connection"
FAILED = {"Code": "failed", "Message": "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range"}
EXPIRY_SECONDS = 7 * 24 * 3600

_FILTERS = filters.paths({
    **{f"{side}-vpc-info.{name}": f"{key}.{p}"
       for side, key in (("accepter", "AccepterVpcInfo"), ("requester", "RequesterVpcInfo"))
       for name, p in (("cidr-block", "CidrBlock"), ("owner-id", "OwnerId"), ("vpc-id", "VpcId"),
                       ("region", "Region"))},
    "status-code": "Status.Code", "status-message": "Status.Message",
    "vpc-peering-connection-id": "VpcPeeringConnectionId", "expiration-time": "ExpirationTime",
})


def pcx_not_found(pcx_id: str) -> ServiceError:
    return not_found("InvalidVpcPeeringConnectionID.NotFound",
                     f"The vpcPeeringConnection ID '{pcx_id}' does not exist")


def _vpc_info(vpc: dict, region: str) -> dict:
    return {"CidrBlock": vpc["CidrBlock"], "OwnerId": vpc["OwnerId"], "VpcId": vpc["VpcId"], "Region": region,
            "CidrBlockSet": [{"CidrBlock": a["CidrBlock"]} for a in vpc.get("CidrBlockAssociationSet", [])],
            "Ipv6CidrBlockSet": [{"Ipv6CidrBlock": a["Ipv6CidrBlock"]}
                                 for a in vpc.get("Ipv6CidrBlockAssociationSet", [])]}


def _scopes(doc: dict) -> list[Scope]:
    requester = Scope(doc["RequesterVpcInfo"]["OwnerId"], doc["RequesterVpcInfo"]["Region"])
    accepter = Scope(doc["AccepterVpcInfo"]["OwnerId"], doc["AccepterVpcInfo"]["Region"])
    return [requester] if requester == accepter else [requester, accepter]


def _current(doc: dict) -> dict:
    if doc["Status"]["Code"] == "pending-acceptance" and clock.epoch() >= parse_iso(doc["ExpirationTime"]):
        return {**doc, "Status": {"Code": "expired", "Message": "Expired"}}
    return doc


class PeeringOperations:
    resources: Resources

    def _save(self, doc: dict, insert: bool = False) -> None:
        for scope in _scopes(doc):
            if insert or self.resources.get(scope, KIND, doc["VpcPeeringConnectionId"]) is None:
                self.resources.insert(scope, KIND, doc["VpcPeeringConnectionId"], doc)
            else:
                self.resources.update(scope, doc["VpcPeeringConnectionId"], doc)

    def _get(self, scope: Scope, pcx_id: str | None) -> dict:
        if not pcx_id:
            raise missing_parameter("The request must contain the parameter vpcPeeringConnectionId")
        check_id(pcx_id, "pcx", "InvalidVpcPeeringConnectionId.Malformed")
        doc = self.resources.get(scope, KIND, pcx_id)
        if doc is None:
            raise pcx_not_found(pcx_id)
        return _current(doc)

    def create_vpc_peering_connection(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        tags = tag_specifications(request, ("vpc-peering-connection",)).get("vpc-peering-connection", [])
        with self.env.db.transaction():
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            peer_id = request.get("PeerVpcId")
            if not peer_id:
                raise missing_parameter("The request must contain the parameter peerVpcId")
            peer_scope = Scope(request.get("PeerOwnerId") or scope.account_id,
                               request.get("PeerRegion") or scope.region)
            peer = self.resources.get(peer_scope, "vpc", peer_id)
            if peer is None and peer_scope == scope:
                get_vpc(self.resources, scope, peer_id)
            pcx = new_id("pcx")
            now = clock.epoch()
            accepter = _vpc_info(peer, peer_scope.region) if peer else {"OwnerId": peer_scope.account_id,
                                                                           "VpcId": peer_id,
                                                                           "Region": peer_scope.region}
            doc = {"VpcPeeringConnectionId": pcx, "RequesterVpcInfo": _vpc_info(vpc, scope.region),
                   "AccepterVpcInfo": accepter, "ExpirationTime": iso(now + EXPIRY_SECONDS),
                   "Status": {"Code": "pending-acceptance",
                              "Message": f"Pending Acceptance by {peer_scope.account_id}"}}
            if peer is None or any(
                    ipaddress.ip_network(a["CidrBlock"]).overlaps(ipaddress.ip_network(b["CidrBlock"]))
                    for a in doc["RequesterVpcInfo"]["CidrBlockSet"] for b in accepter["CidrBlockSet"]):
                doc["Status"] = dict(FAILED)
            self._save(doc, insert=True)
            self.resources.set_tags(scope, pcx, tags)
        initiating = {**doc, "Status": {"Code": "initiating-request",
                                        "Message": f"Initiating Request to {peer_scope.account_id}"}}
        return {"VpcPeeringConnection": {**initiating, **({"Tags": tags} if tags else {})}}

    def describe_vpc_peering_connections(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = [_current(d) for d in self.resources.all(scope, KIND)]
        ids = request.get("VpcPeeringConnectionIds") or []
        if ids:
            known = {d["VpcPeeringConnectionId"] for d in docs}
            missing = [i for i in ids if i not in known]
            if missing:
                raise pcx_not_found(missing[0])
            docs = [d for d in docs if d["VpcPeeringConnectionId"] in ids]
        docs = filters.apply(with_tags(self.resources, scope, docs, "VpcPeeringConnectionId"), request.get("Filters"),
                             _FILTERS)
        page, token = paginate(docs, request, ids_given="VpcPeeringConnectionIds")
        return {"VpcPeeringConnections": page, **({"NextToken": token} if token else {})}

    def _transition(self, doc: dict, to: str) -> None:
        code = doc["Status"]["Code"]
        if code != "pending-acceptance":
            raise ServiceError("InvalidStateTransition",
                               f"Invalid state transition for {doc['VpcPeeringConnectionId']}, attempted to "
                               f"transition from {code} to {to}", 400)

    def accept_vpc_peering_connection(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = self._get(scope, request.get("VpcPeeringConnectionId"))
            accepter = doc["AccepterVpcInfo"]
            if (accepter["OwnerId"], accepter["Region"]) != (scope.account_id, scope.region):
                raise ServiceError("OperationNotPermitted",
                                   f"User {scope.account_id} cannot accept peering {doc['VpcPeeringConnectionId']}",
                                   400)
            self._transition(doc, "active")
            options = {"AllowDnsResolutionFromRemoteVpc": False,
                       "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                       "AllowEgressFromLocalVpcToRemoteClassicLink": False}
            doc["RequesterVpcInfo"]["PeeringOptions"] = dict(options)
            doc["AccepterVpcInfo"]["PeeringOptions"] = dict(options)
            doc["Status"] = {"Code": "active", "Message": "Active"}
            doc.pop("ExpirationTime", None)
            self._save(doc)
        return {"VpcPeeringConnection": {**doc, "Status": {"Code": "provisioning", "Message": "Provisioning"}}}

    def reject_vpc_peering_connection(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = self._get(scope, request.get("VpcPeeringConnectionId"))
            accepter = doc["AccepterVpcInfo"]
            if (accepter["OwnerId"], accepter["Region"]) != (scope.account_id, scope.region):
                raise ServiceError("OperationNotPermitted",
                                   f"User {scope.account_id} cannot reject peering {doc['VpcPeeringConnectionId']}",
                                   400)
            self._transition(doc, "rejected")
            doc["Status"] = {"Code": "rejected", "Message": f"Rejected by {scope.account_id}"}
            self._save(doc)
        return {"Return": True}

    def delete_vpc_peering_connection(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = self._get(scope, request.get("VpcPeeringConnectionId"))
            code = doc["Status"]["Code"]
            if code in ("deleted", "rejected", "failed", "expired"):
                raise ServiceError("InvalidStateTransition",
                                   f"Invalid state transition for {doc['VpcPeeringConnectionId']}, attempted to "
                                   f"transition from {code} to deleted", 400)
            doc["Status"] = {"Code": "deleted", "Message": f"Deleted by {scope.account_id}"}
            self._save(doc)
            for side in _scopes(doc):
                blackhole_routes(self.resources, side, "VpcPeeringConnectionId", doc["VpcPeeringConnectionId"])
        return {"Return": True}

    def modify_vpc_peering_connection_options(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            doc = self._get(scope, request.get("VpcPeeringConnectionId"))
            if doc["Status"]["Code"] != "active":
                raise ServiceError("OperationNotPermitted",
                                   f"Peering {doc['VpcPeeringConnectionId']} is not active. Peering options can be"
                                   " added only to active peerings.", 400)
            out = {}
            for side, key in (("Requester", "RequesterVpcInfo"), ("Accepter", "AccepterVpcInfo")):
                given = request.get(f"{side}PeeringConnectionOptions")
                if given is None:
                    continue
                info = doc[key]
                if (info["OwnerId"], info["Region"]) != (scope.account_id, scope.region):
                    raise ServiceError("OperationNotPermitted",
                                       f"User {scope.account_id} cannot modify {side.lower()} options of peering "
                                       f"{doc['VpcPeeringConnectionId']}", 400)
                options = info.setdefault("PeeringOptions", {})
                options.update({k: bool(v) for k, v in given.items() if v is not None})
                out[f"{side}PeeringConnectionOptions"] = dict(options)
            self._save(doc)
        return out
