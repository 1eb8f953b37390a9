"""The path of one request: route, authenticate, parse, authorize, call, serialize."""

from __future__ import annotations

import inspect
import logging
from xml.sax.saxutils import escape
from datetime import datetime, timezone
from typing import Any

from botocore import xform_name
from botocore.model import OperationModel, ServiceModel

from gureum import clock
from gureum.auth import sigv4
from gureum.auth.chunked import decode_aws_chunked
from gureum.context import ANONYMOUS, Principal, RequestContext
from gureum.gateway import body as bodies
from gureum.gateway.body import ClientDisconnected, close_if_unread
from gureum.gateway.registry import BY_ENDPOINT_PREFIX, BY_NAME, ServiceSpec
from gureum.gateway.routing import Route, commercial_regions, route
from gureum.gateway.s3_endpoints import S3Endpoints
from gureum.gateway.runtime import Runtime
from gureum.policy import PolicySources, authorize
from gureum.protocol import dispatch
from gureum.protocol.errors import InternalFailure, NotImplementedOperation, ServiceError
from gureum.protocol.http import BodyStream, HttpRequest, HttpResponse
from gureum.protocol.model import service_model
from gureum.protocol.serializers import serialize_error, serialize_response
from gureum.services.iam.access_keys import note_access_key_used

log = logging.getLogger("gureum.gateway")

REST_PROTOCOLS = ("rest-xml", "rest-json")

# httptools reads header sections of any size; nothing a client sends needs more than this
# (S3 itself caps request headers at 8 KB, user metadata at 2 KB).
MAX_HEADER_BYTES = 64 * 1024


def _header_bytes(request: HttpRequest) -> int:
    return sum(len(name) + len(value) for name, value in request.headers.items())


