"""The `ec2` protocol: the query protocol with EC2's naming.

A member is named by its queryName, else its locationName with the first letter upper-cased,
else its member name; lists are always `Name.N` (no `member`, no empty-list marker).
"""

from __future__ import annotations

from botocore.model import OperationModel, Shape

from gureum.protocol.http import HttpRequest
from gureum.protocol.parsers.query import Naming, parse_with

PROTOCOL = "ec2"


class Ec2Naming(Naming):
    family = "ec2"
    bare_lists = True

    def member_name(self, member: Shape, name: str) -> str:
        serialization = member.serialization
        if "queryName" in serialization:
            return serialization["queryName"]
        location_name = serialization.get("name")
        if location_name:
            return location_name[0].upper() + location_name[1:]
        return name

    def struct_keys(self, member: Shape, name: str) -> list[str]:
        own = self.member_name(member, name)
        # Smithy-based SDKs also capitalize a member name that has no locationName.
        capitalized = name[0].upper() + name[1:]
        return [own] if own == capitalized else [own, capitalized]


EC2 = Ec2Naming()


def parse(operation: OperationModel, request: HttpRequest, uri_params: dict[str, str]) -> dict:
    return parse_with(EC2, PROTOCOL, operation, request)
