"""The pieces of the policy simulator with their own logic: matched statements and positions."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

from gureum.policy.document import parse_policy
from gureum.policy.engine import Policy, RequestFacts, applicable_statements
from gureum.services.iam.simulate import statement_positions

A = "111122223333"
USER = f"arn:aws:iam::{A}:user/alice"
OBJECT = "arn:aws:s3:::photos/cat.jpg"


def facts(action="s3:GetObject", resource=OBJECT, **context) -> RequestFacts:
    return RequestFacts(USER, A, "user", action, resource, None, context)


def document(*statements: dict, kind: str = "identity") -> Policy:
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return Policy(parse_policy(text, kind), kind, "p")


TAGGED = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*",
          "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}
PLAIN = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECT}
OTHER = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}
DENY = {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}


def test_applicable_statements_in_document_order():
    p = document(TAGGED, OTHER, PLAIN, DENY)
    statements = p.document.statements
    assert applicable_statements(facts(), p, allow=True) == [statements[2]]
    assert applicable_statements(facts(**{"aws:PrincipalTag/team": "blue"}), p, allow=True) == [
        statements[0], statements[2]]
    assert applicable_statements(facts(), p, allow=True, conditions=False) == [statements[0], statements[2]]
    assert applicable_statements(facts(), p, allow=False) == [statements[3]]
    assert applicable_statements(facts(action="sqs:SendMessage"), p, allow=False) == []


def test_applicable_statements_of_resource_policies_name_the_principal():
    others = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "s3:*",
              "Resource": "*"}
    mine = {"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"}
    p = document(others, mine, kind="resource")
    assert applicable_statements(facts(), p, allow=True, check_principal=True) == [p.document.statements[1]]
    assert len(applicable_statements(facts(), p, allow=True)) == 2


def test_positions_of_the_aws_documentation_example():
    text = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",'
            '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}')
    assert statement_positions(text) == [((1, 38), (1, 167))]


def test_positions_of_a_pretty_printed_list():
    text = json.dumps({"Version": "2012-10-17", "Statement": [PLAIN, DENY]}, indent=4)
    assert statement_positions(text) == [((4, 10), (8, 10)), ((9, 10), (13, 10))]


def test_positions_skip_strings_with_brackets_and_take_the_last_statement_key():
    text = '{"Statement": [{"Sid": "a}{]["}], "Id": "x\\"{", "Statement": [ {"Effect":"Allow"} ,\n{}]}'
    assert statement_positions(text) == [((1, 65), (1, 82)), ((2, 2), (2, 3))]
    assert statement_positions("[]") == []
    assert statement_positions('{"Statement": "x"}') == []


_STATEMENT = st.fixed_dictionaries({
    "Effect": st.sampled_from(["Allow", "Deny"]),
    "Action": st.text(min_size=1, max_size=8),
    "Resource": st.lists(st.text(max_size=6), max_size=3),
})


@given(st.lists(_STATEMENT, min_size=1, max_size=4), st.sampled_from([None, 0, 2, 4]), st.booleans())
def test_positions_delimit_each_statement(statements, indent, ascii_only):
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=indent, ensure_ascii=ascii_only)
    lines = text.split("\n")
    spans = statement_positions(text)
    assert len(spans) == len(statements)
    for ((l1, c1), (l2, c2)), statement in zip(spans, statements):
        # From just after "{" to just after "}": the text between is the statement's body.
        body = "\n".join([lines[l1 - 1][c1 - 1:]] + lines[l1:l2 - 1] + [lines[l2 - 1][:c2 - 1]]) if l2 > l1 \
            else lines[l1 - 1][c1 - 1:c2 - 1]
        assert json.loads("{" + body) == statement
