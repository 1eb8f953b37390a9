"""Transit gateways, their default route table and VPC attachments (control plane).

States follow AWS's with service time (gureum.clock): pending for PENDING_SECONDS, then
available; a deleted gateway or attachment is `deleting`, then `deleted`, visible for an
hour. A gateway with attachments that are not deleted cannot be deleted. Worked out on read.
"""

from __future__ import annotations

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import invalid_parameter_value, missing_parameter, not_found
from gureum.services.ec2.store import Resources, Scope, iso, new_id, now_iso, paginate, parse_iso, with_tags
from gureum.services.ec2.tags import tag_specifications

TGW = "transit-gateway"
ATTACHMENT = "transit-gateway-attachment"
ROUTE_TABLE = "transit-gateway-route-table"
PENDING_SECONDS = 5
DELETING_SECONDS = 5
VISIBLE_AFTER_DELETE_SECONDS = 3600

_TGW_FILTERS = filters.paths({
    "options.propagation-default-route-table-id": "Options.PropagationDefaultRouteTableId",
    "options.association-default-route-table-id": "Options.AssociationDefaultRouteTableId",
    "options.amazon-side-asn": "Options.AmazonSideAsn", "owner-id": "OwnerId", "state": "State",
    "transit-gateway-id": "TransitGatewayId",
})
_ATTACHMENT_FILTERS = filters.paths({
    "state": "State", "transit-gateway-attachment-id": "TransitGatewayAttachmentId",
    "transit-gateway-id": "TransitGatewayId", "vpc-id": "VpcId", "vpc-owner-id": "VpcOwnerId",
    "resource-id": "ResourceId", "resource-type": "ResourceType", "resource-owner-id": "ResourceOwnerId",
    "transit-gateway-owner-id": "TransitGatewayOwnerId", "association.state": "Association.State",
    "association.transit-gateway-route-table-id": "Association.TransitGatewayRouteTableId",
})
_RTB_FILTERS = filters.paths({
    "default-association-route-table": "DefaultAssociationRouteTable",
    "default-propagation-route-table": "DefaultPropagationRouteTable", "state": "State",
    "transit-gateway-id": "TransitGatewayId", "transit-gateway-route-table-id": "TransitGatewayRouteTableId",
})


def _current(doc: dict, created_key: str = "CreationTime") -> dict | None:
    now = clock.epoch()
    if doc.get("_DeleteTime"):
        since = now - parse_iso(doc["_DeleteTime"])
        if since >= DELETING_SECONDS + VISIBLE_AFTER_DELETE_SECONDS:
            return None
        return {**doc, "State": "deleted" if since >= DELETING_SECONDS else "deleting"}
    if doc["State"] == "pending" and now - parse_iso(doc[created_key]) >= PENDING_SECONDS:
        return {**doc, "State": "available"}
    return doc


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _enabled(value: str | None, default: str) -> str:
    value = value or default
    if value not in ("enable", "disable"):
        raise invalid_parameter_value(f"Invalid value '{value}': must be enable or disable")
    return value