class Pipeline:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.settings = runtime.settings
        self._methods: dict[tuple[str, str], str] = {}
        self.policy_sources = PolicySources(
            identity=lambda p: self._iam().identity_policies(p),
            boundary=lambda p: self._iam().permissions_boundary(p),
            principal_tags=lambda p: self._iam().principal_tags(p),
            resource_policy=lambda action, arn, caller: self._resource_hook(
                arn, "resource_policy", action, arn, caller),
            resource_account=lambda action, arn: self._resource_hook(arn, "resource_account", action, arn),
            enforce=runtime.settings.iam_enforcement,
        )
        self.s3 = S3Endpoints(runtime, self.policy_sources)

    def _iam(self):
        return self.runtime.provider_by_name("iam")

    def _resource_hook(self, resource_arn: str, hook: str, *args):
        """Ask the service owning an ARN (its provider's `hook` method, if it has one)."""
        parts = resource_arn.split(":", 3)
        if len(parts) < 3:
            return None
        spec = BY_ENDPOINT_PREFIX.get(parts[2]) or BY_NAME.get(parts[2])
        provider = self.runtime.provider(spec) if spec else None
        method = getattr(provider, hook, None)
        return method(*args) if method else None

    async def handle(self, request: HttpRequest, request_id: str, client_ip: str) -> tuple[HttpResponse, dict]:
        answered = await self.s3.answer_outside_api(request, request_id, client_ip)
        if answered is not None:
            return answered
        cors_bucket = self.s3.cors_bucket(request)  # before the path is rewritten to path style
        response, outcome = await self._handle(request, request_id, client_ip)
        if cors_bucket and outcome.get("service") == "s3":
            self.s3.add_cors_headers(cors_bucket, request, response)
        return response, outcome

    async def _handle(self, request: HttpRequest, request_id: str, client_ip: str) -> tuple[HttpResponse, dict]:
        ctx = RequestContext(request_id=request_id, service="", region="", source_ip=client_ip, request=request)
        outcome: dict[str, Any] = {"service": "", "operation": ""}
        model: ServiceModel | None = None
        operation: OperationModel | None = None
        try:
            try:
                signature, early_error = sigv4.parse_signature(request), None
            except sigv4.AuthError as e:
                signature, early_error = None, e  # answered once the service is known
            if signature is None and request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                request.body = await bodies.read_all(request.unread)
                request.unread = None
            where = route(
                request,
                signature.service if signature else None,
                signature.region if signature else None,
                self.settings.default_region,
            )
            if where.service is None:
                return _unknown_service(where.signing_name, request_id), outcome
            spec = where.service
            ctx.service = outcome["service"] = spec.name
            ctx.region = where.region
            model = service_model(spec.name)
            ctx.protocol = dispatch.detect_protocol(model, request)
            if _header_bytes(request) > MAX_HEADER_BYTES:
                raise ServiceError("RequestHeaderSectionTooLarge",
                                   "Your request header section exceeds the maximum allowed size.", 400)
            if early_error is not None:
                raise early_error
            if where.scope_mismatch is not None:
                raise _scope_mismatch(where, signature, spec)
            if where.region not in commercial_regions():
                code, message, status = sigv4.error_for("invalid_region", spec.name, ctx.protocol)
                raise ServiceError(code, message.format(region=where.region), status)
            if spec.name == "s3" and signature is None and self.s3.is_browser_post(request):
                outcome["operation"] = "PostObject"  # a browser upload (gureum/services/s3/post.py)
                return close_if_unread(await self.s3.browser_post(ctx, where, request), request), outcome

            operation, uri_params = self._find_rest_operation(spec, model, ctx.protocol, where, request)
            streaming = operation is not None and dispatch.streaming_input(operation)
            if not streaming and request.unread is not None:
                request.body = await bodies.read_all(request.unread)
                request.unread = None

            ctx.principal, verified = self._authenticate(request, signature, spec)
            if streaming:
                request.body_stream = _body_stream(request, verified)
            where.apply_path_style(request)

            if operation is not None:
                params = dispatch.parse_operation(ctx.protocol, operation, request, uri_params)
            else:
                ctx.protocol, operation, params = dispatch.parse(model, request)
            ctx.operation = outcome["operation"] = operation.name

            authorize(ctx, spec.name, operation.name, params, self.policy_sources)
            if ctx.protocol == "ec2" and params.get("DryRun") is True:
                raise ServiceError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)
            output = await self._call(spec, operation, ctx, params)
            response = serialize_response(ctx.protocol, operation, output, request_id, method=request.method)
            if ctx.http_status is not None:
                response.status = ctx.http_status
            return close_if_unread(response, request), outcome
        except ServiceError as error:
            if isinstance(error, sigv4.AuthError) and ctx.service:
                code, message, status = sigv4.remap(error, ctx.service, ctx.protocol)
                error = ServiceError(code, message, status, fields=error.fields)
            outcome["error"] = error.code
            if model is None:
                # Before any service is known (e.g. the body of an unsigned form POST timed out).
                return close_if_unread(_bare_error(error, request_id), request), outcome
            response = serialize_error(ctx.protocol, model, operation, error, request_id, method=request.method)
            return close_if_unread(response, request), outcome
        except ClientDisconnected:
            # Nobody is left to answer; not a fault of ours (the server drops the response).
            outcome["error"] = "ClientDisconnected"
            response = HttpResponse(400, [("Connection", "close")], b"")
            return response, outcome
        except Exception:
            log.exception("internal error in %s.%s", ctx.service, ctx.operation)
            outcome["error"] = "InternalFailure"
            if model is None:
                return _unknown_service(ctx.service, request_id), outcome
            return serialize_error(
                ctx.protocol, model, operation, InternalFailure(), request_id, method=request.method
            ), outcome

    def _find_rest_operation(
        self, spec: ServiceSpec, model: ServiceModel, protocol: str, where: Route, request: HttpRequest
    ) -> tuple[OperationModel | None, dict[str, str]]:
        """REST operations are known from method and path before the body is read."""
        if protocol not in REST_PROTOCOLS:
            return None, {}
        path = request.path
        if where.virtual_bucket:
            path = "/" + where.virtual_bucket + ("" if path == "/" else path)
        found = dispatch.router(model).match(request.method, path, request.query_dict(), request.headers)
        if found is None:
            raise dispatch.no_route_error(spec.name, request.method, path)
        return found

    def _authenticate(
        self, request: HttpRequest, signature: "sigv4.SignatureInfo | None", spec: ServiceSpec
    ) -> tuple[Principal, "sigv4.VerifiedSignature | None"]:
        """The principal the request's key names, and the verified signature (for chunk chains)."""
        if signature is None:
            if spec.name in ("s3", "sts"):
                return ANONYMOUS, None  # authorization decides what anonymous callers may do
            raise sigv4.AuthError("missing_token")
        found = self.runtime.credentials.lookup(signature.access_key)
        if found is None or found[2] != "Active":
            raise sigv4.AuthError("unknown_key")
        secret, principal, _ = found
        if principal.session_token is not None or signature.security_token:
            if signature.security_token != principal.session_token:
                # A token of another session (or on a long-term key): S3 says InvalidToken.
                raise sigv4.AuthError("invalid_token")
            if principal.expires_at is not None and principal.expires_at <= clock.now():
                raise sigv4.AuthError("expired_token")
        verified = sigv4.verify(request, signature, secret, datetime.now(timezone.utc))
        if principal.kind == "user" and principal.session_token is None:
            note_access_key_used(principal.access_key_id, spec.signing_name, signature.region)
        return principal, verified

    async def _call(self, spec: ServiceSpec, operation: OperationModel, ctx: RequestContext, params: dict) -> dict:
        provider = self.runtime.provider(spec)
        key = (spec.name, operation.name)
        method_name = self._methods.get(key)
        if method_name is None:
            method_name = self._methods[key] = xform_name(operation.name)
        method = getattr(provider, method_name, None) if provider is not None else None
        if method is None:
            if ctx.request is not None and ctx.request.body_stream is not None:
                # Read (and so verify) an upload before refusing it, as AWS would.
                async for _ in ctx.request.body_stream:
                    pass
            raise NotImplementedOperation(spec.name, operation.name)
        result = method(ctx, params)
        if inspect.isawaitable(result):
            result = await result
        return result


