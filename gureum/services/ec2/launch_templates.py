"""Launch templates and their versions, and RunInstances' use of them.

A template is a resource of kind "launch-template" (the LaunchTemplate shape); each version is
one of kind "launch-template-version" named `<template id>#<number>` (the LaunchTemplateVersion
shape, DefaultVersion worked out when described). RunInstances merges the version's
LaunchTemplateData under the request: what the request names wins, block device mappings merge
by device and tag specifications by resource type, and the instances are tagged with
aws:ec2launchtemplate:id and aws:ec2launchtemplate:version as on AWS.
"""

from __future__ import annotations

import re

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import invalid_parameter_combination, invalid_parameter_value, missing_parameter
from gureum.services.ec2.images import check_image_id
from gureum.services.ec2.instance_types import instance_type
from gureum.services.ec2.store import Resources, Scope, iso, new_id, paginate, with_tags
from gureum.services.ec2.tags import check_tags, tag_specifications

KIND = "launch-template"
VERSION = "launch-template-version"
MAX_VERSIONS = 10000

_NAME = re.compile(r"^[a-zA-Z0-9().\-/_]{3,128}$")
_ID = re.compile(r"^lt-[0-9a-f]{17}$|^lt-[0-9a-f]{8}$")
_DATA_TAG_TYPES = ("instance", "volume", "network-interface", "spot-instances-request", "elastic-gpu")

_FILTERS = filters.paths({
    "create-time": "CreateTime",
    "launch-template-name": "LaunchTemplateName",
})
_VERSION_FILTERS = filters.paths({
    "create-time": "CreateTime",
    "ebs-optimized": "LaunchTemplateData.EbsOptimized",
    "iam-instance-profile": "LaunchTemplateData.IamInstanceProfile.Name",
    "image-id": "LaunchTemplateData.ImageId",
    "instance-type": "LaunchTemplateData.InstanceType",
    "is-default-version": "DefaultVersion",
    "kernel-id": "LaunchTemplateData.KernelId",
    "ram-disk-id": "LaunchTemplateData.RamDiskId",
    "version-description": "VersionDescription",
    "version-number": "VersionNumber",
})


def _name_not_found() -> ServiceError:
    return ServiceError("InvalidLaunchTemplateName.NotFoundException",
                        "At least one of the launch templates specified in the request does not exist.", 400)


def _id_not_found(template_id: str) -> ServiceError:
    return ServiceError("InvalidLaunchTemplateId.NotFound",
                        f"The specified launch template, with template ID {template_id}, does not exist.", 400)


def _version_not_found(version, template_id: str) -> ServiceError:
    return ServiceError("InvalidLaunchTemplateId.VersionNotFound",
                        f"Could not find launch template version {version} for launch template {template_id}.", 400)


def _check_name(name: str | None) -> str:
    if not name:
        raise missing_parameter("The request must contain the parameter launchTemplateName")
    if not _NAME.match(name):
        raise ServiceError("InvalidLaunchTemplateName.MalformedException",
                           "A launch template name must be between 3 and 128 characters, and may contain letters,"
                           " numbers, and the following characters: - ( ) . / _.'", 400)
    return name


def check_data(data: dict | None) -> dict:
    """LaunchTemplateData as AWS checks it when a version is made (the rest is checked at launch)."""
    if data is None:
        raise missing_parameter("The request must contain the parameter LaunchTemplateData")
    if data.get("ImageId") and not data["ImageId"].startswith("resolve:ssm:"):
        check_image_id(data["ImageId"])
    if data.get("InstanceType") and instance_type(data["InstanceType"]) is None:
        raise invalid_parameter_value(f"Invalid value '{data['InstanceType']}' for InstanceType.")
    for spec in data.get("TagSpecifications") or []:
        if spec.get("ResourceType") not in _DATA_TAG_TYPES:
            raise invalid_parameter_value(
                f"'{spec.get('ResourceType')}' is not a valid taggable resource type for this operation.")
        check_tags(spec.get("Tags") or [])
    behaviour = data.get("InstanceInitiatedShutdownBehavior")
    if behaviour is not None and behaviour not in ("stop", "terminate"):
        raise invalid_parameter_value(
            f"Value ({behaviour}) for parameter instanceInitiatedShutdownBehavior is invalid.")
    return data


