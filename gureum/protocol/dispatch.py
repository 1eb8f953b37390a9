"""From an HttpRequest for a known service to (protocol, operation, params).

    parse(service_model, request) -> (protocol, OperationModel, params)

A service that lists several protocols (CloudWatch: smithy-rpc-v2-cbor, json, query) accepts
each; the request says which it speaks:
- `smithy-protocol: rpc-v2-cbor` -> smithy-rpc-v2-cbor, operation from the path
  `.../service/{ServiceName}/operation/{OperationName}`;
- an `X-Amz-Target: Prefix.Operation` header (or an application/x-amz-json-* body) -> json;
- a form-encoded body, or an `Action` query parameter -> query / ec2, operation from
  `Action` (and `Version` for query);
- otherwise the service's rest-json / rest-xml protocol, operation from the RestRouter.

The gateway can resolve first and parse later, to decide whether to stream the body:

    protocol, operation, uri_params = resolve(service_model, request)  # query needs the body
    if streaming_input(operation): request.body_stream = ...            # rest only
    params = parse_operation(protocol, operation, request, uri_params)

Requests for no operation get the answer the real service gives (see _unknown_*).
"""

from __future__ import annotations

from botocore.model import OperationModel, ServiceModel

from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest
from gureum.protocol.model import service_model
from gureum.protocol.parsers import parse_request
from gureum.protocol.parsers.compression import inflate
from gureum.protocol.parsers.query import form_params
from gureum.protocol.parsers.shapes import streaming_input
from gureum.protocol.rest_router import RestRouter

__all__ = [
    "parse",
    "resolve",
    "parse_operation",
    "detect_protocol",
    "streaming_input",
    "router",
    "no_route_error",
]

CBOR = "smithy-rpc-v2-cbor"
_QUERY_PROTOCOLS = ("query", "ec2")
_REST_PROTOCOLS = ("rest-json", "rest-xml")


class _Service:
    """What dispatch needs of one service model, computed once."""

    def __init__(self, service: ServiceModel):
        metadata = service.metadata
        self.model = service
        self.name = service.service_name
        self.protocols: tuple[str, ...] = tuple(metadata.get("protocols") or [metadata["protocol"]])
        self.query = next((p for p in self.protocols if p in _QUERY_PROTOCOLS), None)
        self.rest = next((p for p in self.protocols if p in _REST_PROTOCOLS), None)
        self.json = "json" in self.protocols
        self.cbor = CBOR in self.protocols
        self.operations = frozenset(service.operation_names)
        self.target_prefix = metadata.get("targetPrefix")
        self.api_version = metadata.get("apiVersion")
        self._router: RestRouter | None = None

    @property
    def router(self) -> RestRouter:
        if self._router is None:
            self._router = RestRouter(self.model)
        return self._router

    def operation(self, name: str) -> OperationModel:
        return self.model.operation_model(name)


_services: dict[ServiceModel, _Service] = {}


def _service(service: ServiceModel) -> _Service:
    info = _services.get(service)
    if info is None:
        info = _services[service] = _Service(service)
    return info


def router(service: ServiceModel) -> RestRouter:
    """The service's RestRouter (built on first use, then kept)."""
    return _service(service).router


def detect_protocol(service: ServiceModel, request: HttpRequest) -> str:
    """Which of the service's protocols the request speaks (reads headers and query only)."""
    info = _service(service)
    headers = request.headers
    if info.cbor and headers.get("smithy-protocol") == "rpc-v2-cbor":
        return CBOR
    content_type = headers.get("content-type", "")
    if info.json and ("x-amz-target" in headers or content_type.startswith("application/x-amz-json")):
        return "json"
    if info.query is not None and (
        content_type.startswith("application/x-www-form-urlencoded")
        or any(name == "Action" for name, _ in request.query)
    ):
        return info.query
    if info.rest is not None:
        return info.rest
    if info.cbor and content_type.startswith("application/cbor"):
        return CBOR
    return info.query or info.protocols[0]


