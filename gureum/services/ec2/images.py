"""AMIs: DescribeImages over the public catalogue and the account's own images, CreateImage's
helper, RegisterImage, DeregisterImage, CopyImage, Describe/ModifyImageAttribute.

Public catalogue images (data/amis.py) are the same for every account and are not stored. An
account's own images are EC2 resources of kind "image"; their launch permissions ride in the
stored document under `_LaunchPermissions` (never shown by DescribeImages). Another account
sees an image when it is public or names that account in its launch permissions.

For the instance operations: `image_for_launch(scope, image_id)` (the image an account may
launch, or None), `register_image_from_instance(...)` (CreateImage's record), and
`resolve_ssm_image(region, value)` for `--image-id resolve:ssm:...`.
"""

from __future__ import annotations

import json
import re

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.data import amis
from gureum.services.ec2.errors import (
    invalid_parameter_combination,
    invalid_parameter_value,
    missing_parameter,
)
from gureum.services.ec2.store import Resources, Scope, iso, new_id, now_iso, paginate, with_tags
from gureum.services.ec2.tags import tag_specifications

KIND = "image"
PERMISSIONS = "_LaunchPermissions"

_AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
_AMI_NAME = re.compile(r"^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_OWNER_ALIASES = ("amazon", "aws-marketplace", "aws-backup-vault")

_FILTERS = filters.paths({
    "architecture": "Architecture",
    "block-device-mapping.delete-on-termination": "BlockDeviceMappings.Ebs.DeleteOnTermination",
    "block-device-mapping.device-name": "BlockDeviceMappings.DeviceName",
    "block-device-mapping.snapshot-id": "BlockDeviceMappings.Ebs.SnapshotId",
    "block-device-mapping.volume-size": "BlockDeviceMappings.Ebs.VolumeSize",
    "block-device-mapping.volume-type": "BlockDeviceMappings.Ebs.VolumeType",
    "block-device-mapping.encrypted": "BlockDeviceMappings.Ebs.Encrypted",
    "creation-date": "CreationDate",
    "description": "Description",
    "ena-support": "EnaSupport",
    "free-tier-eligible": "FreeTierEligible",
    "hypervisor": "Hypervisor",
    "image-allowed": "ImageAllowed",
    "image-id": "ImageId",
    "image-type": "ImageType",
    "imds-support": "ImdsSupport",
    "is-public": "Public",
    "kernel-id": "KernelId",
    "manifest-location": "ImageLocation",
    "name": "Name",
    "owner-alias": "ImageOwnerAlias",
    "owner-id": "OwnerId",
    "platform": "Platform",
    "platform-details": "PlatformDetails",
    "product-code": "ProductCodes.ProductCodeId",
    "product-code.type": "ProductCodes.ProductCodeType",
    "ramdisk-id": "RamdiskId",
    "root-device-name": "RootDeviceName",
    "root-device-type": "RootDeviceType",
    "source-image-id": "SourceImageId",
    "source-image-region": "SourceImageRegion",
    "source-instance-id": "SourceInstanceId",
    "state": "State",
    "state-reason-code": "StateReason.Code",
    "state-reason-message": "StateReason.Message",
    "sriov-net-support": "SriovNetSupport",
    "usage-operation": "UsageOperation",
    "virtualization-type": "VirtualizationType",
    "boot-mode": "BootMode",
    "tpm-support": "TpmSupport",
    "deprecation-time": "DeprecationTime",
})

_ATTRIBUTES = ("description", "kernel", "ramdisk", "launchPermission", "productCodes", "blockDeviceMapping",
               "sriovNetSupport", "bootMode", "tpmSupport", "uefiData", "lastLaunchedTime", "imdsSupport",
               "deregistrationProtection")


# ---- errors -----------------------------------------------------------------------------------

def check_image_id(image_id: str) -> None:
    if not isinstance(image_id, str) or not _AMI_ID.match(image_id):
        raise ServiceError("InvalidAMIID.Malformed", f'Invalid id: "{image_id}" (expecting "ami-...")', 400)


def image_not_found(ids: list[str]) -> ServiceError:
    if len(ids) == 1:
        return ServiceError("InvalidAMIID.NotFound", f"The image id '[{ids[0]}]' does not exist", 400)
    return ServiceError("InvalidAMIID.NotFound", f"The image ids '[{', '.join(ids)}]' do not exist", 400)


def _not_authorized(image_id: str) -> ServiceError:
    return ServiceError("AuthFailure", f"Not authorized for image:{image_id}", 400)


def _check_name(name: str | None) -> str:
    if name is None:
        raise missing_parameter("The request must contain the parameter name")
    if not _AMI_NAME.match(name):
        raise ServiceError(
            "InvalidAMIName.Malformed",
            "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, "
            "'(', ')', '.', '-', '/' and '_'", 400)
    return name


# ---- resolve:ssm: for RunInstances ------------------------------------------------------------

def resolve_ssm_image(region: str, value: str, ssm=None, ctx: RequestContext | None = None) -> str:
    """The AMI id an `--image-id resolve:ssm:<parameter>[:<version>]` names.

    Public parameters under /aws/service/ come from the catalogue; any other parameter is asked
    of the SSM provider `ssm` (its `parameter_value(ctx, name)`), when given.
    """
    name = value[len("resolve:ssm:"):] if value.startswith("resolve:ssm:") else value
    base = re.sub(r":\d+$", "", name)
    catalogue_name = amis.SSM_PARAMETERS.get(base)
    if catalogue_name is not None:
        return amis.image_id(region, catalogue_name)
    if ssm is not None and ctx is not None:
        found = ssm.parameter_value(ctx, base)
        if found:
            return found
    raise invalid_parameter_value(f"Unable to resolve the SSM parameter {name}. The parameter does not exist.")


# ---- the mixin --------------------------------------------------------------------------------

class ImageOperations:
    resources: Resources

    # ---- for other operations (RunInstances, CreateImage) ---------------------------------

    def image_for_launch(self, scope: Scope, image_id: str) -> dict | None:
        """The image an account may launch in its region (catalogue, own, shared), or None."""
        doc = amis.by_id(scope.region, image_id)
        if doc is not None:
            return doc
        own = self.resources.get(scope, KIND, image_id)
        if own is not None:
            return _public_view(own)
        for other in self._images_of_others(scope):
            if other["ImageId"] == image_id:
                return _public_view(other)
        return None

    def register_image_from_instance(self, scope: Scope, instance: dict, *, name: str,
                                     description: str | None, block_device_mappings: list[dict],
                                     tags: list[dict] | None = None) -> dict:
        """Record the image CreateImage makes of `instance`, and return its document.

        The caller (CreateImage) validates the instance and snapshots its volumes; it passes the
        instance's DescribeInstances document and the image's mappings: one per volume with
        `Ebs.SnapshotId`, `VolumeSize`, `VolumeType`, `DeleteOnTermination`, `Encrypted` (and
        Iops/Throughput where the type has them). Raises InvalidAMIName.* like CreateImage.
        Call it inside the caller's transaction.
        """
        _check_name(name)
        source = self.image_for_launch(scope, instance.get("ImageId", "")) or {}
        doc = self._new_image(
            scope, name=name, description=description,
            architecture=instance.get("Architecture") or source.get("Architecture") or "x86_64",
            root_device=instance.get("RootDeviceName") or source.get("RootDeviceName") or "/dev/xvda",
            mappings=block_device_mappings,
            extra={k: v for k, v in (
                ("Platform", source.get("Platform")),
                ("PlatformDetails", instance.get("PlatformDetails") or source.get("PlatformDetails")),
                ("UsageOperation", instance.get("UsageOperation") or source.get("UsageOperation")),
                ("BootMode", source.get("BootMode")),
                ("ImdsSupport", source.get("ImdsSupport")),
                ("TpmSupport", source.get("TpmSupport")),
                ("EnaSupport", instance.get("EnaSupport", source.get("EnaSupport", True))),
                ("SourceInstanceId", instance.get("InstanceId")),
            ) if v is not None},
        )
        self._save_image(scope, doc, tags or [])
        return _public_view(doc)

    # ---- DescribeImages ------------------------------------------------------------------

    def describe_images(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ids = request.get("ImageIds") or []
        for image_id in ids:
            check_image_id(image_id)
        owners = request.get("Owners") or []
        for owner in owners:
            if owner not in ("self", *_OWNER_ALIASES) and not _ACCOUNT.match(owner):
                raise ServiceError("InvalidUserID.Malformed", f'Invalid user id: "{owner}"', 400)
        users = request.get("ExecutableUsers") or []
        for user in users:
            if user not in ("self", "all") and not _ACCOUNT.match(user):
                raise ServiceError("InvalidUserID.Malformed", f'Invalid user id: "{user}"', 400)
        if ids and request.get("MaxResults") is not None:
            raise invalid_parameter_combination("The parameter imagesSet cannot be used with the parameter maxResults")

        own = with_tags(self.resources, scope, self.resources.all(scope, KIND), "ImageId")
        others = self._images_of_others(scope)
        permissions = {d["ImageId"]: d.get(PERMISSIONS, []) for d in (*own, *others)}
        docs = [*amis.catalogue(scope.region), *(_public_view(d) for d in (*own, *others))]
        if ids:
            wanted = set(ids)
            docs = [d for d in docs if d["ImageId"] in wanted]
            missing = [i for i in dict.fromkeys(ids) if i not in {d["ImageId"] for d in docs}]
            if missing:
                raise image_not_found(missing)
        elif not request.get("IncludeDeprecated"):
            now = iso(clock.epoch())
            docs = [d for d in docs if d["OwnerId"] == scope.account_id
                    or not d.get("DeprecationTime") or d["DeprecationTime"] > now]
        if owners:
            docs = [d for d in docs if _owned_by(d, owners, scope.account_id)]
        if users:
            docs = [d for d in docs if _executable_by(d, users, scope.account_id, permissions)]
        docs = filters.apply(docs, request.get("Filters"), _FILTERS)
        page, token = paginate(docs, request, minimum=5, maximum=1000)
        return {"Images": page, **({"NextToken": token} if token else {})}

    # ---- RegisterImage / DeregisterImage / CopyImage ---------------------------------------

    def register_image(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        name = _check_name(request.get("Name"))
        tags = tag_specifications(request, ("image",)).get("image", [])
        mappings = request.get("BlockDeviceMappings") or []
        root = request.get("RootDeviceName")
        if request.get("ImageLocation"):
            raise invalid_parameter_value("Instance store-backed AMIs registered from an S3 manifest are not supported.")
        if not mappings:
            raise missing_parameter("The request must contain the parameter BlockDeviceMapping or ImageLocation")
        if root is None:
            raise missing_parameter("The request must contain the parameter rootDeviceName")
        out_mappings = []
        for m in mappings:
            ebs = m.get("Ebs")
            entry = {k: v for k, v in m.items() if k in ("DeviceName", "VirtualName", "NoDevice")}
            if ebs is not None:
                snap_id = ebs.get("SnapshotId")
                size = ebs.get("VolumeSize")
                if snap_id:
                    snapshot = self.resources.get(scope, "snapshot", snap_id)
                    if snapshot is None:
                        raise ServiceError("InvalidSnapshot.NotFound", f"The snapshot '{snap_id}' does not exist.", 400)
                    size = size or snapshot.get("VolumeSize")
                    if size < snapshot.get("VolumeSize", 0):
                        raise invalid_parameter_value(
                            f"Volume of {size}GiB is smaller than snapshot '{snap_id}', expect size >= "
                            f"{snapshot['VolumeSize']}GiB")
                elif m.get("DeviceName") == root:
                    raise invalid_parameter_value("The snapshot ID must be specified for the root device.")
                vtype = ebs.get("VolumeType") or "gp2"
                entry["Ebs"] = {
                    "DeleteOnTermination": ebs.get("DeleteOnTermination", True),
                    **({"SnapshotId": snap_id} if snap_id else {}),
                    **({"VolumeSize": size} if size else {}),
                    "VolumeType": vtype,
                    "Encrypted": bool(ebs.get("Encrypted", False)),
                    **({"Iops": ebs.get("Iops") or 3000} if vtype in ("gp3", "io1", "io2") else {}),
                    **({"Throughput": ebs.get("Throughput") or 125} if vtype == "gp3" else {}),
                }
            out_mappings.append(entry)
        if not any(m.get("DeviceName") == root for m in out_mappings):
            raise invalid_parameter_value(f"Invalid root device name: {root}. The root device must have a mapping.")
        extra = {k: request[k] for k in ("BootMode", "ImdsSupport", "TpmSupport", "SriovNetSupport", "KernelId",
                                         "RamdiskId") if request.get(k)}
        extra["EnaSupport"] = request.get("EnaSupport", False)
        doc = self._new_image(scope, name=name, description=request.get("Description"),
                              architecture=request.get("Architecture") or "x86_64", root_device=root,
                              mappings=out_mappings, extra=extra,
                              virtualization=request.get("VirtualizationType") or "hvm")
        with self.env.db.transaction():
            self._save_image(scope, doc, tags)
        return {"ImageId": doc["ImageId"]}

    def deregister_image(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        image_id = request["ImageId"]
        check_image_id(image_id)
        with self.env.db.transaction():
            doc = self.resources.get(scope, KIND, image_id)
            if doc is None:
                if self.image_for_launch(scope, image_id) is not None:
                    raise _not_authorized(image_id)
                raise image_not_found([image_id])
            protection = doc.get("DeregistrationProtection", "disabled")
            if protection.startswith("enabled") or (
                    protection.startswith("disabled-until-") and protection[15:] > iso(clock.epoch())):
                raise ServiceError("InvalidParameterValue",
                                   f"Image {image_id} has deregistration protection enabled", 400)
            self.resources.delete(scope, image_id)
        return {"Return": True}

    def copy_image(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        name = _check_name(request.get("Name"))
        source_region = request["SourceRegion"]
        source_id = request["SourceImageId"]
        check_image_id(source_id)
        source_scope = Scope(scope.account_id, source_region)
        source = self.image_for_launch(source_scope, source_id)
        if source is None:
            raise image_not_found([source_id])
        tags = tag_specifications(request, ("image",)).get("image", [])
        if request.get("CopyImageTags") and source.get("OwnerId") == scope.account_id:
            tags = [*self.resources.tags(source_scope, source_id), *tags]
        mappings = json.loads(json.dumps(source.get("BlockDeviceMappings", [])))
        for m in mappings:
            if "Ebs" in m and m["Ebs"].get("SnapshotId"):
                m["Ebs"]["SnapshotId"] = new_id("snap")
                if request.get("Encrypted"):
                    m["Ebs"]["Encrypted"] = True
        extra = {k: source[k] for k in ("Platform", "PlatformDetails", "UsageOperation", "BootMode", "ImdsSupport",
                                        "TpmSupport", "EnaSupport", "SriovNetSupport") if k in source}
        extra.update(SourceImageId=source_id, SourceImageRegion=source_region)
        description = request.get("Description")
        doc = self._new_image(scope, name=name, description=description if description is not None
                              else source.get("Description"), architecture=source.get("Architecture", "x86_64"),
                              root_device=source.get("RootDeviceName", "/dev/xvda"), mappings=mappings, extra=extra,
                              virtualization=source.get("VirtualizationType", "hvm"))
        with self.env.db.transaction():
            self._save_image(scope, doc, tags)
        return {"ImageId": doc["ImageId"]}

    # ---- attributes ----------------------------------------------------------------------

    def describe_image_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        image_id, attribute = request["ImageId"], request["Attribute"]
        check_image_id(image_id)
        if attribute not in _ATTRIBUTES:
            raise invalid_parameter_value(f"Value ({attribute}) for parameter attribute is invalid. Unknown attribute.")
        doc = self._owned_image(scope, image_id)
        out: dict = {"ImageId": image_id}
        if attribute == "blockDeviceMapping":
            raise _not_authorized(image_id)
        if attribute == "launchPermission":
            out["LaunchPermissions"] = doc.get(PERMISSIONS, [])
        elif attribute == "productCodes":
            out["ProductCodes"] = doc.get("ProductCodes", [])
        else:
            key = {"description": "Description", "kernel": "KernelId", "ramdisk": "RamdiskId",
                   "sriovNetSupport": "SriovNetSupport", "bootMode": "BootMode", "tpmSupport": "TpmSupport",
                   "uefiData": "UefiData", "lastLaunchedTime": "LastLaunchedTime", "imdsSupport": "ImdsSupport",
                   "deregistrationProtection": "DeregistrationProtection"}[attribute]
            out[key] = {"Value": doc[key]} if doc.get(key) is not None else {}
        return out

    def modify_image_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        image_id = request["ImageId"]
        check_image_id(image_id)
        attribute = request.get("Attribute")
        with self.env.db.transaction():
            doc = self._owned_image(scope, image_id)
            add, remove = _permission_changes(request, attribute)
            description = request.get("Description", {}).get("Value") if request.get("Description") else None
            if attribute == "description" and description is None:
                description = request.get("Value")
            imds = (request.get("ImdsSupport") or {}).get("Value")
            if not (add or remove or description is not None or imds):
                raise missing_parameter("The request must contain the parameter launchPermission, description or "
                                        "imdsSupport")
            permissions = [p for p in doc.get(PERMISSIONS, []) if p not in remove]
            permissions += [p for p in add if p not in permissions]
            doc[PERMISSIONS] = permissions
            doc["Public"] = {"Group": "all"} in permissions
            if description is not None:
                doc["Description"] = description
            if imds:
                if imds != "v2.0":
                    raise invalid_parameter_value(f"Invalid value '{imds}' for imdsSupport")
                doc["ImdsSupport"] = imds
            self.resources.update(scope, image_id, doc)
        return {}

    def reset_image_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        image_id = request["ImageId"]
        check_image_id(image_id)
        with self.env.db.transaction():
            doc = self._owned_image(scope, image_id)
            doc[PERMISSIONS] = []
            doc["Public"] = False
            self.resources.update(scope, image_id, doc)
        return {}

    # ---- deprecation and deregistration protection ----------------------------------------

    def enable_image_deprecation(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        image_id = request["ImageId"]
        check_image_id(image_id)
        # AWS keeps whole minutes (seconds are rounded to the nearest minute).
        at = round(request["DeprecateAt"].timestamp() / 60) * 60
        with self.env.db.transaction():
            doc = self._owned_image(scope, image_id)
            doc["DeprecationTime"] = iso(at)
            self.resources.update(scope, image_id, doc)
        return {"Return": True}

    def disable_image_deprecation(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        image_id = request["ImageId"]
        check_image_id(image_id)
        with self.env.db.transaction():
            doc = self._owned_image(scope, image_id)
            doc.pop("DeprecationTime", None)
            self.resources.update(scope, image_id, doc)
        return {"Return": True}

    def enable_image_deregistration_protection(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        image_id = request["ImageId"]
        check_image_id(image_id)
        with self.env.db.transaction():
            doc = self._owned_image(scope, image_id)
            doc["DeregistrationProtection"] = "enabled-with-cooldown" if request.get("WithCooldown") else "enabled"
            self.resources.update(scope, image_id, doc)
        return {"Return": "true"}

    def disable_image_deregistration_protection(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        image_id = request["ImageId"]
        check_image_id(image_id)
        with self.env.db.transaction():
            doc = self._owned_image(scope, image_id)
            if doc.get("DeregistrationProtection") == "enabled-with-cooldown":
                # The image stays protected for 24 hours after protection with cooldown is turned off.
                doc["DeregistrationProtection"] = f"disabled-until-{iso(clock.epoch() + 86400)}"
            elif not doc.get("DeregistrationProtection", "disabled").startswith("disabled-until-"):
                doc["DeregistrationProtection"] = "disabled"
            self.resources.update(scope, image_id, doc)
        return {"Return": "true"}

    # ---- helpers -------------------------------------------------------------------------

    def _owned_image(self, scope: Scope, image_id: str) -> dict:
        doc = self.resources.get(scope, KIND, image_id)
        if doc is None:
            if self.image_for_launch(scope, image_id) is not None:
                raise _not_authorized(image_id)
            raise image_not_found([image_id])
        return doc

    def _images_of_others(self, scope: Scope) -> list[dict]:
        """Other accounts' images in the region that are public or shared with this account (stored form)."""
        rows = self.env.db.query(
            "SELECT doc FROM ec2_resources WHERE region = ? AND kind = ? AND account_id != ? ORDER BY seq",
            (scope.region, KIND, scope.account_id))
        out = []
        for row in rows:
            doc = json.loads(row["doc"])
            if doc.get("Public") or {"UserId": scope.account_id} in doc.get(PERMISSIONS, []):
                out.append(doc)
        return out

    def _new_image(self, scope: Scope, *, name: str, description: str | None, architecture: str,
                   root_device: str, mappings: list[dict], extra: dict, virtualization: str = "hvm") -> dict:
        for other in self.resources.all(scope, KIND):
            if other["Name"] == name:
                raise ServiceError("InvalidAMIName.Duplicate",
                                   f"AMI name {name} is already in use by AMI {other['ImageId']}", 400)
        doc = {
            "Architecture": architecture,
            "CreationDate": now_iso(),
            "ImageId": new_id("ami"),
            "ImageLocation": f"{scope.account_id}/{name}",
            "ImageType": "machine",
            "Public": False,
            "OwnerId": scope.account_id,
            "PlatformDetails": "Linux/UNIX",
            "UsageOperation": "RunInstances",
            "State": "available",
            "BlockDeviceMappings": mappings,
            "Hypervisor": "xen",
            "Name": name,
            "RootDeviceName": root_device,
            "RootDeviceType": "ebs",
            "SriovNetSupport": "simple",
            "VirtualizationType": virtualization,
            PERMISSIONS: [],
        }
        if description is not None:
            doc["Description"] = description
        doc.update(extra)
        return doc

    def _save_image(self, scope: Scope, doc: dict, tags: list[dict]) -> None:
        self.resources.insert(scope, KIND, doc["ImageId"], doc)
        if tags:
            self.resources.set_tags(scope, doc["ImageId"], tags)


def _public_view(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != PERMISSIONS}


def _owned_by(doc: dict, owners: list[str], account_id: str) -> bool:
    for owner in owners:
        if owner == "self" and doc["OwnerId"] == account_id:
            return True
        if owner in _OWNER_ALIASES and doc.get("ImageOwnerAlias") == owner:
            return True
        if owner == doc["OwnerId"]:
            return True
    return False


def _executable_by(doc: dict, users: list[str], account_id: str, permissions: dict[str, list]) -> bool:
    """ExecutableUsers: `all` means public images; an account (or `self`) explicit launch permission."""
    granted = permissions.get(doc["ImageId"], [])
    for user in users:
        if user == "all" and doc.get("Public"):
            return True
        if {"UserId": account_id if user == "self" else user} in granted:
            return True
    return False


def _permission_changes(request: dict, attribute: str | None) -> tuple[list[dict], list[dict]]:
    """(added, removed) launch permissions, from LaunchPermission or the older flat parameters."""
    add: list[dict] = []
    remove: list[dict] = []
    lp = request.get("LaunchPermission") or {}
    for source, target in ((lp.get("Add") or [], add), (lp.get("Remove") or [], remove)):
        for p in source:
            target.append(_permission(p))
    if any(request.get(k) for k in ("UserIds", "UserGroups", "OrganizationArns", "OrganizationalUnitArns")):
        op = request.get("OperationType")
        if op not in ("add", "remove"):
            raise missing_parameter("The request must contain the parameter operationType")
        target = add if op == "add" else remove
        target += [_permission({"UserId": u}) for u in request.get("UserIds") or []]
        target += [_permission({"Group": g}) for g in request.get("UserGroups") or []]
        target += [_permission({"OrganizationArn": a}) for a in request.get("OrganizationArns") or []]
        target += [_permission({"OrganizationalUnitArn": a}) for a in request.get("OrganizationalUnitArns") or []]
    return add, remove


def _permission(p: dict) -> dict:
    if p.get("Group") is not None:
        if p["Group"] != "all":
            raise ServiceError("InvalidAMIAttributeItemValue",
                               f'Invalid attribute item value "{p["Group"]}" for group item type.', 400)
        return {"Group": "all"}
    if p.get("UserId") is not None:
        if not _ACCOUNT.match(p["UserId"]):
            raise ServiceError("InvalidAMIAttributeItemValue",
                               f'Invalid attribute item value "{p["UserId"]}" for userId item type.', 400)
        return {"UserId": p["UserId"]}
    for key in ("OrganizationArn", "OrganizationalUnitArn"):
        if p.get(key):
            return {key: p[key]}
    raise missing_parameter("The request must contain the parameter launchPermission")
