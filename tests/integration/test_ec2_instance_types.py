"""DescribeInstanceTypes and DescribeInstanceTypeOfferings: AWS's specifications, filters, paging."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


@pytest.fixture(scope="module")
def ec2(make_client):
    return make_client("ec2", "ap-northeast-2")


def test_t2_micro_is_the_free_tier_xen_type(ec2):
    t = ec2.describe_instance_types(InstanceTypes=["t2.micro"])["InstanceTypes"][0]
    assert t["VCpuInfo"]["DefaultVCpus"] == 1
    assert t["MemoryInfo"]["SizeInMiB"] == 1024
    assert t["FreeTierEligible"] is True and t["BurstablePerformanceSupported"] is True
    assert t["Hypervisor"] == "xen" and t["CurrentGeneration"] is True
    assert t["ProcessorInfo"]["SupportedArchitectures"] == ["i386", "x86_64"]
    assert t["NetworkInfo"]["NetworkPerformance"] == "Low to Moderate"
    assert t["NetworkInfo"]["MaximumNetworkInterfaces"] == 2
    assert t["NetworkInfo"]["Ipv4AddressesPerInterface"] == 2
    assert t["EbsInfo"]["EbsOptimizedSupport"] == "unsupported"
    assert t["InstanceStorageSupported"] is False


def test_nitro_types_have_ebs_baselines_and_valid_cores(ec2):
    types = {t["InstanceType"]: t for t in ec2.describe_instance_types(
        InstanceTypes=["m5.large", "t4g.micro", "c7g.16xlarge"])["InstanceTypes"]}
    m5 = types["m5.large"]
    assert m5["Hypervisor"] == "nitro" and m5["VCpuInfo"] == {
        "DefaultVCpus": 2, "DefaultCores": 1, "DefaultThreadsPerCore": 2, "ValidCores": [1], "ValidThreadsPerCore": [1, 2]}
    assert m5["EbsInfo"]["EbsOptimizedInfo"]["BaselineBandwidthInMbps"] == 650
    assert m5["EbsInfo"]["NvmeSupport"] == "required" and m5["NetworkInfo"]["EnaSupport"] == "required"
    assert types["t4g.micro"]["ProcessorInfo"]["SupportedArchitectures"] == ["arm64"]
    assert types["t4g.micro"]["ProcessorInfo"]["Manufacturer"] == "AWS"
    assert types["c7g.16xlarge"]["VCpuInfo"]["DefaultVCpus"] == 64
    assert types["c7g.16xlarge"]["MemoryInfo"]["SizeInMiB"] == 131072


def test_instance_storage_and_gpus(ec2):
    types = {t["InstanceType"]: t for t in ec2.describe_instance_types(
        InstanceTypes=["i3.large", "g4dn.xlarge", "p4d.24xlarge"])["InstanceTypes"]}
    assert types["i3.large"]["InstanceStorageInfo"]["TotalSizeInGB"] == 475
    g4 = types["g4dn.xlarge"]
    assert g4["GpuInfo"]["Gpus"] == [{"Name": "T4", "Manufacturer": "NVIDIA", "Count": 1, "MemoryInfo": {"SizeInMiB": 16384}}]
    p4 = types["p4d.24xlarge"]
    assert p4["VCpuInfo"]["DefaultVCpus"] == 96 and p4["GpuInfo"]["TotalGpuMemoryInMiB"] == 327680
    assert p4["InstanceStorageInfo"]["Disks"] == [{"SizeInGB": 1000, "Count": 8, "Type": "ssd"}]
    assert p4["NetworkInfo"]["NetworkPerformance"] == "4x 100 Gigabit"


def test_every_family_has_all_its_sizes(ec2):
    names = set()
    for page in ec2.get_paginator("describe_instance_types").paginate():
        names |= {t["InstanceType"] for t in page["InstanceTypes"]}
    for family in ("t2", "t3", "t3a", "t4g", "m5", "m6i", "m6g", "m7i", "m7g", "c5", "c6i", "c7g",
                   "r5", "r6i", "r7g", "i3", "i4i", "g4dn", "p4d"):
        assert any(n.startswith(family + ".") for n in names), family
    assert {"t3.nano", "t3.micro", "t3.small", "t3.medium", "t3.large", "t3.xlarge", "t3.2xlarge"} <= names
    assert {"m6i.large", "m6i.32xlarge", "m6i.metal"} <= names


def test_filters(ec2):
    def names(*filters):
        out = set()
        pages = ec2.get_paginator("describe_instance_types").paginate(
            Filters=[{"Name": n, "Values": v} for n, v in filters])
        for page in pages:
            out |= {t["InstanceType"] for t in page["InstanceTypes"]}
        return out

    assert names(("free-tier-eligible", ["true"])) == {"t2.micro", "t3.micro", "t3.small", "t4g.micro", "t4g.small"}
    t3 = names(("instance-type", ["t3.*"]))
    assert t3 == {f"t3.{s}" for s in ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")}
    arm2 = names(("processor-info.supported-architecture", ["arm64"]), ("vcpu-info.default-vcpus", ["2"]))
    assert "t4g.micro" in arm2 and "m7g.large" in arm2 and not any(n.startswith("t3.") for n in arm2)
    assert "m5.large" in names(("memory-info.size-in-mib", ["8192"]), ("hypervisor", ["nitro"]))
    assert names(("burstable-performance-supported", ["true"])) == {n for n in names() if n[:2] in ("t2", "t3", "t4")}
    with pytest.raises(ClientError) as e:
        ec2.describe_instance_types(Filters=[{"Name": "colour", "Values": ["x"]}])
    assert _error(e) == ("InvalidParameterValue", "The filter 'colour' is invalid")


def test_paging_and_unknown_types(ec2):
    first = ec2.describe_instance_types(MaxResults=5)
    assert len(first["InstanceTypes"]) == 5 and first["NextToken"]
    second = ec2.describe_instance_types(MaxResults=5, NextToken=first["NextToken"])
    assert {t["InstanceType"] for t in first["InstanceTypes"]}.isdisjoint(t["InstanceType"] for t in second["InstanceTypes"])
    with pytest.raises(ClientError) as e:
        ec2.describe_instance_types(InstanceTypes=["t2.micro", "t9.huge"])
    assert _error(e) == ("InvalidInstanceType", "The following supplied instance types do not exist: [t9.huge]")


def test_offerings_per_region_and_zone(ec2):
    region = ec2.describe_instance_type_offerings(
        Filters=[{"Name": "instance-type", "Values": ["t2.micro"]}])["InstanceTypeOfferings"]
    assert region == [{"InstanceType": "t2.micro", "LocationType": "region", "Location": "ap-northeast-2"}]
    zones = ec2.describe_instance_type_offerings(
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": ["t3.micro"]}])["InstanceTypeOfferings"]
    assert [o["Location"] for o in zones] == [f"ap-northeast-2{z}" for z in "abcd"]
    ids = ec2.describe_instance_type_offerings(
        LocationType="availability-zone-id",
        Filters=[{"Name": "location", "Values": ["apne2-az1"]}, {"Name": "instance-type", "Values": ["m5.*"]}],
    )["InstanceTypeOfferings"]
    assert ids and all(o["Location"] == "apne2-az1" and o["InstanceType"].startswith("m5.") for o in ids)


def test_cli_query(aws_cli):
    code, out, err = aws_cli("ec2", "describe-instance-types", "--instance-types", "t3.micro",
                             "--query", "InstanceTypes[0].VCpuInfo.DefaultVCpus", "--output", "text")
    assert code == 0, err
    assert out.strip() == "2"


def test_instance_type_lookup_and_quota_groups():
    from gureum.services.ec2.instance_types import instance_type, on_demand_quota_code

    assert instance_type("t2.micro")["VCpuInfo"]["DefaultVCpus"] == 1
    assert instance_type("m9.nothing") is None
    assert on_demand_quota_code("t3.large") == "L-1216C47A"
    assert on_demand_quota_code("g4dn.xlarge") == "L-DB2E81BA"
    assert on_demand_quota_code("p4d.24xlarge") == "L-417A185B"
