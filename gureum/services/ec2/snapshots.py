"""EBS snapshots: Create/Copy/Delete/DescribeSnapshots, Describe/ModifySnapshotAttribute.

A snapshot is a resource of kind "snapshot" in the Snapshot shape; it goes pending -> completed
in service time (lifecycle.py). The public catalogue AMIs' snapshots are not stored: a volume
can still be made from them (`snapshot_for_volume`), as from any public snapshot on AWS.
"""

from __future__ import annotations

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters, lifecycle
from gureum.services.ec2.data import amis
from gureum.services.ec2.errors import check_id, invalid_parameter_value, missing_parameter, not_found
from gureum.gateway.routing import commercial_regions
from gureum.services.ec2.store import Resources, Scope, iso, new_id, paginate, with_tags
from gureum.services.ec2.tags import tag_specifications

KIND = "snapshot"
PERMISSIONS = "_CreateVolumePermissions"

FILTERS = filters.paths({
    "description": "Description",
    "encrypted": "Encrypted",
    "owner-alias": "OwnerAlias",
    "owner-id": "OwnerId",
    "progress": "Progress",
    "snapshot-id": "SnapshotId",
    "start-time": "StartTime",
    "status": "State",
    "storage-tier": "StorageTier",
    "volume-id": "VolumeId",
    "volume-size": "VolumeSize",
})


def snapshot_not_found(ids: list[str]) -> ServiceError:
    if len(ids) == 1:
        return not_found("InvalidSnapshot.NotFound", f"The snapshot '{ids[0]}' does not exist.")
    return not_found("InvalidSnapshot.NotFound", f"The snapshots '{', '.join(ids)}' do not exist.")


def catalogue_snapshot(region: str, snapshot_id: str) -> dict | None:
    """The public snapshot behind a catalogue AMI's root volume, in the Snapshot shape."""
    for image in amis.catalogue(region):
        for m in image.get("BlockDeviceMappings", []):
            ebs = m.get("Ebs") or {}
            if ebs.get("SnapshotId") == snapshot_id:
                return {"SnapshotId": snapshot_id, "VolumeId": "vol-ffffffff", "State": "completed",
                        "StartTime": image["CreationDate"], "Progress": "100%", "OwnerId": image["OwnerId"],
                        "OwnerAlias": "amazon", "Description": image.get("Description", ""),
                        "VolumeSize": ebs["VolumeSize"], "Encrypted": bool(ebs.get("Encrypted")),
                        "StorageTier": "standard"}
    return None


def snapshot_for_volume(provider, scope: Scope, snapshot_id: str) -> dict:
    """A snapshot the account may create a volume from (own, shared with it, or public)."""
    check_id(snapshot_id, "snap", "InvalidSnapshotID.Malformed")
    doc = provider.resources.get(scope, KIND, snapshot_id)
    if doc is not None:
        doc = provider.settle_snapshots(scope, [doc])[0]
        if doc["State"] != "completed":
            raise ServiceError("IncorrectState", f"Snapshot is in invalid state - {doc['State']}", 400)
        return doc
    public = catalogue_snapshot(scope.region, snapshot_id)
    if public is not None:
        return public
    raise snapshot_not_found([snapshot_id])


def in_use_by_image(resources: Resources, scope: Scope, snapshot_id: str) -> str | None:
    for image in resources.all(scope, "image"):
        for m in image.get("BlockDeviceMappings", []):
            if (m.get("Ebs") or {}).get("SnapshotId") == snapshot_id:
                return image["ImageId"]
    return None


def new_snapshot(scope: Scope, volume: dict, description: str | None) -> dict:
    now = clock.epoch()
    doc = {
        "SnapshotId": new_id("snap"), "VolumeId": volume["VolumeId"], "State": "pending",
        "StartTime": iso(now), "Progress": "0%", "OwnerId": scope.account_id,
        "Description": description or "", "VolumeSize": volume["Size"], "Encrypted": bool(volume.get("Encrypted")),
        "StorageTier": "standard", PERMISSIONS: [],
    }
    if volume.get("KmsKeyId"):
        doc["KmsKeyId"] = volume["KmsKeyId"]
    lifecycle.schedule(doc, now, {"State": "completed", "Progress": "100%",
                                  "CompletionTime": iso(now)})
    return doc


