"""The catalogue of public images: current releases of the common Linux and Windows images.

Each release is one row; an image exists in every region, with an id derived from its name
and region (the same id on every start, different per region, as on AWS). The catalogue is
a snapshot: the newest release of each line carries a deprecation time years ahead so that it
stays current; the older release beside it is deprecated, as AWS deprecates superseded images
(hidden from DescribeImages unless IncludeDeprecated or asked for by id).

SSM_PARAMETERS maps the public parameters under /aws/service/ to catalogue names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

AMAZON = "137112412989"
AMAZON_WINDOWS = "801119661308"
CANONICAL = "099720109477"
DEBIAN = "136693071363"


@dataclass(frozen=True)
class Release:
    name: str
    description: str
    owner: str
    alias: str | None
    architecture: str  # i386 | x86_64 | arm64
    created: str  # ISO 8601, as DescribeImages shows CreationDate
    deprecated: str  # DeprecationTime
    root_device: str = "/dev/xvda"
    volume_size: int = 8
    volume_type: str = "gp3"
    platform: str | None = None  # "windows" or absent
    boot_mode: str | None = None
    imds_support: str | None = None
    tpm_support: str | None = None


def _al2023(version: str, created: str, deprecated: str, minimal: bool = False) -> list[Release]:
    out = []
    for arch in ("x86_64", "arm64"):
        kind = "minimal-" if minimal else ""
        out.append(Release(
            name=f"al2023-ami-{kind}{version}-kernel-6.1-{arch}",
            description=f"Amazon Linux 2023 AMI {version} {arch} {'Minimal ' if minimal else ''}HVM kernel-6.1",
            owner=AMAZON, alias="amazon", architecture=arch, created=created, deprecated=deprecated,
            volume_size=2 if minimal else 8, boot_mode="uefi-preferred" if arch == "x86_64" else "uefi",
            imds_support="v2.0",
        ))
    return out


def _al2(version: str, created: str, deprecated: str) -> list[Release]:
    out = []
    for arch in ("x86_64", "arm64"):
        boot = None if arch == "x86_64" else "uefi"
        out.append(Release(
            name=f"amzn2-ami-kernel-5.10-hvm-{version}-{arch}-gp2",
            description=f"Amazon Linux 2 Kernel 5.10 AMI {version} {arch} HVM gp2",
            owner=AMAZON, alias="amazon", architecture=arch, created=created, deprecated=deprecated,
            volume_type="gp2", boot_mode=boot,
        ))
        out.append(Release(
            name=f"amzn2-ami-hvm-{version}-{arch}-gp2",
            description=f"Amazon Linux 2 AMI {version} {arch} HVM gp2",
            owner=AMAZON, alias="amazon", architecture=arch, created=created, deprecated=deprecated,
            volume_type="gp2", boot_mode=boot,
        ))
    return out


def _ubuntu(version: str, codename: str, serial: str, created: str, deprecated: str) -> list[Release]:
    out = []
    # Noble images are published on gp3 volumes, Jammy's still on gp2 ("hvm-ssd").
    store, vtype = ("hvm-ssd-gp3", "gp3") if version >= "24.04" else ("hvm-ssd", "gp2")
    for arch, arch_name in (("x86_64", "amd64"), ("arm64", "arm64")):
        out.append(Release(
            name=f"ubuntu/images/{store}/ubuntu-{codename}-{version}-{arch_name}-server-{serial}",
            description=f"Canonical, Ubuntu, {version}, {arch_name} {codename} image",
            owner=CANONICAL, alias=None, architecture=arch, created=created, deprecated=deprecated,
            root_device="/dev/sda1", volume_type=vtype,
            boot_mode="uefi-preferred" if arch == "x86_64" else "uefi",
        ))
    return out


def _debian(serial: str, created: str, deprecated: str) -> list[Release]:
    return [
        Release(
            name=f"debian-12-{arch_name}-{serial}",
            description=f"Debian 12 ({serial})",
            owner=DEBIAN, alias=None, architecture=arch, created=created, deprecated=deprecated,
            volume_type="gp2", boot_mode=None if arch == "x86_64" else "uefi",
        )
        for arch, arch_name in (("x86_64", "amd64"), ("arm64", "arm64"))
    ]


def _windows(edition: str, date: str, created: str, deprecated: str) -> Release:
    return Release(
        name=f"Windows_Server-{edition}-English-Full-Base-{date}",
        description=f"Microsoft Windows Server {edition} Full Locale English AMI provided by Amazon",
        owner=AMAZON_WINDOWS, alias="amazon", architecture="x86_64", created=created, deprecated=deprecated,
        root_device="/dev/sda1", volume_size=30, volume_type="gp2", platform="windows",
        boot_mode="uefi" if edition == "2025" else None, tpm_support="v2.0" if edition == "2025" else None,
    )


RELEASES: tuple[Release, ...] = (
    *_al2023("2023.6.20241212.0", "2024-12-12T20:30:35.000Z", "2028-12-12T20:30:00.000Z"),
    *_al2023("2023.6.20241121.0", "2024-11-20T22:37:55.000Z", "2025-02-18T22:37:00.000Z"),
    *_al2023("2023.6.20241212.0", "2024-12-12T20:30:35.000Z", "2028-12-12T20:30:00.000Z", minimal=True),
    *_al2("2.0.20241217.0", "2024-12-17T20:38:42.000Z", "2028-12-17T20:38:00.000Z"),
    *_al2("2.0.20241113.1", "2024-11-13T19:23:30.000Z", "2025-02-11T19:23:00.000Z"),
    *_ubuntu("24.04", "noble", "20241206", "2024-12-06T08:18:39.000Z", "2028-12-06T08:18:39.000Z"),
    *_ubuntu("22.04", "jammy", "20241206", "2024-12-06T07:42:45.000Z", "2028-12-06T07:42:45.000Z"),
    *_debian("20241201-1948", "2024-12-01T20:21:44.000Z", "2028-12-01T20:21:44.000Z"),
    _windows("2022", "2024.12.13", "2024-12-13T07:24:56.000Z", "2028-12-13T07:24:56.000Z"),
    _windows("2025", "2024.12.13", "2024-12-13T07:41:13.000Z", "2028-12-13T07:41:13.000Z"),
)

BY_NAME = {r.name: r for r in RELEASES}

_AL = "/aws/service/ami-amazon-linux-latest/"
_UBUNTU = "/aws/service/canonical/ubuntu/server/"
SSM_PARAMETERS: dict[str, str] = {
    _AL + "al2023-ami-kernel-default-x86_64": "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    _AL + "al2023-ami-kernel-default-arm64": "al2023-ami-2023.6.20241212.0-kernel-6.1-arm64",
    _AL + "al2023-ami-kernel-6.1-x86_64": "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
    _AL + "al2023-ami-kernel-6.1-arm64": "al2023-ami-2023.6.20241212.0-kernel-6.1-arm64",
    _AL + "al2023-ami-minimal-kernel-default-x86_64": "al2023-ami-minimal-2023.6.20241212.0-kernel-6.1-x86_64",
    _AL + "al2023-ami-minimal-kernel-default-arm64": "al2023-ami-minimal-2023.6.20241212.0-kernel-6.1-arm64",
    _AL + "al2023-ami-minimal-kernel-6.1-x86_64": "al2023-ami-minimal-2023.6.20241212.0-kernel-6.1-x86_64",
    _AL + "al2023-ami-minimal-kernel-6.1-arm64": "al2023-ami-minimal-2023.6.20241212.0-kernel-6.1-arm64",
    _AL + "amzn2-ami-hvm-x86_64-gp2": "amzn2-ami-hvm-2.0.20241217.0-x86_64-gp2",
    _AL + "amzn2-ami-hvm-arm64-gp2": "amzn2-ami-hvm-2.0.20241217.0-arm64-gp2",
    _AL + "amzn2-ami-kernel-5.10-hvm-x86_64-gp2": "amzn2-ami-kernel-5.10-hvm-2.0.20241217.0-x86_64-gp2",
    _AL + "amzn2-ami-kernel-5.10-hvm-arm64-gp2": "amzn2-ami-kernel-5.10-hvm-2.0.20241217.0-arm64-gp2",
    **{
        f"{_UBUNTU}{v}/stable/current/{arch}/hvm/ebs-{vt}/ami-id":
            f"ubuntu/images/{store}/ubuntu-{code}-{num}-{arch}-server-20241206"
        for v, num, code, store, vt in (
            ("24.04", "24.04", "noble", "hvm-ssd-gp3", "gp3"), ("noble", "24.04", "noble", "hvm-ssd-gp3", "gp3"),
            ("22.04", "22.04", "jammy", "hvm-ssd", "gp2"), ("jammy", "22.04", "jammy", "hvm-ssd", "gp2"),
        )
        for arch in ("amd64", "arm64")
    },
    "/aws/service/debian/release/12/latest/amd64": "debian-12-amd64-20241201-1948",
    "/aws/service/debian/release/12/latest/arm64": "debian-12-arm64-20241201-1948",
    "/aws/service/debian/release/bookworm/latest/amd64": "debian-12-amd64-20241201-1948",
    "/aws/service/debian/release/bookworm/latest/arm64": "debian-12-arm64-20241201-1948",
    "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base":
        "Windows_Server-2022-English-Full-Base-2024.12.13",
    "/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-Base":
        "Windows_Server-2025-English-Full-Base-2024.12.13",
}
# When each parameter last changed (the newest release's date) and how often it has.
SSM_PARAMETER_VERSION = 102
SSM_LAST_MODIFIED = "2024-12-17T21:05:12.000Z"


def derived_id(prefix: str, *parts: str) -> str:
    """A stable id in AWS's long format (prefix, dash, 17 hex digits) derived from `parts`."""
    return f"{prefix}-0" + hashlib.sha256("/".join((prefix, *parts)).encode()).hexdigest()[:16]


