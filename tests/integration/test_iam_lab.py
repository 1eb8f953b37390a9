"""The course's IAM lab and policy enforcement, end to end with the AWS CLI and boto3.

Every request a user makes is evaluated against its policies: these tests would pass only
if the gateway really enforces IAM.
"""

from __future__ import annotations

import json
import time

import pyotp
import pytest
from botocore.exceptions import ClientError

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
CHANGE_PASSWORD = "arn:aws:iam::aws:policy/IAMUserChangePassword"


def _user_with_key(iam, name: str, policies: list[str] = (), inline: dict | None = None) -> dict:
    iam.create_user(UserName=name)
    for arn in policies:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
    return iam.create_access_key(UserName=name)["AccessKey"]


def _client(make_client, service, key, **kw):
    return make_client(service, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"], **kw)


def _denied(excinfo) -> str:
    err = excinfo.value.response["Error"]
    assert err["Code"] in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"), err
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
    return err["Message"]


def test_course_iam_lab_with_the_cli(aws_cli):
    """Lab 1 and lab 3: user, policies, alias, console password, access key, profile, MFA."""
    run = lambda *a, **k: aws_cli(*a, expect_ok=True, **k)  # noqa: E731
    run("iam", "create-user", "--user-name", "alchemine02")
    run("iam", "attach-user-policy", "--user-name", "alchemine02", "--policy-arn", ADMIN)
    run("iam", "attach-user-policy", "--user-name", "alchemine02", "--policy-arn", CHANGE_PASSWORD)
    run("iam", "create-account-alias", "--account-alias", "gureum-study")
    assert json.loads(run("iam", "list-account-aliases")[1])["AccountAliases"] == ["gureum-study"]
    run("iam", "create-login-profile", "--user-name", "alchemine02", "--password", "Str0ng!Passw0rd#2024",
        "--password-reset-required")
    key = json.loads(run("iam", "create-access-key", "--user-name", "alchemine02")[1])["AccessKey"]
    for name, value in (("aws_access_key_id", key["AccessKeyId"]), ("aws_secret_access_key", key["SecretAccessKey"]),
                        ("region", "ap-northeast-2")):
        run("configure", "set", name, value, "--profile", "alchemine02")
    ident = json.loads(aws_cli("sts", "get-caller-identity", profile="alchemine02", expect_ok=True)[1])
    assert ident["Arn"] == "arn:aws:iam::000000000000:user/alchemine02"
    # AdministratorAccess lets the user work with IAM.
    users = json.loads(aws_cli("iam", "list-users", profile="alchemine02", expect_ok=True)[1])["Users"]
    assert "alchemine02" in [u["UserName"] for u in users]
    attached = json.loads(run("iam", "list-attached-user-policies", "--user-name", "alchemine02")[1])
    assert {p["PolicyArn"] for p in attached["AttachedPolicies"]} == {ADMIN, CHANGE_PASSWORD}


def test_virtual_mfa_and_mfa_conditioned_access(make_client, tmp_path, aws_cli):
    iam = make_client("iam")
    key = _user_with_key(iam, "mfa-user", inline={
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:GetSessionToken", "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
        ],
    })
    seed_file = tmp_path / "seed.txt"
    device = json.loads(aws_cli("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "mfa-user",
                                "--outfile", str(seed_file), "--bootstrap-method", "Base32StringSeed",
                                expect_ok=True)[1])["VirtualMFADevice"]
    totp = pyotp.TOTP(seed_file.read_text().strip())
    now = time.time()
    iam.enable_mfa_device(UserName="mfa-user", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.at(now - 30), AuthenticationCode2=totp.at(now))
    user_iam = _client(make_client, "iam", key)
    with pytest.raises(ClientError) as excinfo:
        user_iam.list_users()  # long-term keys carry no MFA
    assert "iam:ListUsers" in _denied(excinfo)
    sts = _client(make_client, "sts", key)
    with pytest.raises(ClientError) as excinfo:
        sts.get_session_token(SerialNumber=device["SerialNumber"], TokenCode="000000")
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    creds = sts.get_session_token(SerialNumber=device["SerialNumber"], TokenCode=totp.at(now + 30))["Credentials"]
    session_iam = make_client("iam", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                              session_token=creds["SessionToken"])
    assert any(u["UserName"] == "mfa-user" for u in session_iam.list_users()["Users"])