def _body_stream(request: HttpRequest, verified: "sigv4.VerifiedSignature | None") -> BodyStream:
    chunks = request.unread
    request.unread = None
    content_sha = request.headers.get("x-amz-content-sha256", "")
    length = request.headers.get("content-length")
    if verified is not None and len(content_sha) == 64:
        # A signed hash covers the body as sent, framing included.
        chunks = bodies.check_sha256(chunks, content_sha)
    if content_sha.startswith("STREAMING-") or "aws-chunked" in request.headers.get("content-encoding", ""):
        chunks = decode_aws_chunked(chunks, request=request, verified=verified)
        length = request.headers.get("x-amz-decoded-content-length")
    return BodyStream(chunks, int(length) if length and length.isdigit() else None)


def _scope_mismatch(where: Route, signature: "sigv4.SignatureInfo", spec: ServiceSpec) -> sigv4.AuthError:
    """The error of an endpoint (service or region) that the credential scope does not name."""
    if spec.signing_name == "s3":
        if where.scope_mismatch == "service":
            detail, fields = f'incorrect service "{signature.service}". This endpoint belongs to "s3".', None
        else:
            detail = f"the region '{signature.region}' is wrong; expecting '{where.region}'"
            fields = {"Region": where.region}
        if signature.presigned:
            return sigv4.AuthError("incomplete_query", f"Error parsing the X-Amz-Credential parameter; {detail}",
                                   service="s3", fields=fields)
        return sigv4.AuthError("incomplete", f"The authorization header is malformed; {detail}",
                               service="s3", fields=fields)
    if where.scope_mismatch == "service":
        return sigv4.AuthError("signature_mismatch", f"Credential should be scoped to correct service: "
                               f"'{spec.signing_name}'. ", service=spec.signing_name)
    return sigv4.AuthError("invalid_region", f"Credential should be scoped to a valid region, not "
                           f"'{signature.region}'. ", service=spec.signing_name)


def _bare_error(error: ServiceError, request_id: str) -> HttpResponse:
    """An error in the query protocols' XML shape, for requests no service has claimed yet."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return HttpResponse(error.status or 400, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body)


def _unknown_service(name: str, request_id: str) -> HttpResponse:
    return _bare_error(ServiceError("NotImplemented", f"The service {name or 'addressed'} is not available in gureum.",
                                    501), request_id)