def merge(data: dict, request: dict) -> dict:
    """RunInstances' request over a template's data."""
    out = {k: v for k, v in data.items() if k not in ("TagSpecifications", "BlockDeviceMappings", "RamDiskId")}
    if data.get("RamDiskId"):
        out["RamdiskId"] = data["RamDiskId"]
    if data.get("NetworkInterfaces") and (request.get("SubnetId") or request.get("SecurityGroupIds")):
        # The request's subnet and groups go to the template's primary interface.
        interfaces = [dict(i) for i in data["NetworkInterfaces"]]
        if request.get("SubnetId"):
            interfaces[0]["SubnetId"] = request["SubnetId"]
        if request.get("SecurityGroupIds"):
            interfaces[0]["Groups"] = request["SecurityGroupIds"]
        out["NetworkInterfaces"] = interfaces
        request = {k: v for k, v in request.items() if k not in ("SubnetId", "SecurityGroupIds")}
    for key, value in request.items():
        if key in ("LaunchTemplate", "TagSpecifications", "BlockDeviceMappings"):
            continue
        if value is not None:
            out[key] = value
    devices = {m["DeviceName"]: m for m in data.get("BlockDeviceMappings") or []}
    devices.update({m["DeviceName"]: m for m in request.get("BlockDeviceMappings") or []})
    if devices:
        out["BlockDeviceMappings"] = list(devices.values())
    specs: dict[str, dict[str, dict]] = {}
    for source in (data.get("TagSpecifications") or [], request.get("TagSpecifications") or []):
        for spec in source:
            kind = spec.get("ResourceType") or "instance"
            for tag in spec.get("Tags") or []:
                specs.setdefault(kind, {})[tag["Key"]] = tag
    if specs:
        out["TagSpecifications"] = [{"ResourceType": k, "Tags": list(v.values())} for k, v in specs.items()]
    return out


