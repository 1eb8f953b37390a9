"""Which service a raw request is for, and in which region.

Signals, strongest first: the SigV4 credential scope (Authorization header or
X-Amz-Credential), X-Amz-Target, the smithy RPC v2 path, the Host (virtual-hosted S3 and
`<endpoint-prefix>.<region>.localhost`), the query Action of unsigned STS calls, and S3 as
the default for anonymous requests. Virtual-hosted S3 requests are rewritten to path style
here so parsers see one form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from botocore.session import get_session

from gureum.gateway.registry import BY_ENDPOINT_PREFIX, BY_NAME, BY_SIGNING_NAME, BY_TARGET_PREFIX, ServiceSpec
from gureum.protocol.http import HttpRequest

S3 = BY_NAME["s3"]
S3CONTROL = BY_NAME["s3control"]
STS = BY_NAME["sts"]

# STS operations that are called without a signature.
UNSIGNED_STS_ACTIONS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})


@dataclass
class Route:
    service: ServiceSpec | None  # None: a signing name gureum does not know
    region: str
    signing_name: str = ""
    # Virtual-hosted S3: the bucket from the Host, put in front of the path after the
    # signature is verified (the signature covers the path as sent).
    virtual_bucket: str | None = None
    # The endpoint (Host or X-Amz-Target) names another service or region than the
    # credential scope: "service" or "region", refused by the endpoint's service.
    scope_mismatch: str | None = None

    def apply_path_style(self, request: HttpRequest) -> None:
        if self.virtual_bucket:
            request.path = "/" + self.virtual_bucket + ("" if request.path == "/" else request.path)


@lru_cache(maxsize=1)
def commercial_regions() -> frozenset[str]:
    """Every region of the aws partition, from botocore's endpoint data."""
    data = get_session().get_component("endpoint_resolver")._endpoint_data
    for partition in data["partitions"]:
        if partition["partition"] == "aws":
            return frozenset(partition["regions"])
    return frozenset()


def split_host(host: str) -> tuple[str, str]:
    """(hostname without port, lower-cased; port or '')."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1], host[end + 2 :] if end >= 0 else ""
    name, _, port = host.partition(":")
    return name, port


def route(request: HttpRequest, scope_service: str | None, scope_region: str | None, default_region: str) -> Route:
    headers = request.headers
    hostname, _ = split_host(request.host)
    host_service, host_region, bucket = _from_host(hostname)

    if scope_service is not None:
        region = scope_region or default_region
        target = headers.get("x-amz-target")
        claimed = (BY_TARGET_PREFIX.get(target.rpartition(".")[0]) if target else None) or host_service
        if claimed is not None and claimed.signing_name != scope_service:
            # AWS's endpoint decides the service; a key scoped to another one is refused there.
            return Route(claimed, host_region or region, scope_service, scope_mismatch="service")
        candidates = BY_SIGNING_NAME.get(scope_service)
        if not candidates:
            return Route(None, region, scope_service)
        if len(candidates) == 1:
            spec = candidates[0]
        else:
            spec = _disambiguate(candidates, request, host_service)
        if host_region and scope_region and host_region != scope_region:  # SigV2 has no region to check
            return Route(spec, host_region, scope_service, scope_mismatch="region")
        return Route(spec, region, scope_service, bucket if spec is S3 else None)

    target = headers.get("x-amz-target")
    if target:
        spec = BY_TARGET_PREFIX.get(target.rpartition(".")[0])
        if spec:
            return Route(spec, host_region or default_region)
    if request.path.startswith("/service/") and headers.get("smithy-protocol") == "rpc-v2-cbor":
        prefix = request.path.split("/")[2]
        if prefix in BY_TARGET_PREFIX:
            return Route(BY_TARGET_PREFIX[prefix], host_region or default_region)
    if host_service and host_service is not S3:
        return Route(host_service, host_region or default_region)
    if _query_action(request) in UNSIGNED_STS_ACTIONS:
        return Route(STS, host_region or default_region)
    return Route(S3, host_region or default_region, virtual_bucket=bucket)


def _disambiguate(candidates: tuple[ServiceSpec, ...], request: HttpRequest, host_service: ServiceSpec | None) -> ServiceSpec:
    """Services sharing a signing name: dynamodb/dynamodbstreams, s3/s3control."""
    target = request.headers.get("x-amz-target")
    if target:
        spec = BY_TARGET_PREFIX.get(target.rpartition(".")[0])
        if spec in candidates:
            return spec
    if S3CONTROL in candidates and (
        host_service is S3CONTROL or request.path.startswith("/v20180820/")
    ):
        return S3CONTROL
    if host_service in candidates:
        return host_service
    return candidates[0]


def _from_host(hostname: str) -> tuple[ServiceSpec | None, str | None, str | None]:
    """Service, region and S3 bucket named by a Host such as `b.s3.us-west-2.localhost`.

    Recognised forms end in `.localhost` or `.localhost.localstack.cloud`-style suffixes are
    not assumed; a bare `localhost`/IP names nothing.
    """
    if not hostname.endswith(".localhost"):
        return None, None, None
    labels = hostname[: -len(".localhost")].split(".")
    # BUCKET.s3[.REGION] (bucket names may contain dots, so look for the "s3" label from the right)
    for i in range(len(labels) - 1, -1, -1):
        if labels[i] == "s3":
            bucket = ".".join(labels[:i]) or None
            rest = labels[i + 1 :]
            region = rest[0] if rest and rest[0] in commercial_regions() else None
            return S3, region, bucket
    if len(labels) >= 2 and labels[0].isdigit() and labels[1] == "s3-control":
        return S3CONTROL, labels[2] if len(labels) > 2 else None, None
    region = labels[-1] if labels[-1] in commercial_regions() else None
    prefix = ".".join(labels[:-1] if region else labels)
    return BY_ENDPOINT_PREFIX.get(prefix), region, None


def _query_action(request: HttpRequest) -> str | None:
    for name, value in request.query:
        if name == "Action":
            return value
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        for pair in request.body.split(b"&"):
            if pair.startswith(b"Action="):
                return pair[7:].decode("ascii", "replace")
    return None


# --- S3 website endpoint and CORS (gureum/services/s3/website.py, cors.py) -----------------


def website_host(host: str) -> tuple[str, str] | None:
    """(bucket, region) of an S3 website endpoint Host, in both of AWS's spellings:
    `BUCKET.s3-website.REGION.localhost` and `BUCKET.s3-website-REGION.localhost`."""
    if "s3-website" not in host.lower():  # every request passes here: the cheap test first
        return None
    hostname, _ = split_host(host)
    if not hostname.endswith(".localhost"):
        return None
    labels = hostname[: -len(".localhost")].split(".")
    for i in range(len(labels) - 1, 0, -1):
        if labels[i] == "s3-website" and i == len(labels) - 2:
            region = labels[i + 1]
        elif labels[i].startswith("s3-website-") and i == len(labels) - 1:
            region = labels[i][len("s3-website-"):]
        else:
            continue
        if region in commercial_regions():
            return ".".join(labels[:i]), region
    return None


def s3_address(request: HttpRequest) -> tuple[str | None, str]:
    """(bucket, key) an S3 REST request addresses, virtual-hosted or path style; the key still encoded."""
    path = request.path.split("?", 1)[0]
    _, _, bucket = _from_host(split_host(request.host)[0])
    if bucket:
        return bucket, path[1:]
    bucket, _, key = path[1:].partition("/")
    return bucket or None, key