class TransitGatewayOperations:
    resources: Resources

    def _live(self, scope: Scope, kind: str) -> list[dict]:
        return [d for d in (_current(x) for x in self.resources.all(scope, kind)) if d is not None]

    def _gateway(self, scope: Scope, tgw_id: str | None) -> dict:
        if not tgw_id:
            raise missing_parameter("The request must contain the parameter transitGatewayId")
        doc = self.resources.get(scope, TGW, tgw_id)
        view = _current(doc) if doc else None
        if view is None or view["State"] in ("deleted",):
            raise not_found("InvalidTransitGatewayID.NotFound", f"Transit Gateway {tgw_id} was deleted or does not "
                                                               "exist.")
        return view

    def create_transit_gateway(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        given = request.get("Options") or {}
        asn = given.get("AmazonSideAsn", 64512)
        if not (64512 <= asn <= 65534 or 4200000000 <= asn <= 4294967294):
            raise invalid_parameter_value(f"The Amazon side ASN {asn} is not in a valid private ASN range.")
        tags = tag_specifications(request, ("transit-gateway",)).get("transit-gateway", [])
        with self.env.db.transaction():
            tgw = new_id("tgw")
            rtb = new_id("tgw-rtb")
            association = _enabled(given.get("DefaultRouteTableAssociation"), "enable")
            propagation = _enabled(given.get("DefaultRouteTablePropagation"), "enable")
            options = {
                "AmazonSideAsn": asn, "TransitGatewayCidrBlocks": given.get("TransitGatewayCidrBlocks") or [],
                "AutoAcceptSharedAttachments": _enabled(given.get("AutoAcceptSharedAttachments"), "disable"),
                "DefaultRouteTableAssociation": association, "DefaultRouteTablePropagation": propagation,
                "VpnEcmpSupport": _enabled(given.get("VpnEcmpSupport"), "enable"),
                "DnsSupport": _enabled(given.get("DnsSupport"), "enable"),
                "SecurityGroupReferencingSupport": _enabled(given.get("SecurityGroupReferencingSupport"), "disable"),
                "MulticastSupport": _enabled(given.get("MulticastSupport"), "disable"),
            }
            if association == "enable":
                options["AssociationDefaultRouteTableId"] = rtb
            if propagation == "enable":
                options["PropagationDefaultRouteTableId"] = rtb
            now = now_iso()
            doc = {"TransitGatewayId": tgw,
                   "TransitGatewayArn": f"arn:aws:ec2:{scope.region}:{scope.account_id}:transit-gateway/{tgw}",
                   "State": "pending", "OwnerId": scope.account_id, "Description": request.get("Description") or "",
                   "CreationTime": now, "Options": options}
            self.resources.insert(scope, TGW, tgw, doc)
            self.resources.set_tags(scope, tgw, tags)
            if association == "enable" or propagation == "enable":
                self.resources.insert(scope, ROUTE_TABLE, rtb, {
                    "TransitGatewayRouteTableId": rtb, "TransitGatewayId": tgw, "State": "pending",
                    "DefaultAssociationRouteTable": association == "enable",
                    "DefaultPropagationRouteTable": propagation == "enable", "CreationTime": now})
        return {"TransitGateway": {**doc, **({"Tags": tags} if tags else {})}}

    def describe_transit_gateways(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = self._live(scope, TGW)
        ids = request.get("TransitGatewayIds") or []
        if ids:
            known = {d["TransitGatewayId"] for d in docs}
            for i in ids:
                if i not in known:
                    raise not_found("InvalidTransitGatewayID.NotFound", f"Transit Gateway {i} was deleted or does "
                                                                       "not exist.")
            docs = [d for d in docs if d["TransitGatewayId"] in ids]
        docs = filters.apply(with_tags(self.resources, scope, [_public(d) for d in docs], "TransitGatewayId"),
                             request.get("Filters"), _TGW_FILTERS)
        page, token = paginate(docs, request)
        return {"TransitGateways": page, **({"NextToken": token} if token else {})}

    def delete_transit_gateway(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            view = self._gateway(scope, request.get("TransitGatewayId"))
            tgw = view["TransitGatewayId"]
            if view["State"] == "deleting":
                return {"TransitGateway": _public(view)}
            attached = [a["TransitGatewayAttachmentId"] for a in self._live(scope, ATTACHMENT)
                        if a["TransitGatewayId"] == tgw and a["State"] not in ("deleting", "deleted")]
            if attached:
                raise ServiceError("IncorrectState",
                                   f"{tgw} has non-deleted Transit Gateway Attachments: {', '.join(attached)}.", 400)
            stamp = iso(clock.epoch())
            doc = self.resources.get(scope, TGW, tgw)
            doc["_DeleteTime"] = stamp
            self.resources.update(scope, tgw, doc)
            for rtb in self.resources.all(scope, ROUTE_TABLE):
                if rtb["TransitGatewayId"] == tgw:
                    rtb["_DeleteTime"] = stamp
                    self.resources.update(scope, rtb["TransitGatewayRouteTableId"], rtb)
        return {"TransitGateway": {**_public(doc), "State": "deleting"}}

    def describe_transit_gateway_route_tables(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = self._live(scope, ROUTE_TABLE)
        ids = request.get("TransitGatewayRouteTableIds") or []
        if ids:
            docs = [d for d in docs if d["TransitGatewayRouteTableId"] in ids]
        docs = filters.apply(with_tags(self.resources, scope, [_public(d) for d in docs], "TransitGatewayRouteTableId"),
                             request.get("Filters"), _RTB_FILTERS)
        page, token = paginate(docs, request)
        return {"TransitGatewayRouteTables": page, **({"NextToken": token} if token else {})}

    # ---- VPC attachments -------------------------------------------------------------------

    def create_transit_gateway_vpc_attachment(self, ctx: RequestContext, request: dict) -> dict:
        from gureum.services.ec2.subnets import get_subnet
        from gureum.services.ec2.vpcs import get_vpc

        scope = self.scope(ctx)
        tags = tag_specifications(request, ("transit-gateway-attachment",)).get("transit-gateway-attachment", [])
        with self.env.db.transaction():
            gateway = self._gateway(scope, request.get("TransitGatewayId"))
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            subnet_ids = request.get("SubnetIds") or []
            if not subnet_ids:
                raise missing_parameter("The request must contain the parameter SubnetIds")
            zones_seen = set()
            for sid in subnet_ids:
                subnet = get_subnet(self.resources, scope, sid)
                if subnet["VpcId"] != vpc["VpcId"]:
                    raise invalid_parameter_value(f"Subnet {sid} does not belong to VPC {vpc['VpcId']}.")
                if subnet["AvailabilityZone"] in zones_seen:
                    raise ServiceError("DuplicateSubnetsInSameZone",
                                       f"Duplicate Subnets for same AZ: {subnet['AvailabilityZone']}", 400)
                zones_seen.add(subnet["AvailabilityZone"])
            if any(a["VpcId"] == vpc["VpcId"] and a["TransitGatewayId"] == gateway["TransitGatewayId"]
                   and a["State"] not in ("deleting", "deleted") for a in self._live(scope, ATTACHMENT)):
                raise ServiceError("DuplicateTransitGatewayAttachment",
                                   f"{gateway['TransitGatewayId']} has non-deleted Transit Gateway Attachments with "
                                   f"same VPC ID.", 400)
            given = request.get("Options") or {}
            attachment = new_id("tgw-attach")
            doc = {"TransitGatewayAttachmentId": attachment, "TransitGatewayId": gateway["TransitGatewayId"],
                   "VpcId": vpc["VpcId"], "VpcOwnerId": scope.account_id, "State": "pending",
                   "SubnetIds": subnet_ids, "CreationTime": now_iso(),
                   "Options": {"DnsSupport": _enabled(given.get("DnsSupport"), "enable"),
                               "Ipv6Support": _enabled(given.get("Ipv6Support"), "disable"),
                               "ApplianceModeSupport": _enabled(given.get("ApplianceModeSupport"), "disable"),
                               "SecurityGroupReferencingSupport":
                                   _enabled(given.get("SecurityGroupReferencingSupport"), "enable")},
                   "_TransitGatewayOwnerId": gateway["OwnerId"],
                   "_RouteTableId": gateway["Options"].get("AssociationDefaultRouteTableId")}
            self.resources.insert(scope, ATTACHMENT, attachment, doc)
            self.resources.set_tags(scope, attachment, tags)
        return {"TransitGatewayVpcAttachment": {**_public(doc), **({"Tags": tags} if tags else {})}}

    def _attachment(self, scope: Scope, attachment_id: str | None) -> dict:
        doc = self.resources.get(scope, ATTACHMENT, attachment_id or "")
        view = _current(doc) if doc else None
        if view is None or view["State"] == "deleted":
            raise not_found("InvalidTransitGatewayAttachmentID.NotFound",
                            f"Transit Gateway Attachment {attachment_id} was deleted or does not exist.")
        return view

    def _attachments(self, scope: Scope, request: dict, spec: dict, view) -> tuple[list, str | None]:
        docs = self._live(scope, ATTACHMENT)
        ids = request.get("TransitGatewayAttachmentIds") or []
        if ids:
            known = {d["TransitGatewayAttachmentId"] for d in docs}
            for i in ids:
                if i not in known:
                    raise not_found("InvalidTransitGatewayAttachmentID.NotFound",
                                    f"Transit Gateway Attachment {i} was deleted or does not exist.")
            docs = [d for d in docs if d["TransitGatewayAttachmentId"] in ids]
        docs = [view(d) for d in docs]
        docs = filters.apply(with_tags(self.resources, scope, docs, "TransitGatewayAttachmentId"),
                             request.get("Filters"), spec)
        return paginate(docs, request)

    def describe_transit_gateway_vpc_attachments(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        page, token = self._attachments(scope, request, _ATTACHMENT_FILTERS, _public)
        return {"TransitGatewayVpcAttachments": page, **({"NextToken": token} if token else {})}

    def describe_transit_gateway_attachments(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)

        def general(d: dict) -> dict:
            out = {"TransitGatewayAttachmentId": d["TransitGatewayAttachmentId"],
                   "TransitGatewayId": d["TransitGatewayId"], "TransitGatewayOwnerId": d["_TransitGatewayOwnerId"],
                   "ResourceOwnerId": d["VpcOwnerId"], "ResourceType": "vpc", "ResourceId": d["VpcId"],
                   "VpcId": d["VpcId"], "State": d["State"], "CreationTime": d["CreationTime"]}
            if d.get("_RouteTableId") and d["State"] not in ("deleting", "deleted"):
                out["Association"] = {"TransitGatewayRouteTableId": d["_RouteTableId"],
                                      "State": "associated" if d["State"] == "available" else "associating"}
            return out

        page, token = self._attachments(scope, request, _ATTACHMENT_FILTERS, general)
        for item in page:
            item.pop("VpcId", None)
        return {"TransitGatewayAttachments": page, **({"NextToken": token} if token else {})}

    def modify_transit_gateway_vpc_attachment(self, ctx: RequestContext, request: dict) -> dict:
        from gureum.services.ec2.subnets import get_subnet
        scope = self.scope(ctx)
        with self.env.db.transaction():
            view = self._attachment(scope, request.get("TransitGatewayAttachmentId"))
            doc = self.resources.get(scope, ATTACHMENT, view["TransitGatewayAttachmentId"])
            for sid in request.get("AddSubnetIds") or []:
                get_subnet(self.resources, scope, sid)
                if sid not in doc["SubnetIds"]:
                    doc["SubnetIds"].append(sid)
            doc["SubnetIds"] = [s for s in doc["SubnetIds"] if s not in (request.get("RemoveSubnetIds") or [])]
            for key, value in (request.get("Options") or {}).items():
                if key in doc["Options"]:
                    doc["Options"][key] = _enabled(value, doc["Options"][key])
            self.resources.update(scope, doc["TransitGatewayAttachmentId"], doc)
        return {"TransitGatewayVpcAttachment": {**_public(doc), "State": view["State"]}}

    def delete_transit_gateway_vpc_attachment(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            view = self._attachment(scope, request.get("TransitGatewayAttachmentId"))
            doc = self.resources.get(scope, ATTACHMENT, view["TransitGatewayAttachmentId"])
            if view["State"] != "deleting":
                doc["_DeleteTime"] = iso(clock.epoch())
                self.resources.update(scope, doc["TransitGatewayAttachmentId"], doc)
        return {"TransitGatewayVpcAttachment": {**_public(doc), "State": "deleting"}}
