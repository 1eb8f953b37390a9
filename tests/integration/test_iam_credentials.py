"""IAM credentials end to end: access keys, console passwords, virtual MFA, credential report.

Each test works in an account of its own (created through /_gureum/accounts), so account-wide
settings such as the password policy and the credential report do not leak between tests.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import time

import pyotp
import pytest
from botocore.exceptions import ClientError

from tests.helpers import internal_call

REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
    "cert_2_active,cert_2_last_rotated"
)


@pytest.fixture
def account(endpoint, make_client):
    """A fresh account: its id and a factory of clients signed by its root."""
    created = internal_call(endpoint, "POST", "/_gureum/accounts", {})

    def client(service: str, **kw):
        return make_client(service, access_key=created["access_key_id"], secret_key=created["secret_access_key"], **kw)

    client.account_id = created["account_id"]
    return client


def _as(make_client, service: str, key: dict, **kw):
    return make_client(service, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"], **kw)


def _error(excinfo) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def _allow(iam, user: str, *actions: str) -> None:
    iam.put_user_policy(UserName=user, PolicyName="own-credentials", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }))


# --- access keys -------------------------------------------------------------------------

def test_access_key_with_a_cli_profile(aws_cli):
    run = lambda *a, **k: aws_cli(*a, expect_ok=True, **k)  # noqa: E731
    run("iam", "create-user", "--user-name", "cli-key-user")
    key = json.loads(run("iam", "create-access-key", "--user-name", "cli-key-user")[1])["AccessKey"]
    assert key["UserName"] == "cli-key-user" and key["Status"] == "Active"
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    for name, value in (("aws_access_key_id", key["AccessKeyId"]), ("aws_secret_access_key", key["SecretAccessKey"]),
                        ("region", "us-east-1")):
        run("configure", "set", name, value, "--profile", "cli-key-user")
    ident = json.loads(run("sts", "get-caller-identity", profile="cli-key-user")[1])
    assert ident["Arn"] == "arn:aws:iam::000000000000:user/cli-key-user"
    assert ident["UserId"].startswith("AIDA")
    listed = json.loads(run("iam", "list-access-keys", "--user-name", "cli-key-user")[1])["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [key["AccessKeyId"]]


def test_access_key_limit_status_and_deletion(account, make_client):
    iam = account("iam")
    iam.create_user(UserName="keyed", Path="/team/")
    first = iam.create_access_key(UserName="keyed")["AccessKey"]
    second = iam.create_access_key(UserName="KEYED")["AccessKey"]  # names are case-insensitive
    assert second["UserName"] == "keyed"
    with pytest.raises(ClientError) as excinfo:
        iam.create_access_key(UserName="keyed")
    assert _error(excinfo) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)

    page = iam.list_access_keys(UserName="keyed", MaxItems=1)
    assert page["IsTruncated"] and len(page["AccessKeyMetadata"]) == 1
    rest = iam.list_access_keys(UserName="keyed", Marker=page["Marker"])
    assert not rest["IsTruncated"]
    ids = [m["AccessKeyId"] for m in page["AccessKeyMetadata"] + rest["AccessKeyMetadata"]]
    assert sorted(ids) == sorted([first["AccessKeyId"], second["AccessKeyId"]])

    sts = _as(make_client, "sts", first)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{account.account_id}:user/team/keyed"
    iam.update_access_key(UserName="keyed", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    statuses = {m["AccessKeyId"]: m["Status"] for m in iam.list_access_keys(UserName="keyed")["AccessKeyMetadata"]}
    assert statuses == {first["AccessKeyId"]: "Inactive", second["AccessKeyId"]: "Active"}
    with pytest.raises(ClientError) as excinfo:
        sts.get_caller_identity()
    assert _error(excinfo)[0] == "InvalidClientTokenId"
    iam.update_access_key(UserName="keyed", AccessKeyId=first["AccessKeyId"], Status="Active")
    sts.get_caller_identity()

    with pytest.raises(ClientError) as excinfo:
        iam.delete_user(UserName="keyed")
    assert _error(excinfo) == ("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
    iam.delete_access_key(UserName="keyed", AccessKeyId=first["AccessKeyId"])
    with pytest.raises(ClientError) as excinfo:
        sts.get_caller_identity()
    assert _error(excinfo)[0] == "InvalidClientTokenId"
    for call in (lambda: iam.delete_access_key(UserName="keyed", AccessKeyId=first["AccessKeyId"]),
                 lambda: iam.update_access_key(AccessKeyId=second["AccessKeyId"], Status="Inactive")):
        with pytest.raises(ClientError) as excinfo:
            call()  # gone, or not the caller's (the root's) key
        code, message, status = _error(excinfo)
        assert (code, status) == ("NoSuchEntity", 404) and "cannot be found" in message
    with pytest.raises(ClientError) as excinfo:
        iam.create_access_key(UserName="nobody-here")
    assert _error(excinfo) == ("NoSuchEntity", "The user with name nobody-here cannot be found.", 404)
    iam.delete_access_key(UserName="keyed", AccessKeyId=second["AccessKeyId"])
    iam.delete_user(UserName="keyed")


def test_callers_manage_their_own_keys(account, make_client):
    iam = account("iam")
    iam.create_user(UserName="self-service")
    _allow(iam, "self-service", "iam:CreateAccessKey", "iam:ListAccessKeys", "iam:DeleteAccessKey")
    key = iam.create_access_key(UserName="self-service")["AccessKey"]
    user_iam = _as(make_client, "iam", key)
    own = user_iam.create_access_key()["AccessKey"]  # no UserName: the calling user
    assert own["UserName"] == "self-service"
    assert len(user_iam.list_access_keys()["AccessKeyMetadata"]) == 2
    user_iam.delete_access_key(AccessKeyId=own["AccessKeyId"])
    # The root may hold access keys of its own too (it already has the one it signs with).
    root_key = iam.create_access_key()["AccessKey"]
    assert "UserName" not in root_key
    ident = _as(make_client, "sts", root_key).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{account.account_id}:root"
    assert len(iam.list_access_keys()["AccessKeyMetadata"]) == 2
    with pytest.raises(ClientError) as excinfo:
        iam.create_access_key()
    assert _error(excinfo)[0] == "LimitExceeded"
    iam.delete_access_key(AccessKeyId=root_key["AccessKeyId"])


def test_access_key_last_used(account, make_client):
    iam = account("iam")
    iam.create_user(UserName="user-of-keys")
    key = iam.create_access_key(UserName="user-of-keys")["AccessKey"]
    before = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert before["UserName"] == "user-of-keys"
    assert before["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    _as(make_client, "sts", key, region="eu-west-1").get_caller_identity()
    after = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert after["ServiceName"] == "sts" and after["Region"] == "eu-west-1"
    assert abs(after["LastUsedDate"].timestamp() - time.time()) < 60


# --- passwords ----------------------------------------------------------------------------

def test_login_profile_and_password_policy(account, aws_cli):
    iam = account("iam")
    iam.create_user(UserName="console-user")
    with pytest.raises(ClientError) as excinfo:
        iam.create_login_profile(UserName="console-user", Password="password")  # IAM's default rules
    assert _error(excinfo) == ("PasswordPolicyViolation", "Password does not conform to the account password policy.", 400)
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True)
    for weak in ("Sh0rt!", "NoSymbolsHere123", "No-Numbers-Here-At-All"):
        with pytest.raises(ClientError) as excinfo:
            iam.create_login_profile(UserName="console-user", Password=weak)
        assert _error(excinfo)[0] == "PasswordPolicyViolation"
        assert weak not in _error(excinfo)[1]
    with pytest.raises(ClientError):
        iam.get_login_profile(UserName="console-user")  # nothing was half-written
    profile = iam.create_login_profile(UserName="console-user", Password="Correct-Horse-42!",
                                       PasswordResetRequired=True)["LoginProfile"]
    assert profile["UserName"] == "console-user" and profile["PasswordResetRequired"] is True
    with pytest.raises(ClientError) as excinfo:
        iam.create_login_profile(UserName="console-user", Password="Correct-Horse-42!")
    assert _error(excinfo) == ("EntityAlreadyExists", "Login Profile for user console-user already exists.", 409)
    iam.update_login_profile(UserName="console-user", PasswordResetRequired=False)
    assert iam.get_login_profile(UserName="console-user")["LoginProfile"]["PasswordResetRequired"] is False
    with pytest.raises(ClientError) as excinfo:
        iam.update_login_profile(UserName="console-user", Password="weak")
    assert _error(excinfo)[0] == "PasswordPolicyViolation"
    with pytest.raises(ClientError) as excinfo:
        iam.delete_user(UserName="console-user")
    assert _error(excinfo) == ("DeleteConflict", "Cannot delete entity, must delete login profile first.", 409)
    iam.delete_login_profile(UserName="console-user")
    with pytest.raises(ClientError) as excinfo:
        iam.get_login_profile(UserName="console-user")
    assert _error(excinfo) == ("NoSuchEntity", "Login Profile for User console-user cannot be found.", 404)
    # The CLI, in the default account (no policy there: IAM's default rules).
    aws_cli("iam", "create-user", "--user-name", "cli-console-user", expect_ok=True)
    code, _, err = aws_cli("iam", "create-login-profile", "--user-name", "cli-console-user", "--password", "abc")
    assert code != 0 and "PasswordPolicyViolation" in err
    code, out, err = aws_cli("iam", "create-login-profile", "--user-name", "cli-console-user",
                             "--password", "Str0ng!Passw0rd", "--password-reset-required")
    assert code == 0, err
    assert json.loads(out)["LoginProfile"]["PasswordResetRequired"] is True


def test_change_password(account, make_client):
    iam = account("iam")
    iam.update_account_password_policy(MinimumPasswordLength=10, PasswordReusePrevention=2)
    iam.create_user(UserName="changer")
    _allow(iam, "changer", "iam:ChangePassword")
    key = iam.create_access_key(UserName="changer")["AccessKey"]
    user_iam = _as(make_client, "iam", key)
    with pytest.raises(ClientError) as excinfo:
        user_iam.change_password(OldPassword="First-Passw0rd", NewPassword="Second-Passw0rd")
    assert _error(excinfo)[:2] == ("NoSuchEntity", "Login Profile for User changer cannot be found.")
    iam.create_login_profile(UserName="changer", Password="First-Passw0rd", PasswordResetRequired=True)
    with pytest.raises(ClientError) as excinfo:
        user_iam.change_password(OldPassword="Wrong-Passw0rd", NewPassword="Second-Passw0rd")
    assert _error(excinfo)[0] == "InvalidUserType"
    with pytest.raises(ClientError) as excinfo:
        user_iam.change_password(OldPassword="First-Passw0rd", NewPassword="short")
    assert _error(excinfo)[0] == "PasswordPolicyViolation"
    user_iam.change_password(OldPassword="First-Passw0rd", NewPassword="Second-Passw0rd")
    assert iam.get_login_profile(UserName="changer")["LoginProfile"]["PasswordResetRequired"] is False
    # The last two passwords may not come back.
    with pytest.raises(ClientError) as excinfo:
        user_iam.change_password(OldPassword="Second-Passw0rd", NewPassword="First-Passw0rd")
    assert _error(excinfo)[0] == "PasswordPolicyViolation"
    user_iam.change_password(OldPassword="Second-Passw0rd", NewPassword="Third-Passw0rd")
    user_iam.change_password(OldPassword="Third-Passw0rd", NewPassword="First-Passw0rd")
    # The root has no IAM password to change.
    with pytest.raises(ClientError) as excinfo:
        iam.change_password(OldPassword="First-Passw0rd", NewPassword="Other-Passw0rd")
    assert _error(excinfo)[:2] == ("InvalidUserType", "Only IAM Users can change their own password.")


# --- MFA ----------------------------------------------------------------------------------

def _wait_for_next_step() -> None:
    time.sleep(30 - time.time() % 30 + 0.5)


def test_virtual_mfa_device_and_session_with_mfa(account, make_client, tmp_path):
    iam = account("iam")
    iam.create_user(UserName="mfa-holder")
    _allow(iam, "mfa-holder", "sts:GetSessionToken")
    key = iam.create_access_key(UserName="mfa-holder")["AccessKey"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="mfa-holder",
                                           Tags=[{"Key": "team", "Value": "lab"}])["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{account.account_id}:mfa/mfa-holder"
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    seed = device["Base32StringSeed"].decode()
    assert len(base64.b32decode(seed)) == 20
    with pytest.raises(ClientError) as excinfo:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="mfa-holder")
    assert _error(excinfo)[:2] == ("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [serial]
    assert "Base32StringSeed" not in unassigned[0] and unassigned[0]["Tags"] == [{"Key": "team", "Value": "lab"}]

    totp = pyotp.TOTP(seed)
    now = time.time()
    with pytest.raises(ClientError) as excinfo:
        iam.enable_mfa_device(UserName="mfa-holder", SerialNumber=serial,
                              AuthenticationCode1=totp.at(now + 30), AuthenticationCode2=totp.at(now))
    assert _error(excinfo) == ("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)
    iam.enable_mfa_device(UserName="mfa-holder", SerialNumber=serial,
                          AuthenticationCode1=totp.at(now), AuthenticationCode2=totp.at(now + 30))
    with pytest.raises(ClientError) as excinfo:
        iam.enable_mfa_device(UserName="mfa-holder", SerialNumber=serial,
                              AuthenticationCode1=totp.at(now), AuthenticationCode2=totp.at(now + 30))
    assert _error(excinfo)[0] == "EntityAlreadyExists"
    devices = iam.list_mfa_devices(UserName="mfa-holder")["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in devices] == [("mfa-holder", serial)]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert assigned[0]["User"]["UserName"] == "mfa-holder" and "EnableDate" in assigned[0]
    assert iam.get_mfa_device(SerialNumber=serial)["UserName"] == "mfa-holder"

    sts = _as(make_client, "sts", key)
    wrong = "000000" if totp.at(now + 60) != "000000" else "111111"
    for code in (wrong, totp.at(now + 30)):  # a wrong code, and one already used
        with pytest.raises(ClientError) as excinfo:
            sts.get_session_token(SerialNumber=serial, TokenCode=code)
        assert _error(excinfo)[0] == "AccessDenied"
    _wait_for_next_step()
    creds = sts.get_session_token(SerialNumber=serial, TokenCode=totp.at(now + 60))["Credentials"]
    session = make_client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                          session_token=creds["SessionToken"])
    assert session.get_caller_identity()["Arn"].endswith(":user/mfa-holder")

    with pytest.raises(ClientError) as excinfo:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert _error(excinfo)[0] == "DeleteConflict"
    iam.delete_access_key(UserName="mfa-holder", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as excinfo:
        iam.delete_user(UserName="mfa-holder")
    assert _error(excinfo) == ("DeleteConflict", "Cannot delete entity, must delete MFA devices first.", 409)
    iam.deactivate_mfa_device(UserName="mfa-holder", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="mfa-holder")["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    iam.delete_user_policy(UserName="mfa-holder", PolicyName="own-credentials")
    iam.delete_user(UserName="mfa-holder")


def test_virtual_mfa_with_the_cli_outfile(aws_cli, tmp_path):
    png = tmp_path / "qr.png"
    out = json.loads(aws_cli("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "cli-device",
                             "--path", "/lab/", "--outfile", str(png), "--bootstrap-method", "QRCodePNG",
                             expect_ok=True)[1])
    assert out["VirtualMFADevice"]["SerialNumber"] == "arn:aws:iam::000000000000:mfa/lab/cli-device"
    assert png.read_bytes().startswith(b"\x89PNG")
    aws_cli("iam", "delete-virtual-mfa-device", "--serial-number", out["VirtualMFADevice"]["SerialNumber"],
            expect_ok=True)


def test_root_virtual_mfa(account):
    iam = account("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="root-account-mfa-device")["VirtualMFADevice"]
    serial = device["SerialNumber"]
    totp = pyotp.TOTP(device["Base32StringSeed"].decode())
    now = time.time()
    iam.enable_mfa_device(UserName="root", SerialNumber=serial,
                          AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    [listed] = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert listed["User"]["Arn"] == f"arn:aws:iam::{account.account_id}:root"
    assert [d["SerialNumber"] for d in iam.list_mfa_devices()["MFADevices"]] == [serial]
    creds = account("sts").get_session_token(SerialNumber=serial, TokenCode=totp.at(now + 30))["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    iam.deactivate_mfa_device(SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)


# --- credential report ----------------------------------------------------------------------

def test_credential_report(account, make_client):
    iam = account("iam")
    with pytest.raises(ClientError) as excinfo:
        iam.get_credential_report()
    code, _, status = _error(excinfo)
    assert (code, status) == ("ReportNotPresent", 410)
    iam.create_user(UserName="reported")
    iam.create_login_profile(UserName="reported", Password="Rep0rted-Passw0rd!")
    key = iam.create_access_key(UserName="reported")["AccessKey"]
    _as(make_client, "sts", key).get_caller_identity()
    iam.create_user(UserName="plain")
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    text = report["Content"].decode()
    assert text.splitlines()[0] == REPORT_HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["user"] for r in rows] == ["<root_account>", "plain", "reported"]
    root, plain, reported = rows
    assert root["arn"] == f"arn:aws:iam::{account.account_id}:root"
    assert root["password_enabled"] == "not_supported" and root["access_key_1_active"] == "true"
    assert plain["password_enabled"] == "false" and plain["password_last_changed"] == "N/A"
    assert plain["access_key_1_active"] == "false" and plain["access_key_1_last_rotated"] == "N/A"
    assert reported["arn"] == f"arn:aws:iam::{account.account_id}:user/reported"
    assert reported["password_enabled"] == "true" and reported["password_last_used"] == "no_information"
    assert reported["password_last_changed"].endswith("+00:00") and reported["mfa_active"] == "false"
    assert reported["access_key_1_active"] == "true" and reported["access_key_2_active"] == "false"
    assert reported["cert_1_active"] == "false" and reported["cert_2_last_rotated"] == "N/A"
