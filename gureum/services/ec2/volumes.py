"""EBS volumes: Create/Describe/Delete/Attach/Detach/ModifyVolume, DescribeVolumesModifications,
Describe/ModifyVolumeAttribute.

A volume is a resource of kind "volume" in the Volume shape. Each type has AWS's size, IOPS and
throughput rules (`volume_spec`). States move in service time (lifecycle.py): creating ->
available, attaching -> attached, detaching -> gone; a modification goes modifying ->
optimizing -> completed and is kept on the volume (`_Modification`) for
DescribeVolumesModifications. Root volumes are made by RunInstances (`new_volume`, `attachment`).
"""

from __future__ import annotations

import re

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import ebs_defaults, filters, lifecycle
from gureum.services.ec2.errors import (
    check_id,
    incorrect_state,
    invalid_parameter_combination,
    invalid_parameter_value,
    missing_parameter,
    not_found,
)
from gureum.services.ec2.regions import zones
from gureum.services.ec2.store import Resources, Scope, describe, iso, new_id, paginate
from gureum.services.ec2.tags import tag_specifications

KIND = "volume"
MODIFICATION = "_Modification"

# type -> (min GiB, max GiB)
SIZES = {"gp2": (1, 16384), "gp3": (1, 16384), "io1": (4, 16384), "io2": (4, 65536),
         "st1": (125, 16384), "sc1": (125, 16384), "standard": (1, 1024)}
# type -> (min IOPS, max IOPS, max IOPS per GiB) for the types whose IOPS are provisioned
PROVISIONED_IOPS = {"gp3": (3000, 16000, 500), "io1": (100, 64000, 50), "io2": (100, 256000, 1000)}

_DEVICE = re.compile(r"^(/dev/)?(sd[a-z]{1,2}[0-9]{0,2}|xvd[a-z]{1,2}[0-9]{0,2}|hd[a-z][0-9]{0,2})$")

FILTERS = filters.paths({
    "attachment.attach-time": "Attachments.AttachTime",
    "attachment.delete-on-termination": "Attachments.DeleteOnTermination",
    "attachment.device": "Attachments.Device",
    "attachment.instance-id": "Attachments.InstanceId",
    "attachment.status": "Attachments.State",
    "availability-zone": "AvailabilityZone",
    "availability-zone-id": "AvailabilityZoneId",
    "create-time": "CreateTime",
    "encrypted": "Encrypted",
    "fast-restored": "FastRestored",
    "multi-attach-enabled": "MultiAttachEnabled",
    "size": "Size",
    "snapshot-id": "SnapshotId",
    "status": "State",
    "volume-id": "VolumeId",
    "volume-type": "VolumeType",
    "iops": "Iops",
    "throughput": "Throughput",
})

_MODIFICATION_FILTERS = filters.paths({
    "modification-state": "ModificationState",
    "volume-id": "VolumeId",
    "target-size": "TargetSize",
    "target-iops": "TargetIops",
    "target-volume-type": "TargetVolumeType",
    "target-throughput": "TargetThroughput",
    "target-multi-attach-enabled": "TargetMultiAttachEnabled",
    "original-size": "OriginalSize",
    "original-iops": "OriginalIops",
    "original-volume-type": "OriginalVolumeType",
    "original-multi-attach-enabled": "OriginalMultiAttachEnabled",
    "start-time": "StartTime",
})


def volume_not_found(ids: list[str]) -> ServiceError:
    if len(ids) == 1:
        return not_found("InvalidVolume.NotFound", f"The volume '{ids[0]}' does not exist.")
    return not_found("InvalidVolume.NotFound", f"The volumes '{', '.join(ids)}' do not exist.")


def check_device(device: str | None) -> str:
    if not device:
        raise missing_parameter("The request must contain the parameter device")
    if not _DEVICE.match(device):
        raise invalid_parameter_value(f"Value ({device}) for parameter device is invalid. {device} is not a valid"
                                      " EBS device name.")
    return device


