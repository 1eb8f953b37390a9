"""botocore service models, loaded lazily and once per process."""

from __future__ import annotations

from functools import lru_cache

import botocore.loaders
import botocore.model
from botocore.model import OperationModel, ServiceModel

_loader = botocore.loaders.Loader()


@lru_cache(maxsize=None)
def service_model(name: str) -> ServiceModel:
    """The botocore ServiceModel for a service name such as "s3" or "dynamodb"."""
    data = _loader.load_service_model(name, "service-2")
    return ServiceModel(data, service_name=name)


@lru_cache(maxsize=None)
def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


def available_services() -> list[str]:
    return _loader.list_available_services("service-2")
