"""EC2 instances: RunInstances, Start/Stop/Reboot/TerminateInstances, DescribeInstances (the
other instance operations are in instance_attributes.py, request planning in launch_plan.py).

An instance is a resource of kind "instance" holding the Instance shape plus gureum's own
fields (names starting with `_`: reservation, user data, protections, scheduled states). Its
network interfaces are resources of kind "network-interface" (the NetworkInterface shape,
attached to it), so addresses that other operations associate with an interface (Elastic IPs)
show in DescribeInstances; its EBS volumes are "volume" resources named in its
BlockDeviceMappings. States move as instance_state.py describes, applied on every read and
write; each change is published on the event bus as "ec2:instance-state" with the account,
region, instance id, previous and current state, so a runtime can boot or stop a sandbox.
"""

from __future__ import annotations

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters, lifecycle
from gureum.services.ec2 import instance_state as states
from gureum.services.ec2.errors import (
    check_id,
    incorrect_state,
    invalid_parameter_combination,
    invalid_parameter_value,
    missing_parameter,
    not_found,
)
from gureum.services.ec2.images import check_image_id, image_not_found, resolve_ssm_image
from gureum.services.ec2.launch_plan import LaunchPlanning
from gureum.services.ec2.instance_types import instance_type
from gureum.services.ec2.regions import zones
from gureum.services.ec2.store import Resources, Scope, iso, new_id, paginate, with_tags
from gureum.services.ec2.tags import tag_specifications
from gureum.services.ec2.volumes import attachment, new_volume

KIND = "instance"
VCPU_QUOTA_CODE = "L-1216C47A"
DEFAULT_VCPU_LIMIT = 32.0
# Families whose running On-Demand vCPUs count against "Running On-Demand Standard instances".
STANDARD_FAMILIES = frozenset("acdhimrtz")
MAX_USER_DATA = 16384

FILTERS = {
    **filters.paths({
        "affinity": "Placement.Affinity",
        "ami-launch-index": "AmiLaunchIndex",
        "architecture": "Architecture",
        "availability-zone": "Placement.AvailabilityZone",
        "block-device-mapping.attach-time": "BlockDeviceMappings.Ebs.AttachTime",
        "block-device-mapping.delete-on-termination": "BlockDeviceMappings.Ebs.DeleteOnTermination",
        "block-device-mapping.device-name": "BlockDeviceMappings.DeviceName",
        "block-device-mapping.status": "BlockDeviceMappings.Ebs.Status",
        "block-device-mapping.volume-id": "BlockDeviceMappings.Ebs.VolumeId",
        "boot-mode": "BootMode",
        "capacity-reservation-id": "CapacityReservationId",
        "client-token": "ClientToken",
        "current-instance-boot-mode": "CurrentInstanceBootMode",
        "dns-name": "PublicDnsName",
        "ebs-optimized": "EbsOptimized",
        "ena-support": "EnaSupport",
        "group-id": "SecurityGroups.GroupId",
        "group-name": "SecurityGroups.GroupName",
        "hibernation-options.configured": "HibernationOptions.Configured",
        "host-id": "Placement.HostId",
        "hypervisor": "Hypervisor",
        "iam-instance-profile.arn": "IamInstanceProfile.Arn",
        "iam-instance-profile.id": "IamInstanceProfile.Id",
        "image-id": "ImageId",
        "instance-id": "InstanceId",
        "instance-lifecycle": "InstanceLifecycle",
        "instance-state-code": "State.Code",
        "instance-state-name": "State.Name",
        "instance-type": "InstanceType",
        "instance.group-id": "SecurityGroups.GroupId",
        "instance.group-name": "SecurityGroups.GroupName",
        "ip-address": "PublicIpAddress",
        "kernel-id": "KernelId",
        "key-name": "KeyName",
        "launch-index": "AmiLaunchIndex",
        "launch-time": "LaunchTime",
        "maintenance-options.auto-recovery": "MaintenanceOptions.AutoRecovery",
        "metadata-options.http-endpoint": "MetadataOptions.HttpEndpoint",
        "metadata-options.http-protocol-ipv6": "MetadataOptions.HttpProtocolIpv6",
        "metadata-options.http-put-response-hop-limit": "MetadataOptions.HttpPutResponseHopLimit",
        "metadata-options.http-tokens": "MetadataOptions.HttpTokens",
        "metadata-options.instance-metadata-tags": "MetadataOptions.InstanceMetadataTags",
        "monitoring-state": "Monitoring.State",
        "network-interface.addresses.association.ip-owner-id": "NetworkInterfaces.PrivateIpAddresses.Association.IpOwnerId",
        "network-interface.addresses.association.public-ip": "NetworkInterfaces.PrivateIpAddresses.Association.PublicIp",
        "network-interface.addresses.primary": "NetworkInterfaces.PrivateIpAddresses.Primary",
        "network-interface.addresses.private-ip-address": "NetworkInterfaces.PrivateIpAddresses.PrivateIpAddress",
        "network-interface.association.ip-owner-id": "NetworkInterfaces.Association.IpOwnerId",
        "network-interface.association.public-ip": "NetworkInterfaces.Association.PublicIp",
        "network-interface.attachment.attach-time": "NetworkInterfaces.Attachment.AttachTime",
        "network-interface.attachment.attachment-id": "NetworkInterfaces.Attachment.AttachmentId",
        "network-interface.attachment.delete-on-termination": "NetworkInterfaces.Attachment.DeleteOnTermination",
        "network-interface.attachment.device-index": "NetworkInterfaces.Attachment.DeviceIndex",
        "network-interface.attachment.status": "NetworkInterfaces.Attachment.Status",
        "network-interface.description": "NetworkInterfaces.Description",
        "network-interface.group-id": "NetworkInterfaces.Groups.GroupId",
        "network-interface.group-name": "NetworkInterfaces.Groups.GroupName",
        "network-interface.mac-address": "NetworkInterfaces.MacAddress",
        "network-interface.network-interface-id": "NetworkInterfaces.NetworkInterfaceId",
        "network-interface.owner-id": "NetworkInterfaces.OwnerId",
        "network-interface.private-dns-name": "NetworkInterfaces.PrivateDnsName",
        "network-interface.source-dest-check": "NetworkInterfaces.SourceDestCheck",
        "network-interface.status": "NetworkInterfaces.Status",
        "network-interface.subnet-id": "NetworkInterfaces.SubnetId",
        "network-interface.vpc-id": "NetworkInterfaces.VpcId",
        "network-interface.interface-type": "NetworkInterfaces.InterfaceType",
        "placement-group-name": "Placement.GroupName",
        "placement-partition-number": "Placement.PartitionNumber",
        "platform": "Platform",
        "platform-details": "PlatformDetails",
        "private-dns-name": "PrivateDnsName",
        "private-ip-address": "PrivateIpAddress",
        "product-code": "ProductCodes.ProductCodeId",
        "ramdisk-id": "RamdiskId",
        "reason": "StateTransitionReason",
        "root-device-name": "RootDeviceName",
        "root-device-type": "RootDeviceType",
        "source-dest-check": "SourceDestCheck",
        "spot-instance-request-id": "SpotInstanceRequestId",
        "state-reason-code": "StateReason.Code",
        "state-reason-message": "StateReason.Message",
        "subnet-id": "SubnetId",
        "tenancy": "Placement.Tenancy",
        "usage-operation": "UsageOperation",
        "usage-operation-update-time": "UsageOperationUpdateTime",
        "virtualization-type": "VirtualizationType",
        "vpc-id": "VpcId",
        "cpu-options.core-count": "CpuOptions.CoreCount",
        "cpu-options.threads-per-core": "CpuOptions.ThreadsPerCore",
    }),
    "reservation-id": lambda d: d.get("_ReservationId"),
    "owner-id": lambda d: d.get("_OwnerId"),
    "requester-id": lambda d: d.get("_RequesterId"),
}



