"""Hostile input to every protocol parser (see tests/hostile.py).

Real requests of each protocol, built by botocore's serializer and signed by its signer, are
mutated (seeded hypothesis, a fixed budget) and sent as raw bytes: every answer must be a 4xx
in the protocol's error shape, a 2xx, or NotImplemented 501; never a 500 or a hang; and the
server keeps serving. Named cases pin the bugs the fuzzing found. The module has its own server.
"""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import hostile
from tests.conftest import client_factory

SEEDS = hostile.seeds()
BY_PROTOCOL: dict[str, list[hostile.Seed]] = {}
for _seed in SEEDS:
    if not (_seed.service == "s3" and _seed.operation == "PutObject"):
        BY_PROTOCOL.setdefault(_seed.protocol, []).append(_seed)
PUT_OBJECT = next(s for s in SEEDS if s.operation == "PutObject")
EXAMPLES = 40  # per protocol; seven groups: a few hundred cases in all


@pytest.fixture(scope="module")
def make_client(own_server):
    return client_factory(own_server.endpoint)


@pytest.fixture(scope="module")
def target(own_server, make_client):
    """(host, port) of a server of this module's own (hostile input stays away from the
    shared one), with the bucket and table the seeds address."""
    s3 = make_client("s3")
    try:
        s3.create_bucket(Bucket="hostile-bucket")
    except ClientError:
        pass
    ddb = make_client("dynamodb")
    try:
        ddb.create_table(TableName="hostile", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    except ClientError:
        pass
    return hostile.endpoint_parts(own_server.endpoint)


def check(case: hostile.Case, target) -> hostile.Answer:
    answer, problem = hostile.run_case(case, *target)
    assert problem is None, f"{problem}\nreproducer: {case.reproducer()}"
    return answer


FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("protocol", sorted(BY_PROTOCOL))
def test_mutated_requests_get_aws_errors(protocol, target):
    @FUZZ
    @given(index=st.integers(0, len(BY_PROTOCOL[protocol]) - 1), salt=st.integers(0, 2**32))
    def run(index, salt):
        check(hostile.mutate(BY_PROTOCOL[protocol][index], random.Random(salt)), target)

    run()
    assert hostile.still_serving(*target)


def test_broken_aws_chunked_uploads(target):
    @FUZZ
    @given(salt=st.integers(0, 2**32))
    def run(salt):
        check(hostile.chunked_case(PUT_OBJECT, random.Random(salt)), target)

    run()
    assert hostile.still_serving(*target)


# --------------------------------------------------------------------------- named cases


def _seed(service: str, operation: str) -> hostile.Seed:
    return next(s for s in SEEDS if s.service == service and s.operation == operation)


def _body_case(service: str, operation: str, body: bytes) -> hostile.Case:
    case = hostile.case_of(_seed(service, operation))
    case.body = body
    return case


def test_entities_are_refused_never_expanded_or_read(target):
    for body in (hostile._LAUGHS, hostile._XXE, hostile._XXE_PARAM):
        answer = check(_body_case("s3", "PutBucketTagging", body), target)
        assert answer.status == 400 and b"<Code>MalformedXML</Code>" in answer.body
        assert b"root:" not in answer.body and b"lollol" not in answer.body


def test_missing_required_members_are_validation_errors(target):
    """Each protocol's own validation error, not a provider's KeyError (a 500)."""
    cases = [
        ("dynamodb", "PutItem", b'{"TableName":"hostile"}', 400, b"Value null at 'item'"),
        ("sts", "AssumeRole", b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr",
         400, b"<Code>ValidationError</Code>"),
        ("iam", "PutUserPolicy", b"Action=PutUserPolicy&Version=2010-05-08&UserName=u", 400, b"Value null at 'policyName'"),
        ("ec2", "CreateTags", b"Action=RunInstances&Version=2016-11-15&ImageId=ami-1&MaxCount=1", 400,
         b"The request must contain the parameter MinCount"),
        ("cloudwatch", "PutMetricData", b"", 400, b"ValidationException"),
        ("s3", "DeleteObjects", b"<Delete><Object><VersionId>v</VersionId></Object></Delete>", 400, b"MalformedXML"),
    ]
    for service, operation, body, status, expected in cases:
        answer = check(_body_case(service, operation, body), target)
        assert answer.status == status and expected in answer.body, (service, answer.body)


def test_deep_attribute_values_are_refused_and_the_table_stays_readable(target, make_client):
    """An item nested deeper than the serializers can answer must not be stored (it made every
    Scan of its table fail)."""
    for depth in (70, 300, 5000):
        body = (b'{"TableName":"hostile","Item":{"pk":{"S":"deep"},"d":' + b'{"L":[' * depth
                + b'{"S":"x"}' + b"]}" * depth + b"}}")
        answer = check(_body_case("dynamodb", "PutItem", body), target)
        assert answer.status == 400 and b"SerializationException" in answer.body
    ddb = make_client("dynamodb")
    assert "Item" not in ddb.get_item(TableName="hostile", Key={"pk": {"S": "deep"}})
    ddb.scan(TableName="hostile")


def test_control_characters_in_echoed_input_keep_xml_errors_readable(target):
    """An error message quoting a control character must still parse as XML."""
    for service, operation, body in [
        ("ec2", "CreateTags", b"Action=CreateTags&Version=2016-11-15&ResourceId.1=vpc-1&DryRun=tru%08"),
        ("sts", "GetCallerIdentity", b"Action=GetCall%00erIdentity&Version=2011-06-15"),
    ]:
        answer = check(_body_case(service, operation, body), target)
        assert answer.status == 400


def test_short_body_then_close_is_not_an_internal_error(own_server, target):
    case = _body_case("dynamodb", "PutItem", b'{"TableName":"hostile"')
    case.headers["Content-Length"] = "1000"
    case.sent_body = case.body
    case.framing = True
    check(case, target)
    assert hostile.still_serving(*target)
    assert "client disconnected" not in own_server.log()


def test_oversized_header_sections_are_refused_in_the_protocols_shape(target):
    """httptools reads header sections of any size; the gateway refuses more than 64 KiB."""
    for service, operation in [("sts", "GetCallerIdentity"), ("dynamodb", "Query"), ("s3", "DeleteObjects")]:
        case = hostile.case_of(_seed(service, operation))
        case.headers["x-amz-meta-big"] = "a" * 70_000
        answer = check(case, target)
        assert answer.status == 400 and b"RequestHeaderSectionTooLarge" in answer.body, answer.body[:200]


def test_lone_surrogates_in_json_are_refused(target):
    """Encoded (ED A0 80) or escaped (\\ud800) lone surrogates reached SQLite and were a 500."""
    for name in (b"hostil\xed\xa0\x80e", b"hostil\\ud800e"):
        body = b'{"TableName":"' + name + b'","Item":{"pk":{"S":"k"}}}'
        answer = check(_body_case("dynamodb", "PutItem", body), target)
        assert answer.status == 400 and b"SerializationException" in answer.body
    # A pair of escaped surrogates is one character, as JSON says.
    answer = check(_body_case("dynamodb", "PutItem", b'{"TableName":"hostile","Item":{"pk":{"S":"\\ud83d\\ude00"}}}'),
                   target)
    assert answer.status == 200
