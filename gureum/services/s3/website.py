"""S3 static website hosting: the bucket's website configuration and the website endpoint.

The endpoint (`BUCKET.s3-website.REGION.localhost`, or `-REGION`) answers unsigned GET and
HEAD as AWS's does: every read is an anonymous s3:GetObject decided by the policy engine,
directories serve the index document, errors are HTML pages (or the custom error document),
and redirects come from the configuration, routing rules or an object's
x-amz-website-redirect-location.
"""

from __future__ import annotations

import inspect
import json
import logging
from email.utils import parsedate_to_datetime
from html import escape
from typing import Callable
from urllib.parse import quote, unquote

from gureum.context import ANONYMOUS, RequestContext
from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest, HttpResponse
from gureum.protocol.model import service_model
from gureum.protocol.serializers import serialize_response
from gureum.protocol.serializers.s3 import host_id

# Bucket columns of this package's own migration component ("s3-web"); CORS shares it.
WEB_MIGRATIONS = [
    """
    ALTER TABLE s3_buckets ADD COLUMN website_config TEXT;
    ALTER TABLE s3_buckets ADD COLUMN cors_config TEXT
    """
]
MAX_ROUTING_RULES = 50
_MALFORMED = ("MalformedXML", "The XML you provided was not well-formed or did not validate against our published "
              "schema")
_BAD_PROTOCOL = ("Invalid protocol, protocol can be http or https. If not defined the protocol will be selected "
                 "automatically.")
_TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           412: "Precondition Failed", 416: "Requested Range Not Satisfiable", 500: "Internal Server Error"}
_CONDITION_HEADERS = (("if-match", "IfMatch"), ("if-none-match", "IfNoneMatch"),
                      ("if-modified-since", "IfModifiedSince"), ("if-unmodified-since", "IfUnmodifiedSince"),
                      ("range", "Range"))

log = logging.getLogger("gureum.s3.website")

# allowed(operation, params) -> may an anonymous caller do this (the gateway asks the policy engine)
Allowed = Callable[[str, dict], bool]


def _malformed() -> ServiceError:
    return ServiceError(*_MALFORMED, 400)


def _invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def _invalid_argument(message: str, name: str, value: str) -> ServiceError:
    return ServiceError("InvalidArgument", message, 400, fields={"ArgumentName": name, "ArgumentValue": value})


def ensure_web_columns(db) -> None:
    db.migrate("s3-web", WEB_MIGRATIONS)


def validate_website(config: dict) -> dict:
    """The configuration as stored, after S3's checks (MalformedXML, InvalidArgument, InvalidRequest)."""
    redirect_all = config.get("RedirectAllRequestsTo")
    if redirect_all is not None:
        if any(config.get(m) is not None for m in ("IndexDocument", "ErrorDocument", "RoutingRules")):
            raise _malformed()  # RedirectAllRequestsTo goes alone
        if not redirect_all.get("HostName"):
            raise _malformed()
        if redirect_all.get("Protocol") not in (None, "http", "https"):
            raise _invalid_request(_BAD_PROTOCOL)
        return {"RedirectAllRequestsTo": redirect_all}
    index = config.get("IndexDocument")
    if index is None or index.get("Suffix") is None:
        raise _invalid_argument("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
                                "IndexDocument", "null")
    suffix = index["Suffix"]
    if not suffix or "/" in suffix:
        raise _invalid_argument("The IndexDocument Suffix is not well formed", "IndexDocument", suffix)
    error_doc = config.get("ErrorDocument")
    if error_doc is not None and not error_doc.get("Key"):
        raise _invalid_argument("The ErrorDocument Key is not well formed", "ErrorDocument", error_doc.get("Key") or "")
    rules = config.get("RoutingRules")
    if rules is not None:
        if len(rules) > MAX_ROUTING_RULES:
            raise _invalid_request(f"{len(rules)} routing rules provided, the number of routing rules in a website "
                                   f"configuration is limited to {MAX_ROUTING_RULES}.")
        for rule in rules:
            _check_rule(rule)
    out = {"IndexDocument": {"Suffix": suffix}}
    if error_doc is not None:
        out["ErrorDocument"] = {"Key": error_doc["Key"]}
    if rules:
        out["RoutingRules"] = rules
    return out