def test_user_without_policies_is_denied_everywhere(make_client):
    key = _user_with_key(make_client("iam"), "nobody")
    assert _client(make_client, "sts", key).get_caller_identity()["Arn"].endswith(":user/nobody")
    calls = [
        ("iam", lambda c: c.list_users(), "iam:ListUsers"),
        ("s3", lambda c: c.list_buckets(), "s3:ListAllMyBuckets"),
        ("dynamodb", lambda c: c.list_tables(), "dynamodb:ListTables"),
        ("ec2", lambda c: c.describe_instances(), "ec2:DescribeInstances"),
        ("sts", lambda c: c.get_session_token(), "sts:GetSessionToken"),
    ]
    for service, call, action in calls:
        with pytest.raises(ClientError) as excinfo:
            call(_client(make_client, service, key))
        message = _denied(excinfo)
        assert "arn:aws:iam::000000000000:user/nobody" in message and action in message, message
        assert "no identity-based policy allows" in message


def test_user_limited_to_a_bucket_prefix(make_client):
    """Allowed requests pass authorization and reach S3 (no such bucket: 404); others are 403."""
    key = _user_with_key(make_client("iam"), "alice", inline={
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::lab-bucket",
            "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
        }, {
            "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::lab-bucket/home/${aws:username}/*",
        }],
    })
    s3 = _client(make_client, "s3", key)

    def status(call):
        try:
            call()
        except ClientError as e:
            return e.response["ResponseMetadata"]["HTTPStatusCode"]
        return 200

    assert status(lambda: s3.list_objects_v2(Bucket="lab-bucket", Prefix="home/alice/")) == 404
    assert status(lambda: s3.list_objects_v2(Bucket="lab-bucket", Prefix="home/bob/")) == 403
    assert status(lambda: s3.get_object(Bucket="lab-bucket", Key="home/alice/notes.txt")) == 404
    assert status(lambda: s3.get_object(Bucket="lab-bucket", Key="home/bob/notes.txt")) == 403
    assert status(lambda: s3.get_object(Bucket="other-bucket", Key="home/alice/notes.txt")) == 403


def test_explicit_deny_and_boundary(make_client):
    iam = make_client("iam")
    key = _user_with_key(iam, "bounded", policies=[ADMIN], inline={
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}],
    })
    user_iam = _client(make_client, "iam", key)
    iam.create_user(UserName="victim")
    with pytest.raises(ClientError) as excinfo:
        user_iam.delete_user(UserName="victim")
    assert "explicit deny" in _denied(excinfo)
    # A permissions boundary caps AdministratorAccess.
    boundary = iam.create_policy(PolicyName="only-list-users", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}],
    }))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=boundary)
    user_iam.list_users()
    with pytest.raises(ClientError) as excinfo:
        user_iam.list_roles()
    assert "permissions boundary" in _denied(excinfo)


def test_assumed_role_with_session_policy(make_client):
    iam = make_client("iam")
    key = _user_with_key(iam, "assumer", inline={
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    })
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/assumer"}, "Action": "sts:AssumeRole",
    }]}
    role = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/IAMFullAccess")
    sts = _client(make_client, "sts", key)
    session_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]}
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="lab", Policy=json.dumps(session_policy))
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/reader/lab"
    creds = out["Credentials"]
    session = make_client("iam", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                          session_token=creds["SessionToken"])
    session.list_users()  # the role allows it and so does the session policy
    with pytest.raises(ClientError) as excinfo:
        session.list_roles()  # the role allows it, the session policy does not
    assert "session policy" in _denied(excinfo)
    ident = make_client("sts", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                        session_token=creds["SessionToken"]).get_caller_identity()
    assert ident["Arn"] == "arn:aws:sts::000000000000:assumed-role/reader/lab"
    assert ident["UserId"] == f"{role['RoleId']}:lab"
    # Someone the trust policy does not name cannot assume the role.
    other = _user_with_key(iam, "stranger", policies=[ADMIN])
    with pytest.raises(ClientError) as excinfo:
        _client(make_client, "sts", other).assume_role(RoleArn=role["Arn"], RoleSessionName="intruder")
    _denied(excinfo)


