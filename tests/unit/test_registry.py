"""The routing table must say what the botocore models say."""

import pytest

from gureum.gateway.registry import SERVICES
from gureum.protocol.model import service_model


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_spec_matches_model(spec):
    meta = service_model(spec.name).metadata
    assert spec.signing_name == meta.get("signingName", meta["endpointPrefix"])
    assert spec.endpoint_prefix == meta["endpointPrefix"]
    assert spec.target_prefix == meta.get("targetPrefix")
    assert spec.protocols == tuple(meta.get("protocols", [meta["protocol"]]))
