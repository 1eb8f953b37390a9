"""EC2 filter evaluation and paging, on real describe-shaped documents."""

from __future__ import annotations

import pytest

from gureum.protocol.errors import ServiceError
from gureum.services.ec2 import filters
from gureum.services.ec2.store import paginate

SPEC = filters.paths({
    "instance-id": "InstanceId",
    "availability-zone": "Placement.AvailabilityZone",
    "network-interface.private-ip-address": "NetworkInterfaces.PrivateIpAddresses.PrivateIpAddress",
    "ebs-optimized": "EbsOptimized",
})

DOCS = [
    {"InstanceId": "i-1", "Placement": {"AvailabilityZone": "us-east-1a"}, "EbsOptimized": False,
     "NetworkInterfaces": [{"PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.5"}, {"PrivateIpAddress": "10.0.0.6"}]}],
     "Tags": [{"Key": "Name", "Value": "web-1"}, {"Key": "env", "Value": "prod"}]},
    {"InstanceId": "i-2", "Placement": {"AvailabilityZone": "us-east-1b"}, "EbsOptimized": True,
     "NetworkInterfaces": [], "Tags": [{"Key": "Name", "Value": "db*1"}]},
]


def ids(flt):
    return [d["InstanceId"] for d in filters.apply(DOCS, flt, SPEC)]


def test_values_or_filters_and():
    assert ids([{"Name": "availability-zone", "Values": ["us-east-1a", "us-east-1b"]}]) == ["i-1", "i-2"]
    assert ids([{"Name": "availability-zone", "Values": ["us-east-1b"]},
                {"Name": "instance-id", "Values": ["i-1"]}]) == []


def test_wildcards_escapes_booleans_and_nested_lists():
    assert ids([{"Name": "availability-zone", "Values": ["*-1?"]}]) == ["i-1", "i-2"]
    assert ids([{"Name": "tag:Name", "Values": ["db\\*1"]}]) == ["i-2"]
    assert ids([{"Name": "tag:Name", "Values": ["web-?"]}]) == ["i-1"]
    assert ids([{"Name": "ebs-optimized", "Values": ["true"]}]) == ["i-2"]
    assert ids([{"Name": "network-interface.private-ip-address", "Values": ["10.0.0.6"]}]) == ["i-1"]
    assert ids([{"Name": "tag-key", "Values": ["env"]}]) == ["i-1"]
    assert ids([{"Name": "tag-value", "Values": ["prod", "nothing"]}]) == ["i-1"]


def test_unknown_filter_and_long_value_refused():
    with pytest.raises(ServiceError) as e:
        ids([{"Name": "bogus", "Values": ["x"]}])
    assert (e.value.code, e.value.message) == ("InvalidParameterValue", "The filter 'bogus' is invalid")
    with pytest.raises(ServiceError) as e:
        ids([{"Name": "instance-id", "Values": ["x" * 256]}])
    assert e.value.code == "FilterLimitExceeded"


def test_paginate_pages_and_bounds():
    items = list(range(12))
    page, token = paginate(items, {"MaxResults": 5})
    assert page == [0, 1, 2, 3, 4] and token
    page, token = paginate(items, {"MaxResults": 5, "NextToken": token})
    assert page == [5, 6, 7, 8, 9]
    page, token = paginate(items, {"MaxResults": 5, "NextToken": token})
    assert page == [10, 11] and token is None
    with pytest.raises(ServiceError) as e:
        paginate(items, {"MaxResults": 3})
    assert e.value.code == "InvalidParameterValue"
    with pytest.raises(ServiceError) as e:
        paginate(items, {"MaxResults": 6, "InstanceIds": ["i-1"]}, ids_given="InstanceIds")
    assert e.value.message == "The parameter instancesSet cannot be used with the parameter maxResults"
