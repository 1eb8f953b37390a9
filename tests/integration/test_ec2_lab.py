"""The course's EC2 lab, end to end with the AWS CLI, and its quota exercise with boto3.

Key pair (the PEM checked by openssl), an Amazon Linux 2023 t2.micro with the nginx user data,
wait for running, stop, change the type, start, pin the address with an Elastic IP, terminate,
and the root volume is gone. The service clock is moved past the boot and stop delays so the
CLI's waiters see the state on their first look.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_factory
from tests.helpers import advance_clock

NGINX = """#!/bin/bash
dnf install -y nginx
systemctl enable --now nginx
echo "<h1>Hello from $(hostname -f)</h1>" > /usr/share/nginx/html/index.html
"""


@pytest.fixture(scope="module")
def cli(aws_cli, own_server):
    def run(*args: str):
        return aws_cli(*args, env={"AWS_ENDPOINT_URL": own_server.endpoint})
    return run


def client(server, service: str, region: str):
    return client_factory(server.endpoint)(service, region)


def settle(endpoint: str) -> None:
    """The lab moves the service clock past boot and stop: it runs on a server of its own."""
    advance_clock(endpoint, 5)


def cli_json(aws_cli, *args):
    code, out, err = aws_cli(*args, "--output", "json")
    assert code == 0, err
    return json.loads(out) if out.strip() else {}


def test_the_ec2_lab(cli, own_server, tmp_path):
    aws_cli, endpoint = cli, own_server.endpoint
    # 1. A key pair, saved as the course does, and checked by openssl.
    code, pem, err = aws_cli("ec2", "create-key-pair", "--key-name", "lab-key", "--query", "KeyMaterial",
                             "--output", "text")
    assert code == 0, err
    key_file = tmp_path / "lab-key.pem"
    key_file.write_text(pem)
    key_file.chmod(0o400)
    if shutil.which("openssl"):
        check = subprocess.run(["openssl", "pkey", "-in", str(key_file), "-noout", "-text"], capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stderr
        assert "Private-Key: (2048 bit" in check.stdout
    # 2. The newest Amazon Linux 2023 image, by name and through the public SSM parameter.
    code, image_id, err = aws_cli(
        "ec2", "describe-images", "--owners", "amazon",
        "--filters", "Name=name,Values=al2023-ami-2023*", "Name=architecture,Values=x86_64",
        "--query", "sort_by(Images, &CreationDate)[-1].ImageId", "--output", "text")
    assert code == 0, err
    image_id = image_id.strip()
    assert image_id.startswith("ami-")
    code, from_ssm, err = aws_cli(
        "ssm", "get-parameters", "--names", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        "--query", "Parameters[0].Value", "--output", "text")
    if code == 0:
        assert from_ssm.strip() == image_id
    # 3. Launch with the nginx user data from a file.
    user_data = tmp_path / "nginx.sh"
    user_data.write_text(NGINX)
    launched = cli_json(aws_cli, "ec2", "run-instances", "--image-id", image_id, "--instance-type", "t2.micro",
                        "--key-name", "lab-key", "--user-data", f"file://{user_data}", "--count", "1",
                        "--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=lab-web}]")
    instance = launched["Instances"][0]
    iid = instance["InstanceId"]
    assert instance["State"]["Name"] == "pending" and instance["InstanceType"] == "t2.micro"
    settle(endpoint)
    code, _, err = aws_cli("ec2", "wait", "instance-running", "--instance-ids", iid)
    assert code == 0, err
    running = cli_json(aws_cli, "ec2", "describe-instances", "--instance-ids", iid)["Reservations"][0]["Instances"][0]
    assert running["State"]["Name"] == "running" and running["KeyName"] == "lab-key"
    assert running["PublicIpAddress"] and running["PublicDnsName"].startswith("ec2-")
    root_volume = running["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    attr = cli_json(aws_cli, "ec2", "describe-instance-attribute", "--instance-id", iid, "--attribute", "userData")
    assert base64.b64decode(attr["UserData"]["Value"]).decode() == NGINX
    code, console, err = aws_cli("ec2", "get-console-output", "--instance-id", iid, "--query", "Output",
                                 "--output", "text")
    assert code == 0 and "systemctl enable --now nginx" in console, err
    # 4. Stop, change the type (refused while running), start.
    code, _, err = aws_cli("ec2", "modify-instance-attribute", "--instance-id", iid,
                           "--instance-type", "Value=t2.small")
    assert code != 0 and "IncorrectInstanceState" in err
    stopping = cli_json(aws_cli, "ec2", "stop-instances", "--instance-ids", iid)["StoppingInstances"][0]
    assert stopping["CurrentState"]["Name"] == "stopping"
    settle(endpoint)
    code, _, err = aws_cli("ec2", "wait", "instance-stopped", "--instance-ids", iid)
    assert code == 0, err
    code, _, err = aws_cli("ec2", "modify-instance-attribute", "--instance-id", iid,
                           "--instance-type", "{\"Value\": \"t2.small\"}")
    assert code == 0, err
    cli_json(aws_cli, "ec2", "start-instances", "--instance-ids", iid)
    settle(endpoint)
    code, _, err = aws_cli("ec2", "wait", "instance-running", "--instance-ids", iid)
    assert code == 0, err
    code, kind, err = aws_cli("ec2", "describe-instances", "--instance-ids", iid, "--query",
                              "Reservations[0].Instances[0].InstanceType", "--output", "text")
    assert kind.strip() == "t2.small", err
    # 5. An Elastic IP pins the address.
    allocation = cli_json(aws_cli, "ec2", "allocate-address", "--domain", "vpc")
    cli_json(aws_cli, "ec2", "associate-address", "--instance-id", iid, "--allocation-id",
             allocation["AllocationId"])
    code, ip, err = aws_cli("ec2", "describe-instances", "--instance-ids", iid, "--query",
                            "Reservations[0].Instances[0].PublicIpAddress", "--output", "text")
    assert ip.strip() == allocation["PublicIp"], err
    # 6. Terminate: the root volume goes with the instance.
    cli_json(aws_cli, "ec2", "terminate-instances", "--instance-ids", iid)
    settle(endpoint)
    code, _, err = aws_cli("ec2", "wait", "instance-terminated", "--instance-ids", iid)
    assert code == 0, err
    code, _, err = aws_cli("ec2", "describe-volumes", "--volume-ids", root_volume)
    assert code != 0 and "InvalidVolume.NotFound" in err
    left = cli_json(aws_cli, "ec2", "describe-volumes", "--filters", f"Name=attachment.instance-id,Values={iid}")
    assert left["Volumes"] == []
    code, _, err = aws_cli("ec2", "release-address", "--allocation-id", allocation["AllocationId"])
    assert code == 0, err


def test_the_quota_lab(own_server):
    region, endpoint = "sa-east-1", own_server.endpoint
    ec2 = client(own_server, "ec2", region)
    quotas = client(own_server, "service-quotas", region)
    image = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "name", "Values": ["al2023-ami-2023*"]}, {"Name": "architecture", "Values": ["x86_64"]}])["Images"][0]
    quota = quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-1216C47A")["Quota"]
    assert quota["Value"] == 32
    # 16 x c5.large = 32 vCPUs; one more is over the limit.
    first = ec2.run_instances(ImageId=image["ImageId"], InstanceType="c5.large", MinCount=16, MaxCount=16)
    with pytest.raises(ClientError) as e:
        ec2.run_instances(ImageId=image["ImageId"], InstanceType="c5.large", MinCount=1, MaxCount=1)
    assert e.value.response["Error"]["Code"] == "VcpuLimitExceeded"
    assert "current vCPU limit of 32 allows" in e.value.response["Error"]["Message"]
    quotas.request_service_quota_increase(ServiceCode="ec2", QuotaCode="L-1216C47A", DesiredValue=64)
    more = ec2.run_instances(ImageId=image["ImageId"], InstanceType="c5.large", MinCount=16, MaxCount=16)
    assert len(more["Instances"]) == 16
    assert quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-1216C47A")["Quota"]["Value"] == 64
    with pytest.raises(ClientError) as e:
        ec2.run_instances(ImageId=image["ImageId"], InstanceType="c5.large", MinCount=1, MaxCount=1)
    assert "current vCPU limit of 64 allows" in e.value.response["Error"]["Message"]
    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for r in (first, more) for i in r["Instances"]])
    settle(endpoint)
