"""Which modeled error a ServiceError is, and the code, status and fault it goes out with.

A provider may name an error by its shape (`NoSuchEntityException`) or by its wire code
(`NoSuchEntity`); both find the shape. The wire code is the shape's modeled code (its
awsQueryError code, else its name). For awsQueryCompatible services (SQS, CloudWatch on
JSON/CBOR) the JSON `__type` is the shape name and the query code travels in the
`x-amzn-query-error` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gureum.protocol.errors import ServiceError

from .compile import ModelCache

# botocore's SQS model lacks the awsQueryError traits of AWS's own SQS model: the legacy
# codes (what clients compare Error.Code against) and their statuses.
_QUERY_ERRORS: dict[str, dict[str, tuple[str, int]]] = {
    "sqs": {
        "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
        "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
        "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
        "InvalidAddress": ("InvalidAddress", 404),
        "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
        "InvalidSecurity": ("InvalidSecurity", 403),
        "KmsAccessDenied": ("KMS.AccessDeniedException", 400),
        "KmsDisabled": ("KMS.DisabledException", 400),
        "KmsInvalidKeyUsage": ("KMS.InvalidKeyUsageException", 400),
        "KmsInvalidState": ("KMS.InvalidStateException", 400),
        "KmsNotFound": ("KMS.NotFoundException", 400),
        "KmsOptInRequired": ("KMS.OptInRequired", 403),
        "KmsThrottled": ("KMS.ThrottlingException", 400),
        "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
        "OverLimit": ("OverLimit", 403),
        "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
        "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
        "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
        "QueueNameExists": ("QueueAlreadyExists", 400),
        "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 404),
        "RequestThrottled": ("RequestThrottled", 403),
        "ResourceNotFoundException": ("ResourceNotFoundException", 404),
        "TooManyEntriesInBatchRequest": (
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            400,
        ),
        "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
    },
}


@dataclass(frozen=True)
class ModeledError:
    shape: Any
    code: str  # the modeled wire code: awsQueryError code, else the shape name
    status: int | None
    message_member: str | None  # "message" or "Message", as the shape spells it


@dataclass(frozen=True)
class ResolvedError:
    """A ServiceError as it goes on the wire."""

    code: str  # Code element / x-amzn-ErrorType / non-query-compatible __type
    type_name: str  # __type for awsQueryCompatible JSON/CBOR: the shape's name
    status: int
    sender_fault: bool
    shape: Any  # the error's StructureShape, or None when unmodeled
    message_member: str | None

    @property
    def fault(self) -> str:
        return "Sender" if self.sender_fault else "Receiver"


def _message_member(shape: Any) -> str | None:
    for name in shape.members:
        if name.lower() == "message":
            return name
    return None


def _build_table(service: Any) -> dict[str, ModeledError]:
    supplement = _QUERY_ERRORS.get(service.service_name, {})
    by_code: dict[str, ModeledError] = {}
    by_name: dict[str, ModeledError] = {}
    for shape in service.error_shapes:
        error_meta = shape.metadata.get("error") or {}
        extra = supplement.get(shape.name)
        code = error_meta.get("code") or (extra[0] if extra else shape.name)
        status = error_meta.get("httpStatusCode") or (extra[1] if extra else None)
        modeled = ModeledError(shape, code, status, _message_member(shape))
        by_code.setdefault(code, modeled)
        by_name[shape.name] = modeled
    # A shape's own name wins over another shape's code.
    by_code.update(by_name)
    return by_code


error_table = ModelCache(_build_table)


def resolve_error(service: Any, error: ServiceError) -> ResolvedError:
    modeled = error_table(service).get(error.code) if service is not None else None
    if modeled is None:
        status = error.status or 400
        return ResolvedError(
            error.code, error.code, status, error.sender_fault and status < 500, None, None
        )
    status = error.status or modeled.status or 400
    return ResolvedError(
        modeled.code,
        modeled.shape.name,
        status,
        error.sender_fault and status < 500,
        modeled.shape,
        modeled.message_member,
    )


def is_query_compatible(service: Any) -> bool:
    return "awsQueryCompatible" in service.metadata
