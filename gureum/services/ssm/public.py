"""The public parameters under /aws/service/: AWS's names for the current images of a region.

They point at the EC2 catalogue's images (gureum/services/ec2/data/amis.py) and read the same
in every account; they cannot be written.
"""

from __future__ import annotations

from datetime import datetime, timezone

from gureum.services.ec2.data import amis

PREFIX = "/aws/service/"
_MODIFIED = datetime.strptime(amis.SSM_LAST_MODIFIED, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def is_public(name: str) -> bool:
    return name.startswith(PREFIX)


def _data_type(name: str) -> str:
    # Amazon's own parameters are plain text; Canonical and Debian publish theirs as image ids.
    return "aws:ec2:image" if name.startswith(("/aws/service/canonical/", "/aws/service/debian/")) else "text"


def parameter(region: str, name: str) -> dict | None:
    """GetParameter's shape of a public parameter, or None."""
    image = amis.SSM_PARAMETERS.get(name)
    if image is None:
        return None
    return {
        "Name": name,
        "Type": "String",
        "Value": amis.image_id(region, image),
        "Version": amis.SSM_PARAMETER_VERSION,
        "LastModifiedDate": _MODIFIED,
        "ARN": f"arn:aws:ssm:{region}::parameter{name}",
        "DataType": _data_type(name),
    }


def under(region: str, path: str, recursive: bool) -> list[dict]:
    """The public parameters below `path` (its direct children unless recursive), by name."""
    base = path.rstrip("/") + "/"
    out = []
    for name in sorted(amis.SSM_PARAMETERS):
        if not name.startswith(base):
            continue
        if not recursive and "/" in name[len(base):]:
            continue
        out.append(parameter(region, name))
    return out
