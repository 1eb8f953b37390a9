"""boto3 clients for the benchmark: root credentials, no retries, bounded timeouts."""

from __future__ import annotations

import os

import boto3
from botocore.config import Config

ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"

# The user's own AWS configuration must not change what is measured (retry mode, endpoints).
for _var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_var, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def make(endpoint: str, service: str, connect_timeout: float = 2.0, read_timeout: float = 10.0,
         credentials: tuple[str, str] = (ACCESS_KEY, SECRET_KEY)):
    """A client of `service` at `endpoint`; one per thread (clients are not shared across threads)."""
    session = boto3.session.Session(aws_access_key_id=credentials[0], aws_secret_access_key=credentials[1],
                                    region_name=REGION)
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=connect_timeout,
                    read_timeout=read_timeout, max_pool_connections=2)
    return session.client(service, endpoint_url=endpoint, config=config)