class LaunchTemplateOperations:
    resources: Resources

    # ---- lookup ---------------------------------------------------------------------------

    def launch_template(self, scope: Scope, template_id: str | None, name: str | None) -> dict:
        if template_id and name:
            raise invalid_parameter_combination(
                "Both a launch template ID and a launch template name were specified. Specify only one.")
        if template_id:
            if not _ID.match(template_id):
                raise ServiceError("InvalidLaunchTemplateId.Malformed",
                                   f"The specified launch template ID '{template_id}' is malformed.", 400)
            doc = self.resources.get(scope, KIND, template_id)
            if doc is None:
                raise _id_not_found(template_id)
            return doc
        if name:
            doc = next((t for t in self.resources.all(scope, KIND) if t["LaunchTemplateName"] == name), None)
            if doc is None:
                raise _name_not_found()
            return doc
        raise missing_parameter("The request must contain the parameter launchTemplateName or launchTemplateId")

    def _version(self, scope: Scope, template: dict, version) -> dict:
        number = self._version_number(template, version)
        doc = self.resources.get(scope, VERSION, f"{template['LaunchTemplateId']}#{number}")
        if doc is None:
            raise _version_not_found(version, template["LaunchTemplateId"])
        return doc

    @staticmethod
    def _version_number(template: dict, version) -> int:
        if version in (None, "", "$Default"):
            return template["DefaultVersionNumber"]
        if version == "$Latest":
            return template["LatestVersionNumber"]
        try:
            return int(version)
        except (TypeError, ValueError):
            raise invalid_parameter_value(f"Invalid launch template version: {version}") from None

    def _versions(self, scope: Scope, template: dict) -> list[dict]:
        prefix = template["LaunchTemplateId"] + "#"
        found = self.resources.many(scope, VERSION, [f"{prefix}{n}" for n in range(1, template["LatestVersionNumber"] + 1)])
        return [found[k] for k in sorted(found, key=lambda k: int(k.split("#")[1]))]

    @staticmethod
    def _version_view(doc: dict, template: dict) -> dict:
        return {**doc, "DefaultVersion": doc["VersionNumber"] == template["DefaultVersionNumber"]}

    def merge_launch_template(self, scope: Scope, request: dict) -> dict:
        """RunInstances' request with its launch template's data merged under it."""
        spec = request.get("LaunchTemplate") or {}
        template = self.launch_template(scope, spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName"))
        version = self._version(scope, template, spec.get("Version"))
        merged = merge(version["LaunchTemplateData"], request)
        merged["_LaunchTemplateTags"] = [
            {"Key": "aws:ec2launchtemplate:id", "Value": template["LaunchTemplateId"]},
            {"Key": "aws:ec2launchtemplate:version", "Value": str(version["VersionNumber"])},
        ]
        return merged

    # ---- operations ---------------------------------------------------------------------------

    def create_launch_template(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        name = _check_name(request.get("LaunchTemplateName"))
        data = check_data(request.get("LaunchTemplateData"))
        tags = tag_specifications(request, ("launch-template",)).get("launch-template", [])
        description = request.get("VersionDescription")
        if description is not None and len(description) > 255:
            raise invalid_parameter_value("Version description must be 255 characters or fewer")
        with self.env.db.transaction():
            if any(t["LaunchTemplateName"] == name for t in self.resources.all(scope, KIND)):
                raise ServiceError("InvalidLaunchTemplateName.AlreadyExistsException",
                                   "Launch template name already in use.", 400)
            template_id = new_id("lt")
            now = iso(clock.epoch())
            template = {"CreateTime": now, "CreatedBy": ctx.principal.arn, "DefaultVersionNumber": 1,
                        "LatestVersionNumber": 1, "LaunchTemplateId": template_id, "LaunchTemplateName": name}
            self.resources.insert(scope, KIND, template_id, template)
            if tags:
                self.resources.set_tags(scope, template_id, tags)
            self.resources.insert(scope, VERSION, f"{template_id}#1", self._new_version(
                ctx, template, 1, data, description, now))
        return {"LaunchTemplate": {**template, **({"Tags": tags} if tags else {})}}

    @staticmethod
    def _new_version(ctx: RequestContext, template: dict, number: int, data: dict, description: str | None,
                     now: str) -> dict:
        doc = {"CreateTime": now, "CreatedBy": ctx.principal.arn, "LaunchTemplateData": data,
               "LaunchTemplateId": template["LaunchTemplateId"], "LaunchTemplateName": template["LaunchTemplateName"],
               "VersionNumber": number}
        if description is not None:
            doc["VersionDescription"] = description
        return doc

    def create_launch_template_version(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        data = check_data(request.get("LaunchTemplateData"))
        with self.env.db.transaction():
            template = self.launch_template(scope, request.get("LaunchTemplateId"), request.get("LaunchTemplateName"))
            if request.get("SourceVersion") is not None:
                source = self._version(scope, template, request["SourceVersion"])
                data = {**source["LaunchTemplateData"], **data}
            number = template["LatestVersionNumber"] + 1
            if number > MAX_VERSIONS:
                raise ServiceError("LaunchTemplateVersionLimitExceeded",
                                   "You've reached the maximum number of versions for this launch template.", 400)
            template["LatestVersionNumber"] = number
            self.resources.update(scope, template["LaunchTemplateId"], template)
            doc = self._new_version(ctx, template, number, data, request.get("VersionDescription"),
                                    iso(clock.epoch()))
            self.resources.insert(scope, VERSION, f"{template['LaunchTemplateId']}#{number}", doc)
        return {"LaunchTemplateVersion": self._version_view(doc, template)}

    def describe_launch_templates(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ids = request.get("LaunchTemplateIds") or []
        names = request.get("LaunchTemplateNames") or []
        docs = self.resources.all(scope, KIND)
        if ids:
            by_id = {d["LaunchTemplateId"]: d for d in docs}
            for i in ids:
                if i not in by_id:
                    raise _id_not_found(i)
            docs = [by_id[i] for i in dict.fromkeys(ids)]
        if names:
            by_name = {d["LaunchTemplateName"]: d for d in docs}
            if any(n not in by_name for n in names):
                raise _name_not_found()
            docs = [by_name[n] for n in dict.fromkeys(names)]
        docs = filters.apply(with_tags(self.resources, scope, docs, "LaunchTemplateId"), request.get("Filters"),
                             _FILTERS)
        page, token = paginate(docs, request, minimum=1, maximum=200)
        return {"LaunchTemplates": page, **({"NextToken": token} if token else {})}

    def describe_launch_template_versions(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        template_id, name = request.get("LaunchTemplateId"), request.get("LaunchTemplateName")
        if template_id or name:
            templates = [self.launch_template(scope, template_id, name)]
        else:
            templates = self.resources.all(scope, KIND)
            if request.get("Versions"):
                raise missing_parameter(
                    "The request must contain the parameter launchTemplateName or launchTemplateId")
        rows = []
        for template in templates:
            if request.get("Versions"):
                wanted = [self._version_number(template, v) for v in request["Versions"]]
                versions = []
                for v, number in zip(request["Versions"], wanted):
                    doc = self.resources.get(scope, VERSION, f"{template['LaunchTemplateId']}#{number}")
                    if doc is None:
                        raise _version_not_found(v, template["LaunchTemplateId"])
                    versions.append(doc)
            else:
                versions = self._versions(scope, template)
            low, high = request.get("MinVersion"), request.get("MaxVersion")
            for doc in versions:
                if low is not None and doc["VersionNumber"] < self._version_number(template, low):
                    continue
                if high is not None and doc["VersionNumber"] > self._version_number(template, high):
                    continue
                rows.append(self._version_view(doc, template))
        rows.sort(key=lambda d: (d["LaunchTemplateId"], -d["VersionNumber"]))
        rows = filters.apply(rows, request.get("Filters"), _VERSION_FILTERS)
        page, token = paginate(rows, request, minimum=1, maximum=200)
        return {"LaunchTemplateVersions": page, **({"NextToken": token} if token else {})}

    def modify_launch_template(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            template = self.launch_template(scope, request.get("LaunchTemplateId"), request.get("LaunchTemplateName"))
            default = request.get("DefaultVersion")
            if default is not None:
                number = self._version_number(template, default)
                if self.resources.get(scope, VERSION, f"{template['LaunchTemplateId']}#{number}") is None:
                    raise _version_not_found(default, template["LaunchTemplateId"])
                template["DefaultVersionNumber"] = number
                self.resources.update(scope, template["LaunchTemplateId"], template)
        return {"LaunchTemplate": template}

    def delete_launch_template(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        with self.env.db.transaction():
            template = self.launch_template(scope, request.get("LaunchTemplateId"), request.get("LaunchTemplateName"))
            for doc in self._versions(scope, template):
                self.resources.delete(scope, f"{template['LaunchTemplateId']}#{doc['VersionNumber']}")
            self.resources.delete(scope, template["LaunchTemplateId"])
        return {"LaunchTemplate": template}

    def delete_launch_template_versions(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ok, failed = [], []
        with self.env.db.transaction():
            template = self.launch_template(scope, request.get("LaunchTemplateId"), request.get("LaunchTemplateName"))
            base = {"LaunchTemplateId": template["LaunchTemplateId"],
                    "LaunchTemplateName": template["LaunchTemplateName"]}
            for v in request.get("Versions") or []:
                try:
                    number = self._version_number(template, v)
                except ServiceError:
                    failed.append({**base, "ResponseError": {
                        "Code": "launchTemplateVersionDoesNotExist",
                        "Message": "The specified launch template version does not exist."}})
                    continue
                key = f"{template['LaunchTemplateId']}#{number}"
                if number == template["DefaultVersionNumber"]:
                    failed.append({**base, "VersionNumber": number, "ResponseError": {
                        "Code": "launchTemplateVersionIsDefaultVersion",
                        "Message": "Cannot delete the default version of a launch template."}})
                elif self.resources.get(scope, VERSION, key) is None:
                    failed.append({**base, "VersionNumber": number, "ResponseError": {
                        "Code": "launchTemplateVersionDoesNotExist",
                        "Message": "The specified launch template version does not exist."}})
                else:
                    self.resources.delete(scope, key)
                    ok.append({**base, "VersionNumber": number})
        return {"SuccessfullyDeletedLaunchTemplateVersions": ok,
                "UnsuccessfullyDeletedLaunchTemplateVersions": failed}

    def get_launch_template_data(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = self.instance(scope, request.get("InstanceId"))
        view = self.compose(scope, [doc])[0]
        data: dict = {"ImageId": doc["ImageId"], "InstanceType": doc["InstanceType"],
                      "Monitoring": {"Enabled": doc["Monitoring"]["State"] == "enabled"},
                      "Placement": {"AvailabilityZone": doc["Placement"]["AvailabilityZone"],
                                    "GroupName": doc["Placement"].get("GroupName", ""),
                                    "Tenancy": doc["Placement"]["Tenancy"]},
                      "DisableApiTermination": bool(doc.get("_DisableApiTermination")),
                      "DisableApiStop": bool(doc.get("_DisableApiStop")),
                      "InstanceInitiatedShutdownBehavior": doc.get("_ShutdownBehavior", "stop"),
                      "EbsOptimized": bool(doc.get("EbsOptimized")),
                      "MetadataOptions": {k: v for k, v in doc.get("MetadataOptions", {}).items() if k != "State"},
                      "NetworkInterfaces": [{
                          "DeviceIndex": i["Attachment"]["DeviceIndex"],
                          "DeleteOnTermination": i["Attachment"]["DeleteOnTermination"],
                          "Groups": [g["GroupId"] for g in i.get("Groups", [])],
                          "SubnetId": i["SubnetId"], "NetworkInterfaceId": i["NetworkInterfaceId"],
                          "PrivateIpAddresses": [{"Primary": p["Primary"], "PrivateIpAddress": p["PrivateIpAddress"]}
                                                 for p in i.get("PrivateIpAddresses", [])],
                      } for i in view["NetworkInterfaces"]]}
        if doc.get("KeyName"):
            data["KeyName"] = doc["KeyName"]
        if doc.get("_UserData"):
            data["UserData"] = doc["_UserData"]
        if doc.get("_CpuCredits"):
            data["CreditSpecification"] = {"CpuCredits": doc["_CpuCredits"]}
        if doc.get("IamInstanceProfile"):
            data["IamInstanceProfile"] = {"Arn": doc["IamInstanceProfile"]["Arn"]}
        return {"LaunchTemplateData": data}
