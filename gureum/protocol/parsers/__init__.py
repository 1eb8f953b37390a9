"""Request parsers: an HttpRequest and an OperationModel in, the operation's parameters out.

Interface (one module per protocol, all driven by the botocore model only):

    parse_request(protocol, operation, request, uri_params) -> dict

`protocol` is one of "query", "ec2", "json", "rest-json", "rest-xml", "smithy-rpc-v2-cbor".
The result uses the input shape's member names and Python types the way botocore's client
accepts them (str, int, float, bool, bytes for blobs, datetime for timestamps, lists,
dicts); a streaming blob payload is the request's BodyStream. Bad input raises
ServiceError with the protocol's error code.
"""