def resolve(
    service: ServiceModel, request: HttpRequest, protocol: str | None = None
) -> tuple[str, OperationModel, dict[str, str]]:
    """(protocol, operation, URI labels). Query protocols read the (already read) body."""
    info = _service(service)
    protocol = protocol or detect_protocol(service, request)
    if protocol in _QUERY_PROTOCOLS:
        inflate(request)  # the Action may be inside a compressed body
        return protocol, _query_operation(info, protocol, request), {}
    if protocol == "json":
        return protocol, _json_operation(info, request), {}
    if protocol == CBOR:
        return protocol, _cbor_operation(info, request), {}
    matched = info.router.match(request.method, request.path, request.query_dict(), request.headers)
    if matched is None:
        raise _unknown_rest(info, request.method, request.path)
    return protocol, matched[0], matched[1]


def parse_operation(
    protocol: str, operation: OperationModel, request: HttpRequest, uri_params: dict[str, str]
) -> dict:
    """The operation's input parameters, as a botocore client would have passed them."""
    if operation.request_compression and request.body_stream is None:
        inflate(request)
    return parse_request(protocol, operation, request, uri_params)


def parse(service: ServiceModel, request: HttpRequest) -> tuple[str, OperationModel, dict]:
    protocol, operation, uri_params = resolve(service, request)
    return protocol, operation, parse_operation(protocol, operation, request, uri_params)


def _query_operation(info: _Service, protocol: str, request: HttpRequest) -> OperationModel:
    action = version = None
    for name, value in form_params(request):
        if name == "Action":
            action = value
        elif name == "Version":
            version = value
    if not action:
        raise ServiceError("MissingAction", "The request is missing an action or a required parameter.", 400)
    if protocol == "ec2":
        # EC2 serves every API version it ever published under the same actions.
        if action not in info.operations:
            raise ServiceError("InvalidAction", f"The action {action} is not valid for this web service.", 400)
        return info.operation(action)
    if action not in info.operations or version != info.api_version:
        raise ServiceError(
            "InvalidAction",
            f"Could not find operation {action} for version {version or 'NO_VERSION_SPECIFIED'}",
            400,
        )
    return info.operation(action)


def _json_operation(info: _Service, request: HttpRequest) -> OperationModel:
    target = request.headers.get("x-amz-target", "")
    prefix, _, name = target.rpartition(".")
    if prefix != info.target_prefix or name not in info.operations:
        # AWS's JSON services answer an unknown or missing target with this code and no message.
        raise ServiceError("UnknownOperationException", "", 400)
    return info.operation(name)


def _cbor_operation(info: _Service, request: HttpRequest) -> OperationModel:
    # The path ends in /service/{ServiceName}/operation/{OperationName}; anything may precede it.
    parts = request.path.rstrip("/").split("/")
    if len(parts) >= 5 and parts[-4] == "service" and parts[-2] == "operation":
        service_name, name = parts[-3], parts[-1]
        # The service is named by its shape name (without namespace); botocore sends the
        # target prefix, which for AWS services is that name.
        expected = (info.target_prefix or "").rpartition(".")[2]
        if name in info.operations and service_name.rpartition(".")[2] == expected:
            return info.operation(name)
    raise ServiceError("UnknownOperationException", "", 404)


def no_route_error(service_name: str, method: str, path: str) -> ServiceError:
    """The error for a rest request no operation of the service matches."""
    return _unknown_rest(_service(service_model(service_name)), method, path)


def _unknown_rest(info: _Service, method: str, path: str) -> ServiceError:
    if info.name == "s3":
        allowed = info.router.allowed_methods(path)
        if allowed:
            # S3 answers a method it does not support on a resource it knows with 405 and
            # names the method and the kind of resource.
            segments = [s for s in path.split("/") if s]
            resource = "SERVICE" if not segments else "BUCKET" if len(segments) == 1 else "OBJECT"
            return ServiceError(
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                405,
                fields={"Method": method, "ResourceType": resource},
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        return ServiceError("InvalidURI", "Couldn't parse the specified URI.", 400)
    # Other rest services answer a path/method they do not serve like an unknown operation.
    return ServiceError("UnknownOperationException", "", 404)