class SnapshotOperations:
    resources: Resources

    def settle_snapshots(self, scope: Scope, docs: list[dict]) -> list[dict]:
        now = clock.epoch()
        changed = [d for d in docs if lifecycle.advance(d, now)]
        if changed:
            with self.env.db.transaction():
                for d in changed:
                    self.resources.update(scope, d["SnapshotId"], d)
        return docs

    def _own_snapshot(self, scope: Scope, snapshot_id: str | None) -> dict:
        if not snapshot_id:
            raise missing_parameter("The request must contain the parameter snapshotId")
        check_id(snapshot_id, "snap", "InvalidSnapshotID.Malformed")
        doc = self.resources.get(scope, KIND, snapshot_id)
        if doc is None:
            raise snapshot_not_found([snapshot_id])
        return self.settle_snapshots(scope, [doc])[0]

    def create_snapshot(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        volume = self.volume(scope, request.get("VolumeId"))
        tags = tag_specifications(request, ("snapshot",)).get("snapshot", [])
        doc = new_snapshot(scope, volume, request.get("Description"))
        with self.env.db.transaction():
            self.resources.insert(scope, KIND, doc["SnapshotId"], doc)
            if tags:
                self.resources.set_tags(scope, doc["SnapshotId"], tags)
        return {**lifecycle.public(doc), **({"Tags": tags} if tags else {})}

    def create_snapshots(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        spec = request.get("InstanceSpecification") or {}
        instance = self.instance(scope, spec.get("InstanceId"))
        tags = tag_specifications(request, ("snapshot",)).get("snapshot", [])
        out = []
        with self.env.db.transaction():
            for m in instance.get("BlockDeviceMappings", []):
                if spec.get("ExcludeBootVolume") and m["DeviceName"] == instance.get("RootDeviceName"):
                    continue
                volume = self.volume(scope, m["Ebs"]["VolumeId"])
                doc = new_snapshot(scope, volume, request.get("Description"))
                self.resources.insert(scope, KIND, doc["SnapshotId"], doc)
                if tags:
                    self.resources.set_tags(scope, doc["SnapshotId"], tags)
                out.append({"Description": doc["Description"], "Tags": tags, "Encrypted": doc["Encrypted"],
                            "VolumeId": doc["VolumeId"], "State": doc["State"], "VolumeSize": doc["VolumeSize"],
                            "StartTime": doc["StartTime"], "Progress": doc["Progress"], "OwnerId": doc["OwnerId"],
                            "SnapshotId": doc["SnapshotId"]})
        return {"Snapshots": out}

    def copy_snapshot(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        source_region = request.get("SourceRegion") or scope.region
        if source_region not in commercial_regions():
            raise invalid_parameter_value(f"Invalid value '{source_region}' for SourceRegion")
        source_scope = Scope(scope.account_id, source_region)
        source = self._own_snapshot(source_scope, request.get("SourceSnapshotId"))
        if source["State"] != "completed":
            raise ServiceError("IncorrectState", f"Snapshot is in invalid state - {source['State']}", 400)
        tags = tag_specifications(request, ("snapshot",)).get("snapshot", [])
        encrypted = bool(request.get("Encrypted")) or source["Encrypted"]
        volume = {"VolumeId": "vol-ffffffff", "Size": source["VolumeSize"], "Encrypted": encrypted,
                  "KmsKeyId": request.get("KmsKeyId") or (source.get("KmsKeyId") if source_region == scope.region
                                                         else None)}
        if encrypted and not volume["KmsKeyId"]:
            from gureum.services.ec2.ebs_defaults import aws_managed_key_arn
            volume["KmsKeyId"] = aws_managed_key_arn(scope)
        description = request.get("Description")
        if description is None:
            description = f"[Copied {source['SnapshotId']} from {source_region}]"
        doc = new_snapshot(scope, volume, description)
        with self.env.db.transaction():
            self.resources.insert(scope, KIND, doc["SnapshotId"], doc)
            if tags:
                self.resources.set_tags(scope, doc["SnapshotId"], tags)
        return {"SnapshotId": doc["SnapshotId"], **({"Tags": tags} if tags else {})}

    def delete_snapshot(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = self._own_snapshot(scope, request.get("SnapshotId"))
        image = in_use_by_image(self.resources, scope, doc["SnapshotId"])
        if image:
            raise ServiceError("InvalidSnapshot.InUse",
                               f"The snapshot {doc['SnapshotId']} is currently in use by {image}", 400)
        with self.env.db.transaction():
            self.resources.delete(scope, doc["SnapshotId"])
        return {}

    def describe_snapshots(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ids = request.get("SnapshotIds") or []
        for snapshot_id in ids:
            check_id(snapshot_id, "snap", "InvalidSnapshotID.Malformed")
        owners = request.get("OwnerIds") or []
        restorable = request.get("RestorableByUserIds") or []
        docs = self.settle_snapshots(scope, self.resources.all(scope, KIND))
        if ids:
            by_id = {d["SnapshotId"]: d for d in docs}
            for i in ids:
                if i not in by_id:
                    public = catalogue_snapshot(scope.region, i)
                    if public is not None:
                        by_id[i] = public
            absent = [i for i in dict.fromkeys(ids) if i not in by_id]
            if absent:
                raise snapshot_not_found(absent)
            docs = [by_id[i] for i in dict.fromkeys(ids)]
        out = []
        for d in docs:
            if owners and not ({"self", d["OwnerId"]} & set(owners) if d["OwnerId"] == scope.account_id
                               else ({d["OwnerId"], d.get("OwnerAlias")} & set(owners))):
                continue
            if restorable and not (set(restorable) & ({"all"} | {p.get("UserId") for p in d.get(PERMISSIONS, [])}
                                                      | ({"self"} if d["OwnerId"] == scope.account_id else set()))):
                continue
            out.append(d)
        out = [lifecycle.public(d) for d in filters.apply(with_tags(self.resources, scope, out, "SnapshotId"),
                                                          request.get("Filters"), FILTERS)]
        page, token = paginate(out, request, minimum=5, maximum=1000, ids_given="SnapshotIds")
        return {"Snapshots": page, **({"NextToken": token} if token else {})}

    def describe_snapshot_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = self._own_snapshot(scope, request.get("SnapshotId"))
        attribute = request.get("Attribute")
        if attribute == "createVolumePermission":
            return {"SnapshotId": doc["SnapshotId"], "CreateVolumePermissions": doc.get(PERMISSIONS, [])}
        if attribute == "productCodes":
            return {"SnapshotId": doc["SnapshotId"], "ProductCodes": []}
        raise invalid_parameter_value(f"Value ({attribute}) for parameter attribute is invalid.")

    def modify_snapshot_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = self._own_snapshot(scope, request.get("SnapshotId"))
        change = request.get("CreateVolumePermission") or {}
        add = list(change.get("Add") or [])
        remove = list(change.get("Remove") or [])
        kind = request.get("OperationType")
        for user in request.get("UserIds") or []:
            (remove if kind == "remove" else add).append({"UserId": user})
        for group in request.get("GroupNames") or []:
            (remove if kind == "remove" else add).append({"Group": group})
        permissions = [p for p in doc.get(PERMISSIONS, []) if p not in remove]
        permissions += [p for p in add if p not in permissions]
        doc[PERMISSIONS] = permissions
        with self.env.db.transaction():
            self.resources.update(scope, doc["SnapshotId"], doc)
        return {}
