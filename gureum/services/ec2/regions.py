"""Regions and Availability Zones: DescribeRegions, DescribeAvailabilityZones.

Zone names and ids are AWS's: a zone id (`apne2-az1`) is the region's short code and a
number; most regions have zones a-c, a few more (us-east-1 a-f, us-west-2 and
ap-northeast-2 a-d) or another set (ap-northeast-1 a, c, d). Every region of the aws
partition answers; opt-in regions report themselves opted in.
"""

from __future__ import annotations

import functools

from gureum.context import RequestContext
from gureum.gateway.routing import commercial_regions
from gureum.services.ec2 import filters
from gureum.services.ec2.errors import invalid_parameter_value

OPT_IN_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1",
    "eu-south-2", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
})

# region -> (zone letter, zone id number) where it is not a-c -> az1..az3
_ZONES = {
    "us-east-1": (("a", 6), ("b", 1), ("c", 2), ("d", 4), ("e", 3), ("f", 5)),
    "us-west-1": (("a", 1), ("b", 3)),
    "us-west-2": (("a", 2), ("b", 1), ("c", 3), ("d", 4)),
    "ap-northeast-1": (("a", 4), ("c", 1), ("d", 2)),
    "ap-northeast-2": (("a", 1), ("b", 2), ("c", 3), ("d", 4)),
    "ca-central-1": (("a", 1), ("b", 2), ("d", 4)),
}
_DIRECTIONS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
               "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}


def zone_id_prefix(region: str) -> str:
    """`ap-northeast-2` -> `apne2`, as AWS abbreviates regions in zone ids."""
    area, direction, number = region.split("-")
    return f"{area}{_DIRECTIONS.get(direction, direction[0])}{number}"


@functools.lru_cache(maxsize=64)
def zones(region: str) -> tuple[dict, ...]:
    """The region's Availability Zones, in DescribeAvailabilityZones' shape."""
    letters = _ZONES.get(region, (("a", 1), ("b", 2), ("c", 3)))
    prefix = zone_id_prefix(region)
    return tuple({
        "State": "available",
        "OptInStatus": "opt-in-not-required",
        "Messages": [],
        "RegionName": region,
        "ZoneName": f"{region}{letter}",
        "ZoneId": f"{prefix}-az{number}",
        "GroupName": f"{region}-zg-1",
        "NetworkBorderGroup": region,
        "ZoneType": "availability-zone",
    } for letter, number in letters)


def zone(region: str, name: str) -> dict | None:
    return next((z for z in zones(region) if z["ZoneName"] == name or z["ZoneId"] == name), None)


def region_doc(region: str) -> dict:
    return {
        "Endpoint": f"ec2.{region}.amazonaws.com",
        "RegionName": region,
        "OptInStatus": "opted-in" if region in OPT_IN_REGIONS else "opt-in-not-required",
    }


_REGION_FILTERS = filters.paths({"endpoint": "Endpoint", "region-name": "RegionName",
                                 "opt-in-status": "OptInStatus"})
_ZONE_FILTERS = filters.paths({
    "group-name": "GroupName", "message": "Messages.Message", "opt-in-status": "OptInStatus",
    "region-name": "RegionName", "state": "State", "zone-id": "ZoneId", "zone-name": "ZoneName",
    "zone-type": "ZoneType", "network-border-group": "NetworkBorderGroup",
})


class RegionOperations:
    def describe_regions(self, ctx: RequestContext, request: dict) -> dict:
        names = request.get("RegionNames") or []
        known = commercial_regions()
        for name in names:
            if name not in known:
                raise invalid_parameter_value(f"Invalid region: {name}")
        docs = [region_doc(r) for r in sorted(known) if not names or r in names]
        return {"Regions": filters.apply(docs, request.get("Filters"), _REGION_FILTERS)}

    def describe_availability_zones(self, ctx: RequestContext, request: dict) -> dict:
        docs = [dict(z) for z in zones(ctx.region)]
        wanted_names = request.get("ZoneNames") or []
        wanted_ids = request.get("ZoneIds") or []
        for name in wanted_names:
            if not any(z["ZoneName"] == name for z in docs):
                raise invalid_parameter_value(f"The zone '{name}' does not exist.")
        for zid in wanted_ids:
            if not any(z["ZoneId"] == zid for z in docs):
                raise invalid_parameter_value(f"The zone ID '{zid}' does not exist.")
        if wanted_names or wanted_ids:
            docs = [z for z in docs if z["ZoneName"] in wanted_names or z["ZoneId"] in wanted_ids]
        return {"AvailabilityZones": filters.apply(docs, request.get("Filters"), _ZONE_FILTERS)}
