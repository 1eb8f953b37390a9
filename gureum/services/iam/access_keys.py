"""IAM access keys: create, list, activate/deactivate, delete, and when each was last used.

A key's secret and status live in the one credentials table (CredentialStore), so the
gateway refuses an inactive or deleted key at once; IAM's own table records whose key it
is. Last use is noted in memory on every signed request and written to the store lazily.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from gureum import clock
from gureum.auth.accounts import root_principal
from gureum.auth.credentials import CredentialStore, new_access_key_id, new_secret_access_key
from gureum.context import Principal, RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.iam import credentials_schema
from gureum.services.iam.common import limit_exceeded, no_such_entity, now_epoch, paginate, to_datetime
from gureum.services.iam.validation import check_request
from gureum.store import Database

ROOT = ""  # the user_name under which an account root's credentials are kept
ACCESS_KEYS_PER_USER = 2
# A key's last use is written to the store at most this often (reads flush it at once).
LAST_USED_PERSIST_SECONDS = 60.0


@dataclass(frozen=True)
class Holder:
    """Whose credentials an operation acts on: an IAM user, or the account root."""

    account_id: str
    user_name: str  # ROOT for the account root
    arn: str
    user_id: str

    @property
    def is_root(self) -> bool:
        return self.user_name == ROOT


def credential_holder(ctx: RequestContext, db: Database, user_name: str | None) -> Holder:
    """The named user, or the caller itself when no UserName is given (as IAM does)."""
    account = ctx.account_id
    if user_name is None:
        caller = ctx.principal
        if caller.is_root:
            return Holder(account, ROOT, f"arn:aws:iam::{account}:root", account)
        if caller.kind != "user":
            raise ServiceError("ValidationError", "Must specify userName when calling with non-User credentials", 400)
        user_name = caller.name
    from gureum.services.iam.users import require_user

    row = require_user(db, account, user_name)
    return Holder(account, row["user_name"], row["arn"], row["user_id"])


def long_term_keys(credentials: CredentialStore, arn: str) -> list[tuple[Principal, str]]:
    """(principal, status) of a principal's access keys (not its session credentials), oldest first."""
    keys = [(p, status) for _, p, status in credentials.for_principal(arn) if p.session_token is None]
    return sorted(keys, key=lambda k: (k[0].issued_at.timestamp() if k[0].issued_at else 0.0, k[0].access_key_id))


# --- last use ----------------------------------------------------------------------------

_last_used: dict[str, tuple[float, str, str]] = {}  # key id -> (epoch, service, region)
_persisted_at: dict[str, float] = {}
_pending: set[str] = set()
_lock = threading.Lock()
_store: list[Database] = []  # the database last-use notes are written to, once IAM is loaded


def note_access_key_used(access_key_id: str, service_name: str, region: str) -> None:
    """Record that a request signed with this key reached a service (called per request)."""
    if access_key_id.startswith("ASIA"):
        return  # session credentials are not IAM access keys
    now = clock.epoch()
    _last_used[access_key_id] = (now, service_name, region)
    _pending.add(access_key_id)
    if _store and now - _persisted_at.get(access_key_id, 0.0) >= LAST_USED_PERSIST_SECONDS:
        flush_last_used(_store[0])


def flush_last_used(db: Database) -> None:
    """Write the last-use notes not yet in the store."""
    with _lock:
        keys = list(_pending)
        _pending.difference_update(keys)
    if not keys:
        return
    now = clock.epoch()
    with db.transaction():
        for key in keys:
            used_at, service, region = _last_used[key]
            db.execute(
                "INSERT INTO iam_access_key_last_used (access_key_id, used_at, service_name, region)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (access_key_id) DO UPDATE SET used_at = excluded.used_at,"
                " service_name = excluded.service_name, region = excluded.region",
                (key, used_at, service, region),
            )
            _persisted_at[key] = now


def last_used(db: Database, access_key_id: str) -> tuple[float, str, str] | None:
    """(epoch, service, region) of a key's last use, or None if it was never used."""
    noted = _last_used.get(access_key_id)
    if noted is not None:
        return noted
    row = db.query_one("SELECT * FROM iam_access_key_last_used WHERE access_key_id = ?", (access_key_id,))
    return (row["used_at"], row["service_name"], row["region"]) if row else None


# --- what the entity side needs ------------------------------------------------------------

def user_credentials_in_use(
    db: Database, credentials_store: CredentialStore, account_id: str, user_name: str
) -> list[str]:
    """What still blocks DeleteUser, in the order IAM asks for it to be removed."""
    blocking = []
    key = (account_id, user_name)
    if db.query_one("SELECT 1 FROM iam_login_profiles WHERE account_id = ? AND user_name = ?", key):
        blocking.append("login profile")
    if db.query_one("SELECT 1 FROM iam_access_keys WHERE account_id = ? AND user_name = ?", key):
        blocking.append("access keys")
    if db.query_one("SELECT 1 FROM iam_mfa_devices WHERE account_id = ? AND user_name = ?", key):
        blocking.append("MFA devices")
    return blocking


def rename_user_credentials(db: Database, account_id: str, old_name: str, new_name: str) -> None:
    """Follow an UpdateUser rename (inside the caller's transaction)."""
    for table in ("iam_access_keys", "iam_login_profiles", "iam_password_history", "iam_mfa_devices"):
        db.execute(
            f"UPDATE {table} SET user_name = ? WHERE account_id = ? AND user_name = ?",
            (new_name, account_id, old_name),
        )


