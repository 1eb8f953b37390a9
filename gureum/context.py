"""What a provider knows of a request: who is calling, where, and what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gureum.protocol.http import HttpRequest


@dataclass(frozen=True)
class Principal:
    """The identity an access key names.

    kind is "root", "user", "assumed-role" or "federated-user"; session credentials of a
    root or user (GetSessionToken) keep the kind of their owner and set `session_token`.
    """

    account_id: str
    kind: str
    arn: str
    user_id: str
    access_key_id: str
    name: str = ""
    session_token: str | None = None
    expires_at: datetime | None = None
    mfa_authenticated: bool = False
    # For assumed roles: the role's ARN (the session's ARN is `arn`).
    role_arn: str | None = None
    session_name: str | None = None
    # The session policy, tags and source identity of an STS session, if any.
    session_policy: str | None = None
    session_tags: dict[str, str] = field(default_factory=dict)
    source_identity: str | None = None
    # The long-term credential a session was derived from (for chained roles and audits).
    source_arn: str | None = None
    # When the credential was issued (aws:MultiFactorAuthAge counts from here).
    issued_at: datetime | None = None

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    @property
    def is_session(self) -> bool:
        return self.session_token is not None


ANONYMOUS = Principal(account_id="", kind="anonymous", arn="*", user_id="anonymous", access_key_id="")


@dataclass
class RequestContext:
    request_id: str
    service: str
    region: str
    operation: str = ""
    protocol: str = ""
    principal: Principal = ANONYMOUS
    source_ip: str = "127.0.0.1"
    secure_transport: bool = False
    request: "HttpRequest | None" = None
    started_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # A success status other than the model's, for the few operations whose status varies
    # with the outcome (S3 RestoreObject: 202 for a new restore, 200 for an existing one).
    http_status: int | None = None

    @property
    def account_id(self) -> str:
        return self.principal.account_id
