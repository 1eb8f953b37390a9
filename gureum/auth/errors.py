"""Authentication errors, and the exact error each AWS service family answers for them.

The same failure reads differently per service: S3 has its own codes and texts, services on
the query protocol (and the JSON ones that are "awsQueryCompatible") answer like IAM/STS,
JSON services add "Exception" to the code and use 400, REST-JSON services use 403, and EC2
has its own. `error_for` maps a failure `kind` to (code, message, status) for a service.

Sources: AWS's "Common Errors" API reference pages (IncompleteSignature 400,
InvalidClientTokenId 403, MissingAuthenticationToken 403, ExpiredToken 403, RequestExpired
400), the S3 error-code list (InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed,
AuthorizationHeaderMalformed, AuthorizationQueryParametersError, XAmzContentSHA256Mismatch,
InvalidChunkSizeError, MalformedTrailerError, IncompleteBody, BadDigest), and error bodies
quoted from real responses in SDK issue threads (e.g. "Signature expired: ... is now earlier
than ... (... - 15 min.)", EC2's AuthFailure 401, S3's "Request has expired").
"""

from __future__ import annotations

from typing import Any

from gureum.protocol.errors import ServiceError

# JSON-protocol services whose model sets awsQueryCompatible: they answer auth failures with
# the query protocol's codes (e.g. SQS: InvalidClientTokenId 403). Botocore and signing names.
QUERY_COMPATIBLE = frozenset({"sqs", "cloudwatch", "monitoring"})
S3_NAMES = frozenset({"s3", "s3control"})

_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
_MISSING_TOKEN = "Request is missing Authentication Token"
_INCOMPLETE = "The request signature does not conform to AWS standards."
_INVALID_REGION = "Credential should be scoped to a valid region. "

