"""Wire fidelity of gureum's protocol layer, for every operation of every supported service.

Two round trips per (service, protocol, operation), each over hypothesis-generated values
valid for the botocore model (see strategies.py):

- test_parse: parameters -> botocore's own client serializer -> the HTTP request a client
  sends to http://localhost:4566 -> gureum.protocol.dispatch.parse -> the same operation,
  the same protocol and the same parameters.
- test_serialize: an operation result -> gureum.protocol.serializers.serialize_response ->
  botocore's own response parser -> the same result.

Both sides of each comparison are normalised alike (wire.py): timestamps as UTC datetimes at
the precision of their wire format, floats within their type's precision, ints and bools
kept apart, blobs as bytes, streamed bodies as the bytes they carry, and empty collections
the wire cannot express treated as absent. Members that cannot round-trip (host labels,
checksums a client computes itself, members botocore never reads) are left out; operations
with event streams are skipped in the direction that streams.

Run:
    .venv/bin/pytest tests/fidelity -q                    # all, 5 examples per operation
    .venv/bin/pytest tests/fidelity -q -n 2               # on two cores
    .venv/bin/pytest tests/fidelity -q -k "s3-rest-xml"   # one service
    GUREUM_FIDELITY_EXAMPLES=50 .venv/bin/pytest tests/fidelity -q    # more examples
    GUREUM_FIDELITY_SHRINK=1 ...                          # minimal failing examples (slower)

Examples are derandomized (a fixed seed), so runs are repeatable. The session ends with a
"fidelity:" summary per direction and per service (conftest.py).
"""

from __future__ import annotations

import copy
import functools
import importlib
import os
import re

import pytest
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, Phase, given, settings

from gureum.protocol.model import service_model

from .strategies import operation_input, operation_output
from .wire import client_reads, client_request, differences, normalize

SERVICES = (
    "s3", "dynamodb", "iam", "sts", "ec2", "lambda", "sns", "sqs", "cloudwatch", "logs", "kms",
    "route53", "cloudfront", "rds", "elasticache", "wafv2", "organizations", "efs",
)
EXAMPLES = int(os.environ.get("GUREUM_FIDELITY_EXAMPLES", "5"))
SHRINK = os.environ.get("GUREUM_FIDELITY_SHRINK", "") not in ("", "0")
REQUEST_ID = "3f1e6c1a-9d2b-4c55-8a44-0e5c2d1b7a90"

_validator = ParamValidator()


def _cases() -> list:
    cases = []
    for service in SERVICES:
        model = service_model(service)
        for protocol in model.metadata.get("protocols") or [model.protocol]:
            for name in model.operation_names:
                cases.append(pytest.param(service, protocol, name, id=f"{service}-{protocol}-{name}"))
    return cases


CASES = _cases()


def _settings() -> settings:
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if SHRINK else [])
    return settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=phases,
        report_multiple_bugs=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


def _module(name: str, attribute: str):
    """The protocol layer's entry point, or a skip while it does not exist yet."""
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is not None and name.startswith(e.name):
            pytest.skip(f"{name} is not there yet")
        raise
    if not hasattr(module, attribute):
        pytest.skip(f"{name}.{attribute} is not there yet")
    return getattr(module, attribute)


@functools.lru_cache(maxsize=None)
def _bindings(service: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """REST operations by (method, URI template with labels unnamed)."""
    model = service_model(service)
    found: dict[tuple[str, str], list[str]] = {}
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = re.sub(r"\{[^}+]+(\+?)\}", r"{\1}", http.get("requestUri", "/"))
        found.setdefault((http.get("method", "POST"), uri), []).append(name)
    return {key: tuple(names) for key, names in found.items()}


def _twins(service: str, protocol: str, operation_name: str) -> frozenset[str]:
    """Other operations a REST request of this one is indistinguishable from
    (S3's deprecated GetBucketLifecycle and GetBucketLifecycleConfiguration, ...)."""
    if protocol not in ("rest-json", "rest-xml"):
        return frozenset()
    for names in _bindings(service).values():
        if operation_name in names:
            return frozenset(names) - {operation_name}
    return frozenset()


def _assert_valid(values: dict, shape) -> None:
    """The generated values must be valid for botocore itself, or the test proves nothing."""
    if shape is None:
        return
    report = _validator.validate(values, shape)
    assert not report.has_errors(), f"strategy produced invalid values:\n{report.generate_report()}"


@pytest.mark.parametrize("service,protocol,operation_name", CASES)
def test_parse(service: str, protocol: str, operation_name: str) -> None:
    parse = _module("gureum.protocol.dispatch", "parse")
    resolve = _module("gureum.protocol.dispatch", "resolve")
    model = service_model(service)
    operation = model.operation_model(operation_name)
    if operation.has_event_stream_input:
        pytest.skip("event stream input")

    twins = _twins(service, protocol, operation_name)
    parsed_as_twin: set[str] = set()

    @_settings()
    @given(operation_input(operation, protocol))
    def round_trip(params: dict) -> None:
        _assert_valid(params, operation.input_shape)
        request = client_request(operation, protocol, params)
        # A twin's body may not validate against this operation's shape: tell them apart first.
        got_protocol, got_operation, _ = resolve(model, request)
        if got_protocol == protocol and got_operation.name in twins:
            parsed_as_twin.add(got_operation.name)
            return
        got_protocol, got_operation, got = parse(model, request)
        assert (got_protocol, got_operation.name) == (protocol, operation_name)
        got, expected = normalize(operation, protocol, "input", got), normalize(operation, protocol, "input", params)
        assert got == expected, "\n".join(differences(got, expected))

    round_trip()
    if parsed_as_twin:
        pytest.skip(f"parsed as {', '.join(sorted(parsed_as_twin))}: the same HTTP binding, the wire cannot tell")


@pytest.mark.parametrize("service,protocol,operation_name", CASES)
def test_serialize(service: str, protocol: str, operation_name: str) -> None:
    serialize_response = _module("gureum.protocol.serializers", "serialize_response")
    operation = service_model(service).operation_model(operation_name)
    if operation.has_event_stream_output:
        pytest.skip("event stream output")

    @_settings()
    @given(operation_output(operation, protocol))
    def round_trip(output: dict) -> None:
        _assert_valid(output, operation.output_shape)
        response = serialize_response(protocol, operation, copy.deepcopy(output), REQUEST_ID)
        got = client_reads(operation, protocol, response)
        got, expected = normalize(operation, protocol, "output", got), normalize(operation, protocol, "output", output)
        assert got == expected, "\n".join(differences(got, expected))

    round_trip()
