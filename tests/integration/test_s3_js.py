"""The AWS SDK for JavaScript v3 (tests/js, pinned @aws-sdk/client-s3) against gureum, virtual-hosted style."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent.parent / "js"


def test_js_sdk_v3_virtual_hosted(server):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JavaScript SDK tests need Node.js 18 or later")
    if not (JS / "node_modules" / "@aws-sdk" / "client-s3").is_dir():
        pytest.skip("tests/js packages are not installed: run `make test` (or `npm ci` in tests/js)")
    bucket = f"js-{uuid.uuid4().hex[:12]}"
    proc = subprocess.run([node, "s3.mjs", str(server.port), bucket], cwd=JS, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["body"] == "hello from js"
    # The SDK sends a CRC32 by default (requestChecksumCalculation: WHEN_SUPPORTED) and checks ours.
    assert out["putChecksumCRC32"] and out["getChecksumCRC32"] == out["putChecksumCRC32"]
    assert out["putSSE"] == "AES256" and out["headSSE"] == "AES256"
    assert out["multipartETag"].endswith('-3"') and out["bigLength"] == 11 * 1024 * 1024
    assert out["keys"] == ["big.bin", "hello.txt"] and out["deleted"] == ["big.bin", "hello.txt"]
    assert out["keysAfter"] == 0