# --- operations ---------------------------------------------------------------------------

def _key_not_found(access_key_id: str) -> ServiceError:
    return no_such_entity(f"The Access Key with id {access_key_id} cannot be found.")


class AccessKeyOperations:
    """CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed."""

    def __init__(self, env):
        super().__init__(env)
        env.db.migrate("iam-credentials", credentials_schema.MIGRATIONS)
        _store[:] = [env.db]

    def _owned_key(self, holder: Holder, access_key_id: str) -> Principal:
        found = self.env.credentials.lookup(access_key_id)
        if found is None or found[1].session_token is not None or found[1].arn != holder.arn:
            raise _key_not_found(access_key_id)
        return found[1]

    def create_access_key(self, ctx: RequestContext, request: dict) -> dict:
        check_request("CreateAccessKey", request)
        db = self.env.db
        with db.transaction():
            holder = credential_holder(ctx, db, request.get("UserName"))
            if len(long_term_keys(self.env.credentials, holder.arn)) >= ACCESS_KEYS_PER_USER:
                raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
            key_id = new_access_key_id(holder.account_id, "AKIA")
            secret = new_secret_access_key()
            created = now_epoch()
            db.execute(
                "INSERT INTO iam_access_keys (access_key_id, account_id, user_name, created_at) VALUES (?, ?, ?, ?)",
                (key_id, holder.account_id, holder.user_name, created),
            )
            if holder.is_root:
                principal = root_principal(holder.account_id, key_id)
            else:
                principal = Principal(
                    account_id=holder.account_id, kind="user", arn=holder.arn, user_id=holder.user_id,
                    access_key_id=key_id, name=holder.user_name,
                )
            self.env.credentials.add(principal, secret)
        key = {"AccessKeyId": key_id, "Status": "Active", "SecretAccessKey": secret, "CreateDate": to_datetime(created)}
        if not holder.is_root:
            key = {"UserName": holder.user_name, **key}
        return {"AccessKey": key}

    def list_access_keys(self, ctx: RequestContext, request: dict) -> dict:
        check_request("ListAccessKeys", request)
        db = self.env.db
        holder = credential_holder(ctx, db, request.get("UserName"))
        created = key_creation_times(db, holder)
        items = []
        for p, status in long_term_keys(self.env.credentials, holder.arn):
            item = {"AccessKeyId": p.access_key_id, "Status": status, "CreateDate": created_date(p, created)}
            if not holder.is_root:
                item = {"UserName": holder.user_name, **item}
            items.append(item)
        # Ordered by what the marker records, so a page resumes exactly where the last ended.
        order = lambda m: (m["CreateDate"].timestamp(), m["AccessKeyId"])  # noqa: E731
        return paginate(sorted(items, key=order), request, "AccessKeyMetadata", key=order)

    def update_access_key(self, ctx: RequestContext, request: dict) -> dict:
        check_request("UpdateAccessKey", request)
        status = request["Status"]
        if status not in ("Active", "Inactive"):
            raise ServiceError("InvalidInput", f"Invalid status {status}: must be Active or Inactive.", 400)
        holder = credential_holder(ctx, self.env.db, request.get("UserName"))
        key = self._owned_key(holder, request["AccessKeyId"])
        self.env.credentials.set_status(key.access_key_id, status)
        return {}

    def delete_access_key(self, ctx: RequestContext, request: dict) -> dict:
        check_request("DeleteAccessKey", request)
        db = self.env.db
        with db.transaction():
            holder = credential_holder(ctx, db, request.get("UserName"))
            key = self._owned_key(holder, request["AccessKeyId"])
            db.execute("DELETE FROM iam_access_keys WHERE access_key_id = ?", (key.access_key_id,))
            db.execute("DELETE FROM iam_access_key_last_used WHERE access_key_id = ?", (key.access_key_id,))
            self.env.credentials.delete(key.access_key_id)
        _last_used.pop(key.access_key_id, None)
        _pending.discard(key.access_key_id)
        return {}

    def get_access_key_last_used(self, ctx: RequestContext, request: dict) -> dict:
        check_request("GetAccessKeyLastUsed", request)
        key_id = request["AccessKeyId"]
        found = self.env.credentials.lookup(key_id)
        if found is None or found[1].session_token is not None or found[1].account_id != ctx.account_id:
            raise _key_not_found(key_id)
        owner = found[1]
        flush_last_used(self.env.db)
        used = last_used(self.env.db, key_id)
        if used is None:
            detail = {"ServiceName": "N/A", "Region": "N/A"}
        else:
            detail = {"LastUsedDate": to_datetime(float(int(used[0]))), "ServiceName": used[1], "Region": used[2]}
        return {"UserName": owner.name if owner.kind == "user" else "root", "AccessKeyLastUsed": detail}


def key_creation_times(db: Database, holder: Holder) -> dict[str, float]:
    rows = db.query(
        "SELECT access_key_id, created_at FROM iam_access_keys WHERE account_id = ? AND user_name = ?",
        (holder.account_id, holder.user_name),
    )
    return {r["access_key_id"]: r["created_at"] for r in rows}


def created_date(p: Principal, created: dict[str, float]):
    """When IAM created the key; keys IAM did not issue (an account's first root key) date from their issue."""
    epoch = created.get(p.access_key_id)
    if epoch is None:
        epoch = float(int(p.issued_at.timestamp())) if p.issued_at else now_epoch()
    return to_datetime(epoch)
