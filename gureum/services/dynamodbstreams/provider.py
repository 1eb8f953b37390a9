"""Amazon DynamoDB Streams: the read side of the streams DynamoDB tables write.

The records live with the DynamoDB service (dynamodb/streams.py), which writes them in the
same transaction as each item change; this service answers the dynamodbstreams API by
asking the DynamoDB provider.
"""

from __future__ import annotations

from gureum.context import RequestContext
from gureum.services.base import BaseProvider


class Provider(BaseProvider):
    service_name = "dynamodbstreams"

    @property
    def _dynamodb(self):
        return self.env.provider("dynamodb")

    def list_streams(self, ctx: RequestContext, request: dict) -> dict:
        return self._dynamodb.stream_list_streams(ctx, request)

    def describe_stream(self, ctx: RequestContext, request: dict) -> dict:
        return self._dynamodb.stream_describe_stream(ctx, request)

    def get_shard_iterator(self, ctx: RequestContext, request: dict) -> dict:
        return self._dynamodb.stream_get_shard_iterator(ctx, request)

    def get_records(self, ctx: RequestContext, request: dict) -> dict:
        return self._dynamodb.stream_get_records(ctx, request)
