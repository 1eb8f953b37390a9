"""S3's requests that are not API operations: the website endpoint, CORS, browser POSTs.

A website request (`BUCKET.s3-website[.-]REGION.localhost`) and a CORS preflight (`OPTIONS`)
are answered before the API path; browser form uploads (an unsigned multipart POST to a
bucket) take the place of an operation; an actual request from an allowed origin gets the
bucket's CORS headers after it. All of them are authorized by the same policy engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote

from gureum.context import RequestContext
from gureum.gateway.body import close_if_unread
from gureum.gateway.registry import BY_NAME
from gureum.gateway.routing import Route, route, s3_address, website_host
from gureum.policy import PolicySources, authorize
from gureum.protocol import dispatch
from gureum.protocol.errors import ServiceError
from gureum.protocol.http import HttpRequest, HttpResponse
from gureum.services.s3 import cors, post, website

if TYPE_CHECKING:
    from gureum.gateway.runtime import Runtime

S3 = BY_NAME["s3"]


class S3Endpoints:
    def __init__(self, runtime: "Runtime", policy_sources: PolicySources):
        self.runtime = runtime
        self.policy_sources = policy_sources

    def _provider(self):
        return self.runtime.provider(S3)

    async def answer_outside_api(self, request: HttpRequest, request_id: str,
                                 client_ip: str) -> tuple[HttpResponse, dict] | None:
        """The answer to a website request or a preflight; None for everything else."""
        site = website_host(request.host)
        if site is not None:
            return await self._website(request, request_id, client_ip, *site)
        if request.method == "OPTIONS" and route(request, None, None, self.runtime.settings.default_region).service is S3:
            bucket, key = s3_address(request)
            return self._preflight(request, request_id, bucket, key), {"service": "s3", "operation": "Preflight"}
        return None

    @staticmethod
    def cors_bucket(request: HttpRequest) -> str | None:
        """The bucket whose CORS rules apply to a cross-origin request, if it is one."""
        return s3_address(request)[0] if "origin" in request.headers else None

    def add_cors_headers(self, bucket: str, request: HttpRequest, response: HttpResponse) -> None:
        cors.add_headers(self._provider(), bucket, request, response)

    def _preflight(self, request: HttpRequest, request_id: str, bucket: str | None, key: str) -> HttpResponse:
        return close_if_unread(cors.preflight(self._provider(), request, bucket, key, request_id), request)

    async def _website(self, request: HttpRequest, request_id: str, client_ip: str, bucket: str,
                       region: str) -> tuple[HttpResponse, dict]:
        outcome = {"service": "s3", "operation": "WebsiteRequest"}
        if request.method == "OPTIONS":
            return self._preflight(request, request_id, bucket, request.path.split("?", 1)[0][1:]), outcome

        def allowed(operation: str, params: dict) -> bool:
            ctx = RequestContext(request_id=request_id, service="s3", region=region, operation=operation,
                                 protocol="rest-xml", source_ip=client_ip, request=request)
            try:
                authorize(ctx, "s3", operation, params, self.policy_sources)
            except ServiceError:
                return False
            return True

        provider = self._provider()
        response = await website.serve(provider, request, bucket, region, request_id, allowed, client_ip)
        if "origin" in request.headers:
            cors.add_headers(provider, bucket, request, response)
        return close_if_unread(response, request), outcome

    @staticmethod
    def is_browser_post(request: HttpRequest) -> bool:
        return post.is_form_upload(request)

    async def browser_post(self, ctx: RequestContext, where: Route, request: HttpRequest) -> HttpResponse:
        path = request.path.split("?", 1)[0]
        bucket = where.virtual_bucket or unquote(path.strip("/").split("/", 1)[0])
        if not bucket or (not where.virtual_bucket and "/" in path.strip("/")):
            raise dispatch.no_route_error("s3", request.method, path)

        def allow(ctx: RequestContext, params: dict) -> None:
            authorize(ctx, "s3", "PutObject", params, self.policy_sources)

        return await post.browser_post(self._provider(), ctx, request, bucket, self.runtime.credentials.lookup, allow)
