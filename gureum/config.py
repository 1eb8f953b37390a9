"""One settings object: command-line flags over GUREUM_* environment variables over defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ACCOUNT_ID = "000000000000"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "gureum"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = field(default_factory=_default_data_dir)
    ephemeral: bool = False
    log_level: str = "info"
    # The default account's root credentials; LocalStack-compatible "test"/"test" by default.
    root_access_key_id: str = "test"
    root_secret_access_key: str = "test"
    default_account_id: str = DEFAULT_ACCOUNT_ID
    default_region: str = "us-east-1"
    iam_enforcement: bool = True
    # Service-time seconds per wall-clock second for timers that count days (S3 lifecycle
    # rules, restores): 86400 makes a day pass in a second. The service clock still applies.
    time_scale: float = 1.0
    # A request body that stops arriving for this long is answered RequestTimeout (AWS: ~20 s).
    request_timeout_seconds: float = 20.0
    # Service seconds an EC2 instance spends pending before running, and stopping or
    # shutting-down before stopped or terminated.
    ec2_boot_seconds: float = 1.0
    ec2_stop_seconds: float = 1.0

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        s = cls()
        s.host = env.get("GUREUM_HOST", s.host)
        s.port = int(env.get("GUREUM_PORT", s.port))
        if env.get("GUREUM_DATA_DIR"):
            s.data_dir = Path(env["GUREUM_DATA_DIR"])
        s.ephemeral = _env_bool("GUREUM_EPHEMERAL", s.ephemeral)
        s.log_level = env.get("GUREUM_LOG_LEVEL", s.log_level)
        s.root_access_key_id = env.get("GUREUM_ROOT_ACCESS_KEY_ID", s.root_access_key_id)
        s.root_secret_access_key = env.get("GUREUM_ROOT_SECRET_ACCESS_KEY", s.root_secret_access_key)
        s.default_region = env.get("GUREUM_DEFAULT_REGION", s.default_region)
        s.iam_enforcement = _env_bool("GUREUM_IAM_ENFORCEMENT", s.iam_enforcement)
        s.time_scale = float(env.get("GUREUM_TIME_SCALE", s.time_scale))
        s.request_timeout_seconds = max(float(env.get("GUREUM_REQUEST_TIMEOUT_SECONDS", s.request_timeout_seconds)), 0.1)
        s.ec2_boot_seconds = max(float(env.get("GUREUM_EC2_BOOT_SECONDS", s.ec2_boot_seconds)), 0.0)
        s.ec2_stop_seconds = max(float(env.get("GUREUM_EC2_STOP_SECONDS", s.ec2_stop_seconds)), 0.0)
        for key, value in overrides.items():
            if value is not None:
                setattr(s, key, value)
        s.data_dir = Path(s.data_dir).expanduser()
        return s
