"""S3 CORS: the bucket's CORS configuration, preflight (OPTIONS) answers, and the
Access-Control-* headers added to actual requests from an allowed origin.

Preflights are unauthenticated, as on AWS: the bucket's rules alone decide them.
"""

from __future__ import annotations

import json

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest, HttpResponse
from gureum.protocol.model import service_model
from gureum.protocol.serializers import serialize_error
from gureum.protocol.serializers.s3 import host_id
from gureum.services.s3.website import ensure_web_columns

CORS_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})
MAX_RULES = 100
_MALFORMED = ("MalformedXML", "The XML you provided was not well-formed or did not validate against our published "
              "schema")
_NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
                "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
                "by the resource's CORS spec.")
PREFLIGHT_VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def validate_cors(rules: list[dict]) -> list[dict]:
    if not rules or len(rules) > MAX_RULES:
        raise ServiceError(*_MALFORMED, 400)
    for rule in rules:
        if not rule.get("AllowedOrigins") or not rule.get("AllowedMethods"):
            raise ServiceError(*_MALFORMED, 400)
        for method in rule["AllowedMethods"]:
            if method not in CORS_METHODS:
                raise ServiceError("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported "
                                   f"method is {method}", 400)
        for kind, values in (("AllowedOrigin", rule["AllowedOrigins"]), ("AllowedHeader", rule.get("AllowedHeaders"))):
            for value in values or []:
                if value.count("*") > 1:
                    raise ServiceError("InvalidRequest", f'{kind} "{value}" can not have more than one wildcard.', 400)
        for value in rule.get("ExposeHeaders") or []:
            if "*" in value:
                raise ServiceError("InvalidRequest", f'ExposeHeader "{value}" contains wildcard. We currently do not '
                                   "support wildcard for ExposeHeader.", 400)
    return rules


def _wildcard_match(pattern: str, value: str) -> bool:
    """A pattern with at most one `*` (S3 allows no more) against a value."""
    if "*" not in pattern:
        return pattern == value
    head, _, tail = pattern.partition("*")
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def match_rule(rules: list[dict], origin: str, method: str, headers: list[str]) -> dict | None:
    """The first rule admitting the origin, the method and every requested header (S3's order)."""
    for rule in rules:
        if not any(_wildcard_match(o, origin) for o in rule["AllowedOrigins"]):
            continue
        if method not in rule["AllowedMethods"]:
            continue
        allowed = [h.lower() for h in rule.get("AllowedHeaders") or []]
        if all(any(_wildcard_match(a, h) for a in allowed) for h in headers):
            return rule
    return None


def _rule_headers(rule: dict, origin: str) -> list[tuple[str, str]]:
    if "*" in rule["AllowedOrigins"]:
        out = [("Access-Control-Allow-Origin", "*")]
    else:
        out = [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
    out.append(("Access-Control-Allow-Methods", ", ".join(rule["AllowedMethods"])))
    if rule.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule.get("MaxAgeSeconds") is not None:
        out.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    return out


class CorsOperations:
    """Put/Get/DeleteBucketCors, mixed into the S3 provider, and the rules as the gateway applies them."""

    def __init__(self, env):
        super().__init__(env)
        ensure_web_columns(env.db)

    def put_bucket_cors(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        rules = validate_cors((request.get("CORSConfiguration") or {}).get("CORSRules") or [])
        self._set_bucket(row["name"], cors_config=json.dumps(rules))
        return {}

    def get_bucket_cors(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        if not row["cors_config"]:
            raise ServiceError("NoSuchCORSConfiguration", "The CORS configuration does not exist", 404,
                               fields={"BucketName": row["name"]})
        return {"CORSRules": json.loads(row["cors_config"])}

    def delete_bucket_cors(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        self._set_bucket(row["name"], cors_config=None)
        return {}

    def cors_rules(self, bucket: str) -> list[dict] | None:
        """The bucket's CORS rules; None when the bucket or its configuration is missing."""
        row = self.env.db.query_one("SELECT cors_config FROM s3_buckets WHERE name = ?", (bucket,))
        return json.loads(row["cors_config"]) if row is not None and row["cors_config"] else None


def preflight(provider: CorsOperations, request: HttpRequest, bucket: str | None, key: str,
              request_id: str) -> HttpResponse:
    """Answer an OPTIONS preflight for a bucket (or one of its objects) from its CORS rules."""
    headers = request.headers
    origin = headers.get("origin")
    method = headers.get("access-control-request-method")
    resource_type = "OBJECT" if key else "BUCKET"
    if origin is None:
        return _error(ServiceError("BadRequest", "Insufficient information. Origin request header needed.", 400),
                      request_id)
    if method is None:
        return _error(ServiceError("BadRequest", "Invalid Access-Control-Request-Method: null", 400), request_id)
    where = {"Method": method, "ResourceType": resource_type}
    if not bucket:
        return _error(ServiceError("AccessForbidden", "CORSResponse: Bucket not found", 403, fields=where),
                      request_id)
    found = provider.env.db.query_one("SELECT cors_config FROM s3_buckets WHERE name = ?", (bucket,))
    if found is None:
        return _error(ServiceError("AccessForbidden", "CORSResponse: Bucket not found", 403, fields=where),
                      request_id)
    if not found["cors_config"]:
        return _error(ServiceError("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.", 403,
                                   fields=where), request_id)
    requested = [h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",") if h.strip()]
    rule = match_rule(json.loads(found["cors_config"]), origin, method, requested)
    if rule is None:
        return _error(ServiceError("AccessForbidden", _NOT_ALLOWED, 403, fields=where), request_id)
    out = [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id)), *_rule_headers(rule, origin)]
    if requested:
        out.append(("Access-Control-Allow-Headers", ", ".join(requested)))
    out += [("Vary", PREFLIGHT_VARY), ("Content-Length", "0")]
    return HttpResponse(200, out, b"")


def add_headers(provider: CorsOperations, bucket: str, request: HttpRequest, response: HttpResponse) -> None:
    """Access-Control-* headers on an actual request from an origin a rule of the bucket admits."""
    rules = provider.cors_rules(bucket)
    if rules is None:
        return
    origin = request.headers["origin"]
    rule = match_rule(rules, origin, request.method, [])
    if rule is not None:
        for name, value in _rule_headers(rule, origin):
            response.set_header(name, value)
    response.set_header("Vary", PREFLIGHT_VARY)


def _error(error: ServiceError, request_id: str) -> HttpResponse:
    return serialize_error("rest-xml", service_model("s3"), None, error, request_id, method="OPTIONS")
