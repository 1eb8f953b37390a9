"""Instances beyond launch and state: DescribeInstanceStatus, Describe/ModifyInstanceAttribute,
GetConsoleOutput, credit specifications, metadata options, monitoring, and CreateImage.

GetConsoleOutput answers a boot log built from the instance's facts and its user data: the user
data is not run yet, so the log is synthetic.
"""

from __future__ import annotations

import base64

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import incorrect_state, invalid_parameter_combination, invalid_parameter_value, \
    missing_parameter
from gureum.services.ec2.instance_types import instance_type
from gureum.services.ec2.instances import (
    KIND,
    MAX_USER_DATA,
    _bad_instance_type,
    _not_in_state,
    _not_stopped,
    check_architecture,
    is_standard,
    vcpus,
)
from gureum.services.ec2.store import Resources, Scope, paginate
from gureum.services.ec2.tags import tag_specifications

_STATUS_FILTERS = filters.paths({
    "availability-zone": "AvailabilityZone",
    "instance-state-code": "InstanceState.Code",
    "instance-state-name": "InstanceState.Name",
    "instance-status.reachability": "InstanceStatus.Details.Status",
    "instance-status.status": "InstanceStatus.Status",
    "system-status.reachability": "SystemStatus.Details.Status",
    "system-status.status": "SystemStatus.Status",
    "event.code": "Events.Code",
})

# DescribeInstanceAttribute's attribute -> (output member, how it is read)
_ATTRIBUTES = ("instanceType", "kernel", "ramdisk", "userData", "disableApiTermination",
               "instanceInitiatedShutdownBehavior", "rootDeviceName", "blockDeviceMapping", "productCodes",
               "sourceDestCheck", "groupSet", "ebsOptimized", "sriovNetSupport", "enaSupport", "enclaveOptions",
               "disableApiStop")


def _bool(value) -> bool:
    if isinstance(value, dict):
        value = value.get("Value")
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


