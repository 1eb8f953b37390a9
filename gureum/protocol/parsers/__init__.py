"""Request parsers: an HttpRequest and an OperationModel in, the operation's parameters out.

Interface (one module per protocol, all driven by the botocore model only):

    parse_request(protocol, operation, request, uri_params) -> dict

`protocol` is one of "query", "ec2", "json", "rest-json", "rest-xml", "smithy-rpc-v2-cbor".
The result uses the input shape's member names and Python types the way botocore's client
accepts them (str, int, float, bool, bytes for blobs, datetime for timestamps, lists,
dicts); a streaming blob payload is the request's BodyStream. Bad input raises
ServiceError with the protocol's error code.
"""

from __future__ import annotations

from typing import Callable

from botocore.model import OperationModel

from gureum.protocol.http import HttpRequest
from gureum.protocol.parsers import cbor, ec2, json, query, rest_json, rest_xml

PARSERS: dict[str, Callable[[OperationModel, HttpRequest, dict[str, str]], dict]] = {
    "query": query.parse,
    "ec2": ec2.parse,
    "json": json.parse,
    "rest-json": rest_json.parse,
    "rest-xml": rest_xml.parse,
    "smithy-rpc-v2-cbor": cbor.parse,
}


def parse_request(protocol: str, operation: OperationModel, request: HttpRequest, uri_params: dict[str, str]) -> dict:
    return PARSERS[protocol](operation, request, uri_params)