# ---- errors --------------------------------------------------------------------------------

def instance_not_found(ids: list[str]) -> ServiceError:
    if len(ids) == 1:
        return not_found("InvalidInstanceID.NotFound", f"The instance ID '{ids[0]}' does not exist")
    return not_found("InvalidInstanceID.NotFound", f"The instance IDs '{', '.join(ids)}' do not exist")


def check_instance_id(instance_id: str) -> None:
    check_id(instance_id, "i", "InvalidInstanceID.Malformed")


def _not_in_state(instance_id: str, verb: str) -> ServiceError:
    return incorrect_state("IncorrectInstanceState",
                           f"The instance '{instance_id}' is not in a state from which it can be {verb}.")


def _not_stopped(instance_id: str) -> ServiceError:
    return incorrect_state("IncorrectInstanceState", f"The instance '{instance_id}' is not in the 'stopped' state.")


def _bad_instance_type(name) -> ServiceError:
    return invalid_parameter_value(f"Invalid value '{name}' for InstanceType.")


def vcpu_limit_exceeded(limit: float) -> ServiceError:
    return ServiceError(
        "VcpuLimitExceeded",
        f"You have requested more vCPU capacity than your current vCPU limit of {limit:g} allows for the instance"
        " bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/"
        "ec2-request to request an adjustment to this limit.", 400)


def is_standard(type_name: str) -> bool:
    return type_name[:1] in STANDARD_FAMILIES


def vcpus(type_doc: dict) -> int:
    return type_doc["VCpuInfo"]["DefaultVCpus"]


def check_architecture(type_doc: dict, image: dict) -> None:
    arch = image.get("Architecture") or "x86_64"
    supported = type_doc["ProcessorInfo"]["SupportedArchitectures"]
    if arch not in supported:
        raise invalid_parameter_value(
            f"The architecture '{supported[0]}' of the specified instance type does not match the architecture"
            f" '{arch}' of the specified AMI. Specify an instance type and an AMI that have matching architectures,"
            " and try again. You can use 'describe-instance-types' or 'describe-images' to discover the"
            " architecture of the instance type or AMI.")


_NETWORK_FILTERS = frozenset({"group-id", "group-name", "instance.group-id", "instance.group-name", "ip-address",
                               "dns-name", "private-ip-address", "private-dns-name", "subnet-id", "vpc-id",
                               "source-dest-check"})