def test_change_password_with_iam_user_change_password(make_client):
    iam = make_client("iam")
    key = _user_with_key(iam, "pw-user", policies=[CHANGE_PASSWORD])
    iam.create_login_profile(UserName="pw-user", Password="Initial!Passw0rd-1")
    user_iam = _client(make_client, "iam", key)
    user_iam.change_password(OldPassword="Initial!Passw0rd-1", NewPassword="Changed!Passw0rd-2")
    with pytest.raises(ClientError) as excinfo:
        user_iam.list_users()  # IAMUserChangePassword grants nothing else
    _denied(excinfo)


def test_enforcement_can_be_turned_off(tmp_path):
    """`--iam-enforcement off` lets any known principal do anything (keys are still checked)."""
    import boto3

    from tests.conftest import Server

    s = Server(tmp_path / "data", extra_args=("--iam-enforcement", "off")).start()
    try:
        def client(service, **kw):
            return boto3.client(service, endpoint_url=s.endpoint, region_name="us-east-1", **kw)

        iam = client("iam", aws_access_key_id="test", aws_secret_access_key="test")
        iam.create_user(UserName="open")
        key = iam.create_access_key(UserName="open")["AccessKey"]
        user_iam = client("iam", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        assert [u["UserName"] for u in user_iam.list_users()["Users"]] == ["open"]
        bad = client("iam", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="wrong")
        with pytest.raises(ClientError) as excinfo:
            bad.list_users()
        assert excinfo.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    finally:
        s.stop()


def test_role_last_used_recorded(make_client):
    iam = make_client("iam")
    key = _user_with_key(iam, "lastused", inline={
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    })
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="used-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    assert "LastUsedDate" not in iam.get_role(RoleName="used-role")["Role"].get("RoleLastUsed", {})
    # The trust policy names the account: the user's own policy must allow sts:AssumeRole too.
    _client(make_client, "sts", key, region="ap-northeast-2").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    last = iam.get_role(RoleName="used-role")["Role"]["RoleLastUsed"]
    assert last["Region"] == "ap-northeast-2" and last["LastUsedDate"]


def test_cross_account_assume_role_needs_both_sides(make_client, endpoint):
    """A role in account A trusting account B: B's user also needs its own allow; chaining works."""
    from tests.helpers import internal_call

    other = internal_call(endpoint, "POST", "/_gureum/accounts", {"alias": "team-b-cross"})
    b_root = dict(access_key=other["access_key_id"], secret_key=other["secret_access_key"])
    b_iam = make_client("iam", **b_root)
    b_iam.create_user(UserName="dev")
    allowed = b_iam.create_access_key(UserName="dev")["AccessKey"]
    b_iam.put_user_policy(UserName="dev", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    b_iam.create_user(UserName="no-allow")
    unallowed = b_iam.create_access_key(UserName="no-allow")["AccessKey"]

    a_iam = make_client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": other["account_id"]}, "Action": "sts:AssumeRole"}]}
    role = a_iam.create_role(RoleName="cross-reader", AssumeRolePolicyDocument=json.dumps(trust),
                         MaxSessionDuration=43200)["Role"]
    a_iam.put_role_policy(RoleName="cross-reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:ListRoles", "sts:AssumeRole"], "Resource": "*"}]}))
    chained = a_iam.create_role(RoleName="chained", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": role["Arn"]}, "Action": "sts:AssumeRole"}]}))["Role"]

    with pytest.raises(ClientError) as excinfo:
        _client(make_client, "sts", unallowed).assume_role(RoleArn=role["Arn"], RoleSessionName="nope")
    _denied(excinfo)

    creds = _client(make_client, "sts", allowed).assume_role(
        RoleArn=role["Arn"], RoleSessionName="dev-session", DurationSeconds=7200)["Credentials"]
    session = dict(access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                   session_token=creds["SessionToken"])
    ident = make_client("sts", **session).get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ident["Arn"] == "arn:aws:sts::000000000000:assumed-role/cross-reader/dev-session"
    assert any(r["RoleName"] == "cross-reader" for r in make_client("iam", **session).list_roles()["Roles"])

    # Role chaining: at most one hour.
    sts_session = make_client("sts", **session)
    with pytest.raises(ClientError) as excinfo:
        sts_session.assume_role(RoleArn=chained["Arn"], RoleSessionName="hop", DurationSeconds=7200)
    assert excinfo.value.response["Error"]["Code"] == "ValidationError"
    hop = sts_session.assume_role(RoleArn=chained["Arn"], RoleSessionName="hop")
    assert hop["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/chained/hop"
