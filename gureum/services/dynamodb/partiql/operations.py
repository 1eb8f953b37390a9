"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction: PartiQL run through the
provider's own item operations (see translate.py)."""

from __future__ import annotations

import base64
import hashlib
import json

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.dynamodb import types
from gureum.services.dynamodb.errors import not_found, validation
from gureum.services.dynamodb.partiql import translate
from gureum.services.dynamodb.partiql.parser import Exists, Insert, Select, parse

DUPLICATE_ITEM = "Duplicate primary key exists in table"
_CODES = {"ConditionalCheckFailedException": "ConditionalCheckFailed", "DuplicateItemException": "DuplicateItem",
          "ValidationException": "ValidationError", "ResourceNotFoundException": "ResourceNotFound",
          "TransactionConflictException": "TransactionConflict", "AccessDeniedException": "AccessDenied",
          "ItemCollectionSizeLimitExceededException": "ItemCollectionSizeLimitExceeded",
          "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
          "RequestLimitExceeded": "RequestLimitExceeded", "ThrottlingException": "ThrottlingError"}


def duplicate_item() -> ServiceError:
    return ServiceError("DuplicateItemException", DUPLICATE_ITEM, 400)


class PartiQLOperations:
    """The PartiQL operations; mixed into the DynamoDB provider."""

    def _statement(self, ctx: RequestContext, text: str, parameters: list | None):
        parsed = parse(text)
        given = parameters or []
        if parameters is not None and not parameters:
            raise validation("1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: "
                             "Member must have length greater than or equal to 1")
        if len(given) != parsed.parameters:
            raise validation("Number of parameters in request and statement don't match.")
        checked = [types.validate_value(p) for p in given]
        statement = translate.statement_with(parsed.statement, checked)
        target = statement.select if isinstance(statement, Exists) else statement
        table = self._find(ctx.account_id, ctx.region, target.table)
        if table is None:
            raise not_found("Requested resource not found")
        if target.index and translate.key_schema(table, target.index) is None:
            raise validation(f"The table does not have the specified index: {target.index}")
        return statement, table

    def _write(self, ctx: RequestContext, statement, table, extra: dict) -> dict:
        """Run one INSERT/UPDATE/DELETE; the operation's output."""
        operation, request = translate.write_request(table, statement)
        if operation == "condition_check":
            raise validation("Unsupported operation: EXISTS is supported only inside ExecuteTransaction")
        request.update(extra)
        try:
            return getattr(self, operation)(ctx, request)
        except ServiceError as e:
            if isinstance(statement, Insert) and e.code == "ConditionalCheckFailedException":
                raise duplicate_item() from None
            raise

    # ---- ExecuteStatement ----------------------------------------------------------------------

    def execute_statement(self, ctx: RequestContext, request: dict) -> dict:
        text = request["Statement"]
        statement, table = self._statement(ctx, text, request.get("Parameters"))
        capacity = {"ReturnConsumedCapacity": request["ReturnConsumedCapacity"]} if "ReturnConsumedCapacity" in request else {}
        if not isinstance(statement, Select):
            if request.get("NextToken"):
                raise validation("NextToken is only valid on a SELECT statement")
            if isinstance(statement, Exists):
                raise validation("Unsupported operation: EXISTS is supported only inside ExecuteTransaction")
            extra = dict(capacity)
            if "ReturnValuesOnConditionCheckFailure" in request:
                extra["ReturnValuesOnConditionCheckFailure"] = request["ReturnValuesOnConditionCheckFailure"]
            out = self._write(ctx, statement, table, extra)
            result: dict = {"Items": [out["Attributes"]] if out.get("Attributes") else []}
            if "ConsumedCapacity" in out:
                result["ConsumedCapacity"] = out["ConsumedCapacity"]
            return result
        operation, read = translate.select_request(table, statement)
        read.update(capacity)
        if request.get("ConsistentRead"):
            read["ConsistentRead"] = True
        if request.get("Limit") is not None:
            read["Limit"] = request["Limit"]
        fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
        if request.get("NextToken"):
            read["ExclusiveStartKey"] = _read_token(request["NextToken"], fingerprint)
        out = getattr(self, operation)(ctx, read)
        result = {"Items": out.get("Items", [])}
        if out.get("LastEvaluatedKey"):
            result["LastEvaluatedKey"] = out["LastEvaluatedKey"]
            result["NextToken"] = _token(out["LastEvaluatedKey"], fingerprint)
        if "ConsumedCapacity" in out:
            result["ConsumedCapacity"] = out["ConsumedCapacity"]
        return result

    # ---- BatchExecuteStatement -----------------------------------------------------------------

    def batch_execute_statement(self, ctx: RequestContext, request: dict) -> dict:
        entries = request["Statements"]
        if not 1 <= len(entries) <= 25:
            raise validation("1 validation error detected: Value at 'statements' failed to satisfy constraint: "
                             "Member must have length less than or equal to 25")
        verbs = {parse_verb(e["Statement"]) for e in entries} - {"INVALID"}
        if "SELECT" in verbs and len(verbs) > 1:
            raise validation("Unsupported operation: Read and write requests together in the same batch is not supported.")
        responses = []
        for entry in entries:
            name = None
            try:
                statement, table = self._statement(ctx, entry["Statement"], entry.get("Parameters"))
                name = table.name
                if isinstance(statement, Select):
                    get = translate.get_request(table, statement)
                    if entry.get("ConsistentRead"):
                        get["ConsistentRead"] = True
                    out = self.get_item(ctx, get)
                    response = {"TableName": name}
                    if "Item" in out:
                        response["Item"] = out["Item"]
                else:
                    extra = {}
                    if "ReturnValuesOnConditionCheckFailure" in entry:
                        extra["ReturnValuesOnConditionCheckFailure"] = entry["ReturnValuesOnConditionCheckFailure"]
                    self._write(ctx, statement, table, extra)
                    response = {"TableName": name}
            except ServiceError as e:
                error = {"Code": _CODES.get(e.code, e.code), "Message": e.message}
                if e.fields.get("Item") is not None:
                    error["Item"] = e.fields["Item"]
                response = {"Error": error}
                if name is not None and e.code != "ValidationException":
                    response["TableName"] = name
            responses.append(response)
        return {"Responses": responses}

    # ---- ExecuteTransaction --------------------------------------------------------------------

    def execute_transaction(self, ctx: RequestContext, request: dict) -> dict:
        entries = request["TransactStatements"]
        if not 1 <= len(entries) <= 100:
            raise validation("1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: "
                             "Member must have length less than or equal to 100")
        statements = []
        for i, entry in enumerate(entries):
            statement, table = self._statement(ctx, entry["Statement"], entry.get("Parameters"))
            if getattr(statement, "returning", None):
                raise validation(f"Validation failed in TransactStatements[{i}]: RETURNING clause is not supported in ExecuteTransaction.")
            statements.append((statement, table, entry))
        reads = [isinstance(s, Select) for s, _, _ in statements]
        if any(reads) and not all(reads):
            raise validation("ExecuteTransaction API does not support both read and write operations in the same request.")
        capacity = {"ReturnConsumedCapacity": request["ReturnConsumedCapacity"]} if "ReturnConsumedCapacity" in request else {}
        if all(reads):
            gets = [{"Get": translate.get_request(t, s)} for s, t, _ in statements]
            out = self.transact_get_items(ctx, {"TransactItems": gets, **capacity})
            result = {"Responses": out["Responses"]}
            if "ConsumedCapacity" in out:
                result["ConsumedCapacity"] = out["ConsumedCapacity"]
            return result
        kinds = {"put_item": "Put", "update_item": "Update", "delete_item": "Delete", "condition_check": "ConditionCheck"}
        items = []
        for statement, table, entry in statements:
            operation, spec = translate.write_request(table, statement)
            spec.pop("ReturnValues", None)
            if "ReturnValuesOnConditionCheckFailure" in entry:
                spec["ReturnValuesOnConditionCheckFailure"] = entry["ReturnValuesOnConditionCheckFailure"]
            items.append({kinds[operation]: spec})
        write = {"TransactItems": items, **capacity}
        if request.get("ClientRequestToken"):
            write["ClientRequestToken"] = request["ClientRequestToken"]
        try:
            out = self.transact_write_items(ctx, write)
        except ServiceError as e:
            if e.code != "TransactionCanceledException":
                raise
            reasons = e.fields.get("CancellationReasons") or []
            for reason, (statement, _, _) in zip(reasons, statements):
                if isinstance(statement, Insert) and reason.get("Code") == "ConditionalCheckFailed":
                    reason.clear()
                    reason.update({"Code": "DuplicateItem", "Message": DUPLICATE_ITEM})
            codes = ", ".join(r["Code"] for r in reasons)
            raise ServiceError("TransactionCanceledException",
                               f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                               400, fields={"CancellationReasons": reasons}) from None
        result = {"Responses": [{} for _ in statements]}
        if "ConsumedCapacity" in out:
            result["ConsumedCapacity"] = out["ConsumedCapacity"]
        return result


def parse_verb(text: str) -> str:
    try:
        return parse(text).verb
    except ServiceError:
        return "INVALID"


def _token(key: dict, fingerprint: str) -> str:
    payload = json.dumps({"s": fingerprint, "k": {k: types.to_storage(v) for k, v in key.items()}},
                         separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode()


def _read_token(token: str, fingerprint: str) -> dict:
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
        key = {k: types.from_storage(v) for k, v in payload["k"].items()}
    except Exception:
        raise validation("Invalid NextToken") from None
    if payload.get("s") != fingerprint:
        raise validation("Invalid NextToken")
    return key
