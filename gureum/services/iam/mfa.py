"""IAM virtual MFA devices: TOTP seeds, QR codes, enabling, and checking codes for STS.

A device is created unassigned, then enabled for one user (or for the account root, as
arn:aws:iam::ACCOUNT:mfa/root-account-mfa-device) with two consecutive codes. Codes follow
RFC 6238 (30 s steps, 6 digits) against the wall clock, as the device in the user's hand
does; a step once accepted is never accepted again for that device.
"""

from __future__ import annotations

import base64
import io
import secrets
import time
from urllib.parse import quote

from gureum.context import Principal, RequestContext
from gureum.protocol.errors import ServiceError
from gureum.services.iam import tags
from gureum.services.iam.access_keys import ROOT, Holder, credential_holder
from gureum.services.iam.common import (
    already_exists,
    delete_conflict,
    limit_exceeded,
    no_such_entity,
    now_epoch,
    paginate,
    to_datetime,
)
from gureum.services.iam.validation import check_request
from gureum.store import Database

ROOT_DEVICE_NAME = "root-account-mfa-device"
ROOT_USER_NAME = "root"  # how IAM names the root in MFA listings
MFA_DEVICES_PER_USER = 8
STEP_SECONDS = 30
ISSUER = "Amazon Web Services"
# Steps of clock drift tolerated: signing in (STS), enabling, and resynchronizing a device.
VERIFY_DRIFT = 1
ENABLE_DRIFT = 2
RESYNC_DRIFT = 10
TAG_KIND = "mfa"


