"""What a RunInstances request asks for, validated before anything is made: where each of the
instance's network interfaces goes, and the volumes its block device mappings describe."""

from __future__ import annotations

from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import ebs_defaults, ipam
from gureum.services.ec2.errors import invalid_parameter_combination, invalid_parameter_value, \
    missing_parameter, not_found
from gureum.services.ec2.regions import zones
from gureum.services.ec2.store import Resources, Scope
from gureum.services.ec2.volumes import check_device, volume_spec

ENI = "network-interface"


class LaunchPlanning:
    resources: Resources

    # ---- network plan ------------------------------------------------------------------

    def _interface_plans(self, scope: Scope, request: dict, placement: dict) -> list[dict]:
        """Where each instance's interfaces go: subnet, groups, addresses (validated once)."""
        from gureum.services.ec2 import security_groups, subnets, vpcs

        specs = request.get("NetworkInterfaces") or []
        group_ids = request.get("SecurityGroupIds") or []
        group_names = request.get("SecurityGroups") or []
        if specs:
            if request.get("SubnetId"):
                raise invalid_parameter_combination(
                    "Network interfaces and an instance-level subnet ID may not be specified on the same request")
            if group_ids or group_names:
                raise invalid_parameter_combination(
                    "Network interfaces and an instance-level security groups may not be specified on the same"
                    " request")
            if request.get("PrivateIpAddress"):
                raise invalid_parameter_combination(
                    "Network interfaces and an instance-level private IP address should not be specified on the"
                    " same request")
        else:
            specs = [{"DeviceIndex": 0, "SubnetId": request.get("SubnetId"), "Groups": group_ids,
                      "PrivateIpAddress": request.get("PrivateIpAddress"), "_GroupNames": group_names}]
        plans = []
        zone_name = placement.get("AvailabilityZone") or placement.get("AvailabilityZoneId")
        if zone_name and not any(zone_name in (z["ZoneName"], z["ZoneId"]) for z in zones(scope.region)):
            raise invalid_parameter_value(f"Invalid availability zone: [{zone_name}]")
        for position, spec in enumerate(specs):
            index = spec.get("DeviceIndex", position if len(specs) > 1 else 0)
            if spec.get("NetworkInterfaceId"):
                eni = self.resources.get(scope, ENI, spec["NetworkInterfaceId"])
                if eni is None:
                    raise not_found("InvalidNetworkInterfaceID.NotFound",
                                    f"The networkInterface ID '{spec['NetworkInterfaceId']}' does not exist")
                if eni.get("Attachment") or eni.get("Status") != "available":
                    raise ServiceError("InvalidNetworkInterface.InUse",
                                       f"Interface: [{eni['NetworkInterfaceId']}] in use.", 400)
                subnet = self.resources.get(scope, "subnet", eni["SubnetId"])
                plans.append({"existing": eni, "subnet": subnet, "index": index,
                              "delete": bool(spec.get("DeleteOnTermination", False))})
                continue
            if spec.get("SubnetId"):
                subnet = subnets.get_subnet(self.resources, scope, spec["SubnetId"])
                if zone_name and zone_name not in (subnet["AvailabilityZone"], subnet["AvailabilityZoneId"]):
                    raise invalid_parameter_value(
                        f"The specified subnet {subnet['SubnetId']} does not exist in availability zone {zone_name}")
            else:
                subnet = subnets.default_subnet(self.resources, scope, zone_name)
                if subnet is None:
                    if vpcs.default_vpc_id(self.resources, scope) is None:
                        raise ServiceError("VPCIdNotSpecified", "No default VPC for this user", 400)
                    raise invalid_parameter_value(f"No default subnet for availability zone: '{zone_name}'.")
            names = spec.get("_GroupNames") or []
            default_vpc = vpcs.default_vpc_id(self.resources, scope)
            if names and subnet["VpcId"] != default_vpc:
                raise invalid_parameter_combination("The parameter groupName cannot be used with the parameter subnet")
            try:
                groups = security_groups.resolve_groups(self.resources, scope, subnet["VpcId"],
                                                        spec.get("Groups") or [], names)
            except ServiceError as e:
                if e.code == "InvalidParameter":
                    raise ServiceError(e.code, e.message.replace("and subnet", f"and subnet {subnet['SubnetId']}"),
                                       400) from None
                raise
            private_ips = [spec["PrivateIpAddress"]] if spec.get("PrivateIpAddress") else []
            private_ips += [p["PrivateIpAddress"] for p in spec.get("PrivateIpAddresses") or []
                            if p.get("PrivateIpAddress") and p["PrivateIpAddress"] not in private_ips]
            for address in private_ips:
                self._check_private_ip(scope, subnet, address)
            public = spec.get("AssociatePublicIpAddress")
            if public is not None and (len(specs) > 1 or index != 0):
                raise invalid_parameter_combination(
                    "The associatePublicIPAddress parameter cannot be specified when launching with multiple"
                    " network interfaces.")
            if public is None:
                public = bool(subnet.get("MapPublicIpOnLaunch")) and index == 0 and len(specs) == 1
            plans.append({
                "subnet": subnet, "index": index, "groups": groups, "private_ips": private_ips,
                "public": public,
                "delete": spec.get("DeleteOnTermination", True), "description": spec.get("Description") or "",
                "secondary": spec.get("SecondaryPrivateIpAddressCount") or 0,
            })
        plans.sort(key=lambda p: p["index"])
        if plans[0]["index"] != 0:
            raise invalid_parameter_value("Each network interface requires a device index.")
        return plans

    def _check_private_ip(self, scope: Scope, subnet: dict, address: str) -> None:
        import ipaddress as ip

        try:
            value = int(ip.IPv4Address(address))
        except ValueError:
            raise invalid_parameter_value(f"Invalid value '{address}' for privateIpAddress") from None
        first, last = ipam.subnet_range(subnet["CidrBlock"])
        if not first <= value <= last:
            raise invalid_parameter_value(f"Address {address} does not fall within the subnet's address range")
        if ipam.private_ip_holder(self.env.db, scope, subnet["SubnetId"], address):
            raise ServiceError("InvalidIPAddress.InUse", f"Address {address} is in use.", 400)

    # ---- block devices -----------------------------------------------------------------------

    def _mapping_plans(self, scope: Scope, image: dict, requested: list[dict]) -> list[dict]:
        """The volumes each instance gets: the image's mappings with the request's overrides."""
        from gureum.services.ec2.snapshots import snapshot_for_volume

        by_device = {m["DeviceName"]: m for m in requested}
        root_device = image.get("RootDeviceName") or "/dev/xvda"
        plans = []
        for m in image.get("BlockDeviceMappings", []):
            ebs = m.get("Ebs")
            if not ebs:
                continue
            override = by_device.pop(m["DeviceName"], None)
            if override is not None and "NoDevice" in override:
                if m["DeviceName"] == root_device:
                    raise ServiceError("InvalidBlockDeviceMapping",
                                       "The device 'root' cannot be suppressed", 400)
                continue
            wanted = dict((override or {}).get("Ebs") or {})
            snapshot_size = ebs.get("VolumeSize") or 8
            size = wanted.get("VolumeSize", snapshot_size)
            if size < snapshot_size:
                raise ServiceError(
                    "InvalidBlockDeviceMapping",
                    f"Volume of size {size}GB is smaller than snapshot '{ebs.get('SnapshotId')}', expect size>="
                    f" {snapshot_size}GB", 400)
            plans.append(self._mapping_plan(scope, m["DeviceName"], size, wanted, ebs, ebs.get("SnapshotId")))
        for device, m in by_device.items():
            if "NoDevice" in m or m.get("VirtualName"):
                continue
            check_device(device)
            wanted = dict(m.get("Ebs") or {})
            snapshot_id = wanted.get("SnapshotId")
            snapshot = snapshot_for_volume(self, scope, snapshot_id) if snapshot_id else None
            size = wanted.get("VolumeSize") or (snapshot or {}).get("VolumeSize")
            if size is None:
                raise missing_parameter("The request must contain the parameter size")
            if snapshot and size < snapshot["VolumeSize"]:
                raise ServiceError(
                    "InvalidBlockDeviceMapping",
                    f"Volume of size {size}GB is smaller than snapshot '{snapshot_id}', expect size>="
                    f" {snapshot['VolumeSize']}GB", 400)
            base = {"DeleteOnTermination": True, "VolumeType": "gp2",
                    "Encrypted": bool((snapshot or {}).get("Encrypted"))}
            plans.append(self._mapping_plan(scope, device, size, wanted, base, snapshot_id))
        return plans

    def _mapping_plan(self, scope: Scope, device: str, size: int, wanted: dict, base: dict,
                      snapshot_id: str | None) -> dict:
        volume_type = wanted.get("VolumeType") or base.get("VolumeType") or "gp2"
        iops = wanted.get("Iops", base.get("Iops") if volume_type == base.get("VolumeType") else None)
        throughput = wanted.get("Throughput",
                                base.get("Throughput") if volume_type == base.get("VolumeType") else None)
        if volume_type not in ("gp3", "io1", "io2"):
            iops = None if "Iops" not in wanted else iops
        if volume_type != "gp3":
            throughput = None if "Throughput" not in wanted else throughput
        spec = volume_spec(volume_type, size, iops, throughput)
        encrypted = bool(wanted.get("Encrypted", base.get("Encrypted"))) or \
            ebs_defaults.encryption_by_default(self.resources, scope)
        kms = wanted.get("KmsKeyId") or ebs_defaults.default_kms_key(self.resources, scope)
        return {"device": device, "size": size, "type": volume_type, "spec": spec, "encrypted": encrypted,
                "kms": kms, "snapshot": snapshot_id,
                "delete": bool(wanted.get("DeleteOnTermination", base.get("DeleteOnTermination", True)))}
