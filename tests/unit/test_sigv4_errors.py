"""The error each service family answers for an authentication failure."""

from __future__ import annotations

import botocore.session
import pytest

from gureum.auth.errors import QUERY_COMPATIBLE, AuthError, error_for, family
from gureum.gateway.registry import SERVICES


@pytest.mark.parametrize("service,protocol,kind,code,status", [
    ("sts", "query", "unknown_key", "InvalidClientTokenId", 403),
    ("iam", "query", "unknown_key", "InvalidClientTokenId", 403),
    ("sqs", "json", "unknown_key", "InvalidClientTokenId", 403),
    ("dynamodb", "json", "unknown_key", "UnrecognizedClientException", 400),
    ("cloudwatch", "smithy-rpc-v2-cbor", "unknown_key", "InvalidClientTokenId", 403),
    ("shield", "smithy-rpc-v2-cbor", "unknown_key", "UnrecognizedClientException", 400),
    ("s3", "rest-xml", "unknown_key", "InvalidAccessKeyId", 403),
    ("ec2", "ec2", "unknown_key", "AuthFailure", 401),
    ("lambda", "rest-json", "unknown_key", "UnrecognizedClientException", 403),
    ("route53", "rest-xml", "unknown_key", "InvalidClientTokenId", 403),
    ("sts", "query", "signature_mismatch", "SignatureDoesNotMatch", 403),
    ("dynamodb", "json", "signature_mismatch", "InvalidSignatureException", 400),
    ("kms", "json", "signature_mismatch", "InvalidSignatureException", 400),
    ("s3", "rest-xml", "signature_mismatch", "SignatureDoesNotMatch", 403),
    ("lambda", "rest-json", "signature_mismatch", "InvalidSignatureException", 403),
    ("s3", "rest-xml", "skewed", "RequestTimeTooSkewed", 403),
    ("sts", "query", "skewed", "SignatureDoesNotMatch", 403),
    ("ec2", "ec2", "skewed", "RequestExpired", 400),
    ("dynamodb", "json", "missing_token", "MissingAuthenticationTokenException", 400),
    ("sts", "query", "missing_token", "MissingAuthenticationToken", 403),
    ("lambda", "rest-json", "missing_token", "MissingAuthenticationTokenException", 403),
    ("sts", "query", "expired_token", "ExpiredToken", 403),
    ("dynamodb", "json", "expired_token", "ExpiredTokenException", 400),
    ("s3", "rest-xml", "expired_token", "ExpiredToken", 400),
    ("s3", "rest-xml", "incomplete", "AuthorizationHeaderMalformed", 400),
    ("sts", "query", "incomplete", "IncompleteSignature", 400),
    ("dynamodb", "json", "incomplete", "IncompleteSignatureException", 400),
    ("s3", "rest-xml", "content_sha_mismatch", "XAmzContentSHA256Mismatch", 400),
    ("s3", "rest-xml", "expired", "AccessDenied", 403),
    ("sts", "query", "incomplete_query", "IncompleteSignature", 400),
    ("dynamodb", "json", "headers_not_signed", "InvalidSignatureException", 400),
])
def test_error_for(service, protocol, kind, code, status):
    got_code, message, got_status = error_for(kind, service, protocol)
    assert (got_code, got_status) == (code, status)
    assert message


def test_messages():
    assert error_for("unknown_key", "s3", "rest-xml")[1] == "The AWS Access Key Id you provided does not exist in our records."
    assert error_for("unknown_key", "sts", "query")[1] == "The security token included in the request is invalid."
    assert error_for("signature_mismatch", "s3")[1] == (
        "The request signature we calculated does not match the signature you provided. Check your key and signing method."
    )
    assert error_for("invalid_region", "s3")[1].format(region="moon-1").endswith("the region 'moon-1' is wrong; expecting 'us-east-1'")


def test_auth_error_is_a_service_error():
    error = AuthError("unknown_key", service="s3", fields={"AWSAccessKeyId": "AKID"})
    assert (error.code, error.status, error.kind, error.fields, error.precise) == (
        "InvalidAccessKeyId", 403, "unknown_key", {"AWSAccessKeyId": "AKID"}, False)
    assert AuthError("skewed", "Signature expired: x", service="sts").precise


def test_query_compatible_services_match_the_models():
    """JSON services that answer with query-protocol codes are those whose model says so."""
    session = botocore.session.get_session()
    for spec in SERVICES:
        metadata = session.get_service_model(spec.name).metadata
        compatible = "awsQueryCompatible" in metadata
        assert compatible == (spec.name in QUERY_COMPATIBLE), spec.name
        if compatible:
            assert spec.signing_name in QUERY_COMPATIBLE
            assert family(spec.name, metadata["protocol"]) == "query"