def image_id(region: str, name: str) -> str:
    return derived_id("ami", region, name)


def _image_doc(region: str, r: Release) -> dict:
    ebs: dict = {
        "DeleteOnTermination": True,
        "SnapshotId": derived_id("snap", region, r.name),
        "VolumeSize": r.volume_size,
        "VolumeType": r.volume_type,
        "Encrypted": False,
    }
    if r.volume_type == "gp3":
        ebs.update(Iops=3000, Throughput=125)
    doc: dict = {
        "Architecture": r.architecture,
        "CreationDate": r.created,
        "ImageId": image_id(region, r.name),
        "ImageLocation": f"{r.alias or r.owner}/{r.name}",
        "ImageType": "machine",
        "Public": True,
        "OwnerId": r.owner,
        "PlatformDetails": "Windows" if r.platform else "Linux/UNIX",
        "UsageOperation": "RunInstances:0002" if r.platform else "RunInstances",
        "State": "available",
        "BlockDeviceMappings": [{"DeviceName": r.root_device, "Ebs": ebs}],
        "Description": r.description,
        "EnaSupport": True,
        "Hypervisor": "xen",
        "Name": r.name,
        "RootDeviceName": r.root_device,
        "RootDeviceType": "ebs",
        "SriovNetSupport": "simple",
        "VirtualizationType": "hvm",
        "DeprecationTime": r.deprecated,
    }
    if r.alias:
        doc["ImageOwnerAlias"] = r.alias
    if r.platform:
        doc["Platform"] = r.platform
    if r.boot_mode:
        doc["BootMode"] = r.boot_mode
    if r.imds_support:
        doc["ImdsSupport"] = r.imds_support
    if r.tpm_support:
        doc["TpmSupport"] = r.tpm_support
    return doc


_CACHE: dict[str, list[dict]] = {}


def catalogue(region: str) -> list[dict]:
    """Every public catalogue image of a region, as DescribeImages shows it (do not mutate)."""
    images = _CACHE.get(region)
    if images is None:
        images = _CACHE[region] = [_image_doc(region, r) for r in RELEASES]
    return images


def by_id(region: str, ami: str) -> dict | None:
    for doc in catalogue(region):
        if doc["ImageId"] == ami:
            return doc
    return None


def by_name(region: str, name: str) -> dict | None:
    return by_id(region, image_id(region, name)) if name in BY_NAME else None
