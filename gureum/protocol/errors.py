"""Errors a provider or the pipeline raises; serializers turn them into each protocol's shape."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An AWS error response.

    `code` is the AWS error code (e.g. "NoSuchBucket"). `status` is the HTTP status; when
    None the serializer takes it from the error shape in the service model (its
    `error.httpStatusCode`), else 400. `sender_fault` picks "Sender"/"Receiver" in query
    protocol errors. `fields` are extra members of the error shape (S3's BucketName, DynamoDB's
    CancellationReasons, ...) serialized alongside Code and Message.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        status: int | None = None,
        *,
        sender_fault: bool = True,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields = fields or {}
        self.headers = headers or {}


class NotImplementedOperation(ServiceError):
    """An operation gureum does not implement yet. Never a fake success."""

    def __init__(self, service: str, operation: str):
        super().__init__(
            "NotImplemented",
            f"The operation {operation} of service {service} is not implemented by gureum yet.",
            501,
            sender_fault=False,
        )


class InternalFailure(ServiceError):
    def __init__(self, message: str = "We encountered an internal error. Please try again."):
        super().__init__("InternalFailure", message, 500, sender_fault=False)
