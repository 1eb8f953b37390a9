"""The gureum command line: start failures, status, reset."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.conftest import ROOT, Server, free_port


def gureum(*args, input_text=None, timeout=30):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUREUM_")}
    return subprocess.run([sys.executable, "-m", "gureum", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, input=input_text, env=env)


def test_port_taken(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = gureum("start", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 1
    assert "already in use" in proc.stderr


def test_data_dir_unusable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = gureum("start", "--port", str(free_port()), "--data-dir", str(blocker / "sub"))
    assert proc.returncode == 2
    assert "data directory" in proc.stderr


def test_second_server_on_same_data_dir_refused(server):
    proc = gureum("start", "--port", str(free_port()), "--data-dir", str(server.data_dir))
    assert proc.returncode == 2
    assert "in use by another gureum" in proc.stderr


def test_status(server):
    proc = gureum("status", "--endpoint", server.endpoint)
    assert proc.returncode == 0, proc.stderr
    assert "running at" in proc.stdout and "sts" in proc.stdout
    proc = gureum("status", "--endpoint", f"http://127.0.0.1:{free_port()}")
    assert proc.returncode == 1
    assert "not running" in proc.stderr


def test_reset(tmp_path):
    data = tmp_path / "data"
    s = Server(data).start()
    # Refused while a server holds the directory.
    proc = gureum("reset", "--data-dir", str(data), "--yes")
    assert proc.returncode == 2
    s.stop()
    proc = gureum("reset", "--data-dir", str(data), input_text="n\n")
    assert proc.returncode == 1 and data.exists()
    proc = gureum("reset", "--data-dir", str(data), "--yes")
    assert proc.returncode == 0 and not data.exists()


def test_ephemeral_removes_its_directory(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gureum", "start", "--ephemeral", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    s = Server(tmp_path, port=port)
    s.proc = proc
    health = s.wait_ready()
    data_dir = health["data_dir"]
    assert os.path.isdir(data_dir)
    proc.terminate()
    proc.wait(timeout=15)
    assert not os.path.exists(data_dir)


def test_python_dash_m_help():
    proc = gureum("--help")
    assert proc.returncode == 0 and "start" in proc.stdout


def test_one_log_line_per_request(tmp_path):
    import json as _json

    import boto3

    s = Server(tmp_path / "data", extra_args=("--log-level", "info")).start()
    try:
        sts = boto3.client("sts", endpoint_url=s.endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        request_id = sts.get_caller_identity()["ResponseMetadata"]["RequestId"]
    finally:
        s.stop()
    lines = [line for line in s.log().splitlines() if request_id in line]
    assert len(lines) == 1
    record = _json.loads(lines[0][lines[0].index("{"):])
    assert record["service"] == "sts" and record["operation"] == "GetCallerIdentity"
    assert record["status"] == 200 and record["ms"] >= 0 and record["request_id"] == request_id
