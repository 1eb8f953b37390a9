"""DynamoDB's error shapes, with AWS's own wording."""

from __future__ import annotations

from gureum.protocol.errors import ServiceError


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def invalid_parameter(detail: str) -> ServiceError:
    return validation(f"One or more parameter values were invalid: {detail}")


def not_found(message: str = "Requested resource not found") -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 400)


def in_use(message: str) -> ServiceError:
    return ServiceError("ResourceInUseException", message, 400)


def conditional_check_failed(item: dict | None = None) -> ServiceError:
    fields = {"Item": item} if item is not None else None
    return ServiceError("ConditionalCheckFailedException", "The conditional request failed", 400, fields=fields)