def volume_spec(volume_type: str, size: int, iops: int | None, throughput: int | None) -> dict:
    """The Iops/Throughput a volume of this type and size has, or AWS's error for the request."""
    if volume_type not in SIZES:
        raise invalid_parameter_value(
            "The parameter volumeType must be one of: standard, io1, io2, gp2, sc1, st1, gp3")
    low, high = SIZES[volume_type]
    if size < low:
        raise invalid_parameter_value(f"Volume of size {size}GB is too small; minimum is {low}GB.")
    if size > high:
        raise invalid_parameter_value(f"Volume of size {size}GB is too large; maximum is {high}GB.")
    if throughput is not None and volume_type != "gp3":
        raise invalid_parameter_combination(
            f"The parameter throughput is not supported for {volume_type} volumes.")
    if volume_type not in PROVISIONED_IOPS:
        if iops is not None:
            raise invalid_parameter_combination(f"The parameter iops is not supported for {volume_type} volumes.")
        if volume_type == "gp2":
            return {"Iops": min(max(100, 3 * size), 16000)}
        return {}
    minimum, maximum, per_gib = PROVISIONED_IOPS[volume_type]
    if iops is None:
        if volume_type != "gp3":
            raise missing_parameter("The request must contain the parameter iops")
        iops = 3000
    if iops < minimum:
        raise invalid_parameter_value(f"Volume iops of {iops} is too low; minimum is {minimum}.")
    if iops > maximum:
        raise invalid_parameter_value(f"Volume iops of {iops} is too high; maximum is {maximum}.")
    if iops > per_gib * size and not (volume_type == "gp3" and iops == 3000):
        raise invalid_parameter_value(
            f"Iops to volume size ratio of {iops / size:.6f} is too high; maximum is {per_gib}")
    out = {"Iops": iops}
    if volume_type == "gp3":
        throughput = 125 if throughput is None else throughput
        if throughput < 125:
            raise invalid_parameter_value(f"Throughput of {throughput} MiB/s is too low; minimum is 125 MiB/s.")
        if throughput > 1000:
            raise invalid_parameter_value(f"Throughput of {throughput} MiB/s is too high; maximum is 1000 MiB/s.")
        if throughput > 0.25 * iops:
            raise invalid_parameter_value(
                f"Throughput to iops ratio of {throughput / iops:.6f} is too high; maximum is 0.250000.")
        out["Throughput"] = throughput
    return out


def new_volume(scope: Scope, zone: dict, *, size: int, volume_type: str, spec: dict, encrypted: bool,
               kms_key_id: str | None, snapshot_id: str | None, state: str = "creating") -> dict:
    volume_id = new_id("vol")
    doc = {
        "VolumeId": volume_id, "Size": size, "SnapshotId": snapshot_id or "",
        "AvailabilityZone": zone["ZoneName"], "AvailabilityZoneId": zone["ZoneId"], "State": state,
        "CreateTime": iso(clock.epoch()), "Attachments": [], "Encrypted": encrypted,
        "VolumeType": volume_type, "MultiAttachEnabled": False, **spec,
    }
    if encrypted:
        doc["KmsKeyId"] = ebs_defaults.key_arn(scope, kms_key_id)
    return doc


def attachment(volume: dict, instance_id: str, device: str, *, delete_on_termination: bool, state: str,
               at: float) -> dict:
    return {"AttachTime": iso(at), "Device": device, "InstanceId": instance_id, "State": state,
            "VolumeId": volume["VolumeId"], "DeleteOnTermination": delete_on_termination}


def find_zone(scope: Scope, name: str | None, zone_id: str | None = None) -> dict:
    if not name and not zone_id:
        raise missing_parameter("The request must contain the parameter availabilityZone")
    for z in zones(scope.region):
        if name == z["ZoneName"] or zone_id == z["ZoneId"]:
            return z
    raise invalid_parameter_value(f"Invalid availability zone: [{name or zone_id}]")


def view(doc: dict) -> dict:
    return lifecycle.public(doc)