def _check_rule(rule: dict) -> None:
    redirect = rule.get("Redirect")
    if not redirect or not any(v is not None for v in redirect.values()):
        raise _malformed()
    if redirect.get("ReplaceKeyWith") is not None and redirect.get("ReplaceKeyPrefixWith") is not None:
        raise _invalid_request("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
    code = redirect.get("HttpRedirectCode")
    if code is not None:
        if not code.isdigit():
            raise _malformed()
        if not 301 <= int(code) <= 399:
            raise _invalid_request(f"The provided HTTP redirect code ({code}) is not valid. Valid codes are 3XX "
                                   "except 300.")
    if redirect.get("Protocol") not in (None, "http", "https"):
        raise _invalid_request(_BAD_PROTOCOL)
    condition = rule.get("Condition")
    if condition is not None:
        prefix, error_code = condition.get("KeyPrefixEquals"), condition.get("HttpErrorCodeReturnedEquals")
        if not prefix and error_code is None:
            raise _malformed()
        if error_code is not None:
            if not error_code.isdigit():
                raise _malformed()
            if not 400 <= int(error_code) <= 599:
                raise _invalid_request(f"The provided HTTP error code ({error_code}) is not valid. Valid codes are "
                                       "4XX or 5XX.")


def _no_website(bucket: str) -> ServiceError:
    return ServiceError("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration",
                        404, fields={"BucketName": bucket})


class WebsiteOperations:
    """Put/Get/DeleteBucketWebsite, mixed into the S3 provider."""

    def __init__(self, env):
        super().__init__(env)
        ensure_web_columns(env.db)

    def put_bucket_website(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        config = validate_website(request.get("WebsiteConfiguration") or {})
        self._set_bucket(row["name"], website_config=json.dumps(config))
        return {}

    def get_bucket_website(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        if not row["website_config"]:
            raise _no_website(row["name"])
        return json.loads(row["website_config"])

    def delete_bucket_website(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        self._set_bucket(row["name"], website_config=None)
        return {}


# --- the website endpoint ----------------------------------------------------------------


class _Failure(Exception):
    """An error the website endpoint answers as an HTML page (or the error document)."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 headers: dict | None = None):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}
        self.headers = headers or {}

    @classmethod
    def of(cls, error: ServiceError) -> "_Failure":
        return cls(error.status or 400, error.code, error.message, error.fields, error.headers)


def _access_denied() -> _Failure:
    return _Failure(403, "AccessDenied", "Access Denied")


def error_page(failure: _Failure, request_id: str, document_error: _Failure | None = None) -> bytes:
    """AWS's website error page: the error's facts as a list, HTML not XML."""
    title = f"{failure.status} {_TITLES.get(failure.status, 'Error')}"
    lines = ["<html>", f"<head><title>{title}</title></head>", "<body>", f"<h1>{title}</h1>", "<ul>",
             f"<li>Code: {escape(failure.code)}</li>", f"<li>Message: {escape(failure.message)}</li>"]
    lines += [f"<li>{escape(k)}: {escape(str(v))}</li>" for k, v in failure.fields.items()]
    lines += [f"<li>RequestId: {request_id}</li>", f"<li>HostId: {host_id(request_id)}</li>", "</ul>"]
    if document_error is not None:
        lines += ["<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>", "<ul>",
                  f"<li>Code: {escape(document_error.code)}</li>",
                  f"<li>Message: {escape(document_error.message)}</li>"]
        lines += [f"<li>{escape(k)}: {escape(str(v))}</li>" for k, v in document_error.fields.items()]
        lines.append("</ul>")
    lines += ["<hr/>", "</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")


def _id_headers(request_id: str) -> list[tuple[str, str]]:
    return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id))]


def _redirect(status: int, location: str, request_id: str) -> HttpResponse:
    return HttpResponse(status, [*_id_headers(request_id), ("Location", location), ("Content-Length", "0")], b"")


class WebsiteRequest:
    """One request to a bucket's website endpoint."""

    def __init__(self, provider, request: HttpRequest, bucket: str, region: str, request_id: str,
                 allowed: Allowed, source_ip: str = "127.0.0.1"):
        self.provider = provider
        self.request = request
        self.bucket = bucket
        self.region = region
        self.request_id = request_id
        self.allowed = allowed
        self.ctx = RequestContext(request_id=request_id, service="s3", region=region, operation="GetObject",
                                  protocol="rest-xml", principal=ANONYMOUS, source_ip=source_ip, request=request)

    async def answer(self) -> HttpResponse:
        config = None
        try:
            if self.request.method not in ("GET", "HEAD"):
                raise _Failure(405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                               {"Method": self.request.method, "ResourceType": "OBJECT"})
            try:
                row = self.provider._bucket(self.bucket)
            except ServiceError as e:
                raise _Failure.of(e) from None
            if row["region"] != self.region:
                raise _Failure(400, "IncorrectEndpoint", "The specified bucket exists in another region. Please "
                               "direct requests to the specified endpoint.", {"BucketName": self.bucket})
            if not row["website_config"]:
                raise _Failure.of(_no_website(self.bucket))
            config = json.loads(row["website_config"])
            return await self._serve(config)
        except _Failure as failure:
            return await self._error(failure, config)

    async def _serve(self, config: dict) -> HttpResponse:
        path = self.request.path.split("?", 1)[0]
        redirect_all = config.get("RedirectAllRequestsTo")
        if redirect_all is not None:
            query = f"?{self.request.query_string}" if self.request.query_string else ""
            return _redirect(301, f"{redirect_all.get('Protocol') or 'http'}://{redirect_all['HostName']}{path}{query}",
                             self.request_id)
        self.requested = unquote(path[1:])
        rule = self._rule(config, self.requested, None)
        if rule is not None:
            return self._rule_redirect(rule, self.requested)
        suffix = config["IndexDocument"]["Suffix"]
        key = self.requested + suffix if self.requested == "" or self.requested.endswith("/") else self.requested
        try:
            row = self.provider._object(self.bucket, key)
        except ServiceError as e:
            if e.code != "NoSuchKey":
                raise _Failure.of(e) from None
            if key == self.requested and self._exists(f"{key}/{suffix}"):
                # A "directory" asked for without its slash.
                return _redirect(302, "/" + quote(f"{key}/"), self.request_id)
            if not (self.allowed("GetObject", {"Bucket": self.bucket, "Key": key})
                    and self.allowed("ListObjects", {"Bucket": self.bucket})):
                raise _access_denied() from None  # without s3:ListBucket a missing key is a 403
            raise _Failure(404, "NoSuchKey", "The specified key does not exist.", {"Key": key}) from None
        if not self.allowed("GetObject", {"Bucket": self.bucket, "Key": key}):
            raise _access_denied()
        location = json.loads(row["headers"]).get("WebsiteRedirectLocation")
        if location:
            return _redirect(301, location, self.request_id)
        return await self._object(key, conditional=True)

    def _exists(self, key: str) -> bool:
        try:
            self.provider._object(self.bucket, key)
        except ServiceError:
            return False
        return True

    async def _object(self, key: str, conditional: bool) -> HttpResponse:
        params: dict = {"Bucket": self.bucket, "Key": key}
        if conditional:
            for header, member in _CONDITION_HEADERS:
                value = self.request.headers.get(header)
                if value is None:
                    continue
                if member.endswith("Since"):
                    try:
                        params[member] = parsedate_to_datetime(value)
                    except (TypeError, ValueError):
                        continue
                else:
                    params[member] = value
        try:
            output = self.provider.get_object(self.ctx, params)
            if inspect.isawaitable(output):
                output = await output
        except ServiceError as e:
            if e.code == "NotModified":
                return HttpResponse(304, [*_id_headers(self.request_id), *e.headers.items()], b"")
            raise _Failure.of(e) from None
        operation = service_model("s3").operation_model("GetObject")
        return serialize_response("rest-xml", operation, output, self.request_id, method=self.request.method)

    @staticmethod
    def _rule(config: dict, key: str, status: int | None) -> dict | None:
        """The first routing rule whose condition holds (an error code condition only after an error)."""
        for rule in config.get("RoutingRules") or []:
            condition = rule.get("Condition") or {}
            code = condition.get("HttpErrorCodeReturnedEquals")
            if code is not None and (status is None or int(code) != status):
                continue
            if code is None and status is not None:
                continue
            if key.startswith(condition.get("KeyPrefixEquals") or ""):
                return rule
        return None

    def _rule_redirect(self, rule: dict, key: str) -> HttpResponse:
        redirect = rule["Redirect"]
        prefix = (rule.get("Condition") or {}).get("KeyPrefixEquals") or ""
        if redirect.get("ReplaceKeyWith") is not None:
            key = redirect["ReplaceKeyWith"]
        elif redirect.get("ReplaceKeyPrefixWith") is not None:
            key = redirect["ReplaceKeyPrefixWith"] + key[len(prefix):]
        host = redirect.get("HostName") or self.request.host
        location = f"{redirect.get('Protocol') or 'http'}://{host}/{quote(key)}"
        return _redirect(int(redirect.get("HttpRedirectCode") or 301), location, self.request_id)

    async def _error(self, failure: _Failure, config: dict | None) -> HttpResponse:
        document_error = None
        if config is not None and failure.status in (403, 404) and "IndexDocument" in config:
            rule = self._rule(config, getattr(self, "requested", ""), failure.status)
            if rule is not None:
                return self._rule_redirect(rule, self.requested)
            error_key = (config.get("ErrorDocument") or {}).get("Key")
            if error_key:
                try:
                    if not self.allowed("GetObject", {"Bucket": self.bucket, "Key": error_key}):
                        raise _access_denied()
                    response = await self._object(error_key, conditional=False)
                    response.status = failure.status
                    return response
                except _Failure as e:
                    document_error = e
        headers = [*_id_headers(self.request_id), ("Content-Type", "text/html; charset=utf-8"),
                   ("x-amz-error-code", failure.code), ("x-amz-error-message", failure.message)]
        headers += [(f"x-amz-error-detail-{k}", quote(str(v), safe="/")) for k, v in failure.fields.items() if k == "Key"]
        headers += list(failure.headers.items())
        return HttpResponse(failure.status, headers, error_page(failure, self.request_id, document_error))


async def serve(provider, request: HttpRequest, bucket: str, region: str, request_id: str, allowed: Allowed,
                source_ip: str = "127.0.0.1") -> HttpResponse:
    """Answer a request to BUCKET's website endpoint."""
    try:
        return await WebsiteRequest(provider, request, bucket, region, request_id, allowed, source_ip).answer()
    except Exception:
        log.exception("internal error on the website endpoint of %s", bucket)
        failure = _Failure(500, "InternalError", "We encountered an internal error. Please try again.")
        return HttpResponse(500, [*_id_headers(request_id), ("Content-Type", "text/html; charset=utf-8")],
                            error_page(failure, request_id))
