"""Tags on EC2 resources: CreateTags, DeleteTags, DescribeTags and TagSpecifications."""

from __future__ import annotations

from gureum.context import RequestContext
from gureum.policy.actions_ec2 import resource_type
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import invalid_parameter_value, missing_parameter, not_found
from gureum.services.ec2.store import Resources, paginate

MAX_TAGS = 50

# id prefix -> (NotFound code, how AWS names the thing in its message)
_NOT_FOUND = {
    "i": ("InvalidInstanceID.NotFound", "The instance ID '{}' does not exist"),
    "vpc": ("InvalidVpcID.NotFound", "The vpc ID '{}' does not exist"),
    "subnet": ("InvalidSubnetID.NotFound", "The subnet ID '{}' does not exist"),
    "sg": ("InvalidGroup.NotFound", "The security group '{}' does not exist"),
    "vol": ("InvalidVolume.NotFound", "The volume '{}' does not exist."),
    "snap": ("InvalidSnapshot.NotFound", "The snapshot '{}' does not exist."),
    "ami": ("InvalidAMIID.NotFound", "The image id '[{}]' does not exist"),
    "eni": ("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '{}' does not exist"),
    "igw": ("InvalidInternetGatewayID.NotFound", "The internetGateway ID '{}' does not exist"),
    "rtb": ("InvalidRouteTableID.NotFound", "The routeTable ID '{}' does not exist"),
    "acl": ("InvalidNetworkAclID.NotFound", "The networkAcl ID '{}' does not exist"),
    "eipalloc": ("InvalidAllocationID.NotFound", "The allocation ID '{}' does not exist"),
    "key": ("InvalidKeyPair.NotFound", "The key pair '{}' does not exist"),
    "lt": ("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID {}, does not exist."),
    "dopt": ("InvalidDhcpOptionID.NotFound", "The dhcpOption ID '{}' does not exist"),
    "nat": ("NatGatewayNotFound", "The Nat Gateway {} was not found"),
    "pcx": ("InvalidVpcPeeringConnectionID.NotFound", "The vpcPeeringConnection ID '{}' does not exist"),
}


def resource_not_found(resource_id: str) -> ServiceError:
    prefix = resource_id.rsplit("-", 1)[0]
    code, message = _NOT_FOUND.get(prefix, ("InvalidID", "The ID '{}' is not valid"))
    return not_found(code, message.format(resource_id))


def check_tags(tags: list[dict]) -> None:
    for tag in tags:
        key = tag.get("Key")
        if key is None:
            raise missing_parameter("The request must contain the parameter key")
        value = tag.get("Value") or ""
        if key.lower().startswith("aws:"):
            raise invalid_parameter_value(
                f"Value ( {key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for"
                " internal use")
        if not key or len(key) > 128:
            raise invalid_parameter_value("Tag key exceeds the maximum length of 128 characters")
        if len(value) > 256:
            raise invalid_parameter_value("Tag value exceeds the maximum length of 256 characters")


def tag_specifications(request: dict, allowed: tuple[str, ...]) -> dict[str, list[dict]]:
    """Tags to put on the resources an operation creates, by resource type (TagSpecifications).

    `allowed` lists the resource types the operation creates; the first is the default for a
    specification that names none (CreateVpc's TagSpecification for "vpc").
    """
    out: dict[str, list[dict]] = {}
    for spec in request.get("TagSpecifications") or []:
        kind = spec.get("ResourceType") or allowed[0]
        if kind not in allowed:
            raise invalid_parameter_value(f"'{kind}' is not a valid taggable resource type for this operation.")
        tags = spec.get("Tags") or []
        check_tags(tags)
        merged = {t["Key"]: t for t in out.get(kind, [])}
        merged.update({t["Key"]: {"Key": t["Key"], "Value": t.get("Value") or ""} for t in tags})
        if len(merged) > MAX_TAGS:
            raise ServiceError("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.", 400)
        out[kind] = list(merged.values())
    return out


_DESCRIBE_TAGS = {
    "key": lambda d: d["Key"],
    "value": lambda d: d["Value"],
    "resource-id": lambda d: d["ResourceId"],
    "resource-type": lambda d: d["ResourceType"],
}


class TagOperations:
    resources: Resources

    def create_tags(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        tags = request.get("Tags") or []
        check_tags(tags)
        with self.env.db.transaction():
            for resource_id in request.get("Resources") or []:
                if self.resources.kind_of(scope, resource_id) is None:
                    raise resource_not_found(resource_id)
                existing = {t["Key"] for t in self.resources.tags(scope, resource_id)}
                if len(existing | {t["Key"] for t in tags}) > MAX_TAGS:
                    raise ServiceError("TagLimitExceeded",
                                       "The maximum number of Tags for a resource has been reached.", 400)
                self.resources.set_tags(scope, resource_id, tags)
        return {}

    def delete_tags(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        tags = request.get("Tags")
        with self.env.db.transaction():
            for resource_id in request.get("Resources") or []:
                if self.resources.kind_of(scope, resource_id) is None:
                    raise resource_not_found(resource_id)
                self.resources.remove_tags(scope, resource_id, tags if tags else None)
        return {}

    def describe_tags(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        rows = [
            {"Key": key, "ResourceId": rid, "ResourceType": resource_type(rid) or "", "Value": value}
            for rid, key, value in self.resources.all_tags(scope)
        ]
        checked = filters.check(request.get("Filters"), _DESCRIBE_TAGS)
        rows = [r for r in rows if filters.matches(r, [{"Key": r["Key"], "Value": r["Value"]}], checked, _DESCRIBE_TAGS)]
        page, token = paginate(rows, request)
        return {"Tags": page, **({"NextToken": token} if token else {})}
