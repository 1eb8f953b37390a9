"""AWS Systems Manager Parameter Store.

Two kinds of parameters answer: the public ones under /aws/service/ (public.py, read-only,
the same for every account) and the account's own String and StringList parameters, kept per
account and region with every version (PutParameter, GetParameter[s], GetParametersByPath,
GetParameterHistory, DescribeParameters, DeleteParameter[s]). SecureString needs KMS, which
gureum does not have yet: it is refused with UnsupportedParameterType.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timezone

from gureum import clock
from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.base import BaseProvider
from gureum.services.ssm import public

MIGRATIONS = [
    """
    CREATE TABLE ssm_parameters (
        account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
        type TEXT NOT NULL, value TEXT NOT NULL, data_type TEXT NOT NULL, description TEXT,
        allowed_pattern TEXT, tier TEXT NOT NULL, modified REAL NOT NULL, modified_user TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name, version));
    CREATE TABLE ssm_parameter_tags (
        account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name, key));
    """
]

_NAME_PART = re.compile(r"^[a-zA-Z0-9_.\-]+$")
MAX_VERSIONS = 100
MAX_VALUE = {"Standard": 4096, "Advanced": 8192, "Intelligent-Tiering": 8192}


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def _not_found(name: str = "") -> ServiceError:
    # AWS answers ParameterNotFound with an empty message.
    return ServiceError("ParameterNotFound", "", 400)


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"ssm:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "ssm":
            return int(number)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ServiceError("InvalidNextToken", "The specified token is not valid.", 400)


def _split_selector(name: str) -> tuple[str, str | None]:
    """`name:3` or `name:label` -> (name, selector); an ARN becomes its name."""
    if name.startswith("arn:"):
        name = "/" + name.split(":parameter/", 1)[-1] if ":parameter/" in name else name
    base, sep, selector = name.rpartition(":")
    if sep and base and "/" not in selector:
        return base, selector
    return name, None


def _check_name(name: str) -> None:
    bare = name[1:] if name.startswith("/") else name
    if bare.lower().startswith(("aws", "ssm")):
        raise _validation(
            'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can'
            " consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers"
            " and the following 3 symbols .-_")
    parts = bare.split("/")
    if "/" in bare and not name.startswith("/"):
        raise _validation("Parameter name must be a fully qualified name.")
    if not all(_NAME_PART.match(p) for p in parts):
        raise _validation(
            "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can"
            " consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers"
            " and the following 3 symbols .-_")
    if len(parts) > 15:
        raise ServiceError("HierarchyLevelLimitExceededException",
                           "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and "
                           "constraints for parameter names in the AWS Systems Manager User Guide.", 400)


class Provider(BaseProvider):
    service_name = "ssm"
    MIGRATIONS = MIGRATIONS

    # ---- for other services (EC2's resolve:ssm:) ------------------------------------------

    def parameter_value(self, ctx: RequestContext, name: str) -> str | None:
        """The current value of a parameter the caller's account can read, or None."""
        found = self._find(ctx, name)
        return found["Value"] if found else None

    # ---- reads -----------------------------------------------------------------------------

    def get_parameter(self, ctx: RequestContext, request: dict) -> dict:
        found = self._find(ctx, request["Name"])
        if found is None:
            raise _not_found(request["Name"])
        return {"Parameter": found}

    def get_parameters(self, ctx: RequestContext, request: dict) -> dict:
        found, invalid = [], []
        for name in dict.fromkeys(request["Names"]):
            parameter = self._find(ctx, name)
            if parameter is None:
                invalid.append(name)
            else:
                found.append(parameter)
        return {"Parameters": found, "InvalidParameters": invalid}

    def get_parameters_by_path(self, ctx: RequestContext, request: dict) -> dict:
        path = request["Path"]
        if not path.startswith("/"):
            raise _validation("The parameter doesn't meet the parameter name requirements. The parameter name must "
                              "begin with a forward slash \"/\".")
        recursive = bool(request.get("Recursive"))
        if public.is_public(path.rstrip("/") + "/"):
            items = public.under(ctx.region, path, recursive)
        else:
            base = path.rstrip("/") + "/"
            items = [self._shape(ctx, row) for row in self._current_rows(ctx)
                     if row["name"].startswith(base) and (recursive or "/" not in row["name"][len(base):])]
        items = self._parameter_filters(items, request.get("ParameterFilters"))
        limit = request.get("MaxResults") or 10
        start = _offset(request.get("NextToken"))
        page = items[start:start + limit]
        out: dict = {"Parameters": page}
        if start + limit < len(items):
            out["NextToken"] = _token(start + limit)
        return out

    def get_parameter_history(self, ctx: RequestContext, request: dict) -> dict:
        name, _ = _split_selector(request["Name"])
        rows = self.env.db.query(
            "SELECT * FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ? ORDER BY version",
            (ctx.account_id, ctx.region, name))
        if not rows:
            raise _not_found(name)
        items = [{
            "Name": r["name"], "Type": r["type"], "LastModifiedDate": _ts(r["modified"]),
            "LastModifiedUser": r["modified_user"], "Value": r["value"], "Version": r["version"],
            "Labels": [], "Tier": r["tier"], "Policies": [], "DataType": r["data_type"],
            **({"Description": r["description"]} if r["description"] else {}),
            **({"AllowedPattern": r["allowed_pattern"]} if r["allowed_pattern"] else {}),
        } for r in rows]
        limit = request.get("MaxResults") or 50
        start = _offset(request.get("NextToken"))
        out: dict = {"Parameters": items[start:start + limit]}
        if start + limit < len(items):
            out["NextToken"] = _token(start + limit)
        return out

    def describe_parameters(self, ctx: RequestContext, request: dict) -> dict:
        items = []
        for row in self._current_rows(ctx):
            items.append({
                "Name": row["name"], "ARN": self._arn(ctx, row["name"]), "Type": row["type"],
                "LastModifiedDate": _ts(row["modified"]), "LastModifiedUser": row["modified_user"],
                "Version": row["version"], "Tier": row["tier"], "Policies": [], "DataType": row["data_type"],
                **({"Description": row["description"]} if row["description"] else {}),
                **({"AllowedPattern": row["allowed_pattern"]} if row["allowed_pattern"] else {}),
            })
        items = self._parameter_filters(items, request.get("ParameterFilters"))
        limit = request.get("MaxResults") or 10
        start = _offset(request.get("NextToken"))
        out: dict = {"Parameters": items[start:start + limit]}
        if start + limit < len(items):
            out["NextToken"] = _token(start + limit)
        return out

    # ---- writes ----------------------------------------------------------------------------

    def put_parameter(self, ctx: RequestContext, request: dict) -> dict:
        name = request["Name"]
        value = request["Value"]
        if public.is_public(name) or name.startswith("/aws/"):
            raise ServiceError("AccessDeniedException",
                               f"No access to reserved parameter name: {name}.", 400)
        _check_name(name)
        tier = request.get("Tier") or "Standard"
        if tier not in MAX_VALUE:
            raise _validation(f"1 validation error detected: Value '{tier}' at 'tier' failed to satisfy constraint: "
                              "Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]")
        if tier == "Intelligent-Tiering":
            tier = "Standard" if len(value) <= MAX_VALUE["Standard"] else "Advanced"
        if len(value) > MAX_VALUE[tier]:
            raise _validation(f"Standard tier parameters support a maximum parameter value of {MAX_VALUE[tier]} "
                              f"characters. To create a larger parameter value, upgrade the parameter to use the "
                              f"advanced-parameter tier.")
        data_type = request.get("DataType") or "text"
        if data_type not in ("text", "aws:ec2:image"):
            raise _validation(f"The following data type is not supported: {data_type} (Data type names are all "
                              f"lowercase.)")
        pattern = request.get("AllowedPattern")
        if pattern and not re.fullmatch(pattern, value):
            raise ServiceError("ParameterPatternMismatchException",
                               f"Parameter value, cannot be validated against allowedPattern: {pattern}", 400)
        with self.env.db.transaction():
            current = self._current(ctx, name)
            kind = request.get("Type") or (current["type"] if current else None)
            if kind is None:
                raise _validation("A parameter type is required when you create a parameter.")
            if kind == "SecureString":
                raise ServiceError("UnsupportedParameterType",
                                   "SecureString parameters are encrypted with KMS, which is not available here.", 400)
            if kind not in ("String", "StringList"):
                raise _validation(f"1 validation error detected: Value '{kind}' at 'type' failed to satisfy "
                                  "constraint: Member must satisfy enum value set: [SecureString, StringList, String]")
            if data_type == "aws:ec2:image" and not re.fullmatch(r"ami-[0-9a-f]{8,17}", value):
                raise _validation(f"Parameter value {value} is not a valid image id for data type aws:ec2:image.")
            if current is not None:
                if not request.get("Overwrite"):
                    raise ServiceError("ParameterAlreadyExists",
                                       "The parameter already exists. To overwrite this value, set the overwrite "
                                       "option in the request to true.", 400)
                if request.get("Tags"):
                    raise _validation("Invalid request: tags and overwrite can't be used together. To create a "
                                      "parameter with tags, please remove overwrite flag. To update tags for an "
                                      "existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
                if current["version"] >= MAX_VERSIONS:
                    oldest = self.env.db.query_one(
                        "SELECT MIN(version) AS v FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?",
                        (ctx.account_id, ctx.region, name))["v"]
                    self.env.db.execute(
                        "DELETE FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ? AND version = ?",
                        (ctx.account_id, ctx.region, name, oldest))
            version = (current["version"] + 1) if current else 1
            if current and tier == "Standard" and current["tier"] == "Advanced":
                tier = "Advanced"  # an advanced parameter cannot go back to standard
            self.env.db.execute(
                "INSERT INTO ssm_parameters (account_id, region, name, version, type, value, data_type, description,"
                " allowed_pattern, tier, modified, modified_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ctx.account_id, ctx.region, name, version, kind, value, data_type,
                 request.get("Description", current["description"] if current else None),
                 pattern if pattern is not None else (current["allowed_pattern"] if current else None),
                 tier, clock.epoch(), ctx.principal.arn))
            for tag in request.get("Tags") or []:
                self.env.db.execute(
                    "INSERT OR REPLACE INTO ssm_parameter_tags (account_id, region, name, key, value)"
                    " VALUES (?, ?, ?, ?, ?)", (ctx.account_id, ctx.region, name, tag["Key"], tag["Value"]))
        return {"Version": version, "Tier": tier}

    def delete_parameter(self, ctx: RequestContext, request: dict) -> dict:
        name = request["Name"]
        with self.env.db.transaction():
            if not self._delete(ctx, name):
                raise _not_found(name)
        return {}

    def delete_parameters(self, ctx: RequestContext, request: dict) -> dict:
        deleted, invalid = [], []
        with self.env.db.transaction():
            for name in dict.fromkeys(request["Names"]):
                (deleted if self._delete(ctx, name) else invalid).append(name)
        return {"DeletedParameters": deleted, "InvalidParameters": invalid}

    def list_tags_for_resource(self, ctx: RequestContext, request: dict) -> dict:
        if request["ResourceType"] != "Parameter":
            raise ServiceError("InvalidResourceType", "", 400)
        name = request["ResourceId"]
        if self._current(ctx, name) is None:
            raise ServiceError("InvalidResourceId", "", 400)
        rows = self.env.db.query(
            "SELECT key, value FROM ssm_parameter_tags WHERE account_id = ? AND region = ? AND name = ? ORDER BY key",
            (ctx.account_id, ctx.region, name))
        return {"TagList": [{"Key": r["key"], "Value": r["value"]} for r in rows]}

    # ---- helpers ---------------------------------------------------------------------------

    def _find(self, ctx: RequestContext, requested: str) -> dict | None:
        name, selector = _split_selector(requested)
        if public.is_public(name):
            found = public.parameter(ctx.region, name)
            if found is None:
                return None
            if selector is not None:
                if not selector.isdigit() or int(selector) != found["Version"]:
                    raise ServiceError("ParameterVersionNotFound",
                                       f"Systems Manager could not find version {selector} of {name}. "
                                       "Verify the version and try again.", 400)
                found = {**found, "Selector": ":" + selector, "Name": name}
            return found
        if selector is None:
            row = self._current(ctx, name)
        elif selector.isdigit():
            row = self.env.db.query_one(
                "SELECT * FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ? AND version = ?",
                (ctx.account_id, ctx.region, name, int(selector)))
            if row is None and self._current(ctx, name) is not None:
                raise ServiceError("ParameterVersionNotFound",
                                   f"Systems Manager could not find version {selector} of {name}. "
                                   "Verify the version and try again.", 400)
        else:
            return None  # a label: no parameter here carries labels
        if row is None:
            return None
        shape = self._shape(ctx, row)
        if selector is not None:
            shape["Selector"] = ":" + selector
        return shape

    def _shape(self, ctx: RequestContext, row) -> dict:
        return {
            "Name": row["name"], "Type": row["type"], "Value": row["value"], "Version": row["version"],
            "LastModifiedDate": _ts(row["modified"]), "ARN": self._arn(ctx, row["name"]),
            "DataType": row["data_type"],
        }

    @staticmethod
    def _arn(ctx: RequestContext, name: str) -> str:
        return f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:parameter/{name.lstrip('/')}"

    def _current(self, ctx: RequestContext, name: str):
        return self.env.db.query_one(
            "SELECT * FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?"
            " ORDER BY version DESC LIMIT 1", (ctx.account_id, ctx.region, name))

    def _current_rows(self, ctx: RequestContext) -> list:
        return self.env.db.query(
            "SELECT p.* FROM ssm_parameters p JOIN (SELECT name, MAX(version) AS v FROM ssm_parameters"
            " WHERE account_id = ? AND region = ? GROUP BY name) m ON p.name = m.name AND p.version = m.v"
            " WHERE p.account_id = ? AND p.region = ? ORDER BY p.name",
            (ctx.account_id, ctx.region, ctx.account_id, ctx.region))

    def _delete(self, ctx: RequestContext, name: str) -> bool:
        changed = self.env.db.execute("DELETE FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?",
                                      (ctx.account_id, ctx.region, name))
        self.env.db.execute("DELETE FROM ssm_parameter_tags WHERE account_id = ? AND region = ? AND name = ?",
                            (ctx.account_id, ctx.region, name))
        return changed > 0

    @staticmethod
    def _parameter_filters(items: list[dict], filters: list[dict] | None) -> list[dict]:
        """ParameterFilters on Name (Equals/BeginsWith/Contains), Type and DataType."""
        for f in filters or []:
            key, option, values = f["Key"], f.get("Option") or "Equals", f.get("Values") or []
            field = {"Name": "Name", "Type": "Type", "DataType": "DataType", "Tier": "Tier"}.get(key)
            if field is None:
                raise ServiceError("InvalidFilterKey", f"The following filter key is not valid: {key}", 400)

            def ok(item: dict) -> bool:
                have = str(item.get(field, ""))
                if option == "BeginsWith":
                    return any(have.startswith(v) for v in values)
                if option == "Contains":
                    return any(v in have for v in values)
                return have in values

            items = [i for i in items if ok(i)]
        return items