class VolumeOperations:
    resources: Resources

    # ---- shared with instances and snapshots ------------------------------------------------

    def settle_volumes(self, scope: Scope, docs: list[dict]) -> list[dict]:
        """Apply due state changes to volumes (and store them); returns the documents."""
        now = clock.epoch()
        changed = [d for d in docs if lifecycle.advance(d, now)]
        if changed:
            with self.env.db.transaction():
                for d in changed:
                    self.resources.update(scope, d["VolumeId"], d)
        return docs

    def volume(self, scope: Scope, volume_id: str | None) -> dict:
        if not volume_id:
            raise missing_parameter("The request must contain the parameter volumeId")
        check_id(volume_id, "vol", "InvalidVolumeID.Malformed")
        doc = self.resources.get(scope, KIND, volume_id)
        if doc is None:
            raise volume_not_found([volume_id])
        return self.settle_volumes(scope, [doc])[0]

    # ---- operations ---------------------------------------------------------------------------

    def create_volume(self, ctx: RequestContext, request: dict) -> dict:
        from gureum.services.ec2.snapshots import snapshot_for_volume

        scope = self.scope(ctx)
        zone = find_zone(scope, request.get("AvailabilityZone"), request.get("AvailabilityZoneId"))
        volume_type = request.get("VolumeType") or "gp2"
        size = request.get("Size")
        snapshot_id = request.get("SnapshotId")
        snapshot = snapshot_for_volume(self, scope, snapshot_id) if snapshot_id else None
        if size is None:
            if snapshot is None:
                raise missing_parameter("The request must contain the parameter size or snapshotId")
            size = snapshot["VolumeSize"]
        if snapshot is not None and size < snapshot["VolumeSize"]:
            raise invalid_parameter_value(
                f"Volume of size {size}GB is smaller than snapshot '{snapshot_id}', expect size>= "
                f"{snapshot['VolumeSize']}GB")
        spec = volume_spec(volume_type, size, request.get("Iops"), request.get("Throughput"))
        if request.get("MultiAttachEnabled") and volume_type not in ("io1", "io2"):
            raise invalid_parameter_combination(
                f"The parameter multiAttachEnabled is not supported for {volume_type} volumes.")
        encrypted = bool(request.get("Encrypted")) or ebs_defaults.encryption_by_default(self.resources, scope) \
            or bool(snapshot and snapshot.get("Encrypted"))
        if request.get("KmsKeyId") and not encrypted:
            raise invalid_parameter_combination(
                "The parameter KmsKeyId requires the parameter Encrypted to be set.")
        kms = request.get("KmsKeyId") or (snapshot or {}).get("KmsKeyId") \
            or ebs_defaults.default_kms_key(self.resources, scope)
        tags = tag_specifications(request, ("volume",)).get("volume", [])
        doc = new_volume(scope, zone, size=size, volume_type=volume_type, spec=spec, encrypted=encrypted,
                         kms_key_id=kms, snapshot_id=snapshot_id)
        if request.get("MultiAttachEnabled"):
            doc["MultiAttachEnabled"] = True
        answer = view(doc)
        lifecycle.schedule(doc, clock.epoch(), {"State": "available"})
        with self.env.db.transaction():
            self.resources.insert(scope, KIND, doc["VolumeId"], doc)
            if tags:
                self.resources.set_tags(scope, doc["VolumeId"], tags)
        return {**answer, **({"Tags": tags} if tags else {})}

    def describe_volumes(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        for volume_id in request.get("VolumeIds") or []:
            check_id(volume_id, "vol", "InvalidVolumeID.Malformed")
        self.settle_due_instances(scope)  # a termination that came due deletes or detaches volumes
        docs = describe(self.resources, scope, KIND, "VolumeId", request, "VolumeIds", FILTERS,
                        volume_not_found, settle=self.settle_volumes)
        page, token = paginate([view(d) for d in docs], request, minimum=5, maximum=500, ids_given="VolumeIds")
        return {"Volumes": page, **({"NextToken": token} if token else {})}

    def delete_volume(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = self.volume(scope, request.get("VolumeId"))
        if doc["Attachments"]:
            raise ServiceError("VolumeInUse",
                               f"Volume {doc['VolumeId']} is currently attached to {doc['Attachments'][0]['InstanceId']}",
                               400)
        with self.env.db.transaction():
            self.resources.delete(scope, doc["VolumeId"])
        return {}

    def attach_volume(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        device = check_device(request.get("Device"))
        volume = self.volume(scope, request.get("VolumeId"))
        instance = self.instance(scope, request.get("InstanceId"))
        name = instance["State"]["Name"]
        if name not in ("running", "stopped"):
            raise incorrect_state("IncorrectState", f"Instance '{instance['InstanceId']}' is not 'running'.")
        if volume["State"] == "in-use" and volume["Attachments"]:
            raise ServiceError("VolumeInUse", f"{volume['VolumeId']} is already attached to an instance", 400)
        if volume["State"] != "available":
            raise incorrect_state("IncorrectState", f"Volume '{volume['VolumeId']}' is in the '{volume['State']}' state.")
        if volume["AvailabilityZone"] != instance["Placement"]["AvailabilityZone"]:
            raise ServiceError("InvalidVolume.ZoneMismatch",
                               f"The volume '{volume['VolumeId']}' is not in the same availability zone as instance"
                               f" '{instance['InstanceId']}'", 400)
        if any(m["DeviceName"] == device for m in instance.get("BlockDeviceMappings", [])):
            raise invalid_parameter_value(f"Attachment point {device} is already in use")
        now = clock.epoch()
        record = attachment(volume, instance["InstanceId"], device, delete_on_termination=False,
                            state="attaching", at=now)
        volume["State"] = "in-use"
        volume["Attachments"] = [record]
        lifecycle.schedule(volume, now, {"Attachments": [{**record, "State": "attached"}]})
        instance.setdefault("BlockDeviceMappings", []).append(
            {"DeviceName": device, "Ebs": {"AttachTime": iso(now), "DeleteOnTermination": False,
                                           "Status": "attached", "VolumeId": volume["VolumeId"]}})
        with self.env.db.transaction():
            self.resources.update(scope, volume["VolumeId"], volume)
            self.save_instance(scope, instance)
        return {k: v for k, v in record.items() if k != "DeleteOnTermination"}

    def detach_volume(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        volume = self.volume(scope, request.get("VolumeId"))
        if not volume["Attachments"]:
            raise incorrect_state("IncorrectState",
                                  f"Volume '{volume['VolumeId']}' is in the '{volume['State']}' state.")
        record = volume["Attachments"][0]
        if request.get("InstanceId") and request["InstanceId"] != record["InstanceId"]:
            raise ServiceError("InvalidAttachment.NotFound",
                               f"Volume '{volume['VolumeId']}' is not attached to instance '{request['InstanceId']}'.",
                               400)
        if request.get("Device") and request["Device"] != record["Device"]:
            raise ServiceError("InvalidAttachment.NotFound",
                               f"Volume '{volume['VolumeId']}' is not attached at device '{request['Device']}'.", 400)
        instance = self.resources.get(scope, "instance", record["InstanceId"])
        if instance is not None:
            instance = self.settle_instances(scope, [instance])[0]
            if record["Device"] == instance.get("RootDeviceName") and instance["State"]["Name"] not in (
                    "stopped", "terminated") and not request.get("Force"):
                raise ServiceError("UnsupportedOperation",
                                   f"Unable to detach root volume '{volume['VolumeId']}' from instance"
                                   f" '{instance['InstanceId']}'", 400)
        now = clock.epoch()
        answer = {k: v for k, v in record.items() if k != "DeleteOnTermination"}
        answer["State"] = "detaching"
        lifecycle.clear(volume)
        volume["Attachments"] = [{**record, "State": "detaching"}]
        lifecycle.schedule(volume, now, {"Attachments": [], "State": "available"})
        with self.env.db.transaction():
            self.resources.update(scope, volume["VolumeId"], volume)
            if instance is not None:
                instance["BlockDeviceMappings"] = [m for m in instance.get("BlockDeviceMappings", [])
                                                   if m["Ebs"]["VolumeId"] != volume["VolumeId"]]
                self.save_instance(scope, instance)
        return answer

    def modify_volume(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        volume = self.volume(scope, request.get("VolumeId"))
        current = volume.get(MODIFICATION)
        if current and current["ModificationState"] in ("modifying", "optimizing"):
            raise ServiceError(
                "IncorrectModificationState",
                f"Cannot modify volume {volume['VolumeId']} as it is already being modified.", 400)
        size = request.get("Size", volume["Size"])
        volume_type = request.get("VolumeType") or volume["VolumeType"]
        if size < volume["Size"]:
            raise invalid_parameter_value("New size cannot be smaller than existing size")
        if all(request.get(k) is None for k in ("Size", "VolumeType", "Iops", "Throughput", "MultiAttachEnabled")):
            raise missing_parameter("The request must contain at least one of the parameters size, volumeType,"
                                    " iops, throughput or multiAttachEnabled")
        iops = request.get("Iops")
        if iops is None and volume_type in PROVISIONED_IOPS and volume_type == volume["VolumeType"]:
            iops = volume.get("Iops")
        throughput = request.get("Throughput")
        if throughput is None and volume_type == "gp3" and volume["VolumeType"] == "gp3":
            throughput = volume.get("Throughput")
        spec = volume_spec(volume_type, size, iops, throughput)
        now = clock.epoch()
        modification = {
            "VolumeId": volume["VolumeId"], "ModificationState": "modifying",
            "TargetSize": size, "TargetVolumeType": volume_type, "TargetMultiAttachEnabled":
                bool(request.get("MultiAttachEnabled", volume.get("MultiAttachEnabled"))),
            "OriginalSize": volume["Size"], "OriginalVolumeType": volume["VolumeType"],
            "OriginalMultiAttachEnabled": bool(volume.get("MultiAttachEnabled")),
            "Progress": 0, "StartTime": iso(now),
        }
        if "Iops" in spec:
            modification["TargetIops"] = spec["Iops"]
        if volume.get("Iops") is not None:
            modification["OriginalIops"] = volume["Iops"]
        if "Throughput" in spec:
            modification["TargetThroughput"] = spec["Throughput"]
        if volume.get("Throughput") is not None:
            modification["OriginalThroughput"] = volume["Throughput"]
        volume[MODIFICATION] = modification
        volume.pop("Iops", None)
        volume.pop("Throughput", None)
        volume.update({"Size": size, "VolumeType": volume_type, **spec,
                       "MultiAttachEnabled": modification["TargetMultiAttachEnabled"]})
        lifecycle.schedule(volume, now, {MODIFICATION: {**modification, "ModificationState": "optimizing",
                                                        "Progress": 50}})
        lifecycle.schedule(volume, now + lifecycle.boot_seconds(), {
            MODIFICATION: {**modification, "ModificationState": "completed", "Progress": 100,
                           "EndTime": iso(now + lifecycle.boot_seconds())}})
        with self.env.db.transaction():
            self.resources.update(scope, volume["VolumeId"], volume)
        return {"VolumeModification": modification}

    def describe_volumes_modifications(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ids = request.get("VolumeIds") or []
        if ids:
            found = self.resources.many(scope, KIND, ids)
            absent = [i for i in ids if i not in found]
            if absent:
                raise volume_not_found(absent)
            docs = [found[i] for i in dict.fromkeys(ids)]
            missing = [d["VolumeId"] for d in docs if MODIFICATION not in d]
            if missing:
                raise not_found("InvalidVolumeModification.NotFound",
                                f"Modification for volume '{missing[0]}' does not exist.")
        else:
            docs = self.resources.all(scope, KIND)
        self.settle_volumes(scope, docs)
        rows = [d[MODIFICATION] for d in docs if MODIFICATION in d]
        rows = filters.apply(rows, request.get("Filters"), _MODIFICATION_FILTERS)
        page, token = paginate(rows, request, minimum=1, maximum=500)
        return {"VolumesModifications": page, **({"NextToken": token} if token else {})}

    def describe_volume_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        volume = self.volume(scope, request.get("VolumeId"))
        attribute = request.get("Attribute")
        out: dict = {"VolumeId": volume["VolumeId"]}
        if attribute == "autoEnableIO":
            out["AutoEnableIO"] = {"Value": bool(volume.get("_AutoEnableIO"))}
        elif attribute == "productCodes":
            out["ProductCodes"] = []
        else:
            raise invalid_parameter_value(f"Value ({attribute}) for parameter attribute is invalid. "
                                          "Unknown volume attribute.")
        return out

    def modify_volume_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        volume = self.volume(scope, request.get("VolumeId"))
        auto = request.get("AutoEnableIO")
        if auto is None:
            raise missing_parameter("The request must contain the parameter autoEnableIO")
        volume["_AutoEnableIO"] = bool(auto.get("Value"))
        with self.env.db.transaction():
            self.resources.update(scope, volume["VolumeId"], volume)
        return {}