class InstanceAttributeOperations:
    resources: Resources

    # ---- DescribeInstanceStatus ---------------------------------------------------------------

    def describe_instance_status(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ids = request.get("InstanceIds") or []
        docs = self._instances(scope, ids) if ids else self.settle_instances(scope, self.resources.all(scope, KIND))
        now = clock.epoch()
        rows = []
        for d in docs:
            name = d["State"]["Name"]
            if name != "running" and not request.get("IncludeAllInstances"):
                continue
            row = {"AvailabilityZone": d["Placement"]["AvailabilityZone"], "InstanceId": d["InstanceId"],
                   "InstanceState": d["State"]}
            if name == "running":
                ok = now >= d.get("_StatusOkAt", 0)
                status = "passed" if ok else "initializing"
                row["InstanceStatus"] = {"Status": "ok" if ok else "initializing",
                                         "Details": [{"Name": "reachability", "Status": status}]}
                row["SystemStatus"] = {"Status": "ok" if ok else "initializing",
                                       "Details": [{"Name": "reachability", "Status": status}]}
                row["AttachedEbsStatus"] = {"Status": "ok" if ok else "initializing",
                                            "Details": [{"Name": "reachability", "Status": status}]}
            else:
                row["InstanceStatus"] = {"Status": "not-applicable"}
                row["SystemStatus"] = {"Status": "not-applicable"}
            rows.append(row)
        rows = filters.apply(rows, request.get("Filters"), _STATUS_FILTERS)
        page, token = paginate(rows, request, minimum=5, maximum=1000, ids_given="InstanceIds")
        return {"InstanceStatuses": page, **({"NextToken": token} if token else {})}

    # ---- attributes ---------------------------------------------------------------------------

    def describe_instance_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        attribute = request.get("Attribute")
        if attribute not in _ATTRIBUTES:
            raise invalid_parameter_value(f"Value ({attribute}) for parameter attribute is invalid. "
                                          "Unknown attribute.")
        doc = self.instance(scope, request.get("InstanceId"))
        view = self.compose(scope, [doc])[0]
        out: dict = {"InstanceId": doc["InstanceId"]}
        if attribute == "instanceType":
            out["InstanceType"] = {"Value": doc["InstanceType"]}
        elif attribute == "kernel":
            out["KernelId"] = {"Value": doc["KernelId"]} if doc.get("KernelId") else {}
        elif attribute == "ramdisk":
            out["RamdiskId"] = {"Value": doc["RamdiskId"]} if doc.get("RamdiskId") else {}
        elif attribute == "userData":
            out["UserData"] = {"Value": doc["_UserData"]} if doc.get("_UserData") else {}
        elif attribute == "disableApiTermination":
            out["DisableApiTermination"] = {"Value": bool(doc.get("_DisableApiTermination"))}
        elif attribute == "disableApiStop":
            out["DisableApiStop"] = {"Value": bool(doc.get("_DisableApiStop"))}
        elif attribute == "instanceInitiatedShutdownBehavior":
            out["InstanceInitiatedShutdownBehavior"] = {"Value": doc.get("_ShutdownBehavior", "stop")}
        elif attribute == "rootDeviceName":
            out["RootDeviceName"] = {"Value": doc.get("RootDeviceName")}
        elif attribute == "blockDeviceMapping":
            out["BlockDeviceMappings"] = view.get("BlockDeviceMappings", [])
        elif attribute == "productCodes":
            out["ProductCodes"] = []
        elif attribute == "sourceDestCheck":
            out["SourceDestCheck"] = {"Value": view.get("SourceDestCheck", True)}
        elif attribute == "groupSet":
            out["Groups"] = view.get("SecurityGroups", [])
        elif attribute == "ebsOptimized":
            out["EbsOptimized"] = {"Value": bool(doc.get("EbsOptimized"))}
        elif attribute == "sriovNetSupport":
            out["SriovNetSupport"] = {"Value": doc["_SriovNetSupport"]} if doc.get("_SriovNetSupport") else {}
        elif attribute == "enaSupport":
            out["EnaSupport"] = {"Value": bool(doc.get("EnaSupport"))}
        elif attribute == "enclaveOptions":
            out["EnclaveOptions"] = doc.get("EnclaveOptions", {"Enabled": False})
        return out

    def modify_instance_attribute(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = self.instance(scope, request.get("InstanceId"))
        changes = self._attribute_changes(request)
        if not changes:
            raise missing_parameter("The request must contain the parameter attribute")
        if len(changes) > 1:
            raise invalid_parameter_combination(
                f"Fields for multiple attribute types specified: {', '.join(changes)}")
        (attribute, value), = changes.items()
        instance_id = doc["InstanceId"]
        stopped = doc["State"]["Name"] == "stopped"
        from gureum.services.ec2 import network_interfaces

        eni = network_interfaces.primary_interface(self.resources, scope, instance_id) \
            if "groupSet" in changes or "sourceDestCheck" in changes else None
        if attribute == "instanceType":
            if not stopped:
                raise _not_stopped(instance_id)
            type_doc = instance_type(value)
            if type_doc is None:
                raise _bad_instance_type(value)
            image = self.image_for_launch(scope, doc["ImageId"]) or {"Architecture": doc.get("Architecture")}
            check_architecture(type_doc, image)
            doc["InstanceType"] = value
            doc["_VCpus"] = vcpus(type_doc)
            doc["_Standard"] = 1 if is_standard(value) else 0
            cpu = type_doc["VCpuInfo"]
            doc["CpuOptions"] = {"CoreCount": cpu.get("DefaultCores", cpu["DefaultVCpus"]),
                                 "ThreadsPerCore": cpu.get("DefaultThreadsPerCore", 1)}
            if not type_doc.get("BurstablePerformanceSupported"):
                doc.pop("_CpuCredits", None)
            elif "_CpuCredits" not in doc:
                doc["_CpuCredits"] = "standard" if value.startswith("t2.") else "unlimited"
        elif attribute == "userData":
            if not stopped:
                raise _not_stopped(instance_id)
            raw = value if isinstance(value, (bytes, bytearray)) else str(value or "").encode()
            if len(raw) > MAX_USER_DATA:
                raise invalid_parameter_value(f"User data is limited to {MAX_USER_DATA} bytes")
            if raw:
                doc["_UserData"] = base64.b64encode(bytes(raw)).decode()
            else:
                doc.pop("_UserData", None)
        elif attribute in ("ebsOptimized", "enaSupport", "sriovNetSupport", "kernel", "ramdisk"):
            if not stopped:
                raise _not_stopped(instance_id)
            if attribute == "ebsOptimized":
                doc["EbsOptimized"] = _bool(value)
            elif attribute == "enaSupport":
                doc["EnaSupport"] = _bool(value)
            elif attribute == "sriovNetSupport":
                doc["_SriovNetSupport"] = value
            else:
                doc["KernelId" if attribute == "kernel" else "RamdiskId"] = value
        elif attribute == "disableApiTermination":
            doc["_DisableApiTermination"] = _bool(value)
        elif attribute == "disableApiStop":
            doc["_DisableApiStop"] = _bool(value)
        elif attribute == "instanceInitiatedShutdownBehavior":
            if value not in ("stop", "terminate"):
                raise invalid_parameter_value(
                    f"Value ({value}) for parameter instanceInitiatedShutdownBehavior is invalid. Expected: 'stop',"
                    " 'terminate'.")
            doc["_ShutdownBehavior"] = value
        elif attribute in ("groupSet", "sourceDestCheck"):
            if eni is None:
                raise _not_in_state(instance_id, "modified")
            if attribute == "groupSet":
                from gureum.services.ec2 import security_groups

                eni["Groups"] = security_groups.resolve_groups(self.resources, scope, eni["VpcId"], list(value))
            else:
                eni["SourceDestCheck"] = _bool(value)
        elif attribute == "blockDeviceMapping":
            self._modify_mappings(scope, doc, value)
        else:
            raise invalid_parameter_value(f"Value ({attribute}) for parameter attribute is invalid.")
        with self.env.db.transaction():
            self.save_instance(scope, doc)
            if eni is not None and attribute in ("groupSet", "sourceDestCheck"):
                self.resources.update(scope, eni["NetworkInterfaceId"], eni)
        return {}

    @staticmethod
    def _attribute_changes(request: dict) -> dict:
        out: dict = {}
        members = {"InstanceType": "instanceType", "Kernel": "kernel", "Ramdisk": "ramdisk", "UserData": "userData",
                   "DisableApiTermination": "disableApiTermination", "DisableApiStop": "disableApiStop",
                   "InstanceInitiatedShutdownBehavior": "instanceInitiatedShutdownBehavior",
                   "SourceDestCheck": "sourceDestCheck", "EbsOptimized": "ebsOptimized", "EnaSupport": "enaSupport",
                   "SriovNetSupport": "sriovNetSupport"}
        for member, attribute in members.items():
            if request.get(member) is not None:
                value = request[member]
                out[attribute] = value.get("Value") if isinstance(value, dict) else value
        if request.get("Groups"):
            out["groupSet"] = request["Groups"]
        if request.get("BlockDeviceMappings"):
            out["blockDeviceMapping"] = request["BlockDeviceMappings"]
        if request.get("Attribute"):
            attribute = request["Attribute"]
            value = request.get("Value")
            if attribute == "userData" and isinstance(value, str):
                value = value.encode()
            if attribute == "groupSet" and isinstance(value, str):
                value = [value]
            if attribute not in out:
                out[attribute] = value
        return out

    def _modify_mappings(self, scope: Scope, doc: dict, mappings: list[dict]) -> None:
        for m in mappings:
            current = next((x for x in doc.get("BlockDeviceMappings", []) if x["DeviceName"] == m.get("DeviceName")),
                           None)
            if current is None:
                raise invalid_parameter_value(
                    f"Value ({m.get('DeviceName')}) for parameter blockDeviceMapping is invalid."
                    " The device is not attached to the instance.")
            ebs = m.get("Ebs") or {}
            if ebs.get("DeleteOnTermination") is not None:
                current["Ebs"]["DeleteOnTermination"] = bool(ebs["DeleteOnTermination"])
                volume = self.resources.get(scope, "volume", current["Ebs"]["VolumeId"])
                if volume is not None and volume.get("Attachments"):
                    volume["Attachments"][0]["DeleteOnTermination"] = bool(ebs["DeleteOnTermination"])
                    with self.env.db.transaction():
                        self.resources.update(scope, volume["VolumeId"], volume)

    # ---- CreateImage ----------------------------------------------------------------------------

    def create_image(self, ctx: RequestContext, request: dict) -> dict:
        """An AMI of the instance: a snapshot of each of its volumes, registered as an image."""
        from gureum.services.ec2.snapshots import KIND as SNAPSHOT, new_snapshot

        scope = self.scope(ctx)
        doc = self.instance(scope, request.get("InstanceId"))
        if doc["State"]["Name"] not in ("running", "stopped", "stopping"):
            raise incorrect_state("IncorrectInstanceState",
                                  f"The instance '{doc['InstanceId']}' is not in a state from which it can be imaged.")
        name = request.get("Name")
        tags = tag_specifications(request, ("image", "snapshot"))
        volumes = self.resources.many(scope, "volume", [m["Ebs"]["VolumeId"] for m in doc.get("BlockDeviceMappings", [])])
        with self.env.db.transaction():
            snapshots, mappings = [], []
            for m in doc.get("BlockDeviceMappings", []):
                volume = volumes.get(m["Ebs"]["VolumeId"])
                if volume is None:
                    continue
                snapshot = new_snapshot(scope, volume, f"Created by CreateImage({doc['InstanceId']})")
                snapshots.append(snapshot)
                ebs = {"DeleteOnTermination": m["Ebs"]["DeleteOnTermination"], "SnapshotId": snapshot["SnapshotId"],
                       "VolumeSize": volume["Size"], "VolumeType": volume["VolumeType"],
                       "Encrypted": bool(volume.get("Encrypted"))}
                for key in ("Iops", "Throughput"):
                    if volume.get(key) is not None and volume["VolumeType"] in ("gp3", "io1", "io2"):
                        ebs[key] = volume[key]
                mappings.append({"DeviceName": m["DeviceName"], "Ebs": ebs})
            image = self.register_image_from_instance(
                scope, self.compose(scope, [doc])[0], name=name, description=request.get("Description"),
                block_device_mappings=mappings, tags=tags.get("image"))
            for snapshot in snapshots:
                snapshot["Description"] += f" for {image['ImageId']}"
                self.resources.insert(scope, SNAPSHOT, snapshot["SnapshotId"], snapshot)
                if tags.get("snapshot"):
                    self.resources.set_tags(scope, snapshot["SnapshotId"], tags["snapshot"])
        return {"ImageId": image["ImageId"]}

    # ---- console, credits, metadata, monitoring ------------------------------------------------

    def get_console_output(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = self.instance(scope, request.get("InstanceId"))
        if doc["State"]["Name"] == "pending":
            return {"InstanceId": doc["InstanceId"]}
        view = self.compose(scope, [doc])[0]
        text = _boot_log(doc, view)
        return {"InstanceId": doc["InstanceId"], "Timestamp": doc["LaunchTime"],
                "Output": base64.b64encode(text.encode()).decode()}

    def describe_instance_credit_specifications(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ids = request.get("InstanceIds") or []
        docs = self._instances(scope, ids) if ids else self.settle_instances(scope, self.resources.all(scope, KIND))
        rows = [{"InstanceId": d["InstanceId"], "CpuCredits": d["_CpuCredits"]} for d in docs
                if d.get("_CpuCredits") and d["State"]["Name"] != "terminated"]
        rows = filters.apply(rows, request.get("Filters"), filters.paths({"instance-id": "InstanceId"}))
        page, token = paginate(rows, request, minimum=5, maximum=1000, ids_given="InstanceIds")
        return {"InstanceCreditSpecifications": page, **({"NextToken": token} if token else {})}

    def modify_instance_credit_specification(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ok, failed = [], []
        for spec in request.get("InstanceCreditSpecifications") or []:
            instance_id = spec.get("InstanceId")
            value = spec.get("CpuCredits")
            try:
                doc = self.instance(scope, instance_id)
            except ServiceError as e:
                failed.append({"InstanceId": instance_id, "Error": {"Code": e.code, "Message": e.message}})
                continue
            if value not in ("standard", "unlimited"):
                failed.append({"InstanceId": instance_id, "Error": {
                    "Code": "InvalidParameterValue", "Message": f"Value ({value}) for parameter cpuCredits is invalid."}})
                continue
            if "_CpuCredits" not in doc:
                failed.append({"InstanceId": instance_id, "Error": {
                    "Code": "InvalidInstanceID",
                    "Message": f"The instance ID '{instance_id}' is not valid. The instance type does not support"
                               " CPU credits."}})
                continue
            doc["_CpuCredits"] = value
            with self.env.db.transaction():
                self.save_instance(scope, doc)
            ok.append({"InstanceId": instance_id})
        return {"SuccessfulInstanceCreditSpecifications": ok, "UnsuccessfulInstanceCreditSpecifications": failed}

    def modify_instance_metadata_options(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        doc = self.instance(scope, request.get("InstanceId"))
        if doc["State"]["Name"] in ("shutting-down", "terminated"):
            raise _not_in_state(doc["InstanceId"], "modified")
        options = self._metadata_options({}, request, current=doc.get("MetadataOptions"))
        doc["MetadataOptions"] = {**options, "State": "applied"}
        with self.env.db.transaction():
            self.save_instance(scope, doc)
        return {"InstanceId": doc["InstanceId"], "InstanceMetadataOptions": {**options, "State": "pending"}}

    def _set_monitoring(self, ctx: RequestContext, request: dict, enabled: bool) -> dict:
        scope = self.scope(ctx)
        docs = self._instances(scope, request.get("InstanceIds") or [])
        with self.env.db.transaction():
            for d in docs:
                d["Monitoring"] = {"State": "enabled" if enabled else "disabled"}
                self.save_instance(scope, d)
        return {"InstanceMonitorings": [{"InstanceId": d["InstanceId"],
                                         "Monitoring": {"State": "pending" if enabled else "disabling"}}
                                        for d in docs]}

    def monitor_instances(self, ctx: RequestContext, request: dict) -> dict:
        return self._set_monitoring(ctx, request, True)

    def unmonitor_instances(self, ctx: RequestContext, request: dict) -> dict:
        return self._set_monitoring(ctx, request, False)


def _boot_log(doc: dict, view: dict) -> str:
    """A console log in the form a Linux instance prints, built from its facts and user data."""
    machine = "aarch64" if doc.get("Architecture") == "arm64" else "x86_64"
    lines = [
        f"[    0.000000] Linux version 6.1.119-129.201.amzn2023.{machine} (mockbuild@ip-10-0-32-1) (gcc (GCC) 11.4.1)",
        f"[    0.000000] Command line: BOOT_IMAGE=(hd0,gpt1)/boot/vmlinuz root={doc.get('RootDeviceName', '/dev/xvda')}1",
        f"[    0.000000] DMI: Amazon EC2 {doc['InstanceType']}/, BIOS 1.0 10/16/2017",
        "[    1.204311] systemd[1]: Detected virtualization amazon.",
        f"[    2.881904] cloud-init[1630]: Cloud-init v. 22.2.2 running 'init' at {doc['LaunchTime']}.",
        f"[    2.882117] cloud-init[1630]: ci-info: | eth0 | True | {view.get('PrivateIpAddress', '')} |",
    ]
    if doc.get("KeyName"):
        lines.append(f"[    3.102230] cloud-init[1630]: Authorized key for ec2-user: {doc['KeyName']}")
    user_data = doc.get("_UserData")
    if user_data:
        try:
            script = base64.b64decode(user_data).decode("utf-8", "replace")
        except ValueError:
            script = ""
        lines.append("[    4.500120] cloud-init[1893]: Cloud-init v. 22.2.2 running 'modules:final'.")
        for line in script.splitlines()[:40]:
            if line.strip() and not line.startswith("#!"):
                lines.append(f"[    4.600000] cloud-init[1893]: + {line.strip()}")
    lines.append(f"[    6.000000] cloud-init[1893]: Cloud-init v. 22.2.2 finished at {doc['LaunchTime']}."
                 " Datasource DataSourceEc2.  Up 6.00 seconds")
    hostname = view.get("PrivateDnsName", "").split(".")[0]
    lines.append("")
    lines.append(f"Amazon Linux 2023\nKernel 6.1.119-129.201.amzn2023.{machine} on an {machine}\n\n{hostname} login: ")
    return "\n".join(lines)
