"""IAM console passwords (login profiles) and the account password policy they obey.

Passwords are kept only as scrypt hashes with a random salt, and never appear in errors
or logs. Without an account password policy IAM applies its default rules: at least 8
characters mixing three of uppercase, lowercase, digits and symbols.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.iam.access_keys import ROOT, credential_holder
from gureum.services.iam.common import already_exists, no_such_entity, now_epoch, to_datetime
from gureum.services.iam.validation import check_request
from gureum.store import Database

# The symbols IAM counts as non-alphanumeric characters in passwords.
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")
DEFAULT_MINIMUM_LENGTH = 8
MAX_REUSE_PREVENTION = 24
_PASSWORD = re.compile(r"[\u0009\u000A\u000D\u0020-\u00FF]+")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


# --- hashing -----------------------------------------------------------------------------

def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def password_matches(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), dklen=32, **_SCRYPT)
    return hmac.compare_digest(candidate, base64.b64decode(digest))


# --- policy ------------------------------------------------------------------------------

def policy_violation(message: str = "Password does not conform to the account password policy.") -> ServiceError:
    return ServiceError("PasswordPolicyViolation", message, 400)


def check_password_shape(password: str | None, member: str) -> None:
    """The model's constraints, reported without echoing the (sensitive) value."""
    if password is None:
        return
    constraint = None
    if len(password) < 1:
        constraint = "Member must have length greater than or equal to 1"
    elif len(password) > 128:
        constraint = "Member must have length less than or equal to 128"
    elif not _PASSWORD.fullmatch(password):
        constraint = "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
    if constraint:
        raise ServiceError(
            "ValidationError", f"1 validation error detected: Value at '{member}' failed to satisfy constraint: {constraint}",
            400,
        )


def account_password_policy(db: Database, account_id: str) -> dict | None:
    from gureum.services.iam.account import password_policy

    return password_policy(db, account_id)


def check_password_policy(policy: dict | None, password: str, user_name: str) -> None:
    """PasswordPolicyViolation unless the password meets the account's policy (or IAM's default)."""
    kinds = {
        "upper": any("A" <= c <= "Z" for c in password),
        "lower": any("a" <= c <= "z" for c in password),
        "digit": any(c.isdigit() for c in password),
        "symbol": any(c in SYMBOLS for c in password),
    }
    if policy is None:
        if len(password) < DEFAULT_MINIMUM_LENGTH or sum(kinds.values()) < 3 or password.lower() == user_name.lower():
            raise policy_violation()
        return
    required = (
        ("RequireUppercaseCharacters", "upper"), ("RequireLowercaseCharacters", "lower"),
        ("RequireNumbers", "digit"), ("RequireSymbols", "symbol"),
    )
    if len(password) < policy.get("MinimumPasswordLength", DEFAULT_MINIMUM_LENGTH) or any(
        policy.get(flag) and not kinds[kind] for flag, kind in required
    ):
        raise policy_violation()


# --- storage -----------------------------------------------------------------------------

def login_profile_row(db: Database, account_id: str, user_name: str):
    return db.query_one(
        "SELECT * FROM iam_login_profiles WHERE account_id = ? AND user_name = ?", (account_id, user_name)
    )


def _require_profile(db: Database, account_id: str, user_name: str):
    row = login_profile_row(db, account_id, user_name)
    if row is None:
        raise no_such_entity(f"Login Profile for User {user_name} cannot be found.")
    return row


def _remember(db: Database, account_id: str, user_name: str, password_hash: str) -> None:
    """Keep the hashes of the latest passwords for PasswordReusePrevention."""
    row = db.query_one(
        "SELECT COALESCE(MAX(seq), 0) AS seq FROM iam_password_history WHERE account_id = ? AND user_name = ?",
        (account_id, user_name),
    )
    seq = row["seq"] + 1
    db.execute(
        "INSERT INTO iam_password_history (account_id, user_name, seq, password_hash) VALUES (?, ?, ?, ?)",
        (account_id, user_name, seq, password_hash),
    )
    db.execute(
        "DELETE FROM iam_password_history WHERE account_id = ? AND user_name = ? AND seq <= ?",
        (account_id, user_name, seq - MAX_REUSE_PREVENTION),
    )


def _set_password(db: Database, account_id: str, user_name: str, password: str, reset_required: bool | None) -> None:
    hashed = hash_password(password)
    changes = "password_hash = ?, password_changed_at = ?"
    params: list = [hashed, now_epoch()]
    if reset_required is not None:
        changes += ", reset_required = ?"
        params.append(int(reset_required))
    db.execute(
        f"UPDATE iam_login_profiles SET {changes} WHERE account_id = ? AND user_name = ?",
        (*params, account_id, user_name),
    )
    _remember(db, account_id, user_name, hashed)


def _profile_shape(row) -> dict:
    return {
        "UserName": row["user_name"],
        "CreateDate": to_datetime(row["created_at"]),
        "PasswordResetRequired": bool(row["reset_required"]),
    }


def _without_passwords(request: dict) -> dict:
    return {k: v for k, v in request.items() if k not in ("Password", "OldPassword", "NewPassword")}