def _is_network_filter(name: str) -> bool:
    """Whether a DescribeInstances filter reads members joined in from network interfaces."""
    return name in _NETWORK_FILTERS or name.startswith("network-interface.")


MIGRATIONS = [
    """
    CREATE TABLE ec2_instance_index (
        account_id TEXT NOT NULL, region TEXT NOT NULL, instance_id TEXT NOT NULL,
        state TEXT NOT NULL, vcpus INTEGER NOT NULL, client_token TEXT, due REAL,
        PRIMARY KEY (account_id, region, instance_id));
    CREATE INDEX ec2_instance_index_due ON ec2_instance_index (account_id, region, due);
    CREATE INDEX ec2_instance_index_token ON ec2_instance_index (account_id, region, client_token);
    """
]


class InstanceOperations(LaunchPlanning):
    """Instances' operations. Beside the documents, `ec2_instance_index` (component
    "ec2-instances") keeps what launches and the state machine look up: state, vCPUs counted
    against the quota, client token, and when the next scheduled change is due."""

    resources: Resources

    def __init__(self, env):
        super().__init__(env)
        env.db.migrate("ec2-instances", MIGRATIONS)
        lifecycle.configure(env.settings)

    # ---- state: applied on every read and write ------------------------------------------

    def settle_instances(self, scope: Scope, docs: list[dict]) -> list[dict]:
        """Apply the instances' due state changes and what they imply; returns those still visible."""
        now = clock.epoch()
        changes: list[tuple[dict, str, list[str]]] = []
        for doc in docs:
            before = doc["State"]["Name"]
            patches = lifecycle.advance(doc, now)
            if patches:
                changes.append((doc, before, states.reached(patches)))
        if not changes:
            return docs
        events = []
        with self.env.db.transaction():
            for doc, before, names in changes:
                for name in names:
                    self._on_state(scope, doc, name)
                if doc.get(states.GONE):
                    self._forget(scope, doc)
                else:
                    self.save_instance(scope, doc)
                if names:
                    events.append((doc, before))
        for doc, before in events:
            self._publish(scope, doc, before)
        return [d for d in docs if not d.get(states.GONE)]

    def settle_due_instances(self, scope: Scope) -> None:
        """Settle the instances with a state change due; called at the start of every EC2 operation
        (one indexed query when nothing is due)."""
        rows = self.env.db.query(
            "SELECT instance_id FROM ec2_instance_index WHERE account_id = ? AND region = ? AND due <= ?",
            (scope.account_id, scope.region, clock.epoch()))
        if rows:
            found = self.resources.many(scope, KIND, [r["instance_id"] for r in rows])
            self.settle_instances(scope, list(found.values()))

    def _on_state(self, scope: Scope, doc: dict, name: str) -> None:
        from gureum.services.ec2 import network_interfaces

        if name == "running":
            doc["_HasRun"] = True
        if name == "running" and "MetadataOptions" in doc:
            # Metadata options are applied once the instance runs.
            doc["MetadataOptions"] = {**doc["MetadataOptions"], "State": "applied"}
        if name == "stopped":
            network_interfaces.on_instance_stopped(self.resources, scope, doc["InstanceId"])
        if name == "terminated":
            network_interfaces.release_for_instance(self.resources, scope, doc["InstanceId"])
            self._release_volumes(scope, doc)

    def _release_volumes(self, scope: Scope, doc: dict) -> None:
        """Termination: volumes deleted or detached, per DeleteOnTermination."""
        volume_ids = [m["Ebs"]["VolumeId"] for m in doc.get("BlockDeviceMappings", []) if m.get("Ebs")]
        for volume in self.resources.many(scope, "volume", volume_ids).values():
            record = (volume.get("Attachments") or [{}])[0]
            lifecycle.clear(volume)
            if record.get("DeleteOnTermination"):
                self.resources.delete(scope, volume["VolumeId"])
            else:
                volume["Attachments"] = []
                volume["State"] = "available"
                self.resources.update(scope, volume["VolumeId"], volume)
        doc["BlockDeviceMappings"] = []

    def _forget(self, scope: Scope, doc: dict) -> None:
        self.resources.delete(scope, doc["InstanceId"])
        self.env.db.execute("DELETE FROM ec2_instance_index WHERE account_id = ? AND region = ? AND instance_id = ?",
                            (scope.account_id, scope.region, doc["InstanceId"]))

    def save_instance(self, scope: Scope, doc: dict, *, new: bool = False) -> None:
        """Store an instance and its index row (state, counted vCPUs, client token, next change)."""
        if new:
            self.resources.insert(scope, KIND, doc["InstanceId"], doc)
        else:
            self.resources.update(scope, doc["InstanceId"], doc)
        timeline = doc.get(lifecycle.TIMELINE)
        self.env.db.execute(
            "INSERT INTO ec2_instance_index (account_id, region, instance_id, state, vcpus, client_token, due)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, instance_id) DO UPDATE SET"
            " state = excluded.state, vcpus = excluded.vcpus, client_token = excluded.client_token,"
            " due = excluded.due",
            (scope.account_id, scope.region, doc["InstanceId"], doc["State"]["Name"],
             doc.get("_VCpus", 0) if doc.get("_Standard") else 0, doc.get("ClientToken") or None,
             timeline[0][0] if timeline else None))

    def _publish(self, scope: Scope, doc: dict, previous: str) -> None:
        self.env.events.publish("ec2:instance-state", {
            "account_id": scope.account_id, "region": scope.region, "instance_id": doc["InstanceId"],
            "previous_state": previous, "state": doc["State"]["Name"],
            "image_id": doc.get("ImageId"), "instance_type": doc.get("InstanceType"),
            "user_data": doc.get("_UserData"),
        })

    # ---- reading -------------------------------------------------------------------------

    def instance(self, scope: Scope, instance_id: str | None) -> dict:
        """The instance's stored document, settled (InvalidInstanceID.NotFound when absent or gone)."""
        if not instance_id:
            raise missing_parameter("The request must contain the parameter InstanceId")
        check_instance_id(instance_id)
        doc = self.resources.get(scope, KIND, instance_id)
        docs = self.settle_instances(scope, [doc]) if doc is not None else []
        if not docs:
            raise instance_not_found([instance_id])
        return docs[0]

    def _instances(self, scope: Scope, ids: list[str]) -> list[dict]:
        if not ids:
            raise missing_parameter("The request must contain the parameter InstanceId")
        for i in ids:
            check_instance_id(i)
        found = self.resources.many(scope, KIND, ids)
        docs = self.settle_instances(scope, [found[i] for i in dict.fromkeys(ids) if i in found])
        present = {d["InstanceId"] for d in docs}
        absent = [i for i in dict.fromkeys(ids) if i not in present]
        if absent:
            raise instance_not_found(absent)
        return docs

    def compose(self, scope: Scope, docs: list[dict], *, keep_private: bool = False) -> list[dict]:
        """DescribeInstances' documents: interfaces, addresses and groups joined in, with tags."""
        from gureum.services.ec2 import network_interfaces

        ids = [d["InstanceId"] for d in docs]
        network = network_interfaces.instance_views(self.resources, scope, ids)
        out = []
        for doc in with_tags(self.resources, scope, docs, "InstanceId"):
            view = dict(doc) if keep_private else lifecycle.public(doc)
            if keep_private:
                view.pop(lifecycle.TIMELINE, None)
            members = network.get(doc["InstanceId"])
            if members:
                view.update(members)
            else:
                view.update({"NetworkInterfaces": [], "SecurityGroups": [], "PrivateDnsName": "",
                             "PublicDnsName": ""})
            out.append(view)
        return out

    # ---- RunInstances ----------------------------------------------------------------------

    def run_instances(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        request = self.merge_launch_template(scope, request) if request.get("LaunchTemplate") else dict(request)
        token = request.get("ClientToken")
        if token:
            earlier = self._by_client_token(scope, token)
            if earlier:
                return self._reservation(scope, earlier)
        minimum, maximum = request.get("MinCount"), request.get("MaxCount")
        if minimum is None or maximum is None:
            raise missing_parameter(f"The request must contain the parameter {'MinCount' if minimum is None else 'MaxCount'}")
        if minimum < 1:
            raise invalid_parameter_value(f"Value ({minimum}) for parameter minCount is invalid. Expected a positive value.")
        if maximum < 1:
            raise invalid_parameter_value(f"Value ({maximum}) for parameter maxCount is invalid. Expected a positive value.")
        if minimum > maximum:
            raise invalid_parameter_value(f"Value ({minimum}) for parameter minCount is invalid. "
                                          f"Expected a value less than or equal to maxCount ({maximum}).")
        image = self._launch_image(ctx, scope, request.get("ImageId"))
        # AWS's default type is m1.small; where the catalogue lacks it, the free tier's t2.micro.
        type_name = request.get("InstanceType") or ("m1.small" if instance_type("m1.small") else "t2.micro")
        type_doc = instance_type(type_name)
        if type_doc is None:
            raise _bad_instance_type(type_name)
        check_architecture(type_doc, image)
        key_name = request.get("KeyName")
        if key_name is not None and self.key_pair_by_name(scope, key_name) is None:
            raise not_found("InvalidKeyPair.NotFound", f"The key pair '{key_name}' does not exist")
        user_data = request.get("UserData")
        if user_data is not None and len(user_data) > MAX_USER_DATA * 4 // 3 + 4:
            raise invalid_parameter_value(f"User data is limited to {MAX_USER_DATA} bytes")
        shutdown = request.get("InstanceInitiatedShutdownBehavior") or "stop"
        if shutdown not in ("stop", "terminate"):
            raise invalid_parameter_value(
                f"Value ({shutdown}) for parameter instanceInitiatedShutdownBehavior is invalid. Expected: 'stop',"
                " 'terminate'.")
        placement = dict(request.get("Placement") or {})
        tenancy = placement.get("Tenancy") or "default"
        if tenancy not in ("default", "dedicated", "host"):
            raise invalid_parameter_value(f"Value ({tenancy}) for parameter tenancy is invalid.")
        credits = self._credit_option(type_name, type_doc, request.get("CreditSpecification"))
        metadata = self._metadata_options(image, request.get("MetadataOptions"))
        profile = self._instance_profile(ctx, request.get("IamInstanceProfile"))
        tags = tag_specifications(request, ("instance", "volume", "network-interface", "spot-instances-request",
                                            "elastic-gpu"))
        interfaces = self._interface_plans(scope, request, placement)
        subnet = interfaces[0]["subnet"]
        zone = next(z for z in zones(scope.region) if z["ZoneName"] == subnet["AvailabilityZone"])
        if len(interfaces[0].get("private_ips") or []) and maximum > 1:
            raise invalid_parameter_combination(
                "Cannot specify a private IP address when launching more than one instance")
        mappings = self._mapping_plans(scope, image, request.get("BlockDeviceMappings") or [])
        count = self._launchable_count(scope, type_name, type_doc, minimum, maximum)
        now = clock.epoch()
        reservation = new_id("r")
        docs = []
        with self.env.db.transaction():
            for index in range(count):
                doc = self._new_instance(
                    scope, ctx, index=index, reservation=reservation, image=image, type_name=type_name,
                    type_doc=type_doc, key_name=key_name, zone=zone, tenancy=tenancy, placement=placement,
                    request=request, user_data=user_data, shutdown=shutdown, credits=credits, metadata=metadata,
                    profile=profile, now=now)
                self._create_interfaces(scope, doc, interfaces, tags.get("network-interface", []))
                self._create_volumes(scope, doc, zone, mappings, tags.get("volume", []), now)
                self.save_instance(scope, doc, new=True)
                instance_tags = list(tags.get("instance", []))
                if request.get("_LaunchTemplateTags"):
                    instance_tags += request["_LaunchTemplateTags"]
                if instance_tags:
                    self.resources.set_tags(scope, doc["InstanceId"], instance_tags)
                docs.append(doc)
        for doc in docs:
            self._publish(scope, doc, "pending")
        return self._reservation(scope, docs)

    def _reservation(self, scope: Scope, docs: list[dict]) -> dict:
        first = docs[0]
        return {"ReservationId": first["_ReservationId"], "OwnerId": first["_OwnerId"], "Groups": [],
                "Instances": self.compose(scope, docs),
                **({"RequesterId": first["_RequesterId"]} if first.get("_RequesterId") else {})}

    def _by_client_token(self, scope: Scope, token: str) -> list[dict]:
        rows = self.env.db.query(
            "SELECT instance_id FROM ec2_instance_index WHERE account_id = ? AND region = ? AND client_token = ?",
            (scope.account_id, scope.region, token))
        if not rows:
            return []
        found = self.resources.many(scope, KIND, [r["instance_id"] for r in rows])
        docs = sorted(found.values(), key=lambda d: d["AmiLaunchIndex"])
        return self.settle_instances(scope, docs)

    def _launch_image(self, ctx: RequestContext, scope: Scope, image_id: str | None) -> dict:
        if not image_id:
            raise missing_parameter("The request must contain the parameter ImageId")
        if image_id.startswith("resolve:ssm:"):
            ssm = None
            try:
                ssm = self.env.provider("ssm")
            except Exception:
                ssm = None
            image_id = resolve_ssm_image(scope.region, image_id, ssm if hasattr(ssm, "parameter_value") else None,
                                         ctx)
        check_image_id(image_id)
        image = self.image_for_launch(scope, image_id)
        if image is None:
            raise image_not_found([image_id])
        if image.get("State", "available") != "available":
            raise invalid_parameter_value(f"Image {image_id} is not in a valid state: {image.get('State')}")
        return image

    def _credit_option(self, type_name: str, type_doc: dict, spec: dict | None) -> str | None:
        burstable = type_doc.get("BurstablePerformanceSupported", False)
        if spec and spec.get("CpuCredits") is not None:
            value = spec["CpuCredits"]
            if value not in ("standard", "unlimited"):
                raise invalid_parameter_value(f"Value ({value}) for parameter cpuCredits is invalid.")
            if not burstable:
                raise invalid_parameter_combination(
                    f"The parameter 'CreditSpecification' is not supported for {type_name} instance type.")
            return value
        if not burstable:
            return None
        return "standard" if type_name.startswith("t2.") else "unlimited"

    @staticmethod
    def _metadata_options(image: dict, spec: dict | None, current: dict | None = None) -> dict:
        v2 = image.get("ImdsSupport") == "v2.0"
        out = current or {
            "State": "pending", "HttpTokens": "required" if v2 else "optional",
            "HttpPutResponseHopLimit": 2 if v2 else 1, "HttpEndpoint": "enabled",
            "HttpProtocolIpv6": "disabled", "InstanceMetadataTags": "disabled",
        }
        out = dict(out)
        spec = spec or {}
        for key, allowed in (("HttpTokens", ("optional", "required")), ("HttpEndpoint", ("enabled", "disabled")),
                             ("HttpProtocolIpv6", ("enabled", "disabled")),
                             ("InstanceMetadataTags", ("enabled", "disabled"))):
            value = spec.get(key)
            if value is not None:
                if value not in allowed:
                    wire = key[0].lower() + key[1:]
                    raise invalid_parameter_value(f"Value ({value}) for parameter {wire} is invalid.")
                out[key] = value
        hops = spec.get("HttpPutResponseHopLimit")
        if hops is not None:
            if not 1 <= hops <= 64:
                raise invalid_parameter_value(
                    f"Value ({hops}) for parameter httpPutResponseHopLimit is invalid. Expected a value between 1"
                    " and 64.")
            out["HttpPutResponseHopLimit"] = hops
        return out

    def _instance_profile(self, ctx: RequestContext, spec: dict | None) -> dict | None:
        if not spec:
            return None
        name, arn = spec.get("Name"), spec.get("Arn")
        if arn and not name:
            name = arn.rsplit("/", 1)[-1]
        iam = self.env.provider("iam")
        try:
            profile = iam.get_instance_profile(ctx, {"InstanceProfileName": name})["InstanceProfile"]
        except ServiceError:
            profile = None
        if profile is None or (arn and profile["Arn"] != arn):
            if arn:
                raise invalid_parameter_value(
                    f"Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN")
            raise invalid_parameter_value(
                f"Value ({name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name")
        return {"Arn": profile["Arn"], "Id": profile["InstanceProfileId"]}

    # ---- quota -------------------------------------------------------------------------------

    def vcpu_limit(self, scope: Scope) -> float:
        """The applied "Running On-Demand Standard instances" quota (Service Quotas), else 32."""
        try:
            provider = self.env.provider("service-quotas")
        except Exception:
            provider = None
        applied = getattr(provider, "applied_quota", None)
        if applied is not None:
            try:
                return float(applied(scope.account_id, scope.region, "ec2", VCPU_QUOTA_CODE))
            except (KeyError, TypeError, ValueError):
                pass
        return DEFAULT_VCPU_LIMIT

    def running_standard_vcpus(self, scope: Scope) -> int:
        """vCPUs of the scope's On-Demand standard instances that count as running."""
        self.settle_due_instances(scope)
        row = self.env.db.query_one(
            "SELECT COALESCE(SUM(vcpus), 0) AS n FROM ec2_instance_index WHERE account_id = ? AND region = ?"
            " AND state IN ('pending', 'running', 'stopping', 'shutting-down')", (scope.account_id, scope.region))
        return int(row["n"])

    def _launchable_count(self, scope: Scope, type_name: str, type_doc: dict, minimum: int, maximum: int) -> int:
        if not is_standard(type_name):
            return maximum
        limit = self.vcpu_limit(scope)
        free = limit - self.running_standard_vcpus(scope)
        each = vcpus(type_doc)
        fits = int(free // each) if each else maximum
        if fits < minimum:
            raise vcpu_limit_exceeded(limit)
        return min(maximum, fits)

    # ---- building one instance ---------------------------------------------------------------

    def _new_instance(self, scope: Scope, ctx: RequestContext, *, index: int, reservation: str, image: dict,
                      type_name: str, type_doc: dict, key_name: str | None, zone: dict, tenancy: str,
                      placement: dict, request: dict, user_data: str | None, shutdown: str, credits: str | None,
                      metadata: dict, profile: dict | None, now: float) -> dict:
        instance_id = new_id("i")
        cpu = type_doc["VCpuInfo"]
        boot_mode = image.get("BootMode") or "legacy-bios"
        doc: dict = {
            "AmiLaunchIndex": index,
            "ImageId": image["ImageId"],
            "InstanceId": instance_id,
            "InstanceType": type_name,
            "LaunchTime": iso(now),
            "Monitoring": {"State": "enabled" if (request.get("Monitoring") or {}).get("Enabled") else "disabled"},
            "Placement": {"AvailabilityZone": zone["ZoneName"], "GroupName": placement.get("GroupName") or "",
                          "Tenancy": tenancy, "AvailabilityZoneId": zone["ZoneId"]},
            "PrivateDnsName": "",
            "ProductCodes": [],
            "PublicDnsName": "",
            "StateTransitionReason": "",
            "Architecture": image.get("Architecture") or "x86_64",
            "BlockDeviceMappings": [],
            "ClientToken": request.get("ClientToken") or "",
            "EbsOptimized": bool(request.get("EbsOptimized", False)),
            "EnaSupport": bool(image.get("EnaSupport", True)),
            "Hypervisor": "xen",  # DescribeInstances says xen for Nitro instances too
            "RootDeviceName": image.get("RootDeviceName") or "/dev/xvda",
            "RootDeviceType": image.get("RootDeviceType") or "ebs",
            "VirtualizationType": image.get("VirtualizationType") or "hvm",
            "CpuOptions": {"CoreCount": cpu.get("DefaultCores", cpu["DefaultVCpus"]),
                           "ThreadsPerCore": cpu.get("DefaultThreadsPerCore", 1)},
            "CapacityReservationSpecification": {"CapacityReservationPreference": "open"},
            "HibernationOptions": {"Configured": bool((request.get("HibernationOptions") or {}).get("Configured"))},
            "MetadataOptions": metadata,
            "EnclaveOptions": {"Enabled": bool((request.get("EnclaveOptions") or {}).get("Enabled"))},
            "BootMode": boot_mode,
            "PlatformDetails": image.get("PlatformDetails") or "Linux/UNIX",
            "UsageOperation": image.get("UsageOperation") or "RunInstances",
            "UsageOperationUpdateTime": iso(now),
            "PrivateDnsNameOptions": {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": False,
                                      "EnableResourceNameDnsAAAARecord": False},
            "MaintenanceOptions": {"AutoRecovery": "default"},
            "CurrentInstanceBootMode": "uefi" if boot_mode in ("uefi", "uefi-preferred") and
            "uefi" in type_doc.get("SupportedBootModes", ["uefi"]) else "legacy-bios",
            "NetworkPerformanceOptions": {"BandwidthWeighting": "default"},
            "_ReservationId": reservation,
            "_OwnerId": scope.account_id,
            "_VCpus": vcpus(type_doc),
            "_Standard": 1 if is_standard(type_name) else 0,
            "_DisableApiTermination": bool(request.get("DisableApiTermination")),
            "_DisableApiStop": bool(request.get("DisableApiStop")),
            "_ShutdownBehavior": shutdown,
        }
        if image.get("Platform"):
            doc["Platform"] = image["Platform"]
        if key_name is not None:
            doc["KeyName"] = key_name
        if profile is not None:
            doc["IamInstanceProfile"] = profile
        if user_data is not None:
            doc["_UserData"] = user_data
        if credits is not None:
            doc["_CpuCredits"] = credits
        states.transition(doc, "pending", now)
        return doc

    def _create_interfaces(self, scope: Scope, doc: dict, plans: list[dict], tags: list[dict]) -> None:
        from gureum.services.ec2 import network_interfaces

        for plan in plans:
            if "existing" in plan:
                network_interfaces.attach_existing(
                    self.resources, scope, plan["existing"]["NetworkInterfaceId"], doc["InstanceId"], plan["index"],
                    delete_on_termination=plan["delete"], instance_zone=doc["Placement"]["AvailabilityZone"])
                continue
            network_interfaces.create_for_instance(
                self.resources, scope, instance_id=doc["InstanceId"], subnet_id=plan["subnet"]["SubnetId"],
                group_ids=[g["GroupId"] for g in plan["groups"]], private_ip=(plan["private_ips"] or [None])[0],
                secondary_count=plan["secondary"], associate_public_ip=plan["public"], device_index=plan["index"],
                description=plan["description"], delete_on_termination=plan["delete"], tags=tags)

    def _create_volumes(self, scope: Scope, doc: dict, zone: dict, plans: list[dict], tags: list[dict],
                        now: float) -> None:
        for plan in plans:
            volume = new_volume(scope, zone, size=plan["size"], volume_type=plan["type"], spec=plan["spec"],
                                encrypted=plan["encrypted"], kms_key_id=plan["kms"], snapshot_id=plan["snapshot"],
                                state="in-use")
            volume["Attachments"] = [attachment(volume, doc["InstanceId"], plan["device"],
                                                delete_on_termination=plan["delete"], state="attached", at=now)]
            self.resources.insert(scope, "volume", volume["VolumeId"], volume)
            if tags:
                self.resources.set_tags(scope, volume["VolumeId"], tags)
            doc["BlockDeviceMappings"].append({"DeviceName": plan["device"], "Ebs": {
                "AttachTime": iso(now), "DeleteOnTermination": plan["delete"], "Status": "attached",
                "VolumeId": volume["VolumeId"]}})

    # ---- DescribeInstances ------------------------------------------------------------------

    def describe_instances(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        ids = request.get("InstanceIds") or []
        for i in ids:
            check_instance_id(i)
        if ids:
            found = self.resources.many(scope, KIND, ids)
            docs = self.settle_instances(scope, [found[i] for i in dict.fromkeys(ids) if i in found])
            present = {d["InstanceId"] for d in docs}
            absent = [i for i in dict.fromkeys(ids) if i not in present]
            if absent:
                raise instance_not_found(absent)
        else:
            docs = self.settle_instances(scope, self.resources.all(scope, KIND))
        checked = filters.check(request.get("Filters"), FILTERS)
        # Filters on the instance's own members run before interfaces are joined in, so only
        # the instances that pass them are composed.
        plain = [f for f in checked if not _is_network_filter(f[0])]
        network = [f for f in checked if _is_network_filter(f[0])]
        if plain:
            tags = self.resources.tags_of(scope, [d["InstanceId"] for d in docs])
            docs = [d for d in docs if filters.matches(d, tags.get(d["InstanceId"]), plain, FILTERS)]
        views = self.compose(scope, docs, keep_private=True)
        if network:
            views = [v for v in views if filters.matches(v, v.get("Tags"), network, FILTERS)]
        page, token = paginate(views, request, minimum=5, maximum=1000, ids_given="InstanceIds")
        reservations: dict[str, dict] = {}
        for view in page:
            rid = view["_ReservationId"]
            entry = reservations.get(rid)
            if entry is None:
                entry = reservations[rid] = {"ReservationId": rid, "OwnerId": view["_OwnerId"], "Groups": [],
                                             "Instances": []}
                if view.get("_RequesterId"):
                    entry["RequesterId"] = view["_RequesterId"]
            entry["Instances"].append(lifecycle.public(view))
        return {"Reservations": list(reservations.values()), **({"NextToken": token} if token else {})}

    # ---- Start / Stop / Reboot / Terminate -------------------------------------------------

    def _changes(self, scope: Scope, docs: list[dict], before: dict[str, str], key: str) -> dict:
        events = [(d, before[d["InstanceId"]]) for d in docs if d["State"]["Name"] != before[d["InstanceId"]]]
        for doc, previous in events:
            self._publish(scope, doc, previous)
        return {key: [{"InstanceId": d["InstanceId"], "CurrentState": d["State"],
                       "PreviousState": states.state(before[d["InstanceId"]])} for d in docs]}

    def stop_instances(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = self._instances(scope, request.get("InstanceIds") or [])
        for d in docs:
            name = d["State"]["Name"]
            if name == "pending" and not d.get("_HasRun"):
                raise incorrect_state("IncorrectInstanceState",
                                      f"Instance '{d['InstanceId']}' cannot be stopped as it has never reached the"
                                      " 'running' state.")
            if name in ("pending", "shutting-down", "terminated"):
                raise _not_in_state(d["InstanceId"], "stopped")
            if name == "running" and d.get("_DisableApiStop"):
                raise ServiceError("OperationNotPermitted",
                                   f"The instance '{d['InstanceId']}' may not be stopped. Modify its 'disableApiStop'"
                                   " instance attribute and try again.", 400)
            if request.get("Hibernate") and not d.get("HibernationOptions", {}).get("Configured"):
                raise ServiceError("UnsupportedHibernationConfiguration",
                                   f"For hibernation, the instance '{d['InstanceId']}' must be launched with"
                                   " hibernation enabled.", 400)
        now = clock.epoch()
        before = {d["InstanceId"]: d["State"]["Name"] for d in docs}
        with self.env.db.transaction():
            for d in docs:
                if d["State"]["Name"] == "running":
                    states.transition(d, "stopping", now, reason=states.USER_SHUTDOWN,
                                      text=states.user_initiated(now))
                    self.save_instance(scope, d)
        return self._changes(scope, docs, before, "StoppingInstances")

    def start_instances(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = self._instances(scope, request.get("InstanceIds") or [])
        for d in docs:
            if d["State"]["Name"] in ("stopping", "shutting-down", "terminated"):
                raise _not_in_state(d["InstanceId"], "started")
        starting = [d for d in docs if d["State"]["Name"] == "stopped"]
        standard = sum(d.get("_VCpus", 0) for d in starting if d.get("_Standard"))
        if standard:
            limit = self.vcpu_limit(scope)
            if self.running_standard_vcpus(scope) + standard > limit:
                raise vcpu_limit_exceeded(limit)
        from gureum.services.ec2 import network_interfaces

        now = clock.epoch()
        before = {d["InstanceId"]: d["State"]["Name"] for d in docs}
        with self.env.db.transaction():
            for d in starting:
                states.transition(d, "pending", now)
                d.pop("StateReason", None)
                d["StateReason"] = states.PENDING_REASON
                d["LaunchTime"] = iso(now)
                network_interfaces.on_instance_started(self.resources, scope, d["InstanceId"])
                self.save_instance(scope, d)
        return self._changes(scope, docs, before, "StartingInstances")

    def terminate_instances(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = self._instances(scope, request.get("InstanceIds") or [])
        for d in docs:
            if d.get("_DisableApiTermination") and d["State"]["Name"] not in ("terminated", "shutting-down"):
                raise ServiceError("OperationNotPermitted",
                                   f"The instance '{d['InstanceId']}' may not be terminated. Modify its"
                                   " 'disableApiTermination' instance attribute and try again.", 400)
        now = clock.epoch()
        before = {d["InstanceId"]: d["State"]["Name"] for d in docs}
        with self.env.db.transaction():
            for d in docs:
                if d["State"]["Name"] in ("terminated", "shutting-down"):
                    continue
                states.transition(d, "shutting-down", now, reason=states.USER_SHUTDOWN,
                                  text=states.user_initiated(now))
                self.save_instance(scope, d)
        return self._changes(scope, docs, before, "TerminatingInstances")

    def reboot_instances(self, ctx: RequestContext, request: dict) -> dict:
        scope = self.scope(ctx)
        docs = self._instances(scope, request.get("InstanceIds") or [])
        for d in docs:
            if d["State"]["Name"] in ("terminated", "shutting-down", "stopped", "stopping"):
                raise _not_in_state(d["InstanceId"], "rebooted")
        for d in docs:
            self.env.events.publish("ec2:instance-reboot", {"account_id": scope.account_id, "region": scope.region,
                                                            "instance_id": d["InstanceId"]})
        return {}
