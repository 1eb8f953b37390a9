"""Instance types: DescribeInstanceTypes, DescribeInstanceTypeOfferings, and `instance_type`.

The specifications are data (data/instance_types.py); each type's DescribeInstanceTypes
document is built once. Every type is offered in every region and each of its zones.
"""

from __future__ import annotations

import functools

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.data.instance_types import FAMILIES, OVERRIDES, SIZES
from gureum.services.ec2.errors import invalid_parameter_value
from gureum.services.ec2.regions import zones
from gureum.services.ec2.store import paginate


def _build(name: str) -> dict:
    (vcpus, cores, threads, valid_cores, valid_threads, memory, network, max_enis, ipv4, ipv6,
     ebs, storage, gpu, free_tier) = SIZES[name]
    fam = {**FAMILIES[name.split(".")[0]], **OVERRIDES.get(name, {})}
    metal = name.split(".")[1].startswith("metal")
    vcpu_info: dict = {"DefaultVCpus": vcpus, "DefaultCores": cores, "DefaultThreadsPerCore": threads}
    if valid_cores:
        vcpu_info["ValidCores"] = list(valid_cores)
    if valid_threads:
        vcpu_info["ValidThreadsPerCore"] = list(valid_threads)
    processor: dict = {"SupportedArchitectures": list(fam["archs"]), "SustainedClockSpeedInGhz": fam["clock"],
                       "Manufacturer": fam["manufacturer"]}
    if fam["features"]:
        processor["SupportedFeatures"] = list(fam["features"])
    ebs_info: dict = {"EbsOptimizedSupport": fam["ebs_opt"], "EncryptionSupport": "supported",
                      "NvmeSupport": fam["nvme"]}
    if ebs:
        keys = ("BaselineBandwidthInMbps", "BaselineThroughputInMBps", "BaselineIops",
                "MaximumBandwidthInMbps", "MaximumThroughputInMBps", "MaximumIops")
        ebs_info["EbsOptimizedInfo"] = dict(zip(keys, ebs))
    if fam.get("max_ebs_attachments"):
        ebs_info["MaximumEbsAttachments"] = fam["max_ebs_attachments"]
    network_info = {
        "NetworkPerformance": network,
        "MaximumNetworkInterfaces": max_enis,
        "MaximumNetworkCards": 4 if network.startswith("4x") else 1,
        "DefaultNetworkCardIndex": 0,
        "NetworkCards": [{"NetworkCardIndex": i, "NetworkPerformance": network.replace("4x ", ""),
                          "MaximumNetworkInterfaces": max_enis // (4 if network.startswith("4x") else 1)}
                         for i in range(4 if network.startswith("4x") else 1)],
        "Ipv4AddressesPerInterface": ipv4,
        "Ipv6AddressesPerInterface": ipv6,
        "Ipv6Supported": fam["ipv6"],
        "EnaSupport": fam["ena"],
        "EfaSupported": fam["efa"],
        "EncryptionInTransitSupported": fam["encryption_in_transit"],
        "EnaSrdSupported": False,
    }
    if fam["efa"]:
        network_info["EfaInfo"] = {"MaximumEfaInterfaces": 4 if network.startswith("4x") else 1}
    doc: dict = {
        "InstanceType": name,
        "CurrentGeneration": fam["current"],
        "FreeTierEligible": free_tier,
        "SupportedUsageClasses": list(fam["usage"]),
        "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": ["hvm"],
        "BareMetal": metal,
        "ProcessorInfo": processor,
        "VCpuInfo": vcpu_info,
        "MemoryInfo": {"SizeInMiB": memory},
        "InstanceStorageSupported": storage is not None,
        "EbsInfo": ebs_info,
        "NetworkInfo": network_info,
        "PlacementGroupInfo": {"SupportedStrategies": list(fam["placement"])},
        "HibernationSupported": fam["hibernation"],
        "BurstablePerformanceSupported": fam["burstable"],
        "DedicatedHostsSupported": fam["dedicated"],
        "AutoRecoverySupported": fam["autorecovery"],
        "SupportedBootModes": list(fam["boot"]),
        "NitroEnclavesSupport": fam["nitro_enclaves"],
        "NitroTpmSupport": fam["nitro_tpm"],
        "PhcSupport": "unsupported",
    }
    if fam["hypervisor"]:
        doc["Hypervisor"] = fam["hypervisor"]
    if fam["nitro_tpm"] == "supported":
        doc["NitroTpmInfo"] = {"SupportedVersions": ["2.0"]}
    if storage:
        total, count, size, kind = storage
        doc["InstanceStorageInfo"] = {
            "TotalSizeInGB": total, "Disks": [{"SizeInGB": size, "Count": count, "Type": kind}],
            "NvmeSupport": "required",
            "EncryptionSupport": "required",
        }
    if gpu:
        count, maker, model, gpu_memory = gpu
        doc["GpuInfo"] = {
            "Gpus": [{"Name": model, "Manufacturer": maker, "Count": count, "MemoryInfo": {"SizeInMiB": gpu_memory}}],
            "TotalGpuMemoryInMiB": count * gpu_memory,
        }
    return doc


@functools.lru_cache(maxsize=None)
def _all() -> dict[str, dict]:
    return {name: _build(name) for name in SIZES}


def instance_type(name: str) -> dict | None:
    """The DescribeInstanceTypes document of a type (vCPUs at VCpuInfo.DefaultVCpus), or None."""
    return _all().get(name)


def all_instance_types() -> list[dict]:
    return list(_all().values())


# Service Quotas' On-Demand vCPU quota of each instance family group (by the family's letters).
_ON_DEMAND_QUOTAS = (
    ("dl", "L-6E869C2A"), ("vt", "L-DB2E81BA"), ("u-", "L-43DA4232"), ("g", "L-DB2E81BA"),
    ("p", "L-417A185B"), ("f", "L-74FC7D96"), ("x", "L-7295265B"),
)
STANDARD_ON_DEMAND_QUOTA = "L-1216C47A"  # Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances


def on_demand_quota_code(name: str) -> str:
    """The ec2 quota code whose vCPUs a running On-Demand instance of type `name` counts against."""
    for prefix, code in _ON_DEMAND_QUOTAS:
        if name.startswith(prefix):
            return code
    return STANDARD_ON_DEMAND_QUOTA


_FILTERS = filters.paths({
    "auto-recovery-supported": "AutoRecoverySupported",
    "bare-metal": "BareMetal",
    "burstable-performance-supported": "BurstablePerformanceSupported",
    "current-generation": "CurrentGeneration",
    "dedicated-hosts-supported": "DedicatedHostsSupported",
    "ebs-info.ebs-optimized-info.baseline-bandwidth-in-mbps": "EbsInfo.EbsOptimizedInfo.BaselineBandwidthInMbps",
    "ebs-info.ebs-optimized-info.baseline-iops": "EbsInfo.EbsOptimizedInfo.BaselineIops",
    "ebs-info.ebs-optimized-info.baseline-throughput-in-mbps": "EbsInfo.EbsOptimizedInfo.BaselineThroughputInMBps",
    "ebs-info.ebs-optimized-info.maximum-bandwidth-in-mbps": "EbsInfo.EbsOptimizedInfo.MaximumBandwidthInMbps",
    "ebs-info.ebs-optimized-info.maximum-iops": "EbsInfo.EbsOptimizedInfo.MaximumIops",
    "ebs-info.ebs-optimized-info.maximum-throughput-in-mbps": "EbsInfo.EbsOptimizedInfo.MaximumThroughputInMBps",
    "ebs-info.ebs-optimized-support": "EbsInfo.EbsOptimizedSupport",
    "ebs-info.encryption-support": "EbsInfo.EncryptionSupport",
    "ebs-info.nvme-support": "EbsInfo.NvmeSupport",
    "free-tier-eligible": "FreeTierEligible",
    "hibernation-supported": "HibernationSupported",
    "hypervisor": "Hypervisor",
    "instance-storage-info.disk.count": "InstanceStorageInfo.Disks.Count",
    "instance-storage-info.disk.size-in-gb": "InstanceStorageInfo.Disks.SizeInGB",
    "instance-storage-info.disk.type": "InstanceStorageInfo.Disks.Type",
    "instance-storage-info.encryption-support": "InstanceStorageInfo.EncryptionSupport",
    "instance-storage-info.nvme-support": "InstanceStorageInfo.NvmeSupport",
    "instance-storage-info.total-size-in-gb": "InstanceStorageInfo.TotalSizeInGB",
    "instance-storage-supported": "InstanceStorageSupported",
    "instance-type": "InstanceType",
    "memory-info.size-in-mib": "MemoryInfo.SizeInMiB",
    "network-info.efa-supported": "NetworkInfo.EfaSupported",
    "network-info.ena-support": "NetworkInfo.EnaSupport",
    "network-info.encryption-in-transit-supported": "NetworkInfo.EncryptionInTransitSupported",
    "network-info.ipv4-addresses-per-interface": "NetworkInfo.Ipv4AddressesPerInterface",
    "network-info.ipv6-addresses-per-interface": "NetworkInfo.Ipv6AddressesPerInterface",
    "network-info.ipv6-supported": "NetworkInfo.Ipv6Supported",
    "network-info.maximum-network-cards": "NetworkInfo.MaximumNetworkCards",
    "network-info.maximum-network-interfaces": "NetworkInfo.MaximumNetworkInterfaces",
    "network-info.network-performance": "NetworkInfo.NetworkPerformance",
    "nitro-enclaves-support": "NitroEnclavesSupport",
    "nitro-tpm-support": "NitroTpmSupport",
    "nitro-tpm-info.supported-versions": "NitroTpmInfo.SupportedVersions",
    "placement-group-info.supported-strategies": "PlacementGroupInfo.SupportedStrategies",
    "processor-info.supported-architecture": "ProcessorInfo.SupportedArchitectures",
    "processor-info.sustained-clock-speed-in-ghz": "ProcessorInfo.SustainedClockSpeedInGhz",
    "processor-info.manufacturer": "ProcessorInfo.Manufacturer",
    "supported-boot-mode": "SupportedBootModes",
    "supported-root-device-type": "SupportedRootDeviceTypes",
    "supported-usage-class": "SupportedUsageClasses",
    "supported-virtualization-type": "SupportedVirtualizationTypes",
    "vcpu-info.default-cores": "VCpuInfo.DefaultCores",
    "vcpu-info.default-threads-per-core": "VCpuInfo.DefaultThreadsPerCore",
    "vcpu-info.default-vcpus": "VCpuInfo.DefaultVCpus",
    "vcpu-info.valid-cores": "VCpuInfo.ValidCores",
    "vcpu-info.valid-threads-per-core": "VCpuInfo.ValidThreadsPerCore",
})

_OFFERING_FILTERS = filters.paths({"instance-type": "InstanceType", "location": "Location"})
_LOCATION_TYPES = ("region", "availability-zone", "availability-zone-id", "outpost")


def _invalid_types(names: list[str]) -> ServiceError:
    listed = ", ".join(names)
    return ServiceError("InvalidInstanceType", f"The following supplied instance types do not exist: [{listed}]", 400)


class InstanceTypeOperations:
    def describe_instance_types(self, ctx: RequestContext, request: dict) -> dict:
        names = request.get("InstanceTypes") or []
        known = _all()
        if names:
            missing = [n for n in dict.fromkeys(names) if n not in known]
            if missing:
                raise _invalid_types(missing)
            docs = [known[n] for n in dict.fromkeys(names)]
        else:
            docs = list(known.values())
        docs = filters.apply(docs, request.get("Filters"), _FILTERS)
        page, token = paginate(docs, request, minimum=5, maximum=100)
        return {"InstanceTypes": page, **({"NextToken": token} if token else {})}

    def describe_instance_type_offerings(self, ctx: RequestContext, request: dict) -> dict:
        location_type = request.get("LocationType") or "region"
        if location_type not in _LOCATION_TYPES:
            raise invalid_parameter_value(f"Invalid value '{location_type}' for locationType")
        if location_type == "region":
            locations = [ctx.region]
        elif location_type == "outpost":
            locations = []
        else:
            key = "ZoneName" if location_type == "availability-zone" else "ZoneId"
            locations = [z[key] for z in zones(ctx.region)]
        offerings = [
            {"InstanceType": name, "LocationType": location_type, "Location": location}
            for location in locations for name in _all()
        ]
        offerings = filters.apply(offerings, request.get("Filters"), _OFFERING_FILTERS)
        page, token = paginate(offerings, request, minimum=5, maximum=1000)
        return {"InstanceTypeOfferings": page, **({"NextToken": token} if token else {})}
