"""Table definitions: CreateTable's validation and the stored description of a table."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gureum.services.dynamodb.errors import invalid_parameter, validation

TABLE_NAME = re.compile(r"^[a-zA-Z0-9_.-]+$")


@dataclass
class Table:
    account_id: str
    region: str
    name: str
    table_id: str
    created: float
    key_schema: list[dict]
    attribute_definitions: list[dict]
    billing_mode: str = "PROVISIONED"
    read_units: int = 0
    write_units: int = 0
    deletion_protection: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    pay_per_request_since: float | None = None
    # Secondary indexes as stored descriptions (indexes.py), GSIs and LSIs alike.
    indexes: list[dict] = field(default_factory=list)
    # The view type while a stream is enabled, and the label of the latest stream (kept after disabling).
    stream_view_type: str | None = None
    stream_label: str | None = None
    # The TTL attribute while Time to Live is enabled.
    ttl_attribute: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{self.name}"

    @property
    def hash_key(self) -> str:
        return self.key_schema[0]["AttributeName"]

    @property
    def range_key(self) -> str | None:
        return self.key_schema[1]["AttributeName"] if len(self.key_schema) > 1 else None

    def key_type(self, name: str) -> str:
        return next(d["AttributeType"] for d in self.attribute_definitions if d["AttributeName"] == name)

    @property
    def stream_arn(self) -> str | None:
        return f"{self.arn}/stream/{self.stream_label}" if self.stream_label else None

    def index(self, name: str) -> dict | None:
        return next((i for i in self.indexes if i["IndexName"] == name), None)


def check_table_name(name: str, member: str = "tableName") -> None:
    problems = []
    if len(name) < 3:
        problems.append(f"Value '{name}' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 3")
    if len(name) > 255:
        problems.append(f"Value '{name}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to 255")
    if not TABLE_NAME.match(name):
        problems.append(f"Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    if problems:
        n = len(problems)
        raise validation(f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(problems))


def check_key_schema(key_schema: list[dict], definitions: list[dict], *, indexed: bool = False) -> None:
    if not 1 <= len(key_schema) <= 2:
        raise validation("1 validation error detected: Value at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2")
    if key_schema[0]["KeyType"] != "HASH":
        raise invalid_parameter("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(key_schema) == 2:
        if key_schema[1]["KeyType"] != "RANGE":
            raise invalid_parameter("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
        if key_schema[0]["AttributeName"] == key_schema[1]["AttributeName"]:
            raise invalid_parameter("Both the Hash Key and the Range Key element in the KeySchema have the same name")
    defined = [d["AttributeName"] for d in definitions]
    if len(set(defined)) != len(defined):
        raise invalid_parameter("Cannot have two attributes with the same name")
    keys = [k["AttributeName"] for k in key_schema]
    missing = [k for k in keys if k not in defined]
    if missing:
        raise invalid_parameter(
            f"Some index key attributes are not defined in AttributeDefinitions. Keys: [{', '.join(missing)}], "
            f"AttributeDefinitions: [{', '.join(defined)}]")
    if not indexed and len(defined) != len(keys):
        raise invalid_parameter("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
    for d in definitions:
        if d["AttributeType"] not in ("S", "N", "B"):
            raise validation(
                f"1 validation error detected: Value '{d['AttributeType']}' at 'attributeDefinitions.1.member.attributeType' "
                "failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]")


def check_billing(mode: str, throughput: dict | None) -> tuple[int, int]:
    """The provisioned read and write units a billing mode and throughput give."""
    if mode == "PAY_PER_REQUEST":
        if throughput:
            raise invalid_parameter("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
        return 0, 0
    if not throughput:
        raise invalid_parameter("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
    read, write = throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits")
    for name, units in (("ReadCapacityUnits", read), ("WriteCapacityUnits", write)):
        if units is None or units < 1:
            raise invalid_parameter(f"{name} must be greater than 0")
    return read, write
