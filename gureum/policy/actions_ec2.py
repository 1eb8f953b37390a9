"""EC2: several resources per call.

EC2 authorises an action on every resource it touches: RunInstances on the new instance,
its image, subnet, security groups, volumes, network interface and key pair; resources
being created are `.../instance/*`. Requests name resources by id (often in lists, one
authorization each); tag calls name any kind of resource, told apart by the id's prefix.
"""

from __future__ import annotations

from gureum.policy.actions import Authorization, Call, Context, request_tags, ServiceRules

# id prefix -> (resource type, ARN variable)
_ID_TYPES = {
    "i": ("instance", "InstanceId"),
    "vol": ("volume", "VolumeId"),
    "sg": ("security-group", "SecurityGroupId"),
    "sgr": ("security-group-rule", "SecurityGroupRuleId"),
    "subnet": ("subnet", "SubnetId"),
    "vpc": ("vpc", "VpcId"),
    "ami": ("image", "ImageId"),
    "snap": ("snapshot", "SnapshotId"),
    "eni": ("network-interface", "NetworkInterfaceId"),
    "igw": ("internet-gateway", "InternetGatewayId"),
    "eigw": ("egress-only-internet-gateway", "EgressOnlyInternetGatewayId"),
    "rtb": ("route-table", "RouteTableId"),
    "acl": ("network-acl", "NaclId"),
    "eipalloc": ("elastic-ip", "AllocationId"),
    "key": ("key-pair", "KeyPairName"),
    "lt": ("launch-template", "LaunchTemplateId"),
    "dopt": ("dhcp-options", "DhcpOptionsId"),
    "nat": ("natgateway", "NatGatewayId"),
    "pcx": ("vpc-peering-connection", "VpcPeeringConnectionId"),
    "vpce": ("vpc-endpoint", "VpcEndpointId"),
    "tgw": ("transit-gateway", "TransitGatewayId"),
    "tgw-attach": ("transit-gateway-attachment", "TransitGatewayAttachmentId"),
    "tgw-rtb": ("transit-gateway-route-table", "TransitGatewayRouteTableId"),
    "pl": ("prefix-list", "PrefixListId"),
    "fl": ("vpc-flow-log", "VpcFlowLogId"),
    "cgw": ("customer-gateway", "CustomerGatewayId"),
    "vgw": ("vpn-gateway", "VpnGatewayId"),
    "vpn": ("vpn-connection", "VpnConnectionId"),
    "h": ("dedicated-host", "DedicatedHostId"),
    "pg": ("placement-group", "PlacementGroupName"),
    "fleet": ("fleet", "FleetId"),
    "sir": ("spot-instances-request", "SpotInstanceRequestId"),
    "sfr": ("spot-fleet-request", "SpotFleetRequestId"),
    "cr": ("capacity-reservation", "CapacityReservationId"),
    "eic": ("instance-connect-endpoint", "InstanceConnectEndpointId"),
}


def resource_type(resource_id: str) -> str | None:
    """The resource type an id names (`i-0abc...` -> "instance"), as ARNs and DescribeTags say."""
    head = resource_id.rsplit("-", 1)[0] if "-" in resource_id else resource_id
    kind = _ID_TYPES.get(head) or _ID_TYPES.get(resource_id.split("-", 1)[0])
    return kind[0] if kind else None


def resource_of(call: Call, resource_id: str) -> str:
    """The ARN of an EC2 resource named by id (i-0abc..., vol-..., sg-...)."""
    if resource_id.startswith("arn:"):
        return resource_id
    head = resource_id.rsplit("-", 1)[0] if "-" in resource_id else resource_id
    kind = _ID_TYPES.get(head) or _ID_TYPES.get(resource_id.split("-", 1)[0])
    if kind is None:
        return "*"
    rtype, var = kind
    return call.arn(rtype, **{var: resource_id})


