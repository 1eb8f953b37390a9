"""Response serializers: an operation's output dict in, an HttpResponse out.

Interface (one module per protocol, all driven by the botocore model only):

    serialize_response(protocol, operation, output, request_id) -> HttpResponse
    serialize_error(protocol, service, operation, error, request_id) -> HttpResponse

`output` uses the output shape's member names and Python values (str, int, float, bool,
bytes, datetime, list, dict; a streaming payload may be bytes or an async iterator of bytes).
`error` is a ServiceError; its status comes from the model's error shape when it has none.
`operation` may be None for errors raised before the operation was known.
"""
