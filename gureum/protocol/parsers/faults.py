"""The error a service answers when a request does not parse.

AWS's JSON and CBOR services answer SerializationException; query services answer in the
Query API's common errors; rest services use an error shape of their own model when they
have one for a body that does not parse (chosen from each service's error shapes):
S3's MalformedXML and, for bad header or query values, InvalidArgument; Route 53's
InvalidInput; CloudFront's InvalidArgument; Lambda's InvalidRequestContentException;
EFS's BadRequest.
"""

from __future__ import annotations

from botocore.model import OperationModel

from gureum.protocol.errors import ServiceError
from gureum.protocol.parsers.values import InvalidValue, MissingMember

_DEFAULT_BODY_CODE = {
    "json": "SerializationException",
    "rest-json": "SerializationException",
    "smithy-rpc-v2-cbor": "SerializationException",
    "rest-xml": "MalformedXML",
    # A query string that does not decode, or a value of the wrong type (the Query API's
    # common errors; EC2 documents the same code for bad parameter values).
    "query": "InvalidParameterValue",
    "ec2": "InvalidParameterValue",
}

_SERVICE_BODY_CODE = {
    "s3": "MalformedXML",
    "route53": "InvalidInput",
    "cloudfront": "InvalidArgument",
    "lambda": "InvalidRequestContentException",
    "efs": "BadRequest",
}

# Values bound to the URI, query string or headers of a rest request.
_SERVICE_BINDING_CODE = {"s3": "InvalidArgument"}

S3_MALFORMED_XML = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)


def _service(operation: OperationModel) -> str:
    return operation.service_model.service_name


def body_error(protocol: str, operation: OperationModel, message: str) -> ServiceError:
    code = _SERVICE_BODY_CODE.get(_service(operation)) or _DEFAULT_BODY_CODE.get(protocol, "SerializationException")
    if code == "MalformedXML":
        message = S3_MALFORMED_XML
    return ServiceError(code, message, 400)


def binding_error(protocol: str, operation: OperationModel, error: InvalidValue) -> ServiceError:
    code = _SERVICE_BINDING_CODE.get(_service(operation))
    if code is None:
        return body_error(protocol, operation, error.describe())
    return ServiceError(code, error.describe(), 400)


def missing_error(protocol: str, operation: OperationModel, error: MissingMember) -> ServiceError:
    """A required member is absent: the validation error of the protocol's services.

    JSON, CBOR and query services (Coral) name the member as their validation does;
    EC2 answers MissingParameter; rest-xml services report the body as not validating.
    """
    if protocol == "ec2":
        return ServiceError("MissingParameter", f"The request must contain the parameter {error.path[-1]}", 400)
    if protocol == "rest-xml" or _service(operation) in _SERVICE_BODY_CODE:
        return body_error(protocol, operation, error.describe())
    path = ".".join(part[:1].lower() + part[1:] for part in error.path)
    code = "ValidationError" if protocol == "query" else "ValidationException"
    return ServiceError(
        code, f"1 validation error detected: Value null at '{path}' failed to satisfy constraint: "
        "Member must not be null", 400,
    )