def _ids(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []


def _tag_context(call: Call) -> Context:
    tags = request_tags(call.params)
    ctx: Context = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        ctx["aws:TagKeys"] = list(tags)
    return ctx


def _run_instances(call: Call) -> list[Authorization]:
    p = call.params
    action = "ec2:RunInstances"
    created = _tag_context(call)
    instance_ctx: Context = {**created}
    if p.get("InstanceType"):
        instance_ctx["ec2:InstanceType"] = p["InstanceType"]
    out = [Authorization(action, call.arn("instance"), instance_ctx)]
    image = p.get("ImageId")
    out.append(Authorization(action, call.arn("image", ImageId=image) if image else call.arn("image"),
                             {"ec2:ImageID": image} if image else {}))
    interfaces = p.get("NetworkInterfaces") or []
    subnet = p.get("SubnetId") or next((n.get("SubnetId") for n in interfaces if n.get("SubnetId")), None)
    out.append(Authorization(action, call.arn("subnet", SubnetId=subnet) if subnet else call.arn("subnet"), {}))
    groups = _ids(p.get("SecurityGroupIds")) or [g for n in interfaces for g in _ids(n.get("Groups"))]
    for group in groups or [None]:
        arn = call.arn("security-group", SecurityGroupId=group) if group else call.arn("security-group")
        out.append(Authorization(action, arn, {}))
    out.append(Authorization(action, call.arn("network-interface"), created))
    out.append(Authorization(action, call.arn("volume"), created))
    if p.get("KeyName"):
        out.append(Authorization(action, call.arn("key-pair", KeyPairName=p["KeyName"]),
                                 {"ec2:KeyPairName": p["KeyName"]}))
    template = p.get("LaunchTemplate") or {}
    if template.get("LaunchTemplateId"):
        out.append(Authorization(action, call.arn("launch-template", LaunchTemplateId=template["LaunchTemplateId"]), {}))
    group_name = (p.get("Placement") or {}).get("GroupName")
    if group_name:
        out.append(Authorization(action, call.arn("placement-group", PlacementGroupName=group_name), {}))
    return out


def _tags(call: Call) -> list[Authorization]:
    """CreateTags and DeleteTags: the action on each resource the request names."""
    action = f"ec2:{call.operation}"
    ctx = _tag_context(call)
    return [Authorization(action, resource_of(call, r), ctx) for r in _ids(call.params.get("Resources"))] or [
        Authorization(action, "*", ctx)]


def _associate_address(call: Call) -> list[Authorization]:
    p = call.params
    action = "ec2:AssociateAddress"
    out = []
    if p.get("AllocationId"):
        out.append(Authorization(action, call.arn("elastic-ip", AllocationId=p["AllocationId"]), {}))
    if p.get("InstanceId"):
        out.append(Authorization(action, call.arn("instance", InstanceId=p["InstanceId"]), {}))
    if p.get("NetworkInterfaceId"):
        out.append(Authorization(action, call.arn("network-interface", NetworkInterfaceId=p["NetworkInterfaceId"]), {}))
    return out or [Authorization(action, "*", {})]


def _attach_volume(call: Call) -> list[Authorization]:
    p = call.params
    action = f"ec2:{call.operation}"
    out = []
    if p.get("InstanceId"):
        out.append(Authorization(action, call.arn("instance", InstanceId=p["InstanceId"]), {}))
    if p.get("VolumeId"):
        out.append(Authorization(action, call.arn("volume", VolumeId=p["VolumeId"]), {}))
    return out or [Authorization(action, "*", {})]


def _modify_instance_attribute(call: Call) -> list[Authorization]:
    p = call.params
    action = "ec2:ModifyInstanceAttribute"
    attribute = p.get("Attribute") or next(
        (m[0].lower() + m[1:] for m in ("InstanceType", "UserData", "DisableApiTermination",
                                        "DisableApiStop", "SourceDestCheck", "EbsOptimized",
                                        "InstanceInitiatedShutdownBehavior", "Groups", "Kernel",
                                        "Ramdisk", "SriovNetSupport", "EnaSupport",
                                        "BlockDeviceMappings") if m in p), None)
    ctx: Context = {"ec2:Attribute": attribute} if attribute else {}
    value = (p.get("InstanceType") or {}).get("Value") if isinstance(p.get("InstanceType"), dict) else None
    if value:
        ctx["ec2:Attribute/InstanceType"] = value
    out = [Authorization(action, call.arn("instance", InstanceId=p.get("InstanceId") or "*"), ctx)]
    out += [Authorization(action, call.arn("security-group", SecurityGroupId=g), ctx) for g in _ids(p.get("Groups"))]
    return out


def _create_volume(call: Call) -> list[Authorization]:
    p = call.params
    ctx = _tag_context(call)
    if p.get("AvailabilityZone"):
        ctx["ec2:AvailabilityZone"] = p["AvailabilityZone"]
    if p.get("VolumeType"):
        ctx["ec2:VolumeType"] = p["VolumeType"]
    out = [Authorization("ec2:CreateVolume", call.arn("volume"), ctx)]
    if p.get("SnapshotId"):
        out.append(Authorization("ec2:CreateVolume", call.arn("snapshot", SnapshotId=p["SnapshotId"]), {}))
    return out


def _security_group(call: Call) -> str | list[str] | None:
    p = call.params
    return p.get("GroupId") or p.get("GroupIds") or p.get("SecurityGroupIds") or p.get("SecurityGroupId")


EC2 = ServiceRules(
    handlers={
        "RunInstances": _run_instances,
        "CreateTags": _tags,
        "DeleteTags": _tags,
        "AssociateAddress": _associate_address,
        "AttachVolume": _attach_volume,
        "DetachVolume": _attach_volume,
        "ModifyInstanceAttribute": _modify_instance_attribute,
        "CreateVolume": _create_volume,
    },
    variables={
        "KeyPairName": lambda c: c.params.get("KeyName"),
        "SecurityGroupId": _security_group,
        "NaclId": lambda c: c.params.get("NetworkAclId"),
        "VpcFlowLogId": lambda c: c.params.get("FlowLogIds"),
        "PlacementGroupName": lambda c: c.params.get("GroupName") if "PlacementGroup" in c.operation else None,
        "ImageId": lambda c: c.params.get("ImageId") or c.params.get("SourceImageId"),
    },
)
