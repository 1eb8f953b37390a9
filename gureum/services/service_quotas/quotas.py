"""AWS's quotas for the services gureum has: service code and name, quota code, name, default.

Defaults are AWS's defaults for a new account, except Running On-Demand Standard instances,
which gureum sets to 32 vCPUs (a course account's usual value). A quota with `dims` is
measured by CloudWatch's AWS/Usage ResourceCount metric with those dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Quota:
    code: str
    name: str
    default: float
    adjustable: bool = True
    global_quota: bool = False
    unit: str = "None"
    dims: dict = field(default_factory=dict)  # UsageMetric dimensions


def _ec2_usage(klass: str) -> dict:
    return {"Class": klass, "Resource": "vCPU", "Service": "EC2", "Type": "Resource"}


SERVICES: dict[str, tuple[str, tuple[Quota, ...]]] = {
    "ec2": ("Amazon Elastic Compute Cloud (Amazon EC2)", (
        Quota("L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", 32,
              dims=_ec2_usage("Standard/OnDemand")),
        Quota("L-DB2E81BA", "Running On-Demand G and VT instances", 0, dims=_ec2_usage("G/OnDemand")),
        Quota("L-417A185B", "Running On-Demand P instances", 0, dims=_ec2_usage("P/OnDemand")),
        Quota("L-74FC7D96", "Running On-Demand F instances", 0, dims=_ec2_usage("F/OnDemand")),
        Quota("L-7295265B", "Running On-Demand X instances", 0, dims=_ec2_usage("X/OnDemand")),
        Quota("L-6E869C2A", "Running On-Demand DL instances", 0, dims=_ec2_usage("DL/OnDemand")),
        Quota("L-43DA4232", "Running On-Demand High Memory instances", 0, dims=_ec2_usage("HighMem/OnDemand")),
        Quota("L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", 5,
              dims=_ec2_usage("Standard/Spot")),
        Quota("L-3819A6DF", "All G and VT Spot Instance Requests", 0, dims=_ec2_usage("G/Spot")),
        Quota("L-7212CCBC", "All P Spot Instance Requests", 0, dims=_ec2_usage("P/Spot")),
        Quota("L-88CF9481", "All F Spot Instance Requests", 0, dims=_ec2_usage("F/Spot")),
        Quota("L-E3A00192", "All X Spot Instance Requests", 0, dims=_ec2_usage("X/Spot")),
        Quota("L-0263D0A3", "EC2-VPC Elastic IPs", 5),
    )),
    "vpc": ("Amazon Virtual Private Cloud (Amazon VPC)", (
        Quota("L-F678F1CE", "VPCs per Region", 5),
        Quota("L-407747CB", "Subnets per VPC", 200),
        Quota("L-A4707A72", "Internet gateways per Region", 5),
        Quota("L-45FE3B85", "Egress-only internet gateways per Region", 5),
        Quota("L-FE5A380F", "NAT gateways per Availability Zone", 5),
        Quota("L-DF5E4CA3", "Network interfaces per Region", 5000),
        Quota("L-E79EC296", "VPC security groups per Region", 2500),
        Quota("L-0EA8095F", "Inbound or outbound rules per security group", 60),
        Quota("L-2AFB9258", "Security groups per network interface", 5),
        Quota("L-589F43AA", "Route tables per VPC", 200),
        Quota("L-93826ACB", "Routes per route table", 50),
        Quota("L-B4A6D682", "Network ACLs per VPC", 200),
        Quota("L-2AEEBF1A", "Rules per network ACL", 20),
        Quota("L-83CA0A9D", "IPv4 CIDR blocks per VPC", 5),
        Quota("L-7E9ECCDB", "Active VPC peering connections per VPC", 50),
        Quota("L-29B6F2EB", "Interface VPC endpoints per VPC", 50),
        Quota("L-1B52E74A", "Gateway VPC endpoints per Region", 20),
    )),
    "ebs": ("Amazon Elastic Block Store (Amazon EBS)", (
        Quota("L-D18FCD1D", "Storage for General Purpose SSD (gp2) volumes, in TiB", 50),
        Quota("L-7A658B76", "Storage for General Purpose SSD (gp3) volumes, in TiB", 50),
        Quota("L-FD252861", "Storage for Provisioned IOPS SSD (io1) volumes, in TiB", 50),
        Quota("L-09BD8365", "Storage for Provisioned IOPS SSD (io2) volumes, in TiB", 20),
        Quota("L-82ACEF56", "Storage for Throughput Optimized HDD (st1) volumes, in TiB", 50),
        Quota("L-17AF77E8", "Storage for Cold HDD (sc1) volumes, in TiB", 50),
        Quota("L-9CF3C2EB", "Storage for Magnetic (standard) volumes, in TiB", 50),
        Quota("L-309BACF6", "Snapshots per Region", 100000),
        Quota("L-B3A130E6", "IOPS for Provisioned IOPS SSD (io1) volumes", 300000),
    )),
    "s3": ("Amazon Simple Storage Service (Amazon S3)", (
        Quota("L-DC2B2D3D", "General purpose buckets", 10000),
    )),
    "dynamodb": ("Amazon DynamoDB", (
        Quota("L-F98FE922", "Maximum number of tables", 2500),
        Quota("L-F7858A77", "Global secondary indexes per table", 20),
        Quota("L-B5A90E5F", "Account-level read throughput limit (on-demand, per region)", 40000, adjustable=False),
        Quota("L-4CF20C20", "Account-level write throughput limit (on-demand, per region)", 40000, adjustable=False),
    )),
    "iam": ("AWS Identity and Access Management (IAM)", (
        Quota("L-F55AF5E4", "Users per account", 5000, global_quota=True),
        Quota("L-F4A5425F", "Groups per account", 300, global_quota=True),
        Quota("L-FE177D64", "Roles per account", 1000, global_quota=True),
        Quota("L-E95E4862", "Customer managed policies per account", 1500, global_quota=True),
        Quota("L-0DA4ABF3", "Managed policies per role", 10, global_quota=True),
        Quota("L-4019AD8B", "Managed policies per user", 10, global_quota=True),
        Quota("L-6E65F664", "Instance profiles per account", 1000, global_quota=True),
        Quota("L-C07B4B0D", "Role trust policy length", 2048, global_quota=True),
    )),
}


def find(service_code: str, quota_code: str) -> Quota | None:
    entry = SERVICES.get(service_code)
    if entry is None:
        return None
    return next((q for q in entry[1] if q.code == quota_code), None)
