"""Service Quotas: AWS's quota codes, applied and default values, increases approved at once."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

STANDARD = "L-1216C47A"


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response["Error"]
    return e["Code"], e.get("Message", "")


@pytest.fixture(scope="module")
def sq(make_client):
    return make_client("service-quotas", "eu-west-3")


def test_services_and_ec2_quotas(sq):
    services = {s["ServiceCode"]: s["ServiceName"] for s in sq.list_services()["Services"]}
    assert services["ec2"] == "Amazon Elastic Compute Cloud (Amazon EC2)"
    assert {"s3", "dynamodb", "iam", "vpc", "ebs"} <= set(services)
    quotas = {q["QuotaCode"]: q for q in sq.list_service_quotas(ServiceCode="ec2")["Quotas"]}
    standard = quotas[STANDARD]
    assert standard["QuotaName"] == "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"
    assert standard["Value"] == 32.0 and standard["Adjustable"] is True and standard["GlobalQuota"] is False
    assert standard["UsageMetric"]["MetricDimensions"]["Resource"] == "vCPU"
    assert standard["QuotaArn"].startswith("arn:aws:servicequotas:eu-west-3:") and standard["QuotaArn"].endswith(
        f":ec2/{STANDARD}")
    assert quotas["L-0263D0A3"]["QuotaName"] == "EC2-VPC Elastic IPs" and quotas["L-0263D0A3"]["Value"] == 5.0
    assert quotas["L-DB2E81BA"]["QuotaName"] == "Running On-Demand G and VT instances"
    s3 = sq.get_service_quota(ServiceCode="s3", QuotaCode="L-DC2B2D3D")["Quota"]
    assert s3["QuotaName"] == "General purpose buckets" and s3["Value"] == 10000.0


def test_default_quota_arn_has_no_account(sq):
    default = sq.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode=STANDARD)["Quota"]
    assert default["QuotaArn"] == f"arn:aws:servicequotas:eu-west-3::ec2/{STANDARD}" and default["Value"] == 32.0


def test_unknown_service_and_quota(sq):
    with pytest.raises(ClientError) as e:
        sq.get_service_quota(ServiceCode="nope", QuotaCode=STANDARD)
    assert _error(e)[0] == "NoSuchResourceException"
    with pytest.raises(ClientError) as e:
        sq.get_service_quota(ServiceCode="ec2", QuotaCode="L-00000000")
    assert _error(e)[0] == "NoSuchResourceException"


def test_increase_is_approved_and_kept_in_history(sq, make_client):
    with pytest.raises(ClientError) as e:
        sq.request_service_quota_increase(ServiceCode="ec2", QuotaCode=STANDARD, DesiredValue=16)
    assert _error(e)[0] == "IllegalArgumentException"
    made = sq.request_service_quota_increase(ServiceCode="ec2", QuotaCode=STANDARD, DesiredValue=64)["RequestedQuota"]
    assert made["Status"] == "CASE_OPENED" and made["DesiredValue"] == 64.0 and made["CaseId"]
    with pytest.raises(ClientError) as e:
        sq.request_service_quota_increase(ServiceCode="ec2", QuotaCode=STANDARD, DesiredValue=96)
    assert _error(e)[0] == "ResourceAlreadyExistsException"
    got = sq.get_requested_service_quota_change(RequestId=made["Id"])["RequestedQuota"]
    assert got["Status"] == "APPROVED" and got["QuotaName"] == made["QuotaName"]
    assert sq.get_service_quota(ServiceCode="ec2", QuotaCode=STANDARD)["Quota"]["Value"] == 64.0
    assert sq.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode=STANDARD)["Quota"]["Value"] == 32.0
    # Quotas are regional: another region still has the default.
    elsewhere = make_client("service-quotas", "eu-west-2")
    assert elsewhere.get_service_quota(ServiceCode="ec2", QuotaCode=STANDARD)["Quota"]["Value"] == 32.0

    sq.request_service_quota_increase(ServiceCode="ec2", QuotaCode="L-0263D0A3", DesiredValue=10)
    history = sq.list_requested_service_quota_change_history(ServiceCode="ec2")["RequestedQuotas"]
    assert [h["QuotaCode"] for h in history] == ["L-0263D0A3", STANDARD]
    assert all(h["Status"] == "APPROVED" for h in history)
    by_quota = sq.list_requested_service_quota_change_history_by_quota(
        ServiceCode="ec2", QuotaCode=STANDARD)["RequestedQuotas"]
    assert [h["Id"] for h in by_quota] == [made["Id"]]
    assert sq.list_requested_service_quota_change_history(Status="DENIED")["RequestedQuotas"] == []


def test_global_quotas_and_not_adjustable(sq, make_client):
    roles = sq.get_service_quota(ServiceCode="iam", QuotaCode="L-FE177D64")["Quota"]
    assert roles["GlobalQuota"] is True and roles["QuotaArn"].startswith("arn:aws:servicequotas:us-east-1:")
    sq.request_service_quota_increase(ServiceCode="iam", QuotaCode="L-FE177D64", DesiredValue=2000)
    other = make_client("service-quotas", "ap-south-1")
    assert other.get_service_quota(ServiceCode="iam", QuotaCode="L-FE177D64")["Quota"]["Value"] == 2000.0
    with pytest.raises(ClientError) as e:
        sq.request_service_quota_increase(ServiceCode="dynamodb", QuotaCode="L-B5A90E5F", DesiredValue=80000)
    assert _error(e)[0] == "IllegalArgumentException"


def test_cli(aws_cli):
    code, out, err = aws_cli("service-quotas", "get-service-quota", "--service-code", "ec2", "--quota-code",
                             "L-0263D0A3", "--region", "sa-east-1", "--query", "Quota.Value", "--output", "text")
    assert code == 0, err
    assert out.strip() == "5.0"
