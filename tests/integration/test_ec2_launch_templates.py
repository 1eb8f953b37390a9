"""Launch templates with boto3: versions, $Latest/$Default, and RunInstances from a template."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

REGION = "ca-central-1"


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"]


@pytest.fixture(scope="module")
def ec2(make_client):
    return make_client("ec2", REGION)


@pytest.fixture(scope="module")
def ami(ec2):
    return ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023*"]}, {"Name": "architecture", "Values": ["x86_64"]}])["Images"][0]


def test_versions(ec2, ami):
    created = ec2.create_launch_template(
        LaunchTemplateName="web-template", VersionDescription="first",
        LaunchTemplateData={"ImageId": ami["ImageId"], "InstanceType": "t3.micro"},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "app", "Value": "web"}]}],
    )["LaunchTemplate"]
    template_id = created["LaunchTemplateId"]
    assert template_id.startswith("lt-") and created["DefaultVersionNumber"] == created["LatestVersionNumber"] == 1
    assert created["CreatedBy"] == "arn:aws:iam::000000000000:root"
    with pytest.raises(ClientError) as e:
        ec2.create_launch_template(LaunchTemplateName="web-template", LaunchTemplateData={"InstanceType": "t3.micro"})
    assert _error(e) == ("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
    with pytest.raises(ClientError) as e:
        ec2.create_launch_template(LaunchTemplateName="x", LaunchTemplateData={})
    assert _error(e)[0] == "InvalidLaunchTemplateName.MalformedException"
    with pytest.raises(ClientError) as e:
        ec2.create_launch_template(LaunchTemplateName="bad-type", LaunchTemplateData={"InstanceType": "t2.huge"})
    assert _error(e)[0] == "InvalidParameterValue"

    v2 = ec2.create_launch_template_version(LaunchTemplateId=template_id, SourceVersion="1",
                                            VersionDescription="bigger",
                                            LaunchTemplateData={"InstanceType": "t3.small"})["LaunchTemplateVersion"]
    assert v2["VersionNumber"] == 2 and v2["DefaultVersion"] is False
    assert v2["LaunchTemplateData"] == {"ImageId": ami["ImageId"], "InstanceType": "t3.small"}
    ec2.create_launch_template_version(LaunchTemplateName="web-template", LaunchTemplateData={"InstanceType": "t3.nano"})
    latest = ec2.describe_launch_template_versions(LaunchTemplateId=template_id, Versions=["$Latest"])[
        "LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in latest] == [3]
    default = ec2.describe_launch_template_versions(LaunchTemplateName="web-template", Versions=["$Default"])[
        "LaunchTemplateVersions"]
    assert default[0]["VersionNumber"] == 1 and default[0]["DefaultVersion"] is True
    every = ec2.describe_launch_template_versions(LaunchTemplateId=template_id)["LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in every] == [3, 2, 1]
    ranged = ec2.describe_launch_template_versions(LaunchTemplateId=template_id, MinVersion="2", MaxVersion="2")
    assert [v["VersionNumber"] for v in ranged["LaunchTemplateVersions"]] == [2]
    small = ec2.describe_launch_template_versions(LaunchTemplateId=template_id, Filters=[
        {"Name": "instance-type", "Values": ["t3.small"]}])["LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in small] == [2]

    modified = ec2.modify_launch_template(LaunchTemplateId=template_id, DefaultVersion="2")["LaunchTemplate"]
    assert modified["DefaultVersionNumber"] == 2
    with pytest.raises(ClientError) as e:
        ec2.modify_launch_template(LaunchTemplateId=template_id, DefaultVersion="9")
    assert _error(e)[0] == "InvalidLaunchTemplateId.VersionNotFound"
    described = ec2.describe_launch_templates(LaunchTemplateNames=["web-template"])["LaunchTemplates"][0]
    assert described["DefaultVersionNumber"] == 2 and described["LatestVersionNumber"] == 3
    assert described["Tags"] == [{"Key": "app", "Value": "web"}]
    assert ec2.describe_launch_templates(Filters=[{"Name": "tag:app", "Values": ["web"]}])["LaunchTemplates"]

    deleted = ec2.delete_launch_template_versions(LaunchTemplateId=template_id, Versions=["2", "3", "7"])
    assert [v["VersionNumber"] for v in deleted["SuccessfullyDeletedLaunchTemplateVersions"]] == [3]
    errors = {v["VersionNumber"]: v["ResponseError"]["Code"]
              for v in deleted["UnsuccessfullyDeletedLaunchTemplateVersions"]}
    assert errors == {2: "launchTemplateVersionIsDefaultVersion", 7: "launchTemplateVersionDoesNotExist"}

    ec2.delete_launch_template(LaunchTemplateId=template_id)
    with pytest.raises(ClientError) as e:
        ec2.describe_launch_templates(LaunchTemplateIds=[template_id])
    assert _error(e) == ("InvalidLaunchTemplateId.NotFound",
                         f"The specified launch template, with template ID {template_id}, does not exist.")
    with pytest.raises(ClientError) as e:
        ec2.describe_launch_templates(LaunchTemplateNames=["web-template"])
    assert _error(e) == ("InvalidLaunchTemplateName.NotFoundException",
                         "At least one of the launch templates specified in the request does not exist.")


def test_run_instances_from_a_template(ec2, ami):
    ec2.create_key_pair(KeyName="lt-key")
    template = ec2.create_launch_template(LaunchTemplateName="app-template", LaunchTemplateData={
        "ImageId": ami["ImageId"], "InstanceType": "t3.micro", "KeyName": "lt-key",
        "UserData": "IyEvYmluL2Jhc2gKZWNobyBoaQo=",
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "a"},
                                                                    {"Key": "tier", "Value": "web"}]}],
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 12}}],
    })["LaunchTemplate"]
    ec2.create_launch_template_version(LaunchTemplateId=template["LaunchTemplateId"], SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.small"})
    r = ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": "app-template"},
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "b"}]}])
    instance = r["Instances"][0]
    assert instance["InstanceType"] == "t3.micro" and instance["KeyName"] == "lt-key"
    tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
    assert tags["team"] == "b" and tags["tier"] == "web"
    assert tags["aws:ec2launchtemplate:id"] == template["LaunchTemplateId"]
    assert tags["aws:ec2launchtemplate:version"] == "1"
    root = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance["InstanceId"]]}])[
        "Volumes"][0]
    assert root["Size"] == 12
    user_data = ec2.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="userData")
    assert user_data["UserData"]["Value"] == "IyEvYmluL2Jhc2gKZWNobyBoaQo="
    latest = ec2.run_instances(MinCount=1, MaxCount=1, InstanceType="t3.nano", LaunchTemplate={
        "LaunchTemplateId": template["LaunchTemplateId"], "Version": "$Latest"})["Instances"][0]
    assert latest["InstanceType"] == "t3.nano"  # the request wins over the template
    with pytest.raises(ClientError) as e:
        ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"],
                                                                  "Version": "5"})
    assert _error(e)[0] == "InvalidLaunchTemplateId.VersionNotFound"
    data = ec2.get_launch_template_data(InstanceId=instance["InstanceId"])["LaunchTemplateData"]
    assert data["InstanceType"] == "t3.micro" and data["KeyName"] == "lt-key"
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"], latest["InstanceId"]])