def serial_number(account_id: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:mfa{path}{name}"


def totp(seed: str, step: int) -> str:
    import pyotp

    return pyotp.TOTP(seed).generate_otp(step)


def current_step() -> int:
    return int(time.time()) // STEP_SECONDS


def consecutive_steps(seed: str, code1: str, code2: str, after_step: int, drift: int) -> int | None:
    """The step of code2 when code1 and code2 are the codes of two consecutive steps near now."""
    now = current_step()
    for step in range(now - drift, now + drift + 1):
        if step - 1 > after_step and totp(seed, step - 1) == code1 and totp(seed, step) == code2:
            return step
    return None


def qr_code_png(uri: str) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(uri, error="m", micro=False).save(out, kind="png", scale=4, border=4)
    return out.getvalue()


def _device_not_found(serial: str) -> ServiceError:
    return no_such_entity(f"MFA Device with serial number {serial} does not exist.")


def _invalid_codes() -> ServiceError:
    return ServiceError("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)


def device_row(db: Database, account_id: str, serial: str):
    return db.query_one(
        "SELECT * FROM iam_mfa_devices WHERE serial_number = ? AND account_id = ?", (serial, account_id)
    )


def _owned_by(row, holder: Holder) -> bool:
    if row is None or row["owner_kind"] is None:
        return False
    if holder.is_root:
        return row["owner_kind"] == "root"
    return row["owner_kind"] == "user" and row["user_name"].lower() == holder.user_name.lower()


def mfa_active(db: Database, account_id: str, user_name: str) -> bool:
    """Whether a user (ROOT for the root) has an MFA device enabled (the credential report)."""
    if user_name == ROOT:
        found = db.query_one(
            "SELECT 1 FROM iam_mfa_devices WHERE account_id = ? AND owner_kind = 'root'", (account_id,)
        )
    else:
        found = db.query_one(
            "SELECT 1 FROM iam_mfa_devices WHERE account_id = ? AND owner_kind = 'user' AND user_name = ?",
            (account_id, user_name),
        )
    return found is not None


class MfaOperations:
    """Virtual MFA devices, their assignment to users and the root, and their tags."""

    def verify_mfa_code(self, principal: Principal, serial_number: str, code: str) -> bool:
        """STS's check of SerialNumber + TokenCode for the calling user or root."""
        if not serial_number or not code or principal.kind not in ("user", "root"):
            return False
        db = self.env.db
        with db.transaction():
            row = device_row(db, principal.account_id, serial_number)
            holder = Holder(principal.account_id, ROOT if principal.is_root else principal.name, principal.arn, "")
            if not _owned_by(row, holder):
                return False
            now = current_step()
            for step in range(now - VERIFY_DRIFT, now + VERIFY_DRIFT + 1):
                if step > row["last_step"] and totp(row["seed"], step) == code:
                    db.execute(
                        "UPDATE iam_mfa_devices SET last_step = ? WHERE serial_number = ?", (step, row["serial_number"])
                    )
                    return True
        return False

    def create_virtual_mfa_device(self, ctx: RequestContext, request: dict) -> dict:
        check_request("CreateVirtualMFADevice", request)
        db = self.env.db
        account = ctx.account_id
        path = request.get("Path", "/")
        name = request["VirtualMFADeviceName"]
        serial = serial_number(account, path, name)
        seed = base64.b32encode(secrets.token_bytes(20)).decode("ascii")
        label = f"{self._account_label(account)}:{name}"
        uri = f"otpauth://totp/{quote(label, safe=':@')}?secret={seed}&issuer={quote(ISSUER)}"
        png = qr_code_png(uri)
        with db.transaction():
            if db.query_one("SELECT 1 FROM iam_mfa_devices WHERE serial_number = ?", (serial,)):
                raise already_exists("MFADevice entity at the same path and name already exists.")
            db.execute(
                "INSERT INTO iam_mfa_devices (serial_number, account_id, path, device_name, seed, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (serial, account, path, name, seed, now_epoch()),
            )
            if request.get("Tags"):
                tags.add_tags(db, account, TAG_KIND, serial, request["Tags"])
        device = {"SerialNumber": serial, "Base32StringSeed": seed.encode("ascii"), "QRCodePNG": png}
        if request.get("Tags"):
            device["Tags"] = tags.tag_list(db, account, TAG_KIND, serial)
        return {"VirtualMFADevice": device}

    def _account_label(self, account_id: str) -> str:
        """The account alias when it has one, else its id (the name shown in authenticator apps)."""
        from gureum.services.iam.account import account_alias

        return account_alias(self.env.db, self.env.accounts, account_id) or account_id

    def _mfa_holder(self, ctx: RequestContext, user_name: str | None, serial: str) -> Holder:
        """The device's owner-to-be: the root for its reserved device name, else the named user."""
        caller = ctx.principal
        if caller.is_root and serial == serial_number(ctx.account_id, "/", ROOT_DEVICE_NAME):
            return credential_holder(ctx, self.env.db, None)
        return credential_holder(ctx, self.env.db, user_name)

    def enable_mfa_device(self, ctx: RequestContext, request: dict) -> dict:
        check_request("EnableMFADevice", request)
        db = self.env.db
        serial = request["SerialNumber"]
        with db.transaction():
            holder = self._mfa_holder(ctx, request["UserName"], serial)
            row = device_row(db, ctx.account_id, serial)
            if row is None:
                raise _device_not_found(serial)
            if row["owner_kind"] is not None:
                raise already_exists("MFA Device is already in use.")
            owned = db.query_one(
                "SELECT COUNT(*) AS n FROM iam_mfa_devices WHERE account_id = ? AND owner_kind = ?"
                " AND COALESCE(user_name, '') = ?",
                (ctx.account_id, "root" if holder.is_root else "user", holder.user_name),
            )["n"]
            if owned >= MFA_DEVICES_PER_USER:
                raise limit_exceeded(f"Cannot exceed quota for MfaDevicesPerUser: {MFA_DEVICES_PER_USER}")
            step = consecutive_steps(
                row["seed"], request["AuthenticationCode1"], request["AuthenticationCode2"], row["last_step"], ENABLE_DRIFT
            )
            if step is None:
                raise _invalid_codes()
            db.execute(
                "UPDATE iam_mfa_devices SET owner_kind = ?, user_name = ?, enabled_at = ?, last_step = ?"
                " WHERE serial_number = ?",
                ("root" if holder.is_root else "user", None if holder.is_root else holder.user_name, now_epoch(),
                 step, row["serial_number"]),
            )
        return {}

    def deactivate_mfa_device(self, ctx: RequestContext, request: dict) -> dict:
        check_request("DeactivateMFADevice", request)
        db = self.env.db
        serial = request["SerialNumber"]
        with db.transaction():
            holder = self._mfa_holder(ctx, request.get("UserName"), serial)
            row = device_row(db, ctx.account_id, serial)
            if not _owned_by(row, holder):
                raise _device_not_found(serial)
            db.execute(
                "UPDATE iam_mfa_devices SET owner_kind = NULL, user_name = NULL, enabled_at = NULL"
                " WHERE serial_number = ?",
                (row["serial_number"],),
            )
        return {}

    def resync_mfa_device(self, ctx: RequestContext, request: dict) -> dict:
        check_request("ResyncMFADevice", request)
        db = self.env.db
        serial = request["SerialNumber"]
        with db.transaction():
            holder = self._mfa_holder(ctx, request["UserName"], serial)
            row = device_row(db, ctx.account_id, serial)
            if not _owned_by(row, holder):
                raise _device_not_found(serial)
            step = consecutive_steps(
                row["seed"], request["AuthenticationCode1"], request["AuthenticationCode2"], row["last_step"], RESYNC_DRIFT
            )
            if step is None:
                raise _invalid_codes()
            db.execute("UPDATE iam_mfa_devices SET last_step = ? WHERE serial_number = ?", (step, row["serial_number"]))
        return {}

    def list_mfa_devices(self, ctx: RequestContext, request: dict) -> dict:
        check_request("ListMFADevices", request)
        db = self.env.db
        holder = credential_holder(ctx, db, request.get("UserName"))
        if holder.is_root:
            rows = db.query(
                "SELECT * FROM iam_mfa_devices WHERE account_id = ? AND owner_kind = 'root'", (ctx.account_id,)
            )
        else:
            rows = db.query(
                "SELECT * FROM iam_mfa_devices WHERE account_id = ? AND owner_kind = 'user' AND user_name = ?",
                (ctx.account_id, holder.user_name),
            )
        devices = [
            {
                "UserName": ROOT_USER_NAME if holder.is_root else row["user_name"],
                "SerialNumber": row["serial_number"],
                "EnableDate": to_datetime(row["enabled_at"]),
            }
            for row in sorted(rows, key=lambda r: (r["enabled_at"], r["serial_number"]))
        ]
        return paginate(devices, request, "MFADevices", key=lambda d: (d["SerialNumber"],))

    def get_mfa_device(self, ctx: RequestContext, request: dict) -> dict:
        check_request("GetMFADevice", request)
        db = self.env.db
        serial = request["SerialNumber"]
        row = device_row(db, ctx.account_id, serial)
        if row is None or row["owner_kind"] is None:
            raise _device_not_found(serial)
        if request.get("UserName") is not None:
            holder = credential_holder(ctx, db, request["UserName"])
            if not _owned_by(row, holder):
                raise _device_not_found(serial)
        user = ROOT_USER_NAME if row["owner_kind"] == "root" else row["user_name"]
        return {"UserName": user, "SerialNumber": row["serial_number"], "EnableDate": to_datetime(row["enabled_at"])}

    def list_virtual_mfa_devices(self, ctx: RequestContext, request: dict) -> dict:
        check_request("ListVirtualMFADevices", request)
        db = self.env.db
        status = request.get("AssignmentStatus", "Any")
        rows = db.query("SELECT * FROM iam_mfa_devices WHERE account_id = ? ORDER BY serial_number", (ctx.account_id,))
        devices = []
        for row in rows:
            assigned = row["owner_kind"] is not None
            if (status == "Assigned" and not assigned) or (status == "Unassigned" and assigned):
                continue
            device = {"SerialNumber": row["serial_number"]}
            if assigned:
                device["User"] = self._device_user(ctx.account_id, row)
                device["EnableDate"] = to_datetime(row["enabled_at"])
            device_tags = tags.tag_list(db, ctx.account_id, TAG_KIND, row["serial_number"])
            if device_tags:
                device["Tags"] = device_tags
            devices.append(device)
        return paginate(devices, request, "VirtualMFADevices", key=lambda d: (d["SerialNumber"].lower(),))

    def _device_user(self, account_id: str, row) -> dict:
        if row["owner_kind"] == "root":
            account = self.env.accounts.get(account_id)
            created = float(int(account.created_at)) if account else row["created_at"]
            return {"Arn": f"arn:aws:iam::{account_id}:root", "UserId": account_id, "CreateDate": to_datetime(created)}
        from gureum.services.iam.users import require_user

        user = require_user(self.env.db, account_id, row["user_name"])
        return {
            "Path": user["path"], "UserName": user["user_name"], "UserId": user["user_id"], "Arn": user["arn"],
            "CreateDate": to_datetime(user["created_at"]),
        }

    def delete_virtual_mfa_device(self, ctx: RequestContext, request: dict) -> dict:
        check_request("DeleteVirtualMFADevice", request)
        db = self.env.db
        serial = request["SerialNumber"]
        with db.transaction():
            row = device_row(db, ctx.account_id, serial)
            if row is None:
                raise no_such_entity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
            if row["owner_kind"] is not None:
                raise delete_conflict("MFA device is still in use.")
            tags.drop_all(db, ctx.account_id, TAG_KIND, row["serial_number"])
            db.execute("DELETE FROM iam_mfa_devices WHERE serial_number = ?", (row["serial_number"],))
        return {}

    # --- tags ----------------------------------------------------------------------------

    def _tagged_device(self, ctx: RequestContext, serial: str) -> str:
        row = device_row(self.env.db, ctx.account_id, serial)
        if row is None:
            raise no_such_entity(f"The MFA device with serial number {serial} cannot be found.")
        return row["serial_number"]

    def tag_mfa_device(self, ctx: RequestContext, request: dict) -> dict:
        check_request("TagMFADevice", request)
        db = self.env.db
        with db.transaction():
            serial = self._tagged_device(ctx, request["SerialNumber"])
            tags.add_tags(db, ctx.account_id, TAG_KIND, serial, request["Tags"])
        return {}

    def untag_mfa_device(self, ctx: RequestContext, request: dict) -> dict:
        check_request("UntagMFADevice", request)
        db = self.env.db
        with db.transaction():
            serial = self._tagged_device(ctx, request["SerialNumber"])
            tags.remove_tags(db, ctx.account_id, TAG_KIND, serial, request["TagKeys"])
        return {}

    def list_mfa_device_tags(self, ctx: RequestContext, request: dict) -> dict:
        check_request("ListMFADeviceTags", request)
        serial = self._tagged_device(ctx, request["SerialNumber"])
        return tags.list_page(self.env.db, ctx.account_id, TAG_KIND, serial, request)
