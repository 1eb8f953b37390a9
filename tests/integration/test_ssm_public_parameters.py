"""SSM: the public /aws/service/ parameters point at the EC2 catalogue; the account's own parameters."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response["Error"]
    return e["Code"], e.get("Message", "")


@pytest.fixture(scope="module")
def ssm(make_client):
    return make_client("ssm", "ap-northeast-2")


AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def test_al2023_parameter_is_the_catalogue_image(ssm, make_client):
    p = ssm.get_parameter(Name=AL2023)["Parameter"]
    assert p["Type"] == "String" and p["DataType"] == "text" and p["Version"] > 1
    assert p["ARN"] == f"arn:aws:ssm:ap-northeast-2::parameter{AL2023}"
    image = make_client("ec2", "ap-northeast-2").describe_images(ImageIds=[p["Value"]])["Images"][0]
    assert image["Name"] == "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64"
    other_region = make_client("ssm", "us-east-1").get_parameter(Name=AL2023)["Parameter"]["Value"]
    assert other_region != p["Value"]


def test_ubuntu_and_arm_parameters(ssm, make_client):
    ubuntu = ssm.get_parameter(
        Name="/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id")["Parameter"]
    image = make_client("ec2", "ap-northeast-2").describe_images(ImageIds=[ubuntu["Value"]])["Images"][0]
    assert image["Name"].startswith("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-")
    arm = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64")["Parameter"]
    image = make_client("ec2", "ap-northeast-2").describe_images(ImageIds=[arm["Value"]])["Images"][0]
    assert image["Architecture"] == "arm64"


def test_get_parameters_reports_the_invalid_ones(ssm):
    out = ssm.get_parameters(Names=[AL2023, "/aws/service/ami-amazon-linux-latest/nope", "/mine/missing"])
    assert [p["Name"] for p in out["Parameters"]] == [AL2023]
    assert out["InvalidParameters"] == ["/aws/service/ami-amazon-linux-latest/nope", "/mine/missing"]


def test_unknown_parameter_is_not_found(ssm):
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/windows-on-a-toaster")
    assert _error(e)[0] == "ParameterNotFound"


def test_get_parameters_by_path_pages(ssm):
    names = []
    for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path="/aws/service/ami-amazon-linux-latest", PaginationConfig={"PageSize": 3}):
        assert len(page["Parameters"]) <= 3
        names += [p["Name"] for p in page["Parameters"]]
    assert AL2023 in names and "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2" in names
    assert len(names) == len(set(names)) == 12
    shallow = ssm.get_parameters_by_path(Path="/aws/service/canonical/ubuntu/server")["Parameters"]
    assert shallow == []
    deep = ssm.get_parameters_by_path(Path="/aws/service/canonical/ubuntu/server/24.04", Recursive=True,
                                      MaxResults=10)["Parameters"]
    assert {p["Name"].split("/")[-4] for p in deep} == {"amd64", "arm64"}


def test_version_selector(ssm):
    version = ssm.get_parameter(Name=AL2023)["Parameter"]["Version"]
    assert ssm.get_parameter(Name=f"{AL2023}:{version}")["Parameter"]["Selector"] == f":{version}"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=f"{AL2023}:1")
    assert _error(e)[0] == "ParameterVersionNotFound"


def test_own_parameters(ssm):
    created = ssm.put_parameter(Name="/app/db/host", Value="db.local", Type="String")
    assert (created["Version"], created["Tier"]) == (1, "Standard")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/app/db/host", Value="other", Type="String")
    assert _error(e)[0] == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name="/app/db/host", Value="db2.local", Overwrite=True)["Version"] == 2
    ssm.put_parameter(Name="/app/db/ports", Value="5432,5433", Type="StringList")
    ssm.put_parameter(Name="/app/name", Value="lab", Type="String")
    p = ssm.get_parameter(Name="/app/db/host")["Parameter"]
    assert p["Value"] == "db2.local" and p["Version"] == 2 and p["ARN"].endswith(":parameter/app/db/host")
    assert ssm.get_parameter(Name="/app/db/host:1")["Parameter"]["Value"] == "db.local"
    shallow = ssm.get_parameters_by_path(Path="/app")["Parameters"]
    assert [x["Name"] for x in shallow] == ["/app/name"]
    deep = ssm.get_parameters_by_path(Path="/app", Recursive=True)["Parameters"]
    assert [x["Name"] for x in deep] == ["/app/db/host", "/app/db/ports", "/app/name"]
    history = ssm.get_parameter_history(Name="/app/db/host")["Parameters"]
    assert [h["Value"] for h in history] == ["db.local", "db2.local"]
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith",
                                                           "Values": ["/app/db"]}])["Parameters"]
    assert {d["Name"] for d in described} == {"/app/db/host", "/app/db/ports"}
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/aws/service/mine", Value="x", Type="String")
    assert _error(e)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="ssm-thing", Value="x", Type="String")
    assert _error(e)[0] == "ValidationException"
    out = ssm.delete_parameters(Names=["/app/db/ports", "/app/none"])
    assert out["DeletedParameters"] == ["/app/db/ports"] and out["InvalidParameters"] == ["/app/none"]
    ssm.delete_parameter(Name="/app/name")
    with pytest.raises(ClientError) as e:
        ssm.delete_parameter(Name="/app/name")
    assert _error(e)[0] == "ParameterNotFound"


def test_cli_get_parameter(aws_cli):
    code, out, err = aws_cli("ssm", "get-parameters", "--names", AL2023, "--query", "Parameters[0].Value",
                             "--output", "text")
    assert code == 0, err
    assert out.strip().startswith("ami-")


def test_resolve_ssm_image_matches_get_parameter(ssm):
    from gureum.services.ec2.images import resolve_ssm_image

    value = ssm.get_parameter(Name=AL2023)["Parameter"]["Value"]
    assert resolve_ssm_image("ap-northeast-2", f"resolve:ssm:{AL2023}") == value
    assert resolve_ssm_image("ap-northeast-2", f"resolve:ssm:{AL2023}:102") == value
    with pytest.raises(Exception) as e:
        resolve_ssm_image("ap-northeast-2", "resolve:ssm:/aws/service/ami-amazon-linux-latest/nope")
    assert getattr(e.value, "code", "") == "InvalidParameterValue"
