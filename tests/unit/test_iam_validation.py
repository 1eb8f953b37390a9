"""IAM's model-driven input validation: the constraints and IAM's wording of failures."""

from __future__ import annotations

import pytest

from gureum.protocol.errors import ServiceError
from gureum.services.iam.validation import check_request, validation_error


def failure(operation: str, request: dict) -> str:
    with pytest.raises(ServiceError) as excinfo:
        check_request(operation, request)
    assert (excinfo.value.code, excinfo.value.status) == ("ValidationError", 400)
    return excinfo.value.message


def test_valid_requests_pass():
    check_request("CreateUser", {"UserName": "alice+ops@example.com", "Path": "/a/b/"})
    check_request("CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 43200})
    check_request("ListPolicies", {"Scope": "AWS", "MaxItems": 1000})
    check_request("CreateAccountAlias", {"AccountAlias": "my-company-1"})
    check_request("TagUser", {"UserName": "u", "Tags": [{"Key": "cost center", "Value": "1:2/3"}]})


def test_pattern_failure_wording():
    assert failure("CreateUser", {"UserName": "a b"}) == (
        "1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )


def test_length_and_range_failures():
    assert failure("CreateGroup", {"GroupName": "g" * 129}).endswith("Member must have length less than or equal to 128")
    assert failure("UpdateAccountPasswordPolicy", {"MinimumPasswordLength": 5}) == (
        "1 validation error detected: Value '5' at 'minimumPasswordLength' failed to satisfy constraint: "
        "Member must have value greater than or equal to 6"
    )
    assert "less than or equal to 24" in failure("UpdateAccountPasswordPolicy", {"PasswordReusePrevention": 25})


def test_several_failures_are_listed_together():
    message = failure("CreateUser", {"UserName": "", "Path": "x"})
    assert message.startswith("3 validation errors detected: ")
    assert message.count("; Value ") == 2


def test_enums_and_nested_members():
    assert failure("ListPolicies", {"Scope": "Mine"}).endswith("Member must satisfy enum value set: [All, AWS, Local]")
    message = failure("TagRole", {"RoleName": "r", "Tags": [{"Key": "ok", "Value": "v"}, {"Key": "", "Value": "v"}]})
    assert "at 'tags.2.member.key'" in message


def test_account_alias_rules():
    for bad in ("Upper", "a--b", "-ab", "ab-", "a_b"):
        failure("CreateAccountAlias", {"AccountAlias": bad})


def test_single_error_helper():
    error = validation_error(7, "durationSeconds", "Member must have value greater than or equal to 900")
    assert error.message == (
        "1 validation error detected: Value '7' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )
