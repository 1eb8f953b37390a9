"""VPC flow logs (control plane): CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs.

A flow log records where traffic records of a VPC, subnet or interface would go; no
records are produced. Failures per resource come back in `Unsuccessful`, as AWS answers.
"""

from __future__ import annotations

from gureum.context import RequestContext
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import invalid_parameter_value, missing_parameter
from gureum.services.ec2.store import Resources, new_id, now_iso, paginate, with_tags
from gureum.services.ec2.tags import tag_specifications

KIND = "flow-log"
DEFAULT_FORMAT = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
                  "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")
_RESOURCE_KINDS = {"VPC": "vpc", "Subnet": "subnet", "NetworkInterface": "network-interface",
                   "TransitGateway": "transit-gateway", "TransitGatewayAttachment": "transit-gateway-attachment"}
_FILTERS = filters.paths({
    "deliver-log-status": "DeliverLogsStatus", "log-destination-type": "LogDestinationType",
    "flow-log-id": "FlowLogId", "log-group-name": "LogGroupName", "resource-id": "ResourceId",
    "traffic-type": "TrafficType",
})


class FlowLogOperations:
    resources: Resources

    def create_flow_logs(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        resource_type = request.get("ResourceType")
        if resource_type not in _RESOURCE_KINDS:
            raise invalid_parameter_value(f"Value ({resource_type}) for parameter resourceType is invalid.")
        traffic = request.get("TrafficType")
        if resource_type in ("VPC", "Subnet", "NetworkInterface") and traffic not in ("ACCEPT", "REJECT", "ALL"):
            raise invalid_parameter_value(f"Value ({traffic}) for parameter trafficType is invalid.")
        destination_type = request.get("LogDestinationType") or "cloud-watch-logs"
        if destination_type not in ("cloud-watch-logs", "s3", "kinesis-data-firehose"):
            raise invalid_parameter_value(f"Value ({destination_type}) for parameter logDestinationType is invalid.")
        group = request.get("LogGroupName")
        destination = request.get("LogDestination")
        if destination_type == "cloud-watch-logs":
            if not (group or destination):
                raise missing_parameter("LogGroupName or LogDestination must be specified")
            if not request.get("DeliverLogsPermissionArn"):
                raise invalid_parameter_value("DeliverLogsPermissionArn is required when the log destination is "
                                              "cloud-watch-logs")
            if not destination:
                destination = f"arn:aws:logs:{scope.region}:{scope.account_id}:log-group:{group}"
            group = group or destination.rsplit(":log-group:", 1)[-1].rstrip(":*")
        elif not destination:
            raise missing_parameter("LogDestination must be specified")
        interval = request.get("MaxAggregationInterval") or 600
        if interval not in (60, 600):
            raise invalid_parameter_value(f"Value ({interval}) for parameter maxAggregationInterval is invalid.")
        tags = tag_specifications(request, ("vpc-flow-log",)).get("vpc-flow-log", [])
        made, unsuccessful = [], []
        with self.env.db.transaction():
            existing = self.resources.all(scope, KIND)
            for rid in request.get("ResourceIds") or []:
                if self.resources.get(scope, _RESOURCE_KINDS[resource_type], rid) is None:
                    unsuccessful.append({"ResourceId": rid, "Error": {
                        "Code": "InvalidParameter", "Message": f"{resource_type} {rid} does not exist"}})
                    continue
                if any(f["ResourceId"] == rid and f.get("TrafficType") == traffic
                       and f["LogDestination"] == destination for f in existing):
                    unsuccessful.append({"ResourceId": rid, "Error": {
                        "Code": "FlowLogAlreadyExists",
                        "Message": "There is an existing Flow Log with the same configuration and log destination."}})
                    continue
                fl = new_id("fl")
                doc = {"CreationTime": now_iso(), "DeliverLogsStatus": "SUCCESS", "FlowLogId": fl,
                       "FlowLogStatus": "ACTIVE", "ResourceId": rid, "LogDestinationType": destination_type,
                       "LogDestination": destination, "LogFormat": request.get("LogFormat") or DEFAULT_FORMAT,
                       "MaxAggregationInterval": interval}
                if traffic:
                    doc["TrafficType"] = traffic
                if group:
                    doc["LogGroupName"] = group
                if request.get("DeliverLogsPermissionArn"):
                    doc["DeliverLogsPermissionArn"] = request["DeliverLogsPermissionArn"]
                if request.get("DestinationOptions"):
                    doc["DestinationOptions"] = request["DestinationOptions"]
                self.resources.insert(scope, KIND, fl, doc)
                self.resources.set_tags(scope, fl, tags)
                existing.append(doc)
                made.append(fl)
        out = {"FlowLogIds": made, "Unsuccessful": unsuccessful}
        if request.get("ClientToken"):
            out["ClientToken"] = request["ClientToken"]
        return out

    def describe_flow_logs(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = self.resources.all(scope, KIND)
        ids = request.get("FlowLogIds") or []
        if ids:
            docs = [d for d in docs if d["FlowLogId"] in ids]
        docs = filters.apply(with_tags(self.resources, scope, docs, "FlowLogId"), request.get("Filter"), _FILTERS)
        page, token = paginate(docs, request, ids_given="FlowLogIds")
        return {"FlowLogs": page, **({"NextToken": token} if token else {})}

    def delete_flow_logs(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        unsuccessful = []
        with self.env.db.transaction():
            for fl in request.get("FlowLogIds") or []:
                if self.resources.get(scope, KIND, fl) is None:
                    unsuccessful.append({"ResourceId": fl, "Error": {
                        "Code": "InvalidFlowLogId.NotFound", "Message": f"Flow log {fl} does not exist"}})
                    continue
                self.resources.delete(scope, fl)
        return {"Unsuccessful": unsuccessful}
