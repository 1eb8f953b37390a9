"""The evaluation logic: every branch of AWS's documented decision flow."""

from __future__ import annotations

import json

from gureum.policy.document import parse_policy
from gureum.policy.engine import (
    BOUNDARY, IDENTITY, RESOURCE, SCP, SESSION, Policy, PolicySet, RequestFacts, evaluate, principal_matches,
)

A, B = "111122223333", "444455556666"
USER = f"arn:aws:iam::{A}:user/alice"
ROLE = f"arn:aws:iam::{A}:role/app/worker"
SESSION_ARN = f"arn:aws:sts::{A}:assumed-role/worker/s1"
BUCKET = "arn:aws:s3:::photos"
OBJECT = "arn:aws:s3:::photos/cat.jpg"


def policy(*statements, kind="identity", source=None) -> Policy:
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return Policy(parse_policy(text, kind), kind, source or f"{kind}-policy")


def allow(action="s3:GetObject", resource=OBJECT, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="s3:GetObject", resource=OBJECT, **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def facts(principal=USER, ptype="user", account=A, action="s3:GetObject", resource=OBJECT, resource_account=None,
          **context) -> RequestFacts:
    ctx = {"aws:PrincipalArn": principal, "aws:PrincipalAccount": account, **context}
    if ptype == "assumed-role":
        ctx["aws:PrincipalArn"] = ROLE
    return RequestFacts(principal, account, ptype, action, resource, resource_account, ctx)


def policies(identity=(), resource=(), boundary=None, session=(), scps=(), is_root=False) -> PolicySet:
    return PolicySet(list(identity), list(resource), boundary, list(session), [list(s) for s in scps], is_root)


def test_identity_allow() -> None:
    decision = evaluate(facts(), policies([policy(allow())]))
    assert decision.allowed and decision.reason == "allowed"


def test_no_allow_is_implicit_deny() -> None:
    decision = evaluate(facts(), policies([policy(allow(action="s3:PutObject"))]))
    assert (decision.allowed, decision.reason, decision.denied_by) == (False, "no_allow", IDENTITY)
    assert evaluate(facts(), policies()).denied_by == IDENTITY


def test_explicit_deny_wins_and_names_its_source() -> None:
    decision = evaluate(facts(), policies([policy(allow(action="s3:*", resource="*")),
                                           policy(deny(), source="arn:aws:iam::111122223333:policy/NoCats")]))
    assert (decision.allowed, decision.reason, decision.denied_by) == (False, "explicit_deny", IDENTITY)
    assert decision.policy_source == "arn:aws:iam::111122223333:policy/NoCats"


def test_explicit_deny_in_each_policy_type() -> None:
    everything = policy(allow(action="*", resource="*"))
    resource_deny = policy(deny(Principal="*"), kind="resource")
    assert evaluate(facts(), policies([everything], resource=[resource_deny])).denied_by == RESOURCE
    assert evaluate(facts(), policies([everything], boundary=policy(deny(), kind="boundary"))).denied_by == BOUNDARY
    assert evaluate(facts(), policies([everything], session=[policy(deny(), kind="session")])).denied_by == SESSION
    scp = [policy({"Effect": "Allow", "Action": "*"}, kind="scp"), policy(deny(), kind="scp")]
    assert evaluate(facts(), policies([everything], scps=[scp])).denied_by == SCP


def test_not_action_and_not_resource() -> None:
    p = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
               {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::photos", "arn:aws:s3:::photos/*"]})
    assert evaluate(facts(), policies([p])).allowed
    assert not evaluate(facts(action="iam:ListUsers", resource="*"), policies([p])).allowed
    other = evaluate(facts(resource="arn:aws:s3:::secrets/x"), policies([p]))
    assert other.reason == "explicit_deny"


def test_conditions_gate_statements() -> None:
    p = policy(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert evaluate(facts(**{"aws:SourceIp": "10.1.2.3"}), policies([p])).allowed
    assert not evaluate(facts(**{"aws:SourceIp": "192.168.0.1"}), policies([p])).allowed
    mfa = policy(allow(action="*", resource="*"),
                 deny(action="ec2:TerminateInstances", resource="*",
                      Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))
    assert evaluate(facts(action="ec2:TerminateInstances", resource="*"), policies([mfa])).reason == "explicit_deny"
    ok = facts(action="ec2:TerminateInstances", resource="*", **{"aws:MultiFactorAuthPresent": "true"})
    assert evaluate(ok, policies([mfa])).allowed


def test_home_folder_with_username_variable() -> None:
    p = policy(allow(action=["s3:GetObject", "s3:PutObject"], resource="arn:aws:s3:::home/${aws:username}/*"),
               allow(action="s3:ListBucket", resource="arn:aws:s3:::home",
                     Condition={"StringLike": {"s3:prefix": ["${aws:username}/*"]}}))
    mine = facts(resource="arn:aws:s3:::home/alice/notes.txt", **{"aws:username": "alice"})
    theirs = facts(resource="arn:aws:s3:::home/bob/notes.txt", **{"aws:username": "alice"})
    assert evaluate(mine, policies([p])).allowed
    assert not evaluate(theirs, policies([p])).allowed
    listing = facts(action="s3:ListBucket", resource="arn:aws:s3:::home", **{"aws:username": "alice", "s3:prefix": "alice/"})
    assert evaluate(listing, policies([p])).allowed
    # no aws:username in the request (a role session): the variable is unresolved, nothing matches
    assert not evaluate(facts(resource="arn:aws:s3:::home/alice/notes.txt"), policies([p])).allowed


def test_principal_tag_abac() -> None:
    p = policy(allow(action="ec2:StartInstances", resource="*",
                     Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}))
    same = facts(action="ec2:StartInstances", resource="*", **{"aws:PrincipalTag/team": "blue", "aws:ResourceTag/team": "blue"})
    other = facts(action="ec2:StartInstances", resource="*", **{"aws:PrincipalTag/team": "blue", "aws:ResourceTag/team": "red"})
    assert evaluate(same, policies([p])).allowed and not evaluate(other, policies([p])).allowed


def test_permissions_boundary_limits_identity() -> None:
    identity = policy(allow(action="s3:*", resource="*"))
    boundary = policy(allow(action="s3:List*", resource="*"), kind="boundary")
    decision = evaluate(facts(), policies([identity], boundary=boundary))
    assert (decision.allowed, decision.denied_by) == (False, BOUNDARY)
    assert evaluate(facts(action="s3:ListBucket", resource=BUCKET), policies([identity], boundary=boundary)).allowed
    # a boundary grants nothing by itself
    assert evaluate(facts(), policies([], boundary=policy(allow(), kind="boundary"))).denied_by == IDENTITY


def test_session_policy_limits_role_session() -> None:
    identity = policy(allow(action="s3:*", resource="*"))
    session = [policy(allow(action="s3:PutObject"), kind="session"), policy(allow(action="s3:ListBucket"), kind="session")]
    role = facts(SESSION_ARN, "assumed-role")
    decision = evaluate(role, policies([identity], session=session))
    assert (decision.allowed, decision.denied_by) == (False, SESSION)
    assert evaluate(facts(SESSION_ARN, "assumed-role", action="s3:PutObject"), policies([identity], session=session)).allowed


def test_scps_every_level_must_allow() -> None:
    identity = [policy(allow(action="*", resource="*"))]
    full = [policy({"Effect": "Allow", "Action": "*", "Resource": "*"}, kind="scp")]
    s3_only = [policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, kind="scp")]
    assert evaluate(facts(), policies(identity, scps=[full, s3_only])).allowed
    ec2 = evaluate(facts(action="ec2:RunInstances", resource="*"), policies(identity, scps=[full, s3_only]))
    assert (ec2.allowed, ec2.reason, ec2.denied_by) == (False, "no_allow", SCP)
    # SCPs bind the member account's root user too
    root = facts(f"arn:aws:iam::{A}:root", "root", action="ec2:RunInstances", resource="*")
    assert not evaluate(root, policies(scps=[full, s3_only], is_root=True)).allowed
    # and a resource policy grant does not get around them
    grant = policy(allow(action="*", resource="*", Principal={"AWS": USER}), kind="resource")
    assert not evaluate(facts(action="ec2:RunInstances", resource="*"), policies(resource=[grant], scps=[s3_only])).allowed


def test_root_user_has_full_access_in_its_account() -> None:
    root = facts(f"arn:aws:iam::{A}:root", "root", **{"aws:PrincipalArn": f"arn:aws:iam::{A}:root"})
    assert evaluate(root, policies(is_root=True)).allowed
    blocked = policy(deny(Principal="*"), kind="resource")
    assert evaluate(root, policies(resource=[blocked], is_root=True)).reason == "explicit_deny"
    # across accounts the root needs the other account's resource policy
    foreign = facts(f"arn:aws:iam::{A}:root", "root", resource_account=B)
    assert evaluate(foreign, policies(is_root=True)).denied_by == RESOURCE
    grant = policy(allow(Principal={"AWS": A}), kind="resource")
    assert evaluate(foreign, policies(resource=[grant], is_root=True)).allowed


def test_resource_policy_grants_user_in_same_account() -> None:
    grant = policy(allow(Principal={"AWS": USER}), kind="resource")
    assert evaluate(facts(), policies(resource=[grant])).allowed
    # not limited by an implicit deny in the user's boundary
    boundary = policy(allow(action="ec2:*", resource="*"), kind="boundary")
    assert evaluate(facts(), policies(resource=[grant], boundary=boundary)).allowed
    # an explicit deny anywhere still wins
    assert not evaluate(facts(), policies([policy(deny())], resource=[grant])).allowed
    # naming someone else grants nothing
    other = policy(allow(Principal={"AWS": f"arn:aws:iam::{A}:user/bob"}), kind="resource")
    assert evaluate(facts(), policies(resource=[other])).denied_by == IDENTITY


def test_resource_policy_naming_the_account_delegates_to_iam() -> None:
    grant = policy(allow(Principal={"AWS": f"arn:aws:iam::{A}:root"}), kind="resource")
    assert evaluate(facts(), policies(resource=[grant])).denied_by == IDENTITY
    assert evaluate(facts(), policies([policy(allow())], resource=[grant])).allowed


def test_resource_policy_role_arn_vs_session_arn() -> None:
    session = facts(SESSION_ARN, "assumed-role")
    boundary = policy(allow(action="ec2:*", resource="*"), kind="boundary")
    session_policy = [policy(allow(action="ec2:*", resource="*"), kind="session")]
    to_role = policy(allow(Principal={"AWS": ROLE}), kind="resource")
    to_session = policy(allow(Principal={"AWS": SESSION_ARN}), kind="resource")
    # the role ARN: granted without an identity allow ...
    assert evaluate(session, policies(resource=[to_role])).allowed
    # ... but limited by the boundary and the session policy
    assert evaluate(session, policies(resource=[to_role], boundary=boundary)).denied_by == BOUNDARY
    assert evaluate(session, policies(resource=[to_role], session=session_policy)).denied_by == SESSION
    # the session ARN: granted directly, not limited by either
    assert evaluate(session, policies(resource=[to_session], boundary=boundary, session=session_policy)).allowed
    # a role ARN matches the session even when the context lacks aws:PrincipalArn (path ignored)
    bare = RequestFacts(SESSION_ARN, A, "assumed-role", "s3:GetObject", OBJECT, None, {})
    assert evaluate(bare, policies(resource=[to_role])).allowed


def test_cross_account_needs_both_sides() -> None:
    identity = [policy(allow())]
    grant = policy(allow(Principal={"AWS": B}), kind="resource")
    caller = facts(f"arn:aws:iam::{B}:user/bob", account=B, resource_account=A)
    assert evaluate(caller, policies(identity, resource=[grant])).allowed
    assert evaluate(caller, policies(identity)).denied_by == RESOURCE
    assert evaluate(caller, policies(resource=[grant])).denied_by == IDENTITY
    # naming the user directly still needs the user's own account to allow
    direct = policy(allow(Principal={"AWS": f"arn:aws:iam::{B}:user/bob"}), kind="resource")
    assert evaluate(caller, policies(resource=[direct])).denied_by == IDENTITY
    assert evaluate(caller, policies(identity, resource=[direct])).allowed
    # the boundary applies on the identity side
    boundary = policy(allow(action="s3:ListBucket", resource="*"), kind="boundary")
    assert evaluate(caller, policies(identity, resource=[grant], boundary=boundary)).denied_by == BOUNDARY


def test_anonymous_and_public_resources() -> None:
    anonymous = RequestFacts("*", "", "anonymous", "s3:GetObject", OBJECT, None, {})
    public = policy(allow(Principal="*"), kind="resource")
    assert evaluate(anonymous, policies(resource=[public])).allowed
    assert evaluate(anonymous, policies(resource=[policy(allow(Principal={"AWS": "*"}), kind="resource")])).allowed
    assert evaluate(anonymous, policies()).denied_by == RESOURCE
    account_only = policy(allow(Principal={"AWS": A}), kind="resource")
    assert not evaluate(anonymous, policies(resource=[account_only])).allowed
    # a public grant serves IAM users of the account too
    assert evaluate(facts(), policies(resource=[public])).allowed


def test_service_principal() -> None:
    service = RequestFacts("cloudtrail.amazonaws.com", "", "service", "s3:PutObject", OBJECT, None, {})
    grant = policy(allow(action="s3:PutObject", Principal={"Service": "cloudtrail.amazonaws.com"}), kind="resource")
    assert evaluate(service, policies(resource=[grant])).allowed
    other = RequestFacts("config.amazonaws.com", "", "service", "s3:PutObject", OBJECT, None, {})
    assert not evaluate(other, policies(resource=[grant])).allowed


def test_not_principal_deny() -> None:
    everything = [policy(allow(action="s3:*", resource="*"))]
    lock = policy(deny(action="s3:*", resource="*", NotPrincipal={"AWS": [f"arn:aws:iam::{A}:user/admin", A]}),
                  kind="resource")
    admin = facts(f"arn:aws:iam::{A}:user/admin")
    assert evaluate(admin, policies(everything, resource=[lock])).allowed
    assert evaluate(facts(), policies(everything, resource=[lock])).reason == "explicit_deny"
    # listing the user without its account does not exempt it (AWS checks the account too)
    strict = policy(deny(action="s3:*", resource="*", NotPrincipal={"AWS": f"arn:aws:iam::{A}:user/admin"}),
                    kind="resource")
    assert evaluate(admin, policies(everything, resource=[strict])).reason == "explicit_deny"
    # a session escapes through its session ARN or its role ARN, with the account
    session_lock = policy(deny(action="s3:*", resource="*", NotPrincipal={"AWS": [ROLE, A]}), kind="resource")
    assert evaluate(facts(SESSION_ARN, "assumed-role"), policies(everything, resource=[session_lock])).allowed


def test_resource_deny_applies_only_to_named_principals() -> None:
    everything = [policy(allow(action="s3:*", resource="*"))]
    block_bob = policy(deny(Principal={"AWS": f"arn:aws:iam::{A}:user/bob"}), kind="resource")
    assert evaluate(facts(), policies(everything, resource=[block_bob])).allowed
    block_account = policy(deny(Principal={"AWS": A}), kind="resource")
    assert evaluate(facts(), policies(everything, resource=[block_account])).reason == "explicit_deny"


def test_wildcard_actions_and_arns_in_identity_policies() -> None:
    p = policy(allow(action=["dynamodb:Get*", "dynamodb:Query"], resource="arn:aws:dynamodb:*:111122223333:table/Orders*"))
    table = "arn:aws:dynamodb:eu-west-1:111122223333:table/OrdersArchive"
    assert evaluate(facts(action="dynamodb:GetItem", resource=table), policies([p])).allowed
    assert evaluate(facts(action="DynamoDB:query", resource=table), policies([p])).allowed
    assert not evaluate(facts(action="dynamodb:PutItem", resource=table), policies([p])).allowed
    foreign = "arn:aws:dynamodb:eu-west-1:444455556666:table/Orders"
    assert not evaluate(facts(action="dynamodb:GetItem", resource=foreign), policies([p])).allowed


def trust(*principals_and_more) -> object:
    text = json.dumps({"Version": "2012-10-17", "Statement": list(principals_and_more)})
    return parse_policy(text, "trust")


def test_trust_policy_principals() -> None:
    assume = "sts:AssumeRole"
    role_trust = trust({"Effect": "Allow", "Principal": {"AWS": A}, "Action": assume})
    assert principal_matches(role_trust, facts(action=assume, resource=ROLE))
    assert principal_matches(role_trust, facts(f"arn:aws:iam::{A}:root", "root", action=assume, resource=ROLE))
    assert not principal_matches(role_trust, facts(f"arn:aws:iam::{B}:user/bob", account=B, action=assume))
    user_trust = trust({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": assume})
    assert principal_matches(user_trust, facts(action=assume))
    assert not principal_matches(user_trust, facts(f"arn:aws:iam::{A}:user/bob", action=assume))
    # a role may be trusted by another role: its sessions assume
    chain = trust({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": assume})
    assert principal_matches(chain, facts(SESSION_ARN, "assumed-role", action=assume))
    service = trust({"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": assume})
    assert principal_matches(service, RequestFacts("lambda.amazonaws.com", "", "service", assume, ROLE, A, {}))
    assert not principal_matches(service, facts(action=assume))
    anyone = trust({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": assume,
                    "Condition": {"StringEquals": {"sts:ExternalId": "xyz"}}})
    assert principal_matches(anyone, facts(f"arn:aws:iam::{B}:user/bob", account=B, action=assume, **{"sts:ExternalId": "xyz"}))
    assert not principal_matches(anyone, facts(action=assume))
    # the action must match, and a Deny wins
    assert not principal_matches(user_trust, facts(action="sts:AssumeRoleWithSAML"))
    denied = trust({"Effect": "Allow", "Principal": {"AWS": A}, "Action": assume},
                   {"Effect": "Deny", "Principal": {"AWS": USER}, "Action": assume})
    assert not principal_matches(denied, facts(action=assume))
    saml = trust({"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{A}:saml-provider/idp"},
                  "Action": "sts:AssumeRoleWithSAML"})
    assert principal_matches(saml, RequestFacts(f"arn:aws:iam::{A}:saml-provider/idp", A, "federated",
                                                "sts:AssumeRoleWithSAML", ROLE, A, {}))
