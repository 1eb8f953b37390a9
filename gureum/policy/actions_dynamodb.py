"""DynamoDB and DynamoDB Streams: batch and transactional calls, PartiQL, indexes.

Batch and transaction calls are authorised once per table (and, for transactions, per kind
of write). Reads through an index are authorised on the index ARN. dynamodb:LeadingKeys
needs the table's partition key name; the DynamoDB service may register
`set_partition_key_lookup` so it can be read from the request's keys.
"""

from __future__ import annotations

import re
from typing import Callable

from gureum.policy.actions import Authorization, Call, Context, ServiceRules

# (account, region, table name) -> the partition key's attribute name
PartitionKeyLookup = Callable[[str, str, str], "str | None"]
_partition_key: list[PartitionKeyLookup] = []


def set_partition_key_lookup(lookup: PartitionKeyLookup | None) -> None:
    _partition_key[:] = [lookup] if lookup else []


def _table(call: Call, action: str, table: str, key: dict | None = None, index: str | None = None,
           extra: Context | None = None) -> list[Authorization]:
    ctx: Context = dict(extra or {})
    if key and _partition_key and not table.startswith("arn:"):
        name = _partition_key[0](call.account_id, call.region, table)
        value = key.get(name) if name else None
        if isinstance(value, dict) and value:
            ctx["dynamodb:LeadingKeys"] = [str(next(iter(value.values())))]
    if index:
        return call.authorize(action, {"TableName": table, "IndexName": index}, ctx, resource_type="index")
    return call.authorize(action, {"TableName": table}, ctx, resource_type="table")


_REQUEST_KEYS = (("Select", "dynamodb:Select"), ("ReturnValues", "dynamodb:ReturnValues"),
                 ("ReturnConsumedCapacity", "dynamodb:ReturnConsumedCapacity"))


def _item_context(params: dict) -> Context:
    ctx: Context = {k: str(params[m]) for m, k in _REQUEST_KEYS if params.get(m)}
    attributes = params.get("AttributesToGet")
    if attributes:
        ctx["dynamodb:Attributes"] = list(attributes)
    elif params.get("ProjectionExpression"):
        names = params.get("ExpressionAttributeNames") or {}
        ctx["dynamodb:Attributes"] = [
            names.get(a.strip().split(".")[0].split("[")[0], a.strip().split(".")[0].split("[")[0])
            for a in params["ProjectionExpression"].split(",")
        ]
    return ctx


def _single(call: Call) -> list[Authorization]:
    p = call.params
    key = p.get("Key") or p.get("Item")
    return _table(call, call.operation, p.get("TableName", ""), key, p.get("IndexName"), _item_context(p))


def _batch_get(call: Call) -> list[Authorization]:
    out: list[Authorization] = []
    for table, request in (call.params.get("RequestItems") or {}).items():
        keys = (request or {}).get("Keys") or [None]
        out += _table(call, "BatchGetItem", table, keys[0], extra=_item_context(request or {}))
    return out


def _batch_write(call: Call) -> list[Authorization]:
    out: list[Authorization] = []
    for table, writes in (call.params.get("RequestItems") or {}).items():
        first = (writes or [{}])[0]
        key = (first.get("PutRequest") or {}).get("Item") or (first.get("DeleteRequest") or {}).get("Key")
        out += _table(call, "BatchWriteItem", table, key)
    return out


_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
             "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _transact(call: Call) -> list[Authorization]:
    """Each item of a transaction is authorised as the single-item action it performs."""
    out: list[Authorization] = []
    for item in call.params.get("TransactItems") or []:
        for kind, body in item.items():
            action = _TRANSACT.get(kind)
            if not action or not isinstance(body, dict):
                continue
            for a in _table(call, action, body.get("TableName", ""), body.get("Key") or body.get("Item")):
                if a not in out:  # the same write twice on one table is one authorization
                    out.append(a)
    return out


_TABLE_AFTER = re.compile(r"""\b(from|into)\s+("[^"]+"|[\w.-]+)(?:\."([^"]+)"|\.([\w-]+))?""", re.IGNORECASE)
_UPDATE_TABLE = re.compile(r"""^\s*update\s+("[^"]+"|[\w.-]+)""", re.IGNORECASE)
_PARTIQL = {"select": "PartiQLSelect", "insert": "PartiQLInsert", "update": "PartiQLUpdate",
            "delete": "PartiQLDelete", "exists": "PartiQLSelect"}


def partiql_target(statement: str) -> tuple[str, str, str | None]:
    """(action, table, index) of one PartiQL statement."""
    verb = statement.strip().split(None, 1)[0].lower() if statement.strip() else "select"
    action = _PARTIQL.get(verb, "PartiQLSelect")
    if verb == "update":
        m = _UPDATE_TABLE.search(statement)
        return action, (m.group(1).strip('"') if m else ""), None
    m = _TABLE_AFTER.search(statement)
    if not m:
        return action, "", None
    return action, m.group(2).strip('"'), m.group(3) or m.group(4)


def _partiql(call: Call) -> list[Authorization]:
    p = call.params
    statements = [p] if "Statement" in p else (p.get("Statements") or p.get("TransactStatements") or [])
    out: list[Authorization] = []
    for s in statements:
        action, table, index = partiql_target(s.get("Statement") or "")
        out += _table(call, action, table, index=index)
    return out


_INDEXABLE = ("Query", "Scan", "GetItem", "PutItem", "UpdateItem", "DeleteItem",
              "DescribeContributorInsights", "UpdateContributorInsights")

DYNAMODB = ServiceRules(
    handlers={
        **{op: _single for op in _INDEXABLE},
        "BatchGetItem": _batch_get,
        "BatchWriteItem": _batch_write,
        "TransactWriteItems": _transact,
        "TransactGetItems": _transact,
        "ExecuteStatement": _partiql,
        "BatchExecuteStatement": _partiql,
        "ExecuteTransaction": _partiql,
    },
    variables={
        "TableName": lambda c: c.params.get("TableName") or c.params.get("TargetTableName")
        or c.params.get("GlobalTableName"),
        "GlobalTableName": lambda c: c.params.get("GlobalTableName"),
        "BackupName": lambda c: c.params.get("BackupArn"),
        "ExportName": lambda c: c.params.get("ExportArn"),
        "ImportName": lambda c: c.params.get("ImportArn"),
        "StreamLabel": lambda c: c.params.get("StreamArn"),
    },
)

DYNAMODBSTREAMS = ServiceRules(
    variables={"StreamLabel": lambda c: c.params.get("StreamArn")},
)
