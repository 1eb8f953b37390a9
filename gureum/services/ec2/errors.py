"""EC2's error codes: `Invalid<Thing>.NotFound`, `.Malformed`, parameter errors."""

from __future__ import annotations

import re

from gureum.protocol.errors import ServiceError


def invalid_parameter_value(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message, 400)


def invalid_parameter_combination(message: str) -> ServiceError:
    return ServiceError("InvalidParameterCombination", message, 400)


def missing_parameter(message: str) -> ServiceError:
    return ServiceError("MissingParameter", message, 400)


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameter", message, 400)


def not_found(code: str, message: str) -> ServiceError:
    """`code` is the whole AWS code, e.g. InvalidVpcID.NotFound."""
    return ServiceError(code, message, 400)


def dependency_violation(message: str) -> ServiceError:
    return ServiceError("DependencyViolation", message, 400)


def incorrect_state(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, 400)


_ID = re.compile(r"^[a-z]+(-[a-z]+)*-[0-9a-f]{8}([0-9a-f]{9})?$")


def check_id(value: str, prefix: str, code: str) -> None:
    """Refuse an id that cannot be one of `prefix`'s (AWS: `<code>` "Invalid id: ...")."""
    if not (isinstance(value, str) and value.startswith(prefix + "-") and _ID.match(value)):
        raise ServiceError(code, f'Invalid id: "{value}" (expecting "{prefix}-...")', 400)
