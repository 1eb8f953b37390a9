"""VPC endpoints, endpoint services and AWS-managed prefix lists (control plane).

Gateway endpoints (S3, DynamoDB) put a route to the service's prefix list (pl-...) into
each chosen route table, with the endpoint as its gateway. Interface endpoints take a
requester-managed network interface in each chosen subnet and are `pending` for
PENDING_SECONDS of service time, then `available`. Nothing is proxied: the endpoints are
records a VPC's configuration can be checked against.
"""

from __future__ import annotations

import hashlib
import json

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters, idempotency
from gureum.services.ec2.errors import invalid_parameter_value, missing_parameter, not_found
from gureum.services.ec2.regions import zones
from gureum.services.ec2.store import Resources, Scope, new_id, now_iso, paginate, parse_iso, with_tags
from gureum.services.ec2.tags import tag_specifications

KIND = "vpc-endpoint"
PENDING_SECONDS = 5
FULL_ACCESS = json.dumps({"Version": "2008-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})

GATEWAY_SERVICES = ("s3", "dynamodb")
INTERFACE_SERVICES = (
    "s3", "dynamodb", "ec2", "ec2messages", "ssm", "ssmmessages", "sts", "kms", "logs", "monitoring", "events",
    "sqs", "sns", "secretsmanager", "lambda", "execute-api", "ecr.api", "ecr.dkr", "ecs", "elasticloadbalancing",
    "kinesis-streams", "states", "rds", "elasticache", "cloudformation", "servicequotas", "iam",
)

# The published prefix lists of the two gateway services, where we know them; other regions
# get stable ids of the same form and ranges from the region's announced blocks.
_PREFIX_LISTS = {
    ("us-east-1", "s3"): ("pl-63a5400a", ["3.5.0.0/19", "16.182.0.0/16", "18.34.0.0/19", "18.34.232.0/21",
                                           "52.216.0.0/15", "54.231.0.0/16"]),
    ("us-east-1", "dynamodb"): ("pl-02cd2c6b", ["3.218.180.0/22", "52.94.0.0/22", "52.119.224.0/20"]),
}

_FILTERS = filters.paths({
    "ip-address-type": "IpAddressType", "service-name": "ServiceName", "service-region": "ServiceRegion",
    "vpc-id": "VpcId", "vpc-endpoint-id": "VpcEndpointId", "vpc-endpoint-state": "State",
    "vpc-endpoint-type": "VpcEndpointType",
})
_SERVICE_FILTERS = filters.paths({"service-name": "ServiceName", "service-type": "ServiceType.ServiceType",
                                  "owner": "Owner", "service-region": "ServiceRegion",
                                  "supported-ip-address-types": "SupportedIpAddressTypes"})
_PREFIX_FILTERS = filters.paths({"prefix-list-id": "PrefixListId", "prefix-list-name": "PrefixListName"})


def prefix_list(region: str, service: str) -> dict:
    """{PrefixListId, PrefixListName, Cidrs} of a gateway service in a region."""
    known = _PREFIX_LISTS.get((region, service))
    if known:
        pl_id, cidrs = known
    else:
        digest = hashlib.sha256(f"{region}/{service}".encode()).digest()
        pl_id = "pl-" + digest[:4].hex()
        second = 16 + digest[4] % 200
        cidrs = [f"52.{second}.0.0/16"] if service == "s3" else [f"52.94.{digest[5] % 64 * 4}.0/22"]
    return {"PrefixListId": pl_id, "PrefixListName": f"com.amazonaws.{region}.{service}", "Cidrs": cidrs}


def _service_details(region: str) -> list[dict]:
    names = sorted(set(GATEWAY_SERVICES) | set(INTERFACE_SERVICES))
    out = []
    for svc in names:
        name = f"com.amazonaws.{region}.{svc}"
        types = ([{"ServiceType": "Gateway"}] if svc in GATEWAY_SERVICES else []) + \
            ([{"ServiceType": "Interface"}] if svc in INTERFACE_SERVICES else [])
        for t in types:
            detail = {
                "ServiceName": name,
                "ServiceId": "vpce-svc-" + hashlib.sha256(f"{name}/{t['ServiceType']}".encode()).hexdigest()[:17],
                "ServiceType": [t], "ServiceRegion": region, "Owner": "amazon",
                "AvailabilityZoneIds": [z["ZoneId"] for z in zones(region)],
                "AvailabilityZones": [z["ZoneName"] for z in zones(region)],
                "BaseEndpointDnsNames": [f"{svc}.{region}.vpce.amazonaws.com"],
                "VpcEndpointPolicySupported": True, "AcceptanceRequired": False, "ManagesVpcEndpoints": False,
                "SupportedIpAddressTypes": ["ipv4"],
            }
            if t["ServiceType"] == "Interface" and svc not in GATEWAY_SERVICES:
                detail["PrivateDnsName"] = f"{svc}.{region}.amazonaws.com"
                detail["PrivateDnsNames"] = [{"PrivateDnsName": detail["PrivateDnsName"]}]
                detail["PrivateDnsNameVerificationState"] = "verified"
            out.append(detail)
    return out


def endpoint_not_found(endpoint_id: str) -> ServiceError:
    return not_found("InvalidVpcEndpointId.NotFound", f"The Vpc Endpoint Id '{endpoint_id}' does not exist")


def _current(doc: dict) -> dict:
    if doc["State"] == "pending" and clock.epoch() - parse_iso(doc["CreationTimestamp"]) >= PENDING_SECONDS:
        return {**doc, "State": "available"}
    return doc


class VpcEndpointOperations:
    resources: Resources

    def _route_tables(self, scope: Scope, vpc_id: str, ids: list[str]) -> list[dict]:
        from gureum.services.ec2.route_tables import get_table
        tables = [get_table(self.resources, scope, t) for t in ids]
        for t in tables:
            if t["VpcId"] != vpc_id:
                raise invalid_parameter_value(f"Route table {t['RouteTableId']} does not belong to vpc {vpc_id}")
        return tables

    def _add_routes(self, scope: Scope, endpoint: dict, tables: list[dict]) -> None:
        svc = endpoint["ServiceName"].rsplit(".", 1)[1]
        pl = prefix_list(scope.region, svc)["PrefixListId"]
        for t in tables:
            t = self.resources.get(scope, "route-table", t["RouteTableId"])
            if any(r.get("DestinationPrefixListId") == pl for r in t["Routes"]):
                raise ServiceError("RouteAlreadyExists",
                                   f"route table {t['RouteTableId']} already has a route with destination-prefix-list-id"
                                   f" {pl}", 400)
            t["Routes"].append({"DestinationPrefixListId": pl, "GatewayId": endpoint["VpcEndpointId"],
                                "Origin": "CreateRoute", "State": "active"})
            self.resources.update(scope, t["RouteTableId"], t)

    def _remove_routes(self, scope: Scope, endpoint_id: str, table_ids: list[str] | None = None) -> None:
        for t in self.resources.all(scope, "route-table"):
            if table_ids is not None and t["RouteTableId"] not in table_ids:
                continue
            kept = [r for r in t["Routes"] if r.get("GatewayId") != endpoint_id]
            if len(kept) != len(t["Routes"]):
                t["Routes"] = kept
                self.resources.update(scope, t["RouteTableId"], t)

    def _add_interfaces(self, scope: Scope, endpoint: dict, subnet_ids: list[str]) -> None:
        from gureum.services.ec2 import network_interfaces
        from gureum.services.ec2.security_groups import resolve_groups
        from gureum.services.ec2.subnets import get_subnet
        groups = resolve_groups(self.resources, scope, endpoint["VpcId"],
                                [g["GroupId"] for g in endpoint.get("Groups", [])])
        endpoint["Groups"] = groups
        for sid in subnet_ids:
            subnet = get_subnet(self.resources, scope, sid)
            if subnet["VpcId"] != endpoint["VpcId"]:
                raise invalid_parameter_value(f"Subnet {sid} does not belong to vpc {endpoint['VpcId']}")
            eni = network_interfaces.create_interface(
                self.resources, scope, subnet, groups=groups,
                description=f"VPC Endpoint Interface {endpoint['VpcEndpointId']}", interface_type="vpc_endpoint",
                requester_managed=True, requester_id="727180483921")
            endpoint["SubnetIds"].append(sid)
            endpoint["NetworkInterfaceIds"].append(eni["NetworkInterfaceId"])

    def _remove_interfaces(self, scope: Scope, endpoint: dict, subnet_ids: list[str] | None = None) -> None:
        from gureum.services.ec2 import network_interfaces
        kept_subnets, kept_enis = [], []
        for eni_id in endpoint["NetworkInterfaceIds"]:
            eni = self.resources.get(scope, network_interfaces.KIND, eni_id)
            if eni is None:
                continue
            if subnet_ids is None or eni["SubnetId"] in subnet_ids:
                network_interfaces.delete_interface(self.resources, scope, eni)
            else:
                kept_subnets.append(eni["SubnetId"])
                kept_enis.append(eni_id)
        endpoint["SubnetIds"], endpoint["NetworkInterfaceIds"] = kept_subnets, kept_enis

    def create_vpc_endpoint(self, ctx: RequestContext, request: dict) -> dict:
        from gureum.services.ec2.vpcs import get_vpc
        scope = self.scope(ctx)
        kind = request.get("VpcEndpointType") or "Gateway"
        service = request.get("ServiceName")
        if not service:
            raise missing_parameter("The request must contain the parameter ServiceName")
        offered = {(d["ServiceName"], d["ServiceType"][0]["ServiceType"]) for d in _service_details(scope.region)}
        if not any(name == service for name, _ in offered):
            raise ServiceError("InvalidServiceName", f"The Vpc Endpoint Service '{service}' does not exist", 400)
        if (service, kind) not in offered:
            raise invalid_parameter_value(f"The Vpc Endpoint Service '{service}' does not support endpoint type "
                                          f"'{kind}'")
        policy = request.get("PolicyDocument") or FULL_ACCESS
        try:
            json.loads(policy)
        except ValueError:
            raise ServiceError("InvalidPolicyDocument", "The policy document is not valid JSON.", 400)
        tags = tag_specifications(request, ("vpc-endpoint",)).get("vpc-endpoint", [])
        with self.env.db.transaction():
            repeated = idempotency.earlier(self.resources, scope, KIND, request)
            if repeated is not None:
                return {"VpcEndpoint": _current(repeated), "ClientToken": request["ClientToken"]}
            vpc = get_vpc(self.resources, scope, request.get("VpcId"))
            endpoint_id = new_id("vpce")
            doc = {"VpcEndpointId": endpoint_id, "VpcEndpointType": kind, "VpcId": vpc["VpcId"],
                   "ServiceName": service, "State": "available" if kind == "Gateway" else "pending",
                   "PolicyDocument": policy, "RouteTableIds": [], "SubnetIds": [], "Groups": [],
                   "IpAddressType": request.get("IpAddressType") or "ipv4",
                   "PrivateDnsEnabled": bool(request.get("PrivateDnsEnabled", kind == "Interface")),
                   "RequesterManaged": False, "NetworkInterfaceIds": [], "DnsEntries": [],
                   "CreationTimestamp": now_iso(), "OwnerId": scope.account_id, "ServiceRegion": scope.region}
            if kind == "Gateway":
                tables = self._route_tables(scope, vpc["VpcId"], request.get("RouteTableIds") or [])
                self._add_routes(scope, doc, tables)
                doc["RouteTableIds"] = [t["RouteTableId"] for t in tables]
            else:
                doc["Groups"] = [{"GroupId": g} for g in request.get("SecurityGroupIds") or []]
                self._add_interfaces(scope, doc, request.get("SubnetIds") or [])
                svc = service.rsplit(".", 1)[1]
                doc["DnsEntries"] = [{"DnsName": f"{endpoint_id}-{new_id('x')[2:10]}.{svc}.{scope.region}"
                                                 f".vpce.amazonaws.com", "HostedZoneId": "Z7HUB22UULQXV"}]
                if doc["PrivateDnsEnabled"]:
                    doc["DnsEntries"].append({"DnsName": f"{svc}.{scope.region}.amazonaws.com",
                                              "HostedZoneId": "Z0000000000000000000"})
                doc["DnsOptions"] = {"DnsRecordIpType": "ipv4"}
            self.resources.insert(scope, KIND, endpoint_id, idempotency.remember(doc, request))
            self.resources.set_tags(scope, endpoint_id, tags)
        out = {"VpcEndpoint": {**doc, **({"Tags": tags} if tags else {})}}
        if request.get("ClientToken"):
            out["ClientToken"] = request["ClientToken"]
        return out

    def describe_vpc_endpoints(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = [_current(d) for d in self.resources.all(scope, KIND)]
        ids = request.get("VpcEndpointIds") or []
        if ids:
            known = {d["VpcEndpointId"] for d in docs}
            missing = [i for i in ids if i not in known]
            if missing:
                raise endpoint_not_found(missing[0])
            docs = [d for d in docs if d["VpcEndpointId"] in ids]
        docs = filters.apply(with_tags(self.resources, scope, docs, "VpcEndpointId"), request.get("Filters"), _FILTERS)
        page, token = paginate(docs, request, ids_given="VpcEndpointIds")
        return {"VpcEndpoints": page, **({"NextToken": token} if token else {})}

    def modify_vpc_endpoint(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        endpoint_id = request.get("VpcEndpointId") or ""
        with self.env.db.transaction():
            doc = self.resources.get(scope, KIND, endpoint_id)
            if doc is None:
                raise endpoint_not_found(endpoint_id)
            if request.get("ResetPolicy"):
                doc["PolicyDocument"] = FULL_ACCESS
            elif request.get("PolicyDocument"):
                doc["PolicyDocument"] = request["PolicyDocument"]
            if request.get("AddRouteTableIds"):
                tables = self._route_tables(scope, doc["VpcId"], request["AddRouteTableIds"])
                self._add_routes(scope, doc, tables)
                doc["RouteTableIds"] += [t["RouteTableId"] for t in tables]
            if request.get("RemoveRouteTableIds"):
                gone = request["RemoveRouteTableIds"]
                self._remove_routes(scope, endpoint_id, gone)
                doc["RouteTableIds"] = [t for t in doc["RouteTableIds"] if t not in gone]
            if request.get("AddSubnetIds"):
                self._add_interfaces(scope, doc, request["AddSubnetIds"])
            if request.get("RemoveSubnetIds"):
                self._remove_interfaces(scope, doc, request["RemoveSubnetIds"])
            if request.get("AddSecurityGroupIds") or request.get("RemoveSecurityGroupIds"):
                removed = request.get("RemoveSecurityGroupIds") or []
                ids = [g["GroupId"] for g in doc["Groups"] if g["GroupId"] not in removed]
                from gureum.services.ec2.security_groups import resolve_groups
                doc["Groups"] = resolve_groups(self.resources, scope, doc["VpcId"],
                                               ids + list(request.get("AddSecurityGroupIds") or []))
            if request.get("PrivateDnsEnabled") is not None:
                doc["PrivateDnsEnabled"] = bool(request["PrivateDnsEnabled"])
            self.resources.update(scope, endpoint_id, doc)
        return {"Return": True}

    def delete_vpc_endpoints(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        unsuccessful = []
        with self.env.db.transaction():
            for endpoint_id in request.get("VpcEndpointIds") or []:
                doc = self.resources.get(scope, KIND, endpoint_id)
                if doc is None:
                    unsuccessful.append({"ResourceId": endpoint_id, "Error": {
                        "Code": "InvalidVpcEndpoint.NotFound",
                        "Message": f"The Vpc Endpoint Id '{endpoint_id}' does not exist"}})
                    continue
                self._remove_routes(scope, endpoint_id)
                self._remove_interfaces(scope, doc)
                self.resources.delete(scope, endpoint_id)
        return {"Unsuccessful": unsuccessful}

    def describe_vpc_endpoint_services(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        details = _service_details(scope.region)
        names = request.get("ServiceNames") or []
        known = {d["ServiceName"] for d in details}
        for name in names:
            if name not in known:
                raise ServiceError("InvalidServiceName", f"The Vpc Endpoint Service '{name}' does not exist", 400)
        if names:
            details = [d for d in details if d["ServiceName"] in names]
        details = filters.apply(details, request.get("Filters"), _SERVICE_FILTERS)
        page, token = paginate(details, request)
        return {"ServiceNames": list(dict.fromkeys(d["ServiceName"] for d in page)), "ServiceDetails": page,
                **({"NextToken": token} if token else {})}

    def describe_prefix_lists(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        lists = [prefix_list(scope.region, s) for s in GATEWAY_SERVICES]
        ids = request.get("PrefixListIds") or []
        for i in ids:
            if not any(p["PrefixListId"] == i for p in lists):
                raise not_found("InvalidPrefixListID.NotFound", f"The prefix list ID '{i}' does not exist")
        if ids:
            lists = [p for p in lists if p["PrefixListId"] in ids]
        lists = filters.apply(lists, request.get("Filters"), _PREFIX_FILTERS)
        page, token = paginate(lists, request)
        return {"PrefixLists": page, **({"NextToken": token} if token else {})}
