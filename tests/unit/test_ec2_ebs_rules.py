"""EBS volume types' rules and the scheduled state changes of EC2 resources."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import instance_state, lifecycle
from gureum.services.ec2.volumes import PROVISIONED_IOPS, SIZES, volume_spec


@given(st.integers(min_value=1, max_value=16384))
def test_gp2_iops_follow_size(size):
    assert volume_spec("gp2", size, None, None) == {"Iops": min(max(100, 3 * size), 16000)}


@given(st.sampled_from(sorted(SIZES)), st.integers(min_value=0, max_value=70000))
def test_sizes_outside_a_types_range_are_refused(volume_type, size):
    low, high = SIZES[volume_type]
    iops = PROVISIONED_IOPS.get(volume_type, (None, None, None))[0] if volume_type in ("io1", "io2") else None
    if low <= size <= high:
        try:
            volume_spec(volume_type, size, iops, None)
        except ServiceError as e:  # only the IOPS ratio may refuse a size in range
            assert "ratio" in e.message
    else:
        with pytest.raises(ServiceError) as e:
            volume_spec(volume_type, size, iops, None)
        assert e.value.code == "InvalidParameterValue"
        assert ("too small" if size < low else "too large") in e.value.message


@given(st.integers(min_value=1, max_value=16384), st.integers(min_value=3000, max_value=16000),
       st.integers(min_value=125, max_value=1000))
def test_gp3_limits(size, iops, throughput):
    ok = iops <= 500 * size or iops == 3000
    ok = ok and throughput <= iops / 4
    if ok:
        assert volume_spec("gp3", size, iops, throughput) == {"Iops": iops, "Throughput": throughput}
    else:
        with pytest.raises(ServiceError):
            volume_spec("gp3", size, iops, throughput)


def test_iops_and_throughput_belong_to_some_types():
    with pytest.raises(ServiceError) as e:
        volume_spec("st1", 500, 100, None)
    assert e.value.code == "InvalidParameterCombination"
    with pytest.raises(ServiceError) as e:
        volume_spec("io2", 10, 1000, 200)
    assert e.value.code == "InvalidParameterCombination"
    assert volume_spec("io2", 10, 10000, None) == {"Iops": 10000}


def test_advance_applies_due_changes_in_order():
    doc = {"State": "a"}
    lifecycle.schedule(doc, 20.0, {"State": "c", "Extra": None})
    lifecycle.schedule(doc, 10.0, {"State": "b", "Extra": 1})
    assert lifecycle.advance(doc, 5.0) == []
    assert lifecycle.advance(doc, 10.0) == [{"State": "b", "Extra": 1}]
    assert doc["State"] == "b" and doc["Extra"] == 1
    assert len(lifecycle.advance(doc, 30.0)) == 1
    assert doc == {"State": "c"}  # None removes a key; an empty timeline goes away


def test_instance_transitions_schedule_what_follows():
    doc: dict = {}
    instance_state.transition(doc, "pending", 100.0)
    assert doc["State"] == {"Code": 0, "Name": "pending"}
    patches = lifecycle.advance(doc, 100.0 + lifecycle.boot_seconds())
    assert instance_state.reached(patches) == ["running"] and "StateReason" not in doc
    instance_state.transition(doc, "shutting-down", 200.0, reason=instance_state.USER_SHUTDOWN,
                              text=instance_state.user_initiated(200.0))
    assert doc["StateTransitionReason"] == "User initiated (1970-01-01 00:03:20 GMT)"
    patches = lifecycle.advance(doc, 200.0 + lifecycle.stop_seconds())
    assert instance_state.reached(patches) == ["terminated"]
    assert not doc.get(instance_state.GONE)
    lifecycle.advance(doc, 200.0 + lifecycle.stop_seconds() + lifecycle.TERMINATED_VISIBLE_SECONDS)
    assert doc[instance_state.GONE] is True