class LoginProfileOperations:
    """Create/Get/Update/DeleteLoginProfile and ChangePassword."""

    def _profile_user(self, ctx: RequestContext, user_name: str | None) -> str:
        holder = credential_holder(ctx, self.env.db, user_name)
        if holder.user_name == ROOT:
            raise ServiceError("ValidationError", "Must specify userName when calling with non-User credentials", 400)
        return holder.user_name

    def create_login_profile(self, ctx: RequestContext, request: dict) -> dict:
        check_request("CreateLoginProfile", _without_passwords(request))
        password = request.get("Password")
        check_password_shape(password, "password")
        if password is None:
            raise ServiceError("ValidationError", "Password is required to create a login profile.", 400)
        db = self.env.db
        with db.transaction():
            user = self._profile_user(ctx, request.get("UserName"))
            if login_profile_row(db, ctx.account_id, user) is not None:
                raise already_exists(f"Login Profile for user {user} already exists.")
            check_password_policy(account_password_policy(db, ctx.account_id), password, user)
            now = now_epoch()
            hashed = hash_password(password)
            db.execute(
                "INSERT INTO iam_login_profiles (account_id, user_name, password_hash, created_at,"
                " password_changed_at, reset_required) VALUES (?, ?, ?, ?, ?, ?)",
                (ctx.account_id, user, hashed, now, now, int(bool(request.get("PasswordResetRequired")))),
            )
            db.execute("DELETE FROM iam_password_history WHERE account_id = ? AND user_name = ?", (ctx.account_id, user))
            _remember(db, ctx.account_id, user, hashed)
            row = login_profile_row(db, ctx.account_id, user)
        return {"LoginProfile": _profile_shape(row)}

    def get_login_profile(self, ctx: RequestContext, request: dict) -> dict:
        check_request("GetLoginProfile", request)
        user = self._profile_user(ctx, request.get("UserName"))
        return {"LoginProfile": _profile_shape(_require_profile(self.env.db, ctx.account_id, user))}

    def update_login_profile(self, ctx: RequestContext, request: dict) -> dict:
        check_request("UpdateLoginProfile", _without_passwords(request))
        password = request.get("Password")
        check_password_shape(password, "password")
        reset = request.get("PasswordResetRequired")
        db = self.env.db
        with db.transaction():
            user = self._profile_user(ctx, request["UserName"])
            _require_profile(db, ctx.account_id, user)
            if password is not None:
                check_password_policy(account_password_policy(db, ctx.account_id), password, user)
                _set_password(db, ctx.account_id, user, password, reset)
            elif reset is not None:
                db.execute(
                    "UPDATE iam_login_profiles SET reset_required = ? WHERE account_id = ? AND user_name = ?",
                    (int(reset), ctx.account_id, user),
                )
        return {}

    def delete_login_profile(self, ctx: RequestContext, request: dict) -> dict:
        check_request("DeleteLoginProfile", request)
        db = self.env.db
        with db.transaction():
            user = self._profile_user(ctx, request.get("UserName"))
            _require_profile(db, ctx.account_id, user)
            db.execute("DELETE FROM iam_login_profiles WHERE account_id = ? AND user_name = ?", (ctx.account_id, user))
            db.execute("DELETE FROM iam_password_history WHERE account_id = ? AND user_name = ?", (ctx.account_id, user))
        return {}

    def change_password(self, ctx: RequestContext, request: dict) -> dict:
        old, new = request["OldPassword"], request["NewPassword"]
        check_password_shape(old, "oldPassword")
        check_password_shape(new, "newPassword")
        caller = ctx.principal
        if caller.kind != "user":
            raise ServiceError("InvalidUserType", "Only IAM Users can change their own password.", 400)
        db = self.env.db
        account = ctx.account_id
        with db.transaction():
            profile = _require_profile(db, account, caller.name)
            user = profile["user_name"]
            if not password_matches(old, profile["password_hash"]):
                raise ServiceError("InvalidUserType", "The old password was incorrect.", 400)
            policy = account_password_policy(db, account)
            check_password_policy(policy, new, user)
            reuse = (policy or {}).get("PasswordReusePrevention") or 0
            if reuse:
                recent = db.query(
                    "SELECT password_hash FROM iam_password_history WHERE account_id = ? AND user_name = ?"
                    " ORDER BY seq DESC LIMIT ?",
                    (account, user, reuse),
                )
                if any(password_matches(new, r["password_hash"]) for r in recent):
                    raise policy_violation("Policy constraint violation with password reuse prevention during password change.")
            _set_password(db, account, user, new, False)
        return {}

    def verify_console_password(self, account_id: str, user_name: str, password: str) -> bool:
        """A console sign-in: whether the password is the user's (and note the use)."""
        db = self.env.db
        row = login_profile_row(db, account_id, user_name)
        if row is None or not password_matches(password, row["password_hash"]):
            return False
        with db.transaction():
            db.execute(
                "UPDATE iam_login_profiles SET password_last_used = ? WHERE account_id = ? AND user_name = ?",
                (now_epoch(), account_id, user_name),
            )
        return True
