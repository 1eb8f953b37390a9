"""Shared fixtures: a real gureum server on a free port with a fresh data directory."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gureum process started with `python -m gureum start`."""

    def __init__(self, data_dir: Path, port: int | None = None, extra_args: tuple[str, ...] = (), env: dict | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"gureum-{self.port}.log"
        self._args = extra_args
        self._env = env or {}
        self.proc: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> "Server":
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GUREUM_", "AWS_"))}
        env.update(self._env)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gureum", "start", "--port", str(self.port),
             "--data-dir", str(self.data_dir), "--log-level", "warning", *self._args],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 20.0) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gureum exited with {self.proc.returncode}: {self.log()}")
            try:
                with urllib.request.urlopen(self.endpoint + "/_gureum/health", timeout=1) as r:
                    return json.load(r)
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"gureum did not become ready: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, sig: str = "term") -> int:
        if self.proc and self.proc.poll() is None:
            if sig == "kill":
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def tmp_root():
    d = Path(tempfile.mkdtemp(prefix="gureum-tests-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def server(tmp_root):
    s = Server(tmp_root / "data").start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def endpoint(server) -> str:
    return server.endpoint


def client_factory(endpoint: str):
    """make(service, region, keys..., **config) -> a boto3 client of the server at `endpoint`."""
    import boto3
    from botocore.config import Config

    def make(service: str, region: str = "us-east-1", access_key: str = "test", secret_key: str = "test",
             session_token: str | None = None, **config):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=session_token,
            config=Config(retries={"max_attempts": 1}, **config),
        )

    return make


@pytest.fixture(scope="session")
def make_client(endpoint):
    return client_factory(endpoint)


@pytest.fixture(scope="module")
def own_server(tmp_root, request):
    """A server for one test module alone: for tests that move the service clock."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    s = Server(tmp_root / f"{name}-{uuid.uuid4().hex[:6]}").start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def aws_cli(endpoint, tmp_root):
    """Run the real AWS CLI against the server; returns (exit code, stdout, stderr)."""
    home = tmp_root / "cli-home"
    (home / ".aws").mkdir(parents=True, exist_ok=True)

    def run(*args: str, profile: str | None = None, env: dict | None = None, expect_ok: bool = False):
        cli_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        cli_env.update({
            "HOME": str(home),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
        })
        if profile:
            cli_env.pop("AWS_ACCESS_KEY_ID")
            cli_env.pop("AWS_SECRET_ACCESS_KEY")
            cli_env["AWS_PROFILE"] = profile
        cli_env.update(env or {})
        aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"
        proc = subprocess.run([aws, *args], capture_output=True, text=True, env=cli_env, timeout=120)
        if expect_ok:
            assert proc.returncode == 0, proc.stderr
        return proc.returncode, proc.stdout, proc.stderr

    run.home = home
    return run
