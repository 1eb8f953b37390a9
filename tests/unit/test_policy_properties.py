"""Properties of the evaluation logic over generated policies and requests."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from gureum.policy.document import parse_policy
from gureum.policy.engine import Policy, PolicySet, RequestFacts, evaluate

A, B = "111122223333", "444455556666"
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "ec2:RunInstances", "iam:ListUsers"]
ACTION_PATTERNS = ACTIONS + ["s3:*", "s3:Get*", "*", "ec2:*", "iam:List*", "S3:put?bject"]
RESOURCES = ["arn:aws:s3:::b/alice/x", "arn:aws:s3:::b", "arn:aws:s3:::c/y", "*"]
RESOURCE_PATTERNS = ["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b", "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::?/*"]
CONDITIONS = [
    {"StringEquals": {"aws:username": "alice"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringNotEqualsIfExists": {"aws:RequestTag/team": "red"}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["team", "env*"]}},
    {"Null": {"aws:MultiFactorAuthAge": "true"}},
]
PRINCIPALS = ["*", {"AWS": A}, {"AWS": f"arn:aws:iam::{A}:user/alice"}, {"AWS": f"arn:aws:iam::{A}:role/r"},
              {"AWS": f"arn:aws:sts::{A}:assumed-role/r/s"}, {"AWS": B}, {"Service": "sns.amazonaws.com"}]
CALLERS = [
    (f"arn:aws:iam::{A}:user/alice", A, "user", f"arn:aws:iam::{A}:user/alice"),
    (f"arn:aws:sts::{A}:assumed-role/r/s", A, "assumed-role", f"arn:aws:iam::{A}:role/r"),
    (f"arn:aws:iam::{B}:user/bob", B, "user", f"arn:aws:iam::{B}:user/bob"),
    (f"arn:aws:iam::{A}:root", A, "root", f"arn:aws:iam::{A}:root"),
    ("*", "", "anonymous", None),
]


def statement(effect: st.SearchStrategy[str], with_principal: bool) -> st.SearchStrategy[dict]:
    def build(effect, not_action, actions, not_resource, resources, condition, principal):
        body = {"Effect": effect, "NotAction" if not_action else "Action": actions,
                "NotResource" if not_resource else "Resource": resources}
        if condition is not None:
            body["Condition"] = condition
        if with_principal:
            body["Principal"] = principal
        return body

    return st.builds(
        build, effect, st.booleans(), st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3),
        st.booleans(), st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2),
        st.none() | st.sampled_from(CONDITIONS), st.sampled_from(PRINCIPALS),
    )


def statements(with_principal: bool = False, effect=st.sampled_from(["Allow", "Deny"])):
    return st.lists(statement(effect, with_principal), min_size=1, max_size=4)


def to_policy(body: list[dict], kind: str) -> Policy:
    text = json.dumps({"Version": "2012-10-17", "Statement": body})
    return Policy(parse_policy(text, kind), kind, kind)


requests = st.builds(
    lambda caller, action, resource, ctx: RequestFacts(
        caller[0], caller[1], caller[2], action, resource, A if resource.startswith("arn:") else None,
        {k: v for k, v in {**ctx, "aws:PrincipalArn": caller[3]}.items() if v is not None},
    ),
    st.sampled_from(CALLERS), st.sampled_from(ACTIONS), st.sampled_from(RESOURCES),
    st.fixed_dictionaries({}, optional={
        "aws:username": st.sampled_from(["alice", "bob"]), "aws:SecureTransport": st.sampled_from(["true", "false"]),
        "aws:SourceIp": st.sampled_from(["10.1.1.1", "192.168.1.1"]), "aws:RequestTag/team": st.sampled_from(["red", "blue"]),
        "aws:TagKeys": st.lists(st.sampled_from(["team", "env", "owner"]), max_size=2),
        "aws:MultiFactorAuthAge": st.just("30"),
    }),
)


@st.composite
def policy_sets(draw) -> dict:
    return {
        "identity": draw(st.lists(statements(), max_size=3)),
        "resource": draw(st.none() | statements(with_principal=True)),
        "boundary": draw(st.none() | statements()),
        "session": draw(st.none() | statements()),
        "scp": draw(st.none() | statements()),
    }


def build(spec: dict, caller_type: str) -> PolicySet:
    return PolicySet(
        identity=[to_policy(s, "identity") for s in spec["identity"]],
        resource=[to_policy(spec["resource"], "resource")] if spec["resource"] else [],
        boundary=to_policy(spec["boundary"], "boundary") if spec["boundary"] else None,
        session=[to_policy(spec["session"], "session")] if spec["session"] else [],
        scps=[[to_policy(spec["scp"], "scp")]] if spec["scp"] else [],
        is_root=caller_type == "root",
    )


@settings(max_examples=120, deadline=None)
@given(policy_sets(), requests, statement(st.just("Deny"), False), st.sampled_from(["identity", "boundary", "session", "scp"]))
def test_adding_a_deny_never_grants(spec: dict, facts: RequestFacts, extra: dict, where: str) -> None:
    before = evaluate(facts, build(spec, facts.principal_type)).allowed
    spec = dict(spec)
    if where == "identity":
        spec["identity"] = [*spec["identity"], [extra]]
    else:
        spec[where] = [*(spec[where] or [{"Effect": "Allow", "Action": "*", "Resource": "*"}]), extra]
    after = evaluate(facts, build(spec, facts.principal_type)).allowed
    assert not (after and not before)


@settings(max_examples=120, deadline=None)
@given(policy_sets(), requests, statement(st.just("Deny"), True))
def test_adding_a_resource_deny_never_grants(spec: dict, facts: RequestFacts, extra: dict) -> None:
    before = evaluate(facts, build(spec, facts.principal_type)).allowed
    spec = {**spec, "resource": [*(spec["resource"] or []), extra]}
    assert not (evaluate(facts, build(spec, facts.principal_type)).allowed and not before)


@settings(max_examples=120, deadline=None)
@given(policy_sets(), requests, statement(st.just("Allow"), False))
def test_adding_an_identity_allow_never_removes_access(spec: dict, facts: RequestFacts, extra: dict) -> None:
    before = evaluate(facts, build(spec, facts.principal_type)).allowed
    spec = {**spec, "identity": [*spec["identity"], [extra]]}
    assert evaluate(facts, build(spec, facts.principal_type)).allowed or not before


@settings(max_examples=120, deadline=None)
@given(policy_sets(), requests, st.randoms(use_true_random=False))
def test_statement_order_does_not_matter(spec: dict, facts: RequestFacts, rnd) -> None:
    before = evaluate(facts, build(spec, facts.principal_type))

    def shuffled(body):
        if body is None:
            return None
        body = list(body)
        rnd.shuffle(body)
        return body

    reordered = {k: shuffled(v) for k, v in spec.items() if k != "identity"}
    identity = [shuffled(p) for p in spec["identity"]]
    rnd.shuffle(identity)
    after = evaluate(facts, build({**reordered, "identity": identity}, facts.principal_type))
    assert (after.allowed, after.reason) == (before.allowed, before.reason)
    if before.reason == "no_allow":
        assert after.denied_by == before.denied_by
