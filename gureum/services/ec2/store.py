"""EC2 resources in SQLite: one row per resource, holding the shape DescribeX answers with.

A resource belongs to an account and a region and is named by its id (vpc-..., i-...);
`kind` is the shape's name in AWS's words ("vpc", "subnet", "instance", ...). Documents keep
timestamps as ISO 8601 text (what the EC2 serializer writes). Tags live beside, per id, and
are joined in when a resource is described. Callers hold a transaction for writes.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from gureum import clock
from gureum.context import RequestContext
from gureum.services.ec2.errors import invalid_parameter_combination, invalid_parameter_value
from gureum.store import Database

MIGRATIONS = [
    """
    CREATE TABLE ec2_resources (
        account_id TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL,
        kind TEXT NOT NULL, doc TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (account_id, region, id));
    CREATE INDEX ec2_resources_kind ON ec2_resources (account_id, region, kind, seq);
    CREATE TABLE ec2_tags (
        account_id TEXT NOT NULL, region TEXT NOT NULL, resource_id TEXT NOT NULL,
        key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (account_id, region, resource_id, key));
    CREATE TABLE ec2_scopes (
        account_id TEXT NOT NULL, region TEXT NOT NULL, settings TEXT NOT NULL,
        PRIMARY KEY (account_id, region));
    """
]


@dataclass(frozen=True)
class Scope:
    """Where a resource lives: EC2 resources are regional and never shared between accounts."""

    account_id: str
    region: str

    @classmethod
    def of(cls, ctx: RequestContext) -> "Scope":
        return cls(ctx.account_id, ctx.region)


def new_id(prefix: str) -> str:
    """An id in AWS's long format: the prefix, a dash and 17 hexadecimal digits."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def now_iso() -> str:
    return iso(clock.epoch())