# kind -> (code, message, status); a message may be replaced by a more precise one.
_S3: dict[str, tuple[str, str, int]] = {
    "unknown_key": ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403),
    "signature_mismatch": (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
    ),
    "skewed": ("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", 403),
    "expired": ("AccessDenied", "Request has expired", 403),
    "not_yet_valid": ("AccessDenied", "Request is not yet valid", 403),
    "incomplete": (
        "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the authorization header requires three components: "
        "Credential, SignedHeaders, and Signature.",
        400,
    ),
    "incomplete_query": (
        "AuthorizationQueryParametersError",
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        400,
    ),
    "missing_date": ("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403),
    "missing_token": ("AccessDenied", "Access Denied", 403),
    "expired_token": ("ExpiredToken", "The provided token has expired.", 400),
    "invalid_token": ("InvalidToken", "The provided token is malformed or otherwise invalid.", 400),
    "invalid_region": (
        "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the region '{region}' is wrong; expecting 'us-east-1'",
        400,
    ),
    "headers_not_signed": ("AccessDenied", "There were headers present in the request which were not signed", 403),
    "content_sha_mismatch": (
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
    ),
    "invalid_content_sha": (
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER "
        "or a valid sha256 value.",
        400,
    ),
    "streaming_not_allowed": ("InvalidRequest", "The value of x-amz-content-sha256 header is invalid.", 400),
    "missing_content_sha": ("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400),
    "unsupported": (
        "InvalidRequest",
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
        400,
    ),
    "multiple_auth": (
        "InvalidArgument",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
        "parameter or the Authorization header should be specified",
        400,
    ),
    # aws-chunked bodies (S3 only)
    "incomplete_body": ("IncompleteBody", "The request body terminated unexpectedly", 400),
    "length_mismatch": (
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
        400,
    ),
    "missing_length": ("MissingContentLength", "You must provide the Content-Length HTTP header.", 411),
    "invalid_chunk_size": ("InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes", 400),
    "malformed_trailer": (
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to our published schema.",
        400,
    ),
    "invalid_trailer_value": ("InvalidRequest", "Value for x-amz-checksum trailing header is invalid.", 400),
    "trailer_not_supported": ("InvalidRequest", "The value specified in the x-amz-trailer header is not supported", 400),
    "bad_digest": ("BadDigest", "The checksum you specified did not match the calculated checksum.", 400),
    "anonymous_streaming": (
        "InvalidRequest",
        "Anonymous requests don't support this x-amz-content-sha256 value. "
        "Please use UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER.",
        400,
    ),
}

_QUERY: dict[str, tuple[str, str, int]] = {
    "unknown_key": ("InvalidClientTokenId", _INVALID_TOKEN, 403),
    "invalid_token": ("InvalidClientTokenId", _INVALID_TOKEN, 403),
    "signature_mismatch": ("SignatureDoesNotMatch", _SIGNATURE_MISMATCH, 403),
    "skewed": ("SignatureDoesNotMatch", "Signature expired.", 403),
    "expired": ("SignatureDoesNotMatch", "Signature expired.", 403),
    "not_yet_valid": ("SignatureDoesNotMatch", "Signature not yet current.", 403),
    "incomplete": ("IncompleteSignature", _INCOMPLETE, 400),
    "missing_date": ("IncompleteSignature", _INCOMPLETE, 400),
    "missing_token": ("MissingAuthenticationToken", _MISSING_TOKEN, 403),
    "expired_token": ("ExpiredToken", _EXPIRED_TOKEN, 403),
    "invalid_region": ("SignatureDoesNotMatch", _INVALID_REGION, 403),
    "content_sha_mismatch": ("SignatureDoesNotMatch", _SIGNATURE_MISMATCH, 403),
}

_JSON: dict[str, tuple[str, str, int]] = {
    "unknown_key": ("UnrecognizedClientException", _INVALID_TOKEN, 400),
    "invalid_token": ("UnrecognizedClientException", _INVALID_TOKEN, 400),
    "signature_mismatch": ("InvalidSignatureException", _SIGNATURE_MISMATCH, 400),
    "skewed": ("InvalidSignatureException", "Signature expired.", 400),
    "expired": ("InvalidSignatureException", "Signature expired.", 400),
    "not_yet_valid": ("InvalidSignatureException", "Signature not yet current.", 400),
    "incomplete": ("IncompleteSignatureException", _INCOMPLETE, 400),
    "missing_date": ("IncompleteSignatureException", _INCOMPLETE, 400),
    "missing_token": ("MissingAuthenticationTokenException", _MISSING_TOKEN, 400),
    "expired_token": ("ExpiredTokenException", _EXPIRED_TOKEN, 400),
    "invalid_region": ("InvalidSignatureException", _INVALID_REGION, 400),
    "content_sha_mismatch": ("InvalidSignatureException", _SIGNATURE_MISMATCH, 400),
}

# REST-JSON services (Lambda, EFS, ...) sit behind a front end that answers 403.
_REST_JSON: dict[str, tuple[str, str, int]] = {
    kind: (code, "Missing Authentication Token" if kind == "missing_token" else message, 403)
    for kind, (code, message, _) in _JSON.items()
}

_EC2: dict[str, tuple[str, str, int]] = {
    "unknown_key": ("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
    "invalid_token": ("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
    "signature_mismatch": ("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
    "content_sha_mismatch": ("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
    "skewed": ("RequestExpired", "Request has expired.", 400),
    "expired": ("RequestExpired", "Request has expired.", 400),
    "not_yet_valid": ("RequestExpired", "Request has expired.", 400),
    "expired_token": ("RequestExpired", "Request has expired.", 400),
    "incomplete": ("IncompleteSignature", _INCOMPLETE, 400),
    "missing_date": ("IncompleteSignature", _INCOMPLETE, 400),
    "missing_token": ("MissingAuthenticationToken", _MISSING_TOKEN, 401),
    "invalid_region": ("AuthFailure", "AWS was not able to validate the provided access credentials", 401),
}

_FAMILIES = {"s3": _S3, "query": _QUERY, "json": _JSON, "rest-json": _REST_JSON, "ec2": _EC2}

def family(service_name: str, protocol: str | None = None) -> str:
    """Which error family a service belongs to: s3, ec2, query, json or rest-json.

    `service_name` is botocore's service name or a SigV4 signing name; `protocol` the protocol
    the request used (unknown before routing: then the query family stands in).
    """
    if service_name in S3_NAMES:
        return "s3"
    if service_name == "ec2" or protocol == "ec2":
        return "ec2"
    if service_name in QUERY_COMPATIBLE:
        return "query"
    if protocol in ("json", "smithy-rpc-v2-cbor"):
        return "json"
    if protocol == "rest-json":
        return "rest-json"
    return "query"


def error_for(kind: str, service_name: str, protocol: str | None = None) -> tuple[str, str, int]:
    """(code, message, status) AWS answers for an authentication failure of `kind`."""
    table = _FAMILIES[family(service_name, protocol)]
    found = table.get(kind)
    if found is None:
        # Kinds only S3 distinguishes (its header checks, aws-chunked framing) are a
        # malformed signature anywhere else.
        found = table["signature_mismatch" if kind in ("headers_not_signed",) else "incomplete"]
    return found


class AuthError(ServiceError):
    """A request failed authentication.

    `kind` names the failure independently of the service; `code`, `message` and `status`
    are those of the service family known when it was raised (the signing name of the
    credential scope; before routing the query family stands in) and the gateway re-maps
    them with `error_for(kind, service, protocol)`, keeping a precise `message`. `fields` are
    the extra elements S3 puts in such an error (StringToSign, RequestTime, ...).
    """

    def __init__(
        self,
        kind: str,
        message: str | None = None,
        *,
        service: str = "",
        protocol: str | None = None,
        fields: dict[str, Any] | None = None,
    ):
        code, default_message, status = error_for(kind, service, protocol)
        super().__init__(code, message or default_message, status, fields=fields)
        self.kind = kind
        self.service = service
        # Whether `message` is specific to this failure (kept when re-mapped) or the default.
        self.precise = message is not None