def iso(epoch: float) -> str:
    dt = datetime.fromtimestamp(epoch, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


class Resources:
    """Reads and writes EC2 resource documents and their tags."""

    def __init__(self, db: Database):
        self.db = db

    # ---- documents -------------------------------------------------------------------------

    def insert(self, scope: Scope, kind: str, resource_id: str, doc: dict) -> dict:
        self.db.execute(
            "INSERT INTO ec2_resources (account_id, region, id, kind, doc, seq) VALUES (?, ?, ?, ?, ?,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM ec2_resources))",
            (scope.account_id, scope.region, resource_id, kind, json.dumps(doc)),
        )
        return doc

    def update(self, scope: Scope, resource_id: str, doc: dict) -> dict:
        self.db.execute(
            "UPDATE ec2_resources SET doc = ? WHERE account_id = ? AND region = ? AND id = ?",
            (json.dumps(doc), scope.account_id, scope.region, resource_id),
        )
        return doc

    def get(self, scope: Scope, kind: str, resource_id: str) -> dict | None:
        row = self.db.query_one(
            "SELECT doc FROM ec2_resources WHERE account_id = ? AND region = ? AND id = ? AND kind = ?",
            (scope.account_id, scope.region, resource_id, kind),
        )
        return json.loads(row["doc"]) if row else None

    def kind_of(self, scope: Scope, resource_id: str) -> str | None:
        row = self.db.query_one(
            "SELECT kind FROM ec2_resources WHERE account_id = ? AND region = ? AND id = ?",
            (scope.account_id, scope.region, resource_id),
        )
        return row["kind"] if row else None

    def all(self, scope: Scope, kind: str) -> list[dict]:
        """Every resource of a kind, oldest first."""
        rows = self.db.query(
            "SELECT doc FROM ec2_resources WHERE account_id = ? AND region = ? AND kind = ? ORDER BY seq",
            (scope.account_id, scope.region, kind),
        )
        return [json.loads(r["doc"]) for r in rows]

    def many(self, scope: Scope, kind: str, ids: Iterable[str]) -> dict[str, dict]:
        """The resources among `ids` that exist, by id."""
        ids = list(dict.fromkeys(ids))
        found: dict[str, dict] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.query(
                f"SELECT id, doc FROM ec2_resources WHERE account_id = ? AND region = ? AND kind = ?"
                f" AND id IN ({marks})",
                (scope.account_id, scope.region, kind, *chunk),
            )
            found.update((r["id"], json.loads(r["doc"])) for r in rows)
        return found

    def delete(self, scope: Scope, resource_id: str) -> None:
        self.db.execute("DELETE FROM ec2_resources WHERE account_id = ? AND region = ? AND id = ?",
                        (scope.account_id, scope.region, resource_id))
        self.db.execute("DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ?",
                        (scope.account_id, scope.region, resource_id))

    # ---- tags ------------------------------------------------------------------------------

    def tags(self, scope: Scope, resource_id: str) -> list[dict]:
        rows = self.db.query(
            "SELECT key, value FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ? ORDER BY key",
            (scope.account_id, scope.region, resource_id),
        )
        return [{"Key": r["key"], "Value": r["value"]} for r in rows]

    def tags_of(self, scope: Scope, ids: list[str]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.db.query(
                f"SELECT resource_id, key, value FROM ec2_tags WHERE account_id = ? AND region = ?"
                f" AND resource_id IN ({marks}) ORDER BY key",
                (scope.account_id, scope.region, *chunk),
            ):
                out.setdefault(r["resource_id"], []).append({"Key": r["key"], "Value": r["value"]})
        return out

    def all_tags(self, scope: Scope) -> list[tuple[str, str, str]]:
        """(resource id, key, value) of every tag in the scope."""
        rows = self.db.query(
            "SELECT resource_id, key, value FROM ec2_tags WHERE account_id = ? AND region = ?"
            " ORDER BY resource_id, key",
            (scope.account_id, scope.region),
        )
        return [(r["resource_id"], r["key"], r["value"]) for r in rows]

    def set_tags(self, scope: Scope, resource_id: str, tags: list[dict]) -> None:
        for tag in tags:
            self.db.execute(
                "INSERT INTO ec2_tags (account_id, region, resource_id, key, value) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (account_id, region, resource_id, key) DO UPDATE SET value = excluded.value",
                (scope.account_id, scope.region, resource_id, tag["Key"], tag.get("Value") or ""),
            )

    def remove_tags(self, scope: Scope, resource_id: str, tags: list[dict] | None) -> None:
        """Remove the named tags (a tag given with a Value only if it matches); all when None."""
        if tags is None:
            self.db.execute("DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ?",
                            (scope.account_id, scope.region, resource_id))
            return
        for tag in tags:
            if "Value" in tag and tag["Value"] is not None:
                self.db.execute(
                    "DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ? AND key = ?"
                    " AND value = ?", (scope.account_id, scope.region, resource_id, tag["Key"], tag["Value"]))
            else:
                self.db.execute(
                    "DELETE FROM ec2_tags WHERE account_id = ? AND region = ? AND resource_id = ? AND key = ?",
                    (scope.account_id, scope.region, resource_id, tag["Key"]))

    # ---- per-scope settings (default VPC made, EBS encryption by default, ...) -------------

    def settings(self, scope: Scope) -> dict | None:
        row = self.db.query_one("SELECT settings FROM ec2_scopes WHERE account_id = ? AND region = ?",
                                (scope.account_id, scope.region))
        return json.loads(row["settings"]) if row else None

    def save_settings(self, scope: Scope, settings: dict) -> None:
        self.db.execute(
            "INSERT INTO ec2_scopes (account_id, region, settings) VALUES (?, ?, ?)"
            " ON CONFLICT (account_id, region) DO UPDATE SET settings = excluded.settings",
            (scope.account_id, scope.region, json.dumps(settings)),
        )


def with_tags(resources: Resources, scope: Scope, docs: list[dict], id_key: str) -> list[dict]:
    """The documents with their `Tags` (absent when a resource has none, as AWS answers)."""
    tags = resources.tags_of(scope, [d[id_key] for d in docs])
    out = []
    for doc in docs:
        found = tags.get(doc[id_key])
        out.append({**doc, "Tags": found} if found else doc)
    return out


def paginate(items: list[Any], request: dict, *, minimum: int = 5, maximum: int = 1000,
             ids_given: str | None = None) -> tuple[list, str | None]:
    """One page of `items` and the NextToken for the rest (None on the last page).

    MaxResults must lie in [minimum, maximum]; `ids_given` names the id parameter that may not
    be combined with MaxResults (AWS refuses both together for most describes).
    """
    limit = request.get("MaxResults")
    token = request.get("NextToken")
    if limit is not None:
        if ids_given and request.get(ids_given):
            raise invalid_parameter_combination(
                f"The parameter {_wire_name(ids_given)} cannot be used with the parameter maxResults")
        if not minimum <= limit <= maximum:
            raise invalid_parameter_value(
                f"Value ( {limit} ) for parameter maxResults is invalid. "
                f"Expecting a value greater than {minimum}." if limit < minimum else
                f"Value ( {limit} ) for parameter maxResults is invalid. "
                f"Expecting a value less than or equal to {maximum}.")
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise invalid_parameter_value(f"Invalid value '{token}' for NextToken")
    if limit is None and not token:
        return items, None
    size = limit or maximum
    page = items[start:start + size]
    more = start + size < len(items)
    return page, base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else None


def _wire_name(member: str) -> str:
    # InstanceIds -> instancesSet, as AWS names the wire parameter in this message.
    return {"InstanceIds": "instancesSet"}.get(member, member[0].lower() + member[1:])


def describe(resources: Resources, scope: Scope, kind: str, id_key: str, request: dict, ids_param: str,
             spec: dict, missing: Callable[[list[str]], Exception],
             settle: Callable[[Scope, list[dict]], list[dict]] | None = None) -> list[dict]:
    """The common part of DescribeX: by ids (all must exist) or all, with tags, filtered.

    `missing(ids)` builds the error for ids that do not exist (AWS names them all at once);
    `settle(scope, docs)` applies state changes that came due, before filtering.
    """
    from gureum.services.ec2 import filters

    ids = request.get(ids_param) or []
    if ids:
        found = resources.many(scope, kind, ids)
        absent = [i for i in dict.fromkeys(ids) if i not in found]
        if absent:
            raise missing(absent)
        docs = [found[i] for i in dict.fromkeys(ids)]
    else:
        docs = resources.all(scope, kind)
    if settle is not None:
        docs = settle(scope, docs)
    return filters.apply(with_tags(resources, scope, docs, id_key), request.get("Filters"), spec)
